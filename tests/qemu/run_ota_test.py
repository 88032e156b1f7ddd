#!/usr/bin/env python3
"""Over-the-air updates end to end (docs/SPEC.md §15) with real parts: a
QEMU device, the modem emulator, mosquitto, bulwarkd and the bulwark CLI.

Scenarios (--scenario):
  deploy    cloud-demo runs as provisioned; v2 is uploaded and deployed:
            `bulwark deployments show --watch` follows it through installing
            and installed (on trial) to healthy, the device runs v2 (wake
            reason 9) and reports app version 2; then v3, which crash-loops:
            the kernel rolls it back to v2, the deployment ends rolled back
            with its cause and its bytes, v3's log lines up to its crash and
            its decoded crash are in the cloud, and after a reconnect v3 is
            not offered again.
  tamper    a layer altered in bulwarkd's blob store: the device refuses
            the bundle (layer hash) and says so; the old app runs on.
  polite    the bundle's polite window: cloud-demo restarts for the update
            as soon as it hears UPDATEDOWNLOADED; cloud-demo-stubborn never
            does, and the kernel installs when the window runs out.
  cuts      a 256 KiB app over a 16 kB/s link with the connection dropped or
            corrupted at random bytes six times: it completes; a drop costs
            at most one chunk's bytes twice at the modem, a corrupted byte
            at most the window of 4 chunks (and a PUBACK per QoS-1 slot) in flight.
  kill      kill -9 of QEMU at random instants of a download and its
            install, then a reboot: the device runs the old or the new app,
            resumes and completes.
"""
import argparse
import copy
import json
import random
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, Tools, add_common_args, run_scenario  # noqa: E402
from cloud_harness import DEVICE_ID, CloudDevice, add_cloud_args, missing_cloud_tool  # noqa: E402
import run_cloud_test  # noqa: E402

INSTALLED = ("installed", "healthy")   # the new app runs (on trial, or through it)
STARTED = r"cloud-demo: started \(wake reason {reason},[^\n]*version {version}\)"


class Ota(run_cloud_test.Run):
    """A provisioned device online, and the OTA commands of the CLI."""

    def __init__(self, tools, app, timeout=300):
        super().__init__(tools, app, timeout)
        self.key = os.path.join(self.stack.fleet, "update.key")

    def upload(self, elf, version, name, options=()):
        bundle = self.tools.bundle(elf, version, self.key, name, options)
        return self.stack.cli_json("apps", "upload", bundle), bundle

    def deploy(self, app):
        return self.deploy_all(app, (DEVICE_ID,))[0]

    def deploy_all(self, app, devices):
        """`bulwark deploy` of app to the devices (one deployment each): their IDs, in order."""
        argv = ["deploy", "--app", str(app["id"])]
        for device in devices:
            argv += ["--device", device]
        out = self.stack.cli(*argv, "--json").stdout
        return [json.loads(line)["id"] for line in out.splitlines() if line.strip()]

    def show(self, dep_id):
        return self.stack.cli_json("deployments", "show", str(dep_id))

    def watch(self, dep_id, timeout=300):
        """`bulwark deployments show ID --watch --json` to a final state: (exit code, states seen)."""
        p = self.stack.cli("deployments", "show", str(dep_id), "--watch", "--json", timeout=timeout,
                           expect=None)
        states = [json.loads(line)["state"] for line in p.stdout.splitlines() if line.strip()]
        return p.returncode, states

    def wait_state(self, dep_id, state, timeout=120):
        """Polls the deployment (bulwarkd's state, seen only through REST) until it is in state
        (a name, or a tuple of names)."""
        states = (state,) if isinstance(state, str) else state
        end = time.monotonic() + timeout
        while True:
            shown = self.show(dep_id)
            if shown["state"] in states:
                return shown
            if time.monotonic() > end:
                raise Failure(f"deployment {dep_id} is {shown['state']}, not {state}: {shown}")
            time.sleep(0.2)

    def app_version(self):
        listed = self.stack.cli_json("devices", "show", DEVICE_ID)
        return listed.get("app_version")


