#!/usr/bin/env bash
# Packaging checks: the extlinux script, the PKGBUILD's sources, makepkg's prepare() on the real base, the board config, the hooks under pacman.
#
# usage: check-packaging.sh TAP-FILE   (appends one TAP line per check, exits 0
#                                       once they ran, like selftest-harness.sh)
#
# packaging/PKGBUILD's prepare() runs for real, in makepkg, on Debian's
# $SRC_PKG .deb supplied locally (SRCDEST; no download by makepkg):
# the series must apply in order and the board config must keep every option
# the selftests and the RK3399 drivers need after olddefconfig.  A copy of
# the repository with a patch broken on purpose must make prepare() fail and
# name the patch.  makepkg refuses to run as root: it runs as the system user
# vb2pkg (created if missing), on a copy of the repository in a scratch
# directory under /var/tmp (that user cannot read root's cache), removed at
# the end.  Cached in $CACHE: the .deb (fetch-kernel.sh's dl/, else pkg-dl/)
# and the Debian package index its checksum is compared with (pkg-apt/).
# shellcheck disable=SC2016  # pkgbuild_var's 'EXPR' is expanded in the PKGBUILD's shell
set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: check-packaging.sh TAP-FILE"
tapfile=$1
deb=${SRC_PKG}_${BASE_VERSION}_all.deb
started=$SECONDS

# --- What the checks need, installed only when missing (CI starts from a fresh machine)
need_debs "${PACKAGING_DEBS[@]}"
need_pkg_user
user=$PKG_USER

mkdir -p "$CACHE"
# One run at a time: the download and the index under $CACHE are shared.
exec 7>"$CACHE/.pkg-lock"
flock 7

scratch=$(mktemp -d -p /var/tmp vb2-resv-pkg.XXXXXX) || die "cannot make a scratch directory in /var/tmp"
trap 'mountpoint -q "$scratch/build" && umount "$scratch/build"; rm -rf "$scratch"' EXIT
# makepkg unpacks 1.5 GB twice: in memory when it can, on disk otherwise.
mkdir "$scratch/build"
mount -t tmpfs -o size=4g,mode=0755 vb2-resv-pkg "$scratch/build" 2>/dev/null || true
diag() { sed 's/^/#   /'; }

# --- 1. The extlinux script
"$REPO_DIR/packaging/test-extlinux.sh" "$tapfile"

# --- 2. The sources: kernel.org's signed tarball by default, Debian's tree as the offline alternative
# pkgbuild_var 'EXPR' [BASE]: the words of EXPR (in single quotes) in the
# PKGBUILD, read with FRESNEL_BASE=BASE (default: unset, kernel.org).
pkgbuild_var() {
	(cd "$REPO_DIR" && FRESNEL_BASE=${2:-} bash -c '. ./PKGBUILD >/dev/null && eval "printf \"%s\\n\" $1"' _ "$1")
}
rc=0
v=$(pkgbuild_var '"${source[@]}" -- "${validpgpkeys[@]}"')
want_src="https://cdn.kernel.org/pub/linux/kernel/v${BASE_KVER%%.*}.x/linux-${BASE_VERSION%-*}.tar.xz
https://cdn.kernel.org/pub/linux/kernel/v${BASE_KVER%%.*}.x/linux-${BASE_VERSION%-*}.tar.sign"
[ "$(sed '/^--$/,$d' <<<"$v")" = "$want_src" ] ||
	{ echo "#   the default sources are not kernel.org's linux-${BASE_VERSION%-*} tarball and signature:"; diag <<<"$v"; rc=1; }
grep -qxE '[0-9A-F]{40}' <<<"$(sed '1,/^--$/d' <<<"$v")" ||
	{ echo "#   no validpgpkeys: the signature would not be checked"; rc=1; }
tap "$tapfile" $rc "packaging: by default the PKGBUILD builds kernel.org's linux-${BASE_VERSION%-*}.tar.xz, checked against its PGP signature (validpgpkeys)"

rc=0
if out=$(cd "$REPO_DIR" && FRESNEL_BASE=nonsense bash -c '. ./PKGBUILD' 2>&1); then
	echo "#   FRESNEL_BASE=nonsense was accepted"; rc=1
elif ! grep -q 'FRESNEL_BASE=nonsense: use kernel.org (the default) or debian' <<<"$out"; then
	echo "#   FRESNEL_BASE=nonsense failed without saying what to use:"; diag <<<"$out"; rc=1
