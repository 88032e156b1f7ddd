"""Shared by the local-delivery QEMU tests (run_update_test.py, kill_test.py).

What it gives a test:
  - apps of any size and version from the update test app's raw images
    (qt-update-a.bin / qt-update-b.bin): the version marker "BVERMARK" is
    patched and the image padded with deterministic bytes, wrapped in a
    one-segment ELF for `bulwark bundle create`;
  - Device: one QEMU run of a flash image (the command `bulwark-emu run
    --dry-run` prints, started directly so that a kill -9 hits QEMU itself, a
    real power cut), each boot with its own app/kernel log files, and
    waiting for regexes in them with a deadline;
  - Link: the host end of the device's UART2 socket, held by the test for the
    whole boot (QEMU connects at once), which relays bytes to a `bulwark
    device deliver` run only when the test says so (no reconnect delay, and
    "boot first, deliver later" is exact);
  - Delivery: a `bulwark device deliver` process (it listens on a free port
    and the Link connects to it);
  - a modem: Device(modem_port=P) connects UART2 to the modem emulator
    listening on P (tests/qemu/cloud_harness.py);
  - chip resets: a Device made with monitor=True has QEMU's monitor on a Unix
    socket, and Device.system_reset() resets the chip there (RAM outside the
    loaded ELFs survives, as with SYSRESETREQ), while Device.kill() is a
    power cut.
Every wait is bounded. Python 3 standard library only.
"""

import os
import random
import re
import shlex
import signal
import socket
import struct
import selectors
import subprocess
import sys
import threading
import shutil
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import memory_map  # noqa: E402  (the board's one map)

APP_SLOT = memory_map.load("qemu-an505")["APP_SLOT"].base
DEVICE_HEX = "00112233445566778899aabbccddeeff"   # the device ID images get unless told
MARKER = b"BVERMARK"
POLL_S = 0.005


class Failure(Exception):
    """A check failed: the message says what was expected and what was seen."""


def app_image(raw_bin, version, size=None, seed=0):
    """The app's raw image with its version marker set, padded to size bytes."""
    data = bytearray(open(raw_bin, "rb").read())
    at = data.find(MARKER)
    if at < 0 or data.find(MARKER, at + 1) >= 0:
        raise Failure(f"{raw_bin}: no unique version marker")
    struct.pack_into("<II", data, at + 8, version, version ^ 0xFFFFFFFF)
    if size is not None and size > len(data):
        rng = random.Random(seed)
        data += bytes(rng.getrandbits(8) for _ in range(size - len(data)))
    return bytes(data)


def elf_with(data, address=APP_SLOT):
    """ELF32 little-endian ARM executable with one PT_LOAD segment."""
    ehdr_size, phdr_size = 52, 32
    offset = ehdr_size + phdr_size
    ehdr = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + b"\x00" * 9, 2, 40, 1,
                       address | 1, ehdr_size, 0, 0x05000200, ehdr_size, phdr_size, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, offset, address, address, len(data), len(data), 5, 4)
    return ehdr + phdr + data


class Tools:
    def __init__(self, args):
        self.bulwark = args.bulwark
        self.emu = args.emu
        self.boot = args.boot
        self.kernel = args.kernel
        self.work = args.workdir

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, *argv, timeout=30, expect=0):
        p = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        if expect is not None and p.returncode != expect:
            raise Failure(f"{' '.join(argv)}: exit {p.returncode}, expected {expect}\n"
                          f"{p.stdout}{p.stderr}")
        return p

    def keys(self, name):
        self.run(self.bulwark, "keys", "generate", "-o", self.path(name), "--force")
        return self.path(name + ".key"), self.path(name + ".pub")

    def app_elf(self, raw_bin, version, name, size=None, seed=0):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(elf_with(app_image(raw_bin, version, size, seed)))
        return path

    def bundle(self, elf, version, key, name, options=()):
        out = self.path(name)
        self.run(self.bulwark, "bundle", "create", elf, "--key", key, "--version", str(version),
                 *options, "-o", out)
        return out

    def image(self, name, app_elf, update_keys, device_hex=DEVICE_HEX):
        out = self.path(name)
        argv = [self.emu, "image", "create", "--force", "--out", out, "--kernel", self.kernel,
                "--device-id", device_hex]
        if app_elf is not None:
            argv += ["--app", app_elf]
        for key in update_keys:
            argv += ["--update-key", key]
        self.run(*argv)
        return out


