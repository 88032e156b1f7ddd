#!/usr/bin/env python3
"""Kernel delivery over the local link on QEMU (docs/SPEC.md section 19.6): `bulwark
device deliver KERNEL.signed` against a running device, which stages the kernel for the
boot stub, resets into it, and comes back on the new kernel on trial.

Scenarios (--scenario):
  deliver   the device runs the build's kernel (counter at --rollback) and the app.
            Every --refuse FILE=REASON is delivered first: the CLI exits 1 with REASON,
            the kernel log says why, the slot and the staged-kernel journal are
            untouched and the app runs on. Then --newer is delivered: the CLI waits
            for the device to come back and prints the new kernel (on trial); the stub
            swapped it in (its console lines), the kernel confirms itself once the app
            is healthy, the app woke with MICROVISORUPDATE (10); a second delivery of the
            same file is "nothing to deliver"; the next power-on raises the counter
            to the new version.
  resume    --newer is delivered and the power is cut (kill -9 of QEMU) once the CLI
            has sent about half of the image; the next power-on's delivery resumes
            from the journaled offset (not from the start) and ends on the new kernel.
Prints PASS/FAIL <name>. Python 3 standard library only.
"""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Delivery, Device, Failure, Link, run_scenario  # noqa: E402
from run_kslots_test import (counter, journal_newest, read_flash, sealed_version,  # noqa: E402
                             version_text)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "emu"))
import bulwark_emu as emu  # noqa: E402

BOOT_S = 60
DELIVER_S = 60       # the CLI's --timeout: per answer, and for the device's return
HEALTHY = r"app healthy"
CONFIRMED = r"kernel: confirmed after its trial"


def slot_area(image):
    return read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1]))


def create(tools, name):
    args = tools.args
    image = tools.path(name)
    tools.run(tools.emu, "image", "create", "--force", "--out", image, "--kernel", args.kernel,
              "--app", args.app, "--rollback", hex(args.rollback))
    return image


def deliver(tools, dev, link, path, name, expect):
    """One `device deliver` of path; its exit code must be expect. The CLI's stdout+stderr."""
    d = Delivery(tools, path, link, name, timeout=DELIVER_S)
    code = d.wait()
    if code != expect:
        raise Failure(f"{name}: deliver exit {code}, expected {expect}\n{d.stdout()}{d.stderr()}\n"
                      f"--- kernel log tail:\n" + "\n".join(dev.kernel_text().splitlines()[-12:]))
    return d.stdout() + d.stderr()


def app_runs_on(dev, since):
    """The app prints again after offset `since` of its log (it was not stopped)."""
    dev.wait_for("app", r"\S", 20, since)


