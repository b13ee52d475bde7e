// The console's shell: what a platform admin without memberships sees first, where sign-in
// may send people afterwards, unknown and malformed addresses, the workspace switcher carrying
// only the workspace, the skip link, and that other sites can frame nothing but the selector,
// and that only for someone signed in.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before } from "node:test";
import { startBerth, setupTenancy, ADMIN_PASSWORD } from "../lib/berth.js";
import { flow, launch, newContext, signIn } from "../lib/browser.js";

const FIRST = "aa-first";
const SECOND = "bb-second";

let berth;
let browser;
let context;
let page;
const step = flow("shell", () => page);

before(async () => {
  berth = await startBerth("shell");
  await setupTenancy(berth, { workspace: FIRST, space: "first" });
  await setupTenancy(berth, { workspace: SECOND, space: "second" });
  browser = await launch();
  context = await newContext(browser, berth);
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

step("a platform admin in no workspace opens the first workspace's list", async () => {
  await signIn(page, "admin", ADMIN_PASSWORD);
  await page.getByRole("heading", { name: "Images", exact: true }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get("workspace"), FIRST);
  await page.getByRole("button", { name: "Push an image" }).first().waitFor();
  assert.equal(await page.getByLabel("Workspace", { exact: true }).inputValue(), FIRST);
});

step("switching workspace keeps only the workspace", async () => {
  await page.goto(`/images?workspace=${FIRST}&q=nothing-here&sort=pulls`);
  await page.getByText("No image matches these filters").waitFor();
  await page.getByLabel("Workspace", { exact: true }).selectOption(SECOND);
  await page.waitForURL((url) => url.searchParams.get("workspace") === SECOND);
  const params = [...new URL(page.url()).searchParams.keys()];
  assert.deepEqual(params, ["workspace"]);
  // The new workspace's list is drawn with empty filters (the URL changes first).
  await page.waitForFunction(() => document.querySelector("#filter-q")?.value === "" && !document.querySelector(".state-loading"));
});

step("the skip link moves focus to the content without reloading the page", async () => {
  await page.goto(`/images?workspace=${SECOND}`);
  await page.getByRole("button", { name: "Push an image" }).first().waitFor();
  await page.waitForLoadState("networkidle");
  let requests = 0;
  const seen = [];
  const count = (r) => { requests += 1; seen.push(r.url()); };
  page.on("request", count);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "main");
  page.off("request", count);
  assert.equal(requests, 0, `no page change, no API call: ${seen.join(", ")}`);
});

step("unknown and malformed addresses say the page is not found", async () => {
  // Outside the console's paths the server itself answers 404.
  assert.equal((await page.request.get("/nowhere-at-all")).status(), 404);
  // Inside them the page is served and the console says so, even for a malformed escape.
  for (const path of ["/images/hosted/app%E0%A4%A", "/admin/users/extra/parts"]) {
    await page.goto(path);
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
  }
});

step("sign-in never sends people to another site", async () => {
  for (const next of ["/\\evil.example/x", "//evil.example/x", "https://evil.example/", "/\t/evil.example"]) {
    const signOut = page.getByRole("button", { name: "Sign out" });
    if (await signOut.count()) await signOut.click();
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel("Username", { exact: true }).fill("admin");
    await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/images");
    assert.equal(new URL(page.url()).origin, berth.base, next);
  }
  await page.goto(`/login?next=${encodeURIComponent(`/select?workspace=${FIRST}`)}`);
  await page.getByLabel("Username", { exact: true }).fill("admin");
  await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/select", { timeout: 5000 });
});

step("another site's frame shows no sign-in form and no page but the selector", async () => {
  // A real server for the other site: Chromium refuses to let a page that Playwright made up
  // frame a loopback address, but not a page that a loopback server sent.
  const site = createServer((request, response) => {
    response.setHeader("Content-Type", "text/html");
    response.end(`<!doctype html><iframe id="select" src="${berth.base}/select?workspace=${FIRST}&embed=1"></iframe>
      <iframe id="admin" src="${berth.base}/admin/users"></iframe>`);
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  try {
    const framing = await context.newPage();
    // `localhost` is another origin than Berth's `127.0.0.1`.
    await framing.goto(`http://localhost:${site.address().port}/form`);
    const selector = framing.frameLocator("#select");
    await selector.getByRole("heading", { name: "Open Berth in a window of its own" }).waitFor();
    assert.equal(await selector.getByLabel("Username").count(), 0, "no sign-in form inside a frame");
    // The admin page is refused by its policy (frame-ancestors 'none'): nothing of it renders.
    await framing.waitForTimeout(500);
    const admin = framing.frames().find((f) => f.url().includes("/admin/users"));
    const rendered = admin ? await admin.locator("nav, h1, input").count().catch(() => 0) : 0;
    assert.equal(rendered, 0, "the admin page does not render in a frame");
    await framing.close();
  } finally {
    site.close();
  }
});
