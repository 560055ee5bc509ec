/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DH-HMAC-CHAP, controller side (NVMe Base Specification 2.0, 8.13.5; the
 * message order of 8.13.4 and figure "DH-HMAC-CHAP protocol"). The checks
 * and the failure each one reports follow the Linux target
 * (drivers/nvme/target/fabrics-cmd-auth.c) where the specification leaves
 * the choice open.
 */
#include "dhchap_ctrl.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

static const uint8_t default_hashes[] = {
	NVMF_DHCHAP_HASH_SHA256,
	NVMF_DHCHAP_HASH_SHA384,
	NVMF_DHCHAP_HASH_SHA512,
};

/* A DH group first: it keeps the responses from an offline dictionary attack. */
static const uint8_t default_dhgroups[] = {
	NVMF_DHCHAP_DHGROUP_FFDHE2048, NVMF_DHCHAP_DHGROUP_FFDHE3072, NVMF_DHCHAP_DHGROUP_FFDHE4096,
	NVMF_DHCHAP_DHGROUP_FFDHE6144, NVMF_DHCHAP_DHGROUP_FFDHE8192, NVMF_DHCHAP_DHGROUP_NULL,
};

const char *dhchap_ctrl_state_name(enum dhchap_ctrl_state st)
{
	static const char *const names[] = {
		[DHCHAP_CTRL_NEGOTIATE] = "negotiate", [DHCHAP_CTRL_CHALLENGE] = "challenge",
		[DHCHAP_CTRL_REPLY] = "reply",	       [DHCHAP_CTRL_SUCCESS1] = "success1",
		[DHCHAP_CTRL_SUCCESS2] = "success2",   [DHCHAP_CTRL_FAILURE1] = "failure1",
		[DHCHAP_CTRL_DONE] = "done",	       [DHCHAP_CTRL_FAILED] = "failed",
	};

	if ((unsigned)st < sizeof(names) / sizeof(names[0]))
		return names[st];
	return "?";
}

static bool key_valid(const struct dhchap_key *k)
{
	return (k->len == 32 || k->len == 48 || k->len == 64) && k->hash <= NVMF_DHCHAP_HASH_SHA512;
}

int dhchap_ctrl_init(struct dhchap_ctrl *c, const struct dhchap_ctrl_cfg *cfg)
{
	memset(c, 0, sizeof(*c));
	if (!cfg->hostnqn || !cfg->subsysnqn || !cfg->host_key || !key_valid(cfg->host_key) ||
	    (cfg->ctrl_key && !key_valid(cfg->ctrl_key)) || cfg->nhashes > DHCHAP_MAX_HASHES ||
	    cfg->ndhgroups > DHCHAP_MAX_DHGROUPS)
		return -EINVAL;
	c->cfg = *cfg;
	if (c->cfg.nhashes == 0) {
		memcpy(c->cfg.hashes, default_hashes, sizeof(default_hashes));
		c->cfg.nhashes = sizeof(default_hashes);
	}
	if (c->cfg.ndhgroups == 0) {
		memcpy(c->cfg.dhgroups, default_dhgroups, sizeof(default_dhgroups));
		c->cfg.ndhgroups = sizeof(default_dhgroups);
	}
	for (unsigned i = 0; i < c->cfg.nhashes; i++)
		if (dhchap_hash_len(c->cfg.hashes[i]) == 0)
			return -EINVAL;
	for (unsigned i = 0; i < c->cfg.ndhgroups; i++)
		if (!dhchap_dhgroup_known(c->cfg.dhgroups[i]))
			return -EINVAL;
	c->state = DHCHAP_CTRL_NEGOTIATE;
	return 0;
}

/* Forget the transaction in progress (not the configuration). */
static void reset(struct dhchap_ctrl *c)
{
	dhchap_dh_free(c->dh);
	c->dh = NULL;
	c->bidi = false;
	c->s1 = c->s2 = 0;
	c->expl = 0;
	OPENSSL_cleanse(c->c1, sizeof(c->c1));
	OPENSSL_cleanse(c->r2, sizeof(c->r2));
}

