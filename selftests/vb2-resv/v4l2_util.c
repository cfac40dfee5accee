// SPDX-License-Identifier: GPL-2.0
/*
 * The V4L2 side of the vb2-resv selftests' helpers: find a mem2mem device
 * by driver (and card) name and open it, set the formats of its OUTPUT and
 * CAPTURE queues, allocate (REQBUFS, CREATE_BUFS), map, queue, dequeue and
 * export (EXPBUF) their buffers, stream, and find and set controls by name.
 * See m2m_util.h for the conventions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "m2m_util_internal.h"

const char *m2m_fourcc_str(uint32_t fourcc, char buf[8])
{
	int i;

	for (i = 0; i < 4; i++) {
		char c = (fourcc >> (8 * i)) & 0x7f;

		buf[i] = (c >= 0x20 && c < 0x7f) ? c : '.';
	}
	buf[4] = '\0';
	return buf;
}

static bool is_output(const struct m2m_queue *q)
{
	return V4L2_TYPE_IS_OUTPUT(q->type);
}

/*
 * If @path is an M2M node of @driver, return 0 and fill @cap; otherwise
 * return a negative errno (-ENODEV for "some other device").
 */
static int probe_node(const char *path, const char *driver, const char *card,
		      struct v4l2_capability *cap)
{
	uint32_t caps;
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(cap, 0, sizeof(*cap));
	if (xioctl(fd, VIDIOC_QUERYCAP, cap)) {
		ret = -errno;
		goto out;
	}
	caps = (cap->capabilities & V4L2_CAP_DEVICE_CAPS) ?
		cap->device_caps : cap->capabilities;
	if (strncmp((const char *)cap->driver, driver, sizeof(cap->driver)) ||
	    !(caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE)) ||
	    !(caps & V4L2_CAP_STREAMING))
		ret = -ENODEV;
	if (card && !strstr((const char *)cap->card, card))
		ret = -ENODEV;
out:
	close(fd);
	return ret;
}

static void init_queue(struct m2m_queue *q, enum v4l2_buf_type type,
		       const char *name)
{
	memset(q, 0, sizeof(*q));
	q->type = type;
	q->name = name;
}

int m2m_open(struct m2m_dev *dev, const char *driver)
{
	int ret = m2m_open_card(dev, driver, NULL);

	if (ret == -ENOENT && (!strcmp(driver, "vim2m") || !strcmp(driver, "vb2-resv-test")) &&
	    !m2m_load_module(driver, ""))
		ret = m2m_open_card(dev, driver, NULL);
	return ret;
}

