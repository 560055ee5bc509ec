/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe/TCP host transport of libnvmf: blocking sockets with timeouts
 * driving the sans-I/O PDU codec (pdu.h).
 *
 * Section numbers: NVMe/TCP Transport Specification 1.0 ("3.x") and NVMe
 * over Fabrics 1.1 ("7.4.x"). Where the specification leaves a choice we do
 * what the Linux host (drivers/nvme/host/tcp.c) does: HPDA 0, MAXR2T 0,
 * the ICResp checks of nvme_tcp_init_connection(), and the R2T / C2HData
 * checks of nvme_tcp_handle_r2t() / nvme_tcp_handle_c2h_data(), in the
 * order FreeBSD's nvmf_tcp.c reports them (lowest field first).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byteorder.h"
#include "nvmf_internal.h"
#include "pdu.h"
#include "status.h"
#include "tls_session.h"

#define RXBUF_SIZE (64u << 10)
#define TLS_INBUF  (TLS_MAX_FRAGMENT + 256) /* ciphertext per recv: a record */

struct nvmf_tcp_qpair {
	struct nvmf_qpair qp;
	int s;
	struct tcp_conn_params params;
	struct tcp_rx rx;
	uint32_t h2c_max; /* H2CData DATAL we send: MAXH2CDATA, or the host's cap */
	uint8_t *rxbuf;	  /* staging for headers and small payloads */
	size_t rx_len, rx_off;
	uint8_t term_data[NVME_TCP_TERM_DATA_MAX];
	/* TLS (3.6.1): every byte goes through this session */
	struct tls_ctx *tls_ctx;
	struct tls_session *tls;
	uint8_t *tls_in; /* TLS_INBUF bytes of ciphertext */
};

struct nvmf_tcp_capsule {
	struct nvmf_capsule nc;
	uint32_t rcvd; /* C2HData bytes received, in order */
	uint32_t sent; /* bytes sent in-capsule or by H2CData */
};

#define TQP(qp)	 ((struct nvmf_tcp_qpair *)(qp))
#define TCAP(nc) ((struct nvmf_tcp_capsule *)(nc))

