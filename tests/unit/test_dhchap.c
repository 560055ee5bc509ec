/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/dhchap.c: the responses R1 and R2, the augmented challenge, and
 * the Diffie-Hellman exchange in each RFC 7919 group. The expected responses
 * were computed independently with Python 3's hmac and hashlib over the byte
 * layout the Linux host and target hash (C || S le32 || T_ID le16 || SC_C ||
 * label || NQN || 00h || NQN), and are embedded as constants.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "dhchap.h"
#include "dhchap_key.h"
#include "t_hex.h"

#define HOSTNQN	  "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define SUBSYSNQN "nqn.2026-11.org.example:disk0"

/* HMAC-SHA-256(spec example key, HOSTNQN || "NVMe-over-Fabrics"): test_dhchap_key.c. */
static const char tkey_host[] = "b9e21c833ba5dbb60ddf4c29b195ac232cd89302646bfdb848bc5b732c93cee5";

static const char *const r1_want[] = {
	[1] = "ef3092d7b18d15ddc8e49c1f40bc3ba3ec2a1a15c4e236ff05cfdfd6d0582911",
	[2] = "26ddb204aa055cb9100b6f1daf65eb2f3eeb3f6c9c3937011c2d5016cb13a8e1"
	      "d07f90c85cb39c71cc335f62f8fc92f8",
	[3] = "2c1e0effb7fc51d61003e03376dc8c4fd0d5395df19dd36fbf292f553cbfce21"
	      "036d74cf08b55311fe395aa92c027401ab3bfa598d28260b0ecac218ba05a536",
};

static void test_host_response(void **state)
{
	uint8_t tkey[64], chal[64], out[64], want[64];
	struct dhchap_resp_args a = {
		.tkey = tkey,
		.chal = chal,
		.seqnum = 0x12345678,
		.t_id = 0x0102,
		.sc_c = 0,
		.hostnqn = HOSTNQN,
		.subsysnqn = SUBSYSNQN,
	};

	(void)state;
	a.tkey_len = unhex(tkey_host, tkey);
	for (uint8_t h = 1; h <= 3; h++) {
		size_t hl = dhchap_hash_len(h);

		for (size_t i = 0; i < hl; i++)
			chal[i] = (uint8_t)i;
		a.hashid = h;
		assert_int_equal(dhchap_host_response(&a, out), 0);
		assert_int_equal(unhex(r1_want[h], want), hl);
		assert_memory_equal(out, want, hl);
		/* Every input is in it: the sequence number, the T_ID, SC_C. */
		a.seqnum++;
		assert_int_equal(dhchap_host_response(&a, out), 0);
		assert_memory_not_equal(out, want, hl);
		a.seqnum--;
		a.sc_c = 1;
		assert_int_equal(dhchap_host_response(&a, out), 0);
		assert_memory_not_equal(out, want, hl);
		a.sc_c = 0;
	}
	a.hashid = 4;
	assert_int_equal(dhchap_host_response(&a, out), -EINVAL);
}

/* The controller's key: 64 bytes 40h..7Fh, hh 03, transformed with the subsystem NQN. */
static const char *const r2_want[] = {
	[1] = "38d421d5d3be2305b769419531154140c398857a7b194478740ad19eb48500fc",
	[2] = "ae5494a8d784c17e41decbcc8e35049f29182f4900426b3aa9a07e38222f0531"
	      "201a46e088853bff3e693098168203cb",
	[3] = "0fe487fb15723bbfb5348b42df1b7412e31e5ccf7948862d5625e15af9df018e"
	      "46132bfa599084d69aae6ce1a44814f5a94f02b08ca87ed82ad00afe41bfb917",
};

