/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DHHC-1 secret format and the key transformation (NVMe Base
 * Specification 2.0, 8.13.5.8).
 *
 * The CRC-32 comes from ISA-L, which libnvmf already links for the CRC-32C
 * digests: crc32_gzip_refl() is zlib's crc32() (reflected polynomial
 * 0xEDB88320, inverted in and out), so zlib need not become a dependency
 * for four bytes of checksum. Base64 is OpenSSL's EVP_EncodeBlock /
 * EVP_DecodeBlock, after a strict check of the alphabet and padding here,
 * since EVP_DecodeBlock skips blanks and does not report padding.
 */
#include "dhchap_key.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "byteorder.h"
#include "dhchap.h"

#define PREFIX		 "DHHC-1:"
#define PREFIX_LEN	 7
#define TRANSFORM_SUFFIX "NVMe-over-Fabrics"

uint32_t dhchap_crc32(const void *buf, size_t len)
{
	return crc32_gzip_refl(0, (unsigned char *)buf, (uint64_t)len);
}

static int valid_key_len(size_t len)
{
	return len == 32 || len == 48 || len == 64;
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/*
 * Decode n base64 characters (a multiple of 4, '=' only as padding at the
 * end) into out. Returns the byte count, or -EINVAL.
 */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	unsigned char tmp[96];
	size_t pad = 0;
	int dec;

	if (n == 0 || n % 4 || n > sizeof(tmp))
		return -EINVAL;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	if (n / 4 * 3 - pad > cap)
		return -EINVAL;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(s[i]))
			return -EINVAL;
	dec = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (dec < 0 || (size_t)dec != n / 4 * 3) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -EINVAL;
	}
	memcpy(out, tmp, (size_t)dec - pad);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return dec - (int)pad;
}

static int fail(struct dhchap_key *k, const char **why, const char *msg, int err)
{
	dhchap_key_wipe(k);
	if (why)
		*why = msg;
	return err;
}

int dhchap_key_parse(const char *s, struct dhchap_key *k, const char **why)
{
	uint8_t raw[64 + 4];
	const char *b64, *end;
	size_t n;
	int len;

	memset(k, 0, sizeof(*k));
	if (strncmp(s, PREFIX, PREFIX_LEN) != 0)
		return fail(k, why, "does not start with \"DHHC-1:\"", -EINVAL);
	s += PREFIX_LEN;
	if (s[0] != '0' || s[1] < '0' || s[1] > '3' || s[2] != ':')
		return fail(k, why, "the hash is not 00, 01, 02 or 03", -EINVAL);
	k->hash = (uint8_t)(s[1] - '0');
	b64 = s + 3;
	end = strchr(b64, ':');
	n = end ? (size_t)(end - b64) : strlen(b64);
	if (end && end[1] != '\0')
		return fail(k, why, "characters after the final ':'", -EINVAL);
	len = b64_decode(b64, n, raw, sizeof(raw));
	if (len < 0)
		return fail(k, why, "the key is not base64", -EINVAL);
	if (len < 4 || !valid_key_len((size_t)len - 4)) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return fail(k, why, "the key is not 32, 48 or 64 bytes", -EINVAL);
	}
	len -= 4;
	if (get_le32(raw + len) != dhchap_crc32(raw, (size_t)len)) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return fail(k, why, "the key's CRC-32 does not match", -EKEYREJECTED);
	}
	k->len = (uint8_t)len;
	memcpy(k->key, raw, (size_t)len);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int dhchap_key_format(const struct dhchap_key *k, char *out, size_t cap)
{
	uint8_t raw[64 + 4];
	char b64[96 + 1];
	int n;

	if (k->hash > NVMF_DHCHAP_HASH_SHA512 || !valid_key_len(k->len))
		return -EINVAL;
	memcpy(raw, k->key, k->len);
	put_le32(raw + k->len, dhchap_crc32(k->key, k->len));
	n = EVP_EncodeBlock((unsigned char *)b64, raw, k->len + 4);
	OPENSSL_cleanse(raw, sizeof(raw));
	if ((size_t)n + PREFIX_LEN + 5 > cap) {
		OPENSSL_cleanse(b64, sizeof(b64));
		return -ENOSPC;
	}
	snprintf(out, cap, PREFIX "%02u:%s:", k->hash, b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	return 0;
}

int dhchap_key_generate(uint8_t hash, size_t len, struct dhchap_key *k)
{
	memset(k, 0, sizeof(*k));
	if (hash > NVMF_DHCHAP_HASH_SHA512 || !valid_key_len(len))
		return -EINVAL;
	if (RAND_bytes(k->key, (int)len) != 1) {
		dhchap_key_wipe(k);
		return -EIO;
	}
	k->hash = hash;
	k->len = (uint8_t)len;
	return 0;
}

int dhchap_key_transform(const struct dhchap_key *k, const char *nqn, uint8_t out[64],
			 size_t *out_len)
{
	const struct iovec iov[] = {
		{(void *)nqn, strlen(nqn)},
		{(void *)TRANSFORM_SUFFIX, strlen(TRANSFORM_SUFFIX)},
	};
	int ret;

	if (!valid_key_len(k->len) || k->hash > NVMF_DHCHAP_HASH_SHA512)
		return -EINVAL;
	if (k->hash == NVMF_DHCHAP_HASH_NONE) {
		memcpy(out, k->key, k->len);
		*out_len = k->len;
		return 0;
	}
	ret = dhchap_hmac(k->hash, k->key, k->len, iov, 2, out);
	if (ret)
		return ret;
	*out_len = dhchap_hash_len(k->hash);
	return 0;
}

void dhchap_key_wipe(struct dhchap_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
