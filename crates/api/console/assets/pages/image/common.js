// Small pieces more than one section of the image page draws: a labelled fact, a counted noun,
// a short list of platforms and the badge that tells an index or an artifact from an image.

import { h, platformText } from "../../ui.js";

// One label and value of a facts list (`<dl class="facts">`), with an optional quieter note.
export function fact(label, value, note) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value, note ? h("span", { class: "fact-note" }, " ", note) : null));
}

export function count(n, noun) {
  return `${n.toLocaleString()} ${noun}${n === 1 ? "" : "s"}`;
}

// A few platforms by name; the rest are counted, and all of them show on hover.
export function platformsText(platforms, shown = 3) {
  if (!platforms || !platforms.length) return h("span", { class: "muted" }, "—");
  const names = platforms.map(platformText).filter(Boolean);
  const text = names.slice(0, shown).join(", ");
  return names.length > shown ? h("span", { title: names.join(", ") }, `${text} +${names.length - shown}`) : text;
}

// The config media types of container images. Any other artifact type is worth a badge.
export const IMAGE_CONFIGS = ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];

// A badge for what is not a plain container image: a multi-platform index, or an artifact
// (the short names people meet most; the media type shows on hover).
export function kindBadge(tag) {
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
