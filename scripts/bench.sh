#!/usr/bin/env bash
# make bench: prints figures, no pass/fail.
#  - guest instructions (QEMU -icount shift=0: one instruction = 1 ns of
#    virtual time) for an mvNoOp round trip and from reset to the app's main;
#  - .text/.data/.bss of the boot stub, kernel and hello for both targets.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
q=$build/qemu-an505
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$top/emu/bulwark-emu" image create --out "$work/flash.bin" \
  --kernel "$q/kernel/bulwark-kernel.elf" --app "$q/tests/bench/bench_app.elf" >/dev/null
"$top/emu/bulwark-emu" run --image "$work/flash.bin" --boot "$q/boot/bulwark-boot.elf" --icount \
  --timeout 60 --app-log "$work/app.log" --kernel-log "$work/kernel.log" 2>/dev/null || {
  echo "bench: the benchmark app failed" >&2; cat "$work/app.log" "$work/kernel.log" >&2; exit 1; }

figure() { sed -n "s/^bench: $1 //p" "$work/app.log"; }
echo "== Guest instructions (qemu-an505, -icount shift=0) =="
printf '%-44s %12s\n' "mvNoOp round trip (goal <= 60)" "$(figure noop_insns)"
printf '%-44s %12s\n' "reset -> app main (boot stub+kernel+SDK)" "$(figure boot_insns)"
printf '%-44s %12s\n' "  (FPGAIO counter ticks per 1000 insns)" "$(figure counter_ticks_per_1000_insns)"
echo
echo "== Image sizes (bytes) =="
"$top/scripts/size-report.sh" "$build"
