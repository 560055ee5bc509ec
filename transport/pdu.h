/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe/TCP PDU codec. It does no I/O: the receive side consumes bytes in
 * any chunking and reports validated headers and whole PDUs; the transmit
 * side builds the iovecs of a PDU (header, header digest, PDO padding, data,
 * data digest). The host library (blocking sockets), the daemon's io_uring
 * workers, nvmf-perf, the unit tests and the fuzzers all drive this code.
 *
 * Errors: negative errno. -EBADMSG means "fatal protocol error": rx->fes and
 * rx->fei say what to put in the TermReq (FEI is the byte offset of the
 * lowest incorrect field, spec 7.4.10). -ECONNRESET means "close without a
 * TermReq" (e.g. a TermReq was received, or an error during the ICReq
 * exchange, where no TermReq may be sent).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "nvme_tcp.h"

/* Parameters of one connection as seen from one side; fixed after ICReq/ICResp. */
struct tcp_conn_params {
	bool controller;     /* this side is the controller (receives H2C PDUs) */
	bool hdgst;	     /* header digests negotiated */
	bool ddgst;	     /* data digests negotiated */
	uint8_t rxpda;	     /* PDA this side requires of received data (0's based dwords) */
	uint8_t txpda;	     /* PDA the peer requires of data we send */
	uint32_t maxh2cdata; /* largest H2CData DATAL (controller: accepted; host: to send) */
	uint32_t max_icd;    /* largest in-capsule data accepted in a CapsuleCmd (controller) */
	uint32_t max_rx_data; /* largest DATA in any other received PDU (host: C2HData) */
};

/* ---- Receive ---- */

enum tcp_rx_event {
	TCP_RX_NEED_MORE = 0, /* every byte consumed; the current PDU is incomplete */
	TCP_RX_HEADER,	      /* rx->hdr holds a validated header; its data follows */
	TCP_RX_PDU,	      /* a whole PDU has been received (see rx->ddgst_err) */
};

enum tcp_rx_state {
	TCP_RX_CH = 0,	 /* collecting the 8-byte common header */
	TCP_RX_PSH,	 /* collecting the rest of the header and its digest */
	TCP_RX_AWAIT_DEST, /* header reported; waiting for tcp_rx_set_data() */
	TCP_RX_PAD,	 /* skipping PDO padding */
	TCP_RX_DATA,	 /* data into the destination */
	TCP_RX_DDGST,	 /* collecting the data digest */
	TCP_RX_ERROR,	 /* a fatal error was reported; nothing more is accepted */
};

struct tcp_rx {
	const struct tcp_conn_params *p;
	bool ic_done;	       /* ICReq/ICResp exchanged: digests and PDA in force */
	enum tcp_rx_state state;
	union nvme_tcp_pdu_hdr hdr; /* the current PDU's header (aligned copy) */
	uint32_t got;	       /* bytes of the current part collected */
	uint32_t hdr_len;      /* hlen (+4 with a header digest) */
	uint32_t pad_len;      /* PDO - hdr_len when data is present */
	uint32_t data_len;     /* bytes of data in the current PDU */
	uint32_t data_got;
	uint8_t *data_dst;     /* NULL: the data is discarded (digest still checked) */
	uint32_t crc;	       /* running data CRC */
	uint8_t ddgst[NVME_TCP_DIGEST_LEN];
	bool ddgst_err;	       /* the data digest of the last PDU did not match */
	uint16_t fes;	       /* on -EBADMSG */
	uint32_t fei;
};

void tcp_rx_init(struct tcp_rx *rx, const struct tcp_conn_params *p);

/*
 * Consume up to len bytes. Returns how many were consumed (it stops right
 * after an event, so call again with the rest), or a negative errno. *ev
 * tells what happened. After TCP_RX_HEADER of a PDU that carries data,
 * call tcp_rx_set_data() before feeding more bytes.
 */
ssize_t tcp_rx_feed(struct tcp_rx *rx, const void *buf, size_t len, enum tcp_rx_event *ev);

/* Bytes of data the current PDU carries (valid after TCP_RX_HEADER). */
static inline uint32_t tcp_rx_data_len(const struct tcp_rx *rx)
{
	return rx->data_len;
}

/* Where the current PDU's data goes: len bytes at dst (NULL to discard). */
void tcp_rx_set_data(struct tcp_rx *rx, void *dst);

/*
 * Direct placement, for a receiver that reads payload straight into its
 * final buffer: returns how many data bytes are still expected and sets
 * *where to their destination; after receiving n (<= that) bytes there,
 * tcp_rx_data_placed() accounts for them (and runs the data digest).
 */
uint32_t tcp_rx_data_wanted(const struct tcp_rx *rx, void **where);
void tcp_rx_data_placed(struct tcp_rx *rx, uint32_t n);

/* Called once ICReq/ICResp are exchanged and rx->p holds the result. */
static inline void tcp_rx_ic_done(struct tcp_rx *rx)
{
	rx->ic_done = true;
}

/* A name for a PDU type, for logs ("CapsuleCmd", ...). */
const char *tcp_pdu_type_name(uint8_t type);
/* A name for a fatal error status ("Invalid PDU Header Field", ...). */
const char *tcp_fes_name(uint16_t fes);

/* ---- Transmit ---- */

/*
 * A PDU to send: the header (and its digest) lives in hdr, padding and the
 * data digest in the struct too, data is referenced, not copied. iov[0..
 * iovcnt) are ready for sendmsg / io_uring; len is their total (= PLEN).
 * Data must stay valid until the PDU is sent.
 */
struct tcp_tx_pdu {
	union nvme_tcp_pdu_hdr hdr;
	uint8_t ddgst[NVME_TCP_DIGEST_LEN];
	uint8_t term_data[NVME_TCP_TERM_DATA_MAX]; /* a TermReq's copy of the bad header */
	struct iovec iov[4];
	int iovcnt;
	uint32_t len;
};

void tcp_build_icreq(struct tcp_tx_pdu *t, uint8_t hpda, uint8_t dgst, uint32_t maxr2t);
void tcp_build_icresp(struct tcp_tx_pdu *t, uint8_t cpda, uint8_t dgst, uint32_t maxh2cdata);
void tcp_build_cmd(struct tcp_tx_pdu *t, const struct tcp_conn_params *p,
		   const struct nvme_sqe *sqe, const void *icd, uint32_t icd_len);
void tcp_build_rsp(struct tcp_tx_pdu *t, const struct tcp_conn_params *p,
		   const struct nvme_cqe *cqe);
void tcp_build_h2c_data(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
			uint16_t ttag, uint32_t datao, const void *data, uint32_t datal, bool last);
/* flags: NVME_TCP_F_DATA_LAST and / or NVME_TCP_F_DATA_SUCCESS. */
void tcp_build_c2h_data(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
			uint32_t datao, const void *data, uint32_t datal, uint8_t flags);
void tcp_build_r2t(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
		   uint16_t ttag, uint32_t r2to, uint32_t r2tl);
/*
 * type: NVME_TCP_H2C_TERM or NVME_TCP_C2H_TERM. The offending PDU header
 * (up to NVME_TCP_TERM_DATA_MAX bytes of it) is copied into the PDU.
 */
void tcp_build_term_req(struct tcp_tx_pdu *t, uint8_t type, uint16_t fes, uint32_t fei,
			const void *bad_hdr, uint32_t bad_len);
