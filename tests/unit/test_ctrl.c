/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon/core/ctrl.c: Connect (every refusal with its status, IATTR and IPO),
 * CNTLID allocation, I/O queue joins, resets, teardown and references,
 * keep-alive expiry, the error log ring, asynchronous events (and those a
 * reload posts: ctrl_post_*, ctrl_deliver_posted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "t_daemon.h"

#define PARAM	    T_ST(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM)
#define IPO_SQE(f)  ((uint32_t)offsetof(struct nvmf_connect_cmd, f))
#define IPO_DATA(f) ((uint32_t)((1u << 16) | offsetof(struct nvmf_connect_data, f)))

static struct t_fixture F;

static int setup(void **state)
{
	(void)state;
	t_fixture_init(&F);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_fixture_fini(&F);
	return 0;
}

static bool table_empty(void)
{
	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++)
		if (F.t.ctrls[i] != NULL)
			return false;
	return true;
}

/*
 * A refused Connect: the status (with DNR as given), dw0, no controller.
 * dw0 and c are read through pointers: after the Connect that sets them.
 */
static void refused_(nvme_status_t st, const uint32_t *dw0, struct ctrl *const *c,
		     nvme_status_t want, bool dnr, uint32_t want_dw0)
{
	assert_int_equal(T_CODE(st), want);
	assert_int_equal(T_DNR(st), dnr);
	assert_int_equal(*dw0, want_dw0);
	assert_null(*c);
}
#define refused(st, dw0, c, want, dnr, want_dw0) refused_(st, &(dw0), &(c), want, dnr, want_dw0)

static nvme_status_t connect_raw(struct nvmf_connect_cmd *cmd, struct nvmf_connect_data *data,
				 uint32_t *dw0, struct ctrl **c)
{
	return ctrl_connect(&F.t, cmd, data, &F.ci, 1000, dw0, c);
}

static void raw_admin(struct nvmf_connect_cmd *cmd, struct nvmf_connect_data *data)
{
	memset(cmd, 0, sizeof(*cmd));
	memset(data, 0, sizeof(*data));
	cmd->opc = NVME_ADM_FABRICS;
	cmd->fctype = NVMF_FCTYPE_CONNECT;
	cmd->sqsize = htole16(31);
	data->cntlid = htole16(0xffff);
	snprintf(data->subnqn, sizeof(data->subnqn), "%s", NQN_A);
	snprintf(data->hostnqn, sizeof(data->hostnqn), "%s", HOST_A);
}

static void test_admin_connect(void **state)
{
	struct ctrl *c = NULL, *d = NULL, *e = NULL;
	uint32_t dw0 = 0;
	uint64_t cap;

	(void)state;
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 1500, &dw0, &c), 0);
	assert_non_null(c);
	assert_int_equal(c->cntlid, 1);
	assert_int_equal(dw0, 1);
	assert_int_equal(atomic_load(&c->refs), 2); /* the queue's and the table's */
	assert_ptr_equal(c->subsys, &F.a);
	assert_string_equal(c->hostnqn, HOST_A);
	assert_memory_equal(c->hostid, F.hostid, 16);
	assert_int_equal(c->kato_ms, 2000); /* rounded up to whole seconds (KAS 10) */
	assert_true(c->vwc);
	assert_false(atomic_load(&c->enabled));
	assert_int_equal(atomic_load(&c->last_traffic_ms), 1000);
	assert_int_equal(t_prop_get(c, NVME_REG_CAP, 8, &cap), 0);
	assert_int_equal(NVMEV(NVME_CAP_MQES, cap), 127);
	assert_int_equal(NVMEV(NVME_CAP_TO, cap), 30);

	/* KATO 0: none for an I/O controller, the default for a discovery one */
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &d), 0);
	assert_int_equal(d->kato_ms, 0);
	assert_int_equal(t_connect(&F, NVMF_DISC_NQN, HOST_A, 0, 31, 0xffff, 0, &dw0, &e), 0);
	assert_ptr_equal(e->subsys, &F.t.disc);
	assert_int_equal(e->kato_ms, 120000);
	assert_false(e->vwc);
	assert_int_equal(t_prop_get(e, NVME_REG_CAP, 8, &cap), 0);
	assert_int_equal(NVMEV(NVME_CAP_MQES, cap), 31);
	assert_int_equal(e->cntlid, 3);
	t_admin_gone(c);
	t_admin_gone(d);
	t_admin_gone(e);
	assert_true(table_empty());
}

