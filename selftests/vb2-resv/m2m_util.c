// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the vb2-resv selftests: drive a V4L2 mem2mem device with
 * MMAP buffers and look at its exported dma-bufs as a consumer would.
 * See m2m_util.h for the conventions.
 *
 * This file holds what the others build on: the error text that
 * m2m_strerror() returns, poll() of one fd, the clock the tests measure with
 * and the byte patterns they fill and compare buffers with. The helpers live
 * by what they talk to: v4l2_util.c (the V4L2 device, its queues, buffers and
 * controls), dmabuf_util.c (dma-bufs and dma-buf heaps), sync_util.c
 * (sync_files and sw_sync timelines) and kernel_util.c (modules, sysfs and
 * debugfs files, the kill switch, tracefs hist triggers).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "m2m_util_internal.h"

int errtext_set(struct errtext *e, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(e->buf, sizeof(e->buf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(e->buf))
		snprintf(e->buf + n, sizeof(e->buf) - n, ": %s", strerror(-err));
	return err;
}

const char *errtext_str(const struct errtext *e)
{
	return e->buf[0] ? e->buf : "no error recorded";
}

/* Per thread: fence_bench and fence_stress call these helpers from several. */
__thread struct errtext m2m_err;

const char *m2m_strerror(void)
{
	return errtext_str(&m2m_err);
}

struct errtext *m2m_errtext(void)
{
	return &m2m_err;
}

int poll_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&p, 1, timeout_ms);
	} while (ret == -1 && errno == EINTR);
	if (ret < 0)
		return fail(-errno, "poll(fd %d)", fd);
	return ret ? p.revents : 0;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t now_us(void)
{
	return now_ns() / 1000;
}

double ms_since(uint64_t t0)
{
	return (now_us() - t0) / 1000.0;
}

void fill_pattern(void *buf, size_t len, unsigned int seed)
{
	uint8_t *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = 0x80 | ((i * 31 + (i >> 7) + seed * 13) & 0x7f);
}

size_t count_equal_bytes(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += x[i] == y[i];
	return n;
}
