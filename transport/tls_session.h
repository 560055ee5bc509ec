/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A TLS 1.3 session with an external PSK (NVMe/TCP 1.1 section 3.6.1.1 and
 * TP 8011), sans I/O: ciphertext goes in with tls_session_feed(), comes out
 * of tls_session_pending_out(); plaintext goes through tls_session_read() /
 * tls_session_write(). No sockets, no io_uring; the engine and the host
 * tools move the bytes. After the handshake the traffic keys can be
 * exported for Linux kernel TLS.
 *
 * Fixed policy (3.6.1.1): TLS 1.3 only; TLS_AES_128_GCM_SHA256 (PSKs of
 * SHA-256 identities) and TLS_AES_256_GCM_SHA384 (SHA-384), except for a
 * host that binds a SHA-384 PSK with SHA-256 as Linux's tlshd does (then
 * the SHA-256 suites it offers, TLS_CHACHA20_POLY1305_SHA256 included); PSK with
 * (EC)DHE key exchange (psk_dhe_ke, as the Linux host's tlshd offers);
 * no certificates, no session tickets or resumption, no 0-RTT.
 *
 * Functions return 0 / a byte count, or a negative errno; after a failure
 * the session is dead (every call returns the same error) and
 * tls_session_error() gives a short reason for the log. The errors:
 *   -EAGAIN        more input is needed (not a failure)
 *   -EPROTO        not TLS (e.g. a plain NVMe/TCP ICReq), no PSK offered,
 *                  no shared cipher, or another protocol violation
 *   -ENOKEY        the server knows no key for the offered identity (an
 *                  unknown host, or an identity it cannot parse or serve)
 *   -EKEYREJECTED  the PSKs differ (binder check / decrypt_error alert), or
 *                  the identity does not match the configured key
 *   -EBADMSG       a corrupted record (bad_record_mac) or malformed record
 *   -ECONNRESET    the input ended inside a record or without close_notify
 *   -ECONNABORTED  the peer sent a fatal alert not listed above
 *   -ENOMEM
 * A session is used by one thread at a time; tls_ctx may be shared.
 */
#pragma once

#include <linux/tls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "tls_psk.h"

/* Largest TLSPlaintext fragment (RFC 8446 5.1). */
#define TLS_MAX_FRAGMENT 16384

enum tls_cipher {
	TLS_CIPHER_NONE = 0,
	TLS_CIPHER_AES_128_GCM_SHA256, /* 0x1301 */
	TLS_CIPHER_AES_256_GCM_SHA384, /* 0x1302 */
	/* only with a SHA-384 PSK bound with SHA-256, as tlshd does (tls_session.c) */
	TLS_CIPHER_CHACHA20_POLY1305_SHA256, /* 0x1303 */
};

struct tls_ctx;
struct tls_session;

/* Shared settings (an SSL_CTX). NULL on failure with *err set. */
struct tls_ctx *tls_ctx_new(int *err);
void tls_ctx_free(struct tls_ctx *c);

/*
 * A server session: each offered identity is resolved with tls_psk_resolve()
 * and lookup (which must outlive the handshake). NULL with *err on failure.
 */
struct tls_session *tls_session_new_server(struct tls_ctx *c, tls_psk_lookup_fn lookup, void *arg,
					   int *err);

/*
 * A client session offering identity with its TLS PSK (32 bytes: SHA-256 /
 * AES-128, 48: SHA-384 / AES-256), e.g. from tls_psk_host_derive(). Both
 * are copied. NULL with *err on failure.
 */
struct tls_session *tls_session_new_client(struct tls_ctx *c, const char *identity,
					   const uint8_t *psk, size_t psk_len, int *err);

/* Wipes every secret. */
void tls_session_free(struct tls_session *s);

/* Ciphertext received from the peer (copied). 0, -ENOMEM, or -EPIPE after feed_eof. */
int tls_session_feed(struct tls_session *s, const void *buf, size_t len);

/*
 * Ciphertext the session holds and has not turned into plaintext yet: a
 * partial record, or records not read. The peer closing now truncates.
 */
bool tls_session_input_pending(const struct tls_session *s);

/* The peer closed its side: no more input will come. */
void tls_session_feed_eof(struct tls_session *s);

/*
 * Drive the handshake: 0 when it is complete, -EAGAIN when it needs input
 * (after sending what tls_session_pending_out() holds), else a failure.
 */
int tls_session_handshake(struct tls_session *s);
bool tls_session_handshake_done(const struct tls_session *s);

/*
 * Bytes to send to the peer: *ptr / returned length stay valid until the
 * next call on the session. tls_session_consume_out() drops n of them once
 * sent.
 */
size_t tls_session_pending_out(struct tls_session *s, const uint8_t **ptr);
void tls_session_consume_out(struct tls_session *s, size_t n);

/*
 * The pending output as a buffer the caller owns until it gives it back:
 * for an asynchronous send, which must not see the queue move or grow
 * while the kernel reads it. Only ciphertext is in it.
 */
struct tls_outbuf {
	uint8_t *base; /* storage (cap bytes), or NULL */
	size_t cap;
	size_t off, len; /* the bytes to send: base + off, len */
};

/*
 * Move the pending output into ob (returns ob->len, possibly 0); the
 * session continues in ob's previous storage, so a caller that alternates
 * a few outbufs allocates nothing in the steady state.
 */
size_t tls_session_take_out(struct tls_session *s, struct tls_outbuf *ob);
void tls_outbuf_free(struct tls_outbuf *ob);

/*
 * Decrypt up to len plaintext bytes into buf: the count (> 0), 0 when the
 * peer sent close_notify, -EAGAIN when more input is needed, or a failure.
 */
ssize_t tls_session_read(struct tls_session *s, void *buf, size_t len);

/*
 * Encrypt the gathered iovecs into records (full 16 KiB records where the
 * data allows; small pieces such as a PDU header are packed with what
 * follows, large ones are encrypted in place). Returns the byte count (all
 * of it) or a failure; -ENOTCONN before the handshake completes.
 */
ssize_t tls_session_write(struct tls_session *s, const struct iovec *iov, int iovcnt);

/* Queue a close_notify alert (send it with pending_out). 0 or a failure. */
int tls_session_close(struct tls_session *s);

/* The reason for the last failure ("" if none). */
const char *tls_session_error(const struct tls_session *s);

/* After the handshake: the PSK identity in use (the peer's on a server). */
const char *tls_session_identity(const struct tls_session *s);
enum tls_cipher tls_session_cipher(const struct tls_session *s);
const char *tls_cipher_name(enum tls_cipher c);

/*
 * Recognise the start of a TLS ClientHello record (RFC 8446 5.1 / 4.1.2):
 * content type 22, legacy version 0x03 0x01..0x04, a plausible length, then
 * handshake type 1. Returns 1 if the n bytes seen so far match, 0 if they
 * cannot be a ClientHello (a plain NVMe/TCP ICReq starts with PDU type 0),
 * -EAGAIN if n is 0.
 */
int tls_looks_like_client_hello(const uint8_t *b, size_t n);

/*
 * One direction's traffic protection after the handshake: the AEAD key and
 * static IV from [sender]_application_traffic_secret_0 (RFC 8446 7.3) and
 * the sequence number of the next record.
 */
struct tls_traffic_keys {
	enum tls_cipher cipher;
	uint8_t key[32];
	size_t key_len; /* 16 or 32 */
	uint8_t iv[12];
	uint64_t seq;
};

/*
 * Export the keys for kernel TLS (tx: what this side sends, rx: what it
 * receives; either may be NULL). -ENOTCONN before the handshake, -ESTALE
 * after a KeyUpdate, -EOPNOTSUPP for TLS_CHACHA20_POLY1305_SHA256, -EBUSY for rx while input is buffered here (partial
 * records, unconsumed ciphertext or undelivered plaintext: the kernel
 * could not see those bytes). Before enabling TLS_TX the caller must send
 * everything tls_session_pending_out() holds.
 */
int tls_session_export_keys(struct tls_session *s, struct tls_traffic_keys *tx,
			    struct tls_traffic_keys *rx);

/* The setsockopt(SOL_TLS, TLS_TX / TLS_RX) argument for k. */
union tls_ktls_crypto_info {
	struct tls12_crypto_info_aes_gcm_128 aes128;
	struct tls12_crypto_info_aes_gcm_256 aes256;
};
int tls_traffic_keys_to_ktls(const struct tls_traffic_keys *k, union tls_ktls_crypto_info *out,
			     size_t *len);

void tls_traffic_keys_clear(struct tls_traffic_keys *k);

/*
 * For the user-space record layer (tls_record.h), after the handshake:
 * both directions' application traffic secrets and next sequence numbers
 * (tx: what this side sends). The session must hold no plaintext and no
 * part of a record it started to read (-EBUSY; whole records it has not
 * read are fine: tls_session_take_input() hands them over); what it still
 * has to send (tls_session_take_out()) goes before the first record sealed
 * with tx. -ENOTCONN before the handshake, -ESTALE after a KeyUpdate. The
 * caller wipes the secrets.
 */
struct tls_record_secret;
int tls_session_export_secrets(struct tls_session *s, struct tls_record_secret *tx,
			       struct tls_record_secret *rx);

/*
 * The ciphertext fed and not read by OpenSSL, moved into buf (at most cap
 * bytes; -ENOSPC if more): the byte count. For the record layer that
 * continues after tls_session_export_secrets().
 */
ssize_t tls_session_take_input(struct tls_session *s, void *buf, size_t cap);

/* Send a KeyUpdate (RFC 8446 4.6.3), asking the peer for one too with request. */
int tls_session_key_update(struct tls_session *s, bool request);
