#!/usr/bin/env python3
"""Kernel updates over the air (docs/SPEC.md §15, §19.7; docs/API.md "Kernels") with real
parts: a QEMU device running cloud-demo under the build's signed kernel, the modem
emulator, mosquitto with TLS, bulwarkd and the bulwark CLI.

Promises checked:
 - bulwarkd refuses uploads that are not signed kernels it can vouch for, with the HTTP
   status, code and reason of docs/API.md: random bytes and an app bundle (400 bad_kernel),
   a cut file (400 truncated), a flipped image bit (422 bad_content), a flipped signature
   bit (422 bad_signature), and, once the fleet names its kernel root
   (FLEET/kernel-root.pub), one chaining to another root (422 unknown_root); nothing is
   stored;
 - kernels bulwarkd accepts but the device must refuse (its root is not the stub's; not
   newer than the running kernel) end `refused` with the device's reason, and the device
   runs on (online, the app ticking, the same kernel);
 - a kernel whose image was altered in bulwarkd's storage is refused by the device after
   the download ("kernel image tampered");
 - a kernel that never confirms (resetting itself at a 3 s trial deadline) runs its three
   trial boots, the stub goes back to the old kernel, and the deployment ends
   `rolled_back` with the stub's reason, read back by the old kernel from the stub's
   journal (the record carries the deployment's tag); a later deployment of the same
   version is delivered afresh;
 - a kernel on trial whose deployment an app deployment replaced (bulwarkd sends its
   DEPLOY no more) still ends: the app installs on the trial kernel, three power cuts make
   the stub go back, and the old kernel reports the kernel deployment rolled back unasked;
 - the newer kernel deployed to the online device: downloading, installing, the chip
   resets, the stub swaps it in on trial, the new kernel comes back online, confirms
   itself once its app is healthy and the cloud is reached, and the deployment ends
   `healthy`; bulwarkd shows the new kernel version from the device's STATUS; listings
   name it a kernel.
Waits on kernel console lines and bulwarkd's state, never on fixed sleeps.
"""
import argparse
import os
import random
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, add_common_args, run_scenario  # noqa: E402
from cloud_harness import DEVICE_ID, CloudDevice, add_cloud_args, missing_cloud_tool  # noqa: E402
from run_ota_test import Ota  # noqa: E402
from run_keypush_test import wait_device  # noqa: E402
from run_kslots_test import sealed_version, version_text  # noqa: E402

BOOT_S = 90
HEALTHY = r"app healthy"
CONFIRMED = r"kernel: confirmed after its trial"


def log(text):
    print(text, flush=True)


def variant(tools, name):
    return os.path.join(tools.args.variants, name)


def upload_refused(run, tools, name, data, status, code, reason):
    """POST /v1/kernels of data: refused with status, code and a message containing reason."""
    got, body, _ = run.stack.cloud.api("POST", "/v1/kernels", raw=data, content_type="application/octet-stream")
    err = (body or {}).get("error", {})
    if got != status or err.get("code") != code or reason not in err.get("message", ""):
        raise Failure(f"upload of {name}: HTTP {got} {body}, expected {status} {code} /{reason}/")
    log(f"ok   {name}: HTTP {got} {code}: {err['message']}")


