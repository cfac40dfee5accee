#!/usr/bin/env bash
# The user's path rehearsed here: build the packages for aarch64, pacman -U them, boot the packaged kernel, run the installed kselftests.
#
# usage: board-check.sh            (make board-check; ends with "N passed, N failed, N skipped")
#
# 1. makepkg cross-builds the four packages from the top-level PKGBUILD with
#    packaging/makepkg-cross.conf and Debian's tree (FRESNEL_BASE=debian),
#    as the user would on an x86_64 host; cached while its inputs are the same.
# 2. The packages are checked: arch = aarch64, every ELF file is aarch64
#    (the -headers' host programs too), the Image fits u-boot's window, /boot
#    holds only Rockchip device trees.
# 3. Debian's pacman installs them into a scratch aarch64 root; what the
#    hooks do there (depmod, the extlinux entry) runs from the host, as the
#    root's programs are aarch64.
# 4. That root, plus Debian's arm64 glibc, libdrm, bash, coreutils, kmod and
#    busybox (what the packages depend on in Arch), boots as the
#    initramfs of the packaged kernel under qemu-system-aarch64 (virt,
#    cortex-a72, TCG), whose init runs the installed run_kselftest.sh, as
#    the user does after the reboot, with nothing loaded beforehand.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

board=$CACHE/board
run=$CACHE/runs/board
tapfile=$run/host.tap
deb=${SRC_PKG}_${BASE_VERSION}_all.deb
pkg=linux-fresnel-fourier
started=$SECONDS
rm -rf "$run"
mkdir -p "$run" "$board"
: >"$tapfile"
diag() { sed 's/^/#   /'; }

need_debs makepkg pacman-package-manager libarchive-tools file patch xz-utils zstd rsync cpio kmod \
	make gcc bc bison flex libelf-dev libssl-dev python3 gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	qemu-system-arm busybox-static debian-archive-keyring git
need_pkg_user
"$VMTEST_DIR/fetch-kernel.sh" >/dev/null
[ -f "$CACHE/dl/$deb" ] || die "no $deb in $CACHE/dl"

# --- Debian bookworm's arm64 packages: the build's sysroot (libdrm for the
# selftests; bookworm's glibc is the cross compiler's) and the guest's user space
arm64_apt() { CACHE=$board apt_private "$@" -o APT::Architecture=arm64 -o APT::Architectures::=arm64; }
# The guest: what the packages depend on in Arch (glibc, libdrm, bash,
# coreutils: run_kselftest.sh's timeout, kmod: the tests' modprobe), from
# Debian; busybox for the rest of a shell's commands.
debs=(libc6:arm64 libdrm2:arm64 libdrm-dev:arm64 libdrm-common busybox-static:arm64
      bash:arm64 libtinfo6:arm64 coreutils:arm64 libacl1:arm64 libattr1:arm64 libgmp10:arm64
      libselinux1:arm64 libpcre2-8-0:arm64 libssl3:arm64 kmod:arm64 libkmod2:arm64 liblzma5:arm64
      libzstd1:arm64 zlib1g:arm64)
if [ "$(cat "$board/debs/done" 2>/dev/null)" != "${debs[*]}" ]; then
	rm -rf "$board/debs"
	say "fetching Debian bookworm's arm64 ${debs[*]}"
	mkdir -p "$board/apt/lists/partial" "$board/apt/archives/partial" "$board/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
		>"$board/apt/sources.list"
	arm64_apt apt-get update >/dev/null || die "cannot read Debian bookworm's arm64 index"
	(cd "$board/debs" && arm64_apt apt-get download "${debs[@]}" >/dev/null) ||
		die "cannot download ${debs[*]} for arm64"
	echo "${debs[*]}" >"$board/debs/done"
fi
# arm64_closure DIR PACKAGE...: PACKAGEs for arm64 and all they depend on,
# downloaded into DIR once.
arm64_closure() {
	local dir=$1
	[ "$(cat "$dir/done" 2>/dev/null)" != "${*:2}" ] || return 0
	say "fetching Debian bookworm's arm64 ${*:2} and what they depend on"
	arm64_apt apt-get update >/dev/null || die "cannot read Debian bookworm's arm64 index"
	apt_closure arm64_apt "$@" || die "cannot download ${*:2} for arm64"
}
# The compiler a user's DKMS runs on the board: the guest builds the test
# module and the RK3399 register model with it against the installed
# -headers, on the emulated aarch64 CPU.
arm64_closure "$board/tooldebs" gcc make libc6-dev
# GStreamer as vmtest/gst-deps.sh installs it on the host for make
# gst-check: the same pipelines (vmtest/guest/gstreamer.sh) run in the guest.
# codec_sweep's encoders and software decoders among them (gstreamer1.0-libav).
arm64_closure "$board/gstdebs" gstreamer1.0-tools gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
	gstreamer1.0-libav
