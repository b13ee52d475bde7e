// The tags table: a page of tags at a time, searched and sorted by the server, so a repository
// with 10,000 tags costs the same as one with ten. The search and the order live in the URL
// (`q`, `sort`), so a link keeps them; the page shown does not.

import { api, query, latestRequest } from "../../api.js";
import { h, mount, humanSize, timeAgo, shortDigest, copyButton, loadingState, errorState, emptyState } from "../../ui.js";
import { count, kindBadge, platformsText } from "./common.js";
import { deleteTag } from "./delete.js";

const PAGE_SIZE = 50;

// Answers {element, load, highlight}. `open(digest)` opens a tag's artifact view.
export function tagSection(page, { open }) {
  const { state } = page;
  // `cursor` asks for the page shown; `previous` holds the cursors of the pages before it, so
  // "Previous page" needs no cursor from the server.
  let cursor = "";
  const previous = [];
  // Typing starts a request per keystroke; only the newest may draw.
  const requests = latestRequest();

  const status = h("p", { class: "list-status", role: "status", "aria-live": "polite" });
  const body = h("div", { class: "tags-body" }, loadingState("Loading tags…"));
  const pager = h("nav", { class: "pager", "aria-label": "Tag pages" });
  const searchInput = h("input", {
    id: "tag-search",
    type: "search",
    value: state.q,
    "aria-label": "Search tags",
    placeholder: "Search tags",
    autocomplete: "off",
    spellcheck: "false",
    oninput: (event) => restart({ q: event.target.value.trim() }),
  });
  const sortSelect = h(
    "select",
    { id: "tag-sort", "aria-label": "Sort tags", onchange: (event) => restart({ sort: event.target.value }) },
    h("option", { value: "pushed_at", selected: state.sort === "pushed_at" }, "Newest first"),
    h("option", { value: "name", selected: state.sort === "name" }, "By name"),
  );
  const element = h(
    "section",
    { class: "tags", "aria-labelledby": "tags-title" },
    h("div", { class: "section-head" }, h("h2", { id: "tags-title" }, "Tags")),
    h("div", { class: "filters", role: "search" }, searchInput, sortSelect),
    status,
    body,
    pager,
  );

  // A new search or order starts again from the first page.
  function restart(change) {
    Object.assign(state, change);
    cursor = "";
    previous.length = 0;
    // Typing replaces the history entry rather than adding one per keystroke.
    history.replaceState(null, "", page.urlFor());
    load();
  }

  async function load() {
    const signal = requests.next();
    body.setAttribute("aria-busy", "true");
    try {
      const answer = await api(`${page.base}/tags${query({ q: state.q, sort: state.sort, limit: PAGE_SIZE, cursor })}`, { signal });
      if (!requests.isLatest(signal) || !page.ctx.isCurrent()) return;
      // A later page comes back empty once its last tags are deleted (here, or by someone
      // else). Go back a page rather than show "51–50 of 50 tags" with no way back.
      if (answer.items.length === 0 && previous.length > 0) {
        cursor = previous.pop();
        return load();
      }
      draw(answer);
    } catch (error) {
      if (error.name === "AbortError" || !requests.isLatest(signal)) return;
      mount(body, errorState(error, load));
      mount(pager);
      status.textContent = "";
    } finally {
      if (requests.isLatest(signal)) body.removeAttribute("aria-busy");
    }
  }

  function draw(answer) {
    const first = previous.length * PAGE_SIZE + 1;
    const last = previous.length * PAGE_SIZE + answer.items.length;
    const noun = state.q ? "matching tags" : "tags";
    status.textContent = answer.total === 0 ? "" : answer.total <= PAGE_SIZE && !cursor
      ? `${answer.total.toLocaleString()} ${answer.total === 1 ? noun.replace("tags", "tag") : noun}`
      : `${first.toLocaleString()}–${last.toLocaleString()} of ${answer.total.toLocaleString()} ${noun}`;
    if (answer.items.length === 0) {
      mount(body, state.q ? noMatch() : noTags());
      mount(pager);
      return;
    }
    mount(body, h("div", { class: "scroll" }, tagTable(answer.items)));
    // After turning a page the focus goes to its first tag, where reading starts.
    const turn = (next) => {
      cursor = next;
      load().then(() => body.querySelector("button.tag-name")?.focus());
    };
    mount(
      pager,
      h("button", { type: "button", disabled: previous.length === 0, onclick: () => turn(previous.pop() || "") }, "Previous page"),
      h("button", { type: "button", disabled: !answer.next_cursor, onclick: () => { previous.push(cursor); turn(answer.next_cursor); } }, "Next page"),
    );
  }

  function noMatch() {
    return emptyState(
      `No tag matches “${state.q}”`,
      h("p", {}, "Tags match when they contain the search, in any case. Try a shorter search."),
      h("button", { type: "button", onclick: () => { searchInput.value = ""; restart({ q: "" }); searchInput.focus(); } }, "Clear search"),
    );
  }

  function noTags() {
    const repo = page.repo;
    const untagged = repo.artifact_count > 0
      ? h("p", {}, `This repository holds ${count(repo.artifact_count, "untagged artifact")}, reachable by digest only.`)
      : null;
    return emptyState(
      "No tags yet",
      h("p", {}, "Push a tag to this repository, for example:"),
      h("pre", {}, `docker tag my-image ${repo.reference}:latest\ndocker push ${repo.reference}:latest`),
      untagged,
      h("p", {}, h("a", { href: page.listUrl }, "Push an image from the image list"), " shows the login and push commands for every client."),
    );
  }

  function tagTable(items) {
    const canDelete = page.repo.permissions.includes("delete");
    return h(
      "table",
      { class: "tag-table" },
      h("caption", { class: "offscreen" }, `Tags of ${page.repo.repository}, ${state.sort === "name" ? "by name" : "newest first"}`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Tag", "Digest", "Size", "Platforms", "Pushed", "Pushed by", "Pulls"].map((label) =>
            h("th", { scope: "col", class: label === "Size" || label === "Pulls" ? "num" : null }, label)),
          canDelete ? h("th", { scope: "col" }, h("span", { class: "offscreen" }, "Actions")) : null,
        ),
      ),
      h("tbody", {}, items.map((tag) => tagRow(tag, canDelete))),
    );
  }

  function tagRow(tag, canDelete) {
    const selected = state.digest === tag.digest;
    return h(
      "tr",
      { class: selected ? "selected" : null, dataset: { digest: tag.digest } },
      h(
        "td",
        { class: "tag", "data-label": "Tag" },
        h("button", { type: "button", class: "link tag-name", "aria-current": selected ? "true" : null, title: `Open ${tag.name}`, onclick: () => open(tag.digest) }, tag.name),
        kindBadge(tag),
      ),
      h("td", { class: "digest", "data-label": "Digest" }, h("code", { title: tag.digest }, shortDigest(tag.digest)), copyButton(tag.digest, `digest of ${tag.name}`)),
      h("td", { class: "num", "data-label": "Size" }, humanSize(tag.size)),
      h("td", { "data-label": "Platforms" }, platformsText(tag.platforms)),
      h("td", { "data-label": "Pushed" }, timeAgo(tag.pushed_at, "unknown")),
      h("td", { "data-label": "Pushed by" }, tag.pushed_by || h("span", { class: "muted" }, "—")),
      h("td", { class: "num", "data-label": "Pulls" }, tag.pulls.toLocaleString()),
      canDelete
        ? h("td", { class: "row-actions" }, h("button", { type: "button", class: "link danger-link", "aria-label": `Delete tag ${tag.name}`, onclick: () => remove(tag) }, "Delete"))
        : null,
    );
  }

  // The row goes with its page reload; the focus then waits in the search box, as the row's
  // Delete button is gone.
  async function remove(tag) {
    if (!(await deleteTag(page, tag))) return;
    await Promise.all([load(), page.refreshRepo()]);
    searchInput.focus();
  }

  // Marks the row of the open artifact, without reloading the page of tags.
  function highlight(digest) {
    for (const row of body.querySelectorAll("tbody tr")) {
      const on = row.dataset.digest === digest;
      row.classList.toggle("selected", on);
      const button = row.querySelector("button.tag-name");
      if (on) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  return { element, load, highlight };
}
