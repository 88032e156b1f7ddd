#!/usr/bin/env python3
"""Update figures for `make bench` (scripts/bench.sh), no pass/fail.

Under QEMU -icount shift=0 (one instruction = 1 ns of guest time, so the
kernel's microsecond timestamps are thousands of instructions), on a device
provisioned with the 256 KiB app (qt-update-big, version 1):
  1. a bundle whose signature is wrong (one bit of s flipped) is refused at
     BEGIN after the full ECDSA verify: its "head checked in" time is the
     signature check (plus parsing the head, a few thousand instructions);
  2. version 2 is delivered and installed: the first install after
     provisioning, which also copies the provisioned app into a bank;
  3. version 3 is delivered and installed: a steady-state update.
For 2 and 3: BEGIN, FINISH and install instructions, and the sectors erased
and bytes programmed per partition (the QEMU flash driver counts them; the
kernel logs them after the install). Then, exactly, in a second run without
-icount: the kernel's ECDSA verify of the bad-signature bundle at BEGIN, its
bw_p256_verify call counted in a log of the kernel's translated and executed
blocks (bench_boot.count, streamed through a FIFO, never stored), less the
exceptions that preempt it (real-time ticks without -icount: -d int marks them).
Prints "bench: <name> <value>" lines.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import bench_boot

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import p256_ref  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qemu"))
from update_harness import Delivery, Device, Failure, Link, Tools  # noqa: E402

SIZE = 256 * 1024
BENCH_KEY = int.from_bytes(b"bulwark bench update signing key", "big") % p256_ref.N


def exact_verify(tools, image, badsig, kernel_elf):
    """Instructions of each bw_p256_verify call while the kernel refuses badsig."""
    table = bench_boot.functions(kernel_elf)
    low, high = min(t[0] for t in table), max(t[1] for t in table)
    fifo = os.path.join(tempfile.mkdtemp(dir=tools.work), "trace")
    os.mkfifo(fifo)
    result = {}

    def reader():
        with open(fifo, errors="replace") as lines:
            result["calls"] = bench_boot.count(kernel_elf, lines, {"bw_p256_verify"})[1]["bw_p256_verify"]

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    trace = ["-d", "int,in_asm,exec,nochain", "-dfilter", f"0x{low:x}..0x{high - 1:x}", "-D", fifo]
    device = Device(tools, image, "bench-trace", link=Link(), timeout=600, extra=trace)
    try:
        device.wait_for("app", r"update-app: BIG version 1 started", 120)
        d = Delivery(tools, badsig, device.link, "badsig-trace", timeout=120)
        if d.wait() != 1:
            raise Failure("the bad-signature bundle was not refused (traced run)")
        device.wait_for("kernel", r"bad signature", 30)
    finally:
        device.kill()
    thread.join(120)
    return result.get("calls") or []


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bulwark", required=True)
    p.add_argument("--emu", required=True)
    p.add_argument("--boot", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--app-big", required=True, metavar="qt-update-big.bin")
    p.add_argument("--workdir", required=True)
    p.add_argument("--kernel-elf", help="default: bulwark-kernel.elf beside --kernel")
    args = p.parse_args()
    kernel_elf = args.kernel_elf or os.path.join(os.path.dirname(args.kernel), "bulwark-kernel.elf")
    os.makedirs(args.workdir, exist_ok=True)
    tools = Tools(args)
    # A fixed signing key (and RFC 6979 signatures): the same bundles, so the
    # same ECDSA work, every run.
    key, pub = tools.path("signer.key"), tools.path("signer.pub")
    for path, text in zip((key, pub), p256_ref.pem_key_pair(BENCH_KEY)):
        with open(path, "w") as f:
            f.write(text)
    elfs = {v: tools.app_elf(args.app_big, v, f"big{v}.elf", SIZE) for v in (1, 2, 3)}
    bundles = {v: tools.bundle(elfs[v], v, key, f"big{v}.bwb") for v in (2, 3)}
    data = bytearray(open(bundles[2], "rb").read())
    sig_at = 24 + int.from_bytes(data[8:12], "little")
    data[sig_at + 12 + 63] ^= 1
    badsig = tools.path("badsig.bwb")
    with open(badsig, "wb") as f:
        f.write(data)

    image = tools.image("flash.bin", elfs[1], [pub])
    device = Device(tools, image, "bench", link=Link(), icount=True, timeout=600)
    try:
        device.wait_for("app", r"update-app: BIG version 1 started", 60)
        d = Delivery(tools, badsig, device.link, "badsig", timeout=120)
        if d.wait() != 1:
            raise Failure("the bad-signature bundle was not refused")
        m = device.wait_for("kernel", r"bad signature.*\(head checked in (\d+) us\)", 10)
        print(f"bench: signature_check_insns {int(m.group(1)) * 1000}")
        for version in (2, 3):
            start = len(device.kernel_text())
            began = time.monotonic()
            d = Delivery(tools, bundles[version], device.link, f"big{version}", timeout=120)
            if d.wait() != 0:
                raise Failure(f"delivery of version {version} failed:\n{d.stdout()}{d.stderr()}")
            wall = time.monotonic() - began
            device.wait_for("app", rf"update-app: BIG version {version} started, wake reason 9", 60)
            text = device.kernel_text()[start:]
            size = os.path.getsize(bundles[version])
            figures = {
                "begin_insns": r"head checked in (\d+) us",
                "finish_insns": r"layers and image checked in (\d+) us",
                "install_insns": r"install took (\d+) us",
            }
            for name, rx in figures.items():
                m = re.search(rx, text)
                print(f"bench: v{version}_{name} {int(m.group(1)) * 1000 if m else '?'}")
            for part, erased, programmed in re.findall(
                    r"flash work since BEGIN: ([A-Za-z ]+): (\d+) sectors erased, (\d+) bytes programmed",
                    text):
                print(f"bench: v{version}_flash_{part.replace(' ', '_')} {erased} {programmed}")
            print(f"bench: v{version}_bundle_bytes {size}")
            print(f"bench: v{version}_link_kib_per_s {size / 1024 / wall:.1f}")
    except Failure as e:
        print(f"bench_update: {e}", file=sys.stderr)
        return 1
    finally:
        device.kill()
    try:
        calls = exact_verify(tools, tools.image("flash-trace.bin", elfs[1], [pub]), badsig, kernel_elf)
    except (Failure, subprocess.SubprocessError) as e:
        print(f"bench_update: {e}", file=sys.stderr)
        return 1
    print(f"bench: install_ecdsa_verify_insns {calls[0] if len(calls) == 1 else '?'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
