/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I/O command checks (NVM Command Set 1.0, "NVM" below; NVMe Base 2.0,
 * "Base"): pure functions of the command, the controller and the
 * namespace, called on any worker; and the per-worker counters.
 */
#include "ctrl_internal.h"

#include <errno.h>

#define SC_LBA_RANGE (NVME_SC_DNR(GENERIC, LBA_RANGE))
#define SC_WP	     (NVME_SC_DNR(GENERIC, NS_WRITE_PROTECTED))

static uint64_t sqe_slba(const struct nvme_sqe *sqe)
{
	return sqe_dw(sqe->cdw10) | (uint64_t)sqe_dw(sqe->cdw11) << 32;
}

/* slba + nlb within the namespace, without overflow (NVM 3.3: LBA Out of Range). */
static bool lba_range_ok(const struct ns *ns, uint64_t slba, uint64_t nlb)
{
	uint64_t nsze = ns_blocks(ns);

	return slba <= nsze && nlb <= nsze - slba;
}

/* Read, Write, Write Zeroes: SLBA, NLB (0's based), FUA (NVM 3.2.4, 3.2.6, 3.2.8). */
static nvme_status_t check_rw(const struct ctrl *c, const struct nvme_sqe *sqe, struct ns *ns,
			      uint32_t sgl_len, struct io_plan *plan)
{
	uint32_t cdw12 = sqe_dw(sqe->cdw12);
	uint64_t slba = sqe_slba(sqe), nlb = (uint64_t)NVMEV(NVME_RW_NLB, cdw12) + 1;
	uint64_t bytes = nlb << ns->lba_shift;
	bool wz = sqe->opc == NVME_CMD_WRITE_ZEROES;

	if (!lba_range_ok(ns, slba, nlb))
		return SC_LBA_RANGE;
	if (sqe->opc == NVME_CMD_VERIFY) {
		/* NVM 3.2.x Verify: no data moves; no MDTS for it (VSL 0) */
		if (sgl_len != 0)
			return SC_SGL_LENGTH;
		plan->offset = slba << ns->lba_shift;
		plan->len = (uint32_t)bytes; /* at most 65536 blocks of 4 KiB: 256 MiB */
		return 0;
	}
	if (wz) {
		/* no data: the zeroes are ours to write; no MDTS (WZSL 0) */
		if (sgl_len != 0)
			return SC_SGL_LENGTH;
	} else {
		/* Base 5.17.2.1 MDTS: a larger transfer is Invalid Field in Command */
		if (bytes > c->t->p.mdts_bytes)
			return SC_INVALID_FIELD;
		if (bytes != sgl_len)
			return SC_SGL_LENGTH;
	}
	plan->offset = slba << ns->lba_shift;
	plan->len = (uint32_t)bytes;
	if (sqe->opc == NVME_CMD_WRITE || wz) {
		/*
		 * A host that turned the volatile write cache off gets
		 * write-through: Write Zeroes too (NVM 3.2.8: FUA applies).
		 */
		plan->fua = (cdw12 & NVME_RW_FUA) || !__atomic_load_n(&c->vwc, __ATOMIC_RELAXED);
	}
	plan->deac = wz && (cdw12 & NVME_WZ_DEAC);
	return 0;
}

/* Dataset Management (NVM 3.2.3): NR 0's based, 16-byte ranges in the data. */
static nvme_status_t check_dsm(const struct ctrl *c, const struct nvme_sqe *sqe, uint32_t sgl_len,
			       struct io_plan *plan)
{
	uint32_t nr = NVMEV(NVME_DSM_NR, sqe_dw(sqe->cdw10)) + 1;

