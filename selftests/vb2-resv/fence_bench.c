// SPDX-License-Identifier: GPL-2.0
/*
 * fence_bench - what producer fences cost, fences on and off, in one boot.
 *
 *   fence_bench [-d driver] [-j jobs] [-r min-pairs] [-R max-pairs]
 *               [-w width] [-c contexts] [-l samples] [-S scale-jobs]
 *               [-u us -k jobs] [-o pairs.csv] [-O latency.csv] [-L] [-T]
 *               [-C] [-m] [-X]
 *
 * Measurements on the device (default driver: vb2-resv-test, whose
 * "Transaction Time (msec)" is set to 0 for the throughput runs), with the
 * kill switch videobuf2_common.producer_fences off and on:
 *
 *  - throughput: round trips per second (QBUF OUTPUT and CAPTURE, the job,
 *    DQBUF both) over @jobs jobs on one context with four buffers per
 *    queue, in pairs: each pair runs the same jobs once fences off and once
 *    fences on, which goes first alternating from pair to pair, and gives a
 *    ratio on/off and a cost, the microseconds fences add to a job. At
 *    least @min-pairs pairs run; then more, until the distribution-free 95%
 *    interval of the median ratio is narrower than @width or @max-pairs
 *    have run. Reported: the median jobs/s each way with the spread
 *    (min..max), the median ratio and the median cost, each with its
 *    interval, and whether the interval got narrow enough. Then, from the
 *    same pairs, the CPU time of all CPUs per job fences off and on and
 *    what fences add to it, with its interval (/proc/schedstat, a kernel
 *    with CONFIG_SCHEDSTATS), and the wall time they add per job;
 *  - contexts: the same with @contexts contexts at once, one thread each,
 *    sharing @jobs * 2 jobs: throughput per context, CPU and wall time per
 *    job of all contexts, and the CPU time fences add to a job there over
 *    what they add with one context;
 *  - with -u, both once more with jobs of @us microseconds (@jobs of -k,
 *    and twice that for the contexts), the length of a device's work, timed
 *    by the test device's job_us on a high-resolution timer: what fences
 *    cost a job that does something;
 *  - wake-up latency, fences on: jobs of 20 ms, each with one waiter
 *    blocked in the main thread, the kind rotating from job to job: poll()
 *    on the CAPTURE dma-buf, poll() on the video node the way a DQBUF waiter
 *    waits, and DMA_BUF_IOCTL_EXPORT_SYNC_FILE then poll() on the sync_file
 *    (what compositors do); @samples wake-ups of each kind. Each wake-up is
 *    measured from the fence's signal timestamp (SYNC_IOC_FILE_INFO of a
 *    sync_file exported right after QBUF), the moment vb2 completed the
 *    buffer, on the same clock (CLOCK_MONOTONIC). Reported per kind: the
 *    median with its 95% interval and the spread, and the ratios of the
 *    medians to DQBUF's;
 *  - scale: @contexts contexts sharing @scale jobs, once fences off and once
 *    on: throughput per context, the most fences one CAPTURE buffer's
 *    dma_resv held (sampled during the run from debugfs's bufinfo), and the
 *    fence objects the queues created and freed (hist triggers on the
 *    dma_fence_init and dma_fence_destroy events), counted after every fd
 *    is closed: all of them freed means the live count is back where it
 *    started;
 *  - close: @samples times, in pairs fences off and on, which first
 *    alternating, a context set up, one job run and dequeued, then its
 *    buffers unmapped and the video node closed, timed: what releasing a queue that published fences
 *    costs (GStreamer's device probing opens and closes every node).
 *
 * The statistics (medians and their 95% intervals) and the CSV files are
 * fence_bench_stats.c's.
 *
 * The test device counts its fences' signals from a callback it adds to
 * each (vb2-resv-test's count_signals), which no real driver does: its cost
 * would be counted as the fences'. fence_bench turns the counting off while
 * it runs and restores it at exit; -C leaves it on, to measure what that
 * counting adds.
 *
 * -L runs the wake-up measurement alone, -T the throughput alone (both
 * sections of pairs), -X the close() measurement alone. -m writes a line to ftrace's
 * trace_marker as each measured waiter starts to wait and as it has woken
 * ("fence_bench wait|woke KIND pid PID"), so that a trace of the scheduler
 * and dma_fence events can tell where a wake-up's time goes
 * (vmtest/bench-wakeup.py).
 *
 * Prints Markdown tables. With -o, writes one CSV row per pair
 * (section,pair,first,off,on,ratio,us_per_job,cpu_us_off,cpu_us_on,
 * wall_us_added; cpu_us_* -1 when not measured); with -O, one per wake-up
 * (waiter,sample,us). Exit 0 when every measurement ran, 1 on an error,
 * 4 (KSFT_SKIP) when there is no device. Not a pass/fail test: the numbers
 * are for people; `make bench` keeps them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "kselftest.h"
#include "m2m_util.h"
#include "fence_bench_stats.h"

#define COUNT_SIGNALS	"/sys/module/vb2_resv_test/parameters/count_signals"
#define JOB_US		"/sys/module/vb2_resv_test/parameters/job_us"
#define TRANS_TIME_CTRL	"Transaction Time (msec)"
#define NBUFS		4
#define MAX_PAIRS	100
#define MAX_CTX		32
#define MAX_SAMPLES	MAX_VALUES	/* wake-ups of each kind: the most one summary sorts */
#define TIMEOUT_MS	10000

