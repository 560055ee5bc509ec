/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe Base Specification 2.0 wire structures used over Fabrics: SQE, CQE,
 * SGL descriptors, status codes, Identify data, the log pages we serve and
 * feature identifiers. Natural layout; sizes and the offsets the spec's
 * tables give are static-asserted. All multi-byte fields are little-endian:
 * convert with le*toh / htole* at the edge.
 */
#pragma once

#include "wire.h"

/* ---- Submission queue entry (Figure 88: Common Command Format) ---- */

struct nvme_sgl_desc {
	__le64 addr;
	__le32 length;
	uint8_t rsvd12[3];
	uint8_t type; /* SGL descriptor type (7:4) | subtype (3:0) */
};
WIRE_SIZE(nvme_sgl_desc, 16);
WIRE_OFF(nvme_sgl_desc, length, 8);
WIRE_OFF(nvme_sgl_desc, type, 15);

/* SGL descriptor types and subtypes (Figures 114-115). */
enum {
	NVME_SGL_TYPE_DATA_BLOCK = 0x0,
	NVME_SGL_TYPE_BIT_BUCKET = 0x1,
	NVME_SGL_TYPE_SEGMENT = 0x2,
	NVME_SGL_TYPE_LAST_SEGMENT = 0x3,
	NVME_SGL_TYPE_KEYED_DATA_BLOCK = 0x4,
	NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK = 0x5,
	NVME_SGL_SUBTYPE_ADDRESS = 0x0,
	NVME_SGL_SUBTYPE_OFFSET = 0x1,
	NVME_SGL_SUBTYPE_TRANSPORT = 0xA,
};
#define NVME_SGL_DESC(type, subtype) ((uint8_t)(((type) << 4) | (subtype)))
/* In-capsule data: Data Block, address is an offset into the capsule. */
#define NVME_SGL_ICD NVME_SGL_DESC(NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET)
/* Data moved by R2T/H2CData or C2HData: Transport Data Block, TCP subtype. */
#define NVME_SGL_TRANSPORT_DB \
	NVME_SGL_DESC(NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK, NVME_SGL_SUBTYPE_TRANSPORT)

struct nvme_sqe {
	uint8_t opc;
	uint8_t flags; /* FUSE 1:0, PSDT 7:6 */
	uint16_t cid;  /* opaque: echoed as-is, never byte-swapped */
	__le32 nsid;
	__le32 cdw2;
	__le32 cdw3;
	__le64 mptr;
	struct nvme_sgl_desc sgl1; /* DPTR: on Fabrics always an SGL */
	__le32 cdw10;
	__le32 cdw11;
	__le32 cdw12;
	__le32 cdw13;
	__le32 cdw14;
	__le32 cdw15;
};
WIRE_SIZE(nvme_sqe, 64);
WIRE_OFF(nvme_sqe, cid, 2);
WIRE_OFF(nvme_sqe, nsid, 4);
WIRE_OFF(nvme_sqe, mptr, 16);
WIRE_OFF(nvme_sqe, sgl1, 24);
WIRE_OFF(nvme_sqe, cdw10, 40);
WIRE_OFF(nvme_sqe, cdw15, 60);

#define NVME_SQE_FUSE_SHIFT 0
#define NVME_SQE_FUSE_MASK  0x3
/* FUSE (Base 3.4.2): first and second command of a fused operation. */
#define NVME_FUSE_NONE	    0
#define NVME_FUSE_FIRST	    1
#define NVME_FUSE_SECOND    2
#define NVME_SQE_PSDT_SHIFT 6
#define NVME_SQE_PSDT_MASK  0x3
/* PSDT 01b: SGL for data, metadata in a contiguous buffer (what hosts send). */
#define NVME_PSDT_SGL_MPTR_CONTIG 1
#define NVME_PSDT_SGL_MPTR_SGL	  2

/* ---- Completion queue entry (Figure 90) ---- */

struct nvme_cqe {
	__le32 dw0;
	__le32 dw1;
	__le16 sqhd;
	__le16 sqid;
	uint16_t cid;  /* opaque, as in the SQE */
	__le16 status; /* phase tag (bit 0) | status field << 1 */
};
WIRE_SIZE(nvme_cqe, 16);
WIRE_OFF(nvme_cqe, sqhd, 8);
WIRE_OFF(nvme_cqe, cid, 12);
WIRE_OFF(nvme_cqe, status, 14);

/*
 * An NVMe status is its own type, never mixed into an int: SC in bits 7:0,
 * SCT in 10:8, CRD 12:11, M 13, DNR 14 (the CQE status field shifted right
 * by the phase bit). 0 is success.
 */
typedef uint16_t nvme_status_t;

/* The broadcast namespace ID: every namespace (NVMe Base 2.0 3.2.1.2). */
#define NVME_NSID_ALL 0xffffffffu

#define NVME_STATUS(sct, sc) ((nvme_status_t)((((sct) & 0x7) << 8) | ((sc) & 0xff)))
#define NVME_STATUS_SC(s)    ((uint8_t)((s) & 0xff))
#define NVME_STATUS_SCT(s)   ((uint8_t)(((s) >> 8) & 0x7))
#define NVME_STATUS_MORE     0x2000
#define NVME_STATUS_DNR	     0x4000
#define NVME_STATUS_CODE(s)  ((nvme_status_t)((s) & 0x7ff)) /* SCT and SC only */

/*
 * A status by its specification names, NVME_SC(GENERIC, INVALID_FIELD);
 * NVME_SC_DNR() is the one spelling of the same with Do Not Retry.
 */
#define NVME_SC(sct, sc)     NVME_STATUS(NVME_SCT_##sct, NVME_SC_##sc)
#define NVME_SC_DNR(sct, sc) ((nvme_status_t)(NVME_SC(sct, sc) | NVME_STATUS_DNR))

enum {
	NVME_SCT_GENERIC = 0,
	NVME_SCT_COMMAND_SPECIFIC = 1,
	NVME_SCT_MEDIA = 2,
	NVME_SCT_PATH = 3,
	NVME_SCT_VENDOR = 7,
};