/* The queue pair is unusable from now on; err goes to every waiter. */
static int tcp_fail(struct nvmf_tcp_qpair *tq, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tcp_fail(struct nvmf_tcp_qpair *tq, int err, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (tq->qp.nq_dead)
		return tq->qp.nq_dead;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nq_error(&tq->qp, err, "%s", msg);
	nvmf_qpair_kill(&tq->qp, err);
	return err;
}

/* ---- Socket I/O ---- */

static int io_error(struct nvmf_tcp_qpair *tq, int err, const char *what)
{
	uint32_t ms = tq->qp.nq_association->na_params.timeout_ms;

	if (err == -EAGAIN || err == -EWOULDBLOCK)
		return tcp_fail(tq, -ETIMEDOUT, "timed out after %u ms %s", ms, what);
	return tcp_fail(tq, err, "%s: %s", what, strerror(-err));
}

static int send_iov(struct nvmf_tcp_qpair *tq, struct iovec *iov, int iovcnt)
{
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};

	while (msg.msg_iovlen > 0) {
		ssize_t n = sendmsg(tq->s, &msg, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(tq, -errno, "sending to the controller");
		while (n > 0 && msg.msg_iovlen > 0) {
			size_t k = (size_t)n < msg.msg_iov->iov_len ? (size_t)n
								    : msg.msg_iov->iov_len;

			msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base + k;
			msg.msg_iov->iov_len -= k;
			n -= (ssize_t)k;
			if (msg.msg_iov->iov_len == 0) {
				msg.msg_iov++;
				msg.msg_iovlen--;
			}
		}
	}
	return 0;
}

static int tls_error(struct nvmf_tcp_qpair *tq, int err, const char *when)
{
	return tcp_fail(tq, err, "TLS %s: %s", when, tls_session_error(tq->tls));
}

/* Send the records (or handshake messages, alerts) the session holds. */
static int tls_flush(struct nvmf_tcp_qpair *tq)
{
	const uint8_t *p;
	size_t n = tls_session_pending_out(tq->tls, &p);
	struct iovec iov;
	int ret;

	if (n == 0)
		return 0;
	iov.iov_base = (void *)p;
	iov.iov_len = n;
	ret = send_iov(tq, &iov, 1);
	tls_session_consume_out(tq->tls, n);
	return ret;
}

static int send_pdu(struct nvmf_tcp_qpair *tq, const struct tcp_tx_pdu *t)
{
	struct iovec iov[4];

	if (tq->qp.nq_dead)
		return tq->qp.nq_dead;
	memcpy(iov, t->iov, sizeof(iov[0]) * (size_t)t->iovcnt);
	if (tq->tls != NULL) {
		ssize_t n = tls_session_write(tq->tls, iov, t->iovcnt);

		if (n < 0)
			return tls_error(tq, (int)n, "send");
		return tls_flush(tq);
	}
	return send_iov(tq, iov, t->iovcnt);
}

/* Ciphertext from the socket into the session; 0 or a failure. */
static int tls_refill(struct nvmf_tcp_qpair *tq)
{
	ssize_t n;

	do {
		n = recv(tq->s, tq->tls_in, TLS_INBUF, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return io_error(tq, -errno, "waiting for the controller");
	if (n == 0) {
		tls_session_feed_eof(tq->tls);
		return 0;
	}
	if (tls_session_feed(tq->tls, tq->tls_in, (size_t)n) != 0)
		return tcp_fail(tq, -ENOMEM, "out of memory");
	return 0;
}

/* Plaintext out of the session, receiving records as needed. */
static ssize_t tls_recv_some(struct nvmf_tcp_qpair *tq, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = tls_session_read(tq->tls, buf, len);
		int ret;

		if (n > 0)
			return n;
		if (n == 0)
			return tcp_fail(tq, -ECONNRESET,
					"the controller closed the connection (close_notify)");
		if (n != -EAGAIN)
			return tls_error(tq, (int)n, "receive");
		ret = tls_refill(tq);
		if (ret)
			return ret;
	}
}

/* recv() into buf; 0 bytes (orderly close) is an error here. */
static ssize_t recv_some(struct nvmf_tcp_qpair *tq, void *buf, size_t len)
{
	ssize_t n;

	if (tq->tls != NULL)
		return tls_recv_some(tq, buf, len);
	do {
		n = recv(tq->s, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return io_error(tq, -errno, "waiting for the controller");
	if (n == 0)
		return tcp_fail(tq, -ECONNRESET, "the controller closed the connection");
	return n;
}

/* ---- Protocol errors ---- */

/* 7.4.7: tell the controller with an H2CTermReq, then give up the queue. */
static int term_req(struct nvmf_tcp_qpair *tq, uint16_t fes, uint32_t fei, const char *why)
{
	struct tcp_tx_pdu t;
	uint32_t hlen = tq->rx.hdr_len ? tq->rx.hdr_len : sizeof(struct nvme_tcp_ch);

	tcp_build_term_req(&t, NVME_TCP_H2C_TERM, fes, fei, tq->rx.hdr.raw, hlen);
	(void)send_pdu(tq, &t);
	return tcp_fail(tq, -EPROTO,
			"protocol error in a %s PDU from the controller: %s "
			"(sent H2CTermReq: %s, FEI %u)",
			tcp_pdu_type_name(tq->rx.hdr.ch.pdu_type), why, tcp_fes_name(fes), fei);
}

/* The codec rejected what it received (pdu.h: -EBADMSG or -ECONNRESET). */
static int codec_error(struct nvmf_tcp_qpair *tq, int err)
{
	struct tcp_rx *rx = &tq->rx;
	struct tcp_tx_pdu t;

	if (err != -EBADMSG)
		return tcp_fail(tq, -EPROTO, "malformed C2HTermReq from the controller");
	/* The Linux host sends no TermReq during the ICReq exchange either. */
	if (rx->ic_done) {
		tcp_build_term_req(&t, NVME_TCP_H2C_TERM, rx->fes, rx->fei, rx->hdr.raw,
				   tcp_rx_bad_hdr_len(rx));
		(void)send_pdu(tq, &t);
	}
	return tcp_fail(tq, -EPROTO, "invalid %s PDU from the controller: %s (FEI %u)%s",
			tcp_pdu_type_name(rx->hdr.ch.pdu_type), tcp_fes_name(rx->fes), rx->fei,
			rx->ic_done ? "; sent H2CTermReq" : "");
}

/* ---- Receive handlers ---- */

/* C2HData header (3.6.2.9): is the data expected, in order, in range? */
static int on_c2h_header(struct nvmf_tcp_qpair *tq)
{
	const struct nvme_tcp_c2h_data *h = &tq->rx.hdr.c2h;
	struct nvmf_capsule *nc = nvmf_qpair_lookup(&tq->qp, h->cccid);
	uint32_t datao = le32toh(h->datao), datal = le32toh(h->datal);

	if (nc == NULL || nc->nc_send || nc->nc_data_len == 0)
		return term_req(tq, NVME_TCP_FES_INVALID_PDU_HDR,
				offsetof(struct nvme_tcp_c2h_data, cccid),
				nc == NULL ? "no such command" : "command reads no data");
	if (datao != TCAP(nc)->rcvd)
		return term_req(tq, NVME_TCP_FES_PDU_SEQ_ERR, 0, "DATAO out of order");
	if (datal > nc->nc_data_len - datao)
		return term_req(tq, NVME_TCP_FES_DATA_OUT_OF_RANGE, 0,
				"data beyond the command's length");
	if ((h->ch.flags & NVME_TCP_F_DATA_LAST) && datao + datal != nc->nc_data_len)
		return term_req(tq, NVME_TCP_FES_PDU_SEQ_ERR, 0, "LAST_PDU before all data");
	tcp_rx_set_data(&tq->rx, (uint8_t *)nc->nc_data + datao);
	return 0;
}

static int on_header(struct nvmf_tcp_qpair *tq)
{
	switch (tq->rx.hdr.ch.pdu_type) {
	case NVME_TCP_C2H_DATA:
		return on_c2h_header(tq);
	case NVME_TCP_C2H_TERM:
		tcp_rx_set_data(&tq->rx, tq->term_data);
		return 0;
	default: /* the codec lets no other data-carrying PDU reach a host */
		tcp_rx_set_data(&tq->rx, NULL);
		return 0;
	}
}

static void c2h_success(struct nvmf_capsule *nc)
{
	struct nvme_cqe cqe;

	/* 7.4.5.2: SUCCESS stands for a CapsuleResp with status 0. */
	memset(&cqe, 0, sizeof(cqe));
	cqe.cid = nc->nc_sqe.cid;
	cqe.sqid = htole16(nc->nc_qpair->nq_qid);
	nvmf_capsule_complete(nc, &cqe, 0);
}

static int on_c2h_pdu(struct nvmf_tcp_qpair *tq)
{
	const struct nvme_tcp_c2h_data *h = &tq->rx.hdr.c2h;
	struct nvmf_capsule *nc = nvmf_qpair_lookup(&tq->qp, h->cccid);

	/* Data-less PDUs get no TCP_RX_HEADER, so on_c2h_header() never saw it. */
	if (tcp_rx_data_len(&tq->rx) == 0)
		return term_req(tq, NVME_TCP_FES_INVALID_PDU_HDR,
				offsetof(struct nvme_tcp_c2h_data, datal), "C2HData without data");
	if (nc == NULL) /* checked at the header; cannot vanish meanwhile */
		return tcp_fail(tq, -EPROTO, "C2HData for a completed command");
	TCAP(nc)->rcvd += le32toh(h->datal);
	/* 3.6.1.2: a data digest error fails the command, not the connection. */
	if (tq->rx.ddgst_err && nc->nc_error == 0) {
		nc->nc_error = -EBADMSG;
		nq_error(&tq->qp, -EBADMSG, "data digest error in C2HData at offset %u (cid %u)",
			 le32toh(h->datao), nc->nc_sqe.cid);
	}
	if (h->ch.flags & NVME_TCP_F_DATA_SUCCESS)
		c2h_success(nc);
	return 0;
}

/* Send the data an R2T asks for, at most h2c_max bytes per H2CData PDU. */
static int send_h2c(struct nvmf_tcp_qpair *tq, struct nvmf_capsule *nc, uint16_t ttag,
		    uint32_t r2to, uint32_t r2tl)
{
	struct tcp_tx_pdu t;
	uint32_t off = r2to, end = r2to + r2tl;
	int ret;

	while (off < end) {
		uint32_t n = end - off < tq->h2c_max ? end - off : tq->h2c_max;

		/* 3.6.2.8: DATAO is absolute; LAST_PDU ends this R2T's data. */
		tcp_build_h2c_data(&t, &tq->params, nc->nc_sqe.cid, ttag, off,
				   (const uint8_t *)nc->nc_data + off, n, off + n == end);
		ret = send_pdu(tq, &t);
		if (ret)
			return ret;
		off += n;
	}
	TCAP(nc)->sent = end;
	return 0;
}

/* R2T (3.6.2.10); with MAXR2T 0 one is outstanding per command at a time. */
static int on_r2t(struct nvmf_tcp_qpair *tq)
{
	const struct nvme_tcp_r2t *r = &tq->rx.hdr.r2t;
	struct nvmf_capsule *nc = nvmf_qpair_lookup(&tq->qp, r->cccid);
	uint32_t r2to = le32toh(r->r2to), r2tl = le32toh(r->r2tl);

	if (nc == NULL || !nc->nc_send || TCAP(nc)->sent == nc->nc_data_len)
		return term_req(tq, NVME_TCP_FES_INVALID_PDU_HDR,
				offsetof(struct nvme_tcp_r2t, cccid),
				nc == NULL ? "no such command" : "command has no data to request");
	if (r2tl == 0)
		return term_req(tq, NVME_TCP_FES_INVALID_PDU_HDR,
				offsetof(struct nvme_tcp_r2t, r2tl), "R2TL is 0");
	if (r2to != TCAP(nc)->sent)
		return term_req(tq, NVME_TCP_FES_PDU_SEQ_ERR, 0, "R2TO out of order");
	if (r2tl > nc->nc_data_len - r2to)
		return term_req(tq, NVME_TCP_FES_DATA_OUT_OF_RANGE, 0,
				"R2T beyond the command's length");
	return send_h2c(tq, nc, r->ttag, r2to, r2tl);
}

static int on_rsp(struct nvmf_tcp_qpair *tq)
{
	const struct nvme_cqe *cqe = &tq->rx.hdr.rsp.cqe;
	struct nvmf_capsule *nc = nvmf_qpair_lookup(&tq->qp, cqe->cid);
	uint32_t moved;

	if (nc == NULL)
		return term_req(tq, NVME_TCP_FES_INVALID_PDU_HDR,
				offsetof(struct nvme_tcp_rsp, cqe) + offsetof(struct nvme_cqe, cid),
				"CapsuleResp for no outstanding command");
	moved = nc->nc_send ? TCAP(nc)->sent : TCAP(nc)->rcvd;
	/* Success before all data moved: the Linux host's nvme_tcp_data_in_short(). */
	if (nvme_cqe_status(cqe) == 0 && moved != nc->nc_data_len) {
		nq_error(&tq->qp, -EPROTO, "successful completion after %u of %u data bytes", moved,
			 nc->nc_data_len);
		nvmf_capsule_complete(nc, cqe, -EPROTO);
		return 0;
	}
	nvmf_capsule_complete(nc, cqe, 0);
	return 0;
}

static int on_term(struct nvmf_tcp_qpair *tq)
{
	const struct nvme_tcp_term_req *t = &tq->rx.hdr.term;
	uint16_t fes = le16toh(t->fes);

	return tcp_fail(tq, -ECONNRESET, "the controller sent C2HTermReq: %s (FES %u, FEI %u)",
			tcp_fes_name(fes), fes, get_le32(t->fei));
}

static int on_pdu(struct nvmf_tcp_qpair *tq)
{
	switch (tq->rx.hdr.ch.pdu_type) {
	case NVME_TCP_RSP:
		return on_rsp(tq);
	case NVME_TCP_C2H_DATA:
		return on_c2h_pdu(tq);
	case NVME_TCP_R2T:
		return on_r2t(tq);
	case NVME_TCP_C2H_TERM:
		return on_term(tq);
	default:
		return tcp_fail(tq, -EPROTO, "unexpected %s PDU",
				tcp_pdu_type_name(tq->rx.hdr.ch.pdu_type));
	}
}

/* Feed staged bytes to the codec until an event or the stage is empty. */
/* When every received byte has been fed, receive more into rxbuf. */
static int refill(struct nvmf_tcp_qpair *tq)
{
	ssize_t n;

	if (tq->rx_off < tq->rx_len)
		return 0;
	n = recv_some(tq, tq->rxbuf, RXBUF_SIZE);
	if (n < 0)
		return (int)n;
	tq->rx_off = 0;
	tq->rx_len = (size_t)n;
	return 0;
}

static int feed(struct nvmf_tcp_qpair *tq, enum tcp_rx_event *ev)
{
	ssize_t n = tcp_rx_feed(&tq->rx, tq->rxbuf + tq->rx_off, tq->rx_len - tq->rx_off, ev);

	if (n < 0)
		return codec_error(tq, (int)n);
	tq->rx_off += (size_t)n;
	return 0;
}

/* Read payload straight into the command's buffer when nothing is staged. */
static int place_direct(struct nvmf_tcp_qpair *tq, enum tcp_rx_event *ev)
{
	void *where;
	uint32_t want = tcp_rx_data_wanted(&tq->rx, &where);
	ssize_t n;

	if (want == 0)
		return 1;
	n = recv_some(tq, where, want);
	if (n < 0)
		return (int)n;
	tcp_rx_data_placed(&tq->rx, (uint32_t)n);
	/* All placed: a zero-length feed moves on to the digest or the PDU event. */
	return (uint32_t)n == want ? feed(tq, ev) : 0;
}

/* Get bytes (or place data), run the codec, handle at most one event. */
static int tcp_receive(struct nvmf_qpair *qp)
{
	struct nvmf_tcp_qpair *tq = TQP(qp);
	enum tcp_rx_event ev = TCP_RX_NEED_MORE;
	int ret = 1;

	if (qp->nq_dead)
		return qp->nq_dead;
	if (tq->rx_off == tq->rx_len) {
		ret = place_direct(tq, &ev);
		if (ret < 0)
			return ret;
	}
	if (ret == 1) {
		ret = refill(tq);
		if (ret)
			return ret;
		ret = feed(tq, &ev);
		if (ret)
			return ret;
	}
	if (ev == TCP_RX_HEADER)
		return on_header(tq);
	if (ev == TCP_RX_PDU)
		return on_pdu(tq);
	return 0;
}

/* ---- Connection setup ---- */

static int set_timeouts(int s, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	int one = 1;

	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	return 0;
}

static int fcntl_blocking(int s)
{
	int fl = fcntl(s, F_GETFL);

	return fl < 0 ? -1 : fcntl(s, F_SETFL, fl & ~O_NONBLOCK);
}

/* connect() bounded by the timeout: non-blocking, poll, then blocking again. */
static int dial_one(const struct addrinfo *ai, uint32_t ms, int *sp)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int s, err = 0;

	s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (s < 0)
		return -errno;
	if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto out_close;
		}
		pfd = (struct pollfd){.fd = s, .events = POLLOUT};
		err = poll(&pfd, 1, (int)ms);
		if (err <= 0) {
			err = err == 0 ? -ETIMEDOUT : -errno;
			goto out_close;
		}
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
			err = err ? -err : -errno;
			goto out_close;
		}
	}
	if (fcntl_blocking(s) || set_timeouts(s, ms)) {
		err = -errno;
		goto out_close;
	}
	*sp = s;
	return 0;
out_close:
	close(s);
	return err;
}