static const char *driver = "vb2-resv-test";
static int marker_fd = -1;	/* ftrace's trace_marker, with -m */
static int saved_switch = -1;
static int saved_count = -1;	/* the test device's count_signals */
static int saved_job_us = -1;	/* and its job_us, once -u has changed it */
static int min_pairs = 10, max_pairs = 40;
static double target_width = 0.02;
static FILE *pairs_csv, *latency_csv;

/* Jobs of the test device take @us more; 0 or a negative errno */
static int set_job_us(long us)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", us);
	return write_file(JOB_US, v);
}

/* Leave the kill switch as it was found, whatever happens. */
static void restore_switch(void)
{
	kill_switch_restore(&saved_switch);
	if (saved_count >= 0)
		write_file(COUNT_SIGNALS, saved_count ? "1" : "0");
	if (saved_job_us >= 0)
		set_job_us(saved_job_us);
}

static void die(const char *what)
{
	fprintf(stderr, "fence_bench: %s: %s\n", what, m2m_strerror());
	exit(1);
}

static void set_fences(bool on)
{
	if (kill_switch_set(on)) {
		fprintf(stderr, "fence_bench: cannot write %s\n", KILL_SWITCH);
		exit(1);
	}
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

/* What the CPUs have done since boot */
struct cpu_count {
	int64_t busy_ns;	/* running tasks other than idle */
	int64_t switches;	/* context switches */
};

/*
 * cpu_count_read() - what the CPUs have done since boot
 *
 * The time: the sum over the CPUs of /proc/schedstat's rq_cpu_time
 * (CONFIG_SCHED_INFO, which CONFIG_SCHEDSTATS selects), counted at every
 * context switch in nanoseconds, where /proc/stat counts in ticks, too
 * coarse for a run of half a second. It includes the kernel's workers,
 * where the test device ends its jobs, and interrupts taken while a task
 * runs; the task running as it is read (this one) counts from its next
 * switch. The switches: /proc/stat's ctxt.
 *
 * Return: 0, or -1 if the kernel does not count them.
 */
static int cpu_count_read(struct cpu_count *c)
{
	unsigned long long n;
	char line[512];
	int version = 0, cpus = 0;
	bool ctxt = false;
	FILE *f;

	memset(c, 0, sizeof(*c));
	f = fopen("/proc/schedstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "version %d", &version) == 1)
			continue;
		/* cpuN yld 0 sched goidle ttwu ttwu_local rq_cpu_time ... */
		if (sscanf(line, "cpu%*u %*u %*u %*u %*u %*u %*u %llu", &n) == 1) {
			c->busy_ns += n;
			cpus++;
		}
	}
	fclose(f);
	f = fopen("/proc/stat", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "ctxt %llu", &n) == 1) {
			c->switches = n;
			ctxt = true;
		}
	}
	if (f)
		fclose(f);
	/* The layout of the cpu lines since version 15 */
	return version >= 15 && cpus && ctxt ? 0 : -1;
}