fi
tap "$tapfile" $rc "packaging: an unknown FRESNEL_BASE is refused, naming the two bases"

# Debian's index in an apt directory of our own ($CACHE/pkg-apt/apt), so
# that vmtest's ($CACHE/apt) is never rewritten under a running harness.
papt() { CACHE=$CACHE/pkg-apt apt_private "$@"; }
index_sha256() {
	papt apt-cache show "$SRC_PKG=$BASE_VERSION" 2>/dev/null | awk '/^SHA256:/ { print $2; exit }'
}
want=$(index_sha256)
if [ -z "$want" ]; then
	CACHE=$CACHE/pkg-apt apt_private_update || say "cannot read Debian's package index"
	want=$(index_sha256)
fi
debpath=
for d in "$CACHE/dl" "$CACHE/pkg-dl"; do
	[ -f "$d/$deb" ] && debpath=$d/$deb && break
done
if [ -z "$debpath" ] && [ -n "$want" ]; then
	say "downloading $deb"
	mkdir -p "$CACHE/pkg-dl"
	(cd "$CACHE/pkg-dl" && papt apt-get download "$SRC_PKG=$BASE_VERSION" >/dev/null) &&
		debpath=$CACHE/pkg-dl/$deb
fi
rc=0
if [ -z "$want" ]; then
	echo "#   $SRC_PKG $BASE_VERSION is not in Debian's index (sid, trixie-backports)"; rc=1
fi
if [ -z "$debpath" ]; then
	echo "#   no $deb: not cached and not downloadable"; rc=1
elif [ -n "$want" ] && [ "$(sha256sum <"$debpath" | cut -d' ' -f1)" != "$want" ]; then
	echo "#   $debpath does not have the index's SHA256 $want"; rc=1
fi
got=$(pkgbuild_var '"${sha256sums[0]}"' debian)
[ "$got" = "$want" ] || { echo "#   PKGBUILD has ${got:-nothing} for $deb, Debian's index $want"; rc=1; }
v=$(pkgbuild_var '"$pkgver $_debver ${source[0]%%::*}"' debian)
[ "$v" = "${BASE_VERSION%-*} $BASE_VERSION $deb" ] ||
	{ echo "#   PKGBUILD builds '$v', vmtest/base-version is $BASE_VERSION"; rc=1; }
# The URL stays valid after Debian moves on: snapshot.debian.org by the file's SHA-1.
url=$(pkgbuild_var '"${source[0]#*::}"' debian)
[ -z "$debpath" ] || [ "$url" = "https://snapshot.debian.org/file/$(sha1sum <"$debpath" | cut -d' ' -f1)" ] ||
	{ echo "#   $url is not snapshot.debian.org's address of $deb"; rc=1; }
tap "$tapfile" $rc "packaging: FRESNEL_BASE=debian builds Debian's $SRC_PKG $BASE_VERSION (vmtest/base-version), from snapshot.debian.org, with the SHA256 of Debian's signed index"

# --- The build user's copy of the repository (only what git tracks: what a
# clone has, and all that makechrootpkg binds into its chroot) and its SRCDEST
mkdir -p "$scratch/srcdest" "$scratch/home"
copy_repo "$scratch/repo"
chown -R "$user:" "$scratch"
# Linked, not copied, when it can be: only read, never chowned.
[ -n "$debpath" ] && { ln "$debpath" "$scratch/srcdest/$deb" 2>/dev/null || cp "$debpath" "$scratch/srcdest/"; }
# mp DIR ARGS...: makepkg ARGS as the build user in DIR, from Debian's tree.
mp() {
	local dir=$1
	shift
	(cd "$dir" && runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		HOME="$scratch/home" SRCDEST="$scratch/srcdest" BUILDDIR="$scratch/build" \
		PKGDEST="$scratch/pkgdest" CROSS_COMPILE=aarch64-linux-gnu- MAKEFLAGS=-j"$JOBS" \
		FRESNEL_BASE=debian makepkg "$@")
}
copy=$scratch/repo

