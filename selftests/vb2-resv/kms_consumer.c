// SPDX-License-Identifier: GPL-2.0
/*
 * Real implicit-sync consumers of a V4L2 mem2mem CAPTURE dma-buf.
 *
 * F13 (CONTRACT.md): a KMS atomic commit on vkms that scans out a
 * framebuffer imported from the CAPTURE dma-buf, submitted while the job that
 * fills the buffer is still running, flips only after the producer fence
 * signalled, and vkms composes the finished frame. With the kill switch (F12,
 * videobuf2_common.producer_fences=N) the same program shows the bug: the
 * flip lands while the job is still running, and vkms composes whatever the
 * buffer held before the job (the green or stale frame of the field reports).
 * Both outcomes are asserted in one run, by two tests.
 *
 * F3 through a second importer: a DRM driver (vkms, vgem) that imports the
 * dma-buf and exports it again hands out the same dma-buf, whose POLLIN
 * waits for the producer fence; also with a CAPTURE buffer allocated by vgem
 * and imported into V4L2 (V4L2_MEMORY_DMABUF), where the fence lands in
 * vgem's reservation object.
 *
 * The V4L2 device is found by driver name: $VB2_RESV_DRIVER, by default the
 * test module "vb2-resv-test", whose job writes the CAPTURE buffer only when
 * it completes: dst[i] = src[i % src_len] ^ ((sequence % 255) + 1).
 *
 * The tests set the kill switch themselves and restore it. To watch the
 * "with fence" test fail on purpose, set the switch to N and run it with
 * VB2_RESV_KEEP_KILL_SWITCH=1, which makes every test leave the switch as
 * it found it. A kernel without the series has no switch: nothing is set.
 *
 * The KMS plumbing, vkms's pipe, its writeback and the atomic property
 * helpers, is in kms_util.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <xf86drm.h>
#include <xf86drmMode.h>
#include <drm_fourcc.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "m2m_util.h"
#include "kms_util.h"
#include "vb2_resv_test.h"

#define KEEP_SWITCH_ENV		"VB2_RESV_KEEP_KILL_SWITCH"
#define JOB_MS			500
#define TIMEOUT_MS		5000
#define STALE_BYTE		0x5a	/* CAPTURE before the job */
#define REIMPORT_W		64
#define REIMPORT_H		64

/*
 * The latest signal timestamp of the fences in sync_file @fd, in
 * microseconds of CLOCK_MONOTONIC; 0 if none has signalled.
 */
static uint64_t sync_file_signal_us(int fd)
{
	struct sync_fence_info info[8];
	uint64_t t = 0;
	int n, i;

	n = sync_file_fences(fd, info, 8);
	for (i = 0; i < n; i++)
		if (info[i].status == 1 && info[i].timestamp_ns / 1000 > t)
			t = info[i].timestamp_ns / 1000;
	return t;
}

/* One context of the V4L2 device with one buffer per queue. */
struct job {
	struct m2m_dev dev;
	int dmabuf;			/* CAPTURE buffer 0, plane 0 */
	uint64_t t_start;
};

static void job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->dev.fd = -1;
	j->dmabuf = -1;
}

static void job_close(struct job *j)
{
	if (j->dmabuf >= 0)
		close(j->dmabuf);
	m2m_close(&j->dev);
	job_init(j);
}

/*
 * Open a context, ask for @job_ms jobs, set @fourcc @w x @h on both queues,
 * one OUTPUT buffer filled with a pattern. Returns 0, -ENOENT (no device),
 * -ENOTSUP (no such control or format) or another negative errno.
 */
