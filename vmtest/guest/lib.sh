# shellcheck shell=sh
# Helpers for guest plans: TAP result lines in $OUT/results.tap.

n_results=0

# result RC DESCRIPTION: one TAP line, ok when RC is 0, SKIP when RC is 4.
result() {
	n_results=$((n_results + 1))
	case "$1" in
	0) echo "ok $n_results $2" ;;
	4) echo "ok $n_results $2 # SKIP" ;;
	*) echo "not ok $n_results $2" ;;
	esac | tee -a "$OUT/results.tap"
}

# video_node NAME: the /dev/videoN whose video device is called NAME.
video_node() {
	for d in /sys/class/video4linux/video*; do
		[ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}" && return 0
	done
	return 1
}

# compliance NAME ARGS...: run v4l2-compliance on video device NAME, keep its log.
compliance() {
	name=$1
	shift
	log=$OUT/v4l2-compliance-$name.log
	if ! dev=$(video_node "$name"); then
		echo "no video device named $name" > "$log"
		result 1 "v4l2-compliance $* on $name (device missing)"
		return
	fi
	v4l2-compliance --version > "$log" 2>&1
	v4l2-compliance -d "$dev" "$@" >> "$log" 2>&1
	rc=$?
	grep '^Total' "$log" | sed "s|^|# $name: |"
	result $rc "v4l2-compliance $* on $name"
}

# kmemleak_scan: report suspected leaks into dmesg, where the host's scan finds them.
kmemleak_scan() {
	kl=/sys/kernel/debug/kmemleak
	[ -w $kl ] || return 0
	echo scan > $kl
	echo scan > $kl
	cat $kl > "$OUT/kmemleak.txt"
}
