// SPDX-License-Identifier: GPL-2.0
/*
 * The producer-fence contract on an opted-in V4L2 mem2mem device: when a
 * job's fence is published, where it is seen and when it signals
 * (CONTRACT.md F2-F4, F7, F8 in part), the exports of a plane sharing one
 * reservation object (F3), the kill switch and the capability (F12, F16),
 * and the device's READ fence on OUTPUT (F18). Jobs that do not end well
 * (F5, F6, F10, F11, F14) are fence_errors' tests, jobs held by another
 * device's fences (F15) implicit_sync's; the three share the fixture and
 * the helpers of fence_fixture.c.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "fence_fixture.h"

FENCE_FIXTURE(fence);

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

	ret = job_open(&self->fx.a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->fx.a, true)) TH_LOG("%s", m2m_strerror());
	usleep(50 * 1000);

	EXPECT_TRUE(poll_fd(self->fx.a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("CAPTURE queued without OUTPUT is not readable: a fence was published at QBUF");
	EXPECT_EQ(1, fence_status(self->fx.a.dmabuf[0], NULL, 0))
		TH_LOG("EXPORT_SYNC_FILE of an idle CAPTURE buffer is not signalled");

	ASSERT_EQ(0, m2m_qbuf(&self->fx.a.dev, &self->fx.a.dev.out, 0))
		TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(self->fx.a.dmabuf[0], POLLIN, 0))
		TH_LOG("no fence once the job was committed");
	EXPECT_TRUE(job_in_flight(&self->fx.a))
		TH_LOG("job already done after %.1f ms: lengthen it", ms_since(self->fx.a.t_start));
}

/*
 * F3: every VIDIOC_EXPBUF of the buffer, whatever its access mode and
 * whether made before or after publication, shows the same WRITE fence.
 */
