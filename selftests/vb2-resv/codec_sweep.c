// SPDX-License-Identifier: GPL-2.0
/*
 * codec_sweep - decode short clips through the V4L2 stateless decoders with
 * GStreamer and compare each frame with a software decode of the same clip,
 * reading the hardware's frames back the ways a consumer does, with producer
 * fences on and off.
 *
 * For each codec (h264, hevc, vp9 on rkvdec; mpeg2, vp8 on hantro) it makes a
 * clip with a software encoder, decodes it in software (the reference) and
 * through v4l2sl<codec>dec into an appsink, and hashes the visible pixels of
 * every frame, read:
 *   map    through GStreamer's own mapping of the buffer;
 *   mmap   through an mmap of the frame's dma-buf, nothing else (a consumer
 *          that reads once V4L2 has dequeued the buffer);
 *   poll   the same, after poll(POLLIN) on the dma-buf (implicit sync);
 *   sync   the same, bracketed by DMA_BUF_IOCTL_SYNC.
 * A frame is "match" (same hash as the reference's), "zero" (every visible
 * byte 0) or "partly" (anything else). One table: codec x path x fences.
 *
 * -c ELEMENT tests the comparison itself where no decoder computes real
 * pictures (a VM with a register model): a converter ELEMENT, with its
 * properties ("v4l2video5convert capture-io-mode=dmabuf" for vim2m),
 * against GStreamer's videoconvert, RGB to BGR.
 *
 * Exit 0 when every frame read matches, 1 when one does not or on errors,
 * 4 when no codec could be tried.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/allocators/gstdmabuf.h>
#include <gst/video/video.h>

#include "kselftest.h"

#define MAX_FRAMES	64
#define FENCES_PARAM	"/sys/module/videobuf2_common/parameters/producer_fences"

enum path { PATH_MAP, PATH_MMAP, PATH_POLL, PATH_SYNC, NUM_PATHS };
static const char *const path_name[NUM_PATHS] = { "map", "mmap", "poll", "sync" };

enum verdict { V_MATCH, V_ZERO, V_PARTLY, V_NA, NUM_VERDICTS };

struct codec {
	const char *name;
	const char *hw;			/* v4l2codecs element */
	const char *block;
	const char *const enc[3];	/* software encoders, first found is used */
	const char *const dec[3];	/* software decoders */
	const char *enc_post;		/* after the encoder: caps, parser */
};

static const struct codec codecs[] = {
	{ .name = "h264", .hw = "v4l2slh264dec", .block = "rkvdec",
	  .enc = { "x264enc", "openh264enc" }, .dec = { "avdec_h264", "openh264dec" },
	  .enc_post = " ! video/x-h264,profile=constrained-baseline" },
	{ .name = "hevc", .hw = "v4l2slh265dec", .block = "rkvdec",
	  .enc = { "x265enc" }, .dec = { "avdec_h265", "libde265dec" },
	  .enc_post = " ! h265parse" },
	{ .name = "vp9", .hw = "v4l2slvp9dec", .block = "rkvdec",
	  .enc = { "vp9enc" }, .dec = { "vp9dec", "avdec_vp9" } },
	{ .name = "mpeg2", .hw = "v4l2slmpeg2dec", .block = "hantro",
	  .enc = { "mpeg2enc", "avenc_mpeg2video" },
	  .dec = { "mpeg2dec", "avdec_mpeg2video" } },
	{ .name = "vp8", .hw = "v4l2slvp8dec", .block = "hantro",
	  .enc = { "vp8enc" }, .dec = { "vp8dec", "avdec_vp8" } },
};

/* Per-frame hashes of one decode, one array per read-back path. */
struct run {
	unsigned int frames;
	uint64_t hash[NUM_PATHS][MAX_FRAMES];
	bool zero[NUM_PATHS][MAX_FRAMES];
	bool read[NUM_PATHS][MAX_FRAMES];	/* false: path not possible */
};

static unsigned int n_frames = 10;
static int width = 320, height = 240;
static const char *workdir = "/tmp";