/* Generic command status (Figure 102) and NVM command set generic values. */
enum {
	NVME_SC_SUCCESS = 0x00,
	NVME_SC_INVALID_OPCODE = 0x01,
	NVME_SC_INVALID_FIELD = 0x02,
	NVME_SC_CID_CONFLICT = 0x03,
	NVME_SC_DATA_XFER_ERROR = 0x04,
	NVME_SC_POWER_LOSS = 0x05,
	NVME_SC_INTERNAL = 0x06,
	NVME_SC_ABORT_REQ = 0x07,
	NVME_SC_ABORT_SQ_DELETED = 0x08,
	NVME_SC_FUSED_FAIL = 0x09,
	NVME_SC_FUSED_MISSING = 0x0a,
	NVME_SC_INVALID_NS = 0x0b,
	NVME_SC_CMD_SEQ_ERROR = 0x0c,
	NVME_SC_SGL_INVALID_LAST = 0x0d,
	NVME_SC_SGL_INVALID_COUNT = 0x0e,
	NVME_SC_SGL_INVALID_DATA = 0x0f,
	NVME_SC_SGL_INVALID_METADATA = 0x10,
	NVME_SC_SGL_INVALID_TYPE = 0x11,
	NVME_SC_CMB_INVALID_USE = 0x12,
	NVME_SC_PRP_INVALID_OFFSET = 0x13,
	NVME_SC_SGL_INVALID_OFFSET = 0x16,
	NVME_SC_HOST_ID_INCONSIST = 0x18,
	NVME_SC_KA_TIMEOUT_EXPIRED = 0x19,
	NVME_SC_KA_TIMEOUT_INVALID = 0x1a,
	NVME_SC_ABORTED_PREEMPT_ABORT = 0x1b,
	NVME_SC_SANITIZE_FAILED = 0x1c,
	NVME_SC_SANITIZE_IN_PROGRESS = 0x1d,
	NVME_SC_NS_WRITE_PROTECTED = 0x20,
	NVME_SC_CMD_INTERRUPTED = 0x21,
	NVME_SC_TRANSIENT_TR_ERR = 0x22,
	NVME_SC_ADMIN_CMD_MEDIA_NOT_READY = 0x24,
	NVME_SC_INVALID_IO_CMD_SET = 0x2c,
	/* NVM command set, generic type */
	NVME_SC_LBA_RANGE = 0x80,
	NVME_SC_CAP_EXCEEDED = 0x81,
	NVME_SC_NS_NOT_READY = 0x82,
	NVME_SC_RESERVATION_CONFLICT = 0x83,
	NVME_SC_FORMAT_IN_PROGRESS = 0x84,
};

/* Command specific status (Figure 103), SCT 1. */
enum {
	NVME_SC_CQ_INVALID = 0x00,
	NVME_SC_QID_INVALID = 0x01,
	NVME_SC_QUEUE_SIZE = 0x02,
	NVME_SC_ABORT_LIMIT = 0x03,
	NVME_SC_ASYNC_LIMIT = 0x05,
	NVME_SC_FIRMWARE_SLOT = 0x06,
	NVME_SC_INVALID_LOG_PAGE = 0x09,
	NVME_SC_INVALID_FORMAT = 0x0a,
	NVME_SC_FEATURE_NOT_SAVEABLE = 0x0d,
	NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	NVME_SC_FEATURE_NOT_PER_NS = 0x0f,
	NVME_SC_CTRL_LIST_INVALID = 0x1c,
	NVME_SC_INVALID_CTRL_ID = 0x1f,
	/* NVM command set specific */
	NVME_SC_BAD_ATTRIBUTES = 0x80,
	NVME_SC_INVALID_PI = 0x81,
	NVME_SC_READ_ONLY = 0x82,
	/* Fabrics (NVMe-oF 1.1, Figure 21) */
	NVME_SC_CONNECT_FORMAT = 0x80,
	NVME_SC_CONNECT_CTRL_BUSY = 0x81,
	NVME_SC_CONNECT_INVALID_PARAM = 0x82,
	NVME_SC_CONNECT_RESTART_DISC = 0x83,
	NVME_SC_CONNECT_INVALID_HOST = 0x84,
	NVME_SC_DISCONNECT_INVALID_QTYPE = 0x85,
	NVME_SC_DISCOVERY_RESTART = 0x90,
	NVME_SC_AUTH_REQUIRED = 0x91,
};

/* Media and data integrity errors (Figure 104), SCT 2. */
enum {
	NVME_SC_WRITE_FAULT = 0x80,
	NVME_SC_READ_ERROR = 0x81,
	NVME_SC_GUARD_CHECK = 0x82,
	NVME_SC_APPTAG_CHECK = 0x83,
	NVME_SC_REFTAG_CHECK = 0x84,
	NVME_SC_COMPARE_FAILED = 0x85,
	NVME_SC_ACCESS_DENIED = 0x86,
	NVME_SC_UNWRITTEN_BLOCK = 0x87,
};

/* Path related status (Figure 105), SCT 3. */
enum {
	NVME_SC_INTERNAL_PATH_ERROR = 0x00,
	NVME_SC_ANA_PERSISTENT_LOSS = 0x01,
	NVME_SC_ANA_INACCESSIBLE = 0x02,
	NVME_SC_ANA_TRANSITION = 0x03,
};

/* ---- Opcodes ---- */

enum nvme_admin_opcode {
	NVME_ADM_DELETE_SQ = 0x00,
	NVME_ADM_CREATE_SQ = 0x01,
	NVME_ADM_GET_LOG_PAGE = 0x02,
	NVME_ADM_DELETE_CQ = 0x04,
	NVME_ADM_CREATE_CQ = 0x05,
	NVME_ADM_IDENTIFY = 0x06,
	NVME_ADM_ABORT = 0x08,
	NVME_ADM_SET_FEATURES = 0x09,
	NVME_ADM_GET_FEATURES = 0x0a,
	NVME_ADM_ASYNC_EVENT = 0x0c,
	NVME_ADM_NS_MGMT = 0x0d,
	NVME_ADM_FW_COMMIT = 0x10,
	NVME_ADM_FW_DOWNLOAD = 0x11,
	NVME_ADM_KEEP_ALIVE = 0x18,
	NVME_ADM_DIRECTIVE_SEND = 0x19,
	NVME_ADM_DIRECTIVE_RECV = 0x1a,
	NVME_ADM_FABRICS = 0x7f,
	NVME_ADM_FORMAT_NVM = 0x80,
	NVME_ADM_SANITIZE = 0x84,
};

