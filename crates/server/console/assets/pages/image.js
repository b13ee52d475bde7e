// The image detail page: one repository's header, description, tags and the artifact view of a
// selected tag. Tags are fetched a page at a time (searched and sorted by the server), so a
// repository with 10,000 tags costs the same as one with ten. The open artifact lives in the
// URL (`&digest=`), so it can be linked and the back button closes it.

import { api, seg, query } from "../api.js";
import { link, navigate } from "../app.js";
import {
  h, mount, humanSize, timeAgo, shortDigest, platformText, copyButton, toast, openDialog,
  loadingState, errorState, emptyState, sourceBadges, scanSummary, useStyles,
} from "../ui.js";

const PAGE_SIZE = 50;
const SEVERITIES = ["critical", "high", "medium", "low", "unknown"];

export default async function image(ctx) {
  useStyles("image");
  const { main, workspace, params, search } = ctx;
  const name = params.repository;
  const registry = params.registry;
  document.title = `${name} · Berth`;
  main.classList.add("image-page");
  if (!workspace) {
    mount(main, emptyState("You are not in a workspace yet", h("p", {}, "Ask a platform admin to add you to a workspace.")));
    return;
  }
  const base = `/workspaces/${seg(workspace)}/registries/${seg(registry)}/repositories/${seg(name)}`;
  const listUrl = link("/images", {}, workspace);

  let repo;
  try {
    repo = await api(base);
  } catch (error) {
    if (!ctx.isCurrent()) return;
    mount(main, error.status === 404 ? missing(listUrl) : errorState(error, () => image(ctx)));
    return;
  }
  if (!ctx.isCurrent()) return;

  // What the URL says: tag search, tag order and the open artifact.
  const state = { q: search.get("q") || "", sort: search.get("sort") === "name" ? "name" : "pushed_at", digest: search.get("digest") || "" };
  const urlFor = () => location.pathname + query({ workspace, q: state.q, sort: state.sort === "name" ? "name" : "", digest: state.digest });

  // `trail` holds the artifacts (an index, a referred-to image) the open one was reached from.
  let trail = [];
  let artifactLoad = null;

  const head = h("div", { class: "repo-head" });
  const description = h("section", { class: "card repo-description", "aria-labelledby": "description-title" });
  const tags = tagSection();
  const artifact = h("section", { id: "artifact", class: "artifact", "aria-labelledby": "artifact-title", hidden: true });
  mount(
    main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: listUrl }, "Images"), h("span", { "aria-hidden": "true" }, " / "), h("span", {}, registry)),
    head,
    h("div", { class: "repo-overview" }, description, vulnerabilities(repo)),
    tags.element,
    artifact,
  );
  drawHead();
  drawDescription();
  // A linked artifact opens once the tags are drawn, so scrolling to it lands in the right place.
  await tags.load();
  if (state.digest && ctx.isCurrent()) await openArtifact(state.digest, { push: false });

  // ---- header ---------------------------------------------------------------------------

  async function refreshRepo() {
    try {
      repo = await api(base);
      if (ctx.isCurrent()) drawHead();
    } catch {
      // The counts stay as they were; the tags table shows its own errors.
    }
  }

  function drawHead() {
    const pull = repo.pull_command || `docker pull ${repo.reference}`;
    mount(
      head,
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, repo.repository),
        repo.permissions.includes("delete")
          ? h("div", { class: "actions" }, h("button", { type: "button", class: "danger-outline", onclick: deleteRepository }, "Delete repository"))
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
        fact("Last push", timeAgo(repo.pushed_at)),
        fact("Size", humanSize(repo.size), repo.latest_tag ? `of ${repo.latest_tag}` : null),
        fact("Artifacts", repo.artifact_count.toLocaleString()),
        fact("Created", timeAgo(repo.created_at)),
      ),
    );
  }

  // ---- description ----------------------------------------------------------------------

  function drawDescription() {
    const canEdit = repo.permissions.includes("edit");
    const body = h("div", { class: "markdown" });
    if (repo.description_html) {
      // The only innerHTML in the console: the server rendered the Markdown and sanitised it
      // (ammonia: no raw HTML, no scripts or styles, links only http, https and mailto).
      body.innerHTML = repo.description_html;
      demoteHeadings(body);
    } else if (repo.description) {
      body.append(h("p", { class: "plain-description" }, repo.description));
    } else {
      body.append(h("p", { class: "muted" }, canEdit ? "No description yet. Say what this image is for, how to run it and who looks after it." : "No description yet."));
    }
    const edit = canEdit ? h("button", { type: "button", id: "edit-description", onclick: editDescription }, "Edit description") : null;
    mount(description, h("div", { class: "section-head" }, h("h2", { id: "description-title" }, "Description"), edit), body);
  }

  function editDescription() {
    const area = h("textarea", { id: "description-input", rows: 12, spellcheck: "true" });
    area.value = repo.description;
    const problem = h("p", { class: "form-error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const cancel = h("button", { type: "button", onclick: () => { drawDescription(); description.querySelector("#edit-description")?.focus(); } }, "Cancel");
    const form = h(
      "form",
      {
        class: "description-form",
        onsubmit: async (event) => {
          event.preventDefault();
          save.disabled = true;
          problem.hidden = true;
          try {
            repo = await api(base, { method: "PATCH", body: { description: area.value } });
            drawDescription();
            drawHead();
            toast("Description saved");
            description.querySelector("#edit-description")?.focus();
          } catch (error) {
            problem.textContent = error.message;
            problem.hidden = false;
            save.disabled = false;
          }
        },
        onkeydown: (event) => {
          if (event.key === "Escape") { event.preventDefault(); cancel.click(); }
        },
      },
      h("label", { for: "description-input" }, "Description"),
      h("p", { class: "muted hint", id: "description-hint" }, "Markdown: headings, lists, links, code and tables. Up to 64 KiB."),
      area,
      problem,
      h("div", { class: "actions" }, save, cancel),
    );
    area.setAttribute("aria-describedby", "description-hint");
    mount(description, h("div", { class: "section-head" }, h("h2", { id: "description-title" }, "Description")), form);
    area.focus();
  }

  // ---- tags -----------------------------------------------------------------------------

  function tagSection() {
    let cursor = "";
    const previous = [];
    let inFlight = null;
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

    function restart(change) {
      Object.assign(state, change);
      cursor = "";
      previous.length = 0;
      // Typing replaces the history entry rather than adding one per keystroke.
      history.replaceState(null, "", urlFor());
      load();
    }

    async function load() {
      if (inFlight) inFlight.abort();
      const controller = new AbortController();
      inFlight = controller;
      body.setAttribute("aria-busy", "true");
      try {
        const answer = await api(`${base}/tags${query({ q: state.q, sort: state.sort, limit: PAGE_SIZE, cursor })}`, { signal: controller.signal });
        if (controller !== inFlight || !ctx.isCurrent()) return;
        draw(answer);
      } catch (error) {
        if (error.name === "AbortError" || controller !== inFlight) return;
        mount(body, errorState(error, load));
        mount(pager);
        status.textContent = "";
      } finally {
        if (controller === inFlight) body.removeAttribute("aria-busy");
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
      const untagged = repo.artifact_count > 0
        ? h("p", {}, `This repository holds ${count(repo.artifact_count, "untagged artifact")}, reachable by digest only.`)
        : null;
      return emptyState(
        "No tags yet",
        h("p", {}, "Push a tag to this repository, for example:"),
        h("pre", {}, `docker tag my-image ${repo.reference}:latest\ndocker push ${repo.reference}:latest`),
        untagged,
        h("p", {}, h("a", { href: listUrl }, "Push an image from the image list"), " shows the login and push commands for every client."),
      );
    }

    function tagTable(items) {
      const canDelete = repo.permissions.includes("delete");
      return h(
        "table",
        { class: "tag-table" },
        h("caption", { class: "offscreen" }, `Tags of ${repo.repository}, ${state.sort === "name" ? "by name" : "newest first"}`),
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
          h("button", { type: "button", class: "link tag-name", "aria-current": selected ? "true" : null, title: `Open ${tag.name}`, onclick: () => openArtifact(tag.digest) }, tag.name),
          kindBadge(tag),
        ),
        h("td", { class: "digest", "data-label": "Digest" }, h("code", { title: tag.digest }, shortDigest(tag.digest)), copyButton(tag.digest, `digest of ${tag.name}`)),
        h("td", { class: "num", "data-label": "Size" }, humanSize(tag.size)),
        h("td", { "data-label": "Platforms" }, platformsText(tag.platforms)),
        h("td", { "data-label": "Pushed" }, timeAgo(tag.pushed_at)),
        h("td", { "data-label": "Pushed by" }, tag.pushed_by || h("span", { class: "muted" }, "—")),
        h("td", { class: "num", "data-label": "Pulls" }, tag.pulls.toLocaleString()),
        canDelete
          ? h("td", { class: "row-actions" }, h("button", { type: "button", class: "link danger-link", "aria-label": `Delete tag ${tag.name}`, onclick: () => deleteTag(tag) }, "Delete"))
          : null,
      );
    }

    async function deleteTag(tag) {
      const confirmed = await confirmDialog(
        `Delete tag ${tag.name}?`,
        [`${repo.repository}:${tag.name} stops resolving. The artifact it points at stays, reachable by its digest and any other tags.`],
        "Delete tag",
      );
      if (!confirmed) return;
      try {
        await api(`${base}/tags/${seg(tag.name)}`, { method: "DELETE" });
        toast(`Deleted tag ${tag.name}`);
        await Promise.all([load(), refreshRepo()]);
        searchInput.focus();
      } catch (error) {
        toast(error.message, "error");
      }
    }

    return { element, load, highlight };

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
  }

  // ---- artifact view --------------------------------------------------------------------

  async function openArtifact(digest, { push = true, focus = true, via = [] } = {}) {
    trail = via;
    state.digest = digest;
    if (push) history.pushState(null, "", urlFor());
    tags.highlight(digest);
    artifact.hidden = false;
    mount(artifact, h("h2", { id: "artifact-title", tabindex: "-1" }, "Artifact ", h("code", {}, shortDigest(digest))), loadingState("Loading the artifact…"));
    if (artifactLoad) artifactLoad.abort();
    const controller = new AbortController();
    artifactLoad = controller;
    try {
      const answer = await api(`${base}/artifacts/${seg(digest)}`, { signal: controller.signal });
      if (controller !== artifactLoad || !ctx.isCurrent()) return;
      drawArtifact(answer);
    } catch (error) {
      if (error.name === "AbortError" || controller !== artifactLoad) return;
      mount(
        artifact,
        h("h2", { id: "artifact-title", tabindex: "-1" }, "Artifact ", h("code", {}, shortDigest(digest))),
        error.status === 404
          ? emptyState("This artifact does not exist", h("p", {}, "It may have been deleted. Pick a tag above."), closeButton())
          : [errorState(error, () => openArtifact(digest, { push: false, via: trail })), h("p", { class: "actions centered" }, closeButton())],
      );
    }
    // Scrolled once drawn: while it only says "Loading" the page may be too short to reach it.
    if (focus) {
      artifact.scrollIntoView({ block: "start" });
      artifact.querySelector("#artifact-title")?.focus({ preventScroll: true });
    }
  }

  function closeArtifact() {
    state.digest = "";
    trail = [];
    history.pushState(null, "", urlFor());
    artifact.hidden = true;
    mount(artifact);
    tags.highlight("");
    main.querySelector("#tag-search")?.focus();
  }

  function closeButton() {
    return h("button", { type: "button", class: "close-artifact", onclick: closeArtifact }, "Close artifact view");
  }

  function drawArtifact(a) {
    const isIndex = a.children.length > 0;
    const parent = trail[trail.length - 1];
    // Named by its tags, else by its platform (a child of an index), else by its digest.
    const title = a.tags.length
      ? a.tags.slice(0, 3).join(", ") + (a.tags.length > 3 ? ` +${a.tags.length - 3}` : "")
      : !isIndex && a.platforms.length ? `${platformText(a.platforms[0])} (untagged)` : `${shortDigest(a.digest)} (untagged)`;
    const canDelete = repo.permissions.includes("delete");
    mount(
      artifact,
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: "artifact-title", tabindex: "-1" }, isIndex ? "Index " : "Artifact ", h("span", { class: "artifact-tags" }, title)),
        h(
          "div",
          { class: "actions" },
          parent
            ? h("button", { type: "button", onclick: () => openArtifact(parent, { via: trail.slice(0, -1) }) }, `Back to ${shortDigest(parent)}`)
            : null,
          canDelete ? h("button", { type: "button", class: "danger-outline", onclick: () => deleteArtifact(a) }, "Delete artifact") : null,
          closeButton(),
        ),
      ),
      parent ? h("p", { class: "muted" }, "Opened from ", h("code", {}, shortDigest(parent)), ".") : null,
      h(
        "dl",
        { class: "facts artifact-facts" },
        fact("Digest", h("span", { class: "digest-full" }, h("code", {}, a.digest), copyButton(a.digest, "artifact digest"))),
        fact("Media type", h("code", {}, a.media_type)),
        a.artifact_type && !IMAGE_CONFIGS.includes(a.artifact_type) ? fact("Artifact type", h("code", {}, a.artifact_type)) : null,
        fact("Size", humanSize(a.size)),
        a.platforms.length ? fact(isIndex ? "Platforms" : "Platform", platformsText(a.platforms, 8)) : null,
        fact("Pushed", timeAgo(a.pushed_at), a.pushed_by ? `by ${a.pushed_by}` : null),
        fact("Pulls", a.pull_count.toLocaleString(), a.pulled_at ? h("span", {}, "last ", timeAgo(a.pulled_at)) : null),
        fact("Tags", tagList(a.tags)),
      ),
      pullCommands(a),
      isIndex ? platformsSection(a) : null,
      configSection(a),
      layersSection(a),
      historySection(a),
      referrersSection(a),
      h("details", { class: "manifest" }, h("summary", {}, "Manifest JSON"), h("pre", {}, JSON.stringify(a.manifest, null, 2))),
    );
  }

  function pullCommands(a) {
    const line = (label, command) => h("div", { class: "pull-line" }, h("span", { class: "pull-label" }, label), h("code", {}, command), copyButton(command, `pull command by ${label.toLowerCase()}`));
    return h(
      "div",
      { class: "pull-commands" },
      a.pull_command.by_tag ? line("Tag", a.pull_command.by_tag) : null,
      line("Digest", a.pull_command.by_digest),
    );
  }

  function platformsSection(a) {
    return subsection(
      "Platforms",
      h(
        "div",
        { class: "scroll" },
        h(
          "table",
          { class: "platforms" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Platform"), h("th", { scope: "col" }, "Digest"), h("th", { scope: "col", class: "num" }, "Manifest size"))),
          h(
            "tbody",
            {},
            a.children.map((child) => {
              const label = platformText(child.platform) || "unknown platform";
              return h(
                "tr",
                {},
                h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Open ${label} (${shortDigest(child.digest)})`, onclick: () => openArtifact(child.digest, { via: [...trail, a.digest] }) }, label)),
                h("td", { class: "digest" }, h("code", { title: child.digest }, shortDigest(child.digest)), copyButton(child.digest, `digest of ${label}`)),
                h("td", { class: "num" }, humanSize(child.size)),
              );
            }),
          ),
        ),
      ),
    );
  }

  function configSection(a) {
    const c = a.config;
    if (!c) {
      return subsection("Configuration", h("p", { class: "muted" }, a.children.length
        ? "An index has no configuration of its own: open one of its platforms."
        : "This artifact has no container image configuration."));
    }
    const list = (values) => (values.length ? h("code", { class: "block" }, values.join(" ")) : none());
    const labels = Object.entries(c.labels || {});
    return subsection(
      "Configuration",
      h(
        "dl",
        { class: "config" },
        fact("Created", c.created ? timeAgo(c.created) : none()),
        fact("Author", c.author || none()),
        fact("Platform", [c.os, c.architecture, c.variant].filter(Boolean).join("/") || none()),
        fact("Working directory", c.working_dir ? h("code", {}, c.working_dir) : none()),
        fact("Entrypoint", list(c.entrypoint)),
        fact("Command", list(c.cmd)),
        fact("Exposed ports", c.exposed_ports.length ? c.exposed_ports.join(", ") : none()),
        fact("Environment", c.env.length ? h("ul", { class: "plain" }, c.env.map((e) => h("li", {}, h("code", {}, e)))) : none()),
        fact("Labels", labels.length
          ? h("ul", { class: "plain" }, labels.map(([key, value]) => h("li", {}, h("code", {}, key), " = ", h("code", {}, typeof value === "string" ? value : JSON.stringify(value)))))
          : none()),
      ),
    );
  }

  function layersSection(a) {
    if (!a.layers.length) {
      return subsection("Layers", h("p", { class: "muted" }, a.children.length ? "An index has no layers of its own: open one of its platforms." : "This artifact has no layers."));
    }
    const total = a.layers.reduce((sum, layer) => sum + layer.size, 0);
    return subsection(
      "Layers",
      h("p", { class: "muted" }, `${count(a.layers.length, "layer")}, ${humanSize(total)} compressed.`),
      h(
        "div",
        { class: "scroll" },
        h(
          "table",
          { class: "layers" },
          h("thead", {}, h("tr", {}, ["#", "Digest", "Media type", "Size", "Created by"].map((label) => h("th", { scope: "col", class: label === "Size" ? "num" : null }, label)))),
          h(
            "tbody",
            {},
            a.layers.map((layer, i) =>
              h(
                "tr",
                {},
                h("td", { class: "num index" }, `${i + 1}`),
                h("td", { class: "digest" }, h("code", { title: layer.digest }, shortDigest(layer.digest)), copyButton(layer.digest, `digest of layer ${i + 1}`)),
                h("td", { class: "media-type" }, h("code", {}, layer.media_type)),
                h("td", { class: "num size" }, humanSize(layer.size)),
                h("td", { class: "created" }, layer.created_by ? h("code", { class: "created-by" }, layer.created_by) : h("span", { class: "muted" }, "no history line")),
              )),
          ),
        ),
      ),
    );
  }

  function historySection(a) {
    if (!a.history.length) return subsection("History", h("p", { class: "muted" }, "No build history recorded."));
    return subsection(
      "History",
      h(
        "ol",
        { class: "history" },
        a.history.map((entry) =>
          h(
            "li",
            { class: entry.empty_layer ? "empty-layer" : null },
            h(
              "div",
              { class: "history-meta" },
              entry.created ? timeAgo(entry.created) : null,
              entry.author ? h("span", {}, entry.author) : null,
              entry.empty_layer ? h("span", { class: "badge badge-empty", title: "This step changed only the configuration" }, "empty layer") : null,
            ),
            entry.created_by ? h("code", { class: "history-line" }, entry.created_by) : h("span", { class: "muted" }, "no command recorded"),
            entry.comment ? h("p", { class: "muted comment" }, entry.comment) : null,
          )),
      ),
    );
  }

  function referrersSection(a) {
    if (!a.referrers.length) {
      return subsection("Referrers", h("p", { class: "muted" }, "Nothing refers to this artifact. Signatures, SBOMs and attestations pushed for it show up here."));
    }
    return subsection(
      "Referrers",
      h(
        "div",
        { class: "scroll" },
        h(
          "table",
          { class: "referrers" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Artifact type"), h("th", { scope: "col" }, "Digest"), h("th", { scope: "col", class: "num" }, "Size"))),
          h(
            "tbody",
            {},
            a.referrers.map((r) =>
              h(
                "tr",
                {},
                h("td", {}, h("code", {}, r.artifact_type || r.media_type)),
                h("td", { class: "digest" }, h("button", { type: "button", class: "link mono", title: r.digest, "aria-label": `Open referrer ${shortDigest(r.digest)}`, onclick: () => openArtifact(r.digest, { via: [...trail, a.digest] }) }, shortDigest(r.digest)), copyButton(r.digest, `digest of referrer ${shortDigest(r.digest)}`)),
                h("td", { class: "num" }, humanSize(r.size)),
              )),
          ),
        ),
      ),
    );
  }

  async function deleteArtifact(a) {
    const tagText = a.tags.length ? `Its tags go with it: ${a.tags.join(", ")}.` : "It has no tags.";
    const confirmed = await confirmDialog(
      `Delete artifact ${shortDigest(a.digest)}?`,
      [`${repo.repository}@${a.digest} is deleted. ${tagText}`, "Anything that pulls it by digest stops working."],
      "Delete artifact",
    );
    if (!confirmed) return;
    try {
      await api(`${base}/artifacts/${seg(a.digest)}`, { method: "DELETE" });
      toast(`Deleted artifact ${shortDigest(a.digest)}`);
      closeArtifact();
      await Promise.all([tags.load(), refreshRepo()]);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  // ---- repository delete ----------------------------------------------------------------

  async function deleteRepository() {
    const deleted = await withFocusReturn(() => openDialog("Delete repository", (close) => {
      const expected = repo.repository;
      const problem = h("p", { class: "form-error", role: "alert", hidden: true });
      const input = h("input", {
        id: "confirm-repository",
        autocomplete: "off",
        spellcheck: "false",
        oninput: () => { submit.disabled = input.value !== expected; },
      });
      const submit = h("button", { type: "submit", class: "danger", disabled: true }, "Delete");
      const form = h(
        "form",
        {
          class: "confirm-form",
          onsubmit: async (event) => {
            event.preventDefault();
            if (input.value !== expected) return;
            submit.disabled = true;
            problem.hidden = true;
            try {
              await api(`${base}${query({ confirm: expected })}`, { method: "DELETE" });
              close(true);
            } catch (error) {
              problem.textContent = error.message;
              problem.hidden = false;
              submit.disabled = false;
            }
          },
        },
        h("p", {}, "This deletes ", h("strong", {}, expected), ` with ${count(repo.tag_count, "tag")} and ${count(repo.artifact_count, "artifact")}. It cannot be undone.`),
        h("label", { for: "confirm-repository" }, `Type ${expected} to confirm`),
        input,
        problem,
        h("div", { class: "actions" }, submit, h("button", { type: "button", onclick: () => close(false) }, "Cancel")),
      );
      queueMicrotask(() => input.focus());
      return form;
    }));
    if (deleted) {
      toast(`Deleted ${repo.repository}`);
      navigate(listUrl);
    }
  }
}

// ---- helpers shared by the sections -----------------------------------------------------

function missing(listUrl) {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("h1", {}, "Image not found"),
    h("p", {}, "This image does not exist or this workspace cannot see it."),
    h("p", {}, h("a", { href: listUrl }, "Back to the image list")),
  );
}

function fact(label, value, note) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value, note ? h("span", { class: "fact-note" }, " ", note) : null));
}

// The description sits under the page's h1 and the "Description" h2, so its own headings move
// down two levels (`# Title` becomes an h3): one h1 per page, and an outline that makes sense.
function demoteHeadings(root) {
  for (const heading of root.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Math.min(Number(heading.tagName[1]) + 2, 6);
    const replacement = document.createElement(`h${level}`);
    replacement.className = `md-h${heading.tagName[1]}`;
    replacement.append(...heading.childNodes);
    heading.replaceWith(replacement);
  }
}

// An artifact's tags: the first dozen, the rest behind a disclosure (an image can carry hundreds).
function tagList(tags) {
  if (!tags.length) return h("span", { class: "muted" }, "none");
  const shown = 12;
  if (tags.length <= shown) return h("span", { class: "tag-list" }, tags.join(", "));
  return h(
    "span",
    { class: "tag-list" },
    tags.slice(0, shown).join(", "),
    h("details", { class: "more-tags" }, h("summary", {}, `and ${tags.length - shown} more`), tags.slice(shown).join(", ")),
  );
}

function count(n, noun) {
  return `${n.toLocaleString()} ${noun}${n === 1 ? "" : "s"}`;
}

function none() {
  return h("span", { class: "muted" }, "—");
}

function subsection(title, ...body) {
  const id = `artifact-${title.toLowerCase()}`;
  return h("section", { class: "artifact-part", "aria-labelledby": id }, h("h3", { id }, title), ...body);
}

function platformsText(platforms, shown = 3) {
  if (!platforms || !platforms.length) return h("span", { class: "muted" }, "—");
  const names = platforms.map(platformText).filter(Boolean);
  const text = names.slice(0, shown).join(", ");
  return names.length > shown ? h("span", { title: names.join(", ") }, `${text} +${names.length - shown}`) : text;
}

// A badge for what is not a plain container image: a multi-platform index, or an artifact
// (the short names people meet most; the media type shows on hover).
const IMAGE_CONFIGS = ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];
function kindBadge(tag) {
  if (/index|manifest\.list/.test(tag.media_type)) {
    return h("span", { class: "badge badge-type", title: tag.media_type }, "multi-platform");
  }
  const type = tag.artifact_type;
  if (!type || IMAGE_CONFIGS.includes(type)) return null;
  let kind = "artifact";
  if (type.includes("helm")) kind = "Helm chart";
  else if (/sbom|spdx|cyclonedx/.test(type)) kind = "SBOM";
  else if (/signature|cosign|notary|sigstore/.test(type)) kind = "signature";
  return h("span", { class: "badge badge-type", title: type }, kind);
}

// The scan area. Scans do not exist yet: the space shows "not scanned" and an empty
// distribution so the layout does not move when they arrive.
function vulnerabilities(repo) {
  const counts = repo.scan?.summary || null;
  return h(
    "section",
    { class: "card repo-scan", "aria-labelledby": "scan-title" },
    h("h2", { id: "scan-title" }, "Vulnerabilities"),
    h("div", { class: "scan-summary" }, scanSummary(repo.scan), counts ? null : h("span", { class: "scan-bar scan-bar-empty", "aria-hidden": "true" })),
    h(
      "ul",
      { class: "severity-legend", "aria-label": "Vulnerabilities by severity" },
      SEVERITIES.map((s) => h("li", {}, h("span", { class: `swatch sev-${s}`, "aria-hidden": "true" }), h("span", { class: "sev-name" }, s), h("span", { class: "sev-count" }, counts ? `${counts[s] || 0}` : "—"))),
    ),
    h("p", { class: "muted hint" }, counts
      ? `Scanned ${repo.scan.scanned_at ? new Date(repo.scan.scanned_at).toLocaleString() : ""}`.trim()
      : "Not scanned yet. Once scanning is enabled, the latest tag's findings by severity show here."),
  );
}

// Dialogs give the focus back to the control that opened them, when it still exists.
async function withFocusReturn(open) {
  const opener = document.activeElement;
  const result = await open();
  if (opener && opener.isConnected) opener.focus();
  return result;
}

async function confirmDialog(title, lines, action) {
  return withFocusReturn(() => openDialog(title, (close) => {
    const button = h("button", { type: "button", class: "danger", onclick: () => close(true) }, action);
    queueMicrotask(() => button.focus());
    return h(
      "div",
      { class: "confirm-form" },
      lines.map((line) => h("p", {}, line)),
      h("div", { class: "actions" }, button, h("button", { type: "button", onclick: () => close(false) }, "Cancel")),
    );
  }));
}
