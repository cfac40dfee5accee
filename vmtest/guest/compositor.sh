# shellcheck shell=sh
# Sourced by guest plans: a real compositor as the consumer of a CAPTURE
# dma-buf. Weston (Debian sid's, headless backend, GL renderer on Mesa's
# llvmpipe, kiosk shell) runs in a chroot into the root that
# vmtest/compositor-prep.sh fetched. wl_consumer hands it the CAPTURE buffer
# of a vb2-resv-test job right after queueing the job and, once Weston says
# the frame is drawn, takes a screenshot while the job still runs: green
# pixels are the finished frame, magenta the memory before the job. Fences
# off, then on; each with the buffer alone (implicit sync) and with the
# dma-buf's fence as an explicit acquire fence. Needs vb2-resv-test loaded.

wl_dir=$VMTEST_STAGE/compositor
wl_root=$wl_dir/root
wl_switch=/sys/module/videobuf2_common/parameters/producer_fences
# The test device fails a job that runs longer than its watchdog.
wl_watchdog=/sys/module/vb2_resv_test/parameters/watchdog_ms
wl_job_ms=2000
wl_env="HOME=/tmp XDG_RUNTIME_DIR=/tmp/xdg WAYLAND_DISPLAY=wl-consumer"

# wl_start NAME: mount what Weston needs in its root (/tmp, writable, holds
# the socket, the log and the screenshots) and start it; one Weston a case
# (kiosk-shell 16.0.0 may crash when a client leaves).
wl_start() {
	mount --bind /proc "$wl_root/proc" && mount --bind /sys "$wl_root/sys" &&
		mount --bind /dev "$wl_root/dev" &&
		mount -t tmpfs tmpfs "$wl_root/tmp" &&
		mkdir -m 700 "$wl_root/tmp/xdg" || return 1
	# shellcheck disable=SC2086 # wl_env: several assignments
	env $wl_env MESA_SHADER_CACHE_DISABLE=true chroot "$wl_root" \
		/usr/bin/weston --backend=headless --renderer=gl --shell=kiosk \
		--width=320 --height=240 --socket=wl-consumer --debug \
		--log=/tmp/weston.log >"$OUT/compositor-$1-weston.out" 2>&1 &
	wl_pid=$!
	i=0
	while [ ! -S "$wl_root/tmp/xdg/wl-consumer" ] && [ $i -lt 180 ]; do
		kill -0 $wl_pid 2>/dev/null || return 1
		sleep 1
		i=$((i + 1))
	done
	[ -S "$wl_root/tmp/xdg/wl-consumer" ]
}

# wl_stop NAME: stop Weston, keep its log, unmount; fails if Weston died.
wl_stop() {
	kill "$wl_pid"
	wait "$wl_pid"
	wl_rc=$?
	cp "$wl_root/tmp/weston.log" "$OUT/compositor-$1-weston.log"
	for m in tmp dev sys proc; do
		umount "$wl_root/$m"
	done
	# 143: ended by the SIGTERM above, as it should
	[ $wl_rc -eq 0 ] || [ $wl_rc -eq 143 ] ||
		{ echo "# compositor $1: Weston ended with status $wl_rc before it was stopped"; return 1; }
}

# wl_colors PNG: "GREEN MAGENTA", the counts of those pixels in PNG.
wl_colors() {
	/usr/bin/python3 "$VMTEST_REPO/vmtest/compositor/png-colors.py" "$1" 00c000 ff00ff |
		awk '$1 == "00c000" { g = $2 } $1 == "ff00ff" { m = $2 } END { print g + 0, m + 0 }'
}

