/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Slowing down secret guessing: per peer address, failed DH-HMAC-CHAP
 * transactions open a window in which the next transaction from that
 * address is refused before any response is checked (AUTH_Failure1, the
 * host learns nothing). The window doubles with each failure, from
 * AUTH_BACKOFF_BASE_MS to AUTH_BACKOFF_MAX_MS, and an address that has not
 * failed for AUTH_BACKOFF_FORGET_MS starts over. A success does not reset
 * it (else a host holding one good key could interleave guesses at
 * another's).
 *
 * Only the failing address is slowed: TCP peers cannot spoof their
 * address, so an attacker cannot lock out other hosts. The table is
 * bounded (AUTH_BACKOFF_SLOTS): when it is full the entry that failed
 * longest ago is reused, so many addresses cost memory no more than one.
 *
 * Thread: any worker; one mutex, taken on authentication steps only.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define AUTH_BACKOFF_SLOTS     1024
#define AUTH_BACKOFF_BASE_MS   1000
#define AUTH_BACKOFF_MAX_MS    60000
#define AUTH_BACKOFF_FORGET_MS 600000

struct auth_backoff_entry {
	char addr[64]; /* numeric, without port; "" free */
	uint32_t fails;
	int64_t last_ms;  /* of the last failure */
	int64_t until_ms; /* refused until then */
};

struct auth_backoff {
	pthread_mutex_t lock;
	struct auth_backoff_entry e[AUTH_BACKOFF_SLOTS];
};

void auth_backoff_init(struct auth_backoff *b);
void auth_backoff_fini(struct auth_backoff *b);

/* A transaction from addr failed at now: returns the window it opens (ms). */
uint32_t auth_backoff_fail(struct auth_backoff *b, const char *addr, int64_t now_ms);

/* Whether addr is inside its window at now; *left_ms (if not NULL) gets what remains. */
bool auth_backoff_blocked(struct auth_backoff *b, const char *addr, int64_t now_ms,
			  uint32_t *left_ms);