enum nvme_io_opcode {
	NVME_CMD_FLUSH = 0x00,
	NVME_CMD_WRITE = 0x01,
	NVME_CMD_READ = 0x02,
	NVME_CMD_WRITE_UNCOR = 0x04,
	NVME_CMD_COMPARE = 0x05,
	NVME_CMD_WRITE_ZEROES = 0x08,
	NVME_CMD_DSM = 0x09,
	NVME_CMD_VERIFY = 0x0c,
	NVME_CMD_RESV_REGISTER = 0x0d,
	NVME_CMD_RESV_REPORT = 0x0e,
	NVME_CMD_RESV_ACQUIRE = 0x11,
	NVME_CMD_RESV_RELEASE = 0x15,
	NVME_CMD_COPY = 0x19,
};

/* Opcode bits 1:0 give the data direction (Figure 87). */
#define NVME_OPC_XFER_MASK  0x3
#define NVME_OPC_XFER_NONE  0x0
#define NVME_OPC_XFER_H2C   0x1 /* host to controller (write) */
#define NVME_OPC_XFER_C2H   0x2 /* controller to host (read) */
#define NVME_OPC_XFER_BIDIR 0x3

/* Read / Write / Write Zeroes: SLBA in CDW10-11, NLB (0's based) in CDW12 15:0. */
#define NVME_RW_NLB_SHIFT 0
#define NVME_RW_NLB_MASK  0xffff
#define NVME_RW_FUA	  (1u << 30)
#define NVME_RW_LR	  (1u << 31)
#define NVME_WZ_DEAC	  (1u << 25)

/* Dataset Management: CDW10 NR (0's based), CDW11 attributes. */
#define NVME_DSM_NR_SHIFT 0
#define NVME_DSM_NR_MASK  0xff
#define NVME_DSM_IDR	  (1u << 0)
#define NVME_DSM_IDW	  (1u << 1)
#define NVME_DSM_AD	  (1u << 2)

struct nvme_dsm_range {
	__le32 cattr;
	__le32 nlb;
	__le64 slba;
};
WIRE_SIZE(nvme_dsm_range, 16);
WIRE_OFF(nvme_dsm_range, slba, 8);

/* ---- Identify (CDW10 CNS 7:0, CNTID 31:16) ---- */

enum {
	NVME_CNS_NS = 0x00,
	NVME_CNS_CTRL = 0x01,
	NVME_CNS_NS_ACTIVE_LIST = 0x02,
	NVME_CNS_NS_DESC_LIST = 0x03,
	NVME_CNS_NVMSET_LIST = 0x04,
	NVME_CNS_CS_NS = 0x05,
	NVME_CNS_CS_CTRL = 0x06,
	NVME_CNS_CS_NS_ACTIVE_LIST = 0x07,
	NVME_CNS_CS_INDEP_NS = 0x08,
};
#define NVME_IDENTIFY_DATA_SIZE 4096

struct nvme_power_state {
	__le16 mp;
	uint8_t rsvd2;
	uint8_t flags;
	__le32 enlat;
	__le32 exlat;
	uint8_t rrt;
	uint8_t rrl;
	uint8_t rwt;
	uint8_t rwl;
	__le16 idlp;
	uint8_t ips;
	uint8_t rsvd19;
	__le16 actp;
	uint8_t apws;
	uint8_t rsvd23[9];
};
WIRE_SIZE(nvme_power_state, 32);

