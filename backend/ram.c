/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RAM namespaces: an anonymous mapping that is reserved, not committed, so
 * a 1 GiB namespace costs only what the host writes (in 2 MiB pieces where
 * transparent huge pages are on, "always" or "madvise"). Operations
 * complete inline; deallocation gives whole pages back to the kernel.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#define PAGE 4096u

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

static int ram_open(struct be_ns *ns, const struct be_params *p, char *why, size_t whylen)
{
	void *m;

	(void)why;
	(void)whylen;
	ns->kind = BE_RAM;
	ns->block_size = p->block_size ? p->block_size : 512;
	ns->size = p->ram_size - p->ram_size % ns->block_size;
	ns->read_only = p->read_only;
	if (ns->size == 0)
		return -EINVAL;
	m = mmap(NULL, ns->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
#ifdef MADV_HUGEPAGE
	/*
	 * Random 4 KiB commands over a store of gigabytes miss the TLB on
	 * nearly every access with 4 KiB pages, in the kernel's copy into the
	 * socket and in the digest alike; 2 MiB pages keep a GiB in the TLB.
	 * 4 KiB randread QD 32 +5%, randwrite +9-15% (A/B, 256 MiB store).
	 * Without THP this fails quietly and nothing changes.
	 */
	(void)madvise(m, ns->size, MADV_HUGEPAGE);
#endif
	ns->ram = m;
	ns->can_punch = true;
	return 0;
}

static void ram_close(struct be_ns *ns)
{
	if (ns->ram != NULL)
		munmap(ns->ram, ns->size);
	ns->ram = NULL;
}

static void ram_zero(struct be_ns *ns, uint64_t off, uint64_t len, bool release)
{
	uint64_t a = (off + PAGE - 1) / PAGE * PAGE, b = (off + len) / PAGE * PAGE;

	if (!release || b <= a) {
		memset(ns->ram + off, 0, len);
		return;
	}
	/* partial pages by hand, whole pages back to the kernel (they read as zeroes) */
	memset(ns->ram + off, 0, a - off);
	if (madvise(ns->ram + a, b - a, MADV_DONTNEED) != 0)
		memset(ns->ram + a, 0, b - a);
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
		if (io->buf != at) /* a payload received in place needs no copy */
			ram_copy_in(at, io->buf, io->len);
		break;
	case BE_OP_FLUSH:
		break;
	case BE_OP_WRITE_ZEROES:
		ram_zero(ns, io->offset, io->len, false);
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
