/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend/rbd.c against a real Ceph cluster (tests/lib/with-ceph.sh starts a
 * throwaway one and sets CEPH_CONF; without it every case is skipped): the
 * contract every store passes, on each worker's handle and across them,
 * many ios in flight on one handle, read_only, the images it refuses
 * (exclusive-lock feature, cache turned on in the image's metadata), the
 * size after a resize, and the errors of a bad path, pool or image.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "t_backend.h"

#define POOL "rbd"

static rados_t g_rados;
static rados_ioctx_t g_ioctx;
static char g_img[64], g_img_xl[64], g_path[96], g_path_xl[96];
static struct be_ceph g_ceph;

static int setup(void **state)
{
	int order = 22; /* 4 MiB objects: the 1 MiB image is one object */

	(void)state;
	g_ceph.conf = getenv("CEPH_CONF");
	if (rados_create(&g_rados, NULL) < 0 || rados_conf_read_file(g_rados, g_ceph.conf) < 0 ||
	    rados_connect(g_rados) < 0 || rados_ioctx_create(g_rados, POOL, &g_ioctx) < 0)
		return -1;
	snprintf(g_img, sizeof(g_img), "t-backend-%d", (int)getpid());
	snprintf(g_img_xl, sizeof(g_img_xl), "t-backend-xl-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "rbd:" POOL "/%s", g_img);
	snprintf(g_path_xl, sizeof(g_path_xl), "rbd:" POOL "/%s", g_img_xl);
	if (rbd_create2(g_ioctx, g_img, NS_SIZE, RBD_FEATURE_LAYERING, &order) < 0)
		return -1;
	order = 22;
	if (rbd_create2(g_ioctx, g_img_xl, NS_SIZE,
			RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK, &order) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rbd_remove(g_ioctx, g_img);
	rbd_remove(g_ioctx, g_img_xl);
	rados_ioctx_destroy(g_ioctx);
	rados_shutdown(g_rados);
	return 0;
}

static void open_ns(struct be_ns *ns, const char *path, bool read_only, unsigned int nq)
{
	struct be_params p = {.path = path,
			      .block_size = 512,
			      .read_only = read_only,
			      .nqueues = nq,
			      .ceph = &g_ceph};
	char err[512];
	int ret = be_open(ns, &p, err, sizeof(err));

	if (ret)
		fail_msg("be_open(%s): %s", path, err);
	assert_int_equal(ns->kind, BE_RBD);
}

/* The contract, then a write through one worker's handle read through the other's. */
static void test_rbd_contract(void **state)
{
	static uint8_t w[8192], r[8192];
	struct io_uring ring;
	struct be_io io;
	struct be_ns ns;

	(void)state;
	open_ns(&ns, g_path, false, 2);
	assert_int_equal(ns.size, NS_SIZE);
	assert_int_equal(ns.fd, -1);
	exercise(&ns);
	assert_int_equal(io_uring_queue_init(16, &ring, 0), 0);
	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 11 + 5);
	io = mkio(BE_OP_WRITE, w, 512 * 1000, sizeof(w));
	io.queue = 1;
	assert_int_equal(run_io(&ns, &ring, &io), (int)sizeof(w));
	io = mkio(BE_OP_READ, r, 512 * 1000, sizeof(r));
	assert_int_equal(run_io(&ns, &ring, &io), (int)sizeof(r));
	assert_memory_equal(r, w, sizeof(w));
	io = mkio(BE_OP_FLUSH, NULL, 0, 0);
	io.queue = 1;
	assert_int_equal(run_io(&ns, &ring, &io), 0);
	/* a queue the namespace was not opened for */
	io = mkio(BE_OP_READ, r, 0, 512);
	io.queue = 2;
	assert_int_equal(run_io(&ns, &ring, &io), -EINVAL);
	io_uring_queue_exit(&ring);
	be_close(&ns);
}

struct many {
	int done;
	int bad;
};

static void many_done(struct be_io *io, int res)
{
	struct many *m = (struct many *)(uintptr_t)io->user_data;

	m->done++;
	m->bad += res != (int)io->len;
}

static void run_many(struct be_ns *ns, struct io_uring *ring, struct be_io *ios, int n,
		     struct many *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < n; i++) {
		ios[i].user_data = (uint64_t)(uintptr_t)m;
		ios[i].done = many_done;
		ios[i].event_tag = T_EVENT_TAG;
		assert_int_equal(be_submit(ns, ring, &ios[i]), 0);
	}
	while (m->done < n) {
		struct io_uring_cqe *cqe;

		assert_true(io_uring_submit_and_wait(ring, 1) >= 0);
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			uint64_t ud = cqe->user_data;
			int res = cqe->res;

			io_uring_cqe_seen(ring, cqe);
			assert_int_equal(ud & 7, T_EVENT_TAG); /* RBD: only its events */
			be_event_complete((void *)(uintptr_t)(ud & ~(uint64_t)7), res);
		}
	}
	assert_int_equal(m->done, n);
	assert_int_equal(m->bad, 0);
}

