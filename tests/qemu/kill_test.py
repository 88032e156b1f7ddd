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
kernel logs each step). Prints one line per run and ends with
"kill test: N runs, M interrupted mid-update, 0 bricks"; exits 0 only with
no brick and every update completed. --seed makes a run reproducible.
Exits 77 (skip) without the host CLI. Python 3 standard library only.
"""

import argparse
import os
import random
import re
import shutil
import sys
import time

from update_harness import Delivery, Device, Failure, Link, Tools, add_common_args

SKIP_EXIT = 77
# Not anchored at the line start: an app stopped mid-line by an install leaves
# its half line, and the new app's first line follows it.
APP_START = re.compile(r"update-app: (A|B) version (\d+) started, wake reason (\d+)$", re.M)
KERNEL_FAILURE = re.compile(r"KERNEL|no verified app|no valid app|parked|did not verify|"
                            r"rolled back|install failed|updates unavailable|boot:.*failed")
BOOT_TIMEOUT_S = 20


def app_for(version):
    return "B" if version % 2 == 0 else "A"


class Stats:
    def __init__(self):
        self.runs = 0
        self.mid_update = 0
        self.phases = {}
        self.resumed = 0
        self.bricks = 0
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


def cut_power(tools, image, run, version, bundle, stats, rng):
    """Boot, deliver, kill -9 at a random instant. Returns the phase reached."""
    device = Device(tools, image, f"run{run}-cut", link=Link())
    delivery = None
    try:
        device.wait_for("app", APP_START.pattern, BOOT_TIMEOUT_S)
        delivery = Delivery(tools, bundle, device.link, f"run{run}-cut")
        mode = run % 3
        if mode == 0:
            time.sleep(rng.uniform(0, stats.window))
        else:
            step = (f"receiving bundle version {version}" if mode == 1
                    else f"update: verified, installing version {version}")
            try:
                device.wait_for("kernel", re.escape(step), 30)
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


def boot_and_complete(tools, image, run, old, new, bundle, stats):
    """Boots without delivering, checks the app, then completes the update."""
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
    image = tools.image("flash.bin", tools.app_elf(args.app_a, 1, "v1.elf", args.app_size, 1), [pub])
    stats = Stats()
    failures = 0
    began = time.monotonic()
    old = 1
    for run in range(1, args.runs + 1):
        new = old + 1
        raw = args.app_b if app_for(new) == "B" else args.app_a
        size = args.big_app_size if run % 4 == 1 else args.app_size
        elf = tools.app_elf(raw, new, f"v{new}.elf", size, new)
        bundle = tools.bundle(elf, new, key, f"v{new}.bwb")
        try:
            phase = cut_power(tools, image, run, new, bundle, stats, rng)
            stats.runs += 1
            stats.phases[phase] = stats.phases.get(phase, 0) + 1
            if phase in ("download", "verified", "install"):
                stats.mid_update += 1
            booted, resumed = boot_and_complete(tools, image, run, old, new, bundle, stats)
            print(f"run {run}: v{old} -> v{new}: cut during {phase}; booted {booted}; "
                  f"{'resumed' if resumed else 'delivered'}; v{new} runs", flush=True)
        except Failure as e:
            text = str(e)
            if text.startswith("BRICK"):
                stats.bricks += 1
            failures += 1
            print(f"run {run}: v{old} -> v{new}: FAIL: {text}", flush=True)
            break
        old = new
        for name in os.listdir(args.workdir):   # keep the work directory small
            if name.startswith(f"run{run - 1}-") or name == f"v{old - 1}.elf":
                os.remove(os.path.join(args.workdir, name))
    elapsed = time.monotonic() - began
    print("phases at the cut: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.phases.items()))
          + f"; {stats.resumed} completions resumed a partial download; {elapsed:.0f} s")
    print(f"kill test: {stats.runs} runs, {stats.mid_update} interrupted mid-update, "
          f"{stats.bricks} bricks")
    if failures == 0 and stats.runs == args.runs and stats.mid_update < args.runs // 4:
        print("FAIL: too few cuts landed mid-update for the test to mean much")
        return 1
    return 0 if failures == 0 and stats.runs == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
