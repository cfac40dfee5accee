# shellcheck shell=sh
# Guest plan: what fences add to a job with 1 context and with 16 (issue 31).
#
#   make bench   # once: builds the benchmark kernel
#   KERNEL_FLAVOR=bench vmtest/run-vm.sh vmtest/guest/bench-contexts.sh OUT
#
# fence_job (one buffer each way, strictly one job after the other) as 1
# process of 16000 jobs or 16 processes of 1000, fences off and on in turn,
# 8 rounds: the wall time and the CPU time (/proc/stat, both vCPUs, in
# ticks of 10 ms) per job. Then 4000 jobs each way under ftrace's function
# profiler, with the look-up, publication, signalling and spinlock slow
# path among the functions; then which locks are contended. The tables go
# to OUT/contexts.md.
. "$VMTEST_REPO/vmtest/guest/lib.sh"
. "$VMTEST_REPO/vmtest/guest/profile-table.sh"
K=$VMTEST_STAGE/kselftest/vb2-resv
modprobe vb2-resv-test mem=vmalloc
result $? "modprobe"
echo N > /sys/module/vb2_resv_test/parameters/count_signals
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T
grep -E 'spin_lock_slowpath|try_queue|job_waits|try_run' $T/available_filter_functions > $OUT/avail.txt
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
now() { date +%s%N; }
run() { # contexts jobs-per-context
	c=$1; n=$2; i=0
	while [ $i -lt $c ]; do
		"$K/fence_job" -n $n -s "Transaction Time (msec)=0" > /dev/null 2>&1 &
		i=$((i + 1))
	done
	wait
}
for rep in 1 2 3 4 5 6 7 8; do
	for c in 1 16; do
		for mode in off on; do
			[ $mode = on ] && v=Y || v=N
			echo $v > /sys/module/videobuf2_common/parameters/producer_fences
			b0=$(busy); t0=$(now)
			run $c $((16000 / c))
			t1=$(now); b1=$(busy)
			echo "$rep $c $mode $(( (t1 - t0) / 16000 )) $(( (b1 - b0) * 10000000 / 16000 ))" >> $OUT/timing.txt
		done
	done
done
result 0 timing
: > $T/set_ftrace_filter
for f in vb2_buffers_publish_fences vb2_buffer_get_dependency v4l2_m2m_try_schedule \
	 v4l2_m2m_try_run __v4l2_m2m_try_queue_locked v4l2_m2m_job_waits \
	 native_queued_spin_lock_slowpath __pv_queued_spin_lock_slowpath queued_spin_lock_slowpath \
	 _raw_spin_lock_irqsave _raw_spin_lock dma_fence_signal dma_fence_signal_timestamp_locked \
	 vb2_buffer_done v4l2_m2m_job_finish v4l2_m2m_buf_done_and_job_finish vb2_core_qbuf vb2_core_dqbuf \
	 dma_resv_iter_first_unlocked dma_resv_add_fence __buf_prepare kvfree_call_rcu \
	 vb2_producer_fence_signal dma_fence_init64 ww_mutex_lock; do
	echo "$f" >> $T/set_ftrace_filter 2>/dev/null
done
cat $T/set_ftrace_filter > $OUT/filter.txt
for c in 1 16; do
	for mode in off on; do
		[ $mode = on ] && v=Y || v=N
		echo $v > /sys/module/videobuf2_common/parameters/producer_fences
		echo 1 > $T/function_profile_enabled
		run $c $((4000 / c))
		echo 0 > $T/function_profile_enabled
		cat $T/trace_stat/function* > $OUT/profile-$c-$mode.txt
	done
done
result 0 profile
echo Y > /sys/module/videobuf2_common/parameters/producer_fences
# Which locks are contended: a hist trigger on lock:contention_begin keyed
# on the kernel stack, over 16 contexts' 4000 jobs, fences off then on.
E=$T/events/lock/contention_begin
for mode in off on; do
	[ $mode = on ] && v=Y || v=N
	echo $v > /sys/module/videobuf2_common/parameters/producer_fences
	trig='hist:keys=common_stacktrace:vals=hitcount:sort=hitcount.descending:size=4096'
	echo "$trig" > $E/trigger
	run 16 250
	cat $E/hist > $OUT/contention-$mode.txt
	echo "!$trig" > $E/trigger
done
result $? "the contended locks"
echo Y > /sys/module/videobuf2_common/parameters/producer_fences
# The tables: per context count, the on - off differences of the rounds
# (median, min..max), then the profile's calls and microseconds per job.
{
	echo "| contexts | wall us per job added, median (min..max) | CPU us per job added, median (min..max) |"
	echo "|---|---|---|"
	for c in 1 16; do
		for col in 4 5; do
			awk -v c=$c -v col=$col '$2 == c && $3 == "off" { off[$1] = $col }
				$2 == c && $3 == "on" { on[$1] = $col }
				END { for (r in off) print (on[r] - off[r]) / 1000 }' $OUT/timing.txt |
				sort -g | awk '{ v[NR] = $1 } END {
					m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
					printf "%+.1f (%+.1f..%+.1f)\n", m, v[1], v[NR] }' > $OUT/col$col
		done
		echo "| $c | $(cat $OUT/col4) | $(cat $OUT/col5) |"
	done
	rm -f $OUT/col4 $OUT/col5
	for c in 1 16; do
		echo
		echo "$c context(s), 4000 jobs each way under the function profiler (times include callees and the profiler's own cost):"
		echo
		profile_table "$OUT/profile-$c-off.txt" "$OUT/profile-$c-on.txt" 4000
	done
	echo
	echo "Contended locks, 16 contexts, 4000 jobs (lock:contention_begin): the first three frames of each stack, most hits first:"
	for mode in off on; do
		echo
		echo "fences $mode, $(awk '/^ *Hits:/ { print $2 }' $OUT/contention-$mode.txt) contentions:"
		echo
		awk '/^\{ common_stacktrace:/ { s = ""; n = 0; next }
			/hitcount:/ && !/^#/ { print "    " $NF, s; next }
			NF == 1 && n < 3 { s = s " < " $1; n++ }' $OUT/contention-$mode.txt
	done
} > $OUT/contexts.md
result $? "the tables"
exit 0
