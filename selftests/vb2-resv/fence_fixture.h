/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What producer_fences, fence_errors and implicit_sync share: a context of
 * the test device with one job's buffers (struct job, fence_fixture.c), the
 * state every test starts from and its teardown puts back (struct
 * fence_fixture), the kselftest_harness fixtures made of it
 * (FENCE_FIXTURE(), CANCEL_FIXTURE()) and the helpers more than one of the
 * programs uses.
 *
 * In a test program, include kselftest_harness.h first: the macros at the
 * end of this file use SKIP and ASSERT, which end the calling test.
 */
#ifndef FENCE_FIXTURE_H
#define FENCE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/videodev2.h>

#include "m2m_util.h"
#include "vb2_resv_test.h"

#define JOB_RESULT_CTRL		"Job Result"
#define JOB_DONE		0
#define JOB_ERROR		1
#define JOB_HANG		2
#define JOB_MS			400
#define JOB_TIMEOUT_MS		5000
#define HOLD_JOB_MS		20	/* F15: done well within HOLD_MS if not held */
#define HOLD_MS			300	/* F15: how long a held job is watched */
#define RESCUE_MS		3000	/* F15: when the rescue signals the fence */
#define FRAME_W			64
#define FRAME_H			64
#define STALE_BYTE		0x5a
#define WATCHDOG_PARAM		"/sys/module/vb2_resv_test/parameters/watchdog_ms"
#define MEM_PARAM		"/sys/module/vb2_resv_test/parameters/mem"
#define PDRV_DIR		"/sys/bus/platform/drivers/" DEFAULT_DRIVER
#define FAILSLAB		"/sys/kernel/debug/failslab"
/* The test device's debugfs switch that suspends its m2m device */
#define SUSPENDED		"/sys/kernel/debug/" DEFAULT_DRIVER "/suspended"

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
	unsigned int width, height;	/* of the frame job_open() asks for */
};

void job_init(struct job *j);

/*
 * Open a context of the device, ask for jobs of @job_ms and result @result
 * (-1: leave the control alone), set @fourcc (0: the device's first) and
 * j->width x j->height (job_init(): FRAME_W x FRAME_H), @nbufs
 * buffers per queue, OUTPUT filled, CAPTURE stale. CAPTURE is MMAP with
 * every plane of buffer 0 exported, or, if @heap is not NULL, one buffer
 * imported from that dma-buf heap. j->dmabuf[] holds buffer 0's dma-bufs.
 * Returns 0, -ENOENT (no device), -ENOTSUP (no such control, format or
 * heap) or another error, with m2m_strerror() saying what failed.
 */
int job_open_n(struct job *j, uint32_t fourcc, int job_ms, int result,
	       unsigned int nbufs, const char *heap);
/* The same with one buffer per queue, CAPTURE MMAP. */
int job_open(struct job *j, uint32_t fourcc, int job_ms, int result);
void job_close(struct job *j);
/* Close the dma-bufs of @j and unmap its buffers: the file alone stays open. */
void job_drop_exports(struct job *j);

/*
 * Give OUTPUT buffer 0 planes allocated from dma-buf heap @heap, imported
 * with V4L2_MEMORY_DMABUF, filled with the source pattern through their
 * mmap (which m2m_close() unmaps, as it does V4L2 mappings) and sent whole;
 * j->out_dmabuf[] owns them. -ENOTSUP: no such heap.
 */
int job_import_output(struct job *j, const char *heap);

/* Queue CAPTURE (and OUTPUT unless @capture_only) and stream on both. */
int job_start(struct job *j, bool capture_only);
/* CAPTURE buffer 0 is queued and not done. */
bool job_in_flight(struct job *j);

/*
 * The test device writes byte i of the frame with sequence number @sequence
 * as OUTPUT byte i XOR this key; vim2m copies OUTPUT as it is (key 0): the
 * jobs of job_open() have one format and size on both queues.
 */
uint8_t frame_key(uint32_t sequence);

/*
 * Bytes of CAPTURE buffer 0, read through its dma-bufs (j->dmabuf[]) once
 * the job is done, that are not the frame the test device writes from
 * OUTPUT buffer 0 with sequence number @sequence (every CAPTURE plane, one
 * after the other, is one byte stream); a negative errno if a plane cannot
 * be mapped.
 */
long frame_errors(struct job *j, uint32_t sequence);

/*
 * The same, from the @src_len bytes at @src: the OUTPUT buffer a job read,
 * kept by the caller when the buffer itself is gone (REQBUFS of OUTPUT).
 */
long frame_errors_from(struct job *j, const uint8_t *src, size_t src_len,
		       uint32_t sequence);

