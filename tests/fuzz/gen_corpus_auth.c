/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the seed corpus of fuzz_auth into the directory given: every
 * message encoded by transport/auth_msg.c for the decoders; Negotiate and
 * Reply sequences for a controller transaction; Challenge and Success1 (or
 * Failure1) sequences for a host transaction, with and without ffdhe2048.
 * Run by hand (or `meson compile fuzz-corpus-auth`); the output is committed
 * in corpus/auth/ so it never changes behind a test's back.
 */
#include <stdbool.h>
#include <string.h>

#include "auth_msg.h"
#include "fuzz_auth.h"
#include "gen_corpus_util.h"

static uint8_t m[AUTH_MSG_MAX];

static void seed_init(struct gen_seed *s, enum fa_mode mode)
{
	memset(s, 0, sizeof(*s));
	s->hdr[0] = (uint8_t)mode;
	s->hdr_len = 1;
}

/* A record: 2-byte little-endian length, then the message. */
static void put_rec(struct gen_seed *s, ssize_t n)
{
	uint8_t len[2] = {(uint8_t)n, (uint8_t)(n >> 8)};

	gen_put(s, len, 2);
	gen_put(s, m, (size_t)n);
}

static ssize_t negotiate(const uint8_t *dh, uint8_t ndh)
{
	struct auth_negotiate n = {.t_id = 1, .halen = 3, .hashids = {1, 2, 3}, .dhlen = ndh};

	memcpy(n.dhgids, dh, ndh);
	return auth_negotiate_encode(&n, m, sizeof(m));
}

/* g = 2, a valid public value in any ffdhe group, padded to its size. */
static void generator(uint8_t *v, size_t len)
{
	memset(v, 0, len);
	v[len - 1] = 2;
}

static ssize_t challenge(uint8_t hashid, uint8_t dhgid)
{
	static struct dhchap_challenge c;

	memset(&c, 0, sizeof(c));
	c.t_id = 1;
	c.hashid = hashid;
	c.hl = (uint8_t)dhchap_hash_len(hashid);
	c.dhgid = dhgid;
	c.dhvlen = (uint16_t)dhchap_dhgroup_len(dhgid);
	c.seqnum = 0x01020304;
	memset(c.cval, 0xc1, c.hl);
	if (c.dhvlen)
		generator(c.dhv, c.dhvlen);
	return dhchap_challenge_encode(&c, m, sizeof(m));
}

static ssize_t reply(uint8_t hl, bool bidi, uint16_t dhvlen)
{
	static struct dhchap_reply r;

	memset(&r, 0, sizeof(r));
	r.t_id = 1;
	r.hl = hl;
	r.cvalid = bidi;
	r.seqnum = bidi ? 7 : 0;
	r.dhvlen = dhvlen;
	memset(r.rval, 0x5a, hl);
	memset(r.cval, 0xc2, hl);
	if (dhvlen)
		generator(r.dhv, dhvlen);
	return dhchap_reply_encode(&r, m, sizeof(m));
}

static ssize_t success1(uint8_t hl, bool rvalid)
{
	struct dhchap_success1 s = {.t_id = 1, .hl = hl, .rvalid = rvalid};

	memset(s.rval, 0x77, hl);
	return dhchap_success1_encode(&s, m, sizeof(m));
}

static ssize_t failure(uint8_t id, uint8_t expl)
{
	struct auth_failure f = {.auth_id = id, .t_id = 1, .rescode = 1, .rescode_exp = expl};

	return auth_failure_encode(&f, m, sizeof(m));
}

static void one(const char *name, ssize_t n)
{
	struct gen_seed s;

	seed_init(&s, FA_DECODE);
	gen_put(&s, m, (size_t)n);
	gen_save(&s, name);
}

static void decode_seeds(void)
{
	static const uint8_t all[] = {0, 1, 2, 3, 4, 5};
	struct dhchap_success2 s2 = {.t_id = 1};

	one("d-negotiate", negotiate(all, 6));
	one("d-challenge-sha256-null", challenge(NVMF_DHCHAP_HASH_SHA256, 0));
	one("d-challenge-sha384-2048", challenge(NVMF_DHCHAP_HASH_SHA384, 1));
	one("d-reply", reply(32, false, 0));
	one("d-reply-bidi-2048", reply(64, true, 256));
	one("d-success1", success1(48, true));
	one("d-success2", dhchap_success2_encode(&s2, m, sizeof(m)));
	one("d-failure1", failure(NVMF_AUTH_ID_FAILURE1, NVMF_AUTH_EXPL_HASH_UNUSABLE));
	one("d-failure2", failure(NVMF_AUTH_ID_FAILURE2, NVMF_AUTH_EXPL_FAILED));
}

static void ctrl_seeds(void)
{
	static const uint8_t null[] = {0}, dh[] = {1};
	struct dhchap_success2 s2 = {.t_id = 1};
	struct gen_seed s;

	seed_init(&s, FA_CTRL);
	put_rec(&s, negotiate(null, 1));
	put_rec(&s, reply(32, false, 0));
	gen_save(&s, "c-null");

	seed_init(&s, FA_CTRL);
	put_rec(&s, negotiate(dh, 1));
	put_rec(&s, reply(32, true, 256));
	put_rec(&s, dhchap_success2_encode(&s2, m, sizeof(m)));
	gen_save(&s, "c-2048-bidi");

	seed_init(&s, FA_CTRL);
	put_rec(&s, negotiate(null, 1));
	put_rec(&s, negotiate(dh, 1));
	put_rec(&s, failure(NVMF_AUTH_ID_FAILURE2, NVMF_AUTH_EXPL_FAILED));
	gen_save(&s, "c-restart-failure2");

	seed_init(&s, FA_CTRL);
	put_rec(&s, reply(32, false, 0));
	put_rec(&s, dhchap_success2_encode(&s2, m, sizeof(m)));
	gen_save(&s, "c-out-of-order");
}

static void host_seeds(void)
{
	struct gen_seed s;

	seed_init(&s, FA_HOST);
	put_rec(&s, challenge(NVMF_DHCHAP_HASH_SHA256, 0));
	put_rec(&s, success1(32, true));
	gen_save(&s, "h-null");

	seed_init(&s, FA_HOST);
	put_rec(&s, challenge(NVMF_DHCHAP_HASH_SHA512, 1));
	put_rec(&s, success1(64, true));
	gen_save(&s, "h-2048");

	seed_init(&s, FA_HOST);
	put_rec(&s, failure(NVMF_AUTH_ID_FAILURE1, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE));
	gen_save(&s, "h-failure1");
}

int main(int argc, char **argv)
{
	if (gen_args(argc, argv))
		return 2;
	decode_seeds();
	ctrl_seeds();
	host_seeds();
	return 0;
}
