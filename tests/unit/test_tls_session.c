/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/tls_session.c: an in-process client and server exchange their
 * bytes through memory. Handshakes for both cipher suites and every host
 * derivation, the failures a target must tell apart (wrong PSK, unknown
 * identity, a plain NVMe/TCP ICReq, corrupted and truncated records), large
 * gather writes, and the kTLS key export, checked by decrypting OpenSSL's
 * records with the exported key / IV and the RFC 8446 5.3 nonce.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "tls_session.h"

#define HOST   "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define SUBSYS "nqn.2026-11.org.example:disk0"

static struct tls_ctx *ctx;

struct store {
	struct tls_psk_key key;
	enum tls_psk_kdf kdf;
};

static int store_lookup(void *arg, const char *hostnqn, const char *subnqn, struct tls_psk_key *key,
			enum tls_psk_kdf *kdf)
{
	struct store *st = arg;

	if (strcmp(hostnqn, HOST) != 0 || strcmp(subnqn, SUBSYS) != 0)
		return -ENOKEY;
	*key = st->key;
	*kdf = st->kdf;
	return 0;
}

struct pair {
	struct store st;
	struct tls_session *c, *s;
	int c_ret, s_ret;
};

static struct tls_psk_key key_of(enum tls_psk_hash hh, size_t len, uint8_t seed)
{
	struct tls_psk_key k = {.len = len, .hash = hh};

	for (size_t i = 0; i < len; i++)
		k.key[i] = (uint8_t)(seed + 7 * i);
	return k;
}

/* A client whose host holds host_key, a server whose store holds the pair's key. */
static void pair_new(struct pair *p, struct tls_psk_key host_key, const char *hostnqn,
		     unsigned version, enum tls_psk_kdf kdf)
{
	char id[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN];
	int err = 0;

	assert_int_equal(
		tls_psk_host_derive(&host_key, hostnqn, SUBSYS, version, kdf, id, sizeof(id), psk),
		0);
	p->c = tls_session_new_client(ctx, id, psk, host_key.len, &err);
	assert_non_null(p->c);
	p->s = tls_session_new_server(ctx, store_lookup, &p->st, &err);
	assert_non_null(p->s);
	p->c_ret = p->s_ret = -EAGAIN;
}

static void pair_free(struct pair *p)
{
	tls_session_free(p->c);
	tls_session_free(p->s);
}

/* Move what one side has to send into the other. Returns the byte count. */
static size_t move(struct tls_session *from, struct tls_session *to)
{
	const uint8_t *b;
	size_t n = tls_session_pending_out(from, &b);

	if (n) {
		assert_int_equal(tls_session_feed(to, b, n), 0);
		tls_session_consume_out(from, n);
	}
	return n;
}

/* Run both handshakes until they finish, fail, or stall. */
static void pump(struct pair *p)
{
	for (int i = 0; i < 20; i++) {
		size_t moved;

		if (p->c_ret == -EAGAIN)
			p->c_ret = tls_session_handshake(p->c);
		moved = move(p->c, p->s);
		if (p->s_ret == -EAGAIN)
			p->s_ret = tls_session_handshake(p->s);
		moved += move(p->s, p->c);
		if (moved == 0 && p->c_ret != -EAGAIN && p->s_ret != -EAGAIN)
			return;
		if (moved == 0 && i > 0 && (p->c_ret != -EAGAIN || p->s_ret != -EAGAIN))
			return;
	}
}

static void send_all(struct tls_session *from, struct tls_session *to, const void *buf, size_t len)
{
	struct iovec iov = {(void *)buf, len};

	assert_int_equal(tls_session_write(from, &iov, 1), (ssize_t)len);
	move(from, to);
}

static void recv_all(struct tls_session *s, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = tls_session_read(s, (uint8_t *)buf + got, len - got);

		if (n <= 0)
			fail_msg("read: %zd (%s)", n, tls_session_error(s));
		got += (size_t)n;
	}
}

