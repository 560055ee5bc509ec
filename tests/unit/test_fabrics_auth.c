/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The controller's in-band authentication (daemon/core/fabrics_auth.c,
 * auth_backoff.c) on a hand-built target: ATR and require_auth at Connect,
 * the gate, AUTH Send / Receive checks, whole transactions driven by
 * transport's host state machine (right key, wrong key, bidirectional,
 * re-authentication with a rotated key), the failure counter, the
 * per-address backoff and the transaction timeout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth_backoff.h"
#include "byteorder.h"
#include "dhchap_host.h"
#include "fabrics_auth.h"
#include "t_target.h"

#define AUTH_REQUIRED NVME_SC_DNR(COMMAND_SPECIFIC, AUTH_REQUIRED)

struct fx {
	struct t_fixture f;
	struct cfg_host host;
	struct cfg_subsystem subs[1];
	struct ctrl *c;
	struct qauth *q;
	int64_t now;
};

static struct fx *fx_new(bool ctrl_key, bool require_auth)
{
	struct fx *x = test_calloc(1, sizeof(*x));

	t_fixture_init(&x->f);
	auth_backoff_init(&x->f.t.auth_backoff);
	x->f.t.p.auth_timeout_ms = 5000;
	snprintf(x->f.ci.peer_addr, sizeof(x->f.ci.peer_addr), "10.0.0.9");
	snprintf(x->host.nqn, sizeof(x->host.nqn), "%s", HOST_A);
	x->host.has_dhchap_key = true;
	assert_int_equal(dhchap_key_generate(NVMF_DHCHAP_HASH_SHA256, 32, &x->host.dhchap_key), 0);
	if (ctrl_key) {
		x->host.has_dhchap_ctrl_key = true;
		assert_int_equal(dhchap_key_generate(0, 48, &x->host.dhchap_ctrl_key), 0);
	}
	x->f.cfg.hosts = &x->host;
	x->f.cfg.nhosts = 1;
	snprintf(x->subs[0].nqn, sizeof(x->subs[0].nqn), "%s", NQN_A);
	x->subs[0].allow_any_host = true;
	x->subs[0].require_auth = require_auth;
	x->f.cfg.subsys = x->subs;
	x->f.cfg.nsubsys = 1;
	x->now = 1000;
	return x;
}

static void fx_free(struct fx *x)
{
	qauth_free(x->q);
	if (x->c)
		ctrl_put(x->c);
	auth_backoff_fini(&x->f.t.auth_backoff);
	t_fixture_fini(&x->f);
	test_free(x);
}

/* Connect the admin queue of HOST_A to NQN_A; the queue's state. */
static void admin_connect(struct fx *x)
{
	uint32_t dw0;

	assert_int_equal(t_connect(&x->f, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &x->c), 0);
	assert_true(dw0 & NVMF_CONNECT_AUTHREQ_ATR);
	x->q = qauth_new(x->c, 0, &x->f.ci, true, x->now);
	assert_non_null(x->q);
}

static void auth_sqe(struct nvme_sqe *sqe, uint8_t fctype, uint32_t len, uint8_t secp)
{
	struct nvmf_auth_send_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.fctype = fctype;
	cmd.secp = secp;
	cmd.spsp0 = NVMF_AUTH_SPSP0_DHCHAP;
	cmd.spsp1 = NVMF_AUTH_SPSP1_DHCHAP;
	cmd.tl = htole32(len);
	memcpy(sqe, &cmd, sizeof(cmd));
}

/*
 * One transaction of the host (transport's dhchap_host with key hkey,
 * ckey for bidirectional) against x->q: the host's verdict, and what the
 * controller said to do after each command.
 */
static bool transaction(struct fx *x, const struct dhchap_key *hkey, const struct dhchap_key *ckey,
			uint16_t t_id, enum qauth_after *last)
{
	struct dhchap_host_cfg hc = {.hostnqn = HOST_A,
				     .subsysnqn = NQN_A,
				     .host_key = hkey,
				     .ctrl_key = ckey,
				     .t_id = t_id};
	static uint8_t buf[4096];
	struct dhchap_host h;
	struct nvme_sqe sqe;
	uint32_t out;
	uint8_t expl;
	bool ok;

	*last = QAUTH_CONTINUE;
	assert_int_equal(dhchap_host_init(&h, &hc), 0);
	while (h.state != DHCHAP_HOST_DONE && h.state != DHCHAP_HOST_FAILED &&
	       *last == QAUTH_CONTINUE) {
		if (h.state == DHCHAP_HOST_CHALLENGE || h.state == DHCHAP_HOST_SUCCESS1) {
			memset(buf, 0, sizeof(buf));
			auth_sqe(&sqe, NVMF_FCTYPE_AUTH_RECV, sizeof(buf), NVMF_AUTH_SECP);
			assert_int_equal(
				qauth_recv(x->q, &sqe, buf, sizeof(buf), &out, x->now, last), 0);
			assert_int_equal(out, sizeof(buf));
			dhchap_host_recv(&h, buf, out, &expl);
		} else {
			ssize_t n = dhchap_host_send(&h, buf, sizeof(buf));

			assert_true(n > 0);
			auth_sqe(&sqe, NVMF_FCTYPE_AUTH_SEND, (uint32_t)n, NVMF_AUTH_SECP);
			assert_int_equal(qauth_send(x->q, &sqe, buf, (uint32_t)n, x->now, last), 0);
		}
	}
	ok = dhchap_host_authenticated(&h);
	dhchap_host_fini(&h);
	return ok;
}

