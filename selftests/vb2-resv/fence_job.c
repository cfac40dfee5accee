// SPDX-License-Identifier: GPL-2.0
/*
 * fence_job - run jobs on a V4L2 mem2mem device with chosen control values.
 *
 *   fence_job [-d driver] [-n jobs] [-s "Control Name=value"]...
 *
 * Opens one context of the device (default driver: vb2-resv-test), sets the
 * named controls, then runs the jobs one after the other (one OUTPUT and one
 * CAPTURE buffer, waiting for both to be dequeued each time) and prints how
 * many completed and how many completed with an error.
 *
 * Not a test by itself: the harness uses it where the evidence is outside
 * the program, e.g. the lockdep report that a job run with the test
 * module's "Signalling Violation" control must produce (CONTRACT.md F9).
 * Exit 0 when every job was dequeued, 1 on errors, 4 when no device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"
#include "m2m_util.h"

#define MAX_SETTINGS	8
#define JOB_TIMEOUT_MS	10000

int main(int argc, char **argv)
{
	const char *driver = "vb2-resv-test", *set[MAX_SETTINGS];
	unsigned int n_set = 0, jobs = 1, i, errors = 0;
	struct m2m_buf_state st;
	struct m2m_dev dev;
	int opt, ret;

	while ((opt = getopt(argc, argv, "d:n:s:")) != -1) {
		switch (opt) {
		case 'd':
			driver = optarg;
			break;
		case 'n':
			jobs = strtoul(optarg, NULL, 0);
			break;
		case 's':
			if (n_set == MAX_SETTINGS || !strchr(optarg, '=')) {
				fprintf(stderr, "fence_job: -s \"Name=value\", at most %d\n",
					MAX_SETTINGS);
				return 1;
			}
			set[n_set++] = optarg;
			break;
		default:
			fprintf(stderr, "usage: fence_job [-d driver] [-n jobs] [-s \"Control Name=value\"]...\n");
			return 1;
		}
	}

	ret = m2m_open(&dev, driver);
	if (ret == -ENOENT) {
		fprintf(stderr, "fence_job: no %s device: modprobe %s\n", driver, driver);
		return KSFT_SKIP;
	}
	if (ret)
		goto fail;
	for (i = 0; i < n_set; i++) {
		char name[64];
		const char *eq = strchr(set[i], '=');

		snprintf(name, sizeof(name), "%.*s", (int)(eq - set[i]), set[i]);
		ret = m2m_set_ctrl_by_name(dev.fd, name, strtoll(eq + 1, NULL, 0), NULL);
		if (ret)
			goto fail;
	}
	ret = m2m_set_formats(&dev, 0, 0, 64, 64);
	if (!ret)
		ret = m2m_reqbufs(&dev, &dev.out, 1);
	if (!ret)
		ret = m2m_reqbufs(&dev, &dev.cap, 1);
	if (ret)
		goto fail;
	fill_pattern(dev.out.bufs[0].map[0], dev.out.bufs[0].length[0], 1);
	dev.out.bufs[0].bytesused[0] = dev.out.bufs[0].length[0];

	for (i = 0; i < jobs; i++) {
		ret = m2m_qbuf(&dev, &dev.cap, 0);
		if (!ret)
			ret = m2m_qbuf(&dev, &dev.out, 0);
		if (!ret && !dev.out.streaming)
			ret = m2m_streamon(&dev, &dev.out);
		if (!ret && !dev.cap.streaming)
			ret = m2m_streamon(&dev, &dev.cap);
		if (!ret)
			ret = m2m_dqbuf(&dev, &dev.cap, &st, JOB_TIMEOUT_MS);
		if (!ret && (st.flags & V4L2_BUF_FLAG_ERROR))
			errors++;
		if (!ret)
			ret = m2m_dqbuf(&dev, &dev.out, &st, JOB_TIMEOUT_MS);
		if (ret)
			goto fail;
	}
	printf("fence_job: %s: %u jobs, %u completed with an error\n", driver, jobs, errors);
	m2m_close(&dev);
	return 0;

fail:
	fprintf(stderr, "fence_job: %s\n", m2m_strerror());
	m2m_close(&dev);
	return 1;
}
