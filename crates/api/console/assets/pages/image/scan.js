// The vulnerability card beside the description. Berth has no scanner yet, so nothing can fill
// it: the card says so plainly, with "not scanned" and an empty distribution, which keeps the
// layout still for when scans arrive.

import { h, scanSummary } from "../../ui.js";

const SEVERITIES = ["critical", "high", "medium", "low", "unknown"];

export function scanCard(repo) {
  const counts = repo.scan?.summary || null;
  return h(
    "section",
    { class: "card repo-scan", "aria-labelledby": "scan-title" },
    h("h2", { id: "scan-title" }, "Vulnerabilities"),
    h("div", { class: "scan-summary" }, scanSummary(repo.scan), counts ? null : h("span", { class: "scan-bar scan-bar-empty", "aria-hidden": "true" })),
    h(
      "ul",
      { class: "severity-legend", "aria-label": "Vulnerabilities by severity" },
      SEVERITIES.map((s) => h("li", {}, h("span", { class: `swatch sev-${s}`, "aria-hidden": "true" }), h("span", { class: "sev-name" }, s), h("span", { class: "sev-count" }, counts ? `${counts[s] || 0}` : "—"))),
    ),
    h("p", { class: "muted hint" }, counts
      ? `Scanned ${repo.scan.scanned_at ? new Date(repo.scan.scanned_at).toLocaleString() : ""}`.trim()
      : "Berth does not scan images for vulnerabilities yet."),
  );
}