static void test_connect_and_gate(void **state)
{
	struct fx *x = fx_new(false, false);
	struct ctrl *c2;
	uint32_t dw0;
	enum qauth_after after;

	(void)state;
	admin_connect(x);
	assert_int_equal(qauth_gate(x->q), AUTH_REQUIRED);
	assert_int_equal(qauth_gate(NULL), 0);
	/* a host without a section: no ATR */
	assert_int_equal(t_connect(&x->f, NQN_A, HOST_B, 0, 31, 0xffff, 0, &dw0, &c2), 0);
	assert_false(dw0 & NVMF_CONNECT_AUTHREQ_ATR);
	ctrl_queue_gone(c2, 0);
	ctrl_put(c2);
	assert_true(transaction(x, &x->host.dhchap_key, NULL, 1, &after));
	assert_int_equal(after, QAUTH_CONTINUE);
	assert_int_equal(qauth_gate(x->q), 0);
	assert_int_equal(atomic_load(&x->f.a.auth_successes), 1);
	assert_int_equal(atomic_load(&x->f.a.auth_failures), 0);
	assert_false(qauth_expired(x->q, x->now + 100000)); /* authenticated: no deadline */
	fx_free(x);
}

static void test_require_auth(void **state)
{
	struct fx *x = fx_new(false, true);
	struct ctrl *c2 = NULL;
	uint32_t dw0;

	(void)state;
	assert_int_equal(t_connect(&x->f, NQN_A, HOST_B, 0, 31, 0xffff, 0, &dw0, &c2),
			 NVME_SC_DNR(COMMAND_SPECIFIC, CONNECT_INVALID_HOST));
	assert_null(c2);
	admin_connect(x); /* HOST_A has a key */
	fx_free(x);
}

static void test_command_checks(void **state)
{
	struct fx *x = fx_new(false, false);
	uint8_t buf[64] = {0};
	struct nvme_sqe sqe;
	enum qauth_after after;
	uint32_t out;

	(void)state;
	admin_connect(x);
	auth_sqe(&sqe, NVMF_FCTYPE_AUTH_SEND, 16, 0xea);
	assert_int_equal(qauth_send(x->q, &sqe, buf, 16, x->now, &after),
			 NVME_SC_DNR(GENERIC, INVALID_FIELD));
	auth_sqe(&sqe, NVMF_FCTYPE_AUTH_SEND, 0, NVMF_AUTH_SECP);
	assert_int_equal(qauth_send(x->q, &sqe, buf, 0, x->now, &after),
			 NVME_SC_DNR(GENERIC, INVALID_FIELD));
	auth_sqe(&sqe, NVMF_FCTYPE_AUTH_SEND, 16, NVMF_AUTH_SECP);
	assert_int_equal(qauth_send(x->q, &sqe, buf, 32, x->now, &after),
			 NVME_SC_DNR(GENERIC, SGL_INVALID_DATA));
	auth_sqe(&sqe, NVMF_FCTYPE_AUTH_RECV, 9000, NVMF_AUTH_SECP);
	assert_int_equal(qauth_recv(x->q, &sqe, buf, 9000, &out, x->now, &after),
			 NVME_SC_DNR(GENERIC, INVALID_FIELD));
	/* AL too small for the Challenge: Invalid Field, the transaction goes on */
	assert_int_equal(atomic_load(&x->f.a.auth_failures), 0);
	fx_free(x);
}

