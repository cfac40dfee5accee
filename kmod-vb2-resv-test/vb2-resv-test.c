// SPDX-License-Identifier: GPL-2.0
/*
 * vb2-resv-test: a virtual V4L2 mem2mem device that publishes producer fences.
 *
 * Test-only. It exists so that every clause of the producer-fence contract
 * (CONTRACT.md F1-F18) can be exercised without hardware: its queues opt in
 * to videobuf2 producer fences and it publishes them from device_run, as a
 * real driver does, and its job engine can be
 * told to be slow, to fail, to hang until its watchdog ends the job, or to
 * break the fence signalling rules on purpose so that lockdep must complain.
 *
 * The shape is vim2m's: device_run() starts a job, a delayed work plays the
 * completion interrupt, a second delayed work is the watchdog. Unlike vim2m
 * the "hardware" writes the CAPTURE buffer only when the job completes, so a
 * consumer that reads before the fence signals sees stale data, as it would
 * with a real decoder.
 *
 * What the job writes: every byte of every CAPTURE plane, taken plane after
 * plane as one byte stream, is
 *
 *	dst[i] = src[i % src_len] ^ ((sequence % 255) + 1)
 *
 * where src is OUTPUT plane 0 (its bytesused) and sequence is the CAPTURE
 * buffer's v4l2_buffer.sequence. User space can check a frame byte for byte.
 *
 * Per-context V4L2 controls (found by name by the selftests):
 *   "Transaction Time (msec)"  how long a job takes (0..10000)
 *   "Job Result"               Done, Error (completes with an error) or
 *                              Hang (never completes; the watchdog fails it)
 *   "Signalling Violation"     allocate with GFP_KERNEL inside the fence
 *                              signalling section: where the job completes,
 *                              or in device_run right after publication,
 *                              before the "hardware" starts (F9 negative
 *                              tests only)
 *   "Hold Reservation (msec)"  before publishing, have a worker take the
 *                              CAPTURE buffer's reservation lock and keep it
 *                              this long, so that publication waits for it
 *                              while a signal arrives (F11 test only)
 *   "Late Reader (msec)"       in the next device_run, before publishing,
 *                              add a read fence of the module's to the
 *                              CAPTURE buffer and signal it this much later,
 *                              as a compositor that takes the buffer while
 *                              the job is prepared would (F15 test only)
 *
 * Module parameters: mem= (vmalloc, dma-contig or dma-sg allocator, for
 * the contexts opened from then on: writable, so that the selftests cover
 * all three without reloading the module),
 * watchdog_ms=, linger_ms= (a v4l2-mem2mem regression test),
 * count_signals= (the published and signalled counters), job_us= (jobs
 * that take microseconds, for the benchmark).
 * Multiplanar-ness comes from the format (GREY and XRGB32: one plane, NV12M:
 * two). XRGB32 is DRM's XRGB8888, so that a CAPTURE buffer can
 * be scanned out by a KMS driver (F13). Counters are in debugfs:
 * <debugfs>/vb2-resv-test/stats; <debugfs>/vb2-resv-test/suspended suspends
 * and resumes the m2m device (another v4l2-mem2mem regression test).
 *
 * Not for production kernels, and not a model of a real device's formats.
 */
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include <media/v4l2-ctrls.h>
#include <media/v4l2-device.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>
#include <media/v4l2-mem2mem.h>
#include <media/videobuf2-dma-contig.h>
#include <media/videobuf2-dma-sg.h>
#include <media/videobuf2-vmalloc.h>

#define VRT_NAME		"vb2-resv-test"
#define VRT_MIN_SIZE		16
#define VRT_MAX_W		1920
#define VRT_MAX_H		1088
#define VRT_DEF_W		64
#define VRT_DEF_H		64

#define VRT_CID_TRANS_TIME_MSEC	(V4L2_CID_USER_BASE + 0x1000)
#define VRT_CID_JOB_RESULT	(V4L2_CID_USER_BASE + 0x1001)
#define VRT_CID_VIOLATION	(V4L2_CID_USER_BASE + 0x1002)
#define VRT_CID_HOLD_RESV_MSEC	(V4L2_CID_USER_BASE + 0x1003)
#define VRT_CID_LATE_READER_MSEC	(V4L2_CID_USER_BASE + 0x1004)
#define VRT_CID_RETURN_DELAY_MSEC	(V4L2_CID_USER_BASE + 0x1005)

/* Where a job breaks the signalling rules, for the F9 negative tests */
enum vrt_violation {
	VRT_VIOLATION_NONE,
	VRT_VIOLATION_COMPLETION,
	VRT_VIOLATION_PUBLICATION,
};

enum { VRT_SRC, VRT_DST };	/* index of a queue's data: OUTPUT, CAPTURE */

enum vrt_job_result {
	VRT_JOB_DONE,
	VRT_JOB_ERROR,
	VRT_JOB_HANG,
};

static const char * const vrt_mem_names[] = {
	"vmalloc", "dma-contig", "dma-sg",
};

static const struct vb2_mem_ops * const vrt_mem_ops[] = {
	&vb2_vmalloc_memops, &vb2_dma_contig_memops, &vb2_dma_sg_memops,
};

/* Index in vrt_mem_names of the allocator that a context gets at open. */
static int vrt_mem;

static int vrt_mem_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(vrt_mem_names, val);

	if (i < 0)
		return i;
	WRITE_ONCE(vrt_mem, i);
	return 0;
}

static int vrt_mem_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", vrt_mem_names[READ_ONCE(vrt_mem)]);
}

static const struct kernel_param_ops vrt_mem_param_ops = {
	.set = vrt_mem_set,
	.get = vrt_mem_get,
};
module_param_cb(mem, &vrt_mem_param_ops, NULL, 0644);
MODULE_PARM_DESC(mem, "allocator of the contexts opened from then on: vmalloc (default), dma-contig or dma-sg");

static unsigned int latency_ms = 10;
module_param(latency_ms, uint, 0644);
MODULE_PARM_DESC(latency_ms, "default job time of new contexts, in ms");

static unsigned int watchdog_ms = 1000;
module_param(watchdog_ms, uint, 0644);
MODULE_PARM_DESC(watchdog_ms, "a job still running after this many ms is failed");

