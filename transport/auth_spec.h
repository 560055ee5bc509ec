/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe in-band authentication wire structures (NVMe Base Specification 2.0,
 * 8.13 "NVMe-oF In-band Authentication" and 5.3 / 6.x the Authentication
 * Send and Receive commands; TP 8006): the AUTH Send / AUTH Receive command
 * capsules, AUTH_Negotiate with its DH-HMAC-CHAP protocol descriptor, the
 * DH-HMAC-CHAP messages and AUTH_Failure, with the identifiers and the
 * failure reason code explanations.
 *
 * Each message is a fixed header followed by variable fields whose lengths
 * the header declares (HL, DHVLEN, NAPD). These structs describe the fixed
 * part only: never cast received bytes to them, use auth_msg.h's decoders.
 */
#pragma once

#include "nvmf_spec.h"

/* AUTH Send / AUTH Receive (Fabrics commands 05h / 06h). */
#define NVMF_AUTH_SECP	       0xe9 /* NVMe security protocol (SECP) */
#define NVMF_AUTH_SPSP0_DHCHAP 0x01
#define NVMF_AUTH_SPSP1_DHCHAP 0x01

struct nvmf_auth_send_cmd {
	uint8_t opc; /* NVME_ADM_FABRICS */
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype; /* NVMF_FCTYPE_AUTH_SEND */
	uint8_t rsvd5[19];
	struct nvme_sgl_desc sgl1;
	uint8_t rsvd40;
	uint8_t spsp0;
	uint8_t spsp1;
	uint8_t secp;
	__le32 tl; /* transfer length: bytes of the message sent */
	uint8_t rsvd48[16];
};
WIRE_SIZE(nvmf_auth_send_cmd, 64);
WIRE_OFF(nvmf_auth_send_cmd, fctype, 4);
WIRE_OFF(nvmf_auth_send_cmd, sgl1, 24);
WIRE_OFF(nvmf_auth_send_cmd, spsp0, 41);
WIRE_OFF(nvmf_auth_send_cmd, spsp1, 42);
WIRE_OFF(nvmf_auth_send_cmd, secp, 43);
WIRE_OFF(nvmf_auth_send_cmd, tl, 44);

struct nvmf_auth_recv_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype; /* NVMF_FCTYPE_AUTH_RECV */
	uint8_t rsvd5[19];
	struct nvme_sgl_desc sgl1;
	uint8_t rsvd40;
	uint8_t spsp0;
	uint8_t spsp1;
	uint8_t secp;
	__le32 al; /* allocation length: room for the message returned */
	uint8_t rsvd48[16];
};
WIRE_SIZE(nvmf_auth_recv_cmd, 64);
WIRE_OFF(nvmf_auth_recv_cmd, spsp0, 41);
WIRE_OFF(nvmf_auth_recv_cmd, secp, 43);
WIRE_OFF(nvmf_auth_recv_cmd, al, 44);

/* AUTH_Type (byte 0 of every message). */
enum nvmf_auth_type {
	NVMF_AUTH_TYPE_COMMON = 0x00, /* AUTH_Negotiate, AUTH_Failure1/2 */
	NVMF_AUTH_TYPE_DHCHAP = 0x01, /* the DH-HMAC-CHAP messages */
};

/* AUTH_Id (byte 1). */
enum nvmf_auth_id {
	NVMF_AUTH_ID_NEGOTIATE = 0x00, /* common */
	NVMF_AUTH_ID_CHALLENGE = 0x01, /* DH-HMAC-CHAP_Challenge */
	NVMF_AUTH_ID_REPLY = 0x02,     /* DH-HMAC-CHAP_Reply */
	NVMF_AUTH_ID_SUCCESS1 = 0x03,  /* DH-HMAC-CHAP_Success1 */
	NVMF_AUTH_ID_SUCCESS2 = 0x04,  /* DH-HMAC-CHAP_Success2 */
	NVMF_AUTH_ID_FAILURE2 = 0xf0,  /* common: AUTH_Failure2, host to controller */
	NVMF_AUTH_ID_FAILURE1 = 0xf1,  /* common: AUTH_Failure1, controller to host */
};

/* Secure channel concatenation (SC_C) in AUTH_Negotiate. */
enum nvmf_auth_sc_c {
	NVMF_AUTH_SC_C_NOSC = 0x00,
	NVMF_AUTH_SC_C_NEWTLSPSK = 0x01,
	NVMF_AUTH_SC_C_REPLACETLSPSK = 0x02,
};

