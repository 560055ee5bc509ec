/* SPDX-License-Identifier: BSD-2-Clause */
/* backend/: every operation of the RAM and file stores, through a real ring. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_backend.h"

static void test_ram(void **state)
{
	struct be_params p = {.path = "ram:1M", .ram_size = NS_SIZE, .block_size = 4096};
	struct be_ns ns;
	char err[256];

	(void)state;
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, BE_RAM);
	assert_int_equal(ns.size, NS_SIZE);
	assert_int_equal(ns.block_size, 4096);
	exercise(&ns);
	be_close(&ns);
}

/* Writes into a RAM store take non-temporal stores from 512 bytes on, from
 * any source alignment: lengths of 1 to 9 blocks from odd addresses, read
 * back with their neighbours untouched. */
static void test_ram_copy_in(void **state)
{
	struct be_params p = {.path = "ram:1M", .ram_size = NS_SIZE, .block_size = 512};
	struct io_uring ring;
	uint8_t *w = malloc(8192), *r = malloc(8192);
	struct be_ns ns;
	struct be_io io;
	char err[256];

	(void)state;
	assert_non_null(w);
	assert_non_null(r);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_int_equal(io_uring_queue_init(16, &ring, 0), 0);
	for (uint32_t nb = 1; nb <= 9; nb++) {
		uint64_t off = 512u * (3 * nb);
		uint32_t len = 512 * nb;
		uint8_t *src = w + nb % 16; /* odd and even misalignments */

		for (uint32_t i = 0; i < len; i++)
			src[i] = (uint8_t)(i * 13 + nb);
		io = mkio(BE_OP_WRITE, src, off, len);
		assert_int_equal(run_io(&ns, &ring, &io), (int)len);
		io = mkio(BE_OP_READ, r, off - 512, len + 1024);
		assert_int_equal(run_io(&ns, &ring, &io), (int)len + 1024);
		assert_memory_equal(r + 512, src, len);
		for (uint32_t i = 0; i < 512; i++) {
			if (nb == 1) /* the block before the first write was never written */
				assert_int_equal(r[i], 0);
			assert_int_equal(r[512 + len + i], 0);
		}
	}
	io_uring_queue_exit(&ring);
	be_close(&ns);
	free(w);
	free(r);
}

static void file_case(bool direct)
{
	char path[] = "/var/tmp/nvmfd-be-XXXXXX";
	struct be_params p = {.path = path, .block_size = 512, .direct = direct};
	struct be_ns ns;
	char err[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, NS_SIZE + 100), 0); /* a partial block is not exported */
	close(fd);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	assert_int_equal(ns.kind, BE_FILE);
	assert_int_equal(ns.size, NS_SIZE);
	exercise(&ns);
	be_close(&ns);
	unlink(path);
}

static void test_file_buffered(void **state)
{
	(void)state;
	file_case(false);
}

static void test_file_direct(void **state)
{
	(void)state;
	file_case(true);
}

static void test_read_only_and_errors(void **state)
{
	struct be_params p = {.path = "ram:64k", .ram_size = 65536, .read_only = true};
	struct be_params missing = {.path = "/nonexistent/nvmfd"};
	struct be_params dir = {.path = "/tmp"};
	struct io_uring ring;
	uint8_t buf[512] = {0};
	struct be_io io;
	struct be_ns ns;
	char err[256];

	(void)state;
	assert_int_equal(io_uring_queue_init(4, &ring, 0), 0);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), 0);
	io = mkio(BE_OP_WRITE, buf, 0, 512);
	assert_int_equal(run_io(&ns, &ring, &io), -EROFS);
	io = mkio(BE_OP_READ, buf, 0, 512);
	assert_int_equal(run_io(&ns, &ring, &io), 512);
	be_close(&ns);
	assert_int_equal(be_open(&ns, &missing, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/nvmfd"));
	assert_int_equal(be_open(&ns, &dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file or a block device"));
	io_uring_queue_exit(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram),
		cmocka_unit_test(test_ram_copy_in),
		cmocka_unit_test(test_file_buffered),
		cmocka_unit_test(test_file_direct),
		cmocka_unit_test(test_read_only_and_errors),
	};

	return cmocka_run_group_tests_name("backend", tests, NULL, NULL);
}
