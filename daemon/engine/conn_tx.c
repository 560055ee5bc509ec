/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A connection's transmit side: the queue of PDUs to send, the batches
 * that turn it into sendmsgs (copying or zero-copy, conn_zc.c) and their
 * release (conn.h). Section numbers: NVMe/TCP Transport Specification 1.0
 * ("3.x"), NVMe over Fabrics 1.1 ("7.4.x").
 *
 * A batch, once submitted, is in the connection's FIFO until released:
 * "finished" when its last send CQE is in (everything sent, or given up
 * on an error or a reset), and released when it is finished, every
 * notification of its zero-copy sends has arrived (a first CQE with
 * IORING_CQE_F_MORE announces one; without it none comes, even on error)
 * and every older batch is released. Releasing frees the commands whose
 * last PDU it carried (their slots and buffers) and keeps the storage as
 * a spare.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conn.h"
#include "byteorder.h"

void conn_tx_cmd(struct conn *c, struct cmd *cmd)
{
	if (c->closing)
		return; /* dropped: freed with the connection */
	cmd->next = NULL;
	*c->txq_tail = cmd;
	c->txq_tail = &cmd->next;
	worker_tx_schedule(c->w, c);
}

static struct cmd *txq_pop(struct conn *c)
{
	struct cmd *cmd = c->txq;

	c->txq = cmd->next;
	if (c->txq == NULL)
		c->txq_tail = &c->txq;
	cmd->next = NULL;
	return cmd;
}

/* 7.4.5.2: SUCCESS only with SQ flow control disabled, for a good read. */
static bool c2h_success(const struct conn *c, const struct cmd *cmd)
{
	return c->sqfc_disabled && cmd->status == 0 && cmd->io && cmd->plan.op == BE_OP_READ;
}

static void build_rsp(struct conn *c, struct cmd *cmd, struct tcp_tx_pdu *t)
{
	struct nvme_cqe cqe;

	memset(&cqe, 0, sizeof(cqe));
	cqe.dw0 = htole32(cmd->dw0);
	cqe.dw1 = htole32(cmd->dw1);
	cqe.sqhd = htole16(c->sqfc_disabled ? 0 : (uint16_t)c->sqhd);
	cqe.sqid = htole16(c->qid == CONN_QID_NONE ? 0 : c->qid);
	cqe.cid = cmd->sqe.cid; /* opaque: echoed as received */
	cqe.status = htole16((uint16_t)(cmd->status << 1));
	tcp_build_rsp(t, &c->p, &cqe);
}

/* The next PDU of the command at the head of the queue, into the next slot of b. */
static void build_cmd_pdu(struct conn *c, struct tx_batch *b, struct tx_slot *s)
{
	struct cmd *cmd = c->txq;

	s->done = NULL;
	switch (cmd->txp) {
	case TXP_R2T:
		/* one R2T for the whole transfer; the slot is the transfer tag */
		tcp_build_r2t(&s->pdu, &c->p, cmd->sqe.cid, cmd->slot, 0, cmd->data_len);
		cmd->r2t_built = true;
		txq_pop(c);
		break;
	case TXP_C2H: {
		uint32_t left = cmd->c2h_len - cmd->c2h_off;
		uint32_t n = left < CONN_C2H_CHUNK ? left : CONN_C2H_CHUNK;
		bool last = n == left;
		uint8_t flags = 0;

		if (last) {
			flags |= NVME_TCP_F_DATA_LAST;
			if (c2h_success(c, cmd))
				flags |= NVME_TCP_F_DATA_SUCCESS;
		}
		if (cmd->c2h_copy)
			tcp_build_c2h_data_copy(&s->pdu, &c->p, cmd->sqe.cid, cmd->c2h_off,
						cmd->buf->p + cmd->c2h_off,
						cmd->data + cmd->c2h_off, n, flags);
		else
			tcp_build_c2h_data(&s->pdu, &c->p, cmd->sqe.cid, cmd->c2h_off,
					   cmd->data + cmd->c2h_off, n, flags);
		cmd->c2h_off += n;
		b->payload += n;
		if (!last)
			break;
		if (!(flags & NVME_TCP_F_DATA_SUCCESS)) {
			cmd->txp = TXP_RESP;
			break;
		}
		s->done = cmd;
		txq_pop(c);
		cmd_last_pdu_queued(cmd);
		break;
	}
	case TXP_RESP:
	default:
		build_rsp(c, cmd, &s->pdu);
		s->done = cmd;
		txq_pop(c);
		cmd_last_pdu_queued(cmd);
		break;
	}
}

