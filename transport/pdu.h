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
 * lowest incorrect field for FES 01h / 06h, the received header digest for
 * FES 03h, and 0 otherwise; NVMe/TCP 1.0 Figures 27 / 29). This also holds
 * during the ICReq / ICResp exchange (an unsupported PFV is FES 06h at FEI 8),
 * as in FreeBSD and SPDK; a caller may still choose to just close there.
 * -ECONNRESET means "close without a TermReq": a malformed TermReq was
 * received (7.4.7: no TermReq answers a TermReq). A well-formed received
 * TermReq is NOT an error: it is reported as a PDU (the caller logs FES/FEI
 * and closes).
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
	bool controller;      /* this side is the controller (receives H2C PDUs) */
	bool hdgst;	      /* header digests negotiated */
	bool ddgst;	      /* data digests negotiated */
	uint8_t rxpda;	      /* PDA this side requires of received data (0's based dwords) */
	uint8_t txpda;	      /* PDA the peer requires of data we send */
	uint32_t maxh2cdata;  /* largest H2CData DATAL (controller: accepted; host: to send) */
	uint32_t max_icd;     /* largest in-capsule data accepted in a CapsuleCmd (controller);
			      * 0: none. Admin / fabrics commands need 8192 (NVME_TCP_ADMIN_ICD) */
	uint32_t max_rx_data; /* largest DATA in any other received PDU (host: C2HData);
			      * 0: no limit */
};

/* ---- Receive ---- */

/*
 * Events. A PDU that carries data (tcp_rx_data_len() > 0) yields
 * TCP_RX_HEADER, then, once its data (and data digest) is in, TCP_RX_PDU.
 * A PDU without data (ICReq, ICResp, CapsuleResp, R2T, a CapsuleCmd without
 * in-capsule data, a TermReq without error data) yields TCP_RX_PDU directly,
 * never TCP_RX_HEADER. On TCP_RX_PDU rx->hdr, tcp_rx_data_len() and
 * rx->ddgst_err describe the PDU until the next call to tcp_rx_feed().
 * Data bytes of a TermReq (the header that offended the peer) are delivered
 * like any other data.
 */
enum tcp_rx_event {
	TCP_RX_NEED_MORE = 0, /* every byte consumed; the current PDU is incomplete */
	TCP_RX_HEADER,	      /* rx->hdr holds a validated header; its data follows */
	TCP_RX_PDU,	      /* a whole PDU has been received (see rx->ddgst_err) */
};

enum tcp_rx_state {
	TCP_RX_CH = 0,	   /* collecting the 8-byte common header */
	TCP_RX_PSH,	   /* collecting the rest of the header and its digest */
	TCP_RX_AWAIT_DEST, /* header reported; waiting for tcp_rx_set_data() */
	TCP_RX_PAD,	   /* skipping PDO padding */
	TCP_RX_DATA,	   /* data into the destination */
	TCP_RX_DDGST,	   /* collecting the data digest */
	TCP_RX_ERROR,	   /* a fatal error was reported; nothing more is accepted */
};

/* "CH", "PSH", ... for logs. */
const char *tcp_rx_state_name(enum tcp_rx_state st);

struct tcp_rx {
	const struct tcp_conn_params *p;
	bool ic_done; /* ICReq/ICResp exchanged: digests and PDA in force */
	enum tcp_rx_state state;
	union nvme_tcp_pdu_hdr hdr; /* the current PDU's header (aligned copy) */
	uint32_t got;	   /* CH/PSH: header bytes in hdr.raw; PAD/DDGST: bytes of that part */
	uint32_t hdr_len;  /* hlen (+4 with a header digest) */
	uint32_t pad_len;  /* PDO - hdr_len when data is present */
	uint32_t data_len; /* bytes of data in the current PDU */
	uint32_t data_got;
	uint8_t *data_dst; /* NULL: the data is discarded (digest still checked) */
	uint32_t crc;	   /* running data CRC */
	uint8_t ddgst[NVME_TCP_DIGEST_LEN];
	bool ddgst_err; /* the data digest of the last PDU did not match */
	uint16_t fes;	/* on -EBADMSG */
	uint32_t fei;
};

void tcp_rx_init(struct tcp_rx *rx, const struct tcp_conn_params *p);

