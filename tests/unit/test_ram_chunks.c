/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend/ram_chunks.c: the chunk table, references, the spare pool; and
 * the RAM store on top of it (whole-chunk writes swapped in, reads mapped
 * or copied across chunks, zeroing and Compare through the table); copied
 * writes around readers (copy on write, -EBUSY without a spare, readers
 * waiting for a copy in place).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ram_chunks.h"
#include "t_backend.h"

static void test_spares_for(void **state)
{
	(void)state;
	assert_int_equal(ram_chunks_spares_for(1u << 20), 0); /* 64 KiB: not one chunk */
	assert_int_equal(ram_chunks_spares_for(4u << 20), 2);
	assert_int_equal(ram_chunks_spares_for(1ull << 30), 512); /* 64 MiB */
	assert_int_equal(ram_chunks_spares_for(64ull << 30), 512);
}

static void test_identity_and_swap(void **state)
{
	struct ram_chunks *rc = ram_chunks_new(4 * RAM_CHUNK + 4096, 2, true);
	uint32_t pc, sp, n;

	(void)state;
	assert_non_null(rc);
	assert_int_equal(rc->nlog, 5); /* a partial last chunk counts */
	assert_int_equal(rc->nphys, 7);
	/* the identity: a store never swapped is contiguous */
	n = ram_chunks_ref_run(rc, 0, 5, &pc);
	assert_int_equal(n, 5);
	assert_int_equal(pc, 0);
	ram_chunks_unref_run(rc, pc, n);
	assert_int_equal(ram_chunks_nspare(rc), 2);

	assert_int_equal(ram_chunks_spare_get(rc, &sp), 0);
	assert_int_equal(sp, 5); /* the lowest spare first */
	memset(ram_chunks_addr(rc, sp), 0xab, RAM_CHUNK);
	ram_chunks_swap(rc, 2, sp);
	assert_int_equal(rc->swaps, 1);
	/* chunk 2's old memory is a spare now; the pool keeps its size */
	assert_int_equal(ram_chunks_nspare(rc), 2);
	pc = ram_chunks_ref(rc, 2);
	assert_int_equal(pc, 5);
	assert_int_equal(ram_chunks_addr(rc, pc)[100], 0xab);
	ram_chunks_unref(rc, pc);
	/* a run stops where the table is no longer contiguous */
	n = ram_chunks_ref_run(rc, 0, 5, &pc);
	assert_int_equal(n, 2);
	ram_chunks_unref_run(rc, pc, n);
	n = ram_chunks_ref_run(rc, 2, 3, &pc);
	assert_int_equal(n, 1);
	assert_int_equal(pc, 5);
	ram_chunks_unref_run(rc, pc, n);
	assert_int_equal(rc->holds, 0);
	ram_chunks_close(rc);
}

/* A chunk swapped out while referenced is not reused until it is released. */
static void test_reference_holds_old_chunk(void **state)
{
	struct ram_chunks *rc = ram_chunks_new(2 * RAM_CHUNK, 1, true);
	uint32_t old, sp, sp2;

	(void)state;
	assert_non_null(rc);
	memset(ram_chunks_addr(rc, 1), 0x11, RAM_CHUNK);
	old = ram_chunks_ref(rc, 1); /* a read sending from logical chunk 1 */
	assert_int_equal(old, 1);
	assert_int_equal(ram_chunks_spare_get(rc, &sp), 0);
	memset(ram_chunks_addr(rc, sp), 0x22, RAM_CHUNK);
	ram_chunks_swap(rc, 1, sp);
	/* the old chunk is out of the table but referenced: no spare */
	assert_int_equal(ram_chunks_nspare(rc), 0);
	assert_int_equal(ram_chunks_spare_get(rc, &sp2), -ENOBUFS);
	assert_int_equal(rc->no_spare, 1);
	assert_int_equal(ram_chunks_addr(rc, old)[0], 0x11); /* the read still sees its data */
	ram_chunks_unref(rc, old);
	assert_int_equal(ram_chunks_nspare(rc), 1);
	assert_int_equal(ram_chunks_spare_get(rc, &sp2), 0);
	assert_int_equal(sp2, old);
	ram_chunks_unref(rc, sp2); /* a write that failed: back to the pool */
	assert_int_equal(ram_chunks_nspare(rc), 1);
	ram_chunks_close(rc);
}

