/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/pdu_{rx,tx}.c: every PDU type built, flattened and received
 * again, with and without digests and PDO padding, in every chunking; the
 * data digest, direct placement and TermReq paths. Validation errors are in
 * test_pdu_errors.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include <endian.h>
#include "pdu.h"
#include "t_pdu_util.h"

#define BIG 20000

static uint8_t payload[BIG];

/* One PDU to send and what its receiver must see. */
struct sample {
	const char *what;
	bool to_controller; /* the receiver is the controller */
	bool ic;	    /* ICReq / ICResp: received before tcp_rx_ic_done() */
	uint32_t data_len;
};

static const struct sample samples[] = {
	{"ICReq", true, true, 0},
	{"CapsuleCmd", true, false, 0},
	{"CapsuleCmd+ICD", true, false, 4096},
	{"CapsuleCmd+ICD odd", true, false, 1},
	{"H2CData", true, false, 8192},
	{"H2CTermReq", true, false, 24},
	{"ICResp", false, true, 0},
	{"CapsuleResp", false, false, 0},
	{"C2HData", false, false, 12345},
	{"C2HData+SUCCESS", false, false, 3},
	{"R2T", false, false, 0},
	{"C2HTermReq", false, false, 0},
};

static void build_sample(struct tcp_tx_pdu *t, const struct sample *s,
			 const struct tcp_conn_params *p)
{
	struct nvme_sqe sqe = {.opc = 0x01, .cid = 0xbeef, .nsid = htole32(1)};
	struct nvme_cqe cqe = {.dw0 = htole32(0x12345678), .sqhd = htole16(7), .cid = 0xbeef};
	uint8_t bad[24] = {0x04, 0x00, 0x10};

	if (strcmp(s->what, "ICReq") == 0)
		tcp_build_icreq(t, 0, 3, 0);
	else if (strncmp(s->what, "CapsuleCmd", 10) == 0)
		tcp_build_cmd(t, p, &sqe, s->data_len ? payload : NULL, s->data_len);
	else if (strcmp(s->what, "H2CData") == 0)
		tcp_build_h2c_data(t, p, 0xbeef, 0x0102, 4096, payload, s->data_len, true);
	else if (strcmp(s->what, "H2CTermReq") == 0)
		tcp_build_term_req(t, NVME_TCP_H2C_TERM, NVME_TCP_FES_INVALID_PDU_HDR, 2, bad, 24);
	else if (strcmp(s->what, "ICResp") == 0)
		tcp_build_icresp(t, 0, 3, 65536);
	else if (strcmp(s->what, "CapsuleResp") == 0)
		tcp_build_rsp(t, p, &cqe);
	else if (strcmp(s->what, "C2HData") == 0)
		tcp_build_c2h_data(t, p, 0xbeef, 0, payload, s->data_len, NVME_TCP_F_DATA_LAST);
	else if (strcmp(s->what, "C2HData+SUCCESS") == 0)
		tcp_build_c2h_data(t, p, 0xbeef, 0, payload, s->data_len,
				   NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	else if (strcmp(s->what, "R2T") == 0)
		tcp_build_r2t(t, p, 0xbeef, 0x0102, 0, 65536);
	else if (strcmp(s->what, "C2HTermReq") == 0)
		tcp_build_term_req(t, NVME_TCP_C2H_TERM, NVME_TCP_FES_PDU_SEQ_ERR, 0, NULL, 0);
	else
		fail_msg("unknown sample %s", s->what);
}

/* The received PDU matches what was built. */
static void check_same(const struct sample *s, const struct tcp_tx_pdu *t, const struct t_rx_pdu *r,
		       bool discard)
{
	uint8_t hlen = t->hdr.ch.hlen;

	assert_memory_equal(r->hdr.raw, t->hdr.raw, hlen);
	assert_false(r->ddgst_err);
	assert_int_equal(r->data_len, s->data_len);
	assert_int_equal(r->had_header, s->data_len > 0);
	if (s->data_len == 0 || discard)
		return;
	if (t->hdr.ch.pdu_type == NVME_TCP_H2C_TERM)
		assert_memory_equal(r->data, t->term_data, s->data_len);
	else
		assert_memory_equal(r->data, payload, s->data_len);
}

static void rx_for(struct tcp_rx *rx, const struct sample *s, const struct tcp_conn_params *p)
{
	tcp_rx_init(rx, p);
	if (!s->ic)
		tcp_rx_ic_done(rx);
}

/* Build s with (hd, dd, pda), feed it whole, 1 byte at a time, randomly. */
static void round_trip(const struct sample *s, bool hd, bool dd, uint8_t pda)
{
	struct tcp_conn_params tx = t_params(!s->to_controller, hd, dd, pda);
	struct tcp_conn_params rxp = t_params(s->to_controller, hd, dd, pda);
	static uint8_t wire[BIG + 512];
	struct tcp_tx_pdu t;
	struct t_rx_run run;
	struct tcp_rx rx;
	uint32_t seed = 1;
	size_t n;

	if (s->ic)
		tx = rxp = t_params(s->to_controller, false, false, 0);
	build_sample(&t, s, &tx);
	n = t_flatten(&t, wire, sizeof(wire));
	assert_int_equal(le32toh(t.hdr.ch.plen), n);

	t_chunker chunkers[] = {t_chunk_all, t_chunk_one, t_chunk_random, t_chunk_random};
	for (size_t c = 0; c < sizeof(chunkers) / sizeof(chunkers[0]); c++) {
		for (int discard = 0; discard <= 1; discard++) {
			rx_for(&rx, s, &rxp);
			t_feed(&rx, wire, n, chunkers[c], &seed, discard, &run);
			assert_int_equal(run.err, 0);
			assert_int_equal(run.npdu, 1);
			check_same(s, &t, &run.pdu[0], discard);
			t_run_free(&run);
		}
	}
}

static void test_round_trip_all(void **state)
{
	static const uint8_t pdas[] = {0, 1, 3, 31};

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		for (int hd = 0; hd <= 1; hd++)
			for (int dd = 0; dd <= 1; dd++)
				for (size_t a = 0; a < sizeof(pdas); a++)
					round_trip(&samples[i], hd, dd, pdas[a]);
}

/* Small PDUs: split at every offset into two feeds. */
static void test_every_split_point(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		struct tcp_conn_params p = t_params(!s->to_controller, !s->ic, !s->ic, 0);
		struct tcp_conn_params rp = p;
		uint8_t wire[8192 + 256];
		struct tcp_tx_pdu t;
		struct tcp_rx rx;
		size_t n;

		if (s->data_len > 4096)
			continue;
		rp.controller = s->to_controller;
		build_sample(&t, s, &p);
		n = t_flatten(&t, wire, sizeof(wire));
		for (size_t split = 1; split < n; split++) {
			struct t_rx_run run;
			size_t sp = split;

			rx_for(&rx, s, &rp);
			t_feed(&rx, wire, n, t_chunk_split, &sp, false, &run);
			assert_int_equal(run.err, 0);
			assert_int_equal(run.npdu, 1);
			check_same(s, &t, &run.pdu[0], false);
			t_run_free(&run);
		}
	}
}

