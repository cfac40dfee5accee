# shellcheck shell=sh
# Guest plan of its own boot (lockdep reports once per boot, then turns off):
# a job that breaks the fence signalling rules on purpose, which lockdep
# must report (CONTRACT.md F9).  The host checks dmesg for the report.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vb2-resv-test
result $? "modprobe vb2-resv-test"
"$VMTEST_STAGE/kselftest/vb2-resv/fence_job" -s "Signalling Violation=1"
result $? "a job that allocates with GFP_KERNEL inside the signalling section"

# Reached the end: the host knows the plan ran whole.
exit 0