/*
 * The device counts the fences it publishes and, from a callback on each,
 * their signals (debugfs stats: published, signalled, errored), for the
 * tests that check that every published fence signals. No real driver adds
 * a callback to its own fence, so the benchmark turns the counting off:
 * what it measures is then what the fences cost a driver such as hantro.
 * Fences published while it is off are not counted at all, so that the
 * two counters still agree.
 */
static bool count_signals = true;
module_param(count_signals, bool, 0644);
MODULE_PARM_DESC(count_signals,
		 "count published fences and their signals in debugfs (default: on)");

/*
 * The job time control counts milliseconds and the job ends from a delayed
 * work item, so it ends on a timer tick: a few microseconds more or less in
 * the job's path vanish into the wait for the next tick. With job_us set,
 * the completion worker also sleeps this long on a high-resolution timer
 * first, so that every job takes its time plus its own path's, and the
 * benchmark can measure what producer fences cost a job of a device's
 * length. Nothing else uses it.
 */
static unsigned int job_us;
module_param(job_us, uint, 0644);
MODULE_PARM_DESC(job_us, "benchmark only: every job takes this many us more (default 0)");

/*
 * A regression test for the v4l2-mem2mem fix "Do not use the context after
 * waking its releaser": v4l2_m2m_job_finish() used to wake the task waiting
 * in v4l2_m2m_cancel_job() and only then try to queue the next job of the
 * same context, in __v4l2_m2m_try_queue(), while that task freed it. The
 * window is a few instructions wide; with linger_ms set, an ftrace hook on
 * __v4l2_m2m_try_queue() widens it to that many ms, so that KASAN reports
 * the use after free every time the bug is there. The fixed core queues the
 * next job before waking the waiter, under the job spinlock, so the delay
 * does not reach it. Where the function cannot be hooked (no dynamic ftrace,
 * or the compiler inlined it), the test runs without the delay.
 */
static unsigned int linger_ms;
module_param(linger_ms, uint, 0644);
MODULE_PARM_DESC(linger_ms,
		 "test only: delay v4l2-mem2mem's __v4l2_m2m_try_queue() by this many ms");

#ifdef CONFIG_DYNAMIC_FTRACE
static void vrt_linger(unsigned long ip, unsigned long parent_ip,
		       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	unsigned int ms = READ_ONCE(linger_ms);

	if (ms)
		mdelay(ms);
}

static struct ftrace_ops vrt_linger_ops = {
	.func = vrt_linger,
};

static bool vrt_linger_hooked;

static void vrt_linger_hook(void)
{
	static unsigned char name[] = "__v4l2_m2m_try_queue";

	if (ftrace_set_filter(&vrt_linger_ops, name, strlen(name), 1) ||
	    register_ftrace_function(&vrt_linger_ops)) {
		pr_info("cannot hook __v4l2_m2m_try_queue(): linger_ms has no effect\n");
		return;
	}
	vrt_linger_hooked = true;
}

static void vrt_linger_unhook(void)
{
	if (vrt_linger_hooked)
		unregister_ftrace_function(&vrt_linger_ops);
	ftrace_free_filter(&vrt_linger_ops);
}
#else
static const bool vrt_linger_hooked;
static void vrt_linger_hook(void) { }
static void vrt_linger_unhook(void) { }
#endif

/* GREY first: it is the default, and the first format tests pick. */
static const u32 vrt_formats[] = {
	V4L2_PIX_FMT_GREY, V4L2_PIX_FMT_NV12M, V4L2_PIX_FMT_XRGB32,
};

struct vrt_q_data {
	struct v4l2_pix_format_mplane pix;
	u32 sequence;
};

struct vrt_stats {
	atomic_t jobs;
	atomic_t published;
	atomic_t publish_failed;
	atomic_t deferred;	/* jobs put back by publication (F15) */
	atomic_t signalled;
	atomic_t errored;
	atomic_t watchdog;
};

struct vrt_dev {
	struct v4l2_device v4l2_dev;
	struct video_device vfd;
	struct mutex dev_mutex;		/* serialises open/release */
	struct v4l2_m2m_dev *m2m_dev;
	struct dentry *debugfs;
	struct vrt_ctx *running;	/* job in flight; cmpxchg() to finish it */
	bool gone;			/* unbound: fail every job (F5) */
	struct mutex suspend_lock;	/* serialises debugfs "suspended" */
	bool suspended;			/* v4l2_m2m_suspend() from debugfs */
	struct vrt_stats stats;
};

struct vrt_ctx {
	struct v4l2_fh fh;
	struct vrt_dev *dev;
	struct v4l2_ctrl_handler hdl;
	struct mutex vb_mutex;		/* lock of both vb2 queues */
	struct delayed_work irq_work;	/* plays the completion interrupt */
	struct delayed_work watchdog;
	struct vrt_q_data q_data[2];

	/* Set by controls, read by the job engine. */
	unsigned int trans_time_ms;
	enum vrt_job_result result;
	u32 violation;		/* enum vrt_violation */
	unsigned int hold_resv_ms;
	unsigned int late_reader_ms;	/* one job's worth, then 0 */
	unsigned int return_delay_ms;

	/* device_run() calls under way: the context outlives them. */
	atomic_t in_device_run;

	/* F11 test: a worker holding the CAPTURE reservation lock. */
	struct work_struct hold_work;
	struct completion held;
	struct dma_resv *hold_resv;

	/* Set by job_abort(), until the context streams on again. */
	bool aborting;
	/* The job in flight, captured in device_run where sleeping is allowed. */
	unsigned long job_start;	/* jiffies */
	enum vrt_job_result job_result;
	u32 job_violation;
	u8 *src_vaddr;
	unsigned long src_len;
	u8 *dst_vaddr[VIDEO_MAX_PLANES];
	unsigned long dst_len[VIDEO_MAX_PLANES];
	unsigned int dst_planes;
};

/* A CAPTURE buffer, with the callback that counts its fence's signal. */
struct vrt_buffer {
	struct v4l2_m2m_buffer m2m;
	struct dma_fence_cb fence_cb;
	struct vrt_dev *dev;
};

static struct vrt_ctx *file_to_ctx(struct file *file)
{
	return container_of(file_to_v4l2_fh(file), struct vrt_ctx, fh);
}

static struct vrt_q_data *vrt_q_data(struct vrt_ctx *ctx, enum v4l2_buf_type type)
{
	return &ctx->q_data[V4L2_TYPE_IS_OUTPUT(type) ? VRT_SRC : VRT_DST];
}

