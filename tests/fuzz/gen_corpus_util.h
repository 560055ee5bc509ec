/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the seed corpus generators (gen_corpus_*.c) share: a seed built in
 * memory, the fuzz target's header bytes then its stream, and written as
 * one file into the corpus directory named on the command line.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct tcp_tx_pdu;

#define GEN_HDR_MAX 8

struct gen_seed {
	uint8_t hdr[GEN_HDR_MAX]; /* the target's parameters (FUZZ_HDR_LEN, FC_HDR_LEN, ...) */
	size_t hdr_len;
	uint8_t b[1 << 18]; /* the stream, or the records */
	size_t len;
};

/* The corpus directory is argv[1]; -EINVAL after a usage message if it is missing. */
int gen_args(int argc, char **argv);

/* Append n bytes (aborts if the seed is full: a generator's bug). */
void gen_put(struct gen_seed *s, const void *p, size_t n);

/* Append a built PDU, all its iovecs. */
void gen_put_pdu(struct gen_seed *s, const struct tcp_tx_pdu *t);

/* Write the seed to DIR/name; a failure is reported and ends the generator. */
void gen_save(const struct gen_seed *s, const char *name);
