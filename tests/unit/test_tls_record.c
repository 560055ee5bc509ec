/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/tls_record.c against OpenSSL itself: an OpenSSL client and
 * server (tls_session.c) shake hands in memory, then the server's side
 * continues with our record layer from the exported secrets. Records we
 * seal must be opened by the OpenSSL client and the client's records by
 * us, for both AES-GCM suites, across KeyUpdates either side starts (RFC
 * 8446 4.6.3), with close_notify and the failures a target must tell
 * apart (bad_record_mac, record_overflow, unprotected records, truncation,
 * the peer's fatal alert).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls_record.h"
#include "tls_session.h"

#define HOST   "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define SUBSYS "nqn.2026-11.org.example:disk0"

static struct tls_ctx *ctx;
static struct tls_psk_key g_key;

static int lookup(void *arg, const char *hostnqn, const char *subnqn, struct tls_psk_key *key,
		  enum tls_psk_kdf *kdf)
{
	(void)arg;
	(void)hostnqn;
	(void)subnqn;
	*key = g_key;
	*kdf = TLS_PSK_KDF_RFC8446;
	return 0;
}

struct conn {
	struct tls_session *c; /* the OpenSSL peer */
	struct tls_record *r;  /* our server side */
	uint8_t in[1 << 20];   /* ciphertext from the client, not opened yet */
	size_t in_len;
};

static void move(struct tls_session *from, struct tls_session *to)
{
	const uint8_t *b;
	size_t n = tls_session_pending_out(from, &b);

	if (n) {
		assert_int_equal(tls_session_feed(to, b, n), 0);
		tls_session_consume_out(from, n);
	}
}

/* The client's output into our receive buffer. */
static void client_out(struct conn *k)
{
	const uint8_t *b;
	size_t n = tls_session_pending_out(k->c, &b);

	assert_true(k->in_len + n <= sizeof(k->in));
	memcpy(k->in + k->in_len, b, n);
	k->in_len += n;
	tls_session_consume_out(k->c, n);
}

static void connect_pair(struct conn *k, enum tls_psk_hash hh, size_t len)
{
	char id[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN];
	struct tls_record_secret tx, rx;
	struct tls_session *s;
	int err = 0, cr = -EAGAIN, sr = -EAGAIN;

	memset(k, 0, sizeof(*k));
	g_key.len = len;
	g_key.hash = hh;
	for (size_t i = 0; i < len; i++)
		g_key.key[i] = (uint8_t)(5 + 3 * i);
	assert_int_equal(tls_psk_host_derive(&g_key, HOST, SUBSYS, 1, TLS_PSK_KDF_RFC8446, id,
					     sizeof(id), psk),
			 0);
	k->c = tls_session_new_client(ctx, id, psk, len, &err);
	s = tls_session_new_server(ctx, lookup, NULL, &err);
	assert_non_null(k->c);
	assert_non_null(s);
	for (int i = 0; i < 10 && (cr || sr); i++) {
		if (cr == -EAGAIN)
			cr = tls_session_handshake(k->c);
		move(k->c, s);
		if (sr == -EAGAIN)
			sr = tls_session_handshake(s);
		move(s, k->c);
	}
	assert_int_equal(cr, 0);
	assert_int_equal(sr, 0);
	assert_int_equal(tls_session_export_secrets(s, &tx, &rx), 0);
	assert_int_equal(tx.len, hh == TLS_PSK_HASH_SHA384 ? 48 : 32);
	k->r = tls_record_new(tls_session_cipher(s), &tx, &rx, &err);
	assert_non_null(k->r);
	/* the client's first records (sent before the switch) are ours to open */
	assert_int_equal(tls_session_take_input(s, k->in, sizeof(k->in)), 0);
	tls_session_free(s);
}

static void pair_free(struct conn *k)
{
	tls_session_free(k->c);
	tls_record_free(k->r);
}

/* Open one record from the front of k->in. */
static ssize_t open_one(struct conn *k, enum tls_record_event *ev, uint8_t *out, size_t *len)
{
	uint8_t *data;
	ssize_t n = tls_record_open(k->r, k->in, k->in_len, ev, &data, len);

	if (n > 0) {
		if (*ev == TLS_REC_DATA && out != NULL)
			memcpy(out, data, *len);
		memmove(k->in, k->in + n, k->in_len - (size_t)n);
		k->in_len -= (size_t)n;
	}
	return n;
}

/* Everything the client sent, as application data. */
static size_t open_all(struct conn *k, uint8_t *out, size_t cap)
{
	size_t got = 0, len;
	enum tls_record_event ev;

	while (k->in_len > 0) {
		ssize_t n = open_one(k, &ev, out ? out + got : NULL, &len);

		if (n < 0)
			fail_msg("open: %zd (%s)", n, tls_record_error(k->r));
		if (ev == TLS_REC_DATA) {
			got += len;
			assert_true(got <= cap);
		}
	}
	return got;
}

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

/* Our records from odd-sized iovecs, opened by the OpenSSL client. */
static void server_to_client(struct conn *k, size_t total)
{
	static uint8_t src[300000], dst[300000];
	static uint8_t wire[400000];
	struct iovec iov[64];
	int cnt = 0;
	size_t off = 0, got = 0;
	ssize_t n;

	assert_true(total <= sizeof(src));
	for (size_t i = 0; i < total; i++)
		src[i] = pat(i);
	/* a 24-byte header, 7 bytes, then large and small pieces */
	while (off < total && cnt < 63) {
		size_t len = cnt == 0 ? 24 : cnt % 3 == 1 ? 7 : 20000 + 1000 * (size_t)cnt;

		if (len > total - off)
			len = total - off;
		iov[cnt].iov_base = src + off;
		iov[cnt++].iov_len = len;
		off += len;
	}
	if (off < total) {
		iov[cnt].iov_base = src + off;
		iov[cnt++].iov_len = total - off;
	}
	assert_true(tls_record_seal_bound(total) <= sizeof(wire));
	n = tls_record_seal_data(k->r, iov, cnt, wire, sizeof(wire));
	assert_true(n > 0);
	assert_int_equal(tls_session_feed(k->c, wire, (size_t)n), 0);
	while (got < total) {
		ssize_t m = tls_session_read(k->c, dst + got, total - got);

		if (m <= 0)
			fail_msg("client read: %zd (%s)", m, tls_session_error(k->c));
		got += (size_t)m;
	}
	assert_memory_equal(src, dst, total);
}

static void client_to_server(struct conn *k, size_t total)
{
	static uint8_t src[300000], dst[300000];
	struct iovec iov = {src, total};

	for (size_t i = 0; i < total; i++)
		src[i] = pat(i + 17);
	assert_int_equal(tls_session_write(k->c, &iov, 1), (ssize_t)total);
	client_out(k);
	assert_int_equal(open_all(k, dst, sizeof(dst)), total);
	assert_memory_equal(src, dst, total);
}

/*
 * The client's records opened with part of each record's plaintext
 * decrypted straight into another buffer (dst_len bytes at most).
 */
static void client_to_server_into(struct conn *k, size_t total, size_t dst_len)
{
	static uint8_t src[300000], dst[300000], direct[20000];
	struct iovec iov = {src, total};
	size_t got = 0;

	for (size_t i = 0; i < total; i++)
		src[i] = pat(i + 99);
	assert_int_equal(tls_session_write(k->c, &iov, 1), (ssize_t)total);
	client_out(k);
	while (k->in_len > 0) {
		enum tls_record_event ev;
		size_t placed, len;
		uint8_t *data;
		ssize_t n;

		memset(direct, 0xee, sizeof(direct));
		n = tls_record_open_into(k->r, k->in, k->in_len, direct, dst_len, &ev, &placed,
					 &data, &len);
		if (n < 0)
			fail_msg("open_into: %zd (%s)", n, tls_record_error(k->r));
		assert_int_equal(ev, TLS_REC_DATA);
		assert_true(placed <= dst_len);
		/* dst takes the record's first bytes: in place only what did not fit */
		if (placed < dst_len)
			assert_int_equal(len, 0);
		memcpy(dst + got, direct, placed);
		memcpy(dst + got + placed, data, len);
		got += placed + len;
		memmove(k->in, k->in + n, k->in_len - (size_t)n);
		k->in_len -= (size_t)n;
	}
	assert_int_equal(got, total);
	assert_memory_equal(src, dst, total);
}

static void both_ways(enum tls_psk_hash hh, size_t len)
{
	struct conn *k = malloc(sizeof(*k));

	connect_pair(k, hh, len);
	server_to_client(k, 5);
	server_to_client(k, 16384);
	server_to_client(k, 16385);
	server_to_client(k, 262144 + 24);
	client_to_server(k, 1);
	client_to_server(k, 131072 + 72);
	assert_int_equal(tls_record_rx_seq(k->r), 1 + 9);
	/* part of each record straight into a command's buffer, as the engine does */
	client_to_server_into(k, 131072 + 72, 16384);
	client_to_server_into(k, 40000, 1000);
	client_to_server_into(k, 100, 100);
	client_to_server_into(k, 100, 99);
	client_to_server_into(k, 5, 1);
	pair_free(k);
	free(k);
}

static void test_aes128(void **state)
{
	(void)state;
	both_ways(TLS_PSK_HASH_SHA256, 32);
}

static void test_aes256(void **state)
{
	(void)state;
	both_ways(TLS_PSK_HASH_SHA384, 48);
}

/* The client asks for a KeyUpdate: we update our receive keys, answer, and both go on. */
static void test_peer_key_update(void **state)
{
	struct conn *k = malloc(sizeof(*k));
	enum tls_record_event ev;
	size_t len;

	(void)state;
	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	client_to_server(k, 100);
	assert_int_equal(tls_session_key_update(k->c, true), 0);
	client_out(k);
	{
		/* a KeyUpdate offered a data buffer: it stays a KeyUpdate */
		uint8_t scratch[64], *data;
		size_t placed;
		ssize_t n = tls_record_open_into(k->r, k->in, k->in_len, scratch, sizeof(scratch),
						 &ev, &placed, &data, &len);

		assert_true(n > 0);
		assert_int_equal(placed, 0);
		memmove(k->in, k->in + n, k->in_len - (size_t)n);
		k->in_len -= (size_t)n;
	}
	assert_int_equal(ev, TLS_REC_NONE);
	assert_int_equal(tls_record_rx_seq(k->r), 0);
	assert_true(tls_record_tx_owed(k->r));
	/* our KeyUpdate (update_not_requested) goes before the data, under the old keys */
	server_to_client(k, 3000);
	assert_false(tls_record_tx_owed(k->r));
	assert_int_equal(tls_record_tx_seq(k->r), 1);
	client_to_server(k, 40000);
	server_to_client(k, 40000);
	pair_free(k);
	free(k);
}

/* We start a KeyUpdate asking the client for one: its next records use its new keys. */
static void test_our_key_update(void **state)
{
	struct conn *k = malloc(sizeof(*k));

	(void)state;
	connect_pair(k, TLS_PSK_HASH_SHA384, 48);
	tls_record_key_update(k->r, true);
	server_to_client(k, 10);
	/* the client's answer arrives before its next data */
	client_to_server(k, 20000);
	assert_int_equal(tls_record_rx_seq(k->r), 2);
	server_to_client(k, 10);
	pair_free(k);
	free(k);
}

static void test_close_notify(void **state)
{
	struct conn *k = malloc(sizeof(*k));
	enum tls_record_event ev;
	uint8_t wire[64], buf[8];
	size_t len;
	ssize_t n;

	(void)state;
	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	assert_int_equal(tls_session_close(k->c), 0);
	client_out(k);
	assert_true(open_one(k, &ev, NULL, &len) > 0);
	assert_int_equal(ev, TLS_REC_CLOSE);
	/* ours ends the client's stream cleanly */
	n = tls_record_seal_alert(k->r, TLS_ALERT_CLOSE_NOTIFY, wire, sizeof(wire));
	assert_true(n > 0);
	assert_int_equal(tls_session_feed(k->c, wire, (size_t)n), 0);
	assert_int_equal(tls_session_read(k->c, buf, sizeof(buf)), 0);
	pair_free(k);
	free(k);
}

static void test_bad_record_mac(void **state)
{
	struct conn *k = malloc(sizeof(*k));
	enum tls_record_event ev;
	uint8_t wire[64], buf[8];
	size_t len;
	ssize_t n;

	(void)state;
	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	client_to_server(k, 10);
	{
		struct iovec iov = {"hello", 5};

		assert_int_equal(tls_session_write(k->c, &iov, 1), 5);
	}
	client_out(k);
	k->in[8] ^= 1;
	/* not all there yet */
	assert_int_equal(tls_record_open(k->r, k->in, k->in_len - 1, &ev, &(uint8_t *){0}, &len),
			 -EAGAIN);
	assert_int_equal(open_one(k, &ev, NULL, &len), -EBADMSG);
	assert_int_equal(tls_record_alert(k->r), TLS_ALERT_BAD_RECORD_MAC);
	assert_non_null(strstr(tls_record_error(k->r), "bad_record_mac"));
	/* sticky */
	assert_int_equal(open_one(k, &ev, NULL, &len), -EBADMSG);
	/* the alert still goes out, and the client reads it as one */
	n = tls_record_seal_alert(k->r, TLS_ALERT_BAD_RECORD_MAC, wire, sizeof(wire));
	assert_true(n > 0);
	assert_int_equal(tls_session_feed(k->c, wire, (size_t)n), 0);
	assert_true(tls_session_read(k->c, buf, sizeof(buf)) < 0);
	assert_non_null(strstr(tls_session_error(k->c), "bad_record_mac"));
	pair_free(k);
	free(k);
}

static void test_malformed(void **state)
{
	struct conn *k = malloc(sizeof(*k));
	enum tls_record_event ev;
	uint8_t *data;
	size_t len;
	/* a record header claiming 2^14 + 257 bytes */
	uint8_t big[5] = {23, 3, 3, (16384 + 257) >> 8, (16384 + 257) & 0xff};
	uint8_t plain[6] = {22, 3, 3, 0, 1, 1};
	uint8_t tiny[5 + 16] = {23, 3, 3, 0, 16};

	(void)state;
	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	assert_int_equal(tls_record_open(k->r, big, sizeof(big), &ev, &data, &len), -EMSGSIZE);
	assert_int_equal(tls_record_alert(k->r), TLS_ALERT_RECORD_OVERFLOW);
	pair_free(k);

	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	assert_int_equal(tls_record_open(k->r, plain, sizeof(plain), &ev, &data, &len), -EPROTO);
	assert_int_equal(tls_record_alert(k->r), TLS_ALERT_UNEXPECTED_MESSAGE);
	pair_free(k);

	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	assert_int_equal(tls_record_open(k->r, tiny, sizeof(tiny), &ev, &data, &len), -EBADMSG);
	pair_free(k);
	free(k);
}

/* A peer's fatal alert (here: the client's OpenSSL refusing our corrupted record). */
static void test_peer_alert(void **state)
{
	struct conn *k = malloc(sizeof(*k));
	static uint8_t wire[100];
	struct iovec iov = {"data", 4};
	enum tls_record_event ev;
	uint8_t buf[8];
	size_t len;
	ssize_t n;

	(void)state;
	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	n = tls_record_seal_data(k->r, &iov, 1, wire, sizeof(wire));
	assert_true(n > 0);
	wire[7] ^= 0x40;
	assert_int_equal(tls_session_feed(k->c, wire, (size_t)n), 0);
	assert_true(tls_session_read(k->c, buf, sizeof(buf)) < 0);
	client_out(k); /* its bad_record_mac alert */
	assert_int_equal(open_one(k, &ev, NULL, &len), -ECONNABORTED);
	assert_int_equal(tls_record_alert(k->r), 0);
	assert_non_null(strstr(tls_record_error(k->r), "bad_record_mac"));
	pair_free(k);
	free(k);
}

/*
 * Before AES-GCM's limit (RFC 8446 5.5) the sender renews its keys by
 * itself: two record layers facing each other, the sender's sequence
 * number one short of TLS_RECORD_REKEY_AFTER.
 */
static void test_rekey_at_limit(void **state)
{
	struct tls_record_secret s1 = {.len = 32, .seq = TLS_RECORD_REKEY_AFTER - 1};
	struct tls_record_secret s2 = {.len = 32};
	struct tls_record *a, *b;
	static uint8_t wire[2000];
	struct iovec iov = {"data", 4};
	enum tls_record_event ev;
	uint8_t *data;
	size_t len, off = 0;
	ssize_t n, m;
	int err = 0;

	(void)state;
	for (int i = 0; i < 32; i++) {
		s1.secret[i] = (uint8_t)i;
		s2.secret[i] = (uint8_t)(100 + i);
	}
	a = tls_record_new(TLS_CIPHER_AES_128_GCM_SHA256, &s1, &s2, &err);
	s1.seq = TLS_RECORD_REKEY_AFTER - 1;
	b = tls_record_new(TLS_CIPHER_AES_128_GCM_SHA256, &s2, &s1, &err);
	assert_non_null(a);
	assert_non_null(b);
	n = tls_record_seal_data(a, &iov, 1, wire, sizeof(wire));
	assert_true(n > 0);
	assert_int_equal(tls_record_tx_seq(a), TLS_RECORD_REKEY_AFTER);
	m = tls_record_seal_data(a, &iov, 1, wire + n, sizeof(wire) - (size_t)n);
	assert_true(m > 0);
	/* a KeyUpdate went first, then the data under the new keys */
	assert_int_equal(tls_record_tx_seq(a), 1);
	n += m;
	for (int want = 0; want < 3; want++) {
		m = tls_record_open(b, wire + off, (size_t)n - off, &ev, &data, &len);
		if (m < 0)
			fail_msg("open: %zd (%s)", m, tls_record_error(b));
		assert_int_equal(ev, want == 1 ? TLS_REC_NONE : TLS_REC_DATA);
		if (want != 1)
			assert_memory_equal(data, "data", 4);
		off += (size_t)m;
	}
	assert_int_equal(off, (size_t)n);
	assert_int_equal(tls_record_rx_seq(b), 1);
	assert_false(tls_record_tx_owed(b)); /* update_not_requested */
	tls_record_free(a);
	tls_record_free(b);
}

/*
 * TLS_CHACHA20_POLY1305_SHA256 (what nvmfd agrees to for a host that binds
 * a SHA-384 PSK with SHA-256, as tlshd does): two record layers facing
 * each other, data both ways across a KeyUpdate; a flipped bit is refused.
 */
static void test_chacha20(void **state)
{
	struct tls_record_secret s1 = {.len = 32}, s2 = {.len = 32};
	struct tls_record *a, *b;
	static uint8_t src[40000], wire[50000];
	struct iovec iov = {src, sizeof(src)};
	enum tls_record_event ev;
	uint8_t *data;
	size_t len, off = 0, got = 0;
	ssize_t n, m;
	int err = 0;

	(void)state;
	for (int i = 0; i < 32; i++) {
		s1.secret[i] = (uint8_t)(7 * i);
		s2.secret[i] = (uint8_t)(200 - i);
	}
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = pat(i);
	a = tls_record_new(TLS_CIPHER_CHACHA20_POLY1305_SHA256, &s1, &s2, &err);
	b = tls_record_new(TLS_CIPHER_CHACHA20_POLY1305_SHA256, &s2, &s1, &err);
	assert_non_null(a);
	assert_non_null(b);
	tls_record_key_update(a, true);
	n = tls_record_seal_data(a, &iov, 1, wire, sizeof(wire));
	assert_true(n > 0);
	while (off < (size_t)n) {
		m = tls_record_open(b, wire + off, (size_t)n - off, &ev, &data, &len);
		if (m < 0)
			fail_msg("open: %zd (%s)", m, tls_record_error(b));
		if (ev == TLS_REC_DATA) {
			assert_memory_equal(data, src + got, len);
			got += len;
		}
		off += (size_t)m;
	}
	assert_int_equal(got, sizeof(src));
	/* b owes its KeyUpdate; its answer and data open at a under a's new receive keys */
	assert_true(tls_record_tx_owed(b));
	n = tls_record_seal_data(b, &iov, 1, wire, sizeof(wire));
	assert_true(n > 0);
	wire[n - 3] ^= 1; /* the last record's tag */
	for (off = 0, got = 0;;) {
		m = tls_record_open(a, wire + off, (size_t)n - off, &ev, &data, &len);
		if (m < 0)
			break;
		got += ev == TLS_REC_DATA ? len : 0;
		off += (size_t)m;
	}
	assert_int_equal(m, -EBADMSG);
	assert_int_equal(got, 2 * TLS_MAX_FRAGMENT);
	tls_record_free(a);
	tls_record_free(b);
}

/* Output room is checked, not assumed. */
static void test_no_room(void **state)
{
	struct conn *k = malloc(sizeof(*k));
	uint8_t wire[64];
	struct iovec iov = {wire, 32};

	(void)state;
	connect_pair(k, TLS_PSK_HASH_SHA256, 32);
	assert_int_equal(tls_record_seal_data(k->r, &iov, 1, wire, 40), -ENOSPC);
	assert_int_equal(tls_record_tx_seq(k->r), 0);
	pair_free(k);
	free(k);
}

static int setup(void **state)
{
	int err = 0;

	(void)state;
	ctx = tls_ctx_new(&err);
	return ctx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tls_ctx_free(ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aes128),		cmocka_unit_test(test_aes256),
		cmocka_unit_test(test_peer_key_update), cmocka_unit_test(test_our_key_update),
		cmocka_unit_test(test_close_notify),	cmocka_unit_test(test_bad_record_mac),
		cmocka_unit_test(test_malformed),	cmocka_unit_test(test_peer_alert),
		cmocka_unit_test(test_no_room),		cmocka_unit_test(test_rekey_at_limit),
		cmocka_unit_test(test_chacha20),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