/* Pool exhaustion, then every spare comes back as writes fail. */
static void test_pool_exhaustion(void **state)
{
	struct ram_chunks *rc = ram_chunks_new(8 * RAM_CHUNK, 3, true);
	uint32_t sp[3], x;

	(void)state;
	assert_non_null(rc);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ram_chunks_spare_get(rc, &sp[i]), 0);
	assert_int_equal(ram_chunks_spare_get(rc, &x), -ENOBUFS);
	for (int i = 0; i < 3; i++)
		ram_chunks_unref(rc, sp[i]);
	assert_int_equal(ram_chunks_nspare(rc), 3);
	/* no spares at all: always refused */
	ram_chunks_close(rc);
	rc = ram_chunks_new(RAM_CHUNK, 0, true);
	assert_non_null(rc);
	assert_int_equal(ram_chunks_spare_get(rc, &x), -ENOBUFS);
	ram_chunks_close(rc);
}

/* The arena outlives its close while a chunk is referenced (ASan checks the access). */
static void test_close_with_references(void **state)
{
	struct ram_chunks *rc = ram_chunks_new(2 * RAM_CHUNK, 1, true);
	uint32_t pc, sp;

	(void)state;
	assert_non_null(rc);
	pc = ram_chunks_ref(rc, 0);
	assert_int_equal(ram_chunks_spare_get(rc, &sp), 0);
	ram_chunks_close(rc);
	ram_chunks_addr(rc, sp)[0] = 1; /* a write still receiving */
	assert_int_equal(ram_chunks_addr(rc, pc)[0], 0);
	ram_chunks_unref(rc, sp);
	ram_chunks_unref(rc, pc); /* the last: unmapped */
}

static void fill(uint8_t *p, uint32_t len, uint8_t tag)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(tag + i * 7);
}

/* A 4 MiB RAM store (2 spare chunks) and a ring to run its ios on. */
static struct ram_chunks *open_store(struct be_ns *ns, struct io_uring *ring)
{
	struct be_params p = {.path = "ram:4M", .ram_size = 4u << 20, .block_size = 4096};
	char err[256];

	assert_int_equal(io_uring_queue_init(8, ring, 0), 0);
	assert_int_equal(be_open(ns, &p, err, sizeof(err)), 0);
	return ns->priv;
}