static void handshake_ok(enum tls_psk_hash hh, size_t len, unsigned version,
			 enum tls_psk_kdf host_kdf, enum tls_cipher want)
{
	struct pair p = {.st = {.key = key_of(hh, len, 1), .kdf = TLS_PSK_KDF_RFC8446}};
	char buf[64];

	/* hosts that cannot be told apart must be configured as what they are */
	if (version == 0 || hh == TLS_PSK_HASH_NONE)
		p.st.kdf = host_kdf;
	pair_new(&p, key_of(hh, len, 1), HOST, version, host_kdf);
	pump(&p);
	if (p.c_ret || p.s_ret)
		fail_msg("client %d (%s), server %d (%s)", p.c_ret, tls_session_error(p.c), p.s_ret,
			 tls_session_error(p.s));
	assert_true(tls_session_handshake_done(p.s));
	assert_int_equal(tls_session_cipher(p.s), want);
	assert_int_equal(tls_session_cipher(p.c), want);
	assert_string_equal(tls_session_identity(p.s), tls_session_identity(p.c));
	assert_memory_equal(tls_session_identity(p.s), version ? "NVMe1R0" : "NVMe0R0", 7);

	send_all(p.c, p.s, "ICReq", 5);
	recv_all(p.s, buf, 5);
	assert_memory_equal(buf, "ICReq", 5);
	send_all(p.s, p.c, "ICResp", 6);
	recv_all(p.c, buf, 6);
	assert_memory_equal(buf, "ICResp", 6);
	assert_int_equal(tls_session_read(p.s, buf, sizeof(buf)), -EAGAIN);

	/* close_notify: a clean end of stream */
	assert_int_equal(tls_session_close(p.c), 0);
	move(p.c, p.s);
	assert_int_equal(tls_session_read(p.s, buf, sizeof(buf)), 0);
	pair_free(&p);
}

static void test_handshake_aes128(void **state)
{
	(void)state;
	handshake_ok(TLS_PSK_HASH_SHA256, 32, 1, TLS_PSK_KDF_RFC8446,
		     TLS_CIPHER_AES_128_GCM_SHA256);
	handshake_ok(TLS_PSK_HASH_SHA256, 32, 0, TLS_PSK_KDF_RFC8446,
		     TLS_CIPHER_AES_128_GCM_SHA256);
	handshake_ok(TLS_PSK_HASH_NONE, 32, 1, TLS_PSK_KDF_RFC8446, TLS_CIPHER_AES_128_GCM_SHA256);
}

static void test_handshake_aes256(void **state)
{
	(void)state;
	handshake_ok(TLS_PSK_HASH_SHA384, 48, 1, TLS_PSK_KDF_RFC8446,
		     TLS_CIPHER_AES_256_GCM_SHA384);
	handshake_ok(TLS_PSK_HASH_SHA384, 48, 0, TLS_PSK_KDF_RFC8446,
		     TLS_CIPHER_AES_256_GCM_SHA384);
	handshake_ok(TLS_PSK_HASH_NONE, 48, 0, TLS_PSK_KDF_RFC8446, TLS_CIPHER_AES_256_GCM_SHA384);
}

/* nvme-cli 2.13's derivation: detected from the NVMe1 digest, configured for NVMe0. */
static void test_handshake_libnvme_compat(void **state)
{
	(void)state;
	handshake_ok(TLS_PSK_HASH_SHA256, 32, 1, TLS_PSK_KDF_LIBNVME_COMPAT,
		     TLS_CIPHER_AES_128_GCM_SHA256);
	handshake_ok(TLS_PSK_HASH_SHA384, 48, 1, TLS_PSK_KDF_LIBNVME_LAST_INFO,
		     TLS_CIPHER_AES_256_GCM_SHA384);
	handshake_ok(TLS_PSK_HASH_SHA256, 32, 0, TLS_PSK_KDF_LIBNVME_COMPAT,
		     TLS_CIPHER_AES_128_GCM_SHA256);
}

