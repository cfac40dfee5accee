# shellcheck shell=sh
# Guest plan fragment: the real drivers driven by GStreamer as a Pinebook Pro
# user's stack drives them. Sourced after guest/lib.sh, with hantro-vpu,
# rockchip-rga, rockchip-vdec and the RK3399 register model loaded; vkms too
# for the kmssink lines. The model writes a fixed pattern, not pictures:
# the pipelines check that every buffer goes through, that the stream ends
# (EOS) and that nothing posts an ERROR, not what the pictures show.
#
# The packages come from vmtest/gst-deps.sh, run on the host: the guest's
# root is the host's. Streams are made here, at run time, in a tmpfs.
#
# Element names depend on the devices found when the registry is built:
# v4l2codecs (plugins-bad) finds media devices through libudev, which reads
# sysfs only (no udevd needed) and registers v4l2sl<codec>dec for the first
# decoder of a codec, v4l2sl<videoN><codec>dec for the next ones; the v4l2
# plugin (plugins-good) probes /dev/video* the same way and registers
# v4l2convert / v4l2jpegenc, then v4l2<videoN>convert / v4l2<videoN>jpegenc.
# gst_element below finds the name that drives a given node.

gst_n=10
gst_work=/run/vmtest-gst
mkdir -p "$gst_work/cache"
# A fresh registry: the host's (made without these devices) must not be used.
export GST_REGISTRY="$gst_work/registry.bin" XDG_CACHE_HOME="$gst_work/cache" \
	GST_DEBUG_NO_COLOR=1
rm -f "$GST_REGISTRY"

# gst_skip NAME DESCRIPTION REASON: a loud skip, in the console and the log.
gst_skip() {
	{
		echo "########################################################"
		echo "# SKIPPED: $2"
		echo "# reason: $3"
		echo "########################################################"
	} > "$OUT/gst-$1.log"
	echo "# SKIP gstreamer $1: $3"
	result 4 "gstreamer: $2"
}

