# shellcheck shell=sh
# Guest plan for 'make stress': fence_stress for a long time, once per allocator.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

read -r secs seed < "$VMTEST_STAGE/../stress-args"
for mem in vmalloc dma-contig dma-sg; do
	modprobe vb2-resv-test mem=$mem
	result $? "modprobe vb2-resv-test mem=$mem"
	log=$OUT/fence_stress-$mem.log
	if [ -n "$seed" ]; then
		VB2_STRESS_LOG=$OUT "$VMTEST_STAGE/kselftest/vb2-resv/fence_stress" \
			-t "$secs" -s "$seed" --destructive >"$log" 2>&1
	else
		VB2_STRESS_LOG=$OUT "$VMTEST_STAGE/kselftest/vb2-resv/fence_stress" \
			-t "$secs" --destructive >"$log" 2>&1
	fi
	rc=$?
	grep -E '^# (seed |[0-9]+ operations|checks|FAIL)|^not ok' "$log" | head -n 40
	result $rc "fence_stress -t $secs --destructive, mem=$mem"
	modprobe -r vb2-resv-test
	result $? "modprobe -r vb2-resv-test mem=$mem"
done