/* One run of run_contexts() */
struct run {
	double rate;		/* jobs/s of each context, their mean */
	long jobs;		/* of all contexts */
	double wall_us;		/* first start to last end, per job */
	double cpu_us;		/* all CPUs' busy time per job; < 0: not known */
	double switches;	/* context switches per job */
};

/* @n contexts running @jobs_each at once: their rates and the cost of a job. */
static void run_contexts(int n, long jobs_each, struct run *r)
{
	struct worker w[MAX_CTX];
	struct cpu_count c0, c1;
	bool known;
	uint64_t t0;
	int i;

	r->rate = 0;
	r->jobs = jobs_each * n;
	known = !cpu_count_read(&c0);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		w[i].jobs = jobs_each;
		if (pthread_create(&w[i].thread, NULL, worker_run, &w[i]))
			die("pthread_create");
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		r->rate += w[i].jobs / w[i].seconds / n;
	}
	r->wall_us = (double)(now_us() - t0) / r->jobs;
	known &= !cpu_count_read(&c1);
	r->cpu_us = known ? (c1.busy_ns - c0.busy_ns) / 1e3 / r->jobs : -1;
	r->switches = known ? (double)(c1.switches - c0.switches) / r->jobs : -1;
}

/* What fences add to a job in CPU time, one row of print_cpu_rows() */
struct cpu_row {
	char what[64];
	bool cpu_known;		/* off, on and cost are valid */
	struct summary off, on, cost;	/* CPU us per job */
	struct summary wall_cost;	/* wall us per job of all contexts, added */
	struct summary sw_off, sw_on;	/* context switches per job */
};

/*
 * throughput() - jobs per second of each of @contexts contexts, in pairs
 * @jobs: jobs of one run, shared by the contexts
 * @contexts: contexts running at once
 * @section: the name of the row in the CSV: "1ctx", "16ctx"
 * @what: the name of the row in the table
 * @row: the same pairs in CPU and wall time per job, for print_cpu_rows()
 *
 * A pair runs the jobs once fences off and once fences on, one straight
 * after the other: ratio = on / off, cost = the microseconds fences add to
 * a job. Which goes first alternates from pair to pair, so that neither
 * always runs warmer. At least min_pairs pairs, then more until the 95%
 * interval of the median ratio is narrower than target_width, or
 * max_pairs.
 */
static double throughput(long jobs, int contexts, const char *section,
		       const char *what, struct cpu_row *row)
{
	double off[MAX_PAIRS], on[MAX_PAIRS], ratio[MAX_PAIRS], cost[MAX_PAIRS];
	double cpu_off[MAX_PAIRS], cpu_on[MAX_PAIRS], cpu_cost[MAX_PAIRS];
	double wall_cost[MAX_PAIRS], sw_off[MAX_PAIRS], sw_on[MAX_PAIRS];
	struct summary s_off, s_on, s_ratio, s_cost;
	bool narrow = false, on_first, cpu_known = true;
	struct run r_off, r_on;
	int n = 0;

	do {
		on_first = n % 2;
		set_fences(on_first);
		run_contexts(contexts, jobs / contexts, on_first ? &r_on : &r_off);
		set_fences(!on_first);
		run_contexts(contexts, jobs / contexts, on_first ? &r_off : &r_on);
		off[n] = r_off.rate;
		on[n] = r_on.rate;
		ratio[n] = on[n] / off[n];
		cost[n] = 1e6 / on[n] - 1e6 / off[n];
		cpu_off[n] = r_off.cpu_us;
		cpu_on[n] = r_on.cpu_us;
		cpu_cost[n] = r_on.cpu_us - r_off.cpu_us;
		cpu_known &= r_off.cpu_us >= 0 && r_on.cpu_us >= 0;
		sw_off[n] = r_off.switches;
		sw_on[n] = r_on.switches;
		wall_cost[n] = r_on.wall_us - r_off.wall_us;
		if (pairs_csv)
			fprintf(pairs_csv, "%s,%d,%s,%.1f,%.1f,%.6f,%.4f,%.4f,%.4f,%.4f\n",
				section, n + 1, on_first ? "on" : "off", off[n],
				on[n], ratio[n], cost[n], cpu_off[n], cpu_on[n],
				wall_cost[n]);
		summarise(ratio, ++n, &s_ratio);
		narrow = s_ratio.has_ci && s_ratio.hi - s_ratio.lo < target_width;
	} while (n < max_pairs && (n < min_pairs || !narrow));
	summarise(off, n, &s_off);
	summarise(on, n, &s_on);
	summarise(cost, n, &s_cost);
	print_pairs_row(what, n, &s_off, &s_on, &s_ratio, &s_cost, narrow);

	snprintf(row->what, sizeof(row->what), "%s", what);
	row->cpu_known = cpu_known;
	if (cpu_known) {
		summarise(cpu_off, n, &row->off);
		summarise(cpu_on, n, &row->on);
		summarise(cpu_cost, n, &row->cost);
		summarise(sw_off, n, &row->sw_off);
		summarise(sw_on, n, &row->sw_on);
	}
	summarise(wall_cost, n, &row->wall_cost);
	return s_off.median;
}

