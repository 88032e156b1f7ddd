#!/usr/bin/env python3
"""bulwark-emu: builds the emulated device's flash image and runs it on QEMU mps2-an505.

The device's "flash" is a 16 MiB host file that QEMU maps at 0x80000000 (file-backed
PSRAM, see /work/shared/design/QEMU-NOTES.md). This tool creates that file with a device
identity record, programs kernel and app ELFs into their slots, prints the identity, and
runs QEMU with the boot stub, the flash file and the four UARTs wired up.
Python 3 standard library only. Usage: bulwark-emu --help.
"""

import argparse
import base64
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import termios
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import memory_map  # noqa: E402  (port/qemu-an505/memory_map.def, the board's one map)

# Flash layout of the QEMU device, from its memory map (described in docs/SPEC.md).
MAP = memory_map.load("qemu-an505")
ERASED = 0xFF                           # erased NOR flash reads 0xFF


def _span(region):
    return (region.base, region.end)    # [start, end)


FLASH_BASE = MAP["FLASH"].base
FLASH_SIZE = MAP["FLASH"].size          # host file size; file offset = address - FLASH_BASE
APP_SLOT = _span(MAP["APP_SLOT"])       # non-secure app
KERNEL_SLOT = _span(MAP["KERNEL_SLOT"])  # secure kernel
KERNEL_SEAL = _span(MAP["KERNEL_SEAL"])  # its seal (docs/SPEC.md section 19), right after it
ROLLBACK = _span(MAP["ROLLBACK"])        # the kernel anti-rollback counter (one-way)
assert KERNEL_SEAL[0] == KERNEL_SLOT[1], "the map puts the kernel seal right after the kernel slot"
IMAGE_A = _span(MAP.partition_span("IMAGE_A"))   # update image bank A (staging / last-known-good)
IMAGE_B = _span(MAP.partition_span("IMAGE_B"))   # update image bank B
UPDATE_STATE = _span(MAP.partition_span("UPDATE_STATE"))  # the update engine's journal
CRASH_LOG = _span(MAP.partition_span("CRASH_LOG"))        # ring of crash records
CREDENTIALS = _span(MAP.partition_span("CREDENTIALS"))    # device key and certificates
IDENTITY_SECTOR = _span(MAP["IDENTITY"])  # identity record at its start
UNASSIGNED = (CREDENTIALS[1], MAP.partition_span("KERNEL_NEW").base)  # not used yet (erased)
KERNEL_NEW = _span(MAP.partition_span("KERNEL_NEW"))      # a staged kernel (section 19.5)
KERNEL_OLD = _span(MAP.partition_span("KERNEL_OLD"))      # the backup kernel
KERNEL_STATE = _span(MAP.partition_span("KERNEL_STATE"))  # the kernel-state journal
UNASSIGNED_HIGH = (KERNEL_STATE[1], ROLLBACK[0])           # not used yet (erased)

# Identity record: u32 magic, u32 version, 16-byte device identity, u32 CRC-32 (IEEE,
# zlib.crc32) of the preceding 24 bytes; little endian.
IDENTITY_MAGIC = 0x44495742
IDENTITY_VERSION = 1
IDENTITY_FORMAT = "<II16sI"
IDENTITY_SIZE = struct.calcsize(IDENTITY_FORMAT)  # 28

# What programming a kernel erases and writes: the slot and its seal.
SLOTS = {"app": APP_SLOT, "kernel": (KERNEL_SLOT[0], KERNEL_SEAL[1])}
REGIONS = [("app slot", APP_SLOT), ("kernel slot", KERNEL_SLOT), ("kernel seal", KERNEL_SEAL),
           ("image bank A", IMAGE_A), ("image bank B", IMAGE_B),
           ("update state", UPDATE_STATE), ("crash log", CRASH_LOG),
           ("credentials", CREDENTIALS), ("unassigned area", UNASSIGNED),
           ("staged kernel", KERNEL_NEW), ("backup kernel", KERNEL_OLD),
           ("kernel journal", KERNEL_STATE), ("unassigned area", UNASSIGNED_HIGH),
           ("rollback counter", ROLLBACK),
           ("identity sector", IDENTITY_SECTOR)]

