/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fabrics commands on a connected admin queue (NVMe over Fabrics 1.1,
 * "oF"): Property Get / Set (oF 3.5, 3.6) and what the controller state
 * does on them (enable, reset, shutdown), and the refusals of Connect and
 * Disconnect there. Connect itself is in fabrics_connect.c.
 */
#include "ctrl_internal.h"

#include <string.h>

#include "log.h"

static nvme_status_t prop_size(uint8_t attrib, unsigned int *size)
{
	switch (attrib & 0x7) {
	case NVMF_PROP_SIZE_4:
		*size = 4;
		return 0;
	case NVMF_PROP_SIZE_8:
		*size = 8;
		return 0;
	}
	return SC_INVALID_FIELD;
}

static nvme_status_t prop_get(struct ctrl *c, struct ctrl_req *r)
{
	struct nvmf_prop_get_cmd cmd;
	unsigned int size;
	nvme_status_t st;
	uint64_t v = 0;

	memcpy(&cmd, r->sqe, sizeof(cmd));
	st = prop_size(cmd.attrib, &size);
	if (st == 0)
		st = props_get(&c->props, le32toh(cmd.ofst), size, &v);
	if (st)
		return st;
	r->dw0 = (uint32_t)v;
	r->dw1 = (uint32_t)(v >> 32);
	return 0;
}

static void prop_event(struct ctrl *c, enum props_event ev)
{
	switch (ev) {
	case PROPS_EV_NONE:
		break;
	case PROPS_EV_ENABLED:
		atomic_store(&c->enabled, true);
		log_debug("controller %u: enabled", c->cntlid);
		break;
	case PROPS_EV_RESET:
		ctrl_reset(c);
		break;
	case PROPS_EV_SHUTDOWN:
		/*
		 * Nothing to drain here: commands complete on their own, and
		 * durability is the Flush command's (the host flushes its
		 * volatile write cache before a normal shutdown).
		 */
		props_shutdown_done(&c->props);
		log_debug("controller %u: shut down by the host", c->cntlid);
		break;
	case PROPS_EV_FATAL:
		atomic_store(&c->enabled, false);
		log_warn("controller %u of %s for %s: invalid CC %#x, CSTS.CFS set", c->cntlid,
			 c->subsys->nqn, c->host_label, c->props.cc);
		break;
	}
}

static nvme_status_t prop_set(struct ctrl *c, struct ctrl_req *r)
{
	struct nvmf_prop_set_cmd cmd;
	enum props_event ev;
	unsigned int size;
	nvme_status_t st;

	memcpy(&cmd, r->sqe, sizeof(cmd));
	st = prop_size(cmd.attrib, &size);
	if (st == 0)
		st = props_set(&c->props, le32toh(cmd.ofst), size, le64toh(cmd.value), &ev);
	if (st)
		return st;
	prop_event(c, ev);
	return 0;
}

nvme_status_t ctrl_fabrics_exec(struct ctrl *c, struct ctrl_req *r)
{
	struct nvmf_fabrics_cmd cmd;

	memcpy(&cmd, r->sqe, sizeof(cmd));
	if (r->buf_len != 0)
		return SC_SGL_LENGTH;
	switch (cmd.fctype) {
	case NVMF_FCTYPE_PROPERTY_GET:
		return prop_get(c, r);
	case NVMF_FCTYPE_PROPERTY_SET:
		return prop_set(c, r);
	case NVMF_FCTYPE_CONNECT:
		/* this queue is connected already (as nvmet and ctld) */
		return SC_CMD_SEQ;
	case NVMF_FCTYPE_DISCONNECT:
		/* oF 3.4: Disconnect deletes an I/O queue; not the admin queue */
		return NVME_SC_DNR(COMMAND_SPECIFIC, DISCONNECT_INVALID_QTYPE);
	}
	return SC_INVALID_OPC;
}