/* Identify Controller data structure (Figure 275) and its Fabrics part. */
struct nvme_id_ctrl {
	__le16 vid;
	__le16 ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;
	__le16 cntlid;
	__le32 ver;
	__le32 rtd3r;
	__le32 rtd3e;
	__le32 oaes;
	__le32 ctratt;
	__le16 rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	__le16 crdt1;
	__le16 crdt2;
	__le16 crdt3;
	uint8_t rsvd134[119];
	uint8_t nvmsr;
	uint8_t vwci;
	uint8_t mec;
	__le16 oacs;
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	__le16 wctemp;
	__le16 cctemp;
	__le16 mtfa;
	__le32 hmpre;
	__le32 hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	__le32 rpmbs;
	__le16 edstt;
	uint8_t dsto;
	uint8_t fwug;
	__le16 kas;
	__le16 hctma;
	__le16 mntmt;
	__le16 mxtmt;
	__le32 sanicap;
	__le32 hmminds;
	__le16 hmmaxd;
	__le16 nsetidmax;
	__le16 endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	__le32 anagrpmax;
	__le32 nanagrpid;
	__le32 pels;
	__le16 domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];
	uint8_t rsvd384[128];
	uint8_t sqes;
	uint8_t cqes;
	__le16 maxcmd;
	__le32 nn;
	__le16 oncs;
	__le16 fuses;
	uint8_t fna;
	uint8_t vwc;
	__le16 awun;
	__le16 awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	__le16 acwu;
	__le16 ocfs;
	__le32 sgls;
	__le32 mnan;
	uint8_t maxdna[16];
	__le32 maxcna;
	uint8_t rsvd564[204];
	char subnqn[256];
	uint8_t rsvd1024[768];
	/* NVMe over Fabrics attributes (NVMe-oF 1.1, Figure 28) */
	__le32 ioccsz;
	__le32 iorcsz;
	__le16 icdoff;
	uint8_t fcatt;
	uint8_t msdbd;
	__le16 ofcs;
	uint8_t dctype;
	uint8_t rsvd1807[241];
	struct nvme_power_state psd[32];
	uint8_t vs[1024];
};
WIRE_SIZE(nvme_id_ctrl, 4096);
WIRE_OFF(nvme_id_ctrl, sn, 4);
WIRE_OFF(nvme_id_ctrl, mn, 24);
WIRE_OFF(nvme_id_ctrl, fr, 64);
WIRE_OFF(nvme_id_ctrl, cmic, 76);
WIRE_OFF(nvme_id_ctrl, mdts, 77);
WIRE_OFF(nvme_id_ctrl, cntlid, 78);
WIRE_OFF(nvme_id_ctrl, ver, 80);
WIRE_OFF(nvme_id_ctrl, oaes, 92);
WIRE_OFF(nvme_id_ctrl, ctratt, 96);
WIRE_OFF(nvme_id_ctrl, cntrltype, 111);
WIRE_OFF(nvme_id_ctrl, fguid, 112);
WIRE_OFF(nvme_id_ctrl, nvmsr, 253);
WIRE_OFF(nvme_id_ctrl, oacs, 256);
WIRE_OFF(nvme_id_ctrl, aerl, 259);
WIRE_OFF(nvme_id_ctrl, lpa, 261);
WIRE_OFF(nvme_id_ctrl, elpe, 262);
WIRE_OFF(nvme_id_ctrl, wctemp, 266);
WIRE_OFF(nvme_id_ctrl, tnvmcap, 280);
WIRE_OFF(nvme_id_ctrl, kas, 320);
WIRE_OFF(nvme_id_ctrl, anatt, 342);
WIRE_OFF(nvme_id_ctrl, pels, 352);
WIRE_OFF(nvme_id_ctrl, megcap, 368);
WIRE_OFF(nvme_id_ctrl, sqes, 512);
WIRE_OFF(nvme_id_ctrl, maxcmd, 514);
WIRE_OFF(nvme_id_ctrl, nn, 516);
WIRE_OFF(nvme_id_ctrl, oncs, 520);
WIRE_OFF(nvme_id_ctrl, fuses, 522);
WIRE_OFF(nvme_id_ctrl, vwc, 525);
WIRE_OFF(nvme_id_ctrl, acwu, 532);
WIRE_OFF(nvme_id_ctrl, sgls, 536);
WIRE_OFF(nvme_id_ctrl, mnan, 540);
WIRE_OFF(nvme_id_ctrl, maxcna, 560);
WIRE_OFF(nvme_id_ctrl, subnqn, 768);
WIRE_OFF(nvme_id_ctrl, ioccsz, 1792);
WIRE_OFF(nvme_id_ctrl, iorcsz, 1796);
WIRE_OFF(nvme_id_ctrl, icdoff, 1800);
WIRE_OFF(nvme_id_ctrl, fcatt, 1802);
WIRE_OFF(nvme_id_ctrl, msdbd, 1803);
WIRE_OFF(nvme_id_ctrl, ofcs, 1804);
WIRE_OFF(nvme_id_ctrl, dctype, 1806);
WIRE_OFF(nvme_id_ctrl, psd, 2048);
WIRE_OFF(nvme_id_ctrl, vs, 3072);

enum {
	NVME_CTRL_CMIC_MULTI_PORT = 1 << 0,
	NVME_CTRL_CMIC_MULTI_CTRL = 1 << 1,
	NVME_CTRL_CMIC_ANA = 1 << 3,
	NVME_CTRL_CTRATT_HOSTID_128 = 1 << 0,
	NVME_CTRL_CTRATT_TBKAS = 1 << 6,
	NVME_CTRL_CNTRLTYPE_IO = 1,
	NVME_CTRL_CNTRLTYPE_DISC = 2,
	NVME_CTRL_CNTRLTYPE_ADMIN = 3,
	NVME_CTRL_LPA_SMART_PER_NS = 1 << 0,
	NVME_CTRL_LPA_CMD_EFFECTS = 1 << 1,
	NVME_CTRL_LPA_EXTENDED = 1 << 2,
	NVME_CTRL_ONCS_COMPARE = 1 << 0,
	NVME_CTRL_ONCS_WRITE_UNCOR = 1 << 1,
	NVME_CTRL_ONCS_DSM = 1 << 2,
	NVME_CTRL_ONCS_WRITE_ZEROES = 1 << 3,
	NVME_CTRL_ONCS_RESERVATIONS = 1 << 5,
	NVME_CTRL_ONCS_VERIFY = 1 << 7,
	NVME_CTRL_FUSES_CNW = 1 << 0,	     /* Compare and Write (Base 3.4.2) */
	NVME_CTRL_ONCS_SAVE_SELECT = 1 << 4, /* SV in Set Features, SEL in Get Features */
	NVME_CTRL_VWC_PRESENT = 1 << 0,
	NVME_CTRL_VWC_FLUSH_NSID_ALL = 3 << 1, /* bits 2:1 = 11b: Flush of FFFFFFFFh supported */
	NVME_CTRL_FRMW_SLOT1_RO = 1 << 0,
	NVME_CTRL_SGLS_SUPPORTED = 1 << 0, /* bits 1:0 = 01b: no alignment */
	NVME_CTRL_SGLS_KEYED = 1 << 2,
	NVME_CTRL_SGLS_ADDR_OFFSET = 1 << 20,
	NVME_CTRL_SGLS_TRANSPORT_DB = 1 << 21,
	NVME_CTRL_OAES_NS_ATTR = 1 << 8,
	NVME_CTRL_OAES_ANA_CHANGE = 1 << 11,
	/* ANACAP: states reported (bits 4:0) */
	NVME_CTRL_ANACAP_OPT = 1 << 0,
	NVME_CTRL_ANACAP_NON_OPT = 1 << 1,
	NVME_CTRL_ANACAP_INACCESSIBLE = 1 << 2,
	NVME_CTRL_ANACAP_PERSISTENT_LOSS = 1 << 3,
	NVME_CTRL_ANACAP_CHANGE = 1 << 4,
	NVME_CTRL_OAES_DISC_CHANGE = 1u << 31,
};

struct nvme_lbaf {
	__le16 ms;
	uint8_t lbads;
	uint8_t rp;
};
WIRE_SIZE(nvme_lbaf, 4);