static int job_open(struct job *j, uint32_t fourcc, uint32_t w, uint32_t h,
		    int job_ms)
{
	struct m2m_queue *out = &j->dev.out, *cap = &j->dev.cap;
	int ret;

	job_init(j);
	ret = open_timed_context(&j->dev, job_ms);
	if (ret)
		return ret;
	ret = m2m_set_formats(&j->dev, fourcc, fourcc, w, h);
	if (ret)
		return ret;
	if (cap->fourcc != fourcc)
		return m2m_fail(-ENOTSUP, "%s has no %s format",
				driver_name(), m2m_fourcc_str(fourcc, (char[8]){ 0 }));
	if (cap->width != w || cap->height != h ||
	    cap->num_planes != 1)
		return -ENOTSUP;
	ret = m2m_reqbufs(&j->dev, out, 1);
	if (ret)
		return ret;
	fill_pattern(out->bufs[0].map[0], out->bufs[0].length[0], 7);
	return 0;
}

/* CAPTURE: one MMAP buffer, filled with STALE_BYTE, exported. */
static int job_capture_mmap(struct job *j)
{
	struct m2m_queue *cap = &j->dev.cap;
	int ret;

	ret = m2m_reqbufs(&j->dev, cap, 1);
	if (ret)
		return ret;
	memset(cap->bufs[0].map[0], STALE_BYTE, cap->bufs[0].length[0]);
	j->dmabuf = m2m_expbuf(&j->dev, cap, 0, 0, O_RDWR | O_CLOEXEC);
	return j->dmabuf < 0 ? j->dmabuf : 0;
}

/* CAPTURE: dma-buf @fd (the job takes it) imported as V4L2_MEMORY_DMABUF. */
static int job_capture_import(struct job *j, int fd)
{
	struct m2m_queue *cap = &j->dev.cap;
	uint8_t *map;
	int ret;

	j->dmabuf = fd;
	ret = m2m_reqbufs_dmabuf(&j->dev, cap, 1);
	if (ret)
		return ret;
	cap->bufs[0].fd[0] = fd;
	cap->bufs[0].length[0] = cap->sizeimage[0];
	map = dmabuf_mmap(fd, cap->sizeimage[0], PROT_READ | PROT_WRITE);
	if (!map)
		return -EIO;
	dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	memset(map, STALE_BYTE, cap->sizeimage[0]);
	dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	munmap(map, cap->sizeimage[0]);
	return 0;
}

static int job_start(struct job *j)
{
	int ret;

	ret = m2m_qbuf(&j->dev, &j->dev.cap, 0) ?:
	      m2m_qbuf(&j->dev, &j->dev.out, 0) ?:
	      m2m_streamon(&j->dev, &j->dev.out);
	j->t_start = now_us();
	return ret ?: m2m_streamon(&j->dev, &j->dev.cap);
}

static bool job_in_flight(struct job *j)
{
	struct m2m_buf_state st;

	if (m2m_querybuf(&j->dev, &j->dev.cap, 0, &st))
		return false;
	return (st.flags & V4L2_BUF_FLAG_QUEUED) && !(st.flags & V4L2_BUF_FLAG_DONE);
}

/* Byte @i of the frame the job writes in CAPTURE buffer sequence @seq. */
static uint8_t job_frame_byte(struct job *j, size_t i, uint32_t seq)
{
	struct m2m_buf *src = &j->dev.out.bufs[0];

	return ((uint8_t *)src->map[0])[i % src->bytesused[0]] ^ ((seq % 255) + 1);
}

static double ms(uint64_t t, uint64_t t0)
{
	return ((double)t - (double)t0) / 1000.0;
}

/*
 * F12: producer fences on or off for the queues set up from now on, unless
 * $VB2_RESV_KEEP_KILL_SWITCH is set, the kernel has no switch, or changing
 * it was not asked for ($VB2_RESV_DESTRUCTIVE: every queue set up meanwhile,
 * on any device, follows the switch). *saved gets
 * the value to restore (-1: nothing to restore). Returns the switch's value
 * for the next job: 1, 0, or -ENOENT for "no switch".
 */
