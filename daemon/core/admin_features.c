/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Set Features and Get Features (NVMe Base 2.0 5.27 and 5.15, "Base"
 * below; NVMe over Fabrics 1.1, "oF"): the features an I/O controller has
 * (Base Figure 317 lists the mandatory ones) and those a discovery
 * controller has (oF 5: 0Bh and 0Fh only, as nvmet). Values live in the
 * controller (ctrl.h) and go back to their defaults on a controller reset;
 * nothing is saveable (SV: Feature Identifier Not Saveable; SEL 010b
 * reports the default), and SEL 011b reports what each feature is.
 */
#include "ctrl_internal.h"

#include <string.h>

#include "resv_ns.h"

/* Get Features SEL (Base 5.15): 0 current, 1 default, 2 saved, 3 capabilities. */
enum { SEL_CURRENT, SEL_DEFAULT, SEL_SAVED, SEL_CAPS };

/* Capabilities (Base Figure 197): bit 0 saveable, 1 namespace specific, 2 changeable. */
#define CAP_NS_SPECIFIC (1u << 1)
#define CAP_CHANGEABLE	(1u << 2)

#define ARB_DEFAULT  7u /* AB 111b: no arbitration burst limit (as SPDK's target) */
#define ARB_RESERVED 0xf8u
#define PM_PS_MASK   0x1fu /* PS 4:0; WH 7:5; the rest reserved */
#define PM_WH_MASK   0xe0u
#define ER_DULBE     (1u << 16) /* Error Recovery: deallocated or unwritten block error */
#define HOSTID_EXHID 1u		/* Host Identifier: 128-bit */

void ctrl_features_reset(struct ctrl *c)
{
	c->feat_arb = ARB_DEFAULT;
	c->feat_pm = 0;
	c->feat_err_rec = 0;
	c->feat_irq_coal = 0;
	c->tmpth_over = CTRL_WCTEMP;
	c->tmpth_under = 0;
}

/*
 * Base 5.27.1.4: a temperature at or above the over threshold, or at or
 * below the under threshold, is the SMART critical warning bit 1 (the
 * composite temperature is the constant CTRL_TEMPERATURE: no sensor).
 */
bool ctrl_temp_warning(const struct ctrl *c)
{
	return CTRL_TEMPERATURE >= c->tmpth_over || CTRL_TEMPERATURE <= c->tmpth_under;
}

