/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The receive half of the NVMe/TCP PDU codec: a sans-I/O state machine that
 * consumes stream bytes in any chunking and reports validated PDUs.
 *
 * Section numbers refer to the NVM Express TCP Transport Specification 1.0
 * ("3.6.x") and NVM Express over Fabrics 1.1 ("7.4.x"); the validation order
 * follows FreeBSD's nvmf_tcp_validate_pdu_header(): errors are reported for
 * the lowest incorrect field first, so the common header is checked field by
 * field (type, flags, hlen, pdo, plen) as soon as its 8 bytes are in, then
 * the header digest, then the PDU specific fields.
 *
 * Received bytes are always copied into the aligned rx->hdr before a field
 * is read; data goes straight to the caller's buffer, whose size is exactly
 * tcp_rx_data_len(), so PLEN never sizes an allocation.
 */
#include "pdu.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "digest.h"
#include "byteorder.h"

#define CH_LEN	    ((uint32_t)sizeof(struct nvme_tcp_ch))
#define IC_LEN	    128u
#define TERM_MAX    (24u + NVME_TCP_TERM_DATA_MAX) /* 152 */
#define CH_FIELD(f) ((uint32_t)offsetof(struct nvme_tcp_ch, f))

static const char *const tcp_rx_state_names[] = {
	[TCP_RX_CH] = "CH",	  [TCP_RX_PSH] = "PSH",	  [TCP_RX_AWAIT_DEST] = "AWAIT_DEST",
	[TCP_RX_PAD] = "PAD",	  [TCP_RX_DATA] = "DATA", [TCP_RX_DDGST] = "DDGST",
	[TCP_RX_ERROR] = "ERROR",
};

const char *tcp_rx_state_name(enum tcp_rx_state st)
{
	if ((unsigned)st >= sizeof(tcp_rx_state_names) / sizeof(tcp_rx_state_names[0]))
		return "?";
	return tcp_rx_state_names[st];
}

void tcp_rx_init(struct tcp_rx *rx, const struct tcp_conn_params *p)
{
	memset(rx, 0, sizeof(*rx));
	rx->p = p;
	rx->state = TCP_RX_CH;
}

static int bad(struct tcp_rx *rx, uint16_t fes, uint32_t fei)
{
	rx->fes = fes;
	rx->fei = fei;
	return -EBADMSG;
}

static int bad_field(struct tcp_rx *rx, uint32_t fei)
{
	return bad(rx, NVME_TCP_FES_INVALID_PDU_HDR, fei);
}

static bool is_term(uint8_t type)
{
	return type == NVME_TCP_H2C_TERM || type == NVME_TCP_C2H_TERM;
}

static bool is_ic(uint8_t type)
{
	return type == NVME_TCP_ICREQ || type == NVME_TCP_ICRESP;
}

/* PDU types that may carry data at PDO (a TermReq's data sits at HLEN). */
static bool has_pdo_data(uint8_t type)
{
	return type == NVME_TCP_CMD || type == NVME_TCP_H2C_DATA || type == NVME_TCP_C2H_DATA;
}

/* 3.6.1: a controller receives only H2C PDUs, a host only C2H PDUs. */
static bool type_valid_for_side(uint8_t type, bool controller)
{
	switch (type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_CMD:
	case NVME_TCP_H2C_DATA:
		return controller;
	case NVME_TCP_ICRESP:
	case NVME_TCP_C2H_TERM:
	case NVME_TCP_RSP:
	case NVME_TCP_C2H_DATA:
	case NVME_TCP_R2T:
		return !controller;
	default:
		return false;
	}
}

static uint8_t valid_flags(uint8_t type)
{
	switch (type) {
	case NVME_TCP_CMD:
		return NVME_TCP_F_HDGST | NVME_TCP_F_DDGST;
	case NVME_TCP_RSP:
	case NVME_TCP_R2T:
		return NVME_TCP_F_HDGST;
	case NVME_TCP_H2C_DATA:
		return NVME_TCP_F_HDGST | NVME_TCP_F_DDGST | NVME_TCP_F_DATA_LAST;
	case NVME_TCP_C2H_DATA:
		return NVME_TCP_F_HDGST | NVME_TCP_F_DDGST | NVME_TCP_F_DATA_LAST |
		       NVME_TCP_F_DATA_SUCCESS;
	default: /* ICReq, ICResp (3.6.2.2-3), TermReq (3.6.2.4-5) */
		return 0;
	}
}

