#!/usr/bin/env bash
# The harness's own tests: each way a run must fail does fail, with a clear message.
#
# usage: selftest-harness.sh TAP-FILE   (appends one TAP line per test)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tapfile=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect_fail NAME MESSAGE-REGEX CMD...: CMD must fail and say MESSAGE.
expect_fail() {
	local name=$1 msg=$2 rc=0
	shift 2
	"$@" >"$tmp/out" 2>&1 && rc=1
	if [ $rc -eq 0 ] && ! grep -qE "$msg" "$tmp/out"; then
		echo "# expected a message matching '$msg', got:"; sed 's/^/#   /' "$tmp/out"
		rc=1
	fi
	tap "$tapfile" $rc "harness: $name"
}

# A tiny git tree and a patch that no longer fits it: git am must refuse it.
git_tiny() {
	git -C "$1" -c user.name=t -c user.email=t@t "${@:2}"
}
mkdir -p "$tmp/tree" "$tmp/other"
printf 'int a;\nint b;\nint c;\n' > "$tmp/tree/f.c"
git -C "$tmp/tree" init -q && git_tiny "$tmp/tree" add f.c && git_tiny "$tmp/tree" commit -qm base
git_tiny "$tmp/tree" tag base
cp -a "$tmp/tree/." "$tmp/other/"
sed -i 's/int b;/int b2;/' "$tmp/other/f.c" && git_tiny "$tmp/other" commit -qam good
git_tiny "$tmp/other" format-patch -q -1 -o "$tmp/good"
sed -i 's/int a;/int x;/' "$tmp/other/f.c" && git_tiny "$tmp/other" commit -qam base-moved
sed -i 's/int c;/int c2;/' "$tmp/other/f.c" && git_tiny "$tmp/other" commit -qam stale
git_tiny "$tmp/other" format-patch -q -1 -o "$tmp/bad"