static const char *first_element(const char *const *names)
{
	GstElementFactory *f;
	unsigned int i;

	for (i = 0; i < 3 && names[i]; i++) {
		f = gst_element_factory_find(names[i]);
		if (f) {
			gst_object_unref(f);
			return names[i];
		}
	}
	return NULL;
}

static bool have_element(const char *name)
{
	const char *names[3] = { name };

	return first_element(names) != NULL;
}

/*
 * The pipeline @desc, or NULL (and why on stderr). A link that cannot be
 * made is an error here, not a pipeline that never ends.
 */
static GstElement *parse(const char *desc)
{
	GError *err = NULL;
	GstElement *p;

	p = gst_parse_launch(desc, &err);
	if (err) {
		fprintf(stderr, "codec_sweep: %s: %s\n", desc, err->message);
		g_error_free(err);
		if (p)
			gst_object_unref(p);
		return NULL;
	}
	return p;
}

/* Run @desc to EOS; false (and why on stderr) on error. */
static bool run_to_eos(const char *desc)
{
	GstElement *p;
	GstMessage *msg;
	GError *err = NULL;
	bool ok;

	p = parse(desc);
	if (!p)
		return false;
	gst_element_set_state(p, GST_STATE_PLAYING);
	msg = gst_bus_timed_pop_filtered(GST_ELEMENT_BUS(p), 300 * GST_SECOND,
					 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	ok = msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS;
	if (msg && !ok) {
		gst_message_parse_error(msg, &err, NULL);
		fprintf(stderr, "codec_sweep: %s: %s\n", desc, err->message);
		g_error_free(err);
	} else if (!msg) {
		fprintf(stderr, "codec_sweep: %s: no end of stream after 300 s\n", desc);
	}
	if (msg)
		gst_message_unref(msg);
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(p);
	return ok;
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n, bool *zero)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h = (h ^ p[i]) * 0x100000001b3ull;
		if (p[i])
			*zero = false;
	}
	return h;
}

/*
 * Hash the visible pixels of a frame whose planes start at @base + offset[p]
 * with stride[p]: each plane's rows, without the padding past their end.
 */
static uint64_t hash_frame(const GstVideoInfo *info, const uint8_t *base,
			   const gsize *offset, const gint *stride, bool *zero)
{
	const GstVideoFormatInfo *finfo = info->finfo;
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned int p, y;

	*zero = true;
	for (p = 0; p < GST_VIDEO_INFO_N_PLANES(info); p++) {
		gint comp[GST_VIDEO_MAX_COMPONENTS];
		size_t row;
		int rows;

		gst_video_format_info_component(finfo, p, comp);
		row = (size_t)GST_VIDEO_INFO_COMP_WIDTH(info, comp[0]) *
		      GST_VIDEO_INFO_COMP_PSTRIDE(info, comp[0]);
		rows = GST_VIDEO_INFO_COMP_HEIGHT(info, comp[0]);
		for (y = 0; y < (unsigned int)rows; y++)
			h = fnv1a(h, base + offset[p] + (size_t)y * stride[p], row,
				  zero);
	}
	return h;
}

/* Read the frame of one dma-buf @fd through @path; false on errors. */
static bool read_dmabuf(enum path path, int fd, gsize mem_offset, gsize maxsize,
			const GstVideoInfo *info, const gsize *offset,
			const gint *stride, uint64_t *hash, bool *zero)
{
	struct dma_buf_sync s = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = mem_offset + maxsize;
	uint8_t *map;

	if (path == PATH_POLL && poll(&pfd, 1, 5000) != 1) {
		fprintf(stderr, "codec_sweep: poll on the dma-buf: %s\n",
			errno ? strerror(errno) : "still busy after 5 s");
		return false;
	}
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "codec_sweep: mmap of the dma-buf: %s\n", strerror(errno));
		return false;
	}
	if (path == PATH_SYNC && ioctl(fd, DMA_BUF_IOCTL_SYNC, &s)) {
		fprintf(stderr, "codec_sweep: DMA_BUF_IOCTL_SYNC: %s\n", strerror(errno));
		munmap(map, len);
		return false;
	}
	*hash = hash_frame(info, map + mem_offset, offset, stride, zero);
	if (path == PATH_SYNC) {
		s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	}
	munmap(map, len);
	return true;
}

