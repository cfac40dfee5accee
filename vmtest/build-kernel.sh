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
	rsync -a --delete "$REPO_DIR/kmod-vb2-resv-test/" "$CACHE/kmod-build/"
	logged kmod.log kmake M="$CACHE/kmod-build" W=1 modules
	logged kmod.log kmake M="$CACHE/kmod-build" modules_install \
		INSTALL_MOD_PATH="$STAGE/modroot" INSTALL_MOD_STRIP=1
fi

targets=$(cd "$REPO_DIR/selftests" && ls -d -- */ | tr -d / | tr '\n' ' ')
say "building selftests: $targets"
rm -rf "$STAGE/kselftest"
logged selftests.log make -C "$TREE/tools/testing/selftests" TARGETS="$targets" \
	O="$CACHE/kselftest-build" KHDR_INCLUDES="-isystem $BUILD/usr/include" \
	INSTALL_PATH="$STAGE/kselftest" install
echo "$kver" > "$STAGE/kernel.release"
say "built $kver: $STAGE"
