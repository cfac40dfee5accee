// SPDX-License-Identifier: GPL-2.0
/*
 * fence_stress's operations on contexts and buffers, valid and invalid:
 * open and close, S_FMT, REQBUFS, CREATE_BUFS, REMOVE_BUFS, QBUF, DQBUF,
 * STREAMON, STREAMOFF, the test module's job controls, EXPBUF; the
 * destructive ones (the kill switch, unbind and bind, rmmod and modprobe);
 * and ops[], every operation with its weight. Each keeps its thread's
 * picture of its contexts and buffers (struct ctx, struct slot) as the
 * oracle needs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "fence_stress.h"

int ci(struct thr *t, struct ctx *c)
{
	return c - t->ctx;
}

struct m2m_queue *queue_of(struct ctx *c, bool cap)
{
	return cap ? &c->dev.cap : &c->dev.out;
}

struct slot *slots_of(struct ctx *c, bool cap)
{
	return cap ? c->cap : c->out;
}

const char *qname(bool cap)
{
	return cap ? "CAPTURE" : "OUTPUT";
}

struct ctx *pick_ctx(struct thr *t)
{
	unsigned int i, k = rn(t, MAX_CTX);

	for (i = 0; i < MAX_CTX; i++)
		if (t->ctx[(k + i) % MAX_CTX].dev.fd >= 0)
			return &t->ctx[(k + i) % MAX_CTX];
	return NULL;
}

/* A buffer of the queue that exists and is @queued or not, at random, or -1. */
int pick_slot(struct thr *t, struct ctx *c, bool cap, bool queued)
{
	unsigned int i, n = queue_of(c, cap)->count, k = rn(t, M2M_MAX_BUFS);
	struct slot *s = slots_of(c, cap);

	for (i = 0; i < n; i++)
		if (s[(k + i) % n].exists && s[(k + i) % n].queued == queued)
			return (k + i) % n;
	return -1;
}

bool is_private(struct ctx *c, struct slot *s)
{
	return c->dev.cap.memory == V4L2_MEMORY_MMAP && !c->tainted && !s->shared;
}

int pick_result(struct thr *t, unsigned int done, unsigned int error)
{
	unsigned int r = rn(t, 100);

	return r < done ? DONE : r < done + error ? ERROR : HANG;
}

/* Contexts and buffers */

void ctx_close(struct thr *t, struct ctx *c)
{
	if (c->dev.fd < 0)
		return;
	note(t, "close c%d (%s)", ci(t, c), c->dev.path);
	m2m_close(&c->dev);
}

/* Buffers [@from, @to) of @c's queue have new memory (or none: @exists). */
static void renew_slots(struct ctx *c, bool cap, unsigned int from, unsigned int to,
			bool exists)
{
	struct slot *s = slots_of(c, cap);
	unsigned int i, epoch;

	for (i = from; i < to && i < M2M_MAX_BUFS; i++) {
		epoch = s[i].epoch + 1;
		memset(&s[i], 0, sizeof(s[i]));
		s[i].epoch = epoch;
		s[i].exists = exists;
	}
}

/*
 * Whether every OUTPUT buffer a job of @c can read holds the pattern, from
 * now on. When that becomes true again (REQBUFS, STREAMOFF of OUTPUT), a
 * CAPTURE buffer still queued may already hold the frame of a job that read
 * one that did not: the job may be done and its buffer only not dequeued
 * yet. Its frame is not checked at its DQBUF, whatever out_std is then.
 */
static void set_out_std(struct ctx *c, bool std)
{
	unsigned int i;

	if (std && !c->out_std)
		for (i = 0; i < M2M_MAX_BUFS; i++)
			c->cap[i].old_src |= c->cap[i].queued;
	c->out_std = std;
}

