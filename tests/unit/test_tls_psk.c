/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/tls_psk.c and tls_kdf.c: the NVMe/TCP PSK interchange format,
 * the retained / TLS PSK derivations, the PSK digest and identities.
 *
 * Known answers and where they come from:
 *  - RFC 5869 appendix A.1 and A.3 (HKDF) and RFC 8448 section 3 (the
 *    handshake key / IV of the simple 1-RTT trace: HKDF-Expand-Label);
 *  - linux-nvme/libnvme test/psk.c: the interchange strings for hh 00 / 01
 *    / 02 and the NVMe1 identities (digests) of its test key, both as
 *    libnvme >= 1.16 derives them (RFC 8446) and as its "compat" mode
 *    (libnvme <= 1.15, so nvme-cli 2.13) does;
 *  - the TLS PSKs (kdf_table): libnvme's tests stop at the identity, so
 *    these were computed with python3's hmac / hashlib implementing HKDF
 *    (RFC 5869) and the three HkdfLabel forms of enum tls_psk_kdf; the same
 *    script reproduces every libnvme value above. The LAST_INFO rows follow
 *    the behaviour openssl#23448 describes (only the last info piece kept);
 *    no such OpenSSL was at hand to observe it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tls_kdf.h"
#include "tls_psk.h"
#include "t_hex.h"

#define assert_hex_equal(buf, hex)                   \
	do {                                         \
		uint8_t want_[128];                  \
		size_t n_ = unhex(hex, want_);       \
		assert_memory_equal(buf, want_, n_); \
	} while (0)

/* libnvme test/psk.c's configured key; the 48-byte one repeats bytes 16..31 */
static const uint8_t key32[32] = {
	0x55, 0x12, 0xDB, 0xB6, 0x73, 0x7D, 0x01, 0x06, 0xF6, 0x59, 0x75,
	0xB7, 0x73, 0xDF, 0xB0, 0x11, 0xFF, 0xC3, 0x44, 0xBC, 0xF4, 0x42,
	0xE2, 0xDD, 0x6D, 0x8B, 0xC4, 0x87, 0x0B, 0x5D, 0x5B, 0x03,
};
static const char host[] = "nqn.psk-test-host";
static const char subsys[] = "nqn.psk-test-subsys";

static struct tls_psk_key make_key(enum tls_psk_hash hh, size_t len)
{
	struct tls_psk_key k = {.len = len, .hash = hh};

	memcpy(k.key, key32, 32);
	if (len == 48)
		memcpy(k.key + 32, key32 + 16, 16);
	return k;
}

static void test_hkdf_rfc5869(void **state)
{
	uint8_t ikm[22], prk[32], okm[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	/* A.3: no salt, no info */
	assert_int_equal(tls_hkdf_extract("SHA256", ikm, 22, prk), 0);
	assert_hex_equal(prk, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
	assert_int_equal(tls_hkdf_expand("SHA256", prk, 32, NULL, 0, okm, 42), 0);
	assert_hex_equal(okm, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
			      "9d201395faa4b61a96c8");
	/* A.1: expand from its PRK with info f0..f9 */
	unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", prk);
	assert_int_equal(
		tls_hkdf_expand("SHA256", prk, 32,
				(const uint8_t *)"\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9", 10,
				okm, 42),
		0);
	assert_hex_equal(okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			      "34007208d5b887185865");
}

static void test_expand_label_rfc8448(void **state)
{
	uint8_t secret[32], key[16], iv[12];

	(void)state;
	/* RFC 8448 3: server handshake traffic secret -> write key / IV */
	unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", secret);
	assert_int_equal(tls_hkdf_expand_label("SHA256", secret, 32, "key", NULL, 0, key, 16), 0);
	assert_hex_equal(key, "3fce516009c21727d0f2e4e86ee403bc");
	assert_int_equal(tls_hkdf_expand_label("SHA256", secret, 32, "iv", NULL, 0, iv, 12), 0);
	assert_hex_equal(iv, "5d313eb2671276ee13000b30");
}

static const struct {
	enum tls_psk_hash hh;
	size_t len;
	const char *s;
} interchange[] = {
	{0, 32, "NVMeTLSkey-1:00:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"},
	{1, 32, "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"},
	{2, 48,
	 "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsD"
	 "n8kXZQ==:"},
};

static void test_interchange_known_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(interchange) / sizeof(interchange[0]); i++) {
		struct tls_psk_key want = make_key(interchange[i].hh, interchange[i].len), k;
		char buf[TLS_PSK_INTERCHANGE_MAX + 1];
		const char *why = "unset";

		assert_int_equal(tls_psk_parse(interchange[i].s, &k, &why), 0);
		assert_null(why);
		assert_int_equal(k.hash, want.hash);
		assert_int_equal(k.len, want.len);
		assert_memory_equal(k.key, want.key, k.len);
		assert_int_equal(tls_psk_format(&k, buf, sizeof(buf)),
				 (int)strlen(interchange[i].s));
		assert_string_equal(buf, interchange[i].s);
		assert_int_equal(tls_psk_format(&k, buf, strlen(interchange[i].s)), -ENOSPC);
	}
}