static void test_admin_refusals(void **state)
{
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data data;
	struct ctrl *c = NULL;
	uint32_t dw0 = 0;
	nvme_status_t st;

	(void)state;
	raw_admin(&cmd, &data);
	cmd.recfmt = htole16(1);
	st = connect_raw(&cmd, &data, &dw0, &c);
	refused(st, dw0, c, T_ST(COMMAND_SPECIFIC, CONNECT_FORMAT), true, 0);

	raw_admin(&cmd, &data);
	cmd.sqsize = 0;
	refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c, PARAM, true, IPO_SQE(sqsize));
	assert_int_equal(dw0, 44);
	cmd.sqsize = htole16(32); /* the admin queue holds 32 entries */
	refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c, PARAM, true, IPO_SQE(sqsize));

	raw_admin(&cmd, &data);
	data.cntlid = htole16(1);
	refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c, PARAM, true, IPO_DATA(cntlid));
	assert_int_equal(dw0, 0x10010);

	raw_admin(&cmd, &data);
	snprintf(data.subnqn, sizeof(data.subnqn), "nqn.2026-11.io.nvmfd:nope");
	refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c, PARAM, true, IPO_DATA(subnqn));
	assert_int_equal(dw0, 0x10100);
	memset(data.subnqn, 'x', sizeof(data.subnqn)); /* no NUL in the field */
	refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c, PARAM, true, IPO_DATA(subnqn));

	/* NQN_B admits HOST_A only */
	raw_admin(&cmd, &data);
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", NQN_B);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", HOST_B);
	refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c,
		T_ST(COMMAND_SPECIFIC, CONNECT_INVALID_HOST), true, IPO_DATA(hostnqn));
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", HOST_A);
	assert_int_equal(connect_raw(&cmd, &data, &dw0, &c), 0);
	assert_ptr_equal(c->subsys, &F.b);
	t_admin_gone(c);
	assert_true(table_empty());
}

/*
 * oF 1.1 3.3 / Base 2.0 4.5: an empty or non-conforming HOSTNQN (SPDK's
 * initiator sends an empty one) is taken by a subsystem that admits any
 * host, marked in the controller; with an allow-list it is Connect Invalid
 * Parameters at the HOSTNQN field (IATTR 1, IPO 512).
 */
static void test_lax_hostnqn(void **state)
{
	static const char *const bad[] = {"", "not-an-nqn", "nqn.2014-08.org.nvmexpress:uuid:x"};
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data data;
	struct ctrl *c = NULL, *q = NULL;
	uint32_t dw0 = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* NQN_A admits any host */
		raw_admin(&cmd, &data);
		snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", bad[i]);
		assert_int_equal(connect_raw(&cmd, &data, &dw0, &c), 0);
		assert_non_null(c);
		assert_true(c->hostnqn_lax);
		assert_string_equal(c->hostnqn, bad[i]);
		assert_non_null(strstr(c->host_label, "not a valid host NQN"));
		/* its I/O queues join it with the same HOSTNQN */
		assert_int_equal(t_prop_set(c, NVME_REG_CC, (6u << 16) | (4u << 20)), 0);
		assert_int_equal(t_prop_set(c, NVME_REG_CC, (6u << 16) | (4u << 20) | 1), 0);
		cmd.qid = htole16(1);
		data.cntlid = htole16(c->cntlid);
		assert_int_equal(connect_raw(&cmd, &data, &dw0, &q), 0);
		assert_ptr_equal(q, c);
		ctrl_queue_gone(q, 1);
		ctrl_put(q);
		t_admin_gone(c);

		/* NQN_B has an allow-list */
		raw_admin(&cmd, &data);
		snprintf(data.subnqn, sizeof(data.subnqn), "%s", NQN_B);
		snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", bad[i]);
		refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c, PARAM, true, IPO_DATA(hostnqn));
		assert_int_equal(dw0, 0x10200);
	}
	/* no NUL in the field: accepted when any host is, truncated */
	raw_admin(&cmd, &data);
	memset(data.hostnqn, 'n', sizeof(data.hostnqn));
	assert_int_equal(connect_raw(&cmd, &data, &dw0, &c), 0);
	assert_true(c->hostnqn_lax);
	t_admin_gone(c);
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", NQN_B);
	refused(connect_raw(&cmd, &data, &dw0, &c), dw0, c, PARAM, true, IPO_DATA(hostnqn));
	/* a conforming NQN is not marked */
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &c), 0);
	assert_false(c->hostnqn_lax);
	assert_string_equal(c->host_label, HOST_A);
	t_admin_gone(c);
	assert_true(table_empty());
}

