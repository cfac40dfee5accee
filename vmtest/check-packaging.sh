#!/usr/bin/env bash
# Packaging checks: the extlinux script, .SRCINFO and checksums, makepkg's prepare() on the real base, the board config.
#
# usage: check-packaging.sh TAP-FILE   (appends one TAP line per check, exits 0
#                                       once they ran, like selftest-harness.sh)
#
# packaging/PKGBUILD's prepare() runs for real, in makepkg, on Debian's
# linux-source-7.2 .deb supplied locally (SRCDEST; no download by makepkg):
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
pkgdir=$REPO_DIR/packaging
user=vb2pkg
deb=linux-source-7.2_${BASE_VERSION}_all.deb
started=$SECONDS

# --- What the checks need, installed only when missing (CI starts from a fresh machine)
need=(makepkg pacman-package-manager libarchive-tools file patch xz-utils rsync
      make gcc bc bison flex gcc-aarch64-linux-gnu debian-archive-keyring)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]} and to run makepkg as $user"
	say "installing ${missing[*]}"
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null || die "cannot install ${missing[*]}"
fi
[ "$(id -u)" -eq 0 ] || die "run as root: makepkg runs as the user $user, made with useradd if missing"
id -u "$user" >/dev/null 2>&1 ||
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$user" || die "cannot create the user $user"

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
"$pkgdir/test-extlinux.sh" "$tapfile"

