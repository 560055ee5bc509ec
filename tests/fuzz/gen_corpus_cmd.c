/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the seed corpus of fuzz_cmd into the directory given: sessions a
 * host would run on the hand-built target (tests/unit/t_target.h), so the
 * fuzzer starts from connected, enabled controllers: Connect, CC.EN,
 * Identify, every log page, features, AERs and events, I/O queues and
 * every I/O command; a discovery session; Connect refusals; keep-alive
 * expiry. Run by hand (or `meson compile fuzz-corpus-cmd`); the output is
 * committed in corpus/cmd/.
 */
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "fuzz_cmd.h"
#include "gen_corpus_util.h"
#include "t_sqe.h"
#include "t_target.h"

static void put_u8(struct gen_seed *s, uint8_t v)
{
	gen_put(s, &v, 1);
}

static void put_u32(struct gen_seed *s, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	gen_put(s, b, 4);
}

static void connect_rec(struct gen_seed *s, const char *sub, const char *host, uint16_t qid,
			uint16_t sqsize, uint16_t cntlid, uint32_t kato, uint16_t recfmt)
{
	static const uint8_t hostid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct nvmf_connect_cmd c;
	struct nvmf_connect_data d;

	t_connect_build(&c, &d, sub, host, hostid, qid, sqsize, cntlid, kato);
	c.recfmt = htole16(recfmt);
	put_u8(s, FC_CONNECT);
	gen_put(s, &c, sizeof(c));
	gen_put(s, &d, sizeof(d));
}

/* The SQE of an admin or I/O command (CDW15 is never used here). */
static struct nvme_sqe sqe(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
			   uint32_t cdw12, uint32_t cdw13, uint32_t cdw14)
{
	return t_sqe(opc, nsid, cdw10, cdw11, cdw12, cdw13, cdw14, 0);
}

/* An FC_ADMIN or FC_IO record; data (H2C) follows when given. */
static void cmd(struct gen_seed *s, uint8_t op, uint32_t len, struct nvme_sqe q, const void *data)
{
	put_u8(s, op);
	put_u8(s, 0);
	put_u32(s, len);
	gen_put(s, &q, sizeof(q));
	if (data != NULL)
		gen_put(s, data, len);
}

static void prop_set(struct gen_seed *s, uint32_t ofst, uint64_t v, uint8_t attrib)
{
	cmd(s, FC_ADMIN, 0, t_prop_sqe(NVMF_FCTYPE_PROPERTY_SET, ofst, v, attrib), NULL);
}

static void prop_get(struct gen_seed *s, uint32_t ofst, uint8_t attrib)
{
	struct nvme_sqe q = t_prop_sqe(NVMF_FCTYPE_PROPERTY_GET, ofst, 0, attrib);

	q.cid = 0x1234;
	cmd(s, FC_ADMIN, 0, q, NULL);
}

static void enable(struct gen_seed *s)
{
	prop_get(s, NVME_REG_CAP, 1);
	prop_set(s, NVME_REG_CC, (6u << 16) | (4u << 20) | 1, 0);
	prop_get(s, NVME_REG_CSTS, 0);
}

static void get_log(struct gen_seed *s, uint8_t lid, uint32_t nsid, uint32_t len, uint64_t off)
{
	uint32_t numd = len / 4 - 1;

	cmd(s, FC_ADMIN, len,
	    sqe(NVME_ADM_GET_LOG_PAGE, nsid, lid | (numd & 0xffff) << 16, numd >> 16, (uint32_t)off,
		(uint32_t)(off >> 32), 0),
	    NULL);
}

