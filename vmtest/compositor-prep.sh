#!/usr/bin/env bash
# Get what vmtest/guest/compositor.sh needs, for make gst-check:
#  - a root with Weston, Mesa's EGL and llvmpipe, and dash, from Debian sid
#    (bookworm's Weston 10 and sid's own Pixman renderer import no dma-bufs;
#    docs/gstreamer.md says which versions were tried), in
#    $CACHE/compositor/root: about 250 packages, 180 MiB to download;
#  - wl_consumer (vmtest/compositor/wl_consumer.c), the Wayland client that
#    hands the compositor a CAPTURE dma-buf, built on the host against
#    bookworm's libwayland into $STAGE/compositor/.
# The guest runs Weston in a chroot into that root and wl_consumer from the
# host's root, which the guest shares.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$VMTEST_DIR/deps.sh" libwayland-dev libwayland-bin wayland-protocols
sid_root compositor weston libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers dash

[ -f "$STAGE/kernel.release" ] || die "no test kernel in $STAGE: run 'make build' first"
src=$VMTEST_DIR/compositor selftests=$REPO_DIR/selftests/vb2-resv
out=$STAGE/compositor protocols=/usr/share/wayland-protocols
mkdir -p "$out/gen"
for x in stable/xdg-shell/xdg-shell unstable/linux-dmabuf/linux-dmabuf-unstable-v1 \
	unstable/linux-explicit-synchronization/linux-explicit-synchronization-unstable-v1; do
	wayland-scanner client-header "$protocols/$x.xml" "$out/gen/${x##*/}-client-protocol.h"
	wayland-scanner private-code "$protocols/$x.xml" "$out/gen/${x##*/}-protocol.c"
done
# The selftests' helpers, against the test kernel's UAPI headers.
gcc -D_GNU_SOURCE= -Wall -Wextra -Wno-unused-parameter -O2 \
	-isystem "$CACHE/build-x86_64/usr/include" \
	-I "$CACHE/tree/tools/testing/selftests" -I "$selftests" -I "$out/gen" \
	-o "$out/wl_consumer" "$src/wl_consumer.c" "$out"/gen/*-protocol.c \
	"$selftests"/{m2m_util,v4l2_util,dmabuf_util,sync_util,kernel_util}.c \
	-lwayland-client
ln -sfn "$CACHE/compositor/root" "$out/root"
