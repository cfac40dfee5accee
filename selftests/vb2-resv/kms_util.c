// SPDX-License-Identifier: GPL-2.0
/*
 * The KMS side of kms_consumer: libdrm plumbing that knows nothing of V4L2.
 * Open a DRM device by driver name (loading its module), light one vkms
 * pipe as an atomic client (CRTC, connector, primary plane and writeback
 * connector, their property ids, a mode cut down to FRAME_W x FRAME_H),
 * dumb buffers with framebuffers on them, atomic property helpers and the
 * writeback of the frame vkms composed, which the tests read back. Errors
 * are recorded like the V4L2 helpers': drm_strerror() says what failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <xf86drm.h>
#include <xf86drmMode.h>
#include <drm_fourcc.h>

#include "m2m_util.h"
#include "kms_util.h"

/* Error text of the DRM helpers, like m2m_strerror() for the V4L2 ones. */
static struct errtext drm_err;

#define drm_fail(err, ...)	errtext_set(&drm_err, (err), __VA_ARGS__)

const char *drm_strerror(void)
{
	return errtext_str(&drm_err);
}

/*
 * Open the lowest /dev/dri/cardN whose DRM driver is @name. Returns the fd,
 * -ENOENT if there is none (the caller skips), or another negative errno.
 */
static int drm_find_driver(const char *name)
{
	char path[32];
	int n, fd;

	for (n = 0; n < 64; n++) {
		drmVersionPtr v;
		bool match;

		snprintf(path, sizeof(path), "/dev/dri/card%d", n);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return drm_fail(-errno, "open(%s)", path);
		}
		v = drmGetVersion(fd);
		match = v && v->name && !strcmp(v->name, name);
		drmFreeVersion(v);
		if (match)
			return fd;
		close(fd);
	}
	return drm_fail(-ENOENT, "no DRM device with driver \"%s\"", name);
}

/* The DRM device of driver @name, loading its module when there is none. */
int drm_open_driver(const char *name)
{
	int fd = drm_find_driver(name);

	if (fd == -ENOENT &&
	    !m2m_load_module(name, strcmp(name, "vkms") ? "" : "enable_writeback=1"))
		fd = drm_find_driver(name);
	return fd;
}

/* The id of property @name of object @obj, 0 if it has none. */
static uint32_t prop_id(int fd, uint32_t obj, uint32_t type, const char *name,
			uint64_t *value)
{
	drmModeObjectPropertiesPtr props;
	uint32_t i, id = 0;

	props = drmModeObjectGetProperties(fd, obj, type);
	if (!props)
		return 0;
	for (i = 0; i < props->count_props && !id; i++) {
		drmModePropertyPtr p = drmModeGetProperty(fd, props->props[i]);

		if (p && !strcmp(p->name, name)) {
			id = p->prop_id;
			if (value)
				*value = props->prop_values[i];
		}
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	return id;
}

static int dumb_create(int fd, struct dumb *d, uint32_t w, uint32_t h)
{
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };
	uint64_t offset;
	void *map;

	memset(d, 0, sizeof(*d));
	if (drmModeCreateDumbBuffer(fd, w, h, 32, 0, &d->handle, &d->pitch, &d->size))
		return drm_fail(-errno, "DRM_IOCTL_MODE_CREATE_DUMB(%ux%u)", w, h);
	handles[0] = d->handle;
	pitches[0] = d->pitch;
	if (drmModeAddFB2(fd, w, h, DRM_FORMAT_XRGB8888, handles, pitches, offsets,
			  &d->fb_id, 0))
		return drm_fail(-errno, "drmModeAddFB2(dumb %ux%u XRGB8888)", w, h);
	if (drmModeMapDumbBuffer(fd, d->handle, &offset))
		return drm_fail(-errno, "DRM_IOCTL_MODE_MAP_DUMB");
	map = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
	if (map == MAP_FAILED)
		return drm_fail(-errno, "mmap(dumb buffer, %llu bytes)",
				(unsigned long long)d->size);
	d->map = map;
	return 0;
}