static void expect_parse_error(const char *s, const char *why_part)
{
	struct tls_psk_key k;
	const char *why = NULL;

	assert_int_equal(tls_psk_parse(s, &k, &why), -EINVAL);
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("'%s': reason '%s' lacks '%s'", s, why, why_part);
	for (size_t i = 0; i < sizeof(k.key); i++)
		assert_int_equal(k.key[i], 0);
}

static void test_interchange_errors(void **state)
{
	(void)state;
	expect_parse_error("NVMeTLSkey-2:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
			   "NVMeTLSkey-1");
	expect_parse_error("DHHC-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
			   "NVMeTLSkey-1");
	expect_parse_error("NVMeTLSkey-1:03:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
			   "unknown hash");
	expect_parse_error("NVMeTLSkey-1:1:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
			   "two digits");
	expect_parse_error("NVMeTLSkey-1:0a:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
			   "two digits");
	/* a 48-byte key claiming SHA-256, a 32-byte one claiming SHA-384 */
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W"
			   "2LxIcLXVsDn8kXZQ==:",
			   "must be 32 bytes");
	expect_parse_error("NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
			   "must be 48 bytes");
	/* 20 bytes + CRC */
	expect_parse_error("NVMeTLSkey-1:00:VRLbtnN9AQb2WXW3c9+wEf/DRLwAAAAA:", "not 32 or 48");
	/* one key bit flipped: CRC mismatch */
	expect_parse_error("NVMeTLSkey-1:01:WRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
			   "CRC");
	/* the CRC itself altered */
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrY:",
			   "CRC");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ",
			   "end with ':'");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:x",
			   "end with ':'");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9Lr*:",
			   "base64");
	expect_parse_error("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9Lr:",
			   "base64");
	expect_parse_error("NVMeTLSkey-1:01::", "base64");
	expect_parse_error("", "NVMeTLSkey-1");
}

