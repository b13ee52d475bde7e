// CNCF Distribution (`/usr/bin/docker-registry`, Debian's `docker-registry` package) as the
// external registry a test syncs from: its own free loopback port, config and filesystem
// storage in a temp dir, no authentication. The config mirrors the one of
// crates/testkit/src/distribution.rs, which the Rust tests use.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./berth.js";

export const DOCKER_REGISTRY = process.env.DOCKER_REGISTRY || "/usr/bin/docker-registry";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startDistribution(label = "e2e") {
  if (!existsSync(DOCKER_REGISTRY)) {
    throw new Error(`${DOCKER_REGISTRY} is missing: install Debian's docker-registry package (scripts/e2e does)`);
  }
  const root = mkdtempSync(join(process.env.E2E_TMP || tmpdir(), `distribution-${label}-`));
  const storage = join(root, "storage");
  mkdirSync(storage);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = {
    version: "0.1",
    log: { level: "warn", accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storage },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: host, secret: "berth-e2e", headers: { "X-Content-Type-Options": ["nosniff"] } },
  };
  // JSON is YAML, so the config needs no YAML writer.
  writeFileSync(join(root, "config.yml"), JSON.stringify(config, null, 2));
  const logPath = join(root, "registry.log");
  const log = createWriteStream(logPath);
  const child = spawn(DOCKER_REGISTRY, ["serve", join(root, "config.yml")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  child.on("error", (error) => {
    exited = { error };
  });
  const logTail = () => {
    try {
      return readFileSync(logPath, "utf8").split("\n").slice(-25).join("\n");
    } catch {
      return "(no log)";
    }
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`docker-registry exited during startup: ${JSON.stringify(exited)}\n${logTail()}`);
    try {
      const answer = await fetch(`http://${host}/v2/`);
      if (answer.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`docker-registry did not answer on ${host}\n${logTail()}`);
    }
    await sleep(50);
  }

  const registry = {
    host,
    url: `http://${host}`,
    root,
    logTail,

    // Stops the process and keeps its files, so a test can see Berth meet a registry that is
    // gone; the port then refuses connections.
    async kill() {
      if (exited) return;
      child.kill("SIGTERM");
      for (let i = 0; i < 50 && !exited; i += 1) await sleep(100);
      if (!exited) child.kill("SIGKILL");
    },

    async stop({ keep = false } = {}) {
      await registry.kill();
      log.end();
      if (keep || process.env.E2E_KEEP_TMP === "1") {
        console.log(`# kept ${root} (registry log: ${logPath})`);
      } else {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  return registry;
}
