// SPDX-License-Identifier: GPL-2.0
/*
 * A register-level stand-in for the RK3399 VPU (VEPU2/VDPU2), video decoder
 * (rkvdec) and RGA, so that the real hantro-vpu, rockchip-vdec and
 * rockchip-rga drivers probe, run jobs, take interrupts and reset or stop
 * the blocks in a virtual machine; and for one block of
 * another SoC, the RK3588's AV1 decoder (VPU981, hantro-vpu too), for a fix
 * of hantro's that its error path needs.
 *
 * What it is: a test fixture for the dma_resv producer-fence series. It adds
 * device-tree nodes with the blocks' compatibles under the root node, gives
 * them register space in guest memory the kernel does not use (boot x86 with
 * memmap=128K$<addr>, arm64 with mem= below the end of RAM, and load with
 * regs=<addr>), fixed-rate clocks, reset
 * lines and an interrupt controller. A kernel thread polls the registers:
 * when a driver starts a job, the model writes a pattern the test chooses
 * into the destination buffer at the DMA address the driver programmed, sets
 * the status bits the driver's interrupt handler reads and raises the
 * interrupt from hard interrupt context. Per block, a job completes, completes
 * with an error status, or hangs until the driver resets the block; a hung
 * block may also run away, writing into the destination until it is stopped,
 * as a block that lost its way may keep its DMA going, and so may a VPU
 * block that an error status only paused. For the
 * test of rockchip-rga's watchdog against its interrupt handler, the model
 * can raise the interrupt as the core reset is asserted, and count the calls
 * of the handler made while it is (an ftrace hook on rga_handle_irq()).
 *
 * What it is not: an emulator. It encodes, decodes and converts nothing; it
 * models only the registers the drivers' job, interrupt and reset paths use,
 * it assumes DMA addresses are physical addresses of RAM (no IOMMU), and it
 * refuses to load on a machine that has the real blocks in its device tree.
 */

#include <linux/clk-provider.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/ftrace.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/irqdomain.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/reset-controller.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>

#define MODEL_SIZE		SZ_128K
#define MODEL_VPU_OFFSET	0x0
#define MODEL_VPU_SIZE		0x800
#define MODEL_RGA_OFFSET	SZ_64K
#define MODEL_RGA_SIZE		SZ_64K
#define MODEL_AV1_OFFSET	SZ_32K
#define MODEL_AV1_SIZE		0x800
#define MODEL_VDEC_OFFSET	SZ_16K
#define MODEL_VDEC_SIZE		0x480
#define MODEL_PHANDLE		0x7e5a3399

/* VEPU2, from drivers/media/platform/verisilicon/rockchip_vpu2_regs.h */
#define VEPU_STR_BUF_LIMIT	0x0d4
#define VEPU_ADDR_OUTPUT_STREAM	0x134
#define VEPU_ENCODE_START	0x19c
#define VEPU_ENCODE_ENABLE	BIT(0)
#define VEPU_INTERRUPT		0x1b4
#define VEPU_INT_DIS_BIT	BIT(8)
#define VEPU_INT_BUS_ERROR	BIT(4)
#define VEPU_INT_FRAME_READY	BIT(1)
#define VEPU_INT_BIT		BIT(0)

/* VDPU2, 0x400 into the VPU's registers */
#define VDPU_BASE		0x400
#define VDPU_INTERRUPT		(VDPU_BASE + 0x0dc)
#define VDPU_INT_ERROR		BIT(12)
#define VDPU_INT_RDY		BIT(4)
#define VDPU_INT_IRQ		BIT(0)
#define VDPU_EN_FLAGS		(VDPU_BASE + 0x0e4)
#define VDPU_DEC_E		BIT(0)
#define VDPU_SOFT_RESET		(VDPU_BASE + 0x0e8)
#define VDPU_DEC_OUT_BASE	(VDPU_BASE + 0x0fc)

/* RK3588 VPU981, from drivers/media/platform/verisilicon/rockchip_vpu981_regs.h */
#define AV1_INTERRUPT		0x004	/* swreg 1: also the start bit */
#define AV1_DEC_E		BIT(0)
#define AV1_INT_IRQ		BIT(8)
#define AV1_INT_RDY		BIT(12)
#define AV1_INT_BUS_ERROR	BIT(13)
#define AV1_TILE_OUT_LU		0x104	/* swreg 65 */

/* RK3399 rkvdec, from drivers/media/platform/rockchip/rkvdec/rkvdec-regs.h */
#define VDEC_INTERRUPT		0x004	/* also the start bit */
#define VDEC_DEC_E		BIT(0)
#define VDEC_IRQ_DIS		BIT(4)
#define VDEC_IRQ		BIT(8)
#define VDEC_RDY_STA		BIT(12)
#define VDEC_ERR_STA		BIT(14)
#define VDEC_SOFTRST_EN_P	BIT(20)
#define VDEC_SOFTRESET_RDY	BIT(22)
#define VDEC_DECOUT_BASE	0x01c

/* RGA2, from drivers/media/platform/rockchip/rga/rga-hw.h */
#define RGA_CMD_CTRL		0x0004
#define RGA_CMD_BASE		0x0008
#define RGA_INT			0x0010
#define RGA_INT_ERROR		BIT(0)
#define RGA_INT_CMD_FINISHED	BIT(2)
#define RGA_VERSION_INFO	0x0028
#define RGA_MODE_BASE_REG	0x0100
#define RGA_DST_Y_RGB_BASE	0x013c
#define RGA_MMU_DST_BASE	0x0178
#define RGA_VERSION		0x03020000	/* 3.2, as on RK3399 */

/* What the model writes into a destination buffer for one job */
#define MODEL_OUTPUT_BYTES	SZ_4K

enum model_mode {
	MODEL_COMPLETE = 0,	/* the job's "done" status */
	MODEL_ERROR = 1,	/* an error status */
	MODEL_HANG = 2,		/* no interrupt until the driver resets */
};

enum model_block_id {
	BLOCK_VEPU, BLOCK_VDPU, BLOCK_RGA, BLOCK_AV1, BLOCK_VDEC, NUM_BLOCKS
};

