// SPDX-License-Identifier: GPL-2.0
/*
 * The producer-fence contract (CONTRACT.md F2-F7, F8 in part, F10, F12, F14) on an opted-in
 * V4L2 mem2mem device.
 *
 * The device is found by driver name: $VB2_RESV_DRIVER, by default the test
 * module "vb2-resv-test". Tests that need the test module's job controls
 * ("Job Result": error or hang) skip, saying so, on a device without them.
 *
 * Every test that looks at a fence first makes sure the job is long enough
 * ("Transaction Time (msec)") to be observed in flight, and checks after the
 * observation that the job was indeed still running, so that "no fence" can
 * never be explained by a job that had already ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "m2m_util.h"
#include "vb2_resv_test.h"

#define JOB_RESULT_CTRL		"Job Result"
#define HOLD_RESV_CTRL		"Hold Reservation (msec)"
#define JOB_DONE		0
#define JOB_ERROR		1
#define JOB_HANG		2
#define JOB_MS			400
#define JOB_TIMEOUT_MS		5000
#define FRAME_W			64
#define FRAME_H			64
#define STALE_BYTE		0x5a
#define WATCHDOG_PARAM		"/sys/module/vb2_resv_test/parameters/watchdog_ms"
#define MEM_PARAM		"/sys/module/vb2_resv_test/parameters/mem"
#define PDRV_DIR		"/sys/bus/platform/drivers/" DEFAULT_DRIVER
#define STATS			"/sys/kernel/debug/" DEFAULT_DRIVER "/stats"
#define FAILSLAB		"/sys/kernel/debug/failslab"
#define CMA_HEAP		"default_cma_region"

/* One context with one buffer per queue and every CAPTURE plane exported. */
struct job {
	struct m2m_dev dev;
	int dmabuf[VIDEO_MAX_PLANES];
	unsigned int planes;
	uint64_t t_start;
};

static void job_init(struct job *j)
{
	unsigned int p;

	memset(j, 0, sizeof(*j));
	j->dev.fd = -1;
	for (p = 0; p < VIDEO_MAX_PLANES; p++)
		j->dmabuf[p] = -1;
}

/*
 * Give CAPTURE buffer 0 planes allocated from dma-buf heap @heap, imported
 * with V4L2_MEMORY_DMABUF; j->dmabuf[] owns them. -ENOTSUP: no such heap.
 */
static int job_import_capture(struct job *j, const char *heap)
{
	struct m2m_queue *cap = &j->dev.cap;
	unsigned int p;
	int ret, fd;

	ret = m2m_reqbufs_dmabuf(&j->dev, cap, 1);
	if (ret)
		return ret;
	for (p = 0; p < cap->num_planes; p++) {
		fd = dma_heap_alloc(heap, cap->sizeimage[p]);
		if (fd < 0)
			return fd == -ENOENT ? -ENOTSUP : fd;
		j->dmabuf[p] = fd;
		cap->bufs[0].fd[p] = fd;
		cap->bufs[0].length[p] = cap->sizeimage[p];
	}
	return 0;
}

/*
 * Open a context of the device, ask for jobs of @job_ms and result @result
 * (-1: leave the control alone), set @fourcc (0: the device's first), @nbufs
 * buffers per queue, OUTPUT filled, CAPTURE stale. CAPTURE is MMAP with
 * every plane of buffer 0 exported, or, if @heap is not NULL, one buffer
 * imported from that dma-buf heap. j->dmabuf[] holds buffer 0's dma-bufs.
 * Returns 0, -ENOENT (no device), -ENOTSUP (no such control, format or
 * heap) or another error, with m2m_strerror() saying what failed.
 */
static int job_open_n(struct job *j, uint32_t fourcc, int job_ms, int result,
		      unsigned int nbufs, const char *heap)
{
	struct m2m_queue *out = &j->dev.out, *cap = &j->dev.cap;
	unsigned int i, p;
	uint8_t *map;
	int ret;

	ret = open_timed_context(&j->dev, job_ms);
	if (ret)
		return ret;
	if (result >= 0) {
		ret = m2m_set_ctrl_by_name(j->dev.fd, JOB_RESULT_CTRL, result, NULL);
		if (ret)
			return ret == -ENOENT ? -ENOTSUP : ret;
	}
	ret = m2m_set_formats(&j->dev, fourcc, fourcc, FRAME_W, FRAME_H);
	if (ret)
		return ret;
	if (fourcc && cap->fourcc != fourcc)
		return -ENOTSUP;
	ret = m2m_reqbufs(&j->dev, out, nbufs);
	if (ret)
		return ret;
	if (out->count < nbufs)
		return -ENOTSUP;
	for (i = 0; i < nbufs; i++) {
		fill_pattern(out->bufs[i].map[0], out->bufs[i].length[0], 3 + i);
		out->bufs[i].bytesused[0] = out->bufs[i].length[0];
	}
	j->planes = cap->num_planes;

	if (heap) {
		if (nbufs != 1)
			return -EINVAL;
		ret = job_import_capture(j, heap);
		if (ret)
			return ret;
		for (p = 0; p < j->planes; p++) {
			map = dmabuf_mmap(j->dmabuf[p], cap->sizeimage[p], PROT_WRITE);
			if (!map)
				return -errno;
			dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			memset(map, STALE_BYTE, cap->sizeimage[p]);
			dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
			munmap(map, cap->sizeimage[p]);
		}
		return 0;
	}

	ret = m2m_reqbufs(&j->dev, cap, nbufs);
	if (ret)
		return ret;
	if (cap->count < nbufs)
		return -ENOTSUP;
	for (i = 0; i < nbufs; i++)
		for (p = 0; p < j->planes; p++)
			memset(cap->bufs[i].map[p], STALE_BYTE, cap->bufs[i].length[p]);
	for (p = 0; p < j->planes; p++) {
		j->dmabuf[p] = m2m_expbuf(&j->dev, cap, 0, p, O_RDWR | O_CLOEXEC);
		if (j->dmabuf[p] < 0)
			return j->dmabuf[p];
	}
	return 0;
}

