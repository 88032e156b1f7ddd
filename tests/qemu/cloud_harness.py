"""QEMU devices on a real cloud, for run_cloud_test.py and the demo.

What it gives:
  - Modem: the modem emulator (bulwark-modem) on free ports, its control
    socket (faults, `stats`), stopped with the test;
  - Stack: a fleet made by `bulwark fleet init`, mosquitto started by
    bulwark-broker with the registry plugin, and bulwarkd
    (tests/cloud/harness.Cloud), with the CLI's environment pointing at it;
  - CloudDevice: a QEMU boot of a flash image with UART2 on the modem and
    UART3 on a Link, provisioned with `bulwark device provision` (which also
    registers it), and the device's view through the CLI (`bulwark logs`,
    `bulwark devices`, `bulwark crashes`);
  - online_device: a fresh image booted, provisioned and online (any device
    ID: several devices can share one Stack, each on its own Modem).
Every wait is bounded and waits on an event (a log line, a CLI answer).
"""
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "cloud"))
from update_harness import DEVICE_HEX, Device, Failure, Link  # noqa: E402
import harness as cloud_harness  # noqa: E402
from harness import bulwark_broker  # noqa: E402,F401  (for tests that start another broker)

DEVICE_ID = "BW" + DEVICE_HEX.upper()
POLL_S = 0.02


CLOUD_ICOUNT_SHIFT = 3       # 8 ns per instruction: a 125 MHz core, a little faster than QEMU here


