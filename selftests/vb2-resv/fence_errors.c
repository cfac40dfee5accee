// SPDX-License-Identifier: GPL-2.0
/*
 * The producer-fence contract on an opted-in V4L2 mem2mem device, for jobs
 * that do not end well: a job that fails, hangs, is cancelled (STREAMOFF,
 * close, SIGKILL, unbind) or whose module goes away still has its fence
 * signal, with an error, in bounded time, and the fence outlives it
 * (CONTRACT.md F5, F6, F10); a hung context holds up no other (F14); a
 * publication that fails or meets a signal wedges and drops nothing (F11);
 * and the regression tests of patches/fixes/ 0001 and 0005; and the frame a
 * CAPTURE buffer gets when OUTPUT is re-allocated under it, after its job
 * and mid-job (fence_stress's seed 1883824939831079). The fixture and
 * the helpers are fence_fixture.c's, shared with producer_fences and
 * implicit_sync.
 *
 * The device is found by driver name: $VB2_RESV_DRIVER, by default the test
 * module "vb2-resv-test". Tests that need the test module's job controls
 * ("Job Result": error or hang) or its other knobs skip, saying so, on a
 * device without them.
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
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "fence_fixture.h"

#define HOLD_RESV_CTRL		"Hold Reservation (msec)"

FENCE_FIXTURE(fence);
CANCEL_FIXTURE();

/* F5: a job completed with VB2_BUF_STATE_ERROR signals with an error. */
TEST_F(fence, error_completion_sets_fence_error)
{
	int sync_fd, status;

	START_FENCED_JOB(&self->fx, 50, JOB_ERROR, sync_fd);
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS));
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("fence of a failed job has status %d, not an error", status);
	close(sync_fd);
}

/*
 * F5, F6: start a job, take its fence, cancel the job (variant->how): the
 * fence ends in error, at once.
 */
TEST_F(cancel, mid_job_signals_error)
{
	int sync_fd, status;
	uint64_t t0;

	START_FENCED_JOB(&self->fx, 2000, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no active fence before the cancel");

	t0 = now_us();
	ASSERT_EQ(0, job_cancel(&self->fx.a, variant->how)) TH_LOG("%s", m2m_strerror());
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS))
		TH_LOG("cancelled job's fence still pending");
	status = sync_file_status(sync_fd);
	EXPECT_GT(0, status) TH_LOG("cancelled job's fence status %d, not an error", status);
	EXPECT_GT(1500.0, ms_since(t0)) TH_LOG("the cancel waited for the job to end by itself");
	close(sync_fd);
}

/*
 * F5: a cancel (variant->how) fails the job it was for, not the next one:
 * the context streams on again what it streamed off (a context opened anew
 * after a close), after the job's buffer on the other queue is dequeued,
 * and its next job completes without error, its fence too.
 */
TEST_F(cancel, next_job_completes)
{
	struct m2m_queue *other = NULL;
	struct m2m_buf_state st;
	int sync_fd, status;

	START_FENCED_JOB(&self->fx, 2000, JOB_DONE, sync_fd);
	ASSERT_EQ(0, job_cancel(&self->fx.a, variant->how)) TH_LOG("%s", m2m_strerror());
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, JOB_TIMEOUT_MS))
		TH_LOG("cancelled job's fence still pending");
	close(sync_fd);

	if (variant->how == STREAMOFF_CAPTURE)
		other = &self->fx.a.dev.out;
	else if (variant->how == STREAMOFF_OUTPUT)
		other = &self->fx.a.dev.cap;
	if (other) {
		ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, other, &st, JOB_TIMEOUT_MS))
			TH_LOG("the cancelled job's %s buffer: %s", other->name, m2m_strerror());
		EXPECT_TRUE(!!(st.flags & V4L2_BUF_FLAG_ERROR))
			TH_LOG("the cancelled job's %s buffer came back without an error",
			       other->name);
		ASSERT_EQ(0, m2m_set_ctrl_by_name(self->fx.a.dev.fd, TRANS_TIME_CTRL, 20, NULL))
			TH_LOG("%s", m2m_strerror());
	} else {
		ASSERT_EQ(0, job_open(&self->fx.a, 0, 20, JOB_DONE)) TH_LOG("%s", m2m_strerror());
	}

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	sync_fd = dmabuf_export_sync_file(self->fx.a.dmabuf[0], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the next job never completed: %s", m2m_strerror());
	EXPECT_FALSE(!!(st.flags & V4L2_BUF_FLAG_ERROR))
		TH_LOG("the next job after the cancel failed");
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, 0));
	status = sync_file_status(sync_fd);
	EXPECT_EQ(1, status) TH_LOG("the next job's fence has status %d, not 1", status);
	close(sync_fd);
}

