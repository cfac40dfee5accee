#!/usr/bin/env bash
# Stage a current v4l2-compliance (Debian sid's v4l-utils) for the guest as $STAGE/bin/v4l2-compliance.
#
# The host's v4l-utils may predate the 7.2 uAPI it tests (bookworm's 1.22
# fails CREATE_BUFS and Requests on any 7.x kernel), so the guest runs sid's,
# unpacked with the sid libraries it needs and started through sid's dynamic
# loader; nothing is installed on the system.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(v4l-utils libv4l-0t64 libv4l2rds0t64 libv4lconvert0t64 libc6 libgcc-s1
      libjson-c5 libstdc++6 libudev1 libjpeg62-turbo libcap2)
root=$CACHE/v4l-utils/root
wrapper=$STAGE/bin/v4l2-compliance

if [ ! -x "$root/usr/bin/v4l2-compliance" ]; then
	say "fetching v4l-utils and its libraries from Debian sid"
	apt_private_update || die "cannot read the Debian archive (network?)"
	rm -rf "$CACHE/v4l-utils" && mkdir -p "$CACHE/v4l-utils/debs" "$root.tmp"
	(cd "$CACHE/v4l-utils/debs" &&
		apt_private apt-get download "${pkgs[@]/%//sid}" >/dev/null) ||
		die "could not download ${pkgs[*]} from Debian sid"
	for deb in "$CACHE"/v4l-utils/debs/*.deb; do
		dpkg-deb -x "$deb" "$root.tmp"
	done
	mv "$root.tmp" "$root"
fi

mkdir -p "$(dirname "$wrapper")"
libdir=$root/usr/lib/x86_64-linux-gnu
cat > "$wrapper" <<EOS
#!/bin/sh
# v4l2-compliance from Debian sid, run with its own libraries (vmtest/fetch-v4l-utils.sh).
exec $libdir/ld-linux-x86-64.so.2 --library-path $libdir $root/usr/bin/v4l2-compliance "\$@"
EOS
chmod +x "$wrapper"
"$wrapper" --version | head -n 1 >&2
