#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The producer-fence contract (producer_fences, fence_errors, implicit_sync)
# on the test device's dma-contig allocator.
exec "$(dirname "$0")/with_allocator.sh" dma-contig
