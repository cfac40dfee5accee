// SPDX-License-Identifier: GPL-2.0
/*
 * fence_stress - random operations against an opted-in V4L2 mem2mem device,
 * with the producer-fence contract (CONTRACT.md) as the oracle.
 *
 *   fence_stress [-d DRIVER] [-t SECONDS | -n OPS] [-s SEED] [-p PROCS]
 *                [-T THREADS] [-v] [--destructive] [-l] [--help]
 *
 * Design. PROCS worker processes (default 3) of THREADS threads (default 2)
 * run random operations, valid and invalid, on contexts of the device
 * (driver vb2-resv-test unless -d or $VB2_RESV_DRIVER says otherwise): open
 * and close, S_FMT (GREY, NV12M, ...), REQBUFS (0 while streaming too),
 * CREATE_BUFS, REMOVE_BUFS, QBUF and DQBUF of MMAP and DMABUF buffers
 * (dma-heap memory, other processes' buffers, bad indices), STREAMON and
 * STREAMOFF of either queue in any order, the test module's job time and
 * outcome (Done, Error, Hang), EXPBUF with any flags, dup, close, mmap,
 * DMA_BUF_IOCTL_SYNC, EXPORT_SYNC_FILE, IMPORT_SYNC_FILE of sw_sync fences
 * signalled later or never (a timeline is closed at most TL_LIFE_MS after it
 * was opened, which signals what is left with an error, so that a job held
 * by one is always released), poll with and without a timeout, fds passed to
 * the next process over a ring of socketpairs (SCM_RIGHTS), and a child
 * killed (SIGKILL) in the middle of its job. With --destructive (root),
 * thread 0 of process 0 also toggles the kill switch, unbinds and binds the
 * test device, and unloads and reloads the test module while every thread
 * keeps its dma-bufs and sync_files (the other threads close their contexts,
 * which pin the module, and wait meanwhile).
 *
 * Each thread owns all it opens; nothing passes between threads but through
 * the kernel. Its RNG is derived from (seed, process, thread) and each
 * operation is logged, a line or two, to $VB2_STRESS_LOG (default /tmp)
 * /fence_stress-SEED-pN.log: the seed replays a run as far as scheduling
 * allows, and a failing sequence can be read back. Kernel reports (KASAN,
 * lockdep, WARN, hung tasks) are for the harness to find in dmesg.
 *
 * The oracle, as the run goes:
 *  - F6: a producer fence caught pending (driver "vb2" in SYNC_IOC_FILE_INFO
 *    of a sync_file from EXPORT_SYNC_FILE) signals within the bound:
 *    watchdog_ms plus SLACK_MS (QEMU TCG, KASAN), counted from before the
 *    export, so from after its publication, when its job started. A fence
 *    object is followed, not a buffer: whatever happens to the buffer
 *    meanwhile cannot make this wrong. poll() on such a sync_file, if
 *    nothing else was pending in it, returns within the same bound, and so
 *    does poll(POLLIN) on a private CAPTURE buffer (below) whose pending
 *    write fences are all producer fences: nobody can add one meanwhile.
 *  - F4, F5: a CAPTURE buffer is private when only its own queueings can
 *    publish on it: an MMAP buffer no dma-buf of which left the thread's
 *    control (sent, queued as DMABUF, given a foreign sync_file), in a
 *    context whose bookkeeping is exact. A pending producer fence caught on
 *    a private queued buffer that carries no fence of an earlier, cancelled
 *    job (checked before its QBUF) is the fence of that queueing's job. When
 *    VIDIOC_DQBUF returns the buffer, that fence has signalled (F4), with an
 *    error exactly when the buffer carries V4L2_BUF_FLAG_ERROR (F5;
 *    -ECANCELED, a buffer its driver requeued, proves nothing either way).
 *    A private buffer that is not queued (just dequeued, or never queued
 *    since its last cancellation was seen through) carries no pending
 *    producer fence (F4) and, dequeued without error while every OUTPUT
 *    buffer of its context holds the context's pattern, it holds the frame
 *    the test module writes.
 * Once every worker has exited:
 *  - the device runs a clean job: its fence signals without error, DQBUF
 *    carries no error flag, the frame is the test module's;
 *  - F5: the test module counted a signal for every publication, so no path
 *    left a fence pending, not even one user space never saw;
 *  - F8: no fence object of a vb2 context is alive: hist triggers keyed by
 *    context on dma_fence_init (driver "vb2") and dma_fence_destroy, as
 *    fence_soak counts them (skipped, saying so, without CONFIG_HIST_TRIGGERS).
 *
 * KTAP output. Exit 0 on pass, 1 on a failure, 4 without an opted-in device.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "kselftest.h"
#include "m2m_util.h"
#include "vb2_resv_test.h"

#define JOB_RESULT_CTRL	"Job Result"
#define MOD_NAME	"vb2_resv_test"
#define MOD_DIR		"/sys/module/" MOD_NAME
#define PDRV_DIR	"/sys/bus/platform/drivers/" DEFAULT_DRIVER

#define MAX_PROCS	16
#define MAX_THREADS	8
#define MAX_CTX		3	/* contexts per thread */
#define MAX_OBJS	40	/* dma-buf and sync_file fds per thread */
#define MAX_WATCHED	24	/* producer fences followed per thread */
#define MAX_TL		2	/* sw_sync timelines per thread */
#define MAX_FENCES	32	/* per sync_file */
#define FRAME_MAX	128	/* largest width and height asked for */
#define TL_LIFE_MS	1000
#define SLACK_MS	5000
#define CHILD_MS	3000	/* for a doomed child to start its job */
#define QUIESCE_MS	15000	/* for the other threads to close their contexts */

enum { DONE, ERROR, HANG };	/* the test module's "Job Result" */

/* Operations: ops[], after their functions, says what each is. */
enum {
	OP_OPEN, OP_CLOSE, OP_S_FMT, OP_REQBUFS, OP_CREATE_BUFS, OP_REMOVE_BUFS, OP_QBUF,
	OP_DQBUF, OP_STREAMON, OP_STREAMOFF, OP_JOB, OP_CTRL, OP_EXPBUF, OP_DUP, OP_CLOSE_FD,
	OP_MMAP, OP_CPU_SYNC, OP_EXPORT_SYNC_FILE, OP_IMPORT_SYNC_FILE, OP_SW_SYNC_SIGNAL,
	OP_SW_SYNC_CLOSE, OP_POLL, OP_WAIT, OP_SIGKILL, OP_SEND_FD, OP_RECV_FD,
	/* destructive: thread 0 of process 0, with --destructive only */
	OP_KILL_SWITCH, OP_UNBIND, OP_RMMOD,
	NR_OPS
};

enum { CK_CAUGHT, CK_IN_BOUND, CK_LINKED, CK_IDLE, CK_FRAME, CK_POLL, NR_CHECKS };
static const char *const check_names[] = {
	"producer fences caught pending", "signalled within the bound",
	"error status compared with DQBUF", "idle after DQBUF", "frames compared",
	"bounded polls",
};

