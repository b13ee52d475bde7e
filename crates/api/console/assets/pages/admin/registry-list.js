// Registries, platform-wide or of one workspace: the list with health, and the create, edit and
// delete forms. Both kinds share one body in the API, so they share this module too. Passwords
// go to the API and are never shown again (answers carry only `has_password`).

import { api, seg, query } from "../../api.js";
import { h, mount, emptyState, toast } from "../../ui.js";
import {
  field, checkbox, select, formDialog, confirmDialog, mutate, alertSlot, pagedList, dataTable, sectionHead, healthBadge,
} from "./common.js";

const KINDS = [
  ["distribution", "distribution (Docker registry)"],
  ["harbor", "harbor"],
  ["oci", "oci (any OCI registry)"],
];

// `base` is "/registries" or "/workspaces/<ws>/registries"; `checkable` says whether the API
// offers a health check now (it does for platform registries).
export default async function registryList(ctx, { base, title, intro, owner, checkable }) {
  const { content } = ctx;
  const problem = alertSlot();
  const list = pagedList({
    noun: ["registry", "registries"],
    load: (cursor) => api(`${base}${query({ limit: 100, cursor })}`),
    empty: () =>
      emptyState(
        "No registries yet",
        h("p", {}, `Connect a registry with New registry: its spaces and images then show up for ${owner}.`),
      ),
    table: (items) =>
      dataTable(title, ["Name", "Kind", "URL", "Health", "Description", "Actions"], items, (registry) => [
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
        registry.description || h("span", { class: "muted" }, "—"),
        actions(registry),
      ]),
  });

  function actions(registry) {
    if (registry.kind === "hosted") return h("span", { class: "muted small" }, "read-only");
    return h(
      "div",
      { class: "row-actions" },
      checkable
        ? h("button", { type: "button", "aria-label": `Check now: ${registry.name}`, onclick: (event) => check(registry, event.currentTarget) }, "Check now")
        : null,
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
      field("Description", h("input", { name: "description", value: registry?.description || "", autocomplete: "off" })),
    ];
  }

  const value = (form, name) => form.elements.namedItem(name)?.value.trim() ?? "";

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
