/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the vb2-resv programs share about the device under test: which
 * driver to look for ($VB2_RESV_DRIVER, by default the test module
 * vb2-resv-test), the names of its controls and counters, and how a
 * kselftest_harness test skips on a device that cannot run it (include
 * kselftest_harness.h first for that). The kill switch is in m2m_util.h.
 */
#ifndef VB2_RESV_TEST_H
#define VB2_RESV_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2m_util.h"

#define DEFAULT_DRIVER		"vb2-resv-test"
#define TRANS_TIME_CTRL		"Transaction Time (msec)"
#define FENCE_DRIVER		"vb2"
/* the test module's counters: "name value" lines */
#define STATS			"/sys/kernel/debug/" DEFAULT_DRIVER "/stats"

static inline const char *driver_name(void)
{
	const char *d = getenv("VB2_RESV_DRIVER");

	return d && *d ? d : DEFAULT_DRIVER;
}

/* The test module's counter @name, or a negative errno. */
static inline int read_stat(const char *name)
{
	int val, ret = -ENOENT;
	char key[32];
	FILE *f = fopen(STATS, "r");

	if (!f)
		return -errno;
	while (fscanf(f, "%31s %d", key, &val) == 2)
		if (!strcmp(key, name))
			ret = val;
	fclose(f);
	return ret;
}

/*
 * Open a context of the device and set its job time. Returns 0, -ENOENT
 * (no device), -ENOTSUP (no job-time control) or another negative errno.
 */
static inline int open_timed_context(struct m2m_dev *dev, int job_ms)
{
	int ret = m2m_open(dev, driver_name());

	if (ret)
		return ret;
	ret = m2m_set_ctrl_by_name(dev->fd, TRANS_TIME_CTRL, job_ms, NULL);
	return ret == -ENOENT ? -ENOTSUP : ret;
}

/*
 * End the calling test with SKIP when @ret says the device is absent
 * (-ENOENT) or lacks a control or format the test needs (-ENOTSUP).
 */
#define SKIP_IF_UNSUPPORTED(ret) do {					\
	if ((ret) == -ENOENT)						\
		SKIP(return, "no %s device: modprobe %s", driver_name(),	\
		     driver_name());					\
	if ((ret) == -ENOTSUP)						\
		SKIP(return, "%s lacks this test's control or format: %s",	\
		     driver_name(), m2m_strerror());			\
} while (0)

/*
 * Tests that change the system beyond the test device run only when asked,
 * with VB2_RESV_DESTRUCTIVE=1 in the environment: those that unbind a
 * driver, unload a module, make the kernel's allocations fail or flip
 * videobuf2's producer_fences switch, which every queue set up meanwhile
 * (a player's, too) follows. Otherwise the calling test ends with SKIP,
 * saying what it would do and how to ask for it.
 */
#define DESTRUCTIVE_ENV		"VB2_RESV_DESTRUCTIVE"

static inline int destructive_allowed(void)
{
	const char *d = getenv(DESTRUCTIVE_ENV);

	return d && !strcmp(d, "1");
}

#define SKIP_UNLESS_DESTRUCTIVE(what) do {				\
	if (!destructive_allowed())					\
		SKIP(return, "%s: not by default, run with "		\
		     DESTRUCTIVE_ENV "=1 to include it", (what));	\
} while (0)

#endif /* VB2_RESV_TEST_H */
