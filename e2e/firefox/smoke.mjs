// A smoke run of the console in Firefox (Debian's firefox-esr), driven over W3C WebDriver by
// geckodriver: playwright-core cannot drive a stock Firefox. It signs in, searches the image
// list, opens an image's details and its artifact, opens the push dialog and the selector,
// and fails on any script error; screenshots of each at 1280 px (and the list at 390 px) go
// to target/e2e-screenshots/firefox-*.png. scripts/e2e-firefox runs it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort, setupTenancy, startBerth, uploadImage, ADMIN_PASSWORD } from "../lib/berth.js";
import { SCREENSHOTS } from "../lib/browser.js";
import { writeOciArchive } from "../lib/image.js";

const GECKODRIVER = process.env.GECKODRIVER || "geckodriver";
const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const berth = await startBerth("firefox");
await setupTenancy(berth, { workspace: "team-fox", space: "fox" });
const archive = writeOciArchive(join(berth.work, "app.tar"), { name: "app", tag: "1.0" }).path;
await uploadImage(berth, { workspace: "team-fox", space: "fox", repository: "web/app", tag: "1.0", file: archive });

const port = await freePort();
const driver = spawn(GECKODRIVER, ["--port", String(port)], { stdio: "ignore" });
const webdriver = `http://127.0.0.1:${port}`;
let session = null;
let failed = false;

// One WebDriver command; an error answer becomes an exception naming the command.
async function command(method, path, body) {
  const answer = await fetch(webdriver + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const { value } = await answer.json();
  if (value && value.error) throw new Error(`${method} ${path}: ${value.error}: ${value.message}`);
  return value;
}
const inSession = (method, path, body) => command(method, `/session/${session}${path}`, body);
const script = (source, args = []) => inSession("POST", "/execute/sync", { script: source, args });
async function element(css, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return Object.values(await inSession("POST", "/element", { using: "css selector", value: css }))[0];
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`no element ${css}: ${error.message}`);
      await sleep(100);
    }
  }
}
const click = async (css) => inSession("POST", `/element/${await element(css)}/click`, {});
const type = async (css, text) => inSession("POST", `/element/${await element(css)}/value`, { text });
async function screenshot(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(join(SCREENSHOTS, `firefox-${name}.png`), Buffer.from(await inSession("GET", "/screenshot"), "base64"));
}
// Script errors anywhere in the console are collected by a listener each page installs first.
const watchErrors = () =>
  script("window.__errors = window.__errors || []; addEventListener('error', (e) => window.__errors.push(String(e.message)));");
const errors = () => script("return window.__errors || [];");

try {
  let capabilities;
  // geckodriver takes a moment to listen.
  for (let i = 0; ; i += 1) {
    try {
      ({ sessionId: session, capabilities } = await command("POST", "/session", {
        capabilities: { alwaysMatch: { browserName: "firefox", "moz:firefoxOptions": { binary: FIREFOX, args: ["-headless"] } } },
      }));
      break;
    } catch (error) {
      if (i > 50) throw error;
      await sleep(200);
    }
  }
  console.log(`firefox ${capabilities.browserVersion}`);
  await inSession("POST", "/window/rect", { width: 1280, height: 900 });

  await inSession("POST", "/url", { url: `${berth.base}/login` });
  await type("#username", "admin");
  await type("#password", ADMIN_PASSWORD);
  await click("form button[type=submit]");
  await element("table.images tbody tr");
  await watchErrors();
  await type("#filter-q", "WEB");
  for (let i = 0; i < 50; i += 1) {
    const rows = await script("return [...document.querySelectorAll('table.images a.repo-link')].map((a) => a.textContent);");
    if (rows.length === 1 && rows[0] === "fox/web/app") break;
    assert.ok(i < 49, `search as you type found ${rows}`);
    await sleep(100);
  }
  console.log("ok: sign-in, image list, search as you type");
  await screenshot("list-1280");
  await inSession("POST", "/window/rect", { width: 390, height: 844 });
  await screenshot("list-390");
  await inSession("POST", "/window/rect", { width: 1280, height: 900 });

  await click("a.repo-link");
  await element("table.tag-table td.tag button");
  assert.equal(await script("return document.querySelector('h1').textContent;"), "fox/web/app");
  await click("table.tag-table td.tag button");
  await element("table.layers code.created-by");
  const layers = await script("return document.querySelectorAll('table.layers tbody tr').length;");
  assert.ok(layers > 0, "the artifact view lists layers");
  console.log(`ok: detail page and artifact view (${layers} layers)`);
  await screenshot("detail-1280");

  await inSession("POST", "/url", { url: `${berth.base}/images?workspace=team-fox` });
  await watchErrors();
  await click("#push-button");
  await element("dialog [role=tabpanel] pre");
  console.log("ok: push dialog");
  await screenshot("push-1280");

  await inSession("POST", "/url", { url: `${berth.base}/select?workspace=team-fox` });
  await watchErrors();
  await type("input[type=search]", "app");
  await element("code.reference", 1000).catch(async () => {
    await click("main button[aria-pressed]");
    await element("code.reference");
  });
  console.log("ok: selector");
  await screenshot("select-1280");
  assert.deepEqual(await errors(), [], "no script errors");
} catch (error) {
  failed = true;
  console.error(`firefox smoke failed: ${error.message}`);
  if (session) await screenshot("failed").catch(() => {});
} finally {
  if (session) await inSession("DELETE", "").catch(() => {});
  driver.kill();
  await berth.stop({ keep: failed });
}
process.exit(failed ? 1 : 0);