# The selftests package's codec_sweep links GStreamer: its headers and
# libraries, with theirs, in the build's sysroot only.
arm64_closure "$board/gstdevdebs" libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
sysroot=$board/sysroot
rm -rf "$sysroot" && mkdir -p "$sysroot"
# Not Debian's C library development files (libc.so's linker script names
# paths on the host) nor its kernel headers: the cross compiler's and the
# tree's.
for d in "$board"/debs/*.deb "$board"/gstdevdebs/*.deb; do
	case $(basename "$d") in libc6-dev_* | linux-libc-dev_*) continue ;; esac
	dpkg-deb -x "$d" "$sysroot"
done
chmod -R a+rX "$sysroot"

# --- 1. The four packages, cross-built with makepkg
# From the PKGBUILD's default source, as the user builds: kernel.org's
# linux-$BASE_KVER.tar.xz, which is out of reach here. It is made from the
# same tree (Debian's .deb), named as kernel.org names it, and makepkg
# skips only its signature check (--skippgpcheck; the .sign is a stand-in).
tarball=$board/src/linux-$BASE_KVER.tar.xz
# retop OLD NEW: the tar archive on stdin (compressed or not) with its top
# directory renamed, uncompressed on stdout (bsdtar's -s does not rename
# the entries of an @archive).
retop='
import sys, tarfile
old, new = sys.argv[1], sys.argv[2]
def rename(p):
    return new + p[len(old):] if p == old or p.startswith(old + "/") else p
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|*") as tin, \
     tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as tout:
    for m in tin:
        m.name = rename(m.name)
        if m.islnk():
            m.linkname = rename(m.linkname)
        tout.addfile(m, tin.extractfile(m) if m.isreg() else None)
'
if [ ! -s "$tarball" ] || [ "$tarball" -ot "$CACHE/dl/$deb" ]; then
	say "making linux-$BASE_KVER.tar.xz, kernel.org's name, from $deb"
	mkdir -p "$board/src" && rm -f "$tarball"
	if ! bsdtar -xOf "$CACHE/dl/$deb" data.tar.xz |
		bsdtar -xOf - "./usr/src/$SRC_PKG.tar.xz" |
		python3 -c "$retop" "$SRC_PKG" "linux-$BASE_KVER" |
		xz -T"$JOBS" -1 >"$tarball.tmp"; then
		rm -f "$tarball.tmp"
		die "cannot make $tarball from $CACHE/dl/$deb"
	fi
	mv "$tarball.tmp" "$tarball"
fi
pkgs=$board/pkgs
key=$({
	cd "$REPO_DIR"
	git ls-files -z PKGBUILD patches packaging kmod-vb2-resv-test selftests | xargs -0 sha256sum
	sha256sum "$CACHE/dl/$deb"
	echo "built from linux-$BASE_KVER.tar.xz"
	aarch64-linux-gnu-gcc --version | head -n 1
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$pkgs/key" 2>/dev/null)" = "$key" ]; then
	say "packages from the cache (inputs unchanged since $(date -r "$pkgs/key" '+%F %T'))"
	tap "$tapfile" 0 "board: makepkg cross-builds the four packages (cached; cold build: $(cat "$pkgs/build-time"))"
else
	# The build user cannot read root's cache: a scratch directory of its own.
	work=$(mktemp -d -p /var/tmp vb2-resv-board.XXXXXX)
	trap 'rm -rf "$work"' EXIT
	copy_repo "$work/repo"
	mkdir -p "$work/srcdest" "$work/home" "$work/pkgdest" "$work/build"
	cp "$tarball" "$work/srcdest/"
	: >"$work/srcdest/linux-$BASE_KVER.tar.sign"
	cp -a "$sysroot" "$work/sysroot"
	chown -R "$PKG_USER:" "$work"
	say "makepkg: cross-building $pkg for aarch64 from linux-$BASE_KVER.tar.xz (cold: about 50 min on 2 cores; log: $run/makepkg.log)"
	t0=$SECONDS rc=0
	(cd "$work/repo" && runuser -u "$PKG_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		HOME="$work/home" SRCDEST="$work/srcdest" BUILDDIR="$work/build" PKGDEST="$work/pkgdest" \
		MAKEFLAGS=-j"$JOBS" MAKEPKG_SYSROOT="$work/sysroot" \
		makepkg --config packaging/makepkg-cross.conf --nodeps --noconfirm --skippgpcheck) >"$run/makepkg.log" 2>&1 || rc=$?
	grep -q "linux-$BASE_KVER.tar.xz" "$run/makepkg.log" ||
		{ echo "#   makepkg did not use linux-$BASE_KVER.tar.xz, the default source"; rc=1; }
	secs=$((SECONDS - t0))
	[ $rc -eq 0 ] || tail -n 40 "$run/makepkg.log" | diag
	tap "$tapfile" $rc "board: makepkg cross-builds the four packages from the default source, kernel.org's tarball (made here from the same tree, signature not checked) ($((secs / 60)) min $((secs % 60)) s, cold)"
	[ $rc -eq 0 ] || die "makepkg failed (log: $run/makepkg.log)"
	rm -rf "$pkgs" && mkdir -p "$pkgs"
	cp "$work"/pkgdest/*.pkg.tar.* "$pkgs/"
	echo "$((secs / 60)) min $((secs % 60)) s" >"$pkgs/build-time"
	echo "$key" >"$pkgs/key"
	rm -rf "$work"
	trap - EXIT
fi
mapfile -t files < <(ls "$pkgs"/*.pkg.tar.*)
[ ${#files[@]} -eq 4 ] || die "expected 4 packages in $pkgs, found ${#files[@]}"

# --- 2. What the packages hold
ex=$board/extract
rm -rf "$ex" && mkdir -p "$ex"
rc=0
for f in "${files[@]}"; do
	n=$(basename "$f" | sed 's/-[^-]*-[^-]*-aarch64\.pkg\.tar\..*//')
	mkdir -p "$ex/$n" && bsdtar -xf "$f" -C "$ex/$n"
	grep -qx 'arch = aarch64' "$ex/$n/.PKGINFO" || { echo "#   $n: $(grep '^arch' "$ex/$n/.PKGINFO")"; rc=1; }
