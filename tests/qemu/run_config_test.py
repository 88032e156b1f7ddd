#!/usr/bin/env python3
"""Apps' config and secrets end to end (docs/SPEC.md §17): a QEMU device
running config-demo, the modem emulator, mosquitto, bulwarkd answering from
SQLite (the secret sealed at rest, opened only for the device's link).

The story: the device is provisioned (registered) while its network is cut
at the modem, so the operator sets everything with the CLI before the app's
first fetch: `bulwark config set greeting` (account), the device's own
`greeting` (`--device`), `interval` (account only) and `bulwark secrets set
api_token` (account, from standard input). Then the network comes back.
Checked in the app's output:
  values  account greeting, the device's override, interval through the
          device scope (the account's), the secret's plaintext, and the
          missing key as KEYNOTFOUND (1) with length 0;
  errors  every documented status of the app-side error paths, and the
          app's result, length and value buffers untouched on error.
The app never crashes nor is judged hung. bulwarkd's /v1/health counts exactly 2 fetches and 6 items (values: 5,
errors: 1); `bulwark secrets list` shows the name only.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import Failure, add_common_args, run_scenario  # noqa: E402
from cloud_harness import DEVICE_ID, CloudDevice, Modem, Stack, add_freertos_arg, check_freertos_lines  # noqa: E402

SECRET = "tok-7f3e9b-plaintext"

VALUES = [
    "config-demo: values: item 0 account greeting: status 0 result 0 length 22 value 'hello from the account'",
    "config-demo: values: item 1 device greeting: status 0 result 0 length 17 value 'hello from device'",
    "config-demo: values: item 2 device interval: status 0 result 0 length 2 value '30'",
    f"config-demo: values: item 3 account api_token: status 0 result 0 length {len(SECRET)} value '{SECRET}'",
    "config-demo: values: item 4 account missing: status 0 result 1 length 0 value ''",
]

ERRORS = [  # (what, documented MvStatus)
    ("no keys", 0x2), ("17 keys", 0x1b), ("scope 7", 0x1d), ("store 7", 0x1c), ("key with a space", 0x1e),
    ("stale handle", 0x7), ("read before a fetch", 0x14), ("second fetch", 0x17), ("index 1 of 1", 0x15),
    ("4-byte buffer", 0x3), ("read after close", 0x7),
]


def config_story(tools):
    args = tools.args
    stack = Stack(tools.bulwark, args.bulwarkd, args.plugin, tools.path("stack"))
    modem = Modem(args.modem, tools.path("modem.log"))
    device = None
    try:
        device = CloudDevice(tools, tools.image("flash.bin", args.app, []), "device", modem)
        device.wait_for("kernel", r"credentials: not provisioned \(key ready\)", 60)
        modem.control("network lost")
        out = device.provision(stack)
        if f"registered {DEVICE_ID} with {stack.cloud.url}" not in out:
            raise Failure(f"provision did not register the device:\n{out}")

        stack.cli("config", "set", "greeting", "hello from the account")
        stack.cli("config", "set", "greeting", "hello from device", "--device", DEVICE_ID)
        stack.cli("config", "set", "interval", "30")
        p = stack.cli("secrets", "set", "api_token", stdin_text=SECRET + "\n")
        if SECRET in p.stdout + p.stderr:
            raise Failure("`bulwark secrets set` printed the secret")
        listed = stack.cli("secrets", "list").stdout
        if listed != "api_token\n":
            raise Failure(f"secrets list: {listed!r}")
        print("operator: greeting (account + device override), interval, secret api_token set")

        modem.control("network back")
        device.wait_for("kernel", rf"cloud: online as {DEVICE_ID}", 120)
        device.wait_for("app", r"config-demo: values: closed", 120)
        text = device.dev.app_text()
        for want in VALUES:
            if want not in text:
                raise Failure(f"values: no '{want}' in the app's output:\n{text}")
        for line in text.splitlines():
            if line.startswith("config-demo: values: item"):
                print(line)

        device.wait_for("app", r"config-demo: done", 60)
        text = device.dev.app_text()
        for what, status in ERRORS:
            want = f"config-demo: errors: {what}: status {status} (as documented)"
            if want not in text:
                raise Failure(f"errors: no '{want}' in the app's output:\n{text}")
        if "config-demo: errors: buffers untouched on error: yes" not in text:
            raise Failure(f"errors: the app's buffers changed on an error:\n{text}")
        print(f"errors: {len(ERRORS)} error paths as documented; buffers untouched on error")

        kernel = device.dev.kernel_text()
        if "app crash" in kernel:
            raise Failure(f"the app crashed or was judged hung:\n{kernel}")
        counters = stack.cloud.api("GET", "/v1/health")[1]["http"]["config"]
        if counters != {"fetches": 2, "items": 6, "bad_request_ignored": 0}:
            raise Failure(f"bulwarkd's config counters: {counters}")
        print(f"bulwarkd config counters: {counters}")
        if tools.args.freertos:
            check_freertos_lines(device, "config-demo")
    finally:
        if device is not None:
            device.kill()
        modem.stop()
        stack.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--app", required=True, metavar="config-demo.elf")
    parser.add_argument("--bulwarkd", required=True)
    parser.add_argument("--plugin", required=True, metavar="bw_registry_plugin.so")
    parser.add_argument("--modem", required=True, metavar="bulwark-modem")
    add_freertos_arg(parser, "config-demo")
    args = parser.parse_args()
    for tool in (args.bulwarkd, args.plugin, args.modem):
        if not os.path.exists(tool):
            print(f"SKIP qemu.config: no host tool {tool} (build the host target first: make host)")
            return 77
    name = "qemu.config.story-freertos" if args.freertos else "qemu.config.story"
    return run_scenario(args, name, config_story)


if __name__ == "__main__":
    sys.exit(main())