/* One sample: every path that applies. */
static bool read_sample(GstSample *sample, struct run *r, bool all_paths)
{
	GstBuffer *buf = gst_sample_get_buffer(sample);
	unsigned int i = r->frames, p;
	GstVideoMeta *meta;
	GstVideoFrame frame;
	GstVideoInfo info;
	GstMemory *mem;
	gsize offset[GST_VIDEO_MAX_PLANES];
	gint stride[GST_VIDEO_MAX_PLANES];

	if (i >= MAX_FRAMES)
		return true;
	if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample)))
		return false;
	if (!gst_video_frame_map(&frame, &info, buf, GST_MAP_READ))
		return false;
	/* GstVideoFrame's planes are pointers: hash them from offset 0. */
	for (p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); p++) {
		offset[p] = (const uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(&frame, p) -
			    (const uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
		stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
	}
	r->hash[PATH_MAP][i] = hash_frame(&frame.info,
					  GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
					  offset, stride, &r->zero[PATH_MAP][i]);
	r->read[PATH_MAP][i] = true;
	gst_video_frame_unmap(&frame);

	mem = gst_buffer_peek_memory(buf, 0);
	if (all_paths && gst_buffer_n_memory(buf) == 1 && gst_is_dmabuf_memory(mem)) {
		meta = gst_buffer_get_video_meta(buf);
		for (p = 0; p < GST_VIDEO_INFO_N_PLANES(&info); p++) {
			offset[p] = meta ? meta->offset[p] : info.offset[p];
			stride[p] = meta ? meta->stride[p] : info.stride[p];
		}
		for (p = PATH_MMAP; p < NUM_PATHS; p++) {
			if (!read_dmabuf(p, gst_dmabuf_memory_get_fd(mem),
					 mem->offset, mem->maxsize, &info, offset,
					 stride, &r->hash[p][i], &r->zero[p][i]))
				return false;
			r->read[p][i] = true;
		}
	}
	r->frames++;
	return true;
}

/* Run @desc, whose appsink is "sink", and hash every frame into @r. */
static bool decode(const char *desc, struct run *r, bool all_paths)
{
	GError *err = NULL;
	GstElement *p, *sink;
	GstMessage *msg = NULL;
	unsigned int waited;
	GstSample *sample;
	bool ok = true;

	memset(r, 0, sizeof(*r));
	p = parse(desc);
	if (!p)
		return false;
	sink = gst_bin_get_by_name(GST_BIN(p), "sink");
	gst_element_set_state(p, GST_STATE_PLAYING);
	/* A second at a time: an error ends the pipeline without an EOS. */
	for (waited = 0; ok && waited < 120;) {
		sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), GST_SECOND);
		if (sample) {
			ok = read_sample(sample, r, all_paths);
			gst_sample_unref(sample);
			waited = 0;
			continue;
		}
		if (gst_app_sink_is_eos(GST_APP_SINK(sink)))
			break;
		/* Drops the other messages, keeps an error for below. */
		msg = gst_bus_pop_filtered(GST_ELEMENT_BUS(p), GST_MESSAGE_ERROR);
		if (msg)
			break;
		waited++;
	}
	if (!msg)
		msg = gst_bus_pop_filtered(GST_ELEMENT_BUS(p), GST_MESSAGE_ERROR);
	if (msg) {
		gst_message_parse_error(msg, &err, NULL);
		fprintf(stderr, "codec_sweep: %s: %s\n", desc, err->message);
		g_error_free(err);
		gst_message_unref(msg);
		ok = false;
	}
	if (ok && !gst_app_sink_is_eos(GST_APP_SINK(sink))) {
		fprintf(stderr, "codec_sweep: %s: no end of stream\n", desc);
		ok = false;
	}
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(p);
	return ok;
}

static enum verdict judge(const struct run *ref, const struct run *hw,
			  enum path p, unsigned int i)
{
	if (!hw->read[p][i])
		return V_NA;
	if (hw->hash[p][i] == ref->hash[PATH_MAP][i])
		return V_MATCH;
	return hw->zero[p][i] ? V_ZERO : V_PARTLY;
}

