// SPDX-License-Identifier: GPL-2.0
/*
 * Implicit synchronisation on an opted-in V4L2 mem2mem device, the way in
 * (CONTRACT.md F15): another device still reading or writing a job's
 * buffers holds the job until its fence signals, without anything waiting
 * in an ioctl, in close or in exit; STREAMOFF, close and SIGKILL still work
 * at once meanwhile; the queue's own fences hold nothing; and the kill
 * switch leaves the queues already set up as they were (F12). The fixture
 * and the helpers are fence_fixture.c's, shared with producer_fences and
 * fence_errors.
 *
 * The tests play another device that reads or writes a buffer of the job
 * with a sw_sync fence (CONFIG_SW_SYNC, in debugfs) that only the test
 * signals, and skip without sw_sync. A job held by such a fence must not
 * run, while nothing in user space waits: should the kernel wait for the
 * fence in an ioctl, in close or in exit, a child process (the rescue)
 * signals it after RESCUE_MS, so that the test fails on the time it
 * measured instead of hanging.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "fence_fixture.h"

#define PROMPT_MS		1000	/* F15: STREAMON, STREAMOFF, close while held (TCG, KASAN: not 100) */
#define KILL_PROMPT_MS		1500	/* F15: exit of a process whose job is held; RESCUE_MS is 3000 */

FENCE_FIXTURE(fence);
CANCEL_FIXTURE();

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
 * Start the F15 tests: a sw_sync timeline (skip without one) and its
 * rescue, then a job of HOLD_JOB_MS in @fx->a, not started, whose buffer 0
 * on the side @where says carries another device's pending access (@flags).
 * OUTPUT is then imported from a dma-buf heap, as F15 only looks at the
 * fences of an imported OUTPUT buffer. A macro, so that SKIP and ASSERT end
 * the calling test.
 */
#define OPEN_WITH_DEPENDENCY(fx, where, flags) do {				\
	int __ret, __dmabuf;							\
										\
	OPEN_TIMELINE(fx);							\
	__ret = job_open(&(fx)->a, 0, HOLD_JOB_MS, JOB_DONE);			\
	SKIP_IF_UNSUPPORTED(__ret);						\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
	if ((where) == DEP_OUTPUT) {						\
		__ret = job_import_output(&(fx)->a, import_heap());		\
		if (__ret == -ENOTSUP)						\
			SKIP(return, "no dma-buf heap \"%s\" to import OUTPUT from: %s", \
			     import_heap(), m2m_strerror());			\
		ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());		\
	}									\
	__dmabuf = (where) == DEP_OUTPUT ? (fx)->a.out_dmabuf[0] : (fx)->a.dmabuf[0]; \
	__ret = add_dependency(__dmabuf, (fx)->timeline, (flags));		\
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
			      struct fence_fixture *fx, const char *what)
{
	struct m2m_buf_state st;
	long written;
	int ret;