	/* at least the ranges NR names: the Linux host always sends a 4 KiB page */
	if (sgl_len < nr * sizeof(struct nvme_dsm_range))
		return SC_SGL_LENGTH;
	/* only AD asks for anything; IDR / IDW alone are hints: nothing to do */
	plan->nr_ranges = (sqe_dw(sqe->cdw11) & NVME_DSM_AD) ? nr : 0;
	/*
	 * With the write cache off, what completed is durable (Base 5.27.1.4):
	 * a punched hole must not reappear as old data after a crash.
	 */
	plan->fua = !__atomic_load_n(&c->vwc, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Reservation commands (Base 7.2-7.5): Register and Acquire carry 16 bytes,
 * Release 8, Report returns NUMD + 1 dwords (no more than MDTS).
 */
static nvme_status_t check_resv(const struct ctrl *c, const struct nvme_sqe *sqe, uint32_t sgl_len,
				struct io_plan *plan)
{
	uint64_t numd;

	switch (sqe->opc) {
	case NVME_CMD_RESV_REGISTER:
	case NVME_CMD_RESV_ACQUIRE:
		return sgl_len < 16 ? SC_SGL_LENGTH : 0;
	case NVME_CMD_RESV_RELEASE:
		return sgl_len < 8 ? SC_SGL_LENGTH : 0;
	default:
		numd = (uint64_t)sqe_dw(sqe->cdw10) + 1;
		if (numd * 4 > c->t->p.mdts_bytes)
			return SC_INVALID_FIELD;
		plan->len = (uint32_t)(numd * 4 < sgl_len ? numd * 4 : sgl_len);
		return 0;
	}
}

static bool op_for(uint8_t opc, enum be_op *op, uint8_t *kind)
{
	*kind = IO_KIND_BE;
	switch (opc) {
	case NVME_CMD_READ:
		*op = BE_OP_READ;
		return true;
	case NVME_CMD_COMPARE:
		*op = BE_OP_READ;
		*kind = IO_KIND_COMPARE;
		return true;
	case NVME_CMD_VERIFY:
		*op = BE_OP_READ;
		*kind = IO_KIND_VERIFY;
		return true;
	case NVME_CMD_RESV_REGISTER:
	case NVME_CMD_RESV_REPORT:
	case NVME_CMD_RESV_ACQUIRE:
	case NVME_CMD_RESV_RELEASE:
		*op = BE_OP_READ; /* unused */
		*kind = IO_KIND_RESV;
		return true;
	case NVME_CMD_WRITE:
		*op = BE_OP_WRITE;
		return true;
	case NVME_CMD_FLUSH:
		*op = BE_OP_FLUSH;
		return true;
	case NVME_CMD_WRITE_ZEROES:
		*op = BE_OP_WRITE_ZEROES;
		return true;
	case NVME_CMD_DSM:
		*op = BE_OP_DEALLOCATE;
		return true;
	}
	return false;
}

nvme_status_t io_check(const struct ctrl *c, const struct nvme_sqe *sqe, uint32_t sgl_len,
		       struct io_plan *plan)
{
	uint32_t nsid = le32toh(sqe->nsid);
	struct ns *ns;
	nvme_status_t st;

	memset(plan, 0, sizeof(*plan));
	/* PSDT 01b (SGL) is what Fabrics uses */
	if (NVMEV(NVME_SQE_PSDT, sqe->flags) != NVME_PSDT_SGL_MPTR_CONTIG)
		return SC_INVALID_FIELD;
	/* Base 3.4.2: the one fused operation we have (FUSES) is Compare and Write */
	plan->fuse = (uint8_t)NVMEV(NVME_SQE_FUSE, sqe->flags);
	if ((plan->fuse == NVME_FUSE_FIRST && sqe->opc != NVME_CMD_COMPARE) ||
	    (plan->fuse == NVME_FUSE_SECOND && sqe->opc != NVME_CMD_WRITE) || plan->fuse == 3)
		return SC_INVALID_FIELD;
	/* Base 3.7.2: after CC.EN 1 -> 0 nothing runs until re-enabled */
	if (!atomic_load_explicit(&c->enabled, memory_order_relaxed))
		return SC_CMD_SEQ;
	if (!op_for(sqe->opc, &plan->op, &plan->kind))
		return SC_INVALID_OPC;
	if (sqe->opc == NVME_CMD_FLUSH && nsid == NVME_NSID_ALL) {
		/* every namespace (VWC bits 2:1 = 11b); plan->ns NULL says so */
		if (sgl_len != 0)
			return SC_SGL_LENGTH;
		return ana_io_status(c, NULL);
	}
	ns = nsid == 0 || nsid == NVME_NSID_ALL ? NULL : subsys_find_ns(c->subsys, nsid);
	if (ns == NULL)
		return SC_INVALID_NS;
	plan->ns = ns;
	/* Base 8.1.3, as nvmet_check_ana_state: this path cannot serve the namespace */
	st = ana_io_status(c, ns);
	if (st)
		return st;
	/* NVM 3.3.1, as nvmet: anything that modifies a read-only namespace */
	if (ns->read_only && plan->kind == IO_KIND_BE && sqe->opc != NVME_CMD_READ &&
	    sqe->opc != NVME_CMD_FLUSH)
		return SC_WP;
	switch (sqe->opc) {
	case NVME_CMD_FLUSH:
		return sgl_len != 0 ? SC_SGL_LENGTH : 0;
	case NVME_CMD_RESV_REGISTER:
	case NVME_CMD_RESV_REPORT:
	case NVME_CMD_RESV_ACQUIRE:
	case NVME_CMD_RESV_RELEASE:
		return check_resv(c, sqe, sgl_len, plan);
	case NVME_CMD_DSM:
		return check_dsm(c, sqe, sgl_len, plan);
	default:
		return check_rw(c, sqe, ns, sgl_len, plan);
	}
}

/* One DSM range: SLBA, and a length in blocks that is NOT 0's based (NVM Figure 40). */
nvme_status_t io_dsm_range(const struct ns *ns, const struct nvme_dsm_range *range,
			   uint64_t *offset, uint64_t *len)
{
	uint64_t slba = le64toh(range->slba), nlb = le32toh(range->nlb);

	if (!lba_range_ok(ns, slba, nlb))
		return SC_LBA_RANGE;
	*offset = slba << ns->lba_shift;
	*len = nlb << ns->lba_shift;
	return 0;
}

/*
 * Backend errors. Media errors (-EIO) carry no DNR: a retry may succeed.
 * -EOPNOTSUPP (a store that cannot zero or deallocate) is Invalid Command
 * Opcode, which the Linux host turns into BLK_STS_NOTSUPP and stops sending
 * that command (writing zeroes itself instead).
 *
 * A store that this target cannot reach while others may (an RBD cluster
 * that does not answer within its timeout, or that has fenced this gateway:
 * librbd's -ETIMEDOUT, -ESHUTDOWN = EBLOCKLISTED, -ENOTCONN) is Internal
 * Path Error (Base 2.0, Figure 105, SCT 3h): a path error, which a
 * multipath host retries on another path, and any host retries.
 */
nvme_status_t io_errno_status(int err, enum be_op op)
{
	switch (err) {
	case 0:
		return 0;
	case -EIO:
		return op == BE_OP_READ ? NVME_SC(MEDIA, READ_ERROR) : NVME_SC(MEDIA, WRITE_FAULT);
	case -ENOSPC:
	case -EDQUOT:
		return NVME_SC_DNR(GENERIC, CAP_EXCEEDED);
	case -EROFS:
	case -EPERM:
	case -EACCES:
		return SC_WP; /* the store refuses writes: as the host sees it, write protected */
	case -EINVAL:
		return SC_INVALID_FIELD;
	case -EOPNOTSUPP:
		return SC_INVALID_OPC;
	case -ETIMEDOUT:
	case -ESHUTDOWN:
	case -ENOTCONN:
	case -ECONNREFUSED:
		return NVME_SC(PATH, INTERNAL_PATH_ERROR);
	default:
		return NVME_SC(GENERIC, INTERNAL);
	}
}

void io_busy_begin(struct ns *ns, unsigned int worker, int64_t now_ns)
{
	struct ns_stats *s = &ns->stats[worker];

	if (s->inflight++ == 0)
		s->busy_since_ns = now_ns;
}

void io_busy_end(struct ns *ns, unsigned int worker, int64_t now_ns)
{
	struct ns_stats *s = &ns->stats[worker];

	if (s->inflight == 0 || --s->inflight != 0 || now_ns <= s->busy_since_ns)
		return;
	atomic_store_explicit(&s->busy_ns,
			      atomic_load_explicit(&s->busy_ns, memory_order_relaxed) +
				      (uint64_t)(now_ns - s->busy_since_ns),
			      memory_order_relaxed);
}

void io_account(struct ns *ns, unsigned int worker, const struct io_plan *plan,
		nvme_status_t status)
{
	struct ns_stats *s = &ns->stats[worker];
	uint64_t blocks = plan->len >> 9;

	if (status != 0) {
		if (NVME_STATUS_SCT(status) == NVME_SCT_MEDIA)
			atomic_fetch_add_explicit(&s->media_errors, 1, memory_order_relaxed);
		return;
	}
	switch (plan->op) {
	case BE_OP_READ:
		atomic_fetch_add_explicit(&s->read_cmds, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->read_blocks, blocks, memory_order_relaxed);
		break;
	case BE_OP_WRITE:
		atomic_fetch_add_explicit(&s->write_cmds, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->write_blocks, blocks, memory_order_relaxed);
		break;
	case BE_OP_WRITE_ZEROES:
		/* a write command; no data moved, so no data units */
		atomic_fetch_add_explicit(&s->write_cmds, 1, memory_order_relaxed);
		break;
	default:
		break;
	}
}
