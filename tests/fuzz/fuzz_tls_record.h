/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Input format of fuzz_tls_record, shared with the seed corpus generator.
 *
 * Byte 0: flags (FT_*). Byte 1: chunking (0 whole, 1 one byte at a time,
 * else a PRNG seed) for what reaches the server and the read sizes.
 *
 * Without FT_CONNECTED the rest is raw bytes given to a fresh server
 * session, which drives its handshake after each chunk.
 *
 * With FT_CONNECTED a client and the server first complete a handshake with
 * the fixed key below, then the rest is a list of operations, each
 * <op:1><len:2, little-endian><len bytes> (FT_OP_*).
 */
#pragma once

#define FT_HDR_LEN 2

#define FT_CONNECTED (1u << 0)
#define FT_SHA384    (1u << 1) /* a 48-byte key: TLS_AES_256_GCM_SHA384 */
#define FT_NVME1     (1u << 2) /* an NVMe1 identity (with digest) */
/*
 * After the handshake the server continues with our record layer
 * (tls_record.h, as the engine does without kernel TLS): the client's
 * records are opened by tls_record_open(), the server's sealed by
 * tls_record_seal_data().
 */
#define FT_OURS (1u << 3)

#define FT_CHUNK_ALL 0
#define FT_CHUNK_ONE 1

enum ft_op {
	FT_OP_CLIENT_DATA = 0, /* the client writes the bytes; the records reach the server */
	FT_OP_RAW = 1,	       /* the bytes go to the server as they are */
	FT_OP_FLIP = 2,	       /* the client writes 64 bytes; byte le16(data) % record
				  length of its record is XORed with data[2] | 1 */
	FT_OP_TRUNC = 3,       /* the client writes the bytes; half the record arrives, then EOF */
	FT_OP_CLOSE = 4,       /* the client's close_notify */
	FT_OP_SERVER_DATA = 5, /* the server writes the bytes; the client must read them back */
	FT_OP_EOF = 6,	       /* the connection ends */
	FT_OP_KEY_UPDATE = 7,  /* the client sends a KeyUpdate, update_requested if data[0] & 1 */
	FT_OP_COUNT
};

/* The host and the key the server knows (and the seeds' ClientHellos use). */
#define FT_HOSTNQN  "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000001"
#define FT_SUBNQN   "nqn.2026-11.org.example:fuzz"
#define FT_KEY_SEED 0x42 /* key byte i = FT_KEY_SEED + i */

#include <string.h>

#include "tls_session.h"

static inline struct tls_psk_key ft_key(unsigned flags)
{
	struct tls_psk_key k = {.len = (flags & FT_SHA384) ? 48 : 32};

	k.hash = (flags & FT_SHA384) ? TLS_PSK_HASH_SHA384 : TLS_PSK_HASH_SHA256;
	for (size_t i = 0; i < k.len; i++)
		k.key[i] = (uint8_t)(FT_KEY_SEED + i);
	return k;
}

/* The host side: a client session offering the fixed key's identity. */
static inline struct tls_session *ft_client_new(struct tls_ctx *c, unsigned flags)
{
	struct tls_psk_key k = ft_key(flags);
	char id[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN];
	int err;

	if (tls_psk_host_derive(&k, FT_HOSTNQN, FT_SUBNQN, (flags & FT_NVME1) ? 1 : 0,
				TLS_PSK_KDF_RFC8446, id, sizeof(id), psk))
		return NULL;
	return tls_session_new_client(c, id, psk, k.len, &err);
}
