#!/usr/bin/env bash
# Run the whole suite (harness self-tests, then the VM suite) and print 'N passed, N failed'.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

run=$CACHE/runs/check
rm -rf "$run"
mkdir -p "$run"
host=$run/host.tap
: > "$host"

"$VMTEST_DIR/selftest-harness.sh" "$host"
"$VMTEST_DIR/check-series.sh" "$host"
"$VMTEST_DIR/check-packaging.sh" "$host"

rc=0
VMTEST_PROGRESS=1 "$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/check.sh" "$run/guest" || rc=$?
tap "$host" $rc "the guest ran the suite to the end"
if [ $rc -eq 0 ]; then
	rc=0
	"$VMTEST_DIR/scan-dmesg.sh" "$run/guest/dmesg.txt" || rc=$?
	tap "$host" $rc "guest dmesg has no WARNING, BUG, lockdep, KASAN or kmemleak report"
fi

# F9: the annotations are live. A deliberate violation, in a boot of its own,
# must make lockdep report the signalling section against memory reclaim.
rc=0
"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/lockdep-negative.sh" "$run/lockdep" || rc=$?
if [ $rc -eq 0 ]; then
	grep -q 'possible circular locking dependency detected' "$run/lockdep/dmesg.txt" &&
		grep -q 'dma_fence_map' "$run/lockdep/dmesg.txt" || rc=1
fi
tap "$host" $rc "F9: lockdep reports an allocation inside the fence signalling section"

echo "results: $run"
awk -f "$VMTEST_DIR/tap-summary.awk" "$host" "$run"/guest/*.tap "$run"/lockdep/*.tap