enum model_reset_id { RESET_RGA_CORE, RESET_RGA_AXI, RESET_RGA_AHB, NUM_RESETS };

enum model_clk_id {
	CLK_VPU_ACLK, CLK_VPU_HCLK, CLK_RGA_ACLK, CLK_RGA_HCLK, CLK_RGA_SCLK,
	CLK_AV1_ACLK, CLK_AV1_HCLK, CLK_VDEC_AXI, CLK_VDEC_AHB, CLK_VDEC_CABAC,
	CLK_VDEC_CORE, NUM_CLKS
};

struct model;

struct model_block {
	struct model *model;
	const char *name;
	void __iomem *regs;
	unsigned int hwirq;
	struct irq_work irq_work;
	/* protects the fields below */
	spinlock_t lock;
	bool busy;
	unsigned int gen;		/* bumped by every reset */
	u64 start_ns;
	u32 job_mode;
	/* debugfs: the next jobs' behaviour */
	u32 mode;
	u32 latency_ms;
	u8 pattern;
	u32 irq_at_reset;	/* RGA: interrupt as the core reset is asserted */
	/*
	 * A hung job runs away for this long after it started: it writes
	 * into the destination at every poll, a byte that changes each time,
	 * until the driver stops the block or the time is up, when the block
	 * goes idle without an interrupt. 0: a hung job only hangs.
	 */
	u32 runaway_ms;
	/* debugfs: what happened */
	u32 jobs, errors, hangs, resets, bad_addr, irqs_at_reset, late_writes;
	bool in_reset;		/* RGA: the core reset is asserted */
};

struct model {
	void __iomem *base;
	struct of_changeset ocs_model, ocs_blocks;
	struct device_node *np, *vpu_np, *rga_np, *av1_np, *vdec_np;
	struct irq_domain *domain;
	struct clk_hw_onecell_data *clks;
	struct reset_controller_dev rcdev;
	struct platform_device *vpu_pdev, *rga_pdev, *av1_pdev, *vdec_pdev;
	bool vpu_created, rga_created, av1_created, vdec_created;
	struct task_struct *thread;
	struct dentry *debugfs;
	struct model_block block[NUM_BLOCKS];
	/*
	 * debugfs rga/isr_hook: an ftrace hook on rockchip-rga's
	 * rga_handle_irq(), the part of its interrupt handler that reads the
	 * core, counts its calls in rga/isr_calls and, in rga/isr_in_reset,
	 * those made while the core reset is asserted. Without dynamic ftrace
	 * (the board package's kernel) there is no hook, and isr_hook says so.
	 */
#ifdef CONFIG_DYNAMIC_FTRACE
	struct ftrace_ops isr_ops;
#endif
	struct mutex isr_lock;	/* hooking and unhooking */
	bool isr_hooked;
	u32 isr_calls, isr_in_reset;
};

static unsigned long regs;
module_param(regs, ulong, 0444);
MODULE_PARM_DESC(regs, "physical address of 128 KiB of memory the kernel does not use (memmap=128K$<addr> on x86, mem= on arm64); the model loads only with it");

static unsigned int poll_us = 500;
module_param(poll_us, uint, 0444);
MODULE_PARM_DESC(poll_us, "how often the model looks at the registers, in microseconds");

static struct model *the_model;

/*
 * Write @len bytes of @pattern at physical address @phys, as the block's DMA
 * would. Only RAM is written: anything else is counted and left alone.
 */
static void model_dma_fill(struct model_block *b, phys_addr_t phys,
			   size_t len, u8 pattern)
{
	void *p;

	if (!phys || region_intersects(phys, len, IORESOURCE_SYSTEM_RAM,
				       IORES_DESC_NONE) != REGION_INTERSECTS)
		goto bad;
	p = memremap(phys, len, MEMREMAP_WB);
	if (!p)
		goto bad;
	memset(p, pattern, len);
	memunmap(p);
	return;
bad:
	b->bad_addr++;
}

static bool model_dma_read32(struct model_block *b, phys_addr_t phys, u32 *val)
{
	u32 *p;

	if (!phys || region_intersects(phys, sizeof(*val), IORESOURCE_SYSTEM_RAM,
				       IORES_DESC_NONE) != REGION_INTERSECTS)
		goto bad;
	p = memremap(phys, sizeof(*val), MEMREMAP_WB);
	if (!p)
		goto bad;
	*val = le32_to_cpu(*(__le32 *)p);
	memunmap(p);
	return true;
bad:
	b->bad_addr++;
	return false;
}

/* Is a job started that the model has not seen yet? Called with b->lock. */
static bool model_job_started(struct model_block *b)
{
	u32 val;

	switch (b - b->model->block) {
	case BLOCK_VEPU:
		return readl(b->regs + VEPU_ENCODE_START) & VEPU_ENCODE_ENABLE;
	case BLOCK_VDPU:
		return readl(b->regs + VDPU_EN_FLAGS) & VDPU_DEC_E;
	case BLOCK_RGA:
		/* The start bit clears itself once the command is fetched. */
		val = readl(b->regs + RGA_CMD_CTRL);
		if (!(val & BIT(0)))
			return false;
		writel(val & ~BIT(0), b->regs + RGA_CMD_CTRL);
		return true;
	case BLOCK_AV1:
		return readl(b->regs + AV1_INTERRUPT) & AV1_DEC_E;
	case BLOCK_VDEC:
		return readl(b->regs + VDEC_INTERRUPT) & VDEC_DEC_E;
	}
	return false;
}

/* Has the driver stopped the job (a reset) while it ran? Called with b->lock. */
static bool model_job_stopped(struct model_block *b)
{
	switch (b - b->model->block) {
	case BLOCK_VEPU:
		return !(readl(b->regs + VEPU_ENCODE_START) & VEPU_ENCODE_ENABLE);
	case BLOCK_VDPU:
		return !(readl(b->regs + VDPU_EN_FLAGS) & VDPU_DEC_E);
	case BLOCK_AV1:
		return !(readl(b->regs + AV1_INTERRUPT) & AV1_DEC_E);
	}
	/*
	 * The RGA is stopped by its reset lines: model_reset_assert(). The
	 * video decoder by its soft reset: model_reg_side_effects(); masking
	 * its interrupt or clearing its enable bit does not stop its DMA.
	 */
	return false;
}

