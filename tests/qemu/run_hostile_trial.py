#!/usr/bin/env python3
"""A hostile app on trial is rolled back (issue 14): a device provisioned with
app A (version 1) and the trusted key receives a signed bundle of a hostile
app H (version 2, tests/qemu/apps/hostile built with HOSTILE_TRIAL: it
attacks the kernel at every start). Promises checked:
  - H is installed and runs (wake reason 9), then each start ends in an app
    crash of the expected class (--expect-class), never a kernel fault or a
    chip reset (one "Bulwark kernel" line in the whole run);
  - after the bundle's crash-loop count the kernel rolls back to A, which
    starts with wake reason 8 and reads through bwGetUpdateInfo and
    bwGetLastCrash that it was rolled back for a crash loop (cause 1) of app
    version 2, with that class, and keeps running (its heartbeat).

Prints `PASS <name>` and exits 0, or the failed check with log tails and exits
1; exits 77 (skip) without the host CLI. Python 3 standard library only.
"""

import argparse
import re
import sys

from update_harness import Delivery, Device, Failure, Link, add_common_args, run_scenario

APP_STARTED = r"update-app: {name} version {version} started, wake reason {reason}$"
CLASS_NUMBER = {"invalid-access": 1, "secure-access": 2, "reserved-peripheral": 4,
                "undefined-instruction": 5, "invalid-state": 6, "hang": 11, "bad-kernel-call": 12}


def scenario(tools, args):
    key, pub = tools.keys("signer")
    a1 = tools.app_elf(tools.args.app_a, 1, "a1.elf")
    image = tools.image("flash.bin", a1, [pub])
    device = Device(tools, image, "trial", link=Link())
    try:
        device.wait_for("app", APP_STARTED.format(name="A", version=1, reason=0), 10)
        hostile = tools.bundle(tools.app_elf(args.app_h, 2, "h2.elf"), 2, key, "h2.bwb",
                               ["--restart-min-ms", "20", "--restart-max-ms", "100"])
        Delivery(tools, hostile, device.link, "h2").wait()
        device.wait_for("app", r"^hostile-trial: .* version 2 started, wake reason 9$", 20)
        print("ok   hostile app version 2 installed, on trial", flush=True)
        device.wait_for("kernel", r"update: crash loop: rolled back to app version 0$", 30)
        # Printed after the record of the crash that made the loop.
        device.wait_for("kernel", r"crash loop: \d+ crashes before healthy: rolled back", 10)
        kernel = device.kernel_text()
        seen = re.findall(r"crash class: ([a-z-]+) in", kernel)
        if len(seen) < 3 or any(c != args.expect_class for c in seen):
            raise Failure(f"crash classes {seen}, want at least 3 x {args.expect_class}\n" + kernel[-3000:])
        print(f"ok   {len(seen)} crashes of class {args.expect_class}, then rolled back", flush=True)
        device.wait_for("app", APP_STARTED.format(name="A", version=1, reason=8), 20)
        for pattern in [r"update-app: A version 1 last rollback cause 1$",
                        r"update-app: A version 1 last crash of app version 2$",
                        rf"update-app: A version 1 last crash class {CLASS_NUMBER[args.expect_class]}$",
                        r"update-app: A version 1 last crash loop action 1$",
                        r"update-app: A version 1 heartbeat 3$"]:
            device.wait_for("app", pattern, 10)
        kernel = device.kernel_text()
        if "KERNEL" in kernel or kernel.count("Bulwark kernel") != 1:
            raise Failure("the kernel faulted or the chip reset:\n" + kernel[-3000:])
        print("ok   A runs again and reads the cause; the kernel never faulted or reset", flush=True)
    finally:
        device.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--app-h", required=True, metavar="qt-hostile-trial-CASE.bin")
    parser.add_argument("--expect-class", required=True, choices=sorted(CLASS_NUMBER))
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    return run_scenario(args, args.name, lambda tools: scenario(tools, args))

if __name__ == "__main__":
    sys.exit(main())
