// The artifact view: one digest's facts, pull commands and parts (see artifact-parts.js), below
// the tags table. The open digest lives in the URL (`&digest=`), so the view can be linked and
// the back button closes it. From an index or a referrer the user can walk on to another
// artifact; the view keeps that trail so it can offer the way back.

import { api, seg, latestRequest } from "../../api.js";
import { h, mount, humanSize, timeAgo, shortDigest, platformText, copyButton, loadingState, errorState, emptyState } from "../../ui.js";
import { fact, platformsText, IMAGE_CONFIGS } from "./common.js";
import { pullCommands, platformsSection, configSection, layersSection, historySection, referrersSection, tagList } from "./artifact-parts.js";
import { deleteArtifact } from "./delete.js";
import { vulnerabilitiesSection } from "./vulnerabilities.js";

// Answers {element, open}. `highlight(digest)` marks the open artifact's row in the tags table
// ("" for none); `deleted()` refreshes what showed the deleted artifact.
export function artifactView(page, { highlight, deleted }) {
  const { state } = page;
  const element = h("section", { id: "artifact", class: "artifact", "aria-labelledby": "artifact-title", hidden: true });
  // The artifacts (an index, a referred-to image) the open one was reached from.
  let trail = [];
  // Clicking from tag to tag quickly starts several loads; only the newest may draw.
  const requests = latestRequest();

  async function open(digest, { push = true, focus = true, via = [] } = {}) {
    trail = via;
    state.digest = digest;
    if (push) history.pushState(null, "", page.urlFor());
    highlight(digest);
    element.hidden = false;
    mount(element, heading(digest), loadingState("Loading the artifact…"));
    const signal = requests.next();
    try {
      const answer = await api(`${page.base}/artifacts/${seg(digest)}`, { signal });
      if (!requests.isLatest(signal) || !page.ctx.isCurrent()) return;
      draw(answer);
    } catch (error) {
      if (error.name === "AbortError" || !requests.isLatest(signal)) return;
      mount(
        element,
        heading(digest),
        error.status === 404
          ? emptyState("This artifact does not exist", h("p", {}, "It may have been deleted. Pick a tag above."), closeButton())
          : [errorState(error, () => open(digest, { push: false, via: trail })), h("p", { class: "actions centered" }, closeButton())],
      );
    }
    // Scrolled once drawn: while it only says "Loading" the page may be too short to reach it.
    if (focus) {
      element.scrollIntoView({ block: "start" });
      element.querySelector("#artifact-title")?.focus({ preventScroll: true });
    }
  }

  function close() {
    state.digest = "";
    trail = [];
    history.pushState(null, "", page.urlFor());
    element.hidden = true;
    mount(element);
    highlight("");
    page.ctx.main.querySelector("#tag-search")?.focus();
  }

  // The heading while the artifact loads or failed to: all that is known is its digest.
  function heading(digest) {
    return h("h2", { id: "artifact-title", tabindex: "-1" }, "Artifact ", h("code", {}, shortDigest(digest)));
  }

  function closeButton() {
    return h("button", { type: "button", class: "close-artifact", onclick: close }, "Close artifact view");
  }

  async function remove(a) {
    if (!(await deleteArtifact(page, a))) return;
    close();
    await deleted();
  }

  function draw(a) {
    const isIndex = a.children.length > 0;
    const parent = trail[trail.length - 1];
    // Opening a platform or a referrer from here adds this artifact to the trail.
    const openFromHere = (digest) => open(digest, { via: [...trail, a.digest] });
    // Named by its tags, else by its platform (a child of an index), else by its digest.
    const title = a.tags.length
      ? a.tags.slice(0, 3).join(", ") + (a.tags.length > 3 ? ` +${a.tags.length - 3}` : "")
      : !isIndex && a.platforms.length ? `${platformText(a.platforms[0])} (untagged)` : `${shortDigest(a.digest)} (untagged)`;
    const canDelete = page.repo.permissions.includes("delete");
    mount(
      element,
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: "artifact-title", tabindex: "-1" }, isIndex ? "Index " : "Artifact ", h("span", { class: "artifact-tags" }, title)),
        h(
          "div",
          { class: "actions" },
          parent
            ? h("button", { type: "button", onclick: () => open(parent, { via: trail.slice(0, -1) }) }, `Back to ${shortDigest(parent)}`)
            : null,
          canDelete ? h("button", { type: "button", class: "danger-outline", onclick: () => remove(a) }, "Delete artifact") : null,
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
        fact("Pushed", timeAgo(a.pushed_at, "unknown"), a.pushed_by ? `by ${a.pushed_by}` : null),
        fact("Pulls", a.pull_count.toLocaleString(), a.pulled_at ? h("span", {}, "last ", timeAgo(a.pulled_at)) : null),
        fact("Tags", tagList(a.tags)),
      ),
      pullCommands(a),
      vulnerabilitiesSection(page, a),
      isIndex ? platformsSection(a, openFromHere) : null,
      configSection(a),
      layersSection(a),
      historySection(a),
      referrersSection(a, openFromHere),
      h("details", { class: "manifest" }, h("summary", {}, "Manifest JSON"), h("pre", {}, JSON.stringify(a.manifest, null, 2))),
    );
  }

  return { element, open };
}
