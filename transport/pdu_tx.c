/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transmit half of the NVMe/TCP PDU codec: fill a PDU header and lay
 * out the iovecs of CH + PSH, HDGST, PDO padding, DATA and DDGST (NVMe/TCP
 * Transport Specification 1.0, 3.6.1). Data is referenced, not copied,
 * except by tcp_build_c2h_data_copy(), which copies it as it computes the
 * digest.
 */
#include "pdu.h"

#include <assert.h>
#include <string.h>

#include "digest.h"
#include "byteorder.h"

/* PDO padding comes from here: at most (31 + 1) * 4 - 24 bytes are needed. */
static const uint8_t zero_pad[128];

/*
 * Only the HLEN bytes that go on the wire are cleared (the digest after
 * them is always written): clearing the whole 132-byte union for a 24-byte
 * CapsuleResp or C2HData header was 5% of the daemon's instructions per
 * 4 KiB read.
 */
static void hdr_init(struct tcp_tx_pdu *t, uint8_t type, uint8_t hlen)
{
	memset(&t->hdr, 0, hlen);
	t->hdr.ch.pdu_type = type;
	t->hdr.ch.hlen = hlen;
	t->iovcnt = 0;
	t->len = 0;
}

static void add_iov(struct tcp_tx_pdu *t, const void *base, uint32_t len)
{
	assert(t->iovcnt < (int)(sizeof(t->iov) / sizeof(t->iov[0])));
	t->iov[t->iovcnt].iov_base = (void *)base;
	t->iov[t->iovcnt].iov_len = len;
	t->iovcnt++;
	t->len += len;
}

/* A PDU without digests or data: ICReq, ICResp. */
static void finish_plain(struct tcp_tx_pdu *t)
{
	t->hdr.ch.plen = htole32(t->hdr.ch.hlen);
	add_iov(t, t->hdr.raw, t->hdr.ch.hlen);
}

/* 3.6.1.3: data starts at the first txpda-aligned offset after the header. */
static uint32_t data_offset(const struct tcp_conn_params *p, uint32_t hdr_len)
{
	uint32_t align = (p->txpda + 1u) * 4u;

	if (p->txpda == 0)
		return hdr_len;
	return (hdr_len + align - 1) / align * align;
}

/*
 * Flags, PDO, PLEN and both digests of a PDU whose PSH is filled in; data
 * (len bytes, may be 0) follows at PDO. Builders set their own flags first.
 * data_crc: the CRC register over data when the caller already has it (the
 * data digest is then not computed again), or NULL.
 */
static void finish_crc(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, const void *data,
		       uint32_t len, const uint32_t *data_crc)
{
	struct nvme_tcp_ch *ch = &t->hdr.ch;
	uint32_t hdr_len = ch->hlen + (p->hdgst ? NVME_TCP_DIGEST_LEN : 0);
	uint32_t pdo = len ? data_offset(p, hdr_len) : 0;
	uint32_t plen = len ? pdo + len : hdr_len;

	if (p->hdgst)
		ch->flags |= NVME_TCP_F_HDGST;
	if (p->ddgst && len) {
		ch->flags |= NVME_TCP_F_DDGST;
		plen += NVME_TCP_DIGEST_LEN;
	}
	ch->pdo = (uint8_t)pdo;
	ch->plen = htole32(plen);
	/* The header digest covers the final CH, so it is computed last. */
	if (p->hdgst)
		tcp_digest_put(t->hdr.raw + ch->hlen, tcp_digest(t->hdr.raw, ch->hlen));
	add_iov(t, t->hdr.raw, hdr_len);
	if (len == 0)
		return;
	if (pdo > hdr_len)
		add_iov(t, zero_pad, pdo - hdr_len);
	add_iov(t, data, len);
	if (p->ddgst) {
		tcp_digest_put(t->ddgst, data_crc != NULL ? tcp_crc32c_final(*data_crc)
							  : tcp_digest(data, len));
		add_iov(t, t->ddgst, NVME_TCP_DIGEST_LEN);
	}
}

static void finish(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, const void *data,
		   uint32_t len)
{
	finish_crc(t, p, data, len, NULL);
}

void tcp_build_icreq(struct tcp_tx_pdu *t, uint8_t hpda, uint8_t dgst, uint32_t maxr2t)
{
	hdr_init(t, NVME_TCP_ICREQ, sizeof(struct nvme_tcp_icreq));
	t->hdr.icreq.pfv = htole16(NVME_TCP_PFV_1_0);
	t->hdr.icreq.hpda = hpda;
	t->hdr.icreq.dgst = dgst;
	t->hdr.icreq.maxr2t = htole32(maxr2t);
	finish_plain(t);
}

