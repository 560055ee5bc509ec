/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An LBA range lock per namespace, shared by every worker: a fused Compare
 * and Write takes its blocks exclusively, so that between its compare and
 * its write no other command writes them (NVMe Base 2.0 3.4.2); Write,
 * Write Zeroes and Dataset Management take theirs shared (they do not
 * exclude each other). Reads take nothing: a read overlapping a fused
 * write sees each block before or after it, as with any write.
 *
 * The namespace's bytes are cut into 1 MiB regions, region r guarded by
 * stripe r % RANGE_LOCK_STRIPES (one cache line each): a stripe counts its
 * shared holders, or is held exclusively. The uncontended cost is one
 * compare-and-swap to take a stripe and one atomic subtraction to give it
 * back. Nothing ever blocks: range_lock_try() takes every stripe of the
 * range or none, and the caller parks the command and tries again later
 * (a worker never sleeps on a lock). A refused exclusive taker marks the
 * stripes it wants, so that new shared takers wait for it (no starvation
 * of Compare and Write under a stream of writes); range_lock_cancel()
 * withdraws that mark for a command given up.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define RANGE_LOCK_STRIPES 256
#define RANGE_LOCK_SHIFT   20 /* 1 MiB regions */

struct range_lock_stripe {
	_Atomic uint32_t v; /* shared count 29:0, WANT 30, EXCL 31 */
	char pad[60];
};

struct range_lock {
	struct range_lock_stripe s[RANGE_LOCK_STRIPES];
};

struct range_lock *range_lock_new(void);
void range_lock_free(struct range_lock *rl);

/* Take bytes [off, off + len) shared or exclusive: true, or false having taken nothing. */
bool range_lock_try(struct range_lock *rl, uint64_t off, uint64_t len, bool excl);
void range_unlock(struct range_lock *rl, uint64_t off, uint64_t len, bool excl);
/* An exclusive taker refused earlier gives up: its WANT marks go. */
void range_lock_cancel(struct range_lock *rl, uint64_t off, uint64_t len);
