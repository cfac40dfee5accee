// SPDX-License-Identifier: GPL-2.0
/*
 * fence_stress's operations on the fds a thread holds, as a consumer,
 * another device or another process uses them: dup, close, mmap,
 * DMA_BUF_IOCTL_SYNC, EXPORT_SYNC_FILE and IMPORT_SYNC_FILE, sw_sync
 * fences signalled later or never, poll, fds passed to the next process,
 * a child killed in the middle of its job; and the thread's pool of those
 * fds and its sw_sync timelines.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "fence_stress.h"

/* The fds a thread holds */

struct obj *obj_add(struct thr *t, int fd, bool sync)
{
	struct obj *o = NULL;
	unsigned int i;

	for (i = 0; i < MAX_OBJS && !o; i++)
		if (t->obj[i].fd < 0)
			o = &t->obj[i];
	if (!o) {
		/*
		 * Not the fd of a plane do_qbuf() has yet to queue: closed,
		 * its number may be another thread's dma-buf by the QBUF, and
		 * this thread's job would write into that thread's buffer.
		 */
		for (i = rn(t, MAX_OBJS); t->obj[i].held; i = (i + 1) % MAX_OBJS)
			;
		o = &t->obj[i];
		note(t, "pool full: close fd %d", o->fd);
		close(o->fd);
	}
	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->sync = sync;
	o->ctx = -1;
	return o;
}

/* @kind: 0 a dma-buf, 1 a sync_file, -1 either. */
struct obj *pick_obj(struct thr *t, int kind)
{
	unsigned int i, k = rn(t, MAX_OBJS);

	for (i = 0; i < MAX_OBJS; i++) {
		struct obj *o = &t->obj[(k + i) % MAX_OBJS];

		if (o->fd >= 0 && (kind < 0 || o->sync == kind))
			return o;
	}
	note(t, "no %s to use", kind < 0 ? "fd" : kind ? "sync_file" : "dma-buf");
	return NULL;
}

/* The buffer dma-buf @o is of, if it still is one of ours. */
struct slot *obj_slot(struct thr *t, struct obj *o, struct ctx **cp)
{
	struct ctx *c;
	struct slot *s;

	if (o->fd < 0 || o->sync || o->ctx < 0 || o->slot >= M2M_MAX_BUFS)
		return NULL;
	c = &t->ctx[o->ctx];
	if (c->dev.fd < 0 || c->serial != o->serial)
		return NULL;
	s = &slots_of(c, o->cap)[o->slot];
	if (!s->exists || s->epoch != o->epoch)
		return NULL;
	*cp = c;
	return s;
}

struct obj *slot_obj(struct thr *t, struct ctx *c, unsigned int idx)
{
	struct ctx *oc;
	unsigned int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (obj_slot(t, &t->obj[i], &oc) && oc == c && t->obj[i].cap &&
		    t->obj[i].slot == idx)
			return &t->obj[i];
	return NULL;
}

void obj_link(struct thr *t, struct obj *o, struct ctx *c, bool cap, unsigned int idx)
{
	if (idx >= M2M_MAX_BUFS || !slots_of(c, cap)[idx].exists)
		return;
	o->ctx = ci(t, c);
	o->serial = c->serial;
	o->cap = cap;
	o->slot = idx;
	o->epoch = slots_of(c, cap)[idx].epoch;
}

/* @o leaves the thread's control: its buffer is no longer private. */
void share(struct thr *t, struct obj *o)
{
	struct ctx *c;
	struct slot *s = obj_slot(t, o, &c);

	if (s && o->cap) {
		s->shared = true;
	} else if (s) {
		c->out_dirty = true;
		c->out_std = false;
	}
}

/* A new dma-buf of @len bytes from the heap, filled with @pattern if >= 0. */
struct obj *alloc_dmabuf(struct thr *t, size_t len, int pattern)
{
	int fd = dma_heap_alloc(cfg.heap, len);
	uint8_t *map;

	note(t, "alloc %s %zu bytes: %d", cfg.heap, len, fd);
	if (fd < 0)
		return NULL;
	map = pattern >= 0 ? dmabuf_mmap(fd, len, PROT_READ | PROT_WRITE) : NULL;
	if (map) {
		fill_pattern(map, len, pattern);
		munmap(map, len);
	}
	return obj_add(t, fd, false);
}

/* SCM_RIGHTS, a fd and a byte saying what it is. */
static int pass_fd(int sock, int *fd, char *kind, bool send)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = kind, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	memset(u.buf, 0, sizeof(u.buf));
	if (send) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), fd, sizeof(int));
		return sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0 : -errno;
	}
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n != 1)
		return n < 0 ? -errno : -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EIO;
	memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/* sw_sync: another device's work, signalled later or never */