static int reqbufs_q(struct thr *t, struct ctx *c, bool cap, unsigned int count, uint32_t memory)
{
	struct m2m_queue *q = queue_of(c, cap);
	unsigned int i, p;
	int ret;

	ret = memory == V4L2_MEMORY_MMAP ? m2m_reqbufs(&c->dev, q, count) :
		m2m_reqbufs_dmabuf(&c->dev, q, count);
	note(t, "reqbufs c%d %s %u %s: %s, %u buffer(s)", ci(t, c), qname(cap), count,
	     memory == V4L2_MEMORY_MMAP ? "MMAP" : "DMABUF", err_str(ret), q->count);
	/* The helper unmaps first: after a failure the kernel may still have buffers. */
	renew_slots(c, cap, 0, M2M_MAX_BUFS, false);
	if (ret) {
		c->tainted |= cap;
		c->out_dirty |= !cap;
		c->out_std &= cap;
		return ret;
	}
	renew_slots(c, cap, 0, q->count, true);
	q->streaming = false;
	if (cap)
		return 0;
	c->out_dirty = false;
	set_out_std(c, memory == V4L2_MEMORY_MMAP);
	for (i = 0; i < q->count; i++)
		for (p = 0; p < VIDEO_MAX_PLANES; p++)
			if (q->bufs[i].map[p])
				fill_pattern(q->bufs[i].map[p], q->bufs[i].length[p], c->pattern);
	return 0;
}

static const uint32_t fourccs[] = {
	V4L2_PIX_FMT_GREY, V4L2_PIX_FMT_GREY, V4L2_PIX_FMT_NV12M, V4L2_PIX_FMT_NV12M,
	V4L2_PIX_FMT_XRGB32, v4l2_fourcc('N', 'O', 'P', 'E'),
};

static void op_s_fmt(struct thr *t, struct ctx *c)
{
	uint32_t src_len = c->dev.out.sizeimage[0];
	uint32_t of = fourccs[rn(t, ARRAY_SIZE(fourccs))];
	uint32_t cf = fourccs[rn(t, ARRAY_SIZE(fourccs))];
	uint32_t w = chance(t, 5) ? 100000 : 16 + rn(t, FRAME_MAX - 15);
	uint32_t h = 16 + rn(t, FRAME_MAX - 15);
	bool cap_first = chance(t, 30);
	char a[8], b[8];
	unsigned int i;
	int ret;

	ret = cap_first ? m2m_set_encoder_formats(&c->dev, of, cf, w, h) :
		m2m_set_formats(&c->dev, of, cf, w, h);
	note(t, "s_fmt c%d %s first, OUTPUT %s CAPTURE %s %ux%u: %s, CAPTURE %u plane(s)",
	     ci(t, c), qname(cap_first), m2m_fourcc_str(of, a), m2m_fourcc_str(cf, b), w, h,
	     err_str(ret), c->dev.cap.num_planes);
	/*
	 * OUTPUT has no buffers, or its format could not change. A CAPTURE
	 * buffer still queued may hold a frame made from the old size, or
	 * get one from the new: the oracle cannot tell which.
	 */
	if (c->dev.out.sizeimage[0] != src_len)
		for (i = 0; i < M2M_MAX_BUFS; i++)
			c->cap[i].old_src |= c->cap[i].queued;
}

static void set_ctrls(struct thr *t, struct ctx *c, int ms, int result)
{
	int ret = m2m_set_ctrl_by_name(c->dev.fd, TRANS_TIME_CTRL, ms, NULL);

	note(t, "ctrl c%d job time %d ms: %s", ci(t, c), ms, err_str(ret));
	if (result < 0 || !cfg.is_test_dev)
		return;
	ret = m2m_set_ctrl_by_name(c->dev.fd, JOB_RESULT_CTRL, result, NULL);
	note(t, "ctrl c%d job result %s: %s", ci(t, c),
	     result == DONE ? "Done" : result == ERROR ? "Error" : "Hang", err_str(ret));
}

