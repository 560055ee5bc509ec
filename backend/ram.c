/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RAM namespaces: an anonymous mapping. Operations complete inline.
 *
 * By default (prealloc = yes) the whole store is taken when the namespace
 * opens, in 2 MiB pages where transparent huge pages allow ("always" or
 * "madvise"), as SPDK's Malloc bdev takes its memory up front: no page is
 * faulted in on the I/O path (a cold 1 GiB store served 4 KiB random reads
 * at 100k IOPS against 340k warm, the kernel's send copy faulting every
 * page in), and a store larger than the machine fails at start with a
 * clear error instead of an out-of-memory kill in the middle of a run.
 * Deallocate then zeroes and keeps the memory.
 *
 * With prealloc = no the mapping is reserved, not committed: a namespace
 * costs only what the hosts write, and deallocation gives whole pages back
 * to the kernel. Huge pages are then asked for one 2 MiB chunk at a time,
 * when the chunk is first written, not for the whole store: in a MADV_HUGEPAGE
 * region a read of memory never written allocates and zeroes a whole 2 MiB
 * page (Linux 6.18 here: reads of a fresh 1 GiB store ran at 170-265 IOPS
 * with p99 over 600 ms, compaction included, and took 540 MB), where a
 * plain region maps the shared zero page and costs nothing.
 *
 * The store is an arena of 128 KiB chunks with a table and spare chunks
 * (ram_chunks.h): a write of one whole aligned chunk is received into a
 * spare and swapped in (be_ram_spare_get), any other write is copied into
 * the chunks it covers, and every access goes through the table with a
 * reference on the chunks it touches. Huge pages are tracked per 2 MiB of
 * the arena: the table starts as the identity, so a store never swapped
 * behaves as the single mapping it used to be.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "ram_chunks.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#define PAGE	 4096u
#define HP_CHUNK (2u << 20)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/*
 * A write's data into the store. The store is larger than the caches and a
 * write's blocks are seldom read back soon, so an ordinary copy first
 * reads every destination line into the cache only to overwrite it, and
 * evicts hot data (the receive buffers) to make room. Non-temporal stores
 * skip both: 2.2x the bandwidth of memcpy for 128 KiB, 1.35x for 4 KiB,
 * into a cold 1 GiB store on the benchmark machine. The store is page
 * aligned and offsets are whole blocks (>= 512 bytes), so destinations are
 * 16-byte aligned; the sfence orders the stores before the completion.
 */
static void ram_copy_in(uint8_t *dst, const uint8_t *src, size_t len)
{
#if defined(__x86_64__)
	if (len >= 512 && ((uintptr_t)dst & 15) == 0) {
		__m128i *d = (__m128i *)(void *)dst;
		size_t i, n = len / 64;

		for (i = 0; i < n; i++, src += 64, d += 4) {
			__m128i a = _mm_loadu_si128((const __m128i *)(const void *)src);
			__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(src + 16));
			__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(src + 32));
			__m128i e = _mm_loadu_si128((const __m128i *)(const void *)(src + 48));

			_mm_stream_si128(d, a);
			_mm_stream_si128(d + 1, b);
			_mm_stream_si128(d + 2, c);
			_mm_stream_si128(d + 3, e);
		}
		_mm_sfence();
		memcpy(d, src, len % 64);
		return;
	}
#endif
	memcpy(dst, src, len);
}

static inline struct ram_chunks *chunks_of(const struct be_ns *ns)
{
	return ns->priv;
}

/* The arena's bytes (physical offsets), for madvise. */
static inline size_t arena_len(const struct be_ns *ns)
{
	return chunks_of(ns)->map_len;
}

static void ram_close(struct be_ns *ns)
{
	if (ns->priv != NULL)
		ram_chunks_close(ns->priv); /* unmapped once the last reference goes */
	ns->priv = NULL;
	ns->ram = NULL;
	free(ns->ram_hp);
	ns->ram_hp = NULL;
}

/*
 * Commit the whole store now, huge pages first. MADV_POPULATE_WRITE faults
 * every page in as a write would (so the shared zero page is not mapped),
 * and fails with ENOMEM rather than overcommit; kernels before 5.14 get
 * each page touched instead.
 */