def deploy(tools):
    a = tools.args
    run = Ota(tools, a.app)
    try:
        dev = run.device
        dev.wait_for("app", STARTED.format(reason=0, version=1), 30)
        app2, _ = run.upload(a.app_v2, 2, "v2.bwb")
        dep2 = run.deploy(app2)
        code, states = run.watch(dep2)
        if code != 0 or states[-1] != "healthy" or not {"downloading", "installing", "installed"} <= set(states):
            raise Failure(f"deployments show --watch: exit {code}, states {states}")
        dev.wait_for("app", STARTED.format(reason=9, version=2), 60)
        end = time.monotonic() + 30
        while run.app_version() != 2:
            if time.monotonic() > end:
                raise Failure(f"bulwarkd does not show app version 2: {run.app_version()}")
            time.sleep(0.2)
        print(f"v2 deployed: {' -> '.join(dict.fromkeys(states))}; the device runs v2")

        # v3 crash-loops: rolled back to v2, reported, decoded, not offered again.
        at = len(dev.dev.app_text())
        app3, _ = run.upload(a.app_v3, 3, "v3.bwb")
        dep3 = run.deploy(app3)
        dev.wait_for("app", STARTED.format(reason=9, version=3), 300, start=at)
        shown = run.wait_state(dep3, "rolled_back", 180)
        if shown["rollback_cause"] != 1 or shown["bytes"] != shown["size"]:
            raise Failure(f"rolled back, but not with cause 1 (crash loop) and every byte held: {shown}")
        dev.wait_for("app", STARTED.format(reason=8, version=2), 60, start=at)
        print(f"v3 rolled back to v2: {shown['reason'] or 'crash loop'}")
        # Its last words: each run's lines up to the crash, kept by the kernel across the restarts.
        end = time.monotonic() + 60
        while True:
            logs = run.stack.cli("logs", "--device", DEVICE_ID).stdout
            last_words = len(re.findall(r"cloud-demo: storing a reading through a bad pointer", logs))
            if last_words >= 3 and re.search(r"started \(wake reason 9,[^\n]*version 3\)", logs):
                break
            if time.monotonic() > end:
                raise Failure(f"v3's lines before its crashes are not in the cloud ({last_words} seen):\n"
                              f"{logs[-2000:]}")
            time.sleep(0.5)
        print(f"v3's last words reached the cloud: {last_words} runs logged their crash")
        decoded = run.stack.cli("crashes", "--device", DEVICE_ID, "--elf", a.app_v3).stdout
        if not re.search(r"#0 .*store_reading", decoded):
            raise Failure(f"v3's crash does not decode to store_reading:\n{decoded[-2000:]}")
        at_kernel, at_app = run.kernel_mark(), len(dev.dev.app_text())
        run.modem.control("drop now")
        dev.wait_for("kernel", r"cloud: online as", 60, start=at_kernel)
        run.wait_app_ticks(10)
        if re.search(r"wake reason 9", dev.dev.app_text()[at_app:]) or run.show(dep3)["state"] != "rolled_back":
            raise Failure("v3 was offered and installed again after its rollback")
        print("after a reconnect v3 is not offered again; the device stays on v2")
    finally:
        run.stop()


def tamper(tools):
    a = tools.args
    run = Ota(tools, a.app)
    try:
        dev = run.device
        app2, bundle = run.upload(a.app_v2, 2, "v2.bwb")
        blobs = os.path.join(run.stack.cloud.work, "bulwarkd.db.blobs")
        layer = max((os.path.join(blobs, n) for n in os.listdir(blobs)), key=os.path.getsize)
        with open(layer, "r+b") as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 0x01]))
        dep = run.deploy(app2)
        code, states = run.watch(dep)
        shown = run.show(dep)
        if code != 1 or shown["state"] != "refused" or "hash" not in shown["reason"]:
            raise Failure(f"a tampered layer: exit {code}, {shown}")
        run.wait_app_ticks(5)
        if "wake reason 9" in dev.dev.app_text():
            raise Failure("the tampered bundle was installed")
        print(f"tampered layer refused: {shown['reason']}")
    finally:
        run.stop()


