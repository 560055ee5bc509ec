/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Admin commands on the admin queue (NVMe Base 2.0, "Base" below): the
 * dispatch of every command an admin queue takes, Set / Get Features,
 * Keep Alive, Asynchronous Event Request, Abort. Identify is in
 * admin_identify.c, Get Log Page in admin_log.c, the Fabrics commands
 * (NVMe over Fabrics 1.1, "oF") in fabrics_cmd.c.
 */
#include "ctrl_internal.h"

#include <string.h>

#include "log.h"
#include "resv_ns.h"

void ascii_pad(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n);

	memcpy(dst, src, len);
	memset(dst + len, ' ', n - len);
}

/* ---- Set / Get Features (Base 5.27) ---- */

static bool feature_supported(const struct ctrl *c, uint8_t fid)
{
	switch (fid) {
	case NVME_FEAT_ASYNC_EVENT:
	case NVME_FEAT_KATO:
		return true;
	case NVME_FEAT_TEMP_THRESH:
	case NVME_FEAT_VOLATILE_WC:
	case NVME_FEAT_NUM_QUEUES:
	case NVME_FEAT_RESV_MASK:
	case NVME_FEAT_RESV_PERSIST:
		/* a discovery controller has only 0Bh and 0Fh (as nvmet) */
		return !ctrl_is_disc(c);
	default:
		return false;
	}
}

static uint32_t aen_supported(const struct ctrl *c)
{
	return ctrl_is_disc(c) ? AEN_DISC_CHANGE : AEN_NS_ATTR | AEN_SMART_CRIT;
}

static uint32_t max_queues(const struct ctrl *c)
{
	uint32_t n = c->t->p.max_io_queues;

	return n > CTRL_MAX_IO_QUEUES ? CTRL_MAX_IO_QUEUES : n ? n : 1;
}

/* Base 5.27.1.7: Number of Queues, NSQR / NCQR 0's based; 65535 is invalid. */
static nvme_status_t set_num_queues(struct ctrl *c, uint32_t cdw11, uint32_t *dw0)
{
	uint32_t nsqr = cdw11 & 0xffff, ncqr = cdw11 >> 16, max = max_queues(c);
	uint32_t nsqa = nsqr + 1 < max ? nsqr + 1 : max, ncqa = ncqr + 1 < max ? ncqr + 1 : max;
	struct target *t = c->t;
	bool busy = false;

	if (nsqr == 0xffff || ncqr == 0xffff)
		return SC_INVALID_FIELD;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < CTRL_MAX_IO_QUEUES / 64; i++)
		busy |= atomic_load(&c->io_qmap[i]) != 0;
	if (!busy) {
		c->nr_io_queues = (uint16_t)(nsqa < ncqa ? nsqa : ncqa);
		c->nr_io_queues_set = true;
	}
	pthread_mutex_unlock(&t->lock);
	/* "only ... prior to creation of any I/O Submission and/or Completion Queues" */
	if (busy)
		return SC_CMD_SEQ;
	*dw0 = NVME_FEAT_NQ(nsqa - 1, ncqa - 1);
	return 0;
}

/* Temperature Threshold: TMPTH 15:0, TMPSEL 19:16, THSEL 21:20 (0 over, 1 under). */
static nvme_status_t temp_thresh_check(uint32_t cdw11)
{
	uint32_t tmpsel = (cdw11 >> 16) & 0xf, thsel = (cdw11 >> 20) & 0x3;

	/* the composite temperature (0) or all sensors (Fh), over or under */
	if ((tmpsel != 0 && tmpsel != 0xf) || thsel > 1)
		return SC_INVALID_FIELD;
	return 0;
}

/*
 * Reservation Notification Mask (82h) and Reservation Persistence (83h),
 * namespace specific (Base 5.27.1.19-20). NSID FFFFFFFFh sets the mask of
 * every namespace; the others need one namespace.
 */
#define RESV_MASK_BITS (NVME_RESV_MASK_REGPRE | NVME_RESV_MASK_RESREL | NVME_RESV_MASK_RESPRE)

