/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the DH-HMAC-CHAP message decoders (transport/auth_msg.c)
 * and the two transaction state machines (transport/dhchap_ctrl.c,
 * dhchap_host.c) on arbitrary bytes (input format in fuzz_auth.h).
 * Invariants checked, besides what ASan/UBSan see: a decoder returns 0 or
 * -EBADMSG with an explanation the specification defines; what decodes
 * re-encodes to a message that decodes to the same fields; a machine's
 * result is one it documents, a failure leaves a Failure message due, and
 * every message it produces fits AUTH_MSG_MAX and decodes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_msg.h"
#include "dhchap_ctrl.h"
#include "dhchap_host.h"
#include "fuzz_auth.h"
#include "fuzz_target.h"

static uint8_t out[AUTH_MSG_MAX];

static void check_expl(int ret, uint8_t expl)
{
	CHECK(ret == 0 || ret == -EBADMSG);
	if (ret)
		CHECK(expl >= NVMF_AUTH_EXPL_FAILED && expl <= NVMF_AUTH_EXPL_INCORRECT_MESSAGE);
}

/* Decode, re-encode, decode again: the same fields. */
#define ROUND_TRIP(type, dec, enc, d, n)                          \
	do {                                                      \
		static type a, b;                                 \
		uint8_t ex;                                       \
		int rt;                                           \
		memset(&a, 0, sizeof(a));                         \
		memset(&b, 0, sizeof(b));                         \
		rt = dec(d, n, &a, &ex);                          \
		check_expl(rt, ex);                               \
		if (rt == 0) {                                    \
			ssize_t m = enc(&a, out, sizeof(out));    \
			CHECK(m > 0 && (size_t)m <= sizeof(out)); \
			CHECK(dec(out, (size_t)m, &b, &ex) == 0); \
			CHECK(memcmp(&a, &b, sizeof(a)) == 0);    \
		}                                                 \
	} while (0)

static void decode_all(const uint8_t *d, size_t n)
{
	uint8_t type, id, e = 0;
	uint16_t t_id;
	int r = auth_msg_peek(d, n, &type, &id, &t_id, &e);

	check_expl(r, e);
	ROUND_TRIP(struct auth_negotiate, auth_negotiate_decode, auth_negotiate_encode, d, n);
	ROUND_TRIP(struct dhchap_challenge, dhchap_challenge_decode, dhchap_challenge_encode, d, n);
	ROUND_TRIP(struct dhchap_success2, dhchap_success2_decode, dhchap_success2_encode, d, n);
	ROUND_TRIP(struct auth_failure, auth_failure_decode, auth_failure_encode, d, n);
	/* C2 and R2 go out as zeroes when not valid: compare what the wire keeps. */
	{
		static struct dhchap_reply a, b;

		r = dhchap_reply_decode(d, n, &a, &e);

		check_expl(r, e);
		if (r == 0) {
			ssize_t m = dhchap_reply_encode(&a, out, sizeof(out));

			CHECK(m == (ssize_t)(16 + 2 * a.hl + a.dhvlen));
			CHECK(dhchap_reply_decode(out, (size_t)m, &b, &e) == 0);
			CHECK(memcmp(a.rval, b.rval, a.hl) == 0 && a.seqnum == b.seqnum);
			CHECK(memcmp(a.dhv, b.dhv, a.dhvlen) == 0);
		}
	}
	{
		struct dhchap_success1 a = {0}, b = {0};

		r = dhchap_success1_decode(d, n, &a, &e);

		check_expl(r, e);
		if (r == 0) {
			ssize_t m = dhchap_success1_encode(&a, out, sizeof(out));

			CHECK(m == 16 + a.hl);
			CHECK(dhchap_success1_decode(out, (size_t)m, &b, &e) == 0);
			CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		}
	}
}

/* The next record, or NULL at the end. */
static const uint8_t *next_record(const uint8_t **d, size_t *n, size_t *len)
{
	const uint8_t *r;

	if (*n < 2)
		return NULL;
	*len = (size_t)(*d)[0] | (size_t)(*d)[1] << 8;
	*d += 2;
	*n -= 2;
	if (*len > *n)
		*len = *n;
	r = *d;
	*d += *len;
	*n -= *len;
	return r;
}

