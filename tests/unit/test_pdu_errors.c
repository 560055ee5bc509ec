/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/pdu_rx.c validation, table driven: a valid PDU is built, a few
 * bytes are patched, and the receiver must report the lowest incorrect
 * field with the FES / FEI of NVMe/TCP 1.0 Figures 27 / 29 (FEI: byte offset
 * for FES 01h and 06h, the received header digest for 03h, else 0).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include <endian.h>
#include "pdu.h"
#include "t_pdu_util.h"

enum kind { ICREQ, ICRESP, CMD, RSP, H2C, C2H, R2T, TERM_H2C, TERM_C2H };

#define C  true	 /* the receiver is the controller */
#define H  false /* the receiver is the host */
#define HD 1	 /* header digests */
#define DD 2	 /* data digests */

struct patch {
	uint8_t off, size; /* size 1, 2 or 4 (little-endian); 0 ends the list */
	uint32_t val;
};

struct err_case {
	const char *name;
	bool controller;
	bool ic_done;
	uint8_t rx_dg, tx_dg; /* HD | DD negotiated at the receiver / used by the sender */
	uint8_t pda;
	uint32_t limit; /* when != 0: maxh2cdata, max_icd and max_rx_data */
	enum kind kind;
	uint32_t data_len;
	struct patch patch[3];
	bool fix_hdgst; /* recompute the header digest after patching */
	int ret;
	uint16_t fes;
	uint32_t fei;	 /* FEI_WIRE_HDGST: the digest as found on the wire */
	uint8_t bad_len; /* tcp_rx_bad_hdr_len() (for -EBADMSG) */
};

#define FEI_WIRE_HDGST UINT32_MAX
#define P(o, s, v)     {(o), (s), (v)}
#define TYPE(v)	       P(0, 1, v)
#define FLAGS(v)       P(1, 1, v)
#define HLEN(v)	       P(2, 1, v)
#define PDO(v)	       P(3, 1, v)
#define PLEN(v)	       P(4, 4, v)
#define INV	       NVME_TCP_FES_INVALID_PDU_HDR
#define SEQ	       NVME_TCP_FES_PDU_SEQ_ERR
#define HDG	       NVME_TCP_FES_HDR_DIGEST_ERR
#define LIM	       NVME_TCP_FES_DATA_LIMIT_EXCEEDED
#define UNS	       NVME_TCP_FES_UNSUPPORTED_PARAM
#define BAD(s, i, l)   .ret = -EBADMSG, .fes = (s), .fei = (i), .bad_len = (l)
#define RESET	       .ret = -ECONNRESET

