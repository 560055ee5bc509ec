/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A connection: accept, the ICReq / ICResp exchange, the receive driver of
 * the PDU codec (targeted recv, see conn.h), fatal errors, teardown and the
 * hand-off of I/O queues to their worker. TX lives in conn_tx.c.
 *
 * Section numbers: NVMe/TCP Transport Specification 1.0 ("3.x") and NVMe
 * over Fabrics 1.1 ("7.4.x").
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd.h"
#include "range_lock.h"
#include "byteorder.h"
#include "epoch.h"

static _Atomic uint32_t next_conn_id;

/*
 * Deadline warnings, which many silent connections could trigger at once:
 * at most one a second in the whole process, with the count left unsaid.
 */
static _Atomic int64_t deadline_log_next;
static _Atomic uint32_t deadline_log_quiet;

static bool deadline_log_quota(int64_t now, uint32_t *quiet)
{
	int64_t next = atomic_load(&deadline_log_next);

	if (now < next || !atomic_compare_exchange_strong(&deadline_log_next, &next, now + 1000)) {
		atomic_fetch_add(&deadline_log_quiet, 1);
		return false;
	}
	*quiet = atomic_exchange(&deadline_log_quiet, 0);
	return true;
}

#define conn_deadline_warn(c, fmt, ...)                                                           \
	do {                                                                                      \
		uint32_t quiet_;                                                                  \
		if (deadline_log_quota((c)->w->now_ms, &quiet_))                                  \
			conn_warn(c, fmt " (%u more such since the last message)", ##__VA_ARGS__, \
				  quiet_);                                                        \
	} while (0)

/* "addr:port" or "[v6addr]:port" of a socket address. */
void conn_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len, char *host,
		   size_t hostlen, uint16_t *port)
{
	char h[INET6_ADDRSTRLEN] = "?";
	uint16_t p = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, h, sizeof(h));
		p = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, h, sizeof(h));
		p = ntohs(in6->sin6_port);
	}
	if (buf != NULL)
		snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", h, p);
	if (host != NULL)
		snprintf(host, hostlen, "%s", h);
	if (port != NULL)
		*port = p;
}

int conn_set_qsize(struct conn *c, uint32_t qsize)
{
	/* commands whose answer is in a batch not yet released are not outstanding */
	uint32_t n = qsize + CONN_TX_BATCH * CONN_TX_INFLIGHT;

	if (n > c->nslots) {
		struct cmd **s = realloc(c->slots, n * sizeof(*s));

		if (s == NULL)
			return -ENOMEM;
		memset(s + c->nslots, 0, (n - c->nslots) * sizeof(*s));
		c->slots = s;
		c->nslots = n;
	}
	c->qsize = qsize;
	return 0;
}

static void conn_free_mem(struct conn *c)
{
	conn_tls_free(c);
	free(c->slots);
	free(c->rxbuf);
	conn_tx_fini(c);
	free(c);
}

/*
 * TCP keepalive on every connection (nvmfd.ini(5) tcp_keepalive_*): a host
 * that vanished without a FIN (power loss, a cut link) is noticed within
 * idle + count x interval, its connection closed, and with the admin
 * queue's connection its controller (ctrl_queue_gone), whatever KATO it
 * asked for. TCP_USER_TIMEOUT bounds the same wait when data is unacked
 * (keepalive probes are only sent on an idle connection). Failures cost
 * only the early detection: logged, not fatal.
 */
static void conn_keepalive(int fd, const struct target_params *p)
{
	int on = p->ka_idle_s != 0, idle = (int)p->ka_idle_s, intvl = (int)p->ka_intvl_s;
	int cnt = (int)p->ka_count;
	unsigned int user_ms = (p->ka_idle_s + p->ka_intvl_s * p->ka_count) * 1000u;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0) {
		log_debug("SO_KEEPALIVE: %s", strerror(errno));
		return;
	}
	if (!on)
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, sizeof(user_ms)) != 0)
		log_debug("TCP keepalive options: %s", strerror(errno));
}

