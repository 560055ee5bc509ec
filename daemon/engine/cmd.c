/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Commands, receive side and life cycle: CapsuleCmd decoding, the SGL
 * checks, in-capsule data, R2T / H2CData, data buffers, completion (see
 * cmd.h). Execution is in cmd_admin.c (Connect, admin) and cmd_io.c (I/O).
 *
 * Section numbers: NVMe/TCP Transport Specification 1.0 ("3.x"), NVMe over
 * Fabrics 1.1 ("7.4.x"), NVMe Base 2.0.
 */
#include "cmd.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "byteorder.h"
#include "epoch.h"
#include "status.h"

/* ---- State ---- */

#ifndef NDEBUG
#define B(s) (1u << (s))

/* The transitions cmd.h's diagram allows, from each state. */
static const uint16_t cmd_next[] = {
	[CMD_FREE] = B(CMD_NEW),
	[CMD_NEW] = B(CMD_RX_ICD) | B(CMD_EXEC),
	/* RX_ICD -> NEED_BUF: no memory for the data (it waits for some) */
	[CMD_RX_ICD] = B(CMD_NEED_BUF) | B(CMD_EXEC),
	/* -> TX: dropped by a closing connection, freed with it */
	[CMD_NEED_BUF] = B(CMD_RX_ICD) | B(CMD_AWAIT_H2C) | B(CMD_EXEC) | B(CMD_TX),
	[CMD_AWAIT_H2C] = B(CMD_EXEC),
	/* -> FREE: not started (a draining queue), never answered */
	[CMD_EXEC] = B(CMD_EXEC) | B(CMD_NEED_BUF) | B(CMD_AWAIT_H2C) | B(CMD_BACKEND) |
		     B(CMD_HELD) | B(CMD_TX) | B(CMD_FREE) | B(CMD_RANGE_WAIT),
	/* -> HELD: a fused first half waits while its second writes */
	[CMD_BACKEND] = B(CMD_BACKEND) | B(CMD_TX) | B(CMD_HELD),
	/* -> EXEC / BACKEND: a fused half whose peer is ready (or failed) */
	[CMD_HELD] = B(CMD_TX) | B(CMD_EXEC) | B(CMD_BACKEND) | B(CMD_RANGE_WAIT),
	[CMD_RANGE_WAIT] = B(CMD_EXEC) | B(CMD_BACKEND) | B(CMD_TX),
	[CMD_TX] = B(CMD_SENT),
	[CMD_SENT] = B(CMD_FREE),
};

#undef B

bool cmd_state_legal(enum cmd_state from, enum cmd_state to)
{
	return (size_t)from < sizeof(cmd_next) / sizeof(cmd_next[0]) &&
	       (cmd_next[from] & (1u << to)) != 0;
}
#endif

/* ---- Allocation ---- */

static struct cmd *cmd_alloc(struct conn *c)
{
	struct cmd *cmd = c->free_cmds;
	uint16_t slot;

	if (cmd != NULL) {
		c->free_cmds = cmd->next;
		slot = cmd->slot;
	} else {
		if (c->nslots_used >= c->nslots)
			return NULL;	       /* cannot happen: nr_outstanding is checked first */
		cmd = calloc(1, sizeof(*cmd)); /* nothing read uninitialised, ever */
		if (cmd == NULL)
			return NULL;
		slot = (uint16_t)c->nslots_used;
		c->slots[c->nslots_used++] = cmd;
	}
	memset(cmd, 0, CMD_CLEAR_END);
	cmd->conn = c;
	cmd->slot = slot;
	cmd_set_state(cmd, CMD_NEW);
	cmd->ep = worker_cmd_begin(c->w);
	cmd->outstanding = true;
	c->nr_outstanding++;
	return cmd;
}

void cmd_last_pdu_queued(struct cmd *cmd)
{
	struct conn *c = cmd->conn;

	cmd_set_state(cmd, CMD_SENT);
	if (cmd->outstanding) {
		cmd->outstanding = false;
		c->nr_outstanding--;
	}
}

