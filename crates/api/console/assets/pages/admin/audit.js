// The audit log, newest first, filtered by actor, action, workspace and time, paged by cursor.
// Platform admins read everything; a workspace admin reads only their workspace (the API
// requires `workspace=` from them, so the filter is fixed to the current workspace).

import { api, query } from "../../api.js";
import { link } from "../../app.js";
import { h, mount, relativeTime, exactTime, emptyState, debounce } from "../../ui.js";
import { field, pagedList, dataTable, sectionHead } from "./common.js";

// Suggestions for the action filter; a value ending in "." matches every action under it.
const ACTIONS = [
  "user.", "user.create", "user.update", "user.disable", "user.enable", "user.password_reset", "user.delete",
  "workspace.", "workspace.create", "workspace.update", "workspace.delete", "member.set", "member.remove",
  "registry.", "registry.create", "registry.update", "registry.delete", "registry.health",
  "space.", "space.create", "space.update", "space.delete", "space.auto_create", "binding.", "binding.set", "binding.add", "binding.remove",
  "robot.", "robot.create", "robot.rotate", "robot.enable", "robot.disable", "robot.delete", "robot.delete_expired",
  "manifest.push", "manifest.pull", "manifest.delete", "tag.delete", "image.upload",
  "repository.update", "repository.delete", "settings.update",
];
const FILTERS = ["actor", "action", "workspace", "since"];
// The URL name of each filter. `?workspace=` already means the console's current workspace,
// so the workspace filter travels as `?in=`.
const PARAM = { actor: "actor", action: "action", workspace: "in", since: "since" };

export default async function audit(ctx) {
  const { content, search, me, workspace } = ctx;
  const platform = me.is_admin;
  const state = Object.fromEntries(FILTERS.map((f) => [f, search.get(PARAM[f]) || ""]));
  if (!platform) state.workspace = workspace;

  const input = (name, attrs) =>
    h("input", {
      name,
      value: state[name],
      autocomplete: "off",
      spellcheck: "false",
      oninput: (event) => changed({ [name]: event.target.value.trim() }),
      ...attrs,
    });
  const since = h("input", {
    name: "since",
    type: "datetime-local",
    value: state.since,
    onchange: (event) => changed({ since: event.target.value }, true),
  });

  const list = pagedList({
    noun: ["event", "events"],
    load: (cursor) => {
      const params = { limit: 50, cursor, actor: state.actor, action: state.action, workspace: state.workspace };
      // datetime-local is the viewer's local time; the API wants RFC 3339 in UTC.
      if (state.since) {
        const at = new Date(state.since);
        if (!Number.isNaN(at.getTime())) params.since = at.toISOString().replace(/\.\d{3}Z$/, "Z");
      }
      return api(`/audit${query(params)}`);
    },
    empty: () =>
      FILTERS.some((f) => state[f] && !(f === "workspace" && !platform))
        ? emptyState("No event matches these filters", h("p", {}, "Clear a filter or pick an earlier time."), h("button", { type: "button", onclick: clear }, "Clear filters"))
        : emptyState("No events yet", h("p", {}, "Every change made through Berth is recorded here as it happens.")),
    table: (items) =>
      dataTable("Audit events, newest first", ["Time", "Actor", "Action", "Target", "Workspace", "Source", "Detail"], items, (event) => [
        h(
          "span",
          { class: "when" },
          h("time", { datetime: event.at, title: exactTime(event.at) }, relativeTime(event.at)),
          h("span", { class: "exact" }, exactTime(event.at)),
        ),
        h("span", { class: "name" }, event.actor),
        h("code", {}, event.action),
        h("code", { class: "target" }, event.target),
        event.workspace || h("span", { class: "muted" }, "—"),
        event.source || h("span", { class: "muted" }, "—"),
        detail(event),
      ]),
  });

  const reloadSoon = debounce(() => list.reload(false), 250);
  function changed(change, now = false) {
    Object.assign(state, change);
    // The filters live in the URL, so a filtered log can be shared; typing replaces the entry.
    const params = {};
    for (const f of FILTERS) if (state[f] && (platform || f !== "workspace")) params[PARAM[f]] = state[f];
    history.replaceState(null, "", link("/admin/audit", params, workspace));
    if (now) list.reload(false);
    else reloadSoon();
  }

  function clear() {
    for (const f of FILTERS) {
      if (f === "workspace" && !platform) continue;
      state[f] = "";
      const control = content.querySelector(`[name=${f}]`);
      if (control) control.value = "";
    }
    changed({}, true);
  }

  const actions = h("datalist", { id: "audit-actions" }, ACTIONS.map((a) => h("option", { value: a })));
  mount(
    content,
    sectionHead(
      platform ? "Audit log" : `Audit log of ${workspace}`,
      platform
        ? "Every change, push and pull recorded by Berth, newest first."
        : `Changes, pushes and pulls in workspace ${workspace}, newest first.`,
    ),
    h(
      "form",
      { class: "filters audit-filters", role: "search", "aria-label": "Filter events", onsubmit: (event) => event.preventDefault() },
      field("Actor", input("actor", { type: "search", placeholder: "username or robot$…" })),
      field("Action", input("action", { type: "search", list: "audit-actions", placeholder: "space. or binding.set" })),
      platform ? field("Filter by workspace", input("workspace", { type: "search", placeholder: "any" })) : null,
      field("Since", since),
      h("button", { type: "button", class: "clear", onclick: clear }, "Clear filters"),
      actions,
    ),
    list.node,
  );
  await list.reload();
}

// Facts about a change, folded away: some are long (digests, lists of workspaces).
function detail(event) {
  if (event.detail === null || event.detail === undefined) return h("span", { class: "muted" }, "—");
  const text = JSON.stringify(event.detail, null, 2);
  const summary = summarize(event.detail);
  return h("details", { class: "audit-detail" }, h("summary", {}, summary), h("pre", {}, text));
}

function summarize(detail) {
  if (typeof detail !== "object") return String(detail).slice(0, 40);
  const keys = Object.keys(detail);
  if (keys.length === 0) return "empty";
  return keys.slice(0, 3).join(", ") + (keys.length > 3 ? ", …" : "");
}