void conn_accept(struct worker *w, struct listener *l, int fd)
{
	const struct target_params *tp = &w->t->p;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char peer[sizeof(((struct conn *)0)->peer)] = "?";
	struct conn *c;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		conn_addr_str(&ss, peer, sizeof(peer), NULL, 0, NULL);
	/* over a limit: closed before anything is allocated (conn_limits.h says why) */
	if (limits_conn_open(&w->t->limits, &tp->conns, &ss, peer, l->name, w->now_ms) != 0) {
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->rxbuf = malloc(CONN_RXBUF_SIZE)) == NULL || conn_tx_init(c) != 0 ||
	    conn_set_qsize(c, TARGET_ADMIN_QDEPTH) != 0) {
		log_err("worker %u: out of memory for a connection on %s", w->id, l->name);
		if (c != NULL)
			conn_free_mem(c);
		limits_conn_close(&w->t->limits, &ss, true, w->now_ms);
		close(fd);
		return;
	}
	c->rxbuf_size = CONN_RXBUF_SIZE;
	c->peer_ss = ss;
	c->lim_pending = true;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_debug("TCP_NODELAY: %s", strerror(errno));
	conn_keepalive(fd, &w->t->p);
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if (ss.ss_family != 0)
		c->zc_remote = conn_zc_remote(fd, &ss);
	c->id = atomic_fetch_add(&next_conn_id, 1) + 1;
	c->w = w;
	c->fd = fd;
	c->l = l;
	listener_get(l);
	c->accepted_ms = w->now_ms;
	c->qid = CONN_QID_NONE;
	c->txq_tail = &c->txq;
	/* Before the ICReq: no digests, no PDA (pdu.h); in-capsule data as on any queue. */
	c->p.controller = true;
	c->p.maxh2cdata = tp->maxh2cdata;
	c->p.max_icd = tp->io_icd > NVME_TCP_ADMIN_ICD ? tp->io_icd : NVME_TCP_ADMIN_ICD;
	tcp_rx_init(&c->rx, &c->p);
	worker_conn_add(w, c);
	if (atomic_load(&l->tls)) {
		int ret = conn_tls_start(c);

		if (ret) {
			conn_err(c, "TLS: cannot start a session: %s", strerror(-ret));
			conn_close(c, CLOSE_NOW, "no TLS session");
			return;
		}
	}
	conn_dbg(c, "accepted on %s", l->name);
	conn_rx_resume(c, 0);
}

void conn_connected(struct conn *c)
{
	if (!c->lim_pending)
		return;
	c->lim_pending = false;
	limits_conn_connected(&c->w->t->limits, &c->peer_ss);
}

/* ---- Receive ---- */

static void rx_pause_drain(struct conn *c);

/*
 * The last staging receive filled the buffer with whole PDUs, so more were
 * waiting: double it, up to CONN_RXBUF_MAX. A host with a deep queue of
 * 4 KiB in-capsule writes has ~130 KiB in flight at QD 32, which 16 KiB
 * took in four receives (each its own io_uring_enter) and one more for the
 * capsule split at the end; 128 KiB takes it in about one. A buffer filled
 * by the start of a large H2CData payload does not count: the rest of that
 * payload goes straight to the command's buffer, and a larger staging
 * buffer would only copy more of it. Idle and admin queues keep 16 KiB.
 * Only called with nothing staged (no command points into the buffer,
 * cmd.c), so the old contents need no copy.
 */
static void rx_grow(struct conn *c)
{
	uint32_t size = c->rxbuf_size * 2;
	uint8_t *p;

	c->rx_full = false;
	if (size > CONN_RXBUF_MAX || c->rx_whole < c->rxbuf_size / 2)
		return;
	p = malloc(size);
	if (p == NULL)
		return; /* keep the smaller one */
	free(c->rxbuf);
	c->rxbuf = p;
	c->rxbuf_size = size;
}

/*
 * User-space records: is the record at ct_off incomplete? Then make room
 * for the rest of it: when less than the largest record fits after its
 * start, it moves to the front of the buffer (nothing is staged then, so
 * nothing points into the buffer). Ciphertext is copied only then, which
 * the buffer's size (CONN_TLS_RXBUF) makes rare.
 */
static bool rx_rec_room(struct conn *c)
{
	uint32_t have = c->ct_len - c->ct_off;

	if (have >= TLS_RECORD_HDR &&
	    have >= TLS_RECORD_HDR + tls_record_body_len(c->rxbuf + c->ct_off))
		return false;
	if (have == 0) {
		c->ct_off = c->ct_len = 0;
	} else if (c->rxbuf_size - c->ct_off < TLS_RECORD_MAX_WIRE) {
		memmove(c->rxbuf, c->rxbuf + c->ct_off, have);
		c->ct_off = 0;
		c->ct_len = have;
	}
	return true;
}

