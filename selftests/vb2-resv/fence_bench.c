// SPDX-License-Identifier: GPL-2.0
/*
 * fence_bench - what producer fences cost, fences on and off, in one boot.
 *
 *   fence_bench [-d driver] [-j jobs] [-r runs] [-c contexts] [-l samples]
 *               [-S scale-jobs]
 *
 * Three measurements on the device (default driver: vb2-resv-test, whose
 * "Transaction Time (msec)" is set to 0 for the throughput runs), each with
 * the kill switch videobuf2_common.producer_fences off and on, alternating
 * so that both see the same conditions:
 *
 *  - throughput: round trips per second (QBUF OUTPUT and CAPTURE, the job,
 *    DQBUF both) over @jobs jobs on one context with four buffers per
 *    queue, @runs times each way; the median, the spread (min..max), the
 *    ratio on/off and the difference per job in microseconds;
 *  - wake-up latency: @samples jobs of 20 ms; one thread blocks in poll()
 *    on the CAPTURE dma-buf, another in poll() on the video node waiting to
 *    DQBUF. Each wake-up is measured from the fence's signal timestamp
 *    (SYNC_IOC_FILE_INFO), the moment vb2 completed the buffer;
 *  - contexts: @contexts contexts, one thread each, sharing @jobs * 2 jobs;
 *    throughput per context, fences off and on, @runs times each way;
 *  - scale: @contexts contexts sharing @scale jobs, once fences off and once
 *    on: throughput per context, the most fences one CAPTURE buffer's
 *    dma_resv held (sampled during the run from debugfs's bufinfo), and the
 *    fence objects the queues created and freed (hist triggers on the
 *    dma_fence_init and dma_fence_destroy events), counted after every fd
 *    is closed: all of them freed means the live count is back where it
 *    started.
 *
 * Prints a Markdown table. Exit 0 when every measurement ran, 1 on an
 * error, 4 (KSFT_SKIP) when there is no device. Not a pass/fail test: the
 * numbers are for people; `make bench` keeps them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "kselftest.h"
#include "m2m_util.h"

#define KILL_SWITCH	"/sys/module/videobuf2_common/parameters/producer_fences"
#define TRANS_TIME_CTRL	"Transaction Time (msec)"
#define NBUFS		4
#define MAX_RUNS	15
#define MAX_CTX		32
#define MAX_SAMPLES	1000
#define TIMEOUT_MS	10000

static const char *driver = "vb2-resv-test";
static int saved_switch = -1;

/* Leave the kill switch as it was found, whatever happens. */
static void restore_switch(void)
{
	if (saved_switch >= 0)
		write_file(KILL_SWITCH, saved_switch ? "1" : "0");
}

static void die(const char *what)
{
	fprintf(stderr, "fence_bench: %s: %s\n", what, m2m_strerror());
	exit(1);
}

