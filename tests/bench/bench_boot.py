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
  ecdsa_verify_1/2  each bw_p256_verify call (the certificate, then the seal)
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


def count(elf, lines, wanted, extra_ranges=()):
    """Counts a block log (lines) of code in elf: returns (total, calls, extra), calls
    {name: [instructions of each call]} for the functions named in wanted, extra the
    instructions executed inside the functions whose names start with extra_ranges.
    With -d int in the log, an exception taken inside a call is not part of it: a call
    counts only the blocks run at the exception depth it was entered at (QEMU's
    "Taking exception N [IRQ]" one deeper, "...successful exception return" one back;
    a tail-chained exception logs neither). A block QEMU logged and then left before
    its first instruction ("Stopped execution of TB chain") is taken back."""
    table = functions(elf)
    entry = {start: name for start, _, name in table}
    sha_ranges = [(start, end) for start, end, name in table if extra_ranges and name.startswith(extra_ranges)]

    def owner(pc):
        for start, end, name in table:
            if start <= pc < end:
                return (start, end)
        return None

    calls = {name: [] for name in wanted}
    open_calls = []   # [name, caller range, count, exception depth]
    sizes = {}        # block start -> instructions (its latest translation)
    block = None      # [start, count] of the translation being listed
    total, sha, previous = 0, 0, None
    depth = 0         # exceptions entered and not returned from
    undo = None       # how to take back the last block: (n, counted in sha, calls it added to, call it opened)
    for line in lines:
        if line.startswith("Stopped execution of TB chain before"):
            # QEMU logged the last block, then left it before its first instruction
            # (an interrupt request): it runs again later and is counted then.
            if undo is not None:
                n, in_sha, added, opened = undo
                total -= n
                sha -= n if in_sha else 0
                for call in added:
                    call[2] -= n
                if opened is not None and opened in open_calls:
                    open_calls.remove(opened)
                undo = None
            continue
        if line.startswith("Taking exception") and "[IRQ]" in line:
            depth += 1
            continue
        if line.startswith("...successful exception return"):
            depth -= 1
            continue
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
        in_sha = any(start <= pc < end for start, end in sha_ranges)
        if in_sha:
            sha += n
        for call in [c for c in open_calls if c[3] == depth]:
            if call[1] and call[1][0] <= pc < call[1][1]:
                calls[call[0]].append(call[2])
                open_calls.remove(call)
        added = [call for call in open_calls if call[3] == depth]
        for call in added:
            call[2] += n
        opened = None
        name = entry.get(pc)
        if name in wanted and previous is not None:
            opened = [name, owner(previous), n, depth]
            open_calls.append(opened)
        undo = (n, in_sha, added, opened)
        previous = pc
    return total, calls, sha


def main():
    total, calls, sha = count(sys.argv[1], sys.stdin, {"bw_seal_verify", "bw_p256_verify"},
                              ("mbedtls_sha256", "mbedtls_internal_sha256"))
    ecdsa = calls["bw_p256_verify"] + ["?", "?"]
    print(f"bench: boot_reset_to_kernel {total}")
    print(f"bench: boot_seal_verify {(calls['bw_seal_verify'] or ['?'])[0]}")
    print(f"bench: boot_ecdsa_verify_1 {ecdsa[0]}")
    print(f"bench: boot_ecdsa_verify_2 {ecdsa[1]}")
    print(f"bench: boot_sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
