/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe/TCP Transport Specification 1.0 PDU formats (section 3.6). Every PDU
 * starts with the 8-byte common header; HLEN covers CH + PDU specific header,
 * an optional header digest follows, data starts at PDO, an optional data
 * digest follows the data, and PLEN counts it all.
 */
#pragma once

#include "nvme_spec.h"

enum nvme_tcp_pdu_type {
	NVME_TCP_ICREQ = 0x00,
	NVME_TCP_ICRESP = 0x01,
	NVME_TCP_H2C_TERM = 0x02,
	NVME_TCP_C2H_TERM = 0x03,
	NVME_TCP_CMD = 0x04,
	NVME_TCP_RSP = 0x05,
	NVME_TCP_H2C_DATA = 0x06,
	NVME_TCP_C2H_DATA = 0x07,
	NVME_TCP_R2T = 0x09,
};

/* Common header flags (Figure 20). */
enum {
	NVME_TCP_F_HDGST = 1 << 0,
	NVME_TCP_F_DDGST = 1 << 1,
	NVME_TCP_F_DATA_LAST = 1 << 2,	  /* H2CData, C2HData */
	NVME_TCP_F_DATA_SUCCESS = 1 << 3, /* C2HData only */
};

/* ICReq / ICResp DGST field. */
enum {
	NVME_TCP_DGST_HDGST_ENABLE = 1 << 0,
	NVME_TCP_DGST_DDGST_ENABLE = 1 << 1,
};

/* Fatal error status of a TermReq (Figure 27 / 29). */
enum nvme_tcp_fes {
	NVME_TCP_FES_INVALID_PDU_HDR = 0x01,
	NVME_TCP_FES_PDU_SEQ_ERR = 0x02,
	NVME_TCP_FES_HDR_DIGEST_ERR = 0x03,
	NVME_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
	NVME_TCP_FES_DATA_LIMIT_EXCEEDED = 0x05, /* also "R2T limit exceeded" */
	NVME_TCP_FES_UNSUPPORTED_PARAM = 0x06,
};

#define NVME_TCP_DIGEST_LEN	4
#define NVME_TCP_PFV_1_0	0
#define NVME_TCP_MIN_MAXH2CDATA 4096
#define NVME_TCP_HPDA_MAX	31
#define NVME_TCP_TERM_DATA_MAX	128  /* bytes of offending header carried in a TermReq */
#define NVME_TCP_ADMIN_ICD	8192 /* in-capsule data a host may always send on admin / fabrics */

struct nvme_tcp_ch {
	uint8_t pdu_type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	__le32 plen;
};
WIRE_SIZE(nvme_tcp_ch, 8);
WIRE_OFF(nvme_tcp_ch, flags, 1);
WIRE_OFF(nvme_tcp_ch, hlen, 2);
WIRE_OFF(nvme_tcp_ch, pdo, 3);
WIRE_OFF(nvme_tcp_ch, plen, 4);

struct nvme_tcp_icreq {
	struct nvme_tcp_ch ch;
	__le16 pfv;
	uint8_t hpda;
	uint8_t dgst;
	__le32 maxr2t; /* 0's based */
	uint8_t rsvd16[112];
};
WIRE_SIZE(nvme_tcp_icreq, 128);
WIRE_OFF(nvme_tcp_icreq, pfv, 8);
WIRE_OFF(nvme_tcp_icreq, hpda, 10);
WIRE_OFF(nvme_tcp_icreq, dgst, 11);
WIRE_OFF(nvme_tcp_icreq, maxr2t, 12);

struct nvme_tcp_icresp {
	struct nvme_tcp_ch ch;
	__le16 pfv;
	uint8_t cpda;
	uint8_t dgst;
	__le32 maxh2cdata;
	uint8_t rsvd16[112];
};
WIRE_SIZE(nvme_tcp_icresp, 128);
WIRE_OFF(nvme_tcp_icresp, pfv, 8);
WIRE_OFF(nvme_tcp_icresp, cpda, 10);
WIRE_OFF(nvme_tcp_icresp, dgst, 11);
WIRE_OFF(nvme_tcp_icresp, maxh2cdata, 12);

/* H2CTermReq / C2HTermReq: FEI sits at the unaligned offset 10, hence bytes. */
struct nvme_tcp_term_req {
	struct nvme_tcp_ch ch;
	__le16 fes;
	uint8_t fei[4];
	uint8_t rsvd14[10];
};
WIRE_SIZE(nvme_tcp_term_req, 24);
WIRE_OFF(nvme_tcp_term_req, fes, 8);
WIRE_OFF(nvme_tcp_term_req, fei, 10);

struct nvme_tcp_cmd {
	struct nvme_tcp_ch ch;
	struct nvme_sqe sqe;
};
WIRE_SIZE(nvme_tcp_cmd, 72);
WIRE_OFF(nvme_tcp_cmd, sqe, 8);

struct nvme_tcp_rsp {
	struct nvme_tcp_ch ch;
	struct nvme_cqe cqe;
};
WIRE_SIZE(nvme_tcp_rsp, 24);
WIRE_OFF(nvme_tcp_rsp, cqe, 8);

struct nvme_tcp_h2c_data {
	struct nvme_tcp_ch ch;
	uint16_t cccid; /* opaque */
	uint16_t ttag;	/* opaque */
	__le32 datao;
	__le32 datal;
	uint8_t rsvd20[4];
};
WIRE_SIZE(nvme_tcp_h2c_data, 24);
WIRE_OFF(nvme_tcp_h2c_data, cccid, 8);
WIRE_OFF(nvme_tcp_h2c_data, ttag, 10);
WIRE_OFF(nvme_tcp_h2c_data, datao, 12);
WIRE_OFF(nvme_tcp_h2c_data, datal, 16);

struct nvme_tcp_c2h_data {
	struct nvme_tcp_ch ch;
	uint16_t cccid;
	uint8_t rsvd10[2];
	__le32 datao;
	__le32 datal;
	uint8_t rsvd20[4];
};
WIRE_SIZE(nvme_tcp_c2h_data, 24);
WIRE_OFF(nvme_tcp_c2h_data, cccid, 8);
WIRE_OFF(nvme_tcp_c2h_data, datao, 12);
WIRE_OFF(nvme_tcp_c2h_data, datal, 16);

struct nvme_tcp_r2t {
	struct nvme_tcp_ch ch;
	uint16_t cccid;
	uint16_t ttag;
	__le32 r2to;
	__le32 r2tl;
	uint8_t rsvd20[4];
};
WIRE_SIZE(nvme_tcp_r2t, 24);
WIRE_OFF(nvme_tcp_r2t, cccid, 8);
WIRE_OFF(nvme_tcp_r2t, ttag, 10);
WIRE_OFF(nvme_tcp_r2t, r2to, 12);
WIRE_OFF(nvme_tcp_r2t, r2tl, 16);

/*
 * Any PDU header, aligned, with room for the header digest. Received bytes
 * are copied here before any field is read (never cast stream bytes).
 */
union nvme_tcp_pdu_hdr {
	uint8_t raw[128 + NVME_TCP_DIGEST_LEN];
	struct nvme_tcp_ch ch;
	struct nvme_tcp_icreq icreq;
	struct nvme_tcp_icresp icresp;
	struct nvme_tcp_term_req term;
	struct nvme_tcp_cmd cmd;
	struct nvme_tcp_rsp rsp;
	struct nvme_tcp_h2c_data h2c;
	struct nvme_tcp_c2h_data c2h;
	struct nvme_tcp_r2t r2t;
	uint64_t align;
};
