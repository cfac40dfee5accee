#!/usr/bin/env bash
# Build codec_sweep (vmtest/codec-sweep/codec_sweep.c) for make gst-check, on
# the host against bookworm's GStreamer, into $STAGE/codec-sweep/; the guest,
# whose root is the host's, runs it there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$VMTEST_DIR/deps.sh" libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-libav
[ -f "$STAGE/kernel.release" ] || die "no test kernel in $STAGE: run 'make build' first"
mkdir -p "$STAGE/codec-sweep"
# shellcheck disable=SC2046 # pkg-config's flags, one word each
gcc -D_GNU_SOURCE= -Wall -Wextra -O2 -isystem "$CACHE/build-x86_64/usr/include" \
	-o "$STAGE/codec-sweep/codec_sweep" "$VMTEST_DIR/codec-sweep/codec_sweep.c" \
	$(pkg-config --cflags --libs gstreamer-app-1.0 gstreamer-video-1.0 gstreamer-allocators-1.0)
