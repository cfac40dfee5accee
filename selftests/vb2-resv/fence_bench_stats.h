/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fence_bench's statistics and CSV files (fence_bench_stats.c).
 */
#ifndef FENCE_BENCH_STATS_H
#define FENCE_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MAX_VALUES	1000	/* the most one summary sorts */

/* The median of some values, its 95% interval and their spread. */
struct summary {
	int n;
	double median;
	double lo, hi;		/* the interval, if has_ci */
	bool has_ci;
	double min, max;
};

/* Summarise @n values (1..MAX_VALUES) of @v, which stay in their order. */
void summarise(const double *v, int n, struct summary *s);

/* "0.987 [0.975, 0.996]", or "0.987 [n/a]" without an interval. */
const char *fmt_ci(char *buf, size_t len, const struct summary *s, int prec, bool sign);

/*
 * One row of the table of pairs (fences off and on): @what, the @n pairs,
 * jobs/s each way (median and spread), the ratio on/off and the
 * microseconds fences add to a job (medians of the pairs, with their
 * intervals), and whether the ratio's interval got @narrow enough.
 */
void print_pairs_row(const char *what, int n, const struct summary *off,
		     const struct summary *on, const struct summary *ratio,
		     const struct summary *cost, bool narrow);

/* Open @path for writing and write its CSV @header; exit on failure. */
FILE *csv_open(const char *path, const char *header);
/* Close CSV file @f of @path, if open; exit if it could not be written. */
void csv_close(FILE *f, const char *path);

#endif /* FENCE_BENCH_STATS_H */