/* The store: whole-chunk writes swapped in, everything else through the table. */
static void test_store(void **state)
{
	uint8_t *a = malloc(2 * RAM_CHUNK), *b = malloc(2 * RAM_CHUNK);
	struct be_ram_ref ref = {0}, rd = {0}, rd2 = {0};
	struct io_uring ring;
	struct ram_chunks *rc;
	struct be_io io;
	struct be_ns ns;
	uint8_t *sp, *m;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	rc = open_store(&ns, &ring);
	assert_int_equal(ram_chunks_nspare(rc), 2);

	/* not one whole aligned chunk: no spare */
	assert_null(be_ram_spare_get(&ns, 4096, RAM_CHUNK, &ref));
	assert_null(be_ram_spare_get(&ns, 0, 2 * RAM_CHUNK, &ref));
	assert_null(be_ram_spare_get(&ns, 0, 4096, &ref));

	/* logical chunk 1 written by copy, mapped by a read */
	fill(a, RAM_CHUNK, 1);
	io = mkio(BE_OP_WRITE, a, RAM_CHUNK, RAM_CHUNK);
	assert_int_equal(run_io(&ns, &ring, &io), (int)RAM_CHUNK);
	/* across chunks still contiguous in memory (never swapped): mapped too */
	m = be_ram_map(&ns, RAM_CHUNK - 4096, 8192, &rd2);
	assert_non_null(m);
	assert_memory_equal(m + 4096, a, 4096);
	assert_int_equal(rd2.n, 2);
	be_ram_unref(&rd2);
	m = be_ram_map(&ns, RAM_CHUNK + 8192, 8192, &rd);
	assert_non_null(m);
	assert_int_equal(rd.n, 1);
	assert_memory_equal(m, a + 8192, 8192);

	/* a whole-chunk write: received into a spare, swapped in */
	sp = be_ram_spare_get(&ns, RAM_CHUNK, RAM_CHUNK, &ref);
	assert_non_null(sp);
	fill(sp, RAM_CHUNK, 2);
	io = mkio(BE_OP_WRITE, sp, RAM_CHUNK, RAM_CHUNK);
	io.ram_swap = &ref;
	assert_int_equal(run_io(&ns, &ring, &io), (int)RAM_CHUNK);
	assert_null(ref.rc); /* the reference went with the chunk */
	assert_int_equal(rc->swaps, 1);
	/* the mapped read keeps the old bytes, and its chunk is not a spare */
	assert_memory_equal(m, a + 8192, 8192);
	assert_int_equal(ram_chunks_nspare(rc), 1);
	be_ram_unref(&rd);
	assert_int_equal(ram_chunks_nspare(rc), 2);
	be_ram_unref(&rd); /* idempotent */
	/* chunk 1 is elsewhere now: a read across its boundaries is not mapped */
	assert_null(be_ram_map(&ns, RAM_CHUNK - 4096, 8192, &rd2));
	assert_null(rd2.rc);
	assert_null(be_ram_map(&ns, 2 * RAM_CHUNK - 4096, 8192, &rd2));
	assert_int_equal(rc->holds, 0);

	/* a read across chunks 0-1-2 is copied piece by piece */
	fill(b, RAM_CHUNK, 2);
	io = mkio(BE_OP_READ, a, RAM_CHUNK - 4096, RAM_CHUNK + 8192);
	assert_int_equal(run_io(&ns, &ring, &io), (int)RAM_CHUNK + 8192);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(a[i], 0);
	assert_memory_equal(a + 4096, b, RAM_CHUNK);
	assert_true(be_ram_equal(&ns, RAM_CHUNK, b, RAM_CHUNK));
	b[RAM_CHUNK - 1] ^= 1;
	assert_false(be_ram_equal(&ns, RAM_CHUNK, b, RAM_CHUNK));
	b[RAM_CHUNK - 1] ^= 1;

	/* a copy write across the swapped chunk's boundaries lands in the table's chunks */
	fill(a, 2 * RAM_CHUNK, 3);
	io = mkio(BE_OP_WRITE, a, RAM_CHUNK / 2, RAM_CHUNK * 3 / 2 + 8192);
	assert_int_equal(run_io(&ns, &ring, &io), (int)(RAM_CHUNK * 3 / 2 + 8192));
	io = mkio(BE_OP_READ, b, RAM_CHUNK / 2, RAM_CHUNK * 3 / 2 + 8192);
	assert_int_equal(run_io(&ns, &ring, &io), (int)(RAM_CHUNK * 3 / 2 + 8192));
	assert_memory_equal(a, b, RAM_CHUNK * 3 / 2 + 8192);

	/* a spare given back unused (the data never arrived): the store is untouched */
	sp = be_ram_spare_get(&ns, 2 * RAM_CHUNK, RAM_CHUNK, &ref);
	assert_non_null(sp);
	memset(sp, 0xee, RAM_CHUNK);
	be_ram_unref(&ref);
	io = mkio(BE_OP_READ, b, 2 * RAM_CHUNK, 4096);
	assert_int_equal(run_io(&ns, &ring, &io), 4096);
	assert_memory_equal(b, a + RAM_CHUNK * 3 / 2, 4096);
	assert_int_equal(ram_chunks_nspare(rc), 2);

	/* zeroes and deallocation across swapped and unswapped chunks */
	io = mkio(BE_OP_DEALLOCATE, NULL, 4096, 2 * RAM_CHUNK);
	assert_int_equal(run_io(&ns, &ring, &io), 0);
	io = mkio(BE_OP_READ, b, 0, 2 * RAM_CHUNK);
	assert_int_equal(run_io(&ns, &ring, &io), (int)(2 * RAM_CHUNK));
	for (uint32_t i = 0; i < 2 * RAM_CHUNK; i++)
		assert_int_equal(b[i], 0);
	io = mkio(BE_OP_READ, b, 2 * RAM_CHUNK + 4096, 4096);
	assert_int_equal(run_io(&ns, &ring, &io), 4096);
	assert_memory_equal(b, a + RAM_CHUNK * 3 / 2 + 4096, 4096);

	/* a spare held across the close (a reload): the arena waits for it */
	sp = be_ram_spare_get(&ns, 0, RAM_CHUNK, &ref);
	assert_non_null(sp);
	be_close(&ns);
	memset(sp, 1, RAM_CHUNK);
	be_ram_unref(&ref);
	io_uring_queue_exit(&ring);
	free(a);
	free(b);
}

