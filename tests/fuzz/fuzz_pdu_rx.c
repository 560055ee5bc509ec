/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the PDU receive state machine (transport/pdu_rx.c) on
 * arbitrary streams, with input-chosen parameters and chunk sizes (input
 * format in fuzz_pdu_rx.h). Invariants checked, besides what ASan/UBSan
 * see: the result is >= 0, -EBADMSG or -ECONNRESET; no more bytes are
 * consumed than offered; an event stops consumption; data never exceeds the
 * configured limits; FES/FEI are those a TermReq may carry; an error sticks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pdu_rx.h"
#include "fuzz_target.h"
#include "pdu.h"

struct chunker {
	uint8_t mode;
	uint32_t state;
};

static size_t next_chunk(struct chunker *c, size_t left)
{
	size_t n;

	if (c->mode == FZ_CHUNK_ALL)
		return left;
	if (c->mode == FZ_CHUNK_ONE)
		return 1;
	c->state ^= c->state << 13;
	c->state ^= c->state >> 17;
	c->state ^= c->state << 5;
	n = (c->state & 7) == 0 ? c->state % 4096 + 1 : c->state % 64 + 1;
	return n < left ? n : left;
}

static void params_from(struct tcp_conn_params *p, uint8_t f, uint8_t pda)
{
	uint32_t lim = (f & FZ_SMALL_LIM) ? 4096 : 64 * 1024;

	memset(p, 0, sizeof(*p));
	p->controller = f & FZ_CONTROLLER;
	p->hdgst = f & FZ_HDGST;
	p->ddgst = f & FZ_DDGST;
	p->rxpda = pda & 31;
	p->txpda = pda & 31;
	p->maxh2cdata = lim;
	p->max_icd = lim / 2;
	p->max_rx_data = lim;
}

/* The largest data any accepted PDU may carry with these parameters. */
static uint32_t data_bound(const struct tcp_conn_params *p)
{
	uint32_t m = NVME_TCP_TERM_DATA_MAX;

	if (p->maxh2cdata > m)
		m = p->maxh2cdata;
	if (p->max_icd > m)
		m = p->max_icd;
	if (p->max_rx_data > m)
		m = p->max_rx_data;
	return m;
}

static void check_error(struct tcp_rx *rx, ssize_t r)
{
	enum tcp_rx_event ev;

	CHECK(r == -EBADMSG || r == -ECONNRESET);
	CHECK(rx->state == TCP_RX_ERROR);
	if (r == -EBADMSG) {
		CHECK(rx->fes >= NVME_TCP_FES_INVALID_PDU_HDR &&
		      rx->fes <= NVME_TCP_FES_UNSUPPORTED_PARAM);
		/* FEI is a header offset, except for a header digest error. */
		CHECK(rx->fes == NVME_TCP_FES_HDR_DIGEST_ERR || rx->fei < 152);
		CHECK(tcp_rx_bad_hdr_len(rx) >= 8 && tcp_rx_bad_hdr_len(rx) <= 128);
	}
	CHECK(tcp_rx_feed(rx, "x", 1, &ev) == r);
}

/* Move data from the stream straight into the destination, as io_uring would. */
static size_t place(struct tcp_rx *rx, const uint8_t *p, size_t len)
{
	void *where;
	uint32_t want = tcp_rx_data_wanted(rx, &where);
	size_t n = want < len ? want : len;

	if (n == 0)
		return 0;
	memcpy(where, p, n);
	tcp_rx_data_placed(rx, (uint32_t)n);
	return n;
}

static void on_header(struct tcp_rx *rx, uint8_t f, uint8_t **buf)
{
	uint32_t dl = tcp_rx_data_len(rx);

	CHECK(dl > 0 && dl <= data_bound(rx->p));
	CHECK(rx->state == TCP_RX_AWAIT_DEST);
	free(*buf);
	*buf = (f & FZ_DISCARD) ? NULL : malloc(dl);
	CHECK((f & FZ_DISCARD) || *buf != NULL);
	tcp_rx_set_data(rx, *buf);
}

static void on_pdu(const struct tcp_rx *rx)
{
	CHECK(rx->state == TCP_RX_CH);
	CHECK(tcp_rx_data_len(rx) <= data_bound(rx->p));
	CHECK(!rx->ddgst_err || (rx->hdr.ch.flags & NVME_TCP_F_DDGST));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_conn_params p;
	struct chunker ch;
	struct tcp_rx rx;
	uint8_t *buf = NULL, f;
	size_t off = FUZZ_HDR_LEN;

	if (size < FUZZ_HDR_LEN)
		return 0;
	f = data[0];
	params_from(&p, f, data[1]);
	ch.mode = data[2];
	ch.state = (uint32_t)data[2] << 8 | data[3] | 0x10000u;
	tcp_rx_init(&rx, &p);
	if (f & FZ_IC_DONE)
		tcp_rx_ic_done(&rx);

	while (off < size) {
		size_t len = next_chunk(&ch, size - off);
		enum tcp_rx_event ev;
		ssize_t r;

		if (f & FZ_PLACE) {
			size_t n = place(&rx, data + off, len);

			off += n;
			if (n == len)
				continue;
			len -= n;
		}
		r = tcp_rx_feed(&rx, data + off, len, &ev);
		if (r < 0) {
			check_error(&rx, r);
			break;
		}
		CHECK((size_t)r <= len);
		CHECK(ev != TCP_RX_NEED_MORE || (size_t)r == len);
		off += (size_t)r;
		if (ev == TCP_RX_HEADER)
			on_header(&rx, f, &buf);
		else if (ev == TCP_RX_PDU)
			on_pdu(&rx);
		/* After the IC PDU, as a real caller would. */
		if (ev == TCP_RX_PDU &&
		    (rx.hdr.ch.pdu_type == NVME_TCP_ICREQ || rx.hdr.ch.pdu_type == NVME_TCP_ICRESP))
			tcp_rx_ic_done(&rx);
	}
	free(buf);
	return 0;
}
