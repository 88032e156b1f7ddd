#!/usr/bin/env python3
"""End-to-end test of the cloud side of over-the-air updates (docs/SPEC.md §15,
docs/API.md /v1/apps, /v1/deployments) with real parts: mosquitto (TLS, ACL,
registry plugin), bulwarkd, the bulwark CLI, simulated devices speaking §15.

Promises checked: uploads of garbage, truncated, unsigned, wrongly signed,
unknown-key, unknown-board and tampered bundles are refused with their reason;
a key in FLEET/update-keys/ is trusted too; a layer shared by two bundles is
stored once; a new deployment sends DEPLOY with the bundle's head hash, size
and head length; FETCHes get the bundle's exact bytes at any offset and
length, an out-of-range or unknown deployment gets its status; UPDATE progress
and outcomes show in `bulwark deployments show --json` and `--watch`, which
follows installed to healthy (exit 0) or rolled back (exit 1, bytes kept) and
exits 1 at refused; DEPLOY is re-sent after STATUS online until installed and
not after; a trial's end reported with deployment ID 0 (rolled back, healthy)
is matched by app version; a new deployment supersedes the old one; malformed
FETCH/UPDATE are ignored and counted. Prints the upload time of a 256 KiB
bundle and the CHUNK rate to one device.

usage: test_ota.py BULWARKD PLUGIN SIM_DEVICE BULWARK WORKDIR"""
import hashlib
import json
import os
import queue
import random
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import status  # noqa: E402

SLOT = 0x80000000
CHUNK_MAX = 1792
from harness import check, failures  # noqa: E402


def elf(segments):
    """ELF32 LE ARM executable, one PT_LOAD per (address, bytes)."""
    data_at = 52 + 32 * len(segments)
    header = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + b"\0" * 9, 2, 40, 1, SLOT | 1, 52, 0,
                         0x05000200, 52, 32, len(segments), 40, 0, 0)
    phdrs, blob, offset = b"", b"", data_at
    for address, content in segments:
        phdrs += struct.pack("<8I", 1, offset, address, address, len(content), len(content), 5, 4)
        blob += content
        offset += len(content)
    return header + phdrs + blob


def fetch(dep, offset, length):
    return struct.pack("<BBHII", 1, 4, length, dep, offset)


def update(state, dep, version, held, size, text=b"", engine=0, manifest=0, cause=0):
    return struct.pack("<BBBBIIIIBBH", 1, 5, state, engine, dep, version, held, size, manifest, cause,
                       len(text)) + text


DOWNLOADING, DOWNLOADED, INSTALLING, INSTALLED, REFUSED, FAILED, ROLLED_BACK, WAITING, HEALTHY = range(1, 10)


def next_msg(dev, kind, timeout=10):
    """Payload of the next message on bw/D/down/<kind>, and the down-topics of those skipped."""
    skipped = []
    deadline = time.monotonic() + timeout
    prefix = f"msg bw/{dev.id}/down/"
    while time.monotonic() < deadline:
        try:
            line = dev.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        if line.startswith(prefix):
            topic, payload = line[4:].split(" ", 1) if " " in line[4:] else (line[4:], "")
            if topic == prefix[4:] + kind:
                return bytes.fromhex(payload), skipped
            skipped.append(topic.rsplit("/", 1)[1])
    return None, skipped


def chunk(dev, dep, offset, length):
    dev.send("pub bw/%s/up/fetch %s" % (dev.id, fetch(dep, offset, length).hex()))
    p, _ = next_msg(dev, "chunk")
    if p is None:
        return None
    ver, typ, st, _, d, o, n, _ = struct.unpack_from("<BBBBIIHH", p)
    return st, d, o, p[16:16 + n] if len(p) == 16 + n else None


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
        run_checks(cloud, cli, bulwark, env, devices, work)
    finally:
        for d in devices:
            d.close()
        cloud.stop()
    if failures:
        print(f"{len(failures)} failure(s); bulwarkd log: {cloud.work}/bulwarkd.log", file=sys.stderr)
        return 1
    print("all OTA cloud checks passed")
    return 0


