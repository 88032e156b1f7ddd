#!/usr/bin/env python3
"""Apps' config and secrets, the cloud side (docs/API.md "Config and secrets",
docs/SPEC.md §17), with real parts: mosquitto with TLS, bulwarkd, SQLite,
the bulwark CLI, a simulated device (a real MQTT client).

Promises checked: `bulwark config set|get|list|delete` in the account scope
and a device scope (the device's value overrides the account's on get and
on fetch); `bulwark secrets set|list|delete` never shows a value and no
REST answer carries one (GET of a secret is 405); keys and values are
validated with clear errors; the secret's plaintext is not in the database
file (nor its WAL) while the sealing key file is 0600 next to it; a
CONFIG_REQUEST from the device is answered with the values, the decrypted
secret, KEYNOTFOUND for a missing key, RESPONSETOOLARGE past the device's
capacity, and a malformed request is ignored and counted.

usage: test_appconfig.py BULWARKD PLUGIN SIM_DEVICE BULWARK WORKDIR"""
import os
import shutil
import stat
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import harness  # noqa: E402
from harness import check, failures, status  # noqa: E402

SECRET = "s3cr3t-Plaintext-4f9a1c"
SCOPE_ACCOUNT, SCOPE_DEVICE = 0, 1
STORE_SECRET, STORE_CONFIG = 0, 1


def config_request(request_id, items, capacity=4096):
    """A one-piece CONFIG_REQUEST (§17.1, §17.2): items = [(scope, store, key)]."""
    table = b"".join(struct.pack("<BBH", sc, st, len(k)) for sc, st, k in items)
    stream = struct.pack("<BBHI", len(items), 0, 0, capacity) + table + b"".join(k for _, _, k in items)
    return struct.pack("<BBHIII", 1, 0x10, len(stream), request_id, 0, len(stream)) + stream


def read_response(dev, request_id):
    """Reassembles the CONFIG_RESPONSE stream for request_id: (result, [(item result, value)])."""
    stream = b""
    while True:
        line = dev.expect(f"msg bw/{dev.id}/down/config ")
        if line is None:
            return None
        p = bytes.fromhex(line.split()[2])
        ver, typ, length, rid, offset, total = struct.unpack_from("<BBHIII", p)
        assert ver == 1 and typ == 0x90 and rid == request_id and offset == len(stream), (ver, typ, rid, offset)
        stream += p[16:16 + length]
        if len(stream) == total:
            break
    result, count, zero, value_bytes = struct.unpack_from("<BBHI", stream)
    items, at = [], 8 + 4 * count
    for i in range(count):
        r, _, n = struct.unpack_from("<BBH", stream, 8 + 4 * i)
        items.append((r, stream[at:at + n]))
        at += n
    assert at == len(stream) == 8 + 4 * count + value_bytes
    return result, items


def main():
    bulwarkd, plugin, sim, bulwark, work = sys.argv[1:6]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cloud = harness.Cloud(work, bulwarkd, plugin, sim)
    env = dict(os.environ, BULWARK_SERVER=cloud.url, BULWARK_TOKEN=cloud.token, BULWARK_CONFIG="/dev/null")

    def cli(*args, stdin=None):
        p = subprocess.run([bulwark, *args], capture_output=True, text=True, timeout=30, env=env, input=stdin)
        return p.returncode, p.stdout, p.stderr

    devices = []
    try:
        run_checks(cloud, cli, devices, work)
    finally:
        for d in devices:
            d.close()
        cloud.stop()
    if failures:
        print(f"{len(failures)} failure(s); bulwarkd log: {work}/bulwarkd.log", file=sys.stderr)
        return 1
    return 0


