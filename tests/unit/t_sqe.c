/* SPDX-License-Identifier: BSD-2-Clause */
#include "t_sqe.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

struct nvme_sqe t_sqe(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11, uint32_t cdw12,
		      uint32_t cdw13, uint32_t cdw14, uint32_t cdw15)
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

struct nvme_sqe t_prop_sqe(uint8_t fctype, uint32_t ofst, uint64_t value, uint8_t attrib)
{
	struct nvmf_prop_set_cmd cmd;
	struct nvme_sqe sqe;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.rsvd1 = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	cmd.fctype = fctype;
	cmd.attrib = attrib;
	cmd.ofst = htole32(ofst);
	cmd.value = htole64(value);
	memcpy(&sqe, &cmd, sizeof(sqe));
	return sqe;
}

void t_connect_build(struct nvmf_connect_cmd *cmd, struct nvmf_connect_data *data,
		     const char *subnqn, const char *hostnqn, const uint8_t hostid[16],
		     uint16_t qid, uint16_t sqsize, uint16_t cntlid, uint32_t kato)
{
	memset(cmd, 0, sizeof(*cmd));
	memset(data, 0, sizeof(*data));
	cmd->opc = NVME_ADM_FABRICS;
	cmd->rsvd1 = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	cmd->fctype = NVMF_FCTYPE_CONNECT;
	cmd->qid = htole16(qid);
	cmd->sqsize = htole16(sqsize);
	cmd->kato = htole32(kato);
	memcpy(data->hostid, hostid, sizeof(data->hostid));
	data->cntlid = htole16(cntlid);
	snprintf(data->subnqn, sizeof(data->subnqn), "%s", subnqn);
	snprintf(data->hostnqn, sizeof(data->hostnqn), "%s", hostnqn);
}