static int job_open(struct job *j, uint32_t fourcc, int job_ms, int result)
{
	return job_open_n(j, fourcc, job_ms, result, 1, NULL);
}

static void job_close(struct job *j)
{
	unsigned int p;

	for (p = 0; p < VIDEO_MAX_PLANES; p++)
		if (j->dmabuf[p] >= 0)
			close(j->dmabuf[p]);
	m2m_close(&j->dev);
	job_init(j);
}

/* Queue CAPTURE (and OUTPUT unless @capture_only) and stream on both. */
static int job_start(struct job *j, bool capture_only)
{
	int ret;

	ret = m2m_qbuf(&j->dev, &j->dev.cap, 0);
	if (!ret && !capture_only)
		ret = m2m_qbuf(&j->dev, &j->dev.out, 0);
	if (!ret && !j->dev.out.streaming)
		ret = m2m_streamon(&j->dev, &j->dev.out);
	j->t_start = now_us();
	if (!ret && !j->dev.cap.streaming)
		ret = m2m_streamon(&j->dev, &j->dev.cap);
	return ret;
}

static bool job_in_flight(struct job *j)
{
	struct m2m_buf_state st;

	if (m2m_querybuf(&j->dev, &j->dev.cap, 0, &st))
		return false;
	return (st.flags & V4L2_BUF_FLAG_QUEUED) && !(st.flags & V4L2_BUF_FLAG_DONE);
}

static double ms_since(uint64_t t0)
{
	return (now_us() - t0) / 1000.0;
}

/*
 * Open a context of the device, start a job of @job_ms ending in @result and
 * take its fence as a sync_file in @sync_fd, skipping where the device cannot
 * run the test. A macro, so that SKIP and ASSERT end the calling test.
 */
#define START_FENCED_JOB(job_ms, result, sync_fd) do {				\
	int __ret = job_open(&self->a, 0, (job_ms), (result));			\
										\
	SKIP_IF_UNSUPPORTED(__ret);						\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());	\
	(sync_fd) = dmabuf_export_sync_file(self->a.dmabuf[0], DMA_BUF_SYNC_READ); \
	ASSERT_LE(0, (sync_fd)) TH_LOG("%s", m2m_strerror());			\
} while (0)

FIXTURE(fence) {
	struct job a;
	struct job b;
	int kill_switch;	/* value to restore, or -1 */
	bool rebind;		/* the test unbound the test device */
	bool failslab;		/* the test armed failslab */
};

FIXTURE_SETUP(fence)
{
	job_init(&self->a);
	job_init(&self->b);
	self->kill_switch = -1;
}

static void failslab_disarm(void);

FIXTURE_TEARDOWN(fence)
{
	if (self->kill_switch >= 0)
		write_file(KILL_SWITCH, self->kill_switch ? "1" : "0");
	if (self->failslab)
		failslab_disarm();
	job_close(&self->a);
	job_close(&self->b);
	if (self->rebind)
		write_file(PDRV_DIR "/bind", DEFAULT_DRIVER);
}

/* The fence seen through @dmabuf now: 0 active, 1 signalled, <0 error. */
static int fence_status(int dmabuf, char *driver, size_t len)
{
	struct sync_fence_info info[4];
	int fd, status, n;

	fd = dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	if (fd < 0)
		return fd;
	status = sync_file_status(fd);
	n = sync_file_fences(fd, info, 4);
	if (driver && len)
		snprintf(driver, len, "%s", n > 0 ? info[0].driver_name : "");
	close(fd);
	return status;
}

/*
 * F2: a CAPTURE buffer queued while no OUTPUT buffer is queued has no job, so
 * it carries no fence: POLLIN is ready and EXPORT_SYNC_FILE is signalled. The
 * fence appears only once OUTPUT is queued and the job is committed.
 */
TEST_F(fence, capture_queued_alone_is_idle)
{
	int ret;

	ret = job_open(&self->a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->a, true)) TH_LOG("%s", m2m_strerror());
	usleep(50 * 1000);

	EXPECT_TRUE(poll_fd(self->a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("F2: CAPTURE queued without OUTPUT is not readable: a fence was published at QBUF");
	EXPECT_EQ(1, fence_status(self->a.dmabuf[0], NULL, 0))
		TH_LOG("F2: EXPORT_SYNC_FILE of an idle CAPTURE buffer is not signalled");

	ASSERT_EQ(0, m2m_qbuf(&self->a.dev, &self->a.dev.out, 0))
		TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(self->a.dmabuf[0], POLLIN, 0))
		TH_LOG("F2/F3: no fence once the job was committed");
	EXPECT_TRUE(job_in_flight(&self->a))
		TH_LOG("job already done after %.1f ms: lengthen it", ms_since(self->a.t_start));
}