static void rx_arm(struct conn *c)
{
	struct io_uring_sqe *sqe;
	void *where = NULL;
	uint32_t want = 0;

	if (c->recv_armed)
		return;
	if (c->closing) {
		/* after our FIN: read (and drop) until the host's FIN */
		if (!c->fin_sent || c->cancel_sent)
			return;
	} else if (c->rx_pause || c->rx_off != c->rx_len) {
		return;
	} else if (c->rec != NULL) {
		if (!rx_rec_room(c))
			return; /* a whole record is here: rx_rec_pump opens it */
	} else if (c->tls == NULL) {
		want = tcp_rx_data_wanted(&c->rx, &where);
	}
	sqe = worker_sqe(c->w);
	if (c->rec != NULL && !c->closing) {
		/* ciphertext after what is here (an incomplete record) */
		io_uring_prep_recv(sqe, c->fd, c->rxbuf + c->ct_len, c->rxbuf_size - c->ct_len, 0);
	} else if (want != 0) {
		/* payload straight into the command's buffer: no copy */
		io_uring_prep_recv(sqe, c->fd, where, want, MSG_WAITALL);
	} else {
		uint32_t len, h;

		if (c->rx_full)
			rx_grow(c);
		len = c->rxbuf_size; /* both limits below are under the smallest size */
		/*
		 * While H2CData is due, a staging receive would take up to a
		 * buffer's worth of its data only to copy it (the staging
		 * copy was 3% of the worker's CPU at 128 KiB writes): after a
		 * direct placement, take the next header alone (a host
		 * streaming a large write sends H2CData after H2CData), and
		 * otherwise no more than a few command capsules. Other PDUs
		 * cost a receive more now and then.
		 */
		if (c->rx_hdr_next && (h = tcp_rx_h2c_hdr_wanted(&c->rx)) != 0)
			len = h;
		else if (c->nr_await_h2c > 0)
			len = CONN_RX_H2C_STAGE;
		c->rx_hdr_next = false;
		io_uring_prep_recv(sqe, c->fd, c->rxbuf, len, 0);
	}
	io_uring_sqe_set_data64(sqe, op_data(c, OP_RECV));
	c->recv_armed = true;
	c->recv_direct = want != 0;
	c->recv_want = want;
}

/* ICReq (3.6.2.2): echo the digests, CPDA 0, our MAXH2CDATA; honour HPDA. */
static int on_icreq(struct conn *c)
{
	const struct nvme_tcp_icreq *ic = &c->rx.hdr.icreq;

	c->ic_dgst = ic->dgst & (NVME_TCP_DGST_HDGST_ENABLE | NVME_TCP_DGST_DDGST_ENABLE);
	c->p.hdgst = c->ic_dgst & NVME_TCP_DGST_HDGST_ENABLE;
	c->p.ddgst = c->ic_dgst & NVME_TCP_DGST_DDGST_ENABLE;
	c->p.txpda = ic->hpda;
	c->p.rxpda = 0;
	tcp_rx_ic_done(&c->rx);
	c->icresp_pending = true;
	worker_tx_schedule(c->w, c);
	conn_dbg(c, "ICReq: HPDA %u, MAXR2T %u, digests:%s%s", ic->hpda, le32toh(ic->maxr2t),
		 c->p.hdgst ? " header" : "", c->p.ddgst ? " data" : (c->p.hdgst ? "" : " none"));
	return 0;
}

static int on_term_req(struct conn *c)
{
	const struct nvme_tcp_term_req *t = &c->rx.hdr.term;
	uint16_t fes = le16toh(t->fes);

	conn_warn(c, "the host sent H2CTermReq: %s (FES %u, FEI %u)", tcp_fes_name(fes), fes,
		  get_le32(t->fei));
	conn_close(c, CLOSE_NOW, "H2CTermReq");
	return -ECONNRESET;
}

/* The codec rejected what it received (pdu.h: -EBADMSG or -ECONNRESET). */
static int codec_error(struct conn *c, int err)
{
	if (err == -EBADMSG)
		return conn_fatal(c, c->rx.fes, c->rx.fei, c->rx.hdr.raw,
				  tcp_rx_bad_hdr_len(&c->rx), "invalid");
	/* 7.4.7: a malformed TermReq is not answered */
	conn_warn(c, "malformed H2CTermReq from the host");
	conn_close(c, CLOSE_NOW, "malformed TermReq");
	return -ECONNRESET;
}

static int on_header(struct conn *c)
{
	switch (c->rx.hdr.ch.pdu_type) {
	case NVME_TCP_CMD:
		return cmd_rx_capsule_header(c);
	case NVME_TCP_H2C_DATA:
		return cmd_rx_h2c_header(c);
	case NVME_TCP_H2C_TERM:
		tcp_rx_set_data(&c->rx, c->term_data);
		return 0;
	default: /* the codec lets no other data-carrying PDU reach a controller */
		tcp_rx_set_data(&c->rx, NULL);
		return 0;
	}
}

static int on_pdu(struct conn *c)
{
	switch (c->rx.hdr.ch.pdu_type) {
	case NVME_TCP_ICREQ:
		return on_icreq(c);
	case NVME_TCP_CMD:
		return cmd_rx_capsule(c);
	case NVME_TCP_H2C_DATA:
		return cmd_rx_h2c(c);
	case NVME_TCP_H2C_TERM:
		return on_term_req(c);
	default:
		return 0;
	}
}

