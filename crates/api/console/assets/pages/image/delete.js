// The three deletions of the image page, each behind a confirmation that says what goes and what
// stays. The request runs inside the dialog, so a refusal shows its message there. Each answers
// whether the thing was deleted; the caller then redraws what changed.

import { api, seg, query } from "../../api.js";
import { h, shortDigest, confirmDialog } from "../../ui.js";
import { count } from "./common.js";

// The repository with every tag and artifact: the name must be typed, as there is no undo.
export function deleteRepository(page) {
  const { repository, tag_count: tags, artifact_count: artifacts } = page.repo;
  return withFocusReturn(() => confirmDialog({
    title: "Delete repository",
    message: [h("p", {}, "This deletes ", h("strong", {}, repository), ` with ${count(tags, "tag")} and ${count(artifacts, "artifact")}. It cannot be undone.`)],
    typed: repository,
    confirmLabel: "Delete",
    action: () => api(`${page.base}${query({ confirm: repository })}`, { method: "DELETE" }),
    success: `Deleted ${repository}`,
  }));
}

export function deleteTag(page, tag) {
  return withFocusReturn(() => confirmDialog({
    title: `Delete tag ${tag.name}?`,
    message: `${page.repo.repository}:${tag.name} stops resolving. The artifact it points at stays, reachable by its digest and any other tags.`,
    confirmLabel: "Delete tag",
    action: () => api(`${page.base}/tags/${seg(tag.name)}`, { method: "DELETE" }),
    success: `Deleted tag ${tag.name}`,
  }));
}

export function deleteArtifact(page, artifact) {
  const tagText = artifact.tags.length ? `Its tags go with it: ${artifact.tags.join(", ")}.` : "It has no tags.";
  return withFocusReturn(() => confirmDialog({
    title: `Delete artifact ${shortDigest(artifact.digest)}?`,
    message: [
      h("p", {}, `${page.repo.repository}@${artifact.digest} is deleted. ${tagText}`),
      h("p", {}, "Anything that pulls it by digest stops working."),
    ],
    confirmLabel: "Delete artifact",
    action: () => api(`${page.base}/artifacts/${seg(artifact.digest)}`, { method: "DELETE" }),
    success: `Deleted artifact ${shortDigest(artifact.digest)}`,
  }));
}

// Dialogs give the focus back to the control that opened them, when it still exists. The
// answer is true only for a deletion: Cancel gives false, Escape and the close button nothing.
async function withFocusReturn(open) {
  const opener = document.activeElement;
  const result = await open();
  if (opener && opener.isConnected) opener.focus();
  return Boolean(result);
}
