// SPDX-License-Identifier: GPL-2.0
/*
 * Contract clause F1 (opt-in, zero cost otherwise), checked on vim2m.
 *
 * vim2m does not opt in to producer fences unless the kernel has the vim2m
 * follow-up of the series (patches/vim2m/); with it every test below skips,
 * and make check runs them on a vim2m built from the base sources instead.
 * Without it vim2m's CAPTURE buffers must carry no fence in their dma_resv
 * even while a job is writing them: poll(POLLIN)
 * on an exported CAPTURE dma-buf is ready at once and
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE hands out an already signalled (stub) fence.
 * This is the behaviour before the series, and it must not change after it.
 *
 * Each test first makes the observation, then proves that the job was still
 * in flight at that moment (the CAPTURE buffer is still QUEUED, not DONE, and
 * the video node is not readable), so a "ready" result cannot be explained by
 * a job that had already finished. The job is made long (about 500 ms) with
 * vim2m's per-context "Transaction Time (msec)" control, found by name.
 *
 * What v3 adds for opted-in queues must not reach vim2m either: its CAPTURE
 * queue does not claim producer fences (F16), and another device's pending
 * access to its buffers (a sw_sync fence imported into the CAPTURE dma-buf)
 * does not hold its job (F15 is for opted-in queues only).
 *
 * Needs: vim2m (CONFIG_VIDEO_VIM2M, loaded with modprobe if it is not),
 * CONFIG_SYNC_FILE for the sync_file test, CONFIG_SW_SYNC and debugfs for
 * the fence tests (they skip without), the system dma-buf heap for their
 * imported variant.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "m2m_util.h"

#define DRIVER			"vim2m"
#define TRANS_TIME_CTRL		"Transaction Time (msec)"
#define TRANS_TIME_MS		500
#define MIN_TRANS_TIME_MS	200	/* shorter and "in flight" gets racy */
#define JOB_TIMEOUT_MS		5000
#define FRAME_WIDTH		64
#define FRAME_HEIGHT		64
#define STALE_BYTE		0x5a	/* CAPTURE fill before the job */
#define FENCED_TRANS_MS		100	/* job length of the fence tests */
#define RESCUE_MS		3000	/* when their rescue signals the fence */

/*
 * Whether vim2m's CAPTURE queue publishes producer fences on this kernel:
 * REQBUFS with no buffers reports the queue's capabilities.
 */
static bool capture_publishes(const struct m2m_dev *dev)
{
	struct v4l2_requestbuffers rb = {
		.type = dev->cap.type,
		.memory = V4L2_MEMORY_MMAP,
	};

	return !ioctl(dev->fd, VIDIOC_REQBUFS, &rb) &&
	       (rb.capabilities & V4L2_BUF_CAP_PRODUCER_FENCES);
}

/*
 * Open vim2m in @dev, or end the calling fixture setup: SKIP without vim2m
 * or with a vim2m that publishes, ASSERT if it cannot be opened.
 */
#define OPEN_VIM2M(dev) do {							\
	int __ret = m2m_open((dev), DRIVER);					\
										\
	if (__ret == -ENOENT)							\
		SKIP(return, "no vim2m device, and modprobe vim2m failed (CONFIG_VIDEO_VIM2M)"); \
	ASSERT_EQ(0, __ret) TH_LOG("cannot open the vim2m device: %s",	\
				   m2m_strerror());				\
	if (capture_publishes(dev))						\
		SKIP(return, "vim2m publishes producer fences on this kernel (the vim2m follow-up opts it in): these tests need a driver that does not"); \
} while (0)

FIXTURE(vim2m_job) {
	struct m2m_dev dev;
	int dmabuf;		/* EXPBUF of CAPTURE buffer 0, plane 0 */
	size_t len;		/* length of that plane */
	uint8_t *before;	/* its contents before the job */
	int64_t trans_ms;	/* transaction time the driver accepted */
	uint64_t t_start;	/* just before the STREAMON that starts the job */
};

