/* SPDX-License-Identifier: BSD-2-Clause */
/* The RAM store's chunk table and spare pool (ram_chunks.h). */
#include "ram_chunks.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "cpu_relax.h"

/*
 * Waiting for a writer's copy (at most one chunk, on another worker):
 * spin a little, then yield, in case that worker was preempted.
 */
static void wait_a_little(unsigned int *n)
{
	if (++*n < 64)
		cpu_relax();
	else
		sched_yield();
}

/*
 * Spares: a sixteenth of the store, at most 64 MiB. 64 MiB is 512 chunks:
 * 128 KiB writes at queue depth 128 on four connections at once, or the
 * default queue depth on many more, while a 1 GiB store grows by 6%.
 * Stores smaller than 2 MiB get none (every write is copied, as before).
 * A write that finds the pool empty is copied into the store: slower,
 * never refused.
 */
uint32_t ram_chunks_spares_for(uint64_t size)
{
	uint64_t b = size / 16;

	if (b > (64ull << 20))
		b = 64ull << 20;
	return (uint32_t)(b >> RAM_CHUNK_SHIFT);
}

static void destroy(struct ram_chunks *rc)
{
	munmap(rc->base, rc->map_len);
	pthread_spin_destroy(&rc->lock);
	free(rc->map);
	free(rc->refs);
	free(rc->mapped);
	free(rc->busy);
	free(rc->spare);
	free(rc);
}

struct ram_chunks *ram_chunks_new(uint64_t size, uint32_t nspares, bool noreserve)
{
	uint64_t nlog = (size + RAM_CHUNK - 1) >> RAM_CHUNK_SHIFT;
	struct ram_chunks *rc;
	void *m;
	int e;

	if (size == 0 || nlog + nspares > UINT32_MAX - 1) {
		errno = EINVAL;
		return NULL;
	}
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		return NULL;
	rc->nlog = (uint32_t)nlog;
	rc->nphys = rc->nlog + nspares;
	rc->map_len = (size_t)rc->nphys << RAM_CHUNK_SHIFT;
	rc->map = calloc(rc->nlog, sizeof(*rc->map));
	rc->refs = calloc(rc->nphys, sizeof(*rc->refs));
	rc->mapped = calloc(rc->nphys, 1);
	rc->busy = calloc(rc->nlog, 1);
	rc->spare = calloc(nspares ? nspares : 1, sizeof(*rc->spare));
	if (rc->map == NULL || rc->refs == NULL || rc->mapped == NULL || rc->busy == NULL ||
	    rc->spare == NULL)
		goto nomem;
	m = mmap(NULL, rc->map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);
	if (m == MAP_FAILED)
		goto fail;
	rc->base = m;
	for (uint32_t i = 0; i < rc->nlog; i++) {
		rc->map[i] = i;
		rc->mapped[i] = 1;
	}
	/* the pool pops from the top: the lowest spare first */
	for (uint32_t i = 0; i < nspares; i++)
		rc->spare[i] = rc->nphys - 1 - i;
	rc->nspare = nspares;
	pthread_spin_init(&rc->lock, PTHREAD_PROCESS_PRIVATE);
	return rc;
nomem:
	errno = ENOMEM;
fail:
	e = errno;
	free(rc->map);
	free(rc->refs);
	free(rc->mapped);
	free(rc->busy);
	free(rc->spare);
	free(rc);
	errno = e;
	return NULL;
}

void ram_chunks_close(struct ram_chunks *rc)
{
	bool last;

	pthread_spin_lock(&rc->lock);
	rc->closed = true;
	last = rc->holds == 0;
	pthread_spin_unlock(&rc->lock);
	if (last)
		destroy(rc);
}

uint32_t ram_chunks_ref(struct ram_chunks *rc, uint32_t lc)
{
	uint32_t pc;

	ram_chunks_ref_run(rc, lc, 1, &pc);
	return pc;
}

uint32_t ram_chunks_ref_run(struct ram_chunks *rc, uint32_t lc, uint32_t n, uint32_t *pc)
{
	unsigned int waited = 0;
	uint32_t k;

	for (;;) {
		bool writing = false;

		pthread_spin_lock(&rc->lock);
		*pc = rc->map[lc];
		for (k = 0; k < n && rc->map[lc + k] == *pc + k; k++)
			writing |= rc->busy[lc + k] == RAM_CHUNK_WRITING;
		if (!writing)
			break;
		/* a copy in place: its bytes are whole once it ends (ram_chunks.h) */
		pthread_spin_unlock(&rc->lock);
		wait_a_little(&waited);
	}
	for (uint32_t i = 0; i < k; i++)
		rc->refs[*pc + i]++;
	rc->holds += k;
	pthread_spin_unlock(&rc->lock);
	return k;
}

