// SPDX-License-Identifier: GPL-2.0
/*
 * The producer-fence contract (CONTRACT.md F2-F7, F8 in part, F10-F12,
 * F14-F16, F18) on an opted-in V4L2 mem2mem device.
 *
 * The device is found by driver name: $VB2_RESV_DRIVER, by default the test
 * module "vb2-resv-test". Tests that need the test module's job controls
 * ("Job Result": error or hang) skip, saying so, on a device without them.
 *
 * Every test that looks at a fence first makes sure the job is long enough
 * ("Transaction Time (msec)") to be observed in flight, and checks after the
 * observation that the job was indeed still running, so that "no fence" can
 * never be explained by a job that had already ended.
 *
 * The implicit-sync tests (F15) play another device that reads or writes a
 * buffer of the job with a sw_sync fence (CONFIG_SW_SYNC, in debugfs) that
 * only the test signals, and skip without sw_sync. A job held by such a
 * fence must not run, while nothing in user space waits: should the kernel
 * wait for the fence in an ioctl, in close or in exit, a child process (the
 * rescue) signals it after RESCUE_MS, so that the test fails on the time it
 * measured instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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
#define HOLD_JOB_MS		20	/* F15: done well within HOLD_MS if not held */
#define HOLD_MS			300	/* F15: how long a held job is watched */
#define RESCUE_MS		3000	/* F15: when the rescue signals the fence */
#define PROMPT_MS		1000	/* F15: STREAMON, STREAMOFF, close while held (TCG, KASAN: not 100) */
#define KILL_PROMPT_MS		1500	/* F15: exit of a process whose job is held; RESCUE_MS is 3000 */
#define FRAME_W			64
#define FRAME_H			64
#define STALE_BYTE		0x5a
#define WATCHDOG_PARAM		"/sys/module/vb2_resv_test/parameters/watchdog_ms"
#define MEM_PARAM		"/sys/module/vb2_resv_test/parameters/mem"
#define PDRV_DIR		"/sys/bus/platform/drivers/" DEFAULT_DRIVER
#define FAILSLAB		"/sys/kernel/debug/failslab"
#define CMA_HEAP		"default_cma_region"

/*
 * One context with one buffer per queue and every CAPTURE plane exported;
 * out_dmabuf[] holds OUTPUT buffer 0's dma-bufs if OUTPUT was imported.
 */
struct job {
	struct m2m_dev dev;
	int dmabuf[VIDEO_MAX_PLANES];
	int out_dmabuf[VIDEO_MAX_PLANES];
	unsigned int planes;
	uint64_t t_start;
};

