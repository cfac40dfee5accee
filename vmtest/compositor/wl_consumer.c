// SPDX-License-Identifier: GPL-2.0
/*
 * wl_consumer - hand a V4L2 mem2mem CAPTURE dma-buf to a Wayland compositor
 * the moment its job is queued, as a client relying on implicit sync does,
 * and see what the compositor composes.
 *
 * The device is vb2-resv-test, whose job writes OUTPUT ^ key into CAPTURE
 * when it ends: the OUTPUT buffer is filled so that a finished frame is pure
 * green, and the CAPTURE buffer is painted magenta before the job. Two jobs:
 *
 *  1. warm-up: the job runs to completion (DQBUF) before the buffer is
 *     imported and attached: the compositor must show the finished frame,
 *     proof that it displays what the device wrote;
 *  2. the measured one: the buffer is imported, attached and committed
 *     right after the job is queued, and dequeued only once the compositor
 *     has drawn the frame (the frame callback) and the screenshot is taken.
 *
 * After each frame the command given with -s runs (a screenshot), with
 * WL_SHOT=warmup or WL_SHOT=job in its environment. What the screenshot
 * holds is the verdict (green: the compositor waited for the frame;
 * magenta: it read it too early); this program prints the times.
 *
 * With -x the measured frame also carries an acquire fence
 * (zwp_linux_explicit_synchronization_v1): the sync_file that
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE gives for reading the CAPTURE dma-buf,
 * that is the producer fence if the queue published one, as a client
 * that speaks explicit sync hands the compositor a buffer's implicit fence.
 *
 * Exit 0 when both jobs ran, 1 on errors, 4 when there is no device.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>
#include <wayland-client.h>

#include "kselftest.h"
#include "m2m_util.h"
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-explicit-synchronization-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define WIDTH		64
#define HEIGHT		64
#define STRIDE		(WIDTH * 4)
#define DRM_XRGB8888	0x34325258	/* fourcc_code('X', 'R', '2', '4') */
#define TRANS_TIME_CTRL	"Transaction Time (msec)"

/* Little-endian XRGB8888 pixels: bytes B, G, R, X. */
static const uint8_t stale_px[4] = { 0xff, 0x00, 0xff, 0xff };	/* magenta */
static const uint8_t done_px[4] = { 0x00, 0xc0, 0x00, 0xff };	/* green */

struct client {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct xdg_wm_base *wm_base;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	struct zwp_linux_explicit_synchronization_v1 *explicit_sync;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	bool configured;
	bool frame_done;
	bool buffer_failed;
};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "wl_consumer: %s: %s\n", what, why);
	return KSFT_FAIL;
}

static void wm_base_ping(void *data, struct xdg_wm_base *wm, uint32_t serial)
{
	xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = wm_base_ping,
};

static void registry_global(void *data, struct wl_registry *reg, uint32_t name,
			    const char *iface, uint32_t version)
{
	struct client *c = data;

	if (!strcmp(iface, wl_compositor_interface.name)) {
		c->compositor = wl_registry_bind(reg, name,
						 &wl_compositor_interface, 1);
	} else if (!strcmp(iface, xdg_wm_base_interface.name)) {
		c->wm_base = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(c->wm_base, &wm_base_listener, c);
	} else if (!strcmp(iface, zwp_linux_dmabuf_v1_interface.name) &&
		   version >= 3) {
		c->dmabuf = wl_registry_bind(reg, name,
					     &zwp_linux_dmabuf_v1_interface, 3);
	} else if (!strcmp(iface,
			   zwp_linux_explicit_synchronization_v1_interface.name)) {
		c->explicit_sync = wl_registry_bind(reg, name,
			&zwp_linux_explicit_synchronization_v1_interface, 1);
	}
}

static void registry_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_remove,
};

static void xdg_surface_configure(void *data, struct xdg_surface *s,
				  uint32_t serial)
{
	struct client *c = data;

	xdg_surface_ack_configure(s, serial);
	c->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_configure,
};

static void toplevel_configure(void *data, struct xdg_toplevel *t, int32_t w,
			       int32_t h, struct wl_array *states)
{
}

