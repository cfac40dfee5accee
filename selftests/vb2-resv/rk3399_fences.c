// SPDX-License-Identifier: GPL-2.0
/*
 * Producer fences of the real RK3399 drivers: hantro-vpu's JPEG encoder
 * (raw frame on OUTPUT, bitstream on CAPTURE), its MPEG-2 decoder (stateless,
 * controls in a media request, as libva and ffmpeg's v4l2-request do),
 * rockchip-vdec's H.264 decoder (stateless too: SPS, PPS, scaling matrix and
 * decode parameters in the request, the SPS also set before the CAPTURE
 * format, as GStreamer's v4l2codecs and ffmpeg do) and rockchip-rga's format
 * conversion.
 *
 * Each variant checks that the driver publishes the CAPTURE buffer's fence
 * when it commits the job and not before (F2), that the fence signals when
 * the block's interrupt reports the frame written (F4), that an error status
 * reaches the fence (F5), and that a block that never interrupts is ended by
 * the driver's watchdog within its bound and is usable again (F6); for
 * rockchip-rga, whose watchdog the series adds, that the interrupt handler
 * does not run while the watchdog holds the block in reset, and that
 * unbinding it mid-job signals the job's fence and leaves nothing that the
 * files still open use freed (patches/fixes/). A fence, even one that
 * signals an error, tells its waiters that the device is done with the
 * buffer: a block that hangs and runs away, writing on into the buffer, is
 * stopped before its fence signals (F17).
 *
 * The fixture av1 tests the RK3588's AV1 decoder, which the model has too
 * and which hantro cannot stop (its codec has no reset op): it publishes no
 * fence (F17); and a fix of hantro's (patches/fixes/): a frame that the
 * run op rejects fails its own job once, and no other job with it.
 *
 * In a VM the blocks are the register model vb2-resv-rk3399-model, whose
 * debugfs directory sets each block's job latency, outcome (done, error,
 * hang) and the byte it writes into the destination. On the board, with the
 * real blocks, the tests that need to slow down, fail or hang a job skip.
 *
 * The rk3399 fixture and the steps its tests share are in rk3399_fixture.h,
 * the helpers that need no harness in rk3399_util.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/media.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "vb2_resv_test.h"
#include "rk3399_util.h"
#include "rk3399_fixture.h"

FIXTURE_VARIANT_ADD(rk3399, hantro_jpeg_enc) {
	.driver = "hantro-vpu",
	.card = "-enc",
	.block = "vepu",
	.encoder = true,
	.out_fourcc = V4L2_PIX_FMT_NV12M,
	.cap_fourcc = V4L2_PIX_FMT_JPEG,
	.error_ends_job = true,
};

FIXTURE_VARIANT_ADD(rk3399, hantro_mpeg2_dec) {
	.driver = "hantro-vpu",
	.card = "rk3399-vpu-dec",
	.block = "vdpu",
	.request = set_mpeg2_controls,
	.out_fourcc = V4L2_PIX_FMT_MPEG2_SLICE,
	.cap_fourcc = V4L2_PIX_FMT_NV12,
	.error_ends_job = true,
};

FIXTURE_VARIANT_ADD(rk3399, rkvdec_h264_dec) {
	.driver = "rkvdec",
	.block = "rkvdec",
	.request = set_h264_controls,
	.stream_controls = set_h264_sps,
	.out_fourcc = V4L2_PIX_FMT_H264_SLICE,
	.cap_fourcc = V4L2_PIX_FMT_NV12,
	.error_ends_job = true,
};

FIXTURE_VARIANT_ADD(rk3399, rga) {
	.driver = "rockchip-rga",
	.block = "rga",
	.out_fourcc = V4L2_PIX_FMT_ARGB32,
	.cap_fourcc = V4L2_PIX_FMT_XBGR32,
	.error_ends_job = false,
};

FIXTURE_SETUP(rk3399)
{
	const char *driver = variant->driver;
	char path[160];
	int ret;

	self->media = -1;
	self->cap_dmabuf = -1;
	self->dev2.fd = -1;
	self->media2 = -1;
	self->cap_dmabuf2 = -1;
	self->timeline = -1;
	ret = m2m_open_card(&self->dev, driver, variant->card);
	if (ret == -ENOENT)
		SKIP(return, "no %s%s%s device: on the board modprobe %s, in a VM also vb2-resv-rk3399-model",
		     driver, variant->card ? " " : "",
		     variant->card ? variant->card : "", driver);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());

	snprintf(path, sizeof(path), MODEL_DEBUGFS "/%s", variant->block);
	if (!access(path, F_OK))
		snprintf(self->model, sizeof(self->model), "%s", path);
	self->pattern = 0x5a;
	if (self->model[0]) {
		ASSERT_EQ(0, model_set(self, "mode", MODEL_COMPLETE));
		ASSERT_EQ(0, model_set(self, "latency_ms", 0));
		ASSERT_EQ(0, model_set(self, "pattern", self->pattern));
	}

	ASSERT_EQ(0, open_context(_metadata, &self->dev, &self->media,
				  &self->cap_dmabuf, self->pattern, variant));
}

FIXTURE_TEARDOWN(rk3399)
{
	if (self->model[0]) {
		model_set(self, "mode", MODEL_COMPLETE);
		model_set(self, "latency_ms", 0);
		end_runaway(self->model);
		if (!strcmp(variant->block, "rga")) {
			model_set(self, "irq_at_reset", 0);
			model_set(self, "isr_hook", 0);
		}
	}
	/* The rescue first: closing the timeline signals what it left. */
	sw_sync_rescue_cancel(self->rescue);
	if (self->timeline >= 0)
		close(self->timeline);
	if (self->cap_dmabuf2 >= 0)
		close(self->cap_dmabuf2);
	if (self->media2 >= 0)
		close(self->media2);
	m2m_close(&self->dev2);
	if (self->cap_dmabuf >= 0)
		close(self->cap_dmabuf);
	if (self->media >= 0)
		close(self->media);
	m2m_close(&self->dev);
}