static void test_cntlid_allocation(void **state)
{
	struct ctrl *c[4] = {NULL}, *x = NULL, *y = NULL;
	uint32_t dw0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &c[i]), 0);
		assert_int_equal(c[i]->cntlid, i + 1);
	}
	/* round robin: a freed ID is not the next one handed out */
	t_admin_gone(c[1]);
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &c[3]), 0);
	assert_int_equal(c[3]->cntlid, 4);
	/* the top of the range (FFEFh), then the wrap skips live IDs 1 */
	F.t.next_cntlid = NVMF_CNTLID_MAX;
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &x), 0);
	assert_int_equal(x->cntlid, 0xffef);
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &y), 0);
	assert_int_equal(y->cntlid, 2);
	/* a dead controller still registered keeps its ID */
	ctrl_kill(y, "test");
	F.t.next_cntlid = 2;
	t_admin_gone(x);
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &x), 0);
	assert_int_equal(x->cntlid, 5);
	t_admin_gone(x);
	t_admin_gone(y);
	t_admin_gone(c[0]);
	t_admin_gone(c[2]);
	t_admin_gone(c[3]);
	assert_true(table_empty());
}

static void test_controller_busy(void **state)
{
	static struct ctrl *c[TARGET_MAX_CTRLS];
	struct ctrl *x = NULL;
	uint32_t dw0 = 0;

	(void)state;
	for (int i = 0; i < TARGET_MAX_CTRLS; i++)
		assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &c[i]), 0);
	/* no DNR: one may go away */
	refused(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &x), dw0, x,
		T_ST(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY), false, 0);
	for (int i = 0; i < TARGET_MAX_CTRLS; i++)
		t_admin_gone(c[i]);
	assert_true(table_empty());
}

static nvme_status_t io_conn(struct ctrl *a, const char *host, uint16_t qid, uint16_t sqsize,
			     uint32_t *dw0, struct ctrl **q)
{
	return t_connect(&F, a->subsys->nqn, host, qid, sqsize, a->cntlid, 0, dw0, q);
}

static void io_gone(struct ctrl *q, uint16_t qid)
{
	ctrl_queue_gone(q, qid);
	ctrl_put(q);
}

static nvme_status_t set_nq(struct ctrl *c, uint32_t nsqr, uint32_t ncqr, uint32_t *dw0)
{
	struct nvme_sqe sqe = t_sqe(NVME_ADM_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES,
				    nsqr | ncqr << 16, 0, 0, 0, 0);
	struct ctrl_req r;
	nvme_status_t st = t_exec(c, &sqe, NULL, 0, &r);

	*dw0 = r.dw0;
	return st;
}