void tcp_build_icresp(struct tcp_tx_pdu *t, uint8_t cpda, uint8_t dgst, uint32_t maxh2cdata)
{
	hdr_init(t, NVME_TCP_ICRESP, sizeof(struct nvme_tcp_icresp));
	t->hdr.icresp.pfv = htole16(NVME_TCP_PFV_1_0);
	t->hdr.icresp.cpda = cpda;
	t->hdr.icresp.dgst = dgst;
	t->hdr.icresp.maxh2cdata = htole32(maxh2cdata);
	finish_plain(t);
}

void tcp_build_cmd(struct tcp_tx_pdu *t, const struct tcp_conn_params *p,
		   const struct nvme_sqe *sqe, const void *icd, uint32_t icd_len)
{
	hdr_init(t, NVME_TCP_CMD, sizeof(struct nvme_tcp_cmd));
	t->hdr.cmd.sqe = *sqe;
	finish(t, p, icd, icd_len);
}

void tcp_build_rsp(struct tcp_tx_pdu *t, const struct tcp_conn_params *p,
		   const struct nvme_cqe *cqe)
{
	hdr_init(t, NVME_TCP_RSP, sizeof(struct nvme_tcp_rsp));
	t->hdr.rsp.cqe = *cqe;
	finish(t, p, NULL, 0);
}

void tcp_build_h2c_data(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
			uint16_t ttag, uint32_t datao, const void *data, uint32_t datal, bool last)
{
	hdr_init(t, NVME_TCP_H2C_DATA, sizeof(struct nvme_tcp_h2c_data));
	if (last)
		t->hdr.ch.flags = NVME_TCP_F_DATA_LAST;
	t->hdr.h2c.cccid = cccid;
	t->hdr.h2c.ttag = ttag;
	t->hdr.h2c.datao = htole32(datao);
	t->hdr.h2c.datal = htole32(datal);
	finish(t, p, data, datal);
}

static void c2h_hdr(struct tcp_tx_pdu *t, uint16_t cccid, uint32_t datao, uint32_t datal,
		    uint8_t flags)
{
	hdr_init(t, NVME_TCP_C2H_DATA, sizeof(struct nvme_tcp_c2h_data));
	t->hdr.ch.flags = flags & (NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS);
	t->hdr.c2h.cccid = cccid;
	t->hdr.c2h.datao = htole32(datao);
	t->hdr.c2h.datal = htole32(datal);
}

void tcp_build_c2h_data(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
			uint32_t datao, const void *data, uint32_t datal, uint8_t flags)
{
	c2h_hdr(t, cccid, datao, datal, flags);
	finish(t, p, data, datal);
}

void tcp_build_c2h_data_copy(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
			     uint32_t datao, void *dst, const void *src, uint32_t datal,
			     uint8_t flags)
{
	uint32_t crc;

	c2h_hdr(t, cccid, datao, datal, flags);
	if (!p->ddgst) {
		memcpy(dst, src, datal);
		finish(t, p, dst, datal);
		return;
	}
	crc = tcp_crc32c_copy(TCP_CRC32C_SEED, dst, src, datal);
	finish_crc(t, p, dst, datal, &crc);
}

void tcp_build_r2t(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
		   uint16_t ttag, uint32_t r2to, uint32_t r2tl)
{
	hdr_init(t, NVME_TCP_R2T, sizeof(struct nvme_tcp_r2t));
	t->hdr.r2t.cccid = cccid;
	t->hdr.r2t.ttag = ttag;
	t->hdr.r2t.r2to = htole32(r2to);
	t->hdr.r2t.r2tl = htole32(r2tl);
	finish(t, p, NULL, 0);
}

/*
 * 3.6.2.4-5: a TermReq never carries digests (so it is valid whatever was
 * negotiated); its data, the offending header, starts right after the 24-byte
 * header with PDO 0, PLEN at most 152.
 */
void tcp_build_term_req(struct tcp_tx_pdu *t, uint8_t type, uint16_t fes, uint32_t fei,
			const void *bad_hdr, uint32_t bad_len)
{
	uint32_t n = bad_len < NVME_TCP_TERM_DATA_MAX ? bad_len : NVME_TCP_TERM_DATA_MAX;

	if (bad_hdr == NULL)
		n = 0;

	hdr_init(t, type, sizeof(struct nvme_tcp_term_req));
	t->hdr.term.fes = htole16(fes);
	put_le32(t->hdr.term.fei, fei);
	t->hdr.ch.plen = htole32(sizeof(struct nvme_tcp_term_req) + n);
	add_iov(t, t->hdr.raw, sizeof(struct nvme_tcp_term_req));
	if (n == 0)
		return;
	memcpy(t->term_data, bad_hdr, n);
	add_iov(t, t->term_data, n);
}