static int set_kill_switch(int *saved, bool on)
{
	const char *keep = getenv(KEEP_SWITCH_ENV);
	int cur = kill_switch_get();

	*saved = -1;
	if (cur < 0 || (keep && *keep && strcmp(keep, "0")) || !destructive_allowed())
		return cur;
	if (cur == on)
		return cur;
	if (kill_switch_set(on))
		return -EIO;
	*saved = cur;
	return on;
}

/* What one nonblocking flip onto the CAPTURE buffer showed. */
struct flip {
	int fence_status;		/* sync_file status when committing */
	uint64_t t_commit;		/* commit ioctl returned */
	uint64_t t_flip;		/* the flip event's timestamp */
	uint64_t t_fence;		/* producer fence signalled; 0: none */
	uint64_t t_wb;			/* writeback out-fence signalled */
	uint64_t t_dqbuf;		/* DQBUF returned the CAPTURE buffer */
	bool in_flight_at_commit;	/* the job was running after the commit */
	bool in_flight_at_flip;		/* ... when the flip event was read */
	bool in_flight_at_wb;		/* ... when the writeback was done */
	bool wb;			/* a writeback frame was taken */
	size_t bytes;			/* B, G, R bytes in the CRTC area */
	size_t finished;		/* ... equal to the finished frame */
	size_t stale;			/* ... equal to the pre-job fill */
	size_t old_scanout;		/* ... equal to the modeset frame */
};

FIXTURE(kms) {
	struct kms k;
	struct job j;
	int kill_switch;
	int fences;			/* kill switch for this test's job */
	int sync_fd;
	int wb_fence;
	uint32_t img_handle;
	uint32_t img_fb;
};

FIXTURE_SETUP(kms)
{
	int ret, wb_fence;
	size_t n, total;

	kms_init(&self->k);
	job_init(&self->j);
	self->kill_switch = -1;
	self->sync_fd = -1;
	self->wb_fence = -1;

	ret = kms_open(&self->k);
	if (ret == -ENOENT)
		SKIP(return, "the KMS flip tests need vkms: no DRM device with driver \"vkms\" in /dev/dri (modprobe vkms; CONFIG_DRM_VKMS)");
	ASSERT_EQ(0, ret) TH_LOG("%s", drm_strerror());

	/* The V4L2 frame is the mode's size: the plane covers the CRTC. */
	ret = job_open(&self->j, V4L2_PIX_FMT_XRGB32, self->k.mode.hdisplay,
		       self->k.mode.vdisplay, JOB_MS);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_capture_mmap(&self->j)) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, kms_modeset(&self->k, &wb_fence)) TH_LOG("%s", drm_strerror());
	if (!self->k.wb_id) {
		TH_LOG("vkms has no writeback connector (vkms.enable_writeback=0?): the composed frame is not checked");
		return;
	}
	/* The writeback works and shows the frame the CRTC scans out. */
	ASSERT_LE(0, wb_fence);
	ASSERT_LT(0, poll_fd(wb_fence, POLLIN, TIMEOUT_MS))
		TH_LOG("the modeset's writeback never completed");
	close(wb_fence);
	total = (size_t)self->k.mode.hdisplay * self->k.mode.vdisplay * 3;
	n = wb_count_byte(&self->k, SCANOUT_BYTE);
	ASSERT_EQ(total, n)
		TH_LOG("writeback of the modeset frame: %zu of %zu bytes are the frame", n, total);
}

FIXTURE_TEARDOWN(kms)
{
	kill_switch_restore(&self->kill_switch);
	if (self->sync_fd >= 0)
		close(self->sync_fd);
	if (self->wb_fence >= 0)
		close(self->wb_fence);
	if (self->k.fd >= 0 && self->img_fb)
		drmModeRmFB(self->k.fd, self->img_fb);
	if (self->k.fd >= 0 && self->img_handle)
		drmCloseBufferHandle(self->k.fd, self->img_handle);
	kms_close(&self->k);
	job_close(&self->j);
}

struct flip_event {
	bool seen;
	uint64_t t_us;
	unsigned int sequence;
};

