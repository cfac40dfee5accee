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
	# By content, stamped now (as prepare-tree.sh copies the selftests)
	rsync -rlpD --checksum --delete "$REPO_DIR/kmod-vb2-resv-test/" "$kmod_build/"
	logged kmod.log kmake M="$kmod_build" W=1 modules
	logged kmod.log kmake M="$kmod_build" modules_install \
		INSTALL_MOD_PATH="$STAGE/modroot" INSTALL_MOD_STRIP=1
fi

# module_variant NAME KEY MESSAGE PREPARE DIR... -- MODULE...: other builds
# of some modules, staged in $STAGE/NAME/ for the guest to insmod in place of
# the kernel's. Unless they were built with KEY already, say MESSAGE, run
# PREPARE in an empty $CACHE/NAME-drivers (it unpacks and changes the
# sources), build each DIR (below drivers/media) there as external modules
# and stage each MODULE (a .ko path below drivers/media). The benchmark
# kernel needs none.
module_variant() {
	local name=$1 key=$2 msg=$3 prepare=$4 src=$CACHE/$1-drivers dirs=() mods=() m
	shift 4
	while [ "$1" != -- ]; do
		dirs+=("$1")
		shift
	done
	shift
	mods=("$@")
	[ "${KERNEL_FLAVOR:-}" != bench ] || return 0
	if [ "$(cat "$src/key" 2>/dev/null)" = "$key" ]; then
		for m in "${mods[@]}"; do
			[ -f "$STAGE/$name/${m##*/}" ] || break
		done
		[ -f "$STAGE/$name/${m##*/}" ] && return 0
	fi
	say "$msg"
	rm -rf "$src" "${STAGE:?}/$name"
	mkdir -p "$src" "$STAGE/$name"
	(cd "$src" && "$prepare") || die "cannot prepare the sources of the $name modules"
	for m in "${dirs[@]}"; do
		logged "$name-${m//\//-}.log" kmake M="$src/drivers/media/$m" modules
	done
	for m in "${mods[@]}"; do
		cp "$src/drivers/media/$m" "$STAGE/$name/"
	done
	echo "$key" > "$src/key"
}

# hantro-vpu, rockchip-rga and rockchip-vdec without patches 2 and 3 and the
# rkvdec follow-up (patch 1 does not touch them: their base sources), built
# against the same kernel, so that the guest shows the rk3399_fences tests
# failing with them: the tests check the drivers' changes, not only the
# helper. vim2m without the vim2m follow-up, the in-tree driver that does not
# opt in, for the tests of a driver that does not. And v4l2-mem2mem from its
# base sources, that is without the fix in patches/fixes/ (nor patch 1's part
# of it), for the boot that shows the fix's regression test failing without
# it. Built against the patched kernel's headers: the key has the series
# (HEAD), as a module built against other headers would see other structure
# layouts.
unpatched_sources() {
	git -C "$TREE" archive vmtest-base drivers/media/platform/verisilicon \
		drivers/media/platform/rockchip/rga drivers/media/platform/rockchip/rkvdec \
		drivers/media/v4l2-core/v4l2-mem2mem.c drivers/media/test-drivers/vim2m.c |
		tar -x
	# v4l2-core and test-drivers build much more than the one module: a
	# Kbuild of their own.
	echo 'obj-m += v4l2-mem2mem.o' >drivers/media/v4l2-core/Kbuild
	echo 'obj-m += vim2m.o' >drivers/media/test-drivers/Kbuild
}
module_variant unpatched \
	"$(git -C "$TREE" rev-parse vmtest-base HEAD | tr '\n' ' ')$(sha256sum "$BUILD/.config" | cut -d' ' -f1) $kver" \
	"building hantro-vpu, rockchip-rga, rockchip-vdec, vim2m and v4l2-mem2mem from the base sources" \
	unpatched_sources \
	platform/verisilicon platform/rockchip/rga platform/rockchip/rkvdec v4l2-core test-drivers -- \
	platform/verisilicon/hantro-vpu.ko platform/rockchip/rga/rockchip-rga.ko \
	platform/rockchip/rkvdec/rockchip-vdec.ko v4l2-core/v4l2-mem2mem.ko test-drivers/vim2m.ko

