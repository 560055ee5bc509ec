/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the TLS record path of transport/tls_session.c as the
 * target's engine drives it (input format in fuzz_tls_record.h).
 *
 * From scratch, arbitrary bytes reach a server: every call returns -EAGAIN
 * or one of the documented failures, a failure sticks, and no handshake
 * completes (nobody without the key can finish one).
 *
 * After a real handshake (a fresh one per input: its randomness does not
 * steer the record code), a mix of valid records, raw bytes, records with
 * a flipped bit, truncations and closes reaches the server. The plaintext
 * it returns is always a prefix of what the client wrote (AES-GCM cannot be
 * forged by the fuzzer); while nothing was tampered with it is exactly that,
 * as soon as the records are in, and the server's own records read back
 * intact at the client.
 *
 * With FT_OURS the server side continues after the handshake with our own
 * record layer (transport/tls_record.c) from the exported secrets, as the
 * engine does without kernel TLS, under the same checks; the client's
 * KeyUpdates (FT_OP_KEY_UPDATE) are answered by either.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "fuzz_tls_record.h"
#include "tls_record.h"

static struct tls_ctx *ctx;

static int lookup(void *arg, const char *hostnqn, const char *subnqn, struct tls_psk_key *key,
		  enum tls_psk_kdf *kdf)
{
	unsigned flags = *(unsigned *)arg;

	if (strcmp(hostnqn, FT_HOSTNQN) != 0 || strcmp(subnqn, FT_SUBNQN) != 0)
		return -ENOKEY;
	*key = ft_key(flags);
	*kdf = TLS_PSK_KDF_RFC8446;
	return 0;
}

static bool documented(int r)
{
	return r == -EPROTO || r == -ENOKEY || r == -EKEYREJECTED || r == -EBADMSG ||
	       r == -ECONNRESET || r == -ECONNABORTED;
}

struct chunker {
	uint8_t mode;
	uint32_t state;
};

static size_t next_chunk(struct chunker *c, size_t left)
{
	size_t n;

	if (c->mode == FT_CHUNK_ALL)
		return left;
	if (c->mode == FT_CHUNK_ONE)
		return 1;
	c->state ^= c->state << 13;
	c->state ^= c->state >> 17;
	c->state ^= c->state << 5;
	n = (c->state & 3) == 0 ? c->state % 20000 + 1 : c->state % 300 + 1;
	return n < left ? n : left;
}

static void raw_server(const uint8_t *d, size_t n, struct chunker *ch, unsigned flags)
{
	int err = 0, sticky = 0;
	struct tls_session *s = tls_session_new_server(ctx, lookup, &flags, &err);

	CHECK(s != NULL);
	while (n > 0) {
		size_t k = next_chunk(ch, n);
		const uint8_t *out;
		int r;

		CHECK(tls_session_feed(s, d, k) == 0);
		d += k;
		n -= k;
		r = tls_session_handshake(s);
		CHECK(r == -EAGAIN || documented(r));
		CHECK(sticky == 0 || r == sticky);
		if (r != -EAGAIN)
			sticky = r;
		/* what a server sends before the client's Finished is bounded */
		CHECK(tls_session_pending_out(s, &out) < 4096);
		tls_session_consume_out(s, tls_session_pending_out(s, &out));
	}
	CHECK(!tls_session_handshake_done(s));
	tls_session_free(s);
}

struct conn {
	struct tls_session *c, *s;
	struct tls_record *r; /* FT_OURS: the server's records (s is then NULL) */
	uint8_t *in;	      /* ... and what reached it, opened up to in_off */
	size_t in_off, in_len, in_cap;
	bool peer_closed; /* ... it saw close_notify */
	struct chunker ch;
	uint8_t *want; /* what the client wrote, in order */
	size_t want_len, got_len, want_cap;
	bool tampered, eof, closed;
	int sticky;
};

static bool rec_documented(ssize_t r)
{
	return r == -EBADMSG || r == -EMSGSIZE || r == -EPROTO || r == -ECONNABORTED;
}

/* Bytes reaching the server. */
static void server_feed(struct conn *k, const uint8_t *p, size_t n)
{
	if (k->r == NULL) {
		CHECK(tls_session_feed(k->s, p, n) == 0);
		return;
	}
	if (k->in_len + n > k->in_cap) {
		k->in_cap = (k->in_len + n) * 2;
		k->in = realloc(k->in, k->in_cap);
		CHECK(k->in != NULL);
	}
	memcpy(k->in + k->in_len, p, n);
	k->in_len += n;
}

/* Deliver the client's pending bytes to the server in chunks, up to max. */
static void deliver(struct conn *k, size_t max)
{
	const uint8_t *b;
	size_t n = tls_session_pending_out(k->c, &b);

	if (n > max)
		n = max;
	while (n > 0 && !k->eof) {
		size_t m = next_chunk(&k->ch, n);

		server_feed(k, b, m);
		tls_session_consume_out(k->c, m);
		n -= m;
		tls_session_pending_out(k->c, &b);
	}
	/* whatever was not delivered is lost */
	tls_session_consume_out(k->c, tls_session_pending_out(k->c, &b));
}

