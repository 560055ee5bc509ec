/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-band authentication messages (auth_spec.h) in host order, and their
 * codec: bytes <-> structs, every declared length checked against the bytes
 * there are. No I/O, no crypto, no state: the state machines (dhchap_ctrl.h,
 * dhchap_host.h) decide what a well-formed message means.
 *
 * Decoders take the payload of an AUTH Send (TL bytes) or AUTH Receive
 * (what the controller returned, possibly zero-padded up to AL), so bytes
 * after the declared fields are ignored. They return 0, or -EBADMSG with
 * *expl set to the AUTH_Failure reason code explanation to report
 * (NVMF_AUTH_EXPL_*). Encoders return the message length, or -EINVAL for
 * a struct that cannot be sent as it is, or -ENOSPC if cap is too small.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth_spec.h"

/* The largest message: a Reply with SHA-512 and an ffdhe8192 value. */
#define AUTH_MSG_MAX \
	(sizeof(struct nvmf_dhchap_reply) + 2 * NVMF_DHCHAP_HASH_MAX + NVMF_DHCHAP_DHV_MAX)

/* AUTH_Negotiate, reduced to its DH-HMAC-CHAP descriptor. */
struct auth_negotiate {
	uint16_t t_id;
	uint8_t sc_c;
	uint8_t halen;
	uint8_t dhlen;
	uint8_t hashids[NVMF_DHCHAP_MAX_HASH_IDS];
	uint8_t dhgids[NVMF_DHCHAP_MAX_DH_IDS];
};

struct dhchap_challenge {
	uint16_t t_id;
	uint8_t hl;
	uint8_t hashid;
	uint8_t dhgid;
	uint16_t dhvlen;
	uint32_t seqnum;
	uint8_t cval[NVMF_DHCHAP_HASH_MAX];
	uint8_t dhv[NVMF_DHCHAP_DHV_MAX];
};

struct dhchap_reply {
	uint16_t t_id;
	uint8_t hl;
	uint8_t cvalid;
	uint16_t dhvlen;
	uint32_t seqnum;
	uint8_t rval[NVMF_DHCHAP_HASH_MAX];
	uint8_t cval[NVMF_DHCHAP_HASH_MAX];
	uint8_t dhv[NVMF_DHCHAP_DHV_MAX];
};

struct dhchap_success1 {
	uint16_t t_id;
	uint8_t hl;
	uint8_t rvalid;
	uint8_t rval[NVMF_DHCHAP_HASH_MAX];
};

struct dhchap_success2 {
	uint16_t t_id;
};

struct auth_failure {
	uint8_t auth_id; /* NVMF_AUTH_ID_FAILURE1 or _FAILURE2 */
	uint16_t t_id;
	uint8_t rescode;
	uint8_t rescode_exp;
};

/* The hash length of a HashID: 32, 48 or 64; 0 for an unknown ID. */
size_t dhchap_hash_len(uint8_t hashid);

/* Bytes of a DH group's modulus (and so of its DH values); 0 for NULL or unknown. */
size_t dhchap_dhgroup_len(uint8_t dhgid);

/* 1 if dhgid names a group (NULL included), 0 otherwise. */
int dhchap_dhgroup_known(uint8_t dhgid);

/* "authentication failed", ... for logs; "unknown" for others. */
const char *auth_expl_name(uint8_t expl);

/*
 * The common header of any message: 0, or -EBADMSG (expl INCORRECT_PAYLOAD)
 * if there are fewer than 6 bytes. To dispatch on type and id.
 */
int auth_msg_peek(const void *buf, size_t len, uint8_t *auth_type, uint8_t *auth_id, uint16_t *t_id,
		  uint8_t *expl);

ssize_t auth_negotiate_encode(const struct auth_negotiate *m, void *buf, size_t cap);
/*
 * Explanations: INCORRECT_MESSAGE (not an AUTH_Negotiate), INCORRECT_PAYLOAD
 * (NAPD 0, descriptors past the end, HALEN or DHLEN over 30),
 * PROTOCOL_UNUSABLE (no DH-HMAC-CHAP descriptor). The first DH-HMAC-CHAP
 * descriptor is used; others are skipped, as only AUTHID 01h is defined.
 */
int auth_negotiate_decode(const void *buf, size_t len, struct auth_negotiate *m, uint8_t *expl);

ssize_t dhchap_challenge_encode(const struct dhchap_challenge *m, void *buf, size_t cap);
/*
 * Explanations: INCORRECT_MESSAGE, HASH_UNUSABLE (unknown HashID, or HL
 * not its length), DHGROUP_UNUSABLE (unknown DHGID), INCORRECT_PAYLOAD (a
 * DH value with the NULL group, DHVLEN not the group's size, fields past
 * the end).
 */
int dhchap_challenge_decode(const void *buf, size_t len, struct dhchap_challenge *m, uint8_t *expl);

ssize_t dhchap_reply_encode(const struct dhchap_reply *m, void *buf, size_t cap);
/*
 * Explanations: INCORRECT_MESSAGE, INCORRECT_PAYLOAD (HL not 32/48/64,
 * CVALID not 0/1, DHVLEN not a group's size, fields past the end). Whether
 * HL and DHVLEN fit the Challenge is the state machine's question.
 */
int dhchap_reply_decode(const void *buf, size_t len, struct dhchap_reply *m, uint8_t *expl);

ssize_t dhchap_success1_encode(const struct dhchap_success1 *m, void *buf, size_t cap);
/* The R2 field is always sent (zeroes unless RVALID); it must be there only if RVALID. */
int dhchap_success1_decode(const void *buf, size_t len, struct dhchap_success1 *m, uint8_t *expl);

ssize_t dhchap_success2_encode(const struct dhchap_success2 *m, void *buf, size_t cap);
int dhchap_success2_decode(const void *buf, size_t len, struct dhchap_success2 *m, uint8_t *expl);

ssize_t auth_failure_encode(const struct auth_failure *m, void *buf, size_t cap);
/* Either AUTH_Failure1 or AUTH_Failure2; m->auth_id says which. */
int auth_failure_decode(const void *buf, size_t len, struct auth_failure *m, uint8_t *expl);