/* Identify Namespace data structure, NVM command set (NVM spec Figure 97). */
/* I/O Command Set Independent Identify Namespace (CNS 08h, Base 2.0 Figure 280). */
struct nvme_id_ns_cs_indep {
	uint8_t nsfeat;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	__le32 anagrpid;
	uint8_t nsattr;
	uint8_t rsvd9;
	__le16 nvmsetid;
	__le16 endgid;
	uint8_t nstat; /* bit 0: namespace ready */
	uint8_t rsvd15[4081];
};
WIRE_SIZE(nvme_id_ns_cs_indep, 4096);
WIRE_OFF(nvme_id_ns_cs_indep, anagrpid, 4);
WIRE_OFF(nvme_id_ns_cs_indep, nsattr, 8);
WIRE_OFF(nvme_id_ns_cs_indep, endgid, 12);
WIRE_OFF(nvme_id_ns_cs_indep, nstat, 14);
#define NVME_NS_NSTAT_READY 0x01

struct nvme_id_ns {
	__le64 nsze;
	__le64 ncap;
	__le64 nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	__le16 nawun;
	__le16 nawupf;
	__le16 nacwu;
	__le16 nabsn;
	__le16 nabo;
	__le16 nabspf;
	__le16 noiob;
	uint8_t nvmcap[16];
	__le16 npwg;
	__le16 npwa;
	__le16 npdg;
	__le16 npda;
	__le16 nows;
	__le16 mssrl;
	__le32 mcl;
	uint8_t msrc;
	uint8_t rsvd81;
	uint8_t nulbaf;
	uint8_t rsvd83[9];
	__le32 anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	__le16 nvmsetid;
	__le16 endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_lbaf lbaf[64];
	uint8_t vs[3712];
};
WIRE_SIZE(nvme_id_ns, 4096);
WIRE_OFF(nvme_id_ns, ncap, 8);
WIRE_OFF(nvme_id_ns, nuse, 16);
WIRE_OFF(nvme_id_ns, nsfeat, 24);
WIRE_OFF(nvme_id_ns, flbas, 26);
WIRE_OFF(nvme_id_ns, nmic, 30);
WIRE_OFF(nvme_id_ns, dlfeat, 33);
WIRE_OFF(nvme_id_ns, nvmcap, 48);
WIRE_OFF(nvme_id_ns, npwg, 64);
WIRE_OFF(nvme_id_ns, mcl, 76);
WIRE_OFF(nvme_id_ns, anagrpid, 92);
WIRE_OFF(nvme_id_ns, nsattr, 99);
WIRE_OFF(nvme_id_ns, nvmsetid, 100);
WIRE_OFF(nvme_id_ns, nguid, 104);
WIRE_OFF(nvme_id_ns, eui64, 120);
WIRE_OFF(nvme_id_ns, lbaf, 128);
WIRE_OFF(nvme_id_ns, vs, 384);

#define NVME_NS_FLBAS_LBA_SHIFT 0
#define NVME_NS_FLBAS_LBA_MASK	0xf
#define NVME_NS_NSFEAT_THIN	(1 << 0)
#define NVME_NS_NSFEAT_IO_OPT	(1 << 4)
#define NVME_NS_NSATTR_WP	(1 << 0)
#define NVME_NS_NMIC_SHARED	(1 << 0)
/* RESCAP (NVM Figure 97): PTPLS, the six types, IEKEY behaviour of 1.3+. */
#define NVME_NS_RESCAP_PTPLS 0x01
#define NVME_NS_RESCAP_ALL   0xff
/* DLFEAT: deallocated blocks read as zeroes (bits 2:0 = 001b). */
#define NVME_NS_DLFEAT_READ_ZEROES 0x1
/* DLFEAT bit 3: Write Zeroes takes the Deallocate bit for this namespace. */
#define NVME_NS_DLFEAT_WZ_DEAC 0x8

/*
 * I/O Command Set specific Identify Controller data structure for the NVM
 * command set (Identify CNS 06h, CSI 00h; NVM Command Set 1.0 Figure 99).
 * Sizes are in logical blocks, limits 0 = none reported.
 */
struct nvme_id_ctrl_nvm {
	uint8_t vsl;  /* Verify Size Limit */
	uint8_t wzsl; /* Write Zeroes Size Limit (2^n MPSMIN units) */
	uint8_t wusl; /* Write Uncorrectable Size Limit */
	uint8_t dmrl; /* Dataset Management Ranges Limit */
	__le32 dmrsl; /* Dataset Management Range Size Limit */
	__le64 dmsl;  /* Dataset Management Size Limit */
	uint8_t rsvd16[4080];
};
WIRE_SIZE(nvme_id_ctrl_nvm, 4096);
WIRE_OFF(nvme_id_ctrl_nvm, dmrl, 3);
WIRE_OFF(nvme_id_ctrl_nvm, dmrsl, 4);
WIRE_OFF(nvme_id_ctrl_nvm, dmsl, 8);

/* Namespace Identification Descriptor (Figure 276). */
struct nvme_ns_id_desc {
	uint8_t nidt;
	uint8_t nidl;
	__le16 rsvd2;
	/* followed by nidl bytes of NID */
};
WIRE_SIZE(nvme_ns_id_desc, 4);

enum {
	NVME_NIDT_EUI64 = 1,
	NVME_NIDT_NGUID = 2,
	NVME_NIDT_UUID = 3,
	NVME_NIDT_CSI = 4,
	NVME_NIDT_EUI64_LEN = 8,
	NVME_NIDT_NGUID_LEN = 16,
	NVME_NIDT_UUID_LEN = 16,
	NVME_NIDT_CSI_LEN = 1,
	NVME_CSI_NVM = 0,
};

/* ---- Get Log Page (CDW10: LID 7:0, LSP 14:8, RAE 15, NUMDL 31:16;
 *      CDW11: NUMDU 15:0, LSI 31:16; CDW12/13: LPOL/LPOU; CDW14 CSI 31:24) ---- */

