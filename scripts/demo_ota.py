"""make demo, acts 5 and 6: over-the-air updates, on act 4's cloud and device
(scripts/demo_cloud.py calls act5() with the device online and its crash
shown). The fleet's update key signs cloud-demo as version 1, then
cloud-demo-v2; each is uploaded, deployed and followed with
`bulwark deployments show ID --watch` through installed (on trial) to
healthy; v2's log lines stream in `bulwark logs --follow` from its start
(wake reason 9). Then cloud-demo-v3-crash, which crashes at tick 3 of every
run: the kernel rolls it back to v2, the deployment ends rolled back with
its cause, each run's lines up to its crash are in the cloud, and its crash
decodes with `bulwark crashes --elf`. Act 6 (act6) sends the kernel itself:
a newer signed kernel is uploaded and deployed, the boot stub swaps it in, and
it confirms itself.

Every command shown is the one run, and what follows it is its own output
(long ones trimmed, marked "..."). Every wait is on an event (a CLI line, a
deployment state) and bounded; a step that does not happen ends the demo
with a Failure saying which.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
import types

from update_harness import Failure  # noqa: E402  (sys.path set by demo_cloud.py)
from cloud_harness import Follow  # noqa: E402

WATCH_S = 120      # one deployment, download to healthy (about 20 s on QEMU: 10 s of it the trial)
ROLLBACK_S = 60    # v3's three crashes and the kernel's rollback to v2
POLL_S = 0.1


def shown(argv, work):
    """argv as the user would type it: paths in the demo's work directory relative to it,
    other paths (the build's ELFs, the CLI) by their file name."""
    words = []
    for a in argv:
        if a.startswith(work + os.sep):
            a = os.path.relpath(a, work)
        elif os.path.isabs(a):
            a = os.path.basename(a)
        words.append(a)
    return "$ " + " ".join(words)


def stream(argv, env, work, timeout, codes=(0,)):
    """Prints the command, then its output line by line as it comes (stderr, the CLI's
    progress bar on a terminal, goes straight through); its stdout. A Failure if it runs
    past timeout seconds or exits with a code not in codes."""
    print(shown(argv, work), flush=True)
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, bufsize=1)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    out = []
    try:
        for line in p.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            out.append(line)
        p.wait()
    finally:
        timer.cancel()
    if p.returncode == -9:
        raise Failure(f"{shown(argv, work)[2:]} did not finish in {timeout} s")
    if p.returncode not in codes:
        raise Failure(f"{shown(argv, work)[2:]} exited {p.returncode}")
    return "".join(out)


