/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Building SQEs field by field (and a Connect's data), for the unit tests
 * and the seed corpus generators: no cmocka, only the spec headers, so
 * codec-only builds link it too.
 */
#pragma once

#include <stdint.h>

#include "nvme_spec.h"
#include "nvmf_spec.h"

/* opcode, nsid, cdw10..cdw15; PSDT 01b (SGL), CID 1234h. */
struct nvme_sqe t_sqe(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11, uint32_t cdw12,
		      uint32_t cdw13, uint32_t cdw14, uint32_t cdw15);

/* A Fabrics Property Get or Set (fctype), CID 0; value is Set's. */
struct nvme_sqe t_prop_sqe(uint8_t fctype, uint32_t ofst, uint64_t value, uint8_t attrib);

/* A Fabrics Connect (PSDT 01b, no SGL) and its data. */
void t_connect_build(struct nvmf_connect_cmd *cmd, struct nvmf_connect_data *data,
		     const char *subnqn, const char *hostnqn, const uint8_t hostid[16],
		     uint16_t qid, uint16_t sqsize, uint16_t cntlid, uint32_t kato);
