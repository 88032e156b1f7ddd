#!/usr/bin/env python3
"""Apps' MQTT sessions through the cloud link end to end (docs/SPEC.md §18):
a QEMU device running mqtt-demo, the modem emulator, the cloud's broker,
bulwarkd holding the app's session with libmosquitto, and a SECOND mosquitto
as the app's own broker on 127.0.0.1 (a free port) with TLS (the test CA
built with the app: apps/mqtt-demo/make_test_ca.py) and a password file.
bulwarkd's --mqtt-connect-to points mqtt.bulwark.test:8883 at it.

What is checked (apps/mqtt-demo/mqtt_demo.c):
  badpass   a wrong password: the connect response carries the broker's
            CONNACK refusal, 5 (not authorized), request state 0;
  errors    INVALIDHANDLE, RESPONSENOTPRESENT, INVALIDAUTHENTICATION,
            REQUIREDELEMENTMISSING, TOOMANYELEMENTS, REQUESTUNSUCCESSFUL,
            the app's outputs untouched by all of them;
  connect   accepted over TLS with the password; subscribe granted QoS 1;
  qos0/qos1 each publish answered with its correlation ID and received
            back through the broker (a round trip), QoS 1 acknowledged;
  host      mosquitto_pub on the host reaches the app;
  cut       the link cut: CHANNELNOTCONNECTED with NETWORKDISCONNECTED (3),
            and a request on the dead channel is CHANNELCLOSED (0xf);
  again     once the link is back a new channel connects, publishes QoS 1
            (seen by a host subscriber) and disconnects.
"""
import argparse
import os
import pwd
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "cloud", "broker"))
from update_harness import Failure, add_common_args, run_scenario  # noqa: E402
from cloud_harness import Modem, Stack, add_freertos_arg, check_freertos_lines, online_device  # noqa: E402
import bulwark_broker  # noqa: E402


