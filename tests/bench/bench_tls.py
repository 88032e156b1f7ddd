#!/usr/bin/env python3
"""make bench: the kernel's TLS handshake, full and resumed, in exact guest
instructions (identical on every run; docs/DESIGN.md "Exact bench figures").

What runs: cloud-demo on bulwark-kernel-benchtls (tests/bench/bench_tls_hooks.c:
fixed entropy, and the handshake on a staging stream that hands TLS whole
server flights), through the modem emulator, to bench_tls_peer (tests/bench/
peer: an mbedTLS 1.2 server with the broker's profile, fixed keys, a fixed
RNG, no clock). The fleet's CA and broker certificates are the peer's fixed
ones; the device certificate is issued by `bulwark device provision` under
SOURCE_DATE_EPOCH (the same bytes every run). The peer closes each
connection after the handshake; the device reconnects with its ticket: the
second handshake is the resumed one.

What is counted (tests/bench/trace_calls.py, a QEMU block log of the kernel):
the instructions of bw_tls_start and of each bw_tls_poll until the
handshake is over (the kernel logs how many polls that took), interrupt
handlers and the staging stream's two callbacks (the bytes' way to and from
the modem) left out. Prints "bench: NAME VALUE" lines.
usage: bench_tls.py --build BUILD_DIR --workdir DIR"""
import os
import re
import subprocess
import sys
import types

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, Tools  # noqa: E402
from cloud_harness import CloudDevice, Modem  # noqa: E402
from trace_calls import CallCounter, functions  # noqa: E402
from bench_common import build_and_workdir, read_log_fifo  # noqa: E402

ISSUE_EPOCH = "1735689600"   # 2025-01-01T00:00:00Z, as bench_tls_peer's fleet
KINDS = ("full", "resumed")


class Peer:
    """bench_tls_peer serving `connections` connections; its stdout lines in self.lines."""

    def __init__(self, binary, fleet, connections):
        self.proc = subprocess.Popen([binary, "serve", fleet, str(connections)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, text=True)
        m = re.match(r"listening (\d+)$", self.proc.stdout.readline().strip())
        if not m:
            raise Failure("bench_tls_peer did not listen")
        self.port = int(m.group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        return self.proc.stdout.read()


def handshakes(order, polls):
    """Per handshake: bw_tls_start's count plus its next polls[i] bw_tls_poll counts."""
    totals, left = [], 0
    for name, n in order:
        if name == "bw_tls_start":
            totals.append(n)
            left = polls[len(totals) - 1] if len(totals) <= len(polls) else 0
        elif totals and left > 0:
            totals[-1] += n
            left -= 1
    return totals


def main():
    h, q, work = build_and_workdir(__doc__)
    kernel = os.path.join(q, "tests", "bench", "bulwark-kernel-benchtls.signed")
    kernel_elf = os.path.join(q, "tests", "bench", "bulwark-kernel-benchtls.elf")
    tools = Tools(types.SimpleNamespace(
        bulwark=os.path.join(h, "cli", "bulwark"), emu=os.path.join(TOP, "emu", "bulwark-emu"),
        boot=os.path.join(q, "boot", "bulwark-boot.elf"), kernel=kernel, workdir=work))
    fleet = tools.path("fleet")
    subprocess.run([tools.bulwark, "fleet", "init", "--dir", fleet], check=True, capture_output=True)
    peer_bin = os.path.join(h, "tests", "bench", "peer", "bench_tls_peer")
    subprocess.run([peer_bin, "fleet", fleet], check=True)
    peer = Peer(peer_bin, fleet, len(KINDS))
    modem = Modem(os.path.join(h, "emu", "modem", "bulwark-modem"), tools.path("modem.log"))

    counter = CallCounter(kernel_elf, ["bw_tls_start", "bw_tls_poll"],
                          excluded=["bench_stream_send", "bench_stream_recv"])
    table = functions(kernel_elf)
    fifo = tools.path("trace.fifo")
    reader = read_log_fifo(counter, fifo)
    app = os.path.join(q, "apps", "cloud-demo", "cloud-demo.elf")
    device = None
    try:
        # -icount: guest time follows instructions, so the slow log reader never starves the watchdog.
        device = CloudDevice(tools, tools.image("flash.bin", app, []), "device", modem, timeout=900, icount=True,
                             extra=("-d", "in_asm,exec,nochain", "-dfilter",
                                    f"0x{table[0][0]:x}..0x{table[-1][1] - 1:x}", "-D", fifo))
        device.wait_for("kernel", r"credentials: not provisioned \(key ready\)", 300)
        device.provision(types.SimpleNamespace(bulwark=tools.bulwark, fleet=fleet, broker_port=peer.port,
                                               env=dict(os.environ, SOURCE_DATE_EPOCH=ISSUE_EPOCH)),
                         register=False, timeout=300)
        polls, slices, at = [], [], 0
        for kind in KINDS:
            up = device.wait_for("kernel", rf"cloud: TLS up \({kind} handshake\)", 600, at)
            m = device.wait_for("kernel", r"TLS handshake cost: \d+ us in TLS calls, (\d+) polls, (\d+) ECC slices",
                                60, up.end())
            polls.append(int(m.group(1)))
            slices.append(int(m.group(2)))
            at = m.end()
        device.wait_for("kernel", r"cloud: link down", 120, at)
    finally:
        if device is not None:
            device.kill()
        reader.join(timeout=600)
        modem.stop()
        served = peer.stop()
    if reader.is_alive():
        raise SystemExit("bench_tls: the block log was not read to its end")
    totals = handshakes(counter.order, polls)
    for i, kind in enumerate(KINDS):
        print(f"bench: tls_{kind}_insns {totals[i] if i < len(totals) else '?'}")
        print(f"bench: tls_{kind}_polls {polls[i]}")
        print(f"bench: tls_{kind}_ecc_slices {slices[i]}")
    print(f"bench: tls_stream_insns_left_out {counter.excluded_insns}")
    print(f"bench: tls_handler_insns_left_out {counter.handler_insns}")
    print("peer: " + " | ".join(served.split("\n")).strip(" |"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
