// The admin pages: a side nav and one section at a time, each in its own module under
// pages/admin/ so a section downloads only when it is opened. Platform admins manage the whole
// platform; a workspace admin manages their workspace's members, registries, robots and
// reads its audit log. The API decides what is allowed; the nav only hides what would fail.

import { link } from "../app.js";
import { h, mount, useStyles, emptyState, loadingState, errorState } from "../ui.js";
import { fetchAll } from "./admin/common.js";

// [key, label, module, scope]: "platform" needs a platform admin, "workspace" works on the
// current workspace and needs its admin (or a platform admin).
const SECTIONS = [
  ["users", "Users", "./admin/users.js", "platform"],
  ["workspaces", "Workspaces", "./admin/workspaces.js", "platform"],
  ["members", "Members", "./admin/members.js", "workspace-only"],
  ["registries", "Registries", "./admin/registries.js", "platform"],
  ["spaces", "Spaces", "./admin/spaces.js", "platform"],
  ["workspace-registries", "Workspace registries", "./admin/workspace-registries.js", "workspace"],
  ["robots", "Robots", "./admin/robots.js", "workspace"],
  ["audit", "Audit log", "./admin/audit.js", "any"],
];

// The sections this person may open. Platform admins see members inside Workspaces, so the
// separate Members entry is only for workspace admins.
function sectionsFor(me) {
  if (me.is_admin) return SECTIONS.filter(([, , , scope]) => scope !== "workspace-only");
  return SECTIONS.filter(([, , , scope]) => scope !== "platform");
}

export function adminOf(me, workspace) {
  return Boolean(workspace) && (me.is_admin || me.workspaces.some((w) => w.name === workspace && w.role === "admin"));
}

export default async function admin(ctx) {
  useStyles("admin");
  const { main, me, workspace } = ctx;
  const allowed = sectionsFor(me);
  const wanted = ctx.params.section || (me.is_admin ? "users" : "robots");
  const current = allowed.find(([key]) => key === wanted);
  const administered = me.workspaces.filter((w) => w.role === "admin").map((w) => w.name);

  const nav = h(
    "nav",
    { class: "admin-nav", "aria-label": "Admin" },
    h(
      "ul",
      {},
      allowed.map(([key, label]) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              href: link(`/admin/${key}`, {}, workspace),
              class: key === current?.[0] ? "active" : null,
              "aria-current": key === current?.[0] ? "page" : null,
            },
            label,
          ),
        ),
      ),
    ),
  );
  const content = h("section", { class: "admin-content" }, loadingState());
  mount(main, h("div", { class: "admin-layout" }, nav, content));
  main.classList.add("admin-page");

  if (!me.is_admin && administered.length === 0) {
    document.title = "Admin · Berth";
    mount(content, emptyState("Nothing to administer here", h("p", {}, "Admin pages are for platform admins and workspace admins. Ask a platform admin if you need to manage a workspace.")));
    return;
  }
  if (!current) {
    document.title = "Admin · Berth";
    mount(
      content,
      emptyState(
        "No such admin page",
        h("p", {}, "This section does not exist or is for platform admins only."),
        h("p", {}, h("a", { href: link(`/admin/${allowed[0][0]}`, {}, workspace) }, `Go to ${allowed[0][1]}`)),
      ),
    );
    return;
  }

  const [key, label, module, scope] = current;
  document.title = `${label} · Admin · Berth`;
  // Workspace sections need a workspace this person administers.
  if ((scope === "workspace" || scope === "workspace-only" || (scope === "any" && !me.is_admin)) && !adminOf(me, workspace)) {
    mount(content, await chooseWorkspace(ctx, key, label, administered));
    return;
  }
  try {
    const section = await import(module);
    if (!ctx.isCurrent()) return;
    await section.default({ ...ctx, content });
  } catch (error) {
    if (ctx.isCurrent()) mount(content, errorState(error, () => admin(ctx)));
  }
}

// Shown when a workspace section is opened without a workspace the person administers: links
// to the workspaces they may manage (every workspace, for a platform admin).
async function chooseWorkspace(ctx, key, label, administered) {
  const { me, workspace } = ctx;
  let choices = administered;
  if (me.is_admin) {
    try {
      choices = (await fetchAll("/workspaces")).map((w) => w.name);
    } catch {
      choices = [];
    }
  }
  const why = workspace && !me.is_admin
    ? `You are not an admin of workspace ${workspace}.`
    : "This page is about one workspace, and none is chosen.";
  return emptyState(
    choices.length ? "Choose a workspace" : "No workspace yet",
    h("p", {}, why),
    choices.length
      ? h(
          "ul",
          { class: "choices" },
          choices.map((name) => h("li", {}, h("a", { href: link(`/admin/${key}`, {}, name) }, `${label} of ${name}`))),
        )
      : h("p", {}, "Create a workspace first: ", h("a", { href: link("/admin/workspaces", {}, workspace) }, "go to Workspaces"), "."),
  );
}