# --- 2. The base: Debian's linux-source-7.2 at vmtest/base-version, its SHA256 from the signed index
# Debian's index in an apt directory of our own ($CACHE/pkg-apt/apt), so
# that vmtest's ($CACHE/apt) is never rewritten under a running harness.
papt() { CACHE=$CACHE/pkg-apt apt_private "$@"; }
index_sha256() {
	papt apt-cache show "linux-source-7.2=$BASE_VERSION" 2>/dev/null | awk '/^SHA256:/ { print $2; exit }'
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
	(cd "$CACHE/pkg-dl" && papt apt-get download "linux-source-7.2=$BASE_VERSION" >/dev/null) &&
		debpath=$CACHE/pkg-dl/$deb
fi
# pkgbuild_var 'EXPR': the words of EXPR (in single quotes) in the PKGBUILD.
pkgbuild_var() { (cd "$pkgdir" && bash -c '. ./PKGBUILD >/dev/null && eval "printf \"%s\\n\" $1"' _ "$1"); }
rc=0
if [ -z "$want" ]; then
	echo "#   linux-source-7.2 $BASE_VERSION is not in Debian's index (sid, trixie-backports)"; rc=1
fi
if [ -z "$debpath" ]; then
	echo "#   no $deb: not cached and not downloadable"; rc=1
elif [ -n "$want" ] && [ "$(sha256sum <"$debpath" | cut -d' ' -f1)" != "$want" ]; then
	echo "#   $debpath does not have the index's SHA256 $want"; rc=1
fi
got=$(pkgbuild_var '"${sha256sums[0]}"')
[ "$got" = "$want" ] || { echo "#   PKGBUILD has ${got:-nothing} for $deb, Debian's index $want"; rc=1; }
v=$(pkgbuild_var '"$pkgver $_debver ${source[0]##*/}"')
[ "$v" = "${BASE_VERSION%-*} $BASE_VERSION $deb" ] ||
	{ echo "#   PKGBUILD builds '$v', vmtest/base-version is $BASE_VERSION"; rc=1; }
tap "$tapfile" $rc "packaging: PKGBUILD's base is Debian's linux-source-7.2 $BASE_VERSION (vmtest/base-version), with the SHA256 of Debian's signed index"

# --- The build user's copy of the repository and its SRCDEST
mkdir -p "$scratch/srcdest" "$scratch/home"
rsync -a --exclude=/.git --exclude=/packaging/src/ --exclude=/packaging/pkg/ \
	--exclude='*.pkg.tar.*' "$REPO_DIR/" "$scratch/repo/"
chown -R "$user:" "$scratch"
# Linked, not copied, when it can be: only read, never chowned.
[ -n "$debpath" ] && { ln "$debpath" "$scratch/srcdest/$deb" 2>/dev/null || cp "$debpath" "$scratch/srcdest/"; }
# mp DIR ARGS...: makepkg ARGS as the build user in DIR (a copy's packaging/).
mp() {
	local dir=$1
	shift
	(cd "$dir" && runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		HOME="$scratch/home" SRCDEST="$scratch/srcdest" BUILDDIR="$scratch/build" \
		PKGDEST="$scratch/pkgdest" CROSS_COMPILE=aarch64-linux-gnu- MAKEFLAGS=-j"$JOBS" \
		makepkg "$@")
}
copy=$scratch/repo/packaging

# --- 3. .SRCINFO and checksums
rc=0
mp "$copy" --printsrcinfo >"$scratch/srcinfo" 2>"$scratch/srcinfo.err" || { diag <"$scratch/srcinfo.err"; rc=1; }
diff -u "$pkgdir/.SRCINFO" "$scratch/srcinfo" >"$scratch/srcinfo.diff" ||
	{ diag <"$scratch/srcinfo.diff"; echo "#   regenerate it: packaging/update-sums.sh"; rc=1; }
tap "$tapfile" $rc "packaging: makepkg --printsrcinfo matches packaging/.SRCINFO"

rc=0
nsrc=$(grep -c $'^\tsource = ' "$scratch/srcinfo")
nsum=$(grep -c $'^\tsha256sums = [0-9a-f]\\{64\\}$' "$scratch/srcinfo")
if [ "$nsrc" -eq 0 ] || [ "$nsrc" -ne "$nsum" ]; then
	echo "#   $nsrc sources, $nsum real sha256sums (SKIP is not a checksum)"; rc=1
fi
if ! mp "$copy" --verifysource -d -A >"$scratch/verify.log" 2>&1; then
	grep -vE '^  -> Found|Passed$' "$scratch/verify.log" | diag
	echo "#   after a change to the series, the test module or the selftests: packaging/update-sums.sh"
	rc=1
fi
tap "$tapfile" $rc "packaging: every source has a real sha256 checksum and makepkg --verifysource passes"

# --- 4. The sources are the series and every file of the test module and selftests
rc=0
diff -u <(cd "$REPO_DIR" && series_patches | sed "s|^$PATCHES/|patches/|") \
	<(pkgbuild_var '"${_patches[@]}"') >"$scratch/d" ||
	{ echo "#   PKGBUILD's _patches and patches/ differ (- patches/, + PKGBUILD):"; diag <"$scratch/d"; rc=1; }
diff -u <(git -C "$REPO_DIR" ls-files --cached --others --exclude-standard \
		kmod-vb2-resv-test selftests/vb2-resv | grep -v '/\.' | sort) \
	<(pkgbuild_var '"${_repo[@]}"' | grep -v '^patches/' | sort) >"$scratch/d" ||
	{ echo "#   files of the module or selftests missing from PKGBUILD's _repo (-) or gone (+):"; diag <"$scratch/d"; rc=1; }
while IFS= read -r f; do
	link=$pkgdir/${f//\//_}
	if [ "$(readlink "$link" 2>/dev/null)" != "../$f" ] || [ ! -f "$link" ]; then
		echo "#   packaging/${f//\//_} is not a symlink to ../$f"; rc=1
	fi
done < <(pkgbuild_var '"${_repo[@]}"')
tap "$tapfile" $rc "packaging: the sources are the series' patches in order and every file of kmod-vb2-resv-test/ and selftests/vb2-resv/, each a symlink in packaging/"

# --- 5. prepare() for real
# Checksums were checked above: skipped here, so that a stale one does not
# hide whether the series applies and the config holds.
say "makepkg -o: unpacking $deb, applying the series, configuring (about 30 s)"
rc=0
mp "$copy" -o -d -A --skipchecksums >"$scratch/prepare.log" 2>&1 || rc=1
src=$scratch/build/linux-fresnel-fourier/src/linux-source-7.2
applied=$(sed -n 's/^Applying //p' "$scratch/prepare.log")
[ "$applied" = "$(series_patches | xargs -rn1 basename)" ] ||
	{ echo "#   prepare() applied, in this order:"; diag <<<"${applied:-nothing}"; rc=1; }
[ -f "$src/.config" ] || rc=1
[ $rc -eq 0 ] || { grep -vE '^  -> Found|Passed$' "$scratch/prepare.log" | tail -n 40 | diag; }
prepared=$rc
tap "$tapfile" $rc "packaging: makepkg -o runs prepare() on Debian's linux-source-7.2 $BASE_VERSION: the series applies, in order, and is configured"

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
# What the series, its test module and the board's consumers need, built in
# or as modules, whatever the fragments say.
rc=$prepared
for s in MODULES MODULE_UNLOAD ARCH_ROCKCHIP ROCKCHIP_IOMMU DMA_SHARED_BUFFER SYNC_FILE \
	VIDEO_DEV VIDEOBUF2_CORE VIDEOBUF2_DMA_CONTIG VIDEOBUF2_DMA_SG VIDEOBUF2_VMALLOC \
	V4L2_MEM2MEM_DEV VIDEO_HANTRO VIDEO_HANTRO_ROCKCHIP VIDEO_ROCKCHIP_RGA VIDEO_VIM2M \
	DRM_PANFROST DRM_ROCKCHIP DMABUF_HEAPS_SYSTEM DMABUF_HEAPS_CMA DEBUG_FS FAILSLAB HIST_TRIGGERS; do
	[ $prepared -ne 0 ] && break
	grep -qE "^CONFIG_$s=[ym]$" "$src/.config" || { echo "#   CONFIG_$s is not y or m"; rc=1; }
done
tap "$tapfile" $rc "board config: videobuf2 (dma-contig, dma-sg, vmalloc), hantro (Rockchip), rockchip-rga, vim2m, panfrost, dma-buf, sync_file, heaps, failslab, hist triggers and module unload are built"
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
		"$bad" >"$scratch/repo/patches/$name"
	if mp "$copy" -o -d -A --skipchecksums >"$scratch/broken.log" 2>&1; then
		echo "#   makepkg -o passed with a broken $name"; rc=1
	elif ! grep -q "ERROR: $name does not apply to Debian's linux-source-7.2 $BASE_VERSION" "$scratch/broken.log" ||
	     ! grep -q 'FAILED' "$scratch/broken.log"; then
		echo "#   prepare() failed without naming $name and its rejected hunk:"; tail -n 20 "$scratch/broken.log" | diag
		rc=1
	fi
fi
tap "$tapfile" $rc "packaging: prepare() stops on a patch that no longer applies, naming it and its rejected hunk"

say "packaging checks done in $((SECONDS - started)) s"
exit 0
