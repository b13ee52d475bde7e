// The artifact view's vulnerabilities: the scan's state with "Scan now" or "Stop scan" for
// those with push rights, the report filtered by severity and fixability (each id linked to
// its advisory), and the scan log. While a scan is queued or running the section polls and
// redraws once it ends.

import { api, query, seg } from "../../api.js";
import { h, mount, errorState, scanStatusText, severityBar, timeAgo, exactTime, toast, SEVERITIES } from "../../ui.js";

const POLL_MS = 1000;

// Answers the section for artifact `a` (its answer carries `scan`).
export function vulnerabilitiesSection(page, a) {
  const path = `${page.base}/artifacts/${seg(a.digest)}`;
  const canScan = page.repo.permissions.includes("scan");
  const filters = { severity: "", fixable: "" };
  const element = h("section", { class: "artifact-part vulnerabilities", "aria-labelledby": "artifact-vulnerabilities" });
  let scan = a.scan;

  const severity = h(
    "select",
    { id: "vuln-severity", onchange: () => ((filters.severity = severity.value), load()) },
    h("option", { value: "" }, "Any severity"),
    SEVERITIES.map((s) => h("option", { value: s }, `${s} and above`)),
  );
  const fixable = h(
    "select",
    { id: "vuln-fixable", onchange: () => ((filters.fixable = fixable.value), load()) },
    h("option", { value: "" }, "Fixable or not"),
    h("option", { value: "true" }, "Fixable only"),
    h("option", { value: "false" }, "Not fixable"),
  );
  const status = h("div", { class: "scan-state" });
  const table = h("div", { class: "scroll vuln-report" });
  const log = h("div", { class: "scan-log" });
  const logDetails = h("details", { class: "scan-log-details", ontoggle: () => logDetails.open && loadLog() }, h("summary", {}, "Scan log"), log);

  mount(
    element,
    h("h3", { id: "artifact-vulnerabilities" }, "Vulnerabilities"),
    status,
    h(
      "div",
      { class: "vuln-filters" },
      h("label", { for: "vuln-severity" }, "Severity "),
      severity,
      h("label", { for: "vuln-fixable" }, " Fix "),
      fixable,
    ),
    table,
    logDetails,
  );

  function drawStatus() {
    const counts = scan?.counts || {};
    const label = SEVERITIES.map((s) => `${counts[s] || 0} ${s}`).join(", ");
    const live = scan?.status === "queued" || scan?.status === "running";
    const progress = scan?.progress ? ` (${scan.progress.layers_done} of ${scan.progress.layers_total} layers)` : "";
    mount(
      status,
      h(
        "p",
        { class: "scan-line", "aria-live": "polite" },
        h("strong", { class: scan?.status === "failed" ? "scan-failed" : null }, scanStatusText(scan) + (scan?.status === "running" ? progress : "")),
        scan?.status === "success" && scan.total ? [severityBar(counts, label), h("span", {}, `${label}; ${scan.fixable} fixable.`)] : null,
        scan?.finished_at ? h("span", { class: "muted" }, "Last finished ", h("time", { datetime: scan.finished_at, title: exactTime(scan.finished_at) }, timeAgo(scan.finished_at)), ".") : null,
      ),
      scan?.reason ? h("p", { class: "scan-reason" }, scan.reason) : null,
      canScan
        ? h(
            "p",
            { class: "actions" },
            live
              ? h("button", { type: "button", onclick: stop }, "Stop scan")
              : h("button", { type: "button", onclick: start }, scan?.status === "not_scanned" ? "Scan now" : "Scan again"),
          )
        : null,
    );
  }

  async function start() {
    try {
      const answer = await api(`${path}/scan`, { method: "POST" });
      scan = answer.scan;
      drawStatus();
      poll();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async function stop() {
    try {
      const answer = await api(`${path}/scan`, { method: "DELETE" });
      scan = answer.scan;
      drawStatus();
      poll();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      while (element.isConnected && (scan?.status === "queued" || scan?.status === "running")) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (!element.isConnected) return;
        const report = await api(`${path}/vulnerabilities${query({ limit: 1 })}`);
        scan = report.scan;
        drawStatus();
      }
      if (element.isConnected) await load();
    } catch (error) {
      toast(error.message, "error");
    } finally {
      polling = false;
    }
  }

  async function load() {
    try {
      const report = await api(`${path}/vulnerabilities${query({ severity: filters.severity, fixable: filters.fixable, limit: 500 })}`);
      scan = report.scan;
      drawStatus();
      drawReport(report);
      if (logDetails.open) await loadLog();
    } catch (error) {
      mount(table, errorState(error, load));
    }
  }

  function drawReport(report) {
    if (!report.items.length) {
      const harbor = scan?.source === "harbor";
      const why = harbor
        ? `Harbor's scanner ${scan.scanner?.name || ""} counted these; Berth has not scanned this image, so only the counts are known. Scan it to list them.`
        : scan?.status === "success"
          ? filters.severity || filters.fixable ? "None match these filters." : "No known vulnerabilities."
          : "Nothing to show until a scan succeeds.";
      mount(table, h("p", { class: "muted" }, why));
      return;
    }
    mount(
      table,
      report.total > report.items.length ? h("p", { class: "muted" }, `Showing ${report.items.length} of ${report.total}.`) : null,
      h(
        "table",
        { class: "vulns" },
        h("thead", {}, h("tr", {}, ["Severity", "ID", "Package", "Installed", "Fixed in", "Rated by", "Summary"].map((label) => h("th", { scope: "col" }, label)))),
        h(
          "tbody",
          {},
          report.items.map((v) =>
            h(
              "tr",
              {},
              h("td", {}, h("span", { class: `sev-badge sev-${v.severity}` }, v.severity), v.cvss_score != null ? h("span", { class: "muted" }, ` ${v.cvss_score.toFixed(1)}`) : null),
              h("td", { class: "vuln-id" }, h("a", { href: `https://osv.dev/vulnerability/${encodeURIComponent(v.id)}`, rel: "noopener noreferrer", target: "_blank" }, v.id), v.aliases.length ? h("div", { class: "muted aliases" }, v.aliases.slice(0, 3).join(", ")) : null),
              h("td", {}, h("code", {}, v.package), h("div", { class: "muted" }, v.ecosystem)),
              h("td", {}, h("code", {}, v.installed_version)),
              h("td", {}, v.fixed_version ? h("code", {}, v.fixed_version) : h("span", { class: "muted" }, "no fix")),
              h("td", {}, ratedBy(v.severity_source)),
              h("td", { class: "summary" }, v.summary || ""),
            )),
        ),
      ),
    );
  }

  async function loadLog() {
    try {
      const answer = await api(`${path}/scan-log`);
      mount(
        log,
        answer.lines.length
          ? h("ol", { class: "log-lines" }, answer.lines.map((line) => h("li", { class: `log-${line.level}` }, line.level === "warning" ? h("strong", {}, "warning: ") : null, line.message)))
          : h("p", { class: "muted" }, "No scan has finished yet."),
      );
    } catch (error) {
      mount(log, errorState(error, loadLog));
    }
  }

  drawStatus();
  load();
  poll();
  return element;
}

function ratedBy(source) {
  switch (source.kind) {
    case "cvss":
      return h("span", { title: source.vector || "" }, "CVSS");
    case "database":
      return "its database";
    case "related":
      return h("span", { title: source.vector || "" }, `via ${source.advisory}`);
    case "debian-urgency":
      return `Debian urgency: ${source.urgency}`;
    default:
      return h("span", { class: "muted" }, "unrated");
  }
}
