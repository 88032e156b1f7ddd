#!/usr/bin/env python3
"""make bench: GDB debugging the app (issue 11), through the cloud and over the
local link, with the harnesses of tests/qemu/run_debug_cloud_test.py and
run_debug_test.py. No pass/fail.

Figures, printed as "bench: debug_NAME VALUE" lines, for each transport
(cloud: the modem emulator throttled to 16 000 B/s each way, mosquitto with
TLS, bulwarkd; link: the local link's socket):
  - read_ms: median round trip of GDB's `x/1wx &g_counter` (one 4-byte `m`
    packet -> one monitor READ_MEM), timed inside GDB (its Python) around the
    command, READS times with the app halted at a breakpoint;
  - read_bytes: median bytes on the link (up + down) per such read;
  - stepi_bytes: median bytes on the link (up + down) per GDB `stepi`
    (software single-step: breakpoints set, resume, stop, breakpoints
    removed, registers read), STEPS times;
  - stepi_ms: median time per `stepi`.
Bytes on the link are counted outside GDB and the CLI: the modem emulator's
counters (`stats`) for the cloud, the relay of the link's socket for the
local link; a meter served here answers GDB's script with them. Host
figures are medians of one run on a shared machine.
usage: bench_debug.py --build BUILD_DIR --top SOURCE_DIR --workdir DIR"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import types

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
from update_harness import Device, Failure, Link, Tools  # noqa: E402
import debug_gdb  # noqa: E402
import run_debug_cloud_test as cloud_test  # noqa: E402
import run_ota_test as ota  # noqa: E402

RATE = 16000   # bytes/s each way at the modem emulator
READS = 30
STEPS = 30

# GDB's side: halted at compute, then READS timed reads and STEPS timed stepis,
# each bracketed by the meter (bytes on the link so far: "up down").
SCRIPT = """
import gdb, json, socket, time
def meter():
    with socket.create_connection(("127.0.0.1", {meter_port})) as s:
        up, down = s.makefile().readline().split()
    return int(up) + int(down)
def timed(command, n):
    rows = []
    for _ in range(n):
        b = meter()
        t = time.monotonic()
        gdb.execute(command, to_string=True)
        ms = (time.monotonic() - t) * 1000.0
        rows.append([ms, meter() - b])
    return rows
gdb.execute("break compute")
gdb.execute("continue")
gdb.execute("delete")
result = {{"read": timed("x/1wx &g_counter", {reads}), "stepi": timed("stepi", {steps})}}
with open("{out}", "w") as f:
    json.dump(result, f)
gdb.execute("detach")
"""


class Meter:
    """A loopback server answering each connection with one line: 'UP DOWN' from count()."""

    def __init__(self, count):
        self.count = count
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                up, down = self.count()
                conn.sendall(f"{up} {down}\n".encode())

    def close(self):
        self.server.close()


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def measure(tools, elf, gdb_port, count, name):
    """Runs SCRIPT in GDB against gdb_port with bytes from count(); the medians."""
    meter = Meter(count)
    out = tools.path(name + ".json")
    script = tools.path(name + ".gdb.py")
    with open(script, "w") as f:
        f.write(SCRIPT.format(meter_port=meter.port, reads=READS, steps=STEPS, out=out))
    try:
        p = subprocess.run(["gdb-multiarch", "--nx", "--batch", "-ex", "set pagination off", "-ex", f"file {elf}",
                            "-ex", f"target remote 127.0.0.1:{gdb_port}", "-x", script],
                           capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    finally:
        meter.close()
    if not os.path.exists(out):
        raise Failure(f"GDB's bench script did not finish:\n{p.stdout}{p.stderr}")
    with open(out) as f:
        rows = json.load(f)
    return types.SimpleNamespace(read_ms=median([r[0] for r in rows["read"]]),
                                 read_bytes=median([r[1] for r in rows["read"]]),
                                 stepi_ms=median([r[0] for r in rows["stepi"]]),
                                 stepi_bytes=median([r[1] for r in rows["stepi"]]))


def figures(prefix, m):
    for name in ("read_ms", "read_bytes", "stepi_ms", "stepi_bytes"):
        value = getattr(m, name)
        print(f"bench: debug_{prefix}_{name} {value:.1f}" if name.endswith("_ms") else
              f"bench: debug_{prefix}_{name} {value:.0f}", flush=True)


def cloud(tools, elf):
    run = ota.Ota(tools, elf)
    try:
        key, pub = tools.keys("debug")
        cloud_test.deploy_debuggable(run, elf, pub)
        run.modem.control(f"throttle {RATE}")
        srv = cloud_test.cloud_server(run, key, "bench-cloud")

        def count():
            stats = run.modem.stats()
            return stats["up_bytes"], stats["down_bytes"]
        m = measure(tools, elf, srv.gdb_port, count, "cloud")
        srv.wait()
        return m
    finally:
        run.stop()


def link(tools, elf):
    image = tools.image("link.img", elf, [])
    lk = Link()
    # The host's clock, as when its figures were first taken (the harness's
    # default is now --icount-auto).
    dev = Device(tools, image, "link", link=lk, timeout=600, host_clock=True)
    try:
        dev.wait_for("app", r"^tick 3 mode 1 ", 60)
        srv = debug_gdb.DebugServer(tools, ["--link-port", "0", "--timeout", "20"], "bench-link",
                                    on_listen=lk.attach)
        m = measure(tools, elf, srv.gdb_port, lambda: (lk.up_bytes, lk.down_bytes), "link")
        srv.wait()
        return m
    finally:
        dev.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--top", required=True)
    parser.add_argument("--workdir", required=True)
    a = parser.parse_args()
    h = os.path.join(a.build, "host")
    q = os.path.join(a.build, "qemu-an505")
    args = types.SimpleNamespace(
        bulwark=os.path.join(h, "cli", "bulwark"), emu=os.path.join(a.top, "emu", "bulwark-emu"),
        boot=os.path.join(q, "boot", "bulwark-boot.elf"),
        kernel=os.path.join(q, "kernel", "bulwark-kernel.signed"),
        bulwarkd=os.path.join(h, "cloud", "bulwarkd", "bulwarkd"),
        plugin=os.path.join(h, "cloud", "broker", "bw_registry_plugin.so"),
        modem=os.path.join(h, "emu", "modem", "bulwark-modem"), workdir=a.workdir)
    elf = os.path.join(q, "tests", "qemu", "apps", "qt-debug.elf")
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    tools = Tools(args)
    tools.args = args
    try:
        figures("link", link(tools, elf))
        print(f"bench: debug_rate {RATE}")
        figures("cloud", cloud(tools, elf))
    except Failure as e:
        print(f"bench_debug: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
