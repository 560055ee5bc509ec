/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transport-neutral core of libnvmf: associations (refcounted, with a
 * sticky error message), queue-pair bookkeeping (CID slots) and capsules
 * (SGL setup, submission, waiting), dispatching to the transport ops.
 *
 * Specifications: NVMe Base 2.0 and NVMe over Fabrics 1.1 (section numbers
 * below are theirs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "nqn.h"
#include "nvmf_internal.h"
#include "nvme_tcp.h"
#include "status.h"

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_XFER   (1u << 20) /* MDTS 0 means no limit; be sane */

/* ---- Associations ---- */

int na_error(struct nvmf_association *na, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(na->na_error, sizeof(na->na_error), fmt, ap);
	va_end(ap);
	return err;
}

int nq_error(struct nvmf_qpair *qp, int err, const char *fmt, ...)
{
	struct nvmf_association *na = qp->nq_association;
	va_list ap;
	int n;

	n = snprintf(na->na_error, sizeof(na->na_error), "queue %u: ", qp->nq_qid);
	va_start(ap, fmt);
	vsnprintf(na->na_error + n, sizeof(na->na_error) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static const struct nvmf_transport_ops *transport_ops(uint8_t trtype)
{
	switch (trtype) {
	case NVMF_TRTYPE_TCP:
		return &nvmf_tcp_ops;
	default:
		return NULL;
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Fill in the host identity defaults; -EINVAL for an invalid host NQN. */
static int apply_identity(struct nvmf_association_params *p, const char **why)
{
	char nqn[NVMF_NQN_FIELD];
	uint8_t id[16];
	int ret;

	if (p->hostnqn[0] != '\0' && !all_zero(p->hostid, sizeof(p->hostid)))
		return nvmf_nqn_check(p->hostnqn, why);
	ret = nvmf_host_identity(nqn, id);
	if (ret)
		return ret;
	if (p->hostnqn[0] == '\0')
		memcpy(p->hostnqn, nqn, sizeof(nqn));
	if (all_zero(p->hostid, sizeof(p->hostid)))
		memcpy(p->hostid, id, sizeof(id));
	return nvmf_nqn_check(p->hostnqn, why);
}

struct nvmf_association *
nvmf_association_alloc(uint8_t trtype, const struct nvmf_association_params *params, int *err)
{
	const struct nvmf_transport_ops *ops = transport_ops(trtype);
	struct nvmf_association *na;
	const char *why = NULL;

	if (ops == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	na = calloc(1, sizeof(*na));
	if (na == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	na->na_ops = ops;
	na->na_trtype = trtype;
	na->na_params = *params;
	na->na_params.hostnqn[NVMF_NQN_FIELD - 1] = '\0';
	if (na->na_params.timeout_ms == 0)
		na->na_params.timeout_ms = DEFAULT_TIMEOUT_MS;
	na->na_max_xfer = DEFAULT_MAX_XFER;
	na->na_refs = 1;
	*err = apply_identity(&na->na_params, &why);
	if (*err) {
		tls_psk_key_clear(&na->na_params.tls_key);
		dhchap_key_wipe(&na->na_params.dhchap_key);
		dhchap_key_wipe(&na->na_params.dhchap_ctrl_key);
		free(na);
		return NULL;
	}
	return na;
}

static void association_put(struct nvmf_association *na)
{
	if (--na->na_refs != 0)
		return;
	tls_psk_key_clear(&na->na_params.tls_key);
	dhchap_key_wipe(&na->na_params.dhchap_key);
	dhchap_key_wipe(&na->na_params.dhchap_ctrl_key);
	free(na);
}

void nvmf_association_free(struct nvmf_association *na)
{
	if (na == NULL || na->na_freed)
		return;
	na->na_freed = true;
	association_put(na);
}

const char *nvmf_association_error(const struct nvmf_association *na)
{
	return na->na_error;
}

const char *nvmf_association_hostnqn(const struct nvmf_association *na)
{
	return na->na_params.hostnqn;
}

void nvmf_association_update(struct nvmf_association *na, const struct nvme_id_ctrl *cdata,
			     unsigned int mpsmin)
{
	uint32_t ioccsz = le32toh(cdata->ioccsz);
	uint64_t mdts;

	/* NVMe-oF 1.1 4.1: IOCCSZ counts 16-byte units of SQE + in-capsule data. */
	na->na_io_icd = ioccsz > 4 ? (ioccsz - 4) * 16 : 0;
	/* 5.15.2.1: MDTS in units of the minimum memory page size, 0 = none. */
	if (cdata->mdts == 0 || cdata->mdts + 12u + mpsmin >= 32) {
		na->na_max_xfer = DEFAULT_MAX_XFER;
	} else {
		mdts = (uint64_t)1 << (cdata->mdts + 12 + mpsmin);
		na->na_max_xfer = (uint32_t)mdts;
	}
}

uint32_t nvmf_max_xfer(const struct nvmf_association *na)
{
	return na->na_max_xfer;
}

/* ---- Queue pairs ---- */

int nvmf_qpair_init(struct nvmf_qpair *qp, struct nvmf_association *na,
		    const struct nvmf_qpair_params *params)
{
	if (params->qsize < 2 || params->qsize > NVMF_QSIZE_MAX)
		return na_error(na, -EINVAL, "invalid queue size %u", params->qsize);
	qp->nq_slots = calloc(params->qsize, sizeof(qp->nq_slots[0]));
	if (qp->nq_slots == NULL)
		return na_error(na, -ENOMEM, "out of memory");
	qp->nq_association = na;
	qp->nq_qid = params->qid;
	qp->nq_admin = params->qid == 0;
	qp->nq_qsize = params->qsize;
	qp->nq_cntlid = params->cntlid;
	/*
	 * What the Linux host sends in-capsule: up to 8 KiB on the admin queue
	 * (NVME_TCP_ADMIN_CCSZ), IOCCSZ x 16 - 64 on I/O queues.
	 */
	qp->nq_max_icd = qp->nq_admin ? NVME_TCP_ADMIN_ICD : na->na_io_icd;
	na->na_refs++;
	return 0;
}

void nvmf_qpair_fini(struct nvmf_qpair *qp)
{
	nvmf_qpair_kill(qp, -ECONNABORTED);
	free(qp->nq_slots);
	association_put(qp->nq_association);
}

void nvmf_qpair_free(struct nvmf_qpair *qp)
{
	if (qp != NULL)
		qp->nq_association->na_ops->qpair_free(qp);
}

uint16_t nvmf_qpair_cntlid(const struct nvmf_qpair *qp)
{
	return qp->nq_cntlid;
}

uint16_t nvmf_qpair_qid(const struct nvmf_qpair *qp)
{
	return qp->nq_qid;
}

struct nvmf_association *nvmf_qpair_association(const struct nvmf_qpair *qp)
{
	return qp->nq_association;
}

struct nvmf_capsule *nvmf_qpair_lookup(struct nvmf_qpair *qp, uint16_t cid)
{
	unsigned int slot = cid & NVMF_CID_SLOT_MASK;
	struct nvmf_capsule *nc;

	if (slot >= qp->nq_qsize)
		return NULL;
	nc = qp->nq_slots[slot];
	/* The CID is opaque on the wire: compare it as sent. */
	if (nc == NULL || nc->nc_sqe.cid != cid)
		return NULL;
	return nc;
}

static void release_slot(struct nvmf_capsule *nc)
{
	struct nvmf_qpair *qp = nc->nc_qpair;

	if (!nc->nc_submitted)
		return;
	qp->nq_slots[nc->nc_sqe.cid & NVMF_CID_SLOT_MASK] = NULL;
	qp->nq_outstanding--;
	nc->nc_submitted = false;
}

void nvmf_capsule_complete(struct nvmf_capsule *nc, const struct nvme_cqe *cqe, int err)
{
	if (cqe != NULL)
		nc->nc_cqe = *cqe;
	if (nc->nc_error == 0)
		nc->nc_error = err;
	nc->nc_done = true;
	release_slot(nc);
}

void nvmf_qpair_kill(struct nvmf_qpair *qp, int err)
{
	if (qp->nq_dead == 0)
		qp->nq_dead = err;
	for (unsigned int i = 0; i < qp->nq_qsize; i++)
		if (qp->nq_slots[i] != NULL)
			nvmf_capsule_complete(qp->nq_slots[i], NULL, err);
}

/* ---- Capsules ---- */

struct nvmf_capsule *nvmf_capsule_alloc(struct nvmf_qpair *qp, const struct nvme_sqe *sqe)
{
	struct nvmf_capsule *nc = qp->nq_association->na_ops->capsule_alloc(qp);

	if (nc == NULL)
		return NULL;
	nc->nc_qpair = qp;
	nc->nc_sqe = *sqe;
	return nc;
}

void nvmf_capsule_free(struct nvmf_capsule *nc)
{
	if (nc == NULL)
		return;
	release_slot(nc);
	nc->nc_qpair->nq_association->na_ops->capsule_free(nc);
}

int nvmf_capsule_set_data(struct nvmf_capsule *nc, void *buf, uint32_t len, bool send)
{
	if (nc->nc_submitted || (buf == NULL && len != 0))
		return -EINVAL;
	nc->nc_data = buf;
	nc->nc_data_len = len;
	nc->nc_send = send;
	return 0;
}

const struct nvme_sqe *nvmf_capsule_sqe(const struct nvmf_capsule *nc)
{
	return &nc->nc_sqe;
}

const struct nvme_cqe *nvmf_capsule_cqe(const struct nvmf_capsule *nc)
{
	return &nc->nc_cqe;
}

/* A free CID slot (one entry stays unused: a full SQ has qsize - 1 entries). */
static int alloc_cid(struct nvmf_qpair *qp, struct nvmf_capsule *nc)
{
	unsigned int slot = qp->nq_next_slot;

	if (qp->nq_outstanding >= qp->nq_qsize - 1)
		return -EBUSY;
	while (qp->nq_slots[slot] != NULL)
		slot = (slot + 1) % qp->nq_qsize;
	qp->nq_next_slot = (uint16_t)((slot + 1) % qp->nq_qsize);
	qp->nq_gen = (uint8_t)((qp->nq_gen + 1) & 0xf);
	nc->nc_sqe.cid = (uint16_t)(slot | (unsigned int)qp->nq_gen << NVMF_CID_SLOT_BITS);
	qp->nq_slots[slot] = nc;
	qp->nq_outstanding++;
	nc->nc_submitted = true;
	return 0;
}

/*
 * The data pointer (NVMe-oF 1.1 7.3.2, NVMe/TCP 1.0 3.3.1): always an SGL
 * (PSDT 01b); in-capsule data is a Data Block with the Offset subtype at
 * offset 0 (ICDOFF is 0), anything else a Transport Data Block for R2T /
 * C2HData (length 0 when there is no data). Fabrics commands may always
 * carry 8 KiB in-capsule, as the Linux host assumes.
 */
static bool setup_sgl(struct nvmf_capsule *nc)
{
	struct nvme_sqe *sqe = &nc->nc_sqe;
	uint32_t icd_max = nc->nc_qpair->nq_max_icd;
	bool icd;

	if (sqe->opc == NVME_ADM_FABRICS)
		icd_max = NVME_TCP_ADMIN_ICD;
	icd = nc->nc_send && nc->nc_data_len > 0 && nc->nc_data_len <= icd_max;
	sqe->flags = (uint8_t)((sqe->flags & ~NVMEM(NVME_SQE_PSDT)) |
			       NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG));
	memset(&sqe->sgl1, 0, sizeof(sqe->sgl1));
	sqe->sgl1.length = htole32(nc->nc_data_len);
	sqe->sgl1.type = icd ? NVME_SGL_ICD : NVME_SGL_TRANSPORT_DB;
	return icd;
}

int nvmf_capsule_submit(struct nvmf_capsule *nc)
{
	struct nvmf_qpair *qp = nc->nc_qpair;
	bool icd;
	int ret;

	if (qp->nq_dead)
		return qp->nq_dead;
	if (nc->nc_submitted || nc->nc_done)
		return -EINVAL;
	ret = alloc_cid(qp, nc);
	if (ret)
		return ret;
	icd = setup_sgl(nc);
	ret = qp->nq_association->na_ops->transmit_command(nc, icd);
	if (ret)
		release_slot(nc);
	return ret;
}

int nvmf_capsule_wait(struct nvmf_capsule *nc)
{
	struct nvmf_qpair *qp = nc->nc_qpair;
	int ret;

	if (!nc->nc_submitted && !nc->nc_done)
		return -EINVAL;
	while (!nc->nc_done) {
		ret = qp->nq_association->na_ops->receive(qp);
		if (ret && !nc->nc_done)
			return ret;
	}
	return nc->nc_error;
}

int nvmf_host_execute_cqe(struct nvmf_qpair *qp, const struct nvme_sqe *sqe, void *buf,
			  uint32_t len, bool send, struct nvme_cqe *cqe)
{
	struct nvmf_capsule *nc = nvmf_capsule_alloc(qp, sqe);
	int ret;

	if (nc == NULL)
		return nq_error(qp, -ENOMEM, "out of memory");
	ret = nvmf_capsule_set_data(nc, buf, len, send);
	if (ret == 0)
		ret = nvmf_capsule_submit(nc);
	if (ret == 0)
		ret = nvmf_capsule_wait(nc);
	if (ret == 0)
		*cqe = nc->nc_cqe;
	nvmf_capsule_free(nc);
	return ret;
}

int nvmf_host_execute(struct nvmf_qpair *qp, const struct nvme_sqe *sqe, void *buf, uint32_t len,
		      bool send, uint32_t *dw0, nvme_status_t *status)
{
	struct nvme_cqe cqe;
	int ret;

	*status = 0;
	ret = nvmf_host_execute_cqe(qp, sqe, buf, len, send, &cqe);
	if (ret == 0) {
		*status = nvme_cqe_status(&cqe);
		if (dw0 != NULL)
			*dw0 = le32toh(cqe.dw0);
	}
	return ret;
}