void cmd_release(struct cmd *cmd)
{
	struct conn *c = cmd->conn;

	if (cmd->fuse_peer != NULL || c->fuse_first == cmd)
		cmd_fuse_detach(cmd);
	if (cmd->outstanding) {
		cmd->outstanding = false;
		c->nr_outstanding--;
	}
	if (cmd->buf != NULL) {
		c->buf_bytes -= cmd->buf->size;
		bufpool_put(&c->w->pool, cmd->buf);
		worker_buf_returned(c->w);
		cmd->buf = NULL;
	}
	be_ram_unref(&cmd->ram_ref); /* a spare never swapped in goes back unused */
	cmd->data = NULL;
	cmd_set_state(cmd, CMD_FREE);
	worker_cmd_end(c->w, cmd->ep);
	cmd->next = c->free_cmds;
	c->free_cmds = cmd;
}

/* ---- Data buffers ---- */

/* 1: got one; 0: the worker's pool is at its cap; -1: the connection's is. */
static int try_buf(struct cmd *cmd, uint32_t len, bool force)
{
	struct conn *c = cmd->conn;
	struct buf *b;

	if (!force && c->buf_bytes > 0 &&
	    c->buf_bytes + bufpool_class_size(len) > c->w->t->p.conn_buf_cap)
		return -1;
	b = bufpool_get(&c->w->pool, len, force);
	if (b == NULL)
		return 0;
	c->buf_bytes += b->size;
	cmd->buf = b;
	cmd->data = b->p;
	return 1;
}

bool cmd_get_buf(struct cmd *cmd, uint32_t len, void (*then)(struct cmd *cmd))
{
	if (cmd->buf != NULL)
		return true;
	if (try_buf(cmd, len, false) > 0)
		return true;
	cmd->buf_want = len;
	cmd->on_buf = then;
	cmd_set_state(cmd, CMD_NEED_BUF);
	worker_buf_wait(cmd->conn->w, cmd);
	return false;
}

int cmd_buf_retry(struct cmd *cmd)
{
	int ret = try_buf(cmd, cmd->buf_want, cmd->buf_force);

	if (ret > 0)
		cmd->on_buf(cmd);
	return ret;
}

/* ---- Completion ---- */

void cmd_complete(struct cmd *cmd)
{
	struct conn *c = cmd->conn;

	if (cmd->fuse_peer != NULL || c->fuse_first == cmd)
		cmd_fuse_detach(cmd);
	if (cmd->status != 0) {
		conn_dbg(c, "cid %u opcode %#x: %s", le16toh(cmd->sqe.cid), cmd->sqe.opc,
			 nvme_status_str_ctx(cmd->status,
					     nvme_status_ctx_of(&cmd->sqe, c->qid == 0)));
		/* every failed completion goes to the controller's error log (ctrl.h) */
		if (c->ctrl != NULL)
			ctrl_log_error(c->ctrl, c->qid, cmd->sqe.cid, cmd->status,
				       le32toh(cmd->sqe.nsid), cmd->err_lba, 0xffff);
		cmd->c2h_len = 0;
	}
	cmd->c2h_off = 0;
	cmd->txp = cmd->c2h_len ? TXP_C2H : TXP_RESP;
	cmd_set_state(cmd, CMD_TX);
	conn_tx_cmd(c, cmd);
}

void cmd_complete_status(struct cmd *cmd, nvme_status_t status)
{
	cmd->status = status;
	cmd_complete(cmd);
}

/* ---- CapsuleCmd ---- */

/*
 * The SGL in the SQE (NVMe-oF 1.1 7.3.2, NVMe/TCP 3.5): PSDT 01b; a Data
 * Block Offset descriptor for in-capsule data (offset 0, length = what
 * arrived), or a Transport Data Block (type 5h, subtype Ah) for data moved
 * by R2T / C2HData; no fused commands. Sets cmd->dir and cmd->data_len.
 *
 * What the specifications call reserved is not looked at (as nvmet and
 * SPDK): byte 01 of a Fabrics command (oF 1.1 Figure 10: no FUSE, no PSDT
 * there), and the SGL of a command that transfers no data (its DPTR
 * describes nothing: Keep Alive, Flush, Property Get / Set, whose bytes
 * 05-39 are reserved, oF 3.5 / 3.6). Such a command must still bring no
 * in-capsule data.
 */
