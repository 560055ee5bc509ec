/* SPDX-License-Identifier: BSD-2-Clause */
#include "t_pdu_util.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct tcp_conn_params t_params(bool controller, bool hd, bool dd, uint8_t pda)
{
	struct tcp_conn_params p = {
		.controller = controller,
		.hdgst = hd,
		.ddgst = dd,
		.rxpda = pda,
		.txpda = pda,
		.maxh2cdata = 64 * 1024,
		.max_icd = 8192,
		.max_rx_data = 128 * 1024,
	};
	return p;
}

size_t t_flatten(const struct tcp_tx_pdu *t, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (int i = 0; i < t->iovcnt; i++) {
		assert_true(n + t->iov[i].iov_len <= cap);
		memcpy(out + n, t->iov[i].iov_base, t->iov[i].iov_len);
		n += t->iov[i].iov_len;
	}
	assert_int_equal(n, t->len);
	return n;
}

size_t t_chunk_all(void *ctx, size_t remaining)
{
	(void)ctx;
	return remaining;
}

size_t t_chunk_one(void *ctx, size_t remaining)
{
	(void)ctx;
	(void)remaining;
	return 1;
}

size_t t_chunk_split(void *ctx, size_t remaining)
{
	size_t *split = ctx, n = *split;

	*split = SIZE_MAX; /* after the first chunk: the rest */
	return n < remaining && n > 0 ? n : remaining;
}

uint32_t t_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

size_t t_chunk_random(void *ctx, size_t remaining)
{
	uint32_t r = t_rand(ctx);
	size_t n = (r % 8 == 0) ? r % 9000 + 1 : r % 80 + 1;

	return n < remaining ? n : remaining;
}

void t_fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)t_rand(&seed);
}

static void on_header(struct tcp_rx *rx, struct t_rx_run *run, bool discard)
{
	struct t_rx_pdu *r = &run->pdu[run->npdu];
	uint32_t dl = tcp_rx_data_len(rx);

	assert_true(run->npdu < T_MAX_PDUS);
	assert_true(dl > 0); /* data-less PDUs go straight to TCP_RX_PDU */
	assert_int_equal(rx->state, TCP_RX_AWAIT_DEST);
	memset(r, 0, sizeof(*r));
	r->had_header = true;
	r->data_len = dl;
	r->data = malloc(dl);
	assert_non_null(r->data);
	memset(r->data, 0xa5, dl);
	tcp_rx_set_data(rx, discard ? NULL : r->data);
}

static void on_pdu(struct tcp_rx *rx, struct t_rx_run *run)
{
	struct t_rx_pdu *r = &run->pdu[run->npdu];

	assert_true(run->npdu < T_MAX_PDUS);
	if (!r->had_header) {
		memset(r, 0, sizeof(*r));
		assert_int_equal(tcp_rx_data_len(rx), 0);
	}
	assert_int_equal(tcp_rx_data_len(rx), r->data_len);
	r->hdr = rx->hdr;
	r->ddgst_err = rx->ddgst_err;
	run->npdu++;
	assert_int_equal(rx->state, TCP_RX_CH);
}

void t_feed(struct tcp_rx *rx, const uint8_t *buf, size_t len, t_chunker next, void *ctx,
	    bool discard, struct t_rx_run *run)
{
	size_t off = 0;

	memset(run, 0, sizeof(*run));
	while (off < len) {
		size_t chunk = next(ctx, len - off), coff = 0;

		assert_true(chunk > 0 && chunk <= len - off);
		while (coff < chunk) {
			enum tcp_rx_event ev;
			ssize_t n = tcp_rx_feed(rx, buf + off + coff, chunk - coff, &ev);

			run->calls++;
			if (n < 0) {
				assert_int_equal(rx->state, TCP_RX_ERROR);
				run->err = n;
				run->consumed = off + coff;
				return;
			}
			assert_true((size_t)n <= chunk - coff);
			coff += (size_t)n;
			if (ev == TCP_RX_HEADER)
				on_header(rx, run, discard);
			else if (ev == TCP_RX_PDU)
				on_pdu(rx, run);
			else
				assert_int_equal(coff, chunk); /* NEED_MORE: all consumed */
		}
		off += chunk;
	}
	run->consumed = off;
}

void t_run_free(struct t_rx_run *run)
{
	for (int i = 0; i <= run->npdu && i < T_MAX_PDUS; i++) {
		free(run->pdu[i].data);
		run->pdu[i].data = NULL;
	}
}

uint32_t t_crc32c_ref(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}
