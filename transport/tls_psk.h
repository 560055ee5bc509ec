/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe/TCP pre-shared keys for TLS 1.3 (NVMe/TCP Transport Specification
 * 1.1 section 3.6.1, from TP 8011 and TP 8018): the PSK interchange format,
 * the retained PSK, the PSK digest, the TLS PSK and the PSK identities.
 * Pure computation on OpenSSL 3 (EVP_KDF, EVP_MAC); no I/O, thread-safe.
 *
 * The chain, for a configured PSK of 32 or 48 bytes:
 *   retained = HKDF-Expand-Label(HKDF-Extract(0, configured), "HostNQN",
 *                                hostnqn, len)          (hh 00: configured)
 *   digest   = Base64(HMAC(retained, hostnqn " " subnqn " NVMe-over-Fabrics"))
 *   identity = "NVMe0R0<h> <hostnqn> <subnqn>"
 *           or "NVMe1R0<h> <hostnqn> <subnqn> <digest>"
 *   TLS PSK  = HKDF-Expand-Label(HKDF-Extract(0, retained), "nvme-tls-psk",
 *                                context, len)
 * where the context is the whole identity for NVMe0 and "0<h> <digest>" for
 * NVMe1, and <h> is 1 (SHA-256, TLS_AES_128_GCM_SHA256) for 32-byte keys,
 * 2 (SHA-384, TLS_AES_256_GCM_SHA384) for 48-byte ones.
 *
 * Not every host computes HKDF-Expand-Label as RFC 8446 section 7.1 says:
 * see enum tls_psk_kdf.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_PSK_MAX_LEN 48 /* SHA-384 */
/* Base64 of a SHA-384 HMAC: 64 characters (SHA-256: 44, padded). */
#define TLS_PSK_DIGEST_MAX 64
/* "NVMeTLSkey-1:02:" + Base64(48 + 4 bytes) + ":" */
#define TLS_PSK_INTERCHANGE_MAX (16 + 72 + 1)
/* "NVMe1R02 " + two 223-byte NQNs + 2 spaces + a 64-character digest */
#define TLS_PSK_IDENTITY_MAX (9 + 223 + 1 + 223 + 1 + TLS_PSK_DIGEST_MAX)

/*
 * The hh field of the interchange format (the hash that turns the configured
 * PSK into the retained PSK) and the <h> of an identity (the hash of the
 * cipher suite). The numbers are the wire values.
 */
enum tls_psk_hash {
	TLS_PSK_HASH_NONE = 0,	 /* hh only: the configured PSK is the retained PSK */
	TLS_PSK_HASH_SHA256 = 1, /* 32-byte keys, TLS_AES_128_GCM_SHA256 */
	TLS_PSK_HASH_SHA384 = 2, /* 48-byte keys, TLS_AES_256_GCM_SHA384 */
};

/*
 * How a host computes HKDF-Expand-Label for the retained and the TLS PSK.
 * The specification means RFC 8446 section 7.1 (the HkdfLabel structure:
 * 16-bit big-endian length, then "tls13 " + label and the context, each with
 * a length byte). libnvme up to 1.15 (so nvme-cli up to 2.15, including the
 * 2.13 that goes with Linux 6.12) built the info with several
 * EVP_PKEY_CTX_add1_hkdf_info() calls: length in host byte order, no length
 * bytes, and "%02d " before the digest. What that produced depends on the
 * OpenSSL it ran on, which before 3.0.14 / 3.1.6 / 3.2.2 / 3.3.1 kept only
 * the last add1 (openssl#23448). libnvme 1.16 / nvme-cli 2.16 derive per
 * RFC 8446 and keep the old way behind --compat (libnvme PR #1040).
 * SPDK and the Linux kernel's own derivation follow RFC 8446.
 */
enum tls_psk_kdf {
	/* RFC 8446 HkdfLabel: SPDK, libnvme >= 1.16, nvme-cli >= 2.16 */
	TLS_PSK_KDF_RFC8446 = 0,
	/* le16(L) || "tls13 " label || [0<h> ' '] context, without length
	 * bytes: libnvme <= 1.15 on OpenSSL with a working add1 (libnvme
	 * 1.16's "compat", nvme-cli --compat) */
	TLS_PSK_KDF_LIBNVME_COMPAT = 1,
	/* only the last piece (hostnqn, the identity, or the digest): libnvme
	 * <= 1.15 on OpenSSL 3 before the add1_hkdf_info fix */
	TLS_PSK_KDF_LIBNVME_LAST_INFO = 2,
};
#define TLS_PSK_KDF_COUNT 3

/* A configured PSK as the interchange format carries it. */
struct tls_psk_key {
	uint8_t key[TLS_PSK_MAX_LEN];
	size_t len;		/* 32 or 48 */
	enum tls_psk_hash hash; /* hh: retained-PSK transform */
};

/* A parsed PSK identity (NVMe/TCP 1.1 section 3.6.1.3). */
struct tls_psk_identity {
	unsigned version;	/* 0: no digest, 1: with digest */
	bool generated;		/* 'G' (from DH-HMAC-CHAP) rather than 'R' */
	enum tls_psk_hash hash; /* SHA256 or SHA384 */
	char hostnqn[224];
	char subnqn[224];
	char digest[TLS_PSK_DIGEST_MAX + 1]; /* version 1 only, else "" */
};