static nvme_status_t check_sgl(struct cmd *cmd)
{
	const struct conn *c = cmd->conn;
	const struct nvme_sgl_desc *sgl = &cmd->sqe.sgl1;
	uint32_t len = le32toh(sgl->length), icd_max;
	uint8_t opc = cmd->sqe.opc;

	/* fused commands on I/O queues only (io_check checks which) */
	if (!cmd->fabrics && (NVMEV(NVME_SQE_PSDT, cmd->sqe.flags) != NVME_PSDT_SGL_MPTR_CONTIG ||
			      (NVMEV(NVME_SQE_FUSE, cmd->sqe.flags) != 0 && c->qid == 0)))
		return NVME_SC_DNR(GENERIC, INVALID_FIELD);
	if (cmd->fabrics) /* FCTYPE bits 1:0 give a Fabrics command's direction */
		opc = ((const struct nvmf_fabrics_cmd *)(const void *)&cmd->sqe)->fctype;
	cmd->dir = opc & NVME_OPC_XFER_MASK;
	if (cmd->dir == NVME_OPC_XFER_BIDIR)
		return NVME_SC_DNR(GENERIC, INVALID_FIELD);
	if (cmd->dir == NVME_OPC_XFER_NONE) {
		/* data in the capsule of a command that moves none */
		if (cmd->icd_len != 0)
			return NVME_SC_DNR(GENERIC, SGL_INVALID_DATA);
		cmd->data_len = 0;
		return 0;
	}
	if (sgl->type == NVME_SGL_ICD) {
		/* 8 KiB for Fabrics and admin commands on any queue, IOCCSZ for I/O */
		icd_max = cmd->fabrics || c->qid == 0 ? NVME_TCP_ADMIN_ICD : c->w->t->p.io_icd;
		if (len != 0 && cmd->dir != NVME_OPC_XFER_H2C)
			return NVME_SC_DNR(GENERIC, INVALID_FIELD);
		if (le64toh(sgl->addr) != 0)
			return NVME_SC_DNR(GENERIC, SGL_INVALID_OFFSET);
		if (len != cmd->icd_len || len > icd_max)
			return NVME_SC_DNR(GENERIC, SGL_INVALID_DATA);
	} else if (sgl->type == NVME_SGL_TRANSPORT_DB) {
		if (cmd->icd_len != 0) /* data in the capsule the SGL does not describe */
			return NVME_SC_DNR(GENERIC, SGL_INVALID_DATA);
	} else {
		return NVME_SC_DNR(GENERIC, SGL_INVALID_TYPE);
	}
	if (len > c->w->t->p.mdts_bytes && len > NVME_TCP_ADMIN_ICD)
		return NVME_SC_DNR(GENERIC, INVALID_FIELD);
	cmd->data_len = cmd->dir == NVME_OPC_XFER_NONE ? 0 : len;
	return 0;
}

static uint8_t fctype_of(const struct cmd *cmd)
{
	return ((const struct nvmf_fabrics_cmd *)(const void *)&cmd->sqe)->fctype;
}

/* The data a host-to-controller command sends after R2T is in. */
static void r2t_queue(struct cmd *cmd)
{
	struct conn *c = cmd->conn;

	cmd->h2c_got = 0;
	cmd->r2t_built = false;
	cmd_set_state(cmd, CMD_AWAIT_H2C);
	/* the host may take its time: a reload need not wait (cmd_rx_h2c checks again) */
	worker_cmd_unhold(c->w, &cmd->ep);
	cmd->txp = TXP_R2T;
	c->nr_await_h2c++;
	conn_tx_cmd(c, cmd);
}

/*
 * A RAM write completes inside cmd_exec(): it may read its staged data
 * (unless it waits there: a fused half or the range lock, cmd_icd_keep()).
 */
static bool icd_stays_staged(const struct cmd *cmd)
{
	return cmd->io && cmd->plan.op == BE_OP_WRITE && cmd->plan.kind == IO_KIND_BE &&
	       cmd->plan.fuse == NVME_FUSE_NONE && cmd->plan.ns->be.kind == BE_RAM;
}

/*
 * A plain RAM write of one whole aligned chunk, its data still to come:
 * received into a spare chunk of the store, swapped in when it executes
 * (be_ram_spare_get). Not a fused half (the second of Compare and Write
 * runs after its compare; a failed compare must leave nothing), and only
 * when all of its data comes by R2T. false: a pool buffer, as usual.
 */
