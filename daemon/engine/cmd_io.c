/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I/O commands on the backend: Read, Write, Flush (one namespace or all),
 * Write Zeroes, Dataset Management (one deallocation per range). Checks
 * and planning are io_check()'s (ctrl.h); this file moves the data and
 * turns backend results into NVMe status.
 *
 * A command runs its backend operations one after the other (a plain
 * Read or Write is one; Flush of NSID FFFFFFFFh is one per namespace; DSM
 * one per range), each queued on the worker's ring with user_data
 * OP_BE | cmd. RAM completes inline: be_run() then simply loops.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "cmd.h"
#include "conn.h"
#include "byteorder.h"
#include "status.h"

#define DSM_CHUNK (1u << 30) /* be_io.len is 32 bits; a range may be 16 TiB */

nvme_status_t cmd_io_check(struct cmd *cmd)
{
	cmd->io = true;
	cmd->plan_gen = subsys_ns(cmd->conn->ctrl->subsys)->gen; /* good while it is current */
	return io_check(cmd->conn->ctrl, &cmd->sqe, cmd->data_len, &cmd->plan);
}

static void be_done(struct be_io *io, int res);

/* Fill cmd->bio for the next backend operation; false when there is none. */
static bool be_next(struct cmd *cmd, struct ns **nsp)
{
	const struct io_plan *plan = &cmd->plan;
	struct be_io *bio = &cmd->bio;
	struct ns *ns = plan->ns;

	memset(bio, 0, sizeof(*bio));
	bio->op = plan->op;
	bio->buf_index = -1;
	bio->file_index = -1;
	bio->user_data = op_data(cmd, OP_BE);
	bio->done = be_done;
	switch (plan->op) {
	case BE_OP_FLUSH:
		if (le32toh(cmd->sqe.nsid) == NVME_NSID_ALL) {
			const struct ns_table *nt = cmd->be_nst;

			if (cmd->be_idx >= nt->n)
				return false;
			ns = nt->ns[cmd->be_idx];
		} else if (cmd->be_idx > 0) {
			return false;
		}
		break;
	case BE_OP_DEALLOCATE: {
		uint32_t n;

		/* next range (0-length ones are skipped), then chunks of DSM_CHUNK */
		while (cmd->rng_left == 0) {
			struct nvme_dsm_range r;
			nvme_status_t st;

			if (cmd->be_idx >= plan->nr_ranges)
				return false;
			memcpy(&r, cmd->data + (size_t)cmd->be_idx * sizeof(r), sizeof(r));
			cmd->be_idx++;
			st = io_dsm_range(ns, &r, &cmd->rng_off, &cmd->rng_left);
			if (st != 0) {
				cmd->status = st;
				return false;
			}
		}
		n = cmd->rng_left < DSM_CHUNK ? (uint32_t)cmd->rng_left : DSM_CHUNK;
		bio->offset = cmd->rng_off;
		bio->len = n;
		bio->fua = plan->fua; /* the write cache is off */
		cmd->rng_off += n;
		cmd->rng_left -= n;
		*nsp = ns;
		return true;
	}
	case BE_OP_READ:
	case BE_OP_WRITE:
		if (cmd->be_idx > 0)
			return false;
		bio->buf = cmd->data;
		if (cmd->buf != NULL && cmd->data == cmd->buf->p)
			bio->buf_index = cmd->buf->index;
		bio->offset = plan->offset;
		bio->len = plan->len;
		/* io_check sets fua for FUA writes and when the write cache is off */
		bio->fua = plan->op == BE_OP_WRITE && plan->fua;
		break;
	case BE_OP_WRITE_ZEROES:
	default:
		if (cmd->be_idx > 0)
			return false;
		bio->offset = plan->offset;
		bio->len = plan->len;
		bio->fua = plan->fua;
		bio->deac = plan->deac;
		break;
	}
	cmd->be_idx++;
	*nsp = ns;
	return true;
}

/* A backend error: its status, the error log, a (rate-limited) message. */
static void be_failed(struct cmd *cmd, struct ns *ns, int err)
{
	struct conn *c = cmd->conn;
	nvme_status_t st = io_errno_status(err, cmd->bio.op);
	uint32_t nsid = ns != NULL ? ns->nsid : le32toh(cmd->sqe.nsid);
	uint64_t lba = ns != NULL ? cmd->bio.offset >> ns->lba_shift : 0;

	cmd->status = st;
	cmd->err_lba = lba;
	if (c->w->now_ms >= c->log_quota_ms) {
		c->log_quota_ms = c->w->now_ms + 1000;
		conn_warn(c, "cid %u: backend %s of namespace %u at byte %llu: %s -> %s",
			  le16toh(cmd->sqe.cid), ns != NULL ? ns->be.path : "?", nsid,
			  (unsigned long long)cmd->bio.offset, strerror(-err), nvme_status_str(st));
	}
}

