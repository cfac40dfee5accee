#!/usr/bin/env bash
# Static checks of the series, patch by patch: the fixes it depends on
# (patches/sw_sync/, patches/fixes/) first, then the series.  Patch k, applied with git am
# on top of patches 1..k-1 on vmtest-base, must
#   - apply,
#   - pass scripts/checkpatch.pl --strict with no error, warning or check,
#   - add no kernel-doc -Wall warning to a .c/.h file it touches (warnings
#     the file already had before the patch are not its own),
#   - add no sparse warning (Debian sid's sparse, C=2 on x86_64) to the .c
#     files of the series: each patch is compared with the state before it
#     (a file whose object the patch's build did not recompile keeps its
#     report: nothing sparse reads has changed),
#   - add no coccinelle report (Debian sid's spatch, the semantic patches of
#     scripts/coccinelle in report mode with the options scripts/coccicheck
#     gives them, each once on the .c files the patch touches) to those files,
#   - build vmlinux and modules for x86_64 (x86_64-series.config: every
#     hantro variant and rockchip-rga via COMPILE_TEST, lockdep) and arm64
#     (arm64-series.config: RK3399 as defconfig builds it), with no warning,
#     W=1 included, from videobuf2, verisilicon (hantro), rockchip/rga, rockchip/rkvdec or a
#     file the series touches.
# One build per patch and architecture is what makes the series bisectable.
#
# usage: check-series.sh [--quick] [TAP-FILE]
#   With TAP-FILE: append one TAP line per check to it; exit 0 once the
#   checks ran, whatever their result (like selftest-harness.sh).
#   Without: write $CACHE/runs/series/series.tap, print the summary and exit
#   1 when a check failed (make series-check).
#   --quick (make check): only what needs no build, per patch: git am,
#   checkpatch, the trailers and kernel-doc. The builds, sparse and
#   coccinelle, cold more than 20 minutes of a two-core machine, are
#   make series-check's (which .ci/run runs too).
#
# The work happens in $CACHE/series-tree, a clone of $CACHE/tree sharing its
# objects (nothing is ever checked out in $CACHE/tree), reset to vmtest-base
# at each run; the builds are $CACHE/build-series-{x86_64,arm64}, each one
# build with W=1 for the whole tree (its warnings outside the series'
# directories and files are not counted), incremental from patch to patch
# and from run to run.  When the patches, the base, the
# fragments, the compilers and these scripts are what the last fully passing
# run checked, its TAP lines are given again without rebuilding.
set -eEuo pipefail
. "$(dirname "$0")/lib.sh"
trap 'die "check-series.sh: line $LINENO failed: $BASH_COMMAND"' ERR

quick=
if [ "${1:-}" = --quick ]; then
	quick=1
	shift