/*
 * F2: a CAPTURE buffer queued alone carries no fence; once the job is
 * committed its dma-buf holds one unsignalled write fence of videobuf2's
 * until the block's interrupt (F4), after which the CPU sees the frame.
 */
TEST_F(rk3399, fence_published_at_device_run_signalled_at_irq)
{
	struct sync_fence_info info;
	uint64_t ctx, seqno;
	int sync_fd, jobs, flags;

	NEED_MODEL();
	ASSERT_EQ(0, model_set(self, "latency_ms", SLOW_JOB_MS));
	jobs = model_get(self, "jobs");

	ASSERT_EQ(0, m2m_qbuf(&self->dev, &self->dev.cap, 0));
	EXPECT_LT(0, poll_fd(self->cap_dmabuf, POLLIN, 0))
		TH_LOG("CAPTURE queued without a job is not readable: a fence before device_run");
	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	EXPECT_EQ(1, sync_file_status(sync_fd));
	close(sync_fd);

	ASSERT_EQ(0, queue_job(_metadata, self, variant, true));
	ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000))
		TH_LOG("the %s never started the job", variant->block);

	EXPECT_EQ(0, poll_fd(self->cap_dmabuf, POLLIN, 0))
		TH_LOG("the job runs but the dma-buf is readable: no fence published at device_run");
	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	EXPECT_EQ(0, sync_file_status(sync_fd));
	ASSERT_EQ(1, sync_file_fences(sync_fd, &info, 1));
	EXPECT_STREQ(FENCE_DRIVER, info.driver_name);
	EXPECT_EQ(1, dmabuf_resv_fences(self->cap_dmabuf, &ctx, &seqno, 1));

	/* F4: signalled by the interrupt, with the block's output in place */
	EXPECT_LT(0, poll_fd(self->cap_dmabuf, POLLIN, SLOW_JOB_MS + SLACK_MS));
	EXPECT_EQ(1, sync_file_status(sync_fd)) TH_LOG("fence not signalled, or with an error");
	EXPECT_LE(MIN_PATTERN, pattern_bytes(self))
		TH_LOG("the fence signalled but the CPU does not see the frame");
	close(sync_fd);

	flags = finish_job(_metadata, self, 2000);
	ASSERT_LE(0, flags);
	EXPECT_FALSE(flags & V4L2_BUF_FLAG_ERROR);
}