/*
 * One OUTPUT and one CAPTURE buffer, both queued, both queues streaming:
 * vim2m commits the job (device_run) during the second STREAMON and
 * completes the buffers TRANS_TIME_MS later.
 */
FIXTURE_SETUP(vim2m_job)
{
	struct m2m_queue *out = &self->dev.out, *cap = &self->dev.cap;
	char fo[8], fc[8];
	int ret;

	self->dmabuf = -1;
	self->before = NULL;

	OPEN_VIM2M(&self->dev);

	ret = m2m_set_ctrl_by_name(self->dev.fd, TRANS_TIME_CTRL, TRANS_TIME_MS,
				   &self->trans_ms);
	ASSERT_EQ(0, ret) TH_LOG("cannot set the job length through vim2m's \"%s\" control: %s",
				 TRANS_TIME_CTRL, m2m_strerror());
	ASSERT_GE(self->trans_ms, MIN_TRANS_TIME_MS)
		TH_LOG("vim2m accepted a %lld ms transaction time (asked %d): too short to catch a job in flight",
		       (long long)self->trans_ms, TRANS_TIME_MS);

	ret = m2m_set_formats(&self->dev, 0, 0, FRAME_WIDTH, FRAME_HEIGHT);
	ASSERT_EQ(0, ret) TH_LOG("cannot set formats: %s", m2m_strerror());
	TH_LOG("%s (%s): OUTPUT %s %ux%u, CAPTURE %s %ux%u, %u ms job",
	       self->dev.path, self->dev.mplane ? "multi-planar" : "single-planar",
	       m2m_fourcc_str(out->fourcc, fo), out->width, out->height,
	       m2m_fourcc_str(cap->fourcc, fc), cap->width, cap->height,
	       (unsigned int)self->trans_ms);

	ret = m2m_reqbufs(&self->dev, out, 1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = m2m_reqbufs(&self->dev, cap, 1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());

	/* Recognisable input; a CAPTURE fill the job must overwrite. */
	fill_pattern(out->bufs[0].map[0], out->bufs[0].length[0], 1);
	self->len = cap->bufs[0].length[0];
	memset(cap->bufs[0].map[0], STALE_BYTE, self->len);
	self->before = malloc(self->len);
	ASSERT_NE(NULL, self->before) TH_LOG("out of memory (%zu bytes)",
					     self->len);
	memcpy(self->before, cap->bufs[0].map[0], self->len);

	self->dmabuf = m2m_expbuf(&self->dev, cap, 0, 0, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->dmabuf, 0) TH_LOG("%s", m2m_strerror());

	ret = m2m_qbuf(&self->dev, cap, 0);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = m2m_qbuf(&self->dev, out, 0);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = m2m_streamon(&self->dev, out);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	self->t_start = now_us();
	ret = m2m_streamon(&self->dev, cap);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
}

/*
 * Also reached from a failed ASSERT, while the harness still has that
 * failure's handler armed: log explicitly, never from an EXPECT's handler.
 */
FIXTURE_TEARDOWN(vim2m_job)
{
	struct m2m_queue *q[] = { &self->dev.cap, &self->dev.out };
	unsigned int i;
	int ret;

	for (i = 0; i < 2 && self->dev.fd >= 0; i++) {
		if (!q[i]->streaming)
			continue;
		ret = m2m_streamoff(&self->dev, q[i]);
		if (ret)
			TH_LOG("teardown: %s", m2m_strerror());
		EXPECT_EQ(0, ret);
	}
	if (self->dmabuf >= 0)
		close(self->dmabuf);
	self->dmabuf = -1;
	free(self->before);
	self->before = NULL;
	m2m_close(&self->dev);
}

/*
 * Called right after an observation: a job still running now was running
 * when the observation was made, so the observation saw a job in flight.
 */
static void assert_job_in_flight(struct __test_metadata *_metadata,
				 FIXTURE_DATA(vim2m_job) *self,
				 const char *what)
{
	struct m2m_buf_state st;
	int revents, ret;

	ret = m2m_querybuf(&self->dev, &self->dev.cap, 0, &st);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_TRUE((st.flags & V4L2_BUF_FLAG_QUEUED) &&
		    !(st.flags & V4L2_BUF_FLAG_DONE))
		TH_LOG("job not in flight when %s (CAPTURE flags 0x%08x, %.1f ms into a %lld ms job): proves nothing",
		       what, st.flags, ms_since(self->t_start),
		       (long long)self->trans_ms);

	revents = poll_fd(self->dev.fd, POLLIN, 0);
	ASSERT_GE(revents, 0) TH_LOG("%s", m2m_strerror());
	ASSERT_FALSE(revents & POLLIN)
		TH_LOG("the video node is already readable after %s (revents 0x%x): the job was done",
		       what, revents);
}

/* Dequeue the CAPTURE buffer of the fixture's job and check it succeeded. */
static void dequeue_capture(struct __test_metadata *_metadata,
			    FIXTURE_DATA(vim2m_job) *self,
			    struct m2m_buf_state *st)
{
	double elapsed;
	int ret;

	ret = m2m_dqbuf(&self->dev, &self->dev.cap, st, JOB_TIMEOUT_MS);
	ASSERT_EQ(0, ret) TH_LOG("the job did not complete normally: %s",
				 m2m_strerror());
	elapsed = ms_since(self->t_start);
	EXPECT_EQ(0U, st->flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("CAPTURE buffer completed with V4L2_BUF_FLAG_ERROR (flags 0x%08x)",
		       st->flags);
	/* The job took its configured time: it was a real job in flight. */
	EXPECT_GE(elapsed, self->trans_ms * 0.8)
		TH_LOG("CAPTURE buffer done after %.1f ms, well before the %lld ms transaction time",
		       elapsed, (long long)self->trans_ms);
}

/*
 * F1: a non-opted-in queue publishes no fence, so poll(POLLIN) on a CAPTURE
 * dma-buf is ready at once although the device has not finished the job.
 */
TEST_F(vim2m_job, capture_dmabuf_ready_while_job_runs)
{
	struct m2m_buf_state st;
	int revents;

	revents = poll_fd(self->dmabuf, POLLIN, 0);
	ASSERT_GE(revents, 0) TH_LOG("%s", m2m_strerror());
	assert_job_in_flight(_metadata, self, "the CAPTURE dma-buf was polled");

	EXPECT_TRUE(revents & POLLIN)
		TH_LOG("poll(POLLIN, 0) on vim2m's CAPTURE dma-buf not ready (revents 0x%x): a fence is there",
		       revents);
	EXPECT_FALSE(revents & (POLLERR | POLLNVAL))
		TH_LOG("poll on the CAPTURE dma-buf reported an error (revents 0x%x)",
		       revents);

	dequeue_capture(_metadata, self, &st);
}

/*
 * F1: with no fence in the dma_resv, EXPORT_SYNC_FILE returns the stub fence,
 * signalled already, for readers and writers alike, while the job runs.
 */
TEST_F(vim2m_job, export_sync_file_is_signalled_stub)
{
	static const struct {
		uint32_t flags;
		const char *name;
	} mode[] = {
		{ DMA_BUF_SYNC_READ, "READ" },
		{ DMA_BUF_SYNC_WRITE, "WRITE" },
		{ DMA_BUF_SYNC_RW, "READ|WRITE" },
	};
	struct sync_fence_info info[4];
	int status[3], nfences[3];
	struct m2m_buf_state st;
	unsigned int i;
	int fd;

	for (i = 0; i < 3; i++) {
		fd = dmabuf_export_sync_file(self->dmabuf, mode[i].flags);
		ASSERT_GE(fd, 0) TH_LOG("%s (kernel without CONFIG_SYNC_FILE?)",
					m2m_strerror());
		status[i] = sync_file_status(fd);
		nfences[i] = sync_file_fences(fd, info, 4);
		if (status[i] != 1 && nfences[i] > 0)
			TH_LOG("EXPORT_SYNC_FILE(%s): fence %s:%s, status %d",
			       mode[i].name, info[0].driver_name,
			       info[0].obj_name, info[0].status);
		close(fd);
	}
	assert_job_in_flight(_metadata, self,
			     "the sync_files were exported and queried");

	for (i = 0; i < 3; i++) {
		EXPECT_EQ(1, status[i])
			TH_LOG("EXPORT_SYNC_FILE(%s) on vim2m's CAPTURE dma-buf: status %d, expected 1 (signalled)",
			       mode[i].name, status[i]);
		EXPECT_EQ(1, nfences[i])
			TH_LOG("EXPORT_SYNC_FILE(%s): %d fences (<0: query failed), expected 1, the stub",
			       mode[i].name, nfences[i]);
	}

	dequeue_capture(_metadata, self, &st);
}

/*
 * Fixture sanity for F1: the job really wrote the CAPTURE buffer. vim2m with
 * the same format on both queues and no flip copies OUTPUT to CAPTURE, so
 * after DQBUF the dma-buf must hold the OUTPUT pattern, not the fill the
 * buffer had before the job. Otherwise the tests above watched an idle device.
 */
TEST_F(vim2m_job, dequeued_capture_holds_job_output)
{
	struct m2m_queue *out = &self->dev.out, *cap = &self->dev.cap;
	struct m2m_buf_state st;
	size_t used, changed;
	uint8_t *map;
	int ret;

	dequeue_capture(_metadata, self, &st);
	used = st.bytesused[0];
	ASSERT_LT(0U, used) TH_LOG("CAPTURE buffer dequeued with bytesused 0");
	ASSERT_LE(used, self->len) TH_LOG("bytesused %zu > plane length %zu",
					  used, self->len);

	map = dmabuf_mmap(self->dmabuf, self->len, PROT_READ);
	ASSERT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	ret = dmabuf_sync(self->dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());

	changed = used - count_equal_bytes(map, self->before, used);
	EXPECT_LT(0U, changed)
		TH_LOG("CAPTURE unchanged by the job: the device did no work, the tests that vim2m publishes no fence measured nothing");
	EXPECT_EQ(used, changed)
		TH_LOG("only %zu of %zu CAPTURE bytes changed during the job",
		       changed, used);
	if (out->fourcc == cap->fourcc && out->width == cap->width &&
	    out->height == cap->height && used <= out->bufs[0].length[0])
		EXPECT_EQ(0, memcmp(map, out->bufs[0].map[0], used))
			TH_LOG("CAPTURE != OUTPUT despite identical formats: %zu of %zu bytes match",
			       count_equal_bytes(map, out->bufs[0].map[0], used),
			       used);

	ret = dmabuf_sync(self->dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	munmap(map, self->len);
}

/*
 * F1, F16: vim2m does not opt in, so neither VIDIOC_REQBUFS nor
 * VIDIOC_CREATE_BUFS may claim V4L2_BUF_CAP_PRODUCER_FENCES for its queues.
 */
TEST_F(vim2m_job, capture_queue_reports_no_producer_fences)
{
	struct m2m_queue *out = &self->dev.out, *cap = &self->dev.cap;
	int ret;

	ASSERT_NE(0U, cap->caps & V4L2_BUF_CAP_SUPPORTS_MMAP)
		TH_LOG("REQBUFS(CAPTURE) reported no capabilities at all (0x%x)",
		       cap->caps);
	EXPECT_EQ(0U, cap->caps & V4L2_BUF_CAP_PRODUCER_FENCES)
		TH_LOG("REQBUFS on vim2m's CAPTURE queue reports V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)",
		       cap->caps);
	EXPECT_EQ(0U, out->caps & V4L2_BUF_CAP_PRODUCER_FENCES)
		TH_LOG("REQBUFS on vim2m's OUTPUT queue reports V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)",
		       out->caps);

	ret = m2m_create_bufs_caps(&self->dev, cap, V4L2_MEMORY_MMAP);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0U, cap->caps & V4L2_BUF_CAP_PRODUCER_FENCES)
		TH_LOG("CREATE_BUFS on vim2m's CAPTURE queue reports V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)",
		       cap->caps);
}

/*
 * A vim2m context whose CAPTURE buffer carries another device's pending
 * access (a sw_sync fence the test imports, and signals only at the end).
 * The buffer is MMAP and exported, or imported from a dma-buf heap: then the
 * fence is in the very reservation object vb2 looks at, which is where a
 * kernel that applied F15 to every queue would see it. Nothing is queued yet.
 */
FIXTURE(vim2m_fence) {
	struct m2m_dev dev;
	int dmabuf;		/* CAPTURE buffer 0's dma-buf */
	int timeline;		/* sw_sync timeline */
	pid_t rescue;		/* signals the fence after RESCUE_MS, or 0 */
	int64_t trans_ms;	/* transaction time the driver accepted */
	uint64_t t_start;	/* just before the STREAMON that starts the job */
};

FIXTURE_VARIANT(vim2m_fence) {
	const char *heap;	/* NULL: MMAP and VIDIOC_EXPBUF */
};

FIXTURE_VARIANT_ADD(vim2m_fence, expbuf) {
	.heap = NULL,
};

FIXTURE_VARIANT_ADD(vim2m_fence, system_heap) {
	.heap = "system",
};

FIXTURE_SETUP(vim2m_fence)
{
	struct m2m_queue *out = &self->dev.out, *cap = &self->dev.cap;
	int ret;

	self->dmabuf = -1;
	self->rescue = 0;
	self->timeline = sw_sync_timeline_open();
	if (self->timeline == -ENOENT)
		SKIP(return, "%s", m2m_strerror());
	ASSERT_LE(0, self->timeline) TH_LOG("%s", m2m_strerror());

	OPEN_VIM2M(&self->dev);
	ret = m2m_set_ctrl_by_name(self->dev.fd, TRANS_TIME_CTRL, FENCED_TRANS_MS,
				   &self->trans_ms);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = m2m_set_formats(&self->dev, 0, 0, FRAME_WIDTH, FRAME_HEIGHT);
	ASSERT_EQ(0, ret) TH_LOG("cannot set formats: %s", m2m_strerror());
	ret = m2m_reqbufs(&self->dev, out, 1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	fill_pattern(out->bufs[0].map[0], out->bufs[0].length[0], 1);

	if (!variant->heap) {
		ret = m2m_reqbufs(&self->dev, cap, 1);
		ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
		self->dmabuf = m2m_expbuf(&self->dev, cap, 0, 0, O_RDWR | O_CLOEXEC);
		ASSERT_GE(self->dmabuf, 0) TH_LOG("%s", m2m_strerror());
		return;
	}
	ret = m2m_reqbufs_dmabuf(&self->dev, cap, 1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	self->dmabuf = dma_heap_alloc(variant->heap, cap->sizeimage[0]);
	if (self->dmabuf == -ENOENT)
		SKIP(return, "no dma-buf heap \"%s\": %s", variant->heap,
		     m2m_strerror());
	ASSERT_GE(self->dmabuf, 0) TH_LOG("%s", m2m_strerror());
	cap->bufs[0].fd[0] = self->dmabuf;
	cap->bufs[0].length[0] = cap->sizeimage[0];
}

/*
 * The rescue first, so that closing the timeline, its last fd, signals its
 * fence (with an error) if the test did not.
 */
FIXTURE_TEARDOWN(vim2m_fence)
{
	sw_sync_rescue_cancel(self->rescue);
	self->rescue = 0;
	if (self->timeline >= 0)
		close(self->timeline);
	self->timeline = -1;
	m2m_close(&self->dev);
	if (self->dmabuf >= 0)
		close(self->dmabuf);
	self->dmabuf = -1;
}

/*
 * F1 (F15 is for opted-in queues only): a fence imported into vim2m's
 * CAPTURE dma-buf with @flags (@what) and left pending does not hold the
 * job, which completes in its transaction time. Should the kernel wait for
 * the fence where it must not, the rescue signals it after RESCUE_MS and the
 * job's time says so.
 */
static void fence_does_not_hold_job(struct __test_metadata *_metadata,
				    FIXTURE_DATA(vim2m_fence) *self,
				    uint32_t flags, const char *what)
{
	struct m2m_queue *out = &self->dev.out, *cap = &self->dev.cap;
	struct m2m_buf_state st;
	int fence, ret, status;
	double elapsed;

	fence = sw_sync_fence(self->timeline, 1);
	ASSERT_LE(0, fence) TH_LOG("%s", m2m_strerror());
	ret = dmabuf_import_sync_file(self->dmabuf, fence, flags);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(1, dmabuf_pending_fences(self->dmabuf, "sw_sync"))
		TH_LOG("the imported %s is not pending in the CAPTURE dma-buf: %s",
		       what, m2m_strerror());
	self->rescue = sw_sync_rescue(self->timeline, 1, RESCUE_MS);
	ASSERT_LT(0, self->rescue) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, m2m_qbuf(&self->dev, cap, 0)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_qbuf(&self->dev, out, 0)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_streamon(&self->dev, out)) TH_LOG("%s", m2m_strerror());
	self->t_start = now_us();
	ASSERT_EQ(0, m2m_streamon(&self->dev, cap)) TH_LOG("%s", m2m_strerror());
	ret = m2m_dqbuf(&self->dev, cap, &st, self->trans_ms + 1000);
	elapsed = ms_since(self->t_start);
	ASSERT_EQ(0, ret)
		TH_LOG("vim2m's job waited for a %s on its CAPTURE buffer: %s",
		       what, m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("CAPTURE buffer completed with V4L2_BUF_FLAG_ERROR (flags 0x%08x)",
		       st.flags);
	EXPECT_LT(0U, st.bytesused[0]) TH_LOG("CAPTURE buffer dequeued with bytesused 0");
	status = sync_file_status(fence);
	EXPECT_EQ(0, status)
		TH_LOG("the %s was no longer pending (status %d) when the job completed after %.1f ms: the test proves nothing",
		       what, status, elapsed);
	ret = sw_sync_rescue_cancel(self->rescue);
	self->rescue = 0;
	EXPECT_EQ(0, ret)
		TH_LOG("the rescue had to signal the %s: something waited for it",
		       what);

	/* The other device is done with the buffer. */
	EXPECT_EQ(0, sw_sync_inc(self->timeline, 1)) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(1, sync_file_status(fence));
	close(fence);
}

TEST_F(vim2m_fence, read_fence_does_not_hold_job)
{
	fence_does_not_hold_job(_metadata, self, DMA_BUF_SYNC_READ, "READ fence");
}

TEST_F(vim2m_fence, write_fence_does_not_hold_job)
{
	fence_does_not_hold_job(_metadata, self, DMA_BUF_SYNC_WRITE, "WRITE fence");
}

/*
 * Without any vim2m device, say so once and exit with KSFT_SKIP, so that the
 * runner reports a skip rather than a pass made of skipped tests. With
 * arguments (-l, -t name, ...) everything is left to the harness.
 */
int main(int argc, char **argv)
{
	struct m2m_dev dev;

	if (argc == 1) {
		if (m2m_open(&dev, DRIVER) == -ENOENT) {
			ksft_print_header();
			ksft_exit_skip("no vim2m device, and modprobe vim2m failed (CONFIG_VIDEO_VIM2M)\n");
		}
		m2m_close(&dev);
	}
	return test_harness_run(argc, argv);
}
