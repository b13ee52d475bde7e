#!/usr/bin/env python3
"""Wrap a root filesystem tarball as a one-layer OCI image.

Usage: rootfs_image.py <rootfs.tar.gz> <layout-dir> [--tag TAG] [--archive FILE.tar]

The gzip-compressed tar becomes the image's only layer as it is (its digest is the file's);
the config (linux/amd64, rootfs.diff_ids from the uncompressed tar) and the manifest are
written beside it in an OCI image layout (oci-layout, index.json naming TAG, blobs/sha256/).
With --archive the layout is also written as one tar file (an OCI archive, which
`trivy image --input` and `skopeo copy oci-archive:` read). Prints the manifest digest.
"""
import argparse
import gzip
import hashlib
import json
import os
import shutil
import tarfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest_of_file(path, opener=open):
    h = hashlib.sha256()
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def put(blobs, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest[7:]), "wb") as f:
        f.write(data)
    return digest, len(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("layer")
    parser.add_argument("layout")
    parser.add_argument("--tag", default="latest")
    parser.add_argument("--archive")
    args = parser.parse_args()

    blobs = os.path.join(args.layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    layer_digest = digest_of_file(args.layer)
    shutil.copyfile(args.layer, os.path.join(blobs, layer_digest[7:]))
    diff_id = digest_of_file(args.layer, gzip.open)
    config = {
        "created": "2026-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["bash"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "debootstrap --variant=minbase bookworm"}],
    }
    config_digest, config_size = put(blobs, json.dumps(config, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": MT_LAYER_GZ, "digest": layer_digest, "size": os.path.getsize(args.layer)}],
    }
    manifest_digest, manifest_size = put(blobs, json.dumps(manifest, separators=(",", ":")).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": MT_MANIFEST,
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": args.tag},
        }],
    }
    with open(os.path.join(args.layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(args.layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    if args.archive:
        with tarfile.open(args.archive, "w") as archive:
            for name in ["oci-layout", "index.json", "blobs"]:
                archive.add(os.path.join(args.layout, name), arcname=name)
    print(manifest_digest)


if __name__ == "__main__":
    main()
