#!/usr/bin/env bash
# Boot the test kernel and show what an implicit-sync consumer sees on a CAPTURE dma-buf.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

run=$CACHE/runs/demo
rm -rf "$run"
"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/demo.sh" "$run" 300
grep -v '^\(not \)\?ok ' "$run/plan.log" || true
awk -f "$VMTEST_DIR/tap-summary.awk" "$run/results.tap" >/dev/null ||
	die "the demonstration failed: $run/plan.log"
