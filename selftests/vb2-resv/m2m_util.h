/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the vb2-resv selftests: find and drive a V4L2
 * memory-to-memory device from user space (formats, MMAP buffers, EXPBUF),
 * and look at the dma-bufs it exports the way an implicit-sync consumer does
 * (poll, mmap, DMA_BUF_IOCTL_SYNC, DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
 * SYNC_IOC_FILE_INFO), or use them the way another device's driver does
 * (DMA_BUF_IOCTL_IMPORT_SYNC_FILE of sw_sync fences).
 *
 * Nothing here knows about a particular driver. Single- and multi-planar
 * devices are both handled; buffers are V4L2_MEMORY_MMAP, or
 * V4L2_MEMORY_DMABUF with dma-bufs the caller allocates (dma_heap_alloc()).
 *
 * Conventions: functions return 0 (or a non-negative fd/count) on success and
 * a negative errno on failure. On failure they also record a one-line
 * description of what failed ("VIDIOC_S_FMT(CAPTURE): Invalid argument"),
 * which m2m_strerror() returns, so a test can print it in its message.
 *
 * The programs include this header alone and link all of its files:
 * v4l2_util.c (the m2m_* device, queue, buffer and control helpers),
 * dmabuf_util.c (dma_heap_alloc() and the dmabuf_* helpers), sync_util.c
 * (sync_file_* and sw_sync_*), kernel_util.c (m2m_load_module(), the small
 * sysfs/debugfs files, the kill switch and the fence_hist_* tracefs
 * counters) and m2m_util.c (the error text, poll_fd(), the clock and the
 * byte patterns).
 */
#ifndef M2M_UTIL_H
#define M2M_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/videodev2.h>
#include <linux/sync_file.h>

#define M2M_MAX_BUFS	32

/*
 * Reported by VIDIOC_REQBUFS and VIDIOC_CREATE_BUFS for a CAPTURE queue that
 * publishes producer fences (CONTRACT.md F16). Defined here too so that the
 * tests build against headers that predate it; the kernel under test then
 * does not report it, and the tests that look for it fail.
 */
#ifndef V4L2_BUF_CAP_PRODUCER_FENCES
#define V4L2_BUF_CAP_PRODUCER_FENCES	0x00000200
#endif

/*
 * One buffer of a queue. MMAP: every plane mapped through V4L2 mmap.
 * DMABUF: the caller sets fd[] (dma-bufs it owns and closes) before m2m_qbuf().
 */
struct m2m_buf {
	void *map[VIDEO_MAX_PLANES];
	int fd[VIDEO_MAX_PLANES];		/* DMABUF only */
	uint32_t length[VIDEO_MAX_PLANES];	/* mapped length of each plane */
	uint32_t bytesused[VIDEO_MAX_PLANES];	/* sent by m2m_qbuf() (OUTPUT) */
};

/* One side (OUTPUT or CAPTURE) of an m2m context. */
struct m2m_queue {
	enum v4l2_buf_type type;
	const char *name;			/* "OUTPUT" or "CAPTURE" */
	uint32_t fourcc;			/* format after S_FMT */
	uint32_t width;
	uint32_t height;
	unsigned int num_planes;		/* memory planes per buffer */
	uint32_t sizeimage[VIDEO_MAX_PLANES];
	uint32_t bytesperline[VIDEO_MAX_PLANES];
	uint32_t memory;			/* V4L2_MEMORY_MMAP or _DMABUF */
	unsigned int count;			/* buffers allocated by REQBUFS */
	uint32_t caps;				/* V4L2_BUF_CAP_* of REQBUFS/CREATE_BUFS */
	struct m2m_buf bufs[M2M_MAX_BUFS];
	bool streaming;
};

/* An open m2m device node, that is one m2m context. */
struct m2m_dev {
	int fd;					/* video node, O_NONBLOCK */
	char path[32];				/* "/dev/videoN" */
	char driver[16];			/* VIDIOC_QUERYCAP driver */
	char card[32];				/* VIDIOC_QUERYCAP card */
	bool mplane;				/* multi-planar API */
	struct m2m_queue out;			/* OUTPUT: what the job reads */
	struct m2m_queue cap;			/* CAPTURE: what the job writes */
};