done
tap "$tapfile" $rc "board: the four packages are for arch aarch64 (.PKGINFO)"

rc=0
find "$ex" -type f -print0 | xargs -0 file -N -F '|' | grep '| ELF' >"$run/elf.txt" || true
# The modules are zstd-compressed as Arch's are: each must be one, holding
# an aarch64 ELF object (its first 64 bytes are enough for file).
nko=0
while IFS= read -r -d '' f; do
	nko=$((nko + 1))
	printf '%s|%s\n' "$f" "$(zstd -dcq "$f" 2>/dev/null | head -c 64 | file -b -)"
done < <(find "$ex" -name '*.ko*' -type f -print0) >"$run/ko.txt"
grep -v '\.ko\.zst|ELF 64-bit LSB relocatable, ARM aarch64' "$run/ko.txt" | diag | grep . && rc=1
[ "$nko" -gt 100 ] || { echo "#   only $nko modules"; rc=1; }
grep -v 'ARM aarch64' "$run/elf.txt" | diag | grep . && rc=1
nelf=$(wc -l <"$run/elf.txt")
[ "$nelf" -gt 10 ] || { echo "#   only $nelf ELF files besides the modules"; rc=1; }
for p in scripts/basic/fixdep scripts/mod/modpost; do
	grep -q "/build/$p|.*ARM aarch64" "$run/elf.txt" || { echo "#   no aarch64 $p in -headers"; rc=1; }
done
tap "$tapfile" $rc "board: all $nelf ELF files and the $nko modules (.ko.zst, as Arch compresses them) are aarch64, the -headers' fixdep and modpost too (DKMS on the board)"