/* The header fields come out little-endian at their spec offsets. */
static void test_builder_fields(void **state)
{
	struct tcp_conn_params p = t_params(false, true, true, 0);
	struct tcp_tx_pdu t;
	uint8_t w[256];

	(void)state;
	tcp_build_h2c_data(&t, &p, 0x1122, 0x3344, 0x01020304, payload, 100, true);
	t_flatten(&t, w, sizeof(w));
	assert_int_equal(w[0], NVME_TCP_H2C_DATA);
	assert_int_equal(w[1], NVME_TCP_F_HDGST | NVME_TCP_F_DDGST | NVME_TCP_F_DATA_LAST);
	assert_int_equal(w[2], 24);
	assert_int_equal(w[3], 28);
	assert_int_equal(get_le32(w + 4), 28 + 100 + 4);
	assert_int_equal(get_le32(w + 12), 0x01020304);
	assert_int_equal(get_le32(w + 16), 100);
	assert_int_equal(get_le32(w + 24), tcp_digest(w, 24));
	assert_int_equal(get_le32(w + 128), tcp_digest(payload, 100));
	assert_int_equal(t.iovcnt, 3);
	assert_ptr_equal(t.iov[1].iov_base, payload); /* referenced, not copied */

	/* No data: PDO 0, no DDGSTF even with data digests on. */
	tcp_build_r2t(&t, &p, 1, 2, 0, 4096);
	assert_int_equal(t.hdr.ch.flags, NVME_TCP_F_HDGST);
	assert_int_equal(t.hdr.ch.pdo, 0);
	assert_int_equal(le32toh(t.hdr.ch.plen), 28);
	assert_int_equal(t.iovcnt, 1);
}

