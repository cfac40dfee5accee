# shellcheck shell=bash
# Common settings and helpers for the vmtest scripts; sourced, never run.

VMTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$VMTEST_DIR")
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vb2-resv}
PATCHES=${PATCHES:-$REPO_DIR/patches}
BASE_VERSION=$(cat "$VMTEST_DIR/base-version")
TREE=$CACHE/tree
BUILD=$CACHE/build-x86_64
STAGE=$CACHE/stage
JOBS=${JOBS:-$(nproc)}

say() { printf 'vmtest: %s\n' "$*" >&2; }
die() { printf 'vmtest: error: %s\n' "$*" >&2; exit 1; }

# Kernel "VERSION.PATCHLEVEL.SUBLEVEL" of the source tree in $1.
tree_kernelversion() {
	awk -F' *= *' '/^VERSION/ {v=$2} /^PATCHLEVEL/ {p=$2}
		/^SUBLEVEL/ {s=$2; print v "." p "." s; exit}' "$1/Makefile"
}

# The patches of the series in order, without the cover letter.
series_patches() {
	find "$PATCHES" -maxdepth 1 -name '*.patch' ! -name '0000-*' 2>/dev/null | sort
}

# tap FILE RC DESCRIPTION: append a TAP line to FILE, ok when RC is 0.
tap() {
	local n
	n=$(($(grep -cE '^(not )?ok ' "$1" 2>/dev/null || true) + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n $3" | tee -a "$1"
	else
		echo "not ok $n $3" | tee -a "$1"
	fi
}
