"""Cloud test harness: a test fleet (fleet.py), the real broker
(cloud/broker/bulwark_broker.py with the registry plugin), a real bulwarkd,
simulated devices (sim_device, a libmosquitto client with the device's
certificate) and the §13 messages built from docs/SPEC.md."""
import json
import os
import queue
import random
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloud", "broker"))
sys.path.insert(0, HERE)
import bulwark_broker  # noqa: E402
import fleet  # noqa: E402


failures = []


def check(ok, what):
    """Records and prints one promise checked ("ok ..." or "FAIL ..."); the test
    exits 1 if `failures` is not empty at its end."""
    if not ok:
        failures.append(what)
    print(("ok " if ok else "FAIL ") + what, flush=True)


def status(online, boot, conn, kernel=0x00010200, app=3, wake=1, uptime=5, lost=0, crashes=0, newest=0):
    return struct.pack("<BBBBIIIIIIIII", 1, 1, online, wake, boot, conn, kernel, app, uptime, lost, crashes,
                       newest, 0)


def log(boot, first_seq, lines):
    body = b"".join(struct.pack("<IH", 1000 + i, len(t)) + t for i, t in enumerate(lines))
    return struct.pack("<BBHII", 1, 2, len(lines), boot, first_seq) + body


def crash(boot, record):
    return struct.pack("<BBHI", 1, 3, 0, boot) + record


class Device:
    """One simulated device: a sim_device process and its output lines."""

    def __init__(self, sim, port, fleet_dir, dev_id, cert=None, key=None, will=None):
        cert = cert or os.path.join(fleet_dir, f"{dev_id}.crt")
        key = key or os.path.join(fleet_dir, f"{dev_id}.key")
        args = [sim, "--port", str(port), "--cafile", os.path.join(fleet_dir, "ca.crt"), "--cert", cert,
                "--key", key, "--id", dev_id]
        if will:
            args += ["--will-topic", will[0], "--will-hex", will[1].hex()]
        self.id = dev_id
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix, timeout=10):
        """The next output line starting with prefix (others are skipped); None at EOF/timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.lines.put(None)
                return None
            if line.startswith(prefix):
                return line

    def send(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def pub(self, topic, payload, wait=True):
        self.send(f"pub {topic} {payload.hex()}")
        return self.expect("puback") is not None if wait else True

    def sub(self, topic):
        self.send(f"sub {topic}")
        return self.expect("suback")

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


class Cloud:
    def __init__(self, work, bulwarkd, plugin, sim=None, extra_args=(), fleet_dir=None):
        """A test fleet made with openssl in work/fleet, or the fleet in fleet_dir
        (made by `bulwark fleet init`); the broker on a free port."""
        self.work = work
        self.sim = sim
        os.makedirs(work, exist_ok=True)
        if fleet_dir is None:
            self.fleet = os.path.join(work, "fleet")
            self.token = fleet.make_fleet(self.fleet)
        else:
            self.fleet = fleet_dir
            self.token = open(os.path.join(fleet_dir, "admin.token")).read().strip()
        self.broker = bulwark_broker.Broker(self.fleet, os.path.join(work, "broker"), plugin=plugin,
                                            port=bulwark_broker.free_port())
        self.broker.start()
        self.port = self.broker.port
        self.bulwarkd_path = bulwarkd
        self.extra_args = list(extra_args)
        self.bulwarkd_log = open(os.path.join(work, "bulwarkd.log"), "w")
        self.start_bulwarkd()

    def start_bulwarkd(self):
        """Starts bulwarkd (the same database and client ID each time) and waits until it
        is connected to the broker."""
        self.bulwarkd = subprocess.Popen([self.bulwarkd_path, "--fleet", self.fleet, "--api-listen", "127.0.0.1:0",
                                          "--broker-port", str(self.port), "--db",
                                          os.path.join(self.work, "bulwarkd.db"), *self.extra_args],
                                         stdout=subprocess.PIPE, stderr=self.bulwarkd_log, text=True)
        line = self.bulwarkd.stdout.readline()   # "bulwarkd: API on http://127.0.0.1:N ..."
        if "API on " not in line:
            raise RuntimeError(f"bulwarkd did not start: {line!r}")
        self.url = line.split("API on ")[1].split()[0]
        self.wait_for(lambda: self.api("GET", "/v1/health")[1].get("broker_connected"), "bulwarkd connected")

    def stop_bulwarkd(self):
        if self.bulwarkd.poll() is None:
            self.bulwarkd.terminate()
            try:
                self.bulwarkd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.bulwarkd.kill()
                self.bulwarkd.wait()

    def api(self, method, path, body=None, token=None, content_type="application/json", raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token is not False:
            req.add_header("Authorization", f"Bearer {token or self.token}")
        if data is not None and content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null"), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text), e.headers.get("Content-Type")
            except ValueError:
                return e.code, {"raw": text.decode(errors="replace")}, e.headers.get("Content-Type")

    def wait_for(self, predicate, what, timeout=15):
        """Polls a REST-visible condition (the state lives in bulwarkd; there is no event to wait on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for: {what}")

    def new_device(self, register=True):
        dev_id = fleet.device_id()
        cert, _ = fleet.make_device(self.fleet, dev_id)
        if register:
            code, body, _ = self.api("POST", "/v1/devices", {"id": dev_id, "certificate": open(cert).read()})
            assert code == 201, (code, body)
        return dev_id

    def device(self, dev_id, **kw):
        return Device(self.sim, self.port, self.fleet, dev_id, **kw)

    def stop(self):
        self.stop_bulwarkd()
        self.broker.stop()
        self.bulwarkd_log.close()


def get_json(url, token):
    """GET url with the bearer token; the JSON answer."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def random_id32():
    return random.randrange(1, 1 << 32)
