#!/usr/bin/env python3
"""Makes the update engine's simulation fixtures with the real CLI:
a signing key (and its raw 65-byte public point), three app images of
different sizes as minimal ARM ELF files for the qemu-an505 app slot, and
their bundles (versions 1, 2, 3) plus a bundle signed by a key the device
does not trust and version 2 with a polite install window; a kernel root, a
kernel signer and two signed kernel files (0.1.0, 0.2.0). Usage: make_update_fixtures.py --bulwark PATH --out DIR"""
import argparse
import base64
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import memory_map  # noqa: E402  (the board's one map)

APP_SLOT = memory_map.load("qemu-an505")["APP_SLOT"].base
SIZES = {1: 48 * 1024, 2: 96 * 1024, 3: 40 * 1024}


def elf_with(data, address):
    """ELF32 little-endian ARM executable with one PT_LOAD segment."""
    ehdr_size, phdr_size = 52, 32
    offset = ehdr_size + phdr_size
    ehdr = struct.pack("<16sHHIIIIIHHHHHH",
                       b"\x7fELF\x01\x01\x01" + b"\x00" * 9, 2, 40, 1, address | 1, ehdr_size, 0,
                       0x05000200, ehdr_size, phdr_size, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, offset, address, address, len(data), len(data), 5, 4)
    return ehdr + phdr + data


def raw_public_key(pem_path):
    lines = [l for l in open(pem_path).read().splitlines() if l and not l.startswith("-----")]
    der = base64.b64decode("".join(lines))
    return der[-65:]   # SubjectPublicKeyInfo ends with the uncompressed point


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulwark", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.chdir(a.out)
    for name in ("signer", "stranger"):
        run(a.bulwark, "keys", "generate", "-o", name, "--force")
    open("signer.raw", "wb").write(raw_public_key("signer.pub"))
    rng = random.Random(1234)
    for version, size in SIZES.items():
        data = bytes(rng.getrandbits(8) for _ in range(size))
        open(f"app-v{version}.elf", "wb").write(elf_with(data, APP_SLOT))
        run(a.bulwark, "bundle", "create", f"app-v{version}.elf", "--key", "signer.key",
            "--version", str(version), "-o", f"app-v{version}.bwb")
    run(a.bulwark, "bundle", "create", "app-v3.elf", "--key", "stranger.key", "--version", "3",
        "-o", "app-v3-stranger.bwb")
    # Polite install (tests/unit/test_ota.c): version 2 with a 30 s window.
    run(a.bulwark, "bundle", "create", "app-v2.elf", "--key", "signer.key", "--version", "2",
        "--polite-seconds", "30", "-o", "app-v2-polite.bwb")
    # Kernel delivery (test_kdeliver_sim.c, docs/SPEC.md section 19.6): a kernel root
    # (its raw public point, whose SHA-256 the stub trusts), a signer, and two signed
    # kernel files of pseudo-random images, versions 0.1.0 and 0.2.0.
    run(a.bulwark, "keys", "generate", "-o", "kernel-root", "--force")
    open("kernel-root.raw", "wb").write(raw_public_key("kernel-root.pub"))
    run(a.bulwark, "keys", "kernel-signer", "--root", "kernel-root.key", "-o", "kernel-signer",
        "--force")
    for version, size in (("0.1.0", 20000), ("0.2.0", 23000)):
        open(f"kernel-{version}.bin", "wb").write(bytes(rng.getrandbits(8) for _ in range(size)))
        run(a.bulwark, "kernel", "sign", f"kernel-{version}.bin", "--key", "kernel-signer.key",
            "--cert", "kernel-signer.crt", "--root", "kernel-root.pub", "--version", version,
            "--force", "-o", f"kernel-{version}.signed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
