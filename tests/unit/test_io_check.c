/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon/core/io_cmd.c: I/O command checks (opcode, FUSE / PSDT, NSID, LBA
 * range and its overflow, SGL length, MDTS, read-only namespaces, DSM),
 * DSM ranges, backend errors as NVMe status, and the per-worker counters.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "t_daemon.h"

#define INVALID_FIELD (T_ST(GENERIC, INVALID_FIELD) | NVME_STATUS_DNR)
#define INVALID_NS    (T_ST(GENERIC, INVALID_NS) | NVME_STATUS_DNR)
#define INVALID_OPC   (T_ST(GENERIC, INVALID_OPCODE) | NVME_STATUS_DNR)
#define SGL_LENGTH    (T_ST(GENERIC, SGL_INVALID_DATA) | NVME_STATUS_DNR)
#define LBA_RANGE     (T_ST(GENERIC, LBA_RANGE) | NVME_STATUS_DNR)
#define WRITE_PROT    (T_ST(GENERIC, NS_WRITE_PROTECTED) | NVME_STATUS_DNR)

static struct t_fixture F;
static struct ctrl *C;

static int setup(void **state)
{
	(void)state;
	t_fixture_init(&F);
	C = t_admin(&F, NQN_A, HOST_A, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_admin_gone(C);
	t_fixture_fini(&F);
	return 0;
}

/* A Read / Write / Write Zeroes: slba, nlb (1's based here), extra CDW12 bits. */
static struct nvme_sqe rw(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t cdw12)
{
	return t_sqe(opc, nsid, (uint32_t)slba, (uint32_t)(slba >> 32),
		     ((nlb - 1) & 0xffff) | cdw12, 0, 0, 0);
}

static nvme_status_t check(const struct nvme_sqe *sqe, uint32_t sgl_len, struct io_plan *plan)
{
	return io_check(C, sqe, sgl_len, plan);
}

static void test_read_write(void **state)
{
	struct io_plan p;
	struct nvme_sqe s;

	(void)state;
	s = rw(NVME_CMD_READ, 1, 16, 8, 0);
	assert_int_equal(check(&s, 4096, &p), 0);
	assert_int_equal(p.op, BE_OP_READ);
	assert_ptr_equal(p.ns, &F.ns[0]);
	assert_int_equal(p.offset, 16 * 512);
	assert_int_equal(p.len, 4096);
	assert_false(p.fua);
	s = rw(NVME_CMD_READ, 1, 16, 8, NVME_RW_FUA); /* FUA on a read: nothing to do */
	assert_int_equal(check(&s, 4096, &p), 0);
	assert_false(p.fua);
	s = rw(NVME_CMD_WRITE, 1, 0, 1, 0);
	assert_int_equal(check(&s, 512, &p), 0);
	assert_int_equal(p.op, BE_OP_WRITE);
	assert_false(p.fua);
	s = rw(NVME_CMD_WRITE, 1, 0, 1, NVME_RW_FUA);
	assert_int_equal(check(&s, 512, &p), 0);
	assert_true(p.fua);
	/* the host turned the volatile write cache off: every write is FUA */
	C->vwc = false;
	s = rw(NVME_CMD_WRITE, 1, 0, 1, 0);
	assert_int_equal(check(&s, 512, &p), 0);
	assert_true(p.fua);
	C->vwc = true;
	/* 4 KiB blocks on namespace 2 (read-only: reads are fine) */
	s = rw(NVME_CMD_READ, 2, T_NS2_BLOCKS - 1, 1, 0);
	assert_int_equal(check(&s, 4096, &p), 0);
	assert_int_equal(p.offset, (T_NS2_BLOCKS - 1) * 4096);
}

static void test_lba_range(void **state)
{
	struct io_plan p;
	struct nvme_sqe s;

	(void)state;
	s = rw(NVME_CMD_READ, 1, T_NS1_BLOCKS - 1, 1, 0);
	assert_int_equal(check(&s, 512, &p), 0);
	s = rw(NVME_CMD_READ, 1, T_NS1_BLOCKS - 1, 2, 0);
	assert_int_equal(check(&s, 1024, &p), LBA_RANGE);
	s = rw(NVME_CMD_READ, 1, T_NS1_BLOCKS, 1, 0);
	assert_int_equal(check(&s, 512, &p), LBA_RANGE);
	/* slba + nlb wraps around 2^64 */
	s = rw(NVME_CMD_READ, 1, UINT64_MAX, 1, 0);
	assert_int_equal(check(&s, 512, &p), LBA_RANGE);
	s = rw(NVME_CMD_WRITE, 1, UINT64_MAX - 1, 256, 0);
	assert_int_equal(check(&s, 256 * 512, &p), LBA_RANGE);
	s = rw(NVME_CMD_WRITE_ZEROES, 1, (uint64_t)1 << 63, 65536, 0);
	assert_int_equal(check(&s, 0, &p), LBA_RANGE);
	s = rw(NVME_CMD_WRITE_ZEROES, 5, T_NS5_BLOCKS - 64, 64, 0);
	assert_int_equal(check(&s, 0, &p), 0);
	s = rw(NVME_CMD_WRITE_ZEROES, 5, T_NS5_BLOCKS - 64, 65, 0);
	assert_int_equal(check(&s, 0, &p), LBA_RANGE);
}

static void test_lengths(void **state)
{
	struct io_plan p;
	struct nvme_sqe s;

	(void)state;
	/* the SGL must describe exactly the blocks */
	s = rw(NVME_CMD_READ, 1, 0, 8, 0);
	assert_int_equal(check(&s, 4095, &p), SGL_LENGTH);
	assert_int_equal(check(&s, 8192, &p), SGL_LENGTH);
	assert_int_equal(check(&s, 0, &p), SGL_LENGTH);
	/* MDTS: 128 KiB */
	s = rw(NVME_CMD_WRITE, 1, 0, 256, 0);
	assert_int_equal(check(&s, 131072, &p), 0);
	s = rw(NVME_CMD_WRITE, 1, 0, 257, 0);
	assert_int_equal(check(&s, 257 * 512, &p), INVALID_FIELD);
	s = rw(NVME_CMD_READ, 1, 0, 65536, 0);
	assert_int_equal(check(&s, 65536u * 512, &p), INVALID_FIELD);
	/* Write Zeroes has no data and no MDTS */
	s = rw(NVME_CMD_WRITE_ZEROES, 1, 8, 65536, NVME_RW_FUA);
	assert_int_equal(check(&s, 0, &p), 0);
	assert_int_equal(p.op, BE_OP_WRITE_ZEROES);
	assert_int_equal(p.offset, 8 * 512);
	assert_int_equal(p.len, 65536u * 512);
	assert_true(p.fua);
	assert_int_equal(check(&s, 512, &p), SGL_LENGTH);
	/* Flush: no data */
	s = t_sqe(NVME_CMD_FLUSH, 1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(check(&s, 0, &p), 0);
	assert_int_equal(p.op, BE_OP_FLUSH);
	assert_ptr_equal(p.ns, &F.ns[0]);
	assert_int_equal(check(&s, 4, &p), SGL_LENGTH);
}

static void test_nsid(void **state)
{
	struct io_plan p;
	struct nvme_sqe s;

	(void)state;
	s = rw(NVME_CMD_READ, 0, 0, 1, 0);
	assert_int_equal(check(&s, 512, &p), INVALID_NS);
	s = rw(NVME_CMD_READ, 3, 0, 1, 0); /* inactive */
	assert_int_equal(check(&s, 512, &p), INVALID_NS);
	s = rw(NVME_CMD_READ, 6, 0, 1, 0);
	assert_int_equal(check(&s, 512, &p), INVALID_NS);
	s = rw(NVME_CMD_READ, 0xffffffff, 0, 1, 0);
	assert_int_equal(check(&s, 512, &p), INVALID_NS);
	s = rw(NVME_CMD_WRITE_ZEROES, 0xffffffff, 0, 1, 0);
	assert_int_equal(check(&s, 0, &p), INVALID_NS);
	/* Flush of every namespace: plan->ns NULL */
	s = t_sqe(NVME_CMD_FLUSH, 0xffffffff, 0, 0, 0, 0, 0, 0);
	assert_int_equal(check(&s, 0, &p), 0);
	assert_int_equal(p.op, BE_OP_FLUSH);
	assert_null(p.ns);
	assert_int_equal(check(&s, 512, &p), SGL_LENGTH);
	s = t_sqe(NVME_CMD_FLUSH, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(check(&s, 0, &p), INVALID_NS);
}

static void test_flags_opcodes(void **state)
{
	struct io_plan p;
	struct nvme_sqe s;

	(void)state;
	s = rw(NVME_CMD_READ, 1, 0, 1, 0);
	s.flags |= 1; /* fused, first: only Compare may be */
	assert_int_equal(check(&s, 512, &p), INVALID_FIELD);
	s.flags = (uint8_t)((s.flags & ~3) | 2); /* second: only Write may be */
	assert_int_equal(check(&s, 512, &p), INVALID_FIELD);
	s.flags = (uint8_t)((s.flags & ~3) | 3); /* reserved */
	assert_int_equal(check(&s, 512, &p), INVALID_FIELD);
	s = rw(NVME_CMD_COMPARE, 1, 0, 1, 0);
	s.flags |= 1;
	assert_int_equal(check(&s, 512, &p), 0);
	assert_int_equal(p.fuse, NVME_FUSE_FIRST);
	assert_int_equal(p.kind, IO_KIND_COMPARE);
	s = rw(NVME_CMD_WRITE, 1, 0, 1, 0);
	s.flags |= 2;
	assert_int_equal(check(&s, 512, &p), 0);
	assert_int_equal(p.fuse, NVME_FUSE_SECOND);
	s.flags = 0; /* PSDT 00b: PRPs */
	assert_int_equal(check(&s, 512, &p), INVALID_FIELD);
	s.flags = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_SGL);
	assert_int_equal(check(&s, 512, &p), INVALID_FIELD);
	/* Compare: data as a write's; Verify: none, no MDTS; reservations: theirs */
	s = rw(NVME_CMD_COMPARE, 1, 0, 1, 0);
	assert_int_equal(check(&s, 512, &p), 0);
	assert_int_equal(p.kind, IO_KIND_COMPARE);
	assert_int_equal(p.len, 512);
	assert_int_equal(check(&s, 0, &p), SGL_LENGTH);
	s = rw(NVME_CMD_VERIFY, 1, 0, 1, 0);
	assert_int_equal(check(&s, 0, &p), 0);
	assert_int_equal(p.kind, IO_KIND_VERIFY);
	assert_int_equal(check(&s, 512, &p), SGL_LENGTH);
	s = rw(NVME_CMD_VERIFY, 1, 0, 65536, 0); /* 32 MiB: beyond MDTS, fine for Verify */
	assert_int_equal(check(&s, 0, &p), 0);
	assert_int_equal(p.len, 65536u * 512);
	s = rw(NVME_CMD_RESV_REPORT, 1, 0, 1, 0);
	s.cdw10 = htole32(1023); /* NUMD 0's based: 4 KiB */
	assert_int_equal(check(&s, 4096, &p), 0);
	assert_int_equal(p.kind, IO_KIND_RESV);
	assert_int_equal(p.len, 4096);
	s = rw(NVME_CMD_RESV_REGISTER, 1, 0, 1, 0);
	assert_int_equal(check(&s, 16, &p), 0);
	assert_int_equal(check(&s, 8, &p), SGL_LENGTH);
	s = rw(NVME_CMD_RESV_RELEASE, 1, 0, 1, 0);
	assert_int_equal(check(&s, 8, &p), 0);
	s = rw(NVME_CMD_RESV_ACQUIRE, 0xffffffff, 0, 1, 0);
	assert_int_equal(check(&s, 16, &p), INVALID_NS);
	s = rw(0x7f, 1, 0, 1, 0);
	assert_int_equal(check(&s, 0, &p), INVALID_OPC);
	/* a disabled controller runs nothing */
	atomic_store(&C->enabled, false);
	s = rw(NVME_CMD_READ, 1, 0, 1, 0);
	assert_int_equal(check(&s, 512, &p), T_ST(GENERIC, CMD_SEQ_ERROR) | NVME_STATUS_DNR);
	atomic_store(&C->enabled, true);
}

static void test_read_only(void **state)
{
	struct io_plan p;
	struct nvme_sqe s;

	(void)state;
	s = rw(NVME_CMD_WRITE, 2, 0, 1, 0);
	assert_int_equal(check(&s, 4096, &p), WRITE_PROT);
	s = rw(NVME_CMD_WRITE_ZEROES, 2, 0, 1, 0);
	assert_int_equal(check(&s, 0, &p), WRITE_PROT);
	s = t_sqe(NVME_CMD_DSM, 2, 0, NVME_DSM_AD, 0, 0, 0, 0);
	assert_int_equal(check(&s, 16, &p), WRITE_PROT);
	s = t_sqe(NVME_CMD_FLUSH, 2, 0, 0, 0, 0, 0, 0);
	assert_int_equal(check(&s, 0, &p), 0);
}

static void test_dsm(void **state)
{
	struct nvme_dsm_range r;
	struct io_plan p;
	struct nvme_sqe s;
	uint64_t off, len;

	(void)state;
	s = t_sqe(NVME_CMD_DSM, 1, 0, NVME_DSM_AD, 0, 0, 0, 0); /* NR 0: one range */
	assert_int_equal(check(&s, 16, &p), 0);
	assert_int_equal(p.op, BE_OP_DEALLOCATE);
	assert_int_equal(p.nr_ranges, 1);
	assert_ptr_equal(p.ns, &F.ns[0]);
	/* the Linux host sends a whole 4 KiB page whatever NR says */
	assert_int_equal(check(&s, 4096, &p), 0);
	assert_int_equal(p.nr_ranges, 1);
	assert_int_equal(check(&s, 8, &p), SGL_LENGTH);
	assert_int_equal(check(&s, 0, &p), SGL_LENGTH);
	s = t_sqe(NVME_CMD_DSM, 1, 255, NVME_DSM_AD | NVME_DSM_IDR, 0, 0, 0, 0);
	assert_int_equal(check(&s, 256 * 16, &p), 0);
	assert_int_equal(p.nr_ranges, 256);
	/* without AD: hints only, nothing to do */
	s = t_sqe(NVME_CMD_DSM, 1, 3, NVME_DSM_IDW, 0, 0, 0, 0);
	assert_int_equal(check(&s, 64, &p), 0);
	assert_int_equal(p.nr_ranges, 0);

	/* ranges: NLB is not 0's based; 0 blocks is nothing */
	memset(&r, 0, sizeof(r));
	r.slba = htole64(8);
	r.nlb = htole32(16);
	assert_int_equal(io_dsm_range(&F.ns[0], &r, &off, &len), 0);
	assert_int_equal(off, 8 * 512);
	assert_int_equal(len, 16 * 512);
	r.nlb = 0;
	assert_int_equal(io_dsm_range(&F.ns[0], &r, &off, &len), 0);
	assert_int_equal(len, 0);
	r.slba = htole64(T_NS5_BLOCKS - 8);
	r.nlb = htole32(8);
	assert_int_equal(io_dsm_range(&F.ns[2], &r, &off, &len), 0);
	r.nlb = htole32(9);
	assert_int_equal(io_dsm_range(&F.ns[2], &r, &off, &len), LBA_RANGE);
	r.slba = htole64(UINT64_MAX);
	r.nlb = htole32(2);
	assert_int_equal(io_dsm_range(&F.ns[0], &r, &off, &len), LBA_RANGE);
	r.slba = htole64(1);
	r.nlb = htole32(0xffffffff);
	assert_int_equal(io_dsm_range(&F.ns[2], &r, &off, &len), LBA_RANGE);
	/* 4 KiB blocks */
	r.slba = htole64(2);
	r.nlb = htole32(3);
	assert_int_equal(io_dsm_range(&F.ns[1], &r, &off, &len), 0);
	assert_int_equal(off, 8192);
	assert_int_equal(len, 12288);
}

static void test_errno_status(void **state)
{
	(void)state;
	assert_int_equal(io_errno_status(0, BE_OP_READ), 0);
	/* media errors: retry may help (no DNR) */
	assert_int_equal(io_errno_status(-EIO, BE_OP_READ), T_ST(MEDIA, READ_ERROR));
	assert_int_equal(io_errno_status(-EIO, BE_OP_WRITE), T_ST(MEDIA, WRITE_FAULT));
	assert_int_equal(io_errno_status(-EIO, BE_OP_FLUSH), T_ST(MEDIA, WRITE_FAULT));
	assert_int_equal(io_errno_status(-EIO, BE_OP_WRITE_ZEROES), T_ST(MEDIA, WRITE_FAULT));
	assert_int_equal(io_errno_status(-EIO, BE_OP_READ), 0x281);
	assert_int_equal(io_errno_status(-ENOSPC, BE_OP_WRITE),
			 T_ST(GENERIC, CAP_EXCEEDED) | NVME_STATUS_DNR);
	assert_int_equal(io_errno_status(-EDQUOT, BE_OP_WRITE),
			 T_ST(GENERIC, CAP_EXCEEDED) | NVME_STATUS_DNR);
	assert_int_equal(io_errno_status(-EROFS, BE_OP_WRITE), WRITE_PROT);
	assert_int_equal(io_errno_status(-EINVAL, BE_OP_READ), INVALID_FIELD);
	assert_int_equal(io_errno_status(-EOPNOTSUPP, BE_OP_DEALLOCATE), INVALID_OPC);
	assert_int_equal(io_errno_status(-EOPNOTSUPP, BE_OP_WRITE_ZEROES), INVALID_OPC);
	assert_int_equal(io_errno_status(-ENOMEM, BE_OP_READ), T_ST(GENERIC, INTERNAL));
	assert_int_equal(io_errno_status(-EAGAIN, BE_OP_WRITE), T_ST(GENERIC, INTERNAL));
}

static void test_account(void **state)
{
	struct io_plan p = {.op = BE_OP_READ, .ns = &F.ns[0], .len = 4096};
	struct ns_stats *w1 = &F.stats[0][1];

	(void)state;
	io_account(&F.ns[0], 1, &p, 0);
	io_account(&F.ns[0], 1, &p, 0);
	assert_int_equal(atomic_load(&w1->read_cmds), 2);
	assert_int_equal(atomic_load(&w1->read_blocks), 16);
	assert_int_equal(atomic_load(&F.stats[0][0].read_cmds), 0);
	p.op = BE_OP_WRITE;
	p.len = 512;
	io_account(&F.ns[0], 1, &p, 0);
	assert_int_equal(atomic_load(&w1->write_cmds), 1);
	assert_int_equal(atomic_load(&w1->write_blocks), 1);
	p.op = BE_OP_WRITE_ZEROES;
	p.len = 1 << 20;
	io_account(&F.ns[0], 1, &p, 0);
	assert_int_equal(atomic_load(&w1->write_cmds), 2);
	assert_int_equal(atomic_load(&w1->write_blocks), 1);
	p.op = BE_OP_FLUSH;
	io_account(&F.ns[0], 1, &p, 0);
	p.op = BE_OP_DEALLOCATE;
	io_account(&F.ns[0], 1, &p, 0);
	assert_int_equal(atomic_load(&w1->write_cmds), 2);
	/* a media error counts as such, not as a command */
	p.op = BE_OP_READ;
	p.len = 4096;
	io_account(&F.ns[0], 1, &p, io_errno_status(-EIO, BE_OP_READ));
	assert_int_equal(atomic_load(&w1->media_errors), 1);
	assert_int_equal(atomic_load(&w1->read_cmds), 2);
	p.op = BE_OP_WRITE;
	io_account(&F.ns[0], 1, &p, io_errno_status(-EIO, BE_OP_WRITE));
	assert_int_equal(atomic_load(&w1->media_errors), 2);
	/* a full store or a write-protected one is no media error (ctrl.h) */
	io_account(&F.ns[0], 1, &p, io_errno_status(-ENOSPC, BE_OP_WRITE));
	io_account(&F.ns[0], 1, &p, io_errno_status(-EROFS, BE_OP_WRITE));
	assert_int_equal(atomic_load(&w1->media_errors), 2);
	assert_int_equal(atomic_load(&w1->write_cmds), 2);
}

/* Busy time: the union of the intervals with a command in the backend, per worker. */
static void test_busy(void **state)
{
	const int64_t s = 1000000000;
	struct ns_stats *w0 = &F.stats[0][0], *w1 = &F.stats[0][1];

	(void)state;
	io_busy_begin(&F.ns[0], 0, 10 * s);
	io_busy_begin(&F.ns[0], 0, 20 * s); /* overlaps: not counted twice */
	io_busy_end(&F.ns[0], 0, 30 * s);
	assert_int_equal(atomic_load(&w0->busy_ns), 0);
	io_busy_end(&F.ns[0], 0, 70 * s);
	assert_int_equal(atomic_load(&w0->busy_ns), 60 * s);
	io_busy_end(&F.ns[0], 0, 80 * s); /* unbalanced: ignored */
	assert_int_equal(atomic_load(&w0->busy_ns), 60 * s);
	io_busy_begin(&F.ns[0], 1, 100 * s);
	io_busy_end(&F.ns[0], 1, 100 * s + 5);
	assert_int_equal(atomic_load(&w1->busy_ns), 5);
	assert_int_equal(atomic_load(&w0->busy_ns), 60 * s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lba_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nsid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_opcodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errno_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
