// SPDX-License-Identifier: GPL-2.0
/*
 * The helpers of rk3399_fences that need no kselftest harness: the media
 * device of a video node, the stream controls a stateless decoder takes
 * with each frame in its request (an MPEG-2 intra, an H.264 IDR and an AV1
 * key frame of WIDTH x HEIGHT), the register model's counters and runaway
 * blocks in debugfs, what the CPU reads of a CAPTURE buffer, and the
 * platform device and runtime PM status of a video node in sysfs. See
 * rk3399_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <linux/dma-buf.h>
#include <linux/media.h>
#include <linux/videodev2.h>

#include "m2m_util.h"
#include "rk3399_util.h"

/* Does media device @fd have an interface for device node @rdev? */
static bool media_has_devnode(int fd, dev_t rdev)
{
	struct media_v2_topology topo = { 0 };
	struct media_v2_interface *intf;
	bool found = false;
	__u32 i;

	if (ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo) || !topo.num_interfaces)
		return false;
	intf = calloc(topo.num_interfaces, sizeof(*intf));
	if (!intf)
		return false;
	topo.ptr_interfaces = (uintptr_t)intf;
	if (!ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo)) {
		for (i = 0; i < topo.num_interfaces && !found; i++)
			found = intf[i].devnode.major == major(rdev) &&
				intf[i].devnode.minor == minor(rdev);
	}
	free(intf);
	return found;
}

/*
 * The media device of video node @video_fd, for MEDIA_IOC_REQUEST_ALLOC:
 * one driver may have several (hantro-vpu has one per block).
 */