/* txpda: PDO rounded up to (txpda + 1) * 4, the gap filled with zeros. */
static void test_builder_padding(void **state)
{
	struct tcp_conn_params p = t_params(false, true, false, 31);
	struct tcp_tx_pdu t;
	uint8_t w[512];
	size_t n;

	(void)state;
	tcp_build_cmd(&t, &p, &(struct nvme_sqe){.opc = 1}, payload, 64);
	n = t_flatten(&t, w, sizeof(w));
	assert_int_equal(t.hdr.ch.pdo, 128);
	assert_int_equal(n, 128 + 64);
	assert_int_equal(t.iovcnt, 3);
	for (size_t i = 76; i < 128; i++)
		assert_int_equal(w[i], 0);
	assert_memory_equal(w + 128, payload, 64);

	p.txpda = 3; /* 16-byte alignment: 24 + 4 -> 32 */
	tcp_build_c2h_data(&t, &p, 1, 0, payload, 10, NVME_TCP_F_DATA_LAST);
	assert_int_equal(t.hdr.ch.pdo, 32);
	p.txpda = 0;
	tcp_build_c2h_data(&t, &p, 1, 0, payload, 10, NVME_TCP_F_DATA_LAST);
	assert_int_equal(t.hdr.ch.pdo, 28);
}

/*
 * tcp_build_c2h_data_copy: the same bytes on the wire as tcp_build_c2h_data
 * over the copy, with and without digests; the PDU refers to the copy, so
 * changing the source afterwards changes nothing that is sent.
 */