#define RUN_WAIT_MS		600	/* how long device_run waits for a lock */

/*
 * F5, F6: a cancel (variant->how) that comes while device_run prepares the
 * job, here waiting RUN_WAIT_MS for a reservation lock that a worker of the
 * test device holds, is not lost: the job is failed as soon as it is
 * started, not when its hang ends by the watchdog. The job runs from the
 * m2m worker, behind another context's, so that the cancel does not wait
 * for device_run to return before it can begin.
 */
TEST_F(cancel, while_device_run_prepares_job)
{
	int ret, jobs, published, watchdogs, watchdog_ms = 1000;
	struct m2m_buf_state st;
	double waited;
	uint64_t t0;

	OPEN_WITH_TEST_CTRL(&self->fx.b, 10, HOLD_RESV_CTRL, RUN_WAIT_MS);
	ASSERT_EQ(0, m2m_set_ctrl_by_name(self->fx.b.dev.fd, JOB_RESULT_CTRL, JOB_HANG, NULL))
		TH_LOG("%s", m2m_strerror());
	ret = job_open(&self->fx.a, 0, 200, JOB_DONE);
	ASSERT_EQ(0, ret) TH_LOG("first context: %s", m2m_strerror());
	read_int_file(WATCHDOG_PARAM, &watchdog_ms);
	jobs = read_stat("jobs");
	published = read_stat("published");
	watchdogs = read_stat("watchdog");
	ASSERT_LE(0, watchdogs);

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->fx.b, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the first job never completed: %s", m2m_strerror());
	usleep(RUN_WAIT_MS / 6 * 1000);
	ASSERT_EQ(jobs + 2, read_stat("jobs"))
		TH_LOG("the second job's device_run has not begun: the test proves nothing");
	ASSERT_EQ(published + 1, read_stat("published"))
		TH_LOG("the second job is past its wait already: the test proves nothing");

	t0 = now_us();
	ASSERT_EQ(0, job_cancel(&self->fx.b, variant->how)) TH_LOG("%s", m2m_strerror());
	waited = ms_since(t0);
	EXPECT_EQ(watchdogs, read_stat("watchdog"))
		TH_LOG("the cancel was lost: the watchdog ended the job, %.1f ms later", waited);
	EXPECT_GT(RUN_WAIT_MS + watchdog_ms / 2.0, waited)
		TH_LOG("the cancel waited %.1f ms: for the job to end by itself", waited);
	if (variant->how != CLOSE_FILE)
		EXPECT_TRUE(poll_fd(self->fx.b.dmabuf[0], POLLIN, 0) & POLLIN)
			TH_LOG("the cancelled job's fence is still pending");
}

#define COPY_W			640	/* vim2m's largest frame */
#define COPY_H			480
#define LONG_JOB_MS		3000
#define COPY_ROUNDS		9

/*
 * F5, F6: the same on any device, without the test module's knobs: the job
 * runs from the m2m worker, behind another context's, and is cancelled
 * (variant->how) while its device_run() runs. On vim2m, whose device_run()
 * copies the frame (here its largest) with the CPU before it queues the
 * work that ends the job, that takes long enough to aim at: a job of the
 * same frame, started by STREAMON, shows how long device_run() takes, and
 * the cancel comes from none to all of that long (COPY_ROUNDS rounds) after
 * the first context's buffer is dequeued, which is about when the m2m
 * worker calls device_run(). The job, of LONG_JOB_MS, is failed at once,
 * not completed when its time is over. On a device whose device_run() is
 * short the cancel comes before or after it, and the same holds.
 */
