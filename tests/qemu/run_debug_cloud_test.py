#!/usr/bin/env python3
"""GDB debugs the app on a remote device through the cloud (issue 11,
docs/SPEC.md §20, §21): real gdb-multiarch in batch mode against `bulwark
debug --device D --key debug.key`, whose end-to-end protected session is
relayed by bulwarkd and mosquitto to a QEMU device behind the modem emulator.

The device is provisioned with the debug app (tests/qemu/apps/debug) as its
provisioned app, which has no bundle; the same app is then deployed over the
air as a bundle carrying the debug public key (`--debug-key`). Promises:
  - refused, each with its reason, the app running on: the provisioned app
    (no debug key); a wrong key; a replayed and a tampered record (the
    session goes on after them: the next PING is answered);
  - the GDB tour of qemu.debug.gdb through the cloud (debug_gdb.TOUR: break,
    bt, print a global and a local, next, stepi, info registers, set var
    seen on the app's console, kernel RAM and timer refused, detach); its
    output is printed here (the issue's recorded batch session);
  - a crash while attached stops GDB at the faulting store with its reason;
  - relay loss: bulwarkd killed while GDB holds the app at a breakpoint: the
    CLI reports the loss and ends, GDB sees its remote end go away, the
    kernel ends the session after its 30 s idle time and resumes the app
    (breakpoint removed); bulwarkd started again, a new session works.
Every wait is on a log line, a CLI's answer or a process's exit, bounded.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, add_common_args, run_scenario  # noqa: E402
from cloud_harness import DEVICE_ID, add_cloud_args, missing_cloud_tool  # noqa: E402
import debug_gdb  # noqa: E402
import run_ota_test  # noqa: E402

TICK = r"^tick \d+ mode {mode} "


def still_ticking(dev, at, mode=1):
    """The app printed two ticks with mode after the console mark at: it runs."""
    dev.wait_for("app", TICK.format(mode=mode) + r"(.|\n)*" + TICK.format(mode=mode), 30, at)


def ping(run, key, *extra, expect=0, ca=None):
    """`bulwark debug ping` of the device with key, checking the device against the
    fleet's CA (or the CA file ca); its stdout and stderr."""
    trust = ("--ca", ca) if ca else ("--fleet", run.stack.fleet)
    p = run.stack.cli("debug", "ping", "--device", DEVICE_ID, "--key", key, *trust, *extra, expect=expect)
    return p.stdout + p.stderr


def refused(run, key, reason, *extra, expect=1, ca=None):
    """A ping refused with reason; the app runs on."""
    dev = run.device.dev
    at = len(dev.app_text())
    out = ping(run, key, *extra, expect=expect, ca=ca)
    if reason not in out:
        raise Failure(f"debug ping: expected '{reason}':\n{out}")
    still_ticking(dev, at)
    print(f"refused: {out.strip().splitlines()[-1]}")
    return out


def deploy_debuggable(run, elf, pub, version=2):
    """Deploys elf over the air as a bundle carrying the debug public key pub and waits
    until it runs past its trial (a crash then is the app's, not a rollback)."""
    app, _ = run.upload(elf, version, f"debug-v{version}.bwb", ("--debug-key", pub))
    dep = run.deploy(app)
    run.wait_state(dep, run_ota_test.INSTALLED, 180)
    run.device.wait_for("kernel", rf"update: app version {version} is healthy: trial over", 120)


def cloud_server(run, key, name):
    """`bulwark debug` serving GDB through the cloud."""
    return debug_gdb.DebugServer(run.tools, ["--device", DEVICE_ID, "--key", key, "--fleet", run.stack.fleet], name, env=run.stack.env)


def show(name, out):
    print(f"--- GDB session '{name}' through the cloud (gdb-multiarch --batch):")
    print(out.rstrip())
    print("---")


