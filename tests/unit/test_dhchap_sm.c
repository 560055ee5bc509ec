/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/dhchap_ctrl.c and dhchap_host.c run against each other in
 * process: every hash with and without a DH group, one and both ways; then
 * wrong keys, replays, tampered and out-of-order messages, unusable
 * identifiers and oversized values, each with the failure it must report
 * and the Failure message the other side must see.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dhchap_ctrl.h"
#include "dhchap_host.h"

#define HOSTNQN	  "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define SUBSYSNQN "nqn.2026-11.org.example:disk0"
#define TID	  0x0155

enum { STEP_NEGOTIATE, STEP_CHALLENGE, STEP_REPLY, STEP_SUCCESS1, STEP_SUCCESS2 };

struct pair {
	struct dhchap_ctrl c;
	struct dhchap_host h;
	struct dhchap_key hkey, ckey;	  /* what the controller holds */
	struct dhchap_key hkey_h, ckey_h; /* what the host holds */
};

struct outcome {
	int step; /* -1: both sides finished */
	int ret;
	uint8_t expl;
	int peer_ret; /* the other side, given the Failure message */
	uint8_t peer_expl;
};

typedef void (*tamper_fn)(int step, uint8_t *m, size_t *len);

static uint8_t msg[AUTH_MSG_MAX + 2048];
static uint8_t saved[AUTH_MSG_MAX];
static size_t saved_len;

static void setup(struct pair *p, uint8_t hashid, uint8_t dhgid, bool bidi)
{
	struct dhchap_ctrl_cfg cc = {
		.hostnqn = HOSTNQN,
		.subsysnqn = SUBSYSNQN,
		.host_key = &p->hkey,
		.ctrl_key = &p->ckey,
		.hashes = {hashid},
		.nhashes = 1,
		.dhgroups = {dhgid},
		.ndhgroups = 1,
	};
	struct dhchap_host_cfg hc = {
		.hostnqn = HOSTNQN,
		.subsysnqn = SUBSYSNQN,
		.host_key = &p->hkey_h,
		.ctrl_key = bidi ? &p->ckey_h : NULL,
		.t_id = TID,
	};

	memset(p, 0, sizeof(*p));
	assert_int_equal(dhchap_key_generate(NVMF_DHCHAP_HASH_SHA256, 32, &p->hkey), 0);
	assert_int_equal(dhchap_key_generate(NVMF_DHCHAP_HASH_SHA512, 64, &p->ckey), 0);
	p->hkey_h = p->hkey;
	p->ckey_h = p->ckey;
	assert_int_equal(dhchap_ctrl_init(&p->c, &cc), 0);
	assert_int_equal(dhchap_host_init(&p->h, &hc), 0);
}

static void teardown_pair(struct pair *p)
{
	dhchap_ctrl_fini(&p->c);
	dhchap_host_fini(&p->h);
}

/*
 * One transaction, each message through tamper(). On the first failure the
 * side that found it sends its Failure message and the other takes it.
 */
static struct outcome run(struct pair *p, tamper_fn tamper)
{
	struct outcome o = {.step = -1};

	for (int step = STEP_NEGOTIATE; step <= STEP_SUCCESS2; step++) {
		bool from_host = step % 2 == 0;
		ssize_t n;
		size_t len;
		int ret;

		if (step == STEP_SUCCESS2 && p->h.state == DHCHAP_HOST_DONE)
			break;
		n = from_host ? dhchap_host_send(&p->h, msg, AUTH_MSG_MAX)
			      : dhchap_ctrl_send(&p->c, msg, AUTH_MSG_MAX);
		assert_true(n > 0);
		len = (size_t)n;
		if (tamper)
			tamper(step, msg, &len);
		ret = from_host ? dhchap_ctrl_recv(&p->c, msg, len, &o.expl)
				: dhchap_host_recv(&p->h, msg, len, &o.expl);
		if (ret == 0)
			continue;
		o.step = step;
		o.ret = ret;
		if (ret == -ECONNREFUSED)
			return o;
		n = from_host ? dhchap_ctrl_send(&p->c, msg, AUTH_MSG_MAX)
			      : dhchap_host_send(&p->h, msg, AUTH_MSG_MAX);
		assert_int_equal(n, sizeof(struct nvmf_auth_failure));
		assert_int_equal(msg[1], from_host ? NVMF_AUTH_ID_FAILURE1 : NVMF_AUTH_ID_FAILURE2);
		o.peer_ret = from_host ? dhchap_host_recv(&p->h, msg, (size_t)n, &o.peer_expl)
				       : dhchap_ctrl_recv(&p->c, msg, (size_t)n, &o.peer_expl);
		return o;
	}
	return o;
}

