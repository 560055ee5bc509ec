/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the PDU codec tests: build, flatten, feed in chunks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "byteorder.h"
#include "pdu.h"

#define T_MAX_PDUS 32

struct tcp_conn_params t_params(bool controller, bool hd, bool dd, uint8_t pda);

/* Copy the PDU's iovecs into out (cap bytes); returns the length (== t->len). */
size_t t_flatten(const struct tcp_tx_pdu *t, uint8_t *out, size_t cap);

/* What the receiver reported for one PDU. */
struct t_rx_pdu {
	union nvme_tcp_pdu_hdr hdr;
	uint8_t *data; /* malloc'd copy, data_len bytes */
	uint32_t data_len;
	bool ddgst_err;
	bool had_header; /* TCP_RX_HEADER came first */
};

struct t_rx_run {
	struct t_rx_pdu pdu[T_MAX_PDUS];
	int npdu;
	ssize_t err; /* 0, or the negative errno tcp_rx_feed returned */
	size_t consumed;
	size_t calls;
};

/* Next chunk size (1..remaining) for a stream with `remaining` bytes left. */
typedef size_t (*t_chunker)(void *ctx, size_t remaining);

size_t t_chunk_all(void *ctx, size_t remaining);
size_t t_chunk_one(void *ctx, size_t remaining);
/* ctx: a size_t * split point; the first chunk ends there. */
size_t t_chunk_split(void *ctx, size_t remaining);
/* ctx: a uint32_t * PRNG state; sizes 1..80, sometimes large. */
size_t t_chunk_random(void *ctx, size_t remaining);

/*
 * Feed buf in chunks, setting a malloc'd destination after every header
 * (discard instead when discard is true), until all bytes are consumed or
 * an error is returned. Checks the event contract on the way.
 */
void t_feed(struct tcp_rx *rx, const uint8_t *buf, size_t len, t_chunker next, void *ctx,
	    bool discard, struct t_rx_run *run);
void t_run_free(struct t_rx_run *run);

uint32_t t_rand(uint32_t *state);
void t_fill(uint8_t *p, size_t n, uint32_t seed);

/* Bitwise CRC-32C (reflected 0x82F63B78), seed ~0, inverted: the NVMe/TCP digest. */
uint32_t t_crc32c_ref(const void *buf, size_t len);
