/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TLS record layer of a connection (conn.h): TLS 1.3 with an external
 * PSK, NVMe/TCP Transport Specification 1.1 section 3.6.1 (TP 8011). The
 * handshake comes before ICReq (3.6.1.1); after it every PDU travels in
 * application_data records. The session (transport/tls_session.h) is sans
 * I/O: the worker's io_uring receive lands ciphertext in the connection's
 * staging buffer, which goes into the session; plaintext is read out into
 * the places a plain receive would fill (the staging buffer, or straight
 * into a command's buffer, conn.c rx_tls_pump); a send batch's PDU iovecs
 * are encrypted into records the batch owns until its send completes
 * (conn_tx.c). No thread and no blocking call: OpenSSL only computes.
 *
 * Keys: the PSK of the [host NQN] section the offered identity names
 * (tls_psk_resolve()), read from the configuration being served, which a
 * SIGHUP replaces: a rotated key applies to the next handshake.
 *
 * After the handshake the records leave OpenSSL: the kernel does them
 * where it has TLS (ktls_offload), else this file does with the exported
 * traffic secrets (transport/tls_record.h, rec_handover): a send batch's
 * PDU iovecs are sealed straight into the batch's record buffer and each
 * received record is opened in place in the receive buffer (conn.c
 * rx_rec_pump), so the data is encrypted or decrypted in one pass with no
 * copy through OpenSSL's buffers. NVMFD_TLS_RECORDS=openssl keeps the
 * records in OpenSSL (tls_session_read / _write) for comparison.
 *
 * Every failure ends the connection with one log line (peer, reason) and a
 * count on its listener (listener.h enum listener_tls_fail).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "conn.h"
#include "listener.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static struct tls_ctx *g_tls_ctx;
/*
 * Kernel TLS: 1 usable (or not tried yet), 0 not (no tls module, or
 * NVMFD_KTLS=0): probed by the first connection that tries, logged once.
 */
static _Atomic int g_ktls = 1;
/* Records in user space by tls_record.c (1) or by OpenSSL (0: NVMFD_TLS_RECORDS=openssl). */
static bool g_user_records = true;

int conn_tls_setup(void)
{
	int err = 0;

	if (g_tls_ctx != NULL)
		return 0;
	if (getenv("NVMFD_KTLS") != NULL && strcmp(getenv("NVMFD_KTLS"), "0") == 0) {
		atomic_store(&g_ktls, 0);
		log_info("TLS: kernel TLS off (NVMFD_KTLS=0): records in user space");
	}
	if (getenv("NVMFD_TLS_RECORDS") != NULL &&
	    strcmp(getenv("NVMFD_TLS_RECORDS"), "openssl") == 0) {
		g_user_records = false;
		log_info("TLS: records through OpenSSL (NVMFD_TLS_RECORDS=openssl)");
	}
	g_tls_ctx = tls_ctx_new(&err);
	if (g_tls_ctx == NULL) {
		log_err("TLS: cannot create the OpenSSL context: %s", strerror(-err));
		return err ? err : -ENOMEM;
	}
	return 0;
}

void conn_tls_teardown(void)
{
	tls_ctx_free(g_tls_ctx);
	g_tls_ctx = NULL;
}

/*
 * tls_psk_lookup_fn, on the worker during the handshake: the configuration
 * in t->cfg stays valid until the worker's loop comes back to its top
 * (registry.h), and the key is copied out before that.
 */
static int psk_lookup(void *arg, const char *hostnqn, const char *subnqn, struct tls_psk_key *key,
		      enum tls_psk_kdf *kdf)
{
	struct conn *c = arg;
	const struct cfg_config *cfg = target_cfg(c->w->t);
	const struct cfg_host *h = cfg ? cfg_find_host(cfg, hostnqn) : NULL;

	(void)subnqn; /* one key per host, whatever it connects to (Connect checks access) */
	snprintf(c->tls_host, sizeof(c->tls_host), "%s", hostnqn);
	if (h == NULL || !h->has_tls_key)
		return -ENOKEY;
	*key = h->tls_key;
	*kdf = h->tls_psk_kdf;
	return 0;
}

int conn_tls_start(struct conn *c)
{
	int err = 0;

	c->tls_mode = true;
	c->tls = tls_session_new_server(g_tls_ctx, psk_lookup, c, &err);
	return c->tls ? 0 : (err ? err : -ENOMEM);
}

void conn_tls_free(struct conn *c)
{
	if (c->tls != NULL)
		tls_session_free(c->tls);
	c->tls = NULL;
	tls_record_free(c->rec);
	c->rec = NULL;
	tls_outbuf_free(&c->rec_pre);
}

static enum listener_tls_fail fail_kind(const struct conn *c, int err)
{
	switch (err) {
	case -ENOKEY:
	case -EINVAL:
	case -EOPNOTSUPP:
		return LTLS_UNKNOWN_ID;
	case -EKEYREJECTED:
		return LTLS_KEY_MISMATCH;
	case -EBADMSG:
		return LTLS_BAD_RECORD;
	case -ECONNRESET:
		return c->tls_up ? LTLS_BAD_RECORD : LTLS_OTHER;
	default:
		return LTLS_OTHER;
	}
}

/*
 * The session failed: send the alert it queued (if any), close, count and
 * log once. Returns err.
 */
static int tls_fail(struct conn *c, int err)
{
	enum listener_tls_fail kind = fail_kind(c, err);
	const char *why = c->tls ? tls_session_error(c->tls) : "";

	if (c->closing)
		return err;
	listener_tls_count(c->l, kind);
	if (c->tls_up)
		conn_warn(c, "TLS (host %s): %s [%s]; closing", c->tls_host,
			  why[0] ? why : strerror(-err), listener_tls_fail_name(kind));
	else
		conn_warn(c, "TLS handshake refused%s%s%s: %s [%s]",
			  c->tls_host[0] ? " (host " : "", c->tls_host, c->tls_host[0] ? ")" : "",
			  why[0] ? why : strerror(-err), listener_tls_fail_name(kind));
	/* the alert OpenSSL queued goes out before the FIN; nothing else does */
	c->tls_notify_sent = true;
	conn_close(c, conn_tls_out_pending(c) ? CLOSE_AFTER_TX : CLOSE_NOW, "TLS failure");
	return err;
}

int conn_tls_plain_check(struct conn *c, const uint8_t *p, uint32_t n)
{
	c->tls_first_seen = true;
	if (tls_looks_like_client_hello(p, n < 6 ? n : 6) != 1)
		return 0;
	listener_tls_count(c->l, LTLS_PLAIN_PORT);
	conn_warn(c,
		  "a TLS ClientHello on a port without TLS (use a tls_listen port) [%s]; "
		  "closing",
		  listener_tls_fail_name(LTLS_PLAIN_PORT));
	conn_close(c, CLOSE_NOW, "TLS on a plain port");
	return -EPROTO;
}

/*
 * Hand the record layer to the kernel (TCP_ULP "tls", TLS_TX / TLS_RX with
 * the traffic keys and sequence numbers): from now on the socket carries
 * plaintext PDUs for io_uring, as on a plain port. What the session already
 * decrypted (an ICReq that came with the host's Finished) is staged first.
 * Returns 1 when the kernel took over, 0 to stay in user space, < 0 when
 * the connection had to be closed (half offloaded).
 */
static int ktls_offload(struct conn *c)
{
	struct tls_traffic_keys tx, rx;
	union tls_ktls_crypto_info ci;
	const uint8_t *out;
	uint32_t staged = 0;
	size_t len;
	int ret;

	if (!atomic_load(&g_ktls) || tls_session_pending_out(c->tls, &out) > 0)
		return 0;
	if (tls_session_cipher(c->tls) == TLS_CIPHER_CHACHA20_POLY1305_SHA256)
		return 0; /* tls_traffic_keys carries AES-GCM only */
	/* the plaintext the session holds, staged as if received */
	while (staged < c->rxbuf_size) {
		ssize_t n = tls_session_read(c->tls, c->rxbuf + staged, c->rxbuf_size - staged);

		if (n == -EAGAIN)
			break;
		if (n <= 0)
			return tls_fail(c, n ? (int)n : -ECONNRESET);
		staged += (uint32_t)n;
	}
	c->rx_off = 0;
	c->rx_len = staged;
	ret = tls_session_export_keys(c->tls, &tx, &rx);
	if (ret) {
		conn_dbg(c, "TLS: keys not exported for kernel TLS (%s): user space",
			 strerror(-ret));
		return 0; /* e.g. half a record buffered: the staged bytes are parsed as usual */
	}
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) != 0) {
		int e = errno;

		tls_traffic_keys_clear(&tx);
		tls_traffic_keys_clear(&rx);
		if (atomic_exchange(&g_ktls, 0))
			log_info("TLS: no kernel TLS (TCP_ULP tls: %s): records in user space",
				 strerror(e));
		return 0;
	}
	ret = tls_traffic_keys_to_ktls(&tx, &ci, &len);
	if (ret == 0 && setsockopt(c->fd, SOL_TLS, TLS_TX, &ci, (socklen_t)len) != 0)
		ret = -errno;
	if (ret == 0)
		ret = tls_traffic_keys_to_ktls(&rx, &ci, &len);
	if (ret == 0 && setsockopt(c->fd, SOL_TLS, TLS_RX, &ci, (socklen_t)len) != 0)
		ret = -errno;
	explicit_bzero(&ci, sizeof(ci));
	tls_traffic_keys_clear(&tx);
	tls_traffic_keys_clear(&rx);
	if (ret) {
		/* the socket is half the kernel's: no way back */
		listener_tls_count(c->l, LTLS_OTHER);
		conn_err(c, "TLS: enabling kernel TLS failed: %s; closing", strerror(-ret));
		conn_close(c, CLOSE_NOW, "kernel TLS");
		return ret;
	}
	c->ktls = true;
	conn_dbg(c, "TLS: records by the kernel (kTLS)%s", staged ? ", ICReq staged" : "");
	conn_tls_free(c);
	return 1;
}

