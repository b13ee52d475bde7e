// The vulnerability card beside the description: the scan of what the latest tag points at,
// as a distribution bar with a count per severity, how many are fixable, and when the scan and
// its database are from. The artifact view (vulnerabilities.js) has the full report.

import { h, exactTime, scanStatusText, severityBar, timeAgo, SEVERITIES } from "../../ui.js";

export function scanCard(repo) {
  const scan = repo.scan || null;
  const counts = scan?.status === "success" ? scan.counts : null;
  const label = counts ? SEVERITIES.map((s) => `${counts[s] || 0} ${s}`).join(", ") : "";
  return h(
    "section",
    { class: "card repo-scan", "aria-labelledby": "scan-title" },
    h("h2", { id: "scan-title" }, "Vulnerabilities"),
    h(
      "div",
      { class: "scan-summary" },
      h("span", { class: scan?.status === "failed" ? "scan scan-failed" : "scan" }, repo.latest_tag ? `${repo.latest_tag}: ${scanStatusText(scan)}` : scanStatusText(scan)),
      counts && scan.total ? severityBar(counts, label) : h("span", { class: "scan-bar scan-bar-empty", "aria-hidden": "true" }),
    ),
    h(
      "ul",
      { class: "severity-legend", "aria-label": "Vulnerabilities by severity" },
      SEVERITIES.map((s) => h("li", {}, h("span", { class: `swatch sev-${s}`, "aria-hidden": "true" }), h("span", { class: "sev-name" }, s), h("span", { class: "sev-count" }, counts ? `${counts[s] || 0}` : "—"))),
    ),
    h("p", { class: "muted hint" }, note(repo, scan)),
  );
}

function note(repo, scan) {
  if (!repo.latest_tag) return "No tag to scan yet.";
  switch (scan?.status) {
    case "success":
      if (scan.source === "harbor") {
        return `${scan.fixable} of ${scan.total} fixable, as Harbor's scanner ${scan.scanner?.name || ""} ${scan.scanner?.version || ""} reported them; Berth has not scanned this image.`;
      }
      return h(
        "span",
        {},
        `${scan.fixable} of ${scan.total} fixable by upgrading. Scanned `,
        h("time", { datetime: scan.finished_at, title: exactTime(scan.finished_at) }, timeAgo(scan.finished_at)),
        scan.db_updated_at ? ", against the vulnerability database of " : " without a vulnerability database",
        scan.db_updated_at ? h("time", { datetime: scan.db_updated_at, title: exactTime(scan.db_updated_at) }, timeAgo(scan.db_updated_at)) : null,
        ".",
      );
    case "failed":
    case "unsupported":
      return scan.reason || "";
    case "queued":
    case "running":
      return "A scan is under way; open the tag to follow it.";
    default:
      return "Open the tag to scan it.";
  }
}
