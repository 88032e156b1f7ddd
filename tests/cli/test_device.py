#!/usr/bin/env python3
"""Host-side tests of `bulwark device deliver` and `status` (docs/SPEC.md §9)
against a fake device written here from the spec (no QEMU).

Promises checked: bad usage exits 2 before anything listens; with no device
the command exits 3 after --timeout; deliver sends the head in order, BEGIN
with its length, DATA from the offset BEGIN names (a resume), follows a NACK
that names another offset, waits while the device's app is on trial, resends
a request whose answer does not come and ignores stale answers and line
noise, then FINISH and INSTALL, exit 0; the device's refusal is printed with
its reason and exits 1; a connection lost mid-transfer exits 3; a device that
already runs the version gets nothing, exit 0; `status` prints what STATUS says.

Usage: test_device.py <path to bulwark> <scratch directory>
"""
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

BULWARK = os.path.abspath(sys.argv[1])
WORK = os.path.abspath(sys.argv[2])
END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD
HELLO, HEAD, BEGIN, DATA, FINISH, INSTALL = 1, 2, 3, 4, 5, 6
ACK, STATUS, NACK = 0x80, 0x81, 0x82
E_OFFSET, E_ON_TRIAL = 6, 4   # bw_update_error: ..., E_ON_TRIAL = 4, E_NO_DOWNLOAD = 5, E_OFFSET = 6

failures = []
passed = 0


def case(fn):
    global passed
    try:
        fn()
        passed += 1
        print(f"ok   {fn.__name__}")
    except AssertionError as e:
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def frame(ftype, seq, payload=b""):
    body = struct.pack("<BBHH", ftype, 1, seq, len(payload)) + payload
    body += struct.pack("<I", zlib.crc32(body))
    out = bytearray([END])
    for b in body:
        out += bytes([ESC, ESC_END]) if b == END else bytes([ESC, ESC_ESC]) if b == ESC else bytes([b])
    return bytes(out) + bytes([END])


def status_payload(app_version=1, op=0, flags=4):
    p = struct.pack("<BBBBIIIIIHH", 1, op, flags, 0, app_version, app_version, 0, 0,
                    (0 << 24) | (1 << 16), 512, 0)
    return p + b"BW" + b"AB" * 16 + b"\0\0"


class FakeDevice:
    """Connects to deliver's port and answers from a script (a function per request)."""

    def __init__(self, port, handler):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.handler = handler
        self.requests = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        buf = bytearray()
        try:
            while True:
                data = self.sock.recv(4096)
                if not data:
                    return
                buf += data
                while END in buf:
                    raw, _, rest = bytes(buf).partition(bytes([END]))
                    buf = bytearray(rest)
                    body = raw.replace(bytes([ESC, ESC_END]), b"\xc0").replace(bytes([ESC, ESC_ESC]), b"\xdb")
                    if len(body) < 10 or zlib.crc32(body[:-4]) != struct.unpack_from("<I", body, len(body) - 4)[0]:
                        continue
                    ftype, _v, seq, length = struct.unpack_from("<BBHH", body)
                    payload = body[6:6 + length]
                    self.requests.append((ftype, seq, payload))
                    answer = self.handler(self, ftype, seq, payload)
                    if answer is None:
                        continue
                    if answer == "close":
                        self.sock.close()
                        return
                    self.sock.sendall(answer)
        except OSError:
            return