static void test_io_connect(void **state)
{
	struct ctrl *a = t_admin(&F, NQN_A, HOST_A, 0), *q = NULL, *x = NULL;
	uint32_t dw0 = 0;

	(void)state;
	assert_int_equal(io_conn(a, HOST_A, 1, 127, &dw0, &q), 0);
	assert_ptr_equal(q, a);
	assert_int_equal(dw0, a->cntlid);
	assert_int_equal(atomic_load(&a->refs), 3);
	assert_int_equal(atomic_load(&a->io_qmap[0]), 1);
	/* the same qid again; beyond the 8 queues allowed before Set Features */
	refused(io_conn(a, HOST_A, 1, 127, &dw0, &x), dw0, x, PARAM, true, IPO_SQE(qid));
	assert_int_equal(dw0, 42);
	refused(io_conn(a, HOST_A, 9, 127, &dw0, &x), dw0, x, PARAM, true, IPO_SQE(qid));
	assert_int_equal(io_conn(a, HOST_A, 8, 1, &dw0, &x), 0);
	io_gone(x, 8);
	/* SQSIZE 1..io_qdepth - 1 */
	refused(io_conn(a, HOST_A, 2, 128, &dw0, &x), dw0, x, PARAM, true, IPO_SQE(sqsize));
	refused(io_conn(a, HOST_A, 2, 0, &dw0, &x), dw0, x, PARAM, true, IPO_SQE(sqsize));
	refused(io_conn(a, HOST_A, 1025, 1, &dw0, &x), dw0, x, PARAM, true, IPO_SQE(qid));
	/* the controller must be this host's, of this subsystem, with the same host ID */
	refused(io_conn(a, HOST_B, 2, 127, &dw0, &x), dw0, x, PARAM, true, IPO_DATA(cntlid));
	refused(t_connect(&F, NQN_A, HOST_A, 2, 127, a->cntlid + 1, 0, &dw0, &x), dw0, x, PARAM,
		true, IPO_DATA(cntlid));
	refused(t_connect(&F, NQN_B, HOST_A, 2, 127, a->cntlid, 0, &dw0, &x), dw0, x, PARAM, true,
		IPO_DATA(cntlid));
	F.hostid[0] ^= 0xff;
	refused(io_conn(a, HOST_A, 2, 127, &dw0, &x), dw0, x, PARAM, true, IPO_DATA(hostid));
	F.hostid[0] ^= 0xff;
	refused(t_connect(&F, NVMF_DISC_NQN, HOST_A, 1, 31, a->cntlid, 0, &dw0, &x), dw0, x, PARAM,
		true, IPO_SQE(qid));
	/* Set Features 07h once queues exist: Command Sequence Error */
	assert_int_equal(set_nq(a, 1, 1, &dw0), T_ST(GENERIC, CMD_SEQ_ERROR) | NVME_STATUS_DNR);
	/* gone: the qid is free again */
	io_gone(q, 1);
	assert_int_equal(atomic_load(&a->io_qmap[0]), 0);
	assert_int_equal(set_nq(a, 1, 3, &dw0), 0);
	assert_int_equal(dw0, (3u << 16) | 1);
	assert_int_equal(a->nr_io_queues, 2);
	refused(io_conn(a, HOST_A, 3, 127, &dw0, &x), dw0, x, PARAM, true, IPO_SQE(qid));
	assert_int_equal(io_conn(a, HOST_A, 2, 127, &dw0, &q), 0);
	io_gone(q, 2);
	t_admin_gone(a);
	assert_true(table_empty());
}

/* max_controllers_per_subsystem and max_connections_per_host (host NQN queues). */
static void test_connect_limits(void **state)
{
	struct ctrl *a, *b, *d, *q1 = NULL, *q2 = NULL, *x = NULL;
	const nvme_status_t busy = T_ST(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY);
	uint32_t dw0 = 0;

	(void)state;
	F.t.p.max_ctrls_per_subsys = 2;
	F.t.p.conns.max_per_host = 3;
	a = t_admin(&F, NQN_A, HOST_A, 0);
	b = t_admin(&F, NQN_A, HOST_B, 0);
	/* a third controller of NQN_A: busy, without DNR (one may go away) */
	refused(t_connect(&F, NQN_A, HOST_B, 0, 31, 0xffff, 0, &dw0, &x), dw0, x, busy, false, 0);
	/* another subsystem has its own count */
	d = t_admin(&F, NQN_B, HOST_A, 0);
	/* HOST_A holds 2 queues (two admin queues): one more, then busy */
	assert_int_equal(io_conn(a, HOST_A, 1, 127, &dw0, &q1), 0);
	refused(io_conn(a, HOST_A, 2, 127, &dw0, &x), dw0, x, busy, false, 0);
	/* HOST_B is not concerned */
	assert_int_equal(io_conn(b, HOST_B, 1, 127, &dw0, &q2), 0);
	io_gone(q2, 1);
	/* a queue of HOST_A goes: room for one again */
	t_admin_gone(d);
	assert_int_equal(io_conn(a, HOST_A, 2, 127, &dw0, &x), 0);
	io_gone(x, 2);
	io_gone(q1, 1);
	t_admin_gone(b);
	b = t_admin(&F, NQN_A, HOST_B, 0);
	t_admin_gone(b);
	t_admin_gone(a);
	assert_true(table_empty());
}