/* Job engine */

static void vrt_count_signal(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct vrt_buffer *buf = container_of(cb, struct vrt_buffer, fence_cb);

	atomic_inc(&buf->dev->stats.signalled);
	if (fence->error)
		atomic_inc(&buf->dev->stats.errored);
}

/* What the hardware would have written by the end of the job. */
static void vrt_write_frame(struct vrt_ctx *ctx, u32 sequence)
{
	u8 key = (sequence % 255) + 1;
	unsigned long i, n = 0;
	unsigned int p;

	for (p = 0; p < ctx->dst_planes; p++)
		for (i = 0; i < ctx->dst_len[p]; i++, n++)
			ctx->dst_vaddr[p][i] = ctx->src_vaddr[n % ctx->src_len] ^ key;
}

/*
 * Finish the job of @ctx, from the "interrupt", the watchdog or an abort.
 * Whoever takes dev->running first finishes it; the others do nothing. This
 * is the fence signalling critical section: no sleeping allocation, no
 * dma_resv lock, no fence wait (CONTRACT.md F9).
 */
static void vrt_job_finish(struct vrt_ctx *ctx, bool timed_out)
{
	struct vrt_dev *dev = ctx->dev;
	struct vb2_v4l2_buffer *src, *dst;
	enum vb2_buffer_state state;
	bool cookie;

	if (cmpxchg(&dev->running, ctx, NULL) != ctx)
		return;

	cookie = dma_fence_begin_signalling();
	cancel_delayed_work(&ctx->irq_work);
	cancel_delayed_work(&ctx->watchdog);

	src = v4l2_m2m_src_buf_remove(ctx->fh.m2m_ctx);
	dst = v4l2_m2m_dst_buf_remove(ctx->fh.m2m_ctx);

	/* Only the winner of the cmpxchg above may touch the job's buffers. */
	if (timed_out)
		vb2_buffer_set_fence_error(&dst->vb2_buf, -ETIMEDOUT);
	if (timed_out || ctx->aborting || ctx->job_result != VRT_JOB_DONE) {
		state = VB2_BUF_STATE_ERROR;
	} else {
		state = VB2_BUF_STATE_DONE;
		vrt_write_frame(ctx, ctx->q_data[VRT_DST].sequence);
	}

	/* F9 negative test: reclaim may wait for fences, so this is a bug. */
	if (ctx->job_violation == VRT_VIOLATION_COMPLETION)
		kfree(kmalloc(64, GFP_KERNEL));

	src->sequence = ctx->q_data[VRT_SRC].sequence++;
	dst->sequence = ctx->q_data[VRT_DST].sequence++;
	v4l2_m2m_buf_copy_metadata(src, dst);
	v4l2_m2m_buf_done(src, state);
	v4l2_m2m_buf_done(dst, state);
	dma_fence_end_signalling(cookie);

	v4l2_m2m_job_finish(dev->m2m_dev, ctx->fh.m2m_ctx);
}

static void vrt_irq_work(struct work_struct *work)
{
	struct vrt_ctx *ctx = container_of(to_delayed_work(work), struct vrt_ctx,
					   irq_work);
	unsigned int us = READ_ONCE(job_us);

	/* No slack: a job that ends anywhere in a range blurs the figures */
	if (us && !READ_ONCE(ctx->aborting))
		usleep_range(us, us);
	vrt_job_finish(ctx, false);
}

static void vrt_watchdog(struct work_struct *work)
{
	struct vrt_ctx *ctx = container_of(to_delayed_work(work), struct vrt_ctx,
					   watchdog);

	/* A late watchdog of the previous job must not fail this one. */
	if (READ_ONCE(ctx->dev->running) != ctx ||
	    time_before(jiffies, READ_ONCE(ctx->job_start) +
			msecs_to_jiffies(watchdog_ms)))
		return;
	atomic_inc(&ctx->dev->stats.watchdog);
	dev_warn_ratelimited(ctx->dev->v4l2_dev.dev, "job timed out after %u ms\n",
			     watchdog_ms);
	vrt_job_finish(ctx, true);
}

static int vrt_map_job(struct vrt_ctx *ctx, struct vb2_v4l2_buffer *src,
		       struct vb2_v4l2_buffer *dst)
{
	unsigned int p;

	ctx->src_vaddr = vb2_plane_vaddr(&src->vb2_buf, 0);
	ctx->src_len = vb2_get_plane_payload(&src->vb2_buf, 0);
	if (!ctx->src_vaddr || !ctx->src_len)
		return -EINVAL;

	ctx->dst_planes = dst->vb2_buf.num_planes;
	for (p = 0; p < ctx->dst_planes; p++) {
		ctx->dst_vaddr[p] = vb2_plane_vaddr(&dst->vb2_buf, p);
		ctx->dst_len[p] = vb2_get_plane_payload(&dst->vb2_buf, p);
		if (!ctx->dst_vaddr[p])
			return -EINVAL;
	}
	return 0;
}

static void vrt_hold_work(struct work_struct *work)
{
	struct vrt_ctx *ctx = container_of(work, struct vrt_ctx, hold_work);

	dma_resv_lock(ctx->hold_resv, NULL);
	complete(&ctx->held);
	msleep(READ_ONCE(ctx->hold_resv_ms));
	dma_resv_unlock(ctx->hold_resv);
}

/*
 * F11 test only: make the publication of @dst's fence wait for its
 * reservation lock, held by a worker, so that a signal to the task that
 * runs device_run interrupts it. MMAP buffers only.
 */
static void vrt_hold_resv(struct vrt_ctx *ctx, struct vb2_buffer *dst)
{
	const struct vb2_mem_ops *ops = dst->vb2_queue->mem_ops;

	if (dst->memory != VB2_MEMORY_MMAP || !ops->resv)
		return;
	ctx->hold_resv = ops->resv(dst->planes[0].mem_priv);
	if (!ctx->hold_resv)
		return;
	reinit_completion(&ctx->held);
	queue_work(system_unbound_wq, &ctx->hold_work);
	wait_for_completion(&ctx->held);
}

/*
 * F15 test only: a reader of the module's own, as a compositor that takes
 * the CAPTURE buffer while device_run prepares the job. Its fence signals
 * from a delayed work, which the module waits for before it goes.
 */