static void job_init(struct job *j)
{
	unsigned int p;

	memset(j, 0, sizeof(*j));
	j->dev.fd = -1;
	for (p = 0; p < VIDEO_MAX_PLANES; p++) {
		j->dmabuf[p] = -1;
		j->out_dmabuf[p] = -1;
	}
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
 * Give OUTPUT buffer 0 planes allocated from dma-buf heap @heap, imported
 * with V4L2_MEMORY_DMABUF, filled with the source pattern through their
 * mmap (which m2m_close() unmaps, as it does V4L2 mappings) and sent whole;
 * j->out_dmabuf[] owns them. -ENOTSUP: no such heap.
 */
static int job_import_output(struct job *j, const char *heap)
{
	struct m2m_queue *out = &j->dev.out;
	unsigned int p;
	uint8_t *map;
	int ret, fd;

	ret = m2m_reqbufs_dmabuf(&j->dev, out, 1);
	if (ret)
		return ret;
	for (p = 0; p < out->num_planes; p++) {
		fd = dma_heap_alloc(heap, out->sizeimage[p]);
		if (fd < 0)
			return fd == -ENOENT ? -ENOTSUP : fd;
		j->out_dmabuf[p] = fd;
		map = dmabuf_mmap(fd, out->sizeimage[p], PROT_READ | PROT_WRITE);
		if (!map)
			return -ENOMEM;
		dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		fill_pattern(map, out->sizeimage[p], 3 + p);
		dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		out->bufs[0].fd[p] = fd;
		out->bufs[0].map[p] = map;
		out->bufs[0].length[p] = out->sizeimage[p];
		out->bufs[0].bytesused[p] = out->sizeimage[p];
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

	for (p = 0; p < VIDEO_MAX_PLANES; p++) {
		if (j->dmabuf[p] >= 0)
			close(j->dmabuf[p]);
		if (j->out_dmabuf[p] >= 0)
			close(j->out_dmabuf[p]);
	}
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

/* The test device's debugfs switch that suspends its m2m device */
#define SUSPENDED	"/sys/kernel/debug/" DEFAULT_DRIVER "/suspended"

FIXTURE(fence) {
	struct job a;
	struct job b;
	int kill_switch;	/* value to restore, or -1 */
	bool rebind;		/* the test unbound the test device */
	bool failslab;		/* the test armed failslab */
	int timeline;		/* sw_sync timeline of the F15 tests, or -1 */
	pid_t rescue;		/* its rescue (sw_sync_rescue()), or 0 */
	int watchdog_ms;	/* the test device's, to restore, or -1 */
};

FIXTURE_SETUP(fence)
{
	job_init(&self->a);
	job_init(&self->b);
	self->kill_switch = -1;
	self->timeline = -1;
	self->watchdog_ms = -1;
}

static void failslab_disarm(void);

FIXTURE_TEARDOWN(fence)
{
	/*
	 * The rescue first, so that closing the timeline, its last fd, signals
	 * its fences (with an error) and releases any job still held by them.
	 */
	sw_sync_rescue_cancel(self->rescue);
	if (self->timeline >= 0)
		close(self->timeline);
	kill_switch_restore(&self->kill_switch);
	if (self->failslab)
		failslab_disarm();
	job_close(&self->a);
	job_close(&self->b);
	/* A test that stopped half way may leave the device suspended. */
	if (!access(SUSPENDED, W_OK))
		write_file(SUSPENDED, "0");
	if (self->watchdog_ms >= 0) {
		char ms[16];

		snprintf(ms, sizeof(ms), "%d", self->watchdog_ms);
		write_file(WATCHDOG_PARAM, ms);
	}
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
 * Bytes of CAPTURE buffer 0, read through its dma-bufs (j->dmabuf[]) once
 * the job is done, that are not the frame the test device writes from
 * OUTPUT buffer 0 with sequence number @sequence (every CAPTURE plane, one
 * after the other, is one byte stream); a negative errno if a plane cannot
 * be mapped.
 */
static long frame_errors(struct job *j, uint32_t sequence)
{
	struct m2m_queue *out = &j->dev.out, *cap = &j->dev.cap;
	const uint8_t *src = out->bufs[0].map[0];
	size_t src_len = out->bufs[0].bytesused[0], i, n = 0;
	uint8_t key = (sequence % 255) + 1;
	unsigned int p;
	long bad = 0;
	uint8_t *map;

	for (p = 0; p < j->planes; p++) {
		map = dmabuf_mmap(j->dmabuf[p], cap->sizeimage[p], PROT_READ);
		if (!map)
			return -ENOMEM;
		dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		for (i = 0; i < cap->sizeimage[p]; i++, n++)
			bad += map[i] != (src[n % src_len] ^ key);
		dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		munmap(map, cap->sizeimage[p]);
	}
	return bad;
}

/*
 * Bytes of the first @len of dma-buf @dmabuf that no longer hold the stale
 * fill (STALE_BYTE): the test device writes a frame only when its job
 * completes. Read without DMA_BUF_IOCTL_SYNC, which would wait for the very
 * fence a held job waits for. A negative errno if it cannot be mapped.
 */
static long written_bytes(int dmabuf, size_t len)
{
	uint8_t *map = dmabuf_mmap(dmabuf, len, PROT_READ);
	long n = 0;
	size_t i;

	if (!map)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		n += map[i] != STALE_BYTE;
	munmap(map, len);
	return n;
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
		TH_LOG("CAPTURE queued without OUTPUT is not readable: a fence was published at QBUF");
	EXPECT_EQ(1, fence_status(self->a.dmabuf[0], NULL, 0))
		TH_LOG("EXPORT_SYNC_FILE of an idle CAPTURE buffer is not signalled");

	ASSERT_EQ(0, m2m_qbuf(&self->a.dev, &self->a.dev.out, 0))
		TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(self->a.dmabuf[0], POLLIN, 0))
		TH_LOG("no fence once the job was committed");
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
		TH_LOG("export made before the job is readable while the job runs");
	EXPECT_EQ(0, poll_fd(before_ro, POLLIN, 0))
		TH_LOG("read-only export made before the job is readable while it runs");
	EXPECT_EQ(0, poll_fd(after, POLLIN, 0))
		TH_LOG("export made after publication is readable while the job runs");
	s = fence_status(after, drv, sizeof(drv));
	EXPECT_EQ(0, s) TH_LOG("EXPORT_SYNC_FILE(READ) status %d, expected 0 (active)", s);
	EXPECT_STREQ(FENCE_DRIVER, drv);
	ASSERT_TRUE(job_in_flight(&self->a))
		TH_LOG("job done after %.1f ms, before the checks: they prove nothing",
		       ms_since(self->a.t_start));

	EXPECT_LT(0, poll_fd(before_ro, POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("the fence never signalled");
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
			TH_LOG("plane %u readable while the job runs", p);
		EXPECT_EQ(0, fence_status(self->a.dmabuf[p], NULL, 0))
			TH_LOG("plane %u's sync_file is not an active fence", p);
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
		TH_LOG("the fence did not signal within %d ms", JOB_TIMEOUT_MS);
	ASSERT_EQ(0, dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	memcpy(seen, map, len);
	ASSERT_EQ(0, dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_GE(ms_since(self->a.t_start), JOB_MS * 0.8)
		TH_LOG("POLLIN after %.1f ms of a %d ms job", ms_since(self->a.t_start), JOB_MS);

	ret = m2m_dqbuf(&self->a.dev, cap, &st, 100);
	ASSERT_EQ(0, ret) TH_LOG("fence signalled but CAPTURE not dequeueable: %s",
				 m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR);
	for (i = 0; i < len; i++)
		if (seen[i] != (src[i % out->bufs[0].bytesused[0]] ^ ((st.sequence % 255) + 1)))
			bad++;
	EXPECT_EQ(0U, bad)
		TH_LOG("%zu of %zu bytes read after the signal are not the frame", bad, len);
	munmap(map, len);
	free(seen);
}

/* F4: by the time DQBUF can return the buffer, its fence has signalled. */
TEST_F(fence, fence_signalled_before_dqbuf)
{
	int sync_fd;

	START_FENCED_JOB(JOB_MS, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no active fence while the job runs");

	ASSERT_LT(0, poll_fd(self->a.dev.fd, POLLIN, JOB_TIMEOUT_MS) & POLLIN);
	EXPECT_EQ(1, sync_file_status(sync_fd))
		TH_LOG("CAPTURE is dequeueable but its fence has not signalled");
	close(sync_fd);
}

/* F5: a job completed with VB2_BUF_STATE_ERROR signals with an error. */
TEST_F(fence, error_completion_sets_fence_error)
{
	int sync_fd, status;

	START_FENCED_JOB(50, JOB_ERROR, sync_fd);
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS));
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("fence of a failed job has status %d, not an error", status);
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
		TH_LOG("cancelled job's fence still pending");
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("cancelled job's fence status %d, not an error", status);
	EXPECT_GT(1500.0, ms_since(t0)) TH_LOG("the cancel waited for the job to end by itself");
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
		TH_LOG("hung job's fence pending %d ms after the job started", watchdog_ms + 2000);
	waited = ms_since(self->a.t_start);
	status = sync_file_status(sync_fd);
	EXPECT_EQ(-ETIMEDOUT, status)
		TH_LOG("watchdog-failed job's fence status %d, not -ETIMEDOUT", status);
	EXPECT_LE(watchdog_ms * 0.9, waited) TH_LOG("signalled after %.1f ms, before the watchdog",
						    waited);
	close(sync_fd);
}

/*
 * Set the kill switch (F12) to @on; the teardown restores it. Only when
 * asked: every queue set up meanwhile, on any device, follows it.
 */
#define SET_KILL_SWITCH(on) do {						\
	int __on;								\
										\
	SKIP_UNLESS_DESTRUCTIVE("flips videobuf2_common.producer_fences");	\
	__on = kill_switch_get();						\
										\
	if (__on == -ENOENT)							\
		SKIP(return, "no %s: a kernel without the series?", KILL_SWITCH); \
	ASSERT_LE(0, __on) TH_LOG("cannot read %s", KILL_SWITCH);		\
	if (self->kill_switch < 0)						\
		self->kill_switch = __on;					\
	ASSERT_EQ(0, write_file(KILL_SWITCH, (on) ? "1" : "0"))			\
		TH_LOG("cannot write %s", KILL_SWITCH);				\
} while (0)

/*
 * F12: a queue set up with the kill switch off reports no capability, and
 * its running job publishes no fence.
 */
TEST_F(fence, kill_switch_restores_stub)
{
	int ret;

	SET_KILL_SWITCH(false);
	ret = job_open(&self->a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0U, self->a.dev.cap.caps & V4L2_BUF_CAP_PRODUCER_FENCES)
		TH_LOG("producer fences off, yet REQBUFS(CAPTURE) reports them (0x%x)",
		       self->a.dev.cap.caps);

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(poll_fd(self->a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("fences off, yet the CAPTURE dma-buf waits");
	EXPECT_EQ(1, fence_status(self->a.dmabuf[0], NULL, 0))
		TH_LOG("fences off, yet EXPORT_SYNC_FILE is not the stub");
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
		TH_LOG("the other context's idle buffer waits on the hung job");
	ASSERT_EQ(0, m2m_qbuf(&self->b.dev, &self->b.dev.out, 0));
	EXPECT_TRUE(poll_fd(self->b.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("a job queued behind the hung one already has a fence");

	ret = m2m_dqbuf(&self->b.dev, &self->b.dev.cap, &st, 10000);
	ASSERT_EQ(0, ret) TH_LOG("the other context's job never finished: %s",
				 m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("the other context's job ended in error");
	EXPECT_GT(0, sync_file_status(hung_fd))
		TH_LOG("the hung context's fence did not end in error");
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
		ASSERT_EQ(1, n) TH_LOG("after job %d the buffer holds %d fences", i, n);
		if (i == 1)
			first = context[0];
		EXPECT_EQ(first, context[0]) TH_LOG("job %d used another fence context", i);
		EXPECT_LT(last, seqno[0]) TH_LOG("job %d's seqno %llu follows %llu", i,
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

	SKIP_UNLESS_DESTRUCTIVE("unloads and reloads the vb2-resv-test module");
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
		TH_LOG("the fence of a job cancelled by close is not an error");
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
		TH_LOG("fence still pending %d ms after %s", JOB_TIMEOUT_MS, how);
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("fence status %d after %s, not an error", status, how);
	EXPECT_GT(1500.0, ms_since(t0))
		TH_LOG("after %s the fence waited for the job to end by itself", how);
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

	SKIP_UNLESS_DESTRUCTIVE("unbinds and rebinds the vb2-resv-test driver");
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
			TH_LOG("fence of job %d signalled at %llu ns, before job %d's at %llu",
			       i, (unsigned long long)ts[i], i - 1,
			       (unsigned long long)ts[i - 1]);
		if (!bufinfo)
			continue;
		EXPECT_EQ(context[0], context[i]) TH_LOG("job %d used another context", i);
		EXPECT_LT(seqno[i - 1], seqno[i])
			TH_LOG("job %d's seqno %llu does not follow %llu", i,
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
		TH_LOG("the imported %s dma-buf is readable while the job runs", heap);
	s = fence_status(self->a.dmabuf[0], drv, sizeof(drv));
	EXPECT_EQ(0, s) TH_LOG("imported dma-buf's sync_file status %d, not active", s);
	EXPECT_STREQ(FENCE_DRIVER, drv);
	ASSERT_TRUE(job_in_flight(&self->a))
		TH_LOG("job done after %.1f ms, before the checks", ms_since(self->a.t_start));

	ASSERT_LT(0, poll_fd(self->a.dmabuf[0], POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("the fence never signalled");
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, cap, &st, 100)) TH_LOG("%s", m2m_strerror());
	map = dmabuf_mmap(self->a.dmabuf[0], len, PROT_READ);
	ASSERT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < len; i++)
		if (map[i] != (src[i % out->bufs[0].bytesused[0]] ^ ((st.sequence % 255) + 1)))
			bad++;
	dmabuf_sync(self->a.dmabuf[0], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(map, len);
	EXPECT_EQ(0U, bad) TH_LOG("%zu of %zu bytes of the imported buffer are not the frame",
				  bad, len);
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

	SKIP_UNLESS_DESTRUCTIVE("makes the kernel's slab allocations fail (failslab)");
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
		TH_LOG("the failed publication was not counted");
	EXPECT_EQ(published, read_stat("published"));
	EXPECT_TRUE(poll_fd(self->a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("a fence is left on the buffer by a failed publication");
	EXPECT_TRUE(job_in_flight(&self->a));

	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the job never completed: %s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
	dst = cap->bufs[0].map[0];
	src = out->bufs[0].map[0];
	for (i = 0; i < cap->bufs[0].length[0]; i++)
		bad += dst[i] != (src[i % out->bufs[0].bytesused[0]] ^ ((st.sequence % 255) + 1));
	EXPECT_EQ(0U, bad) TH_LOG("the job without a fence did not write its frame");
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, out, &st, JOB_TIMEOUT_MS));

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	sync_fd = dmabuf_export_sync_file(self->a.dmabuf[0], DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no fence once memory is back");
	EXPECT_EQ(published + 1, read_stat("published"));
	close(sync_fd);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

#define SIGNAL_JOB_MS	600	/* still running when the fence is looked at; below watchdog_ms */

/*
 * F11: publication waits for reservation locks without being interruptible.
 * The test device has a worker hold the CAPTURE buffer's lock for a second
 * while device_run, in this task's STREAMON, publishes the fence; a signal
 * delivered meanwhile must not cost the fence: the wait goes on, the fence
 * is published (nothing is counted as failed) and signals without error
 * when the job completes.
 */
TEST_F(fence, signal_does_not_drop_fence)
{
	struct itimerval alarm_in = { .it_value = { .tv_usec = 200 * 1000 } };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	int ret, failed, published, sync_fd, status, n;
	struct sync_fence_info info;
	struct m2m_buf_state st;
	double waited;

	if (access(STATS, R_OK))
		SKIP(return, "needs %s", STATS);
	ret = job_open(&self->a, 0, SIGNAL_JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = m2m_set_ctrl_by_name(self->a.dev.fd, HOLD_RESV_CTRL, 1000, NULL);
	if (ret == -ENOENT)
		SKIP(return, "%s has no \"%s\" control", driver_name(), HOLD_RESV_CTRL);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	failed = read_stat("publish_failed");
	published = read_stat("published");
	ASSERT_LE(0, failed);
	ASSERT_LE(0, published);

	/* No SA_RESTART: an interruptible wait for the lock would end. */
	alarms = 0;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &alarm_in, NULL));
	ret = job_start(&self->a, false);
	waited = ms_since(self->a.t_start);
	sigaction(SIGALRM, &old, NULL);
	ASSERT_EQ(0, ret) TH_LOG("starting the job: %s", m2m_strerror());
	ASSERT_EQ(1, alarms) TH_LOG("SIGALRM was not delivered: the test proves nothing");
	EXPECT_LE(900.0, waited)
		TH_LOG("STREAMON returned after %.1f ms: device_run did not wait for the reservation lock held for 1000 ms",
		       waited);

	/* Right away: the job has SIGNAL_JOB_MS to run. */
	sync_fd = dmabuf_export_sync_file(self->a.dmabuf[0], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd) TH_LOG("%s", m2m_strerror());
	status = sync_file_status(sync_fd);
	n = sync_file_fences(sync_fd, &info, 1);
	ASSERT_TRUE(job_in_flight(&self->a))
		TH_LOG("job done %.1f ms after STREAMON, before the checks: lengthen it",
		       ms_since(self->a.t_start));
	EXPECT_EQ(0, status)
		TH_LOG("the signal dropped the fence: EXPORT_SYNC_FILE(READ) status %d, not an active fence",
		       status);
	ASSERT_EQ(1, n) TH_LOG("%s", m2m_strerror());
	EXPECT_STREQ(FENCE_DRIVER, info.driver_name)
		TH_LOG("the buffer's fence is \"%s\"'s, not the producer's", info.driver_name);
	EXPECT_EQ(failed, read_stat("publish_failed"))
		TH_LOG("the publication a signal met was counted as failed");
	EXPECT_EQ(published + 1, read_stat("published"))
		TH_LOG("the publication a signal met was not counted as published");

	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS))
		TH_LOG("the fence did not signal within %d ms", JOB_TIMEOUT_MS);
	status = sync_file_status(sync_fd);
	EXPECT_EQ(1, status) TH_LOG("the fence signalled with status %d, not success", status);
	close(sync_fd);
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the job never completed: %s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
}

/* Whether the last REQBUFS or CREATE_BUFS of @q reported producer fences. */
static bool reports_fences(const struct m2m_queue *q)
{
	return q->caps & V4L2_BUF_CAP_PRODUCER_FENCES;
}

/*
 * F16: a queue that publishes producer fences says so. VIDIOC_REQBUFS and
 * VIDIOC_CREATE_BUFS report V4L2_BUF_CAP_PRODUCER_FENCES for the CAPTURE
 * queue, never for OUTPUT (which never publishes).
 */
TEST_F(fence, capability_reported)
{
	struct m2m_queue *out = &self->a.dev.out, *cap = &self->a.dev.cap;
	int ret;

	ret = job_open(&self->a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_NE(0U, cap->caps & V4L2_BUF_CAP_SUPPORTS_MMAP)
		TH_LOG("REQBUFS(CAPTURE) reported no capabilities at all (0x%x)", cap->caps);

	EXPECT_TRUE(reports_fences(cap))
		TH_LOG("REQBUFS(CAPTURE) capabilities 0x%x lack V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)",
		       cap->caps, V4L2_BUF_CAP_PRODUCER_FENCES);
	EXPECT_FALSE(reports_fences(out))
		TH_LOG("REQBUFS(OUTPUT) reports V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)", out->caps);
	ASSERT_EQ(0, m2m_create_bufs_caps(&self->a.dev, cap, V4L2_MEMORY_MMAP))
		TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(reports_fences(cap))
		TH_LOG("CREATE_BUFS(CAPTURE) capabilities 0x%x lack V4L2_BUF_CAP_PRODUCER_FENCES",
		       cap->caps);
	ASSERT_EQ(0, m2m_create_bufs_caps(&self->a.dev, out, V4L2_MEMORY_MMAP))
		TH_LOG("%s", m2m_strerror());
	EXPECT_FALSE(reports_fences(out))
		TH_LOG("CREATE_BUFS(OUTPUT) reports V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)",
		       out->caps);
}

/*
 * F12, F16: a queue set up with the kill switch off publishes nothing, so
 * claims nothing; one set up with it on again claims it again.
 */
TEST_F(fence, capability_follows_kill_switch)
{
	int ret;

	SET_KILL_SWITCH(false);
	ret = job_open(&self->b, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_FALSE(reports_fences(&self->b.dev.cap))
		TH_LOG("producer fences off, yet REQBUFS(CAPTURE) reports them (0x%x)",
		       self->b.dev.cap.caps);
	ASSERT_EQ(0, m2m_create_bufs_caps(&self->b.dev, &self->b.dev.cap, V4L2_MEMORY_MMAP))
		TH_LOG("%s", m2m_strerror());
	EXPECT_FALSE(reports_fences(&self->b.dev.cap))
		TH_LOG("producer fences off, yet CREATE_BUFS(CAPTURE) reports them (0x%x)",
		       self->b.dev.cap.caps);

	SET_KILL_SWITCH(true);
	job_close(&self->b);
	ret = job_open(&self->b, 0, JOB_MS, -1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(reports_fences(&self->b.dev.cap))
		TH_LOG("producer fences on again, yet REQBUFS(CAPTURE) does not report them (0x%x)",
		       self->b.dev.cap.caps);
}

/* Where another device's access, which a job must wait for, is (F15). */
enum dep_where { DEP_CAPTURE, DEP_OUTPUT };

static const char *dep_name(enum dep_where where, uint32_t flags)
{
	if (where == DEP_OUTPUT)
		return flags & DMA_BUF_SYNC_WRITE ? "WRITE fence on the OUTPUT dma-buf" :
						    "READ fence on the OUTPUT dma-buf";
	return flags & DMA_BUF_SYNC_WRITE ? "WRITE fence on the CAPTURE buffer" :
					    "READ fence on the CAPTURE buffer";
}

/*
 * Another device's pending access to dma-buf @dmabuf: a fence of sw_sync
 * @timeline at 1, imported with @flags (DMA_BUF_SYNC_READ: it reads the
 * buffer, DMA_BUF_SYNC_WRITE: it writes it). 0 or a negative errno.
 */
static int add_dependency(int dmabuf, int timeline, uint32_t flags)
{
	int fence, ret;

	fence = sw_sync_fence(timeline, 1);
	if (fence < 0)
		return fence;
	ret = dmabuf_import_sync_file(dmabuf, fence, flags);
	close(fence);
	return ret;
}

/*
 * A sw_sync timeline in self->timeline (skip without one) and its rescue,
 * which signals point 1 after RESCUE_MS should the test not. A macro, so
 * that SKIP and ASSERT end the calling test.
 */
#define OPEN_TIMELINE() do {							\
	int __tl = sw_sync_timeline_open();					\
										\
	if (__tl == -ENOENT)							\
		SKIP(return, "%s", m2m_strerror());				\
	ASSERT_LE(0, __tl) TH_LOG("%s", m2m_strerror());			\
	self->timeline = __tl;							\
	self->rescue = sw_sync_rescue(self->timeline, 1, RESCUE_MS);		\
	ASSERT_LT(0, self->rescue) TH_LOG("%s", m2m_strerror());		\
} while (0)

/*
 * Start the F15 tests: a sw_sync timeline (skip without one) and its
 * rescue, then a job of HOLD_JOB_MS in self->a, not started, whose buffer 0
 * on the side @where says carries another device's pending access (@flags).
 * OUTPUT is then imported from a dma-buf heap, as F15 only looks at the
 * fences of an imported OUTPUT buffer. A macro, so that SKIP and ASSERT end
 * the calling test.
 */
#define OPEN_WITH_DEPENDENCY(where, flags) do {					\
	int __ret, __dmabuf;							\
										\
	OPEN_TIMELINE();							\
	__ret = job_open(&self->a, 0, HOLD_JOB_MS, JOB_DONE);			\
	SKIP_IF_UNSUPPORTED(__ret);						\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
	if ((where) == DEP_OUTPUT) {						\
		__ret = job_import_output(&self->a, import_heap());		\
		if (__ret == -ENOTSUP)						\
			SKIP(return, "no dma-buf heap \"%s\" to import OUTPUT from: %s", \
			     import_heap(), m2m_strerror());			\
		ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());		\
	}									\
	__dmabuf = (where) == DEP_OUTPUT ? self->a.out_dmabuf[0] : self->a.dmabuf[0]; \
	__ret = add_dependency(__dmabuf, self->timeline, (flags));		\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
	ASSERT_EQ(1, dmabuf_pending_fences(__dmabuf, "sw_sync"))		\
		TH_LOG("the imported sw_sync fence is not pending in the dma-buf: %s", \
		       m2m_strerror());						\
} while (0)

/*
 * Queue the job prepared by OPEN_WITH_DEPENDENCY() and check that it is
 * held, for HOLD_MS, by the other device's fence (@what): QBUF and STREAMON
 * return at once (the wait is a fence callback, not a sleep in device_run),
 * the job is not committed (device_run does not run, so no producer fence
 * is published) and does not complete. @jobs: the test device's job count
 * before, or < 0 if its stats are not available.
 */
static void expect_still_held(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fence) *self, const char *what)
{
	struct m2m_buf_state st;
	long written;
	int ret;

	ret = m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, HOLD_MS);
	ASSERT_EQ(-ETIMEDOUT, ret)
		TH_LOG("the job ran, %.1f ms after STREAMON, despite a pending %s (%s)",
		       ms_since(self->a.t_start), what, ret ? m2m_strerror() : "dequeued");
	EXPECT_TRUE(job_in_flight(&self->a)) TH_LOG("the held CAPTURE buffer is no longer queued");
	EXPECT_EQ(0, dmabuf_pending_fences(self->a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a producer fence was published for a job waiting for a %s", what);
	written = written_bytes(self->a.dmabuf[0], self->a.dev.cap.sizeimage[0]);
	EXPECT_EQ(0, written)
		TH_LOG("%ld bytes of the frame were written despite a pending %s",
		       written, what);
}

/*
 * The fence holding self->a's job signals: the job runs and writes its
 * frame. Returns how long after STREAMON it was done, in ms.
 */
static double release_held_job(struct __test_metadata *_metadata,
			       FIXTURE_DATA(fence) *self, const char *what)
{
	struct m2m_buf_state st;
	double waited;
	long bad;
	int ret;

	ret = sw_sync_rescue_cancel(self->rescue);
	self->rescue = 0;
	EXPECT_EQ(0, ret) TH_LOG("the rescue had to signal the fence: something waited for it");
	ASSERT_EQ(0, sw_sync_inc(self->timeline, 1)) TH_LOG("%s", m2m_strerror());
	ret = m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, JOB_TIMEOUT_MS);
	ASSERT_EQ(0, ret) TH_LOG("the job did not run once the %s signalled: %s",
				 what, m2m_strerror());
	waited = ms_since(self->a.t_start);
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("the job held by a %s ended in error", what);
	bad = frame_errors(&self->a, st.sequence);
	EXPECT_EQ(0, bad)
		TH_LOG("%ld bytes of the frame written after the wait are wrong", bad);
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.out, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	return waited;
}

static void expect_job_held(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fence) *self, int jobs, const char *what)
{
	double took;

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	took = ms_since(self->a.t_start);
	EXPECT_GT(PROMPT_MS, took)
		TH_LOG("STREAMON took %.1f ms with a %s: the job waited in device_run or the ioctl, not in a fence callback",
		       took, what);

	expect_still_held(_metadata, self, what);
	if (jobs >= 0)
		EXPECT_EQ(jobs, read_stat("jobs"))
			TH_LOG("device_run ran for a job waiting for a %s", what);
}

/*
 * F15: the job waits for another device's access to its buffers to end, and
 * runs as soon as it has: when the fence signals, the job is scheduled (by
 * the fence callback; nothing else happens meanwhile) and writes its frame.
 */
static void dependency_holds_job(struct __test_metadata *_metadata,
				 FIXTURE_DATA(fence) *self, enum dep_where where,
				 uint32_t flags)
{
	const char *what = dep_name(where, flags);
	double waited;

	OPEN_WITH_DEPENDENCY(where, flags);
	expect_job_held(_metadata, self, read_stat("jobs"), what);
	waited = release_held_job(_metadata, self, what);
	EXPECT_LE(HOLD_MS * 0.9, waited)
		TH_LOG("the job was done %.1f ms after STREAMON, before the fence signalled",
		       waited);
}

/*
 * F15: a GPU still sampling the previous frame from the CAPTURE buffer (a
 * READ fence) keeps the device from overwriting it.
 */
TEST_F(fence, read_fence_on_capture_holds_job)
{
	dependency_holds_job(_metadata, self, DEP_CAPTURE, DMA_BUF_SYNC_READ);
}

/*
 * F12: turning the kill switch off changes nothing for queues already set
 * up. Context a, set up with it on, still waits for another device's READ
 * fence; context b still reports the capability and publishes its fence.
 */
TEST_F(fence, kill_switch_leaves_open_queue_alone)
{
	const char *what = dep_name(DEP_CAPTURE, DMA_BUF_SYNC_READ);
	struct m2m_buf_state st;
	int ret;

	SET_KILL_SWITCH(true);
	OPEN_WITH_DEPENDENCY(DEP_CAPTURE, DMA_BUF_SYNC_READ);
	ret = job_open(&self->b, 0, JOB_MS, -1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	SET_KILL_SWITCH(false);

	ASSERT_EQ(0, m2m_create_bufs_caps(&self->b.dev, &self->b.dev.cap, V4L2_MEMORY_MMAP))
		TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(reports_fences(&self->b.dev.cap))
		TH_LOG("the kill switch, turned off after the queue was set up, took its capability away (0x%x)",
		       self->b.dev.cap.caps);

	expect_job_held(_metadata, self, read_stat("jobs"), what);
	ret = sw_sync_rescue_cancel(self->rescue);
	self->rescue = 0;
	EXPECT_EQ(0, ret) TH_LOG("the rescue had to signal the fence: something waited for it");
	ASSERT_EQ(0, sw_sync_inc(self->timeline, 1)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the job did not run once the %s signalled: %s", what, m2m_strerror());

	ASSERT_EQ(0, job_start(&self->b, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(self->b.dmabuf[0], POLLIN, 0))
		TH_LOG("the kill switch, turned off after the queue was set up, took its fence away");
	EXPECT_EQ(1, dmabuf_pending_fences(self->b.dmabuf[0], FENCE_DRIVER))
		TH_LOG("no producer fence pending during the job: %s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->b.dev, &self->b.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
}

/*
 * F3, for any queue: the exports of a plane share one reservation object,
 * so another device's fence added through one export is seen through every
 * other, made before or after. Checked on a queue set up with the kill
 * switch off, which publishes nothing itself: the allocators do this for
 * every MMAP plane, not only for queues with producer fences.
 */
TEST_F(fence, exports_share_one_reservation_object)
{
	int other, later, ret;

	OPEN_TIMELINE();
	SET_KILL_SWITCH(false);
	ret = job_open(&self->a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_FALSE(reports_fences(&self->a.dev.cap));
	other = m2m_expbuf(&self->a.dev, &self->a.dev.cap, 0, 0, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, other) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, add_dependency(self->a.dmabuf[0], self->timeline, DMA_BUF_SYNC_WRITE))
		TH_LOG("%s", m2m_strerror());
	later = m2m_expbuf(&self->a.dev, &self->a.dev.cap, 0, 0, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, later) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(1, dmabuf_pending_fences(other, "sw_sync"))
		TH_LOG("an export made before another device's fence was added through another export does not see it");
	EXPECT_EQ(1, dmabuf_pending_fences(later, "sw_sync"))
		TH_LOG("an export made after another device's fence was added through another export does not see it");
	EXPECT_EQ(0, poll_fd(other, POLLIN, 0))
		TH_LOG("the other export is readable while another device writes the buffer");

	ASSERT_EQ(0, sw_sync_inc(self->timeline, 1)) TH_LOG("%s", m2m_strerror());
	EXPECT_LT(0, poll_fd(other, POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("the other export still waits once the fence signalled");
	close(other);
	close(later);
}

/*
 * F15: the last look at other users' fences and the publication of the
 * producer fence are one step. Context a's job is queued behind a long job of
 * context b; while b's job runs, a compositor takes a's CAPTURE buffer (a
 * sw_sync READ fence). When the device comes to a's job, it must find that
 * fence and not start the job until it signals.
 */
TEST_F(fence, reader_added_while_queued_holds_job)
{
	const char *what = "READ fence added to the CAPTURE buffer after the job was queued";
	struct m2m_buf_state st;
	int jobs, ret;
	double added;

	OPEN_TIMELINE();
	ret = job_open(&self->b, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = job_open(&self->a, 0, HOLD_JOB_MS, JOB_DONE);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	jobs = read_stat("jobs");

	/* STREAMON runs b's job at once; a's job is queued behind it */
	ASSERT_EQ(0, job_start(&self->b, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(1, dmabuf_pending_fences(self->b.dmabuf[0], FENCE_DRIVER))
		TH_LOG("b's job is not running: %s", m2m_strerror());
	ASSERT_EQ(0, dmabuf_pending_fences(self->a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a's job started before b's ended: %s", m2m_strerror());

	ASSERT_EQ(0, add_dependency(self->a.dmabuf[0], self->timeline, DMA_BUF_SYNC_READ))
		TH_LOG("%s", m2m_strerror());
	added = ms_since(self->b.t_start);
	ASSERT_GT(JOB_MS / 2, added)
		TH_LOG("the fence was added %.1f ms into b's job of %d ms: too late to test anything",
		       added, JOB_MS);

	ASSERT_EQ(0, m2m_dqbuf(&self->b.dev, &self->b.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	expect_still_held(_metadata, self, what);
	/* Held back before device_run: the driver prepared nothing */
	if (jobs >= 0)
		EXPECT_EQ(jobs + 1, read_stat("jobs"))
			TH_LOG("device_run ran for the job held back");
	release_held_job(_metadata, self, what);
}

#define LATE_READER_CTRL	"Late Reader (msec)"
#define LATE_READER_MS		400
#define READER_DRIVER		"vb2-resv-test-reader"

/*
 * F15: the look at publication, under the reservation locks. A reader that
 * takes the CAPTURE buffer after v4l2-mem2mem took the job off the queue,
 * while device_run prepares the job (the test device adds a read fence of
 * its own there, signalled LATE_READER_MS later), is found by publication:
 * nothing is published, the job is put back and runs once that fence has
 * signalled.
 */
TEST_F(fence, reader_added_during_device_run_defers_job)
{
	struct m2m_buf_state st;
	int deferred, ret;
	double done;

	if (access(STATS, R_OK))
		SKIP(return, "needs %s", STATS);
	ret = job_open(&self->a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = m2m_set_ctrl_by_name(self->a.dev.fd, LATE_READER_CTRL, LATE_READER_MS, NULL);
	if (ret == -ENOENT)
		SKIP(return, "%s has no \"%s\" control", driver_name(), LATE_READER_CTRL);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	deferred = read_stat("deferred");
	ASSERT_LE(0, deferred);

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	/* device_run has run: the reader is there, the producer is not */
	ASSERT_EQ(1, dmabuf_pending_fences(self->a.dmabuf[0], READER_DRIVER))
		TH_LOG("the test device added no reader: %s", m2m_strerror());
	EXPECT_EQ(0, dmabuf_pending_fences(self->a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a fence was published beside a reader the job must wait for");
	EXPECT_EQ(deferred + 1, read_stat("deferred"))
		TH_LOG("publication did not put the job back once");

	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st,
			       LATE_READER_MS + JOB_TIMEOUT_MS))
		TH_LOG("the job did not run once the reader's fence signalled: %s",
		       m2m_strerror());
	done = ms_since(self->a.t_start);
	EXPECT_LE(LATE_READER_MS + JOB_MS * 0.9, done)
		TH_LOG("the job was done %.1f ms after STREAMON, before the reader's %d ms were over",
		       done, LATE_READER_MS);
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR);
}

/* F15: another producer still writing the CAPTURE buffer holds the job too. */
TEST_F(fence, write_fence_on_capture_holds_job)
{
	dependency_holds_job(_metadata, self, DEP_CAPTURE, DMA_BUF_SYNC_WRITE);
}

/*
 * F15: the device does not read an imported OUTPUT buffer that another
 * device is still writing (a WRITE fence on its dma-buf).
 */
TEST_F(fence, write_fence_on_dmabuf_output_holds_job)
{
	dependency_holds_job(_metadata, self, DEP_OUTPUT, DMA_BUF_SYNC_WRITE);
}

/*
 * F15: readers do not wait for one another: another device reading the
 * imported OUTPUT buffer (a READ fence on its dma-buf) does not hold the
 * job, which completes in its own time while that fence is still pending.
 */
TEST_F(fence, read_fence_on_dmabuf_output_does_not_hold_job)
{
	const char *what = dep_name(DEP_OUTPUT, DMA_BUF_SYNC_READ);
	struct m2m_buf_state st;
	long bad;
	int ret;

	OPEN_WITH_DEPENDENCY(DEP_OUTPUT, DMA_BUF_SYNC_READ);
	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	ret = m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, HOLD_JOB_MS + 1000);
	ASSERT_EQ(0, ret) TH_LOG("a %s held the job: %s", what, m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
	EXPECT_EQ(1, dmabuf_pending_fences(self->a.out_dmabuf[0], "sw_sync"))
		TH_LOG("the %s signalled before the job completed: the test proves nothing", what);
	bad = frame_errors(&self->a, st.sequence);
	EXPECT_EQ(0, bad) TH_LOG("%ld bytes of the frame are wrong", bad);

	ret = sw_sync_rescue_cancel(self->rescue);
	self->rescue = 0;
	EXPECT_EQ(0, ret) TH_LOG("the rescue had to signal the fence: something waited for it");
	EXPECT_EQ(0, sw_sync_inc(self->timeline, 1)) TH_LOG("%s", m2m_strerror());
}

/*
 * F18: while a job reads its OUTPUT buffer, the buffer's dma-buf (exported
 * from the MMAP buffer, or @imported from a dma-buf heap) carries the
 * device's READ fence: a writer waiting for write access (POLLOUT,
 * EXPORT_SYNC_FILE(WRITE)) waits until the job is done; a reader does not.
 */
static void output_read_fence(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fence) *self, bool imported)
{
	struct m2m_buf_state st;
	int ret, out, sync_fd;
	double waited;

	ret = job_open(&self->a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	if (imported) {
		ret = job_import_output(&self->a, import_heap());
		if (ret == -ENOTSUP)
			SKIP(return, "no dma-buf heap \"%s\" to import OUTPUT from: %s",
			     import_heap(), m2m_strerror());
		ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	} else {
		self->a.out_dmabuf[0] = m2m_expbuf(&self->a.dev, &self->a.dev.out, 0, 0,
						   O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->a.out_dmabuf[0]) TH_LOG("%s", m2m_strerror());
	}
	out = self->a.out_dmabuf[0];
	ASSERT_EQ(POLLOUT, poll_fd(out, POLLOUT, 0))
		TH_LOG("the OUTPUT dma-buf is not writable before the job");

	ASSERT_EQ(0, job_start(&self->a, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(out, POLLOUT, 0))
		TH_LOG("the OUTPUT dma-buf is writable while the job reads it");
	EXPECT_EQ(1, dmabuf_pending_fences(out, FENCE_DRIVER))
		TH_LOG("no fence of the device on the OUTPUT dma-buf during the job: %s",
		       m2m_strerror());
	EXPECT_EQ(POLLIN, poll_fd(out, POLLIN, 0))
		TH_LOG("a reader of the OUTPUT dma-buf waits for the device's read");
	sync_fd = dmabuf_export_sync_file(out, DMA_BUF_SYNC_WRITE);
	ASSERT_LE(0, sync_fd) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, sync_file_status(sync_fd))
		TH_LOG("EXPORT_SYNC_FILE(WRITE) on the OUTPUT dma-buf is signalled while the job reads it");

	EXPECT_EQ(POLLOUT, poll_fd(out, POLLOUT, JOB_TIMEOUT_MS))
		TH_LOG("the OUTPUT dma-buf is not writable %d ms after the job started",
		       JOB_TIMEOUT_MS);
	waited = ms_since(self->a.t_start);
	EXPECT_LE(JOB_MS * 0.9, waited)
		TH_LOG("the OUTPUT dma-buf was writable %.1f ms into a %d ms job",
		       waited, JOB_MS);
	EXPECT_EQ(1, sync_file_status(sync_fd))
		TH_LOG("the writer's sync_file is still pending after the job");
	close(sync_fd);
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.out, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
	ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, &self->a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
}

TEST_F(fence, output_read_fence_holds_writer)
{
	output_read_fence(_metadata, self, false);
}

TEST_F(fence, dmabuf_output_read_fence_holds_writer)
{
	output_read_fence(_metadata, self, true);
}

/*
 * A fresh context of the device runs a job to completion with its frame:
 * nothing is left wedged @after something.
 */
static void expect_clean_job(struct __test_metadata *_metadata, struct job *j,
			     const char *after)
{
	struct m2m_buf_state st;
	long bad;
	int ret;

	ret = job_open(j, 0, HOLD_JOB_MS, JOB_DONE);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(j, false)) TH_LOG("%s", m2m_strerror());
	ret = m2m_dqbuf(&j->dev, &j->dev.cap, &st, JOB_TIMEOUT_MS);
	ASSERT_EQ(0, ret) TH_LOG("after %s, a new context's job does not complete: %s",
				 after, m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("after %s, a new context's job ends in error", after);
	bad = frame_errors(j, st.sequence);
	EXPECT_EQ(0, bad) TH_LOG("after %s, %ld bytes of a new context's frame are wrong",
				 after, bad);
	job_close(j);
}

/*
 * The other device goes away: its sw_sync timeline is closed, which signals
 * the fence, with an error. Nothing waits for that, and no job of a context
 * that gave up waiting (@jobs: the test device's job count, or < 0) runs.
 */
static void expect_dependency_gone(struct __test_metadata *_metadata,
				   FIXTURE_DATA(fence) *self, int jobs)
{
	uint64_t t0;
	double took;
	int ret;

	ret = sw_sync_rescue_cancel(self->rescue);
	self->rescue = 0;
	EXPECT_EQ(0, ret)
		TH_LOG("the rescue had to signal the fence: something waited for it");
	t0 = now_us();
	close(self->timeline);
	self->timeline = -1;
	took = ms_since(t0);
	EXPECT_GT(PROMPT_MS, took) TH_LOG("closing the sw_sync timeline took %.1f ms", took);
	usleep(5 * HOLD_JOB_MS * 1000);
	if (jobs >= 0)
		EXPECT_EQ(jobs, read_stat("jobs"))
			TH_LOG("a job given up while it waited ran when its fence signalled");
}

/*
 * F15, F5: a job waiting for a fence that never signals is given up at once
 * by STREAMOFF of either queue, or by closing the file: nothing waits for
 * the fence, the buffers come back, no producer fence is left pending, and
 * when the fence finally signals (with an error: its timeline goes away),
 * nothing runs. The device then runs a new context's job as usual.
 */
static void cancel_waiting_job(struct __test_metadata *_metadata,
			       FIXTURE_DATA(fence) *self, enum cancel_how how)
{
	const char *what = dep_name(DEP_CAPTURE, DMA_BUF_SYNC_READ);
	struct m2m_queue *q = &self->a.dev.cap;
	struct m2m_buf_state st;
	int jobs, ret;
	double took;
	uint64_t t0;

	OPEN_WITH_DEPENDENCY(DEP_CAPTURE, DMA_BUF_SYNC_READ);
	jobs = read_stat("jobs");
	expect_job_held(_metadata, self, jobs, what);

	t0 = now_us();
	switch (how) {
	case STREAMOFF_CAPTURE:
		ret = m2m_streamoff(&self->a.dev, &self->a.dev.cap);
		break;
	case STREAMOFF_OUTPUT:
		q = &self->a.dev.out;
		ret = m2m_streamoff(&self->a.dev, &self->a.dev.out);
		break;
	case CLOSE_FILE:
	default:
		/* The file only: the CAPTURE dma-buf stays, to look at. */
		m2m_close(&self->a.dev);
		ret = 0;
		break;
	}
	took = ms_since(t0);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_GT(PROMPT_MS, took)
		TH_LOG("%s took %.1f ms while the job waited for a %s",
		       how == CLOSE_FILE ? "close" : "STREAMOFF", took, what);

	if (how != CLOSE_FILE) {
		ASSERT_EQ(0, m2m_querybuf(&self->a.dev, q, 0, &st)) TH_LOG("%s", m2m_strerror());
		EXPECT_EQ(0U, st.flags & (V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE))
			TH_LOG("%s buffer not back after STREAMOFF (flags 0x%08x)",
			       q->name, st.flags);
		t0 = now_us();
		m2m_close(&self->a.dev);
		took = ms_since(t0);
		EXPECT_GT(PROMPT_MS, took)
			TH_LOG("close took %.1f ms after STREAMOFF of a waiting job", took);
	}
	EXPECT_TRUE(poll_fd(self->a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("a fence is left pending on the CAPTURE buffer of the given-up job");
	EXPECT_EQ(0, dmabuf_pending_fences(self->a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a producer fence is left pending for the given-up job");

	expect_dependency_gone(_metadata, self, jobs);
	expect_clean_job(_metadata, &self->b, "giving up a waiting job");
}

TEST_F(fence, streamoff_while_waiting_returns_at_once)
{
	cancel_waiting_job(_metadata, self, STREAMOFF_CAPTURE);
}

TEST_F(fence, streamoff_output_while_waiting_returns_at_once)
{
	cancel_waiting_job(_metadata, self, STREAMOFF_OUTPUT);
}

TEST_F(fence, close_while_waiting_returns_at_once)
{
	cancel_waiting_job(_metadata, self, CLOSE_FILE);
}

/*
 * F15, F6: the process whose job waits for a fence is killed (SIGKILL): it
 * goes at once, although the fence is still pending, and the device runs a
 * new context's job as usual. When the fence finally signals, the dead
 * process's job does not run (nor touch its freed context: KASAN).
 */
TEST_F(fence, killed_while_waiting)
{
	const char *what = dep_name(DEP_CAPTURE, DMA_BUF_SYNC_READ);
	int pipefd[2], msg[2], child_fd, dmabuf, jobs;
	long written;
	double took;
	uint64_t t0;
	pid_t pid;

	OPEN_TIMELINE();
	jobs = read_stat("jobs");

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child sends its CAPTURE dma-buf's fd and size, or -errno. */
		close(pipefd[0]);
		msg[0] = job_open(&self->a, 0, HOLD_JOB_MS, JOB_DONE);
		if (!msg[0])
			msg[0] = add_dependency(self->a.dmabuf[0], self->timeline,
						DMA_BUF_SYNC_READ);
		if (!msg[0])
			msg[0] = job_start(&self->a, false);
		if (!msg[0])
			msg[0] = self->a.dmabuf[0];
		msg[1] = self->a.dev.cap.sizeimage[0];
		if (write(pipefd[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	child_fd = read(pipefd[0], msg, sizeof(msg)) == sizeof(msg) ? msg[0] : -EPIPE;
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

	/* The child's job is held, as expect_job_held() checks for ours. */
	usleep(HOLD_MS * 1000);
	written = written_bytes(dmabuf, msg[1]);
	EXPECT_EQ(0, written) TH_LOG("the child's job wrote %ld bytes despite a pending %s",
				     written, what);
	EXPECT_EQ(0, dmabuf_pending_fences(dmabuf, FENCE_DRIVER))
		TH_LOG("a producer fence was published for a job waiting for a %s", what);
	if (jobs >= 0)
		EXPECT_EQ(jobs, read_stat("jobs"))
			TH_LOG("device_run ran for the child's job waiting for a %s", what);

	t0 = now_us();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	took = ms_since(t0);
	EXPECT_GT(KILL_PROMPT_MS, took)
		TH_LOG("the process took %.1f ms to die while its job waited for a %s",
		       took, what);
	EXPECT_TRUE(poll_fd(dmabuf, POLLIN, 0) & POLLIN)
		TH_LOG("a fence is left pending on the dead process's CAPTURE buffer");
	EXPECT_EQ(1, dmabuf_pending_fences(dmabuf, "sw_sync"))
		TH_LOG("the %s is no longer pending: the test proves nothing", what);

	/* The dead context is not in the way, while its fence is still pending. */
	expect_clean_job(_metadata, &self->a, "the death of a process whose job waited");
	expect_dependency_gone(_metadata, self, jobs >= 0 ? jobs + 1 : -1);
	close(dmabuf);
}

#define OWN_JOB_MS	100
#define OWN_JOBS	10

/*
 * F15: the queue's own producer fences are no dependency of its jobs. Jobs
 * run back to back on two buffers, each dequeued buffer queued again at
 * once, while a consumer keeps the sync_file of the first job's fence: every
 * job completes in its own time, none stalls. With the test device a
 * buffer's previous fence has signalled by the time its next job can be
 * scheduled, so this guards the scheduling path (e.g. a callback on one's
 * own fence that is never run, or runs under a lock it takes again) rather
 * than proving that the exception is made.
 */
TEST_F(fence, own_fence_does_not_block_next_job)
{
	struct m2m_queue *out = &self->a.dev.out, *cap = &self->a.dev.cap;
	int ret, held, status, published, n, i;
	struct sync_fence_info info;
	struct m2m_buf_state st;
	double took;

	ret = job_open_n(&self->a, 0, OWN_JOB_MS, JOB_DONE, 2, NULL);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	published = read_stat("published");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, m2m_qbuf(&self->a.dev, cap, i)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->a.dev, out, i)) TH_LOG("%s", m2m_strerror());
	}
	ASSERT_EQ(0, m2m_streamon(&self->a.dev, out)) TH_LOG("%s", m2m_strerror());
	self->a.t_start = now_us();
	ASSERT_EQ(0, m2m_streamon(&self->a.dev, cap)) TH_LOG("%s", m2m_strerror());
	held = dmabuf_export_sync_file(self->a.dmabuf[0], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, held) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(1, sync_file_fences(held, &info, 1)) TH_LOG("%s", m2m_strerror());
	ASSERT_STREQ(FENCE_DRIVER, info.driver_name)
		TH_LOG("no producer fence on the first job's buffer (%s): the test proves nothing",
		       info.driver_name);

	for (n = 0; n < OWN_JOBS; n++) {
		ret = m2m_dqbuf(&self->a.dev, cap, &st, 2 * OWN_JOB_MS + 1000);
		ASSERT_EQ(0, ret) TH_LOG("job %d of a queue re-using its buffers stalled: %s",
					 n, m2m_strerror());
		EXPECT_EQ((unsigned int)n % 2, st.index);
		EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("job %d ended in error", n);
		ASSERT_EQ(0, m2m_dqbuf(&self->a.dev, out, &st, JOB_TIMEOUT_MS))
			TH_LOG("%s", m2m_strerror());
		if (n + 2 >= OWN_JOBS)
			continue;
		ASSERT_EQ(0, m2m_qbuf(&self->a.dev, cap, n % 2)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->a.dev, out, n % 2)) TH_LOG("%s", m2m_strerror());
	}
	took = ms_since(self->a.t_start);
	EXPECT_GT(OWN_JOBS * OWN_JOB_MS + 1000.0, took)
		TH_LOG("%d jobs of %d ms took %.1f ms: some waited", OWN_JOBS, OWN_JOB_MS,
		       took);
	if (published >= 0)
		EXPECT_EQ(published + OWN_JOBS, read_stat("published"))
			TH_LOG("not every job published its fence: the test proves little");
	status = sync_file_status(held);
	EXPECT_EQ(1, status) TH_LOG("the first job's fence has status %d, not signalled", status);
	close(held);
}

#define LINGER_PARAM		"/sys/module/vb2_resv_test/parameters/linger_ms"

/*
 * F5, and the regression test of the v4l2-mem2mem fix in patches/fixes/:
 * close a context while another task (the test device's "interrupt" work)
 * completes its job. v4l2_m2m_job_finish() used to wake the closing task and
 * then use the m2m context that task frees; the test device's linger_ms hook
 * on __v4l2_m2m_try_queue() widens that window to 200 ms so that KASAN sees
 * it every time. KASAN's report is what fails: the dmesg scan of the main
 * boot, and the boot that runs this test on v4l2-mem2mem built without the
 * fix, where the report must appear.
 */
TEST_F(fence, close_while_job_completes_elsewhere)
{
	int sync_fd, i;
	uint64_t t0;

	if (access(LINGER_PARAM, W_OK))
		SKIP(return, "needs %s", LINGER_PARAM);
	TH_LOG("__v4l2_m2m_try_queue() %s", read_stat("linger_hooked") == 1 ?
	       "is delayed by the test device's hook" :
	       "cannot be hooked here: the window stays as narrow as it is");

	for (i = 0; i < 3; i++) {
		START_FENCED_JOB(2000, JOB_DONE, sync_fd);
		ASSERT_EQ(0, write_file(LINGER_PARAM, "200"));
		t0 = now_us();
		/* job_abort hands the job's end to the device's work */
		job_close(&self->a);
		write_file(LINGER_PARAM, "0");
		expect_cancelled(_metadata, sync_fd, t0, "closing the context");
		close(sync_fd);
	}
	expect_clean_job(_metadata, &self->b, "closing contexts mid-job");
}


/* Is process @pid asleep in kernel function @fn (/proc/@pid/wchan)? */
static bool sleeps_in(pid_t pid, const char *fn)
{
	char path[64], buf[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, fn);
}

/* Pin the calling task to CPU @cpu. */
static int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/*
 * The regression test of v4l2_m2m_suspend()'s fix in patches/fixes/: a
 * driver suspends its m2m device (system sleep; rockchip-rga's remove()
 * with the series) while a process closes a context whose job runs.
 * v4l2_m2m_suspend() used to wait on that context's wait queue and use it
 * after waking up; the closing task, woken by the same job's end, frees
 * the context. The suspending task runs on CPU 1, where a real-time
 * task is meant to keep it from running until the close on CPU 0 is
 * done, so that KASAN would report the use after free without the fix:
 * that has not been shown yet (a SCHED_IDLE suspender on the closer's CPU
 * and a busy-waiting ftrace hook did not make it fail; the close sleeps
 * in its release). The test checks that the job's fence signals with an
 * error and that the device resumes; KASAN watches the main boot.
 */
TEST_F(fence, suspend_while_closing_mid_job)
{
	struct sched_param fifo = { .sched_priority = 1 };
	pid_t pid, hog;
	int sync_fd, i, wstatus;
	uint64_t t0;

	if (access(SUSPENDED, W_OK) ||
	    read_int_file(WATCHDOG_PARAM, &self->watchdog_ms))
		SKIP(return, "needs %s and %s", SUSPENDED, WATCHDOG_PARAM);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	/* The job must still run when the context is closed. */
	ASSERT_EQ(0, write_file(WATCHDOG_PARAM, "20000"));
	ASSERT_EQ(0, pin_to_cpu(0));

	START_FENCED_JOB(10000, JOB_DONE, sync_fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/*
		 * The driver's suspend, on CPU 1: waits for the running job.
		 * In a program of its own, without the copies of the video
		 * node, the dma-bufs and the buffers' mappings that fork()
		 * gave this one, which would keep the context open.
		 */
		if (pin_to_cpu(1))
			_exit(126);
		syscall(__NR_close_range, 3, ~0U, 0);
		execl("/bin/sh", "sh", "-c", "echo 1 > " SUSPENDED, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 10000 && !sleeps_in(pid, "v4l2_m2m_suspend"); i++)
		usleep(1000);
	ASSERT_TRUE(sleeps_in(pid, "v4l2_m2m_suspend"))
		TH_LOG("the suspending task does not wait for the running job");

	/* CPU 1 busy with a real-time task, in user space (RCU goes on) */
	hog = fork();
	ASSERT_LE(0, hog);
	if (!hog) {
		t0 = now_us();
		if (pin_to_cpu(1) || sched_setscheduler(0, SCHED_FIFO, &fifo))
			_exit(1);
		while (now_us() - t0 < 1000000)
			;
		_exit(0);
	}
	usleep(100000);

	t0 = now_us();
	/* job_abort hands the job's end to the device's work */
	job_close(&self->a);
	expect_cancelled(_metadata, sync_fd, t0, "closing the context");
	close(sync_fd);
	/* The context is freed: let the suspending task run again. */
	usleep(100000);
	kill(hog, SIGKILL);
	ASSERT_EQ(hog, waitpid(hog, &wstatus, 0));
	EXPECT_TRUE(WIFSIGNALED(wstatus) ||
		    (WIFEXITED(wstatus) && !WEXITSTATUS(wstatus)))
		TH_LOG("the real-time task could not run on CPU 1 (status %#x)", wstatus);

	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	EXPECT_TRUE(WIFEXITED(wstatus) && !WEXITSTATUS(wstatus))
		TH_LOG("suspending the m2m device failed");
	EXPECT_EQ(0, write_file(SUSPENDED, "0"));
	expect_clean_job(_metadata, &self->b, "suspending while closing mid-job");
}

/*
 * A compositor polls a dma-buf that another device is writing (a sw_sync
 * fence imported for write). That device then queues a newer write, which
 * replaces the first fence in the reservation object, and closes the
 * sync_file of the first: only the poll callback still holds it. When the
 * other device goes away (its sw_sync timeline is closed), its fences are
 * signalled with an error and the callback drops the first fence's last
 * reference, while sw_sync still holds the timeline lock that the release
 * takes. Without "dma-buf: sw_sync: Do not release a point under the
 * timeline lock" (patches/sw_sync/), the CPU spins on that lock for
 * good, and lockdep reports recursive locking. fence_stress found it.
 */
TEST(timeline_closed_under_dma_buf_poller)
{
	int timeline, dmabuf, first, second, status;

	timeline = sw_sync_timeline_open();
	if (timeline == -ENOENT)
		SKIP(return, "%s", m2m_strerror());
	ASSERT_LE(0, timeline) TH_LOG("%s", m2m_strerror());
	dmabuf = dma_heap_alloc("system", 4096);
	if (dmabuf == -ENOENT)
		SKIP(close(timeline); return, "%s", m2m_strerror());
	ASSERT_LE(0, dmabuf) TH_LOG("%s", m2m_strerror());
	first = sw_sync_fence(timeline, 1);
	ASSERT_LE(0, first) TH_LOG("%s", m2m_strerror());
	second = sw_sync_fence(timeline, 2);
	ASSERT_LE(0, second) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, dmabuf_import_sync_file(dmabuf, first, DMA_BUF_SYNC_WRITE))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, poll_fd(dmabuf, POLLIN, 0))
		TH_LOG("the dma-buf is readable while its writer's fence is pending");
	ASSERT_EQ(0, dmabuf_import_sync_file(dmabuf, second, DMA_BUF_SYNC_WRITE))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(1, dmabuf_pending_fences(dmabuf, "sw_sync"))
		TH_LOG("the newer fence did not replace the first one: %s", m2m_strerror());
	close(first);

	close(timeline);

	EXPECT_EQ(POLLIN, poll_fd(dmabuf, POLLIN, JOB_TIMEOUT_MS))
		TH_LOG("the dma-buf is not readable once its writer went away");
	status = sync_file_status(second);
	EXPECT_EQ(-ENOENT, status)
		TH_LOG("the writer's fence has status %d once its timeline went away", status);
	close(second);
	close(dmabuf);
}

TEST_HARNESS_MAIN