/* A failure found at step by the receiver, reported with expl to the sender. */
static void assert_failed(struct pair *p, struct outcome o, int step, int ret, uint8_t expl)
{
	assert_int_equal(o.step, step);
	assert_int_equal(o.ret, ret);
	assert_int_equal(o.expl, expl);
	if (ret != -ECONNREFUSED) {
		assert_int_equal(o.peer_ret, -ECONNREFUSED);
		assert_int_equal(o.peer_expl, expl);
	}
	assert_false(dhchap_ctrl_authenticated(&p->c));
	assert_false(dhchap_host_authenticated(&p->h));
	assert_int_equal(p->c.state, DHCHAP_CTRL_FAILED);
	assert_int_equal(p->h.state, DHCHAP_HOST_FAILED);
}

static void test_matrix(void **state)
{
	static const uint8_t groups[] = {NVMF_DHCHAP_DHGROUP_NULL, NVMF_DHCHAP_DHGROUP_FFDHE2048};
	struct pair p;

	(void)state;
	for (uint8_t h = NVMF_DHCHAP_HASH_SHA256; h <= NVMF_DHCHAP_HASH_SHA512; h++)
		for (size_t g = 0; g < sizeof(groups); g++)
			for (int bidi = 0; bidi <= 1; bidi++) {
				struct outcome o;

				setup(&p, h, groups[g], bidi);
				o = run(&p, NULL);
				assert_int_equal(o.step, -1);
				assert_true(dhchap_ctrl_authenticated(&p.c));
				assert_true(dhchap_host_authenticated(&p.h));
				assert_int_equal(p.h.hashid, h);
				assert_int_equal(p.h.dhgid, groups[g]);
				assert_int_equal(p.h.bidi, bidi);
				assert_null(p.c.dh);
				/* Nothing more to say on either side. */
				assert_int_equal(dhchap_host_send(&p.h, msg, AUTH_MSG_MAX),
						 -EPROTO);
				teardown_pair(&p);
			}
}