static void toplevel_close(void *data, struct xdg_toplevel *t)
{
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void frame_done(void *data, struct wl_callback *cb, uint32_t time)
{
	struct client *c = data;

	c->frame_done = true;
	wl_callback_destroy(cb);
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_done,
};

static void params_created(void *data, struct zwp_linux_buffer_params_v1 *p,
			   struct wl_buffer *buffer)
{
}

static void params_failed(void *data, struct zwp_linux_buffer_params_v1 *p)
{
	struct client *c = data;

	c->buffer_failed = true;
}

static const struct zwp_linux_buffer_params_v1_listener params_listener = {
	.created = params_created,
	.failed = params_failed,
};

static int connect_client(struct client *c)
{
	struct wl_registry *reg;

	c->display = wl_display_connect(NULL);
	if (!c->display)
		return fail("wl_display_connect", strerror(errno));
	reg = wl_display_get_registry(c->display);
	wl_registry_add_listener(reg, &registry_listener, c);
	if (wl_display_roundtrip(c->display) < 0)
		return fail("wl_display_roundtrip", strerror(errno));
	if (!c->compositor || !c->wm_base)
		return fail("compositor", "no wl_compositor or xdg_wm_base");
	if (!c->dmabuf)
		return fail("compositor",
			    "no zwp_linux_dmabuf_v1 version 3: it imports no dma-bufs");

	c->surface = wl_compositor_create_surface(c->compositor);
	c->xdg_surface = xdg_wm_base_get_xdg_surface(c->wm_base, c->surface);
	xdg_surface_add_listener(c->xdg_surface, &xdg_surface_listener, c);
	c->toplevel = xdg_surface_get_toplevel(c->xdg_surface);
	xdg_toplevel_add_listener(c->toplevel, &toplevel_listener, c);
	xdg_toplevel_set_title(c->toplevel, "wl_consumer");
	wl_surface_commit(c->surface);
	while (!c->configured)
		if (wl_display_dispatch(c->display) < 0)
			return fail("waiting for configure", strerror(errno));
	return 0;
}

/* The compositor's handle on a CAPTURE dma-buf, as XRGB8888 64x64. */
static struct wl_buffer *import_dmabuf(struct client *c, int fd)
{
	struct zwp_linux_buffer_params_v1 *params;
	struct wl_buffer *buf;

	params = zwp_linux_dmabuf_v1_create_params(c->dmabuf);
	zwp_linux_buffer_params_v1_add_listener(params, &params_listener, c);
	zwp_linux_buffer_params_v1_add(params, fd, 0, 0, STRIDE, 0, 0);
	buf = zwp_linux_buffer_params_v1_create_immed(params, WIDTH, HEIGHT,
						      DRM_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	if (wl_display_roundtrip(c->display) < 0 || c->buffer_failed) {
		fail("zwp_linux_buffer_params_v1.create_immed",
		     "the compositor did not import the dma-buf");
		return NULL;
	}
	return buf;
}

/*
 * Attach, commit with the acquire fence @sync_fd (-1: none) and wait until
 * the compositor has drawn the frame; then run the screenshot command.
 */
static int show(struct client *c, struct wl_buffer *buf,
		struct zwp_linux_surface_synchronization_v1 *sync, int sync_fd,
		const char *snap, const char *shot)
{
	struct wl_callback *cb;
	int ret;

	c->frame_done = false;
	cb = wl_surface_frame(c->surface);
	wl_callback_add_listener(cb, &frame_listener, c);
	wl_surface_attach(c->surface, buf, 0, 0);
	wl_surface_damage(c->surface, 0, 0, WIDTH, HEIGHT);
	if (sync_fd >= 0)
		zwp_linux_surface_synchronization_v1_set_acquire_fence(sync,
								       sync_fd);
	wl_surface_commit(c->surface);
	while (!c->frame_done)
		if (wl_display_dispatch(c->display) < 0)
			return fail("waiting for the frame callback",
				    strerror(errno));
	if (!snap)
		return 0;
	if (setenv("WL_SHOT", shot, 1))
		return fail("setenv", strerror(errno));
	ret = system(snap);
	if (ret)
		fprintf(stderr, "wl_consumer: \"%s\" exited with %d\n", snap, ret);
	return 0;
}

static void fill_px(uint8_t *p, size_t len, const uint8_t px[4])
{
	size_t i;

	for (i = 0; i + 4 <= len; i += 4)
		memcpy(p + i, px, 4);
}

/* Paint the CAPTURE dma-buf @fd magenta through its mmap, as a CPU does. */
static int paint_stale(int fd, size_t len)
{
	uint8_t *map = dmabuf_mmap(fd, len, PROT_READ | PROT_WRITE);

	if (!map)
		return -1;
	if (dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE))
		return -1;
	fill_px(map, len, stale_px);
	if (dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE))
		return -1;
	munmap(map, len);
	return 0;
}

