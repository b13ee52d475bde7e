// The upload dialog: a tarball chosen through the "Tarball" file input is stored with the
// space, repository and tag picked in the dialog, and the pull reference shows; a file that
// is not an image tarball gets a clear error.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before } from "node:test";
import { repositoryPath, setupTenancy, startBerth } from "../lib/berth.js";
import { controlNames, eventually, expectBuilt, flow, launch, newContext, screenshots, selectContaining, signIn } from "../lib/browser.js";
import { writeOciArchive } from "../lib/image.js";
import { inspect } from "../lib/skopeo.js";

const WS = "team-upload";
const SPACE = "uploads";
const REPO = "web/frontend";
const TAG = "3.0";
const UMA = { username: "uma", password: "uma-password-1" };

let berth;
let browser;
let context;
let page;
let dialog;
let image;
const step = flow("upload", () => page);

before(async () => {
  berth = await startBerth("upload");
  await setupTenancy(berth, { workspace: WS, space: SPACE, users: [{ ...UMA, role: "editor" }] });
  image = writeOciArchive(join(berth.work, "frontend.tar"), { name: "frontend", tag: TAG });
  browser = await launch();
  context = await newContext(browser, berth);
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

async function openDialog() {
  await page.getByRole("button", { name: "Upload a tarball", exact: true }).first().click();
  dialog = page.getByRole("dialog", { name: "Upload a tarball" });
  await dialog.waitFor();
  await expectBuilt(page, "the upload dialog");
  await selectContaining(dialog.getByRole("combobox", { name: "Space", exact: true }), SPACE);
}

step("the upload dialog opens from the list with named controls", async () => {
  await signIn(page, UMA.username, UMA.password);
  await openDialog();
  await dialog.getByLabel("Tarball", { exact: true }).waitFor({ state: "attached" });
  await dialog.getByRole("progressbar", { name: "Upload progress" }).or(dialog.locator('progress[aria-label="Upload progress"]')).waitFor({ state: "attached" });
  const unnamed = (await controlNames(page, "dialog")).filter((c) => !c.name);
  assert.deepEqual(unnamed, [], "every control of the dialog has an accessible name");
});

step("upload dialog screenshots at 1280 and 390 px", async () => {
  await screenshots(page, "upload");
});

step("a file that is not a tarball gets a clear error", async () => {
  await dialog.getByRole("textbox", { name: "Repository", exact: true }).fill("web/broken");
  await dialog.getByRole("textbox", { name: "Tag", exact: true }).fill("0.1");
  await dialog.getByLabel("Tarball", { exact: true }).setInputFiles({
    name: "notes.tar",
    mimeType: "application/x-tar",
    buffer: Buffer.from("these are notes, not a tar archive\n".repeat(40)),
  });
  await dialog.getByRole("button", { name: "Upload", exact: true }).click();
  const alert = dialog.getByRole("alert");
  await eventually(async () => /\S/.test(await alert.innerText()), { message: "an error message" });
  const answer = await berth.api(repositoryPath(WS, `${SPACE}/web/broken`), { raw: true });
  assert.equal(answer.status, 404, "nothing was stored");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
});

step("an OCI tarball uploads and the dialog shows its pull reference", async () => {
  await openDialog();
  await dialog.getByRole("textbox", { name: "Repository", exact: true }).fill(REPO);
  await dialog.getByRole("textbox", { name: "Tag", exact: true }).fill(TAG);
  await dialog.getByLabel("Tarball", { exact: true }).setInputFiles(image.path);
  await dialog.getByRole("button", { name: "Upload", exact: true }).click();
  const reference = dialog.locator("code.uploaded-reference");
  await reference.waitFor();
  assert.equal((await reference.innerText()).trim(), `${berth.host}/${SPACE}/${REPO}:${TAG}`);
  const progress = dialog.locator("progress");
  if (await progress.count()) {
    const [value, max] = await progress.evaluate((p) => [p.value, p.max]);
    assert.equal(value, max, "the progress bar is full");
  }
  await screenshots(page, "upload-done");
});

step("the uploaded image is stored byte for byte and listed", async () => {
  const tags = await berth.api(`${repositoryPath(WS, `${SPACE}/${REPO}`)}/tags`);
  assert.equal(tags.items.find((t) => t.name === TAG)?.digest, image.manifestDigest);
  const read = await inspect(`${berth.host}/${SPACE}/${REPO}:${TAG}`, { creds: `${UMA.username}:${UMA.password}` });
  assert.deepEqual(read.manifest.layers.map((l) => l.digest), image.layers.map((l) => l.digest));
  await page.keyboard.press("Escape");
  await page.goto(`/images?workspace=${WS}`);
  await page.getByRole("link", { name: `${SPACE}/${REPO}`, exact: true }).waitFor();
});
