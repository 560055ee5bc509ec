/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DH-HMAC-CHAP computations (NVMe Base Specification 2.0, 8.13.5
 * "DH-HMAC-CHAP protocol"), through OpenSSL 3: HMAC and hashes (EVP_MAC,
 * EVP_Digest), the responses R1 and R2, the augmented challenge, and the
 * ephemeral finite-field Diffie-Hellman exchange in the RFC 7919 groups.
 * Nothing here keeps state between calls or does I/O; intermediates are
 * wiped (OPENSSL_cleanse) before returning.
 *
 * Returns are 0 or a negative errno: -EINVAL for arguments (an unknown
 * hash or group), -EBADMSG for a peer's DH value that is not acceptable,
 * -ENOMEM / -EIO when OpenSSL fails.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "auth_msg.h"

/* HMAC with the hash of a HashID over the concatenated iovecs; out gets dhchap_hash_len(). */
int dhchap_hmac(uint8_t hashid, const void *key, size_t key_len, const struct iovec *iov,
		int iovcnt, uint8_t *out);

/* The plain hash of a HashID. */
int dhchap_hash(uint8_t hashid, const void *data, size_t len, uint8_t *out);

/*
 * What a response is computed over (8.13.5.4 / 8.13.5.6; the byte layout
 * checked against the Linux host and target):
 *
 *	R1 = HMAC(Kh', C1 || S1 (le32) || T_ID (le16) || SC_C || "HostHost" ||
 *		  NQNh || 00h || NQNc)
 *	R2 = HMAC(Kc', C2 || S2 (le32) || T_ID (le16) || SC_C || "Controller" ||
 *		  NQNc || 00h || NQNh)
 *
 * with Kh' / Kc' the transformed keys (dhchap_key_transform()) and C1 / C2
 * replaced by the augmented challenge when a DH group is in use.
 */
struct dhchap_resp_args {
	uint8_t hashid;
	const uint8_t *tkey; /* transformed key */
	size_t tkey_len;
	const uint8_t *chal; /* C, or Ca: dhchap_hash_len(hashid) bytes */
	uint32_t seqnum;
	uint16_t t_id;
	uint8_t sc_c;
	const char *hostnqn;
	const char *subsysnqn;
};

/* R1, the host's response; out gets dhchap_hash_len(a->hashid) bytes. */
int dhchap_host_response(const struct dhchap_resp_args *a, uint8_t *out);

/* R2, the controller's response. */
int dhchap_ctrl_response(const struct dhchap_resp_args *a, uint8_t *out);

/*
 * The augmented challenge Ca = HMAC(H(g^xy mod p), C) (8.13.5.5), with the
 * shared secret as the group-size big-endian string both sides derive.
 */
int dhchap_augmented_challenge(uint8_t hashid, const uint8_t *secret, size_t secret_len,
			       const uint8_t *chal, uint8_t *out);

/*
 * The challenge a response is computed over: C itself with the NULL group
 * (secret_len 0), else the augmented challenge.
 */
int dhchap_response_challenge(uint8_t hashid, const uint8_t *secret, size_t secret_len,
			      const uint8_t *chal, uint8_t *out);

/* Constant-time equality of two responses (CRYPTO_memcmp). */
bool dhchap_equal(const void *a, const void *b, size_t n);

/* ---- Diffie-Hellman ---- */

/* An ephemeral key pair in one ffdhe group. */
struct dhchap_dh;

/* Generate a key pair in the group dhgid (not NULL). *out is NULL on error. */
int dhchap_dh_generate(uint8_t dhgid, struct dhchap_dh **out);

/* The public value g^x mod p, big-endian, padded to len == dhchap_dhgroup_len(). */
int dhchap_dh_public(const struct dhchap_dh *dh, uint8_t *out, size_t len);

/*
 * The shared secret from the peer's public value (len == the group's size),
 * big-endian, padded to the group's size in out (len bytes). The peer value
 * must satisfy 1 < y < p - 1 and pass OpenSSL's public key check (y^q = 1
 * mod p for these safe-prime groups); else -EBADMSG.
 */
int dhchap_dh_derive(const struct dhchap_dh *dh, const uint8_t *peer, size_t len, uint8_t *secret);

/* Free a key pair, wiping the private value. NULL is fine. */
void dhchap_dh_free(struct dhchap_dh *dh);

/* Random bytes (RAND_bytes): 0 or -EIO. */
int dhchap_random(void *buf, size_t len);

/* A random sequence number, never 0 (0 means "none" for S2, 8.13.4.4). */
int dhchap_random_seqnum(uint32_t *seq);
