// Spaces (platform admins): the spaces of one platform registry, each public (every workspace
// sees it) or private (only the workspaces it is bound to). Switching a space public asks
// first; bindings are edited as a whole set, as the API stores them.

import { api, seg, query } from "../../api.js";
import { link } from "../../app.js";
import { h, mount, emptyState, toast } from "../../ui.js";
import {
  field, checkbox, select, formDialog, confirmDialog, mutate, alertSlot, pagedList, dataTable, sectionHead, fetchAll, created,
} from "./common.js";

export default async function spaces(ctx) {
  const { content, search, workspace } = ctx;
  let registry = search.get("registry") || "hosted";
  const problem = alertSlot();
  let registries = [{ name: "hosted" }];
  try {
    registries = await fetchAll("/registries");
  } catch (error) {
    problem.show(error);
  }
  if (!ctx.isCurrent()) return;
  if (!registries.some((r) => r.name === registry)) registries.push({ name: registry });

  const registrySelect = select(
    registries.map((r) => [r.name, r.name, r.name === registry]),
    {
      "aria-label": "Registry",
      onchange: (event) => {
        registry = event.target.value;
        // The choice lives in the URL, so reloading or sharing keeps it.
        history.replaceState(null, "", link("/admin/spaces", registry === "hosted" ? {} : { registry }, workspace));
        list.reload(false);
      },
    },
  );
  const spacesPath = () => `/registries/${seg(registry)}/spaces`;

  const list = pagedList({
    noun: ["space", "spaces"],
    load: (cursor) => api(`${spacesPath()}${query({ limit: 100, cursor })}`),
    empty: () =>
      emptyState(
        `No spaces in ${registry} yet`,
        h("p", {}, "A space is the first part of a repository name (team/app). Create one with New space, then bind it to the workspaces that should see it."),
      ),
    table: (items) =>
      dataTable(`Spaces of ${registry}`, ["Space", "Public", "Description", "Bound workspaces", "Created", "Actions"], items, (space) => [
        h("span", { class: "name" }, space.name),
        publicSwitch(space),
        space.description || h("span", { class: "muted" }, "—"),
        boundList(space),
        created(space.created_at),
        h(
          "div",
          { class: "row-actions" },
          h("button", { type: "button", "aria-label": `Bindings of ${space.name}`, onclick: () => editBindings(space) }, "Bindings"),
          h("button", { type: "button", "aria-label": `Edit ${space.name}`, onclick: () => edit(space) }, "Edit"),
          h("button", { type: "button", class: "danger-text", "aria-label": `Delete ${space.name}`, onclick: () => remove(space) }, "Delete"),
        ),
      ]),
  });

  mount(
    content,
    sectionHead(
      "Spaces",
      "Public spaces are visible to every workspace. Private spaces are visible to the workspaces they are bound to.",
      h("button", { type: "button", class: "primary", onclick: create }, "New space"),
    ),
    h("div", { class: "filters" }, field("Registry", registrySelect)),
    problem.node,
    list.node,
  );
  await list.reload();

  function boundList(space) {
    const names = space.bound_workspaces || [];
    if (names.length === 0) {
      return h("span", { class: "muted" }, space.public ? "none (public)" : "none: no workspace sees it");
    }
    return h(
      "ul",
      { class: "tags" },
      names.map((name) => h("li", {}, h("a", { href: link("/admin/workspaces", { name }, workspace) }, name))),
    );
  }

  function publicSwitch(space) {
    const input = h("input", {
      type: "checkbox",
      class: "switch-input",
      "aria-label": `Public ${space.name}`,
      checked: space.public,
      onchange: async () => {
        const wanted = input.checked;
        input.checked = space.public;
        const done = wanted ? await makePublic(space) : await setPublic(space, false);
        if (done) {
          space.public = wanted;
          list.reload();
        }
        input.checked = space.public;
      },
    });
    return h("label", { class: "switch" }, input, h("span", { class: "switch-text", "aria-hidden": "true" }, space.public ? "public" : "private"));
  }

  function setPublic(space, value) {
    return mutate(
      problem,
      () => api(`${spacesPath()}/${seg(space.name)}`, { method: "PATCH", body: { public: value } }),
      `${space.name} is now ${value ? "public" : "private"}`,
    );
  }

  // Making a space public shows its images to every workspace, so it is confirmed first.
  function makePublic(space) {
    return confirmDialog({
      title: `Make ${space.name} public?`,
      message: `Every workspace will see and pull the images in ${registry}/${space.name}, not only the workspaces bound to it (${space.bound_workspaces?.length || 0} now).`,
      confirmLabel: "Make public",
      danger: false,
      action: () => api(`${spacesPath()}/${seg(space.name)}`, { method: "PATCH", body: { public: true } }),
      success: `${space.name} is now public`,
    });
  }

  async function editBindings(space) {
    problem.clear();
    let all;
    let current;
    try {
      [all, current] = await Promise.all([
        fetchAll("/workspaces"),
        api(`${spacesPath()}/${seg(space.name)}/bindings`),
      ]);
    } catch (error) {
      problem.show(error);
      toast(error.message, "error");
      return;
    }
    const bound = new Set(current.workspaces);
    const saved = await formDialog(
      `Bindings of ${space.name}`,
      () =>
        all.length === 0
          ? emptyState("No workspaces yet", h("p", {}, "Create a workspace under ", h("a", { href: link("/admin/workspaces", {}, workspace) }, "Workspaces"), " first."))
          : h(
              "fieldset",
              { class: "bindings" },
              h("legend", {}, `Workspaces bound to ${registry}/${space.name}`),
              h("p", { class: "hint" }, space.public
                ? "Every workspace already sees this public space; bound workspaces' editors and admins may also push to it."
                : "Bound workspaces see this space's images; their editors and admins may push to it."),
              h("div", { class: "binding-grid" }, all.map((ws) => checkbox(ws.name, { name: "binding", value: ws.name, checked: bound.has(ws.name) }))),
            ),
      (form) => {
        const chosen = [...form.querySelectorAll("input[name=binding]:checked")].map((input) => input.value);
        return api(`${spacesPath()}/${seg(space.name)}/bindings`, { method: "PUT", body: { workspaces: chosen } });
      },
      { submitLabel: "Save bindings", success: `Saved the bindings of ${space.name}`, wide: all.length > 12 },
    );
    if (saved) list.reload();
  }

  async function create() {
    const made = await formDialog(
      "New space",
      () => [
        field("Registry", select(registries.map((r) => [r.name, r.name, r.name === registry]), { name: "registry" })),
        field("Name", h("input", { name: "space-name", required: true, autocomplete: "off", spellcheck: "false" }), "2–63 lower case letters and digits, with . _ - between them. It becomes the first part of repository names."),
        checkbox("Public", { name: "public" }, "Every workspace sees a public space. Leave it off and bind workspaces instead."),
        field("Description", h("input", { name: "description", autocomplete: "off" })),
      ],
      async (form) => {
        const target = form.elements.namedItem("registry").value;
        const space = await api(`/registries/${seg(target)}/spaces`, {
          method: "POST",
          body: {
            name: form.elements.namedItem("space-name").value.trim(),
            public: form.elements.namedItem("public").checked,
            description: form.elements.namedItem("description").value.trim() || undefined,
          },
        });
        return space;
      },
      { success: (space) => `Created space ${space.name} in ${space.registry}` },
    );
    if (!made) return;
    if (made.registry !== registry) {
      registry = made.registry;
      registrySelect.value = registry;
      history.replaceState(null, "", link("/admin/spaces", registry === "hosted" ? {} : { registry }, workspace));
    }
    list.reload(false);
  }

  async function edit(space) {
    const saved = await formDialog(
      `Edit space ${space.name}`,
      () => [field("Description", h("input", { name: "description", value: space.description || "", autocomplete: "off" }))],
      (form) =>
        api(`${spacesPath()}/${seg(space.name)}`, {
          method: "PATCH",
          body: { description: form.elements.namedItem("description").value.trim() },
        }),
      { submitLabel: "Save", success: `Saved space ${space.name}` },
    );
    if (saved) list.reload();
  }

  async function remove(space) {
    const done = await confirmDialog({
      title: `Delete space ${space.name}?`,
      message: `Deletes ${registry}/${space.name} and its bindings. A space that still holds images cannot be deleted: delete its repositories first.`,
      action: () => api(`${spacesPath()}/${seg(space.name)}`, { method: "DELETE" }),
      success: `Deleted space ${space.name}`,
    });
    if (done) list.reload();
  }
}