def polite(tools):
    a = tools.args
    # An app that restarts for the update at once.
    run = Ota(tools, a.app)
    try:
        dev = run.device
        app2, _ = run.upload(a.app_v2, 2, "v2.bwb", ("--polite-seconds", "600"))
        dep = run.deploy(app2)
        dev.wait_for("app", r"cloud-demo: an update is downloaded; restarting to apply it", 300)
        dev.wait_for("app", STARTED.format(reason=9, version=2), 60)
        run.wait_state(dep, INSTALLED, 60)
        print("polite window 600 s: the app restarted for the update at once")
    finally:
        run.stop()
    # An app that never does: the window runs out (a second device, in a subdirectory).
    sub = copy.copy(a)
    sub.workdir = tools.path("stubborn")
    os.makedirs(sub.workdir)
    tools = Tools(sub)
    tools.args = sub
    run = Ota(tools, a.app_stubborn)
    try:
        dev = run.device
        app2, _ = run.upload(a.app_v2, 2, "v2.bwb", ("--polite-seconds", "3"))
        dep = run.deploy(app2)
        heard = dev.wait_for("app", r"cloud-demo: an update is downloaded; not restarting for it", 300)
        dev.wait_for("app", r"cloud-demo: tick \d+", 10, start=heard.end())   # still running the old app
        dev.wait_for("app", STARTED.format(reason=9, version=2), 60, start=heard.end())
        run.wait_state(dep, INSTALLED, 60)
        print("polite window 3 s: the stubborn app never restarted; installed when the window ran out")
    finally:
        run.stop()


SIZE = 256 * 1024
PER_CHUNK = 1792 + 98   # a CHUNK's bytes on the link: 16 CHUNK + 53 MQTT (48-byte topic) + 29 TLS (§15)
CHUNK_OVERHEAD = PER_CHUNK - 1792
WINDOW = 4   # BW_OTA_WINDOW: FETCHes in flight
DEPLOY_RECORD = 107 + 29   # DEPLOY: 52 bytes + 49-byte topic + 6 of MQTT QoS 1 header, one TLS record
PUBACK_RECORD = 4 + 29
QOS1_SLOTS = 4   # bw_cloud's messages that may each await a PUBACK: status, crash, log, update
UPDATE_APP = r"update-app: B version {version} started, wake reason 9$"
OTA_SO_FAR = (r"cloud: OTA so far: (\d+) chunks \((\d+) bytes\) written, (\d+) dropped, "
              r"\d+ refetch rounds; (\d+) PUBACKs")
CONN_ENDED = re.compile(r"connection (\d+) ended: up \d+, down (\d+) bytes")


def bytes_down_while(run, action):
    """The modem's downlink bytes while action() runs."""
    before = run.modem.stats()["down_bytes"]
    action()
    return run.modem.stats()["down_bytes"] - before


def connection_down_bytes(run):
    """{connection number: downlink bytes} for every connection the modem has ended."""
    with open(run.tools.path("modem.log")) as f:
        return {int(m.group(1)): int(m.group(2)) for m in map(CONN_ENDED.search, f) if m}


def link_down(run, kind):
    """Cuts the link with the modem control command kind; the kernel's OTA counters
    at the link down, the number of the connection that was cut, and the kernel log's
    mark where the new connection came online."""
    dev = run.device
    at = run.kernel_mark()
    conn = run.modem.stats()["connections"]
    run.modem.control(kind)
    dev.wait_for("kernel", r"cloud: link down", 60, start=at)
    counters = tuple(int(x) for x in dev.wait_for("kernel", OTA_SO_FAR, 10, start=at).groups())
    online = dev.wait_for("kernel", r"cloud: online as", 120, start=at)
    return counters, conn, online.end()


def cut_download(run, rng, version, name, cut_count):
    """Uploads a 256 KiB update app B of version and deploys it; while it downloads, cuts
    the link cut_count times, at evenly spaced shares of the bundle plus a random number
    of bytes (every third cut corrupts a byte, the others drop the connection). The
    downlink bytes from deploy to installed (or a final state), and the cuts: (kind, connection
    number, kernel OTA counters at the link down)."""
    tools = run.tools
    elf = tools.app_elf(tools.args.app_b, version, name + ".elf", size=SIZE, seed=version)
    app, _ = run.upload(elf, version, name + ".bwb")
    cut = []
    def go():
        dep = run.deploy(app)
        while True:
            shown = run.show(dep)
            if shown["state"] in INSTALLED or shown["final"]:
                break
            if len(cut) < cut_count and shown["state"] == "downloading" and \
                    shown["bytes"] > (len(cut) + 1) * SIZE // (cut_count + 2):
                kind = "corrupt" if len(cut) % 3 == 2 else "drop"
                counters, conn, _ = link_down(run, f"{kind} down +{rng.randrange(1, 4 * PER_CHUNK)}")
                cut.append((kind, conn, counters))
            time.sleep(0.2)
        if shown["state"] not in INSTALLED:
            raise Failure(f"v{version}: {shown}")
    return bytes_down_while(run, go), cut


