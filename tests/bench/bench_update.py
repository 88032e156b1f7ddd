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
kernel logs them after the install). Prints "bench: <name> <value>" lines.
"""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qemu"))
from update_harness import Delivery, Device, Failure, Link, Tools  # noqa: E402

SIZE = 256 * 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bulwark", required=True)
    p.add_argument("--emu", required=True)
    p.add_argument("--boot", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--app-big", required=True, metavar="qt-update-big.bin")
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    tools = Tools(args)
    key, pub = tools.keys("signer")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
