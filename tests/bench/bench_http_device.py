#!/usr/bin/env python3
"""make bench: the device's cost of an app's relayed HTTPS request (SPEC §16),
under QEMU -icount shift=0 (one instruction = 1 ns of guest time).

http-demo built to GET /hello REQUESTS times (tests/bench: bench_http_demo),
one after the other, on a device online through the modem emulator, TLS,
mosquitto and bulwarkd, against a local HTTPS server. The kernel adds up the
guest time of the link passes in which an HTTP piece went up or came down
(the whole pass: TLS records in and out, MQTT, the relay, the copy into the
app's buffer, and any interrupt taken meanwhile) and logs the sum when the
link goes down, which the bench forces with the modem emulator's
`drop now` once the app is done. Figures ("bench: NAME VALUE"): that sum in
instructions per request, and link passes per request. Not included: the
app's own calls into the kernel (open, send, read, close), and the idle
passes while the request is out.
usage: bench_http_device.py --build BUILD_DIR --workdir DIR"""
import os
import re
import sys
import types

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
from update_harness import Tools  # noqa: E402
from cloud_harness import Modem, Stack, online_device  # noqa: E402
from run_http_test import HOST, Server, make_ca  # noqa: E402
from bench_common import build_and_workdir  # noqa: E402

REQUESTS = 8   # HTTP_DEMO_REPEAT of bench_http_demo (tests/bench/CMakeLists.txt)


def main():
    h, q, work = build_and_workdir(__doc__)
    tools = Tools(types.SimpleNamespace(
        bulwark=os.path.join(h, "cli", "bulwark"), emu=os.path.join(TOP, "emu", "bulwark-emu"),
        boot=os.path.join(q, "boot", "bulwark-boot.elf"), kernel=os.path.join(q, "kernel", "bulwark-kernel.signed"),
        workdir=work))
    ca, crt, key = make_ca(tools.path("ca"))
    server = Server(crt, key)
    stack = Stack(tools.bulwark, os.path.join(h, "cloud", "bulwarkd", "bulwarkd"),
                  os.path.join(h, "cloud", "broker", "bw_registry_plugin.so"), tools.path("stack"),
                  bulwarkd_args=["--http-ca", ca, "--http-connect-to", f"{HOST}:443:127.0.0.1:{server.port}"])
    modem = Modem(os.path.join(h, "emu", "modem", "bulwark-modem"), tools.path("modem.log"))
    device = None
    try:
        app = os.path.join(q, "tests", "bench", "bench_http_demo.elf")
        device = online_device(tools, stack, modem, tools.image("flash.bin", app, []), "device", timeout=600,
                               icount=True)
        device.wait_for("app", r"http-demo: done", 300)
        answered = len(re.findall(r"^http-demo: hello: result 0 status 200 ", device.dev.app_text(), re.M))
        if answered != REQUESTS:
            raise SystemExit(f"bench_http_device: {answered} of {REQUESTS} requests answered 200")
        at = len(device.dev.kernel_text())
        modem.control("drop now")
        m = device.wait_for("kernel", r"cloud: HTTP relay cost this session: (\d+) us in (\d+) link passes", 120,
                            start=at)
        us, passes = int(m.group(1)), int(m.group(2))
        print(f"bench: http_device_requests {REQUESTS}")
        print(f"bench: http_device_insns_per_request {us * 1000 // REQUESTS}")
        print(f"bench: http_device_passes_per_request {passes / REQUESTS:.1f}")
    finally:
        if device is not None:
            device.kill()
        modem.stop()
        stack.stop()
        server.stop()


if __name__ == "__main__":
    main()
