/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host commands over libnvmf queue pairs: Fabrics Connect and properties,
 * controller enable / shutdown, Identify, Get Log Page (and the discovery
 * log), Set Features, Keep Alive, Read and Write.
 *
 * Specifications: NVMe Base 2.0 ("5.x", "3.x"), NVM Command Set 1.0 and
 * NVMe over Fabrics 1.1 ("NVMe-oF 3.x"). The sequences follow what the
 * Linux host does (drivers/nvme/host/{core,fabrics}.c, libnvme).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "byteorder.h"
#include "nqn.h"
#include "nvmf_internal.h"
#include "status.h"

/* One SQE seen through the Fabrics command layouts. */
union fabrics_sqe {
	struct nvme_sqe sqe;
	struct nvmf_fabrics_cmd fab;
	struct nvmf_connect_cmd connect;
	struct nvmf_prop_get_cmd prop_get;
	struct nvmf_prop_set_cmd prop_set;
};

static void init_fabrics(union fabrics_sqe *c, uint8_t fctype)
{
	memset(c, 0, sizeof(*c));
	c->fab.opc = NVME_ADM_FABRICS;
	c->fab.fctype = fctype;
}

static void init_sqe(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = opc;
	sqe->nsid = htole32(nsid);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---- Connect (NVMe-oF 3.3) ---- */

const char *nvmf_connect_field(const struct nvmf_connect_rsp *rsp)
{
	static __thread char other[32];

	if (rsp->iattr_data) {
		switch (rsp->ipo) {
		case offsetof(struct nvmf_connect_data, hostid):
			return "hostid";
		case offsetof(struct nvmf_connect_data, cntlid):
			return "cntlid";
		case offsetof(struct nvmf_connect_data, subnqn):
			return "subnqn";
		case offsetof(struct nvmf_connect_data, hostnqn):
			return "hostnqn";
		}
	} else {
		switch (rsp->ipo) {
		case offsetof(struct nvmf_connect_cmd, sgl1):
			return "sgl1";
		case offsetof(struct nvmf_connect_cmd, recfmt):
			return "recfmt";
		case offsetof(struct nvmf_connect_cmd, qid):
			return "qid";
		case offsetof(struct nvmf_connect_cmd, sqsize):
			return "sqsize";
		case offsetof(struct nvmf_connect_cmd, cattr):
			return "cattr";
		case offsetof(struct nvmf_connect_cmd, kato):
			return "kato";
		}
	}
	snprintf(other, sizeof(other), "%s offset %u", rsp->iattr_data ? "data" : "command",
		 rsp->ipo);
	return other;
}

static void connect_data(struct nvmf_connect_data *d, const struct nvmf_association *na,
			 const struct nvmf_qpair_params *p)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->hostid, na->na_params.hostid, sizeof(d->hostid));
	/* 0xFFFF on the admin queue: the dynamic controller model. */
	d->cntlid = htole16(p->cntlid);
	memcpy(d->subnqn, p->subnqn, strlen(p->subnqn));
	memcpy(d->hostnqn, na->na_params.hostnqn, strlen(na->na_params.hostnqn));
}

/* The controller said no: keep the status and say why. */
static void connect_refused(struct nvmf_association *na, const struct nvmf_qpair_params *p,
			    nvme_status_t st, uint32_t dw0, struct nvmf_connect_rsp *rsp)
{
	rsp->status = st;
	if (NVME_STATUS_CODE(st) == NVME_SC(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM)) {
		/* Figure 22: IATTR bit 16, IPO bits 15:0. */
		rsp->iattr_data = (dw0 >> 16) & 1;
		rsp->ipo = (uint16_t)dw0;
		na_error(na, 0, "queue %u: Connect to %s refused: %s: %s", p->qid, p->subnqn,
			 nvme_status_str_fabrics(st), nvmf_connect_field(rsp));
		return;
	}
	na_error(na, 0, "queue %u: Connect to %s refused: %s", p->qid, p->subnqn,
		 nvme_status_str_fabrics(st));
}

int nvmf_connect(struct nvmf_association *na, const struct nvmf_qpair_params *params,
		 struct nvmf_qpair **qpp, struct nvmf_connect_rsp *rsp)
{
	union fabrics_sqe cmd;
	struct nvmf_connect_data data;
	struct nvmf_qpair *qp;
	struct nvme_cqe cqe;
	const char *why;
	nvme_status_t st;
	uint32_t dw0;
	int ret;

