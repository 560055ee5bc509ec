/* SPDX-License-Identifier: BSD-2-Clause */
/* A worker's registered data buffers: see bufpool.h for the sizing rules. */
#include "bufpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "log.h"

static unsigned int class_of(uint32_t len)
{
	unsigned int cls = 0;

	while (((uint64_t)1 << (BUFPOOL_MIN_SHIFT + cls)) < len)
		cls++;
	return cls;
}

uint32_t bufpool_class_size(uint32_t len)
{
	return (uint32_t)1 << (BUFPOOL_MIN_SHIFT + class_of(len));
}

int bufpool_init(struct bufpool *bp, struct io_uring *ring, uint32_t max_len, size_t cap)
{
	int ret;

	memset(bp, 0, sizeof(*bp));
	bp->ring = ring;
	bp->max_len = bufpool_class_size(max_len ? max_len : 1);
	bp->cap = cap > bp->max_len ? cap : bp->max_len;
	bp->free_slots = calloc(BUFPOOL_SLOTS, sizeof(*bp->free_slots));
	if (bp->free_slots == NULL)
		return -ENOMEM;
	ret = io_uring_register_buffers_sparse(ring, BUFPOOL_SLOTS);
	if (ret < 0) {
		log_warn("no registered buffers (%s): the backend uses plain READ / WRITE",
			 strerror(-ret));
		return 0;
	}
	bp->registered = true;
	for (int i = BUFPOOL_SLOTS - 1; i >= 0; i--)
		bp->free_slots[bp->nfree_slots++] = i;
	return 0;
}

/* Install b in a free slot of the ring's table; index -1 if that fails. */
static void slot_install(struct bufpool *bp, struct buf *b)
{
	struct iovec iov = {.iov_base = b->p, .iov_len = b->size};
	int slot, ret;

	b->index = -1;
	if (!bp->registered || bp->nfree_slots == 0)
		return;
	slot = bp->free_slots[--bp->nfree_slots];
	ret = io_uring_register_buffers_update_tag(bp->ring, (unsigned)slot, &iov, NULL, 1);
	if (ret < 0) {
		bp->free_slots[bp->nfree_slots++] = slot;
		log_debug("registering a %u-byte buffer: %s", b->size, strerror(-ret));
		return;
	}
	b->index = slot;
}

static void slot_remove(struct bufpool *bp, struct buf *b)
{
	struct iovec iov = {.iov_base = NULL, .iov_len = 0};

	if (b->index < 0)
		return;
	/* An empty slot; the kernel unpins the pages. */
	(void)io_uring_register_buffers_update_tag(bp->ring, (unsigned)b->index, &iov, NULL, 1);
	bp->free_slots[bp->nfree_slots++] = b->index;
	b->index = -1;
}

static void buf_destroy(struct bufpool *bp, struct buf *b)
{
	slot_remove(bp, b);
	bp->bytes -= b->size;
	free(b->p);
	free(b);
}

/* Free cached buffers (largest classes first) until need more bytes fit. */
static void evict(struct bufpool *bp, size_t need)
{
	for (int cls = BUFPOOL_CLASSES - 1; cls >= 0 && bp->bytes + need > bp->cap; cls--) {
		while (bp->free[cls] != NULL && bp->bytes + need > bp->cap) {
			struct buf *b = bp->free[cls];

			bp->free[cls] = b->next;
			buf_destroy(bp, b);
		}
	}
}

static struct buf *buf_create(struct bufpool *bp, unsigned int cls, bool force)
{
	uint32_t size = (uint32_t)1 << (BUFPOOL_MIN_SHIFT + cls);
	struct buf *b;

	if (bp->bytes + size > bp->cap)
		evict(bp, size);
	if (bp->bytes + size > bp->cap && !force)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	if (posix_memalign((void **)&b->p, 4096, size) != 0) {
		free(b);
		return NULL;
	}
	b->size = size;
	b->cls = (uint8_t)cls;
	bp->bytes += size;
	slot_install(bp, b);
	return b;
}

struct buf *bufpool_get(struct bufpool *bp, uint32_t len, bool force)
{
	unsigned int cls;
	struct buf *b;

	if (len == 0 || len > bp->max_len)
		return NULL;
	cls = class_of(len);
	b = bp->free[cls];
	if (b != NULL)
		bp->free[cls] = b->next;
	else
		b = buf_create(bp, cls, force);
	if (b == NULL)
		return NULL;
	b->next = NULL;
	bp->in_use += b->size;
	return b;
}

void bufpool_put(struct bufpool *bp, struct buf *b)
{
	if (b == NULL)
		return;
	bp->in_use -= b->size;
	b->next = bp->free[b->cls];
	bp->free[b->cls] = b;
}

void bufpool_fini(struct bufpool *bp)
{
	for (int cls = 0; cls < BUFPOOL_CLASSES; cls++) {
		while (bp->free[cls] != NULL) {
			struct buf *b = bp->free[cls];

			bp->free[cls] = b->next;
			/* the ring goes away with its table: no update needed */
			b->index = -1;
			buf_destroy(bp, b);
		}
	}
	if (bp->in_use != 0)
		log_warn("buffer pool: %zu bytes still in use at exit", bp->in_use);
	free(bp->free_slots);
	bp->free_slots = NULL;
}