static void test_c2h_copy(void **state)
{
	static uint8_t src[3 * 4096 + 5], dst[sizeof(src)], w1[sizeof(src) + 64],
		w2[sizeof(src) + 64];

	(void)state;
	for (int dd = 0; dd <= 1; dd++) {
		struct tcp_conn_params p = t_params(true, dd == 0, dd == 1, 0);
		struct tcp_tx_pdu a, b;
		size_t n1, n2;

		t_fill(src, sizeof(src), 9 + (uint32_t)dd);
		memset(dst, 0, sizeof(dst));
		tcp_build_c2h_data_copy(&a, &p, 0x1234, 4096, dst, src, sizeof(src),
					NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
		assert_memory_equal(dst, src, sizeof(src));
		tcp_build_c2h_data(&b, &p, 0x1234, 4096, src, sizeof(src),
				   NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
		n1 = t_flatten(&a, w1, sizeof(w1));
		n2 = t_flatten(&b, w2, sizeof(w2));
		assert_int_equal(n1, n2);
		assert_memory_equal(w1, w2, n1);
		memset(src, 0xee, sizeof(src));
		assert_int_equal(t_flatten(&a, w2, sizeof(w2)), n1);
		assert_memory_equal(w1, w2, n1);
	}
}

/* Several PDUs back to back in one buffer, in random chunks. */
static void test_back_to_back(void **state)
{
	struct tcp_conn_params p = t_params(false, true, true, 0);
	struct tcp_conn_params rp = t_params(true, true, true, 0);
	static uint8_t wire[4 * BIG];
	struct nvme_sqe sqe = {.opc = 1};
	struct tcp_tx_pdu t;
	uint32_t seed = 7;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 12; i++) {
		sqe.cid = (uint16_t)i;
		switch (i % 3) {
		case 0:
			tcp_build_cmd(&t, &p, &sqe, NULL, 0);
			break;
		case 1:
			tcp_build_cmd(&t, &p, &sqe, payload, 100u + (uint32_t)i);
			break;
		default:
			tcp_build_h2c_data(&t, &p, sqe.cid, 3, 0, payload, 4000, true);
			break;
		}
		n += t_flatten(&t, wire + n, sizeof(wire) - n);
	}
	for (int round = 0; round < 50; round++) {
		struct t_rx_run run;
		struct tcp_rx rx;

		tcp_rx_init(&rx, &rp);
		tcp_rx_ic_done(&rx);
		t_feed(&rx, wire, n, round == 0 ? t_chunk_all : t_chunk_random, &seed, false, &run);
		assert_int_equal(run.err, 0);
		assert_int_equal(run.npdu, 12);
		for (int i = 0; i < 12; i++) {
			const struct t_rx_pdu *r = &run.pdu[i];

			assert_false(r->ddgst_err);
			if (i % 3 == 2) {
				assert_int_equal(r->hdr.ch.pdu_type, NVME_TCP_H2C_DATA);
				assert_int_equal(r->hdr.h2c.cccid, i);
				assert_memory_equal(r->data, payload, 4000);
			} else {
				assert_int_equal(r->hdr.cmd.sqe.cid, i);
				assert_int_equal(r->data_len, i % 3 ? 100 + i : 0);
			}
		}
		t_run_free(&run);
	}
}

/* A bad data digest is reported with the PDU; the stream goes on. */
static void test_ddgst_error_not_fatal(void **state)
{
	struct tcp_conn_params p = t_params(false, false, true, 0);
	struct tcp_conn_params rp = t_params(true, false, true, 0);
	uint8_t wire[3000];
	struct tcp_tx_pdu t;
	struct t_rx_run run;
	struct tcp_rx rx;
	size_t n, n1;

	(void)state;
	tcp_build_h2c_data(&t, &p, 1, 2, 0, payload, 1000, false);
	n1 = t_flatten(&t, wire, sizeof(wire));
	wire[n1 - 1] ^= 0x80; /* the digest's top byte */
	tcp_build_h2c_data(&t, &p, 1, 2, 1000, payload, 1000, true);
	n = n1 + t_flatten(&t, wire + n1, sizeof(wire) - n1);

	for (int discard = 0; discard <= 1; discard++) {
		uint32_t seed = 3;

		tcp_rx_init(&rx, &rp);
		tcp_rx_ic_done(&rx);
		t_feed(&rx, wire, n, t_chunk_random, &seed, discard, &run);
		assert_int_equal(run.err, 0);
		assert_int_equal(run.npdu, 2);
		assert_true(run.pdu[0].ddgst_err);
		assert_false(run.pdu[1].ddgst_err);
		if (!discard)
			assert_memory_equal(run.pdu[0].data, payload, 1000);
		t_run_free(&run);
	}

	/* A flipped data byte, not the digest. */
	tcp_build_c2h_data(&t, &p, 1, 0, payload, 1000, NVME_TCP_F_DATA_LAST);
	n = t_flatten(&t, wire, sizeof(wire));
	wire[24 + 500] ^= 1;
	rp.controller = false;
	tcp_rx_init(&rx, &rp);
	tcp_rx_ic_done(&rx);
	t_feed(&rx, wire, n, t_chunk_one, NULL, false, &run);
	assert_int_equal(run.err, 0);
	assert_int_equal(run.npdu, 1);
	assert_true(run.pdu[0].ddgst_err);
	t_run_free(&run);
}

/* Feed exactly n bytes; expect them consumed and event ev. */
static void feed_expect(struct tcp_rx *rx, const uint8_t *p, size_t n, enum tcp_rx_event want)
{
	enum tcp_rx_event ev;

	assert_int_equal(tcp_rx_feed(rx, p, n, &ev), n);
	assert_int_equal(ev, want);
}

/* io_uring style: payload received straight into the destination. */
static void direct_place(uint8_t pda, bool dd, uint32_t piece)
{
	struct tcp_conn_params p = t_params(false, true, dd, pda);
	struct tcp_conn_params rp = t_params(true, true, dd, pda);
	static uint8_t wire[BIG + 256], dst[BIG];
	struct tcp_tx_pdu t;
	struct tcp_rx rx;
	uint32_t len = 10000, off, hdr_len = 24 + 4;
	void *where;

	tcp_build_h2c_data(&t, &p, 1, 2, 0, payload, len, true);
	t_flatten(&t, wire, sizeof(wire));
	tcp_rx_init(&rx, &rp);
	assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), 0); /* before ICReq: no H2CData */
	tcp_rx_ic_done(&rx);
	/* between PDUs: exactly the next H2CData's header, digest and padding */
	assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), t.hdr.ch.pdo);
	feed_expect(&rx, wire, 1, TCP_RX_NEED_MORE);
	assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), 0); /* inside a header */
	feed_expect(&rx, wire + 1, hdr_len - 1, TCP_RX_HEADER);
	assert_int_equal(tcp_rx_data_wanted(&rx, &where), 0); /* no destination yet */
	memset(dst, 0, len);
	tcp_rx_set_data(&rx, dst);
	off = hdr_len;
	if (t.hdr.ch.pdo > hdr_len) {
		/* Padding first goes through tcp_rx_feed(). */
		assert_int_equal(tcp_rx_data_wanted(&rx, &where), 0);
		assert_null(where);
		feed_expect(&rx, wire + off, t.hdr.ch.pdo - hdr_len, TCP_RX_NEED_MORE);
		off = t.hdr.ch.pdo;
	}
	for (uint32_t done = 0; done < len;) {
		uint32_t want = tcp_rx_data_wanted(&rx, &where), n = want < piece ? want : piece;

		assert_int_equal(want, len - done);
		assert_ptr_equal(where, dst + done);
		memcpy(where, wire + off, n); /* what recv() would have done */
		tcp_rx_data_placed(&rx, n);
		done += n;
		off += n;
	}
	assert_int_equal(tcp_rx_data_wanted(&rx, &where), 0);
	assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), 0); /* inside the data */
	if (dd) {
		feed_expect(&rx, NULL, 0, TCP_RX_NEED_MORE);
		/* the data digest, then the next header */
		assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), 4 + t.hdr.ch.pdo);
		feed_expect(&rx, wire + off, 1, TCP_RX_NEED_MORE);
		assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), 3 + t.hdr.ch.pdo);
		feed_expect(&rx, wire + off + 1, 3, TCP_RX_PDU);
	} else {
		feed_expect(&rx, NULL, 0, TCP_RX_PDU); /* len 0 completes the PDU */
	}
	assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), t.hdr.ch.pdo);
	assert_false(rx.ddgst_err);
	assert_memory_equal(dst, payload, len);
	/* a host receives no H2CData */
	tcp_rx_init(&rx, &p);
	tcp_rx_ic_done(&rx);
	assert_int_equal(tcp_rx_h2c_hdr_wanted(&rx), 0);
}