def run_checks(cloud, cli, bulwark, env, devices, work):
    path = lambda n: os.path.join(work, n)  # noqa: E731
    # Keys: the fleet's update key, a second trusted one in update-keys/, a rogue one.
    for name in ("fleet/update", "second", "rogue"):
        subprocess.run([bulwark, "keys", "generate", "-o", path(name), "--force"], check=True, capture_output=True)
    os.makedirs(path("fleet/update-keys"))
    shutil.copy(path("second.pub"), path("fleet/update-keys/second.pub"))

    rng = random.Random(9)
    shared = bytes(rng.getrandbits(8) for _ in range(0x3000))
    layer_a = bytes(rng.getrandbits(8) for _ in range(0x2000))
    layer_b = bytes(rng.getrandbits(8) for _ in range(0x1800))

    def bundle(name, version, segments, key="fleet/update.key"):
        with open(path(name + ".elf"), "wb") as f:
            f.write(elf(segments))
        subprocess.run([bulwark, "bundle", "create", path(name + ".elf"), "--key", path(key), "--version",
                        str(version), "-o", path(name + ".bwb")], check=True, capture_output=True)
        return open(path(name + ".bwb"), "rb").read()

    a = bundle("a", 2, [(SLOT, shared), (SLOT + 0x10000, layer_a)])
    b = bundle("b", 3, [(SLOT, shared), (SLOT + 0x10000, layer_b)])
    c = bundle("c", 4, [(SLOT, layer_b)], key="second.key")
    rogue = bundle("rogue", 5, [(SLOT, layer_a)], key="rogue.key")
    big = bundle("big", 6, [(SLOT, bytes(rng.getrandbits(8) for _ in range(256 * 1024 - 256)))])
    m = struct.unpack_from("<I", a, 8)[0]
    head = 100 + m

    # ---- upload refusals ----
    def refused(data, code, words, what):
        st, body, _ = cloud.api("POST", "/v1/apps", raw=data, content_type="application/octet-stream")
        err = body.get("error", {}) if isinstance(body, dict) else {}
        check(400 <= st < 500 and err.get("code") == code and words in err.get("message", ""),
              f"upload refused: {what} -> {st} {code} ({err.get('message')})")

    tampered = bytearray(a)
    tampered[-1] ^= 1
    unsigned = bytearray(a)
    unsigned[24 + m:head] = bytes(76)
    bad_sig = bytearray(a)
    bad_sig[head - 1] ^= 1
    board = bytearray(a)
    struct.pack_into("<H", board, 24 + 16, 99)
    refused(b"not a bundle at all " * 20, "bad_bundle", "", "garbage")
    refused(a[:-100], "truncated", "", "truncated")
    refused(bytes(unsigned), "unsigned", "", "unsigned (zero signature block)")
    refused(bytes(bad_sig), "bad_signature", "", "signature does not verify")
    refused(rogue, "unknown_key", "", "signed by a key the fleet does not trust")
    refused(bytes(board), "unknown_board", "board", "unknown board")
    refused(bytes(tampered), "bad_content", "layer", "a layer's bytes altered")
    st, body, _ = cloud.api("POST", "/v1/apps", raw=a, content_type="text/plain")
    check(st == 415, f"upload as text/plain -> 415 ({st})")
    with open(path("rogue_cli.bwb"), "wb") as f:
        f.write(rogue)
    rc, out, err = cli("apps", "upload", path("rogue_cli.bwb"), "--json")
    check(rc == 1 and "key" in err and out == "", f"CLI upload of a rogue bundle: exit 1 with the reason ({err.strip()})")

    # ---- uploads and dedup ----
    rc, out, err = cli("apps", "upload", path("a.bwb"), "--json")
    app_a = json.loads(out) if rc == 0 else {}
    check(rc == 0 and app_a.get("size") == len(a) and app_a.get("app_version") == 2
          and app_a.get("head_hash") == hashlib.sha256(a[:head]).hexdigest() and app_a.get("head_length") == head,
          f"CLI upload of a.bwb: app {app_a.get('id')}, size, version and head hash right")
    rc, out, _ = cli("apps", "upload", path("b.bwb"), "--json")
    app_b = json.loads(out) if rc == 0 else {}
    rc, out, _ = cli("apps", "upload", path("c.bwb"), "--json")
    app_c = json.loads(out) if rc == 0 else {}
    check(rc == 0 and app_c.get("key_id"), "a bundle signed by the key in update-keys/ is accepted")
    blobs = sorted(n for n in os.listdir(path("bulwarkd.db.blobs")) if ".tmp." not in n)
    want = {hashlib.sha256(x).hexdigest() for x in (a[:head], b[:head], c[:struct.unpack_from("<I", c, 8)[0] + 100],
                                                    shared, layer_a, layer_b)}
    check(set(blobs) == want and len(blobs) == 6,
          f"blob store: 3 heads + 3 distinct layers = 6 files, the shared layer once ({len(blobs)})")
    check(app_a.get("layers", [{}])[0].get("hash") == app_b.get("layers", [{}])[0].get("hash")
          == hashlib.sha256(shared).hexdigest(), "apps a and b name the same first layer")
    for h in blobs:
        data = open(os.path.join(path("bulwarkd.db.blobs"), h), "rb").read()
        if hashlib.sha256(data).hexdigest() != h:
            check(False, f"blob {h} holds the bytes its name hashes")
    st, again, _ = cloud.api("POST", "/v1/apps", raw=a, content_type="application/octet-stream")
    check(st == 200 and again.get("id") == app_a.get("id"), f"the same bundle again: 200, same app ({st})")
    rc, out, _ = cli("apps", "list", "--json")
    check(rc == 0 and len(out.splitlines()) == 3, "apps list: 3 apps")
    rc, out, _ = cli("apps", "show", str(app_b.get("id")))
    check(rc == 0 and "version 3" in out and "layer 1" in out, "apps show prints the app and its layers")
    t0 = time.monotonic()
    rc, out, _ = cli("apps", "upload", path("big.bwb"), "--json")
    upload_s = time.monotonic() - t0
    check(rc == 0 and json.loads(out)["size"] == len(big), f"upload of a {len(big)} B bundle in {upload_s * 1000:.0f} ms")

    # ---- deploy ----
    d1_id = cloud.new_device()
    d1 = cloud.device(d1_id)
    devices.append(d1)
    check(d1.expect("connected") is not None and d1.sub(f"bw/{d1_id}/down/#") is not None, "device 1 online")
    d1.pub(f"bw/{d1_id}/up/status", status(1, 11, 21, app=1))
    next_msg(d1, "time")
    rc, out, err = cli("deploy", "--app", str(app_a["id"]), "--device", d1_id, "--json")
    dep = json.loads(out) if rc == 0 else {}
    dep_id = dep.get("id", 0)
    check(rc == 0 and dep_id >= 1 and dep.get("state") == "pending", f"deploy: deployment {dep_id} pending ({err})")
    p, _ = next_msg(d1, "deploy")
    want_deploy = struct.pack("<BBHIIII", 1, 0x82, 0, dep_id, 2, len(a), head) + hashlib.sha256(a[:head]).digest()
    check(p == want_deploy, "DEPLOY: deployment ID, app version, size, head length and head hash")

    # ---- FETCH / CHUNK ----
    first_layer = head + len(shared)
    for off, n in ((0, CHUNK_MAX), (head - 10, 100), (first_layer - 1, 2), (first_layer, CHUNK_MAX),
                   (len(a) - 5, 5), (1000, 1), (head, 1)):
        r = chunk(d1, dep_id, off, n)
        check(r is not None and r[0] == 0 and r[1] == dep_id and r[2] == off and r[3] == a[off:off + n],
              f"FETCH {off}+{n}: CHUNK with the bundle's bytes")
    r = chunk(d1, dep_id, len(a) - 5, 6)
    check(r is not None and r[0] == 2 and r[3] == b"", "FETCH past the end: status 2, no bytes")
    r = chunk(d1, dep_id + 100, 0, 16)
    check(r is not None and r[0] == 1, "FETCH for an unknown deployment: status 1")

    # ---- UPDATE progress, DEPLOY again while not final ----
    d1.pub(f"bw/{d1_id}/up/update", update(DOWNLOADING, dep_id, 2, 3584, len(a)))
    cloud.wait_for(lambda: cloud.api("GET", f"/v1/deployments/{dep_id}")[1].get("state") == "downloading",
                   "downloading")
    rc, out, _ = cli("deployments", "show", str(dep_id), "--json")
    shown = json.loads(out) if rc == 0 else {}
    check(shown.get("state") == "downloading" and shown.get("bytes") == 3584 and shown.get("size") == len(a),
          "deployments show --json: downloading, bytes held and size")
    d1.pub(f"bw/{d1_id}/up/status", status(1, 11, 22, app=1))
    p, _ = next_msg(d1, "deploy")
    check(p == want_deploy, "STATUS online while downloading: DEPLOY sent again")
    watch = subprocess.Popen([bulwark, "deployments", "show", str(dep_id), "--watch", "--json"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = watch.stdout.readline()   # the state when it started
    for st_, held in ((DOWNLOADED, len(a)), (INSTALLING, len(a)), (INSTALLED, len(a))):
        d1.pub(f"bw/{d1_id}/up/update", update(st_, dep_id, 2, held, len(a)))
    cloud.wait_for(lambda: cloud.api("GET", f"/v1/deployments/{dep_id}")[1].get("state") == "installed",
                   "installed")
    d1.pub(f"bw/{d1_id}/up/status", status(1, 12, 23, app=2))
    r = chunk(d1, dep_id, 0, 8)   # barrier: bulwarkd handled the STATUS before this FETCH
    _, skipped = next_msg(d1, "none", timeout=0.3)
    check(r is not None and "deploy" not in skipped, "STATUS online after installed: no DEPLOY")
    check(watch.poll() is None, "--watch goes on while the new app is on trial (installed)")
    d1.pub(f"bw/{d1_id}/up/update", update(DOWNLOADING, dep_id, 2, 10, len(a)))
    d1.pub(f"bw/{d1_id}/up/update", update(HEALTHY, dep_id, 2, len(a), len(a), b"trial over"))
    try:
        rest, _ = watch.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        watch.kill()
        rest, _ = watch.communicate()
    states = [json.loads(x)["state"] for x in (first + rest).splitlines() if x.strip()]
    check(watch.returncode == 0 and states[0] == "downloading" and "installed" in states
          and states[-1] == "healthy" and "downloading" not in states[1:],
          f"--watch follows through installed to healthy and exits 0; a late report changes nothing"
          f" ({states}, exit {watch.returncode})")
    rc, out, _ = cli("deployments", "show", str(dep_id), "--watch")
    check(rc == 0 and "healthy" in out, "--watch on a healthy deployment: exit 0 at once")

    # ---- refused: exit 1, not offered again; a later deployment supersedes ----
    d2_id = cloud.new_device()
    d2 = cloud.device(d2_id)
    devices.append(d2)
    check(d2.expect("connected") is not None and d2.sub(f"bw/{d2_id}/down/#") is not None, "device 2 online")
    rc, out, _ = cli("deploy", "--app", str(app_b["id"]), "--device", d2_id, "--json")
    old = json.loads(out)["id"] if rc == 0 else 0
    next_msg(d2, "deploy")
    rc, out, _ = cli("deploy", "--app", str(app_c["id"]), "--device", d2_id, "--json")
    dep2 = json.loads(out)["id"] if rc == 0 else 0
    p, _ = next_msg(d2, "deploy")
    check(p is not None and struct.unpack_from("<I", p, 4)[0] == dep2, "second deployment: DEPLOY with its ID")
    check(cloud.api("GET", f"/v1/deployments/{old}")[1].get("state") == "superseded", "the first is superseded")
    r = chunk(d2, old, 0, 16)
    check(r is not None and r[0] == 1, "FETCH for the superseded deployment: status 1")
    reason = b"signature does not verify with key 0123456789abcdef"
    d2.pub(f"bw/{d2_id}/up/update", update(REFUSED, dep2, 4, 0, len(c), reason, engine=1, manifest=36))
    rc, out, _ = cli("deployments", "show", str(dep2), "--watch", "--json")
    shown = json.loads(out.splitlines()[-1]) if out.strip() else {}
    check(rc == 1 and shown.get("state") == "refused" and shown.get("reason") == reason.decode()
          and shown.get("manifest_error") == 36 and shown.get("engine_error") == 1,
          f"refused: --watch exits 1, reason and error codes shown (exit {rc})")
    d2.pub(f"bw/{d2_id}/up/status", status(1, 31, 41, app=1))
    r = chunk(d2, dep2, 0, 8)
    _, skipped = next_msg(d2, "none", timeout=0.3)
    check("deploy" not in skipped, "STATUS online after refused: no DEPLOY")
    rc, out, _ = cli("deployments", "list", "--device", d2_id)
    check(rc == 0 and len(out.splitlines()) == 2 and "refused" in out and "superseded" in out,
          "deployments list --device: both, refused and superseded")

    # ---- rolled back, reported with deployment ID 0 after a restart ----
    d3_id = cloud.new_device()
    d3 = cloud.device(d3_id)
    devices.append(d3)
    check(d3.expect("connected") is not None and d3.sub(f"bw/{d3_id}/down/#") is not None, "device 3 online")
    rc, out, _ = cli("deploy", "--app", str(app_a["id"]), "--device", d3_id, "--json")
    dep3 = json.loads(out)["id"] if rc == 0 else 0
    d3.pub(f"bw/{d3_id}/up/update", update(INSTALLED, dep3, 2, len(a), len(a)))
    d3.pub(f"bw/{d3_id}/up/update", update(ROLLED_BACK, 0, 2, 0, 0, b"crash loop: HardFault at 0x80000123",
                                           cause=1))
    cloud.wait_for(lambda: cloud.api("GET", f"/v1/deployments/{dep3}")[1].get("final"), "deployment 3 final")
    rc, out, _ = cli("deployments", "show", str(dep3), "--json")
    shown = json.loads(out) if rc == 0 else {}
    check(shown.get("state") == "rolled_back" and shown.get("rollback_cause") == 1 and "HardFault" in shown.get("reason", "")
          and shown.get("bytes") == len(a),
          f"rollback with deployment ID 0 matched by app version, bytes kept ({shown})")
    rc, _, _ = cli("deployments", "show", str(dep3), "--watch")
    check(rc == 1, f"--watch on a rolled-back deployment: exit 1 ({rc})")
    d3.pub(f"bw/{d3_id}/up/status", status(1, 51, 61, app=1))
    r = chunk(d3, dep3, 0, 8)
    _, skipped = next_msg(d3, "none", timeout=0.3)
    check("deploy" not in skipped, "STATUS online after rolled back: no DEPLOY")
    d3.pub(f"bw/{d3_id}/up/update", update(DOWNLOADING, dep3, 2, 10, len(a)))
    check(cloud.api("GET", f"/v1/deployments/{dep3}")[1].get("state") == "rolled_back",
          "a late progress report does not reopen a final deployment")

    # ---- malformed FETCH / UPDATE: ignored, counted ----
    before = cloud.api("GET", "/v1/health")[1]["ota"]
    bad_fetches = [fetch(dep_id, 0, 0), fetch(dep_id, 0, CHUNK_MAX + 1), fetch(dep_id, 0, 16)[:11],
                   fetch(dep_id, 0, 16) + b"\0", b"\x02\x04" + fetch(dep_id, 0, 16)[2:]]
    bad_updates = [update(HEALTHY + 1, dep_id, 2, 0, 1), update(DOWNLOADING, dep_id, 2, 5, 4),
                   update(REFUSED, dep_id, 2, 0, 1, b"bad\x01text"), update(REFUSED, dep_id, 2, 0, 1, b"x" * 201),
                   update(REFUSED, dep_id, 2, 0, 1, b"abc")[:-1], update(REFUSED, dep_id, 2, 0, 1, cause=3),
                   update(REFUSED, dep_id, 2, 0, 1, "é".encode())]
    for p in bad_fetches:
        d1.pub(f"bw/{d1_id}/up/fetch", p)
    for p in bad_updates:
        d1.pub(f"bw/{d1_id}/up/update", p)
    r = chunk(d1, dep_id, 0, 8)   # barrier
    after = cloud.api("GET", "/v1/health")[1]["ota"]
    check(after["bad_fetch_ignored"] - before["bad_fetch_ignored"] == len(bad_fetches)
          and after["bad_update_ignored"] - before["bad_update_ignored"] == len(bad_updates),
          f"malformed FETCH ({len(bad_fetches)}) and UPDATE ({len(bad_updates)}) counted: {after}")
    check(cloud.api("GET", f"/v1/deployments/{dep_id}")[1].get("state") == "healthy",
          "malformed UPDATEs changed nothing")

    # ---- CHUNK serving rate to one device (FETCHes pipelined) ----
    n = 3000
    cpu0 = cpu_seconds(cloud.bulwarkd.pid)
    t0 = time.monotonic()
    for i in range(n):
        off = (i * CHUNK_MAX) % (len(a) - CHUNK_MAX)
        d1.send("pub bw/%s/up/fetch %s" % (d1_id, fetch(dep_id, off, CHUNK_MAX).hex()))
    got = 0
    while got < n:
        p, _ = next_msg(d1, "chunk")
        if p is None:
            break
        got += 1
    dt = time.monotonic() - t0
    cpu = cpu_seconds(cloud.bulwarkd.pid) - cpu0
    check(got == n, f"{got}/{n} CHUNKs of {CHUNK_MAX} B in {dt:.2f} s: {got / dt:.0f} chunks/s, "
                    f"{got * CHUNK_MAX / dt / 1024:.0f} KiB/s (sim device and test driver included); "
                    f"bulwarkd CPU {cpu * 1e6 / max(got, 1):.0f} us per chunk")


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main())
