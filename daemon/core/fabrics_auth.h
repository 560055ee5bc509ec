/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * In-band authentication of one queue (NVMe Base Specification 2.0, 8.13
 * "NVMe over Fabrics In-band Authentication"; the Authentication Send and
 * Receive Fabrics commands, NVMe-oF 1.1a / TP 8006): the commands' checks
 * (SECP, SPSP0/1, TL/AL), the DH-HMAC-CHAP transaction (transport's
 * dhchap_ctrl) with the keys of the host's [host NQN] section, the
 * queue's authenticated state, the transaction timeout, and what a
 * failure costs (logged once, counted per subsystem, a per-address
 * backoff: auth_backoff.h).
 *
 * A queue whose Connect answered ATR (ctrl_connect() sets it when the
 * host's [host NQN] section has a dhchap_key) accepts nothing but AUTH
 * Send / AUTH Receive (and, on an I/O queue, Disconnect) until a
 * transaction succeeds: other commands end with Authentication Required
 * (qauth_gate()). A queue must authenticate within auth_timeout of its
 * Connect, and a transaction (also a re-authentication, which a new
 * AUTH_Negotiate on an authenticated queue starts) must end within
 * auth_timeout of its AUTH_Negotiate: otherwise the queue closes.
 * A failed transaction closes the queue once its last answer is out (as
 * the Linux target ends the controller after AUTH_Failure2); an admin
 * queue closing ends its controller.
 *
 * Keys are read from the configuration being served at each AUTH_Negotiate:
 * after a reload (SIGHUP) new connections, and established ones that
 * re-authenticate, use the new key; established queues keep working.
 * Key copies live in the queue's state only during a transaction and are
 * wiped when it ends.
 *
 * Thread: the queue's worker (state per queue; the backoff table and the
 * subsystem counters are shared, with a mutex / atomics).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ctrl.h"
#include "dhchap_ctrl.h"

struct qauth {
	struct ctrl *ctrl; /* borrowed: the queue's connection holds a reference */
	uint16_t qid;
	char peer[80];
	char peer_addr[64];
	bool required;	     /* Connect answered ATR: gated until authenticated */
	bool authenticated;  /* a transaction succeeded on this queue */
	bool in_tx;	     /* a transaction is in progress */
	bool failed;	     /* it failed: the queue closes once the answer is out */
	bool reported;	     /* that failure is logged and counted */
	int64_t deadline_ms; /* 0: none */
	uint32_t timeout_ms;
	struct dhchap_key host_key; /* copies, during a transaction only */
	struct dhchap_key ctrl_key;
	struct dhchap_ctrl dc;
};

/* What the queue does once the command's answer is out. */
enum qauth_after {
	QAUTH_CONTINUE,
	QAUTH_CLOSE, /* the transaction failed: close the queue (end the controller on qid 0) */
};

/*
 * A queue's state, at its Connect (required: the Connect answer carries
 * ATR) or at the first AUTH command of a queue that did not require it.
 * NULL when out of memory.
 */
struct qauth *qauth_new(struct ctrl *c, uint16_t qid, const struct conn_info *ci, bool required,
			int64_t now_ms);
/* Wipe and free (NULL is fine). */
void qauth_free(struct qauth *q);

/*
 * Whether a command other than AUTH Send / Receive (and Disconnect) may
 * run: 0, or Authentication Required (Base 2.0 8.13: a controller that
 * requires authentication aborts other commands with it; as nvmet).
 */
nvme_status_t qauth_gate(const struct qauth *q);

/*
 * AUTH Send (fctype 05h) with its data (buf, len = the SGL's length);
 * AUTH Receive (06h) into buf (zeroed by the caller, len = the SGL's
 * length), *out_len the bytes to return. The status is the command's
 * (Invalid Field for SECP / SPSP / TL / AL, ...); a transaction failure is
 * not a command failure: it is reported in the messages (AUTH_Failure1),
 * and *after says the queue is to close.
 */
nvme_status_t qauth_send(struct qauth *q, const struct nvme_sqe *sqe, const void *buf, uint32_t len,
			 int64_t now_ms, enum qauth_after *after);
nvme_status_t qauth_recv(struct qauth *q, const struct nvme_sqe *sqe, void *buf, uint32_t len,
			 uint32_t *out_len, int64_t now_ms, enum qauth_after *after);

/*
 * The queue has not authenticated within auth_timeout of its Connect, or
 * a transaction has not ended within it: true once (logged and counted as
 * a failure); the caller closes the queue.
 */
bool qauth_expired(struct qauth *q, int64_t now_ms);

/*
 * Whether a Connect from this host must authenticate (and so answers ATR):
 * the host's [host NQN] section has a dhchap_key. The discovery subsystem
 * never requires it. *refuse is set when the subsystem has require_auth
 * and the host has no key (the Connect is refused: Connect Invalid Host).
 */
bool qauth_connect_required(const struct target *t, const struct subsys *s, const char *hostnqn,
			    bool *refuse);
