/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-address backoff after failed authentications (auth_backoff.h). */
#include "auth_backoff.h"

#include <stdio.h>
#include <string.h>

void auth_backoff_init(struct auth_backoff *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
}

void auth_backoff_fini(struct auth_backoff *b)
{
	pthread_mutex_destroy(&b->lock);
}

/* With b->lock held: addr's entry, or NULL. Forgotten entries are freed. */
static struct auth_backoff_entry *find(struct auth_backoff *b, const char *addr, int64_t now)
{
	for (size_t i = 0; i < AUTH_BACKOFF_SLOTS; i++) {
		struct auth_backoff_entry *e = &b->e[i];

		if (e->addr[0] == '\0' || strcmp(e->addr, addr) != 0)
			continue;
		if (now - e->last_ms >= AUTH_BACKOFF_FORGET_MS) {
			memset(e, 0, sizeof(*e));
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A free entry, else the one whose last failure is oldest. */
static struct auth_backoff_entry *take(struct auth_backoff *b)
{
	struct auth_backoff_entry *old = &b->e[0];

	for (size_t i = 0; i < AUTH_BACKOFF_SLOTS; i++) {
		if (b->e[i].addr[0] == '\0')
			return &b->e[i];
		if (b->e[i].last_ms < old->last_ms)
			old = &b->e[i];
	}
	return old;
}

uint32_t auth_backoff_fail(struct auth_backoff *b, const char *addr, int64_t now_ms)
{
	struct auth_backoff_entry *e;
	uint32_t win;

	pthread_mutex_lock(&b->lock);
	e = find(b, addr, now_ms);
	if (e == NULL) {
		e = take(b);
		memset(e, 0, sizeof(*e));
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
	}
	if (e->fails < 32)
		e->fails++;
	win = AUTH_BACKOFF_BASE_MS;
	for (uint32_t i = 1; i < e->fails && win < AUTH_BACKOFF_MAX_MS; i++)
		win *= 2;
	if (win > AUTH_BACKOFF_MAX_MS)
		win = AUTH_BACKOFF_MAX_MS;
	e->last_ms = now_ms;
	e->until_ms = now_ms + win;
	pthread_mutex_unlock(&b->lock);
	return win;
}

bool auth_backoff_blocked(struct auth_backoff *b, const char *addr, int64_t now_ms,
			  uint32_t *left_ms)
{
	struct auth_backoff_entry *e;
	bool blocked = false;

	pthread_mutex_lock(&b->lock);
	e = find(b, addr, now_ms);
	if (e != NULL && now_ms < e->until_ms) {
		blocked = true;
		if (left_ms)
			*left_ms = (uint32_t)(e->until_ms - now_ms);
	}
	pthread_mutex_unlock(&b->lock);
	return blocked;
}