static void expect_failure(struct pair *p, int s_err, const char *s_why)
{
	pump(p);
	assert_int_equal(p->s_ret, s_err);
	if (strstr(tls_session_error(p->s), s_why) == NULL)
		fail_msg("server reason '%s' lacks '%s'", tls_session_error(p->s), s_why);
	/* the error sticks */
	assert_int_equal(tls_session_handshake(p->s), s_err);
	assert_false(tls_session_handshake_done(p->s));
	/* the client learns of it from the alert */
	assert_true(p->c_ret < 0 && p->c_ret != -EAGAIN);
	assert_false(tls_session_handshake_done(p->c));
}

static void test_wrong_psk(void **state)
{
	struct pair p = {.st = {.key = key_of(1, 32, 1)}};

	(void)state;
	/* NVMe0: the identity matches, the binder does not */
	pair_new(&p, key_of(1, 32, 2), HOST, 0, TLS_PSK_KDF_RFC8446);
	expect_failure(&p, -EKEYREJECTED, "binder");
	assert_int_equal(p.c_ret, -EKEYREJECTED);
	assert_non_null(strstr(tls_session_error(p.c), "another PSK"));
	pair_free(&p);

	/* the same with SHA-384 */
	p.st.key = key_of(2, 48, 1);
	pair_new(&p, key_of(2, 48, 2), HOST, 0, TLS_PSK_KDF_RFC8446);
	expect_failure(&p, -EKEYREJECTED, "binder");
	pair_free(&p);

	/* NVMe1: the digest already shows it */
	p.st.key = key_of(1, 32, 1);
	pair_new(&p, key_of(1, 32, 2), HOST, 1, TLS_PSK_KDF_RFC8446);
	expect_failure(&p, -EKEYREJECTED, "digest");
	pair_free(&p);

	/* a host key of the other hash */
	pair_new(&p, key_of(2, 48, 1), HOST, 0, TLS_PSK_KDF_RFC8446);
	expect_failure(&p, -EKEYREJECTED, "hash");
	pair_free(&p);
}

static void test_unknown_identity(void **state)
{
	struct pair p = {.st = {.key = key_of(1, 32, 1)}};

	(void)state;
	pair_new(&p, key_of(1, 32, 1), "nqn.2026-11.org.example:stranger", 1, TLS_PSK_KDF_RFC8446);
	expect_failure(&p, -ENOKEY, "no PSK configured");
	pair_free(&p);
}

/* What a host without --tls sends first: an ICReq (PDU type 0, hlen 128). */
static void test_plain_icreq(void **state)
{
	uint8_t icreq[128] = {0x00, 0x00, 128, 0, 128, 0, 0, 0};
	struct store st = {.key = key_of(1, 32, 1)};
	struct tls_session *s;
	int err;

	(void)state;
	assert_int_equal(tls_looks_like_client_hello(icreq, sizeof(icreq)), 0);
	assert_int_equal(tls_looks_like_client_hello(icreq, 0), -EAGAIN);
	assert_int_equal(tls_looks_like_client_hello((const uint8_t *)"\x16", 1), 1);
	assert_int_equal(
		tls_looks_like_client_hello((const uint8_t *)"\x16\x03\x01\x00\x80\x01", 6), 1);
	assert_int_equal(
		tls_looks_like_client_hello((const uint8_t *)"\x16\x03\x01\x00\x80\x02", 6), 0);
	assert_int_equal(tls_looks_like_client_hello((const uint8_t *)"\x16\x03\x01\x00\x00", 5),
			 0);
	assert_int_equal(tls_looks_like_client_hello((const uint8_t *)"\x16\x02", 2), 0);
	assert_int_equal(tls_looks_like_client_hello((const uint8_t *)"GET ", 4), 0);

	s = tls_session_new_server(ctx, store_lookup, &st, &err);
	assert_non_null(s);
	/* nothing yet, then the first 4 bytes of a ClientHello-looking header */
	assert_int_equal(tls_session_handshake(s), -EAGAIN);
	assert_int_equal(tls_session_feed(s, icreq, sizeof(icreq)), 0);
	assert_int_equal(tls_session_handshake(s), -EPROTO);
	assert_non_null(strstr(tls_session_error(s), "ICReq"));
	tls_session_free(s);
}

