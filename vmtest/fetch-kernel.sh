#!/usr/bin/env bash
# Fetch Debian's linux-source-7.2 and unpack it into the cache; print the tree's path.
#
# The system's package state is never touched (see apt_private in lib.sh).
# The pinned version (vmtest/base-version) is used when the archive still has
# it or it is cached; otherwise the newest 7.2.y.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dl=$CACHE/dl
mkdir -p "$dl"

cached_deb() { ls "$dl"/linux-source-7.2_"$1"_all.deb 2>/dev/null; }

ver=$BASE_VERSION
if [ -z "$(cached_deb "$ver")" ]; then
	say "looking up linux-source-7.2 in Debian sid and trixie-backports"
	apt_private_update || die "cannot read the Debian archive (network?); or point KSRC= at a 7.2.y tree"
	avail=$(apt_private apt-cache madison linux-source-7.2 | awk -F' *\\| *' '{print $2}')
	if ! grep -qxF "$ver" <<<"$avail"; then
		newest=$(grep -E '^7\.2\.' <<<"$avail" | sort -V | tail -n 1 || true)
		[ -n "$newest" ] ||
			die "no linux-source-7.2 package in sid or trixie-backports; point KSRC= at a 7.2.y tree"
		say "warning: pinned linux-source-7.2 $ver is gone from the archive; using $newest"
		say "warning: the series was verified on $ver: re-verify, then update vmtest/base-version"
		ver=$newest
	fi
	if [ -z "$(cached_deb "$ver")" ]; then
		say "downloading linux-source-7.2 $ver"
		(cd "$dl" && apt_private apt-get download "linux-source-7.2=$ver" >/dev/null) ||
			die "download of linux-source-7.2 $ver failed"
	fi
fi

src=$CACHE/src/$ver
if [ ! -f "$src/linux-source-7.2/Makefile" ]; then
	say "unpacking linux-source-7.2 $ver into $src"
	rm -rf "$src.tmp" && mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$(cached_deb "$ver")" |
		tar -xO ./usr/src/linux-source-7.2.tar.xz | tar -xJ -C "$src.tmp"
	rm -rf "$src" && mv "$src.tmp" "$src"
fi
echo "$src/linux-source-7.2"