TEST_F(cancel, while_device_run_copies_frame)
{
	struct m2m_buf_state st;
	double run_ms, aim_ms, waited;
	struct job probe;
	unsigned int i;
	uint64_t t0;
	int ret;

	job_init(&probe);
	probe.width = COPY_W;
	probe.height = COPY_H;
	ret = job_open(&probe, 0, 10, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&probe, false)) TH_LOG("%s", m2m_strerror());
	/* The STREAMON that job_start() ends with runs device_run() */
	run_ms = ms_since(probe.t_start);
	ret = m2m_dqbuf(&probe.dev, &probe.dev.cap, &st, JOB_TIMEOUT_MS);
	job_close(&probe);
	ASSERT_EQ(0, ret) TH_LOG("the probe job never completed: %s", m2m_strerror());

	for (i = 0; i < COPY_ROUNDS; i++) {
		ASSERT_EQ(0, job_open(&self->fx.a, 0, 100, JOB_DONE))
			TH_LOG("first context: %s", m2m_strerror());
		self->fx.b.width = COPY_W;
		self->fx.b.height = COPY_H;
		ASSERT_EQ(0, job_open(&self->fx.b, 0, LONG_JOB_MS, JOB_DONE))
			TH_LOG("second context: %s", m2m_strerror());

		ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
		ASSERT_EQ(0, job_start(&self->fx.b, false)) TH_LOG("%s", m2m_strerror());
		/* Leave the close nothing to do before the release */
		if (variant->how == CLOSE_FILE)
			job_drop_exports(&self->fx.b);
		ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st,
				       JOB_TIMEOUT_MS))
			TH_LOG("the first job never completed: %s", m2m_strerror());
		aim_ms = run_ms * i / (COPY_ROUNDS - 1);
		usleep(aim_ms * 1000);

		t0 = now_us();
		ASSERT_EQ(0, job_cancel(&self->fx.b, variant->how))
			TH_LOG("%s", m2m_strerror());
		waited = ms_since(t0);
		EXPECT_GT(LONG_JOB_MS / 2.0, waited)
			TH_LOG("the cancel, %.1f ms into a device_run() of %.1f ms, waited %.1f ms: for the job to end by itself",
			       aim_ms, run_ms, waited);
		if (variant->how != CLOSE_FILE)
			EXPECT_TRUE(poll_fd(self->fx.b.dmabuf[0], POLLIN, 0) & POLLIN)
				TH_LOG("the cancelled job's fence is still pending");
		job_close(&self->fx.a);
		job_close(&self->fx.b);
		if (_metadata->exit_code != KSFT_PASS)
			break;
	}
}

#define RETURN_DELAY_CTRL	"Return Delay (msec)"
#define RETURN_DELAY_MS		600	/* how long device_run takes to return */

/*
 * F10: a job can end before its device_run() returns, and the context can
 * be closed then. Here the job ends at once and device_run(), from the m2m
 * worker behind another context's job, returns RETURN_DELAY_MS after it
 * started the job. The close waits for device_run() to return, as that
 * still uses the context (without the wait, KASAN reports the use after
 * free in the guest's dmesg).
 */
