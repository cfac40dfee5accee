#!/usr/bin/env bash
# Stage a current v4l2-compliance (Debian sid's v4l-utils) for the guest as $STAGE/bin/v4l2-compliance.
#
# The host's v4l-utils may predate the 7.x uAPI it tests (bookworm's 1.22
# fails CREATE_BUFS and Requests on any 7.x kernel), so the guest runs sid's,
# unpacked with the sid libraries it needs and started through sid's dynamic
# loader; nothing is installed on the system.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$CACHE/v4l-utils/root
wrapper=$STAGE/bin/v4l2-compliance

[ -x "$root/usr/bin/v4l2-compliance" ] || rm -rf "$root"
sid_unpack v4l-utils v4l-utils libv4l-0t64 libv4l2rds0t64 libv4lconvert0t64 libc6 \
	libgcc-s1 libjson-c5 libstdc++6 libudev1 libjpeg62-turbo libcap2

mkdir -p "$(dirname "$wrapper")"
libdir=$root/usr/lib/x86_64-linux-gnu
cat > "$wrapper" <<EOS
#!/bin/sh
# v4l2-compliance from Debian sid, run with its own libraries (vmtest/fetch-v4l-utils.sh).
exec $libdir/ld-linux-x86-64.so.2 --library-path $libdir $root/usr/bin/v4l2-compliance "\$@"
EOS
chmod +x "$wrapper"
"$wrapper" --version | head -n 1 >&2