	*qpp = NULL;
	memset(rsp, 0, sizeof(*rsp));
	if (nvmf_nqn_check(params->subnqn, &why))
		return na_error(na, -EINVAL, "subsystem NQN \"%s\" %s", params->subnqn, why);
	qp = na->na_ops->qpair_alloc(na, params, &ret);
	if (qp == NULL)
		return ret;
	init_fabrics(&cmd, NVMF_FCTYPE_CONNECT);
	cmd.connect.recfmt = 0;
	cmd.connect.qid = htole16(params->qid);
	cmd.connect.sqsize = htole16(params->qsize - 1); /* 0's based */
	if (na->na_params.disable_sqflow)
		cmd.connect.cattr = NVMF_CONNECT_CATTR_DISABLE_SQFC;
	/* KATO only on the admin queue (NVMe-oF 3.3: reserved for I/O queues). */
	cmd.connect.kato = htole32(params->qid == 0 ? na->na_params.kato_ms : 0);
	connect_data(&data, na, params);
	ret = nvmf_host_execute_cqe(qp, &cmd.sqe, &data, sizeof(data), true, &cqe);
	if (ret)
		goto out_free;
	st = nvme_cqe_status(&cqe);
	dw0 = le32toh(cqe.dw0);
	if (st != 0) {
		connect_refused(na, params, st, dw0, rsp);
		goto out_free;
	}
	rsp->cntlid = NVMF_CONNECT_RSP_CNTLID(dw0);
	qp->nq_cntlid = rsp->cntlid;
	if (dw0 & NVMF_CONNECT_AUTHREQ_ASCR) {
		/* a secure channel (TLS from the authentication's key) is not supported */
		ret = na_error(na, -EOPNOTSUPP,
			       "queue %u: the controller requires secure channel "
			       "concatenation (ASCR), which is not supported",
			       params->qid);
		goto out_free;
	}
	if (dw0 & NVMF_CONNECT_AUTHREQ_ATR) {
		ret = nvmf_host_authenticate(qp, params->subnqn);
		if (ret)
			goto out_free;
	}
	*qpp = qp;
	return 0;
out_free:
	nvmf_qpair_free(qp);
	return ret;
}

/* ---- Properties (NVMe-oF 3.4, 3.5) ---- */

static int prop_size(unsigned int size, uint8_t *attrib)
{
	if (size != 4 && size != 8)
		return -EINVAL;
	*attrib = size == 8 ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4;
	return 0;
}

int nvmf_host_prop_get(struct nvmf_qpair *qp, uint32_t ofst, unsigned int size, uint64_t *value,
		       nvme_status_t *status)
{
	union fabrics_sqe cmd;
	struct nvme_cqe cqe;
	int ret;

	*status = 0;
	init_fabrics(&cmd, NVMF_FCTYPE_PROPERTY_GET);
	ret = prop_size(size, &cmd.prop_get.attrib);
	if (ret)
		return ret;
	cmd.prop_get.ofst = htole32(ofst);
	ret = nvmf_host_execute_cqe(qp, &cmd.sqe, NULL, 0, false, &cqe);
	if (ret)
		return ret;
	*status = nvme_cqe_status(&cqe);
	/* Figure 37: the value in DW0 (and DW1 for 8 bytes). */
	*value = le32toh(cqe.dw0);
	if (size == 8)
		*value |= (uint64_t)le32toh(cqe.dw1) << 32;
	return 0;
}

int nvmf_host_prop_set(struct nvmf_qpair *qp, uint32_t ofst, unsigned int size, uint64_t value,
		       nvme_status_t *status)
{
	union fabrics_sqe cmd;
	int ret;

	*status = 0;
	init_fabrics(&cmd, NVMF_FCTYPE_PROPERTY_SET);
	ret = prop_size(size, &cmd.prop_set.attrib);
	if (ret)
		return ret;
	cmd.prop_set.ofst = htole32(ofst);
	cmd.prop_set.value = htole64(size == 8 ? value : (uint32_t)value);
	return nvmf_host_execute(qp, &cmd.sqe, NULL, 0, false, NULL, status);
}