/* F4 at full speed, on the board too: after the signal the frame is final. */
TEST_F(rk3399, frame_final_when_fence_signals)
{
	int i, flags;

	for (i = 0; i < 5; i++) {
		self->pattern = 0x5a + i;
		if (self->model[0])
			ASSERT_EQ(0, model_set(self, "pattern", self->pattern));
		memset(self->dev.cap.bufs[0].map[0], (uint8_t)~self->pattern,
		       self->dev.cap.bufs[0].length[0]);
		ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
		ASSERT_LT(0, poll_fd(self->cap_dmabuf, POLLIN, 5000));
		/* On real hardware the output is a real frame, not a pattern. */
		if (self->model[0]) {
			EXPECT_LE(MIN_PATTERN, pattern_bytes(self))
				TH_LOG("job %d: signalled before the frame was written",
				       i);
		}
		flags = finish_job(_metadata, self, 2000);
		ASSERT_LE(0, flags);
		/*
		 * On the board a decoder gets a made-up slice, which real
		 * hardware may fail: there the fence signalled (above) and
		 * the buffer came back, which is what this test is for.
		 */
		if (self->model[0] || !variant->request)
			EXPECT_FALSE(flags & V4L2_BUF_FLAG_ERROR);
	}
}

/* F5: the block reports an error: the buffer and the fence both say so. */
TEST_F(rk3399, error_status_reaches_fence)
{
	int sync_fd, jobs, status, flags, bound;

	NEED_MODEL();
	ASSERT_EQ(0, model_set(self, "mode", MODEL_ERROR));
	ASSERT_EQ(0, model_set(self, "latency_ms", SLOW_JOB_MS));
	jobs = model_get(self, "jobs");

	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000));
	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd));

	bound = SLOW_JOB_MS + SLACK_MS +
		(variant->error_ends_job ? 0 : WATCHDOG_MS);
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, bound))
		TH_LOG("no signal within %d ms of an error status", bound);
	status = sync_file_status(sync_fd);
	close(sync_fd);
	flags = finish_job(_metadata, self, 2000);
	ASSERT_LE(0, flags);

	EXPECT_LT(0, model_get(self, "errors"));
	/*
	 * Without the fix in patches/fixes/ hantro's VDPU2 handler takes the
	 * interrupt bit, which the block sets with every status, for success.
	 */
	EXPECT_TRUE(flags & V4L2_BUF_FLAG_ERROR)
		TH_LOG("%s completed a job whose status reported an error",
		       variant->driver);
	/* F5: the fence says what the buffer says */
	if (flags & V4L2_BUF_FLAG_ERROR) {
		EXPECT_GT(0, status)
			TH_LOG("the fence of a failed job carries no error");
	} else {
		EXPECT_EQ(1, status)
			TH_LOG("a done buffer's fence carries an error");
	}
}

/*
 * F6: the block never interrupts. The driver's watchdog ends the job with an
 * error within its bound, resets the block, and the next job completes.
 */
TEST_F(rk3399, hang_ended_by_watchdog_then_usable)
{
	int sync_fd, jobs, resets, flags;
	uint64_t t0;
	double ms;

	NEED_MODEL();
	ASSERT_EQ(0, model_set(self, "mode", MODEL_HANG));
	jobs = model_get(self, "jobs");
	resets = model_get(self, "resets");

	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000));
	t0 = now_us();
	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd));

	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, WATCHDOG_MS + SLACK_MS))
		TH_LOG("a hung job's fence is still pending after %d ms",
		       WATCHDOG_MS + SLACK_MS);
	ms = ms_since(t0);
	TH_LOG("the watchdog ended the hung job after %.0f ms", ms);
	EXPECT_EQ(-ETIMEDOUT, sync_file_status(sync_fd))
		TH_LOG("the watchdog-failed job's fence error is not -ETIMEDOUT");
	close(sync_fd);
	flags = finish_job(_metadata, self, 2000);
	ASSERT_LE(0, flags);
	EXPECT_TRUE(flags & V4L2_BUF_FLAG_ERROR);
	EXPECT_TRUE(wait_model_count(self, "resets", resets + 1, 1000))
		TH_LOG("the watchdog did not reset or stop the %s",
		       variant->block);

	/* The block works again. */
	ASSERT_EQ(0, model_set(self, "mode", MODEL_COMPLETE));
	memset(self->dev.cap.bufs[0].map[0], (uint8_t)~self->pattern,
	       self->dev.cap.bufs[0].length[0]);
	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	ASSERT_LT(0, poll_fd(self->cap_dmabuf, POLLIN, 5000));
	EXPECT_LE(MIN_PATTERN, pattern_bytes(self));
	flags = finish_job(_metadata, self, 2000);
	ASSERT_LE(0, flags);
	EXPECT_FALSE(flags & V4L2_BUF_FLAG_ERROR);
}

/*
 * F17: a fence, even one that signals an error, tells its waiters that the
 * device is done with the buffer. The block hangs and runs away, writing
 * on into the CAPTURE buffer (the model's runaway_ms): the watchdog must
 * stop it before it fails the job, and once the fence has signalled the
 * buffer does not change any more.
 */
