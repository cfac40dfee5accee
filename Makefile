# Producer fences for V4L2 mem2mem: build, boot and test the series.
#
#   make          build the patched kernel and show what a dma-buf consumer sees
#   make check    the suite in a VM (less make series-check and make soak); ends with 'N passed, N failed'
#
# Variables: KSRC=/path/to/linux-7.3.y (default: fetch Debian's linux-source-7.3),
# CACHE=dir for sources and builds (default ~/.cache/vb2-resv), JOBS=parallel jobs.

export KSRC CACHE JOBS SEND_TREE SEND_BASE SEND_IDENTITY SEND_REVIEWED STRESS_SECONDS STRESS_SEED
V := vmtest

.PHONY: all help deps tree series-check packaging-check board-check send-prep build demo bench stress soak gst-check check clean distclean

all: demo

help:
	@echo 'make [demo]     build everything, boot the kernel, show a consumer on a CAPTURE dma-buf'
	@echo 'make check      the suite in the VM, less make series-check and make soak; ends with "N passed, N failed"'
	@echo 'make deps       install the Debian packages the harness needs'
	@echo 'make tree       fetch the base kernel (or use KSRC=) and apply patches/'
	@echo 'make series-check  each patch: checkpatch --strict, kernel-doc, x86_64 and arm64 builds with W=1, sparse, coccinelle (make check: all but the builds, sparse and coccinelle)'
	@echo 'make packaging-check  the Arch package: extlinux and pacman hook tests, sources, makepkg prepare(), board config'
	@echo 'make board-check  the user'"'"'s path: cross-build the packages, pacman -U, boot the packaged kernel (qemu aarch64), run its kselftests'
	@echo 'make send-prep  b4 prepares patches/sw_sync/, patches/fixes/, patches/, patches/rkvdec/ and patches/vim2m/ for sending as you, once you have reviewed them (SEND_TREE=your kernel git tree, SEND_REVIEWED=yes; without SEND_TREE a rehearsal): writes them to $$CACHE/send'
	@echo 'make bench      fence_bench in the VM on a kernel without debug options, its clock counting instructions: what fences add to a job, wake-ups, scale, close (BENCH_ARGS=, BENCH_ICOUNT=)'
	@echo 'make soak       the long runs on the test kernel: fence_soak'"'"'s full 100,000 jobs (make check runs 10,000), fence_stress twice for 60 s'
	@echo 'make stress     fence_stress for STRESS_SECONDS (600) per allocator on the test kernel, --destructive (STRESS_SEED= replays)'
	@echo 'make gst-check  GStreamer (v4l2codecs, v4l2convert, v4l2jpegenc, kmssink on vkms) on hantro, rkvdec and rga, and Weston composing the test device'"'"'s buffers, in the VM, fences on and off'
	@echo 'make build      build the test kernel, kmod-vb2-resv-test and selftests/'
	@echo 'make clean      remove staged builds and run results (keeps sources and the build tree)'
	@echo 'make distclean  remove the whole cache'

deps:
	@$(V)/deps.sh

tree: deps
	@$(V)/prepare-tree.sh

series-check: tree
	@$(V)/check-series.sh

packaging-check: deps
	@t=$$(mktemp) && $(V)/check-packaging.sh $$t; cat $$t; \
	if grep -q '^not ok' $$t; then rm -f $$t; exit 1; fi; rm -f $$t

build: tree
	@$(V)/build-kernel.sh
	@$(V)/fetch-v4l-utils.sh

demo: build
	@$(V)/demo.sh

board-check: deps
	@$(V)/board-check.sh

send-prep: deps
	@[ -n "$$SEND_TREE" ] || $(V)/prepare-tree.sh
	@$(V)/send-prep.sh

bench: tree
	@KERNEL_FLAVOR=bench $(V)/build-kernel.sh
	@KERNEL_FLAVOR=bench $(V)/bench.sh

stress: build
	@$(V)/stress.sh

soak: build
	@$(V)/soak.sh

gst-check: build
	@$(V)/gst-deps.sh
	@$(V)/compositor-prep.sh
	@$(V)/codec-sweep-prep.sh
	@$(V)/gst-check.sh

check: build
	@$(V)/check.sh

clean:
	@. $(V)/lib.sh && rm -rf "$$STAGE" "$$CACHE/runs"

distclean:
	@. $(V)/lib.sh && rm -rf "$$CACHE"
