#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run producer_fences, fence_errors and implicit_sync on the test device with
# another of its allocators.
#
# usage: with_allocator.sh ALLOCATOR   (vmalloc, dma-contig or dma-sg)
#
# vb2-resv-test's mem= parameter is writable: contexts opened after a write
# get that allocator. It is put back when the run ends, and nothing is
# unloaded. Exits with 1 if a program failed, 4 (kselftest's skip) if all
# three skipped or without the test device, else 0.
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
rc=4
for prog in producer_fences fence_errors implicit_sync; do
	echo "# $prog with the test device's $mem allocator"
	"$dir/$prog"
	case $? in
	0) [ $rc -eq 4 ] && rc=0 ;;
	4) ;;
	*) rc=1 ;;
	esac
done
exit $rc