/* Where the decoders' registers hold the address of the decoded picture */
static const unsigned int model_dec_out[NUM_BLOCKS] = {
	[BLOCK_VDPU] = VDPU_DEC_OUT_BASE,
	[BLOCK_AV1] = AV1_TILE_OUT_LU,
	[BLOCK_VDEC] = VDEC_DECOUT_BASE,
};

/* Write the job's output where the driver told the block to: no sleeping. */
static u32 model_job_output(struct model_block *b, u8 pattern)
{
	phys_addr_t cmd, table;
	u32 out, dst, page;
	size_t len;

	switch (b - b->model->block) {
	case BLOCK_VEPU:
		/* The bitstream, after the header the driver wrote itself */
		out = readl(b->regs + VEPU_ADDR_OUTPUT_STREAM);
		len = min_t(u32, readl(b->regs + VEPU_STR_BUF_LIMIT),
			    MODEL_OUTPUT_BYTES);
		model_dma_fill(b, out, len, pattern);
		return len;
	case BLOCK_VDPU:
	case BLOCK_AV1:
	case BLOCK_VDEC:
		/* The start of the decoded picture (its luma) */
		out = readl(b->regs + model_dec_out[b - b->model->block]);
		model_dma_fill(b, out, MODEL_OUTPUT_BYTES, pattern);
		return MODEL_OUTPUT_BYTES;
	case BLOCK_RGA:
		/*
		 * The destination, through the RGA's own MMU: the command
		 * buffer holds the page table's address and the destination's
		 * address in the table's space; the table holds page addresses.
		 */
		cmd = readl(b->regs + RGA_CMD_BASE);
		if (!model_dma_read32(b, cmd + RGA_MMU_DST_BASE - RGA_MODE_BASE_REG,
				      &out) ||
		    !model_dma_read32(b, cmd + RGA_DST_Y_RGB_BASE - RGA_MODE_BASE_REG,
				      &dst))
			return 0;
		table = (phys_addr_t)out << 4;
		if (!model_dma_read32(b, table + (dst >> PAGE_SHIFT) * 4, &page))
			return 0;
		len = PAGE_SIZE - offset_in_page(dst);
		model_dma_fill(b, page + offset_in_page(dst), len, pattern);
		return len;
	}
	return 0;
}

/* Set the status the driver's interrupt handler reads. Called with b->lock. */
static void model_job_status(struct model_block *b, bool error, u32 len)
{
	u32 val;

	switch (b - b->model->block) {
	case BLOCK_VEPU:
		writel(len * 8, b->regs + VEPU_STR_BUF_LIMIT);
		writel(VEPU_INT_BIT | (error ? VEPU_INT_BUS_ERROR :
					       VEPU_INT_FRAME_READY),
		       b->regs + VEPU_INTERRUPT);
		val = readl(b->regs + VEPU_ENCODE_START);
		writel(val & ~VEPU_ENCODE_ENABLE, b->regs + VEPU_ENCODE_START);
		break;
	case BLOCK_VDPU:
		/*
		 * As the VDPU2 reports a decoding error: the interrupt bit
		 * with the error bit instead of the ready bit.
		 */
		writel(VDPU_INT_IRQ | (error ? VDPU_INT_ERROR : VDPU_INT_RDY),
		       b->regs + VDPU_INTERRUPT);
		val = readl(b->regs + VDPU_EN_FLAGS);
		writel(val & ~VDPU_DEC_E, b->regs + VDPU_EN_FLAGS);
		break;
	case BLOCK_RGA:
		val = readl(b->regs + RGA_INT);
		val |= error ? RGA_INT_ERROR : RGA_INT_CMD_FINISHED;
		writel(val, b->regs + RGA_INT);
		break;
	case BLOCK_AV1:
		/* The status shares its register with the start bit. */
		writel(AV1_INT_IRQ | (error ? AV1_INT_BUS_ERROR : AV1_INT_RDY),
		       b->regs + AV1_INTERRUPT);
		break;
	case BLOCK_VDEC:
		/* The same, and an error is a decoding error of the stream. */
		writel(VDEC_IRQ | (error ? VDEC_ERR_STA : VDEC_RDY_STA),
		       b->regs + VDEC_INTERRUPT);
		break;
	}
}

static void model_stop_job(struct model_block *b)
{
	if (b->busy) {
		b->busy = false;
		b->resets++;
		if (b->job_mode == MODEL_HANG)
			b->hangs++;
	}
	b->gen++;
}

/*
 * Side effects of register writes that real hardware acts on at once: the
 * resets of hantro's watchdog and the RGA's interrupt-clear bits. Called
 * with b->lock.
 *
 * A reset is taken from what it leaves behind, not only from the enable bit
 * it clears: the driver may start its next job, setting the enable bit
 * again, before the model looks.
 */
static void model_reg_side_effects(struct model_block *b)
{
	u32 val;

	switch (b - b->model->block) {
	case BLOCK_VEPU:
		/* rockchip_vpu2_enc_reset() disables the interrupt */
		val = readl(b->regs + VEPU_INTERRUPT);
		if (val & VEPU_INT_DIS_BIT) {
			model_stop_job(b);
			writel(val & ~VEPU_INT_DIS_BIT, b->regs + VEPU_INTERRUPT);
		}
		break;
	case BLOCK_VDPU:
		/* rockchip_vpu2_dec_reset() pulses the soft reset */
		if (readl(b->regs + VDPU_SOFT_RESET) & BIT(0)) {
			model_stop_job(b);
			writel(0, b->regs + VDPU_SOFT_RESET);
			writel(0, b->regs + VDPU_INTERRUPT);
		}
		break;
	case BLOCK_RGA:
		val = readl(b->regs + RGA_INT);
		if (val & 0xf0)
			writel(val & ~(0xf0 | ((val >> 4) & 0xf)),
			       b->regs + RGA_INT);
		break;
	case BLOCK_VDEC:
		/*
		 * The soft reset stops the block and reports its end in the
		 * same register. The model raises no interrupt for it: the
		 * driver masks it for the reset.
		 */
		val = readl(b->regs + VDEC_INTERRUPT);
		if (val & VDEC_SOFTRST_EN_P) {
			model_stop_job(b);
			writel(VDEC_SOFTRESET_RDY | (val & VDEC_IRQ_DIS),
			       b->regs + VDEC_INTERRUPT);
		}
		break;
	}
}

