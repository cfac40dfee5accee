#!/usr/bin/env bash
# Fetch Debian's linux-source-$BASE_SERIES (vmtest/base-version) and unpack it into the cache; print the tree's path.
#
# The system's package state is never touched (see apt_private in lib.sh).
# The pinned version (vmtest/base-version) is used when the archive still has
# it or it is cached; otherwise the newest of its series.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dl=$CACHE/dl
mkdir -p "$dl"

cached_deb() { ls "$dl/${SRC_PKG}_$1_all.deb" 2>/dev/null; }

ver=$BASE_VERSION
if [ -z "$(cached_deb "$ver")" ]; then
	say "looking up $SRC_PKG in Debian sid and trixie-backports"
	apt_private_update || die "cannot read the Debian archive (network?); or point KSRC= at a $BASE_SERIES.y tree"
	avail=$(apt_private apt-cache madison "$SRC_PKG" | awk -F' *\\| *' '{print $2}')
	if ! grep -qxF "$ver" <<<"$avail"; then
		newest=$(awk -v s="$BASE_SERIES." 'index($0, s) == 1' <<<"$avail" | sort -V | tail -n 1)
		[ -n "$newest" ] ||
			die "no $SRC_PKG package in sid or trixie-backports; point KSRC= at a $BASE_SERIES.y tree"
		say "warning: pinned $SRC_PKG $ver is gone from the archive; using $newest"
		say "warning: the series was verified on $ver: re-verify, then update vmtest/base-version"
		ver=$newest
	fi
	if [ -z "$(cached_deb "$ver")" ]; then
		say "downloading $SRC_PKG $ver"
		(cd "$dl" && apt_private apt-get download "$SRC_PKG=$ver" >/dev/null) ||
			die "download of $SRC_PKG $ver failed"
	fi
fi

src=$CACHE/src/$ver
if [ ! -f "$src/$SRC_PKG/Makefile" ]; then
	say "unpacking $SRC_PKG $ver into $src"
	rm -rf "$src.tmp" && mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$(cached_deb "$ver")" |
		tar -xO "./usr/src/$SRC_PKG.tar.xz" | tar -xJ -C "$src.tmp"
	rm -rf "$src" && mv "$src.tmp" "$src"
fi
echo "$src/$SRC_PKG"
