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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"

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

static void ram_close(struct be_ns *ns)
{
	if (ns->ram != NULL)
		munmap(ns->ram, ns->size);
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
	if (madvise(ns->ram, ns->size, MADV_HUGEPAGE) == 0)
		memset(ns->ram_hp, 0xff, (ns->size / HP_CHUNK + 64) / 64 * sizeof(uint64_t));
#endif
	if (madvise(ns->ram, ns->size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL) {
		int e = errno;

		snprintf(why, whylen,
			 "cannot take %llu MiB of memory for the RAM store (%s); "
			 "a smaller size, or prealloc = no to take it as hosts write",
			 (unsigned long long)(ns->size >> 20), strerror(e));
		return -e;
	}
	for (uint64_t off = 0; off < ns->size; off += PAGE)
		ns->ram[off] = 0;
	return 0;
}

static int ram_open(struct be_ns *ns, const struct be_params *p, char *why, size_t whylen)
{
	void *m;
	int ret;

	ns->kind = BE_RAM;
	ns->block_size = p->block_size ? p->block_size : 512;
	ns->size = p->ram_size - p->ram_size % ns->block_size;
	ns->read_only = p->read_only;
	if (ns->size == 0)
		return -EINVAL;
	m = mmap(NULL, ns->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | (p->ram_prealloc ? 0 : MAP_NORESERVE), -1, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		snprintf(why, whylen, "cannot map %llu MiB for the RAM store: %s",
			 (unsigned long long)(ns->size >> 20), strerror(-ret));
		return ret;
	}
	ns->ram_hp = calloc((ns->size / HP_CHUNK + 64) / 64, sizeof(uint64_t));
	if (ns->ram_hp == NULL) {
		munmap(m, ns->size);
		return -ENOMEM;
	}
	ns->ram = m;
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
 * [off, off + len) is about to be written: ask for huge pages in each of
 * its 2 MiB chunks not asked for yet. Random 4 KiB commands over a store
 * of gigabytes miss the TLB on nearly every access with 4 KiB pages, in
 * the kernel's copy into the socket and in the digest alike; 2 MiB pages
 * keep a GiB in the TLB: 4 KiB randread QD 32 +5%, randwrite +9-15% (A/B,
 * 256 MiB store). Any worker may write: the bit is set atomically, and the
 * one that sets it makes the one madvise() of that chunk. Without THP the
 * call fails quietly and nothing changes.
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
		n = ns->size - start < HP_CHUNK ? ns->size - start : HP_CHUNK;
		(void)madvise(ns->ram + start, n, MADV_HUGEPAGE);
	}
#else
	(void)ns, (void)off, (void)len;
#endif
}

/*
 * Whole 2 MiB chunks of [off, off + len) were given back: until written
 * again they read as zeroes without huge pages (see the top of the file).
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

static void ram_zero(struct be_ns *ns, uint64_t off, uint64_t len, bool release)
{
	uint64_t a = (off + PAGE - 1) / PAGE * PAGE, b = (off + len) / PAGE * PAGE;

	if (!release || b <= a || ns->ram_prealloc) { /* a preallocated store keeps its memory */
		memset(ns->ram + off, 0, len);
		return;
	}
	/* partial pages by hand, whole pages back to the kernel (they read as zeroes) */
	memset(ns->ram + off, 0, a - off);
	if (madvise(ns->ram + a, b - a, MADV_DONTNEED) != 0)
		memset(ns->ram + a, 0, b - a);
	else
		ram_unwant_huge(ns, a, b - a);
	memset(ns->ram + b, 0, off + len - b);
}

static int ram_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	uint8_t *at = ns->ram + io->offset;

	switch (io->op) {
	case BE_OP_READ:
		if (io->buf != at)
			memcpy(io->buf, at, io->len);
		break;
	case BE_OP_WRITE:
		if (io->buf != at) { /* a payload received in place needs no copy */
			ram_want_huge(ns, io->offset, io->len);
			ram_copy_in(at, io->buf, io->len);
		}
		break;
	case BE_OP_FLUSH:
		break;
	case BE_OP_WRITE_ZEROES:
		ram_zero(ns, io->offset, io->len, io->deac); /* DEAC: pages may go back */
		break;
	case BE_OP_DEALLOCATE:
		ram_zero(ns, io->offset, io->len, true);
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
