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
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/media.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "vb2_resv_test.h"

#define MODEL_DEBUGFS	"/sys/kernel/debug/vb2-resv-rk3399-model"
#define MODEL_COMPLETE	0
#define MODEL_ERROR	1
#define MODEL_HANG	2
/*
 * How long a runaway block writes on unless stopped: beyond any fence a
 * watchdog signals, so that the writes after it show.
 */
#define RUNAWAY_MS	(WATCHDOG_MS + SLACK_MS + 2000)
/* The model sees a register write when it next polls, within a few ms. */
#define MODEL_LAG_MS	50
/* How long the buffer must stay as it is after the fence signalled */
#define STILL_MS	300

#define WIDTH		64
#define HEIGHT		64
#define SLOW_JOB_MS	1000
/* hantro's and (with the series) rockchip-rga's watchdogs */
#define WATCHDOG_MS	2000
/* what a watchdog may take beyond its period under TCG */
#define SLACK_MS	3000
/* the model writes up to 4 KiB; every variant's buffers hold at least that */
#define MIN_PATTERN	1024UL

FIXTURE(rk3399) {
	struct m2m_dev dev;
	int media;		/* the media device, for requests */
	int cap_dmabuf;		/* EXPBUF of CAPTURE buffer 0, plane 0 */
	char model[160];	/* the model's directory of this block, or "" */
	uint8_t pattern;
	/* a second context, set up like the first, for the tests that need one */
	struct m2m_dev dev2;
	int media2;
	int cap_dmabuf2;
	int timeline;		/* sw_sync timeline, or -1 */
	pid_t rescue;		/* its rescue, or 0 */
};

/* A stateless decoder's controls of one frame, set in request @req. */
typedef int (*set_controls_fn)(int fd, int req, bool arg);

static int set_mpeg2_controls(int fd, int req, bool unused);
static int set_h264_controls(int fd, int req, bool unused);
static int set_h264_sps(int fd);

FIXTURE_VARIANT(rk3399) {
	const char *driver;
	const char *card;	/* part of VIDIOC_QUERYCAP's card */
	const char *block;	/* the model's name of the hardware block */
	bool encoder;
	/* stateless: OUTPUT buffers go in requests with these controls */
	set_controls_fn request;
	/*
	 * Controls of the stream that the CAPTURE format depends on, set
	 * between the OUTPUT and the CAPTURE format
	 */
	int (*stream_controls)(int fd);
	uint32_t out_fourcc, cap_fourcc;
	/*
	 * An error status ends the job at once. rockchip-rga's interrupt
	 * handler ignores the error bit, so there its watchdog ends the job.
	 */
	bool error_ends_job;
};

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

static int model_set(FIXTURE_DATA(rk3399) *self, const char *file, int val)
{
	char path[224], s[16];

	snprintf(path, sizeof(path), "%s/%s", self->model, file);
	snprintf(s, sizeof(s), "%d", val);
	return write_file(path, s);
}

static int model_get(FIXTURE_DATA(rk3399) *self, const char *file)
{
	char path[224];
	int val;

	snprintf(path, sizeof(path), "%s/%s", self->model, file);
	return read_int_file(path, &val) ? -1 : val;
}

#define NEED_MODEL() do {						\
	if (!self->model[0])						\
		SKIP(return, "needs the register model to slow, fail or hang a job: in a VM, modprobe vb2-resv-rk3399-model regs=<addr>"); \
} while (0)

/* Does media device @fd have an interface for device node @rdev? */
static bool media_has_devnode(int fd, dev_t rdev)
{
	struct media_v2_topology topo = { 0 };
	struct media_v2_interface *intf;
	bool found = false;
	__u32 i;

	if (ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo) || !topo.num_interfaces)
		return false;
	intf = calloc(topo.num_interfaces, sizeof(*intf));
	if (!intf)
		return false;
	topo.ptr_interfaces = (uintptr_t)intf;
	if (!ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo)) {
		for (i = 0; i < topo.num_interfaces && !found; i++)
			found = intf[i].devnode.major == major(rdev) &&
				intf[i].devnode.minor == minor(rdev);
	}
	free(intf);
	return found;
}

