# shellcheck shell=sh
# Guest plan for 'make check': the selftests, v4l2-compliance, module unload.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vim2m
result $? "modprobe vim2m"

# Every installed kselftest; run_kselftest.sh prints KTAP that the host counts.
(cd "$VMTEST_STAGE/kselftest" && ./run_kselftest.sh) > "$OUT/kselftest.tap" 2>&1
grep -E '^# (not )?ok |^(not )?ok ' "$OUT/kselftest.tap"

# F1: a driver that does not opt in keeps its v4l2-compliance result.
compliance vim2m -s

modprobe -r vim2m
result $? "modprobe -r vim2m after the tests"

kmemleak_scan
