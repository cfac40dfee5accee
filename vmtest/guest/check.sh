# shellcheck shell=sh
# Guest plan for 'make check': the selftests, v4l2-compliance, module unload.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vim2m
result $? "modprobe vim2m"
modprobe vb2-resv-test mem=vmalloc
result $? "modprobe vb2-resv-test mem=vmalloc"
# F13's KMS consumer (kms_consumer): vkms with its writeback connector, which
# shows the frame vkms composed; vgem as a second importer and allocator.
modprobe vkms enable_writeback=1
result $? "modprobe vkms enable_writeback=1"
modprobe vgem
result $? "modprobe vgem"

# Every installed kselftest; run_kselftest.sh prints KTAP that the host counts.
# It reopens /dev/stdout for the tests' output: through a pipe, so that its
# writes and the shell's cannot overwrite each other as they would in a file.
(cd "$VMTEST_STAGE/kselftest" && ./run_kselftest.sh) 2>&1 | cat > "$OUT/kselftest.tap"
grep -E '^# (not )?ok |^(not )?ok ' "$OUT/kselftest.tap"

# The benchmark, short, so that 'make bench' cannot rot; its numbers are not judged here.
"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" -j 400 -r 1 -c 4 -l 10 > "$OUT/bench-short.md" 2>&1
result $? "fence_bench runs (short; 'make bench' keeps the numbers)"

# F1: a driver that does not opt in keeps its v4l2-compliance result; the
# opted-in test device passes it too, streaming MMAP and, with buffers that
# vim2m exports, DMABUF (-e).
compliance vim2m -s
compliance vb2-resv-test -s -e "$(video_node vim2m)"
modprobe -r vb2-resv-test
result $? "modprobe -r vb2-resv-test after the tests"

# The contract again with the other two allocators.
for mem in dma-contig dma-sg; do
	modprobe vb2-resv-test mem=$mem
	result $? "modprobe vb2-resv-test mem=$mem"
	"$VMTEST_STAGE/kselftest/vb2-resv/producer_fences" 2>&1 |
		cat > "$OUT/producer_fences-$mem.tap"
	grep -E '^(not )?ok ' "$OUT/producer_fences-$mem.tap" | sed "s/\$/ [$mem]/"
	modprobe -r vb2-resv-test
	result $? "modprobe -r vb2-resv-test mem=$mem"
done

modprobe -r vim2m
result $? "modprobe -r vim2m after the tests"

kmemleak_scan

# Reached the end: the host knows the plan ran whole.
exit 0