# ELF32 constants.
ELF_HEADER = "<16sHHIIIIIHHHHHH"
ELF_HEADER_SIZE = struct.calcsize(ELF_HEADER)     # 52
PROGRAM_HEADER = "<8I"
PROGRAM_HEADER_SIZE = struct.calcsize(PROGRAM_HEADER)  # 32
EM_ARM = 40
PT_LOAD = 1

QEMU = "qemu-system-arm"
EXIT_TIMEOUT = 124
STOP_GRACE_SECONDS = 2  # after SIGTERM, before SIGKILL


class UserError(Exception):
    """Bad input: reported as one line on stderr, exit status 2."""


def span(region):
    return f"[{region[0]:#010x}, {region[1]:#010x})"


def where_is(address):
    """Names the flash region holding address, for error messages."""
    for name, (start, end) in REGIONS:
        if start <= address < end:
            return f"in the {name}"
    return f"outside the flash window {span((FLASH_BASE, FLASH_BASE + FLASH_SIZE))}"


# --- ELF programming --------------------------------------------------------------------

def load_elf_segments(path, slot_name):
    """Returns [(address, bytes)] for every PT_LOAD segment with file bytes, at its LMA.

    Every segment must lie wholly inside the named slot.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}")
    if len(data) < ELF_HEADER_SIZE or data[:4] != b"\x7fELF":
        raise UserError(f"{path}: not an ELF file")
    (ident, _type, machine, _version, _entry, phoff, _shoff, _flags, _ehsize,
     phentsize, phnum, _shentsize, _shnum, _shstrndx) = struct.unpack_from(ELF_HEADER, data)
    if ident[4] != 1:
        raise UserError(f"{path}: not a 32-bit ELF file")
    if ident[5] != 1:
        raise UserError(f"{path}: not a little-endian ELF file")
    if machine != EM_ARM:
        raise UserError(f"{path}: not an ARM ELF file (e_machine {machine})")
    if phnum and (phentsize < PROGRAM_HEADER_SIZE or phoff + phnum * phentsize > len(data)):
        raise UserError(f"{path}: truncated or malformed program header table")

    slot = SLOTS[slot_name]
    segments = []
    for index in range(phnum):
        (p_type, offset, _vaddr, paddr, filesz, _memsz, _pflags,
         _align) = struct.unpack_from(PROGRAM_HEADER, data, phoff + index * phentsize)
        if p_type != PT_LOAD or filesz == 0:
            continue
        if offset + filesz > len(data):
            raise UserError(f"{path}: segment {index} extends past the end of the file")
        end = paddr + filesz
        where = f"{path}: segment {index} [{paddr:#010x}, {end:#010x})"
        if slot[0] <= paddr < slot[1] < end:
            raise UserError(f"{where} overflows the {slot_name} slot {span(slot)} "
                            f"by {end - slot[1]} bytes")
        if not slot[0] <= paddr < end <= slot[1]:
            raise UserError(f"{where} lies outside the {slot_name} slot {span(slot)}: "
                            f"its address is {where_is(paddr)}")
        segments.append((paddr, data[offset:offset + filesz]))
    if not segments:
        raise UserError(f"{path}: no loadable segments with file contents")
    return segments


# Signed kernel image (`bulwark kernel sign`, docs/SPEC.md section 19): the seal (magic
# "BWKS", its size a u16 at offset 6), then the image for the start of the kernel slot.
SEAL_MAGIC = b"BWKS"
# Anti-rollback counter record (section 19.4): magic "BWRC", value, ~value, ~magic.
ROLLBACK_MAGIC = 0x43525742


def load_kernel(path, slot_name):
    """[(address, bytes)] to program for a kernel: a signed kernel image (image at the
    slot's start, seal in KERNEL_SEAL) or, for tests of the stub's refusal, an ELF."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            data = head + f.read() if head == SEAL_MAGIC else None
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}")
    if data is None:
        return load_elf_segments(path, slot_name)
    seal_size = struct.unpack_from("<H", data, 6)[0] if len(data) >= 8 else 0
    image = data[seal_size:]
    if not 8 <= seal_size <= KERNEL_SEAL[1] - KERNEL_SEAL[0] or len(image) > KERNEL_SLOT[1] - KERNEL_SLOT[0]:
        raise UserError(f"{path}: a signed kernel image whose seal or image does not fit "
                        f"the kernel slot {span(KERNEL_SLOT)} and seal {span(KERNEL_SEAL)}")
    return [(KERNEL_SLOT[0], image), (KERNEL_SEAL[0], data[:seal_size])]


