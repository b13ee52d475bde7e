// The image detail page: one repository's header, description, tags and the artifact view of a
// selected tag. This module loads the repository, lays the page out and wires the sections
// together; each section is a module under ./image/:
//   header.js          name, badges, pull command, counts and "Delete repository"
//   description.js     the Markdown description and its editor
//   scan.js            the vulnerability card beside the description
//   tags.js            the tags table: search, order, pages and "Delete" per tag
//   artifact.js        the view of one digest, with artifact-parts.js drawing its parts and
//                      vulnerabilities.js its scan, report and scan log
//   delete.js          the confirmations before deleting a repository, a tag or an artifact
//   common.js          small pieces several sections draw (facts, counts, platforms, badges)
// A section gets the `page` object below and, for what another section must do, callbacks.

import { api, seg, query } from "../api.js";
import { link, navigate } from "../app.js";
import { h, mount, errorState, useStyles, toast, noWorkspaceState } from "../ui.js";
import { repoHeader } from "./image/header.js";
import { descriptionSection } from "./image/description.js";
import { scanCard } from "./image/scan.js";
import { tagSection } from "./image/tags.js";
import { artifactView } from "./image/artifact.js";

export default async function image(ctx) {
  useStyles("image");
  const { main, workspace, params, search } = ctx;
  const registry = params.registry;
  document.title = `${params.repository} · Berth`;
  main.classList.add("image-page");
  if (!workspace) {
    mount(main, noWorkspaceState(ctx.me));
    return;
  }
  const base = `/workspaces/${seg(workspace)}/registries/${seg(registry)}/repositories/${seg(params.repository)}`;
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

  // What every section shares. `repo` is the latest repository answer: a section that changes
  // it (the description) stores the new one here, and the others read it when they draw.
  // `state` is what the URL says: the tag search, the tag order and the open artifact.
  const state = { q: search.get("q") || "", sort: search.get("sort") === "name" ? "name" : "pushed_at", digest: search.get("digest") || "" };
  const page = {
    ctx,
    base,
    listUrl,
    repo,
    state,
    urlFor: () => location.pathname + query({ workspace, q: state.q, sort: state.sort === "name" ? "name" : "", digest: state.digest }),
    refreshRepo,
  };

  const header = repoHeader(page);
  const description = descriptionSection(page, { saved: () => header.draw() });
  const tags = tagSection(page, { open: (digest) => artifact.open(digest) });
  const artifact = artifactView(page, {
    highlight: (digest) => tags.highlight(digest),
    deleted: () => Promise.all([tags.load(), refreshRepo()]),
  });
  mount(
    main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: listUrl }, "Images"), h("span", { "aria-hidden": "true" }, " / "), h("span", {}, registry)),
    header.element,
    h("div", { class: "repo-overview" }, description.element, scanCard(repo)),
    tags.element,
    artifact.element,
  );
  // A linked artifact opens once the tags are drawn, so scrolling to it lands in the right place.
  await tags.load();
  if (state.digest && ctx.isCurrent()) await artifact.open(state.digest, { push: false });

  // After a deletion the header's counts are stale. Deleting the last artifact deletes the
  // repository too (the registry keeps no empty repositories), so a 404 here goes back to the
  // list. Any other failure keeps the counts: the tags table shows its own errors.
  async function refreshRepo() {
    try {
      page.repo = await api(base);
      if (ctx.isCurrent()) header.draw();
    } catch (error) {
      if (error.status === 404 && ctx.isCurrent()) {
        toast(`${page.repo.repository} has no images left`);
        navigate(listUrl, { replace: true });
      }
    }
  }
}

function missing(listUrl) {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("h1", {}, "Image not found"),
    h("p", {}, "This image does not exist or this workspace cannot see it."),
    h("p", {}, h("a", { href: listUrl }, "Back to the image list")),
  );
}
