/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmf-perf's verification pattern (perf.h). Block layout, little-endian
 * 64-bit words: word 0 the LBA, word 1 a magic with the seed, every other
 * word a mix of LBA, seed and word index, so a block that moved (wrong
 * LBA), went stale (other seed) or got torn is told apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "perf.h"

#define PATTERN_MAGIC (0x4e564d46ull << 32) /* "NVMF" above the seed */

static uint64_t mix(uint64_t lba, uint32_t seed, uint64_t i)
{
	uint64_t x = lba * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed) ^ (i << 48 | i);

	x ^= x >> 29;
	return x;
}

static void fill_block(uint8_t *b, uint64_t lba, uint32_t lbs, uint32_t seed)
{
	put_le64(b, lba);
	put_le64(b + 8, PATTERN_MAGIC | seed);
	for (uint32_t i = 2; i < lbs / 8; i++)
		put_le64(b + 8 * i, mix(lba, seed, i));
}

void pattern_fill(uint8_t *buf, uint64_t slba, uint32_t nblocks, uint32_t lbs, uint32_t seed)
{
	for (uint32_t n = 0; n < nblocks; n++)
		fill_block(buf + (size_t)n * lbs, slba + n, lbs, seed);
}

static void describe(const uint8_t *b, uint64_t lba, uint32_t lbs, uint32_t seed, char *why,
		     size_t size)
{
	uint64_t w0 = get_le64(b), w1 = get_le64(b + 8);
	uint32_t i;

	if ((w1 & ~0xffffffffull) != PATTERN_MAGIC) {
		snprintf(why, size,
			 "no nvmf-perf pattern (first words 0x%016" PRIx64 " 0x%016" PRIx64 ")", w0,
			 w1);
		return;
	}
	if (w0 != lba || (uint32_t)w1 != seed) {
		snprintf(why, size,
			 "the pattern of LBA %" PRIu64 " seed %u, not LBA %" PRIu64 " seed %u", w0,
			 (uint32_t)w1, lba, seed);
		return;
	}
	for (i = 2; i < lbs / 8 && get_le64(b + 8 * i) == mix(lba, seed, i); i++)
		;
	snprintf(why, size, "the right header but wrong data from byte %u", i * 8);
}

int pattern_check(const uint8_t *buf, uint64_t slba, uint32_t nblocks, uint32_t lbs, uint32_t seed,
		  uint64_t *bad_lba, char *why, size_t why_size)
{
	for (uint32_t n = 0; n < nblocks; n++) {
		const uint8_t *b = buf + (size_t)n * lbs;
		uint64_t lba = slba + n;
		bool good = get_le64(b) == lba && get_le64(b + 8) == (PATTERN_MAGIC | seed);

		for (uint32_t i = 2; good && i < lbs / 8; i++)
			good = get_le64(b + 8 * i) == mix(lba, seed, i);
		if (!good) {
			*bad_lba = lba;
			describe(b, lba, lbs, seed, why, why_size);
			return -EILSEQ;
		}
	}
	return 0;
}
