#!/usr/bin/env bash
# Make coccinelle's spatch (Debian sid's 1.3) runnable as $CACHE/cocci/spatch;
# print its path.
#
# bookworm's coccinelle 1.1 is older than the kernel's semantic patches
# expect; sid's runs with the sid libraries it needs, through sid's dynamic
# loader, and nothing is installed on the system (as vmtest/fetch-sparse.sh
# does). Its Python scripting uses the host's python3.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$CACHE/cocci/root
wrapper=$CACHE/cocci/spatch

[ -x "$root/usr/bin/spatch" ] || rm -rf "$root"
sid_unpack cocci coccinelle libparmap-ocaml libstdcompat-ocaml libstdlib-ocaml \
	libc6 libpcre2-8-0

libdir=$root/usr/lib/x86_64-linux-gnu
cat > "$wrapper" <<EOS
#!/bin/sh
# spatch from Debian sid, run with its own libraries (vmtest/fetch-cocci.sh).
COCCINELLE_HOME=$root/usr/lib/coccinelle
export COCCINELLE_HOME
exec $libdir/ld-linux-x86-64.so.2 --library-path $libdir $root/usr/bin/spatch "\$@"
EOS
chmod +x "$wrapper"
"$wrapper" --version >/dev/null 2>&1 || die "sid's spatch does not run here"
echo "$wrapper"