static void count_done(struct be_io *io, int res)
{
	int *calls = (int *)(uintptr_t)io->user_data;

	assert_int_equal(res, (int)io->len);
	(*calls)++;
}

/*
 * A copied write into a chunk a read is sent from: the chunk is copied,
 * the read keeps its bytes whole; without a spare the write is refused
 * for now (-EBUSY) and goes on where it stopped once the read is done.
 */
static void test_write_around_readers(void **state)
{
	uint8_t *a = malloc(2 * RAM_CHUNK), *b = malloc(2 * RAM_CHUNK), *m;
	struct be_ram_ref rd = {0}, s1 = {0}, s2 = {0};
	struct io_uring ring;
	struct ram_chunks *rc;
	struct be_io io;
	struct be_ns ns;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	rc = open_store(&ns, &ring);

	/* nobody reads chunk 0: written in place */
	fill(a, 2 * RAM_CHUNK, 1);
	io = mkio(BE_OP_WRITE, a, 0, 2 * RAM_CHUNK);
	assert_int_equal(run_io(&ns, &ring, &io), (int)(2 * RAM_CHUNK));
	assert_int_equal(rc->cows, 0);
	assert_int_equal(ram_chunks_ref(rc, 0), 0); /* still the identity */
	ram_chunks_unref(rc, 0);

	/* a read sent from chunk 0; a 4 KiB write into it copies the chunk */
	m = be_ram_map(&ns, 8192, 8192, &rd);
	assert_non_null(m);
	fill(b, 4096, 9);
	io = mkio(BE_OP_WRITE, b, 12288, 4096);
	assert_int_equal(run_io(&ns, &ring, &io), 4096);
	assert_int_equal(rc->cows, 1);
	assert_memory_equal(m, a + 8192, 8192);	    /* the read's bytes, whole and old */
	assert_int_equal(ram_chunks_nspare(rc), 1); /* the old chunk: the read's */
	be_ram_unref(&rd);
	assert_int_equal(ram_chunks_nspare(rc), 2);
	/* the new chunk 0: the write, and the rest of the old one */
	io = mkio(BE_OP_READ, a + RAM_CHUNK, 0, RAM_CHUNK);
	assert_int_equal(run_io(&ns, &ring, &io), (int)RAM_CHUNK);
	memcpy(a + 12288, b, 4096);
	assert_memory_equal(a + RAM_CHUNK, a, RAM_CHUNK);

	/* no spare free (two whole-chunk writes receiving), a read sent from chunk 1 */
	assert_non_null(be_ram_spare_get(&ns, 2 * RAM_CHUNK, RAM_CHUNK, &s1));
	assert_non_null(be_ram_spare_get(&ns, 3 * RAM_CHUNK, RAM_CHUNK, &s2));
	m = be_ram_map(&ns, RAM_CHUNK, 4096, &rd);
	assert_non_null(m);
	memcpy(b, m, 4096);
	/* a write over chunks 0 and 1: chunk 0 done, chunk 1 refused for now */
	fill(a, 2 * RAM_CHUNK, 5);
	io = mkio(BE_OP_WRITE, a, RAM_CHUNK - 4096, 8192);
	io.done = NULL; /* not to be called */
	assert_int_equal(be_submit(&ns, &ring, &io), -EBUSY);
	assert_int_equal(io.xfered, 4096);
	assert_int_equal(rc->cow_waits, 1);
	assert_memory_equal(m, b, 4096);
	assert_int_equal(be_resubmit(&ns, &ring, &io), -EBUSY); /* still read */
	assert_int_equal(io.xfered, 4096);
	/* Write Zeroes and Deallocate wait alike */
	io = mkio(BE_OP_WRITE_ZEROES, NULL, RAM_CHUNK, 4096);
	assert_int_equal(be_submit(&ns, &ring, &io), -EBUSY);
	io = mkio(BE_OP_DEALLOCATE, NULL, RAM_CHUNK + 4096, 4096);
	assert_int_equal(be_submit(&ns, &ring, &io), -EBUSY);
	/* the read is done: the write goes on from where it stopped, in place */
	be_ram_unref(&rd);
	io = mkio(BE_OP_WRITE, a, RAM_CHUNK - 4096, 8192);
	io.xfered = 4096;
	{
		int calls = 0;

		io.user_data = (uint64_t)(uintptr_t)&calls;
		io.done = count_done;
		assert_int_equal(be_resubmit(&ns, &ring, &io), 0);
		assert_int_equal(calls, 1);
	}
	io = mkio(BE_OP_READ, b, RAM_CHUNK - 4096, 8192);
	assert_int_equal(run_io(&ns, &ring, &io), 8192);
	assert_memory_equal(b, a, 8192);
	assert_int_equal(rc->cows, 1);
	be_ram_unref(&s1);
	be_ram_unref(&s2);
	assert_int_equal(rc->holds, 0);
	be_close(&ns);
	io_uring_queue_exit(&ring);
	free(a);
	free(b);
}