def scenario_deliver(tools):
    args = tools.args
    old, new = sealed_version(args.kernel), sealed_version(args.newer)
    image = create(tools, "flash.bin")
    link = Link()
    dev = Device(tools, image, "boot1", link=link, timeout=600)
    try:
        dev.wait_for("kernel", rf"^\[boot\] kernel {version_text(old)} verified$", BOOT_S)
        dev.wait_for("kernel", HEALTHY, BOOT_S)
        slot = slot_area(image)
        journal = journal_newest(image)
        for n, case in enumerate(args.refuse):
            path, reason = case.split("=", 1)
            app_at = len(dev.app_text())
            log_at = len(dev.kernel_text())
            text = deliver(tools, dev, link, path, f"refuse{n}", 1)
            if not re.search(reason, text):
                raise Failure(f"{os.path.basename(path)}: the CLI's reason lacks /{reason}/:\n{text}")
            dev.wait_for("kernel", rf"^\[kernel\] update: (bundle rejected|data at offset \d+ refused): "
                                   rf".*{reason}", 10, log_at)
            if slot_area(image) != slot or journal_newest(image) != journal:
                raise Failure(f"{os.path.basename(path)}: the slot or the stub's journal changed")
            app_runs_on(dev, app_at)
            print(f"refused {os.path.basename(path)}: {reason}")
        log_at = len(dev.kernel_text())
        text = deliver(tools, dev, link, args.newer, "newer", 0)
        if not re.search(rf"installed: the device now runs kernel {re.escape(version_text(new))}", text):
            raise Failure(f"the CLI did not report the new kernel:\n{text}")
        at = log_at
        for pattern in (rf"^\[kernel\] update: kernel {version_text(new)} staged for the boot stub$",
                        r"^\[kernel\] update: resetting into the boot stub",
                        rf"^\[boot\] kernel {version_text(new)} on trial \(boot 1 of 3\)$",
                        rf"^\[boot\] kernel {version_text(new)} verified$"):
            at = dev.wait_for("kernel", pattern, BOOT_S, at).end()
        dev.wait_for("kernel", r"^\[kernel\] app starting \(wake reason 10\)$", BOOT_S, at)   # MICROVISORUPDATE
        dev.wait_for("kernel", CONFIRMED, BOOT_S, at)
        if read_flash(image, emu.KERNEL_OLD) != slot:
            raise Failure("KERNEL_OLD does not hold the old kernel byte for byte")
        text = deliver(tools, dev, link, args.newer, "again", 0)
        if "nothing to deliver" not in text:
            raise Failure(f"a second delivery of the running kernel did something:\n{text}")
        if counter(image) != args.rollback:
            raise Failure(f"counter {counter(image):#x} moved before the next reset")
    finally:
        dev.kill()
    dev = Device(tools, image, "boot2", timeout=BOOT_S)
    try:
        dev.wait_for("kernel", rf"^\[boot\] kernel {version_text(new)} verified$", BOOT_S)
        dev.wait_for("kernel", HEALTHY, BOOT_S)
    finally:
        dev.kill()
    if "on trial" in dev.kernel_text():
        raise Failure("boot 2: the confirmed kernel is on trial again")
    if counter(image) != new:
        raise Failure(f"counter {counter(image):#x} after the confirm, expected {new:#x}")
    print(f"deliver: {version_text(old)} -> {version_text(new)} over the link, on trial, "
          f"confirmed, counter {args.rollback:#x} -> {counter(image):#x}")


def scenario_resume(tools):
    args = tools.args
    new = sealed_version(args.newer)
    image = create(tools, "flash.bin")
    link = Link()
    dev = Device(tools, image, "boot1", link=link, timeout=300)
    try:
        dev.wait_for("kernel", HEALTHY, BOOT_S)
        d = Delivery(tools, args.newer, link, "cut", timeout=DELIVER_S)
        end = time.monotonic() + 120
        while not re.search(r"^sent \d+ of \d+ bytes \(([5-9]\d)%\)$", d.stdout(), re.M):
            if d.proc.poll() is not None or time.monotonic() > end:
                raise Failure(f"the delivery never got half-way:\n{d.stdout()}{d.stderr()}")
            time.sleep(0.01)
    finally:
        dev.kill()   # the power cut
    code = d.wait()
    if code != 3:
        raise Failure(f"the cut delivery exited {code}, expected 3 (link lost)\n{d.stderr()}")
    link = Link()
    dev = Device(tools, image, "boot2", link=link, timeout=300)
    try:
        dev.wait_for("kernel", HEALTHY, BOOT_S)
        text = deliver(tools, dev, link, args.newer, "resumed", 0)
        m = re.search(r"device accepted the bundle head: resuming at offset (\d+) of (\d+)", text)
        if not m:
            raise Failure(f"the second delivery did not resume:\n{text}")
        dev.wait_for("kernel", rf"^\[boot\] kernel {version_text(new)} verified$", BOOT_S)
        dev.wait_for("kernel", CONFIRMED, BOOT_S)
    finally:
        dev.kill()
    print(f"resume: cut after half the image; resumed at offset {m.group(1)} of {m.group(2)}; "
          f"kernel {version_text(new)} confirmed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--scenario", required=True, choices=("deliver", "resume"))
    parser.add_argument("--bulwark", required=True)
    parser.add_argument("--emu", required=True)
    parser.add_argument("--boot", required=True)
    parser.add_argument("--kernel", required=True, help="the signed kernel the image starts with")
    parser.add_argument("--app", required=True)
    parser.add_argument("--rollback", type=lambda v: int(v, 0), default=0)
    parser.add_argument("--newer", required=True, help="the signed kernel to deliver")
    parser.add_argument("--refuse", action="append", default=[], metavar="FILE=REASON")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    scenarios = {"deliver": scenario_deliver, "resume": scenario_resume}
    return run_scenario(args, args.name, scenarios[args.scenario])


if __name__ == "__main__":
    sys.exit(main())
