/* SPDX-License-Identifier: BSD-2-Clause */
#include "t_sqe.h"

#include <endian.h>
#include <string.h>

struct nvme_sqe t_sqe(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
		      uint32_t cdw12, uint32_t cdw13, uint32_t cdw14, uint32_t cdw15)
{
	struct nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	sqe.flags = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	sqe.cid = 0x1234;
	sqe.nsid = htole32(nsid);
	sqe.cdw10 = htole32(cdw10);
	sqe.cdw11 = htole32(cdw11);
	sqe.cdw12 = htole32(cdw12);
	sqe.cdw13 = htole32(cdw13);
	sqe.cdw14 = htole32(cdw14);
	sqe.cdw15 = htole32(cdw15);
	return sqe;
}