rc=0
pb=$(ls "$ex/$pkg"/usr/lib/modules/*/pkgbase) || die "no usr/lib/modules/*/pkgbase in $pkg"
kver=$(basename "$(dirname "$pb")")
image=$ex/$pkg/usr/lib/modules/$kver/vmlinuz
# What booti needs: it moves the kernel to the next 2 MiB boundary above
# kernel_addr_r (plus text_offset) and gives it the header's image_size, BSS
# included, not the file's size; that must end below ramdisk_addr_r, where
# extlinux has put the initramfs. Mainline u-boot's RK3399 layout
# (rk3399_common.h; Tow-Boot's too): kernel_addr_r 0x02080000, ramdisk_addr_r
# 0x06000000. Rockchip's 2017.09 vendor u-boot of older board images has less
# room: there the initramfs must move up (docs/board.md).
magic=$(od -An -t x1 -j 56 -N 4 "$image" | tr -d ' ')
text_offset=$(od -An -t u8 -j 8 -N 8 "$image" | tr -d ' ')
image_size=$(od -An -t u8 -j 16 -N 8 "$image" | tr -d ' ')
[ "$magic" = 41524d64 ] || { echo "#   $image is not an arm64 Image (magic $magic)"; rc=1; }
kernel_addr_r=$((0x02080000)) ramdisk_addr_r=$((0x06000000)) align=$((2 << 20))
end=$(( (kernel_addr_r + align - 1) / align * align + text_offset + image_size ))
[ "$image_size" -gt 0 ] && [ "$end" -le "$ramdisk_addr_r" ] || rc=1
mib() { awk -v s="$1" 'BEGIN { printf "%.1f MiB", s / 1048576 }'; }
echo "# Image: image_size $(mib "$image_size") (file $(mib "$(stat -c %s "$image")")); booti places it at 0x$(printf %x $((end - image_size))), ending at 0x$(printf %x "$end"), $(mib $((ramdisk_addr_r - end))) below mainline u-boot's ramdisk_addr_r 0x$(printf %x "$ramdisk_addr_r")" | tee "$run/sizes.txt"
(cd "$ex/$pkg" && find boot -type f) | sort >"$run/boot.txt"
grep -v "^boot/$pkg/dtbs/rockchip/[^/]*\.dtbo\?$" "$run/boot.txt" | diag | grep . && rc=1
ndtb=$(grep -c '\.dtb$' "$run/boot.txt" || true)
grep -q "rockchip/rk3399-pinebook-pro.dtb$" "$run/boot.txt" || rc=1
{
	echo "# /boot: $ndtb Rockchip device trees ($(du -sh "$ex/$pkg/boot" | cut -f1)), nothing else"
	echo "# modules: $(find "$ex/$pkg/usr/lib/modules" -name '*.ko*' | wc -l), $(du -sh "$ex/$pkg/usr/lib/modules" | cut -f1)"
	for f in "${files[@]}"; do echo "# $(basename "$f"): $(du -h "$f" | cut -f1)"; done
} | tee -a "$run/sizes.txt"
tap "$tapfile" $rc "board: the Image's image_size fits below mainline u-boot's ramdisk_addr_r once booti aligns it, /boot holds only Rockchip device trees (pinebook-pro among them)"

# --- 3. pacman -U into a scratch aarch64 root; the hooks' work from the host
root=$board/root
rm -rf "$root" && mkdir -p "$root/var/lib/pacman" "$run/hooks-off"
# The root's hooks are aarch64 programs: masked here (a hook of the same
# name in a hook directory given first, linked to /dev/null), run below.
for h in "$ex/$pkg"/usr/share/libalpm/hooks/*.hook; do ln -s /dev/null "$run/hooks-off/$(basename "$h")"; done
# -dd: the scratch root has none of Arch's base packages (coreutils, kmod,
# glibc...) that the packages depend on; their dependencies on each other
# are checked below.
rc=0
pacman -U --noconfirm --arch aarch64 --root "$root" --dbpath "$root/var/lib/pacman" --config /dev/null \
	--hookdir "$run/hooks-off" --noscriptlet -dd "${files[@]}" >"$run/pacman.log" 2>&1 || rc=1
pacman -T --root "$root" --dbpath "$root/var/lib/pacman" \
	$(pacman -Qi --root "$root" --dbpath "$root/var/lib/pacman" 2>/dev/null |
		sed -n 's/^Depends On *: //p' | tr ' ' '\n' | grep "^$pkg") >"$run/pacman-T.log" 2>&1 ||
	{ echo "#   dependencies among the packages not met:"; diag <"$run/pacman-T.log"; rc=1; }
[ "$(pacman -Q --root "$root" --dbpath "$root/var/lib/pacman" | wc -l)" -eq 4 ] || rc=1
[ $rc -eq 0 ] || diag <"$run/pacman.log"
tap "$tapfile" $rc "board: pacman -U installs the four packages into an aarch64 root"

rc=0
depmod -b "$root/usr" "$kver" 2>"$run/depmod.log" || { diag <"$run/depmod.log"; rc=1; }
grep -q 'extramodules/vb2-resv-test.ko.zst:' "$root/usr/lib/modules/$kver/modules.dep" || rc=1
grep -q 'hantro-vpu.ko.zst:' "$root/usr/lib/modules/$kver/modules.dep" || rc=1
mkdir -p "$run/boot/extlinux"
printf '%s\n' 'DEFAULT arch' 'MENU TITLE Boot' 'TIMEOUT 50' '' 'LABEL arch' '	LINUX /Image' \
	'	INITRD /initramfs-linux.img' '	FDT /dtbs/rockchip/rk3399-pinebook-pro.dtb' \
	'	APPEND root=LABEL=ROOT_ALARM rw' >"$run/boot/extlinux/extlinux.conf"
EXTLINUX_CONF=$run/boot/extlinux/extlinux.conf EXTLINUX_MODULES=$root/usr/lib/modules \
	"$root/usr/share/libalpm/scripts/$pkg-extlinux" add "$pkg" 2>"$run/extlinux.log" || rc=1
grep -q "MENU LABEL $pkg ($kver)" "$run/boot/extlinux/extlinux.conf" || { diag <"$run/extlinux.log"; rc=1; }
tap "$tapfile" $rc "board: what the hooks do: depmod finds the test module and hantro (.ko.zst), the extlinux entry names $kver"

# The board's own hardware: every enabled node of the Pinebook Pro's device
# tree has a driver in the package, but those packaging/dt-undriven.txt
# lists with a reason.
rc=0
dtb=$root/boot/$pkg/dtbs/rockchip/rk3399-pinebook-pro.dtb
python3 "$VMTEST_DIR/dt-drivers.py" "$dtb" "$root/usr/lib/modules/$kver/vmlinuz" \
	"$root/usr/lib/modules/$kver" "$REPO_DIR/packaging/dt-undriven.txt" >"$run/dt-drivers.txt" 2>&1 || rc=1
grep -v '^allowed: ' "$run/dt-drivers.txt" | diag
tap "$tapfile" $rc "board: every enabled node of rk3399-pinebook-pro.dts has a driver in the package (module alias, built-in alias or match table), but the allow-listed ones"

# --- 4. Boot it: the installed root as the initramfs, the installed run_kselftest.sh as init's job
say "building the guest's root from the installed packages"
rfs=$board/rootfs
rm -rf "$rfs" && mkdir -p "$rfs"
rsync -a --exclude=/var/lib/pacman --exclude=/boot "$root/" "$rfs/"
for d in "$board"/debs/*.deb "$board"/tooldebs/*.deb "$board"/gstdebs/*.deb; do
	case $(basename "$d") in libdrm-dev*) continue ;; esac
	dpkg-deb -x "$d" "$rfs"
done
# What update-alternatives links when Debian installs libblas3 and
# liblapack3: libavfilter needs them (through pocketsphinx), and without them
# GStreamer's libav plugin, codec_sweep's reference decoders, does not load.
for l in blas/libblas.so.3 lapack/liblapack.so.3; do
	[ ! -e "$rfs/usr/lib/aarch64-linux-gnu/$l" ] || ln -sfn "$l" "$rfs/usr/lib/aarch64-linux-gnu/${l#*/}"