/*
 * print_cpu_rows() - what fences add to a job in CPU time, row by row
 *
 * The table of pairs gives each context's jobs per second, which with one
 * context on two CPUs does not say how much CPU a job took: the device's
 * worker and the client overlap. This one gives, from the same pairs, the
 * CPU time of all CPUs per job of all contexts, and the wall time per job
 * of all contexts, and, for many contexts, the CPU time fences add to
 * their job over what they add to one context's (the row before), and the
 * context switches per job each way.
 */
static void print_cpu_rows(const struct cpu_row *rows, int nrows)
{
	char b_cost[64], b_wall[64], b_rel[32];
	int i;

	printf("\n| the same pairs, per job of all contexts | CPU us per job, fences off, median (min..max) | fences on | CPU us per job added, median [95%% interval] | many contexts over one | wall us per job added, median [95%% interval] | context switches per job, off / on |\n"
	       "|---|---|---|---|---|---|---|\n");
	for (i = 0; i < nrows; i++) {
		const struct cpu_row *r = &rows[i];

		fmt_ci(b_wall, sizeof(b_wall), &r->wall_cost, 2, true);
		if (!r->cpu_known) {
			printf("| %s | not measured: no /proc/schedstat (CONFIG_SCHEDSTATS) | | | | %s | |\n",
			       r->what, b_wall);
			continue;
		}
		/* Rows come in twos: one context, then many, same jobs */
		if (i % 2 && rows[i - 1].cpu_known && rows[i - 1].cost.median > 0)
			snprintf(b_rel, sizeof(b_rel), "%.2fx",
				 r->cost.median / rows[i - 1].cost.median);
		else
			snprintf(b_rel, sizeof(b_rel), i % 2 ? "n/a" : "");
		printf("| %s | %.2f (%.2f..%.2f) | %.2f (%.2f..%.2f) | %s | %s | %s | %.2f / %.2f |\n",
		       r->what, r->off.median, r->off.min, r->off.max,
		       r->on.median, r->on.min, r->on.max,
		       fmt_ci(b_cost, sizeof(b_cost), &r->cost, 2, true),
		       b_rel, b_wall, r->sw_off.median, r->sw_on.median);
	}
	fflush(stdout);
}

/*
 * Jobs of @us must take about that much longer than jobs of none: if the
 * kernel's timers only fire on the tick (no CONFIG_HIGH_RES_TIMERS), every
 * job waits for the next one, and that wait swallows whatever fences add
 * to the job's path: the ratio would be 1 whatever they cost. @rate and
 * @rate0: the median jobs/s of each of @contexts contexts, fences off,
 * with jobs of @us and of none. A debug kernel's slower path is in both.
 */