/* 32 for SHA256, 48 for SHA384, 0 otherwise. */
size_t tls_psk_hash_len(enum tls_psk_hash h);

/*
 * The cipher-suite hash a configured key belongs to: its hh, or for hh 00
 * the one its length implies.
 */
enum tls_psk_hash tls_psk_key_cipher_hash(const struct tls_psk_key *k);

/*
 * Parse "NVMeTLSkey-1:hh:<base64(key || le32 CRC-32)>:". Returns 0, or
 * -EINVAL with *why (if not NULL) naming the problem: the prefix, hh, the
 * base64, the key length (32 for hh 01, 48 for hh 02, either for hh 00) or
 * the CRC. Nothing secret is left on the stack.
 */
int tls_psk_parse(const char *s, struct tls_psk_key *k, const char **why);

/*
 * Format k in the interchange format into buf (size bytes, with the NUL).
 * Returns the length, -EINVAL for a bad key, -ENOSPC if size is too small.
 */
int tls_psk_format(const struct tls_psk_key *k, char *buf, size_t size);

/*
 * The retained PSK (k->len bytes into out): the configured key itself for
 * hh 00, else derived with "HostNQN" and hostnqn as kdf computes it.
 * Returns 0 or a negative errno.
 */
int tls_psk_retained(const struct tls_psk_key *k, const char *hostnqn, enum tls_psk_kdf kdf,
		     uint8_t *out);

/*
 * The PSK digest of an NVMe1 identity: Base64 of HMAC-<hash>(retained,
 * hostnqn " " subnqn " NVMe-over-Fabrics"), NUL-terminated into out.
 * len must be the hash length. Returns 0 or a negative errno.
 */
int tls_psk_digest(enum tls_psk_hash hash, const uint8_t *retained, size_t len, const char *hostnqn,
		   const char *subnqn, char out[TLS_PSK_DIGEST_MAX + 1]);

/*
 * The TLS PSK (len bytes into out) from the retained PSK of len bytes for an
 * identity of the given version and hash: context is the whole identity
 * string for version 0, the digest for version 1. Returns 0, -EINVAL, or
 * -ENAMETOOLONG when an RFC 8446 context would exceed 255 bytes.
 */
int tls_psk_tls_key(enum tls_psk_hash hash, const uint8_t *retained, size_t len, unsigned version,
		    const char *context, enum tls_psk_kdf kdf, uint8_t *out);

/*
 * Format an identity ("NVMe<v>R0<h> <hostnqn> <subnqn>[ <digest>]") into buf.
 * Returns its length, -EINVAL, or -ENOSPC.
 */
int tls_psk_identity_format(char *buf, size_t size, unsigned version, enum tls_psk_hash hash,
			    const char *hostnqn, const char *subnqn, const char *digest);

/*
 * Parse a received identity of len bytes (not NUL-terminated; TLS carries a
 * length). Returns 0, -EINVAL (malformed, with *why), or -EOPNOTSUPP for a
 * well-formed identity of a kind this target does not serve (a generated
 * PSK, a version above 1).
 */
int tls_psk_identity_parse(const char *s, size_t len, struct tls_psk_identity *id,
			   const char **why);

/*
 * What a host does: from its configured key and the two NQNs, the identity
 * it offers (into identity, size bytes) and the TLS PSK (tls_psk_key_cipher
 * length into tls_psk). Returns 0 or a negative errno.
 */
int tls_psk_host_derive(const struct tls_psk_key *k, const char *hostnqn, const char *subnqn,
			unsigned version, enum tls_psk_kdf kdf, char *identity, size_t size,
			uint8_t tls_psk[TLS_PSK_MAX_LEN]);

/*
 * The target's key store: the configured key for this host (and
 * subsystem), and the derivation that host uses when the identity cannot
 * tell (see tls_psk_resolve). Returns 0, or -ENOKEY if there is none (any
 * other negative errno is passed through). Called from the handshake, on
 * the session's thread.
 */
typedef int (*tls_psk_lookup_fn)(void *arg, const char *hostnqn, const char *subnqn,
				 struct tls_psk_key *key, enum tls_psk_kdf *kdf);

struct tls_psk_resolved {
	struct tls_psk_identity id;
	enum tls_psk_kdf kdf; /* the derivation used */
	uint8_t psk[TLS_PSK_MAX_LEN];
	size_t len;
};

/*
 * Turn a received identity into the TLS PSK to use: parse and validate it,
 * look the host's key up, check that the identity's hash suits the key and,
 * for NVMe1, that the digest matches (CRYPTO_memcmp). For NVMe1 identities
 * of a key with hh 01 / 02 the digest also tells which derivation the host
 * used (the retained PSK differs between them), so every tls_psk_kdf is
 * tried; otherwise the one the lookup names is used. Returns 0, or a
 * negative errno with *why: -EINVAL malformed, -EOPNOTSUPP unsupported
 * kind, -ENOKEY no key for this host, -EKEYREJECTED hash or digest does not
 * match the configured key. out->psk must be cleansed by the caller
 * (tls_psk_resolved_clear).
 */
int tls_psk_resolve(const char *identity, size_t len, tls_psk_lookup_fn lookup, void *arg,
		    struct tls_psk_resolved *out, const char **why);

/* OPENSSL_cleanse() the secret parts. */
void tls_psk_key_clear(struct tls_psk_key *k);
void tls_psk_resolved_clear(struct tls_psk_resolved *r);