static int ram_populate(struct be_ns *ns, char *why, size_t whylen)
{
#ifdef MADV_HUGEPAGE
	if (madvise(ns->ram, arena_len(ns), MADV_HUGEPAGE) == 0)
		memset(ns->ram_hp, 0xff, (arena_len(ns) / HP_CHUNK + 64) / 64 * sizeof(uint64_t));
#endif
	if (madvise(ns->ram, arena_len(ns), MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL) {
		int e = errno;

		snprintf(why, whylen,
			 "cannot take %llu MiB of memory for the RAM store (%s); "
			 "a smaller size, or prealloc = no to take it as hosts write",
			 (unsigned long long)(ns->size >> 20), strerror(e));
		return -e;
	}
	for (uint64_t off = 0; off < arena_len(ns); off += PAGE)
		ns->ram[off] = 0;
	return 0;
}

static int ram_open(struct be_ns *ns, const struct be_params *p, char *why, size_t whylen)
{
	struct ram_chunks *rc;
	int ret;

	ns->kind = BE_RAM;
	ns->block_size = p->block_size ? p->block_size : 512;
	ns->size = p->ram_size - p->ram_size % ns->block_size;
	ns->read_only = p->read_only;
	if (ns->size == 0)
		return -EINVAL;
	rc = ram_chunks_new(ns->size, ram_chunks_spares_for(ns->size), !p->ram_prealloc);
	if (rc == NULL) {
		ret = -errno;
		snprintf(why, whylen, "cannot map %llu MiB for the RAM store: %s",
			 (unsigned long long)(ns->size >> 20), strerror(-ret));
		return ret;
	}
	ns->priv = rc;
	ns->ram = rc->base;
	ns->ram_hp = calloc((rc->map_len / HP_CHUNK + 64) / 64, sizeof(uint64_t));
	if (ns->ram_hp == NULL) {
		ram_close(ns);
		return -ENOMEM;
	}
	if (p->ram_prealloc) {
		ret = ram_populate(ns, why, whylen);
		if (ret) {
			ram_close(ns);
			return ret;
		}
		ns->ram_prealloc = true;
	}
	ns->can_punch = true;
	ns->dealloc = BE_DEALLOC_RAM;
	ns->lim.dealloc_zeroes = true;
	ns->lim.dealloc_gran = PAGE; /* smaller pieces are zeroed, not freed */
	return 0;
}

/*
 * Arena bytes [off, off + len) are about to be written: ask for huge pages
 * in each of its 2 MiB pieces not asked for yet. Random 4 KiB commands
 * over a store of gigabytes miss the TLB on nearly every access with 4 KiB
 * pages, in the kernel's copy into the socket and in the digest alike;
 * 2 MiB pages keep a GiB in the TLB: 4 KiB randread QD 32 +5%, randwrite
 * +9-15% (A/B, 256 MiB store). Any worker may write: the bit is set
 * atomically, and the one that sets it makes the one madvise() of that
 * piece. Without THP the call fails quietly and nothing changes.
 */
static void ram_want_huge(struct be_ns *ns, uint64_t off, uint64_t len)
{
#ifdef MADV_HUGEPAGE
	for (uint64_t c = off / HP_CHUNK; c <= (off + len - 1) / HP_CHUNK; c++) {
		uint64_t bit = 1ull << (c % 64);
		uint64_t *w = &ns->ram_hp[c / 64];
		uint64_t start = c * HP_CHUNK, n;

		if (__atomic_load_n(w, __ATOMIC_RELAXED) & bit)
			continue;
		if (__atomic_fetch_or(w, bit, __ATOMIC_RELAXED) & bit)
			continue;
		n = arena_len(ns) - start < HP_CHUNK ? arena_len(ns) - start : HP_CHUNK;
		(void)madvise(ns->ram + start, n, MADV_HUGEPAGE);
	}
#else
	(void)ns, (void)off, (void)len;
#endif
}

/*
 * Whole 2 MiB pieces of arena bytes [off, off + len) were given back:
 * until written again they read as zeroes without huge pages (see the top
 * of the file).
 */
static void ram_unwant_huge(struct be_ns *ns, uint64_t off, uint64_t len)
{
#ifdef MADV_NOHUGEPAGE
	for (uint64_t c = (off + HP_CHUNK - 1) / HP_CHUNK; (c + 1) * HP_CHUNK <= off + len; c++) {
		uint64_t bit = 1ull << (c % 64);

		if (__atomic_fetch_and(&ns->ram_hp[c / 64], ~bit, __ATOMIC_RELAXED) & bit)
			(void)madvise(ns->ram + c * HP_CHUNK, HP_CHUNK, MADV_NOHUGEPAGE);
	}
#else
	(void)ns, (void)off, (void)len;
#endif
}

/*
 * One piece of a store range: logical bytes [off, off + len) are arena
 * bytes at `at`, physically contiguous, each chunk of them referenced
 * (pc, n) until run_end().
 */
struct run {
	uint8_t *at;
	uint64_t len;
	uint32_t pc, n;
};

/* The longest physically contiguous piece of [off, off + left) from off. */
static void run_begin(struct ram_chunks *rc, uint64_t off, uint64_t left, struct run *r)
{
	uint32_t lc = (uint32_t)(off >> RAM_CHUNK_SHIFT);
	uint64_t in = off & (RAM_CHUNK - 1);
	uint32_t want = (uint32_t)((in + left + RAM_CHUNK - 1) >> RAM_CHUNK_SHIFT);
	uint64_t span;

	r->n = ram_chunks_ref_run(rc, lc, want, &r->pc);
	span = ((uint64_t)r->n << RAM_CHUNK_SHIFT) - in;
	r->len = span < left ? span : left;
	r->at = ram_chunks_addr(rc, r->pc) + in;
}

static void run_end(struct ram_chunks *rc, const struct run *r)
{
	ram_chunks_unref_run(rc, r->pc, r->n);
}

static void zero_piece(struct be_ns *ns, uint8_t *at, uint64_t len, bool release)
{
	uintptr_t s = (uintptr_t)at, a = (s + PAGE - 1) / PAGE * PAGE, b = (s + len) / PAGE * PAGE;

	if (!release || b <= a || ns->ram_prealloc) { /* a preallocated store keeps its memory */
		memset(at, 0, len);
		return;
	}
	/* partial pages by hand, whole pages back to the kernel (they read as zeroes) */
	memset(at, 0, a - s);
	if (madvise((void *)a, b - a, MADV_DONTNEED) != 0)
		memset((void *)a, 0, b - a);
	else
		ram_unwant_huge(ns, a - (uintptr_t)ns->ram, b - a);
	memset((void *)b, 0, s + len - b);
}

/*
 * What to do with one physically contiguous piece of a store range: the
 * piece's bytes, their length, and the caller's cursor (advanced by the
 * piece). false stops the walk.
 */
enum ram_walk_op { WALK_ZERO, WALK_ZERO_RELEASE, WALK_WRITE, WALK_READ, WALK_EQUAL };

static bool walk_piece(struct be_ns *ns, enum ram_walk_op op, uint8_t *at, uint64_t len,
		       uint8_t **cur)
{
	switch (op) {
	case WALK_ZERO:
	case WALK_ZERO_RELEASE:
		zero_piece(ns, at, len, op == WALK_ZERO_RELEASE);
		return true;
	case WALK_WRITE:
		ram_want_huge(ns, (uint64_t)(at - ns->ram), len);
		ram_copy_in(at, *cur, len);
		break;
	case WALK_READ:
		memcpy(*cur, at, len);
		break;
	case WALK_EQUAL:
		if (memcmp(at, *cur, len) != 0)
			return false;
		break;
	}
	*cur += len;
	return true;
}

/*
 * Reads (WALK_READ, WALK_EQUAL) of logical bytes [off, off + len) piece
 * by piece, each piece's chunks referenced while op runs on it (a chunk
 * swapped out meanwhile is not handed out as a spare under it).
 */
static bool ram_walk(struct be_ns *ns, enum ram_walk_op op, uint64_t off, uint64_t len,
		     const void *buf)
{
	struct ram_chunks *rc = chunks_of(ns);
	uint8_t *cur = (uint8_t *)(uintptr_t)buf;

	while (len > 0) {
		struct run r;
		bool go;

		run_begin(rc, off, len, &r);
		go = walk_piece(ns, op, r.at, r.len, &cur);
		run_end(rc, &r);
		if (!go)
			return false;
		off += r.len;
		len -= r.len;
	}
	return true;
}

/*
 * Changes (WALK_WRITE, WALK_ZERO, WALK_ZERO_RELEASE) of logical bytes
 * [off, off + len), one chunk at a time under ram_chunks_write_begin(), so
 * that no read sees a block half written (ram_chunks.h): *done bytes are
 * changed so far; -EBUSY: the chunk at off + *done cannot be changed now,
 * to be tried again from there. A whole-chunk write swapped in meanwhile
 * replaces what this did: as if it ran first, which two commands
 * outstanding at once allow (no order between them is defined; fused
 * commands aside).
 */
static int ram_change(struct be_ns *ns, enum ram_walk_op op, uint64_t off, uint32_t len,
		      const void *buf, uint32_t *done)
{
	struct ram_chunks *rc = chunks_of(ns);

	while (*done < len) {
		uint64_t at = off + *done;
		uint32_t in = (uint32_t)(at & (RAM_CHUNK - 1));
		uint32_t n = len - *done < RAM_CHUNK - in ? len - *done : RAM_CHUNK - in;
		uint8_t *cur = buf != NULL ? (uint8_t *)(uintptr_t)buf + *done : NULL;
		struct ram_chunk_write w;
		uint8_t *dst;

		if (ram_chunks_write_begin(rc, (uint32_t)(at >> RAM_CHUNK_SHIFT), &w) != 0)
			return -EBUSY;
		dst = ram_chunks_addr(rc, w.pc);
		if (w.copying) { /* readers have the old chunk: the rest of it comes along */
			const uint8_t *src = ram_chunks_addr(rc, w.from);

			ram_want_huge(ns, (uint64_t)(dst - ns->ram), RAM_CHUNK);
			memcpy(dst, src, in);
			memcpy(dst + in + n, src + in + n, RAM_CHUNK - in - n);
		}
		walk_piece(ns, op, dst + in, n, &cur);
		ram_chunks_write_end(rc, &w);
		*done += n;
	}
	return 0;
}

bool be_ram_equal(struct be_ns *ns, uint64_t off, const void *buf, uint64_t len)
{
	return ram_walk(ns, WALK_EQUAL, off, len, buf);
}

uint8_t *be_ram_map(struct be_ns *ns, uint64_t off, uint32_t len, struct be_ram_ref *ref)
{
	struct ram_chunks *rc = chunks_of(ns);
	struct run r;

	if (rc == NULL || len == 0)
		return NULL;
	run_begin(rc, off, len, &r);
	if (r.len < len) { /* not contiguous: copied instead */
		run_end(rc, &r);
		return NULL;
	}
	ref->rc = rc;
	ref->pc = r.pc;
	ref->n = r.n;
	return r.at;
}

uint8_t *be_ram_spare_get(struct be_ns *ns, uint64_t off, uint32_t len, struct be_ram_ref *ref)
{
	struct ram_chunks *rc = chunks_of(ns);
	uint8_t *p;

	if (rc == NULL || ns->read_only || len != RAM_CHUNK || (off & (RAM_CHUNK - 1)) != 0 ||
	    off + len > ns->size || ram_chunks_spare_get(rc, &ref->pc) != 0)
		return NULL;
	ref->rc = rc;
	ref->n = 1;
	p = ram_chunks_addr(rc, ref->pc);
	/* received into by the kernel's copy: huge pages there too (prealloc = no) */
	ram_want_huge(ns, (uint64_t)(p - ns->ram), RAM_CHUNK);
	return p;
}

void be_ram_unref(struct be_ram_ref *ref)
{
	if (ref->rc != NULL)
		ram_chunks_unref_run(ref->rc, ref->pc, ref->n);
	ref->rc = NULL;
}

bool be_ram_owns(const struct be_ns *ns, const struct be_ram_ref *ref)
{
	return ref->rc != NULL && ns->priv == ref->rc;
}

static int ram_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	switch (io->op) {
	case BE_OP_READ:
		if (!io->ram_in_place) /* a mapped read (be_ram_map) is already there */
			ram_walk(ns, WALK_READ, io->offset, io->len, io->buf);
		break;
	case BE_OP_WRITE:
		if (io->ram_swap != NULL && be_ram_owns(ns, io->ram_swap)) {
			/* received into a spare chunk: it becomes the store's, no copy */
			ram_chunks_swap(chunks_of(ns), (uint32_t)(io->offset >> RAM_CHUNK_SHIFT),
					io->ram_swap->pc);
			io->ram_swap->rc = NULL; /* the reference went with it */
		} else if (ram_change(ns, WALK_WRITE, io->offset, io->len, io->buf, &io->xfered)) {
			return -EBUSY; /* be_resubmit() goes on from io->xfered */
		}
		break;
	case BE_OP_FLUSH:
		break;
	case BE_OP_WRITE_ZEROES:
		/* DEAC: pages may go back */
		if (ram_change(ns, io->deac ? WALK_ZERO_RELEASE : WALK_ZERO, io->offset, io->len,
			       NULL, &io->xfered))
			return -EBUSY;
		break;
	case BE_OP_DEALLOCATE:
		if (ram_change(ns, WALK_ZERO_RELEASE, io->offset, io->len, NULL, &io->xfered))
			return -EBUSY;
		break;
	}
	io->done(io, io->op == BE_OP_READ || io->op == BE_OP_WRITE ? (int)io->len : 0);
	(void)ring;
	return 0;
}

const struct be_ops be_ram_ops = {
	.kind = BE_RAM,
	.name = "ram",
	.open = ram_open,
	.close = ram_close,
	.submit = ram_submit,
};