/* 128 writes in flight on one handle (several completions per wake-up), read back. */
static void test_rbd_many_in_flight(void **state)
{
	enum { N = 128, LEN = 4096 };
	uint8_t *w = malloc(N * LEN), *r = malloc(N * LEN);
	struct be_io *ios = calloc(N, sizeof(*ios));
	struct io_uring ring;
	struct many m;
	struct be_ns ns;

	(void)state;
	assert_non_null(w);
	assert_non_null(r);
	assert_non_null(ios);
	for (size_t i = 0; i < (size_t)N * LEN; i++)
		w[i] = (uint8_t)(i * 31 + i / LEN);
	open_ns(&ns, g_path, false, 1);
	assert_int_equal(io_uring_queue_init(8, &ring, 0), 0); /* fewer SQEs than ios */
	for (int i = 0; i < N; i++)
		ios[i] = mkio(BE_OP_WRITE, w + (size_t)i * LEN, (uint64_t)i * LEN, LEN);
	run_many(&ns, &ring, ios, N, &m);
	for (int i = 0; i < N; i++)
		ios[i] = mkio(BE_OP_READ, r + (size_t)i * LEN, (uint64_t)i * LEN, LEN);
	run_many(&ns, &ring, ios, N, &m);
	assert_memory_equal(r, w, (size_t)N * LEN);
	io_uring_queue_exit(&ring);
	be_close(&ns);
	free(ios);
	free(w);
	free(r);
}

/* read_only: writes refused before librbd; an exclusive-lock image only read-only. */
static void test_rbd_read_only_and_lock(void **state)
{
	struct be_params p = {.path = g_path_xl, .nqueues = 1, .ceph = &g_ceph};
	uint8_t buf[512] = {0};
	struct io_uring ring;
	struct be_io io;
	struct be_ns ns;
	char err[512];

	(void)state;
	assert_int_equal(io_uring_queue_init(4, &ring, 0), 0);
	open_ns(&ns, g_path, true, 1);
	assert_true(ns.read_only);
	io = mkio(BE_OP_WRITE, buf, 0, 512);
	assert_int_equal(run_io(&ns, &ring, &io), -EROFS);
	io = mkio(BE_OP_DEALLOCATE, NULL, 0, 512);
	assert_int_equal(run_io(&ns, &ring, &io), -EROFS);
	io = mkio(BE_OP_READ, buf, 0, 512);
	assert_int_equal(run_io(&ns, &ring, &io), 512);
	be_close(&ns);

	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "exclusive-lock"));
	open_ns(&ns, g_path_xl, true, 2);
	io = mkio(BE_OP_READ, buf, 0, 512);
	assert_int_equal(run_io(&ns, &ring, &io), 512);
	be_close(&ns);
	io_uring_queue_exit(&ring);
}

/* An image whose metadata turns librbd's cache on is refused, saying so. */
static void test_rbd_cache_refused(void **state)
{
	struct be_params p = {.path = g_path, .nqueues = 1, .ceph = &g_ceph};
	rbd_image_t img;
	struct be_ns ns;
	char err[512];

	(void)state;
	assert_int_equal(rbd_open(g_ioctx, g_img, &img, NULL), 0);
	assert_int_equal(rbd_metadata_set(img, "conf_rbd_cache", "true"), 0);
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "conf_rbd_cache"));
	assert_int_equal(rbd_metadata_remove(img, "conf_rbd_cache"), 0);
	rbd_close(img);
	open_ns(&ns, g_path, false, 1);
	be_close(&ns);
}

/* The size a reload reads: every handle learns of a resize. */
static void test_rbd_resize(void **state)
{
	rbd_image_t img;
	uint64_t size;
	struct be_ns ns;

	(void)state;
	open_ns(&ns, g_path, false, 2);
	assert_int_equal(rbd_open(g_ioctx, g_img, &img, NULL), 0);
	assert_int_equal(rbd_resize(img, 2 * NS_SIZE + 100), 0);
	assert_int_equal(be_size_now(&ns, &size), 0);
	assert_int_equal(size, 2 * NS_SIZE); /* whole blocks only */
	assert_int_equal(rbd_resize(img, NS_SIZE), 0);
	rbd_close(img);
	be_close(&ns);
}

static void test_rbd_open_errors(void **state)
{
	static const struct {
		const char *path;
		int err;
		const char *says;
	} cases[] = {
		{"rbd:nopool", -EINVAL, "rbd:POOL/IMAGE"},
		{"rbd:" POOL "/", -EINVAL, "rbd:POOL/IMAGE"},
		{"rbd:no-such-pool/img", -ENOENT, "pool no-such-pool"},
		{"rbd:" POOL "/no-such-image", -ENOENT, "no-such-image"},
	};
	struct be_ceph bad_conf = {.conf = "/nonexistent/ceph.conf"};
	struct be_params p = {.nqueues = 1, .ceph = &g_ceph};
	struct be_ns ns;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p.path = cases[i].path;
		assert_int_equal(be_open(&ns, &p, err, sizeof(err)), cases[i].err);
		if (strstr(err, cases[i].says) == NULL)
			fail_msg("%s: '%s' does not say '%s'", cases[i].path, err, cases[i].says);
	}
	p.path = g_path;
	p.ceph = &bad_conf;
	assert_int_equal(be_open(&ns, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/ceph.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rbd_contract),
		cmocka_unit_test(test_rbd_many_in_flight),
		cmocka_unit_test(test_rbd_read_only_and_lock),
		cmocka_unit_test(test_rbd_cache_refused),
		cmocka_unit_test(test_rbd_resize),
		cmocka_unit_test(test_rbd_open_errors),
	};
	const char *skip = getenv("NVMFD_CEPH_SKIP");

	if (getenv("CEPH_CONF") == NULL || skip != NULL) {
		printf("1..0 # SKIP %s\n",
		       skip ? skip : "no Ceph cluster (CEPH_CONF unset; tests/lib/with-ceph.sh)");
		return 0;
	}
	return cmocka_run_group_tests_name("backend_rbd", tests, setup, teardown);
}