static struct timeline *get_timeline(struct thr *t)
{
	struct timeline *tl = &t->tl[rn(t, MAX_TL)];
	unsigned int i;

	for (i = 0; tl->fd < 0 && i < MAX_TL; i++)
		if (t->tl[i].fd >= 0 && chance(t, 70))
			tl = &t->tl[i];
	if (tl->fd >= 0 || t->no_sw_sync)
		return tl->fd >= 0 ? tl : NULL;
	tl->fd = sw_sync_timeline_open();
	if (tl->fd < 0) {
		note(t, "sw_sync: %s", strerror(-tl->fd));
		t->no_sw_sync = tl->fd == -ENOENT;
		tl->fd = -1;
		return NULL;
	}
	tl->value = 0;
	tl->top = 0;
	tl->close_at = now_us() + (50 + rn(t, TL_LIFE_MS - 50)) * 1000ULL;
	note(t, "sw_sync timeline %d opened, to close in %.0f ms", tl->fd,
	     (tl->close_at - now_us()) / 1000.0);
	return tl;
}

void tl_close(struct thr *t, struct timeline *tl)
{
	note(t, "sw_sync timeline %d closed: %u point(s) never signalled", tl->fd,
	     tl->top > tl->value ? tl->top - tl->value : 0);
	close(tl->fd);
	tl->fd = -1;
}

void tl_expire(struct thr *t)
{
	unsigned int i;

	for (i = 0; i < MAX_TL; i++)
		if (t->tl[i].fd >= 0 && now_us() >= t->tl[i].close_at)
			tl_close(t, &t->tl[i]);
}

/*
 * Signal every fence of the thread's timelines before an operation that may
 * wait for fences (DMA_BUF_IOCTL_SYNC): a thread that waits cannot signal
 * its own, and only its own are not bounded by another thread's TL_LIFE_MS.
 */
static void tl_flush(struct thr *t)
{
	unsigned int i;

	for (i = 0; i < MAX_TL; i++) {
		struct timeline *tl = &t->tl[i];

		if (tl->fd >= 0 && tl->top > tl->value) {
			note(t, "sw_sync timeline %d: signal all", tl->fd);
			sw_sync_inc(tl->fd, tl->top - tl->value);
			tl->value = tl->top;
		}
	}
}

/* Operations */

void op_dup(struct thr *t, struct ctx *c __always_unused)
{
	struct obj *o = pick_obj(t, -1), copy;
	int fd;

	if (!o)
		return;
	copy = *o;
	fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
	note(t, "dup %d: %d", o->fd, fd);
	if (fd < 0)
		return;
	o = obj_add(t, fd, copy.sync);
	copy.fd = fd;
	*o = copy;
}

void op_close_fd(struct thr *t, struct ctx *c __always_unused)
{
	struct obj *o = pick_obj(t, -1);

	if (!o)
		return;
	note(t, "close fd %d (%s)", o->fd, o->sync ? "sync_file" : "dma-buf");
	close(o->fd);
	o->fd = -1;
}

