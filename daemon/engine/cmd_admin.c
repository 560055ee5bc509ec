/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Running a command whose input data is in: Fabrics Connect (any queue),
 * admin and other Fabrics commands (the admin queue, through the
 * controller logic), I/O commands (cmd_io.c). NVMe over Fabrics 1.1.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"
#include "conn.h"
#include "byteorder.h"
#include "epoch.h"

static bool is_discovery_nqn(const struct target *t, const char *nqn)
{
	return strncmp(nqn, NVMF_DISC_NQN, NVMF_NQN_FIELD) == 0 ||
	       strncmp(nqn, t->disc.nqn, NVMF_NQN_FIELD) == 0;
}

/*
 * A discovery-only listener serves the discovery subsystem only; the others
 * serve it when the configuration says "discovery = yes". Anything else
 * there is a subsystem this port does not have (3.3: Connect Invalid
 * Parameters, IPO at SUBNQN in the data).
 */
static nvme_status_t listener_check(const struct conn *c, const struct nvmf_connect_data *cd,
				    uint32_t *dw0)
{
	const struct target *t = c->w->t;
	const struct cfg_config *cfg = target_cfg(t);
	bool disc = is_discovery_nqn(t, cd->subnqn);

	if (c->l->discovery_only ? disc : (!disc || cfg == NULL || cfg->discovery))
		return 0;
	*dw0 = NVMF_CONNECT_IPO_DATA(offsetof(struct nvmf_connect_data, subnqn));
	return NVME_SC_DNR(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM);
}

static void fill_conn_info(const struct conn *c, struct conn_info *ci)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(ci, 0, sizeof(*ci));
	snprintf(ci->peer, sizeof(ci->peer), "%s", c->peer);
	conn_addr_str(&c->peer_ss, NULL, 0, ci->peer_addr, sizeof(ci->peer_addr), NULL);
	ci->l = c->l;
	memset(&ss, 0, sizeof(ss));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	ci->family = ss.ss_family;
	conn_addr_str(&ss, NULL, 0, ci->local_addr, sizeof(ci->local_addr), &ci->local_port);
}

/* Connect (NVMe-oF 1.1 3.3): the queue gets its controller and its size. */
static void exec_connect(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	const struct target_params *tp = &c->w->t->p;
	struct nvmf_connect_cmd cc;
	struct nvmf_connect_data cd;
	struct conn_info ci;
	struct ctrl *ctrl = NULL;
	uint32_t dw0 = 0;
	nvme_status_t st;
	uint16_t qid;

	memcpy(&cc, &cmd->sqe, sizeof(cc));
	if (cmd->data_len != sizeof(cd) || cmd->data == NULL) {
		cmd_complete_status(cmd, NVME_SC_DNR(GENERIC, SGL_INVALID_DATA));
		return;
	}
	memcpy(&cd, cmd->data, sizeof(cd));
	st = listener_check(c, &cd, &dw0);
	if (st == 0) {
		fill_conn_info(c, &ci);
		st = ctrl_connect(c->w->t, &cc, &cd, &ci, c->w->now_ms, &dw0, &ctrl);
	}
	cmd->dw0 = dw0;
	if (st != 0) {
		cmd_complete_status(cmd, st);
		return;
	}
	qid = le16toh(cc.qid);
	if (conn_set_qsize(c, le16toh(cc.sqsize) + 1u) != 0) {
		conn_err(c, "out of memory for %u commands", le16toh(cc.sqsize) + 1u);
		ctrl_queue_gone(ctrl, qid);
		ctrl_put(ctrl);
		cmd->dw0 = 0;
		cmd_complete_status(cmd, NVME_SC(GENERIC, INTERNAL));
		return;
	}
	if (dw0 & NVMF_CONNECT_AUTHREQ_ATR) {
		c->auth = qauth_new(ctrl, qid, &ci, true, c->w->now_ms);
		if (c->auth == NULL) {
			conn_err(c, "out of memory for the authentication state");
			ctrl_queue_gone(ctrl, qid);
			ctrl_put(ctrl);
			cmd->dw0 = 0;
			cmd_complete_status(cmd, NVME_SC(GENERIC, INTERNAL));
			return;
		}
	}
	c->ctrl = ctrl;
	c->qid = qid;
	c->connected = true;
	conn_connected(c);
	c->sqfc_disabled = cc.cattr & NVMF_CONNECT_CATTR_DISABLE_SQFC;
	c->sqhd %= c->qsize;
	/* 8 KiB for Fabrics / admin commands on every queue; IOCCSZ for I/O ones */
	c->p.max_icd = qid == 0 || tp->io_icd < NVME_TCP_ADMIN_ICD ? NVME_TCP_ADMIN_ICD
								   : tp->io_icd;
	if (qid == 0) {
		ctrl->aer_fn = cmd_aer_complete;
		ctrl->aer_arg = c;
		/* ctrl_connect() logged the new controller */
		conn_dbg(c, "connected: admin queue of controller %u, %u entries%s", ctrl->cntlid,
			 c->qsize, c->sqfc_disabled ? ", no SQ flow control" : "");
	} else {
		struct worker *to = worker_for_qid(qid);

		conn_dbg(c, "connected: I/O queue of controller %u, %u entries", ctrl->cntlid,
			 c->qsize);
		if (to != c->w) {
			/* no byte past this capsule is parsed here (conn_maybe_handoff) */
			c->handoff_to = to;
			c->rx_pause |= RXP_HANDOFF;
		}
	}
	cmd_complete_status(cmd, 0);
}

