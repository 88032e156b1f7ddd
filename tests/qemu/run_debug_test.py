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
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import (run_scenario, Device, Failure, Link, Tools)  # noqa: E402,F401

POLL_S = 0.01


class DebugServer:
    """`bulwark debug` attached to the device's link; its GDB port."""

    def __init__(self, tools, link, name):
        self.out_path = tools.path(name + "-debug.out")
        self.err_path = tools.path(name + "-debug.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([tools.bulwark, "debug", "--link-port", "0", "--port", "0",
                                      "--timeout", "20"], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err)
        m = self.wait_out(r"^listening on 127\.0\.0\.1:(\d+)$")
        link.attach(int(m.group(1)))
        self.gdb_port = int(self.wait_out(r"^GDB server on 127\.0\.0\.1:(\d+)").group(1))

    def wait_out(self, pattern, timeout=15):
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, Device.read(self.out_path), re.M)
            if m:
                return m
            if self.proc.poll() is not None or time.monotonic() > end:
                raise Failure(f"bulwark debug: no /{pattern}/: {Device.read(self.err_path)}")
            time.sleep(POLL_S)

    def wait(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.out.close()
            self.err.close()

    def kill(self):
        self.proc.kill()
        return self.wait()


def gdb(tools, elf, port, commands, name, timeout=90):
    """Runs gdb-multiarch --batch with one -ex per line of commands (so a
    refused command, an error, does not end the session); returns its output."""
    lines = ["set pagination off", "set confirm off", "set width 0", f"file {elf}",
             f"target remote 127.0.0.1:{port}"] + [c for c in commands.splitlines() if c.strip()]
    argv = ["gdb-multiarch", "--nx", "--batch"]
    for line in lines:
        argv += ["-ex", line]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    with open(tools.path(name + ".gdb.out"), "w") as f:
        f.write(out)
    return out


def expect(out, pattern, what):
    if not re.search(pattern, out, re.M):
        raise Failure(f"{what}: GDB output lacks /{pattern}/\n--- GDB output:\n{out}")


def scenario(tools):
    elf = tools.args.app
    image = tools.image("debug.img", elf, [])
    link = Link()
    dev = Device(tools, image, "debug", link=link, timeout=240)
    try:
        dev.wait_for("app", r"^tick 3 mode 1 ", 30)

        # Session 1: the tour.
        srv = DebugServer(tools, link, "s1")
        out = gdb(tools, elf, srv.gdb_port, """
break compute
continue
bt
print g_mode
next
print local
stepi
info registers
set var g_mode = 7
print *(int *)0x38000000
print *(int *)0x50001000
print g_mode
delete
detach
""", "s1")
        expect(out, r"Breakpoint 1, compute \(x=[^)]*\d+\)", "break + continue")
        expect(out, r"#1 .* in tick_once \(n=[^)]*\d+\)", "bt names tick_once")
        expect(out, r"#2 .* in main \(\)", "bt names main")
        expect(out, r"^\$1 = 1$", "print g_mode")
        expect(out, r"^\$2 = \d+$", "print local")
        expect(out, r"^pc +0x[0-9a-f]+ +0x[0-9a-f]+ <compute\+\d+>", "info registers: pc in compute")
        expect(out, r"^xpsr +0x[0-9a-f]+", "info registers: xpsr")
        expect(out, r"Cannot access memory at address 0x38000000", "kernel RAM refused")
        expect(out, r"Cannot access memory at address 0x50001000", "kernel timer refused")
        expect(out, r"^\$3 = 7$", "requests answered after refusals")
        expect(out, r"\[Inferior 1 \(Remote target\) detached\]", "detach")
        if srv.wait() != 0:
            raise Failure(f"bulwark debug exit code after detach: {Device.read(srv.err_path)}")
        at = len(dev.app_text())
        dev.wait_for("app", r"^tick \d+ mode 7 ", 20, at)
        dev.wait_for("kernel", r"debug: debugger gone: 0 breakpoints removed, app resumed", 5)

        # Session 2: a crash while attached.
        before_crash = len(dev.app_text())
        srv = DebugServer(tools, link, "s2")
        out = gdb(tools, elf, srv.gdb_port, """
set var g_crash = 1
continue
info registers pc
detach
""", "s2")
        expect(out, r"Program received signal SIGSEGV", "fault stops GDB with SIGSEGV")
        expect(out, r"bulwark: app stopped by (HardFault|SecureFault|BusFault)", "fault reason")
        expect(out, r"^pc +0x[0-9a-f]+ +0x[0-9a-f]+ <crash_now\+\d+>", "stopped at the faulting store")
        srv.wait()
        dev.wait_for("kernel", r"app crash", 20)
        dev.wait_for("app", r"^tick 1 mode 1 ", 20, before_crash)

        # Session 3: the debugger lost while the app is halted at a breakpoint.
        srv = DebugServer(tools, link, "s3")
        gdb_proc = subprocess.Popen(["gdb-multiarch", "--nx", "--batch", "-ex", "set confirm off",
                                     "-ex", f"file {elf}", "-ex", f"target remote 127.0.0.1:{srv.gdb_port}",
                                     "-ex", "set breakpoint always-inserted on",
                                     "-ex", "break compute", "-ex", "continue", "-ex", "shell sleep 60"],
                                    stdout=open(tools.path("s3.gdb.out"), "w"),
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            end = time.monotonic() + 30
            while "Breakpoint 1, compute" not in Device.read(tools.path("s3.gdb.out")):
                if time.monotonic() > end:
                    raise Failure("session 3: GDB did not stop at compute")
                time.sleep(POLL_S)
            at = len(dev.app_text())
            srv.kill()
            dev.wait_for("kernel", r"no request over the link for 15000 ms: the debugger is lost", 30)
            dev.wait_for("kernel", r"debugger gone: 1 breakpoints removed, app resumed", 5)
            dev.wait_for("app", r"^tick \d+ mode 1 ", 20, at)
            dev.wait_for("app", r"^tick \d+ mode 1 (.|\n)*^tick \d+ mode 1 ", 20, at)
            if dev.kernel_text().count("app crash:") != 1:
                raise Failure("session 3: the app crashed after the debugger was lost (a BKPT left behind?)")
        finally:
            gdb_proc.kill()
            gdb_proc.wait()
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