def refused_uploads(run, tools):
    with open(variant(tools, "newer.signed"), "rb") as f:
        newer = f.read()
    with open(variant(tools, "tampered-newer.signed"), "rb") as f:
        tampered = f.read()
    with open(variant(tools, "bad-signature-newer.signed"), "rb") as f:
        bad_signature = f.read()
    bundle, _ = run.upload(tools.args.app, 2, "v2.bwb")
    with open(tools.path("v2.bwb"), "rb") as f:
        app_bundle = f.read()
    upload_refused(run, tools, "random bytes", random.Random(7).randbytes(4096), 400, "bad_kernel",
                   "not a signed kernel file")
    upload_refused(run, tools, "an app bundle", app_bundle, 400, "bad_kernel", "not a signed kernel file")
    upload_refused(run, tools, "a cut kernel", newer[:-100], 400, "truncated", "truncated kernel image")
    upload_refused(run, tools, "tampered-newer.signed", tampered, 422, "bad_content", "kernel image tampered")
    upload_refused(run, tools, "bad-signature-newer.signed", bad_signature, 422, "bad_signature",
                   "bad kernel signature")
    root_pub = os.path.join(run.stack.fleet, "kernel-root.pub")
    shutil.copy(os.path.join(tools.args.kernel_keys, "root.pub"), root_pub)
    with open(variant(tools, "other-root-newer.signed"), "rb") as f:
        upload_refused(run, tools, "other-root-newer.signed (kernel-root.pub given)", f.read(), 422,
                       "unknown_root", "certificate chain to an unknown root")
    os.remove(root_pub)   # from here bulwarkd takes any consistent kernel: the device decides
    code, listed, _ = run.stack.cloud.api("GET", "/v1/kernels")
    if code != 200 or listed["kernels"]:
        raise Failure(f"refused kernels were stored: {code} {listed}")
    code, listed, _ = run.stack.cloud.api("GET", "/v1/apps")
    if code != 200 or [a["id"] for a in listed["apps"]] != [bundle["id"]]:
        raise Failure(f"GET /v1/apps after kernel uploads: {code} {listed}")
    return bundle


def deploy_kernel(run, kernel):
    out = run.stack.cli("deploy", "--kernel", str(kernel["id"]), "--device", DEVICE_ID).stdout
    m = re.match(r"deployment (\d+): kernel (\S+) \(upload (\d+)\) to " + DEVICE_ID, out)
    if not m or m.group(2) != kernel["kernel_version"]:
        raise Failure(f"bulwark deploy --kernel: {out}")
    return int(m.group(1))


def device_refuses(run, tools, name, reason):
    """name is uploaded (bulwarkd takes it) and deployed; the device refuses it with reason
    and runs on with its kernel."""
    kernel = run.stack.cli_json("kernels", "upload", variant(tools, name))
    dep = deploy_kernel(run, kernel)
    shown = run.wait_state(dep, ("refused", "failed", "installed", "healthy"), 240)
    if shown["state"] != "refused" or reason not in shown["reason"] or shown.get("kind") != "kernel":
        raise Failure(f"{name}: {shown}, expected refused /{reason}/")
    run.wait_app_ticks(2)
    listed = wait_device(run, "the device online", lambda d: d.get("online"), 30)
    if listed["kernel_version"] != version_text(sealed_version(tools.kernel)):
        raise Failure(f"{name}: the device's kernel changed: {listed}")
    log(f"ok   {name}: refused by the device ({shown['reason']}); the app runs on")


def stored_tamper(run, tools):
    """newer.signed with one bit of its image blob flipped in bulwarkd's storage."""
    kernel = run.stack.cli_json("kernels", "upload", variant(tools, "newer.signed"))
    blob = os.path.join(run.stack.cloud.work, "bulwarkd.db.blobs", kernel["image_hash"])
    with open(blob, "rb") as f:
        good = f.read()
    with open(blob, "wb") as f:
        f.write(good[:0x900] + bytes([good[0x900] ^ 1]) + good[0x901:])
    dep = deploy_kernel(run, kernel)
    shown = run.wait_state(dep, ("refused", "failed", "installed", "healthy"), 300)
    if shown["state"] != "refused" or "kernel image tampered" not in shown["reason"]:
        raise Failure(f"a kernel altered in storage: {shown}")
    with open(blob, "wb") as f:
        f.write(good)
    run.wait_app_ticks(2)
    log(f"ok   a kernel image altered in bulwarkd's storage: refused after the download ({shown['reason']})")
    return kernel


