#!/usr/bin/env bash
# Prepare patches/sw_sync/, patches/fixes/, patches/ and its follow-ups for sending with b4, as their sender.
#
# usage: send-prep.sh [OUTDIR]     (make send-prep [SEND_TREE=...] [SEND_BASE=...])
#
# In SEND_TREE, a kernel git tree of the sender's (default: a scratch clone of
# the harness's tree, a rehearsal), it makes five b4 branches, the first two
# on SEND_BASE (default: the tag v<base version> if the tree has it, else
# vmtest-base):
#   b4/vb2-sw-sync-fix        patches/sw_sync/, for the dma-buf maintainers
#   b4/vb2-mem2mem-fixes      patches/fixes/, its cover letter
#   b4/vb2-producer-fences    patches/ on top of it, its cover letter, v4
#   b4/vb2-rkvdec-fences      patches/rkvdec/ on top of that, its cover letter
#   b4/vb2-vim2m-fences       patches/vim2m/ on top of the series too
# The stored patches carry no Signed-off-by, only the Assisted-by trailer of
# Documentation/process/coding-assistants.rst: a Signed-off-by certifies the
# Developer's Certificate of Origin, which only a person can. The sender
# confirms that they reviewed every patch and can answer for it
# (SEND_REVIEWED=yes, or "yes" at the prompt); only then do the patches get
# the sender's identity (git config user.name and user.email of SEND_TREE) as
# author, in place of the repository's placeholder, which is refused, and
# the sender's Signed-off-by after the Assisted-by trailer. Then, for each
# branch, b4 fills
# To/Cc from scripts/get_maintainer.pl (b4 prep --auto-to-cc), runs its checks
# (b4 prep --check: checkpatch) and writes the messages it would send, with
# base-commit and change-id, to OUTDIR/<branch>/ (b4 send -o, nothing sent).
#
# b4 is Debian sid's 0.16, unpacked into the cache with the sid modules it
# needs; bookworm's python3-pygit2 is older than b4 expects, which
# vmtest/b4-shim/sitecustomize.py bridges (one enum).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -le 1 ] || die "usage: send-prep.sh [OUTDIR]"
out=${1:-$CACHE/send}
series_version=4

# --- b4
need_debs "${SEND_DEBS[@]}"
b4root=$CACHE/b4/root
[ -f "$b4root/usr/bin/b4" ] || rm -rf "$b4root"
sid_unpack b4 b4 python3-ezgb python3-liblore python3-patatt
b4() {
	PYTHONPATH=$VMTEST_DIR/b4-shim:$b4root/usr/lib/python3/dist-packages \
		/usr/bin/python3 "$b4root/usr/bin/b4" "$@"
}
b4 --version >/dev/null || die "b4 does not run: see the error above"