static void op_open(struct thr *t, struct ctx *c)
{
	unsigned int i;
	int ret;

	for (i = 0, c = NULL; i < MAX_CTX && !c; i++)
		if (t->ctx[i].dev.fd < 0)
			c = &t->ctx[i];
	if (!c) {
		c = &t->ctx[rn(t, MAX_CTX)];
		ctx_close(t, c);
	}
	ret = m2m_open_card(&c->dev, cfg.driver, NULL);
	note(t, "open c%d: %s %s", ci(t, c), err_str(ret), ret ? "" : c->dev.path);
	if (ret)
		return;
	c->serial = ++t->serial;
	c->pattern = rn(t, 1000);
	c->tainted = false;
	c->out_dirty = false;
	c->out_std = false;
	renew_slots(c, false, 0, M2M_MAX_BUFS, false);
	renew_slots(c, true, 0, M2M_MAX_BUFS, false);
	set_ctrls(t, c, rn(t, 51), pick_result(t, 85, 12));
	op_s_fmt(t, c);
	reqbufs_q(t, c, false, 1 + rn(t, 4), V4L2_MEMORY_MMAP);
	reqbufs_q(t, c, true, 1 + rn(t, 4), chance(t, 75) ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF);
}

static void op_close(struct thr *t, struct ctx *c)
{
	ctx_close(t, c);
}

static void op_reqbufs(struct thr *t, struct ctx *c)
{
	reqbufs_q(t, c, chance(t, 50), rn(t, 5),
		  chance(t, 75) ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF);
}

/*
 * CREATE_BUFS of 0 to 2 buffers, sometimes of the other memory type or too
 * small. New MMAP buffers are not mapped: no frame is compared in them, and
 * their OUTPUT ones do not hold the pattern.
 */
static void op_create_bufs(struct thr *t, struct ctx *c)
{
	bool cap = chance(t, 60), small = chance(t, 10);
	struct m2m_queue *q = queue_of(c, cap);
	struct v4l2_create_buffers cb;
	unsigned int i, p;
	int ret;

	memset(&cb, 0, sizeof(cb));
	cb.count = rn(t, 3);
	cb.memory = q->memory ? q->memory : V4L2_MEMORY_MMAP;
	if (chance(t, 15))
		cb.memory = cb.memory == V4L2_MEMORY_MMAP ? V4L2_MEMORY_DMABUF : V4L2_MEMORY_MMAP;
	cb.format.type = q->type;
	ret = ioctl(c->dev.fd, VIDIOC_G_FMT, &cb.format) ? -errno : 0;
	if (!ret && small && c->dev.mplane)
		cb.format.fmt.pix_mp.plane_fmt[0].sizeimage = 1;
	else if (!ret && small)
		cb.format.fmt.pix.sizeimage = 1;
	if (!ret)
		ret = ioctl(c->dev.fd, VIDIOC_CREATE_BUFS, &cb) ? -errno : 0;
	note(t, "create_bufs c%d %s %s%s: %s, index %u count %u", ci(t, c), qname(cap),
	     cb.memory == V4L2_MEMORY_MMAP ? "MMAP" : "DMABUF", small ? " too small" : "",
	     err_str(ret), cb.index, cb.count);
	if (ret || !cb.count)
		return;
	q->memory = cb.memory;
	renew_slots(c, cap, cb.index, cb.index + cb.count, true);
	for (i = cb.index; i < cb.index + cb.count && i < M2M_MAX_BUFS; i++) {
		for (p = 0; p < VIDEO_MAX_PLANES; p++) {
			q->bufs[i].fd[p] = -1;
			q->bufs[i].bytesused[p] = cap ? 0 : q->sizeimage[p];
		}
		if (q->count < i + 1)
			q->count = i + 1;
	}
	c->out_dirty |= !cap;
	c->out_std &= cap;
}

