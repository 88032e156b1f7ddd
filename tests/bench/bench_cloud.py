#!/usr/bin/env python3
"""make bench: the cloud link of one QEMU device, end to end (modem emulator,
TLS, MQTT, mosquitto, bulwarkd), under -icount shift=0.

Figures, printed as "bench: NAME VALUE" lines:
  - the TLS handshake's cost, full (first connection) and resumed (after the
    modem emulator's `drop now`): the kernel logs the microseconds spent inside
    its TLS calls (start and every poll until OPEN, waits excluded); under
    -icount shift=0 a microsecond of guest time is 1000 instructions;
  - bytes on the link per app log line in steady state: the modem
    emulator's `stats` (up and down) over the lines bulwarkd stored in the same
    window (cloud-demo logs one line every 200 ms);
  - the kernel's RAM high-water marks (crypto arena, kernel stack), logged
    by the kernel when it is online and when the link goes down.
usage: bench_cloud.py --build BUILD_DIR --top SOURCE_DIR --workdir DIR"""
import argparse
import os
import re
import shutil
import sys
import time
import types

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
from update_harness import Tools  # noqa: E402
from cloud_harness import CloudDevice, Modem, Stack  # noqa: E402

WINDOW_LINES = 50   # log lines in the steady-state window (about 10 s at 5 lines/s)


class Bench:
    """One device online with the test harness's stack (tests/qemu/cloud_harness.py)."""

    def __init__(self, args):
        self.h = os.path.join(args.build, "host")
        q = os.path.join(args.build, "qemu-an505")
        work = os.path.abspath(args.workdir)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        self.tools = Tools(types.SimpleNamespace(
            bulwark=os.path.join(self.h, "cli", "bulwark"), emu=os.path.join(TOP, "emu", "bulwark-emu"),
            boot=os.path.join(q, "boot", "bulwark-boot.elf"),
            kernel=os.path.join(q, "kernel", "bulwark-kernel.signed"), workdir=work))
        self.app = os.path.join(q, "apps", "cloud-demo", "cloud-demo.elf")
        self.stack = self.modem = self.device = None

    def kernel_at(self, pattern, start=0):
        return self.device.wait_for("kernel", pattern, 120, start)

    def log_lines_stored(self):
        return self.stack.cloud.api("GET", "/v1/health")[1]["counters"]["log_lines"]

    def handshake(self, kind, start):
        up = self.kernel_at(rf"cloud: TLS up \({kind} handshake\)", start)
        cost = self.kernel_at(r"cloud: TLS handshake cost: (\d+) us in TLS calls, (\d+) polls, (\d+) ECC slices",
                              up.end())
        us, polls, slices = (int(g) for g in cost.groups())
        print(f"bench: tls_{kind}_insns {us * 1000}")
        print(f"bench: tls_{kind}_polls {polls}")
        print(f"bench: tls_{kind}_ecc_slices {slices}")
        return self.kernel_at(r"cloud: online as", cost.end())

    def ram(self, start, label):
        m = self.kernel_at(r"cloud: RAM high-water: crypto arena (\d+) of (\d+) B, kernel stack (\d+) B", start)
        print(f"bench: {label}_arena_peak {m.group(1)}")
        print(f"bench: arena_size {m.group(2)}")
        print(f"bench: {label}_stack_peak {m.group(3)}")
        return m

    def steady_state(self):
        """Up bytes per log line: both counters read right after bulwarkd
        stored a batch, WINDOW_LINES lines apart."""
        def edge(after):
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                n = self.log_lines_stored()
                if n > after:
                    stats = self.modem.stats()
                    return n, (stats["up_bytes"], stats["down_bytes"])
                time.sleep(0.01)
            raise RuntimeError("bulwarkd stored no further log line")
        first, _ = edge(0)
        lines0, up0 = edge(first)        # a clean edge, past the backlog of the boot
        lines1, up1 = lines0, up0
        while lines1 - lines0 < WINDOW_LINES:
            lines1, up1 = edge(lines1)
        print(f"bench: log_window_lines {lines1 - lines0}")
        print(f"bench: log_up_bytes_per_line {(up1[0] - up0[0]) / (lines1 - lines0):.1f}")
        print(f"bench: log_down_bytes_per_line {(up1[1] - up0[1]) / (lines1 - lines0):.1f}")
        texts = re.findall(r"cloud-demo: tick \d+", self.device.dev.app_text())
        if texts:
            print(f"bench: log_line_text_bytes {sum(map(len, texts[-WINDOW_LINES:])) / len(texts[-WINDOW_LINES:]):.1f}")

    def run(self):
        t = self.tools
        self.stack = Stack(t.bulwark, os.path.join(self.h, "cloud", "bulwarkd", "bulwarkd"),
                           os.path.join(self.h, "cloud", "broker", "bw_registry_plugin.so"), t.path("stack"))
        self.modem = Modem(os.path.join(self.h, "emu", "modem", "bulwark-modem"), t.path("modem.log"))
        self.device = CloudDevice(t, t.image("flash.bin", self.app, []), "device", self.modem, timeout=600,
                                  icount=True)
        self.device.provision(self.stack)
        online = self.handshake("full", 0)
        self.ram(online.end(), "online")
        self.steady_state()
        at = len(self.device.dev.kernel_text())
        self.modem.control("drop now")
        down = self.kernel_at(r"cloud: link down", at)
        self.ram(down.end(), "session")
        online = self.handshake("resumed", down.end())
        self.ram(online.end(), "resumed")

    def stop(self):
        for part in (self.device and self.device.kill, self.modem and self.modem.stop,
                     self.stack and self.stack.stop):
            if part:
                part()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--top", required=True)
    ap.add_argument("--workdir", required=True)
    b = Bench(ap.parse_args())
    try:
        b.run()
    finally:
        b.stop()


if __name__ == "__main__":
    main()