enum {
	NVME_LOG_SUPPORTED = 0x00,
	NVME_LOG_ERROR = 0x01,
	NVME_LOG_SMART = 0x02,
	NVME_LOG_FW_SLOT = 0x03,
	NVME_LOG_CHANGED_NS = 0x04,
	NVME_LOG_CMD_EFFECTS = 0x05,
	NVME_LOG_ANA = 0x0c,
	NVME_LOG_DISC = 0x70,
	NVME_LOG_RESERVATION = 0x80,
};
#define NVME_LOG_LID_SHIFT   0
#define NVME_LOG_LID_MASK    0xff
#define NVME_LOG_LSP_SHIFT   8
#define NVME_LOG_LSP_MASK    0x7f
#define NVME_LOG_RAE	     (1u << 15)
#define NVME_LOG_ANA_LSP_RGO 0x1 /* ANA log: return groups only (no NSIDs) */
#define NVME_LOG_NUMDL_SHIFT 16
#define NVME_LOG_NUMDL_MASK  0xffff

/* Error Information log entry (Figure 205). */
struct nvme_error_log_entry {
	__le64 error_count;
	__le16 sqid;
	uint16_t cmdid;
	__le16 status_field; /* phase bit 0 | status << 1, as in the CQE */
	__le16 parm_error_location;
	__le64 lba;
	__le32 nsid;
	uint8_t vs;
	uint8_t trtype;
	uint8_t csi;
	uint8_t opcode;
	__le64 cs;
	__le16 trtype_spec_info;
	uint8_t rsvd42[21];
	uint8_t log_page_version;
};
WIRE_SIZE(nvme_error_log_entry, 64);
WIRE_OFF(nvme_error_log_entry, sqid, 8);
WIRE_OFF(nvme_error_log_entry, status_field, 12);
WIRE_OFF(nvme_error_log_entry, lba, 16);
WIRE_OFF(nvme_error_log_entry, nsid, 24);
WIRE_OFF(nvme_error_log_entry, trtype, 29);
WIRE_OFF(nvme_error_log_entry, cs, 32);
WIRE_OFF(nvme_error_log_entry, trtype_spec_info, 40);
WIRE_OFF(nvme_error_log_entry, log_page_version, 63);

/* SMART / Health Information log (Figure 207). 128-bit counters are byte arrays. */
struct nvme_smart_log {
	uint8_t critical_warning;
	uint8_t temperature[2]; /* Kelvin, unaligned: get_le16 */
	uint8_t avail_spare;
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn_sumry;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16];
	uint8_t data_units_written[16];
	uint8_t host_reads[16];
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16];
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	__le32 warning_temp_time;
	__le32 critical_comp_time;
	__le16 temp_sensor[8];
	__le32 thm_temp1_trans_count;
	__le32 thm_temp2_trans_count;
	__le32 thm_temp1_total_time;
	__le32 thm_temp2_total_time;
	uint8_t rsvd232[280];
};
WIRE_SIZE(nvme_smart_log, 512);
WIRE_OFF(nvme_smart_log, temperature, 1);
WIRE_OFF(nvme_smart_log, avail_spare, 3);
WIRE_OFF(nvme_smart_log, percent_used, 5);
WIRE_OFF(nvme_smart_log, data_units_read, 32);
WIRE_OFF(nvme_smart_log, data_units_written, 48);
WIRE_OFF(nvme_smart_log, host_reads, 64);
WIRE_OFF(nvme_smart_log, host_writes, 80);
WIRE_OFF(nvme_smart_log, ctrl_busy_time, 96);
WIRE_OFF(nvme_smart_log, power_cycles, 112);
WIRE_OFF(nvme_smart_log, power_on_hours, 128);
WIRE_OFF(nvme_smart_log, unsafe_shutdowns, 144);
WIRE_OFF(nvme_smart_log, media_errors, 160);
WIRE_OFF(nvme_smart_log, num_err_log_entries, 176);
WIRE_OFF(nvme_smart_log, warning_temp_time, 192);
WIRE_OFF(nvme_smart_log, temp_sensor, 200);
WIRE_OFF(nvme_smart_log, thm_temp1_trans_count, 216);
WIRE_OFF(nvme_smart_log, thm_temp2_total_time, 228);

/* Firmware Slot Information log (Figure 209). */
struct nvme_fw_slot_log {
	uint8_t afi;
	uint8_t rsvd1[7];
	char frs[7][8];
	uint8_t rsvd64[448];
};
WIRE_SIZE(nvme_fw_slot_log, 512);
WIRE_OFF(nvme_fw_slot_log, frs, 8);

/* Changed Namespace List log (Figure 210). */
#define NVME_CHANGED_NS_MAX 1024
struct nvme_changed_ns_log {
	__le32 nsid[NVME_CHANGED_NS_MAX];
};
WIRE_SIZE(nvme_changed_ns_log, 4096);

/*
 * Asymmetric Namespace Access log (Base 2.0 5.16.1.12, Figures 224-225): a
 * header, then per ANA group a descriptor followed by NNSID NSIDs (4 bytes
 * each, ascending).
 */
struct nvme_ana_log_hdr {
	__le64 chgcnt;
	__le16 ngrps;
	uint8_t rsvd10[6];
};
WIRE_SIZE(nvme_ana_log_hdr, 16);
WIRE_OFF(nvme_ana_log_hdr, ngrps, 8);

struct nvme_ana_group_desc {
	__le32 anagrpid;
	__le32 nnsid;
	__le64 chgcnt;
	uint8_t anas; /* bits 3:0: the ANA state */
	uint8_t rsvd17[15];
	/* followed by nnsid __le32 NSIDs */
};
WIRE_SIZE(nvme_ana_group_desc, 32);
WIRE_OFF(nvme_ana_group_desc, nnsid, 4);
WIRE_OFF(nvme_ana_group_desc, chgcnt, 8);
WIRE_OFF(nvme_ana_group_desc, anas, 16);

/* Commands Supported and Effects log (Figure 211). */
struct nvme_cmd_effects_log {
	__le32 acs[256];
	__le32 iocs[256];
	uint8_t rsvd2048[2048];
};
WIRE_SIZE(nvme_cmd_effects_log, 4096);
WIRE_OFF(nvme_cmd_effects_log, iocs, 1024);