# --- the tree
if [ -n "${SEND_TREE:-}" ]; then
	tree=$(cd "$SEND_TREE" 2>/dev/null && pwd) ||
		die "SEND_TREE=$SEND_TREE does not exist: point it at your kernel git tree"
	git -C "$tree" rev-parse --git-dir >/dev/null 2>&1 ||
		die "SEND_TREE=$SEND_TREE is not a git tree"
	[ -f "$tree/scripts/get_maintainer.pl" ] && [ -f "$tree/MAINTAINERS" ] ||
		die "SEND_TREE=$SEND_TREE is not a kernel tree (no scripts/get_maintainer.pl or MAINTAINERS)"
	[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
		die "SEND_TREE=$SEND_TREE has uncommitted changes: commit or stash them first"
	rehearsal=
else
	git -C "$TREE" rev-parse -q --verify 'vmtest-base^{commit}' >/dev/null ||
		die "no base kernel in $TREE: run 'make tree' first, or set SEND_TREE"
	tree=$CACHE/send-tree
	rm -rf "$tree"
	git clone -q --shared --no-checkout "$TREE" "$tree" 9>&-
	git -C "$tree" fetch -q --no-tags "$TREE" '+refs/tags/vmtest-base:refs/tags/vmtest-base'
	rehearsal=1
fi
git_s() { git -C "$tree" "$@"; }

name=$(git_s config user.name || true)
email=$(git_s config user.email || true)
if [ -n "$rehearsal" ] && [ -n "${SEND_IDENTITY:-}" ]; then
	name=${SEND_IDENTITY% <*}
	email=${SEND_IDENTITY##*<}
	email=${email%>}
	git_s config user.name "$name"
	git_s config user.email "$email"
fi
placeholder='vb2-resv dev <dev@vb2-resv.invalid>'
if [ -z "$name" ] || [ -z "$email" ]; then
	die "no sender identity: set git config user.name and user.email (in ${SEND_TREE:-your global git config}; SEND_IDENTITY='Name <email>' for the rehearsal)"
fi
case "$email" in
*.invalid | *@vb2-resv.*)
	die "$name <$email> is a placeholder, not a sender: set git config user.name and user.email to yours" ;;
esac
ident="$name <$email>"

# The sender's word, before their Signed-off-by goes on anything.
reviewed=${SEND_REVIEWED:-}
if [ "$reviewed" != yes ] && [ -t 0 ] && [ -z "${CI:-}" ]; then
	cat >&2 <<EOF
Your Signed-off-by certifies the Developer's Certificate of Origin
(Documentation/process/submitting-patches.rst) for every patch in
$PATCHES/fixes, $PATCHES, $PATCHES/rkvdec and $PATCHES/vim2m.
They were written with an AI assistant (their Assisted-by trailer says so;
Documentation/process/coding-assistants.rst): you answer for them on the list.
EOF
	printf 'Have you reviewed every patch, and can you answer for them as %s? [yes/no] ' "$ident" >&2
	read -r reviewed || reviewed=
fi
[ "$reviewed" = yes ] ||
	die "the patches get your Signed-off-by only once you have reviewed them and can answer for them: read them, then run again with SEND_REVIEWED=yes (or answer yes at the prompt)"

base=${SEND_BASE:-}
if [ -z "$base" ]; then
	base=v${BASE_VERSION%-*}
	git_s rev-parse -q --verify "$base^{commit}" >/dev/null || base=vmtest-base
fi
git_s rev-parse -q --verify "$base^{commit}" >/dev/null ||
	die "SEND_BASE=$base is not a commit in $tree: name the tag or commit the series applies to"
note=${rehearsal:+" (a rehearsal: base-commit names the import of the base tarball)"}
say "preparing as $ident in $tree, on $base$note"

# prepare BRANCH BASE REVISION DIR: one b4 branch from the patches in DIR.
prepare() {
	local branch=$1 from=$2 rev=$3 dir=$4 p cover tmp
	tmp=$(mktemp -d)
	# b4 prep starts from a branch
	git_s checkout -q -B "b4-base/$branch" "$from"
	git_s branch -q -D "b4/$branch" 2>/dev/null || true
	(cd "$tree" && b4 prep -n "$branch" -f "$from" >/dev/null) ||
		die "b4 prep -n $branch failed"
	git_s branch -q -D "b4-base/$branch"
	if [ "$rev" -gt 1 ]; then
		(cd "$tree" && b4 prep --force-revision "$rev" >/dev/null) ||
			die "b4 prep --force-revision $rev failed"
	fi
	for p in "$dir"/0[0-9][0-9][0-9]-*.patch; do
		case $p in */0000-*) continue ;; esac
		grep -q '^Assisted-by: ' "$p" ||
			die "$(basename "$p") has no Assisted-by trailer, after which the sender's Signed-off-by goes"
		sed "s|$placeholder|$ident|" "$p" |
			awk -v sob="Signed-off-by: $ident" \
				'{ print } /^Assisted-by: / && !done { print sob; done = 1 }' >"$tmp/p"
		grep -q 'vb2-resv.invalid' "$tmp/p" &&
			die "$(basename "$p") still names the placeholder after substitution"
		git_s am -q "$tmp/p" ||
			{ git_s am --abort || true; die "$(basename "$p") does not apply to $from"; }
	done
	# The cover letter: its subject without the prefix, its text up to the
	# shortlog that git format-patch wrote (b4 writes its own). A subject
	# folded over two lines is unfolded.
	awk '/^Subject: / { sub(/^Subject: \[[^]]*\] /, ""); subj = $0; next }
	     subj != "" && !body && /^ / { subj = subj $0; next }
	     subj != "" && !body && /^$/ { body = 1; print subj; print ""; next }
	     body && /^[^ ].* \([0-9]+\):$/ { exit }
	     body { print }' "$dir/0000-cover-letter.patch" >"$tmp/cover"
	[ -s "$tmp/cover" ] || die "no cover letter text in $dir/0000-cover-letter.patch"
	(cd "$tree" && GIT_EDITOR="cp $tmp/cover" b4 prep --edit-cover >/dev/null) ||
		die "b4 prep --edit-cover failed"
	(cd "$tree" && b4 prep --auto-to-cc) | sed -n 's/^ *+ /    /p'
	(cd "$tree" && b4 prep --check) >"$tmp/check" 2>&1 || true
	sed -e 's/\x1b\[[0-9;]*m//g' "$tmp/check" | sed -n 's/^/    /p' | grep -vE '^    (Checking patches using|---|  /)' || true
	rm -rf "${out:?}/$branch"
	mkdir -p "$out"
	# Written, not sent: no signing, and an SMTP setting so that b4 does not
	# insist on its web endpoint.
	(cd "$tree" && GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=sendemail.smtpserver \
		GIT_CONFIG_VALUE_0=/bin/false b4 send -o "$out/$branch" --no-sign >/dev/null) ||
		die "b4 send -o $out/$branch failed"
	rm -rf "$tmp"
	say "$branch: $(find "$out/$branch" -name '*.eml' | wc -l) message(s) in $out/$branch"
}

prepare vb2-sw-sync-fix "$base" 1 "$PATCHES/sw_sync"
prepare vb2-mem2mem-fixes "$base" 1 "$PATCHES/fixes"
fixes_tip=$(git_s rev-parse HEAD)
prepare vb2-producer-fences "$fixes_tip" "$series_version" "$PATCHES"
series_tip=$(git_s rev-parse HEAD)
prepare vb2-rkvdec-fences "$series_tip" 1 "$PATCHES/rkvdec"
prepare vb2-vim2m-fences "$series_tip" 1 "$PATCHES/vim2m"

cat <<EOF
Before sending, in $tree:
  - read the messages in $out/ (To/Cc, the cover letters, base-commit);
  - b4 prep --check must show no warning: in a tree without the upstream
    history (the rehearsal), checkpatch cannot look up the commit that a
    Fixes: tag names, and says so;
  - the series names the fixes as its prerequisite; its base-commit is the
    fix's commit in your tree until the fix is merged: send the fixes first;
    the rkvdec and vim2m follow-ups name the series likewise: send them
    last;
  - the sw_sync fix goes to the dma-buf maintainers on its own, whenever.
Then send each branch: git checkout b4/vb2-sw-sync-fix && b4 send, and
git checkout b4/vb2-mem2mem-fixes && b4 send (then b4/vb2-producer-fences
b4/vb2-rkvdec-fences and b4/vb2-vim2m-fences), with b4 set up to sign
(patatt) and send.
EOF
