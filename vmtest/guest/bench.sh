# shellcheck shell=sh
# Guest plan for 'make bench': fence_bench on the test device, fences off and on.
. "$VMTEST_REPO/vmtest/guest/lib.sh"
. "$VMTEST_REPO/vmtest/guest/profile-table.sh"

args=$(cat "$VMTEST_STAGE/../bench-args" 2>/dev/null)
modprobe vb2-resv-test mem=vmalloc
result $? "modprobe vb2-resv-test"
# shellcheck disable=SC2086  # the arguments are words
"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" $args \
	-o "$OUT/pairs.csv" -O "$OUT/latency.csv" > "$OUT/bench.md"
result $? "fence_bench $args"
cat "$OUT/bench.md"

# The same pairs with the test device's signal counting left on (a callback
# on each fence, which no real driver adds): what it added to the figures
# measured before fence_bench turned it off.
tput=$(echo "$args" | sed 's/-[lS] [0-9]*//g')
# shellcheck disable=SC2086  # the arguments are words
"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" -T -C $tput \
	-o "$OUT/pairs-counting.csv" > "$OUT/bench-counting.md"
result $? "fence_bench -T -C $tput"
cat "$OUT/bench-counting.md"

# Where the time goes: ftrace's function profiler times each step of
# publication, signalling and the dependency check over the same jobs run
# with fences off, then on; the table puts the two side by side.
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T
if [ -w $T/function_profile_enabled ]; then
	: > $T/set_ftrace_filter
	for f in vb2_buffers_publish_fences vb2_publish_fences vb2_lock_resvs \
		 ww_mutex_lock ww_mutex_unlock dma_resv_reserve_fences \
		 dma_fence_init64 dma_resv_add_fence vb2_buffer_done \
		 vb2_producer_fence_signal dma_fence_signal dma_fence_put \
		 __buf_prepare __kmalloc_cache_noprof kvfree_call_rcu \
		 vb2_buffer_get_dependency dma_resv_iter_first_unlocked \
		 dma_resv_iter_next_unlocked v4l2_m2m_try_schedule \
		 v4l2_m2m_job_finish vb2_core_qbuf vb2_core_dqbuf; do
		echo "$f" >> $T/set_ftrace_filter 2>/dev/null
	done
	# As fence_bench runs: without the test device's own callback.
	echo N > /sys/module/vb2_resv_test/parameters/count_signals
	for mode in off on; do
		[ $mode = on ] && v=Y || v=N
		echo $v > /sys/module/videobuf2_common/parameters/producer_fences
		# Enabling the profiler starts its counts afresh.
		echo 1 > $T/function_profile_enabled
		"$VMTEST_STAGE/kselftest/vb2-resv/fence_job" -n 2000 -s "Transaction Time (msec)=0" \
			> "$OUT/profile-jobs-$mode.txt" 2>&1
		result $? "fence_job -n 2000 under the function profiler, fences $mode"
		echo 0 > $T/function_profile_enabled
		cat $T/trace_stat/function* > "$OUT/profile-$mode.txt"
	done
	echo Y > /sys/module/videobuf2_common/parameters/producer_fences
	echo Y > /sys/module/vb2_resv_test/parameters/count_signals
	profile_table "$OUT/profile-off.txt" "$OUT/profile-on.txt" 2000 > "$OUT/profile.md"
	cat "$OUT/profile.md"
else
	echo "no function profiler in this kernel (CONFIG_FUNCTION_PROFILER): no breakdown" | tee "$OUT/profile.md"
fi

# Where a wake-up's time goes: the scheduler's and dma_fence's events
# around each measured wait (fence_bench -L -m), which the host cuts into
# steps (vmtest/bench-wakeup.py).
E=$T/events
if [ -d $E/sched/sched_waking ] && [ -d $E/dma_fence/dma_fence_signaled ]; then
	echo 0 > $T/tracing_on
	echo nop > $T/current_tracer
	: > $T/trace
	echo 8192 > $T/buffer_size_kb
	echo 'comm == "fence_bench"' > $E/sched/sched_waking/filter
	echo 'comm == "fence_bench"' > $E/sched/sched_wakeup/filter
	echo 'next_comm == "fence_bench"' > $E/sched/sched_switch/filter
	for e in sched/sched_waking sched/sched_wakeup sched/sched_switch \
		 dma_fence/dma_fence_signaled; do
		echo 1 > $E/$e/enable
	done
	echo 1 > $T/tracing_on
	"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" -L -m -l 100 > "$OUT/wakeup-bench.md"
	result $? "fence_bench -L -m -l 100 with the scheduler and dma_fence events traced"
	echo 0 > $T/tracing_on
	for e in sched/sched_waking sched/sched_wakeup sched/sched_switch \
		 dma_fence/dma_fence_signaled; do
		echo 0 > $E/$e/enable
		echo 0 > $E/$e/filter 2>/dev/null
	done
	cat $T/trace > "$OUT/wakeup-trace.txt"
	result $? "the wake-up trace saved"
else
	echo "no sched_waking or dma_fence_signaled event in this kernel: no wake-up breakdown" |
		tee "$OUT/wakeup-trace.txt"
fi

# Reached the end: the host knows the plan ran whole.
exit 0
