// Builds small but real container images on disk, without any container tool: gzip layers
// holding a few files, a config with a history of RUN/ENV/COPY steps (some of them empty
// layers, as Dockerfiles make), an OCI image manifest, all packed as an OCI image layout
// tarball. That is what `skopeo copy oci-archive:<file>` reads and what Berth's upload accepts,
// so the same file serves the push and the upload flows.

import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const CONFIG = "application/vnd.oci.image.config.v1+json";
const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const INDEX = "application/vnd.oci.image.index.v1+json";

export function sha256(bytes) {
  return "sha256:" + createHash("sha256").update(bytes).digest("hex");
}

// One 512-byte ustar header; `type` "0" is a file, "5" a directory.
function header(name, size, type = "0", mode = 0o644) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  const block = Buffer.alloc(512);
  const octal = (value, width) => value.toString(8).padStart(width - 1, "0") + "\0";
  block.write(name, 0, 100, "utf8");
  block.write(octal(mode, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  // A fixed time keeps the layers' digests a function of their contents only.
  block.write(octal(1700000000, 12), 136);
  block.write("        ", 148);
  block.write(type, 156);
  block.write("ustar\0", 257);
  block.write("00", 263);
  block.write("root", 265);
  block.write("root", 297);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return block;
}

// A tar archive of `entries`: [{name, data?}] where a name ending in "/" is a directory.
export function tar(entries) {
  const parts = [];
  for (const { name, data } of entries) {
    if (name.endsWith("/")) {
      parts.push(header(name, 0, "5", 0o755));
      continue;
    }
    const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
    parts.push(header(name, body.length), body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

// The steps of a small Dockerfile: the ones with `files` make a layer, the others only a
// history entry with `empty_layer: true`.
function steps(name) {
  return [
    { created_by: "/bin/sh -c #(nop) ADD file:e2e-base in / ", files: { "etc/os-release": `NAME=e2e-${name}\n` } },
    { created_by: '/bin/sh -c #(nop)  CMD ["sh"]' },
    { created_by: "ENV APP_HOME=/srv/app", empty: true },
    { created_by: "RUN /bin/sh -c mkdir -p /srv/app && echo ready > /srv/app/state # buildkit", files: { "srv/app/state": "ready\n" } },
    { created_by: "WORKDIR /srv/app", empty: true },
    { created_by: "COPY app.bin /srv/app/ # buildkit", files: { "srv/app/app.bin": randomBytes(4096) } },
    { created_by: 'LABEL org.opencontainers.image.title="e2e"', empty: true },
    { created_by: 'ENTRYPOINT ["/srv/app/app.bin"]', empty: true },
  ];
}

// Writes an OCI layout tarball to `path` and tells what it holds: the manifest digest, and per
// layer its digest and the history line that made it. `baseFiles` ({path: contents}) go into
// the first layer beside (or instead of) its `etc/os-release`.
export function writeOciArchive(path, { name = "app", tag = "latest", baseFiles = {} } = {}) {
  const blobs = new Map();
  const put = (bytes) => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    return digest;
  };
  const layers = [];
  const history = [];
  const diffIds = [];
  let created = Date.parse("2026-01-05T10:00:00Z");
  const built = steps(name);
  built[0].files = { ...built[0].files, ...baseFiles };
  for (const step of built) {
    created += 60_000;
    const when = new Date(created).toISOString();
    if (!step.files) {
      history.push({ created: when, created_by: step.created_by, empty_layer: true });
      continue;
    }
    const dirs = new Set();
    const entries = [];
    for (const [file, data] of Object.entries(step.files)) {
      const parts = file.split("/");
      for (let i = 1; i < parts.length; i += 1) {
        const dir = parts.slice(0, i).join("/") + "/";
        if (!dirs.has(dir)) {
          dirs.add(dir);
          entries.push({ name: dir });
        }
      }
      entries.push({ name: file, data });
    }
    // A random file makes every image unique, so tests never meet each other's blobs.
    entries.push({ name: `.e2e-${randomBytes(6).toString("hex")}`, data: randomBytes(64) });
    const plain = tar(entries);
    const compressed = gzipSync(plain);
    const digest = put(compressed);
    diffIds.push(sha256(plain));
    layers.push({ digest, size: compressed.length, mediaType: LAYER, created_by: step.created_by });
    history.push({ created: when, created_by: step.created_by });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: history[history.length - 1].created,
      author: "berth e2e",
      architecture: "amd64",
      os: "linux",
      config: {
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_HOME=/srv/app"],
        Entrypoint: ["/srv/app/app.bin"],
        Cmd: ["sh"],
        WorkingDir: "/srv/app",
        Labels: { "org.opencontainers.image.title": "e2e" },
      },
      rootfs: { type: "layers", diff_ids: diffIds },
      history,
    }),
  );
  const configDigest = put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: CONFIG, digest: configDigest, size: config.length },
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    }),
  );
  const manifestDigest = put(manifest);
  const index = {
    schemaVersion: 2,
    mediaType: INDEX,
    manifests: [
      {
        mediaType: MANIFEST,
        digest: manifestDigest,
        size: manifest.length,
        annotations: { "org.opencontainers.image.ref.name": tag },
      },
    ],
  };
  const entries = [
    { name: "oci-layout", data: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
    { name: "index.json", data: JSON.stringify(index) },
    { name: "blobs/" },
    { name: "blobs/sha256/" },
  ];
  for (const [digest, bytes] of blobs) entries.push({ name: `blobs/sha256/${digest.slice(7)}`, data: bytes });
  writeFileSync(path, tar(entries));
  return {
    path,
    manifestDigest,
    configDigest,
    layers: layers.map(({ digest, size, created_by }) => ({ digest, size, created_by })),
    history,
  };
}