TEST_F(rk3399, hung_block_stopped_before_fence_signals)
{
	int jobs, late;

	NEED_MODEL();
	ASSERT_EQ(0, model_set(self, "mode", MODEL_HANG));
	ASSERT_EQ(0, model_set(self, "runaway_ms", RUNAWAY_MS));
	jobs = model_get(self, "jobs");
	late = model_get(self, "late_writes");

	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000));
	ASSERT_TRUE(wait_model_count(self, "late_writes", late + 1, 2000))
		TH_LOG("the model's %s does not run away: nothing would be checked",
		       variant->block);
	stopped_before_fence_signals(_metadata, self, variant->block,
				     "its watchdog", -ETIMEDOUT);
}

/*
 * F17 on the error path: the VPU's error interrupts include pauses (the
 * VDPU2 waits for more stream, the VEPU2 for room in its output buffer),
 * after which the block would go on writing once it could. The model's
 * block pauses on its error status and runs away (runaway_ms): the
 * interrupt handler must stop it before the job fails and its fence
 * signals. The model's other blocks stop on an error status themselves.
 */
TEST_F(rk3399, error_pause_stopped_before_fence_signals)
{
	int jobs;

	NEED_MODEL();
	if (strcmp(variant->block, "vdpu") && strcmp(variant->block, "vepu"))
		SKIP(return, "the model's %s stops on an error status: no pause to stop",
		     variant->block);
	ASSERT_EQ(0, model_set(self, "mode", MODEL_ERROR));
	ASSERT_EQ(0, model_set(self, "latency_ms", SLOW_JOB_MS));
	ASSERT_EQ(0, model_set(self, "runaway_ms", RUNAWAY_MS));
	jobs = model_get(self, "jobs");

	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000));
	stopped_before_fence_signals(_metadata, self, variant->block,
				     "the error interrupt", -EIO);
}

/*
 * The interrupt comes as the watchdog resets the block: a completion too
 * late. The interrupt handler reads and clears the block's status, so it
 * must not run while the block is in reset: the watchdog keeps the
 * interrupt off for the time of the reset (the handler runs after it, or
 * not at all). The model raises the interrupt as the core reset is
 * asserted and counts the handler's calls made while it is (an ftrace hook
 * on rga_handle_irq()). For rockchip-rga, whose watchdog the series adds;
 * hantro's, which it leaves alone, does not do that.
 */
TEST_F(rk3399, watchdog_keeps_interrupt_handler_off_reset)
{
	int sync_fd, jobs, raised, in_reset, flags, status, ret;

	NEED_MODEL();
	if (strcmp(variant->block, "rga"))
		SKIP(return, "%s's watchdog is not the series': it does not keep its interrupt handler off a reset",
		     variant->driver);
	ret = model_set(self, "isr_hook", 1);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "this kernel has no dynamic ftrace (CONFIG_DYNAMIC_FTRACE): the model cannot watch rga_handle_irq()");
	ASSERT_EQ(0, ret)
		TH_LOG("the model cannot hook rga_handle_irq(): %s", strerror(-ret));
	ASSERT_EQ(0, model_set(self, "irq_at_reset", 1));
	ASSERT_EQ(0, model_set(self, "mode", MODEL_HANG));
	jobs = model_get(self, "jobs");
	raised = model_get(self, "irqs_at_reset");
	in_reset = model_get(self, "isr_in_reset");

	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000));
	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	ASSERT_LT(0, poll_fd(sync_fd, POLLIN, WATCHDOG_MS + SLACK_MS));
	status = sync_file_status(sync_fd);
	close(sync_fd);
	flags = finish_job(_metadata, self, 2000);
	ASSERT_LE(0, flags);
	EXPECT_TRUE(flags & V4L2_BUF_FLAG_ERROR);
	EXPECT_EQ(-ETIMEDOUT, status);

	ASSERT_LT(raised, model_get(self, "irqs_at_reset"))
		TH_LOG("the model raised no interrupt during a reset: nothing was checked");
	EXPECT_EQ(in_reset, model_get(self, "isr_in_reset"))
		TH_LOG("the interrupt handler ran while the watchdog held the %s in reset",
		       variant->block);
}

/* How long a deferred job is watched not to run */
#define HOLD_MS		500