class Modem:
    """bulwark-modem listening on free ports; control() sends one control line."""

    def __init__(self, binary, log_path, args=()):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([binary, "--listen", "0", "--control-port", "0", *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        self.port = self._port("listening")
        self.control_port = self._port("control")

    def _port(self, word):
        line = self.proc.stdout.readline()
        m = re.match(rf"{word} (\d+)$", line.strip())
        if not m:
            raise Failure(f"bulwark-modem: expected '{word} PORT', got {line!r}")
        return int(m.group(1))

    def control(self, command):
        """The modem's one-line answer; a Failure if it says error."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as s:
            s.sendall((command + "\n").encode())
            answer = b""
            while not answer.endswith(b"\n"):
                data = s.recv(4096)
                if not data:
                    break
                answer += data
        text = answer.decode().strip()
        if text.startswith("error"):
            raise Failure(f"modem control '{command}': {text}")
        return text

    def stats(self):
        return json.loads(self.control("stats"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Stack:
    """`bulwark fleet init`, the broker and bulwarkd, in work/."""

    def __init__(self, bulwark, bulwarkd, plugin, work, bulwarkd_args=()):
        self.bulwark = bulwark
        self.work = work
        self.fleet = os.path.join(work, "fleet")
        os.makedirs(work, exist_ok=True)
        p = subprocess.run([bulwark, "fleet", "init", "--dir", self.fleet], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise Failure(f"bulwark fleet init: {p.stdout}{p.stderr}")
        self.cloud = cloud_harness.Cloud(os.path.join(work, "cloud"), bulwarkd, plugin,
                                         fleet_dir=self.fleet, extra_args=bulwarkd_args)
        self.broker_port = self.cloud.port
        self.env = dict(os.environ, BULWARK_SERVER=self.cloud.url, BULWARK_TOKEN=self.cloud.token,
                        BULWARK_CONFIG="/dev/null")

    def cli(self, *args, timeout=60, expect=0, stdin_text=None):
        p = subprocess.run([self.bulwark, *args], capture_output=True, text=True, timeout=timeout,
                           env=self.env, input=stdin_text,
                           stdin=subprocess.DEVNULL if stdin_text is None else None)
        if expect is not None and p.returncode != expect:
            raise Failure(f"bulwark {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                          f"{p.stdout}{p.stderr}")
        return p

    def cli_json(self, *args, timeout=60):
        return json.loads(self.cli(*args, "--json", timeout=timeout).stdout)

    def stop(self):
        self.cloud.stop()


class Follow:
    """`bulwark logs --device D --follow` in the background; its lines in a queue."""

    def __init__(self, stack, device_id):
        self.proc = subprocess.Popen([stack.bulwark, "logs", "--device", device_id, "--follow"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=stack.env, bufsize=1)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pattern, timeout):
        """The first line from now on that matches pattern (a Failure at EOF or after timeout)."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.001)) if left > 0 else None
            except queue.Empty:
                line = None
            if line is None:
                raise Failure(f"bulwark logs --follow printed no line matching /{pattern}/ in {timeout} s;"
                              f" last lines: {self.seen[-5:]}")
            self.seen.append(line)
            if rx.search(line):
                return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class CloudDevice:
    """One QEMU boot of image with UART2 on the modem and UART3 on a Link."""

    def __init__(self, tools, image, name, modem, timeout=300, icount=False, extra=()):
        self.link = Link()
        # Guest time counts instructions (a stalled host thread cannot fire the
        # watchdog or the hang detector) at a fixed CLOUD_ICOUNT_SHIFT: under
        # --icount-auto the app's SysTick interrupts came late during link work and
        # the cloud tests ran 2-11 times slower (docs/DESIGN.md "Guest time in the
        # QEMU tests").
        self.dev = Device(tools, image, name, link=self.link, timeout=timeout, modem_port=modem.port,
                          icount=icount, extra=extra,
                          icount_shift=None if icount or "-icount" in extra else CLOUD_ICOUNT_SHIFT)
        self.tools = tools
        self.name = name

    def wait_for(self, which, pattern, timeout, start=0):
        """Device.wait_for; a wait on the app that fails also shows the kernel's log tail
        (a restart, a reset or the link's state explain most stalls)."""
        try:
            return self.dev.wait_for(which, pattern, timeout, start)
        except Failure as e:
            if which == "kernel":
                raise
            tail = "\n".join(self.dev.kernel_text().splitlines()[-20:])
            raise Failure(f"{e}\n--- kernel log tail:\n{tail}") from None

    def provision(self, stack, broker_host="localhost", timeout=120, register=True):
        """`bulwark device provision` (registers too, unless register is False); its output."""
        out_path = self.tools.path(self.name + "-provision.out")
        cert = self.tools.path(self.name + ".crt")
        with open(out_path, "w") as out:
            proc = subprocess.Popen([stack.bulwark, "device", "provision", "--fleet", stack.fleet,
                                     "--listen", "127.0.0.1:0", "--broker",
                                     f"{broker_host}:{stack.broker_port}", "--out", cert,
                                     "--timeout", "60", *([] if register else ["--no-register"])],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=stack.env)
            end = time.monotonic() + 10
            while True:
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", Device.read(out_path))
                if m:
                    break
                if time.monotonic() > end or proc.poll() is not None:
                    raise Failure(f"provision did not listen: {Device.read(out_path)}")
                time.sleep(POLL_S)
            self.link.attach(int(m.group(1)))
            code = proc.wait(timeout=timeout)
        text = Device.read(out_path)
        if code != 0:
            raise Failure(f"bulwark device provision: exit {code}\n{text}")
        return text

    def app_lines(self, prefix="cloud-demo:"):
        return [l for l in self.dev.app_text().splitlines() if l.startswith(prefix)]

    def kill(self):
        self.dev.kill()


def online_device(tools, stack, modem, image, name, device_id=DEVICE_ID, timeout=300, icount=False, extra=(),
                  slow=1):
    """Boots image (an unprovisioned device whose ID is device_id) on modem, provisions it
    on stack (which registers it) and waits until it is online: its CloudDevice. extra:
    more QEMU arguments; slow: a factor on the waits (a traced QEMU runs slower)."""
    device = CloudDevice(tools, image, name, modem, timeout=timeout, icount=icount, extra=extra)
    device.wait_for("kernel", r"credentials: not provisioned \(key ready\)", 60 * slow)
    out = device.provision(stack, timeout=120 * slow)
    if f"registered {device_id} with {stack.cloud.url}" not in out:
        raise Failure(f"provision did not register {device_id}:\n{out}")
    device.wait_for("kernel", rf"cloud: online as {device_id}", 120 * slow)
    return device


def add_freertos_arg(parser, demo):
    """--freertos: the app is demo's FreeRTOS variant (apps/common/demo_main_freertos.c)."""
    parser.add_argument("--freertos", action="store_true",
                        help=f"the app is {demo}-freertos: also check its task lines")


def check_freertos_lines(device, demo):
    """A FreeRTOS channel demo's own lines: the kernel version, and the counter task ran while
    the steps waited (printed after '<demo>: done')."""
    device.wait_for("app", rf"{demo}: the counter task ran [1-9][0-9]* times meanwhile", 30)
    text = device.dev.app_text()
    if not re.search(rf"^{demo}: FreeRTOS V[^ ]+$", text, re.M):
        raise Failure(f"no FreeRTOS version line:\n{text}")
    print("freertos: " + " | ".join(l for l in text.splitlines() if "FreeRTOS" in l or "counter" in l))


def add_cloud_args(parser):
    """The host tools of a cloud test: bulwarkd, the broker plugin, the modem emulator."""
    parser.add_argument("--bulwarkd", required=True)
    parser.add_argument("--plugin", required=True, metavar="bw_registry_plugin.so")
    parser.add_argument("--modem", required=True, metavar="bulwark-modem")


def missing_cloud_tool(args, name):
    """Prints a SKIP line for test name and returns True if a tool of add_cloud_args is missing."""
    for tool in (args.bulwarkd, args.plugin, args.modem):
        if not os.path.exists(tool):
            print(f"SKIP {name}: no host tool {tool} (build the host target first: make host)")
            return True
    return False