class Link:
    """The device's UART2 peer: listens before QEMU starts, accepts its connection in the
    background, and relays to one delivery at a time (bytes while none is attached are
    dropped, as on a modem with no call up)."""

    def __init__(self):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.device = None          # QEMU's connection
        self.peer = None            # the attached delivery's connection
        self.up_bytes = 0           # relayed device -> delivery (for benches)
        self.down_bytes = 0         # relayed delivery -> device
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.server.settimeout(30)
        try:
            self.device, _ = self.server.accept()
        except OSError:
            return
        finally:
            self.server.close()
        self.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel = selectors.DefaultSelector()
        sel.register(self.device, selectors.EVENT_READ)
        registered_peer = None
        while not self.closed:
            with self.lock:
                peer = self.peer
            if peer is not registered_peer:
                if registered_peer is not None:
                    sel.unregister(registered_peer)
                if peer is not None:
                    sel.register(peer, selectors.EVENT_READ)
                registered_peer = peer
            for key, _ in sel.select(timeout=0.01):
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if key.fileobj is self.device:
                    if not data:            # QEMU is gone: so is the link
                        self._drop_peer()
                        self.closed = True
                        break
                    if peer is not None:
                        self.up_bytes += len(data)
                        try:
                            peer.sendall(data)
                        except OSError:
                            self._drop_peer()
                elif not data:              # the delivery closed its end
                    self._drop_peer()
                else:
                    self.down_bytes += len(data)
                    try:
                        self.device.sendall(data)
                    except OSError:
                        self.closed = True
        sel.close()

    def _drop_peer(self):
        with self.lock:
            if self.peer is not None:
                self.peer.close()
                self.peer = None

    def attach(self, port, timeout=10):
        """Connects the device to a delivery listening on 127.0.0.1:port."""
        end = time.monotonic() + timeout
        while self.device is None:
            if time.monotonic() > end or not self.thread.is_alive():
                raise Failure("QEMU did not connect to the link")
            time.sleep(POLL_S)
        peer = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.peer = peer

    def close(self):
        self.closed = True
        self.thread.join(timeout=5)
        self._drop_peer()
        if self.device is not None:
            self.device.close()


