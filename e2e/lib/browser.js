// Headless Chromium from Debian (`/usr/bin/chromium`), driven by playwright-core, plus the
// helpers every test file shares: signing in through the form, screenshots at both widths,
// and steps that stop a flow at its first failure.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { REPO_ROOT } from "./berth.js";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS || join(REPO_ROOT, "target/e2e-screenshots");
export const TIMEOUT = Number(process.env.E2E_TIMEOUT || 15_000);

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

// A fresh browser profile (cookies, storage, cache) for one person, at 1280 px. With
// `clipboard: true` the console's copy buttons may write and the test may read the clipboard.
export async function newContext(browser, berth, { clipboard = false, ...options } = {}) {
  const context = await browser.newContext({ baseURL: berth.base, viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(TIMEOUT);
  if (clipboard) await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: berth.base });
  return context;
}

// Signs in through the sign-in form and waits for the image list.
export async function signIn(page, username, password) {
  await page.goto("/login");
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/images");
  await page.getByRole("button", { name: "Sign out", exact: true }).waitFor();
}

// Fails with a clear message while a page is still the placeholder its owner replaces.
export async function expectBuilt(page, what) {
  await page.locator("main").waitFor();
  await page.waitForFunction(() => !document.querySelector("main .state-loading"), null, { timeout: TIMEOUT }).catch(() => {});
  if (await page.getByRole("heading", { name: "Not built yet" }).count()) {
    throw new Error(`${what} is not built yet (the page shows the placeholder)`);
  }
}

// Saves `<name>-1280.png` and `<name>-390.png` of the whole page, then goes back to 1280 px.
export async function screenshots(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const height = page.viewportSize()?.height || 900;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : height });
    // Two frames: the layout for the new width is drawn before the picture is taken.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    // Toasts ("Copied …") from earlier steps would cover the page; they are left out.
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true, style: "#toasts { display: none !important; }" });
  }
  await page.setViewportSize({ width: 1280, height });
}

// Polls `check` (which throws or returns falsy until satisfied) for up to `timeout` ms.
export async function eventually(check, { timeout = TIMEOUT, interval = 100, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = new Error(`${message}: not yet`);
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      last.message = `timed out after ${timeout} ms waiting for ${message}: ${last.message}`;
      throw last;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Steps of one flow, run in order as separate tests: once one fails, the rest are skipped
// (they would fail for the same reason) and the failing page is saved as a screenshot.
// `currentPage()` names the page to picture on failure.
export function flow(prefix, currentPage) {
  let broken = null;
  step.failed = () => broken !== null;
  return step;
  function step(name, fn) {
    test(name, async (t) => {
      if (broken) {
        t.skip(`needs the step "${broken}"`);
        return;
      }
      try {
        await fn(t);
      } catch (error) {
        broken = name;
        const page = currentPage();
        if (page && !page.isClosed()) {
          mkdirSync(SCREENSHOTS, { recursive: true });
          const file = join(SCREENSHOTS, `failed-${prefix}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`);
          await page.screenshot({ path: file, fullPage: true }).catch(() => {});
          error.message += `\n(screenshot: ${file}; page: ${page.url()})`;
        }
        throw error;
      }
    });
  }
}

// The accessible name of every control in `scope`, from aria-label, aria-labelledby, its
// <label>s or, for buttons, its text (placeholders and titles do not count).
export function controlNames(page, scope = "main") {
  return page.evaluate((selector) => {
    const root = document.querySelector(selector) || document;
    return [...root.querySelectorAll("button, input, select, textarea")]
      .filter((el) => el.type !== "hidden")
      .map((el) => {
        const byId = (el.getAttribute("aria-labelledby") || "")
          .split(/\s+/)
          .filter(Boolean)
          .map((id) => document.getElementById(id)?.textContent || "")
          .join(" ");
        const labels = [...(el.labels || [])].map((l) => l.textContent).join(" ");
        const text = el.tagName === "BUTTON" ? el.textContent : "";
        const name = (el.getAttribute("aria-label") || byId || labels || text || "").trim();
        return { tag: el.tagName.toLowerCase(), name, html: el.outerHTML.slice(0, 160) };
      });
  }, scope);
}

// Selects the option of a <select> whose text contains `text` (labels may say more than the
// value, e.g. "builds (private)").
export async function selectContaining(select, text) {
  await eventually(async () => (await select.locator("option").allTextContents()).some((t) => t.includes(text)), {
    message: `an option containing "${text}"`,
  });
  const value = await select.locator("option").evaluateAll(
    (options, wanted) => (options.find((o) => o.textContent.trim() === wanted) || options.find((o) => o.textContent.includes(wanted))).value,
    text,
  );
  await select.selectOption(value);
}
