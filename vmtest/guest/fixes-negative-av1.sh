# shellcheck shell=sh
# Guest plan of its own boot: the regression test of hantro's AV1 fix in
# patches/fixes/ (0004), on the negative hantro-vpu.ko (vmtest/negative/:
# the series' hantro without that fix). A frame that the AV1 run op rejects
# is then finished twice: the second time, with no next job queued, it
# warns in hantro_job_finish_no_pm(); the host checks dmesg (a boot of its
# own, as the warning fails the main boot's dmesg scan).
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vb2-resv-rk3399-model regs="$VMTEST_MODEL_REGS"
result $? "modprobe vb2-resv-rk3399-model regs=$VMTEST_MODEL_REGS"
# hantro-vpu's dependencies, then the driver without the fix.
modprobe hantro-vpu && rmmod hantro-vpu &&
	insmod "$VMTEST_STAGE/negative/hantro-vpu.ko"
result $? "insmod hantro-vpu.ko without the AV1 fix"
# Not a .tap file: the test may pass (the warning does not stop it); the
# host decides from dmesg.
"$VMTEST_STAGE/kselftest/vb2-resv/rk3399_fences" \
	-r av1.rejected_frame_fails_only_its_job \
	>"$OUT/rk3399_fences-hantro-no-av1-fix.log" 2>&1

# Reached the end: the host knows the plan ran whole.
exit 0
