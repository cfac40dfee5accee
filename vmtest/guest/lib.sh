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

# compliance_run NAME LOG ARGS...: v4l2-compliance on video device NAME into
# LOG; prints its Total line, returns its status (1 if there is no such device).
compliance_run() {
	name=$1 log=$2
	shift 2
	if ! dev=$(video_node "$name"); then
		echo "no video device named $name" > "$log"
		return 1
	fi
	v4l2-compliance --version > "$log" 2>&1
	v4l2-compliance -d "$dev" "$@" >> "$log" 2>&1
	rc=$?
	grep '^Total' "$log" | sed "s|^|# $name: |"
	return $rc
}

# compliance_counts LOG: the counts of LOG's Total line, without the node name.
compliance_counts() {
	sed -n 's/^Total for [^:]*: //p' "$1"
}

# compliance NAME ARGS...: run v4l2-compliance on video device NAME, keep its log.
compliance() {
	name=$1
	shift
	compliance_run "$name" "$OUT/v4l2-compliance-$name.log" "$@"
	result $? "v4l2-compliance $* on $name"
}

# kmemleak_scan: report suspected leaks into dmesg, where the host's scan finds them.
kmemleak_scan() {
	kl=/sys/kernel/debug/kmemleak
	[ -w $kl ] || return 0
	echo scan > $kl
	echo scan > $kl
	cat $kl > "$OUT/kmemleak.txt"
}