static uint8_t expected_hlen(uint8_t type)
{
	switch (type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
		return IC_LEN;
	case NVME_TCP_CMD:
		return sizeof(struct nvme_tcp_cmd);
	default: /* TermReq, CapsuleResp, H2CData, C2HData, R2T */
		return 24;
	}
}

/* Type, and where the PDU falls in the connection's sequence. */
static int check_type(struct tcp_rx *rx, uint8_t type)
{
	if (!type_valid_for_side(type, rx->p->controller))
		return bad_field(rx, CH_FIELD(pdu_type));
	/* 3.3: the first PDU is ICReq / ICResp, and only the first. */
	if (!is_term(type) && is_ic(type) == rx->ic_done)
		return bad(rx, NVME_TCP_FES_PDU_SEQ_ERR, 0);
	return 0;
}

/*
 * Flags: only the bits defined for the type, header digest flag iff header
 * digests were negotiated, data digest flag iff negotiated and data present
 * (the Linux host omits DDGSTF on a CapsuleCmd without in-capsule data).
 */
static int check_flags(struct tcp_rx *rx, const struct nvme_tcp_ch *ch, uint32_t plen)
{
	const struct tcp_conn_params *p = rx->p;
	uint8_t ok = valid_flags(ch->pdu_type);
	bool hd = ch->flags & NVME_TCP_F_HDGST, dd = ch->flags & NVME_TCP_F_DDGST;
	/* "Data present" from the expected HLEN: HLEN itself is checked later. */
	uint32_t full_hlen = expected_hlen(ch->pdu_type) + (hd ? NVME_TCP_DIGEST_LEN : 0);

	if (ch->flags & ~ok)
		return bad_field(rx, CH_FIELD(flags));
	if (ok == 0) /* ICReq / ICResp: no digest flags, checked above */
		return 0;
	if (hd != p->hdgst || (dd && !p->ddgst))
		return bad_field(rx, CH_FIELD(flags));
	if (!dd && p->ddgst && (ok & NVME_TCP_F_DDGST) && plen > full_hlen)
		return bad_field(rx, CH_FIELD(flags));
	/* 7.4.5.2: SUCCESS in C2HData requires LAST_PDU. */
	if ((ch->flags & (NVME_TCP_F_DATA_SUCCESS | NVME_TCP_F_DATA_LAST)) ==
	    NVME_TCP_F_DATA_SUCCESS)
		return bad_field(rx, CH_FIELD(flags));
	return 0;
}

