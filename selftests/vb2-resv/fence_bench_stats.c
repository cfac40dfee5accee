// SPDX-License-Identifier: GPL-2.0
/*
 * fence_bench's statistics and files: the median of the values a
 * measurement took, its 95% interval and their spread, as fence_bench's
 * tables print them (a row of the table of pairs here), and the CSV files
 * of -o and -O.
 *
 * The 95% interval of a median is the distribution-free one from order
 * statistics: of n sorted values x(1)..x(n), [x(k), x(n+1-k)] with the
 * largest k such that P(Binomial(n, 1/2) <= k - 1) <= 0.025. Below six
 * values there is none ("n/a"): a short run (-r 2 -R 2) still runs and
 * reports, but its interval is not narrow enough.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence_bench_stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * median_ci_k() - the order statistic of the 95% interval of a median
 * @n: how many values, at most MAX_VALUES
 *
 * Of @n sorted values x(1)..x(n), [x(k), x(n+1-k)] misses the median of
 * the distribution they come from with probability 2 * P(B <= k - 1),
 * B ~ Binomial(n, 1/2), whatever that distribution is. The tail is summed
 * term by term from P(B = 0) = 2^-n, which double holds for n <= 1000.
 *
 * Return: the largest k with P(B <= k - 1) <= 0.025 (coverage of at least
 * 95%), or 0 if even k = 1 misses too often (n < 6).
 */
static int median_ci_k(int n)
{
	double term = 1, tail;
	int i, k = 0;

	for (i = 0; i < n; i++)
		term /= 2;
	tail = term;			/* P(B <= 0) */
	for (i = 0; i < n && tail <= 0.025; i++) {
		k = i + 1;		/* P(B <= k - 1) <= 0.025 */
		term = term * (n - i) / (i + 1);
		tail += term;		/* P(B <= i + 1) */
	}
	return k;
}

void summarise(const double *v, int n, struct summary *s)
{
	double x[MAX_VALUES];
	int k;

	memcpy(x, v, n * sizeof(*x));
	qsort(x, n, sizeof(*x), cmp_double);
	s->n = n;
	s->median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
	s->min = x[0];
	s->max = x[n - 1];
	k = median_ci_k(n);
	s->has_ci = k > 0;
	s->lo = k ? x[k - 1] : 0;
	s->hi = k ? x[n - k] : 0;
}

const char *fmt_ci(char *buf, size_t len, const struct summary *s,
		   int prec, bool sign)
{
	int used;

	if (sign)
		used = snprintf(buf, len, "%+.*f", prec, s->median);
	else
		used = snprintf(buf, len, "%.*f", prec, s->median);
	if (!s->has_ci)
		snprintf(buf + used, len - used, " [n/a]");
	else if (sign)
		snprintf(buf + used, len - used, " [%+.*f, %+.*f]", prec, s->lo,
			 prec, s->hi);
	else
		snprintf(buf + used, len - used, " [%.*f, %.*f]", prec, s->lo,
			 prec, s->hi);
	return buf;
}

void print_pairs_row(const char *what, int n, const struct summary *off,
		     const struct summary *on, const struct summary *ratio,
		     const struct summary *cost, bool narrow)
{
	char b_ratio[64], b_cost[64], b_width[32];

	if (ratio->has_ci)
		snprintf(b_width, sizeof(b_width), "%s (%.3f)",
			 narrow ? "yes" : "no", ratio->hi - ratio->lo);
	else
		snprintf(b_width, sizeof(b_width), "no (n/a)");
	printf("| %s | %d | %.0f (%.0f..%.0f) | %.0f (%.0f..%.0f) | %s | %s | %s |\n",
	       what, n, off->median, off->min, off->max, on->median,
	       on->min, on->max, fmt_ci(b_ratio, sizeof(b_ratio), ratio, 3, false),
	       fmt_ci(b_cost, sizeof(b_cost), cost, 1, true), b_width);
	fflush(stdout);
}

FILE *csv_open(const char *path, const char *header)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "fence_bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fprintf(f, "%s\n", header);
	return f;
}

void csv_close(FILE *f, const char *path)
{
	if (f && fclose(f)) {
		fprintf(stderr, "fence_bench: writing %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
}