/*
 * F3: every VIDIOC_EXPBUF of the buffer, whatever its access mode and
 * whether made before or after publication, shows the same WRITE fence.
 */
TEST_F(fence, every_export_sees_the_fence)
{
	int before_ro, after, ret, s;
	char drv[32];

	ret = job_open(&self->a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	before_ro = m2m_expbuf(&self->a.dev, &self->a.dev.cap, 0, 0, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, before_ro) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	after = m2m_expbuf(&self->a.dev, &self->a.dev.cap, 0, 0, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, after) TH_LOG("%s", m2m_strerror());

	EXPECT_EQ(0, poll_fd(self->a.dmabuf[0], POLLIN, 0))
		TH_LOG("F3: export made before the job is readable while the job runs");
	EXPECT_EQ(0, poll_fd(before_ro, POLLIN, 0))
		TH_LOG("F3: read-only export made before the job is readable while it runs");
	EXPECT_EQ(0, poll_fd(after, POLLIN, 0))
		TH_LOG("F3: export made after publication is readable while the job runs");
	s = fence_status(after, drv, sizeof(drv));
	EXPECT_EQ(0, s) TH_LOG("F3: EXPORT_SYNC_FILE(READ) status %d, expected 0 (active)", s);
	EXPECT_STREQ(FENCE_DRIVER, drv);
	ASSERT_TRUE(job_in_flight(&self->a))
		TH_LOG("job done after %.1f ms, before the checks: they prove nothing",
		       ms_since(self->a.t_start));

	EXPECT_LT(0, poll_fd(before_ro, POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("F4: the fence never signalled");
	EXPECT_EQ(1, fence_status(after, NULL, 0));
	close(before_ro);
	close(after);
}

/* F3: every plane of a multi-planar buffer carries the fence. */
TEST_F(fence, every_plane_sees_the_fence)
{
	unsigned int p;
	int ret;

	ret = job_open(&self->a, V4L2_PIX_FMT_NV12M, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_LT(1U, self->a.planes);
	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	for (p = 0; p < self->a.planes; p++) {
		EXPECT_EQ(0, poll_fd(self->a.dmabuf[p], POLLIN, 0))
			TH_LOG("F3: plane %u readable while the job runs", p);
		EXPECT_EQ(0, fence_status(self->a.dmabuf[p], NULL, 0))
			TH_LOG("F3: plane %u's sync_file is not an active fence", p);
	}
	ASSERT_TRUE(job_in_flight(&self->a));
}

/*
 * F4: once POLLIN says the dma-buf is readable, the CPU reads the whole
 * frame the device wrote, and the fence is signalled no later than the
 * buffer can be dequeued.
 */
TEST_F(fence, frame_is_final_when_fence_signals)
{
	struct m2m_queue *out = &self->a.dev.out, *cap = &self->a.dev.cap;
	struct m2m_buf_state st;
	uint8_t *map, *seen, *src = out->bufs[0].map[0];
	size_t len, i, bad = 0;
	int ret;

	ret = job_open(&self->a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	src = out->bufs[0].map[0];
	len = cap->bufs[0].length[0];
	map = dmabuf_mmap(self->a.dmabuf[0], len, PROT_READ);
	ASSERT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	seen = malloc(len);
	ASSERT_NE(NULL, seen);

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_LT(0, poll_fd(self->a.dmabuf[0], POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("F4: the fence did not signal within %d ms", JOB_TIMEOUT_MS);
	ASSERT_EQ(0, dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	memcpy(seen, map, len);
	ASSERT_EQ(0, dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_GE(ms_since(self->a.t_start), JOB_MS * 0.8)
		TH_LOG("F4: POLLIN after %.1f ms of a %d ms job", ms_since(self->a.t_start), JOB_MS);

	ret = m2m_dqbuf(&self->a.dev, cap, &st, 100);
	ASSERT_EQ(0, ret) TH_LOG("F4: fence signalled but CAPTURE not dequeueable: %s",
				 m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR);
	for (i = 0; i < len; i++)
		if (seen[i] != (src[i % out->bufs[0].bytesused[0]] ^ ((st.sequence % 255) + 1)))
			bad++;
	EXPECT_EQ(0U, bad)
		TH_LOG("F4: %zu of %zu bytes read after the signal are not the frame", bad, len);
	munmap(map, len);
	free(seen);
}

/* F4: by the time DQBUF can return the buffer, its fence has signalled. */
TEST_F(fence, fence_signalled_before_dqbuf)
{
	int sync_fd;

	START_FENCED_JOB(JOB_MS, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd)) TH_LOG("F3: no active fence while the job runs");

	ASSERT_LT(0, poll_fd(self->a.dev.fd, POLLIN, JOB_TIMEOUT_MS) & POLLIN);
	EXPECT_EQ(1, sync_file_status(sync_fd))
		TH_LOG("F4: CAPTURE is dequeueable but its fence has not signalled");
	close(sync_fd);
}

/* F5: a job completed with VB2_BUF_STATE_ERROR signals with an error. */
TEST_F(fence, error_completion_sets_fence_error)
{
	int sync_fd, status;

	START_FENCED_JOB(50, JOB_ERROR, sync_fd);
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS));
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("F5: fence of a failed job has status %d, not an error", status);
	close(sync_fd);
}

enum cancel_how { STREAMOFF_CAPTURE, STREAMOFF_OUTPUT, CLOSE_FILE };

/* Start a job, take its fence, cancel the job @how: the fence ends in error. */
static void cancel_mid_job(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fence) *self, enum cancel_how how)
{
	int sync_fd, status;
	uint64_t t0;

	START_FENCED_JOB(2000, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no active fence before the cancel");

	t0 = now_us();
	switch (how) {
	case STREAMOFF_CAPTURE:
		ASSERT_EQ(0, m2m_streamoff(&self->a.dev, &self->a.dev.cap));
		break;
	case STREAMOFF_OUTPUT:
		ASSERT_EQ(0, m2m_streamoff(&self->a.dev, &self->a.dev.out));
		break;
	case CLOSE_FILE:
		job_close(&self->a);
		break;
	}
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS))
		TH_LOG("F5/F6: cancelled job's fence still pending");
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("F5: cancelled job's fence status %d, not an error", status);
	EXPECT_GT(1500.0, ms_since(t0)) TH_LOG("F5: the cancel waited for the job to end by itself");
	close(sync_fd);
}

TEST_F(fence, streamoff_capture_mid_job_signals_error)
{
	cancel_mid_job(_metadata, self, STREAMOFF_CAPTURE);
}

TEST_F(fence, streamoff_output_mid_job_signals_error)
{
	cancel_mid_job(_metadata, self, STREAMOFF_OUTPUT);
}

TEST_F(fence, close_mid_job_signals_error)
{
	cancel_mid_job(_metadata, self, CLOSE_FILE);
}

/* F6: a job that never completes is failed by the driver's watchdog. */
TEST_F(fence, hang_ends_by_watchdog_within_bound)
{
	int sync_fd, status, watchdog_ms = 2000;
	double waited;

	read_int_file(WATCHDOG_PARAM, &watchdog_ms);
	START_FENCED_JOB(10, JOB_HANG, sync_fd);
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, watchdog_ms + 2000))
		TH_LOG("F6: hung job's fence pending %d ms after the job started", watchdog_ms + 2000);
	waited = ms_since(self->a.t_start);
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("F6: watchdog-failed job's fence status %d", status);
	EXPECT_LE(watchdog_ms * 0.9, waited) TH_LOG("signalled after %.1f ms, before the watchdog",
						    waited);
	close(sync_fd);
}

/* F12: with the kill switch off, a running job publishes no fence. */
TEST_F(fence, kill_switch_restores_stub)
{
	int ret, on;

	ret = job_open(&self->a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	on = read_bool_file(KILL_SWITCH);
	ASSERT_LE(0, on) TH_LOG("cannot read %s", KILL_SWITCH);
	self->kill_switch = on;
	ASSERT_EQ(0, write_file(KILL_SWITCH, "0")) TH_LOG("cannot write %s", KILL_SWITCH);

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(poll_fd(self->a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("F12: fences off, yet the CAPTURE dma-buf waits");
	EXPECT_EQ(1, fence_status(self->a.dmabuf[0], NULL, 0))
		TH_LOG("F12: fences off, yet EXPORT_SYNC_FILE is not the stub");
	ASSERT_TRUE(job_in_flight(&self->a));
}

/*
 * F14: two contexts of one device. While the first context's job hangs, the
 * second context's buffers carry no fence of it: idle, and still idle once
 * its OUTPUT is queued, as its job cannot be committed before the device is
 * free. The watchdog fails the hung job; the second job then runs and
 * completes without error.
 */
TEST_F(fence, hung_context_does_not_gate_another)
{
	struct m2m_buf_state st;
	int ret, hung_fd;

	ret = job_open(&self->a, 0, 10, JOB_HANG);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = job_open(&self->b, 0, 10, JOB_DONE);
	ASSERT_EQ(0, ret) TH_LOG("second context: %s", m2m_strerror());

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	hung_fd = dmabuf_export_sync_file(self->a.dmabuf[0], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, hung_fd);
	ASSERT_EQ(0, sync_file_status(hung_fd)) TH_LOG("the hung job published no fence");

	ASSERT_EQ(0, job_start(&self->b, true)) TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(poll_fd(self->b.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("F14: the other context's idle buffer waits on the hung job");
	ASSERT_EQ(0, m2m_qbuf(&self->b.dev, &self->b.dev.out, 0));
	EXPECT_TRUE(poll_fd(self->b.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("F2/F14: a job queued behind the hung one already has a fence");

	ret = m2m_dqbuf(&self->b.dev, &self->b.dev.cap, &st, 10000);
	ASSERT_EQ(0, ret) TH_LOG("F14: the other context's job never finished: %s",
				 m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("F14: the other context's job ended in error");
	EXPECT_GT(0, sync_file_status(hung_fd))
		TH_LOG("F6/F14: the hung context's fence did not end in error");
	close(hung_fd);
}

/*
 * F7, F8: jobs on one buffer publish fences of one context with strictly
 * increasing seqnos, and its reservation object holds one fence, not one
 * per job. (F8's 100,000 jobs and live-fence count are not checked here.)
 */
TEST_F(fence, seqnos_increase_one_fence_per_buffer)
{
	uint64_t context[4], seqno[4], first = 0, last = 0;
	struct m2m_buf_state st;
	int i, n, ret;

	ret = job_open(&self->a, 0, 1, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	if (access(DMABUF_BUFINFO, R_OK))
		SKIP(return, "needs debugfs mounted: %s", DMABUF_BUFINFO);

	for (i = 1; i <= 5; i++) {
		ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, JOB_TIMEOUT_MS))
			TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.out, &st, JOB_TIMEOUT_MS))
			TH_LOG("%s", m2m_strerror());
		n = dmabuf_resv_fences(self->a.dmabuf[0], context, seqno, 4);
		ASSERT_EQ(1, n) TH_LOG("F8: after job %d the buffer holds %d fences", i, n);
		if (i == 1)
			first = context[0];
		EXPECT_EQ(first, context[0]) TH_LOG("F7: job %d used another fence context", i);
		EXPECT_LT(last, seqno[0]) TH_LOG("F7: job %d's seqno %llu follows %llu", i,
						 (unsigned long long)seqno[0],
						 (unsigned long long)last);
		last = seqno[0];
	}
}

/*
 * F10: a sync_file and a dma-buf kept after the buffer, the queue, the file
 * and the module that made the fence are gone can still be queried, waited
 * on, mapped and closed. KASAN, in the test kernel, catches a use after free.
 * Test module only: it is unloaded and loaded again with the same allocator.
 */
TEST_F(fence, fence_outlives_module)
{
	struct sync_fence_info info[4];
	char mem[32] = "", cmd[96];
	int ret, sync_fd, dmabuf, n;
	uint8_t *map;
	size_t len;
	FILE *f;

	f = fopen(MEM_PARAM, "r");
	if (!f)
		SKIP(return, "needs the vb2-resv-test module (%s)", MEM_PARAM);
	ret = fscanf(f, "%31s", mem);
	fclose(f);
	ASSERT_EQ(1, ret);

	START_FENCED_JOB(2000, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd));
	dmabuf = dup(self->a.dmabuf[0]);
	ASSERT_LE(0, dmabuf);
	len = self->a.dev.cap.bufs[0].length[0];

	job_close(&self->a);
	/*
	 * rmmod, not modprobe -r: where videobuf2 is modular (the board's
	 * kernel), modprobe -r also tries the dependencies that vim2m still
	 * uses, and fails for them after unloading this one.
	 */
	ASSERT_EQ(0, system("rmmod vb2_resv_test"))
		TH_LOG("cannot unload the module with only the sync_file and dma-buf left");

	EXPECT_GT(0, sync_file_status(sync_fd))
		TH_LOG("F5: the fence of a job cancelled by close is not an error");
	n = sync_file_fences(sync_fd, info, 4);
	EXPECT_EQ(1, n) TH_LOG("%s", m2m_strerror());
	if (n == 1)
		TH_LOG("after unload: driver \"%s\", timeline \"%s\"",
		       info[0].driver_name, info[0].obj_name);
	EXPECT_TRUE(poll_fd(sync_fd, POLLIN, 0) & POLLIN);
	EXPECT_TRUE(poll_fd(dmabuf, POLLIN, 0) & POLLIN);
	ret = dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_RW);
	EXPECT_LE(0, ret) TH_LOG("%s", m2m_strerror());
	if (ret >= 0)
		close(ret);
	map = dmabuf_mmap(dmabuf, len, PROT_READ);
	EXPECT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	if (map) {
		EXPECT_EQ(STALE_BYTE, map[0]) TH_LOG("a cancelled job wrote the frame");
		munmap(map, len);
	}
	close(sync_fd);
	close(dmabuf);

	snprintf(cmd, sizeof(cmd), "modprobe " DEFAULT_DRIVER " mem=%s", mem);
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s failed: later tests lack the device", cmd);
}

/* Signal the end of a job cancelled under it: an error, and no waiting for its end. */
static void expect_cancelled(struct __test_metadata *_metadata, int sync_fd,
			     uint64_t t0, const char *how)
{
	int status;

	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS))
		TH_LOG("F5/F6: fence still pending %d ms after %s", JOB_TIMEOUT_MS, how);
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("F5: fence status %d after %s, not an error", status, how);
	EXPECT_GT(1500.0, ms_since(t0))
		TH_LOG("F5: after %s the fence waited for the job to end by itself", how);
}

static int pidfd_getfd_of(pid_t pid, int fd)
{
	int pidfd, ret;

	pidfd = syscall(__NR_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	ret = syscall(__NR_pidfd_getfd, pidfd, fd, 0);
	if (ret < 0)
		ret = -errno;
	close(pidfd);
	return ret;
}

/*
 * F5, F6: the process that runs the job is killed (SIGKILL) mid-job, while
 * another process holds the CAPTURE dma-buf: the fence ends, in error.
 */
TEST_F(fence, killed_mid_job_signals_error)
{
	int pipefd[2], child_fd, dmabuf, sync_fd;
	uint64_t t0;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		child_fd = job_open(&self->a, 0, 2000, JOB_DONE);
		if (!child_fd)
			child_fd = job_start(&self->a, false);
		if (!child_fd)
			child_fd = self->a.dmabuf[0];
		if (write(pipefd[1], &child_fd, sizeof(child_fd)) != sizeof(child_fd))
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	if (read(pipefd[0], &child_fd, sizeof(child_fd)) != sizeof(child_fd))
		child_fd = -EPIPE;
	close(pipefd[0]);
	if (child_fd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	SKIP_IF_UNSUPPORTED(child_fd);
	ASSERT_LE(0, child_fd) TH_LOG("the child could not start a job: %s",
				      strerror(-child_fd));

	dmabuf = pidfd_getfd_of(pid, child_fd);
	if (dmabuf < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ASSERT_LE(0, dmabuf) TH_LOG("pidfd_getfd: %s", strerror(-dmabuf));
	sync_fd = dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no active fence in the child's job");

	t0 = now_us();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	expect_cancelled(_metadata, sync_fd, t0, "SIGKILL of the job's process");
	EXPECT_TRUE(poll_fd(dmabuf, POLLIN, 0) & POLLIN);
	close(sync_fd);
	close(dmabuf);
}

/*
 * F5: unbinding the device mid-job (the driver's remove, as on module
 * unload or hot-unplug) fails the job: its fence ends in error at once, even
 * though the file is still open. Test module only: it is bound again after.
 */
TEST_F(fence, unbind_mid_job_signals_error)
{
	int sync_fd;
	uint64_t t0;

	if (strcmp(driver_name(), DEFAULT_DRIVER) || access(PDRV_DIR "/unbind", W_OK))
		SKIP(return, "needs the %s platform driver (%s)", DEFAULT_DRIVER, PDRV_DIR);
	START_FENCED_JOB(2000, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd));

	t0 = now_us();
	self->rebind = true;
	ASSERT_EQ(0, write_file(PDRV_DIR "/unbind", DEFAULT_DRIVER));
	expect_cancelled(_metadata, sync_fd, t0, "unbinding the device");
	close(sync_fd);

	/* The open file outlives the device; closing it is safe (KASAN). */
	job_close(&self->a);
	ASSERT_EQ(0, write_file(PDRV_DIR "/bind", DEFAULT_DRIVER))
		TH_LOG("cannot bind the device again: later tests lack it");
	self->rebind = false;
}

#define ORDER_JOBS	6

/*
 * F7: jobs queued back to back publish fences with increasing seqnos, one
 * context, and the fences signal in seqno order. Each fence is caught, as a
 * sync_file, while its job runs; once all have signalled their timestamps
 * are compared.
 */
TEST_F(fence, fences_signal_in_seqno_order)
{
	uint64_t context[ORDER_JOBS], seqno[ORDER_JOBS], ts[ORDER_JOBS], c, s;
	int dmabuf[ORDER_JOBS], sync_fd[ORDER_JOBS], ret, caught = 0;
	struct m2m_queue *out = &self->a.dev.out, *cap = &self->a.dev.cap;
	struct sync_fence_info info;
	struct m2m_buf_state st;
	bool bufinfo;
	uint64_t deadline;
	int i;

	ret = job_open_n(&self->a, 0, 150, JOB_DONE, ORDER_JOBS, NULL);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	bufinfo = !access(DMABUF_BUFINFO, R_OK);
	for (i = 0; i < ORDER_JOBS; i++) {
		sync_fd[i] = -1;
		context[i] = 0;
		seqno[i] = 0;
		dmabuf[i] = m2m_expbuf(&self->a.dev, cap, i, 0, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, dmabuf[i]) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->a.dev, cap, i)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->a.dev, out, i)) TH_LOG("%s", m2m_strerror());
	}
	ASSERT_EQ(0, m2m_streamon(&self->a.dev, out));
	ASSERT_EQ(0, m2m_streamon(&self->a.dev, cap));

	deadline = now_us() + (uint64_t)ORDER_JOBS * 150 * 1000 + JOB_TIMEOUT_MS * 1000;
	while (caught < ORDER_JOBS && now_us() < deadline) {
		for (i = 0; i < ORDER_JOBS; i++) {
			int fd;

			if (sync_fd[i] >= 0)
				continue;
			fd = dmabuf_export_sync_file(dmabuf[i], DMA_BUF_SYNC_READ);
			ASSERT_LE(0, fd) TH_LOG("%s", m2m_strerror());
			if (sync_file_status(fd) != 0) {
				close(fd);
				continue;
			}
			sync_fd[i] = fd;
			caught++;
			if (bufinfo && dmabuf_resv_fences(dmabuf[i], &c, &s, 1) == 1) {
				context[i] = c;
				seqno[i] = s;
			}
		}
		usleep(2000);
	}
	for (i = 0; i < ORDER_JOBS; i++)
		ASSERT_LE(0, sync_fd[i]) TH_LOG("job %d's fence was never seen active", i);
	for (i = 0; i < ORDER_JOBS; i++) {
		ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, cap, &st, JOB_TIMEOUT_MS))
			TH_LOG("%s", m2m_strerror());
		EXPECT_EQ((unsigned int)i, st.index) TH_LOG("jobs ran out of queue order");
	}

	for (i = 0; i < ORDER_JOBS; i++) {
		EXPECT_EQ(1, sync_file_status(sync_fd[i]))
			TH_LOG("job %d's fence is not signalled without error", i);
		ASSERT_EQ(1, sync_file_fences(sync_fd[i], &info, 1));
		ts[i] = info.timestamp_ns;
		close(sync_fd[i]);
		close(dmabuf[i]);
		if (!i)
			continue;
		EXPECT_LT(ts[i - 1], ts[i])
			TH_LOG("F7: fence of job %d signalled at %llu ns, before job %d's at %llu",
			       i, (unsigned long long)ts[i], i - 1,
			       (unsigned long long)ts[i - 1]);
		if (!bufinfo)
			continue;
		EXPECT_EQ(context[0], context[i]) TH_LOG("F7: job %d used another context", i);
		EXPECT_LT(seqno[i - 1], seqno[i])
			TH_LOG("F7: job %d's seqno %llu does not follow %llu", i,
			       (unsigned long long)seqno[i], (unsigned long long)seqno[i - 1]);
	}
	if (!bufinfo)
		TH_LOG("no %s: seqnos not compared, only signal order", DMABUF_BUFINFO);
}

