#!/usr/bin/env bash
# Boot the staged test kernel under QEMU (TCG) and run one guest plan; results land in $2.
#
# usage: run-vm.sh PLAN OUTDIR [TIMEOUT-SECONDS]
# The guest's root file system is the host's / (read-only 9p), OUTDIR is shared
# writable.  A guest that does not finish in time is killed and the run fails
# with the last console lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: run-vm.sh PLAN OUTDIR [TIMEOUT-SECONDS]"
plan=$(realpath "$1") out=$2 limit=${3:-${VM_TIMEOUT:-1200}}
[ -f "$STAGE/bzImage" ] || die "no test kernel in $STAGE: run 'make build' first"
mkdir -p "$out"
out=$(realpath "$out")
rm -f "$out/done" "$out/plan.rc" "$out/plan.log" "$out/dmesg.txt" "$out"/*.tap

cmdline="console=ttyS0 loglevel=4 panic=-1 root=/dev/root rootfstype=9p ro"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=524288,cache=loose"
cmdline+=" init=$VMTEST_DIR/guest/init cma=64M kmemleak=on pci=noacpi"
# no5lvl: QEMU's "max" CPU has LA57, and on 7.3 with 5-level paging a KASAN
# kernel can report a wild access at boot.  identify_cpu() clears
# boot_cpu_data's feature bits with interrupts on; an interrupt in that
# window reads pgtable_l5_enabled() as false, so KASAN takes a per-CPU
# address (0xff11..., the 5-level direct map) for one without shadow:
# "wild-memory-access in rcu_is_watching" from common_interrupt, under
# identify_cpu.  The report taints the kernel, which turns lockdep off and
# fails the run.  Upstream x86 boot code, nothing the series touches; the
# board is arm64.  4-level paging closes the window.
cmdline+=" no5lvl"
# 128 KiB of guest memory kept from the kernel: the registers of the RK3399
# model (kmod-vb2-resv-test/vb2-resv-rk3399-model.c) that hantro and rga map.
cmdline+=" memmap=128K\$$MODEL_REGS VMTEST_MODEL_REGS=$MODEL_REGS"
cmdline+=" VMTEST_PLAN=$plan VMTEST_STAGE=$STAGE VMTEST_REPO=$REPO_DIR"

say "booting $(cat "$STAGE/kernel.release") under QEMU TCG: $(basename "$plan") (limit ${limit}s)"
# VMTEST_PROGRESS=1: show each result line of the guest's plan log as it
# comes.  Polled: writes through 9p do not always wake tail -F's inotify.
# follow FILE: print what is appended to FILE, once a second, until killed.
follow() {
	local off=0 size
	while :; do
		size=$(stat -c %s "$1" 2>/dev/null || echo 0)
		[ "$size" -ge "$off" ] || off=0
		if [ "$size" -gt "$off" ]; then
			tail -c +$((off + 1)) "$1" | head -c $((size - off))
			off=$size
		fi
		sleep 1
	done
}
tailpid=
if [ -n "${VMTEST_PROGRESS:-}" ]; then
	follow "$out/plan.log" 9>&- > >(grep --line-buffered -E '^(# )?(not )?ok [0-9]+|^# selftests: ' >&2) &
	tailpid=$!
fi
# VMTEST_ICOUNT=SHIFT: QEMU's instruction counting (-icount): the guest's
# clocks advance 2^SHIFT ns per instruction it executes, not with the host's
# time, so that a time measured in the guest counts the instructions run,
# whatever else the host is busy with (make bench). One host thread runs
# both vCPUs in turn.
accel=(-accel tcg,thread=multi)
if [ -n "${VMTEST_ICOUNT:-}" ]; then
	accel=(-accel tcg,thread=single -icount "shift=$VMTEST_ICOUNT,sleep=off")
fi
rc=0
timeout --kill-after=10 "$limit" qemu-system-x86_64 \
	-machine pc "${accel[@]}" -cpu max -smp 2 -m 3G \
	-display none -monitor none -serial stdio -no-reboot \
	-kernel "$STAGE/bzImage" -append "$cmdline" \
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
	-fsdev local,id=out,path="$out",security_model=none \
	-device virtio-9p-pci,fsdev=out,mount_tag=out \
	</dev/null >"$out/console.log" 2>&1 || rc=$?
if [ -n "$tailpid" ]; then
	sleep 1.5	# tail -F reads once a second
	kill "$tailpid" 2>/dev/null || true
	wait "$tailpid" 2>/dev/null || true
fi

if [ ! -f "$out/done" ]; then
	tail -n 40 "$out/console.log" >&2
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		die "the guest did not finish within ${limit}s (console: $out/console.log)"
	fi
	die "the guest stopped before its plan finished, qemu exit $rc (console: $out/console.log)"
fi
plan_rc=$(cat "$out/plan.rc" 2>/dev/null || echo missing)
if [ "$plan_rc" != 0 ]; then
	tail -n 20 "$out/plan.log" >&2
	die "the guest plan $(basename "$plan") did not run to its end (status $plan_rc; log: $out/plan.log)"
fi