static void connected(struct pair *p, enum tls_psk_hash hh, size_t len)
{
	p->st.key = key_of(hh, len, 3);
	p->st.kdf = TLS_PSK_KDF_RFC8446;
	pair_new(p, p->st.key, HOST, 1, TLS_PSK_KDF_RFC8446);
	pump(p);
	assert_int_equal(p->c_ret, 0);
	assert_int_equal(p->s_ret, 0);
}

/* Take the client's next output without giving it to the server. */
static size_t take_out(struct tls_session *s, uint8_t *buf, size_t cap)
{
	const uint8_t *b;
	size_t n = tls_session_pending_out(s, &b);

	assert_true(n <= cap);
	memcpy(buf, b, n);
	tls_session_consume_out(s, n);
	return n;
}

static void test_corrupted_record(void **state)
{
	static uint8_t wire[3 * (TLS_MAX_FRAGMENT + 64)];
	struct iovec iov;
	struct pair p;
	uint8_t data[100], got[100];
	size_t n = 0, rec;

	(void)state;
	connected(&p, 1, 32);
	memset(data, 0xa5, sizeof(data));
	iov = (struct iovec){data, sizeof(data)};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tls_session_write(p.c, &iov, 1), (ssize_t)sizeof(data));
		n += take_out(p.c, wire + n, sizeof(wire) - n);
	}
	rec = n / 3;
	wire[rec + 20] ^= 0x01; /* a ciphertext bit of the second record */
	assert_int_equal(tls_session_feed(p.s, wire, n), 0);
	recv_all(p.s, got, sizeof(got));
	assert_memory_equal(got, data, sizeof(data));
	assert_int_equal(tls_session_read(p.s, got, sizeof(got)), -EBADMSG);
	assert_non_null(strstr(tls_session_error(p.s), "bad record MAC"));
	assert_int_equal(tls_session_read(p.s, got, sizeof(got)), -EBADMSG);
	assert_int_equal(tls_session_write(p.s, &iov, 1), -EBADMSG);
	/* the server told the client */
	move(p.s, p.c);
	assert_int_equal(tls_session_read(p.c, got, sizeof(got)), -EBADMSG);
	assert_non_null(strstr(tls_session_error(p.c), "bad_record_mac"));
	pair_free(&p);
}

static void test_truncated_record(void **state)
{
	static uint8_t wire[TLS_MAX_FRAGMENT + 64];
	struct iovec iov;
	struct pair p;
	uint8_t data[200], got[200];
	size_t n;

	(void)state;
	connected(&p, 2, 48);
	memset(data, 0x5a, sizeof(data));
	iov = (struct iovec){data, sizeof(data)};
	assert_int_equal(tls_session_write(p.c, &iov, 1), (ssize_t)sizeof(data));
	n = take_out(p.c, wire, sizeof(wire));
	/* all but the last 10 bytes: not yet a record */
	assert_int_equal(tls_session_feed(p.s, wire, n - 10), 0);
	assert_int_equal(tls_session_read(p.s, got, sizeof(got)), -EAGAIN);
	/* ... and then the connection ends */
	tls_session_feed_eof(p.s);
	assert_int_equal(tls_session_read(p.s, got, sizeof(got)), -ECONNRESET);
	pair_free(&p);

	/* a record whose length field was shortened: the tag is wrong */
	connected(&p, 1, 32);
	assert_int_equal(tls_session_write(p.c, &iov, 1), (ssize_t)sizeof(data));
	n = take_out(p.c, wire, sizeof(wire));
	wire[4] -= 10;
	assert_int_equal(tls_session_feed(p.s, wire, n - 10), 0);
	assert_int_equal(tls_session_read(p.s, got, sizeof(got)), -EBADMSG);
	pair_free(&p);
}

