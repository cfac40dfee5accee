/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KMS plumbing of kms_consumer (kms_util.c): a DRM device found by
 * driver name, one vkms pipe lit as an atomic client, with a writeback
 * connector that shows the frame vkms composed, and the atomic property
 * helpers the tests build their commits with. Functions return 0 (or an fd)
 * or a negative errno and record what failed, which drm_strerror() returns.
 */
#ifndef KMS_UTIL_H
#define KMS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <xf86drmMode.h>

#define SCANOUT_BYTE		0x22	/* the frame shown before the flip */
#define WB_CLEAR_BYTE		0x00	/* writeback target before a commit */
#define FRAME_W			128	/* the CRTC's active area, see kms_open() */
#define FRAME_H			128

/* A dumb buffer with a framebuffer on it, mapped. */
struct dumb {
	uint32_t handle;
	uint32_t fb_id;
	uint32_t pitch;
	uint64_t size;
	uint8_t *map;
};

/*
 * One vkms pipe: CRTC, its Virtual connector, its primary plane and, if
 * this vkms has one, its writeback connector, which shows the frame vkms
 * composed.
 */
struct kms {
	int fd;
	uint32_t crtc_id;
	uint32_t conn_id;
	uint32_t plane_id;
	uint32_t wb_id;			/* 0: no writeback connector */
	drmModeModeInfo mode;		/* what the CRTC runs */
	drmModeModeInfo conn_mode;	/* the connector's mode it derives from */
	uint32_t mode_blob;
	struct dumb scanout;		/* the FB of the modeset */
	struct dumb wb;			/* the writeback target */
	/* Property ids. */
	uint32_t crtc_mode_id, crtc_active, conn_crtc_id;
	uint32_t wb_crtc_id, wb_fb_id, wb_out_fence;
	uint32_t plane_fb_id, plane_crtc_id;
	uint32_t plane_src[4], plane_dst[4];	/* SRC_X/Y/W/H, CRTC_X/Y/W/H */
};

/* What the last of these helpers that failed recorded. */
const char *drm_strerror(void);

int drm_open_driver(const char *name);

/* A vkms pipe: kms_init(), kms_open(), kms_modeset(), ..., kms_close(). */
void kms_init(struct kms *k);
int kms_open(struct kms *k);
int kms_modeset(struct kms *k, int *wb_fence);
void kms_close(struct kms *k);

/* Building an atomic commit on the pipe. */
int add_prop(drmModeAtomicReqPtr req, uint32_t obj, uint32_t prop,
	     uint64_t value);
int add_writeback(struct kms *k, drmModeAtomicReqPtr req, int32_t *fence);

size_t wb_count_byte(struct kms *k, uint8_t byte);

#endif /* KMS_UTIL_H */