/* The heap whose buffers the device's allocator can import. */
static const char *import_heap(void)
{
	const char *heap = getenv("VB2_RESV_HEAP");
	char mem[32] = "";
	FILE *f;

	if (heap && *heap)
		return heap;
	f = fopen(MEM_PARAM, "r");
	if (f) {
		if (fscanf(f, "%31s", mem) != 1)
			mem[0] = '\0';
		fclose(f);
	}
	/* Without an IOMMU, dma-contig needs physically contiguous memory. */
	return strcmp(mem, "dma-contig") ? "system" : CMA_HEAP;
}

/*
 * F3, F4: a CAPTURE buffer imported with V4L2_MEMORY_DMABUF from a dma-buf
 * heap gets the fence in the exporter's reservation object, and the bytes
 * read there after the signal are the frame.
 */
TEST_F(fence, imported_capture_sees_the_fence)
{
	struct m2m_queue *out = &self->a.dev.out, *cap = &self->a.dev.cap;
	const char *heap = import_heap();
	uint8_t *map, *src;
	struct m2m_buf_state st;
	size_t len, i, bad = 0;
	char drv[32];
	int ret, s;

	ret = job_open_n(&self->a, 0, JOB_MS, JOB_DONE, 1, heap);
	if (ret == -ENOTSUP)
		SKIP(return, "no dma-buf heap \"%s\" to import from: %s", heap, m2m_strerror());
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	len = cap->sizeimage[0];
	src = out->bufs[0].map[0];

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(self->a.dmabuf[0], POLLIN, 0))
		TH_LOG("F3: the imported %s dma-buf is readable while the job runs", heap);
	s = fence_status(self->a.dmabuf[0], drv, sizeof(drv));
	EXPECT_EQ(0, s) TH_LOG("F3: imported dma-buf's sync_file status %d, not active", s);
	EXPECT_STREQ(FENCE_DRIVER, drv);
	ASSERT_TRUE(job_in_flight(&self->a))
		TH_LOG("job done after %.1f ms, before the checks", ms_since(self->a.t_start));

	ASSERT_LT(0, poll_fd(self->a.dmabuf[0], POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("F4: the fence never signalled");
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, cap, &st, 100)) TH_LOG("%s", m2m_strerror());
	map = dmabuf_mmap(self->a.dmabuf[0], len, PROT_READ);
	ASSERT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < len; i++)
		if (map[i] != (src[i % out->bufs[0].bytesused[0]] ^ ((st.sequence % 255) + 1)))
			bad++;
	dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(map, len);
	EXPECT_EQ(0U, bad) TH_LOG("F4: %zu of %zu bytes of the imported buffer are not the frame",
				  bad, len);
}