int m2m_open_card(struct m2m_dev *dev, const char *driver, const char *card)
{
	struct v4l2_capability cap;
	char path[32], denied[32] = "";
	unsigned int n, best = ~0u;
	struct dirent *de;
	uint32_t caps;
	DIR *dir;
	char c;

	memset(dev, 0, sizeof(*dev));
	dev->fd = -1;

	dir = opendir("/dev");
	if (!dir)
		return fail(-errno, "opendir(/dev)");
	while ((de = readdir(dir))) {
		int ret;

		if (sscanf(de->d_name, "video%u%c", &n, &c) != 1)
			continue;
		if (n >= best)
			continue;
		snprintf(path, sizeof(path), "/dev/video%u", n);
		ret = probe_node(path, driver, card, &cap);
		if (!ret)
			best = n;
		else if (ret == -EACCES || ret == -EPERM)
			snprintf(denied, sizeof(denied), "%s", path);
	}
	closedir(dir);

	if (best == ~0u) {
		if (denied[0])
			return fail(-ENOENT,
				    "no M2M device with driver \"%s\"%s%s (could not open %s)",
				    driver, card ? " and card *" : "",
				    card ? card : "", denied);
		return fail(-ENOENT, "no M2M device with driver \"%s\"%s%s",
			    driver, card ? " and card *" : "", card ? card : "");
	}

	snprintf(dev->path, sizeof(dev->path), "/dev/video%u", best);
	dev->fd = open(dev->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (dev->fd < 0)
		return fail(-errno, "open(%s)", dev->path);
	memset(&cap, 0, sizeof(cap));
	if (xioctl(dev->fd, VIDIOC_QUERYCAP, &cap)) {
		int err = -errno;

		close(dev->fd);
		dev->fd = -1;
		return fail(err, "VIDIOC_QUERYCAP(%s)", dev->path);
	}
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ?
		cap.device_caps : cap.capabilities;
	snprintf(dev->driver, sizeof(dev->driver), "%.*s",
		 (int)sizeof(cap.driver), (const char *)cap.driver);
	snprintf(dev->card, sizeof(dev->card), "%.*s",
		 (int)sizeof(cap.card), (const char *)cap.card);
	dev->mplane = !!(caps & V4L2_CAP_VIDEO_M2M_MPLANE);
	init_queue(&dev->out, dev->mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE :
		   V4L2_BUF_TYPE_VIDEO_OUTPUT, "OUTPUT");
	init_queue(&dev->cap, dev->mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE :
		   V4L2_BUF_TYPE_VIDEO_CAPTURE, "CAPTURE");
	return 0;
}

static void unmap_bufs(struct m2m_queue *q)
{
	unsigned int i, p;

	for (i = 0; i < q->count; i++) {
		for (p = 0; p < VIDEO_MAX_PLANES; p++) {
			if (q->bufs[i].map[p])
				munmap(q->bufs[i].map[p], q->bufs[i].length[p]);
		}
	}
	memset(q->bufs, 0, sizeof(q->bufs));
	q->count = 0;
}

void m2m_unmap(struct m2m_dev *dev)
{
	unmap_bufs(&dev->out);
	unmap_bufs(&dev->cap);
}

void m2m_close(struct m2m_dev *dev)
{
	m2m_unmap(dev);
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

static int set_fmt(struct m2m_dev *dev, struct m2m_queue *q, uint32_t fourcc,
		   uint32_t width, uint32_t height)
{
	struct v4l2_format f;
	unsigned int p;
	char s[8];

	if (!fourcc) {
		struct v4l2_fmtdesc d;

		memset(&d, 0, sizeof(d));
		d.type = q->type;
		d.index = 0;
		if (xioctl(dev->fd, VIDIOC_ENUM_FMT, &d))
			return fail(-errno, "VIDIOC_ENUM_FMT(%s, index 0)",
				    q->name);
		fourcc = d.pixelformat;
	}

	/* Start from the current format so the driver's defaults survive. */
	memset(&f, 0, sizeof(f));
	f.type = q->type;
	if (xioctl(dev->fd, VIDIOC_G_FMT, &f))
		return fail(-errno, "VIDIOC_G_FMT(%s)", q->name);

	if (dev->mplane) {
		f.fmt.pix_mp.pixelformat = fourcc;
		f.fmt.pix_mp.width = width;
		f.fmt.pix_mp.height = height;
		f.fmt.pix_mp.field = V4L2_FIELD_NONE;
		for (p = 0; p < VIDEO_MAX_PLANES; p++)
			f.fmt.pix_mp.plane_fmt[p].bytesperline = 0;
	} else {
		f.fmt.pix.pixelformat = fourcc;
		f.fmt.pix.width = width;
		f.fmt.pix.height = height;
		f.fmt.pix.field = V4L2_FIELD_NONE;
		f.fmt.pix.bytesperline = 0;
	}
	if (xioctl(dev->fd, VIDIOC_S_FMT, &f))
		return fail(-errno, "VIDIOC_S_FMT(%s, %s %ux%u)", q->name,
			    m2m_fourcc_str(fourcc, s), width, height);

	memset(q->sizeimage, 0, sizeof(q->sizeimage));
	memset(q->bytesperline, 0, sizeof(q->bytesperline));
	if (dev->mplane) {
		q->fourcc = f.fmt.pix_mp.pixelformat;
		q->width = f.fmt.pix_mp.width;
		q->height = f.fmt.pix_mp.height;
		q->num_planes = f.fmt.pix_mp.num_planes;
		if (!q->num_planes || q->num_planes > VIDEO_MAX_PLANES)
			return fail(-EINVAL, "VIDIOC_S_FMT(%s) returned %u planes",
				    q->name, q->num_planes);
		for (p = 0; p < q->num_planes; p++) {
			q->sizeimage[p] = f.fmt.pix_mp.plane_fmt[p].sizeimage;
			q->bytesperline[p] =
				f.fmt.pix_mp.plane_fmt[p].bytesperline;
		}
	} else {
		q->fourcc = f.fmt.pix.pixelformat;
		q->width = f.fmt.pix.width;
		q->height = f.fmt.pix.height;
		q->num_planes = 1;
		q->sizeimage[0] = f.fmt.pix.sizeimage;
		q->bytesperline[0] = f.fmt.pix.bytesperline;
	}
	return 0;
}

int m2m_set_format(struct m2m_dev *dev, struct m2m_queue *q, uint32_t fourcc,
		   uint32_t width, uint32_t height)
{
	return set_fmt(dev, q, fourcc, width, height);
}

int m2m_set_formats(struct m2m_dev *dev, uint32_t out_fourcc,
		    uint32_t cap_fourcc, uint32_t width, uint32_t height)
{
	int ret;

	/* OUTPUT first: codecs derive the CAPTURE format from it. */
	ret = set_fmt(dev, &dev->out, out_fourcc, width, height);
	if (ret)
		return ret;
	return set_fmt(dev, &dev->cap, cap_fourcc, width, height);
}

int m2m_set_encoder_formats(struct m2m_dev *dev, uint32_t raw_fourcc,
			    uint32_t coded_fourcc, uint32_t width,
			    uint32_t height)
{
	int ret;

	/* CAPTURE first: an encoder derives the raw formats from it. */
	ret = set_fmt(dev, &dev->cap, coded_fourcc, width, height);
	if (ret)
		return ret;
	return set_fmt(dev, &dev->out, raw_fourcc, width, height);
}

static void init_v4l2_buf(struct m2m_dev *dev, struct m2m_queue *q,
			  struct v4l2_buffer *b, struct v4l2_plane *planes,
			  unsigned int index)
{
	memset(b, 0, sizeof(*b));
	b->type = q->type;
	b->memory = q->memory ? q->memory : V4L2_MEMORY_MMAP;
	b->index = index;
	if (dev->mplane) {
		memset(planes, 0, VIDEO_MAX_PLANES * sizeof(*planes));
		b->m.planes = planes;
		b->length = VIDEO_MAX_PLANES;
	}
}

static void fill_state(struct m2m_dev *dev, const struct v4l2_buffer *b,
		       struct m2m_buf_state *st)
{
	unsigned int p;

	memset(st, 0, sizeof(*st));
	st->index = b->index;
	st->flags = b->flags;
	st->sequence = b->sequence;
	if (!dev->mplane) {
		st->bytesused[0] = b->bytesused;
		return;
	}
	for (p = 0; p < b->length && p < VIDEO_MAX_PLANES; p++)
		st->bytesused[p] = b->m.planes[p].bytesused;
}

/* Free the buffers of @q and ask for @count of @memory; q->count says how many came. */
static int reqbufs(struct m2m_dev *dev, struct m2m_queue *q, unsigned int count,
		   uint32_t memory)
{
	const char *mem = memory == V4L2_MEMORY_DMABUF ? "DMABUF" : "MMAP";
	struct v4l2_requestbuffers rb;

	unmap_bufs(q);

	memset(&rb, 0, sizeof(rb));
	rb.count = count;
	rb.type = q->type;
	rb.memory = memory;
	q->memory = memory;
	if (xioctl(dev->fd, VIDIOC_REQBUFS, &rb))
		return fail(-errno, "VIDIOC_REQBUFS(%s, %s, %u)", q->name, mem,
			    count);
	if (count && !rb.count)
		return fail(-ENOMEM, "VIDIOC_REQBUFS(%s) allocated no buffer",
			    q->name);
	q->count = rb.count < M2M_MAX_BUFS ? rb.count : M2M_MAX_BUFS;
	q->caps = rb.capabilities;
	return 0;
}

int m2m_reqbufs(struct m2m_dev *dev, struct m2m_queue *q, unsigned int count)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int i, p;
	int ret;

	ret = reqbufs(dev, q, count, V4L2_MEMORY_MMAP);
	if (ret)
		return ret;

	for (i = 0; i < q->count; i++) {
		struct m2m_buf *buf = &q->bufs[i];
		unsigned int nplanes;

		init_v4l2_buf(dev, q, &b, planes, i);
		if (xioctl(dev->fd, VIDIOC_QUERYBUF, &b))
			return fail(-errno, "VIDIOC_QUERYBUF(%s, %u)", q->name,
				    i);
		nplanes = dev->mplane ? b.length : 1;
		if (!nplanes || nplanes > VIDEO_MAX_PLANES)
			return fail(-EINVAL, "VIDIOC_QUERYBUF(%s, %u): %u planes",
				    q->name, i, nplanes);
		q->num_planes = nplanes;

		for (p = 0; p < nplanes; p++) {
			uint32_t len = dev->mplane ? planes[p].length : b.length;
			uint32_t off = dev->mplane ? planes[p].m.mem_offset :
				b.m.offset;
			void *map;

			map = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_SHARED, dev->fd, off);
			if (map == MAP_FAILED)
				return fail(-errno, "mmap(%s buffer %u plane %u, %u bytes)",
					    q->name, i, p, len);
			buf->map[p] = map;
			buf->length[p] = len;
			if (!is_output(q))
				buf->bytesused[p] = 0;
			else if (q->sizeimage[p] && q->sizeimage[p] < len)
				buf->bytesused[p] = q->sizeimage[p];
			else
				buf->bytesused[p] = len;
		}
	}
	return 0;
}

