# shellcheck shell=sh
# Guest plan of its own boot: the regression test of the rockchip-rga fix in
# patches/fixes/ (0002), on rockchip-rga.ko built from the base sources,
# without the fix. Unbinding the driver while its video node is open and
# closing the node afterwards must make KASAN report the use after free that
# the fix removes: v4l2_release() reading the v4l2_device embedded in the
# devm-allocated data that remove() freed, before rga_release() uses it too;
# the host checks dmesg. No job runs: without fixes/0010, remove()
# would leave a running job unfinished and the close waiting for it.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

drv=/sys/bus/platform/drivers/rockchip-rga
modprobe vb2-resv-rk3399-model regs="$VMTEST_MODEL_REGS"
result $? "modprobe vb2-resv-rk3399-model regs=$VMTEST_MODEL_REGS"
# rockchip-rga's dependencies, then the driver without the fix.
modprobe rockchip-rga && rmmod rockchip-rga &&
	insmod "$VMTEST_STAGE/unpatched/rockchip-rga.ko"
result $? "insmod rockchip-rga.ko without the fix"

name='' node=''
for v in "$drv"/*/video4linux/video*; do
	[ -e "$v" ] || continue
	d=${v%/video4linux/*}
	name=${d##*/}
	node=/dev/${v##*/}
	break
done
[ -n "$name" ] && [ -c "$node" ]
result $? "rockchip-rga bound to $name, video node $node"

exec 3<>"$node"
rc=0
echo "$name" > "$drv/unbind" || rc=1
result $rc "unbind rockchip-rga from $name with $node open"
# The release of the file, after remove(): where KASAN reports.
exec 3>&-
sleep 1

# Reached the end: the host knows the plan ran whole.
exit 0