/* Poll CSTS until (csts & mask) == want, for at most ms. */
static int wait_csts(struct nvmf_qpair *qp, uint32_t mask, uint32_t want, long long ms,
		     const char *what, nvme_status_t *status)
{
	long long deadline = now_ms() + ms;
	uint64_t csts;
	int ret;

	for (;;) {
		ret = nvmf_host_prop_get(qp, NVME_REG_CSTS, 4, &csts, status);
		if (ret || *status)
			return ret;
		if (NVMEV(NVME_CSTS_CFS, csts))
			return nq_error(qp, -EIO, "controller fatal status (CSTS.CFS) while %s",
					what);
		if ((csts & mask) == want)
			return 0;
		if (now_ms() >= deadline)
			return nq_error(qp, -ETIMEDOUT,
					"controller not done %s after %lld ms "
					"(CSTS 0x%llx)",
					what, ms, (unsigned long long)csts);
		sleep_ms(50);
	}
}

/*
 * 3.5.1 controller initialisation, as nvme_enable_ctrl() does it: CC with
 * EN=0 (CSS NVM, MPS 4 KiB, round robin, IOSQES 64 B, IOCQES 16 B), CAP
 * again (it may change after the first CC write), then EN=1 and wait for
 * CSTS.RDY for up to CAP.TO x 500 ms.
 */
int nvmf_host_enable(struct nvmf_qpair *qp, uint64_t *capp, nvme_status_t *status)
{
	uint64_t cap;
	uint32_t cc = NVMEF(NVME_CC_IOSQES, 6) | NVMEF(NVME_CC_IOCQES, 4);
	long long to;
	int ret;

	ret = nvmf_host_prop_get(qp, NVME_REG_CAP, 8, &cap, status);
	if (ret || *status)
		return ret;
	ret = nvmf_host_prop_set(qp, NVME_REG_CC, 4, cc, status);
	if (ret || *status)
		return ret;
	ret = nvmf_host_prop_get(qp, NVME_REG_CAP, 8, &cap, status);
	if (ret || *status)
		return ret;
	if (capp != NULL)
		*capp = cap;
	ret = nvmf_host_prop_set(qp, NVME_REG_CC, 4, cc | NVMEF(NVME_CC_EN, 1), status);
	if (ret || *status)
		return ret;
	to = (long long)(NVMEV(NVME_CAP_TO, cap) ? NVMEV(NVME_CAP_TO, cap) : 1) * 500;
	return wait_csts(qp, NVMEM(NVME_CSTS_RDY), NVMEF(NVME_CSTS_RDY, 1), to, "becoming ready",
			 status);
}

/* 3.6.1 normal shutdown: CC.SHN = 01b, then CSTS.SHST = 10b. */
int nvmf_host_shutdown(struct nvmf_qpair *qp, uint32_t timeout_ms, nvme_status_t *status)
{
	uint64_t cc;
	int ret;

	ret = nvmf_host_prop_get(qp, NVME_REG_CC, 4, &cc, status);
	if (ret || *status)
		return ret;
	cc = (cc & ~(uint64_t)NVMEM(NVME_CC_SHN)) | NVMEF(NVME_CC_SHN, NVME_CC_SHN_NORMAL);
	ret = nvmf_host_prop_set(qp, NVME_REG_CC, 4, cc, status);
	if (ret || *status)
		return ret;
	return wait_csts(qp, NVMEM(NVME_CSTS_SHST), NVMEF(NVME_CSTS_SHST, NVME_CSTS_SHST_COMPLETE),
			 timeout_ms, "shutting down", status);
}

/* ---- Identify (5.17) ---- */

int nvmf_host_identify(struct nvmf_qpair *qp, uint8_t cns, uint32_t nsid, void *buf,
		       nvme_status_t *status)
{
	struct nvme_sqe sqe;

	init_sqe(&sqe, NVME_ADM_IDENTIFY, nsid);
	sqe.cdw10 = htole32(cns);
	return nvmf_host_execute(qp, &sqe, buf, NVME_IDENTIFY_DATA_SIZE, false, NULL, status);
}

int nvmf_host_identify_ctrl(struct nvmf_qpair *qp, struct nvme_id_ctrl *out, nvme_status_t *status)
{
	return nvmf_host_identify(qp, NVME_CNS_CTRL, 0, out, status);
}

int nvmf_host_identify_ns(struct nvmf_qpair *qp, uint32_t nsid, struct nvme_id_ns *out,
			  nvme_status_t *status)
{
	return nvmf_host_identify(qp, NVME_CNS_NS, nsid, out, status);
}

