// SPDX-License-Identifier: GPL-2.0
/*
 * The dma-buf side of the vb2-resv selftests' helpers: allocate a dma-buf
 * from a dma-buf heap, and use any dma-buf the way an implicit-sync consumer
 * or another device's driver does: its size, mmap, DMA_BUF_IOCTL_SYNC, its
 * fences as a sync_file (EXPORT_SYNC_FILE) or added to it (IMPORT_SYNC_FILE),
 * and the fences of its reservation object as debugfs's bufinfo lists them.
 * See m2m_util.h for the conventions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "m2m_util_internal.h"

int dma_heap_alloc(const char *heap, size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	char path[96];
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, "open(%s)", path);
	ret = xioctl(fd, DMA_HEAP_IOCTL_ALLOC, &data) ? -errno : (int)data.fd;
	close(fd);
	if (ret < 0)
		return fail(ret, "DMA_HEAP_IOCTL_ALLOC(%s, %zu bytes)", heap, len);
	return ret;
}

ssize_t dmabuf_size(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);

	if (size < 0)
		return fail(-errno, "lseek(dma-buf, SEEK_END)");
	lseek(fd, 0, SEEK_SET);
	return size;
}

void *dmabuf_mmap(int fd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		fail(-errno, "mmap(dma-buf, %zu bytes)", len);
		return NULL;
	}
	return p;
}

int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	if (ret)
		return fail(-errno, "DMA_BUF_IOCTL_SYNC(0x%llx)",
			    (unsigned long long)flags);
	return 0;
}

int dmabuf_export_sync_file(int fd, uint32_t flags)
{
	struct dma_buf_export_sync_file arg = { .flags = flags, .fd = -1 };

	if (xioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg))
		return fail(-errno, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE(0x%x)",
			    flags);
	return arg.fd;
}

int dmabuf_import_sync_file(int fd, int sync_fd, uint32_t flags)
{
	struct dma_buf_import_sync_file arg = { .flags = flags, .fd = sync_fd };

	if (xioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg))
		return fail(-errno, "DMA_BUF_IOCTL_IMPORT_SYNC_FILE(0x%x)",
			    flags);
	return 0;
}

int dmabuf_pending_fences(int fd, const char *driver)
{
	struct sync_fence_info info[16];
	int sync_fd, i, n, ret = 0;

	/* WRITE access waits for readers and writers: it gets every fence. */
	sync_fd = dmabuf_export_sync_file(fd, DMA_BUF_SYNC_WRITE);
	if (sync_fd < 0)
		return sync_fd;
	n = sync_file_fences(sync_fd, info, 16);
	close(sync_fd);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (info[i].status == 0 &&
		    (!driver || !strncmp(info[i].driver_name, driver,
					 sizeof(info[i].driver_name))))
			ret++;
	return ret;
}

int dmabuf_resv_fences(int fd, uint64_t *context, uint64_t *seqno, int max)
{
	unsigned long long c, s;
	char line[512], *p;
	bool ours = false;
	struct stat st;
	int i, n = 0;
	FILE *f;

	if (fstat(fd, &st))
		return -errno;
	f = fopen(DMABUF_BUFINFO, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '\t') {
			/* A dma-buf's line: size flags mode count exp_name ino name */
			for (p = line, i = 0; p && i < 5; i++)
				p = strchr(p, '\t') ? strchr(p, '\t') + 1 : NULL;
			ours = p && strtoull(p, NULL, 10) == (unsigned long long)st.st_ino;
			continue;
		}
		if (ours && sscanf(line, "\t%*s fence: %llu:%llu", &c, &s) == 2) {
			if (n < max) {
				context[n] = c;
				seqno[n] = s;
			}
			n++;
		}
	}
	fclose(f);
	return n;
}