static void test_io_connect_not_enabled(void **state)
{
	struct ctrl *a = NULL, *x = NULL;
	uint32_t dw0;

	(void)state;
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &a), 0);
	refused(io_conn(a, HOST_A, 1, 127, &dw0, &x), dw0, x, T_ST(GENERIC, CMD_SEQ_ERROR), true,
		0);
	t_admin_gone(a);
}

/* CC.EN 1 -> 0 closes the I/O queues (the admin queue stays); re-enabling takes new ones. */
static void test_reset(void **state)
{
	struct ctrl *a = t_admin(&F, NQN_A, HOST_A, 0), *q = NULL, *x = NULL;
	const uint32_t cc = (6u << 16) | (4u << 20);
	uint32_t dw0;

	(void)state;
	assert_int_equal(set_nq(a, 3, 3, &dw0), 0);
	assert_int_equal(io_conn(a, HOST_A, 1, 127, &dw0, &q), 0);
	assert_false(ctrl_io_queue_closing(q));
	assert_int_equal(t_prop_set(a, NVME_REG_CC, cc), 0);
	assert_true(ctrl_io_queue_closing(q));
	assert_false(atomic_load(&a->enabled));
	assert_false(atomic_load(&a->dead));
	assert_false(a->nr_io_queues_set);
	assert_int_equal(t_prop_set(a, NVME_REG_CC, cc | 1), 0);
	/* the old queue is still there: retry later (no DNR) */
	refused(io_conn(a, HOST_A, 2, 127, &dw0, &x), dw0, x, T_ST(GENERIC, CMD_SEQ_ERROR), false,
		0);
	io_gone(q, 1);
	assert_false(atomic_load(&a->io_reset));
	assert_int_equal(io_conn(a, HOST_A, 1, 127, &dw0, &q), 0);
	assert_false(ctrl_io_queue_closing(q));
	io_gone(q, 1);
	t_admin_gone(a);
}

/* The admin queue going kills the controller; its I/O queues hold it until they go. */
static void test_teardown_refs(void **state)
{
	struct ctrl *a = t_admin(&F, NQN_A, HOST_A, 0), *q = NULL, *x = NULL;
	uint16_t id = a->cntlid;
	uint32_t dw0;

	(void)state;
	assert_int_equal(io_conn(a, HOST_A, 1, 127, &dw0, &q), 0);
	ctrl_queue_gone(a, 0);
	assert_true(atomic_load(&a->dead));
	assert_true(ctrl_io_queue_closing(q));
	assert_true(table_empty());
	assert_int_equal(atomic_load(&a->refs), 2);
	refused(t_connect(&F, NQN_A, HOST_A, 2, 127, id, 0, &dw0, &x), dw0, x, PARAM, true,
		IPO_DATA(cntlid));
	ctrl_put(a);
	io_gone(q, 1); /* frees it (ASan checks) */
}

static void test_kato(void **state)
{
	struct ctrl *a = t_admin(&F, NQN_A, HOST_A, 5000), *b = t_admin(&F, NQN_A, HOST_A, 0);
	struct nvme_sqe sqe = t_sqe(NVME_ADM_SET_FEATURES, 0, NVME_FEAT_KATO, 1500, 0, 0, 0, 0);

	(void)state;
	assert_int_equal(a->kato_ms, 5000);
	ctrl_touch(a, 1000);
	assert_false(ctrl_kato_expired(a, 6000));
	assert_true(ctrl_kato_expired(a, 6001));
	ctrl_touch(a, 6000); /* any command (TBKAS) */
	assert_false(ctrl_kato_expired(a, 6001));
	assert_true(ctrl_kato_expired(a, 11001));
	/* KATO 0: never */
	ctrl_touch(b, 0);
	assert_false(ctrl_kato_expired(b, INT64_MAX / 2));
	/* Set Features 0Fh changes it, rounded up to seconds */
	assert_int_equal(t_exec(a, &sqe, NULL, 0, NULL), 0);
	assert_int_equal(a->kato_ms, 2000);
	assert_true(ctrl_kato_expired(a, 8001));
	t_admin_gone(a);
	t_admin_gone(b);
}

