// Vulnerability scans in the console: a Debian image uploaded to a space is scanned on its own
// (against real OSV advisories imported with `berth vulndb import`), the list shows its
// severity badge, the detail page's card draws the distribution with a count per severity, and
// the artifact view lists the report, filters it by severity and fixability, links each id,
// shows the scan log (the layers read, the rescan's layers from the cache) and scans again.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { REPO_ROOT, createUser, repositoryPath, setupTenancy, startBerth, uploadImage } from "../lib/berth.js";
import { eventually, expectBuilt, flow, launch, newContext, screenshots, signIn } from "../lib/browser.js";
import { writeOciArchive } from "../lib/image.js";

const WS = "team-scan";
const SPACE = "base";
const REPO = `${SPACE}/debian`;
const TAG = "12";
const EDNA = { username: "edna", password: "edna-password-1" };
const VIC = { username: "vic", password: "vic-password-1" };

let berth;
let browser;
let page;
let built;
const step = flow("scan", () => page);

before(async () => {
  berth = await startBerth("scan");
  await setupTenancy(berth, { workspace: WS, space: SPACE, users: [{ ...EDNA, role: "editor" }] });
  await createUser(berth, { ...VIC, workspace: WS, role: "viewer" });
  // The real advisories of the image's packages, imported beside the running server.
  const bin = resolve(REPO_ROOT, process.env.BERTH_BIN || "target/debug/berth");
  execFileSync(bin, ["vulndb", "import", join(REPO_ROOT, "crates/scanner/tests/data/osv"), "--database-url", `sqlite://${join(berth.root, "data")}/berth.db`], {
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("BERTH_"))),
  });
  built = writeOciArchive(join(berth.work, "debian.tar"), {
    name: "debian",
    tag: TAG,
    baseFiles: {
      "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
      "var/lib/dpkg/status": readFileSync(join(REPO_ROOT, "crates/scan/tests/data/dpkg-status")),
    },
  });
  await uploadImage(berth, { workspace: WS, space: SPACE, repository: "debian", tag: TAG, file: built.path });
  // Scanned on its own after the upload.
  await eventually(
    async () => (await berth.api(`${repositoryPath(WS, REPO)}/artifacts/${built.manifestDigest}`)).scan.status === "success",
    { timeout: 60_000, message: "the uploaded image's scan succeeds" },
  );
  browser = await launch();
  const context = await newContext(browser, berth);
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await berth?.stop({ keep: step.failed() });
});

step("the image list shows the highest severity as a badge beside the distribution", async () => {
  await signIn(page, EDNA.username, EDNA.password);
  const row = page.locator("main tr").filter({ has: page.getByRole("link", { name: REPO, exact: true }) });
  await row.waitFor();
  const cell = row.locator('td[data-label="Vulnerabilities"]');
  const badge = cell.locator(".sev-badge");
  await badge.waitFor();
  const scan = (await berth.api(`${repositoryPath(WS, REPO)}/artifacts/${built.manifestDigest}`)).scan;
  assert.equal(await badge.innerText(), `${scan.counts[scan.severity]} ${scan.severity}`);
  const bar = cell.getByRole("img");
  assert.match(await bar.getAttribute("aria-label"), new RegExp(`${scan.counts.low} low`));
});

step("the card draws the distribution with a count per severity", async () => {
  await page.getByRole("link", { name: REPO, exact: true }).click();
  await expectBuilt(page, "the image detail page");
  const card = page.locator("main section.repo-scan");
  await card.getByRole("heading", { name: "Vulnerabilities", exact: true }).waitFor();
  const scan = (await berth.api(`${repositoryPath(WS, REPO)}/artifacts/${built.manifestDigest}`)).scan;
  const legend = card.getByRole("list", { name: "Vulnerabilities by severity" });
  for (const severity of ["critical", "high", "medium", "low", "none", "unknown"]) {
    const item = legend.getByRole("listitem").filter({ hasText: severity });
    assert.equal(await item.locator(".sev-count").innerText(), String(scan.counts[severity]), severity);
  }
  assert.match(await card.innerText(), new RegExp(`${TAG}: ${scan.total} vulnerabilities`));
  assert.match(await card.innerText(), new RegExp(`${scan.fixable} of ${scan.total} fixable`));
  await card.getByRole("img").waitFor();
});