void op_mmap(struct thr *t, struct ctx *c __always_unused)
{
	struct obj *o = pick_obj(t, 0);
	bool sync = chance(t, 30);
	ssize_t size;
	uint8_t *map;
	size_t len;

	size = o ? dmabuf_size(o->fd) : -EBADF;
	if (size <= 0)
		return;
	len = size + (chance(t, 10) ? 4096 : 0);
	map = dmabuf_mmap(o->fd, len, PROT_READ);
	if (map && sync) {
		tl_flush(t);
		dmabuf_sync(o->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	}
	note(t, "mmap fd %d %zu bytes%s: %s, bytes 0x%02x 0x%02x", o->fd, len,
	     sync ? ", DMA_BUF_IOCTL_SYNC" : "", map ? "ok" : "failed", map ? map[0] : 0,
	     map ? map[size - 1] : 0);
	if (map && sync)
		dmabuf_sync(o->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	if (map)
		munmap(map, len);
}

void op_cpu_sync(struct thr *t, struct ctx *c __always_unused)
{
	static const uint64_t flags[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW, 0x100,
	};
	struct dma_buf_sync s = { .flags = flags[rn(t, ARRAY_SIZE(flags))] };
	struct obj *o = pick_obj(t, 0);
	uint64_t t0 = now_us();
	int ret;

	if (!o)
		return;
	tl_flush(t);
	ret = ioctl(o->fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
	note(t, "cpu_sync fd %d flags 0x%llx: %s after %.1f ms", o->fd,
	     (unsigned long long)s.flags, err_str(ret), ms_since(t0));
}

void op_export_sync_file(struct thr *t, struct ctx *c)
{
	static const uint32_t flags[] = {
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW, 0, 0x80,
	};
	struct obj *o = NULL;
	int k = c && chance(t, 50) ? pick_slot(t, c, true, chance(t, 80)) : -1;

	if (k >= 0)
		o = slot_obj(t, c, k);
	if (!o)
		o = pick_obj(t, 0);
	if (o)
		watch_export(t, o, flags[chance(t, 90) ? rn(t, 4) : 4 + rn(t, 2)]);
}

void op_import_sync_file(struct thr *t, struct ctx *c __always_unused)
{
	static const uint32_t flags[] = {
		DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, 0,
	};
	uint32_t f = flags[chance(t, 90) ? rn(t, 3) : 3];
	struct obj *o = pick_obj(t, 0), *src = NULL;
	struct timeline *tl;
	int fd, ret;

	if (!o)
		return;
	if (chance(t, 25))
		src = pick_obj(t, 1);
	if (src) {
		/* Whatever it holds, producer fences too, lands on the buffer. */
		share(t, o);
		fd = src->fd;
	} else {
		tl = get_timeline(t);
		if (!tl)
			return;
		fd = sw_sync_fence(tl->fd, tl->value + 1 + rn(t, 3));
		if (tl->top < tl->value + 3)
			tl->top = tl->value + 3;
	}
	ret = fd < 0 ? fd : dmabuf_import_sync_file(o->fd, fd, f);
	note(t, "import_sync_file %s %d into fd %d flags 0x%x: %s",
	     src ? "sync_file" : "of a new sw_sync fence", fd, o->fd, f, err_str(ret));
	if (!src && fd >= 0 && chance(t, 30))
		obj_add(t, fd, true);
	else if (!src && fd >= 0)
		close(fd);
}

void op_sw_sync_signal(struct thr *t, struct ctx *c __always_unused)
{
	struct timeline *tl = &t->tl[rn(t, MAX_TL)];
	unsigned int n = 1 + rn(t, 2);

	if (tl->fd < 0)
		return;
	note(t, "sw_sync timeline %d: signal %u (at %u, top %u)", tl->fd, n, tl->value, tl->top);
	if (!sw_sync_inc(tl->fd, n))
		tl->value += n;
}

void op_sw_sync_close(struct thr *t, struct ctx *c __always_unused)
{
	struct timeline *tl = &t->tl[rn(t, MAX_TL)];

	if (tl->fd >= 0)
		tl_close(t, tl);
}

/*
 * poll() of a dma-buf or sync_file, without or with a short timeout; or, on
 * a private queued CAPTURE buffer whose pending write fences are producer
 * fences only, the bounded check (see fence_stress_oracle.c).
 */
void op_poll(struct thr *t, struct ctx *c)
{
	unsigned int i, k = rn(t, MAX_OBJS);
	bool bounded = chance(t, 40), other;
	struct obj *o = NULL;
	int r, ms, sync_fd;
	struct slot *s;
	uint32_t vb2;
	uint64_t t0;

	for (i = 0; bounded && i < MAX_OBJS && !o; i++) {
		o = &t->obj[(k + i) % MAX_OBJS];
		s = obj_slot(t, o, &c);
		if (!s || !o->cap || !is_private(c, s) || !s->queued || s->dirty)
			o = NULL;
	}
	t0 = now_us();
	sync_fd = o ? dmabuf_export_sync_file(o->fd, DMA_BUF_SYNC_READ) : -1;
	r = sync_fd < 0 ? sync_fd : inspect(sync_fd, &vb2, &other);
	if (sync_fd >= 0)
		close(sync_fd);
	if (r > 0 && vb2 && !other) {
		r = poll_fd(o->fd, POLLIN, cfg.bound_ms);
		note(t, "poll c%d CAPTURE %u, a producer fence pending: 0x%x after %.1f ms",
		     ci(t, c), o->slot, r, ms_since(t0));
		count(CK_POLL);
		if (!r)
			failure(t,
				"poll(POLLIN) on c%d CAPTURE %u not ready %.0f ms after its producer fence was seen pending",
				ci(t, c), o->slot, ms_since(t0));
		return;
	}
	o = pick_obj(t, -1);
	if (!o)
		return;
	ms = chance(t, 50) ? 0 : (int)rn(t, 20);
	r = poll_fd(o->fd, chance(t, 70) ? POLLIN : POLLOUT, ms);
	note(t, "poll fd %d (%s, %d ms): 0x%x", o->fd, o->sync ? "sync_file" : "dma-buf", ms, r);
}

/* poll() on a sync_file of producer fences only: ready within the bound (F6). */
void op_wait(struct thr *t, struct ctx *c)
{
	unsigned int i, k = rn(t, MAX_WATCHED);
	struct watched *w = NULL;
	int64_t left;
	int r;

	for (i = 0; i < MAX_WATCHED && !w; i++)
		if (t->w[(k + i) % MAX_WATCHED].fd >= 0 && t->w[(k + i) % MAX_WATCHED].vb2_only)
			w = &t->w[(k + i) % MAX_WATCHED];
	if (!w) {
		op_export_sync_file(t, c);
		return;
	}
	left = ((int64_t)deadline_of(w) - (int64_t)now_us()) / 1000;
	r = poll_fd(w->fd, POLLIN, left > 0 ? left + 1 : 1);
	note(t, "wait sync_file %d, caught %.0f ms ago: 0x%x", w->fd, ms_since(w->t0), r);
	count(CK_POLL);
	if (!r)
		failure(t,
			"poll() on sync_file %d of producer fences caught pending %.0f ms ago timed out: bound %d ms",
			w->fd, ms_since(w->t0), cfg.bound_ms);
}

/* The child of op_sigkill: start a job, hand over its CAPTURE dma-buf, wait. */
static void __noreturn doomed_child(int sock, int job_ms, int result)
{
	struct m2m_dev d;
	char kind = 'd';
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(sock, 3) < 0)
		_exit(1);
	/* Keep nothing of the thread's open: only the socket. */
	fd = 4;
#ifdef __NR_close_range
	if (!syscall(__NR_close_range, 4, ~0U, 0))
		fd = 4096;
#endif
	for (; fd < 4096; fd++)
		close(fd);
	if (m2m_open_card(&d, cfg.driver, NULL))
		_exit(2);
	m2m_set_ctrl_by_name(d.fd, TRANS_TIME_CTRL, job_ms, NULL);
	if (result >= 0)
		m2m_set_ctrl_by_name(d.fd, JOB_RESULT_CTRL, result, NULL);
	if (m2m_set_formats(&d, 0, 0, 64, 64) || m2m_reqbufs(&d, &d.out, 1) ||
	    m2m_reqbufs(&d, &d.cap, 1))
		_exit(3);
	fill_pattern(d.out.bufs[0].map[0], d.out.bufs[0].length[0], 1);
	fd = m2m_expbuf(&d, &d.cap, 0, 0, O_RDWR | O_CLOEXEC);
	if (fd < 0 || m2m_qbuf(&d, &d.cap, 0) || m2m_qbuf(&d, &d.out, 0) ||
	    m2m_streamon(&d, &d.out) || m2m_streamon(&d, &d.cap))
		_exit(4);
	pass_fd(3, &fd, &kind, true);
	for (;;)
		pause();
}

void op_sigkill(struct thr *t, struct ctx *c __always_unused)
{
	int sv[2], fd = -1, job_ms = 50 + rn(t, 400), status = 0;
	int result = cfg.is_test_dev ? pick_result(t, 80, 17) : -1;
	unsigned int delay = rn(t, 20);
	char kind;
	pid_t pid;

	/* SEQPACKET: a child that dies early hangs up */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		note(t, "sigkill: socketpair: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (!pid)
		doomed_child(sv[1], job_ms, result);
	close(sv[1]);
	if (pid > 0 && poll_fd(sv[0], POLLIN, CHILD_MS) > 0 && pass_fd(sv[0], &fd, &kind, false))
		fd = -1;
	note(t, "sigkill: child %d, job of %d ms, its CAPTURE dma-buf %d; SIGKILL in %u ms",
	     pid, job_ms, fd, delay);
	if (fd >= 0) {
		struct obj *o = obj_add(t, fd, false);

		o->foreign = true;
		watch_export(t, o, DMA_BUF_SYNC_READ);
	}
	usleep(delay * 1000);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	close(sv[0]);
}

void op_send_fd(struct thr *t, struct ctx *c __always_unused)
{
	struct obj *o = pick_obj(t, -1);
	char kind;
	int ret;

	if (!o)
		return;
	kind = o->sync ? 's' : 'd';
	share(t, o);
	ret = pass_fd(send_sock, &o->fd, &kind, true);
	note(t, "send_fd %d (%s) to the next process: %s", o->fd,
	     o->sync ? "sync_file" : "dma-buf", err_str(ret));
	if (!ret && chance(t, 30)) {
		close(o->fd);
		o->fd = -1;
	}
}

void op_recv_fd(struct thr *t, struct ctx *c __always_unused)
{
	char kind = 'd';
	int fd, ret = pass_fd(recv_sock, &fd, &kind, false);

	note(t, "recv_fd: %s %d", err_str(ret), ret ? -1 : fd);
	if (!ret)
		obj_add(t, fd, kind == 's')->foreign = true;
}