TEST_F(fence, close_waits_for_device_run_to_return)
{
	struct m2m_buf_state st;
	double waited;
	uint64_t t0;
	int ret, jobs;

	OPEN_WITH_TEST_CTRL(&self->fx.b, 0, RETURN_DELAY_CTRL, RETURN_DELAY_MS);
	ret = job_open(&self->fx.a, 0, 200, JOB_DONE);
	ASSERT_EQ(0, ret) TH_LOG("first context: %s", m2m_strerror());
	jobs = read_stat("jobs");

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, job_start(&self->fx.b, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.b.dev, &self->fx.b.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the job never completed: %s", m2m_strerror());
	waited = ms_since(self->fx.b.t_start);
	ASSERT_EQ(jobs + 2, read_stat("jobs"));
	ASSERT_GT(RETURN_DELAY_MS / 2.0, waited - 200)
		TH_LOG("the job ended %.1f ms after it was queued: device_run may have returned",
		       waited);

	t0 = now_us();
	job_close(&self->fx.b);
	waited = ms_since(t0);
	EXPECT_LE(RETURN_DELAY_MS / 3.0, waited)
		TH_LOG("the close took %.1f ms: it did not wait for device_run to return", waited);
}

/* F6: a job that never completes is failed by the driver's watchdog. */
TEST_F(fence, hang_ends_by_watchdog_within_bound)
{
	int sync_fd, status, watchdog_ms = 2000;
	double waited;

	read_int_file(WATCHDOG_PARAM, &watchdog_ms);
	START_FENCED_JOB(&self->fx, 10, JOB_HANG, sync_fd);
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, watchdog_ms + 2000))
		TH_LOG("hung job's fence pending %d ms after the job started", watchdog_ms + 2000);
	waited = ms_since(self->fx.a.t_start);
	status = sync_file_status(sync_fd);
	EXPECT_EQ(-ETIMEDOUT, status)
		TH_LOG("watchdog-failed job's fence status %d, not -ETIMEDOUT", status);
	EXPECT_LE(watchdog_ms * 0.9, waited) TH_LOG("signalled after %.1f ms, before the watchdog",
						    waited);
	close(sync_fd);
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

	ret = job_open(&self->fx.a, 0, 10, JOB_HANG);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ret = job_open(&self->fx.b, 0, 10, JOB_DONE);
	ASSERT_EQ(0, ret) TH_LOG("second context: %s", m2m_strerror());

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	hung_fd = dmabuf_export_sync_file(self->fx.a.dmabuf[0], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, hung_fd);
	ASSERT_EQ(0, sync_file_status(hung_fd)) TH_LOG("the hung job published no fence");

	ASSERT_EQ(0, job_start(&self->fx.b, true)) TH_LOG("%s", m2m_strerror());
	EXPECT_TRUE(poll_fd(self->fx.b.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("the other context's idle buffer waits on the hung job");
	ASSERT_EQ(0, m2m_qbuf(&self->fx.b.dev, &self->fx.b.dev.out, 0));
	EXPECT_TRUE(poll_fd(self->fx.b.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("a job queued behind the hung one already has a fence");

	ret = m2m_dqbuf(&self->fx.b.dev, &self->fx.b.dev.cap, &st, 10000);
	ASSERT_EQ(0, ret) TH_LOG("the other context's job never finished: %s",
				 m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("the other context's job ended in error");
	EXPECT_GT(0, sync_file_status(hung_fd))
		TH_LOG("the hung context's fence did not end in error");
	close(hung_fd);
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

	START_FENCED_JOB(&self->fx, 2000, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd));
	dmabuf = dup(self->fx.a.dmabuf[0]);
	ASSERT_LE(0, dmabuf);
	len = self->fx.a.dev.cap.bufs[0].length[0];

	job_close(&self->fx.a);
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

/*
 * F5, F6: the process that runs the job is killed (SIGKILL) mid-job, while
 * another process holds the CAPTURE dma-buf: the fence ends, in error.
 */
TEST_F(fence, killed_mid_job_signals_error)
{
	struct child_job child;
	int ret, sync_fd;
	uint64_t t0;

	ret = job_in_child(&child, &self->fx.a, 2000, -1);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", errtext_str(&child.err));
	sync_fd = dmabuf_export_sync_file(child.dmabuf, DMA_BUF_SYNC_READ);
	EXPECT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no active fence in the child's job");

	t0 = now_us();
	ASSERT_EQ(0, kill(child.pid, SIGKILL));
	ASSERT_EQ(child.pid, waitpid(child.pid, NULL, 0));
	expect_cancelled(_metadata, sync_fd, t0, "SIGKILL of the job's process");
	EXPECT_TRUE(poll_fd(child.dmabuf, POLLIN, 0) & POLLIN);
	close(sync_fd);
	close(child.dmabuf);
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
	START_FENCED_JOB(&self->fx, 2000, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd));

	t0 = now_us();
	self->fx.rebind = true;
	ASSERT_EQ(0, write_file(PDRV_DIR "/unbind", DEFAULT_DRIVER));
	expect_cancelled(_metadata, sync_fd, t0, "unbinding the device");
	close(sync_fd);

	/* The open file outlives the device; closing it is safe (KASAN). */
	job_close(&self->fx.a);
	ASSERT_EQ(0, write_file(PDRV_DIR "/bind", DEFAULT_DRIVER))
		TH_LOG("cannot bind the device again: later tests lack it");
	self->fx.rebind = false;
}

/*
 * F11: when publication fails for lack of memory (failslab makes every
 * allocation of videobuf2 fail), the job still runs and completes with the
 * frame, no fence is left half-published, and the failure is counted. The
 * next job, with memory back, publishes again.
 */
TEST_F(fence, publish_failure_never_wedges_job)
{
	struct m2m_queue *out = &self->fx.a.dev.out, *cap = &self->fx.a.dev.cap;
	int ret, failed, published, sync_fd;
	struct m2m_buf_state st;
	uint8_t *dst, *src;
	size_t i, bad = 0;

	SKIP_UNLESS_DESTRUCTIVE("makes the kernel's slab allocations fail (failslab)");
	if (access(FAILSLAB "/require-start", W_OK) || access(STATS, R_OK))
		SKIP(return, "needs failslab with its stacktrace filter and %s", STATS);
	ret = job_open(&self->fx.a, 0, JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());

	/* A first job maps the buffers, so the failing one allocates no more. */
	ASSERT_EQ(0, m2m_set_ctrl_by_name(self->fx.a.dev.fd, TRANS_TIME_CTRL, 1, NULL));
	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, cap, &st, JOB_TIMEOUT_MS));
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, out, &st, JOB_TIMEOUT_MS));
	ASSERT_EQ(0, m2m_set_ctrl_by_name(self->fx.a.dev.fd, TRANS_TIME_CTRL, JOB_MS, NULL));
	memset(cap->bufs[0].map[0], STALE_BYTE, cap->bufs[0].length[0]);
	failed = read_stat("publish_failed");
	published = read_stat("published");
	ASSERT_LE(0, failed);

	self->fx.failslab = true;
	ret = failslab_arm();
	ASSERT_EQ(0, ret) TH_LOG("cannot arm failslab: %s", strerror(-ret));
	ret = job_start(&self->fx.a, false);
	failslab_disarm();
	self->fx.failslab = false;
	ASSERT_EQ(0, ret) TH_LOG("QBUF failed under failslab: %s", m2m_strerror());

	EXPECT_EQ(failed + 1, read_stat("publish_failed"))
		TH_LOG("the failed publication was not counted");
	EXPECT_EQ(published, read_stat("published"));
	EXPECT_TRUE(poll_fd(self->fx.a.dmabuf[0], POLLIN, 0) & POLLIN)
		TH_LOG("a fence is left on the buffer by a failed publication");
	EXPECT_TRUE(job_in_flight(&self->fx.a));

	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the job never completed: %s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
	dst = cap->bufs[0].map[0];
	src = out->bufs[0].map[0];
	for (i = 0; i < cap->bufs[0].length[0]; i++)
		bad += dst[i] != (src[i % out->bufs[0].bytesused[0]] ^ frame_key(st.sequence));
	EXPECT_EQ(0U, bad) TH_LOG("the job without a fence did not write its frame");
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, out, &st, JOB_TIMEOUT_MS));

	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	/*
	 * QBUF may return before the job runs (a loaded machine): look once
	 * device_run() has published.
	 */
	for (i = 0; i < 2000 && read_stat("published") < published + 1; i++)
		usleep(1000);
	sync_fd = dmabuf_export_sync_file(self->fx.a.dmabuf[0], DMA_BUF_SYNC_READ);
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

	OPEN_WITH_TEST_CTRL(&self->fx.a, SIGNAL_JOB_MS, HOLD_RESV_CTRL, 1000);
	failed = read_stat("publish_failed");
	published = read_stat("published");
	ASSERT_LE(0, failed);
	ASSERT_LE(0, published);

	/* No SA_RESTART: an interruptible wait for the lock would end. */
	alarms = 0;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &alarm_in, NULL));
	ret = job_start(&self->fx.a, false);
	waited = ms_since(self->fx.a.t_start);
	sigaction(SIGALRM, &old, NULL);
	ASSERT_EQ(0, ret) TH_LOG("starting the job: %s", m2m_strerror());
	ASSERT_EQ(1, alarms) TH_LOG("SIGALRM was not delivered: the test proves nothing");
	EXPECT_LE(900.0, waited)
		TH_LOG("STREAMON returned after %.1f ms: device_run did not wait for the reservation lock held for 1000 ms",
		       waited);

	/* Right away: the job has SIGNAL_JOB_MS to run. */
	sync_fd = dmabuf_export_sync_file(self->fx.a.dmabuf[0], DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd) TH_LOG("%s", m2m_strerror());
	status = sync_file_status(sync_fd);
	n = sync_file_fences(sync_fd, &info, 1);
	ASSERT_TRUE(job_in_flight(&self->fx.a))
		TH_LOG("job done %.1f ms after STREAMON, before the checks: lengthen it",
		       ms_since(self->fx.a.t_start));
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
	ASSERT_EQ(0, m2m_dqbuf(&self->fx.a.dev, &self->fx.a.dev.cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("the job never completed: %s", m2m_strerror());
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR) TH_LOG("the job ended in error");
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
		START_FENCED_JOB(&self->fx, 2000, JOB_DONE, sync_fd);
		ASSERT_EQ(0, write_file(LINGER_PARAM, "200"));
		t0 = now_us();
		/* job_abort hands the job's end to the device's work */
		job_close(&self->fx.a);
		write_file(LINGER_PARAM, "0");
		expect_cancelled(_metadata, sync_fd, t0, "closing the context");
		close(sync_fd);
	}
	CHECK_CLEAN_JOB(&self->fx.b, "closing contexts mid-job");
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
	    read_int_file(WATCHDOG_PARAM, &self->fx.watchdog_ms))
		SKIP(return, "needs %s and %s", SUSPENDED, WATCHDOG_PARAM);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	/* The job must still run when the context is closed. */
	ASSERT_EQ(0, write_file(WATCHDOG_PARAM, "20000"));
	ASSERT_EQ(0, pin_to_cpu(0));

	START_FENCED_JOB(&self->fx, 10000, JOB_DONE, sync_fd);
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
	job_close(&self->fx.a);
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
	CHECK_CLEAN_JOB(&self->fx.b, "suspending while closing mid-job");
}