def never_confirms(run, tools, dev):
    """noconfirm-deadline-newer.signed (never confirms; resets itself at a 3 s trial
    deadline) is deployed: the device stages it, the stub runs its three trial boots and
    goes back to the old kernel, and the old kernel reads the stub's journal (this
    deployment's tag) and reports the deployment rolled back with the stub's reason."""
    old = version_text(sealed_version(tools.kernel))
    at = run.kernel_mark()
    kernel = run.stack.cli_json("kernels", "upload", variant(tools, "noconfirm-deadline-newer.signed"))
    dep = deploy_kernel(run, kernel)
    shown = run.wait_state(dep, ("rolled_back", "refused", "failed", "healthy"), 600)
    if shown["state"] != "rolled_back" or "never confirmed itself" not in shown["reason"]:
        raise Failure(f"a kernel that never confirms: {shown}, expected rolled_back (never confirmed itself)")
    for n in (1, 2, 3):
        at = dev.wait_for("kernel", rf"^\[boot\] kernel {kernel['kernel_version']} on trial \(boot {n} of 3\)$",
                          BOOT_S, at).end()
        at = dev.wait_for("kernel", r"^\[kernel\] kernel: on trial and not confirmed after 3 s", BOOT_S, at).end()
    dev.wait_for("kernel", rf"^\[boot\] reverted to kernel {old}: the new kernel never confirmed itself$",
                 BOOT_S, at)
    listed = wait_device(run, "the device online on its old kernel",
                         lambda d: d.get("online") and d.get("kernel_version") == old, 120)
    log(f"ok   a kernel that never confirms: three trial boots, reverted; the deployment ended "
        f"{shown['state']} ({shown['reason']}); the device runs {listed['kernel_version']} again")


def power_cycle(run, tools, name):
    """kill -9 of the device's QEMU and a new one on its flash file: a power cut."""
    run.device.kill()
    run.device = CloudDevice(tools, os.path.join(tools.work, "flash.bin"), name, run.modem)
    return run.device


def replaced_then_reverted(run, tools, app_v2):
    """noconfirm-newer.signed (never confirms, no deadline) is deployed and reaches installed
    (on trial); then an app deployment replaces it as the device's target, so bulwarkd sends
    the kernel's DEPLOY no more. The app installs on the trial kernel; three power cuts make
    the stub go back to the old kernel, which reports the kernel deployment rolled back
    unasked (docs/SPEC.md §19.7), from the stub's record and its tag."""
    old = version_text(sealed_version(tools.kernel))
    kernel = run.stack.cli_json("kernels", "upload", variant(tools, "noconfirm-newer.signed"))
    dep = deploy_kernel(run, kernel)
    shown = run.wait_state(dep, ("installed", "rolled_back", "refused", "failed", "healthy"), 600)
    if shown["state"] != "installed":
        raise Failure(f"a kernel that never confirms: {shown}, expected installed (on trial)")
    app_dep = run.deploy(app_v2)
    shown = run.wait_state(app_dep, ("healthy", "rolled_back", "refused", "failed"), 300)
    if shown["state"] != "healthy":
        raise Failure(f"app v2 on the trial kernel: {shown}")
    shown = run.show(dep)
    if shown["state"] != "installed" or shown["current"]:
        raise Failure(f"the kernel deployment once the app's replaced it: {shown}, expected installed, "
                      f"not current")
    for n in (2, 3):
        dev = power_cycle(run, tools, f"trial{n}")
        dev.wait_for("kernel", rf"^\[boot\] kernel {kernel['kernel_version']} on trial \(boot {n} of 3\)$",
                     BOOT_S)
    dev = power_cycle(run, tools, "reverted")
    dev.wait_for("kernel", rf"^\[boot\] reverted to kernel {old}: the new kernel never confirmed itself$",
                 BOOT_S)
    shown = run.wait_state(dep, ("rolled_back", "healthy", "refused", "failed"), 120)
    if shown["state"] != "rolled_back" or "never confirmed itself" not in shown["reason"]:
        raise Failure(f"the replaced kernel deployment after the stub went back: {shown}, expected "
                      f"rolled_back (never confirmed itself)")
    wait_device(run, "the device online on its old kernel with app v2",
                lambda d: d.get("online") and d.get("kernel_version") == old and d.get("app_version") == 2, 120)
    log(f"ok   a kernel deployment an app deployment replaced while on trial: three power cuts, the "
        f"stub went back; it ended {shown['state']} unasked ({shown['reason']}); app v2 runs on")


