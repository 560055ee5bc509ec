/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe over Fabrics 1.1 wire structures: the Fabrics command capsules
 * (Connect, Property Get/Set, Disconnect), Connect data and response, and
 * the Discovery log page. Layouts follow Figures 19-44 of the specification.
 */
#pragma once

#include "nvme_spec.h"

#define NVMF_DISC_NQN	    "nqn.2014-08.org.nvmexpress.discovery"
#define NVMF_NQN_MAX	    223 /* bytes, without the NUL */
#define NVMF_NQN_FIELD	    256 /* size of NQN fields in Connect data and logs */
#define NVMF_CNTLID_DYNAMIC 0xffff
#define NVMF_CNTLID_MAX	    0xffef

enum nvmf_fctype {
	NVMF_FCTYPE_PROPERTY_SET = 0x00,
	NVMF_FCTYPE_CONNECT = 0x01,
	NVMF_FCTYPE_PROPERTY_GET = 0x04,
	NVMF_FCTYPE_AUTH_SEND = 0x05,
	NVMF_FCTYPE_AUTH_RECV = 0x06,
	NVMF_FCTYPE_DISCONNECT = 0x08,
};

/* Generic Fabrics command capsule (Figure 19): the SQE with FCTYPE at byte 4. */
struct nvmf_fabrics_cmd {
	uint8_t opc; /* NVME_ADM_FABRICS */
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t fabrics_spec[24];
};
WIRE_SIZE(nvmf_fabrics_cmd, 64);
WIRE_OFF(nvmf_fabrics_cmd, fctype, 4);
WIRE_OFF(nvmf_fabrics_cmd, fabrics_spec, 40);

/* Connect command (Figure 20). */
struct nvmf_connect_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	struct nvme_sgl_desc sgl1;
	__le16 recfmt;
	__le16 qid;
	__le16 sqsize; /* 0's based */
	uint8_t cattr;
	uint8_t rsvd47;
	__le32 kato; /* milliseconds */
	uint8_t rsvd52[12];
};
WIRE_SIZE(nvmf_connect_cmd, 64);
WIRE_OFF(nvmf_connect_cmd, fctype, 4);
WIRE_OFF(nvmf_connect_cmd, sgl1, 24);
WIRE_OFF(nvmf_connect_cmd, recfmt, 40);
WIRE_OFF(nvmf_connect_cmd, qid, 42);
WIRE_OFF(nvmf_connect_cmd, sqsize, 44);
WIRE_OFF(nvmf_connect_cmd, cattr, 46);
WIRE_OFF(nvmf_connect_cmd, kato, 48);

#define NVMF_CONNECT_CATTR_PRIORITY_URGENT (1 << 1)
#define NVMF_CONNECT_CATTR_DISABLE_SQFC	   (1 << 2)

/* Connect data (Figure 21), in-capsule after the Connect SQE. */
struct nvmf_connect_data {
	uint8_t hostid[16];
	__le16 cntlid;
	uint8_t rsvd18[238];
	char subnqn[NVMF_NQN_FIELD];
	char hostnqn[NVMF_NQN_FIELD];
	uint8_t rsvd768[256];
};
WIRE_SIZE(nvmf_connect_data, 1024);
WIRE_OFF(nvmf_connect_data, cntlid, 16);
WIRE_OFF(nvmf_connect_data, subnqn, 256);
WIRE_OFF(nvmf_connect_data, hostnqn, 512);

/*
 * Connect response dword 0 (Figure 22; NVMe Base 2.0 figure "Connect
 * Response"): success gives CNTLID in 15:0 and AUTHREQ in 31:16, whose bit
 * 1 is ATR (an authentication transaction is required: dword 0 bit 17)
 * and bit 2 ASCR (authentication and a secure channel: bit 18), bit 0
 * obsolete (as the Linux host and target: NVME_CONNECT_AUTHREQ_ATR is
 * 1 << 17); Invalid Parameters gives IPO (15:0, byte offset of the field)
 * and IATTR (bit 16: 0 = in the SQE, 1 = in the Connect data).
 */
#define NVMF_CONNECT_RSP_CNTLID(dw0) ((uint16_t)((dw0) & 0xffff))
#define NVMF_CONNECT_AUTHREQ_ATR     (1u << 17)
#define NVMF_CONNECT_AUTHREQ_ASCR    (1u << 18)
#define NVMF_CONNECT_RSP_AUTHREQ(dw0) \
	((dw0) & (NVMF_CONNECT_AUTHREQ_ATR | NVMF_CONNECT_AUTHREQ_ASCR))
#define NVMF_CONNECT_IPO_SQE(off)  ((uint32_t)(off))
#define NVMF_CONNECT_IPO_DATA(off) ((uint32_t)((1u << 16) | (off)))