static void flip_handler(int fd, unsigned int sequence, unsigned int tv_sec,
			 unsigned int tv_usec, unsigned int crtc_id, void *data)
{
	struct flip_event *ev = data;

	(void)fd;
	(void)crtc_id;
	ev->seen = true;
	ev->sequence = sequence;
	/* DRM event timestamps are CLOCK_MONOTONIC, like the fence's. */
	ev->t_us = (uint64_t)tv_sec * 1000000 + tv_usec;
}

/*
 * F13's scenario: start a JOB_MS job with producer fences @on (F12), take
 * its fence as a sync_file, import the CAPTURE dma-buf into vkms as an
 * XRGB8888 framebuffer and submit a nonblocking atomic commit with a flip
 * event that puts it on the primary plane, with a writeback of the composed
 * frame, all while the job runs. Then record when the flip, the writeback,
 * the fence and the job completed, and what vkms composed.
 */
static void flip_during_job(struct __test_metadata *_metadata,
			    FIXTURE_DATA(kms) *self, bool on, struct flip *r)
{
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };
	struct m2m_queue *cap = &self->j.dev.cap;
	drmEventContext evctx = {
		.version = 3,
		.page_flip_handler2 = flip_handler,
	};
	struct kms *k = &self->k;
	struct flip_event ev = { 0 };
	struct m2m_buf_state st;
	drmModeAtomicReqPtr req;
	int32_t wb_fence = -1;
	uint32_t x, y, c;
	size_t i;
	int ret;

	memset(r, 0, sizeof(*r));
	self->fences = set_kill_switch(&self->kill_switch, on);
	ASSERT_NE(-EIO, self->fences) TH_LOG("cannot write %s", KILL_SWITCH);
	if (self->fences == -ENOENT)
		TH_LOG("no %s: a kernel without the series, no producer fence", KILL_SWITCH);
	else if (self->fences != on)
		TH_LOG("%s is %s, left as found (%s, or no %s=1)", KILL_SWITCH,
		       self->fences ? "Y" : "N", KEEP_SWITCH_ENV, DESTRUCTIVE_ENV);
	/* The switch is read when a queue is set up: set up the job's anew. */
	job_close(&self->j);
	ASSERT_EQ(0, job_open(&self->j, V4L2_PIX_FMT_XRGB32, k->mode.hdisplay,
			      k->mode.vdisplay, JOB_MS)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_capture_mmap(&self->j)) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, job_start(&self->j)) TH_LOG("%s", m2m_strerror());
	self->sync_fd = dmabuf_export_sync_file(self->j.dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, self->sync_fd) TH_LOG("%s", m2m_strerror());
	r->fence_status = sync_file_status(self->sync_fd);

	/* The consumer imports the buffer it was handed and scans it out. */
	ASSERT_EQ(0, drmPrimeFDToHandle(k->fd, self->j.dmabuf, &self->img_handle))
		TH_LOG("vkms cannot import the CAPTURE dma-buf: %s", strerror(errno));
	handles[0] = self->img_handle;
	pitches[0] = cap->bytesperline[0];
	ASSERT_EQ(0, drmModeAddFB2(k->fd, cap->width, cap->height, DRM_FORMAT_XRGB8888,
				   handles, pitches, offsets, &self->img_fb, 0))
		TH_LOG("drmModeAddFB2(%ux%u XRGB8888, pitch %u): %s", cap->width,
		       cap->height, pitches[0], strerror(errno));

	req = drmModeAtomicAlloc();
	ASSERT_NE(NULL, req);
	ret = add_prop(req, k->plane_id, k->plane_fb_id, self->img_fb);
	if (!ret && k->wb_id)
		ret = add_writeback(k, req, &wb_fence);
	ASSERT_EQ(0, ret);
	ret = drmModeAtomicCommit(k->fd, req,
				  DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT, &ev);
	ret = ret ? -errno : 0;
	r->t_commit = now_us();
	drmModeAtomicFree(req);
	ASSERT_EQ(0, ret) TH_LOG("nonblocking flip commit: %s", strerror(-ret));
	self->wb_fence = wb_fence;

	/* Else the test proves nothing: the flip must be submitted mid-job. */
	r->in_flight_at_commit = job_in_flight(&self->j);
	ASSERT_TRUE(r->in_flight_at_commit)
		TH_LOG("the job had ended %.1f ms after its start, before the commit was submitted: lengthen it",
		       ms(r->t_commit, self->j.t_start));

	while (!ev.seen) {
		ret = poll_fd(k->fd, POLLIN, TIMEOUT_MS);
		ASSERT_LT(0, ret) TH_LOG("no flip event within %d ms", TIMEOUT_MS);
		ASSERT_EQ(0, drmHandleEvent(k->fd, &evctx));
	}
	r->in_flight_at_flip = job_in_flight(&self->j);
	r->t_flip = ev.t_us;

	if (k->wb_id) {
		ASSERT_LE(0, self->wb_fence) TH_LOG("no writeback out-fence");
		ASSERT_LT(0, poll_fd(self->wb_fence, POLLIN, TIMEOUT_MS))
			TH_LOG("the writeback of the flip never completed");
		r->in_flight_at_wb = job_in_flight(&self->j);
		r->t_wb = sync_file_signal_us(self->wb_fence);
		r->wb = true;
	}

	ASSERT_EQ(0, m2m_dqbuf(&self->j.dev, cap, &st, TIMEOUT_MS)) TH_LOG("%s", m2m_strerror());
	r->t_dqbuf = now_us();
	ASSERT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job completed in error");
	if (r->fence_status == 0) {
		ASSERT_EQ(1, sync_file_status(self->sync_fd))
			TH_LOG("CAPTURE dequeued, its fence not signalled");
		r->t_fence = sync_file_signal_us(self->sync_fd);
	}

	if (r->wb) {
		for (y = 0; y < cap->height; y++) {
			for (x = 0; x < cap->width; x++) {
				for (c = 0; c < 3; c++) {	/* B, G, R; not X */
					uint8_t got = k->wb.map[y * k->wb.pitch + x * 4 + c];

					i = (size_t)y * cap->bytesperline[0] + x * 4 + c;
					r->finished += got == job_frame_byte(&self->j, i, st.sequence);
					r->stale += got == STALE_BYTE;
					r->old_scanout += got == SCANOUT_BYTE;
					r->bytes++;
				}
			}
		}
	}

	TH_LOG("producer fences %s; times in ms after the job started (a %d ms job, %ux%u XRGB8888 on CRTC mode %s, from connector mode %s@%u):",
	       self->fences == 1 ? "on" : self->fences == 0 ? "off (kill switch)" : "absent",
	       JOB_MS, cap->width, cap->height, k->mode.name, k->conn_mode.name,
	       k->conn_mode.vrefresh);
	TH_LOG("  commit submitted %8.1f  (job in flight: %s; fence %s)",
	       ms(r->t_commit, self->j.t_start), r->in_flight_at_commit ? "yes" : "no",
	       r->fence_status == 0 ? "active" : r->fence_status == 1 ? "signalled stub" : "error");
	/* The event carries the time of the vblank that flipped (the slot). */
	TH_LOG("  flip (event)     %8.1f  (job in flight when read: %s)",
	       ms(r->t_flip, self->j.t_start), r->in_flight_at_flip ? "yes" : "no");
	if (r->t_fence)
		TH_LOG("  fence signalled  %8.1f", ms(r->t_fence, self->j.t_start));
	else
		TH_LOG("  fence signalled       -   (no producer fence)");
	if (r->wb)
		TH_LOG("  writeback done   %8.1f  (job in flight: %s)",
		       ms(r->t_wb, self->j.t_start), r->in_flight_at_wb ? "yes" : "no");
	TH_LOG("  DQBUF returned   %8.1f", ms(r->t_dqbuf, self->j.t_start));
	if (r->wb)
		TH_LOG("  composed frame: %zu of %zu B,G,R bytes finished frame, %zu stale (0x%02x), %zu old scanout",
		       r->finished, r->bytes, r->stale, STALE_BYTE, r->old_scanout);
}

