// The upload dialog: a `docker save` or OCI layout tarball, dropped or chosen, streamed to the
// upload endpoint. XMLHttpRequest rather than fetch, because only it reports how many bytes
// of a request body have been sent, which is what the progress bar shows.

import { seg, query, session, errorFromAnswer } from "../api.js";
import { imageHref, navigate } from "../app.js";
import { h, mount, copyButton, openDialog, loadingState, errorState, humanSize, shortDigest, useStyles } from "../ui.js";
import { hostedSpaces, noSpaces, spaceField } from "./push.js";

// The API refuses bodies over 2 GiB (413); checking first saves sending them.
const MAX_BYTES = 2 * 1024 ** 3;

export default async function upload(ctx) {
  useStyles("dialogs");
  const state = { xhr: null, uploaded: false };
  const how = await openDialog("Upload a tarball", (close) => uploadBody(ctx, close, state), { wide: true });
  // Closing the dialog mid-upload stops it; the server stores nothing of a cut-off tarball.
  if (state.xhr) state.xhr.abort();
  // The page behind shows the new image once the dialog closes, unless the user followed the
  // link to it.
  if (state.uploaded && how !== "opened") navigate(location.pathname + location.search, { replace: true });
}

function uploadBody(ctx, close, state) {
  const { workspace } = ctx;
  const root = h("div", { class: "upload" }, loadingState("Loading the workspace's spaces…"));
  const load = async () => {
    mount(root, loadingState("Loading the workspace's spaces…"));
    try {
      const names = await hostedSpaces(workspace);
      if (names.length === 0) mount(root, noSpaces(workspace));
      else form(ctx, root, names, close, state);
    } catch (error) {
      mount(root, errorState(error, load));
    }
  };
  if (workspace) load();
  else mount(root, errorState(new Error("Join a workspace first: a platform admin adds you to one.")));
  return root;
}

