// Workspaces (platform admins): the list, creating one, and a detail view per workspace
// (`/admin/workspaces?name=<ws>`) with its members and the spaces bound to it.

import { api, query } from "../../api.js";
import { link, navigate, forgetWorkspaces } from "../../app.js";
import { h, mount, timeAgo, emptyState } from "../../ui.js";
import { field, formDialog, pagedList, dataTable, sectionHead } from "./common.js";
import workspaceDetail from "./workspace-detail.js";

export default async function workspaces(ctx) {
  const { content, search, workspace } = ctx;
  const name = search.get("name");
  if (name) {
    await workspaceDetail(ctx, name, { platform: true });
    return;
  }

  const detailLink = (ws) => link("/admin/workspaces", { name: ws }, workspace);
  const list = pagedList({
    noun: ["workspace", "workspaces"],
    load: (cursor) => api(`/workspaces${query({ limit: 100, cursor })}`),
    empty: () =>
      emptyState(
        "No workspaces yet",
        h("p", {}, "A workspace is a team: its members, robots and registries, and the spaces bound to it. Create one with New workspace."),
      ),
    table: (items) =>
      dataTable("Workspaces", ["Name", "Description", "Members", "Created"], items, (ws) => [
        h("a", { href: detailLink(ws.name), class: "name" }, ws.name),
        ws.description || h("span", { class: "muted" }, "—"),
        h("a", { href: detailLink(ws.name), "aria-label": `Members of ${ws.name}` }, String(ws.members)),
        timeAgo(ws.created_at),
      ]),
  });

  mount(
    content,
    sectionHead(
      "Workspaces",
      "Teams and their members. Open a workspace to manage its members and see the spaces bound to it.",
      h("button", { type: "button", class: "primary", onclick: create }, "New workspace"),
    ),
    list.node,
  );
  await list.reload();

  async function create() {
    const created = await formDialog(
      "New workspace",
      () => [
        field("Name", h("input", { name: "ws-name", required: true, autocomplete: "off", spellcheck: "false" }), "2–63 lower case letters and digits, with . _ - between them."),
        field("Description", h("input", { name: "description", autocomplete: "off" })),
      ],
      (form) =>
        api("/workspaces", {
          method: "POST",
          body: {
            name: form.elements.namedItem("ws-name").value.trim(),
            description: form.elements.namedItem("description").value.trim() || undefined,
          },
        }),
      { success: (ws) => `Created workspace ${ws.name}` },
    );
    if (!created) return;
    // The header's switcher caches the workspace names; drawing the page again reloads them.
    forgetWorkspaces();
    navigate(location.pathname + location.search, { replace: true });
  }
}
