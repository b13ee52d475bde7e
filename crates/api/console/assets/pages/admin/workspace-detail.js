// One workspace: its description, members with their roles, and the spaces bound to it (the
// reverse view of a space's bindings). Platform admins reach it from Workspaces and may delete
// the workspace; a workspace admin reaches it as Members.

import { api, seg, query } from "../../api.js";
import { link, navigate, forgetWorkspaces, rememberWorkspace } from "../../app.js";
import { h, mount, timeAgo, emptyState, loadingState, errorState, toast } from "../../ui.js";
import {
  field, select, formDialog, confirmDialog, mutate, alertSlot, pagedList, dataTable, sectionHead, fetchAll,
} from "./common.js";

const ROLES = [
  ["admin", "admin: members, robots, registries"],
  ["editor", "editor: push and delete images"],
  ["viewer", "viewer: pull and browse"],
];

export default async function workspaceDetail(ctx, name, { platform = false } = {}) {
  const { content, me, workspace } = ctx;
  const base = `/workspaces/${seg(name)}`;
  mount(content, loadingState(`Loading workspace ${name}…`));
  let info;
  try {
    info = await api(base);
  } catch (error) {
    if (!ctx.isCurrent()) return;
    mount(
      content,
      errorState(error, () => workspaceDetail(ctx, name, { platform })),
      platform ? h("p", {}, h("a", { href: link("/admin/workspaces", {}, workspace) }, "Back to all workspaces")) : null,
    );
    return;
  }
  if (!ctx.isCurrent()) return;
  document.title = `${name} · Workspaces · Admin · Berth`;

  const problem = alertSlot();
  const description = h("p", { class: "ws-description" });
  const showDescription = () => {
    if (info.description) description.replaceChildren(info.description);
    else description.replaceChildren(h("span", { class: "muted" }, "No description."));
  };
  showDescription();

  const members = pagedList({
    noun: ["member", "members"],
    load: (cursor) => api(`${base}/members${query({ limit: 100, cursor })}`),
    empty: () => emptyState("No members yet", h("p", {}, "Add a user above. Admins manage the workspace, editors push, viewers pull.")),
    table: (items) =>
      dataTable(`Members of ${name}`, ["Username", "Role", "Actions"], items, (member) => [
        h("span", { class: "name" }, member.username),
        select(
          ROLES.map(([value]) => [value, value, value === member.role]),
          {
            "aria-label": `Role of ${member.username}`,
            onchange: async (event) => {
              const role = event.target.value;
              const ok = await mutate(
                problem,
                () => api(`${base}/members/${seg(member.username)}`, { method: "PUT", body: { role } }),
                `${member.username} is now ${role} of ${name}`,
              );
              if (ok) member.role = role;
              else event.target.value = member.role;
            },
          },
        ),
        h("button", { type: "button", class: "danger-text", "aria-label": `Remove ${member.username}`, onclick: () => removeMember(member) }, "Remove"),
      ]),
  });

  const bound = h("div", {}, loadingState("Loading spaces…"));
  const usernames = h("datalist", { id: "admin-usernames" });
  const addForm = memberForm();

  mount(
    content,
    platform ? h("p", { class: "crumbs" }, h("a", { href: link("/admin/workspaces", {}, workspace) }, "All workspaces")) : null,
    sectionHead(
      `Workspace ${name}`,
      null,
      h("button", { type: "button", onclick: editDescription }, "Edit description"),
      platform ? h("button", { type: "button", class: "danger", onclick: removeWorkspace }, "Delete workspace") : null,
    ),
    description,
    h("p", { class: "muted" }, `Created `, timeAgo(info.created_at), "."),
    problem.node,
    h(
      "section",
      { class: "admin-block", "aria-labelledby": "members-title" },
      h("h2", { id: "members-title" }, `Members of ${name}`),
      addForm,
      usernames,
      members.node,
    ),
    h(
      "section",
      { class: "admin-block", "aria-labelledby": "bound-title" },
      h("h2", { id: "bound-title" }, `Spaces bound to ${name}`),
      h("p", { class: "muted" }, `Members of ${name} see these spaces' images; its editors and admins push to them, its admins may delete from them.`, me.is_admin ? " Change bindings under Spaces." : ""),
      bound,
    ),
  );
  await Promise.all([members.reload(), loadBound(), fillUsernames()]);

  function memberForm() {
    const username = h("input", { name: "username", required: true, autocomplete: "off", spellcheck: "false", list: me.is_admin ? "admin-usernames" : null });
    const role = select(ROLES.map(([value, text]) => [value, text, value === "viewer"]), { name: "role" });
    const add = h("button", { type: "submit", class: "primary" }, "Add member");
    return h(
      "form",
      {
        class: "inline-form",
        "aria-label": `Add a member to ${name}`,
        onsubmit: async (event) => {
          event.preventDefault();
          const user = username.value.trim();
          if (!user) return;
          add.disabled = true;
          const ok = await mutate(
            problem,
            () => api(`${base}/members/${seg(user)}`, { method: "PUT", body: { role: role.value } }),
            `${user} is now ${role.value} of ${name}`,
          );
          add.disabled = false;
          if (ok) {
            username.value = "";
            role.value = "viewer";
            members.reload();
          }
        },
      },
      field("Username", username),
      field("Role", role),
      add,
    );
  }

  // Platform admins may list users, so the username field suggests them.
  async function fillUsernames() {
    if (!me.is_admin) return;
    try {
      const users = await fetchAll("/users");
      usernames.replaceChildren(...users.map((u) => h("option", { value: u.username })));
    } catch {
      // Suggestions are a convenience; typing the name still works.
    }
  }

  async function loadBound() {
    try {
      const spaces = await fetchAll(`${base}/spaces`);
      if (!ctx.isCurrent()) return;
      if (spaces.length === 0) {
        mount(
          bound,
          emptyState(
            "No spaces bound",
            h("p", {}, me.is_admin ? `Bind a private space to ${name} under Spaces with its Bindings button.` : `Ask a platform admin to bind a space to ${name}. Public spaces are visible without a binding.`),
          ),
        );
        return;
      }
      mount(
        bound,
        dataTable(`Spaces bound to ${name}`, ["Space", "Registry", "Visibility", "Description"], spaces, (space) => [
          me.is_admin
            ? h("a", { class: "name", href: link("/admin/spaces", { registry: space.registry }, workspace) }, space.name)
            : h("span", { class: "name" }, space.name),
          space.registry,
          h("span", { class: space.public ? "badge badge-public" : "badge badge-private" }, space.public ? "public" : "private"),
          space.description || h("span", { class: "muted" }, "—"),
        ]),
      );
    } catch (error) {
      mount(bound, errorState(error, loadBound));
    }
  }

  async function editDescription() {
    const saved = await formDialog(
      `Description of ${name}`,
      () => [field("Description", h("textarea", { name: "description", rows: 3 }, info.description || ""))],
      (form) => api(base, { method: "PATCH", body: { description: form.elements.namedItem("description").value.trim() } }),
      { submitLabel: "Save", success: `Saved the description of ${name}` },
    );
    if (saved && typeof saved === "object") {
      info = saved;
      showDescription();
    }
  }

  async function removeMember(member) {
    const done = await confirmDialog({
      title: `Remove ${member.username} from ${name}?`,
      message: `${member.username} loses access to ${name} and the spaces bound to it.`,
      confirmLabel: "Remove",
      action: () => api(`${base}/members/${seg(member.username)}`, { method: "DELETE" }),
      success: `Removed ${member.username} from ${name}`,
    });
    if (done) members.reload();
  }

  async function removeWorkspace() {
    const done = await confirmDialog({
      title: `Delete workspace ${name}?`,
      message: [
        h("p", {}, `This deletes ${name} with its memberships, robots, workspace registries and bindings. Spaces and their images stay.`),
        h("p", {}, "It cannot be undone."),
      ],
      typed: name,
      action: () => api(base, { method: "DELETE" }),
    });
    if (!done) return;
    toast(`Deleted workspace ${name}`);
    forgetWorkspaces();
    let next = workspace;
    if (workspace === name) {
      // The switcher remembered the deleted workspace; move it to one that still exists.
      next = (await fetchAll("/workspaces").catch(() => [])).map((w) => w.name)[0] || null;
      if (next) rememberWorkspace(next);
    }
    navigate(link("/admin/workspaces", {}, next), { replace: true });
  }
}
