// The push dialog: per-client tabs, a temporary login with its expiry, and a real push with
// skopeo made of exactly the lines the skopeo tab shows; then the image is found in the list
// by typing part of its name.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { repositoryPath, setupTenancy, startBerth } from "../lib/berth.js";
import { eventually, expectBuilt, flow, launch, newContext, screenshots, selectContaining, signIn } from "../lib/browser.js";
import { writeOciArchive } from "../lib/image.js";
import { inspect, runLines, skopeoEnv } from "../lib/skopeo.js";

const WS = "team-push";
const SPACE = "builds";
const REPO = "tools/linter";
const TAG = "2.0.1";
const PAT = { username: "pat", password: "pat-password-1" };
const CLIENTS = ["docker", "podman", "nerdctl", "skopeo", "helm", "oras"];

let berth;
let browser;
let context;
let page;
let dialog;
let skopeoLines;
let image;
const step = flow("push", () => page);

before(async () => {
  berth = await startBerth("push");
  await setupTenancy(berth, { workspace: WS, space: SPACE, users: [{ ...PAT, role: "editor" }] });
  browser = await launch();
  context = await newContext(browser, berth, { clipboard: true });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

const selectedPanelText = () => page.getByRole("dialog", { name: "Push an image" }).getByRole("tabpanel").locator("pre").innerText();

step("the push dialog opens from the list", async () => {
  await signIn(page, PAT.username, PAT.password);
  await page.getByRole("button", { name: "Push an image", exact: true }).click();
  dialog = page.getByRole("dialog", { name: "Push an image" });
  await dialog.waitFor();
  await expectBuilt(page, "the push dialog");
  const space = dialog.getByRole("combobox", { name: "Space", exact: true });
  await selectContaining(space, SPACE);
  await dialog.getByRole("textbox", { name: "Repository", exact: true }).fill(REPO);
  await dialog.getByRole("textbox", { name: "Tag", exact: true }).fill(TAG);
});

step("every client has a tab whose lines name the host and the image", async () => {
  const reference = `${berth.host}/${SPACE}/${REPO}:${TAG}`;
  for (const client of CLIENTS) {
    const tab = dialog.getByRole("tab", { name: client, exact: true });
    await tab.click();
    await eventually(async () => (await tab.getAttribute("aria-selected")) === "true", { message: `the ${client} tab selected` });
    // helm and oras name the place differently (oci://host/space/tools, host/…); the
    // others push the full reference. The lines follow the fields after a short debounce.
    const wanted = ["helm", "oras"].includes(client) ? `${berth.host}/${SPACE}/tools` : reference;
    await eventually(async () => {
      const t = await selectedPanelText();
      return t.includes(wanted) && t.includes(client) && t;
    }, { message: `the ${client} lines naming ${wanted}` });
  }
  // The keyboard moves between tabs: ArrowRight (a roving tab list) or Tab (plain buttons).
  await dialog.getByRole("tab", { name: "docker", exact: true }).focus();
  const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim());
  await page.keyboard.press("ArrowRight");
  if ((await focused()) !== "podman") {
    await dialog.getByRole("tab", { name: "docker", exact: true }).focus();
    await page.keyboard.press("Tab");
  }
  assert.equal(await focused(), "podman", "the keyboard reaches the podman tab from docker");
});

step("Copy commands copies the selected tab's lines", async () => {
  await dialog.getByRole("tab", { name: "skopeo", exact: true }).click();
  await dialog.getByRole("button", { name: "Copy commands", exact: true }).click();
  const copied = await eventually(() => page.evaluate(() => navigator.clipboard.readText()), { message: "clipboard text" });
  assert.equal(copied.trim(), (await selectedPanelText()).trim());
});

step("Generate temporary login puts a robot's login in the lines and shows the expiry", async () => {
  // The robot is made slowly here and the user edits the tag meanwhile: the refreshes that
  // typing starts must neither cancel the temporary login nor hide it once it arrives.
  const temporaryRequest = /\/push-command\?.*temporary=true/;
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  let asked = false;
  await page.route(temporaryRequest, async (route) => {
    // The server makes the robot at once; only its answer is held back, as on a slow link.
    const response = await route.fetch();
    asked = true;
    await held;
    // A page that gave up on the request leaves nothing to answer; the steps below say so.
    await route.fulfill({ response }).catch(() => {});
  });
  const before = Date.now();
  try {
    await dialog.getByRole("button", { name: "Generate temporary login", exact: true }).click();
    await eventually(() => asked, { message: "the temporary login asked for" });
    await dialog.getByRole("tab", { name: "skopeo", exact: true }).click();
    const tag = dialog.getByRole("textbox", { name: "Tag", exact: true });
    await tag.press("End");
    await tag.pressSequentially("-rc", { delay: 40 });
    await eventually(async () => (await selectedPanelText()).includes(`linter:${TAG}-rc`), { message: "the lines follow the typing" });
    await tag.fill(TAG);
    await eventually(async () => {
      const t = await selectedPanelText();
      return t.includes(`linter:${TAG}`) && !t.includes(`${TAG}-rc`);
    }, { message: "the lines back at the tag" });
  } finally {
    release();
    await page.unroute(temporaryRequest);
  }
  const expires = dialog.locator(".expires time[datetime]");
  await expires.waitFor();
  const at = Date.parse(await expires.getAttribute("datetime"));
  assert.ok(Math.abs(at - before - 3600_000) < 10 * 60_000, `expires in about an hour: ${new Date(at).toISOString()}`);
  assert.match(await dialog.locator(".expires").innerText(), /expires/i);
  await dialog.getByRole("tab", { name: "skopeo", exact: true }).click();
  skopeoLines = await eventually(async () => {
    const t = await selectedPanelText();
    return t.includes(`robot$${WS}+tmp-`) && t;
  }, { message: "the skopeo lines with the temporary robot's login" });
  assert.match(skopeoLines, /--password-stdin/);
  assert.match(skopeoLines, /skopeo copy .*oci-archive:linter\.tar docker:\/\//);
  assert.match(skopeoLines, /--dest-tls-verify=false/, "plain HTTP needs --dest-tls-verify=false");
});

step("push dialog screenshots at 1280 and 390 px", async () => {
  await screenshots(page, "push");
});

step("the skopeo lines push the image", async () => {
  const archive = /oci-archive:(\S+)/.exec(skopeoLines)[1];
  image = writeOciArchive(join(berth.work, archive), { name: "linter", tag: TAG });
  assert.ok(existsSync(image.path));
  const env = skopeoEnv(berth.work);
  await runLines(skopeoLines, { cwd: berth.work, env });
  const tags = await berth.api(`${repositoryPath(WS, `${SPACE}/${REPO}`)}/tags`);
  const tag = tags.items.find((t) => t.name === TAG);
  assert.ok(tag, `tag ${TAG} is in Berth`);
  assert.equal(tag.digest, image.manifestDigest, "skopeo kept the manifest as built");
  // The temporary robot may pull what it pushed.
  const read = await inspect(`${berth.host}/${SPACE}/${REPO}:${TAG}`, { env });
  assert.equal(read.manifest.layers.length, image.layers.length);
});

step("the pushed image is found in the list by typing part of its name", async () => {
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "detached" });
  const search = page.getByRole("searchbox", { name: "Search repositories", exact: true });
  await search.click();
  await search.pressSequentially("lint", { delay: 60 });
  const link = page.getByRole("link", { name: `${SPACE}/${REPO}`, exact: true });
  const row = page.locator("main table tbody tr").filter({ has: link });
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(TAG.replaceAll(".", "\\.")), "the row shows the latest tag");
  await screenshots(page, "list-after-push");
});
