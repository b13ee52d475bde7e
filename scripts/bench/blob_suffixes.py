#!/usr/bin/env python3
"""Precompute digests for "<base bytes> + <16-byte suffix>" upload bodies.

Usage: blob_suffixes.py <file> <base-size> <count>

Hashes the first <base-size> bytes of <file> once, then for each of <count>
fresh 16-byte ASCII suffixes prints "<suffix> <sha256-hex> <total-size>".
The caller writes the suffix at offset <base-size> before each upload, so every
upload is a brand-new digest without generating another 1 GiB of random data.
"""
import hashlib
import secrets
import sys

CHUNK = 4 << 20


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, base, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    h = hashlib.sha256()
    left = base
    with open(path, "rb") as f:
        while left > 0:
            buf = f.read(min(CHUNK, left))
            if not buf:
                sys.exit(f"{path}: shorter than {base} bytes")
            h.update(buf)
            left -= len(buf)
    for i in range(count):
        suffix = f"bench{i:03d}{secrets.token_hex(4)}".encode()  # 5+3+8 = 16 bytes
        assert len(suffix) == 16
        d = h.copy()
        d.update(suffix)
        print(suffix.decode(), d.hexdigest(), base + len(suffix))


if __name__ == "__main__":
    main()