/* Parse the record headers in buf: their count, and no record over 2^14 + 256. */
static int count_records(const uint8_t *b, size_t n)
{
	int count = 0;

	while (n >= 5) {
		size_t len = (size_t)b[3] << 8 | b[4];

		assert_int_equal(b[0], 23);
		assert_true(len <= TLS_MAX_FRAGMENT + 256);
		assert_true(5 + len <= n);
		b += 5 + len;
		n -= 5 + len;
		count++;
	}
	assert_int_equal(n, 0);
	return count;
}

static void test_large_gather_write(void **state)
{
	static uint8_t payload[128 * 1024], got[128 * 1024 + 64];
	uint8_t hdr[24], ddgst[4] = {1, 2, 3, 4};
	const struct iovec iov[3] = {
		{hdr, sizeof(hdr)}, {payload, sizeof(payload)}, {ddgst, sizeof(ddgst)}};
	size_t total = sizeof(hdr) + sizeof(payload) + sizeof(ddgst), off = 0;
	const uint8_t *b;
	size_t n;
	struct pair p;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + (i >> 9));
	memset(hdr, 0x07, sizeof(hdr));
	connected(&p, 1, 32);
	assert_int_equal(tls_session_write(p.c, iov, 3), (ssize_t)total);
	n = tls_session_pending_out(p.c, &b);
	/* full records: ceil(131100 / 16384) = 9 */
	assert_int_equal(count_records(b, n),
			 (int)((total + TLS_MAX_FRAGMENT - 1) / TLS_MAX_FRAGMENT));
	/* deliver in odd pieces, reading as it goes */
	while (n > 0) {
		size_t piece = n < 1237 ? n : 1237;
		ssize_t r;

		assert_int_equal(tls_session_feed(p.s, b, piece), 0);
		tls_session_consume_out(p.c, piece);
		n = tls_session_pending_out(p.c, &b);
		while ((r = tls_session_read(p.s, got + off, sizeof(got) - off)) > 0)
			off += (size_t)r;
		assert_int_equal(r, -EAGAIN);
	}
	assert_int_equal(off, total);
	assert_memory_equal(got, hdr, sizeof(hdr));
	assert_memory_equal(got + sizeof(hdr), payload, sizeof(payload));
	assert_memory_equal(got + sizeof(hdr) + sizeof(payload), ddgst, sizeof(ddgst));

	/* and back, as many small iovecs */
	{
		struct iovec many[64];

		for (int i = 0; i < 64; i++)
			many[i] = (struct iovec){payload + i * 2048, 2048};
		assert_int_equal(tls_session_write(p.s, many, 64), 64 * 2048);
		n = tls_session_pending_out(p.s, &b);
		assert_int_equal(count_records(b, n), 8);
		move(p.s, p.c);
		recv_all(p.c, got, 64 * 2048);
		assert_memory_equal(got, payload, 64 * 2048);
	}
	pair_free(&p);
}

/*
 * Open one TLSCiphertext with k (RFC 8446 5.2 / 5.3): nonce = iv XOR the
 * 64-bit sequence number left-padded; additional data = the record header;
 * the plaintext ends with the content type then zero padding.
 */
