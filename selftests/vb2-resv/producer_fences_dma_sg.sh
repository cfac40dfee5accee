#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The producer-fence contract on the test device's dma-sg allocator.
exec "$(dirname "$0")/with_allocator.sh" dma-sg