static void io_finish(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	bool ok = cmd->status == 0;

	if (cmd->plan.ns != NULL) {
		io_busy_end(cmd->plan.ns, c->w->id, c->w->now_ns);
		io_account(cmd->plan.ns, c->w->id, &cmd->plan, cmd->status);
	}
	if (ok && cmd->plan.op == BE_OP_READ)
		cmd->c2h_len = cmd->plan.len;
	cmd_complete(cmd);
}

/* Queue the command's backend operations until one is in flight, or all are done. */
static void be_run(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	struct worker *w = c->w;

	for (;;) {
		struct ns *ns = NULL;
		int ret;

		if (c->closing || cmd->status != 0 || !be_next(cmd, &ns)) {
			io_finish(cmd);
			return;
		}
		cmd->be_ns = ns;
		if (w->fixed_files)
			cmd->bio.file_index = ns->file_slot;
		cmd_set_state(cmd, CMD_BACKEND);
		cmd->be_done = false;
		cmd->be_inline = true;
		c->nr_be++;
		ret = be_submit(&ns->be, &w->ring, &cmd->bio);
		if (ret == -EAGAIN) { /* the SQ ring is full: make room */
			io_uring_submit(&w->ring);
			ret = be_submit(&ns->be, &w->ring, &cmd->bio);
		}
		cmd->be_inline = false;
		if (ret < 0) {
			c->nr_be--;
			be_failed(cmd, ns, ret);
			io_finish(cmd);
			return;
		}
		if (!cmd->be_done)
			return; /* be_done() continues */
		if (cmd->be_res < 0) {
			be_failed(cmd, ns, cmd->be_res);
			io_finish(cmd);
			return;
		}
	}
}

static void be_done(struct be_io *io, int res)
{
	struct cmd *cmd = (struct cmd *)((char *)io - offsetof(struct cmd, bio));

	cmd->conn->nr_be--;
	cmd->be_done = true;
	cmd->be_res = res;
	if (cmd->be_inline)
		return; /* be_run() goes on */
	if (res < 0) {
		be_failed(cmd, cmd->be_ns, res);
		io_finish(cmd);
		return;
	}
	be_run(cmd);
}

void cmd_be_cqe(struct cmd *cmd, int res)
{
	be_io_complete(&cmd->bio, res);
}

void cmd_io_exec(struct cmd *cmd)
{
	const struct io_plan *plan = &cmd->plan;

	switch (plan->op) {
	case BE_OP_READ:
		if (plan->ns->be.kind != BE_RAM) {
			if (!cmd_get_buf(cmd, plan->len, cmd_io_exec))
				return;
			break;
		}
		/*
		 * Straight from the store to the socket: no copy at all. Not
		 * with data digests: the digest is computed when the PDU is
		 * built, the kernel takes the bytes later (after a short send,
		 * or a zero-copy one), and a write landing in between would
		 * send bytes the digest does not cover, a transport error that
		 * resets the host's association
		 * (tests/integration/ddgst_overwrite.py). Then each C2HData PDU
		 * copies its data into a buffer of ours as it is built, the CRC
		 * folded into that copy.
		 */
		if (cmd->conn->p.ddgst) {
			if (!cmd_get_buf(cmd, plan->len, cmd_io_exec))
				return;
			cmd->c2h_copy = true;
		}
		cmd->data = be_ram_map(&plan->ns->be, plan->offset);
		break;
	case BE_OP_DEALLOCATE:
		/* nr_ranges is 0 without Attribute Deallocate: hints only, done */
		if ((uint64_t)plan->nr_ranges * sizeof(struct nvme_dsm_range) > cmd->data_len ||
		    (plan->nr_ranges != 0 && cmd->data == NULL)) {
			cmd_complete_status(cmd, NVME_SC_DNR(GENERIC, SGL_INVALID_DATA));
			return;
		}
		break;
	default:
		break;
	}
	cmd->be_idx = 0;
	cmd->rng_left = 0;
	cmd->be_nst = subsys_ns(cmd->conn->ctrl->subsys);
	if (plan->ns != NULL)
		io_busy_begin(plan->ns, cmd->conn->w->id, cmd->conn->w->now_ns);
	be_run(cmd);
}
