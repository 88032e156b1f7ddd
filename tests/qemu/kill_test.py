#!/usr/bin/env python3
"""Power cuts during local delivery and install: the device never bricks.

For each run: deliver a bundle of the next version (apps A and B alternate,
so every run installs different bytes; versions only go up) and `kill -9`
QEMU at a random instant while the delivery and install are under way (the
flash file keeps exactly what was written: a real power cut, torn writes
included). Then boot again WITHOUT delivering: the device must start a
verified app, the old or the new version, with no failure in the kernel log.
Then deliver again (it resumes from what the device journaled) and the new
version must run with wake reason APPLICATIONUPDATE (9).

The instant is drawn three ways, in turn: uniform over the whole
delivery+install window as measured on earlier runs, uniform over the
download once it started, uniform over the install once it started (the
kernel logs each step). Every other install cut uses a large app
(--install-app-size), a slowed guest (SLOW_GUEST) and a cut timed from the
slot's first change in the flash file, so that it lands inside the copy.

What a cut did is read from the flash file, not from log text: after each
kill the app slot is compared with both images -- the old one, the new one,
or neither (torn: the cut landed inside the install copy) -- and the
recovery boot must leave the slot holding exactly the image of the version
that runs. Prints one line per run and ends with "kill test: N runs, M
interrupted mid-update, T torn slots, 0 bricks"; exits 0 only with no brick,
every update completed, and, with 12 runs or more, at least one torn slot
(else the install cuts missed the copy and the test proved less than it
says). --seed makes a run reproducible.
Exits 77 (skip) without the host CLI. Python 3 standard library only.
"""

import argparse
import os
import random
import re
import shutil
import sys
import time

from update_harness import APP_SLOT, Delivery, Device, Failure, Link, Tools, add_common_args
import memory_map  # noqa: E402  (scripts/, on the path through update_harness)

SKIP_EXIT = 77
# Not anchored at the line start: an app stopped mid-line by an install leaves
# its half line, and the new app's first line follows it.
APP_START = re.compile(r"update-app: (A|B) version (\d+) started, wake reason (\d+)$", re.M)
KERNEL_FAILURE = re.compile(r"KERNEL|no verified app|no valid app|parked|did not verify|"
                            r"rolled back|install failed|updates unavailable|boot:.*failed")
BOOT_TIMEOUT_S = 20
SLOT_OFFSET = APP_SLOT - memory_map.load("qemu-an505")["FLASH"].base   # in the flash file
COPY_CUT_S = 0.02       # install cuts land this soon after the slot first changes
# Install cuts run the guest at 64 ns an instruction in real time (about 16
# MIPS, a U585's order) on every other install cut: the copy into the slot
# then lasts long enough for a cut timed from the host to land inside it (at
# full QEMU speed, or 32 ns, it takes under a millisecond: 0 torn slots in 12
# runs; at 64 ns 4 of 4 such cuts tore it). The other install cuts run at full
# speed and land anywhere in the install, mostly after the copy.
SLOW_GUEST = ("-icount", "shift=6,align=on")
ELF_HEADERS = 52 + 32   # update_harness.elf_with: one program header, then the image


def app_for(version):
    return "B" if version % 2 == 0 else "A"


class Stats:
    def __init__(self):
        self.runs = 0
        self.mid_update = 0
        self.phases = {}
        self.resumed = 0
        self.bricks = 0
        self.slot = {}             # "old" / "new" / "torn": the slot right after the cut
        self.window = 2.0          # QEMU start -> install done, seconds (running mean)
        self.download = 0.5
        self.install = 0.3

    def learn(self, window, download, install):
        self.window = 0.7 * self.window + 0.3 * window
        self.download = 0.7 * self.download + 0.3 * download
        self.install = 0.7 * self.install + 0.3 * install


def phase_of(kernel, version):
    """How far the killed boot got, from its kernel log."""
    if f"app version {version} installed" in kernel:
        return "after install"
    if f"update: verified, installing version {version}" in kernel:
        return "install"
    if f"bundle version {version} received and verified" in kernel:
        return "verified"
    if f"receiving bundle version {version}" in kernel:
        return "download"
    return "before begin"


