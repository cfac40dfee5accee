#!/usr/bin/env bash
# Tests of packaging/extlinux-entry against sample extlinux.conf files.
#
# usage: test-extlinux.sh TAP-FILE   (appends one TAP line per test)
# Root is needed only for the read-only /boot test (a tmpfs remounted
# read-only, since root writes through file permissions); without it, or
# without mount, that test is reported as SKIP.
set -uo pipefail
. "$(dirname "$0")/../vmtest/lib.sh"

tapfile=$1
script=$REPO_DIR/packaging/extlinux-entry
pkg=linux-fresnel-fourier
kver=7.2.13-1-fresnel-fourier
tmp=$(mktemp -d)
ro=$tmp/ro
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	mountpoint -q "$ro" 2>/dev/null && umount "$ro"
	rm -rf "$tmp"
}
trap cleanup EXIT

# A board's file: a default kernel and its fallback, a comment between them.
cat >"$tmp/alarm.conf" <<'EOF'
DEFAULT arch
MENU TITLE Pinebook Pro
TIMEOUT 50

LABEL arch
	MENU LABEL Arch Linux ARM
	LINUX /Image
	INITRD /initramfs-linux.img
	FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb
	APPEND root=LABEL=ROOT_ALARM rw console=ttyS2,1500000 console=tty0

# the same kernel, all modules in the initramfs
LABEL arch-fallback
	MENU LABEL Arch Linux ARM (fallback initramfs)
	LINUX /Image
	INITRD /initramfs-linux-fallback.img
	FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb
	APPEND root=LABEL=ROOT_ALARM rw
EOF
# What the first install must add, after a blank line, and nothing else.
entry() {
	cat <<EOF
LABEL $pkg
	MENU LABEL $pkg ($1)
	LINUX $2/$pkg/Image
	INITRD $2/$pkg/initramfs.img
	$3
	APPEND $4
EOF
}
{ cat "$tmp/alarm.conf"; echo; entry "$kver" "" "FDT /linux-fresnel-fourier/dtbs/rockchip/rk3399-pinebook-pro.dtb" \
	"root=LABEL=ROOT_ALARM rw console=ttyS2,1500000 console=tty0"; } >"$tmp/alarm-installed.conf"

# Our entry from an older release, with a hand-edited APPEND, between other
# kernels' entries; DEFAULT names the second one, which boots from /boot/.
cat >"$tmp/multi.conf" <<'EOF'
# /boot/extlinux/extlinux.conf
TIMEOUT 30
DEFAULT lts
MENU TITLE boot

LABEL mainline
	KERNEL /boot/vmlinuz-mainline
	FDTDIR /boot/dtbs-mainline
	APPEND root=PARTUUID=1234-02 rw quiet

LABEL linux-fresnel-fourier
	MENU LABEL linux-fresnel-fourier (7.2.12-1-fresnel-fourier)
	LINUX /boot/linux-fresnel-fourier/Image
	INITRD /boot/linux-fresnel-fourier/initramfs.img
	FDTDIR /boot/linux-fresnel-fourier/dtbs
	APPEND root=PARTUUID=1234-02 rw videobuf2_common.producer_fences=1 loglevel=7

label lts
	linux /boot/Image-lts
	initrd /boot/initramfs-lts.img
	fdt /boot/dtbs-lts/rockchip/rk3399-pinebook-pro.dtb
	append root=PARTUUID=1234-02 rw
EOF
# The upgrade rewrites it in place: the new release, the paths and FDT of
# the default entry ("lts"), the APPEND line kept.
awk -v new="$(entry "$kver" /boot "FDT /boot/linux-fresnel-fourier/dtbs/rockchip/rk3399-pinebook-pro.dtb" \
	"root=PARTUUID=1234-02 rw videobuf2_common.producer_fences=1 loglevel=7")" '
	/^LABEL linux-fresnel-fourier$/ { print new; skip = 1; next }
	skip && /^$/ { skip = 0 }
	!skip' "$tmp/multi.conf" >"$tmp/multi-upgraded.conf"
