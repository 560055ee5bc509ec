/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reload epochs (epoch.c): how main's reload (reload.c) knows that every
 * worker sees what it published, and that nothing uses what it replaced.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "registry.h"
#include "worker.h"

/*
 * Main's side of a reload (registry.h): move t->epoch and wait until every
 * worker has reached the top of its loop since, where it applies what main
 * published (registered files, listeners, posted controller events,
 * connections to close) and from where it holds no table it loaded before.
 * Returns 0, or -ETIMEDOUT after timeout_ms (a worker is stuck).
 */
int workers_sync(struct target *t, int timeout_ms);
/*
 * n more workers_sync() can start without waiting: no command is left from
 * WORKER_EPOCH_SLOTS epochs before the last of them (their counters share
 * a slot). A reload checks before it changes anything.
 */
bool workers_can_sync(const struct target *t, unsigned int n);
/*
 * Every command begun in an epoch below the returned one has ended: what
 * was replaced before that epoch's workers_sync() is no longer in use.
 * workers_sync() refuses (-EBUSY) to start an epoch while one
 * WORKER_EPOCH_SLOTS older still has commands (a host stalling one for
 * that long): their counters share a slot.
 */
uint64_t workers_drained_below(const struct target *t);

/* At the top of a worker's loop: apply what main published since the last epoch. */
void worker_epoch_apply(struct worker *w);

/*
 * A command begins / ends (cmd.c): counted by the epoch it began in, for
 * workers_drained_below(). A command may end on another worker than it
 * began on (never in practice: queues move before their first command),
 * the sums stay right. A command that waits on the host without holding a
 * table (an AER held until an event, a write waiting for its H2CData)
 * stops counting: worker_cmd_unhold() sets its slot to WORKER_EP_NONE;
 * it begins again, in the epoch of then, when the host lets it go on.
 * Otherwise no reload could finish while a host keeps an AER outstanding,
 * as hosts do, or leaves an R2T unanswered.
 */
#define WORKER_EP_NONE 0xff

static inline uint8_t worker_cmd_begin(struct worker *w)
{
	uint8_t p = (uint8_t)(w->epoch % WORKER_EPOCH_SLOTS);

	atomic_store_explicit(&w->live[p],
			      atomic_load_explicit(&w->live[p], memory_order_relaxed) + 1,
			      memory_order_relaxed);
	return p;
}

static inline void worker_cmd_end(struct worker *w, uint8_t p)
{
	if (p == WORKER_EP_NONE)
		return;
	/* release: what the command did with a table happens before main frees it */
	atomic_store_explicit(&w->live[p],
			      atomic_load_explicit(&w->live[p], memory_order_relaxed) - 1,
			      memory_order_release);
}

/* The command holds no table while it waits on the host: *p no longer counts. */
static inline void worker_cmd_unhold(struct worker *w, uint8_t *p)
{
	worker_cmd_end(w, *p);
	*p = WORKER_EP_NONE;
}
