# shellcheck shell=sh
# Guest plan for 'make check': the selftests, v4l2-compliance, module unload.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vim2m
result $? "modprobe vim2m"

# Every installed kselftest; run_kselftest.sh prints KTAP that the host counts.
# It reopens /dev/stdout for the tests' output: through a pipe, so that its
# writes and the shell's cannot overwrite each other as they would in a file.
(cd "$VMTEST_STAGE/kselftest" && ./run_kselftest.sh) 2>&1 | cat > "$OUT/kselftest.tap"
grep -E '^# (not )?ok |^(not )?ok ' "$OUT/kselftest.tap"

# F1: a driver that does not opt in keeps its v4l2-compliance result.
compliance vim2m -s

modprobe -r vim2m
result $? "modprobe -r vim2m after the tests"

kmemleak_scan

# Reached the end: the host knows the plan ran whole.
exit 0