/* The default preferences: a DH group is chosen over NULL when both are offered. */
static void test_defaults(void **state)
{
	struct dhchap_key k;
	struct dhchap_ctrl_cfg cc = {.hostnqn = HOSTNQN, .subsysnqn = SUBSYSNQN, .host_key = &k};
	struct dhchap_host_cfg hc = {.hostnqn = HOSTNQN, .subsysnqn = SUBSYSNQN, .host_key = &k};
	struct pair p;

	(void)state;
	assert_int_equal(dhchap_key_generate(0, 48, &k), 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(dhchap_ctrl_init(&p.c, &cc), 0);
	assert_int_equal(dhchap_host_init(&p.h, &hc), 0);
	assert_int_equal(run(&p, NULL).step, -1);
	assert_int_equal(p.h.hashid, NVMF_DHCHAP_HASH_SHA256);
	assert_int_equal(p.h.dhgid, NVMF_DHCHAP_DHGROUP_FFDHE2048);
	assert_true(dhchap_ctrl_authenticated(&p.c));
	teardown_pair(&p);

	/* Configurations that cannot work. */
	cc.hashes[0] = 7;
	cc.nhashes = 1;
	assert_int_equal(dhchap_ctrl_init(&p.c, &cc), -EINVAL);
	hc.dhgroups[0] = 6;
	hc.ndhgroups = 1;
	assert_int_equal(dhchap_host_init(&p.h, &hc), -EINVAL);
	hc.ndhgroups = 0;
	hc.host_key = NULL;
	assert_int_equal(dhchap_host_init(&p.h, &hc), -EINVAL);
}

static void test_wrong_host_key(void **state)
{
	struct pair p;

	(void)state;
	setup(&p, NVMF_DHCHAP_HASH_SHA384, NVMF_DHCHAP_DHGROUP_FFDHE2048, false);
	p.hkey_h.key[5] ^= 1;
	assert_failed(&p, run(&p, NULL), STEP_REPLY, -EACCES, NVMF_AUTH_EXPL_FAILED);
	teardown_pair(&p);

	/* The same key with another transformation hash is another key. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	p.hkey_h.hash = NVMF_DHCHAP_HASH_NONE;
	assert_failed(&p, run(&p, NULL), STEP_REPLY, -EACCES, NVMF_AUTH_EXPL_FAILED);
	teardown_pair(&p);
}

static void test_wrong_ctrl_key(void **state)
{
	struct pair p;

	(void)state;
	setup(&p, NVMF_DHCHAP_HASH_SHA512, NVMF_DHCHAP_DHGROUP_FFDHE2048, true);
	p.ckey_h.key[63] ^= 0x80;
	assert_failed(&p, run(&p, NULL), STEP_SUCCESS1, -EACCES, NVMF_AUTH_EXPL_FAILED);
	teardown_pair(&p);

	/* Bidirectional asked for, and the controller has no key of its own. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, true);
	p.c.cfg.ctrl_key = NULL;
	assert_failed(&p, run(&p, NULL), STEP_REPLY, -EACCES, NVMF_AUTH_EXPL_FAILED);
	teardown_pair(&p);
}

static void save_reply(int step, uint8_t *m, size_t *len)
{
	if (step == STEP_REPLY) {
		memcpy(saved, m, *len);
		saved_len = *len;
	}
}

static void test_replayed_reply(void **state)
{
	uint8_t expl;
	ssize_t n;
	struct pair p;

	(void)state;
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	assert_int_equal(run(&p, save_reply).step, -1);
	assert_true(dhchap_ctrl_authenticated(&p.c));

	/* Re-authentication: a new Negotiate, a fresh C1 and S1; the old Reply fails. */
	struct dhchap_host_cfg hc = p.h.cfg;

	dhchap_host_fini(&p.h);
	assert_int_equal(dhchap_host_init(&p.h, &hc), 0);
	n = dhchap_host_send(&p.h, msg, AUTH_MSG_MAX);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, &expl), 0);
	assert_false(dhchap_ctrl_authenticated(&p.c));
	n = dhchap_ctrl_send(&p.c, msg, AUTH_MSG_MAX);
	assert_true(n > 0);
	assert_int_equal(dhchap_ctrl_recv(&p.c, saved, saved_len, &expl), -EACCES);
	assert_int_equal(expl, NVMF_AUTH_EXPL_FAILED);
	n = dhchap_ctrl_send(&p.c, msg, AUTH_MSG_MAX);
	assert_int_equal(msg[1], NVMF_AUTH_ID_FAILURE1);
	assert_int_equal(msg[7], NVMF_AUTH_EXPL_FAILED);
	teardown_pair(&p);

	/* The same Reply twice in one transaction: the second is out of order. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	n = dhchap_host_send(&p.h, msg, AUTH_MSG_MAX);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, NULL), 0);
	n = dhchap_ctrl_send(&p.c, msg, AUTH_MSG_MAX);
	assert_int_equal(dhchap_host_recv(&p.h, msg, (size_t)n, NULL), 0);
	n = dhchap_host_send(&p.h, msg, AUTH_MSG_MAX);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, &expl), 0);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, &expl), -EBADMSG);
	assert_int_equal(expl, NVMF_AUTH_EXPL_INCORRECT_MESSAGE);
	assert_int_equal(p.c.state, DHCHAP_CTRL_FAILURE1);
	teardown_pair(&p);
}

/* ---- tampering: one hook per case, selected by a global ---- */

static int tamper_case;

static void tamper(int step, uint8_t *m, size_t *len)
{
	switch (tamper_case) {
	case 0: /* a bit of R1 */
		if (step == STEP_REPLY)
			m[16] ^= 1;
		break;
	case 1: /* a bit of C1: the host answers another challenge */
		if (step == STEP_CHALLENGE)
			m[16 + 3] ^= 0x10;
		break;
	case 2: /* S1 */
		if (step == STEP_CHALLENGE)
			m[12] ^= 1;
		break;
	case 3: /* the controller's DH value: zero */
		if (step == STEP_CHALLENGE)
			memset(m + 16 + 32, 0, 256);
		break;
	case 4: /* the host's DH value: p would be out of range as all ones */
		if (step == STEP_REPLY)
			memset(m + 16 + 64, 0xff, 256);
		break;
	case 5: /* T_ID of the Reply */
		if (step == STEP_REPLY)
			m[4] ^= 1;
		break;
	case 6: /* T_ID of the Challenge */
		if (step == STEP_CHALLENGE)
			m[5] ^= 0x80;
		break;
	case 7: /* a bit of R2 */
		if (step == STEP_SUCCESS1)
			m[16 + 31] ^= 4;
		break;
	case 8: /* RVALID cleared: R2 withheld */
		if (step == STEP_SUCCESS1)
			m[8] = 0;
		break;
	case 9: /* a bit of the host's DH value: another secret, or no value at all */
		if (step == STEP_REPLY)
			m[16 + 64 + 200] ^= 0x01;
		break;
	}
}