/*
 * F13: with producer fences on, the nonblocking commit submitted mid-job
 * waits for the producer fence: the flip event is stamped no earlier than
 * the fence's signal, the job is over when the event arrives, and vkms
 * composed the finished frame. With the kill switch off (F12), or on a
 * kernel without the series, these assertions fail: flip_is_early_without_fence
 * shows that outcome.
 */
TEST_F(kms, flip_waits_for_producer_fence)
{
	struct flip r;

	flip_during_job(_metadata, self, true, &r);

	EXPECT_EQ(0, r.fence_status)
		TH_LOG("no active producer fence on the CAPTURE dma-buf while the job ran (status %d)",
		       r.fence_status);
	EXPECT_FALSE(r.in_flight_at_flip)
		TH_LOG("the flip completed while the job was still running, at %.1f ms of a %d ms job",
		       ms(r.t_flip, self->j.t_start), JOB_MS);
	if (r.t_fence) {
		EXPECT_LE(r.t_fence, r.t_flip)
			TH_LOG("flip at %.1f ms, before the producer fence signalled at %.1f ms",
			       ms(r.t_flip, self->j.t_start), ms(r.t_fence, self->j.t_start));
	}
	if (r.wb) {
		EXPECT_EQ(r.bytes, r.finished)
			TH_LOG("vkms composed %zu of %zu bytes of the finished frame (%zu stale, %zu old scanout): the green/stale frame",
			       r.finished, r.bytes, r.stale, r.old_scanout);
	}
}