/* "[::1]:4420" or "127.0.0.1:4420", for messages. */
static const char *addr_str(const struct nvmf_qpair_params *p, char *buf, size_t size)
{
	snprintf(buf, size, strchr(p->traddr, ':') ? "[%s]:%s" : "%s:%s", p->traddr, p->trsvcid);
	return buf;
}

/* TCP connect to the first address that answers (IPv4, IPv6, names). */
static int dial(struct nvmf_association *na, const struct nvmf_qpair_params *p, int *sp)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
	struct addrinfo *list, *ai;
	char where[300];
	int ret;

	addr_str(p, where, sizeof(where));
	ret = getaddrinfo(p->traddr, p->trsvcid, &hints, &list);
	if (ret != 0)
		return na_error(na, -ENXIO, "%s: %s", where,
				ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
	ret = -EHOSTUNREACH;
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		ret = dial_one(ai, na->na_params.timeout_ms, sp);
		if (ret == 0)
			break;
	}
	freeaddrinfo(list);
	if (ret == -ETIMEDOUT)
		return na_error(na, ret, "%s: no answer to TCP connect within %u ms", where,
				na->na_params.timeout_ms);
	if (ret)
		return na_error(na, ret, "%s: %s", where, strerror(-ret));
	return 0;
}

/* Receive until the codec reports a whole PDU (the ICResp). */
static int receive_pdu(struct nvmf_tcp_qpair *tq)
{
	enum tcp_rx_event ev = TCP_RX_NEED_MORE;
	int ret;

	while (ev != TCP_RX_PDU) {
		ret = refill(tq);
		if (ret)
			return ret;
		ret = feed(tq, &ev);
		if (ret)
			return ret;
		if (ev == TCP_RX_HEADER) /* a TermReq with data: keep it */
			tcp_rx_set_data(&tq->rx, tq->term_data);
	}
	return 0;
}

