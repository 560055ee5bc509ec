/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Little-endian loads and stores for raw byte buffers (stream bytes, digests,
 * fields the specifications place at unaligned offsets). memcpy keeps them
 * safe at any alignment; the compiler turns each into one move on x86.
 */
#pragma once

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t get_le16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t get_le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t get_le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void put_le16(void *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_le32(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_le64(void *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* 128-bit little-endian counters (SMART log): add a 64-bit amount. */
static inline void add_le128(uint8_t p[16], uint64_t v)
{
	uint64_t lo = get_le64(p), hi = get_le64(p + 8);

	lo += v;
	if (lo < v)
		hi++;
	put_le64(p, lo);
	put_le64(p + 8, hi);
}

/* The low 64 bits of a 128-bit counter, saturated if the high half is set. */
static inline uint64_t get_le128_sat(const uint8_t p[16])
{
	return get_le64(p + 8) ? UINT64_MAX : get_le64(p);
}