def idle_connection(run):
    """Two cuts of an idle link: the second connection, whole, is what any connection
    costs to set up (TLS resumption, CONNACK, SUBACK, PUBACK of STATUS, TIME). The
    kernel's OTA counters at its end, its number and the PUBACKs it carried."""
    first, _, online = link_down(run, "drop now")
    run.device.wait_for("kernel", r"cloud: wall time set by the cloud", 30, start=online)
    base, idle_conn, _ = link_down(run, "drop now")
    return base, idle_conn, base[3] - first[3]


def cut_waste(run, done, idle):
    """Bytes that crossed the link for nothing on each cut connection of done
    (cut_download's cuts, after idle_connection's answer idle), counted at the modem:
    its downlink minus its setup (the idle connection's), its DEPLOY, its PUBACKs and
    the CHUNKs the kernel wrote. Prints a line per cut; {kind: [bytes, ...]} and the
    setup's bytes."""
    before, idle_conn, idle_acks = idle
    down = connection_down_bytes(run)
    setup = down[idle_conn]
    wasted = {"drop": [], "corrupt": []}
    for kind, conn, counters in done:
        chunks, data, dropped, acks = (x - y for x, y in zip(counters, before))
        used = setup + DEPLOY_RECORD + (acks - idle_acks) * PUBACK_RECORD + chunks * CHUNK_OVERHEAD + data
        waste = down[conn] - used
        print(f"  {kind:7} connection {conn}: {down[conn]} bytes down, {chunks} chunks ({data} bytes) "
              f"written, {dropped} dropped, {acks} PUBACKs: {waste} bytes crossed for nothing")
        wasted[kind].append(waste)
        before = counters
    return wasted, setup


def cuts(tools):
    """256 KiB over a throttled link, cut again and again: it completes, and each drop
    costs at most one chunk's bytes twice, counted at the modem for each cut connection
    (cut_waste). The apps are the update test apps, which send nothing to the cloud."""
    a = tools.args
    rng = random.Random(a.seed)
    provisioned = tools.app_elf(a.app_a, 1, "a.elf")
    run = Ota(tools, provisioned)
    try:
        dev = run.device
        run.modem.control("throttle 16000")
        clean, _ = cut_download(run, rng, 2, "b2", 0)
        dev.wait_for("app", UPDATE_APP.format(version=2), 60)
        dev.wait_for("kernel", r"update: app version 2 is healthy: trial over", 60)
        idle = idle_connection(run)
        cut_total, done = cut_download(run, rng, 3, "b3", 6)
        dev.wait_for("app", UPDATE_APP.format(version=3), 60)
        if len(done) != 6:
            raise Failure(f"only {len(done)} cuts landed in the download")
        print(f"256 KiB: {clean} bytes down uncut, {cut_total} with {len(done)} cuts")
        wasted, setup = cut_waste(run, done, idle)
        print(f"a connection's setup costs {setup} bytes down ({idle[2]} PUBACK)")
        worst = {kind: max(values, default=0) for kind, values in wasted.items()}
        for kind, values in wasted.items():
            print(f"re-fetched per {kind}: mean {sum(values) / len(values):.0f}, worst {max(values)} bytes "
                  f"(one chunk is {PER_CHUNK})")
        if worst["drop"] > PER_CHUNK:
            raise Failure(f"a drop cost {worst['drop']} bytes twice: more than one chunk")
        # A corrupted record ends the connection from the device's side: what was in flight behind
        # it is lost too, at most the window of 4 FETCHes (more of it when the device reads slowly)
        # and a PUBACK for each QoS-1 slot of bw_cloud (status, crash, log, update).
        bound = WINDOW * PER_CHUNK + QOS1_SLOTS * PUBACK_RECORD
        if worst["corrupt"] > bound:
            raise Failure(f"a corrupted byte cost {worst['corrupt']} bytes twice: more than the window "
                          f"of {WINDOW} chunks and {QOS1_SLOTS} PUBACKs in flight ({bound})")
    finally:
        run.stop()


KERNEL_FAILURE = re.compile(r"KERNEL|no verified app|did not verify|install failed|rolled back")