int open_media(int video_fd)
{
	struct stat st;
	char path[32];
	int i, fd;

	if (fstat(video_fd, &st))
		return -errno;
	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/media%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (media_has_devnode(fd, st.st_rdev))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* Set @count controls in request @req: 0 or a negative errno. */
static int set_request_controls(int fd, int req, struct v4l2_ext_control *ctrls,
				unsigned int count)
{
	struct v4l2_ext_controls ext = {
		.which = V4L2_CTRL_WHICH_REQUEST_VAL,
		.count = count,
		.request_fd = req,
		.controls = ctrls,
	};

	return ioctl(fd, VIDIOC_S_EXT_CTRLS, &ext) ? -errno : 0;
}

/* The three MPEG-2 controls of one intra frame, set in request @req. */
int set_mpeg2_controls(int fd, int req, bool unused)
{
	struct v4l2_ctrl_mpeg2_sequence seq = {
		.horizontal_size = WIDTH,
		.vertical_size = HEIGHT,
		.vbv_buffer_size = 1 << 16,
		.chroma_format = 1,			/* 4:2:0 */
		.flags = V4L2_MPEG2_SEQ_FLAG_PROGRESSIVE,
	};
	struct v4l2_ctrl_mpeg2_picture pic = {
		.picture_coding_type = V4L2_MPEG2_PIC_CODING_TYPE_I,
		.picture_structure = V4L2_MPEG2_PIC_FRAME,
		.flags = V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT |
			 V4L2_MPEG2_PIC_FLAG_PROGRESSIVE,
		.f_code = { { 15, 15 }, { 15, 15 } },
	};
	struct v4l2_ctrl_mpeg2_quantisation quant;
	struct v4l2_ext_control ctrls[3] = {
		{ .id = V4L2_CID_STATELESS_MPEG2_SEQUENCE,
		  .size = sizeof(seq), .ptr = &seq },
		{ .id = V4L2_CID_STATELESS_MPEG2_PICTURE,
		  .size = sizeof(pic), .ptr = &pic },
		{ .id = V4L2_CID_STATELESS_MPEG2_QUANTISATION,
		  .size = sizeof(quant), .ptr = &quant },
	};

	(void)unused;
	memset(&quant, 16, sizeof(quant));
	return set_request_controls(fd, req, ctrls, 3);
}

/* The SPS of a WIDTHxHEIGHT 8-bit 4:2:0 progressive stream */
static void h264_sps(struct v4l2_ctrl_h264_sps *sps)
{
	memset(sps, 0, sizeof(*sps));
	sps->profile_idc = 77;				/* Main */
	sps->level_idc = 30;
	sps->chroma_format_idc = 1;
	sps->log2_max_frame_num_minus4 = 4;
	sps->pic_order_cnt_type = 2;
	sps->max_num_ref_frames = 1;
	sps->pic_width_in_mbs_minus1 = WIDTH / 16 - 1;
	sps->pic_height_in_map_units_minus1 = HEIGHT / 16 - 1;
	sps->flags = V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY |
		     V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE;
}

/*
 * The SPS as the control's current value, before the CAPTURE format: the
 * decoder derives the decoded format (bit depth, chroma) from it.
 */
int set_h264_sps(int fd)
{
	struct v4l2_ctrl_h264_sps sps;
	struct v4l2_ext_control ctrl = {
		.id = V4L2_CID_STATELESS_H264_SPS,
		.size = sizeof(sps), .ptr = &sps,
	};
	struct v4l2_ext_controls ext = {
		.which = V4L2_CTRL_WHICH_CUR_VAL,
		.count = 1,
		.controls = &ctrl,
	};

	h264_sps(&sps);
	return ioctl(fd, VIDIOC_S_EXT_CTRLS, &ext) ? -errno : 0;
}

/*
 * The four H.264 controls of one IDR frame, set in request @req, as
 * GStreamer's v4l2slh264dec sets them for every frame (the model parses no
 * slice data).
 */
int set_h264_controls(int fd, int req, bool unused)
{
	struct v4l2_ctrl_h264_sps sps;
	struct v4l2_ctrl_h264_pps pps = {
		.weighted_bipred_idc = 0,
		.flags = V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT |
			 V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT,
	};
	struct v4l2_ctrl_h264_scaling_matrix matrix;
	struct v4l2_ctrl_h264_decode_params dec = {
		.nal_ref_idc = 3,
		.flags = V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC,
	};
	struct v4l2_ext_control ctrls[4] = {
		{ .id = V4L2_CID_STATELESS_H264_SPS,
		  .size = sizeof(sps), .ptr = &sps },
		{ .id = V4L2_CID_STATELESS_H264_PPS,
		  .size = sizeof(pps), .ptr = &pps },
		{ .id = V4L2_CID_STATELESS_H264_SCALING_MATRIX,
		  .size = sizeof(matrix), .ptr = &matrix },
		{ .id = V4L2_CID_STATELESS_H264_DECODE_PARAMS,
		  .size = sizeof(dec), .ptr = &dec },
	};

	(void)unused;
	h264_sps(&sps);
	memset(&matrix, 16, sizeof(matrix));		/* flat */
	return set_request_controls(fd, req, ctrls, 4);
}

/*
 * Wait until counter @file of the model's block directory @dir reaches @n:
 * the model sees register writes when it next polls, a little after the
 * driver made them.
 */
bool wait_model_count_at(const char *dir, const char *file, int n,
			 int timeout_ms)
{
	uint64_t end = now_us() + (uint64_t)timeout_ms * 1000;
	char path[224];
	int val;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	while (now_us() < end) {
		if (!read_int_file(path, &val) && val >= n)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * Bytes of CAPTURE buffer 0 of @dev (exported as @dmabuf) that hold
 * @pattern, read by the CPU.
 */
size_t pattern_bytes_of(struct m2m_dev *dev, int dmabuf, uint8_t pattern)
{
	size_t len = dev->cap.bufs[0].length[0], n = 0, i;
	const uint8_t *p = dev->cap.bufs[0].map[0];

	if (dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
		return 0;
	for (i = 0; i < len; i++)
		n += p[i] == pattern;
	dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	return n;
}

/*
 * End a runaway job now, and wait until the block is idle: its buffers may
 * not be freed while it writes them. A job of the model's other modes is
 * left to end as it would.
 */
bool end_runaway(const char *model)
{
	uint64_t end = now_us() + 1000000;
	char runaway[224], busy[224];
	bool idle;

	snprintf(runaway, sizeof(runaway), "%s/runaway_ms", model);
	snprintf(busy, sizeof(busy), "%s/busy", model);
	if (write_file(runaway, "1"))
		return false;
	while (!(idle = read_bool_file(busy) == 0) && now_us() < end)
		usleep(1000);
	return !write_file(runaway, "0") && idle;
}

/*
 * What @len bytes at @p hold after the device is done with them, as a
 * reader sees them: the copy is made between DMA_BUF_IOCTL_SYNC calls.
 */
int snapshot(int dmabuf, const void *p, void *copy, size_t len)
{
	int ret = dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);

	if (ret)
		return ret;
	memcpy(copy, p, len);
	return dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
}

/* The platform device behind video node @fd, in @name. */
int video_platform_device(int fd, char *name, size_t len)
{
	char link[128], target[256];
	struct stat st;
	const char *base;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(name, len, "%s", base ? base + 1 : target);
	return 0;
}

/* The sequence, frame and tile group controls of a 64x64 key frame. */
int set_av1_controls(int fd, int req, bool too_many_tiles)
{
	struct v4l2_ctrl_av1_sequence seq = {
		.flags = V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X |
			 V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y,
		.order_hint_bits = 7,
		.bit_depth = 8,
		.max_frame_width_minus_1 = WIDTH - 1,
		.max_frame_height_minus_1 = HEIGHT - 1,
	};
	struct v4l2_ctrl_av1_tile_group_entry tge = { .tile_size = 1024 };
	struct v4l2_ctrl_av1_frame frame = {
		.tile_info = {
			/* one tile, or two of which user space gives one */
			.tile_cols = too_many_tiles ? 2 : 1,
			.tile_rows = 1,
			.mi_col_starts = { 0, WIDTH / 4 },
			.mi_row_starts = { 0, HEIGHT / 4 },
		},
		.superres_denom = 8,
		.primary_ref_frame = 7,		/* none */
		.flags = V4L2_AV1_FRAME_FLAG_SHOW_FRAME |
			 V4L2_AV1_FRAME_FLAG_SHOWABLE_FRAME,
		.frame_type = V4L2_AV1_KEY_FRAME,
		.upscaled_width = WIDTH,
		.frame_width_minus_1 = WIDTH - 1,
		.frame_height_minus_1 = HEIGHT - 1,
		.render_width_minus_1 = WIDTH - 1,
		.render_height_minus_1 = HEIGHT - 1,
		.refresh_frame_flags = 0xff,
	};
	struct v4l2_ext_control ctrls[3] = {
		{ .id = V4L2_CID_STATELESS_AV1_SEQUENCE,
		  .size = sizeof(seq), .ptr = &seq },
		{ .id = V4L2_CID_STATELESS_AV1_FRAME,
		  .size = sizeof(frame), .ptr = &frame },
		{ .id = V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY,
		  .size = sizeof(tge), .ptr = &tge },
	};

	return set_request_controls(fd, req, ctrls, 3);
}

int av1_model_set(const char *file, int val)
{
	char path[160], s[16];

	snprintf(path, sizeof(path), AV1_BLOCK "/%s", file);
	snprintf(s, sizeof(s), "%d", val);
	return write_file(path, s);
}

int av1_model_get(const char *file)
{
	char path[160];
	int val;

	snprintf(path, sizeof(path), AV1_BLOCK "/%s", file);
	return read_int_file(path, &val) ? -1 : val;
}

/* Is the device behind video node @fd runtime-suspended? */
bool runtime_suspended(int fd)
{
	char path[128], s[32] = "";
	struct stat st;
	ssize_t n;
	int f;

	if (fstat(fd, &st))
		return false;
	snprintf(path, sizeof(path),
		 "/sys/dev/char/%u:%u/device/power/runtime_status",
		 major(st.st_rdev), minor(st.st_rdev));
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return false;
	n = read(f, s, sizeof(s) - 1);
	close(f);
	return n > 0 && !strncmp(s, "suspended", 9);
}