enum {
	NVME_CMD_EFFECTS_CSUPP = 1 << 0,
	NVME_CMD_EFFECTS_LBCC = 1 << 1,
	NVME_CMD_EFFECTS_NCC = 1 << 2,
	NVME_CMD_EFFECTS_NIC = 1 << 3,
	NVME_CMD_EFFECTS_CCC = 1 << 4,
};

/* ---- Features (Set/Get Features CDW10: FID 7:0, SV / SEL 10:8) ---- */

enum {
	NVME_FEAT_ARBITRATION = 0x01,
	NVME_FEAT_POWER_MGMT = 0x02,
	NVME_FEAT_TEMP_THRESH = 0x04,
	NVME_FEAT_ERR_RECOVERY = 0x05,
	NVME_FEAT_VOLATILE_WC = 0x06,
	NVME_FEAT_NUM_QUEUES = 0x07,
	NVME_FEAT_IRQ_COALESCE = 0x08,
	NVME_FEAT_IRQ_CONFIG = 0x09,
	NVME_FEAT_WRITE_ATOMIC = 0x0a,
	NVME_FEAT_ASYNC_EVENT = 0x0b,
	NVME_FEAT_AUTO_PST = 0x0c,
	NVME_FEAT_TIMESTAMP = 0x0e,
	NVME_FEAT_KATO = 0x0f,
	NVME_FEAT_HOST_BEHAVIOR = 0x16,
	NVME_FEAT_HOST_ID = 0x81,
	NVME_FEAT_RESV_MASK = 0x82,
	NVME_FEAT_RESV_PERSIST = 0x83,
};
#define NVME_FEAT_FID_SHIFT 0
#define NVME_FEAT_FID_MASK  0xff
#define NVME_FEAT_SEL_SHIFT 8 /* Get Features: 0 current, 1 default, 2 saved, 3 capabilities */
#define NVME_FEAT_SEL_MASK  0x7
#define NVME_FEAT_SV	    (1u << 31)

/* Number of Queues: NSQR 15:0, NCQR 31:16, both 0's based. */
#define NVME_FEAT_NQ(nsqr, ncqr) ((uint32_t)(((ncqr) << 16) | ((nsqr) & 0xffff)))

/* Asynchronous event completion dword 0 (Figure 146). */
enum {
	NVME_AER_TYPE_ERROR = 0,
	NVME_AER_TYPE_SMART = 1,
	NVME_AER_TYPE_NOTICE = 2,
	NVME_AER_TYPE_IO_CMD_SPECIFIC = 6,
	NVME_AER_IOCS_RESV_LOG = 0x00, /* Reservation Log Page Available */
	NVME_AER_NOTICE_NS_CHANGED = 0x00,
	NVME_AER_NOTICE_FW_ACT = 0x01,
	NVME_AER_NOTICE_ANA = 0x03,
	NVME_AER_NOTICE_DISC_CHANGED = 0xf0,
};
#define NVME_AER_RESULT(type, info, lid) \
	((uint32_t)(((lid) << 16) | ((info) << 8) | ((type) & 0x7)))

/* ---- Controller properties (NVMe-oF: registers reached by Property Get/Set) ---- */

enum {
	NVME_REG_CAP = 0x00,
	NVME_REG_VS = 0x08,
	NVME_REG_INTMS = 0x0c,
	NVME_REG_INTMC = 0x10,
	NVME_REG_CC = 0x14,
	NVME_REG_CSTS = 0x1c,
	NVME_REG_NSSR = 0x20,
	NVME_REG_AQA = 0x24,
	NVME_REG_ASQ = 0x28,
	NVME_REG_ACQ = 0x30,
	NVME_REG_CRTO = 0x68,
};

#define NVME_CAP_MQES_SHIFT   0
#define NVME_CAP_MQES_MASK    0xffffULL
#define NVME_CAP_CQR_SHIFT    16
#define NVME_CAP_CQR_MASK     0x1ULL
#define NVME_CAP_AMS_SHIFT    17
#define NVME_CAP_AMS_MASK     0x3ULL
#define NVME_CAP_TO_SHIFT     24 /* 500 ms units */
#define NVME_CAP_TO_MASK      0xffULL
#define NVME_CAP_DSTRD_SHIFT  32
#define NVME_CAP_DSTRD_MASK   0xfULL
#define NVME_CAP_NSSRS_SHIFT  36
#define NVME_CAP_NSSRS_MASK   0x1ULL
#define NVME_CAP_CSS_SHIFT    37
#define NVME_CAP_CSS_MASK     0xffULL
#define NVME_CAP_MPSMIN_SHIFT 48
#define NVME_CAP_MPSMIN_MASK  0xfULL
#define NVME_CAP_MPSMAX_SHIFT 52
#define NVME_CAP_MPSMAX_MASK  0xfULL
#define NVME_CAP_CSS_NVM      0x01
#define NVME_CAP_CSS_IOCS     0x40

#define NVME_VS(major, minor, ter) ((uint32_t)(((major) << 16) | ((minor) << 8) | (ter)))

#define NVME_CC_EN_SHIFT     0
#define NVME_CC_EN_MASK	     0x1
#define NVME_CC_CSS_SHIFT    4
#define NVME_CC_CSS_MASK     0x7
#define NVME_CC_MPS_SHIFT    7
#define NVME_CC_MPS_MASK     0xf
#define NVME_CC_AMS_SHIFT    11
#define NVME_CC_AMS_MASK     0x7
#define NVME_CC_SHN_SHIFT    14
#define NVME_CC_SHN_MASK     0x3
#define NVME_CC_IOSQES_SHIFT 16
#define NVME_CC_IOSQES_MASK  0xf
#define NVME_CC_IOCQES_SHIFT 20
#define NVME_CC_IOCQES_MASK  0xf
#define NVME_CC_SHN_NONE     0
#define NVME_CC_SHN_NORMAL   1
#define NVME_CC_SHN_ABRUPT   2

