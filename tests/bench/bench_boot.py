#!/usr/bin/env python3
"""Exact guest instruction counts of the boot stub's kernel check (docs/SPEC.md §19.3),
from a QEMU log of translated and executed blocks (-d in_asm,exec,nochain) filtered to
the stub's ROM (-dfilter), read on stdin and counted by trace_calls.py (the kernel
benches' counter: each executed block counts the instructions its translation listed;
blocks QEMU logged but did not run are dropped).

Prints `bench: boot_<figure> <n>` lines:
  reset_to_kernel   all of them: reset -> the kernel's first instruction
  seal_verify       the bw_seal_verify call (every check of §19.3 but the vector table)
  ecdsa_verify_1/2  each bw_p256_verify call (the certificate, then the seal)
  sha256            instructions in mbedTLS's SHA-256 functions: the kernel image and
                    the small hashes (root key, certificate, seal head)
A call counts from its entry to the last instruction before the caller runs again.
Usage: bench_boot.py BOOT.elf < trace
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_calls import CallCounter  # noqa: E402


def main():
    counter = CallCounter(sys.argv[1], ["bw_seal_verify", "bw_p256_verify"],
                          ("mbedtls_sha256", "mbedtls_internal_sha256"))
    for line in sys.stdin:
        counter.feed(line)
    counter.flush()
    ecdsa = counter.calls["bw_p256_verify"] + ["?", "?"]
    print(f"bench: boot_reset_to_kernel {counter.total}")
    print(f"bench: boot_seal_verify {(counter.calls['bw_seal_verify'] or ['?'])[0]}")
    print(f"bench: boot_ecdsa_verify_1 {ecdsa[0]}")
    print(f"bench: boot_ecdsa_verify_2 {ecdsa[1]}")
    print(f"bench: boot_sha256 {counter.extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