/*
 * Feed len bytes at p to the codec (len 0 after direct placement) and act on
 * its event. *used: bytes consumed. Returns 0, or < 0 to stop receiving
 * (an error, or -EAGAIN: RX paused).
 */
static int rx_step(struct conn *c, const uint8_t *p, uint32_t len, uint32_t *used)
{
	enum tcp_rx_event ev;
	ssize_t n = tcp_rx_feed(&c->rx, p, len, &ev);

	*used = 0;
	if (n < 0)
		return codec_error(c, (int)n);
	*used = (uint32_t)n;
	if (ev == TCP_RX_HEADER) {
		c->rx_staged = p + n;
		c->rx_staged_len = len - (uint32_t)n;
		return on_header(c);
	}
	if (ev == TCP_RX_PDU) {
		int ret;

		c->rx_pdus++;
		ret = on_pdu(c);

		if (ret == 0 && c->stop_drain)
			rx_pause_drain(c);
		return ret;
	}
	return 0;
}

static void rx_tls_pump(struct conn *c);
static void rx_rec_pump(struct conn *c);

/* Run the staged bytes through the codec. */
static void rx_consume(struct conn *c)
{
	while (!c->rx_pause && !c->closing && c->rx_off < c->rx_len) {
		uint32_t used;
		uint64_t pdus = c->rx_pdus;
		int ret = rx_step(c, c->rxbuf + c->rx_off, c->rx_len - c->rx_off, &used);

		c->rx_off += used;
		if (c->rx_pdus != pdus)
			c->rx_whole = c->rx_off;
		if (ret < 0)
			break;
	}
}

/* Run the staged bytes through the codec, then receive more if allowed. */
static void rx_process(struct conn *c)
{
	rx_consume(c);
	if (c->closing)
		return;
	if (c->rx_off == c->rx_len)
		c->rx_off = c->rx_len = 0;
	if (c->tls != NULL)
		rx_tls_pump(c);
	else if (c->rec != NULL)
		rx_rec_pump(c);
	else
		rx_arm(c);
}

/*
 * User-space records (conn_tls.c rec_handover): open each whole record in
 * the receive buffer. Where the codec waits for payload with a place for
 * it (H2CData into a command's buffer), the record's first bytes decrypt
 * straight there, as a plain receive would place them; the rest of the
 * record (and every other record) decrypts in place and is parsed as if
 * received. A record's bytes reach the codec only once its tag verified.
 */
static void rx_rec_pump(struct conn *c)
{
	if (c->tls_in_pump)
		return; /* the outer loop goes on */
	c->tls_in_pump = true;
	while (!c->closing && !c->rx_pause && c->rx_off == c->rx_len) {
		enum tls_record_event ev;
		uint8_t *data;
		void *where = NULL;
		size_t len, placed = 0;
		uint32_t want = tcp_rx_data_wanted(&c->rx, &where), used;
		ssize_t n = tls_record_open_into(c->rec, c->rxbuf + c->ct_off,
						 c->ct_len - c->ct_off, where, want, &ev, &placed,
						 &data, &len);

		if (n == -EAGAIN)
			break;
		if (n < 0) {
			conn_tls_rec_fail(c, (int)n);
			break;
		}
		c->ct_off += (uint32_t)n;
		if (tls_record_tx_owed(c->rec))
			worker_tx_schedule(c->w, c); /* our KeyUpdate, before any more data */
		if (ev == TLS_REC_CLOSE) {
			conn_close(c, CLOSE_NOW, "the host sent close_notify");
			break;
		}
		if (ev != TLS_REC_DATA)
			continue;
		/* what follows the placed bytes is staged first: a pause keeps it */
		c->rx_off = (uint32_t)(data - c->rxbuf);
		c->rx_len = c->rx_off + (uint32_t)len;
		c->rx_whole = 0;
		if (placed > 0) {
			tcp_rx_data_placed(&c->rx, (uint32_t)placed);
			/* all placed: a zero-length feed moves on to the digest or the PDU */
			if (placed == want && rx_step(c, NULL, 0, &used) < 0)
				break;
		}
		rx_consume(c);
	}
	c->tls_in_pump = false;
	if (!c->closing && c->rx_off == c->rx_len) {
		c->rx_off = c->rx_len = 0;
		rx_arm(c); /* checks pauses */
	}
}

/*
 * TLS (conn_tls.c): plaintext out of the session into the places a plain
 * receive would fill: payload the codec wants straight into the command's
 * buffer, anything else into the staging buffer, which is then parsed as
 * if received. Ciphertext is received into the staging buffer only when
 * the session has no whole record left and nothing is staged.
 */
