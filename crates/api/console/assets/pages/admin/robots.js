// Robots (workspace admins): accounts for CI and clusters, `robot$<ws>+<name>`. A new robot's
// secret is shown once, in a dialog, and kept nowhere else: not in the page, not in storage.

import { api, seg, query } from "../../api.js";
import { h, mount, timeAgo, emptyState, copyButton, openDialog } from "../../ui.js";
import {
  field, checkbox, select, formDialog, confirmDialog, mutate, alertSlot, pagedList, dataTable, sectionHead, yesNo,
} from "./common.js";

const DAY = 24 * 3600;
const EXPIRIES = [
  ["", "Never"],
  [String(DAY), "1 day"],
  [String(30 * DAY), "30 days"],
  [String(90 * DAY), "90 days"],
];

export default async function robots(ctx) {
  const { content, workspace } = ctx;
  document.title = `Robots · ${workspace} · Admin · Berth`;
  const base = `/workspaces/${seg(workspace)}/robots`;
  const problem = alertSlot();

  const list = pagedList({
    noun: ["robot", "robots"],
    load: (cursor) => api(`${base}${query({ limit: 100, cursor })}`),
    empty: () =>
      emptyState(
        "No robots yet",
        h("p", {}, `A robot signs in for a CI job or a cluster, with pull or push rights in ${workspace}. Create one with New robot.`),
      ),
    table: (items) =>
      dataTable(`Robots of ${workspace}`, ["Name", "Permissions", "Space", "Expires", "Disabled", "Created by", "Actions"], items, (robot) => [
        h("span", {}, h("span", { class: "name" }, robot.short_name), h("code", { class: "full-name" }, robot.name)),
        robot.permissions.length ? robot.permissions.join(", ") : h("span", { class: "muted" }, "none"),
        robot.space ? h("span", { title: "May act only in this space" }, robot.space) : h("span", { class: "muted" }, "whole workspace"),
        expiry(robot.expires_at),
        yesNo(robot.disabled, "disabled", "no"),
        h("span", {}, robot.created_by, h("span", { class: "muted small block" }, timeAgo(robot.created_at))),
        h(
          "div",
          { class: "row-actions" },
          h(
            "button",
            { type: "button", "aria-label": `${robot.disabled ? "Enable" : "Disable"} ${robot.short_name}`, onclick: () => setDisabled(robot, !robot.disabled) },
            robot.disabled ? "Enable" : "Disable",
          ),
          h("button", { type: "button", class: "danger-text", "aria-label": `Delete ${robot.short_name}`, onclick: () => remove(robot) }, "Delete"),
        ),
      ]),
  });

  mount(
    content,
    sectionHead(
      `Robots of ${workspace}`,
      "Robots sign in to the registry with a secret instead of a person's password. Temporary push logins show up here too, limited to one space.",
      h("button", { type: "button", class: "primary", onclick: create }, "New robot"),
    ),
    problem.node,
    list.node,
  );
  await list.reload();

  async function create() {
    const created = await formDialog(
      "New robot",
      () => [
        field("Name", h("input", { name: "robot-name", required: true, autocomplete: "off", spellcheck: "false" }), `Signs in as robot$${workspace}+<name>.`),
        h(
          "fieldset",
          { class: "permissions" },
          h("legend", {}, "Permissions"),
          checkbox("Pull", { name: "pull", checked: true }),
          checkbox("Push", { name: "push" }),
        ),
        field("Expires in", select(EXPIRIES.map(([value, text]) => [value, text, value === ""]), { name: "expires" })),
      ],
      (form) => {
        const permissions = ["pull", "push"].filter((p) => form.elements.namedItem(p).checked);
        const expires = form.elements.namedItem("expires").value;
        return api(base, {
          method: "POST",
          body: {
            name: form.elements.namedItem("robot-name").value.trim(),
            permissions,
            expires_in_seconds: expires ? Number(expires) : undefined,
          },
        });
      },
      { success: (robot) => `Created robot ${robot.short_name || robot.name}` },
    );
    if (!created) return;
    list.reload(false);
    await showSecret(created, await registryHost());
  }

  async function setDisabled(robot, disabled) {
    const ok = await mutate(
      problem,
      () => api(`${base}/${seg(robot.short_name)}`, { method: "PATCH", body: { disabled } }),
      `${disabled ? "Disabled" : "Enabled"} robot ${robot.short_name}`,
    );
    if (ok) list.reload();
  }

  async function remove(robot) {
    const done = await confirmDialog({
      title: `Delete robot ${robot.short_name}?`,
      message: `Anything signing in as ${robot.name} stops working at once.`,
      action: () => api(`${base}/${seg(robot.short_name)}`, { method: "DELETE" }),
      success: `Deleted robot ${robot.short_name}`,
    });
    if (done) list.reload();
  }
}

function expiry(at) {
  if (!at) return h("span", { class: "muted" }, "never");
  const expired = new Date(at).getTime() <= Date.now();
  return h("span", {}, timeAgo(at), expired ? h("span", { class: "badge badge-expired" }, "expired") : null);
}

// The one time a secret is visible. It lives only in this dialog's DOM and goes with it.
// The hosted registry's address as clients reach it (its URL is Berth's external URL, which
// behind a proxy differs from the console's own address).
async function registryHost() {
  try {
    return new URL((await api("/registries/hosted")).url).host;
  } catch {
    return location.host;
  }
}

function showSecret(robot, host) {
  return openDialog(`Robot ${robot.short_name || robot.name} created`, (close) => {
    const done = h("button", { type: "button", class: "primary", onclick: () => close() }, "Done");
    queueMicrotask(() => done.focus());
    return h(
      "div",
      { class: "secret-box" },
      h(
        "p",
        { class: "secret-warning", role: "note" },
        h("strong", {}, "Copy the secret now: you will not see it again. "),
        "Berth keeps only a hash of it. If it is lost, delete the robot and create a new one.",
      ),
      h(
        "dl",
        { class: "secret-facts" },
        h("dt", {}, "Username"),
        h("dd", {}, h("code", { class: "robot-username" }, robot.name), copyButton(robot.name, "robot username")),
        h("dt", {}, "Secret"),
        h("dd", {}, h("code", { class: "robot-secret" }, robot.secret), copyButton(robot.secret, "robot secret")),
        h("dt", {}, "Permissions"),
        h("dd", {}, (robot.permissions || []).join(", ") || "none"),
        h("dt", {}, "Expires"),
        h("dd", {}, robot.expires_at ? timeAgo(robot.expires_at) : "never"),
      ),
      h("p", { class: "muted" }, "Sign in from a client with: ", h("code", {}, `docker login -u '${robot.name}' --password-stdin ${host}`)),
      h("div", { class: "form-actions" }, done),
    );
  });
}