/* libnvme test/psk.c: test_data_identity (>= 1.16) and _compat (<= 1.15) */
static void test_identity_libnvme(void **state)
{
	static const struct {
		enum tls_psk_kdf kdf;
		enum tls_psk_hash hh;
		size_t len;
		const char *identity;
	} t[] = {
		{TLS_PSK_KDF_RFC8446, 1, 32,
		 "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys "
		 "iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU="},
		{TLS_PSK_KDF_RFC8446, 2, 48,
		 "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys "
		 "QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a"},
		{TLS_PSK_KDF_LIBNVME_COMPAT, 1, 32,
		 "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys "
		 "66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM="},
		{TLS_PSK_KDF_LIBNVME_COMPAT, 2, 48,
		 "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys "
		 "RsKmYJ3nAn1ApjjMloJFbAkLPivONDAX/xW327YBUsn2eGShXSjCZvBaOxscLqmz"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tls_psk_key k = make_key(t[i].hh, t[i].len);
		char id[TLS_PSK_IDENTITY_MAX + 1];
		uint8_t psk[TLS_PSK_MAX_LEN];

		assert_int_equal(
			tls_psk_host_derive(&k, host, subsys, 1, t[i].kdf, id, sizeof(id), psk), 0);
		assert_string_equal(id, t[i].identity);
	}
	/* NVMe0: no digest (SPDK's test_nvmf_tcp_tls_generate_psk_id form) */
	{
		struct tls_psk_key k = make_key(1, 32);
		char id[TLS_PSK_IDENTITY_MAX + 1];
		uint8_t psk[TLS_PSK_MAX_LEN];

		assert_int_equal(tls_psk_host_derive(&k, "nqn.2016-06.io.spdk:host1",
						     "nqn.2016-06.io.spdk:cnode1", 0,
						     TLS_PSK_KDF_RFC8446, id, sizeof(id), psk),
				 0);
		assert_string_equal(id, "NVMe0R01 nqn.2016-06.io.spdk:host1 "
					"nqn.2016-06.io.spdk:cnode1");
	}
}

static const struct {
	enum tls_psk_kdf kdf;
	enum tls_psk_hash hh;
	size_t len;
	unsigned version;
	const char *psk;
} kdf_table[] = {
	{TLS_PSK_KDF_RFC8446, 1, 32, 0,
	 "05c6503551ad136e6ee32e6eeb3f6d500b69701d84ec71e328f65c7f51566f68"},
	{TLS_PSK_KDF_RFC8446, 1, 32, 1,
	 "8fc3c0badfd4c0c66fa3ca33aadd0314f85536cc9bc47338b60f3e6e563786ca"},
	{TLS_PSK_KDF_RFC8446, 2, 48, 0,
	 "f42ba63824cdfe421914c582921f85b5b5b7e2d4df084caeedc9be20b212e8bb0fe8a23e9d59a1c8fc6449da4"
	 "970a78d"},
	{TLS_PSK_KDF_RFC8446, 2, 48, 1,
	 "a2b2f943f479fc682555cec89857c80ed004ce92f32a973d5764155bb7e36b17a85368a0666d250afac9282dd"
	 "a2e62ca"},
	{TLS_PSK_KDF_RFC8446, 0, 32, 0,
	 "ec85300ba827726bd3bc4fc07f3a34aec5fe7c8ccac05fefc2f021c74e0df9ef"},
	{TLS_PSK_KDF_RFC8446, 0, 32, 1,
	 "a45d08ee4639c7570729bb3e57e905e466a49a15ece5401af906830c4d3bdb0b"},
	{TLS_PSK_KDF_RFC8446, 0, 48, 0,
	 "b5dd464067a9378ba2226d71f005d7ac90ed8696e4b2142084384365597201d33ba26f8aeeb529574d4267bd2"
	 "94a828e"},
	{TLS_PSK_KDF_RFC8446, 0, 48, 1,
	 "1569317890995e207ab4cf148bc53470561e148030cb019b1d87fb4bc5794a791ed5ee68676c952ce5f11f378"
	 "6e900d4"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 1, 32, 0,
	 "09fb1983ac6d6d0353e7cae4f23daddd651c367fa347c59d9cf6936f5a83eafb"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 1, 32, 1,
	 "b9f5ab2a41ba6e72a23a12066302a2f775fa6c0942c8e0b18ca8ac07edf305e2"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 2, 48, 0,
	 "2ee4754186a625b28a3936ef4a40d839c3ad958b2e017562ee07e2501f172ce999dc9c29033ea7ee33f814f19"
	 "2c13f47"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 2, 48, 1,
	 "fcefe2e2a2e682b1447dcabf1ec268f78f08c63cd075753abcc8bda2c5c34d48d3014aa8d76ad80107e4f5c9f"
	 "27e2149"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 0, 32, 0,
	 "e2b16189378b34adba9fec995ab479040cedec0bc7c6b47728ee4d8de6ff52ba"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 0, 32, 1,
	 "d50f6d3dd79345b6e8217744524df5ac0dc66964ff70cc5fd18e1b9d57ce7fcf"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 0, 48, 0,
	 "9cb989c1d40fdcdc1bb729d6691901bfcd0b310f060f558d4a63c7afc2a0923f2d0610073fded349d25d6b3f9"
	 "1980826"},
	{TLS_PSK_KDF_LIBNVME_COMPAT, 0, 48, 1,
	 "f6259eaeaab509d2e42bc494098bd1ccc4334b2528a1a34ea95fbe27e3fa75e3422d260a299110afa42170521"
	 "b02d689"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 1, 32, 0,
	 "c45ffd126b73c01299c932a315772290f626038b92ca2ff01248de7807a160d8"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 1, 32, 1,
	 "1d822f4a3b1f3da94354bc23c899a5dc8c1db901d0e0604ec1ac5fb9476b4e80"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 2, 48, 0,
	 "10a715cf116ba0c3068b2ba7278e7678bebdcc77fcb4c0b7b509dea46395881d6f90f408517c2c69e4f771f04"
	 "f0fbcd1"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 2, 48, 1,
	 "f5887cac40cafd177fdd53039d179a125800103f922e3d99e5847231b98b023cd663a97f717d05326e3933255"
	 "db96100"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 0, 32, 0,
	 "16d719d9e86368c51e623a88159962afe3800c91fe3ba77f63cbac5cc46c5d07"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 0, 32, 1,
	 "90782cc416c103d0bbd411d047219868fc293264dfd94907b40234e85ef7e869"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 0, 48, 0,
	 "3c1a1b15addeb902ac3c0e68633aa9326843fb0777ceb1fd65c5174ada0cd7e0513548473934d42d18344d6bc"
	 "d7b72b8"},
	{TLS_PSK_KDF_LIBNVME_LAST_INFO, 0, 48, 1,
	 "2f833d9a6ebdbaaef41bddd792a5e6fb03cf7c840692e7031e9bd33f46a457168476dfdbb04fd3cccafc27414"
	 "d61370b"},
};

static void test_tls_psk_known_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kdf_table) / sizeof(kdf_table[0]); i++) {
		struct tls_psk_key k = make_key(kdf_table[i].hh, kdf_table[i].len);
		char id[TLS_PSK_IDENTITY_MAX + 1];
		uint8_t psk[TLS_PSK_MAX_LEN];

		assert_int_equal(tls_psk_host_derive(&k, host, subsys, kdf_table[i].version,
						     kdf_table[i].kdf, id, sizeof(id), psk),
				 0);
		assert_hex_equal(psk, kdf_table[i].psk);
	}
}

