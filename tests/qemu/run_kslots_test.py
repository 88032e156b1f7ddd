#!/usr/bin/env python3
"""The two kernel copies on QEMU (docs/SPEC.md section 19.5): power-on after power-on of
one flash image, each boot waited on by its console lines, then killed (a power cut).

Scenarios (--scenario):
  confirm         the build's kernel runs (counter at its version); --staged (the same
                  kernel signed as a newer version) is staged. Boot 1: backed up, copied,
                  on trial (boot 1 of 3), the app healthy, the kernel confirms. Boot 2: the
                  new kernel, not on trial, and the stub has raised the counter to its
                  version (read from the flash file). Boot 3: the same.
  never-confirms  --staged is a kernel that never confirms: trial boots 1, 2, 3 each run
                  until the app is healthy; boot 4 reverts ("never confirmed itself"), the
                  old kernel runs, the counter is unchanged, the slot holds the old kernel
                  again byte for byte.
  deadline        --staged never confirms and resets itself at its 3 s trial deadline:
                  in one power-on, trial boots 1, 2, 3 each end in that reset, then the
                  stub reverts ("never confirmed itself") and the old kernel runs; the
                  journal says reverted (reason 1), the slot holds the old kernel byte
                  for byte, the counter is unchanged.
  refused         --staged must be refused with --reason: the stub says so, the old
                  kernel runs; the journal says "refused", the slot is untouched.
  restore         --kernel is garbage, --backup a good kernel (no journal record): the
                  stub refuses the slot, copies the backup back ("the kernel slot failed
                  verification") and starts it; the next boot starts it with no word.
  kill            --runs power cuts (kill -9 of QEMU) during the swap boot of --staged,
                  at a random instant inside the backup copy or the copy into the slot
                  (alternately; each from its journal record to the next, read from the
                  flash file); each recovery
                  boot must start a
                  verified kernel whose bytes fill the slot exactly (old or new), and
                  the device must end on the new kernel, confirmed, counter raised.
                  Prints the cuts that landed in each step; at least one inside the
                  copy into the slot (a torn slot), else it proved less than it says.
  both-bad        --kernel is garbage and --backup too: the stub prints both reasons and
                  halts (QEMU exit 3), never starting a kernel.
Prints PASS/FAIL <name>. Python 3 standard library only.
"""

import argparse
import os
import random
import re
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Device, Failure, run_scenario  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "emu"))
import bulwark_emu as emu  # noqa: E402

BOOT_S = 60          # each boot's bound: the stub's checks, the kernel, the app healthy
HEALTHY = r"app healthy"
STATES = {1: "staged", 2: "backup", 3: "install", 4: "trial", 5: "revert", 6: "confirmed",
          7: "refused", 8: "reverted"}


def version_text(v):
    return f"{v >> 24}.{(v >> 16) & 0xFF}.{v & 0xFFFF}"


def sealed_version(path):
    with open(path, "rb") as f:
        return struct.unpack_from("<I", f.read(12), 8)[0]


def read_flash(image, span):
    with open(image, "rb") as f:
        f.seek(span[0] - emu.FLASH_BASE)
        return f.read(span[1] - span[0])


def journal_newest(image):
    """(state, boots, reason) of the newest valid kernel-state record, or None."""
    data = read_flash(image, emu.KERNEL_STATE)
    best = None
    for at in range(0, len(data), 32):
        r = data[at:at + 32]
        if r[4] != emu.KSTATE_MAGIC or r[5] != 1 or struct.unpack_from("<I", r, 28)[0] != zlib.crc32(r[:28]):
            continue
        seq = struct.unpack_from("<I", r, 0)[0]
        if best is None or seq > best[0]:
            best = (seq, r[6], r[7], r[8])
    return None if best is None else best[1:]


def counter(image):
    data = read_flash(image, emu.ROLLBACK)
    value = 0
    for at in range(0, len(data), 16):
        m, v, nv, nm = struct.unpack_from("<IIII", data, at)
        if m == emu.ROLLBACK_MAGIC and nm == m ^ 0xFFFFFFFF and nv == v ^ 0xFFFFFFFF:
            value = max(value, v)
    return value


def expect_state(image, state, what):
    got = journal_newest(image)
    if got is None or got[0] != state:
        raise Failure(f"{what}: journal {got}, expected state {STATES[state]}")
    return got


