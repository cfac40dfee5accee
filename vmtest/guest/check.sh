# shellcheck shell=sh
# Guest plan for 'make check': the selftests, v4l2-compliance, module unload.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

# The installed kselftests through their runner, which prints KTAP that the
# host counts. It reopens /dev/stdout for the tests' output: through a pipe,
# so that its writes and the shell's cannot overwrite each other as they
# would in a file. Each result reaches plan.log as it comes, for the host to
# show.
kselftests() {
	(cd "$VMTEST_STAGE/kselftest" && ./run_kselftest.sh "$@") 2>&1
}
ktap_progress() {
	grep --line-buffered -E '^# selftests: |^# (not )?ok |^(not )?ok '
}

# F13's KMS consumer (kms_consumer): vkms with its writeback connector, which
# shows the frame vkms composed; vgem as a second importer and allocator.
modprobe vkms enable_writeback=1
result $? "modprobe vkms enable_writeback=1"
modprobe vgem
result $? "modprobe vgem"

# What a kernel with the series and the vim2m follow-up, and no module of
# ours, runs: the tests that need only a device that publishes, on vim2m,
# before the test module is loaded, and by default (nothing unbound,
# unloaded, injected or switched). The tests that need the test module's
# controls or fault injection skip, saying so.
modprobe vim2m
result $? "modprobe vim2m"
[ ! -e /sys/module/vb2_resv_test ]
result $? "vb2-resv-test is not loaded for the tests on vim2m"
VB2_RESV_DRIVER=vim2m kselftests -t vb2-resv:producer_fences -t vb2-resv:fence_errors \
	-t vb2-resv:implicit_sync -t vb2-resv:kms_consumer | tee "$OUT/kselftest-vim2m.tap" | ktap_progress

# Everything from here, also the tests that run only when asked: those that
# unbind drivers, unload modules, inject allocation failures or flip the
# switch.
export VB2_RESV_DESTRUCTIVE=1
modprobe vb2-resv-test mem=vmalloc
result $? "modprobe vb2-resv-test mem=vmalloc"

# hantro-vpu, rockchip-vdec and rockchip-rga, the real drivers, against the
# RK3399 register model (rk3399_fences tests them; vmtest/run-vm.sh reserves its registers).
# It is a fixture: it loads only when told where its registers are, and
# never over memory the kernel uses.
! modprobe vb2-resv-rk3399-model 2>/dev/null &&
	dmesg | grep -q 'vb2-resv-rk3399-model: a test fixture, loaded only on request'
result $? "vb2-resv-rk3399-model refuses to load without regs="
! modprobe vb2-resv-rk3399-model regs=0x1000000 2>/dev/null &&
	dmesg | grep -q 'regs=0x1000000\.\.0x101ffff is system RAM'
result $? "vb2-resv-rk3399-model refuses regs= in system RAM"
modprobe vb2-resv-rk3399-model regs="$VMTEST_MODEL_REGS"
result $? "modprobe vb2-resv-rk3399-model regs=$VMTEST_MODEL_REGS"
modprobe hantro-vpu
result $? "modprobe hantro-vpu (probes on the model)"
modprobe rockchip-rga
result $? "modprobe rockchip-rga (probes on the model)"
modprobe rockchip-vdec
result $? "modprobe rockchip-vdec (probes on the model)"
rk_nodes="rockchip,rk3399-vpu-enc rockchip,rk3399-vpu-dec rockchip-rga rockchip,rk3588-av1-vpu-dec rkvdec"

# Every installed kselftest but fence_soak, which runs later beside
# v4l2-compliance. non_opted_in skips here (vim2m opts in); it runs below on
# vim2m without its follow-up.
kselftests -S vb2-resv:fence_soak | tee "$OUT/kselftest.tap" | ktap_progress

# The benchmark, short, so that 'make bench' cannot rot; its numbers are not judged here.
"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" -j 400 -r 2 -R 2 -c 4 -l 10 -S 400 \
	> "$OUT/bench-short.md" 2>&1
result $? "fence_bench runs (short; 'make bench' keeps the numbers)"
# The CPU time per job comes from /proc/schedstat (CONFIG_SCHEDSTATS): a
# kernel or a parser that loses it leaves "not measured" in the table.
grep -q '^| 1 context, 0 ms jobs | [0-9.]* ([0-9.]*\.\.[0-9.]*) |' "$OUT/bench-short.md" &&
	! grep -q 'not measured' "$OUT/bench-short.md"
