// Syncing an external registry, seen from the console: a real CNCF Distribution holding one
// image pushed with skopeo, added as a platform registry; the Registries page shows its sync
// state, "Sync now" runs a sync the page follows to its end, "Check now" says how the registry
// lists its repositories, and the forms set the follow list and the sync interval. Bound to a
// workspace, the synced repository shows in the image list with its registry's kind. A
// workspace registry syncs and checks through the workspace's paths, and a sync that fails
// because the registry is gone leaves the catalog marked stale with the reason.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before } from "node:test";
import { startBerth } from "../lib/berth.js";
import { controlNames, eventually, expectBuilt, flow, launch, newContext, screenshots, signIn } from "../lib/browser.js";
import { startDistribution } from "../lib/distribution.js";
import { writeOciArchive } from "../lib/image.js";
import { copyArchive, skopeoEnv } from "../lib/skopeo.js";

const WS = "sync-team";
const REG = "upstream";
const FOLLOWING = "followed";
const MIRROR = "team-mirror";
const REPO = "team/app";
// A sync of one repository takes well under a second; a failing one waits for the registry's
// connection to be refused. Both get room on a busy machine.
const SYNC_TIMEOUT = 60_000;

let berth;
let upstream;
let browser;
let context;
let page;
// Every request the console sends to a registry's sync or health path: [method, path].
const calls = [];
const step = flow("registries-sync", () => page);

