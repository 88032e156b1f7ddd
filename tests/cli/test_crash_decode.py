#!/usr/bin/env python3
"""`bulwark crash decode`, end to end on the host. Promises checked:

- a record built here from docs/SPEC.md ("Crash record": offsets, CRC-32) is
  decoded: class, context, cause from the status bits, fault address and its
  register, registers, counters; so the SPEC and the kernel's layout agree;
- with --elf, the backtrace names the function holding the PC (+offset), the
  caller from LR and return addresses found on the stack (odd words inside an
  executable segment), and ignores even words and words outside code; the
  ELF (made here too) is read from its own symbol table;
- a file with several "crash record:" lines decodes each; the hex may be
  given alone or with the console prefix;
- untrusted input is refused with a clear message: wrong length or non-hex
  (exit 2), a flipped byte (CRC, exit 1), another version (exit 1), a file
  without record lines (exit 2), an --elf that is not an ARM ELF (exit 2).

Usage: test_crash_decode.py BULWARK WORKDIR
"""
import os
import shutil
import struct
import subprocess
import sys
import zlib

RECORD_SIZE = 448
MAGIC = 0x52435742
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    print(("ok " if ok else "FAIL ") + what)


def record(**fields):
    """A crash record per docs/SPEC.md, sealed with its CRC."""
    f = dict(sequence=5, crash_class=2, trigger=7, flags=0x3, app_exception=66, stack=b"",
             regs=[0x1000 + i for i in range(13)], sp=0x28283F00, lr=0x80000209, pc=0x80000110,
             xpsr=0x01000042, exc_return=0xFFFFFFB1, sfsr=0x48, sfar=0x38000010,
             fault_address=0x38000010, uptime_us=1234567, run_time_ms=89, crash_count=3,
             since_healthy=2, delay_ms=100, version=1, insn=0, loop_action=0)
    f.update(fields)
    b = bytearray(RECORD_SIZE)
    struct.pack_into("<IHHIBBHHH", b, 0, MAGIC, f["version"], RECORD_SIZE, f["sequence"],
                     f["crash_class"], f["trigger"], f["flags"], f["app_exception"], len(f["stack"]))
    struct.pack_into("<13I", b, 20, *f["regs"])
    struct.pack_into("<4I", b, 72, f["sp"], f["lr"], f["pc"], f["xpsr"])
    struct.pack_into("<I", b, 88, f["exc_return"])
    struct.pack_into("<I", b, 128, f["sfsr"])
    struct.pack_into("<I", b, 132, f["sfar"])
    struct.pack_into("<I", b, 144, f["fault_address"])
    struct.pack_into("<Q", b, 152, f["uptime_us"])
    struct.pack_into("<IIIII", b, 160, f["run_time_ms"], f["crash_count"], f["since_healthy"],
                     f["delay_ms"], f["sp"])
    struct.pack_into("<H", b, 180, f["loop_action"])
    b[184:184 + len(f["stack"])] = f["stack"]
    struct.pack_into("<I", b, 440, f["insn"])
    struct.pack_into("<I", b, 444, zlib.crc32(bytes(b[:444])))
    return bytes(b)


def arm_elf():
    """A minimal ARM ELF32: one executable segment at 0x80000000 and a symbol table."""
    strtab = b"\0func_a\0func_b\0a_label\0$t\0"
    names = {n: strtab.index(n.encode() + b"\0") for n in ("func_a", "func_b", "a_label", "$t")}
    syms = struct.pack("<IIIBBH", 0, 0, 0, 0, 0, 0)
    syms += struct.pack("<IIIBBH", names["func_a"], 0x80000101, 0x40, 0x12, 0, 1)   # FUNC, thumb
    syms += struct.pack("<IIIBBH", names["func_b"], 0x80000201, 0x20, 0x12, 0, 1)
    syms += struct.pack("<IIIBBH", names["a_label"], 0x80000300, 0, 0x10, 0, 1)    # NOTYPE
    syms += struct.pack("<IIIBBH", names["$t"], 0x80000304, 0, 0x00, 0, 1)         # mapping symbol
    shstrtab = b"\0.symtab\0.strtab\0.shstrtab\0"
    ehsize, phsize, shsize = 52, 32, 40
    phoff = ehsize
    sym_off = phoff + phsize
    str_off = sym_off + len(syms)
    shstr_off = str_off + len(strtab)
    shoff = (shstr_off + len(shstrtab) + 3) & ~3
    header = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header += struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0x80000101, phoff, shoff, 0x05000000,
                          ehsize, phsize, 1, shsize, 4, 3)
    ph = struct.pack("<8I", 1, 0, 0x80000000, 0x80000000, 0, 0x1000, 5, 4)  # PT_LOAD, R+X
    body = header + ph + syms + strtab + shstrtab
    body += bytes(shoff - len(body))
    sh = bytes(shsize)
    sh += struct.pack("<10I", shstrtab.index(b".symtab"), 2, 0, 0, sym_off, len(syms), 2, 1, 4, 16)
    sh += struct.pack("<10I", shstrtab.index(b".strtab"), 3, 0, 0, str_off, len(strtab), 0, 0, 1, 0)
    sh += struct.pack("<10I", shstrtab.index(b".shstrtab"), 3, 0, 0, shstr_off, len(shstrtab), 0, 0, 1, 0)
    return body + sh