# --- 3. The PKGBUILD parses and reads nothing outside its directory
rc=0
for base in kernel.org debian; do
	(cd "$copy" && runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$scratch/home" \
		FRESNEL_BASE=$base makepkg --printsrcinfo) >"$scratch/srcinfo" 2>"$scratch/srcinfo.err" ||
		{ echo "#   FRESNEL_BASE=$base:"; diag <"$scratch/srcinfo.err"; rc=1; }
done
if grep -nE '\$startdir/\.\.|\.\./' "$REPO_DIR/PKGBUILD" | diag | grep .; then
	echo "#   the PKGBUILD reaches outside its directory, which makechrootpkg does not bind"; rc=1
fi
if ! mp "$copy" --verifysource -d -A >"$scratch/verify.log" 2>&1; then
	grep -vE '^  -> Found|Passed$' "$scratch/verify.log" | diag; rc=1
fi
tap "$tapfile" $rc "packaging: the top-level PKGBUILD parses with either base, reads only its own directory, and Debian's .deb passes makepkg --verifysource"

# --- 4. The series in the PKGBUILD's order
rc=0
diff -u <(cd "$REPO_DIR" && series_patches | sed "s|^$PATCHES/|patches/|") \
	<(pkgbuild_var '"${_patches[@]}"') >"$scratch/d" ||
	{ echo "#   PKGBUILD's _patches and patches/ differ (- patches/, + PKGBUILD):"; diag <"$scratch/d"; rc=1; }
tap "$tapfile" $rc "packaging: _patches is the series in patches/, in order"

# --- 4a. What is built is what was tested: no packaged file changed since
# the commit that last set pkgrel (a package of one pkgrel has one content)
if git -C "$REPO_DIR" rev-parse --git-dir >/dev/null 2>&1 &&
	bump=$(git -C "$REPO_DIR" log -1 --format=%H -G'^pkgrel=' -- PKGBUILD) && [ -n "$bump" ]; then
	rc=0
	# The working tree against that commit: what the package carries and
	# what it is built from, not the cover letters nor the tests of the
	# packaging itself.
	git -C "$REPO_DIR" diff --name-only "$bump" -- PKGBUILD patches packaging kmod-vb2-resv-test \
		selftests | grep -v -e '/0000-cover-letter\.patch$' -e '^packaging/test-' \
		-e '^packaging/mkinitcpio-model\.sh$' -e '^packaging/dt-undriven\.txt$' >"$scratch/d"
	[ ! -s "$scratch/d" ] ||
		{ echo "#   changed since pkgrel was last set ($(git -C "$REPO_DIR" log -1 --format='%h %cs' "$bump")), without a bump:"; diag <"$scratch/d"; rc=1; }
	tap "$tapfile" $rc "packaging: pkgrel $(pkgbuild_var '"$pkgrel"') was set after the last change to what the packages carry"
else
	tap "$tapfile" 0 "packaging: pkgrel was set after the last change to what the packages carry # SKIP not a git checkout: no history to compare with"
fi

# --- 4b. What the README tells a user agrees with the PKGBUILD
rc=0
readme=$REPO_DIR/README.md
pkgver=$(pkgbuild_var '"$pkgver"')
names=$(pkgbuild_var '"${pkgname[@]}"' | sort)
# The base: the Debian version pinned in vmtest/base-version and the PKGBUILD.
[ "$(pkgbuild_var '"$_debver"')" = "$BASE_VERSION" ] ||
	{ echo "#   PKGBUILD's _debver is not vmtest/base-version's $BASE_VERSION"; rc=1; }
[ "$pkgver" = "$BASE_KVER" ] ||
	{ echo "#   PKGBUILD's pkgver $pkgver is not the base's $BASE_KVER"; rc=1; }
grep -qF "\`$SRC_PKG\`, $BASE_VERSION" "$readme" ||
	{ echo "#   README.md does not name the base as \`$SRC_PKG\`, $BASE_VERSION"; rc=1; }
# No release pinned in what a user types or reads: pkgver-pkgrel described.
grep -nE "${pkgver//./\\.}-[0-9]+(-fresnel|[^~.0-9]|$)" "$readme" | grep -vF "$BASE_VERSION" >"$scratch/d" &&
	{ echo "#   README.md pins a release (pkgver-pkgrel changes with every build):"; diag <"$scratch/d"; rc=1; }
# Package names: every pattern pacman -U installs and every name pacman -R
# removes is a package the PKGBUILD builds, and -R removes them all.
sed -n 's/.*\(linux-[a-z0-9-]*\)-\[0-9\]\*-aarch64\.pkg\.tar\.zst.*/\1/p' "$readme" | sort -u >"$scratch/u"
comm -23 "$scratch/u" <(echo "$names") >"$scratch/d"
[ -s "$scratch/u" ] && [ ! -s "$scratch/d" ] ||
	{ echo "#   pacman -U in README.md installs nothing, or what the PKGBUILD does not build:"; diag <"$scratch/d"; rc=1; }
awk '/pacman -R /,!/\\$/' "$readme" | tr ' \\' '\n\n' | grep -E '^linux-' | sort -u >"$scratch/r"
diff -u <(echo "$names") "$scratch/r" >"$scratch/d" ||
	{ echo "#   pacman -R in README.md and the PKGBUILD's pkgname differ (- PKGBUILD, + README):"; diag <"$scratch/d"; rc=1; }
# The git am order is the order of the directories in _patches.
diff -u <(pkgbuild_var '"${_patches[@]}"' | sed 's|/[^/]*$||' | uniq) \
	<(sed -n 's|.*git am \$(ls \$R/\(patches[a-z0-9_/]*\)/\*\.patch.*|\1|p' "$readme" | sed 's|/$||') >"$scratch/d" ||
	{ echo "#   README.md's git am order is not _patches' (- PKGBUILD, + README):"; diag <"$scratch/d"; rc=1; }
# The clause range the README cites is the contract's.
last=$(grep -oE '^\*\*F[0-9]+' "$REPO_DIR/docs/CONTRACT.md" | tail -n 1 | tr -d '*')
over=$(grep -oE '\bF[0-9]+\b' "$readme" | tr -d F | awk -v n="${last#F}" '$1 > n' | sort -un | tr '\n' ' ')
grep -qF "clauses F1-$last" "$readme" && [ -z "$over" ] ||
	{ echo "#   README.md does not cite docs/CONTRACT.md's clauses F1-$last, or cites clauses it lacks: $over"; rc=1; }
tap "$tapfile" $rc "packaging: README.md agrees with the PKGBUILD: the base $BASE_VERSION, no pinned pkgver-pkgrel, the packages pacman -U and -R name, the git am order, the clauses F1-$last"

# --- 5. prepare() for real
# Checksums were checked above: skipped here, so that a stale one does not
# hide whether the series applies and the config holds.
say "makepkg -o: unpacking $deb, applying the series, configuring (about 30 s)"
rc=0
mp "$copy" -o -d -A --skipchecksums >"$scratch/prepare.log" 2>&1 || rc=1
src=$scratch/build/linux-fresnel-fourier/src/linux-${BASE_VERSION%-*}
applied=$(sed -n 's/^Applying //p' "$scratch/prepare.log")
[ "$applied" = "$(series_patches | xargs -rn1 basename)" ] ||
	{ echo "#   prepare() applied, in this order:"; diag <<<"${applied:-nothing}"; rc=1; }
[ -f "$src/.config" ] && [ -f "$scratch/build/linux-fresnel-fourier/src/kmod-vb2-resv-test/vb2-resv-test.c" ] &&
	[ -f "$src/tools/testing/selftests/vb2-resv/producer_fences.c" ] || rc=1
[ $rc -eq 0 ] || { grep -vE '^  -> Found|Passed$' "$scratch/prepare.log" | tail -n 40 | diag; }
prepared=$rc
tap "$tapfile" $rc "packaging: makepkg -o runs prepare() on Debian's $SRC_PKG $BASE_VERSION: the series applies, in order, the module and selftests are in place, the kernel is configured"

# --- 6. The board config, compared after olddefconfig
# holds CONFIG FRAGMENT: every CONFIG_x=v of FRAGMENT holds in CONFIG (=n: unset).
holds() {
	awk 'FNR == NR { if (/^CONFIG_/) { s = $0; sub(/=.*/, "", s); have[s] = substr($0, length(s) + 2) }; next }
	     /^CONFIG_[A-Za-z0-9_]+=/ { s = $0; sub(/=.*/, "", s); v = substr($0, length(s) + 2)
		g = (s in have) ? have[s] : "n"
		if (g != v) { printf "#   %s=%s wanted, got %s\n", s, v, g; bad = 1 } }
	     END { exit bad }' "$1" "$2"
}
for frag in selftests/vb2-resv/config packaging/rk3399.config; do
	rc=$prepared
	[ $rc -ne 0 ] || holds "$src/.config" "$REPO_DIR/$frag" || rc=1
	tap "$tapfile" $rc "board config: every option of $frag survives arm64 olddefconfig"
done
# What the series, its test module, the board's consumers and a distribution
# need, built in or as modules, whatever the fragments say; and what not.
rc=$prepared
for s in MODULES MODULE_UNLOAD ARCH_ROCKCHIP ROCKCHIP_IOMMU DMA_SHARED_BUFFER SYNC_FILE \
	VIDEO_DEV VIDEOBUF2_CORE VIDEOBUF2_DMA_CONTIG VIDEOBUF2_DMA_SG VIDEOBUF2_VMALLOC \
	V4L2_MEM2MEM_DEV VIDEO_HANTRO VIDEO_HANTRO_ROCKCHIP VIDEO_ROCKCHIP_RGA VIDEO_VIM2M \
	DRM_PANFROST DRM_ROCKCHIP DMABUF_HEAPS_SYSTEM DMABUF_HEAPS_CMA DEBUG_FS HIST_TRIGGERS \
	DRM_VKMS DRM_VGEM DM_CRYPT NF_TABLES WIREGUARD ZRAM BTRFS_FS USER_NS VIRTIO_BLK VIRTIO_PCI; do
	[ $prepared -ne 0 ] && break
	grep -qE "^CONFIG_$s=[ym]$" "$src/.config" || { echo "#   CONFIG_$s is not y or m"; rc=1; }
done
for s in DEBUG_INFO ARCH_QCOM ARCH_MEDIATEK ARCH_TEGRA ARCH_SUNXI KASAN PROVE_LOCKING FAULT_INJECTION; do
	[ $prepared -ne 0 ] && break
	grep -qE "^CONFIG_$s=[ym]$" "$src/.config" && { echo "#   CONFIG_$s is set"; rc=1; }
done
tap "$tapfile" $rc "board config: the series' drivers and consumers, vim2m, vkms, vgem, dm-crypt, nftables, WireGuard, zram, btrfs and virtio are built; debug info, other SoC families, KASAN, lockdep and fault injection are not"
rc=$prepared
release=$(pkgbuild_var '"$pkgver-$pkgrel${pkgbase#linux}"')
got=$(cat "$src/version" 2>/dev/null)
[ $rc -ne 0 ] || [ "$got" = "$release" ] || { echo "#   kernel release ${got:-unknown}, wanted $release"; rc=1; }
tap "$tapfile" $rc "packaging: the kernel release is $release, a modules directory of its own"
rm -rf "${scratch:?}"/build/*

# --- 7. A patch that no longer applies stops prepare() and is named
# The copy's patch 0002 (or the last) gets its first context line changed;
# checksums are skipped so that prepare() is reached.
rc=0
bad=$(series_patches | sed -n '2p;$p' | head -n 1)
if [ -z "$bad" ]; then
	echo "#   no patch in $PATCHES"; rc=1
else
	name=$(basename "$bad")
	awk '!done && /^@@ / { hunk = 1 } hunk && !done && /^ ./ { $0 = $0 " /* moved */"; done = 1 } 1' \
		"$bad" >"$scratch/repo/patches/${bad#"$PATCHES"/}"
	if mp "$copy" -o -d -A --skipchecksums >"$scratch/broken.log" 2>&1; then
		echo "#   makepkg -o passed with a broken $name"; rc=1
	elif ! grep -q "ERROR: $name does not apply to linux-${BASE_VERSION%-*} (debian)" "$scratch/broken.log" ||
	     ! grep -q 'FAILED' "$scratch/broken.log"; then
		echo "#   prepare() failed without naming $name and its rejected hunk:"; tail -n 20 "$scratch/broken.log" | diag
		rc=1
	fi
	cp "$bad" "$scratch/repo/patches/${bad#"$PATCHES"/}"
fi
tap "$tapfile" $rc "packaging: prepare() stops on a patch that no longer applies, naming it and its rejected hunk"
rm -rf "${scratch:?}"/build/*

# --- 8. The boot integration under pacman
"$REPO_DIR/packaging/test-hooks.sh" "$tapfile" "$scratch/hooks"

say "packaging checks done in $((SECONDS - started)) s"
exit 0
