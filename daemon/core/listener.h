/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets. A listener is shared: the target's listener set holds
 * a reference while the configuration has it, every worker's multishot
 * accept on it one, every connection accepted on it one (conn->l). A
 * reload that removes a listener marks it removed and drops the set's
 * reference; workers cancel their accepts and close its connections (as
 * nvmet does when a port goes away); the last reference closes the socket.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * The ANA state of each group as seen through one listener (NVMe Base 2.0
 * 8.1: the port is what a host's path goes through). Immutable once
 * published: a reload swaps the listener's pointer (the listener itself,
 * its socket and its connections stay) and frees the old table once no
 * command can hold it (registry.h).
 */
struct ana_states {
	uint8_t state[CFG_ANA_GROUPS + 1]; /* [0] unused; CFG_ANA_* */
};

struct listener {
	_Atomic int refs;
	_Atomic bool removed;
	int fd;
	_Atomic bool discovery_only; /* a reload may change it in place */
	char host[64];		     /* as configured: the identity a reload compares */
	unsigned int port;
	char name[80]; /* "127.0.0.1:4420", "[::1]:4420" */
	_Atomic(struct ana_states *) ana;
};

/* The listeners being served. Immutable once published (registry.h). */
struct listener_set {
	size_t n;
	struct listener *l[];
};

/* "127.0.0.1:4420", "[::1]:4420": how logs name a listener. */
void listener_name(const struct cfg_listener *cl, char *buf, size_t len);
/* Bind and listen (refs 1). 0 or -errno (the caller logs it, but a name that does not resolve). */
int listener_open(const struct cfg_listener *cl, struct listener **out);
/* The same without a socket (fd -1): for tests, and the first half of listener_open. */
struct listener *listener_alloc(const struct cfg_listener *cl);
void listener_get(struct listener *l);
void listener_put(struct listener *l);
struct listener_set *listener_set_alloc(size_t n);
/* The listener of set s that cl names (same address and port), or NULL. */
struct listener *listener_set_find(const struct listener_set *s, const struct cfg_listener *cl);

/* A new table with the states cl configures (NULL: out of memory). */
struct ana_states *ana_states_from(const struct cfg_listener *cl);
/* The table says what cl configures. */
bool ana_states_same(const struct ana_states *a, const struct cfg_listener *cl);

/* Group grp's state through l (acquire load); no listener: optimized. */
static inline uint8_t listener_ana_state(const struct listener *l, uint32_t grp)
{
	const struct ana_states *a;

	if (l == NULL || grp == 0 || grp > CFG_ANA_GROUPS)
		return CFG_ANA_OPTIMIZED;
	a = atomic_load_explicit((_Atomic(struct ana_states *) *)&l->ana, memory_order_acquire);
	return a != NULL ? a->state[grp] : CFG_ANA_OPTIMIZED;
}
