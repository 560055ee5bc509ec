/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenSSL 3 drives the protocol; this file gives it a BIO over two byte
 * queues, installs the external PSK (RFC 8446 4.2.11) from either side,
 * follows record boundaries for the kTLS sequence numbers, and turns
 * OpenSSL's error queue into an errno and a reason.
 */
#include "tls_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls_ktls.h"
#include "tls_record.h"

#define CIPHERS "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"

struct tls_ctx {
	SSL_CTX *ssl_ctx;
	BIO_METHOD *bio_meth;
};

/* A byte queue: data in [head, tail) of p. */
struct byteq {
	uint8_t *p;
	size_t head, tail, cap;
};

/*
 * Follows record boundaries in one direction's byte stream, counting the
 * records that start once the handshake is complete: those are protected
 * with the application traffic keys, so their count is the next sequence
 * number (RFC 8446 5.3).
 */
struct rec_scan {
	uint8_t hdr[TLS_RECORD_HDR];
	size_t have;	  /* header bytes seen of the current record */
	size_t body_left; /* body bytes still to come */
	uint64_t app_records;
};

struct tls_session {
	SSL *ssl;
	bool server;
	bool hs_done;
	bool first_checked; /* server: the first bytes looked like a ClientHello */
	bool in_eof;
	bool key_updated;
	int err; /* sticky failure */
	char why[160];

	struct byteq in, out;
	struct rec_scan rx_scan, tx_scan;
	uint8_t *staging; /* TLS_MAX_FRAGMENT bytes, for gather writes */

	/* set by callbacks during the handshake, reported after it */
	int cb_err;
	const char *cb_why;
	int alert_rcvd; /* -1: none */

	tls_psk_lookup_fn lookup;
	void *lookup_arg;
	char identity[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN]; /* client: the TLS PSK to offer */
	/* server: the host binds its SHA-384 PSK with SHA-256 (client_hello_cb) */
	bool sha256_binder;
	size_t psk_len;
	enum tls_cipher cipher;

	uint8_t secret_tx[TLS_PSK_MAX_LEN], secret_rx[TLS_PSK_MAX_LEN];
	size_t secret_tx_len, secret_rx_len;
};

/* ---- byte queues ---- */

static int byteq_put(struct byteq *q, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (q->cap - q->tail < len) {
		size_t used = q->tail - q->head;

		if (q->head > 0) {
			memmove(q->p, q->p + q->head, used);
			q->head = 0;
			q->tail = used;
		}
		if (q->cap - q->tail < len) {
			size_t cap = q->cap ? q->cap : 4096;
			uint8_t *np;

			while (cap - used < len)
				cap *= 2;
			np = realloc(q->p, cap);
			if (np == NULL)
				return -ENOMEM;
			q->p = np;
			q->cap = cap;
		}
	}
	memcpy(q->p + q->tail, buf, len);
	q->tail += len;
	return 0;
}

static size_t byteq_len(const struct byteq *q)
{
	return q->tail - q->head;
}

static void byteq_drop(struct byteq *q, size_t n)
{
	q->head += n;
	if (q->head == q->tail)
		q->head = q->tail = 0;
}

static void byteq_free(struct byteq *q)
{
	if (q->p)
		OPENSSL_clear_free(q->p, q->cap);
	memset(q, 0, sizeof(*q));
}

static void rec_scan(struct rec_scan *r, const uint8_t *p, size_t n, bool app)
{
	while (n > 0) {
		size_t take;

		if (r->have < TLS_RECORD_HDR) {
			take = TLS_RECORD_HDR - r->have < n ? TLS_RECORD_HDR - r->have : n;
			memcpy(r->hdr + r->have, p, take);
			r->have += take;
			if (r->have == TLS_RECORD_HDR) {
				r->body_left = tls_record_body_len(r->hdr);
				r->app_records += app;
			}
		} else {
			take = r->body_left < n ? r->body_left : n;
			r->body_left -= take;
		}
		p += take;
		n -= take;
		if (r->have == TLS_RECORD_HDR && r->body_left == 0)
			r->have = 0;
	}
}

static bool rec_scan_mid_record(const struct rec_scan *r)
{
	return r->have != 0;
}

/* ---- the BIO between OpenSSL and the queues ---- */