/*
 * Continue with our own record layer (tls_record.h) from the session's
 * traffic secrets: the records the host sent after its Finished (an ICReq)
 * move into the receive buffer as ciphertext, what the session still has
 * to send goes out before our first record. Returns 1 when the records
 * are ours, 0 to stay with OpenSSL (logged at debug), < 0 on failure.
 */
static int rec_handover(struct conn *c)
{
	struct tls_record_secret tx, rx;
	struct tls_record *rec;
	uint8_t *buf = NULL;
	uint32_t staged;
	ssize_t n;
	int ret, err = 0;

	if (!g_user_records)
		return 0;
	ret = tls_session_export_secrets(c->tls, &tx, &rx);
	if (ret) {
		conn_dbg(c, "TLS: records stay with OpenSSL (%s)", strerror(-ret));
		return 0;
	}
	rec = tls_record_new(tls_session_cipher(c->tls), &tx, &rx, &err);
	explicit_bzero(&tx, sizeof(tx));
	explicit_bzero(&rx, sizeof(rx));
	if (rec != NULL && c->rxbuf_size < CONN_TLS_RXBUF)
		buf = malloc(CONN_TLS_RXBUF);
	if (rec == NULL || (buf == NULL && c->rxbuf_size < CONN_TLS_RXBUF)) {
		conn_dbg(c, "TLS: records stay with OpenSSL (%s)",
			 strerror(rec ? ENOMEM : (err ? -err : ENOMEM)));
		tls_record_free(rec);
		return 0;
	}
	/*
	 * The bytes the receive brought were copied into the session; what
	 * rxbuf still holds is plaintext ktls_offload() staged (an ICReq
	 * OpenSSL already decrypted): it stays first, the records follow it.
	 */
	staged = c->rx_len - c->rx_off;
	if (buf != NULL) {
		memcpy(buf, c->rxbuf + c->rx_off, staged);
		free(c->rxbuf);
		c->rxbuf = buf;
		c->rxbuf_size = CONN_TLS_RXBUF;
	} else {
		memmove(c->rxbuf, c->rxbuf + c->rx_off, staged);
	}
	c->rx_off = 0;
	c->rx_len = staged;
	n = tls_session_take_input(c->tls, c->rxbuf + staged, c->rxbuf_size - staged);
	if (n < 0) {
		tls_record_free(rec);
		return 0; /* cannot happen: the input is at most one receive */
	}
	tls_session_take_out(c->tls, &c->rec_pre);
	tls_session_free(c->tls);
	c->tls = NULL;
	c->rec = rec;
	c->ct_off = staged;
	c->ct_len = staged + (uint32_t)n;
	c->rx_full = false;
	conn_dbg(c, "TLS: records in user space (%u bytes of records already here)",
		 c->ct_len - c->ct_off);
	return 1;
}

