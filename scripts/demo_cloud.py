#!/usr/bin/env python3
"""make demo, acts 4 and 5: the cloud. `bulwark-cloud up` starts mosquitto and
bulwarkd for a new fleet; a QEMU device (kernel + cloud-demo-crash) with the
modem emulator on UART2 is provisioned and registered over its local link,
comes online, streams its app's log lines, and its app's crash comes back
decoded from `bulwark crashes --elf`. Acts 5 and 6 (scripts/demo_ota.py) then
updates that same device over the air through that same cloud: one cloud
and one device for both acts, as an operator would have them. Every command
shown is the one run.

usage: demo_cloud.py BUILD WORKDIR
"""
import os
import re
import subprocess
import sys
import time
import types

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
from update_harness import Failure, Tools  # noqa: E402
from cloud_harness import DEVICE_ID, CloudDevice, Modem  # noqa: E402
from demo_ota import act5, act6  # noqa: E402


def show(argv, env, timeout=60):
    print("$ " + " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv)), flush=True)
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    sys.stdout.write(p.stdout + p.stderr)
    sys.stdout.flush()
    if p.returncode != 0:
        raise Failure(f"{argv[0]} exited {p.returncode}")
    return p.stdout


def main():
    build, work = (os.path.abspath(a) for a in sys.argv[1:3])
    host, q = os.path.join(build, "host"), os.path.join(build, "qemu-an505")
    bulwark = os.path.join(host, "cli", "bulwark")
    app = os.path.join(q, "apps", "cloud-demo", "cloud-demo-crash.elf")
    tools = Tools(types.SimpleNamespace(bulwark=bulwark, emu=os.path.join(TOP, "emu", "bulwark-emu"),
                                        boot=os.path.join(q, "boot", "bulwark-boot.elf"),
                                        kernel=os.path.join(q, "kernel", "bulwark-kernel.signed"),
                                        workdir=work))
    fleet = os.path.join(work, "fleet")
    cloud_argv = [os.path.join(TOP, "cloud", "bulwark-cloud"), "up", "--fleet", fleet, "--broker-port", "0",
                  "--api-listen", "127.0.0.1:0", "--tools", host]
    print("$ bulwark-cloud up --fleet fleet --broker-port 0 --api-listen 127.0.0.1:0   (free ports)", flush=True)
    cloud = subprocess.Popen(cloud_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    modem = device = None
    try:
        text = ""
        while "up; stop with Ctrl-C" not in text:
            line = cloud.stdout.readline()
            if not line:
                raise Failure("bulwark-cloud did not come up:\n" + text)
            text += line
            sys.stdout.write(line)
        url = re.search(r"API on (\S+)", text).group(1)
        broker_port = re.search(r"broker on 127\.0\.0\.1:(\d+)", text).group(1)
        env = dict(os.environ, BULWARK_SERVER=url, BULWARK_CONFIG="/dev/null",
                   BULWARK_TOKEN=open(os.path.join(fleet, "admin.token")).read().strip())

        modem = Modem(os.path.join(host, "emu", "modem", "bulwark-modem"), tools.path("modem.log"))
        print(f"\n-- the modem emulator listens on {modem.port}; QEMU boots kernel + cloud-demo-crash "
              "with UART2 on it", flush=True)
        image = tools.image("device.bin", app, [])
        device = CloudDevice(tools, image, "device", modem)
        device.wait_for("kernel", r"credentials: not provisioned \(key ready\)", 60)
        print("$ bulwark device provision --fleet fleet --listen 127.0.0.1:0 --broker "
              f"localhost:{broker_port} --out device.crt", flush=True)
        sys.stdout.write(device.provision(types.SimpleNamespace(bulwark=bulwark, fleet=fleet,
                                                                broker_port=broker_port, env=env)))
        device.wait_for("kernel", rf"cloud: online as {DEVICE_ID}", 120)
        print("-- the kernel's log:")
        for line in device.dev.kernel_text().splitlines():
            if "cloud:" in line or "credentials:" in line:
                print("   " + line)
        for _ in range(100):   # bulwarkd marks it online when its STATUS arrives
            if re.search(rf"{DEVICE_ID}\s+online", show_quiet(bulwark, env, "devices", "list")):
                break
            time.sleep(0.1)
        print()
        show([bulwark, "devices", "list"], env)

        device.wait_for("app", r"cloud-demo: started \(wake reason 8,", 60)   # crashed, restarted
        device.wait_for("app", r"cloud-demo: tick 3$", 30, start=device.dev.app_text().find("wake reason 8"))
        print()
        print("$ bulwark logs --device " + DEVICE_ID + "   (--follow would keep streaming)", flush=True)
        logs = show_quiet(bulwark, env, "logs", "--device", DEVICE_ID)
        lines = logs.splitlines()
        for line in lines if len(lines) <= 12 else lines[:8] + ["   ..."] + lines[-4:]:
            print(line)
        print()
        for _ in range(300):
            if '"seq"' in show_quiet(bulwark, env, "crashes", "--device", DEVICE_ID, "--json"):
                break
            time.sleep(0.1)
        show([bulwark, "crashes", "--device", DEVICE_ID, "--elf", app], env)

        print("\n== 5. over-the-air updates: v1, v2, then a crashing v3 rolled back ==", flush=True)
        ctx = types.SimpleNamespace(bulwark=bulwark, env=env, work=work, fleet=fleet, device_id=DEVICE_ID, q=q,
                                    elf=lambda name: os.path.join(q, "apps", "cloud-demo", name + ".elf"))
        act5(ctx)
        print("\n== 6. the kernel over the air: signed, uploaded, deployed, swapped in by the boot stub ==",
              flush=True)
        act6(ctx)
    finally:
        if device is not None:
            device.kill()
        if modem is not None:
            modem.stop()
        cloud.terminate()
        cloud.wait(timeout=20)
    return 0


def show_quiet(bulwark, env, *args):
    return subprocess.run([bulwark, *args], env=env, capture_output=True, text=True, timeout=60).stdout


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print(f"demo: {e}", file=sys.stderr)
        sys.exit(1)
