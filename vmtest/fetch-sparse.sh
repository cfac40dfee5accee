#!/usr/bin/env bash
# Make a current sparse (Debian sid's) runnable as $CACHE/sparse/sparse; print its path.
#
# bookworm's sparse 0.6.4 predates what 7.x headers use; sid's runs with the
# sid libraries it needs, through sid's dynamic loader, and nothing is
# installed on the system (as vmtest/fetch-v4l-utils.sh does).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$CACHE/sparse/root
wrapper=$CACHE/sparse/sparse

[ -x "$root/usr/bin/sparse" ] || rm -rf "$root"
sid_unpack sparse sparse libc6 libsqlite3-0 libxml2-16 zlib1g

libdir=$root/usr/lib/x86_64-linux-gnu
cat > "$wrapper" <<EOS
#!/bin/sh
# sparse from Debian sid, run with its own libraries (vmtest/fetch-sparse.sh).
exec $libdir/ld-linux-x86-64.so.2 --library-path $libdir $root/usr/bin/sparse "\$@"
EOS
chmod +x "$wrapper"
"$wrapper" --version >/dev/null || die "sid's sparse does not run here"
echo "$wrapper"