static void check_job_length(long us, double rate, double rate0, int contexts)
{
	double more = 1e6 / (rate * contexts) - 1e6 / (rate0 * contexts);

	if (more <= us * 2 + 500)
		return;
	fprintf(stderr, "fence_bench: -u %ld: a job took %.0f us more than one of 0 us, fences off: this kernel's timers cannot time it (CONFIG_HIGH_RES_TIMERS?), and the wait would hide what fences cost\n",
		us, more);
	exit(1);
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

/* Microseconds close() of a context that ran one job took, fences @on. */
static double close_once(bool on)
{
	struct m2m_dev dev;
	uint64_t t0;

	/* The switch is read when the queue is set up: before ctx_open() */
	set_fences(on);
	ctx_open(&dev, 0, 1);
	ctx_start(&dev, 1);
	ctx_cycle(&dev, 1);
	/* The buffers' mappings hold the file too: unmap them with it */
	t0 = now_us();
	m2m_close(&dev);
	return now_us() - t0;
}

static void close_cost(int samples)
{
	static double off[MAX_SAMPLES], on[MAX_SAMPLES], diff[MAX_SAMPLES];
	struct summary s_off, s_on, s_diff;
	char b_off[64], b_on[64], b_diff[64];
	bool on_first;
	int i;

	for (i = 0; i < samples; i++) {
		on_first = i % 2;
		(on_first ? on : off)[i] = close_once(on_first);
		(on_first ? off : on)[i] = close_once(!on_first);
		diff[i] = on[i] - off[i];
	}
	summarise(off, samples, &s_off);
	summarise(on, samples, &s_on);
	summarise(diff, samples, &s_diff);
	printf("\n| close() of the video node after one job, %d pairs fences off and on | fences off | fences on | on - off, per pair |\n"
	       "|---|---|---|---|\n", samples);
	printf("| median us [95%% interval] | %s | %s | %s |\n",
	       fmt_ci(b_off, sizeof(b_off), &s_off, 0, false),
	       fmt_ci(b_on, sizeof(b_on), &s_on, 0, false),
	       fmt_ci(b_diff, sizeof(b_diff), &s_diff, 0, true));
	printf("| spread, min..max us | %.0f..%.0f | %.0f..%.0f | %+.0f..%+.0f |\n",
	       s_off.min, s_off.max, s_on.min, s_on.max, s_diff.min, s_diff.max);
}

/* The kinds of waiter, measured in turn, one per job. */
enum waiter_kind { WAIT_DMABUF, WAIT_DQBUF, WAIT_SYNC_FILE, NR_WAITERS };

static const char *const waiter_name[NR_WAITERS] = {
	[WAIT_DMABUF] = "dma-buf",
	[WAIT_DQBUF] = "dqbuf",
	[WAIT_SYNC_FILE] = "sync_file",
};

static const char *const waiter_what[NR_WAITERS] = {
	[WAIT_DMABUF] = "`poll(POLLIN)` on the CAPTURE dma-buf",
	[WAIT_DQBUF] = "`poll(POLLIN)` on the video node (DQBUF)",
	[WAIT_SYNC_FILE] = "`DMA_BUF_IOCTL_EXPORT_SYNC_FILE`, then `poll(POLLIN)` on the sync_file",
};

/* With -m, a line in the trace, between the kernel's events. */
static void mark(const char *fmt, ...)
{
	char line[96];
	va_list ap;
	int len;

	if (marker_fd < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(marker_fd, line, len) != len) {
		fprintf(stderr, "fence_bench: trace_marker: %s\n", strerror(errno));
		exit(1);
	}
}

/* Block in poll(POLLIN) on @fd; the time it woke, in ns. */
static uint64_t wait_pollin(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	ret = poll(&p, 1, TIMEOUT_MS);
	if (ret == 1 && (p.revents & POLLIN))
		return now_ns();
	if (ret < 0)
		fprintf(stderr, "fence_bench: %s: %s\n", what, strerror(errno));
	else if (ret)
		fprintf(stderr, "fence_bench: %s: revents 0x%x without POLLIN\n",
			what, p.revents);
	else
		fprintf(stderr, "fence_bench: %s: no wake-up within %d ms\n",
			what, TIMEOUT_MS);
	exit(1);
}

/*
 * latency() - wake-up after the fence signalled, one waiter per job
 * @samples: wake-ups of each kind of waiter
 *
 * Jobs of 20 ms on one context, fences on. After QBUF, a sync_file of the
 * CAPTURE buffer's fences is exported; if the fence has signalled already
 * the job is skipped. Otherwise the main thread blocks as the job's kind of
 * waiter, and the wake-up is measured from the signal timestamp the
 * sync_file reports. The kind rotates from one measured job to the next.
 */
static void latency(int samples)
{
	static double us[NR_WAITERS][MAX_SAMPLES];
	struct summary s[NR_WAITERS];
	int n[NR_WAITERS] = { 0 };
	struct sync_fence_info info;
	struct m2m_buf_state st;
	struct m2m_dev dev;
	int i, job, kind = 0, buf, sync_fd;
	char b_ci[64];
	uint64_t woke;

	set_fences(true);
	ctx_open(&dev, 20, 1);
	buf = m2m_expbuf(&dev, &dev.cap, 0, 0, O_RDWR | O_CLOEXEC);
	if (buf < 0)
		die("EXPBUF");
	if (m2m_streamon(&dev, &dev.out) || m2m_streamon(&dev, &dev.cap))
		die("STREAMON");
	/* Twice the jobs needed, room for those skipped. */
	for (job = 0; job < 2 * NR_WAITERS * samples && n[kind] < samples; job++) {
		if (m2m_qbuf(&dev, &dev.cap, 0) || m2m_qbuf(&dev, &dev.out, 0))
			die("QBUF");
		sync_fd = dmabuf_export_sync_file(buf, DMA_BUF_SYNC_READ);
		if (sync_fd < 0)
			die("EXPORT_SYNC_FILE");
		/* The job ended before the waiter could start: skip it. */
		if (sync_file_status(sync_fd) != 0)
			goto dequeue;

		mark("fence_bench wait %s pid %d", waiter_name[kind], getpid());
		switch (kind) {
		case WAIT_DMABUF:
			woke = wait_pollin(buf, "poll(dma-buf)");
			break;
		case WAIT_DQBUF:
			woke = wait_pollin(dev.fd, "poll(video node)");
			break;
		default:
			woke = wait_pollin(sync_fd, "poll(sync_file)");
			break;
		}
		mark("fence_bench woke %s pid %d", waiter_name[kind], getpid());
		/* The fence's own record of its signal, once it has one. */
		wait_pollin(sync_fd, "poll(sync_file) for the timestamp");
		if (sync_file_fences(sync_fd, &info, 1) != 1)
			die("SYNC_IOC_FILE_INFO");
		if (info.status != 1) {
			fprintf(stderr, "fence_bench: the fence signalled with status %d\n",
				info.status);
			exit(1);
		}
		/* Signed: a waiter woken before the signal shows as such. */
		us[kind][n[kind]++] = (int64_t)(woke - info.timestamp_ns) / 1e3;
		kind = (kind + 1) % NR_WAITERS;
dequeue:
		close(sync_fd);
		if (m2m_dqbuf(&dev, &dev.cap, &st, TIMEOUT_MS) ||
		    m2m_dqbuf(&dev, &dev.out, &st, TIMEOUT_MS))
			die("DQBUF");
	}
	close(buf);
	m2m_close(&dev);
	for (kind = 0; kind < NR_WAITERS; kind++) {
		if (!n[kind]) {
			fprintf(stderr, "fence_bench: no %s wake-up measured\n",
				waiter_name[kind]);
			exit(1);
		}
		summarise(us[kind], n[kind], &s[kind]);
		for (i = 0; latency_csv && i < n[kind]; i++)
			fprintf(latency_csv, "%s,%d,%.3f\n", waiter_name[kind],
				i + 1, us[kind][i]);
	}

	printf("\n| wake-up after the fence signalled, one waiter per 20 ms job, kinds in turn | samples | median | 95%% interval of the median | min..max |\n"
	       "|---|---|---|---|---|\n");
	for (kind = 0; kind < NR_WAITERS; kind++) {
		if (s[kind].has_ci)
			snprintf(b_ci, sizeof(b_ci), "[%.1f, %.1f] us",
				 s[kind].lo, s[kind].hi);
		else
			snprintf(b_ci, sizeof(b_ci), "n/a");
		printf("| %s | %d | %.1f us | %s | %.1f..%.1f us |\n",
		       waiter_what[kind], s[kind].n, s[kind].median, b_ci,
		       s[kind].min, s[kind].max);
	}
	printf("| ratio of the medians, dma-buf / DQBUF | | %.2f | | |\n",
	       s[WAIT_DMABUF].median / s[WAIT_DQBUF].median);
	printf("| ratio of the medians, sync_file / DQBUF | | %.2f | | |\n",
	       s[WAIT_SYNC_FILE].median / s[WAIT_DQBUF].median);
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fence_bench [-d driver] [-j jobs] [-r min-pairs] [-R max-pairs]\n"
		"                   [-w width] [-c contexts] [-l samples] [-S scale-jobs]\n"
		"                   [-u us -k jobs] [-o pairs.csv] [-O latency.csv] [-L] [-T]\n"
		"                   [-C] [-m] [-X]\n"
		"  -d  the m2m device's driver (default vb2-resv-test)\n"
		"  -j  jobs of one throughput run (default 10000)\n"
		"  -r  pairs of runs, fences off and on, at least (default 10)\n"
		"  -R  pairs at most, >= -r, <= %d (default 40)\n"
		"  -w  more pairs until the 95%% interval of the median on/off ratio\n"
		"      is narrower than this (default 0.02)\n"
		"  -c  contexts at once (default 16, at most %d)\n"
		"  -l  wake-ups of each kind of waiter (default 200, at most %d)\n"
		"  -S  jobs of the scale run, shared by the contexts (default 100000)\n"
		"  -u  the throughput pairs once more with jobs of this many us (test device)\n"
		"  -k  jobs of one such run (default 1000)\n"
		"  -o  CSV of the pairs: section,pair,first,off,on,ratio,us_per_job,\n"
		"      cpu_us_off,cpu_us_on,wall_us_added\n"
		"  -O  CSV of the wake-ups: waiter,sample,us\n"
		"  -L  the wake-ups alone\n"
		"  -T  the throughput alone (one context, then -c contexts)\n"
		"  -C  leave the test device's signal counting on (a callback per fence)\n"
		"  -m  trace_marker lines around each measured wait\n"
		"  -X  close() of a context after a job alone (-l pairs)\n",
		MAX_PAIRS, MAX_CTX, MAX_SAMPLES);
}