def load_slot(name, path):
    return load_kernel(path, name) if name == "kernel" else load_elf_segments(path, name)


def rollback_record(value):
    return struct.pack("<IIII", ROLLBACK_MAGIC, value, value ^ 0xFFFFFFFF, ROLLBACK_MAGIC ^ 0xFFFFFFFF)


# Kernel-state journal record (section 19.5): u32 seq, magic 0xB9, format 1, state, then
# fields; CRC-32 of bytes 0-27 at 28. State 1: KERNEL_NEW holds a kernel to try.
KSTATE_MAGIC = 0xB9
KSTATE_STAGED = 1


def kstate_record(seq, state):
    head = struct.pack("<IBBB", seq, KSTATE_MAGIC, 1, state) + bytes(28 - 7)
    return head + struct.pack("<I", zlib.crc32(head))


def kernel_area(path):
    """A kernel area (section 19.5) of a signed kernel: its image, then its seal at the
    seal's place, the shape of the kernel slot followed by KERNEL_SEAL."""
    segments = load_kernel(path, "kernel")
    return slot_contents("kernel", segments)


def slot_contents(slot_name, segments):
    """The whole slot as it reads after erasing it and programming the segments."""
    start, end = SLOTS[slot_name]
    contents = bytearray([ERASED]) * (end - start)
    for address, payload in segments:
        contents[address - start:address - start + len(payload)] = payload
    return contents


# --- image file -------------------------------------------------------------------------

def check_image(path):
    try:
        size = os.stat(path).st_size
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}")
    if not os.path.isfile(path) or size != FLASH_SIZE:
        raise UserError(f"{path}: not a flash image (size {size}, expected {FLASH_SIZE} bytes)")


def identity_record(device_id):
    head = struct.pack("<II16s", IDENTITY_MAGIC, IDENTITY_VERSION, device_id)
    return head + struct.pack("<I", zlib.crc32(head))


# Trusted update keys, after the identity record (docs/SPEC.md section 3):
# u32 magic "BWKY", u32 version 1, u32 count, count x 65-byte P-256 points, u32 CRC-32.
KEYS_OFFSET = 0x100
KEYS_MAGIC = 0x594B5742
KEYS_VERSION = 1
KEYS_MAX = 4


def public_key_point(path):
    """The 65-byte uncompressed point of a PEM P-256 public key (`bulwark keys generate`)."""
    try:
        text = open(path).read()
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}")
    body = [l for l in text.splitlines() if l and not l.startswith("-----")]
    if "-----BEGIN PUBLIC KEY-----" not in text:
        raise UserError(f"{path}: not a PEM public key")
    try:
        der = base64.b64decode("".join(body), validate=True)
    except ValueError:
        raise UserError(f"{path}: corrupt PEM public key")
    point = der[-65:]
    if len(der) != 91 or point[0] != 4:
        raise UserError(f"{path}: not an uncompressed P-256 public key")
    return point


def keys_record(points):
    head = struct.pack("<III", KEYS_MAGIC, KEYS_VERSION, len(points)) + b"".join(points)
    return head + struct.pack("<I", zlib.crc32(head))


def parse_device_id(text):
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise argparse.ArgumentTypeError(f"device id must be 32 hex digits, got {text!r}")
    return bytes.fromhex(text)


