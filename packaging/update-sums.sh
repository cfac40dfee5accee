#!/usr/bin/env bash
# Refresh the source symlinks, PKGBUILD's sha256sums and .SRCINFO after the series, the test module or the selftests changed.
#
# usage: packaging/update-sums.sh
#
# A file added to or removed from them is first added to or removed from
# _patches or _repo in PKGBUILD, by hand; this makes its symlink here.
# Local sources only: the base .deb's checksum stays as it is, the one
# Debian's signed index publishes (vmtest/check-packaging.sh compares them).
# Bump pkgrel by hand when the series changed.  makepkg refuses to run as
# root: as root, .SRCINFO is made as the user nobody.
set -euo pipefail
cd "$(dirname "$0")"

pkgbuild() { bash -c '. ./PKGBUILD >/dev/null && printf "%s\n" "${'"$1"'[@]}"'; }
mapfile -t repo < <(pkgbuild _repo)
find . -maxdepth 1 -type l -lname '../*' -delete
for f in "${repo[@]}"; do
	ln -s "../$f" "${f//\//_}"
done
mapfile -t src < <(pkgbuild source)
mapfile -t old < <(pkgbuild sha256sums)
sums=("${old[0]}")
for s in "${src[@]:1}"; do
	sums+=("$(sha256sum <"$s" | cut -d' ' -f1)")
done
awk -v sums="${sums[*]}" '
	/^sha256sums=\(/ {
		n = split(sums, s, " ")
		for (i = 1; i <= n; i++)
			printf "%s\x27%s\x27%s\n", (i == 1 ? "sha256sums=(" : "            "), s[i], (i == n ? ")" : "")
		skip = 1
	}
	skip { if (/\)$/) skip = 0; next }
	{ print }' PKGBUILD >PKGBUILD.new
mv PKGBUILD.new PKGBUILD

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
as=()
if [ "$(id -u)" -eq 0 ]; then
	chmod 777 "$tmp"
	as=(runuser -u nobody --)
fi
"${as[@]}" env HOME="$tmp" BUILDDIR="$tmp" PKGDEST="$tmp" SRCDEST="$tmp" SRCPKGDEST="$tmp" LOGDEST="$tmp" \
	makepkg --printsrcinfo >"$tmp/srcinfo"
mv "$tmp/srcinfo" .SRCINFO
git diff --stat -- PKGBUILD .SRCINFO 2>/dev/null || true