int m2m_reqbufs_dmabuf(struct m2m_dev *dev, struct m2m_queue *q,
		       unsigned int count)
{
	unsigned int i, p;
	int ret;

	ret = reqbufs(dev, q, count, V4L2_MEMORY_DMABUF);
	if (ret)
		return ret;
	for (i = 0; i < q->count; i++)
		for (p = 0; p < VIDEO_MAX_PLANES; p++)
			q->bufs[i].fd[p] = -1;
	return 0;
}

int m2m_create_bufs_caps(struct m2m_dev *dev, struct m2m_queue *q,
			 uint32_t memory)
{
	struct v4l2_create_buffers cb;

	memset(&cb, 0, sizeof(cb));
	cb.count = 0;
	cb.memory = memory;
	cb.format.type = q->type;
	if (xioctl(dev->fd, VIDIOC_G_FMT, &cb.format))
		return fail(-errno, "VIDIOC_G_FMT(%s)", q->name);
	if (xioctl(dev->fd, VIDIOC_CREATE_BUFS, &cb))
		return fail(-errno, "VIDIOC_CREATE_BUFS(%s, %s, 0)", q->name,
			    memory == V4L2_MEMORY_DMABUF ? "DMABUF" : "MMAP");
	q->caps = cb.capabilities;
	return 0;
}