/*
 * F15: a job waits for other users' fences before the driver prepares it.
 * A second context's job is queued behind a slow job of the first; while
 * the block runs that one, a compositor takes the second context's CAPTURE
 * buffer (a sw_sync READ fence). When the device comes to the second job,
 * v4l2-mem2mem looks again as it takes the job off the queue and finds the
 * fence: the driver's device_run does not run at all (nothing it prepares,
 * a JPEG header written into the CAPTURE buffer or a request's controls
 * applied, happens under the reader or twice) and the job runs once the
 * fence has signalled, or is cancelled when its file is closed (@cancel)
 * without waiting for the fence. The first context then runs another job:
 * the device was left as it should be.
 */
static void deferred_job(struct __test_metadata *_metadata,
			 FIXTURE_DATA(rk3399) *self,
			 const FIXTURE_VARIANT(rk3399) *variant, bool cancel)
{
	int ret, held, jobs, flags, sync_fd;
	struct m2m_buf_state st;
	uint64_t t0;

	NEED_MODEL();
	ret = sw_sync_timeline_open();
	if (ret == -ENOENT)
		SKIP(return, "%s", m2m_strerror());
	ASSERT_LE(0, ret) TH_LOG("%s", m2m_strerror());
	self->timeline = ret;
	self->rescue = sw_sync_rescue(self->timeline, 1, SLOW_JOB_MS + SLACK_MS + HOLD_MS);
	ASSERT_LT(0, self->rescue) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, m2m_open_card(&self->dev2, variant->driver, variant->card))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, open_context(_metadata, &self->dev2, &self->media2,
				  &self->cap_dmabuf2, self->pattern, variant));

	ASSERT_EQ(0, model_set(self, "latency_ms", SLOW_JOB_MS));
	jobs = model_get(self, "jobs");
	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000))
		TH_LOG("the %s never started the first job", variant->block);
	ASSERT_EQ(0, queue_job_on(_metadata, &self->dev2, self->media2, variant, false));
	ASSERT_EQ(0, dmabuf_pending_fences(self->cap_dmabuf2, FENCE_DRIVER))
		TH_LOG("the second job started while the first runs: %s", m2m_strerror());

	sync_fd = sw_sync_fence(self->timeline, 1);
	ASSERT_LE(0, sync_fd) TH_LOG("%s", m2m_strerror());
	ret = dmabuf_import_sync_file(self->cap_dmabuf2, sync_fd, DMA_BUF_SYNC_READ);
	close(sync_fd);
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, poll_fd(self->cap_dmabuf, POLLIN, 0))
		TH_LOG("the first job ended before the fence was added: too late to test anything");

	flags = finish_job(_metadata, self, SLOW_JOB_MS + SLACK_MS);
	ASSERT_LE(0, flags);
	EXPECT_FALSE(flags & V4L2_BUF_FLAG_ERROR);
	ASSERT_EQ(0, model_set(self, "latency_ms", 0));

	held = m2m_dqbuf(&self->dev2, &self->dev2.cap, &st, HOLD_MS);
	EXPECT_EQ(-ETIMEDOUT, held)
		TH_LOG("the second job ran despite a READ fence added to its CAPTURE buffer after it was queued");
	EXPECT_EQ(jobs + 1, model_get(self, "jobs"))
		TH_LOG("the driver started the %s for the second job", variant->block);
	EXPECT_EQ(0, dmabuf_pending_fences(self->cap_dmabuf2, FENCE_DRIVER))
		TH_LOG("a producer fence was published for the deferred job");
	/*
	 * Nor did its run op: the JPEG encoders write the header into the
	 * CAPTURE buffer with the CPU, which the reader still reads.
	 */
	EXPECT_EQ(self->dev2.cap.bufs[0].length[0],
		  pattern_bytes_of(&self->dev2, self->cap_dmabuf2,
				   (uint8_t)~self->pattern))
		TH_LOG("the driver wrote the deferred job's CAPTURE buffer while another device's READ fence was pending");

	if (cancel) {
		/* The deferred job's request, if any, is completed once */
		t0 = now_us();
		if (self->cap_dmabuf2 >= 0)
			close(self->cap_dmabuf2);
		self->cap_dmabuf2 = -1;
		m2m_close(&self->dev2);
		EXPECT_GT(1000.0, (now_us() - t0) / 1000.0)
			TH_LOG("closing the file of a deferred job waited for the fence");
	}

	ret = sw_sync_rescue_cancel(self->rescue);
	self->rescue = 0;
	EXPECT_EQ(0, ret) TH_LOG("the rescue had to signal the fence");
	ASSERT_EQ(0, sw_sync_inc(self->timeline, 1)) TH_LOG("%s", m2m_strerror());
	if (held == -ETIMEDOUT && !cancel) {
		ASSERT_EQ(0, m2m_dqbuf(&self->dev2, &self->dev2.cap, &st, 5000))
			TH_LOG("the deferred job did not run once the fence signalled: %s",
			       m2m_strerror());
		EXPECT_EQ(0U, st.flags & V4L2_BUF_FLAG_ERROR);
		EXPECT_LE(MIN_PATTERN, pattern_bytes_of(&self->dev2, self->cap_dmabuf2,
							self->pattern))
			TH_LOG("the deferred job's frame is not in its buffer");
		ASSERT_EQ(0, m2m_dqbuf(&self->dev2, &self->dev2.out, &st, 2000))
			TH_LOG("%s", m2m_strerror());
	}

	/* The block, its clocks and runtime PM are as a job left them */
	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	flags = finish_job(_metadata, self, 5000);
	ASSERT_LE(0, flags);
	EXPECT_FALSE(flags & V4L2_BUF_FLAG_ERROR);
}

