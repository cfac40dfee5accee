#!/usr/bin/env bash
# The long runs (make soak), in a boot of the test kernel (KASAN, lockdep,
# kmemleak) of their own: F8 at its full length, fence_soak's 100,000 jobs,
# then fence_stress twice for 60 s; the guest's dmesg must be clean. About
# 11 minutes of a two-core machine under TCG, which is why make check runs
# the soak with 10,000 jobs and no fence_stress, and .ci/run runs this too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

run=$CACHE/runs/soak
rm -rf "$run"
rc=0
"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/soak.sh" "$run" 2400 || rc=$?
host=$run/host.tap
: > "$host"
tap "$host" $rc "the guest ran the soak and fence_stress to the end"
if [ $rc -eq 0 ]; then
	rc=0
	"$VMTEST_DIR/scan-dmesg.sh" "$run/dmesg.txt" || rc=$?
	tap "$host" $rc "guest dmesg has no WARNING, BUG, lockdep, KASAN or kmemleak report"
fi
echo "results: $run"
awk -f "$VMTEST_DIR/tap-summary.awk" "$host" "$run/results.tap" "$run/kselftest-soak.tap"
