/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the seed corpus of fuzz_pdu_rx into the directory given: streams
 * built with the codec's own builders (valid PDUs of every type, with and
 * without digests and padding, several back to back) and a few broken ones.
 * Run by hand (or `meson compile fuzz-corpus-pdu_rx`); the output is
 * committed in corpus/pdu_rx/ so it never changes behind a test's back.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_pdu_rx.h"
#include "gen_corpus_util.h"
#include "pdu.h"

static uint8_t payload[9000];

static void seed_init(struct gen_seed *s, uint8_t flags, uint8_t pda, uint8_t chunk)
{
	memset(s, 0, sizeof(*s));
	s->hdr[0] = flags;
	s->hdr[1] = pda;
	s->hdr[2] = chunk;
	s->hdr[3] = 0x5a;
	s->hdr_len = FUZZ_HDR_LEN;
}

static struct tcp_conn_params params(uint8_t flags, uint8_t pda)
{
	struct tcp_conn_params p = {
		.controller = !(flags & FZ_CONTROLLER), /* the sender is the other side */
		.hdgst = flags & FZ_HDGST,
		.ddgst = flags & FZ_DDGST,
		.rxpda = pda,
		.txpda = pda,
		.maxh2cdata = 65536,
	};
	return p;
}

static const struct nvme_sqe sqe = {.opc = 0x01, .cid = 7};
static const struct nvme_cqe cqe = {.cid = 7};

/* Controller side: ICReq, then commands and data. */
static void controller_seeds(void)
{
	static const uint8_t dg[] = {0, FZ_HDGST, FZ_DDGST, FZ_HDGST | FZ_DDGST};
	struct tcp_tx_pdu t;
	struct gen_seed s;
	char name[64];

	seed_init(&s, FZ_CONTROLLER, 0, FZ_CHUNK_ALL);
	tcp_build_icreq(&t, 0, 3, 0);
	gen_put_pdu(&s, &t);
	gen_save(&s, "c-icreq");

	for (size_t i = 0; i < sizeof(dg); i++) {
		uint8_t f = FZ_CONTROLLER | FZ_IC_DONE | dg[i];
		struct tcp_conn_params p = params(f, 0);

		seed_init(&s, f, 0, (uint8_t)(2 + i));
		tcp_build_cmd(&t, &p, &sqe, NULL, 0);
		gen_put_pdu(&s, &t);
		tcp_build_cmd(&t, &p, &sqe, payload, 1024);
		gen_put_pdu(&s, &t);
		tcp_build_h2c_data(&t, &p, 7, 1, 0, payload, 4096, false);
		gen_put_pdu(&s, &t);
		tcp_build_h2c_data(&t, &p, 7, 1, 4096, payload, 100, true);
		gen_put_pdu(&s, &t);
		snprintf(name, sizeof(name), "c-stream-dg%u", dg[i] >> 1);
		gen_save(&s, name);
	}

	/* PDA 3 with padding, direct placement, one byte at a time. */
	seed_init(&s, FZ_CONTROLLER | FZ_IC_DONE | FZ_DDGST | FZ_PLACE, 3, FZ_CHUNK_ONE);
	{
		struct tcp_conn_params p = params(s.hdr[0], 3);

		tcp_build_cmd(&t, &p, &sqe, payload, 300);
		gen_put_pdu(&s, &t);
		tcp_build_h2c_data(&t, &p, 7, 1, 0, payload, 777, true);
		gen_put_pdu(&s, &t);
	}
	gen_save(&s, "c-pda3-place");

	seed_init(&s, FZ_CONTROLLER | FZ_IC_DONE, 0, FZ_CHUNK_ALL);
	tcp_build_term_req(&t, NVME_TCP_H2C_TERM, NVME_TCP_FES_INVALID_PDU_HDR, 2, payload, 72);
	gen_put_pdu(&s, &t);
	gen_save(&s, "c-termreq");
}

