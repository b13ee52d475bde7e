// The parts of the artifact view, each drawn from the artifact answer alone: pull commands,
// an index's platforms, the image configuration, its layers and build history, and what refers
// to it. Each part says so when the artifact has none of it, rather than leaving a gap.

import { h, humanSize, timeAgo, shortDigest, platformText, copyButton } from "../../ui.js";
import { count, fact } from "./common.js";

export function pullCommands(a) {
  const line = (label, command) => h("div", { class: "pull-line" }, h("span", { class: "pull-label" }, label), h("code", {}, command), copyButton(command, `pull command by ${label.toLowerCase()}`));
  return h(
    "div",
    { class: "pull-commands" },
    a.pull_command.by_tag ? line("Tag", a.pull_command.by_tag) : null,
    line("Digest", a.pull_command.by_digest),
  );
}

// An index's images, one per platform. `open(digest)` opens one in the artifact view.
export function platformsSection(a, open) {
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
              h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Open ${label} (${shortDigest(child.digest)})`, onclick: () => open(child.digest) }, label)),
              h("td", { class: "digest" }, h("code", { title: child.digest }, shortDigest(child.digest)), copyButton(child.digest, `digest of ${label}`)),
              h("td", { class: "num" }, humanSize(child.size)),
            );
          }),
        ),
      ),
    ),
  );
}

export function configSection(a) {
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

// One row per layer, with the history line that created it: what people look for when an
// image is larger than they expected.
export function layersSection(a) {
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

// Every build step, the ones that made no layer (ENV, WORKDIR…) included and marked.
export function historySection(a) {
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

// Signatures, SBOMs and attestations pushed for this artifact. `open(digest)` opens one.
export function referrersSection(a, open) {
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
              h("td", { class: "digest" }, h("button", { type: "button", class: "link mono", title: r.digest, "aria-label": `Open referrer ${shortDigest(r.digest)}`, onclick: () => open(r.digest) }, shortDigest(r.digest)), copyButton(r.digest, `digest of referrer ${shortDigest(r.digest)}`)),
              h("td", { class: "num" }, humanSize(r.size)),
            )),
        ),
      ),
    ),
  );
}

// An artifact's tags: the first dozen, the rest behind a disclosure (an image can carry hundreds).
export function tagList(tags) {
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

// A titled part of the view; its h3 names the section for screen readers (`artifact-layers`…).
function subsection(title, ...body) {
  const id = `artifact-${title.toLowerCase()}`;
  return h("section", { class: "artifact-part", "aria-labelledby": id }, h("h3", { id }, title), ...body);
}

function none() {
  return h("span", { class: "muted" }, "—");
}
