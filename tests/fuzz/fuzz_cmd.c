/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: command decoding and execution without the transport,
 * on the hand-built target of tests/unit/t_target.h: Fabrics Connect
 * (ctrl_connect), admin and Fabrics commands (ctrl_admin_exec), I/O command
 * checks and planning (io_check, io_dsm_range), events, keep-alive expiry
 * and controller teardown, in any order (input format in fuzz_cmd.h).
 * The calls are made as the connection code makes them (cmd.c's SGL
 * checks first: bidirectional transfers and lengths beyond MDTS never get
 * here), with buffers of exactly the transfer length, so ASan sees any
 * write beyond it.
 *
 * Invariants, besides ASan / UBSan / LSan: a status fits its 15 bits; a
 * Connect succeeds with a controller and its CNTLID in dword 0, and fails
 * without one; an admin command produces no more than the buffer holds and
 * only an AER is held; a planned Read / Write stays inside its namespace
 * with the SGL's length, never writes a read-only namespace, never exceeds
 * MDTS; every DSM range io_dsm_range accepts is inside the namespace;
 * every reference is dropped at the end (LSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_cmd.h"
#include "fuzz_target.h"
#include "byteorder.h"
#include "log.h"
#include "nvme_tcp.h"
#include "t_target.h"

#define MAX_ADMIN 4
#define MAX_IOQ	  16

struct io_queue {
	struct ctrl *c;
	uint16_t qid;
};

struct state {
	struct t_fixture f;
	const uint8_t *p;
	size_t left;
	int64_t now;
	struct ctrl *admin[MAX_ADMIN];
	unsigned int nadmin;
	struct io_queue ioq[MAX_IOQ];
	unsigned int nioq;
	unsigned int aers_held, aers_done;
};

/* n bytes of input into out, zeroes where the input ends. */
static void take(struct state *s, void *out, size_t n)
{
	size_t k = n < s->left ? n : s->left;

	memcpy(out, s->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	s->p += k;
	s->left -= k;
}

static uint32_t take_u32(struct state *s)
{
	uint8_t b[4];

	take(s, b, sizeof(b));
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint8_t take_u8(struct state *s)
{
	uint8_t b;

	take(s, &b, 1);
	return b;
}

static void aer_done(void *arg, uint16_t cid, uint32_t dw0)
{
	struct state *s = arg;

	(void)cid;
	(void)dw0;
	CHECK(s->aers_done < s->aers_held);
	s->aers_done++;
}

static void check_status(nvme_status_t st)
{
	CHECK((st & ~0x7fffu) == 0);
}

/* An I/O queue's connection closes: its qid and its reference go. */
static void ioq_gone(struct io_queue *q)
{
	ctrl_queue_gone(q->c, q->qid);
	ctrl_put(q->c);
}

/* The admin queue of admin[i] closes: as conn.c, its I/O queues close too. */
static void admin_gone(struct state *s, unsigned int i)
{
	struct ctrl *c = s->admin[i];

	ctrl_queue_gone(c, 0);
	for (unsigned int k = 0; k < s->nioq;) {
		if (s->ioq[k].c == c) {
			ioq_gone(&s->ioq[k]);
			s->ioq[k] = s->ioq[--s->nioq];
		} else {
			k++;
		}
	}
	ctrl_put(c);
	s->admin[i] = s->admin[--s->nadmin];
}

static void op_connect(struct state *s)
{
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data cd;
	struct ctrl *c = NULL;
	uint32_t dw0 = 0xdeadbeef;
	nvme_status_t st;
	uint16_t qid;

	take(s, &cmd, sizeof(cmd));
	take(s, &cd, sizeof(cd));
	st = ctrl_connect(&s->f.t, &cmd, &cd, &s->f.ci, s->now, &dw0, &c);
	check_status(st);
	if (st != 0) {
		CHECK(c == NULL);
		return;
	}
	CHECK(c != NULL && dw0 == c->cntlid);
	qid = le16toh(cmd.qid);
	if (qid == 0) {
		if (s->nadmin == MAX_ADMIN)
			admin_gone(s, 0);
		c->aer_fn = aer_done;
		c->aer_arg = s;
		s->admin[s->nadmin++] = c;
	} else {
		struct io_queue q = {c, qid};

		if (s->nioq == MAX_IOQ)
			ioq_gone(&q);
		else
			s->ioq[s->nioq++] = q;
	}
}

/* The transfer direction and length cmd.c's check_sgl() would let through; false: refused. */
static bool sgl_len_of(const struct state *s, const struct nvme_sqe *sqe, uint32_t len,
		       uint8_t *dir, uint32_t *out)
{
	uint8_t opc = sqe->opc;

	if (opc == NVME_ADM_FABRICS)
		opc = ((const struct nvmf_fabrics_cmd *)(const void *)sqe)->fctype;
	*dir = opc & NVME_OPC_XFER_MASK;
	if (*dir == NVME_OPC_XFER_BIDIR)
		return false;
	if (len > s->f.t.p.mdts_bytes && len > NVME_TCP_ADMIN_ICD)
		return false;
	*out = *dir == NVME_OPC_XFER_NONE ? 0 : len;
	return true;
}

static void op_admin(struct state *s)
{
	unsigned int idx = take_u8(s);
	uint32_t len = take_u32(s), buf_len;
	struct nvme_sqe sqe;
	struct ctrl_req r;
	enum ctrl_exec e;
	uint8_t *buf = NULL, dir;

	take(s, &sqe, sizeof(sqe));
	if (s->nadmin == 0 || !sgl_len_of(s, &sqe, len, &dir, &buf_len))
		return;
	if (buf_len != 0) {
		buf = malloc(buf_len);
		CHECK(buf != NULL);
		if (dir == NVME_OPC_XFER_H2C)
			take(s, buf, buf_len);
		else
			memset(buf, 0, buf_len);
	}
	memset(&r, 0, sizeof(r));
	r.sqe = &sqe;
	r.buf = buf;
	r.buf_len = buf_len;
	e = ctrl_admin_exec(s->admin[idx % s->nadmin], &r);
	if (e == CTRL_EXEC_HELD) {
		CHECK(sqe.opc == NVME_ADM_ASYNC_EVENT);
		s->aers_held++;
	} else {
		CHECK(e == CTRL_EXEC_DONE);
		check_status(r.status);
		CHECK(r.out_len <= buf_len);
	}
	free(buf);
}

static void check_plan(const struct state *s, const struct ctrl *c, const struct nvme_sqe *sqe,
		       uint32_t sgl_len, const struct io_plan *plan)
{
	const struct ns *ns = plan->ns;
	uint64_t end;

	if (ns == NULL) { /* Flush of every namespace */
		CHECK(plan->op == BE_OP_FLUSH && le32toh(sqe->nsid) == 0xffffffffu);
		return;
	}
	CHECK(subsys_find_ns(c->subsys, ns->nsid) == ns && ns->nsid == le32toh(sqe->nsid));
	CHECK(!ns->read_only || plan->op == BE_OP_READ || plan->op == BE_OP_FLUSH);
	end = plan->offset + plan->len;
	switch (plan->op) {
	case BE_OP_READ:
	case BE_OP_WRITE:
		/* Verify reads the blocks but moves no data: no SGL, no MDTS (NVM 3.2.x, VSL 0) */
		if (plan->kind == IO_KIND_VERIFY)
			CHECK(sgl_len == 0);
		else
			CHECK(plan->len == sgl_len && plan->len <= s->f.t.p.mdts_bytes);
		__attribute__((fallthrough));
	case BE_OP_WRITE_ZEROES:
		CHECK(plan->len > 0 && end > plan->offset && end <= ns->nsze << ns->lba_shift);
		CHECK((plan->offset & ((1u << ns->lba_shift) - 1)) == 0);
		break;
	case BE_OP_DEALLOCATE:
		CHECK((uint64_t)plan->nr_ranges * sizeof(struct nvme_dsm_range) <= sgl_len);
		break;
	default:
		break;
	}
}

static void op_io(struct state *s)
{
	unsigned int idx = take_u8(s);
	uint32_t len = take_u32(s), sgl_len;
	struct nvme_sqe sqe;
	struct io_plan plan;
	struct ctrl *c;
	uint8_t *buf = NULL, dir;
	nvme_status_t st;

	take(s, &sqe, sizeof(sqe));
	if (s->nadmin == 0 || !sgl_len_of(s, &sqe, len, &dir, &sgl_len))
		return;
	c = s->admin[idx % s->nadmin];
	st = io_check(c, &sqe, sgl_len, &plan);
	check_status(st);
	if (st != 0)
		return;
	check_plan(s, c, &sqe, sgl_len, &plan);
	if (plan.op != BE_OP_DEALLOCATE || plan.nr_ranges == 0)
		return;
	/* cmd_io.c: the ranges come in the H2C data */
	buf = malloc(sgl_len);
	CHECK(buf != NULL);
	take(s, buf, sgl_len);
	for (uint32_t i = 0; i < plan.nr_ranges; i++) {
		struct nvme_dsm_range rng;
		uint64_t off, n;

		memcpy(&rng, buf + (size_t)i * sizeof(rng), sizeof(rng));
		st = io_dsm_range(plan.ns, &rng, &off, &n);
		check_status(st);
		if (st == 0)
			CHECK(off + n >= off && off + n <= plan.ns->nsze << plan.ns->lba_shift);
	}
	free(buf);
}

static void op_event(struct state *s)
{
	unsigned int idx = take_u8(s);
	uint32_t nsid = take_u32(s);
	struct ctrl *c;

	if (s->nadmin == 0)
		return;
	c = s->admin[idx % s->nadmin];
	ctrl_notify_ns_changed(c, nsid);
	ctrl_notify_disc_changed(c);
}

static void op_time(struct state *s)
{
	uint32_t ms = take_u8(s) | (uint32_t)take_u8(s) << 8;

	s->now += (int64_t)ms * 10;
	/* conn_tick(): an expired controller dies, then its admin queue closes */
	for (unsigned int i = 0; i < s->nadmin;) {
		struct ctrl *c = s->admin[i];

		if (ctrl_kato_expired(c, s->now)) {
			ctrl_kill(c, "keep-alive timeout");
			admin_gone(s, i);
		} else {
			i++;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state s;

	memset(&s, 0, sizeof(s));
	t_fixture_init(&s.f);
	log_level = LOGL_ERR; /* refusals are logged at WARN: not 10^6 times */
	s.p = data;
	s.left = size;
	s.now = 1000;
	while (s.left > 0) {
		switch (take_u8(&s) % FC_NOPS) {
		case FC_CONNECT:
			op_connect(&s);
			break;
		case FC_ADMIN:
			op_admin(&s);
			break;
		case FC_IO:
			op_io(&s);
			break;
		case FC_EVENT:
			op_event(&s);
			break;
		case FC_GONE:
			if (s.nadmin > 0)
				admin_gone(&s, take_u8(&s) % s.nadmin);
			break;
		case FC_TIME:
			op_time(&s);
			break;
		}
	}
	while (s.nadmin > 0)
		admin_gone(&s, 0);
	while (s.nioq > 0)
		ioq_gone(&s.ioq[--s.nioq]);
	t_fixture_fini(&s.f);
	return 0;
}