static void test_tampered(void **state)
{
	static const struct {
		int bidi;
		int step;
		int ret;
		uint8_t expl;
	} cases[] = {
		[0] = {0, STEP_REPLY, -EACCES, NVMF_AUTH_EXPL_FAILED},
		[1] = {0, STEP_REPLY, -EACCES, NVMF_AUTH_EXPL_FAILED},
		[2] = {0, STEP_REPLY, -EACCES, NVMF_AUTH_EXPL_FAILED},
		[3] = {0, STEP_CHALLENGE, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},
		[4] = {0, STEP_REPLY, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},
		[5] = {0, STEP_REPLY, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE},
		[6] = {0, STEP_CHALLENGE, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE},
		[7] = {1, STEP_SUCCESS1, -EACCES, NVMF_AUTH_EXPL_FAILED},
		[8] = {1, STEP_SUCCESS1, -EACCES, NVMF_AUTH_EXPL_FAILED},
	};
	struct pair p;
	struct outcome o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tamper_case = (int)i;
		setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_FFDHE2048, cases[i].bidi);
		o = run(&p, tamper);
		assert_failed(&p, o, cases[i].step, cases[i].ret, cases[i].expl);
		teardown_pair(&p);
	}

	/* One bit of the host's value: whichever check catches it, it fails at the Reply. */
	tamper_case = 9;
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_FFDHE2048, false);
	o = run(&p, tamper);
	assert_int_equal(o.step, STEP_REPLY);
	assert_true((o.ret == -EACCES && o.expl == NVMF_AUTH_EXPL_FAILED) ||
		    (o.ret == -EBADMSG && o.expl == NVMF_AUTH_EXPL_INCORRECT_PAYLOAD));
	teardown_pair(&p);
}

static int id_case;

static void bad_ids(int step, uint8_t *m, size_t *len)
{
	switch (id_case) {
	case 0: /* the host offers only an unknown hash */
		if (step == STEP_NEGOTIATE) {
			m[8 + 2] = 1;
			m[8 + 4] = 0x09;
		}
		break;
	case 1: /* ... only an unknown DH group */
		if (step == STEP_NEGOTIATE) {
			m[8 + 3] = 1;
			m[8 + 34] = 0x09;
		}
		break;
	case 2: /* the controller names an unknown hash */
		if (step == STEP_CHALLENGE)
			m[8] = 0x04;
		break;
	case 3: /* ... an unknown DH group */
		if (step == STEP_CHALLENGE)
			m[9] = 0x06;
		break;
	case 4: /* ... SHA-384, which the host did not offer (C1 grown to fit) */
		if (step == STEP_CHALLENGE) {
			m[6] = 48;
			m[8] = NVMF_DHCHAP_HASH_SHA384;
			*len += 16;
		}
		break;
	case 5: /* ... ffdhe3072, which the host did not offer */
		if (step == STEP_CHALLENGE) {
			m[9] = NVMF_DHCHAP_DHGROUP_FFDHE3072;
			m[10] = 384 & 0xff;
			m[11] = 384 >> 8;
			*len += 128;
		}
		break;
	case 6: /* secure channel concatenation asked for */
		if (step == STEP_NEGOTIATE)
			m[6] = NVMF_AUTH_SC_C_NEWTLSPSK;
		break;
	case 7: /* no DH-HMAC-CHAP descriptor */
		if (step == STEP_NEGOTIATE)
			m[8] = 0x02;
		break;
	}
}

