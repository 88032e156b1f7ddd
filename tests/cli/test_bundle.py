#!/usr/bin/env python3
"""End-to-end tests of `bulwark keys` and `bulwark bundle` (docs/SPEC.md §6).

Promises checked: keys are written safely (0600, no silent overwrite); a bundle
made from an app ELF round-trips through `inspect --json` with every field, and
its layer hashes, file offsets and measurement agree with an independent
computation here; `verify` accepts it and rejects each bad input of the issue
(truncated, bad signature, unknown key, tampered layer, layer outside its
region, overlapping layers, older version, absurd sizes, garbage, wrong
magic/version) with exit 1 and its own one-line reason; bad usage exits 2.

Usage: test_bundle.py <path to bulwark> <scratch directory>
"""
import hashlib
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import memory_map  # noqa: E402  (the boards' one map)

BULWARK = os.path.abspath(sys.argv[1])
WORK = os.path.abspath(sys.argv[2])
MAP = memory_map.load("qemu-an505")
SLOT_BASE, SLOT_SIZE = MAP["APP_SLOT"].base, MAP["APP_SLOT"].size
APP_RAM = MAP["APP_RAM"].base
MANIFEST_AT = 24
LAYER_TABLE_AT = MANIFEST_AT + 116 + 40   # one region

failures = []
passed = 0