static void op_remove_bufs(struct thr *t, struct ctx *c)
{
#ifdef VIDIOC_REMOVE_BUFS
	bool cap = chance(t, 50);
	struct m2m_queue *q = queue_of(c, cap);
	struct v4l2_remove_buffers rb;
	unsigned int i, p;
	int ret;

	memset(&rb, 0, sizeof(rb));
	rb.type = q->type;
	rb.index = rn(t, q->count + 2);
	rb.count = rn(t, 3);
	ret = ioctl(c->dev.fd, VIDIOC_REMOVE_BUFS, &rb) ? -errno : 0;
	note(t, "remove_bufs c%d %s index %u count %u: %s", ci(t, c), qname(cap), rb.index,
	     rb.count, err_str(ret));
	if (ret)
		return;
	renew_slots(c, cap, rb.index, rb.index + rb.count, false);
	for (i = rb.index; i < rb.index + rb.count && i < M2M_MAX_BUFS; i++)
		for (p = 0; p < VIDEO_MAX_PLANES; p++) {
			if (q->bufs[i].map[p])
				munmap(q->bufs[i].map[p], q->bufs[i].length[p]);
			q->bufs[i].map[p] = NULL;
		}
#else
	note(t, "remove_bufs c%d: no VIDIOC_REMOVE_BUFS in these headers", ci(t, c));
#endif
}

static int do_qbuf(struct thr *t, struct ctx *c, bool cap, unsigned int idx)
{
	struct m2m_queue *q = queue_of(c, cap);
	struct slot *s = &slots_of(c, cap)[idx];
	char fds[48] = "";
	unsigned int p;
	int ret;

	for (p = 0; q->memory == V4L2_MEMORY_DMABUF && p < q->num_planes; p++) {
		struct obj *o = chance(t, 50) ? pick_obj(t, 0) : NULL;

		if (!o)
			o = alloc_dmabuf(t, q->sizeimage[p], cap ? -1 : (int)c->pattern);
		if (o) {
			share(t, o);	/* another buffer's memory, maybe */
			o->held = true;	/* until the QBUF: see obj_add() */
		}
		q->bufs[idx].fd[p] = o ? o->fd : -1;
		q->bufs[idx].length[p] = 0;
		q->bufs[idx].bytesused[p] = cap ? 0 : q->sizeimage[p];
		snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), " %d", q->bufs[idx].fd[p]);
		c->out_std &= cap;
	}
	if (cap && s->dirty && is_private(c, s) && !slot_pending_vb2(t, c, idx))
		s->dirty = false;
	ret = m2m_qbuf(&c->dev, q, idx);
	note(t, "qbuf c%d %s %u%s%s: %s", ci(t, c), qname(cap), idx, fds[0] ? ", fds" : "", fds,
	     err_str(ret));
	for (p = 0; p < MAX_OBJS; p++)
		t->obj[p].held = false;
	if (!ret) {
		s->queued = true;
		/* A job may read an OUTPUT buffer without the pattern: see set_out_std() */
		s->old_src = cap && !c->out_std;
		s->gen++;
	}
	return ret;
}

static void op_qbuf(struct thr *t, struct ctx *c)
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES];
	bool cap = chance(t, 55);
	struct m2m_queue *q = queue_of(c, cap);
	int idx = chance(t, 85) ? pick_slot(t, c, cap, false) : -1, ret;
	struct v4l2_buffer b;

	if (idx >= 0) {
		do_qbuf(t, c, cap, idx);
		return;
	}
	/* A bad index, a buffer already queued, or a bad memory type. */
	memset(&b, 0, sizeof(b));
	memset(planes, 0, sizeof(planes));
	b.type = q->type;
	b.memory = chance(t, 80) ? q->memory : V4L2_MEMORY_USERPTR;
	b.index = rn(t, M2M_MAX_BUFS + 4);
	if (c->dev.mplane) {
		b.m.planes = planes;
		b.length = VIDEO_MAX_PLANES;
	}
	ret = ioctl(c->dev.fd, VIDIOC_QBUF, &b) ? -errno : 0;
	note(t, "qbuf c%d %s %u memory %u (invalid): %s", ci(t, c), qname(cap), b.index, b.memory,
	     err_str(ret));
	if (!ret) {
		/* The kernel knew better than the bookkeeping. */
		c->tainted |= cap;
		c->out_dirty |= !cap;
		c->out_std &= cap;
	}
}

