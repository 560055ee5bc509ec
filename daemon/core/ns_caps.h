/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a namespace's backing store lets the controller report: the
 * deallocation and granularity fields of Identify Namespace, and the
 * Dataset Management limits of the NVM command set's Identify Controller
 * data (CNS 06h). Pure functions of the namespaces and of what backend/
 * found at open (be_ns.lim, be_ns.dealloc).
 */
#pragma once

#include <stdint.h>

#include "nvme_spec.h"
#include "registry.h"

/* Dataset Management limits, in logical blocks (0: none reported). */
struct dsm_limits {
	uint8_t dmrl;	/* ranges per command */
	uint32_t dmrsl; /* blocks per range */
	uint64_t dmsl;	/* blocks per command, all ranges together */
};

/* DLFEAT, NSFEAT's OPTPERF and NPWG/NPWA/NPDG/NPDA/NOWS into id (NVM Figure 97). */
void ns_id_caps(const struct ns *ns, struct nvme_id_ns *id);

/* The subsystem's namespaces' Dataset Management limits (for CNS 06h). */
void subsys_dsm_limits(const struct subsys *s, struct dsm_limits *out);
