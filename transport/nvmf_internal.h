/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libnvmf internals: the transport ops table and the base objects that each
 * transport extends by embedding them first (struct nvmf_tcp_qpair starts
 * with struct nvmf_qpair; TQP() downcasts), as FreeBSD's lib/libnvmf does.
 * Base members carry na_ / nq_ / nc_ prefixes.
 */
#pragma once

#include <stdarg.h>

#include "nvmf.h"

struct nvmf_transport_ops {
	const char *name;

	/* Queue pair management: connect the transport (TCP + ICReq / ICResp). */
	struct nvmf_qpair *(*qpair_alloc)(struct nvmf_association *na,
					  const struct nvmf_qpair_params *params, int *err);
	void (*qpair_free)(struct nvmf_qpair *qp);

	/* Capsule operations. */
	struct nvmf_capsule *(*capsule_alloc)(struct nvmf_qpair *qp);
	void (*capsule_free)(struct nvmf_capsule *nc);
	/* Send a command whose SQE (CID, SGL) is final; icd: data in the capsule. */
	int (*transmit_command)(struct nvmf_capsule *nc, bool icd);
	/* Receive and handle one PDU (or part of one); completes capsules. */
	int (*receive)(struct nvmf_qpair *qp);
};

struct nvmf_association {
	const struct nvmf_transport_ops *na_ops;
	uint8_t na_trtype;
	struct nvmf_association_params na_params; /* hostnqn / hostid defaults applied */
	unsigned int na_refs;			  /* the caller's + one per qpair */
	bool na_freed;				  /* the caller let go */
	/* From Identify Controller (nvmf_association_update), for I/O queues. */
	uint32_t na_io_icd; /* IOCCSZ x 16 - 64; 0: unknown */
	uint32_t na_max_xfer;
	uint16_t na_auth_tid; /* DH-HMAC-CHAP transaction identifiers: the next one */
	char na_error[512];
};

/*
 * CIDs: the slot index in bits 11:0 and a 4-bit generation above it, so a
 * late or duplicated response to a reused slot is recognised (Linux does
 * the same). qsize <= 4095 keeps 0xFFFF unused (NVMe 2.0 4.2: CID FFFFh is
 * not used by hosts).
 */
#define NVMF_CID_SLOT_BITS 12
#define NVMF_CID_SLOT_MASK ((1u << NVMF_CID_SLOT_BITS) - 1)
#define NVMF_QSIZE_MAX	   4095

struct nvmf_qpair {
	struct nvmf_association *nq_association;
	bool nq_admin;
	uint16_t nq_qid;
	uint16_t nq_qsize;
	uint16_t nq_cntlid;
	uint32_t nq_max_icd; /* in-capsule data this queue may send for non-fabrics commands */
	int nq_dead;	     /* 0, or the fatal error every later call returns */
	/* Outstanding commands by CID slot; one slot is kept free (SQ full rule). */
	struct nvmf_capsule **nq_slots;
	uint16_t nq_outstanding;
	uint16_t nq_next_slot;
	uint8_t nq_gen;
};

struct nvmf_capsule {
	struct nvmf_qpair *nc_qpair;
	struct nvme_sqe nc_sqe;
	struct nvme_cqe nc_cqe;
	void *nc_data;
	uint32_t nc_data_len;
	bool nc_send;	   /* data flows host to controller */
	bool nc_submitted; /* holds a CID slot */
	bool nc_done;	   /* nc_cqe is valid, or nc_error is set */
	int nc_error;	   /* transport error of this command (e.g. -EBADMSG) */
};

extern const struct nvmf_transport_ops nvmf_tcp_ops;

/* Set the association's sticky error message; returns err for tail calls. */
int na_error(struct nvmf_association *na, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, prefixed with "queue <qid>: ". */
int nq_error(struct nvmf_qpair *qp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* For transports: set up / tear down the base part of a queue pair. */
int nvmf_qpair_init(struct nvmf_qpair *qp, struct nvmf_association *na,
		    const struct nvmf_qpair_params *params);
void nvmf_qpair_fini(struct nvmf_qpair *qp);

/* The outstanding capsule with this CID, or NULL. */
struct nvmf_capsule *nvmf_qpair_lookup(struct nvmf_qpair *qp, uint16_t cid);

/* Complete a capsule with a response (cqe) or an error (cqe NULL). */
void nvmf_capsule_complete(struct nvmf_capsule *nc, const struct nvme_cqe *cqe, int err);

/* Mark the queue pair dead: every outstanding command fails with err. */
void nvmf_qpair_kill(struct nvmf_qpair *qp, int err);
