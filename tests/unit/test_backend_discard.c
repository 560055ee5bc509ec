/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend/: Deallocate and Write Zeroes on a sparse file and on a loop
 * device over one (NVM Command Set 1.0 3.2.3 Dataset Management, 3.2.8
 * Write Zeroes), through a real ring. What is proven: a deallocation frees
 * the backing file's blocks (st_blocks) and writes nothing (the loop
 * device's write sectors in /sys/block/loopN/stat do not move, its discard
 * sectors do); Write Zeroes with DEAC frees them too, without DEAC keeps
 * them, and reads back zeroes either way; with FUA an fdatasync follows
 * (a second CQE). The loop device needs root and /dev/loop-control: its
 * test is skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"

#define MIB	 (1u << 20)
#define STORE	 (8u * MIB)
#define DATA_OFF (1u * MIB) /* 2 MiB of data from here */

struct result {
	int calls;
	int res;
	int cqes; /* how many SQEs the io took */
};

static void on_done(struct be_io *io, int res)
{
	struct result *r = (struct result *)(uintptr_t)io->user_data;

	r->calls++;
	r->res = res;
}

/* Submit io and run the ring until it is done; its result, and its CQEs in *cqes. */
static int run_io(struct be_ns *ns, struct io_uring *ring, struct be_io *io, int *cqes)
{
	struct result r = {0};
	int ret;

	io->user_data = (uint64_t)(uintptr_t)&r;
	io->done = on_done;
	ret = be_submit(ns, ring, io);
	if (ret)
		return ret;
	while (r.calls == 0) {
		struct io_uring_cqe *cqe;

		assert_true(io_uring_submit_and_wait(ring, 1) >= 0);
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			int res = cqe->res;

			io_uring_cqe_seen(ring, cqe);
			r.cqes++;
			be_io_complete(io, res);
		}
	}
	assert_int_equal(r.calls, 1);
	if (cqes != NULL)
		*cqes = r.cqes;
	return r.res;
}

static struct be_io mkio(enum be_op op, void *buf, uint64_t off, uint32_t len)
{
	struct be_io io = {
		.op = op, .buf = buf, .buf_index = -1, .file_index = -1, .offset = off, .len = len};
	return io;
}

/* The file's allocated bytes (st_blocks is in 512-byte units). */
static uint64_t allocated(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static char *sparse_file(void)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/var/tmp/nvmfd-discard-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, STORE), 0);
	close(fd);
	return path;
}

struct fixture {
	struct io_uring ring;
	uint8_t *w, *r;
};

static void fixture_init(struct fixture *f)
{
	assert_int_equal(io_uring_queue_init(16, &f->ring, 0), 0);
	assert_int_equal(posix_memalign((void **)&f->w, 4096, 2 * MIB), 0);
	assert_int_equal(posix_memalign((void **)&f->r, 4096, 2 * MIB), 0);
	for (size_t i = 0; i < 2 * MIB; i++)
		f->w[i] = (uint8_t)(i * 7 + 1);
}

static void fixture_fini(struct fixture *f)
{
	io_uring_queue_exit(&f->ring);
	free(f->w);
	free(f->r);
}

/* 2 MiB of data at DATA_OFF, flushed. */
static void fill(struct be_ns *ns, struct fixture *f)
{
	struct be_io io = mkio(BE_OP_WRITE, f->w, DATA_OFF, 2 * MIB);

	assert_int_equal(run_io(ns, &f->ring, &io, NULL), (int)(2 * MIB));
	io = mkio(BE_OP_FLUSH, NULL, 0, 0);
	assert_int_equal(run_io(ns, &f->ring, &io, NULL), 0);
}

/* The 2 MiB at DATA_OFF read back as f->w, where zero_op() zeroed what it zeroed. */
static void check_data(struct be_ns *ns, struct fixture *f)
{
	struct be_io io = mkio(BE_OP_READ, f->r, DATA_OFF, 2 * MIB);

	assert_int_equal(run_io(ns, &f->ring, &io, NULL), (int)(2 * MIB));
	for (uint64_t i = 0; i < 2 * MIB; i++)
		if (f->r[i] != f->w[i])
			fail_msg("byte %llu: %u, want %u", (unsigned long long)(DATA_OFF + i),
				 f->r[i], f->w[i]);
}

/*
 * One zeroing op on [off, off + len); its result, and the CQEs it took.
 * On success the expected data (f->w) has zeroes there, unless keep (an
 * advisory deallocation that did nothing).
 */
