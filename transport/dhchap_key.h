/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DH-HMAC-CHAP secrets in their interchange format (NVMe Base Specification
 * 2.0, 8.13.5.8 "Secret representation"), as nvme-cli's gen-dhchap-key
 * writes them and the Linux host and target read them:
 *
 *	DHHC-1:hh:<base64 of key || CRC-32(key), little-endian>:
 *
 * hh names the hash of the key transformation (00 none, 01 SHA-256, 02
 * SHA-384, 03 SHA-512); the key is 32, 48 or 64 bytes, whatever hh is; the
 * CRC is zlib's CRC-32 (IEEE 802.3, reflected, inverted in and out).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "auth_spec.h"

/* "DHHC-1:03:" + 92 base64 characters (68 bytes) + ":" + NUL. */
#define DHCHAP_KEY_STR_MAX 104

struct dhchap_key {
	uint8_t hash; /* hh: NVMF_DHCHAP_HASH_NONE or the transformation's hash */
	uint8_t len;  /* 32, 48 or 64 */
	uint8_t key[64];
};

/*
 * Parse a secret. The final ':' may be left out (the Linux kernel does not
 * require it); nothing may follow it. Returns 0, -EINVAL for anything not of
 * the form above (*why, if not NULL, names the problem), or -EKEYREJECTED if
 * the CRC does not match the key. *k is wiped on failure.
 */
int dhchap_key_parse(const char *s, struct dhchap_key *k, const char **why);

/* Write k as "DHHC-1:hh:...:" (NUL-terminated). 0, -EINVAL (bad hash or length), -ENOSPC. */
int dhchap_key_format(const struct dhchap_key *k, char *out, size_t cap);

/* A random key (OpenSSL's RAND_bytes). 0, -EINVAL (hash or len), -EIO (no randomness). */
int dhchap_key_generate(uint8_t hash, size_t len, struct dhchap_key *k);

/*
 * The transformed key the responses are keyed with (8.13.5.8, as the Linux
 * kernel's nvme_auth_transform_key()): HMAC-hh(key, nqn || "NVMe-over-Fabrics")
 * when hh is not 0, else the key itself. nqn is the NQN of the key's owner
 * (the host NQN for the host's key, the subsystem NQN for the controller's).
 * out holds 64 bytes; *out_len gets the length. 0, -EINVAL, -EIO (OpenSSL).
 */
int dhchap_key_transform(const struct dhchap_key *k, const char *nqn, uint8_t out[64],
			 size_t *out_len);

/* Erase a key (OPENSSL_cleanse, which the compiler may not drop). */
void dhchap_key_wipe(struct dhchap_key *k);

/* zlib's crc32(0, buf, len), the secret's checksum. */
uint32_t dhchap_crc32(const void *buf, size_t len);