static int read_stat(const char *name)
{
	char key[32];
	int val, ret = -ENOENT;
	FILE *f = fopen(STATS, "r");

	if (!f)
		return -errno;
	while (fscanf(f, "%31s %d", key, &val) == 2)
		if (!strcmp(key, name))
			ret = val;
	fclose(f);
	return ret;
}

/* The lowest and past-the-highest text address of module @mod. */
static int module_text(const char *mod, unsigned long long *lo, unsigned long long *hi)
{
	char line[256], type, name[128], owner[64];
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -errno;
	*lo = ~0ULL;
	*hi = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s [%63[^]]]", &addr, &type, name, owner) != 4 ||
		    strcmp(owner, mod) || (type != 't' && type != 'T') || !addr)
			continue;
		if (addr < *lo)
			*lo = addr;
		if (addr > *hi)
			*hi = addr;
	}
	fclose(f);
	if (!*hi)
		return -ENOENT;
	*hi += 4096;	/* the size of the last function is not listed */
	return 0;
}

static void failslab_disarm(void)
{
	write_file("/proc/self/make-it-fail", "0");
	write_file(FAILSLAB "/probability", "0");
}

/*
 * Make every slab allocation made by videobuf2_common code, in this task
 * only, fail: the fence preallocation at QBUF and the allocations of the
 * publication in device_run, which runs in this task's QBUF.
 */
