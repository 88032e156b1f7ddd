#!/usr/bin/env python3
"""Local delivery of update bundles on QEMU (docs/SPEC.md §9), end to end:
`bulwark device deliver` on the host, the kernel's link service and update
engine on the device, connected through QEMU's UART2 socket.

--scenario deliver: a device provisioned with app A (version 1) and the
  trusted key receives a signed bundle of app B (version 2): B runs with wake
  reason APPLICATIONUPDATE (9), the kernel logs each step, `bundle inspect`
  prints the manifest. Then a delivery of a larger bundle is cut (the host
  side is killed mid-transfer) and a second run resumes where the device's
  journal says, not from the start. Last, a device whose app slot is empty
  (the kernel idles) receives B and runs it.
--scenario reject: bad input, each refused with its own reason in the NACK
  (printed by deliver, which exits 1) and in the kernel log, while app A keeps
  running (its heartbeat goes on, it is never restarted): truncated bundles,
  bad signature, unknown key, tampered layer, layer outside its region,
  overlapping layers, older versions, absurd sizes, a garbage file, and
  garbage and malformed frames on the link itself (this script speaks the
  frame format, an independent implementation of the spec). Then a good
  bundle installs and an older one is refused on the new app too; a device
  provisioned without a trusted key refuses bundles as "updates unavailable".
--scenario rollback: a delivered app that crashes at every start is rolled
  back after 3 crashes to the provisioned app, which reads the rollback cause
  and the crash that made the loop through Bulwark's extension calls.
--scenario reset-rollback: the kernel counts a chip reset while the app runs
  as a crash of that app (docs/DESIGN.md "Crash supervision"). A delivered app
  B (version 500: it never confirms itself healthy, so it stays on trial) is
  first cut by a power cut (kill -9 of QEMU): that is not a crash, B starts
  again on trial. Then the chip is reset under it from the host each time B is
  seen running (QEMU's `system_reset`, as a reset pin or a kernel reset would):
  each boot records a crash of class kernel-reset with the count carried
  across the reset, the second holds B's start back by its backoff, and the
  third makes a crash loop: the kernel rolls back to the provisioned app A,
  which reads the cause (crash loop), the crash (B's version, class 13
  kernel-reset, loop action rolled back) and keeps running; the link answers.
--scenario reset-park: the same reset loop on the provisioned app itself
  (version 500, nothing to roll back to): the kernel parks it (its start held
  back by the maximum backoff, 30 s) and stays reachable meanwhile: `bulwark
  device status` answers over the link, and a good app delivered during the
  wait installs and runs.
--scenario irq-park (needs --app-park, the app qt-update-park-irq): an app
  whose initial stack pointer is 64 bytes above the base of app RAM crashes
  inside its own interrupt handler; the kernel has no room to end that
  interrupt below the app's stack, so it parks the app from its PendSV path
  (issue 15 item 8) and stays reachable: `bulwark device status` answers over
  the link, and app A version 2 delivered then installs and runs.
--scenario freertos (needs --app-f, the FreeRTOS app freertos-update): a
  device running app A receives FreeRTOS app F version 2, which starts with
  wake reason 9, passes its checks (scheduler, tasks, timers at a 10 kHz
  tick, a notification center, server logging) and confirms itself healthy;
  then F version 3 is installed while F 2 runs busy with its SysTick on (the
  leftover tick the SDK's guard drops): it comes up the same, with the same
  free heap, and the kernel logs no crash.

Prints `PASS <name>` and exits 0, or the failed check with log tails and exits
1; exits 77 (skip) without the host CLI. Python 3 standard library only.
"""

import argparse
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time
import zlib

from update_harness import (run_scenario, Delivery, Device, Failure, Link, Tools, add_common_args, elf_with,
                            app_image, APP_SLOT)

SLOT_SIZE = 0x100000
MANIFEST_AT = 24
LAYER_TABLE_AT = MANIFEST_AT + 116 + 40   # one region
APP_STARTED = r"update-app: {name} version {version} started, wake reason {reason}$"