int nvmf_host_active_ns_list(struct nvmf_qpair *qp, uint32_t nsid, uint32_t list[1024],
			     nvme_status_t *status)
{
	return nvmf_host_identify(qp, NVME_CNS_NS_ACTIVE_LIST, nsid, list, status);
}

int nvmf_host_ns_id_descs(struct nvmf_qpair *qp, uint32_t nsid, void *buf, nvme_status_t *status)
{
	return nvmf_host_identify(qp, NVME_CNS_NS_DESC_LIST, nsid, buf, status);
}

/* ---- Get Log Page (5.16) ---- */

int nvmf_host_get_log_page(struct nvmf_qpair *qp, const struct nvmf_log_req *req, void *buf,
			   uint32_t len, nvme_status_t *status)
{
	struct nvme_sqe sqe;
	uint32_t numd = len / 4 - 1; /* 0's based dwords */

	*status = 0;
	if (len == 0 || len % 4 != 0 || req->offset % 4 != 0)
		return nq_error(qp, -EINVAL, "log page length %u / offset %llu not in dwords", len,
				(unsigned long long)req->offset);
	init_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, req->nsid);
	sqe.cdw10 = htole32(NVMEF(NVME_LOG_LID, req->lid) | NVMEF(NVME_LOG_LSP, req->lsp) |
			    (req->rae ? NVME_LOG_RAE : 0) | NVMEF(NVME_LOG_NUMDL, numd & 0xffff));
	sqe.cdw11 = htole32(numd >> 16);		    /* NUMDU */
	sqe.cdw12 = htole32((uint32_t)req->offset);	    /* LPOL */
	sqe.cdw13 = htole32((uint32_t)(req->offset >> 32)); /* LPOU */
	return nvmf_host_execute(qp, &sqe, buf, len, false, NULL, status);
}

#define DISC_CHUNK	 4096 /* libnvme NVME_LOG_PAGE_PDU_SIZE */
#define DISC_MAX_RETRIES 10
#define DISC_MAX_RECORDS 1024

static int disc_read(struct nvmf_qpair *qp, uint64_t offset, void *buf, uint32_t len,
		     nvme_status_t *status)
{
	struct nvmf_log_req req = {.lid = NVME_LOG_DISC, .offset = offset};

	return nvmf_host_get_log_page(qp, &req, buf, len, status);
}

/* Entries from offset 1024, 4 KiB at a time. */
static int disc_read_entries(struct nvmf_qpair *qp, struct nvmf_disc_log_hdr *log, uint64_t numrec,
			     nvme_status_t *status)
{
	uint8_t *p = (uint8_t *)nvmf_disc_log_entries(log);
	uint64_t total = numrec * sizeof(struct nvmf_disc_log_entry), off = 0;
	int ret;

	while (off < total) {
		uint32_t n = total - off < DISC_CHUNK ? (uint32_t)(total - off) : DISC_CHUNK;

		ret = disc_read(qp, sizeof(*log) + off, p + off, n, status);
		if (ret || *status)
			return ret;
		off += n;
	}
	return 0;
}

/* One pass: header, entries, header again. 1: GENCTR moved, try again. */
static int disc_pass(struct nvmf_qpair *qp, struct nvmf_disc_log_hdr **logp, nvme_status_t *status)
{
	struct nvmf_disc_log_hdr hdr = {0}, again = {0}, *log;
	uint64_t numrec;
	int ret;

	ret = disc_read(qp, 0, &hdr, NVMF_DISC_LOG_HDR_LEN, status);
	if (ret || *status)
		return ret;
	numrec = le64toh(hdr.numrec);
	if (le16toh(hdr.recfmt) != 0)
		return nq_error(qp, -EPROTO, "discovery log format %u is not supported",
				le16toh(hdr.recfmt));
	if (numrec > DISC_MAX_RECORDS)
		return nq_error(qp, -EFBIG, "discovery log has %llu records",
				(unsigned long long)numrec);
	log = calloc(1, sizeof(*log) + numrec * sizeof(struct nvmf_disc_log_entry));
	if (log == NULL)
		return nq_error(qp, -ENOMEM, "out of memory");
	ret = disc_read_entries(qp, log, numrec, status);
	if (ret == 0 && *status == 0)
		ret = disc_read(qp, 0, &again, NVMF_DISC_LOG_HDR_LEN, status);
	if (ret || *status) {
		free(log);
		/* NVMe-oF Figure 21: Discover Restart, the log changed underneath. */
		if (ret == 0 &&
		    NVME_STATUS_CODE(*status) == NVME_SC(COMMAND_SPECIFIC, DISCOVERY_RESTART)) {
			*status = 0;
			return 1;
		}
		return ret;
	}
	if (again.genctr != hdr.genctr || again.numrec != hdr.numrec) {
		free(log);
		return 1;
	}
	memcpy(log, &hdr, NVMF_DISC_LOG_HDR_LEN);
	*logp = log;
	return 0;
}