static void test_wrong_key_backoff(void **state)
{
	struct fx *x = fx_new(false, false);
	struct dhchap_key other;
	enum qauth_after after;
	uint32_t left;

	(void)state;
	assert_int_equal(dhchap_key_generate(NVMF_DHCHAP_HASH_SHA256, 32, &other), 0);
	admin_connect(x);
	assert_false(transaction(x, &other, NULL, 1, &after));
	assert_int_equal(after, QAUTH_CLOSE);
	assert_int_equal(atomic_load(&x->f.a.auth_failures), 1);
	assert_true(auth_backoff_blocked(&x->f.t.auth_backoff, "10.0.0.9", x->now, &left));
	assert_int_equal(left, AUTH_BACKOFF_BASE_MS);
	qauth_free(x->q);
	/* the right key from the same address, inside the window: refused unchecked */
	x->q = qauth_new(x->c, 0, &x->f.ci, true, x->now);
	assert_false(transaction(x, &x->host.dhchap_key, NULL, 2, &after));
	assert_int_equal(after, QAUTH_CLOSE);
	assert_int_equal(atomic_load(&x->f.a.auth_failures), 2);
	/* that refusal did not widen the window */
	assert_true(auth_backoff_blocked(&x->f.t.auth_backoff, "10.0.0.9", x->now, &left));
	assert_int_equal(left, AUTH_BACKOFF_BASE_MS);
	qauth_free(x->q);
	/* after it: accepted */
	x->now += AUTH_BACKOFF_BASE_MS;
	x->q = qauth_new(x->c, 0, &x->f.ci, true, x->now);
	assert_true(transaction(x, &x->host.dhchap_key, NULL, 3, &after));
	dhchap_key_wipe(&other);
	fx_free(x);
}

static void test_bidi_and_rotation(void **state)
{
	struct fx *x = fx_new(true, false);
	struct dhchap_key old = x->host.dhchap_key;
	enum qauth_after after;

	(void)state;
	admin_connect(x);
	assert_true(transaction(x, &x->host.dhchap_key, &x->host.dhchap_ctrl_key, 1, &after));
	/* SIGHUP: a new key in the configuration; the queue stays authenticated */
	assert_int_equal(dhchap_key_generate(NVMF_DHCHAP_HASH_SHA512, 64, &x->host.dhchap_key), 0);
	assert_int_equal(qauth_gate(x->q), 0);
	/* re-authentication uses the new key: the old one fails, the queue closes */
	assert_false(transaction(x, &old, &x->host.dhchap_ctrl_key, 2, &after));
	assert_int_equal(after, QAUTH_CLOSE);
	qauth_free(x->q);
	x->now += AUTH_BACKOFF_BASE_MS;
	x->q = qauth_new(x->c, 0, &x->f.ci, true, x->now);
	assert_true(transaction(x, &x->host.dhchap_key, &x->host.dhchap_ctrl_key, 3, &after));
	assert_true(transaction(x, &x->host.dhchap_key, NULL, 4, &after)); /* and again */
	assert_int_equal(atomic_load(&x->f.a.auth_successes), 3);
	fx_free(x);
}

static void test_timeout(void **state)
{
	struct fx *x = fx_new(false, false);

	(void)state;
	admin_connect(x);
	assert_false(qauth_expired(x->q, x->now + 4999));
	assert_true(qauth_expired(x->q, x->now + 5000));
	assert_int_equal(atomic_load(&x->f.a.auth_failures), 1);
	fx_free(x);
}

static void test_backoff_table(void **state)
{
	struct auth_backoff *b = test_malloc(sizeof(*b));
	char addr[64];
	uint32_t left;

	(void)state;
	auth_backoff_init(b);
	assert_false(auth_backoff_blocked(b, "192.0.2.1", 0, NULL));
	assert_int_equal(auth_backoff_fail(b, "192.0.2.1", 0), 1000);
	assert_int_equal(auth_backoff_fail(b, "192.0.2.1", 10), 2000);
	assert_int_equal(auth_backoff_fail(b, "192.0.2.1", 20), 4000);
	for (int i = 0; i < 10; i++)
		auth_backoff_fail(b, "192.0.2.1", 30);
	assert_int_equal(auth_backoff_fail(b, "192.0.2.1", 40), AUTH_BACKOFF_MAX_MS);
	assert_true(auth_backoff_blocked(b, "192.0.2.1", 1000, &left));
	assert_false(auth_backoff_blocked(b, "192.0.2.2", 1000, NULL)); /* others: never */
	/* forgotten after a quiet while */
	assert_false(auth_backoff_blocked(b, "192.0.2.1", 40 + AUTH_BACKOFF_FORGET_MS, NULL));
	assert_int_equal(auth_backoff_fail(b, "192.0.2.1", 40 + AUTH_BACKOFF_FORGET_MS), 1000);
	/* a full table reuses the oldest entry: bounded memory */
	for (int i = 0; i < AUTH_BACKOFF_SLOTS + 10; i++) {
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
		auth_backoff_fail(b, addr, 1000000 + i);
	}
	assert_true(auth_backoff_blocked(b, addr, 1000000 + AUTH_BACKOFF_SLOTS + 10, NULL));
	assert_false(auth_backoff_blocked(b, "10.1.0.0", 1000000 + 20, NULL));
	auth_backoff_fini(b);
	test_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_gate),  cmocka_unit_test(test_require_auth),
		cmocka_unit_test(test_command_checks),	  cmocka_unit_test(test_wrong_key_backoff),
		cmocka_unit_test(test_bidi_and_rotation), cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_backoff_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
