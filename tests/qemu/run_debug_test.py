#!/usr/bin/env python3
"""GDB debugs the app through the kernel's debug monitor over the local link
(issue 11, docs/SPEC.md §20): real gdb-multiarch in batch mode against
`bulwark debug --link-port`.

Promises checked:
  - session 1: break at a named function, continue to it, `bt` names its
    callers, `print` a global and a local, `next`, `stepi`, `info registers`,
    `set var` changes what the app's console shows, reads of kernel RAM and
    of the kernel's timer get "Cannot access memory" and later requests are
    still answered; detach: the app runs on (new ticks with the new mode);
  - session 2: a fault while attached stops GDB at the faulting instruction
    (crash_now) with SIGSEGV and the fault status; after detach the kernel's
    crash handling takes over as without a debugger (the app restarts);
  - session 3: the CLI killed while the app is halted at a breakpoint: the
    kernel removes the breakpoint and resumes the app after its peer
    timeout (BW_DEBUG_PEER_TIMEOUT_MS, 15 s), and the app runs on.
Every wait is on a log line or GDB's exit, bounded.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import run_scenario, Device, Failure, Link  # noqa: E402
import debug_gdb  # noqa: E402


def link_server(tools, link, name):
    """`bulwark debug` serving GDB over the device's local link."""
    return debug_gdb.DebugServer(tools, ["--link-port", "0", "--timeout", "20"], name, on_listen=link.attach)


def scenario(tools):
    elf = tools.args.app
    image = tools.image("debug.img", elf, [])
    link = Link()
    dev = Device(tools, image, "debug", link=link, timeout=240)
    try:
        dev.wait_for("app", r"^tick 3 mode 1 ", 30)

        # Session 1: the tour.
        srv = link_server(tools, link, "s1")
        debug_gdb.tour(tools, elf, srv.gdb_port, "s1")
        if srv.wait() != 0:
            raise Failure(f"bulwark debug exit code after detach: {srv.stderr()}")
        at = len(dev.app_text())
        dev.wait_for("app", r"^tick \d+ mode 7 ", 20, at)
        dev.wait_for("kernel", r"debug: debugger gone: 0 breakpoints removed, app resumed", 5)

        # Session 2: a crash while attached.
        before_crash = len(dev.app_text())
        srv = link_server(tools, link, "s2")
        debug_gdb.crash(tools, elf, srv.gdb_port, "s2")
        srv.wait()
        dev.wait_for("kernel", r"app crash", 20)
        dev.wait_for("app", r"^tick 1 mode 1 ", 20, before_crash)

        # Session 3: the debugger lost while the app is halted at a breakpoint.
        srv = link_server(tools, link, "s3")
        held = debug_gdb.HeldAtBreakpoint(tools, elf, srv.gdb_port, "s3")
        try:
            at = len(dev.app_text())
            srv.kill()
            dev.wait_for("kernel", r"no request over the link for 15000 ms: the debugger is lost", 30)
            dev.wait_for("kernel", r"debugger gone: 1 breakpoints removed, app resumed", 5)
            dev.wait_for("app", r"^tick \d+ mode 1 ", 20, at)
            dev.wait_for("app", r"^tick \d+ mode 1 (.|\n)*^tick \d+ mode 1 ", 20, at)
            if dev.kernel_text().count("app crash:") != 1:
                raise Failure("session 3: the app crashed after the debugger was lost (a BKPT left behind?)")
            debug_gdb.expect(held.go(), r"Remote connection closed|Remote communication error",
                             "GDB sees its server gone")
        finally:
            held.kill()
        if "KERNEL" in dev.kernel_text():
            raise Failure("the kernel reported a fault of its own")
    finally:
        dev.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bulwark", required=True)
    parser.add_argument("--emu", required=True)
    parser.add_argument("--boot", required=True)
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--app", required=True, metavar="qt-debug.elf")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    return run_scenario(args, "qemu.debug.gdb", scenario)


if __name__ == "__main__":
    sys.exit(main())
