/* SPDX-License-Identifier: BSD-2-Clause */
#include "t_daemon.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "log.h"

static void ns_init(struct t_fixture *f, int i, uint32_t nsid, uint64_t blocks, uint32_t shift,
		    bool ro)
{
	struct ns *ns = &f->ns[i];

	ns->nsid = nsid;
	ns->nsze = blocks;
	ns->lba_shift = shift;
	ns->read_only = ro;
	for (int k = 0; k < 16; k++) {
		ns->nguid[k] = (uint8_t)(0x10 * nsid + k);
		ns->uuid[k] = (uint8_t)(0x80 + 0x10 * nsid + k);
	}
	for (int k = 0; k < 8; k++)
		ns->eui64[k] = (uint8_t)(0x40 + nsid + k);
	ns->stats = f->stats[i];
	f->a_ns[i] = ns;
}

static void listener(struct t_fixture *f, int i, const char *host, uint16_t port, bool disc)
{
	snprintf(f->listeners[i].host, sizeof(f->listeners[i].host), "%s", host);
	f->listeners[i].port = port;
	f->listeners[i].discovery_only = disc;
}

void t_fixture_init(struct t_fixture *f)
{
	struct target *t = &f->t;

	memset(f, 0, sizeof(*f));
	log_level = LOG_WARN; /* refusals are worth seeing; each controller's life is not */
	listener(f, 0, "0.0.0.0", 4420, false);
	listener(f, 1, "192.0.2.1", 4421, false);
	listener(f, 2, "::", 4420, false);
	listener(f, 3, "0.0.0.0", 8009, true);
	f->cfg.listeners = f->listeners;
	f->cfg.nlisteners = 4;

	snprintf(f->a.nqn, sizeof(f->a.nqn), "%s", NQN_A);
	snprintf(f->a.serial, sizeof(f->a.serial), "SERIAL-A");
	snprintf(f->a.model, sizeof(f->a.model), "nvmfd test");
	f->a.allow_any_host = true;
	ns_init(f, 0, 1, T_NS1_BLOCKS, 9, false);
	ns_init(f, 1, 2, T_NS2_BLOCKS, 12, true);
	ns_init(f, 2, 5, T_NS5_BLOCKS, 9, false);
	f->a.ns = f->a_ns;
	f->a.nns = 3;

	snprintf(f->b.nqn, sizeof(f->b.nqn), "%s", NQN_B);
	snprintf(f->b_hosts[0], sizeof(f->b_hosts[0]), "%s", HOST_A);
	f->b.hosts = f->b_hosts;
	f->b.nhosts = 1;

	f->subsys[0] = &f->a;
	f->subsys[1] = &f->b;
	t->cfg = &f->cfg;
	t->nworkers = T_NWORKERS;
	t->subsys = f->subsys;
	t->nsubsys = 2;
	snprintf(t->disc.nqn, sizeof(t->disc.nqn), "%s", NVMF_DISC_NQN);
	t->disc.discovery = true;
	t->disc.allow_any_host = true;
	t->p = (struct target_params){ .maxh2cdata = 131072, .io_icd = 8192,
				       .mdts_bytes = 131072, .mdts = 5, .io_qdepth = 128,
				       .max_io_queues = 8, .kato_default_ms = 120000,
				       .cap_to = 30,
				       .conns = { .max_conns = 4096, .max_per_host = 1024 },
				       .max_ctrls_per_subsys = TARGET_MAX_CTRLS };
	pthread_mutex_init(&t->lock, NULL);
	t->next_cntlid = 1;
	atomic_store(&t->genctr, 7);

	f->ci.family = AF_INET;
	snprintf(f->ci.local_addr, sizeof(f->ci.local_addr), "10.0.0.5");
	f->ci.local_port = 8009;
	snprintf(f->ci.peer, sizeof(f->ci.peer), "10.0.0.9:51000");
	for (int k = 0; k < 16; k++)
		f->hostid[k] = (uint8_t)(k + 1);
}

void t_fixture_fini(struct t_fixture *f)
{
	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++) {
		struct ctrl *c = f->t.ctrls[i];

		if (c == NULL)
			continue;
		ctrl_get(c);
		ctrl_queue_gone(c, 0);
		ctrl_put(c);
	}
	pthread_mutex_destroy(&f->t.lock);
}

nvme_status_t t_connect(struct t_fixture *f, const char *subnqn, const char *hostnqn,
			uint16_t qid, uint16_t sqsize, uint16_t cntlid, uint32_t kato,
			uint32_t *dw0, struct ctrl **out)
{
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data data;

	memset(&cmd, 0, sizeof(cmd));
	memset(&data, 0, sizeof(data));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.fctype = NVMF_FCTYPE_CONNECT;
	cmd.qid = htole16(qid);
	cmd.sqsize = htole16(sqsize);
	cmd.kato = htole32(kato);
	memcpy(data.hostid, f->hostid, sizeof(data.hostid));
	data.cntlid = htole16(cntlid);
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", subnqn);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", hostnqn);
	return ctrl_connect(&f->t, &cmd, &data, &f->ci, 1000, dw0, out);
}

