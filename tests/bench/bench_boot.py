#!/usr/bin/env python3
"""Exact guest instruction counts of the boot stub's kernel check (docs/SPEC.md §19.3),
from a QEMU log of translated and executed blocks (-d in_asm,exec,nochain, without
-icount, whose budget can stop a logged block before it runs) filtered to the stub's
ROM (-dfilter), read on stdin: each executed block counts the instructions its
translation listed, so the sum is every stub instruction from reset to the jump into
the kernel. (One line per instruction, -singlestep, is exact too but 10x slower.)

Prints `bench: boot_<figure> <n>` lines:
  reset_to_kernel   all of them: reset -> the kernel's first instruction
  seal_verify       the bw_seal_verify call (every check of §19.3 but the vector table)
  ecdsa_verify_1/2  each p256_ecdsa_verify call (the certificate, then the seal)
  sha256            instructions in mbedTLS's SHA-256 functions: the kernel image and
                    the small hashes (root key, certificate, seal head)
A call counts from its entry to the last instruction before the caller runs again.
Usage: bench_boot.py BOOT.elf < trace
"""
import re
import subprocess
import sys

PC = re.compile(r"Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
INSN = re.compile(r"0x([0-9a-f]{8}):  ")


def functions(elf):
    """[(start, end, name)] of the ELF's functions (Thumb bit cleared)."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "--defined-only", elf], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT":
            start = int(parts[0], 16) & ~1
            found.append((start, start + int(parts[1], 16), parts[3]))
    return found


def main():
    table = functions(sys.argv[1])
    entry = {start: name for start, _, name in table}
    wanted = {"bw_seal_verify", "p256_ecdsa_verify"}
    sha_ranges = [(start, end) for start, end, name in table
                  if name.startswith(("mbedtls_sha256", "mbedtls_internal_sha256"))]

    def owner(pc):
        for start, end, name in table:
            if start <= pc < end:
                return (start, end)
        return None

    calls = {name: [] for name in wanted}
    open_calls = []   # [name, caller range, count]
    sizes = {}        # block start -> instructions (its latest translation)
    block = None      # [start, count] of the translation being listed
    total, sha, previous = 0, 0, None
    for line in sys.stdin:
        if line.startswith("IN:"):
            block = [None, 0]
            continue
        if block is not None:
            m = INSN.match(line)
            if m:
                block[0] = block[0] if block[0] is not None else int(m.group(1), 16)
                block[1] += 1
                continue
            if block[0] is not None:
                sizes[block[0]] = block[1]
            block = None
        m = PC.match(line)
        if not m:
            continue
        pc = int(m.group(1), 16)
        n = sizes[pc]
        total += n
        if any(start <= pc < end for start, end in sha_ranges):
            sha += n
        for call in list(open_calls):
            if call[1] and call[1][0] <= pc < call[1][1]:
                calls[call[0]].append(call[2])
                open_calls.remove(call)
        for call in open_calls:
            call[2] += n
        name = entry.get(pc)
        if name in wanted and previous is not None:
            open_calls.append([name, owner(previous), n])
        previous = pc
    ecdsa = calls["p256_ecdsa_verify"] + ["?", "?"]
    print(f"bench: boot_reset_to_kernel {total}")
    print(f"bench: boot_seal_verify {(calls['bw_seal_verify'] or ['?'])[0]}")
    print(f"bench: boot_ecdsa_verify_1 {ecdsa[0]}")
    print(f"bench: boot_ecdsa_verify_2 {ecdsa[1]}")
    print(f"bench: boot_sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