def scenario(tools):
    a = tools.args
    run = Ota(tools, a.app, timeout=900)
    try:
        dev = run.device
        old, new = sealed_version(tools.kernel), sealed_version(variant(tools, "newer.signed"))
        dev.wait_for("kernel", HEALTHY, BOOT_S)
        shown = wait_device(run, "the build's kernel version", lambda d: d.get("kernel_version"), 30)
        if shown["kernel_version"] != version_text(old):
            raise Failure(f"STATUS kernel version {shown['kernel_version']}, sealed {version_text(old)}")

        app_v2 = refused_uploads(run, tools)
        device_refuses(run, tools, "other-root-newer.signed", "certificate chain to an unknown root")
        device_refuses(run, tools, "older.signed", "is not newer than the running kernel")
        kernel = stored_tamper(run, tools)
        never_confirms(run, tools, dev)
        replaced_then_reverted(run, tools, app_v2)
        dev = run.device

        at = run.kernel_mark()
        started = time.monotonic()
        dep = deploy_kernel(run, kernel)
        code, states = run.watch(dep, timeout=600)
        took = time.monotonic() - started
        if code != 0 or states[-1] != "healthy" or not {"downloading", "installing"} <= set(states):
            raise Failure(f"deployments show --watch: exit {code}, states {states}")
        for pattern in (rf"^\[kernel\] update: kernel {version_text(new)} staged for the boot stub",
                        r"^\[kernel\] update: resetting into the boot stub",
                        rf"^\[boot\] kernel {version_text(new)} on trial \(boot 1 of 3\)$",
                        rf"^\[boot\] kernel {version_text(new)} verified$",
                        r"^\[kernel\] app starting \(wake reason 10\)$",
                        rf"cloud: online as {DEVICE_ID}",
                        CONFIRMED):
            at = dev.wait_for("kernel", pattern, BOOT_S, at).end()
        shown = wait_device(run, "the new kernel version", lambda d: d.get("kernel_version") == version_text(new),
                            60)
        deployment = run.show(dep)
        if deployment.get("kind") != "kernel" or deployment.get("kernel_version") != version_text(new):
            raise Failure(f"the deployment does not name the kernel: {deployment}")
        listed = run.stack.cli("kernels", "list").stdout
        if f"version {version_text(new)}" not in listed:
            raise Failure(f"bulwark kernels list:\n{listed}")
        deployments = run.stack.cli("deployments", "list").stdout
        if f"kernel {version_text(new)} (upload {kernel['id']}): healthy" not in deployments:
            raise Failure(f"bulwark deployments list:\n{deployments}")
        log(f"ok   kernel {version_text(old)} -> {version_text(new)} over the air: "
            f"{' -> '.join(dict.fromkeys(states))}; swapped by the stub, confirmed, "
            f"bulwarkd shows kernel {shown['kernel_version']}; {kernel['size']} bytes, deploy to healthy "
            f"{took:.1f} s")
    finally:
        run.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--app", required=True, metavar="cloud-demo.elf")
    parser.add_argument("--variants", required=True, help="make_kernel_variants.py's output directory")
    parser.add_argument("--kernel-keys", required=True, help="the build's kernel keys (root.pub)")
    add_cloud_args(parser)
    args = parser.parse_args()
    if missing_cloud_tool(args, "qemu.ota.kernel"):
        return 77
    return run_scenario(args, "qemu.ota.kernel", scenario)


if __name__ == "__main__":
    sys.exit(main())
