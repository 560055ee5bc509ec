/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe/TCP header and data digests: CRC32C (Castagnoli) seeded with
 * 0xFFFFFFFF, inverted at the end, stored little-endian on the wire.
 * ISA-L's crc32_iscsi() computes the raw register (no inversion in or
 * out), so a chain is: crc = TCP_CRC32C_SEED; crc = tcp_crc32c(crc, ...)*;
 * digest = tcp_crc32c_final(crc).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TCP_CRC32C_SEED 0xffffffffu
/* CRC register after running data || its little-endian digest (a one-pass check). */
#define TCP_CRC32C_RESIDUE 0xb798b438u

uint32_t tcp_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t tcp_crc32c_iov(uint32_t crc, const struct iovec *iov, int iovcnt);
/*
 * memcpy(dst, src, len) and tcp_crc32c(crc, dst, len) in one pass: a piece
 * at a time, each piece's CRC read while it is still in the L1 cache. The
 * CRC is of what was written to dst, whatever src holds by then.
 */
uint32_t tcp_crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len);

static inline uint32_t tcp_crc32c_final(uint32_t crc)
{
	return ~crc;
}

/* The digest of one buffer. */
static inline uint32_t tcp_digest(const void *buf, size_t len)
{
	return tcp_crc32c_final(tcp_crc32c(TCP_CRC32C_SEED, buf, len));
}

/* Store / check a digest at its place in a byte stream. */
void tcp_digest_put(void *wire, uint32_t digest);
bool tcp_digest_ok(const void *wire, uint32_t digest);
