# shellcheck shell=sh
# Guest plan for 'make soak', the long runs on the test kernel (KASAN,
# lockdep, kmemleak): F8's soak at its full length, 100,000 jobs
# (fence_soak's default; 'make check' runs 10,000 beside v4l2-compliance),
# then fence_stress twice for 60 s.
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
# Hostile user space: fence_stress's random operations (three processes of
# two threads, the kill switch, unbind and bind, module unload and reload
# among them) with the contract as the oracle, once with a fixed seed and
# once with a fresh one; the seed and the replay command are in its log.
for seed in 1 fresh; do
	log=$OUT/fence_stress-$seed.log
	if [ "$seed" = fresh ]; then
		VB2_STRESS_LOG=$OUT "$VMTEST_STAGE/kselftest/vb2-resv/fence_stress" \
			-t 60 --destructive >"$log" 2>&1
	else
		VB2_STRESS_LOG=$OUT "$VMTEST_STAGE/kselftest/vb2-resv/fence_stress" \
			-t 60 -s "$seed" --destructive >"$log" 2>&1
	fi
	rc=$?
	grep -E '^# (seed |[0-9]+ operations|checks|FAIL)|^not ok' "$log" | head -n 20
	result $rc "fence_stress -t 60 --destructive, seed $seed: every fence seen signals in time and agrees with its buffer, none left alive, the device still works"
done
modprobe -r vb2-resv-test
result $? "modprobe -r vb2-resv-test after the soak and fence_stress"
kmemleak_scan
exit 0