struct vrt_reader {
	struct dma_fence base;
	spinlock_t lock;
	struct delayed_work signal;
};

static u64 vrt_reader_context;
static atomic64_t vrt_reader_seqno;
static atomic_t vrt_readers;

static const char *vrt_reader_driver_name(struct dma_fence *fence)
{
	return VRT_NAME "-reader";
}

static const char *vrt_reader_timeline_name(struct dma_fence *fence)
{
	return "late-reader";
}

static const struct dma_fence_ops vrt_reader_ops = {
	.get_driver_name	= vrt_reader_driver_name,
	.get_timeline_name	= vrt_reader_timeline_name,
};

static void vrt_reader_done(struct work_struct *work)
{
	struct vrt_reader *r = container_of(to_delayed_work(work),
					    struct vrt_reader, signal);

	dma_fence_signal(&r->base);
	dma_fence_put(&r->base);
	if (atomic_dec_and_test(&vrt_readers))
		wake_up_var(&vrt_readers);
}

/*
 * Add a read fence to @dst's reservation object, signalled @ms later, before
 * publication looks at the buffer's other users. MMAP buffers only.
 */
static void vrt_add_late_reader(struct vb2_buffer *dst, unsigned int ms)
{
	const struct vb2_mem_ops *ops = dst->vb2_queue->mem_ops;
	struct dma_resv *resv;
	struct vrt_reader *r;

	if (dst->memory != VB2_MEMORY_MMAP || !ops->resv)
		return;
	resv = ops->resv(dst->planes[0].mem_priv);
	if (!resv)
		return;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return;
	spin_lock_init(&r->lock);
	INIT_DELAYED_WORK(&r->signal, vrt_reader_done);
	dma_fence_init(&r->base, &vrt_reader_ops, &r->lock, vrt_reader_context,
		       atomic64_inc_return(&vrt_reader_seqno));

	dma_resv_lock(resv, NULL);
	if (!dma_resv_reserve_fences(resv, 1))
		dma_resv_add_fence(resv, &r->base, DMA_RESV_USAGE_READ);
	dma_resv_unlock(resv);

	/* The work signals the fence and drops the reference init gave */
	atomic_inc(&vrt_readers);
	schedule_delayed_work(&r->signal, msecs_to_jiffies(ms));
}

static void vrt_job_abort(void *priv)
{
	struct vrt_ctx *ctx = priv;

	/*
	 * Fail the running job now rather than at its natural end. The job
	 * counts as running from before device_run() is called: if the work
	 * finds it not started yet, device_run() sees the flag once it is.
	 */
	WRITE_ONCE(ctx->aborting, true);
	/* Pairs with the barrier in device_run(): one sees the other. */
	smp_mb();
	mod_delayed_work(system_percpu_wq, &ctx->irq_work, 0);
}

static void vrt_run_job(struct vrt_ctx *ctx)
{
	struct vrt_dev *dev = ctx->dev;
	unsigned int return_delay_ms = READ_ONCE(ctx->return_delay_ms);
	struct vb2_v4l2_buffer *src, *dst;
	struct vb2_buffer *vbs[2];
	unsigned int late_reader_ms;
	struct vrt_buffer *buf;
	bool cookie;
	int ret;

	src = v4l2_m2m_next_src_buf(ctx->fh.m2m_ctx);
	dst = v4l2_m2m_next_dst_buf(ctx->fh.m2m_ctx);
	vbs[0] = &src->vb2_buf;
	vbs[1] = &dst->vb2_buf;
	buf = container_of(dst, struct vrt_buffer, m2m.vb);
	atomic_inc(&dev->stats.jobs);

	ctx->job_result = READ_ONCE(ctx->result);
	ctx->job_violation = READ_ONCE(ctx->violation);
	/* Mappings may sleep: make them before the signalling section. */
	if (vrt_map_job(ctx, src, dst))
		ctx->job_result = VRT_JOB_ERROR;

	if (READ_ONCE(ctx->hold_resv_ms))
		vrt_hold_resv(ctx, &dst->vb2_buf);
	/* Once: the job comes back here when the reader's fence signals */
	late_reader_ms = READ_ONCE(ctx->late_reader_ms);
	if (late_reader_ms) {
		WRITE_ONCE(ctx->late_reader_ms, 0);
		vrt_add_late_reader(&dst->vb2_buf, late_reader_ms);
	}

	/*
	 * The job is prepared: publish its OUTPUT buffer's read fence (F18)
	 * and its CAPTURE buffer's write fence (F2), in one step with the last
	 * look at other users' fences (F15). That opens the signalling
	 * critical section, which ends once the "hardware" is started. This is
	 * what v4l2_m2m_publish_fences() does for the drivers; the module
	 * calls videobuf2 itself so that it also loads with the v4l2-mem2mem
	 * of the base kernel, which has no such helper (the fixes' negative
	 * boot).
	 */
	ret = vb2_buffers_publish_fences(vbs, ARRAY_SIZE(vbs), ARRAY_SIZE(vbs),
					 &cookie);
	if (ret == -EAGAIN) {
		/*
		 * A fence added after the job was queued: not started, it is
		 * queued again once the fence signals. v4l2_m2m_job_defer()
		 * does this for the drivers; for a device that does not hold
		 * CAPTURE buffers, v4l2_m2m_job_finish() is the same, and the
		 * base kernel has it.
		 */
		atomic_inc(&dev->stats.deferred);
		flush_work(&ctx->hold_work);
		v4l2_m2m_job_finish(dev->m2m_dev, ctx->fh.m2m_ctx);
		return;
	}

	/* F9 negative test: a driver that allocates before starting the job */
	if (ctx->job_violation == VRT_VIOLATION_PUBLICATION)
		kfree(kmalloc(64, GFP_KERNEL));

	if (ret) {
		atomic_inc(&dev->stats.publish_failed);
	} else if (dst->vb2_buf.producer_fence && READ_ONCE(count_signals)) {
		atomic_inc(&dev->stats.published);
		buf->dev = dev;
		dma_fence_add_callback(dst->vb2_buf.producer_fence,
				       &buf->fence_cb, vrt_count_signal);
	}

	WRITE_ONCE(ctx->job_start, jiffies);
	WRITE_ONCE(dev->running, ctx);
	if (ctx->job_result != VRT_JOB_HANG)
		schedule_delayed_work(&ctx->irq_work,
				      msecs_to_jiffies(READ_ONCE(ctx->trans_time_ms)));
	schedule_delayed_work(&ctx->watchdog, msecs_to_jiffies(watchdog_ms));

	/*
	 * Pairs with vrt_remove(), and with the work that vrt_job_abort()
	 * queues: one of the two sees the other. An abort that came while
	 * device_run() prepared the job is carried out now.
	 */
	smp_mb();
	if (READ_ONCE(dev->gone) || READ_ONCE(ctx->aborting))
		vrt_job_abort(ctx);
	dma_fence_end_signalling(cookie);

	/* The job may be over, and its context closed, before this returns. */
	if (return_delay_ms)
		msleep(return_delay_ms);

	/*
	 * The buffer must not go away under the lock the hold worker took;
	 * it has released it once publication took it, but may still be
	 * running. Waiting for a worker that takes a reservation lock is not
	 * allowed inside the signalling section.
	 */
	flush_work(&ctx->hold_work);
}