/* One row a case, as the specification lists the fields: kept unwrapped. */
/* clang-format off */
static const struct err_case cases[] = {
	/* PDU-TYPE (offset 0): direction, unknown values, sequence. */
	{"unknown type 08h", C, true, 0, 0, 0, 0, RSP, 0, {TYPE(0x08)}, false, BAD(INV, 0, 8)},
	{"unknown type 0Ah", H, true, 0, 0, 0, 0, RSP, 0, {TYPE(0x0a)}, false, BAD(INV, 0, 8)},
	{"unknown type FFh", H, false, 0, 0, 0, 0, ICRESP, 0, {TYPE(0xff)}, false, BAD(INV, 0, 8)},
	{"ICResp to a controller", C, false, 0, 0, 0, 0, ICRESP, 0, {{0}}, false, BAD(INV, 0, 8)},
	{"CapsuleResp to a controller", C, true, 0, 0, 0, 0, RSP, 0, {{0}}, false, BAD(INV, 0, 8)},
	{"R2T to a controller", C, true, 0, 0, 0, 0, R2T, 0, {{0}}, false, BAD(INV, 0, 8)},
	{"C2HData to a controller", C, true, 0, 0, 0, 0, C2H, 10, {{0}}, false, BAD(INV, 0, 8)},
	{"C2HTermReq to a controller", C, true, 0, 0, 0, 0, TERM_C2H, 0, {{0}}, false,
	 BAD(INV, 0, 8)},
	{"ICReq to a host", H, false, 0, 0, 0, 0, ICREQ, 0, {{0}}, false, BAD(INV, 0, 8)},
	{"CapsuleCmd to a host", H, true, 0, 0, 0, 0, CMD, 0, {{0}}, false, BAD(INV, 0, 8)},
	{"H2CData to a host", H, true, 0, 0, 0, 0, H2C, 10, {{0}}, false, BAD(INV, 0, 8)},
	{"H2CTermReq to a host", H, true, 0, 0, 0, 0, TERM_H2C, 0, {{0}}, false, BAD(INV, 0, 8)},
	{"CapsuleCmd before ICReq", C, false, 0, 0, 0, 0, CMD, 0, {{0}}, false, BAD(SEQ, 0, 8)},
	{"H2CData before ICReq", C, false, 0, 0, 0, 0, H2C, 10, {{0}}, false, BAD(SEQ, 0, 8)},
	{"CapsuleResp before ICResp", H, false, 0, 0, 0, 0, RSP, 0, {{0}}, false, BAD(SEQ, 0, 8)},
	{"second ICReq", C, true, 0, 0, 0, 0, ICREQ, 0, {{0}}, false, BAD(SEQ, 0, 8)},
	{"second ICResp", H, true, HD, 0, 0, 0, ICRESP, 0, {{0}}, false, BAD(SEQ, 0, 8)},
	{"type before flags", C, false, 0, 0, 0, 0, CMD, 0, {FLAGS(0xff)}, false, BAD(SEQ, 0, 8)},

	/* FLAGS (offset 1). */
	{"ICReq with HDGSTF", C, false, 0, 0, 0, 0, ICREQ, 0, {FLAGS(1)}, false, BAD(INV, 1, 8)},
	{"ICResp with flag 80h", H, false, 0, 0, 0, 0, ICRESP, 0, {FLAGS(0x80)}, false,
	 BAD(INV, 1, 8)},
	{"CapsuleCmd with LAST_PDU", C, true, 0, 0, 0, 0, CMD, 0, {FLAGS(4)}, false,
	 BAD(INV, 1, 8)},
	{"CapsuleResp with DDGSTF", H, true, DD, DD, 0, 0, RSP, 0, {FLAGS(2)}, false,
	 BAD(INV, 1, 8)},
	{"R2T with LAST_PDU", H, true, 0, 0, 0, 0, R2T, 0, {FLAGS(4)}, false, BAD(INV, 1, 8)},
	{"H2CData with SUCCESS", C, true, 0, 0, 0, 0, H2C, 10, {FLAGS(0x0c)}, false,
	 BAD(INV, 1, 8)},
	{"C2HData SUCCESS without LAST", H, true, 0, 0, 0, 0, C2H, 10, {FLAGS(0x08)}, false,
	 BAD(INV, 1, 8)},
	{"HDGSTF missing", C, true, HD, 0, 0, 0, CMD, 0, {{0}}, false, BAD(INV, 1, 8)},
	{"HDGSTF not negotiated", C, true, 0, HD, 0, 0, CMD, 0, {{0}}, false, BAD(INV, 1, 8)},
	{"HDGSTF missing on R2T", H, true, HD | DD, DD, 0, 0, R2T, 0, {{0}}, false,
	 BAD(INV, 1, 8)},
	{"DDGSTF not negotiated", C, true, 0, DD, 0, 0, CMD, 100, {{0}}, false, BAD(INV, 1, 8)},
	{"DDGSTF missing with data", C, true, DD, 0, 0, 0, H2C, 100, {{0}}, false,
	 BAD(INV, 1, 8)},
	{"DDGSTF missing on C2HData", H, true, HD | DD, HD, 0, 0, C2H, 1, {{0}}, false,
	 BAD(INV, 1, 8)},
	{"flags before hlen", C, true, 0, 0, 0, 0, CMD, 0, {FLAGS(4), HLEN(24)}, false,
	 BAD(INV, 1, 8)},

	/* HLEN (offset 2). */
	{"CapsuleCmd hlen 24", C, true, 0, 0, 0, 0, CMD, 0, {HLEN(24)}, false, BAD(INV, 2, 8)},
	{"ICReq hlen 127", C, false, 0, 0, 0, 0, ICREQ, 0, {HLEN(127)}, false, BAD(INV, 2, 8)},
	{"H2CData hlen 28", C, true, 0, 0, 0, 0, H2C, 10, {HLEN(28)}, false, BAD(INV, 2, 8)},
	{"CapsuleResp hlen 72", H, true, 0, 0, 0, 0, RSP, 0, {HLEN(72)}, false, BAD(INV, 2, 8)},
	{"R2T hlen 0", H, true, 0, 0, 0, 0, R2T, 0, {HLEN(0)}, false, BAD(INV, 2, 8)},
	{"hlen before pdo", H, true, 0, 0, 0, 0, RSP, 0, {HLEN(0), PDO(9)}, false, BAD(INV, 2, 8)},

	/* PDO (offset 3). */
	{"CapsuleResp pdo 24", H, true, 0, 0, 0, 0, RSP, 0, {PDO(24)}, false, BAD(INV, 3, 8)},
	{"ICReq pdo 128", C, false, 0, 0, 0, 0, ICREQ, 0, {PDO(128)}, false, BAD(INV, 3, 8)},
	{"R2T pdo 4", H, true, 0, 0, 0, 0, R2T, 0, {PDO(4)}, false, BAD(INV, 3, 8)},
	{"ICD pdo inside the header", C, true, 0, 0, 0, 0, CMD, 100, {PDO(8)}, false,
	 BAD(INV, 3, 8)},
	{"ICD pdo inside the HDGST", C, true, HD, HD, 0, 0, CMD, 100, {PDO(72)}, false,
	 BAD(INV, 3, 8)},
	{"H2CData pdo over the HDGST", C, true, HD, HD, 0, 0, H2C, 100, {PDO(24)}, false,
	 BAD(INV, 3, 8)},
	{"ICD pdo == plen", C, true, 0, 0, 0, 0, CMD, 4, {PDO(76)}, false, BAD(INV, 3, 8)},
	{"ICD pdo > plen", C, true, 0, 0, 0, 0, CMD, 4, {PDO(200)}, false, BAD(INV, 3, 8)},
	{"ICD pdo not PDA aligned", C, true, 0, 0, 3, 0, CMD, 100, {PDO(76)}, false,
	 BAD(INV, 3, 8)},
	{"C2H pdo not PDA aligned", H, true, HD, HD, 31, 0, C2H, 100, {PDO(64)}, false,
	 BAD(INV, 3, 8)},
	/* TCP 3.6.2.2-3: PDA 0 is dword alignment: a PDO of 74 or 26 is not a multiple of 4 */
	{"ICD pdo 74 with CPDA 0", C, true, 0, 0, 0, 0, CMD, 100, {PDO(74)}, false,
	 BAD(INV, 3, 8)},
	{"H2CData pdo 26 with CPDA 0", C, true, 0, 0, 0, 0, H2C, 100, {PDO(26)}, false,
	 BAD(INV, 3, 8)},
	{"C2HData pdo 25 with HPDA 0", H, true, 0, 0, 0, 0, C2H, 100, {PDO(25)}, false,
	 BAD(INV, 3, 8)},
	{"CapsuleCmd without data, pdo 72", C, true, 0, 0, 0, 0, CMD, 0, {PDO(72)}, false,
	 BAD(INV, 3, 8)},
	{"pdo before plen", H, true, 0, 0, 0, 0, RSP, 0, {PDO(4), PLEN(100)}, false,
	 BAD(INV, 3, 8)},

	/* PLEN (offset 4). */
	{"ICReq plen 129", C, false, 0, 0, 0, 0, ICREQ, 0, {PLEN(129)}, false, BAD(INV, 4, 8)},
	{"ICResp plen 0", H, false, 0, 0, 0, 0, ICRESP, 0, {PLEN(0)}, false, BAD(INV, 4, 8)},
	{"CapsuleResp plen 28", H, true, 0, 0, 0, 0, RSP, 0, {PLEN(28)}, false, BAD(INV, 4, 8)},
	{"CapsuleResp plen 24 with HDGST", H, true, HD, HD, 0, 0, RSP, 0, {PLEN(24)}, false,
	 BAD(INV, 4, 8)},
	{"R2T plen 23", H, true, 0, 0, 0, 0, R2T, 0, {PLEN(23)}, false, BAD(INV, 4, 8)},
	{"R2T plen 4 GiB", H, true, 0, 0, 0, 0, R2T, 0, {PLEN(0xffffffff)}, false,
	 BAD(INV, 4, 8)},
	{"CapsuleCmd plen < hlen", C, true, 0, 0, 0, 0, CMD, 0, {PLEN(50)}, false,
	 BAD(INV, 4, 8)},
	{"DDGST but no data byte", C, true, DD, DD, 0, 0, CMD, 1, {PLEN(76)}, false,
	 BAD(INV, 4, 8)},
	{"DDGSTF without data", C, true, DD, DD, 0, 0, CMD, 0, {FLAGS(2)}, false,
	 BAD(INV, 4, 8)},

	/* Header digest: FEI is the digest received. */
	{"HDGST mismatch (PSH byte)", C, true, HD, HD, 0, 0, CMD, 0, {P(20, 1, 0x55)}, false,
	 BAD(HDG, FEI_WIRE_HDGST, 72)},
	{"HDGST mismatch (digest)", H, true, HD, HD, 0, 0, R2T, 0, {P(24, 4, 0x12345678)}, false,
	 BAD(HDG, 0x12345678, 24)},
	{"HDGST mismatch hides DATAL", C, true, HD, HD, 0, 0, H2C, 100, {P(16, 4, 99)}, false,
	 BAD(HDG, FEI_WIRE_HDGST, 24)},

	/* PDU specific header fields. */
	{"H2CData DATAL != data", C, true, HD, HD, 0, 0, H2C, 100, {P(16, 4, 99)}, true,
	 BAD(INV, 16, 24)},
	{"H2CData DATAL 0 with data", C, true, 0, 0, 0, 0, H2C, 100, {P(16, 4, 0)}, false,
	 BAD(INV, 16, 24)},
	{"C2HData DATAL != data", H, true, 0, 0, 0, 0, C2H, 100, {P(16, 4, 101)}, false,
	 BAD(INV, 16, 24)},
	{"H2CData DATAL > MAXH2CDATA first", C, true, 0, 0, 0, 0, H2C, 100, {P(16, 4, 70000)},
	 false, BAD(LIM, 0, 24)},
	{"H2CData over MAXH2CDATA", C, true, 0, 0, 0, 4096, H2C, 8192, {{0}}, false,
	 BAD(LIM, 0, 24)},
	{"C2HData over max_rx_data", H, true, 0, 0, 0, 4096, C2H, 8192, {{0}}, false,
	 BAD(LIM, 0, 24)},
	{"ICD over max_icd", C, true, HD, HD, 0, 4096, CMD, 4100, {{0}}, false, BAD(LIM, 0, 72)},
	{"ICReq PFV 1", C, false, 0, 0, 0, 0, ICREQ, 0, {P(8, 2, 1)}, false, BAD(UNS, 8, 128)},
	{"ICReq HPDA 32", C, false, 0, 0, 0, 0, ICREQ, 0, {P(10, 1, 32)}, false,
	 BAD(INV, 10, 128)},
	{"ICReq DGST 04h", C, false, 0, 0, 0, 0, ICREQ, 0, {P(11, 1, 4)}, false,
	 BAD(INV, 11, 128)},
	{"ICReq PFV before HPDA", C, false, 0, 0, 0, 0, ICREQ, 0, {P(8, 2, 7), P(10, 1, 99)},
	 false, BAD(UNS, 8, 128)},
	{"ICResp PFV 1", H, false, 0, 0, 0, 0, ICRESP, 0, {P(8, 2, 1)}, false, BAD(UNS, 8, 128)},
	{"ICResp CPDA 32", H, false, 0, 0, 0, 0, ICRESP, 0, {P(10, 1, 32)}, false,
	 BAD(INV, 10, 128)},
	{"ICResp MAXH2CDATA 4095", H, false, 0, 0, 0, 0, ICRESP, 0, {P(12, 4, 4095)}, false,
	 BAD(INV, 12, 128)},
	{"ICResp MAXH2CDATA 4098", H, false, 0, 0, 0, 0, ICRESP, 0, {P(12, 4, 4098)}, false,
	 BAD(INV, 12, 128)},
	{"ICResp MAXH2CDATA 0", H, false, 0, 0, 0, 0, ICRESP, 0, {P(12, 4, 0)}, false,
	 BAD(INV, 12, 128)},

	/* A malformed TermReq closes without a TermReq (7.4.7). */
	{"TermReq plen 23", C, true, 0, 0, 0, 0, TERM_H2C, 0, {PLEN(23)}, false, RESET},
	{"TermReq plen 153", H, true, 0, 0, 0, 0, TERM_C2H, 128, {PLEN(153)}, false, RESET},
	{"TermReq hlen 28", H, true, 0, 0, 0, 0, TERM_C2H, 0, {HLEN(28)}, false, RESET},
	{"TermReq with HDGSTF", C, true, HD, 0, 0, 0, TERM_H2C, 0, {FLAGS(1)}, false, RESET},
	{"TermReq pdo 24", C, false, 0, 0, 0, 0, TERM_H2C, 4, {PDO(24)}, false, RESET},
};
/* clang-format on */