static nvme_status_t resv_feature(struct ctrl *c, struct ctrl_req *r, uint8_t fid, bool set,
				  bool dflt)
{
	uint32_t nsid = le32toh(r->sqe->nsid), cdw11 = sqe_dw(r->sqe->cdw11);
	struct ns *ns = NULL;

	if (set && fid == NVME_FEAT_RESV_MASK && nsid == NVME_NSID_ALL) {
		if (cdw11 & ~RESV_MASK_BITS)
			return SC_INVALID_FIELD;
		return ctrl_resv_mask_set(c, nsid, (uint8_t)cdw11);
	}
	if (nsid != 0 && nsid != NVME_NSID_ALL)
		ns = subsys_find_ns(c->subsys, nsid);
	if (ns == NULL)
		return nsid == NVME_NSID_ALL ? SC_INVALID_FIELD : SC_INVALID_NS;
	if (fid == NVME_FEAT_RESV_MASK) {
		if (!set) {
			r->dw0 = dflt ? 0 : ctrl_resv_mask(c, nsid);
			return 0;
		}
		if (cdw11 & ~RESV_MASK_BITS)
			return SC_INVALID_FIELD;
		return ctrl_resv_mask_set(c, nsid, (uint8_t)cdw11);
	}
	if (!set) {
		r->dw0 = dflt ? 0 : resv_ns_ptpl(ns);
		return 0;
	}
	return resv_ns_set_ptpl(ns, cdw11 & 1);
}

static nvme_status_t set_features(struct ctrl *c, struct ctrl_req *r)
{
	uint32_t cdw10 = sqe_dw(r->sqe->cdw10), cdw11 = sqe_dw(r->sqe->cdw11);
	uint8_t fid = (uint8_t)NVMEV(NVME_FEAT_FID, cdw10);

	if (r->buf_len != 0)
		return SC_SGL_LENGTH;
	if (!feature_supported(c, fid))
		return SC_INVALID_FIELD;
	if (cdw10 & NVME_FEAT_SV)
		return NVME_SC_DNR(COMMAND_SPECIFIC, FEATURE_NOT_SAVEABLE);
	switch (fid) {
	case NVME_FEAT_NUM_QUEUES:
		return set_num_queues(c, cdw11, &r->dw0);
	case NVME_FEAT_ASYNC_EVENT:
		if (cdw11 & ~aen_supported(c))
			return SC_INVALID_FIELD;
		c->aen_cfg = cdw11;
		return 0;
	case NVME_FEAT_KATO:
		c->kato_ms = ctrl_kato_round(cdw11);
		return 0;
	case NVME_FEAT_VOLATILE_WC:
		/* WCE 0: the connection code makes every write FUA */
		__atomic_store_n(&c->vwc, (cdw11 & 1) != 0, __ATOMIC_RELAXED);
		return 0;
	case NVME_FEAT_TEMP_THRESH:
		/* accepted, not kept: there is no sensor to compare it with */
		return temp_thresh_check(cdw11);
	case NVME_FEAT_RESV_MASK:
	case NVME_FEAT_RESV_PERSIST:
		return resv_feature(c, r, fid, true, false);
	}
	return SC_INVALID_FIELD;
}

/* Get Features SEL (Base 5.15): 0 current, 1 default, 2 saved, 3 capabilities. */
enum { SEL_CURRENT, SEL_DEFAULT, SEL_SAVED, SEL_CAPS };
#define FEAT_CAP_NS_SPECIFIC (1u << 1)
#define FEAT_CAP_CHANGEABLE  (1u << 2)

static uint32_t feature_value(const struct ctrl *c, uint8_t fid, uint32_t cdw11, bool dflt)
{
	uint32_t n;

	switch (fid) {
	case NVME_FEAT_TEMP_THRESH:
		return ((cdw11 >> 20) & 0x3) == 0 ? CTRL_WCTEMP : 0;
	case NVME_FEAT_VOLATILE_WC:
		return dflt ? 1 : __atomic_load_n(&c->vwc, __ATOMIC_RELAXED);
	case NVME_FEAT_NUM_QUEUES:
		/* before Set Features, what it would grant at most */
		n = dflt || !c->nr_io_queues_set ? max_queues(c) : c->nr_io_queues;
		return NVME_FEAT_NQ(n - 1, n - 1);
	case NVME_FEAT_ASYNC_EVENT:
		return dflt ? 0 : c->aen_cfg;
	case NVME_FEAT_KATO:
		if (dflt)
			return ctrl_is_disc(c) ? ctrl_kato_round(c->t->p.kato_default_ms) : 0;
		return c->kato_ms;
	}
	return 0;
}

static nvme_status_t get_features(struct ctrl *c, struct ctrl_req *r)
{
	uint32_t cdw10 = sqe_dw(r->sqe->cdw10), cdw11 = sqe_dw(r->sqe->cdw11);
	uint8_t fid = (uint8_t)NVMEV(NVME_FEAT_FID, cdw10);
	uint32_t sel = NVMEV(NVME_FEAT_SEL, cdw10);
	nvme_status_t st;

	if (r->buf_len != 0)
		return SC_SGL_LENGTH;
	if (!feature_supported(c, fid) || sel > SEL_CAPS)
		return SC_INVALID_FIELD;
	if (fid == NVME_FEAT_TEMP_THRESH && (st = temp_thresh_check(cdw11)) != 0)
		return st;
	if (sel == SEL_CAPS) {
		/* changeable, not saveable; 82h, 83h namespace specific */
		r->dw0 = FEAT_CAP_CHANGEABLE;
		if (fid == NVME_FEAT_RESV_MASK || fid == NVME_FEAT_RESV_PERSIST)
			r->dw0 |= FEAT_CAP_NS_SPECIFIC;
		return 0;
	}
	if (fid == NVME_FEAT_RESV_MASK || fid == NVME_FEAT_RESV_PERSIST)
		return resv_feature(c, r, fid, false, sel != SEL_CURRENT);
	/* nothing is saveable: "saved" reports the default */
	r->dw0 = feature_value(c, fid, cdw11, sel != SEL_CURRENT);
	return 0;
}