fi
[ $# -le 1 ] || die "usage: check-series.sh [--quick] [TAP-FILE]"
mkdir -p "$CACHE"
# Not lock_cache: check.sh holds that lock while it runs this script.
exec 8>"$CACHE/.series-lock"
if ! flock -n 8; then
	say "waiting for the other check-series.sh run on $CACHE to finish"
	flock 8
fi

if [ $# -eq 1 ]; then
	tapfile=$1
else
	tapfile=$CACHE/runs/series/series.tap
	mkdir -p "$(dirname "$tapfile")"
	: > "$tapfile"
fi

st=$CACHE/series-tree
logs=$CACHE/logs/series
passcache=$CACHE/series-check${quick:+-quick}
# Where a W=1 warning counts (the files the series touches count too).
w1dirs=(drivers/media/common/videobuf2/ drivers/media/v4l2-core/
	drivers/media/platform/verisilicon/ drivers/media/platform/rockchip/rga/
	drivers/media/platform/rockchip/rkvdec/)
# Every kbuild run on a series build directory, the sparse and coccinelle
# ones included, passes these, so that no object is rebuilt for a change of
# flags: W=1 everywhere, but without the kernel-doc run that W=1 adds to
# each compiled .c file (0.25 s each, a thousand files a state). kernel-doc
# reads only the file it is given, so only a file the patch changes can
# gain a warning: check_kerneldoc runs it, -Wall, on those.
wflags=(W=1 cmd_checkdoc=)
# Build directories of an earlier version of this script (a W=1 pass over
# the directories above, apart): no longer used.
rm -rf "$CACHE/build-series-x86_64-w1" "$CACHE/build-series-arm64-w1"
started=$SECONDS

git -C "$TREE" rev-parse -q --verify 'vmtest-base^{commit}' >/dev/null ||
	die "no base kernel in $TREE: run 'make tree' first"
if [ -z "$quick" ]; then
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		die "aarch64-linux-gnu-gcc is missing: run 'make deps' (package gcc-aarch64-linux-gnu)"
	sparse=$("$VMTEST_DIR/fetch-sparse.sh")
	spatch=$("$VMTEST_DIR/fetch-cocci.sh")
fi

# Check a snapshot of the series, so the cache key is that of what was checked.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/patches/sw_sync" "$tmp/patches/fixes" "$tmp/patches/rkvdec" "$tmp/patches/vim2m"
mapfile -t patches < <(series_patches)
[ ${#patches[@]} -gt 0 ] || die "no patch in $PATCHES"
for p in "${patches[@]}"; do
	cp "$p" "$tmp/patches/${p#"$PATCHES"/}"
done
mapfile -t patches < <(PATCHES=$tmp/patches series_patches)

key=$({
	git -C "$TREE" rev-parse 'vmtest-base^{commit}'
	cat "$CACHE/base-id" 2>/dev/null || true
	PATCHES=$tmp/patches series_digest
	cat "$VMTEST_DIR/check-series.sh" "$VMTEST_DIR/lib.sh" "$VMTEST_DIR/apply-series.sh"
	if [ -n "$quick" ]; then
		echo quick
	else
		cat "$VMTEST_DIR/x86_64-series.config" "$VMTEST_DIR/arm64-series.config"
		gcc --version | head -n 1
		aarch64-linux-gnu-gcc --version | head -n 1
		"$sparse" --version
		"$spatch" --version 2>&1 | head -n 1
		cat "$VMTEST_DIR/fetch-cocci.sh" "$VMTEST_DIR/coccicheck-batch" "$VMTEST_DIR/cocci-collect"
	fi
} | sha256sum | cut -d' ' -f1)

# finish ARGS: the end; without a TAP-FILE argument, the summary decides.
finish() {
	if [ $# -eq 0 ]; then
		awk -f "$VMTEST_DIR/tap-summary.awk" "$tapfile" || exit 1
	fi
	exit 0
}

passed_replay "$passcache" "$key" "$tapfile" \
	"series, base, config fragments, compilers and scripts unchanged" && finish "$@"
rm -f "$passcache/key"

git_st() { cache_git "$st" "$@"; }
clone_tree() {
	rm -rf "$st"
	git clone -q --shared --no-checkout "$TREE" "$st" 9>&-
}
to_base() {
	git_st fetch -q --no-tags "$TREE" '+refs/tags/vmtest-base:refs/tags/vmtest-base' &&
		"$VMTEST_DIR/apply-series.sh" "$st" vmtest-base
}
if [ ! -d "$st/.git" ]; then
	say "cloning $TREE to $st${quick:-" (first run: the builds are cold, ~8 min each)"}"
	clone_tree
fi
if ! to_base; then
	# The base was re-imported and the objects $st was at are gone, say.
	say "$st cannot be reset to vmtest-base: cloning it again"
	clone_tree
	to_base || die "cannot check out vmtest-base in $st"
fi

rm -rf "$logs"
mkdir -p "$logs"
passed=()
failed=0
# check RC DESCRIPTION: one TAP line.
check() {
	tap "$tapfile" "$1" "$2"
	if [ "$1" -eq 0 ]; then
		passed+=("$2")
	else
		failed=$((failed + 1))
	fi
}
# Show stdin as TAP diagnostics (stdout, not the TAP file), at most N lines.
diag() { awk -v n="${1:-40}" 'NR <= n { print "#   " $0 }'; }
# The error lines of build log $1 as diagnostics, and where the log is.
build_errors() {
	awk '/error:|ERROR:/ && n++ < 30 { print "#   " $0 } END { exit n == 0 }' "$1" ||
		tail -n 20 "$1" | diag
	echo "#   (whole log: $1)"
}

# Normalise kernel-doc or compiler output: no line numbers after a file name.
nolines() { sed -E 's/(\.[ch]):[0-9]+(:[0-9]+)?/\1/g'; }

# The base is a release tarball imported as one commit: checkpatch cannot look
# up the upstream commits that Fixes: tags name, so that one check is off.
# The ids and subjects were checked against upstream commits that cite them.
# The stored patches carry no Signed-off-by: no person has given one. As
# Documentation/process/coding-assistants.rst asks, they carry an Assisted-by
# trailer instead, and the sender adds their own Signed-off-by (send-prep.sh,
# whose rehearsal runs checkpatch on the result with no check off but the
# first). So the missing Signed-off-by is the one complaint allowed here.
check_checkpatch() {
	local p=$1 id=$2 log=$logs/$2-checkpatch.log rc=0
	(cd "$st" && scripts/checkpatch.pl --strict \
		--ignore UNKNOWN_COMMIT_ID,MISSING_SIGN_OFF "$p") >"$log" 2>&1 || rc=1
	grep -qE '^(ERROR|WARNING|CHECK):' "$log" && rc=1
	[ $rc -eq 0 ] || diag 60 <"$log"
	check $rc "series $id: checkpatch.pl --strict finds no error, warning or check but the missing Signed-off-by"
	rc=0
	if grep -q '^Signed-off-by:' "$p"; then
		echo "#   $(basename "$p") carries a Signed-off-by: only its sender gives one (send-prep.sh)"
		rc=1
	fi
	grep -q '^Assisted-by: LLM' "$p" ||
		{ echo "#   $(basename "$p") carries no Assisted-by: LLM trailer"; rc=1; }
	check $rc "series $id: no Signed-off-by in the stored patch, an Assisted-by trailer (coding-assistants.rst)"
}

# kernel-doc -Wall on each .c/.h file the patch touches, before and after it;
# a warning (line numbers aside) that the file did not have before is new.
check_kerneldoc() {
	local id=$1 dir=$tmp/kdoc-$1 f rc=0
	local -a files
	mapfile -t files < <(git_st diff --name-only --diff-filter=d HEAD~1 HEAD -- '*.c' '*.h')
	mkdir -p "$dir/before"
	: > "$dir/before.out"
	: > "$dir/after.out"
	for f in "${files[@]}"; do
		if git_st cat-file -e "HEAD~1:$f" 2>/dev/null; then
			mkdir -p "$dir/before/$(dirname "$f")"
			git_st show "HEAD~1:$f" >"$dir/before/$f"
			(cd "$dir/before" && "$st/scripts/kernel-doc" -none -Wall "$f") >>"$dir/before.out" 2>&1 ||
				{ rc=1; echo "kernel-doc failed on $f before $id"; }
		fi
		(cd "$st" && scripts/kernel-doc -none -Wall "$f") >>"$dir/after.out" 2>&1 ||
			{ rc=1; echo "kernel-doc failed on $f"; }
	done >"$dir/errors"
	comm -13 <(nolines <"$dir/before.out" | sort) <(nolines <"$dir/after.out" | sort) >"$dir/new"
	cp "$dir/after.out" "$logs/$id-kernel-doc.log"
	if [ -s "$dir/new" ] || [ $rc -ne 0 ]; then
		rc=1
		cat "$dir/errors"
		# The new warnings as kernel-doc printed them, with their line numbers.
		awk 'NR == FNR { new[$0]; next }
		     { k = $0; gsub(/\.c:[0-9]+/, ".c", k); gsub(/\.h:[0-9]+/, ".h", k) }
		     k in new && !seen[$0]++' "$dir/new" "$dir/after.out" | diag 60
	fi
	check $rc "series $id: kernel-doc -Wall finds no new warning in the ${#files[@]} .c/.h file(s) it touches"
}

# The warning lines of build logs "$@" that are ours: in a W=1 directory or in
# a file the series touches so far.
our_warnings() {
	local re
	re=$({ printf '%s\n' "${w1dirs[@]}"; git_st diff --name-only vmtest-base HEAD; } |
		sed 's/[].*^$+?(){}|\[]/\\&/g' | paste -sd'|')
	grep -ihsE 'warning:' "$@" | sed "s|$st/||g" |
		grep -E "(^|[[:space:]\"'(])($re)" | awk '!seen[$0]++' || true
}

check_build() {
	local arch=$1 id=$2 build=$CACHE/build-series-$1
	local frag rc=0 t0=$SECONDS d
	local log=$logs/$2-$1.log
	local -a margs=(-j"$JOBS")
	case $arch in
	x86_64) frag=$VMTEST_DIR/x86_64-series.config; margs+=(ARCH=x86_64) ;;
	arm64) frag=$VMTEST_DIR/arm64-series.config; margs+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) ;;
	esac
	kmake() { make -C "$st" O="$build" "${margs[@]}" "$@"; }
	say "$id: building $arch (log: $log)"
	touch "$tmp/build-start"
	if ! (kconfig_from_fragment "$st" "$build" "$frag" "$logs/config-$arch.log" "${margs[@]}"); then
		rc=1
		echo "#   configuring failed: $logs/config-$arch.log"
	elif ! kmake "${wflags[@]}" vmlinux modules >"$log" 2>&1; then
		rc=1
		build_errors "$log"
	elif ! config_has_fragment "$build/.config" "$frag" 2>&1 | diag; then
		rc=1
		echo "#   $id changes Kconfig so that the lines of $(basename "$frag") above no longer hold"
	else
		# The first state compiles everything with W=1; a later one, what
		# the patch changed, whose warnings are then all in its log.
		for d in "${w1dirs[@]}"; do
			if ! grep -qs -- -DKBUILD_EXTRA_WARN1 "$build/$d".*.o.cmd; then
				rc=1
				echo "#   nothing in $d was compiled with W=1: is it enabled in $(basename "$frag")?"
			fi
		done
		# Every .c file the patch changes must have been compiled
		# again, or its warnings went unseen.
		while read -r f; do
			[ "$build/${f%.c}.o" -nt "$tmp/build-start" ] && continue
			rc=1
			echo "#   $f, which $id changes, was not compiled: is it enabled in $(basename "$frag")?"
		done < <(git_st diff --name-only --diff-filter=d HEAD~1 HEAD -- '*.c')
	fi
	if [ -f "$log" ]; then
		our_warnings "$log" >"$tmp/warnings"
		if [ -s "$tmp/warnings" ]; then
			rc=1
			diag 60 <"$tmp/warnings"
		fi
	fi
	say "$id: $arch done in $((SECONDS - t0)) s"
	last_build_rc=$rc
	check $rc "series $id: $arch builds (vmlinux, modules) with no warning, W=1 included, in videobuf2, v4l2-core, verisilicon, rockchip/rga, rockchip/rkvdec or the files of the series"
}

# The .c files under drivers/ that the series touches: sparse looks at these.
mapfile -t sparse_files < <(sed -n 's|^+++ b/\(drivers/.*\.c\)$|\1|p' "${patches[@]}" | sort -u)
# sparse_run OUT [FILE...]: sparse (C=2, x86_64) on those FILEs of
# sparse_files that exist now, through vmtest/sparse-one, which keeps
# each file's report in $tmp/sparse/; then the warnings of every report of
# a file of sparse_files that exists now, without line numbers, sorted, in
# OUT.
sparse_run() {
	local out=$1 f build=$CACHE/build-series-x86_64 log=$logs/sparse.log
	local -a objs=()
	shift
	mkdir -p "$tmp/sparse"
	for f; do
		rm -f "$tmp/sparse/${f//\//%}"
		[ -f "$st/$f" ] && objs+=("${f%.c}.o")
	done
	: >"$log"
	if [ ${#objs[@]} -gt 0 ]; then
		kconfig_from_fragment "$st" "$build" "$VMTEST_DIR/x86_64-series.config" \
			"$logs/config-x86_64.log" ARCH=x86_64 -j"$JOBS"
		SPARSE=$sparse SPARSE_OUT=$tmp/sparse SPARSE_SRCTREE=$st \
			make -C "$st" O="$build" ARCH=x86_64 -j"$JOBS" "${wflags[@]}" C=2 \
			CHECK="$VMTEST_DIR/sparse-one" "${objs[@]}" >"$log" 2>&1 ||
			{ tail -n 20 "$log" | diag; return 1; }
	fi
	for f in "${sparse_files[@]}"; do
		[ -f "$st/$f" ] || continue
		[ -f "$tmp/sparse/${f//\//%}" ] ||
			{ echo "sparse left no report for $f" | diag; return 1; }
		cat "$tmp/sparse/${f//\//%}"
	done | { grep -E ': (warning|error):' || true; } | sed "s|$st/||g" | nolines | sort -u >"$out"
}
# check_sparse ID: sparse on the files of sparse_files whose object changed
# since $tmp/x86_64-stamp (check_build x86_64 of the patch rebuilt it), or
# that have no report yet; on all of them when that build failed.
check_sparse() {
	local id=$1 rc=0 f
	local -a redo=()
	for f in "${sparse_files[@]}"; do
		if [ "$last_build_rc" -ne 0 ] || [ ! -f "$tmp/sparse/${f//\//%}" ] ||
		   [ "$CACHE/build-series-x86_64/${f%.c}.o" -nt "$tmp/x86_64-stamp" ]; then
			redo+=("$f")
		fi
	done
	say "$id: sparse on the ${#redo[@]} file(s) of the series that it rebuilt"
	sparse_run "$tmp/sparse-after" "${redo[@]}" || rc=1
	if [ $rc -eq 0 ]; then
		comm -13 "$tmp/sparse-before" "$tmp/sparse-after" >"$tmp/sparse-new"
		[ -s "$tmp/sparse-new" ] && { rc=1; diag 40 <"$tmp/sparse-new"; }
		cp "$tmp/sparse-after" "$tmp/sparse-before"
	fi
	check $rc "series $id: sparse (C=2, x86_64) finds no new warning in the .c files of the series"
}

# coccinelle, as the kernel documents it for single files (make C=1
# CHECK=scripts/coccicheck MODE=report dir/file.o), with the options
# scripts/coccicheck gives spatch, but through vmtest/coccicheck-batch: every
# semantic patch of scripts/coccinelle with a report mode but the two with
# OCaml rules (sid's spatch cannot compile them without ocamlopt), each run
# once on all the files to check, each file processed alone. kbuild runs
# vmtest/cocci-collect on the files first as its checker (C=2: without
# compiling what is up to date), which notes the include options spatch
# needs. The reports of each .c file of the series
# are kept in $tmp/cocci/, from the base on; a patch is checked on the files
# it touches, against what they had before it. A file's reports are cached
# by its content, the headers the series changed so far and the tools.
[ -n "$quick" ] || cocci_tools=$({ "$spatch" --version 2>&1 | head -n 1
	cat "$VMTEST_DIR/coccicheck-batch" "$VMTEST_DIR/cocci-collect" "$VMTEST_DIR/fetch-cocci.sh"
	git -C "$TREE" rev-parse 'vmtest-base^{tree}'; } | sha256sum | cut -d' ' -f1)
# cocci_run FILE...: refresh $tmp/cocci/FILE for each FILE that exists.
cocci_run() {
	local f k build=$CACHE/build-series-x86_64 log=$logs/cocci.log store=$CACHE/cocci-reports
	local -a objs=() todo=() abs=()
	mkdir -p "$store"
	for f; do
		[ -f "$st/$f" ] || continue
		k=$({ cat "$st/$f"; git_st diff vmtest-base HEAD -- include/; echo "$cocci_tools"; } |
			sha256sum | cut -d' ' -f1)
		mkdir -p "$tmp/cocci/$(dirname "$f")"
		if [ -f "$store/$k" ]; then
			cp "$store/$k" "$tmp/cocci/$f"
		else
			todo+=("$f:$k")
			objs+=("${f%.c}.o")
			abs+=("$st/$f")
		fi
	done
	[ ${#objs[@]} -gt 0 ] || return 0
	kconfig_from_fragment "$st" "$build" "$VMTEST_DIR/x86_64-series.config" \
		"$logs/config-x86_64.log" ARCH=x86_64 -j"$JOBS"
	rm -f "$tmp/cocci-files" "$tmp/cocci-files.inc"
	COCCI_COLLECT=$tmp/cocci-files make -C "$st" O="$build" ARCH=x86_64 -j"$JOBS" "${wflags[@]}" C=2 \
		CHECK="$VMTEST_DIR/cocci-collect" "${objs[@]}" >"$log" 2>&1 ||
		{ tail -n 20 "$log" | diag; return 1; }
	if [ ! -s "$tmp/cocci-files.inc" ]; then
		echo "kbuild checked none of ${objs[*]}: no include options for spatch" | diag
		return 1
	fi
	SPATCH=$spatch "$VMTEST_DIR/coccicheck-batch" "$st" "$build" "$tmp/cocci-files.inc" \
		"${abs[@]}" >>"$log" 2>&1 || { tail -n 20 "$log" | diag; return 1; }
	for f in "${todo[@]}"; do
		k=${f##*:}
		f=${f%:*}
		{ grep -E "^($st/)?$f:[0-9]+:" "$log" || true; } | sed "s|$st/||g" |
			sed -E 's/(\.c):[0-9]+(:[0-9]+(-[0-9]+)?)?/\1/' | sort -u >"$tmp/cocci/$f"
		cp "$tmp/cocci/$f" "$store/$k"
	done
}
check_cocci() {
	local id=$1 f rc=0
	local -a files
	mapfile -t files < <(git_st diff --name-only --diff-filter=d HEAD~1 HEAD -- 'drivers/*.c')
	rm -rf "$tmp/cocci-before"
	for f in "${files[@]}"; do
		mkdir -p "$tmp/cocci-before/$(dirname "$f")"
		cp "$tmp/cocci/$f" "$tmp/cocci-before/$f" 2>/dev/null || : >"$tmp/cocci-before/$f"
	done
	: >"$tmp/cocci-new"
	if cocci_run "${files[@]}"; then
		for f in "${files[@]}"; do
			comm -13 "$tmp/cocci-before/$f" "$tmp/cocci/$f" >>"$tmp/cocci-new"
		done
		[ -s "$tmp/cocci-new" ] && { rc=1; diag 40 <"$tmp/cocci-new"; }
	else
		rc=1
	fi
	check $rc "series $id: coccinelle (scripts/coccinelle in report mode, with the options of scripts/coccicheck) finds nothing new in the ${#files[@]} .c file(s) it touches"
}
if [ -z "$quick" ]; then
	say "sparse on the base: ${#sparse_files[@]} .c file(s) of the series"
	sparse_run "$tmp/sparse-before" "${sparse_files[@]}" || die "sparse does not run on the base (log: $logs/sparse.log)"
	say "coccinelle on the base: the same files"
	cocci_run "${sparse_files[@]}" || die "coccinelle does not run on the base (log: $logs/cocci.log)"
fi

for p in "${patches[@]}"; do
	# 0001 for the series, fixes-0001 for the fixes it depends on,
	# sw_sync-0001 for the sw_sync fix, rkvdec-0001 and vim2m-0001 for the
	# follow-ups
	id=$(basename "$p")
	id=${id%%-*}
	case $(basename "$(dirname "$p")") in
	sw_sync | fixes | rkvdec | vim2m) id=$(basename "$(dirname "$p")")-$id ;;
	esac
	rc=0
	"$VMTEST_DIR/apply-series.sh" "$st" HEAD "$p" 2>"$logs/$id-apply.log" || rc=1
	[ $rc -eq 0 ] || diag <"$logs/$id-apply.log"
	check $rc "series $id: applies with git am on top of vmtest-base and the patches before it"
	if [ $rc -ne 0 ]; then
		say "$id does not apply: the patches after it are not checked"
		break
	fi
	check_checkpatch "$p" "$id"
	check_kerneldoc "$id"
	[ -z "$quick" ] || continue
	touch "$tmp/x86_64-stamp"
	check_build x86_64 "$id"
	check_sparse "$id"
	check_cocci "$id"
	check_build arm64 "$id"
done

[ $failed -ne 0 ] || printf '%s\n' "${passed[@]}" | passed_store "$passcache" "$key"
say "series checks${quick:+ without the builds}: ${#passed[@]} passed, $failed failed in $((SECONDS - started)) s (logs: $logs)"
[ -z "$quick" ] || say "the builds (x86_64, arm64, W=1), sparse and coccinelle of each patch: make series-check"
finish "$@"