done
# Nothing in the guest reads documentation: a smaller initramfs to boot.
rm -rf "$rfs"/usr/share/{doc,man,info,locale}
# The test module's sources, as a DKMS package would have them; the RK3399
# register model among them, which no package carries.
mkdir -p "$rfs/root/dkms"
(cd "$REPO_DIR" && git ls-files -z kmod-vb2-resv-test | rsync -a --from0 --files-from=- ./ "$rfs/root/dkms/")
# make gst-check's pipelines and the helpers they use
install -Dm644 -t "$rfs/root/vmtest-guest" "$VMTEST_DIR/guest/lib.sh" "$VMTEST_DIR/guest/gstreamer.sh" \
	"$VMTEST_DIR/guest/codec-sweep.sh"
mkdir -p "$rfs"/{proc,sys,dev,tmp,run,root,sbin,usr/bin,usr/sbin,etc}
[ -e "$rfs/lib/modules" ] || ln -s ../usr/lib/modules "$rfs/lib/modules"
# /bin/sh is bash, as on Arch: the tests' system("modprobe ...") must reach
# kmod, which reads .ko.zst; Debian's busybox sh would run its own modprobe
# applet ahead of PATH, and busybox 1.35's does not decompress zstd.
ln -s bash "$rfs/bin/sh"
# busybox's applets, named after the host's busybox-static of the same release
/bin/busybox --list-full | while read -r a; do
	[ -e "$rfs/$a" ] || ln -s /bin/busybox "$rfs/$a"
