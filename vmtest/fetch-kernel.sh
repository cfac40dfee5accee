#!/usr/bin/env bash
# Fetch Debian's linux-source-7.2 and unpack it into the cache; print the tree's path.
#
# The system's package state is never touched: a private sources list and lists
# directory under $CACHE/apt.  The pinned version (vmtest/base-version) is used
# when the archive still has it or it is cached; otherwise the newest 7.2.y.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_dir=$CACHE/apt
dl=$CACHE/dl
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$dl"

apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
	  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir"
	  -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)

cached_deb() { ls "$dl"/linux-source-7.2_"$1"_all.deb 2>/dev/null; }

ver=$BASE_VERSION
if [ -z "$(cached_deb "$ver")" ]; then
	[ -r "$keyring" ] || die "$keyring is missing: apt-get install debian-archive-keyring"
	cat > "$apt_dir/sources.list" <<EOS
deb [signed-by=$keyring] http://deb.debian.org/debian sid main
deb [signed-by=$keyring] http://deb.debian.org/debian trixie-backports main
EOS
	say "looking up linux-source-7.2 in Debian sid and trixie-backports"
	apt-get "${apt_opts[@]}" update >/dev/null ||
		die "cannot read the Debian archive (network?); or point KSRC= at a 7.2.y tree"
	avail=$(apt-cache "${apt_opts[@]}" madison linux-source-7.2 | awk -F' *\\| *' '{print $2}')
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
		(cd "$dl" && apt-get "${apt_opts[@]}" download "linux-source-7.2=$ver" >/dev/null) ||
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
