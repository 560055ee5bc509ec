/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmf-perf's latency histogram (tools/perf_hist.c) and verification
 * pattern (tools/perf_pattern.c): quantiles within the bucket error, and
 * a pattern that catches a wrong LBA, a wrong seed, a torn block.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "perf.h"

static struct perf_hist h, h2;

/* Within the log-linear error (1/32 of the value's power of two). */
static void assert_near(uint64_t got, uint64_t want)
{
	uint64_t tol = want / 32 + 1;

	if (got + tol < want || got > want + tol)
		fail_msg("quantile %llu, want %llu +- %llu", (unsigned long long)got,
			 (unsigned long long)want, (unsigned long long)tol);
}

static void test_hist_uniform(void **state)
{
	(void)state;
	memset(&h, 0, sizeof(h));
	for (uint64_t v = 1; v <= 100000; v++)
		hist_add(&h, v * 1000); /* 1 us .. 100 ms */
	assert_int_equal(h.count, 100000);
	assert_int_equal(h.max_ns, 100000000);
	assert_int_equal(h.sum_ns / h.count, 50000500);
	assert_near(hist_quantile(&h, 0.5), 50000000);
	assert_near(hist_quantile(&h, 0.99), 99000000);
	assert_near(hist_quantile(&h, 0.999), 99900000);
	/* Never beyond the largest sample, whatever the bucket's middle. */
	assert_true(hist_quantile(&h, 1.0) <= h.max_ns);
	assert_near(hist_quantile(&h, 1.0), 100000000);
}

static void test_hist_small_and_huge(void **state)
{
	(void)state;
	memset(&h, 0, sizeof(h));
	/* Below 64 ns every value has its own bucket: exact. */
	for (uint64_t v = 0; v < 64; v++)
		hist_add(&h, v);
	assert_int_equal(hist_quantile(&h, 0.5), 31);
	assert_int_equal(hist_quantile(&h, 1.0), 63);
	assert_int_equal(hist_quantile(&h, 0.0), 0);
	/* Beyond the top bucket: counted, max exact. */
	hist_add(&h, UINT64_MAX / 2);
	assert_int_equal(h.max_ns, UINT64_MAX / 2);
	assert_int_equal(hist_quantile(&h, 1.0), UINT64_MAX / 2);
	memset(&h2, 0, sizeof(h2));
	assert_int_equal(hist_quantile(&h2, 0.99), 0); /* empty */
}

static void test_hist_merge(void **state)
{
	(void)state;
	memset(&h, 0, sizeof(h));
	memset(&h2, 0, sizeof(h2));
	for (int i = 0; i < 990; i++)
		hist_add(&h, 10000);
	for (int i = 0; i < 10; i++)
		hist_add(&h2, 5000000);
	hist_merge(&h, &h2);
	assert_int_equal(h.count, 1000);
	assert_int_equal(h.max_ns, 5000000);
	assert_near(hist_quantile(&h, 0.99), 10000);
	assert_near(hist_quantile(&h, 0.995), 5000000);
}

static void test_pattern(void **state)
{
	uint8_t *buf = malloc(8 * 4096);
	uint64_t bad = 0;
	char why[160];

	(void)state;
	assert_non_null(buf);
	pattern_fill(buf, 1000, 8, 4096, 7);
	assert_int_equal(pattern_check(buf, 1000, 8, 4096, 7, &bad, why, sizeof(why)), 0);
	/* Another seed: stale data. */
	assert_int_equal(pattern_check(buf, 1000, 8, 4096, 8, &bad, why, sizeof(why)), -EILSEQ);
	assert_int_equal(bad, 1000);
	assert_non_null(strstr(why, "seed 7, not LBA 1000 seed 8"));
	/* Shifted by a block: misplaced data. */
	assert_int_equal(pattern_check(buf + 4096, 1000, 7, 4096, 7, &bad, why, sizeof(why)),
			 -EILSEQ);
	assert_non_null(strstr(why, "the pattern of LBA 1001"));
	/* One flipped byte in the last block: torn data. */
	buf[7 * 4096 + 3000] ^= 1;
	assert_int_equal(pattern_check(buf, 1000, 8, 4096, 7, &bad, why, sizeof(why)), -EILSEQ);
	assert_int_equal(bad, 1007);
	assert_non_null(strstr(why, "wrong data from byte 3000"));
	/* Zeros: no pattern at all. */
	memset(buf, 0, 512);
	assert_int_equal(pattern_check(buf, 5, 1, 512, 7, &bad, why, sizeof(why)), -EILSEQ);
	assert_non_null(strstr(why, "no nvmf-perf pattern"));
	/* 512-byte blocks: each block stands alone. */
	pattern_fill(buf, 3, 8, 512, 1);
	assert_int_equal(pattern_check(buf + 512, 4, 7, 512, 1, &bad, why, sizeof(why)), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_uniform),
		cmocka_unit_test(test_hist_small_and_huge),
		cmocka_unit_test(test_hist_merge),
		cmocka_unit_test(test_pattern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
