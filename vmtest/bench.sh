#!/usr/bin/env bash
# What producer fences cost: run fence_bench in the VM and keep its table.
#
# The table goes to $CACHE/runs/bench/bench.md with the machine and the
# command that produced it. Under QEMU TCG the absolute figures are not
# hardware numbers; what fences add, measured side by side in one boot, in
# pairs, is the point. Beside the report: the raw data (pairs.csv,
# latency.csv), bench-pairs.svg and bench-cpu.svg, each pair's ratio and
# the CPU time fences add, with the median and its 95% interval
# (bench-plot.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

args=${BENCH_ARGS:--j 10000 -r 40 -R 40 -c 16 -l 200 -S 100000 -u 1000 -k 1000}
# Times in the guest count instructions (run-vm.sh): 1 ns each, whatever
# else the host does. BENCH_ICOUNT= (empty) measures the host's time.
export VMTEST_ICOUNT=${BENCH_ICOUNT-0}
case $VMTEST_ICOUNT in
'') ;;
[0-9]) ;;
*) die "BENCH_ICOUNT=$VMTEST_ICOUNT: a shift from 0 to 9 (2^shift ns per instruction), or empty for the host's clock" ;;
esac
if [ -n "$VMTEST_ICOUNT" ]; then
	clock="QEMU's instruction counting (-icount shift=$VMTEST_ICOUNT): the guest's clocks advance $((1 << VMTEST_ICOUNT)) ns for each instruction it runs, so its times count instructions and do not depend on what else the host does"
else
	clock="the host's time (BENCH_ICOUNT empty): the figures move with whatever else the host does"
fi
if [ "${KERNEL_FLAVOR:-}" = bench ]; then
	kernel="the benchmark kernel: the test kernel without its debug options (no KASAN, lockdep, kmemleak, debug objects)"
else
	kernel="the test kernel (KASAN, lockdep, kmemleak, debug objects)"
fi
run=$CACHE/runs/bench
rm -rf "$run"
# The guest sees the host's / read-only: the plan reads its arguments here.
echo "$args" > "$CACHE/bench-args"
"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/bench.sh" "$run" 3600
awk -f "$VMTEST_DIR/tap-summary.awk" "$run/results.tap" >/dev/null ||
	die "the benchmark failed: $run/plan.log"
# A plot that fails costs the picture, not the report.
plot="bench-pairs.svg"
if [ ! -s "$run/pairs.csv" ]; then
	plot=
	say "no $run/pairs.csv: no plot"
elif ! python3 "$VMTEST_DIR/bench-plot.py" "$run/pairs.csv" "$run/bench-pairs.svg" ||
     ! python3 "$VMTEST_DIR/bench-plot.py" --cpu "$run/pairs.csv" "$run/bench-cpu.svg"; then
	plot=
	say "bench-plot.py failed: no plot"
fi
{
	echo "# fence_bench $args"
	echo
	echo "Measured $(date -u +%Y-%m-%d) in one boot of $kernel,"
	echo "$(cat "$STAGE/kernel.release"), under QEMU TCG (2 vCPUs) on $(nproc) host cores:"
	echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'). Clock: $clock."
	echo "Command: make bench BENCH_ARGS=\"$args\""
	echo
	cat "$run/bench.md"
	echo
	if [ -n "$plot" ]; then
		echo "Each pair's ratio, fences on / off, over the pair number, with the median and"
		echo "its 95% interval: \`$plot\`, beside this report; the CPU time fences add to"
		echo "a job in each pair: \`bench-cpu.svg\`. The raw data, one row per"
		echo "pair and one per wake-up: \`pairs.csv\`, \`latency.csv\`."
		echo
	fi
	if [ -s "$run/bench-counting.md" ]; then
		echo "The same pairs in the same boot, with the test device's own signal counting"
		echo "left on (\`fence_bench -T -C\`: a callback on each fence, which no real driver"
		echo "adds, and which the reports before this option counted as the fences' cost):"
		echo
		cat "$run/bench-counting.md"
		echo
	fi
	echo "Where the time goes: 2000 jobs with fences off, then 2000 with fences on, under ftrace's function profiler (times include callees; the profiler inflates short functions):"
	echo
	cat "$run/profile.md"
	echo
	echo "Where a wake-up's time goes: fence_bench -L -m -l 100 (the same wake-ups, with"
	echo "trace_marker lines around each wait) under the sched_waking, sched_wakeup,"
	echo "sched_switch and dma_fence_signaled events, cut into steps by bench-wakeup.py:"
	echo
	python3 "$VMTEST_DIR/bench-wakeup.py" "$run/wakeup-trace.txt" ||
		echo "(no breakdown: $run/wakeup-trace.txt)"
} > "$run/bench-report.md"
cat "$run/bench-report.md"