static void aer_done(void *arg, uint16_t cid, uint32_t dw0)
{
	struct t_fixture *f = arg;

	assert_true(f->naer_done < 8);
	f->aer_cid[f->naer_done] = cid;
	f->aer_dw0[f->naer_done++] = dw0;
}

struct ctrl *t_admin(struct t_fixture *f, const char *subnqn, const char *hostnqn, uint32_t kato)
{
	struct ctrl *c = NULL;
	uint32_t dw0 = 0;

	assert_int_equal(t_connect(f, subnqn, hostnqn, 0, 31, 0xffff, kato, &dw0, &c), 0);
	assert_non_null(c);
	assert_int_equal(dw0, c->cntlid);
	c->aer_fn = aer_done;
	c->aer_arg = f;
	assert_int_equal(t_prop_set(c, NVME_REG_CC, (6u << 16) | (4u << 20)), 0);
	assert_int_equal(t_prop_set(c, NVME_REG_CC, (6u << 16) | (4u << 20) | 1), 0);
	assert_true(atomic_load(&c->enabled));
	return c;
}

void t_admin_gone(struct ctrl *c)
{
	ctrl_queue_gone(c, 0);
	ctrl_put(c);
}

struct nvme_sqe t_sqe(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
		      uint32_t cdw12, uint32_t cdw13, uint32_t cdw14, uint32_t cdw15)
{
	struct nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	sqe.flags = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	sqe.cid = 0x1234;
	sqe.nsid = htole32(nsid);
	sqe.cdw10 = htole32(cdw10);
	sqe.cdw11 = htole32(cdw11);
	sqe.cdw12 = htole32(cdw12);
	sqe.cdw13 = htole32(cdw13);
	sqe.cdw14 = htole32(cdw14);
	sqe.cdw15 = htole32(cdw15);
	return sqe;
}

nvme_status_t t_exec(struct ctrl *c, const struct nvme_sqe *sqe, void *buf, uint32_t len,
		     struct ctrl_req *out)
{
	struct ctrl_req r = { .sqe = sqe, .buf = buf, .buf_len = len };

	assert_int_equal(ctrl_admin_exec(c, &r), CTRL_EXEC_DONE);
	if (out)
		*out = r;
	if (r.status == 0 && buf != NULL)
		assert_int_equal(r.out_len, len);
	return r.status;
}

nvme_status_t t_prop_set(struct ctrl *c, uint32_t ofst, uint32_t value)
{
	struct nvmf_prop_set_cmd cmd;
	struct nvme_sqe sqe;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.rsvd1 = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	cmd.fctype = NVMF_FCTYPE_PROPERTY_SET;
	cmd.attrib = NVMF_PROP_SIZE_4;
	cmd.ofst = htole32(ofst);
	cmd.value = htole64(value);
	memcpy(&sqe, &cmd, sizeof(sqe));
	return t_exec(c, &sqe, NULL, 0, NULL);
}

nvme_status_t t_prop_get(struct ctrl *c, uint32_t ofst, unsigned int size, uint64_t *value)
{
	struct nvmf_prop_get_cmd cmd;
	struct ctrl_req r;
	struct nvme_sqe sqe;
	nvme_status_t st;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.rsvd1 = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	cmd.fctype = NVMF_FCTYPE_PROPERTY_GET;
	cmd.attrib = size == 8 ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4;
	cmd.ofst = htole32(ofst);
	memcpy(&sqe, &cmd, sizeof(sqe));
	st = t_exec(c, &sqe, NULL, 0, &r);
	*value = r.dw0 | (uint64_t)r.dw1 << 32;
	return st;
}

nvme_status_t t_get_log(struct ctrl *c, uint8_t lid, uint32_t nsid, uint64_t off, void *buf,
			uint32_t len, bool rae)
{
	uint32_t numd = len / 4 - 1;
	uint32_t cdw10 = lid | (rae ? NVME_LOG_RAE : 0) | (numd & 0xffff) << 16;
	struct nvme_sqe sqe = t_sqe(NVME_ADM_GET_LOG_PAGE, nsid, cdw10, numd >> 16,
				    (uint32_t)off, (uint32_t)(off >> 32), 0, 0);

	memset(buf, 0xa5, len); /* what the controller leaves must be zero */
	return t_exec(c, &sqe, buf, len, NULL);
}

nvme_status_t t_identify(struct ctrl *c, uint8_t cns, uint32_t nsid, uint32_t cdw11, void *buf)
{
	struct nvme_sqe sqe = t_sqe(NVME_ADM_IDENTIFY, nsid, cns, cdw11, 0, 0, 0, 0);

	memset(buf, 0xa5, NVME_IDENTIFY_DATA_SIZE);
	return t_exec(c, &sqe, buf, NVME_IDENTIFY_DATA_SIZE, NULL);
}

uint16_t t_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t t_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t t_le64(const void *p)
{
	return t_le32(p) | (uint64_t)t_le32((const uint8_t *)p + 4) << 32;
}
