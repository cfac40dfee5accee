# shellcheck shell=sh
# Guest plan for 'make demo': what a dma-buf consumer sees on a CAPTURE
# buffer of the test device, without and then with producer fences.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

demo=$VMTEST_STAGE/kselftest/vb2-resv/consumer_demo
switch=/sys/module/videobuf2_common/parameters/producer_fences
modprobe vb2-resv-test
result $? "modprobe vb2-resv-test"

echo
echo "== Without producer fences (videobuf2_common.producer_fences=N): the bug"
echo N > $switch
"$demo" -d vb2-resv-test -t 500
result $? "consumer_demo without producer fences"

echo
echo "== With producer fences (the series): the fix"
echo Y > $switch
"$demo" -d vb2-resv-test -t 500
result $? "consumer_demo with producer fences"

# Reached the end: the host knows the plan ran whole.
exit 0