def run(*args, expect):
    p = subprocess.run([BULWARK, *args], cwd=WORK, capture_output=True, text=True)
    if p.returncode != expect:
        raise AssertionError(f"bulwark {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def rejects(args, text, code=1):
    """bulwark exits `code` with exactly one stderr line 'bulwark: ...text...'."""
    p = run(*args, expect=code)
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bulwark: "), f"stderr not one line: {p.stderr!r}"
    assert text in lines[0], f"expected {text!r} in {lines[0]!r}"


def case(fn):
    global passed
    try:
        fn()
        passed += 1
        print(f"ok   {fn.__name__}")
    except AssertionError as e:
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def make_elf(path, segments):
    """ELF32 LE ARM executable; segments = [(load address, bytes)] as PT_LOAD with
    vaddr = paddr, plus one bss-like segment (no file bytes) that must be ignored."""
    phnum = len(segments) + 1
    data_at = 52 + 32 * phnum
    header = struct.pack("<4sBBBBB7sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0, b"\0" * 7,
                         2, 40, 1, SLOT_BASE + 1, 52, 0, 0x05000200, 52, 32, phnum, 40, 0, 0)
    phdrs, blob, offset = b"", b"", data_at
    for address, content in segments:
        phdrs += struct.pack("<8I", 1, offset, address, address, len(content), len(content), 5, 4)
        blob += content
        offset += len(content)
    phdrs += struct.pack("<8I", 1, offset, APP_RAM, SLOT_BASE + 0x9000, 0, 0x400, 6, 4)
    with open(os.path.join(WORK, path), "wb") as f:
        f.write(header + phdrs + blob)


def read(path):
    with open(os.path.join(WORK, path), "rb") as f:
        return f.read()


def write(path, data):
    with open(os.path.join(WORK, path), "wb") as f:
        f.write(data)


def patched(src, dst, offset, fmt, value):
    data = bytearray(read(src))
    struct.pack_into(fmt, data, offset, value)
    write(dst, bytes(data))


def key_id_of(pub):
    return run("keys", "id", pub, expect=0).stdout.strip()


# ---- fixtures ----
os.makedirs(WORK, exist_ok=True)
for name in os.listdir(WORK):
    os.remove(os.path.join(WORK, name))
TEXT = bytes((i * 7 + 3) & 0xFF for i in range(0x1234))
DATA = bytes((i * 13) & 0xFF for i in range(0x40))
FAR = b"\xA5" * 0x300
# Two contiguous runs (text + data) and one far away: 2 layers.
SEGMENTS = [(SLOT_BASE, TEXT), (SLOT_BASE + len(TEXT), DATA), (SLOT_BASE + 0x80000, FAR)]
make_elf("app.elf", SEGMENTS)


@case
def keys_generate_writes_private_0600_and_refuses_overwrite():
    p = run("keys", "generate", "-o", "signer", expect=0)
    st = os.stat(os.path.join(WORK, "signer.key"))
    assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
    assert b"BEGIN EC PRIVATE KEY" in read("signer.key")
    assert b"BEGIN PUBLIC KEY" in read("signer.pub")
    kid = key_id_of("signer.pub")
    assert len(kid) == 16 and kid in p.stdout, p.stdout
    assert key_id_of("signer.key") == kid
    before = read("signer.key")
    rejects(["keys", "generate", "-o", "signer"], "signer.key exists (use --force", code=2)
    assert read("signer.key") == before
    run("keys", "generate", "-o", "other", expect=0)
    run("keys", "generate", "-o", "other", "--force", expect=0)
    assert key_id_of("other.pub") != kid
    rejects(["keys", "generate"], "-o <name> is required", code=2)


@case
def create_inspect_json_round_trip():
    run("bundle", "create", "app.elf", "--key", "signer.key", "--version", "7",
        "--min-kernel", "0.1.2", "--restart-min-ms", "250", "--restart-max-ms", "9000",
        "--crash-stack-bytes", "512", "--polite-seconds", "120", "--grace-seconds", "3600",
        "--checkin-seconds", "60", "-o", "app.bwb", expect=0)
    j = json.loads(run("bundle", "inspect", "app.bwb", "--json", expect=0).stdout)
    m = j["manifest"]
    assert j["format_version"] == 1 and j["bundle_size"] == len(read("app.bwb"))
    assert j["signature"] == {"algorithm": "ecdsa-p256-sha256", "key_id": key_id_of("signer.pub")}
    assert (m["app_version"], m["min_kernel_version"], m["board"]) == (7, "0.1.2", "qemu-an505")
    assert m["crash"] == {"restart_min_ms": 250, "restart_max_ms": 9000, "stack_bytes": 512}
    assert m["update"] == {"polite_seconds": 120}
    assert m["connectivity"] == {"grace_seconds": 3600, "min_checkin_seconds": 60}
    assert m["debug"] == {"debuggable": False, "public_key": None}
    # Independent computation of the installed image and its layers.
    image = bytearray(b"\xff" * SLOT_SIZE)
    for address, content in SEGMENTS:
        image[address - SLOT_BASE:address - SLOT_BASE + len(content)] = content
    assert m["regions"] == [{"id": 0, "name": "app-slot", "size": SLOT_SIZE,
                             "measurement": hashlib.sha256(image).hexdigest()}]
    runs = [(0, len(TEXT) + len(DATA)), (0x80000, len(FAR))]
    bundle = read("app.bwb")
    file_offset = 100 + m["size"]
    assert len(m["layers"]) == 2
    for layer, (offset, length) in zip(m["layers"], runs):
        content = bytes(image[offset:offset + length])
        assert (layer["offset"], layer["length"], layer["region"]) == (offset, length, 0)
        assert layer["sha256"] == hashlib.sha256(content).hexdigest()
        assert layer["file_offset"] == file_offset
        assert bundle[file_offset:file_offset + length] == content
        file_offset += length
    assert file_offset == len(bundle)


@case
def inspect_text_shows_every_field():
    out = run("bundle", "inspect", "app.bwb", expect=0).stdout
    for text in ["app version      7", "min kernel       0.1.2", "board            qemu-an505",
                 "restart after 250..9000 ms, 512 stack bytes", "not debuggable",
                 "polite window 120 s", "grace 3600 s, minimum check-in 60 s", "region 0",
                 "layer 1", "offset 0x080000"]:
        assert text in out, f"{text!r} not in\n{out}"


@case
def create_is_deterministic():
    run("bundle", "create", "app.elf", "--key", "signer.key", "--version", "7",
        "--min-kernel", "0.1.2", "--restart-min-ms", "250", "--restart-max-ms", "9000",
        "--crash-stack-bytes", "512", "--polite-seconds", "120", "--grace-seconds", "3600",
        "--checkin-seconds", "60", "-o", "again.bwb", expect=0)
    assert read("again.bwb") == read("app.bwb")


@case
def verify_ok():
    p = run("bundle", "verify", "app.bwb", "--pub", "other.pub", "--pub", "signer.pub", expect=0)
    assert p.stdout.startswith("OK: app.bwb: app version 7"), p.stdout
    j = json.loads(run("bundle", "verify", "app.bwb", "--pub", "signer.pub", "--json",
                       expect=0).stdout)
    assert j["ok"] is True and j["app_version"] == 7
    run("bundle", "verify", "app.bwb", "--pub", "signer.key", expect=0)   # a private key file holds the public key


@case
def truncated_bundle():
    bundle = read("app.bwb")
    for cut, text in [(len(bundle) - 1, f"bundle is truncated: {len(bundle) - 1} bytes where at least {len(bundle)}"),
                      (150, "bundle is truncated: 150 bytes"),
                      (10, "bundle is truncated: 10 bytes where at least 24"),
                      (0, "bundle is truncated: 0 bytes")]:
        write("cut.bwb", bundle[:cut])
        rejects(["bundle", "verify", "cut.bwb", "--pub", "signer.pub"], text)
    rejects(["bundle", "inspect", "cut.bwb"], "bundle is truncated")
    write("long.bwb", bundle + b"\0\0\0")
    rejects(["bundle", "verify", "long.bwb", "--pub", "signer.pub"], "bundle has 3 bytes after its last layer")


@case
def bad_signature():
    size = json.loads(run("bundle", "inspect", "app.bwb", "--json", expect=0).stdout)["manifest"]["size"]
    sig_at = MANIFEST_AT + size
    data = bytearray(read("app.bwb"))
    data[sig_at + 12 + 5] ^= 0x01          # r
    write("badsig.bwb", bytes(data))
    kid = key_id_of("signer.pub")
    rejects(["bundle", "verify", "badsig.bwb", "--pub", "signer.pub"],
            f"bad signature: the manifest does not verify with key id {kid}")
    patched("app.bwb", "resigned.bwb", MANIFEST_AT + 8, "<I", 9)   # app version 7 -> 9
    rejects(["bundle", "verify", "resigned.bwb", "--pub", "signer.pub"], "bad signature")
    j = json.loads(run("bundle", "verify", "badsig.bwb", "--pub", "signer.pub", "--json", expect=1).stdout)
    assert j["ok"] is False and j["reason"].startswith("bad signature"), j


@case
def unknown_key():
    kid = key_id_of("signer.pub")
    rejects(["bundle", "verify", "app.bwb", "--pub", "other.pub"],
            f"unknown key: the bundle is signed by key id {kid}, which is not trusted")


@case
def tampered_layer():
    data = bytearray(read("app.bwb"))
    data[-1] ^= 0xFF                        # last byte of layer 1
    write("tampered.bwb", bytes(data))
    rejects(["bundle", "verify", "tampered.bwb", "--pub", "signer.pub"],
            "layer 1 was tampered with: its bytes do not match its fetch hash")


@case
def layer_outside_its_region():
    patched("app.bwb", "outside.bwb", LAYER_TABLE_AT + 44 + 4, "<I", SLOT_SIZE - 0x100)
    rejects(["bundle", "verify", "outside.bwb", "--pub", "signer.pub"],
            "layer 1 extends past the end of its region (ends at 0x100200, region is 0x100000 bytes)")
    rejects(["bundle", "inspect", "outside.bwb"], "layer 1 extends past the end of its region")


@case
def overlapping_layers():
    patched("app.bwb", "overlap.bwb", LAYER_TABLE_AT + 44 + 4, "<I", 0x1000)
    rejects(["bundle", "verify", "overlap.bwb", "--pub", "signer.pub"], "layers 0 and 1 overlap")


@case
def older_version():
    rejects(["bundle", "verify", "app.bwb", "--pub", "signer.pub", "--min-version", "8"],
            "app version 7 is older than the minimum 8 (anti-rollback)")
    run("bundle", "verify", "app.bwb", "--pub", "signer.pub", "--min-version", "7", expect=0)


@case
def absurd_sizes():
    for offset, fmt, value, text in [
            (8, "<I", 0xFFFFFFFF, "manifest size 4294967295 is out of range (116 to 4096 bytes)"),
            (12, "<I", 0x7FFFFFFF, "signature block size 2147483647 is wrong"),
            (16, "<I", 0xFFFFFFFF, "bundle size 4294967295 in the header disagrees with its layers"),
            (MANIFEST_AT + 19, "<B", 200, "layer count 200 is out of range (1 to 8)"),
            (MANIFEST_AT + 116 + 4, "<I", 0xFFFFF000, "region 0 size 4294963200 is out of range"),
            (LAYER_TABLE_AT + 8, "<I", 0xFFFFFFFF, "layer 0 extends past the end of its region"),
            (MANIFEST_AT + 24, "<I", 0xFFFFFFFF, "crash restart maximum 4294967295 ms is too long"),
            (MANIFEST_AT + 28, "<I", 1 << 20, "crash report stack bytes 1048576 out of range")]:
        patched("app.bwb", "absurd.bwb", offset, fmt, value)
        rejects(["bundle", "verify", "absurd.bwb", "--pub", "signer.pub"], text)


@case
def garbage_and_wrong_magic_or_version():
    write("garbage.bwb", bytes((i * 151 + 7) & 0xFF for i in range(5000)))
    rejects(["bundle", "verify", "garbage.bwb", "--pub", "signer.pub"], "not a Bulwark bundle (bad magic")
    rejects(["bundle", "inspect", "garbage.bwb"], "not a Bulwark bundle")
    rejects(["bundle", "verify", "app.elf", "--pub", "signer.pub"], "not a Bulwark bundle")
    patched("app.bwb", "magic.bwb", 0, "<I", 0x4E425743)
    rejects(["bundle", "verify", "magic.bwb", "--pub", "signer.pub"], "not a Bulwark bundle (bad magic 0x4e425743)")
    patched("app.bwb", "format.bwb", 4, "<H", 2)
    rejects(["bundle", "verify", "format.bwb", "--pub", "signer.pub"], "bundle format version 2 is not supported")
    patched("app.bwb", "mversion.bwb", MANIFEST_AT + 4, "<H", 2)
    rejects(["bundle", "verify", "mversion.bwb", "--pub", "signer.pub"], "manifest version 2 is not supported")
    patched("app.bwb", "mmagic.bwb", MANIFEST_AT, "<I", 0)
    rejects(["bundle", "verify", "mmagic.bwb", "--pub", "signer.pub"], "manifest has a bad magic")
    rejects(["bundle", "verify", "missing.bwb", "--pub", "signer.pub"], "missing.bwb: No such file", code=2)


@case
def debug_key_policy():
    run("bundle", "create", "app.elf", "--key", "signer.key", "--version", "1",
        "--debug-key", "other.pub", "-o", "debug.bwb", expect=0)
    m = json.loads(run("bundle", "inspect", "debug.bwb", "--json", expect=0).stdout)["manifest"]
    assert m["debug"]["debuggable"] is True
    key = bytes.fromhex(m["debug"]["public_key"])
    assert len(key) == 65 and key[0] == 4
    assert hashlib.sha256(key).hexdigest()[:16] == key_id_of("other.pub")
    run("bundle", "verify", "debug.bwb", "--pub", "signer.pub", expect=0)


@case
def many_runs_become_one_layer():
    segments = [(SLOT_BASE + i * 0x1000, bytes([i]) * 0x10) for i in range(10)]
    make_elf("sparse.elf", segments)
    run("bundle", "create", "sparse.elf", "--key", "signer.key", "--version", "1", "-o", "sparse.bwb", expect=0)
    layers = json.loads(run("bundle", "inspect", "sparse.bwb", "--json", expect=0).stdout)["manifest"]["layers"]
    assert [(l["offset"], l["length"]) for l in layers] == [(0, 0x9010)], layers
    run("bundle", "verify", "sparse.bwb", "--pub", "signer.pub", expect=0)


@case
def create_rejects_bad_input():
    base = ["bundle", "create", "app.elf", "--key", "signer.key", "--version", "1", "-o", "x.bwb"]
    rejects(base + ["--restart-min-ms", "5000", "--restart-max-ms", "100"],
            "crash restart minimum 5000 ms exceeds the maximum 100 ms", code=2)
    rejects(base + ["--crash-stack-bytes", "99999"], "crash report stack bytes 99999 out of range", code=2)
    rejects(base + ["--polite-seconds", "9999999"], "polite-update window 9999999 s is too long", code=2)
    rejects(base + ["--board", "stm32u585"], "lies outside the stm32u585 app slot", code=2)
    rejects(base + ["--board", "nrf52"], "unknown board 'nrf52'", code=2)
    rejects(base + ["--min-kernel", "1.2"], "--min-kernel needs X.Y.Z", code=2)
    rejects(["bundle", "create", "app.elf", "--key", "signer.key", "--version", "-3", "-o", "x.bwb"],
            "--version needs a whole number", code=2)
    rejects(["bundle", "create", "app.elf", "--key", "signer.key", "--version", "4294967296", "-o", "x.bwb"],
            "--version needs a whole number", code=2)
    rejects(["bundle", "create", "app.elf", "--version", "1", "-o", "x.bwb"], "--key, --version and -o are required", code=2)
    rejects(["bundle", "create", "app.bwb", "--key", "signer.key", "--version", "1", "-o", "x.bwb"],
            "not an ELF file", code=2)
    rejects(["bundle", "create", "app.elf", "--key", "signer.pub", "--version", "1", "-o", "x.bwb"],
            "signer.pub: not a readable private key", code=2)
    make_elf("outside.elf", [(SLOT_BASE + SLOT_SIZE - 4, b"12345678")])
    rejects(["bundle", "create", "outside.elf", "--key", "signer.key", "--version", "1", "-o", "x.bwb"],
            "lies outside the qemu-an505 app slot", code=2)
    make_elf("nowhere.elf", [(0x20000000, b"1234")])
    rejects(["bundle", "create", "nowhere.elf", "--key", "signer.key", "--version", "1", "-o", "x.bwb"],
            "no board's app slot holds the ELF's first segment (0x20000000)", code=2)
    write("short.elf", read("app.elf")[:60])
    rejects(["bundle", "create", "short.elf", "--key", "signer.key", "--version", "1", "-o", "x.bwb"],
            "ELF program headers lie past the end of the file", code=2)
    assert not os.path.exists(os.path.join(WORK, "x.bwb"))


@case
def usage_errors_exit_2():
    rejects(["bundle", "verify", "app.bwb"], "give at least one trusted key with --pub", code=2)
    rejects(["bundle", "verify", "app.bwb", "--pub", "nope.pub"], "nope.pub", code=2)
    rejects(["bundle", "verify", "--pub", "signer.pub"], "give one bundle file", code=2)
    rejects(["bundle", "inspect", "app.bwb", "--bogus"], "unknown option", code=2)
    rejects(["bundle", "verify", "app.bwb", "--pub", "signer.pub", "--min-version", "x"],
            "--min-version needs a whole number", code=2)


print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