static size_t open_record(const struct tls_traffic_keys *k, uint64_t seq, const uint8_t *rec,
			  uint8_t *out)
{
	size_t len = (size_t)rec[3] << 8 | rec[4], ct = len - 16;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int n = 0, fin = 0;

	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
	assert_int_equal(
		EVP_DecryptInit_ex(c, k->key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(),
				   NULL, k->key, nonce),
		1);
	assert_int_equal(EVP_DecryptUpdate(c, NULL, &n, rec, 5), 1);
	assert_int_equal(EVP_DecryptUpdate(c, out, &n, rec + 5, (int)ct), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(rec + 5 + ct)),
			 1);
	fin = EVP_DecryptFinal_ex(c, out + n, &n);
	EVP_CIPHER_CTX_free(c);
	assert_int_equal(fin, 1);
	while (ct > 0 && out[ct - 1] == 0)
		ct--;
	assert_true(ct > 0);
	assert_int_equal(out[ct - 1], 23); /* application_data */
	return ct - 1;
}

static void export_check(enum tls_psk_hash hh, size_t len)
{
	static uint8_t wire[4 * (TLS_MAX_FRAGMENT + 64)], plain[TLS_MAX_FRAGMENT + 256];
	struct tls_traffic_keys ctx_tx, ctx_rx, srv_tx, srv_rx;
	union tls_ktls_crypto_info ki;
	const char *msg[3] = {"first record", "second", "third record, at seq 2"};
	struct pair p;
	size_t n, off, info_len;
	char buf[64];

	connected(&p, hh, len);
	/* the handshake left nothing unread: both directions start at 0 */
	assert_int_equal(tls_session_export_keys(p.c, &ctx_tx, &ctx_rx), 0);
	assert_int_equal(tls_session_export_keys(p.s, &srv_tx, &srv_rx), 0);
	assert_int_equal(ctx_tx.seq, 0);
	assert_int_equal(srv_rx.seq, 0);
	assert_int_equal(ctx_tx.key_len, len == 32 ? 16 : 32);
	assert_memory_equal(ctx_tx.key, srv_rx.key, ctx_tx.key_len);
	assert_memory_equal(ctx_tx.iv, srv_rx.iv, 12);
	assert_memory_equal(srv_tx.key, ctx_rx.key, srv_tx.key_len);
	assert_memory_equal(srv_tx.iv, ctx_rx.iv, 12);
	assert_memory_not_equal(ctx_tx.key, srv_tx.key, ctx_tx.key_len);

	/* three client records open with the server's rx keys at seq 0, 1, 2 */
	n = 0;
	for (int i = 0; i < 3; i++) {
		struct iovec iov = {(void *)msg[i], strlen(msg[i])};

		assert_int_equal(tls_session_write(p.c, &iov, 1), (ssize_t)iov.iov_len);
		n += take_out(p.c, wire + n, sizeof(wire) - n);
	}
	off = 0;
	for (int i = 0; i < 3; i++) {
		size_t m = open_record(&srv_rx, (uint64_t)i, wire + off, plain);

		assert_int_equal(m, strlen(msg[i]));
		assert_memory_equal(plain, msg[i], m);
		off += 5 + ((size_t)wire[off + 3] << 8 | wire[off + 4]);
	}
	assert_int_equal(off, n);

	/* buffered input: rx cannot move to the kernel yet */
	assert_int_equal(tls_session_feed(p.s, wire, n), 0);
	assert_int_equal(tls_session_export_keys(p.s, NULL, &srv_rx), -EBUSY);
	recv_all(p.s, buf, strlen(msg[0]) + strlen(msg[1]) + strlen(msg[2]));
	assert_int_equal(tls_session_export_keys(p.s, NULL, &srv_rx), 0);
	assert_int_equal(srv_rx.seq, 3);

	/* a server record opens with the client's rx keys at seq 0 */
	send_all(p.s, p.c, "ICResp", 6);
	assert_int_equal(tls_session_export_keys(p.s, &srv_tx, NULL), 0);
	assert_int_equal(srv_tx.seq, 1);
	{
		const uint8_t *b;

		/* moved already: re-create the record from a fresh write */
		struct iovec iov = {"R2T", 3};

		assert_int_equal(tls_session_write(p.s, &iov, 1), 3);
		assert_true(tls_session_pending_out(p.s, &b) > 0);
		assert_int_equal(open_record(&ctx_rx, 1, b, plain), 3);
		assert_memory_equal(plain, "R2T", 3);
		move(p.s, p.c);
	}
	recv_all(p.c, buf, 9);
	assert_int_equal(tls_session_export_keys(p.c, &ctx_tx, &ctx_rx), 0);
	assert_int_equal(ctx_tx.seq, 3);
	assert_int_equal(ctx_rx.seq, 2);

	/* kTLS layout: salt = iv[0..3], iv = iv[4..11], rec_seq big-endian */
	assert_int_equal(tls_traffic_keys_to_ktls(&ctx_rx, &ki, &info_len), 0);
	if (len == 32) {
		assert_int_equal(info_len, sizeof(ki.aes128));
		assert_int_equal(ki.aes128.info.version, TLS_1_3_VERSION);
		assert_int_equal(ki.aes128.info.cipher_type, TLS_CIPHER_AES_GCM_128);
		assert_memory_equal(ki.aes128.key, ctx_rx.key, 16);
		assert_memory_equal(ki.aes128.salt, ctx_rx.iv, 4);
		assert_memory_equal(ki.aes128.iv, ctx_rx.iv + 4, 8);
		assert_memory_equal(ki.aes128.rec_seq, "\0\0\0\0\0\0\0\2", 8);
	} else {
		assert_int_equal(info_len, sizeof(ki.aes256));
		assert_int_equal(ki.aes256.info.cipher_type, TLS_CIPHER_AES_GCM_256);
		assert_memory_equal(ki.aes256.key, ctx_rx.key, 32);
		assert_memory_equal(ki.aes256.salt, ctx_rx.iv, 4);
		assert_memory_equal(ki.aes256.iv, ctx_rx.iv + 4, 8);
		assert_memory_equal(ki.aes256.rec_seq, "\0\0\0\0\0\0\0\2", 8);
	}
	tls_traffic_keys_clear(&ctx_tx);
	tls_traffic_keys_clear(&ctx_rx);
	tls_traffic_keys_clear(&srv_tx);
	tls_traffic_keys_clear(&srv_rx);
	pair_free(&p);
}

