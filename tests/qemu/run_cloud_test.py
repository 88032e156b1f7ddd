#!/usr/bin/env python3
"""The cloud link end to end with real parts: a QEMU device (kernel +
cloud-demo-crash), the modem emulator, mosquitto (TLS, ACL, registry
plugin), bulwarkd and the bulwark CLI.

Scenarios (--scenario):
  story   `bulwark device provision` provisions and registers the device; it
          comes online (`bulwark devices list`); its app's log lines arrive
          in `bulwark logs --follow`; wall time is set; the app's crash
          reaches `bulwark crashes --elf` and decodes to store_reading; a
          link cut and its return give the app NETWORKSTATUSCHANGED both
          ways and the lines logged meanwhile arrive; provisioned again
          while online, it reconnects with the new credentials; a removed
          device is refused by the broker and the app keeps running.
  faults  the modem emulator drops the connection (now, and at byte N up and
          down), corrupts a byte each way, stalls, throttles: after each the
          kernel reconnects (resumed TLS sessions), the app never stops
          logging, and every line it logged arrives once, in order.
  impostor  a broker with another fleet's CA takes the broker's address: the
          device refuses it at TLS and never goes online there; its app keeps
          logging; the real broker returns and every line arrives.
Each scenario ends by checking that bulwarkd holds exactly the app's
console lines (same text, same order, no gap, no "lost" entry) for each
boot of the app.
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, add_common_args, run_scenario  # noqa: E402
from cloud_harness import DEVICE_ID, Follow, Modem, Stack, bulwark_broker, online_device  # noqa: E402

TICK = r"cloud-demo: tick (\d+)"


def ticks(text):
    return [int(n) for n in re.findall(TICK + r"$", text, re.M)]


class Run:
    """A provisioned device online, with its stack and modem."""

    def __init__(self, tools, app, timeout=300):
        args = tools.args
        self.tools = tools
        self.stack = Stack(tools.bulwark, args.bulwarkd, args.plugin, tools.path("stack"))
        self.modem = Modem(args.modem, tools.path("modem.log"))
        self.device = online_device(tools, self.stack, self.modem, tools.image("flash.bin", app, []),
                                    "device", timeout=timeout)

    def app_ticks(self):
        return ticks(self.device.dev.app_text())

    def wait_app_ticks(self, more, timeout=60):
        """Waits until the app has logged `more` ticks past what it has now: it is not stalled."""
        target = len(self.app_ticks()) + more
        end = time.monotonic() + timeout
        while len(self.app_ticks()) < target:
            if time.monotonic() > end or not self.device.dev.alive():
                raise Failure(f"the app logged no {more} more ticks in {timeout} s (it stalled)")
            time.sleep(0.05)

    def kernel_mark(self):
        return len(self.device.dev.kernel_text())

    def stored_lines(self):
        """bulwarkd's log entries for the device, oldest first (all pages)."""
        entries, after = [], 0
        while True:
            code, page, _ = self.stack.cloud.api("GET", f"/v1/devices/{DEVICE_ID}/logs?after={after}&limit=1000")
            if code != 200:
                raise Failure(f"GET logs: HTTP {code} {page}")
            entries += page["entries"]
            if not page["entries"]:
                return entries
            after = page["next_cursor"]

    def restart_losses(self):
        """Lines the kernel announced lost with an app restart (queued, not yet sent:
        docs/DESIGN.md "Cloud link: what the app sees")."""
        return sum(int(n) for n in re.findall(r"app log: (\d+) queued lines? lost with the app's previous run",
                                               self.device.dev.kernel_text()))

    def compare(self, entries, console):
        """None if bulwarkd's entries are the console's lines, once and in order, with
        `lost` entries only where the kernel announced restart losses; else what differs."""
        at, lost = 0, 0
        for n, e in enumerate(entries):
            if e["kind"] == "lost":
                lost += e["count"]
                at += e["count"]
            elif at >= len(console) or e["text"] != console[at]:
                return (f"entry {n} ({e.get('text')!r}) is not the console's line {at} "
                        f"({console[at] if at < len(console) else 'none'!r})")
            else:
                at += 1
        if lost > self.restart_losses():
            return f"{lost} lines lost, the kernel announced {self.restart_losses()}"
        if at < len(console) - 10:
            return f"bulwarkd has {at} of the app's {len(console)} lines"
        return None

    def check_all_arrived(self, timeout=60):
        """bulwarkd holds exactly the app's console lines, once and in order, but for
        announced restart losses."""
        end = time.monotonic() + timeout
        while True:
            console = self.device.app_lines()
            entries = self.stored_lines()
            why = self.compare(entries, console)
            if why is None:
                break
            if time.monotonic() > end:
                raise Failure(f"bulwarkd's log is not the app's: {why}")
            time.sleep(0.2)
        by_boot = {}
        for e in entries:
            lost = e["kind"] == "lost"
            by_boot.setdefault(e["boot_id"], []).append((e["first_seq"] if lost else e["seq"],
                                                         e["count"] if lost else 1))
        for boot, runs in by_boot.items():
            expect = runs[0][0]
            for seq, count in runs:
                if seq != expect:
                    raise Failure(f"boot {boot:#x}: sequence {seq} where {expect} was next")
                expect += count
        return sum(1 for e in entries if e["kind"] == "line")

    def stop(self):
        self.device.kill()
        self.modem.stop()
        self.stack.stop()


