// Small DOM and formatting helpers shared by every page. Elements are built with `h` and never
// from HTML strings, so text from the API (names, descriptions, history lines) cannot inject
// markup.

// h("a", {href: "/", class: "x", onclick: fn}, "text", child, [more]) → element.
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

// Replaces everything inside `element`.
export function mount(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

const units = ["B", "KiB", "MiB", "GiB", "TiB"];
export function humanSize(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const steps = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

export function exactTime(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "long" }) : "";
}

// A <time> showing "3 hours ago", with the exact time on hover and for screen readers.
// `missing` says why there is no time: "never" for a pull, "unknown" for a push time the
// registry does not tell (Distribution).
export function timeAgo(iso, missing = "never") {
  if (!iso) return h("span", { class: "muted" }, missing);
  return h("time", { datetime: iso, title: exactTime(iso) }, relativeTime(iso));
}

export function shortDigest(digest) {
  if (!digest) return "";
  const [algorithm, hex] = digest.split(":");
  return hex ? `${algorithm}:${hex.slice(0, 12)}` : digest;
}

export function platformText(platform) {
  if (!platform) return "";
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

// Announces short messages to screen readers and shows them briefly.
export function toast(message, kind = "info") {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const item = h("div", { class: `toast toast-${kind}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), 4000);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API refused (no permission, insecure context): fall back to a selection copy.
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

// A button that copies `text`; `label` names what it copies, for screen readers.
export function copyButton(text, label) {
  const button = h(
    "button",
    {
      type: "button",
      class: "copy",
      "aria-label": `Copy ${label}`,
      title: `Copy ${label}`,
      dataset: { copy: text },
      onclick: async () => {
        await copyText(text);
        button.classList.add("copied");
        button.textContent = "Copied";
        toast(`Copied ${label}`);
        setTimeout(() => {
          button.classList.remove("copied");
          button.textContent = "Copy";
        }, 1500);
      },
    },
    "Copy",
  );
  return button;
}

// States a page shows instead of content. `action` is an optional element (a button or link).
export function loadingState(text = "Loading…") {
  return h("p", { class: "state state-loading", role: "status" }, text);
}
export function errorState(error, retry) {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", {}, h("strong", {}, "Something went wrong. "), error.message || String(error)),
    retry ? h("button", { type: "button", onclick: retry }, "Try again") : null,
  );
}
export function emptyState(title, ...body) {
  return h("div", { class: "state state-empty" }, h("h2", {}, title), ...body);
}

// Why the workspace sees an image: one badge per source.
const sourceLabels = {
  public: ["Public", "Public space: every workspace sees it"],
  bound: ["Bound", "Private space bound to this workspace"],
  "workspace-registry": ["Workspace registry", "A registry this workspace connected"],
};
export function sourceBadges(sources) {
  return (sources || []).map((source) => {
    const [label, title] = sourceLabels[source] || [source, source];
    return h("span", { class: `badge badge-${source}`, title }, label);
  });
}

// The vulnerability summary: a severity bar once scans exist, "not scanned" until then.
// Severities from worst to least, as scans count them.
export const SEVERITIES = ["critical", "high", "medium", "low", "none", "unknown"];

// What a scan's state says in a word, and why where it did not produce counts.
export function scanStatusText(scan) {
  switch (scan?.status) {
    case "queued":
      return "scan queued";
    case "running":
      return "scanning…";
    case "failed":
      return "scan failed";
    case "unsupported":
      return "not scannable";
    case "success":
      return scan.total ? `${scan.total} vulnerabilities` : "no known vulnerabilities";
    default:
      return "not scanned";
  }
}

// A scan in a few pixels: the badge of the highest severity with its count, then the
// distribution as a bar; a word for a scan with no counts to draw.
export function scanSummary(scan) {
  const reason = scan?.reason || "";
  if (!scan || scan.status !== "success") {
    const failed = scan?.status === "failed";
    const title = reason || (scan?.status === "running" || scan?.status === "queued" ? "A scan is under way" : "No vulnerability scan yet");
    return h("span", { class: failed ? "scan scan-failed" : "scan scan-none", title }, scanStatusText(scan));
  }
  const counts = scan.counts || {};
  if (!scan.total) return h("span", { class: "scan scan-clean", title: "No known vulnerabilities" }, "clean");
  const label = SEVERITIES.map((s) => `${counts[s] || 0} ${s}`).join(", ");
  const worst = SEVERITIES.find((s) => counts[s]) || "unknown";
  return h(
    "span",
    { class: "scan" },
    h("span", { class: `sev-badge sev-${worst}`, title: `${counts[worst]} ${worst}, the highest severity found` }, `${counts[worst]} ${worst}`),
    " ",
    severityBar(counts, label),
  );
}

// The distribution of `counts` as one bar, each severity as wide as its share.
export function severityBar(counts, label) {
  return h(
    "span",
    { class: "scan-bar", role: "img", "aria-label": label, title: label },
    SEVERITIES.filter((s) => counts[s]).map((s) => {
      // Set through the CSSOM: the policy (`style-src 'self'`) refuses style attributes.
      const part = h("span", { class: `sev sev-${s}` });
      part.style.flexGrow = String(counts[s]);
      return part;
    }),
  );
}

// A modal dialog. `build(close)` returns its body; resolves with what `close` is given.
export function openDialog(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: wide ? "dialog dialog-wide" : "dialog", "aria-labelledby": "dialog-title" });
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(undefined);
    });
    mount(
      dialog,
      h(
        "header",
        { class: "dialog-head" },
        h("h2", { id: "dialog-title" }, title),
        h("button", { type: "button", class: "icon", "aria-label": "Close", onclick: () => close(undefined) }, "×"),
      ),
      h("div", { class: "dialog-body" }, build(close)),
    );
    document.body.append(dialog);
    dialog.showModal();
  });
}

// Waits `ms` after the last call before running `fn`, for search-as-you-type.
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Loads a page's own stylesheet once (`assets/css/<name>.css`), so the image list, the first
// page most people open, downloads only the base styles.
export function useStyles(name) {
  const href = `/assets/css/${name}.css`;
  if (document.querySelector(`link[href="${href}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href }));
}

// A message slot with role=alert: problems are read out as soon as they appear.
export function alertSlot() {
  const slot = h("p", { class: "form-error", role: "alert", hidden: true });
  return {
    node: slot,
    show(error) {
      slot.textContent = error?.message || String(error);
      slot.hidden = false;
    },
    clear() {
      slot.textContent = "";
      slot.hidden = true;
    },
  };
}

let confirmInputs = 0;

// Asks before a change. With `typed`, the button stays disabled until that text is typed.
// `action()` runs inside the dialog, so a refusal (409 and friends) is shown there. Resolves
// with what `action()` answered (true when that is nothing), false on Cancel, and undefined
// when the dialog is dismissed. `message` is a sentence, or an array of elements.
// The body carries two classes: admin.css styles `.admin-form`, and pages that do not load the
// admin styles style `.confirm-form` themselves (css/image.css).
export function confirmDialog({ title, message, confirmLabel = "Delete", danger = true, typed, action, success }) {
  return openDialog(title, (close) => {
    const problem = alertSlot();
    const button = h("button", { type: "button", class: danger ? "danger" : "primary", disabled: Boolean(typed) }, confirmLabel);
    let input = null;
    let typedField = null;
    if (typed) {
      confirmInputs += 1;
      input = h("input", {
        type: "text",
        id: `confirm-typed-${confirmInputs}`,
        autocomplete: "off",
        spellcheck: "false",
        oninput: () => {
          button.disabled = input.value !== typed;
        },
        onkeydown: (event) => {
          if (event.key === "Enter" && !button.disabled) button.click();
        },
      });
      // Tied with for/id, so the input's accessible name is exactly "Type … to confirm".
      typedField = h("div", { class: "field" }, h("label", { for: input.id, class: "field-label" }, `Type ${typed} to confirm`), input);
    }
    button.addEventListener("click", async () => {
      problem.clear();
      button.disabled = true;
      try {
        const result = action ? await action() : true;
        if (success) toast(success);
        close(result ?? true);
      } catch (error) {
        problem.show(error);
        button.disabled = Boolean(typed) && input.value !== typed;
      }
    });
    queueMicrotask(() => (input || button).focus());
    return h(
      "div",
      { class: "confirm-form admin-form" },
      Array.isArray(message) ? message : h("p", {}, message),
      typedField,
      problem.node,
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "button", onclick: () => close(false) }, "Cancel"),
        button,
      ),
    );
  });
}

// What a page shows when there is no workspace to show it for: a platform admin is told where
// to make the first one, anyone else whom to ask.
export function noWorkspaceState(me) {
  if (me?.is_admin) {
    return emptyState(
      "No workspaces yet",
      h("p", {}, "Every image list belongs to a workspace. Create the first one, then bind a space to it."),
      h("a", { class: "button primary", href: "/admin/workspaces" }, "Create a workspace"),
    );
  }
  return emptyState("You are not in a workspace yet", h("p", {}, "Ask a platform admin to add you to a workspace. Its images show up here."));
}
