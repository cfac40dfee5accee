/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rk3399_fences and its harness-free helpers (rk3399_util.c) share:
 * the register model's debugfs directory, its job outcomes and the timings
 * the tests wait with, the stream controls of one frame for each stateless
 * decoder, and the helpers that reach the media device, the model, a
 * CAPTURE buffer and sysfs. Their comments in rk3399_util.c say what they
 * return.
 */
#ifndef RK3399_UTIL_H
#define RK3399_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m_util.h"

#define MODEL_DEBUGFS	"/sys/kernel/debug/vb2-resv-rk3399-model"
#define MODEL_COMPLETE	0
#define MODEL_ERROR	1
#define MODEL_HANG	2
/*
 * How long a runaway block writes on unless stopped: beyond any fence a
 * watchdog signals, so that the writes after it show.
 */
#define RUNAWAY_MS	(WATCHDOG_MS + SLACK_MS + 2000)
/* The model sees a register write when it next polls, within a few ms. */
#define MODEL_LAG_MS	50
/* How long the buffer must stay as it is after the fence signalled */
#define STILL_MS	300

#define WIDTH		64
#define HEIGHT		64
#define SLOW_JOB_MS	1000
/* hantro's and (with the series) rockchip-rga's watchdogs */
#define WATCHDOG_MS	2000
/* what a watchdog may take beyond its period under TCG */
#define SLACK_MS	3000
/* the model writes up to 4 KiB; every variant's buffers hold at least that */
#define MIN_PATTERN	1024UL
/* The model's AV1 decoder, the RK3588's */
#define AV1_BLOCK	MODEL_DEBUGFS "/av1"

/* A stateless decoder's controls of one frame, set in request @req. */
typedef int (*set_controls_fn)(int fd, int req, bool arg);

int open_media(int video_fd);

/* The stream controls of one frame of each decoder (set_controls_fn). */
int set_mpeg2_controls(int fd, int req, bool unused);
int set_h264_sps(int fd);
int set_h264_controls(int fd, int req, bool unused);
int set_av1_controls(int fd, int req, bool too_many_tiles);

/* The register model, in debugfs. */
bool wait_model_count_at(const char *dir, const char *file, int n,
			 int timeout_ms);
bool end_runaway(const char *model);
int av1_model_set(const char *file, int val);
int av1_model_get(const char *file);

/* What the CPU reads of a CAPTURE buffer. */
size_t pattern_bytes_of(struct m2m_dev *dev, int dmabuf, uint8_t pattern);
int snapshot(int dmabuf, const void *p, void *copy, size_t len);

/* A video node's device in sysfs. */
int video_platform_device(int fd, char *name, size_t len);
bool runtime_suspended(int fd);

#endif /* RK3399_UTIL_H */