static uint8_t data[16384];

static void build(struct tcp_tx_pdu *t, const struct err_case *c, const struct tcp_conn_params *p)
{
	static const struct nvme_sqe sqe = {.opc = 0x02, .cid = 9};
	static const struct nvme_cqe cqe = {.cid = 9};

	switch (c->kind) {
	case ICREQ:
		tcp_build_icreq(t, 0, 0, 0);
		break;
	case ICRESP:
		tcp_build_icresp(t, 0, 0, 65536);
		break;
	case CMD:
		tcp_build_cmd(t, p, &sqe, c->data_len ? data : NULL, c->data_len);
		break;
	case RSP:
		tcp_build_rsp(t, p, &cqe);
		break;
	case H2C:
		tcp_build_h2c_data(t, p, 9, 1, 0, data, c->data_len, true);
		break;
	case C2H:
		tcp_build_c2h_data(t, p, 9, 0, data, c->data_len, NVME_TCP_F_DATA_LAST);
		break;
	case R2T:
		tcp_build_r2t(t, p, 9, 1, 0, 4096);
		break;
	case TERM_H2C:
	case TERM_C2H:
		tcp_build_term_req(t, c->kind == TERM_H2C ? NVME_TCP_H2C_TERM : NVME_TCP_C2H_TERM,
				   NVME_TCP_FES_INVALID_PDU_HDR, 0, data, c->data_len);
		break;
	}
}

