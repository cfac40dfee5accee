# shellcheck shell=sh
# Guest plan for the harness's own test: a plan that never ends.
echo "<3>vmtest: hanging on purpose" > /dev/kmsg
sleep 3600
