#!/usr/bin/env python3
"""End-to-end test of the cloud side with real parts: mosquitto (TLS, ACL,
registry plugin) started by bulwark-broker, bulwarkd, simulated devices
(real MQTT clients with their own certificates), the bulwark CLI.

Promises checked: the REST API's auth (401) and input errors (4xx JSON);
STATUS online -> listed online and the device receives TIME; LOG batches
with a resent duplicate and a sequence gap -> each line once, lost lines
reported; --follow prints a line published after it started; CRASH ->
`bulwark crashes --elf` shows what `bulwark crash decode` shows; the will
(kill -9) -> offline; refusals: A cannot read or write B's topics, a
certificate from another CA fails the TLS handshake, a removed device is
disconnected and gets nothing through.

usage: test_cloud.py BULWARKD PLUGIN SIM_DEVICE BULWARK WORKDIR"""
import json
import os
import queue
import shutil
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import harness  # noqa: E402
from harness import crash, log, status  # noqa: E402
from test_crash_decode import arm_elf, record  # noqa: E402  (the §7 record and test ELF builders)

from harness import check, failures  # noqa: E402


def main():
    bulwarkd, plugin, sim, bulwark, work = sys.argv[1:6]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cloud = harness.Cloud(work, bulwarkd, plugin, sim)
    env = dict(os.environ, BULWARK_SERVER=cloud.url, BULWARK_TOKEN=cloud.token, BULWARK_CONFIG="/dev/null")

    def cli(*args, timeout=30):
        p = subprocess.run([bulwark, *args], capture_output=True, text=True, timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr

    devices = []
    try:
        run_checks(cloud, cli, bulwark, env, devices)
    finally:
        for d in devices:
            d.close()
        cloud.stop()
    if failures:
        print(f"{len(failures)} failure(s); bulwarkd log: {cloud.work}/bulwarkd.log", file=sys.stderr)
        print(cloud.broker.log()[-3000:], file=sys.stderr)
        return 1
    return 0


def run_checks(cloud, cli, bulwark, env, devices):
    # --- REST: auth and input errors -------------------------------------
    code, body, ctype = cloud.api("GET", "/v1/devices", token=False)
    check(code == 401 and body["error"]["code"] == "unauthorized" and ctype == "application/json",
          "REST without a token: 401 JSON error")
    code, body, _ = cloud.api("GET", "/v1/health", token="0" * 64)
    check(code == 401 and "error" in body, "REST with a wrong token: 401 JSON error")
    rc, out, err = cli("devices", "list", "--token", "wrong")
    check(rc == 1 and "HTTP 401" in err, "bulwark devices list with a wrong token: exit 1, HTTP 401")
    code, body, _ = cloud.api("GET", "/v1/health")
    check(code == 200 and body["status"] == "ok" and body["schema_version"] >= 1, "GET /v1/health")

    a = cloud.new_device()
    a_cert = open(os.path.join(cloud.fleet, f"{a}.crt")).read()
    other_id = harness.fleet.device_id()
    cases = [
        ("POST", "/v1/devices", None, b"{not json", "application/json", 400, "bad_json"),
        ("POST", "/v1/devices", None, b'{"id":"x"}', "text/plain", 415, "unsupported_media_type"),
        ("POST", "/v1/devices", {"id": "BWxyz", "certificate": a_cert}, None, "application/json", 400, "bad_device_id"),
        ("POST", "/v1/devices", {"id": other_id, "certificate": a_cert}, None, "application/json", 400, "bad_certificate"),
        ("POST", "/v1/devices", {"id": other_id, "certificate": "junk"}, None, "application/json", 400, "bad_certificate"),
        ("POST", "/v1/devices", {"id": a, "certificate": a_cert}, None, "application/json", 409, "exists"),
        ("POST", "/v1/devices", {"id": a, "certificate": a_cert, "extra": 1}, None, "application/json", 400, "bad_request"),
        ("POST", "/v1/devices", None, b"x" * (70 * 1024), "application/json", 413, "too_large"),
        ("GET", f"/v1/devices/{other_id}", None, None, None, 404, "not_found"),
        ("GET", f"/v1/devices/{other_id}/logs", None, None, None, 404, "not_found"),
        ("GET", "/v1/devices/nonsense", None, None, None, 404, "not_found"),
        ("PUT", "/v1/devices", None, None, None, 405, "method_not_allowed"),
        ("GET", "/v1/devices?page_size=0", None, None, None, 400, "bad_request"),
        ("GET", f"/v1/devices/{a}/logs?wait=999", None, None, None, 400, "bad_request"),
    ]
    for method, path, body, raw, ctype, want, want_code in cases:
        code, answer, _ = cloud.api(method, path, body, raw=raw, content_type=ctype)
        got = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
        check(code == want and got == want_code, f"{method} {path[:40]} ({want_code}): {code} {got}")
    # A certificate from another CA is refused at registration too.
    harness.fleet.make_ca(cloud.fleet, "otherca", "Another CA")
    harness.fleet.sign(cloud.fleet, other_id, other_id, ca="otherca")
    code, answer, _ = cloud.api("POST", "/v1/devices", {"id": other_id,
                                                       "certificate": open(os.path.join(cloud.fleet, f"{other_id}.crt")).read()})
    check(code == 400 and "fleet CA" in answer["error"]["message"], "registration of another CA's certificate: 400")

    # --- STATUS online, TIME, devices list ---------------------------------
    boot, conn = harness.random_id32(), harness.random_id32()
    dev_a = cloud.device(a, will=(f"bw/{a}/up/status", status(0, boot, conn)))
    devices.append(dev_a)
    check(dev_a.expect("connected") == "connected 0", "device A connects with its certificate")
    dev_a.sub(f"bw/{a}/down/#")
    dev_a.sub("bw/+/down/#")   # also B's: the ACL must not deliver those
    t0 = time.time()
    dev_a.pub(f"bw/{a}/up/status", status(1, boot, conn, kernel=0x02010003, app=7, wake=4))
    msg = dev_a.expect(f"msg bw/{a}/down/time")
    ok = msg is not None
    if ok:
        payload = bytes.fromhex(msg.split()[2])
        ver, typ, zero, ms = struct.unpack("<BBHQ", payload)
        ok = len(payload) == 12 and (ver, typ, zero) == (1, 0x81, 0) and abs(ms / 1000 - t0) < 30
    check(ok, "device A receives TIME (version 1, type 0x81, now) after STATUS online")
    cloud.wait_for(lambda: cloud.api("GET", f"/v1/devices/{a}")[1].get("online"), "A online")
    rc, out, _ = cli("devices", "list")
    row = [line for line in out.splitlines() if line.startswith(a)]
    check(rc == 0 and row and "online" in row[0] and "2.1.3" in row[0], "bulwark devices list shows A online, kernel 2.1.3")
    rc, out, _ = cli("devices", "list", "--json")
    listed = {d["id"]: d for d in json.loads(out)["devices"]} if rc == 0 else {}
    check(listed.get(a, {}).get("online") is True and listed[a]["app_version"] == 7 and listed[a]["wake_reason"] == 4,
          "bulwark devices list --json: online, app version, wake reason")
    rc, out, _ = cli("devices", "show", a, "--json")
    check(rc == 0 and json.loads(out)["id"] == a, "bulwark devices show --json")

    # --- LOG: duplicate and gap ----------------------------------------------
    first = log(boot, 0, [b"line zero", b"line one", b"line two"])
    dev_a.pub(f"bw/{a}/up/log", first)
    dev_a.pub(f"bw/{a}/up/log", first)        # resent (no PUBACK seen by the device)
    dev_a.pub(f"bw/{a}/up/log", log(boot, 5, [b"line five", b"line six"]))   # 3 and 4 dropped on the device
    cloud.wait_for(lambda: len(cloud.api("GET", f"/v1/devices/{a}/logs")[1]["entries"]) == 6, "6 log entries")
    rc, out, _ = cli("logs", "--device", a)
    lines = out.splitlines()
    texts = [line.split("] ", 1)[1] for line in lines if "] " in line]
    check(rc == 0 and texts == ["line zero", "line one", "line two", "line five", "line six"],
          f"bulwark logs prints each line once, in order: {texts}")
    check(any("2 lines lost" in line and "3..4" in line for line in lines), "bulwark logs reports the 2 lost lines")
    rc, out, _ = cli("logs", "show", "--device", a, "--json")
    entries = [json.loads(line) for line in out.splitlines()] if rc == 0 else []
    check(len(entries) == 6 and sum(e.get("count", 0) for e in entries if e["kind"] == "lost") == 2,
          "bulwark logs --json: 5 lines + 1 lost entry of 2")
    check(cloud.api("GET", f"/v1/devices/{a}")[1]["lost_lines"] == 2, "the registry counts 2 lost lines")

    # --- --follow --------------------------------------------------------------
    follow = subprocess.Popen([bulwark, "logs", "--device", a, "--follow"], stdout=subprocess.PIPE, text=True, env=env)
    got = queue.Queue()
    threading.Thread(target=lambda: [got.put(line) for line in follow.stdout], daemon=True).start()

    def wait_line(needle, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if needle in got.get(timeout=deadline - time.monotonic()):
                    return True
            except queue.Empty:
                break
        return False
    seen_old = wait_line("line six")
    dev_a.pub(f"bw/{a}/up/log", log(boot, 7, [b"published while following"]))
    check(seen_old and wait_line("published while following"), "bulwark logs --follow prints a line published after it started")
    follow.kill()
    follow.wait()

    # --- CRASH -------------------------------------------------------------------
    rec = record(sequence=7, stack=struct.pack("<II", 0x80000205, 0x80000111))
    dev_a.pub(f"bw/{a}/up/crash", crash(boot, rec))
    dev_a.pub(f"bw/{a}/up/crash", crash(boot, rec))   # resent: kept once
    bad = bytearray(rec)
    bad[100] ^= 1                                      # CRC no longer matches: ignored
    dev_a.pub(f"bw/{a}/up/crash", crash(boot, bytes(bad)))
    cloud.wait_for(lambda: cloud.api("GET", "/v1/health")[1]["counters"]["bad_crash_records"] >= 1, "bad record counted")
    elf = os.path.join(cloud.work, "app.elf")
    with open(elf, "wb") as f:
        f.write(arm_elf())
    rc, out, err = cli("crashes", "--device", a, "--elf", elf, "--no-addr2line")
    p = subprocess.run([bulwark, "crash", "decode", "--elf", elf, "--no-addr2line", rec.hex()], capture_output=True, text=True)
    body = out.split("\n", 1)[1] if "\n" in out else ""
    check(rc == 0 and out.count("== ") == 1 and body == p.stdout and "func_a" in body,
          "bulwark crashes --elf: one record, decoded exactly as bulwark crash decode does")
    rc, out, _ = cli("crashes", "--device", a, "--json")
    check(rc == 0 and len(json.loads(out)["crashes"]) == 1, "bulwark crashes --json: one record")

    # --- ACL: A cannot read or write B's topics -------------------------------------
    b = cloud.new_device()
    dev_b = cloud.device(b)
    devices.append(dev_b)
    check(dev_b.expect("connected") == "connected 0", "device B connects")
    dev_b.sub(f"bw/{b}/down/#")
    b_boot = harness.random_id32()
    dev_b.pub(f"bw/{b}/up/status", status(1, b_boot, 1))
    check(dev_b.expect(f"msg bw/{b}/down/time") is not None, "B receives its TIME")
    # A asked for bw/+/down/#: the marker is A's own next TIME, which comes after B's.
    dev_a.pub(f"bw/{a}/up/status", status(1, boot, conn))
    before_marker = []
    while True:
        line = dev_a.expect("", timeout=10)
        if line is None or line.startswith(f"msg bw/{a}/down/time"):
            check(line is not None, "A's marker (its own TIME) arrives")
            break
        before_marker.append(line)
    check(not any(f"bw/{b}" in line for line in before_marker), "A never receives B's downlink")
    dev_a.pub(f"bw/{b}/up/log", log(b_boot, 0, [b"spoofed by A"]))
    dev_b.pub(f"bw/{b}/up/log", log(b_boot, 0, [b"marker from B"]))
    cloud.wait_for(lambda: cloud.api("GET", f"/v1/devices/{b}/logs")[1]["entries"], "B's marker stored")
    b_texts = [e.get("text") for e in cloud.api("GET", f"/v1/devices/{b}/logs")[1]["entries"]]
    check(b_texts == ["marker from B"], f"A's publish to B's uplink never arrives: {b_texts}")
    pem = os.path.join(cloud.fleet, f"{a}.crt")
    key = os.path.join(cloud.fleet, f"{a}.key")
    common = ["-h", "127.0.0.1", "-p", str(cloud.port), "--cafile", os.path.join(cloud.fleet, "ca.crt"),
              "--cert", pem, "--key", key, "-i", a + "-sub"]
    p = subprocess.run(["mosquitto_sub", *common, "-t", f"bw/{b}/up/#", "-C", "1", "-W", "3"], capture_output=True, text=True)
    check(p.returncode != 0 and p.stdout == "", "mosquitto_sub as A on B's uplink: nothing")

    # --- another CA: refused at the TLS handshake --------------------------------------
    other = harness.Device(cloud.sim, cloud.port, cloud.fleet, other_id)
    line = other.expect("", timeout=10)   # its first event: the connection failing, never a CONNACK
    check(line is not None and line.split()[0] in ("connect-failed", "disconnected"),
          f"a certificate from another CA: TLS handshake refused ({line})")
    other.close()
    p = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(cloud.port), "--cafile",
                        os.path.join(cloud.fleet, "ca.crt"), "--cert", os.path.join(cloud.fleet, f"{other_id}.crt"),
                        "--key", os.path.join(cloud.fleet, f"{other_id}.key"), "-t", f"bw/{other_id}/up/log", "-m", "x"],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode != 0, "mosquitto_pub with another CA's certificate fails")

    # --- will: kill -9 -> offline ---------------------------------------------------------
    dev_a.kill9()
    cloud.wait_for(lambda: cloud.api("GET", f"/v1/devices/{a}")[1]["online"] is False, "A offline after its will")
    rc, out, _ = cli("devices", "show", a)
    check(rc == 0 and "offline" in out, "kill -9 of A: the will marks it offline")

    # --- removal: the live connection ends, a new one gets nothing through ------------------
    rc, out, err = cli("devices", "remove", b)
    check(rc == 0, "bulwark devices remove B")
    check(dev_b.expect("disconnected", timeout=10) is not None, "removed B's live connection is closed by the broker")
    dev_b2 = cloud.device(b)
    devices.append(dev_b2)
    dev_b2.expect("connected")
    dev_b2.pub(f"bw/{b}/up/status", status(1, b_boot, 2), wait=False)
    check(dev_b2.expect("disconnected", timeout=10) is not None, "removed B reconnecting: disconnected on its first packet")
    code, _, _ = cloud.api("GET", f"/v1/devices/{b}")
    check(code == 404, "removed B: 404 from the API")
    rc, _, err = cli("devices", "show", b)
    check(rc == 1 and "HTTP 404" in err, "bulwark devices show of a removed device: exit 1, HTTP 404")


if __name__ == "__main__":
    sys.exit(main())