/* The heap whose buffers the device's allocator can import. */
const char *import_heap(void);

/* Whether the last REQBUFS or CREATE_BUFS of @q reported producer fences. */
bool reports_fences(const struct m2m_queue *q);

/* A job run by a child process, which then waits to be killed */
struct child_job {
	pid_t pid;
	int dmabuf;		/* a copy of its CAPTURE buffer's first plane */
	uint32_t len;		/* that plane's size */
	struct errtext err;	/* what failed */
};

/*
 * Fork a child that opens a context of the device in @j (its copy), with
 * jobs of @job_ms ending in JOB_DONE, adds a READ fence of sw_sync @timeline
 * to its CAPTURE buffer unless @timeline is negative (another device still
 * reading it), starts the job and waits to be killed. Returns 0 with the
 * child in @c, or a negative errno, the child killed and reaped, with
 * c->err saying what failed.
 */
int job_in_child(struct child_job *c, struct job *j, int job_ms, int timeline);

/*
 * Another device's pending access to dma-buf @dmabuf: a fence of sw_sync
 * @timeline at 1, imported with @flags (DMA_BUF_SYNC_READ: it reads the
 * buffer, DMA_BUF_SYNC_WRITE: it writes it). 0 or a negative errno.
 */
int add_dependency(int dmabuf, int timeline, uint32_t flags);

/*
 * Make every slab allocation made by videobuf2_common code, in this task
 * only, fail (failslab_arm(): 0 or a negative errno), and stop that.
 */
int failslab_arm(void);
void failslab_disarm(void);

/* What a test may change, for the teardown to put back. */
struct fence_fixture {
	struct job a;
	struct job b;
	int kill_switch;	/* value to restore, or -1 */
	bool rebind;		/* the test unbound the test device */
	bool failslab;		/* the test armed failslab */
	int timeline;		/* sw_sync timeline of the F15 tests, or -1 */
	pid_t rescue;		/* its rescue (sw_sync_rescue()), or 0 */
	int watchdog_ms;	/* the test device's, to restore, or -1 */
};

/*
 * Why the device the tests run on publishes no producer fences, or NULL if
 * it does (or cannot be opened: the tests say why). The fixtures skip then.
 */
const char *why_no_fences(void);

void fence_fixture_setup(struct fence_fixture *fx);
void fence_fixture_teardown(struct fence_fixture *fx);

/*
 * FENCE_FIXTURE(name): fixture @name of kselftest_harness, whose tests find
 * a struct fence_fixture in self->fx, set up and torn down as above.
 */
#define FENCE_FIXTURE(name)						\
FIXTURE(name) {								\
	struct fence_fixture fx;					\
};									\
FIXTURE_SETUP(name)							\
{									\
	const char *__why = why_no_fences();				\
									\
	fence_fixture_setup(&self->fx);					\
	if (__why)							\
		SKIP(return, "%s", __why);				\
}									\
FIXTURE_TEARDOWN(name)							\
{									\
	fence_fixture_teardown(&self->fx);				\
}

/* How user space cancels a job */
enum cancel_how { STREAMOFF_CAPTURE, STREAMOFF_OUTPUT, CLOSE_FILE };

/* Cancel @j's job as @how says: 0 or a negative errno (m2m_strerror()). */
int job_cancel(struct job *j, enum cancel_how how);

/*
 * CANCEL_FIXTURE(): the fixture "cancel", a FENCE_FIXTURE() with a variant
 * for each way to cancel a job, variant->how: its tests are named
 * cancel.streamoff_capture.<test>, cancel.streamoff_output.<test> and
 * cancel.close.<test>.
 */
#define CANCEL_FIXTURE()						\
FENCE_FIXTURE(cancel)							\
FIXTURE_VARIANT(cancel) {						\
	enum cancel_how how;						\
};									\
FIXTURE_VARIANT_ADD(cancel, streamoff_capture) {			\
	.how = STREAMOFF_CAPTURE,					\
};									\
FIXTURE_VARIANT_ADD(cancel, streamoff_output) {				\
	.how = STREAMOFF_OUTPUT,					\
};									\
FIXTURE_VARIANT_ADD(cancel, close) {					\
	.how = CLOSE_FILE,						\
}

/*
 * Open a context of the device in @fx->a, start a job of @job_ms ending in
 * @result and take its fence as a sync_file in @sync_fd, skipping where the
 * device cannot run the test. A macro, so that SKIP and ASSERT end the
 * calling test.
 */
