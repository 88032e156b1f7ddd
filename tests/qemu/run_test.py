#!/usr/bin/env python3
"""QEMU test driver (one CTest test per call): builds a fresh flash image with the kernel
and app, boots it with bulwark-emu, then checks the exit code and the console logs.

Files in --workdir (recreated on every call): flash.bin, app.log (UART0),
kernel.log (UART1), emu.log (bulwark-emu's and QEMU's own output).
Prints `PASS <name>` and exits 0, or reports the failed checks, dumps the logs and
exits 1. Bad arguments exit 2. Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

LOG_TAIL_LINES = 200
EMU_GRACE_SECONDS = 30  # beyond --timeout, in case bulwark-emu itself hangs


def regex(text):
    try:
        return re.compile(text, re.MULTILINE)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"bad regex {text!r}: {e}")


def positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}")
    return value


def regex_count(text):
    pattern, sep, count = text.rpartition("=")
    if not sep or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected REGEX=N, got {text!r}")
    return regex(pattern), int(count)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emu", required=True, help="path to bulwark-emu")
    parser.add_argument("--boot", required=True, metavar="BOOT.elf")
    parser.add_argument("--kernel", required=True, metavar="KERNEL.elf")
    parser.add_argument("--app", required=True, metavar="APP.elf")
    parser.add_argument("--workdir", required=True, metavar="DIR")
    parser.add_argument("--name", help="test name for the PASS line (default: DIR's name)")
    parser.add_argument("--expect-exit", type=int, default=0, metavar="N",
                        help="expected bulwark-emu exit code (default 0)")
    parser.add_argument("--expect-app", type=regex, action="append", default=[],
                        metavar="REGEX", help="must match app.log")
    parser.add_argument("--expect-kernel", type=regex, action="append", default=[],
                        metavar="REGEX", help="must match kernel.log")
    parser.add_argument("--reject-kernel", type=regex, action="append", default=[],
                        metavar="REGEX", help="must not match kernel.log")
    parser.add_argument("--expect-kernel-count", type=regex_count, action="append",
                        default=[], metavar="REGEX=N",
                        help="must match kernel.log exactly N times")
    parser.add_argument("--timeout", type=positive_seconds, default=30, metavar="S",
                        help="bulwark-emu run --timeout (default 30)")
    parser.add_argument("--icount", action="store_true")
    parser.add_argument("--device-id", metavar="HEX")
    return parser.parse_args()


def read_log(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def run_emu(args, emu_log, extra_timeout):
    """Runs bulwark-emu with args, its output appended to emu_log; returns its exit code."""
    with open(emu_log, "a") as log:
        log.write("$ " + " ".join(args) + "\n")
        log.flush()
        try:
            return subprocess.run(args, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, timeout=extra_timeout).returncode
        except subprocess.TimeoutExpired:
            log.write("run_test: bulwark-emu did not return\n")
            return None
        except OSError as e:
            log.write(f"run_test: cannot run {args[0]}: {e.strerror}\n")
            return None


def dump(title, text):
    lines = text.splitlines()
    print(f"----- {title} (last {min(len(lines), LOG_TAIL_LINES)} of {len(lines)} lines)")
    for line in lines[-LOG_TAIL_LINES:]:
        print(line)


def main():
    args = parse_args()
    name = args.name or os.path.basename(os.path.normpath(args.workdir))
    try:
        if os.path.lexists(args.workdir):
            shutil.rmtree(args.workdir)
        os.makedirs(args.workdir)
    except OSError as e:
        print(f"run_test: cannot recreate {args.workdir}: {e.strerror}", file=sys.stderr)
        return 2
    image = os.path.join(args.workdir, "flash.bin")
    app_log = os.path.join(args.workdir, "app.log")
    kernel_log = os.path.join(args.workdir, "kernel.log")
    emu_log = os.path.join(args.workdir, "emu.log")

    failures = []
    ran = False
    create = [args.emu, "image", "create", "--out", image,
              "--kernel", args.kernel, "--app", args.app]
    if args.device_id:
        create += ["--device-id", args.device_id]
    if run_emu(create, emu_log, EMU_GRACE_SECONDS) != 0:
        failures.append("image create failed")
    else:
        run = [args.emu, "run", "--image", image, "--boot", args.boot,
               "--app-log", app_log, "--kernel-log", kernel_log, "--timeout", str(args.timeout)]
        if args.icount:
            run.append("--icount")
        code = run_emu(run, emu_log, args.timeout + EMU_GRACE_SECONDS)
        ran = True
        if code != args.expect_exit:
            failures.append(f"exit code {code}, expected {args.expect_exit}")

    app_text, kernel_text = read_log(app_log), read_log(kernel_log)
    if ran:
        for rx in args.expect_app:
            if not rx.search(app_text):
                failures.append(f"app.log lacks /{rx.pattern}/")
        for rx in args.expect_kernel:
            if not rx.search(kernel_text):
                failures.append(f"kernel.log lacks /{rx.pattern}/")
        for rx in args.reject_kernel:
            found = rx.search(kernel_text)
            if found:
                failures.append(f"kernel.log has rejected /{rx.pattern}/: {found.group(0)!r}")
        for rx, want in args.expect_kernel_count:
            got = sum(1 for _ in rx.finditer(kernel_text))
            if got != want:
                failures.append(f"kernel.log matches /{rx.pattern}/ {got} times, expected {want}")

    if not failures:
        print(f"PASS {name}")
        return 0
    print(f"FAIL {name}")
    for failure in failures:
        print(f"  check failed: {failure}")
    dump("emu.log", read_log(emu_log))
    dump("app.log", app_text)
    dump("kernel.log", kernel_text)
    return 1


if __name__ == "__main__":
    sys.exit(main())