static void op_dqbuf(struct thr *t, struct ctx *c)
{
	bool cap = chance(t, 60);
	int ms = chance(t, 75) ? rn(t, 10) : rn(t, 40), ret;
	struct m2m_buf_state st;

	ret = m2m_dqbuf(&c->dev, queue_of(c, cap), &st, ms);
	if (ret) {
		note(t, "dqbuf c%d %s (%d ms): %s", ci(t, c), qname(cap), ms, err_str(ret));
		return;
	}
	note(t, "dqbuf c%d %s: index %u flags 0x%x sequence %u", ci(t, c), qname(cap),
	     st.index, st.flags, st.sequence);
	if (st.index >= M2M_MAX_BUFS || !slots_of(c, cap)[st.index].exists)
		return;
	if (cap)
		dqbuf_checks(t, c, &st);
	slots_of(c, cap)[st.index].queued = false;
}

static void stream_on(struct thr *t, struct ctx *c, bool cap)
{
	int ret = m2m_streamon(&c->dev, queue_of(c, cap));

	note(t, "streamon c%d %s: %s", ci(t, c), qname(cap), err_str(ret));
}

static void op_streamon(struct thr *t, struct ctx *c)
{
	stream_on(t, c, chance(t, 50));
}

static void op_streamoff(struct thr *t, struct ctx *c)
{
	bool cap = chance(t, 50);
	struct slot *s = slots_of(c, cap);
	unsigned int i;
	int ret;

	ret = m2m_streamoff(&c->dev, queue_of(c, cap));
	note(t, "streamoff c%d %s: %s", ci(t, c), qname(cap), err_str(ret));
	if (ret)
		return;
	/* Every buffer is back; the fence of a cancelled job may signal later. */
	for (i = 0; i < M2M_MAX_BUFS; i++) {
		s[i].dirty |= cap && s[i].queued;
		s[i].queued = false;
	}
	if (!cap)
		set_out_std(c, c->dev.out.memory == V4L2_MEMORY_MMAP && !c->out_dirty);
}

/* A valid job, queued the way a player does; its fence is caught at times. */
static void op_job(struct thr *t, struct ctx *c)
{
	struct obj *o;
	int k, i, fd;

	if (!c->dev.out.count)
		reqbufs_q(t, c, false, 2, V4L2_MEMORY_MMAP);
	if (!c->dev.cap.count)
		reqbufs_q(t, c, true, 2, chance(t, 80) ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF);
	k = pick_slot(t, c, true, false);
	i = pick_slot(t, c, false, false);
	if (k >= 0 && do_qbuf(t, c, true, k))
		k = -1;
	if (i >= 0)
		do_qbuf(t, c, false, i);
	if (!c->dev.out.streaming)
		stream_on(t, c, false);
	if (!c->dev.cap.streaming)
		stream_on(t, c, true);
	if (k < 0 || c->dev.cap.memory != V4L2_MEMORY_MMAP || chance(t, 40))
		return;
	o = slot_obj(t, c, k);
	if (!o) {
		fd = m2m_expbuf(&c->dev, &c->dev.cap, k, 0, O_RDWR | O_CLOEXEC);
		note(t, "expbuf c%d CAPTURE %u: %d", ci(t, c), k, fd);
		if (fd < 0)
			return;
		o = obj_add(t, fd, false);
		obj_link(t, o, c, true, k);
	}
	watch_export(t, o, DMA_BUF_SYNC_READ);
}