class AppBroker:
    """mosquitto with TLS and a password file: the app's own broker."""

    def __init__(self, work, ca_dir):
        os.makedirs(work, exist_ok=True)
        self.port = bulwark_broker.free_port()
        self.ca = os.path.join(ca_dir, "ca.crt")
        passwords = os.path.join(work, "passwords")
        open(passwords, "w").close()
        subprocess.run(["mosquitto_passwd", "-b", passwords, "demo", "demo-password"], check=True,
                       capture_output=True, timeout=30)
        self.log = os.path.join(work, "mosquitto.log")
        conf = os.path.join(work, "mosquitto.conf")
        with open(conf, "w") as f:
            # As whoever runs us (as root mosquitto would become "mosquitto").
            f.write(f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"
                    f"per_listener_settings true\nlistener {self.port} 127.0.0.1\n"
                    f"certfile {os.path.join(ca_dir, 'server.crt')}\nkeyfile {os.path.join(ca_dir, 'server.key')}\n"
                    f"allow_anonymous false\npassword_file {passwords}\n"
                    f"log_dest file {self.log}\nlog_type all\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.log) or "mosquitto version" not in open(self.log).read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"the app's broker did not start: {self.proc.stderr.read()}")
            time.sleep(0.05)

    def client(self, tool, *args):
        return [tool, "-h", "127.0.0.1", "-p", str(self.port), "--cafile", self.ca, "-u", "demo",
                "-P", "demo-password", *args]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def check_lines(text, wants, what):
    for want in wants:
        if want not in text:
            raise Failure(f"{what}: no '{want}' in the app's output:\n{text}")


def mqtt_story(tools):
    args = tools.args
    broker = AppBroker(tools.path("app-broker"), args.ca_dir)
    stack = Stack(tools.bulwark, args.bulwarkd, args.plugin, tools.path("stack"),
                  bulwarkd_args=["--mqtt-connect-to", f"mqtt.bulwark.test:8883:127.0.0.1:{broker.port}"])
    modem = Modem(args.modem, tools.path("modem.log"))
    device = None
    watcher = None
    try:
        device = online_device(tools, stack, modem, tools.image("flash.bin", args.app, []), "device")

        device.wait_for("app", r"mqtt-demo: badpass: closed", 120)
        check_lines(device.dev.app_text(), ["mqtt-demo: badpass: connect status 0 state 0 reason 5"], "badpass")
        print("badpass: the broker's refusal (CONNACK 5) reached the app")

        device.wait_for("app", r"mqtt-demo: errors: outputs untouched", 60)
        check_lines(device.dev.app_text(), [
            "mqtt-demo: errors: bad handle 7", "mqtt-demo: errors: nothing to read 20",
            "mqtt-demo: errors: credentials without a method 31", "mqtt-demo: errors: no host 35",
            "mqtt-demo: errors: 9 subscriptions 34", "mqtt-demo: errors: acknowledge unknown 24",
            "mqtt-demo: errors: outputs untouched yes"], "errors")
        print("errors: every documented status, outputs untouched")

        device.wait_for("app", r"mqtt-demo: host: waiting", 120)
        check_lines(device.dev.app_text(), [
            "mqtt-demo: connect: connect status 0 state 0 reason 0",
            "mqtt-demo: subscribe: status 0 state 0 correlation 10 codes 1: 1",
            "mqtt-demo: qos0: publish status 0 state 0 correlation 20",
            "mqtt-demo: qos0: received status 0 topic bulwark/demo/q0 payload hello at qos 0 qos 0 retain 0",
            "mqtt-demo: qos1: publish status 0 state 0 correlation 21",
            "mqtt-demo: qos1: received status 0 topic bulwark/demo/q1 payload hello at qos 1 qos 1 retain 0",
            "mqtt-demo: qos1: acknowledged status 0"], "round trip")
        print("round trip: QoS 0 and QoS 1 published, received back, QoS 1 acknowledged")

        subprocess.run(broker.client("mosquitto_pub", "-t", "bulwark/demo/host", "-m", "from the host", "-q", "1"),
                       check=True, capture_output=True, timeout=30)
        device.wait_for("app", r"mqtt-demo: cut: waiting", 60)
        check_lines(device.dev.app_text(), [
            "mqtt-demo: host: received status 0 topic bulwark/demo/host payload from the host qos 1 retain 0",
            "mqtt-demo: host: acknowledged status 0",
            "mqtt-demo: unsub: status 0 state 0 correlation 11 codes 1: 0"], "host")
        print("host: mosquitto_pub's message reached the app")

        watcher = subprocess.Popen(broker.client("mosquitto_sub", "-t", "bulwark/demo/again", "-C", "1", "-W", "200"),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        at = len(device.dev.app_text())
        modem.control("network lost")
        device.wait_for("app", r"mqtt-demo: cut: channel not connected \(closure reason 3, publish now 15\)", 60,
                        start=at)
        modem.control("network back")
        device.wait_for("app", r"mqtt-demo: done", 180, start=at)
        check_lines(device.dev.app_text()[at:], [
            "mqtt-demo: again: connect status 0 state 0 reason 0",
            "mqtt-demo: again: publish status 0 state 0 correlation 30",
            "mqtt-demo: again: disconnect status 0 state 0", "mqtt-demo: done (closed 0)"], "again")
        seen, _ = watcher.communicate(timeout=60)
        if seen.strip() != "back again":
            raise Failure(f"the host subscriber did not see the app's publish after the cut: {seen!r}")
        print("cut: CHANNELNOTCONNECTED (NETWORKDISCONNECTED); again: a new channel connects and publishes")
        if "app crash" in device.dev.kernel_text():
            raise Failure(f"the app crashed or was judged hung:\n{device.dev.kernel_text()}")
        health = stack.cloud.api("GET", "/v1/health")[1]["mqtt"]
        if health["messages_in"] != 3 or health["acks"] != 2 or health["bad_piece_ignored"] != 0 \
                or health["bad_op"] != 0:
            raise Failure(f"bulwarkd's MQTT counters: {health}")
        print(f"bulwarkd mqtt counters: {health}")
        if tools.args.freertos:
            check_freertos_lines(device, "mqtt-demo")
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
        if device is not None:
            device.kill()
        modem.stop()
        stack.stop()
        broker.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--app", required=True, metavar="mqtt-demo.elf")
    parser.add_argument("--ca-dir", required=True, help="apps/mqtt-demo's test-ca directory (build tree)")
    parser.add_argument("--bulwarkd", required=True)
    parser.add_argument("--plugin", required=True, metavar="bw_registry_plugin.so")
    parser.add_argument("--modem", required=True, metavar="bulwark-modem")
    add_freertos_arg(parser, "mqtt-demo")
    args = parser.parse_args()
    for tool in (args.bulwarkd, args.plugin, args.modem, shutil.which("mosquitto_pub") or "mosquitto_pub"):
        if not os.path.exists(tool):
            print(f"SKIP qemu.mqtt: no host tool {tool} (build the host target first: make host)")
            return 77
    name = "qemu.mqtt.story-freertos" if args.freertos else "qemu.mqtt.story"
    return run_scenario(args, name, mqtt_story)


if __name__ == "__main__":
    sys.exit(main())
