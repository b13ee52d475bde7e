// Starts a real `berth serve` for one test file: its own port, temp data dir and SQLite
// database, the platform admin's password from BERTH_ADMIN_PASSWORD and BERTH_EXTERNAL_URL
// matching the port, so the registry host the console prints is the one skopeo can reach.
// Also a small REST client for setting up what a test is not about.

import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ADMIN_PASSWORD = "e2e-admin-password-1";

function portFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

// A free port: from E2E_PORT_RANGE ("7400-7499") when set, so runs on a shared machine stay
// in their own range, else one the kernel hands out.
export async function freePort() {
  const range = process.env.E2E_PORT_RANGE;
  if (range) {
    const [low, high] = range.split("-").map(Number);
    const span = high - low + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i += 1) {
      const port = low + ((start + i) % span);
      if (await portFree(port)) return port;
    }
    throw new Error(`no free port in E2E_PORT_RANGE=${range}`);
  }
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class ApiError extends Error {
  constructor(method, path, status, body) {
    super(`${method} ${path} answered ${status}: ${typeof body === "string" ? body : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

export async function startBerth(label = "e2e") {
  const bin = resolve(REPO_ROOT, process.env.BERTH_BIN || "target/debug/berth");
  const root = mkdtempSync(join(process.env.E2E_TMP || tmpdir(), `berth-${label}-`));
  const data = join(root, "data");
  const work = join(root, "work");
  mkdirSync(data);
  mkdirSync(work);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logPath = join(root, "berth.log");
  const log = createWriteStream(logPath);
  // Only the variables set here: a BERTH_DATABASE_URL of the caller's must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("BERTH_")));
  Object.assign(env, {
    BERTH_DATA_DIR: data,
    BERTH_DATABASE_URL: `sqlite://${data}/berth.db`,
    BERTH_LISTEN: `127.0.0.1:${port}`,
    BERTH_EXTERNAL_URL: base,
    BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    RUST_LOG: process.env.E2E_RUST_LOG || "warn",
  });
  const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
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
  const deadline = Date.now() + Number(process.env.E2E_READY_TIMEOUT || 60) * 1000;
  for (;;) {
    if (exited) throw new Error(`berth serve (${bin}) exited during startup: ${JSON.stringify(exited)}\n${logTail()}`);
    try {
      const answer = await fetch(`${base}/readyz`);
      if (answer.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`berth serve not ready at ${base}/readyz\n${logTail()}`);
    }
    await sleep(100);
  }

  const tokens = new Map();
  const berth = {
    base,
    port,
    host: `127.0.0.1:${port}`,
    root,
    work,
    logTail,
    adminPassword: ADMIN_PASSWORD,

    // `api("/workspaces", {method: "POST", body: {...}, as: "admin"})`; `as` is a username
    // signed in with `login` before, or an `Authorization` header value.
    async api(path, { method = "GET", body, as = "admin", headers = {}, raw = false } = {}) {
      const auth = as.includes(" ") ? as : `Bearer ${await berth.token(as)}`;
      const init = { method, headers: { Accept: "application/json", Authorization: auth, ...headers } };
      if (body !== undefined) {
        if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
          init.body = body;
        } else {
          init.body = JSON.stringify(body);
          init.headers["Content-Type"] = "application/json";
        }
      }
      const answer = await fetch(`${base}/api/v1${path}`, init);
      if (raw) return answer;
      const text = await answer.text();
      let parsed = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: keep the text for the error message.
      }
      if (!answer.ok) throw new ApiError(method, path, answer.status, parsed);
      return parsed;
    },

    async login(username, password) {
      const answer = await fetch(`${base}/api/v1/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      if (!answer.ok) throw new ApiError("POST", "/auth/login", answer.status, await answer.text());
      const { token } = await answer.json();
      tokens.set(username, { token, password });
      return token;
    },

    async token(username) {
      if (!tokens.has(username)) {
        if (username !== "admin") throw new Error(`no session for ${username}: call berth.login first`);
        await berth.login("admin", ADMIN_PASSWORD);
      }
      return tokens.get(username).token;
    },

    async stop({ keep = false } = {}) {
      if (!exited) {
        child.kill("SIGTERM");
        for (let i = 0; i < 50 && !exited; i += 1) await sleep(100);
        if (!exited) child.kill("SIGKILL");
      }
      log.end();
      if (keep || process.env.E2E_KEEP_TMP === "1") {
        console.log(`# kept ${root} (berth log: ${logPath})`);
      } else {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  return berth;
}

const enc = encodeURIComponent;

// The tenancy a test starts from, made through the API: a workspace, a private hosted space
// bound to it, and optionally users with roles in it.
export async function setupTenancy(berth, { workspace, space, isPublic = false, users = [] }) {
  await berth.api("/workspaces", { method: "POST", body: { name: workspace } });
  if (space) {
    await berth.api("/registries/hosted/spaces", { method: "POST", body: { name: space, public: isPublic } });
    await berth.api(`/registries/hosted/spaces/${enc(space)}/bindings`, { method: "PUT", body: { workspaces: [workspace] } });
  }
  for (const { username, password, role } of users) {
    await createUser(berth, { username, password, workspace, role });
  }
}

export async function createUser(berth, { username, password, workspace, role = "editor" }) {
  await berth.api("/users", { method: "POST", body: { username, password } });
  if (workspace) {
    await berth.api(`/workspaces/${enc(workspace)}/members/${enc(username)}`, { method: "PUT", body: { role } });
  }
  await berth.login(username, password);
}

// Stores an OCI layout tarball as `<space>/<repository>:<tag>` through the upload API.
export async function uploadImage(berth, { workspace, space, repository, tag, file }) {
  const q = new URLSearchParams({ repository, tag });
  return berth.api(`/workspaces/${enc(workspace)}/registries/hosted/spaces/${enc(space)}/uploads?${q}`, {
    method: "POST",
    body: readFileSync(file),
    headers: { "Content-Type": "application/x-tar" },
  });
}

export async function pushCommand(berth, { workspace, space, repository, tag, temporary = true }) {
  const q = new URLSearchParams({ repository, tag, temporary: String(temporary) });
  return berth.api(`/workspaces/${enc(workspace)}/registries/hosted/spaces/${enc(space)}/push-command?${q}`);
}

export function repositoryPath(workspace, repository) {
  return `/workspaces/${enc(workspace)}/registries/hosted/repositories/${enc(repository)}`;
}
