// The admin pages as a platform admin sets up a team: a workspace, a private hosted space and
// the binding between them, all through the forms; the reverse view on the workspace; the
// public switch; a new user. The API is asked after each step whether it really happened,
// and at the end the workspace's push dialog offers the new space.

import assert from "node:assert/strict";
import { after, before } from "node:test";
import { startBerth } from "../lib/berth.js";
import { controlNames, eventually, expectBuilt, flow, launch, newContext, screenshots, selectContaining, signIn } from "../lib/browser.js";

const WS = "research";
const SPACE = "lab-private";
const NAV = ["Users", "Workspaces", "Registries", "Spaces", "Workspace registries", "Robots", "Audit log"];

let berth;
let browser;
let context;
let page;
const step = flow("admin", () => page);

before(async () => {
  berth = await startBerth("admin");
  // A second workspace, so the bindings editor has a box to leave unticked.
  await berth.api("/workspaces", { method: "POST", body: { name: "bystanders" } });
  browser = await launch();
  context = await newContext(browser, berth);
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

const dialogNamed = (name) => page.getByRole("dialog", { name });
const rowWith = (text) => page.locator("main tr").filter({ hasText: text });

step("the admin nav has every section", async () => {
  await signIn(page, "admin", berth.adminPassword);
  await page.getByRole("link", { name: "Admin", exact: true }).click();
  await expectBuilt(page, "the admin pages");
  for (const name of NAV) {
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name, exact: true }).waitFor();
  }
});

step("a workspace is created with New workspace", async () => {
  await page.getByRole("link", { name: "Workspaces", exact: true }).click();
  await page.getByRole("button", { name: "New workspace", exact: true }).click();
  const form = dialogNamed("New workspace");
  await form.getByRole("textbox", { name: "Name", exact: true }).fill(WS);
  await form.getByRole("button", { name: "Create", exact: true }).click();
  await form.waitFor({ state: "detached" });
  await page.getByRole("link", { name: WS, exact: true }).waitFor();
  const ws = await berth.api(`/workspaces/${WS}`);
  assert.equal(ws.name, WS);
});

step("a private hosted space is created with New space", async () => {
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Spaces", exact: true }).click();
  await page.getByRole("button", { name: "New space", exact: true }).click();
  const form = dialogNamed("New space");
  await selectContaining(form.getByRole("combobox", { name: "Registry", exact: true }), "hosted");
  await form.getByRole("textbox", { name: "Name", exact: true }).fill(SPACE);
  const isPublic = form.getByRole("checkbox", { name: "Public" });
  assert.equal(await isPublic.isChecked(), false, "a new space is private unless asked");
  await form.getByRole("button", { name: "Create", exact: true }).click();
  await form.waitFor({ state: "detached" });
  await rowWith(SPACE).first().waitFor();
  const space = await berth.api(`/registries/hosted/spaces/${SPACE}`);
  assert.equal(space.public, false);
  assert.equal(await page.getByRole("checkbox", { name: `Public ${SPACE}`, exact: true }).isChecked(), false);
});

step("the space is bound to the workspace in the bindings editor", async () => {
  await page.getByRole("button", { name: `Bindings of ${SPACE}`, exact: true }).click();
  const editor = page.getByRole("dialog");
  await editor.getByRole("checkbox", { name: WS, exact: true }).check();
  assert.equal(await editor.getByRole("checkbox", { name: "bystanders", exact: true }).isChecked(), false);
  await editor.getByRole("button", { name: "Save bindings", exact: true }).click();
  await editor.waitFor({ state: "detached" });
  const bindings = await berth.api(`/registries/hosted/spaces/${SPACE}/bindings`);
  assert.deepEqual(bindings.workspaces, [WS]);
  await eventually(async () => (await rowWith(SPACE).first().innerText()).includes(WS), { message: "the space's row naming its workspace" });
});

step("spaces screenshots at 1280 and 390 px", async () => {
  await screenshots(page, "admin-spaces");
});

step("the workspace shows the spaces bound to it", async () => {
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Workspaces", exact: true }).click();
  await page.getByRole("link", { name: WS, exact: true }).click();
  const bound = page.getByRole("region", { name: `Spaces bound to ${WS}` }).or(page.getByRole("table", { name: `Spaces bound to ${WS}` }));
  await bound.first().waitFor();
  await eventually(async () => (await bound.first().innerText()).includes(SPACE), { message: `${SPACE} among the spaces bound to ${WS}` });
  const reverse = await berth.api(`/workspaces/${WS}/spaces`);
  assert.ok(reverse.items.some((s) => s.name === SPACE && s.registry === "hosted"));
  await screenshots(page, "admin-workspace");
});

step("the public switch asks first, then changes the space", async () => {
  await page.goto("/admin/spaces");
  const toggle = page.getByRole("checkbox", { name: `Public ${SPACE}`, exact: true });
  await toggle.click({ force: true });
  const confirm = page.getByRole("dialog");
  await confirm.getByRole("button", { name: "Make public" }).click();
  await eventually(async () => (await berth.api(`/registries/hosted/spaces/${SPACE}`)).public === true, { message: "the space public" });
  await eventually(() => toggle.isChecked(), { message: "the switch on" });
  // The list reloads after the change and replaces the row: its label reads "public" only
  // once the new row is there, and a click before that can land on the row being replaced.
  const label = page.locator("label.switch", { has: toggle }).locator(".switch-text");
  await eventually(async () => (await label.innerText()) === "public", { message: "the reloaded row public" });
  await toggle.click({ force: true });
  await eventually(async () => (await berth.api(`/registries/hosted/spaces/${SPACE}`)).public === false, { message: "the space private again" });
});

step("every control of the spaces page has an accessible name", async () => {
  const unnamed = (await controlNames(page, "body")).filter((c) => !c.name);
  assert.deepEqual(unnamed, []);
});

step("a user is created with New user", async () => {
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users", exact: true }).click();
  await page.getByRole("button", { name: "New user", exact: true }).click();
  const form = dialogNamed("New user");
  await form.getByRole("textbox", { name: "Username", exact: true }).fill("rita");
  await form.getByLabel("Password", { exact: true }).fill("rita-password-1");
  await form.getByRole("button", { name: "Create", exact: true }).click();
  await form.waitFor({ state: "detached" });
  await rowWith("rita").first().waitFor();
  const user = await berth.api("/users/rita");
  assert.equal(user.username, "rita");
  await berth.login("rita", "rita-password-1");
});

step("the bound workspace's push dialog offers the new space", async () => {
  await page.goto(`/images?workspace=${WS}`);
  await page.getByRole("button", { name: "Push an image", exact: true }).first().click();
  const dialog = page.getByRole("dialog", { name: "Push an image" });
  const space = dialog.getByRole("combobox", { name: "Space", exact: true });
  await eventually(async () => (await space.locator("option").allTextContents()).some((t) => t.includes(SPACE)), {
    message: `${SPACE} offered in the push dialog of ${WS}`,
  });
});