/* Under the lock: one reference less on pc; true when the arena is to go. */
static bool unref_locked(struct ram_chunks *rc, uint32_t pc)
{
	if (--rc->refs[pc] == 0 && !rc->mapped[pc])
		rc->spare[rc->nspare++] = pc;
	return --rc->holds == 0 && rc->closed;
}

void ram_chunks_unref_run(struct ram_chunks *rc, uint32_t pc, uint32_t n)
{
	bool last = false;

	pthread_spin_lock(&rc->lock);
	for (uint32_t k = 0; k < n; k++)
		last = unref_locked(rc, pc + k);
	pthread_spin_unlock(&rc->lock);
	if (last)
		destroy(rc);
}

void ram_chunks_unref(struct ram_chunks *rc, uint32_t pc)
{
	ram_chunks_unref_run(rc, pc, 1);
}

int ram_chunks_spare_get(struct ram_chunks *rc, uint32_t *pc)
{
	int ret = -ENOBUFS;

	pthread_spin_lock(&rc->lock);
	if (rc->nspare > 0) {
		*pc = rc->spare[--rc->nspare];
		rc->refs[*pc] = 1;
		rc->holds++;
		ret = 0;
	} else {
		rc->no_spare++;
	}
	pthread_spin_unlock(&rc->lock);
	return ret;
}

/* Under the lock, lc idle: physical chunk pc becomes logical chunk lc. */
static void swap_locked(struct ram_chunks *rc, uint32_t lc, uint32_t pc)
{
	uint32_t old = rc->map[lc];

	rc->map[lc] = pc;
	rc->mapped[pc] = 1;
	rc->mapped[old] = 0;
	if (rc->refs[old] == 0)
		rc->spare[rc->nspare++] = old;
}

/* Lock the arena with logical chunk lc idle: no writer's copy under way. */
static void lock_idle(struct ram_chunks *rc, uint32_t lc)
{
	unsigned int waited = 0;

	for (;;) {
		pthread_spin_lock(&rc->lock);
		if (rc->busy[lc] == RAM_CHUNK_IDLE)
			return;
		pthread_spin_unlock(&rc->lock);
		wait_a_little(&waited);
	}
}

void ram_chunks_swap(struct ram_chunks *rc, uint32_t lc, uint32_t pc)
{
	/* after a copy under way: as if the copied write ran first */
	lock_idle(rc, lc);
	swap_locked(rc, lc, pc);
	rc->swaps++;
	/* the caller's reference; the arena is open (the caller's namespace has it) */
	rc->refs[pc]--;
	rc->holds--;
	pthread_spin_unlock(&rc->lock);
}

int ram_chunks_write_begin(struct ram_chunks *rc, uint32_t lc, struct ram_chunk_write *w)
{
	uint32_t pc;

	lock_idle(rc, lc); /* another writer's copy ends first */
	pc = rc->map[lc];
	w->lc = lc;
	w->from = pc;
	w->copying = rc->refs[pc] != 0;
	if (!w->copying) {
		w->pc = pc;
		rc->busy[lc] = RAM_CHUNK_WRITING;
	} else if (rc->nspare > 0) {
		w->pc = rc->spare[--rc->nspare];
		rc->busy[lc] = RAM_CHUNK_COPYING;
	} else {
		rc->cow_waits++;
		pthread_spin_unlock(&rc->lock);
		return -EBUSY;
	}
	/* the arena stays while the copy runs (a reload may close it meanwhile) */
	rc->refs[w->pc]++;
	rc->holds++;
	pthread_spin_unlock(&rc->lock);
	return 0;
}

void ram_chunks_write_end(struct ram_chunks *rc, const struct ram_chunk_write *w)
{
	bool last;

	pthread_spin_lock(&rc->lock);
	if (w->copying) {
		swap_locked(rc, w->lc, w->pc);
		rc->cows++;
	}
	rc->busy[w->lc] = RAM_CHUNK_IDLE;
	last = unref_locked(rc, w->pc);
	pthread_spin_unlock(&rc->lock);
	if (last)
		destroy(rc);
}

uint32_t ram_chunks_nspare(struct ram_chunks *rc)
{
	uint32_t n;

	pthread_spin_lock(&rc->lock);
	n = rc->nspare;
	pthread_spin_unlock(&rc->lock);
	return n;
}
