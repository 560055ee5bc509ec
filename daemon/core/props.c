/* SPDX-License-Identifier: BSD-2-Clause */
#include "props.h"

#define INVALID_FIELD NVME_SC_DNR(GENERIC, INVALID_FIELD)

void props_init(struct ctrl_props *p, uint16_t mqes, uint8_t to, bool discovery)
{
	p->cap = NVMEF(NVME_CAP_MQES, (uint64_t)mqes) | NVMEF(NVME_CAP_CQR, 1ULL) |
		 NVMEF(NVME_CAP_TO, (uint64_t)to) | NVMEF(NVME_CAP_CSS, (uint64_t)NVME_CAP_CSS_NVM);
	/* MPSMIN = MPSMAX = 0 (4 KiB): the Linux host writes CC.MPS = 0 */
	p->vs = NVME_VS(1, 4, 0);
	p->cc = 0;
	p->csts = 0;
	p->discovery = discovery;
}

nvme_status_t props_get(const struct ctrl_props *p, uint32_t ofst, unsigned int size,
			uint64_t *value)
{
	if (size != 4 && size != 8)
		return INVALID_FIELD;
	switch (ofst) {
	case NVME_REG_CAP:
		if (size != 8)
			return INVALID_FIELD;
		*value = p->cap;
		return 0;
	case NVME_REG_VS:
		*value = p->vs;
		break;
	case NVME_REG_CC:
		*value = p->cc;
		break;
	case NVME_REG_CSTS:
		*value = p->csts;
		break;
	default:
		return INVALID_FIELD;
	}
	return size == 4 ? 0 : INVALID_FIELD;
}

/* NVMe Base 2.0 3.5.1: what must hold when CC.EN goes to 1. */
static bool enable_valid(const struct ctrl_props *p, uint32_t cc)
{
	uint32_t sqes = NVMEV(NVME_CC_IOSQES, cc), cqes = NVMEV(NVME_CC_IOCQES, cc);

	if (NVMEV(NVME_CC_MPS, cc) != 0 || NVMEV(NVME_CC_AMS, cc) != 0)
		return false;
	if (NVMEV(NVME_CC_CSS, cc) != 0 && NVMEV(NVME_CC_CSS, cc) != 6)
		return false;
	if (p->discovery && sqes == 0 && cqes == 0)
		return true;
	return sqes == 6 && cqes == 4;
}

static enum props_event write_cc(struct ctrl_props *p, uint32_t cc)
{
	uint32_t old = p->cc;
	bool was_en = NVMEV(NVME_CC_EN, old), en = NVMEV(NVME_CC_EN, cc);
	uint32_t shn = NVMEV(NVME_CC_SHN, cc), old_shn = NVMEV(NVME_CC_SHN, old);

	p->cc = cc;
	if (en && !was_en) {
		if (!enable_valid(p, cc)) {
			p->csts |= NVMEM(NVME_CSTS_CFS);
			return PROPS_EV_FATAL;
		}
		p->csts = NVMEF(NVME_CSTS_RDY, 1u);
		return PROPS_EV_ENABLED;
	}
	if (!en && was_en) {
		/* a reset clears RDY and any shutdown status */
		p->csts = 0;
		p->cc = cc & ~NVMEM(NVME_CC_SHN);
		return PROPS_EV_RESET;
	}
	if (shn != NVME_CC_SHN_NONE && old_shn == NVME_CC_SHN_NONE) {
		p->csts &= ~NVMEM(NVME_CSTS_SHST);
		p->csts |= NVMEF(NVME_CSTS_SHST, (uint32_t)NVME_CSTS_SHST_OCCUR);
		return PROPS_EV_SHUTDOWN;
	}
	if (shn == NVME_CC_SHN_NONE && old_shn != NVME_CC_SHN_NONE)
		p->csts &= ~NVMEM(NVME_CSTS_SHST);
	return PROPS_EV_NONE;
}

nvme_status_t props_set(struct ctrl_props *p, uint32_t ofst, unsigned int size, uint64_t value,
			enum props_event *ev)
{
	*ev = PROPS_EV_NONE;
	if (ofst != NVME_REG_CC || size != 4) {
		/* CAP, VS and CSTS are read-only; NSSR and the rest we do not have */
		return INVALID_FIELD;
	}
	*ev = write_cc(p, (uint32_t)value);
	return 0;
}

void props_shutdown_done(struct ctrl_props *p)
{
	p->csts &= ~NVMEM(NVME_CSTS_SHST);
	p->csts |= NVMEF(NVME_CSTS_SHST, (uint32_t)NVME_CSTS_SHST_COMPLETE);
}
