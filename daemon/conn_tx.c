/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A connection's transmit side: the queue of PDUs to send and the batch
 * that turns it into one sendmsg (conn.h). Section numbers: NVMe/TCP
 * Transport Specification 1.0 ("3.x"), NVMe over Fabrics 1.1 ("7.4.x").
 */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "conn.h"
#include "endian.h"

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

/* The next PDU of the command at the head of the queue, into slot s. */
static void build_cmd_pdu(struct conn *c, struct tx_slot *s)
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
		tcp_build_c2h_data(&s->pdu, &c->p, cmd->sqe.cid, cmd->c2h_off,
				   cmd->data + cmd->c2h_off, n, flags);
		cmd->c2h_off += n;
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

static void submit_send(struct conn *c)
{
	struct io_uring_sqe *sqe = worker_sqe(c->w);

	io_uring_prep_sendmsg(sqe, c->fd, &c->batch->msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, op_data(c, OP_SEND));
	c->send_armed = true;
}

void conn_tx_flush(struct conn *c)
{
	struct tx_batch *b = c->batch;
	int iovcnt = 0;

	if (c->send_armed || (c->closing && !c->tx_close))
		return;
	b->n = 0;
	b->total = 0;
	b->sent = 0;
	if (c->icresp_pending) {
		struct tx_slot *s = &b->slot[b->n++];

		/* 3.6.2.3: PFV 0, CPDA 0, the host's digests, our MAXH2CDATA */
		tcp_build_icresp(&s->pdu, 0, c->ic_dgst, c->p.maxh2cdata);
		s->done = NULL;
		add_pdu(b, &iovcnt, &s->pdu);
		c->icresp_pending = false;
	}
	while (c->txq != NULL && b->n < CONN_TX_BATCH) {
		struct tx_slot *s = &b->slot[b->n++];

		build_cmd_pdu(c, s);
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
	if (b->n == 0) {
		if (c->closing)
			conn_fin(c);
		else
			conn_maybe_handoff(c);
		return;
	}
	memset(&b->msg, 0, sizeof(b->msg));
	b->msg.msg_iov = b->iov;
	b->msg.msg_iovlen = (size_t)iovcnt;
	submit_send(c);
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

void conn_send_done(struct conn *c, int res)
{
	struct tx_batch *b = c->batch;

	c->send_armed = false;
	if (c->closing && !c->tx_close)
		return;
	if (res <= 0) {
		if (res < 0 && res != -EPIPE && res != -ECONNRESET && res != -ECANCELED)
			conn_warn(c, "send: %s", strerror(-res));
		conn_close(c, CLOSE_NOW, res == 0 ? "send made no progress" : strerror(-res));
		return;
	}
	b->sent += (size_t)res;
	if (b->sent < b->total) {
		if (advance(b, (size_t)res)) {
			submit_send(c);
			return;
		}
		conn_err(c, "send: accounting error (%zu of %zu bytes)", b->sent, b->total);
		conn_close(c, CLOSE_NOW, "send accounting");
		return;
	}
	for (unsigned int i = 0; i < b->n; i++)
		if (b->slot[i].done != NULL)
			cmd_release(b->slot[i].done);
	b->n = 0;
	if (c->closing || c->txq != NULL || c->icresp_pending || c->term_pending)
		worker_tx_schedule(c->w, c);
	else
		conn_maybe_handoff(c);
}