static int bio_write(BIO *b, const char *buf, int len)
{
	struct tls_session *s = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (byteq_put(&s->out, buf, (size_t)len))
		return -1;
	rec_scan(&s->tx_scan, (const uint8_t *)buf, (size_t)len, s->hs_done);
	return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
	struct tls_session *s = BIO_get_data(b);
	size_t n = byteq_len(&s->in);

	BIO_clear_retry_flags(b);
	if (n == 0) {
		if (s->in_eof)
			return 0;
		BIO_set_retry_read(b);
		return -1;
	}
	if (len <= 0)
		return 0;
	if (n > (size_t)len)
		n = (size_t)len;
	memcpy(buf, s->in.p + s->in.head, n);
	rec_scan(&s->rx_scan, s->in.p + s->in.head, n, s->hs_done);
	byteq_drop(&s->in, n);
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_session *s = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return s->in_eof && byteq_len(&s->in) == 0;
	case BIO_CTRL_PENDING:
		return (long)byteq_len(&s->in);
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* ---- errors ---- */

static int fail(struct tls_session *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct tls_session *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return s->err;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->err = err;
	return err;
}

/* Map what OpenSSL reports for a failed call to an errno and a reason. */
static int fail_ssl(struct tls_session *s, int ssl_ret)
{
	int e = SSL_get_error(s->ssl, ssl_ret);
	unsigned long code = ERR_peek_last_error();
	int reason = ERR_GET_REASON(code);
	const char *alert = s->alert_rcvd >= 0 ? SSL_alert_desc_string_long(s->alert_rcvd) : NULL;

	ERR_clear_error();
	if (s->cb_err)
		return fail(s, s->cb_err, "%s", s->cb_why);
	if (e == SSL_ERROR_SYSCALL && code == 0)
		return fail(s, -ECONNRESET, "input ended inside a record");
	switch (reason) {
	case SSL_R_BINDER_DOES_NOT_VERIFY:
		return fail(s, -EKEYREJECTED, "PSK binder does not verify: the peer's PSK differs");
	case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
	case SSL_R_DECRYPTION_FAILED:
		return fail(s, -EBADMSG, "bad record MAC: corrupted record");
	case SSL_R_SSLV3_ALERT_BAD_RECORD_MAC:
		return fail(s, -EBADMSG, "peer sent bad_record_mac");
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_DATA_LENGTH_TOO_LONG:
	case SSL_R_LENGTH_MISMATCH:
	case SSL_R_WRONG_VERSION_NUMBER:
		return fail(s, -EBADMSG, "malformed record: %s", ERR_reason_error_string(code));
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return fail(s, -ECONNRESET, "input ended inside a record or without close_notify");
	case SSL_R_NO_SHARED_CIPHER:
		return fail(s, -EPROTO, "no shared cipher suite (" CIPHERS ")");
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		return fail(s, -EPROTO, "peer does not offer TLS 1.3");
	default:
		break;
	}
	/*
	 * RFC 8446 6.2 names decrypt_error for a binder that does not
	 * validate; OpenSSL before 3.2 sends illegal_parameter instead. In a
	 * PSK-only handshake either means the peer has another key.
	 */
	if (!s->hs_done &&
	    (s->alert_rcvd == TLS1_AD_DECRYPT_ERROR || s->alert_rcvd == SSL_AD_ILLEGAL_PARAMETER))
		return fail(s, -EKEYREJECTED, "peer sent %s: it has another PSK", alert);
	if (!s->hs_done && s->alert_rcvd == TLS1_AD_UNKNOWN_PSK_IDENTITY)
		return fail(s, -ENOKEY, "peer knows no PSK for our identity");
	if (!s->hs_done && s->alert_rcvd == SSL_AD_HANDSHAKE_FAILURE)
		return fail(s, -ECONNABORTED,
			    "peer sent handshake_failure (no PSK for our "
			    "identity, or no shared cipher suite)");
	if (alert)
		return fail(s, -ECONNABORTED, "peer sent alert %s", alert);
	return fail(s, -EPROTO, "TLS error: %s", code ? ERR_reason_error_string(code) : "unknown");
}

/* ---- OpenSSL callbacks ---- */

static void info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_session *s = SSL_get_app_data(ssl);

	/* SSL_CB_READ_ALERT shares SSL_CB_ALERT with SSL_CB_WRITE_ALERT: both bits */
	if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && (ret >> 8) == SSL3_AL_FATAL)
		s->alert_rcvd = ret & 0xff;
}