def story(tools):
    run = Run(tools, tools.args.app)
    try:
        dev = run.device
        # bulwarkd marks it online when its STATUS arrives (polled: no event to wait on).
        end = time.monotonic() + 30
        while True:
            listed = run.stack.cli_json("devices", "list")
            me = [d for d in listed["devices"] if d["id"] == DEVICE_ID]
            if me and me[0]["online"] and me[0].get("kernel_version"):
                break
            if time.monotonic() > end:
                raise Failure(f"devices list does not show {DEVICE_ID} online with a kernel version: {listed}")
            time.sleep(0.1)
        table = run.stack.cli("devices", "list").stdout
        if not re.search(rf"{DEVICE_ID}\s+online", table):
            raise Failure(f"`bulwark devices list` does not show it online:\n{table}")
        print(f"online: kernel {me[0]['kernel_version']}, wake reason {me[0]['wake_reason']}")

        follow = Follow(run.stack, DEVICE_ID)
        line = follow.expect(r"cloud-demo: tick \d+", 60)
        print(f"follow: {line}")

        m = dev.wait_for("app", r"cloud-demo: wall time set: (\d+) s since 1970", 60)
        if abs(int(m.group(1)) - time.time()) > 120:
            raise Failure(f"wall time {m.group(1)} is not the host's {int(time.time())}")
        dev.wait_for("app", r"cloud-demo: network connected \(event", 30)

        # The crash (tick 5 of the first run): recorded, uploaded, decoded.
        dev.wait_for("kernel", r"crash record: [0-9a-f]+", 60)
        dev.wait_for("app", r"cloud-demo: started \(wake reason 8,", 60)
        deadline = time.monotonic() + 60
        while True:
            crashes = run.stack.cli_json("crashes", "--device", DEVICE_ID)
            if crashes["crashes"]:
                break
            if time.monotonic() > deadline:
                raise Failure("no crash reached bulwarkd")
            time.sleep(0.2)
        decoded = run.stack.cli("crashes", "--device", DEVICE_ID, "--elf", tools.args.app).stdout
        if not re.search(r"#0 .*store_reading", decoded) or not re.search(r"#\d+ .*\bmain\+", decoded):
            raise Failure(f"the crash did not decode to store_reading <- main:\n{decoded}")
        print("crash decoded: " + " | ".join(l for l in decoded.splitlines() if "store_reading" in l)[:200])

        # A link cut: the app hears of it, keeps logging, hears of the return.
        at = len(dev.dev.app_text())
        run.modem.control("network lost")
        dev.wait_for("app", r"cloud-demo: network (connecting|disconnected) \(event", 60, start=at)
        run.wait_app_ticks(10)
        at = len(dev.dev.app_text())
        run.modem.control("network back")
        dev.wait_for("app", r"cloud-demo: network connected \(event", 120, start=at)
        n = run.check_all_arrived()
        follow.expect(r"cloud-demo: network connected", 30)
        follow.stop()
        print(f"link cut and back: {n} lines stored, none lost or repeated")

        # Provisioned again while online (a new certificate for the same key): the
        # next connection uses the new credentials.
        out = dev.provision(run.stack)
        if f"{DEVICE_ID} was registered already" not in out:
            raise Failure(f"re-provisioning did not keep the registry entry:\n{out}")
        at = run.kernel_mark()
        run.modem.control("drop now")
        dev.wait_for("kernel", r"cloud: online as", 60, start=at)
        print("provisioned again while online: back online with the new credentials")

        # Removed from the registry: the broker refuses it; the app runs on.
        at = run.kernel_mark()
        run.stack.cli("devices", "remove", DEVICE_ID)
        dev.wait_for("kernel", r"cloud: link down", 60, start=at)
        run.wait_app_ticks(10)
        if re.search(r"cloud: online as", dev.dev.kernel_text()[at:]):
            raise Failure("a removed device came online again")
    finally:
        run.stop()