static int zero_op(struct be_ns *ns, struct fixture *f, enum be_op op, uint64_t off, uint32_t len,
		   bool deac, bool fua, int *cqes)
{
	struct be_io io = mkio(op, NULL, off, len);
	bool keep = op == BE_OP_DEALLOCATE && !ns->lim.dealloc_zeroes;
	int ret;

	io.deac = deac;
	io.fua = fua;
	ret = run_io(ns, &f->ring, &io, cqes);
	if (ret == 0 && !keep && off < DATA_OFF + 2 * MIB && off + len > DATA_OFF) {
		uint64_t a = off > DATA_OFF ? off : DATA_OFF;
		uint64_t b = off + len < DATA_OFF + 2 * MIB ? off + len : DATA_OFF + 2 * MIB;

		memset(f->w + (a - DATA_OFF), 0, b - a);
	}
	return ret;
}

/*
 * A sparse file: Deallocate punches a hole (the file loses the range's
 * blocks), Write Zeroes with DEAC too, Write Zeroes without DEAC keeps
 * them (ZERO_RANGE); all read back as zeroes. FUA adds an fdatasync.
 */
static void test_sparse_file(void **state)
{
	char *path = sparse_file();
	struct be_params p = {.path = path, .block_size = 512};
	struct fixture f;
	struct be_ns ns;
	uint64_t before, after;
	char err[256];
	int cqes;

	(void)state;
	fixture_init(&f);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, BE_FILE);
	assert_int_equal(ns.dealloc, BE_DEALLOC_PUNCH);
	assert_true(ns.lim.dealloc_zeroes);
	assert_true(ns.lim.dealloc_gran >= 512);
	fill(&ns, &f);
	before = allocated(path);
	assert_true(before >= 2 * MIB);

	/* Deallocate 512 KiB: 512 KiB fewer allocated bytes, zeroes there */
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF, 512 * 1024, false, false, &cqes), 0);
	assert_int_equal(cqes, 1);
	after = allocated(path);
	assert_int_equal(before - after, 512 * 1024);
	check_data(&ns, &f);

	/* Write Zeroes without DEAC: zeroes, the blocks stay allocated */
	before = after;
	assert_int_equal(zero_op(&ns, &f, BE_OP_WRITE_ZEROES, DATA_OFF + MIB, 256 * 1024, false,
				 false, &cqes),
			 0);
	assert_int_equal(cqes, 1);
	assert_int_equal(allocated(path), before);

	/* Write Zeroes with DEAC and FUA: freed, then an fdatasync (a second CQE) */
	assert_int_equal(zero_op(&ns, &f, BE_OP_WRITE_ZEROES, DATA_OFF + 1536 * 1024, 256 * 1024,
				 true, true, &cqes),
			 0);
	assert_int_equal(cqes, 2);
	assert_int_equal(before - allocated(path), 256 * 1024);

	/* Deallocate with FUA (the write cache off): an fdatasync after it */
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF + MIB, 256 * 1024, false, true, &cqes),
		0);
	assert_int_equal(cqes, 2);
	be_close(&ns);
	unlink(path);
	fixture_fini(&f);
}

/*
 * RAM: Write Zeroes with DEAC gives whole pages back, as Deallocate does;
 * both read as zeroes and complete inline.
 */
static void test_ram(void **state)
{
	struct be_params p = {.path = "ram:8M", .ram_size = STORE, .block_size = 512};
	struct fixture f;
	struct be_ns ns;
	char err[256];
	int cqes;

	(void)state;
	fixture_init(&f);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_int_equal(ns.dealloc, BE_DEALLOC_RAM);
	assert_true(ns.lim.dealloc_zeroes);
	fill(&ns, &f);
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_WRITE_ZEROES, DATA_OFF + 512, 8192, true, true, &cqes), 0);
	assert_int_equal(cqes, 0);
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF + MIB, 4096, false, false, &cqes), 0);
	check_data(&ns, &f);
	be_close(&ns);
	fixture_fini(&f);
}

/* Pages of the RAM store resident now (mincore). */
static size_t resident_pages(const struct be_ns *ns)
{
	size_t n = ns->size / 4096, got = 0;
	unsigned char *v = malloc(n);

	assert_non_null(v);
	assert_int_equal(mincore(ns->ram, ns->size, v), 0);
	for (size_t i = 0; i < n; i++)
		got += v[i] & 1;
	free(v);
	return got;
}

/*
 * prealloc = yes: every page of the store is there before the first write
 * (nothing is faulted in on the I/O path), and zeroing keeps it (the blocks
 * read as zeroes; the memory stays taken). prealloc = no takes none at
 * open and gives whole pages back on Deallocate.
 */