/*
 * The media device of video node @video_fd, for MEDIA_IOC_REQUEST_ALLOC:
 * one driver may have several (hantro-vpu has one per block).
 */
static int open_media(int video_fd)
{
	struct stat st;
	char path[32];
	int i, fd;

	if (fstat(video_fd, &st))
		return -errno;
	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/media%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (media_has_devnode(fd, st.st_rdev))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* Set @count controls in request @req: 0 or a negative errno. */
static int set_request_controls(int fd, int req, struct v4l2_ext_control *ctrls,
				unsigned int count)
{
	struct v4l2_ext_controls ext = {
		.which = V4L2_CTRL_WHICH_REQUEST_VAL,
		.count = count,
		.request_fd = req,
		.controls = ctrls,
	};

	return ioctl(fd, VIDIOC_S_EXT_CTRLS, &ext) ? -errno : 0;
}

/*
 * Queue OUTPUT buffer @index of @dev in a new request whose controls
 * @set_controls sets (with @arg): how stateless decoders take a frame.
 */
static int queue_in_request(struct __test_metadata *_metadata,
			    struct m2m_dev *dev, int media, unsigned int index,
			    int (*set_controls)(int fd, int req, bool arg),
			    bool arg)
{
	int req, ret;

	if (ioctl(media, MEDIA_IOC_REQUEST_ALLOC, &req))
		return -errno;
	ret = set_controls(dev->fd, req, arg);
	if (ret) {
		TH_LOG("VIDIOC_S_EXT_CTRLS(request): %s", strerror(-ret));
	} else {
		ret = m2m_qbuf_request(dev, &dev->out, index, req);
		if (!ret && ioctl(req, MEDIA_REQUEST_IOC_QUEUE))
			ret = -errno;
	}
	/* The queued request lives on without this fd. */
	close(req);
	return ret;
}

/* The three MPEG-2 controls of one intra frame, set in request @req. */
static int set_mpeg2_controls(int fd, int req, bool unused)
{
	struct v4l2_ctrl_mpeg2_sequence seq = {
		.horizontal_size = WIDTH,
		.vertical_size = HEIGHT,
		.vbv_buffer_size = 1 << 16,
		.chroma_format = 1,			/* 4:2:0 */
		.flags = V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE,
	};
	struct v4l2_ctrl_mpeg2_picture pic = {
		.picture_coding_type = V4L2_MPEG2_PIC_CODING_TYPE_I,
		.picture_structure = V4L2_MPEG2_PIC_FRAME,
		.flags = V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT |
			 V4L2_MPEG2_PIC_FLAG_PROGRESSIVE,
		.f_code = { { 15, 15 }, { 15, 15 } },
	};
	struct v4l2_ctrl_mpeg2_quantisation quant;
	struct v4l2_ext_control ctrls[3] = {
		{ .id = V4L2_CID_STATELESS_MPEG2_SEQUENCE,
		  .size = sizeof(seq), .ptr = &seq },
		{ .id = V4L2_CID_STATELESS_MPEG2_PICTURE,
		  .size = sizeof(pic), .ptr = &pic },
		{ .id = V4L2_CID_STATELESS_MPEG2_QUANTISATION,
		  .size = sizeof(quant), .ptr = &quant },
	};

	(void)unused;
	memset(&quant, 16, sizeof(quant));
	return set_request_controls(fd, req, ctrls, 3);
}

/* The SPS of a WIDTHxHEIGHT 8-bit 4:2:0 progressive stream */
static void h264_sps(struct v4l2_ctrl_h264_sps *sps)
{
	memset(sps, 0, sizeof(*sps));
	sps->profile_idc = 77;				/* Main */
	sps->level_idc = 30;
	sps->chroma_format_idc = 1;
	sps->log2_max_frame_num_minus4 = 4;
	sps->pic_order_cnt_type = 2;
	sps->max_num_ref_frames = 1;
	sps->pic_width_in_mbs_minus1 = WIDTH / 16 - 1;
	sps->pic_height_in_map_units_minus1 = HEIGHT / 16 - 1;
	sps->flags = V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY |
		     V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE;
}

/*
 * The SPS as the control's current value, before the CAPTURE format: the
 * decoder derives the decoded format (bit depth, chroma) from it.
 */
static int set_h264_sps(int fd)
{
	struct v4l2_ctrl_h264_sps sps;
	struct v4l2_ext_control ctrl = {
		.id = V4L2_CID_STATELESS_H264_SPS,
		.size = sizeof(sps), .ptr = &sps,
	};
	struct v4l2_ext_controls ext = {
		.which = V4L2_CTRL_WHICH_CUR_VAL,
		.count = 1,
		.controls = &ctrl,
	};

	h264_sps(&sps);
	return ioctl(fd, VIDIOC_S_EXT_CTRLS, &ext) ? -errno : 0;
}

/*
 * The four H.264 controls of one IDR frame, set in request @req, as
 * GStreamer's v4l2slh264dec sets them for every frame (the model parses no
 * slice data).
 */
static int set_h264_controls(int fd, int req, bool unused)
{
	struct v4l2_ctrl_h264_sps sps;
	struct v4l2_ctrl_h264_pps pps = {
		.weighted_bipred_idc = 0,
		.flags = V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT |
			 V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT,
	};
	struct v4l2_ctrl_h264_scaling_matrix matrix;
	struct v4l2_ctrl_h264_decode_params dec = {
		.nal_ref_idc = 3,
		.flags = V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC,
	};
	struct v4l2_ext_control ctrls[4] = {
		{ .id = V4L2_CID_STATELESS_H264_SPS,
		  .size = sizeof(sps), .ptr = &sps },
		{ .id = V4L2_CID_STATELESS_H264_PPS,
		  .size = sizeof(pps), .ptr = &pps },
		{ .id = V4L2_CID_STATELESS_H264_SCALING_MATRIX,
		  .size = sizeof(matrix), .ptr = &matrix },
		{ .id = V4L2_CID_STATELESS_H264_DECODE_PARAMS,
		  .size = sizeof(dec), .ptr = &dec },
	};

	(void)unused;
	h264_sps(&sps);
	memset(&matrix, 16, sizeof(matrix));		/* flat */
	return set_request_controls(fd, req, ctrls, 4);
}

/*
 * Queue CAPTURE buffer 0 (unless @output_only) and OUTPUT buffer 0, which
 * starts a job; for a stateless decoder, in a request with its controls.
 */
static int queue_job_on(struct __test_metadata *_metadata,
			struct m2m_dev *dev, int media,
			const FIXTURE_VARIANT(rk3399) *variant, bool output_only)
{
	int ret;

	if (!output_only) {
		ret = m2m_qbuf(dev, &dev->cap, 0);
		if (ret)
			return ret;
	}
	if (!variant->request)
		return m2m_qbuf(dev, &dev->out, 0);
	return queue_in_request(_metadata, dev, media, 0, variant->request,
				false);
}

static int queue_job(struct __test_metadata *_metadata,
		     FIXTURE_DATA(rk3399) *self,
		     const FIXTURE_VARIANT(rk3399) *variant, bool output_only)
{
	return queue_job_on(_metadata, &self->dev, self->media, variant,
			    output_only);
}

/* Dequeue both buffers of the job; returns the CAPTURE buffer's flags. */
static int finish_job(struct __test_metadata *_metadata,
		      FIXTURE_DATA(rk3399) *self, int timeout_ms)
{
	struct m2m_buf_state st, out;
	int ret;

	ret = m2m_dqbuf(&self->dev, &self->dev.cap, &st, timeout_ms);
	if (ret) {
		TH_LOG("DQBUF(CAPTURE): %s", m2m_strerror());
		return ret;
	}
	if (m2m_dqbuf(&self->dev, &self->dev.out, &out, timeout_ms)) {
		TH_LOG("DQBUF(OUTPUT): %s", m2m_strerror());
		return -EIO;
	}
	return st.flags;
}

/*
 * Wait until counter @file of the model's block directory @dir reaches @n:
 * the model sees register writes when it next polls, a little after the
 * driver made them.
 */
static bool wait_model_count_at(const char *dir, const char *file, int n,
				int timeout_ms)
{
	uint64_t end = now_us() + (uint64_t)timeout_ms * 1000;
	char path[224];
	int val;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	while (now_us() < end) {
		if (!read_int_file(path, &val) && val >= n)
			return true;
		usleep(1000);
	}
	return false;
}

static bool wait_model_count(FIXTURE_DATA(rk3399) *self, const char *file,
			     int n, int timeout_ms)
{
	return wait_model_count_at(self->model, file, n, timeout_ms);
}

/* Wait until the model has seen @n jobs start: device_run has run. */
static bool wait_job_started(FIXTURE_DATA(rk3399) *self, int n, int timeout_ms)
{
	return wait_model_count(self, "jobs", n, timeout_ms);
}

/*
 * Bytes of CAPTURE buffer 0 of @dev (exported as @dmabuf) that hold
 * @pattern, read by the CPU.
 */
static size_t pattern_bytes_of(struct m2m_dev *dev, int dmabuf, uint8_t pattern)
{
	size_t len = dev->cap.bufs[0].length[0], n = 0, i;
	const uint8_t *p = dev->cap.bufs[0].map[0];

	if (dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
		return 0;
	for (i = 0; i < len; i++)
		n += p[i] == pattern;
	dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return n;
}

/* Bytes of the CAPTURE buffer that hold the model's pattern, read by the CPU. */
static size_t pattern_bytes(FIXTURE_DATA(rk3399) *self)
{
	return pattern_bytes_of(&self->dev, self->cap_dmabuf, self->pattern);
}

/*
 * Set up a context of the block on @dev: formats (and a stateless decoder's
 * stream controls), one buffer per queue, both queues streaming, CAPTURE
 * buffer 0 exported into *@cap_dmabuf and filled with anything but @pattern;
 * *@media is the media device for requests. Returns 0 or a negative errno,
 * having logged what failed.
 */
static int open_context(struct __test_metadata *_metadata, struct m2m_dev *dev,
			int *media, int *cap_dmabuf, uint8_t pattern,
			const FIXTURE_VARIANT(rk3399) *variant)
{
	int ret;

	if (variant->encoder) {
		ret = m2m_set_encoder_formats(dev, variant->out_fourcc,
					      variant->cap_fourcc, WIDTH, HEIGHT);
	} else if (variant->stream_controls) {
		ret = m2m_set_format(dev, &dev->out, variant->out_fourcc,
				     WIDTH, HEIGHT);
		if (!ret) {
			ret = variant->stream_controls(dev->fd);
			if (ret) {
				TH_LOG("the stream's controls: %s", strerror(-ret));
				return ret;
			}
			ret = m2m_set_format(dev, &dev->cap, variant->cap_fourcc,
					     WIDTH, HEIGHT);
		}
	} else {
		ret = m2m_set_formats(dev, variant->out_fourcc,
				      variant->cap_fourcc, WIDTH, HEIGHT);
	}
	if (ret)
		goto err;
	if (dev->cap.fourcc != variant->cap_fourcc) {
		TH_LOG("CAPTURE format %.4s, not %.4s", (char *)&dev->cap.fourcc,
		       (const char *)&variant->cap_fourcc);
		return -EINVAL;
	}

	if (variant->request) {
		*media = open_media(dev->fd);
		if (*media < 0) {
			TH_LOG("no media device of %s", dev->path);
			return -ENODEV;
		}
	}

	ret = m2m_reqbufs(dev, &dev->out, 1);
	if (!ret)
		ret = m2m_reqbufs(dev, &dev->cap, 1);
	if (ret)
		goto err;
	/* OUTPUT: a frame, or (decoder) a "slice" the model does not parse */
	memset(dev->out.bufs[0].map[0], 0x80, dev->out.bufs[0].length[0]);
	dev->out.bufs[0].bytesused[0] = variant->request ? 1024 :
					dev->out.sizeimage[0];
	if (dev->out.num_planes > 1)
		dev->out.bufs[0].bytesused[1] = dev->out.sizeimage[1];
	ret = m2m_streamon(dev, &dev->out);
	if (!ret)
		ret = m2m_streamon(dev, &dev->cap);
	if (ret)
		goto err;

	*cap_dmabuf = m2m_expbuf(dev, &dev->cap, 0, 0, O_RDWR | O_CLOEXEC);
	if (*cap_dmabuf < 0) {
		ret = *cap_dmabuf;
		goto err;
	}
	/* Nothing in the CAPTURE buffer looks like the model's output. */
	memset(dev->cap.bufs[0].map[0], (uint8_t)~pattern,
	       dev->cap.bufs[0].length[0]);
	return 0;
err:
	TH_LOG("%s", m2m_strerror());
	return ret;
}

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

/*
 * End a runaway job now, and wait until the block is idle: its buffers may
 * not be freed while it writes them. A job of the model's other modes is
 * left to end as it would.
 */
static bool end_runaway(const char *model)
{
	uint64_t end = now_us() + 1000000;
	char runaway[224], busy[224];
	bool idle;

	snprintf(runaway, sizeof(runaway), "%s/runaway_ms", model);
	snprintf(busy, sizeof(busy), "%s/busy", model);
	if (write_file(runaway, "1"))
		return false;
	while (!(idle = read_bool_file(busy) == 0) && now_us() < end)
		usleep(1000);
	return !write_file(runaway, "0") && idle;
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
 * What @len bytes at @p hold after the device is done with them, as a
 * reader sees them: the copy is made between DMA_BUF_IOCTL_SYNC calls.
 */
static int snapshot(int dmabuf, const void *p, void *copy, size_t len)
{
	int ret = dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);

	if (ret)
		return ret;
	memcpy(copy, p, len);
	return dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
}

/*
 * Wait for the fence of a job whose block runs away, then check that the
 * block wrote nothing after it: 0, or how many writes the model made.
 */
static int writes_after_signal(struct __test_metadata *_metadata,
			       const char *model, int sync_fd, int dmabuf,
			       const void *map, size_t len)
{
	char path[224];
	void *before, *after;
	int n0, n1, diff;

	before = malloc(len);
	after = malloc(len);
	if (!before || !after) {
		free(before);
		free(after);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/late_writes", model);
	EXPECT_LT(0, poll_fd(sync_fd, POLLIN, WATCHDOG_MS + SLACK_MS))
		TH_LOG("the fence of a hung job is still pending after %d ms",
		       WATCHDOG_MS + SLACK_MS);
	/* The model acts on a stop when it next polls the registers. */
	usleep(MODEL_LAG_MS * 1000);
	EXPECT_EQ(0, snapshot(dmabuf, map, before, len));
	EXPECT_EQ(0, read_int_file(path, &n0));
	usleep(STILL_MS * 1000);
	EXPECT_EQ(0, snapshot(dmabuf, map, after, len));
	EXPECT_EQ(0, read_int_file(path, &n1));
	diff = len - count_equal_bytes(before, after, len);
	if (diff)
		TH_LOG("%d bytes of the buffer changed in the %d ms after its fence signalled",
		       diff, STILL_MS);
	free(before);
	free(after);
	return n1 - n0;
}

/*
 * The job runs away: once its fence signals with @status, the buffer must
 * not change any more, as whatever ended the job (@stopper) stopped the
 * block. The job then ends with an error.
 */
static void stopped_before_fence_signals(struct __test_metadata *_metadata,
					 FIXTURE_DATA(rk3399) *self,
					 const char *block, const char *stopper,
					 int status)
{
	int sync_fd, flags, late;

	sync_fd = dmabuf_export_sync_file(self->cap_dmabuf, DMA_BUF_SYNC_READ);
	ASSERT_LE(0, sync_fd);
	ASSERT_EQ(0, sync_file_status(sync_fd));

	late = writes_after_signal(_metadata, self->model, sync_fd,
				   self->cap_dmabuf, self->dev.cap.bufs[0].map[0],
				   self->dev.cap.bufs[0].length[0]);
	EXPECT_EQ(0, late)
		TH_LOG("the %s still wrote the buffer after its fence signalled: %s did not stop it",
		       block, stopper);
	EXPECT_EQ(status, sync_file_status(sync_fd));
	close(sync_fd);
	ASSERT_TRUE(end_runaway(self->model));
	flags = finish_job(_metadata, self, 2000);
	ASSERT_LE(0, flags);
	EXPECT_TRUE(flags & V4L2_BUF_FLAG_ERROR);
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

/* The platform device behind video node @fd, in @name. */
static int video_platform_device(int fd, char *name, size_t len)
{
	char link[128], target[256];
	struct stat st;
	const char *base;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(name, len, "%s", base ? base + 1 : target);
	return 0;
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
#define AV1_BLOCK	MODEL_DEBUGFS "/av1"

FIXTURE(av1) {
	struct m2m_dev dev;
	int media;
	int cap_dmabuf;		/* EXPBUF of CAPTURE buffer 1, the second job's */
};

/* The sequence, frame and tile group controls of a 64x64 key frame. */
static int set_av1_controls(int fd, int req, bool too_many_tiles)
{
	struct v4l2_ctrl_av1_sequence seq = {
		.flags = V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X |
			 V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y,
		.order_hint_bits = 7,
		.bit_depth = 8,
		.max_frame_width_minus_1 = WIDTH - 1,
		.max_frame_height_minus_1 = HEIGHT - 1,
	};
	struct v4l2_ctrl_av1_tile_group_entry tge = { .tile_size = 1024 };
	struct v4l2_ctrl_av1_frame frame = {
		.tile_info = {
			/* one tile, or two of which user space gives one */
			.tile_cols = too_many_tiles ? 2 : 1,
			.tile_rows = 1,
			.mi_col_starts = { 0, WIDTH / 4 },
			.mi_row_starts = { 0, HEIGHT / 4 },
		},
		.superres_denom = 8,
		.primary_ref_frame = 7,		/* none */
		.flags = V4L2_AV1_FRAME_FLAG_SHOW_FRAME |
			 V4L2_AV1_FRAME_FLAG_SHOWABLE_FRAME,
		.frame_type = V4L2_AV1_KEY_FRAME,
		.upscaled_width = WIDTH,
		.frame_width_minus_1 = WIDTH - 1,
		.frame_height_minus_1 = HEIGHT - 1,
		.render_width_minus_1 = WIDTH - 1,
		.render_height_minus_1 = HEIGHT - 1,
		.refresh_frame_flags = 0xff,
	};
	struct v4l2_ext_control ctrls[3] = {
		{ .id = V4L2_CID_STATELESS_AV1_SEQUENCE,
		  .size = sizeof(seq), .ptr = &seq },
		{ .id = V4L2_CID_STATELESS_AV1_FRAME,
		  .size = sizeof(frame), .ptr = &frame },
		{ .id = V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY,
		  .size = sizeof(tge), .ptr = &tge },
	};

	return set_request_controls(fd, req, ctrls, 3);
}

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

static int av1_model_set(const char *file, int val)
{
	char path[160], s[16];

	snprintf(path, sizeof(path), AV1_BLOCK "/%s", file);
	snprintf(s, sizeof(s), "%d", val);
	return write_file(path, s);
}

static int av1_model_get(const char *file)
{
	char path[160];
	int val;

	snprintf(path, sizeof(path), AV1_BLOCK "/%s", file);
	return read_int_file(path, &val) ? -1 : val;
}

/* Is the device behind video node @fd runtime-suspended? */
static bool runtime_suspended(int fd)
{
	char path[128], s[32] = "";
	struct stat st;
	ssize_t n;
	int f;

	if (fstat(fd, &st))
		return false;
	snprintf(path, sizeof(path),
		 "/sys/dev/char/%u:%u/device/power/runtime_status",
		 major(st.st_rdev), minor(st.st_rdev));
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return false;
	n = read(f, s, sizeof(s) - 1);
	close(f);
	return n > 0 && !strncmp(s, "suspended", 9);
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