def faults(tools):
    run = Run(tools, tools.args.app)
    try:
        dev = run.device
        dev.wait_for("app", r"cloud-demo: started \(wake reason 8,", 60)   # past the crash
        modem = run.modem

        # (what, commands to arm it, modem counter it must raise, link downs it must cause);
        # at most three link downs per run: the reconnect backoff doubles with each
        # (docs/SPEC.md 13.3) and the app's log buffer holds 128 lines (~25 s of this
        # app), so the run checks "nothing lost" where the docs promise it.
        steps = {
            "drop": [
                ("drop now", ["drop now"], "drops", 1),
                ("drop in the next handshake (up byte 300)", ["drop now", "drop up 300"], "drops", 2),
            ],
            "corrupt": [
                ("corrupt a byte up the live session", ["corrupt up +40"], "corruptions", 1),
                ("corrupt a byte down the live session", ["corrupt down +10"],
                 "corruptions", 1),
                ("drop 100 bytes down the live session", ["drop down +100"], "drops", 1),
            ],
            "handshake": [
                ("corrupt the next handshake (down byte 150)", ["drop now", "corrupt down 150"],
                 "corruptions", 2),
            ],
            "slow": [],
        }[tools.args.faults]
        for what, arm, counter, downs in steps:
            at = run.kernel_mark()
            before = modem.stats()
            for command in arm:
                modem.control(command)
            for _ in range(downs):
                m = dev.wait_for("kernel", r"cloud: link down \(([^)]*)\)", 60, start=at)
                at = m.end()
            up = dev.wait_for("kernel", r"cloud: TLS up \((\w+) handshake\)", 120, start=at)
            dev.wait_for("kernel", r"cloud: online as", 60, start=at)
            if what.startswith("drop") and up.group(1) != "resumed":
                raise Failure(f"{what}: the reconnect did not resume the TLS session (a dropped link, even "
                              "mid-handshake, says nothing against it)")
            run.wait_app_ticks(3)
            n = run.check_all_arrived()
            after = modem.stats()
            if after[counter] <= before[counter]:
                raise Failure(f"{what}: the modem's {counter} count did not grow: {before} -> {after}")
            print(f"{what}: {downs} link down(s), reconnected ({up.group(1)} handshake); {n} lines stored, "
                  "none lost or repeated")

        # A stall and a throttle: the session may survive them; the app must not stop logging.
        if tools.args.faults == "slow":
            modem.control("stall 600000")
            run.wait_app_ticks(10)
            modem.control("stall 0")
            n = run.check_all_arrived()
            print(f"stall while the app logged 10 ticks: {n} lines stored, none lost or repeated")
            modem.control("throttle 1000")
            run.wait_app_ticks(15)
            n = run.check_all_arrived()
            modem.control("throttle 0")
            print(f"throttle 1000 B/s: {n} lines stored, none lost or repeated")

    finally:
        run.stop()


def impostor(tools):
    """A broker with another fleet's certificate on the device's broker address: the device
    refuses it (TLS, the fleet CA), keeps its app running and logging, and comes back online
    when the real broker returns, with every line."""
    run = Run(tools, tools.args.app)
    try:
        dev = run.device
        dev.wait_for("app", r"cloud-demo: started \(wake reason 8,", 60)   # past the crash
        other = tools.path("other-fleet")
        tools.run(tools.bulwark, "fleet", "init", "--dir", other)
        real = run.stack.cloud.broker
        fake = bulwark_broker.Broker(other, tools.path("impostor"), port=real.port)
        at = run.kernel_mark()
        real.stop()
        fake.start()
        try:
            m = dev.wait_for("kernel", r"cloud: link down \(([^)]*fleet CA[^)]*)\)", 60, start=at)
            m = dev.wait_for("kernel", r"cloud: link down \(([^)]*fleet CA[^)]*)\)", 60, start=m.end())
            print(f"the impostor is refused twice: {m.group(1)}")
            run.wait_app_ticks(5)
            if "cloud: online" in dev.dev.kernel_text()[at:]:
                raise Failure("the device went online with an impostor broker")
        finally:
            fake.stop()
        at = run.kernel_mark()
        real.start()
        dev.wait_for("kernel", r"cloud: online as", 120, start=at)
        n = run.check_all_arrived(timeout=90)   # bulwarkd's own reconnect backs off up to 30 s
        print(f"back on the real broker: {n} lines stored, none lost or repeated")
    finally:
        run.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--scenario", choices=("story", "faults", "impostor"), required=True)
    parser.add_argument("--faults", choices=("drop", "corrupt", "handshake", "slow"), default="drop",
                        help="which faults the faults scenario injects")
    parser.add_argument("--app", required=True, metavar="cloud-demo-crash.elf")
    parser.add_argument("--bulwarkd", required=True)
    parser.add_argument("--plugin", required=True, metavar="bw_registry_plugin.so")
    parser.add_argument("--modem", required=True, metavar="bulwark-modem")
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    for tool in (args.bulwarkd, args.plugin, args.modem):
        if not os.path.exists(tool):
            print(f"SKIP qemu.cloud: no host tool {tool} (build the host target first: make host)")
            return 77
    name = args.name or (f"qemu.cloud.faults.{args.faults}" if args.scenario == "faults"
                         else f"qemu.cloud.{args.scenario}")
    return run_scenario(args, name, {"story": story, "faults": faults, "impostor": impostor}[args.scenario])


if __name__ == "__main__":
    sys.exit(main())
