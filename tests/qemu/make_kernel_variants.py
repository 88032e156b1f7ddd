#!/usr/bin/env python3
"""Makes the kernel files the boot stub must refuse (docs/SPEC.md section 19.3), one per
case, from the build's signed kernel, its raw image and its test keys:

  bad-signature.signed   one bit of the seal's signature flipped
  tampered.signed        one bit of the kernel image flipped (the seal untouched)
  other-root.signed      signed with a certificate from another root, naming that root
  not-by-root.signed     a certificate from another root, naming the trusted root
  wrong-usage.signed     a certificate from the trusted root without codeSigning (openssl)
  expired.signed         signed (openssl, a valid signature) at a time after the certificate's
                         notAfter (2099-12-31)
  not-yet-valid.signed   signed at a time before the certificate's notBefore (2001)
  garbage.signed         a seal of random bytes after the magic
  newer.signed           the same kernel signed by the build's signer as the next minor
                         version (the kernel copies' tests, section 19.5)
  older.signed           the same kernel signed as 0.0.1 (below the build's version)
  noconfirm-newer.signed --noconfirm-bin (a kernel that never confirms), next minor version
  noconfirm-deadline-newer.signed  --noconfirm-deadline-bin (never confirms, and resets
                         itself at a 3 s trial deadline), next minor version
  padded-newer.signed    the kernel followed by 256 KiB of random bytes (never run: past
                         its end), next minor version: a long copy into the slot (kill test)
  <case>-newer.signed    bad-signature, tampered, other-root, not-by-root, wrong-usage and
                         expired made from the next minor version: what kernel delivery
                         (section 19.6) must refuse for that reason, not for its version

Usage: make_kernel_variants.py --bulwark CLI --keys DIR --bin KERNEL.bin --signed
KERNEL.signed --version X.Y.Z --out DIR. Python 3 standard library, the bulwark CLI and,
for wrong-usage, openssl (exit 77, skip, without it).
"""
import argparse
import os
import random
import shutil
import struct
import subprocess
import sys

SIGNATURE_OFFSET = 124       # the seal's signature (r || s)
SIGNED_AT_OFFSET = 20        # u32 seconds since 1970, under the signature
SIGNING_PREFIX = b"BULWARK-KERNEL-V1\x00"
IMAGE_FLIP_OFFSET = 0x900    # kernel code, past the vector table and the gate