static void test_direct_placement(void **state)
{
	(void)state;
	direct_place(0, true, 10000);
	direct_place(0, true, 1);
	direct_place(0, false, 4096);
	direct_place(3, true, 999);
	direct_place(31, false, 7);
}

/* Placement followed by a corrupted digest is still only ddgst_err. */
static void test_direct_placement_bad_digest(void **state)
{
	struct tcp_conn_params p = t_params(false, false, true, 0);
	struct tcp_conn_params rp = t_params(true, false, true, 0);
	uint8_t wire[512], dst[256];
	struct tcp_tx_pdu t;
	struct tcp_rx rx;
	void *where;

	(void)state;
	tcp_build_h2c_data(&t, &p, 1, 2, 0, payload, 256, true);
	t_flatten(&t, wire, sizeof(wire));
	tcp_rx_init(&rx, &rp);
	tcp_rx_ic_done(&rx);
	feed_expect(&rx, wire, 24, TCP_RX_HEADER);
	tcp_rx_set_data(&rx, dst);
	assert_int_equal(tcp_rx_data_wanted(&rx, &where), 256);
	memcpy(where, wire + 24, 256);
	dst[0] ^= 0xff; /* corrupted "in flight" */
	tcp_rx_data_placed(&rx, 256);
	feed_expect(&rx, wire + 24 + 256, 4, TCP_RX_PDU);
	assert_true(rx.ddgst_err);
}

