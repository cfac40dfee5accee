/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rk3399 fixture of rk3399_fences: its data and its variants' type (one
 * hardware block each), and the steps its tests take on a block with the
 * kselftest harness: the model's settings and counters, a context set up
 * (formats, a stateless decoder's stream controls, buffers, streaming), a
 * job queued (in a media request for a stateless decoder) and finished, and
 * the check that a block that ran away wrote nothing after its fence
 * signalled. rk3399_fences.c includes it, once: FIXTURE() registers the
 * fixture with the harness of the file that includes it.
 */
#ifndef RK3399_FIXTURE_H
#define RK3399_FIXTURE_H

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
#include "m2m_util.h"
#include "rk3399_util.h"

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

#endif /* RK3399_FIXTURE_H */