/* Authentication protocol identifier (AUTHID) in a protocol descriptor. */
#define NVMF_AUTH_AUTHID_DHCHAP 0x01

/* Hash functions (HashID); DHHC-1 secrets use the same numbers for hh. */
enum nvmf_dhchap_hash {
	NVMF_DHCHAP_HASH_NONE = 0x00, /* only in a secret: no transformation */
	NVMF_DHCHAP_HASH_SHA256 = 0x01,
	NVMF_DHCHAP_HASH_SHA384 = 0x02,
	NVMF_DHCHAP_HASH_SHA512 = 0x03,
};

/* Diffie-Hellman group identifiers (DHGID), RFC 7919 groups. */
enum nvmf_dhchap_dhgroup {
	NVMF_DHCHAP_DHGROUP_NULL = 0x00,
	NVMF_DHCHAP_DHGROUP_FFDHE2048 = 0x01,
	NVMF_DHCHAP_DHGROUP_FFDHE3072 = 0x02,
	NVMF_DHCHAP_DHGROUP_FFDHE4096 = 0x03,
	NVMF_DHCHAP_DHGROUP_FFDHE6144 = 0x04,
	NVMF_DHCHAP_DHGROUP_FFDHE8192 = 0x05,
};

#define NVMF_DHCHAP_MAX_HASH_IDS 30   /* HashIDList: bytes 04-33 of the descriptor */
#define NVMF_DHCHAP_MAX_DH_IDS	 30   /* DHGIDList: bytes 34-63 */
#define NVMF_DHCHAP_HASH_MAX	 64   /* SHA-512 */
#define NVMF_DHCHAP_DHV_MAX	 1024 /* ffdhe8192: 8192 bits */

/* AUTH_Failure Reason Code (REASON CODE). */
#define NVMF_AUTH_FAILURE_REASON_FAILED 0x01 /* authentication failure */

/* Reason Code Explanation for NVMF_AUTH_FAILURE_REASON_FAILED. */
enum nvmf_auth_failure_expl {
	NVMF_AUTH_EXPL_FAILED = 0x01,		 /* authentication failed */
	NVMF_AUTH_EXPL_PROTOCOL_UNUSABLE = 0x02, /* authentication protocol not usable */
	NVMF_AUTH_EXPL_CONCAT_MISMATCH = 0x03,	 /* secure channel concatenation mismatch */
	NVMF_AUTH_EXPL_HASH_UNUSABLE = 0x04,	 /* hash function not usable */
	NVMF_AUTH_EXPL_DHGROUP_UNUSABLE = 0x05,	 /* DH group not usable */
	NVMF_AUTH_EXPL_INCORRECT_PAYLOAD = 0x06, /* incorrect payload */
	NVMF_AUTH_EXPL_INCORRECT_MESSAGE = 0x07, /* incorrect protocol message */
};

/* The part every message shares: type, id, transaction identifier. */
struct nvmf_auth_common_hdr {
	uint8_t auth_type;
	uint8_t auth_id;
	uint8_t rsvd2[2];
	__le16 t_id;
};
WIRE_SIZE(nvmf_auth_common_hdr, 6);
WIRE_OFF(nvmf_auth_common_hdr, t_id, 4);

/* AUTH_Negotiate: followed by NAPD protocol descriptors. */
struct nvmf_auth_negotiate {
	uint8_t auth_type; /* NVMF_AUTH_TYPE_COMMON */
	uint8_t auth_id;   /* NVMF_AUTH_ID_NEGOTIATE */
	uint8_t rsvd2[2];
	__le16 t_id;
	uint8_t sc_c;
	uint8_t napd; /* number of authentication protocol descriptors */
};
WIRE_SIZE(nvmf_auth_negotiate, 8);
WIRE_OFF(nvmf_auth_negotiate, t_id, 4);
WIRE_OFF(nvmf_auth_negotiate, sc_c, 6);
WIRE_OFF(nvmf_auth_negotiate, napd, 7);