static void set_fences(bool on)
{
	if (write_file(KILL_SWITCH, on ? "1" : "0")) {
		fprintf(stderr, "fence_bench: cannot write %s\n", KILL_SWITCH);
		exit(1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A context with NBUFS buffers per queue, jobs of @job_ms, streaming. */
static void ctx_open(struct m2m_dev *dev, int job_ms, unsigned int nbufs)
{
	unsigned int i;
	int ret;

	ret = m2m_open(dev, driver);
	if (ret == -ENOENT) {
		printf("fence_bench: no %s device: modprobe %s\n", driver, driver);
		exit(KSFT_SKIP);
	}
	if (ret)
		die("open");
	if (m2m_set_ctrl_by_name(dev->fd, TRANS_TIME_CTRL, job_ms, NULL) &&
	    job_ms)
		die("set " TRANS_TIME_CTRL);
	if (m2m_set_formats(dev, 0, 0, 64, 64) ||
	    m2m_reqbufs(dev, &dev->out, nbufs) || m2m_reqbufs(dev, &dev->cap, nbufs))
		die("formats and buffers");
	for (i = 0; i < nbufs; i++)
		fill_pattern(dev->out.bufs[i].map[0], dev->out.bufs[i].length[0], i);
}

static void ctx_start(struct m2m_dev *dev, unsigned int nbufs)
{
	unsigned int i;

	for (i = 0; i < nbufs; i++)
		if (m2m_qbuf(dev, &dev->cap, i) || m2m_qbuf(dev, &dev->out, i))
			die("QBUF");
	if (m2m_streamon(dev, &dev->out) || m2m_streamon(dev, &dev->cap))
		die("STREAMON");
}

/* Run @jobs round trips on a streaming context: DQBUF both, QBUF both back. */
static void ctx_cycle(struct m2m_dev *dev, long jobs)
{
	struct m2m_buf_state st;
	long done;

	for (done = 0; done < jobs; done++) {
		if (m2m_dqbuf(dev, &dev->cap, &st, TIMEOUT_MS))
			die("DQBUF CAPTURE");
		if (done + NBUFS < jobs && m2m_qbuf(dev, &dev->cap, st.index))
			die("QBUF CAPTURE");
		if (m2m_dqbuf(dev, &dev->out, &st, TIMEOUT_MS))
			die("DQBUF OUTPUT");
		if (done + NBUFS < jobs && m2m_qbuf(dev, &dev->out, st.index))
			die("QBUF OUTPUT");
	}
}

struct worker {
	pthread_t thread;
	long jobs;
	double seconds;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct m2m_dev dev;
	uint64_t t0;

	ctx_open(&dev, 0, NBUFS);
	t0 = now_us();
	ctx_start(&dev, NBUFS);
	ctx_cycle(&dev, w->jobs);
	w->seconds = (now_us() - t0) / 1e6;
	m2m_close(&dev);
	return NULL;
}

/* Jobs per second of each of @n contexts running @jobs_each at once. */
static double run_contexts(int n, long jobs_each)
{
	struct worker w[MAX_CTX];
	double rate = 0;
	int i;

	for (i = 0; i < n; i++) {
		w[i].jobs = jobs_each;
		if (pthread_create(&w[i].thread, NULL, worker_run, &w[i]))
			die("pthread_create");
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		rate += w[i].jobs / w[i].seconds;
	}
	return rate / n;
}

static void throughput(long jobs, int runs, int contexts, const char *what)
{
	double off[MAX_RUNS], on[MAX_RUNS], m_off, m_on;
	int r;

	/* Alternate which goes first, so that neither always runs warmer. */
	for (r = 0; r < runs; r++) {
		set_fences(r % 2);
		(r % 2 ? on : off)[r] = run_contexts(contexts, jobs / contexts);
		set_fences(!(r % 2));
		(r % 2 ? off : on)[r] = run_contexts(contexts, jobs / contexts);
	}
	m_off = median(off, runs);
	m_on = median(on, runs);
	printf("| %s | %.0f (%.0f..%.0f) | %.0f (%.0f..%.0f) | %.3f | %+.1f |\n", what,
	       m_off, off[0], off[runs - 1], m_on, on[0], on[runs - 1], m_on / m_off,
	       1e6 / m_on - 1e6 / m_off);
}

struct scale_worker {
	pthread_t thread;
	long jobs;
	double seconds;
	int dmabuf[NBUFS];
	int state;		/* 0 starting, 1 running (dmabuf[] valid), 2 done */
	uint64_t context;	/* the CAPTURE queue's fence context */
};

static void *scale_run(void *arg)
{
	struct scale_worker *w = arg;
	struct m2m_dev dev;
	unsigned int i;
	uint64_t t0, seqno;

	ctx_open(&dev, 0, NBUFS);
	for (i = 0; i < NBUFS; i++) {
		w->dmabuf[i] = m2m_expbuf(&dev, &dev.cap, i, 0, O_RDWR | O_CLOEXEC);
		if (w->dmabuf[i] < 0)
			die("EXPBUF");
	}
	__atomic_store_n(&w->state, 1, __ATOMIC_RELEASE);
	t0 = now_us();
	ctx_start(&dev, NBUFS);
	ctx_cycle(&dev, w->jobs);
	w->seconds = (now_us() - t0) / 1e6;
	if (dmabuf_resv_fences(w->dmabuf[0], &w->context, &seqno, 1) < 1)
		w->context = 0;
	m2m_close(&dev);
	__atomic_store_n(&w->state, 2, __ATOMIC_RELEASE);
	return NULL;
}

struct scale_result {
	double rate;		/* jobs/s per context */
	int most_fences;	/* on one buffer, at any sample */
	long created, freed;	/* fence objects of the queues; -1: not counted */
};

static void scale_once(int n, long jobs, bool counted, struct scale_result *r)
{
	struct scale_worker w[MAX_CTX];
	long c, f;
	int i, b, done, fences;
	uint64_t ctx, seqno;

	memset(w, 0, sizeof(w));
	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		w[i].jobs = jobs / n;
		if (pthread_create(&w[i].thread, NULL, scale_run, &w[i]))
			die("pthread_create");
	}
	do {
		usleep(250000);
		for (i = 0, done = 0; i < n; i++) {
			int state = __atomic_load_n(&w[i].state, __ATOMIC_ACQUIRE);

			done += state == 2;
			for (b = 0; state >= 1 && b < NBUFS; b++) {
				fences = dmabuf_resv_fences(w[i].dmabuf[b], &ctx,
							    &seqno, 1);
				if (fences > r->most_fences)
					r->most_fences = fences;
			}
		}
	} while (done < n);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		for (b = 0; b < NBUFS; b++)
			close(w[i].dmabuf[b]);
		r->rate += w[i].jobs / w[i].seconds / n;
	}
	/* Every fd of the queues is closed: count what is still alive. */
	r->created = r->freed = counted ? 0 : -1;
	for (i = 0; counted && i < n; i++) {
		if (!w[i].context)
			continue;
		if (fence_hist_count(w[i].context, &c, &f, NULL, NULL))
			die("counting fences");
		r->created += c;
		r->freed += f;
	}
}

static void scale(long jobs, int contexts)
{
	struct scale_result off, on;
	bool counted = !fence_hist_start();

	if (!counted)
		fprintf(stderr, "fence_bench: fence objects not counted: %s\n",
			m2m_strerror());
	set_fences(false);
	scale_once(contexts, jobs, counted, &off);
	set_fences(true);
	scale_once(contexts, jobs, counted, &on);
	if (counted)
		fence_hist_stop();

	printf("\n| scale: %d contexts at once, %ld jobs in all, 0 ms jobs | fences off | fences on | on/off |\n"
	       "|---|---|---|---|\n", contexts, jobs / contexts * contexts);
	printf("| jobs/s per context | %.0f | %.0f | %.3f |\n", off.rate, on.rate,
	       on.rate / off.rate);
	printf("| most fences one CAPTURE buffer held, sampled every 250 ms | %d | %d | |\n",
	       off.most_fences, on.most_fences);
	if (counted)
		printf("| fence objects the queues created / freed, all fds closed | %ld / %ld | %ld / %ld | |\n",
		       off.created, off.freed, on.created, on.freed);
}

struct waiter {
	pthread_t thread;
	int fd;
	short events;
	uint64_t woke_ns;
};

static void *wait_fd(void *arg)
{
	struct waiter *w = arg;
	struct pollfd p = { .fd = w->fd, .events = w->events };

	if (poll(&p, 1, TIMEOUT_MS) == 1)
		w->woke_ns = now_us() * 1000;
	return NULL;
}

/* Median wake-up, in us after the fence's signal, of each kind of waiter. */
static void latency(int samples)
{
	double dmabuf[MAX_SAMPLES], dqbuf[MAX_SAMPLES], m_dmabuf, m_dqbuf;
	struct sync_fence_info info;
	struct waiter wd, wv;
	struct m2m_buf_state st;
	struct m2m_dev dev;
	int i, n = 0, buf, sync_fd;

	set_fences(true);
	ctx_open(&dev, 20, 1);
	buf = m2m_expbuf(&dev, &dev.cap, 0, 0, O_RDWR | O_CLOEXEC);
	if (buf < 0)
		die("EXPBUF");
	if (m2m_streamon(&dev, &dev.out) || m2m_streamon(&dev, &dev.cap))
		die("STREAMON");
	for (i = 0; i < samples; i++) {
		wd = (struct waiter){ .fd = buf, .events = POLLIN };
		wv = (struct waiter){ .fd = dev.fd, .events = POLLIN };
		if (m2m_qbuf(&dev, &dev.cap, 0) || m2m_qbuf(&dev, &dev.out, 0))
			die("QBUF");
		sync_fd = dmabuf_export_sync_file(buf, DMA_BUF_SYNC_READ);
		if (sync_fd < 0 || sync_file_status(sync_fd) != 0) {
			/* The job ended before the waiters could start: skip it. */
			if (sync_fd >= 0)
				close(sync_fd);
			goto dequeue;
		}
		pthread_create(&wd.thread, NULL, wait_fd, &wd);
		pthread_create(&wv.thread, NULL, wait_fd, &wv);
		pthread_join(wd.thread, NULL);
		pthread_join(wv.thread, NULL);
		if (sync_file_fences(sync_fd, &info, 1) == 1 && wd.woke_ns && wv.woke_ns &&
		    wd.woke_ns >= info.timestamp_ns && n < MAX_SAMPLES) {
			dmabuf[n] = (wd.woke_ns - info.timestamp_ns) / 1e3;
			dqbuf[n] = (wv.woke_ns - info.timestamp_ns) / 1e3;
			n++;
		}
		close(sync_fd);
dequeue:
		if (m2m_dqbuf(&dev, &dev.cap, &st, TIMEOUT_MS) ||
		    m2m_dqbuf(&dev, &dev.out, &st, TIMEOUT_MS))
			die("DQBUF");
	}
	close(buf);
	m2m_close(&dev);
	if (!n) {
		fprintf(stderr, "fence_bench: no wake-up measured\n");
		exit(1);
	}
	m_dmabuf = median(dmabuf, n);
	m_dqbuf = median(dqbuf, n);
	printf("\n| wake-up after the device completed the job (%d jobs) | median | min..max |\n"
	       "|---|---|---|\n", n);
	printf("| `poll(POLLIN)` on the CAPTURE dma-buf | %.0f us | %.0f..%.0f us |\n",
	       m_dmabuf, dmabuf[0], dmabuf[n - 1]);
	printf("| `poll(POLLIN)` on the video node (DQBUF) | %.0f us | %.0f..%.0f us |\n",
	       m_dqbuf, dqbuf[0], dqbuf[n - 1]);
	printf("| ratio dma-buf / DQBUF | %.2f | |\n", m_dmabuf / m_dqbuf);
}

int main(int argc, char **argv)
{
	int opt, runs = 5, contexts = 16, samples = 200;
	long jobs = 10000, scale_jobs = 100000;
	char what[64];

	while ((opt = getopt(argc, argv, "d:j:r:c:l:S:")) != -1) {
		switch (opt) {
		case 'd':
			driver = optarg;
			break;
		case 'j':
			jobs = atol(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'c':
			contexts = atoi(optarg);
			break;
		case 'l':
			samples = atoi(optarg);
			break;
		case 'S':
			scale_jobs = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: fence_bench [-d driver] [-j jobs] [-r runs] [-c contexts] [-l samples] [-S scale-jobs]\n");
			return 1;
		}
	}
	if (jobs < NBUFS || runs < 1 || runs > MAX_RUNS || contexts < 1 ||
	    contexts > MAX_CTX || samples < 1 || samples > MAX_SAMPLES ||
	    scale_jobs / contexts < NBUFS) {
		fprintf(stderr, "fence_bench: -j >= %d, -r 1..%d, -c 1..%d, -l 1..%d, -S >= %d per context\n",
			NBUFS, MAX_RUNS, MAX_CTX, MAX_SAMPLES, NBUFS);
		return 1;
	}
	saved_switch = read_bool_file(KILL_SWITCH);
	if (saved_switch < 0) {
		printf("fence_bench: no %s: a kernel without the series?\n", KILL_SWITCH);
		return KSFT_SKIP;
	}
	atexit(restore_switch);

	printf("| jobs/s, median of %d runs (min..max) | fences off | fences on | on/off | us per job added |\n"
	       "|---|---|---|---|---|\n", runs);
	throughput(jobs, runs, 1, "1 context, 0 ms jobs");
	snprintf(what, sizeof(what), "each of %d contexts at once, 0 ms jobs", contexts);
	throughput(jobs * 2, runs, contexts, what);
	latency(samples);
	scale(scale_jobs, contexts);
	return 0;
}