/*
 * A block that ends its job without a status: its enable bit clears, so
 * that the model does not take it for the start of the next job. Called
 * with b->lock.
 */
static void model_job_idle(struct model_block *b)
{
	static const unsigned int enable_reg[NUM_BLOCKS] = {
		[BLOCK_VEPU] = VEPU_ENCODE_START, [BLOCK_VDPU] = VDPU_EN_FLAGS,
		[BLOCK_AV1] = AV1_INTERRUPT, [BLOCK_VDEC] = VDEC_INTERRUPT,
	};
	unsigned int reg = enable_reg[b - b->model->block];

	/* Bit 0 is the enable bit of each; the RGA's clears itself. */
	if (reg)
		writel(readl(b->regs + reg) & ~BIT(0), b->regs + reg);
	b->busy = false;
}

/*
 * A runaway job's DMA: one more write into the destination, or the end of
 * the runaway. Under b->lock, so that a write never follows a stop the model
 * has seen: real hardware stops at once.
 */
static void model_runaway(struct model_block *b)
{
	u64 ran_ns = ktime_get_ns() - b->start_ns;

	if (ran_ns >= (u64)READ_ONCE(b->runaway_ms) * NSEC_PER_MSEC) {
		model_job_idle(b);
		b->hangs++;
		return;
	}
	b->late_writes++;
	model_job_output(b, b->pattern + b->late_writes);
}

/*
 * An error interrupt that pauses the block rather than ending its job: the
 * VDPU2 waiting for more stream, the VEPU2 for room in its output buffer.
 * With runaway_ms set, such a block keeps its enable bit and runs away like
 * a hung one until the driver stops it. The other blocks stop on an error.
 * Called with b->lock.
 */
static void model_error_pause(struct model_block *b)
{
	static const unsigned int enable_reg[NUM_BLOCKS] = {
		[BLOCK_VEPU] = VEPU_ENCODE_START, [BLOCK_VDPU] = VDPU_EN_FLAGS,
	};
	unsigned int reg = enable_reg[b - b->model->block];

	if (!reg)
		return;
	writel(readl(b->regs + reg) | BIT(0), b->regs + reg);
	b->busy = true;
	b->job_mode = MODEL_HANG;
}

/* The block raises its interrupt line: hard interrupt context, as on hardware. */
static void model_irq_work(struct irq_work *work)
{
	struct model_block *b = container_of(work, struct model_block, irq_work);

	generic_handle_domain_irq(b->model->domain, b->hwirq);
}

static void model_step(struct model_block *b)
{
	unsigned long flags;
	unsigned int gen;
	bool error, raise;
	u8 pattern;
	u32 len;

	spin_lock_irqsave(&b->lock, flags);
	model_reg_side_effects(b);
	if (!b->busy) {
		if (model_job_started(b)) {
			b->busy = true;
			b->start_ns = ktime_get_ns();
			b->job_mode = READ_ONCE(b->mode);
			b->jobs++;
		}
	} else if (model_job_stopped(b)) {
		model_stop_job(b);
	}
	if (b->busy && b->job_mode == MODEL_HANG && READ_ONCE(b->runaway_ms))
		model_runaway(b);
	if (!b->busy || b->job_mode == MODEL_HANG ||
	    ktime_get_ns() - b->start_ns <
	    (u64)READ_ONCE(b->latency_ms) * NSEC_PER_MSEC) {
		spin_unlock_irqrestore(&b->lock, flags);
		return;
	}
	gen = b->gen;
	pattern = b->pattern;
	error = b->job_mode == MODEL_ERROR;
	spin_unlock_irqrestore(&b->lock, flags);

	/* The block's DMA: outside the lock, the reset callback takes it. */
	len = model_job_output(b, pattern);

	spin_lock_irqsave(&b->lock, flags);
	raise = b->busy && b->gen == gen;
	if (raise) {
		b->busy = false;
		if (error)
			b->errors++;
		model_job_status(b, error, len);
		if (error && READ_ONCE(b->runaway_ms))
			model_error_pause(b);
	}
	spin_unlock_irqrestore(&b->lock, flags);

	/*
	 * Not under b->lock: a reset of the block, which takes it, may come
	 * while the driver's interrupt handler runs, as on hardware.
	 */
	if (raise)
		irq_work_queue(&b->irq_work);
}

static int model_thread(void *data)
{
	struct model *m = data;
	int i;

	while (!kthread_should_stop()) {
		for (i = 0; i < NUM_BLOCKS; i++)
			model_step(&m->block[i]);
		usleep_range(poll_us, 2 * poll_us);
	}
	return 0;
}

static void model_irq_noop(struct irq_data *d)
{
}

static struct irq_chip model_irq_chip = {
	.name = "rk3399-model",
	.irq_mask = model_irq_noop,
	.irq_unmask = model_irq_noop,
};

static int model_irq_map(struct irq_domain *d, unsigned int virq,
			 irq_hw_number_t hwirq)
{
	irq_set_chip_and_handler(virq, &model_irq_chip, handle_simple_irq);
	irq_set_chip_data(virq, d->host_data);
	return 0;
}

static const struct irq_domain_ops model_irq_ops = {
	.map = model_irq_map,
	.xlate = irq_domain_xlate_onecell,
};

