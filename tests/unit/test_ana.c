/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ANA, ports and several gateways (daemon/core/ana_log.c, fabrics_connect.c,
 * discovery.c): the ANA log page as each listener shows it (groups, NSIDs,
 * states, RGO, change count), the path statuses of I/O commands, the ANA
 * change notice, subsystems limited to some listeners (Connect and the
 * discovery log), referrals, I/O queues on another listener, and controller
 * IDs allocated within cntlid_range.
 *
 * The fixture's subsystem A has namespaces 1 and 5 in ANA group 1 and 2 in
 * group 2. Listener "ia" (0.0.0.0:4420): group 1 optimized, group 2
 * inaccessible; listener "ib" (192.0.2.1:4421): group 1 non-optimized,
 * group 2 optimized.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctrl_internal.h"
#include "t_daemon.h"

#define CONNECT_PARAM (T_ST(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM) | NVME_STATUS_DNR)
#define CTRL_BUSY     T_ST(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY)
#define AER_ANA	      NVME_AER_RESULT(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA)

static struct t_fixture F;
static struct listener *LA, *LB;
static uint8_t buf[16384];

static struct listener *mk_listener(int idx, uint8_t g1, uint8_t g2)
{
	struct cfg_listener cl = F.listeners[idx];
	struct listener *l;

	for (int g = 1; g <= CFG_ANA_GROUPS; g++)
		cl.ana_state[g] = CFG_ANA_OPTIMIZED;
	cl.ana_state[1] = g1;
	cl.ana_state[2] = g2;
	l = listener_alloc(&cl);
	assert_non_null(l);
	return l;
}

static int setup(void **state)
{
	(void)state;
	t_fixture_init(&F);
	F.ns[1].cfg.ana_group = 2; /* NSID 2 */
	LA = mk_listener(0, CFG_ANA_OPTIMIZED, CFG_ANA_INACCESSIBLE);
	LB = mk_listener(1, CFG_ANA_NON_OPTIMIZED, CFG_ANA_OPTIMIZED);
	F.ci.l = LA;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_fixture_fini(&F);
	listener_put(LA);
	listener_put(LB);
	return 0;
}

static struct ctrl *admin_on(struct listener *l, const char *nqn)
{
	F.ci.l = l;
	return t_admin(&F, nqn, HOST_A, 0);
}

