// SPDX-License-Identifier: GPL-2.0
/*
 * The regression test of the sw_sync fix in patches/sw_sync/. It needs no
 * video device, only a dma-buf of the system heap and sw_sync
 * (CONFIG_SW_SYNC, in debugfs), and skips without either.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "kselftest_harness.h"
#include "m2m_util.h"

#define POLL_TIMEOUT_MS		5000

/*
 * A compositor polls a dma-buf that another device is writing (a sw_sync
 * fence imported for write). That device then queues a newer write, which
 * replaces the first fence in the reservation object, and closes the
 * sync_file of the first: only the poll callback still holds it. When the
 * other device goes away (its sw_sync timeline is closed), its fences are
 * signalled with an error and the callback drops the first fence's last
 * reference, while sw_sync still holds the timeline lock that the release
 * takes. Without "dma-buf: sw_sync: Do not release a point under the
 * timeline lock" (patches/sw_sync/), the CPU spins on that lock for
 * good, and lockdep reports recursive locking. fence_stress found it.
 */
TEST(timeline_closed_under_dma_buf_poller)
{
	int timeline, dmabuf, first, second, status;

	timeline = sw_sync_timeline_open();
	if (timeline == -ENOENT)
		SKIP(return, "%s", m2m_strerror());
	ASSERT_LE(0, timeline) TH_LOG("%s", m2m_strerror());
	dmabuf = dma_heap_alloc("system", 4096);
	if (dmabuf == -ENOENT)
		SKIP(close(timeline); return, "%s", m2m_strerror());
	ASSERT_LE(0, dmabuf) TH_LOG("%s", m2m_strerror());
	first = sw_sync_fence(timeline, 1);
	ASSERT_LE(0, first) TH_LOG("%s", m2m_strerror());
	second = sw_sync_fence(timeline, 2);
	ASSERT_LE(0, second) TH_LOG("%s", m2m_strerror());

	ASSERT_EQ(0, dmabuf_import_sync_file(dmabuf, first, DMA_BUF_SYNC_WRITE))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(0, poll_fd(dmabuf, POLLIN, 0))
		TH_LOG("the dma-buf is readable while its writer's fence is pending");
	ASSERT_EQ(0, dmabuf_import_sync_file(dmabuf, second, DMA_BUF_SYNC_WRITE))
		TH_LOG("%s", m2m_strerror());
	ASSERT_EQ(1, dmabuf_pending_fences(dmabuf, "sw_sync"))
		TH_LOG("the newer fence did not replace the first one: %s", m2m_strerror());
	close(first);

	close(timeline);

	EXPECT_EQ(POLLIN, poll_fd(dmabuf, POLLIN, POLL_TIMEOUT_MS))
		TH_LOG("the dma-buf is not readable once its writer went away");
	status = sync_file_status(second);
	EXPECT_EQ(-ENOENT, status)
		TH_LOG("the writer's fence has status %d once its timeline went away", status);
	close(second);
	close(dmabuf);
}

TEST_HARNESS_MAIN