/*
 * 3.6.2.2-3: ICReq with PFV 0, HPDA 0, MAXR2T 0 and the digests we want;
 * the ICResp must agree exactly, as the Linux host requires
 * (nvme_tcp_init_connection(): type, PLEN 128, PFV 0, digests echoed,
 * CPDA 0, MAXH2CDATA a multiple of 4 and >= 4096).
 */
static int ic_exchange(struct nvmf_tcp_qpair *tq)
{
	const struct nvmf_association_params *ap = &tq->qp.nq_association->na_params;
	const struct nvme_tcp_icresp *r = &tq->rx.hdr.icresp;
	uint8_t want = (uint8_t)((ap->hdgst ? NVME_TCP_DGST_HDGST_ENABLE : 0) |
				 (ap->ddgst ? NVME_TCP_DGST_DDGST_ENABLE : 0));
	struct tcp_tx_pdu t;
	uint32_t maxh2c;
	int ret;

	tcp_build_icreq(&t, 0, want, 0);
	ret = send_pdu(tq, &t);
	if (ret == 0)
		ret = receive_pdu(tq);
	if (ret)
		return ret;
	if (r->ch.pdu_type == NVME_TCP_C2H_TERM)
		return on_term(tq);
	if (r->dgst != want)
		return tcp_fail(tq, -EPROTO, "ICResp digests %s%s%s, requested %s%s%s",
				r->dgst & 1 ? "header " : "", r->dgst & 2 ? "data " : "",
				r->dgst & 3 ? "" : "none", want & 1 ? "header " : "",
				want & 2 ? "data " : "", want ? "" : "none");
	if (r->cpda != 0)
		return tcp_fail(tq, -EPROTO, "ICResp CPDA %u is not supported", r->cpda);
	maxh2c = le32toh(r->maxh2cdata);
	tq->params.hdgst = ap->hdgst;
	tq->params.ddgst = ap->ddgst;
	tq->params.txpda = r->cpda;
	tq->params.maxh2cdata = maxh2c;
	tq->h2c_max = ap->max_h2c != 0 && ap->max_h2c < maxh2c ? ap->max_h2c : maxh2c;
	tcp_rx_ic_done(&tq->rx);
	return 0;
}