# Removal leaves the others, and one blank line between them.
awk '/^LABEL linux-fresnel-fourier$/ { skip = 1; next } skip && /^$/ { skip = 0; next } !skip' \
	"$tmp/multi.conf" >"$tmp/multi-removed.conf"

boot=$tmp/boot
conf=$boot/extlinux/extlinux.conf
# fresh SAMPLE: /boot with extlinux.conf = SAMPLE, nothing else.
fresh() {
	rm -rf "$boot"
	mkdir -p "$boot/extlinux"
	cp "$1" "$conf"
	chmod 644 "$conf"
}
# run ARGS...: the script on $conf, its output in $tmp/out, its status in $rc.
run() {
	rc=0
	EXTLINUX_CONF=${CONF:-$conf} EXTLINUX_CMDLINE=${CMDLINE:-/dev/null} \
		"$script" "$@" >"$tmp/out" 2>&1 || rc=$?
}
# same EXPECTED ACTUAL: files equal, else show the difference.
same() {
	diff -u "$1" "$2" >"$tmp/diff" && return 0
	sed 's/^/#   /' "$tmp/diff"
	return 1
}
show_out() { sed 's/^/#   /' "$tmp/out"; }
no_leftovers() {
	local left
	left=$(find "$(dirname "$1")" -name '.extlinux.conf.*')
	[ -z "$left" ] && return 0
	echo "#   temporary file left behind: $left"
	return 1
}

# 1. First install next to other kernels' entries.
fresh "$tmp/alarm.conf"
ino=$(stat -c %i "$conf")
run add "$pkg" "$kver"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/alarm-installed.conf" "$conf" || r=1
[ "$(stat -c %a "$conf")" = 644 ] || { echo "#   mode changed to $(stat -c %a "$conf")"; r=1; }
[ "$(stat -c %i "$conf")" != "$ino" ] || { echo "#   written in place, not renamed over"; r=1; }
no_leftovers "$conf" || r=1
tap "$tapfile" $r "extlinux: first install appends this kernel's entry after the others, following the default entry's APPEND and FDT, by renaming a new file over the old"

# 2. Again: nothing changes, nothing is written.
ino=$(stat -c %i "$conf")
run add "$pkg" "$kver"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/alarm-installed.conf" "$conf" || r=1
[ "$(stat -c %i "$conf")" = "$ino" ] || { echo "#   rewritten although nothing changed"; r=1; }
tap "$tapfile" $r "extlinux: installing again changes nothing (idempotent, the file is not rewritten)"

# 3. Removal gives back the original, byte for byte; removing again is a no-op.
run remove "$pkg"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/alarm.conf" "$conf" || r=1
run remove "$pkg"
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/alarm.conf" "$conf" || r=1
no_leftovers "$conf" || r=1
tap "$tapfile" $r "extlinux: removal drops only this kernel's entry (the file is as before the install); removing again is a no-op"

# 4. Upgrade in a file with other kernels' entries around ours.
fresh "$tmp/multi.conf"
run add "$pkg" "$kver"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/multi-upgraded.conf" "$conf" || r=1
run add "$pkg" "$kver"
same "$tmp/multi-upgraded.conf" "$conf" || r=1
tap "$tapfile" $r "extlinux: upgrade rewrites this kernel's entry in place (new release, user's APPEND kept), other kernels' entries untouched"

# 5. Removal from the middle of other kernels' entries.
run remove "$pkg"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/multi-removed.conf" "$conf" || r=1
tap "$tapfile" $r "extlinux: removal from between other kernels' entries leaves them byte for byte"

# 6. A symlinked extlinux.conf stays a symlink; its target is updated.
fresh "$tmp/alarm.conf"
mv "$conf" "$boot/extlinux/real.conf"
ln -s real.conf "$conf"
run add "$pkg" "$kver"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
[ -L "$conf" ] || { echo "#   the symlink was replaced by a file"; r=1; }
same "$tmp/alarm-installed.conf" "$boot/extlinux/real.conf" || r=1
tap "$tapfile" $r "extlinux: a symlinked extlinux.conf stays a symlink, its target gets the entry"