def run(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def flipped(data, offset):
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


def der_scalar(data, at):
    """The DER INTEGER at data[at] as 32 big-endian bytes, and the offset after it."""
    n = data[at + 1]
    value = data[at + 2:at + 2 + n].lstrip(b"\x00")
    return value.rjust(32, b"\x00"), at + 2 + n


def resealed_at(openssl, signed, signed_at, key, scratch):
    """signed with its seal's signing time set to signed_at and signed again with key
    (openssl: ECDSA P-256 over SHA-256(prefix || seal head), written as r || s)."""
    seal = bytearray(signed)
    struct.pack_into("<I", seal, SIGNED_AT_OFFSET, signed_at)
    with open(scratch, "wb") as f:
        f.write(SIGNING_PREFIX + bytes(seal[:SIGNATURE_OFFSET]))
    der = subprocess.run([openssl, "dgst", "-sha256", "-sign", key, scratch], check=True,
                         capture_output=True).stdout
    r, at = der_scalar(der, 2)
    s, _ = der_scalar(der, at)
    seal[SIGNATURE_OFFSET:SIGNATURE_OFFSET + 64] = r + s
    return bytes(seal)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("bulwark", "keys", "bin", "signed", "version", "out"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--noconfirm-bin", required=True)
    p.add_argument("--noconfirm-deadline-bin", required=True)
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    out = lambda name: os.path.join(a.out, name)  # noqa: E731
    signed = open(a.signed, "rb").read()
    seal_size = struct.unpack_from("<H", signed, 6)[0]
    write = lambda name, data: open(out(name), "wb").write(data)  # noqa: E731

    write("bad-signature.signed", flipped(signed, SIGNATURE_OFFSET + 10))
    write("tampered.signed", flipped(signed, seal_size + IMAGE_FLIP_OFFSET))
    rng = random.Random(12)
    garbage = b"BWKS" + struct.pack("<HH", 1, 1024) + bytes(rng.randrange(256) for _ in range(1016))
    write("garbage.signed", garbage + signed[seal_size:])

    trusted_root = os.path.join(a.keys, "root")
    signer = os.path.join(a.keys, "signer")
    major, minor, _ = (int(x) for x in a.version.split("."))
    newer = f"{major}.{minor + 1}.0"
    padded = out("padded.bin")
    pad_rng = random.Random(7)
    write("padded.bin", open(a.bin, "rb").read() + bytes(pad_rng.randrange(256) for _ in range(256 * 1024)))
    for name, binary, version in (("newer", a.bin, newer), ("older", a.bin, "0.0.1"),
                                  ("noconfirm-newer", a.noconfirm_bin, newer),
                                  ("noconfirm-deadline-newer", a.noconfirm_deadline_bin, newer),
                                  ("padded-newer", padded, newer)):
        run(a.bulwark, "kernel", "sign", binary, "--key", signer + ".key", "--cert", signer + ".crt",
            "--root", trusted_root + ".pub", "--version", version, "-o", out(name + ".signed"))
    newer_signed = open(out("newer.signed"), "rb").read()
    newer_seal = struct.unpack_from("<H", newer_signed, 6)[0]
    write("bad-signature-newer.signed", flipped(newer_signed, SIGNATURE_OFFSET + 10))
    write("tampered-newer.signed", flipped(newer_signed, newer_seal + IMAGE_FLIP_OFFSET))
    other = out("other-root")
    run(a.bulwark, "keys", "generate", "-o", other)
    run(a.bulwark, "keys", "kernel-signer", "--root", other + ".key", "-o", out("other-signer"))
    for suffix, version in (("", a.version), ("-newer", newer)):
        sign = [a.bulwark, "kernel", "sign", a.bin, "--key", out("other-signer") + ".key",
                "--cert", out("other-signer") + ".crt", "--version", version]
        run(*sign, "--root", other + ".pub", "-o", out(f"other-root{suffix}.signed"))
        run(*sign, "--root", trusted_root + ".pub", "-o", out(f"not-by-root{suffix}.signed"))

    openssl = shutil.which("openssl")
    if openssl is None:
        print("make_kernel_variants: no openssl, wrong-usage not made", file=sys.stderr)
        return 77
    key, csr, crt, ext, root_crt = (out("usage-signer.key"), out("usage.csr"), out("usage-signer.crt"),
                                    out("usage.ext"), out("root.crt"))
    # openssl issues only under a CA certificate: one for the trusted root's key.
    run(openssl, "req", "-x509", "-new", "-key", trusted_root + ".key", "-subj", "/CN=Bulwark kernel root",
        "-days", "3650", "-out", root_crt)
    run(openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    run(openssl, "req", "-new", "-key", key, "-subj", "/CN=not a kernel signer", "-out", csr)
    open(ext, "w").write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                         "extendedKeyUsage=serverAuth\n")
    run(openssl, "x509", "-req", "-in", csr, "-CA", root_crt,
        "-CAkey", trusted_root + ".key", "-set_serial", "7", "-days", "3650", "-sha256",
        "-extfile", ext, "-out", crt)
    for suffix, version in (("", a.version), ("-newer", newer)):
        run(a.bulwark, "kernel", "sign", a.bin, "--key", key, "--cert", crt, "--version", version,
            "--root", trusted_root + ".pub", "-o", out(f"wrong-usage{suffix}.signed"))
    signer = os.path.join(a.keys, "signer.key")
    write("expired.signed", resealed_at(openssl, signed, 4200000000, signer, out("head.bin")))
    write("expired-newer.signed", resealed_at(openssl, newer_signed, 4200000000, signer, out("head.bin")))
    write("not-yet-valid.signed", resealed_at(openssl, signed, 1000000000, signer, out("head.bin")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
