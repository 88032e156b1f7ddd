#!/usr/bin/env python3
"""`bulwark-cloud up`: one command brings up the broker and bulwarkd.

Promises checked: on a directory with no fleet it makes one (`bulwark fleet
init`); it prints the API URL and the CLI's environment; bulwarkd is
connected to the broker (GET /v1/health) and `bulwark devices list` works
with the printed environment; the broker takes TLS connections only from
certificates of the fleet CA (a client of mosquitto's own with bulwarkd's
certificate connects); SIGTERM stops both processes; a second `up` of the
same fleet keeps it (no new CA). `bulwark device provision` with no server
anywhere refuses before touching a device and names --no-register.

usage: test_cloud_up.py BULWARK_CLOUD HOST_BUILD WORKDIR"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from harness import check, failures  # noqa: E402


def start(cloud, fleet, host):
    proc = subprocess.Popen([cloud, "up", "--fleet", fleet, "--broker-port", "0", "--api-listen",
                             "127.0.0.1:0", "--tools", host], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    text = ""
    while "up; stop with Ctrl-C" not in text:
        line = proc.stdout.readline()
        if not line:
            proc.wait()
            raise SystemExit(f"bulwark-cloud up failed:\n{text}")
        text += line
    return proc, text


def children_of(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def main():
    cloud, host, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fleet = os.path.join(work, "fleet")
    bulwark = os.path.join(host, "cli", "bulwark")

    proc, text = start(cloud, fleet, host)
    check("made a new fleet" in text and os.path.exists(os.path.join(fleet, "ca.crt")), "a new fleet is made")
    url = re.search(r"API on (\S+)", text).group(1)
    port = int(re.search(r"broker on 127\.0\.0\.1:(\d+)", text).group(1))
    token = open(os.path.join(fleet, "admin.token")).read().strip()
    check(f"BULWARK_SERVER={url}" in text, "the CLI's environment is printed")
    req = urllib.request.Request(url + "/v1/health", headers={"Authorization": f"Bearer {token}"})
    deadline_ok = False
    for _ in range(200):
        with urllib.request.urlopen(req, timeout=10) as r:
            if json.loads(r.read()).get("broker_connected"):
                deadline_ok = True
                break
        time.sleep(0.05)   # bulwarkd's state, seen only through REST: polled
    check(deadline_ok, "bulwarkd is connected to the broker")
    env = dict(os.environ, BULWARK_SERVER=url, BULWARK_TOKEN=token, BULWARK_CONFIG="/dev/null")
    p = subprocess.run([bulwark, "devices", "list"], env=env, capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "0 devices" in p.stdout, f"bulwark devices list: {p.stdout.strip()}")
    sub = subprocess.run(["mosquitto_sub", "-h", "localhost", "-p", str(port), "--cafile",
                          os.path.join(fleet, "ca.crt"), "--cert", os.path.join(fleet, "bulwarkd.crt"),
                          "--key", os.path.join(fleet, "bulwarkd.key"), "-t", "bw/+/up/#", "-C", "1",
                          "-W", "1"], capture_output=True, text=True, timeout=30)
    check("Error" not in sub.stderr and "refused" not in sub.stderr.lower(),
          f"the broker takes a fleet certificate over TLS ({sub.stderr.strip() or 'timed out waiting, as asked'})")
    plain = subprocess.run(["mosquitto_sub", "-h", "localhost", "-p", str(port), "-t", "x", "-C", "1",
                            "-W", "2"], capture_output=True, text=True, timeout=30)
    check(plain.returncode != 0, "the broker refuses a client without TLS")

    kids = children_of(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    alive = [k for k in kids if os.path.exists(f"/proc/{k}") and
             "zombie" not in open(f"/proc/{k}/status").read()]
    check(proc.returncode == 0 and len(kids) == 2 and not alive,
          f"SIGTERM stops mosquitto and bulwarkd (children {kids}, still alive {alive})")

    ca = open(os.path.join(fleet, "ca.crt")).read()
    proc, text = start(cloud, fleet, host)
    check("made a new fleet" not in text and open(os.path.join(fleet, "ca.crt")).read() == ca,
          "a second up keeps the fleet")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)

    env = dict(os.environ, BULWARK_CONFIG="/dev/null", HOME=work)
    env.pop("BULWARK_SERVER", None)
    env.pop("BULWARK_TOKEN", None)
    os.remove(os.path.join(fleet, "admin.token"))
    p = subprocess.run([bulwark, "device", "provision", "--fleet", fleet, "--listen", "127.0.0.1:0",
                        "--broker", "localhost:8883", "--timeout", "1"], env=env, capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 2 and "no token" in p.stderr and "--no-register" in p.stderr
          and "listening" not in p.stdout, f"provision with no token: exit {p.returncode}: {p.stderr.strip()}")
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