static bool ram_spare_take(struct cmd *cmd)
{
	const struct io_plan *plan = &cmd->plan;
	uint8_t *p;

	if (!icd_stays_staged(cmd) || cmd->icd_len != 0 || cmd->data_len != plan->len)
		return false;
	p = be_ram_spare_get(&plan->ns->be, plan->offset, plan->len, &cmd->ram_ref);
	if (p == NULL)
		return false;
	cmd->ram_spare = true;
	cmd->data = p;
	return true;
}

/* Staged in-capsule data into the command's own buffer (before the staging buffer is reused). */
static void icd_unstage(struct cmd *cmd, bool copy)
{
	if (copy)
		memcpy(cmd->buf->p, cmd->data, cmd->icd_len);
	cmd->data = cmd->buf->p;
	cmd->icd_staged = false;
}

void cmd_icd_keep(struct cmd *cmd)
{
	if (cmd->icd_staged && cmd->buf != NULL)
		icd_unstage(cmd, true);
}

/* Which queue may run it, in which state (sequence, opcode), then its data. */
static void cmd_start(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	nvme_status_t st;

	c->sqhd = (c->sqhd + 1) % c->qsize;
	cmd->fabrics = cmd->sqe.opc == NVME_ADM_FABRICS;
	if (c->ctrl != NULL) {
		int64_t now = c->w->now_ms;

		/* a relaxed read first: no cache line ping-pong between workers */
		if (atomic_load_explicit(&c->ctrl->last_traffic_ms, memory_order_relaxed) != now)
			ctrl_touch(c->ctrl, now);
	}
	if (c->stop_drain) {
		/*
		 * Shutting down: not started, and not answered. An error status
		 * would reach the application (the Linux host fails a multipath
		 * request on any status that is not a path error); a command
		 * the host sees no answer to is requeued when the connection
		 * closes, and sent again once it has reconnected.
		 */
		conn_dbg(c, "cid %u: not started, the queue is draining", le16toh(cmd->sqe.cid));
		cmd_release(cmd);
		return;
	}
	st = check_sgl(cmd);
	if (st == 0 && cmd->xfer_err) /* 3.6.1.2: data digest error in the capsule */
		st = NVME_SC(GENERIC, TRANSIENT_TR_ERR);
	if (st == 0) {
		if (cmd->fabrics) {
			uint8_t fctype = fctype_of(cmd);
			bool connect = fctype == NVMF_FCTYPE_CONNECT;

			if (connect == c->connected) { /* Connect twice, or anything before it */
				st = NVME_SC_DNR(GENERIC, CMD_SEQ_ERROR);
			} else if (fctype == NVMF_FCTYPE_DISCONNECT && c->qid != 0) {
				/* oF 3.4: this I/O queue goes away once the answer is out */
				cmd_complete_status(cmd, 0);
				conn_close(c, CLOSE_AFTER_TX, "Disconnect");
				return;
			} else if (fctype == NVMF_FCTYPE_AUTH_SEND ||
				   fctype == NVMF_FCTYPE_AUTH_RECV) {
				/* on every queue (Base 8.13), before the gate below */
			} else if (!connect && c->qid != 0) {
				st = NVME_SC_DNR(GENERIC, INVALID_OPCODE);
			} else if (!connect) {
				st = qauth_gate(c->auth); /* Property Get / Set wait too */
			}
		} else if (!c->connected) {
			st = NVME_SC_DNR(GENERIC, CMD_SEQ_ERROR);
		} else if ((st = qauth_gate(c->auth)) != 0) {
			/* Authentication Required: nothing else before the queue authenticated */
		} else if (c->qid != 0) {
			st = cmd_io_check(cmd);
		}
	}
	/* Base 3.4.2: fused halves are adjacent; any I/O command ends a wait */
	if (c->qid != 0 && !cmd->fabrics && c->connected)
		st = cmd_fuse_arrived(cmd, st);
	if (st != 0) {
		cmd_complete_status(cmd, st);
		return;
	}
	if (cmd->icd_staged && !icd_stays_staged(cmd))
		icd_unstage(cmd, true);
	if (cmd->dir == NVME_OPC_XFER_H2C && cmd->data_len > cmd->icd_len) {
		if (ram_spare_take(cmd) || cmd_get_buf(cmd, cmd->data_len, r2t_queue))
			r2t_queue(cmd);
		return;
	}
	cmd_exec(cmd);
}