static void test_kill(void **state)
{
	struct ctrl *a = t_admin(&F, NQN_A, HOST_A, 0);

	(void)state;
	ctrl_kill(a, "keep-alive timeout expired");
	ctrl_kill(a, "again"); /* logged once */
	assert_true(atomic_load(&a->dead));
	assert_false(atomic_load(&a->enabled));
	assert_true(ctrl_io_queue_closing(a));
	t_admin_gone(a);
}

static void test_error_ring(void **state)
{
	struct ctrl *a = t_admin(&F, NQN_A, HOST_A, 0);

	(void)state;
	for (int i = 0; i < 70; i++)
		ctrl_log_error(a, (uint16_t)(i % 3), (uint16_t)i,
			       T_ST(GENERIC, LBA_RANGE) | NVME_STATUS_DNR, 1, (uint64_t)i, 0x2c);
	assert_int_equal(a->error_count, 70);
	/* the newest at (count - 1) % N; entries count from 1 */
	assert_int_equal(t_le64(&a->errors[69 % CTRL_ERROR_LOG_ENTRIES].error_count), 70);
	assert_int_equal(a->errors[69 % CTRL_ERROR_LOG_ENTRIES].cmdid, 69);
	/* the status as in a CQE (phase bit clear), without DNR */
	assert_int_equal(t_le16(&a->errors[0].status_field), 0x80 << 1);
	assert_int_equal(t_le16(&a->errors[0].parm_error_location), 0x2c);
	t_admin_gone(a);
}

static nvme_status_t set_aec(struct ctrl *c, uint32_t v)
{
	struct nvme_sqe sqe = t_sqe(NVME_ADM_SET_FEATURES, 0, NVME_FEAT_ASYNC_EVENT, v, 0, 0, 0, 0);

	return t_exec(c, &sqe, NULL, 0, NULL);
}

static enum ctrl_exec aer(struct ctrl *c, uint16_t cid, struct ctrl_req *r)
{
	static struct nvme_sqe sqe;

	sqe = t_sqe(NVME_ADM_ASYNC_EVENT, 0, 0, 0, 0, 0, 0, 0);
	sqe.cid = cid;
	memset(r, 0, sizeof(*r));
	r->sqe = &sqe;
	return ctrl_admin_exec(c, r);
}

/* A controller of subnqn with the notices in aec enabled and AER cid held. */
static struct ctrl *aer_held(const char *subnqn, uint32_t aec, uint16_t cid)
{
	struct ctrl *c = t_admin(&F, subnqn, HOST_A, 0);
	struct ctrl_req r;

	assert_int_equal(set_aec(c, aec), 0);
	assert_int_equal(aer(c, cid, &r), CTRL_EXEC_HELD);
	return c;
}

/* What main posted reaches c on its worker; naer AERs have then completed in all. */
static void deliver(struct ctrl *c, unsigned int naer)
{
	ctrl_deliver_posted(c);
	assert_int_equal(F.naer_done, naer);
}

/* Read the Changed Namespace List (RAE as given): its entries are want[], to its 0. */
static void changed_ns_is(struct ctrl *c, bool rae, const uint32_t *want)
{
	uint8_t log[4096];

	assert_int_equal(t_get_log(c, NVME_LOG_CHANGED_NS, 0, 0, log, sizeof(log), rae), 0);
	for (size_t i = 0;; i++) {
		assert_int_equal(t_le32(log + 4 * i), want[i]);
		if (want[i] == 0)
			break;
	}
}

#define AER_NS	 NVME_AER_RESULT(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED, 0x04)
#define AER_DISC NVME_AER_RESULT(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED, 0x70)