/*
 * Once the job is started it can end, by the "interrupt" on another CPU or
 * by an abort, and its context can be closed, before device_run() returns:
 * the close waits for that (vrt_release()).
 */
static void vrt_device_run(void *priv)
{
	struct vrt_ctx *ctx = priv;

	atomic_inc(&ctx->in_device_run);
	vrt_run_job(ctx);
	if (atomic_dec_and_test(&ctx->in_device_run))
		wake_up_var(&ctx->in_device_run);
}

static const struct v4l2_m2m_ops vrt_m2m_ops = {
	.device_run	= vrt_device_run,
	.job_abort	= vrt_job_abort,
};

/* Controls */

static int vrt_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct vrt_ctx *ctx = container_of(ctrl->handler, struct vrt_ctx, hdl);

	switch (ctrl->id) {
	case VRT_CID_TRANS_TIME_MSEC:
		WRITE_ONCE(ctx->trans_time_ms, ctrl->val);
		break;
	case VRT_CID_JOB_RESULT:
		WRITE_ONCE(ctx->result, ctrl->val);
		break;
	case VRT_CID_VIOLATION:
		WRITE_ONCE(ctx->violation, ctrl->val);
		break;
	case VRT_CID_HOLD_RESV_MSEC:
		WRITE_ONCE(ctx->hold_resv_ms, ctrl->val);
		break;
	case VRT_CID_LATE_READER_MSEC:
		WRITE_ONCE(ctx->late_reader_ms, ctrl->val);
		break;
	case VRT_CID_RETURN_DELAY_MSEC:
		WRITE_ONCE(ctx->return_delay_ms, ctrl->val);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static const struct v4l2_ctrl_ops vrt_ctrl_ops = {
	.s_ctrl = vrt_s_ctrl,
};

static const char * const vrt_job_result_menu[] = {
	"Done", "Error", "Hang", NULL,
};

static const char * const vrt_violation_menu[] = {
	"None", "At Completion", "After Publication", NULL,
};

static const struct v4l2_ctrl_config vrt_ctrls[] = {
	{
		.ops = &vrt_ctrl_ops,
		.id = VRT_CID_TRANS_TIME_MSEC,
		.name = "Transaction Time (msec)",
		.type = V4L2_CTRL_TYPE_INTEGER,
		.min = 0,
		.max = 10000,
		.step = 1,
	}, {
		.ops = &vrt_ctrl_ops,
		.id = VRT_CID_JOB_RESULT,
		.name = "Job Result",
		.type = V4L2_CTRL_TYPE_MENU,
		.max = VRT_JOB_HANG,
		.qmenu = vrt_job_result_menu,
	}, {
		.ops = &vrt_ctrl_ops,
		.id = VRT_CID_VIOLATION,
		.name = "Signalling Violation",
		.type = V4L2_CTRL_TYPE_MENU,
		.max = VRT_VIOLATION_PUBLICATION,
		.qmenu = vrt_violation_menu,
	}, {
		.ops = &vrt_ctrl_ops,
		.id = VRT_CID_HOLD_RESV_MSEC,
		.name = "Hold Reservation (msec)",
		.type = V4L2_CTRL_TYPE_INTEGER,
		.min = 0,
		.max = 10000,
		.step = 1,
	}, {
		.ops = &vrt_ctrl_ops,
		.id = VRT_CID_LATE_READER_MSEC,
		.name = "Late Reader (msec)",
		.type = V4L2_CTRL_TYPE_INTEGER,
		.min = 0,
		.max = 10000,
		.step = 1,
	}, {
		.ops = &vrt_ctrl_ops,
		.id = VRT_CID_RETURN_DELAY_MSEC,
		.name = "Return Delay (msec)",
		.type = V4L2_CTRL_TYPE_INTEGER,
		.min = 0,
		.max = 10000,
		.step = 1,
	},
};

/* Formats */

static int vrt_querycap(struct file *file, void *priv, struct v4l2_capability *cap)
{
	strscpy(cap->driver, VRT_NAME, sizeof(cap->driver));
	strscpy(cap->card, VRT_NAME, sizeof(cap->card));
	strscpy(cap->bus_info, "platform:" VRT_NAME, sizeof(cap->bus_info));
	return 0;
}

static int vrt_enum_fmt(struct file *file, void *priv, struct v4l2_fmtdesc *f)
{
	if (f->index >= ARRAY_SIZE(vrt_formats))
		return -EINVAL;
	f->pixelformat = vrt_formats[f->index];
	return 0;
}

static int vrt_g_fmt(struct file *file, void *priv, struct v4l2_format *f)
{
	f->fmt.pix_mp = vrt_q_data(file_to_ctx(file), f->type)->pix;
	return 0;
}

/*
 * Adjust @pix to what the device does. OUTPUT keeps the colorimetry user
 * space gave it; CAPTURE takes it from @colour, the OUTPUT format, as a
 * device that only copies would.
 */
static int vrt_fill_fmt(struct v4l2_pix_format_mplane *pix,
			const struct v4l2_pix_format_mplane *colour)
{
	u32 fourcc = pix->pixelformat;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vrt_formats); i++)
		if (vrt_formats[i] == fourcc)
			break;
	if (i == ARRAY_SIZE(vrt_formats))
		fourcc = vrt_formats[0];

	pix->width = ALIGN(clamp(pix->width, VRT_MIN_SIZE, VRT_MAX_W), 2);
	pix->height = ALIGN(clamp(pix->height, VRT_MIN_SIZE, VRT_MAX_H), 2);
	pix->field = V4L2_FIELD_NONE;
	pix->flags = 0;
	if (colour) {
		pix->colorspace = colour->colorspace;
		pix->xfer_func = colour->xfer_func;
		pix->ycbcr_enc = colour->ycbcr_enc;
		pix->quantization = colour->quantization;
	} else if (pix->colorspace == V4L2_COLORSPACE_DEFAULT) {
		pix->colorspace = V4L2_COLORSPACE_REC709;
	}
	return v4l2_fill_pixfmt_mp(pix, fourcc, pix->width, pix->height);
}

