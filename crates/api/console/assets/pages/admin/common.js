// Building blocks every admin section shares: labelled fields, form dialogs that show the API's
// error message in place, confirmation dialogs (from ui.js), a paged table with loading, empty
// and error states, and the registry health badge.

import { api } from "../../api.js";
import { h, mount, toast, openDialog, loadingState, errorState, timeAgo, alertSlot } from "../../ui.js";

// The confirmation dialog and its alert slot moved to ui.js, as the image page asks the same
// way; the sections keep importing them from here.
export { alertSlot, confirmDialog } from "../../ui.js";

let idCount = 0;
function nextId(kind) {
  idCount += 1;
  return `admin-${kind}-${idCount}`;
}

// A hint sits outside the <label>, so the control's name stays just the label; the control
// points at it with aria-describedby.
function withHint(control, hint) {
  if (!hint) return null;
  const id = nextId("hint");
  control.setAttribute("aria-describedby", id);
  return h("span", { class: "hint", id }, hint);
}

// A labelled control. The label is tied with for/id rather than by wrapping, so a select's
// option texts do not leak into its name.
export function field(label, control, hint) {
  if (!control.id) control.id = nextId("field");
  const hintNode = withHint(control, hint);
  return h("div", { class: "field" }, h("label", { for: control.id, class: "field-label" }, label), control, hintNode);
}

export function checkbox(label, attrs = {}, hint) {
  const input = h("input", { type: "checkbox", id: nextId("check"), ...attrs });
  const hintNode = withHint(input, hint);
  return h("div", { class: "check" }, input, h("label", { for: input.id }, label), hintNode);
}

export function select(options, attrs = {}) {
  return h(
    "select",
    attrs,
    options.map(([value, text, selected]) => h("option", { value, selected: Boolean(selected) }, text)),
  );
}

// A dialog holding a form. `build()` returns the fields; `submit(form)` does the change and
// returns what the dialog resolves with. A failure keeps the dialog open with the message.
export function formDialog(title, build, submit, { submitLabel = "Create", success, wide = false } = {}) {
  return openDialog(
    title,
    (close) => {
      const problem = alertSlot();
      const button = h("button", { type: "submit", class: "primary" }, submitLabel);
      const form = h(
        "form",
        {
          class: "admin-form",
          novalidate: false,
          onsubmit: async (event) => {
            event.preventDefault();
            problem.clear();
            button.disabled = true;
            try {
              const result = await submit(form);
              if (success) toast(typeof success === "function" ? success(result) : success);
              close(result ?? true);
            } catch (error) {
              problem.show(error);
              button.disabled = false;
            }
          },
        },
        build(),
        problem.node,
        h(
          "div",
          { class: "form-actions" },
          h("button", { type: "button", onclick: () => close(undefined) }, "Cancel"),
          button,
        ),
      );
      // The first field gets the focus, not the dialog's close button.
      queueMicrotask(() => form.querySelector("input:not([type=hidden]), select, textarea")?.focus());
      return form;
    },
    { wide },
  );
}

// Runs a change made straight from a list (a switch, a role select): a toast on success, the
// API's message in the section's alert slot on failure. Answers whether it worked.
export async function mutate(problem, work, success) {
  problem.clear();
  try {
    await work();
    if (success) toast(success);
    return true;
  } catch (error) {
    problem.show(error);
    toast(error.message, "error");
    return false;
  }
}

// Every item of a list, following cursors (used for small sets such as workspaces).
export async function fetchAll(path) {
  const items = [];
  let cursor = "";
  for (let i = 0; i < 50; i += 1) {
    const separator = path.includes("?") ? "&" : "?";
    const answer = await api(`${path}${separator}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...answer.items);
    if (!answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return items;
}

// A list with cursor paging. `load(cursor)` answers a page; `table(items)` draws it;
// `empty()` is what to show when there is nothing. Answers {node, reload}.
export function pagedList({ load, table, empty, noun = ["item", "items"] }) {
  const status = h("p", { class: "list-status", role: "status", "aria-live": "polite" });
  const body = h("div", { class: "list-body" }, loadingState());
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const previous = [];
  let cursor = "";
  let generation = 0;

  async function reload(keepPage = true) {
    if (!keepPage) {
      cursor = "";
      previous.length = 0;
    }
    const mine = ++generation;
    body.setAttribute("aria-busy", "true");
    try {
      const answer = await load(cursor);
      if (mine !== generation) return;
      const total = answer.total ?? answer.items.length;
      status.textContent = `${total.toLocaleString()} ${total === 1 ? noun[0] : noun[1]}`;
      if (answer.items.length === 0 && !cursor) {
        mount(body, empty());
        mount(pager);
        return;
      }
      mount(body, table(answer.items));
      // One page only: no pager to distract from the list.
      if (!cursor && !answer.next_cursor) {
        mount(pager);
        return;
      }
      mount(
        pager,
        h("button", { type: "button", disabled: !cursor, onclick: () => { cursor = previous.pop() || ""; reload(); } }, "Previous page"),
        h("button", { type: "button", disabled: !answer.next_cursor, onclick: () => { previous.push(cursor); cursor = answer.next_cursor; reload(); } }, "Next page"),
      );
    } catch (error) {
      if (mine !== generation) return;
      status.textContent = "";
      mount(body, errorState(error, () => reload()));
      mount(pager);
    } finally {
      if (mine === generation) body.removeAttribute("aria-busy");
    }
  }

  return { node: h("div", { class: "paged" }, status, body, pager), reload };
}

// A table whose cells carry their column name, so narrow screens can show one card per row.
export function dataTable(caption, columns, items, row) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "admin-table" },
      h("caption", { class: "offscreen" }, caption),
      h("thead", {}, h("tr", {}, columns.map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        items.map((item) => {
          const cells = row(item);
          return h(
            "tr",
            {},
            cells.map((cell, index) =>
              h("td", { "data-label": columns[index], class: index === 0 ? "primary-cell" : columns[index] === "Actions" ? "actions-cell" : null }, cell),
            ),
          );
        }),
      ),
    ),
  );
}

export function yesNo(value, yes = "yes", no = "no") {
  return h("span", { class: value ? "flag flag-on" : "flag flag-off" }, value ? yes : no);
}

// The section heading with its actions (New …) beside it.
export function sectionHead(title, intro, ...actions) {
  return h(
    "div",
    { class: "page-head" },
    h("h1", {}, title),
    intro ? h("p", { class: "muted" }, intro) : null,
    actions.length ? h("div", { class: "actions" }, actions) : null,
  );
}

const healthText = { reachable: "reachable", unreachable: "unreachable", unknown: "unknown" };
// The status, why a registry is unreachable, how a reachable one is entered and lists its
// repositories (`listing`), and when it was checked.
export function healthBadge(health) {
  const status = health?.status || "unknown";
  let checked = null;
  if (health?.checked_at) checked = h("span", { class: "health-checked" }, "checked ", timeAgo(health.checked_at));
  else if (status !== "reachable") checked = h("span", { class: "health-checked" }, "not checked yet");
  return h(
    "div",
    { class: "health" },
    h("span", { class: `badge health-${status}` }, healthText[status] || status),
    health?.reason ? h("span", { class: "health-reason" }, health.reason) : null,
    health?.listing ? h("span", { class: "health-listing" }, health.listing) : null,
    checked,
  );
}

// Built-in records (hosted, library) carry the Unix epoch as their creation time.
export function created(iso) {
  if (!iso || new Date(iso).getTime() <= 0) return h("span", { class: "muted" }, "built in");
  return timeAgo(iso);
}
