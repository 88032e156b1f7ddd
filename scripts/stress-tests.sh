#!/usr/bin/env bash
# make stress-tests: runs the QEMU tests (those matching STRESS_TESTS, a ctest
# regex; default every one) STRESS_RUNS times in a row (default 20), then names
# every test that ever failed with how often, and exits 1 if any did. A test
# that fails one run in twenty is a bug (README: the suite).
set -uo pipefail
build=${1:-build}
runs=${STRESS_RUNS:-20}
regex=${STRESS_TESTS:-^qemu\.}
jobs=${CTEST_PARALLEL:-$(nproc)}
dir=$build/qemu-an505
declare -A failed=()
total=$(ctest --test-dir "$dir" -N -R "$regex" | sed -n 's/^Total Tests: //p')
echo "stress-tests: ${total:-0} tests matching /$regex/, $runs runs, -j$jobs"
[ "${total:-0}" -gt 0 ] || { echo "stress-tests: no test matches /$regex/" >&2; exit 1; }
for run in $(seq 1 "$runs"); do
  out=$(ctest --test-dir "$dir" -R "$regex" -j"$jobs" --output-on-failure 2>&1)
  names=$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (.*)$/\1/p')
  for name in $names; do
    failed[$name]=$(( ${failed[$name]:-0} + 1 ))
    printf '%s\n' "$out" > "$dir/stress-run$run-$name.log"
    # The test's own logs (device consoles, brokers, bulwarkd): the next run
    # writes over its work directory.
    work=$dir/tests/qemu/work/${name#qemu.}
    [ -d "$work" ] && cp -a "$work" "$dir/stress-run$run-$name.work"
  done
  echo "run $run/$runs: $(printf '%s\n' "$out" | grep -E '^[0-9]+% tests passed')"
done
if [ ${#failed[@]} -eq 0 ]; then
  echo "stress-tests: 0 failures in $runs runs of $total tests"
  exit 0
fi
echo "stress-tests: tests that failed (failures of $runs runs; logs in $dir/stress-run*.log, work directories in $dir/stress-run*.work):"
for name in "${!failed[@]}"; do
  printf '  %-40s %d\n' "$name" "${failed[$name]}"
done | sort
exit 1
