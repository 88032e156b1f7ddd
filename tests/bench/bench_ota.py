#!/usr/bin/env python3
"""make bench: over-the-air updates through the real cloud (mosquitto with TLS,
bulwarkd, the modem emulator throttled to a cellular-like 16 000 B/s each way,
QEMU devices), with the harness of tests/qemu/run_ota_test.py. No pass/fail.

Figures, printed as "bench: NAME VALUE" lines, for a 256 KiB update app:
  1. goodput of a clean download as a share of the raw link: bundle bytes over
     the bytes the modem carried down from deploy to the kernel's "verified,
     installing" (by bytes), and over rate x that time (by time);
  2. bytes re-fetched per cut: the link dropped or corrupted at random bytes
     (seeded) during a second download, the waste of each cut connection
     accounted at the modem as qemu.ota.cuts does (run_ota_test.cut_waste);
  3. deploy -> installed: from `bulwark deploy` to bulwarkd's deployment
     state installed (`bulwark deployments show`, polled), and to the new
     app's first line;
  4. the same clean download at a slower rate (SLOW_RATE) and with the modem
     unthrottled: what the emulated link itself carries (QEMU moves host ->
     guest UART bytes one per main-loop turn), the ceiling a goodput by time
     is measured against;
  5. host CPU over a download (utime + stime from /proc/PID/stat, clock
     ticks): bulwarkd per device with one device and with three downloading
     at once (each on its own throttled modem), mosquitto per chunk served;
     and bulwarkd's CPU with the device online and idle, for scale.
Host figures are per-unit costs measured in one run on a shared machine.
usage: bench_ota.py --build BUILD_DIR --top SOURCE_DIR --workdir DIR [--seed N] [--cuts N]"""
import argparse
import os
import random
import shutil
import sys
import time
import types

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
from update_harness import Failure, Tools  # noqa: E402
from cloud_harness import DEVICE_ID, Modem, online_device  # noqa: E402
import run_ota_test as ota  # noqa: E402

RATE = 16000          # bytes/s each way at the modem emulator
SLOW_RATE = 8000      # a second, slower cellular-like rate
IDLE_S = 10           # the idle window for bulwarkd's baseline
INSTALLING = r"update: verified, installing version {version} \(over the air\)"
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """utime + stime of process pid (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S   # fields 14 and 15 of proc(5)


class Meter:
    """Host CPU of bulwarkd and mosquitto, bulwarkd's CHUNKs sent and each modem's
    downlink bytes, read together; later minus earlier is a window's cost."""

    def __init__(self, run, modems):
        cloud = run.stack.cloud
        self.when = time.monotonic()
        self.bulwarkd = cpu_s(cloud.bulwarkd.pid)
        self.mosquitto = cpu_s(cloud.broker.proc.pid)
        self.chunks = cloud.api("GET", "/v1/health")[1]["ota"]["chunks_sent"]
        self.down = [m.stats()["down_bytes"] for m in modems]

    def since(self, start):
        return types.SimpleNamespace(
            seconds=self.when - start.when, bulwarkd=self.bulwarkd - start.bulwarkd,
            mosquitto=self.mosquitto - start.mosquitto, chunks=self.chunks - start.chunks,
            down=[b - a for a, b in zip(start.down, self.down)])


def figure(name, value):
    print(f"bench: {name} {value}", flush=True)


