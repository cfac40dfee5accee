#!/usr/bin/awk -f
# Count TAP/KTAP results over the files given; print failures and the final
# line "N passed, N failed, N skipped".  Exit 1 when anything failed or no
# test ran.
#
# A kselftest binary's subtests ("# ok 1 name", one level deeper) are counted
# one by one; its own top-level line counts only when it had no subtests, or
# as one more failure when it failed (crash, timeout) without a failing subtest.

# No test here is expected to fail: XFAIL/XPASS/TODO are failures too, so a
# runner that mislabels a broken test cannot turn it into a pass.
function classify(line) {
	if (line ~ /^not ok / || line ~ /# (TODO|XFAIL|XPASS)/)
		return "fail"
	if (line ~ /# [Ss][Kk][Ii][Pp]/)
		return "skip"
	return "pass"
}
function count(kind, line) {
	n[kind]++
	if (kind == "fail")
		failed_lines = failed_lines "  " FILENAME ": " line "\n"
}
FNR == 1 { sub_total = 0; sub_fail = 0 }
/^# (not )?ok [0-9]+/ {
	line = substr($0, 3)
	kind = classify(line)
	count(kind, line)
	sub_total++
	if (kind == "fail")
		sub_fail++
	next
}
/^(not )?ok [0-9]+/ {
	kind = classify($0)
	if (sub_total == 0 || (kind == "fail" && sub_fail == 0))
		count(kind, $0)
	sub_total = 0
	sub_fail = 0
}
END {
	if (failed_lines != "")
		printf "failed:\n%s", failed_lines
	total = n["pass"] + n["fail"] + n["skip"]
	printf "%d passed, %d failed, %d skipped\n", n["pass"], n["fail"], n["skip"]
	exit (n["fail"] > 0 || total == 0) ? 1 : 0
}