result $? "fence_bench measured the CPU time of a job (/proc/schedstat)"
"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" -T -C -j 400 -r 2 -R 2 -c 4 \
	-u 1000 -k 40 >> "$OUT/bench-short.md" 2>&1
result $? "fence_bench -T -C -u runs (the throughput alone, the device's counting on, 1 ms jobs)"
# fence_bench turns the device's signal counting off while it runs and sets
# its job_us for -u; the tests below need both as they were.
[ "$(cat /sys/module/vb2_resv_test/parameters/count_signals)" = Y ] &&
	[ "$(cat /sys/module/vb2_resv_test/parameters/job_us)" = 0 ]
result $? "fence_bench left vb2-resv-test's count_signals and job_us as it found them"

# F8's soak: 10,000 jobs here, a minute of this kernel's CPU; its full
# 100,000 (eight minutes) are 'make soak', which .ci/run runs too. The
# v4l2-compliance runs that follow spend most of their time asleep in their
# blocking-wait tests (16 s a node). The soak runs in the background while
# they do: its own context, its fence counts keyed by that context, and no
# test judged by time beside it. Its KTAP goes to a file of its own, through
# a pipe like the run above (in a file, run_kselftest.sh's writes would
# overwrite each other).
VB2_RESV_JOBS=10000 kselftests -t vb2-resv:fence_soak | cat > "$OUT/kselftest-soak.tap" &
soak=$!

# hantro, rga and rkvdec without patches 2 and 3 and the rkvdec follow-up:
# their base sources, built against this kernel. v4l2-compliance (not streaming: the model decodes nothing)
# must say the same of both builds, and rk3399_fences must fail: it checks
# the drivers' changes, not only videobuf2's helper.
# The nodes at once: each run waits mostly asleep, and apart from each other
# they take five times as long.
compliance_nodes() {
	pids=
	for n in $rk_nodes; do
		compliance_run "$n" "$OUT/v4l2-compliance-$n$1.log" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
}

# F1: a driver that does not opt in keeps its v4l2-compliance result; the
# opted-in test device passes it too, streaming MMAP and, with buffers that
# vim2m exports, DMABUF (-e). vim2m's run goes beside the RK3399 nodes' (a
# v4l2_device of its own, so no priority of one run's handles holds up
# another's), and before the test device's, whose -e opens vim2m.
compliance_run vim2m "$OUT/v4l2-compliance-vim2m.log" -s &
vim2m_compliance=$!
compliance_nodes ""
wait $vim2m_compliance
result $? "v4l2-compliance -s on vim2m"
compliance vb2-resv-test -s -e "$(video_node vim2m)"
rmmod rockchip-vdec rockchip-rga hantro-vpu
result $? "rmmod rockchip-vdec rockchip-rga hantro-vpu"
insmod "$VMTEST_STAGE/unpatched/hantro-vpu.ko" &&
	insmod "$VMTEST_STAGE/unpatched/rockchip-rga.ko" &&
	insmod "$VMTEST_STAGE/unpatched/rockchip-vdec.ko"
result $? "insmod hantro-vpu, rockchip-rga and rockchip-vdec without their patches"
compliance_nodes -unpatched
for n in $rk_nodes; do
	with=$(compliance_counts "$OUT/v4l2-compliance-$n.log")
	without=$(compliance_counts "$OUT/v4l2-compliance-$n-unpatched.log")
	echo "# $n with the series: $with; without its driver's patch: $without"
	[ -n "$with" ] && [ "$with" = "$without" ]
	result $? "v4l2-compliance on $n: the same with and without the series"
done

wait $soak
grep -E '^# selftests: |^# (not )?ok |^(not )?ok ' "$OUT/kselftest-soak.tap"
# Its KTAP whole and in order: the test's result, then the runner's.
awk '/^# (not )?ok 1 soak\./ { t = NR }
     /^(not )?ok 1 selftests: vb2-resv: fence_soak/ { r = NR }
     END { exit !(t && r > t) }' "$OUT/kselftest-soak.tap"
result $? "fence_soak ran to its end beside v4l2-compliance (its result is counted from its own KTAP)"

# The drivers without their patches, continued: rk3399_fences must fail.
# Not a .tap file: its failures are the expected result, which the host
# must not count as failures.
"$VMTEST_STAGE/kselftest/vb2-resv/rk3399_fences" \
	-t fence_published_at_device_run_signalled_at_irq 2>&1 |
	cat > "$OUT/rk3399_fences-unpatched.log"