struct late_reader {
	struct ram_chunks *rc;
	_Atomic int got;
};

static void *late_read(void *arg)
{
	struct late_reader *r = arg;

	ram_chunks_unref(r->rc, ram_chunks_ref(r->rc, 3));
	r->got = 1;
	return NULL;
}

/* A reader arriving while a write copies in place waits for the copy to end. */
static void test_reader_waits_for_copy(void **state)
{
	struct ram_chunks *rc = ram_chunks_new(4 * RAM_CHUNK, 1, true);
	struct late_reader r = {.rc = rc};
	struct ram_chunk_write w;
	pthread_t t;

	(void)state;
	assert_non_null(rc);
	assert_int_equal(ram_chunks_write_begin(rc, 3, &w), 0);
	assert_false(w.copying);
	assert_int_equal(w.pc, 3);
	assert_int_equal(pthread_create(&t, NULL, late_read, &r), 0);
	usleep(50 * 1000);
	assert_int_equal(r.got, 0);
	ram_chunks_write_end(rc, &w);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.got, 1);
	/* a reader elsewhere never waits */
	ram_chunks_unref(rc, ram_chunks_ref(rc, 2));
	assert_int_equal(rc->holds, 0);
	ram_chunks_close(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spares_for),
		cmocka_unit_test(test_identity_and_swap),
		cmocka_unit_test(test_reference_holds_old_chunk),
		cmocka_unit_test(test_pool_exhaustion),
		cmocka_unit_test(test_close_with_references),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_write_around_readers),
		cmocka_unit_test(test_reader_waits_for_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