/*
 * OUTPUT re-allocated under a queued CAPTURE buffer, as fence_stress's
 * seed 1883824939831079 did: STREAMOFF(OUTPUT), REQBUFS(OUTPUT) of buffers
 * holding another pattern, QBUF of one, STREAMON(OUTPUT), then DQBUF of the
 * CAPTURE buffer. The helpers below compare a frame with a given source,
 * since REQBUFS unmaps the one the job read.
 */
#define REALLOC_JOB_MS		20
#define REALLOC_SLOW_JOB_MS	2000
#define REALLOC_PATTERN		11	/* not job_open()'s 3: every byte differs */

/* A copy of the bytes of OUTPUT buffer 0 of @j that a job reads, in @len. */
static uint8_t *copy_source(struct job *j, size_t *len)
{
	struct m2m_buf *b = &j->dev.out.bufs[0];
	uint8_t *copy;

	*len = b->bytesused[0];
	copy = *len && b->map[0] ? malloc(*len) : NULL;
	if (copy)
		memcpy(copy, b->map[0], *len);
	return copy;
}

/* Whether CAPTURE buffer 0 of @j is done within @ms, without dequeuing it. */
static bool capture_done(struct job *j, int ms)
{
	uint64_t deadline = now_us() + ms * 1000ULL;
	struct m2m_buf_state st;

	do {
		if (!m2m_querybuf(&j->dev, &j->dev.cap, 0, &st) &&
		    (st.flags & V4L2_BUF_FLAG_DONE))
			return true;
		usleep(2000);
	} while (now_us() < deadline);
	return false;
}

