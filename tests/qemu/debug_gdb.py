"""GDB against `bulwark debug`, shared by the local-link test (run_debug_test.py)
and the cloud test (run_debug_cloud_test.py): one copy of the GDB command
files and of the checks of what GDB prints (issue 11, docs/SPEC.md §20, §21).

What it gives:
  - DebugServer: `bulwark debug ...` started with the caller's arguments, its
    GDB port (and, for the local link, the link port it listens on);
  - gdb(): gdb-multiarch --batch with one -ex per command line, its output
    saved to the work dir as NAME.gdb.out;
  - tour() / crash(): the GDB sessions and their checks (the app is
    tests/qemu/apps/debug: main -> tick_once -> compute, g_mode, g_crash);
  - HeldAtBreakpoint: GDB in the background halted at compute, waiting for
    the test to say its next command may run (for the debugger-lost tests).
Every wait is on a line of output or a process's exit, bounded.
"""
import os
import re
import subprocess
import time

from update_harness import Device, Failure

POLL_S = 0.01


class DebugServer:
    """`bulwark debug` with args (a transport and its options; --port 0 is added);
    on_listen(port) is called with the link port when args hold --link-port."""

    def __init__(self, tools, args, name, env=None, on_listen=None):
        self.out_path = tools.path(name + "-debug.out")
        self.err_path = tools.path(name + "-debug.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([tools.bulwark, "debug", *args, "--port", "0"], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
        if on_listen is not None:
            on_listen(int(self.wait_out(r"^listening on 127\.0\.0\.1:(\d+)$").group(1)))
        self.gdb_port = int(self.wait_out(r"^GDB server on 127\.0\.0\.1:(\d+)").group(1))

    def wait_out(self, pattern, timeout=30):
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, Device.read(self.out_path), re.M)
            if m:
                return m
            if self.proc.poll() is not None or time.monotonic() > end:
                raise Failure(f"bulwark debug: no /{pattern}/: {Device.read(self.err_path)}")
            time.sleep(POLL_S)

    def stderr(self):
        return Device.read(self.err_path)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.out.close()
            self.err.close()

    def kill(self):
        self.proc.kill()
        return self.wait()


def gdb_argv(elf, port, commands):
    """gdb-multiarch --batch with one -ex per line of commands (so a refused command,
    an error, does not end the session), after loading elf and attaching to port."""
    lines = ["set pagination off", "set confirm off", "set width 0", f"file {elf}",
             f"target remote 127.0.0.1:{port}"] + [c for c in commands.splitlines() if c.strip()]
    argv = ["gdb-multiarch", "--nx", "--batch"]
    for line in lines:
        argv += ["-ex", line]
    return argv


def gdb(tools, elf, port, commands, name, timeout=120):
    """Runs GDB (gdb_argv) to its end; its output, also saved as NAME.gdb.out."""
    p = subprocess.run(gdb_argv(elf, port, commands), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    with open(tools.path(name + ".gdb.out"), "w") as f:
        f.write(out)
    return out


def expect(out, pattern, what):
    if not re.search(pattern, out, re.M):
        raise Failure(f"{what}: GDB output lacks /{pattern}/\n--- GDB output:\n{out}")


# The tour: break at a named function, bt, print a global and a local, next,
# stepi, info registers, set var, reads of kernel RAM and of the kernel's timer
# (refused), a request after them, detach.
TOUR = """
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
"""


def tour(tools, elf, port, name):
    """Runs TOUR through the GDB server on port and checks every answer; GDB's output."""
    out = gdb(tools, elf, port, TOUR, name)
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
    return out


CRASH = """
set var g_crash = 1
continue
info registers pc
detach
"""


def crash(tools, elf, port, name):
    """A fault while attached: GDB stops at the faulting store with SIGSEGV and the
    fault's reason; GDB's output."""
    out = gdb(tools, elf, port, CRASH, name)
    expect(out, r"Program received signal SIGSEGV", "fault stops GDB with SIGSEGV")
    expect(out, r"bulwark: app stopped by (HardFault|SecureFault|BusFault)", "fault reason")
    expect(out, r"^pc +0x[0-9a-f]+ +0x[0-9a-f]+ <crash_now\+\d+>", "stopped at the faulting store")
    return out


class HeldAtBreakpoint:
    """GDB in the background, halted at compute with the breakpoint kept in the app's
    memory, idle (it has shown the stop) until go(); then it asks for the registers
    (which fails once the server is gone)."""

    def __init__(self, tools, elf, port, name):
        self.out_path = tools.path(name + ".gdb.out")
        self.go_path = tools.path(name + ".go")
        self.ready_path = tools.path(name + ".ready")   # GDB is done with the stop, idle
        commands = f"""
set breakpoint always-inserted on
break compute
continue
shell touch {self.ready_path}; while [ ! -e {self.go_path} ]; do sleep 0.05; done
info registers pc
"""
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(gdb_argv(elf, port, commands), stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        end = time.monotonic() + 60
        while not os.path.exists(self.ready_path):
            if time.monotonic() > end or self.proc.poll() is not None:
                self.kill()
                raise Failure(f"GDB did not stop at compute and idle:\n{Device.read(self.out_path)}")
            time.sleep(POLL_S)
        if not re.search(r"Breakpoint 1, compute \(x=[^)]*\d+\)", Device.read(self.out_path)):
            self.kill()
            raise Failure(f"GDB did not stop at compute:\n{Device.read(self.out_path)}")

    def go(self, timeout=60):
        """Lets GDB run its last command and waits for it to end; its whole output."""
        open(self.go_path, "w").close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"GDB did not end after its server went away:\n{Device.read(self.out_path)}")
        finally:
            self.kill()
        return Device.read(self.out_path)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