/* The transaction failed: Failure1 with this explanation is due. */
static int fail(struct dhchap_ctrl *c, int err, uint8_t expl, uint8_t *out_expl)
{
	reset(c);
	c->state = DHCHAP_CTRL_FAILURE1;
	c->expl = expl;
	if (out_expl)
		*out_expl = expl;
	return err;
}

static bool offered(uint8_t id, const uint8_t *list, unsigned n)
{
	return memchr(list, id, n) != NULL;
}

/* 8.13.5.2: the controller picks from what the host offers, by its own preference. */
static int on_negotiate(struct dhchap_ctrl *c, const void *buf, size_t len, uint8_t *expl)
{
	struct auth_negotiate m;
	uint8_t why;
	unsigned i;

	reset(c);
	if (auth_negotiate_decode(buf, len, &m, &why))
		return fail(c, why == NVMF_AUTH_EXPL_PROTOCOL_UNUSABLE ? -EPROTO : -EBADMSG, why,
			    expl);
	c->t_id = m.t_id;
	/* Secure channel concatenation (TLS PSK generation) is not offered. */
	if (m.sc_c != NVMF_AUTH_SC_C_NOSC)
		return fail(c, -EPROTO, NVMF_AUTH_EXPL_CONCAT_MISMATCH, expl);
	for (i = 0; i < c->cfg.nhashes; i++)
		if (offered(c->cfg.hashes[i], m.hashids, m.halen))
			break;
	if (i == c->cfg.nhashes)
		return fail(c, -EPROTO, NVMF_AUTH_EXPL_HASH_UNUSABLE, expl);
	c->hashid = c->cfg.hashes[i];
	c->hl = (uint8_t)dhchap_hash_len(c->hashid);
	for (i = 0; i < c->cfg.ndhgroups; i++)
		if (offered(c->cfg.dhgroups[i], m.dhgids, m.dhlen))
			break;
	if (i == c->cfg.ndhgroups)
		return fail(c, -EPROTO, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE, expl);
	c->dhgid = c->cfg.dhgroups[i];
	c->sc_c = m.sc_c;
	c->state = DHCHAP_CTRL_CHALLENGE;
	return 0;
}

/*
 * The response computed with a key over a challenge: R1 with the host's
 * key over C1 and S1, or R2 with the controller's over C2 and S2.
 */
static int compute(struct dhchap_ctrl *c, bool host, const uint8_t *secret, size_t secret_len,
		   const uint8_t *chal, uint32_t seq, uint8_t *out)
{
	uint8_t tkey[NVMF_DHCHAP_HASH_MAX], ch[NVMF_DHCHAP_HASH_MAX];
	struct dhchap_resp_args a = {
		.hashid = c->hashid,
		.tkey = tkey,
		.chal = ch,
		.seqnum = seq,
		.t_id = c->t_id,
		.sc_c = c->sc_c,
		.hostnqn = c->cfg.hostnqn,
		.subsysnqn = c->cfg.subsysnqn,
	};
	int ret;

	ret = dhchap_key_transform(host ? c->cfg.host_key : c->cfg.ctrl_key,
				   host ? c->cfg.hostnqn : c->cfg.subsysnqn, tkey, &a.tkey_len);
	if (ret == 0)
		ret = dhchap_response_challenge(c->hashid, secret, secret_len, chal, ch);
	if (ret == 0)
		ret = host ? dhchap_host_response(&a, out) : dhchap_ctrl_response(&a, out);
	OPENSSL_cleanse(tkey, sizeof(tkey));
	OPENSSL_cleanse(ch, sizeof(ch));
	return ret;
}