/*
 * OUTPUT of @j, streamed off, gets @n new MMAP buffers holding
 * REALLOC_PATTERN; buffer 0 is queued and OUTPUT streamed on again.
 */
static int output_realloc(struct job *j, unsigned int n)
{
	struct m2m_queue *out = &j->dev.out;
	unsigned int i;
	int ret;

	ret = m2m_reqbufs(&j->dev, out, n);
	if (ret)
		return ret;
	for (i = 0; i < out->count; i++)
		fill_pattern(out->bufs[i].map[0], out->bufs[i].length[0], REALLOC_PATTERN);
	ret = m2m_qbuf(&j->dev, out, 0);
	if (!ret)
		ret = m2m_streamon(&j->dev, out);
	return ret;
}

/*
 * The next job of @j, on CAPTURE buffer 0 queued again, reads the new
 * OUTPUT buffer 0 (@src): its frame, without error, and CAPTURE's sequence
 * number goes on from @prev_seq: OUTPUT's STREAMON restarts only OUTPUT's.
 */
#define CHECK_NEXT_JOB(j, src, src_len, prev_seq) do {				\
	uint32_t __prev = (prev_seq);						\
	struct m2m_buf_state __st;						\
	long __bad;								\
										\
	ASSERT_EQ(0, m2m_qbuf(&(j)->dev, &(j)->dev.cap, 0))			\
		TH_LOG("%s", m2m_strerror());					\
	ASSERT_EQ(0, m2m_dqbuf(&(j)->dev, &(j)->dev.cap, &__st, JOB_TIMEOUT_MS)) \
		TH_LOG("the job on the new OUTPUT buffer: %s", m2m_strerror());	\
	EXPECT_EQ(0U, __st.flags & V4L2_BUF_FLAG_ERROR)				\
		TH_LOG("the job on the new OUTPUT buffer ended in error");	\
	EXPECT_EQ(__prev + 1, __st.sequence)					\
		TH_LOG("CAPTURE's sequence went from %u to %u over OUTPUT's STREAMON", \
		       __prev, __st.sequence);					\
	__bad = frame_errors_from((j), (src), (src_len), __st.sequence);	\
	EXPECT_EQ(0, __bad)							\
		TH_LOG("%ld bytes of the next frame are not the new OUTPUT buffer's", \
		       __bad);							\
} while (0)