static void rx_tls_pump(struct conn *c)
{
	ssize_t n = -EAGAIN;
	uint32_t used;

	if (c->tls_in_pump)
		return; /* the outer loop goes on */
	c->tls_in_pump = true;
	while (!c->closing && !c->rx_pause && c->rx_off == c->rx_len) {
		void *where = NULL;
		uint32_t want = tcp_rx_data_wanted(&c->rx, &where);

		if (want != 0) {
			n = conn_tls_read(c, where, want);
			if (n <= 0)
				break;
			tcp_rx_data_placed(&c->rx, (uint32_t)n);
			if ((uint32_t)n == want && rx_step(c, NULL, 0, &used) < 0)
				break;
			continue;
		}
		n = conn_tls_read(c, c->rxbuf, c->rxbuf_size);
		if (n <= 0)
			break;
		c->rx_off = 0;
		c->rx_len = (uint32_t)n;
		c->rx_full = false;
		c->rx_whole = 0;
		rx_consume(c);
		if (!c->closing && c->rx_off == c->rx_len)
			c->rx_off = c->rx_len = 0;
	}
	c->tls_in_pump = false;
	if (n == -EAGAIN || !c->tls_up)
		rx_arm(c); /* checks closing, pauses and staged bytes */
}

void conn_rx_resume(struct conn *c, unsigned int clear)
{
	c->rx_pause &= ~clear;
	if (!c->rx_pause && !c->closing)
		rx_process(c);
}

static bool quiet_error(int err)
{
	return err == -ECONNRESET || err == -EPIPE || err == -ECANCELED || err == -ETIMEDOUT;
}

void conn_recv_done(struct conn *c, int res)
{
	uint32_t used;

	c->recv_armed = false;
	if (c->closing) {
		/* lingering after our FIN: drop what comes until the host's FIN */
		if (res > 0 && c->w->now_ms < c->linger_ms)
			rx_arm(c);
		return;
	}
	if (res == -ECANCELED && c->rx_pause)
		return; /* paused (draining) */
	if (res == 0 && c->tls != NULL && c->tls_first_seen &&
	    (!c->tls_up || tls_session_input_pending(c->tls))) {
		/* the host gave up during the handshake, or inside a record: logged, counted */
		conn_tls_eof(c);
		return;
	}
	if (res == 0 && c->rec != NULL && c->ct_len > c->ct_off) {
		conn_tls_rec_fail(c, -ECONNRESET); /* the host closed inside a record */
		return;
	}
	if (res <= 0) {
		if (res < 0 && !quiet_error(res))
			conn_warn(c, "receive: %s", strerror(-res));
		conn_close(c, CLOSE_NOW,
			   res == 0 ? "the host closed the connection" : strerror(-res));
		return;
	}
	if (c->rec != NULL) {
		/* records after what was here: opened in place */
		c->ct_len += (uint32_t)res;
		rx_process(c);
		return;
	}
	if (c->tls != NULL) {
		/* ciphertext: into the session, then plaintext out of it */
		/*
		 * ciphertext: into the session, then plaintext out of it; what the
		 * handshake's end staged (kernel TLS, or keys it could not export)
		 * is parsed first
		 */
		c->rx_off = c->rx_len = 0;
		if (conn_tls_input(c, c->rxbuf, (uint32_t)res) == 0)
			rx_process(c);
		return;
	}
	if (!c->tls_first_seen && conn_tls_plain_check(c, c->rxbuf, (uint32_t)res) < 0)
		return;
	if (c->recv_direct) {
		tcp_rx_data_placed(&c->rx, (uint32_t)res);
		c->rx_hdr_next = (uint32_t)res == c->recv_want;
		/* all placed: a zero-length feed moves on to the digest or the PDU */
		if ((uint32_t)res == c->recv_want && rx_step(c, NULL, 0, &used) < 0)
			return;
	} else {
		c->rx_off = 0;
		c->rx_len = (uint32_t)res;
		c->rx_full = c->rx_len == c->rxbuf_size;
		c->rx_whole = 0;
	}
	if (!c->rx_pause)
		rx_process(c);
}

/* ---- Errors and teardown ---- */

