// The image selector as a deployment form uses it: a page of another origin opens
// `/select?workspace=…&origin=…` with window.open, the user searches and picks a tag, makes a
// pull secret, and "Use this image" posts the references to the opener, and the secret only
// once the user ticked "Send the pull secret to <origin>" (never without `origin`).

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before } from "node:test";
import { setupTenancy, startBerth, uploadImage } from "../lib/berth.js";
import { controlNames, eventually, expectBuilt, flow, launch, newContext, screenshots, signIn } from "../lib/browser.js";
import { writeOciArchive } from "../lib/image.js";
import { inspect } from "../lib/skopeo.js";

const WS = "team-select";
const SPACE = "deploy";
const SAM = { username: "sam", password: "sam-password-1" };
// The deployment form: a made-up origin whose page the test serves itself.
const FORM_ORIGIN = "http://deploy-form.test";
const IMAGES = [
  ["payments/api", "1.2.0"],
  ["payments/worker", "0.9"],
];

let berth;
let browser;
let context;
let page; // the form
let popup; // the selector
let digests;
const step = flow("selector", () => popup || page);

const formPage = (selectorUrl) => `<!doctype html>
<html><head><title>Deploy form</title></head><body>
<h1>Deploy</h1>
<button id="pick" type="button">Pick an image</button>
<output id="chosen"></output>
<script>
  window.__messages = [];
  window.addEventListener("message", (event) => {
    window.__messages.push({ origin: event.origin, data: event.data });
    if (event.data && event.data.type === "berth:image-selected") {
      document.getElementById("chosen").textContent = event.data.pinned;
    }
  });
  document.getElementById("pick").addEventListener("click", () => {
    window.open(${JSON.stringify(selectorUrl)}, "berth-selector", "width=900,height=700");
  });
</script>
</body></html>`;

