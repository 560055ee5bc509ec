/* SPDX-License-Identifier: BSD-2-Clause */
/* nvmf-perf's latency histogram (perf.h): log-linear buckets, no allocation. */
#include <math.h>

#include "perf.h"

static unsigned int bucket_of(uint64_t ns)
{
	unsigned int k, idx;

	if (ns < HIST_LINEAR)
		return (unsigned int)ns;
	k = 63u - (unsigned int)__builtin_clzll(ns); /* >= HIST_SUB_BITS + 1 */
	if (k >= HIST_MAX_LOG2)
		return HIST_BUCKETS - 1;
	idx = HIST_LINEAR + (k - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS) +
	      (unsigned int)((ns >> (k - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1));
	return idx;
}

/* The middle of a bucket's range. */
static uint64_t bucket_value(unsigned int idx)
{
	unsigned int k, sub;
	uint64_t lo, width;

	if (idx < HIST_LINEAR)
		return idx;
	k = (idx - HIST_LINEAR) / (1u << HIST_SUB_BITS) + HIST_SUB_BITS + 1;
	sub = (idx - HIST_LINEAR) % (1u << HIST_SUB_BITS);
	width = 1ull << (k - HIST_SUB_BITS);
	lo = (1ull << k) + sub * width;
	return lo + width / 2;
}

void hist_add(struct perf_hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->bucket[bucket_of(ns)]++;
}

void hist_merge(struct perf_hist *into, const struct perf_hist *from)
{
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
}

uint64_t hist_quantile(const struct perf_hist *h, double q)
{
	uint64_t rank, seen = 0, v;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			/* The last bucket holds everything above its range too. */
			if (i == HIST_BUCKETS - 1)
				return h->max_ns;
			v = bucket_value(i);
			/* The middle of the last bucket may lie beyond the largest sample. */
			return v > h->max_ns ? h->max_ns : v;
		}
	}
	return h->max_ns;
}
