#!/usr/bin/env python3
"""Update-key rotation on QEMU (docs/SPEC.md §12.4): a leaked bundle-signing key
retired in the field by a key set the fleet CA signs.

Promises checked, end to end (`bulwark fleet init`, `device provision`,
`keys rotate`, `device keys`, `device deliver`; the kernel's credentials store
and update engine):
 - a provisioned device trusts the fleet's update key K1: app B version 2
   signed with K1 installs;
 - key set 1 = {K2}, signed by the fleet CA, is taken over the link: from then
   on a bundle signed with K1 is refused (unknown key), one signed with K2
   installs;
 - refused, each with its reason, nothing changed: the same key set again
   (not newer), a key set signed by another fleet's CA, one whose signature
   was tampered with, one whose sequence was changed after signing;
 - the rotation survives a power cut: after a reboot K1 is still refused;
 - K1 is retired, not forgotten: the running app's bundle (signed with K1)
   still reads as verified at boot (its crash policy applies), and when the
   K2-signed app crash-loops the kernel rolls back to the K1-signed
   last-known-good, which runs again.
Prints `PASS <name>` and exits 0, or the failed check and exits 1; 77 (skip)
without the host CLI.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import (run_scenario, Delivery, Device, Failure, Link, add_common_args)  # noqa: E402

APP_STARTED = r"update-app: {name} version {version} started, wake reason {reason}$"
CRASHES = 1000   # update/main.c: this version crashes at every start


def log(text):
    print(text, flush=True)


def on_link(tools, device, name, verb, path=None, extra=(), expect=0):
    """`bulwark device VERB [path] ...` over the device's link; its stdout + stderr."""
    d = Delivery(tools, path, device.link, name, extra=extra, verb=verb)
    code = d.wait()
    text = d.stdout() + d.stderr()
    if code != expect:
        raise Failure(f"{name}: device {verb} exit {code}, expected {expect}\n{text}")
    return text


def deliver(tools, device, bundle, name, version=None, refused=None):
    """Delivers bundle: installed as version, or refused with the text refused."""
    if refused is None:
        text = on_link(tools, device, name, "deliver", bundle)
        if f"installed: the device now runs app version {version}" not in text:
            raise Failure(f"{name}: not installed:\n{text}")
        return
    text = on_link(tools, device, name, "deliver", bundle, expect=1)
    if refused not in text:
        raise Failure(f"{name}: refused, but not for '{refused}':\n{text}")


def send_keys(tools, device, keyset, name, refused=None):
    if refused is None:
        text = on_link(tools, device, name, "keys", keyset)
        if "the device now trusts the update keys of key set" not in text:
            raise Failure(f"{name}: {text}")
        return
    text = on_link(tools, device, name, "keys", keyset, expect=1)
    if refused not in text:
        raise Failure(f"{name}: refused, but not for '{refused}':\n{text}")
    device.wait_for("kernel", r"credentials: key set refused: " + refused.replace("(", r"\(")
                    .replace(")", r"\)"), 5)


def patched(path, out, offset, flip):
    data = bytearray(open(path, "rb").read())
    data[offset] ^= flip
    with open(out, "wb") as f:
        f.write(data)
    return out