int main(int argc, char **argv)
{
	struct zwp_linux_surface_synchronization_v1 *sync = NULL;
	const char *snap = NULL;
	bool explicit = false;
	int sync_fd = -1;
	struct m2m_buf_state st;
	struct wl_buffer *wb[2];
	struct client c = { 0 };
	uint64_t t0, t_frame;
	struct m2m_queue *cap, *out;
	long job_ms = 2000;
	int fd[2] = { -1, -1 };
	struct m2m_dev dev;
	uint8_t key_px[4];
	int64_t got_ms;
	int opt, i, ret;
	size_t len;

	while ((opt = getopt(argc, argv, "t:s:x")) != -1) {
		switch (opt) {
		case 't':
			job_ms = strtol(optarg, NULL, 10);
			break;
		case 's':
			snap = optarg;
			break;
		case 'x':
			explicit = true;
			break;
		default:
			fprintf(stderr, "usage: wl_consumer [-t job_ms] [-s snapshot-command] [-x]\n");
			return KSFT_FAIL;
		}
	}

	ret = m2m_open(&dev, "vb2-resv-test");
	if (ret == -ENOENT) {
		printf("wl_consumer: no vb2-resv-test device: modprobe vb2-resv-test\n");
		return KSFT_SKIP;
	}
	if (ret)
		return fail("open", m2m_strerror());
	cap = &dev.cap;
	out = &dev.out;
	if (m2m_set_ctrl_by_name(dev.fd, TRANS_TIME_CTRL, job_ms, &got_ms) ||
	    m2m_set_formats(&dev, V4L2_PIX_FMT_XRGB32, V4L2_PIX_FMT_XRGB32,
			    WIDTH, HEIGHT) ||
	    m2m_reqbufs(&dev, out, 1) || m2m_reqbufs(&dev, cap, 2))
		return fail("setup", m2m_strerror());
	len = cap->bufs[0].length[0];
	if (len < (size_t)STRIDE * HEIGHT)
		return fail("setup", "CAPTURE buffer smaller than 64x64 XRGB8888");

	/* The job writes OUTPUT ^ key, key = sequence + 1 (1, then 2). */
	if (connect_client(&c))
		return KSFT_FAIL;
	if (explicit && !c.explicit_sync)
		return fail("compositor", "no zwp_linux_explicit_synchronization_v1");
	if (explicit)
		sync = zwp_linux_explicit_synchronization_v1_get_synchronization(
			c.explicit_sync, c.surface);
	for (i = 0; i < 2; i++) {
		fd[i] = m2m_expbuf(&dev, cap, i, 0, O_RDWR | O_CLOEXEC);
		if (fd[i] < 0 || paint_stale(fd[i], len))
			return fail("CAPTURE dma-buf", m2m_strerror());
	}

	/* 1. Warm-up: the frame is finished before the compositor sees it. */
	for (i = 0; i < 4; i++)
		key_px[i] = done_px[i] ^ 1;
	fill_px(out->bufs[0].map[0], out->bufs[0].length[0], key_px);
	if (m2m_qbuf(&dev, cap, 0) || m2m_qbuf(&dev, out, 0) ||
	    m2m_streamon(&dev, out) || m2m_streamon(&dev, cap) ||
	    m2m_dqbuf(&dev, cap, &st, job_ms * 4 + 5000) ||
	    m2m_dqbuf(&dev, out, &st, 1000))
		return fail("warm-up job", m2m_strerror());
	if (st.flags & V4L2_BUF_FLAG_ERROR)
		return fail("warm-up job", "failed (V4L2_BUF_FLAG_ERROR): is the job longer than the watchdog?");
	wb[0] = import_dmabuf(&c, fd[0]);
	if (!wb[0] || show(&c, wb[0], NULL, -1, snap, "warmup"))
		return KSFT_FAIL;
	printf("wl_consumer: warm-up frame drawn (job finished before attach)\n");

	/* 2. Attach at once; the fence, if any, says when it is ready. */
	for (i = 0; i < 4; i++)
		key_px[i] = done_px[i] ^ 2;
	fill_px(out->bufs[0].map[0], out->bufs[0].length[0], key_px);
	if (m2m_qbuf(&dev, cap, 1) || m2m_qbuf(&dev, out, 0))
		return fail("job", m2m_strerror());
	t0 = now_us();
	if (explicit) {
		sync_fd = dmabuf_export_sync_file(fd[1], DMA_BUF_SYNC_READ);
		if (sync_fd < 0)
			return fail("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", m2m_strerror());
	}
	wb[1] = import_dmabuf(&c, fd[1]);
	if (!wb[1] || show(&c, wb[1], sync, sync_fd, NULL, NULL))
		return KSFT_FAIL;
	t_frame = now_us();
	if (sync_fd >= 0)
		close(sync_fd);
	if (snap) {
		if (setenv("WL_SHOT", "job", 1))
			return fail("setenv", strerror(errno));
		ret = system(snap);
		if (ret)
			fprintf(stderr, "wl_consumer: \"%s\" exited with %d\n",
				snap, ret);
	}
	if (m2m_dqbuf(&dev, cap, &st, job_ms * 4 + 5000))
		return fail("job", m2m_strerror());
	if (st.flags & V4L2_BUF_FLAG_ERROR)
		return fail("job", "failed (V4L2_BUF_FLAG_ERROR): is the job longer than the watchdog?");
	printf("wl_consumer: %s; frame drawn %.1f ms into a %lld ms job%s\n",
	       explicit ? "acquire fence from EXPORT_SYNC_FILE" : "implicit sync",
	       (t_frame - t0) / 1000.0, (long long)got_ms,
	       (t_frame - t0) / 1000 < (uint64_t)got_ms / 2 ?
	       " (long before it ended)" : "");

	if (sync)
		zwp_linux_surface_synchronization_v1_destroy(sync);
	m2m_streamoff(&dev, cap);
	m2m_streamoff(&dev, out);
	for (i = 0; i < 2; i++) {
		wl_buffer_destroy(wb[i]);
		close(fd[i]);
	}
	wl_display_disconnect(c.display);
	m2m_close(&dev);
	return 0;
}