/* Bytes between TCP_RX_HEADER and tcp_rx_set_data() are refused. */
static void test_feed_before_set_data(void **state)
{
	struct tcp_conn_params p = t_params(false, false, false, 0);
	struct tcp_conn_params rp = t_params(true, false, false, 0);
	uint8_t wire[512], dst[100];
	struct tcp_tx_pdu t;
	enum tcp_rx_event ev;
	struct tcp_rx rx;

	(void)state;
	tcp_build_cmd(&t, &p, &(struct nvme_sqe){.opc = 1}, payload, 100);
	t_flatten(&t, wire, sizeof(wire));
	tcp_rx_init(&rx, &rp);
	tcp_rx_ic_done(&rx);
	assert_int_equal(tcp_rx_feed(&rx, wire, sizeof(wire), &ev), 72);
	assert_int_equal(ev, TCP_RX_HEADER);
	assert_int_equal(tcp_rx_feed(&rx, wire + 72, 100, &ev), -EINVAL);
	tcp_rx_set_data(&rx, dst);
	assert_int_equal(tcp_rx_feed(&rx, wire + 72, 100, &ev), 100);
	assert_int_equal(ev, TCP_RX_PDU);
	assert_memory_equal(dst, payload, 100);
}

/* TermReq: byte layout, truncation to 128 bytes, never digests. */
static void test_term_req_build(void **state)
{
	uint8_t bad[200], w[256];
	struct tcp_tx_pdu t;
	size_t n;

	(void)state;
	t_fill(bad, sizeof(bad), 5);
	tcp_build_term_req(&t, NVME_TCP_C2H_TERM, NVME_TCP_FES_HDR_DIGEST_ERR, 0xa1b2c3d4, bad,
			   sizeof(bad));
	n = t_flatten(&t, w, sizeof(w));
	assert_int_equal(n, 152);
	assert_int_equal(w[0], NVME_TCP_C2H_TERM);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 24);
	assert_int_equal(w[3], 0);
	assert_int_equal(get_le32(w + 4), 152);
	assert_int_equal(get_le16(w + 8), NVME_TCP_FES_HDR_DIGEST_ERR);
	static const uint8_t fei[4] = {0xd4, 0xc3, 0xb2, 0xa1}; /* LE at the odd offset 10 */
	assert_memory_equal(w + 10, fei, 4);
	for (int i = 14; i < 24; i++)
		assert_int_equal(w[i], 0);
	assert_memory_equal(w + 24, bad, 128);

	tcp_build_term_req(&t, NVME_TCP_H2C_TERM, NVME_TCP_FES_PDU_SEQ_ERR, 0, bad, 8);
	assert_int_equal(t.len, 32);
	assert_int_equal(t.iovcnt, 2);
	tcp_build_term_req(&t, NVME_TCP_H2C_TERM, NVME_TCP_FES_PDU_SEQ_ERR, 0, NULL, 8);
	assert_int_equal(t.len, 24);
	assert_int_equal(le32toh(t.hdr.ch.plen), 24);
}

/*
 * A fatal error's TermReq carries the offending header: receive garbage,
 * build the TermReq from rx, and have the peer receive that TermReq
 * (before IC too: a TermReq is accepted in any state).
 */
static void test_term_req_from_error(void **state)
{
	struct tcp_conn_params cp = t_params(true, true, false, 0);
	struct tcp_conn_params hp = t_params(false, true, false, 0);
	struct tcp_tx_pdu t;
	struct t_rx_run run;
	struct tcp_rx rx;
	uint8_t w[256];
	size_t n;

	(void)state;
	tcp_build_rsp(&t, &hp, &(struct nvme_cqe){.cid = 1}); /* a C2H PDU sent to a controller */
	n = t_flatten(&t, w, sizeof(w));
	tcp_rx_init(&rx, &cp);
	tcp_rx_ic_done(&rx);
	t_feed(&rx, w, n, t_chunk_all, NULL, false, &run);
	assert_int_equal(run.err, -EBADMSG);
	assert_int_equal(rx.fes, NVME_TCP_FES_INVALID_PDU_HDR);
	assert_int_equal(rx.fei, 0);
	assert_int_equal(tcp_rx_bad_hdr_len(&rx), 8);

	tcp_build_term_req(&t, NVME_TCP_C2H_TERM, rx.fes, rx.fei, rx.hdr.raw,
			   tcp_rx_bad_hdr_len(&rx));
	n = t_flatten(&t, w, sizeof(w));
	tcp_rx_init(&rx, &hp); /* not even IC done */
	t_feed(&rx, w, n, t_chunk_one, NULL, false, &run);
	assert_int_equal(run.err, 0);
	assert_int_equal(run.npdu, 1);
	assert_int_equal(run.pdu[0].hdr.ch.pdu_type, NVME_TCP_C2H_TERM);
	assert_int_equal(get_le16(&run.pdu[0].hdr.term.fes), NVME_TCP_FES_INVALID_PDU_HDR);
	assert_int_equal(run.pdu[0].data_len, 8);
	assert_int_equal(run.pdu[0].data[0], NVME_TCP_RSP);
	t_run_free(&run);
}