/*
 * F12, F13: the same program with the kill switch off is the bug the series
 * fixes. No fence: the commit flips at the next vblank, while the job is
 * still running (the event arrives and QUERYBUF still says the CAPTURE
 * buffer is queued, not done), and vkms composes the buffer's old contents.
 */
TEST_F(kms, flip_is_early_without_fence)
{
	struct flip r;

	SKIP_UNLESS_DESTRUCTIVE("flips videobuf2_common.producer_fences");
	flip_during_job(_metadata, self, false, &r);

	EXPECT_NE(0, r.fence_status)
		TH_LOG("producer fences off, yet the CAPTURE dma-buf has an active fence");
	EXPECT_TRUE(r.in_flight_at_flip)
		TH_LOG("without a producer fence the flip was expected before the job ended; it came at %.1f ms, the job was done",
		       ms(r.t_flip, self->j.t_start));
	EXPECT_LT(r.t_flip, r.t_dqbuf);
	if (r.wb && r.in_flight_at_wb) {
		EXPECT_EQ(r.bytes, r.stale)
			TH_LOG("vkms composed mid-job without a fence, yet %zu of %zu bytes are not the pre-job fill (%zu are the finished frame)",
			       r.bytes - r.stale, r.bytes, r.finished);
	} else if (r.wb) {
		TH_LOG("the writeback completed after the job: its frame (%zu of %zu finished) says nothing",
		       r.finished, r.bytes);
	}
}

/*
 * F3 through a second importer: a DRM driver imports the CAPTURE dma-buf
 * (drmPrimeFDToHandle) and exports it again (drmPrimeHandleToFD). That must
 * be the very same dma-buf, so POLLIN on it waits for the producer fence and
 * what is read through it after the signal is the finished frame. With
 * .allocator set, the CAPTURE buffer itself comes from that DRM driver and
 * is imported into V4L2: the fence then sits in the exporter's reservation
 * object, and a different driver imports it.
 */
