/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Identify fields the backing store decides (NVM Command Set 1.0, "NVM").
 */
#include "ns_caps.h"

#include "byteorder.h"

/* A size in bytes as a 0's based count of lba-byte blocks; -1 when it is none. */
static int32_t blocks0(uint64_t bytes, uint32_t lba)
{
	uint64_t n;

	if (bytes < lba || bytes % lba != 0)
		return -1;
	n = bytes / lba;
	return n > 0x10000 ? 0xffff : (int32_t)(n - 1);
}

void ns_id_caps(const struct ns *ns, struct nvme_id_ns *id)
{
	const struct be_limits *l = &ns->be.lim;
	uint32_t lba = 1u << ns->lba_shift;
	int32_t pwg = blocks0(l->write_gran, lba), pdg = blocks0(l->dealloc_gran, lba);
	int32_t ows = blocks0(l->io_opt, lba);

	/*
	 * DLFEAT (NVM Figure 97, byte 33): bits 2:0 what a deallocated block
	 * reads as: zeroes (001b) after a hole, a zeroing or released RAM
	 * pages, not reported (000b) after a device's discard or where
	 * nothing was done. Bit 3: Write Zeroes takes DEAC, everywhere
	 * (the zeroes are always there; the unmap is the store's choice).
	 */
	id->dlfeat = (l->dealloc_zeroes ? NVME_NS_DLFEAT_READ_ZEROES : 0) | NVME_NS_DLFEAT_WZ_DEAC;
	/*
	 * NSFEAT bit 4 (OPTPERF) says NPWG, NPWA, NPDG, NPDA and NOWS are
	 * valid. The preferred write granularity and alignment are the
	 * physical block (a file system's block for a file); deallocation
	 * granularity and alignment the unit the store frees. The Linux
	 * host takes NPWG as io_min and NOWS, when not 0, as io_opt.
	 */
	if (pwg < 0 && pdg < 0)
		return;
	id->nsfeat |= NVME_NS_NSFEAT_IO_OPT;
	id->npwg = id->npwa = htole16((uint16_t)(pwg < 0 ? 0 : pwg));
	id->npdg = id->npda = htole16((uint16_t)(pdg < 0 ? 0 : pdg));
	id->nows = htole16((uint16_t)(ows < 0 ? 0 : ows));
}

void subsys_dsm_limits(const struct subsys *s, struct dsm_limits *out)
{
	const struct ns_table *nt = subsys_ns(s);
	uint64_t dmrsl = UINT32_MAX;

	/*
	 * Any DSM command is taken whole: NR's 256 ranges, NLB's 32 bits, a
	 * range done in pieces (daemon/engine/cmd_io.c), so nothing is ever
	 * refused for its size. DMRSL tells the host the largest range the
	 * namespaces' devices discard in one (queue/discard_max_bytes), so a
	 * host cuts its discards as the device would; a namespace added later
	 * with a smaller limit is still served whole. DMSL: no limit.
	 */
	for (size_t i = 0; i < nt->n; i++) {
		const struct ns *ns = nt->ns[i];
		uint64_t max = ns->be.lim.dealloc_max >> ns->lba_shift;

		if (be_dealloc_now(&ns->be) == BE_DEALLOC_DISCARD && max != 0 && max < dmrsl)
			dmrsl = max;
	}
	/* NR's 256 ranges are all taken: more than DMRL's 8 bits hold, so "no limit" (0) */
	out->dmrl = 0;
	out->dmrsl = (uint32_t)dmrsl;
	out->dmsl = 0;
}
