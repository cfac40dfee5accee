# shellcheck shell=sh
# Guest plan for 'make demo': what a dma-buf consumer sees on a CAPTURE buffer.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vim2m
modprobe vb2-resv-test 2>/dev/null
demo=$VMTEST_STAGE/kselftest/vb2-resv/consumer_demo
for drv in vb2-resv-test vim2m; do
	video_node "$drv" >/dev/null || continue
	"$demo" -d "$drv" -t 500
	result $? "consumer_demo on $drv"
done

# Reached the end: the host knows the plan ran whole.
exit 0