/* Any of the RGA's reset lines stops a running job and clears the block. */
static int model_reset_assert(struct reset_controller_dev *rcdev,
			      unsigned long id)
{
	struct model *m = container_of(rcdev, struct model, rcdev);
	struct model_block *b = &m->block[BLOCK_RGA];
	unsigned long flags;
	bool raise = false;

	spin_lock_irqsave(&b->lock, flags);
	if (id == RESET_RGA_CORE) {
		model_stop_job(b);
		writel(0, b->regs + RGA_CMD_CTRL);
		writel(0, b->regs + RGA_INT);
		b->in_reset = true;
		/* A completion that comes too late, as the reset starts. */
		raise = READ_ONCE(b->irq_at_reset);
		if (raise)
			b->irqs_at_reset++;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	if (raise)
		irq_work_queue(&b->irq_work);
	return 0;
}

static int model_reset_deassert(struct reset_controller_dev *rcdev,
				unsigned long id)
{
	struct model *m = container_of(rcdev, struct model, rcdev);
	struct model_block *b = &m->block[BLOCK_RGA];
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	if (id == RESET_RGA_CORE)
		b->in_reset = false;
	spin_unlock_irqrestore(&b->lock, flags);
	return 0;
}

static const struct reset_control_ops model_reset_ops = {
	.assert = model_reset_assert,
	.deassert = model_reset_deassert,
};

/* Apply @ocs, or undo what was added to it; false on failure. */
static int model_apply(struct of_changeset *ocs, int ret)
{
	/* The adds fail only for want of memory. */
	ret = ret ? -ENOMEM : of_changeset_apply(ocs);
	if (ret)
		of_changeset_destroy(ocs);
	return ret;
}

/*
 * The model's own node: interrupt controller, clock and reset provider. The
 * clock framework wants it available, but a platform device for it, which no
 * driver would bind and which fw_devlink would make the blocks wait for, is
 * not wanted: it sits in a disabled container, whose children get no device.
 */
static int model_add_provider_node(struct model *m)
{
	struct of_changeset *ocs = &m->ocs_model;
	struct device_node *container;
	int ret = 0;

	of_changeset_init(ocs);
	container = of_changeset_create_node(ocs, of_root,
					     "vb2-resv-rk3399-model");
	m->np = container ? of_changeset_create_node(ocs, container,
						     "controller") : NULL;
	if (!m->np) {
		of_changeset_destroy(ocs);
		ret = -ENOMEM;
		goto out;
	}
	ret |= of_changeset_add_prop_string(ocs, container, "status",
					    "disabled");
	ret |= of_changeset_add_prop_string(ocs, m->np, "compatible",
					    "vb2-resv,rk3399-model");
	ret |= of_changeset_add_prop_bool(ocs, m->np, "interrupt-controller");
	ret |= of_changeset_add_prop_u32(ocs, m->np, "#interrupt-cells", 1);
	ret |= of_changeset_add_prop_u32(ocs, m->np, "#clock-cells", 1);
	ret |= of_changeset_add_prop_u32(ocs, m->np, "#reset-cells", 1);
	ret |= of_changeset_add_prop_u32(ocs, m->np, "phandle", MODEL_PHANDLE);
	ret = model_apply(ocs, ret);
	/*
	 * Attaching a node reads its phandle from the properties it has then,
	 * and the changeset adds them after the node: set it now, before the
	 * blocks' nodes point at it.
	 */
	if (!ret)
		m->np->phandle = MODEL_PHANDLE;
out:
	/* The changeset holds the nodes; the model keeps a reference to m->np. */
	of_node_put(container);
	if (ret) {
		of_node_put(m->np);
		m->np = NULL;
	}
	return ret;
}

/* A block's node, as rk3399.dtsi has it; resources point at the model. */
struct model_node {
	const char *name;		/* node name, before the unit address */
	const char *compatible;
	unsigned long offset, size;	/* of the registers, in the carve-out */
	u32 irqs[NUM_BLOCKS];
	const char * const *irq_names;	/* NULL: a single, unnamed interrupt */
	unsigned int num_irqs;
	u32 clks[NUM_CLKS];
	const char * const *clk_names;
	unsigned int num_clks;
	u32 resets[NUM_RESETS];
	const char * const *reset_names;
	unsigned int num_resets;
};

static const char * const vpu_irq_names[] = { "vepu", "vdpu" };
static const char * const vpu_clk_names[] = { "aclk", "hclk" };
static const char * const rga_clk_names[] = { "aclk", "hclk", "sclk" };
static const char * const rga_reset_names[] = { "core", "axi", "ahb" };
static const char * const av1_irq_names[] = { "vdpu" };
static const char * const vdec_clk_names[] = { "axi", "ahb", "cabac", "core" };

static const struct model_node model_vpu_node = {
	.name = "video-codec",
	.compatible = "rockchip,rk3399-vpu",
	.offset = MODEL_VPU_OFFSET,
	.size = MODEL_VPU_SIZE,
	.irqs = { BLOCK_VEPU, BLOCK_VDPU },
	.irq_names = vpu_irq_names,
	.num_irqs = 2,
	.clks = { CLK_VPU_ACLK, CLK_VPU_HCLK },
	.clk_names = vpu_clk_names,
	.num_clks = 2,
};

static const struct model_node model_rga_node = {
	.name = "rga",
	.compatible = "rockchip,rk3399-rga",
	.offset = MODEL_RGA_OFFSET,
	.size = MODEL_RGA_SIZE,
	.irqs = { BLOCK_RGA },
	.num_irqs = 1,
	.clks = { CLK_RGA_ACLK, CLK_RGA_HCLK, CLK_RGA_SCLK },
	.clk_names = rga_clk_names,
	.num_clks = 3,
	.resets = { RESET_RGA_CORE, RESET_RGA_AXI, RESET_RGA_AHB },
	.reset_names = rga_reset_names,
	.num_resets = 3,
};

/* As rk3588-base.dtsi has it; hantro-vpu does not need its IOMMU. */
static const struct model_node model_av1_node = {
	.name = "video-codec",
	.compatible = "rockchip,rk3588-av1-vpu",
	.offset = MODEL_AV1_OFFSET,
	.size = MODEL_AV1_SIZE,
	.irqs = { BLOCK_AV1 },
	.irq_names = av1_irq_names,
	.num_irqs = 1,
	.clks = { CLK_AV1_ACLK, CLK_AV1_HCLK },
	.clk_names = vpu_clk_names,
	.num_clks = 2,
};

/*
 * As rk3399-base.dtsi has it, without the IOMMU and the power domain, which
 * rockchip-vdec does without.
 */
static const struct model_node model_vdec_node = {
	.name = "video-codec",
	.compatible = "rockchip,rk3399-vdec",
	.offset = MODEL_VDEC_OFFSET,
	.size = MODEL_VDEC_SIZE,
	.irqs = { BLOCK_VDEC },
	.num_irqs = 1,
	.clks = { CLK_VDEC_AXI, CLK_VDEC_AHB, CLK_VDEC_CABAC, CLK_VDEC_CORE },
	.clk_names = vdec_clk_names,
	.num_clks = 4,
};

/* "phandle id" pairs of the model's node, for "clocks" and "resets" */
static int model_add_refs(struct of_changeset *ocs, struct device_node *np,
			  const char *prop, const u32 *ids, unsigned int n)
{
	u32 refs[2 * NUM_CLKS];
	unsigned int i;

	if (WARN_ON(n > NUM_CLKS))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		refs[2 * i] = MODEL_PHANDLE;
		refs[2 * i + 1] = ids[i];
	}
	return of_changeset_add_prop_u32_array(ocs, np, prop, refs, 2 * n);
}