#define START_FENCED_JOB(fx, job_ms, result, sync_fd) do {			\
	int __ret = job_open(&(fx)->a, 0, (job_ms), (result));			\
										\
	SKIP_IF_UNSUPPORTED(__ret);						\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
	ASSERT_EQ(0, job_start(&(fx)->a, false)) TH_LOG("%s", m2m_strerror());	\
	(sync_fd) = dmabuf_export_sync_file((fx)->a.dmabuf[0], DMA_BUF_SYNC_READ); \
	ASSERT_LE(0, (sync_fd)) TH_LOG("%s", m2m_strerror());			\
} while (0)

/*
 * Open a context of the test device in @j, with jobs of @job_ms ending in
 * JOB_DONE and its control @ctrl set to @value, skipping without the
 * device's counters (STATS) or that control. A macro, so that SKIP and
 * ASSERT end the calling test.
 */
#define OPEN_WITH_TEST_CTRL(j, job_ms, ctrl, value) do {			\
	int __ret;								\
										\
	if (access(STATS, R_OK))						\
		SKIP(return, "needs %s", STATS);				\
	__ret = job_open((j), 0, (job_ms), JOB_DONE);				\
	SKIP_IF_UNSUPPORTED(__ret);						\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
	__ret = m2m_set_ctrl_by_name((j)->dev.fd, (ctrl), (value), NULL);	\
	if (__ret == -ENOENT)							\
		SKIP(return, "%s has no \"%s\" control", driver_name(), (ctrl));	\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
} while (0)

/*
 * Set the kill switch (F12) to @on; the teardown restores it. Only when
 * asked: every queue set up meanwhile, on any device, follows it.
 */
#define SET_KILL_SWITCH(fx, on) do {						\
	int __on;								\
										\
	SKIP_UNLESS_DESTRUCTIVE("flips videobuf2_common.producer_fences");	\
	__on = kill_switch_get();						\
										\
	if (__on == -ENOENT)							\
		SKIP(return, "no %s: a kernel without the series?", KILL_SWITCH); \
	ASSERT_LE(0, __on) TH_LOG("cannot read %s", KILL_SWITCH);		\
	if ((fx)->kill_switch < 0)						\
		(fx)->kill_switch = __on;					\
	ASSERT_EQ(0, write_file(KILL_SWITCH, (on) ? "1" : "0"))			\
		TH_LOG("cannot write %s", KILL_SWITCH);				\
} while (0)

/*
 * A sw_sync timeline in @fx->timeline (skip without one) and its rescue,
 * which signals point 1 after RESCUE_MS should the test not. A macro, so
 * that SKIP and ASSERT end the calling test.
 */
#define OPEN_TIMELINE(fx) do {							\
	int __tl = sw_sync_timeline_open();					\
										\
	if (__tl == -ENOENT)							\
		SKIP(return, "%s", m2m_strerror());				\
	ASSERT_LE(0, __tl) TH_LOG("%s", m2m_strerror());			\
	(fx)->timeline = __tl;							\
	(fx)->rescue = sw_sync_rescue((fx)->timeline, 1, RESCUE_MS);		\
	ASSERT_LT(0, (fx)->rescue) TH_LOG("%s", m2m_strerror());		\
} while (0)

/*
 * A fresh context of the device in @j runs a job to completion with its
 * frame, then is closed: nothing is left wedged @after something. A macro
 * like the others: fence_fixture.c, without kselftest_harness.h, includes
 * this header too.
 */
#define CHECK_CLEAN_JOB(j, after) do {						\
	struct m2m_buf_state __st;						\
	long __bad;								\
	int __ret;								\
										\
	__ret = job_open((j), 0, HOLD_JOB_MS, JOB_DONE);			\
	ASSERT_EQ(0, __ret) TH_LOG("%s", m2m_strerror());			\
	ASSERT_EQ(0, job_start((j), false)) TH_LOG("%s", m2m_strerror());	\
	__ret = m2m_dqbuf(&(j)->dev, &(j)->dev.cap, &__st, JOB_TIMEOUT_MS);	\
	ASSERT_EQ(0, __ret)							\
		TH_LOG("after %s, a new context's job does not complete: %s",	\
		       (after), m2m_strerror());				\
	EXPECT_EQ(0U, __st.flags & V4L2_BUF_FLAG_ERROR)				\
		TH_LOG("after %s, a new context's job ends in error", (after));	\
	__bad = frame_errors((j), __st.sequence);				\
	EXPECT_EQ(0, __bad)							\
		TH_LOG("after %s, %ld bytes of a new context's frame are wrong", \
		       (after), __bad);						\
	job_close(j);								\
} while (0)

#endif /* FENCE_FIXTURE_H */