step("the artifact view lists the report, filters it, links each id and shows the log", async () => {
  await page.getByRole("button", { name: TAG, exact: true }).first().click();
  const section = page.locator("section.vulnerabilities");
  await section.getByRole("heading", { name: "Vulnerabilities", exact: true }).waitFor();
  const rows = section.locator("table.vulns tbody tr");
  await eventually(async () => (await rows.count()) > 0, { message: "the report is drawn" });
  const total = (await berth.api(`${repositoryPath(WS, REPO)}/artifacts/${built.manifestDigest}/vulnerabilities?limit=500`)).total;
  assert.equal(await rows.count(), total);
  const zlib = rows.filter({ hasText: "DEBIAN-CVE-2026-27171" });
  assert.match(await zlib.innerText(), /zlib1g/);
  assert.match(await zlib.innerText(), /1:1\.2\.13\.dfsg-1\+deb12u1/);
  assert.equal(await zlib.getByRole("link", { name: "DEBIAN-CVE-2026-27171" }).getAttribute("href"), "https://osv.dev/vulnerability/DEBIAN-CVE-2026-27171");

  await section.getByLabel("Fix").selectOption("false");
  const unfixable = (await berth.api(`${repositoryPath(WS, REPO)}/artifacts/${built.manifestDigest}/vulnerabilities?fixable=false&limit=500`)).total;
  await eventually(async () => (await rows.count()) === unfixable, { message: "only unfixable ones are listed" });
  assert.ok(await rows.filter({ hasText: "no fix" }).count() === unfixable);
  await section.getByLabel("Fix").selectOption("");
  await section.getByLabel("Severity").selectOption("low");
  const lowAndAbove = (await berth.api(`${repositoryPath(WS, REPO)}/artifacts/${built.manifestDigest}/vulnerabilities?severity=low&limit=500`)).total;
  await eventually(async () => (await rows.count()) === lowAndAbove, { message: "the severity filter applies" });

  await section.getByText("Scan log", { exact: true }).click();
  const log = section.locator(".scan-log");
  await eventually(async () => /operating system: Debian GNU\/Linux 12/.test(await log.innerText()), { message: "the log is shown" });
  assert.match(await log.innerText(), /layer 1\/\d+ sha256:[0-9a-f]+: read/);
  await section.getByLabel("Severity").selectOption("");
  await eventually(async () => (await rows.count()) === total, { message: "the filter is cleared" });
  await screenshots(page, "scan-artifact");
});

step("an editor scans again; the rescan reads every layer from the cache", async () => {
  const section = page.locator("section.vulnerabilities");
  await section.getByRole("button", { name: "Scan again" }).click();
  await eventually(async () => (await section.getByRole("button", { name: "Scan again" }).count()) === 1, { timeout: 30_000, message: "the rescan ends" });
  await eventually(async () => {
    const log = await berth.api(`${repositoryPath(WS, REPO)}/artifacts/${built.manifestDigest}/scan-log`);
    return log.lines.filter((l) => l.message.includes("from the cache")).length === built.layers.length;
  }, { timeout: 30_000, message: "the rescan's log says every layer came from the cache" });
});

step("a viewer reads the report but is offered no scan button", async () => {
  const viewer = await (await newContext(browser, berth)).newPage();
  await signIn(viewer, VIC.username, VIC.password);
  await viewer.goto(`/images/hosted/${REPO}?workspace=${WS}&digest=${encodeURIComponent(built.manifestDigest)}`);
  const section = viewer.locator("section.vulnerabilities");
  await section.locator("table.vulns tbody tr").first().waitFor();
  assert.equal(await section.getByRole("button", { name: /Scan/ }).count(), 0);
});
