/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I/O commands on the backend: Read, Write, Flush (one namespace or all),
 * Write Zeroes, Dataset Management (one deallocation per range), Compare,
 * Verify, the fused Compare and Write (Base 3.4.2), and the reservation
 * commands (resv_ns.h). Checks and planning are io_check()'s (ctrl.h);
 * this file moves the data and turns backend results into NVMe status.
 *
 * When a command starts executing (io_start) it is checked against the
 * namespace's reservation (resv_ns_check), then takes its LBA range
 * (range_lock.h): writes shared, the fused pair exclusive, so that no
 * write lands between the compare and the write. A command that cannot
 * have its range waits on the worker's range_wait list (RANGE_WAIT).
 *
 * A command runs its backend operations one after the other (a plain
 * Read or Write is one; Flush of NSID FFFFFFFFh is one per namespace; DSM
 * one per range), each queued on the worker's ring with user_data
 * OP_BE | cmd. RAM completes inline: be_run() then simply loops.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conn.h"
#include "byteorder.h"
#include "range_lock.h"
#include "resv_ns.h"
#include "status.h"

#define DSM_CHUNK    (1u << 30) /* be_io.len is 32 bits; a range may be 16 TiB */
#define VERIFY_CHUNK (1u << 20) /* Verify reads this much at a time */

