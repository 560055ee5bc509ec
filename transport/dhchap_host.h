/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One DH-HMAC-CHAP transaction, host side (NVMe Base Specification 2.0,
 * 8.13.5), without I/O: the caller sends what dhchap_host_send() writes
 * with AUTH Send and hands what AUTH Receive returned to
 * dhchap_host_recv().
 *
 *	send AUTH_Negotiate, recv Challenge, send Reply, recv Success1,
 *	then (bidirectional) send Success2; or, on a failure the host finds,
 *	send AUTH_Failure2.
 *
 * Not thread-safe: one transaction per queue.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth_msg.h"
#include "dhchap.h"
#include "dhchap_ctrl.h"
#include "dhchap_key.h"

struct dhchap_host_cfg {
	const char *hostnqn;
	const char *subsysnqn;
	const struct dhchap_key *host_key; /* the host's secret */
	const struct dhchap_key *ctrl_key; /* set: authenticate the controller too */
	/* Hash functions offered; 0 entries: SHA-256, SHA-384, SHA-512. */
	uint8_t hashes[DHCHAP_MAX_HASHES];
	uint8_t nhashes;
	/* DH groups offered; 0 entries: NULL and ffdhe2048 .. ffdhe8192. */
	uint8_t dhgroups[DHCHAP_MAX_DHGROUPS];
	uint8_t ndhgroups;
	uint16_t t_id; /* transaction identifier: the caller's counter */
};

enum dhchap_host_state {
	DHCHAP_HOST_NEGOTIATE, /* the next send is AUTH_Negotiate */
	DHCHAP_HOST_CHALLENGE, /* awaiting the Challenge */
	DHCHAP_HOST_REPLY,     /* the next send is the Reply */
	DHCHAP_HOST_SUCCESS1,  /* awaiting Success1 */
	DHCHAP_HOST_SUCCESS2,  /* the next send is Success2 */
	DHCHAP_HOST_FAILURE2,  /* the next send is AUTH_Failure2 */
	DHCHAP_HOST_DONE,      /* authenticated (and the controller too, if asked) */
	DHCHAP_HOST_FAILED,    /* over, not authenticated */
};

struct dhchap_host {
	enum dhchap_host_state state;
	struct dhchap_host_cfg cfg; /* the pointers in it are borrowed */
	uint8_t hashid;
	uint8_t dhgid;
	uint8_t hl;
	uint8_t expl; /* for Failure2 */
	bool bidi;
	uint32_t s2;
	uint8_t r1[NVMF_DHCHAP_HASH_MAX];
	uint8_t c2[NVMF_DHCHAP_HASH_MAX];
	uint8_t r2[NVMF_DHCHAP_HASH_MAX]; /* the R2 expected in Success1 */
	uint16_t dhvlen;
	uint8_t dhv[NVMF_DHCHAP_DHV_MAX]; /* the host's public value */
};

/* Start in DHCHAP_HOST_NEGOTIATE. 0, or -EINVAL. */
int dhchap_host_init(struct dhchap_host *h, const struct dhchap_host_cfg *cfg);

/*
 * The next message to send with AUTH Send: written into buf, its length
 * returned; -ENOSPC if cap is too small (AUTH_MSG_MAX suffices), -EPROTO
 * when nothing is due (an AUTH Receive is, or the transaction is over).
 */
ssize_t dhchap_host_send(struct dhchap_host *h, void *buf, size_t cap);

/*
 * What AUTH Receive returned. 0 when it moved the transaction on;
 * otherwise *expl (if not NULL) gets the explanation and:
 *   -EBADMSG  malformed, unexpected or out-of-order message;
 *   -EPROTO   a hash or DH group the host did not offer;
 *   -EACCES   the controller's response is wrong or missing;
 *   -ENOMEM, -EIO  OpenSSL failed;
 *   -ECONNREFUSED  the controller sent AUTH_Failure1 (*expl is its
 *             explanation; the transaction is over, nothing is sent).
 * In the other cases an AUTH_Failure2 is due.
 */
int dhchap_host_recv(struct dhchap_host *h, const void *buf, size_t len, uint8_t *expl);

static inline bool dhchap_host_authenticated(const struct dhchap_host *h)
{
	return h->state == DHCHAP_HOST_DONE;
}

/* Wipe the transaction. */
void dhchap_host_fini(struct dhchap_host *h);

const char *dhchap_host_state_name(enum dhchap_host_state st);