int conn_tls_rec_fail(struct conn *c, int err)
{
	enum listener_tls_fail kind = err == -ECONNABORTED ? LTLS_OTHER : LTLS_BAD_RECORD;
	const char *why = err == -ECONNRESET ? "the input ended inside a record"
					     : tls_record_error(c->rec);

	if (c->closing)
		return err;
	listener_tls_count(c->l, kind);
	conn_warn(c, "TLS (host %s): %s [%s]; closing", c->tls_host, why[0] ? why : strerror(-err),
		  listener_tls_fail_name(kind));
	/* RFC 8446 6.2: the error alert is the last record; no close_notify after it */
	c->tls_notify_sent = true;
	if (err != -ECONNRESET && err != -ECONNABORTED) {
		c->rec_alert = (uint8_t)tls_record_alert(c->rec);
		c->rec_alert_owed = true;
	}
	conn_close(c, c->rec_alert_owed ? CLOSE_AFTER_TX : CLOSE_NOW, "TLS failure");
	return err;
}

int conn_tls_input(struct conn *c, const uint8_t *p, uint32_t n)
{
	int ret;

	if (!c->tls_first_seen) {
		c->tls_first_seen = true;
		/* 3.6.1.1: no fallback to plain text on a TLS port */
		if (tls_looks_like_client_hello(p, n < 6 ? n : 6) == 0) {
			listener_tls_count(c->l, LTLS_NOT_TLS);
			conn_warn(c, "not TLS on a TLS port (first byte 0x%02x%s) [%s]; closing",
				  p[0], p[0] == NVME_TCP_ICREQ ? ": a plain ICReq" : "",
				  listener_tls_fail_name(LTLS_NOT_TLS));
			conn_close(c, CLOSE_NOW, "not TLS");
			return -EPROTO;
		}
	}
	ret = tls_session_feed(c->tls, p, n);
	if (ret)
		return tls_fail(c, ret);
	if (c->tls_up)
		return 0;
	ret = tls_session_handshake(c->tls);
	if (conn_tls_out_pending(c))
		worker_tx_schedule(c->w, c);
	if (ret == -EAGAIN)
		return 0;
	if (ret)
		return tls_fail(c, ret);
	c->tls_up = true;
	atomic_fetch_add_explicit(&c->l->tls_stats.handshakes, 1, memory_order_relaxed);
	conn_dbg(c, "TLS 1.3 with %s, identity %s", tls_cipher_name(tls_session_cipher(c->tls)),
		 tls_session_identity(c->tls));
	ret = ktls_offload(c);
	if (ret == 0)
		ret = rec_handover(c);
	return ret < 0 ? ret : 0;
}