FIXTURE(reimport) {
	struct job j;
	int importer;			/* DRM fd of the importer */
	int allocator;			/* DRM fd of the allocator, or -1 */
	uint32_t handle;		/* the importer's GEM handle */
	uint32_t alloc_handle;		/* the allocator's dumb buffer */
	int reexport;
	int sync_fd;
	int kill_switch;
	int fences;			/* the kill switch for the job's queue */
};

FIXTURE_VARIANT(reimport) {
	const char *importer;
	const char *allocator;		/* NULL: V4L2 MMAP buffer, EXPBUF */
};

FIXTURE_VARIANT_ADD(reimport, expbuf_vkms) {
	.importer = "vkms",
};

FIXTURE_VARIANT_ADD(reimport, expbuf_vgem) {
	.importer = "vgem",
};

FIXTURE_VARIANT_ADD(reimport, vgem_buffer_vkms) {
	.importer = "vkms",
	.allocator = "vgem",
};

static const char *drm_module_config(const char *name)
{
	return !strcmp(name, "vgem") ? "CONFIG_DRM_VGEM" : "CONFIG_DRM_VKMS";
}

FIXTURE_SETUP(reimport)
{
	struct m2m_queue *cap;
	uint32_t pitch;
	uint64_t size;
	int ret, fd;

	job_init(&self->j);
	self->importer = -1;
	self->allocator = -1;
	self->reexport = -1;
	self->sync_fd = -1;
	self->kill_switch = -1;

	self->importer = drm_open_driver(variant->importer);
	if (self->importer == -ENOENT)
		SKIP(return, "no DRM device with driver \"%s\" to import with (modprobe %s; %s)",
		     variant->importer, variant->importer, drm_module_config(variant->importer));
	ASSERT_LE(0, self->importer) TH_LOG("%s", drm_strerror());
	if (variant->allocator) {
		self->allocator = drm_open_driver(variant->allocator);
		if (self->allocator == -ENOENT)
			SKIP(return, "no DRM device with driver \"%s\" to allocate from (modprobe %s; %s)",
			     variant->allocator, variant->allocator,
			     drm_module_config(variant->allocator));
		ASSERT_LE(0, self->allocator) TH_LOG("%s", drm_strerror());
	}

	/* The switch is read when the queue is set up (F12): set it first. */
	self->fences = set_kill_switch(&self->kill_switch, true);
	ASSERT_NE(-EIO, self->fences) TH_LOG("cannot write %s", KILL_SWITCH);
	ret = job_open(&self->j, V4L2_PIX_FMT_GREY, REIMPORT_W, REIMPORT_H, JOB_MS);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	cap = &self->j.dev.cap;
	if (!variant->allocator) {
		ASSERT_EQ(0, job_capture_mmap(&self->j)) TH_LOG("%s", m2m_strerror());
		return;
	}
	/* A dumb buffer of one byte per pixel rows, as large as the plane. */
	ASSERT_EQ(0, drmModeCreateDumbBuffer(self->allocator, cap->bytesperline[0],
					     (cap->sizeimage[0] + cap->bytesperline[0] - 1) /
					     cap->bytesperline[0], 8, 0,
					     &self->alloc_handle, &pitch, &size))
		TH_LOG("%s: DRM_IOCTL_MODE_CREATE_DUMB: %s", variant->allocator, strerror(errno));
	ASSERT_LE(cap->sizeimage[0], size);
	ASSERT_EQ(0, drmPrimeHandleToFD(self->allocator, self->alloc_handle,
					DRM_CLOEXEC | DRM_RDWR, &fd))
		TH_LOG("%s: export of its buffer: %s", variant->allocator, strerror(errno));
	ASSERT_EQ(0, job_capture_import(&self->j, fd)) TH_LOG("%s", m2m_strerror());
}

FIXTURE_TEARDOWN(reimport)
{
	kill_switch_restore(&self->kill_switch);
	if (self->sync_fd >= 0)
		close(self->sync_fd);
	if (self->reexport >= 0)
		close(self->reexport);
	if (self->importer >= 0) {
		if (self->handle)
			drmCloseBufferHandle(self->importer, self->handle);
		close(self->importer);
	}
	job_close(&self->j);
	if (self->allocator >= 0) {
		if (self->alloc_handle)
			drmModeDestroyDumbBuffer(self->allocator, self->alloc_handle);
		close(self->allocator);
	}
}