static struct device_node *model_add_node(struct of_changeset *ocs,
					  const struct model_node *d)
{
	const u32 reg[] = { upper_32_bits(regs + d->offset),
			    lower_32_bits(regs + d->offset), 0, d->size };
	struct device_node *np;
	char name[48];
	int ret = 0;

	snprintf(name, sizeof(name), "%s@%lx", d->name, regs + d->offset);
	np = of_changeset_create_node(ocs, of_root, name);
	if (!np)
		return NULL;
	ret |= of_changeset_add_prop_string(ocs, np, "compatible",
					    d->compatible);
	ret |= of_changeset_add_prop_u32_array(ocs, np, "reg", reg,
					       ARRAY_SIZE(reg));
	ret |= of_changeset_add_prop_u32(ocs, np, "interrupt-parent",
					 MODEL_PHANDLE);
	ret |= of_changeset_add_prop_u32_array(ocs, np, "interrupts", d->irqs,
					       d->num_irqs);
	if (d->irq_names)
		ret |= of_changeset_add_prop_string_array(ocs, np,
							  "interrupt-names",
							  d->irq_names,
							  d->num_irqs);
	ret |= model_add_refs(ocs, np, "clocks", d->clks, d->num_clks);
	ret |= of_changeset_add_prop_string_array(ocs, np, "clock-names",
						  d->clk_names, d->num_clks);
	if (d->num_resets) {
		ret |= model_add_refs(ocs, np, "resets", d->resets,
				      d->num_resets);
		ret |= of_changeset_add_prop_string_array(ocs, np,
							  "reset-names",
							  d->reset_names,
							  d->num_resets);
	}
	if (ret) {
		of_node_put(np);
		return NULL;
	}
	return np;
}

/* The blocks' nodes, whose platform devices the drivers bind to. */
static int model_add_block_nodes(struct model *m)
{
	struct of_changeset *ocs = &m->ocs_blocks;
	int ret;

	of_changeset_init(ocs);
	m->vpu_np = model_add_node(ocs, &model_vpu_node);
	m->rga_np = model_add_node(ocs, &model_rga_node);
	m->av1_np = model_add_node(ocs, &model_av1_node);
	m->vdec_np = model_add_node(ocs, &model_vdec_node);
	ret = model_apply(ocs, !m->vpu_np || !m->rga_np || !m->av1_np ||
			  !m->vdec_np);
	/* On success the model keeps its references to the nodes. */
	if (ret) {
		of_node_put(m->vpu_np);
		of_node_put(m->rga_np);
		of_node_put(m->av1_np);
		of_node_put(m->vdec_np);
		m->vpu_np = NULL;
		m->rga_np = NULL;
		m->av1_np = NULL;
		m->vdec_np = NULL;
	}
	return ret;
}

/*
 * The platform device of a block's node. Where the root node's devices are
 * populated (x86 with an empty device tree), the OF notifier has made it when
 * the node was attached; elsewhere the model makes it, and destroys it.
 */
static struct platform_device *model_block_device(struct device_node *np,
						  bool *created)
{
	struct platform_device *pdev = of_find_device_by_node(np);

	*created = false;
	if (pdev) {
		put_device(&pdev->dev);
		return pdev;
	}
	*created = true;
	return of_platform_device_create(np, NULL, NULL);
}

static int model_add_providers(struct model *m)
{
	static const char * const clk_names[NUM_CLKS] = {
		"rk3399-model-vpu-aclk", "rk3399-model-vpu-hclk",
		"rk3399-model-rga-aclk", "rk3399-model-rga-hclk",
		"rk3399-model-rga-sclk", "rk3588-model-av1-aclk",
		"rk3588-model-av1-hclk", "rk3399-model-vdec-axi",
		"rk3399-model-vdec-ahb", "rk3399-model-vdec-cabac",
		"rk3399-model-vdec-core",
	};
	static const unsigned long clk_rates[NUM_CLKS] = {
		400000000, 100000000, 400000000, 100000000, 400000000,
		400000000, 400000000, 400000000, 100000000, 300000000,
		300000000,
	};
	int i, ret;

	m->domain = irq_domain_create_linear(of_fwnode_handle(m->np),
					     NUM_BLOCKS, &model_irq_ops, m);
	if (!m->domain)
		return -ENOMEM;

	m->clks = kzalloc(struct_size(m->clks, hws, NUM_CLKS), GFP_KERNEL);
	if (!m->clks)
		return -ENOMEM;
	m->clks->num = NUM_CLKS;
	for (i = 0; i < NUM_CLKS; i++) {
		m->clks->hws[i] = clk_hw_register_fixed_rate(NULL, clk_names[i],
							     NULL, 0,
							     clk_rates[i]);
		if (IS_ERR(m->clks->hws[i])) {
			ret = PTR_ERR(m->clks->hws[i]);
			m->clks->hws[i] = NULL;
			return ret;
		}
	}
	ret = of_clk_add_hw_provider(m->np, of_clk_hw_onecell_get, m->clks);
	if (ret)
		return ret;

	m->rcdev.ops = &model_reset_ops;
	m->rcdev.owner = THIS_MODULE;
	m->rcdev.fwnode = of_fwnode_handle(m->np);
	m->rcdev.nr_resets = NUM_RESETS;
	ret = reset_controller_register(&m->rcdev);
	if (ret) {
		m->rcdev.ops = NULL;
		return ret;
	}

	/* A supplier without a struct device: say it is ready for fw_devlink. */
	fwnode_dev_initialized(of_fwnode_handle(m->np), true);
	return 0;
}