/* Too many commands: the host ignored the queue size (7.4.7: fatal). */
static int check_queue_full(struct conn *c)
{
	if (c->nr_outstanding < c->qsize)
		return 0;
	return conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0, c->rx.hdr.raw, c->rx.hdr.ch.hlen,
			  "queue full: more commands than the queue size in a");
}

static void icd_buf_ready(struct cmd *cmd)
{
	struct conn *c = cmd->conn;

	cmd_set_state(cmd, CMD_RX_ICD);
	tcp_rx_set_data(&c->rx, cmd->data);
	conn_rx_resume(c, RXP_BUF);
}

/* A command slot for the CapsuleCmd in c->rx.hdr, within the queue's size. */
static int cmd_new(struct conn *c, struct cmd **out)
{
	int ret = check_queue_full(c);

	if (ret)
		return ret;
	*out = cmd_alloc(c);
	if (*out == NULL) {
		conn_err(c, "out of memory for a command");
		conn_close(c, CLOSE_NOW, "out of memory");
		return -ENOMEM;
	}
	(*out)->sqe = c->rx.hdr.cmd.sqe;
	return 0;
}

int cmd_rx_capsule_header(struct conn *c)
{
	uint32_t len = tcp_rx_data_len(&c->rx);
	struct cmd *cmd;
	int ret = cmd_new(c, &cmd);

	if (ret)
		return ret;
	cmd_set_state(cmd, CMD_RX_ICD);
	c->rx_cmd = cmd;
	/*
	 * In-capsule data must be taken off the stream before anything else:
	 * no cap applies (it is bounded by the queue size times 8 KiB / IOCCSZ),
	 * so RX never waits for another command's buffer (no deadlock).
	 */
	if (try_buf(cmd, len, true) > 0) {
		uint32_t whole =
			len + (c->rx.hdr.ch.flags & NVME_TCP_F_DDGST ? NVME_TCP_DIGEST_LEN : 0);

		if (c->rx.pad_len == 0 && c->rx_staged_len >= whole) {
			/*
			 * The whole PDU is staged: it completes in this pass of
			 * rx_process(), before the staging buffer is reused, so the
			 * codec only checks it and the command starts on the staged
			 * bytes (cmd_start copies them unless a RAM write takes
			 * them straight into the store: one copy, not two).
			 */
			cmd->data = (uint8_t *)c->rx_staged;
			cmd->icd_staged = true;
			tcp_rx_set_data(&c->rx, NULL);
		} else {
			tcp_rx_set_data(&c->rx, cmd->data);
		}
		return 0;
	}
	cmd->buf_want = len; /* malloc failed: try again when memory comes back */
	cmd->buf_force = true;
	cmd->on_buf = icd_buf_ready;
	cmd_set_state(cmd, CMD_NEED_BUF);
	c->rx_pause |= RXP_BUF;
	worker_buf_wait(c->w, cmd);
	return -EAGAIN;
}

int cmd_rx_capsule(struct conn *c)
{
	struct cmd *cmd;
	int ret;

	if (tcp_rx_data_len(&c->rx) != 0) {
		cmd = c->rx_cmd;
		c->rx_cmd = NULL;
		cmd->icd_len = tcp_rx_data_len(&c->rx);
		cmd->xfer_err = c->rx.ddgst_err;
		if (cmd->xfer_err)
			conn_warn(c, "cid %u: data digest error in the capsule",
				  le16toh(cmd->sqe.cid));
	} else {
		ret = cmd_new(c, &cmd);
		if (ret)
			return ret;
	}
	cmd_set_state(cmd, CMD_EXEC);
	cmd_start(cmd);
	/*
	 * Done with the staged bytes (a RAM write has stored them, any other
	 * command was copied or did not start): nothing may point at them once
	 * the staging buffer is reused. A released command has no buffer.
	 */
	if (cmd->icd_staged && cmd->buf != NULL)
		icd_unstage(cmd, false);
	return c->closing ? -ECONNRESET : 0;
}

/* ---- H2CData (3.6.2.8), checked in FreeBSD's nvmf_tcp_handle_h2c_data() order ---- */