int conn_fatal(struct conn *c, uint16_t fes, uint32_t fei, const void *hdr, uint32_t hdr_len,
	       const char *what)
{
	const uint8_t *h = hdr;
	uint8_t type = hdr_len > 0 ? h[0] : 0xff;
	char cid[24] = "";

	if (c->closing)
		return -EBADMSG;
	if (type == NVME_TCP_CMD && hdr_len >= 12)
		snprintf(cid, sizeof(cid), " (cid %u)", get_le16(h + 10));
	else if (type == NVME_TCP_H2C_DATA && hdr_len >= 10)
		snprintf(cid, sizeof(cid), " (cccid %u)", get_le16(h + 8));
	conn_err(c, "%s %s PDU%s: %s (FES %u, FEI %u); sending C2HTermReq", what,
		 hdr_len > 0 ? tcp_pdu_type_name(type) : "?", cid, tcp_fes_name(fes), fes, fei);
	c->term_pending = true;
	c->term_fes = fes;
	c->term_fei = fei;
	c->term_hdr_len = hdr_len < sizeof(c->term_hdr) ? hdr_len : sizeof(c->term_hdr);
	if (hdr_len > 0)
		memcpy(c->term_hdr, hdr, c->term_hdr_len);
	conn_close(c, CLOSE_AFTER_TX, "protocol error");
	return -EBADMSG;
}

/* Reset: nothing more is sent; what is outstanding on the fd ends now. */
static void hard_close(struct conn *c)
{
	struct io_uring_sqe *sqe;

	c->tx_close = false;
	c->term_pending = false;
	c->icresp_pending = false;
	if (c->fd < 0)
		return; /* already let go of (conn_reap) */
	shutdown(c->fd, SHUT_RDWR);
	if ((c->recv_armed || c->send_armed) && !c->cancel_sent) {
		sqe = worker_sqe(c->w);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, op_data(NULL, OP_NONE));
		c->cancel_sent = true;
	}
}

/* Everything queued is sent: FIN, and wait a little for the host's. */
void conn_fin(struct conn *c)
{
	if (c->fin_sent)
		return;
	c->fin_sent = true;
	conn_tls_ktls_close(c);
	shutdown(c->fd, SHUT_WR);
	c->linger_ms = c->w->now_ms + CONN_LINGER_MS;
	if (c->w->stopping && c->linger_ms > c->w->stop_grace_ms)
		c->linger_ms = c->w->stop_grace_ms; /* a stop keeps its deadline */
	rx_arm(c);
}

/* Stop what waits: buffer waiters, AERs; tell the controller the queue is gone. */
static void drop_work(struct conn *c)
{
	for (uint32_t i = 0; i < c->nslots_used; i++) {
		struct cmd *cmd = c->slots[i];

		if (cmd->st == CMD_NEED_BUF) {
			worker_buf_unwait(c->w, cmd);
			cmd_set_state(cmd, CMD_TX); /* dropped; freed with the connection */
		} else if (cmd->st == CMD_RANGE_WAIT) {
			worker_range_unwait(c->w, cmd);
			if (cmd->rl_excl) /* its claim on the range goes too */
				range_lock_cancel(cmd->plan.ns->rl, cmd->rl_off, cmd->rl_len);
			cmd_set_state(cmd, CMD_TX);
		}
	}
	if (c->ctrl == NULL)
		return;
	if (c->qid == 0) {
		if (c->ctrl->aer_arg == c) {
			c->ctrl->aer_fn = NULL;
			c->ctrl->aer_arg = NULL;
		}
		ctrl_drop_aers(c->ctrl);
	}
	ctrl_queue_gone(c->ctrl, c->qid);
}

void conn_close(struct conn *c, enum conn_close_how how, const char *why)
{
	if (c->closing) {
		if (how == CLOSE_NOW && c->tx_close)
			hard_close(c);
		return;
	}
	c->closing = true;
	c->w->nclosing++;
	c->tx_close = how == CLOSE_AFTER_TX;
	conn_dbg(c, "closing: %s", why);
	drop_work(c);
	if (how == CLOSE_NOW) {
		hard_close(c);
		return;
	}
	if (c->recv_armed && !c->cancel_sent) {
		struct io_uring_sqe *sqe = worker_sqe(c->w);

		io_uring_prep_cancel64(sqe, op_data(c, OP_RECV), 0);
		io_uring_sqe_set_data64(sqe, op_data(NULL, OP_NONE));
	}
	worker_tx_schedule(c->w, c);
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;
	bool returned = false;

	conn_dbg(c, "closed");
	worker_conn_del(w, c);
	w->nclosing--;
	for (uint32_t i = 0; i < c->nslots_used; i++) {
		struct cmd *cmd = c->slots[i];

		if (cmd->st == CMD_NEED_BUF)
			worker_buf_unwait(w, cmd);
		if (cmd->st == CMD_RANGE_WAIT)
			worker_range_unwait(w, cmd);
		free(cmd->scratch);
		be_ram_unref(&cmd->ram_ref);
		if (cmd->buf != NULL) {
			bufpool_put(&w->pool, cmd->buf);
			returned = true;
		}
		if (cmd->st != CMD_FREE)
			worker_cmd_end(w, cmd->ep);
		free(cmd);
	}
	qauth_free(c->auth); /* wipes what a transaction left */
	if (c->ctrl != NULL)
		ctrl_put(c->ctrl);
	listener_put(c->l);
	if (c->fd >= 0)
		close(c->fd);
	limits_conn_close(&w->t->limits, &c->peer_ss, c->lim_pending, w->now_ms);
	conn_free_mem(c);
	if (returned)
		worker_buf_returned(w);
}

