#!/usr/bin/env python3
"""QEMU test driver (one CTest test per call): builds a fresh flash image with the kernel
and app, boots it with bulwark-emu, then checks the exit code and the console logs.

Files in --workdir (recreated on every call): flash.bin, app.log (UART0),
kernel.log (UART1), emu.log (bulwark-emu's and QEMU's own output), and with
--decode-with, decode.log (`bulwark crash decode --elf APP kernel.log`).
Regexes may name app symbols as {NAME} (with --symbol NAME): replaced by the
symbol's address as 8 lower-case hex digits, read from the app ELF with nm.
Prints `PASS <name>` and exits 0, or reports the failed checks, dumps the logs and
exits 1. Bad arguments exit 2; a --decode-with tool that is missing exits 77 (skip).
Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

LOG_TAIL_LINES = 200
EMU_GRACE_SECONDS = 30  # beyond --timeout, in case bulwark-emu itself hangs
SKIP_EXIT = 77          # CTest SKIP_RETURN_CODE of the tests that decode
NM = "arm-none-eabi-nm"


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
    return pattern, int(count)


def app_symbols(app, names):
    """{name: 8-hex-digit address} for each named symbol of the app ELF."""
    if not names:
        return {}
    out = subprocess.run([NM, app], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in names:
            found[parts[2]] = f"{int(parts[0], 16):08x}"
    missing = sorted(set(names) - set(found))
    if missing:
        raise SystemExit(f"run_test: {app} has no symbol {', '.join(missing)}")
    return found


def with_symbols(pattern, symbols):
    for name, value in symbols.items():
        pattern = pattern.replace("{" + name + "}", value)
    return regex(pattern)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emu", required=True, help="path to bulwark-emu")
    parser.add_argument("--boot", required=True, metavar="BOOT.elf")
    parser.add_argument("--kernel", required=True, metavar="KERNEL.signed")
    parser.add_argument("--app", required=True, metavar="APP.elf")
    parser.add_argument("--workdir", required=True, metavar="DIR")
    parser.add_argument("--name", help="test name for the PASS line (default: DIR's name)")
    parser.add_argument("--expect-exit", type=int, default=0, metavar="N",
                        help="expected bulwark-emu exit code (default 0)")
    parser.add_argument("--expect-app", action="append", default=[],
                        metavar="REGEX", help="must match app.log")
    parser.add_argument("--expect-kernel", action="append", default=[],
                        metavar="REGEX", help="must match kernel.log")
    parser.add_argument("--reject-kernel", action="append", default=[],
                        metavar="REGEX", help="must not match kernel.log")
    parser.add_argument("--expect-kernel-count", type=regex_count, action="append",
                        default=[], metavar="REGEX=N",
                        help="must match kernel.log exactly N times")
    parser.add_argument("--timeout", type=positive_seconds, default=30, metavar="S",
                        help="bulwark-emu run --timeout (default 30)")
    parser.add_argument("--icount-warp", action="store_true",
                        help="guest time = instructions, and idle time skipped at once "
                             "(-icount shift=0,sleep=off): long backoffs cost no wall time")
    parser.add_argument("--device-id", metavar="HEX")
    parser.add_argument("--rollback", metavar="N",
                        help="the kernel anti-rollback counter the image starts with")
    parser.add_argument("--symbol", action="append", default=[], metavar="NAME",
                        help="app symbol that regexes may name as {NAME}")
    parser.add_argument("--decode-with", metavar="BULWARK",
                        help="after the run: BULWARK crash decode --elf APP kernel.log")
    parser.add_argument("--expect-decode", action="append", default=[], metavar="REGEX",
                        help="must match the decode output")
    args = parser.parse_args()
    try:
        symbols = app_symbols(args.app, args.symbol)
        for name in ("expect_app", "expect_kernel", "reject_kernel", "expect_decode"):
            setattr(args, name, [with_symbols(p, symbols) for p in getattr(args, name)])
        args.expect_kernel_count = [(with_symbols(p, symbols), n)
                                    for p, n in args.expect_kernel_count]
    except (argparse.ArgumentTypeError, subprocess.CalledProcessError, OSError) as e:
        parser.error(str(e))
    return args


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
    if args.decode_with and not os.access(args.decode_with, os.X_OK):
        print(f"SKIP {name}: no host tool {args.decode_with} (build the host target first: make host)")
        return SKIP_EXIT
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
    if args.rollback:
        create += ["--rollback", args.rollback]
    if run_emu(create, emu_log, EMU_GRACE_SECONDS) != 0:
        failures.append("image create failed")
    else:
        run = [args.emu, "run", "--image", image, "--boot", args.boot,
               "--app-log", app_log, "--kernel-log", kernel_log, "--timeout", str(args.timeout)]
        # Guest time counts instructions: a stalled host thread cannot fire the
        # kernel's watchdog (docs/DESIGN.md "Guest time in the QEMU tests").
        if args.icount_warp:
            run += ["--extra", "-icount", "shift=0,sleep=off"]
        else:
            run.append("--icount-auto")
        code = run_emu(run, emu_log, args.timeout + EMU_GRACE_SECONDS)
        ran = True
        if code != args.expect_exit:
            failures.append(f"exit code {code}, expected {args.expect_exit}")

    app_text, kernel_text = read_log(app_log), read_log(kernel_log)
    decode_text = ""
    if ran and args.decode_with:
        decode_log = os.path.join(args.workdir, "decode.log")
        decode = [args.decode_with, "crash", "decode", "--elf", args.app, kernel_log]
        with open(decode_log, "w") as log:
            result = subprocess.run(decode, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, timeout=EMU_GRACE_SECONDS)
        decode_text = read_log(decode_log)
        if result.returncode != 0:
            failures.append(f"crash decode exit code {result.returncode}")
        for rx in args.expect_decode:
            if not rx.search(decode_text):
                failures.append(f"decode.log lacks /{rx.pattern}/")
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
    if decode_text:
        dump("decode.log", decode_text)
    return 1


if __name__ == "__main__":
    sys.exit(main())