static void test_ctrl_response(void **state)
{
	struct dhchap_key k = {.hash = NVMF_DHCHAP_HASH_SHA512, .len = 64};
	uint8_t tkey[64], chal[64], out[64], want[64];
	struct dhchap_resp_args a = {
		.tkey = tkey,
		.chal = chal,
		.seqnum = 0x9abcdef0,
		.t_id = 0x0102,
		.hostnqn = HOSTNQN,
		.subsysnqn = SUBSYSNQN,
	};

	(void)state;
	for (int i = 0; i < 64; i++)
		k.key[i] = (uint8_t)(0x40 + i);
	assert_int_equal(dhchap_key_transform(&k, SUBSYSNQN, tkey, &a.tkey_len), 0);
	assert_int_equal(a.tkey_len, 64);
	for (uint8_t h = 1; h <= 3; h++) {
		size_t hl = dhchap_hash_len(h);

		for (size_t i = 0; i < hl; i++)
			chal[i] = (uint8_t)(0xa0 + i);
		a.hashid = h;
		assert_int_equal(dhchap_ctrl_response(&a, out), 0);
		assert_int_equal(unhex(r2_want[h], want), hl);
		assert_memory_equal(out, want, hl);
		/* Not the host's response over the same values. */
		assert_int_equal(dhchap_host_response(&a, out), 0);
		assert_memory_not_equal(out, want, hl);
	}
}

/* Ca = HMAC(H(secret), C), secret = (i * 7) mod 256 for 256 bytes, C = 00h, 01h, ... */
static void test_augmented_challenge(void **state)
{
	static const char *const want_hex[] = {
		[1] = "29ab665a8d2bf5f38c59aaf56d5b249ec4348eefe05d0a54f5ba9b77a7e12343",
		[2] = "1b3a51c9c4c69cdcd666bf8bea4508929ee328ddf6a53f9fe2e5175312c54b40"
		      "d05e0b064c9ef7b540f7f1bcbadd2ed0",
		[3] = "aeda195034085a42aabff942982aeb384f8d2c32b877daeb710dc19209ad0a0c"
		      "281c77ca0bdc0e65e351dec2d14c6b9401c6d1f160db53c9d4f5e4f541cb22a0",
	};
	uint8_t secret[256], chal[64], out[64], want[64];

	(void)state;
	for (int i = 0; i < 256; i++)
		secret[i] = (uint8_t)(i * 7);
	for (int i = 0; i < 64; i++)
		chal[i] = (uint8_t)i;
	for (uint8_t h = 1; h <= 3; h++) {
		size_t hl = dhchap_hash_len(h);

		assert_int_equal(dhchap_augmented_challenge(h, secret, sizeof(secret), chal, out),
				 0);
		assert_int_equal(unhex(want_hex[h], want), hl);
		assert_memory_equal(out, want, hl);
		assert_int_equal(dhchap_response_challenge(h, secret, sizeof(secret), chal, out),
				 0);
		assert_memory_equal(out, want, hl);
		/* Without a DH group, the challenge is used as it is. */
		assert_int_equal(dhchap_response_challenge(h, NULL, 0, chal, out), 0);
		assert_memory_equal(out, chal, hl);
	}
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(dhchap_equal("abcd", "abcd", 4));
	assert_false(dhchap_equal("abcd", "abce", 4));
}

/* Two key pairs in one group agree on a secret of the group's size. */
static void agree(uint8_t dhgid)
{
	static uint8_t pa[1024], pb[1024], sa[1024], sb[1024];
	size_t n = dhchap_dhgroup_len(dhgid);
	struct dhchap_dh *a, *b;

	assert_int_equal(dhchap_dh_generate(dhgid, &a), 0);
	assert_int_equal(dhchap_dh_generate(dhgid, &b), 0);
	assert_int_equal(dhchap_dh_public(a, pa, n), 0);
	assert_int_equal(dhchap_dh_public(b, pb, n), 0);
	assert_memory_not_equal(pa, pb, n);
	assert_int_equal(dhchap_dh_derive(a, pb, n, sa), 0);
	assert_int_equal(dhchap_dh_derive(b, pa, n, sb), 0);
	assert_memory_equal(sa, sb, n);
	/* A public value of another size is refused. */
	assert_int_equal(dhchap_dh_public(a, pa, n - 1), -EINVAL);
	assert_int_equal(dhchap_dh_derive(a, pb, n + 1, sa), -EINVAL);
	dhchap_dh_free(a);
	dhchap_dh_free(b);
}