static void test_key_export(void **state)
{
	(void)state;
	export_check(TLS_PSK_HASH_SHA256, 32);
	export_check(TLS_PSK_HASH_SHA384, 48);
}

static void test_before_handshake(void **state)
{
	struct pair p = {.st = {.key = key_of(1, 32, 1)}};
	struct tls_traffic_keys k;
	struct iovec iov = {"x", 1};
	char buf[4];

	(void)state;
	pair_new(&p, key_of(1, 32, 1), HOST, 1, TLS_PSK_KDF_RFC8446);
	assert_int_equal(tls_session_write(p.c, &iov, 1), -ENOTCONN);
	assert_int_equal(tls_session_read(p.s, buf, sizeof(buf)), -ENOTCONN);
	assert_int_equal(tls_session_export_keys(p.s, &k, NULL), -ENOTCONN);
	assert_null(tls_session_identity(p.s));
	/* the peer goes away mid-handshake */
	assert_int_equal(tls_session_handshake(p.c), -EAGAIN);
	move(p.c, p.s);
	tls_session_feed_eof(p.c);
	assert_int_equal(tls_session_handshake(p.c), -ECONNRESET);
	pair_free(&p);
}

/*
 * A client that is not ours: plain OpenSSL offering both suites, AES-128
 * first, as a host with its own preferences might. With psk_len 0 it
 * offers no PSK at all (a certificate handshake).
 */
static const uint8_t *raw_psk;
static size_t raw_psk_len;
static const char *raw_identity;

