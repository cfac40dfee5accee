#!/usr/bin/env bash
# Build codec_sweep for make gst-check with the rule the selftests package
# builds it with (selftests/vb2-resv/Makefile), on the host against
# bookworm's GStreamer, into $STAGE/codec-sweep/; the guest, whose root is
# the host's, runs it there. make build has copied the selftests into the
# tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$VMTEST_DIR/deps.sh" libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-libav
[ -f "$STAGE/kernel.release" ] || die "no test kernel in $STAGE: run 'make build' first"
mkdir -p "$STAGE/codec-sweep"
rm -f "$STAGE/codec-sweep/codec_sweep"
make -s -C "$TREE/tools/testing/selftests/vb2-resv" OUTPUT="$STAGE/codec-sweep" \
	KHDR_INCLUDES="-isystem $CACHE/build-x86_64/usr/include" "$STAGE/codec-sweep/codec_sweep" ||
	die "cannot build codec_sweep (selftests/vb2-resv/Makefile)"
[ -x "$STAGE/codec-sweep/codec_sweep" ] ||
	die "selftests/vb2-resv/Makefile did not build codec_sweep: does pkg-config find GStreamer's gstreamer-app-1.0?"