before(async () => {
  berth = await startBerth("registries-sync");
  upstream = await startDistribution("registries-sync");
  const archive = writeOciArchive(join(berth.work, "app.tar"), { name: "app", tag: "1.0" });
  await copyArchive(archive.path, `${upstream.host}/${REPO}:1.0`, { env: skopeoEnv(berth.work) });
  await berth.api("/workspaces", { method: "POST", body: { name: WS } });
  browser = await launch();
  context = await newContext(browser, berth);
  page = await context.newPage();
  page.on("request", (request) => {
    const { pathname } = new URL(request.url());
    if (/\/registries\/[^/]+\/(sync|health)$/.test(pathname)) calls.push([request.method(), pathname]);
  });
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
  await upstream?.stop({ keep: step.failed() });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const syncButton = (name) => page.getByRole("button", { name: `Sync now: ${name}`, exact: true });
const rowOf = (name) => page.locator("main tbody tr").filter({ has: syncButton(name) });
const cellOf = (name, column) => rowOf(name).locator(`td[data-label="${column}"]`);
const toast = (text) => page.locator("#toasts").getByText(text, { exact: true });

// Waits until the API says no sync of `path` (`/registries/x`) is queued or running and one
// has ended, and answers that state.
async function syncEnded(path, { after: previous = null } = {}) {
  return eventually(
    async () => {
      const sync = await berth.api(`${path}/sync`);
      return sync.state === "idle" && sync.last_finished_at && sync.last_finished_at !== previous ? sync : null;
    },
    { timeout: SYNC_TIMEOUT, interval: 200, message: `the sync of ${path} to end` },
  );
}

// Waits until the row's Sync cell says Idle and its button offers a new sync.
async function rowIdle(name) {
  await eventually(async () => /\bIdle\b/.test(await cellOf(name, "Sync").innerText()), { timeout: SYNC_TIMEOUT, message: `${name}'s row showing Idle` });
  await eventually(async () => (await syncButton(name).textContent()) === "Sync now" && (await syncButton(name).isEnabled()), {
    message: `${name}'s Sync now button enabled again`,
  });
}

step("a platform registry added through the API is synced at once", async () => {
  const created = await berth.api("/registries", { method: "POST", body: { name: REG, kind: "distribution", url: upstream.url } });
  assert.ok(created.sync, "an external registry carries its sync state");
  assert.deepEqual(created.follow, []);
  const sync = await syncEnded(`/registries/${REG}`);
  assert.equal(sync.last_error, null, JSON.stringify(sync));
  assert.equal(sync.repositories, 1);
  assert.equal(sync.tags, 1);
  const spaces = await berth.api(`/registries/${REG}/spaces`);
  assert.deepEqual(spaces.items.map((s) => s.name), ["team"]);
});

step("the registries page shows each registry's sync state", async () => {
  await signIn(page, "admin", berth.adminPassword);
  await page.goto("/admin/registries");
  await expectBuilt(page, "the registries page");
  await rowIdle(REG);
  const text = await cellOf(REG, "Sync").innerText();
  assert.match(text, /1 repository · 1 tag/);
  assert.match(text, /last success/);
  assert.doesNotMatch(text, /stale/);
  // hosted is Berth itself: nothing to sync, and no Sync now button.
  const hosted = page.locator("main tbody tr").filter({ hasText: "built in" });
  assert.equal((await hosted.locator('td[data-label="Sync"]').innerText()).trim(), "—");
  assert.equal(await hosted.getByRole("button").count(), 0);
});

step("Sync now runs a sync the row follows until it is idle", async () => {
  const before = await berth.api(`/registries/${REG}/sync`);
  calls.length = 0;
  await syncButton(REG).click();
  // The POST's answer shows at once; the first poll comes a second later.
  await eventually(async () => (await syncButton(REG).textContent()) === "Syncing…" && (await syncButton(REG).isDisabled()), {
    message: "the Sync now button waiting for the sync",
  });
  assert.match(await cellOf(REG, "Sync").innerText(), /Queued|Running/);
  await rowIdle(REG);
  await toast(`Synced ${REG}: 1 repository, 1 tag`).waitFor();
  const after = await syncEnded(`/registries/${REG}`, { after: before.last_finished_at });
  assert.equal(after.repositories, 1);
  assert.equal(after.last_error, null);
  assert.match(await cellOf(REG, "Sync").innerText(), /1 repository · 1 tag/);
  assert.deepEqual(calls[0], ["POST", `/api/v1/registries/${REG}/sync`]);
  const polls = calls.filter(([method, path]) => method === "GET" && path === `/api/v1/registries/${REG}/sync`).length;
  assert.ok(polls >= 1, `the page asked after the sync (${JSON.stringify(calls)})`);
  // Once idle, the page stops asking.
  const seen = calls.length;
  await sleep(2500);
  assert.equal(calls.length, seen, `no requests after the sync ended: ${JSON.stringify(calls.slice(seen))}`);
});

step("Check now says the registry is reachable and how it lists repositories", async () => {
  calls.length = 0;
  await page.getByRole("button", { name: `Check now: ${REG}`, exact: true }).click();
  await toast(`${REG} is reachable`).waitFor();
  await eventually(async () => /lists its catalog/.test(await cellOf(REG, "Health").innerText()), { message: "the listing beside the health" });
  const registry = await berth.api(`/registries/${REG}`);
  assert.equal(registry.health.status, "reachable");
  assert.ok((await cellOf(REG, "Health").innerText()).includes(registry.health.listing), "the row shows the API's listing");
  assert.deepEqual(calls, [["POST", `/api/v1/registries/${REG}/health`]]);
});

step("the edit form sets the follow list and the sync interval, and clears them again", async () => {
  const original = await berth.api(`/registries/${REG}`);
  const edit = async () => {
    await page.getByRole("button", { name: `Edit ${REG}`, exact: true }).click();
    const form = page.getByRole("dialog", { name: `Edit registry ${REG}` });
    await form.waitFor();
    return {
      form,
      follow: form.getByRole("textbox", { name: "Follow", exact: true }),
      interval: form.getByRole("spinbutton", { name: "Sync interval (seconds)", exact: true }),
    };
  };
  const save = async (form) => {
    await form.getByRole("button", { name: "Save", exact: true }).click();
    await form.waitFor({ state: "detached" });
  };

  let fields = await edit();
  assert.equal(await fields.follow.inputValue(), "");
  assert.equal(await fields.interval.inputValue(), String(original.sync_interval_seconds));
  await fields.follow.fill("team/app\n\n  tools/  \n");
  await fields.interval.fill("3600");
  await save(fields.form);
  let saved = await berth.api(`/registries/${REG}`);
  assert.deepEqual(saved.follow, ["team/app", "tools/"]);
  assert.equal(saved.sync_interval_seconds, 3600);

  // A value the API refuses keeps the dialog open with its message.
  fields = await edit();
  assert.equal(await fields.follow.inputValue(), "team/app\ntools/");
  assert.equal(await fields.interval.inputValue(), "3600");
  await fields.interval.fill("30");
  await fields.form.getByRole("button", { name: "Save", exact: true }).click();
  await eventually(async () => /sync_interval_seconds/.test(await fields.form.getByRole("alert").innerText()), { message: "the API's refusal in the dialog" });

  // Emptied, both return to their defaults: the whole catalog, the server's interval.
  await fields.follow.fill("");
  await fields.interval.fill("");
  await save(fields.form);
  saved = await berth.api(`/registries/${REG}`);
  assert.deepEqual(saved.follow, []);
  assert.equal(saved.sync_interval_seconds, original.sync_interval_seconds);
});

step("a registry made with New registry keeps its follow list and is watched through its first sync", async () => {
  await page.getByRole("button", { name: "New registry", exact: true }).click();
  const form = page.getByRole("dialog", { name: "New registry" });
  await form.getByRole("textbox", { name: "Name", exact: true }).fill(FOLLOWING);
  await form.getByRole("textbox", { name: "URL", exact: true }).fill(upstream.url);
  await form.getByRole("textbox", { name: "Follow", exact: true }).fill("team/");
  await form.getByRole("spinbutton", { name: "Sync interval (seconds)", exact: true }).fill("0");
  await form.getByRole("button", { name: "Create", exact: true }).click();
  await form.waitFor({ state: "detached" });
  const created = await berth.api(`/registries/${FOLLOWING}`);
  assert.deepEqual(created.follow, ["team/"]);
  assert.equal(created.sync_interval_seconds, 0);
  // The page is not reloaded: the row reaches Idle because the page watched the first sync.
  await rowIdle(FOLLOWING);
  const text = await cellOf(FOLLOWING, "Sync").innerText();
  assert.match(text, /1 repository · 1 tag/);
  assert.match(text, /no scheduled syncs/);
});

step("registries screenshots at 1280 and 390 px", async () => {
  await screenshots(page, "registries-sync");
});

step("every control of the registries page has an accessible name", async () => {
  const unnamed = (await controlNames(page, "body")).filter((c) => !c.name);
  assert.deepEqual(unnamed, []);
});

step("bound to a workspace, the synced repository shows in its image list with its kind", async () => {
  await berth.api(`/registries/${REG}/spaces/team/bindings`, { method: "PUT", body: { workspaces: [WS] } });
  const listed = await berth.api(`/workspaces/${WS}/images?registry=${REG}`);
  assert.deepEqual(listed.items.map((r) => [r.repository, r.registry_kind]), [[REPO, "distribution"]]);
  await page.goto(`/images?workspace=${WS}`);
  const row = page.locator("main tbody tr").filter({ has: page.getByRole("link", { name: REPO, exact: true }) });
  await row.waitFor();
  const repo = row.locator('td[data-label="Repository"]');
  assert.equal((await repo.locator(".registry").innerText()).trim(), REG);
  assert.equal((await repo.locator(".badge-kind").innerText()).trim(), "distribution");
  assert.equal((await row.locator('td[data-label="Tags"]').innerText()).split("\n")[0].trim(), "1");
  // Distribution does not tell when a tag was pushed, and the row says so instead of "never".
  assert.equal(listed.items[0].pushed_at, null);
  assert.equal((await row.locator('td[data-label="Last push"]').innerText()).trim(), "unknown");
  // A private space of a Distribution registry is pulled through Berth, never from upstream.
  assert.match(await row.locator('td[data-label="Pull reference"]').innerText(), new RegExp(`${berth.host}/${REG}/${REPO}`));
  await screenshots(page, "registries-sync-images");
  const unnamed = (await controlNames(page, "body")).filter((c) => !c.name);
  assert.deepEqual(unnamed, []);
});

step("a workspace registry syncs and checks through the workspace's paths", async () => {
  const base = `/api/v1/workspaces/${WS}/registries/${MIRROR}`;
  await berth.api(`/workspaces/${WS}/registries`, { method: "POST", body: { name: MIRROR, kind: "distribution", url: upstream.url } });
  await syncEnded(`/workspaces/${WS}/registries/${MIRROR}`);
  await page.goto(`/admin/workspace-registries?workspace=${WS}`);
  await expectBuilt(page, "the workspace registries page");
  await rowIdle(MIRROR);
  calls.length = 0;
  await syncButton(MIRROR).click();
  await toast(`Synced ${MIRROR}: 1 repository, 1 tag`).waitFor({ timeout: SYNC_TIMEOUT });
  await rowIdle(MIRROR);
  assert.deepEqual(calls[0], ["POST", `${base}/sync`]);
  assert.ok(calls.slice(1).every(([method, path]) => method === "GET" && path === `${base}/sync`), JSON.stringify(calls));
  calls.length = 0;
  await page.getByRole("button", { name: `Check now: ${MIRROR}`, exact: true }).click();
  await toast(`${MIRROR} is reachable`).waitFor();
  assert.deepEqual(calls, [["POST", `${base}/health`]]);
  await eventually(async () => /lists its catalog/.test(await cellOf(MIRROR, "Health").innerText()), { message: "the listing beside the health" });
  await screenshots(page, "registries-sync-workspace");
  const unnamed = (await controlNames(page, "body")).filter((c) => !c.name);
  assert.deepEqual(unnamed, []);
});

step("a sync that fails leaves the catalog stale, with the reason", async () => {
  await upstream.kill();
  await page.goto("/admin/registries");
  await rowIdle(REG);
  const before = await berth.api(`/registries/${REG}/sync`);
  await syncButton(REG).click();
  const failed = await syncEnded(`/registries/${REG}`, { after: before.last_finished_at });
  assert.equal(failed.stale, true, JSON.stringify(failed));
  assert.ok(failed.last_error, "the API says why");
  await rowIdle(REG);
  await toast(`Sync of ${REG} failed: ${failed.last_error}`).waitFor();
  const text = await cellOf(REG, "Sync").innerText();
  assert.match(text, /stale/);
  assert.ok(text.includes(failed.last_error), `the row shows the reason: ${text}`);
  assert.match(text, /failed just now/);
  // The catalog of the last success stays, and so do its counts.
  assert.match(text, /1 repository · 1 tag/);
  await screenshots(page, "registries-sync-stale");
});