def relay_loss(run, elf, key):
    """bulwarkd killed while GDB holds the app at a breakpoint."""
    dev = run.device.dev
    srv = cloud_server(run, key, "loss")
    held = debug_gdb.HeldAtBreakpoint(run.tools, elf, srv.gdb_port, "loss")
    try:
        at_app, at_kernel = len(dev.app_text()), run.kernel_mark()
        run.stack.cloud.bulwarkd.kill()
        run.stack.cloud.bulwarkd.wait()
        code = srv.wait(timeout=30)
        if code != 3 or "relay lost" not in srv.stderr():
            raise Failure(f"bulwark debug after bulwarkd died: exit {code}, {srv.stderr()}")
        out = held.go()
        debug_gdb.expect(out, r"Remote connection closed|Remote communication error", "GDB sees the relay gone")
        dev.wait_for("kernel", r"debug: session ended \(idle 30 s\)", 45, at_kernel)
        dev.wait_for("kernel", r"debug: debugger gone: 1 breakpoints removed, app resumed", 5, at_kernel)
        still_ticking(dev, at_app)
    finally:
        held.kill()
    print(f"relay loss: the CLI said '{srv.stderr().strip().splitlines()[-1]}'; GDB: "
          f"'{[l for l in out.splitlines() if 'Remote' in l][-1]}'; the kernel ended the session after 30 s "
          f"idle and resumed the app")
    run.stack.cloud.start_bulwarkd()
    run.stack.env["BULWARK_SERVER"] = run.stack.cloud.url
    out = ping(run, key, "--count", "2")
    if "ping 2:" not in out:
        raise Failure(f"no session after bulwarkd came back:\n{out}")


def scenario(tools):
    a = tools.args
    run = run_ota_test.Ota(tools, a.app)
    try:
        dev = run.device.dev
        dev.wait_for("app", TICK.format(mode=1), 30)
        key, pub = tools.keys("debug")
        wrong, _ = tools.keys("wrong")

        refused(run, key, "the app's bundle has no debug key")
        deploy_debuggable(run, a.app, pub)
        print("the debug app deployed as a bundle with the debug key (version 2, trial over)")

        refused(run, wrong, "wrong debug key")
        # The CLI checks the device (SPEC §21.2 step 5): against another fleet's CA the
        # real device, through the real relay, does not prove itself.
        other = os.path.join(os.path.dirname(run.stack.fleet), "other-fleet")
        run.stack.cli("fleet", "init", "--dir", other, "--force")
        refused(run, key, "the device's certificate does not chain to the fleet CA", ca=os.path.join(other, "ca.crt"))
        p = run.stack.cli("debug", "ping", "--device", DEVICE_ID, "--key", key, expect=2)
        if "needs the fleet CA" not in p.stderr:
            raise Failure(f"debug ping without a fleet CA: {p.stderr}")
        replay = ping(run, key, "--count", "3", "--test-fault", "replay")
        tamper = ping(run, key, "--count", "3", "--test-fault", "tamper")
        for out, reason in ((replay, "record replayed or out of order"),
                            (tamper, "record not authentic (tampered or wrong keys)")):
            if f"fault: device: {reason}" not in out or "ping 3:" not in out:
                raise Failure(f"debug ping --test-fault: expected '{reason}' and the session going on:\n{out}")
            print(f"refused: {reason}; the session went on (ping 3 answered)")
        still_ticking(dev, len(dev.app_text()))

        srv = cloud_server(run, key, "tour")
        out = debug_gdb.tour(tools, a.app, srv.gdb_port, "tour")
        show("tour", out)
        if srv.wait() != 0:
            raise Failure(f"bulwark debug exit code after detach: {srv.stderr()}")
        at = len(dev.app_text())
        dev.wait_for("app", TICK.format(mode=7), 20, at)
        dev.wait_for("kernel", r"debug: session closed by the CLI", 10)

        before_crash = len(dev.app_text())
        srv = cloud_server(run, key, "crash")
        show("crash", debug_gdb.crash(tools, a.app, srv.gdb_port, "crash"))
        srv.wait()
        dev.wait_for("kernel", r"app crash", 20)
        dev.wait_for("app", r"^tick 1 mode 1 ", 20, before_crash)

        relay_loss(run, a.app, key)
        if "KERNEL" in dev.kernel_text():
            raise Failure("the kernel reported a fault of its own")
    finally:
        run.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--app", required=True, metavar="qt-debug.elf")
    add_cloud_args(parser)
    args = parser.parse_args()
    if missing_cloud_tool(args, "qemu.debug.cloud"):
        return 77
    return run_scenario(args, "qemu.debug.cloud", scenario)


if __name__ == "__main__":
    sys.exit(main())
