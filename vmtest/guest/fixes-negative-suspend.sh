# shellcheck shell=sh
# Guest plan of its own boot: the regression test of the v4l2-mem2mem fix in
# patches/fixes/ (0006), on v4l2-mem2mem.ko built from the series' sources
# with that fix reverted. Suspending the m2m device while a context whose
# job runs is closed must make KASAN report the use after free that the fix
# removes: v4l2_m2m_suspend() using the wait queue of the context the
# closing task freed.
# The host checks dmesg (a boot of its own, as the report fails the main
# boot's dmesg scan).
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe videobuf2-v4l2 && modprobe videodev
result $? "modprobe videobuf2-v4l2 videodev"
insmod "$VMTEST_STAGE/negative/v4l2-mem2mem.ko"
result $? "insmod v4l2-mem2mem.ko without the fix"
modprobe vb2-resv-test
result $? "modprobe vb2-resv-test"
# Not a .tap file: the test may pass (KASAN does not stop it); the host
# decides from dmesg.
"$VMTEST_STAGE/kselftest/vb2-resv/producer_fences" -t suspend_while_closing_mid_job \
	>"$OUT/producer_fences-unfixed-suspend.log" 2>&1

# Reached the end: the host knows the plan ran whole.
exit 0
