#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run producer_fences on the test device with another of its allocators.
#
# usage: with_allocator.sh ALLOCATOR   (vmalloc, dma-contig or dma-sg)
#
# vb2-resv-test's mem= parameter is writable: contexts opened after a write
# get that allocator. It is put back when the run ends, and nothing is
# unloaded. Exits with producer_fences' status, or 4 (kselftest's skip)
# without the test device.
dir=$(dirname "$0")
mem=$1
param=/sys/module/vb2_resv_test/parameters/mem

if [ ! -e "$param" ] && ! modprobe -q vb2-resv-test 2>/dev/null; then
	echo "# SKIP: no vb2-resv-test module: install or build the out-of-tree test module"
	exit 4
fi
if [ ! -w "$param" ]; then
	echo "# SKIP: cannot write $param: run as root"
	exit 4
fi
old=$(cat "$param")
if ! echo "$mem" >"$param"; then
	echo "# $param refuses \"$mem\": a test module without it"
	exit 1
fi
trap 'echo "$old" >"$param"' EXIT
echo "# producer_fences with the test device's $mem allocator"
"$dir/producer_fences"
rc=$?
exit $rc
