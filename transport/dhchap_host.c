/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DH-HMAC-CHAP, host side (NVMe Base Specification 2.0, 8.13.5). The
 * checks on the Challenge and Success1 follow the Linux host
 * (drivers/nvme/host/auth.c), where the specification leaves the failure
 * to report open.
 */
#include "dhchap_host.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

static const uint8_t default_hashes[] = {
	NVMF_DHCHAP_HASH_SHA256,
	NVMF_DHCHAP_HASH_SHA384,
	NVMF_DHCHAP_HASH_SHA512,
};

static const uint8_t default_dhgroups[] = {
	NVMF_DHCHAP_DHGROUP_NULL,      NVMF_DHCHAP_DHGROUP_FFDHE2048, NVMF_DHCHAP_DHGROUP_FFDHE3072,
	NVMF_DHCHAP_DHGROUP_FFDHE4096, NVMF_DHCHAP_DHGROUP_FFDHE6144, NVMF_DHCHAP_DHGROUP_FFDHE8192,
};

const char *dhchap_host_state_name(enum dhchap_host_state st)
{
	static const char *const names[] = {
		[DHCHAP_HOST_NEGOTIATE] = "negotiate", [DHCHAP_HOST_CHALLENGE] = "challenge",
		[DHCHAP_HOST_REPLY] = "reply",	       [DHCHAP_HOST_SUCCESS1] = "success1",
		[DHCHAP_HOST_SUCCESS2] = "success2",   [DHCHAP_HOST_FAILURE2] = "failure2",
		[DHCHAP_HOST_DONE] = "done",	       [DHCHAP_HOST_FAILED] = "failed",
	};

	if ((unsigned)st < sizeof(names) / sizeof(names[0]))
		return names[st];
	return "?";
}

static bool key_valid(const struct dhchap_key *k)
{
	return (k->len == 32 || k->len == 48 || k->len == 64) && k->hash <= NVMF_DHCHAP_HASH_SHA512;
}

int dhchap_host_init(struct dhchap_host *h, const struct dhchap_host_cfg *cfg)
{
	memset(h, 0, sizeof(*h));
	if (!cfg->hostnqn || !cfg->subsysnqn || !cfg->host_key || !key_valid(cfg->host_key) ||
	    (cfg->ctrl_key && !key_valid(cfg->ctrl_key)) || cfg->nhashes > DHCHAP_MAX_HASHES ||
	    cfg->ndhgroups > DHCHAP_MAX_DHGROUPS)
		return -EINVAL;
	h->cfg = *cfg;
	if (h->cfg.nhashes == 0) {
		memcpy(h->cfg.hashes, default_hashes, sizeof(default_hashes));
		h->cfg.nhashes = sizeof(default_hashes);
	}
	if (h->cfg.ndhgroups == 0) {
		memcpy(h->cfg.dhgroups, default_dhgroups, sizeof(default_dhgroups));
		h->cfg.ndhgroups = sizeof(default_dhgroups);
	}
	for (unsigned i = 0; i < h->cfg.nhashes; i++)
		if (dhchap_hash_len(h->cfg.hashes[i]) == 0)
			return -EINVAL;
	for (unsigned i = 0; i < h->cfg.ndhgroups; i++)
		if (!dhchap_dhgroup_known(h->cfg.dhgroups[i]))
			return -EINVAL;
	h->state = DHCHAP_HOST_NEGOTIATE;
	return 0;
}

static void wipe_secrets(struct dhchap_host *h)
{
	OPENSSL_cleanse(h->r1, sizeof(h->r1));
	OPENSSL_cleanse(h->c2, sizeof(h->c2));
	OPENSSL_cleanse(h->r2, sizeof(h->r2));
}

/* A failure the host found: Failure2 with this explanation is due. */
static int fail(struct dhchap_host *h, int err, uint8_t expl, uint8_t *out_expl)
{
	wipe_secrets(h);
	h->state = DHCHAP_HOST_FAILURE2;
	h->expl = expl;
	if (out_expl)
		*out_expl = expl;
	return err;
}

/*
 * A response, from the transformed key of its owner over the (augmented)
 * challenge: R1 with the host's key, R2 with the controller's.
 */
