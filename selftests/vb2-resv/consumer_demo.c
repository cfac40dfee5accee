// SPDX-License-Identifier: GPL-2.0
/*
 * consumer_demo - show what an implicit-sync consumer of a V4L2 mem2mem
 * CAPTURE dma-buf reads, with and without a producer fence.
 *
 * It plays the consumer (a compositor, a GPU, a KMS commit) that is handed
 * the CAPTURE dma-buf as soon as the job is submitted: it starts a long job,
 * blocks in poll(POLLIN) on the dma-buf, reads the frame through the dma-buf
 * mmap the moment it is woken, and only then dequeues the buffer and compares
 * what it read with the finished frame. Without a producer fence (before the
 * series, or a queue that does not opt in, F1) it wakes at once and may read
 * a stale frame; with one (F3, F4) it wakes when the frame is complete.
 *
 * Not a test: it demonstrates and does not judge. Exit 0 whatever it shows,
 * 1 on errors, 4 (KSFT_SKIP) when no device is loaded.
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
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/videodev2.h>

#include "kselftest.h"
#include "m2m_util.h"

#define DEFAULT_JOB_MS		500
#define MAX_JOB_MS		10000
#define TRANS_TIME_CTRL		"Transaction Time (msec)"
#define FRAME_WIDTH		64
#define FRAME_HEIGHT		64
#define STALE_BYTE		0x5a	/* CAPTURE fill before the job */

static const char *const default_drivers[] = { "vb2-resv-test", "vim2m" };

struct plane {
	int fd;			/* dma-buf exported with VIDIOC_EXPBUF */
	uint8_t *map;		/* its mmap */
	size_t len;
	uint8_t *seen;		/* what the consumer read when woken */
};

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: consumer_demo [-d driver] [-t ms] [-c control]\n"
		"  -d driver   m2m driver name (default: vb2-resv-test, else vim2m)\n"
		"  -t ms       job length to ask for, 1..%d (default %d)\n"
		"  -c control  name of the job length control (default \"%s\")\n",
		MAX_JOB_MS, DEFAULT_JOB_MS, TRANS_TIME_CTRL);
}

static int report_error(const char *what)
{
	fprintf(stderr, "consumer_demo: %s\n", what);
	return KSFT_FAIL;
}

/* Whole percent, never rounded up to 100 unless all bytes match. */
static unsigned int percent(size_t part, size_t total)
{
	unsigned int pct;

	if (!total)
		return 0;
	pct = (unsigned int)(part * 100 / total);
	return (pct == 100 && part < total) ? 99 : pct;
}

static int open_device(struct m2m_dev *dev, const char **driver)
{
	unsigned int i;
	int ret;

	if (*driver) {
		ret = m2m_open(dev, *driver);
		if (ret == -ENOENT)
			printf("consumer_demo: no \"%s\" m2m device: load its module first (e.g. modprobe %s)\n",
			       *driver, *driver);
		return ret;
	}
	for (i = 0; i < ARRAY_SIZE(default_drivers); i++) {
		*driver = default_drivers[i];
		ret = m2m_open(dev, *driver);
		if (ret != -ENOENT)
			return ret;
	}
	printf("consumer_demo: no vb2-resv-test or vim2m device: load one (e.g. modprobe vim2m)\n");
	return -ENOENT;
}

