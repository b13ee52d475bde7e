// The image list: one workspace's images from every source, searched as you type, filtered,
// sorted by column and paged by cursor. The filters live in the URL, so a list can be shared
// and the back button works.

import { api, seg, query, latestRequest } from "../api.js";
import { link, imageHref } from "../app.js";
import {
  h, mount, humanSize, timeAgo, copyButton, sourceBadges, scanSummary,
  loadingState, errorState, emptyState, noWorkspaceState,
} from "../ui.js";

const FILTERS = ["q", "tag", "registry", "space", "visibility", "source"];
const COLUMNS = [
  ["name", "Repository"],
  [null, "Tags"],
  ["pushed_at", "Last push"],
  ["size", "Size"],
  ["pulls", "Pulls"],
  [null, "Vulnerabilities"],
  [null, "Pull reference"],
];
const PAGE_SIZE = 50;

export default async function images(ctx) {
  const { main, workspace, search } = ctx;
  document.title = workspace ? `Images · ${workspace} · Berth` : "Images · Berth";
  if (!workspace) {
    mount(main, noWorkspaceState(ctx.me));
    return;
  }
  const state = Object.fromEntries(FILTERS.map((f) => [f, search.get(f) || ""]));
  state.sort = search.get("sort") || "name";
  state.order = search.get("order") || (state.sort === "name" ? "asc" : "desc");
  let cursor = search.get("cursor") || "";
  const previous = [];
  const requests = latestRequest();

  const status = h("p", { class: "list-status", role: "status", "aria-live": "polite" });
  const body = h("div", { class: "list-body" }, loadingState("Loading images…"));
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });

  const field = (name, label, attrs = {}) =>
    h("input", {
      id: `filter-${name}`,
      type: "search",
      value: state[name],
      "aria-label": label,
      placeholder: label,
      autocomplete: "off",
      spellcheck: "false",
      oninput: (event) => update({ [name]: event.target.value.trim() }),
      ...attrs,
    });
  // `label` names the filter for screen readers; `anyText` is the option that turns it off.
  const choice = (name, label, anyText, options) =>
    h(
      "select",
      { id: `filter-${name}`, "aria-label": label, onchange: (event) => update({ [name]: event.target.value }) },
      h("option", { value: "" }, anyText),
      options.map(([value, text]) => h("option", { value, selected: state[name] === value }, text)),
    );
  const registrySelect = choice("registry", "Registry", "All registries", state.registry ? [[state.registry, state.registry]] : []);

  mount(
    main,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Images"),
      h("p", { class: "muted" }, `Everything workspace ${workspace} may see and deploy.`),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "push-button", class: "primary", onclick: () => openPush(ctx) }, "Push an image"),
        h("button", { type: "button", id: "upload-button", onclick: () => openUpload(ctx) }, "Upload a tarball"),
      ),
    ),
    h(
      "div",
      { class: "filters", role: "search" },
      field("q", "Search repositories", { class: "grow" }),
      field("tag", "Search tags"),
      registrySelect,
      field("space", "Space"),
      choice("visibility", "Visibility", "Any visibility", [["public", "Public"], ["private", "Private"]]),
      choice("source", "Source", "Any source", [["public", "Public"], ["bound", "Bound"], ["workspace-registry", "Workspace registry"]]),
    ),
    status,
    body,
    pager,
  );
  fillRegistries(registrySelect, workspace, state.registry);

  function update(change) {
    Object.assign(state, change);
    cursor = "";
    previous.length = 0;
    // Typing replaces the history entry; it does not add one per keystroke.
    history.replaceState(null, "", urlFor());
    load();
  }

  function urlFor() {
    const params = {};
    for (const f of FILTERS) if (state[f]) params[f] = state[f];
    if (state.sort !== "name") params.sort = state.sort;
    if (state.order !== (state.sort === "name" ? "asc" : "desc")) params.order = state.order;
    if (cursor) params.cursor = cursor;
    return link("/images", params, workspace);
  }

  async function load() {
    const signal = requests.next();
    body.setAttribute("aria-busy", "true");
    const params = { limit: PAGE_SIZE, sort: state.sort, order: state.order, cursor };
    for (const f of FILTERS) params[f] = state[f];
    try {
      const answer = await api(`/workspaces/${seg(workspace)}/images${query(params)}`, { signal });
      if (!requests.isLatest(signal) || !ctx.isCurrent()) return;
      draw(answer);
    } catch (error) {
      if (error.name === "AbortError" || !requests.isLatest(signal)) return;
      mount(body, errorState(error, load));
      status.textContent = "";
    } finally {
      if (requests.isLatest(signal)) body.removeAttribute("aria-busy");
    }
  }

  function draw(answer) {
    const filtered = FILTERS.some((f) => state[f]);
    status.textContent = answer.total === 1 ? "1 image" : `${answer.total.toLocaleString()} images`;
    if (answer.items.length === 0) {
      mount(body, filtered ? noMatch() : firstImage(ctx));
      mount(pager);
      return;
    }
    mount(body, table(answer.items));
    mount(
      pager,
      h("button", { type: "button", disabled: !cursor, onclick: () => { cursor = previous.pop() || ""; history.pushState(null, "", urlFor()); load(); } }, "Previous page"),
      h("button", { type: "button", disabled: !answer.next_cursor, onclick: () => { previous.push(cursor); cursor = answer.next_cursor; history.pushState(null, "", urlFor()); load(); } }, "Next page"),
    );
  }

  function noMatch() {
    return emptyState(
      "No image matches these filters",
      h("p", {}, "Try a shorter search, or clear the filters."),
      h("button", { type: "button", onclick: () => { for (const f of FILTERS) { state[f] = ""; const input = main.querySelector(`#filter-${f}`); if (input) input.value = ""; } update({}); } }, "Clear filters"),
    );
  }

  function header() {
    return h(
      "tr",
      {},
      COLUMNS.map(([key, label]) => {
        if (!key) return h("th", { scope: "col" }, label);
        const active = state.sort === key;
        const sortName = active ? (state.order === "asc" ? "ascending" : "descending") : "none";
        return h(
          "th",
          { scope: "col", "aria-sort": sortName },
          h(
            "button",
            {
              type: "button",
              class: "sort",
              onclick: () => {
                const order = active ? (state.order === "asc" ? "desc" : "asc") : key === "name" ? "asc" : "desc";
                update({ sort: key, order });
              },
            },
            label,
            h("span", { class: "sort-mark", "aria-hidden": "true" }, active ? (state.order === "asc" ? "▲" : "▼") : ""),
          ),
        );
      }),
    );
  }

  function table(rows) {
    return h(
      "table",
      { class: "images" },
      h("caption", { class: "offscreen" }, `Images of ${workspace}, sorted by ${state.sort} ${state.order === "asc" ? "ascending" : "descending"}`),
      h("thead", {}, header()),
      h("tbody", {}, rows.map(row)),
    );
  }

  function row(image) {
    const detail = imageHref(workspace, image.registry, image.repository);
    return h(
      "tr",
      {},
      h(
        "td",
        { class: "repo", "data-label": "Repository" },
        h("a", { href: detail, class: "repo-link" }, image.repository),
        h("span", { class: "registry" }, image.registry),
        // An external registry's row says its kind: its catalog is synced from there, not
        // pushed to Berth.
        image.registry_kind !== "hosted"
          ? h("span", { class: "badge badge-kind", title: `${image.registry} is a ${image.registry_kind} registry that Berth syncs` }, image.registry_kind)
          : null,
        sourceBadges(image.sources),
        image.visibility === "private" ? h("span", { class: "badge badge-private", title: "Private space" }, "Private") : null,
        image.description ? h("p", { class: "description" }, summaryLine(image.description)) : null,
      ),
      h("td", { "data-label": "Tags" }, `${image.tag_count}`, image.latest_tag ? h("span", { class: "latest" }, image.latest_tag) : null),
      // Distribution does not tell when a tag was pushed: such rows say "unknown", not "never".
      h("td", { "data-label": "Last push" }, timeAgo(image.pushed_at, image.registry_kind === "hosted" ? "never" : "unknown")),
      h("td", { "data-label": "Size", class: "num" }, humanSize(image.size)),
      h("td", { "data-label": "Pulls", class: "num" }, image.pulls.toLocaleString()),
      h("td", { "data-label": "Vulnerabilities" }, scanSummary(image.scan)),
      h("td", { "data-label": "Pull reference", class: "reference" }, h("code", {}, image.reference), copyButton(image.reference, `pull reference of ${image.repository}`)),
    );
  }

  await load();
}