static int vrt_try_fmt(struct file *file, void *priv, struct v4l2_format *f)
{
	struct vrt_ctx *ctx = file_to_ctx(file);

	return vrt_fill_fmt(&f->fmt.pix_mp, V4L2_TYPE_IS_OUTPUT(f->type) ?
			    NULL : &ctx->q_data[VRT_SRC].pix);
}

static int vrt_s_fmt(struct file *file, void *priv, struct v4l2_format *f)
{
	struct vrt_ctx *ctx = file_to_ctx(file);
	struct vb2_queue *vq = v4l2_m2m_get_vq(ctx->fh.m2m_ctx, f->type);
	int ret;

	if (vb2_is_busy(vq))
		return -EBUSY;
	ret = vrt_try_fmt(file, priv, f);
	if (ret)
		return ret;
	vrt_q_data(ctx, f->type)->pix = f->fmt.pix_mp;
	/* The CAPTURE colorimetry follows OUTPUT's. */
	if (V4L2_TYPE_IS_OUTPUT(f->type))
		vrt_fill_fmt(&ctx->q_data[VRT_DST].pix, &f->fmt.pix_mp);
	return 0;
}

static const struct v4l2_ioctl_ops vrt_ioctl_ops = {
	.vidioc_querycap		= vrt_querycap,
	.vidioc_enum_fmt_vid_cap	= vrt_enum_fmt,
	.vidioc_enum_fmt_vid_out	= vrt_enum_fmt,
	.vidioc_g_fmt_vid_cap_mplane	= vrt_g_fmt,
	.vidioc_g_fmt_vid_out_mplane	= vrt_g_fmt,
	.vidioc_try_fmt_vid_cap_mplane	= vrt_try_fmt,
	.vidioc_try_fmt_vid_out_mplane	= vrt_try_fmt,
	.vidioc_s_fmt_vid_cap_mplane	= vrt_s_fmt,
	.vidioc_s_fmt_vid_out_mplane	= vrt_s_fmt,

	.vidioc_reqbufs			= v4l2_m2m_ioctl_reqbufs,
	.vidioc_querybuf		= v4l2_m2m_ioctl_querybuf,
	.vidioc_qbuf			= v4l2_m2m_ioctl_qbuf,
	.vidioc_dqbuf			= v4l2_m2m_ioctl_dqbuf,
	.vidioc_prepare_buf		= v4l2_m2m_ioctl_prepare_buf,
	.vidioc_create_bufs		= v4l2_m2m_ioctl_create_bufs,
	.vidioc_expbuf			= v4l2_m2m_ioctl_expbuf,
	.vidioc_streamon		= v4l2_m2m_ioctl_streamon,
	.vidioc_streamoff		= v4l2_m2m_ioctl_streamoff,

	.vidioc_subscribe_event		= v4l2_ctrl_subscribe_event,
	.vidioc_unsubscribe_event	= v4l2_event_unsubscribe,
};

/* Queues */

static int vrt_queue_setup(struct vb2_queue *vq, unsigned int *nbuffers,
			   unsigned int *nplanes, unsigned int sizes[],
			   struct device *alloc_devs[])
{
	struct v4l2_pix_format_mplane *pix = &vrt_q_data(vb2_get_drv_priv(vq),
							 vq->type)->pix;
	unsigned int p;

	if (*nplanes) {
		if (*nplanes != pix->num_planes)
			return -EINVAL;
		for (p = 0; p < pix->num_planes; p++)
			if (sizes[p] < pix->plane_fmt[p].sizeimage)
				return -EINVAL;
		return 0;
	}
	*nplanes = pix->num_planes;
	for (p = 0; p < pix->num_planes; p++)
		sizes[p] = pix->plane_fmt[p].sizeimage;
	return 0;
}

static int vrt_buf_out_validate(struct vb2_buffer *vb)
{
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);

	if (vbuf->field == V4L2_FIELD_ANY)
		vbuf->field = V4L2_FIELD_NONE;
	return vbuf->field == V4L2_FIELD_NONE ? 0 : -EINVAL;
}

static int vrt_buf_prepare(struct vb2_buffer *vb)
{
	struct vb2_queue *vq = vb->vb2_queue;
	struct v4l2_pix_format_mplane *pix =
		&vrt_q_data(vb2_get_drv_priv(vq), vq->type)->pix;
	unsigned int p;

	for (p = 0; p < pix->num_planes; p++) {
		if (vb2_plane_size(vb, p) < pix->plane_fmt[p].sizeimage)
			return -EINVAL;
		if (!V4L2_TYPE_IS_OUTPUT(vq->type))
			vb2_set_plane_payload(vb, p, pix->plane_fmt[p].sizeimage);
	}
	return 0;
}

static void vrt_buf_queue(struct vb2_buffer *vb)
{
	struct vrt_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);

	v4l2_m2m_buf_queue(ctx->fh.m2m_ctx, to_vb2_v4l2_buffer(vb));
}

static int vrt_start_streaming(struct vb2_queue *q, unsigned int count)
{
	struct vrt_ctx *ctx = vb2_get_drv_priv(q);

	/*
	 * A job is aborted only by a STREAMOFF or a close, so no job of the
	 * context runs now: the next one starts without the flag.
	 */
	WRITE_ONCE(ctx->aborting, false);
	vrt_q_data(ctx, q->type)->sequence = 0;
	return 0;
}