static void expect_identity(const char *s, int ret, const char *why_part)
{
	struct tls_psk_identity id;
	const char *why = NULL;

	assert_int_equal(tls_psk_identity_parse(s, strlen(s), &id, &why), ret);
	if (ret == 0) {
		assert_null(why);
		return;
	}
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("'%s': reason '%s' lacks '%s'", s, why, why_part);
}

static void test_identity_parse(void **state)
{
	const char *d44 = "iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=";
	struct tls_psk_identity id;
	char buf[TLS_PSK_IDENTITY_MAX + 64];

	(void)state;
	snprintf(buf, sizeof(buf), "NVMe1R01 %s %s %s", host, subsys, d44);
	assert_int_equal(tls_psk_identity_parse(buf, strlen(buf), &id, NULL), 0);
	assert_int_equal(id.version, 1);
	assert_false(id.generated);
	assert_int_equal(id.hash, TLS_PSK_HASH_SHA256);
	assert_string_equal(id.hostnqn, host);
	assert_string_equal(id.subnqn, subsys);
	assert_string_equal(id.digest, d44);

	expect_identity("NVMe0R02 nqn.a nqn.b", 0, NULL);
	expect_identity("NVMe0R01 nqn.a nqn.b", 0, NULL);
	expect_identity("NVMe0R03 nqn.a nqn.b", -EINVAL, "neither 01");
	expect_identity("NVMe0R00 nqn.a nqn.b", -EINVAL, "neither 01");
	expect_identity("NVMe0X01 nqn.a nqn.b", -EINVAL, "not an NVMe PSK identity");
	expect_identity("nvme0R01 nqn.a nqn.b", -EINVAL, "not an NVMe PSK identity");
	expect_identity("NVMe0R01nqn.a nqn.b", -EINVAL, "not an NVMe PSK identity");
	expect_identity("NVMe0R01 nqn.a", -EINVAL, "lacks");
	expect_identity("NVMe0R01 nqn.a  nqn.b", -EINVAL, "lacks");
	expect_identity("NVMe0R01 nqn.a nqn.b ", -EINVAL, "more than two");
	expect_identity("NVMe0R01 nqn.a nqn.b extra", -EINVAL, "more than two");
	expect_identity("NVMe1R01 nqn.a nqn.b", -EINVAL, "digest");
	expect_identity("NVMe1R02 nqn.a nqn.b iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=",
			-EINVAL, "digest of the hash's length");
	snprintf(buf, sizeof(buf), "NVMe1R01 nqn.a nqn.b %s x", d44);
	expect_identity(buf, -EINVAL, "trailing");
	expect_identity("NVMe0G01 nqn.a nqn.b", -EOPNOTSUPP, "generated");
	expect_identity("NVMe2R01 nqn.a nqn.b", -EOPNOTSUPP, "version");
	expect_identity("NVMe", -EINVAL, "too short");
	/* an embedded NUL: TLS identities carry a length, C strings do not */
	assert_int_equal(tls_psk_identity_parse("NVMe0R01 nqn.a\0nqn.b", 20, &id, NULL), -EINVAL);
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	memcpy(buf, "NVMe0R01 ", 9);
	expect_identity(buf, -EINVAL, "too long");
}

