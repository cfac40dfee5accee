#!/usr/bin/env bash
# Boot the test kernel and drive hantro, rkvdec and rga on the RK3399 model with
# GStreamer (make gst-check): every pipeline must reach EOS with all its
# buffers and no error, fences on and off, and the guest's dmesg stay clean.
# In the same boot, the user's codec sweep runs (vmtest/codec-sweep-prep.sh
# builds it) and Weston composes the test device's CAPTURE buffers handed
# to it before the job ends (vmtest/compositor-prep.sh gets Weston).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

command -v gst-launch-1.0 >/dev/null ||
	die "GStreamer is not installed: run vmtest/gst-deps.sh (make gst-check does)"
[ -x "$STAGE/compositor/wl_consumer" ] && [ -x "$CACHE/compositor/root/usr/bin/weston" ] ||
	die "no Weston or wl_consumer: run vmtest/compositor-prep.sh (make gst-check does)"
[ -x "$STAGE/codec-sweep/codec_sweep" ] ||
	die "no codec_sweep: run vmtest/codec-sweep-prep.sh (make gst-check does)"
run=$CACHE/runs/gst
rm -rf "$run"
"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/gst.sh" "$run" 1200
grep -E '^# (gstreamer|codec-sweep|compositor|SKIP)' "$run/plan.log" || true
rc=0
"$VMTEST_DIR/scan-dmesg.sh" "$run/dmesg.txt" || rc=1
awk -f "$VMTEST_DIR/tap-summary.awk" "$run/results.tap" && [ $rc -eq 0 ]