/* Property Get (Figure 36) and Property Set (Figure 38). */
struct nvmf_prop_get_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t attrib; /* bits 2:0: 0 = 4 bytes, 1 = 8 bytes */
	uint8_t rsvd41[3];
	__le32 ofst;
	uint8_t rsvd48[16];
};
WIRE_SIZE(nvmf_prop_get_cmd, 64);
WIRE_OFF(nvmf_prop_get_cmd, attrib, 40);
WIRE_OFF(nvmf_prop_get_cmd, ofst, 44);

struct nvmf_prop_set_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t attrib;
	uint8_t rsvd41[3];
	__le32 ofst;
	__le64 value;
	uint8_t rsvd56[8];
};
WIRE_SIZE(nvmf_prop_set_cmd, 64);
WIRE_OFF(nvmf_prop_set_cmd, attrib, 40);
WIRE_OFF(nvmf_prop_set_cmd, ofst, 44);
WIRE_OFF(nvmf_prop_set_cmd, value, 48);

#define NVMF_PROP_SIZE_4 0
#define NVMF_PROP_SIZE_8 1

/* Disconnect (Figure 24): RECFMT only. */
struct nvmf_disconnect_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	__le16 recfmt;
	uint8_t rsvd42[22];
};
WIRE_SIZE(nvmf_disconnect_cmd, 64);
WIRE_OFF(nvmf_disconnect_cmd, recfmt, 40);

/* ---- Discovery log page (Figures 39-40) ---- */

enum {
	NVMF_TRTYPE_RDMA = 1,
	NVMF_TRTYPE_FC = 2,
	NVMF_TRTYPE_TCP = 3,
	NVMF_TRTYPE_LOOP = 254,
};
enum {
	NVMF_ADRFAM_IPV4 = 1,
	NVMF_ADRFAM_IPV6 = 2,
	NVMF_ADRFAM_IB = 3,
	NVMF_ADRFAM_FC = 4,
	NVMF_ADRFAM_LOOP = 254,
};
enum {
	NVMF_SUBTYPE_REFERRAL = 1,
	NVMF_SUBTYPE_NVME = 2,
	NVMF_SUBTYPE_DISC_CURRENT = 3,
};
enum {
	NVMF_TREQ_SECURE_UNSPECIFIED = 0,
	NVMF_TREQ_SECURE_REQUIRED = 1,
	NVMF_TREQ_SECURE_NOT_REQUIRED = 2,
	NVMF_TREQ_DISABLE_SQFC = 1 << 2,
};
enum {
	NVMF_EFLAGS_DUPRETINFO = 1 << 0,
	NVMF_EFLAGS_EPCSD = 1 << 1,
	NVMF_EFLAGS_NCC = 1 << 2,
};
enum {
	NVMF_TCP_SECTYPE_NONE = 0,
	NVMF_TCP_SECTYPE_TLS12 = 1,
	NVMF_TCP_SECTYPE_TLS13 = 2,
};

struct nvmf_disc_log_hdr {
	__le64 genctr;
	__le64 numrec;
	__le16 recfmt;
	uint8_t rsvd18[1006];
};
WIRE_SIZE(nvmf_disc_log_hdr, 1024);
WIRE_OFF(nvmf_disc_log_hdr, numrec, 8);
WIRE_OFF(nvmf_disc_log_hdr, recfmt, 16);
#define NVMF_DISC_LOG_HDR_LEN 20 /* what nvme-cli reads first */

struct nvmf_disc_log_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	__le16 portid;
	__le16 cntlid;
	__le16 asqsz;
	__le16 eflags;
	uint8_t rsvd12[20];
	char trsvcid[32];
	uint8_t rsvd64[192];
	char subnqn[NVMF_NQN_FIELD];
	char traddr[256];
	union {
		uint8_t tsas[256];
		struct {
			uint8_t sectype;
		} tcp;
	};
};
WIRE_SIZE(nvmf_disc_log_entry, 1024);
WIRE_OFF(nvmf_disc_log_entry, treq, 3);
WIRE_OFF(nvmf_disc_log_entry, portid, 4);
WIRE_OFF(nvmf_disc_log_entry, cntlid, 6);
WIRE_OFF(nvmf_disc_log_entry, asqsz, 8);
WIRE_OFF(nvmf_disc_log_entry, eflags, 10);
WIRE_OFF(nvmf_disc_log_entry, trsvcid, 32);
WIRE_OFF(nvmf_disc_log_entry, subnqn, 256);
WIRE_OFF(nvmf_disc_log_entry, traddr, 512);
WIRE_OFF(nvmf_disc_log_entry, tsas, 768);