/* One buffer of a context's queue, as its thread believes it is. */
struct slot {
	bool exists, queued;
	bool shared;		/* a dma-buf of it left the thread's control */
	bool dirty;		/* cancelled while queued: may carry an old pending fence */
	unsigned int gen;	/* QBUFs so far */
	unsigned int epoch;	/* changes with its memory */
};

struct ctx {
	struct m2m_dev dev;	/* dev.fd < 0: not open */
	unsigned int serial;	/* tells a reopened context from the one before */
	unsigned int pattern;	/* fill_pattern() seed of its OUTPUT buffers */
	bool tainted;		/* CAPTURE bookkeeping may not be exact */
	bool out_dirty;		/* until REQBUFS: an OUTPUT buffer may not hold the pattern */
	bool out_std;		/* every OUTPUT buffer a job can read holds the pattern */
	struct slot out[M2M_MAX_BUFS], cap[M2M_MAX_BUFS];
};

/* A dma-buf or sync_file fd; for a dma-buf of ours, whose buffer it is. */
struct obj {
	int fd;			/* -1: free */
	bool sync;		/* sync_file, else dma-buf */
	bool foreign;		/* from another process */
	int ctx;		/* index in thr.ctx, or -1 */
	bool cap;
	unsigned int serial, slot, epoch;
};

/* A sync_file holding producer fences caught pending. */
struct watched {
	int fd;			/* -1: free */
	uint64_t t0;		/* us, before the export */
	uint32_t mask;		/* which of its fences are the producer fences */
	bool vb2_only;		/* nothing else was pending in it */
	int ctx;		/* linked to a queueing (see the header), or -1 */
	unsigned int serial, slot, gen, epoch;
};

struct timeline {
	int fd;			/* -1: closed */
	unsigned int value, top;
	uint64_t close_at;
};

struct thr {
	pthread_t tid;
	unsigned int proc, idx, id, serial;
	uint64_t rng;
	unsigned long nops, budget;
	bool no_sw_sync;
	struct ctx ctx[MAX_CTX];
	struct obj obj[MAX_OBJS];
	struct watched w[MAX_WATCHED];
	struct timeline tl[MAX_TL];
};

/* Shared by every process: MAP_SHARED before the fork. */
struct shared {
	int stop, failures, quiesce, parked, finished;
	unsigned long ops[NR_OPS], checks[NR_CHECKS];
	struct {
		uint64_t since;	/* us; 0: between operations */
		int op;
	} busy[MAX_PROCS * MAX_THREADS];
	char failure[512];
};

static struct {
	const char *driver, *heap;
	uint64_t seed;
	unsigned long ops;
	unsigned int secs, procs, threads;
	bool verbose, destructive, is_test_dev, modprobed;
	int watchdog_ms, bound_ms, kill_switch;
	char logdir[200], devname[64], modargs[160];
} cfg = { .procs = 3, .threads = 2, .kill_switch = -1, .secs = 60 };

static struct shared *sh;
static uint64_t t_start;
static FILE *logf;				/* this process's operation log */
static int send_sock = -1, recv_sock = -1;	/* the ring of socketpairs */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rn(struct thr *t, unsigned int n)
{
	return n ? splitmix(&t->rng) % n : 0;
}

static bool chance(struct thr *t, unsigned int pct)
{
	return rn(t, 100) < pct;
}

static void count(int check)
{
	__atomic_add_fetch(&sh->checks[check], 1, __ATOMIC_RELAXED);
}

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST);
}

static const char *err_str(int ret)
{
	return ret < 0 ? strerror(-ret) : "ok";
}

