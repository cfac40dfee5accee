# shellcheck shell=sh
# Guest plan for 'make gst-check': GStreamer drives the real drivers on the
# RK3399 model (vmtest/guest/gstreamer.sh), the user's codec sweep runs
# (vmtest/guest/codec-sweep.sh), and Weston composes the test device's
# CAPTURE buffers (vmtest/guest/compositor.sh), fences on and off.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vb2-resv-rk3399-model regs="$VMTEST_MODEL_REGS"
result $? "modprobe vb2-resv-rk3399-model regs=$VMTEST_MODEL_REGS"
for m in hantro-vpu rockchip-rga rockchip-vdec; do
	modprobe $m
	result $? "modprobe $m (probes on the model)"
done
modprobe vkms
result $? "modprobe vkms"

. "$VMTEST_REPO/vmtest/guest/gstreamer.sh"

. "$VMTEST_REPO/vmtest/guest/codec-sweep.sh"

modprobe vb2-resv-test
result $? "modprobe vb2-resv-test"
. "$VMTEST_REPO/vmtest/guest/compositor.sh"

modprobe -r vb2-resv-test vkms rockchip-vdec rockchip-rga hantro-vpu vb2-resv-rk3399-model
result $? "modprobe -r the drivers, the test device, vkms and the model"
kmemleak_scan
exit 0