def quiet_json(ctx, *args):
    """A CLI command's --json answer, not shown (for waiting on a state)."""
    p = subprocess.run([ctx.bulwark, *args, "--json"], env=ctx.env, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise Failure(f"bulwark {' '.join(args)} --json exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def wait_until(what, timeout, probe):
    """probe() until it returns a true value (returned); a Failure naming what after timeout."""
    end = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > end:
            raise Failure(f"{what} did not happen in {timeout} s")
        time.sleep(POLL_S)


def deploy(ctx, elf, version, outcome="healthy"):
    """Signs elf as version, uploads it, deploys it to the device and watches the
    deployment through installed to its final state, which must be outcome; the
    deployment's ID."""
    bundle = os.path.join(ctx.work, f"cloud-demo-v{version}.bwb")
    stream([ctx.bulwark, "bundle", "create", elf, "--key", ctx.key, "--version", str(version), "-o", bundle],
           ctx.env, ctx.work, 60)
    out = stream([ctx.bulwark, "apps", "upload", bundle], ctx.env, ctx.work, 60)
    app = re.search(r"app (\d+): version (\d+)", out)
    if not app or app.group(2) != str(version):
        raise Failure(f"apps upload did not show app version {version}:\n{out}")
    out = stream([ctx.bulwark, "deploy", "--app", app.group(1), "--device", ctx.device_id], ctx.env, ctx.work, 60)
    dep = re.search(r"deployment (\d+):", out)
    if not dep:
        raise Failure(f"deploy did not show a deployment ID:\n{out}")
    watched = stream([ctx.bulwark, "deployments", "show", dep.group(1), "--watch"], ctx.env, ctx.work, WATCH_S,
                     codes=(0,) if outcome == "healthy" else (1,))
    if ("downloading" not in watched or not re.search(r": installed, (\d+)/\1 bytes", watched)
            or not re.search(rf": {outcome}, (\d+)/\1 bytes", watched)):
        raise Failure(f"--watch did not follow deployment {dep.group(1)} through downloading and installed"
                      f" to {outcome}")
    return dep.group(1)


def log_lines(ctx):
    """How many lines `bulwark logs --device D` prints now (not shown)."""
    p = subprocess.run([ctx.bulwark, "logs", "--device", ctx.device_id], env=ctx.env, capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise Failure(f"bulwark logs exited {p.returncode}: {p.stderr.strip()}")
    return len(p.stdout.splitlines())


def follow_logs(ctx, skip, start, stop, more, timeout):
    """`bulwark logs --device D --follow`, shown from the first line past its first skip
    lines that matches start, to `more` lines past the first after it that matches stop."""
    print(f"$ bulwark logs --device {ctx.device_id} --follow   (shown from the new app's install; Ctrl-C ends it)",
          flush=True)
    follow = Follow(types.SimpleNamespace(bulwark=ctx.bulwark, env=ctx.env), ctx.device_id)
    try:
        end = time.monotonic() + timeout
        left = lambda: max(end - time.monotonic(), 0.001)  # noqa: E731
        for _ in range(skip):
            follow.expect("", left())
        lines = []

        def show(pattern):
            lines.append(follow.expect(pattern, left()))
            print(lines[-1], flush=True)
        show(start)
        while not re.search(stop, lines[-1]):
            show("")
        for _ in range(more):
            show("")
        return lines
    finally:
        follow.stop()


def act5(ctx):
    """ctx: bulwark (CLI path), env (its environment), work (directory), fleet, device_id,
    elf (a function: build name -> its ELF path). The device is online, running cloud-demo-crash."""
    ctx.key = os.path.join(ctx.fleet, "update.key")
    did = ctx.device_id
    print("-- v1 (cloud-demo, the crash fixed), signed with the fleet's update key, uploaded and deployed",
          flush=True)
    deploy(ctx, ctx.elf("cloud-demo"), 1)
    print("\n-- v2 (cloud-demo-v2) the same way; its logs from its start", flush=True)
    skip = log_lines(ctx)
    deploy(ctx, ctx.elf("cloud-demo-v2"), 2)
    follow_logs(ctx, skip, r"cloud-demo: started \(wake reason 9,.*version 2\)", r"cloud-demo: tick 3$", 0, 60)

    print("\n-- v3 (cloud-demo-v3-crash) crashes at tick 3 of every run: the kernel rolls it back", flush=True)
    crashes_before = [c["seq"] for c in quiet_json(ctx, "crashes", "--device", did)["crashes"]]
    skip = log_lines(ctx)
    dep3 = deploy(ctx, ctx.elf("cloud-demo-v3-crash"), 3, outcome="rolled_back")
    print("-- installed, on trial: it crash-looped before it proved healthy, and --watch ended at rolled_back\n"
          "-- v3's logs: each run's lines up to its crash (the kernel keeps them across the app's restarts)",
          flush=True)
    follow_logs(ctx, skip, r"version 3\)", r"cloud-demo: started \(wake reason \d+,.*version 2\)", 2, ROLLBACK_S)

    print(flush=True)
    v3 = ctx.elf("cloud-demo-v3-crash")
    argv = [ctx.bulwark, "crashes", "--device", did, "--elf", v3]

    def loop_record():
        """The decoded newest crash record, once it is v3's last (the one that made the loop)."""
        p = subprocess.run(argv, env=ctx.env, capture_output=True, text=True, timeout=60)
        blocks = re.split(r"\n(?===)", p.stdout)
        newest = blocks[-1] if p.returncode == 0 and blocks else ""
        seq = re.search(r"crash record (\d+) ", newest)
        if seq and int(seq.group(1)) not in crashes_before and "crash loop:" in newest:
            return newest
        return None
    newest = wait_until("v3's crash-loop record in bulwarkd", ROLLBACK_S, loop_record)
    if not re.search(r"#0 .*store_reading", newest):
        raise Failure(f"v3's crash did not decode to store_reading:\n{newest}")
    print(shown(argv, ctx.work) + "   (the newest record shown)", flush=True)
    print("   ...\n" + newest.strip("\n"), flush=True)

    print(flush=True)
    wait_until("bulwarkd showing app version 2 again", 30,
               lambda: quiet_json(ctx, "devices", "show", did).get("app_version") == 2)
    stream([ctx.bulwark, "devices", "show", did], ctx.env, ctx.work, 60)
    stream([ctx.bulwark, "deployments", "list"], ctx.env, ctx.work, 60)


def act6(ctx):
    """make demo, act 6: the kernel itself over the air (docs/SPEC.md 19.6, 19.7). The
    build's kernel is signed again as the next minor version with the build's kernel
    signer, uploaded, deployed and watched to healthy: the device downloads and checks
    it, stages it, resets into its boot stub, which checks it again and swaps it in on
    trial; the new kernel reconnects and confirms itself, and bulwarkd shows it."""
    signed = os.path.join(ctx.q, "kernel", "bulwark-kernel.signed")
    keys = os.path.join(ctx.q, "kernel-keys")
    seal = open(signed, "rb").read(24)
    running = int.from_bytes(seal[8:12], "little")
    signed_at = int.from_bytes(seal[20:24], "little")
    new = f"{running >> 24}.{((running >> 16) & 0xFF) + 1}.0"
    out_path = os.path.join(ctx.work, f"kernel-{new}.signed")
    stream([ctx.bulwark, "kernel", "sign", os.path.join(ctx.q, "kernel", "bulwark-kernel.bin"),
            "--key", os.path.join(keys, "signer.key"), "--cert", os.path.join(keys, "signer.crt"),
            "--root", os.path.join(keys, "root.pub"), "--version", new, "--signed-at", str(signed_at),
            "--force", "-o", out_path], ctx.env, ctx.work, 60)
    out = stream([ctx.bulwark, "kernels", "upload", out_path], ctx.env, ctx.work, 60)
    kernel = re.search(r"kernel (\d+): version (\S+),", out)
    if not kernel or kernel.group(2) != new:
        raise Failure(f"kernels upload did not show kernel {new}:\n{out}")
    out = stream([ctx.bulwark, "deploy", "--kernel", kernel.group(1), "--device", ctx.device_id], ctx.env,
                 ctx.work, 60)
    dep = re.search(r"deployment (\d+):", out)
    if not dep:
        raise Failure(f"deploy did not show a deployment ID:\n{out}")
    watched = stream([ctx.bulwark, "deployments", "show", dep.group(1), "--watch"], ctx.env, ctx.work, WATCH_S)
    if "installing" not in watched or not re.search(r": healthy, (\d+)/\1 bytes", watched):
        raise Failure(f"--watch did not follow kernel deployment {dep.group(1)} through installing to healthy")
    print(flush=True)
    wait_until(f"bulwarkd showing kernel {new}", 30,
               lambda: quiet_json(ctx, "devices", "show", ctx.device_id).get("kernel_version") == new)
    stream([ctx.bulwark, "devices", "show", ctx.device_id], ctx.env, ctx.work, 60)
