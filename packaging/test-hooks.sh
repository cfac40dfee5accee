#!/usr/bin/env bash
# Tests of the package's boot integration under a real pacman: hooks, scriptlets, preset, extlinux entry.
#
# usage: test-hooks.sh TAP-FILE WORKDIR   (appends one TAP line per test; root)
#
# The package's files that pacman acts on (the PKGBUILD's
# _package_boot_integration, the .install, the vmlinuz and pkgbase files that
# mkinitcpio's hook keys on) go into fake packages with no kernel in them.
# Debian's pacman installs, upgrades and removes them in a scratch root whose
# /boot is a bind mount, with a static busybox as the root's /bin, so the
# hooks and scriptlets run chrooted there as on the board.
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
echo "UUID=1234-ABCD /boot vfat defaults 0 2" > "$root/etc/fstab"
# A board's /boot: Arch Linux ARM's kernel as the default entry.
cat >"$part/extlinux/extlinux.conf" <<'EOC'
DEFAULT arch
MENU TITLE Pinebook Pro
TIMEOUT 50

LABEL arch
	MENU LABEL Arch Linux ARM
	LINUX /Image
	INITRD /initramfs-linux.img
	FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb
	APPEND root=LABEL=ROOT_ALARM rw console=ttyS2,1500000 console=tty0
EOC
cp "$part/extlinux/extlinux.conf" "$work/extlinux.orig"
# The boot partition: a file system of its own (a tmpfs that outlives its
# bind mount on the root's /boot), as on the board.
mv "$part" "$part.tmp" && mkdir "$part" && mount -t tmpfs -o size=16m bootpart "$part" &&
	cp -a "$part.tmp/." "$part/" && rm -rf "$part.tmp" || die "cannot mount a tmpfs on $part (root needed)"
mount --bind "$part" "$root/boot" || die "cannot bind-mount $part on $root/boot (root needed)"

# The PKGBUILD's version: the fake packages are of its release.
ver=$(cd "$REPO_DIR" && bash -c '. ./PKGBUILD; echo "$pkgver"')

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
backup = etc/mkinitcpio.d/$pkg.preset
EOI
	(cd "$d" && bsdtar -cf - .PKGINFO .INSTALL boot etc usr | zstd -q) >"$work/pkgs/$pkg-$ver-$rel-any.pkg.tar.zst"
}
pm() {
	pacman --root "$root" --dbpath "$root/var/lib/pacman" --config /dev/null --noconfirm \
		--hookdir "$root/etc/pacman.d/hooks" --hookdir "$root/usr/share/libalpm/hooks" "$@"
}
installed() { pm -Q "$pkg" 2>/dev/null | cut -d' ' -f2; }
conf=$part/extlinux/extlinux.conf

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

# --- Nothing of ours builds an initramfs or runs depmod: mkinitcpio's and kmod's hooks do, once
rc=0
ls "$root/usr/share/libalpm/hooks" >"$work/hooks"
[ "$(cat "$work/hooks")" = "00-$pkg-boot-mounted.hook
95-$pkg-extlinux-remove.hook
95-$pkg-extlinux.hook" ] || { diag <"$work/hooks"; rc=1; }
grep -l 'mkinitcpio\|depmod' "$root/usr/share/libalpm/hooks"/* | diag | grep -q . && rc=1
[ "$(cat "$root"/usr/lib/modules/*/pkgbase)" = "$pkg" ] || rc=1
grep -q "^ALL_kver=\"/boot/vmlinuz-$pkg\"$" "$root/etc/mkinitcpio.d/$pkg.preset" &&
	grep -q "^PRESETS=('default')$" "$root/etc/mkinitcpio.d/$pkg.preset" || { diag <"$root/etc/mkinitcpio.d/$pkg.preset"; rc=1; }
tap "$tapfile" $rc "hooks: no hook of ours runs mkinitcpio or depmod; vmlinuz and pkgbase are where mkinitcpio's hook looks; the preset pins no release and has no fallback"

# --- Upgrade: the entry follows the release, keeps the user's APPEND, is not removed first;
# the user's preset survives without a .pacnew
sed -i "/^LABEL $pkg/,\$ s/^\tAPPEND .*/\tAPPEND root=LABEL=ROOT_ALARM rw videobuf2_common.producer_fences=N/" "$conf"
echo '# edited by the user' >>"$root/etc/mkinitcpio.d/$pkg.preset"
rc=0
pm -U "$work/pkgs/$pkg-$ver-4-any.pkg.tar.zst" >"$work/out" 2>&1 || rc=1
grep -q "MENU LABEL $pkg ($ver-4-fresnel-fourier)" "$conf" &&
	grep -q 'videobuf2_common.producer_fences=N' "$conf" || rc=1
grep -q "Removing the $pkg entry" "$work/out" && { echo "#   the upgrade removed the entry first"; rc=1; }
grep -q '# edited by the user' "$root/etc/mkinitcpio.d/$pkg.preset" &&
	[ ! -e "$root/etc/mkinitcpio.d/$pkg.preset.pacnew" ] || { echo "#   the user's preset was not kept as it was"; rc=1; }
[ "$(installed)" = $ver-4 ] || rc=1
[ $rc -eq 0 ] || { diag <"$work/out"; diag <"$conf"; }
tap "$tapfile" $rc "hooks: an upgrade rewrites the entry for the new release, keeps its edited APPEND and the edited preset"

# --- /boot in fstab but not mounted: the upgrade is refused before anything changes
umount "$root/boot"
rc=0
if pm -U "$work/pkgs/$pkg-$ver-5-any.pkg.tar.zst" >"$work/out" 2>&1; then
	echo "#   pacman went on with /boot not mounted"; rc=1
fi
grep -q '/boot is in /etc/fstab but is not mounted: mount it' "$work/out" || rc=1
[ "$(installed)" = $ver-4 ] && [ -z "$(ls -A "$root/boot")" ] || rc=1
[ $rc -eq 0 ] || diag <"$work/out"
tap "$tapfile" $rc "hooks: with /boot in fstab but not mounted, the upgrade is aborted, the installed package and /boot untouched"
mount --bind "$part" "$root/boot"

# --- Removal: the entry goes, the rest of the file is as it was
rc=0
pm -R "$pkg" >"$work/out" 2>&1 || rc=1
diff -u "$work/extlinux.orig" "$conf" >"$work/d" || { diag <"$work/d"; rc=1; }
[ $rc -eq 0 ] || diag <"$work/out"
tap "$tapfile" $rc "hooks: pacman -R removes the entry and leaves extlinux.conf as it was before the install"

# --- First install with /boot not mounted: pacman cannot be stopped there, the .install says what to do
umount "$root/boot"
rc=0
pm -U "$work/pkgs/$pkg-$ver-3-any.pkg.tar.zst" >"$work/out" 2>&1
grep -q 'ERROR: /boot is in /etc/fstab but not mounted' "$work/out" || { diag <"$work/out"; rc=1; }
tap "$tapfile" $rc "hooks: a first install with /boot not mounted says so and how to recover"
exit 0
