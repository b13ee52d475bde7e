// The image detail page against what the registry really holds: an image pushed with skopeo
// (the lines Berth's push-command prints, as the push dialog shows them), then its tags, its
// layers and history compared with `skopeo inspect --raw` and `--config`, the description
// editor, the pull reference, another workspace's not-found view, and the typed-confirmation
// delete.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before } from "node:test";
import { createUser, pushCommand, repositoryPath, setupTenancy, startBerth } from "../lib/berth.js";
import { controlNames, eventually, expectBuilt, flow, launch, newContext, screenshots, signIn } from "../lib/browser.js";
import { writeOciArchive } from "../lib/image.js";
import { inspect, layersWithHistory, runLines, skopeoEnv } from "../lib/skopeo.js";

const WS = "team-detail";
const OTHER_WS = "team-outside";
const SPACE = "apps";
const REPO = `${SPACE}/shop/cart`;
const TAG = "1.4.2";
const DORA = { username: "dora", password: "dora-password-1" };
const EVE = { username: "eve", password: "eve-password-1" };

let berth;
let browser;
let context;
let page;
let expected; // [{digest, size, created_by}] per layer, from skopeo inspect
let config; // the image config, from skopeo inspect --config
let manifestDigest;
const step = flow("detail", () => page);
const detailUrl = (ws) => `/images/hosted/${REPO}?workspace=${ws}`;