TEST_F(fence, every_export_sees_the_fence)
{
	int before_ro, after, ret, s;
	char drv[32];

	ret = job_open(&self->fx.a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	before_ro = m2m_expbuf(&self->fx.a.dev, &self->fx.a.dev.cap, 0, 0, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, before_ro) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	after = m2m_expbuf(&self->fx.a.dev, &self->fx.a.dev.cap, 0, 0, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, after) TH_LOG("%s", m2m_strerror());

	EXPECT_EQ(0, poll_fd(self->fx.a.dmabuf[0], POLLIN, 0))
		TH_LOG("export made before the job is readable while the job runs");
	EXPECT_EQ(0, poll_fd(before_ro, POLLIN, 0))
		TH_LOG("read-only export made before the job is readable while it runs");
	EXPECT_EQ(0, poll_fd(after, POLLIN, 0))
		TH_LOG("export made after publication is readable while the job runs");
	s = fence_status(after, drv, sizeof(drv));
	EXPECT_EQ(0, s) TH_LOG("EXPORT_SYNC_FILE(READ) status %d, expected 0 (active)", s);
	EXPECT_STREQ(FENCE_DRIVER, drv);
	ASSERT_TRUE(job_in_flight(&self->fx.a))
		TH_LOG("job done after %.1f ms, before the checks: they prove nothing",
		       ms_since(self->fx.a.t_start));

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

	ret = job_open(&self->fx.a, V4L2_PIX_FMT_NV12M, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_LT(1U, self->fx.a.planes);
	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	for (p = 0; p < self->fx.a.planes; p++) {
		EXPECT_EQ(0, poll_fd(self->fx.a.dmabuf[p], POLLIN, 0))
			TH_LOG("plane %u readable while the job runs", p);
		EXPECT_EQ(0, fence_status(self->fx.a.dmabuf[p], NULL, 0))
			TH_LOG("plane %u's sync_file is not an active fence", p);
	}
	ASSERT_TRUE(job_in_flight(&self->fx.a));
}

/*
 * F4: once POLLIN says the dma-buf is readable, the CPU reads the whole
 * frame the device wrote, and the fence is signalled no later than the
 * buffer can be dequeued.
 */
TEST_F(fence, frame_is_final_when_fence_signals)
{
	struct m2m_queue *out = &self->fx.a.dev.out, *cap = &self->fx.a.dev.cap;
	struct m2m_buf_state st;
	uint8_t *map, *seen, *src = out->bufs[0].map[0];
	size_t len, i, bad = 0;
	int ret;

	ret = job_open(&self->fx.a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	src = out->bufs[0].map[0];
	len = cap->bufs[0].length[0];
	map = dmabuf_mmap(self->fx.a.dmabuf[0], len, PROT_READ);
	ASSERT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	seen = malloc(len);
	ASSERT_NE(NULL, seen);

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_LT(0, poll_fd(self->fx.a.dmabuf[0], POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("the fence did not signal within %d ms", JOB_TIMEOUT_MS);
	ASSERT_EQ(0, dmabuf_sync(self->fx.a.dmabuf[0], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	memcpy(seen, map, len);
	ASSERT_EQ(0, dmabuf_sync(self->fx.a.dmabuf[0], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	EXPECT_GE(ms_since(self->fx.a.t_start), JOB_MS * 0.8)
		TH_LOG("POLLIN after %.1f ms of a %d ms job", ms_since(self->fx.a.t_start), JOB_MS);

	ret = m2m_dqbuf(&self->fx.a.dev, cap, &st, 100);
	ASSERT_EQ(0, ret) TH_LOG("fence signalled but CAPTURE not dequeueable: %s",
				 m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR);
	for (i = 0; i < len; i++)
		if (seen[i] != (src[i % out->bufs[0].bytesused[0]] ^ frame_key(st.sequence)))
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

	START_FENCED_JOB(&self->fx, JOB_MS, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no active fence while the job runs");

	ASSERT_LT(0, poll_fd(self->fx.a.dev.fd, POLLIN, JOB_TIMEOUT_MS) & POLLIN);
	EXPECT_EQ(1, sync_file_status(sync_fd))
		TH_LOG("CAPTURE is dequeueable but its fence has not signalled");
	close(sync_fd);
}

/*
 * F12: a queue set up with the kill switch off reports no capability, and
 * its running job publishes no fence.
 */
TEST_F(fence, kill_switch_restores_stub)
{
	int ret;

	SET_KILL_SWITCH(&self->fx, false);
	ret = job_open(&self->fx.a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0U, self->fx.a.dev.cap.caps & V4L2_BUF_CAP_PRODUCER_FENCES)
		TH_LOG("producer fences off, yet REQBUFS(CAPTURE) reports them (0x%x)",
		       self->fx.a.dev.cap.caps);

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(poll_fd(self->fx.a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("fences off, yet the CAPTURE dma-buf waits");
	EXPECT_EQ(1, fence_status(self->fx.a.dmabuf[0], NULL, 0))
		TH_LOG("fences off, yet EXPORT_SYNC_FILE is not the stub");
	ASSERT_TRUE(job_in_flight(&self->fx.a));
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

	ret = job_open(&self->fx.a, 0, 1, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	if (access(DMABUF_BUFINFO, R_OK))
		SKIP(return, "needs debugfs mounted: %s", DMABUF_BUFINFO);

	for (i = 1; i <= 5; i++) {
		ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st, JOB_TIMEOUT_MS))
			TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.out, &st, JOB_TIMEOUT_MS))
			TH_LOG("%s", m2m_strerror());
		n = dmabuf_resv_fences(self->fx.a.dmabuf[0], context, seqno, 4);
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
	struct m2m_queue *out = &self->fx.a.dev.out, *cap = &self->fx.a.dev.cap;
	struct sync_fence_info info;
	struct m2m_buf_state st;
	bool bufinfo;
	uint64_t deadline;
	int i;

	ret = job_open_n(&self->fx.a, 0, 150, JOB_DONE, ORDER_JOBS, NULL);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	bufinfo = !access(DMABUF_BUFINFO, R_OK);
	for (i = 0; i < ORDER_JOBS; i++) {
		sync_fd[i] = -1;
		context[i] = 0;
		seqno[i] = 0;
		dmabuf[i] = m2m_expbuf(&self->fx.a.dev, cap, i, 0, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, dmabuf[i]) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->fx.a.dev, cap, i)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->fx.a.dev, out, i)) TH_LOG("%s", m2m_strerror());
	}
	ASSERT_EQ(0, m2m_streamon(&self->fx.a.dev, out));
	ASSERT_EQ(0, m2m_streamon(&self->fx.a.dev, cap));

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
		ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, cap, &st, JOB_TIMEOUT_MS))
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

/*
 * F3, F4: a CAPTURE buffer imported with V4L2_MEMORY_DMABUF from a dma-buf
 * heap gets the fence in the exporter's reservation object, and the bytes
 * read there after the signal are the frame.
 */
TEST_F(fence, imported_capture_sees_the_fence)
{
	struct m2m_queue *out = &self->fx.a.dev.out, *cap = &self->fx.a.dev.cap;
	const char *heap = import_heap();
	uint8_t *map, *src;
	struct m2m_buf_state st;
	size_t len, i, bad = 0;
	char drv[32];
	int ret, s;

	ret = job_open_n(&self->fx.a, 0, JOB_MS, JOB_DONE, 1, heap);
	if (ret == -ENOTSUP)
		SKIP(return, "no dma-buf heap \"%s\" to import from: %s", heap, m2m_strerror());
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	len = cap->sizeimage[0];
	src = out->bufs[0].map[0];

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(self->fx.a.dmabuf[0], POLLIN, 0))
		TH_LOG("the imported %s dma-buf is readable while the job runs", heap);
	s = fence_status(self->fx.a.dmabuf[0], drv, sizeof(drv));
	EXPECT_EQ(0, s) TH_LOG("imported dma-buf's sync_file status %d, not active", s);
	EXPECT_STREQ(FENCE_DRIVER, drv);
	ASSERT_TRUE(job_in_flight(&self->fx.a))
		TH_LOG("job done after %.1f ms, before the checks", ms_since(self->fx.a.t_start));

	ASSERT_LT(0, poll_fd(self->fx.a.dmabuf[0], POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("the fence never signalled");
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, cap, &st, 100)) TH_LOG("%s", m2m_strerror());
	map = dmabuf_mmap(self->fx.a.dmabuf[0], len, PROT_READ);
	ASSERT_NE(NULL, map) TH_LOG("%s", m2m_strerror());
	dmabuf_sync(self->fx.a.dmabuf[0], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < len; i++)
		if (map[i] != (src[i % out->bufs[0].bytesused[0]] ^ frame_key(st.sequence)))
			bad++;
	dmabuf_sync(self->fx.a.dmabuf[0], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(map, len);
	EXPECT_EQ(0U, bad) TH_LOG("%zu of %zu bytes of the imported buffer are not the frame",
				  bad, len);
}

/*
 * F16: a queue that publishes producer fences says so. VIDIOC_REQBUFS and
 * VIDIOC_CREATE_BUFS report V4L2_BUF_CAP_PRODUCER_FENCES for the CAPTURE
 * queue, never for OUTPUT (which never publishes).
 */
TEST_F(fence, capability_reported)
{
	struct m2m_queue *out = &self->fx.a.dev.out, *cap = &self->fx.a.dev.cap;
	int ret;

	ret = job_open(&self->fx.a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_NE(0U, cap->caps & V4L2_BUF_CAP_SUPPORTS_MMAP)
		TH_LOG("REQBUFS(CAPTURE) reported no capabilities at all (0x%x)", cap->caps);

	EXPECT_TRUE(reports_fences(cap))
		TH_LOG("REQBUFS(CAPTURE) capabilities 0x%x lack V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)",
		       cap->caps, V4L2_BUF_CAP_PRODUCER_FENCES);
	EXPECT_FALSE(reports_fences(out))
		TH_LOG("REQBUFS(OUTPUT) reports V4L2_BUF_CAP_PRODUCER_FENCES (0x%x)", out->caps);
	ASSERT_EQ(0, m2m_create_bufs_caps(&self->fx.a.dev, cap, V4L2_MEMORY_MMAP))
		TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(reports_fences(cap))
		TH_LOG("CREATE_BUFS(CAPTURE) capabilities 0x%x lack V4L2_BUF_CAP_PRODUCER_FENCES",
		       cap->caps);
	ASSERT_EQ(0, m2m_create_bufs_caps(&self->fx.a.dev, out, V4L2_MEMORY_MMAP))
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

	SET_KILL_SWITCH(&self->fx, false);
	ret = job_open(&self->fx.b, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_FALSE(reports_fences(&self->fx.b.dev.cap))
		TH_LOG("producer fences off, yet REQBUFS(CAPTURE) reports them (0x%x)",
		       self->fx.b.dev.cap.caps);
	ASSERT_EQ(0, m2m_create_bufs_caps(&self->fx.b.dev, &self->fx.b.dev.cap, V4L2_MEMORY_MMAP))
		TH_LOG("%s", m2m_strerror());
	EXPECT_FALSE(reports_fences(&self->fx.b.dev.cap))
		TH_LOG("producer fences off, yet CREATE_BUFS(CAPTURE) reports them (0x%x)",
		       self->fx.b.dev.cap.caps);

	SET_KILL_SWITCH(&self->fx, true);
	job_close(&self->fx.b);
	ret = job_open(&self->fx.b, 0, JOB_MS, -1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(reports_fences(&self->fx.b.dev.cap))
		TH_LOG("producer fences on again, yet REQBUFS(CAPTURE) does not report them (0x%x)",
		       self->fx.b.dev.cap.caps);
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

	OPEN_TIMELINE(&self->fx);
	SET_KILL_SWITCH(&self->fx, false);
	ret = job_open(&self->fx.a, 0, JOB_MS, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_FALSE(reports_fences(&self->fx.a.dev.cap));
	other = m2m_expbuf(&self->fx.a.dev, &self->fx.a.dev.cap, 0, 0, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, other) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, add_dependency(self->fx.a.dmabuf[0], self->fx.timeline, DMA_BUF_SYNC_WRITE))
		TH_LOG("%s", m2m_strerror());
	later = m2m_expbuf(&self->fx.a.dev, &self->fx.a.dev.cap, 0, 0, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, later) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(1, dmabuf_pending_fences(other, "sw_sync"))
		TH_LOG("an export made before another device's fence was added through another export does not see it");
	EXPECT_EQ(1, dmabuf_pending_fences(later, "sw_sync"))
		TH_LOG("an export made after another device's fence was added through another export does not see it");
	EXPECT_EQ(0, poll_fd(other, POLLIN, 0))
		TH_LOG("the other export is readable while another device writes the buffer");

	ASSERT_EQ(0, sw_sync_inc(self->fx.timeline, 1)) TH_LOG("%s", m2m_strerror());
	EXPECT_LT(0, poll_fd(other, POLLIN, JOB_TIMEOUT_MS) & POLLIN)
		TH_LOG("the other export still waits once the fence signalled");
	close(other);
	close(later);
}

/*
 * F18: while a job reads its OUTPUT buffer, the buffer's dma-buf (exported
 * from the MMAP buffer, or @imported from a dma-buf heap) carries the
 * device's READ fence: a writer waiting for write access (POLLOUT,
 * EXPORT_SYNC_FILE(WRITE)) waits until the job is done; a reader does not.
 */
static void output_read_fence(struct __test_metadata *_metadata,
			      struct fence_fixture *fx, bool imported)
{
	struct m2m_buf_state st;
	int ret, out, sync_fd;
	double waited;

	ret = job_open(&fx->a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	if (imported) {
		ret = job_import_output(&fx->a, import_heap());
		if (ret == -ENOTSUP)
			SKIP(return, "no dma-buf heap \"%s\" to import OUTPUT from: %s",
			     import_heap(), m2m_strerror());
		ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	} else {
		fx->a.out_dmabuf[0] = m2m_expbuf(&fx->a.dev, &fx->a.dev.out, 0, 0,
						 O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fx->a.out_dmabuf[0]) TH_LOG("%s", m2m_strerror());
	}
	out = fx->a.out_dmabuf[0];
	ASSERT_EQ(POLLOUT, poll_fd(out, POLLOUT, 0))
		TH_LOG("the OUTPUT dma-buf is not writable before the job");

	ASSERT_EQ(0, job_start(&fx->a, false)) TH_LOG("%s", m2m_strerror());
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
	waited = ms_since(fx->a.t_start);
	EXPECT_LE(JOB_MS * 0.9, waited)
		TH_LOG("the OUTPUT dma-buf was writable %.1f ms into a %d ms job",
		       waited, JOB_MS);
	EXPECT_EQ(1, sync_file_status(sync_fd))
		TH_LOG("the writer's sync_file is still pending after the job");
	close(sync_fd);
	ASSERT_EQ(0, m2m_dqbuf(&fx->a.dev, &fx->a.dev.out, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
	ASSERT_EQ(0, m2m_dqbuf(&fx->a.dev, &fx->a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
}

TEST_F(fence, output_read_fence_holds_writer)
{
	output_read_fence(_metadata, &self->fx, false);
}

TEST_F(fence, dmabuf_output_read_fence_holds_writer)
{
	output_read_fence(_metadata, &self->fx, true);
}

TEST_HARNESS_MAIN
