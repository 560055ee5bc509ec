/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * From a TLS 1.3 traffic secret to the AEAD key and IV (RFC 8446 7.3), and
 * from those to Linux kernel TLS's crypto_info (Documentation/networking/
 * tls.rst: for TLS 1.3 the kernel forms the nonce as (salt || iv) XOR the
 * record sequence number, so salt and iv are the 12-byte static IV split
 * 4 + 8, and rec_seq is the next sequence number, big-endian).
 */
#include "tls_ktls.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tls_kdf.h"

int tls_traffic_keys_derive(enum tls_cipher cipher, const uint8_t *secret, size_t secret_len,
			    uint64_t seq, struct tls_traffic_keys *k)
{
	const char *md;
	int ret;

	memset(k, 0, sizeof(*k));
	switch (cipher) {
	case TLS_CIPHER_AES_128_GCM_SHA256:
		md = "SHA256";
		k->key_len = 16;
		break;
	case TLS_CIPHER_AES_256_GCM_SHA384:
		md = "SHA384";
		k->key_len = 32;
		break;
	case TLS_CIPHER_CHACHA20_POLY1305_SHA256: /* user-space records only (tls_record.c) */
		md = "SHA256";
		k->key_len = 32;
		break;
	default:
		return -EINVAL;
	}
	/* [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length) */
	ret = tls_hkdf_expand_label(md, secret, secret_len, "key", NULL, 0, k->key, k->key_len);
	/* [sender]_write_iv = HKDF-Expand-Label(Secret, "iv", "", iv_length) */
	if (ret == 0)
		ret = tls_hkdf_expand_label(md, secret, secret_len, "iv", NULL, 0, k->iv,
					    sizeof(k->iv));
	if (ret) {
		tls_traffic_keys_clear(k);
		return ret;
	}
	k->cipher = cipher;
	k->seq = seq;
	return 0;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int tls_traffic_keys_to_ktls(const struct tls_traffic_keys *k, union tls_ktls_crypto_info *out,
			     size_t *len)
{
	memset(out, 0, sizeof(*out));
	switch (k->cipher) {
	case TLS_CIPHER_AES_128_GCM_SHA256:
		out->aes128.info.version = TLS_1_3_VERSION;
		out->aes128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
		memcpy(out->aes128.salt, k->iv, TLS_CIPHER_AES_GCM_128_SALT_SIZE);
		memcpy(out->aes128.iv, k->iv + TLS_CIPHER_AES_GCM_128_SALT_SIZE,
		       TLS_CIPHER_AES_GCM_128_IV_SIZE);
		memcpy(out->aes128.key, k->key, TLS_CIPHER_AES_GCM_128_KEY_SIZE);
		put_be64(out->aes128.rec_seq, k->seq);
		*len = sizeof(out->aes128);
		return 0;
	case TLS_CIPHER_AES_256_GCM_SHA384:
		out->aes256.info.version = TLS_1_3_VERSION;
		out->aes256.info.cipher_type = TLS_CIPHER_AES_GCM_256;
		memcpy(out->aes256.salt, k->iv, TLS_CIPHER_AES_GCM_256_SALT_SIZE);
		memcpy(out->aes256.iv, k->iv + TLS_CIPHER_AES_GCM_256_SALT_SIZE,
		       TLS_CIPHER_AES_GCM_256_IV_SIZE);
		memcpy(out->aes256.key, k->key, TLS_CIPHER_AES_GCM_256_KEY_SIZE);
		put_be64(out->aes256.rec_seq, k->seq);
		*len = sizeof(out->aes256);
		return 0;
	default:
		return -EINVAL;
	}
}

void tls_traffic_keys_clear(struct tls_traffic_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
