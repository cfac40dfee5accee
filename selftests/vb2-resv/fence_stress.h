/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of fence_stress share: the limits, a thread's picture of
 * its contexts, buffers, fds and timelines, the state the processes share,
 * the configuration, and the functions each part offers the others.
 * fence_stress.c is the driver (options, processes and threads, the log),
 * fence_stress_ops.c the operations on contexts and buffers (and the
 * destructive ones), fence_stress_fds.c those on the fds a thread holds,
 * fence_stress_oracle.c the checks.
 */
#ifndef FENCE_STRESS_H
#define FENCE_STRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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

/* Operations: ops[], in fence_stress_ops.c, says what each is. */
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
extern const char *const check_names[NR_CHECKS];

/* One buffer of a context's queue, as its thread believes it is. */
struct slot {
	bool exists, queued;
	bool shared;		/* a dma-buf of it left the thread's control */
	bool dirty;		/* cancelled while queued: may carry an old pending fence */
	/*
	 * Queued while OUTPUT's size changed, or while an OUTPUT buffer a job
	 * could read did not hold the pattern (!out_std): its frame may come
	 * from such a buffer, even after a REQBUFS of OUTPUT, so it is not
	 * checked.
	 */
	bool old_src;
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
	bool held;		/* a plane of the QBUF being prepared: not evicted */
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
	int ctx;		/* linked to a queueing (fence_stress_oracle.c), or -1 */
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

/* The run, as the options and the device set it */
struct stress_cfg {
	const char *driver, *heap;
	uint64_t seed;
	unsigned long ops;
	unsigned int secs, procs, threads;
	bool verbose, destructive, is_test_dev, modprobed;
	int watchdog_ms, bound_ms, kill_switch;
	char logdir[200], devname[64], modargs[160];
};

/* An operation of thread @t, on context @c or, if it needs none, NULL */
typedef void stress_op_fn(struct thr *t, struct ctx *c);

/* The operations: name, function, relative weight, whether it needs a context */
struct stress_op {
	const char *name;
	stress_op_fn *fn;
	unsigned int weight;
	bool needs_ctx;
};

extern struct stress_cfg cfg;
extern struct shared *sh;
extern int send_sock, recv_sock;	/* the ring of socketpairs */
extern const struct stress_op ops[NR_OPS];

/* fence_stress.c: the thread's RNG, the log, the run's end */
unsigned int rn(struct thr *t, unsigned int n);
bool chance(struct thr *t, unsigned int pct);
bool stopping(void);
const char *err_str(int ret);
void __printf(2, 3) note(struct thr *t, const char *fmt, ...);
void __printf(2, 3) failure(struct thr *t, const char *fmt, ...);

/* fence_stress_ops.c: contexts and buffers */
int ci(struct thr *t, struct ctx *c);
struct m2m_queue *queue_of(struct ctx *c, bool cap);
struct slot *slots_of(struct ctx *c, bool cap);
const char *qname(bool cap);
struct ctx *pick_ctx(struct thr *t);
int pick_slot(struct thr *t, struct ctx *c, bool cap, bool queued);
bool is_private(struct ctx *c, struct slot *s);
int pick_result(struct thr *t, unsigned int done, unsigned int error);
void ctx_close(struct thr *t, struct ctx *c);
bool bound_to_driver(void);
void park(struct thr *t);

/* fence_stress_fds.c: the fds a thread holds, its sw_sync timelines */
struct obj *obj_add(struct thr *t, int fd, bool sync);
struct obj *pick_obj(struct thr *t, int kind);
struct slot *obj_slot(struct thr *t, struct obj *o, struct ctx **cp);
struct obj *slot_obj(struct thr *t, struct ctx *c, unsigned int idx);
void obj_link(struct thr *t, struct obj *o, struct ctx *c, bool cap, unsigned int idx);
void share(struct thr *t, struct obj *o);
struct obj *alloc_dmabuf(struct thr *t, size_t len, int pattern);
void tl_close(struct thr *t, struct timeline *tl);
void tl_expire(struct thr *t);
stress_op_fn op_dup, op_close_fd, op_mmap, op_cpu_sync, op_export_sync_file,
	op_import_sync_file, op_sw_sync_signal, op_sw_sync_close, op_poll, op_wait,
	op_sigkill, op_send_fd, op_recv_fd;

/* fence_stress_oracle.c: the checks during the run and after it */
void count(int check);
int inspect(int fd, uint32_t *vb2, bool *other);
uint64_t deadline_of(struct watched *w);
void check_watched(struct thr *t, bool wait);
void watch_export(struct thr *t, struct obj *o, uint32_t flags);
int slot_pending_vb2(struct thr *t, struct ctx *c, unsigned int idx);
void dqbuf_checks(struct thr *t, struct ctx *c, const struct m2m_buf_state *st);
int hist_start(void);
void hist_stop(void);
const char *hist_error(int hist);
/*
 * The checks after the stress, each 0 if it passed, with @why saying what
 * it saw: a clean job on a new context, and no vb2 fence object left alive
 * (a negative errno: it could not tell). fence_stress.c reports them: the
 * kselftest counters are those of the file that includes kselftest.h.
 */
int clean_job(char *why, size_t len);
int leak_check(char *why, size_t len);

#endif /* FENCE_STRESS_H */