static void test_unusable_ids(void **state)
{
	static const struct {
		int step;
		int ret;
		uint8_t expl;
	} cases[] = {
		[0] = {STEP_NEGOTIATE, -EPROTO, NVMF_AUTH_EXPL_HASH_UNUSABLE},
		[1] = {STEP_NEGOTIATE, -EPROTO, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE},
		[2] = {STEP_CHALLENGE, -EBADMSG, NVMF_AUTH_EXPL_HASH_UNUSABLE},
		[3] = {STEP_CHALLENGE, -EBADMSG, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE},
		[4] = {STEP_CHALLENGE, -EPROTO, NVMF_AUTH_EXPL_HASH_UNUSABLE},
		[5] = {STEP_CHALLENGE, -EPROTO, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE},
		[6] = {STEP_NEGOTIATE, -EPROTO, NVMF_AUTH_EXPL_CONCAT_MISMATCH},
		[7] = {STEP_NEGOTIATE, -EPROTO, NVMF_AUTH_EXPL_PROTOCOL_UNUSABLE},
	};
	struct pair p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		id_case = (int)i;
		setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_FFDHE2048, false);
		/* Cases 4 and 5: the host offers only what the controller first chose. */
		p.h.cfg.hashes[0] = NVMF_DHCHAP_HASH_SHA256;
		p.h.cfg.nhashes = 1;
		p.h.cfg.dhgroups[0] = NVMF_DHCHAP_DHGROUP_FFDHE2048;
		p.h.cfg.ndhgroups = 1;
		memset(msg, 0, sizeof(msg));
		assert_failed(&p, run(&p, bad_ids), cases[i].step, cases[i].ret, cases[i].expl);
		teardown_pair(&p);
	}

	/* Nothing in common without tampering: SHA-512 only against SHA-256 only. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	p.h.cfg.hashes[0] = NVMF_DHCHAP_HASH_SHA512;
	p.h.cfg.nhashes = 1;
	assert_failed(&p, run(&p, NULL), STEP_NEGOTIATE, -EPROTO, NVMF_AUTH_EXPL_HASH_UNUSABLE);
	teardown_pair(&p);
}

static int dh_case;

static void bad_dh(int step, uint8_t *m, size_t *len)
{
	switch (dh_case) {
	case 0: /* Reply with a DHVLEN beyond any group */
		if (step == STEP_REPLY) {
			m[10] = 0x00;
			m[11] = 0x08;
			*len += 2048 - 256;
		}
		break;
	case 1: /* Reply with a value of another group's size */
		if (step == STEP_REPLY) {
			m[10] = 0x00;
			m[11] = 0x02;
			*len += 256;
		}
		break;
	case 2: /* Challenge: ffdhe2048 with 512 bytes of value */
		if (step == STEP_CHALLENGE) {
			m[10] = 0x00;
			m[11] = 0x02;
			*len += 256;
		}
		break;
	case 3: /* Reply: the length says more than was sent */
		if (step == STEP_REPLY)
			*len -= 1;
		break;
	}
}

static void bad_dh_null(int step, uint8_t *m, size_t *len)
{
	/* A DH value with the NULL group. */
	if (step == STEP_REPLY) {
		m[10] = 0x00;
		m[11] = 0x01;
		memset(m + *len, 0x5a, 256);
		*len += 256;
	}
}

static void test_oversized_dh(void **state)
{
	static const struct {
		int step;
	} cases[] = {{STEP_REPLY}, {STEP_REPLY}, {STEP_CHALLENGE}, {STEP_REPLY}};
	struct pair p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dh_case = (int)i;
		setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_FFDHE2048, false);
		memset(msg, 0, sizeof(msg));
		assert_failed(&p, run(&p, bad_dh), cases[i].step, -EBADMSG,
			      NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
		teardown_pair(&p);
	}
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	assert_failed(&p, run(&p, bad_dh_null), STEP_REPLY, -EBADMSG,
		      NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	teardown_pair(&p);
}

