// SPDX-License-Identifier: GPL-2.0
/*
 * The shared side of producer_fences, fence_errors and implicit_sync (see
 * fence_fixture.h): contexts of the test device with one job's buffers, the
 * checks of the frame a job wrote, the other devices sw_sync plays, failslab,
 * and the fixture state a test starts from and its teardown puts back.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "kselftest.h"
#include "fence_fixture.h"

#define CMA_HEAP		"default_cma_region"

void job_init(struct job *j)
{
	unsigned int p;

	memset(j, 0, sizeof(*j));
	j->dev.fd = -1;
	j->width = FRAME_W;
	j->height = FRAME_H;
	for (p = 0; p < VIDEO_MAX_PLANES; p++) {
		j->dmabuf[p] = -1;
		j->out_dmabuf[p] = -1;
	}
}

/*
 * Give buffer 0 of queue @q planes allocated from dma-buf heap @heap,
 * imported with V4L2_MEMORY_DMABUF; @fds[] (j->dmabuf[] or j->out_dmabuf[])
 * owns them. -ENOTSUP: no such heap.
 */
static int job_import(struct job *j, struct m2m_queue *q, int *fds, const char *heap)
{
	unsigned int p;
	int ret, fd;

	ret = m2m_reqbufs_dmabuf(&j->dev, q, 1);
	if (ret)
		return ret;
	for (p = 0; p < q->num_planes; p++) {
		fd = dma_heap_alloc(heap, q->sizeimage[p]);
		if (fd < 0)
			return fd == -ENOENT ? -ENOTSUP : fd;
		fds[p] = fd;
		q->bufs[0].fd[p] = fd;
		q->bufs[0].length[p] = q->sizeimage[p];
	}
	return 0;
}

