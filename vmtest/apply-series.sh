#!/usr/bin/env bash
# Reset the git tree $1 to ref $2 and apply the patches that follow with git am.
#
# git am applies a patch only where its context matches exactly (no fuzz), so
# a patch that no longer fits the base stops the run here, with the reason.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: apply-series.sh TREE BASE-REF [PATCH...]"
tree=$1 base=$2
shift 2
git_t() { cache_git "$tree" "$@"; }

git_t am --abort >/dev/null 2>&1 || true
git_t checkout -q -f --detach "$base"
for p in "$@"; do
	if ! out=$(git_t am -q --whitespace=error-all "$p" 2>&1); then
		git_t am --abort >/dev/null 2>&1 || true
		git_t checkout -q -f --detach "$base"
		printf '%s\n' "$out" | sed 's/^/    /' >&2
		die "$(basename "$p") does not apply to $(git_t describe --always --tags "$base") with the patches before it: rebase the series onto this base (the tree is left at the base)"
	fi
done
