/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Building an SQE field by field, for the unit tests and the seed corpus
 * generators (no cmocka, only the spec headers: codec-only builds link it).
 */
#pragma once

#include <stdint.h>

#include "nvme_spec.h"

/* opcode, nsid, cdw10..cdw15; PSDT 01b (SGL), CID 1234h. */
struct nvme_sqe t_sqe(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
		      uint32_t cdw12, uint32_t cdw13, uint32_t cdw14, uint32_t cdw15);
