#!/usr/bin/env python3
"""Key sets pushed from the cloud (docs/SPEC.md §12.4, §13.5; docs/API.md "Key
sets") with real parts: a QEMU device running cloud-demo, the modem emulator,
mosquitto with TLS, bulwarkd and the bulwark CLI.

Promises checked:
 - bulwarkd refuses, with a 400 and its reason, a key set that is not one
   (truncated) and one signed by another fleet's CA; nothing is stored;
 - `bulwark keys push` of key set 1 = {K2} reaches the online device, which
   takes it through the same kernel path as the local link's KEYS, answers,
   and bulwarkd (and `bulwark devices list`) shows key set 1 held;
 - from then on a deployment of a bundle signed with the fleet's old key K1
   is refused by the device (unknown key), one signed with K2 ends healthy;
 - a device offline when key set 2 = {K2, K3} is pushed gets it when it
   next connects (its STATUS says it holds 1), without another push;
 - the same set pushed again is "already pushed" (200) and an older one for
   the same device is refused (409).
Waits on kernel console lines and bulwarkd's state, never on fixed sleeps.
"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, add_common_args, run_scenario  # noqa: E402
from cloud_harness import DEVICE_ID, CloudDevice, add_cloud_args, missing_cloud_tool  # noqa: E402
from run_ota_test import Ota, STARTED  # noqa: E402


def log(text):
    print(text, flush=True)


def wait_device(run, what, predicate, timeout):
    """Polls `bulwark devices show --json` until predicate(device) holds."""
    end = time.monotonic() + timeout
    while True:
        shown = run.stack.cli_json("devices", "show", DEVICE_ID)
        if predicate(shown):
            return shown
        if time.monotonic() > end:
            raise Failure(f"bulwarkd never showed {what}: {shown}")
        time.sleep(0.2)


def push(run, keyset, *extra, expect=0):
    p = run.stack.cli("keys", "push", keyset, *extra, expect=expect)
    return p.stdout + p.stderr


def refused_pushes(run, tools):
    truncated = tools.path("truncated.bwks")
    with open(tools.path("set1.bwks"), "rb") as f, open(truncated, "wb") as out:
        out.write(f.read()[:-1])
    text = push(run, truncated, expect=1)
    if "HTTP 400" not in text or "key set refused" not in text:
        raise Failure(f"a truncated key set: {text}")
    rogue = tools.path("rogue")
    tools.run(tools.bulwark, "fleet", "init", "--dir", rogue)
    other = tools.path("rogue.bwks")
    tools.run(tools.bulwark, "keys", "rotate", "--fleet", rogue, "--sequence", "1", "-o", other,
              os.path.join(rogue, "update.pub"))
    text = push(run, other, expect=1)
    if "HTTP 400" not in text or "the signature does not verify under the fleet CA" not in text:
        raise Failure(f"a key set of another fleet's CA: {text}")
    code, listed, _ = run.stack.cloud.api("GET", "/v1/keysets")
    if code != 200 or listed["key_sets"]:
        raise Failure(f"refused key sets were stored: {code} {listed}")
    log(f"ok   bulwarkd refused a truncated key set and one of another fleet's CA (400): {text.strip()}")


def scenario(tools):
    a = tools.args
    run = Ota(tools, a.app)
    try:
        fleet = run.stack.fleet
        k1 = os.path.join(fleet, "update.key")
        k2, k2_pub = tools.keys("k2")
        _, k3_pub = tools.keys("k3")
        set1, set2 = tools.path("set1.bwks"), tools.path("set2.bwks")
        tools.run(tools.bulwark, "keys", "rotate", "--fleet", fleet, "--sequence", "1", "-o", set1, k2_pub)
        tools.run(tools.bulwark, "keys", "rotate", "--fleet", fleet, "--sequence", "2", "-o", set2, k2_pub,
                  k3_pub)
        # bulwarkd takes uploads signed with K2 too (the fleet's update-keys/).
        os.makedirs(os.path.join(fleet, "update-keys"), exist_ok=True)
        shutil.copy(k2_pub, os.path.join(fleet, "update-keys", "k2.pub"))
        dev = run.device
        dev.wait_for("app", STARTED.format(reason=0, version=1), 30)
        wait_device(run, "key set 0 held", lambda d: d.get("key_set") == 0, 30)

        refused_pushes(run, tools)

        at = run.kernel_mark()
        text = push(run, set1)
        dev.wait_for("kernel", r"credentials: update keys rotated to key set 1 \(1 key\(s\)\)", 60, start=at)
        wait_device(run, "key set 1 held", lambda d: d.get("key_set") == 1, 60)
        table = run.stack.cli("devices", "list").stdout
        row = next((l for l in table.splitlines() if l.startswith(DEVICE_ID)), "")
        if "KEY SET" not in table or row.split()[4:5] != ["1"]:
            raise Failure(f"`bulwark devices list` does not show key set 1:\n{table}")
        log(f"ok   pushed: {text.strip()}; the device took it, bulwarkd shows key set 1 held")

        app_k1, _ = run.upload(a.app_v2, 2, "v2-k1.bwb")
        dep = run.deploy(app_k1)
        shown = run.wait_state(dep, ("refused", "healthy", "installed"), 180)
        if shown["state"] != "refused" or "unknown key" not in shown["reason"]:
            raise Failure(f"a bundle signed with K1 after key set 1: {shown}")
        log(f"ok   a bundle signed with the retired key K1 is refused by the device: {shown['reason']}")
        bundle = tools.bundle(a.app_v2, 2, k2, "v2-k2.bwb")
        app_k2 = run.stack.cli_json("apps", "upload", bundle)
        at_app = len(dev.dev.app_text())
        dep = run.deploy(app_k2)
        shown = run.wait_state(dep, "healthy", 240)
        dev.wait_for("app", STARTED.format(reason=9, version=2), 30, start=at_app)
        log("ok   the same app signed with K2 installs and ends healthy")

        # Offline: the device is off when key set 2 is pushed, and gets it at its next connect.
        dev.kill()
        wait_device(run, "the device offline", lambda d: not d.get("online"), 150)
        text = push(run, set2)
        if "pushed key set 2 for the fleet: 0 of 1 device(s) hold it" not in text:
            raise Failure(f"push of key set 2 while offline: {text}")
        run.device = CloudDevice(tools, tools.path("flash.bin"), "boot2", run.modem)
        run.device.wait_for("kernel", r"cloud: online as", 120)
        run.device.wait_for("kernel", r"credentials: update keys rotated to key set 2 \(2 key\(s\)\)", 60)
        wait_device(run, "key set 2 held", lambda d: d.get("key_set") == 2 and d.get("online"), 60)
        log("ok   a device offline at the push took key set 2 when it connected again")

        text = push(run, set2)
        if "already pushed: key set 2 for the fleet: 1 of 1" not in text:
            raise Failure(f"key set 2 pushed again: {text}")
        text = push(run, set1, "--device", DEVICE_ID, expect=1)
        if "HTTP 409" not in text or "older than key set 2" not in text:
            raise Failure(f"key set 1 pushed to a device that wants 2: {text}")
        code, listed, _ = run.stack.cloud.api("GET", "/v1/keysets")
        sets = [(k["sequence"], k["fleet"], k["devices_holding"], len(k["key_ids"])) for k in listed["key_sets"]]
        if code != 200 or sets != [(2, True, 1, 2), (1, True, 1, 1)]:
            raise Failure(f"GET /v1/keysets: {code} {listed}")
        log(f"ok   pushing set 2 again: already pushed; set 1 to the device: 409; key sets {sets}")
    finally:
        run.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--app", required=True, metavar="cloud-demo.elf")
    parser.add_argument("--app-v2", required=True, metavar="cloud-demo-v2.elf")
    add_cloud_args(parser)
    args = parser.parse_args()
    if missing_cloud_tool(args, "qemu.keys.cloud"):
        return 77
    return run_scenario(args, "qemu.keys.cloud", scenario)


if __name__ == "__main__":
    sys.exit(main())
