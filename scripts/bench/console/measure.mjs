#!/usr/bin/env node
// The browser half of scripts/bench-console: opens the console in headless Chromium (driven by
// playwright-core from e2e/node_modules) against a running Berth filled by gen-catalog, and
// measures with the page's own clocks (performance.now(), whose zero is the navigation start,
// and the Performance API's paint and resource entries):
//
//   list page      /images?workspace=<a bench workspace>: first contentful paint, and
//                  "interactive" = the first table row laid out and the "Search repositories"
//                  input enabled, seen by a MutationObserver installed before any page script,
//                  stamped in the next animation frame (when that frame is drawn). One cold
//                  load (a fresh browser profile: empty cache, only the session in storage),
//                  then BENCH_LOADS warm loads.
//   page weight    of the cold list load: every navigation and resource entry (document,
//                  scripts, styles, API answers). decodedBodySize is the bytes before
//                  compression; transferSize adds the headers (Berth does not compress, so
//                  encodedBodySize equals decodedBodySize).
//   detail page    /images/hosted/library/ci-runner (10,000 tags at full size): the h1 naming
//                  the repository and the first row of its tags table.
//   search         BENCH_SEARCHES searches typed into "Search repositories" with
//                  BENCH_KEY_DELAY ms between keystrokes: from the last keystroke's input
//                  event to the DOM change that makes the table show exactly the rows the API
//                  answers for the whole term.
//
// Usage: measure.mjs BASE CATALOG_JSON — prints the report; exit 1 when a figure could not be
// measured.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const { chromium } = createRequire(join(REPO_ROOT, "e2e/package.json"))("playwright-core");

const [base, catalogPath] = process.argv.slice(2);
if (!base || !catalogPath) {
  console.error("usage: measure.mjs BASE CATALOG_JSON");
  process.exit(2);
}
const catalog = JSON.parse(readFileSync(catalogPath, "utf8"));
const LOADS = Number(process.env.BENCH_LOADS || 20);
const SEARCHES = Number(process.env.BENCH_SEARCHES || 20);
const KEY_DELAY = Number(process.env.BENCH_KEY_DELAY || 120);
const TIMEOUT = Number(process.env.BENCH_PAGE_TIMEOUT || 30_000);
const TARGETS = { interactive: 500, weightKiB: 200, search: 150 };
const log = (...a) => console.error(`[bench-console ${new Date().toTimeString().slice(0, 8)}]`, ...a);

const workspace = process.env.BENCH_WORKSPACE || catalog.bench_workspaces[0];
const big = catalog.big_repository;
const bigPath = big.repository.startsWith(`${big.space}/`) ? big.repository : `${big.space}/${big.repository}`;
const listUrl = `/images?workspace=${encodeURIComponent(workspace)}`;
const detailUrl = `/images/${big.registry}/${bigPath}?workspace=${encodeURIComponent(workspace)}`;

// Runs in every page before the console's scripts: watches the DOM for the two "ready"
// conditions and stamps the frame that first shows them.
function watcher(bigRepository) {
  const marks = {};
  window.__bench = marks;
  const stamp = (name) => {
    if (marks[name] !== undefined || marks[`${name}Seen`] !== undefined) return;
    marks[`${name}Seen`] = performance.now();
    requestAnimationFrame(() => {
      marks[name] = performance.now();
    });
  };
  const check = () => {
    const main = document.querySelector("main");
    if (!main) return;
    const row = main.querySelector("table tbody tr");
    const laidOut = row && row.getBoundingClientRect().height > 0;
    const search = document.querySelector('input[aria-label="Search repositories"]');
    if (laidOut && search && !search.disabled && location.pathname === "/images") stamp("list");
    const h1 = main.querySelector("h1");
    if (laidOut && h1 && h1.textContent.trim() === bigRepository) stamp("detail");
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { n: sorted.length, median: at(0.5), p95: at(0.95), min: sorted[0], max: sorted[sorted.length - 1] };
}
const ms = (v) => (v === undefined ? "?" : `${Math.round(v)} ms`);
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

async function apiLogin(username, password) {
  const answer = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!answer.ok) throw new Error(`login as ${username}: ${answer.status} ${await answer.text()}`);
  return (await answer.json()).token;
}

// One navigation to `url`, waiting for `mark`; answers its timings.
async function load(page, url, mark) {
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction((m) => window.__bench && window.__bench[m] !== undefined, mark, { timeout: TIMEOUT, polling: 50 });
  return page.evaluate((m) => {
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    const nav = performance.getEntriesByType("navigation")[0];
    return {
      ready: window.__bench[m],
      seen: window.__bench[`${m}Seen`],
      fcp: paint ? paint.startTime : undefined,
      ttfb: nav ? nav.responseStart : undefined,
    };
  }, mark);
}