rc=0
"$VMTEST_DIR/apply-series.sh" "$tmp/tree" base "$tmp"/good/*.patch >"$tmp/out" 2>&1 &&
	grep -q 'int b2;' "$tmp/tree/f.c" || rc=1
tap "$tapfile" $rc "harness: a patch that fits the base applies"
expect_fail "a patch that does not apply stops the run" 'does not apply to' \
	"$VMTEST_DIR/apply-series.sh" "$tmp/tree" base "$tmp"/good/*.patch "$tmp"/bad/*.patch
rc=0
[ -z "$(git -C "$tmp/tree" status --porcelain --untracked-files=no)" ] &&
	! grep -q 'int b2;' "$tmp/tree/f.c" || rc=1
tap "$tapfile" $rc "harness: a rejected series leaves the tree clean at its base"

# KSRC that is absent, not a kernel, or not the series base (7.3): a message that says so.
mkdir -p "$tmp/notkernel" "$tmp/k61/scripts/kconfig" "$tmp/k61/drivers/media/common/videobuf2"
touch "$tmp/k61/Kconfig" "$tmp/k61/scripts/kconfig/merge_config.sh" \
	"$tmp/k61/drivers/media/common/videobuf2/videobuf2-core.c"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n' > "$tmp/k61/Makefile"
expect_fail "a KSRC that does not exist is refused" 'does not exist' \
	make -C "$REPO_DIR" --no-print-directory tree KSRC="$tmp/nonexistent" CACHE="$tmp/cache"
expect_fail "a KSRC that is not a kernel tree is refused" 'is not a kernel source tree' \
	make -C "$REPO_DIR" --no-print-directory tree KSRC="$tmp/notkernel" CACHE="$tmp/cache"
expect_fail "a KSRC with another kernel version is refused" '6\.1\.0 .* is not supported' \
	make -C "$REPO_DIR" --no-print-directory tree KSRC="$tmp/k61" CACHE="$tmp/cache"

# A cold import, then at once the next step that takes the cache lock.  The
# fixture has enough files that the import's git commit would start a
# background "git gc --auto"; nothing may keep the lock once make returns.
mkdir -p "$tmp/kbase/scripts/kconfig" "$tmp/kbase/drivers/media/common/videobuf2" \
	"$tmp/kbase/tools/testing/selftests" "$tmp/kbase/many" "$tmp/nopatches"
touch "$tmp/kbase/Kconfig" "$tmp/kbase/scripts/kconfig/merge_config.sh" \
	"$tmp/kbase/drivers/media/common/videobuf2/videobuf2-core.c"
printf 'VERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = 0\n' "${BASE_SERIES%.*}" "${BASE_SERIES#*.}" > "$tmp/kbase/Makefile"
for i in $(seq 12000); do echo "$i" > "$tmp/kbase/many/$i"; done
rc=0
for step in import next; do
	make -C "$REPO_DIR" --no-print-directory tree KSRC="$tmp/kbase" CACHE="$tmp/cold" \
		PATCHES="$tmp/nopatches" >"$tmp/out" 2>&1 || { rc=1; sed "s/^/# $step: /" "$tmp/out"; }
done
flock -n "$tmp/cold/.lock" true || { rc=1; echo "# a process still holds the cache lock:"; \
	ps -eo pid,args | grep -F "$tmp/cold" | grep -v grep | sed 's/^/#   /'; }
tap "$tapfile" $rc "harness: a cold import leaves no process holding the cache lock"

# The summary counts subtests, crashed binaries and skips, and fails on no tests.
cat > "$tmp/sample.tap" <<'EOT'
TAP version 13
1..2
# selftests: demo: a
# ok 1 t.passes
# not ok 2 t.fails
# ok 3 t.skips # SKIP no device
not ok 1 selftests: demo: a # exit=1
# selftests: demo: b
# ok 1 t.passes
not ok 2 selftests: demo: b # TIMEOUT 45 seconds
EOT
rc=0
out=$(awk -f "$VMTEST_DIR/tap-summary.awk" "$tmp/sample.tap") && rc=1
[[ "$out" == *"2 passed, 2 failed, 1 skipped" ]] || rc=1
tap "$tapfile" $rc "harness: the summary counts a failed subtest, a crashed binary and a skip"
rc=0
: > "$tmp/empty.tap"
awk -f "$VMTEST_DIR/tap-summary.awk" "$tmp/empty.tap" >/dev/null && rc=1
tap "$tapfile" $rc "harness: a run with no test at all fails"

# make check reuses a host check's results only while its inputs are the
# same and its last run passed: a changed input, or a failure, runs it again;
# a run during which a file of the repository changed is not kept. The
# repository is a tiny one of its own here.
fake_check() {
	echo run >>"$tmp/reuse/runs"
	[ ! -e "$tmp/reuse/edit" ] || echo edited >>"$tmp/reuse/repo/f"
	tap "$1" 0 "fake: one"
	tap "$1" "$(cat "$tmp/reuse/result")" "fake: two # SKIP not here"
}
fake_inputs() { cat "$tmp/reuse/input"; }
reuse_round() {
	: >"$tmp/reuse/runs"
	reuse_passed fake fake_inputs "$tmp/reuse/tap" fake_check "$tmp/reuse/tap" 2>>"$tmp/reuse/log" >/dev/null
	printf '%s:%s ' "$(wc -l <"$tmp/reuse/runs")" "$(grep -c '^ok ' "$tmp/reuse/tap")"
}
mkdir -p "$tmp/reuse/repo"
echo f >"$tmp/reuse/repo/f"
git -C "$tmp/reuse/repo" init -q && git_tiny "$tmp/reuse/repo" add f &&
	git_tiny "$tmp/reuse/repo" commit -qm f
: >"$tmp/reuse/tap"
echo 0 >"$tmp/reuse/result" && echo a >"$tmp/reuse/input"
out=$(CACHE=$tmp/reuse/cache REUSE=1 REPO_DIR=$tmp/reuse/repo PATCHES=$tmp/reuse/repo/patches
	reuse_round; reuse_round
	echo b >"$tmp/reuse/input"; reuse_round
	echo 1 >"$tmp/reuse/result"; echo c >"$tmp/reuse/input"; reuse_round
	echo 0 >"$tmp/reuse/result"; reuse_round; reuse_round
	echo d >"$tmp/reuse/input"; touch "$tmp/reuse/edit"; reuse_round
	rm "$tmp/reuse/edit"; reuse_round; reuse_round)
rc=0
# runs:oks after each round: run, reused, run (input b), run and failed
# (input c), run again after the failure, reused; run (input d) editing the
# repository, run again (that run was not kept), reused.
[ "$out" = "1:2 0:4 1:6 1:7 1:9 0:11 1:13 1:15 0:17 " ] &&
	grep -q '^ok 10 fake: two # SKIP not here$' "$tmp/reuse/tap" &&
	grep -q 'fake checks: nothing they read changed since the passing run' "$tmp/reuse/log" &&
	grep -q 'fake checks: the repository changed while they ran' "$tmp/reuse/log" || {
	echo "# runs:oks after each round: $out"; sed 's/^/#   /' "$tmp/reuse/tap"; rc=1; }
tap "$tapfile" $rc "harness: make check reuses a host check's passing results while its inputs are unchanged, never a failed run, nor one during which the repository changed"

# The key of a check's inputs names the series' patches from patches/, not
# from where $PATCHES is: a second clone of the same commit reuses the first
# one's results; a changed patch does not.
rc=0
mkdir -p "$tmp/series"
cp -a "$PATCHES" "$tmp/series/elsewhere"
k1=$(inputs_key fake_inputs)
k2=$(PATCHES=$tmp/series/elsewhere inputs_key fake_inputs)
first=$(PATCHES=$tmp/series/elsewhere series_patches | head -n 1)
[ -n "$first" ] && echo ' ' >>"$first" || rc=1
k3=$(PATCHES=$tmp/series/elsewhere inputs_key fake_inputs)
[ $rc -eq 0 ] && [ -n "$k1" ] && [ "$k1" = "$k2" ] && [ "$k2" != "$k3" ] || {
	echo "# keys: here $k1, elsewhere $k2, a patch changed $k3"; rc=1; }
tap "$tapfile" $rc "harness: the inputs' key is the series' by content and name, wherever its directory is"

# In the VM: a failing test, a WARN in the guest kernel and a hung guest each
# fail the run.
rc=0
"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/harness-negative.sh" "$tmp/vm" 300 >"$tmp/out" 2>&1 || rc=1
tap "$tapfile" $rc "harness: the guest runs a plan and reports back"
expect_fail "a failing test in the guest fails the run" '1 passed, 1 failed' \
	awk -f "$VMTEST_DIR/tap-summary.awk" "$tmp/vm/results.tap"
expect_fail "a WARN in the guest kernel fails the run" 'WARNING:.*lkdtm' \
	"$VMTEST_DIR/scan-dmesg.sh" "$tmp/vm/dmesg.txt"
# 60 s: the debug kernel reaches the plan some 15-30 s after QEMU starts
# under TCG; with 30 s the plan's line was sometimes not on the console yet.
expect_fail "a guest that hangs is killed at its time limit" 'did not finish within 60s' \
	"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/harness-hang.sh" "$tmp/hang" 60
rc=0
grep -q 'hanging on purpose' "$tmp/out" || rc=1
tap "$tapfile" $rc "harness: a hung guest's last console lines are shown"
exit 0
