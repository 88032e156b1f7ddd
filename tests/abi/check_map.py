#!/usr/bin/env python3
"""The linked images agree with their board's one memory map
(port/<board>/memory_map.def, docs/DESIGN.md "One memory map per board").

The C header, memory.ld and app.ld are generated from the table; what is still
written by hand is checked here against it:
- the table itself: regions of one linker script do not overlap, the gate is
  KERNEL_SLOT + 0x400 (kernel/arch/armv8m/kernel.ld's code starts at 0x800)
  or lies in FLASH clear of the kernel slot, BOOT_RAM sits right
  above KERNEL_RAM (boot/boot.ld counts it in), partitions lie in FLASH and
  clear each other, the boot stub, the kernel slot and the identity sector;
- the boot stub, the kernel and an app as linked: every allocated section
  inside the regions of its linker script, every loaded byte inside its
  flash region, vector tables at the starts of BOOT_ROM, KERNEL_SLOT and
  APP_SLOT, .gate at GATE, and the symbols boot.ld and app_sections.ld derive
  from the regions (__kernel_slot .. __kernel_ram_end, __stack_top__).
With --doc BOARDS=FILE (host build): every address range a document gives
("0x80100000–0x801FFFFF") that starts inside one of the boards' regions must
be one region or partition of the table, or a gap between them, and every "NAME 0xOFFSET + 0xSIZE"
must be a partition of one of those boards.
Exit 1 with one line per disagreement.

Usage: check_map.py --board B --boot ELF --kernel ELF --app ELF
       check_map.py --doc qemu-an505,stm32u585=docs/SPEC.md [--doc ...]
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import memory_map  # noqa: E402

GATE_OFFSET = 0x400   # kernel.ld: code from ORIGIN(KERNEL_SLOT) + 0x800


def overlaps(a, b):
    return a.base < b.end and b.base < a.end


def inside(start, size, region):
    return region.base <= start and start + size <= region.end


def check_table(mm, errors):
    for script in ("secure", "app"):
        regions = [r for r in mm.regions.values() if r.script == script]
        for i, a in enumerate(regions):
            for b in regions[i + 1:]:
                if overlaps(a, b):
                    errors.append(f"table: {script} regions {a.name} and {b.name} overlap")
    gate = mm["GATE"]
    if gate.base != mm["KERNEL_SLOT"].base + GATE_OFFSET and (
            overlaps(gate, mm["KERNEL_SLOT"]) or not inside(gate.base, gate.size, mm["FLASH"])):
        errors.append(f"table: GATE {gate.base:#x} is neither KERNEL_SLOT + {GATE_OFFSET:#x} "
                      "nor in FLASH clear of the kernel slot (kernel.ld)")
    if mm["BOOT_RAM"].base != mm["KERNEL_RAM"].end:
        errors.append("table: BOOT_RAM does not start where KERNEL_RAM ends (boot.ld counts it in)")
    spans = [mm.partition_span(name) for name in mm.partitions]
    for i, p in enumerate(spans):
        if not inside(p.base, p.size, mm["FLASH"]):
            errors.append(f"table: partition {p.name} is outside FLASH")
        for q in spans[i + 1:]:
            if overlaps(p, q):
                errors.append(f"table: partitions {p.name} and {q.name} overlap")
        for name in ("BOOT_ROM", "KERNEL_SLOT", "KERNEL_SEAL", "ROLLBACK", "IDENTITY", "GATE"):
            if overlaps(p, mm[name]):
                errors.append(f"table: partition {p.name} overlaps {name}")


def readelf(tool, *args):
    return subprocess.run([tool, "-W", *args], check=True, capture_output=True, text=True).stdout


def sections(tool, elf):
    """(name, address, size) of every allocated, non-empty section."""
    found = []
    for line in readelf(tool, "-S", elf).splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) >= 8 and parts[0].startswith("[") and parts[1].startswith("."):
            flags = parts[7] if not parts[7].isdigit() else ""
            size = int(parts[5], 16)
            if "A" in flags and size:
                found.append((parts[1], int(parts[3], 16), size))
    return found


def loads(tool, elf):
    """(physical address, file size) of every PT_LOAD segment with bytes."""
    found = []
    for line in readelf(tool, "-l", elf).splitlines():
        parts = line.split()
        if parts and parts[0] == "LOAD" and int(parts[4], 16):
            found.append((int(parts[3], 16), int(parts[4], 16)))
    return found


def symbols(tool, elf):
    found = {}
    for line in readelf(tool, "-s", elf).splitlines():
        parts = line.split()
        if len(parts) == 8 and parts[0].endswith(":") and parts[0] != "Num:":
            found[parts[7]] = int(parts[1], 16)
    return found


def check_image(mm, tool, label, elf, regions, flash, first, errors, expect_symbols):
    """flash: the flash regions its loaded bytes may lie in."""
    secs = sections(tool, elf)
    for name, address, size in secs:
        if not any(inside(address, size, mm[r]) for r in regions):
            errors.append(f"{label}: {name} [{address:#x}, +{size:#x}) is outside {'/'.join(regions)}")
    for address, size in loads(tool, elf):
        if not any(inside(address, size, mm[r]) for r in flash):
            errors.append(f"{label}: loaded bytes [{address:#x}, +{size:#x}) are outside {'/'.join(flash)}")
    by_name = {name: address for name, address, _ in secs}
    for section, where in first.items():
        got = by_name.get(section)
        if got != where:
            errors.append(f"{label}: {section} at {got if got is None else hex(got)}, the map says {where:#x}")
    syms = symbols(tool, elf)
    for name, want in expect_symbols.items():
        got = syms.get(name)
        if got != want:
            errors.append(f"{label}: {name} = {got if got is None else hex(got)}, the map says {want:#x}")


_RANGE = re.compile(r"0x([0-9A-Fa-f]{8})\s*[–-]\s*0x([0-9A-Fa-f]{8})")
_PARTITION = re.compile(r"\b([A-Z_]+) 0x([0-9A-Fa-f]+) \+ 0x([0-9A-Fa-f]+)")


def check_doc(boards, path, errors):
    maps = [memory_map.load(b) for b in boards]
    spans = [r for mm in maps for r in mm.regions.values()]
    spans += [mm.partition_span(name) for mm in maps for name in mm.partitions]
    exact = {(r.base, r.end) for r in spans}
    partitions = {(p.name, p.base, p.size) for mm in maps for p in mm.partitions.values()}
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        for m in _RANGE.finditer(line):
            first, end = int(m.group(1), 16), int(m.group(2), 16) + 1
            if not any(r.base <= first < r.end for r in spans) or (first, end) in exact:
                continue   # outside the map (a peripheral), or one region or partition
            if any(r.base < end and first < r.end and not (r.base <= first and end <= r.end)
                   for r in spans):   # a gap must overlap only what encloses it
                errors.append(f"{path}:{number}: {m.group(0)} is neither a region or partition "
                              "of the map nor a gap between them")
        for m in _PARTITION.finditer(line):
            entry = (m.group(1), int(m.group(2), 16), int(m.group(3), 16))
            if entry not in partitions:
                errors.append(f"{path}:{number}: partition {m.group(0)} is not in the map")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", action="append", default=[], metavar="BOARDS=FILE")
    ap.add_argument("--board")
    ap.add_argument("--boot")
    ap.add_argument("--kernel")
    ap.add_argument("--app")
    ap.add_argument("--readelf", default="arm-none-eabi-readelf")
    a = ap.parse_args()
    if a.doc:
        errors = []
        for doc in a.doc:
            boards, path = doc.split("=", 1)
            check_doc(boards.split(","), path, errors)
        for e in errors:
            print(f"check_map: {e}")
        print(f"check_map: {len(a.doc)} documents, {len(errors)} disagreements")
        return 1 if errors else 0
    if not (a.board and a.boot and a.kernel and a.app):
        ap.error("--board, --boot, --kernel and --app are needed")
    mm = memory_map.load(a.board)
    errors = []
    check_table(mm, errors)
    check_image(mm, a.readelf, "boot", a.boot, ["BOOT_ROM", "BOOT_RAM"], ["BOOT_ROM"],
                {".vectors": mm["BOOT_ROM"].base}, errors,
                {"__kernel_slot": mm["KERNEL_SLOT"].base, "__kernel_slot_end": mm["KERNEL_SLOT"].end,
                 "__kernel_ram": mm["KERNEL_RAM"].base, "__kernel_ram_end": mm["BOOT_RAM"].end,
                 "__boot_stack_top": mm["BOOT_RAM"].end})
    check_image(mm, a.readelf, "kernel", a.kernel, ["KERNEL_SLOT", "KERNEL_RAM", "GATE"],
                ["KERNEL_SLOT", "GATE"],
                {".vectors": mm["KERNEL_SLOT"].base, ".gate": mm["GATE"].base}, errors,
                {"__gate_start": mm["GATE"].base})
    gate = [s for s in sections(a.readelf, a.kernel) if s[0] == ".gate"]
    if gate and gate[0][2] > mm["GATE"].size:
        errors.append(f"kernel: .gate is {gate[0][2]} bytes, GATE holds {mm['GATE'].size}")
    app_regions = [r.name for r in mm.regions.values() if r.script == "app"]
    check_image(mm, a.readelf, "app", a.app, app_regions, ["APP_SLOT"],
                {".vectors": mm["APP_SLOT"].base}, errors,
                {"__stack_top__": mm["APP_RAM"].end})
    for e in errors:
        print(f"check_map {a.board}: {e}")
    if not errors:
        print(f"check_map {a.board}: boot, kernel and app agree with {mm.source}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