ssize_t conn_tls_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (!c->tls_up)
		return -EAGAIN;
	n = tls_session_read(c->tls, buf, len);
	if (n > 0 || n == -EAGAIN)
		return n;
	if (conn_tls_out_pending(c))
		worker_tx_schedule(c->w, c); /* e.g. an answer to a KeyUpdate */
	if (n == 0) {
		/* close_notify: the host ends the connection cleanly */
		conn_close(c, CLOSE_NOW, "the host sent close_notify");
		return -ECONNRESET;
	}
	return tls_fail(c, (int)n);
}

bool conn_tls_out_pending(struct conn *c)
{
	const uint8_t *p;

	if (c->rec != NULL)
		return c->rec_pre.len > 0 || c->rec_alert_owed || tls_record_tx_owed(c->rec);
	return c->tls != NULL && tls_session_pending_out(c->tls, &p) > 0;
}

/*
 * User-space records: the batch's PDU iovecs (headers, the store's memory)
 * sealed straight into the batch's record buffer, one pass over the data;
 * the buffer stays with the batch for its next use.
 */
static int rec_encrypt(struct conn *c, struct tx_batch *b, int *iovcnt)
{
	size_t need, off = 0;
	ssize_t n;

	/* b->total: the PDUs' bytes (add_pdu); the bound has room for one alert too */
	need = c->rec_pre.len + tls_record_seal_bound(b->total);
	if (b->tls.cap < need) {
		uint8_t *p = realloc(b->tls.base, need);

		if (p == NULL) {
			*iovcnt = 0;
			conn_err(c, "TLS: no memory for %zu bytes of records; closing", need);
			c->tls_notify_sent = true;
			conn_close(c, CLOSE_NOW, "out of memory");
			return -ENOMEM;
		}
		b->tls.base = p;
		b->tls.cap = need;
	}
	if (c->rec_pre.len > 0) {
		memcpy(b->tls.base, c->rec_pre.base + c->rec_pre.off, c->rec_pre.len);
		off = c->rec_pre.len;
		tls_outbuf_free(&c->rec_pre);
	}
	if (c->rec_alert_owed) {
		/* after a failure only the alert goes (the PDUs are dropped) */
		c->rec_alert_owed = false;
		n = tls_record_seal_alert(c->rec, c->rec_alert, b->tls.base + off,
					  b->tls.cap - off);
		off += n > 0 ? (size_t)n : 0;
	} else {
		if (*iovcnt > 0 || tls_record_tx_owed(c->rec)) {
			n = tls_record_seal_data(c->rec, b->iov, *iovcnt, b->tls.base + off,
						 b->tls.cap - off);
			if (n < 0) {
				*iovcnt = 0;
				listener_tls_count(c->l, LTLS_OTHER);
				conn_err(c, "TLS: %s; closing", tls_record_error(c->rec));
				c->tls_notify_sent = true;
				conn_close(c, CLOSE_NOW, "TLS failure");
				return (int)n;
			}
			off += (size_t)n;
		}
		/* our side ends: close_notify (RFC 8446 6.1) after the last PDU */
		if (c->closing && c->tx_close && !c->tls_notify_sent) {
			c->tls_notify_sent = true;
			n = tls_record_seal_alert(c->rec, TLS_ALERT_CLOSE_NOTIFY, b->tls.base + off,
						  b->tls.cap - off);
			off += n > 0 ? (size_t)n : 0;
		}
	}
	b->tls.off = 0;
	b->tls.len = off;
	b->iov[0].iov_base = b->tls.base;
	b->iov[0].iov_len = off;
	b->total = off;
	*iovcnt = off > 0;
	return 0;
}

