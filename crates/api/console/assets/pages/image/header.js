// The top of the image page: the repository's name, where it comes from, how to pull it and
// its counts, with the "Delete repository" button for those allowed to delete.

import { navigate } from "../../app.js";
import { h, mount, humanSize, timeAgo, copyButton, sourceBadges } from "../../ui.js";
import { fact } from "./common.js";
import { deleteRepository } from "./delete.js";

// Answers {element, draw}; `draw()` redraws from `page.repo`, after a change to the counts or
// the description.
export function repoHeader(page) {
  const element = h("div", { class: "repo-head" });

  async function remove() {
    if (await deleteRepository(page)) navigate(page.listUrl);
  }

  function draw() {
    const repo = page.repo;
    const pull = repo.pull_command || `docker pull ${repo.reference}`;
    mount(
      element,
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, repo.repository),
        repo.permissions.includes("delete")
          ? h("div", { class: "actions" }, h("button", { type: "button", class: "danger-outline", onclick: remove }, "Delete repository"))
          : null,
      ),
      h(
        "p",
        { class: "repo-badges" },
        h("span", { class: "badge badge-registry", title: `Registry ${repo.registry} (${repo.registry_kind})` }, repo.registry),
        h("span", { class: `badge badge-${repo.visibility}`, title: repo.visibility === "private" ? "Private space: only bound workspaces see it" : "Public space" }, repo.visibility === "private" ? "Private" : "Public"),
        sourceBadges(repo.sources),
      ),
      h("div", { class: "pull-line" }, h("code", { class: "pull-command" }, pull), copyButton(pull, "pull command")),
      h(
        "dl",
        { class: "facts" },
        fact("Tags", repo.tag_count.toLocaleString()),
        fact("Pulls", repo.pulls.toLocaleString()),
        fact("Last push", timeAgo(repo.pushed_at, "unknown")),
        fact("Size", humanSize(repo.size), repo.latest_tag ? `of ${repo.latest_tag}` : null),
        fact("Artifacts", repo.artifact_count.toLocaleString()),
        fact("Created", timeAgo(repo.created_at)),
      ),
    );
  }

  draw();
  return { element, draw };
}
