/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TLS 1.3 record layer after the handshake (RFC 8446 5.2-5.5, 4.6.3,
 * 6), in user space: what kernel TLS does, for kernels without it. The
 * handshake stays OpenSSL's (tls_session.h); its traffic secrets and
 * sequence numbers come here (tls_session_export_secrets()) and the AEAD
 * (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) is OpenSSL's EVP: this
 * file only frames records. No I/O, no allocation per record.
 *
 * Sealing gathers the plaintext from iovecs straight into the output
 * buffer (one pass); opening decrypts a record in place in the caller's
 * receive buffer. Post-handshake messages are handled here: a KeyUpdate
 * from the peer updates the receive keys (and, if it asks, queues ours,
 * which the next tls_record_seal_data() sends before any data); a
 * NewSessionTicket is ignored. close_notify is an event; other alerts and
 * every protocol error fail the record layer for good, with the alert owed
 * to the peer (tls_record_seal_alert()) and a reason for the log.
 *
 * Errors (negative errno, sticky):
 *   -EBADMSG       bad_record_mac: the record does not authenticate
 *   -EMSGSIZE      record_overflow: a record longer than RFC 8446 5.2 allows
 *   -EPROTO        unexpected_message / decode_error / illegal_parameter
 *   -ECONNABORTED  the peer sent a fatal alert (the reason names it)
 *   -EOVERFLOW     a sequence number would wrap
 *   -ENOSPC        the output buffer is smaller than tls_record_seal_bound()
 *   -EINVAL, -ENOMEM, -EIO (OpenSSL)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "tls_session.h"

#define TLS_RECORD_HDR 5
#define TLS_RECORD_TAG 16

/* The length field of a record header (RFC 8446 5.1: bytes 3-4, big-endian): its body's size. */
static inline size_t tls_record_body_len(const uint8_t *hdr)
{
	return (size_t)hdr[3] << 8 | hdr[4];
}
/* A TLSCiphertext on the wire at most (RFC 8446 5.2: 2^14 + 256 of body). */
#define TLS_RECORD_MAX_WIRE (TLS_RECORD_HDR + TLS_MAX_FRAGMENT + 256)
/*
 * Send keys are updated after this many records: AES-GCM keys protect at
 * most 2^24.5 full records (RFC 8446 5.5).
 */
#define TLS_RECORD_REKEY_AFTER (1ull << 24)

/* ContentType (RFC 8446 5.1) */
enum tls_content_type {
	TLS_CT_CHANGE_CIPHER_SPEC = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPLICATION_DATA = 23,
};

/* AlertDescription values used here (RFC 8446 6) */
enum tls_alert {
	TLS_ALERT_CLOSE_NOTIFY = 0,
	TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	TLS_ALERT_BAD_RECORD_MAC = 20,
	TLS_ALERT_RECORD_OVERFLOW = 22,
	TLS_ALERT_ILLEGAL_PARAMETER = 47,
	TLS_ALERT_DECODE_ERROR = 50,
	TLS_ALERT_INTERNAL_ERROR = 80,
	TLS_ALERT_USER_CANCELED = 90,
};

/* One direction's secret: [sender]_application_traffic_secret_N and its next sequence number. */
struct tls_record_secret {
	uint8_t secret[48];
	size_t len; /* the hash length: 32 or 48 */
	uint64_t seq;
};

struct tls_record;

/*
 * The record layer of one connection, from the cipher suite the handshake
 * chose and the secrets of both directions (tx: what this side sends). The
 * secrets are copied; the caller wipes its own. NULL with *err on failure.
 */
struct tls_record *tls_record_new(enum tls_cipher cipher, const struct tls_record_secret *tx,
				  const struct tls_record_secret *rx, int *err);
/* Wipes every key. NULL is fine. */
void tls_record_free(struct tls_record *r);

/*
 * The output room tls_record_seal_data() needs for len bytes of plaintext:
 * the records, a KeyUpdate that may go first, and room for one alert.
 */
size_t tls_record_seal_bound(size_t len);

/*
 * Seal the plaintext of iov[0..iovcnt) into application_data records of
 * up to 2^14 bytes each (a record spans iovecs), written to out: the byte
 * count, or a failure. A KeyUpdate that is owed (the peer asked for one,
 * or TLS_RECORD_REKEY_AFTER records went out) goes first, and the send
 * keys change after it. iovcnt 0 only sends what is owed.
 */
ssize_t tls_record_seal_data(struct tls_record *r, const struct iovec *iov, int iovcnt,
			     uint8_t *out, size_t cap);

/*
 * Seal one alert (level fatal, except for close_notify which is a warning
 * as RFC 8446 6.1 sends it): the byte count or a failure. Works after a
 * failure too, to send the alert owed.
 */
ssize_t tls_record_seal_alert(struct tls_record *r, enum tls_alert desc, uint8_t *out, size_t cap);

/* Ask for a KeyUpdate of our send keys; with request, the peer updates its own too. */
void tls_record_key_update(struct tls_record *r, bool request);

/* A KeyUpdate is owed to the peer (the next seal_data sends it). */
bool tls_record_tx_owed(const struct tls_record *r);

enum tls_record_event {
	TLS_REC_DATA,  /* application data: *data, *len (len may be 0) */
	TLS_REC_NONE,  /* a record for the record layer itself (KeyUpdate, ticket) */
	TLS_REC_CLOSE, /* close_notify: the peer sends nothing more */
};

/*
 * Open the record at the start of buf (n bytes received): -EAGAIN if it is
 * not all there yet, else the bytes it takes (the whole record) with the
 * event; the plaintext is decrypted in place (*data points into buf). A
 * failure is sticky, and tls_record_alert() says what to send the peer.
 */
ssize_t tls_record_open(struct tls_record *r, uint8_t *buf, size_t n, enum tls_record_event *ev,
			uint8_t **data, size_t *len);

/*
 * tls_record_open(), but the first up to dst_len plaintext bytes of an
 * application_data record are decrypted straight into dst (*placed bytes:
 * the record's first), the rest in place (*data, *len). For other records
 * *placed is 0 and dst's first bytes are scratch. Nothing in dst counts
 * unless the record authenticated (the return value > 0).
 */
ssize_t tls_record_open_into(struct tls_record *r, uint8_t *buf, size_t n, uint8_t *dst,
			     size_t dst_len, enum tls_record_event *ev, size_t *placed,
			     uint8_t **data, size_t *len);

/* The alert owed to the peer after a failure (0 if none: e.g. the peer's own alert). */
int tls_record_alert(const struct tls_record *r);
/* The reason for the failure ("" if none). */
const char *tls_record_error(const struct tls_record *r);
/* The next sequence numbers (tests, logs). */
uint64_t tls_record_tx_seq(const struct tls_record *r);
uint64_t tls_record_rx_seq(const struct tls_record *r);