/*
 * Only zero-copy notifications are outstanding: they come when the socket
 * has let go of the data (acknowledged, or dropped), which a host that
 * stopped reading could delay for ever. Close the socket now: after a
 * reset with SO_LINGER 0 (an RST, the send queue is dropped at once),
 * after a FIN plainly (the kernel still delivers what is queued).
 */
static void let_socket_go(struct conn *c)
{
	if (c->fd < 0)
		return;
	if (!c->tx_close) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	conn_dbg(c, "%d zero-copy notification(s) outstanding: closing the socket", c->nr_notif);
	close(c->fd);
	c->fd = -1;
}

bool conn_reap(struct conn *c)
{
	if (!c->closing || c->recv_armed || c->send_armed || c->nr_be || c->tx_listed ||
	    c->msg_inflight)
		return false;
	if (c->tx_close && !c->fin_sent)
		return false; /* still sending */
	if (c->nr_notif != 0) {
		let_socket_go(c);
		return false;
	}
	conn_free(c);
	return true;
}

/* ---- Periodic checks, the graceful stop ---- */

/*
 * Draining: stop reading once no command waits for H2CData and the codec
 * is between PDUs (a capsule whose data is half in is finished first).
 * Bytes already staged stay unparsed: those commands are never started.
 */
static void rx_pause_drain(struct conn *c)
{
	struct io_uring_sqe *sqe;

	if ((c->rx_pause & RXP_DRAIN) || !c->stop_drain || c->nr_await_h2c != 0 ||
	    c->rx.state != TCP_RX_CH || c->rx.got != 0)
		return;
	c->rx_pause |= RXP_DRAIN;
	if (!c->recv_armed)
		return;
	sqe = worker_sqe(c->w);
	io_uring_prep_cancel64(sqe, op_data(c, OP_RECV), 0);
	io_uring_sqe_set_data64(sqe, op_data(NULL, OP_NONE));
}

void conn_drain(struct conn *c)
{
	if (c->closing || c->stop_drain)
		return;
	c->stop_drain = true;
	rx_pause_drain(c);
}

/*
 * pdu_timeout: a PDU whose first byte arrived must be whole within it. The
 * tick notes when it first sees a PDU in progress (up to WORKER_TICK_MS
 * late) and which one (rx_pdus); RX paused by us (a buffer wait, a
 * hand-off, draining) stops the clock, since then the wait is ours.
 */
static bool pdu_overdue(struct conn *c, int64_t now)
{
	bool mid = c->rx.state != TCP_RX_CH || c->rx.got != 0;

	if (!mid || c->rx_pause) {
		c->pdu_seen_ms = 0;
		return false;
	}
	if (c->pdu_seen_ms == 0 || c->pdu_mark != c->rx_pdus) {
		c->pdu_seen_ms = now;
		c->pdu_mark = c->rx_pdus;
		return false;
	}
	return now - c->pdu_seen_ms >= (int64_t)c->w->t->p.pdu_timeout_ms;
}

static bool conn_idle(const struct conn *c)
{
	return c->nr_outstanding == c->nr_held && c->txq == NULL && !c->send_armed &&
	       !c->icresp_pending && c->nr_be == 0;
}