/* One group descriptor at *pos: its group, state and NSIDs; *pos moves past it. */
static void check_group(const uint8_t *log, size_t *pos, uint32_t grp, uint8_t state,
			uint64_t chgcnt, const uint32_t *nsids, uint32_t n)
{
	const uint8_t *d = log + *pos;

	assert_int_equal(t_le32(d), grp);
	assert_int_equal(t_le32(d + 4), n);
	assert_int_equal(t_le64(d + 8), chgcnt);
	assert_int_equal(d[16], state);
	for (int i = 17; i < 32; i++)
		assert_int_equal(d[i], 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(t_le32(d + 32 + 4 * i), nsids[i]);
	*pos += 32 + 4 * n;
}

static nvme_status_t get_ana(struct ctrl *c, bool rgo, bool rae, uint32_t len)
{
	struct nvme_sqe sqe = t_sqe(NVME_ADM_GET_LOG_PAGE, NVME_NSID_ALL,
				    NVME_LOG_ANA | ((rgo ? 1u : 0u) << 8) |
					    (rae ? NVME_LOG_RAE : 0) | ((len / 4 - 1) << 16),
				    0, 0, 0, 0, 0);

	memset(buf, 0xee, sizeof(buf));
	return t_exec(c, &sqe, buf, len, NULL);
}

static void test_log_per_listener(void **state)
{
	static const uint32_t g1[] = {1, 5}, g2[] = {2};
	struct ctrl *a = admin_on(LA, NQN_A), *b = admin_on(LB, NQN_A);
	size_t pos = 16;

	(void)state;
	atomic_store(&F.t.ana_chgcnt, 41);
	assert_int_equal(get_ana(a, false, true, 4096), 0);
	assert_int_equal(t_le64(buf), 41);
	assert_int_equal(t_le16(buf + 8), 2);
	check_group(buf, &pos, 1, CFG_ANA_OPTIMIZED, 41, g1, 2);
	check_group(buf, &pos, 2, CFG_ANA_INACCESSIBLE, 41, g2, 1);
	for (size_t i = pos; i < 4096; i++)
		assert_int_equal(buf[i], 0);

	/* the same subsystem through the other listener */
	pos = 16;
	assert_int_equal(get_ana(b, false, true, 4096), 0);
	check_group(buf, &pos, 1, CFG_ANA_NON_OPTIMIZED, 41, g1, 2);
	check_group(buf, &pos, 2, CFG_ANA_OPTIMIZED, 41, g2, 1);

	/* RGO: descriptors only, NNSID 0 */
	pos = 16;
	assert_int_equal(get_ana(a, true, true, 1024), 0);
	assert_int_equal(t_le16(buf + 8), 2);
	check_group(buf, &pos, 1, CFG_ANA_OPTIMIZED, 41, NULL, 0);
	check_group(buf, &pos, 2, CFG_ANA_INACCESSIBLE, 41, NULL, 0);

	/* a window: the second descriptor alone (offset 16 + 32 + 8) */
	{
		struct nvme_sqe sqe = t_sqe(NVME_ADM_GET_LOG_PAGE, NVME_NSID_ALL,
					    NVME_LOG_ANA | NVME_LOG_RAE | (7u << 16), 0, 56, 0, 0,
					    0);

		assert_int_equal(t_exec(a, &sqe, buf, 32, NULL), 0);
		assert_int_equal(t_le32(buf), 2);
		assert_int_equal(buf[16], CFG_ANA_INACCESSIBLE);
		assert_int_equal(t_le32(buf + 28), 0); /* 64 bytes + 4 NSIDs in all: 76 */
	}

	/* a subsystem without namespaces has no group; Identify Namespace names the group */
	assert_int_equal(t_identify(a, NVME_CNS_NS, 2, 0, buf), 0);
	assert_int_equal(t_le32(buf + 92), 2);
	assert_int_equal(t_identify(a, NVME_CNS_NS, 5, 0, buf), 0);
	assert_int_equal(t_le32(buf + 92), 1);
	assert_int_equal(buf[30], 1); /* NMIC: shared */
	t_admin_gone(a);
	t_admin_gone(b);
	a = admin_on(LA, NQN_B);
	assert_int_equal(get_ana(a, false, true, 64), 0);
	assert_int_equal(t_le16(buf + 8), 0);
	/* NN and MNAN at least 1 even there: the host refuses MNAN 0 */
	assert_int_equal(t_identify(a, NVME_CNS_CTRL, 0, 0, buf), 0);
	assert_int_equal(t_le32(buf + 516), 1);
	assert_int_equal(t_le32(buf + 540), 1);
	t_admin_gone(a);
}

static nvme_status_t io(struct ctrl *c, uint8_t opc, uint32_t nsid)
{
	struct nvme_sqe sqe = t_sqe(opc, nsid, 0, 0, 0, 0, 0, 0);
	struct io_plan plan;
	uint32_t len = opc == NVME_CMD_FLUSH ? 0 : nsid == 2 ? 4096 : 512;

	return io_check(c, &sqe, len, &plan);
}

static void set_state(struct listener *l, uint32_t grp, uint8_t state)
{
	struct ana_states *a = atomic_load(&l->ana);

	a->state[grp] = state; /* the test is the only thread */
}

static void test_io_status(void **state)
{
	struct ctrl *a = admin_on(LA, NQN_A), *b = admin_on(LB, NQN_A);
	nvme_status_t st;

	(void)state;
	/* optimized and non-optimized paths serve */
	assert_int_equal(io(a, NVME_CMD_READ, 1), 0);
	assert_int_equal(io(b, NVME_CMD_READ, 1), 0);
	assert_int_equal(io(b, NVME_CMD_READ, 2), 0);
	/* inaccessible: SCT 3h SC 02h, no DNR, so the host fails over */
	st = io(a, NVME_CMD_READ, 2);
	assert_int_equal(st, T_ST(PATH, ANA_INACCESSIBLE));
	assert_false(T_DNR(st));
	assert_int_equal(io(a, NVME_CMD_WRITE, 2), T_ST(PATH, ANA_INACCESSIBLE));
	assert_int_equal(io(a, NVME_CMD_FLUSH, 2), T_ST(PATH, ANA_INACCESSIBLE));
	/* Flush of every namespace needs them all */
	assert_int_equal(io(a, NVME_CMD_FLUSH, NVME_NSID_ALL), T_ST(PATH, ANA_INACCESSIBLE));
	assert_int_equal(io(b, NVME_CMD_FLUSH, NVME_NSID_ALL), 0);
	set_state(LA, 2, CFG_ANA_PERSISTENT_LOSS);
	assert_int_equal(io(a, NVME_CMD_READ, 2), T_ST(PATH, ANA_PERSISTENT_LOSS));
	set_state(LA, 2, CFG_ANA_CHANGE);
	assert_int_equal(io(a, NVME_CMD_READ, 2), T_ST(PATH, ANA_TRANSITION));
	/* admin commands still work on an inaccessible path */
	assert_int_equal(t_identify(a, NVME_CNS_NS, 2, 0, buf), 0);
	assert_int_equal(t_get_log(a, NVME_LOG_SMART, 2, 0, buf, 512, false), 0);
	/* a bad NSID is still Invalid Namespace, not a path error */
	assert_int_equal(io(a, NVME_CMD_READ, 3), T_ST(GENERIC, INVALID_NS) | NVME_STATUS_DNR);
	t_admin_gone(a);
	t_admin_gone(b);
}

static enum ctrl_exec aer(struct ctrl *c, uint16_t cid)
{
	static struct nvme_sqe sqe;
	struct ctrl_req r;

	sqe = t_sqe(NVME_ADM_ASYNC_EVENT, 0, 0, 0, 0, 0, 0, 0);
	sqe.cid = cid;
	memset(&r, 0, sizeof(r));
	r.sqe = &sqe;
	return ctrl_admin_exec(c, &r);
}

static void test_ana_event(void **state)
{
	struct ctrl *a = admin_on(LA, NQN_A);
	struct nvme_sqe sqe = t_sqe(NVME_ADM_SET_FEATURES, 0, NVME_FEAT_ASYNC_EVENT,
				    NVME_CTRL_OAES_ANA_CHANGE, 0, 0, 0, 0);

	(void)state;
	/* the host enables the ANA change notice (bit 11), as nvme_enable_aen() */
	assert_int_equal(t_exec(a, &sqe, NULL, 0, NULL), 0);
	assert_int_equal(aer(a, 21), CTRL_EXEC_HELD);
	ctrl_post_ana_changed(a);
	assert_int_equal(F.naer_done, 0);
	ctrl_deliver_posted(a);
	assert_int_equal(F.naer_done, 1);
	assert_int_equal(F.aer_cid[0], 21);
	assert_int_equal(F.aer_dw0[0], AER_ANA);
	/* masked until the log is read with RAE clear */
	assert_int_equal(aer(a, 22), CTRL_EXEC_HELD);
	ctrl_post_ana_changed(a);
	ctrl_deliver_posted(a);
	assert_int_equal(F.naer_done, 1);
	assert_int_equal(get_ana(a, false, true, 4096), 0);
	assert_int_equal(F.naer_done, 1);
	assert_int_equal(get_ana(a, false, false, 4096), 0);
	ctrl_post_ana_changed(a);
	ctrl_deliver_posted(a);
	assert_int_equal(F.naer_done, 2);
	assert_int_equal(F.aer_dw0[1], AER_ANA);
	/* a discovery controller has no ANA notice */
	t_admin_gone(a);
}

static void test_ports(void **state)
{
	static struct port_list *pl;
	struct ctrl *c = NULL, *d;
	uint32_t dw0 = 0;
	static uint8_t log[8192];
	const struct nvmf_disc_log_entry *e;

	(void)state;
	/* B is served on 192.0.2.1:4421 only */
	pl = calloc(1, sizeof(*pl) + sizeof(pl->a[0]));
	assert_non_null(pl);
	snprintf(pl->a[0].host, sizeof(pl->a[0].host), "192.0.2.1");
	pl->a[0].port = 4421;
	pl->n = 1;
	atomic_store(&F.b.ports, pl);
	F.ci.l = LA;
	assert_int_equal(t_connect(&F, NQN_B, HOST_A, 0, 31, 0xffff, 0, &dw0, &c), CONNECT_PARAM);
	assert_int_equal(dw0, NVMF_CONNECT_IPO_DATA(offsetof(struct nvmf_connect_data, subnqn)));
	assert_null(c);
	c = admin_on(LB, NQN_B);

	/* an I/O queue of c through another listener is refused */
	assert_int_equal(t_prop_set(c, NVME_REG_CC, (6u << 16) | (4u << 20) | 1), 0);
	F.ci.l = LA;
	{
		struct ctrl *q = NULL;

		/* B is not on LA at all */
		assert_int_equal(t_connect(&F, NQN_B, HOST_A, 1, 31, c->cntlid, 0, &dw0, &q),
				 CONNECT_PARAM);
		/* A is, but controller a lives on LB */
		struct ctrl *a = admin_on(LB, NQN_A);

		F.ci.l = LA;
		assert_int_equal(t_connect(&F, NQN_A, HOST_A, 1, 31, a->cntlid, 0, &dw0, &q),
				 CONNECT_PARAM);
		assert_int_equal(dw0,
				 NVMF_CONNECT_IPO_DATA(offsetof(struct nvmf_connect_data, cntlid)));
		F.ci.l = LB;
		assert_int_equal(t_connect(&F, NQN_A, HOST_A, 1, 31, a->cntlid, 0, &dw0, &q), 0);
		ctrl_queue_gone(q, 1);
		ctrl_put(q);
		t_admin_gone(a);
	}
	t_admin_gone(c);

	/* discovery: B on 4421 only; A on both; then two referrals */
	F.ci.l = NULL;
	d = t_admin(&F, NVMF_DISC_NQN, HOST_A, 0);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, 8192, false), 0);
	assert_int_equal(t_le64(log + 8), 4);
	e = (const void *)(log + 1024 + 2 * 1024);
	assert_string_equal(e->subnqn, NQN_B);
	assert_string_equal(e->trsvcid, "4421");
	assert_int_equal(t_le16(&e->portid), 2);
	{
		struct cfg_addr refs[2] = {{"192.0.2.50", 8009, 1}, {"fd00::7", 8010, 2}};

		F.cfg.referrals = refs;
		F.cfg.nreferrals = 2;
		assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, 8192, false), 0);
		F.cfg.referrals = NULL;
		F.cfg.nreferrals = 0;
	}
	assert_int_equal(t_le64(log + 8), 6);
	e = (const void *)(log + 1024 + 4 * 1024);
	assert_int_equal(e->subtype, NVMF_SUBTYPE_REFERRAL);
	assert_int_equal(e->adrfam, NVMF_ADRFAM_IPV4);
	assert_string_equal(e->traddr, "192.0.2.50");
	assert_string_equal(e->trsvcid, "8009");
	assert_string_equal(e->subnqn, NVMF_DISC_NQN);
	assert_int_equal(t_le16(&e->cntlid), 0xffff);
	e = (const void *)(log + 1024 + 5 * 1024);
	assert_int_equal(e->subtype, NVMF_SUBTYPE_REFERRAL);
	assert_int_equal(e->adrfam, NVMF_ADRFAM_IPV6);
	assert_string_equal(e->traddr, "fd00::7");
	assert_string_equal(e->trsvcid, "8010");
	t_admin_gone(d);
	atomic_store(&F.b.ports, NULL);
	free(pl);
}

static void test_cntlid_range(void **state)
{
	struct ctrl *c[4] = {NULL};
	uint32_t dw0 = 0;

	(void)state;
	F.t.p.cntlid_min = 0x7000;
	F.t.p.cntlid_max = 0x7002;
	for (int i = 0; i < 3; i++) {
		c[i] = admin_on(LA, NQN_A);
		assert_int_equal(c[i]->cntlid, 0x7000 + i);
	}
	/* the range is full: Controller Busy, without DNR (one may go away) */
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &c[3]), CTRL_BUSY);
	assert_null(c[3]);
	t_admin_gone(c[1]);
	c[1] = admin_on(LA, NVMF_DISC_NQN); /* discovery controllers too */
	assert_int_equal(c[1]->cntlid, 0x7001);
	for (int i = 0; i < 3; i++)
		t_admin_gone(c[i]);
	/* round robin within the range, wrapping to its start */
	c[0] = admin_on(LA, NQN_A);
	assert_int_equal(c[0]->cntlid, 0x7002);
	c[1] = admin_on(LA, NQN_A);
	assert_int_equal(c[1]->cntlid, 0x7000);
	t_admin_gone(c[0]);
	t_admin_gone(c[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_per_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ana_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cntlid_range, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