# 7. A file with no entry at all: the running kernel's command line, FDTDIR.
printf 'TIMEOUT 30\n' >"$tmp/empty.conf"
fresh "$tmp/empty.conf"
echo 'root=/dev/mmcblk2p2 rw rootwait' >"$tmp/cmdline"
CMDLINE=$tmp/cmdline run add "$pkg" "$kver"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
# Not a mount point here: the paths start with /boot.
{ printf 'TIMEOUT 30\n\n'; entry "$kver" /boot "FDTDIR /boot/linux-fresnel-fourier/dtbs" \
	"root=/dev/mmcblk2p2 rw rootwait"; } >"$tmp/empty-installed.conf"
same "$tmp/empty-installed.conf" "$conf" || r=1
grep -q "u-boot will boot the DEFAULT entry without showing a menu" "$tmp/out" ||
	{ echo "#   no note that u-boot shows no menu for this file:"; show_out; r=1; }
fresh "$tmp/empty.conf"
run add "$pkg" "$kver"
if [ $rc -eq 0 ] || ! grep -q 'no kernel command line' "$tmp/out"; then
	echo "#   no command line at all, yet:"; show_out; r=1
fi
same "$tmp/empty.conf" "$conf" || r=1
tap "$tapfile" $r "extlinux: with no other entry, the running kernel's command line is used (and a note when u-boot would show no menu); with none, a clear error and no change"

# 8. Missing file: an error that says so; nothing is created.
rm -rf "$boot"
mkdir -p "$boot/extlinux"
r=0
for op in "add $pkg $kver" "remove $pkg"; do
	# shellcheck disable=SC2086
	run $op
	if [ $rc -eq 0 ] || ! grep -q 'does not exist (is /boot mounted?)' "$tmp/out"; then
		echo "#   $op on a missing file:"; show_out; r=1
	fi
	[ ! -e "$conf" ] || { echo "#   $op created $conf"; r=1; }
done
tap "$tapfile" $r "extlinux: a missing extlinux.conf is a clear error (is /boot mounted?) and is not created"

# 9. Read-only /boot, for real: a tmpfs remounted read-only.
# ro_boot SAMPLE: $ro is a read-only file system whose extlinux.conf is SAMPLE.
ro_boot() {
	mountpoint -q "$ro" && umount "$ro"
	mount -t tmpfs -o size=1m vb2-resv-ro "$ro" 2>/dev/null || return 1
	mkdir -p "$ro/extlinux" && cp "$1" "$ro/extlinux/extlinux.conf" &&
		mount -o remount,ro "$ro" 2>/dev/null
}
mkdir -p "$ro"
if [ "$(id -u)" -ne 0 ] || ! ro_boot "$tmp/alarm.conf"; then
	tap "$tapfile" 0 "extlinux: a read-only /boot is a clear error, the file left as it was # SKIP needs root and a tmpfs it can remount read-only"
	exit 0
fi
r=0
for t in "alarm add $pkg $kver" "multi remove $pkg"; do
	# shellcheck disable=SC2086  # split "SAMPLE OP ARGS..."
	set -- $t
	sample=$tmp/$1.conf
	shift
	ro_boot "$sample" || { echo "#   cannot set up the read-only /boot"; r=1; }
	CONF=$ro/extlinux/extlinux.conf run "$@"
	if [ $rc -eq 0 ] || ! grep -q 'read-only /boot' "$tmp/out"; then
		echo "#   $* on a read-only /boot:"; show_out; r=1
	fi
	same "$sample" "$ro/extlinux/extlinux.conf" || r=1
done
# An install that changes nothing needs no write: it succeeds.
ro_boot "$tmp/alarm-installed.conf" || r=1
CONF=$ro/extlinux/extlinux.conf run add "$pkg" "$kver"
[ $rc -eq 0 ] || { echo "#   an up-to-date entry on a read-only /boot:"; show_out; r=1; }
tap "$tapfile" $r "extlinux: a read-only /boot is a clear error (install and removal), the file left as it was"
exit 0