// The first line of a Markdown description with its heading, emphasis and link markup taken
// off, for a one-line preview (the detail page renders the whole description).
function summaryLine(markdown) {
  const line = markdown.split("\n").map((l) => l.trim()).find(Boolean) || "";
  return line
    .replace(/^#{1,6}\s+/, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_`]/g, "")
    .slice(0, 160);
}

async function fillRegistries(select, workspace, selected) {
  try {
    const [platform, own] = await Promise.all([
      api("/registries?limit=500"),
      api(`/workspaces/${seg(workspace)}/registries?limit=500`).catch(() => ({ items: [] })),
    ]);
    const names = [...new Set([...platform.items, ...own.items].map((r) => r.name))].sort();
    for (const name of names) {
      if (name === selected) continue;
      select.append(h("option", { value: name }, name));
    }
  } catch {
    // The filter still works with the registry in the URL; the list shows its own errors.
  }
}

function firstImage(ctx) {
  return emptyState(
    "No images yet",
    h("p", {}, `Workspace ${ctx.workspace} sees no images. Push one to a space bound to it, or upload a docker save tarball.`),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: () => openPush(ctx) }, "Show push commands"),
      h("button", { type: "button", onclick: () => openUpload(ctx) }, "Upload a tarball"),
    ),
  );
}

async function openPush(ctx) {
  const dialog = await import("../dialogs/push.js");
  await dialog.default(ctx);
}

async function openUpload(ctx) {
  const dialog = await import("../dialogs/upload.js");
  await dialog.default(ctx);
}