/* Admin and Fabrics commands, on the admin queue's worker (ctrl.h). */
static void exec_admin(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	struct ctrl_req r;
	enum ctrl_exec e;

	if (cmd->dir == NVME_OPC_XFER_C2H && cmd->data_len != 0) {
		if (!cmd_get_buf(cmd, cmd->data_len, exec_admin))
			return;
		/* a reused buffer: never send a byte of an earlier command */
		memset(cmd->data, 0, cmd->data_len);
	}
	memset(&r, 0, sizeof(r));
	r.sqe = &cmd->sqe;
	r.buf = cmd->data;
	r.buf_len = cmd->data_len;
	cmd_set_state(cmd, CMD_EXEC);
	e = ctrl_admin_exec(c->ctrl, &r);
	if (e == CTRL_EXEC_HELD) {
		if (cmd->aer_fired) {
			cmd_complete_status(cmd, 0);
			return;
		}
		cmd_set_state(cmd, CMD_HELD);
		c->nr_held++;
		worker_cmd_unhold(c->w, &cmd->ep); /* a reload need not wait for an event */
		return;
	}
	cmd->dw0 = r.dw0;
	cmd->dw1 = r.dw1;
	if (r.status == 0 && cmd->dir == NVME_OPC_XFER_C2H)
		cmd->c2h_len = r.out_len < cmd->data_len ? r.out_len : cmd->data_len;
	cmd_complete_status(cmd, r.status);
}

/*
 * Authentication Send / Receive, on any queue (fabrics_auth.h): H2C data
 * is in cmd->data (in-capsule or after R2T, like any command); the reply
 * goes back with C2HData. A failed transaction closes the queue once its
 * answer is out (an admin queue takes its controller with it).
 */
static void exec_auth(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	bool send = ((const struct nvmf_fabrics_cmd *)(const void *)&cmd->sqe)->fctype ==
		    NVMF_FCTYPE_AUTH_SEND;
	enum qauth_after after;
	uint32_t out_len = 0;
	nvme_status_t st;

	if (!send && cmd->data_len != 0) {
		if (!cmd_get_buf(cmd, cmd->data_len, exec_auth))
			return;
		memset(cmd->data, 0, cmd->data_len); /* the message, then zeroes */
	}
	cmd_set_state(cmd, CMD_EXEC);
	if (c->auth == NULL) { /* a host that authenticates where it need not (its choice) */
		struct conn_info ci;

		fill_conn_info(c, &ci);
		c->auth = qauth_new(c->ctrl, c->qid, &ci, false, c->w->now_ms);
	}
	if (c->auth == NULL) {
		cmd_complete_status(cmd, NVME_SC(GENERIC, INTERNAL));
		return;
	}
	if (send)
		st = qauth_send(c->auth, &cmd->sqe, cmd->data, cmd->data_len, c->w->now_ms, &after);
	else
		st = qauth_recv(c->auth, &cmd->sqe, cmd->data, cmd->data_len, &out_len,
				c->w->now_ms, &after);
	if (st == 0 && !send)
		cmd->c2h_len = out_len;
	cmd_complete_status(cmd, st);
	if (after == QAUTH_CLOSE)
		conn_close(c, CLOSE_AFTER_TX, "authentication failed");
}

void cmd_exec(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	const struct nvmf_fabrics_cmd *f = (const void *)&cmd->sqe;

	cmd_set_state(cmd, CMD_EXEC);
	if (cmd->fabrics && f->fctype == NVMF_FCTYPE_CONNECT)
		exec_connect(cmd);
	else if (cmd->fabrics &&
		 (f->fctype == NVMF_FCTYPE_AUTH_SEND || f->fctype == NVMF_FCTYPE_AUTH_RECV))
		exec_auth(cmd);
	else if (c->qid == 0)
		exec_admin(cmd);
	else
		cmd_io_exec(cmd);
}
