#!/usr/bin/env python3
"""Apps' HTTPS requests through the cloud link end to end (docs/SPEC.md §16):
a QEMU device running http-demo, the modem emulator, mosquitto, bulwarkd
performing the requests with libcurl, and an HTTPS server on 127.0.0.1 with
a certificate for demo.bulwark.test from a test CA that bulwarkd is told to
trust (--http-ca; --http-connect-to points the name at the server's port).

The app's steps (apps/http-demo/main.c) and what is checked:
  hello  GET: status 200, the server's header and body reach the app, and
         the app's own header reached the server;
  echo   POST: the body the app sent comes back;
  big    a body larger than the app's receive buffer: RESPONSETOOLARGE (6);
  slow   the link is cut while the server holds the answer: the app gets
         CHANNELNOTCONNECTED with closure reason NETWORKDISCONNECTED (3);
         bulwarkd, told by the device's will, abandons the request: once the
         server answers, nothing is sent (counted `abandoned`, not `ok`);
  again  once the link is back, a new channel's GET succeeds (kernel up).
bulwarkd's /v1/health counts what it relayed: exactly 3 responses sent
(hello, echo, again), 1 too large, 1 abandoned.
"""
import argparse
import http.server
import os
import re
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, add_common_args, run_scenario  # noqa: E402
from cloud_harness import (DEVICE_ID, Modem, Stack, add_freertos_arg, bulwark_broker,  # noqa: E402
                           check_freertos_lines, online_device)

HOST = "demo.bulwark.test"


def make_ca(work):
    """A test CA and a server certificate for HOST; (ca.crt, server.crt, server.key)."""
    os.makedirs(work, exist_ok=True)
    ca_key, ca_crt = os.path.join(work, "ca.key"), os.path.join(work, "ca.crt")
    key, csr, crt = (os.path.join(work, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(work, "server.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{HOST}\nbasicConstraints=CA:FALSE\n")
    for cmd in (
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=http-test-ca"],
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", f"/CN={HOST}"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext],
    ):
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise Failure(f"{' '.join(cmd)}: {p.stderr}")
    return ca_crt, crt, key


class Server:
    """HTTPS on 127.0.0.1: /hello, /echo, /big (4 KiB), /slow (answers once released)."""

    def __init__(self, crt, key):
        self.seen = []                       # (method, path, X-Demo header)
        self.slow_arrived = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, body, status=200):
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("X-Test", "yes")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                outer.seen.append(("GET", self.path, self.headers.get("X-Demo")))
                if self.path == "/hello":
                    self.answer(b"hello from the test server")
                elif self.path == "/big":
                    self.answer(b"B" * 4096)
                elif self.path == "/slow":
                    outer.slow_arrived.set()
                    outer.release.wait(120)
                    self.answer(b"late")
                else:
                    self.answer(b"no such page", 404)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.seen.append(("POST", self.path, self.headers.get("X-Demo")))
                self.answer(b"echo: " + body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.httpd.shutdown()


def http_story(tools):
    args = tools.args
    ca, crt, key = make_ca(tools.path("ca"))
    server = Server(crt, key)
    stack = Stack(tools.bulwark, args.bulwarkd, args.plugin, tools.path("stack"),
                  bulwarkd_args=["--http-ca", ca, "--http-connect-to", f"{HOST}:443:127.0.0.1:{server.port}"])
    modem = Modem(args.modem, tools.path("modem.log"))
    device = None
    try:
        device = online_device(tools, stack, modem, tools.image("flash.bin", args.app, []), "device")

        device.wait_for("app", r"http-demo: hello: closed", 120)
        text = device.dev.app_text()
        for want in ("http-demo: hello: result 0 status 200 headers ",
                     "http-demo: hello: header X-Test: yes",
                     "http-demo: hello: body hello from the test server"):
            if want not in text:
                raise Failure(f"hello: no '{want}' in the app's output:\n{text}")
        if ("GET", "/hello", "bulwark") not in server.seen:
            raise Failure(f"the server did not get the app's GET with its header: {server.seen}")
        print("hello: " + " | ".join(l for l in text.splitlines() if l.startswith("http-demo: hello:")))

        device.wait_for("app", r"http-demo: echo: closed", 60)
        text = device.dev.app_text()
        if "http-demo: echo: body echo: ping from http-demo" not in text:
            raise Failure(f"echo: the body did not come back:\n{text}")
        print("echo: the POST body came back")

        device.wait_for("app", r"http-demo: big: closed", 60)
        text = device.dev.app_text()
        if "http-demo: big: result 6 " not in text:
            raise Failure(f"big: not RESPONSETOOLARGE:\n{text}")
        print("big: RESPONSETOOLARGE")

        if not server.slow_arrived.wait(60):
            raise Failure("the server never got /slow")
        at = len(device.dev.app_text())
        modem.control("network lost")
        device.wait_for("app", r"http-demo: slow: channel not connected \(closure reason 3\)", 60, start=at)
        wait_until(lambda: not device_online(stack), 60, "bulwarkd to see the device offline")
        server.release.set()
        wait_until(lambda: http_counters(stack)["abandoned"] == 1, 60, "bulwarkd to abandon /slow")
        modem.control("network back")
        device.wait_for("app", r"http-demo: again: result 0 status 200", 120, start=at)
        device.wait_for("app", r"http-demo: done", 30, start=at)
        print("slow: CHANNELNOTCONNECTED on a link cut; again: a new channel works once the link is back")

        if "app crash" in device.dev.kernel_text():
            raise Failure(f"the app crashed or was judged hung:\n{device.dev.kernel_text()}")
        health = http_counters(stack)
        if (health["ok"] != 3 or health["too_large"] != 1 or health["abandoned"] != 1
                or health["bad_piece_ignored"] != 0):
            raise Failure(f"bulwarkd's HTTP counters: {health}")
        print(f"bulwarkd http counters: {health}")
        if tools.args.freertos:
            check_freertos_lines(device, "http-demo")
    finally:
        if device is not None:
            device.kill()
        modem.stop()
        stack.stop()
        server.stop()


def http_counters(stack):
    return stack.cloud.api("GET", "/v1/health")[1]["http"]


def device_online(stack):
    listed = stack.cli_json("devices", "list")["devices"]
    return any(d["id"] == DEVICE_ID and d["online"] for d in listed)


def wait_until(condition, timeout, what):
    """Polls bulwarkd's state (no event to wait on from outside) until condition()."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--app", required=True, metavar="http-demo.elf")
    parser.add_argument("--bulwarkd", required=True)
    parser.add_argument("--plugin", required=True, metavar="bw_registry_plugin.so")
    parser.add_argument("--modem", required=True, metavar="bulwark-modem")
    add_freertos_arg(parser, "http-demo")
    args = parser.parse_args()
    for tool in (args.bulwarkd, args.plugin, args.modem):
        if not os.path.exists(tool):
            print(f"SKIP qemu.http: no host tool {tool} (build the host target first: make host)")
            return 77
    name = "qemu.http.story-freertos" if args.freertos else "qemu.http.story"
    return run_scenario(args, name, http_story)


if __name__ == "__main__":
    sys.exit(main())