static void keys(struct dhchap_key *hk, struct dhchap_key *ck)
{
	*hk = (struct dhchap_key){.hash = NVMF_DHCHAP_HASH_SHA256, .len = 32};
	*ck = (struct dhchap_key){.hash = NVMF_DHCHAP_HASH_SHA384, .len = 48};
	memset(hk->key, FA_HOST_KEY_BYTE, 32);
	memset(ck->key, FA_CTRL_KEY_BYTE, 48);
}

static void run_ctrl(const uint8_t *d, size_t n)
{
	static struct dhchap_ctrl c;
	struct dhchap_key hk, ck;
	/* NULL and the cheapest group: ffdhe8192 would make each run slow. */
	struct dhchap_ctrl_cfg cfg = {
		.hostnqn = FA_HOSTNQN,
		.subsysnqn = FA_SUBSYSNQN,
		.host_key = &hk,
		.ctrl_key = &ck,
		.dhgroups = {NVMF_DHCHAP_DHGROUP_FFDHE2048, NVMF_DHCHAP_DHGROUP_NULL},
		.ndhgroups = 2,
	};
	const uint8_t *r;
	size_t len;

	keys(&hk, &ck);
	CHECK(dhchap_ctrl_init(&c, &cfg) == 0);
	while ((r = next_record(&d, &n, &len)) != NULL) {
		uint8_t expl = 0;
		int ret = dhchap_ctrl_recv(&c, r, len, &expl);

		CHECK(ret == 0 || ret == -EBADMSG || ret == -EPROTO || ret == -EACCES ||
		      ret == -ECONNREFUSED);
		if (ret && ret != -ECONNREFUSED) {
			CHECK(c.state == DHCHAP_CTRL_FAILURE1);
			CHECK(expl >= NVMF_AUTH_EXPL_FAILED);
		}
		if (c.state == DHCHAP_CTRL_CHALLENGE || c.state == DHCHAP_CTRL_SUCCESS1 ||
		    c.state == DHCHAP_CTRL_FAILURE1) {
			ssize_t m = dhchap_ctrl_send(&c, out, sizeof(out));

			CHECK(m >= (ssize_t)sizeof(struct nvmf_auth_failure) &&
			      (size_t)m <= sizeof(out));
			CHECK(out[0] == NVMF_AUTH_TYPE_DHCHAP || out[1] == NVMF_AUTH_ID_FAILURE1);
		}
	}
	dhchap_ctrl_fini(&c);
}

static void run_host(const uint8_t *d, size_t n)
{
	static struct dhchap_host h;
	struct dhchap_key hk, ck;
	struct dhchap_host_cfg cfg = {
		.hostnqn = FA_HOSTNQN,
		.subsysnqn = FA_SUBSYSNQN,
		.host_key = &hk,
		.ctrl_key = &ck,
		.dhgroups = {NVMF_DHCHAP_DHGROUP_NULL, NVMF_DHCHAP_DHGROUP_FFDHE2048},
		.ndhgroups = 2,
		.t_id = 1,
	};
	const uint8_t *r;
	size_t len;

	keys(&hk, &ck);
	CHECK(dhchap_host_init(&h, &cfg) == 0);
	CHECK(dhchap_host_send(&h, out, sizeof(out)) == 72);
	while ((r = next_record(&d, &n, &len)) != NULL) {
		uint8_t expl = 0;
		int ret = dhchap_host_recv(&h, r, len, &expl);
		ssize_t m;

		CHECK(ret == 0 || ret == -EBADMSG || ret == -EPROTO || ret == -EACCES ||
		      ret == -ECONNREFUSED);
		if (ret && ret != -ECONNREFUSED)
			CHECK(h.state == DHCHAP_HOST_FAILURE2);
		m = dhchap_host_send(&h, out, sizeof(out));
		CHECK(m == -EPROTO || (m > 0 && (size_t)m <= sizeof(out)));
	}
	dhchap_host_fini(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % FA_MODES) {
	case FA_DECODE:
		decode_all(data + 1, size - 1);
		break;
	case FA_CTRL:
		run_ctrl(data + 1, size - 1);
		break;
	case FA_HOST:
		run_host(data + 1, size - 1);
		break;
	}
	return 0;
}