TEST_F(reimport, reexport_waits_for_fence)
{
	struct m2m_queue *cap = &self->j.dev.cap;
	struct sync_fence_info info[4];
	struct stat a, b;
	struct m2m_buf_state st;
	size_t len = cap->sizeimage[0], i, bad = 0;
	double waited;
	uint8_t *map;
	int s, n;

	ASSERT_EQ(0, job_start(&self->j)) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, drmPrimeFDToHandle(self->importer, self->j.dmabuf, &self->handle))
		TH_LOG("%s cannot import the CAPTURE dma-buf: %s", variant->importer,
		       strerror(errno));
	ASSERT_EQ(0, drmPrimeHandleToFD(self->importer, self->handle,
					DRM_CLOEXEC | DRM_RDWR, &self->reexport))
		TH_LOG("%s cannot export the imported buffer: %s", variant->importer,
		       strerror(errno));
	ASSERT_EQ(0, fstat(self->j.dmabuf, &a));
	ASSERT_EQ(0, fstat(self->reexport, &b));
	ASSERT_TRUE(a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		TH_LOG("%s re-exported another dma-buf (inode %lu, not %lu): its consumers would not see the fence",
		       variant->importer, (unsigned long)b.st_ino, (unsigned long)a.st_ino);

	EXPECT_EQ(0, poll_fd(self->reexport, POLLIN, 0))
		TH_LOG("the dma-buf re-exported by %s is readable while the job runs",
		       variant->importer);
	self->sync_fd = dmabuf_export_sync_file(self->reexport, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, self->sync_fd) TH_LOG("%s", m2m_strerror());
	s = sync_file_status(self->sync_fd);
	n = sync_file_fences(self->sync_fd, info, 4);
	EXPECT_EQ(0, s) TH_LOG("sync_file of the re-exported dma-buf: status %d, not active", s);
	EXPECT_LT(0, n);
	if (n > 0) {
		EXPECT_STREQ(FENCE_DRIVER, info[0].driver_name);
	}
	ASSERT_TRUE(job_in_flight(&self->j))
		TH_LOG("the job was done after %.1f ms, before the checks: they prove nothing",
		       ms(now_us(), self->j.t_start));

	/* The second importer's consumer waits on the dma-buf it was given. */
	ASSERT_LT(0, poll_fd(self->reexport, POLLIN, TIMEOUT_MS) & POLLIN)
		TH_LOG("the fence never signalled");
	waited = ms(now_us(), self->j.t_start);
	EXPECT_LE(JOB_MS * 0.8, waited)
		TH_LOG("POLLIN on the re-exported dma-buf after %.1f ms of a %d ms job",
		       waited, JOB_MS);
	EXPECT_EQ(1, sync_file_status(self->sync_fd));
	ASSERT_EQ(0, m2m_dqbuf(&self->j.dev, cap, &st, 100))
		TH_LOG("fence signalled but CAPTURE not dequeueable: %s", m2m_strerror());
	ASSERT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR);

	/* F4 through the second importer: the frame is there. */
	map = dmabuf_mmap(self->reexport, len, PROT_READ);
	ASSERT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	dmabuf_sync(self->reexport, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < len; i++)
		bad += map[i] != job_frame_byte(&self->j, i, st.sequence);
	dmabuf_sync(self->reexport, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(map, len);
	EXPECT_EQ(0U, bad)
		TH_LOG("%zu of %zu bytes read through %s's re-export are not the frame",
		       bad, len, variant->importer);
	TH_LOG("%s: POLLIN on the re-exported dma-buf after %.1f ms of a %d ms job",
	       variant->importer, waited, JOB_MS);
}

TEST_HARNESS_MAIN