/* m2m has cancelled any running job before this is called. */
static void vrt_stop_streaming(struct vb2_queue *q)
{
	struct vrt_ctx *ctx = vb2_get_drv_priv(q);
	struct vb2_v4l2_buffer *vbuf;

	for (;;) {
		if (V4L2_TYPE_IS_OUTPUT(q->type))
			vbuf = v4l2_m2m_src_buf_remove(ctx->fh.m2m_ctx);
		else
			vbuf = v4l2_m2m_dst_buf_remove(ctx->fh.m2m_ctx);
		if (!vbuf)
			return;
		v4l2_m2m_buf_done(vbuf, VB2_BUF_STATE_ERROR);
	}
}

static const struct vb2_ops vrt_qops = {
	.queue_setup		= vrt_queue_setup,
	.buf_out_validate	= vrt_buf_out_validate,
	.buf_prepare		= vrt_buf_prepare,
	.buf_queue		= vrt_buf_queue,
	.start_streaming	= vrt_start_streaming,
	.stop_streaming		= vrt_stop_streaming,
};

static int vrt_queue_init(void *priv, struct vb2_queue *src_vq,
			  struct vb2_queue *dst_vq)
{
	const struct vb2_mem_ops *mem_ops = vrt_mem_ops[READ_ONCE(vrt_mem)];
	struct vrt_ctx *ctx = priv;
	struct vb2_queue *vq[] = { src_vq, dst_vq };
	unsigned int i;
	int ret;

	src_vq->type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	dst_vq->type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	/*
	 * The point of this device (F2-F18): both queues opt in, CAPTURE for
	 * write fences, OUTPUT for read fences.
	 */
	src_vq->producer_fences = 1;
	dst_vq->producer_fences = 1;