/* A KeyUpdate changes the keys kTLS would need: refuse to export after one. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
		   SSL *ssl, void *arg)
{
	struct tls_session *s = SSL_get_app_data(ssl);
	const uint8_t *b = buf;

	if (content_type == SSL3_RT_HANDSHAKE && len > 0 && b[0] == SSL3_MT_KEY_UPDATE &&
	    s->hs_done)
		s->key_updated = true;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "<LABEL> <client random hex> <secret hex>" (the NSS key log format) */
static void keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_session *s = SSL_get_app_data(ssl);
	bool client = strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0;
	const char *hex = strrchr(line, ' ');
	uint8_t *dst;
	size_t *dlen, n;

	if (hex == NULL || (!client && strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) != 0))
		return;
	/* the client's secret protects what the client sends */
	dst = client == s->server ? s->secret_rx : s->secret_tx;
	dlen = client == s->server ? &s->secret_rx_len : &s->secret_tx_len;
	hex++;
	n = strlen(hex) / 2;
	if (n > TLS_PSK_MAX_LEN)
		return;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	*dlen = n;
}

static const SSL_CIPHER *cipher_for(SSL *ssl, enum tls_psk_hash h)
{
	static const unsigned char aes128[2] = {0x13, 0x01}, aes256[2] = {0x13, 0x02};

	return SSL_CIPHER_find(ssl, h == TLS_PSK_HASH_SHA384 ? aes256 : aes128);
}

/* An SSL_SESSION carrying an external PSK for this cipher (RFC 8446 4.2.11). */
static SSL_SESSION *psk_session(SSL *ssl, const uint8_t *psk, size_t len, bool sha256)
{
	const SSL_CIPHER *c =
		cipher_for(ssl, len == 48 && !sha256 ? TLS_PSK_HASH_SHA384 : TLS_PSK_HASH_SHA256);
	SSL_SESSION *sess = SSL_SESSION_new();

	if (sess == NULL || c == NULL || !SSL_SESSION_set1_master_key(sess, psk, len) ||
	    !SSL_SESSION_set_cipher(sess, c) ||
	    !SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION)) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	return sess;
}

static int psk_use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		      SSL_SESSION **sess)
{
	struct tls_session *s = SSL_get_app_data(ssl);
	const SSL_CIPHER *c =
		cipher_for(ssl, s->psk_len == 48 ? TLS_PSK_HASH_SHA384 : TLS_PSK_HASH_SHA256);

	*sess = NULL;
	/* after a HelloRetryRequest md is the chosen suite's: ours or nothing */
	if (md != NULL && (c == NULL || md != SSL_CIPHER_get_handshake_digest(c)))
		return 1;
	*sess = psk_session(ssl, s->psk, s->psk_len, false);
	if (*sess == NULL)
		return 0;
	*id = (const unsigned char *)s->identity;
	*idlen = strlen(s->identity);
	return 1;
}

static int psk_find_cb(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	struct tls_session *s = SSL_get_app_data(ssl);
	struct tls_psk_resolved r;
	const char *why = NULL;
	int ret;

	*sess = NULL;
	ret = tls_psk_resolve((const char *)id, idlen, s->lookup, s->lookup_arg, &r, &why);
	if (ret) {
		/*
		 * Keep the first reason; OpenSSL goes on to the next identity.
		 * An identity this target cannot parse or does not serve is as
		 * unknown as one of an unknown host.
		 */
		if (!s->cb_err) {
			s->cb_err = ret == -EKEYREJECTED || ret == -ENOMEM ? ret : -ENOKEY;
			s->cb_why = why;
		}
		return 1;
	}
	*sess = psk_session(ssl, r.psk, r.len, s->sha256_binder);
	tls_psk_resolved_clear(&r);
	if (*sess == NULL)
		return 0;
	memcpy(s->identity, id, idlen);
	s->identity[idlen] = '\0';
	s->cb_err = 0;
	return 1;
}

/*
 * OpenSSL picks the cipher suite before it looks at the PSK, and rejects a
 * PSK whose hash differs from the suite's. A host that offered both suites
 * would then fail with a SHA-384 key. So restrict the suites to the hash of
 * the first NVMe identity offered (pre_shared_key, RFC 8446 4.2.11:
 * identities<7..2^16-1> of identity<1..2^16-1> + obfuscated_ticket_age).
 */
/*
 * The length of the first binder (RFC 8446 4.2.11: binders<33..2^16-1> of
 * PskBinderEntry<32..255> after the identities), or 0.
 */