for v in hantro_jpeg_enc hantro_mpeg2_dec rga rkvdec_h264_dec; do
	grep -q "^not ok [0-9]* rk3399\.$v\.fence_published_at_device_run" \
		"$OUT/rk3399_fences-unpatched.log"
	result $? "without its driver's patch, rk3399_fences $v finds no fence at device_run"
done
rmmod rockchip-vdec rockchip-rga hantro-vpu
result $? "rmmod hantro-vpu, rockchip-rga and rockchip-vdec without their patches"

# vim2m without its follow-up: the in-tree driver that does not opt in, for
# F1. non_opted_in must run every test on it (a skip there would hide a core
# that publishes for drivers that did not ask), v4l2-compliance must say the
# same as of the vim2m that opts in, and the tests of a device that
# publishes must skip on it, saying why, not fail.
rmmod vim2m && insmod "$VMTEST_STAGE/unpatched/vim2m.ko"
result $? "insmod vim2m without its follow-up"
kselftests -t vb2-resv:non_opted_in | tee "$OUT/kselftest-non-opted.tap" | ktap_progress
! grep -qE '^# ok [0-9]+ .*# SKIP' "$OUT/kselftest-non-opted.tap" &&
	grep -qE '^ok [0-9]+ selftests: vb2-resv: non_opted_in' "$OUT/kselftest-non-opted.tap"
result $? "non_opted_in ran every test on vim2m without its follow-up, none skipped"
compliance_run vim2m "$OUT/v4l2-compliance-vim2m-unpatched.log" -s
with=$(compliance_counts "$OUT/v4l2-compliance-vim2m.log")
without=$(compliance_counts "$OUT/v4l2-compliance-vim2m-unpatched.log")
echo "# vim2m with its follow-up: $with; without: $without"
[ -n "$with" ] && [ "$with" = "$without" ]
result $? "v4l2-compliance -s on vim2m: the same with and without its follow-up"
# Not a .tap file: its skips are the expected result, which the host must
# not count.
VB2_RESV_DESTRUCTIVE='' VB2_RESV_DRIVER=vim2m "$VMTEST_STAGE/kselftest/vb2-resv/producer_fences" \
	> "$OUT/producer_fences-vim2m-unpatched.log" 2>&1
grep -E '^# Totals|^ok 1 ' "$OUT/producer_fences-vim2m-unpatched.log"
grep -qE '^ok [0-9]+ .*# SKIP' "$OUT/producer_fences-vim2m-unpatched.log" &&
	! grep -qE '^not ok |^ok [0-9]+ [^#]*$' "$OUT/producer_fences-vim2m-unpatched.log"
result $? "producer_fences on vim2m without its follow-up skips every test, fails none"
rmmod vim2m && modprobe vim2m
result $? "vim2m with its follow-up again"
# rockchip-rga as the series has it, but for its watchdog's wait for the
# interrupt handler (vmtest/negative/): the test of that wait must fail.
insmod "$VMTEST_STAGE/negative/rockchip-rga.ko"
result $? "insmod rockchip-rga without its watchdog's wait for the interrupt handler"
"$VMTEST_STAGE/kselftest/vb2-resv/rk3399_fences" \
	-r rk3399.rga.watchdog_keeps_interrupt_handler_off_reset 2>&1 |
	cat > "$OUT/rk3399_fences-rga-no-handler-wait.log"
grep -q '^not ok [0-9]* rk3399\.rga\.watchdog_keeps_interrupt_handler_off_reset' \
	"$OUT/rk3399_fences-rga-no-handler-wait.log" &&
	grep -q 'the interrupt handler ran while the watchdog held the rga in reset' \
		"$OUT/rk3399_fences-rga-no-handler-wait.log"
result $? "without its wait for the interrupt handler, rga's handler runs while the watchdog holds the block in reset (rk3399_fences fails)"
rmmod rockchip-rga
result $? "rmmod rockchip-rga without its watchdog's wait for the interrupt handler"
# hantro-vpu as the series has it, but for its two fixes in patches/fixes/
# (the MPEG-2 decoder completes a job whose status reports an error as done,
# and the AV1 decoder finishes a job whose run op failed twice) and opting
# in every variant.
insmod "$VMTEST_STAGE/negative/hantro-vpu.ko"
result $? "insmod hantro-vpu without the VDPU2 and AV1 fixes"
"$VMTEST_STAGE/kselftest/vb2-resv/rk3399_fences" \
	-r rk3399.hantro_mpeg2_dec.error_status_reaches_fence 2>&1 |
	cat > "$OUT/rk3399_fences-hantro-no-vdpu2-fix.log"
