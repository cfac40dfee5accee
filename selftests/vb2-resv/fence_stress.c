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
 * The oracle, the contract's checks during the run and after it, is in
 * fence_stress_oracle.c; the operations are in fence_stress_ops.c
 * (contexts and buffers, and the destructive ones) and fence_stress_fds.c
 * (the dma-bufs, sync_files and sw_sync timelines a thread holds).
 *
 * KTAP output. Exit 0 on pass, 1 on a failure, 4 without an opted-in device.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "fence_stress.h"

struct stress_cfg cfg = { .procs = 3, .threads = 2, .kill_switch = -1, .secs = 60 };
struct shared *sh;
int send_sock = -1, recv_sock = -1;
static uint64_t t_start;
static FILE *logf;				/* this process's operation log */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int rn(struct thr *t, unsigned int n)
{
	return n ? splitmix(&t->rng) % n : 0;
}

bool chance(struct thr *t, unsigned int pct)
{
	return rn(t, 100) < pct;
}

bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST);
}

const char *err_str(int ret)
{
	return ret < 0 ? strerror(-ret) : "ok";
}

/* One line of the operation log (and of the output with -v). */
void __printf(2, 3) note(struct thr *t, const char *fmt, ...)
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
void __printf(2, 3) failure(struct thr *t, const char *fmt, ...)
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