def boot(tools, image, name, expect, reject=(), wait=HEALTHY):
    """One power-on: waits for every line of expect (in order) and then `wait`, checks
    that no line of reject appeared, and cuts the power. The kernel log's text."""
    dev = Device(tools, image, name, timeout=BOOT_S)
    try:
        at = 0
        for pattern in expect:
            at = dev.wait_for("kernel", pattern, BOOT_S, at).end()
        if wait:
            dev.wait_for("kernel", wait, BOOT_S, at)
    finally:
        dev.kill()
    text = dev.kernel_text()
    for pattern in reject:
        m = re.search(pattern, text, re.MULTILINE)
        if m:
            raise Failure(f"{name}: kernel log has /{pattern}/: {m.group(0)!r}\n{text}")
    return text


def create(tools, args, name, extra=()):
    image = tools.path(name)
    tools.run(tools.emu, "image", "create", "--force", "--out", image, "--kernel", args.kernel,
              "--app", args.app, "--rollback", hex(args.rollback), *extra)
    return image


def scenario_confirm(tools):
    args = tools.args
    old, new = sealed_version(args.kernel), sealed_version(args.staged)
    image = create(tools, args, "flash.bin", ["--stage-kernel", args.staged])
    old_area = read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1]))
    boot(tools, image, "boot1", [rf"^\[boot\] kernel {version_text(new)} on trial \(boot 1 of 3\)$",
                                 rf"^\[boot\] kernel {version_text(new)} verified$"],
         wait=r"kernel: confirmed after its trial")
    expect_state(image, 6, "after boot 1")
    if read_flash(image, emu.KERNEL_OLD) != old_area:
        raise Failure("KERNEL_OLD does not hold the old kernel byte for byte")
    if counter(image) != args.rollback:
        raise Failure(f"counter {counter(image):#x} moved before the next reset")
    for n in (2, 3):
        boot(tools, image, f"boot{n}", [rf"^\[boot\] kernel {version_text(new)} verified$"],
             reject=[r"on trial", r"refused", r"reverted"])
        if counter(image) != new:
            raise Failure(f"boot {n}: counter {counter(image):#x}, expected {new:#x}")
    print(f"confirm: {version_text(old)} -> {version_text(new)} on trial, confirmed, "
          f"counter {args.rollback:#x} -> {counter(image):#x}")


def expect_never_confirmed(image, old_area, rollback, what):
    """The trial ended as a never-confirmed one must: reverted (reason 1), the old kernel
    in the slot byte for byte, the counter where it was."""
    state = expect_state(image, 8, what)
    if state[2] != 1:
        raise Failure(f"{what}: revert reason {state[2]}, expected 1 (never confirmed)")
    if read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1])) != old_area:
        raise Failure(f"{what}: the slot does not hold the old kernel byte for byte")
    if counter(image) != rollback:
        raise Failure(f"{what}: counter {counter(image):#x} moved without a confirm")


def scenario_never_confirms(tools):
    args = tools.args
    old, new = sealed_version(args.kernel), sealed_version(args.staged)
    image = create(tools, args, "flash.bin", ["--stage-kernel", args.staged])
    old_area = read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1]))
    for n in (1, 2, 3):
        boot(tools, image, f"boot{n}", [rf"^\[boot\] kernel {version_text(new)} on trial \(boot {n} of 3\)$",
                                        rf"^\[boot\] kernel {version_text(new)} verified$"],
             reject=[r"kernel: confirmed"])
        expect_state(image, 4, f"after trial boot {n}")
    boot(tools, image, "boot4",
         [rf"^\[boot\] reverted to kernel {version_text(old)}: the new kernel never confirmed itself$",
          rf"^\[boot\] kernel {version_text(old)} verified$"], reject=[r"on trial"])
    expect_never_confirmed(image, old_area, args.rollback, "after boot 4")
    boot(tools, image, "boot5", [rf"^\[boot\] kernel {version_text(old)} verified$"],
         reject=[r"on trial", r"reverted"])
    print(f"never-confirms: 3 trial boots of {version_text(new)}, reverted to {version_text(old)}")


