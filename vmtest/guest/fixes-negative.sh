# shellcheck shell=sh
# Guest plan of its own boot: the regression test of the v4l2-mem2mem fix in
# patches/fixes/, on v4l2-mem2mem.ko built from the base sources, without the
# fix. KASAN must report the use after free that the fix removes; the host
# checks dmesg for the report (a boot of its own, as the report fails the
# main boot's dmesg scan).
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe videobuf2-v4l2 && modprobe videodev
result $? "modprobe videobuf2-v4l2 videodev"
insmod "$VMTEST_STAGE/unpatched/v4l2-mem2mem.ko"
result $? "insmod v4l2-mem2mem.ko without the fix"
modprobe vb2-resv-test
result $? "modprobe vb2-resv-test"
grep -q '^linger_hooked 1$' /sys/kernel/debug/vb2-resv-test/stats
result $? "vb2-resv-test hooked __v4l2_m2m_try_queue() of the unfixed v4l2-mem2mem"
# Not a .tap file: the test may pass (KASAN does not stop it); the host
# decides from dmesg.
"$VMTEST_STAGE/kselftest/vb2-resv/fence_errors" -t close_while_job_completes_elsewhere \
	>"$OUT/fence_errors-unfixed.log" 2>&1

# Reached the end: the host knows the plan ran whole.
exit 0
