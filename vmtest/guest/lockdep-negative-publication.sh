# shellcheck shell=sh
# Guest plan of its own boot (lockdep reports once per boot, then turns off):
# a job whose device_run allocates with GFP_KERNEL right after publishing its
# fence, before it starts the "hardware". The signalling critical section that
# vb2_buffers_publish_fences() opens must make lockdep report it (CONTRACT.md
# F9).  The host checks dmesg for the report.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vb2-resv-test
result $? "modprobe vb2-resv-test"
"$VMTEST_STAGE/kselftest/vb2-resv/fence_job" -s "Signalling Violation=2"
result $? "a job that allocates with GFP_KERNEL between publication and the hardware start"

# Reached the end: the host knows the plan ran whole.
exit 0