int job_import_output(struct job *j, const char *heap)
{
	struct m2m_queue *out = &j->dev.out;
	unsigned int p;
	uint8_t *map;
	int ret;

	ret = job_import(j, out, j->out_dmabuf, heap);
	if (ret)
		return ret;
	for (p = 0; p < out->num_planes; p++) {
		map = dmabuf_mmap(j->out_dmabuf[p], out->sizeimage[p], PROT_READ | PROT_WRITE);
		if (!map)
			return -ENOMEM;
		dmabuf_sync(j->out_dmabuf[p], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		fill_pattern(map, out->sizeimage[p], 3 + p);
		dmabuf_sync(j->out_dmabuf[p], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		out->bufs[0].map[p] = map;
		out->bufs[0].bytesused[p] = out->sizeimage[p];
	}
	return 0;
}

int job_open_n(struct job *j, uint32_t fourcc, int job_ms, int result,
	       unsigned int nbufs, const char *heap)
{
	struct m2m_queue *out = &j->dev.out, *cap = &j->dev.cap;
	unsigned int i, p;
	uint8_t *map;
	int ret;

	ret = open_timed_context(&j->dev, job_ms);
	if (ret)
		return ret;
	if (result >= 0) {
		ret = m2m_set_ctrl_by_name(j->dev.fd, JOB_RESULT_CTRL, result, NULL);
		/* A device without the control completes its jobs normally */
		if (ret == -ENOENT && result == JOB_DONE)
			ret = 0;
		if (ret)
			return ret == -ENOENT ? -ENOTSUP : ret;
	}
	ret = m2m_set_formats(&j->dev, fourcc, fourcc, j->width, j->height);
	if (ret)
		return ret;
	if (fourcc && cap->fourcc != fourcc)
		return m2m_fail(-ENOTSUP, "%s has no %s format", driver_name(),
				m2m_fourcc_str(fourcc, (char[8]){ 0 }));
	ret = m2m_reqbufs(&j->dev, out, nbufs);
	if (ret)
		return ret;
	if (out->count < nbufs)
		return -ENOTSUP;
	for (i = 0; i < nbufs; i++) {
		fill_pattern(out->bufs[i].map[0], out->bufs[i].length[0], 3 + i);
		out->bufs[i].bytesused[0] = out->bufs[i].length[0];
	}
	j->planes = cap->num_planes;

	if (heap) {
		if (nbufs != 1)
			return -EINVAL;
		ret = job_import(j, cap, j->dmabuf, heap);
		if (ret)
			return ret;
		for (p = 0; p < j->planes; p++) {
			map = dmabuf_mmap(j->dmabuf[p], cap->sizeimage[p], PROT_WRITE);
			if (!map)
				return -errno;
			dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			memset(map, STALE_BYTE, cap->sizeimage[p]);
			dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
			munmap(map, cap->sizeimage[p]);
		}
		return 0;
	}

	ret = m2m_reqbufs(&j->dev, cap, nbufs);
	if (ret)
		return ret;
	if (cap->count < nbufs)
		return -ENOTSUP;
	for (i = 0; i < nbufs; i++)
		for (p = 0; p < j->planes; p++)
			memset(cap->bufs[i].map[p], STALE_BYTE, cap->bufs[i].length[p]);
	for (p = 0; p < j->planes; p++) {
		j->dmabuf[p] = m2m_expbuf(&j->dev, cap, 0, p, O_RDWR | O_CLOEXEC);
		if (j->dmabuf[p] < 0)
			return j->dmabuf[p];
	}
	return 0;
}

int job_open(struct job *j, uint32_t fourcc, int job_ms, int result)
{
	return job_open_n(j, fourcc, job_ms, result, 1, NULL);
}

void job_drop_exports(struct job *j)
{
	unsigned int p;

	for (p = 0; p < VIDEO_MAX_PLANES; p++) {
		if (j->dmabuf[p] >= 0)
			close(j->dmabuf[p]);
		if (j->out_dmabuf[p] >= 0)
			close(j->out_dmabuf[p]);
		j->dmabuf[p] = -1;
		j->out_dmabuf[p] = -1;
	}
	m2m_unmap(&j->dev);
}

void job_close(struct job *j)
{
	job_drop_exports(j);
	m2m_close(&j->dev);
	job_init(j);
}

int job_cancel(struct job *j, enum cancel_how how)
{
	switch (how) {
	case STREAMOFF_CAPTURE:
		return m2m_streamoff(&j->dev, &j->dev.cap);
	case STREAMOFF_OUTPUT:
		return m2m_streamoff(&j->dev, &j->dev.out);
	case CLOSE_FILE:
		break;
	}
	job_close(j);
	return 0;
}

int job_start(struct job *j, bool capture_only)
{
	int ret;

	ret = m2m_qbuf(&j->dev, &j->dev.cap, 0);
	if (!ret && !capture_only)
		ret = m2m_qbuf(&j->dev, &j->dev.out, 0);
	if (!ret && !j->dev.out.streaming)
		ret = m2m_streamon(&j->dev, &j->dev.out);
	j->t_start = now_us();
	if (!ret && !j->dev.cap.streaming)
		ret = m2m_streamon(&j->dev, &j->dev.cap);
	return ret;
}

bool job_in_flight(struct job *j)
{
	struct m2m_buf_state st;

	if (m2m_querybuf(&j->dev, &j->dev.cap, 0, &st))
		return false;
	return (st.flags & V4L2_BUF_FLAG_QUEUED) && !(st.flags & V4L2_BUF_FLAG_DONE);
}

uint8_t frame_key(uint32_t sequence)
{
	return strcmp(driver_name(), DEFAULT_DRIVER) ? 0 : (sequence % 255) + 1;
}

long frame_errors(struct job *j, uint32_t sequence)
{
	struct m2m_buf *out = &j->dev.out.bufs[0];

	return frame_errors_from(j, out->map[0], out->bytesused[0], sequence);
}

long frame_errors_from(struct job *j, const uint8_t *src, size_t src_len,
		       uint32_t sequence)
{
	struct m2m_queue *cap = &j->dev.cap;
	uint8_t key = frame_key(sequence);
	size_t i, n = 0;
	unsigned int p;
	long bad = 0;
	uint8_t *map;

	for (p = 0; p < j->planes; p++) {
		map = dmabuf_mmap(j->dmabuf[p], cap->sizeimage[p], PROT_READ);
		if (!map)
			return -ENOMEM;
		dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		for (i = 0; i < cap->sizeimage[p]; i++, n++)
			bad += map[i] != (src[n % src_len] ^ key);
		dmabuf_sync(j->dmabuf[p], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		munmap(map, cap->sizeimage[p]);
	}
	return bad;
}

const char *import_heap(void)
{
	const char *heap = getenv("VB2_RESV_HEAP");
	char mem[32] = "";
	FILE *f;

	if (heap && *heap)
		return heap;
	f = fopen(MEM_PARAM, "r");
	if (f) {
		if (fscanf(f, "%31s", mem) != 1)
			mem[0] = '\0';
		fclose(f);
	}
	/* Without an IOMMU, dma-contig needs physically contiguous memory. */
	return strcmp(mem, "dma-contig") ? "system" : CMA_HEAP;
}

bool reports_fences(const struct m2m_queue *q)
{
	return q->caps & V4L2_BUF_CAP_PRODUCER_FENCES;
}

/* A copy of fd @fd of process @pid (pidfd_getfd), or a negative errno. */
static int pidfd_getfd_of(pid_t pid, int fd)
{
	int pidfd, ret;

	pidfd = syscall(__NR_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	ret = syscall(__NR_pidfd_getfd, pidfd, fd, 0);
	if (ret < 0)
		ret = -errno;
	close(pidfd);
	return ret;
}

int add_dependency(int dmabuf, int timeline, uint32_t flags)
{
	int fence, ret;

	fence = sw_sync_fence(timeline, 1);
	if (fence < 0)
		return fence;
	ret = dmabuf_import_sync_file(dmabuf, fence, flags);
	close(fence);
	return ret;
}

int job_in_child(struct child_job *c, struct job *j, int job_ms, int timeline)
{
	int pipefd[2], msg[2], ret;

	memset(c, 0, sizeof(*c));
	c->dmabuf = -1;
	if (pipe(pipefd))
		return errtext_set(&c->err, -errno, "pipe");
	c->pid = fork();
	if (c->pid < 0) {
		ret = errtext_set(&c->err, -errno, "fork");
		close(pipefd[0]);
		close(pipefd[1]);
		return ret;
	}
	if (!c->pid) {
		/* The child sends its CAPTURE dma-buf's fd and size, or -errno. */
		close(pipefd[0]);
		msg[0] = job_open(j, 0, job_ms, JOB_DONE);
		if (!msg[0] && timeline >= 0)
			msg[0] = add_dependency(j->dmabuf[0], timeline, DMA_BUF_SYNC_READ);
		if (!msg[0])
			msg[0] = job_start(j, false);
		if (!msg[0])
			msg[0] = j->dmabuf[0];
		msg[1] = j->dev.cap.sizeimage[0];
		if (write(pipefd[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	if (read(pipefd[0], msg, sizeof(msg)) != sizeof(msg))
		msg[0] = -EPIPE;
	close(pipefd[0]);
	if (msg[0] < 0) {
		ret = errtext_set(&c->err, msg[0], "the child could not start a job");
	} else {
		c->len = msg[1];
		c->dmabuf = pidfd_getfd_of(c->pid, msg[0]);
		if (c->dmabuf >= 0)
			return 0;
		ret = errtext_set(&c->err, c->dmabuf, "pidfd_getfd");
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	return ret;
}

/* The lowest and past-the-highest text address of module @mod. */
static int module_text(const char *mod, unsigned long long *lo, unsigned long long *hi)
{
	char line[256], type, name[128], owner[64];
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -errno;
	*lo = ~0ULL;
	*hi = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s [%63[^]]]", &addr, &type, name, owner) != 4 ||
		    strcmp(owner, mod) || (type != 't' && type != 'T') || !addr)
			continue;
		if (addr < *lo)
			*lo = addr;
		if (addr > *hi)
			*hi = addr;
	}
	fclose(f);
	if (!*hi)
		return -ENOENT;
	*hi += 4096;	/* the size of the last function is not listed */
	return 0;
}

/*
 * Make every slab allocation made by videobuf2_common code, in this task
 * only, fail: the fence preallocation at QBUF and the allocations of the
 * publication in device_run, which runs in this task's QBUF.
 */
int failslab_arm(void)
{
	static const char *const knobs[][2] = {
		{ "task-filter", "Y" }, { "ignore-gfp-wait", "N" }, { "verbose", "0" },
		{ "interval", "1" }, { "times", "-1" }, { "space", "0" },
		{ "stacktrace-depth", "32" }, { "probability", "100" },
	};
	unsigned long long lo = 0, hi = 0;
	char path[128], val[32];
	unsigned int i;
	int ret;

	ret = module_text("videobuf2_common", &lo, &hi);
	if (ret)
		return ret;
	snprintf(val, sizeof(val), "%llu", lo);
	ret = write_file(FAILSLAB "/require-start", val);
	snprintf(val, sizeof(val), "%llu", hi);
	if (!ret)
		ret = write_file(FAILSLAB "/require-end", val);
	for (i = 0; !ret && i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), FAILSLAB "/%s", knobs[i][0]);
		ret = write_file(path, knobs[i][1]);
	}
	if (!ret)
		ret = write_file("/proc/self/make-it-fail", "1");
	return ret;
}

void failslab_disarm(void)
{
	write_file("/proc/self/make-it-fail", "0");
	write_file(FAILSLAB "/probability", "0");
}

const char *why_no_fences(void)
{
	static char why[256];
	struct v4l2_requestbuffers rb = { .memory = V4L2_MEMORY_MMAP };
	struct m2m_dev dev = { .fd = -1 };
	bool publishes;

	if (m2m_open(&dev, driver_name()))
		return NULL;	/* the tests say why they cannot open it */
	rb.type = dev.cap.type;
	publishes = !ioctl(dev.fd, VIDIOC_REQBUFS, &rb) &&
		    (rb.capabilities & V4L2_BUF_CAP_PRODUCER_FENCES);
	m2m_close(&dev);
	if (publishes)
		return NULL;
	if (kill_switch_get() == 0)
		return "producer fences are off (" KILL_SWITCH " is N)";
	snprintf(why, sizeof(why),
		 "%s publishes no producer fences: its CAPTURE queue does not report V4L2_BUF_CAP_PRODUCER_FENCES (a kernel without the series, or a driver that does not opt in)",
		 driver_name());
	return why;
}

void fence_fixture_setup(struct fence_fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	job_init(&fx->a);
	job_init(&fx->b);
	fx->kill_switch = -1;
	fx->timeline = -1;
	fx->watchdog_ms = -1;
}

void fence_fixture_teardown(struct fence_fixture *fx)
{
	/*
	 * The rescue first, so that closing the timeline, its last fd, signals
	 * its fences (with an error) and releases any job still held by them.
	 */
	sw_sync_rescue_cancel(fx->rescue);
	if (fx->timeline >= 0)
		close(fx->timeline);
	kill_switch_restore(&fx->kill_switch);
	if (fx->failslab)
		failslab_disarm();
	job_close(&fx->a);
	job_close(&fx->b);
	/* A test that stopped half way may leave the device suspended. */
	if (!access(SUSPENDED, W_OK))
		write_file(SUSPENDED, "0");
	if (fx->watchdog_ms >= 0) {
		char ms[16];

		snprintf(ms, sizeof(ms), "%d", fx->watchdog_ms);
		write_file(WATCHDOG_PARAM, ms);
	}
	if (fx->rebind)
		write_file(PDRV_DIR "/bind", DEFAULT_DRIVER);
}
