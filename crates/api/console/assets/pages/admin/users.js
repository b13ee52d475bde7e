// Users (platform admins): the accounts people sign in with. Create, edit (email, platform
// admin, password reset), disable or enable, and delete.

import { api, seg, query } from "../../api.js";
import { h, mount, timeAgo, emptyState } from "../../ui.js";
import {
  field, checkbox, formDialog, confirmDialog, mutate, alertSlot, pagedList, dataTable, yesNo, sectionHead,
} from "./common.js";

export default async function users(ctx) {
  const { content, me } = ctx;
  const problem = alertSlot();
  const list = pagedList({
    noun: ["user", "users"],
    load: (cursor) => api(`/users${query({ limit: 100, cursor })}`),
    empty: () => emptyState("No users yet", h("p", {}, "Create the first account with New user.")),
    table: (items) =>
      dataTable("Users", ["Username", "Email", "Admin", "Disabled", "Created", "Actions"], items, (user) => [
        h("span", { class: "name" }, user.username),
        user.email || h("span", { class: "muted" }, "—"),
        yesNo(user.is_admin, "platform admin", "no"),
        yesNo(user.disabled, "disabled", "no"),
        timeAgo(user.created_at),
        h(
          "div",
          { class: "row-actions" },
          h("button", { type: "button", "aria-label": `Edit ${user.username}`, onclick: () => edit(user) }, "Edit"),
          user.username === me.username
            ? null
            : h(
                "button",
                {
                  type: "button",
                  "aria-label": `${user.disabled ? "Enable" : "Disable"} ${user.username}`,
                  onclick: () => setDisabled(user, !user.disabled),
                },
                user.disabled ? "Enable" : "Disable",
              ),
          user.username === me.username
            ? null
            : h("button", { type: "button", class: "danger-text", "aria-label": `Delete ${user.username}`, onclick: () => remove(user) }, "Delete"),
        ),
      ]),
  });

  mount(
    content,
    sectionHead(
      "Users",
      "Accounts that sign in to the console, the CLI and the registry. Add people to workspaces under Workspaces.",
      h("button", { type: "button", class: "primary", onclick: create }, "New user"),
    ),
    problem.node,
    list.node,
  );
  await list.reload();

  async function create() {
    const created = await formDialog(
      "New user",
      () => [
        field("Username", h("input", { name: "username", required: true, autocomplete: "off", spellcheck: "false", pattern: "[a-z0-9][a-z0-9._\\-]{0,62}" }), "Lower case letters, digits, dots, dashes and underscores."),
        field("Password", h("input", { name: "password", type: "password", required: true, autocomplete: "new-password" })),
        field("Email", h("input", { name: "email", type: "email", autocomplete: "off" })),
        checkbox("Platform admin", { name: "is_admin" }, "May manage every workspace, registry and user."),
      ],
      (form) =>
        api("/users", {
          method: "POST",
          body: {
            username: form.username.value.trim(),
            password: form.password.value,
            email: form.email.value.trim() || undefined,
            is_admin: form.is_admin.checked,
          },
        }),
      { success: (user) => `Created user ${user.username}` },
    );
    if (created) list.reload(false);
  }

  async function edit(user) {
    const changed = await formDialog(
      `Edit ${user.username}`,
      () => [
        field("Email", h("input", { name: "email", type: "email", value: user.email || "", autocomplete: "off" })),
        user.username === me.username
          ? null
          : checkbox("Platform admin", { name: "is_admin", checked: user.is_admin }),
        field("New password", h("input", { name: "password", type: "password", autocomplete: "new-password" }), "Leave empty to keep the password. A reset signs the user out everywhere."),
      ],
      (form) => {
        const body = {};
        const email = form.email.value.trim();
        if (email !== (user.email || "")) body.email = email;
        if (form.is_admin && form.is_admin.checked !== user.is_admin) body.is_admin = form.is_admin.checked;
        if (form.password.value) body.password = form.password.value;
        if (Object.keys(body).length === 0) return user;
        return api(`/users/${seg(user.username)}`, { method: "PATCH", body });
      },
      { submitLabel: "Save", success: `Saved ${user.username}` },
    );
    if (changed) list.reload();
  }

  async function setDisabled(user, disabled) {
    const ok = await mutate(
      problem,
      () => api(`/users/${seg(user.username)}`, { method: "PATCH", body: { disabled } }),
      `${disabled ? "Disabled" : "Enabled"} ${user.username}`,
    );
    if (ok) list.reload();
  }

  async function remove(user) {
    const done = await confirmDialog({
      title: `Delete user ${user.username}?`,
      message: `${user.username} loses access at once and leaves every workspace. Images they pushed stay.`,
      confirmLabel: "Delete",
      action: () => api(`/users/${seg(user.username)}`, { method: "DELETE" }),
      success: `Deleted user ${user.username}`,
    });
    if (done) list.reload();
  }
}