class Bench:
    def __init__(self, args):
        h = os.path.join(args.build, "host")
        q = os.path.join(args.build, "qemu-an505")
        work = os.path.abspath(args.workdir)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        apps = os.path.join(q, "tests", "qemu", "apps")
        self.args = types.SimpleNamespace(
            bulwark=os.path.join(h, "cli", "bulwark"), emu=os.path.join(TOP, "emu", "bulwark-emu"),
            boot=os.path.join(q, "boot", "bulwark-boot.elf"),
            kernel=os.path.join(q, "kernel", "bulwark-kernel.signed"), workdir=work,
            app_a=os.path.join(apps, "qt-update-a.bin"), app_b=os.path.join(apps, "qt-update-b.bin"),
            bulwarkd=os.path.join(h, "cloud", "bulwarkd", "bulwarkd"),
            plugin=os.path.join(h, "cloud", "broker", "bw_registry_plugin.so"),
            modem=os.path.join(h, "emu", "modem", "bulwark-modem"))
        self.tools = Tools(self.args)
        self.tools.args = self.args
        self.rng = random.Random(args.seed)
        self.cuts = args.cuts
        self.run = None
        self.modems, self.devices = [], []   # of the second and third device

    def app(self, version):
        """The 256 KiB update app B of version, uploaded: (app, bundle path)."""
        elf = self.tools.app_elf(self.args.app_b, version, f"b{version}.elf", size=ota.SIZE, seed=version)
        return self.run.upload(elf, version, f"b{version}.bwb")

    def idle_cpu(self):
        start = Meter(self.run, [])
        time.sleep(IDLE_S)
        idle = Meter(self.run, []).since(start)
        figure("ota_bulwarkd_idle_cpu_ms_per_s", f"{idle.bulwarkd * 1000 / idle.seconds:.2f}")
        figure("ota_mosquitto_idle_cpu_ms_per_s", f"{idle.mosquitto * 1000 / idle.seconds:.2f}")
        figure("ota_cpu_tick_ms", f"{TICK_S * 1000:g}")

    def clean_download(self):
        """Figures 1, 3 and 4 (one device) for version 2."""
        run, dev = self.run, self.run.device
        app, bundle = self.app(2)
        size = os.path.getsize(bundle)
        at_kernel, at_app = run.kernel_mark(), len(dev.dev.app_text())
        start = Meter(run, [run.modem])
        dep = run.deploy(app)
        dev.wait_for("kernel", INSTALLING.format(version=2), 300, start=at_kernel)
        got = Meter(run, [run.modem]).since(start)
        run.wait_state(dep, ota.INSTALLED, 120)
        installed = time.monotonic() - start.when
        dev.wait_for("app", ota.UPDATE_APP.format(version=2), 60, start=at_app)
        started = time.monotonic() - start.when
        figure("ota_bundle_bytes", size)
        figure("ota_link_rate", RATE)
        figure("ota_download_s", f"{got.seconds:.2f}")
        figure("ota_download_down_bytes", got.down[0])
        figure("ota_goodput_by_bytes_pct", f"{100 * size / got.down[0]:.1f}")
        figure("ota_goodput_by_time_pct", f"{100 * size / (RATE * got.seconds):.1f}")
        figure("ota_deploy_to_installed_s", f"{installed:.2f}")
        figure("ota_deploy_to_app_started_s", f"{started:.2f}")
        self.cpu("1dev", got, 1)
        dev.wait_for("kernel", r"update: app version 2 is healthy: trial over", 120, start=at_kernel)

    def cpu(self, label, got, devices):
        figure(f"ota_{label}_window_s", f"{got.seconds:.2f}")
        figure(f"ota_{label}_chunks", got.chunks)
        figure(f"ota_{label}_bulwarkd_cpu_ms", f"{got.bulwarkd * 1000:.0f}")
        figure(f"ota_{label}_bulwarkd_cpu_ms_per_device", f"{got.bulwarkd * 1000 / devices:.1f}")
        figure(f"ota_{label}_bulwarkd_cpu_pct_per_device", f"{100 * got.bulwarkd / got.seconds / devices:.2f}")
        figure(f"ota_{label}_bulwarkd_us_per_chunk", f"{got.bulwarkd * 1e6 / max(got.chunks, 1):.0f}")
        figure(f"ota_{label}_mosquitto_cpu_ms", f"{got.mosquitto * 1000:.0f}")
        figure(f"ota_{label}_mosquitto_us_per_chunk", f"{got.mosquitto * 1e6 / max(got.chunks, 1):.0f}")

    def cut_download(self):
        """Figure 2: version 3 with self.cuts cuts."""
        run, dev = self.run, self.run.device
        idle = ota.idle_connection(run)
        total, done = ota.cut_download(run, self.rng, 3, "b3", self.cuts)
        dev.wait_for("app", ota.UPDATE_APP.format(version=3), 60)
        wasted, setup = ota.cut_waste(run, done, idle)
        figure("ota_cut_total_down_bytes", total)
        figure("ota_cut_setup_down_bytes", setup)
        for kind, values in wasted.items():
            figure(f"ota_cut_{kind}_count", len(values))
            if values:
                figure(f"ota_cut_{kind}_mean_bytes", f"{sum(values) / len(values):.0f}")
                figure(f"ota_cut_{kind}_worst_bytes", max(values))
        figure("ota_chunk_link_bytes", ota.PER_CHUNK)
        dev.wait_for("kernel", r"update: app version 3 is healthy: trial over", 120)

    def three_devices(self):
        """Figure 4 with three devices downloading version 4 at once."""
        run, t = self.run, self.tools
        ids = [DEVICE_ID]
        for n in (2, 3):
            hex_id = f"{n:02x}" * 16
            ids.append("BW" + hex_id.upper())
            self.modems.append(Modem(self.args.modem, t.path(f"modem{n}.log")))
            image = t.image(f"flash{n}.bin", t.app_elf(self.args.app_a, 1, "a.elf"), [], device_hex=hex_id)
            self.devices.append(online_device(t, run.stack, self.modems[-1], image, f"device{n}", ids[-1], 600))
            self.modems[-1].control(f"throttle {RATE}")
        devices = [run.device] + self.devices
        modems = [run.modem] + self.modems
        app, bundle = self.app(4)
        marks = [len(d.dev.kernel_text()) for d in devices]
        start = Meter(run, modems)
        run.deploy_all(app, ids)
        for d, mark in zip(devices, marks):
            d.wait_for("kernel", INSTALLING.format(version=4), 300, start=mark)
        got = Meter(run, modems).since(start)
        size = os.path.getsize(bundle)
        figure("ota_3dev_goodput_by_bytes_pct",
               " ".join(f"{100 * size / b:.1f}" for b in got.down))
        self.cpu("3dev", got, 3)

    def rate_download(self, version, rate, name):
        """Figure 4: a clean download of version at rate (0: unthrottled)."""
        run, dev = self.run, self.run.device
        app, bundle = self.app(version)
        size = os.path.getsize(bundle)
        run.modem.control(f"throttle {rate}")
        at_kernel = run.kernel_mark()
        start = Meter(run, [run.modem])
        run.deploy(app)
        dev.wait_for("kernel", INSTALLING.format(version=version), 600, start=at_kernel)
        got = Meter(run, [run.modem]).since(start)
        figure(f"ota_{name}_link_rate", rate)
        figure(f"ota_{name}_download_s", f"{got.seconds:.2f}")
        figure(f"ota_{name}_goodput_by_bytes_pct", f"{100 * size / got.down[0]:.1f}")
        if rate:
            figure(f"ota_{name}_goodput_by_time_pct", f"{100 * size / (rate * got.seconds):.1f}")
        else:
            figure(f"ota_{name}_down_bytes_per_s", f"{got.down[0] / got.seconds:.0f}")
        dev.wait_for("kernel", rf"update: app version {version} is healthy: trial over", 120, start=at_kernel)
        run.modem.control(f"throttle {RATE}")

    def stop(self):
        for part in [d.kill for d in self.devices] + [m.stop for m in self.modems]:
            part()
        if self.run:
            self.run.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--top", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=9, help="for the cut points")
    ap.add_argument("--cuts", type=int, default=6, help="cuts in the second download (every third corrupts)")
    b = Bench(ap.parse_args())
    try:
        b.run = ota.Ota(b.tools, b.tools.app_elf(b.args.app_a, 1, "a.elf"), timeout=900)
        b.run.modem.control(f"throttle {RATE}")
        b.idle_cpu()
        b.clean_download()
        b.cut_download()
        b.three_devices()
        for part in [d.kill for d in b.devices] + [m.stop for m in b.modems]:
            part()   # the other devices' QEMUs would share the host with the next downloads
        b.devices, b.modems = [], []
        b.rate_download(5, SLOW_RATE, "slow")
        b.rate_download(6, 0, "unthrottled")
    except Failure as e:
        print(f"bench_ota: {e}", file=sys.stderr)
        return 1
    finally:
        b.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