int m2m_qbuf(struct m2m_dev *dev, struct m2m_queue *q, unsigned int index)
{
	return m2m_qbuf_request(dev, q, index, -1);
}

int m2m_qbuf_request(struct m2m_dev *dev, struct m2m_queue *q,
		     unsigned int index, int request_fd)
{
	bool dmabuf = q->memory == V4L2_MEMORY_DMABUF;
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;
	unsigned int p;

	if (index >= q->count)
		return fail(-EINVAL, "VIDIOC_QBUF(%s, %u): only %u buffers",
			    q->name, index, q->count);

	init_v4l2_buf(dev, q, &b, planes, index);
	b.field = V4L2_FIELD_NONE;
	if (dev->mplane) {
		b.length = q->num_planes;
		for (p = 0; p < q->num_planes; p++) {
			planes[p].bytesused = q->bufs[index].bytesused[p];
			planes[p].length = q->bufs[index].length[p];
			if (dmabuf)
				planes[p].m.fd = q->bufs[index].fd[p];
		}
	} else {
		b.bytesused = q->bufs[index].bytesused[0];
		b.length = q->bufs[index].length[0];
		if (dmabuf)
			b.m.fd = q->bufs[index].fd[0];
	}
	if (request_fd >= 0) {
		b.flags |= V4L2_BUF_FLAG_REQUEST_FD;
		b.request_fd = request_fd;
	}
	if (xioctl(dev->fd, VIDIOC_QBUF, &b))
		return fail(-errno, "VIDIOC_QBUF(%s, %u%s)", q->name, index,
			    request_fd >= 0 ? ", request" : "");
	return 0;
}

int m2m_dqbuf(struct m2m_dev *dev, struct m2m_queue *q,
	      struct m2m_buf_state *st, int timeout_ms)
{
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000;
	short want = is_output(q) ? POLLOUT : POLLIN;
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	for (;;) {
		uint64_t now;
		int revents;

		init_v4l2_buf(dev, q, &b, planes, 0);
		if (!xioctl(dev->fd, VIDIOC_DQBUF, &b)) {
			fill_state(dev, &b, st);
			return 0;
		}
		if (errno != EAGAIN)
			return fail(-errno, "VIDIOC_DQBUF(%s)", q->name);

		now = now_us();
		if (now >= deadline)
			return fail(-ETIMEDOUT,
				    "VIDIOC_DQBUF(%s): no buffer done within %d ms",
				    q->name, timeout_ms);
		revents = poll_fd(dev->fd, want,
				  (int)((deadline - now + 999) / 1000));
		if (revents < 0)
			return fail(revents, "poll(%s, %s)", dev->path, q->name);
		if ((revents & (POLLERR | POLLNVAL)) && !(revents & want))
			return fail(-EIO,
				    "poll(%s) for a %s buffer: POLLERR (nothing queued or not streaming)",
				    dev->path, q->name);
	}
}