static void op_ctrl(struct thr *t, struct ctx *c)
{
	int ms = chance(t, 10) ? 20000 : (int)rn(t, 51);

	/* A hung job holds every context up for watchdog_ms: few of them. */
	set_ctrls(t, c, ms, chance(t, 40) ? -1 : pick_result(t, 60, 32));
}

static void op_expbuf(struct thr *t, struct ctx *c)
{
	static const int flags[] = {
		O_RDWR | O_CLOEXEC, O_RDONLY | O_CLOEXEC, O_WRONLY | O_CLOEXEC, O_RDWR, 0x7fff0000,
	};
	bool cap = chance(t, 80);
	struct m2m_queue *q = queue_of(c, cap);
	unsigned int idx = chance(t, 90) ? rn(t, q->count ? q->count : 1) : rn(t, 40);
	unsigned int plane = chance(t, 90) ? rn(t, q->num_planes ? q->num_planes : 1) : 8;
	int f = flags[chance(t, 90) ? rn(t, 4) : 4];
	int fd = m2m_expbuf(&c->dev, q, idx, plane, f);

	note(t, "expbuf c%d %s %u plane %u flags 0x%x: %d", ci(t, c), qname(cap), idx, plane, f,
	     fd);
	if (fd >= 0)
		obj_link(t, obj_add(t, fd, false), c, cap, idx);
}

/* Destructive operations: thread 0 of process 0, with --destructive only */

static void op_kill_switch(struct thr *t, struct ctx *c __always_unused)
{
	int on = kill_switch_get(), ret;

	if (on < 0) {
		note(t, "kill switch: %s", strerror(-on));
		return;
	}
	ret = kill_switch_set(!on);
	note(t, "kill switch %s -> %s: %s", on ? "Y" : "N", on ? "N" : "Y", err_str(ret));
}

bool bound_to_driver(void)
{
	char link[160];

	snprintf(link, sizeof(link), PDRV_DIR "/%s", cfg.devname);
	return !access(link, F_OK);
}

static void op_unbind(struct thr *t, struct ctx *c __always_unused)
{
	unsigned int ms = rn(t, 300);
	int ret;

	if (!cfg.devname[0]) {
		note(t, "unbind: no %s platform device", DEFAULT_DRIVER);
		return;
	}
	ret = write_file(PDRV_DIR "/unbind", cfg.devname);
	note(t, "unbind %s: %s; bind again in %u ms", cfg.devname, err_str(ret), ms);
	usleep(ms * 1000);
	ret = write_file(PDRV_DIR "/bind", cfg.devname);
	note(t, "bind %s: %s", cfg.devname, err_str(ret));
	if (!bound_to_driver())
		failure(t, "cannot bind %s again (%s): no device for the rest of the run",
			cfg.devname, err_str(ret));
}

/* While thread 0 of process 0 unloads the module: no context, every fd kept. */
void park(struct thr *t)
{
	unsigned int i;

	note(t, "parked for rmmod: every context closed, every fd kept");
	for (i = 0; i < MAX_CTX; i++)
		ctx_close(t, &t->ctx[i]);
	__atomic_add_fetch(&sh->parked, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&sh->quiesce, __ATOMIC_SEQ_CST) && !stopping()) {
		tl_expire(t);
		check_watched(t, false);
		usleep(2000);
	}
	__atomic_sub_fetch(&sh->parked, 1, __ATOMIC_SEQ_CST);
	note(t, "resumed after rmmod");
}