static void apply(uint8_t *w, const struct err_case *c)
{
	for (size_t i = 0; i < 3 && c->patch[i].size; i++) {
		const struct patch *pt = &c->patch[i];

		if (pt->size == 1)
			w[pt->off] = (uint8_t)pt->val;
		else if (pt->size == 2)
			put_le16(w + pt->off, (uint16_t)pt->val);
		else
			put_le32(w + pt->off, pt->val);
	}
	if (c->fix_hdgst)
		put_le32(w + w[2], tcp_digest(w, w[2]));
}

static struct tcp_conn_params params(const struct err_case *c, bool rx)
{
	uint8_t dg = rx ? c->rx_dg : c->tx_dg;
	struct tcp_conn_params p =
		t_params(rx ? c->controller : !c->controller, dg & HD, dg & DD, c->pda);

	if (c->limit) {
		p.maxh2cdata = c->limit;
		p.max_icd = c->limit;
		p.max_rx_data = c->limit;
	}
	return p;
}

static void run_case(const struct err_case *c, t_chunker chunk)
{
	struct tcp_conn_params tx = params(c, false), rxp = params(c, true);
	static uint8_t w[sizeof(data) + 512];
	struct tcp_tx_pdu t;
	struct t_rx_run run;
	struct tcp_rx rx;
	uint32_t seed = 11;
	size_t n;

	build(&t, c, &tx);
	n = t_flatten(&t, w, sizeof(w));
	apply(w, c);
	tcp_rx_init(&rx, &rxp);
	if (c->ic_done)
		tcp_rx_ic_done(&rx);
	t_feed(&rx, w, n, chunk, &seed, false, &run);
	t_run_free(&run);
	if (run.err != c->ret)
		fail_msg("%s: returned %zd, want %d", c->name, run.err, c->ret);
	assert_int_equal(run.npdu, 0);
	if (c->ret != -EBADMSG)
		return;
	uint32_t want_fei = c->fei == FEI_WIRE_HDGST ? get_le32(w + w[2]) : c->fei;

	if (rx.fes != c->fes || rx.fei != want_fei)
		fail_msg("%s: FES %u FEI %u, want FES %u FEI %u", c->name, rx.fes, rx.fei, c->fes,
			 want_fei);
	assert_int_equal(tcp_rx_bad_hdr_len(&rx), c->bad_len);
	/* The error is found as soon as its bytes are in, never later. */
	assert_true(run.consumed <= (size_t)(c->bad_len == 8 ? 8 : c->bad_len + 4));
	if (c->fes != NVME_TCP_FES_HDR_DIGEST_ERR)
		assert_true(rx.fei < 152);
}

