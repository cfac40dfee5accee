/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the vb2-resv selftests' helpers (m2m_util.c,
 * v4l2_util.c, dmabuf_util.c, sync_util.c, kernel_util.c) share among
 * themselves and the programs do not use: the per-thread record of the last
 * error behind m2m_strerror(), fail() that fills it, and an ioctl() that
 * retries when a signal interrupts it. The programs include m2m_util.h.
 */
#ifndef M2M_UTIL_INTERNAL_H
#define M2M_UTIL_INTERNAL_H

#include <errno.h>
#include <sys/ioctl.h>

#include "m2m_util.h"

/* Per thread, in m2m_util.c: what m2m_strerror() returns. */
extern __thread struct errtext m2m_err;

/* Record "what: strerror(-err)" and return @err, a negative errno. */
#define fail(err, ...)	errtext_set(&m2m_err, (err), __VA_ARGS__)

static inline int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret;
}

#endif /* M2M_UTIL_INTERNAL_H */