/* One line of the operation log (and of the output with -v). */
static void __printf(2, 3) note(struct thr *t, const char *fmt, ...)
{
	double s = (now_us() - t_start) / 1e6;
	char line[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (logf)
		fprintf(logf, "%9.3f t%u #%lu %s\n", s, t->idx, t->nops, line);
	if (cfg.verbose)
		printf("# %9.3f p%ut%u #%lu %s\n", s, t->proc, t->idx, t->nops, line);
}

/* A broken promise, or a run that cannot go on: report it and stop everyone. */
static void __printf(2, 3) failure(struct thr *t, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note(t, "FAIL: %s", msg);
	printf("# FAIL p%u t%u op #%lu: %s\n", t->proc, t->idx, t->nops, msg);
	if (!__atomic_fetch_add(&sh->failures, 1, __ATOMIC_SEQ_CST))
		snprintf(sh->failure, sizeof(sh->failure), "p%u t%u op #%lu: %s",
			 t->proc, t->idx, t->nops, msg);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
}

static int ci(struct thr *t, struct ctx *c)
{
	return c - t->ctx;
}

static struct m2m_queue *queue_of(struct ctx *c, bool cap)
{
	return cap ? &c->dev.cap : &c->dev.out;
}

static struct slot *slots_of(struct ctx *c, bool cap)
{
	return cap ? c->cap : c->out;
}

static const char *qname(bool cap)
{
	return cap ? "CAPTURE" : "OUTPUT";
}

static struct ctx *pick_ctx(struct thr *t)
{
	unsigned int i, k = rn(t, MAX_CTX);

	for (i = 0; i < MAX_CTX; i++)
		if (t->ctx[(k + i) % MAX_CTX].dev.fd >= 0)
			return &t->ctx[(k + i) % MAX_CTX];
	return NULL;
}

/* A buffer of the queue that exists and is @queued or not, at random, or -1. */
static int pick_slot(struct thr *t, struct ctx *c, bool cap, bool queued)
{
	unsigned int i, n = queue_of(c, cap)->count, k = rn(t, M2M_MAX_BUFS);
	struct slot *s = slots_of(c, cap);

	for (i = 0; i < n; i++)
		if (s[(k + i) % n].exists && s[(k + i) % n].queued == queued)
			return (k + i) % n;
	return -1;
}

static bool is_private(struct ctx *c, struct slot *s)
{
	return c->dev.cap.memory == V4L2_MEMORY_MMAP && !c->tainted && !s->shared;
}

static int pick_result(struct thr *t, unsigned int done, unsigned int error)
{
	unsigned int r = rn(t, 100);

	return r < done ? DONE : r < done + error ? ERROR : HANG;
}

/* The fds a thread holds */

static struct obj *obj_add(struct thr *t, int fd, bool sync)
{
	struct obj *o = NULL;
	unsigned int i;

	for (i = 0; i < MAX_OBJS && !o; i++)
		if (t->obj[i].fd < 0)
			o = &t->obj[i];
	if (!o) {
		o = &t->obj[rn(t, MAX_OBJS)];
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
static struct obj *pick_obj(struct thr *t, int kind)
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
static struct slot *obj_slot(struct thr *t, struct obj *o, struct ctx **cp)
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

static struct obj *slot_obj(struct thr *t, struct ctx *c, unsigned int idx)
{
	struct ctx *oc;
	unsigned int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (obj_slot(t, &t->obj[i], &oc) && oc == c && t->obj[i].cap &&
		    t->obj[i].slot == idx)
			return &t->obj[i];
	return NULL;
}

static void obj_link(struct thr *t, struct obj *o, struct ctx *c, bool cap, unsigned int idx)
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
static void share(struct thr *t, struct obj *o)
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

static void tl_close(struct thr *t, struct timeline *tl)
{
	note(t, "sw_sync timeline %d closed: %u point(s) never signalled", tl->fd,
	     tl->top > tl->value ? tl->top - tl->value : 0);
	close(tl->fd);
	tl->fd = -1;
}

static void tl_expire(struct thr *t)
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

/* Watched producer fences: F4, F5, F6 */

/* Pending producer fences of sync_file @fd as a bit mask; @other: something else pending. */
static int inspect(int fd, uint32_t *vb2, bool *other)
{
	struct sync_fence_info info[MAX_FENCES];
	int n = sync_file_fences(fd, info, MAX_FENCES), i;

	*vb2 = 0;
	*other = false;
	for (i = 0; i < n; i++) {
		if (info[i].status)
			continue;
		if (!strncmp(info[i].driver_name, FENCE_DRIVER, sizeof(info[i].driver_name)))
			*vb2 |= 1u << i;
		else
			*other = true;
	}
	return n;
}

/*
 * The producer fences @mask of sync_file @fd: how many are still pending, or
 * a negative errno; *@status: the status of the first (0 pending, 1
 * signalled, < 0 signalled with that error).
 */
static int watched_fences(int fd, uint32_t mask, int *status)
{
	struct sync_fence_info info[MAX_FENCES];
	int n = sync_file_fences(fd, info, MAX_FENCES), i, pending = 0;

	*status = 0;
	for (i = n - 1; i >= 0; i--) {
		if (!(mask & (1u << i)))
			continue;
		pending += !info[i].status;
		*status = info[i].status;
	}
	return n < 0 ? n : pending;
}

static uint64_t deadline_of(struct watched *w)
{
	return w->t0 + cfg.bound_ms * 1000ULL;
}

/* The queueing @w's fence belongs to, while that buffer is still queued. */
static struct slot *watched_slot(struct thr *t, struct watched *w)
{
	struct ctx *c;
	struct slot *s;

	if (w->ctx < 0)
		return NULL;
	c = &t->ctx[w->ctx];
	if (c->dev.fd < 0 || c->serial != w->serial)
		return NULL;
	s = &c->cap[w->slot];
	if (!s->exists || !s->queued || s->epoch != w->epoch || s->gen != w->gen)
		return NULL;
	return s;
}

/*
 * F6: every watched fence due (all of them if @wait, waiting for each until
 * its deadline) must have signalled. Signalled ones are dropped, but for
 * those whose buffer's DQBUF is still to compare their error.
 */
static void check_watched(struct thr *t, bool wait)
{
	unsigned int i;

	for (i = 0; i < MAX_WATCHED; i++) {
		struct watched *w = &t->w[i];
		int pending, status;

		if (w->fd < 0 || (!wait && now_us() < deadline_of(w) && (t->nops + i) % 8))
			continue;
		pending = watched_fences(w->fd, w->mask, &status);
		while (wait && pending > 0 && now_us() < deadline_of(w)) {
			usleep(2000);
			pending = watched_fences(w->fd, w->mask, &status);
		}
		if (pending > 0 && now_us() < deadline_of(w))
			continue;
		if (pending > 0)
			failure(t,
				"producer fence(s) 0x%x of sync_file %d, caught pending %.0f ms ago, never signalled: bound %d ms (watchdog %d ms + slack)",
				w->mask, w->fd, ms_since(w->t0), cfg.bound_ms, cfg.watchdog_ms);
		else if (pending < 0)
			note(t, "sync_file %d: %s", w->fd, strerror(-pending));
		else if (!wait && watched_slot(t, w))
			continue;
		else
			count(CK_IN_BOUND);
		close(w->fd);
		w->fd = -1;
	}
}

/*
 * EXPORT_SYNC_FILE(@flags) of dma-buf @o; follow the producer fences it
 * holds that are pending, linked to their queueing if the buffer is
 * private. Without any, the sync_file is kept (or closed) as an fd.
 */
static void watch_export(struct thr *t, struct obj *o, uint32_t flags)
{
	uint64_t t0 = now_us();
	struct watched *w = NULL;
	struct ctx *c = NULL;
	struct slot *s = obj_slot(t, o, &c);
	unsigned int i;
	bool other;
	uint32_t vb2;
	int fd, n;

	fd = dmabuf_export_sync_file(o->fd, flags);
	if (fd < 0) {
		note(t, "export_sync_file fd %d flags 0x%x: %s", o->fd, flags, strerror(-fd));
		return;
	}
	n = inspect(fd, &vb2, &other);
	for (i = 0; i < MAX_WATCHED && vb2 && !w; i++)
		if (t->w[i].fd < 0)
			w = &t->w[i];
	note(t, "export_sync_file fd %d (%s) flags 0x%x: sync_file %d, %d fence(s)", o->fd,
	     s ? qname(o->cap) : o->foreign ? "foreign" : "unlinked", flags, fd, n);
	note(t, "  pending producer fences 0x%x%s%s", vb2, other ? ", others pending" : "",
	     vb2 && !w ? ", too many followed: not followed" : "");
	/* Private and not queued: its last job was dequeued, or it had none (F4). */
	if (vb2 && s && o->cap && is_private(c, s) && !s->queued && !s->dirty)
		failure(t, "producer fence pending on c%d CAPTURE %u, which is not queued",
			ci(t, c), o->slot);
	if (n < 0 || !w) {
		if (chance(t, 40))
			obj_add(t, fd, true);
		else
			close(fd);
		return;
	}
	count(CK_CAUGHT);
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->t0 = t0;
	w->mask = vb2;
	w->vb2_only = !other;
	w->ctx = -1;
	if (s && o->cap && !(vb2 & (vb2 - 1)) && is_private(c, s) && s->queued && !s->dirty) {
		w->ctx = ci(t, c);
		w->serial = c->serial;
		w->slot = o->slot;
		w->gen = s->gen;
		w->epoch = s->epoch;
		note(t, "  linked to c%d CAPTURE %u, queueing %u", w->ctx, w->slot, w->gen);
	}
}

/* Pending producer fences on MMAP CAPTURE buffer @idx of @c. */
static int slot_pending_vb2(struct thr *t, struct ctx *c, unsigned int idx)
{
	struct obj *o = slot_obj(t, c, idx);
	int fd = o ? o->fd : m2m_expbuf(&c->dev, &c->dev.cap, idx, 0, O_RDONLY | O_CLOEXEC);
	int sync_fd, n;
	bool other;
	uint32_t vb2;

	if (fd < 0)
		return fd;
	sync_fd = dmabuf_export_sync_file(fd, DMA_BUF_SYNC_READ);
	if (!o)
		close(fd);
	if (sync_fd < 0)
		return sync_fd;
	n = inspect(sync_fd, &vb2, &other);
	close(sync_fd);
	return n < 0 ? n : __builtin_popcount(vb2);
}

/*
 * Bytes of mapped CAPTURE buffer @idx of @d that are not the frame the test
 * module writes (see its header) from OUTPUT buffers filled with @pattern.
 */
static long frame_bad(struct m2m_dev *d, unsigned int idx, uint32_t sequence,
		      unsigned int pattern)
{
	size_t src_len = d->out.sizeimage[0], n = 0, i;
	uint8_t key = sequence % 255 + 1, *src;
	unsigned int p;
	long bad = 0;

	src = src_len ? malloc(src_len) : NULL;
	if (!src)
		return -ENOMEM;
	fill_pattern(src, src_len, pattern);
	for (p = 0; p < d->cap.num_planes && bad >= 0; p++) {
		const uint8_t *dst = d->cap.bufs[idx].map[p];

		if (!dst || d->cap.bufs[idx].length[p] < d->cap.sizeimage[p])
			bad = -EINVAL;
		for (i = 0; bad >= 0 && i < d->cap.sizeimage[p]; i++, n++)
			bad += dst[i] != (src[n % src_len] ^ key);
	}
	free(src);
	return bad;
}

/* F4, F5: what the DQBUF of CAPTURE buffer st->index of @c must find. */
static void dqbuf_checks(struct thr *t, struct ctx *c, const struct m2m_buf_state *st)
{
	bool error = st->flags & V4L2_BUF_FLAG_ERROR;
	struct slot *s = &c->cap[st->index];
	unsigned int i;
	int n, status;
	long bad;

	for (i = 0; i < MAX_WATCHED; i++) {
		struct watched *w = &t->w[i];

		if (w->fd < 0 || watched_slot(t, w) != s)
			continue;
		w->ctx = -1;
		if (watched_fences(w->fd, w->mask, &status) < 0)
			continue;
		count(CK_LINKED);
		if (!status)
			failure(t,
				"c%d CAPTURE %u dequeued (flags 0x%x) while the producer fence of its job, caught %.0f ms ago, is pending",
				ci(t, c), st->index, st->flags, ms_since(w->t0));
		else if (status != -ECANCELED && (status < 0) != error)
			failure(t,
				"c%d CAPTURE %u dequeued %s, but the producer fence of its job signalled with status %d",
				ci(t, c), st->index,
				error ? "with V4L2_BUF_FLAG_ERROR" : "without error", status);
	}
	if (!is_private(c, s) || s->dirty)
		return;
	n = slot_pending_vb2(t, c, st->index);
	count(CK_IDLE);
	if (n > 0)
		failure(t,
			"c%d CAPTURE %u dequeued with %d producer fence(s) still pending on it",
			ci(t, c), st->index, n);
	if (error || !c->out_std || !cfg.is_test_dev)
		return;
	bad = frame_bad(&c->dev, st->index, st->sequence, c->pattern);
	if (bad >= 0)
		count(CK_FRAME);
	if (bad > 0)
		failure(t,
			"c%d CAPTURE %u (sequence %u) dequeued without error: %ld bytes are not the frame",
			ci(t, c), st->index, st->sequence, bad);
}

/* Contexts and buffers */

static void ctx_close(struct thr *t, struct ctx *c)
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
	c->out_std = memory == V4L2_MEMORY_MMAP;
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
	uint32_t of = fourccs[rn(t, ARRAY_SIZE(fourccs))];
	uint32_t cf = fourccs[rn(t, ARRAY_SIZE(fourccs))];
	uint32_t w = chance(t, 5) ? 100000 : 16 + rn(t, FRAME_MAX - 15);
	uint32_t h = 16 + rn(t, FRAME_MAX - 15);
	bool cap_first = chance(t, 30);
	char a[8], b[8];
	int ret;

	ret = cap_first ? m2m_set_encoder_formats(&c->dev, of, cf, w, h) :
		m2m_set_formats(&c->dev, of, cf, w, h);
	note(t, "s_fmt c%d %s first, OUTPUT %s CAPTURE %s %ux%u: %s, CAPTURE %u plane(s)",
	     ci(t, c), qname(cap_first), m2m_fourcc_str(of, a), m2m_fourcc_str(cf, b), w, h,
	     err_str(ret), c->dev.cap.num_planes);
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

/* A new dma-buf of @len bytes from the heap, filled with @pattern if >= 0. */
static struct obj *alloc_dmabuf(struct thr *t, size_t len, int pattern)
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
		if (o)
			share(t, o);	/* another buffer's memory, maybe */
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
	if (!ret) {
		s->queued = true;
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
		c->out_std = c->dev.out.memory == V4L2_MEMORY_MMAP && !c->out_dirty;
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

static void op_dup(struct thr *t, struct ctx *c __always_unused)
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

static void op_close_fd(struct thr *t, struct ctx *c __always_unused)
{
	struct obj *o = pick_obj(t, -1);

	if (!o)
		return;
	note(t, "close fd %d (%s)", o->fd, o->sync ? "sync_file" : "dma-buf");
	close(o->fd);
	o->fd = -1;
}

static void op_mmap(struct thr *t, struct ctx *c __always_unused)
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

static void op_cpu_sync(struct thr *t, struct ctx *c __always_unused)
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

static void op_export_sync_file(struct thr *t, struct ctx *c)
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

static void op_import_sync_file(struct thr *t, struct ctx *c __always_unused)
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

static void op_sw_sync_signal(struct thr *t, struct ctx *c __always_unused)
{
	struct timeline *tl = &t->tl[rn(t, MAX_TL)];
	unsigned int n = 1 + rn(t, 2);

	if (tl->fd < 0)
		return;
	note(t, "sw_sync timeline %d: signal %u (at %u, top %u)", tl->fd, n, tl->value, tl->top);
	if (!sw_sync_inc(tl->fd, n))
		tl->value += n;
}

static void op_sw_sync_close(struct thr *t, struct ctx *c __always_unused)
{
	struct timeline *tl = &t->tl[rn(t, MAX_TL)];

	if (tl->fd >= 0)
		tl_close(t, tl);
}

/*
 * poll() of a dma-buf or sync_file, without or with a short timeout; or, on
 * a private queued CAPTURE buffer whose pending write fences are producer
 * fences only, the bounded check (see the header).
 */
static void op_poll(struct thr *t, struct ctx *c)
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
static void op_wait(struct thr *t, struct ctx *c)
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

static void op_sigkill(struct thr *t, struct ctx *c __always_unused)
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

static void op_send_fd(struct thr *t, struct ctx *c __always_unused)
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

static void op_recv_fd(struct thr *t, struct ctx *c __always_unused)
{
	char kind = 'd';
	int fd, ret = pass_fd(recv_sock, &fd, &kind, false);

	note(t, "recv_fd: %s %d", err_str(ret), ret ? -1 : fd);
	if (!ret)
		obj_add(t, fd, kind == 's')->foreign = true;
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

static bool bound_to_driver(void)
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
static void park(struct thr *t)
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
static const struct {
	const char *name;
	void (*fn)(struct thr *t, struct ctx *c);
	unsigned int weight;
	bool needs_ctx;
} ops[NR_OPS] = {
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

static unsigned int pick_op(struct thr *t)
{
	unsigned int op, r, total = 0;

	for (op = 0; op < NR_OPS; op++)
		total += ops[op].weight;
	for (;;) {
		r = rn(t, total);
		for (op = 0; r >= ops[op].weight; op++)
			r -= ops[op].weight;
		if (op < OP_KILL_SWITCH || (cfg.destructive && !t->id))
			return op;
	}
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	unsigned int i, op;
	struct ctx *c;

	while (!stopping() && (!cfg.ops || t->nops < t->budget)) {
		if (__atomic_load_n(&sh->quiesce, __ATOMIC_SEQ_CST) && t->id)
			park(t);
		tl_expire(t);
		check_watched(t, false);
		op = pick_op(t);
		c = pick_ctx(t);
		if (!c && ops[op].needs_ctx)
			op = OP_OPEN;
		sh->busy[t->id].op = op;
		__atomic_store_n(&sh->busy[t->id].since, now_us(), __ATOMIC_SEQ_CST);
		ops[op].fn(t, c);
		__atomic_store_n(&sh->busy[t->id].since, 0, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&sh->ops[op], 1, __ATOMIC_RELAXED);
		t->nops++;
	}
	/* Contexts first, so that jobs held by its timelines go; then the fences. */
	note(t, "end: close everything, wait for the fences still followed");
	for (i = 0; i < MAX_CTX; i++)
		ctx_close(t, &t->ctx[i]);
	for (i = 0; i < MAX_TL; i++)
		if (t->tl[i].fd >= 0)
			tl_close(t, &t->tl[i]);
	check_watched(t, true);
	for (i = 0; i < MAX_OBJS; i++)
		if (t->obj[i].fd >= 0)
			close(t->obj[i].fd);
	__atomic_add_fetch(&sh->finished, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void __noreturn worker(unsigned int proc, int *socks)
{
	unsigned int i, n = cfg.procs * cfg.threads, k;
	struct thr *thr[MAX_THREADS] = { NULL };
	char path[300];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	send_sock = socks[2 * proc];
	recv_sock = socks[2 * ((proc + cfg.procs - 1) % cfg.procs) + 1];
	for (i = 0; i < 2 * cfg.procs; i++)
		if (socks[i] != send_sock && socks[i] != recv_sock)
			close(socks[i]);
	snprintf(path, sizeof(path), "%s/fence_stress-%llu-p%u.log", cfg.logdir,
		 (unsigned long long)cfg.seed, proc);
	logf = fopen(path, "w");
	if (logf)
		setvbuf(logf, NULL, _IOLBF, 0);
	for (i = 0; i < cfg.threads; i++) {
		struct thr *t = calloc(1, sizeof(*t));

		if (!t)
			break;
		t->proc = proc;
		t->idx = i;
		t->id = proc * cfg.threads + i;
		t->rng = cfg.seed ^ (0x100000001b3ULL * (t->id + 1));
		splitmix(&t->rng);
		t->budget = cfg.ops / n + (t->id < cfg.ops % n);
		for (k = 0; k < MAX_CTX; k++)
			t->ctx[k].dev.fd = -1;
		for (k = 0; k < MAX_OBJS; k++)
			t->obj[k].fd = -1;
		for (k = 0; k < MAX_WATCHED; k++)
			t->w[k].fd = -1;
		for (k = 0; k < MAX_TL; k++)
			t->tl[k].fd = -1;
		note(t, "start: seed %llu, %s, heap %s", (unsigned long long)cfg.seed, cfg.driver,
		     cfg.heap);
		if (!pthread_create(&t->tid, NULL, thread_main, t))
			thr[i] = t;
		else
			failure(t, "pthread_create failed");
	}
	for (i = 0; i < cfg.threads; i++)
		if (thr[i])
			pthread_join(thr[i]->tid, NULL);
	if (logf)
		fclose(logf);
	_exit(0);
}

/* The parent: set up, watch the workers, then the final checks */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: fence_stress [-d DRIVER] [-t SECONDS | -n OPS] [-s SEED] [-p PROCS]\n"
		"                    [-T THREADS] [-v] [--destructive] [-l] [--help]\n"
		"  -d DRIVER      V4L2 driver (default $VB2_RESV_DRIVER, else %s)\n"
		"  -t SECONDS     run time (default 60; no limit with -n alone)\n"
		"  -n OPS         operations in all, shared among the threads\n"
		"  -s SEED        replay a run (default: a fresh seed, printed)\n"
		"  -p PROCS       worker processes (default 3, at most %d)\n"
		"  -T THREADS     threads per process (default 2, at most %d)\n"
		"  -v             print the operations as well\n"
		"  --destructive  root: kill switch, unbind/bind and rmmod/modprobe of %s\n"
		"  -l             list the operations and the checks\n"
		"Operation logs: $VB2_STRESS_LOG (default /tmp)/fence_stress-SEED-pN.log.\n"
		"$VB2_RESV_HEAP: dma-buf heap for DMABUF buffers; $VB2_STRESS_SLACK_MS: the\n"
		"slack over watchdog_ms (default %d); $VB2_RESV_WATCHDOG_MS: the watchdog of\n"
		"a driver other than %s (default 2000).\n",
		DEFAULT_DRIVER, MAX_PROCS, MAX_THREADS, DEFAULT_DRIVER, SLACK_MS, DEFAULT_DRIVER);
}

static void list_ops(void)
{
	unsigned int i;

	printf("operations (relative weight):\n");
	for (i = 0; i < NR_OPS; i++)
		printf("  %-18s %3u%s\n", ops[i].name, ops[i].weight,
		       i >= OP_KILL_SWITCH ? "  --destructive, thread 0 of process 0" : "");
	printf("checks during the run:\n");
	for (i = 0; i < NR_CHECKS; i++)
		printf("  %s\n", check_names[i]);
	printf("final checks:\n  random operations\n  clean job after the stress\n"
	       "  published producer fences all signalled\n  no vb2 fence object alive\n");
}

static void read_param(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), MOD_DIR "/parameters/%s", name);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f && !fgets(buf, len, f))
		buf[0] = '\0';
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Skip without an opted-in device; learn the bound and what destructive ops can do. */
static void setup_device(void)
{
	char mem[32], wd[16], lat[16];
	const char *env;
	struct dirent *de;
	struct m2m_dev d;
	DIR *dir;
	int ret;

	ret = m2m_open(&d, cfg.driver);
	if (ret == -ENOENT)
		ksft_exit_skip("no %s device (modprobe %s, or -d DRIVER)\n", cfg.driver,
			       cfg.driver);
	if (!ret)
		ret = m2m_set_formats(&d, 0, 0, 64, 64);
	if (!ret)
		ret = m2m_reqbufs(&d, &d.cap, 1);
	m2m_close(&d);
	if (ret)
		ksft_exit_fail_msg("%s\n", m2m_strerror());
	cfg.kill_switch = kill_switch_get();
	if (!(d.cap.caps & V4L2_BUF_CAP_PRODUCER_FENCES) && cfg.kill_switch != 0)
		ksft_exit_skip("%s does not report V4L2_BUF_CAP_PRODUCER_FENCES: not opted in\n",
			       cfg.driver);
	if (!(d.cap.caps & V4L2_BUF_CAP_PRODUCER_FENCES))
		printf("# the kill switch is off: no fence is published, little is checked\n");
	env = getenv("VB2_RESV_WATCHDOG_MS");
	cfg.watchdog_ms = env && atoi(env) > 0 ? atoi(env) : 2000;
	cfg.is_test_dev = !strcmp(cfg.driver, DEFAULT_DRIVER);
	if (cfg.is_test_dev) {
		read_int_file(MOD_DIR "/parameters/watchdog_ms", &cfg.watchdog_ms);
		dir = opendir(PDRV_DIR);
		while (dir && (de = readdir(dir)))
			if (de->d_type == DT_LNK && strcmp(de->d_name, "module"))
				snprintf(cfg.devname, sizeof(cfg.devname), "%.63s", de->d_name);
		if (dir)
			closedir(dir);
		read_param("mem", mem, sizeof(mem));
		read_param("watchdog_ms", wd, sizeof(wd));
		read_param("latency_ms", lat, sizeof(lat));
		snprintf(cfg.modargs, sizeof(cfg.modargs), "%s%s %s%s %s%s",
			 mem[0] ? "mem=" : "", mem, wd[0] ? "watchdog_ms=" : "", wd,
			 lat[0] ? "latency_ms=" : "", lat);
		/* Loaded as a module, and one that modprobe can load again. */
		cfg.modprobed = !access(MOD_DIR "/refcnt", F_OK) &&
			!system("modinfo " DEFAULT_DRIVER " >/dev/null 2>&1");
		/* dma-contig without an IOMMU imports contiguous memory only. */
		if (!getenv("VB2_RESV_HEAP") && !strcmp(mem, "dma-contig"))
			cfg.heap = "default_cma_region";
	}
	env = getenv("VB2_STRESS_SLACK_MS");
	cfg.bound_ms = cfg.watchdog_ms + (env && atoi(env) > 0 ? atoi(env) : SLACK_MS);
	if (cfg.destructive && geteuid()) {
		printf("# --destructive needs root: no destructive operation\n");
		cfg.destructive = false;
	} else if (cfg.destructive && !cfg.is_test_dev) {
		printf("# --destructive with %s: the kill switch only\n", cfg.driver);
	}
}

static const char *hist_error(int hist)
{
	return hist == -ENOENT ? "no dma_fence trace events (tracefs, CONFIG_TRACING)" :
		hist == -EINVAL || hist == -ENODEV ? "no hist triggers (CONFIG_HIST_TRIGGERS)" :
		strerror(-hist);
}

/*
 * The hist triggers of the leak check, told apart from others by their
 * size. A histogram has one entry per fence context and drops the events of
 * contexts beyond its size, which the leak check then reports as "cannot
 * tell". Each fence context a run creates comes from an operation of its
 * workers (an open, a sw_sync timeline): 157 vb2 contexts in a 60 s run on
 * the debug kernel. The sizes allow 16 contexts a second (one an operation
 * with -n) for dma_fence_init, filtered to vb2's fences, and twice that for
 * dma_fence_destroy, which counts every driver's (a fence that has
 * signalled no longer names its driver). The kernel preallocates every
 * entry when the trigger is set and frees them when it is removed: on a
 * debug kernel under emulation, 16384 entries took 14 s, so a short run
 * does not get the room of a long one.
 */
static char hist_init[160], hist_destroy[96], hist_init_tag[24], hist_destroy_tag[24];

static void hist_strings(void)
{
	unsigned long want = cfg.secs ? 16UL * cfg.secs : cfg.ops;
	unsigned int size = 2048;

	while (size < want && size < 32768)
		size <<= 1;
	snprintf(hist_init, sizeof(hist_init),
		 "hist:keys=context:size=%u if driver == \"" FENCE_DRIVER "\"", size);
	snprintf(hist_destroy, sizeof(hist_destroy), "hist:keys=context:sort=context:size=%u",
		 2 * size);
	snprintf(hist_init_tag, sizeof(hist_init_tag), ":size=%u", size);
	snprintf(hist_destroy_tag, sizeof(hist_destroy_tag), ":size=%u", 2 * size);
}

/* Removes a trigger whatever its size: the kernel does not compare sizes. */
static void hist_remove(const char *event, const char *trigger)
{
	char path[128], cmd[200];

	snprintf(path, sizeof(path), DMA_FENCE_EVENTS "/%s/trigger", event);
	snprintf(cmd, sizeof(cmd), "!%s", trigger);
	write_file(path, cmd);
}

static void hist_stop(void)
{
	hist_remove("dma_fence_init", hist_init);
	hist_remove("dma_fence_destroy", hist_destroy);
}

static int hist_start(void)
{
	int ret;

	if (access(DMA_FENCE_EVENTS, F_OK))
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	if (access(DMA_FENCE_EVENTS, F_OK))
		return -ENOENT;
	hist_strings();
	hist_stop();	/* a run that died may have left them */
	ret = write_file(DMA_FENCE_EVENTS "/dma_fence_init/trigger", hist_init);
	if (!ret)
		ret = write_file(DMA_FENCE_EVENTS "/dma_fence_destroy/trigger", hist_destroy);
	if (ret)
		hist_stop();
	return ret;
}

struct hits {
	unsigned long long ctx, n;
};

static int cmp_hits(const void *a, const void *b)
{
	const struct hits *x = a, *y = b;

	return x->ctx < y->ctx ? -1 : x->ctx > y->ctx;
}

/* Entries of our histogram (its trigger info has @tag) of dma_fence event @event. */
static int hist_read(const char *event, const char *tag, struct hits **out, long *dropped)
{
	unsigned long long c, n;
	char path[128], line[512];
	int count = 0, room = 0;
	bool ours = false;
	struct hits *h;
	FILE *f;

	snprintf(path, sizeof(path), DMA_FENCE_EVENTS "/%s/hist", event);
	*out = NULL;
	*dropped = 0;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "# trigger info:", 15))
			ours = strstr(line, tag);
		if (ours && sscanf(line, " Dropped: %llu", &n) == 1)
			*dropped = n;
		if (!ours || sscanf(line, "{ context: %llu } hitcount: %llu", &c, &n) != 2)
			continue;
		if (count == room) {
			h = realloc(*out, (room + 1024) * sizeof(*h));
			if (!h)
				break;
			*out = h;
			room += 1024;
		}
		(*out)[count].ctx = c;
		(*out)[count++].n = n;
	}
	fclose(f);
	return count;
}

/* F8: 0 pass, 1 fail, -1 cannot tell; @why says what was found. */
static int leak_check(char *why, size_t len)
{
	unsigned long long worst = 0;
	long da, db, alive, created;
	int na, nb, i, waited;
	struct hits *a, *b, *hit;

	for (waited = 0;; waited += 100) {
		na = hist_read("dma_fence_init", hist_init_tag, &a, &da);
		nb = hist_read("dma_fence_destroy", hist_destroy_tag, &b, &db);
		if (na < 0 || nb < 0 || da || db) {
			snprintf(why, len, "%s", na < 0 || nb < 0 ? "cannot read the histograms" :
				 "the histograms are full and dropped events: a shorter run can tell");
			free(a);
			free(b);
			return -1;
		}
		qsort(b, nb, sizeof(*b), cmp_hits);
		for (i = 0, alive = 0, created = 0; i < na; i++) {
			hit = bsearch(&a[i], b, nb, sizeof(*b), cmp_hits);
			created += a[i].n;
			if (a[i].n > (hit ? hit->n : 0)) {
				alive += a[i].n - (hit ? hit->n : 0);
				worst = a[i].ctx;
			}
		}
		free(a);
		free(b);
		if (!alive || waited >= 5000)
			break;
		usleep(100000);	/* fput and RCU work still under way */
	}
	snprintf(why, len, "%ld producer fences created in %d vb2 contexts, %ld alive", created,
		 na, alive);
	if (alive)
		snprintf(why + strlen(why), len - strlen(why), " (e.g. of context %llu)", worst);
	return !!alive;
}

/* One job on a fresh context, after everything: 0, or what went wrong in @why. */
static int clean_job(char *why, size_t len)
{
	struct sync_fence_info info[MAX_FENCES];
	int ret, dmabuf = -1, sync_fd = -1;
	struct m2m_buf_state st;
	bool caught = false;
	struct m2m_dev d;
	long bad = 0;

	ret = m2m_open(&d, cfg.driver);
	if (!ret) {
		m2m_set_ctrl_by_name(d.fd, TRANS_TIME_CTRL, 200, NULL);
		if (cfg.is_test_dev)
			m2m_set_ctrl_by_name(d.fd, JOB_RESULT_CTRL, DONE, NULL);
		ret = m2m_set_formats(&d, 0, 0, 64, 64);
	}
	if (!ret)
		ret = m2m_reqbufs(&d, &d.out, 1);
	if (!ret)
		ret = m2m_reqbufs(&d, &d.cap, 1);
	if (!ret) {
		fill_pattern(d.out.bufs[0].map[0], d.out.bufs[0].length[0], 7);
		dmabuf = m2m_expbuf(&d, &d.cap, 0, 0, O_RDWR | O_CLOEXEC);
		ret = dmabuf < 0 ? dmabuf : 0;
	}
	if (!ret)
		ret = m2m_qbuf(&d, &d.cap, 0);
	if (!ret)
		ret = m2m_qbuf(&d, &d.out, 0);
	if (!ret)
		ret = m2m_streamon(&d, &d.out);
	if (!ret)
		ret = m2m_streamon(&d, &d.cap);
	if (!ret)
		sync_fd = dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	if (ret || sync_fd < 0) {
		snprintf(why, len, "%s", m2m_strerror());
		goto out;
	}
	caught = sync_file_fences(sync_fd, info, MAX_FENCES) == 1 && !info[0].status &&
		!strncmp(info[0].driver_name, FENCE_DRIVER, sizeof(info[0].driver_name));
	ret = -EIO;
	if (poll_fd(sync_fd, POLLIN, cfg.bound_ms) <= 0)
		snprintf(why, len, "its fence did not signal within %d ms", cfg.bound_ms);
	else if (sync_file_status(sync_fd) != 1)
		snprintf(why, len, "its fence signalled with status %d", sync_file_status(sync_fd));
	else if (m2m_dqbuf(&d, &d.cap, &st, cfg.bound_ms))
		snprintf(why, len, "%s", m2m_strerror());
	else if (st.flags & V4L2_BUF_FLAG_ERROR)
		snprintf(why, len, "DQBUF carries V4L2_BUF_FLAG_ERROR");
	else if (cfg.is_test_dev)
		bad = frame_bad(&d, st.index, st.sequence, 7);
	if (bad > 0)
		snprintf(why, len, "%ld bytes are not the frame", bad);
	else if (bad < 0)
		snprintf(why, len, "the frame could not be compared");
	else if (!why[0])
		ret = 0;
	if (!ret)
		snprintf(why, len, "its producer fence %s, signalled without error, frame %s",
			 caught ? "caught pending" : "not caught pending (fences off?)",
			 cfg.is_test_dev ? "right" : "not checked");
out:
	if (sync_fd >= 0)
		close(sync_fd);
	if (dmabuf >= 0)
		close(dmabuf);
	m2m_close(&d);
	return ret;
}

/* Put back what destructive operations may have left changed. */
static void restore_device(void)
{
	char cmd[240];

	kill_switch_restore(&cfg.kill_switch);
	if (!cfg.destructive)
		return;
	snprintf(cmd, sizeof(cmd), "modprobe %s %s", DEFAULT_DRIVER, cfg.modargs);
	if (cfg.modprobed && access(MOD_DIR, F_OK) && system(cmd))
		printf("# %s failed\n", cmd);
	if (cfg.devname[0] && !bound_to_driver())
		write_file(PDRV_DIR "/bind", cfg.devname);
}

/*
 * Reap the workers, stop them when the time is up, and report an operation
 * that does not return (a kernel wait that should be bounded). Returns the
 * number of such failures; *@wedged when workers could not even be killed.
 */
static int watch_workers(pid_t *pids, bool *wedged)
{
	uint64_t start = now_us(), stuck_us = (2ULL * cfg.bound_ms + 30000) * 1000;
	uint64_t now, since, kill_at = 0, give_up = 0;
	unsigned int alive = cfg.procs, i;
	int failed = 0, status;
	bool stuck = false;
	pid_t pid;

	*wedged = false;
	while (alive && !*wedged) {
		usleep(50000);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < cfg.procs; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = 0;
				alive--;
				if (!stuck && (!WIFEXITED(status) || WEXITSTATUS(status))) {
					printf("# FAIL worker p%u ended with wait status 0x%x\n", i,
					       status);
					failed++;
				}
			}
		now = now_us();
		if (cfg.secs && now - start > cfg.secs * 1000000ULL)
			__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
		for (i = 0; !stuck && i < cfg.procs * cfg.threads; i++) {
			since = __atomic_load_n(&sh->busy[i].since, __ATOMIC_SEQ_CST);
			if (!since || now < since + stuck_us)
				continue;
			printf("# FAIL p%u t%u: %s has not returned for %.0f s%s\n",
			       i / cfg.threads, i % cfg.threads, ops[sh->busy[i].op].name,
			       (now - since) / 1e6, ": see the hung-task report");
			stuck = true;
			failed++;
			__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
			kill_at = now + 10000000;
		}
		if (kill_at && now > kill_at) {
			for (i = 0; i < cfg.procs; i++)
				if (pids[i])
					kill(pids[i], SIGKILL);
			kill_at = 0;
			give_up = now + 10000000;
		}
		*wedged = give_up && now > give_up;
	}
	if (*wedged)
		printf("# %u worker(s) do not die: stuck in the kernel\n", alive);
	return failed;
}