TEST_F(rk3399, reader_added_while_queued_holds_job)
{
	deferred_job(_metadata, self, variant, false);
}

/* F15: a deferred job is cancelled by closing its file, at once. */
TEST_F(rk3399, close_while_deferred)
{
	deferred_job(_metadata, self, variant, true);
}

#define RGA_DRIVER_DIR	"/sys/bus/platform/drivers/rockchip-rga"

/*
 * Unbinding rockchip-rga while a job runs: remove() lets the job end, so
 * its fence signals by the time remove() returns, and the files still open
 * are closed afterwards without using what the driver released (KASAN
 * watches their release). The driver then binds again and opens. For
 * rockchip-rga, whose remove() two prerequisite patches change.
 */
TEST_F(rk3399, unbind_mid_job_then_close)
{
	char name[256];
	int sync_fd, jobs = 0, status, ret;

	if (strcmp(variant->block, "rga"))
		SKIP(return, "the series and its fixes change rockchip-rga's remove(), not %s's: rockchip-rga only",
		     variant->driver);
	SKIP_UNLESS_DESTRUCTIVE("unbinds and rebinds the rockchip-rga driver");
	if (access(RGA_DRIVER_DIR "/unbind", W_OK))
		SKIP(return, "cannot write " RGA_DRIVER_DIR "/unbind: run as root");
	ASSERT_EQ(0, video_platform_device(self->dev.fd, name, sizeof(name)));
	if (self->model[0]) {
		ASSERT_EQ(0, model_set(self, "latency_ms", SLOW_JOB_MS));
		jobs = model_get(self, "jobs");
	}

	ASSERT_EQ(0, queue_job(_metadata, self, variant, false));
	if (self->model[0])
		ASSERT_TRUE(wait_job_started(self, jobs + 1, 2000));
	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	ret = write_file(RGA_DRIVER_DIR "/unbind", name);
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", name, strerror(-ret));
	/* remove() has returned: the job has ended, and its fence with it. */
	status = sync_file_status(sync_fd);
	close(sync_fd);
	EXPECT_NE(0, status) TH_LOG("the fence of the job still pending after remove()");

	/* The files are released after remove(). */
	close(self->cap_dmabuf);
	self->cap_dmabuf = -1;
	m2m_close(&self->dev);

	ret = write_file(RGA_DRIVER_DIR "/bind", name);
	ASSERT_EQ(0, ret) TH_LOG("bind %s again: %s", name, strerror(-ret));
	ASSERT_EQ(0, m2m_open_card(&self->dev, variant->driver, variant->card))
		TH_LOG("%s does not open after binding again: %s", variant->driver,
		       m2m_strerror());
}

/*
 * hantro-vpu's AV1 decoder, the RK3588's VPU981, which the model has too.
 * hantro has no way to stop it (its codec has no reset op), so it must
 * publish no fences. And the run op rejects a frame whose tile info names
 * more tiles than the request has tile group entries; that job must fail
 * alone. Its error path used to finish the job, and device_run() then
 * finished it again, taking the next job's buffers (patches/fixes/).
 */
#define AV1_CARD	"rk3588-av1-vpu-dec"

FIXTURE(av1) {
	struct m2m_dev dev;
	int media;
	int cap_dmabuf;		/* EXPBUF of CAPTURE buffer 1, the second job's */
};

