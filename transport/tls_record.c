/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS 1.3 record protection (RFC 8446 5.2-5.3) over OpenSSL's EVP AEADs:
 * the per-record nonce is the static IV XOR the 64-bit sequence number
 * (left-padded to the IV length), the additional data is the 5-byte
 * record header, and the plaintext is the content followed by its inner
 * content type and optional zero padding. Only the framing is here; every
 * primitive (AEAD, HKDF) is OpenSSL's.
 */
#include "tls_record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tls_kdf.h"
#include "tls_ktls.h"

#define IV_LEN 12
_Static_assert(IV_LEN == sizeof(((struct tls_traffic_keys *)0)->iv), "the TLS 1.3 nonce");
#define HS_KEY_UPDATE	      24 /* HandshakeType key_update (RFC 8446 4) */
#define HS_NEW_SESSION_TICKET 4	 /* new_session_ticket */
#define HS_HDR		      4	 /* msg_type, uint24 length */
#define KEY_UPDATE_WIRE	      (TLS_RECORD_HDR + HS_HDR + 1 + 1 + TLS_RECORD_TAG)
#define ALERT_WIRE	      (TLS_RECORD_HDR + 2 + 1 + TLS_RECORD_TAG)

struct dir {
	EVP_CIPHER_CTX *ctx;
	uint8_t secret[48];
	size_t secret_len;
	uint8_t iv[IV_LEN];
	uint64_t seq;
};

struct tls_record {
	enum tls_cipher cipher;
	const EVP_CIPHER *aead;
	const char *md; /* the suite's hash, for the KeyUpdate's HKDF */
	struct dir tx, rx;

	bool ku_owed;	 /* a KeyUpdate goes out before the next data */
	bool ku_request; /* ... asking the peer to update too */

	/* a post-handshake message being received (may span records, 5.1) */
	uint8_t hs_hdr[HS_HDR];
	size_t hs_have;	  /* header bytes of it seen */
	uint32_t hs_left; /* body bytes still to come */
	uint8_t ku_body;

	int err; /* sticky */
	int alert;
	char why[128];
};

static int fail(struct tls_record *r, int err, int alert, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct tls_record *r, int err, int alert, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return r->err;
	r->err = err;
	r->alert = alert;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return err;
}

/* [sender]_write_key and _iv from the secret (RFC 8446 7.3, tls_ktls.c), into the direction's context. */
static int dir_keys(struct tls_record *r, struct dir *d, int enc)
{
	struct tls_traffic_keys k;
	int ret = tls_traffic_keys_derive(r->cipher, d->secret, d->secret_len, d->seq, &k);

	if (ret == 0) {
		memcpy(d->iv, k.iv, IV_LEN);
		if (EVP_CipherInit_ex(d->ctx, r->aead, NULL, k.key, NULL, enc) != 1)
			ret = -EIO;
	}
	tls_traffic_keys_clear(&k);
	return ret;
}

/*
 * KeyUpdate (RFC 8446 7.2): application_traffic_secret_N+1 =
 * HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "",
 * Hash.length); the sequence number starts again at 0.
 */
static int dir_update(struct tls_record *r, struct dir *d, int enc)
{
	uint8_t next[48];
	int ret = tls_hkdf_expand_label(r->md, d->secret, d->secret_len, "traffic upd", NULL, 0,
					next, d->secret_len);

	if (ret == 0) {
		memcpy(d->secret, next, d->secret_len);
		d->seq = 0;
		ret = dir_keys(r, d, enc);
	}
	OPENSSL_cleanse(next, sizeof(next));
	return ret;
}

static int dir_init(struct tls_record *r, struct dir *d, const struct tls_record_secret *s, int enc)
{
	if (s->len == 0 || s->len > sizeof(d->secret))
		return -EINVAL;
	d->ctx = EVP_CIPHER_CTX_new();
	if (d->ctx == NULL)
		return -ENOMEM;
	memcpy(d->secret, s->secret, s->len);
	d->secret_len = s->len;
	d->seq = s->seq;
	return dir_keys(r, d, enc);
}