static void add_pdu(struct tx_batch *b, int *iovcnt, const struct tcp_tx_pdu *t)
{
	memcpy(&b->iov[*iovcnt], t->iov, sizeof(t->iov[0]) * (size_t)t->iovcnt);
	*iovcnt += t->iovcnt;
	b->total += t->len;
}

/* ---- Batch storage ---- */

int conn_tx_init(struct conn *c)
{
	c->tx_tail = &c->tx_head;
	c->tx_spare = calloc(1, sizeof(*c->tx_spare));
	if (c->tx_spare == NULL)
		return -ENOMEM;
	c->nr_batches = 1;
	return 0;
}

static void free_list(struct tx_batch *b)
{
	while (b != NULL) {
		struct tx_batch *next = b->next;

		tls_outbuf_free(&b->tls);
		free(b);
		b = next;
	}
}

void conn_tx_fini(struct conn *c)
{
	/* conn_reap() waited for every send and notification: all released */
	assert(c->tx_head == NULL && c->nr_notif == 0);
	free_list(c->tx_spare);
	free_list(c->tx_head);
	c->tx_spare = c->tx_head = NULL;
	c->tx_tail = &c->tx_head;
}

/* A batch to build into: a spare, or a new one below CONN_TX_INFLIGHT. */
static struct tx_batch *batch_get(struct conn *c)
{
	struct tx_batch *b = c->tx_spare;

	if (b != NULL) {
		c->tx_spare = b->next;
	} else {
		if (c->nr_batches >= CONN_TX_INFLIGHT)
			return NULL;
		b = malloc(sizeof(*b));
		if (b == NULL)
			return NULL;
		memset(&b->tls, 0, sizeof(b->tls));
		c->nr_batches++;
	}
	b->conn = c;
	b->next = NULL;
	b->n = 0;
	b->total = b->sent = 0;
	b->payload = 0;
	b->zc = b->sending = b->finished = false;
	b->notifs = 0;
	return b;
}

static void batch_put(struct conn *c, struct tx_batch *b)
{
	b->next = c->tx_spare;
	c->tx_spare = b;
}

/* Release the finished batches at the head of the FIFO. Returns how many. */
static unsigned int release_batches(struct conn *c)
{
	unsigned int n = 0;

	while (c->tx_head != NULL && c->tx_head->finished && c->tx_head->notifs == 0) {
		struct tx_batch *b = c->tx_head;

		c->tx_head = b->next;
		if (c->tx_head == NULL)
			c->tx_tail = &c->tx_head;
		for (unsigned int i = 0; i < b->n; i++)
			if (b->slot[i].done != NULL)
				cmd_release(b->slot[i].done);
		batch_put(c, b);
		n++;
	}
	return n;
}

/* ---- Send ---- */

static void submit_send(struct conn *c, struct tx_batch *b)
{
	struct io_uring_sqe *sqe = worker_sqe(c->w);

	if (b->zc)
		conn_zc_prep(c->w, sqe, c->fd, &b->msg);
	else
		io_uring_prep_sendmsg(sqe, c->fd, &b->msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, op_data(b, OP_SEND));
	b->sending = true;
	c->send_armed = true;
}

static bool tx_queued(struct conn *c)
{
	return c->txq != NULL || c->icresp_pending || c->term_pending || conn_tls_out_pending(c) ||
	       (c->closing && c->tx_close && (c->tls != NULL || c->rec != NULL) && c->tls_up &&
		!c->tls_notify_sent);
}