static void test_dh_groups(void **state)
{
	(void)state;
	/* ffdhe8192 is the slow one: one agreement only, like the others. */
	for (uint8_t g = NVMF_DHCHAP_DHGROUP_FFDHE2048; g <= NVMF_DHCHAP_DHGROUP_FFDHE8192; g++)
		agree(g);
	struct dhchap_dh *dh;

	assert_int_equal(dhchap_dh_generate(NVMF_DHCHAP_DHGROUP_NULL, &dh), -EINVAL);
	assert_null(dh);
	assert_int_equal(dhchap_dh_generate(6, &dh), -EINVAL);
	dhchap_dh_free(NULL);
}

/* The ffdhe2048 prime, from OpenSSL's own copy of RFC 7919. */
static BIGNUM *ffdhe2048_p(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "ffdhe2048", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *pk = NULL;
	BIGNUM *p = NULL;

	assert_non_null(ctx);
	assert_true(EVP_PKEY_paramgen_init(ctx) > 0);
	assert_true(EVP_PKEY_CTX_set_params(ctx, params) > 0);
	assert_true(EVP_PKEY_generate(ctx, &pk) > 0);
	assert_true(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_FFC_P, &p));
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	return p;
}

static void test_dh_bad_peer(void **state)
{
	uint8_t y[256], secret[256];
	struct dhchap_dh *dh;
	BIGNUM *p = ffdhe2048_p(), *v = BN_new();

	(void)state;
	assert_int_equal(dhchap_dh_generate(NVMF_DHCHAP_DHGROUP_FFDHE2048, &dh), 0);
	/* 0, 1, p - 1, p, p + 1, p - 2 (not in the prime-order subgroup), all ones. */
	static const struct {
		int word; /* BN_set_word value, or -1 for p-relative */
		int p_delta;
	} cases[] = {{0, 0}, {1, 0}, {-1, -1}, {-1, 0}, {-1, 1}, {-1, -2}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].word >= 0) {
			BN_set_word(v, (BN_ULONG)cases[i].word);
		} else {
			BN_copy(v, p);
			if (cases[i].p_delta < 0)
				BN_sub_word(v, (BN_ULONG)-cases[i].p_delta);
			else
				BN_add_word(v, (BN_ULONG)cases[i].p_delta);
		}
		assert_int_equal(BN_bn2binpad(v, y, sizeof(y)), sizeof(y));
		assert_int_equal(dhchap_dh_derive(dh, y, sizeof(y), secret), -EBADMSG);
	}
	memset(y, 0xff, sizeof(y));
	assert_int_equal(dhchap_dh_derive(dh, y, sizeof(y), secret), -EBADMSG);
	/* 2 = g is a valid, if silly, public value. */
	BN_set_word(v, 2);
	BN_bn2binpad(v, y, sizeof(y));
	assert_int_equal(dhchap_dh_derive(dh, y, sizeof(y), secret), 0);
	dhchap_dh_free(dh);
	BN_free(v);
	BN_free(p);
}

static void test_random_seqnum(void **state)
{
	uint32_t s;

	(void)state;
	for (int i = 0; i < 64; i++) {
		assert_int_equal(dhchap_random_seqnum(&s), 0);
		assert_int_not_equal(s, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_response),	    cmocka_unit_test(test_ctrl_response),
		cmocka_unit_test(test_augmented_challenge), cmocka_unit_test(test_equal),
		cmocka_unit_test(test_dh_groups),	    cmocka_unit_test(test_dh_bad_peer),
		cmocka_unit_test(test_random_seqnum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