/* State of one buffer as VIDIOC_DQBUF or VIDIOC_QUERYBUF reported it. */
struct m2m_buf_state {
	unsigned int index;
	uint32_t flags;				/* V4L2_BUF_FLAG_* */
	uint32_t sequence;
	uint32_t bytesused[VIDEO_MAX_PLANES];
};

/*
 * The text of the last error a set of helpers recorded. errtext_set()
 * stores "<@fmt, printf-style>: <strerror(-@err)>" in @e and returns @err, a
 * negative errno, for a helper to return; errtext_str() is that text, or
 * "no error recorded". m2m_strerror() is the one of the helpers below, kept
 * per thread: each thread reads the error of its own last call.
 */
struct errtext {
	char buf[256];
};

int errtext_set(struct errtext *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *errtext_str(const struct errtext *e);

const char *m2m_strerror(void);
/* For a test's own helpers: record an error as the helpers below do. */
struct errtext *m2m_errtext(void);
#define m2m_fail(err, ...)	errtext_set(m2m_errtext(), (err), __VA_ARGS__)

/*
 * Load the module the tests need (vim2m, vb2-resv-test, vkms, vgem) with
 * modprobe, as run_kselftest.sh on the board runs with nothing loaded:
 * 0 when modprobe loaded it or it was loaded already.  @args are module
 * parameters ("enable_writeback=1") or "".  m2m_open() calls it for the two
 * V4L2 test drivers when their device is absent.
 */
int m2m_load_module(const char *name, const char *args);
const char *m2m_fourcc_str(uint32_t fourcc, char buf[8]);

/*
 * Open the lowest-numbered /dev/videoN that is a memory-to-memory device and
 * whose VIDIOC_QUERYCAP driver name equals @driver. Returns 0, -ENOENT if no
 * such device exists (the caller should skip), or another negative errno.
 */
int m2m_open(struct m2m_dev *dev, const char *driver);
/* The same, among the nodes whose VIDIOC_QUERYCAP card contains @card. */
int m2m_open_card(struct m2m_dev *dev, const char *driver, const char *card);
void m2m_close(struct m2m_dev *dev);
/* Unmap the buffers of both queues and forget them, as m2m_close() does. */
void m2m_unmap(struct m2m_dev *dev);

/*
 * Set a format on queue @q alone (a zero fourcc: the first it enumerates),
 * stored in @q.
 */
int m2m_set_format(struct m2m_dev *dev, struct m2m_queue *q, uint32_t fourcc,
		   uint32_t width, uint32_t height);

/*
 * Set a format on OUTPUT then on CAPTURE. A zero fourcc picks the first
 * format the queue enumerates. The driver may adjust the size; the result is
 * stored in dev->out and dev->cap.
 */
int m2m_set_formats(struct m2m_dev *dev, uint32_t out_fourcc,
		    uint32_t cap_fourcc, uint32_t width, uint32_t height);

/*
 * The same for an encoder, which derives its raw (OUTPUT) formats from the
 * coded (CAPTURE) one: CAPTURE first.
 */
int m2m_set_encoder_formats(struct m2m_dev *dev, uint32_t raw_fourcc,
			    uint32_t coded_fourcc, uint32_t width,
			    uint32_t height);

/*
 * VIDIOC_REQBUFS(MMAP) for @count buffers and mmap of every plane (count == 0
 * unmaps and frees). The driver may allocate more than asked; q->count says.
 */
int m2m_reqbufs(struct m2m_dev *dev, struct m2m_queue *q, unsigned int count);

/*
 * VIDIOC_REQBUFS(DMABUF) for @count buffers, whose planes the caller then
 * points at dma-bufs of at least q->sizeimage[] bytes (q->bufs[i].fd[p]).
 */
int m2m_reqbufs_dmabuf(struct m2m_dev *dev, struct m2m_queue *q,
		       unsigned int count);

/*
 * VIDIOC_CREATE_BUFS of no buffer in @memory (V4L2_MEMORY_MMAP or _DMABUF)
 * and the queue's current format: allocates nothing, only stores the queue's
 * capabilities in q->caps.
 */
int m2m_create_bufs_caps(struct m2m_dev *dev, struct m2m_queue *q,
			 uint32_t memory);

/* Queue buffer @index; OUTPUT planes carry q->bufs[index].bytesused. */
int m2m_qbuf(struct m2m_dev *dev, struct m2m_queue *q, unsigned int index);
/* The same, as part of media request @request_fd (stateless codecs). */
int m2m_qbuf_request(struct m2m_dev *dev, struct m2m_queue *q,
		     unsigned int index, int request_fd);

/*
 * Dequeue one buffer, waiting at most @timeout_ms (poll on the video node).
 * Returns 0, -ETIMEDOUT, or another negative errno.
 */
int m2m_dqbuf(struct m2m_dev *dev, struct m2m_queue *q,
	      struct m2m_buf_state *st, int timeout_ms);

int m2m_querybuf(struct m2m_dev *dev, struct m2m_queue *q, unsigned int index,
		 struct m2m_buf_state *st);

int m2m_streamon(struct m2m_dev *dev, struct m2m_queue *q);
int m2m_streamoff(struct m2m_dev *dev, struct m2m_queue *q);

/* VIDIOC_EXPBUF of one plane; @flags as for open(), e.g. O_RDWR | O_CLOEXEC. */
int m2m_expbuf(struct m2m_dev *dev, struct m2m_queue *q, unsigned int index,
	       unsigned int plane, int flags);

/*
 * Find a control by its name (VIDIOC_QUERY_EXT_CTRL walk) rather than by a
 * driver-private id, and set it. @actual, if not NULL, receives the value
 * read back, which the driver may have clamped.
 */
int m2m_find_ctrl(int fd, const char *name, struct v4l2_query_ext_ctrl *qc);
int m2m_set_ctrl_by_name(int fd, const char *name, int64_t value,
			 int64_t *actual);

/*
 * Allocate a @len byte dma-buf from /dev/dma_heap/@heap. Returns its fd,
 * -ENOENT if there is no such heap, or another negative errno.
 */
int dma_heap_alloc(const char *heap, size_t len);

/* dma-buf helpers, valid for any dma-buf fd. */
ssize_t dmabuf_size(int fd);
void *dmabuf_mmap(int fd, size_t len, int prot);	/* NULL on failure */
int dmabuf_sync(int fd, uint64_t flags);		/* DMA_BUF_IOCTL_SYNC */
int dmabuf_export_sync_file(int fd, uint32_t flags);	/* sync_file fd */

/*
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: add the fences of sync_file @sync_fd to
 * the reservation object of dma-buf @fd, as DMA_RESV_USAGE_WRITE fences if
 * @flags has DMA_BUF_SYNC_WRITE, else as DMA_RESV_USAGE_READ ones: what the
 * driver of another device does when it writes, or reads, the buffer.
 */
int dmabuf_import_sync_file(int fd, int sync_fd, uint32_t flags);

/*
 * Number of unsignalled fences in the reservation object of dma-buf @fd,
 * READ and WRITE alike (EXPORT_SYNC_FILE(DMA_BUF_SYNC_WRITE) hands them all
 * out), whose driver name is @driver, or of any driver if @driver is NULL;
 * a negative errno on failure.
 */
int dmabuf_pending_fences(int fd, const char *driver);

/*
 * poll() one fd for @events. Returns the revents (> 0) when ready, 0 on
 * timeout, or a negative errno.
 */
int poll_fd(int fd, short events, int timeout_ms);

/*
 * Status of a sync_file through SYNC_IOC_FILE_INFO: 1 signalled, 0 active,
 * < 0 signalled with an error or the ioctl failed.
 */
int sync_file_status(int fd);

/* Per-fence details of a sync_file; returns the number of fences filled. */
int sync_file_fences(int fd, struct sync_fence_info *info, unsigned int max);

/*
 * The fences in the reservation object of dma-buf @fd, as debugfs's bufinfo
 * (DMABUF_BUFINFO) lists them ("\t<usage> fence: <context>:<seqno> ..."
 * under the line of the dma-buf's inode). Returns how many, at most @max
 * filled in @context and @seqno, or a negative errno.
 */
#define DMABUF_BUFINFO	"/sys/kernel/debug/dma_buf/bufinfo"
int dmabuf_resv_fences(int fd, uint64_t *context, uint64_t *seqno, int max);

/*
 * Count the fence objects each fence context creates and frees, with the
 * kernel's own trace events: hist triggers, keyed by context, on
 * dma_fence_init and dma_fence_destroy (CONFIG_HIST_TRIGGERS). Start returns
 * 0, -ENOENT without tracefs's dma_fence events, -EOPNOTSUPP without hist
 * triggers, or another negative errno; it mounts tracefs if needed.
 */
#define DMA_FENCE_EVENTS	"/sys/kernel/tracing/events/dma_fence"
int fence_hist_start(void);
void fence_hist_stop(void);
/*
 * Fences of @context created and freed since fence_hist_start(); @all_created
 * and @all_freed, if not NULL, get the totals over every context.
 */
int fence_hist_count(uint64_t context, long *created, long *freed,
		     long *all_created, long *all_freed);

/*
 * sw_sync (CONFIG_SW_SYNC, in debugfs): fences that user space signals, to
 * play another device that reads or writes a shared dma-buf. Each open of
 * SW_SYNC_PATH is a new timeline, at 0; a fence created at @value signals
 * when the timeline reaches it; closing the timeline's last fd signals its
 * pending fences with an error (-ENOENT). sw_sync_timeline_open() mounts
 * debugfs if needed and returns the timeline's fd, -ENOENT without sw_sync
 * (the caller should skip) or another negative errno. sw_sync_fence()
 * returns a sync_file fd. sw_sync fences are signalled from the ioctl with
 * the timeline's spinlock held: their callbacks run in atomic context.
 */
#define SW_SYNC_PATH	"/sys/kernel/debug/sync/sw_sync"
int sw_sync_timeline_open(void);
int sw_sync_fence(int timeline, unsigned int value);
int sw_sync_inc(int timeline, unsigned int count);

/*
 * A rescue for a test whose kernel may wait for a fence where it must not
 * (in an ioctl, in close, in exit): a child process that advances @timeline
 * by @count after @ms, so that the test ends in bounded time and reports the
 * wait instead of hanging. The child closes every fd but @timeline, so it
 * keeps no file of the test open. Returns the child's pid or a negative
 * errno. sw_sync_rescue_cancel() kills and reaps it, and returns 1 if the
 * rescue had advanced the timeline already, 0 if not, or a negative errno.
 */
pid_t sw_sync_rescue(int timeline, unsigned int count, int ms);
int sw_sync_rescue_cancel(pid_t pid);

/* Small sysfs/debugfs files: 0 or a negative errno. */
int read_int_file(const char *path, int *val);
int read_bool_file(const char *path);	/* 1 (Y), 0 (N) or -errno */
int write_file(const char *path, const char *s);

/*
 * The producer fence kill switch (CONTRACT.md F12): videobuf2_common's
 * producer_fences parameter, which the queues set up from then on follow.
 * kill_switch_get() returns 1 (on), 0 (off) or a negative errno, -ENOENT
 * on a kernel without the series; kill_switch_set() 0 or a negative errno.
 * kill_switch_restore() puts back *@saved, a value kill_switch_get()
 * returned before a change, unless it is negative (nothing to restore), and
 * leaves -1 in it.
 */
#define KILL_SWITCH	"/sys/module/videobuf2_common/parameters/producer_fences"
int kill_switch_get(void);
int kill_switch_set(bool on);
void kill_switch_restore(int *saved);

/*
 * CLOCK_MONOTONIC, the clock of a fence's timestamp (ktime_get()), in
 * nanoseconds and in microseconds (rounded down: compare a wake-up with a
 * fence's timestamp in nanoseconds).
 */
uint64_t now_ns(void);
uint64_t now_us(void);
/* Milliseconds from @t0, a now_us() value, to now. */
double ms_since(uint64_t t0);

/* Fill @len bytes with a pattern whose every byte has bit 7 set. */
void fill_pattern(void *buf, size_t len, unsigned int seed);
/* Number of positions at which @a and @b hold the same byte. */
size_t count_equal_bytes(const void *a, const void *b, size_t len);

#endif /* M2M_UTIL_H */