static void final_checks(int hist)
{
	char why[256] = "";
	int ret, published, signalled, i;

	ret = clean_job(why, sizeof(why));
	ksft_test_result(!ret, "clean job after the stress: %s\n", why);

	published = read_stat("published");
	signalled = read_stat("signalled");
	for (i = 0; published >= 0 && published != signalled && i < 20; i++) {
		usleep(100000);
		published = read_stat("published");
		signalled = read_stat("signalled");
	}
	if (!cfg.is_test_dev || published < 0 || signalled < 0)
		ksft_test_result_skip("published producer fences all signalled: no %s\n", STATS);
	else
		ksft_test_result(published == signalled,
				 "published producer fences all signalled: %d published, %d signalled, %d with an error, %d by the watchdog\n",
				 published, signalled, read_stat("errored"), read_stat("watchdog"));

	ret = hist ? -1 : leak_check(why, sizeof(why));
	if (ret < 0)
		ksft_test_result_skip("no vb2 fence object alive: %s\n",
				      hist ? hist_error(hist) : why);
	else
		ksft_test_result(!ret, "no vb2 fence object alive after close: %s\n", why);
}

static void print_counts(void)
{
	char line[4096];
	unsigned long total = 0;
	unsigned int i;
	int n = 0;

	for (i = 0; i < NR_OPS; i++) {
		total += sh->ops[i];
		n += snprintf(line + n, sizeof(line) - n, "%s%s %lu", i ? ", " : "", ops[i].name,
			      sh->ops[i]);
	}
	printf("# %lu operations: %s\n", total, line);
	for (i = 0, n = 0; i < NR_CHECKS; i++)
		n += snprintf(line + n, sizeof(line) - n, "%s%s %lu", i ? ", " : "",
			      check_names[i], sh->checks[i]);
	printf("# checks: %s\n", line);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "destructive", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env_driver = getenv("VB2_RESV_DRIVER"), *env;
	int socks[2 * MAX_PROCS], opt, hist, failed, n;
	unsigned long total = 0;
	pid_t pids[MAX_PROCS];
	bool secs_set = false;
	char replay[256];
	unsigned int i;
	bool wedged;

	cfg.driver = env_driver && *env_driver ? env_driver : DEFAULT_DRIVER;
	env = getenv("VB2_RESV_HEAP");
	cfg.heap = env && *env ? env : "system";
	env = getenv("VB2_STRESS_LOG");
	snprintf(cfg.logdir, sizeof(cfg.logdir), "%s", env && *env ? env : "/tmp");
	cfg.seed = ((uint64_t)time(NULL) << 20) ^ ((uint64_t)getpid() << 4) ^ (now_us() & 0xfffff);
	while ((opt = getopt_long(argc, argv, "d:t:n:s:p:T:vlh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			cfg.driver = optarg;
			break;
		case 't':
			cfg.secs = strtoul(optarg, NULL, 0);
			secs_set = true;
			break;
		case 'n':
			cfg.ops = strtoul(optarg, NULL, 0);
			break;
		case 's':
			cfg.seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			cfg.procs = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			cfg.threads = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'D':
			cfg.destructive = true;
			break;
		case 'l':
			list_ops();
			return 0;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return KSFT_FAIL;
		}
	}
	if (optind < argc || !cfg.procs || cfg.procs > MAX_PROCS || !cfg.threads ||
	    cfg.threads > MAX_THREADS) {
		print_usage(stderr);
		return KSFT_FAIL;
	}
	if (cfg.ops && !secs_set)
		cfg.secs = 0;
	if (!cfg.ops && !cfg.secs)
		cfg.secs = 60;
	n = snprintf(replay, sizeof(replay), "fence_stress -s %llu -d %s -p %u -T %u%s",
		     (unsigned long long)cfg.seed, cfg.driver, cfg.procs, cfg.threads,
		     cfg.destructive ? " --destructive" : "");
	if (cfg.ops)
		n += snprintf(replay + n, sizeof(replay) - n, " -n %lu", cfg.ops);
	if (cfg.secs)
		snprintf(replay + n, sizeof(replay) - n, " -t %u", cfg.secs);

	ksft_print_header();
	printf("# seed %llu; replay: %s\n", (unsigned long long)cfg.seed, replay);
	setup_device();
	ksft_set_plan(4);
	printf("# %s, %u process(es) of %u thread(s), bound %d ms (watchdog %d ms), heap %s\n",
	       cfg.driver, cfg.procs, cfg.threads, cfg.bound_ms, cfg.watchdog_ms, cfg.heap);
	printf("# operation logs: %s/fence_stress-%llu-p*.log\n", cfg.logdir,
	       (unsigned long long)cfg.seed);
	hist = hist_start();
	if (hist)
		printf("# no count of live fences: %s\n", hist_error(hist));

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < cfg.procs; i++)
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, &socks[2 * i]))
			ksft_exit_fail_msg("socketpair: %s\n", strerror(errno));
	t_start = now_us();
	fflush(stdout);
	for (i = 0; i < cfg.procs; i++) {
		pids[i] = fork();
		if (!pids[i])
			worker(i, socks);
		if (pids[i] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	}
	for (i = 0; i < 2 * cfg.procs; i++)
		close(socks[i]);

	failed = watch_workers(pids, &wedged);
	restore_device();
	for (i = 0; i < NR_OPS; i++)
		total += sh->ops[i];
	ksft_test_result(!sh->failures && !failed,
			 "random operations: %lu in %.1f s, %d failure(s)%s%s\n", total,
			 ms_since(t_start) / 1000, sh->failures + failed,
			 sh->failures ? ", the first: " : "", sh->failure);
	if (wedged) {
		ksft_test_result_skip("clean job after the stress: workers stuck\n");
		ksft_test_result_skip("published producer fences all signalled: workers stuck\n");
		ksft_test_result_skip("no vb2 fence object alive: workers stuck\n");
	} else {
		final_checks(hist);
	}
	if (!hist)
		hist_stop();
	print_counts();
	printf("# %s\n",
	       "kernel reports (KASAN, lockdep, WARN, hung tasks) are for the harness to check in dmesg");
	if (ksft_get_fail_cnt())
		printf("# replay: %s\n", replay);
	ksft_finished();
}