done
cat >"$rfs/init" <<'EOI'
#!/bin/sh
# PID 1 of the rehearsal: what the user types after the reboot, then power off.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# what udev makes on the board: run_kselftest.sh writes to /dev/stdout
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin
ln -s fd/1 /dev/stdout
ln -s fd/2 /dev/stderr
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
export PATH=/usr/bin:/usr/sbin:/bin:/sbin HOME=/root
echo "board-check: $(uname -r) up"
# What the default list does to the system: every uevent while it runs (a
# module unloaded or a driver unbound makes one), the kill switch after it,
# and whether the kernel can inject faults at all.
uevent sh -c 'echo "$ACTION $DEVPATH $DRIVER" >>/tmp/uevents' &
ue=$!
sleep 1
/usr/lib/kselftests/linux-fresnel-fourier/run_kselftest.sh 2>&1
echo "board-check: run_kselftest.sh exited with $?"
sleep 1
kill $ue
echo "board-check: default list: $(cat /tmp/uevents 2>/dev/null | wc -l) uevents"
sed 's/^/board-check: uevent: /' /tmp/uevents 2>/dev/null
echo "board-check: default list: producer_fences $(cat /sys/module/videobuf2_common/parameters/producer_fences)"
[ -d /sys/kernel/debug/fail_page_alloc ] || [ -d /sys/kernel/debug/failslab ] &&
	echo "board-check: default list: fault injection present" ||
	echo "board-check: default list: no fault injection"
