/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Encoding and decoding of the in-band authentication messages (NVMe Base
 * Specification 2.0, 8.13.4 "Authentication protocol messages"). Fixed
 * headers are copied into aligned structs before a field is read; the
 * variable fields follow at the offsets the header's lengths give.
 */
#include "auth_msg.h"

#include <errno.h>
#include <string.h>

#include "byteorder.h"

size_t dhchap_hash_len(uint8_t hashid)
{
	switch (hashid) {
	case NVMF_DHCHAP_HASH_SHA256:
		return 32;
	case NVMF_DHCHAP_HASH_SHA384:
		return 48;
	case NVMF_DHCHAP_HASH_SHA512:
		return 64;
	}
	return 0;
}

size_t dhchap_dhgroup_len(uint8_t dhgid)
{
	switch (dhgid) {
	case NVMF_DHCHAP_DHGROUP_FFDHE2048:
		return 256;
	case NVMF_DHCHAP_DHGROUP_FFDHE3072:
		return 384;
	case NVMF_DHCHAP_DHGROUP_FFDHE4096:
		return 512;
	case NVMF_DHCHAP_DHGROUP_FFDHE6144:
		return 768;
	case NVMF_DHCHAP_DHGROUP_FFDHE8192:
		return 1024;
	}
	return 0;
}

int dhchap_dhgroup_known(uint8_t dhgid)
{
	return dhgid == NVMF_DHCHAP_DHGROUP_NULL || dhchap_dhgroup_len(dhgid) != 0;
}

static int valid_hl(size_t hl)
{
	return hl == 32 || hl == 48 || hl == 64;
}

/* A DHVLEN some group has (or 0, no DH value). */
static int valid_dhvlen(size_t n)
{
	return n == 0 || n == 256 || n == 384 || n == 512 || n == 768 || n == 1024;
}

const char *auth_expl_name(uint8_t expl)
{
	static const char *const names[] = {
		[NVMF_AUTH_EXPL_FAILED] = "authentication failed",
		[NVMF_AUTH_EXPL_PROTOCOL_UNUSABLE] = "authentication protocol not usable",
		[NVMF_AUTH_EXPL_CONCAT_MISMATCH] = "secure channel concatenation mismatch",
		[NVMF_AUTH_EXPL_HASH_UNUSABLE] = "hash function not usable",
		[NVMF_AUTH_EXPL_DHGROUP_UNUSABLE] = "DH group not usable",
		[NVMF_AUTH_EXPL_INCORRECT_PAYLOAD] = "incorrect payload",
		[NVMF_AUTH_EXPL_INCORRECT_MESSAGE] = "incorrect protocol message",
	};

	if (expl < sizeof(names) / sizeof(names[0]) && names[expl])
		return names[expl];
	return "unknown";
}

static int bad(uint8_t *expl, uint8_t why)
{
	*expl = why;
	return -EBADMSG;
}

int auth_msg_peek(const void *buf, size_t len, uint8_t *auth_type, uint8_t *auth_id, uint16_t *t_id,
		  uint8_t *expl)
{
	struct nvmf_auth_common_hdr h;

	*expl = 0;
	if (len < sizeof(h))
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	memcpy(&h, buf, sizeof(h));
	*auth_type = h.auth_type;
	*auth_id = h.auth_id;
	*t_id = le16toh(h.t_id);
	return 0;
}

/*
 * Copy the fixed header of a message of the expected type and id; any other
 * message is an incorrect protocol message, a short one an incorrect payload.
 */
static int get_hdr(const void *buf, size_t len, void *hdr, size_t hlen, uint8_t type, uint8_t id,
		   uint8_t *expl)
{
	const uint8_t *b = buf;

	*expl = 0;
	if (len >= 2 && (b[0] != type || b[1] != id))
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_MESSAGE);
	if (len < hlen)
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	memcpy(hdr, buf, hlen);
	return 0;
}