struct tls_record *tls_record_new(enum tls_cipher cipher, const struct tls_record_secret *tx,
				  const struct tls_record_secret *rx, int *err)
{
	struct tls_record *r = calloc(1, sizeof(*r));
	int ret;

	if (r == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	r->cipher = cipher;
	switch (cipher) {
	case TLS_CIPHER_AES_128_GCM_SHA256:
		r->aead = EVP_aes_128_gcm();
		r->md = "SHA256";
		break;
	case TLS_CIPHER_AES_256_GCM_SHA384:
		r->aead = EVP_aes_256_gcm();
		r->md = "SHA384";
		break;
	case TLS_CIPHER_CHACHA20_POLY1305_SHA256:
		r->aead = EVP_chacha20_poly1305();
		r->md = "SHA256";
		break;
	default:
		free(r);
		*err = -EINVAL;
		return NULL;
	}
	ret = dir_init(r, &r->tx, tx, 1);
	if (ret == 0)
		ret = dir_init(r, &r->rx, rx, 0);
	if (ret) {
		tls_record_free(r);
		*err = ret;
		return NULL;
	}
	return r;
}

void tls_record_free(struct tls_record *r)
{
	if (r == NULL)
		return;
	EVP_CIPHER_CTX_free(r->tx.ctx); /* clears the key schedule */
	EVP_CIPHER_CTX_free(r->rx.ctx);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

/* per-record nonce (5.3): the IV XOR the sequence number, big-endian at its end */
static void nonce(const struct dir *d, uint8_t *n)
{
	uint64_t s = d->seq;

	memcpy(n, d->iv, IV_LEN);
	for (int i = IV_LEN - 1; i >= IV_LEN - 8; i--, s >>= 8)
		n[i] ^= (uint8_t)s;
}

static void put_hdr(uint8_t *h, size_t body)
{
	h[0] = TLS_CT_APPLICATION_DATA; /* opaque_type (5.2) */
	h[1] = 0x03;			/* legacy_record_version 0x0303 */
	h[2] = 0x03;
	h[3] = (uint8_t)(body >> 8);
	h[4] = (uint8_t)body;
}

/* A cursor over gathered plaintext. */
struct gather {
	const struct iovec *iov;
	int cnt, i;
	size_t off;
};

/*
 * Seal one record of len plaintext bytes taken from g, of inner type, at
 * out (room checked by the caller): its wire size, or a failure.
 */
static ssize_t seal_one(struct tls_record *r, uint8_t type, struct gather *g, size_t len,
			uint8_t *out)
{
	struct dir *d = &r->tx;
	size_t body = len + 1 + TLS_RECORD_TAG;
	uint8_t n[IV_LEN], *p = out + TLS_RECORD_HDR;
	int ol;

	if (d->seq == UINT64_MAX)
		return fail(r, -EOVERFLOW, TLS_ALERT_INTERNAL_ERROR,
			    "send sequence number exhausted");
	put_hdr(out, body);
	nonce(d, n);
	if (EVP_EncryptInit_ex(d->ctx, NULL, NULL, NULL, n) != 1 ||
	    EVP_EncryptUpdate(d->ctx, NULL, &ol, out, TLS_RECORD_HDR) != 1)
		goto err;
	while (len > 0) {
		const struct iovec *v = &g->iov[g->i];
		size_t take = v->iov_len - g->off < len ? v->iov_len - g->off : len;

		if (take > 0 &&
		    EVP_EncryptUpdate(d->ctx, p, &ol, (const uint8_t *)v->iov_base + g->off,
				      (int)take) != 1)
			goto err;
		p += take;
		len -= take;
		g->off += take;
		if (g->off == v->iov_len) {
			g->i++;
			g->off = 0;
		}
	}
	if (EVP_EncryptUpdate(d->ctx, p, &ol, &type, 1) != 1)
		goto err;
	p += 1;
	if (EVP_EncryptFinal_ex(d->ctx, p, &ol) != 1 ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_GET_TAG, TLS_RECORD_TAG, p) != 1)
		goto err;
	d->seq++;
	return (ssize_t)(TLS_RECORD_HDR + body);
err:
	return fail(r, -EIO, TLS_ALERT_INTERNAL_ERROR, "AEAD seal failed");
}

static ssize_t seal_buf(struct tls_record *r, uint8_t type, const void *p, size_t len, uint8_t *out)
{
	struct iovec v = {.iov_base = (void *)p, .iov_len = len};
	struct gather g = {.iov = &v, .cnt = 1};

	return seal_one(r, type, &g, len, out);
}

size_t tls_record_seal_bound(size_t len)
{
	size_t recs = (len + TLS_MAX_FRAGMENT - 1) / TLS_MAX_FRAGMENT;

	return len + recs * (TLS_RECORD_HDR + 1 + TLS_RECORD_TAG) + KEY_UPDATE_WIRE + ALERT_WIRE;
}

/* Send the KeyUpdate owed, then switch the send keys (4.6.3). */
static ssize_t seal_key_update(struct tls_record *r, uint8_t *out)
{
	uint8_t ku[HS_HDR + 1] = {HS_KEY_UPDATE, 0, 0, 1, r->ku_request ? 1 : 0};
	ssize_t n = seal_buf(r, TLS_CT_HANDSHAKE, ku, sizeof(ku), out);
	int ret;

	if (n < 0)
		return n;
	ret = dir_update(r, &r->tx, 1);
	if (ret)
		return fail(r, ret, TLS_ALERT_INTERNAL_ERROR, "send key update failed");
	r->ku_owed = r->ku_request = false;
	return n;
}

ssize_t tls_record_seal_data(struct tls_record *r, const struct iovec *iov, int iovcnt,
			     uint8_t *out, size_t cap)
{
	struct gather g = {.iov = iov, .cnt = iovcnt};
	size_t total = 0, done = 0;

	if (r->err)
		return r->err;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (cap < tls_record_seal_bound(total))
		return -ENOSPC;
	if (r->tx.seq >= TLS_RECORD_REKEY_AFTER)
		r->ku_owed = true;
	if (r->ku_owed) {
		ssize_t n = seal_key_update(r, out);

		if (n < 0)
			return n;
		done += (size_t)n;
	}
	while (total > 0) {
		size_t len = total < TLS_MAX_FRAGMENT ? total : TLS_MAX_FRAGMENT;
		ssize_t n = seal_one(r, TLS_CT_APPLICATION_DATA, &g, len, out + done);

		if (n < 0)
			return n;
		done += (size_t)n;
		total -= len;
	}
	return (ssize_t)done;
}

ssize_t tls_record_seal_alert(struct tls_record *r, enum tls_alert desc, uint8_t *out, size_t cap)
{
	/* 6.1 / 6.2: closure alerts are warnings here, error alerts fatal */
	uint8_t a[2] = {desc == TLS_ALERT_CLOSE_NOTIFY ? 1 : 2, (uint8_t)desc};
	int err = r->err;
	ssize_t n;

	if (cap < ALERT_WIRE)
		return -ENOSPC;
	r->err = 0; /* the alert owed after a failure still goes out */
	n = seal_buf(r, TLS_CT_ALERT, a, sizeof(a), out);
	if (err)
		r->err = err;
	return n;
}

void tls_record_key_update(struct tls_record *r, bool request)
{
	r->ku_owed = true;
	r->ku_request = r->ku_request || request;
}

bool tls_record_tx_owed(const struct tls_record *r)
{
	return r->err == 0 && r->ku_owed;
}

/* A whole post-handshake message was received (4.6). */
static int hs_message(struct tls_record *r, bool record_end)
{
	uint8_t type = r->hs_hdr[0];
	int ret;

	r->hs_have = 0;
	if (type != HS_KEY_UPDATE)
		return 0; /* a NewSessionTicket: no resumption here, ignored */
	/* 5.1: a message that precedes a key change ends its record */
	if (!record_end)
		return fail(r, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE,
			    "data after a KeyUpdate in its record");
	if (r->ku_body > 1)
		return fail(r, -EPROTO, TLS_ALERT_ILLEGAL_PARAMETER, "KeyUpdate request_update %u",
			    r->ku_body);
	ret = dir_update(r, &r->rx, 0);
	if (ret)
		return fail(r, ret, TLS_ALERT_INTERNAL_ERROR, "receive key update failed");
	if (r->ku_body == 1)
		r->ku_owed = true; /* update_requested: ours goes before the next data */
	return 0;
}

/* Post-handshake handshake messages in one record's plaintext. */
static int hs_input(struct tls_record *r, const uint8_t *p, size_t len)
{
	while (len > 0) {
		if (r->hs_have < HS_HDR) {
			r->hs_hdr[r->hs_have++] = *p++;
			len--;
			if (r->hs_have < HS_HDR)
				continue;
			r->hs_left = (uint32_t)r->hs_hdr[1] << 16 | (uint32_t)r->hs_hdr[2] << 8 |
				     r->hs_hdr[3];
			if (r->hs_hdr[0] == HS_KEY_UPDATE && r->hs_left != 1)
				return fail(r, -EPROTO, TLS_ALERT_DECODE_ERROR,
					    "KeyUpdate of %u bytes", r->hs_left);
			if (r->hs_hdr[0] != HS_KEY_UPDATE && r->hs_hdr[0] != HS_NEW_SESSION_TICKET)
				return fail(r, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE,
					    "handshake message %u after the handshake",
					    r->hs_hdr[0]);
		} else {
			size_t take = r->hs_left < len ? r->hs_left : len;

			if (r->hs_hdr[0] == HS_KEY_UPDATE)
				r->ku_body = p[0];
			r->hs_left -= (uint32_t)take;
			p += take;
			len -= take;
		}
		if (r->hs_have == HS_HDR && r->hs_left == 0) {
			int ret = hs_message(r, len == 0);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static const char *alert_name(unsigned int d)
{
	switch (d) {
	case 10:
		return "unexpected_message";
	case 20:
		return "bad_record_mac";
	case 22:
		return "record_overflow";
	case 40:
		return "handshake_failure";
	case 47:
		return "illegal_parameter";
	case 50:
		return "decode_error";
	case 51:
		return "decrypt_error";
	case 80:
		return "internal_error";
	case 86:
		return "inappropriate_fallback";
	case 90:
		return "user_canceled";
	case 109:
		return "missing_extension";
	case 115:
		return "unknown_psk_identity";
	default:
		return "alert";
	}
}

ssize_t tls_record_open(struct tls_record *r, uint8_t *buf, size_t n, enum tls_record_event *ev,
			uint8_t **data, size_t *len)
{
	size_t placed;

	return tls_record_open_into(r, buf, n, NULL, 0, ev, &placed, data, len);
}

ssize_t tls_record_open_into(struct tls_record *r, uint8_t *buf, size_t n, uint8_t *dst,
			     size_t dst_len, enum tls_record_event *ev, size_t *placed,
			     uint8_t **data, size_t *len)
{
	struct dir *d = &r->rx;
	uint8_t nc[IV_LEN], *body;
	size_t blen, i, k;
	int ol;

	*ev = TLS_REC_NONE;
	*placed = 0;
	*data = NULL;
	*len = 0;
	if (r->err)
		return r->err;
	if (n < TLS_RECORD_HDR)
		return -EAGAIN;
	blen = tls_record_body_len(buf);
	/* 5.2: a TLSCiphertext of more than 2^14 + 256 bytes */
	if (blen > TLS_MAX_FRAGMENT + 256)
		return fail(r, -EMSGSIZE, TLS_ALERT_RECORD_OVERFLOW, "a record of %zu bytes", blen);
	/* 5: after the handshake every record is protected, its outer type application_data */
	if (buf[0] != TLS_CT_APPLICATION_DATA)
		return fail(r, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE,
			    "an unprotected record of type %u after the handshake", buf[0]);
	if (n < TLS_RECORD_HDR + blen)
		return -EAGAIN;
	body = buf + TLS_RECORD_HDR;
	if (blen < 1 + TLS_RECORD_TAG)
		return fail(r, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, "a record of %zu bytes", blen);
	if (d->seq == UINT64_MAX)
		return fail(r, -EOVERFLOW, TLS_ALERT_INTERNAL_ERROR,
			    "receive sequence number exhausted");
	nonce(d, nc);
	blen -= TLS_RECORD_TAG;
	/*
	 * The AEADs are stream ciphers: the first k bytes decrypt into dst,
	 * the rest in place. They count only once the tag verified.
	 */
	k = dst == NULL ? 0 : dst_len < blen ? dst_len : blen;
	if (EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, nc) != 1 ||
	    EVP_DecryptUpdate(d->ctx, NULL, &ol, buf, TLS_RECORD_HDR) != 1 ||
	    (k > 0 && EVP_DecryptUpdate(d->ctx, dst, &ol, body, (int)k) != 1) ||
	    (blen > k &&
	     EVP_DecryptUpdate(d->ctx, body + k, &ol, body + k, (int)(blen - k)) != 1) ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, TLS_RECORD_TAG, body + blen) != 1)
		return fail(r, -EIO, TLS_ALERT_INTERNAL_ERROR, "AEAD open failed");
	if (EVP_DecryptFinal_ex(d->ctx, body + blen, &ol) != 1) {
		/* unauthenticated plaintext */
		OPENSSL_cleanse(body, blen);
		if (k > 0)
			OPENSSL_cleanse(dst, k);
		return fail(r, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC,
			    "record %llu does not authenticate (bad_record_mac)",
			    (unsigned long long)d->seq);
	}
	d->seq++;
	/* 5.4: the content type is the last non-zero byte; zeros after it are padding */
	for (i = blen; i > k && body[i - 1] == 0; i--)
		;
	if (i == k)
		for (; i > 0 && dst[i - 1] == 0; i--)
			;
	if (i == 0)
		return fail(r, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE,
			    "a record without a content type");
	i--;
	if ((i < k ? dst[i] : body[i]) == TLS_CT_APPLICATION_DATA && i <= TLS_MAX_FRAGMENT &&
	    r->hs_have == 0) {
		*ev = TLS_REC_DATA;
		*placed = i < k ? i : k;
		*data = body + *placed;
		*len = i - *placed;
		return (ssize_t)(TLS_RECORD_HDR + blen + TLS_RECORD_TAG);
	}
	/* not data for dst after all (rare): the record in place, checked below */
	if (k > 0)
		memcpy(body, dst, k);
	if (i > TLS_MAX_FRAGMENT)
		return fail(r, -EMSGSIZE, TLS_ALERT_RECORD_OVERFLOW, "%zu bytes of plaintext", i);
	/* 5.1: handshake messages are not interleaved with other record types */
	if (body[i] != TLS_CT_HANDSHAKE && r->hs_have != 0)
		return fail(r, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE,
			    "a record of type %u inside a handshake message", body[i]);
	switch (body[i]) {
	case TLS_CT_APPLICATION_DATA:
		*ev = TLS_REC_DATA;
		*data = body;
		*len = i;
		break;
	case TLS_CT_ALERT:
		/* 5.1 / 6: one alert per record, two bytes */
		if (i != 2)
			return fail(r, -EPROTO, TLS_ALERT_DECODE_ERROR, "an alert of %zu bytes", i);
		if (body[1] == TLS_ALERT_CLOSE_NOTIFY) {
			*ev = TLS_REC_CLOSE;
			break;
		}
		if (body[1] == TLS_ALERT_USER_CANCELED)
			break; /* 6.1: a close_notify follows */
		/* 6.2: every other alert ends the connection, whatever its level */
		return fail(r, -ECONNABORTED, 0, "the peer sent alert %s (%u)", alert_name(body[1]),
			    body[1]);
	case TLS_CT_HANDSHAKE:
		if (i == 0)
			return fail(r, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE,
				    "an empty handshake record");
		if (hs_input(r, body, i))
			return r->err;
		break;
	default:
		return fail(r, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE,
			    "a protected record of type %u", body[i]);
	}
	return (ssize_t)(TLS_RECORD_HDR + blen + TLS_RECORD_TAG);
}

int tls_record_alert(const struct tls_record *r)
{
	return r->alert;
}

const char *tls_record_error(const struct tls_record *r)
{
	return r->why;
}

uint64_t tls_record_tx_seq(const struct tls_record *r)
{
	return r->tx.seq;
}

uint64_t tls_record_rx_seq(const struct tls_record *r)
{
	return r->rx.seq;
}