/*
 * 3.6.1: TLS 1.3 with the PSK before the ICReq. The identity and the TLS
 * PSK come from the configured key and the two NQNs (tls_psk.h).
 */
static int tls_connect(struct nvmf_tcp_qpair *tq, const struct nvmf_qpair_params *p)
{
	struct nvmf_association *na = tq->qp.nq_association;
	const struct nvmf_association_params *ap = &na->na_params;
	char identity[TLS_PSK_IDENTITY_MAX + 1];
	uint8_t psk[TLS_PSK_MAX_LEN];
	int ret;

	ret = tls_psk_host_derive(&ap->tls_key, ap->hostnqn, p->subnqn, ap->tls_identity,
				  ap->tls_kdf, identity, sizeof(identity), psk);
	if (ret)
		return tcp_fail(tq, ret, "TLS: cannot derive the PSK identity: %s", strerror(-ret));
	tq->tls_in = malloc(TLS_INBUF);
	tq->tls_ctx = tls_ctx_new(&ret);
	if (tq->tls_ctx != NULL && tq->tls_in != NULL)
		tq->tls = tls_session_new_client(
			tq->tls_ctx, identity, psk,
			tls_psk_hash_len(tls_psk_key_cipher_hash(&ap->tls_key)), &ret);
	explicit_bzero(psk, sizeof(psk));
	if (tq->tls == NULL)
		return tcp_fail(tq, ret ? ret : -ENOMEM, "TLS: cannot start a session");
	for (;;) {
		ret = tls_session_handshake(tq->tls);
		if (tls_flush(tq) != 0)
			return tq->qp.nq_dead;
		if (ret == 0)
			return 0;
		if (ret != -EAGAIN) {
			if (ret == -ECONNRESET)
				return tcp_fail(
					tq, ret,
					"TLS handshake: the controller closed the connection "
					"(no TLS on that port, or it knows no key for %s)",
					identity);
			return tls_error(tq, ret, "handshake");
		}
		ret = tls_refill(tq);
		if (ret)
			return ret;
	}
}

