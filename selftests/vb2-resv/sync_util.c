// SPDX-License-Identifier: GPL-2.0
/*
 * The sync_file side of the vb2-resv selftests' helpers: the status and the
 * fences of a sync_file (SYNC_IOC_FILE_INFO), and sw_sync timelines in
 * debugfs, whose fences user space signals to play another device, with a
 * rescue process that signals them when a test's kernel waits where it must
 * not. See m2m_util.h for the conventions.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <linux/magic.h>

#include "m2m_util_internal.h"

int sync_file_status(int fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (xioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return fail(-errno, "SYNC_IOC_FILE_INFO");
	return info.status;
}

int sync_file_fences(int fd, struct sync_fence_info *fences, unsigned int max)
{
	struct sync_file_info info;
	unsigned int n;

	memset(&info, 0, sizeof(info));
	if (xioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return fail(-errno, "SYNC_IOC_FILE_INFO");
	n = info.num_fences;
	if (!n)
		return 0;
	if (n > max)
		return fail(-E2BIG, "sync_file holds %u fences, room for %u",
			    n, max);

	memset(&info, 0, sizeof(info));
	memset(fences, 0, n * sizeof(*fences));
	info.num_fences = n;
	info.sync_fence_info = (uintptr_t)fences;
	if (xioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return fail(-errno, "SYNC_IOC_FILE_INFO(%u fences)", n);
	return info.num_fences;
}

/* The sw_sync ioctls, private to drivers/dma-buf/sw_sync.c: no uapi header. */
struct sw_sync_create_fence_data {
	uint32_t value;
	char name[32];
	int32_t fence;
};

#define SW_SYNC_IOC_MAGIC		'W'
#define SW_SYNC_IOC_CREATE_FENCE	_IOWR(SW_SYNC_IOC_MAGIC, 0, \
					      struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC			_IOW(SW_SYNC_IOC_MAGIC, 1, uint32_t)

#define DEBUGFS_DIR	"/sys/kernel/debug"

int sw_sync_timeline_open(void)
{
	struct statfs sfs;
	int fd;

	/* debugfs may not be mounted where the tests run from a bare init. */
	if (!statfs(DEBUGFS_DIR, &sfs) && sfs.f_type != DEBUGFS_MAGIC)
		mount("debugfs", DEBUGFS_DIR, "debugfs", 0, NULL);
	fd = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return fail(-ENOENT, "no %s: CONFIG_SW_SYNC and debugfs",
			    SW_SYNC_PATH);
	if (fd < 0)
		return fail(-errno, "open(%s)", SW_SYNC_PATH);
	return fd;
}

int sw_sync_fence(int timeline, unsigned int value)
{
	struct sw_sync_create_fence_data data = { .value = value };

	snprintf(data.name, sizeof(data.name), "vb2-resv-%u", value);
	if (xioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &data))
		return fail(-errno, "SW_SYNC_IOC_CREATE_FENCE(%u)", value);
	return data.fence;
}

int sw_sync_inc(int timeline, unsigned int count)
{
	uint32_t n = count;

	if (xioctl(timeline, SW_SYNC_IOC_INC, &n))
		return fail(-errno, "SW_SYNC_IOC_INC(%u)", count);
	return 0;
}

pid_t sw_sync_rescue(int timeline, unsigned int count, int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		return fail(-errno, "fork");
	if (pid)
		return pid;

	/* Keep no video node or dma-buf of the test open: only the timeline. */
	for (fd = 3; fd < 4096; fd++)
		if (fd != timeline)
			close(fd);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	_exit(sw_sync_inc(timeline, count) ? 2 : 0);
}

int sw_sync_rescue_cancel(pid_t pid)
{
	int status;
	pid_t ret;

	if (pid <= 0)
		return 0;
	ret = waitpid(pid, &status, WNOHANG);
	if (!ret) {
		kill(pid, SIGKILL);
		ret = waitpid(pid, &status, 0);
	}
	if (ret != pid)
		return fail(-errno, "waitpid(rescue %d)", (int)pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
