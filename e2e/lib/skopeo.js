// Runs the lines Berth prints for skopeo, as a person would paste them into a shell, pushes
// straight to other registries, and reads an image back with `skopeo inspect` to check what
// the console shows.

import { execFile } from "node:child_process";
import { join } from "node:path";

function run(file, args, { cwd, env, input, timeout = 60_000 } = {}) {
  return new Promise((done, fail) => {
    const child = execFile(file, args, { cwd, env, timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        error.message += `\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
        fail(error);
      } else {
        done({ stdout, stderr });
      }
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

// skopeo keeps logins in REGISTRY_AUTH_FILE; each test keeps its own beside its work files so
// it neither reads nor changes the user's.
export function skopeoEnv(work) {
  return { ...process.env, REGISTRY_AUTH_FILE: join(work, "auth.json") };
}

// The lines of a push dialog's tab, run by bash with `-e` in `cwd`.
export async function runLines(lines, { cwd, env }) {
  return run("bash", ["-e", "-o", "pipefail", "-c", lines], { cwd, env, timeout: 120_000 });
}

// `skopeo copy` of an OCI layout tarball to `reference` (`host/repo:tag`) over plain HTTP, as
// anyone pushes to a registry that is not Berth.
export async function copyArchive(file, reference, { env } = {}) {
  return run("skopeo", ["copy", "--dest-tls-verify=false", `oci-archive:${file}`, `docker://${reference}`], { env, timeout: 120_000 });
}

// `skopeo inspect --raw` and `--config` of a reference (`host/space/repo:tag`), over plain HTTP.
export async function inspect(reference, { env, creds } = {}) {
  const common = ["inspect", "--tls-verify=false"];
  if (creds) common.push("--creds", creds);
  const raw = await run("skopeo", [...common, "--raw", `docker://${reference}`], { env });
  const config = await run("skopeo", [...common, "--config", `docker://${reference}`], { env });
  return { manifest: JSON.parse(raw.stdout), config: JSON.parse(config.stdout) };
}

// Pairs each layer of a manifest with the config history entry that made it: the history's
// entries without `empty_layer`, in order.
export function layersWithHistory({ manifest, config }) {
  const made = (config.history || []).filter((entry) => !entry.empty_layer);
  if (made.length !== manifest.layers.length) {
    throw new Error(`${manifest.layers.length} layers but ${made.length} non-empty history entries`);
  }
  return manifest.layers.map((layer, i) => ({ digest: layer.digest, size: layer.size, created_by: made[i].created_by }));
}