/* A key store of one host for tls_psk_resolve() */
struct store {
	const char *hostnqn;
	struct tls_psk_key key;
	enum tls_psk_kdf kdf;
	int calls;
};

static int store_lookup(void *arg, const char *hostnqn, const char *subnqn, struct tls_psk_key *key,
			enum tls_psk_kdf *kdf)
{
	struct store *st = arg;

	st->calls++;
	if (strcmp(hostnqn, st->hostnqn) != 0)
		return -ENOKEY;
	*key = st->key;
	*kdf = st->kdf;
	return 0;
}

static void test_resolve(void **state)
{
	struct store st = {.hostnqn = host};
	struct tls_psk_resolved r;
	char id[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN];
	const char *why;

	(void)state;
	/* Every derivation and version a host may use resolves to its PSK. */
	for (size_t i = 0; i < sizeof(kdf_table) / sizeof(kdf_table[0]); i++) {
		struct tls_psk_key k = make_key(kdf_table[i].hh, kdf_table[i].len);

		assert_int_equal(tls_psk_host_derive(&k, host, subsys, kdf_table[i].version,
						     kdf_table[i].kdf, id, sizeof(id), psk),
				 0);
		st.key = k;
		/*
		 * What the identity cannot tell comes from the store (NVMe0,
		 * and NVMe1 with hh 00); NVMe1 with hh 01/02 is detected
		 * from the digest whatever the store says.
		 */
		st.kdf = (kdf_table[i].version == 1 && kdf_table[i].hh != 0) ? TLS_PSK_KDF_RFC8446
									     : kdf_table[i].kdf;
		why = "unset";
		assert_int_equal(tls_psk_resolve(id, strlen(id), store_lookup, &st, &r, &why), 0);
		assert_null(why);
		assert_int_equal(r.len, kdf_table[i].len);
		assert_memory_equal(r.psk, psk, r.len);
		if (kdf_table[i].version == 1 && kdf_table[i].hh != 0)
			assert_int_equal(r.kdf, kdf_table[i].kdf);
		assert_string_equal(r.id.subnqn, subsys);
		tls_psk_resolved_clear(&r);
	}

	st.key = make_key(1, 32);
	st.kdf = TLS_PSK_KDF_RFC8446;
	/* unknown host */
	snprintf(id, sizeof(id), "NVMe0R01 nqn.other-host %s", subsys);
	assert_int_equal(tls_psk_resolve(id, strlen(id), store_lookup, &st, &r, &why), -ENOKEY);
	assert_non_null(strstr(why, "no PSK"));
	assert_string_equal(r.id.hostnqn, "nqn.other-host");
	/* a SHA-384 identity for a SHA-256 key */
	snprintf(id, sizeof(id), "NVMe0R02 %s %s", host, subsys);
	assert_int_equal(tls_psk_resolve(id, strlen(id), store_lookup, &st, &r, &why),
			 -EKEYREJECTED);
	assert_non_null(strstr(why, "hash"));
	/* a digest made with another key */
	snprintf(id, sizeof(id), "NVMe1R01 %s %s %s", host, subsys,
		 "quJVUJjp/BImWR0UQay/MjSfEgyAr6TyBOWybS/B404=");
	assert_int_equal(tls_psk_resolve(id, strlen(id), store_lookup, &st, &r, &why),
			 -EKEYREJECTED);
	assert_non_null(strstr(why, "digest"));
	for (size_t i = 0; i < sizeof(r.psk); i++)
		assert_int_equal(r.psk[i], 0);
	/* malformed: the store is not even asked */
	st.calls = 0;
	assert_int_equal(tls_psk_resolve("NVMe0R01 x", 10, store_lookup, &st, &r, &why), -EINVAL);
	assert_int_equal(st.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869),
		cmocka_unit_test(test_expand_label_rfc8448),
		cmocka_unit_test(test_interchange_known_answers),
		cmocka_unit_test(test_interchange_errors),
		cmocka_unit_test(test_identity_libnvme),
		cmocka_unit_test(test_tls_psk_known_answers),
		cmocka_unit_test(test_identity_parse),
		cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
