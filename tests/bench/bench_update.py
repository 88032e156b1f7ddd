#!/usr/bin/env python3
"""Update figures for `make bench` (scripts/bench.sh), no pass/fail.

Exact guest instructions, identical on every run: QEMU logs the kernel's
translated and executed blocks (tests/bench/trace_calls.py, which leaves out
the interrupt handlers that preempt a call), on a device provisioned with the
256 KiB app (qt-update-big, version 1):
  1. a bundle whose signature is wrong (one bit of s flipped) is refused at
     BEGIN after the full ECDSA verify: the signature check is that
     bw_manifest_ecdsa_check call;
  2. version 2 is delivered and installed: the first install after
     provisioning, which also copies the provisioned app into a bank;
  3. version 3 is delivered and installed: a steady-state update.
For 2 and 3: BEGIN, FINISH and install instructions (the calls
bw_update_begin_staged, bw_update_finish, update_service_install; and for
1 the ECDSA verify alone, its bw_p256_verify call), and the
sectors erased and bytes programmed per partition (the QEMU flash driver
counts them; the kernel logs them after the install). Prints
"bench: <name> <value>" lines.
"""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import p256_ref  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qemu"))
from update_harness import Delivery, Device, Failure, Link, Tools  # noqa: E402
from trace_calls import CallCounter, functions  # noqa: E402
from bench_common import read_log_fifo  # noqa: E402

SIZE = 256 * 1024
BENCH_KEY = int.from_bytes(b"bulwark bench update signing key", "big") % p256_ref.N


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
    wanted = ["bw_manifest_ecdsa_check", "bw_p256_verify", "bw_update_begin_staged", "bw_update_finish",
              "update_service_install"]
    counter = CallCounter(kernel_elf, wanted)
    table = functions(kernel_elf)
    fifo = tools.path("trace.fifo")
    reader = read_log_fifo(counter, fifo)
    # -icount: guest time follows instructions, so a slow log reader never
    # starves the kernel's watchdog (the trace makes QEMU many times slower).
    device = Device(tools, image, "bench", link=Link(), icount=True, timeout=900, extra=(
        "-d", "in_asm,exec,nochain", "-dfilter", f"0x{table[0][0]:x}..0x{table[-1][1] - 1:x}", "-D", fifo))
    try:
        device.wait_for("app", r"update-app: BIG version 1 started", 60)
        d = Delivery(tools, badsig, device.link, "badsig", timeout=120)
        if d.wait() != 1:
            raise Failure("the bad-signature bundle was not refused")
        device.wait_for("kernel", r"bad signature.*\(head checked in (\d+) us\)", 10)
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
        reader.join(timeout=120)   # QEMU gone: the rest of the log drains
    calls = counter.calls
    figure = lambda name, i: calls[name][i] if len(calls[name]) > i else "?"  # noqa: E731
    print(f"bench: signature_check_insns {figure('bw_manifest_ecdsa_check', 0)}")
    print(f"bench: install_ecdsa_verify_insns {figure('bw_p256_verify', 0)}")
    for i, version in enumerate((2, 3)):
        print(f"bench: v{version}_begin_insns {figure('bw_update_begin_staged', i + 1)}")
        print(f"bench: v{version}_finish_insns {figure('bw_update_finish', i)}")
        print(f"bench: v{version}_install_insns {figure('update_service_install', i)}")
    print(f"bench: update_handler_insns_left_out {counter.handler_insns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
