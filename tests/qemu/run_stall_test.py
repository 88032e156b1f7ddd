#!/usr/bin/env python3
"""A host that stalls QEMU does not fire the kernel's watchdog in the tests,
and the watchdog's NMI path works (docs/DESIGN.md "Guest time in the QEMU
tests"). Each case boots app A (it beats every 50 ms of kernel time), then
stops one QEMU thread for STALL_S with ptrace (PTRACE_INTERRUPT) and releases
it, as a loaded host or the hypervisor would:
  - guest clock (the harness's default, -icount shift=auto), the vCPU thread
    and then the main-loop thread: the app beats on, the kernel logs no
    failure and the chip never resets (one "Bulwark kernel" line);
  - host clock (no -icount), the vCPU thread: 1.5 s without a tick is a
    stuck kernel to the watchdog, so the kernel logs its NMI, notes why and
    resets the chip, and the next boot starts the app with wake reason
    MICROVISORWATCHDOG (5).

Prints `PASS <name>` and exits 0, or the failed check with log tails and exits
1; exits 77 (skip) without the host CLI or where ptrace of a child is not
allowed. Python 3 standard library only.
"""

import argparse
import ctypes
import errno
import os
import re
import sys
import time

from update_harness import Device, Failure, add_common_args, run_scenario

STALL_S = 1.5                 # past the 1 s watchdog, short of its 2 s reset stage
BEATS_AFTER = 10              # the app must beat this many times after a stall
APP_STARTED = r"update-app: A version 1 started, wake reason {reason}$"
WAKE_WATCHDOG = 5             # MV_WAKEREASON_MICROVISORWATCHDOG
NMI = r"KERNEL: NMI \(secure watchdog: the kernel stopped feeding it\) at \d+ ms: resetting$"

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000             # waitpid's __WALL: a thread, not a child process


class NoPtrace(Exception):
    """This host does not let the test stop a thread of its own child."""


def ptrace(request, tid):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(request, tid, None, None) != 0:
        err = ctypes.get_errno()
        if request == PTRACE_SEIZE and err in (errno.EPERM, errno.EACCES):
            raise NoPtrace(f"ptrace(PTRACE_SEIZE) of QEMU's thread: {os.strerror(err)}")
        raise Failure(f"ptrace({request:#x}, {tid}): {os.strerror(err)}")


def stall_thread(tid, seconds):
    """Stops one thread of another process for seconds, then lets it run."""
    ptrace(PTRACE_SEIZE, tid)
    try:
        ptrace(PTRACE_INTERRUPT, tid)
        os.waitpid(tid, WALL)
        time.sleep(seconds)
    finally:
        ptrace(PTRACE_DETACH, tid)


def qemu_thread(device, which):
    """The thread id of QEMU's vCPU thread ("vcpu": named "... TCG" with
    -name debug-threads=on) or of its main-loop thread ("main")."""
    pid = device.proc.pid
    if which == "main":
        return pid
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if "TCG" in f.read():
                return int(tid)
    raise Failure(f"{device.name}: no TCG thread in QEMU {pid}")


def last_beat(device):
    beats = re.findall(r"update-app: A version 1 heartbeat (\d+)$", device.app_text(), re.M)
    return int(beats[-1]) if beats else 0


def boot(tools, image, name, host_clock):
    device = Device(tools, image, name, host_clock=host_clock,
                    extra=("-name", f"{name},debug-threads=on"))
    device.wait_for("app", APP_STARTED.format(reason=0), 20)
    device.wait_for("app", r"update-app: A version 1 heartbeat 2$", 10)
    return device


def survives(tools, image, thread):
    device = boot(tools, image, f"guest-clock-{thread}", host_clock=False)
    try:
        stall_thread(qemu_thread(device, thread), STALL_S)
        after = last_beat(device) + BEATS_AFTER
        device.wait_for("app", rf"update-app: A version 1 heartbeat {after}$", 30)
        kernel = device.kernel_text()
        if "KERNEL" in kernel or kernel.count("Bulwark kernel") != 1:
            raise Failure(f"{device.name}: the kernel failed or the chip reset after a "
                          f"{STALL_S} s stall of QEMU's {thread} thread:\n" + kernel[-2000:])
        print(f"ok   guest clock: QEMU's {thread} thread stopped {STALL_S} s; the app beat "
              f"{BEATS_AFTER} more times, no watchdog", flush=True)
    finally:
        device.kill()


def watchdog_fires(tools, image):
    device = boot(tools, image, "host-clock-vcpu", host_clock=True)
    try:
        stall_thread(qemu_thread(device, "vcpu"), STALL_S)
        device.wait_for("kernel", NMI, 10)
        device.wait_for("app", APP_STARTED.format(reason=WAKE_WATCHDOG), 20)
        count = device.kernel_text().count("Bulwark kernel")
        if count != 2:
            raise Failure(f"{device.name}: {count} kernel starts, want 2 (one watchdog reset)")
        print(f"ok   host clock: the vCPU thread stopped {STALL_S} s; the kernel logged the "
              f"watchdog's NMI, reset, and the app started with wake reason {WAKE_WATCHDOG}",
              flush=True)
    finally:
        device.kill()


def scenario(tools):
    a1 = tools.app_elf(tools.args.app_a, 1, "a1.elf")
    for thread in ("vcpu", "main"):
        survives(tools, tools.image(f"guest-{thread}.bin", a1, []), thread)
    watchdog_fires(tools, tools.image("host.bin", a1, []))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    try:
        return run_scenario(args, args.name, scenario)
    except NoPtrace as e:
        print(f"SKIP {args.name}: {e} (needs ptrace of a child: CAP_SYS_PTRACE or "
              "kernel.yama.ptrace_scope <= 1)")
        return 77


if __name__ == "__main__":
    sys.exit(main())
