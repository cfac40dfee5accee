#!/usr/bin/env bash
# Install the Debian packages that vmtest/guest/gstreamer.sh needs, only those
# not yet installed. The guest's root is the host's, so installing them here
# makes them usable there.
#   gstreamer1.0-tools         gst-launch-1.0, gst-inspect-1.0
#   gstreamer1.0-plugins-base  videotestsrc, videoconvert
#   gstreamer1.0-plugins-good  video4linux2: v4l2convert, v4l2jpegenc
#   gstreamer1.0-plugins-bad   v4l2codecs: v4l2slh264dec, v4l2slmpeg2dec;
#                              kmssink; h264parse, mpegvideoparse; mpeg2enc,
#                              openh264enc
#   gstreamer1.0-plugins-ugly  x264enc
# On the bookworm host it was written on: 138 packages more,
# 66 MiB to download, 210 MiB installed.
set -euo pipefail

exec "$(dirname "$0")/deps.sh" gstreamer1.0-tools gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