static struct nvmf_qpair *tcp_qpair_alloc(struct nvmf_association *na,
					  const struct nvmf_qpair_params *params, int *err)
{
	struct nvmf_tcp_qpair *tq = calloc(1, sizeof(*tq));

	*err = -ENOMEM;
	if (tq == NULL || (tq->rxbuf = malloc(RXBUF_SIZE)) == NULL) {
		free(tq);
		na_error(na, -ENOMEM, "out of memory");
		return NULL;
	}
	tq->s = -1;
	*err = nvmf_qpair_init(&tq->qp, na, params);
	if (*err) {
		free(tq->rxbuf);
		free(tq);
		return NULL;
	}
	/* Before the ICResp: no digests, no PDA (pdu.h); a host, no ICD limit. */
	tcp_rx_init(&tq->rx, &tq->params);
	*err = dial(na, params, &tq->s);
	if (*err == 0 && na->na_params.tls)
		*err = tls_connect(tq, params);
	if (*err == 0)
		*err = ic_exchange(tq);
	if (*err) {
		nvmf_qpair_free(&tq->qp);
		return NULL;
	}
	return &tq->qp;
}

static void tcp_qpair_free(struct nvmf_qpair *qp)
{
	struct nvmf_tcp_qpair *tq = TQP(qp);

	if (tq->s >= 0) {
		/* RFC 8446 6.1: close_notify before the FIN */
		if (tq->tls != NULL && !qp->nq_dead && tls_session_close(tq->tls) == 0)
			(void)tls_flush(tq);
		close(tq->s);
	}
	nvmf_qpair_fini(qp);
	tls_session_free(tq->tls);
	tls_ctx_free(tq->tls_ctx);
	free(tq->tls_in);
	free(tq->rxbuf);
	free(tq);
}