before(async () => {
  berth = await startBerth("selector");
  await setupTenancy(berth, { workspace: WS, space: SPACE, users: [{ ...SAM, role: "editor" }] });
  digests = {};
  for (const [repository, tag] of IMAGES) {
    const image = writeOciArchive(join(berth.work, `${repository.replaceAll("/", "-")}.tar`), { tag });
    await uploadImage(berth, { workspace: WS, space: SPACE, repository, tag, file: image.path });
    digests[repository] = image.manifestDigest;
  }
  browser = await launch();
  context = await newContext(browser, berth);
  const selectorUrl = `${berth.base}/select?workspace=${WS}&origin=${encodeURIComponent(FORM_ORIGIN)}`;
  // `?no-origin` serves a form that opens the selector without naming its origin.
  const bareSelectorUrl = `${berth.base}/select?workspace=${WS}`;
  await context.route(`${FORM_ORIGIN}/**`, (route) => {
    const bare = new URL(route.request().url()).searchParams.has("no-origin");
    return route.fulfill({ status: 200, contentType: "text/html", body: formPage(bare ? bareSelectorUrl : selectorUrl) });
  });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

const messages = () => page.evaluate(() => window.__messages);
const consentBox = () => popup.getByRole("checkbox", { name: `Send the pull secret to ${FORM_ORIGIN}`, exact: true });

// Clicks "Use this image" and gives the berth:image-selected message that click sent.
async function useThisImage() {
  await page.evaluate(() => {
    window.__messages.length = 0;
  });
  await popup.getByRole("button", { name: "Use this image", exact: true }).click();
  const selected = await eventually(async () => (await messages()).find((m) => m.data?.type === "berth:image-selected"), {
    message: "berth:image-selected at the form",
  });
  assert.equal(selected.origin, berth.base, "the message comes from Berth");
  return selected.data;
}

// The form at `path` opens the selector; the person using it is signed in already.
async function openSelector(path) {
  await page.goto(`${FORM_ORIGIN}${path}`);
  const opened = context.waitForEvent("page");
  await page.getByRole("button", { name: "Pick an image" }).click();
  popup = await opened;
  await popup.waitForLoadState();
  await expectBuilt(popup, "the selector page");
  await popup.getByRole("searchbox", { name: "Search images", exact: true }).waitFor();
  await eventually(async () => (await messages()).some((m) => m.data?.type === "berth:selector-ready"), {
    message: "berth:selector-ready at the form",
  });
}

async function pickPaymentsApi() {
  await popup.getByRole("searchbox", { name: "Search images", exact: true }).pressSequentially("payments/api", { delay: 40 });
  await popup.getByRole("button", { name: `${SPACE}/payments/api:1.2.0`, exact: true }).click();
  await popup.locator("code.pinned").waitFor();
}

async function createPullSecret(namespace, name) {
  await popup.getByRole("textbox", { name: "Namespace", exact: true }).fill(namespace);
  await popup.getByRole("textbox", { name: "Name", exact: true }).fill(name);
  await popup.getByRole("button", { name: "Create pull secret", exact: true }).click();
  await eventually(async () => (await popup.locator("main").innerText()).includes("kubernetes.io/dockerconfigjson"), {
    message: "the Secret shown",
  });
}

step("the form opens the selector in a window of its own", async () => {
  // Signed in first, as the person using the form would be.
  await signIn(page, SAM.username, SAM.password);
  await openSelector("/new-deployment");
});

step("searching and picking shows the tag and pinned references", async () => {
  await popup.getByRole("searchbox", { name: "Search images", exact: true }).pressSequentially("payments/api", { delay: 40 });
  const result = popup.getByRole("button", { name: `${SPACE}/payments/api:1.2.0`, exact: true });
  await result.click();
  await eventually(async () => (await popup.getByRole("button", { name: `${SPACE}/payments/worker:0.9`, exact: true }).count()) === 0, {
    message: "the worker image filtered out",
  });
  assert.equal((await popup.locator("code.reference").innerText()).trim(), `${berth.host}/${SPACE}/payments/api:1.2.0`);
  assert.equal((await popup.locator("code.pinned").innerText()).trim(), `${berth.host}/${SPACE}/payments/api@${digests["payments/api"]}`);
});

step("selector screenshots at 1280 and 390 px", async () => {
  await screenshots(popup, "selector");
});

step("every control of the selector has an accessible name", async () => {
  const unnamed = (await controlNames(popup, "body")).filter((c) => !c.name);
  assert.deepEqual(unnamed, []);
});

let pullSecret;
step("the private image offers a pull secret that pulls it", async () => {
  const section = popup.getByRole("region", { name: "Pull secret" }).or(popup.locator("section", { has: popup.getByRole("heading", { name: "Pull secret" }) }));
  await section.first().waitFor();
  await createPullSecret("prod", "payments-pull");
});

step("without the consent box ticked, Use this image sends no pull secret", async () => {
  // Any site may name itself as the origin, so a named origin alone never gets credentials.
  await consentBox().waitFor();
  assert.equal(await consentBox().isChecked(), false, "the consent box starts unticked");
  const data = await useThisImage();
  assert.equal(data.needs_pull_secret, true);
  assert.equal(data.pinned, `${berth.host}/${SPACE}/payments/api@${digests["payments/api"]}`);
  assert.equal(data.pull_secret, null, "no secret without the user's consent");
});

step("with the consent box ticked, Use this image posts the references and the secret", async () => {
  await consentBox().check();
  const data = await useThisImage();
  assert.equal(data.workspace, WS);
  assert.equal(data.tag, "1.2.0");
  assert.equal(data.digest, digests["payments/api"]);
  assert.equal(data.reference, `${berth.host}/${SPACE}/payments/api:1.2.0`);
  assert.equal(data.pinned, `${berth.host}/${SPACE}/payments/api@${digests["payments/api"]}`);
  assert.equal(data.needs_pull_secret, true);
  pullSecret = data.pull_secret;
  assert.equal(pullSecret?.kind, "Secret", "the user ticked the box, so the secret comes along");
  assert.deepEqual(pullSecret.metadata, { name: "payments-pull", namespace: "prod" });
  assert.equal(await page.locator("#chosen").innerText(), data.pinned);
  // The secret's credentials pull the image they were made for.
  const config = JSON.parse(Buffer.from(pullSecret.data[".dockerconfigjson"], "base64").toString());
  const login = config.auths[berth.host];
  assert.ok(login, `the secret has a login for ${berth.host}`);
  const read = await inspect(data.pinned, { creds: `${login.username}:${login.password}` });
  assert.ok(read.manifest.layers.length > 0);
});

step("without origin there is no consent box and no pull secret", async () => {
  await popup.close();
  await openSelector("/new-deployment?no-origin");
  await pickPaymentsApi();
  await createPullSecret("staging", "payments-pull");
  assert.equal(await popup.getByRole("checkbox", { name: /Send the pull secret/ }).count(), 0, "nothing to consent to");
  const data = await useThisImage();
  assert.equal(data.needs_pull_secret, true);
  assert.equal(data.pull_secret, null, "no origin named, so no secret");
});

step("embedded, the selector has no header", async () => {
  await popup.goto(`/select?workspace=${WS}&embed=1`);
  await popup.getByRole("searchbox", { name: "Search images", exact: true }).waitFor();
  assert.equal(await popup.getByRole("button", { name: "Sign out" }).count(), 0);
});
