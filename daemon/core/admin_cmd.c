/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Admin commands on the admin queue (NVMe Base 2.0, "Base" below): the
 * dispatch of every command an admin queue takes, Keep Alive,
 * Asynchronous Event Request, Abort. Set / Get Features are in
 * admin_features.c, Identify in admin_identify.c, Get Log Page in admin_log.c, the Fabrics commands
 * (NVMe over Fabrics 1.1, "oF") in fabrics_cmd.c.
 */
#include "ctrl_internal.h"

#include <string.h>

#include "log.h"

void ascii_pad(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n);

	memcpy(dst, src, len);
	memset(dst + len, ' ', n - len);
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
		return admin_set_features(c, r);
	case NVME_ADM_GET_FEATURES:
		return admin_get_features(c, r);
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
	/* byte 01 of a Fabrics command is reserved (oF 1.1 Figure 10): not checked */
	if (sqe->opc == NVME_ADM_FABRICS) {
		r->status = ctrl_fabrics_exec(c, r);
		return CTRL_EXEC_DONE;
	}
	r->status = check_flags(sqe);
	if (r->status)
		return CTRL_EXEC_DONE;
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
