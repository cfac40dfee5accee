// SPDX-License-Identifier: GPL-2.0
/*
 * fence_stress's oracle: the producer-fence contract (CONTRACT.md) checked
 * on what the operations see, and after the run.
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
 *    producer fence (F4) and, dequeued without error, it holds the frame
 *    the test module writes if every OUTPUT buffer of its context held the
 *    context's pattern, at the same size, for as long as it was queued: its
 *    job may have read any of them, and have ended long before the DQBUF,
 *    even before a REQBUFS of OUTPUT gave the context new buffers
 *    (c->out_std now and no slot->old_src, fence_stress_ops.c).
 * Once every worker has exited:
 *  - the device runs a clean job: its fence signals without error, DQBUF
 *    carries no error flag, the frame is the test module's;
 *  - F5: the test module counted a signal for every publication, so no path
 *    left a fence pending, not even one user space never saw;
 *  - F8: no fence object of a vb2 context is alive: hist triggers keyed by
 *    context on dma_fence_init (driver "vb2") and dma_fence_destroy, as
 *    fence_soak counts them (skipped, saying so, without CONFIG_HIST_TRIGGERS).
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
#include <sys/mount.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#include "fence_stress.h"

const char *const check_names[NR_CHECKS] = {
	"producer fences caught pending", "signalled within the bound",
	"error status compared with DQBUF", "idle after DQBUF", "frames compared",
	"bounded polls",
};

void count(int check)
{
	__atomic_add_fetch(&sh->checks[check], 1, __ATOMIC_RELAXED);
}

/* Watched producer fences: F4, F5, F6 */

/* Pending producer fences of sync_file @fd as a bit mask; @other: something else pending. */
int inspect(int fd, uint32_t *vb2, bool *other)
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

uint64_t deadline_of(struct watched *w)
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
void check_watched(struct thr *t, bool wait)
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
void watch_export(struct thr *t, struct obj *o, uint32_t flags)
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
int slot_pending_vb2(struct thr *t, struct ctx *c, unsigned int idx)
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
void dqbuf_checks(struct thr *t, struct ctx *c, const struct m2m_buf_state *st)
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
	if (error || !c->out_std || !cfg.is_test_dev || s->old_src)
		return;
	bad = frame_bad(&c->dev, st->index, st->sequence, c->pattern);
	if (bad >= 0)
		count(CK_FRAME);
	if (bad > 0)
		failure(t,
			"c%d CAPTURE %u (sequence %u) dequeued without error: %ld bytes are not the frame",
			ci(t, c), st->index, st->sequence, bad);
}

/* After the run: F5, F8 and a clean job */

const char *hist_error(int hist)
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

void hist_stop(void)
{
	hist_remove("dma_fence_init", hist_init);
	hist_remove("dma_fence_destroy", hist_destroy);
}

int hist_start(void)
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
int leak_check(char *why, size_t len)
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
int clean_job(char *why, size_t len)
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