void conn_tick(struct conn *c)
{
	const struct worker *w = c->w;
	int64_t now = w->now_ms;

	if (c->closing) {
		if (c->fin_sent && now >= c->linger_ms && c->recv_armed)
			hard_close(c);
		return;
	}
	if (!c->tls_mode && atomic_load(&c->l->tls)) {
		conn_warn(c, "its listener now requires TLS (reload): closing");
		conn_close(c, CLOSE_NOW, "listener requires TLS");
		return;
	}
	if (c->tls != NULL && !c->tls_up &&
	    now - c->accepted_ms >= (int64_t)w->t->p.icreq_timeout_ms) {
		conn_tls_timeout(c);
		return;
	}
	if (!c->rx.ic_done && now - c->accepted_ms >= (int64_t)w->t->p.icreq_timeout_ms) {
		conn_deadline_warn(c, "no ICReq within icreq_timeout (%u ms)",
				   w->t->p.icreq_timeout_ms);
		conn_close(c, CLOSE_NOW, "ICReq timeout");
		return;
	}
	if (pdu_overdue(c, now)) {
		conn_deadline_warn(
			c, "a PDU begun %lld ms ago is still incomplete (pdu_timeout %u ms)",
			(long long)(now - c->pdu_seen_ms), w->t->p.pdu_timeout_ms);
		conn_close(c, CLOSE_NOW, "PDU timeout");
		return;
	}
	if (!c->connected && now - c->accepted_ms >= CONN_CONNECT_TIMEOUT_MS) {
		conn_deadline_warn(c, "no Connect within %d s", CONN_CONNECT_TIMEOUT_MS / 1000);
		conn_close(c, CLOSE_NOW, "Connect timeout");
		return;
	}
	if (c->auth != NULL && qauth_expired(c->auth, now)) { /* logged there */
		conn_close(c, CLOSE_NOW, "authentication timeout");
		return;
	}
	if (c->ctrl != NULL) {
		if (c->qid == 0 && !atomic_load(&c->ctrl->dead) &&
		    ctrl_kato_expired(c->ctrl, now)) {
			char why[64];

			snprintf(why, sizeof(why), "keep-alive timeout (KATO %u ms)",
				 c->ctrl->kato_ms);
			ctrl_kill(c->ctrl, why); /* logs */
		}
		/* I/O queues also close when the host resets the controller (CC.EN 1 -> 0) */
		if (c->qid == 0 ? atomic_load(&c->ctrl->dead) : ctrl_io_queue_closing(c->ctrl)) {
			conn_close(c, CLOSE_NOW, "controller gone or reset");
			return;
		}
	}
	if (c->stop_drain) {
		/*
		 * An admin queue goes last: closing it ends the controller, and
		 * the commands its I/O queues still finish would then fail.
		 */
		bool io_left = c->qid == 0 && c->ctrl != NULL && ctrl_has_io_queues(c->ctrl);

		if (now >= w->stop_grace_ms)
			conn_close(c, CLOSE_NOW, "shutting down, in-flight commands abandoned");
		else if (conn_idle(c) && !io_left)
			conn_close(c, CLOSE_AFTER_TX, "shutting down");
	}
}

/* ---- Hand-off of an I/O queue to its worker ---- */

/*
 * Right after a successful Connect with qid > 0 RX is paused (RXP_HANDOFF),
 * so nothing is received past the Connect capsule; once the Connect
 * response is sent and nothing of the connection is in flight here, the
 * whole struct conn, with its codec state and any bytes already staged,
 * goes to the other worker in one MSG_RING. From then on only that worker
 * touches it.
 */
void conn_maybe_handoff(struct conn *c)
{
	struct worker *w = c->w, *to = c->handoff_to;
	struct io_uring_sqe *sqe;

	if (to == NULL || c->closing || c->send_armed || c->recv_armed || c->txq != NULL ||
	    c->icresp_pending || c->nr_be || c->nr_outstanding || c->tx_listed || c->nr_notif)
		return;
	worker_handoff_begin();
	if (worker_stopping(w)) {
		worker_handoff_end();
		c->handoff_to = NULL;
		conn_rx_resume(c, RXP_HANDOFF);
		return;
	}
	conn_dbg(c, "moving to worker %u", to->id);
	worker_conn_del(w, c);
	c->msg_inflight = true;
	sqe = worker_sqe(w);
	io_uring_prep_msg_ring(sqe, to->ring.ring_fd, 0, op_data(c, OP_MSG), 0);
	io_uring_sqe_set_data64(sqe, op_data(c, OP_MSG_SENT));
}

void conn_handoff_sent(struct conn *c, int res)
{
	struct worker *w;

	if (res >= 0)
		return; /* delivered: c is the other worker's now, hands off */
	w = c->w;
	c->msg_inflight = false;
	worker_handoff_end();
	worker_conn_add(w, c);
	conn_warn(c, "moving to worker %u failed (%s): the queue stays on this worker",
		  c->handoff_to->id, strerror(-res));
	c->handoff_to = NULL;
	if (w->stopping)
		conn_drain(c);
	conn_rx_resume(c, RXP_HANDOFF);
}

void conn_adopt(struct worker *w, struct conn *c)
{
	c->w = w;
	c->msg_inflight = false;
	c->handoff_to = NULL;
	worker_conn_add(w, c);
	worker_handoff_end();
	conn_dbg(c, "now on this worker");
	if (atomic_load(&c->l->removed)) /* while it moved, a reload took its listener away */
		conn_close(c, CLOSE_NOW, "its listener was removed");
	else if (w->stopping)
		conn_drain(c);
	conn_rx_resume(c, RXP_HANDOFF);
}
