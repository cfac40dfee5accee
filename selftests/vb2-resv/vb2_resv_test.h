/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kselftest_harness programs of vb2-resv share about the device
 * under test: which driver to look for ($VB2_RESV_DRIVER, by default the
 * test module vb2-resv-test), the names of its controls and of the kill
 * switch, and how a test skips on a device that cannot run it.
 */
#ifndef VB2_RESV_TEST_H
#define VB2_RESV_TEST_H

#include <errno.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "m2m_util.h"

#define DEFAULT_DRIVER		"vb2-resv-test"
#define TRANS_TIME_CTRL		"Transaction Time (msec)"
#define KILL_SWITCH		"/sys/module/videobuf2_common/parameters/producer_fences"
#define FENCE_DRIVER		"vb2"

static inline const char *driver_name(void)
{
	const char *d = getenv("VB2_RESV_DRIVER");

	return d && *d ? d : DEFAULT_DRIVER;
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

#endif /* VB2_RESV_TEST_H */