static void model_remove_providers(struct model *m)
{
	unsigned int virq;
	int i;

	if (m->rcdev.ops)
		reset_controller_unregister(&m->rcdev);
	if (m->clks) {
		of_clk_del_provider(m->np);
		for (i = 0; i < NUM_CLKS; i++)
			if (m->clks->hws[i])
				clk_hw_unregister_fixed_rate(m->clks->hws[i]);
		kfree(m->clks);
	}
	if (m->domain) {
		for (i = 0; i < NUM_BLOCKS; i++) {
			virq = irq_find_mapping(m->domain, i);
			if (virq)
				irq_dispose_mapping(virq);
		}
		irq_domain_remove(m->domain);
	}
}

#ifdef CONFIG_DYNAMIC_FTRACE
static void model_isr_hook(unsigned long ip, unsigned long parent_ip,
			   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct model *m = container_of(op, struct model, isr_ops);

	WRITE_ONCE(m->isr_calls, m->isr_calls + 1);
	if (READ_ONCE(m->block[BLOCK_RGA].in_reset))
		WRITE_ONCE(m->isr_in_reset, m->isr_in_reset + 1);
}

static void model_isr_unhook(struct model *m)
{
	if (m->isr_hooked)
		unregister_ftrace_function(&m->isr_ops);
	ftrace_free_filter(&m->isr_ops);
	m->isr_hooked = false;
}

/*
 * Hook the handler of the rockchip-rga that is loaded now: a module loaded
 * later is not hooked until the next write.
 */
static int model_isr_hook_set(void *data, u64 val)
{
	static unsigned char name[] = "rga_handle_irq";
	struct model *m = data;
	int ret = 0;

	mutex_lock(&m->isr_lock);
	model_isr_unhook(m);
	if (val) {
		m->isr_ops.func = model_isr_hook;
		ret = ftrace_set_filter(&m->isr_ops, name, strlen(name), 1);
		if (!ret)
			ret = register_ftrace_function(&m->isr_ops);
		if (ret)
			ftrace_free_filter(&m->isr_ops);
		else
			m->isr_hooked = true;
	}
	mutex_unlock(&m->isr_lock);
	return ret;
}
#else
static void model_isr_unhook(struct model *m) { }
static int model_isr_hook_set(void *data, u64 val)
{
	return val ? -EOPNOTSUPP : 0;
}
#endif