/* ---- AUTH_Negotiate ---- */

ssize_t auth_negotiate_encode(const struct auth_negotiate *m, void *buf, size_t cap)
{
	struct nvmf_auth_negotiate h = {
		.auth_type = NVMF_AUTH_TYPE_COMMON,
		.auth_id = NVMF_AUTH_ID_NEGOTIATE,
		.t_id = htole16(m->t_id),
		.sc_c = m->sc_c,
		.napd = 1,
	};
	struct nvmf_dhchap_protocol_desc d = {
		.authid = NVMF_AUTH_AUTHID_DHCHAP,
		.halen = m->halen,
		.dhlen = m->dhlen,
	};

	if (m->halen > NVMF_DHCHAP_MAX_HASH_IDS || m->dhlen > NVMF_DHCHAP_MAX_DH_IDS)
		return -EINVAL;
	if (cap < sizeof(h) + sizeof(d))
		return -ENOSPC;
	memcpy(d.hashidlist, m->hashids, m->halen);
	memcpy(d.dhgidlist, m->dhgids, m->dhlen);
	memcpy(buf, &h, sizeof(h));
	memcpy((uint8_t *)buf + sizeof(h), &d, sizeof(d));
	return sizeof(h) + sizeof(d);
}

int auth_negotiate_decode(const void *buf, size_t len, struct auth_negotiate *m, uint8_t *expl)
{
	struct nvmf_auth_negotiate h;
	struct nvmf_dhchap_protocol_desc d;
	const uint8_t *p = buf;
	int ret;

	ret = get_hdr(buf, len, &h, sizeof(h), NVMF_AUTH_TYPE_COMMON, NVMF_AUTH_ID_NEGOTIATE, expl);
	if (ret)
		return ret;
	if (h.napd == 0 || len - sizeof(h) < (size_t)h.napd * sizeof(d))
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	memset(m, 0, sizeof(*m));
	m->t_id = le16toh(h.t_id);
	m->sc_c = h.sc_c;
	for (unsigned i = 0; i < h.napd; i++) {
		memcpy(&d, p + sizeof(h) + i * sizeof(d), sizeof(d));
		if (d.authid != NVMF_AUTH_AUTHID_DHCHAP)
			continue;
		if (d.halen > NVMF_DHCHAP_MAX_HASH_IDS || d.dhlen > NVMF_DHCHAP_MAX_DH_IDS)
			return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
		m->halen = d.halen;
		m->dhlen = d.dhlen;
		memcpy(m->hashids, d.hashidlist, d.halen);
		memcpy(m->dhgids, d.dhgidlist, d.dhlen);
		return 0;
	}
	return bad(expl, NVMF_AUTH_EXPL_PROTOCOL_UNUSABLE);
}

/* ---- DH-HMAC-CHAP_Challenge ---- */

ssize_t dhchap_challenge_encode(const struct dhchap_challenge *m, void *buf, size_t cap)
{
	struct nvmf_dhchap_challenge h = {
		.auth_type = NVMF_AUTH_TYPE_DHCHAP,
		.auth_id = NVMF_AUTH_ID_CHALLENGE,
		.t_id = htole16(m->t_id),
		.hl = m->hl,
		.hashid = m->hashid,
		.dhgid = m->dhgid,
		.dhvlen = htole16(m->dhvlen),
		.seqnum = htole32(m->seqnum),
	};
	uint8_t *p = buf;
	size_t n = sizeof(h) + m->hl + m->dhvlen;

	if (m->hl > NVMF_DHCHAP_HASH_MAX || m->dhvlen > NVMF_DHCHAP_DHV_MAX)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), m->cval, m->hl);
	memcpy(p + sizeof(h) + m->hl, m->dhv, m->dhvlen);
	return n;
}

