#!/usr/bin/env bash
# The send command (vmtest/send-prep.sh, make send-prep) rehearsed on the
# harness's tree: one TAP line per check appended to TAP-FILE; exit 0 once
# the checks ran, whatever their result.
#
# usage: check-send.sh TAP-FILE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: check-send.sh TAP-FILE"
tapfile=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
diag() { awk -v n="${1:-30}" 'NR <= n { print "#   " $0 }'; }

# The repository's placeholder is refused, with what to do.
rc=0
if SEND_IDENTITY='vb2-resv dev <dev@vb2-resv.invalid>' "$VMTEST_DIR/send-prep.sh" "$tmp/refused" \
	>"$tmp/refused.log" 2>&1; then
	echo "#   send-prep.sh accepted the placeholder identity"; rc=1
elif ! grep -q 'is a placeholder, not a sender: set git config user.name and user.email' "$tmp/refused.log"; then
	diag <"$tmp/refused.log"; rc=1
fi
tap "$tapfile" $rc "send: the placeholder identity is refused, saying what to set"

# No Signed-off-by without the sender's word that they reviewed the patches.
rc=0
if SEND_IDENTITY='Jane Tester <jane@example.org>' "$VMTEST_DIR/send-prep.sh" "$tmp/unreviewed" \
	</dev/null >"$tmp/unreviewed.log" 2>&1; then
	echo "#   send-prep.sh signed off patches nobody said they reviewed"; rc=1
elif ! grep -q 'only once you have reviewed them and can answer for them' "$tmp/unreviewed.log"; then
	diag <"$tmp/unreviewed.log"; rc=1
fi
[ ! -d "$tmp/unreviewed" ] || { echo "#   it wrote messages all the same"; rc=1; }
tap "$tapfile" $rc "send: without the sender's confirmation that they reviewed the patches, nothing is signed off or written"

# With a real identity: the three series written, as b4 would send them.
rc=0
ident='Jane Tester <jane@example.org>'
if ! SEND_IDENTITY=$ident SEND_REVIEWED=yes "$VMTEST_DIR/send-prep.sh" "$tmp/out" \
	>"$tmp/send.log" 2>&1; then
	tail -n 30 "$tmp/send.log" | diag; rc=1