static void test_out_of_order(void **state)
{
	struct dhchap_reply r = {.t_id = TID, .hl = 32};
	struct dhchap_success1 s1 = {.t_id = TID, .hl = 32};
	struct dhchap_success2 s2 = {.t_id = TID};
	uint8_t expl;
	ssize_t n;
	struct pair p;

	(void)state;
	/* A Reply before any Negotiate. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	n = dhchap_reply_encode(&r, msg, sizeof(msg));
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, &expl), -EBADMSG);
	assert_int_equal(expl, NVMF_AUTH_EXPL_INCORRECT_MESSAGE);
	n = dhchap_ctrl_send(&p.c, msg, sizeof(msg));
	assert_int_equal(n, 8);
	assert_int_equal(msg[7], NVMF_AUTH_EXPL_INCORRECT_MESSAGE);
	teardown_pair(&p);

	/* An AUTH Receive before any Negotiate: Failure1. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	n = dhchap_ctrl_send(&p.c, msg, sizeof(msg));
	assert_int_equal(n, 8);
	assert_int_equal(msg[1], NVMF_AUTH_ID_FAILURE1);
	assert_int_equal(msg[7], NVMF_AUTH_EXPL_INCORRECT_MESSAGE);
	assert_int_equal(p.c.state, DHCHAP_CTRL_FAILED);
	teardown_pair(&p);

	/* The host: Success1 while it awaits the Challenge; asked to send out of turn. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	n = dhchap_host_send(&p.h, msg, sizeof(msg));
	assert_int_equal(dhchap_host_send(&p.h, msg, sizeof(msg)), -EPROTO);
	n = dhchap_success1_encode(&s1, msg, sizeof(msg));
	assert_int_equal(dhchap_host_recv(&p.h, msg, (size_t)n, &expl), -EBADMSG);
	assert_int_equal(expl, NVMF_AUTH_EXPL_INCORRECT_MESSAGE);
	n = dhchap_host_send(&p.h, msg, sizeof(msg));
	assert_int_equal(msg[1], NVMF_AUTH_ID_FAILURE2);
	assert_int_equal(p.h.state, DHCHAP_HOST_FAILED);
	teardown_pair(&p);

	/* Success2 after a one-way transaction: out of order, and it ends the authentication. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	assert_int_equal(run(&p, NULL).step, -1);
	assert_true(dhchap_ctrl_authenticated(&p.c));
	n = dhchap_success2_encode(&s2, msg, sizeof(msg));
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, &expl), -EBADMSG);
	assert_false(dhchap_ctrl_authenticated(&p.c));
	teardown_pair(&p);

	/* Too short to be any message. */
	setup(&p, NVMF_DHCHAP_HASH_SHA256, NVMF_DHCHAP_DHGROUP_NULL, false);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, 3, &expl), -EBADMSG);
	assert_int_equal(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	teardown_pair(&p);
}

static void test_small_buffers(void **state)
{
	struct pair p;
	ssize_t n;

	(void)state;
	setup(&p, NVMF_DHCHAP_HASH_SHA512, NVMF_DHCHAP_DHGROUP_FFDHE2048, true);
	assert_int_equal(dhchap_host_send(&p.h, msg, 71), -ENOSPC);
	n = dhchap_host_send(&p.h, msg, AUTH_MSG_MAX);
	assert_int_equal(n, 72);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, NULL), 0);
	/* Too small for the Challenge: nothing drawn, the state kept. */
	assert_int_equal(dhchap_ctrl_send(&p.c, msg, 16 + 64 + 255), -ENOSPC);
	assert_int_equal(p.c.state, DHCHAP_CTRL_CHALLENGE);
	n = dhchap_ctrl_send(&p.c, msg, AUTH_MSG_MAX);
	assert_int_equal(n, 16 + 64 + 256);
	assert_int_equal(dhchap_host_recv(&p.h, msg, (size_t)n, NULL), 0);
	assert_int_equal(dhchap_host_send(&p.h, msg, 100), -ENOSPC);
	n = dhchap_host_send(&p.h, msg, AUTH_MSG_MAX);
	assert_int_equal(n, 16 + 128 + 256);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, NULL), 0);
	n = dhchap_ctrl_send(&p.c, msg, AUTH_MSG_MAX);
	assert_int_equal(dhchap_host_recv(&p.h, msg, (size_t)n, NULL), 0);
	n = dhchap_host_send(&p.h, msg, AUTH_MSG_MAX);
	assert_int_equal(dhchap_ctrl_recv(&p.c, msg, (size_t)n, NULL), 0);
	assert_true(dhchap_ctrl_authenticated(&p.c));
	assert_true(dhchap_host_authenticated(&p.h));
	assert_string_equal(dhchap_ctrl_state_name(p.c.state), "done");
	assert_string_equal(dhchap_host_state_name(p.h.state), "done");
	teardown_pair(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),	       cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_wrong_host_key), cmocka_unit_test(test_wrong_ctrl_key),
		cmocka_unit_test(test_replayed_reply), cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_unusable_ids),   cmocka_unit_test(test_oversized_dh),
		cmocka_unit_test(test_out_of_order),   cmocka_unit_test(test_small_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
