/* SPDX-License-Identifier: BSD-2-Clause */
/* Names of NVMe/TCP PDU types and fatal error statuses, for logs. */
#include "pdu.h"

const char *tcp_pdu_type_name(uint8_t type)
{
	switch (type) {
	case NVME_TCP_ICREQ:
		return "ICReq";
	case NVME_TCP_ICRESP:
		return "ICResp";
	case NVME_TCP_H2C_TERM:
		return "H2CTermReq";
	case NVME_TCP_C2H_TERM:
		return "C2HTermReq";
	case NVME_TCP_CMD:
		return "CapsuleCmd";
	case NVME_TCP_RSP:
		return "CapsuleResp";
	case NVME_TCP_H2C_DATA:
		return "H2CData";
	case NVME_TCP_C2H_DATA:
		return "C2HData";
	case NVME_TCP_R2T:
		return "R2T";
	default:
		return "Unknown";
	}
}

/* NVMe/TCP 1.0 Figure 27 (H2CTermReq) / Figure 29 (C2HTermReq). */
const char *tcp_fes_name(uint16_t fes)
{
	switch (fes) {
	case NVME_TCP_FES_INVALID_PDU_HDR:
		return "Invalid PDU Header Field";
	case NVME_TCP_FES_PDU_SEQ_ERR:
		return "PDU Sequence Error";
	case NVME_TCP_FES_HDR_DIGEST_ERR:
		return "Header Digest Error";
	case NVME_TCP_FES_DATA_OUT_OF_RANGE:
		return "Data Transfer Out of Range";
	case NVME_TCP_FES_DATA_LIMIT_EXCEEDED:
		return "Data Transfer Limit Exceeded";
	case NVME_TCP_FES_UNSUPPORTED_PARAM:
		return "Unsupported Parameter";
	default:
		return "Unknown";
	}
}