	for (i = 0; i < ARRAY_SIZE(vq); i++) {
		vq[i]->io_modes = VB2_MMAP | VB2_DMABUF;
		vq[i]->drv_priv = ctx;
		vq[i]->buf_struct_size = sizeof(struct vrt_buffer);
		vq[i]->ops = &vrt_qops;
		vq[i]->mem_ops = mem_ops;
		vq[i]->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_COPY;
		vq[i]->lock = &ctx->vb_mutex;
		vq[i]->dev = ctx->dev->v4l2_dev.dev;
		ret = vb2_queue_init(vq[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* File operations */

static int vrt_open(struct file *file)
{
	struct vrt_dev *dev = video_drvdata(file);
	struct v4l2_pix_format_mplane pix = {
		.width = VRT_DEF_W,
		.height = VRT_DEF_H,
		.pixelformat = V4L2_PIX_FMT_GREY,
	};
	struct vrt_ctx *ctx;
	unsigned int i;
	int ret;

	ctx = kzalloc_obj(*ctx);
	if (!ctx)
		return -ENOMEM;
	ctx->dev = dev;
	mutex_init(&ctx->vb_mutex);
	INIT_DELAYED_WORK(&ctx->irq_work, vrt_irq_work);
	INIT_DELAYED_WORK(&ctx->watchdog, vrt_watchdog);
	INIT_WORK(&ctx->hold_work, vrt_hold_work);
	init_completion(&ctx->held);

	vrt_fill_fmt(&pix, NULL);
	ctx->q_data[VRT_SRC].pix = pix;
	ctx->q_data[VRT_DST].pix = pix;

	v4l2_fh_init(&ctx->fh, video_devdata(file));
	v4l2_ctrl_handler_init(&ctx->hdl, ARRAY_SIZE(vrt_ctrls));
	for (i = 0; i < ARRAY_SIZE(vrt_ctrls); i++) {
		struct v4l2_ctrl_config cfg = vrt_ctrls[i];

		if (cfg.id == VRT_CID_TRANS_TIME_MSEC)
			cfg.def = min(latency_ms, 10000U);
		v4l2_ctrl_new_custom(&ctx->hdl, &cfg, NULL);
	}
	ret = ctx->hdl.error ?: v4l2_ctrl_handler_setup(&ctx->hdl);
	if (ret)
		goto err_ctrls;
	ctx->fh.ctrl_handler = &ctx->hdl;

	mutex_lock(&dev->dev_mutex);
	ctx->fh.m2m_ctx = v4l2_m2m_ctx_init(dev->m2m_dev, ctx, vrt_queue_init);
	mutex_unlock(&dev->dev_mutex);
	if (IS_ERR(ctx->fh.m2m_ctx)) {
		ret = PTR_ERR(ctx->fh.m2m_ctx);
		goto err_ctrls;
	}
	v4l2_fh_add(&ctx->fh, file);
	return 0;

err_ctrls:
	v4l2_ctrl_handler_free(&ctx->hdl);
	v4l2_fh_exit(&ctx->fh);
	kfree(ctx);
	return ret;
}

static int vrt_release(struct file *file)
{
	struct vrt_dev *dev = video_drvdata(file);
	struct vrt_ctx *ctx = file_to_ctx(file);

	v4l2_fh_del(&ctx->fh, file);
	v4l2_fh_exit(&ctx->fh);
	/*
	 * Cancels a running job (job_abort, then waits for it), F5. The job
	 * ends in the "interrupt" work, as it would on hardware: nothing here
	 * waits for that work to return before the m2m context is freed.
	 */
	mutex_lock(&dev->dev_mutex);
	v4l2_m2m_ctx_release(ctx->fh.m2m_ctx);
	mutex_unlock(&dev->dev_mutex);
	/* No job of the context is left, but its device_run() may still run. */
	wait_var_event(&ctx->in_device_run, !atomic_read(&ctx->in_device_run));
	cancel_delayed_work_sync(&ctx->irq_work);
	cancel_delayed_work_sync(&ctx->watchdog);
	v4l2_ctrl_handler_free(&ctx->hdl);
	kfree(ctx);
	return 0;
}

static const struct v4l2_file_operations vrt_fops = {
	.owner		= THIS_MODULE,
	.open		= vrt_open,
	.release	= vrt_release,
	.poll		= v4l2_m2m_fop_poll,
	.unlocked_ioctl	= video_ioctl2,
	.mmap		= v4l2_m2m_fop_mmap,
};

/* Counters for the selftests */

static int vrt_stats_show(struct seq_file *s, void *unused)
{
	struct vrt_stats *st = &((struct vrt_dev *)s->private)->stats;

	seq_printf(s, "jobs %d\n", atomic_read(&st->jobs));
	seq_printf(s, "published %d\n", atomic_read(&st->published));
	seq_printf(s, "publish_failed %d\n", atomic_read(&st->publish_failed));
	seq_printf(s, "deferred %d\n", atomic_read(&st->deferred));
	seq_printf(s, "signalled %d\n", atomic_read(&st->signalled));
	seq_printf(s, "errored %d\n", atomic_read(&st->errored));
	seq_printf(s, "watchdog %d\n", atomic_read(&st->watchdog));
	seq_printf(s, "linger_hooked %d\n", vrt_linger_hooked);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vrt_stats);

/*
 * debugfs "suspended": 1 suspends the m2m device as a driver's system sleep
 * or remove() does, with v4l2_m2m_suspend(), which waits for the running job
 * and starts no other; 0 resumes it. For a v4l2-mem2mem regression test.
 */
static int vrt_suspended_get(void *data, u64 *val)
{
	struct vrt_dev *dev = data;

	*val = READ_ONCE(dev->suspended);
	return 0;
}

static int vrt_suspended_set(void *data, u64 val)
{
	struct vrt_dev *dev = data;

	mutex_lock(&dev->suspend_lock);
	if (val && !dev->suspended)
		v4l2_m2m_suspend(dev->m2m_dev);
	else if (!val && dev->suspended)
		v4l2_m2m_resume(dev->m2m_dev);
	WRITE_ONCE(dev->suspended, !!val);
	mutex_unlock(&dev->suspend_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vrt_suspended_fops, vrt_suspended_get,
			 vrt_suspended_set, "%llu\n");

/* Device */

static void vrt_video_release(struct video_device *vfd)
{
	struct vrt_dev *dev = container_of(vfd, struct vrt_dev, vfd);

	v4l2_m2m_release(dev->m2m_dev);
	v4l2_device_unregister(&dev->v4l2_dev);
	kfree(dev);
}

static const struct video_device vrt_videodev = {
	.name		= VRT_NAME,
	.vfl_dir	= VFL_DIR_M2M,
	.fops		= &vrt_fops,
	.ioctl_ops	= &vrt_ioctl_ops,
	.minor		= -1,
	.release	= vrt_video_release,
	.device_caps	= V4L2_CAP_VIDEO_M2M_MPLANE | V4L2_CAP_STREAMING,
};

static int vrt_probe(struct platform_device *pdev)
{
	struct vrt_dev *dev;
	int ret;

	dev = kzalloc_obj(*dev);
	if (!dev)
		return -ENOMEM;

	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (ret)
		goto err_free;

	ret = v4l2_device_register(&pdev->dev, &dev->v4l2_dev);
	if (ret)
		goto err_free;
	mutex_init(&dev->dev_mutex);
	mutex_init(&dev->suspend_lock);

	dev->m2m_dev = v4l2_m2m_init(&vrt_m2m_ops);
	if (IS_ERR(dev->m2m_dev)) {
		ret = PTR_ERR(dev->m2m_dev);
		goto err_v4l2;
	}

	dev->vfd = vrt_videodev;
	dev->vfd.lock = &dev->dev_mutex;
	dev->vfd.v4l2_dev = &dev->v4l2_dev;
	video_set_drvdata(&dev->vfd, dev);
	platform_set_drvdata(pdev, dev);
	ret = video_register_device(&dev->vfd, VFL_TYPE_VIDEO, -1);
	if (ret)
		goto err_m2m;

	dev->debugfs = debugfs_create_dir(VRT_NAME, NULL);
	debugfs_create_file("stats", 0444, dev->debugfs, dev, &vrt_stats_fops);
	debugfs_create_file_unsafe("suspended", 0644, dev->debugfs, dev,
				   &vrt_suspended_fops);
	v4l2_info(&dev->v4l2_dev, "%s, allocator %s, watchdog %u ms\n",
		  video_device_node_name(&dev->vfd),
		  vrt_mem_names[READ_ONCE(vrt_mem)], watchdog_ms);
	return 0;

err_m2m:
	v4l2_m2m_release(dev->m2m_dev);
err_v4l2:
	v4l2_device_unregister(&dev->v4l2_dev);
err_free:
	kfree(dev);
	return ret;
}

static void vrt_remove(struct platform_device *pdev)
{
	struct vrt_dev *dev = platform_get_drvdata(pdev);
	struct vrt_ctx *ctx;

	debugfs_remove_recursive(dev->debugfs);
	if (dev->suspended)
		v4l2_m2m_resume(dev->m2m_dev);

	/*
	 * An unbound device has no hardware: fail the job in flight now, and
	 * every job that starts from here on, rather than when their files are
	 * closed (F5). dev_mutex keeps the running context from being
	 * released. This comes first: unregistering may free dev.
	 */
	mutex_lock(&dev->dev_mutex);
	WRITE_ONCE(dev->gone, true);
	/* Pairs with vrt_device_run(): one of the two sees the other. */
	smp_mb();
	ctx = READ_ONCE(dev->running);
	if (ctx)
		vrt_job_abort(ctx);
	mutex_unlock(&dev->dev_mutex);

	video_unregister_device(&dev->vfd);
}

/*
 * Allocated, not static: a dma-contig or dma-sg buffer holds a reference to
 * the device, and an exported dma-buf may keep it after the module is gone
 * (F10).
 */
static struct platform_device *vrt_pdev;

static struct platform_driver vrt_pdrv = {
	.probe		= vrt_probe,
	.remove		= vrt_remove,
	.driver		= {
		.name	= VRT_NAME,
	},
};

static int __init vrt_init(void)
{
	int ret;

	vrt_linger_hook();
	vrt_reader_context = dma_fence_context_alloc(1);

	vrt_pdev = platform_device_register_simple(VRT_NAME, PLATFORM_DEVID_NONE,
						   NULL, 0);
	if (IS_ERR(vrt_pdev))
		return PTR_ERR(vrt_pdev);
	ret = platform_driver_register(&vrt_pdrv);
	if (ret) {
		platform_device_unregister(vrt_pdev);
		vrt_linger_unhook();
	}
	return ret;
}

static void __exit vrt_exit(void)
{
	platform_driver_unregister(&vrt_pdrv);
	platform_device_unregister(vrt_pdev);
	vrt_linger_unhook();
	/* The readers' works run module code */
	wait_var_event(&vrt_readers, !atomic_read(&vrt_readers));
}

module_init(vrt_init);
module_exit(vrt_exit);

MODULE_DESCRIPTION("Virtual mem2mem device with videobuf2 producer fences, for testing");
MODULE_LICENSE("GPL");