nvme_status_t cmd_io_check(struct cmd *cmd)
{
	struct ctrl *ctrl = cmd->conn->ctrl;
	nvme_status_t st;

	cmd->io = true;
	cmd->plan_gen = subsys_ns(ctrl->subsys)->gen; /* good while it is current */
	st = io_check(ctrl, &cmd->sqe, cmd->data_len, &cmd->plan);
	/* the abort generation of its host when it arrived (Preempt and Abort) */
	cmd->resv_mark = st == 0 && cmd->plan.ns != NULL ? resv_ns_mark(ctrl, cmd->plan.ns) : 0;
	return st;
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
	bio->queue = cmd->conn->w->id;
	bio->event_tag = OP_BE_EVENT;
	if (plan->kind == IO_KIND_VERIFY) {
		/* read the range a chunk at a time into the scratch buffer, keep nothing */
		uint32_t n;

		if (cmd->rng_left == 0)
			return false;
		n = cmd->rng_left < VERIFY_CHUNK ? (uint32_t)cmd->rng_left : VERIFY_CHUNK;
		bio->buf = cmd->scratch;
		bio->offset = cmd->rng_off;
		bio->len = n;
		cmd->rng_off += n;
		cmd->rng_left -= n;
		cmd->be_idx++;
		*nsp = ns;
		return true;
	}
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
		if (cmd->scratch != NULL) /* Compare: the blocks, beside the host's data */
			bio->buf = cmd->scratch;
		else if (cmd->buf != NULL && cmd->data == cmd->buf->p)
			bio->buf_index = cmd->buf->index;
		else if (cmd->ram_ref.rc != NULL && cmd->ram_spare)
			bio->ram_swap = &cmd->ram_ref; /* a copy if the namespace changed */
		else if (cmd->ram_ref.rc != NULL)
			bio->ram_in_place = true; /* a mapped read */
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

static void be_run(struct cmd *cmd);

/* Give back the command's LBA range, if it holds one. */
static void range_give(struct cmd *cmd)
{
	if (!cmd->rl_held)
		return;
	range_unlock(cmd->plan.ns->rl, cmd->rl_off, cmd->rl_len, cmd->rl_excl);
	cmd->rl_held = false;
}

/* The fused pair ends: the range goes back, both halves complete (first first). */
static void fused_done(struct cmd *first, nvme_status_t st1, nvme_status_t st2)
{
	struct cmd *second = first->fuse_peer;

	range_give(first);
	first->status = st1;
	cmd_complete(first); /* unpairs them (running: the second is not failed) */
	if (second != NULL)
		cmd_complete_status(second, st2);
}

/* The first half compared: the second writes, or fails with it (Base 3.4.2). */
static void fused_compared(struct cmd *first)
{
	struct cmd *second = first->fuse_peer;
	struct conn *c = first->conn;

	if (second == NULL) { /* its connection is closing: nothing to write for */
		range_give(first);
		cmd_complete(first);
		return;
	}
	if (first->status != 0) {
		fused_done(first, first->status, NVME_SC(GENERIC, FUSED_FAIL));
		return;
	}
	cmd_set_state(first, CMD_HELD);
	cmd_set_state(second, CMD_EXEC);
	second->be_idx = 0;
	second->rng_left = 0;
	second->be_nst = subsys_ns(c->ctrl->subsys);
	io_busy_begin(second->plan.ns, c->w->id, c->w->now_ns);
	be_run(second);
}

static void io_finish(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	const struct io_plan *plan = &cmd->plan;

	if (plan->ns != NULL) {
		io_busy_end(plan->ns, c->w->id, c->w->now_ns);
		io_account(plan->ns, c->w->id, plan, cmd->status);
	}
	if (cmd->scratch != NULL) {
		/* NVM 3.2.1: Compare Failure when any byte differs */
		if (cmd->status == 0 && plan->kind == IO_KIND_COMPARE &&
		    memcmp(cmd->scratch, cmd->data, plan->len) != 0)
			cmd->status = NVME_SC(MEDIA, COMPARE_FAILED);
		free(cmd->scratch);
		cmd->scratch = NULL;
	}
	if (cmd->status == 0 && plan->op == BE_OP_READ && plan->kind == IO_KIND_BE)
		cmd->c2h_len = plan->len;
	if (plan->fuse == NVME_FUSE_FIRST) {
		fused_compared(cmd);
		return;
	}
	if (plan->fuse == NVME_FUSE_SECOND && cmd->fuse_peer != NULL) {
		fused_done(cmd->fuse_peer, 0, cmd->status);
		return;
	}
	range_give(cmd);
	cmd_complete(cmd);
}

/*
 * Queue the command's backend operations until one is in flight, or all
 * are done. With be_again the current one (cmd->bio) was refused for now
 * (-EBUSY) and goes on where it stopped: it stayed counted in nr_be, so
 * that its connection waits for it to end, and waited on the worker's
 * range_wait list (cmd_io_resume).
 */
static void be_run(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	struct worker *w = c->w;

	for (;;) {
		int (*submit)(struct be_ns *, struct io_uring *, struct be_io *) = be_submit;
		struct ns *ns = cmd->be_ns;
		int ret;

		if (cmd->be_again) {
			cmd->be_again = false;
			submit = be_resubmit;
			if (c->closing) {
				c->nr_be--;
				io_finish(cmd);
				return;
			}
		} else {
			if (c->closing || cmd->status != 0 || !be_next(cmd, &ns)) {
				io_finish(cmd);
				return;
			}
			cmd->be_ns = ns;
			if (w->fixed_files)
				cmd->bio.file_index = ns->file_slot;
			cmd_set_state(cmd, CMD_BACKEND);
			c->nr_be++;
		}
		cmd->be_done = false;
		cmd->be_inline = true;
		ret = submit(&ns->be, &w->ring, &cmd->bio);
		if (ret == -EAGAIN) { /* the SQ ring is full: make room */
			io_uring_submit(&w->ring);
			ret = submit(&ns->be, &w->ring, &cmd->bio);
		}
		cmd->be_inline = false;
		if (ret == -EBUSY) {
			const void *staged = cmd->data;

			cmd_icd_keep(cmd); /* the staging buffer is reused meanwhile */
			if (cmd->bio.buf == staged)
				cmd->bio.buf = cmd->data;
			cmd->be_again = true;
			worker_range_wait(w, cmd);
			return;
		}
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

/* ---- the LBA range lock ---- */

/* The range a command takes, if any: 0 length when it takes none. */
static void range_of(const struct cmd *cmd, uint64_t *off, uint64_t *len, bool *excl)
{
	const struct io_plan *plan = &cmd->plan;

	*off = *len = 0;
	*excl = false;
	if (plan->ns == NULL || plan->fuse == NVME_FUSE_SECOND) /* the first holds it */
		return;
	if (plan->fuse == NVME_FUSE_FIRST) {
		*off = plan->offset;
		*len = plan->len;
		*excl = true;
		return;
	}
	if (plan->kind != IO_KIND_BE)
		return;
	switch (plan->op) {
	case BE_OP_WRITE:
	case BE_OP_WRITE_ZEROES:
		*off = plan->offset;
		*len = plan->len;
		return;
	case BE_OP_DEALLOCATE: {
		/* every range of it: the span from the lowest to the highest block */
		uint64_t lo = UINT64_MAX, hi = 0, nsze = ns_blocks(plan->ns);

		for (uint32_t i = 0; i < plan->nr_ranges; i++) {
			struct nvme_dsm_range r;
			uint64_t slba, end;

			memcpy(&r, cmd->data + (size_t)i * sizeof(r), sizeof(r));
			slba = le64toh(r.slba);
			end = slba + le32toh(r.nlb);
			if (le32toh(r.nlb) == 0 || slba >= nsze)
				continue;
			if (end > nsze || end < slba)
				end = nsze;
			lo = slba < lo ? slba : lo;
			hi = end > hi ? end : hi;
		}
		if (hi > lo) {
			*off = lo << plan->ns->lba_shift;
			*len = (hi - lo) << plan->ns->lba_shift;
		}
		return;
	}
	default:
		return;
	}
}

/* Take the command's range; false: it waits on the worker's list (RANGE_WAIT). */
static bool range_take(struct cmd *cmd)
{
	uint64_t off, len;
	bool excl;

	range_of(cmd, &off, &len, &excl);
	if (len == 0)
		return true;
	cmd->rl_off = off;
	cmd->rl_len = len;
	cmd->rl_excl = excl;
	if (range_lock_try(cmd->plan.ns->rl, off, len, excl)) {
		cmd->rl_held = true;
		return true;
	}
	cmd_icd_keep(cmd); /* staged data does not outlive this receive */
	cmd_set_state(cmd, CMD_RANGE_WAIT);
	worker_range_wait(cmd->conn->w, cmd);
	return false;
}

/* ---- execution ---- */

/* Reservation Register, Acquire, Release, Report (resv_ns.h). */
static void exec_resv(struct cmd *cmd)
{
	struct ctrl *ctrl = cmd->conn->ctrl;
	uint32_t len = cmd->data_len, out = 0;
	nvme_status_t st;

	if (cmd->sqe.opc == NVME_CMD_RESV_REPORT) {
		len = cmd->plan.len;
		if (len != 0) {
			if (!cmd_get_buf(cmd, len, cmd_io_exec))
				return;
			memset(cmd->data, 0,
			       len); /* a reused buffer: nothing of an earlier command */
		}
	} else if (cmd->data == NULL) {
		cmd_complete_status(cmd, NVME_SC_DNR(GENERIC, SGL_INVALID_DATA));
		return;
	}
	st = resv_ns_exec(ctrl, cmd->plan.ns, &cmd->sqe, cmd->data, len, &out);
	if (st == 0 && cmd->sqe.opc == NVME_CMD_RESV_REPORT)
		cmd->c2h_len = out;
	cmd_complete_status(cmd, st);
}

/* Its reservation allows it, it has its range: to the backend. */
static void io_start(struct cmd *cmd)
{
	struct conn *c = cmd->conn;
	struct io_plan *plan = &cmd->plan;
	struct ns *ns = plan->ns;
	nvme_status_t st = 0;

	if (ns != NULL) {
		st = resv_ns_check(c->ctrl, ns, cmd->sqe.opc, cmd->resv_mark);
		if (st == 0 && plan->fuse == NVME_FUSE_FIRST && cmd->fuse_peer != NULL)
			st = resv_ns_check(c->ctrl, ns, cmd->fuse_peer->sqe.opc,
					   cmd->fuse_peer->resv_mark);
		if (st != 0) {
			if (plan->fuse == NVME_FUSE_FIRST)
				fused_done(cmd, st, NVME_SC(GENERIC, FUSED_FAIL));
			else
				cmd_complete_status(cmd, st);
			return;
		}
		if (!range_take(cmd))
			return;
	}
	cmd->be_idx = 0;
	cmd->rng_left = 0;
	cmd->be_nst = subsys_ns(c->ctrl->subsys);
	if (ns != NULL)
		io_busy_begin(ns, c->w->id, c->w->now_ns);
	if (plan->kind == IO_KIND_COMPARE || plan->kind == IO_KIND_VERIFY) {
		if (ns->be.kind == BE_RAM) {
			/* memory is always readable; a compare reads it in place */
			if (plan->kind == IO_KIND_COMPARE &&
			    !be_ram_equal(&ns->be, plan->offset, cmd->data, plan->len))
				cmd->status = NVME_SC(MEDIA, COMPARE_FAILED);
			io_finish(cmd);
			return;
		}
		if (plan->len != 0) {
			size_t n = plan->kind == IO_KIND_VERIFY && plan->len > VERIFY_CHUNK
					   ? VERIFY_CHUNK
					   : plan->len;

			/* aligned for O_DIRECT; rare commands: no pool buffer held */
			cmd->scratch = aligned_alloc(4096, (n + 4095) & ~(size_t)4095);
			if (cmd->scratch == NULL) {
				cmd->status = NVME_SC(GENERIC, INTERNAL);
				io_finish(cmd);
				return;
			}
		}
		cmd->rng_off = plan->offset;
		cmd->rng_left = plan->kind == IO_KIND_VERIFY ? plan->len : 0;
	}
	be_run(cmd);
}

void cmd_io_resume(struct cmd *cmd)
{
	if (cmd->be_again) { /* its backend operation was refused for now (be_run) */
		be_run(cmd);
		return;
	}
	cmd_set_state(cmd, CMD_EXEC);
	io_start(cmd);
}

/* A fused half has its data: run the pair once both have, else wait (HELD). */
static void fuse_ready(struct cmd *cmd)
{
	struct cmd *peer = cmd->fuse_peer, *first;

	cmd->fuse_ready = true;
	if (peer == NULL || !peer->fuse_ready) {
		cmd_icd_keep(cmd);
		cmd_set_state(cmd, CMD_HELD);
		return;
	}
	first = cmd->plan.fuse == NVME_FUSE_FIRST ? cmd : peer;
	first->fuse_running = first->fuse_peer->fuse_running = true;
	if (first != cmd) {
		cmd_icd_keep(cmd);
		cmd_set_state(cmd, CMD_HELD);
		cmd_set_state(first, CMD_EXEC);
	}
	io_start(first);
}

/* Complete a half whose pair cannot run: now if it waits, else once its data is in. */
static void fuse_fail(struct cmd *cmd, nvme_status_t st)
{
	if (cmd->fuse_peer != NULL) {
		cmd->fuse_peer->fuse_peer = NULL;
		cmd->fuse_peer = NULL;
	}
	if (cmd->st == CMD_HELD && cmd->fuse_ready) {
		cmd_complete_status(cmd, st);
		return;
	}
	cmd->fuse_failed = true;
	cmd->fuse_status = st;
}

/* The same namespace and blocks (SLBA, NLB) in both halves (Base 3.4.2). */
static bool same_range(const struct cmd *a, const struct cmd *b)
{
	return a->sqe.nsid == b->sqe.nsid && a->sqe.cdw10 == b->sqe.cdw10 &&
	       a->sqe.cdw11 == b->sqe.cdw11 &&
	       (le32toh(a->sqe.cdw12) & 0xffff) == (le32toh(b->sqe.cdw12) & 0xffff);
}

nvme_status_t cmd_fuse_arrived(struct cmd *cmd, nvme_status_t st)
{
	struct conn *c = cmd->conn;
	struct cmd *first = c->fuse_first;
	uint32_t fuse = NVMEV(NVME_SQE_FUSE, cmd->sqe.flags);

	if (first != NULL) {
		c->fuse_first = NULL;
		if (fuse == NVME_FUSE_SECOND) {
			if (st != 0) {
				fuse_fail(first, NVME_SC(GENERIC, FUSED_FAIL));
				return st;
			}
			if (!same_range(first, cmd)) {
				fuse_fail(first, NVME_SC_DNR(GENERIC, INVALID_FIELD));
				return NVME_SC_DNR(GENERIC, INVALID_FIELD);
			}
			first->fuse_peer = cmd;
			cmd->fuse_peer = first;
			return 0;
		}
		/* the next command is not its second: the first is alone */
		conn_dbg(c, "cid %u: fused first half without its second", le16toh(first->sqe.cid));
		fuse_fail(first, NVME_SC(GENERIC, FUSED_MISSING));
	} else if (fuse == NVME_FUSE_SECOND) {
		conn_dbg(c, "cid %u: fused second half without a first", le16toh(cmd->sqe.cid));
		return st != 0 ? st : NVME_SC(GENERIC, FUSED_MISSING);
	}
	if (fuse == NVME_FUSE_FIRST && st == 0)
		c->fuse_first = cmd;
	return st;
}

void cmd_fuse_detach(struct cmd *cmd)
{
	struct cmd *peer = cmd->fuse_peer;

	if (cmd->conn->fuse_first == cmd)
		cmd->conn->fuse_first = NULL;
	if (peer == NULL)
		return;
	cmd->fuse_peer = NULL;
	peer->fuse_peer = NULL;
	/* completed before the pair ran (an error, a digest error): the other is aborted */
	if (!cmd->fuse_running)
		fuse_fail(peer, NVME_SC(GENERIC, FUSED_FAIL));
}

void cmd_io_exec(struct cmd *cmd)
{
	const struct io_plan *plan = &cmd->plan;

	if (cmd->st == CMD_NEED_BUF) /* called again with the buffer it waited for */
		cmd_set_state(cmd, CMD_EXEC);
	if (cmd->fuse_failed) {
		cmd_complete_status(cmd, cmd->fuse_status);
		return;
	}
	switch (plan->kind) {
	case IO_KIND_RESV:
		exec_resv(cmd);
		return;
	case IO_KIND_COMPARE:
		if (cmd->data == NULL && plan->len != 0) {
			cmd_complete_status(cmd, NVME_SC_DNR(GENERIC, SGL_INVALID_DATA));
			return;
		}
		break;
	case IO_KIND_VERIFY:
		break;
	default:
		switch (plan->op) {
		case BE_OP_READ:
			if (plan->ns->be.kind != BE_RAM) {
				if (!cmd_get_buf(cmd, plan->len, cmd_io_exec))
					return;
				break;
			}
			/*
			 * Straight from the store to the socket: no copy at
			 * all. Not with data digests: the digest is computed
			 * when the PDU is built, the kernel takes the bytes
			 * later (after a short send, or a zero-copy one), and a
			 * write landing in between would send bytes the digest
			 * does not cover, a transport error that resets the
			 * host's association
			 * (tests/integration/ddgst_overwrite.py). Then each
			 * C2HData PDU copies its data into a buffer of ours as
			 * it is built, the CRC folded into that copy.
			 */
			if (cmd->conn->p.ddgst && !cmd_get_buf(cmd, plan->len, cmd_io_exec))
				return;
			if (cmd->ram_ref.rc == NULL) {
				uint8_t *p = be_ram_map(&plan->ns->be, plan->offset, plan->len,
							&cmd->ram_ref);

				/* across chunks apart in memory: read into a buffer (cmd.h) */
				if (p == NULL) {
					if (!cmd_get_buf(cmd, plan->len, cmd_io_exec))
						return;
					break;
				}
				cmd->c2h_copy = cmd->conn->p.ddgst;
				cmd->data = p;
			}
			break;
		case BE_OP_DEALLOCATE:
			/* nr_ranges is 0 without Attribute Deallocate: hints only, done */
			if ((uint64_t)plan->nr_ranges * sizeof(struct nvme_dsm_range) >
				    cmd->data_len ||
			    (plan->nr_ranges != 0 && cmd->data == NULL)) {
				cmd_complete_status(cmd, NVME_SC_DNR(GENERIC, SGL_INVALID_DATA));
				return;
			}
			break;
		default:
			break;
		}
	}
	if (plan->fuse != NVME_FUSE_NONE) {
		fuse_ready(cmd);
		return;
	}
	io_start(cmd);
}
