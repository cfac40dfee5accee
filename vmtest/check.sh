#!/usr/bin/env bash
# Run the whole suite (harness self-tests, then the VM suite) and print 'N passed, N failed'.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

run=$CACHE/runs/check
rm -rf "$run"
mkdir -p "$run"
host=$run/host.tap
: > "$host"

# The harness's own tests and the five boots of their own (below) read the
# repository, the staged kernel, modules and selftests, and the host's
# packages (the guest's root is the host's /): their results are reused
# until one of those changes, like those of the packaging and send checks.
stage_inputs() {
	(cd "$STAGE" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
	dpkg-query -W -f='${Package} ${Version}\n' 2>&1 || true
}
reuse_passed harness stage_inputs "$host" "$VMTEST_DIR/selftest-harness.sh" "$host"
"$VMTEST_DIR/check-series.sh" --quick "$host"
# The packaging and send checks read only the repository, Debian's base
# package and index, the base tree and the tools below: their results are
# reused until one of those changes (make packaging-check and make
# send-prep always run).
# versions PKG...: the installed version of each Debian package.
versions() { dpkg-query -W -f='${Package} ${Version}\n' "$@" 2>&1 || true; }
packaging_inputs() {
	cat "$CACHE/base-id" 2>/dev/null || true
	ls -lR --time-style=+%s "$CACHE/pkg-apt/apt/lists" "$CACHE/dl" "$CACHE/pkg-dl" 2>/dev/null || true
	versions "${PACKAGING_DEBS[@]}"
}
send_inputs() {
	cat "$CACHE/base-id" 2>/dev/null || true
	git -C "$TREE" rev-parse 'vmtest-base^{commit}' 2>/dev/null || true
	ls "$CACHE/b4/debs" 2>/dev/null || true
	versions "${SEND_DEBS[@]}"
}
reuse_passed packaging packaging_inputs "$host" "$VMTEST_DIR/check-packaging.sh" "$host"
reuse_passed send send_inputs "$host" "$VMTEST_DIR/check-send.sh" "$host"

rc=0
# The suite takes about 12 minutes of a two-core machine: 30 before the
# guest counts as hung.
VMTEST_PROGRESS=1 "$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/check.sh" "$run/guest" 1800 || rc=$?
tap "$host" $rc "the guest ran the suite to the end"
if [ $rc -eq 0 ]; then
	rc=0
	"$VMTEST_DIR/scan-dmesg.sh" "$run/guest/dmesg.txt" || rc=$?
	tap "$host" $rc "guest dmesg has no WARNING, BUG, lockdep, KASAN or kmemleak report"
fi

# negative_boot PLAN NAME DESCRIPTION PATTERN...: a boot of its own with the
# guest plan PLAN (results in $run/NAME, its plan's lines also in the host's
# TAP as "NAME: ..."), for a report that would fail the main boot's dmesg
# scan or that comes once per boot (lockdep). Its result is ok when the plan
# ran whole and dmesg matches every PATTERN (grep -E).
negative_boot() {
	local plan=$1 name=$2 desc=$3 rc=0 re line
	shift 3
	"$VMTEST_DIR/run-vm.sh" "$VMTEST_DIR/guest/$plan" "$run/$name" || rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) tap "$host" 0 "$name: ${line#ok * }" ;;
		"not ok "*) tap "$host" 1 "$name: ${line#not ok * }" ;;
		esac
	done < <(cat "$run/$name/results.tap" 2>/dev/null)
	for re in "$@"; do
		[ $rc -ne 0 ] || grep -qE -- "$re" "$run/$name/dmesg.txt" || rc=1
	done
	# A report before the expected one taints the kernel, which turns
	# lockdep off: say so rather than leave a bare "not ok".
	if [ $rc -ne 0 ] && grep -q 'Disabling lock debugging' "$run/$name/dmesg.txt" 2>/dev/null; then
		say "$name: an earlier report turned lockdep off; the first one in $run/$name/dmesg.txt:"
		grep -m1 -E 'BUG:|WARNING:|possible .* detected' "$run/$name/dmesg.txt" >&2 || true
	fi
	tap "$host" $rc "$desc"
}

negative_boots() {
	# F9: the annotations are live. A deliberate violation must make lockdep
	# report the signalling section against memory reclaim: in the completion
	# path, and between publication and the hardware start, where the section
	# is the one vb2_buffers_publish_fences() opened.
	negative_boot lockdep-negative.sh lockdep \
		"F9: lockdep reports an allocation inside the fence signalling section" \
		'possible circular locking dependency detected' 'dma_fence_map'
	negative_boot lockdep-negative-publication.sh lockdep-publication \
		"F9: lockdep reports an allocation between publication and the hardware start, in the section publication opened" \
		'possible circular locking dependency detected' \
		'dma_fence_map.*at: vb2_buffers_publish_fences' 'vrt_device_run'

	# The fix in patches/fixes/: its regression test, with v4l2-mem2mem built
	# without the fix, must make KASAN report the use after free that it removes.
	negative_boot fixes-negative.sh unfixed \
		"fixes 0001: without the fix, KASAN reports v4l2_m2m_job_finish() using a context its releaser freed" \
		'BUG: KASAN: slab-use-after-free in __v4l2_m2m_try_queue'

	# The rockchip-rga fix in patches/fixes/ likewise, with rockchip-rga built
	# from the base sources: closing its video node after an unbind.
	negative_boot fixes-negative-rga.sh unfixed-rga \
		"fixes 0002: without the fix, KASAN reports the release of rga's video node using the driver data that remove() freed" \
		'BUG: KASAN: slab-use-after-free in v4l2_release' 'devm_kmalloc'

	# hantro's AV1 fix likewise, with the negative hantro-vpu (built without it):
	# a job whose run op failed is finished a second time, which warns.
	negative_boot fixes-negative-av1.sh unfixed-av1 \
		"fixes 0004: without the fix, hantro finishes a job whose AV1 run op failed twice (the second time warns)" \
		'WARNING: .* at hantro_job_finish_no_pm'
}
reuse_passed negative-boots stage_inputs "$host" negative_boots

echo "results: $run"
awk -f "$VMTEST_DIR/tap-summary.awk" "$host" "$run"/guest/*.tap
