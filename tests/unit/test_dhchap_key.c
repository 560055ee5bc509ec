/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/dhchap_key.c: the DHHC-1 secret format and the key
 * transformation. The expected values were computed independently with
 * Python 3's base64, zlib.crc32 and hmac/hashlib (the transformation of the
 * specification's example secret also with `openssl dgst -sha256 -mac HMAC`)
 * and are embedded here as constants.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dhchap_key.h"
#include "t_hex.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"

/* The example secret of NVMe Base 2.0 8.13.5.8 (also in the Linux kernel's history). */
#define SPEC_SECRET "ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n"

static void test_crc32(void **state)
{
	(void)state;
	/* The CRC-32 check value: zlib.crc32(b"123456789"). */
	assert_int_equal(dhchap_crc32("123456789", 9), 0xcbf43926);
	assert_int_equal(dhchap_crc32("", 0), 0);
}

static void test_parse_spec_example(void **state)
{
	uint8_t want[32];
	struct dhchap_key k;
	const char *why = NULL;

	(void)state;
	unhex("89aeb31a874eaf84841b46736b0dfdf2ba58d30aa2a545a3e235a3521e07594c", want);
	for (int hh = 0; hh <= 3; hh++) {
		char s[DHCHAP_KEY_STR_MAX];

		snprintf(s, sizeof(s), "DHHC-1:%02d:" SPEC_SECRET ":", hh);
		assert_int_equal(dhchap_key_parse(s, &k, &why), 0);
		assert_int_equal(k.hash, hh);
		assert_int_equal(k.len, 32);
		assert_memory_equal(k.key, want, 32);
	}
	/* The kernel takes it without the final colon; so do we. */
	assert_int_equal(dhchap_key_parse("DHHC-1:01:" SPEC_SECRET, &k, &why), 0);
	assert_int_equal(k.len, 32);
}

/* Keys of 48 and 64 bytes, formatted by Python (base64 of key || crc32 LE). */
static const struct {
	const char *s;
	uint8_t hash;
	uint8_t len;
	uint8_t first;
} formatted[] = {
	{"DHHC-1:02:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:", 2,
	 48, 0x00},
	{"DHHC-1:03:"
	 "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fx/"
	 "Gj1o=:",
	 3, 64, 0x40},
	/* Test keys of nvme-cli / blktests: 32 and 64 bytes. */
	{"DHHC-1:00:MWPqcx1Ug1debg8fPIGpkqbQhLcYUt39k7UWirkblaKEH1kE:", 0, 32, 0x31},
	{"DHHC-1:00:ojmm6ISA2DBpZEldEJqJvA1/"
	 "cAl1wDmeolS0fCIn2qZpK0b7gpx3qu76yHpjlOOXNyjqf0oFYCWxUqkXGN2xEBOVxoA=:",
	 0, 64, 0xa2},
};