/* Queue CAPTURE buffer @index and OUTPUT buffer @index in a request. */
static int queue_av1_job(struct __test_metadata *_metadata,
			 FIXTURE_DATA(av1) *self, unsigned int index,
			 bool too_many_tiles)
{
	int ret;

	ret = m2m_qbuf(&self->dev, &self->dev.cap, index);
	if (ret)
		return ret;
	return queue_in_request(_metadata, &self->dev, self->media, index,
				set_av1_controls, too_many_tiles);
}

FIXTURE_SETUP(av1)
{
	struct m2m_dev *dev = &self->dev;
	int ret, i;

	self->media = -1;
	self->cap_dmabuf = -1;
	ret = m2m_open_card(dev, "hantro-vpu", AV1_CARD);
	if (ret == -ENOENT)
		SKIP(return, "no RK3588 AV1 decoder (hantro-vpu " AV1_CARD "): in a VM the register model has one");
	ASSERT_EQ(0, ret) TH_LOG("%s", m2m_strerror());
	if (access(AV1_BLOCK, F_OK))
		SKIP(return, "needs the register model's AV1 decoder, not a real one, to see which jobs reach the block");
	ASSERT_EQ(0, av1_model_set("mode", MODEL_COMPLETE));
	ASSERT_EQ(0, av1_model_set("latency_ms", 0));
	ASSERT_EQ(0, av1_model_set("pattern", 0x5a));

	ASSERT_EQ(0, m2m_set_formats(dev, V4L2_PIX_FMT_AV1_FRAME,
				     V4L2_PIX_FMT_NV12_4L4, WIDTH, HEIGHT))
		TH_LOG("%s", m2m_strerror());
	self->media = open_media(dev->fd);
	ASSERT_LE(0, self->media) TH_LOG("no media device of %s", dev->path);
	ASSERT_EQ(0, m2m_reqbufs(dev, &dev->out, 2)) TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_reqbufs(dev, &dev->cap, 2)) TH_LOG("%s", m2m_strerror());
	for (i = 0; i < 2; i++) {
		memset(dev->out.bufs[i].map[0], 0x80, dev->out.bufs[i].length[0]);
		dev->out.bufs[i].bytesused[0] = 1024;
		memset(dev->cap.bufs[i].map[0], 0xa5, dev->cap.bufs[i].length[0]);
	}
	self->cap_dmabuf = m2m_expbuf(dev, &dev->cap, 1, 0, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->cap_dmabuf) TH_LOG("%s", m2m_strerror());
}

FIXTURE_TEARDOWN(av1)
{
	if (!access(AV1_BLOCK, F_OK)) {
		av1_model_set("mode", MODEL_COMPLETE);
		av1_model_set("latency_ms", 0);
		end_runaway(AV1_BLOCK);
	}
	if (self->cap_dmabuf >= 0)
		close(self->cap_dmabuf);
	if (self->media >= 0)
		close(self->media);
	m2m_close(&self->dev);
}

/*
 * F17: hantro cannot stop the AV1 decoder, so its CAPTURE queue reports no
 * producer fences and a running job's buffer carries none. Were it to
 * publish one, the watchdog's fence would signal while the block still
 * writes: a hung job runs away here (the model's runaway_ms), and the
 * buffer must not change after the fence signalled.
 */
TEST_F(av1, unstoppable_block_publishes_no_fence)
{
	struct m2m_buf_state st;
	int jobs, late, sync_fd, status;

	ASSERT_EQ(0, av1_model_set("mode", MODEL_HANG));
	ASSERT_EQ(0, av1_model_set("runaway_ms", RUNAWAY_MS));
	jobs = av1_model_get("jobs");
	late = av1_model_get("late_writes");
	ASSERT_EQ(0, m2m_streamon(&self->dev, &self->dev.out))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_streamon(&self->dev, &self->dev.cap))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, queue_av1_job(_metadata, self, 1, false));
	ASSERT_TRUE(wait_model_count_at(AV1_BLOCK, "jobs", jobs + 1, 2000))
		TH_LOG("the AV1 decoder never started the job");
	ASSERT_TRUE(wait_model_count_at(AV1_BLOCK, "late_writes", late + 1,
					2000))
		TH_LOG("the model's AV1 decoder does not run away: nothing would be checked");

	EXPECT_FALSE(!!(self->dev.cap.caps & V4L2_BUF_CAP_PRODUCER_FENCES))
		TH_LOG("the CAPTURE queue of a decoder that cannot be stopped reports producer fences");
	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	status = sync_file_status(sync_fd);
	EXPECT_EQ(1, status)
		TH_LOG("a decoder that cannot be stopped published a fence");
	if (!status) {
		late = writes_after_signal(_metadata, AV1_BLOCK, sync_fd,
					   self->cap_dmabuf,
					   self->dev.cap.bufs[1].map[0],
					   self->dev.cap.bufs[1].length[0]);
		EXPECT_EQ(0, late)
			TH_LOG("and the decoder still wrote the buffer after that fence signalled");
	}
	close(sync_fd);
	ASSERT_TRUE(end_runaway(AV1_BLOCK));
	ASSERT_EQ(0, m2m_dqbuf(&self->dev, &self->dev.cap, &st, 5000))
		TH_LOG("the watchdog did not end the hung job: %s", m2m_strerror());
	EXPECT_TRUE(!!(st.flags & V4L2_BUF_FLAG_ERROR));
}