static void test_aer_ns_changed(void **state)
{
	struct ctrl *a = aer_held(NQN_A, NVME_CTRL_OAES_NS_ATTR, 7);
	struct ctrl_req r;

	(void)state;
	assert_int_equal(AER_NS, 0x00040002);
	ctrl_notify_ns_changed(a, 5);
	assert_int_equal(F.naer_done, 1);
	assert_int_equal(F.aer_cid[0], 7);
	assert_int_equal(F.aer_dw0[0], AER_NS);
	assert_int_equal(a->naer, 0);
	/* masked until the log is read; the list keeps growing */
	ctrl_notify_ns_changed(a, 6);
	ctrl_notify_ns_changed(a, 5);
	assert_int_equal(aer(a, 8, &r), CTRL_EXEC_HELD);
	assert_int_equal(F.naer_done, 1);
	/* RAE set: nothing is cleared */
	changed_ns_is(a, true, (const uint32_t[]){5, 6, 0});
	ctrl_notify_ns_changed(a, 1);
	assert_int_equal(F.naer_done, 1);
	changed_ns_is(a, false, (const uint32_t[]){5, 6, 1, 0});
	assert_int_equal(a->nchanged_ns, 0);
	/* read: the next change is reported to the AER still held */
	ctrl_notify_ns_changed(a, 2);
	assert_int_equal(F.naer_done, 2);
	assert_int_equal(F.aer_cid[1], 8);
	/* an event that waits completes the next AER at once */
	changed_ns_is(a, false, (const uint32_t[]){2, 0});
	ctrl_notify_ns_changed(a, 3);
	assert_int_equal(aer(a, 9, &r), CTRL_EXEC_DONE);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.dw0, AER_NS);
	t_admin_gone(a);
}

static void test_aer_limits(void **state)
{
	struct ctrl *a = t_admin(&F, NQN_A, HOST_A, 0);
	uint8_t log[4096];
	struct ctrl_req r;

	(void)state;
	for (uint16_t i = 0; i < TARGET_AERL; i++)
		assert_int_equal(aer(a, i, &r), CTRL_EXEC_HELD);
	assert_int_equal(aer(a, 99, &r), CTRL_EXEC_DONE);
	assert_int_equal(r.status, T_ST(COMMAND_SPECIFIC, ASYNC_LIMIT) | NVME_STATUS_DNR);
	/* not enabled by Set Features 0Bh: not reported, but listed */
	ctrl_notify_ns_changed(a, 1);
	assert_int_equal(F.naer_done, 0);
	assert_int_equal(a->aen_pending, 0);
	/* 1025 changes overflow the list: FFFFFFFFh alone */
	for (uint32_t n = 2; n <= 1025; n++)
		ctrl_notify_ns_changed(a, n);
	assert_int_equal(t_get_log(a, NVME_LOG_CHANGED_NS, 0, 0, log, sizeof(log), false), 0);
	assert_int_equal(t_le32(log), 0xffffffffu);
	assert_int_equal(t_le32(log + 4), 0);
	/* a discovery change means nothing to an I/O controller */
	ctrl_notify_disc_changed(a);
	assert_int_equal(a->aen_pending, 0);
	ctrl_drop_aers(a);
	assert_int_equal(a->naer, 0);
	t_admin_gone(a);
}

static void test_aer_discovery(void **state)
{
	struct ctrl *d = aer_held(NVMF_DISC_NQN, NVME_CTRL_OAES_DISC_CHANGE, 31);
	uint8_t log[1024];
	struct ctrl_req r;

	(void)state;
	ctrl_notify_ns_changed(d, 1); /* nothing for a discovery controller */
	assert_int_equal(F.naer_done, 0);
	ctrl_notify_disc_changed(d);
	assert_int_equal(F.naer_done, 1);
	assert_int_equal(F.aer_cid[0], 31);
	assert_int_equal(F.aer_dw0[0], AER_DISC);
	assert_int_equal(F.aer_dw0[0], 0x0070f002);
	/* masked until log 70h is read without RAE */
	assert_int_equal(aer(d, 30, &r), CTRL_EXEC_HELD);
	ctrl_notify_disc_changed(d);
	assert_int_equal(F.naer_done, 1);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, sizeof(log), false), 0);
	ctrl_notify_disc_changed(d);
	assert_int_equal(F.naer_done, 2);
	t_admin_gone(d);
}

/* ---- events posted by main (a reload), delivered on the admin queue's worker ---- */

