// Sign-in, the header and the image list: search as you type, keyboard reach, accessible
// names, the pull-reference copy button, the remembered workspace, and that a user of another
// workspace does not see a private image.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before } from "node:test";
import { createUser, setupTenancy, startBerth, uploadImage } from "../lib/berth.js";
import { controlNames, eventually, expectBuilt, flow, launch, newContext, screenshots, signIn } from "../lib/browser.js";
import { writeOciArchive } from "../lib/image.js";

const WS = "team-list";
const OTHER_WS = "team-other";
const ALICE = { username: "alice", password: "alice-password-1" };
const MALLORY = { username: "mallory", password: "mallory-password-1" };
// [space, repository inside it, tag]; `secret` is private and bound to WS, `base` public.
const IMAGES = [
  ["secret", "billing/api", "1.0"],
  ["secret", "billing/worker", "1.1"],
  ["secret", "search/indexer", "2026.01.05"],
  ["secret", "frontend", "v3.2.0"],
  ["base", "alpine-tools", "3.19"],
  ["base", "python-runtime", "3.12-slim"],
];
const PRIVATE_REPO = "secret/billing/api";

let berth;
let browser;
let context;
let page;
const step = flow("list", () => page);

before(async () => {
  berth = await startBerth("list");
  await setupTenancy(berth, { workspace: WS, space: "secret", users: [{ ...ALICE, role: "admin" }] });
  await berth.api("/registries/hosted/spaces", { method: "POST", body: { name: "base", public: true } });
  await berth.api("/workspaces", { method: "POST", body: { name: OTHER_WS } });
  await createUser(berth, { ...MALLORY, workspace: OTHER_WS, role: "editor" });
  // Alice is in both workspaces, so the switcher has something to remember.
  await berth.api(`/workspaces/${OTHER_WS}/members/alice`, { method: "PUT", body: { role: "viewer" } });
  for (const [space, repository, tag] of IMAGES) {
    const file = writeOciArchive(join(berth.work, `${repository.replaceAll("/", "-")}.tar`), { tag }).path;
    await uploadImage(berth, { workspace: WS, space, repository, tag, file });
  }
  browser = await launch();
  context = await newContext(browser, berth, { clipboard: true });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

const rowLinks = () => page.locator("main table tbody tr a").evaluateAll((links) => links.map((a) => a.textContent.trim()));
const repoLinkTexts = async () => {
  const all = await rowLinks();
  return all.filter((text) => IMAGES.some(([space, repo]) => text === `${space}/${repo}`));
};
const searchBox = () => page.getByRole("searchbox", { name: "Search repositories", exact: true });

step("a wrong password is refused with a message", async () => {
  await page.goto("/images");
  await page.waitForURL((url) => url.pathname === "/login");
  await page.getByLabel("Username", { exact: true }).fill(ALICE.username);
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.textContent(), /\S/, "the alert says what went wrong");
  assert.equal(new URL(page.url()).pathname, "/login");
});

step("sign in shows the header and the workspace's images", async () => {
  await signIn(page, ALICE.username, ALICE.password);
  for (const name of ["Images", "Selector", "Admin"]) {
    await page.getByRole("link", { name, exact: true }).waitFor();
  }
  const switcher = page.getByRole("combobox", { name: "Workspace", exact: true });
  await switcher.waitFor();
  await page.locator("main table tbody tr").first().waitFor();
  await expectBuilt(page, "the image list");
  // Alice's first workspace, or the one she picks; make sure it is WS for what follows.
  if ((await switcher.inputValue()) !== WS) {
    await switcher.selectOption(WS);
    await page.waitForURL((url) => url.searchParams.get("workspace") === WS);
  }
  await eventually(async () => (await repoLinkTexts()).length === IMAGES.length, { message: "every image in the list" });
  for (const [space, repo] of IMAGES) {
    await page.getByRole("link", { name: `${space}/${repo}`, exact: true }).waitFor();
  }
});

step("list screenshots at 1280 and 390 px", async () => {
  await screenshots(page, "list");
});

step("typing part of a name filters the list as you type", async () => {
  await searchBox().click();
  await searchBox().pressSequentially("BILL", { delay: 60 });
  await eventually(async () => {
    const shown = await repoLinkTexts();
    return shown.length === 2 && shown.every((t) => t.startsWith("secret/billing/")) && shown;
  }, { message: "only the billing repositories (search is case-insensitive)" });
  assert.equal(new URL(page.url()).searchParams.get("q"), "BILL", "the search is kept in the URL");
  await searchBox().fill("");
  await eventually(async () => (await repoLinkTexts()).length === IMAGES.length, { message: "the whole list again" });
});

step("searching tags narrows to repositories with a matching tag", async () => {
  const tags = page.getByRole("searchbox", { name: "Search tags", exact: true });
  await tags.pressSequentially("3.1", { delay: 40 });
  await eventually(async () => {
    const shown = (await repoLinkTexts()).sort();
    return shown.join() === ["base/alpine-tools", "base/python-runtime"].join() && shown;
  }, { message: "the repositories tagged 3.19 and 3.12-slim" });
  await tags.fill("");
  await eventually(async () => (await repoLinkTexts()).length === IMAGES.length, { message: "the whole list again" });
});

step("Tab reaches the search box and the sort buttons", async () => {
  await page.reload();
  await page.locator("main table tbody tr").first().waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  const reached = [];
  for (let i = 0; i < 80; i += 1) {
    await page.keyboard.press("Tab");
    reached.push(
      await page.evaluate(() => {
        const el = document.activeElement;
        const name = el?.getAttribute("aria-label") || el?.textContent?.trim() || "";
        return `${el?.tagName.toLowerCase()}:${el?.closest("th") ? "sort:" : ""}${name}`;
      }),
    );
  }
  assert.ok(reached.includes("input:Search repositories"), `Tab reaches "Search repositories"; reached ${reached.join(" | ")}`);
  assert.ok(reached.includes("input:Search tags"), "Tab reaches \"Search tags\"");
  const sorts = reached.filter((r) => r.startsWith("button:sort:"));
  for (const column of ["Repository", "Last push", "Size", "Pulls"]) {
    assert.ok(sorts.some((s) => s.includes(column)), `Tab reaches the "${column}" sort button; reached ${sorts.join(" | ")}`);
  }
});

step("a sort button works from the keyboard", async () => {
  const size = page.getByRole("columnheader", { name: /Size/ });
  await size.getByRole("button").focus();
  await page.keyboard.press("Enter");
  await eventually(async () => (await size.getAttribute("aria-sort")) === "descending", { message: 'aria-sort="descending" on Size' });
  assert.equal(new URL(page.url()).searchParams.get("sort"), "size");
});

step("every button, input and select on the list page has an accessible name", async () => {
  const controls = await controlNames(page, "body");
  assert.ok(controls.length >= 8, `expected the list's controls, found ${controls.length}`);
  const unnamed = controls.filter((c) => !c.name);
  assert.deepEqual(unnamed, [], "controls without an accessible name");
});

step("the copy button copies the pull reference", async () => {
  await page.goto(`/images?workspace=${WS}`);
  const button = page.getByRole("button", { name: `Copy pull reference of ${PRIVATE_REPO}`, exact: true });
  // The API's reference (host/repository), or that with the latest tag.
  const rows = await berth.api(`/workspaces/${WS}/images?q=${encodeURIComponent(PRIVATE_REPO)}`, { as: ALICE.username });
  const { reference, latest_tag: latest } = rows.items.find((r) => r.repository === PRIVATE_REPO);
  assert.equal(reference, `${berth.host}/${PRIVATE_REPO}`);
  const expected = await button.getAttribute("data-copy");
  assert.ok([reference, `${reference}:${latest}`].includes(expected), `data-copy ${expected}`);
  await button.click();
  const copied = await eventually(() => page.evaluate(() => navigator.clipboard.readText()), { message: "clipboard text" });
  assert.equal(copied, expected);
  // The row also shows the reference it copies.
  const row = page.locator("main table tbody tr").filter({ has: page.getByRole("link", { name: PRIVATE_REPO, exact: true }) });
  assert.match(await row.textContent(), new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
});

step("the workspace switcher remembers the last workspace", async () => {
  const switcher = page.getByRole("combobox", { name: "Workspace", exact: true });
  await switcher.selectOption(OTHER_WS);
  await page.waitForURL((url) => url.searchParams.get("workspace") === OTHER_WS);
  await page.goto("/images");
  await eventually(async () => (await page.getByRole("combobox", { name: "Workspace", exact: true }).inputValue()) === OTHER_WS, {
    message: `the switcher to show ${OTHER_WS} after a reload without ?workspace=`,
  });
  await switcher.selectOption(WS);
});

step("a user of another workspace does not see the private image", async () => {
  const other = await newContext(browser, berth);
  const page2 = await other.newPage();
  try {
    await signIn(page2, MALLORY.username, MALLORY.password);
    await page2.locator("main table tbody tr").first().waitFor();
    const shown = await page2.locator("main table tbody tr a").evaluateAll((links) => links.map((a) => a.textContent.trim()));
    assert.ok(shown.includes("base/alpine-tools"), `public images are listed for ${OTHER_WS}: ${shown}`);
    assert.ok(!shown.some((t) => t.startsWith("secret/")), `no image of the private space: ${shown}`);
    await page2.getByRole("searchbox", { name: "Search repositories", exact: true }).pressSequentially("billing", { delay: 30 });
    await page2.getByRole("heading", { name: "No image matches these filters" }).waitFor();
    // The API agrees: the private space's repositories are not in the other workspace's view.
    const answer = await berth.api(`/workspaces/${OTHER_WS}/images?q=billing`, { as: MALLORY.username });
    assert.equal(answer.total, 0);
  } finally {
    await other.close();
  }
});
