/* SPDX-License-Identifier: BSD-2-Clause */
#include "tls_kdf.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* Run one EVP_KDF with the given parameters. */
static int kdf_run(const char *name, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
	EVP_KDF_CTX *ctx;
	int ret = 0;

	if (kdf == NULL)
		return -ENOSYS;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_KDF_derive(ctx, out, out_len, params) <= 0)
		ret = -EINVAL;
	EVP_KDF_CTX_free(ctx);
	return ret;
}

int tls_hkdf_extract(const char *md, const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
	EVP_MD *m = EVP_MD_fetch(NULL, md, NULL);
	int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
	OSSL_PARAM p[4];
	int len;

	if (m == NULL)
		return -EINVAL;
	len = EVP_MD_get_size(m);
	EVP_MD_free(m);
	/*
	 * No salt: RFC 5869 2.2 then uses HashLen zeros, which as an HMAC key
	 * is the same as the empty one OpenSSL passes.
	 */
	p[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	p[3] = OSSL_PARAM_construct_end();
	return kdf_run(OSSL_KDF_NAME_HKDF, p, prk, (size_t)len);
}

int tls_hkdf_expand(const char *md, const uint8_t *prk, size_t prk_len, const uint8_t *info,
		    size_t info_len, uint8_t *out, size_t out_len)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[5];

	p[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, prk_len);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	p[4] = OSSL_PARAM_construct_end();
	return kdf_run(OSSL_KDF_NAME_HKDF, p, out, out_len);
}

int tls_hkdf_expand_label(const char *md, const uint8_t *secret, size_t secret_len,
			  const char *label, const uint8_t *context, size_t context_len,
			  uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	size_t label_len = strlen(label);
	OSSL_PARAM p[8], *q = p;

	/* HkdfLabel: opaque label<7..255>, opaque context<0..255> (RFC 8446 7.1). */
	if (sizeof(prefix) - 1 + label_len > 255 || context_len > 255)
		return -ENAMETOOLONG;
	if (out_len > 0xffff)
		return -EINVAL;
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix,
						 sizeof(prefix) - 1);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, label_len);
	if (context_len > 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)context,
							 context_len);
	*q = OSSL_PARAM_construct_end();
	return kdf_run(OSSL_KDF_NAME_TLS1_3_KDF, p, out, out_len);
}

int tls_hmac(const char *md, const uint8_t *key, size_t key_len, const struct tls_kdf_piece *pc,
	     int n, uint8_t *out, size_t *out_len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	OSSL_PARAM p[2];
	EVP_MAC_CTX *ctx;
	int ret = -EIO;

	if (mac == NULL)
		return -ENOSYS;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (ctx == NULL)
		return -ENOMEM;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, key_len, p) <= 0)
		goto out;
	for (int i = 0; i < n; i++)
		if (EVP_MAC_update(ctx, pc[i].p, pc[i].len) <= 0)
			goto out;
	if (EVP_MAC_final(ctx, out, out_len, TLS_KDF_MAX_MD) <= 0)
		goto out;
	ret = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return ret;
}
