/* SPDX-License-Identifier: BSD-2-Clause */
/* Connection limits at accept (see conn_limits.h). */
#include "conn_limits.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* One peer address (the port aside) and its connections not yet connected. */
struct limits_addr {
	struct limits_addr *next;
	sa_family_t family;
	uint8_t addr[16];
	uint32_t pending;
};

void limits_init(struct limits *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
}

void limits_fini(struct limits *l)
{
	for (size_t i = 0; i < LIMITS_ADDR_HASH; i++) {
		while (l->hash[i] != NULL) {
			struct limits_addr *a = l->hash[i];

			l->hash[i] = a->next;
			free(a);
		}
	}
	pthread_mutex_destroy(&l->lock);
}

/* The address bytes of peer (IPv4-mapped IPv6 as IPv4); false if neither. */
static bool addr_key(const struct sockaddr_storage *peer, sa_family_t *family, uint8_t key[16])
{
	memset(key, 0, 16);
	if (peer->ss_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)peer)->sin_addr, 4);
		*family = AF_INET;
		return true;
	}
	if (peer->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)peer)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(key, a->s6_addr + 12, 4);
			*family = AF_INET;
		} else {
			memcpy(key, a->s6_addr, 16);
			*family = AF_INET6;
		}
		return true;
	}
	return false;
}

static struct limits_addr **addr_slot(struct limits *l, sa_family_t family, const uint8_t key[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	struct limits_addr **pp;

	for (size_t i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	pp = &l->hash[(h ^ family) % LIMITS_ADDR_HASH];
	while (*pp != NULL && ((*pp)->family != family || memcmp((*pp)->addr, key, 16) != 0))
		pp = &(*pp)->next;
	return pp;
}

/* One pending connection of this address less; the entry goes with the last. */
static void addr_put(struct limits *l, const struct sockaddr_storage *peer)
{
	struct limits_addr **pp, *a;
	sa_family_t family;
	uint8_t key[16];

	if (!addr_key(peer, &family, key))
		return;
	pp = addr_slot(l, family, key);
	a = *pp;
	if (a == NULL)
		return;
	if (--a->pending == 0) {
		*pp = a->next;
		free(a);
	}
}

int limits_conn_open(struct limits *l, const struct limits_cfg *cfg,
		     const struct sockaddr_storage *peer, const char *peer_str, const char *name,
		     int64_t now_ms)
{
	struct limits_addr **pp, *a = NULL;
	sa_family_t family;
	uint8_t key[16];
	const char *why = NULL;
	uint32_t limit = 0;
	uint64_t quiet = 0;
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	if (l->total >= cfg->max_conns) {
		why = "max_connections";
		limit = cfg->max_conns;
		ret = -EMFILE;
	} else if (addr_key(peer, &family, key)) {
		pp = addr_slot(l, family, key);
		a = *pp;
		if (a != NULL && a->pending >= cfg->max_per_host) {
			why = "max_connections_per_host (not yet connected)";
			limit = cfg->max_per_host;
			ret = -EUSERS;
		} else if (a == NULL) {
			/* out of memory: the connection goes uncounted for its address */
			a = calloc(1, sizeof(*a));
			if (a != NULL) {
				a->family = family;
				memcpy(a->addr, key, 16);
				*pp = a;
			}
		}
	}
	if (ret == 0) {
		l->total++;
		if (a != NULL)
			a->pending++;
	} else {
		l->quiet++;
		if (now_ms >= l->log_next_ms) {
			quiet = l->quiet;
			l->quiet = 0;
			l->log_next_ms = now_ms + LIMITS_LOG_MS;
		}
	}
	pthread_mutex_unlock(&l->lock);
	if (quiet > 0)
		log_warn("refusing connections on %s (this one from %s): %s %u reached; %llu "
			 "refused since the last message, logged again in %d s at most",
			 name, peer_str, why, limit, (unsigned long long)quiet,
			 LIMITS_LOG_MS / 1000);
	return ret;
}

void limits_conn_connected(struct limits *l, const struct sockaddr_storage *peer)
{
	pthread_mutex_lock(&l->lock);
	addr_put(l, peer);
	pthread_mutex_unlock(&l->lock);
}

void limits_conn_close(struct limits *l, const struct sockaddr_storage *peer, bool pending,
		       int64_t now_ms)
{
	uint64_t quiet = 0;

	pthread_mutex_lock(&l->lock);
	if (pending)
		addr_put(l, peer);
	if (l->total > 0)
		l->total--;
	/* the end of a burst: say how many went unreported */
	if (l->quiet > 0 && now_ms >= l->log_next_ms) {
		quiet = l->quiet;
		l->quiet = 0;
		l->log_next_ms = now_ms + LIMITS_LOG_MS;
	}
	pthread_mutex_unlock(&l->lock);
	if (quiet > 0)
		log_warn("%llu more connection(s) refused over the limits since the last message",
			 (unsigned long long)quiet);
}
