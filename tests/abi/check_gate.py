#!/usr/bin/env python3
"""Checks the system-call ABI promise: every call sits at GATE_BASE + 8*slot,
forever; the slot is the call's index, or with --slots the one a frozen
table gives it.

- sdk/syscalls.def: indexes are 0..N-1 in order, names unique;
- sdk/abi/gate-v1.txt (frozen): every frozen call keeps its index;
- --slots FILE (frozen "<slot> <name>" lines: the original Microvisor's gate
  on the STM32U585, sdk/abi/gate-stm32u585-v1.txt): every call of the file
  that Bulwark has sits at that slot, no other call takes a slot of the file,
  and each of Bulwark's own calls has a slot of its own;
- the kernel ELF: bw_gate_<name> is at GATE_BASE + 8*slot and starts with SG;
- the SDK import library: <name> resolves to the same address (Thumb bit set).
"""
import argparse
import re
import subprocess
import sys

SG = bytes.fromhex("7fe97fe9")  # SG, little-endian halfwords E97F E97F


def parse_def(path):
    entries = []
    for line in open(path):
        m = re.match(r"MV_SYSCALL\((\d+), (\w+), (\w+)\)\s*$", line)
        if m:
            entries.append((int(m.group(1)), m.group(2), m.group(3)))
    return entries


def nm(path, nm_tool):
    out = subprocess.run([nm_tool, path], check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def readelf_symbols(path, readelf):
    """Raw symbol values (nm hides the Thumb bit of function symbols)."""
    out = subprocess.run([readelf, "-sW", path], check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 8 and parts[3] == "FUNC":
            syms[parts[7]] = int(parts[1], 16)
    return syms


def section_bytes(elf, objcopy, section):
    data = subprocess.run([objcopy, "-O", "binary", "--only-section", section, elf, "/dev/stdout"],
                          check=True, capture_output=True).stdout
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--def", dest="deffile", required=True)
    ap.add_argument("--frozen", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--import-lib", required=True)
    ap.add_argument("--gate-base", required=True, type=lambda s: int(s, 0))
    ap.add_argument("--slots", help="frozen <slot> <name> table (default: slot = index)")
    ap.add_argument("--nm", default="arm-none-eabi-nm")
    ap.add_argument("--objcopy", default="arm-none-eabi-objcopy")
    ap.add_argument("--readelf", default="arm-none-eabi-readelf")
    a = ap.parse_args()
    errors = []

    entries = parse_def(a.deffile)
    for i, (index, name, _) in enumerate(entries):
        if index != i:
            errors.append(f"syscalls.def: {name} has index {index}, expected {i} (append only)")
    names = [n for _, n, _ in entries]
    if len(set(names)) != len(names):
        errors.append("syscalls.def: duplicate names")
    by_name = {n: i for i, n, _ in entries}

    for line in open(a.frozen):
        if line.startswith("#") or not line.strip():
            continue
        index, name = line.split()
        if by_name.get(name) != int(index):
            errors.append(f"frozen call {name} moved from index {index} to {by_name.get(name)}")

    ksyms = nm(a.kernel, a.nm)
    slots = {name: index for index, name, _ in entries}
    if a.slots:
        frozen_slots = {}
        for line in open(a.slots):
            if line.strip() and not line.startswith("#"):
                slot, name = line.split()
                frozen_slots[name] = int(slot)
        taken = set(frozen_slots.values())
        for index, name, _ in entries:
            got = ksyms.get(f"bw_gate_{name}")
            slot = None if got is None else (got - a.gate_base) // 8
            if name in frozen_slots:
                slots[name] = frozen_slots[name]
            elif slot in taken:
                errors.append(f"{name} (Bulwark's own) takes slot {slot} of {a.slots}")
            else:
                slots[name] = slot
        if len(set(slots.values())) != len(slots):
            errors.append("two calls share a gate slot")
        print(f"{sum(n in slots for n in frozen_slots)} of {len(frozen_slots)} calls of "
              f"{a.slots} at their frozen addresses, {len(entries)} calls in all")
    gate = section_bytes(a.kernel, a.objcopy, ".gate")
    if ksyms.get("__gate_start") != a.gate_base:
        errors.append(f"kernel gate starts at {ksyms.get('__gate_start', 0):#x}, not {a.gate_base:#x}")
    isyms = readelf_symbols(a.import_lib, a.readelf)
    for index, name, _ in entries:
        slot = slots[name]
        if slot is None:
            errors.append(f"kernel: no gate entry for {name}")
            continue
        want = a.gate_base + 8 * slot
        got = ksyms.get(f"bw_gate_{name}")
        if got is None or got & ~1 != want:
            errors.append(f"kernel: bw_gate_{name} at {got and hex(got)}, expected {want:#x}")
        if gate[8 * slot: 8 * slot + 4] != SG:
            errors.append(f"kernel: gate entry {slot} ({name}) does not start with SG")
        imp = isyms.get(name)
        if imp != want + 1:
            errors.append(f"import library: {name} = {imp and hex(imp)}, expected {want + 1:#x}")

    for e in errors:
        print("ABI:", e)
    print(f"{len(entries)} gate entries checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