def cmd_image_create(args):
    if os.path.exists(args.out) and not args.force:
        raise UserError(f"{args.out}: already exists (use --force to overwrite)")
    # Parse the ELFs before opening the output, so that a bad one leaves no file behind.
    slots = {name: load_slot(name, path)
             for name, path in (("kernel", args.kernel), ("app", args.app)) if path}
    image = bytearray([ERASED]) * FLASH_SIZE
    offset = IDENTITY_SECTOR[0] - FLASH_BASE
    image[offset:offset + IDENTITY_SIZE] = identity_record(args.device_id or os.urandom(16))
    if args.update_key:
        if len(args.update_key) > KEYS_MAX:
            raise UserError(f"at most {KEYS_MAX} update keys")
        record = keys_record([public_key_point(p) for p in args.update_key])
        image[offset + KEYS_OFFSET:offset + KEYS_OFFSET + len(record)] = record
    if args.rollback is not None:
        offset = ROLLBACK[0] - FLASH_BASE
        image[offset:offset + 16] = rollback_record(args.rollback)
    for name, segments in slots.items():
        start, end = SLOTS[name]
        image[start - FLASH_BASE:end - FLASH_BASE] = slot_contents(name, segments)
    for path, area in ((args.stage_kernel, KERNEL_NEW), (args.backup_kernel, KERNEL_OLD)):
        if path:
            image[area[0] - FLASH_BASE:area[1] - FLASH_BASE] = kernel_area(path)
    if args.stage_kernel:
        offset = KERNEL_STATE[0] - FLASH_BASE
        image[offset:offset + 32] = kstate_record(1, KSTATE_STAGED)
    try:
        with open(args.out, "wb" if args.force else "xb") as f:
            f.write(image)
    except FileExistsError:
        raise UserError(f"{args.out}: already exists (use --force to overwrite)")
    except OSError as e:
        raise UserError(f"{args.out}: {e.strerror}")
    return 0


def cmd_image_flash(args):
    check_image(args.image)
    name, path = ("kernel", args.kernel) if args.kernel else ("app", args.app)
    contents = slot_contents(name, load_slot(name, path))
    try:
        with open(args.image, "r+b") as f:
            f.seek(SLOTS[name][0] - FLASH_BASE)
            f.write(contents)
    except OSError as e:
        raise UserError(f"{args.image}: {e.strerror}")
    return 0


def cmd_identity(args):
    check_image(args.image)
    try:
        with open(args.image, "rb") as f:
            f.seek(IDENTITY_SECTOR[0] - FLASH_BASE)
            record = f.read(IDENTITY_SIZE)
    except OSError as e:
        raise UserError(f"{args.image}: {e.strerror}")
    magic, version, device_id, crc = struct.unpack(IDENTITY_FORMAT, record)
    if record == bytes([ERASED]) * IDENTITY_SIZE:
        raise UserError(f"{args.image}: no identity record (identity sector is erased)")
    if magic != IDENTITY_MAGIC:
        raise UserError(f"{args.image}: corrupt identity record (magic {magic:#010x})")
    if version != IDENTITY_VERSION:
        raise UserError(f"{args.image}: unsupported identity record version {version}")
    if crc != zlib.crc32(record[:-4]):
        raise UserError(f"{args.image}: corrupt identity record (CRC mismatch)")
    print(device_id.hex())
    return 0


# --- run --------------------------------------------------------------------------------