def start_deliver(args):
    p = subprocess.Popen([BULWARK, "device", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=WORK)
    line = p.stdout.readline()
    while line and not line.startswith("listening on"):
        line = p.stdout.readline()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    assert m, f"no listening line: {line!r}"
    return p, int(m.group(1))


def finish(p, timeout=30):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def make_bundle(name, head=300, layers=5000, version=7):
    data = bytearray(os.urandom(head + layers))
    struct.pack_into("<IHHIII", data, 0, 0x4E425742, 1, 24, head - 100, 76, head + layers)
    struct.pack_into("<I", data, 24 + 8, version)
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path, bytes(data)


def ack(seq, value, op=1):
    return frame(ACK, seq, struct.pack("<IB3x", value, op))


def nack(seq, code, text, engine=0, value=0):
    return frame(NACK, seq, struct.pack("<BBBBI", code, engine, 0, 0, value) + text.encode())


os.makedirs(WORK, exist_ok=True)


@case
def usage_errors_exit_2():
    path, _ = make_bundle("u.bwb")
    for args, text in [(["deliver", path], "--listen HOST:PORT is required"),
                       (["deliver", "--listen", "127.0.0.1:0"], "give one bundle file"),
                       (["deliver", path, "--listen", "nowhere"], "--listen needs HOST:PORT"),
                       (["deliver", path, "--listen", "127.0.0.1:99999"], "--listen needs HOST:PORT"),
                       (["deliver", path, "--listen", "127.0.0.1:0", "--timeout", "0"], "--timeout needs"),
                       (["deliver", "missing.bwb", "--listen", "127.0.0.1:0"], "missing.bwb"),
                       (["status", "--listen", "127.0.0.1:0", "--no-install"], "unknown option")]:
        p = subprocess.run([BULWARK, "device", *args], capture_output=True, text=True, cwd=WORK)
        assert p.returncode == 2 and text in p.stderr, (args, p.returncode, p.stderr)


@case
def no_device_exits_3():
    path, _ = make_bundle("n.bwb")
    start = time.monotonic()
    p, _port = start_deliver(["deliver", path, "--listen", "127.0.0.1:0", "--timeout", "1"])
    code, _out, err = finish(p)
    assert code == 3 and "no device connected within 1 s" in err, (code, err)
    assert time.monotonic() - start < 10


@case
def resume_offsets_trial_resend_and_install():
    path, data = make_bundle("r.bwb", head=300, layers=3000)
    got = bytearray(len(data))
    state = {"trial": 1, "dropped": False, "jumped": False, "head": bytearray()}

    def handler(dev, ftype, seq, payload):
        if ftype == HELLO:
            return frame(STATUS, seq, status_payload(app_version=6, op=1, flags=6))
        if ftype == HEAD:
            off = struct.unpack_from("<I", payload)[0]
            assert off == len(state["head"])
            state["head"] += payload[4:]
            return b"\x55\xc0" + ack(seq - 1, 0) + ack(seq, len(state["head"]))  # noise, stale answer
        if ftype == BEGIN:
            assert struct.unpack("<I", payload)[0] == 300 and bytes(state["head"]) == data[:300]
            state["head"] = bytearray()
            if state["trial"]:
                state["trial"] -= 1
                return nack(seq, 5, "the running app has not yet proved healthy", E_ON_TRIAL)
            return ack(seq, 1300)                  # resume: the device holds up to 1300
        if ftype == DATA:
            off = struct.unpack_from("<I", payload)[0]
            got[off:off + len(payload) - 4] = payload[4:]
            if off == 1812 and not state["dropped"]:
                state["dropped"] = True           # no answer: the host must resend
                return None
            if off == 2324 and not state["jumped"]:
                state["jumped"] = True
                return nack(seq, 5, "data not at the expected offset (expected 2000)", E_OFFSET, 2000)
            return ack(seq, off + len(payload) - 4)
        if ftype == FINISH:
            return ack(seq, len(data), 2)
        if ftype == INSTALL:
            return ack(seq, 7, 0)
        raise AssertionError(f"unexpected request {ftype}")

    p, port = start_deliver(["deliver", path, "--listen", "127.0.0.1:0", "--timeout", "10"])
    dev = FakeDevice(port, handler)
    code, out, err = finish(p, 60)
    assert code == 0, (code, out, err)
    assert "resuming at offset 1300 of 3300" in out, out
    assert "the device's app is on trial" in out, out
    assert "installed: the device now runs app version 7" in out, out
    assert bytes(got[1300:]) == data[1300:], "DATA bytes differ from the bundle's"
    offsets = [struct.unpack_from("<I", p_)[0] for t, _s, p_ in dev.requests if t == DATA]
    assert offsets[0] == 1300 and offsets.count(1812) == 2 and 2000 in offsets, offsets
    types = [t for t, _s, _p in dev.requests]
    assert types[-2:] == [FINISH, INSTALL], types


@case
def refusal_is_printed_and_exits_1():
    path, _ = make_bundle("x.bwb")

    def handler(dev, ftype, seq, payload):
        if ftype == HELLO:
            return frame(STATUS, seq, status_payload())
        if ftype == HEAD:
            return ack(seq, 0)
        return nack(seq, 5, "bad signature: the manifest does not verify with key id 0011223344556677")

    p, port = start_deliver(["deliver", path, "--listen", "127.0.0.1:0", "--timeout", "5"])
    FakeDevice(port, handler)
    code, _out, err = finish(p)
    assert code == 1, (code, err)
    assert "the device refused the bundle: bad signature: the manifest does not verify" in err, err


@case
def connection_lost_exits_3():
    path, _ = make_bundle("c.bwb")

    def handler(dev, ftype, seq, payload):
        if ftype == HELLO:
            return frame(STATUS, seq, status_payload())
        if ftype in (HEAD, BEGIN):
            return ack(seq, 300 if ftype == BEGIN else 0)
        return "close"

    p, port = start_deliver(["deliver", path, "--listen", "127.0.0.1:0", "--timeout", "5"])
    FakeDevice(port, handler)
    code, _out, err = finish(p)
    assert code == 3 and "connection lost during DATA" in err, (code, err)


def real_bundle(name, version):
    """A bundle `bulwark bundle create` makes from a one-segment app ELF."""
    app = bytes((i * 7 + 3) & 0xFF for i in range(2048))
    ehdr = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + b"\0" * 9, 2, 40, 1,
                       0x80000001, 52, 0, 0x05000200, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<8I", 1, 84, 0x80000000, 0x80000000, len(app), len(app), 5, 4)
    with open(os.path.join(WORK, "app.elf"), "wb") as f:
        f.write(ehdr + phdr + app)
    subprocess.run([BULWARK, "keys", "generate", "-o", "k", "--force"], cwd=WORK, check=True,
                   capture_output=True)
    subprocess.run([BULWARK, "bundle", "create", "app.elf", "--key", "k.key", "--version",
                    str(version), "-o", name], cwd=WORK, check=True, capture_output=True)
    return os.path.join(WORK, name)


@case
def already_installed_and_status():
    path = real_bundle("a.bwb", 9)

    def handler(dev, ftype, seq, payload):
        assert ftype == HELLO, ftype
        return frame(STATUS, seq, status_payload(app_version=9))

    p, port = start_deliver(["deliver", path, "--listen", "127.0.0.1:0", "--timeout", "5"])
    dev = FakeDevice(port, handler)
    code, out, err = finish(p)
    assert code == 0 and "already runs app version 9" in out, (code, out, err)
    assert [t for t, _s, _p in dev.requests] == [HELLO]
    p, port = start_deliver(["status", "--listen", "127.0.0.1:0", "--timeout", "5"])
    FakeDevice(port, handler)
    code, out, err = finish(p)
    assert code == 0 and "device BW" + "AB" * 16 + ": kernel 0.1.0, app version 9, update engine idle" in out, (out, err)


print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
