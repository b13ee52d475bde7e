// Registries, platform-wide or of one workspace: the list with health and sync state, and the
// create, edit and delete forms. Both kinds share one body in the API, so they share this module
// too. Passwords go to the API and are never shown again (answers carry only `has_password`).

import { api, seg, query } from "../../api.js";
import { h, mount, emptyState, toast, timeAgo } from "../../ui.js";
import {
  field, checkbox, select, formDialog, confirmDialog, mutate, alertSlot, pagedList, dataTable, sectionHead, healthBadge,
} from "./common.js";

const KINDS = [
  ["distribution", "distribution (Docker registry)"],
  ["harbor", "harbor"],
  ["oci", "oci (any OCI registry)"],
];

// How often a queued or running sync is asked how far it is.
const POLL_MS = 1000;
const SYNC_STATES = { queued: "Queued", running: "Running", idle: "Idle" };
const MAX_INTERVAL = 366 * 86400;

const isLive = (sync) => sync?.state === "queued" || sync?.state === "running";
const plural = (count, one, many) => `${count.toLocaleString()} ${count === 1 ? one : many}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// `base` is "/registries" or "/workspaces/<ws>/registries".
export default async function registryList(ctx, { base, title, intro, owner }) {
  const { content } = ctx;
  const problem = alertSlot();
  // The row of each external registry on screen, by name: the list redraws its rows on every
  // reload, and a sync being watched updates whichever row is shown now.
  const rows = new Map();
  // The registries whose sync is being watched, so each is asked after by one loop only.
  const watched = new Set();
  const list = pagedList({
    noun: ["registry", "registries"],
    load: (cursor) => api(`${base}${query({ limit: 100, cursor })}`),
    empty: () =>
      emptyState(
        "No registries yet",
        h("p", {}, `Connect a registry with New registry: its spaces and images then show up for ${owner}.`),
      ),
    table: (items) => {
      rows.clear();
      const table = dataTable(title, ["Name", "Kind", "URL", "Health", "Sync", "Description", "Actions"], items, (registry) => [
        h(
          "span",
          { class: "name" },
          registry.name,
          registry.kind === "hosted" ? h("span", { class: "badge badge-builtin", title: "Built in; read-only" }, "built in") : null,
        ),
        registry.kind,
        h(
          "span",
          { class: "url" },
          h("code", {}, registry.url),
          registry.insecure ? h("span", { class: "badge badge-private", title: "TLS certificates are not verified" }, "insecure") : null,
          registry.username ? h("span", { class: "muted small" }, `as ${registry.username}${registry.has_password ? " (password stored)" : ""}`) : null,
        ),
        healthBadge(registry.health),
        registry.sync ? syncCell(registry) : h("span", { class: "muted", title: "Berth's own registry is not synced" }, "—"),
        registry.description || h("span", { class: "muted" }, "—"),
        actions(registry),
      ]);
      // A sync that is already under way (a new registry's first, a scheduled one) is
      // watched as one started here would be.
      for (const registry of items) if (isLive(registry.sync)) watchSync(registry.name);
      return table;
    },
  });

  // The Sync cell of an external registry, remembered in `rows`; `actions` adds the row's
  // Sync now button.
  function syncCell(registry) {
    const row = { registry, cell: h("div", { class: "sync" }, syncSummary(registry)), button: null };
    rows.set(registry.name, row);
    return row.cell;
  }

  function drawSync(row) {
    mount(row.cell, syncSummary(row.registry));
    drawSyncButton(row);
  }

  // A sync cannot be queued while one is queued or running, so the button waits for it.
  function drawSyncButton(row) {
    if (!row.button) return;
    const live = isLive(row.registry.sync);
    row.button.disabled = live;
    row.button.textContent = live ? "Syncing…" : "Sync now";
  }

  function actions(registry) {
    if (registry.kind === "hosted") return h("span", { class: "muted small" }, "read-only");
    const syncButton = h("button", { type: "button", "aria-label": `Sync now: ${registry.name}`, onclick: () => syncNow(registry.name) }, "Sync now");
    const row = rows.get(registry.name);
    if (row) {
      row.button = syncButton;
      drawSyncButton(row);
    }
    return h(
      "div",
      { class: "row-actions" },
      syncButton,
      h("button", { type: "button", "aria-label": `Check now: ${registry.name}`, onclick: (event) => check(registry, event.currentTarget) }, "Check now"),
      h("button", { type: "button", "aria-label": `Edit ${registry.name}`, onclick: () => edit(registry) }, "Edit"),
      h("button", { type: "button", class: "danger-text", "aria-label": `Delete ${registry.name}`, onclick: () => remove(registry) }, "Delete"),
    );
  }

  mount(
    content,
    sectionHead(title, intro, h("button", { type: "button", class: "primary", onclick: create }, "New registry")),
    problem.node,
    list.node,
  );
  await list.reload();

  function fields(registry) {
    const editing = Boolean(registry);
    return [
      editing ? null : field("Name", h("input", { name: "reg-name", required: true, autocomplete: "off", spellcheck: "false" }), "2–63 lower case letters and digits, with . _ - between them."),
      field("Kind", select(KINDS.map(([value, text]) => [value, text, value === (registry?.kind || "distribution")]), { name: "kind" })),
      field("URL", h("input", { name: "url", type: "url", required: true, placeholder: "https://registry.example.com", value: registry?.url || "", autocomplete: "off", spellcheck: "false" })),
      field("Username", h("input", { name: "username", value: registry?.username || "", autocomplete: "off", spellcheck: "false" })),
      field(
        "Password",
        h("input", { name: "password", type: "password", autocomplete: "new-password" }),
        editing
          ? registry.has_password
            ? "Leave empty to keep the stored password. Changing the URL without a new password drops it."
            : "No password is stored."
          : "Stored encrypted; Berth never shows it again.",
      ),
      editing && registry.has_password ? checkbox("Remove the stored password", { name: "drop-password" }) : null,
      checkbox("Insecure", { name: "insecure", checked: Boolean(registry?.insecure) }, "Skip TLS certificate verification."),
      field(
        "Follow",
        h("textarea", { name: "follow", rows: 3, class: "follow", autocomplete: "off", spellcheck: "false", placeholder: "team/app\ntools/" }, (registry?.follow || []).join("\n")),
        "One repository, or prefix ending in /, per line, for registries whose catalog is disabled or too big. Leave empty to sync the whole catalog.",
      ),
      field(
        "Sync interval (seconds)",
        h("input", {
          name: "sync-interval",
          type: "number",
          inputmode: "numeric",
          min: 0,
          max: MAX_INTERVAL,
          step: 1,
          value: registry?.sync_interval_seconds ?? "",
          autocomplete: "off",
        }),
        `0 for no scheduled syncs, else 60 to ${MAX_INTERVAL.toLocaleString("en")}. ${editing ? "Leave empty to return to the server's default." : "Leave empty for the server's default."}`,
      ),
      field("Description", h("input", { name: "description", value: registry?.description || "", autocomplete: "off" })),
    ];
  }

  const value = (form, name) => form.elements.namedItem(name)?.value.trim() ?? "";
  // The follow list as the API takes it: one entry per non-empty line.
  const followList = (form) => value(form, "follow").split("\n").map((line) => line.trim()).filter(Boolean);
  const interval = (form) => {
    const text = value(form, "sync-interval");
    return text === "" ? null : Number(text);
  };

  async function create() {
    const created = await formDialog(
      "New registry",
      () => fields(null),
      (form) =>
        api(base, {
          method: "POST",
          body: {
            name: value(form, "reg-name"),
            kind: value(form, "kind"),
            url: value(form, "url"),
            username: value(form, "username") || undefined,
            password: form.elements.namedItem("password").value || undefined,
            insecure: form.elements.namedItem("insecure").checked,
            description: value(form, "description") || undefined,
            follow: followList(form),
            sync_interval_seconds: interval(form) ?? undefined,
          },
        }),
      { success: (registry) => `Created registry ${registry.name}` },
    );
    if (created) list.reload(false);
  }

  async function edit(registry) {
    const saved = await formDialog(
      `Edit registry ${registry.name}`,
      () => fields(registry),
      (form) => {
        const body = {};
        const set = (key, next, before) => {
          if (next !== before) body[key] = next;
        };
        set("kind", value(form, "kind"), registry.kind);
        set("url", value(form, "url"), registry.url);
        set("username", value(form, "username"), registry.username || "");
        set("insecure", form.elements.namedItem("insecure").checked, registry.insecure);
        set("description", value(form, "description"), registry.description || "");
        const follow = followList(form);
        if (follow.join("\n") !== (registry.follow || []).join("\n")) body.follow = follow;
        // An emptied interval returns to the server's default, which the API spells -1.
        set("sync_interval_seconds", interval(form) ?? -1, registry.sync_interval_seconds ?? -1);
        const password = form.elements.namedItem("password").value;
        if (password) body.password = password;
        // An empty password is the API's way to remove the stored one.
        else if (form.elements.namedItem("drop-password")?.checked) body.password = "";
        if (Object.keys(body).length === 0) return registry;
        return api(`${base}/${seg(registry.name)}`, { method: "PATCH", body });
      },
      { submitLabel: "Save", success: `Saved registry ${registry.name}` },
    );
    if (saved) list.reload();
  }

  async function check(registry, button) {
    button.disabled = true;
    button.textContent = "Checking…";
    let answer = null;
    const ok = await mutate(
      problem,
      async () => {
        answer = await api(`${base}/${seg(registry.name)}/health`, { method: "POST" });
      },
    );
    if (ok) {
      const status = answer.health.status;
      // The toast says the outcome, so screen reader users hear it without finding the row.
      toast(`${registry.name} is ${status}${answer.health.reason ? `: ${answer.health.reason}` : ""}`, status === "unreachable" ? "error" : "info");
      list.reload();
    } else {
      button.disabled = false;
      button.textContent = "Check now";
    }
  }

  // Queues a full sync (the API answers the one already queued or running instead) and
  // watches it until it ends.
  async function syncNow(name) {
    const before = rows.get(name);
    if (before?.button) {
      before.button.disabled = true;
      before.button.textContent = "Starting…";
    }
    let answer = null;
    const ok = await mutate(problem, async () => {
      answer = await api(`${base}/${seg(name)}/sync`, { method: "POST" });
    });
    // The list may have been redrawn meanwhile, so the row is looked up again.
    const row = rows.get(name);
    if (!row) return;
    if (ok) row.registry.sync = answer;
    drawSync(row);
    if (!ok) return;
    if (isLive(answer)) {
      toast(`Sync of ${name} ${answer.state}`);
      watchSync(name);
    } else {
      announce(name, answer);
    }
  }

  // Asks after the sync of `name` every POLL_MS while it is queued or running and redraws its
  // row; stops once it ends, when its row is no longer shown or when the page is left.
  async function watchSync(name) {
    if (watched.has(name)) return;
    watched.add(name);
    try {
      for (;;) {
        await sleep(POLL_MS);
        if (!ctx.isCurrent() || !rows.get(name)?.cell.isConnected) return;
        const sync = await api(`${base}/${seg(name)}/sync`);
        const row = rows.get(name);
        if (!ctx.isCurrent() || !row?.cell.isConnected) return;
        row.registry.sync = sync;
        drawSync(row);
        if (!isLive(sync)) {
          announce(name, sync);
          return;
        }
      }
    } catch (error) {
      // The row keeps the last state it showed; the alert says why it stopped changing.
      if (ctx.isCurrent()) problem.show(error);
    } finally {
      watched.delete(name);
    }
  }

  async function remove(registry) {
    const done = await confirmDialog({
      title: `Delete registry ${registry.name}?`,
      message: `Berth forgets ${registry.name}, its spaces and its catalog. Images stay in the registry itself.`,
      action: () => api(`${base}/${seg(registry.name)}`, { method: "DELETE" }),
      success: `Deleted registry ${registry.name}`,
    });
    if (done) list.reload(false);
  }
}

// The outcome of a sync that ended while the page showed it, said as a toast so screen reader
// users hear it without finding the row.
function announce(name, sync) {
  if (sync.last_error) toast(`Sync of ${name} failed: ${sync.last_error}`, "error");
  else toast(`Synced ${name}: ${plural(sync.repositories, "repository", "repositories")}, ${plural(sync.tags, "tag", "tags")}`);
}

// What the Sync cell says: the state (with progress while running), whether the catalog shown
// is stale, the counts and time of the last success, the latest failure and the next run.
function syncSummary(registry) {
  const sync = registry.sync;
  const live = isLive(sync);
  const progress = live && sync.progress ? sync.progress : null;
  let progressText = null;
  if (progress) {
    progressText = progress.repositories_total == null
      ? `${plural(progress.repositories_seen, "repository", "repositories")} so far`
      : `${progress.repositories_seen.toLocaleString()}/${plural(progress.repositories_total, "repository", "repositories")}`;
  }
  let success;
  if (sync.last_succeeded_at) success = h("span", { class: "sync-when" }, "last success ", timeAgo(sync.last_succeeded_at));
  else success = h("span", { class: "sync-when" }, sync.last_started_at ? "no successful sync yet" : "never synced");
  let next = null;
  if (!live && sync.next_at) {
    next = new Date(sync.next_at).getTime() <= Date.now()
      ? h("span", { class: "sync-next" }, "next sync due")
      : h("span", { class: "sync-next" }, "next sync ", timeAgo(sync.next_at));
  } else if (!live && registry.sync_interval_seconds === 0) {
    next = h("span", { class: "sync-next" }, "no scheduled syncs");
  }
  return [
    h(
      "span",
      { class: "sync-line" },
      h("span", { class: `badge sync-${sync.state}` }, SYNC_STATES[sync.state] || sync.state),
      progressText ? h("span", { class: "sync-progress" }, progressText) : null,
      sync.stale
        ? h("span", { class: "badge sync-stale", title: "The latest sync failed: the images shown are from the last successful one" }, "stale")
        : null,
    ),
    sync.last_succeeded_at
      ? h("span", { class: "sync-counts" }, `${plural(sync.repositories, "repository", "repositories")} · ${plural(sync.tags, "tag", "tags")}`)
      : null,
    success,
    sync.last_error
      ? h("span", { class: "sync-error" }, "failed ", timeAgo(sync.last_error_at, "at an unknown time"), ": ", sync.last_error)
      : null,
    next,
  ];
}
