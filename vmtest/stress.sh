#!/usr/bin/env bash
# The long fence_stress run (make stress): STRESS_SECONDS per allocator
# (default 600, so 30 minutes for the three), STRESS_SEED to replay a run,
# on the test kernel (KASAN, lockdep, kmemleak); the guest's dmesg must be
# clean. The report goes to $CACHE/runs/stress/stress-report.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

secs=${STRESS_SECONDS:-600}
seed=${STRESS_SEED:-}
case $secs in
'' | *[!0-9]*) die "STRESS_SECONDS=$secs: a number of seconds per allocator" ;;
esac
run=$CACHE/runs/stress
rm -rf "$run"
# The guest sees the host's / read-only: the plan reads its arguments here.
echo "$secs $seed" > "$CACHE/stress-args"
"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/stress.sh" "$run" $((secs * 3 + 900))
rc=0
"$VMTEST_DIR/scan-dmesg.sh" "$run/dmesg.txt" || rc=1
{
	echo "# make stress STRESS_SECONDS=$secs${seed:+ STRESS_SEED=$seed}"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC on $(cat "$STAGE/kernel.release") (KASAN, lockdep,"
	echo "kmemleak) under QEMU TCG, 2 vCPUs, $(nproc) host cores; guest dmesg $([ $rc -eq 0 ] && echo clean || echo 'NOT clean')."
	echo
	for mem in vmalloc dma-contig dma-sg; do
		f=$run/fence_stress-$mem.log
		[ -f "$f" ] || continue
		echo "## mem=$mem"
		echo
		{ grep -E '^# (seed |[0-9]+ operations|checks|FAIL)|^(not )?ok ' "$f" || true; } |
			sed 's/^/    /'
		echo
	done
} > "$run/stress-report.md"
cat "$run/stress-report.md"
awk -f "$VMTEST_DIR/tap-summary.awk" "$run/results.tap" && [ $rc -eq 0 ]