def qemu_command(args):
    """The QEMU command line for `run`, and whether it uses the terminal (stdio)."""
    cmd = [QEMU, "-M", "mps2-an505", "-nodefaults", "-nic", "none", "-display", "none",
           "-semihosting-config", "enable=on,target=native",
           "-kernel", args.boot,
           # Commas in -object values must be doubled.
           "-object", "memory-backend-file,id=psram,mem-path=%s,size=16M,share=on"
           % args.image.replace(",", ",,"),
           "-machine", "memory-backend=psram"]
    icount = ("shift=0" if args.icount else "shift=auto" if args.icount_auto
              else f"shift={args.icount_shift}" if args.icount_shift is not None else None)
    if icount:
        if "-icount" in (args.extra or []):
            raise UserError("--icount/--icount-auto/--icount-shift and an -icount in --extra: give one")
        cmd += ["-icount", icount]
    # -serial order gives UART0 (app), UART1 (kernel), UART2 (modem), UART3 (local link).
    # Consoles not sent to a file share one multiplexed stdio chardev: plain stdio cannot
    # serve two.
    consoles = [["-serial", f"file:{log}"] if log else ["-serial", "chardev:con"]
                for log in (args.app_log, args.kernel_log)]
    uses_stdio = not (args.app_log and args.kernel_log)
    if uses_stdio:
        cmd += ["-chardev", "stdio,mux=on,id=con"]
    for console in consoles:
        cmd += console
    # reconnect=1: QEMU boots without waiting for the peer, connects when it listens, and
    # connects again (every second) after the peer closes: each `bulwark device deliver`
    # run is a new connection to the same running device. nodelay=on: the UART sends a
    # byte at a time; with Nagle's algorithm every answer waited ~40 ms for the peer's
    # delayed ACK.
    for name, port in (("modem", args.modem_port), ("link", args.link_port)):
        if port is None:
            cmd += ["-serial", "null"]
        else:
            cmd += ["-chardev",
                    f"socket,id={name},host=127.0.0.1,port={port},reconnect=1,nodelay=on",
                    "-serial", f"chardev:{name}"]
    if args.gdb is not None:
        cmd += ["-gdb", f"tcp:127.0.0.1:{args.gdb}", "-S"]
    if args.monitor is not None:
        # The human monitor on a Unix socket: `system_reset` there is a chip reset
        # (as SYSRESETREQ: RAM outside the loaded ELFs survives), unlike a new QEMU.
        cmd += ["-monitor", "unix:%s,server=on,wait=off" % args.monitor.replace(",", ",,")]
    return cmd + (args.extra or []), uses_stdio


class Interrupted(Exception):
    """SIGINT/SIGTERM/SIGHUP received while QEMU runs."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def raise_interrupted(signum, _frame):
    raise Interrupted(signum)


def stop(proc):
    """Stops QEMU's process group: SIGTERM (QEMU restores the terminal), then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            pass


def cmd_run(args):
    check_image(args.image)
    if not os.path.isfile(args.boot):
        raise UserError(f"{args.boot}: no such boot ELF")
    if shutil.which(QEMU) is None:
        raise UserError(f"{QEMU} not found (apt-get install qemu-system-arm)")
    cmd, uses_stdio = qemu_command(args)
    if args.dry_run:
        print(shlex.join(cmd))
        return 0

    # QEMU's stdio chardev puts the terminal in raw mode; restore it if QEMU is killed.
    saved_tty = termios.tcgetattr(0) if uses_stdio and os.isatty(0) else None
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_interrupted)
    proc = None
    try:
        # A session of its own: the whole group can be killed, and QEMU may set the
        # terminal's mode without being stopped as a background job.
        proc = subprocess.Popen(cmd, start_new_session=True)
        code = proc.wait(timeout=args.timeout or None)
    except subprocess.TimeoutExpired:
        stop(proc)
        print(f"bulwark-emu: timeout after {args.timeout:g} s", file=sys.stderr)
        code = EXIT_TIMEOUT
    except Interrupted as e:
        if proc is not None:
            stop(proc)
        code = 128 + e.signum
    finally:
        if saved_tty is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved_tty)
    return 128 - code if code < 0 else code  # killed by a signal: 128 + signal number


# --- command line -----------------------------------------------------------------------

def seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}")
    return value


def icount_shift(text):
    """QEMU's -icount shift: 0..10 (2^shift ns per instruction)."""
    if not text.isdigit() or int(text) > 10:
        raise argparse.ArgumentTypeError(f"invalid icount shift: {text!r} (0 to 10)")
    return int(text)