/* Check R1; prepare R2 if the host asked to authenticate the controller. */
static int check_reply(struct dhchap_ctrl *c, const struct dhchap_reply *m, const uint8_t *secret,
		       size_t secret_len, uint8_t *expl)
{
	uint8_t r1[NVMF_DHCHAP_HASH_MAX];
	bool ok;
	int ret;

	ret = compute(c, true, secret, secret_len, c->c1, c->s1, r1);
	if (ret)
		return fail(c, ret, NVMF_AUTH_EXPL_FAILED, expl);
	ok = dhchap_equal(r1, m->rval, c->hl);
	OPENSSL_cleanse(r1, sizeof(r1));
	if (!ok)
		return fail(c, -EACCES, NVMF_AUTH_EXPL_FAILED, expl);
	/*
	 * 8.13.4.4: S2 0 with CVALID set carries C2 only to generate a PSK
	 * (secure channel concatenation, refused above): not bidirectional.
	 */
	c->bidi = m->cvalid && m->seqnum != 0;
	if (!c->bidi)
		return 0;
	if (!c->cfg.ctrl_key)
		return fail(c, -EACCES, NVMF_AUTH_EXPL_FAILED, expl);
	c->s2 = m->seqnum;
	ret = compute(c, false, secret, secret_len, m->cval, c->s2, c->r2);
	if (ret)
		return fail(c, ret, NVMF_AUTH_EXPL_FAILED, expl);
	return 0;
}

static int on_reply(struct dhchap_ctrl *c, const void *buf, size_t len, uint8_t *expl)
{
	struct dhchap_reply m;
	uint8_t secret[NVMF_DHCHAP_DHV_MAX];
	size_t secret_len = dhchap_dhgroup_len(c->dhgid);
	uint8_t why;
	int ret;

	if (dhchap_reply_decode(buf, len, &m, &why))
		return fail(c, -EBADMSG, why, expl);
	if (m.t_id != c->t_id)
		ret = fail(c, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE, expl);
	else if (m.hl != c->hl || m.dhvlen != secret_len)
		ret = fail(c, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD, expl);
	else if (secret_len && (ret = dhchap_dh_derive(c->dh, m.dhv, m.dhvlen, secret)) != 0)
		ret = fail(c, ret,
			   ret == -EBADMSG ? NVMF_AUTH_EXPL_INCORRECT_PAYLOAD
					   : NVMF_AUTH_EXPL_FAILED,
			   expl);
	else
		ret = check_reply(c, &m, secret, secret_len, expl);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(&m, sizeof(m));
	if (ret == 0)
		c->state = DHCHAP_CTRL_SUCCESS1;
	return ret;
}

static int on_success2(struct dhchap_ctrl *c, const void *buf, size_t len, uint8_t *expl)
{
	struct dhchap_success2 m;
	uint8_t why;

	if (dhchap_success2_decode(buf, len, &m, &why))
		return fail(c, -EBADMSG, why, expl);
	if (m.t_id != c->t_id)
		return fail(c, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE, expl);
	reset(c);
	c->state = DHCHAP_CTRL_DONE;
	return 0;
}

/* The host gave up: nothing more is sent. */
static int on_failure2(struct dhchap_ctrl *c, const void *buf, size_t len, uint8_t *expl)
{
	struct auth_failure m;
	uint8_t why;

	if (auth_failure_decode(buf, len, &m, &why))
		return fail(c, -EBADMSG, why, expl);
	reset(c);
	c->state = DHCHAP_CTRL_FAILED;
	if (expl)
		*expl = m.rescode_exp;
	return -ECONNREFUSED;
}

int dhchap_ctrl_recv(struct dhchap_ctrl *c, const void *buf, size_t len, uint8_t *expl)
{
	uint8_t type, id, why;
	uint16_t t_id;

	if (expl)
		*expl = 0;
	if (auth_msg_peek(buf, len, &type, &id, &t_id, &why))
		return fail(c, -EBADMSG, why, expl);
	if (type == NVMF_AUTH_TYPE_COMMON && id == NVMF_AUTH_ID_NEGOTIATE)
		return on_negotiate(c, buf, len, expl);
	if (type == NVMF_AUTH_TYPE_COMMON && id == NVMF_AUTH_ID_FAILURE2 &&
	    (c->state == DHCHAP_CTRL_REPLY || c->state == DHCHAP_CTRL_SUCCESS2) && t_id == c->t_id)
		return on_failure2(c, buf, len, expl);
	if (type == NVMF_AUTH_TYPE_DHCHAP && id == NVMF_AUTH_ID_REPLY &&
	    c->state == DHCHAP_CTRL_REPLY)
		return on_reply(c, buf, len, expl);
	if (type == NVMF_AUTH_TYPE_DHCHAP && id == NVMF_AUTH_ID_SUCCESS2 &&
	    c->state == DHCHAP_CTRL_SUCCESS2)
		return on_success2(c, buf, len, expl);
	/* Anything else, including a replay of a step already taken. */
	return fail(c, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE, expl);
}