static int compute(struct dhchap_host *h, bool host, const uint8_t *secret, size_t secret_len,
		   const uint8_t *chal, uint32_t seq, uint16_t t_id, uint8_t *out)
{
	uint8_t tkey[NVMF_DHCHAP_HASH_MAX], ch[NVMF_DHCHAP_HASH_MAX];
	struct dhchap_resp_args a = {
		.hashid = h->hashid,
		.tkey = tkey,
		.chal = ch,
		.seqnum = seq,
		.t_id = t_id,
		.sc_c = NVMF_AUTH_SC_C_NOSC,
		.hostnqn = h->cfg.hostnqn,
		.subsysnqn = h->cfg.subsysnqn,
	};
	int ret;

	ret = dhchap_key_transform(host ? h->cfg.host_key : h->cfg.ctrl_key,
				   host ? h->cfg.hostnqn : h->cfg.subsysnqn, tkey, &a.tkey_len);
	if (ret == 0)
		ret = dhchap_response_challenge(h->hashid, secret, secret_len, chal, ch);
	if (ret == 0)
		ret = host ? dhchap_host_response(&a, out) : dhchap_ctrl_response(&a, out);
	OPENSSL_cleanse(tkey, sizeof(tkey));
	OPENSSL_cleanse(ch, sizeof(ch));
	return ret;
}

/* The host's half of the DH exchange: its public value and the shared secret. */
static int exchange(struct dhchap_host *h, const struct dhchap_challenge *m, uint8_t *secret)
{
	struct dhchap_dh *dh;
	int ret;

	ret = dhchap_dh_generate(m->dhgid, &dh);
	if (ret)
		return ret;
	ret = dhchap_dh_public(dh, h->dhv, m->dhvlen);
	if (ret == 0)
		ret = dhchap_dh_derive(dh, m->dhv, m->dhvlen, secret);
	dhchap_dh_free(dh);
	h->dhvlen = ret == 0 ? m->dhvlen : 0;
	return ret;
}

/* R1, and C2, S2 and the expected R2 when the controller is to be authenticated. */
static int respond(struct dhchap_host *h, const struct dhchap_challenge *m, const uint8_t *secret,
		   size_t secret_len)
{
	int ret;

	ret = compute(h, true, secret, secret_len, m->cval, m->seqnum, m->t_id, h->r1);
	if (ret || !h->bidi)
		return ret;
	ret = dhchap_random(h->c2, h->hl);
	if (ret == 0)
		ret = dhchap_random_seqnum(&h->s2);
	if (ret == 0)
		ret = compute(h, false, secret, secret_len, h->c2, h->s2, m->t_id, h->r2);
	return ret;
}

static int on_challenge(struct dhchap_host *h, const void *buf, size_t len, uint8_t *expl)
{
	struct dhchap_challenge m;
	uint8_t secret[NVMF_DHCHAP_DHV_MAX], why;
	int ret;

	if (dhchap_challenge_decode(buf, len, &m, &why))
		return fail(h, -EBADMSG, why, expl);
	if (m.t_id != h->cfg.t_id)
		return fail(h, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE, expl);
	if (!memchr(h->cfg.hashes, m.hashid, h->cfg.nhashes))
		return fail(h, -EPROTO, NVMF_AUTH_EXPL_HASH_UNUSABLE, expl);
	if (!memchr(h->cfg.dhgroups, m.dhgid, h->cfg.ndhgroups))
		return fail(h, -EPROTO, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE, expl);
	h->hashid = m.hashid;
	h->dhgid = m.dhgid;
	h->hl = m.hl;
	h->bidi = h->cfg.ctrl_key != NULL;
	ret = m.dhvlen ? exchange(h, &m, secret) : 0;
	if (ret == 0)
		ret = respond(h, &m, secret, m.dhvlen);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(&m, sizeof(m));
	if (ret)
		return fail(h, ret,
			    ret == -EBADMSG ? NVMF_AUTH_EXPL_INCORRECT_PAYLOAD
					    : NVMF_AUTH_EXPL_FAILED,
			    expl);
	h->state = DHCHAP_HOST_REPLY;
	return 0;
}

static int on_success1(struct dhchap_host *h, const void *buf, size_t len, uint8_t *expl)
{
	struct dhchap_success1 m;
	uint8_t why;

	if (dhchap_success1_decode(buf, len, &m, &why))
		return fail(h, -EBADMSG, why, expl);
	if (m.t_id != h->cfg.t_id)
		return fail(h, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE, expl);
	if (m.hl != h->hl)
		return fail(h, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD, expl);
	if (!h->bidi) {
		/* RVALID without a request is not ours to check (nor to trust). */
		wipe_secrets(h);
		h->state = DHCHAP_HOST_DONE;
		return 0;
	}
	/* A controller that does not answer C2 is not authenticated. */
	if (!m.rvalid || !dhchap_equal(m.rval, h->r2, h->hl))
		return fail(h, -EACCES, NVMF_AUTH_EXPL_FAILED, expl);
	h->state = DHCHAP_HOST_SUCCESS2;
	return 0;
}