int m2m_querybuf(struct m2m_dev *dev, struct m2m_queue *q, unsigned int index,
		 struct m2m_buf_state *st)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	struct v4l2_buffer b;

	init_v4l2_buf(dev, q, &b, planes, index);
	if (xioctl(dev->fd, VIDIOC_QUERYBUF, &b))
		return fail(-errno, "VIDIOC_QUERYBUF(%s, %u)", q->name, index);
	fill_state(dev, &b, st);
	return 0;
}

int m2m_streamon(struct m2m_dev *dev, struct m2m_queue *q)
{
	int type = q->type;

	if (xioctl(dev->fd, VIDIOC_STREAMON, &type))
		return fail(-errno, "VIDIOC_STREAMON(%s)", q->name);
	q->streaming = true;
	return 0;
}

int m2m_streamoff(struct m2m_dev *dev, struct m2m_queue *q)
{
	int type = q->type;

	if (xioctl(dev->fd, VIDIOC_STREAMOFF, &type))
		return fail(-errno, "VIDIOC_STREAMOFF(%s)", q->name);
	q->streaming = false;
	return 0;
}

int m2m_expbuf(struct m2m_dev *dev, struct m2m_queue *q, unsigned int index,
	       unsigned int plane, int flags)
{
	struct v4l2_exportbuffer e;

	memset(&e, 0, sizeof(e));
	e.type = q->type;
	e.index = index;
	e.plane = plane;
	e.flags = flags;
	if (xioctl(dev->fd, VIDIOC_EXPBUF, &e))
		return fail(-errno, "VIDIOC_EXPBUF(%s, buffer %u, plane %u)",
			    q->name, index, plane);
	return e.fd;
}

int m2m_find_ctrl(int fd, const char *name, struct v4l2_query_ext_ctrl *qc)
{
	uint32_t id = 0;

	for (;;) {
		memset(qc, 0, sizeof(*qc));
		qc->id = id | V4L2_CTRL_FLAG_NEXT_CTRL;
		if (xioctl(fd, VIDIOC_QUERY_EXT_CTRL, qc)) {
			if (errno == EINVAL)
				break;	/* end of the list */
			return fail(-errno, "VIDIOC_QUERY_EXT_CTRL(after 0x%x)",
				    id);
		}
		id = qc->id;
		if (qc->type == V4L2_CTRL_TYPE_CTRL_CLASS ||
		    (qc->flags & V4L2_CTRL_FLAG_DISABLED))
			continue;
		if (!strncmp(qc->name, name, sizeof(qc->name)))
			return 0;
	}
	return fail(-ENOENT, "no control named \"%s\"", name);
}

int m2m_set_ctrl_by_name(int fd, const char *name, int64_t value,
			 int64_t *actual)
{
	struct v4l2_query_ext_ctrl qc;
	struct v4l2_ext_controls cs;
	struct v4l2_ext_control c;
	bool is64;
	int ret;

	ret = m2m_find_ctrl(fd, name, &qc);
	if (ret)
		return ret;

	switch (qc.type) {
	case V4L2_CTRL_TYPE_INTEGER:
	case V4L2_CTRL_TYPE_BOOLEAN:
	case V4L2_CTRL_TYPE_MENU:
	case V4L2_CTRL_TYPE_INTEGER_MENU:
	case V4L2_CTRL_TYPE_BITMASK:
		is64 = false;
		break;
	case V4L2_CTRL_TYPE_INTEGER64:
		is64 = true;
		break;
	default:
		return fail(-EINVAL, "control \"%s\" has non-integer type %u",
			    name, qc.type);
	}
	if (qc.flags & V4L2_CTRL_FLAG_READ_ONLY)
		return fail(-EACCES, "control \"%s\" is read-only", name);

	memset(&c, 0, sizeof(c));
	c.id = qc.id;
	if (is64)
		c.value64 = value;
	else
		c.value = (int32_t)value;
	memset(&cs, 0, sizeof(cs));
	cs.which = V4L2_CTRL_WHICH_CUR_VAL;
	cs.count = 1;
	cs.controls = &c;
	if (xioctl(fd, VIDIOC_S_EXT_CTRLS, &cs))
		return fail(-errno, "VIDIOC_S_EXT_CTRLS(\"%s\" = %lld)", name,
			    (long long)value);

	if (!actual)
		return 0;
	memset(&c, 0, sizeof(c));
	c.id = qc.id;
	cs.count = 1;
	cs.controls = &c;
	if (xioctl(fd, VIDIOC_G_EXT_CTRLS, &cs))
		return fail(-errno, "VIDIOC_G_EXT_CTRLS(\"%s\")", name);
	*actual = is64 ? c.value64 : c.value;
	return 0;
}
