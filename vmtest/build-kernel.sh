#!/usr/bin/env bash
# Build the test kernel, the test module and the selftests from $CACHE/tree into $STAGE.
#
# The kernel config is allnoconfig plus vmtest/x86_64.config, regenerated only
# when the fragment changes; every option in the fragment is checked after
# olddefconfig so a dependency Kconfig silently dropped is an error here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lock_cache

frag=$VMTEST_DIR/x86_64.config
logs=$CACHE/logs
kmod_build=$CACHE/kmod-build
kselftest_build=$CACHE/kselftest-build
if [ "${KERNEL_FLAVOR:-}" = bench ]; then
	# The benchmark kernel: x86_64.config without its last section, the
	# debug options, built beside the test kernel (lib.sh picks BUILD and
	# STAGE for the flavor).
	mkdir -p "$CACHE"
	awk '/^# --- Debug options/ { exit } { print }' "$VMTEST_DIR/x86_64.config" \
		> "$CACHE/x86_64-bench.config"
	frag=$CACHE/x86_64-bench.config
	logs=$CACHE/logs/bench
	kmod_build=$CACHE/kmod-build-bench
	kselftest_build=$CACHE/kselftest-build-bench
fi
mkdir -p "$BUILD" "$logs" "$STAGE"
kmake() { make -C "$TREE" O="$BUILD" -j"$JOBS" "$@"; }

# Run "$@" with its output in log $1; on failure show the end of the log.
logged() {
	local log=$logs/$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "failed: $* (whole log: $log)"
	fi
}

kconfig_from_fragment "$TREE" "$BUILD" "$frag" "$logs/config.log" -j"$JOBS"

say "building the kernel (log: $logs/kernel.log; cold: ~10 min on 2 cores)"
logged kernel.log kmake bzImage modules headers
kver=$(cat "$BUILD/include/config/kernel.release")

rm -rf "$STAGE/modroot"
logged modules_install.log kmake modules_install INSTALL_MOD_PATH="$STAGE/modroot" INSTALL_MOD_STRIP=1
cp "$BUILD/arch/x86/boot/bzImage" "$STAGE/bzImage"

if [ -f "$REPO_DIR/kmod-vb2-resv-test/Kbuild" ]; then
	say "building kmod-vb2-resv-test against $kver"
	rsync -a --delete "$REPO_DIR/kmod-vb2-resv-test/" "$kmod_build/"
	logged kmod.log kmake M="$kmod_build" W=1 modules
	logged kmod.log kmake M="$kmod_build" modules_install \
		INSTALL_MOD_PATH="$STAGE/modroot" INSTALL_MOD_STRIP=1
fi

# hantro-vpu, rockchip-rga and rockchip-vdec without patches 2 and 3 and the
# rkvdec follow-up (patch 1 does not touch them: their base sources), built
# against the same kernel, so that the guest shows the rk3399_fences tests
# failing with them: the tests check the drivers' changes, not only the helper. And v4l2-mem2mem from its base sources, that
# is without the fix in patches/fixes/ (nor patch 1's part of it), for the
# boot that shows the fix's regression test failing without it. Built
# against the patched kernel's headers: the key has the series (HEAD), as a
# module built against other headers would see other structure layouts.
unpatched=$CACHE/unpatched-drivers
key="$(git -C "$TREE" rev-parse vmtest-base HEAD | tr '\n' ' ')$(sha256sum "$BUILD/.config" | cut -d' ' -f1) $kver"
if [ "${KERNEL_FLAVOR:-}" != bench ] &&
   { [ "$(cat "$unpatched/key" 2>/dev/null)" != "$key" ] ||
     [ ! -f "$STAGE/unpatched/v4l2-mem2mem.ko" ] ||
     [ ! -f "$STAGE/unpatched/rockchip-vdec.ko" ]; }; then
	say "building hantro-vpu, rockchip-rga, rockchip-vdec and v4l2-mem2mem from the base sources"
	rm -rf "$unpatched" "$STAGE/unpatched"
	mkdir -p "$unpatched" "$STAGE/unpatched"
	git -C "$TREE" archive vmtest-base drivers/media/platform/verisilicon \
		drivers/media/platform/rockchip/rga drivers/media/platform/rockchip/rkvdec \
		drivers/media/v4l2-core/v4l2-mem2mem.c |
		tar -x -C "$unpatched"
	# v4l2-core builds much more than the one module: a Kbuild of its own.
	echo 'obj-m += v4l2-mem2mem.o' >"$unpatched/drivers/media/v4l2-core/Kbuild"
	for d in platform/verisilicon platform/rockchip/rga platform/rockchip/rkvdec v4l2-core; do
		logged unpatched.log kmake M="$unpatched/drivers/media/$d" modules
	done
	cp "$unpatched/drivers/media/platform/verisilicon/hantro-vpu.ko" \
	   "$unpatched/drivers/media/platform/rockchip/rga/rockchip-rga.ko" \
	   "$unpatched/drivers/media/platform/rockchip/rkvdec/rockchip-vdec.ko" \
	   "$unpatched/drivers/media/v4l2-core/v4l2-mem2mem.ko" \
	   "$STAGE/unpatched/"
	echo "$key" > "$unpatched/key"