void conn_tx_flush(struct conn *c)
{
	struct tx_batch *b;
	int iovcnt = 0;

	if (c->send_armed || (c->closing && !c->tx_close))
		return;
	if (!tx_queued(c)) {
		if (c->closing)
			conn_fin(c);
		else
			conn_maybe_handoff(c);
		return;
	}
	b = batch_get(c);
	if (b == NULL)
		return; /* all batches await notifications: a release reschedules */
	if (c->icresp_pending) {
		struct tx_slot *s = &b->slot[b->n++];

		/*
		 * 3.6.2.3: PFV 0, the host's digests, our MAXH2CDATA, and CPDA
		 * the alignment the codec checks H2C data PDOs against (rxpda)
		 */
		tcp_build_icresp(&s->pdu, c->p.rxpda, c->ic_dgst, c->p.maxh2cdata);
		s->done = NULL;
		add_pdu(b, &iovcnt, &s->pdu);
		c->icresp_pending = false;
	}
	while (c->txq != NULL && b->n < CONN_TX_BATCH) {
		struct tx_slot *s = &b->slot[b->n++];

		build_cmd_pdu(c, b, s);
		add_pdu(b, &iovcnt, &s->pdu);
	}
	if (c->txq == NULL && c->term_pending && b->n < CONN_TX_BATCH) {
		struct tx_slot *s = &b->slot[b->n++];

		/* 7.4.7: the last PDU on this connection */
		tcp_build_term_req(&s->pdu, NVME_TCP_C2H_TERM, c->term_fes, c->term_fei,
				   c->term_hdr, c->term_hdr_len);
		s->done = NULL;
		add_pdu(b, &iovcnt, &s->pdu);
		c->term_pending = false;
	}
	if (c->tls != NULL || c->rec != NULL) {
		/* records the batch owns; the PDUs' buffers are not sent from */
		if (conn_tls_encrypt(c, b, &iovcnt) < 0 || iovcnt == 0) {
			b->finished = true;
			*c->tx_tail = b;
			c->tx_tail = &b->next;
			release_batches(c);
			if (!c->closing)
				return;
			if (c->tx_close && !c->fin_sent)
				conn_fin(c);
			return;
		}
	}
	memset(&b->msg, 0, sizeof(b->msg));
	b->msg.msg_iov = b->iov;
	b->msg.msg_iovlen = (size_t)iovcnt;
	/* kernel TLS encrypts into its own pages: zero-copy would only add notifications */
	b->zc = c->tls == NULL && c->rec == NULL && !c->ktls && conn_zc_wanted(c, b->payload);
	*c->tx_tail = b;
	c->tx_tail = &b->next;
	submit_send(c, b);
}

/* A short send: skip what went out, send the rest. */
static bool advance(struct tx_batch *b, size_t n)
{
	while (n > 0 && b->msg.msg_iovlen > 0) {
		struct iovec *v = b->msg.msg_iov;

		if (n >= v->iov_len) {
			n -= v->iov_len;
			b->msg.msg_iov++;
			b->msg.msg_iovlen--;
		} else {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= n;
			n = 0;
		}
	}
	return b->msg.msg_iovlen > 0;
}

/* What comes after a release or a finished send: more PDUs, FIN, or the hand-off. */
static void tx_next(struct conn *c)
{
	if (c->send_armed)
		return; /* its completion comes back here */
	if (c->closing ? c->tx_close && !c->fin_sent : tx_queued(c))
		worker_tx_schedule(c->w, c);
	else if (!c->closing)
		conn_maybe_handoff(c);
}

static void finish(struct conn *c, struct tx_batch *b)
{
	b->finished = true;
	release_batches(c);
}

/* The result of a send SQE of b (not a notification). */
static void send_done(struct conn *c, struct tx_batch *b, int res, bool notif_follows)
{
	if (c->closing && !c->tx_close) {
		finish(c, b); /* reset: what is left is dropped */
		return;
	}
	if (res <= 0) {
		if (b->zc && b->sent == 0 && res < 0 && !notif_follows &&
		    conn_zc_refused(c->w, res)) {
			b->zc = conn_zc_wanted(c, b->payload);
			submit_send(c, b);
			return;
		}
		if (res < 0 && res != -EPIPE && res != -ECONNRESET && res != -ECANCELED)
			conn_warn(c, "send: %s", strerror(-res));
		finish(c, b);
		conn_close(c, CLOSE_NOW, res == 0 ? "send made no progress" : strerror(-res));
		return;
	}
	b->sent += (size_t)res;
	if (b->sent < b->total) {
		if (advance(b, (size_t)res)) {
			submit_send(c, b);
			return;
		}
		conn_err(c, "send: accounting error (%zu of %zu bytes)", b->sent, b->total);
		finish(c, b);
		conn_close(c, CLOSE_NOW, "send accounting");
		return;
	}
	finish(c, b);
	tx_next(c);
}

void conn_send_cqe(struct tx_batch *b, int res, uint32_t flags)
{
	struct conn *c = b->conn;

	if (flags & IORING_CQE_F_NOTIF) {
		/* the kernel is done with the pages of one of b's zero-copy sends */
		conn_zc_notif(c->w, res);
		b->notifs--;
		c->nr_notif--;
		if (b->finished && release_batches(c) > 0)
			tx_next(c);
		return;
	}
	if (flags & IORING_CQE_F_MORE) {
		b->notifs++; /* whatever res says: pages may be in use until then */
		c->nr_notif++;
	}
	b->sending = false;
	c->send_armed = false;
	send_done(c, b, res, flags & IORING_CQE_F_MORE);
}