static int model_isr_hook_get(void *data, u64 *val)
{
	struct model *m = data;

	*val = READ_ONCE(m->isr_hooked);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(model_isr_hook_fops, model_isr_hook_get,
			 model_isr_hook_set, "%llu\n");

static void model_add_debugfs(struct model *m)
{
	struct dentry *dir;
	int i;

	m->debugfs = debugfs_create_dir("vb2-resv-rk3399-model", NULL);
	for (i = 0; i < NUM_BLOCKS; i++) {
		struct model_block *b = &m->block[i];

		dir = debugfs_create_dir(b->name, m->debugfs);
		debugfs_create_u32("mode", 0644, dir, &b->mode);
		debugfs_create_u32("latency_ms", 0644, dir, &b->latency_ms);
		debugfs_create_u8("pattern", 0644, dir, &b->pattern);
		debugfs_create_u32("jobs", 0444, dir, &b->jobs);
		debugfs_create_u32("errors", 0444, dir, &b->errors);
		debugfs_create_u32("hangs", 0444, dir, &b->hangs);
		debugfs_create_u32("resets", 0444, dir, &b->resets);
		debugfs_create_u32("bad_addr", 0444, dir, &b->bad_addr);
		debugfs_create_u32("runaway_ms", 0644, dir, &b->runaway_ms);
		debugfs_create_u32("late_writes", 0444, dir, &b->late_writes);
		debugfs_create_bool("busy", 0444, dir, &b->busy);
		if (i != BLOCK_RGA)
			continue;
		debugfs_create_u32("irq_at_reset", 0644, dir, &b->irq_at_reset);
		debugfs_create_u32("irqs_at_reset", 0444, dir, &b->irqs_at_reset);
		debugfs_create_file_unsafe("isr_hook", 0644, dir, m,
					   &model_isr_hook_fops);
		debugfs_create_u32("isr_calls", 0444, dir, &m->isr_calls);
		debugfs_create_u32("isr_in_reset", 0444, dir, &m->isr_in_reset);
	}
}

static void model_destroy(struct model *m)
{
	int i;

	if (m->vdec_created && m->vdec_pdev)
		of_platform_device_destroy(&m->vdec_pdev->dev, NULL);
	if (m->av1_created && m->av1_pdev)
		of_platform_device_destroy(&m->av1_pdev->dev, NULL);
	if (m->rga_created && m->rga_pdev)
		of_platform_device_destroy(&m->rga_pdev->dev, NULL);
	if (m->vpu_created && m->vpu_pdev)
		of_platform_device_destroy(&m->vpu_pdev->dev, NULL);
	/* Detaching the nodes unbinds the drivers and removes the devices. */
	if (m->vpu_np) {
		of_changeset_revert(&m->ocs_blocks);
		of_changeset_destroy(&m->ocs_blocks);
		of_node_put(m->vpu_np);
		of_node_put(m->rga_np);
		of_node_put(m->av1_np);
		of_node_put(m->vdec_np);
	}
	if (m->thread)
		kthread_stop(m->thread);
	for (i = 0; i < NUM_BLOCKS; i++)
		irq_work_sync(&m->block[i].irq_work);
	debugfs_remove_recursive(m->debugfs);
	mutex_lock(&m->isr_lock);
	model_isr_unhook(m);
	mutex_unlock(&m->isr_lock);
	model_remove_providers(m);
	if (m->np) {
		of_changeset_revert(&m->ocs_model);
		of_changeset_destroy(&m->ocs_model);
		of_node_put(m->np);
	}
	if (m->base)
		iounmap(m->base);
	kfree(m);
}

static bool model_real_hardware(void)
{
	static const char * const compatibles[] = {
		"rockchip,rk3399-vpu", "rockchip,rk3399-rga",
		"rockchip,rk3588-av1-vpu", "rockchip,rk3399-vdec",
	};
	struct device_node *np;
	int i;

	if (of_machine_is_compatible("rockchip,rk3399") ||
	    of_machine_is_compatible("rockchip,rk3588"))
		return true;
	for (i = 0; i < ARRAY_SIZE(compatibles); i++) {
		np = of_find_compatible_node(NULL, NULL, compatibles[i]);
		of_node_put(np);
		if (np)
			return true;
	}
	return false;
}

static int __init model_init(void)
{
	static const char * const names[NUM_BLOCKS] = {
		"vepu", "vdpu", "rga", "av1", "rkvdec",
	};
	static const unsigned int offsets[NUM_BLOCKS] = {
		/* the VDPU's register offsets include its 0x400 */
		MODEL_VPU_OFFSET, MODEL_VPU_OFFSET, MODEL_RGA_OFFSET,
		MODEL_AV1_OFFSET, MODEL_VDEC_OFFSET,
	};
	struct model *m;
	int i, ret;

	if (!regs) {
		pr_err("vb2-resv-rk3399-model: a test fixture, loaded only on request: keep 128 KiB from the kernel (memmap=128K$<addr> on x86, mem= on arm64) and load with regs=<addr>\n");
		return -EINVAL;
	}
	if (!IS_ALIGNED(regs, SZ_64K)) {
		pr_err("vb2-resv-rk3399-model: regs=%#lx is not 64 KiB aligned\n",
		       regs);
		return -EINVAL;
	}
	if (!of_root) {
		pr_err("vb2-resv-rk3399-model: this kernel has no device-tree root node\n");
		return -ENODEV;
	}
	if (model_real_hardware()) {
		pr_err("vb2-resv-rk3399-model: this machine has a real RK3399 VPU, video decoder or RGA, or RK3588 AV1 decoder: the model does not bind here\n");
		return -EEXIST;
	}
	if (region_intersects(regs, MODEL_SIZE, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("vb2-resv-rk3399-model: regs=%#lx..%#lx is system RAM: keep it from the kernel (memmap=128K$%#lx on x86, mem= on arm64)\n",
		       regs, regs + MODEL_SIZE - 1, regs);
		return -EINVAL;
	}

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	mutex_init(&m->isr_lock);
	m->base = ioremap(regs, MODEL_SIZE);
	if (!m->base) {
		ret = -ENOMEM;
		goto err;
	}
	memset_io(m->base, 0, MODEL_SIZE);
	writel(RGA_VERSION, m->base + MODEL_RGA_OFFSET + RGA_VERSION_INFO);

	for (i = 0; i < NUM_BLOCKS; i++) {
		struct model_block *b = &m->block[i];

		b->model = m;
		b->name = names[i];
		b->regs = m->base + offsets[i];
		b->hwirq = i;
		b->pattern = 0xa5;
		spin_lock_init(&b->lock);
		b->irq_work = IRQ_WORK_INIT_HARD(model_irq_work);
	}

	ret = model_add_provider_node(m);
	if (ret) {
		pr_err("vb2-resv-rk3399-model: cannot add the device-tree nodes: %d\n",
		       ret);
		goto err;
	}
	ret = model_add_providers(m);
	if (ret)
		goto err;
	model_add_debugfs(m);

	m->thread = kthread_run(model_thread, m, "rk3399-model");
	if (IS_ERR(m->thread)) {
		ret = PTR_ERR(m->thread);
		m->thread = NULL;
		goto err;
	}

	ret = model_add_block_nodes(m);
	if (ret) {
		pr_err("vb2-resv-rk3399-model: cannot add the device-tree nodes: %d\n",
		       ret);
		goto err;
	}
	m->vpu_pdev = model_block_device(m->vpu_np, &m->vpu_created);
	m->rga_pdev = model_block_device(m->rga_np, &m->rga_created);
	m->av1_pdev = model_block_device(m->av1_np, &m->av1_created);
	m->vdec_pdev = model_block_device(m->vdec_np, &m->vdec_created);
	if (!m->vpu_pdev || !m->rga_pdev || !m->av1_pdev || !m->vdec_pdev) {
		ret = -ENODEV;
		goto err;
	}

	the_model = m;
	pr_info("vb2-resv-rk3399-model: a TEST FIXTURE models the RK3399 VPU at %#lx, video decoder at %#lx and RGA at %#lx, the RK3588 AV1 decoder at %#lx\n",
		regs + MODEL_VPU_OFFSET, regs + MODEL_VDEC_OFFSET,
		regs + MODEL_RGA_OFFSET, regs + MODEL_AV1_OFFSET);
	return 0;
err:
	model_destroy(m);
	return ret;
}

static void __exit model_exit(void)
{
	model_destroy(the_model);
}

module_init(model_init);
module_exit(model_exit);

MODULE_DESCRIPTION("Test fixture: a register-level RK3399 VPU, video decoder and RGA, and RK3588 AV1 decoder, for hantro-vpu, rockchip-vdec and rockchip-rga in a VM");
MODULE_LICENSE("GPL");