static void test_posted_ns_changed(void **state)
{
	struct ctrl *a = aer_held(NQN_A, NVME_CTRL_OAES_NS_ATTR, 7);
	struct ctrl_req r;

	(void)state;
	deliver(a, 0); /* nothing posted: nothing happens */
	ctrl_post_ns_changed(a, 3);
	ctrl_post_ns_changed(a, 9);
	ctrl_post_ns_changed(a, 3);
	/* posting only records: the admin queue's worker delivers */
	assert_true(atomic_load(&a->ev_posted));
	assert_int_equal(F.naer_done, 0);
	assert_int_equal(a->nchanged_ns, 0);
	deliver(a, 1);
	assert_false(atomic_load(&a->ev_posted));
	assert_int_equal(F.aer_cid[0], 7);
	assert_int_equal(F.aer_dw0[0], AER_NS);
	changed_ns_is(a, false, (const uint32_t[]){3, 9, 0});
	/* delivered once: a second delivery finds nothing */
	assert_int_equal(aer(a, 8, &r), CTRL_EXEC_HELD);
	deliver(a, 1);
	/* a discovery change means nothing to an I/O controller */
	ctrl_post_disc_changed(a);
	deliver(a, 1);
	assert_int_equal(a->aen_pending, 0);
	/* the host did not enable the notice: listed in the log, no AER */
	assert_int_equal(set_aec(a, 0), 0);
	ctrl_post_ns_changed(a, 4);
	deliver(a, 1);
	changed_ns_is(a, false, (const uint32_t[]){4, 0});
	t_admin_gone(a);
}

static void test_posted_overflow(void **state)
{
	struct ctrl *a = aer_held(NQN_A, NVME_CTRL_OAES_NS_ATTR, 7);
	uint32_t all[CTRL_EV_MAX + 1];
	struct ctrl_req r;

	(void)state;
	/* exactly CTRL_EV_MAX: every NSID listed */
	for (uint32_t n = 1; n <= CTRL_EV_MAX; n++) {
		ctrl_post_ns_changed(a, n);
		all[n - 1] = n;
	}
	all[CTRL_EV_MAX] = 0;
	deliver(a, 1);
	assert_int_equal(F.aer_dw0[0], AER_NS);
	changed_ns_is(a, false, all);
	/* one more than fits between two deliveries: the log says FFFFFFFFh alone */
	assert_int_equal(aer(a, 8, &r), CTRL_EXEC_HELD);
	for (uint32_t n = 1; n <= CTRL_EV_MAX + 1; n++)
		ctrl_post_ns_changed(a, 1000 + n);
	deliver(a, 2);
	assert_int_equal(F.aer_cid[1], 8);
	changed_ns_is(a, false, (const uint32_t[]){0xffffffffu, 0});
	/* the log read cleared the overflow: the next change is listed again */
	assert_int_equal(aer(a, 9, &r), CTRL_EXEC_HELD);
	ctrl_post_ns_changed(a, 77);
	deliver(a, 3);
	changed_ns_is(a, false, (const uint32_t[]){77, 0});
	t_admin_gone(a);
}

static void test_posted_disc_changed(void **state)
{
	struct ctrl *d = aer_held(NVMF_DISC_NQN, NVME_CTRL_OAES_DISC_CHANGE, 31);
	uint8_t log[1024];
	struct ctrl_req r;

	(void)state;
	ctrl_post_ns_changed(d, 1); /* nothing for a discovery controller */
	deliver(d, 0);
	assert_int_equal(d->nchanged_ns, 0);
	/* two reloads before the worker delivers: one event */
	ctrl_post_disc_changed(d);
	ctrl_post_disc_changed(d);
	assert_int_equal(F.naer_done, 0);
	deliver(d, 1);
	assert_int_equal(F.aer_dw0[0], AER_DISC);
	assert_int_equal(aer(d, 30, &r), CTRL_EXEC_HELD);
	deliver(d, 1);
	/* masked until log 70h is read without RAE, then reported again */
	ctrl_post_disc_changed(d);
	deliver(d, 1);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, sizeof(log), false), 0);
	ctrl_post_disc_changed(d);
	deliver(d, 2);
	assert_int_equal(F.aer_cid[1], 30);
	t_admin_gone(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admin_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lax_hostnqn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cntlid_allocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controller_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_connect_not_enabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kato, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aer_ns_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aer_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aer_discovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_posted_ns_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_posted_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_posted_disc_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