static int failslab_arm(void)
{
	static const char *const knobs[][2] = {
		{ "task-filter", "Y" }, { "ignore-gfp-wait", "N" }, { "verbose", "0" },
		{ "interval", "1" }, { "times", "-1" }, { "space", "0" },
		{ "stacktrace-depth", "32" }, { "probability", "100" },
	};
	unsigned long long lo = 0, hi = 0;
	char path[128], val[32];
	unsigned int i;
	int ret;

	ret = module_text("videobuf2_common", &lo, &hi);
	if (ret)
		return ret;
	snprintf(val, sizeof(val), "%llu", lo);
	ret = write_file(FAILSLAB "/require-start", val);
	snprintf(val, sizeof(val), "%llu", hi);
	if (!ret)
		ret = write_file(FAILSLAB "/require-end", val);
	for (i = 0; !ret && i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), FAILSLAB "/%s", knobs[i][0]);
		ret = write_file(path, knobs[i][1]);
	}
	if (!ret)
		ret = write_file("/proc/self/make-it-fail", "1");
	return ret;
}

/*
 * F11: when publication fails for lack of memory (failslab makes every
 * allocation of videobuf2 fail), the job still runs and completes with the
 * frame, no fence is left half-published, and the failure is counted. The
 * next job, with memory back, publishes again.
 */