def image_of(elf):
    """The app image an ELF written by Tools.app_elf carries."""
    with open(elf, "rb") as f:
        return f.read()[ELF_HEADERS:]


def slot_holds(flash, old_image, new_image):
    """'old', 'new' or 'torn': what the app slot of the flash file holds."""
    with open(flash, "rb") as f:
        f.seek(SLOT_OFFSET)
        slot = f.read(max(len(old_image), len(new_image)))
    if slot[:len(new_image)] == new_image:
        return "new"
    if slot[:len(old_image)] == old_image:
        return "old"
    return "torn"


def wait_slot_change(flash, old_image, timeout):
    """Returns once the slot's bytes in the flash file are no longer old_image
    (the install's first erase or program reached the file), or at timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(flash, "rb") as f:
            f.seek(SLOT_OFFSET)
            if f.read(len(old_image)) != old_image:
                return
        time.sleep(0.001)


def cut_power(tools, image, run, version, bundle, stats, rng, old_image):
    """Boot, deliver, kill -9 at a random instant. Returns the phase reached.
    Slow-guest install cuts wait for the copy to reach the flash file, then
    cut within COPY_CUT_S of it."""
    mode = run % 3
    slow = run % 6 == 2
    device = Device(tools, image, f"run{run}-cut", link=Link(), extra=SLOW_GUEST if slow else ())
    delivery = None
    try:
        device.wait_for("app", APP_START.pattern, BOOT_TIMEOUT_S)
        delivery = Delivery(tools, bundle, device.link, f"run{run}-cut")
        if mode == 0:
            time.sleep(rng.uniform(0, stats.window))
        else:
            step = (f"receiving bundle version {version}" if mode == 1
                    else f"update: verified, installing version {version}")
            try:
                device.wait_for("kernel", re.escape(step), 30)
                if slow:
                    wait_slot_change(image, old_image, 5)
                    time.sleep(rng.uniform(0, COPY_CUT_S))
                else:
                    time.sleep(rng.uniform(0, stats.download if mode == 1 else stats.install))
            except Failure:
                pass   # the delivery ended first (refused?): the checks below see it
        device.kill()
        delivery.kill()
        return phase_of(device.kernel_text(), version)
    finally:
        device.kill()
        if delivery is not None:
            delivery.kill()


def boot_and_complete(tools, image, run, old, new, bundle, stats, images):
    """Boots without delivering, checks the app and the slot, then completes
    the update. images: {version: app image bytes} for old and new."""
    device = Device(tools, image, f"run{run}-boot", link=Link())
    try:
        try:
            m = device.wait_for("app", APP_START.pattern, BOOT_TIMEOUT_S)
        except Failure as e:
            raise Failure(f"BRICK: no app started after the power cut: {e}")
        name, version, reason = m.group(1), int(m.group(2)), int(m.group(3))
        kernel = device.kernel_text()
        bad = KERNEL_FAILURE.search(kernel)
        if version not in (old, new) or name != app_for(version) or bad:
            raise Failure(f"BRICK: app {name} version {version} (wake reason {reason}) started, "
                          f"expected {old} or {new}; kernel: {bad.group(0) if bad else 'ok'}\n"
                          + kernel[-2500:])
        held = slot_holds(image, images[old], images[new])
        if held != ("old" if version == old else "new"):
            raise Failure(f"BRICK: app {name} version {version} runs but the slot holds {held} bytes")
        booted = f"{name} v{version}"
        started = time.monotonic()
        delivery = Delivery(tools, bundle, device.link, f"run{run}-complete")
        code = delivery.wait()
        out = delivery.stdout()
        if code != 0:
            raise Failure(f"completing the update failed (deliver exit {code}):\n{out}"
                          f"{delivery.stderr()}")
        resumed = "resuming at offset" in out
        stats.resumed += resumed
        if version == old:
            device.wait_for("app", rf"update-app: {app_for(new)} version {new} started, "
                                   r"wake reason 9$", BOOT_TIMEOUT_S)
            kernel = device.kernel_text()
            t_total = time.monotonic() - started
            times = re.findall(r"install took (\d+) us", kernel)
            install = int(times[-1]) / 1e6 if times else stats.install
            stats.learn(t_total, max(t_total - install, 0.05), install)
        elif "already runs app version" not in out:
            raise Failure(f"the device runs version {new} but deliver did not say so:\n{out}")
        bad = KERNEL_FAILURE.search(device.kernel_text())
        if bad:
            raise Failure(f"kernel failure while completing the update: {bad.group(0)}\n"
                          + device.kernel_text()[-2500:])
        return booted, resumed
    finally:
        device.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--app-size", type=int, default=4 * 1024,
                        help="bytes of most app images (every fourth run: --big-app-size)")
    parser.add_argument("--big-app-size", type=int, default=24 * 1024,
                        help="bytes of the app every fourth run installs: several flash "
                             "sectors, so a cut download has progress to resume from")
    parser.add_argument("--install-app-size", type=int, default=64 * 1024,
                        help="bytes of the app of the slow-guest install cuts: a copy long "
                             "enough for the cut to land inside it")
    args = parser.parse_args()
    if not os.access(args.bulwark, os.X_OK):
        print(f"SKIP kill test: no host tool {args.bulwark} (build the host target first: make host)")
        return SKIP_EXIT
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    tools = Tools(args)
    print(f"kill test: {args.runs} runs, seed {seed}", flush=True)

    key, pub = tools.keys("signer")
    first = tools.app_elf(args.app_a, 1, "v1.elf", args.app_size, 1)
    image = tools.image("flash.bin", first, [pub])
    images = {1: image_of(first)}
    stats = Stats()
    failures = 0
    began = time.monotonic()
    old = 1
    for run in range(1, args.runs + 1):
        new = old + 1
        raw = args.app_b if app_for(new) == "B" else args.app_a
        size = args.big_app_size if run % 4 == 1 else args.app_size
        size = args.install_app_size if run % 6 == 2 else size   # cut_power's slow install cuts
        elf = tools.app_elf(raw, new, f"v{new}.elf", size, new)
        images[new] = image_of(elf)
        bundle = tools.bundle(elf, new, key, f"v{new}.bwb")
        try:
            phase = cut_power(tools, image, run, new, bundle, stats, rng, images[old])
            held = slot_holds(image, images[old], images[new])
            stats.runs += 1
            stats.phases[phase] = stats.phases.get(phase, 0) + 1
            stats.slot[held] = stats.slot.get(held, 0) + 1
            if phase in ("download", "verified", "install") or held == "torn":
                stats.mid_update += 1
            booted, resumed = boot_and_complete(tools, image, run, old, new, bundle, stats, images)
            print(f"run {run}: v{old} -> v{new}: cut during {phase}, slot {held}; booted {booted}; "
                  f"{'resumed' if resumed else 'delivered'}; v{new} runs", flush=True)
        except Failure as e:
            text = str(e)
            if text.startswith("BRICK"):
                stats.bricks += 1
            failures += 1
            print(f"run {run}: v{old} -> v{new}: FAIL: {text}", flush=True)
            break
        images.pop(old, None)
        old = new
        for name in os.listdir(args.workdir):   # keep the work directory small
            if name.startswith(f"run{run - 1}-") or name == f"v{old - 1}.elf":
                os.remove(os.path.join(args.workdir, name))
    elapsed = time.monotonic() - began
    print("phases at the cut: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.phases.items()))
          + f"; {stats.resumed} completions resumed a partial download; {elapsed:.0f} s")
    print("slot after the cut: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.slot.items())))
    torn = stats.slot.get("torn", 0)
    print(f"kill test: {stats.runs} runs, {stats.mid_update} interrupted mid-update, "
          f"{torn} torn slots, {stats.bricks} bricks")
    if failures == 0 and stats.runs == args.runs and stats.mid_update < args.runs // 4:
        print("FAIL: too few cuts landed mid-update for the test to mean much")
        return 1
    if failures == 0 and stats.runs == args.runs and args.runs >= 12 and torn == 0:
        print("FAIL: no cut landed inside the install copy (the slot was never torn)")
        return 1
    return 0 if failures == 0 and stats.runs == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
