/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reload epochs (epoch.h): main publishes new tables, moves t->epoch and
 * waits in workers_sync() until every worker has applied them at the top
 * of its loop (worker_epoch_apply()); commands are counted by the epoch
 * they began in, so main knows when what it replaced is no longer used.
 */
#include "epoch.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "accept.h"
#include "clock.h"
#include "conn.h"
#include "listener.h"
#include "log.h"

static void apply_files(struct worker *w)
{
	const int *files = w->t->files;

	for (int i = 0; i < TARGET_MAX_FILES; i++) {
		int fd = files[i], ret;

		if (fd == w->reg_files[i])
			continue;
		if (w->fixed_files) {
			ret = io_uring_register_files_update(&w->ring, (unsigned int)i, &fd, 1);
			if (ret < 0) {
				/* the slot's commands fall back to... nothing: say so loudly */
				log_err("worker %u: updating registered file slot %d: %s", w->id, i,
					strerror(-ret));
				continue;
			}
		}
		w->reg_files[i] = fd;
	}
}

static void apply_listeners(struct worker *w)
{
	const struct listener_set *set = atomic_load_explicit(&w->t->ls, memory_order_acquire);
	struct wlistener *wl, *next;

	for (size_t i = 0; set != NULL && i < set->n; i++) {
		bool have = false;

		for (wl = w->ls; wl != NULL && !have; wl = wl->next)
			have = wl->l == set->l[i];
		if (have || w->stopping)
			continue;
		if (wlistener_add(w, set->l[i]) != 0) {
			log_err("worker %u: out of memory: not accepting on %s", w->id,
				set->l[i]->name);
			continue;
		}
		accept_arm(w->ls);
	}
	for (wl = w->ls; wl != NULL; wl = next) {
		next = wl->next;
		if (wl->gone || !atomic_load(&wl->l->removed))
			continue;
		wl->gone = true;
		if (wl->armed)
			accept_cancel(wl);
		else
			wlistener_free(wl);
	}
}

/* Connections on removed listeners close; posted controller events go out. */
static void apply_conns(struct worker *w)
{
	struct conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		if (atomic_load(&c->l->removed)) {
			conn_close(c, CLOSE_NOW, "its listener was removed");
			continue;
		}
		if (c->qid == 0 && c->ctrl != NULL)
			ctrl_deliver_posted(c->ctrl);
	}
}

void worker_epoch_apply(struct worker *w)
{
	uint64_t e = atomic_load_explicit(&w->t->epoch, memory_order_acquire);
	uint64_t g;

	if (e == w->epoch)
		return;
	g = atomic_load_explicit(&w->t->files_gen, memory_order_acquire);
	if (g != w->files_gen) {
		apply_files(w);
		w->files_gen = g;
	}
	apply_listeners(w);
	apply_conns(w);
	w->epoch = e;
	atomic_store_explicit(&w->epoch_ack, e, memory_order_release);
}

static uint64_t g_drained; /* epochs below it have no command left (main only) */

static int64_t slot_cmds(unsigned int slot)
{
	unsigned int nw;
	struct worker *ws = workers_all(&nw);
	int64_t n = 0;

	for (unsigned int i = 0; i < nw; i++)
		n += atomic_load_explicit(&ws[i].live[slot], memory_order_acquire);
	return n;
}

uint64_t workers_drained_below(const struct target *t)
{
	uint64_t top = atomic_load(&t->epoch);
	unsigned int nw;
	struct worker *ws = workers_all(&nw);

	/* a worker that has not acknowledged an epoch may still begin commands in it */
	for (unsigned int i = 0; i < nw; i++) {
		uint64_t ack = atomic_load_explicit(&ws[i].epoch_ack, memory_order_acquire);

		if (ack < top)
			top = ack;
	}
	/* a slot holds one epoch not yet drained at most (workers_sync sees to it) */
	while (g_drained < top && slot_cmds((unsigned int)(g_drained % WORKER_EPOCH_SLOTS)) == 0)
		g_drained++;
	return g_drained;
}

bool workers_can_sync(const struct target *t, unsigned int n)
{
	uint64_t e = atomic_load(&t->epoch) + n;

	return e < WORKER_EPOCH_SLOTS || workers_drained_below(t) > e - WORKER_EPOCH_SLOTS;
}

/* Sleep 1 ms, unless the deadline has passed (false). */
static bool sleep_1ms_until(int64_t deadline)
{
	struct timespec ts = {.tv_nsec = 1000000};

	if (clock_mono_ms() >= deadline)
		return false;
	nanosleep(&ts, NULL);
	return true;
}

int workers_sync(struct target *t, int timeout_ms)
{
	uint64_t e = atomic_load(&t->epoch) + 1;
	int64_t deadline = clock_mono_ms() + timeout_ms;
	unsigned int nw;
	struct worker *ws = workers_all(&nw);

	while (!workers_can_sync(t, 1))
		if (!sleep_1ms_until(deadline))
			return -EBUSY;
	atomic_store_explicit(&t->epoch, e, memory_order_release);

	workers_msg(op_data(NULL, OP_NONE));
	for (unsigned int i = 0; i < nw; i++)
		while (atomic_load_explicit(&ws[i].epoch_ack, memory_order_acquire) != e)
			if (!sleep_1ms_until(deadline))
				return -ETIMEDOUT;
	return 0;
}