/*
 * A job ends; its CAPTURE buffer is not dequeued before OUTPUT gets new
 * buffers with other content. The DQBUF gives the frame of the OUTPUT
 * buffer the job read, without error, with the sequence number of its job:
 * not one made from the new buffers, which did not exist when it ran (what
 * fence_stress's oracle expected: "8832 bytes are not the frame").
 */
TEST_F(fence, output_realloc_keeps_finished_frame)
{
	struct m2m_dev *dev = &self->fx.a.dev;
	size_t old_len, new_len;
	struct m2m_buf_state st;
	uint8_t *old, *new;
	long bad;
	int ret;

	if (strcmp(driver_name(), DEFAULT_DRIVER))
		SKIP(return, "needs the frames of the test module");
	ret = job_open(&self->fx.a, 0, REALLOC_JOB_MS, JOB_DONE);
	SKIP_IF_UNSUPPORTED(ret);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	old = copy_source(&self->fx.a, &old_len);
	ASSERT_NE(NULL, old);
	ASSERT_EQ(0, job_start(&self->fx.a, false)) TH_LOG("%s", m2m_strerror());
	ASSERT_TRUE(capture_done(&self->fx.a, JOB_TIMEOUT_MS))
		TH_LOG("the job did not end within %d ms", JOB_TIMEOUT_MS);

	ASSERT_EQ(0, m2m_streamoff(dev, &dev->out)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, output_realloc(&self->fx.a, 2)) TH_LOG("%s", m2m_strerror());
	new = copy_source(&self->fx.a, &new_len);
	ASSERT_NE(NULL, new);

	ASSERT_EQ(0, m2m_dqbuf(dev, &dev->cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	EXPECT_EQ(0U, st.index);
	EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("a job that ended before STREAMOFF(OUTPUT) is reported failed");
	EXPECT_EQ(0U, st.sequence);
	bad = frame_errors_from(&self->fx.a, old, old_len, st.sequence);
	EXPECT_EQ(0, bad)
		TH_LOG("%ld bytes are not the frame of the OUTPUT buffer the job read", bad);
	bad = frame_errors_from(&self->fx.a, new, new_len, st.sequence);
	EXPECT_LT(0, bad)
		TH_LOG("the frame is made from OUTPUT buffers allocated after its job ended");

	CHECK_NEXT_JOB(&self->fx.a, new, new_len, st.sequence);
	free(old);
	free(new);
}

/*
 * The same with the job still running: STREAMOFF(OUTPUT) aborts it at once
 * and the CAPTURE buffer, still queued meanwhile, comes back with
 * V4L2_BUF_FLAG_ERROR and its fence with an error (F5). It never comes
 * back without error holding anything but its own job's whole frame: not
 * the new OUTPUT buffer's, not part of a frame.
 */
TEST_F(fence, output_realloc_mid_job)
{
	struct m2m_dev *dev = &self->fx.a.dev;
	size_t old_len, new_len;
	struct m2m_buf_state st;
	int sync_fd, status;
	uint8_t *old, *new;
	double waited;
	uint64_t t0;
	long bad;

	if (strcmp(driver_name(), DEFAULT_DRIVER))
		SKIP(return, "needs the frames of the test module");
	START_FENCED_JOB(&self->fx, REALLOC_SLOW_JOB_MS, JOB_DONE, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd)) TH_LOG("no active fence: the job is not running");
	old = copy_source(&self->fx.a, &old_len);
	ASSERT_NE(NULL, old);

	t0 = now_us();
	ASSERT_EQ(0, m2m_streamoff(dev, &dev->out)) TH_LOG("%s", m2m_strerror());
	waited = ms_since(t0);
	EXPECT_FALSE(job_in_flight(&self->fx.a))
		TH_LOG("CAPTURE buffer 0 still queued and not done after the cancel");
	EXPECT_GT(REALLOC_SLOW_JOB_MS * 0.75, waited)
		TH_LOG("STREAMOFF(OUTPUT) waited %.0f ms: the job was not aborted", waited);
	ASSERT_EQ(0, output_realloc(&self->fx.a, 2)) TH_LOG("%s", m2m_strerror());
	new = copy_source(&self->fx.a, &new_len);
	ASSERT_NE(NULL, new);

	ASSERT_EQ(0, m2m_dqbuf(dev, &dev->cap, &st, JOB_TIMEOUT_MS))
		TH_LOG("%s", m2m_strerror());
	status = sync_file_status(sync_fd);
	close(sync_fd);
	EXPECT_EQ(0U, st.index);
	EXPECT_EQ(0U, st.sequence);
	EXPECT_NE(0U, st.flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("the job cancelled by STREAMOFF(OUTPUT) came back without error");
	EXPECT_GT(0, status) TH_LOG("the cancelled job's fence has status %d, not an error", status);
	if (!(st.flags & V4L2_BUF_FLAG_ERROR)) {
		bad = frame_errors_from(&self->fx.a, old, old_len, st.sequence);
		EXPECT_EQ(0, bad)
			TH_LOG("dequeued without error, %ld bytes are not its job's frame (%ld not the new OUTPUT buffer's)",
			       bad, frame_errors_from(&self->fx.a, new, new_len, st.sequence));
	}

	/* A job of REALLOC_SLOW_JOB_MS would outlast the module's watchdog */
	ASSERT_EQ(0, m2m_set_ctrl_by_name(dev->fd, TRANS_TIME_CTRL, REALLOC_JOB_MS, NULL))
		TH_LOG("%s", m2m_strerror());
	CHECK_NEXT_JOB(&self->fx.a, new, new_len, st.sequence);
	free(old);
	free(new);
}

TEST_HARNESS_MAIN