def kill(tools):
    """kill -9 of QEMU (a power cut) at random instants of 256 KiB downloads and their installs:
    a.kills cuts over as many deployments as they take (versions 2, 3, ...). The instant is drawn
    in turn over the download (0.5-8 s into a boot) and over the install (after the kernel's
    "installing" line, within the install's measured time). After each cut the device boots the
    old or the new app, with no kernel failure, comes back online, and the deployment resumes
    and ends installed."""
    a = tools.args
    rng = random.Random(a.seed)
    run = Ota(tools, tools.app_elf(a.app_a, 1, "a.elf"))
    image = os.path.join(tools.work, "flash.bin")
    phases = {"download": 0, "install": 0, "after install": 0}
    old, version, cut, deployments = ("A", 1), 2, 0, 0
    install_s = 0.3
    try:
        while True:
            elf = tools.app_elf(a.app_b, version, f"b{version}.elf", size=SIZE, seed=version)
            app, _ = run.upload(elf, version, f"b{version}.bwb")
            dep = run.deploy(app)
            deployments += 1
            new = ("B", version)
            running = old
            trial_over = rf"update: app version {version} is healthy: trial over"
            trial_ended = False   # in a boot that was cut since
            while cut < a.kills and running != new:
                at = run.kernel_mark()
                if cut % 2 == 0:
                    time.sleep(rng.uniform(0.5, 8.0))
                else:
                    run.device.wait_for("kernel", rf"update: verified, installing version {version} ", 120,
                                        start=at)
                    time.sleep(rng.uniform(0, install_s))
                run.device.kill()
                kernel = run.device.dev.kernel_text()
                phase = ("after install" if f"update: app version {version} installed" in kernel
                         else "install" if f"installing version {version} " in kernel else "download")
                phases[phase] += 1
                trial_ended = trial_ended or re.search(trial_over, kernel) is not None
                took = re.findall(r"update: install took (\d+) us", kernel)
                if took:
                    install_s = int(took[-1]) / 1e6
                cut += 1
                run.device = CloudDevice(tools, image, f"boot{cut}", run.modem)
                m = run.device.wait_for("app", r"update-app: ([AB]) version (\d+) started", 60)
                running = (m.group(1), int(m.group(2)))
                if running not in (old, new):
                    raise Failure(f"cut {cut} in the {phase} of v{version}: booted {running}, "
                                  f"neither the old {old} nor the new {new}")
                failure = KERNEL_FAILURE.search(run.device.dev.kernel_text())
                if failure:
                    raise Failure(f"cut {cut} in the {phase} of v{version}: kernel says {failure.group(0)!r}")
                run.device.wait_for("kernel", r"cloud: online as", 120)
                print(f"cut {cut} in the {phase} of v{version}: rebooted into {running[0]} v{running[1]}")
            shown = run.wait_state(dep, INSTALLED, 300)
            run.device.wait_for("app", rf"update-app: B version {version} started", 60)
            if not trial_ended:
                run.device.wait_for("kernel", trial_over, 60)
            print(f"v{version} installed after the cuts: {shown['bytes']}/{shown['size']}")
            if cut >= a.kills:
                break
            old, version = new, version + 1
        print(f"ota kill: {cut} power cuts over {deployments} deployments of 256 KiB "
              f"({phases['download']} in a download, {phases['install']} in an install, "
              f"{phases['after install']} after one); every boot ran the old or the new app; "
              f"every deployment ended installed")
    finally:
        run.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--scenario", choices=("deploy", "tamper", "polite", "cuts", "kill"), required=True)
    parser.add_argument("--seed", type=int, default=int(time.time()), help="for the random cut points")
    parser.add_argument("--kills", type=int, default=4, help="power cuts in the kill scenario")
    parser.add_argument("--app", required=True, metavar="cloud-demo.elf")
    parser.add_argument("--app-v2", required=True, metavar="cloud-demo-v2.elf")
    parser.add_argument("--app-v3", required=True, metavar="cloud-demo-v3-crash.elf")
    parser.add_argument("--app-stubborn", required=True, metavar="cloud-demo-stubborn.elf")
    add_cloud_args(parser)
    args = parser.parse_args()
    if missing_cloud_tool(args, "qemu.ota"):
        return 77
    scenario = {"deploy": deploy, "tamper": tamper, "polite": polite, "cuts": cuts, "kill": kill}[args.scenario]
    print(f"seed {args.seed}")
    return run_scenario(args, f"qemu.ota.{args.scenario}", scenario)


if __name__ == "__main__":
    sys.exit(main())