# gst_element PREFIX SUFFIX NODE: the element PREFIX<codec>SUFFIX or
# PREFIX<videoN>SUFFIX whose device (video-device for v4l2codecs, device for
# the v4l2 plugin) is NODE.
gst_element() {
	ge_base=${3##*/}
	for ge_name in "$1$2" "$1$ge_base$2"; do
		gst-inspect-1.0 "$ge_name" 2>/dev/null | grep -q "Default: \"$3\"" &&
			echo "$ge_name" && return 0
	done
	return 1
}

# gst_make FILE PIPELINE...: make a stream with software elements into FILE.
gst_make() {
	gm_file=$1
	shift
	rm -f "$gm_file"
	echo "# make: gst-launch-1.0 -q $*" >> "$gst_log"
	timeout 120 gst-launch-1.0 -q "$@" >> "$gst_log" 2>&1 && [ -s "$gm_file" ] && return 0
	echo "# gstreamer: making $gm_file failed (see $gst_log)"
	return 1
}

# gst_run NAME PIPELINE...: run PIPELINE (which counts its buffers in an
# identity named count), its output appended to $OUT/gst-NAME.log; true when
# it reached EOS with $gst_n buffers, exit status 0 and no ERROR.
gst_run() {
	gr_name=$1 gr_out=$gst_work/run.out
	shift
	echo "# run: gst-launch-1.0 -v $*" >> "$gst_log"
	timeout 120 gst-launch-1.0 -v "$@" > "$gr_out" 2>&1
	gr_rc=$?
	cat "$gr_out" >> "$gst_log"
	gr_n=$(grep -c 'GstIdentity:count: last-message = chain' "$gr_out")
	gr_eos=$(grep -c '^Got EOS from element "pipeline0"' "$gr_out")
	gr_err=$(grep -c '^ERROR' "$gr_out")
	echo "# gstreamer $gr_name: exit $gr_rc, $gr_n of $gst_n buffers, EOS $gr_eos, ERROR lines $gr_err" |
		tee -a "$gst_log"
	[ "$gr_rc" -eq 0 ] && [ "$gr_n" -eq "$gst_n" ] && [ "$gr_eos" -eq 1 ] && [ "$gr_err" -eq 0 ]
}

# gst_debug_run NAME CATEGORIES PIPELINE...: gst_run with GStreamer's debug
# log of CATEGORIES in $OUT/gst-NAME.debug.
gst_debug_run() {
	gd_name=$1
	export GST_DEBUG="$2" GST_DEBUG_FILE="$OUT/gst-$1.debug"
	shift 2
	gst_run "$gd_name" "$@"
	gd_rc=$?
	unset GST_DEBUG GST_DEBUG_FILE
	return $gd_rc
}

# gst_kms_run NAME IMPORT PIPELINE...: gst_run, and every page flip of
# kmssink's succeeded (its debug log, $OUT/gst-NAME.debug); with IMPORT
# "import", kmssink also imported the buffers as dma-bufs rather than
# copying them.
gst_kms_run() {
	gk_name=$1 gk_import=$2
	shift 2
	gst_debug_run "$gk_name" kmssink:6 "$@" || return 1
	gk_failed=$(grep -c 'drmMode[A-Za-z]* failed' "$OUT/gst-$gk_name.debug")
	gk_imports=$(grep -c 'setting KMS mem .* to DMABuf mem' "$OUT/gst-$gk_name.debug")
	echo "# gstreamer $gk_name: kmssink imported $gk_imports dma-bufs (0: it copied each frame), $gk_failed failed KMS calls" |
		tee -a "$gst_log"
	[ "$gk_failed" -eq 0 ] || return 1
	[ "$gk_import" != import ] || [ "$gk_imports" -ge 1 ]
}

# gst_wl_run NAME PIPELINE...: gst_run into a Wayland compositor
# (waylandsink), which must have taken the buffers as dma-bufs, refusing
# none (waylandsink's debug log, $OUT/gst-NAME.debug).
gst_wl_run() {
	gw_name=$1
	shift
	gst_debug_run "$gw_name" wl_dmabuf:5 "$@" || return 1
	gw_imports=$(grep -c 'created linux_dmabuf wl_buffer' "$OUT/gst-$gw_name.debug")
	gw_refused=$(grep -c "can't create linux-dmabuf buffer" "$OUT/gst-$gw_name.debug")
	echo "# gstreamer $gw_name: the compositor imported $gw_imports dma-bufs, refused $gw_refused" |
		tee -a "$gst_log"
	[ "$gw_imports" -ge 1 ] && [ "$gw_refused" -eq 0 ]
}

# gst_vkms: kmssink's device is there (vkms loaded, a DRM node).
gst_vkms() {
	[ -d /sys/module/vkms ] && ls /dev/dri/card* > /dev/null 2>&1
}

# gst_features PLUGIN: the v4l2 features (elements) of PLUGIN, on one line.
gst_features() {
	gst-inspect-1.0 "$1" 2>/dev/null | sed -n 's/^  \(v4l2[a-z0-9]*\): .*/\1/p' | tr '\n' ' '
}

gst_ok=1
for t in gst-launch-1.0 gst-inspect-1.0 timeout; do
	command -v $t > /dev/null || gst_ok=
done
if [ -n "$gst_ok" ]; then
	# Build the registry in-process, with the device discovery's debug output.
	GST_REGISTRY_FORK=no GST_DEBUG=v4l2codecs:6,v4l2:5 \
		timeout 300 gst-inspect-1.0 > "$OUT/gst-registry.log" 2>&1
	gst_rc=$?
	[ $gst_rc -eq 0 ] || echo "# gstreamer: building the registry failed ($gst_rc), see $OUT/gst-registry.log"
	echo "# gstreamer: $(gst-inspect-1.0 --version | sed -n 2p);" \
		"v4l2codecs: $(gst_features v4l2codecs); video4linux2: $(gst_features video4linux2)"
	# The H.264 encoder: x264enc (plugins-ugly), else openh264enc (plugins-bad).
	gst_h264enc=
	for e in x264enc openh264enc; do
		gst-inspect-1.0 $e > /dev/null 2>&1 && gst_h264enc=$e && break
	done
fi
gst_nogst="GStreamer is not installed (gst-launch-1.0, gst-inspect-1.0): run vmtest/gst-deps.sh on the host"
gst_h264caps=video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au

# gst_case NAME DESCRIPTION DEVICE_NAME PREFIX SUFFIX: the common checks of a
# case; on success gst_log, gst_dev and gst_elem are set, else it has
# reported a skip and is false.
gst_case() {
	gst_log=$OUT/gst-$1.log
	if [ -z "$gst_ok" ]; then
		gst_skip "$1" "$2" "$gst_nogst"
		return 1
	fi
	if ! gst_dev=$(video_node "$3"); then
		gst_skip "$1" "$2" "no video device named '$3'"
		return 1
	fi
	# The device is there: GStreamer not finding it is a failure.
	if ! gst_elem=$(gst_element "$4" "$5" "$gst_dev"); then
		echo "# gstreamer $1: no element $4...$5 for $3 ($gst_dev): the device discovery registered none (see $OUT/gst-registry.log)" |
			tee "$gst_log"
		result 1 "gstreamer: $2"
		return 1
	fi
	echo "# $2: $gst_elem on $gst_dev" > "$gst_log"
}

# 1. and 2. The stateless decoders, driven by v4l2codecs as a player
# drives them: gst_dec CODEC SINK W H, CODEC h264 (v4l2slh264dec on rkvdec,
# the stream from x264enc or openh264enc) or mpeg2 (v4l2slmpeg2dec on
# hantro's decoder, the stream from mpeg2enc: format=3 is generic MPEG-2,
# its default MPEG-1).
gst_dec() {
	codec=$1 sink=$2 w=$3 h=$4
	name=$codec-$sink$gst_tag
	if [ "$codec" = h264 ]; then
		desc="v4l2slh264dec on rkvdec, $gst_n frames of ${w}x$h H.264 to $sink, $gst_mode"
		node=rkvdec parser=h264parse enc=$gst_h264enc caps=$gst_h264caps
	else
		desc="v4l2slmpeg2dec on hantro, $gst_n frames of ${w}x$h MPEG-2 to $sink, $gst_mode"
		node=rockchip,rk3399-vpu-dec parser=mpegvideoparse enc=
		gst-inspect-1.0 mpeg2enc > /dev/null 2>&1 && enc=mpeg2enc
		# no caps filter: with one mpeg2enc (1.22) stalls at the first frame
		caps=identity
	fi
	gst_case "$name" "$desc" "$node" v4l2sl "${codec}dec" || return 0
	echo "# encoder: ${enc:-none}" >> "$gst_log"
	if [ -z "$enc" ]; then
		gst_skip "$name" "$desc" "no $codec encoder (x264enc, openh264enc, mpeg2enc) to make the stream"
		return 0
	fi
	if [ "$sink" = kmssink ] && ! gst_vkms; then
		gst_skip "$name" "$desc" "no vkms DRM device for kmssink"
		return 0
	fi
	if [ "$sink" = waylandsink ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
		gst_skip "$name" "$desc" "no Wayland compositor (WAYLAND_DISPLAY) for waylandsink"
		return 0
	fi
	clip=$gst_work/$name.$codec
	[ "$enc" = mpeg2enc ] && enc_args=format=3 || enc_args=
	# shellcheck disable=SC2086 # enc_args: no word or one
	if ! gst_make "$clip" videotestsrc num-buffers=$gst_n ! \
		video/x-raw,format=I420,width="$w",height="$h",framerate=30/1 ! \
		"$enc" $enc_args ! "$caps" ! filesink location="$clip"; then
		result 1 "gstreamer: $desc"
		return 0
	fi
	if [ "$sink" = kmssink ]; then
		# vkms composes with the CPU, through a kernel mapping of each
		# framebuffer, which the decoders' CAPTURE buffers do not have
		# (DMA_ATTR_NO_KERNEL_MAPPING): their import fails at the commit.
		# So videoconvert reads the frames through GStreamer's mapping of
		# the dma-buf, whose DMA_BUF_IOCTL_SYNC waits for the fence, and
		# kmssink shows the copies.
		gst_kms_run "$name" copy filesrc location="$clip" ! "$parser" ! "$gst_elem" ! \
			identity name=count silent=false ! videoconvert ! video/x-raw,format=BGRx ! \
			kmssink driver-name=vkms force-modesetting=true can-scale=false sync=false
	elif [ "$sink" = waylandsink ]; then
		gst_wl_run "$name" filesrc location="$clip" ! "$parser" ! "$gst_elem" ! \
			identity name=count silent=false ! waylandsink sync=false
	else
		gst_run "$name" filesrc location="$clip" ! "$parser" ! "$gst_elem" ! \
			identity name=count silent=false ! fakesink
	fi
	result $? "gstreamer: $desc"
}

# 3. JPEG on hantro's encoder: the v4l2 plugin's v4l2jpegenc. No kmssink
# line: its output is a JPEG stream, which kmssink cannot take (and which,
# made by the model, no JPEG decoder would decode).
gst_jpeg_enc() {
	name=jpeg-enc$gst_tag
	desc="v4l2jpegenc on hantro, $gst_n frames of 128x128 I420 from videotestsrc to fakesink, $gst_mode"
	gst_case "$name" "$desc" rockchip,rk3399-vpu-enc v4l2 jpegenc || return 0
	gst_run "$name" videotestsrc num-buffers=$gst_n ! \
		video/x-raw,format=I420,width=128,height=128,framerate=30/1 ! \
		"$gst_elem" ! image/jpeg ! identity name=count silent=false ! fakesink
	result $? "gstreamer: $desc"
}

# 4. RGA: v4l2convert, BGRx (XBGR32) to NV12.
gst_rga() {
	name=rga-$1$gst_tag sink=$1 w=$2 h=$3
	desc="v4l2convert on rga, $gst_n frames of ${w}x$h BGRx to NV12 to $sink, $gst_mode"
	gst_case "$name" "$desc" rockchip-rga v4l2 convert || return 0
	if [ "$sink" = kmssink ] && ! gst_vkms; then
		gst_skip "$name" "$desc" "no vkms DRM device for kmssink"
		return 0
	fi
	if [ "$sink" = waylandsink ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
		gst_skip "$name" "$desc" "no Wayland compositor (WAYLAND_DISPLAY) for waylandsink"
		return 0
	fi
	if [ "$sink" = waylandsink ]; then
		gst_wl_run "$name" videotestsrc num-buffers=$gst_n ! \
			video/x-raw,format=BGRx,width="$w",height="$h",framerate=30/1 ! \
			"$gst_elem" capture-io-mode=dmabuf ! video/x-raw,format=NV12 ! \
			identity name=count silent=false ! waylandsink sync=false
	elif [ "$sink" = kmssink ]; then
		# capture-io-mode=dmabuf: hand kmssink dma-bufs, not mmap'ed memory.
		gst_kms_run "$name" import videotestsrc num-buffers=$gst_n ! \
			video/x-raw,format=BGRx,width="$w",height="$h",framerate=30/1 ! \
			"$gst_elem" capture-io-mode=dmabuf ! video/x-raw,format=NV12 ! \
			identity name=count silent=false ! \
			kmssink driver-name=vkms force-modesetting=true can-scale=false sync=false
	else
		gst_run "$name" videotestsrc num-buffers=$gst_n ! \
			video/x-raw,format=BGRx,width="$w",height="$h",framerate=30/1 ! \
			"$gst_elem" ! video/x-raw,format=NV12 ! \
			identity name=count silent=false ! fakesink
	fi
	result $? "gstreamer: $desc"
}

# fakesink at 128x128; kmssink at 640x480, a mode of vkms's connector, as
# kmssink sets a mode of the video's size (force-modesetting) and finds
# none for 128x128. Once with producer fences (the series' default), once
# with them off (videobuf2_common.producer_fences=N), which is what the
# drivers did before: the client must see no difference.
gst_switch=/sys/module/videobuf2_common/parameters/producer_fences
for gst_fences in Y N; do
	gst_tag=-fences-$gst_fences
	gst_mode="fences $([ $gst_fences = Y ] && echo on || echo off)"
	if ! echo $gst_fences > $gst_switch; then
		result 1 "gstreamer: set $gst_switch to $gst_fences"
		continue
	fi
	gst_dec h264 fakesink 128 128
	gst_dec mpeg2 fakesink 128 128
	gst_jpeg_enc
	gst_rga fakesink 128 128
	gst_dec h264 kmssink 640 480
	gst_dec mpeg2 kmssink 640 480
	gst_rga kmssink 640 480
done
echo Y > $gst_switch