def scenario_deadline(tools):
    args = tools.args
    old, new = sealed_version(args.kernel), sealed_version(args.staged)
    image = create(tools, args, "flash.bin", ["--stage-kernel", args.staged])
    old_area = read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1]))
    expect = []
    for n in (1, 2, 3):
        expect += [rf"^\[boot\] kernel {version_text(new)} on trial \(boot {n} of 3\)$",
                   rf"^\[boot\] kernel {version_text(new)} verified$",
                   r"^\[kernel\] kernel: on trial and not confirmed after 3 s \(app healthy: \w+, cloud reached: \w+\): "
                   r"resetting so that the boot stub counts this trial boot$"]
    expect += [rf"^\[boot\] reverted to kernel {version_text(old)}: the new kernel never confirmed itself$",
               rf"^\[boot\] kernel {version_text(old)} verified$"]
    text = boot(tools, image, "boot1", expect, reject=[r"kernel: confirmed"], wait=HEALTHY)
    tail = text[text.index("[boot] reverted to kernel"):]
    if "on trial" in tail or "not confirmed after" in tail:
        raise Failure(f"the reverted kernel is on trial or resets:\n{tail}")
    expect_never_confirmed(image, old_area, args.rollback, "after the power-on")
    print(f"deadline: 3 trial boots of {version_text(new)}, each reset by its 3 s deadline, "
          f"reverted to {version_text(old)} in one power-on")


def scenario_refused(tools):
    args = tools.args
    old = sealed_version(args.kernel)
    image = create(tools, args, "flash.bin", ["--stage-kernel", args.staged])
    slot = read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1]))
    boot(tools, image, "boot1", [rf"^\[boot\] staged kernel refused: {args.reason}$",
                                 rf"^\[boot\] kernel {version_text(old)} verified$"],
         reject=[r"on trial"])
    expect_state(image, 7, "after boot 1")
    if read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1])) != slot:
        raise Failure("the slot changed")
    boot(tools, image, "boot2", [rf"^\[boot\] kernel {version_text(old)} verified$"],
         reject=[r"staged kernel refused"])


def scenario_restore(tools):
    args = tools.args
    good = sealed_version(args.backup)
    image = create(tools, args, "flash.bin", ["--backup-kernel", args.backup])
    boot(tools, image, "boot1", [rf"^\[boot\] kernel refused: {args.reason}$",
                                 rf"^\[boot\] reverted to kernel {version_text(good)}: "
                                 r"the kernel slot failed verification$",
                                 rf"^\[boot\] kernel {version_text(good)} verified$"])
    state = expect_state(image, 8, "after boot 1")
    if state[2] != 3:
        raise Failure(f"revert reason {state[2]}, expected 3 (slot failed verification)")
    if read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1])) != read_flash(image, emu.KERNEL_OLD):
        raise Failure("the slot does not hold the backup byte for byte")
    boot(tools, image, "boot2", [rf"^\[boot\] kernel {version_text(good)} verified$"],
         reject=[r"refused", r"reverted"])


def slot_area(image):
    return read_flash(image, (emu.KERNEL_SLOT[0], emu.KERNEL_SEAL[1]))


def wait_state(dev, image, state):
    """Polls the flash file until the journal's newest record has state or a later one
    of a swap (staged 1, backup 2, install 3, trial 4, confirmed 6; a guest event: a
    loaded host may see a short state only once it has passed)."""
    end = time.monotonic() + BOOT_S
    while (journal_newest(image) or (0,))[0] < state:
        if time.monotonic() > end or not dev.alive():
            raise Failure(f"{dev.name}: the journal never reached {STATES[state]}")
        time.sleep(0.0002)


VERIFIED = r"^\[boot\] kernel (\d+\.\d+\.\d+) verified$"


def boot_settled(tools, image, name):
    """One power-on until the kernel has done what its boot asks: a trial kernel until
    it confirms, any other until the app is healthy. The version the stub started."""
    dev = Device(tools, image, name, timeout=BOOT_S)
    try:
        m = dev.wait_for("kernel", VERIFIED, BOOT_S)
        trial = "on trial" in dev.kernel_text()[:m.start()]
        dev.wait_for("kernel", r"kernel: confirmed after its trial" if trial else HEALTHY, BOOT_S, m.end())
    finally:
        dev.kill()
    return m.group(1)


