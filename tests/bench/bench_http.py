#!/usr/bin/env python3
"""make bench: apps' HTTPS requests one bulwarkd relays for many devices
(docs/SPEC.md §16). DEVICES simulated devices (sim_device: real TLS MQTT
clients of the real mosquitto) each send REQUESTS GETs of a small page, one
at a time (the next once the previous answer arrived), as HTTP_REQUEST
pieces on bw/D/up/http; bulwarkd performs them with libcurl against a local
HTTPS server (`openssl s_server -WWW`, a certificate from a test CA bulwarkd
is told to trust) and answers on bw/D/down/http.
Every answer is checked (result OK, status 200, the page's body).

Figures ("bench: NAME VALUE"): requests answered per second from the first
request to the last answer; bulwarkd's CPU per request (utime + stime from
/proc/PID/stat, clock ticks), which bounds what one core of bulwarkd can
relay whatever the server's speed (the server, mosquitto and the simulated
devices share the same cores; each request is a new TLS connection to the
server: bulwarkd keeps none open).
usage: bench_http.py BULWARKD PLUGIN SIM_DEVICE WORKDIR"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cloud"))
sys.path.insert(0, os.path.join(HERE, "..", "qemu"))
import harness  # noqa: E402
from run_http_test import HOST, make_ca  # noqa: E402
from bench_ota import TICK_S, cpu_s  # noqa: E402  (host CPU from /proc)

DEVICES = int(os.environ.get("BENCH_HTTP_DEVICES", "50"))
REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "20"))
BODY = b"hello from the test server"


def request_piece(request_id):
    """One HTTP_REQUEST piece (§16.1) carrying a whole GET stream (§16.2)."""
    method, url = b"GET", f"https://{HOST}/hello".encode()
    stream = struct.pack("<BBHIII", len(method), 0, len(url), 10000, 0, 2048) + method + url
    return struct.pack("<BBHIII", 1, 6, len(stream), request_id, 0, len(stream)) + stream


def check_answer(dev, line, request_id):
    """The answer to request_id in a "msg TOPIC HEX" line, checked whole."""
    piece = bytes.fromhex(line.split(" ", 2)[2])
    version, kind, length, rid, offset, total = struct.unpack_from("<BBHIII", piece)
    stream = piece[16:]
    if (version, kind, rid, offset, total, length) != (1, 0x84, request_id, 0, len(stream), len(stream)):
        raise SystemExit(f"bench_http: {dev.id}: unexpected piece {piece[:16].hex()}")
    result, _, status, count, _, header_bytes, body_len = struct.unpack_from("<BBHHHII", stream)
    body_at = 16 + 2 * count + header_bytes
    if result != 0 or status != 200 or stream[body_at:body_at + body_len] != BODY:
        raise SystemExit(f"bench_http: {dev.id}: request {request_id}: result {result} status {status}")


def need(ok, what):
    if not ok:
        raise SystemExit(f"bench_http: not {what}")


class Server:
    """`openssl s_server -WWW` on 127.0.0.1 serving /hello from a directory."""

    def __init__(self, work, crt, key):
        www = os.path.join(work, "www")
        os.makedirs(www)
        with open(os.path.join(www, "hello"), "wb") as f:
            f.write(BODY)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc = subprocess.Popen(["openssl", "s_server", "-WWW", "-quiet", "-accept", f"127.0.0.1:{self.port}",
                                      "-cert", crt, "-key", key], cwd=www, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:   # ready once it accepts
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("bench_http: openssl s_server did not start")
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def main():
    bulwarkd, plugin, sim, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ca, crt, key = make_ca(os.path.join(work, "ca"))
    server = Server(work, crt, key)
    cloud = harness.Cloud(work, bulwarkd, plugin, sim, extra_args=[
        "--http-ca", ca, "--http-connect-to", f"{HOST}:443:127.0.0.1:{server.port}"])
    devices = []
    try:
        for _ in range(DEVICES):
            devices.append(cloud.device(cloud.new_device()))
        for d in devices:
            need(d.expect("connected") == "connected 0", f"{d.id} connected")
            need(d.sub(f"bw/{d.id}/down/http") is not None, f"{d.id} subscribed")
        pid = cloud.bulwarkd.pid
        cpu0, start = cpu_s(pid), time.monotonic()
        sent = {d.id: 1 for d in devices}
        for d in devices:
            d.pub(f"bw/{d.id}/up/http", request_piece(1), wait=False)
        pending = list(devices)
        while pending:
            still = []
            for d in pending:
                line = d.expect(f"msg bw/{d.id}/down/http ", timeout=60)
                if line is None:
                    raise SystemExit(f"bench_http: {d.id}: no answer to request {sent[d.id]}")
                check_answer(d, line, sent[d.id])
                if sent[d.id] < REQUESTS:
                    sent[d.id] += 1
                    d.pub(f"bw/{d.id}/up/http", request_piece(sent[d.id]), wait=False)
                    still.append(d)
            pending = still
        elapsed, cpu = time.monotonic() - start, cpu_s(pid) - cpu0
        total = DEVICES * REQUESTS
        health = cloud.api("GET", "/v1/health")[1]["http"]
        need(health["ok"] == total and health["busy_refused"] == 0, f"bulwarkd's counters: {health}")
        print(f"bench: http_devices {DEVICES}")
        print(f"bench: http_requests {total}")
        print(f"bench: http_requests_per_s {total / elapsed:.0f}")
        print(f"bench: http_bulwarkd_cpu_ms_per_request {1000 * cpu / total:.2f}")
        print(f"bench: http_cpu_tick_ms {TICK_S * 1000:g}")
    finally:
        for d in devices:
            d.close()
        cloud.stop()
        server.stop()


if __name__ == "__main__":
    main()