int nvmf_host_discovery_log(struct nvmf_qpair *qp, struct nvmf_disc_log_hdr **logp,
			    nvme_status_t *status)
{
	int ret = 1;

	*logp = NULL;
	*status = 0;
	for (int i = 0; i < DISC_MAX_RETRIES && ret == 1; i++)
		ret = disc_pass(qp, logp, status);
	if (ret == 1)
		return nq_error(qp, -EAGAIN, "the discovery log kept changing (%d tries)",
				DISC_MAX_RETRIES);
	return ret;
}

/* ---- Features, Keep Alive ---- */

/* 5.27.1.5 Number of Queues: both counts 0's based, in CDW11 and DW0. */
int nvmf_host_set_num_queues(struct nvmf_qpair *qp, uint16_t nsq, uint16_t ncq,
			     uint16_t *nsq_granted, uint16_t *ncq_granted, nvme_status_t *status)
{
	struct nvme_sqe sqe;
	uint32_t dw0 = 0;
	int ret;

	if (nsq == 0 || ncq == 0)
		return -EINVAL;
	init_sqe(&sqe, NVME_ADM_SET_FEATURES, 0);
	sqe.cdw10 = htole32(NVME_FEAT_NUM_QUEUES);
	sqe.cdw11 = htole32(NVME_FEAT_NQ(nsq - 1u, ncq - 1u));
	ret = nvmf_host_execute(qp, &sqe, NULL, 0, false, &dw0, status);
	if (ret || *status)
		return ret;
	*nsq_granted = (uint16_t)((dw0 & 0xffff) + 1);
	*ncq_granted = (uint16_t)((dw0 >> 16) + 1);
	return 0;
}

int nvmf_host_keep_alive(struct nvmf_qpair *qp, nvme_status_t *status)
{
	struct nvme_sqe sqe;

	init_sqe(&sqe, NVME_ADM_KEEP_ALIVE, 0);
	return nvmf_host_execute(qp, &sqe, NULL, 0, false, NULL, status);
}

/* ---- Read / Write (NVM Command Set 3.2.4, 3.2.6) ---- */

static int rw(struct nvmf_qpair *qp, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
	      void *buf, uint32_t len, nvme_status_t *status)
{
	struct nvme_sqe sqe;

	*status = 0;
	if (nlb == 0 || nlb > 65536 || len == 0 || len % nlb != 0)
		return nq_error(qp, -EINVAL, "%u blocks in %u bytes is not a valid transfer", nlb,
				len);
	if (len > qp->nq_association->na_max_xfer)
		return nq_error(qp, -EINVAL, "%u bytes exceed the maximum transfer size %u", len,
				qp->nq_association->na_max_xfer);
	init_sqe(&sqe, opc, nsid);
	sqe.cdw10 = htole32((uint32_t)slba);
	sqe.cdw11 = htole32((uint32_t)(slba >> 32));
	sqe.cdw12 = htole32(NVMEF(NVME_RW_NLB, nlb - 1)); /* 0's based */
	return nvmf_host_execute(qp, &sqe, buf, len, opc == NVME_CMD_WRITE, NULL, status);
}

int nvmf_host_read(struct nvmf_qpair *qp, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf,
		   uint32_t len, nvme_status_t *status)
{
	return rw(qp, NVME_CMD_READ, nsid, slba, nlb, buf, len, status);
}

int nvmf_host_write(struct nvmf_qpair *qp, uint32_t nsid, uint64_t slba, uint32_t nlb,
		    const void *buf, uint32_t len, nvme_status_t *status)
{
	/* The buffer is only read: the capsule API is shared with reads. */
	return rw(qp, NVME_CMD_WRITE, nsid, slba, nlb, (void *)(uintptr_t)buf, len, status);
}
