#!/usr/bin/env bash
# Make $CACHE/tree: the base kernel (KSRC= or Debian's) as a git tree with patches/ applied.
#
# The base is imported once and re-imported only when it changes; the series
# is re-applied only when a patch or the base changed, so a warm run touches no
# file and the kernel build that follows has nothing to redo.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

if [ -n "${KSRC:-}" ]; then
	[ -d "$KSRC" ] || die "KSRC=$KSRC does not exist: point it at the top of a Linux $BASE_SERIES.y source tree"
	base_src=$(cd "$KSRC" && pwd)
	for f in Makefile Kconfig scripts/kconfig/merge_config.sh drivers/media/common/videobuf2/videobuf2-core.c; do
		[ -f "$base_src/$f" ] ||
			die "KSRC=$KSRC is not a kernel source tree ($f is missing): point it at the top of a Linux $BASE_SERIES.y tree"
	done
	base_id="ksrc:$base_src"
else
	base_src=$("$VMTEST_DIR/fetch-kernel.sh")
	base_id="debian:$(basename "$(dirname "$base_src")")"
fi

kver=$(tree_kernelversion "$base_src")
case "$kver" in
"$BASE_SERIES".*) ;;
*) die "kernel $kver in $base_src is not supported: the series targets $BASE_SERIES.y (leave KSRC unset to fetch Debian's $SRC_PKG)" ;;
esac

stamp=$CACHE/base-imported
git_t() { cache_git "$TREE" "$@"; }

need_import=
if [ ! -d "$TREE/.git" ] || [ "$(cat "$CACHE/base-id" 2>/dev/null)" != "$base_id" ]; then
	need_import=1
elif [ -n "${KSRC:-}" ] &&
     [ -n "$(find "$base_src" -path "$base_src/.git" -prune -o -newer "$stamp" -print -quit)" ]; then
	need_import=1
fi

if [ -n "$need_import" ]; then
	say "importing $kver from $base_src into $TREE (first run: a few minutes)"
	mkdir -p "$TREE"
	[ -d "$TREE/.git" ] || git -C "$TREE" init -q 9>&-
	git_t checkout -q -f --detach vmtest-base 2>/dev/null || true
	touch "$stamp.new"
	rsync -a --delete --exclude=/.git "$base_src/" "$TREE/"
	# An out-of-tree build needs a clean source tree.
	if [ -e "$TREE/.config" ] || [ -d "$TREE/include/config" ]; then
		make -s -C "$TREE" mrproper
	fi
	# Debian's tree ignores everything at its top level: add with -f.
	git_t add -f -A
	git_t commit -q --allow-empty -m "base: Linux $kver ($base_id)"
	git_t tag -f vmtest-base >/dev/null
	echo "$base_id" > "$CACHE/base-id"
	mv "$stamp.new" "$stamp"
	rm -f "$CACHE/series-key"
fi

mapfile -t patches < <(series_patches)
key="$(git_t rev-parse vmtest-base) $(cat "${patches[@]}" /dev/null | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$CACHE/series-key" 2>/dev/null)" != "$key" ] ||
   [ -n "$(git_t status --porcelain --untracked-files=no)" ]; then
	say "applying ${#patches[@]} patch(es) from $PATCHES to $kver"
	rm -f "$CACHE/series-key"
	"$VMTEST_DIR/apply-series.sh" "$TREE" vmtest-base "${patches[@]}"
	echo "$key" > "$CACHE/series-key"
fi

# The selftests build inside the tree's kselftest directory (they include ../lib.mk).
for d in "$REPO_DIR"/selftests/*/; do
	# By content, stamped now: a source edited while an earlier build ran
	# is older than that build's binary, and make would keep the binary.
	rsync -rlpD --checksum --delete "$d" "$TREE/tools/testing/selftests/$(basename "$d")/"
done
say "tree ready: $kver $base_id + ${#patches[@]} patch(es)"