/* FT_OURS: open every whole record the server has, in place. */
static void drain_ours(struct conn *k)
{
	/* a command's buffer: part of a record may decrypt straight into it (the engine's H2CData) */
	static uint8_t dst[20000];
	enum tls_record_event ev;
	uint8_t *data;
	size_t len, placed, dst_len;
	ssize_t r;

	for (;;) {
		if (k->peer_closed)
			return;
		dst_len = next_chunk(&k->ch, sizeof(dst)) % (sizeof(dst) + 1);
		if (dst_len % 3 == 0)
			dst_len = 0;
		/* nothing received yet: no buffer either */
		r = tls_record_open_into(k->r, k->in ? k->in + k->in_off : NULL,
					 k->in_len - k->in_off, dst_len ? dst : NULL, dst_len, &ev,
					 &placed, &data, &len);
		if (r < 0)
			break;
		CHECK(placed <= dst_len && (ev == TLS_REC_DATA || placed == 0));
		CHECK(len == 0 || placed == dst_len);
		if (placed > 0) {
			CHECK(k->got_len + placed <= k->want_len);
			CHECK(memcmp(dst, k->want + k->got_len, placed) == 0);
			k->got_len += placed;
		}
		CHECK((size_t)r <= k->in_len - k->in_off);
		CHECK(data == NULL ||
		      (data >= k->in + k->in_off && data + len <= k->in + k->in_off + r));
		k->in_off += (size_t)r;
		if (ev == TLS_REC_CLOSE) {
			CHECK(k->closed);
			CHECK(k->got_len == k->want_len || k->tampered);
			k->peer_closed = true;
			return;
		}
		if (ev != TLS_REC_DATA)
			continue;
		CHECK(k->got_len + len <= k->want_len);
		CHECK(memcmp(data, k->want + k->got_len, len) == 0);
		k->got_len += len;
	}
	CHECK(r == -EAGAIN || rec_documented(r));
	CHECK(k->sticky == 0 || r == k->sticky);
	if (r != -EAGAIN) {
		k->sticky = (int)r;
		CHECK(tls_record_error(k->r)[0] != 0);
	}
	if (!k->tampered && !k->eof) {
		CHECK(r == -EAGAIN);
		CHECK(k->got_len == k->want_len);
		CHECK(k->in_off == k->in_len);
	}
}

/* Read all the server has; check what it returns against what was written. */
static void drain_server(struct conn *k)
{
	static uint8_t buf[40000];
	ssize_t r;

	if (k->r != NULL) {
		drain_ours(k);
		return;
	}

	for (;;) {
		size_t cap = next_chunk(&k->ch, sizeof(buf));

		r = tls_session_read(k->s, buf, cap);
		if (r <= 0)
			break;
		CHECK((size_t)r <= cap);
		CHECK(k->got_len + (size_t)r <= k->want_len);
		CHECK(memcmp(buf, k->want + k->got_len, (size_t)r) == 0);
		k->got_len += (size_t)r;
	}
	if (r == 0) {
		CHECK(k->closed);
		CHECK(k->got_len == k->want_len || k->tampered);
		return;
	}
	CHECK(r == -EAGAIN || documented(r));
	CHECK(k->sticky == 0 || r == k->sticky);
	if (r != -EAGAIN)
		k->sticky = (int)r;
	if (!k->tampered && !k->eof) {
		CHECK(r == -EAGAIN);
		CHECK(k->got_len == k->want_len);
	}
}

static void client_write(struct conn *k, const uint8_t *p, size_t n)
{
	struct iovec iov = {(void *)p, n};

	/* nothing follows a close_notify */
	if (n == 0 || k->closed)
		return;
	CHECK(tls_session_write(k->c, &iov, 1) == (ssize_t)n);
	if (k->want_len + n > k->want_cap) {
		k->want_cap = (k->want_len + n) * 2;
		k->want = realloc(k->want, k->want_cap);
		CHECK(k->want != NULL);
	}
	memcpy(k->want + k->want_len, p, n);
	k->want_len += n;
}