int dhchap_host_recv(struct dhchap_host *h, const void *buf, size_t len, uint8_t *expl)
{
	uint8_t type, id, why;
	uint16_t t_id;

	if (expl)
		*expl = 0;
	if (auth_msg_peek(buf, len, &type, &id, &t_id, &why))
		return fail(h, -EBADMSG, why, expl);
	if (type == NVMF_AUTH_TYPE_COMMON && id == NVMF_AUTH_ID_FAILURE1 &&
	    (h->state == DHCHAP_HOST_CHALLENGE || h->state == DHCHAP_HOST_SUCCESS1)) {
		struct auth_failure m;

		if (auth_failure_decode(buf, len, &m, &why))
			return fail(h, -EBADMSG, why, expl);
		wipe_secrets(h);
		h->state = DHCHAP_HOST_FAILED;
		if (expl)
			*expl = m.rescode_exp;
		return -ECONNREFUSED;
	}
	if (type == NVMF_AUTH_TYPE_DHCHAP && id == NVMF_AUTH_ID_CHALLENGE &&
	    h->state == DHCHAP_HOST_CHALLENGE)
		return on_challenge(h, buf, len, expl);
	if (type == NVMF_AUTH_TYPE_DHCHAP && id == NVMF_AUTH_ID_SUCCESS1 &&
	    h->state == DHCHAP_HOST_SUCCESS1)
		return on_success1(h, buf, len, expl);
	return fail(h, -EBADMSG, NVMF_AUTH_EXPL_INCORRECT_MESSAGE, expl);
}

static ssize_t make_negotiate(struct dhchap_host *h, void *buf, size_t cap)
{
	struct auth_negotiate m = {
		.t_id = h->cfg.t_id,
		.sc_c = NVMF_AUTH_SC_C_NOSC,
		.halen = h->cfg.nhashes,
		.dhlen = h->cfg.ndhgroups,
	};

	memcpy(m.hashids, h->cfg.hashes, h->cfg.nhashes);
	memcpy(m.dhgids, h->cfg.dhgroups, h->cfg.ndhgroups);
	return auth_negotiate_encode(&m, buf, cap);
}

static ssize_t make_reply(struct dhchap_host *h, void *buf, size_t cap)
{
	struct dhchap_reply m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.t_id = h->cfg.t_id;
	m.hl = h->hl;
	m.cvalid = h->bidi;
	m.seqnum = h->bidi ? h->s2 : 0;
	m.dhvlen = h->dhvlen;
	memcpy(m.rval, h->r1, h->hl);
	memcpy(m.cval, h->c2, h->hl);
	memcpy(m.dhv, h->dhv, h->dhvlen);
	n = dhchap_reply_encode(&m, buf, cap);
	OPENSSL_cleanse(&m, sizeof(m));
	return n;
}

ssize_t dhchap_host_send(struct dhchap_host *h, void *buf, size_t cap)
{
	enum dhchap_host_state next;
	ssize_t n;

	switch (h->state) {
	case DHCHAP_HOST_NEGOTIATE:
		n = make_negotiate(h, buf, cap);
		next = DHCHAP_HOST_CHALLENGE;
		break;
	case DHCHAP_HOST_REPLY:
		n = make_reply(h, buf, cap);
		next = DHCHAP_HOST_SUCCESS1;
		break;
	case DHCHAP_HOST_SUCCESS2: {
		struct dhchap_success2 m = {.t_id = h->cfg.t_id};

		n = dhchap_success2_encode(&m, buf, cap);
		next = DHCHAP_HOST_DONE;
		break;
	}
	case DHCHAP_HOST_FAILURE2: {
		struct auth_failure m = {
			.auth_id = NVMF_AUTH_ID_FAILURE2,
			.t_id = h->cfg.t_id,
			.rescode = NVMF_AUTH_FAILURE_REASON_FAILED,
			.rescode_exp = h->expl ? h->expl : NVMF_AUTH_EXPL_FAILED,
		};

		n = auth_failure_encode(&m, buf, cap);
		next = DHCHAP_HOST_FAILED;
		break;
	}
	default:
		return -EPROTO;
	}
	if (n < 0)
		return n;
	if (next == DHCHAP_HOST_DONE || next == DHCHAP_HOST_FAILED)
		wipe_secrets(h);
	h->state = next;
	return n;
}

void dhchap_host_fini(struct dhchap_host *h)
{
	OPENSSL_cleanse(h, sizeof(*h));
}