def log(text):
    print(text, flush=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def patched(data, offset, fmt, value):
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def heartbeat_after(device, name, what, timeout=5):
    """The app's heartbeat continues: a new beat after the log's current end."""
    start = len(device.app_text())
    device.wait_for("app", rf"update-app: {name} version \d+ heartbeat \d+$", timeout, start)


# ---- the link's frames, written from docs/SPEC.md §9 ----

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD
HELLO, HEAD, BEGIN, DATA, FINISH, INSTALL = 1, 2, 3, 4, 5, 6
ACK, STATUS, NACK = 0x80, 0x81, 0x82


def escape(body):
    out = bytearray()
    for b in body:
        if b == END:
            out += bytes([ESC, ESC_END])
        elif b == ESC:
            out += bytes([ESC, ESC_ESC])
        else:
            out.append(b)
    return bytes(out)


def frame(ftype, seq, payload=b"", version=1, length=None, crc=None):
    body = struct.pack("<BBHH", ftype, version, seq, len(payload) if length is None else length)
    body += payload
    body += struct.pack("<I", zlib.crc32(body) if crc is None else crc)
    return bytes([END]) + escape(body) + bytes([END])


class FrameReader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.frames = []

    def _parse(self):
        while END in self.buf:
            raw, _, rest = bytes(self.buf).partition(bytes([END]))
            self.buf = bytearray(rest)
            body = raw.replace(bytes([ESC, ESC_END]), b"\xc0").replace(bytes([ESC, ESC_ESC]), b"\xdb")
            if len(body) < 10 or struct.unpack_from("<I", body, len(body) - 4)[0] != zlib.crc32(body[:-4]):
                continue
            ftype, version, seq, length = struct.unpack_from("<BBHH", body)
            if version == 1 and length == len(body) - 10:
                self.frames.append((ftype, seq, body[6:-4]))

    def next(self, timeout=5):
        end = time.monotonic() + timeout
        while not self.frames:
            left = end - time.monotonic()
            if left <= 0:
                raise Failure("no answer from the device on the link")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            if not data:
                raise Failure("the device closed the link")
            self.buf += data
            self._parse()
        return self.frames.pop(0)


def expect_nack(reader, seq, code, text):
    ftype, got_seq, payload = reader.next()
    if ftype != NACK or got_seq != seq or payload[0] != code or text.encode() not in payload[8:]:
        raise Failure(f"expected NACK seq {seq:#x} code {code} /{text}/, got type {ftype:#x} "
                      f"seq {got_seq:#x} payload {payload!r}")
    return payload[8:].decode()


# ---- scenarios ----

def provision(tools, device_name, version=1, monitor=False):
    key, pub = tools.keys("signer")
    a1 = tools.app_elf(tools.args.app_a, version, f"a{version}.elf")
    image = tools.image("flash.bin", a1, [pub])
    device = Device(tools, image, device_name, link=Link(), monitor=monitor)
    device.wait_for("app", APP_STARTED.format(name="A", version=version, reason=0), 10)
    return key, pub, image, device


def deliver_ok(tools, bundle, link, name, version):
    d = Delivery(tools, bundle, link, name)
    code = d.wait()
    out = d.stdout()
    if code != 0 or f"installed: the device now runs app version {version}" not in out:
        raise Failure(f"{name}: deliver exit {code}, expected 0\n{out}{d.stderr()}")
    return out


def scenario_deliver(tools):
    key, pub, _image, device = provision(tools, "boot1")
    link = device.link
    try:
        b_elf = tools.app_elf(tools.args.app_b, 2, "b2.elf")
        b2 = tools.bundle(b_elf, 2, key, "b2.bwb")
        head = 100 + struct.unpack_from("<I", read(b2), 8)[0]
        out = deliver_ok(tools, b2, link, "b2", 2)
        for text in ["device BW00112233445566778899AABBCCDDEEFF: kernel", "app version 0",
                     f"sending from offset {head} of {len(read(b2))}", "device verified the bundle"]:
            if text not in out:
                raise Failure(f"deliver output lacks {text!r}:\n{out}")
        device.wait_for("app", APP_STARTED.format(name="B", version=2, reason=9), 20)
        for pattern in [rf"\[kernel\] update: receiving bundle version 2 \(resume at offset {head} of",
                        r"\[kernel\] update: bundle version 2 received and verified",
                        r"\[kernel\] update: verified, installing version 2",
                        r"\[kernel\] update: app version 2 installed, on trial",
                        r"\[kernel\] app starting \(wake reason 9\)"]:
            device.wait_for("kernel", pattern, 5)
        log("ok   B version 2 installed and running with wake reason 9")
        inspect = tools.run(tools.bulwark, "bundle", "inspect", b2).stdout
        if "app version      2" not in inspect or "board            qemu-an505" not in inspect:
            raise Failure(f"bundle inspect does not show the manifest:\n{inspect}")
        log("ok   bundle inspect prints its manifest")

        # A dropped link: the host side dies mid-transfer; the next run resumes.
        a_elf = tools.app_elf(tools.args.app_a, 3, "a3.elf", size=48 * 1024, seed=3)
        a3 = tools.bundle(a_elf, 3, key, "a3.bwb")
        size = len(read(a3))
        cut = Delivery(tools, a3, link, "a3-cut")
        end = time.monotonic() + 30
        while True:
            sent = [int(line.split()[1]) for line in cut.stdout().splitlines()
                    if line.startswith("sent ")]
            if sent and sent[-1] >= size // 2:
                break
            if cut.proc.poll() is not None or time.monotonic() > end:
                raise Failure(f"the first a3 run did not get half way:\n{cut.stdout()}{cut.stderr()}")
            time.sleep(0.01)
        cut.kill()
        out = deliver_ok(tools, a3, link, "a3", 3)
        resumed = [int(line.split()[-3]) for line in out.splitlines()
                   if line.startswith("device accepted the bundle head: resuming at offset")]
        if not resumed or resumed[0] < size // 3:
            raise Failure(f"the second run did not resume past the first third ({size} bytes):\n{out}")
        device.wait_for("app", APP_STARTED.format(name="A", version=3, reason=9), 20)
        device.wait_for("kernel", rf"update: receiving bundle version 3 \(resume at offset {resumed[0]} of", 5)
        log(f"ok   a cut delivery resumed at offset {resumed[0]} of {size}; A version 3 runs")
    finally:
        device.kill()

    # A device with no app at all (erased app slot) still takes a delivery.
    empty = tools.image("empty.bin", None, [pub])
    device = Device(tools, empty, "empty", link=Link())
    try:
        device.wait_for("kernel", r"no valid app in the app slot", 10)
        deliver_ok(tools, b2, device.link, "empty-b2", 2)
        device.wait_for("app", APP_STARTED.format(name="B", version=2, reason=9), 20)
        log("ok   a device with an empty app slot received B version 2 and runs it")
    finally:
        device.kill()


def bad_bundles(tools, key, stranger_key):
    """(name, bundle bytes, reason the device must give)."""
    b2 = read(tools.bundle(tools.app_elf(tools.args.app_b, 2, "b2.elf", size=4096), 2, key, "b2.bwb"))
    m_size = struct.unpack_from("<I", b2, 8)[0]
    sig_at = MANIFEST_AT + m_size
    stranger = read(tools.bundle(tools.path("b2.elf"), 2, stranger_key, "b2-stranger.bwb"))
    two = elf_with(app_image(tools.args.app_b, 2))
    # A two-layer app: B, and 4 KiB far from it.
    seg2 = b"\x5a" * 4096
    ehdr = bytearray(two[:52])
    struct.pack_into("<H", ehdr, 44, 2)
    body_b = two[84:]
    ph1 = struct.pack("<8I", 1, 52 + 64, APP_SLOT, APP_SLOT, len(body_b), len(body_b), 5, 4)
    ph2 = struct.pack("<8I", 1, 52 + 64 + len(body_b), APP_SLOT + 0x10000, APP_SLOT + 0x10000,
                      len(seg2), len(seg2), 5, 4)
    write(tools.path("two.elf"), bytes(ehdr) + ph1 + ph2 + body_b + seg2)
    two_layers = read(tools.bundle(tools.path("two.elf"), 2, key, "two.bwb"))
    v0 = read(tools.bundle(tools.app_elf(tools.args.app_b, 0, "b0.elf"), 0, key, "b0.bwb"))
    flip_s = bytearray(b2)
    flip_s[sig_at + 12 + 63] ^= 0x01
    tampered = bytearray(b2)
    tampered[-1] ^= 0xFF
    return [
        ("truncated in the layers", b2[:-100], "the bundle is not complete"),
        ("truncated in the head", b2[:150], "bundle is truncated: 150 bytes where at least"),
        ("bad signature", bytes(flip_s), "bad signature: the manifest does not verify with key id"),
        ("unknown key", stranger, "unknown key: the bundle is signed by key id"),
        ("tampered layer", bytes(tampered), "layer 0 was tampered with: its bytes do not match its fetch hash"),
        ("layer outside its region", patched(b2, LAYER_TABLE_AT + 4, "<I", SLOT_SIZE - 0x100),
         "layer 0 extends past the end of its region"),
        ("overlapping layers", patched(two_layers, LAYER_TABLE_AT + 44 + 4, "<I", 0x100),
         "layers 0 and 1 overlap"),
        ("older version", v0, "app version 0 is older than the minimum 1 (anti-rollback)"),
        ("absurd manifest size", patched(b2, 8, "<I", 0xFFFFFFFF),
         "manifest size 4294967295 is out of range (116 to 4096 bytes)"),
        ("absurd bundle size", patched(b2, 16, "<I", 0xFFFFFFFF),
         "bundle size 4294967295 in the header disagrees with its layers"),
        ("absurd region size", patched(b2, MANIFEST_AT + 116 + 4, "<I", 0xFFFFF000),
         "region 0 size 4294963200 is out of range"),
        ("absurd layer count", patched(b2, MANIFEST_AT + 19, "<B", 200),
         "layer count 200 is out of range (1 to 8)"),
        ("garbage file", bytes(random.Random(5).getrandbits(8) for _ in range(5000)),
         "not a Bulwark bundle (bad magic"),
    ]


def rejected(tools, device, name, bundle_path, reason, app_name):
    kernel_before = len(device.kernel_text())
    d = Delivery(tools, bundle_path, device.link, name.replace(" ", "-"))
    code = d.wait()
    err = d.stderr()
    if code != 1 or reason not in err:
        raise Failure(f"{name}: deliver exit {code} (expected 1), stderr lacks {reason!r}:\n"
                      f"{d.stdout()}{err}")
    device.wait_for("kernel", r"\[kernel\] update: .*" + re_escape(reason), 5, kernel_before)
    heartbeat_after(device, app_name, name)
    log(f"ok   {name}: refused ({reason})")


def re_escape(text):
    return re.escape(text)


def garbage_on_the_link(device, app_name):
    """This script is the host: garbage and malformed frames, each answered."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(10)
        device.link.attach(server.getsockname()[1])
        conn, _ = server.accept()
    with conn:
        reader = FrameReader(conn)
        rng = random.Random(7)
        junk = bytes(b for b in (rng.getrandbits(8) for _ in range(3000)) if b not in (END, ESC))
        conn.sendall(bytes([END]) + junk[:400] + bytes([END]))
        expect_nack(reader, 0xFFFF, 1, "bad CRC")
        conn.sendall(junk + bytes([END]))
        expect_nack(reader, 0xFFFF, 1, "frame longer than 526 bytes")
        conn.sendall(bytes([END, 1, 2, ESC, 0x55, 3, END]))
        expect_nack(reader, 0xFFFF, 1, "bad escape sequence")
        conn.sendall(bytes([END, 1, 2, 3, END]))
        expect_nack(reader, 0xFFFF, 1, "frame shorter than a header and a CRC")
        conn.sendall(frame(HELLO, 7, crc=0x12345678))
        expect_nack(reader, 0xFFFF, 1, "bad CRC")
        conn.sendall(frame(DATA, 8, b"\0" * 8, length=0xFFFF))
        expect_nack(reader, 0xFFFF, 1, "length field does not match the frame")
        conn.sendall(frame(HELLO, 9, version=2))
        expect_nack(reader, 0xFFFF, 1, "unsupported link protocol version")
        conn.sendall(frame(0x7E, 10))
        expect_nack(reader, 10, 2, "unknown request type 0x7e")
        conn.sendall(frame(HELLO, 11, b"x"))
        expect_nack(reader, 11, 3, "this request carries no payload")
        conn.sendall(frame(DATA, 12, struct.pack("<I", 0xFFFFFFF0) + b"\xaa" * 16))
        expect_nack(reader, 12, 5, "no download in progress")
        conn.sendall(frame(HEAD, 13, struct.pack("<I", 0xFFFFFFF0) + b"\xaa" * 16))
        expect_nack(reader, 13, 4, "head bytes not at the expected offset")
        conn.sendall(frame(BEGIN, 14, struct.pack("<I", 0xFFFFFFFF)))
        expect_nack(reader, 14, 4, "BEGIN for a 4294967295-byte head, 0 bytes received")
        conn.sendall(frame(BEGIN, 15, b"\x01"))
        expect_nack(reader, 15, 3, "BEGIN needs a 4-byte head length")
        conn.sendall(frame(INSTALL, 16))
        expect_nack(reader, 16, 6, "no verified bundle to install")
        conn.sendall(frame(FINISH, 17))
        expect_nack(reader, 17, 5, "no download in progress")
        # Head bytes past the largest head the format allows.
        for i in range(9):
            conn.sendall(frame(HEAD, 20 + i, struct.pack("<I", 512 * i) + b"\x11" * 512))
            ftype, seq, payload = reader.next()
            if i < 8 and (ftype != ACK or seq != 20 + i):
                raise Failure(f"HEAD piece {i} not acknowledged: {ftype:#x} {payload!r}")
        if ftype != NACK or b"bundle head longer than 4196 bytes" not in payload:
            raise Failure(f"an oversized head was not refused: {ftype:#x} {payload!r}")
        # The device still answers a good request, and resends answer the same.
        conn.sendall(frame(HELLO, 40))
        ftype, seq, payload = reader.next()
        if ftype != STATUS or seq != 40 or payload[0] != 1 or b"BW00112233445566778899AABBCCDDEEFF" not in payload:
            raise Failure(f"no STATUS after the bad frames: {ftype:#x} {payload!r}")
    for pattern in [r"link: dropped a bad frame: bad CRC", r"link: unknown request type 0x7e",
                    r"link: dropped a bad frame: frame longer than 526 bytes",
                    r"update: bundle rejected: bundle head longer than 4196 bytes"]:
        device.wait_for("kernel", pattern, 5)
    heartbeat_after(device, app_name, "garbage")
    log("ok   garbage and malformed frames on the link: each NACKed with its reason")


def scenario_reject(tools):
    key, _pub, _image, device = provision(tools, "boot1")
    try:
        stranger_key, _ = tools.keys("stranger")
        for name, data, reason in bad_bundles(tools, key, stranger_key):
            path = tools.path("bad-" + name.replace(" ", "-") + ".bwb")
            write(path, data)
            rejected(tools, device, name, path, reason, "A")
        garbage_on_the_link(device, "A")
        if device.app_text().count("started, wake reason") != 1:
            raise Failure("app A was restarted during the rejections:\n" + device.app_text()[-2000:])
        log("ok   app A ran throughout (one start, heartbeat after every rejection)")
        # A good bundle still installs; an older one is then refused.
        a3 = tools.bundle(tools.app_elf(tools.args.app_a, 3, "a3.elf"), 3, key, "a3.bwb")
        deliver_ok(tools, a3, device.link, "a3", 3)
        device.wait_for("app", APP_STARTED.format(name="A", version=3, reason=9), 20)
        rejected(tools, device, "older than the running app", tools.path("b2.bwb"),
                 "app version 2 is older than the minimum 4 (anti-rollback)", "A")
        kernel = device.kernel_text()
        if kernel.count("app starting") != 2 or "KERNEL" in kernel:
            raise Failure("expected exactly two app starts and no kernel failure:\n" + kernel[-3000:])
        log("ok   version 3 installed, version 2 then refused, the app kept running")
    finally:
        device.kill()

    # A device provisioned without a trusted key refuses every bundle, and says why.
    unkeyed = tools.image("unkeyed.bin", tools.path("a1.elf"), [])
    device = Device(tools, unkeyed, "unkeyed", link=Link())
    try:
        device.wait_for("app", APP_STARTED.format(name="A", version=1, reason=0), 10)
        rejected(tools, device, "no trusted key", tools.path("a3.bwb"),
                 "updates unavailable on this device", "A")
    finally:
        device.kill()


def scenario_rollback(tools):
    """A new app that crash-loops is replaced by the last-known-good app, which
    then reads why (bwGetUpdateInfo) and which crash it was (bwGetLastCrash)."""
    key, _pub, _image, device = provision(tools, "rollback")
    try:
        crashing = tools.bundle(tools.app_elf(tools.args.app_b, 1000, "b1000.elf"), 1000, key,
                                "b1000.bwb", ["--restart-min-ms", "40", "--restart-max-ms", "900"])
        Delivery(tools, crashing, device.link, "b1000").wait()
        device.wait_for("app", APP_STARTED.format(name="B", version=1000, reason=9), 20)
        log("ok   B version 1000 installed; it crashes at every start")
        device.wait_for("kernel", r"update: crash policy of app version 1000: restart after 40\.\.900 ms", 5)
        device.wait_for("kernel", r"restarting the app in 40 ms$", 10)
        log("ok   the bundle's crash policy is in force (second restart after 40 ms)")
        device.wait_for("kernel", r"update: crash loop: rolled back to app version 0$", 30)
        device.wait_for("kernel", r"crash loop: 3 crashes before healthy: rolled back", 5)
        device.wait_for("app", APP_STARTED.format(name="A", version=1, reason=8), 20)
        log("ok   after 3 crashes the kernel rolled back to A version 1 (wake reason 8)")
        for pattern in [r"update-app: A version 1 last rollback cause 1$",
                        r"update-app: A version 1 last crash of app version 1000$",
                        r"update-app: A version 1 last crash loop action 1$",
                        r"update-app: A version 1 heartbeat 3$"]:
            device.wait_for("app", pattern, 10)
        log("ok   A reads the cause: rollback cause 1 (crash loop), crash of version 1000, "
            "loop action 1 (rolled back); it keeps running")
    finally:
        device.kill()


UNCONFIRMED = 500   # update/main.c: this version never confirms itself healthy
RESET_CRASH = (r"\[kernel\] app crash: chip reset: the chip reset while the app ran.*\n"
               r"(?:.*\n)*?.*crash class: kernel-reset in an unknown context "
               r"\(crash 1 since boot, {n} since healthy")


def reset_loop_boot(device, name, version, n):
    """Resets the chip under the running app (seen started); the next boot
    must count that as its n-th crash since healthy. The kernel log's offset
    where that boot starts."""
    at = len(device.kernel_text())
    device.system_reset()
    device.wait_for("kernel", r"Bulwark kernel .* on qemu-an505", 10, at)
    device.wait_for("kernel", RESET_CRASH.format(n=n), 10, at)
    device.wait_for("kernel", r"crash record \d+ saved in flash", 5, at)
    return at


def scenario_reset_rollback(tools):
    """A reset loop of a new app on trial ends rolled back; a power cut is no crash."""
    key, _pub, image, device = provision(tools, "reset1", monitor=True)
    try:
        b = tools.bundle(tools.app_elf(tools.args.app_b, UNCONFIRMED, "b500.elf"), UNCONFIRMED, key,
                         "b500.bwb")
        deliver_ok(tools, b, device.link, "b500", UNCONFIRMED)
        device.wait_for("app", APP_STARTED.format(name="B", version=UNCONFIRMED, reason=9), 20)
        log(f"ok   B version {UNCONFIRMED} installed (on trial, never confirms itself healthy)")
    finally:
        device.kill()   # a power cut while B runs

    device = Device(tools, image, "reset2", link=Link(), monitor=True)
    try:
        device.wait_for("app", APP_STARTED.format(name="B", version=UNCONFIRMED, reason=9), 10)
        kernel = device.kernel_text()
        for bad in ["app crash", "kernel-reset", "reset marker", "KERNEL"]:
            if bad in kernel:
                raise Failure(f"a power cut was counted as a crash ({bad!r}):\n" + kernel[-3000:])
        log("ok   a power cut (kill -9) while B ran is not a crash: B starts on trial (wake reason 9)")

        app_at = len(device.app_text())
        for n in (1, 2):
            at = reset_loop_boot(device, "B", UNCONFIRMED, n)
            if n == 2:
                device.wait_for("kernel", r"app start held back \d+ ms \(crash backoff\)", 5, at)
            m = device.wait_for("app", APP_STARTED.format(name="B", version=UNCONFIRMED, reason=8),
                                10, app_at)
            app_at = m.end()
            log(f"ok   reset {n} while B ran: crash {n} of class kernel-reset, B restarted "
                f"(wake reason 8{', after its backoff' if n == 2 else ''})")
        at = reset_loop_boot(device, "B", UNCONFIRMED, 3)
        for pattern in [r"update: crash loop: rolled back to app version 0$",
                        r"crash loop: 3 crashes before healthy: rolled back"]:
            device.wait_for("kernel", pattern, 30, at)
        device.wait_for("app", APP_STARTED.format(name="A", version=1, reason=8), 20, app_at)
        log("ok   reset 3: a crash loop: the kernel rolled back to A version 1 (wake reason 8)")
        for pattern in [r"update-app: A version 1 last rollback cause 1$",
                        rf"update-app: A version 1 last crash of app version {UNCONFIRMED}$",
                        r"update-app: A version 1 last crash loop action 1$",
                        r"update-app: A version 1 last crash class 13$",
                        r"update-app: A version 1 heartbeat 3$"]:
            device.wait_for("app", pattern, 10, app_at)
        out = link_status(device)
        if "app version 0, update engine" not in out or "on trial" in out:
            raise Failure(f"device status after the rollback:\n{out}")
        heartbeat_after(device, "A", "status")
        log("ok   A reads why: rollback cause 1, B's crash of class 13 (kernel-reset), loop "
            "action 1; it keeps running and the link answers")
    finally:
        device.kill()


def reachable_while_parked(tools, device, key, want, app_at=0):
    """A parked device answers `bulwark device status` (its output has want) and
    installs a good app A version 2 delivered then: the seconds from the
    status to A's start with wake reason 9."""
    t0 = time.monotonic()
    out = link_status(device)
    if want not in out:
        raise Failure(f"device status while parked:\n{out}")
    log(f"ok   parked: `bulwark device status` answers ({out.strip()})")
    good = tools.bundle(tools.app_elf(tools.args.app_a, 2, "a2.elf"), 2, key, "a2.bwb")
    deliver_ok(tools, good, device.link, "a2", 2)
    device.wait_for("app", APP_STARTED.format(name="A", version=2, reason=9), 20, app_at)
    return time.monotonic() - t0


def scenario_reset_park(tools):
    """A reset loop with no last-known-good app parks it; the kernel stays reachable."""
    key, _pub, _image, device = provision(tools, "park", version=UNCONFIRMED, monitor=True)
    try:
        app_at = 0
        for n in (1, 2):
            reset_loop_boot(device, "A", UNCONFIRMED, n)
            m = device.wait_for("app", APP_STARTED.format(name="A", version=UNCONFIRMED, reason=8),
                                10, app_at)
            app_at = m.end()
        at = reset_loop_boot(device, "A", UNCONFIRMED, 3)
        device.wait_for("kernel", r"crash loop: 3 crashes before healthy, no good app to roll back "
                                  r"to: parked at the maximum backoff", 10, at)
        held = device.wait_for("kernel", r"app start held back 30000 ms \(crash backoff\)", 5, at)
        log("ok   3 resets while the provisioned app ran: no good app to roll back to, parked "
            "(its start held back 30 s)")
        waited = reachable_while_parked(tools, device, key, "app version 0, update engine idle", app_at)
        if waited >= 30:
            raise Failure(f"the delivery took {waited:.1f} s: the parked wait ran out first")
        starts = device.kernel_text()[held.end():]
        if starts.count("app starting") != 1 or "app starting (wake reason 9)" not in starts:
            raise Failure("the parked app was started during its wait:\n" + starts[-3000:])
        heartbeat_after(device, "A", "install")
        log(f"ok   and updatable: a good app delivered during the wait installs and runs "
            f"({waited:.1f} s after the park, wake reason 9)")
    finally:
        device.kill()


PARK_IRQ = r"\[kernel\] app restart: no room on the app's stack to end its interrupts: parked$"


def scenario_irq_park(tools):
    """An app that cannot be restarted (no room below its stack to end its
    interrupt) is parked from the kernel's PendSV path; the kernel stays reachable."""
    if tools.args.app_park is None:
        raise Failure("--scenario irq-park needs --app-park")
    key, pub = tools.keys("signer")
    image = tools.image("flash.bin", tools.app_elf(tools.args.app_park, 1, "p1.elf"), [pub])
    device = Device(tools, image, "irq-park", link=Link())
    try:
        device.wait_for("app", r"update-app: P started$", 10)
        device.wait_for("kernel", r"crash class: secure-access in IRQ 50 handler", 10)
        park = device.wait_for("kernel", PARK_IRQ, 10)
        log("ok   P crashed inside its IRQ 50 with 64 bytes of stack: its restart is parked")
        waited = reachable_while_parked(tools, device, key, "update engine idle")
        heartbeat_after(device, "A", "install")
        after = device.kernel_text()[park.end():]
        if after.count("app starting") != 1 or "app starting (wake reason 9)" not in after:
            raise Failure("after the park, other app starts than the install's:\n" + after[-3000:])
        if device.app_text().count("update-app: P started") != 1:
            raise Failure("P started again after the park:\n" + device.app_text()[-3000:])
        log(f"ok   and updatable: A version 2 delivered {waited:.1f} s after the park "
            f"installs and runs (wake reason 9; the kernel ended P's IRQ 50 on A's stack)")
    finally:
        device.kill()


FREERTOS_CHECKS = r"freertos-update: version {version}: (\d+) checks, (\d+) failed$"
FREERTOS_HEAP = r"freertos-update: version {version}: free heap (\d+) bytes after start-up$"


def freertos_version_up(device, version, app_start, kernel_start):
    """F version `version` started by an install and passed its checks; its free heap."""
    m = device.wait_for("app", APP_STARTED.format(name="F", version=version, reason=9), 20, app_start)
    app_start = m.start()
    m = device.wait_for("app", FREERTOS_CHECKS.format(version=version), 15, app_start)
    if int(m.group(2)) != 0 or int(m.group(1)) < 20:
        fails = [line for line in device.app_text()[app_start:].splitlines() if line.startswith("FAIL")]
        raise Failure(f"F version {version}: {m.group(0)}\n" + "\n".join(fails))
    heap = int(device.wait_for("app", FREERTOS_HEAP.format(version=version), 5, app_start).group(1))
    at = kernel_start
    for pattern in [rf"\[kernel\] update: app version {version} installed, on trial",
                    r"\[kernel\] app starting \(wake reason 9\)",
                    r"\[kernel\] app healthy: confirmed by the app"]:
        at = device.wait_for("kernel", pattern, 10, at).end()
    # The app's own "healthy" line and the kernel's end of the trial come in
    # either order; the trial ends without any link traffic to wake the kernel.
    device.wait_for("kernel", rf"\[app-log\] freertos-update: version {version} healthy$", 10, at)
    device.wait_for("kernel", rf"\[kernel\] update: app version {version} is healthy: trial over", 10, at)
    out = link_status(device)
    if f"app version {version}, update engine" not in out:
        raise Failure(f"F version {version}: device status is not out of trial:\n{out}")
    beat = len(device.app_text())
    device.wait_for("app", rf"update-app: F version {version} heartbeat \d+$", 5, beat)
    return int(m.group(1)), heap


def link_status(device, timeout=10):
    """`bulwark device status` over the device's link: its output."""
    tools = device.tools
    out_path = tools.path("status.out")
    with open(out_path, "w") as out:
        proc = subprocess.Popen([tools.bulwark, "device", "status", "--listen", "127.0.0.1:0",
                                 "--timeout", str(timeout)], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            end = time.monotonic() + 10
            while True:
                m = re.search(r"^listening on 127\.0\.0\.1:(\d+)$", Device.read(out_path), re.M)
                if m:
                    break
                if proc.poll() is not None or time.monotonic() > end:
                    raise Failure(f"device status did not start listening:\n{Device.read(out_path)}")
                time.sleep(0.005)
            device.link.attach(int(m.group(1)))
            code = proc.wait(timeout=timeout + 10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = Device.read(out_path)
    if code != 0:
        raise Failure(f"device status: exit {code}\n{text}")
    return text


def scenario_freertos(tools):
    """A FreeRTOS app installed by the update engine works, and so does the next
    one installed over it while its 10 kHz SysTick runs."""
    if not tools.args.app_f:
        raise Failure("--scenario freertos needs --app-f (qt-freertos-update.bin)")
    key, _pub, _image, device = provision(tools, "freertos")
    try:
        f2 = tools.bundle(tools.app_elf(tools.args.app_f, 2, "f2.elf"), 2, key, "f2.bwb")
        f3 = tools.bundle(tools.app_elf(tools.args.app_f, 3, "f3.elf"), 3, key, "f3.bwb")
        t0 = time.monotonic()
        deliver_ok(tools, f2, device.link, "f2", 2)
        checks, heap2 = freertos_version_up(device, 2, 0, 0)
        log(f"ok   A -> FreeRTOS F version 2 ({len(read(f2))}-byte bundle) in "
            f"{time.monotonic() - t0:.1f} s: wake reason 9, {checks} checks passed, healthy")

        # F 2 is busy now (spinner, heartbeat, 10 kHz tick): install F 3 over it.
        app_start, kernel_start = len(device.app_text()), len(device.kernel_text())
        t0 = time.monotonic()
        deliver_ok(tools, f3, device.link, "f3", 3)
        device.wait_for("app", r"update-app: F version 2 heartbeat \d+$", 1, app_start)
        checks, heap3 = freertos_version_up(device, 3, app_start, kernel_start)
        if heap3 != heap2:
            raise Failure(f"free heap after start-up: {heap3} bytes in F 3, {heap2} in F 2")
        log(f"ok   F 2 (running, SysTick at 10 kHz) -> F version 3 in {time.monotonic() - t0:.1f} s: "
            f"wake reason 9, {checks} checks passed, same free heap ({heap3} bytes), healthy")

        kernel, app = device.kernel_text(), device.app_text()
        starts = re.findall(r"app starting \(wake reason (\d+)\)", kernel)
        if starts != ["0", "9", "9"]:
            raise Failure(f"app starts with wake reasons {starts}, expected A 0, F2 9, F3 9:\n"
                          + kernel[-3000:])
        for bad in ["app crash", "KERNEL", "dropped"]:
            if bad in kernel:
                raise Failure(f"kernel log has {bad!r}:\n" + kernel[-3000:])
        bad = re.search(r"^(FAIL |FreeRTOS (assert|stack overflow|heap exhausted)).*", app, re.M)
        if bad:
            raise Failure(f"app log has {bad.group(0)!r}:\n" + app[-3000:])
        for version in (2, 3):
            if app.count(f"update-app: F version {version} started") != 1:
                raise Failure(f"F version {version} started other than once:\n" + app[-3000:])
        log("ok   three app starts (0, 9, 9), no crash, no failed check")
    finally:
        device.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--scenario", required=True,
                        choices=["deliver", "reject", "rollback", "reset-rollback", "reset-park",
                                 "freertos", "irq-park"])
    parser.add_argument("--app-f", default=None, metavar="qt-freertos-update.bin",
                        help="the FreeRTOS app of --scenario freertos")
    parser.add_argument("--app-park", default=None, metavar="qt-update-park-irq.bin",
                        help="the app of --scenario irq-park")
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    name = args.name or f"update.{args.scenario}"
    scenarios = {"deliver": scenario_deliver, "reject": scenario_reject,
                 "rollback": scenario_rollback, "reset-rollback": scenario_reset_rollback,
                 "reset-park": scenario_reset_park, "freertos": scenario_freertos,
                 "irq-park": scenario_irq_park}
    return run_scenario(args, name, scenarios[args.scenario])

if __name__ == "__main__":
    sys.exit(main())
