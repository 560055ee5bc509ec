/* SPDX-License-Identifier: BSD-2-Clause */
/* The backend contract, shared by test_backend.c and test_backend_rbd.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "t_backend.h"

struct result {
	int calls;
	int res;
};

static void on_done(struct be_io *io, int res)
{
	struct result *r = (struct result *)(uintptr_t)io->user_data;

	r->calls++;
	r->res = res;
}

/* Submit io and run the ring until it is done; returns its result. */
int run_io(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	struct result r = {0};
	int ret;

	io->user_data = (uint64_t)(uintptr_t)&r;
	io->done = on_done;
	io->event_tag = T_EVENT_TAG;
	if (io->buf_index == 0 && io->buf == NULL)
		io->buf_index = -1;
	ret = be_submit(ns, ring, io);
	if (ret)
		return ret;
	while (r.calls == 0) {
		struct io_uring_cqe *cqe;

		assert_true(io_uring_submit_and_wait(ring, 1) >= 0);
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			int res = cqe->res;
			uint64_t ud = cqe->user_data;

			io_uring_cqe_seen(ring, cqe);
			if ((ud & 7) == T_EVENT_TAG)
				be_event_complete((void *)(uintptr_t)(ud & ~(uint64_t)7), res);
			else
				be_io_complete(io, res);
		}
	}
	assert_int_equal(r.calls, 1);
	return r.res;
}

struct be_io mkio(enum be_op op, void *buf, uint64_t off, uint32_t len)
{
	struct be_io io = {
		.op = op, .buf = buf, .buf_index = -1, .file_index = -1, .offset = off, .len = len};
	return io;
}

void exercise(struct be_ns *ns)
{
	struct io_uring ring;
	uint8_t *w = NULL, *r = NULL;
	struct be_io io;

	assert_int_equal(io_uring_queue_init(16, &ring, 0), 0);
	assert_int_equal(posix_memalign((void **)&w, 4096, 65536), 0);
	assert_int_equal(posix_memalign((void **)&r, 4096, 65536), 0);
	for (size_t i = 0; i < 65536; i++)
		w[i] = (uint8_t)(i * 7 + 3);

	io = mkio(BE_OP_WRITE, w, 8192, 65536);
	assert_int_equal(run_io(ns, &ring, &io), 65536);
	io = mkio(BE_OP_WRITE, w, 0, 4096);
	io.fua = true;
	assert_int_equal(run_io(ns, &ring, &io), 4096);
	io = mkio(BE_OP_FLUSH, NULL, 0, 0);
	assert_int_equal(run_io(ns, &ring, &io), 0);
	io = mkio(BE_OP_READ, r, 8192, 65536);
	assert_int_equal(run_io(ns, &ring, &io), 65536);
	assert_memory_equal(r, w, 65536);

	/* Write Zeroes and Deallocate both read back as zeroes */
	io = mkio(BE_OP_WRITE_ZEROES, NULL, 8192, 4096);
	assert_int_equal(run_io(ns, &ring, &io), 0);
	io = mkio(BE_OP_DEALLOCATE, NULL, 16384, 32768);
	assert_int_equal(run_io(ns, &ring, &io), 0);
	io = mkio(BE_OP_READ, r, 8192, 65536);
	assert_int_equal(run_io(ns, &ring, &io), 65536);
	for (size_t i = 0; i < 4096; i++)
		assert_int_equal(r[i], 0);
	assert_memory_equal(r + 4096, w + 4096, 4096);
	for (size_t i = 8192; i < 8192 + 32768; i++)
		assert_int_equal(r[i], 0);
	assert_memory_equal(r + 40960, w + 40960, 65536 - 40960);

	/* the last block is reachable, one past it is not */
	io = mkio(BE_OP_READ, r, ns->size - 4096, 4096);
	assert_int_equal(run_io(ns, &ring, &io), 4096);
	io = mkio(BE_OP_READ, r, ns->size - 4096, 8192);
	assert_int_equal(run_io(ns, &ring, &io), -EINVAL);
	io = mkio(BE_OP_WRITE, w, UINT64_MAX - 100, 4096);
	assert_int_equal(run_io(ns, &ring, &io), -EINVAL);

	free(w);
	free(r);
	io_uring_queue_exit(&ring);
}