def scenario(tools):
    fleet, rogue = tools.path("fleet"), tools.path("rogue")
    tools.run(tools.bulwark, "fleet", "init", "--dir", fleet)
    tools.run(tools.bulwark, "fleet", "init", "--dir", rogue)
    k1 = os.path.join(fleet, "update.key")
    k2, k2_pub = tools.keys("k2")
    image = tools.image("flash.bin", tools.app_elf(tools.args.app_a, 1, "a1.elf"), [])
    device = Device(tools, image, "boot1", link=Link(), timeout=150)
    try:
        device.wait_for("kernel", r"credentials: not provisioned \(key ready\)", 30)
        on_link(tools, device, "provision", "provision", extra=(
            "--fleet", fleet, "--broker", "localhost:8883", "--out", tools.path("device.crt"),
            "--no-register"))
        device.wait_for("kernel", r"update: trusted keys from the device credentials \(1\)", 10)
        b2 = tools.bundle(tools.app_elf(tools.args.app_b, 2, "b2.elf"), 2, k1, "b2-k1.bwb")
        deliver(tools, device, b2, "b2", version=2)
        device.wait_for("app", APP_STARTED.format(name="B", version=2, reason=9), 20)
        device.wait_for("kernel", r"update: app version 2 is healthy: trial over", 20)
        log("ok   provisioned with the fleet's update key K1; B 2 signed with K1 installed")

        keyset = tools.path("set1.bwks")
        tools.run(tools.bulwark, "keys", "rotate", "--fleet", fleet, "--sequence", "1", "-o", keyset, k2_pub)
        shown = tools.run(tools.bulwark, "keys", "show-set", keyset, "--fleet", fleet).stdout
        if "key set 1: 1 key(s)" not in shown or "signature: good" not in shown:
            raise Failure(f"keys show-set:\n{shown}")
        send_keys(tools, device, keyset, "keys1")
        device.wait_for("kernel", r"credentials: update keys rotated to key set 1 \(1 key\(s\)\)", 5)
        log("ok   key set 1 = {K2} taken over the link")

        b3_k1 = tools.bundle(tools.app_elf(tools.args.app_b, 3, "b3.elf"), 3, k1, "b3-k1.bwb")
        deliver(tools, device, b3_k1, "b3-k1", refused="unknown key")
        log("ok   a bundle signed with K1 is refused (unknown key)")

        send_keys(tools, device, keyset, "keys1-again", refused="key set 1 is not newer than the one held (1)")
        other = tools.path("rogue.bwks")
        tools.run(tools.bulwark, "keys", "rotate", "--fleet", rogue, "--sequence", "2", "-o", other,
                  os.path.join(rogue, "update.pub"))
        send_keys(tools, device, other, "keys-rogue", refused="the signature does not verify under the fleet CA")
        set2 = tools.path("set2.bwks")
        tools.run(tools.bulwark, "keys", "rotate", "--fleet", fleet, "--sequence", "2", "-o", set2,
                  os.path.join(fleet, "update.pub"))
        size = os.path.getsize(set2)
        send_keys(tools, device, patched(set2, tools.path("set2-sig.bwks"), size - 1, 0x01), "keys-sig",
                  refused="the signature does not verify under the fleet CA")
        send_keys(tools, device, patched(set2, tools.path("set2-seq.bwks"), 8, 0x04), "keys-seq",
                  refused="the signature does not verify under the fleet CA")
        deliver(tools, device, b3_k1, "b3-k1-again", refused="unknown key")
        log("ok   refused, nothing changed: the same set again, another fleet's CA, a tampered "
            "signature, a sequence changed after signing")
    finally:
        device.kill()

    # A power cut: the rotation holds, K1 stays retired (still checks B 2, the running app).
    device = Device(tools, image, "boot2", link=Link(), timeout=150)
    try:
        device.wait_for("kernel", r"update: key set 1: 1 retired key\(s\) still check the apps accepted "
                        r"before it", 30)
        device.wait_for("kernel", r"update: crash policy of app version 2: ", 5)
        device.wait_for("app", APP_STARTED.format(name="B", version=2, reason=0), 20)
        deliver(tools, device, b3_k1, "b3-k1-boot2", refused="unknown key")
        log("ok   after a power cut: key set 1 held, K1 refused, B 2 (signed with K1) still verified")

        crashing = tools.bundle(tools.app_elf(tools.args.app_b, CRASHES, "b1000.elf"), CRASHES, k2,
                                "b1000-k2.bwb", ["--restart-min-ms", "40", "--restart-max-ms", "900"])
        deliver(tools, device, crashing, "b1000", version=CRASHES)
        device.wait_for("app", APP_STARTED.format(name="B", version=CRASHES, reason=9), 20)
        device.wait_for("kernel", r"update: crash loop: rolled back to app version 2$", 30)
        device.wait_for("app", APP_STARTED.format(name="B", version=2, reason=8), 20)
        log("ok   B 1000 signed with K2 installed; it crash-looped and the kernel rolled back to "
            "B 2, signed with the retired K1")

        b3_k2 = tools.bundle(tools.app_elf(tools.args.app_b, 1001, "b1001.elf"), 1001, k2, "b1001-k2.bwb")
        deliver(tools, device, b3_k2, "b1001-k2", version=1001)
        device.wait_for("app", APP_STARTED.format(name="B", version=1001, reason=9), 20)
        log("ok   B 1001 signed with K2 installed and runs")
    finally:
        device.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--name", default="qemu.keys")
    args = parser.parse_args()
    return run_scenario(args, args.name, scenario)


if __name__ == "__main__":
    sys.exit(main())