// Every navigation and resource entry of the page so far, once the network is quiet.
async function weight(page) {
  await page.waitForLoadState("networkidle").catch(() => {});
  return page.evaluate(() =>
    [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map((e) => ({
      name: new URL(e.name).pathname,
      type: e.initiatorType,
      transfer: e.transferSize,
      encoded: e.encodedBodySize,
      decoded: e.decodedBodySize,
    })),
  );
}

function kind(entry) {
  if (entry.name.startsWith("/api/")) return "api";
  if (entry.name.endsWith(".js")) return "js";
  if (entry.name.endsWith(".css")) return "css";
  if (entry.type === "navigation") return "html";
  return "other";
}

async function measurePage(browser, storageState, url, mark, label) {
  const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 900 }, baseURL: base });
  await context.addInitScript(watcher, bigPath);
  const page = await context.newPage();
  try {
    const cold = await load(page, url, mark);
    const coldWeight = await weight(page);
    const warm = [];
    for (let i = 0; i < LOADS; i += 1) warm.push(await load(page, url, mark));
    const warmWeight = await weight(page);
    log(`${label}: cold ${ms(cold.ready)}, warm median ${ms(stats(warm.map((w) => w.ready)).median)}`);
    return { cold, coldWeight, warm, warmWeight, page, context };
  } catch (error) {
    await context.close();
    throw error;
  }
}