def run(bulwark, *args):
    p = subprocess.run([bulwark, "crash", "decode", *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def main():
    bulwark, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    elf_path = os.path.join(work, "app.elf")
    with open(elf_path, "wb") as f:
        f.write(arm_elf())

    stack = struct.pack("<6I", 0x80000200, 0x12345679, 0x80000305, 0x28200001, 0x80000211, 0)
    good = record(stack=stack)
    code, out = run(bulwark, "--no-addr2line", "--elf", elf_path, good.hex())
    check(code == 0, f"a good record decodes (exit {code})")
    check("crash record 5 (format 1, 448 bytes)" in out, "sequence and format")
    check("class:         secure-access in IRQ 50 handler" in out, "class and context")
    check("cause:         secure memory access (SecureFault AUVIOL)" in out, "cause from the status bits")
    check("SFSR.AUVIOL" in out and "SFSR.SFARVALID" in out, "every status bit spelled out")
    check("fault address: 0x38000010 (SFAR)" in out, "fault address and its register")
    check("crashes:       3 since the kernel started, 2 since the app was healthy" in out, "counters")
    check("restart:       after 100 ms" in out, "backoff")
    check("r12 0x0000100c" in out and "pc  0x80000110" in out, "registers")
    check("#0  pc      0x80000110  func_a+0x10" in out, "pc symbolicated")
    check("#1  lr      0x80000209  func_b+0x8" in out, "lr symbolicated")
    check("#2  sp+0x08 0x80000305  a_label+0x4" in out, "a return address on the stack, from a label")
    check("#3  sp+0x10 0x80000211  func_b+0x10" in out, "a second one")
    check("0x12345679" not in out.split("backtrace")[1].split("stack (")[0], "words outside code skipped")
    check("#4" not in out, "even words and data pointers are no return addresses")
    check("stack (24 bytes from 0x28283f00)" in out, "stack dump")

    code, out = run(bulwark, good.hex())
    check(code == 0 and "give --elf" in out, "without --elf: no backtrace, a hint")

    loop = record(flags=0x43, loop_action=2, crash_class=9, insn=0xDEB1, trigger=3, sfsr=0,
                  fault_address=0)
    loop = bytearray(loop)
    struct.pack_into("<H", loop, 14, 0x1 | 0x40 | 0x80)       # frame valid, crash loop, insn valid
    struct.pack_into("<I", loop, 120, 1 << 16)                # CFSR_NS.UNDEFINSTR
    struct.pack_into("<I", loop, 444, zlib.crc32(bytes(loop[:444])))
    log_path = os.path.join(work, "kernel.log")
    with open(log_path, "w") as f:
        f.write("[kernel] app starting (wake reason 0)\n")
        f.write("[kernel] crash record: " + good.hex() + "\n")
        f.write("[kernel] something else\n")
        f.write("[kernel] crash record: " + bytes(loop).hex() + "\n")
    code, out = run(bulwark, "--no-addr2line", "--elf", elf_path, log_path)
    check(code == 0 and out.count("crash record ") == 2, "a log with two records decodes both")
    check("main returned (SDK UDF #0xB1)" in out, "the SDK's trap named")
    check("no good app to roll back to: parked at the maximum backoff" in out, "crash loop shown")
    code, out = run(bulwark, "[kernel] crash record: " + good.hex())
    check(code == 0, "the hex with its console prefix")

    bad = bytearray(good)
    bad[100] ^= 1
    code, out = run(bulwark, bytes(bad).hex())
    check(code == 1 and "CRC mismatch" in out, f"a flipped byte is refused (exit {code})")
    v2 = bytearray(good)
    struct.pack_into("<H", v2, 4, 2)
    struct.pack_into("<I", v2, 444, zlib.crc32(bytes(v2[:444])))
    code, out = run(bulwark, bytes(v2).hex())
    check(code == 1 and "version" in out, f"another version is refused (exit {code})")
    code, out = run(bulwark, good.hex()[:-2])
    check(code == 2 and "hex digits" in out, f"a short record is refused (exit {code})")
    code, out = run(bulwark, good.hex()[:-1] + "g")
    check(code == 2 and "not a hex digit" in out, f"non-hex is refused (exit {code})")
    empty = os.path.join(work, "empty.log")
    with open(empty, "w") as f:
        f.write("[kernel] nothing here\n")
    code, out = run(bulwark, empty)
    check(code == 2 and "holds no" in out, f"a file without records is refused (exit {code})")
    code, out = run(bulwark, "--elf", log_path, good.hex())
    check(code == 2 and "not an ELF" in out, f"an --elf that is no ELF is refused (exit {code})")
    code, out = run(bulwark)
    check(code == 2, "no argument is a usage error")

    print(f"crash decode: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
