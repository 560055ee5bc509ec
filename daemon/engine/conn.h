/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One TCP connection = one NVMe queue (NVMe/TCP 1.0).
 *
 * RX (STYLE.md 4.3 strategy A, "targeted recv"): at most one IORING_OP_RECV
 * is outstanding per connection. When the codec wants payload bytes and
 * none are staged, the recv goes straight into the command's buffer
 * (tcp_rx_data_wanted / tcp_rx_data_placed); otherwise it fills the
 * per-connection staging buffer (headers, digests, small payloads). Only
 * bytes that arrived in the staging buffer together with their header are
 * copied. RX pauses (no recv armed) while a command waits for a buffer for
 * its in-capsule data, before a hand-off, while draining, and when closing.
 *
 * TX: PDUs wait in a per-connection queue (the ICResp, then commands in
 * completion order, then at most one TermReq); once per loop iteration the
 * worker turns the queue into one batch: up to CONN_TX_BATCH PDUs built
 * into a batch's storage (headers, digests) and sent with one
 * IORING_OP_SENDMSG (MSG_NOSIGNAL), or IORING_OP_SENDMSG_ZC when the batch
 * carries at least the worker's zc_threshold bytes of C2HData payload
 * (conn_zc.c); a short send resubmits the rest. A zero-copy batch keeps
 * everything its iovecs name (headers, digests, the commands' data) until
 * its notification CQEs (IORING_CQE_F_NOTIF) have arrived; meanwhile the
 * next batches go out from other batch storage (at most CONN_TX_INFLIGHT
 * per connection). Batches are released oldest first, so a command whose
 * earlier C2HData went out in a zero-copy batch keeps its buffer until
 * that batch is released too.
 *
 * Teardown: conn_close() stops RX, cancels what is outstanding on the fd
 * and shuts the socket down; the connection is freed only when no recv,
 * send, zero-copy notification, backend I/O or hand-off message of it is
 * in flight (conn_reap()), so no buffer is reused while the kernel may
 * still use it; when only notifications are left the socket is closed
 * early (reset if the close was), so that they come. Then the
 * commands and buffers go back, the controller is told (ctrl_queue_gone,
 * ctrl_put) and the fd is closed.
 *
 * Thread: the owning worker (conn->w); conn_adopt() moves it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ctrl.h"
#include "fabrics_auth.h"
#include "log.h"
#include "pdu.h"
#include "tls_record.h"
#include "tls_session.h"
#include "worker.h"

#define CONN_RXBUF_SIZE	  (16u << 10)  /* staging: headers and small payloads, at first */
#define CONN_RXBUF_MAX	  (128u << 10) /* grown to when a receive fills it (conn.c) */
#define CONN_RX_H2C_STAGE 2048	       /* staging while H2CData is due (rx_arm) */
#define CONN_TX_BATCH	  32	       /* PDUs per sendmsg */
#define CONN_TX_INFLIGHT  4	       /* batches sent and not yet released (ZC notifications) */
#define CONN_C2H_CHUNK	  (128u << 10) /* C2HData DATAL at most */
/* The data buffer bytes a connection may hold, the ICReq and PDU deadlines:
 * nvmfd.ini(5) LIMITS (target_params). */
#define CONN_CONNECT_TIMEOUT_MS 60000 /* Fabrics Connect after accept */
#define CONN_LINGER_MS		2000  /* after a TermReq / FIN: wait for the host's FIN */
#define CONN_QID_NONE		0xffff

/* Why RX is paused (bits). */
enum {
	RXP_BUF = 1 << 0,     /* a command waits for a buffer for its in-capsule data */
	RXP_HANDOFF = 1 << 1, /* Connect done: the connection moves to another worker */
	RXP_DRAIN = 1 << 2,   /* graceful stop: no new commands */
};

enum conn_close_how {
	CLOSE_NOW,	/* reset: shutdown(RDWR), cancel, drop what is queued */
	CLOSE_AFTER_TX, /* send what is queued (a TermReq, answers), then FIN and linger */
};

struct tx_slot {
	struct tcp_tx_pdu pdu;
	struct cmd *done; /* this PDU ends that command */
};

/*
 * One send: the PDUs' storage and the iovecs naming it. The send CQE's
 * user_data is OP_SEND | batch. The iovecs and msg may change once a send
 * CQE is in (a short send); the slots stay untouched until it is released.
 */
struct tx_batch {
	struct conn *conn;
	struct tx_batch *next; /* the connection's sent FIFO, or its spares */
	struct tx_slot slot[CONN_TX_BATCH];
	unsigned int n;
	struct iovec iov[CONN_TX_BATCH * 4];
	struct msghdr msg;
	size_t total, sent;
	uint32_t payload;      /* C2HData bytes in it */
	struct tls_outbuf tls; /* TLS: the ciphertext this batch sends (conn_tls.c) */
	bool zc;	       /* sent with SENDMSG_ZC */
	bool sending;	       /* a send SQE of it is in flight */
	bool finished;	       /* all sent, or given up */
	int notifs;	       /* notification CQEs still to come */
} __attribute__((aligned(8)));

struct conn {
	struct worker *w;
	struct conn *prev, *next; /* the worker's list */
	struct conn *tx_next;	  /* the worker's TX-pending list */
	bool tx_listed;
	uint32_t id; /* for logs, unique in the process */
	int fd;
	char peer[80];	    /* "addr:port" */
	struct listener *l; /* holds a reference */
	int64_t accepted_ms;
	struct sockaddr_storage peer_ss;
	bool lim_pending; /* counted for its address (conn_limits.h): not connected yet */

	/* TLS (conn_tls.c): set at accept on a tls_listen port */
	bool tls_mode;		 /* accepted on a TLS port: nothing in plain text */
	struct tls_session *tls; /* userspace record layer; NULL for plain text */
	bool tls_up;		 /* the handshake is complete */
	bool ktls;		 /* ... and the kernel does the records (tls is NULL) */
	/*
	 * ... or user space does them with the exported secrets (tls is NULL):
	 * ciphertext is received into rxbuf [ct_off, ct_len) and each record
	 * opened in place there; rx_off / rx_len then stage its plaintext
	 */
	struct tls_record *rec;
	struct tls_outbuf rec_pre; /* the handshake's last bytes, sent before any record */
	uint32_t ct_off, ct_len;
	bool rec_alert_owed; /* a fatal alert (rec_alert) goes out before the FIN */
	uint8_t rec_alert;
	bool tls_first_seen;  /* the first bytes of the connection were looked at */
	bool tls_in_pump;     /* in rx_tls_pump (no re-entry) */
	bool tls_notify_sent; /* close_notify queued */
	char tls_host[224];   /* the host NQN its identity named (logs) */

	/* codec */
	struct tcp_conn_params p;
	struct tcp_rx rx;

	/* RX */
	uint8_t *rxbuf;
	uint32_t rxbuf_size; /* CONN_RXBUF_SIZE .. CONN_RXBUF_MAX */
	bool rx_full;	     /* the last staging receive filled rxbuf */
	uint32_t rx_whole;   /* its bytes up to the end of its last whole PDU */
	uint32_t rx_off, rx_len;
	bool recv_armed;
	bool recv_direct; /* the armed recv places payload bytes */
	bool rx_hdr_next; /* a direct placement ended: the next staging recv takes one header */
	uint32_t recv_want;
	unsigned int rx_pause;	/* RXP_* */
	struct cmd *rx_cmd;	/* the command whose in-capsule data is arriving */
	struct cmd *fuse_first; /* a fused first half waiting for its second (Base 3.4.2) */
	/* on a TCP_RX_HEADER: the staged bytes that follow the header (cmd.c) */
	const uint8_t *rx_staged;
	uint32_t rx_staged_len;
	uint8_t term_data[NVME_TCP_TERM_DATA_MAX]; /* a received H2CTermReq's data */
	int64_t log_quota_ms;			   /* rate limit for peer-triggered warnings */
	uint64_t rx_pdus;			   /* PDUs received whole */
	uint64_t pdu_mark;   /* pdu_timeout: rx_pdus when the PDU in progress was seen */
	int64_t pdu_seen_ms; /* 0: no PDU in progress at the last tick */

	/* the NVMe queue */
	bool connected;
	struct ctrl *ctrl;  /* a reference, after Connect */
	struct qauth *auth; /* in-band authentication of this queue (NULL: none asked) */
	uint16_t qid;	    /* CONN_QID_NONE before Connect */
	uint32_t qsize;	    /* entries: outstanding commands allowed */
	bool sqfc_disabled; /* Connect CATTR: no SQ flow control */
	uint32_t sqhd;
	struct worker *handoff_to;

	/* commands */
	struct cmd **slots; /* [nslots]; [0, nslots_used) allocated */
	uint32_t nslots;
	uint32_t nslots_used;
	struct cmd *free_cmds;
	uint32_t nr_outstanding; /* received, last PDU not yet batched */
	uint32_t nr_await_h2c;	 /* commands that still receive H2CData */
	uint32_t nr_held;	 /* of the outstanding ones, AERs held by the controller */
	uint32_t nr_be;		 /* backend I/O in flight */
	size_t buf_bytes;	 /* pool bytes held by its commands */

	/* TX */
	bool icresp_pending;
	uint8_t ic_dgst;   /* the digests the host asked for, echoed */
	bool term_pending; /* a C2HTermReq goes out after what is queued */
	uint16_t term_fes;
	uint32_t term_fei;
	uint32_t term_hdr_len;
	uint8_t term_hdr[NVME_TCP_TERM_DATA_MAX];
	struct cmd *txq, **txq_tail;
	bool send_armed;
	struct tx_batch *tx_head; /* sent batches not yet released, oldest first */
	struct tx_batch **tx_tail;
	struct tx_batch *tx_spare; /* batches to build into */
	unsigned int nr_batches;   /* allocated: in the FIFO or spare */
	int nr_notif;		   /* zero-copy notification CQEs still to come */
	bool zc_remote;		   /* the peer is not on this machine: zero-copy pays */

	/* teardown */
	bool closing;  /* no new work; waiting for in-flight ops */
	bool tx_close; /* CLOSE_AFTER_TX: flush, then FIN */
	bool fin_sent;
	bool cancel_sent;
	int64_t linger_ms; /* give up waiting for the host's FIN then */
	bool msg_inflight; /* a MSG_RING hand-off of this conn */
	bool stop_drain;   /* graceful stop in progress */
} __attribute__((aligned(8)));

#define conn_log(lvl, c, fmt, ...)                                \
	log_msg(lvl, "w%u c%u q%d %s: " fmt, (c)->w->id, (c)->id, \
		(c)->qid == CONN_QID_NONE ? -1 : (int)(c)->qid, (c)->peer, ##__VA_ARGS__)
#define conn_err(c, ...)  conn_log(LOGL_ERR, c, __VA_ARGS__)
#define conn_warn(c, ...) conn_log(LOGL_WARN, c, __VA_ARGS__)
#define conn_info(c, ...) conn_log(LOGL_INFO, c, __VA_ARGS__)
#define conn_dbg(c, ...)                                      \
	do {                                                  \
		if (log_level >= LOGL_DEBUG)                  \
			conn_log(LOGL_DEBUG, c, __VA_ARGS__); \
	} while (0)

/* A new connection from accept(2) on listener l; takes fd (closes it on failure). */
void conn_accept(struct worker *w, struct listener *l, int fd);

/* CQE handlers. */
void conn_recv_done(struct conn *c, int res);
/* A send CQE of b (OP_SEND): the send's result, or (F_NOTIF) a notification. */
void conn_send_cqe(struct tx_batch *b, int res, uint32_t flags);
/* Our MSG_RING carrying c to another worker completed with res. */
void conn_handoff_sent(struct conn *c, int res);
/* c arrives from another worker: it is now w's. */
void conn_adopt(struct worker *w, struct conn *c);

/* Build and submit the next send batch (the worker's TX flush). */
void conn_tx_flush(struct conn *c);
/* Queue a command's answer (its txp says what goes first). */
void conn_tx_cmd(struct conn *c, struct cmd *cmd);

/* Connect succeeded: the connection no longer counts for its address (conn_limits.h). */
void conn_connected(struct conn *c);

/* Re-evaluate RX after a pause bit was cleared or bytes were staged. */
void conn_rx_resume(struct conn *c, unsigned int clear);

/*
 * A fatal transport error (NVMe/TCP 7.4.7 / 3.6.2.4): queue a C2HTermReq
 * carrying hdr (hdr_len bytes of the offending header), log one line, and
 * close once it is sent. Returns -EBADMSG for the caller to propagate.
 */
int conn_fatal(struct conn *c, uint16_t fes, uint32_t fei, const void *hdr, uint32_t hdr_len,
	       const char *what);

void conn_close(struct conn *c, enum conn_close_how how, const char *why);

/* Periodic checks: deadlines, keep-alive, dead controllers, draining. */
void conn_tick(struct conn *c);
/* Graceful stop: stop reading new commands, finish, close. */
void conn_drain(struct conn *c);

/* Free c if it is closing and nothing of it is in flight. Returns true if freed. */
bool conn_reap(struct conn *c);

/* The slot table can hold the queue plus CONN_TX_INFLIGHT send batches. */
int conn_set_qsize(struct conn *c, uint32_t qsize);

/* "addr:port" ("[addr]:port" for IPv6), the numeric host and the port of ss. */
void conn_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len, char *host,
		   size_t hostlen, uint16_t *port);

/* conn.c and conn_tx.c only. */
void conn_fin(struct conn *c);
void conn_maybe_handoff(struct conn *c);
/* The first batch storage (at accept); 0 or -ENOMEM. Free them all (conn_free). */
int conn_tx_init(struct conn *c);
void conn_tx_fini(struct conn *c);

/*
 * TLS record layer (conn_tls.c): TLS 1.3 with a PSK (NVMe/TCP 1.1 3.6.1)
 * between the socket and the codec, in userspace over memory BIOs; the
 * worker that owns the connection encrypts and decrypts; the codec never
 * knows.
 *
 * conn_tls_setup(): once, before the workers start (the shared context).
 * conn_tls_start(): at accept on a TLS port; 0 or -errno.
 * conn_tls_input(): n received bytes at p go into the session; drives the
 *   handshake; once it is done, hands the records to kernel TLS where the
 *   kernel has it (then c->tls is NULL, c->ktls set, and what the session
 *   had decrypted is staged in rxbuf). 0, or < 0 when the connection was
 *   closed. NVMFD_KTLS=0 in the environment keeps every record in user
 *   space.
 * conn_tls_read(): plaintext into buf: > 0, -EAGAIN (receive more), or
 *   < 0 when the connection was closed (logged, counted).
 * conn_tls_encrypt(): b's iovcnt iovecs become ciphertext records, and b's
 *   iovec is that ciphertext (*iovcnt 1, or 0 when there is nothing to
 *   send); with iovcnt 0 it sends what the session holds (handshake,
 *   alerts). 0 or < 0 (closed).
 * conn_tls_out_pending(): the session holds bytes to send.
 * conn_tls_plain_check(): on a plain port, the first n bytes: -EPROTO (and
 *   closed) if they start a ClientHello.
 * conn_tls_eof(): the host closed its side before the handshake finished,
 *   or inside a record (truncated): log, count, close.
 * conn_tls_timeout(): conn_tick, the handshake is unfinished at the ICReq
 *   deadline: log, count, close.
 */
int conn_tls_setup(void);
void conn_tls_teardown(void);
int conn_tls_start(struct conn *c);
void conn_tls_free(struct conn *c);
int conn_tls_input(struct conn *c, const uint8_t *p, uint32_t n);
ssize_t conn_tls_read(struct conn *c, void *buf, size_t len);
int conn_tls_encrypt(struct conn *c, struct tx_batch *b, int *iovcnt);
bool conn_tls_out_pending(struct conn *c);
int conn_tls_plain_check(struct conn *c, const uint8_t *p, uint32_t n);
void conn_tls_timeout(struct conn *c);
/* The host closed its side before the handshake finished. */
void conn_tls_eof(struct conn *c);
/*
 * User-space records (c->rec): the record layer failed with err (or the
 * host closed inside a record: -ECONNRESET): count, log, send the alert
 * owed and close. Returns err.
 */
int conn_tls_rec_fail(struct conn *c, int err);
/* Kernel TLS: close_notify (RFC 8446 6.1) as an alert record, before our FIN. */
void conn_tls_ktls_close(struct conn *c);
/* The receive buffer for user-space records: the largest staging buffer and one record. */
#define CONN_TLS_RXBUF (CONN_RXBUF_MAX + TLS_RECORD_MAX_WIRE)

/*
 * Zero-copy send (conn_zc.c), per worker. conn_zc_setup(): at worker start,
 * probe IORING_OP_SENDMSG_ZC, read NVMFD_ZC_THRESHOLD, log the choice.
 */
#define CONN_ZC_THRESHOLD (16u << 10) /* payload bytes of a batch; the default */
void conn_zc_setup(struct worker *w);
/* Whether the peer (of socket fd) is on another machine. */
bool conn_zc_remote(int fd, const struct sockaddr_storage *peer);
/* Whether a batch with payload C2HData bytes goes out with SENDMSG_ZC. */
bool conn_zc_wanted(const struct conn *c, uint32_t payload);
void conn_zc_prep(struct worker *w, struct io_uring_sqe *sqe, int fd, const struct msghdr *msg);
/* A notification CQE's res (usage report). */
void conn_zc_notif(struct worker *w, int res);
/*
 * The kernel refused a SENDMSG_ZC before sending anything (res, no F_MORE):
 * true if the worker changed its ZC settings and the batch may be sent again.
 */
bool conn_zc_refused(struct worker *w, int res);
/* At worker exit: what was sent zero-copy (debug). */
void conn_zc_report(const struct worker *w);