grep -q '^not ok [0-9]* rk3399\.hantro_mpeg2_dec\.error_status_reaches_fence' \
	"$OUT/rk3399_fences-hantro-no-vdpu2-fix.log" &&
	grep -q 'hantro-vpu completed a job whose status reported an error' \
		"$OUT/rk3399_fences-hantro-no-vdpu2-fix.log"
result $? "without the VDPU2 fix, hantro's MPEG-2 decoder completes a job whose status reported an error as done (rk3399_fences fails)"
# (Without the AV1 fix a failed job is finished twice, which warns: that
# test runs in a boot of its own, vmtest/guest/fixes-negative-av1.sh.)
# F17: the same hantro-vpu also publishes fences on the AV1 decoder, whose
# codec has no reset op: the watchdog's fence signals while the block runs
# away, writing on into the buffer.
"$VMTEST_STAGE/kselftest/vb2-resv/rk3399_fences" \
	-r av1.unstoppable_block_publishes_no_fence 2>&1 |
	cat > "$OUT/rk3399_fences-hantro-fences-without-reset.log"
grep -q '^not ok [0-9]* av1\.unstoppable_block_publishes_no_fence' \
	"$OUT/rk3399_fences-hantro-fences-without-reset.log" &&
	grep -q 'still wrote the buffer after that fence signalled' \
		"$OUT/rk3399_fences-hantro-fences-without-reset.log"
result $? "opting in the AV1 decoder, which hantro cannot stop, its fence signals while the block still writes the buffer (rk3399_fences fails)"
# F17 on the error path: the same hantro-vpu does not stop the VEPU2 when
# an error interrupt only pauses it, so the fence signals while it writes.
"$VMTEST_STAGE/kselftest/vb2-resv/rk3399_fences" \
	-r rk3399.hantro_jpeg_enc.error_pause_stopped_before_fence_signals 2>&1 |
	cat > "$OUT/rk3399_fences-hantro-error-irq-no-stop.log"
grep -q '^not ok [0-9]* rk3399\.hantro_jpeg_enc\.error_pause_stopped_before_fence_signals' \
	"$OUT/rk3399_fences-hantro-error-irq-no-stop.log" &&
	grep -q 'the error interrupt did not stop it' \
		"$OUT/rk3399_fences-hantro-error-irq-no-stop.log"
result $? "without the stop in its error interrupt, hantro's JPEG encoder signals its fence while the paused block still writes the buffer (rk3399_fences fails)"
rmmod hantro-vpu
result $? "rmmod hantro-vpu without the VDPU2 and AV1 fixes"
# F17 on rkvdec: with the watchdog it had, which masks the interrupt but does
# not stop the decoder, the fence signals while the decoder still writes.
insmod "$VMTEST_STAGE/negative/rockchip-vdec.ko"
result $? "insmod rockchip-vdec with a watchdog that does not stop the decoder"
"$VMTEST_STAGE/kselftest/vb2-resv/rk3399_fences" \
	-r rk3399.rkvdec_h264_dec.hung_block_stopped_before_fence_signals 2>&1 |
	cat > "$OUT/rk3399_fences-rkvdec-watchdog-masks-only.log"
grep -q '^not ok [0-9]* rk3399\.rkvdec_h264_dec\.hung_block_stopped_before_fence_signals' \
	"$OUT/rk3399_fences-rkvdec-watchdog-masks-only.log" &&
	grep -q 'still wrote the buffer after its fence signalled' \
		"$OUT/rk3399_fences-rkvdec-watchdog-masks-only.log"
result $? "with a watchdog that only masks the interrupt, rkvdec's fence signals while the decoder still writes the buffer (rk3399_fences fails)"
rmmod rockchip-vdec
result $? "rmmod rockchip-vdec with a watchdog that does not stop the decoder"
modprobe -r vb2-resv-rk3399-model
result $? "modprobe -r vb2-resv-rk3399-model"

# fence_stress's two 60-second runs: in 'make soak' (.ci/run runs it).
modprobe -r vb2-resv-test
result $? "modprobe -r vb2-resv-test after the tests"

modprobe -r vim2m
result $? "modprobe -r vim2m after the tests"

kmemleak_scan

# Reached the end: the host knows the plan ran whole.
exit 0