int dhchap_challenge_decode(const void *buf, size_t len, struct dhchap_challenge *m, uint8_t *expl)
{
	struct nvmf_dhchap_challenge h;
	const uint8_t *p = buf;
	size_t dhvlen;
	int ret;

	ret = get_hdr(buf, len, &h, sizeof(h), NVMF_AUTH_TYPE_DHCHAP, NVMF_AUTH_ID_CHALLENGE, expl);
	if (ret)
		return ret;
	dhvlen = le16toh(h.dhvlen);
	if (dhchap_hash_len(h.hashid) == 0 || h.hl != dhchap_hash_len(h.hashid))
		return bad(expl, NVMF_AUTH_EXPL_HASH_UNUSABLE);
	if (!dhchap_dhgroup_known(h.dhgid))
		return bad(expl, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE);
	/* 8.13.4.3: DHVLEN is 0 with the NULL group, else the group's size. */
	if (dhvlen != dhchap_dhgroup_len(h.dhgid))
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	if (len - sizeof(h) < h.hl + dhvlen)
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	m->t_id = le16toh(h.t_id);
	m->hl = h.hl;
	m->hashid = h.hashid;
	m->dhgid = h.dhgid;
	m->dhvlen = dhvlen;
	m->seqnum = le32toh(h.seqnum);
	memcpy(m->cval, p + sizeof(h), h.hl);
	memcpy(m->dhv, p + sizeof(h) + h.hl, dhvlen);
	return 0;
}

/* ---- DH-HMAC-CHAP_Reply ---- */

ssize_t dhchap_reply_encode(const struct dhchap_reply *m, void *buf, size_t cap)
{
	struct nvmf_dhchap_reply h = {
		.auth_type = NVMF_AUTH_TYPE_DHCHAP,
		.auth_id = NVMF_AUTH_ID_REPLY,
		.t_id = htole16(m->t_id),
		.hl = m->hl,
		.cvalid = m->cvalid,
		.dhvlen = htole16(m->dhvlen),
		.seqnum = htole32(m->seqnum),
	};
	uint8_t *p = buf;
	size_t n = sizeof(h) + 2 * (size_t)m->hl + m->dhvlen;

	if (m->hl > NVMF_DHCHAP_HASH_MAX || m->dhvlen > NVMF_DHCHAP_DHV_MAX)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, m->rval, m->hl);
	p += m->hl;
	/* C2 is cleared when not valid, not left to whatever the struct held. */
	if (m->cvalid)
		memcpy(p, m->cval, m->hl);
	else
		memset(p, 0, m->hl);
	memcpy(p + m->hl, m->dhv, m->dhvlen);
	return n;
}

int dhchap_reply_decode(const void *buf, size_t len, struct dhchap_reply *m, uint8_t *expl)
{
	struct nvmf_dhchap_reply h;
	const uint8_t *p = buf;
	size_t dhvlen;
	int ret;

	ret = get_hdr(buf, len, &h, sizeof(h), NVMF_AUTH_TYPE_DHCHAP, NVMF_AUTH_ID_REPLY, expl);
	if (ret)
		return ret;
	dhvlen = le16toh(h.dhvlen);
	if (!valid_hl(h.hl) || h.cvalid > 1 || !valid_dhvlen(dhvlen))
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	if (len - sizeof(h) < 2 * (size_t)h.hl + dhvlen)
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	p += sizeof(h);
	m->t_id = le16toh(h.t_id);
	m->hl = h.hl;
	m->cvalid = h.cvalid;
	m->dhvlen = dhvlen;
	m->seqnum = le32toh(h.seqnum);
	memcpy(m->rval, p, h.hl);
	memcpy(m->cval, p + h.hl, h.hl);
	memcpy(m->dhv, p + 2 * h.hl, dhvlen);
	return 0;
}

/* ---- DH-HMAC-CHAP_Success1 / _Success2 ---- */