int main(int argc, char **argv)
{
	int opt, contexts = 16, samples = 200;
	bool latency_only = false, throughput_only = false, counting = false;
	bool close_only = false;
	long jobs = 10000, scale_jobs = 100000, job_us = 0, us_jobs = 1000;
	const char *pairs_path = NULL, *latency_path = NULL;
	char what[64], section[16];
	struct cpu_row rows[4];
	double rate0, rate0n;
	int nrows = 0;

	while ((opt = getopt(argc, argv, "d:j:r:R:w:c:l:S:u:k:o:O:LTCmX")) != -1) {
		switch (opt) {
		case 'd':
			driver = optarg;
			break;
		case 'j':
			jobs = atol(optarg);
			break;
		case 'r':
			min_pairs = atoi(optarg);
			break;
		case 'R':
			max_pairs = atoi(optarg);
			break;
		case 'w':
			target_width = atof(optarg);
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
		case 'u':
			job_us = atol(optarg);
			break;
		case 'k':
			us_jobs = atol(optarg);
			break;
		case 'o':
			pairs_path = optarg;
			break;
		case 'O':
			latency_path = optarg;
			break;
		case 'L':
			latency_only = true;
			break;
		case 'T':
			throughput_only = true;
			break;
		case 'C':
			counting = true;
			break;
		case 'X':
			close_only = true;
			break;
		case 'm':
			marker_fd = open("/sys/kernel/tracing/trace_marker",
					 O_WRONLY | O_CLOEXEC);
			if (marker_fd < 0) {
				fprintf(stderr, "fence_bench: /sys/kernel/tracing/trace_marker: %s\n",
					strerror(errno));
				return 1;
			}
			break;
		default:
			usage();
			return 1;
		}
	}
	if (jobs < NBUFS || min_pairs < 1 || max_pairs < min_pairs ||
	    max_pairs > MAX_PAIRS || !(target_width > 0) || contexts < 1 ||
	    contexts > MAX_CTX || samples < 1 || samples > MAX_SAMPLES ||
	    scale_jobs / contexts < NBUFS || (latency_only && throughput_only) ||
	    job_us < 0 || job_us > 1000000 || us_jobs < NBUFS ||
	    us_jobs * 2 / contexts < NBUFS) {
		fprintf(stderr, "fence_bench: -j >= %d, 1 <= -r <= -R <= %d, -w > 0, -c 1..%d, -l 1..%d, -S >= %d per context, not -L and -T, -u 0..1000000, -k >= %d and >= %d per context\n",
			NBUFS, MAX_PAIRS, MAX_CTX, MAX_SAMPLES, NBUFS, NBUFS, NBUFS);
		return 1;
	}
	saved_switch = kill_switch_get();
	if (saved_switch < 0) {
		printf("fence_bench: no %s: a kernel without the series?\n", KILL_SWITCH);
		return KSFT_SKIP;
	}
	atexit(restore_switch);
	/* Absent with another driver, or a test module without it: nothing to do */
	saved_count = read_bool_file(COUNT_SIGNALS);
	if (saved_count >= 0 && write_file(COUNT_SIGNALS, counting ? "1" : "0")) {
		fprintf(stderr, "fence_bench: cannot write %s\n", COUNT_SIGNALS);
		return 1;
	}
	if (saved_count >= 0)
		printf("The test device's signal counting (%s): %s.\n\n",
		       COUNT_SIGNALS, counting ?
		       "on, a callback on each fence, -C" :
		       "off while fence_bench runs, as no real driver adds a callback to its own fence");
	if (pairs_path)
		pairs_csv = csv_open(pairs_path,
				     "section,pair,first,off,on,ratio,us_per_job,cpu_us_off,cpu_us_on,wall_us_added");
	if (latency_path)
		latency_csv = csv_open(latency_path, "waiter,sample,us");

	if (close_only) {
		close_cost(samples);
		return 0;
	}
	if (latency_only) {
		latency(samples);
		csv_close(latency_csv, latency_path);
		return 0;
	}
	printf("| jobs/s per context; pairs fences off and on, which first alternating, %d to %d pairs, until the 95%% interval of the median ratio is narrower than %.3f | pairs | fences off, median (min..max) | fences on, median (min..max) | on/off, median of the pairs [95%% interval] | us per job added, median [95%% interval] | interval narrow enough (its width) |\n"
	       "|---|---|---|---|---|---|---|\n", min_pairs, max_pairs, target_width);
	rate0 = throughput(jobs, 1, "1ctx", "1 context, 0 ms jobs", &rows[nrows++]);
	snprintf(what, sizeof(what), "each of %d contexts at once, 0 ms jobs", contexts);
	snprintf(section, sizeof(section), "%dctx", contexts);
	rate0n = throughput(jobs * 2, contexts, section, what, &rows[nrows++]);
	if (job_us) {
		if (read_int_file(JOB_US, &saved_job_us) || set_job_us(job_us)) {
			fprintf(stderr, "fence_bench: -u needs %s, writable (the test device, vb2-resv-test)\n",
				JOB_US);
			exit(1);
		}
		snprintf(what, sizeof(what), "1 context, %ld us jobs", job_us);
		check_job_length(job_us, throughput(us_jobs, 1, "1ctx-us", what,
						    &rows[nrows++]),
				 rate0, 1);
		snprintf(what, sizeof(what), "each of %d contexts at once, %ld us jobs",
			 contexts, job_us);
		snprintf(section, sizeof(section), "%dctx-us", contexts);
		check_job_length(job_us, throughput(us_jobs * 2, contexts, section,
						    what, &rows[nrows++]),
				 rate0n, contexts);
		/* The wake-ups and the scale run take jobs as they were */
		if (set_job_us(saved_job_us)) {
			fprintf(stderr, "fence_bench: cannot write %s\n", JOB_US);
			exit(1);
		}
	}
	print_cpu_rows(rows, nrows);
	if (throughput_only) {
		csv_close(pairs_csv, pairs_path);
		return 0;
	}
	latency(samples);
	scale(scale_jobs, contexts);
	close_cost(samples);
	csv_close(pairs_csv, pairs_path);
	csv_close(latency_csv, latency_path);
	return 0;
}
