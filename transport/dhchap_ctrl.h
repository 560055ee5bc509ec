/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One DH-HMAC-CHAP transaction, controller side (NVMe Base Specification
 * 2.0, 8.13.5), without I/O: the caller hands it what each AUTH Send
 * carried and asks it for what each AUTH Receive returns.
 *
 *	host AUTH Send    AUTH_Negotiate    -> dhchap_ctrl_recv()
 *	host AUTH Receive Challenge         <- dhchap_ctrl_send()
 *	host AUTH Send    Reply             -> dhchap_ctrl_recv()
 *	host AUTH Receive Success1/Failure1 <- dhchap_ctrl_send()
 *	host AUTH Send    Success2/Failure2 -> dhchap_ctrl_recv()  (bidirectional only)
 *
 * A protocol failure found in a received message makes the next
 * dhchap_ctrl_send() return AUTH_Failure1 with the explanation recv
 * reported. An AUTH_Negotiate restarts the transaction from any state
 * (re-authentication). Not thread-safe: one transaction per queue, driven
 * by the queue's owner.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth_msg.h"
#include "dhchap.h"
#include "dhchap_key.h"

#define DHCHAP_MAX_HASHES   3
#define DHCHAP_MAX_DHGROUPS 6

struct dhchap_ctrl_cfg {
	const char *hostnqn; /* the host NQN from Connect */
	const char *subsysnqn;
	const struct dhchap_key *host_key; /* the key the host must prove it holds */
	const struct dhchap_key *ctrl_key; /* NULL: a bidirectional request fails */
	/* Allowed hash functions, most preferred first; 0 entries: SHA-256, -384, -512. */
	uint8_t hashes[DHCHAP_MAX_HASHES];
	uint8_t nhashes;
	/* Allowed DH groups, most preferred first; 0 entries: ffdhe2048 .. 8192, NULL. */
	uint8_t dhgroups[DHCHAP_MAX_DHGROUPS];
	uint8_t ndhgroups;
};

enum dhchap_ctrl_state {
	DHCHAP_CTRL_NEGOTIATE, /* awaiting AUTH_Negotiate */
	DHCHAP_CTRL_CHALLENGE, /* the next AUTH Receive returns the Challenge */
	DHCHAP_CTRL_REPLY,     /* awaiting the Reply */
	DHCHAP_CTRL_SUCCESS1,  /* the next AUTH Receive returns Success1 */
	DHCHAP_CTRL_SUCCESS2,  /* awaiting Success2 or Failure2 */
	DHCHAP_CTRL_FAILURE1,  /* the next AUTH Receive returns Failure1 */
	DHCHAP_CTRL_DONE,      /* the host is authenticated */
	DHCHAP_CTRL_FAILED,    /* over, the host is not authenticated */
};

struct dhchap_ctrl {
	enum dhchap_ctrl_state state;
	struct dhchap_ctrl_cfg cfg; /* the pointers in it are borrowed */
	uint16_t t_id;
	uint8_t sc_c;
	uint8_t hashid;
	uint8_t dhgid;
	uint8_t hl;
	uint8_t expl; /* for Failure1 */
	bool bidi;
	uint32_t s1;
	uint32_t s2;
	uint8_t c1[NVMF_DHCHAP_HASH_MAX];
	uint8_t r2[NVMF_DHCHAP_HASH_MAX];
	struct dhchap_dh *dh;
};

/* Start in DHCHAP_CTRL_NEGOTIATE. 0, or -EINVAL for a configuration that cannot work. */
int dhchap_ctrl_init(struct dhchap_ctrl *c, const struct dhchap_ctrl_cfg *cfg);

/*
 * An AUTH Send's payload. Returns 0 when the message moved the transaction
 * on. Otherwise the transaction failed and *expl (if not NULL) gets the
 * explanation (NVMF_AUTH_EXPL_*):
 *   -EBADMSG  malformed, unexpected or out-of-order message;
 *   -EPROTO   nothing usable in common (protocol, hash, group, SC_C);
 *   -EACCES   the host's response is wrong, or it asked for bidirectional
 *             authentication and there is no controller key;
 *   -ECONNREFUSED  the host sent AUTH_Failure2 (*expl is its explanation;
 *             nothing more is sent);
 *   -ENOMEM, -EIO  OpenSSL failed (explanation "authentication failed").
 * In all but the last two cases a Failure1 is then due.
 */
int dhchap_ctrl_recv(struct dhchap_ctrl *c, const void *buf, size_t len, uint8_t *expl);

/*
 * What the next AUTH Receive returns: writes the message into buf and
 * returns its length, or -ENOSPC if cap is too small (AUTH_MSG_MAX always
 * suffices; the state does not change). When the controller has nothing
 * due (the host asked out of turn), or the Challenge cannot be made, this
 * is an AUTH_Failure1 and the transaction fails.
 */
ssize_t dhchap_ctrl_send(struct dhchap_ctrl *c, void *buf, size_t cap);

/*
 * End the transaction now, whatever its state: the next dhchap_ctrl_send()
 * returns AUTH_Failure1 with expl and transaction identifier t_id. For the
 * caller's own refusals (no key for this host, too many failures from its
 * address), decided before the host's message is even looked at.
 */
void dhchap_ctrl_abort(struct dhchap_ctrl *c, uint16_t t_id, uint8_t expl);

static inline bool dhchap_ctrl_authenticated(const struct dhchap_ctrl *c)
{
	return c->state == DHCHAP_CTRL_DONE;
}

/* Free the DH key pair and wipe the transaction. */
void dhchap_ctrl_fini(struct dhchap_ctrl *c);

const char *dhchap_ctrl_state_name(enum dhchap_ctrl_state st);
