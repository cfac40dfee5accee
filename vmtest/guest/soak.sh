# shellcheck shell=sh
# Guest plan for 'make soak': F8's soak at its full length, 100,000 jobs
# (fence_soak's default), alone on the test kernel (KASAN, lockdep,
# kmemleak). 'make check' runs it with 10,000 beside v4l2-compliance.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

modprobe vb2-resv-test mem=vmalloc
result $? "modprobe vb2-resv-test mem=vmalloc"
(cd "$VMTEST_STAGE/kselftest" && ./run_kselftest.sh -t vb2-resv:fence_soak) 2>&1 |
	cat > "$OUT/kselftest-soak.tap"
grep -E '^# selftests: |^# (not )?ok |^(not )?ok |jobs in ' "$OUT/kselftest-soak.tap"
# The host counts the KTAP file; here only that it is whole.
grep -qE '^# (not )?ok 1 soak\.' "$OUT/kselftest-soak.tap" &&
	grep -qE '^# .*100000 jobs in ' "$OUT/kselftest-soak.tap"
result $? "fence_soak ran its 100,000 jobs to the end"
modprobe -r vb2-resv-test
result $? "modprobe -r vb2-resv-test after the soak"
kmemleak_scan
exit 0