int conn_tls_encrypt(struct conn *c, struct tx_batch *b, int *iovcnt)
{
	if (c->rec != NULL)
		return rec_encrypt(c, b, iovcnt);
	if (*iovcnt > 0) {
		ssize_t n = tls_session_write(c->tls, b->iov, *iovcnt);

		if (n < 0) {
			*iovcnt = 0;
			return tls_fail(c, (int)n);
		}
	}
	/* our side ends: close_notify (RFC 8446 6.1) after the last PDU */
	if (c->closing && c->tx_close && c->tls_up && !c->tls_notify_sent) {
		c->tls_notify_sent = true;
		(void)tls_session_close(c->tls);
	}
	tls_session_take_out(c->tls, &b->tls);
	b->iov[0].iov_base = b->tls.base + b->tls.off;
	b->iov[0].iov_len = b->tls.len;
	b->total = b->tls.len;
	*iovcnt = b->tls.len > 0;
	return 0;
}

void conn_tls_ktls_close(struct conn *c)
{
	/* RFC 8446 6.1 close_notify: alert level warning(1), description 0 */
	static const uint8_t alert[2] = {1, TLS_ALERT_CLOSE_NOTIFY};
	union {
		char buf[CMSG_SPACE(sizeof(uint8_t))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = {.iov_base = (void *)alert, .iov_len = sizeof(alert)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cb.buf,
			   .msg_controllen = sizeof(cb.buf)};
	struct cmsghdr *cm;

	if (!c->ktls || !c->tls_up || c->tls_notify_sent)
		return;
	c->tls_notify_sent = true;
	memset(&cb, 0, sizeof(cb));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE; /* Documentation/networking/tls.rst */
	cm->cmsg_len = CMSG_LEN(sizeof(uint8_t));
	*CMSG_DATA(cm) = TLS_CT_ALERT;
	/* every PDU went out before the FIN: two bytes fit; never wait for them */
	if (sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(alert))
		conn_dbg(c, "TLS: close_notify through kernel TLS: %s", strerror(errno));
	else
		conn_dbg(c, "TLS: close_notify sent (kernel TLS)");
}

void conn_tls_timeout(struct conn *c)
{
	listener_tls_count(c->l, LTLS_TIMEOUT);
	conn_warn(c, "TLS handshake not finished within icreq_timeout (%u ms) [%s]; closing",
		  c->w->t->p.icreq_timeout_ms, listener_tls_fail_name(LTLS_TIMEOUT));
	conn_close(c, CLOSE_NOW, "TLS handshake timeout");
}

void conn_tls_eof(struct conn *c)
{
	ssize_t n;

	tls_session_feed_eof(c->tls);
	if (!c->tls_up) {
		tls_fail(c, tls_session_handshake(c->tls));
		return;
	}
	/* a truncated record: the session says so (-ECONNRESET, "inside a record") */
	n = tls_session_read(c->tls, c->rxbuf, c->rxbuf_size);
	tls_fail(c, n < 0 ? (int)n : -ECONNRESET);
}
