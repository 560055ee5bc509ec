/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/digest.c: the NVMe/TCP header and data digest, CRC-32C seeded
 * with ~0 and inverted, stored little-endian (NVMe/TCP 1.0 3.6.1.1-2),
 * against known answers and a bitwise reference implementation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include "t_pdu_util.h"

static uint8_t buf[70000];

static void test_known_answers(void **state)
{
	uint8_t wire[4];

	(void)state;
	/* The CRC-32C check value (RFC 3720 B.4 / every CRC catalogue). */
	assert_int_equal(tcp_digest("123456789", 9), 0xe3069283);
	/* The ISA-L register before inversion, as STYLE.md 4.5 verified. */
	assert_int_equal(tcp_crc32c(TCP_CRC32C_SEED, "123456789", 9), 0x1cf96d7c);
	assert_int_equal(tcp_digest("Hello world!", 12), 0x7b98e751);
	assert_int_equal(tcp_digest("", 0), 0);
	assert_int_equal(tcp_digest(NULL, 0), 0);

	/* On the wire: little-endian, 83 92 06 E3. */
	tcp_digest_put(wire, tcp_digest("123456789", 9));
	assert_memory_equal(wire, ((const uint8_t[]){0x83, 0x92, 0x06, 0xe3}), 4);
	assert_true(tcp_digest_ok(wire, 0xe3069283));
	assert_false(tcp_digest_ok(wire, 0x839206e3));
}

/* RFC 3720 B.4 vectors: 32 bytes of zeros, of ones, incrementing. */
static void test_rfc3720_vectors(void **state)
{
	uint8_t v[32];

	(void)state;
	memset(v, 0, sizeof(v));
	assert_int_equal(tcp_digest(v, 32), 0x8a9136aa);
	memset(v, 0xff, sizeof(v));
	assert_int_equal(tcp_digest(v, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		v[i] = (uint8_t)i;
	assert_int_equal(tcp_digest(v, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		v[i] = (uint8_t)(31 - i);
	assert_int_equal(tcp_digest(v, 32), 0x113fdb5c);
}

/* Short lengths (ISA-L takes different paths) and odd alignments. */
static void test_every_small_length(void **state)
{
	(void)state;
	for (size_t len = 0; len <= 64; len++)
		for (size_t align = 0; align < 8; align++)
			assert_int_equal(tcp_digest(buf + align, len),
					 t_crc32c_ref(buf + align, len));
	for (size_t len = 0; len < 8; len++)
		print_message("# len %zu: %08x\n", len, tcp_digest(buf, len));
}

static void test_large_lengths(void **state)
{
	static const size_t lens[] = {127, 128, 129, 1023, 4096, 4097, 65536, 69999};

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		assert_int_equal(tcp_digest(buf, lens[i]), t_crc32c_ref(buf, lens[i]));
}

/* A chain over pieces equals one call over the whole, at every split. */
static void test_chained(void **state)
{
	(void)state;
	for (size_t split = 0; split <= 300; split++) {
		uint32_t crc = tcp_crc32c(TCP_CRC32C_SEED, buf, split);

		crc = tcp_crc32c(crc, buf + split, 300 - split);
		assert_int_equal(tcp_crc32c_final(crc), tcp_digest(buf, 300));
	}
}

static void test_iov(void **state)
{
	struct iovec iov[5] = {
		{buf, 1}, {buf + 1, 0}, {buf + 1, 4095}, {buf + 4096, 3}, {buf + 4099, 10000},
	};

	(void)state;
	assert_int_equal(tcp_crc32c_final(tcp_crc32c_iov(TCP_CRC32C_SEED, iov, 5)),
			 tcp_digest(buf, 14099));
	assert_int_equal(tcp_crc32c_final(tcp_crc32c_iov(TCP_CRC32C_SEED, iov, 0)), 0);
}

/* The copying CRC: the copy is exact and its CRC is the copy's, at every piece boundary. */
static void test_copy(void **state)
{
	static const size_t lens[] = {0, 1, 63, 4095, 4096, 4097, 8192, 65536, 69000};
	static uint8_t dst[70000];

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t align = 0; align < 3; align++) {
			size_t len = lens[i] - (lens[i] > align ? align : 0);
			uint32_t crc;

			memset(dst, 0xa5, sizeof(dst));
			crc = tcp_crc32c_copy(TCP_CRC32C_SEED, dst + align, buf + 1, len);
			assert_memory_equal(dst + align, buf + 1, len);
			assert_int_equal(dst[align + len], 0xa5);
			if (align > 0)
				assert_int_equal(dst[align - 1], 0xa5);
			assert_int_equal(tcp_crc32c_final(crc), t_crc32c_ref(buf + 1, len));
		}
	}
	/* chained: the register goes on from the seed given */
	assert_int_equal(
		tcp_crc32c_copy(tcp_crc32c(TCP_CRC32C_SEED, buf, 100), dst, buf + 100, 5000),
		tcp_crc32c(TCP_CRC32C_SEED, buf, 5100));
}

/* Data followed by its little-endian digest leaves a constant register. */
static void test_residue(void **state)
{
	uint8_t tmp[1004];

	(void)state;
	for (size_t len = 0; len <= 1000; len += 37) {
		memcpy(tmp, buf, len);
		tcp_digest_put(tmp + len, tcp_digest(tmp, len));
		assert_int_equal(tcp_crc32c(TCP_CRC32C_SEED, tmp, len + 4), TCP_CRC32C_RESIDUE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_rfc3720_vectors),
		cmocka_unit_test(test_every_small_length),
		cmocka_unit_test(test_large_lengths),
		cmocka_unit_test(test_chained),
		cmocka_unit_test(test_iov),
		cmocka_unit_test(test_residue),
		cmocka_unit_test(test_copy),
	};

	t_fill(buf, sizeof(buf), 42);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
