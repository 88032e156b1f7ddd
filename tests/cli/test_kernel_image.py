#!/usr/bin/env python3
"""End-to-end tests of signed kernel images (docs/SPEC.md §19): `bulwark keys
kernel-signer` and `root-hash`, `bulwark kernel sign`, `bundle inspect`/`verify`.

Promises checked: the signer's certificate is issued by the root for code signing
(read back with openssl when it is installed); root-hash is the SHA-256 of the root's
65-byte point; a signed file is the seal then the image, every seal field as SPEC §19.2
says, the image hash recomputed here (a flipped version byte breaks the signature); inspect --json shows
them; verify accepts it with its root and at a counter equal to its version, and
refuses (exit 1, one line naming the reason) another root, a flipped signature or
image bit, a counter above the version, a truncated or padded file; `kernel sign`
refuses a certificate that is not the key's and an image larger than the slot; on
stm32u585, whose gate lies outside the kernel slot, the gate's region is sealed after the
image (--gate), and a flipped gate byte or a missing gate is refused.

Usage: test_kernel_image.py <path to bulwark> <scratch directory>
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import memory_map  # noqa: E402

BULWARK = os.path.abspath(sys.argv[1])
WORK = os.path.abspath(sys.argv[2])
SLOT_SIZE = memory_map.load("qemu-an505")["KERNEL_SLOT"].size
failures = []


def run(*args, expect=0):
    p = subprocess.run([BULWARK, *args], cwd=WORK, capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"bulwark {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def refuses(args, reason):
    lines = run(*args, expect=1).stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bulwark: ") and reason in lines[0], lines


def point(pub):
    """The 65-byte point at the end of a PEM SubjectPublicKeyInfo."""
    import base64
    body = "".join(l for l in open(os.path.join(WORK, pub)).read().splitlines() if not l.startswith("-----"))
    return base64.b64decode(body)[-65:]


def write(name, data):
    with open(os.path.join(WORK, name), "wb") as f:
        f.write(data)


def read(name):
    with open(os.path.join(WORK, name), "rb") as f:
        return f.read()


def u585_gate(image):
    """STM32U585's gate lies outside its kernel slot: its region's bytes are sealed after the
    image (SPEC 19.2). Signing needs --gate (and QEMU refuses it); the file is seal, image,
    then the region (short gate code padded with 0xFF); the hash covers both; a flipped gate
    byte or a missing gate is refused."""
    gate_size = memory_map.load("stm32u585")["GATE"].size
    gate = bytes(range(200))
    write("gate.bin", gate)
    sign = ["kernel", "sign", "k.bin", "--key", "signer.key", "--cert", "signer.crt", "--root", "root.pub",
            "--version", "1.0.0"]
    run(*sign, "--board", "stm32u585", "-o", "u.signed", expect=2)     # no --gate: usage
    run(*sign, "--gate", "gate.bin", "-o", "q.signed", expect=2)         # QEMU: its gate is in the slot
    run(*sign, "--board", "stm32u585", "--gate", "gate.bin", "-o", "u.signed")
    data = read("u.signed")
    seal_size = struct.unpack_from("<H", data, 6)[0]
    region = gate + b"\xff" * (gate_size - len(gate))
    assert data[seal_size:] == image + region, "file: seal, image, the gate's region"
    assert data[24:56] == hashlib.sha256(image + region).digest(), "the sealed hash covers image and gate"
    run("bundle", "verify", "u.signed", "--root", "root.pub")
    bad = bytearray(data)
    bad[-gate_size + 5] ^= 0x01
    write("u-bad.signed", bytes(bad))
    refuses(["bundle", "verify", "u-bad.signed", "--root", "root.pub"], "kernel image tampered (hash mismatch)")
    write("u-short.signed", data[:-gate_size])
    refuses(["bundle", "verify", "u-short.signed", "--root", "root.pub"], "truncated kernel image")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    run("keys", "generate", "-o", "root")
    run("keys", "generate", "-o", "other")
    run("keys", "kernel-signer", "--root", "root.key", "-o", "signer")
    run("keys", "kernel-signer", "--root", "root.key", "-o", "signer2")
    assert run("keys", "root-hash", "root.pub").stdout.strip() == hashlib.sha256(point("root.pub")).hexdigest()
    if shutil.which("openssl"):
        text = subprocess.run(["openssl", "x509", "-in", os.path.join(WORK, "signer.crt"), "-noout", "-text"],
                              capture_output=True, text=True, check=True).stdout
        assert "Code Signing" in text and "CA:FALSE" in text and "Digital Signature" in text, text
        assert "Issuer: CN = Bulwark kernel root" in text, text

    image = bytes(range(256)) * 40 + b"\x01\x02\x03"
    write("k.bin", image)
    sign = ["kernel", "sign", "k.bin", "--key", "signer.key", "--cert", "signer.crt", "--root", "root.pub",
            "--version", "1.2.3"]
    signed_at = 4102444799   # 2099-12-31 23:59:59 UTC: the last second of the signer's validity
    run(*sign, "--signed-at", str(signed_at), "-o", "k.signed")
    data = read("k.signed")
    magic, fmt, size, version, n, board, clen, at = struct.unpack_from("<IHHIIHHI", data)
    assert (magic, fmt, version, n, board, at) == (0x534B5742, 1, 0x01020003, len(image), 1, signed_at)
    assert size == 188 + clen and data[size:] == image and data[121:124] == b"\0\0\0"
    assert data[24:56] == hashlib.sha256(image).digest() and data[56:121] == point("root.pub")
    der = subprocess.run(["openssl", "x509", "-in", os.path.join(WORK, "signer.crt"), "-outform", "DER"],
                         capture_output=True, check=True).stdout if shutil.which("openssl") else data[188:size]
    assert data[188:size] == der

    info = json.loads(run("bundle", "inspect", "k.signed", "--json").stdout)
    assert info["type"] == "kernel" and info["version"] == "1.2.3" and info["image_size"] == len(image)
    assert info["image_sha256"] == hashlib.sha256(image).hexdigest()
    assert info["certificate"]["issuer"] == "CN=Bulwark kernel root", info
    assert info["signed_at"] == "2099-12-31 23:59:59 UTC", info
    assert info["certificate"]["not_after"] == "2099-12-31 23:59:59 UTC", info
    assert "signed kernel image" in run("bundle", "inspect", "k.signed").stdout
    # Signing outside the certificate's validity is refused (the stub would refuse the kernel).
    for when in ("4200000000", "1000000000"):
        refuses(sign + ["--signed-at", when, "-o", "never.signed"], "not valid at the signing time")
    assert not os.path.exists(os.path.join(WORK, "never.signed"))
    # The signing time is signed: changed afterwards, the signature no longer holds.
    moved = bytearray(data)
    struct.pack_into("<I", moved, 20, 4200000000)
    write("moved.signed", bytes(moved))
    refuses(["bundle", "verify", "moved.signed", "--root", "root.pub"], "bad kernel signature")

    assert "OK:" in run("bundle", "verify", "k.signed", "--root", "root.pub").stdout
    run("bundle", "verify", "k.signed", "--root", "root.pub", "--min-version", str(0x01020003))
    refuses(["bundle", "verify", "k.signed", "--root", "root.pub", "--min-version", str(0x01020004)],
            "kernel version below the anti-rollback counter")
    refuses(["bundle", "verify", "k.signed", "--root", "other.pub"], "certificate chain to an unknown root")
    for name, offset, reason in (("sig", 130, "bad kernel signature"),
                                 ("img", size + 100, "kernel image tampered (hash mismatch)"),
                                 ("ver", 8, "bad kernel signature")):
        bad = bytearray(data)
        bad[offset] ^= 0x01
        write(f"bad-{name}.signed", bytes(bad))
        refuses(["bundle", "verify", f"bad-{name}.signed", "--root", "root.pub"], reason)
    write("short.signed", data[:-1])
    refuses(["bundle", "verify", "short.signed", "--root", "root.pub"], "truncated kernel image")
    write("long.signed", data + b"\0")
    refuses(["bundle", "verify", "long.signed", "--root", "root.pub"], "trailing data")
    run("bundle", "verify", "k.signed", expect=2)   # no --root: usage

    refuses(["kernel", "sign", "k.bin", "--key", "signer2.key", "--cert", "signer.crt", "--root", "root.pub",
             "--version", "1.0.0", "-o", "x.signed"], "the signing key is not the certificate's key")
    write("big.bin", b"\0" * (SLOT_SIZE + 1))
    refuses(["kernel", "sign", "big.bin", "--key", "signer.key", "--cert", "signer.crt", "--root", "root.pub",
             "--version", "1.0.0", "-o", "big.signed"], "does not fit the qemu-an505 kernel slot")
    u585_gate(image)
    # `bundle create --kernel` makes the same file as `kernel sign` (the spelling).
    run("bundle", "create", "--kernel", "k.bin", "--key", "signer.key", "--cert", "signer.crt", "--root",
        "root.pub", "--version", "1.2.3", "--signed-at", str(signed_at), "-o", "k-bundle.signed")
    assert read("k-bundle.signed") == read("k.signed"), "bundle create --kernel = kernel sign"
    run("bundle", "create", "--kernel", "k.bin", "app.elf", "--key", "signer.key", "--cert", "signer.crt",
        "--root", "root.pub", "--version", "1.2.3", "-o", "x.signed", expect=2)
    print("PASS cli.kernel_image")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAIL cli.kernel_image: {e}")
        sys.exit(1)