/* PDO and PLEN of a PDU that may carry data at PDO; sets the lengths. */
static int check_data_layout(struct tcp_rx *rx, const struct nvme_tcp_ch *ch, uint32_t plen)
{
	uint32_t full_hlen = rx->hdr_len, align = (rx->p->rxpda + 1u) * 4u;
	uint32_t dgst = (ch->flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0;

	if (plen <= full_hlen) {
		/* No data: PDO is 0 (3.6.2.1); a data digest needs data. */
		if (ch->pdo != 0)
			return bad_field(rx, CH_FIELD(pdo));
		if (plen != full_hlen || dgst)
			return bad_field(rx, CH_FIELD(plen));
		return 0;
	}
	/*
	 * Data starts after the header (and digest), at a multiple of
	 * (PDA + 1) dwords (3.6.2.2-3: PDA is 0's based, so PDA 0 is dword
	 * alignment, not none; as nvmet_tcp_check_pdo and SPDK).
	 */
	if (ch->pdo < full_hlen || ch->pdo >= plen || ch->pdo % align != 0)
		return bad_field(rx, CH_FIELD(pdo));
	if (plen - ch->pdo <= dgst)
		return bad_field(rx, CH_FIELD(plen));
	rx->pad_len = ch->pdo - full_hlen;
	rx->data_len = plen - ch->pdo - dgst;
	return 0;
}

/* 7.4.7: any problem with a received TermReq closes without a TermReq. */
static int check_term(struct tcp_rx *rx, const struct nvme_tcp_ch *ch, uint32_t plen)
{
	if (ch->flags != 0 || ch->hlen != 24 || ch->pdo != 0 || plen < 24 || plen > TERM_MAX)
		return -ECONNRESET;
	rx->hdr_len = 24;
	rx->data_len = plen - 24;
	return 0;
}

/* The 8-byte common header, field by field in wire order. */
static int check_ch(struct tcp_rx *rx)
{
	const struct nvme_tcp_ch *ch = &rx->hdr.ch;
	uint32_t plen = le32toh(ch->plen);
	int ret;

	rx->pad_len = 0;
	rx->data_len = 0;
	rx->data_got = 0;
	rx->data_dst = NULL;
	rx->ddgst_err = false;

	ret = check_type(rx, ch->pdu_type);
	if (ret)
		return ret;
	if (is_term(ch->pdu_type))
		return check_term(rx, ch, plen);
	ret = check_flags(rx, ch, plen);
	if (ret)
		return ret;
	if (ch->hlen != expected_hlen(ch->pdu_type))
		return bad_field(rx, CH_FIELD(hlen));
	rx->hdr_len = ch->hlen + ((ch->flags & NVME_TCP_F_HDGST) ? NVME_TCP_DIGEST_LEN : 0);
	if (has_pdo_data(ch->pdu_type))
		return check_data_layout(rx, ch, plen);
	/* ICReq, ICResp, CapsuleResp, R2T: header only. */
	if (ch->pdo != 0)
		return bad_field(rx, CH_FIELD(pdo));
	if (plen != rx->hdr_len)
		return bad_field(rx, CH_FIELD(plen));
	return 0;
}

/* ICReq (3.6.2.2) / ICResp (3.6.2.3): fields at the same offsets. */
static int check_ic(struct tcp_rx *rx)
{
	const struct nvme_tcp_icreq *ic = &rx->hdr.icreq;

	if (le16toh(ic->pfv) != NVME_TCP_PFV_1_0)
		return bad(rx, NVME_TCP_FES_UNSUPPORTED_PARAM,
			   offsetof(struct nvme_tcp_icreq, pfv));
	if (ic->hpda > NVME_TCP_HPDA_MAX) /* ICResp: CPDA, same range */
		return bad_field(rx, offsetof(struct nvme_tcp_icreq, hpda));
	if (ic->dgst & ~(NVME_TCP_DGST_HDGST_ENABLE | NVME_TCP_DGST_DDGST_ENABLE))
		return bad_field(rx, offsetof(struct nvme_tcp_icreq, dgst));
	if (ic->ch.pdu_type == NVME_TCP_ICRESP) {
		uint32_t maxh2c = le32toh(rx->hdr.icresp.maxh2cdata);

		/* At least 4 KiB, in dwords (the Linux host checks both). */
		if (maxh2c < NVME_TCP_MIN_MAXH2CDATA || maxh2c % 4 != 0)
			return bad_field(rx, offsetof(struct nvme_tcp_icresp, maxh2cdata));
	}
	return 0;
}

/* H2CData / C2HData: DATAL against the limit, then against PLEN (3.6.2.8-9). */
static int check_data_pdu(struct tcp_rx *rx, uint32_t limit)
{
	uint32_t datal = le32toh(rx->hdr.h2c.datal);

	if (limit != 0 && datal > limit)
		return bad(rx, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0);
	if (datal != rx->data_len)
		return bad_field(rx, offsetof(struct nvme_tcp_h2c_data, datal));
	return 0;
}

/* The header digest (3.6.1.1), then the PDU specific header fields. */
static int check_psh(struct tcp_rx *rx)
{
	const struct nvme_tcp_ch *ch = &rx->hdr.ch;
	const struct tcp_conn_params *p = rx->p;

	if (ch->flags & NVME_TCP_F_HDGST) {
		const uint8_t *wire = rx->hdr.raw + ch->hlen;

		if (!tcp_digest_ok(wire, tcp_digest(rx->hdr.raw, ch->hlen)))
			/* FEI of a header digest error: the digest received. */
			return bad(rx, NVME_TCP_FES_HDR_DIGEST_ERR, get_le32(wire));
	}
	switch (ch->pdu_type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
		return check_ic(rx);
	case NVME_TCP_CMD:
		/* In-capsule data beyond what we advertised (IOCCSZ / 8 KiB). */
		if (rx->data_len > p->max_icd)
			return bad(rx, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0);
		return 0;
	case NVME_TCP_H2C_DATA:
		/* MAXH2CDATA is mandatory (>= 4096), so 0 means "none accepted". */
		if (p->maxh2cdata == 0)
			return bad(rx, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0);
		return check_data_pdu(rx, p->maxh2cdata);
	case NVME_TCP_C2H_DATA:
		return check_data_pdu(rx, p->max_rx_data);
	default:
		return 0;
	}
}

static ssize_t fail(struct tcp_rx *rx, int err)
{
	if (err == -ECONNRESET) {
		rx->fes = 0;
		rx->fei = 0;
	}
	/* Offer the caller the header bytes a TermReq should carry. */
	if (rx->state == TCP_RX_PSH)
		rx->got = rx->hdr.ch.hlen;
	rx->state = TCP_RX_ERROR;
	return err;
}

static uint32_t min_u32(uint32_t a, size_t b)
{
	return b < a ? (uint32_t)b : a;
}

/* Copy header bytes until want of them are in rx->hdr. */
static size_t take_hdr(struct tcp_rx *rx, const uint8_t *p, size_t len, uint32_t want)
{
	uint32_t n = min_u32(want - rx->got, len);

	memcpy(rx->hdr.raw + rx->got, p, n);
	rx->got += n;
	return n;
}

static size_t take_ddgst(struct tcp_rx *rx, const uint8_t *p, size_t len)
{
	uint32_t n = min_u32(NVME_TCP_DIGEST_LEN - rx->got, len);

	memcpy(rx->ddgst + rx->got, p, n);
	rx->got += n;
	return n;
}

/* The PDU is complete: the next byte starts a new common header. */
static void pdu_done(struct tcp_rx *rx, enum tcp_rx_event *ev)
{
	rx->state = TCP_RX_CH;
	rx->got = 0;
	*ev = TCP_RX_PDU;
}

static void data_account(struct tcp_rx *rx, const uint8_t *src, uint32_t n)
{
	if (rx->hdr.ch.flags & NVME_TCP_F_DDGST)
		rx->crc = tcp_crc32c(rx->crc, src, n);
	rx->data_got += n;
}

static size_t take_data(struct tcp_rx *rx, const uint8_t *p, size_t len)
{
	uint32_t n = min_u32(rx->data_len - rx->data_got, len);

	if (n == 0)
		return 0;
	if (rx->data_dst != NULL) {
		memcpy(rx->data_dst + rx->data_got, p, n);
		p = rx->data_dst + rx->data_got; /* CRC over the copy: it is in cache */
	}
	data_account(rx, p, n);
	return n;
}

static void data_end(struct tcp_rx *rx, enum tcp_rx_event *ev)
{
	if (rx->hdr.ch.flags & NVME_TCP_F_DDGST) {
		rx->state = TCP_RX_DDGST;
		rx->got = 0;
	} else {
		pdu_done(rx, ev);
	}
}

/* Header collected: check it, then report the PDU or its header. */
static int header_done(struct tcp_rx *rx, enum tcp_rx_event *ev)
{
	int ret = check_psh(rx);

	if (ret)
		return ret;
	if (rx->data_len == 0) {
		pdu_done(rx, ev);
	} else {
		rx->state = TCP_RX_AWAIT_DEST;
		*ev = TCP_RX_HEADER;
	}
	return 0;
}

ssize_t tcp_rx_feed(struct tcp_rx *rx, const void *buf, size_t len, enum tcp_rx_event *ev)
{
	/* No arithmetic on a NULL buf when len is 0 (UBSan: pointer-overflow). */
	const uint8_t *p = len ? buf : (const uint8_t *)"";
	size_t off = 0;
	int ret;

	*ev = TCP_RX_NEED_MORE;
	while (*ev == TCP_RX_NEED_MORE) {
		switch (rx->state) {
		case TCP_RX_CH:
			off += take_hdr(rx, p + off, len - off, CH_LEN);
			if (rx->got < CH_LEN)
				return (ssize_t)off;
			ret = check_ch(rx);
			if (ret)
				return fail(rx, ret);
			rx->state = TCP_RX_PSH;
			break;
		case TCP_RX_PSH:
			off += take_hdr(rx, p + off, len - off, rx->hdr_len);
			if (rx->got < rx->hdr_len)
				return (ssize_t)off;
			ret = header_done(rx, ev);
			if (ret)
				return fail(rx, ret);
			break;
		case TCP_RX_AWAIT_DEST:
			return -EINVAL; /* tcp_rx_set_data() first */
		case TCP_RX_PAD: {
			uint32_t n = min_u32(rx->pad_len - rx->got, len - off);

			off += n;
			rx->got += n;
			if (rx->got < rx->pad_len)
				return (ssize_t)off;
			rx->state = TCP_RX_DATA;
			break;
		}
		case TCP_RX_DATA:
			off += take_data(rx, p + off, len - off);
			if (rx->data_got < rx->data_len)
				return (ssize_t)off;
			data_end(rx, ev);
			break;
		case TCP_RX_DDGST:
			off += take_ddgst(rx, p + off, len - off);
			if (rx->got < NVME_TCP_DIGEST_LEN)
				return (ssize_t)off;
			/* 3.6.1.2: a bad data digest fails the command, not the connection. */
			rx->ddgst_err = !tcp_digest_ok(rx->ddgst, tcp_crc32c_final(rx->crc));
			pdu_done(rx, ev);
			break;
		case TCP_RX_ERROR:
		default:
			return rx->fes != 0 ? -EBADMSG : -ECONNRESET;
		}
	}
	return (ssize_t)off;
}

void tcp_rx_set_data(struct tcp_rx *rx, void *dst)
{
	assert(rx->state == TCP_RX_AWAIT_DEST);
	if (rx->state != TCP_RX_AWAIT_DEST)
		return;
	rx->data_dst = dst;
	rx->data_got = 0;
	rx->crc = TCP_CRC32C_SEED;
	rx->got = 0;
	rx->state = rx->pad_len != 0 ? TCP_RX_PAD : TCP_RX_DATA;
}

uint32_t tcp_rx_data_wanted(const struct tcp_rx *rx, void **where)
{
	if (rx->state != TCP_RX_DATA || rx->data_dst == NULL) {
		*where = NULL;
		return 0;
	}
	*where = rx->data_dst + rx->data_got;
	return rx->data_len - rx->data_got;
}

uint32_t tcp_rx_h2c_hdr_wanted(const struct tcp_rx *rx)
{
	uint32_t n = sizeof(struct nvme_tcp_h2c_data), a;

	if (!rx->ic_done || !rx->p->controller)
		return 0;
	if (rx->p->hdgst)
		n += NVME_TCP_DIGEST_LEN;
	if (rx->p->rxpda != 0) { /* PDO: the data starts at a multiple of the PDA */
		a = ((uint32_t)rx->p->rxpda + 1) * 4;
		n = (n + a - 1) / a * a;
	}
	if (rx->state == TCP_RX_DDGST)
		return n + NVME_TCP_DIGEST_LEN - rx->got;
	return rx->state == TCP_RX_CH && rx->got == 0 ? n : 0;
}

void tcp_rx_data_placed(struct tcp_rx *rx, uint32_t n)
{
	assert(rx->state == TCP_RX_DATA && rx->data_dst != NULL);
	assert(n <= rx->data_len - rx->data_got);
	if (rx->state != TCP_RX_DATA || rx->data_dst == NULL || n > rx->data_len - rx->data_got)
		return;
	data_account(rx, rx->data_dst + rx->data_got, n);
}
