#!/usr/bin/env bash
# Prints .text/.data/.bss of the boot stub, kernel and hello for every firmware
# target built under BUILD (default: build), and checks each kernel and hello
# against its board's slot size (fails if an image does not fit). The slot
# sizes come from each board's memory map (port/<board>/memory_map.def).
set -euo pipefail
build=${1:-build}
map=$(dirname "$0")/memory_map.py
status=0
printf '%-12s %-14s %9s %7s %7s %9s\n' target image .text .data .bss slot
for target in qemu-an505 stm32u585; do
  dir=$build/$target
  [ -d "$dir" ] || continue
  for image in boot/bulwark-boot kernel/bulwark-kernel apps/hello/hello; do
    elf=$dir/$image.elf
    [ -f "$elf" ] || { echo "size-report: missing $elf" >&2; status=1; continue; }
    read -r text data bss _ < <(arm-none-eabi-size "$elf" | tail -1)
    case $image in
      boot/*) region=BOOT_ROM ;;
      kernel/*) region=KERNEL_SLOT ;;
      *) region=APP_SLOT ;;
    esac
    slot=$(python3 "$map" get "$target" "$region" size)
    printf '%-12s %-14s %9d %7d %7d %9d\n' "$target" "$(basename "$image")" "$text" "$data" "$bss" "$slot"
    if [ $((text + data)) -gt "$slot" ]; then
      echo "size-report: $image for $target does not fit its slot" >&2; status=1
    fi
  done
done
exit $status
