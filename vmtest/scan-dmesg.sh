#!/usr/bin/env bash
# Fail (exit 1) and print the evidence when a guest's dmesg has a warning, BUG,
# lockdep, KASAN, KMSAN, UBSAN, debugobjects or kmemleak report.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: scan-dmesg.sh DMESG-FILE" >&2; exit 2; }
pattern='WARNING:|BUG:|Oops|Kernel panic|general protection fault|Call Trace:'
pattern+='|possible (circular|recursive) locking|inconsistent lock state|DEBUG_LOCKS_WARN_ON'
pattern+='|KASAN|UBSAN|ODEBUG|kmemleak: [0-9]+ new suspected|INFO: task .* blocked|rcu_.*stall'

if [ ! -s "$1" ]; then
	echo "scan-dmesg: $1 is missing or empty" >&2
	exit 1
fi
if grep -qE "$pattern" "$1"; then
	echo "scan-dmesg: the guest kernel reported problems ($1):" >&2
	grep -nE -A 12 "$pattern" "$1" | head -n 80 >&2
	exit 1
fi