# wl_case NAME [-x]: one Weston, one run of wl_consumer; the switch is
# already set. Sets wl_green and wl_magenta, the measured frame's pixels of
# each colour.
wl_case() {
	name=$1 log=$OUT/compositor-$1
	shift
	wl_green=0 wl_magenta=0
	if ! wl_start "$name"; then
		echo "# compositor $name: Weston did not start: $OUT/compositor-$name-weston.out"
		wl_stop "$name"
		return 1
	fi
	env XDG_RUNTIME_DIR="$wl_root/tmp/xdg" WAYLAND_DISPLAY=wl-consumer \
		"$wl_dir/wl_consumer" -t $wl_job_ms "$@" -s "env $wl_env chroot $wl_root /bin/sh -c \
'cd /tmp && weston-screenshooter' && mv $wl_root/tmp/wayland-screenshot-*.png $wl_root/tmp/shot-\$WL_SHOT.png" \
		>"$log.txt" 2>&1
	rc=$?
	sed "s/^/# compositor $name: /" "$log.txt"
	for s in warmup job; do
		[ -f "$wl_root/tmp/shot-$s.png" ] && cp "$wl_root/tmp/shot-$s.png" "$log-$s.png"
	done
	wl_stop "$name" || return 1
	[ $rc -eq 0 ] || return 1
	for s in warmup job; do
		[ -f "$log-$s.png" ] || { echo "# compositor $name: no $s screenshot"; return 1; }
	done
	c=$(wl_colors "$log-warmup.png")
	echo "# compositor $name: warm-up frame (finished before attach): ${c% *} green, ${c#* } magenta pixels of 4096"
	[ "${c% *}" -eq 4096 ] || { echo "# compositor $name: Weston did not show the finished warm-up frame"; return 1; }
	c=$(wl_colors "$log-job.png")
	wl_green=${c% *} wl_magenta=${c#* }
	echo "# compositor $name: measured frame: $wl_green green (finished), $wl_magenta magenta (before the job) pixels of 4096"
}

if [ -x "$wl_dir/wl_consumer" ] && [ -x "$wl_root/usr/bin/weston" ]; then
	wl_saved=$(cat $wl_switch) wl_saved_watchdog=$(cat $wl_watchdog)
	echo $((wl_job_ms * 5)) >$wl_watchdog

	echo N >$wl_switch
	wl_case off-implicit && [ "$wl_magenta" -eq 4096 ]
	result $? "compositor: fences off: Weston composes the frame before the job ends"
	wl_case off-explicit -x && [ "$wl_magenta" -eq 4096 ]
	result $? "compositor: fences off: the dma-buf's exported fence is empty, Weston composes early"

	echo Y >$wl_switch
	wl_case on-explicit -x && [ "$wl_green" -eq 4096 ]
	result $? "compositor: fences on: with the exported producer fence as acquire fence Weston composes the finished frame"
	# Not the series' doing: llvmpipe reads the dma-buf through its mmap and
	# waits for no implicit fence (a GPU driver such as panfrost waits in the
	# kernel). If this starts to pass green, docs/gstreamer.md is out of date.
	wl_case on-implicit && [ "$wl_magenta" -eq 4096 ]
	result $? "compositor: fences on: Weston on llvmpipe still composes early without an acquire fence (as documented)"

	# GStreamer's waylandsink hands Weston the decoders' and rga's CAPTURE
	# buffers as dma-bufs, as a player does: gstreamer.sh's cases, sourced
	# before this file, one Weston a pipeline.
	if command -v gst_dec >/dev/null 2>&1; then
		for gst_fences in Y N; do
			gst_tag=-fences-$gst_fences
			gst_mode="fences $([ $gst_fences = Y ] && echo on || echo off)"
			echo $gst_fences >$wl_switch
			for wl_gst in "gst_dec h264" "gst_dec mpeg2" gst_rga; do
				wl_name=waylandsink-${wl_gst#* }$gst_tag
				if ! wl_start "$wl_name"; then
					result 1 "compositor: Weston starts for $wl_gst waylandsink, $gst_mode"
					wl_stop "$wl_name"
					continue
				fi
				export XDG_RUNTIME_DIR="$wl_root/tmp/xdg" WAYLAND_DISPLAY=wl-consumer
				$wl_gst waylandsink 128 128
				unset XDG_RUNTIME_DIR WAYLAND_DISPLAY
				wl_stop "$wl_name"
				result $? "compositor: Weston runs to the end of $wl_gst waylandsink, $gst_mode"
			done
		done
	fi

	echo "$wl_saved" >$wl_switch
	echo "$wl_saved_watchdog" >$wl_watchdog
else
	echo "# compositor: no $wl_dir/wl_consumer or Weston root: run vmtest/compositor-prep.sh"
	result 1 "compositor: Weston and wl_consumer are in place"
fi