# The rehearsal's second part, not the user's: the real RK3399 drivers of
# the package on the register model, which QEMU's virt machine lacks. The
# model's registers are the 2 MiB of RAM above mem=.
echo "board-check: model phase"
step() { "$@" >/tmp/step.log 2>&1; r=$?; [ $r -eq 0 ] || sed 's/^/board-check:   /' /tmp/step.log; return $r; }
step make -C "/usr/lib/modules/$(uname -r)/build" M=/root/dkms/kmod-vb2-resv-test VB2_RESV_MODEL=y -j2 modules
echo "board-check: model: dkms build exited with $?"
ls /root/dkms/kmod-vb2-resv-test/*.ko | sed 's|^|board-check: model: built |'
step insmod /root/dkms/kmod-vb2-resv-test/vb2-resv-rk3399-model.ko regs=0xffe00000
echo "board-check: model: insmod exited with $?"
# udev loads these on the board when the devices appear; there is no udev here
step modprobe -a hantro-vpu rockchip-vdec rockchip-rga
echo "board-check: model: modprobe of the drivers exited with $?"
for d in hantro-vpu rkvdec rockchip-rga; do
	echo "board-check: model: $d bound to $(ls /sys/bus/platform/drivers/$d 2>/dev/null | grep -c "^[0-9a-f]*\\.")"
done
# Destructive tests too (rga's unbind mid-job): this part is the
# rehearsal's, and what the board itself cannot run is what is left.
VB2_RESV_DESTRUCTIVE=1 /usr/lib/kselftests/linux-fresnel-fourier/run_kselftest.sh -t vb2-resv:rk3399_fences 2>&1
echo "board-check: model phase: run_kselftest.sh exited with $?"
# make gst-check's pipelines: rkvdec, hantro and rga through Debian's arm64
# GStreamer, into fakesink and vkms's kmssink, fences on and off
echo "board-check: gstreamer phase"
OUT=/tmp/gst-out
mkdir -p "$OUT"
modprobe vkms || echo "board-check: modprobe vkms failed"
. /root/vmtest-guest/lib.sh
. /root/vmtest-guest/gstreamer.sh
# the user's codec sweep, the selftests package's codec_sweep: vim2m's
# conversion compared with GStreamer's, five codecs on the model
CS_BIN=/usr/lib/kselftests/linux-fresnel-fourier/vb2-resv/codec_sweep
. /root/vmtest-guest/codec-sweep.sh
echo "board-check: gstreamer phase ends"
echo "board-check: dmesg follows"
dmesg
echo "board-check: dmesg ends"
poweroff -f
EOI
chmod 755 "$rfs/init"
(cd "$rfs" && find . | cpio -o -H newc --quiet) >"$board/rootfs.cpio"
say "booting $kver under qemu-system-aarch64 (virt, cortex-a72, TCG); the kselftests' results follow"
rc=0
timeout --kill-after=10 "${BOARD_VM_TIMEOUT:-3600}" qemu-system-aarch64 \
	-M virt -cpu cortex-a72 -smp 2 -m 3G -accel tcg,thread=multi \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$image" -initrd "$board/rootfs.cpio" \
	-append "console=ttyAMA0 rdinit=/init cma=64M mem=3070M panic=-1 loglevel=4" \
	</dev/null 2>&1 | tee "$run/console.log" |
	grep --line-buffered -E '^(# )?(not )?ok [0-9]+|^# selftests: |^board-check:' >&2 || rc=$?
tr -d '\r' <"$run/console.log" | sed -n '/^board-check: .* up$/,/^board-check: run_kselftest.sh exited/p' >"$run/kselftest.tap"
grep -q '^board-check: run_kselftest.sh exited with 0$' "$run/kselftest.tap" || rc=1
# The test device must load: without it nearly every test skips, which
# proves nothing (pkgrel 12's zstd modules, loaded by busybox's modprobe,
# did that).
if grep -q 'SKIP no vb2-resv-test device' "$run/kselftest.tap"; then
	echo "#   the test module did not load (dmesg in $run/console.log)"; rc=1
fi
n=$(grep -c '^ok [0-9]* selftests: vb2-resv: ' "$run/kselftest.tap" || true)
[ "$n" -gt 0 ] || rc=1
tap "$tapfile" $rc "board: the packaged kernel boots on qemu's virt machine; the installed run_kselftest.sh runs to its end ($n test programs passed)"
# The default list must leave the system as it found it: no module
# unloaded, no driver unbound, no fault injection, the kill switch on. The
# uevents a module's load makes (add, bind) are allowed; the tests that
# unload, unbind, inject or flip run only with VB2_RESV_DESTRUCTIVE=1.
rc=0
tr -d '\r' <"$run/console.log" | grep '^board-check: \(default list\|uevent\): ' >"$run/default-list.txt" || true
n=$(sed -n 's/^board-check: default list: \([0-9]*\) uevents$/\1/p' "$run/default-list.txt")
[ -n "$n" ] && [ "$n" -gt 0 ] || rc=1	# the test device's load makes some: none means no watch
if grep -E '^board-check: uevent: (remove|unbind) ' "$run/default-list.txt" >"$run/removals.txt"; then
	diag <"$run/removals.txt"
	rc=1
fi
grep -q '^board-check: default list: producer_fences Y$' "$run/default-list.txt" || rc=1
grep -q '^board-check: default list: no fault injection$' "$run/default-list.txt" || rc=1
[ $rc -eq 0 ] || grep -v '^board-check: uevent: ' "$run/default-list.txt" | diag
tap "$tapfile" $rc "board: the default list unloads no module, unbinds no driver, cannot inject faults and leaves producer fences on (${n:-no} uevents watched, none a removal or an unbind)"
# The model phase: the package's real RK3399 drivers on the register model,
# built in the guest against the installed -headers.
tr -d '\r' <"$run/console.log" | sed -n '/^board-check: model phase$/,/^board-check: model phase: run_kselftest.sh exited/p' >"$run/model.tap"
rc=0
grep -q '^board-check: model: dkms build exited with 0$' "$run/model.tap" || rc=1
for m in vb2-resv-test vb2-resv-rk3399-model; do
	grep -q "^board-check: model: built .*/$m.ko$" "$run/model.tap" || rc=1