static size_t first_binder_len(const unsigned char *ext, size_t len)
{
	size_t ids;

	if (len < 2)
		return 0;
	ids = (size_t)ext[0] << 8 | ext[1];
	if (2 + ids + 3 > len)
		return 0;
	return ext[2 + ids + 2];
}

/*
 * tlshd (ktls-utils 1.0, the Linux host's and target's handshake agent)
 * computes every external PSK binder with SHA-256, gnutls' only choice
 * (ktls-utils PR #86), also for a SHA-384 PSK (NVMe?R02 identities); it
 * then offers TLS_CHACHA20_POLY1305_SHA256 next to TLS_AES_256_GCM_SHA384,
 * and the nvmet target picks it. A SHA-384 suite cannot verify such a
 * binder: to serve these hosts, the PSK is used with the SHA-256 suites
 * they offer. The key itself is still the 48-byte SHA-384 one.
 */
#define SHA256_SUITES "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"

static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct tls_session *s = SSL_get_app_data(ssl);
	const unsigned char *p, *ext;
	size_t len, ids, ext_len;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_psk, &p, &len) || len < 2) {
		s->cb_err = -EPROTO;
		s->cb_why = "ClientHello offers no PSK (certificates are not supported)";
		*al = SSL_AD_HANDSHAKE_FAILURE;
		return SSL_CLIENT_HELLO_ERROR;
	}
	ext = p;
	ext_len = len;
	ids = (size_t)p[0] << 8 | p[1];
	p += 2;
	len -= 2;
	if (ids < len)
		len = ids;
	while (len >= 2) {
		size_t n = (size_t)p[0] << 8 | p[1];

		if (n + 6 > len)
			break;
		if (n >= 9 && memcmp(p + 2, "NVMe", 4) == 0 && p[2 + 6] == '0' &&
		    (p[2 + 7] == '1' || p[2 + 7] == '2')) {
			bool sha384 = p[2 + 7] == '2';

			/* only when it is the first identity: its binder is the first */
			s->sha256_binder = sha384 && p == ext + 2 &&
					   first_binder_len(ext, ext_len) == 32;
			SSL_set_ciphersuites(ssl, !sha384	     ? "TLS_AES_128_GCM_SHA256"
						  : s->sha256_binder ? SHA256_SUITES
								     : "TLS_AES_256_GCM_SHA384");
			break;
		}
		p += n + 6;
		len -= n + 6;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* ---- context and sessions ---- */

struct tls_ctx *tls_ctx_new(int *err)
{
	struct tls_ctx *c = calloc(1, sizeof(*c));
	SSL_CTX *x;

	if (c == NULL)
		goto fail;
	c->ssl_ctx = x = SSL_CTX_new(TLS_method());
	c->bio_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "nvmf-tls");
	if (x == NULL || c->bio_meth == NULL)
		goto fail;
	BIO_meth_set_write(c->bio_meth, bio_write);
	BIO_meth_set_read(c->bio_meth, bio_read);
	BIO_meth_set_ctrl(c->bio_meth, bio_ctrl);
	BIO_meth_set_create(c->bio_meth, bio_create);
	/* 3.6.1.1: TLS 1.3 only, the two suites; no tickets, no 0-RTT */
	if (!SSL_CTX_set_min_proto_version(x, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(x, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(x, CIPHERS) || !SSL_CTX_set_num_tickets(x, 0) ||
	    !SSL_CTX_set_max_early_data(x, 0) || !SSL_CTX_set_recv_max_early_data(x, 0))
		goto fail;
	SSL_CTX_set_options(x, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_keylog_callback(x, keylog_cb);
	SSL_CTX_set_info_callback(x, info_cb);
	SSL_CTX_set_msg_callback(x, msg_cb);
	SSL_CTX_set_client_hello_cb(x, client_hello_cb, NULL);
	return c;
fail:
	tls_ctx_free(c);
	*err = -ENOMEM;
	return NULL;
}

void tls_ctx_free(struct tls_ctx *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ssl_ctx);
	BIO_meth_free(c->bio_meth);
	free(c);
}

static struct tls_session *session_new(struct tls_ctx *c, bool server, int *err)
{
	struct tls_session *s = calloc(1, sizeof(*s));
	BIO *bio;

	if (s == NULL)
		goto fail;
	s->server = server;
	s->alert_rcvd = -1;
	s->ssl = SSL_new(c->ssl_ctx);
	bio = BIO_new(c->bio_meth);
	if (s->ssl == NULL || bio == NULL) {
		BIO_free(bio);
		goto fail;
	}
	BIO_set_data(bio, s);
	SSL_set_bio(s->ssl, bio, bio); /* one reference, owned by the SSL */
	SSL_set_app_data(s->ssl, s);
	if (server) {
		SSL_set_accept_state(s->ssl);
		SSL_set_psk_find_session_callback(s->ssl, psk_find_cb);
	} else {
		/* nothing but the PSK authenticates the server: refuse certificates */
		SSL_set_verify(s->ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_connect_state(s->ssl);
		SSL_set_psk_use_session_callback(s->ssl, psk_use_cb);
	}
	return s;
fail:
	tls_session_free(s);
	*err = -ENOMEM;
	return NULL;
}

struct tls_session *tls_session_new_server(struct tls_ctx *c, tls_psk_lookup_fn lookup, void *arg,
					   int *err)
{
	struct tls_session *s = session_new(c, true, err);

	if (s) {
		s->lookup = lookup;
		s->lookup_arg = arg;
	}
	return s;
}

struct tls_session *tls_session_new_client(struct tls_ctx *c, const char *identity,
					   const uint8_t *psk, size_t psk_len, int *err)
{
	struct tls_session *s;

	if ((psk_len != 32 && psk_len != 48) || strlen(identity) > TLS_PSK_IDENTITY_MAX ||
	    identity[0] == '\0') {
		*err = -EINVAL;
		return NULL;
	}
	s = session_new(c, false, err);
	if (s == NULL)
		return NULL;
	strcpy(s->identity, identity);
	memcpy(s->psk, psk, psk_len);
	s->psk_len = psk_len;
	/* offer only the suite of the PSK's hash (3.6.1.1) */
	if (!SSL_set_ciphersuites(s->ssl, psk_len == 48 ? "TLS_AES_256_GCM_SHA384"
							: "TLS_AES_128_GCM_SHA256")) {
		tls_session_free(s);
		*err = -ENOMEM;
		return NULL;
	}
	return s;
}

void tls_session_free(struct tls_session *s)
{
	if (s == NULL)
		return;
	SSL_free(s->ssl);
	byteq_free(&s->in);
	byteq_free(&s->out);
	if (s->staging)
		OPENSSL_clear_free(s->staging, TLS_MAX_FRAGMENT);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* ---- byte flow ---- */

int tls_session_feed(struct tls_session *s, const void *buf, size_t len)
{
	if (s->in_eof)
		return -EPIPE;
	return byteq_put(&s->in, buf, len);
}

bool tls_session_input_pending(const struct tls_session *s)
{
	return byteq_len(&s->in) > 0 || rec_scan_mid_record(&s->rx_scan) || SSL_pending(s->ssl) > 0;
}

void tls_session_feed_eof(struct tls_session *s)
{
	s->in_eof = true;
}

size_t tls_session_pending_out(struct tls_session *s, const uint8_t **ptr)
{
	*ptr = s->out.p ? s->out.p + s->out.head : NULL;
	return byteq_len(&s->out);
}

void tls_session_consume_out(struct tls_session *s, size_t n)
{
	if (n > byteq_len(&s->out))
		n = byteq_len(&s->out);
	byteq_drop(&s->out, n);
}

size_t tls_session_take_out(struct tls_session *s, struct tls_outbuf *ob)
{
	struct byteq q = s->out;

	s->out.p = ob->base;
	s->out.cap = ob->base ? ob->cap : 0;
	s->out.head = s->out.tail = 0;
	ob->base = q.p;
	ob->cap = q.cap;
	ob->off = q.head;
	ob->len = q.tail - q.head;
	return ob->len;
}

void tls_outbuf_free(struct tls_outbuf *ob)
{
	free(ob->base);
	memset(ob, 0, sizeof(*ob));
}

int tls_looks_like_client_hello(const uint8_t *b, size_t n)
{
	/* type handshake(22), legacy_record_version 0x0301..0x0304 */
	if (n == 0)
		return -EAGAIN;
	if (b[0] != 22 || (n > 1 && b[1] != 3) || (n > 2 && (b[2] < 1 || b[2] > 4)))
		return 0;
	/* length<1..2^14> (RFC 8446 5.1) */
	if (n > 4) {
		size_t len = tls_record_body_len(b);

		if (len == 0 || len > TLS_MAX_FRAGMENT)
			return 0;
	}
	/* msg_type client_hello(1) */
	if (n > 5 && b[5] != 1)
		return 0;
	return 1;
}

/* The server's first look: NVMe/TCP over TLS starts with the handshake. */
static int check_first_bytes(struct tls_session *s)
{
	size_t n = byteq_len(&s->in);
	const uint8_t *b = s->in.p + s->in.head;
	int r;

	if (n == 0)
		return s->in_eof ? fail(s, -ECONNRESET, "closed before the ClientHello") : -EAGAIN;
	r = tls_looks_like_client_hello(b, n < 6 ? n : 6);
	if (r == 1 && n < 6 && !s->in_eof)
		return -EAGAIN;
	if (r != 1)
		return fail(s, -EPROTO, "not a TLS ClientHello (first byte 0x%02x%s)", b[0],
			    b[0] == 0 ? ": a plain NVMe/TCP ICReq on a TLS port" : "");
	s->first_checked = true;
	return 0;
}

int tls_session_handshake(struct tls_session *s)
{
	int r;

	if (s->err)
		return s->err;
	if (s->hs_done)
		return 0;
	if (s->server && !s->first_checked) {
		r = check_first_bytes(s);
		if (r)
			return r;
	}
	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);

		OPENSSL_cleanse(s->psk, sizeof(s->psk));
		/* only the PSK may authenticate the peer (no certificates) */
		if (!SSL_session_reused(s->ssl))
			return fail(s, -EKEYREJECTED, "the handshake did not use the PSK");
		switch (c ? SSL_CIPHER_get_protocol_id(c) : 0) {
		case 0x1302:
			s->cipher = TLS_CIPHER_AES_256_GCM_SHA384;
			break;
		case 0x1303:
			s->cipher = TLS_CIPHER_CHACHA20_POLY1305_SHA256;
			break;
		default:
			s->cipher = TLS_CIPHER_AES_128_GCM_SHA256;
			break;
		}
		s->hs_done = true;
		return 0;
	}
	if (SSL_get_error(s->ssl, r) == SSL_ERROR_WANT_READ) {
		ERR_clear_error();
		if (s->in_eof)
			return fail(s, -ECONNRESET, "input ended during the handshake");
		return -EAGAIN;
	}
	return fail_ssl(s, r);
}

bool tls_session_handshake_done(const struct tls_session *s)
{
	return s->hs_done;
}

ssize_t tls_session_read(struct tls_session *s, void *buf, size_t len)
{
	size_t n = 0;
	int r, e;

	if (s->err)
		return s->err;
	if (!s->hs_done)
		return -ENOTCONN;
	if (len == 0)
		return -EINVAL;
	ERR_clear_error();
	r = SSL_read_ex(s->ssl, buf, len, &n);
	if (r == 1)
		return (ssize_t)n;
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		return 0;
	}
	if (e == SSL_ERROR_WANT_READ && !s->in_eof) {
		ERR_clear_error();
		return -EAGAIN;
	}
	return fail_ssl(s, r);
}

static int write_record(struct tls_session *s, const void *p, size_t n)
{
	size_t done = 0;
	int r;

	ERR_clear_error();
	r = SSL_write_ex(s->ssl, p, n, &done);
	if (r != 1 || done != n)
		return fail_ssl(s, r);
	return 0;
}

ssize_t tls_session_write(struct tls_session *s, const struct iovec *iov, int iovcnt)
{
	size_t fill = 0, total = 0, used = 0; /* used: staging bytes to wipe */
	int r = 0;

	if (s->err)
		return s->err;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->staging == NULL && (s->staging = OPENSSL_malloc(TLS_MAX_FRAGMENT)) == NULL)
		return -ENOMEM;
	for (int i = 0; i < iovcnt && r == 0; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		total += left;
		while (left > 0 && r == 0) {
			size_t n;

			/* a whole record's worth in place: no copy */
			if (fill == 0 && left >= TLS_MAX_FRAGMENT) {
				r = write_record(s, p, TLS_MAX_FRAGMENT);
				p += TLS_MAX_FRAGMENT;
				left -= TLS_MAX_FRAGMENT;
				continue;
			}
			/* otherwise pack pieces into one record */
			n = TLS_MAX_FRAGMENT - fill < left ? TLS_MAX_FRAGMENT - fill : left;
			memcpy(s->staging + fill, p, n);
			fill += n;
			used = fill > used ? fill : used;
			p += n;
			left -= n;
			if (fill == TLS_MAX_FRAGMENT) {
				r = write_record(s, s->staging, fill);
				fill = 0;
			}
		}
	}
	if (r == 0 && fill > 0)
		r = write_record(s, s->staging, fill);
	OPENSSL_cleanse(s->staging, used); /* the plaintext packed there, not all 16 KiB */
	return r ? r : (ssize_t)total;
}