/* 8.13.5.3: fresh C1 and S1, and a fresh DH key pair, for every transaction. */
static ssize_t make_challenge(struct dhchap_ctrl *c, void *buf, size_t cap)
{
	struct dhchap_challenge m;
	size_t dhvlen = dhchap_dhgroup_len(c->dhgid);
	ssize_t n;
	int ret;

	/* Before anything is drawn, so that a retry with room starts clean. */
	if (cap < sizeof(struct nvmf_dhchap_challenge) + c->hl + dhvlen)
		return -ENOSPC;
	memset(&m, 0, sizeof(m));
	ret = dhchap_random(c->c1, c->hl);
	if (ret == 0)
		ret = dhchap_random_seqnum(&c->s1);
	if (ret == 0 && dhvlen) {
		ret = dhchap_dh_generate(c->dhgid, &c->dh);
		if (ret == 0)
			ret = dhchap_dh_public(c->dh, m.dhv, dhvlen);
	}
	if (ret)
		return ret;
	m.t_id = c->t_id;
	m.hl = c->hl;
	m.hashid = c->hashid;
	m.dhgid = c->dhgid;
	m.dhvlen = (uint16_t)dhvlen;
	m.seqnum = c->s1;
	memcpy(m.cval, c->c1, c->hl);
	n = dhchap_challenge_encode(&m, buf, cap);
	if (n > 0)
		c->state = DHCHAP_CTRL_REPLY;
	return n;
}

static ssize_t make_success1(struct dhchap_ctrl *c, void *buf, size_t cap)
{
	struct dhchap_success1 m = {
		.t_id = c->t_id,
		.hl = c->hl,
		.rvalid = c->bidi,
	};
	ssize_t n;

	memcpy(m.rval, c->r2, sizeof(m.rval));
	n = dhchap_success1_encode(&m, buf, cap);
	if (n < 0)
		return n;
	if (c->bidi) {
		c->state = DHCHAP_CTRL_SUCCESS2;
	} else {
		reset(c);
		c->state = DHCHAP_CTRL_DONE;
	}
	return n;
}

static ssize_t make_failure1(struct dhchap_ctrl *c, void *buf, size_t cap)
{
	struct auth_failure m = {
		.auth_id = NVMF_AUTH_ID_FAILURE1,
		.t_id = c->t_id,
		.rescode = NVMF_AUTH_FAILURE_REASON_FAILED,
		.rescode_exp = c->expl ? c->expl : NVMF_AUTH_EXPL_FAILED,
	};
	ssize_t n = auth_failure_encode(&m, buf, cap);

	if (n > 0) {
		reset(c);
		c->state = DHCHAP_CTRL_FAILED;
	}
	return n;
}

ssize_t dhchap_ctrl_send(struct dhchap_ctrl *c, void *buf, size_t cap)
{
	ssize_t n;

	switch (c->state) {
	case DHCHAP_CTRL_CHALLENGE:
		n = make_challenge(c, buf, cap);
		if (n == -ENOSPC)
			return n;
		if (n < 0)
			fail(c, (int)n, NVMF_AUTH_EXPL_FAILED, NULL);
		else
			return n;
		break;
	case DHCHAP_CTRL_SUCCESS1:
		return make_success1(c, buf, cap);
	case DHCHAP_CTRL_FAILURE1:
		break;
	default:
		/* An AUTH Receive out of turn (the Linux target answers the same). */
		fail(c, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE, NULL);
		break;
	}
	return make_failure1(c, buf, cap);
}

void dhchap_ctrl_abort(struct dhchap_ctrl *c, uint16_t t_id, uint8_t expl)
{
	fail(c, -EACCES, expl, NULL);
	c->t_id = t_id;
}

void dhchap_ctrl_fini(struct dhchap_ctrl *c)
{
	reset(c);
	OPENSSL_cleanse(c, sizeof(*c));
}