static void op_rmmod(struct thr *t, struct ctx *c __always_unused)
{
	unsigned int others = cfg.procs * cfg.threads - 1, i, held = 0;
	uint64_t deadline = now_us() + QUIESCE_MS * 1000ULL;
	bool quiet = false;
	char cmd[240];
	int ret;

	if (!cfg.modprobed) {
		note(t, "rmmod: %s was not loaded by modprobe: skipped", DEFAULT_DRIVER);
		return;
	}
	__atomic_store_n(&sh->quiesce, 1, __ATOMIC_SEQ_CST);
	while (!quiet && now_us() < deadline && !stopping()) {
		quiet = (unsigned int)(__atomic_load_n(&sh->parked, __ATOMIC_SEQ_CST) +
				       __atomic_load_n(&sh->finished, __ATOMIC_SEQ_CST)) >= others;
		tl_expire(t);
		usleep(2000);
	}
	if (!quiet) {
		note(t, "rmmod: the other threads did not close their contexts in time");
		goto out;
	}
	for (i = 0; i < MAX_CTX; i++)
		ctx_close(t, &t->ctx[i]);
	for (i = 0; i < MAX_OBJS; i++)
		held += t->obj[i].fd >= 0;
	ret = system("rmmod " MOD_NAME " 2>/dev/null");
	note(t, "rmmod %s, holding %u dma-buf and sync_file fds: %s", MOD_NAME, held,
	     ret ? "refused" : "ok");
	if (ret)
		goto out;
	snprintf(cmd, sizeof(cmd), "modprobe %s %s", DEFAULT_DRIVER, cfg.modargs);
	ret = system(cmd);
	note(t, "%s: %s", cmd, ret ? "failed" : "ok");
	if (ret)
		failure(t, "%s failed: no device for the rest of the run", cmd);
out:
	__atomic_store_n(&sh->quiesce, 0, __ATOMIC_SEQ_CST);
}

/* Name, function, relative weight, whether it needs a context (else: open one). */
const struct stress_op ops[NR_OPS] = {
	[OP_OPEN] = { "open", op_open, 30, false },
	[OP_CLOSE] = { "close", op_close, 8, true },
	[OP_S_FMT] = { "s_fmt", op_s_fmt, 15, true },
	[OP_REQBUFS] = { "reqbufs", op_reqbufs, 20, true },
	[OP_CREATE_BUFS] = { "create_bufs", op_create_bufs, 10, true },
	[OP_REMOVE_BUFS] = { "remove_bufs", op_remove_bufs, 5, true },
	[OP_QBUF] = { "qbuf", op_qbuf, 80, true },
	[OP_DQBUF] = { "dqbuf", op_dqbuf, 90, true },
	[OP_STREAMON] = { "streamon", op_streamon, 25, true },
	[OP_STREAMOFF] = { "streamoff", op_streamoff, 10, true },
	[OP_JOB] = { "job", op_job, 70, true },
	[OP_CTRL] = { "ctrl", op_ctrl, 15, true },
	[OP_EXPBUF] = { "expbuf", op_expbuf, 30, true },
	[OP_DUP] = { "dup", op_dup, 8, false },
	[OP_CLOSE_FD] = { "close_fd", op_close_fd, 25, false },
	[OP_MMAP] = { "mmap", op_mmap, 12, false },
	[OP_CPU_SYNC] = { "cpu_sync", op_cpu_sync, 6, false },
	[OP_EXPORT_SYNC_FILE] = { "export_sync_file", op_export_sync_file, 50, false },
	[OP_IMPORT_SYNC_FILE] = { "import_sync_file", op_import_sync_file, 25, false },
	[OP_SW_SYNC_SIGNAL] = { "sw_sync_signal", op_sw_sync_signal, 20, false },
	[OP_SW_SYNC_CLOSE] = { "sw_sync_close", op_sw_sync_close, 6, false },
	[OP_POLL] = { "poll", op_poll, 30, false },
	[OP_WAIT] = { "wait", op_wait, 10, false },
	[OP_SIGKILL] = { "sigkill", op_sigkill, 4, false },
	[OP_SEND_FD] = { "send_fd", op_send_fd, 12, false },
	[OP_RECV_FD] = { "recv_fd", op_recv_fd, 15, false },
	[OP_KILL_SWITCH] = { "kill_switch", op_kill_switch, 3, false },
	[OP_UNBIND] = { "unbind", op_unbind, 3, false },
	[OP_RMMOD] = { "rmmod", op_rmmod, 2, false },
};