	ret = m2m_dqbuf(&fx->a.dev, &fx->a.dev.cap, &st, HOLD_MS);
	ASSERT_EQ(-ETIMEDOUT, ret)
		TH_LOG("the job ran, %.1f ms after STREAMON, despite a pending %s (%s)",
		       ms_since(fx->a.t_start), what, ret ? m2m_strerror() : "dequeued");
	EXPECT_TRUE(job_in_flight(&fx->a)) TH_LOG("the held CAPTURE buffer is no longer queued");
	EXPECT_EQ(0, dmabuf_pending_fences(fx->a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a producer fence was published for a job waiting for a %s", what);
	written = written_bytes(fx->a.dmabuf[0], fx->a.dev.cap.sizeimage[0]);
	EXPECT_EQ(0, written)
		TH_LOG("%ld bytes of the frame were written despite a pending %s",
		       written, what);
}

/*
 * The fence holding @fx->a's job signals: the job runs and writes its
 * frame. Returns how long after STREAMON it was done, in ms.
 */
static double release_held_job(struct __test_metadata *_metadata,
			       struct fence_fixture *fx, const char *what)
{
	struct m2m_buf_state st;
	double waited;
	long bad;
	int ret;

	ret = sw_sync_rescue_cancel(fx->rescue);
	fx->rescue = 0;
	EXPECT_EQ(0, ret) TH_LOG("the rescue had to signal the fence: something waited for it");
	ASSERT_EQ(0, sw_sync_inc(fx->timeline, 1)) TH_LOG("%s", m2m_strerror());
	ret = m2m_dqbuf(&fx->a.dev, &fx->a.dev.cap, &st, JOB_TIMEOUT_MS);
	ASSERT_EQ(0, ret) TH_LOG("the job did not run once the %s signalled: %s",
				 what, m2m_strerror());
	waited = ms_since(fx->a.t_start);
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("the job held by a %s ended in error", what);
	bad = frame_errors(&fx->a, st.sequence);
	EXPECT_EQ(0, bad)
		TH_LOG("%ld bytes of the frame written after the wait are wrong", bad);
	ASSERT_EQ(0, m2m_dqbuf(&fx->a.dev, &fx->a.dev.out, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	return waited;
}

static void expect_job_held(struct __test_metadata *_metadata,
			    struct fence_fixture *fx, int jobs, const char *what)
{
	double took;

	ASSERT_EQ(0, job_start(&fx->a, false)) TH_LOG("%s", m2m_strerror());
	took = ms_since(fx->a.t_start);
	EXPECT_GT(PROMPT_MS, took)
		TH_LOG("STREAMON took %.1f ms with a %s: the job waited in device_run or the ioctl, not in a fence callback",
		       took, what);

	expect_still_held(_metadata, fx, what);
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
				 struct fence_fixture *fx, enum dep_where where,
				 uint32_t flags)
{
	const char *what = dep_name(where, flags);
	double waited;

	OPEN_WITH_DEPENDENCY(fx, where, flags);
	expect_job_held(_metadata, fx, read_stat("jobs"), what);
	waited = release_held_job(_metadata, fx, what);
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
	dependency_holds_job(_metadata, &self->fx, DEP_CAPTURE, DMA_BUF_SYNC_READ);
}

/* F15: another producer still writing the CAPTURE buffer holds the job too. */
TEST_F(fence, write_fence_on_capture_holds_job)
{
	dependency_holds_job(_metadata, &self->fx, DEP_CAPTURE, DMA_BUF_SYNC_WRITE);
}

/*
 * F15: the device does not read an imported OUTPUT buffer that another
 * device is still writing (a WRITE fence on its dma-buf).
 */
TEST_F(fence, write_fence_on_dmabuf_output_holds_job)
{
	dependency_holds_job(_metadata, &self->fx, DEP_OUTPUT, DMA_BUF_SYNC_WRITE);
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

	OPEN_WITH_DEPENDENCY(&self->fx, DEP_OUTPUT, DMA_BUF_SYNC_READ);
	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	ret = m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st, HOLD_JOB_MS + 1000);
	ASSERT_EQ(0, ret) TH_LOG("a %s held the job: %s", what, m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
	EXPECT_EQ(1, dmabuf_pending_fences(self->fx.a.out_dmabuf[0], "sw_sync"))
		TH_LOG("the %s signalled before the job completed: the test proves nothing", what);
	bad = frame_errors(&self->fx.a, st.sequence);
	EXPECT_EQ(0, bad) TH_LOG("%ld bytes of the frame are wrong", bad);

	ret = sw_sync_rescue_cancel(self->fx.rescue);
	self->fx.rescue = 0;
	EXPECT_EQ(0, ret) TH_LOG("the rescue had to signal the fence: something waited for it");
	EXPECT_EQ(0, sw_sync_inc(self->fx.timeline, 1)) TH_LOG("%s", m2m_strerror());
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

	OPEN_TIMELINE(&self->fx);
	ret = job_open(&self->fx.b, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = job_open(&self->fx.a, 0, HOLD_JOB_MS, JOB_DONE);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	jobs = read_stat("jobs");

	/* STREAMON runs b's job at once; a's job is queued behind it */
	ASSERT_EQ(0, job_start(&self->fx.b, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(1, dmabuf_pending_fences(self->fx.b.dmabuf[0], FENCE_DRIVER))
		TH_LOG("b's job is not running: %s", m2m_strerror());
	ASSERT_EQ(0, dmabuf_pending_fences(self->fx.a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a's job started before b's ended: %s", m2m_strerror());

	ASSERT_EQ(0, add_dependency(self->fx.a.dmabuf[0], self->fx.timeline, DMA_BUF_SYNC_READ))
		TH_LOG("%s", m2m_strerror());
	added = ms_since(self->fx.b.t_start);
	ASSERT_GT(JOB_MS / 2, added)
		TH_LOG("the fence was added %.1f ms into b's job of %d ms: too late to test anything",
		       added, JOB_MS);

	ASSERT_EQ(0, m2m_dqbuf(&self->fx.b.dev, &self->fx.b.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	expect_still_held(_metadata, &self->fx, what);
	/* Held back before device_run: the driver prepared nothing */
	if (jobs >= 0)
		EXPECT_EQ(jobs + 1, read_stat("jobs"))
			TH_LOG("device_run ran for the job held back");
	release_held_job(_metadata, &self->fx, what);
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
	int deferred;
	double done;

	OPEN_WITH_TEST_CTRL(&self->fx.a, JOB_MS, LATE_READER_CTRL, LATE_READER_MS);
	deferred = read_stat("deferred");
	ASSERT_LE(0, deferred);

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	/* device_run has run: the reader is there, the producer is not */
	ASSERT_EQ(1, dmabuf_pending_fences(self->fx.a.dmabuf[0], READER_DRIVER))
		TH_LOG("the test device added no reader: %s", m2m_strerror());
	EXPECT_EQ(0, dmabuf_pending_fences(self->fx.a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a fence was published beside a reader the job must wait for");
	EXPECT_EQ(deferred + 1, read_stat("deferred"))
		TH_LOG("publication did not put the job back once");

	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st,
			       LATE_READER_MS + JOB_TIMEOUT_MS))
		TH_LOG("the job did not run once the reader's fence signalled: %s",
		       m2m_strerror());
	done = ms_since(self->fx.a.t_start);
	EXPECT_LE(LATE_READER_MS + JOB_MS * 0.9, done)
		TH_LOG("the job was done %.1f ms after STREAMON, before the reader's %d ms were over",
		       done, LATE_READER_MS);
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR);
}

/*
 * The other device goes away: its sw_sync timeline is closed, which signals
 * the fence, with an error. Nothing waits for that, and no job of a context
 * that gave up waiting (@jobs: the test device's job count, or < 0) runs.
 */
static void expect_dependency_gone(struct __test_metadata *_metadata,
				   struct fence_fixture *fx, int jobs)
{
	uint64_t t0;
	double took;
	int ret;

	ret = sw_sync_rescue_cancel(fx->rescue);
	fx->rescue = 0;
	EXPECT_EQ(0, ret)
		TH_LOG("the rescue had to signal the fence: something waited for it");
	t0 = now_us();
	close(fx->timeline);
	fx->timeline = -1;
	took = ms_since(t0);
	EXPECT_GT(PROMPT_MS, took) TH_LOG("closing the sw_sync timeline took %.1f ms", took);
	usleep(5 * HOLD_JOB_MS * 1000);
	if (jobs >= 0)
		EXPECT_EQ(jobs, read_stat("jobs"))
			TH_LOG("a job given up while it waited ran when its fence signalled");
}

/*
 * F15, F5: a job waiting for a fence that never signals is given up at once
 * by STREAMOFF of either queue, or by closing the file (variant->how):
 * nothing waits for the fence, the buffers come back, no producer fence is
 * left pending, and when the fence finally signals (with an error: its
 * timeline goes away), nothing runs. The device then runs a new context's
 * job as usual.
 */
TEST_F(cancel, while_waiting_returns_at_once)
{
	const char *what = dep_name(DEP_CAPTURE, DMA_BUF_SYNC_READ);
	struct m2m_queue *q = &self->fx.a.dev.cap;
	struct m2m_buf_state st;
	int jobs, ret;
	double took;
	uint64_t t0;

	OPEN_WITH_DEPENDENCY(&self->fx, DEP_CAPTURE, DMA_BUF_SYNC_READ);
	jobs = read_stat("jobs");
	expect_job_held(_metadata, &self->fx, jobs, what);

	t0 = now_us();
	switch (variant->how) {
	case STREAMOFF_CAPTURE:
		ret = m2m_streamoff(&self->fx.a.dev, &self->fx.a.dev.cap);
		break;
	case STREAMOFF_OUTPUT:
		q = &self->fx.a.dev.out;
		ret = m2m_streamoff(&self->fx.a.dev, &self->fx.a.dev.out);
		break;
	case CLOSE_FILE:
	default:
		/* The file only: the CAPTURE dma-buf stays, to look at. */
		m2m_close(&self->fx.a.dev);
		ret = 0;
		break;
	}
	took = ms_since(t0);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	EXPECT_GT(PROMPT_MS, took)
		TH_LOG("%s took %.1f ms while the job waited for a %s",
		       variant->how == CLOSE_FILE ? "close" : "STREAMOFF", took, what);

	if (variant->how != CLOSE_FILE) {
		ASSERT_EQ(0, m2m_querybuf(&self->fx.a.dev, q, 0, &st)) TH_LOG("%s", m2m_strerror());
		EXPECT_EQ(0U, st.flags & (V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE))
			TH_LOG("%s buffer not back after STREAMOFF (flags 0x%08x)",
			       q->name, st.flags);
		t0 = now_us();
		m2m_close(&self->fx.a.dev);
		took = ms_since(t0);
		EXPECT_GT(PROMPT_MS, took)
			TH_LOG("close took %.1f ms after STREAMOFF of a waiting job", took);
	}
	EXPECT_TRUE(poll_fd(self->fx.a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("a fence is left pending on the CAPTURE buffer of the given-up job");
	EXPECT_EQ(0, dmabuf_pending_fences(self->fx.a.dmabuf[0], FENCE_DRIVER))
		TH_LOG("a producer fence is left pending for the given-up job");

	expect_dependency_gone(_metadata, &self->fx, jobs);
	CHECK_CLEAN_JOB(&self->fx.b, "giving up a waiting job");
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
	struct child_job child;
	int ret, jobs;
	long written;
	double took;
	uint64_t t0;

	OPEN_TIMELINE(&self->fx);
	jobs = read_stat("jobs");

	ret = job_in_child(&child, &self->fx.a, HOLD_JOB_MS, self->fx.timeline);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", errtext_str(&child.err));

	/* The child's job is held, as expect_job_held() checks for ours. */
	usleep(HOLD_MS * 1000);
	written = written_bytes(child.dmabuf, child.len);
	EXPECT_EQ(0, written) TH_LOG("the child's job wrote %ld bytes despite a pending %s",
				     written, what);
	EXPECT_EQ(0, dmabuf_pending_fences(child.dmabuf, FENCE_DRIVER))
		TH_LOG("a producer fence was published for a job waiting for a %s", what);
	if (jobs >= 0)
		EXPECT_EQ(jobs, read_stat("jobs"))
			TH_LOG("device_run ran for the child's job waiting for a %s", what);

	t0 = now_us();
	ASSERT_EQ(0, kill(child.pid, SIGKILL));
	ASSERT_EQ(child.pid, waitpid(child.pid, NULL, 0));
	took = ms_since(t0);
	EXPECT_GT(KILL_PROMPT_MS, took)
		TH_LOG("the process took %.1f ms to die while its job waited for a %s",
		       took, what);
	EXPECT_TRUE(poll_fd(child.dmabuf, POLLIN, 0) & POLLIN)
		TH_LOG("a fence is left pending on the dead process's CAPTURE buffer");
	EXPECT_EQ(1, dmabuf_pending_fences(child.dmabuf, "sw_sync"))
		TH_LOG("the %s is no longer pending: the test proves nothing", what);

	/* The dead context is not in the way, while its fence is still pending. */
	CHECK_CLEAN_JOB(&self->fx.a, "the death of a process whose job waited");
	expect_dependency_gone(_metadata, &self->fx, jobs >= 0 ? jobs + 1 : -1);
	close(child.dmabuf);
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
	struct m2m_queue *out = &self->fx.a.dev.out, *cap = &self->fx.a.dev.cap;
	int ret, held, status, published, n, i;
	struct sync_fence_info info;
	struct m2m_buf_state st;
	double took;

	ret = job_open_n(&self->fx.a, 0, OWN_JOB_MS, JOB_DONE, 2, NULL);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	published = read_stat("published");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, m2m_qbuf(&self->fx.a.dev, cap, i)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->fx.a.dev, out, i)) TH_LOG("%s", m2m_strerror());
	}
	ASSERT_EQ(0, m2m_streamon(&self->fx.a.dev, out)) TH_LOG("%s", m2m_strerror());
	self->fx.a.t_start = now_us();
	ASSERT_EQ(0, m2m_streamon(&self->fx.a.dev, cap)) TH_LOG("%s", m2m_strerror());
	held = dmabuf_export_sync_file(self->fx.a.dmabuf[0], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, held) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(1, sync_file_fences(held, &info, 1)) TH_LOG("%s", m2m_strerror());
	ASSERT_STREQ(FENCE_DRIVER, info.driver_name)
		TH_LOG("no producer fence on the first job's buffer (%s): the test proves nothing",
		       info.driver_name);

	for (n = 0; n < OWN_JOBS; n++) {
		ret = m2m_dqbuf(&self->fx.a.dev, cap, &st, 2 * OWN_JOB_MS + 1000);
		ASSERT_EQ(0, ret) TH_LOG("job %d of a queue re-using its buffers stalled: %s",
					 n, m2m_strerror());
		EXPECT_EQ((unsigned int)n % 2, st.index);
		EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("job %d ended in error", n);
		ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, out, &st, JOB_TIMEOUT_MS))
			TH_LOG("%s", m2m_strerror());
		if (n + 2 >= OWN_JOBS)
			continue;
		ASSERT_EQ(0, m2m_qbuf(&self->fx.a.dev, cap, n % 2)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, m2m_qbuf(&self->fx.a.dev, out, n % 2)) TH_LOG("%s", m2m_strerror());
	}
	took = ms_since(self->fx.a.t_start);
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

	SET_KILL_SWITCH(&self->fx, true);
	OPEN_WITH_DEPENDENCY(&self->fx, DEP_CAPTURE, DMA_BUF_SYNC_READ);
	ret = job_open(&self->fx.b, 0, JOB_MS, -1);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	SET_KILL_SWITCH(&self->fx, false);

	ASSERT_EQ(0, m2m_create_bufs_caps(&self->fx.b.dev, &self->fx.b.dev.cap, V4L2_MEMORY_MMAP))
		TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(reports_fences(&self->fx.b.dev.cap))
		TH_LOG("the kill switch, turned off after the queue was set up, took its capability away (0x%x)",
		       self->fx.b.dev.cap.caps);

	expect_job_held(_metadata, &self->fx, read_stat("jobs"), what);
	ret = sw_sync_rescue_cancel(self->fx.rescue);
	self->fx.rescue = 0;
	EXPECT_EQ(0, ret) TH_LOG("the rescue had to signal the fence: something waited for it");
	ASSERT_EQ(0, sw_sync_inc(self->fx.timeline, 1)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the job did not run once the %s signalled: %s", what, m2m_strerror());

	ASSERT_EQ(0, job_start(&self->fx.b, false)) TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0, poll_fd(self->fx.b.dmabuf[0], POLLIN, 0))
		TH_LOG("the kill switch, turned off after the queue was set up, took its fence away");
	EXPECT_EQ(1, dmabuf_pending_fences(self->fx.b.dmabuf[0], FENCE_DRIVER))
		TH_LOG("no producer fence pending during the job: %s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.b.dev, &self->fx.b.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
}

TEST_HARNESS_MAIN
