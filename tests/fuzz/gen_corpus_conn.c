/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the seed corpus of fuzz_conn into the directory given: what a
 * host sends on one connection, built with the codec's builders: an admin
 * queue session (Connect, CC.EN, Identify, logs, features, AER, Keep
 * Alive), I/O queue sessions on the target's own controller (fuzz_conn.h)
 * with every I/O command, in-capsule and R2T writes, with and without
 * digests and HPDA, in each chunking, and a few broken streams. Run by hand
 * (or `meson compile fuzz-corpus-conn`); the output is committed in
 * corpus/conn/.
 */
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "fuzz_conn.h"
#include "gen_corpus_util.h"
#include "nvmf_spec.h"
#include "pdu.h"
#include "t_sqe.h"

static uint8_t payload[65536];

struct seed {
	struct gen_seed g;
	struct tcp_conn_params p; /* as the host sends */
};

static void save(struct seed *s, uint8_t chunk, const char *name)
{
	s->g.hdr[0] = chunk;
	s->g.hdr[1] = 0x5a;
	s->g.hdr_len = FC_HDR_LEN;
	gen_save(&s->g, name);
}

static void start(struct seed *s, bool hd, bool dd, uint8_t hpda)
{
	struct tcp_tx_pdu t;

	memset(s, 0, sizeof(*s));
	tcp_build_icreq(
		&t, hpda,
		(hd ? NVME_TCP_DGST_HDGST_ENABLE : 0) | (dd ? NVME_TCP_DGST_DDGST_ENABLE : 0), 0);
	gen_put_pdu(&s->g, &t);
	s->p.hdgst = hd;
	s->p.ddgst = dd;
}

static struct nvme_sqe sqe(uint8_t opc, uint16_t cid, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
			   uint32_t cdw12, uint8_t sgl_type, uint32_t len)
{
	struct nvme_sqe q = t_sqe(opc, nsid, cdw10, cdw11, cdw12, 0, 0, 0);

	q.cid = htole16(cid);
	q.sgl1.type = sgl_type;
	q.sgl1.length = htole32(len);
	return q;
}

static void cmd(struct seed *s, struct nvme_sqe q, const void *icd, uint32_t icd_len)
{
	struct tcp_tx_pdu t;

	tcp_build_cmd(&t, &s->p, &q, icd, icd_len);
	gen_put_pdu(&s->g, &t);
}

static void connect_q(struct seed *s, uint16_t qid, uint16_t cntlid, uint32_t kato)
{
	struct nvmf_connect_cmd c;
	struct nvmf_connect_data d;
	struct nvme_sqe q;

	t_connect_build(&c, &d, FCONN_NQN, FCONN_HOSTNQN, fconn_hostid, qid, qid ? 31 : 15, cntlid,
			kato);
	c.sgl1.type = NVME_SGL_ICD;
	c.sgl1.length = htole32(sizeof(d));
	memcpy(&q, &c, sizeof(q));
	cmd(s, q, &d, sizeof(d));
}

static void prop(struct seed *s, uint8_t fctype, uint32_t ofst, uint64_t v, uint8_t attrib)
{
	struct nvme_sqe q = t_prop_sqe(fctype, ofst, v, attrib);

	q.cid = 9;
	q.sgl1.type = NVME_SGL_TRANSPORT_DB;
	cmd(s, q, NULL, 0);
}

static void h2c(struct seed *s, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len, bool last)
{
	struct tcp_tx_pdu t;

	tcp_build_h2c_data(&t, &s->p, cid, ttag, off, payload, len, last);
	gen_put_pdu(&s->g, &t);
}

static void admin_session(void)
{
	static const uint8_t chunks[] = {FCH_ALL, FCH_ONE, FCH_PDU, 7};
	const uint8_t db = NVME_SGL_TRANSPORT_DB;
	struct seed s;
	char name[64];

	for (size_t i = 0; i < sizeof(chunks); i++) {
		start(&s, i >= 2, i >= 2, 0);
		connect_q(&s, 0, 0xffff, 0);
		prop(&s, NVMF_FCTYPE_PROPERTY_GET, NVME_REG_CAP, 0, 1);
		prop(&s, NVMF_FCTYPE_PROPERTY_SET, NVME_REG_CC, 1 | 6u << 16 | 4u << 20, 0);
		prop(&s, NVMF_FCTYPE_PROPERTY_GET, NVME_REG_CSTS, 0, 0);
		cmd(&s, sqe(NVME_ADM_IDENTIFY, 2, 0, 1, 0, 0, db, 4096), NULL, 0);
		cmd(&s, sqe(NVME_ADM_IDENTIFY, 3, 1, 0, 0, 0, db, 4096), NULL, 0);
		cmd(&s, sqe(NVME_ADM_GET_LOG_PAGE, 4, 0xffffffff, 2 | 127u << 16, 0, 0, db, 512),
		    NULL, 0);
		cmd(&s, sqe(NVME_ADM_SET_FEATURES, 5, 0, 7, 0x00030003, 0, db, 0), NULL, 0);
		cmd(&s, sqe(NVME_ADM_SET_FEATURES, 6, 0, 0x0b, 0x100, 0, db, 0), NULL, 0);
		cmd(&s, sqe(NVME_ADM_ASYNC_EVENT, 7, 0, 0, 0, 0, db, 0), NULL, 0);
		cmd(&s, sqe(NVME_ADM_KEEP_ALIVE, 8, 0, 0, 0, 0, db, 0), NULL, 0);
		cmd(&s, sqe(0x7f, 10, 0, 0, 0, 0, db, 0), NULL, 0); /* Property Set of CAP... */
		snprintf(name, sizeof(name), "admin-session-%zu", i);
		save(&s, chunks[i], name);
	}
}

