#!/usr/bin/env bash
# Tests of the package's boot integration under a real pacman: hooks, scriptlets, mkinitcpio's preset, extlinux entry.
#
# usage: test-hooks.sh TAP-FILE WORKDIR   (appends one TAP line per test; root)
#
# The package's files that pacman acts on (the PKGBUILD's
# _package_boot_integration, the .install, the vmlinuz and pkgbase files that
# mkinitcpio's hook keys on) go into fake packages with no kernel in them.
# Debian's pacman installs, upgrades and removes them in a scratch root whose
# /boot is a bind mount, with a static busybox as the root's /bin, so the
# hooks and scriptlets run chrooted there as on the board.  mkinitcpio is
# not in Debian: its pacman hooks, their script and its preset template run
# there as a model (mkinitcpio-model.sh, which names its upstream source),
# with a fake mkinitcpio that writes a text file as the initramfs.
set -uo pipefail
. "$(dirname "$0")/../vmtest/lib.sh"

[ $# -eq 2 ] || die "usage: test-hooks.sh TAP-FILE WORKDIR"
tapfile=$1 work=$2
pkg=linux-fresnel-fourier
root=$work/root part=$work/bootpart
diag() { sed 's/^/#   /'; }
cleanup() {
	mountpoint -q "$root/boot" 2>/dev/null && umount "$root/boot"
	mountpoint -q "$part" 2>/dev/null && umount "$part"
	rm -rf "$work"
}
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$root/var/lib/pacman" "$root/bin" "$root/etc" "$root/boot" "$root/tmp" "$root/dev" \
	"$part/extlinux" "$work/pkgs"
mknod -m 666 "$root/dev/null" c 1 3 || die "cannot make $root/dev/null (root needed)"
cp /bin/busybox "$root/bin/" || die "no /bin/busybox: apt-get install busybox-static"
chroot "$root" /bin/busybox --install -s /bin
mkdir -p "$root/usr" && ln -s ../bin "$root/usr/bin"
sh "$REPO_DIR/packaging/mkinitcpio-model.sh" setup "$root" || die "cannot install the mkinitcpio model in $root"
echo "UUID=1234-ABCD /boot vfat defaults 0 2" > "$root/etc/fstab"
# A board's /boot: Arch Linux ARM's kernel as the default entry, and its
# fallback (the sample test-extlinux.sh uses too).
cp "$REPO_DIR/packaging/test-alarm-extlinux.conf" "$part/extlinux/extlinux.conf"
cp "$part/extlinux/extlinux.conf" "$work/extlinux.orig"
# The boot partition: a file system of its own (a tmpfs that outlives its
# bind mount on the root's /boot), as on the board.
mv "$part" "$part.tmp" && mkdir "$part" && mount -t tmpfs -o size=128m bootpart "$part" &&
	cp -a "$part.tmp/." "$part/" && rm -rf "$part.tmp" || die "cannot mount a tmpfs on $part (root needed)"
mount --bind "$part" "$root/boot" || die "cannot bind-mount $part on $root/boot (root needed)"

# The PKGBUILD's version: the fake packages are of its release.
ver=$(cd "$REPO_DIR" && bash -c '. ./PKGBUILD; echo "$pkgver"')

# The backup= files that the PKGBUILD's kernel package declares, as .PKGINFO lines.
backups=$(cd "$REPO_DIR" && bash -c '. ./PKGBUILD; backup=()
	eval "$(declare -f _package | sed -n "s/^ *\(backup=(.*)\);\$/\1/p")"
	[ ${#backup[@]} -eq 0 ] || printf "backup = %s\n" "${backup[@]}"')

# fakepkg PKGREL: a package of the boot integration for $ver-PKGREL.
fakepkg() {
	local rel=$1 d=$work/pkg-$1 kver
	kver=$(cd "$REPO_DIR" && bash -c '. ./PKGBUILD; echo "$pkgver-'"$rel"'${pkgbase#linux}"')
	rm -rf "$d" && mkdir -p "$d/usr/lib/modules/$kver" "$d/boot/$pkg/dtbs/rockchip"
	(cd "$REPO_DIR" && bash -c '. ./PKGBUILD && pkgdir=$1 startdir=$2 _package_boot_integration' _ "$d" "$REPO_DIR") ||
		return 1
	echo "Linux version $kver (fake)" > "$d/usr/lib/modules/$kver/vmlinuz"
	echo "$pkg" > "$d/usr/lib/modules/$kver/pkgbase"
	echo "dtb $kver" > "$d/boot/$pkg/dtbs/rockchip/rk3399-pinebook-pro.dtb"
	cp "$REPO_DIR/packaging/$pkg.install" "$d/.INSTALL"
	cat >"$d/.PKGINFO" <<EOI
pkgname = $pkg
pkgbase = $pkg
pkgver = $ver-$rel
pkgdesc = boot integration test
url = https://www.kernel.org/
builddate = 1
packager = test-hooks
size = 1
arch = any
license = GPL-2.0-only
EOI
	[ -z "$backups" ] || echo "$backups" >>"$d/.PKGINFO"
	(cd "$d" && bsdtar -cf - .PKGINFO .INSTALL * | zstd -q) >"$work/pkgs/$pkg-$ver-$rel-any.pkg.tar.zst"
}
pm() {
	pacman --root "$root" --dbpath "$root/var/lib/pacman" --config /dev/null --noconfirm \
		--hookdir "$root/etc/pacman.d/hooks" --hookdir "$root/usr/share/libalpm/hooks" "$@"
}
installed() { pm -Q "$pkg" 2>/dev/null | cut -d' ' -f2; }
conf=$part/extlinux/extlinux.conf
preset=$root/etc/mkinitcpio.d/$pkg.preset
# What mkinitcpio's template makes of the preset
sed "s|%PKGBASE%|$pkg|g" "$root/usr/share/mkinitcpio/hook.preset" >"$work/template"
# kver PKGREL: the kernel release of the fake package of $ver-PKGREL
kver() { echo "$ver-$1${pkg#linux}"; }
# image_for PKGREL: the initramfs is the one the fake mkinitcpio built for that release
image_for() { grep -qx "fake initramfs of $pkg, preset default, for: Linux version $(kver "$1") (fake)" "$root/boot/initramfs-$pkg.img"; }
# presets: what /etc/mkinitcpio.d holds, for diagnostics
presets() { ls -la "$root/etc/mkinitcpio.d/" 2>&1 | diag; for f in "$preset"*; do [ -f "$f" ] && { echo "#   $f:"; diag <"$f"; }; done; }

for rel in 3 4 5; do fakepkg $rel || die "cannot make the fake package $ver-$rel"; done

# --- First install: the entry appears, not the default; one hook of ours each
rc=0
pm -U "$work/pkgs/$pkg-$ver-3-any.pkg.tar.zst" >"$work/out" 2>&1 || rc=1
grep -q "^LABEL $pkg$" "$conf" && grep -q "MENU LABEL $pkg ($ver-3-fresnel-fourier)" "$conf" &&
	grep -qP "^\tLINUX /vmlinuz-$pkg$" "$conf" && grep -qP "^\tINITRD /initramfs-$pkg.img$" "$conf" &&
	grep -qP "^\tFDT /$pkg/dtbs/rockchip/rk3399-pinebook-pro.dtb$" "$conf" &&
	grep -q '^DEFAULT arch$' "$conf" || rc=1
[ $rc -eq 0 ] || { diag <"$work/out"; diag <"$conf"; }
tap "$tapfile" $rc "hooks: pacman -U adds the $pkg entry (vmlinuz and initramfs that mkinitcpio's hook makes, our dtbs), DEFAULT unchanged"
cp "$work/out" "$work/out.install"

# --- First install: mkinitcpio's install hook writes the preset from its template, copies the kernel, builds the image
rc=0
grep -q 'Updating linux initcpios' "$work/out.install" || { echo "#   mkinitcpio's install hook did not run"; rc=1; }
cmp -s "$work/template" "$preset" || { echo "#   the preset is not mkinitcpio's template:"; presets; rc=1; }
cmp -s "$root/usr/lib/modules/$(kver 3)/vmlinuz" "$root/boot/vmlinuz-$pkg" || { echo "#   no copy of the kernel in /boot/vmlinuz-$pkg"; rc=1; }
image_for 3 || { echo "#   no initramfs for $(kver 3)"; diag <"$root/boot/initramfs-$pkg.img"; rc=1; }
[ $rc -eq 0 ] || diag <"$work/out.install"
tap "$tapfile" $rc "hooks: on first install mkinitcpio's install hook writes the preset from its template, copies the kernel to /boot/vmlinuz-$pkg and builds /boot/initramfs-$pkg.img"

# --- Nothing of ours builds an initramfs or runs depmod: mkinitcpio's and kmod's hooks do, once.
# No preset in the package: mkinitcpio's template names what the entry boots.
rc=0
pm -Qlq "$pkg" >"$work/files"
sed -n 's|.*/usr/share/libalpm/hooks/\(..*\)|\1|p' "$work/files" >"$work/hooks"
[ "$(cat "$work/hooks")" = "00-$pkg-boot-mounted.hook
00-$pkg-boot-space.hook
95-$pkg-extlinux-remove.hook
95-$pkg-extlinux.hook" ] || { diag <"$work/hooks"; rc=1; }
sed 's|^|'"$root"'/usr/share/libalpm/hooks/|' "$work/hooks" | xargs grep -l 'mkinitcpio\|depmod' | diag | grep -q . && rc=1
[ "$(cat "$root"/usr/lib/modules/*/pkgbase)" = "$pkg" ] || rc=1
grep '/etc/mkinitcpio' "$work/files" | diag | grep -q . && { echo "#   the package ships a preset"; rc=1; }
LC_ALL=C pm -Qii "$pkg" | sed -n '/^Backup Files/,$p' >"$work/backup"
[ "$(sed -n 2p "$work/backup")" = "(none)" ] || { diag <"$work/backup"; rc=1; }
grep -q "^ALL_kver=\"/boot/vmlinuz-$pkg\"$" "$preset" && grep -q "^PRESETS=('default')$" "$preset" &&
	grep -q "^default_image=\"/boot/initramfs-$pkg.img\"$" "$preset" || { presets; rc=1; }
tap "$tapfile" $rc "hooks: no hook of ours runs mkinitcpio or depmod; vmlinuz and pkgbase are where mkinitcpio's hook looks; no preset in the package, no backup=; the template's preset boots what the entry names, no fallback"

# --- Upgrade: the entry follows the release, keeps the user's APPEND, is not removed first;
# the user's preset survives mkinitcpio's hooks: its remove hook (the old
# release's vmlinuz is removed) moves it to .pacsave, its install hook back
sed -i "/^LABEL $pkg/,\$ s/^\tAPPEND .*/\tAPPEND root=LABEL=ROOT_ALARM rw videobuf2_common.producer_fences=N/" "$conf"
echo '# edited by the user' >>"$preset"
cp "$preset" "$work/preset.edited"
rc=0
pm -U "$work/pkgs/$pkg-$ver-4-any.pkg.tar.zst" >"$work/out" 2>&1 || rc=1
grep -q "MENU LABEL $pkg ($ver-4-fresnel-fourier)" "$conf" &&
	grep -q 'videobuf2_common.producer_fences=N' "$conf" || rc=1
grep -q "Removing the $pkg entry" "$work/out" && { echo "#   the upgrade removed the entry first"; rc=1; }
grep -q 'Removing linux initcpios' "$work/out" && grep -q 'Updating linux initcpios' "$work/out" ||
	{ echo "#   mkinitcpio's remove and install hooks did not both run"; rc=1; }
cmp -s "$work/preset.edited" "$preset" && [ ! -e "$preset.pacsave" ] && [ ! -e "$preset.pacnew" ] ||
	{ echo "#   the user's preset was not kept as it was:"; presets; rc=1; }
cmp -s "$root/usr/lib/modules/$(kver 4)/vmlinuz" "$root/boot/vmlinuz-$pkg" && image_for 4 ||
	{ echo "#   /boot/vmlinuz-$pkg or the initramfs is not of $(kver 4)"; rc=1; }
[ "$(installed)" = $ver-4 ] || rc=1
[ $rc -eq 0 ] || { diag <"$work/out"; diag <"$conf"; }
tap "$tapfile" $rc "hooks: an upgrade rewrites the entry for the new release, keeps its edited APPEND; the edited preset is kept (mkinitcpio's .pacsave round trip, none left, no .pacnew) and the image rebuilt"

# --- /boot in fstab but not mounted: the upgrade is refused before anything changes
umount "$root/boot"
rc=0
if pm -U "$work/pkgs/$pkg-$ver-5-any.pkg.tar.zst" >"$work/out" 2>&1; then
	echo "#   pacman went on with /boot not mounted"; rc=1
fi
grep -q '/boot is in /etc/fstab but is not mounted: mount it' "$work/out" || rc=1
[ "$(installed)" = $ver-4 ] && [ -z "$(ls -A "$root/boot")" ] || rc=1
# Our check comes first (00-) and pacman runs no PreTransaction hook after an AbortOnFail one fails
grep -q 'Removing linux initcpios' "$work/out" && { echo "#   mkinitcpio's remove hook ran"; rc=1; }
cmp -s "$work/preset.edited" "$preset" && [ ! -e "$preset.pacsave" ] || { presets; rc=1; }
[ $rc -eq 0 ] || diag <"$work/out"
tap "$tapfile" $rc "hooks: with /boot in fstab but not mounted, the upgrade is aborted before mkinitcpio's remove hook, the installed package, the preset and /boot untouched"
mount --bind "$part" "$root/boot"

# --- Too little room on /boot (128 MiB, 60 MiB of it another kernel's):
# the upgrade is refused before anything changes
head -c 60M /dev/zero >"$root/boot/Image-other"
rc=0
if pm -U "$work/pkgs/$pkg-$ver-5-any.pkg.tar.zst" >"$work/out" 2>&1; then
	echo "#   pacman went on with too little room on /boot"; rc=1
fi
grep -q "needs about 96 MiB" "$work/out" || rc=1
[ "$(installed)" = $ver-4 ] || rc=1
grep -q 'Removing linux initcpios' "$work/out" && { echo "#   mkinitcpio's remove hook ran"; rc=1; }
image_for 4 || { echo "#   the initramfs is not of $(kver 4) any more"; rc=1; }
rm -f "$root/boot/Image-other"
[ $rc -eq 0 ] || diag <"$work/out"
tap "$tapfile" $rc "hooks: with too little room on /boot, the upgrade is aborted before mkinitcpio's remove hook, the installed package and its initramfs untouched"

# --- Upgrade with the preset as the template wrote it: mkinitcpio's remove
# hook removes it, its install hook writes it again
cp "$work/template" "$preset"
rc=0
pm -U "$work/pkgs/$pkg-$ver-5-any.pkg.tar.zst" >"$work/out" 2>&1 || rc=1
grep -q 'Removing linux initcpios' "$work/out" && grep -q 'Updating linux initcpios' "$work/out" ||
	{ echo "#   mkinitcpio's remove and install hooks did not both run"; rc=1; }
cmp -s "$work/template" "$preset" && [ ! -e "$preset.pacsave" ] && [ ! -e "$preset.pacnew" ] ||
	{ echo "#   the preset is not the template's, or a .pacsave or .pacnew is left:"; presets; rc=1; }
image_for 5 || { echo "#   the initramfs is not of $(kver 5)"; rc=1; }
[ "$(installed)" = $ver-5 ] || rc=1
[ $rc -eq 0 ] || diag <"$work/out"
tap "$tapfile" $rc "hooks: an upgrade with an unedited preset leaves it as the template writes it, no .pacsave or .pacnew, and rebuilds the image"

# --- Removal: the entry goes, the rest of the file is as it was
cp "$work/preset.edited" "$preset"
rc=0
pm -R "$pkg" >"$work/out" 2>&1 || rc=1
diff -u "$work/extlinux.orig" "$conf" >"$work/d" || { diag <"$work/d"; rc=1; }
[ $rc -eq 0 ] || diag <"$work/out"
tap "$tapfile" $rc "hooks: pacman -R removes the entry and leaves extlinux.conf as it was before the install"

# --- Removal: mkinitcpio's remove hook deletes the kernel copy and the
# image, and keeps an edited preset as .pacsave (as for Arch's linux)
rc=0
grep -q 'Removing linux initcpios' "$work/out" || { echo "#   mkinitcpio's remove hook did not run"; rc=1; }
[ ! -e "$root/boot/vmlinuz-$pkg" ] && [ ! -e "$root/boot/initramfs-$pkg.img" ] ||
	{ echo "#   /boot still has:"; ls -A "$root/boot" | diag; rc=1; }
[ ! -e "$preset" ] && cmp -s "$work/preset.edited" "$preset.pacsave" || { presets; rc=1; }
[ $rc -eq 0 ] || diag <"$work/out"
tap "$tapfile" $rc "hooks: pacman -R: mkinitcpio's remove hook deletes /boot/vmlinuz-$pkg and the initramfs and, as mkinitcpio does for Arch's linux, leaves the edited preset as $pkg.preset.pacsave"

# --- First install with /boot not mounted: pacman cannot be stopped there, the .install says what to do
umount "$root/boot"
rc=0
pm -U "$work/pkgs/$pkg-$ver-3-any.pkg.tar.zst" >"$work/out" 2>&1
grep -q 'ERROR: /boot is in /etc/fstab but not mounted' "$work/out" || { diag <"$work/out"; rc=1; }
tap "$tapfile" $rc "hooks: a first install with /boot not mounted says so and how to recover"
exit 0