int tls_session_close(struct tls_session *s)
{
	int r;

	if (s->err)
		return s->err;
	ERR_clear_error();
	r = SSL_shutdown(s->ssl);
	if (r < 0)
		return fail_ssl(s, r);
	return 0;
}

const char *tls_session_error(const struct tls_session *s)
{
	return s->why;
}

const char *tls_session_identity(const struct tls_session *s)
{
	return s->hs_done ? s->identity : NULL;
}

enum tls_cipher tls_session_cipher(const struct tls_session *s)
{
	return s->cipher;
}

const char *tls_cipher_name(enum tls_cipher c)
{
	switch (c) {
	case TLS_CIPHER_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256";
	case TLS_CIPHER_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384";
	case TLS_CIPHER_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256";
	default:
		return "none";
	}
}

/* What both exports need: a finished handshake, its first traffic secrets. */
static int export_ready(const struct tls_session *s)
{
	if (s->err)
		return s->err;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->key_updated)
		return -ESTALE;
	return 0;
}

int tls_session_export_keys(struct tls_session *s, struct tls_traffic_keys *tx,
			    struct tls_traffic_keys *rx)
{
	int r = export_ready(s);

	if (r)
		return r;
	if (s->cipher == TLS_CIPHER_CHACHA20_POLY1305_SHA256)
		return -EOPNOTSUPP; /* kernel TLS is handed AES-GCM keys only (tls_traffic_keys_to_ktls) */
	if ((tx && s->secret_tx_len == 0) || (rx && s->secret_rx_len == 0))
		return -ENODATA;
	if (rx &&
	    (byteq_len(&s->in) > 0 || rec_scan_mid_record(&s->rx_scan) || SSL_pending(s->ssl) > 0))
		return -EBUSY;
	if (tx)
		r = tls_traffic_keys_derive(s->cipher, s->secret_tx, s->secret_tx_len,
					    s->tx_scan.app_records, tx);
	if (r == 0 && rx)
		r = tls_traffic_keys_derive(s->cipher, s->secret_rx, s->secret_rx_len,
					    s->rx_scan.app_records, rx);
	if (r && tx)
		tls_traffic_keys_clear(tx);
	return r;
}