ssize_t dhchap_success1_encode(const struct dhchap_success1 *m, void *buf, size_t cap)
{
	struct nvmf_dhchap_success1 h = {
		.auth_type = NVMF_AUTH_TYPE_DHCHAP,
		.auth_id = NVMF_AUTH_ID_SUCCESS1,
		.t_id = htole16(m->t_id),
		.hl = m->hl,
		.rvalid = m->rvalid,
	};
	uint8_t *p = buf;
	size_t n = sizeof(h) + m->hl;

	if (m->hl > NVMF_DHCHAP_HASH_MAX)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	memcpy(p, &h, sizeof(h));
	if (m->rvalid)
		memcpy(p + sizeof(h), m->rval, m->hl);
	else
		memset(p + sizeof(h), 0, m->hl);
	return n;
}

int dhchap_success1_decode(const void *buf, size_t len, struct dhchap_success1 *m, uint8_t *expl)
{
	struct nvmf_dhchap_success1 h;
	int ret;

	ret = get_hdr(buf, len, &h, sizeof(h), NVMF_AUTH_TYPE_DHCHAP, NVMF_AUTH_ID_SUCCESS1, expl);
	if (ret)
		return ret;
	if (!valid_hl(h.hl) || h.rvalid > 1)
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	if (h.rvalid && len - sizeof(h) < h.hl)
		return bad(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	m->t_id = le16toh(h.t_id);
	m->hl = h.hl;
	m->rvalid = h.rvalid;
	memset(m->rval, 0, sizeof(m->rval));
	if (h.rvalid)
		memcpy(m->rval, (const uint8_t *)buf + sizeof(h), h.hl);
	return 0;
}

ssize_t dhchap_success2_encode(const struct dhchap_success2 *m, void *buf, size_t cap)
{
	struct nvmf_dhchap_success2 h = {
		.auth_type = NVMF_AUTH_TYPE_DHCHAP,
		.auth_id = NVMF_AUTH_ID_SUCCESS2,
		.t_id = htole16(m->t_id),
	};

	if (cap < sizeof(h))
		return -ENOSPC;
	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

int dhchap_success2_decode(const void *buf, size_t len, struct dhchap_success2 *m, uint8_t *expl)
{
	struct nvmf_dhchap_success2 h;
	int ret;

	ret = get_hdr(buf, len, &h, sizeof(h), NVMF_AUTH_TYPE_DHCHAP, NVMF_AUTH_ID_SUCCESS2, expl);
	if (ret)
		return ret;
	m->t_id = le16toh(h.t_id);
	return 0;
}

/* ---- AUTH_Failure1 / AUTH_Failure2 ---- */

ssize_t auth_failure_encode(const struct auth_failure *m, void *buf, size_t cap)
{
	struct nvmf_auth_failure h = {
		.auth_type = NVMF_AUTH_TYPE_COMMON,
		.auth_id = m->auth_id,
		.t_id = htole16(m->t_id),
		.rescode = m->rescode,
		.rescode_exp = m->rescode_exp,
	};

	if (m->auth_id != NVMF_AUTH_ID_FAILURE1 && m->auth_id != NVMF_AUTH_ID_FAILURE2)
		return -EINVAL;
	if (cap < sizeof(h))
		return -ENOSPC;
	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

int auth_failure_decode(const void *buf, size_t len, struct auth_failure *m, uint8_t *expl)
{
	struct nvmf_auth_failure h;
	const uint8_t *b = buf;
	uint8_t id = len >= 2 ? b[1] : NVMF_AUTH_ID_FAILURE1;
	int ret;

	if (id != NVMF_AUTH_ID_FAILURE2)
		id = NVMF_AUTH_ID_FAILURE1;
	ret = get_hdr(buf, len, &h, sizeof(h), NVMF_AUTH_TYPE_COMMON, id, expl);
	if (ret)
		return ret;
	m->auth_id = h.auth_id;
	m->t_id = le16toh(h.t_id);
	m->rescode = h.rescode;
	m->rescode_exp = h.rescode_exp;
	return 0;
}