static void test_ram_prealloc(void **state)
{
	struct be_params p = {
		.path = "ram:8M", .ram_size = STORE, .block_size = 512, .ram_prealloc = true};
	struct fixture f;
	struct be_ns ns;
	char err[256];
	size_t taken;
	int cqes;

	(void)state;
	fixture_init(&f);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_true(ns.ram_prealloc);
	assert_int_equal(resident_pages(&ns), STORE / 4096);
	fill(&ns, &f);
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_WRITE_ZEROES, DATA_OFF + 512, 8192, true, true, &cqes), 0);
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF + MIB, 64 * 1024, false, false, &cqes),
		0);
	check_data(&ns, &f);
	assert_int_equal(resident_pages(&ns), STORE / 4096);
	be_close(&ns);

	p.ram_prealloc = false;
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_false(ns.ram_prealloc);
	assert_int_equal(resident_pages(&ns), 0);
	fill(&ns, &f);
	taken = resident_pages(&ns); /* 2 MiB written: 2 to 4 MiB with huge pages */
	assert_true(taken >= 2 * MIB / 4096);
	assert_int_equal(zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF, MIB, false, false, &cqes), 0);
	/* before reading: a read maps the shared zero page, which mincore counts */
	assert_true(resident_pages(&ns) <= taken - MIB / 4096);
	check_data(&ns, &f);
	be_close(&ns);
	fixture_fini(&f);
}

/* ---- a loop device over a sparse file ---- */

/* /sys/block/loopN/stat field i (Documentation/block/stat.rst): 6 sectors written, 13 sectors discarded. */
static uint64_t disk_stat(int n, int field)
{
	unsigned long long v[17] = {0};
	char path[64];
	FILE *fp;
	int got;

	snprintf(path, sizeof(path), "/sys/block/loop%d/stat", n);
	fp = fopen(path, "re");
	assert_non_null(fp);
	got = fscanf(fp,
		     "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		     &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
		     &v[11], &v[12], &v[13], &v[14]);
	fclose(fp);
	assert_true(got > field);
	return v[field];
}

/* Attach path to a free loop device that detaches itself on its last close; -1 if none. */
static int loop_attach(const char *path, int *dev_fd)
{
	struct loop_config cfg;
	char dev[32];
	int ctl, n, fd, bfd;

	(void)n;

	if (geteuid() != 0)
		return -1;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	bfd = open(path, O_RDWR | O_CLOEXEC);
	/* another test may take the free device between the two calls: try again */
	for (int tries = 0; tries < 5 && bfd >= 0; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			break;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)bfd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			close(bfd);
			close(ctl);
			*dev_fd =
				fd; /* held open until the test is done: autoclear then detaches */
			return n;
		}
		close(fd);
		if (errno != EBUSY)
			break;
	}
	if (bfd >= 0)
		close(bfd);
	close(ctl);
	return -1;
}