/* After a fatal error every call repeats it and consumes nothing. */
static void test_error_is_sticky(void **state)
{
	struct tcp_conn_params cp = t_params(true, false, false, 0);
	uint8_t junk[64] = {0x42};
	enum tcp_rx_event ev;
	struct tcp_rx rx;

	(void)state;
	tcp_rx_init(&rx, &cp);
	assert_int_equal(tcp_rx_feed(&rx, junk, sizeof(junk), &ev), -EBADMSG);
	assert_int_equal(rx.state, TCP_RX_ERROR);
	assert_int_equal(tcp_rx_feed(&rx, junk, sizeof(junk), &ev), -EBADMSG);
	assert_int_equal(tcp_rx_feed(&rx, junk, 0, &ev), -EBADMSG);
	assert_string_equal(tcp_rx_state_name(rx.state), "ERROR");
}

/* Zero-length feeds and partial headers report NEED_MORE. */
static void test_need_more(void **state)
{
	struct tcp_conn_params cp = t_params(true, false, false, 0);
	struct tcp_tx_pdu t;
	enum tcp_rx_event ev;
	struct tcp_rx rx;
	uint8_t w[128];

	(void)state;
	tcp_build_icreq(&t, 0, 0, 0);
	t_flatten(&t, w, sizeof(w));
	tcp_rx_init(&rx, &cp);
	assert_int_equal(tcp_rx_feed(&rx, w, 0, &ev), 0);
	assert_int_equal(ev, TCP_RX_NEED_MORE);
	assert_int_equal(tcp_rx_feed(&rx, w, 100, &ev), 100);
	assert_int_equal(ev, TCP_RX_NEED_MORE);
	assert_int_equal(rx.state, TCP_RX_PSH);
	assert_int_equal(tcp_rx_feed(&rx, w + 100, 28, &ev), 28);
	assert_int_equal(ev, TCP_RX_PDU);
	assert_int_equal(rx.hdr.icreq.dgst, 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tcp_pdu_type_name(NVME_TCP_ICREQ), "ICReq");
	assert_string_equal(tcp_pdu_type_name(NVME_TCP_CMD), "CapsuleCmd");
	assert_string_equal(tcp_pdu_type_name(NVME_TCP_R2T), "R2T");
	assert_string_equal(tcp_pdu_type_name(8), "Unknown");
	assert_string_equal(tcp_fes_name(NVME_TCP_FES_INVALID_PDU_HDR), "Invalid PDU Header Field");
	assert_string_equal(tcp_fes_name(NVME_TCP_FES_HDR_DIGEST_ERR), "Header Digest Error");
	assert_string_equal(tcp_fes_name(0), "Unknown");
	assert_string_equal(tcp_rx_state_name(TCP_RX_CH), "CH");
	assert_string_equal(tcp_rx_state_name((enum tcp_rx_state)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_all),
		cmocka_unit_test(test_every_split_point),
		cmocka_unit_test(test_builder_fields),
		cmocka_unit_test(test_builder_padding),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_c2h_copy),
		cmocka_unit_test(test_ddgst_error_not_fatal),
		cmocka_unit_test(test_direct_placement),
		cmocka_unit_test(test_direct_placement_bad_digest),
		cmocka_unit_test(test_feed_before_set_data),
		cmocka_unit_test(test_term_req_build),
		cmocka_unit_test(test_term_req_from_error),
		cmocka_unit_test(test_error_is_sticky),
		cmocka_unit_test(test_need_more),
		cmocka_unit_test(test_names),
	};

	t_fill(payload, sizeof(payload), 0x1234);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