/*
 * Consume up to len bytes (len may be 0). Returns how many were consumed (it
 * stops right after an event, so call again with the rest), or a negative
 * errno: -EBADMSG / -ECONNRESET (see the top of this file; every later call
 * returns the same error), or -EINVAL when called between TCP_RX_HEADER and
 * tcp_rx_set_data(). *ev tells what happened (TCP_RX_NEED_MORE: all bytes
 * consumed, no event). Never reads beyond buf[len); never allocates.
 */
ssize_t tcp_rx_feed(struct tcp_rx *rx, const void *buf, size_t len, enum tcp_rx_event *ev);

/*
 * After -EBADMSG: how many bytes of the offending header rx->hdr.raw holds
 * (8 for an error in the common header, HLEN after it), for
 * tcp_build_term_req(t, ..., rx->hdr.raw, tcp_rx_bad_hdr_len(rx)).
 */
static inline uint32_t tcp_rx_bad_hdr_len(const struct tcp_rx *rx)
{
	return rx->got;
}

/* Bytes of data the current PDU carries (valid after TCP_RX_HEADER). */
static inline uint32_t tcp_rx_data_len(const struct tcp_rx *rx)
{
	return rx->data_len;
}

/*
 * Where the current PDU's data goes: tcp_rx_data_len() bytes at dst (NULL to
 * discard; the data digest is still checked). Call exactly once after each
 * TCP_RX_HEADER, before feeding more bytes.
 */
void tcp_rx_set_data(struct tcp_rx *rx, void *dst);

/*
 * Direct placement, for a receiver that reads payload straight into its
 * final buffer: returns how many data bytes are still expected and sets
 * *where to their destination; after receiving n (<= that) bytes there,
 * tcp_rx_data_placed() accounts for them (and runs the data digest).
 * Returns 0 (and *where = NULL) when no data can be placed now: no
 * destination (discard), PDO padding still to be fed through tcp_rx_feed(),
 * or not in the data phase. When all data is placed, call tcp_rx_feed()
 * (with the data digest bytes, or with len 0 if there is none) to get
 * TCP_RX_PDU.
 */
uint32_t tcp_rx_data_wanted(const struct tcp_rx *rx, void **where);
void tcp_rx_data_placed(struct tcp_rx *rx, uint32_t n);

/*
 * For a controller whose last payload was placed directly, so that the
 * next PDU is likely the next H2CData of a large write: the bytes up to
 * the end of that PDU's header, digest and padding (and of the current
 * PDU's data digest before it). A receive of that many bytes leaves the
 * data to a direct placement instead of staging (and copying) the start
 * of it. 0 when the codec is not between PDUs (or at the data digest).
 */
uint32_t tcp_rx_h2c_hdr_wanted(const struct tcp_rx *rx);

/*
 * Called once ICReq/ICResp are exchanged and rx->p holds the result: right
 * after the ICReq / ICResp PDU is reported, before feeding more bytes.
 * Until then only ICReq (controller) / ICResp (host) and TermReq are
 * accepted; afterwards a second ICReq / ICResp is a PDU Sequence Error.
 */
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
 * Data must stay valid until the PDU is sent, and the struct must not move
 * (iov points into it). The data digest is computed at build time.
 *
 * Builders taking p apply p->hdgst / p->ddgst / p->txpda, so pass the
 * negotiated parameters (all false / 0 before the IC exchange). HDGSTF is
 * set on every such PDU when p->hdgst; DDGSTF only on PDUs carrying data.
 * PDO = HLEN (+4) rounded up to (txpda + 1) * 4 when txpda != 0 and data
 * is present, else HLEN (+4) with data and 0 without. cccid / ttag are
 * opaque: stored exactly as passed (as read from the wire).
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
/*
 * The same, with the data copied from src into dst (datal bytes) as the
 * PDU is built, the digest computed in that pass. For data that may change
 * before the kernel takes it: the PDU carries dst, which stays as built.
 */
void tcp_build_c2h_data_copy(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
			     uint32_t datao, void *dst, const void *src, uint32_t datal,
			     uint8_t flags);
void tcp_build_r2t(struct tcp_tx_pdu *t, const struct tcp_conn_params *p, uint16_t cccid,
		   uint16_t ttag, uint32_t r2to, uint32_t r2tl);
/*
 * type: NVME_TCP_H2C_TERM or NVME_TCP_C2H_TERM. The offending PDU header
 * (up to NVME_TCP_TERM_DATA_MAX bytes of it) is copied into the PDU.
 */
void tcp_build_term_req(struct tcp_tx_pdu *t, uint8_t type, uint16_t fes, uint32_t fei,
			const void *bad_hdr, uint32_t bad_len);
