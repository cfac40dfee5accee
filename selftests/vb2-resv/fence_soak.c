// SPDX-License-Identifier: GPL-2.0
/*
 * F8 of the producer-fence contract, over many jobs: re-using buffers for
 * 100,000 jobs ($VB2_RESV_JOBS) leaves at most one fence of the queue's
 * context in each buffer's reservation object, and once every fd is closed
 * no fence object of the queue is left alive.
 *
 * Live fence objects are counted with the kernel's own dma_fence trace
 * events: a histogram trigger on dma_fence_init and one on
 * dma_fence_destroy, keyed by fence context, count every fence created and
 * every fence freed while the test runs (CONFIG_HIST_TRIGGERS).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "m2m_util.h"
#include "vb2_resv_test.h"

#define DEFAULT_JOBS		100000
#define NBUFS			4

static long jobs_wanted(void)
{
	const char *n = getenv("VB2_RESV_JOBS");

	return n && atol(n) > 0 ? atol(n) : DEFAULT_JOBS;
}

FIXTURE(soak) {
	struct m2m_dev dev;
	int dmabuf[NBUFS];
	bool triggers;
};

FIXTURE_SETUP(soak)
{
	int i;

	memset(&self->dev, 0, sizeof(self->dev));
	self->dev.fd = -1;
	for (i = 0; i < NBUFS; i++)
		self->dmabuf[i] = -1;
	self->triggers = false;
}

static void close_all(FIXTURE_DATA(soak) *self)
{
	int i;

	for (i = 0; i < NBUFS; i++) {
		if (self->dmabuf[i] >= 0)
			close(self->dmabuf[i]);
		self->dmabuf[i] = -1;
	}
	m2m_close(&self->dev);
}

FIXTURE_TEARDOWN(soak)
{
	close_all(self);
	if (self->triggers)
		fence_hist_stop();
}

/*
 * F8: one context, NBUFS buffers per queue cycled through many zero-length
 * jobs; each job publishes one fence. Every 10,000 jobs, and at the end,
 * each CAPTURE buffer holds at most one fence; after closing everything,
 * every fence the queue created has been freed.
 */
TEST_F_TIMEOUT(soak, many_jobs_leave_one_fence_per_buffer_and_none_alive, 3600)
{
	struct m2m_queue *out = &self->dev.out, *cap = &self->dev.cap;
	uint64_t context = 0, ctx, seq, t0;
	long jobs = jobs_wanted(), done = 0, created, freed, total_c, total_f;
	struct m2m_buf_state st;
	int i, n, ret;

	ret = m2m_open(&self->dev, driver_name());
	if (ret == -ENOENT)
		SKIP(return, "no %s device, and modprobe %s failed", driver_name(), driver_name());
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	if (access(DMABUF_BUFINFO, R_OK))
		SKIP(return, "needs debugfs mounted: %s", DMABUF_BUFINFO);
	ret = fence_hist_start();
	if (ret == -ENOENT || ret == -EOPNOTSUPP)
		SKIP(return, "needs %s", m2m_strerror());
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	self->triggers = true;

	ret = m2m_set_ctrl_by_name(self->dev.fd, TRANS_TIME_CTRL, 0, NULL);
	if (ret == -ENOENT)
		TH_LOG("%s has no \"%s\": its jobs take as long as they take",
		       driver_name(), TRANS_TIME_CTRL);
	ASSERT_EQ(0, m2m_set_formats(&self->dev, 0, 0, 64, 64)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_reqbufs(&self->dev, out, NBUFS)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_reqbufs(&self->dev, cap, NBUFS)) TH_LOG("%s", m2m_strerror());
	ASSERT_LE(NBUFS, (int)out->count);
	ASSERT_LE(NBUFS, (int)cap->count);
	for (i = 0; i < NBUFS; i++) {
		fill_pattern(out->bufs[i].map[0], out->bufs[i].length[0], i);
		self->dmabuf[i] = m2m_expbuf(&self->dev, cap, i, 0, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->dmabuf[i]) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->dev, cap, i));
		ASSERT_EQ(0, m2m_qbuf(&self->dev, out, i));
	}
	ASSERT_EQ(0, m2m_streamon(&self->dev, out));
	ASSERT_EQ(0, m2m_streamon(&self->dev, cap));

	t0 = now_us();
	while (done < jobs) {
		ASSERT_EQ(0, m2m_dqbuf(&self->dev, cap, &st, 5000))
			TH_LOG("job %ld: %s", done, m2m_strerror());
		ASSERT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("job %ld failed", done);
		i = st.index;
		ASSERT_EQ(0, m2m_dqbuf(&self->dev, out, &st, 5000)) TH_LOG("%s", m2m_strerror());
		done++;

		if (done == 1 || done % 10000 == 0 || done == jobs) {
			n = dmabuf_resv_fences(self->dmabuf[i], &ctx, &seq, 1);
			ASSERT_EQ(1, n) TH_LOG("after %ld jobs buffer %d holds %d fences",
					       done, i, n);
			if (!context)
				context = ctx;
			ASSERT_EQ(context, ctx) TH_LOG("a fence context other than the first job's");
		}
		if (done + NBUFS > jobs)
			continue;	/* the last jobs are already queued */
		ASSERT_EQ(0, m2m_qbuf(&self->dev, cap, i)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->dev, out, st.index)) TH_LOG("%s", m2m_strerror());
	}
	TH_LOG("%ld jobs in %.1f s (%.0f jobs/s)", done, (now_us() - t0) / 1e6,
	       done / ((now_us() - t0) / 1e6));
	for (i = 0; i < NBUFS; i++) {
		n = dmabuf_resv_fences(self->dmabuf[i], &ctx, &seq, 1);
		EXPECT_GE(1, n) TH_LOG("buffer %d holds %d fences after %ld jobs", i, n, done);
	}

	close_all(self);
	ASSERT_EQ(0, fence_hist_count(context, &created, &freed, &total_c,
				      &total_f)) TH_LOG("%s", m2m_strerror());
	TH_LOG("context %llu: %ld fences created, %ld freed (all contexts: %ld, %ld)",
	       (unsigned long long)context, created, freed, total_c, total_f);
	EXPECT_EQ(done, created) TH_LOG("not one fence per job");
	EXPECT_EQ(created, freed) TH_LOG("%ld fences of the queue still alive after close",
					 created - freed);
}

TEST_HARNESS_MAIN
