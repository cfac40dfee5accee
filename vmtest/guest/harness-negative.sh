# shellcheck shell=sh
# Guest plan for the harness's own test: one failing result and one WARN,
# both of which the host must catch.
. "$VMTEST_REPO/vmtest/guest/lib.sh"

result 0 "a passing result"
result 1 "a deliberately failing result"
modprobe lkdtm && echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT

# Reached the end: the host knows the plan ran whole.
exit 0