done
[ $rc -eq 0 ] || grep '^board-check: ' "$run/model.tap" | diag
tap "$tapfile" $rc "board: in the guest, the test module and the RK3399 register model build against the installed -headers (gcc and make on the aarch64 CPU, as DKMS would)"
rc=0
grep -q '^board-check: model: insmod exited with 0$' "$run/model.tap" || rc=1
grep -q '^board-check: model: modprobe of the drivers exited with 0$' "$run/model.tap" || rc=1
# hantro-vpu binds the VPU and the RK3588 AV1 decoder, the others one block each
grep -q '^board-check: model: hantro-vpu bound to 2$' "$run/model.tap" || rc=1
grep -q '^board-check: model: rkvdec bound to 1$' "$run/model.tap" || rc=1
grep -q '^board-check: model: rockchip-rga bound to 1$' "$run/model.tap" || rc=1
[ $rc -eq 0 ] || grep '^board-check: model' "$run/model.tap" | diag
tap "$tapfile" $rc "board: the packaged hantro-vpu, rockchip-vdec and rockchip-rga probe on the register model (non-coherent DMA, as on the RK3399)"
rc=0
grep -q '^board-check: model phase: run_kselftest.sh exited with 0$' "$run/model.tap" || rc=1
grep -q '^ok [0-9]* selftests: vb2-resv: rk3399_fences' "$run/model.tap" || rc=1
nskip=$(grep -c '^# ok [0-9]* .* # SKIP' "$run/model.tap" || true)
grep '^# ok [0-9]* .* # SKIP' "$run/model.tap" | diag
# The skips the board would have too, and no other: a test that does not
# apply to the variant's driver, a block that stops on an error status as
# the hardware does, the package's configuration (no dynamic ftrace).
unexpected=$(grep '^# ok [0-9]* .* # SKIP' "$run/model.tap" | grep -v -e "watchdog is not the series'" \
	-e "change rockchip-rga's remove(), not" -e 'stops on an error status: no pause to stop' \
	-e 'has no dynamic ftrace' || true)
if [ -n "$unexpected" ]; then
	echo "$unexpected" | sed 's/^/#   not a skip the board would have: /'
	rc=1
fi
# Skips pass nothing: without the model's devices every test skips.
npass=$(grep '^# ok [0-9]* ' "$run/model.tap" | grep -vc '# SKIP' || true)
[ "$npass" -gt 0 ] || rc=1
tap "$tapfile" $rc "board: the installed rk3399_fences passes on the packaged drivers and the model, destructive tests included, skipping only what the board would ($npass passed, $nskip skipped, listed above)"
# make gst-check's pipelines on the packaged kernel, arm64 GStreamer
tr -d '\r' <"$run/console.log" | sed -n '/^board-check: gstreamer phase$/,/^board-check: gstreamer phase ends$/p' |
	grep -E '^(not )?ok [0-9]+ (gstreamer|codec-sweep): |^# (gstreamer|codec-sweep|SKIP)' >"$run/gst.tap" || true
grep '^# ' "$run/gst.tap" | diag
# Skips pass nothing: without the model's devices every pipeline skips.
ngst=$(grep '^ok [0-9]* gstreamer: ' "$run/gst.tap" | grep -vc '# SKIP$' || true)
rc=0
[ "$ngst" -gt 0 ] && ! grep -q '^not ok [0-9]* gstreamer: ' "$run/gst.tap" || rc=1
tap "$tapfile" $rc "board: make gst-check's GStreamer pipelines (Debian bookworm's arm64 GStreamer) pass on the packaged drivers and the model ($ngst passed, skips listed above)"
# The packaged codec_sweep: its comparison on vim2m, its decodes on the model
rc=0
grep -q '^ok [0-9]* codec-sweep: vim2m' "$run/gst.tap" || rc=1
grep -q '^ok [0-9]* codec-sweep: H.264, HEVC and VP9' "$run/gst.tap" || rc=1
! grep -q '^not ok [0-9]* codec-sweep: ' "$run/gst.tap" || rc=1
tap "$tapfile" $rc "board: the selftests package's codec_sweep runs on the packaged kernel: vim2m's conversion matches GStreamer's in every frame, five codecs decode on the model, read back every way, fences on and off"
tr -d '\r' <"$run/console.log" | sed -n '/^board-check: dmesg follows$/,/^board-check: dmesg ends$/p' >"$run/dmesg.txt"
rc=0
[ -s "$run/dmesg.txt" ] || rc=1
"$VMTEST_DIR/scan-dmesg.sh" "$run/dmesg.txt" >"$run/scan.log" 2>&1 || { rc=1; diag <"$run/scan.log"; }
tap "$tapfile" $rc "board: the guest's dmesg has no WARNING, BUG or oops"

say "board check done in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
echo "results: $run"
awk -f "$VMTEST_DIR/tap-summary.awk" "$tapfile" "$run/kselftest.tap" "$run/model.tap" "$run/gst.tap"
