# shellcheck shell=sh
# Guest plan for 'make bench': fence_bench on the test device, fences off and on.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

args=$(cat "$VMTEST_STAGE/../bench-args" 2>/dev/null)
modprobe vb2-resv-test mem=vmalloc
result $? "modprobe vb2-resv-test"
# shellcheck disable=SC2086  # the arguments are words
"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" $args \
	-o "$OUT/pairs.csv" -O "$OUT/latency.csv" > "$OUT/bench.md"
result $? "fence_bench $args"
cat "$OUT/bench.md"

# Where the time goes: ftrace's function profiler times each step of
# publication and signalling over jobs run with fences on.
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T
if [ -w $T/function_profile_enabled ]; then
	echo Y > /sys/module/videobuf2_common/parameters/producer_fences
	: > $T/set_ftrace_filter
	for f in vb2_buffer_publish_fence vb2_lock_resvs ww_mutex_lock_interruptible \
		 ww_mutex_unlock ww_acquire_init ww_acquire_fini dma_resv_reserve_fences \
		 dma_fence_init64 dma_resv_add_fence vb2_buffer_done \
		 vb2_producer_fence_signal dma_fence_signal dma_fence_put \
		 __buf_prepare __kmalloc_cache_noprof; do
		echo "$f" >> $T/set_ftrace_filter 2>/dev/null
	done
	echo 1 > $T/function_profile_enabled
	"$VMTEST_STAGE/kselftest/vb2-resv/fence_job" -n 2000 -s "Transaction Time (msec)=0" \
		> "$OUT/profile-jobs.txt" 2>&1
	result $? "fence_job -n 2000 under the function profiler"
	echo 0 > $T/function_profile_enabled
	# One table for all CPUs: hits and total time add up; the average follows.
	cat $T/trace_stat/function* | awk '
		$1 != "Function" && $1 !~ /^-/ && NF >= 4 {
			t = $3; u = $4
			us = u == "us" ? t : u == "ms" ? t * 1000 : u == "ns" ? t / 1000 : t
			hit[$1] += $2; time[$1] += us
		}
		END {
			print "| function | calls per job | total us | us per call |"
			print "|---|---|---|---|"
			for (f in hit)
				printf "| `%s` | %.2f | %.0f | %.2f |\n", f, hit[f] / 2000, time[f], time[f] / hit[f]
		}' > "$OUT/profile.md"
	cat "$OUT/profile.md"
else
	echo "no function profiler in this kernel (CONFIG_FUNCTION_PROFILER): no breakdown" | tee "$OUT/profile.md"
fi

# Reached the end: the host knows the plan ran whole.
exit 0