/* One table line a path; true when every frame read matched. */
static bool report(const char *what, const char *fences, const struct run *ref,
		   const struct run *hw)
{
	unsigned int n[NUM_VERDICTS], i, p;
	bool ok = true;

	if (hw->frames != ref->frames) {
		printf("%-7s %-5s %-6s  %u frames decoded, the reference has %u\n",
		       what, "-", fences, hw->frames, ref->frames);
		return false;
	}
	for (p = 0; p < NUM_PATHS; p++) {
		memset(n, 0, sizeof(n));
		for (i = 0; i < hw->frames; i++)
			n[judge(ref, hw, p, i)]++;
		if (n[V_NA] == hw->frames) {
			printf("%-7s %-5s %-6s  %6s\n", what, path_name[p], fences,
			       "n/a (not a dma-buf)");
			continue;
		}
		printf("%-7s %-5s %-6s  %6u %6u %6u %6u\n", what, path_name[p],
		       fences, hw->frames, n[V_MATCH], n[V_ZERO], n[V_PARTLY]);
		ok &= n[V_MATCH] + n[V_NA] == hw->frames;
	}
	return ok;
}

static int set_fences(const char *v)
{
	int fd = open(FENCES_PARAM, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, v, 1);
	close(fd);
	return n == 1 ? 0 : -EIO;
}

static char saved_fences = 0;

static void read_fences(void)
{
	int fd = open(FENCES_PARAM, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, &saved_fences, 1) != 1)
			saved_fences = 0;
		close(fd);
	}
}

/*
 * Decode @hw_desc with fences on and off (or as they are, when the switch
 * cannot be written) and compare with @ref.
 */
static int sweep_one(const char *what, const struct run *ref,
		     const char *hw_desc)
{
	static struct run hw;
	const char *modes[2] = { "Y", "N" };
	int status = KSFT_PASS;
	unsigned int m;

	for (m = 0; m < 2; m++) {
		const char *label = m ? "off" : "on";

		if (set_fences(modes[m])) {
			if (m)
				break;
			label = saved_fences == 'Y' ? "on" :
				saved_fences == 'N' ? "off" : "?";
			printf("# cannot write %s (not root?): fences as they are only\n",
			       FENCES_PARAM);
		}
		if (!decode(hw_desc, &hw, true)) {
			printf("%-7s %-5s %-6s  decoding failed\n", what, "-", label);
			status = KSFT_FAIL;
			continue;
		}
		if (!report(what, label, ref, &hw))
			status = KSFT_FAIL;
	}
	return status;
}

static int sweep_codec(const struct codec *c)
{
	static struct run ref;
	const char *enc, *dec;
	char clip[512], desc[2048];
	int ret;

	if (!have_element(c->hw)) {
		printf("%-6s unsupported: no %s (the board's %s driver does not decode it, or v4l2codecs is missing)\n",
		       c->name, c->hw, c->block);
		return KSFT_SKIP;
	}
	enc = first_element(c->enc);
	dec = first_element(c->dec);
	if (!enc || !dec) {
		printf("%-6s skipped: no software %s (%s%s%s)\n", c->name,
		       enc ? "decoder" : "encoder",
		       enc ? c->dec[0] : c->enc[0],
		       (enc ? c->dec[1] : c->enc[1]) ? " or " : "",
		       (enc ? c->dec[1] : c->enc[1]) ?: "");
		return KSFT_SKIP;
	}
	snprintf(clip, sizeof(clip), "%s/codec_sweep-%d.%s.mkv", workdir,
		 (int)getpid(), c->name);
	snprintf(desc, sizeof(desc),
		 "videotestsrc num-buffers=%u pattern=smpte ! video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! %s%s%s ! matroskamux ! filesink location=%s",
		 n_frames, width, height, enc,
		 !strcmp(enc, "mpeg2enc") ? " format=3" : "",
		 c->enc_post ?: "", clip);
	if (!run_to_eos(desc))
		return KSFT_FAIL;

	snprintf(desc, sizeof(desc),
		 "filesrc location=%s ! parsebin ! %s ! videoconvert ! video/x-raw,format=NV12 ! appsink name=sink sync=false",
		 clip, dec);
	if (!decode(desc, &ref, false)) {
		unlink(clip);
		return KSFT_FAIL;
	}
	snprintf(desc, sizeof(desc),
		 "filesrc location=%s ! parsebin ! %s ! video/x-raw,format=NV12 ! appsink name=sink sync=false",
		 clip, c->hw);
	printf("# %s: %u frames of %dx%d from %s, reference %s, hardware %s (%s)\n",
	       c->name, ref.frames, width, height, enc, dec, c->hw, c->block);
	ret = sweep_one(c->name, &ref, desc);
	unlink(clip);
	return ret;
}