/* An I/O queue of the target's controller: writes (in-capsule, R2T), reads, the rest. */
static void io_session(const char *name, bool hd, bool dd, uint8_t hpda, uint8_t chunk,
		       uint16_t ttag0)
{
	const uint8_t db = NVME_SGL_TRANSPORT_DB;
	struct nvme_dsm_range r[2];
	struct seed s;

	start(&s, hd, dd, hpda);
	connect_q(&s, 1, FCONN_CNTLID, 0);
	cmd(&s, sqe(NVME_CMD_WRITE, 1, 1, 8, 0, 7, NVME_SGL_ICD, 4096), payload, 4096);
	cmd(&s, sqe(NVME_CMD_WRITE, 2, 1, 64, 0, 63, db, 32768), NULL, 0);
	h2c(&s, 2, ttag0, 0, 16384, false);
	h2c(&s, 2, ttag0, 16384, 16384, true);
	cmd(&s, sqe(NVME_CMD_READ, 3, 1, 64, 0, 63, db, 32768), NULL, 0);
	cmd(&s, sqe(NVME_CMD_READ, 4, 2, 0, 0, 1, db, 8192), NULL, 0);
	cmd(&s, sqe(NVME_CMD_WRITE, 5, 2, 0, 0, 0, NVME_SGL_ICD, 4096), payload, 4096);
	cmd(&s, sqe(NVME_CMD_FLUSH, 6, 0xffffffff, 0, 0, 0, db, 0), NULL, 0);
	cmd(&s, sqe(NVME_CMD_WRITE_ZEROES, 7, 1, 0, 0, 255, db, 0), NULL, 0);
	memset(r, 0, sizeof(r));
	r[0].nlb = htole32(8);
	r[0].slba = htole64(16);
	r[1].nlb = htole32(1u << 20);
	cmd(&s, sqe(NVME_CMD_DSM, 8, 1, 1, 4, 0, NVME_SGL_ICD, sizeof(r)), r, sizeof(r));
	cmd(&s, sqe(NVME_CMD_READ, 9, 1, 0, 0, 127, db, 65536), NULL, 0);
	cmd(&s, sqe(0x7f, 10, 0, 0, 0, 0, db, 0), NULL, 0); /* a Fabrics command: refused */
	save(&s, chunk, name);
}

/* Broken streams: the daemon answers with a TermReq and closes. */
static void broken(void)
{
	struct tcp_tx_pdu t;
	struct seed s;

	start(&s, true, false, 0);
	connect_q(&s, 2, FCONN_CNTLID, 0);
	cmd(&s, sqe(NVME_CMD_WRITE, 1, 1, 0, 0, 31, NVME_SGL_TRANSPORT_DB, 16384), NULL, 0);
	h2c(&s, 1, 7, 0, 16384, true); /* unknown ttag */
	save(&s, FCH_PDU, "bad-ttag");

	start(&s, false, false, 0);
	connect_q(&s, 3, FCONN_CNTLID, 0);
	cmd(&s, sqe(NVME_CMD_WRITE, 1, 1, 0, 0, 31, NVME_SGL_TRANSPORT_DB, 16384), NULL, 0);
	h2c(&s, 1, 0, 4096, 4096, false); /* out of order */
	save(&s, FCH_PDU, "bad-datao");

	memset(&s, 0, sizeof(s));
	tcp_build_icreq(&t, 32, 0, 0); /* HPDA out of range */
	gen_put_pdu(&s.g, &t);
	save(&s, FCH_ALL, "bad-hpda");

	start(&s, false, false, 0);
	tcp_build_icreq(&t, 0, 0, 0); /* ICReq twice */
	gen_put_pdu(&s.g, &t);
	save(&s, FCH_ONE, "bad-icreq-twice");

	start(&s, false, true, 0);
	connect_q(&s, 4, FCONN_CNTLID, 0);
	for (uint16_t i = 0; i < 40; i++) /* more than SQSIZE + 1 */
		cmd(&s, sqe(NVME_CMD_WRITE, i, 1, 0, 0, 7, NVME_SGL_TRANSPORT_DB, 4096), NULL, 0);
	save(&s, 3, "queue-overflow");
}

int main(int argc, char **argv)
{
	if (gen_args(argc, argv) != 0)
		return 2;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	admin_session();
	io_session("io-session-all", false, false, 0, FCH_ALL, 1);
	io_session("io-session-prng", false, false, 0, 0x33, 0);
	io_session("io-session-pdu", false, false, 0, FCH_PDU, 0);
	io_session("io-session-pdu-ttag1", false, false, 0, FCH_PDU, 1);
	io_session("io-session-digests", true, true, 0, FCH_PDU, 0);
	io_session("io-session-hpda", true, false, 3, FCH_PDU, 0);
	io_session("io-session-digests-all", true, true, 7, FCH_ALL, 1);
	broken();
	return 0;
}
