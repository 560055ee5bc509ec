/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The RAM store as swappable chunks: one mapping (the arena) of physical
 * chunks of RAM_CHUNK bytes, a table logical chunk -> physical chunk, and
 * a pool of spare physical chunks.
 *
 * Why: a write of one whole aligned chunk is received into a spare chunk
 * and swapped into the table when it executes, so its data is never
 * copied into the store (the copy was 22% of a worker's CPU at 128 KiB
 * writes). A write whose data never fully arrives gives its chunk back:
 * the store is untouched, as with a pool buffer.
 *
 * References: whoever uses a physical chunk's bytes outside the lock (a
 * read sending from it, a write copying into it, a spare being received
 * into) holds a reference. A chunk goes back to the pool once it is out
 * of the table and unreferenced, so a read never sees another logical
 * chunk's data through a chunk reused under it. The arena lives until it
 * is closed and the last reference is dropped (a command may outlive its
 * namespace across a reload).
 *
 * Writers and readers of one chunk (the store's promise, cmd_io.c: a read
 * overlapping a write sees each block before or after it, never a mix; an
 * overlapping write of one block is atomic: AWUN 0, NVM Command Set 1.0 2.1.4.1):
 * a write, or a zeroing, that is copied into the store marks its logical
 * chunk busy while it copies (ram_chunks_write_begin/_end). Nobody holds
 * the chunk's bytes: it copies in place, and readers arriving meanwhile
 * wait for the copy (a memcpy of at most one chunk; a reader holds
 * nothing while it waits). Readers hold it (a read being sent from it may
 * be in the kernel's hands for a while): it copies into a spare chunk
 * what it keeps of the old one plus its own bytes, and swaps that in, so
 * the readers go on with the old bytes unchanged. No spare free: -EBUSY,
 * and the command tries again later (readers and receives give chunks
 * back by themselves; waiting on them here could wait on this very
 * worker). Two writers of one chunk, and a swap, take turns.
 *
 * Locking: one spinlock per arena around lookups + references and swaps +
 * releases: a few instructions each, never held across a copy.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAM_CHUNK_SHIFT 17
#define RAM_CHUNK	(1u << RAM_CHUNK_SHIFT) /* 128 KiB: one MDTS-sized write */

/* Spare chunks for a store of size bytes: see ram_chunks.c. */
uint32_t ram_chunks_spares_for(uint64_t size);

struct ram_chunks {
	pthread_spinlock_t lock;
	uint8_t *base;	 /* the arena: nphys chunks */
	size_t map_len;	 /* nphys * RAM_CHUNK */
	uint32_t nlog;	 /* logical chunks: the store's size, rounded up */
	uint32_t nphys;	 /* nlog + spares */
	uint32_t *map;	 /* logical -> physical */
	uint32_t *refs;	 /* physical: references besides the table's */
	uint8_t *mapped; /* physical: 1 while a logical chunk maps to it */
	uint8_t *busy;	 /* logical: RAM_CHUNK_WRITING / _COPYING while a writer has it */
	uint32_t *spare; /* stack of free physical chunks */
	uint32_t nspare;
	uint64_t holds; /* sum of refs: the arena stays while > 0 */
	bool closed;
	/*
	 * counters (under the lock): whole-chunk writes swapped in, refused for
	 * want of a spare; copied writes that copied around readers, that
	 * waited for want of a spare
	 */
	uint64_t swaps, no_spare, cows, cow_waits;
};

enum { RAM_CHUNK_IDLE, RAM_CHUNK_WRITING, RAM_CHUNK_COPYING };

/* A copied write's (or zeroing's) hold on one logical chunk. */
struct ram_chunk_write {
	uint32_t lc;   /* the logical chunk */
	uint32_t pc;   /* the physical chunk to write into */
	uint32_t from; /* copying: the chunk readers hold, to keep what is not written */
	bool copying;
};

/*
 * A store of size bytes with nspares spare chunks, mapped reserved
 * (noreserve) or committed later by the caller. NULL and errno on failure.
 * The table starts as the identity: logical chunk i is physical chunk i,
 * so an arena never swapped lays the store out contiguously from base.
 */
struct ram_chunks *ram_chunks_new(uint64_t size, uint32_t nspares, bool noreserve);
/* The namespace closes: the arena goes once the last reference is dropped. */
void ram_chunks_close(struct ram_chunks *rc);

static inline uint8_t *ram_chunks_addr(const struct ram_chunks *rc, uint32_t pc)
{
	return rc->base + ((size_t)pc << RAM_CHUNK_SHIFT);
}

/* The physical chunk logical chunk lc maps to now, with a reference on it. */
uint32_t ram_chunks_ref(struct ram_chunks *rc, uint32_t lc);
/* Logical chunks [lc, lc + n) physically contiguous from *pc: refs on each, or 0 (n < 1) */
uint32_t ram_chunks_ref_run(struct ram_chunks *rc, uint32_t lc, uint32_t n, uint32_t *pc);
/* Drop a reference; the chunk goes back to the pool if nothing else has it. */
void ram_chunks_unref(struct ram_chunks *rc, uint32_t pc);
void ram_chunks_unref_run(struct ram_chunks *rc, uint32_t pc, uint32_t n);
/* A spare chunk (with a reference) to receive a whole-chunk write: 0 or -ENOBUFS. */
int ram_chunks_spare_get(struct ram_chunks *rc, uint32_t *pc);
/*
 * The spare pc (referenced by the caller) becomes logical chunk lc; the
 * caller's reference is consumed and the old chunk returns to the pool
 * once unreferenced.
 */
void ram_chunks_swap(struct ram_chunks *rc, uint32_t lc, uint32_t pc);
/*
 * Begin changing logical chunk lc (see the top): 0 and *w, the chunk to
 * write into (with copying set, bytes not written are to be copied from
 * w->from first), or -EBUSY: readers hold the chunk and no spare is free.
 */
int ram_chunks_write_begin(struct ram_chunks *rc, uint32_t lc, struct ram_chunk_write *w);
/* The change is made: a copy is swapped in, readers may come again. */
void ram_chunks_write_end(struct ram_chunks *rc, const struct ram_chunk_write *w);
/* Spare chunks in the pool now (tests, statistics). */
uint32_t ram_chunks_nspare(struct ram_chunks *rc);