static int raw_use_psk(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		       SSL_SESSION **sess)
{
	static const unsigned char aes256[2] = {0x13, 0x02};

	*sess = SSL_SESSION_new();
	assert_non_null(*sess);
	assert_int_equal(SSL_SESSION_set1_master_key(*sess, raw_psk, raw_psk_len), 1);
	assert_int_equal(SSL_SESSION_set_cipher(*sess, SSL_CIPHER_find(ssl, aes256)), 1);
	assert_int_equal(SSL_SESSION_set_protocol_version(*sess, TLS1_3_VERSION), 1);
	*id = (const unsigned char *)raw_identity;
	*idlen = strlen(raw_identity);
	return 1;
}

/* Run a raw OpenSSL client against our server; the server's result. */
static int raw_client_vs_server(struct tls_session *srv, bool with_psk)
{
	SSL_CTX *x = SSL_CTX_new(TLS_client_method());
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	SSL *c;
	int sr = -EAGAIN;

	assert_non_null(x);
	assert_int_equal(SSL_CTX_set_min_proto_version(x, TLS1_3_VERSION), 1);
	assert_int_equal(SSL_CTX_set_ciphersuites(x, "TLS_AES_128_GCM_SHA256:"
						     "TLS_AES_256_GCM_SHA384"),
			 1);
	c = SSL_new(x);
	SSL_set_bio(c, in, out);
	if (with_psk)
		SSL_set_psk_use_session_callback(c, raw_use_psk);
	SSL_set_connect_state(c);
	for (int i = 0; i < 10 && sr == -EAGAIN; i++) {
		uint8_t buf[4096];
		const uint8_t *b;
		int n;
		size_t m;

		SSL_do_handshake(c);
		while ((n = BIO_read(out, buf, sizeof(buf))) > 0)
			assert_int_equal(tls_session_feed(srv, buf, (size_t)n), 0);
		sr = tls_session_handshake(srv);
		m = tls_session_pending_out(srv, &b);
		if (m)
			assert_int_equal(BIO_write(in, b, (int)m), (int)m);
		tls_session_consume_out(srv, m);
	}
	if (sr == 0)
		assert_int_equal(SSL_do_handshake(c), 1);
	SSL_free(c);
	SSL_CTX_free(x);
	return sr;
}

/*
 * OpenSSL picks the suite before it looks at the PSK: a SHA-384 identity
 * from a host that prefers AES-128 still gets AES-256, because the server
 * narrows the suites to the identity's hash. A ClientHello without a PSK
 * is refused early.
 */
static void test_foreign_client(void **state)
{
	struct store st = {.key = key_of(2, 48, 5)};
	char id[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN];
	struct tls_session *s;
	int err;

	(void)state;
	assert_int_equal(tls_psk_host_derive(&st.key, HOST, SUBSYS, 1, TLS_PSK_KDF_RFC8446, id,
					     sizeof(id), psk),
			 0);
	raw_identity = id;
	raw_psk = psk;
	raw_psk_len = 48;
	s = tls_session_new_server(ctx, store_lookup, &st, &err);
	assert_non_null(s);
	assert_int_equal(raw_client_vs_server(s, true), 0);
	assert_int_equal(tls_session_cipher(s), TLS_CIPHER_AES_256_GCM_SHA384);
	assert_string_equal(tls_session_identity(s), id);
	tls_session_free(s);

	s = tls_session_new_server(ctx, store_lookup, &st, &err);
	assert_non_null(s);
	assert_int_equal(raw_client_vs_server(s, false), -EPROTO);
	assert_non_null(strstr(tls_session_error(s), "no PSK"));
	tls_session_free(s);
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
		cmocka_unit_test(test_handshake_aes128),
		cmocka_unit_test(test_handshake_aes256),
		cmocka_unit_test(test_handshake_libnvme_compat),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_unknown_identity),
		cmocka_unit_test(test_plain_icreq),
		cmocka_unit_test(test_corrupted_record),
		cmocka_unit_test(test_truncated_record),
		cmocka_unit_test(test_large_gather_write),
		cmocka_unit_test(test_key_export),
		cmocka_unit_test(test_before_handshake),
		cmocka_unit_test(test_foreign_client),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