static bool feature_supported(const struct ctrl *c, uint8_t fid)
{
	switch (fid) {
	case NVME_FEAT_ASYNC_EVENT:
	case NVME_FEAT_KATO:
		return true;
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_POWER_MGMT:
	case NVME_FEAT_TEMP_THRESH:
	case NVME_FEAT_ERR_RECOVERY:
	case NVME_FEAT_VOLATILE_WC:
	case NVME_FEAT_NUM_QUEUES:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_HOST_ID:
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
	return ctrl_is_disc(c) ? AEN_DISC_CHANGE : AEN_NS_ATTR | AEN_ANA_CHANGE | AEN_SMART_CRIT;
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

/*
 * Temperature Threshold (Base 5.27.1.4): TMPTH 15:0, TMPSEL 19:16, THSEL
 * 21:20. TMPSEL 0h is the composite temperature, the only one there is:
 * sensors 1h-8h are not implemented (Invalid Field, as the specification
 * says for a sensor that is not), Fh ("all implemented sensors") is the
 * composite too. THSEL 00b over, 01b under; 10b and 11b are reserved.
 */
static nvme_status_t temp_sel(uint32_t cdw11, uint16_t **slot, struct ctrl *c)
{
	uint32_t tmpsel = (cdw11 >> 16) & 0xf, thsel = (cdw11 >> 20) & 0x3;

	if ((tmpsel != 0 && tmpsel != 0xf) || thsel > 1)
		return SC_INVALID_FIELD;
	*slot = thsel == 0 ? &c->tmpth_over : &c->tmpth_under;
	return 0;
}

/* A threshold now crossed is a SMART / Health event (Base 5.2, 5.27.1.4). */
static void set_temp_thresh(struct ctrl *c, uint16_t *slot, uint16_t value)
{
	bool before = ctrl_temp_warning(c);

	*slot = value;
	if (!before && ctrl_temp_warning(c))
		ctrl_notify_smart(c, AEN_SMART_TEMP);
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

nvme_status_t admin_set_features(struct ctrl *c, struct ctrl_req *r)
{
	uint32_t cdw10 = sqe_dw(r->sqe->cdw10), cdw11 = sqe_dw(r->sqe->cdw11);
	uint8_t fid = (uint8_t)NVMEV(NVME_FEAT_FID, cdw10);
	uint16_t *slot;
	nvme_status_t st;

	if (r->buf_len != 0)
		return SC_SGL_LENGTH;
	if (!feature_supported(c, fid))
		return SC_INVALID_FIELD;
	if (cdw10 & NVME_FEAT_SV)
		return NVME_SC_DNR(COMMAND_SPECIFIC, FEATURE_NOT_SAVEABLE);
	switch (fid) {
	case NVME_FEAT_ARBITRATION:
		/* AB, LPW, MPW, HPW kept; round robin only (CAP.AMS 0), so no effect */
		c->feat_arb = cdw11 & ~ARB_RESERVED;
		return 0;
	case NVME_FEAT_POWER_MGMT:
		/* NPSS 0: power state 0 only; no workload hints (Base 5.27.1.2) */
		if ((cdw11 & PM_PS_MASK) != 0 || (cdw11 & PM_WH_MASK) != 0)
			return SC_INVALID_FIELD;
		c->feat_pm = 0;
		return 0;
	case NVME_FEAT_TEMP_THRESH:
		st = temp_sel(cdw11, &slot, c);
		if (st == 0)
			set_temp_thresh(c, slot, (uint16_t)(cdw11 & 0xffff));
		return st;
	case NVME_FEAT_ERR_RECOVERY:
		/* TLER kept (nothing here retries); DULBE needs errors we do not raise */
		if (cdw11 & ER_DULBE)
			return SC_INVALID_FIELD;
		c->feat_err_rec = cdw11 & 0xffff;
		return 0;
	case NVME_FEAT_IRQ_COALESCE:
		/*
		 * THR 7:0, TIME 15:8: for I/O completion queues of a PCIe
		 * controller; a Fabrics controller has no interrupts, so the
		 * value is kept and reported, and changes nothing (SPDK's
		 * target reports it too).
		 */
		c->feat_irq_coal = cdw11 & 0xffff;
		return 0;
	case NVME_FEAT_HOST_ID:
		/* oF 3.3: the Host Identifier is the HOSTID of Connect (as SPDK) */
		return SC_CMD_SEQ;
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
	case NVME_FEAT_RESV_MASK:
	case NVME_FEAT_RESV_PERSIST:
		return resv_feature(c, r, fid, true, false);
	}
	return SC_INVALID_FIELD;
}

static uint32_t feature_value(struct ctrl *c, uint8_t fid, uint32_t cdw11, bool dflt)
{
	uint16_t *slot = NULL;
	uint32_t n;

	switch (fid) {
	case NVME_FEAT_ARBITRATION:
		return dflt ? ARB_DEFAULT : c->feat_arb;
	case NVME_FEAT_POWER_MGMT:
		return dflt ? 0 : c->feat_pm;
	case NVME_FEAT_TEMP_THRESH:
		/* TMPSEL / THSEL checked by the caller; dword 0 is TMPTH (as qemu) */
		(void)temp_sel(cdw11, &slot, c);
		if (dflt)
			return slot == &c->tmpth_over ? CTRL_WCTEMP : 0;
		return *slot;
	case NVME_FEAT_ERR_RECOVERY:
		return dflt ? 0 : c->feat_err_rec;
	case NVME_FEAT_IRQ_COALESCE:
		return dflt ? 0 : c->feat_irq_coal;
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
	case NVME_FEAT_HOST_ID:
		return 0; /* the identifier is in the data */
	}
	return 0;
}

/*
 * Host Identifier (Base 5.27.1.26): the 128-bit HOSTID of Connect in 16
 * bytes of data. EXHID 0 asks for a 64-bit identifier, which a controller
 * that requires the 128-bit one (CTRATT bit 0) does not have: Invalid
 * Field (as nvmet and SPDK).
 */
static nvme_status_t get_host_id(struct ctrl *c, struct ctrl_req *r, uint32_t cdw11)
{
	if (!(cdw11 & HOSTID_EXHID))
		return SC_INVALID_FIELD;
	if (r->buf_len < sizeof(c->hostid))
		return SC_SGL_LENGTH;
	memset(r->buf, 0, r->buf_len);
	memcpy(r->buf, c->hostid, sizeof(c->hostid));
	r->out_len = r->buf_len;
	return 0;
}

nvme_status_t admin_get_features(struct ctrl *c, struct ctrl_req *r)
{
	uint32_t cdw10 = sqe_dw(r->sqe->cdw10), cdw11 = sqe_dw(r->sqe->cdw11);
	uint8_t fid = (uint8_t)NVMEV(NVME_FEAT_FID, cdw10);
	uint32_t sel = NVMEV(NVME_FEAT_SEL, cdw10);
	uint16_t *slot;
	nvme_status_t st;

	if (!feature_supported(c, fid) || sel > SEL_CAPS)
		return SC_INVALID_FIELD;
	if (sel == SEL_CAPS) {
		if (r->buf_len != 0)
			return SC_SGL_LENGTH;
		/* not saveable; all but 81h changeable; 82h, 83h namespace specific */
		r->dw0 = fid == NVME_FEAT_HOST_ID ? 0 : CAP_CHANGEABLE;
		if (fid == NVME_FEAT_RESV_MASK || fid == NVME_FEAT_RESV_PERSIST)
			r->dw0 |= CAP_NS_SPECIFIC;
		return 0;
	}
	if (fid == NVME_FEAT_RESV_MASK || fid == NVME_FEAT_RESV_PERSIST) {
		if (r->buf_len != 0)
			return SC_SGL_LENGTH;
		return resv_feature(c, r, fid, false, sel != SEL_CURRENT);
	}
	if (fid == NVME_FEAT_HOST_ID)
		return get_host_id(c, r, cdw11);
	if (r->buf_len != 0)
		return SC_SGL_LENGTH;
	if (fid == NVME_FEAT_TEMP_THRESH && (st = temp_sel(cdw11, &slot, c)) != 0)
		return st;
	/* nothing is saveable: "saved" reports the default (Base 5.15.1) */
	r->dw0 = feature_value(c, fid, cdw11, sel != SEL_CURRENT);
	return 0;
}
