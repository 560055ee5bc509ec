/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A worker's pool of data buffers, registered with its ring so the backend
 * can use READ_FIXED / WRITE_FIXED (be_io.buf_index).
 *
 * Sizing: buffers come in power-of-two classes from 4 KiB up to the
 * largest transfer (MDTS), allocated lazily on first use and kept for
 * reuse afterwards, so an idle worker costs nothing and a busy one settles
 * on what its connections really use. The total the pool holds (in use
 * plus cached) is capped (cap bytes); when a new buffer would exceed the
 * cap, cached buffers of other classes are freed first, and if that is not
 * enough bufpool_get() returns NULL and the caller waits for a buffer to
 * come back (the command waits, it does not fail). The connection code
 * adds a per-connection cap on top of this one.
 *
 * Registration: a sparse table of BUFPOOL_SLOTS fixed buffers is registered
 * at init; each new buffer is installed in a free slot
 * (IORING_REGISTER_BUFFERS_UPDATE) and removed when freed. When the kernel
 * refuses (no sparse tables, RLIMIT_MEMLOCK), buffers are plain memory
 * with index -1 and the backend uses READ / WRITE: slower, still correct.
 *
 * Thread: the owning worker only.
 */
#pragma once

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUFPOOL_MIN_SHIFT 12 /* 4 KiB: the smallest class */
#define BUFPOOL_CLASSES	  19 /* 4 KiB .. 1 GiB */
#define BUFPOOL_SLOTS	  1024

struct buf {
	uint8_t *p;
	uint32_t size; /* bytes: the class size */
	int index;     /* registered buffer index, or -1 */
	uint8_t cls;
	struct buf *next; /* free list */
};

struct bufpool {
	struct io_uring *ring;
	bool registered;  /* the sparse table is in place */
	uint32_t max_len; /* largest buffer handed out */
	size_t cap;	  /* bytes held at most */
	size_t bytes;	  /* bytes held: in use + cached */
	size_t in_use;	  /* bytes handed out */
	struct buf *free[BUFPOOL_CLASSES];
	int *free_slots; /* stack of unused registered slots */
	unsigned int nfree_slots;
};

/*
 * Set up a pool on ring (the calling worker's, already created). max_len:
 * the largest request (MDTS); cap: bytes held at most (raised to max_len if
 * smaller). Returns 0 or -ENOMEM; failing registration is not an error.
 */
int bufpool_init(struct bufpool *bp, struct io_uring *ring, uint32_t max_len, size_t cap);
void bufpool_fini(struct bufpool *bp);

/*
 * A buffer of at least len bytes (1 <= len <= max_len), page aligned, with
 * stale contents. NULL when the cap is reached (or malloc failed): wait for
 * a bufpool_put() and try again. force: ignore the cap (for data that must
 * be taken off the stream now; the caller bounds it).
 */
struct buf *bufpool_get(struct bufpool *bp, uint32_t len, bool force);

/* Give a buffer back. The kernel must no longer read or write it. */
void bufpool_put(struct bufpool *bp, struct buf *b);

/* The size a request of len bytes really takes (its class). */
uint32_t bufpool_class_size(uint32_t len);
