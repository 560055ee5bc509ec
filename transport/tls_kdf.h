/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HKDF family (RFC 5869), HKDF-Expand-Label (RFC 8446 section 7.1) and
 * HMAC, as thin wrappers over OpenSSL 3's EVP_KDF "HKDF" / "TLS13-KDF" and
 * EVP_MAC "HMAC", for the TLS-PSK derivations and the kTLS key export.
 * Nothing is computed here by hand. All return 0 or a negative errno
 * (-EINVAL for lengths the primitive refuses, -ENOMEM / -EIO from OpenSSL).
 * md is an OpenSSL digest name ("SHA256", "SHA384").
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TLS_KDF_MAX_MD 48 /* SHA-384 */

/* PRK = HKDF-Extract(salt = 0 (hash length zeros), ikm); prk gets the hash length. */
int tls_hkdf_extract(const char *md, const uint8_t *ikm, size_t ikm_len, uint8_t *prk);

/* OKM = HKDF-Expand(prk, info, out_len), with the info given byte for byte. */
int tls_hkdf_expand(const char *md, const uint8_t *prk, size_t prk_len, const uint8_t *info,
		    size_t info_len, uint8_t *out, size_t out_len);

/*
 * HKDF-Expand-Label(secret, label, context, out_len) of RFC 8446 7.1: the
 * "tls13 " prefix is added here; label + prefix and context are at most 255
 * bytes each (else -ENAMETOOLONG).
 */
int tls_hkdf_expand_label(const char *md, const uint8_t *secret, size_t secret_len,
			  const char *label, const uint8_t *context, size_t context_len,
			  uint8_t *out, size_t out_len);

/* HMAC-md(key, the concatenation of n pieces) into out (the hash length). */
struct tls_kdf_piece {
	const void *p;
	size_t len;
};
int tls_hmac(const char *md, const uint8_t *key, size_t key_len, const struct tls_kdf_piece *pc,
	     int n, uint8_t *out, size_t *out_len);
