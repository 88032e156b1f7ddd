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
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

DEVICE_HEX = "00112233445566778899aabbccddeeff"
DEVICE_ID = "BW" + DEVICE_HEX.upper()
WINDOW_LINES = 50   # log lines in the steady-state window (about 10 s at 5 lines/s)


class Bench:
    def __init__(self, args):
        self.a = args
        self.w = os.path.abspath(args.workdir)
        self.h = os.path.join(args.build, "host")
        self.q = os.path.join(args.build, "qemu-an505")
        self.procs = []
        self.broker = None

    def path(self, name):
        return os.path.join(self.w, name)

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def read_line(self, proc, pattern, timeout=30):
        """The first group of the first stdout line of proc matching pattern."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(pattern, line)
            if m:
                return m.group(1)
        raise RuntimeError(f"{proc.args[0]}: no line matching {pattern!r}")

    def kernel_log(self):
        try:
            return open(self.path("kernel.log"), errors="replace").read()
        except FileNotFoundError:
            return ""

    def wait_kernel(self, pattern, start=0, timeout=120):
        """Waits for the kernel log to show pattern after offset start (the log
        is a file QEMU appends to; it is read again until the line is there)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.kernel_log()
            m = re.compile(pattern).search(text, start)
            if m:
                return m
            if self.emu.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"kernel log: no {pattern!r} (log below)\n{self.kernel_log()[-3000:]}")

    def control(self, command):
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as s:
            s.sendall(command.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.decode().strip()

    def log_lines_stored(self):
        req = urllib.request.Request(self.url + "/v1/health")
        req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["counters"]["log_lines"]

    def start_cloud(self):
        bulwark = os.path.join(self.h, "cli", "bulwark")
        fleet = self.path("fleet")
        subprocess.run([bulwark, "fleet", "init", "--dir", fleet], check=True, stdout=subprocess.DEVNULL)
        self.token = open(os.path.join(fleet, "admin.token")).read().strip()
        sys.path.insert(0, os.path.join(self.a.top, "cloud", "broker"))
        import bulwark_broker
        self.broker = bulwark_broker.Broker(fleet, self.path("broker"),
                                            plugin=os.path.join(self.h, "cloud", "broker", "bw_registry_plugin.so"),
                                            registry=os.path.join(fleet, "registry.list"),
                                            port=bulwark_broker.free_port())
        port = self.broker.start()
        d = self.spawn([os.path.join(self.h, "cloud", "bulwarkd", "bulwarkd"), "--fleet", fleet,
                        "--api-listen", "127.0.0.1:0", "--db", os.path.join(fleet, "db.sqlite"),
                        "--broker-port", str(port)], stdout=subprocess.PIPE,
                       stderr=open(self.path("bulwarkd.log"), "w"), text=True)
        self.url = self.read_line(d, r"API on (\S+)")
        m = self.spawn([os.path.join(self.h, "emu", "modem", "bulwark-modem"), "--listen", "0",
                        "--control-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.modem_port = int(self.read_line(m, r"^listening (\d+)"))
        self.control_port = int(self.read_line(m, r"^control (\d+)"))
        return bulwark, fleet, port

    def start_device(self, bulwark, fleet, broker_port):
        emu = os.path.join(self.a.top, "emu", "bulwark-emu")
        image = self.path("flash.bin")
        subprocess.run([emu, "image", "create", "--out", image, "--kernel",
                        os.path.join(self.q, "kernel", "bulwark-kernel.elf"), "--app",
                        os.path.join(self.q, "apps", "cloud-demo", "cloud-demo.elf"), "--device-id", DEVICE_HEX],
                       check=True, stdout=subprocess.DEVNULL)
        cert = self.path("dev.crt")
        prov = self.spawn([bulwark, "device", "provision", "--fleet", fleet, "--listen", "127.0.0.1:0",
                           "--broker", f"localhost:{broker_port}", "--out", cert, "--timeout", "60",
                           "--server", self.url, "--token", self.token],   # it registers the device too
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        link_port = self.read_line(prov, r"listening on 127\.0\.0\.1:(\d+)")
        self.emu = self.spawn([emu, "run", "--image", image, "--boot",
                               os.path.join(self.q, "boot", "bulwark-boot.elf"), "--icount", "--timeout", "600",
                               "--modem-port", str(self.modem_port), "--link-port", link_port,
                               "--kernel-log", self.path("kernel.log"), "--app-log", self.path("app.log")],
                              stdout=subprocess.DEVNULL, stderr=open(self.path("emu.log"), "w"))
        if prov.wait(timeout=90) != 0:
            raise RuntimeError(f"provisioning failed: {prov.stdout.read()}")

    def handshake(self, kind, start):
        up = self.wait_kernel(rf"cloud: TLS up \({kind} handshake\)", start)
        cost = self.wait_kernel(r"cloud: TLS handshake cost: (\d+) us in TLS calls, (\d+) polls, (\d+) ECC slices",
                                up.end())
        us, polls, slices = (int(g) for g in cost.groups())
        print(f"bench: tls_{kind}_insns {us * 1000}")
        print(f"bench: tls_{kind}_polls {polls}")
        print(f"bench: tls_{kind}_ecc_slices {slices}")
        return self.wait_kernel(r"cloud: online as", cost.end())

    def ram(self, start, label):
        m = self.wait_kernel(r"cloud: RAM high-water: crypto arena (\d+) of (\d+) B, kernel stack (\d+) B", start)
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
                    stats = json.loads(self.control("stats"))
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
        texts = re.findall(r"cloud-demo: tick \d+", open(self.path("app.log"), errors="replace").read())
        if texts:
            print(f"bench: log_line_text_bytes {sum(map(len, texts[-WINDOW_LINES:])) / len(texts[-WINDOW_LINES:]):.1f}")

    def run(self):
        shutil.rmtree(self.w, ignore_errors=True)
        os.makedirs(self.w)
        bulwark, fleet, port = self.start_cloud()
        self.start_device(bulwark, fleet, port)
        online = self.handshake("full", 0)
        self.ram(online.end(), "online")
        self.steady_state()
        at = len(self.kernel_log())
        answer = self.control("drop now")
        down = self.wait_kernel(r"cloud: link down", at)
        self.ram(down.end(), "session")
        online = self.handshake("resumed", down.end())
        self.ram(online.end(), "resumed")

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        if self.broker is not None:
            self.broker.stop()


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