/* -c ELEMENT: the comparison logic on a converter that computes its output. */
static int sweep_convert(const char *element)
{
	static struct run ref;
	char desc[1024];
	const char *src = "videotestsrc num-buffers=%u pattern=smpte ! video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1";
	char head[512];

	snprintf(head, sizeof(head), src, n_frames, width, height);
	snprintf(desc, sizeof(desc),
		 "%s ! videoconvert ! video/x-raw,format=BGR ! appsink name=sink sync=false",
		 head);
	if (!decode(desc, &ref, false))
		return KSFT_FAIL;
	snprintf(desc, sizeof(desc),
		 "%s ! %s ! video/x-raw,format=BGR ! appsink name=sink sync=false",
		 head, element);
	printf("# convert: %u frames of %dx%d RGB to BGR, reference videoconvert, device %s\n",
	       ref.frames, width, height, element);
	return sweep_one("convert", &ref, desc);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: codec_sweep [-n frames] [-s WxH] [-d dir] [-c element] [codec...]\n"
		"  codecs: h264 hevc vp9 mpeg2 vp8 (default: all)\n"
		"  -n frames   frames a clip, 1..%d (default 10)\n"
		"  -s WxH      clip size (default 320x240)\n"
		"  -d dir      where the clips are made (default /tmp)\n"
		"  -c element  compare a converter element and its properties\n"
		"              (v4l2convert on vim2m) with videoconvert, not decode\n",
		MAX_FRAMES);
}

int main(int argc, char **argv)
{
	const char *convert = NULL;
	int status = KSFT_SKIP, ret, opt;
	bool any = false;
	unsigned int i;
	int j;

	gst_init(&argc, &argv);
	while ((opt = getopt(argc, argv, "n:s:d:c:h")) != -1) {
		switch (opt) {
		case 'n':
			n_frames = strtoul(optarg, NULL, 10);
			if (!n_frames || n_frames > MAX_FRAMES) {
				usage(stderr);
				return KSFT_FAIL;
			}
			break;
		case 's':
			if (sscanf(optarg, "%dx%d", &width, &height) != 2 ||
			    width < 16 || height < 16) {
				usage(stderr);
				return KSFT_FAIL;
			}
			break;
		case 'd':
			workdir = optarg;
			break;
		case 'c':
			convert = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return KSFT_FAIL;
		}
	}
	read_fences();
	printf("# producer_fences: %s\n", saved_fences == 'Y' ? "Y" :
	       saved_fences == 'N' ? "N" : "no such parameter");
	printf("%-7s %-5s %-6s  %6s %6s %6s %6s\n", "codec", "path", "fences",
	       "frames", "match", "zero", "partly");

	if (convert) {
		status = sweep_convert(convert);
		any = true;
	}
	for (i = 0; !convert && i < G_N_ELEMENTS(codecs); i++) {
		bool asked = optind == argc;

		for (j = optind; j < argc; j++)
			asked |= !strcmp(argv[j], codecs[i].name);
		if (!asked)
			continue;
		ret = sweep_codec(&codecs[i]);
		if (ret == KSFT_SKIP)
			continue;
		any = true;
		if (ret == KSFT_FAIL || status == KSFT_SKIP)
			status = ret;
	}
	if (saved_fences)
		set_fences(saved_fences == 'Y' ? "Y" : "N");
	if (!any)
		printf("# no codec could be tried\n");
	return any ? status : KSFT_SKIP;
}
