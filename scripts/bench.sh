#!/usr/bin/env bash
# make bench: prints figures, no pass/fail.
#  - guest instructions (QEMU -icount shift=0: one instruction = 1 ns of
#    virtual time) for an mvNoOp round trip, from an event to the app's
#    notification ISR, and from reset to the app's main;
#  - crash supervision: instructions from an app's faulting instruction to
#    its Reset_Handler (restart in place), counted exactly from a QEMU
#    one-instruction-per-block trace, and the size of a crash record;
#  - updates: signature check (and the kernel's ECDSA verify alone, exactly:
#    a block log of the kernel), BEGIN/FINISH/install instructions and the
#    flash work (sectors erased, bytes programmed per partition) of a 256 KiB
#    app delivered over the local link (needs the host CLI: make host);
#  - cloud: log lines per second one bulwarkd ingests from 50 devices, and
#    apps' HTTPS requests it relays per second (50 devices, then 1);
#  - cloud link of one QEMU device (modem emulator, TLS, MQTT, mosquitto,
#    bulwarkd): up bytes per app log line, the kernel's crypto arena and
#    stack high-water marks; TLS handshake instructions (full, resumed),
#    exactly (a block log of a bench kernel against a deterministic mbedTLS
#    server, tests/bench/bench_tls.py); the kernel's instructions per
#    relayed HTTPS request, exactly (a block log of the same bench kernel,
#    records handed to TLS whole, tests/bench/bench_http_device.py);
#  - over-the-air updates of a 256 KiB app at 16 000 B/s: goodput as a share
#    of the link, bytes re-fetched per cut, deploy -> installed, bulwarkd and
#    mosquitto CPU per device and per chunk (1 and 3 devices at once);
#  - GDB debugging the app: a 4-byte read's round trip and the bytes per
#    stepi, through the cloud at 16 000 B/s and over the local link;
#  - the boot stub: reset -> kernel entry with the full kernel check, its
#    ECDSA verifies and SHA-256, and a boot that swaps a staged kernel in,
#    exactly (a block log of the stub's ROM);
#  - .text/.data/.bss of the boot stub, kernel and hello for both targets.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
q=$build/qemu-an505
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The kernel the figures boot: the build's image and keys, sealed again at a
# fixed signing time. The build seals with the time it links, and the stub's
# ECDSA verifies take data-dependent paths, so a relink alone would move the
# boot figures; sealed here they depend on the kernel's bytes alone.
SIGNED_AT=4000000000   # 2096-10-02, inside the build signer's validity (to 2099)
cli=$build/host/cli/bulwark
keys=$q/kernel-keys
kernel=$q/kernel/bulwark-kernel.signed
if [ -x "$cli" ]; then
  version=$("$cli" bundle inspect --json "$kernel" | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
  "$cli" kernel sign "$q/kernel/bulwark-kernel.bin" --key "$keys/signer.key" --cert "$keys/signer.crt" \
    --root "$keys/root.pub" --version "$version" --signed-at "$SIGNED_AT" -o "$work/kernel.signed" >/dev/null
  kernel=$work/kernel.signed
fi

"$top/emu/bulwark-emu" image create --out "$work/flash.bin" \
  --kernel "$kernel" --app "$q/tests/bench/bench_app.elf" >/dev/null
# Exact figures (docs/DESIGN.md "Exact bench figures"): -icount sleep=off, so
# idle time never depends on the host, and the second boot is measured: the
# first creates the device key from host entropy (a random amount of work).
EXACT=(--extra -icount shift=0,sleep=off)
for boot in first second; do
  "$top/emu/bulwark-emu" run --image "$work/flash.bin" --boot "$q/boot/bulwark-boot.elf" \
    --timeout 60 --app-log "$work/app.log" --kernel-log "$work/kernel.log" "${EXACT[@]}" 2>/dev/null || {
    echo "bench: the benchmark app failed ($boot boot)" >&2; cat "$work/app.log" "$work/kernel.log" >&2; exit 1; }
done

figure() { sed -n "s/^bench: $1 //p" "$work/app.log"; }
echo "== Guest instructions (qemu-an505, -icount shift=0,sleep=off) =="
printf '%-44s %12s\n' "mvNoOp round trip (goal <= 60)" "$(figure noop_insns)"
printf '%-44s %12s\n' "event -> app ISR (goal <= 500)" "$(figure notify_insns)"
printf '%-44s %12s\n' "  (mvTempTriggerNotification call -> ISR)" ""
printf '%-44s %12s\n' "  that call with its ISR, to its return" "$(figure notify_call_insns)"
printf '%-44s %12s\n' "reset -> app main (boot 2: stub+kernel+SDK)" "$(figure boot_insns)"
printf '%-44s %12s\n' "  (FPGAIO counter ticks per 1000 insns)" "$(figure counter_ticks_per_1000_insns)"

# Boot stub (tests/bench/bench_boot.py): reset -> the kernel's first instruction
# with the full kernel check (docs/SPEC.md §19.3), exact: the log of the stub
# ROM's translated and executed blocks, summed (no -icount: its budget can stop
# a logged block before it runs). Streamed, never stored (~500 MB).
"$top/emu/bulwark-emu" run --image "$work/flash.bin" --boot "$q/boot/bulwark-boot.elf" \
  --timeout 120 --app-log "$work/stub-app.log" --kernel-log "$work/stub-kernel.log" \
  --extra -d in_asm,exec,nochain -dfilter 0x10000000..0x1000ffff -D /dev/stdout 2>/dev/null \
  | python3 "$top/tests/bench/bench_boot.py" "$q/boot/bulwark-boot.elf" > "$work/stub.txt"
stub() { sed -n "s/^bench: boot_$1 //p" "$work/stub.txt"; }
echo
echo "== Boot stub: the kernel check (qemu-an505, exact guest instructions) =="
printf '%-44s %12s\n' "reset -> kernel entry (full check)" "$(stub reset_to_kernel)"
printf '%-44s %12s\n' "  seal verify (chain, signature, counter, hash)" "$(stub seal_verify)"
printf '%-44s %12s\n' "  ECDSA P-256 verify, certificate (goal <= 8 M)" "$(stub ecdsa_verify_1)"
printf '%-44s %12s\n' "  ECDSA P-256 verify, seal (goal <= 8 M)" "$(stub ecdsa_verify_2)"
printf '%-44s %12s\n' "  SHA-256 (the $(stat -c %s "$q/kernel/bulwark-kernel.bin")-byte image and small hashes)" "$(stub sha256)"
# The swap boot (docs/SPEC.md §19.5, §19.6): the same kernel signed as the next
# minor version and staged; the stub checks it, backs the running kernel up,
# copies the new one in and checks the slot before the jump. Counted the same way.
if [ -x "$cli" ]; then
  next=$("$cli" bundle inspect --json "$kernel" \
    | python3 -c 'import json, sys; v = json.load(sys.stdin)["version_number"]; print(f"{v >> 24}.{((v >> 16) & 255) + 1}.0")')
  # At the same fixed signing time: the same bytes on every run (the
  # signature is deterministic, RFC 6979), so the same figure.
  "$cli" kernel sign "$q/kernel/bulwark-kernel.bin" --key "$keys/signer.key" --cert "$keys/signer.crt" \
    --root "$keys/root.pub" --version "$next" --signed-at "$SIGNED_AT" -o "$work/next.signed" >/dev/null
  "$top/emu/bulwark-emu" image create --out "$work/swap.bin" --kernel "$kernel" \
    --app "$q/tests/bench/bench_app.elf" --stage-kernel "$work/next.signed" >/dev/null
  "$top/emu/bulwark-emu" run --image "$work/swap.bin" --boot "$q/boot/bulwark-boot.elf" \
    --timeout 300 --app-log "$work/swap-app.log" --kernel-log "$work/swap-kernel.log" \
    --extra -d in_asm,exec,nochain -dfilter 0x10000000..0x1000ffff -D /dev/stdout 2>/dev/null \
    | python3 "$top/tests/bench/bench_boot.py" "$q/boot/bulwark-boot.elf" > "$work/swap.txt"
  grep -q "on trial (boot 1 of 3)" "$work/swap-kernel.log" || {
    echo "bench: the swap boot did not start the staged kernel" >&2; cat "$work/swap-kernel.log" >&2; exit 1; }
  printf '%-44s %12s\n' "reset -> kernel entry, swapping a kernel in" "$(sed -n 's/^bench: boot_reset_to_kernel //p' "$work/swap.txt")"
  printf '%-44s %12s\n' "  (3 full checks, backup and install copies)" ""
fi
printf '%-44s %12s\n' "boot stub .text, qemu-an505 / stm32u585 (B)" \
  "$(arm-none-eabi-size "$q/boot/bulwark-boot.elf" | awk 'NR == 2 { print $1 }') / $(arm-none-eabi-size "$build/stm32u585/boot/bulwark-boot.elf" | awk 'NR == 2 { print $1 }')"

# Crash supervision: bench_crash faults twice at bench_fault (a store to kernel
# RAM); the trace has one line per executed instruction (-singlestep), so the
# lines from the fault to Reset_Handler are its instruction count (WFI idle
# time executes nothing; the tick handlers that run during a backoff count).
# The boot stub's ROM is left out of the trace (-dfilter): it runs before.
crash_elf=$q/tests/bench/bench_crash.elf
"$top/emu/bulwark-emu" image create --out "$work/crash.bin" \
  --kernel "$kernel" --app "$crash_elf" >/dev/null
"$top/emu/bulwark-emu" run --image "$work/crash.bin" --boot "$q/boot/bulwark-boot.elf" \
  --timeout 60 --app-log "$work/crash-app.log" --kernel-log "$work/crash-kernel.log" \
  "${EXACT[@]}" -singlestep -d exec,nochain -dfilter 0x10010000..0xffffffff -D "$work/trace.log" 2>/dev/null || {
  echo "bench: the crash benchmark app failed" >&2; cat "$work/crash-app.log" "$work/crash-kernel.log" >&2; exit 1; }
sym() { arm-none-eabi-nm "$crash_elf" | awk -v n="$1" '$3 == n { print $1 }'; }
read -r crash1 crash2 < <(python3 - "$work/trace.log" "$(sym bench_fault)" "$(sym Reset_Handler)" <<'PY'
import re, sys
fault, reset = int(sys.argv[2], 16), int(sys.argv[3], 16)
pc = re.compile(r"Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
counts, start, n = [], None, 0
for line in open(sys.argv[1], errors="replace"):
    m = pc.match(line)
    if not m:
        continue
    addr = int(m.group(1), 16)
    if addr == fault and start is None:
        start = n
    elif addr == reset and start is not None:
        counts.append(n - start)
        start = None
    n += 1
print(*(counts + ["?", "?"])[:2])
PY
)
record_hex=$(sed -n 's/^\[kernel\] crash record: \([0-9a-f]*\)$/\1/p' "$work/crash-kernel.log" | head -1)
echo
echo "== Crash supervision (qemu-an505) =="
printf '%-44s %12s\n' "fault -> app Reset_Handler, 1st crash" "$crash1"
printf '%-44s %12s\n' "  (first record in a flash sector: blank check)" ""
printf '%-44s %12s\n' "fault -> app Reset_Handler, 2nd crash" "$crash2"
printf '%-44s %12s\n' "  (100 ms backoff: tick handlers while waiting)" ""
printf '%-44s %12s\n' "fault -> app main, 1st crash (us, guest)" "$(sed -n 's/^bench: crash_fault_to_main_us_1 //p' "$work/crash-app.log")"
printf '%-44s %12s\n' "crash record (bytes; + 16-byte commit in flash)" "$(( ${#record_hex} / 2 ))"

# Updates (tests/bench/bench_update.py): a 256 KiB app delivered over the
# local link and installed; exact instructions of the kernel's calls from a
# QEMU block log, interrupt handlers left out (tests/bench/trace_calls.py);
# flash work counted per partition by the QEMU flash driver.
echo
echo "== Update of a 256 KiB app (qemu-an505, exact guest instructions) =="
if [ -x "$build/host/cli/bulwark" ]; then
  python3 "$top/tests/bench/bench_update.py" --bulwark "$build/host/cli/bulwark" \
    --emu "$top/emu/bulwark-emu" --boot "$q/boot/bulwark-boot.elf" \
    --kernel "$kernel" --kernel-elf "$q/kernel/bulwark-kernel.elf" \
    --app-big "$q/tests/qemu/apps/qt-update-big.bin" \
    --workdir "$work/update" > "$work/update.txt" 2>&1 || {
    echo "bench: the update benchmark failed" >&2; cat "$work/update.txt" >&2; exit 1; }
  uf() { sed -n "s/^bench: $1 //p" "$work/update.txt"; }
  flash() {   # partition label, version
    local v; v=$(uf "v$2_flash_$1")
    [ -n "$v" ] && printf '%-44s %12s\n' "  $(echo "$1" | tr _ ' '): sectors erased, bytes programmed" "${v/ /, }"
    return 0
  }
  printf '%-44s %12s\n' "signature check at BEGIN (head + ECDSA)" "$(uf signature_check_insns)"
  printf '%-44s %12s\n' "  ECDSA P-256 verify, exact (goal <= 8 M)" "$(uf install_ecdsa_verify_insns)"
  for v in 2 3; do
    if [ "$v" = 2 ]; then echo "first update (also backs up the provisioned app):"; else echo "steady-state update (installed app -> new app):"; fi
    printf '%-44s %12s\n' "  BEGIN: head checks + staging bank prepared" "$(uf v${v}_begin_insns)"
    printf '%-44s %12s\n' "  FINISH: layer hashes + image measurement" "$(uf v${v}_finish_insns)"
    printf '%-44s %12s\n' "  install (backup, copy, verify, journal)" "$(uf v${v}_install_insns)"
    for part in app_slot bank_A bank_B journal; do flash "$part" "$v"; done
    printf '%-44s %12s\n' "  link, host -> device (KiB/s, wall)" "$(uf v${v}_link_kib_per_s)"
  done
else
  echo "(skipped: no host CLI at $build/host/cli/bulwark; make host)"
fi

# Cloud: log lines per second one bulwarkd ingests from 50 simulated devices
# (tests/bench/bench_ingest.py: real mosquitto with TLS, real bulwarkd).
echo
echo "== Cloud ingest (host: mosquitto + bulwarkd, 50 TLS devices) =="
h=$build/host
if [ -x "$h/cloud/bulwarkd/bulwarkd" ]; then
  python3 "$top/tests/bench/bench_ingest.py" "$h/cloud/bulwarkd/bulwarkd" "$h/cloud/broker/bw_registry_plugin.so" \
    "$h/tests/cloud/sim_device" "$work/ingest" > "$work/ingest.txt" 2>&1 || {
    echo "bench: the ingest benchmark failed" >&2; cat "$work/ingest.txt" >&2; exit 1; }
  printf '%-44s %12s\n' "log lines stored per second (one bulwarkd)" "$(sed -n 's/^bench: ingest_lines_per_s //p' "$work/ingest.txt")"
  printf '%-44s %12s\n' "  (lines stored, 50 devices, 48-byte lines)" "$(sed -n 's/^bench: ingest_lines //p' "$work/ingest.txt")"
  # Apps' HTTPS requests relayed (tests/bench/bench_http.py, SPEC §16): 50
  # simulated devices, one request at a time each; then one device alone.
  for n in 50 1; do
    BENCH_HTTP_DEVICES=$n python3 "$top/tests/bench/bench_http.py" "$h/cloud/bulwarkd/bulwarkd" \
      "$h/cloud/broker/bw_registry_plugin.so" "$h/tests/cloud/sim_device" "$work/http$n" > "$work/http$n.txt" 2>&1 || {
      echo "bench: the HTTP relay benchmark failed" >&2; cat "$work/http$n.txt" >&2; exit 1; }
    hf() { sed -n "s/^bench: http_$1 //p" "$work/http$n.txt"; }
    printf '%-44s %12s\n' "HTTP requests relayed per second, $n device(s)" "$(hf requests_per_s)"
    printf '%-44s %12s\n' "  bulwarkd CPU per request (ms)" "$(hf bulwarkd_cpu_ms_per_request)"
  done
else
  echo "(skipped: no bulwarkd at $h/cloud/bulwarkd; make host)"
fi

# Cloud link of one device (tests/bench/bench_cloud.py): cloud-demo online
# through the modem emulator, under -icount: bytes per log line, RAM peaks.
# The TLS handshake figures are exact (tests/bench/bench_tls.py, docs/DESIGN.md
# "Exact bench figures"): the kernel's TLS calls counted from a block log, on
# a bench kernel with fixed entropy against a deterministic mbedTLS server.
# So is the relayed-HTTP figure (tests/bench/bench_http_device.py): the calls
# that move each HTTP piece, on that bench kernel, records handed to TLS whole.
echo
echo "== Cloud link of one device (qemu-an505; instruction figures exact) =="
if [ -x "$h/cloud/bulwarkd/bulwarkd" ] && [ -x "$h/emu/modem/bulwark-modem" ]; then
  python3 "$top/tests/bench/bench_cloud.py" --build "$build" --top "$top" --workdir "$work/cloud" \
    > "$work/cloud.txt" 2>&1 || {
    echo "bench: the cloud link benchmark failed" >&2; cat "$work/cloud.txt" >&2; exit 1; }
  python3 "$top/tests/bench/bench_tls.py" --build "$build" --workdir "$work/tls" > "$work/tls.txt" 2>&1 || {
    echo "bench: the TLS handshake benchmark failed" >&2; cat "$work/tls.txt" >&2; exit 1; }
  cf() { sed -n "s/^bench: $1 //p" "$work/cloud.txt"; }
  tf() { sed -n "s/^bench: tls_$1 //p" "$work/tls.txt"; }
  printf '%-44s %12s\n' "TLS full handshake (insns in TLS calls, exact)" "$(tf full_insns)"
  printf '%-44s %12s\n' "  (polls, of them ECC slices)" "$(tf full_polls), $(tf full_ecc_slices)"
  printf '%-44s %12s\n' "TLS resumed handshake (insns, exact)" "$(tf resumed_insns)"
  printf '%-44s %12s\n' "  (polls, of them ECC slices)" "$(tf resumed_polls), $(tf resumed_ecc_slices)"
  printf '%-44s %12s\n' "up bytes on the link per log line (steady)" "$(cf log_up_bytes_per_line)"
  printf '%-44s %12s\n' "down bytes on the link per log line (acks)" "$(cf log_down_bytes_per_line)"
  printf '%-44s %12s\n' "  (line text bytes, lines in the window)" "$(cf log_line_text_bytes), $(cf log_window_lines)"
  printf '%-44s %12s\n' "crypto arena high-water (bytes)" "$(cf session_arena_peak) of $(cf arena_size | head -1)"
  printf '%-44s %12s\n' "kernel stack high-water (bytes)" "$(cf session_stack_peak)"
  # The device's cost of an app's relayed HTTPS request (bench_http_device.py),
  # exact: every request of the run must cost the same, or it fails.
  python3 "$top/tests/bench/bench_http_device.py" --build "$build" --workdir "$work/http-device" \
    > "$work/http-device.txt" 2>&1 || {
    echo "bench: the device HTTP benchmark failed" >&2; cat "$work/http-device.txt" >&2; exit 1; }
  df() { sed -n "s/^bench: http_device_$1 //p" "$work/http-device.txt"; }
  printf '%-44s %12s\n' "relayed HTTP GET: insns/request (exact)" "$(df insns_per_request)"
  printf '%-44s %12s\n' "  up (piece out, TLS record sealed)" "$(df up_insns)"
  printf '%-44s %12s\n' "  down (TLS record opened, piece in)" "$(df down_insns)"
  printf '%-44s %12s\n' "  (pieces per request; requests, 1st left out)" "$(df pieces_per_request); $(df requests)"
else
  echo "(skipped: no bulwarkd or bulwark-modem under $h; make host)"
fi

# Over-the-air updates (tests/bench/bench_ota.py): the qemu.ota harness, the
# modem emulator throttled to 16 000 B/s each way; host CPU from /proc/PID/stat.
echo
echo "== Over-the-air update of a 256 KiB app at 16 000 B/s (host + QEMU) =="
if [ -x "$h/cloud/bulwarkd/bulwarkd" ] && [ -x "$h/emu/modem/bulwark-modem" ]; then
  python3 "$top/tests/bench/bench_ota.py" --build "$build" --top "$top" --workdir "$work/ota" \
    > "$work/ota.txt" 2>&1 || {
    echo "bench: the OTA benchmark failed" >&2; cat "$work/ota.txt" >&2; exit 1; }
  of() { sed -n "s/^bench: ota_$1 //p" "$work/ota.txt"; }
  printf '%-44s %12s\n' "goodput by bytes (bundle / down; goal >= 90)" "$(of goodput_by_bytes_pct) %"
  printf '%-44s %12s\n' "goodput by time (bundle / rate x time)" "$(of goodput_by_time_pct) %"
  printf '%-44s %12s\n' "  (bundle bytes, bytes down, download s)" "$(of bundle_bytes), $(of download_down_bytes), $(of download_s)"
  printf '%-44s %12s\n' "goodput by time at 8 000 B/s" "$(of slow_goodput_by_time_pct) %"
  printf '%-44s %12s\n' "  (by bytes; download s)" "$(of slow_goodput_by_bytes_pct) %; $(of slow_download_s)"
  printf '%-44s %12s\n' "unthrottled: what the emulated link carries" "$(of unthrottled_down_bytes_per_s) B/s"
  printf '%-44s %12s\n' "  (download s)" "$(of unthrottled_download_s)"
  printf '%-44s %12s\n' "deploy -> installed at bulwarkd (s)" "$(of deploy_to_installed_s)"
  printf '%-44s %12s\n' "deploy -> new app's first line (s)" "$(of deploy_to_app_started_s)"
  printf '%-44s %12s\n' "re-fetched per drop: mean, worst (bytes)" "$(of cut_drop_mean_bytes), $(of cut_drop_worst_bytes)"
  printf '%-44s %12s\n' "re-fetched per corrupt: mean, worst (bytes)" "$(of cut_corrupt_mean_bytes), $(of cut_corrupt_worst_bytes)"
  printf '%-44s %12s\n' "  (drops, corrupts; one chunk on the link)" "$(of cut_drop_count), $(of cut_corrupt_count); $(of chunk_link_bytes)"
  for n in 1 3; do
    echo "$n device(s) downloading at once ($(of ${n}dev_chunks) chunks in $(of ${n}dev_window_s) s):"
    printf '%-44s %12s\n' "  bulwarkd CPU per device (ms; % of a core)" "$(of ${n}dev_bulwarkd_cpu_ms_per_device); $(of ${n}dev_bulwarkd_cpu_pct_per_device)"
    printf '%-44s %12s\n' "  bulwarkd CPU per chunk (us)" "$(of ${n}dev_bulwarkd_us_per_chunk)"
    printf '%-44s %12s\n' "  mosquitto CPU per chunk (us)" "$(of ${n}dev_mosquitto_us_per_chunk)"
  done
  printf '%-44s %12s\n' "bulwarkd CPU, 1 device idle (ms per s)" "$(of bulwarkd_idle_cpu_ms_per_s)"
  printf '%-44s %12s\n' "  (CPU from /proc/PID/stat, tick in ms)" "$(of cpu_tick_ms)"
else
  echo "(skipped: no bulwarkd or bulwark-modem under $h; make host)"
fi

# GDB debugging the app (tests/bench/bench_debug.py): a 4-byte read and a
# stepi through the cloud (modem throttled to 16 000 B/s) and over the local
# link; bytes counted at the modem / the link's socket, times inside GDB.
echo
echo "== GDB debugging the app (qemu-an505; medians of one run) =="
if [ -x "$h/cloud/bulwarkd/bulwarkd" ] && [ -x "$h/emu/modem/bulwark-modem" ] && command -v gdb-multiarch >/dev/null; then
  python3 "$top/tests/bench/bench_debug.py" --build "$build" --top "$top" --workdir "$work/debug" \
    > "$work/debug.txt" 2>&1 || {
    echo "bench: the debug benchmark failed" >&2; cat "$work/debug.txt" >&2; exit 1; }
  df() { sed -n "s/^bench: debug_$1 //p" "$work/debug.txt"; }
  for t in cloud link; do
    [ "$t" = cloud ] && echo "through the cloud at $(df rate) B/s:" || echo "over the local link:"
    printf '%-44s %12s\n' "  x/1wx (4-byte read) round trip (ms)" "$(df ${t}_read_ms)"
    printf '%-44s %12s\n' "  bytes on the link per 4-byte read" "$(df ${t}_read_bytes)"
    printf '%-44s %12s\n' "  bytes on the link per GDB stepi" "$(df ${t}_stepi_bytes)"
    printf '%-44s %12s\n' "  time per GDB stepi (ms)" "$(df ${t}_stepi_ms)"
  done
else
  echo "(skipped: no bulwarkd, bulwark-modem or gdb-multiarch; make host)"
fi

echo
echo "== Image sizes (bytes) =="
"$top/scripts/size-report.sh" "$build"
