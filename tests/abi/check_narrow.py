#!/usr/bin/env python3
"""The gate widens every narrow argument itself (sdk/syscalls.def,
MV_SYSCALL_NARROW): this check keeps that list equal to the public
prototypes. Every parameter of an mv*/bw* call in sdk/include/mv_syscalls.h
and sdk/include/bulwark_ext.h whose type is narrower than 32 bits (uint8_t,
uint16_t, int8_t, int16_t, bool, char) must have exactly one
MV_SYSCALL_NARROW line with its call, index, argument number and kind, and
every such line must name one. Exits 1 with the differences."""

import argparse
import pathlib
import re
import sys

KINDS = {"uint8_t": "u8", "uint16_t": "u16", "int8_t": "s8", "int16_t": "s16",
         "bool": "bool", "char": "s8", "unsigned char": "u8", "signed char": "s8"}


def prototypes(text):
    """{call: [parameter type, ...]} of every call returning enum MvStatus."""
    calls = {}
    for m in re.finditer(r"enum\s+MvStatus\s+(\w+)\s*\(([^)]*)\)\s*;", text):
        params = m.group(2).strip()
        types = []
        if params and params != "void":
            for p in params.split(","):
                words = p.replace("const ", "").split()
                types.append("*" if "*" in p else " ".join(words[:-1]))
        calls[m.group(1)] = types
    return calls


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--top", default=str(pathlib.Path(__file__).resolve().parents[2]))
    args = ap.parse_args()
    top = pathlib.Path(args.top)
    headers = (top / "sdk/include/mv_syscalls.h").read_text() + (top / "sdk/include/bulwark_ext.h").read_text()
    calls = prototypes(headers)
    index_of, declared = {}, set()
    for line in (top / "sdk/syscalls.def").read_text().splitlines():
        m = re.match(r"MV_SYSCALL\((\d+), (\w+), (\w+)\)\s*$", line)
        if m:
            index_of[m.group(2)] = int(m.group(1))
        m = re.match(r"MV_SYSCALL_NARROW\((\d+), (\w+), (\d), (\w+)\)\s*$", line)
        if m:
            declared.add((int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)))
    wanted = set()
    errors = []
    for name, index in index_of.items():
        if name not in calls:
            errors.append(f"{name}: no prototype found in the SDK headers")
            continue
        for arg, ctype in enumerate(calls[name]):
            if ctype in KINDS:
                wanted.add((index, name, arg, KINDS[ctype]))
    for item in sorted(wanted - declared):
        errors.append("missing: MV_SYSCALL_NARROW(%d, %s, %d, %s)" % item)
    for item in sorted(declared - wanted):
        errors.append("not a narrow argument: MV_SYSCALL_NARROW(%d, %s, %d, %s)" % item)
    if errors:
        print("\n".join(errors))
        return 1
    print(f"ok: {len(wanted)} narrow argument(s) of {len(index_of)} calls, all widened by the gate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