int nvmf_tcp_qpair_detach(struct nvmf_qpair *qp, struct nvmf_tcp_queue_info *info)
{
	struct nvmf_tcp_qpair *tq = TQP(qp);

	if (qp->nq_association->na_ops != &nvmf_tcp_ops)
		return -EINVAL;
	if (qp->nq_dead)
		return qp->nq_dead;
	/* Staged bytes or a PDU half received would be lost with rxbuf. */
	if (qp->nq_outstanding != 0 || tq->rx_off != tq->rx_len || tq->rx.state != TCP_RX_CH ||
	    tq->rx.got != 0)
		return -EBUSY;
	*info = (struct nvmf_tcp_queue_info){
		.fd = tq->s,
		.qid = qp->nq_qid,
		.qsize = qp->nq_qsize,
		.cntlid = qp->nq_cntlid,
		.hdgst = tq->params.hdgst,
		.ddgst = tq->params.ddgst,
		.txpda = tq->params.txpda,
		.maxh2cdata = tq->params.maxh2cdata,
		.h2c_max = tq->h2c_max,
		.max_icd = qp->nq_max_icd,
		.max_xfer = qp->nq_association->na_max_xfer,
		.tls = tq->tls,
		.tls_ctx = tq->tls_ctx,
	};
	tq->tls = NULL;
	tq->tls_ctx = NULL;
	tq->s = -1;
	tcp_qpair_free(qp);
	return 0;
}