function form(ctx, root, names, close, state) {
  const { workspace } = ctx;
  let file = null;

  const input = h("input", {
    type: "file",
    id: "upload-file",
    name: "tarball",
    accept: ".tar,.tar.gz,.tgz,application/x-tar,application/gzip",
    "aria-describedby": "upload-file-hint",
    onchange: () => choose(input.files[0] || null),
  });
  const chosen = h("span", { class: "drop-chosen" }, "No file chosen");
  const zone = h(
    "div",
    { class: "dropzone", ondragenter: over, ondragover: over, ondragleave: leave, ondrop: drop },
    input,
    h("span", { class: "drop-text", "aria-hidden": "true" }, "Drop a tarball here, or click to choose one"),
    chosen,
  );
  const [spaceBlock, space] = spaceField("upload-space", names);
  const repository = h("input", { id: "upload-repository", name: "repository", autocomplete: "off", spellcheck: "false", placeholder: "from the tarball", "aria-describedby": "upload-repository-hint" });
  const tag = h("input", { id: "upload-tag", name: "tag", autocomplete: "off", spellcheck: "false", placeholder: "from the tarball" });
  const submit = h("button", { type: "submit", class: "primary" }, "Upload");
  const cancel = h("button", { type: "button", hidden: true, onclick: () => state.xhr && state.xhr.abort() }, "Cancel upload");
  const progress = h("progress", { id: "upload-progress", "aria-label": "Upload progress", max: 1, value: 0 });
  const bytes = h("span", { class: "progress-bytes" });
  const progressBox = h("div", { class: "progress-box", hidden: true }, progress, bytes);
  const status = h("p", { class: "upload-status", role: "status" });
  const alert = h("div", { class: "dialog-alert", role: "alert" });
  const result = h("div", { class: "upload-result" });
  const fields = [input, space, repository, tag];

  mount(
    root,
    h(
      "form",
      { class: "upload-form", novalidate: true, onsubmit: (event) => { event.preventDefault(); start(); } },
      h("label", { for: "upload-file", class: "field-label" }, "Tarball"),
      zone,
      h(
        "p",
        { id: "upload-file-hint", class: "hint" },
        "Output of docker save (or podman save), or an OCI image layout, as .tar or .tar.gz, up to 2 GiB. Nothing is stored unless all of it checks out.",
      ),
      h(
        "div",
        { class: "upload-fields" },
        spaceBlock,
        h(
          "div",
          { class: "field grow" },
          h("label", { for: "upload-repository" }, "Repository"),
          repository,
          h("span", { id: "upload-repository-hint", class: "hint" }, "Optional: path inside the space, e.g. app. Default: the name in the tarball."),
        ),
        h("div", { class: "field" }, h("label", { for: "upload-tag" }, "Tag"), tag, h("span", { class: "hint" }, "Optional; else latest.")),
      ),
      h("div", { class: "actions" }, submit, cancel),
      progressBox,
      status,
      alert,
      result,
    ),
  );

  // A file dragged anywhere over the dialog must not make the browser open it instead.
  root.addEventListener("dragover", (event) => event.preventDefault());
  root.addEventListener("drop", (event) => event.preventDefault());

  function over(event) {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    zone.classList.add("dragging");
  }
  function leave(event) {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  }
  function drop(event) {
    event.preventDefault();
    zone.classList.remove("dragging");
    const files = event.dataTransfer?.files;
    if (!files || files.length === 0) return;
    // Keeps the input in step with the drop, so the form reads the same either way.
    input.files = files;
    choose(files[0]);
  }

  function choose(next) {
    file = next;
    mount(alert);
    chosen.textContent = file ? `${file.name} · ${humanSize(file.size)}` : "No file chosen";
    zone.classList.toggle("has-file", Boolean(file));
    if (file && file.size > MAX_BYTES) problem(tooBig(file));
  }

  function tooBig(f) {
    return `${f.name} is ${humanSize(f.size)}; uploads take at most 2 GiB. Push a larger image with a registry client instead (Push an image shows the lines).`;
  }

  function problem(message) {
    mount(alert, h("p", {}, message));
    alert.scrollIntoView({ block: "nearest" });
  }

  function busy(on) {
    for (const field of fields) field.disabled = on;
    submit.disabled = on;
    cancel.hidden = !on;
    zone.classList.toggle("disabled", on);
  }

  function start() {
    mount(alert);
    mount(result);
    if (!file) return problem("Choose a tarball first: drop it on the box above, or click the box to pick one.");
    if (file.size > MAX_BYTES) return problem(tooBig(file));
    const params = { repository: repository.value.trim(), tag: tag.value.trim() };
    const url = `/api/v1/workspaces/${seg(workspace)}/registries/hosted/spaces/${seg(space.value)}/uploads${query(params)}`;
    const xhr = new XMLHttpRequest();
    state.xhr = xhr;
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", file.type || "application/x-tar");
    if (session.token) xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    const total = file.size;
    const sent = (loaded) => {
      progress.max = total || 1;
      progress.value = loaded;
      const percent = total ? Math.floor((loaded / total) * 100) : 100;
      bytes.textContent = `${humanSize(loaded)} of ${humanSize(total)} (${percent}%)`;
    };
    xhr.upload.addEventListener("progress", (event) => sent(event.loaded));
    // Every byte is out; the server now checks the tarball and stores its blobs.
    xhr.upload.addEventListener("load", () => {
      sent(total);
      status.textContent = "Importing… Berth is checking the tarball.";
    });
    xhr.addEventListener("load", () => finish(xhr));
    xhr.addEventListener("error", () => failed("The upload was interrupted: Berth could not be reached. Check your connection and try again."));
    xhr.addEventListener("abort", () => failed("Upload cancelled. Nothing of it was stored."));
    busy(true);
    progressBox.hidden = false;
    sent(0);
    status.textContent = `Uploading ${file.name}…`;
    xhr.send(file);
  }

  function failed(message) {
    state.xhr = null;
    busy(false);
    status.textContent = "";
    problem(message);
  }

  function finish(xhr) {
    state.xhr = null;
    busy(false);
    if (xhr.status === 201) {
      let answer = null;
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        // A 201 that is not JSON (a proxy's page, say) is reported below like any failure.
      }
      if (answer) return done(answer);
    }
    status.textContent = "";
    const { message } = errorFromAnswer(xhr.status, xhr.responseText);
    if (xhr.status === 400) problem(`The tarball was refused: ${message}`);
    else if (xhr.status === 413) problem(`The tarball is too large: ${message}`);
    else if (xhr.status === 401) problem("Your session has ended. Sign in again in another tab, then upload again.");
    else problem(message);
  }

  function done(answer) {
    state.uploaded = true;
    queueMicrotask(() => result.scrollIntoView({ block: "nearest" }));
    status.textContent = `Uploaded ${answer.repository}:${answer.tag}.`;
    const href = imageHref(workspace, "hosted", answer.repository);
    mount(
      result,
      h("h3", {}, "Uploaded"),
      h(
        "p",
        { class: "reference-line" },
        h("code", { class: "uploaded-reference" }, answer.reference),
        copyButton(answer.reference, "uploaded reference"),
      ),
      h("p", { class: "muted" }, `Digest ${shortDigest(answer.digest)} · ${humanSize(answer.size)}`),
      h("p", {}, h("a", { href, onclick: () => close("opened") }, `Open ${answer.repository}`)),
    );
  }
}
