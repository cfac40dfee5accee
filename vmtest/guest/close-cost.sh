# shellcheck shell=sh
# Guest plan: what close() of the test device costs after a job, fences off
# and on (fence_bench -X), on the staged test kernel. docs/close-cost.md.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vb2-resv-test
result $? "modprobe vb2-resv-test"
"$VMTEST_STAGE/kselftest/vb2-resv/fence_bench" -X -l 40
result $? "fence_bench -X"

# Reached the end: the host knows the plan ran whole.
exit 0