/* Host side: ICResp, then responses, data and R2Ts. */
static void host_seeds(void)
{
	struct tcp_tx_pdu t;
	struct gen_seed s;
	struct tcp_conn_params p;

	seed_init(&s, 0, 0, FZ_CHUNK_ALL);
	tcp_build_icresp(&t, 0, 0, 65536);
	gen_put_pdu(&s, &t);
	p = params(FZ_IC_DONE, 0);
	tcp_build_rsp(&t, &p, &cqe);
	gen_put_pdu(&s, &t);
	gen_save(&s, "h-icresp-rsp");

	seed_init(&s, FZ_IC_DONE | FZ_HDGST | FZ_DDGST, 0, 9);
	p = params(s.hdr[0], 0);
	tcp_build_r2t(&t, &p, 7, 1, 0, 8192);
	gen_put_pdu(&s, &t);
	tcp_build_c2h_data(&t, &p, 7, 0, payload, 8192, NVME_TCP_F_DATA_LAST);
	gen_put_pdu(&s, &t);
	tcp_build_c2h_data(&t, &p, 7, 0, payload, 10,
			   NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	gen_put_pdu(&s, &t);
	tcp_build_rsp(&t, &p, &cqe);
	gen_put_pdu(&s, &t);
	gen_save(&s, "h-stream-digests");

	seed_init(&s, FZ_IC_DONE | FZ_DISCARD, 31, 17);
	p = params(s.hdr[0], 31);
	tcp_build_c2h_data(&t, &p, 7, 0, payload, 512, NVME_TCP_F_DATA_LAST);
	gen_put_pdu(&s, &t);
	tcp_build_term_req(&t, NVME_TCP_C2H_TERM, NVME_TCP_FES_HDR_DIGEST_ERR, 0xdeadbeef, payload,
			   128);
	gen_put_pdu(&s, &t);
	gen_save(&s, "h-pda31-termreq");
}

/* Broken streams: each stops at a different check. */
static void broken_seeds(void)
{
	struct tcp_conn_params p;
	struct tcp_tx_pdu t;
	struct gen_seed s;

	seed_init(&s, FZ_CONTROLLER | FZ_IC_DONE | FZ_HDGST, 0, FZ_CHUNK_ALL);
	p = params(s.hdr[0], 0);
	tcp_build_cmd(&t, &p, &sqe, NULL, 0);
	gen_put_pdu(&s, &t);
	s.b[30] ^= 1; /* header digest */
	gen_save(&s, "bad-hdgst");

	seed_init(&s, FZ_CONTROLLER | FZ_IC_DONE | FZ_DDGST, 0, 5);
	p = params(s.hdr[0], 0);
	tcp_build_h2c_data(&t, &p, 7, 1, 0, payload, 64, true);
	gen_put_pdu(&s, &t);
	s.b[s.len - 1] ^= 1; /* data digest: not fatal */
	tcp_build_cmd(&t, &p, &sqe, NULL, 0);
	gen_put_pdu(&s, &t);
	gen_save(&s, "bad-ddgst");

	seed_init(&s, FZ_CONTROLLER | FZ_IC_DONE, 0, FZ_CHUNK_ALL);
	p = params(s.hdr[0], 0);
	tcp_build_h2c_data(&t, &p, 7, 1, 0, payload, 64, true);
	gen_put_pdu(&s, &t);
	s.b[16] = 63; /* DATAL */
	gen_save(&s, "bad-datal");

	seed_init(&s, FZ_CONTROLLER, 0, FZ_CHUNK_ALL);
	tcp_build_icreq(&t, 0, 0, 0);
	gen_put_pdu(&s, &t);
	s.b[8] = 1; /* PFV */
	gen_save(&s, "bad-pfv");

	seed_init(&s, 0, 0, FZ_CHUNK_ONE);
	tcp_build_icresp(&t, 0, 0, 65536);
	gen_put_pdu(&s, &t);
	s.b[4] = 0xff; /* PLEN */
	gen_save(&s, "bad-plen");

	seed_init(&s, FZ_IC_DONE, 0, FZ_CHUNK_ALL);
	tcp_build_term_req(&t, NVME_TCP_C2H_TERM, 1, 0, payload, 8);
	gen_put_pdu(&s, &t);
	s.b[4] = 200; /* TermReq PLEN > 152: close */
	gen_save(&s, "bad-termreq-plen");

	seed_init(&s, FZ_CONTROLLER | FZ_IC_DONE | FZ_SMALL_LIM, 0, FZ_CHUNK_ALL);
	p = params(s.hdr[0], 0);
	tcp_build_cmd(&t, &p, &sqe, payload, 4000); /* over max_icd 2048 */
	gen_put_pdu(&s, &t);
	gen_save(&s, "bad-icd-limit");
}

int main(int argc, char **argv)
{
	if (gen_args(argc, argv) != 0)
		return 2;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	controller_seeds();
	host_seeds();
	broken_seeds();
	return 0;
}