static void test_loop_device(void **state)
{
	char *path = sparse_file();
	struct be_params p = {.path = NULL, .direct = true};
	uint64_t before, after, wsec, dsec;
	struct fixture f;
	struct be_ns ns;
	char dev[32], err[256];
	int n, hold, cqes;

	(void)state;
	n = loop_attach(path, &hold);
	if (n < 0) {
		unlink(path);
		skip(); /* not root, or no loop devices here */
		return;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	p.path = dev;
	fixture_init(&f);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, BE_BLOCK);
	assert_true(ns.lim.dealloc_max > 0); /* a loop device over ext4 discards */
	assert_true(ns.lim.zeroes_max > 0);
	assert_false(ns.lim.dealloc_zeroes); /* a discard's result is the device's */
	/* this kernel (6.12 and later) has the io_uring block discard; older ones zero with unmap */
	assert_true(ns.dealloc == BE_DEALLOC_DISCARD || ns.dealloc == BE_DEALLOC_ZERO_UNMAP);
	print_message("loop%d: deallocate by %s, discard_max_bytes %llu\n", n,
		      be_dealloc_name(ns.dealloc), (unsigned long long)ns.lim.dealloc_max);
	fill(&ns, &f);
	before = allocated(path);
	assert_true(before >= 2 * MIB);

	/* Deallocate 1 MiB: the file loses 1 MiB, the device wrote nothing */
	wsec = disk_stat(n, 6);
	dsec = disk_stat(n, 13);
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF + 256 * 1024, MIB, false, false, &cqes),
		0);
	after = allocated(path);
	assert_int_equal(before - after, MIB);
	assert_int_equal(disk_stat(n, 6), wsec);
	if (ns.dealloc == BE_DEALLOC_DISCARD)
		assert_int_equal(disk_stat(n, 13) - dsec, MIB / 512);
	memset(f.w + 256 * 1024, 0, MIB); /* not promised, but a loop device punches a hole */
	check_data(&ns, &f);

	/*
	 * What kernels before 6.12 do (no block discard command): fallocate
	 * PUNCH_HOLE, the device's zeroing with unmap. The loop device punches
	 * a hole for it as well.
	 */
	if (ns.dealloc == BE_DEALLOC_DISCARD) {
		ns.dealloc = BE_DEALLOC_ZERO_UNMAP;
		before = allocated(path);
		assert_int_equal(zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF + 1280 * 1024,
					 256 * 1024, false, false, &cqes),
				 0);
		assert_int_equal(before - allocated(path), 256 * 1024);
		memset(f.w + 1280 * 1024, 0, 256 * 1024);
		check_data(&ns, &f);
		ns.dealloc = BE_DEALLOC_DISCARD;
		after = allocated(path);
	}

	/* Write Zeroes with DEAC: zeroing with unmap, the file loses the range */
	before = after;
	assert_int_equal(zero_op(&ns, &f, BE_OP_WRITE_ZEROES, DATA_OFF + 1536 * 1024, 256 * 1024,
				 true, false, &cqes),
			 0);
	assert_int_equal(cqes, 1);
	assert_int_equal(before - allocated(path), 256 * 1024);

	/* Write Zeroes without DEAC, with FUA: zeroes kept allocated, then a flush */
	before = allocated(path);
	assert_int_equal(
		zero_op(&ns, &f, BE_OP_WRITE_ZEROES, DATA_OFF, 128 * 1024, false, true, &cqes), 0);
	assert_int_equal(cqes, 2);
	assert_int_equal(allocated(path), before);
	check_data(&ns, &f);

	be_close(&ns);
	close(hold);
	unlink(path);
	fixture_fini(&f);
}

/*
 * A device that cannot discard (queue/discard_max_bytes 0: block_caps()
 * chooses BE_DEALLOC_NOOP for it): deallocation is advisory, so it succeeds
 * and does nothing: no SQE, no write, the data and the allocation as they
 * were. The loop device is told so by hand: lowering its discard_max_bytes
 * through sysfs would outlive the test (the cap stays with the device
 * after it is detached, for every later user of it).
 */
static void test_loop_no_discard(void **state)
{
	char *path = sparse_file();
	struct be_params p = {.path = NULL, .direct = true};
	char dev[32], err[256];
	uint64_t before, wsec;
	struct fixture f;
	struct be_ns ns;
	int n, hold, cqes;

	(void)state;
	n = loop_attach(path, &hold);
	if (n < 0) {
		unlink(path);
		skip();
		return;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	p.path = dev;
	fixture_init(&f);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	ns.dealloc = BE_DEALLOC_NOOP;
	fill(&ns, &f);
	before = allocated(path);
	wsec = disk_stat(n, 6);
	assert_int_equal(zero_op(&ns, &f, BE_OP_DEALLOCATE, DATA_OFF, MIB, false, true, &cqes), 0);
	assert_int_equal(cqes, 0); /* nothing queued, not even the flush */
	assert_int_equal(disk_stat(n, 6), wsec);
	assert_int_equal(allocated(path), before);
	check_data(&ns, &f); /* the data is all there */
	be_close(&ns);
	close(hold);
	unlink(path);
	fixture_fini(&f);
}

/* The probe's answer does not depend on the caller: a read-only open never discards. */
static void test_loop_read_only(void **state)
{
	char *path = sparse_file();
	struct be_params p = {.path = NULL, .read_only = true};
	struct be_ns ns;
	char dev[32], err[256];
	int n, hold;

	(void)state;
	n = loop_attach(path, &hold);
	if (n < 0) {
		unlink(path);
		skip();
		return;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	p.path = dev;
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_int_equal(ns.dealloc, BE_DEALLOC_NOOP);
	be_close(&ns);
	close(hold);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sparse_file),	cmocka_unit_test(test_ram),
		cmocka_unit_test(test_ram_prealloc),	cmocka_unit_test(test_loop_device),
		cmocka_unit_test(test_loop_no_discard), cmocka_unit_test(test_loop_read_only),
	};

	return cmocka_run_group_tests_name("backend_discard", tests, NULL, NULL);
}
