/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the seed corpus of fuzz_tls_record into the directory given: real
 * ClientHellos with the fixed key (so the server gets as far as its
 * ServerHello), one with the other hash, a plain ICReq and an HTTP request;
 * and operation lists on a connected pair: data both ways, a flipped bit,
 * a truncated record, raw bytes, EOF, close_notify. Run by hand (or `meson
 * compile fuzz-corpus-tls_record`); the output is committed in
 * corpus/tls_record/. ClientHellos are random, so every run differs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tls_record.h"
#include "gen_corpus_util.h"

static struct tls_ctx *ctx;
static uint8_t payload[20000];

static void seed_init(struct gen_seed *s, uint8_t flags, uint8_t chunk)
{
	memset(s, 0, sizeof(*s));
	s->hdr[0] = flags;
	s->hdr[1] = chunk;
	s->hdr_len = FT_HDR_LEN;
}

/* A client's first flight (its ClientHello) for the fixed key. */
static void put_client_hello(struct gen_seed *s, unsigned key_flags)
{
	struct tls_session *c = ft_client_new(ctx, key_flags);
	const uint8_t *b;
	size_t n;

	if (c == NULL || tls_session_handshake(c) != -EAGAIN) {
		fprintf(stderr, "gen_corpus_tls_record: no ClientHello\n");
		exit(1);
	}
	n = tls_session_pending_out(c, &b);
	gen_put(s, b, n);
	tls_session_free(c);
}

static void raw_seeds(void)
{
	static const uint8_t icreq[128] = {0x00, 0x00, 128, 0, 128, 0, 0, 0};
	static const char http[] = "GET / HTTP/1.1\r\nHost: nvmf\r\n\r\n";
	static const struct {
		const char *name;
		uint8_t flags, key_flags, chunk;
	} ch[] = {
		{"hello-sha256-nvme0", 0, 0, FT_CHUNK_ALL},
		{"hello-sha256-nvme1", FT_NVME1, FT_NVME1, 7},
		{"hello-sha384-nvme1", FT_SHA384, FT_SHA384 | FT_NVME1, FT_CHUNK_ONE},
		{"hello-hash-mismatch", FT_SHA384, 0, FT_CHUNK_ALL},
	};
	struct gen_seed s;

	for (size_t i = 0; i < sizeof(ch) / sizeof(ch[0]); i++) {
		seed_init(&s, ch[i].flags, ch[i].chunk);
		put_client_hello(&s, ch[i].key_flags);
		gen_save(&s, ch[i].name);
	}
	seed_init(&s, 0, FT_CHUNK_ALL);
	gen_put(&s, icreq, sizeof(icreq));
	gen_save(&s, "plain-icreq");
	seed_init(&s, 0, 3);
	gen_put(&s, http, sizeof(http) - 1);
	gen_save(&s, "http");
}

static void put_op(struct gen_seed *s, enum ft_op op, const void *p, size_t n)
{
	uint8_t h[3] = {(uint8_t)op, (uint8_t)n, (uint8_t)(n >> 8)};

	gen_put(s, h, 3);
	gen_put(s, p, n);
}

static void connected_seeds(uint8_t key_flags, const char *suffix)
{
	static const uint8_t flip[3] = {30, 0, 0x80};
	static const uint8_t fake[] = {0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7};
	uint8_t flags = FT_CONNECTED | key_flags;
	struct gen_seed s;
	char name[64];

	seed_init(&s, flags, FT_CHUNK_ALL);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 72); /* an ICReq-sized PDU */
	put_op(&s, FT_OP_SERVER_DATA, payload, 128);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 20000); /* two records */
	put_op(&s, FT_OP_CLIENT_DATA, payload, 1);
	put_op(&s, FT_OP_CLOSE, NULL, 0);
	snprintf(name, sizeof(name), "data-close-%s", suffix);
	gen_save(&s, name);

	seed_init(&s, flags, 9);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 4096);
	put_op(&s, FT_OP_FLIP, flip, sizeof(flip));
	put_op(&s, FT_OP_CLIENT_DATA, payload, 100);
	snprintf(name, sizeof(name), "flip-%s", suffix);
	gen_save(&s, name);

	seed_init(&s, flags, FT_CHUNK_ONE);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 300);
	put_op(&s, FT_OP_TRUNC, payload, 500);
	snprintf(name, sizeof(name), "trunc-%s", suffix);
	gen_save(&s, name);

	seed_init(&s, flags, 5);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 24);
	put_op(&s, FT_OP_RAW, fake, sizeof(fake));
	put_op(&s, FT_OP_CLIENT_DATA, payload, 24);
	snprintf(name, sizeof(name), "raw-%s", suffix);
	gen_save(&s, name);

	seed_init(&s, flags, FT_CHUNK_ALL);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 8);
	put_op(&s, FT_OP_EOF, NULL, 0);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 8);
	snprintf(name, sizeof(name), "eof-%s", suffix);
	gen_save(&s, name);

	seed_init(&s, flags, 11);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 5000);
	put_op(&s, FT_OP_KEY_UPDATE, (const uint8_t[]){1}, 1);
	put_op(&s, FT_OP_SERVER_DATA, payload, 300);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 17000);
	put_op(&s, FT_OP_KEY_UPDATE, (const uint8_t[]){0}, 1);
	put_op(&s, FT_OP_CLIENT_DATA, payload, 10);
	put_op(&s, FT_OP_CLOSE, NULL, 0);
	snprintf(name, sizeof(name), "key-update-%s", suffix);
	gen_save(&s, name);
}

int main(int argc, char **argv)
{
	int err;

	if (gen_args(argc, argv))
		return 2;
	ctx = tls_ctx_new(&err);
	if (ctx == NULL)
		return 1;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	raw_seeds();
	connected_seeds(FT_NVME1, "sha256");
	connected_seeds(FT_SHA384, "sha384");
	/* the same operations against our record layer */
	connected_seeds(FT_OURS | FT_NVME1, "ours-sha256");
	connected_seeds(FT_OURS | FT_SHA384, "ours-sha384");
	tls_ctx_free(ctx);
	return 0;
}
