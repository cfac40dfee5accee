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
	mountpoint -q "$tmp/space" 2>/dev/null && umount "$tmp/space"
	rm -rf "$tmp"
}
trap cleanup EXIT

# A board's file: a default kernel and its fallback, a comment between them.
cp "$REPO_DIR/packaging/test-alarm-extlinux.conf" "$tmp/alarm.conf"
# What the first install must add, after a blank line, and nothing else:
# entry KERNELRELEASE DIR FDT-LINE APPEND [KEYWORD], DIR holding $pkg/.
entry() {
	cat <<EOF
LABEL $pkg
	MENU LABEL $pkg ($1)
	${5:-LINUX} $2/vmlinuz-$pkg
	INITRD $2/initramfs-$pkg.img
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
# The upgrade rewrites in place the lines the package owns, MENU LABEL (the
# new release), LINUX and INITRD (the files mkinitcpio's hook makes, with
# the /boot prefix of the default entry, "lts"; an older release had them
# under /boot/PKGBASE/); FDTDIR and the hand-edited APPEND stay as they are.
sed 's/(7\.2\.12-1-fresnel-fourier)$/(7.2.13-1-fresnel-fourier)/
	s|^\tLINUX /boot/linux-fresnel-fourier/Image$|\tLINUX /boot/vmlinuz-linux-fresnel-fourier|
	s|^\tINITRD /boot/linux-fresnel-fourier/initramfs.img$|\tINITRD /boot/initramfs-linux-fresnel-fourier.img|' \
	"$tmp/multi.conf" >"$tmp/multi-upgraded.conf"
# Removal leaves the others, and one blank line between them.
awk '/^LABEL linux-fresnel-fourier$/ { skip = 1; next } skip && /^$/ { skip = 0; next } !skip' \
	"$tmp/multi.conf" >"$tmp/multi-removed.conf"

# The PINE64 Arch Linux ARM install guide's file: /boot is a partition of
# its own (paths start at its root), the initramfs is named in APPEND too,
# and PROMPT 0 makes u-boot 2023.04 and later boot DEFAULT without a menu.
pine_append="console=tty1 rootwait root=UUID=5c7f3e1a-9d2b-4c8e-a6f0-3b1d2e4f5a6b rw"
cat >"$tmp/pine64.conf" <<EOF
DEFAULT arch
MENU TITLE Pinebook Pro
PROMPT 0
TIMEOUT 50
LABEL arch
MENU LABEL Arch Linux ARM
LINUX /Image
INITRD /initramfs-linux.img
FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb
APPEND initrd=/initramfs-linux.img $pine_append
EOF
# Ours follows it, less the initrd= that names the other initramfs.
{ cat "$tmp/pine64.conf"; echo; entry "$kver" "" "FDT /$pkg/dtbs/rockchip/rk3399-pinebook-pro.dtb" \
	"$pine_append"; } >"$tmp/pine64-installed.conf"

# Manjaro ARM's Pinebook Pro file: KERNEL, no INITRD (APPEND initrd=), no
# MENU or PROMPT line; here with an entry the user added first and the
# DEFAULT line at the end, after the LABELs.
manjaro_append="console=tty1 rw root=PARTUUID=8f1c2d3e-02 quiet splash plymouth.ignore-serial-consoles bootsplash.bootfile=bootsplash-themes/manjaro/bootsplash"
cat >"$tmp/manjaro-default.conf" <<EOF
LABEL Manjaro ARM (serial console)
KERNEL /Image
FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb
APPEND initrd=/initramfs-linux.img console=ttyS2,1500000 rw root=PARTUUID=8f1c2d3e-02

LABEL Manjaro ARM
KERNEL /Image
FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb
APPEND initrd=/initramfs-linux.img $manjaro_append

DEFAULT Manjaro ARM
EOF
# Ours follows "Manjaro ARM", the one DEFAULT names, not the first one.
{ cat "$tmp/manjaro-default.conf"; echo; entry "$kver" "" "FDT /$pkg/dtbs/rockchip/rk3399-pinebook-pro.dtb" \
	"$manjaro_append" KERNEL; } >"$tmp/manjaro-default-installed.conf"
# The same as Manjaro writes it: one entry, no DEFAULT line.
sed -n '/^LABEL Manjaro ARM$/,/^APPEND/p' "$tmp/manjaro-default.conf" >"$tmp/manjaro.conf"
{ cat "$tmp/manjaro.conf"; echo; entry "$kver" "" "FDT /$pkg/dtbs/rockchip/rk3399-pinebook-pro.dtb" \
	"$manjaro_append" KERNEL; } >"$tmp/manjaro-installed.conf"

# Paths relative to extlinux.conf's directory, /boot/extlinux/: ../Image is
# /boot/Image, and ours are ../linux-fresnel-fourier/...
cat >"$tmp/relative.conf" <<'EOF'
TIMEOUT 30
MENU TITLE Boot
DEFAULT mainline

LABEL mainline
	KERNEL ../Image
	INITRD ../initramfs-linux.img
	FDT ../dtbs/rockchip/rk3399-pinebook-pro.dtb
	APPEND root=LABEL=ROOT rw
EOF
{ cat "$tmp/relative.conf"; echo; entry "$kver" .. "FDT ../$pkg/dtbs/rockchip/rk3399-pinebook-pro.dtb" \
	"root=LABEL=ROOT rw" KERNEL; } >"$tmp/relative-installed.conf"
# Files in extlinux.conf's own directory: LINUX Image, FDTDIR dtbs.
sed 's|KERNEL \.\./Image|LINUX Image|; s|\.\./initramfs|initramfs|; s|FDT \.\./dtbs/.*|FDTDIR dtbs|' \
	"$tmp/relative.conf" >"$tmp/relative-here.conf"
{ cat "$tmp/relative-here.conf"; echo; entry "$kver" .. "FDTDIR ../$pkg/dtbs" \
	"root=LABEL=ROOT rw"; } >"$tmp/relative-here-installed.conf"

# Our entry from an older release, written when /boot was on the root
# partition, then edited by the user: a comment, another dtb, an overlay,
# MENU DEFAULT (DEFAULT overrides it), an APPEND of their own; a global
# PROMPT line follows it with no blank line.
cat >"$tmp/edited.conf" <<'EOF'
DEFAULT arch
MENU TITLE Pinebook Pro
TIMEOUT 50

LABEL arch
	MENU LABEL Arch Linux ARM
	LINUX /Image
	INITRD /initramfs-linux.img
	FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb
	APPEND root=LABEL=ROOT_ALARM rw

LABEL linux-fresnel-fourier
	MENU LABEL linux-fresnel-fourier (7.2.12-1-fresnel-fourier)
	# the v2 panel: its own dtb, and the UART overlay
	kernel /boot/linux-fresnel-fourier/Image
	INITRD /boot/linux-fresnel-fourier/initramfs.img
	FDT /linux-fresnel-fourier/dtbs/rockchip/rk3399-pinebook-pro-v2.dtb
	FDTOVERLAYS /overlays/pbp-uart.dtbo
	MENU DEFAULT
	APPEND root=LABEL=ROOT_ALARM rw loglevel=7
PROMPT 1
EOF
# Upgrade: the release, LINUX and INITRD as the default entry ("arch")
# has them; every other line as the user left it, where it was.
sed 's/(7\.2\.12-1-fresnel-fourier)$/(7.2.13-1-fresnel-fourier)/
	s|^\tkernel /boot/linux-fresnel-fourier/Image$|\tLINUX /vmlinuz-linux-fresnel-fourier|
	s|^\tINITRD /boot/linux-fresnel-fourier/initramfs.img$|\tINITRD /initramfs-linux-fresnel-fourier.img|' \
	"$tmp/edited.conf" >"$tmp/edited-upgraded.conf"
# Removal leaves the global line that followed the entry.
sed '/^LABEL linux-fresnel-fourier$/,/^\tAPPEND/d' "$tmp/edited.conf" | sed '$!N; /^\n\(PROMPT 1\)$/s//\1/; P; D' \
	>"$tmp/edited-removed.conf"

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

# cycle SAMPLE INSTALLED: install on SAMPLE gives INSTALLED, installing
# again writes nothing, removal gives SAMPLE back; $tmp/out.install is what
# the install said.
cycle() {
	local r=0 ino
	fresh "$1"
	run add "$pkg" "$kver"
	[ $rc -eq 0 ] || { show_out; r=1; }
	cp "$tmp/out" "$tmp/out.install"
	same "$2" "$conf" || r=1
	ino=$(stat -c %i "$conf")
	run add "$pkg" "$kver"
	[ $rc -eq 0 ] || { show_out; r=1; }
	same "$2" "$conf" || r=1
	[ "$(stat -c %i "$conf")" = "$ino" ] || { echo "#   rewritten although nothing changed"; r=1; }
	run remove "$pkg"
	[ $rc -eq 0 ] || { show_out; r=1; }
	same "$1" "$conf" || r=1
	no_leftovers "$conf" || r=1
	return $r
}
# said FILE LINE: the script printed LINE (after "extlinux-entry: ") in FILE.
said() {
	grep -qxF "extlinux-entry: $2" "$1" && return 0
	echo "#   expected: extlinux-entry: $2"
	sed 's/^/#   got:      /' "$1"
	return 1
}
# quiet FILE WORD: no line of FILE has WORD (note:, warning:).
quiet() {
	grep -q "$2" "$1" || return 0
	sed 's/^/#   unexpected: /' "$1"
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
tap "$tapfile" $r "extlinux: upgrade rewrites this kernel's entry in place (new release; its FDTDIR and user's APPEND kept), other kernels' entries untouched"

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
grep -qxF "extlinux-entry: note: u-boot will boot the first entry without showing a menu: add 'MENU TITLE Boot' at the top of $conf (and keep 'TIMEOUT 30') to pick $pkg at boot" "$tmp/out" ||
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

# 9. The PINE64 install guide's file.
cycle "$tmp/pine64.conf" "$tmp/pine64-installed.conf"
tap "$tapfile" $? "extlinux: PINE64 guide's file (a /boot partition, APPEND initrd=): install (paths from the partition's root, initrd= not copied), install again, removal give the expected files"

# 10. A file on which u-boot shows no menu: a note that says what to change.
r=0
said "$tmp/out.install" "note: u-boot will boot the DEFAULT entry without showing a menu: change 'PROMPT 0' to 'PROMPT 1' (and keep 'TIMEOUT 50') in $conf to pick $pkg at boot" || r=1
sed 's/^TIMEOUT 50$/TIMEOUT 0/' "$tmp/pine64.conf" >"$tmp/pine64-t0.conf"
fresh "$tmp/pine64-t0.conf"
run add "$pkg" "$kver"
said "$tmp/out" "note: u-boot will boot the DEFAULT entry without showing a menu: change 'PROMPT 0' to 'PROMPT 1' and change 'TIMEOUT 0' to 'TIMEOUT 50' (5 s) in $conf to pick $pkg at boot" || r=1
sed '/^PROMPT 0$/d' "$tmp/pine64-t0.conf" >"$tmp/menu-t0.conf"
fresh "$tmp/menu-t0.conf"
run add "$pkg" "$kver"
said "$tmp/out" "note: with 'TIMEOUT 0' in $conf, mainline u-boot waits at its menu for ever and some builds boot the DEFAULT entry without showing it: change it to 'TIMEOUT 50' (5 s) to be sure to pick $pkg at boot" || r=1
fresh "$tmp/alarm.conf"
run add "$pkg" "$kver"
quiet "$tmp/out" note: || r=1
same "$tmp/alarm-installed.conf" "$conf" || r=1
tap "$tapfile" $r "extlinux: PROMPT 0 (the PINE64 guide's file) or TIMEOUT 0: a note says which global line to change, and the file's global lines are left as they are; none with MENU TITLE and TIMEOUT 50"

# 11. Manjaro's file with DEFAULT after the LABELs.
cycle "$tmp/manjaro-default.conf" "$tmp/manjaro-default-installed.conf"
r=$?
said "$tmp/out.install" "note: u-boot will boot the DEFAULT entry without showing a menu: add 'MENU TITLE Boot' and 'TIMEOUT 50' (5 s) at the top of $conf to pick $pkg at boot" || r=1
tap "$tapfile" $r "extlinux: Manjaro's file with DEFAULT after the LABELs: the entry follows the one DEFAULT names (its KERNEL keyword, its APPEND); install, again, removal give the expected files"

# 12. Manjaro's file as it comes: one entry, no DEFAULT.
cycle "$tmp/manjaro.conf" "$tmp/manjaro-installed.conf"
r=$?
said "$tmp/out.install" "note: u-boot will boot the first entry without showing a menu: add 'MENU TITLE Boot' and 'TIMEOUT 50' (5 s) at the top of $conf to pick $pkg at boot" || r=1
tap "$tapfile" $r "extlinux: Manjaro's file (KERNEL, no DEFAULT, no menu): install, again, removal give the expected files, and a note on how to show the menu"

# 13. Relative paths stay relative, from extlinux.conf's directory.
cycle "$tmp/relative.conf" "$tmp/relative-installed.conf"
r=$?
quiet "$tmp/out.install" note: || r=1
cycle "$tmp/relative-here.conf" "$tmp/relative-here-installed.conf" || r=1
tap "$tapfile" $r "extlinux: a default entry with relative paths (KERNEL ../Image, LINUX Image) gives ours relative to extlinux.conf's directory (../$pkg/...), with its keyword"

# 14. Upgrade of an entry the user edited; its removal.
fresh "$tmp/edited.conf"
run add "$pkg" "$kver"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/edited-upgraded.conf" "$conf" || r=1
run add "$pkg" "$kver"
same "$tmp/edited-upgraded.conf" "$conf" || r=1
tap "$tapfile" $r "extlinux: upgrade rewrites only MENU LABEL, LINUX/KERNEL and INITRD of this kernel's entry; the user's comment, FDT, FDTOVERLAYS, MENU DEFAULT and APPEND stay where they were"
run remove "$pkg"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/edited-removed.conf" "$conf" || r=1
quiet "$tmp/out" warning: || r=1
tap "$tapfile" $r "extlinux: removal stops at the global line that follows the entry (kept), and says nothing of a MENU DEFAULT that DEFAULT overrides"

# 15. Removal of the entry the user made the default.
sed "s/^DEFAULT arch\$/DEFAULT $pkg/" "$tmp/alarm-installed.conf" >"$tmp/ours-default.conf"
fresh "$tmp/ours-default.conf"
run remove "$pkg"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
sed "s/^DEFAULT arch\$/DEFAULT $pkg/" "$tmp/alarm.conf" >"$tmp/ours-default-removed.conf"
same "$tmp/ours-default-removed.conf" "$conf" || r=1
said "$tmp/out" "warning: 'DEFAULT $pkg' in $conf names the $pkg entry just removed: u-boot will print 'Missing default: $pkg' and boot 'arch' instead; set DEFAULT to the LABEL to boot: 'arch', 'arch-fallback'" || r=1
sed "s/^\tINITRD \/initramfs-$pkg.img\$/&\n\tMENU DEFAULT/" "$tmp/manjaro-installed.conf" >"$tmp/ours-menu-default.conf"
fresh "$tmp/ours-menu-default.conf"
run remove "$pkg"
[ $rc -eq 0 ] || { show_out; r=1; }
same "$tmp/manjaro.conf" "$conf" || r=1
said "$tmp/out" "warning: the $pkg entry just removed was the default (its 'MENU DEFAULT' line): u-boot will boot 'Manjaro ARM' instead; set DEFAULT in $conf to the LABEL to boot: 'Manjaro ARM'" || r=1
tap "$tapfile" $r "extlinux: removing the entry DEFAULT names (or whose MENU DEFAULT made it the default) warns which entry u-boot boots instead and which LABELs DEFAULT can name"

# The release add picks without KERNELRELEASE: the highest, pkgrel numerically.
mods=$tmp/modules
mkdir -p "$mods/7.2.13-9${pkg#linux}" "$mods/7.2.13-10${pkg#linux}" "$mods/7.2.9-12${pkg#linux}" "$mods/7.2.13-11-other"
for d in "$mods"/*"${pkg#linux}"; do echo "$pkg" >"$d/pkgbase"; done
echo linux-other >"$mods/7.2.13-11-other/pkgbase"
fresh "$tmp/alarm.conf"
EXTLINUX_MODULES=$mods run add "$pkg"
r=0
[ $rc -eq 0 ] || { show_out; r=1; }
grep -q "MENU LABEL $pkg (7.2.13-10${pkg#linux})" "$conf" ||
	{ echo "#   not the entry of 7.2.13-10${pkg#linux}:"; grep 'MENU LABEL' "$conf" | sed 's/^/#   /'; r=1; }
tap "$tapfile" $r "extlinux: add without a release takes the highest of this package's modules directories, pkgrel compared as a number (-10 after -9)"

# 16. Free space on /boot, for real: a tmpfs of 8 MiB.
space_boot=$tmp/space
if [ "$(id -u)" -ne 0 ] || ! mkdir -p "$space_boot" ||
   ! mount -t tmpfs -o size=8m vb2-resv-space "$space_boot" 2>/dev/null; then
	tap "$tapfile" 0 "extlinux: too little room on /boot stops an install or upgrade with a clear error; the package's own files there count as room # SKIP needs root and a tmpfs"
else
	r=0
	mkdir -p "$space_boot/extlinux" && cp "$tmp/alarm.conf" "$space_boot/extlinux/extlinux.conf"
	CONF=$space_boot/extlinux/extlinux.conf run space "$pkg"
	if [ $rc -eq 0 ] || ! grep -q "needs about 96 MiB" "$tmp/out"; then
		echo "#   96 MiB asked of an 8 MiB /boot:"; show_out; r=1
	fi
	same "$tmp/alarm.conf" "$space_boot/extlinux/extlinux.conf" || r=1
	# 6 MiB of the package's own kernel: 2 MiB free, 8 MiB for an upgrade.
	head -c 6M /dev/zero >"$space_boot/vmlinuz-$pkg"
	EXTLINUX_BOOT_NEED_KIB=7168 CONF=$space_boot/extlinux/extlinux.conf run space "$pkg"
	[ $rc -eq 0 ] || { echo "#   7 MiB, with 6 MiB in the package's own kernel:"; show_out; r=1; }
	# The same 6 MiB in another kernel's file: 2 MiB is all there is.
	mv "$space_boot/vmlinuz-$pkg" "$space_boot/vmlinuz-linux"
	EXTLINUX_BOOT_NEED_KIB=7168 CONF=$space_boot/extlinux/extlinux.conf run space "$pkg"
	if [ $rc -eq 0 ] || ! grep -q "remove an old kernel's files" "$tmp/out"; then
		echo "#   7 MiB, with 6 MiB in another kernel's file:"; show_out; r=1
	fi
	umount "$space_boot"
	tap "$tapfile" $r "extlinux: too little room on /boot stops an install or upgrade with a clear error; the package's own files there count as room"
fi

# 17. Read-only /boot, for real: a tmpfs remounted read-only.
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