static void test_parse_and_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(formatted) / sizeof(formatted[0]); i++) {
		struct dhchap_key k;
		char out[DHCHAP_KEY_STR_MAX];

		assert_int_equal(dhchap_key_parse(formatted[i].s, &k, NULL), 0);
		assert_int_equal(k.hash, formatted[i].hash);
		assert_int_equal(k.len, formatted[i].len);
		assert_int_equal(k.key[0], formatted[i].first);
		if (formatted[i].first == 0x00 || formatted[i].first == 0x40)
			for (int j = 0; j < k.len; j++)
				assert_int_equal(k.key[j], formatted[i].first + j);
		assert_int_equal(dhchap_key_format(&k, out, sizeof(out)), 0);
		assert_string_equal(out, formatted[i].s);
		assert_int_equal(dhchap_key_format(&k, out, strlen(formatted[i].s)), -ENOSPC);
	}
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *s;
		int err;
	} bad[] = {
		/* blktests' "invalid ctrl key": its CRC does not match. */
		{"DHHC-1:00:Jc/My1o0qtLCWRp+sHhAVafdfaS7YQOMYhk9zSmlatobqB8C:", -EKEYREJECTED},
		/* One key bit flipped in the specification's example. */
		{"DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2m:", -EKEYREJECTED},
		{"DHHC-1:04:" SPEC_SECRET ":", -EINVAL}, /* unknown hash */
		{"DHHC-1:1:" SPEC_SECRET ":", -EINVAL},	 /* one digit */
		{"DHHC-1:0x:" SPEC_SECRET ":", -EINVAL},
		{"DHHC-2:00:" SPEC_SECRET ":", -EINVAL}, /* version */
		{"dhhc-1:00:" SPEC_SECRET ":", -EINVAL},
		{"DHHC-1:00:" SPEC_SECRET "::", -EINVAL}, /* after the colon */
		{"DHHC-1:00:" SPEC_SECRET ": ", -EINVAL},
		{"DHHC-1:00::", -EINVAL}, /* empty */
		{"DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2:",
		 -EINVAL}, /* 47 chars */
		{"DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n"
		 "AAAA:",
		 -EINVAL},
		{"DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ*n:",
		 -EINVAL}, /* alphabet */
		{"DHHC-1:00:ia6zGodOr4SEG0Zzaw39=rpY0wqipUWj4jWjUh4HWUz6aQ2n:",
		 -EINVAL}, /* '=' inside */
		/* 16-byte key + CRC: base64 of 20 bytes, a valid CRC, a wrong length. */
		{"DHHC-1:00:AAECAwQFBgcICQoLDA0OD4jizs4=:", -EINVAL},
		{"", -EINVAL},
	};
	struct dhchap_key k;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		memset(&k, 0xa5, sizeof(k));
		assert_int_equal(dhchap_key_parse(bad[i].s, &k, &why), bad[i].err);
		assert_non_null(why);
		/* Nothing of a rejected key is left behind. */
		for (size_t j = 0; j < sizeof(k.key); j++)
			assert_int_equal(k.key[j], 0);
	}
}

static void test_transform(void **state)
{
	static const char *const want[] = {
		[1] = "b9e21c833ba5dbb60ddf4c29b195ac232cd89302646bfdb848bc5b732c93cee5",
		[2] = "6da795652a95e8ef6a71dcdeae480f6f0c99c659e18222685d91c43fbbab0572"
		      "69a9d2b760f0fd87a008530fdc235349",
		[3] = "b627b6d227367cf5f07907f593993b24bfaeb80d6bdaf43de8e315c9f6fb5955"
		      "538b88edc89c5973041a9d2f2ab251dbf1f109097fce176cf48bfffac75fdcb5",
	};
	uint8_t out[64], exp[64];
	struct dhchap_key k;
	size_t n;

	(void)state;
	for (int hh = 0; hh <= 3; hh++) {
		char s[DHCHAP_KEY_STR_MAX];

		snprintf(s, sizeof(s), "DHHC-1:%02d:" SPEC_SECRET ":", hh);
		assert_int_equal(dhchap_key_parse(s, &k, NULL), 0);
		assert_int_equal(dhchap_key_transform(&k, HOSTNQN, out, &n), 0);
		if (hh == 0) {
			/* hh 00: the key as it is. */
			assert_int_equal(n, 32);
			assert_memory_equal(out, k.key, 32);
			continue;
		}
		/* Any key length with any hash: the output is the hash's length. */
		assert_int_equal(n, unhex(want[hh], exp));
		assert_memory_equal(out, exp, n);
	}
	k.len = 40;
	assert_int_equal(dhchap_key_transform(&k, HOSTNQN, out, &n), -EINVAL);
}

static void test_generate(void **state)
{
	struct dhchap_key a, b;
	char s[DHCHAP_KEY_STR_MAX];

	(void)state;
	assert_int_equal(dhchap_key_generate(NVMF_DHCHAP_HASH_SHA384, 48, &a), 0);
	assert_int_equal(dhchap_key_format(&a, s, sizeof(s)), 0);
	assert_int_equal(strncmp(s, "DHHC-1:02:", 10), 0);
	assert_int_equal(dhchap_key_parse(s, &b, NULL), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(dhchap_key_generate(4, 32, &a), -EINVAL);
	assert_int_equal(dhchap_key_generate(1, 33, &a), -EINVAL);
	dhchap_key_wipe(&b);
	for (size_t i = 0; i < sizeof(b); i++)
		assert_int_equal(((uint8_t *)&b)[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_parse_spec_example),
		cmocka_unit_test(test_parse_and_format),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_transform),
		cmocka_unit_test(test_generate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