def tcp_port(text):
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"invalid TCP port: {text!r}")
    return int(text)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="bulwark-emu", description="Bulwark QEMU (mps2-an505) image builder and runner.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    image = commands.add_parser("image", help="create or program a flash image")
    image_commands = image.add_subparsers(dest="image_command", required=True,
                                          metavar="SUBCOMMAND")
    create = image_commands.add_parser(
        "create", help="write a new erased 16 MiB image with an identity record")
    create.add_argument("--out", required=True, metavar="FILE")
    create.add_argument("--device-id", type=parse_device_id, metavar="HEX32",
                        help="16-byte device identity as 32 hex digits (default: random)")
    create.add_argument("--update-key", action="append", metavar="KEY.pub",
                        help="provision a trusted bundle-signing public key (PEM; up to 4)")
    create.add_argument("--kernel", metavar="KERNEL.signed",
                        help="program a signed kernel image (or an ELF, which the boot stub refuses) "
                             "into the kernel slot and its seal")
    create.add_argument("--rollback", type=lambda t: int(t, 0), metavar="N",
                        help="program the kernel anti-rollback counter to N (one record)")
    create.add_argument("--stage-kernel", metavar="KERNEL.signed",
                        help="put a kernel into KERNEL_NEW and ask the boot stub to try it "
                             "(docs/SPEC.md section 19.5)")
    create.add_argument("--backup-kernel", metavar="KERNEL.signed",
                        help="put a kernel (or, for tests, any file) into KERNEL_OLD")
    create.add_argument("--app", metavar="APP.elf", help="program into the app slot")
    create.add_argument("--force", action="store_true", help="overwrite an existing FILE")
    create.set_defaults(func=cmd_image_create)

    flash = image_commands.add_parser(
        "flash", help="erase one slot of an image and program an ELF into it")
    flash.add_argument("--image", required=True, metavar="FILE")
    target = flash.add_mutually_exclusive_group(required=True)
    target.add_argument("--kernel", metavar="ELF")
    target.add_argument("--app", metavar="ELF")
    flash.set_defaults(func=cmd_image_flash)

    identity = commands.add_parser("identity", help="print the image's device identity")
    identity.add_argument("--image", required=True, metavar="FILE")
    identity.set_defaults(func=cmd_identity)

    run = commands.add_parser("run", help="boot the image on QEMU")
    run.add_argument("--image", required=True, metavar="FILE", help="flash image")
    run.add_argument("--boot", required=True, metavar="BOOT.elf",
                     help="boot stub, loaded by QEMU at every start")
    clock = run.add_mutually_exclusive_group()
    clock.add_argument("--icount", action="store_true",
                       help="guest time counts instructions, one per ns (-icount shift=0): "
                            "deterministic, and a stalled host thread cannot fire the watchdog")
    clock.add_argument("--icount-auto", action="store_true",
                       help="guest time counts instructions, QEMU adapting the ns per "
                            "instruction to follow real time (-icount shift=auto): a stalled "
                            "host thread cannot fire the watchdog")
    clock.add_argument("--icount-shift", type=icount_shift, metavar="N",
                       help="guest time counts instructions, 2^N ns each (-icount shift=N, N "
                            "0..10; 3 is a 125 MHz core), and follows real time while the "
                            "guest sleeps: a stalled host thread cannot fire the watchdog")
    run.add_argument("--timeout", type=seconds, default=30, metavar="SECONDS",
                     help="kill QEMU and exit 124 after this long; 0: no limit (default 30)")
    run.add_argument("--app-log", metavar="FILE", help="UART0 (app console) to FILE")
    run.add_argument("--kernel-log", metavar="FILE", help="UART1 (kernel console) to FILE")
    run.add_argument("--link-port", type=tcp_port, metavar="N",
                     help="connect UART3 (local delivery link) to 127.0.0.1:N (retried every second)")
    run.add_argument("--modem-port", type=tcp_port, metavar="N",
                     help="connect UART2 (the modem) to 127.0.0.1:N, where bulwark-modem "
                          "listens (retried every second)")
    run.add_argument("--gdb", type=tcp_port, metavar="PORT",
                     help="GDB server on 127.0.0.1:PORT, CPU halted until GDB continues")
    run.add_argument("--monitor", metavar="SOCKET",
                     help="QEMU's monitor on the Unix socket SOCKET (e.g. `system_reset`: a chip reset)")
    run.add_argument("--dry-run", action="store_true", help="print the QEMU command only")
    run.add_argument("--extra", nargs=argparse.REMAINDER, metavar="ARG",
                     help="further QEMU arguments (must come last)")
    run.set_defaults(func=cmd_run)
    return parser


def main():
    args = build_parser().parse_args()
    try:
        return args.func(args)
    except UserError as e:
        print(f"bulwark-emu: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