async function measureSearch(page, token) {
  const terms = (catalog.q_terms || []).filter(Boolean);
  if (terms.length === 0) throw new Error("the catalog has no q_terms");
  const expectedRows = async (q) => {
    const answer = await fetch(`${base}/api/v1/workspaces/${encodeURIComponent(workspace)}/images?${new URLSearchParams({ q, limit: "50" })}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!answer.ok) throw new Error(`images?q=${q}: ${answer.status}`);
    return (await answer.json()).items.map((i) => i.repository);
  };
  const search = page.getByRole("searchbox", { name: "Search repositories", exact: true });
  const samples = [];
  const failures = [];
  for (let i = 0; i < SEARCHES; i += 1) {
    const term = terms[i % terms.length];
    const expected = await expectedRows(term);
    if (expected.length === 0) {
      failures.push(`${term}: no rows in ${workspace}`);
      continue;
    }
    // Start from the unfiltered list, settled.
    await search.fill("");
    await page.waitForFunction(() => !document.querySelector("main [aria-busy=true]") && document.querySelector("main table tbody tr"), null, { timeout: TIMEOUT });
    await page.evaluate(
      ({ term, expected }) => {
        const input = document.querySelector('input[aria-label="Search repositories"]');
        const state = { lastInput: undefined, done: undefined };
        window.__search = state;
        input.addEventListener("input", () => {
          state.lastInput = performance.now();
          state.value = input.value;
        });
        const rows = () => [...document.querySelectorAll("main table tbody tr")].map((tr) => tr.querySelector("a")?.textContent.trim());
        const observer = new MutationObserver(() => {
          if (state.value !== term || state.done !== undefined) return;
          const shown = rows();
          if (shown.length === expected.length && shown.every((r, k) => r === expected[k])) {
            state.done = performance.now();
            observer.disconnect();
          }
        });
        observer.observe(document.querySelector("main"), { subtree: true, childList: true, characterData: true });
      },
      { term, expected },
    );
    await search.pressSequentially(term, { delay: KEY_DELAY });
    try {
      await page.waitForFunction(() => window.__search.done !== undefined, null, { timeout: 10_000, polling: 50 });
      const { lastInput, done } = await page.evaluate(() => window.__search);
      samples.push(done - lastInput);
    } catch {
      failures.push(`${term}: the table never showed the API's rows`);
    }
  }
  return { samples, failures, terms: [...new Set(Array.from({ length: SEARCHES }, (_, i) => terms[i % terms.length]))] };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const version = browser.version();
const lines = [];
const missed = [];
let status = 0;
try {
  // Sign in through the form once; every measured profile starts from that session only.
  const signin = await browser.newContext({ baseURL: base });
  const page = await signin.newPage();
  await page.goto("/login");
  await page.getByLabel("Username", { exact: true }).fill(catalog.bench_user);
  await page.getByLabel("Password", { exact: true }).fill(catalog.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/images", { timeout: TIMEOUT });
  const storageState = await signin.storageState();
  await signin.close();
  const token = await apiLogin(catalog.bench_user, catalog.password);
  log(`signed in as ${catalog.bench_user}; workspace ${workspace}; ${LOADS} warm loads per page`);

  const list = await measurePage(browser, storageState, listUrl, "list", "list page");
  const interactive = stats(list.warm.map((w) => w.ready));
  const fcp = stats(list.warm.map((w) => w.fcp).filter((v) => v !== undefined));
  lines.push(`list page first render  median ${ms(fcp.median)}  p95 ${ms(fcp.p95)}  (cold ${ms(list.cold.fcp)})   first contentful paint`);
  lines.push(`list page interactive   median ${ms(interactive.median)}  p95 ${ms(interactive.p95)}  (cold ${ms(list.cold.ready)})   first row shown, search enabled`);
  if (interactive.p95 >= TARGETS.interactive || list.cold.ready >= TARGETS.interactive) {
    missed.push(`list page interactive p95 ${ms(interactive.p95)} / cold ${ms(list.cold.ready)} >= ${TARGETS.interactive} ms`);
  }

  const entries = list.coldWeight;
  const decoded = entries.reduce((s, e) => s + e.decoded, 0);
  const transferred = entries.reduce((s, e) => s + e.transfer, 0);
  const byKind = {};
  for (const e of entries) {
    const k = kind(e);
    byKind[k] = byKind[k] || { n: 0, decoded: 0 };
    byKind[k].n += 1;
    byKind[k].decoded += e.decoded;
  }
  const parts = Object.entries(byKind).map(([k, v]) => `${k} ${v.n} × ${kib(v.decoded)}`).join(", ");
  // The warm figure is one warm load: the entries after the last navigation.
  const warmTransferred = list.warmWeight.reduce((s, e) => s + e.transfer, 0);
  lines.push(`list page weight        ${kib(decoded)} before compression (sum of decodedBodySize), ${kib(transferred)} transferred with headers (transferSize); ${entries.length} requests: ${parts}`);
  lines.push(`                        a warm reload transfers ${kib(warmTransferred)} (assets revalidated: 304 without a body)`);
  if (decoded >= TARGETS.weightKiB * 1024) missed.push(`list page weight ${kib(decoded)} >= ${TARGETS.weightKiB} KiB`);
  if (process.env.BENCH_VERBOSE === "1") {
    for (const e of entries) lines.push(`    ${e.name.padEnd(48)} ${String(e.decoded).padStart(8)} B decoded  ${String(e.transfer).padStart(8)} B transferred`);
  }

  try {
    const search = await measureSearch(list.page, token);
    if (search.samples.length) {
      const s = stats(search.samples);
      lines.push(`search results          median ${ms(s.median)}  p95 ${ms(s.p95)}  after the last keystroke (${s.n} searches, ${KEY_DELAY} ms between keys; terms: ${search.terms.join(", ")})`);
      if (s.p95 >= TARGETS.search) missed.push(`search results p95 ${ms(s.p95)} >= ${TARGETS.search} ms`);
    }
    if (search.failures.length) {
      lines.push(`search results          FAILED for ${search.failures.length}: ${search.failures.join("; ")}`);
      status = 1;
    }
  } catch (error) {
    lines.push(`search results          not measured: ${error.message.split("\n")[0]}`);
    status = 1;
  }
  await list.context.close();

  try {
    const detail = await measurePage(browser, storageState, detailUrl, "detail", "detail page");
    const d = stats(detail.warm.map((w) => w.ready));
    const dfcp = stats(detail.warm.map((w) => w.fcp).filter((v) => v !== undefined));
    const dDecoded = detail.coldWeight.reduce((s, e) => s + e.decoded, 0);
    lines.push(`detail page first render median ${ms(dfcp.median)}  p95 ${ms(dfcp.p95)}  (cold ${ms(detail.cold.fcp)})   ${bigPath}, ${big.tags.toLocaleString("en")} tags`);
    lines.push(`detail page interactive median ${ms(d.median)}  p95 ${ms(d.p95)}  (cold ${ms(detail.cold.ready)})   h1 and first tag row shown; cold weight ${kib(dDecoded)}`);
    await detail.context.close();
  } catch (error) {
    lines.push(`detail page             not measured: ${error.message.split("\n")[0]} (${detailUrl})`);
    status = 1;
  }
} finally {
  await browser.close();
}

console.log(`chromium ${version}, playwright-core, ${LOADS} warm loads after one cold load per page; workspace ${workspace}`);
for (const line of lines) console.log(line);
console.log(`targets: list page interactive < ${TARGETS.interactive} ms, page weight < ${TARGETS.weightKiB} KiB before compression, search results < ${TARGETS.search} ms after the last keystroke (p95 and cold load checked)`);
console.log(`targets missed: ${missed.length ? missed.join("; ") : "none"}`);
process.exit(status);
