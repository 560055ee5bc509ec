/* SPDX-License-Identifier: BSD-2-Clause */
/* The LBA range lock (range_lock.h). */
#include "range_lock.h"

#include <stdlib.h>
#include <string.h>

#define RL_EXCL	 (1u << 31)
#define RL_WANT	 (1u << 30)
#define RL_COUNT (RL_WANT - 1)

struct range_lock *range_lock_new(void)
{
	struct range_lock *rl = aligned_alloc(64, sizeof(*rl));

	if (rl != NULL)
		memset(rl, 0, sizeof(*rl));
	return rl;
}

void range_lock_free(struct range_lock *rl)
{
	free(rl);
}

/* The stripes of a byte range: regions r0..r1; n of them (all, when it wraps). */
static void span(uint64_t off, uint64_t len, uint64_t *r0, uint64_t *n)
{
	uint64_t last = off + (len ? len - 1 : 0);

	*r0 = off >> RANGE_LOCK_SHIFT;
	*n = (last >> RANGE_LOCK_SHIFT) - *r0 + 1;
	if (*n > RANGE_LOCK_STRIPES)
		*n = RANGE_LOCK_STRIPES;
}

static bool take(struct range_lock_stripe *s, bool excl)
{
	uint32_t v = atomic_load_explicit(&s->v, memory_order_relaxed);

	for (;;) {
		uint32_t nv;

		if (excl) {
			if (v & RL_EXCL)
				return false;
			if (v & RL_COUNT) {
				/* shared holders: they finish, newcomers wait for us */
				if (!(v & RL_WANT))
					atomic_fetch_or_explicit(&s->v, RL_WANT,
								 memory_order_relaxed);
				return false;
			}
			nv = RL_EXCL;
		} else {
			if (v & (RL_EXCL | RL_WANT))
				return false;
			nv = v + 1;
		}
		if (atomic_compare_exchange_weak_explicit(&s->v, &v, nv, memory_order_acquire,
							  memory_order_relaxed))
			return true;
	}
}

static void give(struct range_lock_stripe *s, bool excl)
{
	if (excl)
		atomic_fetch_and_explicit(&s->v, ~RL_EXCL, memory_order_release);
	else
		atomic_fetch_sub_explicit(&s->v, 1, memory_order_release);
}

bool range_lock_try(struct range_lock *rl, uint64_t off, uint64_t len, bool excl)
{
	uint64_t r0, n;

	span(off, len, &r0, &n);
	for (uint64_t i = 0; i < n; i++) {
		if (take(&rl->s[(r0 + i) % RANGE_LOCK_STRIPES], excl))
			continue;
		while (i-- > 0)
			give(&rl->s[(r0 + i) % RANGE_LOCK_STRIPES], excl);
		return false;
	}
	return true;
}

void range_unlock(struct range_lock *rl, uint64_t off, uint64_t len, bool excl)
{
	uint64_t r0, n;

	span(off, len, &r0, &n);
	for (uint64_t i = 0; i < n; i++)
		give(&rl->s[(r0 + i) % RANGE_LOCK_STRIPES], excl);
}

void range_lock_cancel(struct range_lock *rl, uint64_t off, uint64_t len)
{
	uint64_t r0, n;

	span(off, len, &r0, &n);
	for (uint64_t i = 0; i < n; i++)
		atomic_fetch_and_explicit(&rl->s[(r0 + i) % RANGE_LOCK_STRIPES].v, ~RL_WANT,
					  memory_order_relaxed);
}