int tls_session_export_secrets(struct tls_session *s, struct tls_record_secret *tx,
			       struct tls_record_secret *rx)
{
	int r = export_ready(s);

	if (r)
		return r;
	if (s->secret_tx_len == 0 || s->secret_rx_len == 0)
		return -ENODATA;
	if (rec_scan_mid_record(&s->rx_scan) || SSL_has_pending(s->ssl))
		return -EBUSY;
	memcpy(tx->secret, s->secret_tx, s->secret_tx_len);
	tx->len = s->secret_tx_len;
	tx->seq = s->tx_scan.app_records;
	memcpy(rx->secret, s->secret_rx, s->secret_rx_len);
	rx->len = s->secret_rx_len;
	rx->seq = s->rx_scan.app_records;
	return 0;
}

ssize_t tls_session_take_input(struct tls_session *s, void *buf, size_t cap)
{
	size_t n = byteq_len(&s->in);

	if (n > cap)
		return -ENOSPC;
	if (n > 0)
		memcpy(buf, s->in.p + s->in.head, n);
	byteq_drop(&s->in, n);
	return (ssize_t)n;
}

int tls_session_key_update(struct tls_session *s, bool request)
{
	if (s->err)
		return s->err;
	if (!s->hs_done)
		return -ENOTCONN;
	ERR_clear_error();
	if (SSL_key_update(s->ssl,
			   request ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED) != 1)
		return fail_ssl(s, 0);
	/* SSL_key_update(3): SSL_do_handshake() sends it now */
	if (SSL_do_handshake(s->ssl) != 1)
		return fail_ssl(s, 0);
	return 0;
}