static void dumb_destroy(int fd, struct dumb *d)
{
	if (d->map)
		munmap(d->map, d->size);
	if (d->fb_id)
		drmModeRmFB(fd, d->fb_id);
	if (d->handle)
		drmModeDestroyDumbBuffer(fd, d->handle);
	memset(d, 0, sizeof(*d));
}

void kms_init(struct kms *k)
{
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

void kms_close(struct kms *k)
{
	if (k->fd >= 0) {
		dumb_destroy(k->fd, &k->scanout);
		dumb_destroy(k->fd, &k->wb);
		if (k->mode_blob)
			drmModeDestroyPropertyBlob(k->fd, k->mode_blob);
		close(k->fd);
	}
	kms_init(k);
}

static bool plane_is_primary_xrgb(int fd, drmModePlanePtr p)
{
	uint64_t type = 0;
	uint32_t i;

	if (!prop_id(fd, p->plane_id, DRM_MODE_OBJECT_PLANE, "type", &type) ||
	    type != DRM_PLANE_TYPE_PRIMARY)
		return false;
	for (i = 0; i < p->count_formats; i++)
		if (p->formats[i] == DRM_FORMAT_XRGB8888)
			return true;
	return false;
}

/* The connector's encoder can drive CRTC @index. */
static bool conn_reaches(int fd, drmModeConnectorPtr c, unsigned int index)
{
	int i;

	for (i = 0; i < c->count_encoders; i++) {
		drmModeEncoderPtr e = drmModeGetEncoder(fd, c->encoders[i]);
		bool ok = e && (e->possible_crtcs & (1u << index));

		drmModeFreeEncoder(e);
		if (ok)
			return true;
	}
	return false;
}

/*
 * vkms composes in software, every pixel of the CRTC at each writeback: in
 * the test VM (QEMU TCG, KASAN) its smallest connector mode, 640x480, takes
 * about 450 ms, as long as the job. So the CRTC runs that mode with its
 * active area cut to FRAME_W x FRAME_H: same timings, hence the same 60 Hz
 * vblank, and vkms, which validates no mode against its connector's list,
 * accepts it. A composition then takes a few ms, well inside the job.
 */
static void shrink_mode(drmModeModeInfo *m, uint16_t w, uint16_t h)
{
	if (m->hdisplay > w)
		m->hdisplay = w;
	if (m->vdisplay > h)
		m->vdisplay = h;
	m->type = DRM_MODE_TYPE_USERDEF;
	snprintf(m->name, sizeof(m->name), "%ux%u", m->hdisplay, m->vdisplay);
}

/*
 * Open vkms as an atomic client and pick its first CRTC, the connected
 * connector's smallest mode (cut down by shrink_mode()), the primary plane
 * and the writeback connector. -ENOENT: no vkms.
 */
int kms_open(struct kms *k)
{
	static const char *const src[4] = { "SRC_X", "SRC_Y", "SRC_W", "SRC_H" };
	static const char *const dst[4] = { "CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H" };
	drmModePlaneResPtr pres = NULL;
	drmModeResPtr res = NULL;
	unsigned int i;
	int ret = 0, m;

	kms_init(k);
	k->fd = drm_open_driver("vkms");
	if (k->fd < 0)
		return k->fd;
	if (drmSetClientCap(k->fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1))
		return drm_fail(-errno, "DRM_CLIENT_CAP_UNIVERSAL_PLANES");
	if (drmSetClientCap(k->fd, DRM_CLIENT_CAP_ATOMIC, 1))
		return drm_fail(-errno, "DRM_CLIENT_CAP_ATOMIC");
	/* Without this cap the writeback connector stays hidden. */
	drmSetClientCap(k->fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1);

	res = drmModeGetResources(k->fd);
	if (!res || !res->count_crtcs) {
		ret = drm_fail(res ? -ENODEV : -errno, "drmModeGetResources: no CRTC");
		goto out;
	}
	k->crtc_id = res->crtcs[0];

	for (i = 0; i < (unsigned int)res->count_connectors; i++) {
		drmModeConnectorPtr c = drmModeGetConnector(k->fd, res->connectors[i]);

		if (!c)
			continue;
		if (c->connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			if (!k->wb_id && conn_reaches(k->fd, c, 0))
				k->wb_id = c->connector_id;
		} else if (!k->conn_id && c->connection == DRM_MODE_CONNECTED &&
			   c->count_modes && conn_reaches(k->fd, c, 0)) {
			k->conn_id = c->connector_id;
			k->mode = c->modes[0];
			for (m = 1; m < c->count_modes; m++)
				if ((uint32_t)c->modes[m].hdisplay * c->modes[m].vdisplay <
				    (uint32_t)k->mode.hdisplay * k->mode.vdisplay)
					k->mode = c->modes[m];
		}
		drmModeFreeConnector(c);
	}
	if (!k->conn_id) {
		ret = drm_fail(-ENODEV, "vkms: no connected connector with modes");
		goto out;
	}
	k->conn_mode = k->mode;
	shrink_mode(&k->mode, FRAME_W, FRAME_H);

	pres = drmModeGetPlaneResources(k->fd);
	for (i = 0; pres && i < pres->count_planes && !k->plane_id; i++) {
		drmModePlanePtr p = drmModeGetPlane(k->fd, pres->planes[i]);

		if (p && (p->possible_crtcs & 1) && plane_is_primary_xrgb(k->fd, p))
			k->plane_id = p->plane_id;
		drmModeFreePlane(p);
	}
	if (!k->plane_id) {
		ret = drm_fail(-ENODEV, "vkms: no primary plane with XRGB8888");
		goto out;
	}

	k->crtc_mode_id = prop_id(k->fd, k->crtc_id, DRM_MODE_OBJECT_CRTC, "MODE_ID", NULL);
	k->crtc_active = prop_id(k->fd, k->crtc_id, DRM_MODE_OBJECT_CRTC, "ACTIVE", NULL);
	k->conn_crtc_id = prop_id(k->fd, k->conn_id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", NULL);
	k->plane_fb_id = prop_id(k->fd, k->plane_id, DRM_MODE_OBJECT_PLANE, "FB_ID", NULL);
	k->plane_crtc_id = prop_id(k->fd, k->plane_id, DRM_MODE_OBJECT_PLANE, "CRTC_ID", NULL);
	for (i = 0; i < 4; i++) {
		k->plane_src[i] = prop_id(k->fd, k->plane_id, DRM_MODE_OBJECT_PLANE, src[i], NULL);
		k->plane_dst[i] = prop_id(k->fd, k->plane_id, DRM_MODE_OBJECT_PLANE, dst[i], NULL);
		if (!k->plane_src[i] || !k->plane_dst[i]) {
			ret = drm_fail(-ENODEV, "vkms: plane property %s or %s missing",
				       src[i], dst[i]);
			goto out;
		}
	}
	if (!k->crtc_mode_id || !k->crtc_active || !k->conn_crtc_id ||
	    !k->plane_fb_id || !k->plane_crtc_id) {
		ret = drm_fail(-ENODEV, "vkms: an atomic property is missing");
		goto out;
	}
	if (k->wb_id) {
		k->wb_crtc_id = prop_id(k->fd, k->wb_id, DRM_MODE_OBJECT_CONNECTOR,
					"CRTC_ID", NULL);
		k->wb_fb_id = prop_id(k->fd, k->wb_id, DRM_MODE_OBJECT_CONNECTOR,
				      "WRITEBACK_FB_ID", NULL);
		k->wb_out_fence = prop_id(k->fd, k->wb_id, DRM_MODE_OBJECT_CONNECTOR,
					  "WRITEBACK_OUT_FENCE_PTR", NULL);
		if (!k->wb_crtc_id || !k->wb_fb_id || !k->wb_out_fence)
			k->wb_id = 0;
	}
out:
	drmModeFreePlaneResources(pres);
	drmModeFreeResources(res);
	return ret;
}

int add_prop(drmModeAtomicReqPtr req, uint32_t obj, uint32_t prop,
	     uint64_t value)
{
	return drmModeAtomicAddProperty(req, obj, prop, value) < 0 ? -ENOMEM : 0;
}

/* Ask the writeback connector to write the next composed frame to k->wb. */
int add_writeback(struct kms *k, drmModeAtomicReqPtr req, int32_t *fence)
{
	*fence = -1;
	memset(k->wb.map, WB_CLEAR_BYTE, k->wb.size);
	return add_prop(req, k->wb_id, k->wb_fb_id, k->wb.fb_id) ?:
	       add_prop(req, k->wb_id, k->wb_out_fence, (uint64_t)(uintptr_t)fence);
}

/*
 * Light the pipe with a full-screen dumb FB filled with SCANOUT_BYTE, in a
 * blocking modeset; the writeback connector joins the CRTC and writes that
 * frame back. Returns the writeback out-fence (-1 without writeback).
 */
int kms_modeset(struct kms *k, int *wb_fence)
{
	uint32_t w = k->mode.hdisplay, h = k->mode.vdisplay;
	drmModeAtomicReqPtr req;
	int32_t fence = -1;
	int ret;

	*wb_fence = -1;
	ret = dumb_create(k->fd, &k->scanout, w, h);
	if (ret)
		return ret;
	memset(k->scanout.map, SCANOUT_BYTE, k->scanout.size);
	if (k->wb_id) {
		ret = dumb_create(k->fd, &k->wb, w, h);
		if (ret)
			return ret;
	}
	if (drmModeCreatePropertyBlob(k->fd, &k->mode, sizeof(k->mode), &k->mode_blob))
		return drm_fail(-errno, "drmModeCreatePropertyBlob(mode %s)", k->mode.name);

	req = drmModeAtomicAlloc();
	if (!req)
		return drm_fail(-ENOMEM, "drmModeAtomicAlloc");
	ret = add_prop(req, k->crtc_id, k->crtc_mode_id, k->mode_blob) ?:
	      add_prop(req, k->crtc_id, k->crtc_active, 1) ?:
	      add_prop(req, k->conn_id, k->conn_crtc_id, k->crtc_id) ?:
	      add_prop(req, k->plane_id, k->plane_fb_id, k->scanout.fb_id) ?:
	      add_prop(req, k->plane_id, k->plane_crtc_id, k->crtc_id) ?:
	      add_prop(req, k->plane_id, k->plane_src[0], 0) ?:
	      add_prop(req, k->plane_id, k->plane_src[1], 0) ?:
	      add_prop(req, k->plane_id, k->plane_src[2], (uint64_t)w << 16) ?:
	      add_prop(req, k->plane_id, k->plane_src[3], (uint64_t)h << 16) ?:
	      add_prop(req, k->plane_id, k->plane_dst[0], 0) ?:
	      add_prop(req, k->plane_id, k->plane_dst[1], 0) ?:
	      add_prop(req, k->plane_id, k->plane_dst[2], w) ?:
	      add_prop(req, k->plane_id, k->plane_dst[3], h);
	if (!ret && k->wb_id)
		ret = add_prop(req, k->wb_id, k->wb_crtc_id, k->crtc_id) ?:
		      add_writeback(k, req, &fence);
	if (ret) {
		drmModeAtomicFree(req);
		return drm_fail(ret, "drmModeAtomicAddProperty");
	}
	if (drmModeAtomicCommit(k->fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL))
		ret = drm_fail(-errno, "modeset commit (%s on CRTC %u)", k->mode.name,
			       k->crtc_id);
	drmModeAtomicFree(req);
	*wb_fence = fence;
	return ret;
}

/* In the CRTC area of the writeback frame, how many B, G, R bytes are @byte. */
size_t wb_count_byte(struct kms *k, uint8_t byte)
{
	uint32_t x, y, c;
	size_t n = 0;

	for (y = 0; y < k->mode.vdisplay; y++)
		for (x = 0; x < k->mode.hdisplay; x++)
			for (c = 0; c < 3; c++)
				n += k->wb.map[y * k->wb.pitch + x * 4 + c] == byte;
	return n;
}