static void test_error_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], t_chunk_all);
		run_case(&cases[i], t_chunk_one);
		run_case(&cases[i], t_chunk_random);
	}
	print_message("# %zu error cases, 3 chunkings each\n", sizeof(cases) / sizeof(cases[0]));
}

/* The same patches without the fault are accepted: the table tests the rule, not the base. */
static void test_bases_are_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err_case c = cases[i];
		struct tcp_conn_params tx, rxp;

		/* Only cases whose fault is a patch on a base both sides agree on. */
		if (c.rx_dg != c.tx_dg || c.patch[0].size == 0 || c.limit)
			continue;
		c.ic_done = c.kind != ICREQ && c.kind != ICRESP;
		if (!c.controller != (c.kind == ICRESP || c.kind == RSP || c.kind == C2H ||
				      c.kind == R2T || c.kind == TERM_C2H))
			continue; /* a type error: no valid base */
		memset(c.patch, 0, sizeof(c.patch));
		c.fix_hdgst = false;
		tx = params(&c, false);
		rxp = params(&c, true);
		{
			static uint8_t w[sizeof(data) + 512];
			struct tcp_tx_pdu t;
			struct t_rx_run run;
			struct tcp_rx rx;
			size_t n;

			build(&t, &c, &tx);
			n = t_flatten(&t, w, sizeof(w));
			tcp_rx_init(&rx, &rxp);
			if (c.ic_done)
				tcp_rx_ic_done(&rx);
			t_feed(&rx, w, n, t_chunk_all, NULL, false, &run);
			if (run.err != 0 || run.npdu != 1)
				fail_msg("%s: base not accepted (%zd)", c.name, run.err);
			t_run_free(&run);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_bases_are_valid),
	};

	t_fill(data, sizeof(data), 99);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
