# shellcheck shell=sh
# Sourced after gstreamer.sh (its helpers and work directory): the user's
# codec sweep, codec_sweep (selftests/vb2-resv/): $CS_BIN, else the one
# vmtest/codec-sweep-prep.sh built on the host (make board-check gives the
# installed selftests package's).
#  1. Its comparison, where a device computes real pictures: vim2m's RGB to
#     BGR through v4l2convert against GStreamer's videoconvert, every frame
#     read back every way, fences on and off: all must match.
#  2. Its decoding, end to end, on the model's rkvdec (H.264, HEVC, VP9)
#     and hantro (MPEG-2, VP8): every frame decoded and read back every
#     way, fences on and off. The model
#     writes a pattern, not pictures, so every frame must differ from the
#     software decode ("partly"): the comparison sees what it is given.

: "${gst_work:?codec-sweep.sh is sourced after gstreamer.sh}"
cs_bin=${CS_BIN:-$VMTEST_STAGE/codec-sweep/codec_sweep}
cs_frames=5
if [ -x "$cs_bin" ]; then
	modprobe vim2m
	result $? "codec-sweep: modprobe vim2m"
	# A registry of its own: vim2m came after gstreamer.sh's was made.
	cs_registry=$GST_REGISTRY
	export GST_REGISTRY="$gst_work/registry-sweep.bin"
	rm -f "$GST_REGISTRY"
	gst-inspect-1.0 >/dev/null 2>&1

	if cs_dev=$(video_node vim2m) && cs_elem=$(gst_element v4l2 convert "$cs_dev"); then
		"$cs_bin" -n $cs_frames -s 320x240 -d "$gst_work" \
			-c "$cs_elem capture-io-mode=dmabuf" >"$OUT/codec-sweep-convert.txt" 2>&1
		cs_rc=$?
		sed 's/^/# codec-sweep: /' "$OUT/codec-sweep-convert.txt"
		# every path read dma-bufs, both fence settings
		[ "$(awk '$1 == "convert" && $2 != "map" && $4 == 5 && $5 == 5' \
			"$OUT/codec-sweep-convert.txt" | wc -l)" -eq 6 ] || cs_rc=1
		result $cs_rc "codec-sweep: vim2m's RGB to BGR ($cs_elem) matches videoconvert's in every frame, read back every way, fences on and off"
	else
		echo "# codec-sweep: no vim2m video device, or GStreamer has no v4l2convert for it"
		result 1 "codec-sweep: GStreamer drives vim2m"
	fi

	"$cs_bin" -n $cs_frames -s 128x128 -d "$gst_work" \
		>"$OUT/codec-sweep-decode.txt" 2>&1
	sed 's/^/# codec-sweep: /' "$OUT/codec-sweep-decode.txt"
	# 5 codecs x 4 paths x 2 fence settings, every frame there and "partly"
	[ "$(awk '$1 ~ /^(h264|hevc|vp9|mpeg2|vp8)$/ && $4 == 5 && $7 == 5' \
		"$OUT/codec-sweep-decode.txt" | wc -l)" -eq 40 ]
	result $? "codec-sweep: H.264, HEVC and VP9 on rkvdec, MPEG-2 and VP8 on hantro decode end to end, every frame read back every way, fences on and off (the model's pattern: all differ from software)"

	export GST_REGISTRY="$cs_registry"
	modprobe -r vim2m
	result $? "codec-sweep: modprobe -r vim2m"
else
	echo "# codec-sweep: no $cs_bin (vmtest/codec-sweep-prep.sh builds it, the selftests package installs it)"
	result 1 "codec-sweep: codec_sweep is built"
fi