# rockchip-rga as the series has it, but for its watchdog's wait for the
# interrupt handler (vmtest/negative/); hantro-vpu as the series has it, but
# for its two fixes in patches/fixes/ (the VDPU2 one reverted, the AV1 one
# undone by vmtest/negative/) and opting in variants its watchdog cannot
# stop; rockchip-vdec as the follow-up has it, but with a watchdog that does
# not stop the decoder: the guest shows the tests of all five failing with
# them.
neg_diff=$VMTEST_DIR/negative/rga-watchdog-resets-under-handler.diff
neg_av1=$VMTEST_DIR/negative/hantro-av1-finishes-twice.diff
neg_hantro_stop=$VMTEST_DIR/negative/hantro-fences-without-reset.diff
neg_rkvdec_stop=$VMTEST_DIR/negative/rkvdec-watchdog-masks-only.diff
neg_hantro_irq=$VMTEST_DIR/negative/hantro-error-irq-no-stop.diff
vdpu2_fix=$(ls "$PATCHES"/fixes/0003-media-verisilicon-rockchip-*.patch 2>/dev/null) ||
	die "no $PATCHES/fixes/0003-media-verisilicon-rockchip-*.patch: the VDPU2 fix, whose revert the negative hantro-vpu needs"
negative_sources() {
	git -C "$TREE" archive HEAD drivers/media/platform/rockchip/rga \
		drivers/media/platform/verisilicon \
		drivers/media/platform/rockchip/rkvdec | tar -x
	patch -p1 -F0 --quiet <"$neg_diff" ||
		die "$neg_diff does not apply to the series' rga.c: update it with the rga patches"
	patch -p1 -R -F0 --quiet <"$vdpu2_fix" ||
		die "$vdpu2_fix does not revert from the series' hantro"
	patch -p1 -F0 --quiet <"$neg_av1" ||
		die "$neg_av1 does not apply to the series' hantro: update it with patch 2"
	patch -p1 -F0 --quiet <"$neg_hantro_stop" ||
		die "$neg_hantro_stop does not apply to the series' hantro: update it with patch 2"
	patch -p1 -F0 --quiet <"$neg_hantro_irq" ||
		die "$neg_hantro_irq does not apply to the series' hantro: update it with patch 2"
	patch -p1 -F0 --quiet <"$neg_rkvdec_stop" ||
		die "$neg_rkvdec_stop does not apply to the follow-up's rkvdec: update it with the follow-up"
}
module_variant negative \
	"$(git -C "$TREE" rev-parse HEAD) $(sha256sum "$BUILD/.config" "$neg_diff" "$neg_av1" "$vdpu2_fix" "$neg_hantro_stop" "$neg_rkvdec_stop" "$neg_hantro_irq" | cut -d' ' -f1 | tr '\n' ' ')$kver" \
	"building the negative drivers: rockchip-rga without its watchdog's wait for the interrupt handler, hantro-vpu without its VDPU2 and AV1 fixes, fencing what it cannot stop and not stopping the VEPU2 on an error, rockchip-vdec with a watchdog that does not stop it" \
	negative_sources \
	platform/rockchip/rga platform/verisilicon platform/rockchip/rkvdec -- \
	platform/rockchip/rga/rockchip-rga.ko platform/verisilicon/hantro-vpu.ko \
	platform/rockchip/rkvdec/rockchip-vdec.ko

targets=$(cd "$REPO_DIR/selftests" && ls -d -- */ | tr -d / | tr '\n' ' ')
say "building selftests: $targets"
rm -rf "$STAGE/kselftest"
logged selftests.log make -C "$TREE/tools/testing/selftests" TARGETS="$targets" \
	O="$kselftest_build" KHDR_INCLUDES="-isystem $BUILD/usr/include" \
	INSTALL_PATH="$STAGE/kselftest" install
echo "$kver" > "$STAGE/kernel.release"
say "built $kver: $STAGE"