before(async () => {
  berth = await startBerth("detail");
  await setupTenancy(berth, { workspace: WS, space: SPACE, users: [{ ...DORA, role: "admin" }] });
  await berth.api("/workspaces", { method: "POST", body: { name: OTHER_WS } });
  await createUser(berth, { ...EVE, workspace: OTHER_WS, role: "admin" });
  // Push with the skopeo lines of the push command, from a folder holding the archive they name.
  const command = await pushCommand(berth, { workspace: WS, space: SPACE, repository: "shop/cart", tag: TAG });
  const lines = command.commands.skopeo.join("\n");
  const archive = /oci-archive:(\S+)/.exec(lines)[1];
  const built = writeOciArchive(join(berth.work, archive), { name: "cart", tag: TAG });
  const env = skopeoEnv(berth.work);
  await runLines(lines, { cwd: berth.work, env });
  const read = await inspect(`${berth.host}/${REPO}:${TAG}`, { env });
  expected = layersWithHistory(read);
  config = read.config;
  manifestDigest = built.manifestDigest;
  assert.deepEqual(expected.map((l) => l.digest), built.layers.map((l) => l.digest), "skopeo pushed the layers as built");
  browser = await launch();
  context = await newContext(browser, berth, { clipboard: true });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

const tagsTable = () => page.locator("main table").filter({ has: page.getByRole("columnheader") }).first();

step("the list links to the detail page", async () => {
  await signIn(page, DORA.username, DORA.password);
  await page.getByRole("link", { name: REPO, exact: true }).click();
  await page.waitForURL((url) => url.pathname === `/images/hosted/${REPO}`);
  await expectBuilt(page, "the image detail page");
  await page.getByRole("heading", { level: 1, name: REPO, exact: true }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get("workspace"), WS, "the link keeps the workspace");
});

step("the vulnerabilities panel says why an image of no known system cannot be scanned", async () => {
  const panel = page.locator("main section.repo-scan");
  await panel.getByRole("heading", { name: "Vulnerabilities", exact: true }).waitFor();
  // The test image's os-release names no distribution and it holds no packages.
  await eventually(async () => {
    await page.reload();
    await panel.getByRole("heading", { name: "Vulnerabilities", exact: true }).waitFor();
    return /not scannable/.test(await panel.innerText());
  }, { timeout: 30_000, message: "the scan ends as unsupported" });
  assert.match(await panel.innerText(), /no operating system was recognised/);
});

step("the tags table shows the tag with its short, copyable digest", async () => {
  await page.getByRole("searchbox", { name: "Search tags", exact: true }).or(page.getByRole("textbox", { name: "Search tags", exact: true })).waitFor();
  const copy = page.getByRole("button", { name: `Copy digest of ${TAG}`, exact: true });
  await copy.waitFor();
  assert.equal(await copy.getAttribute("data-copy"), manifestDigest);
  const row = page.locator("main tr").filter({ has: copy });
  assert.ok((await row.innerText()).includes(manifestDigest.slice(0, 7 + 12)), "the row shows the digest short (sha256: and 12 hex)");
  await copy.click();
  const copied = await eventually(() => page.evaluate(() => navigator.clipboard.readText()), { message: "clipboard text" });
  assert.equal(copied, manifestDigest);
});

step("searching tags filters the tags table", async () => {
  const search = page.getByRole("searchbox", { name: "Search tags", exact: true }).or(page.getByRole("textbox", { name: "Search tags", exact: true }));
  await search.pressSequentially("nomatch", { delay: 30 });
  await eventually(async () => (await page.getByRole("button", { name: `Copy digest of ${TAG}`, exact: true }).count()) === 0, {
    message: "the tag row to go for a search that matches nothing",
  });
  await search.fill("1.4");
  await page.getByRole("button", { name: `Copy digest of ${TAG}`, exact: true }).waitFor();
});

step("the artifact view shows layers and history as skopeo inspect reads them", async () => {
  const opener = page.locator("main").getByRole("link", { name: TAG, exact: true }).or(page.locator("main").getByRole("button", { name: TAG, exact: true }));
  await opener.first().click();
  for (const name of ["Layers", "Configuration", "History", "Referrers"]) {
    await page.getByRole("heading", { name, exact: true }).waitFor();
  }
  const rows = page.locator("main tr").filter({ has: page.locator("code.created-by") });
  await eventually(async () => (await rows.count()) === expected.length, { message: `${expected.length} layer rows` });
  for (let i = 0; i < expected.length; i += 1) {
    const row = rows.nth(i);
    const createdBy = (await row.locator("code.created-by").innerText()).trim();
    assert.equal(createdBy, expected[i].created_by.trim(), `layer ${i + 1}'s history line`);
    const text = await row.evaluate((tr) => tr.innerText + " " + [...tr.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.value)).join(" "));
    assert.ok(text.includes(expected[i].digest.slice(7, 7 + 12)), `layer ${i + 1} row names digest ${expected[i].digest}: ${text.slice(0, 300)}`);
  }
  // Every history line, empty layers included, shows in the page.
  const main = await page.locator("main").innerText();
  for (const entry of config.history) {
    assert.ok(main.includes(entry.created_by.trim()), `history line shown: ${entry.created_by}`);
  }
  assert.ok(main.includes(config.config.WorkingDir), "the configuration shows the working directory");
});

step("detail screenshots at 1280 and 390 px", async () => {
  await screenshots(page, "detail");
});

step("every control on the detail page has an accessible name", async () => {
  const unnamed = (await controlNames(page, "body")).filter((c) => !c.name);
  assert.deepEqual(unnamed, []);
});

step("the description is edited in Markdown and rendered", async () => {
  await page.goto(detailUrl(WS));
  await page.getByRole("button", { name: "Edit description", exact: true }).click();
  const area = page.getByRole("textbox", { name: "Description", exact: true });
  await area.fill("## Cart service\n\nKeeps the **basket** between visits.\n\n- one\n- two\n\n<script>window.__owned = 1</script>");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("heading", { name: "Cart service", exact: true }).waitFor();
  assert.equal(await page.locator("main strong", { hasText: "basket" }).count(), 1, "**basket** is bold");
  assert.equal(await page.evaluate(() => window.__owned), undefined, "HTML in Markdown is not run");
  const repo = await berth.api(repositoryPath(WS, REPO));
  assert.match(repo.description, /## Cart service/);
  // Cancel leaves the saved text.
  await page.getByRole("button", { name: "Edit description", exact: true }).click();
  await page.getByRole("textbox", { name: "Description", exact: true }).fill("changed, then cancelled");
  await page.getByRole("button", { name: "Cancel", exact: true }).click();
  await page.getByRole("heading", { name: "Cart service", exact: true }).waitFor();
});

step("a user of another workspace gets the not-found state for the private image", async () => {
  const other = await newContext(browser, berth);
  const page2 = await other.newPage();
  try {
    await signIn(page2, EVE.username, EVE.password);
    await page2.goto(detailUrl(OTHER_WS));
    await expectBuilt(page2, "the image detail page");
    await eventually(async () => /not found|no such|does not exist|doesn't exist|cannot see|can't see/i.test(await page2.locator("main").innerText()), {
      message: "a not-found message",
    });
    assert.equal(await page2.getByRole("heading", { level: 1, name: REPO, exact: true }).count(), 0, "the repository is not shown");
    assert.equal(await page2.locator("code.created-by").count(), 0);
    const list = await berth.api(`/workspaces/${OTHER_WS}/images?q=cart`, { as: EVE.username });
    assert.equal(list.total, 0);
  } finally {
    await other.close();
  }
});

step("Delete repository needs the typed name", async () => {
  await page.goto(detailUrl(WS));
  await page.getByRole("button", { name: "Delete repository", exact: true }).click();
  const dialog = page.getByRole("dialog");
  const confirm = dialog.getByRole("textbox", { name: `Type ${REPO} to confirm`, exact: true });
  const del = dialog.getByRole("button", { name: "Delete", exact: true });
  await confirm.waitFor();
  assert.equal(await del.isDisabled(), true, "Delete is disabled before typing");
  await confirm.fill(REPO.slice(0, -1));
  assert.equal(await del.isDisabled(), true, "Delete is disabled for a different name");
  await confirm.fill(REPO);
  await eventually(async () => !(await del.isDisabled()), { message: "Delete enabled once the name matches" });
  await del.click();
  await eventually(async () => (await berth.api(repositoryPath(WS, REPO), { raw: true })).status === 404, {
    message: "the repository gone from the API",
  });
  // The page goes back to the list, or says the repository is gone.
  await eventually(async () => new URL(page.url()).pathname === "/images" || /deleted/i.test(await page.locator("main").innerText()), {
    message: "the list, or a message that the repository was deleted",
  });
  await page.goto(`/images?workspace=${WS}`);
  await page.getByRole("searchbox", { name: "Search repositories", exact: true }).waitFor();
  await page.locator("main .state-loading").waitFor({ state: "detached" });
  assert.equal(await page.getByRole("link", { name: REPO, exact: true }).count(), 0, "the list no longer shows it");
});
