/* SPDX-License-Identifier: BSD-2-Clause */
#include "digest.h"

#include <isa-l/crc.h>
#include <limits.h>
#include <string.h>

#include "byteorder.h"

uint32_t tcp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* crc32_iscsi takes an int length and a non-const pointer. */
	while (len > 0) {
		int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;

		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc;
}

uint32_t tcp_crc32c_iov(uint32_t crc, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		crc = tcp_crc32c(crc, iov[i].iov_base, iov[i].iov_len);
	return crc;
}

/* Small enough to stay in L1 between the copy and the CRC. */
#define COPY_PIECE 4096u

uint32_t tcp_crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (len > 0) {
		size_t n = len < COPY_PIECE ? len : COPY_PIECE;

		memcpy(d, s, n);
		crc = tcp_crc32c(crc, d, n);
		d += n;
		s += n;
		len -= n;
	}
	return crc;
}

void tcp_digest_put(void *wire, uint32_t digest)
{
	put_le32(wire, digest);
}

bool tcp_digest_ok(const void *wire, uint32_t digest)
{
	return get_le32(wire) == digest;
}