class Device:
    """One boot of the flash image on QEMU (killed, never left running). Guest
    time counts instructions: one per ns with icount (exact figures), 2^icount_shift
    ns each with icount_shift, else following real time (--icount-auto), unless
    extra sets its own -icount or host_clock asks for QEMU's default (guest time =
    host time)."""

    def __init__(self, tools, image, name, link=None, icount=False, timeout=120, monitor=False,
                 modem_port=None, extra=(), host_clock=False, icount_shift=None):
        self.tools = tools
        self.name = name
        self.app_log = tools.path(name + "-app.log")
        self.kernel_log = tools.path(name + "-kernel.log")
        self.qemu_log = tools.path(name + "-qemu.log")
        for log in (self.app_log, self.kernel_log):
            if os.path.exists(log):
                os.remove(log)
        argv = [tools.emu, "run", "--image", image, "--boot", tools.boot, "--app-log",
                self.app_log, "--kernel-log", self.kernel_log, "--dry-run"]
        self.link = link
        if link is not None:
            argv += ["--link-port", str(link.port)]
        if modem_port is not None:
            argv += ["--modem-port", str(modem_port)]
        if icount:
            argv.append("--icount")
        elif icount_shift is not None:
            argv += ["--icount-shift", str(icount_shift)]
        elif not host_clock and "-icount" not in extra:
            argv.append("--icount-auto")   # docs/DESIGN.md "Guest time in the QEMU tests"
        self.monitor = None
        if monitor:
            self.monitor = tools.path(name + "-monitor.sock")
            if os.path.exists(self.monitor):
                os.remove(self.monitor)
            argv += ["--monitor", self.monitor]
        if extra:
            argv += ["--extra", *extra]   # QEMU's own arguments, last
        cmd = shlex.split(tools.run(*argv).stdout.strip())
        self.out = open(self.qemu_log, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.monotonic()
        self.deadline = self.started + timeout

    def kill(self):
        """kill -9 of QEMU: a power cut (the flash file keeps what was written)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.out.close()
        if self.link is not None:
            self.link.close()

    def alive(self):
        return self.proc.poll() is None

    def system_reset(self, timeout=10):
        """A chip reset through QEMU's monitor (`system_reset`), as from the reset pin."""
        if self.monitor is None:
            raise Failure(f"{self.name}: started without a monitor")
        end = time.monotonic() + timeout
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                sock.connect(self.monitor)
                break
            except OSError as e:
                sock.close()
                if time.monotonic() > end or not self.alive():
                    raise Failure(f"{self.name}: no QEMU monitor at {self.monitor}: {e}")
                time.sleep(POLL_S)
        with sock:
            def prompt():
                seen = b""
                while not seen.endswith(b"(qemu) "):
                    data = sock.recv(4096)
                    if not data:
                        raise Failure(f"{self.name}: the QEMU monitor closed")
                    seen += data
            prompt()
            sock.sendall(b"system_reset\n")
            prompt()

    @staticmethod
    def read(path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def app_text(self):
        return self.read(self.app_log)

    def kernel_text(self):
        return self.read(self.kernel_log)

    def wait_for(self, which, pattern, timeout, start=0):
        """Waits until the log (app or kernel) matches pattern past offset start; the match."""
        rx = re.compile(pattern, re.MULTILINE)
        end = min(time.monotonic() + timeout, self.deadline)
        while True:
            text = self.app_text() if which == "app" else self.kernel_text()
            m = rx.search(text, start)
            if m:
                return m
            if time.monotonic() >= end or not self.alive():
                raise Failure(f"{self.name}: {which} log lacks /{pattern}/ after {timeout:g} s"
                              f"{'' if self.alive() else ' (QEMU exited)'}\n"
                              f"--- {which} log tail:\n" + "\n".join(text.splitlines()[-15:]))
            time.sleep(POLL_S)


class Delivery:
    """`bulwark device deliver BUNDLE` (or another `device` VERB with its
    arguments) in the background, attached to the device's link."""

    def __init__(self, tools, bundle, link, name, timeout=20, extra=(), verb="deliver"):
        self.out_path = tools.path(name + f"-{verb}.out")
        self.err_path = tools.path(name + f"-{verb}.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        argv = [bundle] if bundle is not None else []
        self.proc = subprocess.Popen(
            [tools.bulwark, "device", verb, *argv, "--listen", "127.0.0.1:0",
             "--timeout", str(timeout), *extra],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
        self.limit = timeout * 4 + 10
        end = time.monotonic() + 10
        while True:
            m = re.search(r"^listening on 127\.0\.0\.1:(\d+)$", Device.read(self.out_path), re.M)
            if m:
                break
            if self.proc.poll() is not None or time.monotonic() > end:
                raise Failure(f"device {verb} did not start listening: {self.stderr()}")
            time.sleep(POLL_S)
        link.attach(int(m.group(1)))

    def wait(self):
        try:
            code = self.proc.wait(timeout=self.limit)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self.out.close()
        self.err.close()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        return self.wait()

    def stdout(self):
        return Device.read(self.out_path)

    def stderr(self):
        return Device.read(self.err_path)


def add_common_args(parser):
    parser.add_argument("--bulwark", required=True, help="the host CLI (build/host/cli/bulwark)")
    parser.add_argument("--emu", required=True, help="emu/bulwark-emu")
    parser.add_argument("--boot", required=True, metavar="BOOT.elf")
    parser.add_argument("--kernel", required=True, metavar="KERNEL.signed")
    parser.add_argument("--app-a", required=True, metavar="qt-update-a.bin")
    parser.add_argument("--app-b", required=True, metavar="qt-update-b.bin")
    parser.add_argument("--workdir", required=True, metavar="DIR")


SKIP_EXIT = 77


def run_scenario(args, name, scenario):
    """Runs scenario(tools) in a fresh args.workdir: prints PASS/FAIL <name>
    and returns the exit code (77, skip, without the host CLI)."""
    if not os.access(args.bulwark, os.X_OK):
        print(f"SKIP {name}: no host tool {args.bulwark} (build the host target first: make host)")
        return SKIP_EXIT
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    tools = Tools(args)
    tools.args = args
    started = time.monotonic()
    try:
        scenario(tools)
    except Failure as e:
        print(f"FAIL {name}: {e}")
        return 1
    print(f"PASS {name} ({time.monotonic() - started:.1f} s)")
    return 0