int cmd_rx_h2c_header(struct conn *c)
{
	const struct nvme_tcp_h2c_data *h = &c->rx.hdr.h2c;
	uint32_t datao = le32toh(h->datao), datal = le32toh(h->datal);
	uint16_t ttag = h->ttag; /* opaque: our slot index, as we sent it */
	struct cmd *cmd = ttag < c->nslots_used ? c->slots[ttag] : NULL;
	uint32_t hlen = c->rx.hdr.ch.hlen;

	if (cmd == NULL || cmd->st != CMD_AWAIT_H2C || !cmd->r2t_built)
		return conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR,
				  offsetof(struct nvme_tcp_h2c_data, ttag), h, hlen,
				  "unknown transfer tag in");
	if (h->cccid != cmd->sqe.cid)
		return conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR,
				  offsetof(struct nvme_tcp_h2c_data, cccid), h, hlen,
				  "CCCID not matching the transfer tag in");
	if ((uint64_t)datao + datal > cmd->data_len)
		return conn_fatal(c, NVME_TCP_FES_DATA_OUT_OF_RANGE, 0, h, hlen,
				  "data beyond the command's length in");
	if (datao != cmd->h2c_got)
		return conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0, h, hlen, "DATAO out of order in");
	if ((datao + datal == cmd->data_len) != !!(h->ch.flags & NVME_TCP_F_DATA_LAST))
		return conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0, h, hlen,
				  "LAST_PDU not on the last");
	c->rx_cmd = cmd;
	tcp_rx_set_data(&c->rx, cmd->data + datao);
	return 0;
}

int cmd_rx_h2c(struct conn *c)
{
	const struct nvme_tcp_h2c_data *h = &c->rx.hdr.h2c;
	struct cmd *cmd = c->rx_cmd;

	/* Data-less PDUs get no TCP_RX_HEADER: DATAL 0 is never valid. */
	if (tcp_rx_data_len(&c->rx) == 0)
		return conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR,
				  offsetof(struct nvme_tcp_h2c_data, datal), h, h->ch.hlen,
				  "no data in");
	c->rx_cmd = NULL;
	cmd->h2c_got += le32toh(h->datal);
	if (c->rx.ddgst_err && !cmd->xfer_err) {
		/* 3.6.1.2: fail the command, keep the connection */
		conn_warn(c, "cid %u: data digest error in H2CData at offset %u",
			  le16toh(cmd->sqe.cid), le32toh(h->datao));
		cmd->xfer_err = true;
	}
	if (cmd->h2c_got < cmd->data_len)
		return 0;
	c->nr_await_h2c--; /* a draining queue stops reading after this PDU (conn.c) */
	cmd_set_state(cmd, CMD_EXEC);
	cmd->ep = worker_cmd_begin(c->w);
	if (cmd->xfer_err) {
		cmd_complete_status(cmd, NVME_SC(GENERIC, TRANSIENT_TR_ERR));
	} else if (cmd->io && ctrl_io_queue_closing(c->ctrl)) {
		/* the queue closes at the next tick: no answer, the host requeues it */
		conn_dbg(c, "cid %u: not started, the controller is going away",
			 le16toh(cmd->sqe.cid));
		cmd_release(cmd);
	} else if (cmd->io && subsys_ns(c->ctrl->subsys)->gen != cmd->plan_gen) {
		/* a reload changed the namespaces while the data came: plan again */
		nvme_status_t st = cmd_io_check(cmd);

		if (st != 0)
			cmd_complete_status(cmd, st);
		else
			cmd_exec(cmd);
	} else {
		cmd_exec(cmd);
	}
	return c->closing ? -ECONNRESET : 0;
}

/* ---- Asynchronous events ---- */

void cmd_aer_complete(void *arg, uint16_t cid, uint32_t dw0)
{
	struct conn *c = arg;

	for (uint32_t i = 0; i < c->nslots_used; i++) {
		struct cmd *cmd = c->slots[i];

		if (cmd->sqe.cid != cid || cmd->sqe.opc != NVME_ADM_ASYNC_EVENT)
			continue;
		if (cmd->st == CMD_HELD) {
			c->nr_held--;
			cmd->dw0 = dw0;
			cmd_complete_status(cmd, 0);
			return;
		}
		if (cmd->st == CMD_EXEC) { /* completed from inside ctrl_admin_exec() */
			cmd->aer_fired = true;
			cmd->dw0 = dw0;
			return;
		}
	}
	conn_warn(c, "an event for AER cid %u, which is not outstanding", le16toh(cid));
}