fi

# rockchip-rga as the series has it, but for its watchdog's wait for the
# interrupt handler (vmtest/negative/); hantro-vpu as the series has it, but
# for its two fixes in patches/fixes/ (the VDPU2 one reverted, the AV1 one
# undone by vmtest/negative/) and opting in variants its watchdog cannot
# stop; rockchip-vdec as the follow-up has it, but with a watchdog that does
# not stop the decoder: the guest shows the tests of all five failing with
# them.
negative=$CACHE/negative-drivers
neg_diff=$VMTEST_DIR/negative/rga-watchdog-resets-under-handler.diff
neg_av1=$VMTEST_DIR/negative/hantro-av1-finishes-twice.diff
neg_hantro_stop=$VMTEST_DIR/negative/hantro-fences-without-reset.diff
neg_rkvdec_stop=$VMTEST_DIR/negative/rkvdec-watchdog-masks-only.diff
neg_hantro_irq=$VMTEST_DIR/negative/hantro-error-irq-no-stop.diff
vdpu2_fix=$(ls "$PATCHES"/fixes/0003-media-verisilicon-rockchip-*.patch 2>/dev/null) ||
	die "no $PATCHES/fixes/0003-media-verisilicon-rockchip-*.patch: the VDPU2 fix, whose revert the negative hantro-vpu needs"
key="$(git -C "$TREE" rev-parse HEAD) $(sha256sum "$BUILD/.config" "$neg_diff" "$neg_av1" "$vdpu2_fix" "$neg_hantro_stop" "$neg_rkvdec_stop" "$neg_hantro_irq" | cut -d' ' -f1 | tr '\n' ' ')$kver"
if [ "${KERNEL_FLAVOR:-}" != bench ] &&
   { [ "$(cat "$negative/key" 2>/dev/null)" != "$key" ] ||
     [ ! -f "$STAGE/negative/rockchip-rga.ko" ] ||
     [ ! -f "$STAGE/negative/hantro-vpu.ko" ] ||
     [ ! -f "$STAGE/negative/rockchip-vdec.ko" ]; }; then
	say "building the negative drivers: rockchip-rga without its watchdog's wait for the interrupt handler, hantro-vpu without its VDPU2 and AV1 fixes, fencing what it cannot stop and not stopping the VEPU2 on an error, rockchip-vdec with a watchdog that does not stop it"
	rm -rf "$negative" "$STAGE/negative"
	mkdir -p "$negative" "$STAGE/negative"
	git -C "$TREE" archive HEAD drivers/media/platform/rockchip/rga \
		drivers/media/platform/verisilicon \
		drivers/media/platform/rockchip/rkvdec | tar -x -C "$negative"
	patch -d "$negative" -p1 -F0 --quiet <"$neg_diff" ||
		die "$neg_diff does not apply to the series' rga.c: update it with the rga patches"
	patch -d "$negative" -p1 -R -F0 --quiet <"$vdpu2_fix" ||
		die "$vdpu2_fix does not revert from the series' hantro"
	patch -d "$negative" -p1 -F0 --quiet <"$neg_av1" ||
		die "$neg_av1 does not apply to the series' hantro: update it with patch 2"
	patch -d "$negative" -p1 -F0 --quiet <"$neg_hantro_stop" ||
		die "$neg_hantro_stop does not apply to the series' hantro: update it with patch 2"
	patch -d "$negative" -p1 -F0 --quiet <"$neg_hantro_irq" ||
		die "$neg_hantro_irq does not apply to the series' hantro: update it with patch 2"
	patch -d "$negative" -p1 -F0 --quiet <"$neg_rkvdec_stop" ||
		die "$neg_rkvdec_stop does not apply to the follow-up's rkvdec: update it with the follow-up"
	logged negative-rga.log kmake M="$negative/drivers/media/platform/rockchip/rga" modules
	logged negative-hantro.log kmake M="$negative/drivers/media/platform/verisilicon" modules
	logged negative-rkvdec.log kmake M="$negative/drivers/media/platform/rockchip/rkvdec" modules
	cp "$negative/drivers/media/platform/rockchip/rga/rockchip-rga.ko" \
	   "$negative/drivers/media/platform/verisilicon/hantro-vpu.ko" \
	   "$negative/drivers/media/platform/rockchip/rkvdec/rockchip-vdec.ko" \
	   "$STAGE/negative/"
	echo "$key" > "$negative/key"
fi

targets=$(cd "$REPO_DIR/selftests" && ls -d -- */ | tr -d / | tr '\n' ' ')
say "building selftests: $targets"
rm -rf "$STAGE/kselftest"
logged selftests.log make -C "$TREE/tools/testing/selftests" TARGETS="$targets" \
	O="$kselftest_build" KHDR_INCLUDES="-isystem $BUILD/usr/include" \
	INSTALL_PATH="$STAGE/kselftest" install
echo "$kver" > "$STAGE/kernel.release"
say "built $kver: $STAGE"