/*
 * Job 0 names two tiles and gives one: the run op rejects it. Job 1 is a
 * good frame, whose CAPTURE buffer is queued with job 0's but whose request
 * is queued only once job 0 has failed, so that it cannot start before.
 * Job 0 fails without reaching the block; job 1 then decodes, and comes
 * back done. A second finish of job 0 (the bug patches/fixes/ removes)
 * finds no OUTPUT buffer to take and warns in hantro_job_finish_no_pm():
 * make check runs this test without the fix in a boot of its own and
 * looks for that warning (had job 1 been queued, the second finish would
 * have taken its buffers while it started, and the kernel oopses). And the
 * device is let go: the runtime PM reference device_run() took for the
 * failed job is dropped.
 */
TEST_F(av1, rejected_frame_fails_only_its_job)
{
	struct m2m_buf_state st;
	int jobs, req, i;
	size_t n = 0;
	uint8_t *p;
	bool idle;

	jobs = av1_model_get("jobs");
	ASSERT_EQ(0, queue_av1_job(_metadata, self, 0, true));
	ASSERT_EQ(0, m2m_qbuf(&self->dev, &self->dev.cap, 1));
	ASSERT_EQ(0, ioctl(self->media, MEDIA_IOC_REQUEST_ALLOC, &req));
	ASSERT_EQ(0, set_av1_controls(self->dev.fd, req, false));
	ASSERT_EQ(0, m2m_qbuf_request(&self->dev, &self->dev.out, 1, req))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_streamon(&self->dev, &self->dev.out))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, m2m_streamon(&self->dev, &self->dev.cap))
		TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, m2m_dqbuf(&self->dev, &self->dev.cap, &st, 5000))
		TH_LOG("the rejected frame's job did not end: %s", m2m_strerror());
	EXPECT_EQ(0U, st.index);
	EXPECT_TRUE(!!(st.flags & V4L2_BUF_FLAG_ERROR))
		TH_LOG("a frame the driver rejects came back without an error");
	ASSERT_EQ(0, m2m_dqbuf(&self->dev, &self->dev.out, &st, 2000));
	EXPECT_EQ(0U, st.index);

	ASSERT_EQ(0, ioctl(req, MEDIA_REQUEST_IOC_QUEUE));
	close(req);
	ASSERT_EQ(0, m2m_dqbuf(&self->dev, &self->dev.cap, &st, 5000))
		TH_LOG("job 1 did not end: %s", m2m_strerror());
	EXPECT_EQ(1U, st.index);
	EXPECT_FALSE(!!(st.flags & V4L2_BUF_FLAG_ERROR))
		TH_LOG("job 1 came back failed");
	ASSERT_EQ(0, m2m_dqbuf(&self->dev, &self->dev.out, &st, 2000));
	EXPECT_FALSE(!!(st.flags & V4L2_BUF_FLAG_ERROR));
	/* Only job 1 reached the block, and wrote its frame. */
	EXPECT_EQ(jobs + 1, av1_model_get("jobs"));
	p = self->dev.cap.bufs[1].map[0];
	ASSERT_EQ(0, dmabuf_sync(self->cap_dmabuf,
				 DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	for (i = 0; i < 4096; i++)
		n += p[i] == 0x5a;
	dmabuf_sync(self->cap_dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	EXPECT_EQ(4096UL, n) TH_LOG("job 1's frame is not in its CAPTURE buffer");

	/* hantro suspends 100 ms after its last job: PM references dropped */
	for (i = 0, idle = false; i < 40 && !idle; i++) {
		usleep(50000);
		idle = runtime_suspended(self->dev.fd);
	}
	EXPECT_TRUE(idle)
		TH_LOG("the decoder is not runtime-suspended 2 s after its last job: a PM reference leaked");
}

TEST_HARNESS_MAIN
