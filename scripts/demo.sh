#!/usr/bin/env bash
# make demo: what Bulwark does, on QEMU mps2-an505, in six acts.
#  1. hello boots under the kernel and shows its system calls;
#  2. crash recovery: an app crashes inside a function, the kernel catches
#     it, records it and restarts the app; `bulwark crash decode` names the
#     function from the kernel's record;
#  3. an update: a device running app A receives a signed bundle of hello over
#     its link UART (`bulwark device deliver`); the kernel verifies, installs
#     and starts it (wake reason 9 = APPLICATIONUPDATE);
#  4. the cloud (scripts/demo_cloud.py): `bulwark-cloud up` starts mosquitto
#     and bulwarkd; a device is provisioned and registered, comes online,
#     streams its app's logs, and its app's crash is decoded from the cloud;
#  5. over-the-air updates (scripts/demo_ota.py, on act 4's cloud and device):
#     v1 then v2 signed with the fleet's update key, uploaded and deployed
#     (`bulwark deployments show --watch`), v2's logs from its start (wake
#     reason 9); then v3, which crash-loops: the kernel rolls it back to v2,
#     its deployment ends rolled back with the cause, its crash is decoded;
#  6. the kernel over the air (scripts/demo_ota.py): the build's kernel signed
#     as the next version, uploaded and deployed; the device stages it, its
#     boot stub swaps it in on trial, and it confirms itself.
# Then, with FREERTOS_KERNEL_PATH set, the FreeRTOS demo (act 7, Makefile).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
q=$build/qemu-an505
emu=$top/emu/bulwark-emu
bulwark=$build/host/cli/bulwark
boot=$q/boot/bulwark-boot.elf
kernel=$q/kernel/bulwark-kernel.signed
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== 1. hello under the Bulwark kernel =="
"$emu" image create --out "$work/hello.bin" --kernel "$kernel" --app "$q/apps/hello/hello.elf"
"$emu" run --icount-auto --image "$work/hello.bin" --boot "$boot" --timeout 30 2>/dev/null

echo
echo "== 2. crash recovery: an app crashes in sensor_write_register() =="
app=$q/tests/qemu/apps/qt-crash-decode.elf
"$emu" image create --out "$work/crash.bin" --kernel "$kernel" --app "$app"
"$emu" run --icount-auto --image "$work/crash.bin" --boot "$boot" --timeout 30 \
  --app-log "$work/crash-app.log" --kernel-log "$work/crash-kernel.log" 2>/dev/null || true
grep -v "crash record:" "$work/crash-kernel.log" || true
cat "$work/crash-app.log"
echo "-- bulwark crash decode --elf $(basename "$app") <the kernel's crash record line>"
"$bulwark" crash decode --elf "$app" "$(grep -m1 'crash record:' "$work/crash-kernel.log")"

echo
echo "== 3. an update over the link: app A -> hello, signed and verified =="
(cd "$work" && "$bulwark" keys generate -o demo-signer >/dev/null)
"$bulwark" bundle create "$q/apps/hello/hello.elf" --key "$work/demo-signer.key" --version 2 \
  -o "$work/hello-v2.bwb"
"$emu" image create --out "$work/ota.bin" --kernel "$kernel" \
  --app "$q/tests/qemu/apps/qt-update-a.elf" --update-key "$work/demo-signer.pub"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bulwark" device deliver "$work/hello-v2.bwb" --listen "127.0.0.1:$port" --timeout 60 &
deliver=$!
"$emu" run --icount-auto --image "$work/ota.bin" --boot "$boot" --link-port "$port" --timeout 60 2>/dev/null \
  | grep -v "heartbeat" || true
wait "$deliver"

echo
echo "== 4. the cloud: broker + bulwarkd, a device online, its logs and its crash =="
mkdir -p "$work/cloud"
python3 "$top/scripts/demo_cloud.py" "$build" "$work/cloud"