#define NVME_CSTS_RDY_SHIFT	0
#define NVME_CSTS_RDY_MASK	0x1
#define NVME_CSTS_CFS_SHIFT	1
#define NVME_CSTS_CFS_MASK	0x1
#define NVME_CSTS_SHST_SHIFT	2
#define NVME_CSTS_SHST_MASK	0x3
#define NVME_CSTS_SHST_NORMAL	0
#define NVME_CSTS_SHST_OCCUR	1
#define NVME_CSTS_SHST_COMPLETE 2

/* ---- Reservations (NVMe Base 2.0 7.2-7.5, 8.19; NVM Command Set 4.x) ---- */

/* Reservation types (Base 2.0 Reservation Acquire, RTYPE). */
enum {
	NVME_RTYPE_NONE = 0,
	NVME_RTYPE_WE = 1,    /* Write Exclusive */
	NVME_RTYPE_EA = 2,    /* Exclusive Access */
	NVME_RTYPE_WE_RO = 3, /* Write Exclusive - Registrants Only */
	NVME_RTYPE_EA_RO = 4, /* Exclusive Access - Registrants Only */
	NVME_RTYPE_WE_AR = 5, /* Write Exclusive - All Registrants */
	NVME_RTYPE_EA_AR = 6, /* Exclusive Access - All Registrants */
};

/* Reservation Register CDW10: RREGA 2:0, IEKEY 3, CPTPL 31:30. */
#define NVME_RREGA_SHIFT 0
#define NVME_RREGA_MASK	 0x7
#define NVME_RESV_IEKEY	 (1u << 3)
#define NVME_CPTPL_SHIFT 30
#define NVME_CPTPL_MASK	 0x3
enum {
	NVME_RREGA_REGISTER = 0,
	NVME_RREGA_UNREGISTER = 1,
	NVME_RREGA_REPLACE = 2,
	NVME_CPTPL_NO_CHANGE = 0,
	NVME_CPTPL_CLEAR = 2,
	NVME_CPTPL_SET = 3,
};
/* Reservation Acquire / Release CDW10: RACQA / RRELA 2:0, IEKEY 3, RTYPE 15:8. */
#define NVME_RACQA_SHIFT 0
#define NVME_RACQA_MASK	 0x7
#define NVME_RTYPE_SHIFT 8
#define NVME_RTYPE_MASK	 0xff
enum {
	NVME_RACQA_ACQUIRE = 0,
	NVME_RACQA_PREEMPT = 1,
	NVME_RACQA_PREEMPT_ABORT = 2,
	NVME_RRELA_RELEASE = 0,
	NVME_RRELA_CLEAR = 1,
};
/* Reservation Report CDW11: EDS 0. */
#define NVME_RESV_REPORT_EDS (1u << 0)

/* Reservation Register data. */
struct nvme_resv_register_data {
	__le64 crkey;
	__le64 nrkey;
};
WIRE_SIZE(nvme_resv_register_data, 16);

/* Reservation Acquire data. */
struct nvme_resv_acquire_data {
	__le64 crkey;
	__le64 prkey;
};
WIRE_SIZE(nvme_resv_acquire_data, 16);

/* Reservation Release data. */
struct nvme_resv_release_data {
	__le64 crkey;
};
WIRE_SIZE(nvme_resv_release_data, 8);

/* Reservation Status data structure header. */
struct nvme_resv_status {
	__le32 gen;
	uint8_t rtype;
	uint8_t regctl[2]; /* unaligned (byte 5): get_le16 */
	uint8_t rsvd7[2];
	uint8_t ptpls;
	uint8_t rsvd10[14];
};
WIRE_SIZE(nvme_resv_status, 24);
WIRE_OFF(nvme_resv_status, rtype, 4);
WIRE_OFF(nvme_resv_status, regctl, 5);
WIRE_OFF(nvme_resv_status, ptpls, 9);

/* Registered Controller data structure: 64-bit Host Identifier. */
struct nvme_registered_ctrl {
	__le16 cntlid;
	uint8_t rcsts; /* bit 0: holds the reservation */
	uint8_t rsvd3[5];
	uint8_t hostid[8];
	__le64 rkey;
};
WIRE_SIZE(nvme_registered_ctrl, 24);
WIRE_OFF(nvme_registered_ctrl, hostid, 8);
WIRE_OFF(nvme_registered_ctrl, rkey, 16);

/* Reservation Status Extended data structure header. */
struct nvme_resv_status_ext {
	struct nvme_resv_status hdr;
	uint8_t rsvd24[40];
};
WIRE_SIZE(nvme_resv_status_ext, 64);

/* Registered Controller Extended data structure: 128-bit Host Identifier. */
struct nvme_registered_ctrl_ext {
	__le16 cntlid;
	uint8_t rcsts;
	uint8_t rsvd3[5];
	__le64 rkey;
	uint8_t hostid[16];
	uint8_t rsvd32[32];
};
WIRE_SIZE(nvme_registered_ctrl_ext, 64);
WIRE_OFF(nvme_registered_ctrl_ext, rkey, 8);
WIRE_OFF(nvme_registered_ctrl_ext, hostid, 16);

/* Reservation Notification log page (80h, Base 2.0 5.16.1.25). */
struct nvme_resv_notif_log {
	__le64 count;
	uint8_t type;
	uint8_t nr_avail;
	uint8_t rsvd10[2];
	__le32 nsid;
	uint8_t rsvd16[48];
};
WIRE_SIZE(nvme_resv_notif_log, 64);
WIRE_OFF(nvme_resv_notif_log, type, 8);
WIRE_OFF(nvme_resv_notif_log, nr_avail, 9);
WIRE_OFF(nvme_resv_notif_log, nsid, 12);

/* Reservation Notification types (log page 80h) and mask bits (feature 82h). */
enum {
	NVME_RESV_LOG_EMPTY = 0,
	NVME_RESV_LOG_REG_PREEMPTED = 1,
	NVME_RESV_LOG_RELEASED = 2,
	NVME_RESV_LOG_PREEMPTED = 3,
	NVME_RESV_MASK_REGPRE = 1 << 1, /* feature 82h: bit n masks log type n */
	NVME_RESV_MASK_RESREL = 1 << 2,
	NVME_RESV_MASK_RESPRE = 1 << 3,
};