TEST_F(fence, publish_failure_never_wedges_job)
{
	struct m2m_queue *out = &self->a.dev.out, *cap = &self->a.dev.cap;
	int ret, failed, published, sync_fd;
	struct m2m_buf_state st;
	uint8_t *dst, *src;
	size_t i, bad = 0;

	if (access(FAILSLAB "/require-start", W_OK) || access(STATS, R_OK))
		SKIP(return, "needs failslab with its stacktrace filter and %s", STATS);
	ret = job_open(&self->a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());

	/* A first job maps the buffers, so the failing one allocates no more. */
	ASSERT_EQ(0, m2m_set_ctrl_by_name(self->a.dev.fd, TRANS_TIME_CTRL, 1, NULL));
	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, cap, &st, JOB_TIMEOUT_MS));
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, out, &st, JOB_TIMEOUT_MS));
	ASSERT_EQ(0, m2m_set_ctrl_by_name(self->a.dev.fd, TRANS_TIME_CTRL, JOB_MS, NULL));
	memset(cap->bufs[0].map[0], STALE_BYTE, cap->bufs[0].length[0]);
	failed = read_stat("publish_failed");
	published = read_stat("published");
	ASSERT_LE(0, failed);

	self->failslab = true;
	ret = failslab_arm();
	ASSERT_EQ(0, ret) TH_LOG("cannot arm failslab: %s", strerror(-ret));
	ret = job_start(&self->a, false);
	failslab_disarm();
	self->failslab = false;
	ASSERT_EQ(0, ret) TH_LOG("QBUF failed under failslab: %s", m2m_strerror());

	EXPECT_EQ(failed + 1, read_stat("publish_failed"))
		TH_LOG("F11: the failed publication was not counted");
	EXPECT_EQ(published, read_stat("published"));
	EXPECT_TRUE(poll_fd(self->a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("F11: a fence is left on the buffer by a failed publication");
	EXPECT_TRUE(job_in_flight(&self->a));

	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("F11: the job never completed: %s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("F11: the job ended in error");
	dst = cap->bufs[0].map[0];
	src = out->bufs[0].map[0];
	for (i = 0; i < cap->bufs[0].length[0]; i++)
		bad += dst[i] != (src[i % out->bufs[0].bytesused[0]] ^ ((st.sequence % 255) + 1));
	EXPECT_EQ(0U, bad) TH_LOG("F11: the job without a fence did not write its frame");
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, out, &st, JOB_TIMEOUT_MS));

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	sync_fd = dmabuf_export_sync_file(self->a.dmabuf[0], DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, sync_file_status(sync_fd)) TH_LOG("F11: no fence once memory is back");
	EXPECT_EQ(published + 1, read_stat("published"));
	close(sync_fd);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * F11: a publication that waits for a reservation lock (the test device has
 * a worker hold it) and is interrupted by a signal gives up cleanly: the job
 * still runs and completes, no fence is left, the failure is counted.
 */
TEST_F(fence, interrupted_publication_never_wedges_job)
{
	struct itimerval alarm_in = { .it_value = { .tv_usec = 200 * 1000 } };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct m2m_buf_state st;
	int ret, failed;

	if (access(STATS, R_OK))
		SKIP(return, "needs %s", STATS);
	ret = job_open(&self->a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = m2m_set_ctrl_by_name(self->a.dev.fd, HOLD_RESV_CTRL, 1000, NULL);
	if (ret == -ENOENT)
		SKIP(return, "%s has no \"%s\" control", driver_name(), HOLD_RESV_CTRL);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	failed = read_stat("publish_failed");
	ASSERT_LE(0, failed);

	/* No SA_RESTART: the signal interrupts the wait for the lock. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &alarm_in, NULL));
	ret = job_start(&self->a, false);
	sigaction(SIGALRM, &old, NULL);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_LE(900.0, ms_since(self->a.t_start))
		TH_LOG("device_run did not wait for the held reservation lock");

	EXPECT_EQ(failed + 1, read_stat("publish_failed"))
		TH_LOG("F11: the interrupted publication was not counted");
	EXPECT_TRUE(poll_fd(self->a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("F11: an interrupted publication left a fence");
	EXPECT_TRUE(job_in_flight(&self->a));
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("F11: the job never completed: %s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("F11: the job ended in error");
}

TEST_HARNESS_MAIN