else
	swsync=("$tmp"/out/vb2-sw-sync-fix/*.eml)
	fixes=("$tmp"/out/vb2-mem2mem-fixes/*.eml)
	series=("$tmp"/out/vb2-producer-fences/*.eml)
	rkvdec=("$tmp"/out/vb2-rkvdec-fences/*.eml)
	vim2m=("$tmp"/out/vb2-vim2m-fences/*.eml)
	want_series=$(($(series_patches | grep -vc -e '/sw_sync/' -e '/fixes/' -e '/rkvdec/' -e '/vim2m/') + 1))
	[ ${#series[@]} -eq "$want_series" ] ||
		{ echo "#   ${#series[@]} messages for the series, wanted $want_series"; rc=1; }
	# Each follow-up: one patch, whose message carries its cover letter.
	for f in rkvdec vim2m; do
		declare -n msgs=$f
		n_f=$(series_patches | grep -c "/$f/")
		want_f=$((n_f > 1 ? n_f + 1 : n_f))
		[ -f "${msgs[0]}" ] && [ ${#msgs[@]} -eq "$want_f" ] ||
			{ echo "#   ${#msgs[@]} messages for the $f follow-up, wanted $want_f"; rc=1; }
		unset -n msgs
	done
	# The sw_sync fix alone, for dma-buf: one message, not the media list.
	[ -f "${swsync[0]}" ] && [ ${#swsync[@]} -eq 1 ] ||
		{ echo "#   ${#swsync[@]} messages for the sw_sync fix, wanted 1"; rc=1; }
	# The fixes: one message a patch, and a cover letter once there are two.
	n_fixes=$(series_patches | grep -c '/fixes/')
	want_fixes=$((n_fixes > 1 ? n_fixes + 1 : n_fixes))
	[ -f "${fixes[0]}" ] || { echo "#   no message for the fixes"; rc=1; }
	[ ! -f "${fixes[0]}" ] || [ ${#fixes[@]} -eq "$want_fixes" ] ||
		{ echo "#   ${#fixes[@]} messages for the fixes, wanted $want_fixes"; rc=1; }
	for m in "${swsync[@]}" "${fixes[@]}" "${series[@]}" "${rkvdec[@]}" "${vim2m[@]}"; do
		[ -f "$m" ] || continue
		n=$(basename "$m")
		grep -q "^From: $ident" "$m" || { echo "#   $n: not from $ident"; rc=1; }
		grep -q 'vb2-resv.invalid' "$m" && { echo "#   $n: names the placeholder"; rc=1; }
		case $m in
		*/vb2-producer-fences/0000-*)
			grep -q '^Subject: \[PATCH v4 0/' "$m" || { echo "#   $n: not the v4 cover letter"; rc=1; } ;;
		*/vb2-mem2mem-fixes/0000-*)
			grep -Eq "^Subject: \\[PATCH 0+/$n_fixes\\]" "$m" ||
				{ echo "#   $n: not the cover letter of the $n_fixes fixes"; rc=1; } ;;
		*) grep -A1 '^Assisted-by: LLM' "$m" | grep -q "^Signed-off-by: $ident" ||
			{ echo "#   $n: no Assisted-by trailer followed by the Signed-off-by of $ident"; rc=1; } ;;
		esac
	done
	for m in "${fixes[0]}" "${series[0]}" "${rkvdec[0]}" "${vim2m[0]}"; do
		[ -f "$m" ] || continue
		n=$(basename "$m")
		grep -q '^base-commit: [0-9a-f]\{40\}$' "$m" || { echo "#   $n: no base-commit"; rc=1; }
		# To may continue on folded lines.
		sed -n '/^To:/,/^[A-Z][a-z-]*: [^ ]/p' "$m" | sed '$d' |
			grep -q 'Mauro Carvalho Chehab <mchehab@kernel.org>' ||
			{ echo "#   $n: not to the media maintainer (get_maintainer.pl)"; rc=1; }
		sed -n '/^To:/,/^[A-Z][a-z-]*: [^ ]/p' "$m" | grep -q 'linux-media@vger.kernel.org' ||
			grep -q '^Cc: .*linux-media@vger.kernel.org' "$m" ||
			{ echo "#   $n: linux-media is not copied"; rc=1; }
	done
	# The sw_sync fix reaches its own subsystem, as get_maintainer.pl
	# names it, with a base-commit, and no media fix touches sw_sync.
	if [ -f "${swsync[0]}" ]; then
		grep -q '^base-commit: [0-9a-f]\{40\}$' "${swsync[0]}" ||
			{ echo "#   ${swsync[0]##*/}: no base-commit"; rc=1; }
		for addr in 'Sumit Semwal <sumit.semwal@linaro.org>' 'dri-devel@lists.freedesktop.org'; do
			# The headers, unfolded: To and Cc lines whole.
			awk '/^$/ { exit } /^[ \t]/ { h = h " " $0; next } { print h; h = $0 } END { print h }' \
				"${swsync[0]}" | grep -E '^(To|Cc):' | grep -F "$addr" >/dev/null ||
				{ echo "#   ${swsync[0]##*/}: $addr is not addressed"; rc=1; }
		done
	fi
	if series_patches | grep -v '/sw_sync/' | xargs grep -l '^+++ b/drivers/dma-buf/sw_sync.c' >/dev/null; then
		echo "#   a patch outside patches/sw_sync/ changes sw_sync: it goes to dma-buf on its own"; rc=1
	fi
	# checkpatch on what would be sent; the tree has no upstream history
	# to look up the commit a Fixes: tag names.
	patches_out=()
	for m in "${swsync[@]}" "${fixes[@]}" "${series[@]}" "${rkvdec[@]}" "${vim2m[@]}"; do
		case $(basename "$m") in 0000-*) ;; *) [ -f "$m" ] && patches_out+=("$m") ;; esac
	done
	if ! (cd "$TREE" && scripts/checkpatch.pl --strict -q --ignore UNKNOWN_COMMIT_ID \
		"${patches_out[@]}") >"$tmp/checkpatch.log" 2>&1; then
		diag <"$tmp/checkpatch.log"; rc=1
	fi
fi
tap "$tapfile" $rc "send: b4 prepares the sw_sync fix on its own for dma-buf, the fixes, the v4 series and the rkvdec and vim2m follow-ups as the sender who reviewed them: From and Signed-off-by theirs after the Assisted-by trailer, base-commit, To/Cc from get_maintainer.pl, checkpatch --strict clean"
exit 0
