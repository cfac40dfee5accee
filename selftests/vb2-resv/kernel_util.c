// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-facing side of the vb2-resv selftests' helpers that is no
 * device: load a module with modprobe, read and write small sysfs and
 * debugfs files, the producer fence kill switch (videobuf2_common's
 * producer_fences parameter), and the tracefs hist triggers that count the
 * fences each fence context creates and frees. See m2m_util.h for the
 * conventions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mount.h>

#include "m2m_util_internal.h"

int m2m_load_module(const char *name, const char *args)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "modprobe -q %s %s 2>/dev/null", name, args);
	return system(cmd) == 0 ? 0 : fail(-ENOENT, "modprobe %s failed", name);
}

int read_int_file(const char *path, int *val)
{
	FILE *f = fopen(path, "r");
	int ret;

	if (!f)
		return -errno;
	ret = fscanf(f, "%d", val) == 1 ? 0 : -EINVAL;
	fclose(f);
	return ret;
}

int read_bool_file(const char *path)
{
	FILE *f = fopen(path, "r");
	int c;

	if (!f)
		return -errno;
	c = fgetc(f);
	fclose(f);
	return c == 'Y' || c == '1' ? 1 : c == 'N' || c == '0' ? 0 : -EINVAL;
}

int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -errno;
	if (fputs(s, f) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

int kill_switch_get(void)
{
	return read_bool_file(KILL_SWITCH);
}

int kill_switch_set(bool on)
{
	return write_file(KILL_SWITCH, on ? "1" : "0");
}

void kill_switch_restore(int *saved)
{
	if (*saved >= 0)
		kill_switch_set(*saved);
	*saved = -1;
}

#define FENCE_HIST_TRIGGER	"hist:keys=context:size=256"

int fence_hist_start(void)
{
	int ret;

	if (access(DMA_FENCE_EVENTS, F_OK))
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	if (access(DMA_FENCE_EVENTS, F_OK))
		return fail(-ENOENT, "no %s: tracefs and CONFIG_TRACING",
			    DMA_FENCE_EVENTS);
	ret = write_file(DMA_FENCE_EVENTS "/dma_fence_init/trigger",
			 FENCE_HIST_TRIGGER);
	if (ret == -EINVAL || ret == -ENODEV)
		return fail(-EOPNOTSUPP, "no hist triggers: CONFIG_HIST_TRIGGERS");
	if (ret)
		return fail(ret, "adding a hist trigger to dma_fence_init");
	ret = write_file(DMA_FENCE_EVENTS "/dma_fence_destroy/trigger",
			 FENCE_HIST_TRIGGER);
	if (ret) {
		fence_hist_stop();
		return fail(ret, "adding a hist trigger to dma_fence_destroy");
	}
	return 0;
}

void fence_hist_stop(void)
{
	write_file(DMA_FENCE_EVENTS "/dma_fence_init/trigger",
		   "!" FENCE_HIST_TRIGGER);
	write_file(DMA_FENCE_EVENTS "/dma_fence_destroy/trigger",
		   "!" FENCE_HIST_TRIGGER);
}

/* Hits of @context in the histogram of dma_fence event @event. */
static int hist_hits(const char *event, uint64_t context, long *hits,
		     long *total)
{
	unsigned long long c, n;
	char path[128], line[256];
	FILE *f;

	snprintf(path, sizeof(path), DMA_FENCE_EVENTS "/%s/hist", event);
	f = fopen(path, "r");
	if (!f)
		return fail(-errno, "open(%s)", path);
	*hits = 0;
	*total = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "{ context: %llu } hitcount: %llu", &c, &n) != 2)
			continue;
		*total += n;
		if (c == context)
			*hits = n;
	}
	fclose(f);
	return 0;
}

int fence_hist_count(uint64_t context, long *created, long *freed,
		     long *all_created, long *all_freed)
{
	long all_c, all_f;
	int ret;

	ret = hist_hits("dma_fence_init", context, created, &all_c);
	if (!ret)
		ret = hist_hits("dma_fence_destroy", context, freed, &all_f);
	if (ret)
		return ret;
	if (all_created)
		*all_created = all_c;
	if (all_freed)
		*all_freed = all_f;
	return 0;
}