static void io_session(void)
{
	static const uint8_t lids[] = {0, 1, 2, 3, 4, 5, 0x70, 0xbf};
	struct nvme_dsm_range r[2];
	struct gen_seed s = {.len = 0};

	connect_rec(&s, NQN_A, HOST_A, 0, 31, 0xffff, 0, 0);
	enable(&s);
	for (uint8_t cns = 0; cns <= 3; cns++)
		cmd(&s, FC_ADMIN, 4096, sqe(NVME_ADM_IDENTIFY, cns == 0 ? 1 : 0, cns, 0, 0, 0, 0),
		    NULL);
	cmd(&s, FC_ADMIN, 4096, sqe(NVME_ADM_IDENTIFY, 2, 0, 0, 0, 0, 0), NULL);
	for (size_t i = 0; i < sizeof(lids); i++)
		get_log(&s, lids[i], 0xffffffff, 512, 0);
	get_log(&s, NVME_LOG_SMART, 1, 512, 256);
	get_log(&s, NVME_LOG_ERROR, 0, 4096, 0);
	for (uint8_t fid = 1; fid <= 0x10; fid++)
		cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_GET_FEATURES, 0, fid, 0, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_SET_FEATURES, 0, 7, 0x00030003, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_SET_FEATURES, 0, 0x0b, 0x100, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_SET_FEATURES, 0, 0x0f, 5000, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_SET_FEATURES, 0, 0x06, 0, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_ASYNC_EVENT, 0, 0, 0, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_KEEP_ALIVE, 0, 0, 0, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_ABORT, 0, 0, 0, 0, 0, 0), NULL);
	put_u8(&s, FC_EVENT);
	put_u8(&s, 0);
	put_u32(&s, 3);
	get_log(&s, NVME_LOG_CHANGED_NS, 0, 4096, 0);
	connect_rec(&s, NQN_A, HOST_A, 1, 127, 1, 0, 0);
	connect_rec(&s, NQN_A, HOST_A, 2, 127, 1, 0, 0);
	cmd(&s, FC_IO, 4096, sqe(NVME_CMD_READ, 1, 100, 0, 7, 0, 0), NULL);
	cmd(&s, FC_IO, 8192, sqe(NVME_CMD_WRITE, 5, 0, 0, 15, 0, 0), NULL);
	cmd(&s, FC_IO, 4096, sqe(NVME_CMD_READ, 2, 999, 0, 0, 0, 0), NULL);
	cmd(&s, FC_IO, 0, sqe(NVME_CMD_FLUSH, 0xffffffff, 0, 0, 0, 0, 0), NULL);
	cmd(&s, FC_IO, 0, sqe(NVME_CMD_WRITE_ZEROES, 1, 0, 0, 0xffff, 0, 0), NULL);
	memset(r, 0, sizeof(r));
	r[0].nlb = htole32(8);
	r[0].slba = htole64(16);
	r[1].nlb = htole32(64);
	r[1].slba = htole64(0);
	cmd(&s, FC_IO, sizeof(r), sqe(NVME_CMD_DSM, 1, 1, 4, 0, 0, 0), r);
	prop_set(&s, NVME_REG_CC, (6u << 16) | (4u << 20) | (1u << 14) | 1, 0); /* shutdown */
	prop_set(&s, NVME_REG_CC, (6u << 16) | (4u << 20), 0);			/* reset */
	put_u8(&s, FC_GONE);
	put_u8(&s, 0);
	gen_save(&s, "io-session");
}

static void disc_session(void)
{
	struct gen_seed s = {.len = 0};

	connect_rec(&s, NVMF_DISC_NQN, HOST_B, 0, 31, 0xffff, 0, 0);
	prop_set(&s, NVME_REG_CC, 1, 0);
	cmd(&s, FC_ADMIN, 4096, sqe(NVME_ADM_IDENTIFY, 0, 1, 0, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_SET_FEATURES, 0, 0x0b, 1u << 31, 0, 0, 0), NULL);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_ASYNC_EVENT, 0, 0, 0, 0, 0, 0), NULL);
	put_u8(&s, FC_EVENT);
	put_u8(&s, 0);
	put_u32(&s, 0);
	get_log(&s, NVME_LOG_DISC, 0, 1024, 0);
	get_log(&s, NVME_LOG_DISC, 0, 4096, 1024);
	gen_save(&s, "disc-session");
}

static void refusals(void)
{
	struct gen_seed s = {.len = 0};

	connect_rec(&s, "nqn.2026-11.io.nvmfd:none", HOST_A, 0, 31, 0xffff, 0, 0);
	connect_rec(&s, NQN_B, HOST_B, 0, 31, 0xffff, 0, 0);
	connect_rec(&s, NQN_A, HOST_A, 0, 31, 5, 0, 0);
	connect_rec(&s, NQN_A, HOST_A, 0, 0, 0xffff, 0, 0);
	connect_rec(&s, NQN_A, HOST_A, 0, 31, 0xffff, 0, 1);
	connect_rec(&s, NQN_A, HOST_A, 1, 31, 1, 0, 0);	     /* no controller yet */
	connect_rec(&s, NQN_B, HOST_A, 0, 31, 0xffff, 0, 0); /* allowed */
	connect_rec(&s, NQN_B, HOST_A, 1, 31, 1, 0, 0);	     /* not enabled */
	prop_set(&s, NVME_REG_CC, 1 | (1u << 7), 0);	     /* invalid CC: CFS */
	prop_set(&s, NVME_REG_CAP, 0, 1);
	gen_save(&s, "refusals");
}

static void kato(void)
{
	struct gen_seed s = {.len = 0};

	connect_rec(&s, NQN_A, HOST_A, 0, 31, 0xffff, 1000, 0);
	enable(&s);
	cmd(&s, FC_ADMIN, 0, sqe(NVME_ADM_SET_FEATURES, 0, 7, 0, 0, 0, 0), NULL);
	connect_rec(&s, NQN_A, HOST_A, 1, 31, 1, 0, 0);
	put_u8(&s, FC_TIME);
	put_u8(&s, 50);
	put_u8(&s, 0);
	put_u8(&s, FC_TIME);
	put_u8(&s, 200);
	put_u8(&s, 0);
	connect_rec(&s, NQN_A, HOST_A, 1, 31, 1, 0, 0);
	gen_save(&s, "kato");
}

int main(int argc, char **argv)
{
	if (gen_args(argc, argv) != 0)
		return 2;
	io_session();
	disc_session();
	refusals();
	kato();
	return 0;
}