int main(int argc, char **argv)
{
	const char *driver = NULL, *ctrl = TRANS_TIME_CTRL;
	struct plane pl[VIDEO_MAX_PLANES];
	size_t total = 0, match = 0, stale = 0;
	uint64_t t0, t_wake, t_done, deadline;
	unsigned int np = 0, p;
	struct m2m_buf_state st;
	struct m2m_queue *cap, *out;
	int64_t job_ms = -1;
	struct m2m_dev dev;
	long ask_ms = DEFAULT_JOB_MS;
	int opt, ret, status;
	bool early;
	char *end;

	while ((opt = getopt(argc, argv, "d:t:c:h")) != -1) {
		switch (opt) {
		case 'd':
			driver = optarg;
			break;
		case 't':
			ask_ms = strtol(optarg, &end, 10);
			if (*end || ask_ms < 1 || ask_ms > MAX_JOB_MS) {
				print_usage(stderr);
				return KSFT_FAIL;
			}
			break;
		case 'c':
			ctrl = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return KSFT_FAIL;
		}
	}
	if (optind < argc) {
		print_usage(stderr);
		return KSFT_FAIL;
	}

	ret = open_device(&dev, &driver);
	if (ret == -ENOENT)
		return KSFT_SKIP;
	if (ret)
		return report_error(m2m_strerror());
	cap = &dev.cap;
	out = &dev.out;
	status = KSFT_FAIL;

	ret = m2m_set_ctrl_by_name(dev.fd, ctrl, ask_ms, &job_ms);
	if (ret == -ENOENT) {
		job_ms = -1;
	} else if (ret) {
		report_error(m2m_strerror());
		goto out;
	}

	if (m2m_set_formats(&dev, 0, 0, FRAME_WIDTH, FRAME_HEIGHT) ||
	    m2m_reqbufs(&dev, out, 1) || m2m_reqbufs(&dev, cap, 1)) {
		report_error(m2m_strerror());
		goto out;
	}

	/* The consumer's handles: one dma-buf per CAPTURE plane, mapped. */
	for (np = 0; np < cap->num_planes; np++) {
		struct plane *pp = &pl[np];

		memset(pp, 0, sizeof(*pp));
		pp->len = cap->bufs[0].length[np];
		pp->fd = m2m_expbuf(&dev, cap, 0, np, O_RDWR | O_CLOEXEC);
		if (pp->fd < 0) {
			report_error(m2m_strerror());
			goto out;
		}
		pp->map = dmabuf_mmap(pp->fd, pp->len, PROT_READ | PROT_WRITE);
		pp->seen = malloc(pp->len);
		if (!pp->map || !pp->seen) {
			report_error(pp->map ? "out of memory" : m2m_strerror());
			np++;
			goto out;
		}
		/* What the memory held before: any of it read later is stale. */
		if (dmabuf_sync(pp->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)) {
			report_error(m2m_strerror());
			np++;
			goto out;
		}
		memset(pp->map, STALE_BYTE, pp->len);
		if (dmabuf_sync(pp->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)) {
			report_error(m2m_strerror());
			np++;
			goto out;
		}
	}
	for (p = 0; p < out->num_planes; p++)
		fill_pattern(out->bufs[0].map[p], out->bufs[0].length[p], p + 1);

	/* Submit the job; it is committed by the second STREAMON. */
	if (m2m_qbuf(&dev, cap, 0) || m2m_qbuf(&dev, out, 0) ||
	    m2m_streamon(&dev, out)) {
		report_error(m2m_strerror());
		goto out;
	}
	t0 = now_us();
	if (m2m_streamon(&dev, cap)) {
		report_error(m2m_strerror());
		goto out;
	}

	/* The consumer: wait for the dma-bufs to be readable, then read. */
	deadline = t0 + ((job_ms > 0 ? job_ms : ask_ms) * 4 + 5000) * 1000;
	for (p = 0; p < np; p++) {
		uint64_t now = now_us();
		int left = now < deadline ? (int)((deadline - now) / 1000) : 0;

		ret = poll_fd(pl[p].fd, POLLIN, left);
		if (ret < 0) {
			report_error(m2m_strerror());
			goto out;
		}
		if (!(ret & POLLIN)) {
			printf("consumer still blocked in poll() on plane %u after %.1f ms: fence never signalled\n",
			       p, ms_since(t0));
			goto out;
		}
	}
	t_wake = now_us();
	for (p = 0; p < np; p++) {
		if (dmabuf_sync(pl[p].fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) {
			report_error(m2m_strerror());
			goto out;
		}
		memcpy(pl[p].seen, pl[p].map, pl[p].len);
		if (dmabuf_sync(pl[p].fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)) {
			report_error(m2m_strerror());
			goto out;
		}
	}

	/* The producer's side: the job is really done when DQBUF says so. */
	if (m2m_dqbuf(&dev, cap, &st, (int)((deadline - t0) / 1000))) {
		report_error(m2m_strerror());
		goto out;
	}
	t_done = now_us();
	if (st.flags & V4L2_BUF_FLAG_ERROR)
		printf("consumer_demo: note: the CAPTURE buffer completed with V4L2_BUF_FLAG_ERROR\n");

	for (p = 0; p < np; p++) {
		size_t used = st.bytesused[p], i;

		if (!used || used > pl[p].len)
			used = pl[p].len;
		if (dmabuf_sync(pl[p].fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) {
			report_error(m2m_strerror());
			goto out;
		}
		match += count_equal_bytes(pl[p].seen, pl[p].map, used);
		for (i = 0; i < used; i++)
			stale += pl[p].seen[i] == STALE_BYTE &&
				 pl[p].map[i] != STALE_BYTE;
		total += used;
		if (dmabuf_sync(pl[p].fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)) {
			report_error(m2m_strerror());
			goto out;
		}
	}

	/* Woken well before the device finished: nothing made it wait. */
	early = (t_done - t_wake) * 4 > (t_done - t0);

	if (job_ms > 0)
		printf("consumer_demo: device %s (%s), job takes %lld ms\n",
		       dev.driver, dev.path, (long long)job_ms);
	else
		printf("consumer_demo: device %s (%s), job length: driver default (no \"%s\" control)\n",
		       dev.driver, dev.path, ctrl);
	printf("consumer woke up after %9.1f ms (device finished after %.1f ms)\n",
	       (t_wake - t0) / 1000.0, (t_done - t0) / 1000.0);
	printf("frame the consumer read: %4u%% of bytes match the finished frame -> ",
	       percent(match, total));
	if (early && match < total)
		printf("STALE (the bug: no producer fence)\n");
	else if (early)
		printf("COMPLETE BY LUCK (no fence; the device wrote early)\n");
	else if (match == total)
		printf("COMPLETE (producer fence waited)\n");
	else
		printf("WRONG (the fence signalled before the frame was final)\n");
	if (match < total)
		printf("                         %4u%% still held the 0x%02x fill from before the job\n",
		       percent(stale, total), STALE_BYTE);
	if (early && match == total && !strcmp(dev.driver, "vim2m"))
		printf("                         (vim2m writes at job start; its job time is a delayed irq)\n");
	status = KSFT_PASS;

out:
	if (cap->streaming && m2m_streamoff(&dev, cap))
		status = report_error(m2m_strerror());
	if (out->streaming && m2m_streamoff(&dev, out))
		status = report_error(m2m_strerror());
	for (p = 0; p < np; p++) {
		if (pl[p].map)
			munmap(pl[p].map, pl[p].len);
		if (pl[p].fd >= 0)
			close(pl[p].fd);
		free(pl[p].seen);
	}
	m2m_close(&dev);
	return status;
}