def run_checks(cloud, cli, devices, work):
    dev = cloud.new_device()
    other = cloud.new_device()

    # --- CLI: config, account and device scope -----------------------------
    rc, out, err = cli("config", "set", "greeting", "hello from the account")
    check(rc == 0 and out == "set greeting for the account\n", f"config set (account): {rc} {out!r} {err!r}")
    rc, out, _ = cli("config", "set", "greeting", "hello, device", "--device", dev)
    check(rc == 0 and out == f"set greeting for {dev}\n", "config set --device")
    check(cli("config", "get", "greeting")[1] == "hello from the account\n", "config get: the account's value")
    check(cli("config", "get", "greeting", "--device", dev)[1] == "hello, device\n",
          "config get --device: the device's value overrides the account's")
    check(cli("config", "get", "greeting", "--device", other)[1] == "hello from the account\n",
          "config get --device (no override): the account's value")
    cli("config", "set", "interval", "30")
    check(cli("config", "list")[1] == "greeting=hello from the account\ninterval=30\n", "config list (account)")
    check(cli("config", "list", "--device", dev)[1] == "greeting=hello, device\n", "config list --device")
    rc, out, err = cli("config", "get", "nothere")
    check(rc == 1 and "no such key" in err and "HTTP 404" in err, f"config get of a missing key: {rc} {err!r}")

    # --- validation -----------------------------------------------------------
    rc, _, err = cli("config", "set", "bad key", "x")
    check(rc == 2 and "not a key" in err, "a key with a space: refused by the CLI")
    for key, value, code in [("k" * 101, "x", "bad_key"), ("ok", "x" * 4097, "bad_value"),
                             ("ok", "bell\x07", "bad_value"), ("a%2Fb", "x", "bad_key")]:
        c, body, _ = cloud.api("PUT", f"/v1/config/{key}", {"value": value})
        check(c == 400 and body["error"]["code"] == code, f"PUT config {key[:12]!r}: 400 {code} ({c} {body})")
    c, body, _ = cloud.api("PUT", "/v1/config/ok", {"value": "x" * 4096})
    check(c == 200, "a 4096-byte value is accepted")
    c, body, _ = cloud.api("PUT", "/v1/config/ok", {"value": 5})
    check(c == 400 and body["error"]["code"] == "bad_request", "a non-string value: 400")
    c, body, _ = cloud.api("PUT", "/v1/config/ok?device=" + harness.fleet.device_id(), {"value": "x"})
    check(c == 404, "a device scope of an unregistered device: 404")
    rc, _, err = cli("config", "list", "--device", "BW123")
    check(rc == 2 and "not a device ID" in err, "config list --device with a bad ID: exit 2")

    # --- secrets: write-only -------------------------------------------------
    rc, out, err = cli("secrets", "set", "api_token", stdin=SECRET + "\n")
    check(rc == 0 and SECRET not in out + err, f"secrets set from stdin: {rc} {out!r} {err!r}")
    rc, out, _ = cli("secrets", "set", "api_token", "device-" + SECRET, "--device", dev)
    check(rc == 0, "secrets set --device")
    rc, out, _ = cli("secrets", "list")
    check(rc == 0 and out == "api_token\n", f"secrets list: names only ({out!r})")
    rc, out, _ = cli("secrets", "list", "--json")
    check(rc == 0 and SECRET not in out and "value" not in out, "secrets list --json: no value")
    c, body, _ = cloud.api("GET", "/v1/secrets/api_token")
    check(c == 405 and SECRET not in str(body), f"GET of a secret: 405 ({c})")
    c, body, _ = cloud.api("GET", "/v1/secrets")
    check(c == 200 and SECRET not in str(body) and body["items"][0]["key"] == "api_token", "GET /v1/secrets")
    check(cli("secrets", "get", "api_token")[0] == 2, "there is no `secrets get`")

    # --- at rest: ciphertext only; the key file 0600 --------------------------
    subprocess.run(["sync"])
    raw = b""
    for name in os.listdir(work):
        if name.startswith("bulwarkd.db") and os.path.isfile(os.path.join(work, name)):
            raw += open(os.path.join(work, name), "rb").read()
    check(b"hello from the account" in raw, "(control) a config value is found in the database files")
    check(SECRET.encode() not in raw and b"4f9a1c" not in raw,
          "the secret's plaintext is in no database file (db, -wal, -shm)")
    key_file = os.path.join(work, "appconfig.key")
    st = os.stat(key_file)
    check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_size == 32, "appconfig.key: 32 bytes, mode 0600")

    # --- the fetch relay (§17) ------------------------------------------------
    d = cloud.device(dev)
    devices.append(d)
    check(d.expect("connected") is not None and d.sub(f"bw/{dev}/down/config") is not None, "device online")
    items = [(SCOPE_ACCOUNT, STORE_CONFIG, b"greeting"), (SCOPE_DEVICE, STORE_CONFIG, b"greeting"),
             (SCOPE_DEVICE, STORE_CONFIG, b"interval"), (SCOPE_ACCOUNT, STORE_SECRET, b"api_token"),
             (SCOPE_DEVICE, STORE_SECRET, b"api_token"), (SCOPE_ACCOUNT, STORE_CONFIG, b"missing")]
    d.pub(f"bw/{dev}/up/config", config_request(77, items))
    got = read_response(d, 77)
    want = (0, [(0, b"hello from the account"), (0, b"hello, device"), (0, b"30"), (0, SECRET.encode()),
                (0, b"device-" + SECRET.encode()), (1, b"")])
    check(got == want, f"fetch: account, device override, fallback, both secrets, KEYNOTFOUND ({got})")
    d.pub(f"bw/{dev}/up/config", config_request(78, items, capacity=40))
    check(read_response(d, 78) == (1, []), "fetch past the device's capacity: RESPONSETOOLARGE, head only")
    d.pub(f"bw/{dev}/up/config", config_request(79, [(SCOPE_ACCOUNT, STORE_CONFIG, b"ok")]))
    got = read_response(d, 79)
    check(got is not None and got[1][0] == (0, b"x" * 4096), "a 4096-byte value comes back in several pieces")
    bad = bytearray(config_request(80, [(SCOPE_ACCOUNT, STORE_CONFIG, b"greeting")]))
    bad[16] = 17   # 17 items claimed
    d.pub(f"bw/{dev}/up/config", bytes(bad))
    d.pub(f"bw/{dev}/up/config", config_request(81, [(2, STORE_CONFIG, b"greeting")]))
    cloud.wait_for(lambda: cloud.api("GET", "/v1/health")[1]["http"]["config"]["bad_request_ignored"] == 2,
                   "two malformed requests counted")
    check(d.expect(f"msg bw/{dev}/down/config ", timeout=0.5) is None, "a malformed request gets no answer")

    # --- delete ------------------------------------------------------------------
    check(cli("secrets", "delete", "api_token", "--device", dev)[0] == 0, "secrets delete --device")
    d.pub(f"bw/{dev}/up/config", config_request(82, [(SCOPE_DEVICE, STORE_SECRET, b"api_token")]))
    check(read_response(d, 82) == (0, [(0, SECRET.encode())]), "after the device's secret is deleted: the account's")
    check(cli("config", "delete", "greeting", "--device", dev)[0] == 0, "config delete --device")
    check(cli("config", "get", "greeting", "--device", dev)[1] == "hello from the account\n",
          "after delete: the account's value again")
    rc, _, err = cli("config", "delete", "greeting", "--device", dev)
    check(rc == 1 and "HTTP 404" in err, "deleting a key twice: 404")


if __name__ == "__main__":
    sys.exit(main())