/* DH-HMAC-CHAP protocol descriptor (AUTHID 01h). */
struct nvmf_dhchap_protocol_desc {
	uint8_t authid;
	uint8_t rsvd1;
	uint8_t halen; /* valid entries in hashidlist */
	uint8_t dhlen; /* valid entries in dhgidlist */
	uint8_t hashidlist[NVMF_DHCHAP_MAX_HASH_IDS];
	uint8_t dhgidlist[NVMF_DHCHAP_MAX_DH_IDS];
};
WIRE_SIZE(nvmf_dhchap_protocol_desc, 64);
WIRE_OFF(nvmf_dhchap_protocol_desc, halen, 2);
WIRE_OFF(nvmf_dhchap_protocol_desc, dhlen, 3);
WIRE_OFF(nvmf_dhchap_protocol_desc, hashidlist, 4);
WIRE_OFF(nvmf_dhchap_protocol_desc, dhgidlist, 34);

/* DH-HMAC-CHAP_Challenge: followed by C1 (HL bytes) and the DH value (DHVLEN). */
struct nvmf_dhchap_challenge {
	uint8_t auth_type; /* NVMF_AUTH_TYPE_DHCHAP */
	uint8_t auth_id;   /* NVMF_AUTH_ID_CHALLENGE */
	uint8_t rsvd2[2];
	__le16 t_id;
	uint8_t hl; /* hash length */
	uint8_t rsvd7;
	uint8_t hashid;
	uint8_t dhgid;
	__le16 dhvlen;
	__le32 seqnum; /* S1 */
};
WIRE_SIZE(nvmf_dhchap_challenge, 16);
WIRE_OFF(nvmf_dhchap_challenge, t_id, 4);
WIRE_OFF(nvmf_dhchap_challenge, hl, 6);
WIRE_OFF(nvmf_dhchap_challenge, hashid, 8);
WIRE_OFF(nvmf_dhchap_challenge, dhgid, 9);
WIRE_OFF(nvmf_dhchap_challenge, dhvlen, 10);
WIRE_OFF(nvmf_dhchap_challenge, seqnum, 12);

/*
 * DH-HMAC-CHAP_Reply: followed by R1 (HL bytes), C2 (HL bytes, zero unless
 * CVALID) and the host's DH value (DHVLEN bytes).
 */
struct nvmf_dhchap_reply {
	uint8_t auth_type;
	uint8_t auth_id; /* NVMF_AUTH_ID_REPLY */
	uint8_t rsvd2[2];
	__le16 t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t cvalid; /* 1: C2 is valid (bidirectional, or a PSK to generate) */
	uint8_t rsvd9;
	__le16 dhvlen;
	__le32 seqnum; /* S2; 0: no bidirectional authentication */
};
WIRE_SIZE(nvmf_dhchap_reply, 16);
WIRE_OFF(nvmf_dhchap_reply, hl, 6);
WIRE_OFF(nvmf_dhchap_reply, cvalid, 8);
WIRE_OFF(nvmf_dhchap_reply, dhvlen, 10);
WIRE_OFF(nvmf_dhchap_reply, seqnum, 12);

/* DH-HMAC-CHAP_Success1: followed by R2 (HL bytes, valid if RVALID). */
struct nvmf_dhchap_success1 {
	uint8_t auth_type;
	uint8_t auth_id; /* NVMF_AUTH_ID_SUCCESS1 */
	uint8_t rsvd2[2];
	__le16 t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t rvalid;
	uint8_t rsvd9[7];
};
WIRE_SIZE(nvmf_dhchap_success1, 16);
WIRE_OFF(nvmf_dhchap_success1, hl, 6);
WIRE_OFF(nvmf_dhchap_success1, rvalid, 8);

/* DH-HMAC-CHAP_Success2. */
struct nvmf_dhchap_success2 {
	uint8_t auth_type;
	uint8_t auth_id; /* NVMF_AUTH_ID_SUCCESS2 */
	uint8_t rsvd2[2];
	__le16 t_id;
	uint8_t rsvd6[10];
};
WIRE_SIZE(nvmf_dhchap_success2, 16);

/* AUTH_Failure1 (controller to host) and AUTH_Failure2 (host to controller). */
struct nvmf_auth_failure {
	uint8_t auth_type; /* NVMF_AUTH_TYPE_COMMON */
	uint8_t auth_id;   /* NVMF_AUTH_ID_FAILURE1 / _FAILURE2 */
	uint8_t rsvd2[2];
	__le16 t_id;
	uint8_t rescode;     /* reason code */
	uint8_t rescode_exp; /* reason code explanation */
};
WIRE_SIZE(nvmf_auth_failure, 8);
WIRE_OFF(nvmf_auth_failure, rescode, 6);
WIRE_OFF(nvmf_auth_failure, rescode_exp, 7);