static void server_write(struct conn *k, const uint8_t *p, size_t n)
{
	static uint8_t buf[70000];
	struct iovec iov = {(void *)p, n};
	const uint8_t *b;
	size_t got = 0;
	ssize_t r;

	if (n == 0 || k->sticky || k->closed)
		return;
	if (k->r != NULL) {
		static uint8_t wire[80000];

		CHECK(tls_record_seal_bound(n) <= sizeof(wire));
		r = tls_record_seal_data(k->r, &iov, 1, wire, sizeof(wire));
		CHECK(r > 0);
		CHECK(tls_session_feed(k->c, wire, (size_t)r) == 0);
	} else {
		CHECK(tls_session_write(k->s, &iov, 1) == (ssize_t)n);
		r = (ssize_t)tls_session_pending_out(k->s, &b);
		CHECK(tls_session_feed(k->c, b, (size_t)r) == 0);
		tls_session_consume_out(k->s, (size_t)r);
	}
	while (got < n && (r = tls_session_read(k->c, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)r;
	CHECK(got == n && memcmp(buf, p, n) == 0);
}

static void op(struct conn *k, uint8_t code, const uint8_t *p, size_t n)
{
	uint8_t rec[64];
	size_t len;
	const uint8_t *b;
	uint8_t *w;

	switch (code % FT_OP_COUNT) {
	case FT_OP_CLIENT_DATA:
		client_write(k, p, n);
		deliver(k, SIZE_MAX);
		break;
	case FT_OP_RAW:
		if (n > 0 && !k->eof) {
			k->tampered = true;
			server_feed(k, p, n);
		}
		break;
	case FT_OP_FLIP:
		memset(rec, 0x33, sizeof(rec));
		client_write(k, rec, sizeof(rec));
		len = tls_session_pending_out(k->c, &b);
		if (len > 0 && n >= 3) {
			w = (uint8_t *)b; /* the test owns these bytes until consumed */
			w[(p[0] | (size_t)p[1] << 8) % len] ^= p[2] | 1;
			k->tampered = true;
		}
		deliver(k, SIZE_MAX);
		break;
	case FT_OP_TRUNC:
		client_write(k, p, n);
		len = tls_session_pending_out(k->c, &b);
		deliver(k, len / 2);
		k->tampered = true;
		/* the connection ends there */
		__attribute__((fallthrough));
	case FT_OP_EOF:
		if (k->r == NULL)
			tls_session_feed_eof(k->s);
		k->eof = true;
		break;
	case FT_OP_KEY_UPDATE:
		if (!k->closed && n > 0 && tls_session_key_update(k->c, p[0] & 1) == 0)
			deliver(k, SIZE_MAX);
		break;
	case FT_OP_CLOSE:
		if (!k->closed && tls_session_close(k->c) == 0) {
			deliver(k, SIZE_MAX);
			k->closed = true;
		}
		break;
	case FT_OP_SERVER_DATA:
		server_write(k, p, n);
		break;
	}
	drain_server(k);
}

static void connected(const uint8_t *d, size_t n, struct chunker *ch, unsigned flags)
{
	struct conn k = {.ch = *ch};
	int err = 0, cr = -EAGAIN, sr = -EAGAIN;
	const uint8_t *b;
	size_t m;

	k.c = ft_client_new(ctx, flags);
	k.s = tls_session_new_server(ctx, lookup, &flags, &err);
	CHECK(k.c != NULL && k.s != NULL);
	for (int i = 0; i < 8 && (cr || sr); i++) {
		if (cr == -EAGAIN)
			cr = tls_session_handshake(k.c);
		m = tls_session_pending_out(k.c, &b);
		CHECK(tls_session_feed(k.s, b, m) == 0);
		tls_session_consume_out(k.c, m);
		if (sr == -EAGAIN)
			sr = tls_session_handshake(k.s);
		m = tls_session_pending_out(k.s, &b);
		CHECK(tls_session_feed(k.c, b, m) == 0);
		tls_session_consume_out(k.s, m);
	}
	CHECK(cr == 0 && sr == 0);
	if (flags & FT_OURS) {
		struct tls_record_secret tx, rx;
		uint8_t none[1];

		CHECK(tls_session_export_secrets(k.s, &tx, &rx) == 0);
		k.r = tls_record_new(tls_session_cipher(k.s), &tx, &rx, &err);
		CHECK(k.r != NULL);
		CHECK(tls_session_take_input(k.s, none, sizeof(none)) == 0);
		tls_session_free(k.s);
		k.s = NULL;
	}
	while (n >= 3) {
		size_t len = d[1] | (size_t)d[2] << 8;

		if (len > n - 3)
			len = n - 3;
		op(&k, d[0], d + 3, len);
		d += 3 + len;
		n -= 3 + len;
	}
	free(k.want);
	free(k.in);
	tls_record_free(k.r);
	tls_session_free(k.c);
	tls_session_free(k.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chunker ch;
	int err;

	if (ctx == NULL) {
		ctx = tls_ctx_new(&err);
		CHECK(ctx != NULL);
	}
	if (size < FT_HDR_LEN)
		return 0;
	ch.mode = data[1];
	ch.state = data[1] * 0x9e3779b9u + 1;
	if (data[0] & FT_CONNECTED)
		connected(data + FT_HDR_LEN, size - FT_HDR_LEN, &ch, data[0]);
	else
		raw_server(data + FT_HDR_LEN, size - FT_HDR_LEN, &ch, data[0]);
	return 0;
}