void nvmf_tcp_queue_info_fini(struct nvmf_tcp_queue_info *info)
{
	tls_session_free(info->tls);
	tls_ctx_free(info->tls_ctx);
	info->tls = NULL;
	info->tls_ctx = NULL;
}

static struct nvmf_capsule *tcp_capsule_alloc(struct nvmf_qpair *qp)
{
	struct nvmf_tcp_capsule *tc = calloc(1, sizeof(*tc));

	return tc ? &tc->nc : NULL;
}

static void tcp_capsule_free(struct nvmf_capsule *nc)
{
	free(TCAP(nc));
}

/* 3.6.2.6: a CapsuleCmd, with the data in it when icd. */
static int tcp_transmit_command(struct nvmf_capsule *nc, bool icd)
{
	struct nvmf_tcp_qpair *tq = TQP(nc->nc_qpair);
	struct tcp_tx_pdu t;
	int ret;

	TCAP(nc)->rcvd = 0;
	TCAP(nc)->sent = 0;
	tcp_build_cmd(&t, &tq->params, &nc->nc_sqe, icd ? nc->nc_data : NULL,
		      icd ? nc->nc_data_len : 0);
	ret = send_pdu(tq, &t);
	if (ret == 0 && icd)
		TCAP(nc)->sent = nc->nc_data_len;
	return ret;
}

const struct nvmf_transport_ops nvmf_tcp_ops = {
	.name = "tcp",
	.qpair_alloc = tcp_qpair_alloc,
	.qpair_free = tcp_qpair_free,
	.capsule_alloc = tcp_capsule_alloc,
	.capsule_free = tcp_capsule_free,
	.transmit_command = tcp_transmit_command,
	.receive = tcp_receive,
};