/* ---- Keep Alive, Abort, Asynchronous Event Request ---- */

static nvme_status_t keep_alive(struct ctrl *c, struct ctrl_req *r)
{
	if (r->buf_len != 0)
		return SC_SGL_LENGTH;
	/* the timer itself is ctrl_touch's; with KATO 0 there is none (as nvmet) */
	if (c->kato_ms == 0)
		return NVME_SC_DNR(GENERIC, KA_TIMEOUT_INVALID);
	return 0;
}

static nvme_status_t abort_cmd(struct ctrl *c, struct ctrl_req *r)
{
	(void)c;
	if (r->buf_len != 0)
		return SC_SGL_LENGTH;
	/* Base 5.1: dword 0 bit 0 set: the command was not aborted (as nvmet) */
	r->dw0 = 1;
	return 0;
}

static enum ctrl_exec async_event(struct ctrl *c, struct ctrl_req *r)
{
	uint32_t result;

	if (r->buf_len != 0) {
		r->status = SC_SGL_LENGTH;
		return CTRL_EXEC_DONE;
	}
	/* an event already waits: this request reports it at once */
	if (ctrl_aen_take(c, &result)) {
		r->dw0 = result;
		return CTRL_EXEC_DONE;
	}
	if (c->naer >= TARGET_AERL) {
		r->status = NVME_SC_DNR(COMMAND_SPECIFIC, ASYNC_LIMIT);
		return CTRL_EXEC_DONE;
	}
	c->aer_cid[c->naer++] = r->sqe->cid;
	return CTRL_EXEC_HELD;
}

/* ---- dispatch ---- */

static nvme_status_t admin_dispatch(struct ctrl *c, struct ctrl_req *r)
{
	switch (r->sqe->opc) {
	case NVME_ADM_IDENTIFY:
		return admin_identify(c, r);
	case NVME_ADM_GET_LOG_PAGE:
		return admin_get_log_page(c, r);
	case NVME_ADM_SET_FEATURES:
		return set_features(c, r);
	case NVME_ADM_GET_FEATURES:
		return get_features(c, r);
	case NVME_ADM_KEEP_ALIVE:
		return keep_alive(c, r);
	case NVME_ADM_ABORT:
		/* a discovery controller has only the commands of oF 5 Figure 31 */
		if (!ctrl_is_disc(c))
			return abort_cmd(c, r);
		break;
	}
	return SC_INVALID_OPC;
}

/* FUSE and PSDT of any command (as nvmet_req_init): no fused commands, SGLs only. */
static nvme_status_t check_flags(const struct nvme_sqe *sqe)
{
	if (NVMEV(NVME_SQE_FUSE, sqe->flags) != 0)
		return SC_INVALID_FIELD;
	if (NVMEV(NVME_SQE_PSDT, sqe->flags) != NVME_PSDT_SGL_MPTR_CONTIG)
		return SC_INVALID_FIELD;
	return 0;
}

enum ctrl_exec ctrl_admin_exec(struct ctrl *c, struct ctrl_req *r)
{
	const struct nvme_sqe *sqe = r->sqe;

	r->status = 0;
	r->dw0 = 0;
	r->dw1 = 0;
	r->out_len = 0;
	r->status = check_flags(sqe);
	if (r->status)
		return CTRL_EXEC_DONE;
	if (sqe->opc == NVME_ADM_FABRICS) {
		r->status = ctrl_fabrics_exec(c, r);
		return CTRL_EXEC_DONE;
	}
	/* Base 3.5.1 / nvmet_check_ctrl_status: nothing but Fabrics before CC.EN, CSTS.RDY */
	if (!NVMEV(NVME_CC_EN, c->props.cc) || !props_ready(&c->props)) {
		r->status = SC_CMD_SEQ;
		return CTRL_EXEC_DONE;
	}
	if (sqe->opc == NVME_ADM_ASYNC_EVENT)
		return async_event(c, r);
	r->status = admin_dispatch(c, r);
	return CTRL_EXEC_DONE;
}
