/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Controller properties reached by Fabrics Property Get/Set (NVMe-oF 1.1
 * section 3.5): CAP, VS, CC and CSTS, and the enable / reset / shutdown
 * transitions a CC write causes. Pure logic, no I/O: props_set() tells the
 * caller what to do (tear down I/O queues, make data durable), the caller
 * reports back with props_shutdown_done().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "nvme_spec.h"

struct ctrl_props {
	uint64_t cap;
	uint32_t vs;
	uint32_t cc;
	uint32_t csts;
	bool discovery; /* a discovery controller accepts IOSQES/IOCQES of 0 */
};

enum props_event {
	PROPS_EV_NONE = 0,
	PROPS_EV_ENABLED,  /* CC.EN 0 -> 1 and CSTS.RDY is now 1 */
	PROPS_EV_RESET,	   /* CC.EN 1 -> 0: delete I/O queues, abort commands */
	PROPS_EV_SHUTDOWN, /* CC.SHN set: flush, then props_shutdown_done() */
	PROPS_EV_FATAL,	   /* an invalid enable: CSTS.CFS is set */
};

/* mqes: 0's based queue entries; to: CAP.TO in 500 ms units. */
void props_init(struct ctrl_props *p, uint16_t mqes, uint8_t to, bool discovery);

/* size 4 or 8 bytes (attrib). Returns an NVMe status; *value on success. */
nvme_status_t props_get(const struct ctrl_props *p, uint32_t ofst, unsigned int size,
			uint64_t *value);
nvme_status_t props_set(struct ctrl_props *p, uint32_t ofst, unsigned int size, uint64_t value,
			enum props_event *ev);

/* The shutdown the caller was told of is complete: CSTS.SHST = 10b. */
void props_shutdown_done(struct ctrl_props *p);

static inline bool props_ready(const struct ctrl_props *p)
{
	return NVMEV(NVME_CSTS_RDY, p->csts) && !NVMEV(NVME_CSTS_CFS, p->csts);
}
