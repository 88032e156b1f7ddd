#!/usr/bin/env python3
"""make bench: the device's cost of an app's relayed HTTPS request (SPEC §16),
in exact guest instructions (identical on every run; docs/DESIGN.md "Exact
bench figures").

What runs: http-demo built to GET /hello REQUESTS times (tests/bench:
bench_http_demo), one after the other, on bulwark-kernel-benchtls (tests/bench/
bench_tls_hooks.c: fixed entropy; TLS on a staging stream that takes each send
whole and, after the handshake, hands TLS the server's records one whole
record at a time, each once TLS has asked and found none), online through the
modem emulator, TLS, mosquitto and bulwarkd, against a local HTTPS server.

What is counted (tests/bench/trace_calls.py, a QEMU block log of the kernel,
interrupt handlers and the staging stream's two callbacks left out), per HTTP
piece the relay moved:
  - up: the call of bw_http_relay_pump that published it (the piece taken
    from the app's channel, framed as HTTP_REQUEST, queued as an MQTT
    PUBLISH) and the next bw_mqtt_poll call (that PUBLISH sealed into a TLS
    record and handed to the stream);
  - down: the bw_mqtt_poll call in which it arrived (its TLS record read
    and opened, the MQTT PUBLISH decoded, the topic matched, the piece
    checked and copied for the app: bw_http_relay_received inside it).
The sum per request is printed for each request. The figure is that of
requests 2 to REQUESTS, which must all be equal: the first request's pieces
move while the session's STATUS (QoS 1) may still wait for its PUBACK, and
MQTT's retransmit check costs more per message in flight (10 instructions),
so when that PUBACK arrives decides the first request's count.
Not included: the app's own calls into the kernel (open, send, read, close),
the kernel loop's idle passes while the request is out, the modem's AT work.
Prints "bench: NAME VALUE" lines.
usage: bench_http_device.py --build BUILD_DIR --workdir DIR"""
import os
import re
import sys
import types

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Tools  # noqa: E402
from cloud_harness import Modem, Stack, online_device  # noqa: E402
from run_http_test import HOST, Server, make_ca  # noqa: E402
from trace_calls import CallCounter, functions  # noqa: E402
from bench_common import build_and_workdir, read_log_fifo  # noqa: E402

REQUESTS = 8   # HTTP_DEMO_REPEAT of bench_http_demo (tests/bench/CMakeLists.txt)
WANTED = ("bw_http_relay_pump", "publish_http", "bw_mqtt_poll", "bw_http_relay_received")


def requests(order):
    """[[up insns, down insns, pieces up, pieces down]] per request, from the counted
    calls in the order they ended: a pump call with a publish_http inside is a piece up
    and the bw_mqtt_poll call after it its flush; a bw_mqtt_poll call with a
    bw_http_relay_received inside is a piece down. A request starts at its piece up."""
    found, published, received, flush_next = [], False, False, False
    for name, n in order:
        if name == "publish_http":
            published = True
        elif name == "bw_http_relay_received":
            received = True
        elif name == "bw_http_relay_pump" and published:
            found.append([n, 0, 1, 0])
            published, flush_next = False, True
        elif name == "bw_mqtt_poll" and (received or flush_next) and found:
            found[-1][0 if flush_next else 1] += n
            found[-1][3] += 1 if received else 0
            received = flush_next = False
    return found


def main():
    h, q, work = build_and_workdir(__doc__)
    kernel_elf = os.path.join(q, "tests", "bench", "bulwark-kernel-benchtls.elf")
    tools = Tools(types.SimpleNamespace(
        bulwark=os.path.join(h, "cli", "bulwark"), emu=os.path.join(TOP, "emu", "bulwark-emu"),
        boot=os.path.join(q, "boot", "bulwark-boot.elf"),
        kernel=os.path.join(q, "tests", "bench", "bulwark-kernel-benchtls.signed"), workdir=work))
    ca, crt, key = make_ca(tools.path("ca"))
    server = Server(crt, key)
    stack = Stack(tools.bulwark, os.path.join(h, "cloud", "bulwarkd", "bulwarkd"),
                  os.path.join(h, "cloud", "broker", "bw_registry_plugin.so"), tools.path("stack"),
                  bulwarkd_args=["--http-ca", ca, "--http-connect-to", f"{HOST}:443:127.0.0.1:{server.port}"])
    modem = Modem(os.path.join(h, "emu", "modem", "bulwark-modem"), tools.path("modem.log"))
    counter = CallCounter(kernel_elf, WANTED, excluded=["bench_stream_send", "bench_stream_recv"])
    table = functions(kernel_elf)
    fifo = tools.path("trace.fifo")
    reader = read_log_fifo(counter, fifo)
    device = None
    try:
        app = os.path.join(q, "tests", "bench", "bench_http_demo.elf")
        # -icount: guest time follows instructions, so the slow log reader never starves the watchdog.
        device = online_device(tools, stack, modem, tools.image("flash.bin", app, []), "device", timeout=1800,
                               icount=True, slow=5,
                               extra=("-d", "in_asm,exec,nochain", "-dfilter",
                                      f"0x{table[0][0]:x}..0x{table[-1][1] - 1:x}", "-D", fifo))
        device.wait_for("app", r"http-demo: done", 900)
        answered = len(re.findall(r"^http-demo: hello: result 0 status 200 ", device.dev.app_text(), re.M))
        if answered != REQUESTS:
            raise SystemExit(f"bench_http_device: {answered} of {REQUESTS} requests answered 200")
        at = len(device.dev.kernel_text())
        modem.control("drop now")
        device.wait_for("kernel", r"cloud: link down", 300, start=at)
    finally:
        if device is not None:
            device.kill()
        reader.join(timeout=600)
        modem.stop()
        stack.stop()
        server.stop()
    if reader.is_alive():
        raise SystemExit("bench_http_device: the block log was not read to its end")
    found = requests(counter.order)
    costs = [up + down for up, down, _, _ in found]
    print(f"bench: http_device_requests {len(found)}")
    print(f"bench: http_device_insns_each {' '.join(str(c) for c in costs)}")
    print(f"bench: http_device_up_down_each {' '.join(f'{up}+{down}' for up, down, _, _ in found)}")
    same = len(found) == REQUESTS and len(set(costs[1:])) == 1
    print(f"bench: http_device_insns_per_request {costs[-1] if same else '?'}")
    if found:
        print(f"bench: http_device_up_insns {found[-1][0]}")
        print(f"bench: http_device_down_insns {found[-1][1]}")
        print(f"bench: http_device_pieces_per_request {found[-1][2]} up, {found[-1][3]} down")
    print(f"bench: http_device_handler_insns_left_out {counter.handler_insns}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