def scenario_kill(tools):
    args = tools.args
    old, new = sealed_version(args.kernel), sealed_version(args.staged)
    rng = random.Random(args.seed)
    base = create(tools, args, "base.bin", ["--stage-kernel", args.staged])
    old_area = slot_area(base)
    new_area = emu.kernel_area(args.staged)
    # One uncut swap boot: how long each copy takes, from the journal record that
    # starts it to the one that ends it (events read from the flash file).
    image = tools.path("flash.bin")
    open(image, "wb").write(open(base, "rb").read())
    copies = (("backup", 2, 3), ("install", 3, 4))
    windows = {}
    dev = Device(tools, image, "measure", timeout=BOOT_S)
    try:
        for name, first, then in copies:
            wait_state(dev, image, first)
            started = time.monotonic()
            wait_state(dev, image, then)
            windows[name] = time.monotonic() - started
    finally:
        dev.kill()
    landed = {}
    torn = 0
    for run in range(args.runs):
        name, first, _ = copies[run % 2]   # cuts alternate between the two copies
        open(image, "wb").write(open(base, "rb").read())
        dev = Device(tools, image, f"cut{run}", timeout=BOOT_S)
        try:
            wait_state(dev, image, first)
            time.sleep(rng.uniform(0, windows[name]))   # the cut's instant, inside that copy
        finally:
            dev.kill()
        state = journal_newest(image)
        step = STATES.get(state[0], "?") if state else "none"
        slot = slot_area(image)
        torn += slot != old_area and slot != bytes(new_area)
        landed[step] = landed.get(step, 0) + 1
        # Recovery: a verified kernel, exactly the bytes of its version in the slot.
        running = boot_settled(tools, image, f"recover{run}")
        want = old_area if running == version_text(old) else bytes(new_area)
        if running not in (version_text(old), version_text(new)) or slot_area(image) != want:
            raise Failure(f"run {run}: kernel {running} runs, slot bytes are not its own")
        for n in range(3):
            if counter(image) == new:
                break
            if boot_settled(tools, image, f"after{run}-{n}") != version_text(new):
                raise Failure(f"run {run}: the old kernel runs again")
        if counter(image) != new or slot_area(image) != bytes(new_area):
            raise Failure(f"run {run}: did not end on {version_text(new)} confirmed (counter {counter(image):#x})")
    print(f"kslots kill: {args.runs} cuts in the swap boot's copies (backup "
          f"{windows['backup'] * 1000:.1f} ms, install {windows['install'] * 1000:.1f} ms), "
          f"last step journaled at the cut: {landed}, {torn} torn slots, 0 bricks")
    if args.runs >= 8 and torn == 0:
        raise Failure("no cut landed inside the copy into the slot")


def scenario_both_bad(tools):
    args = tools.args
    image = create(tools, args, "flash.bin", ["--backup-kernel", args.backup])
    dev = Device(tools, image, "boot1", timeout=BOOT_S)
    try:
        dev.wait_for("kernel", r"^\[boot\] backup kernel refused: .*$", BOOT_S)
        code = dev.proc.wait(timeout=BOOT_S)
    finally:
        dev.kill()
    text = dev.kernel_text()
    if code != 3:
        raise Failure(f"QEMU exit {code}, expected 3 (the stub halted)\n{text}")
    for pattern in (rf"^\[boot\] kernel refused: {args.reason}$",
                    rf"^\[boot\] backup kernel refused: {args.reason}$"):
        if not re.search(pattern, text, re.MULTILINE):
            raise Failure(f"kernel log lacks /{pattern}/\n{text}")
    if re.search(r"Bulwark kernel|verified", text):
        raise Failure(f"a kernel started\n{text}")


SCENARIOS = {"confirm": scenario_confirm, "never-confirms": scenario_never_confirms,
             "refused": scenario_refused, "restore": scenario_restore, "kill": scenario_kill,
             "both-bad": scenario_both_bad, "deadline": scenario_deadline}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    p.add_argument("--name", required=True)
    p.add_argument("--bulwark", required=True)
    p.add_argument("--emu", required=True)
    p.add_argument("--boot", required=True)
    p.add_argument("--kernel", required=True, help="the running kernel (signed)")
    p.add_argument("--app", required=True)
    p.add_argument("--staged", help="the kernel to stage (signed)")
    p.add_argument("--backup", help="what KERNEL_OLD holds (restore, both-bad)")
    p.add_argument("--reason", default=".*", help="regex of the refusal's reason")
    p.add_argument("--rollback", type=lambda t: int(t, 0), default=0)
    p.add_argument("--runs", type=int, default=12)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    return run_scenario(args, args.name, SCENARIOS[args.scenario])


if __name__ == "__main__":
    sys.exit(main())
