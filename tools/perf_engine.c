/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmf-perf's I/O engine: one thread, one io_uring ring, the I/O queues
 * nvmf-perf.c connected and detached (perf.h). Per queue one receive and
 * at most one send are in flight; everything a ring wake-up produces
 * (new commands after completions, H2CData answering R2Ts) is gathered and
 * leaves in one sendmsg per queue. The sockets are registered files; slots,
 * PDUs, iovecs and data buffers are allocated once, before the run.
 *
 * Loop: flush the sends, io_uring_submit_and_wait() (DEFER_TASKRUN: that
 * call also runs the completions; with --poll the thread spins on
 * io_uring_submit_and_get_events() instead of sleeping), one clock read,
 * every CQE handled, one cq_advance. Latency is timed from the wake-up that queued a command to
 * the wake-up that saw its completion, so it includes the ring batching a
 * real application would see.
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "byteorder.h"
#include "pdu.h"
#include "perf.h"
#include "status.h"
#include "tls_session.h"

#define RXBUF_SIZE   (128u << 10)
#define MAX_SEND_IOV 1024		  /* IOV_MAX */
#define DRAIN_NS     (10ull * 1000000000) /* commands still out this long after the end */
#define IDLE_WAIT_NS (100ull * 1000000)

enum { OP_RECV = 1, OP_SEND = 2, OP_MASK = 3 };

struct slot {
	bool busy, write, failed;
	uint16_t cid;
	uint64_t slba;
	uint64_t t_submit;
	uint32_t rcvd, sent;
	uint8_t *buf;
	struct tcp_tx_pdu cmd;
	struct tcp_tx_pdu *h2c; /* ceil(io_size / h2c_max) of them */
};

struct queue {
	struct worker *w;
	const struct nvmf_tcp_queue_info *info;
	unsigned int index; /* registered file index */
	unsigned int gindex;
	struct tcp_conn_params params;
	struct tcp_rx rx;
	struct slot *slots;
	unsigned int nslots, inflight, nh2c;
	uint8_t *data;
	uint8_t *rxbuf;
	uint32_t rx_len, rx_off;
	uint32_t placing; /* bytes asked for by a direct-placement receive */
	bool recv_busy, send_busy;
	struct iovec *pend, *fly;
	unsigned int npend, nfly, fly_off, iov_cap;
	struct msghdr msg;
	uint64_t rng;
	uint64_t seq_first, seq_end, seq_next; /* in commands */
	uint8_t term_data[NVME_TCP_TERM_DATA_MAX];
	/* TLS: records through info->tls; ciphertext in, and out (one iovec) */
	uint8_t *tls_in;
	struct tls_outbuf tls_out;
	struct iovec tls_iov;
};

struct worker {
	struct perf_thread *t;
	const struct perf_job *job;
	struct io_uring ring;
	struct queue *q;
	unsigned int nq;
	uint32_t nlb;  /* blocks per command */
	uint64_t nios; /* commands that fit in the region */
	uint64_t now;
	bool measuring, stopping, failed;
	uint64_t t_measure0, cpu0;
	uint64_t stop_at;
	unsigned int inflight;
};

uint64_t perf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(struct worker *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The first fatal error of the thread ends it (and, through *stop, the run). */
static int fail(struct worker *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (!w->failed) {
		w->failed = true;
		w->t->error = err;
		va_start(ap, fmt);
		vsnprintf(w->t->errmsg, sizeof(w->t->errmsg), fmt, ap);
		va_end(ap);
		atomic_store(w->t->stop, true);
	}
	return err;
}

/* A command failed but the queue lives on: count it, keep the first message. */
static void note_error(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_error(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->t->errmsg[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(w->t->errmsg, sizeof(w->t->errmsg), fmt, ap);
	va_end(ap);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- Sending ---- */

static struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (sqe == NULL) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static void queue_pdu(struct queue *q, const struct tcp_tx_pdu *t)
{
	for (int i = 0; i < t->iovcnt; i++)
		q->pend[q->npend++] = t->iov[i];
}

static int arm_send(struct queue *q)
{
	struct io_uring_sqe *sqe = get_sqe(q->w);
	unsigned int n = q->nfly - q->fly_off;

	if (sqe == NULL)
		return fail(q->w, -EBUSY, "queue %u: the submission queue is full", q->info->qid);
	q->msg.msg_iov = q->fly + q->fly_off;
	q->msg.msg_iovlen = n < MAX_SEND_IOV ? n : MAX_SEND_IOV;
	io_uring_prep_sendmsg(sqe, (int)q->index, &q->msg, MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)q | OP_SEND);
	q->send_busy = true;
	return 0;
}

/*
 * TLS: what was gathered becomes records (the session encrypts into a
 * buffer this queue owns until the send completes), sent as one iovec.
 */
static int flush_tls(struct queue *q)
{
	struct tls_session *t = q->info->tls;
	ssize_t n = q->npend ? tls_session_write(t, q->pend, (int)q->npend) : 0;

	if (n < 0)
		return fail(q->w, (int)n, "queue %u: TLS: %s", q->info->qid, tls_session_error(t));
	q->npend = 0;
	if (tls_session_take_out(t, &q->tls_out) == 0)
		return 0;
	q->tls_iov.iov_base = q->tls_out.base + q->tls_out.off;
	q->tls_iov.iov_len = q->tls_out.len;
	q->fly[0] = q->tls_iov;
	q->nfly = 1;
	q->fly_off = 0;
	return arm_send(q);
}

/* Everything gathered since the last send leaves in one sendmsg. */
static int flush(struct queue *q)
{
	struct iovec *tmp;

	if (q->send_busy || q->npend == 0)
		return 0;
	if (q->info->tls != NULL)
		return flush_tls(q);
	tmp = q->fly;
	q->fly = q->pend;
	q->pend = tmp;
	q->nfly = q->npend;
	q->fly_off = 0;
	q->npend = 0;
	return arm_send(q);
}

static int on_send(struct queue *q, int res)
{
	size_t n;

	q->send_busy = false;
	if (res == -EINTR || res == -EAGAIN)
		return arm_send(q);
	if (res < 0)
		return fail(q->w, res, "queue %u: send: %s", q->info->qid, strerror(-res));
	n = (size_t)res;
	while (n > 0 && q->fly_off < q->nfly) {
		struct iovec *v = &q->fly[q->fly_off];
		size_t k = n < v->iov_len ? n : v->iov_len;

		v->iov_base = (uint8_t *)v->iov_base + k;
		v->iov_len -= k;
		n -= k;
		if (v->iov_len == 0)
			q->fly_off++;
	}
	if (q->fly_off < q->nfly)
		return arm_send(q);
	return flush(q);
}

/* ---- Commands ---- */

static bool pick_write(struct queue *q)
{
	switch (q->w->job->workload) {
	case WL_WRITE:
	case WL_RANDWRITE:
		return true;
	case WL_RW:
	case WL_RANDRW:
		return rng_next(&q->rng) % 100 >= q->w->job->read_pct;
	default:
		return false;
	}
}

static uint64_t pick_lba(struct queue *q)
{
	const struct perf_job *job = q->w->job;
	uint64_t i;

	if (job->workload == WL_RANDREAD || job->workload == WL_RANDWRITE ||
	    job->workload == WL_RANDRW) {
		i = (uint64_t)(((unsigned __int128)rng_next(&q->rng) * q->w->nios) >> 64);
	} else {
		i = q->seq_next++;
		if (q->seq_next == q->seq_end)
			q->seq_next = q->seq_first;
	}
	return job->first_lba + i * q->w->nlb;
}

static void start_io(struct queue *q, struct slot *s)
{
	const struct perf_job *job = q->w->job;
	struct nvme_sqe sqe;
	bool icd;

	s->write = job->fill || pick_write(q);
	s->slba = pick_lba(q);
	if (job->fill && q->seq_next == q->seq_first)
		q->seq_end = q->seq_first; /* wrapped: this share is written once */
	s->busy = true;
	s->failed = false;
	s->rcvd = 0;
	s->sent = 0;
	s->t_submit = q->w->now;
	if (s->write && (job->verify || job->fill))
		pattern_fill(s->buf, s->slba, q->w->nlb, job->lbs, job->seed);
	icd = s->write && job->io_size <= q->info->max_icd;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = s->write ? NVME_CMD_WRITE : NVME_CMD_READ;
	sqe.cid = s->cid;
	sqe.nsid = htole32(job->nsid);
	sqe.flags = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	sqe.sgl1.length = htole32(job->io_size);
	sqe.sgl1.type = icd ? NVME_SGL_ICD : NVME_SGL_TRANSPORT_DB;
	sqe.cdw10 = htole32((uint32_t)s->slba);
	sqe.cdw11 = htole32((uint32_t)(s->slba >> 32));
	sqe.cdw12 = htole32(NVMEF(NVME_RW_NLB, q->w->nlb - 1));
	tcp_build_cmd(&s->cmd, &q->params, &sqe, icd ? s->buf : NULL, icd ? job->io_size : 0);
	if (icd)
		s->sent = job->io_size;
	queue_pdu(q, &s->cmd);
	q->inflight++;
	q->w->inflight++;
}

/* May this queue start another command? */
static bool may_start(struct queue *q)
{
	const struct perf_job *job = q->w->job;

	if (q->w->stopping || q->w->failed || job->workload == WL_IDLE)
		return false;
	if (job->fill)
		return q->seq_end != q->seq_first;
	return true;
}

static void account(struct worker *w, struct slot *s)
{
	struct perf_stats *st = &w->t->stats;
	unsigned int dir = s->write ? 1 : 0;

	if (!w->measuring || w->stopping)
		return;
	st->ios[dir]++;
	st->bytes[dir] += w->job->io_size;
	hist_add(&st->lat[dir], w->now - s->t_submit);
}

static void verify_read(struct queue *q, struct slot *s)
{
	const struct perf_job *job = q->w->job;
	struct perf_stats *st = &q->w->t->stats;
	uint64_t bad;
	char why[160];

	if (pattern_check(s->buf, s->slba, q->w->nlb, job->lbs, job->seed, &bad, why,
			  sizeof(why)) == 0) {
		st->verified_blocks += q->w->nlb;
		return;
	}
	st->verify_errors++;
	note_error(q->w,
		   "verify: queue %u: LBA %" PRIu64 " (read of %u blocks at %" PRIu64 ") holds %s",
		   q->info->qid, bad, q->w->nlb, s->slba, why);
}

static void complete(struct queue *q, struct slot *s, uint16_t status)
{
	struct worker *w = q->w;

	if (status != 0 || s->failed) {
		w->t->stats.errors++;
		if (status != 0)
			note_error(w,
				   "queue %u: %s of %u blocks at LBA %" PRIu64 " failed: status "
				   "0x%x (SCT %u SC 0x%02x)",
				   q->info->qid, s->write ? "write" : "read", w->nlb, s->slba,
				   status, (status >> 8) & 7, status & 0xff);
		else
			note_error(w, "queue %u: data digest error reading LBA %" PRIu64,
				   q->info->qid, s->slba);
	} else if (!s->write && w->job->verify) {
		verify_read(q, s);
	}
	account(w, s);
	s->busy = false;
	q->inflight--;
	w->inflight--;
	if (may_start(q))
		start_io(q, s);
}

/* ---- Receiving ---- */

static struct slot *slot_of(struct queue *q, uint16_t cid)
{
	return cid < q->nslots && q->slots[cid].busy ? &q->slots[cid] : NULL;
}

static int proto_err(struct queue *q, const char *what)
{
	return fail(q->w, -EPROTO, "queue %u: %s PDU from the controller: %s", q->info->qid,
		    tcp_pdu_type_name(q->rx.hdr.ch.pdu_type), what);
}

static int on_header(struct queue *q)
{
	const struct nvme_tcp_c2h_data *h = &q->rx.hdr.c2h;
	struct slot *s;
	uint32_t datao, datal;

	if (h->ch.pdu_type == NVME_TCP_C2H_TERM) {
		tcp_rx_set_data(&q->rx, q->term_data);
		return 0;
	}
	if (h->ch.pdu_type != NVME_TCP_C2H_DATA) {
		tcp_rx_set_data(&q->rx, NULL);
		return 0;
	}
	s = slot_of(q, h->cccid);
	datao = le32toh(h->datao);
	datal = le32toh(h->datal);
	if (s == NULL || s->write)
		return proto_err(q, "no such read command");
	if (datao != s->rcvd || datal > q->w->job->io_size - datao)
		return proto_err(q, "data out of order or out of range");
	tcp_rx_set_data(&q->rx, s->buf + datao);
	return 0;
}

static int on_c2h(struct queue *q)
{
	const struct nvme_tcp_c2h_data *h = &q->rx.hdr.c2h;
	struct slot *s = slot_of(q, h->cccid);

	if (s == NULL || tcp_rx_data_len(&q->rx) == 0)
		return proto_err(q, "no such command or no data");
	s->rcvd += le32toh(h->datal);
	if (q->rx.ddgst_err)
		s->failed = true;
	if (h->ch.flags & NVME_TCP_F_DATA_SUCCESS) {
		if (s->rcvd != q->w->job->io_size)
			return proto_err(q, "SUCCESS before all data");
		complete(q, s, 0);
	}
	return 0;
}

static int on_r2t(struct queue *q)
{
	const struct nvme_tcp_r2t *r = &q->rx.hdr.r2t;
	struct slot *s = slot_of(q, r->cccid);
	uint32_t off = le32toh(r->r2to), len = le32toh(r->r2tl), end = off + len;
	unsigned int i = 0;

	if (s == NULL || !s->write || len == 0 || off != s->sent || len > q->w->job->io_size - off)
		return proto_err(q, "no such write command, or R2TO / R2TL out of range");
	while (off < end) {
		uint32_t n = end - off < q->info->h2c_max ? end - off : q->info->h2c_max;

		tcp_build_h2c_data(&s->h2c[i], &q->params, s->cid, r->ttag, off, s->buf + off, n,
				   off + n == end);
		queue_pdu(q, &s->h2c[i]);
		off += n;
		i++;
	}
	s->sent = end;
	return 0;
}

static int on_rsp(struct queue *q)
{
	const struct nvme_cqe *cqe = &q->rx.hdr.rsp.cqe;
	struct slot *s = slot_of(q, cqe->cid);
	uint16_t status = nvme_cqe_status(cqe);

	if (s == NULL)
		return proto_err(q, "no such command");
	if (status == 0 && (s->write ? s->sent : s->rcvd) != q->w->job->io_size)
		return proto_err(q, "success before all data moved");
	complete(q, s, status);
	return 0;
}

static int on_pdu(struct queue *q)
{
	const struct nvme_tcp_term_req *t = &q->rx.hdr.term;

	switch (q->rx.hdr.ch.pdu_type) {
	case NVME_TCP_RSP:
		return on_rsp(q);
	case NVME_TCP_C2H_DATA:
		return on_c2h(q);
	case NVME_TCP_R2T:
		return on_r2t(q);
	case NVME_TCP_C2H_TERM:
		return fail(q->w, -ECONNRESET, "queue %u: the controller sent C2HTermReq: %s",
			    q->info->qid, tcp_fes_name(le16toh(t->fes)));
	default:
		return proto_err(q, "unexpected");
	}
}

static int arm_recv(struct queue *q)
{
	struct io_uring_sqe *sqe = get_sqe(q->w);
	void *where = NULL;
	uint32_t want = tcp_rx_data_wanted(&q->rx, &where);

	if (sqe == NULL)
		return fail(q->w, -EBUSY, "queue %u: the submission queue is full", q->info->qid);
	if (q->info->tls != NULL) {
		/* ciphertext; the plaintext is read out where the codec wants it (on_recv_tls) */
		q->placing = 0;
		io_uring_prep_recv(sqe, (int)q->index, q->tls_in, RXBUF_SIZE, 0);
	} else if (want >= 4096) {
		/* Large payloads go straight into the command's buffer. */
		q->placing = want;
		io_uring_prep_recv(sqe, (int)q->index, where, want, 0);
	} else {
		q->placing = 0;
		io_uring_prep_recv(sqe, (int)q->index, q->rxbuf, RXBUF_SIZE, 0);
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)q | OP_RECV);
	q->recv_busy = true;
	return 0;
}

/* Run the codec over the staged bytes, handling each event. */
static int feed(struct queue *q)
{
	enum tcp_rx_event ev;
	ssize_t n;
	int ret;

	do {
		n = tcp_rx_feed(&q->rx, q->rxbuf + q->rx_off, q->rx_len - q->rx_off, &ev);
		if (n < 0)
			return fail(q->w, (int)n,
				    "queue %u: invalid %s PDU from the controller: %s",
				    q->info->qid, tcp_pdu_type_name(q->rx.hdr.ch.pdu_type),
				    tcp_fes_name(q->rx.fes));
		q->rx_off += (uint32_t)n;
		ret = 0;
		if (ev == TCP_RX_HEADER)
			ret = on_header(q);
		else if (ev == TCP_RX_PDU)
			ret = on_pdu(q);
		if (ret)
			return ret;
	} while (ev != TCP_RX_NEED_MORE);
	return 0;
}

/* TLS: records in; plaintext into the command's buffer or rxbuf, then the codec. */
static int on_recv_tls(struct queue *q, uint32_t len)
{
	struct tls_session *t = q->info->tls;
	ssize_t n;
	int ret;

	if (tls_session_feed(t, q->tls_in, len))
		return fail(q->w, -ENOMEM, "out of memory");
	for (;;) {
		void *where = NULL;
		uint32_t want = tcp_rx_data_wanted(&q->rx, &where);

		n = tls_session_read(t, want ? where : q->rxbuf, want ? want : RXBUF_SIZE);
		if (n == -EAGAIN)
			break;
		if (n <= 0)
			return fail(q->w, n ? (int)n : -ECONNRESET, "queue %u: TLS: %s",
				    q->info->qid, n ? tls_session_error(t) : "close_notify");
		if (want) {
			tcp_rx_data_placed(&q->rx, (uint32_t)n);
			q->rx_len = q->rx_off = 0;
		} else {
			q->rx_len = (uint32_t)n;
			q->rx_off = 0;
		}
		ret = feed(q);
		if (ret)
			return ret;
	}
	return arm_recv(q);
}

static int on_recv(struct queue *q, int res)
{
	int ret;

	q->recv_busy = false;
	if (res == -EINTR || res == -EAGAIN || res == -ENOBUFS)
		return arm_recv(q);
	if (res < 0)
		return fail(q->w, res, "queue %u: receive: %s", q->info->qid, strerror(-res));
	if (res == 0)
		return fail(q->w, -ECONNRESET, "queue %u: the controller closed the connection",
			    q->info->qid);
	if (q->info->tls != NULL)
		return on_recv_tls(q, (uint32_t)res);
	if (q->placing) {
		tcp_rx_data_placed(&q->rx, (uint32_t)res);
		q->rx_len = q->rx_off = 0;
	} else {
		q->rx_len = (uint32_t)res;
		q->rx_off = 0;
	}
	ret = feed(q);
	return ret ? ret : arm_recv(q);
}

/* ---- Setup ---- */

static int queue_init(struct worker *w, struct queue *q, unsigned int i)
{
	const struct perf_job *job = w->job;
	struct perf_thread *t = w->t;
	unsigned int ntot = t->nqueues_total;
	size_t per_slot = job->io_size;

	q->w = w;
	q->info = &t->queues[i];
	q->index = i;
	q->gindex = t->first_queue + i;
	q->params.controller = false;
	q->params.hdgst = q->info->hdgst;
	q->params.ddgst = q->info->ddgst;
	q->params.txpda = q->info->txpda;
	q->params.maxh2cdata = q->info->maxh2cdata;
	tcp_rx_init(&q->rx, &q->params);
	tcp_rx_ic_done(&q->rx);
	q->nslots = job->qd;
	q->nh2c = (job->io_size + q->info->h2c_max - 1) / q->info->h2c_max;
	q->iov_cap = q->nslots * (4 + 4 * q->nh2c) + 8;
	q->slots = calloc(q->nslots, sizeof(*q->slots));
	q->pend = calloc(q->iov_cap, sizeof(struct iovec));
	q->fly = calloc(q->iov_cap, sizeof(struct iovec));
	q->rxbuf = aligned_alloc(4096, RXBUF_SIZE);
	q->data = aligned_alloc(4096, per_slot * q->nslots);
	if (q->info->tls != NULL && (q->tls_in = malloc(RXBUF_SIZE)) == NULL)
		return fail(w, -ENOMEM, "out of memory");
	if (!q->slots || !q->pend || !q->fly || !q->rxbuf || !q->data)
		return fail(w, -ENOMEM, "out of memory");
	memset(q->data, 0, per_slot * q->nslots);
	for (unsigned int k = 0; k < q->nslots; k++) {
		q->slots[k].cid = (uint16_t)k;
		q->slots[k].buf = q->data + k * per_slot;
		q->slots[k].h2c = calloc(q->nh2c, sizeof(struct tcp_tx_pdu));
		if (q->slots[k].h2c == NULL)
			return fail(w, -ENOMEM, "out of memory");
	}
	q->rng = 0x853c49e6748fea9bull ^ ((uint64_t)job->seed << 20) ^ (q->gindex + 1) * 0x9e37ull;
	/* Sequential work: each queue has its share of the region. */
	q->seq_first = w->nios * q->gindex / ntot;
	q->seq_end = w->nios * (q->gindex + 1) / ntot;
	if (q->seq_first == q->seq_end && !job->fill) {
		q->seq_first = 0;
		q->seq_end = w->nios;
	}
	q->seq_next = q->seq_first;
	return 0;
}

static void queue_fini(struct queue *q)
{
	if (q->slots)
		for (unsigned int k = 0; k < q->nslots; k++)
			free(q->slots[k].h2c);
	free(q->slots);
	free(q->pend);
	free(q->fly);
	free(q->rxbuf);
	free(q->data);
	free(q->tls_in);
	tls_outbuf_free(&q->tls_out);
}

static int ring_init(struct worker *w)
{
	struct io_uring_params p;
	unsigned int entries = 4 * w->nq + 16;
	int *fds;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	ret = io_uring_queue_init_params(entries, &w->ring, &p);
	if (ret == -EINVAL) { /* kernels before 6.1 */
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(entries, &w->ring, &p);
	}
	if (ret)
		return fail(w, ret, "io_uring_queue_init: %s", strerror(-ret));
	fds = calloc(w->nq, sizeof(*fds));
	if (fds == NULL) {
		io_uring_queue_exit(&w->ring);
		return fail(w, -ENOMEM, "out of memory");
	}
	for (unsigned int i = 0; i < w->nq; i++)
		fds[i] = w->t->queues[i].fd;
	ret = io_uring_register_files(&w->ring, fds, w->nq);
	free(fds);
	if (ret) {
		io_uring_queue_exit(&w->ring);
		return fail(w, ret, "io_uring_register_files: %s", strerror(-ret));
	}
	return 0;
}

/* ---- The loop ---- */

static void window_begin(struct worker *w)
{
	struct perf_stats *st = &w->t->stats;
	uint64_t errors = st->errors, bad = st->verify_errors, good = st->verified_blocks;

	/* Failures and checks count over the whole run, warm-up and drain included. */
	memset(st, 0, sizeof(*st));
	st->errors = errors;
	st->verify_errors = bad;
	st->verified_blocks = good;
	w->measuring = true;
	w->t_measure0 = w->now;
	w->cpu0 = thread_cpu_ns();
}

static void window_end(struct worker *w)
{
	struct perf_stats *st = &w->t->stats;

	w->stopping = true;
	w->stop_at = w->now;
	if (w->measuring) {
		st->window_ns = w->now - w->t_measure0;
		st->cpu_ns = thread_cpu_ns() - w->cpu0;
	}
}

/* Start, stop, or give up draining, as the clock says. */
static void phase(struct worker *w)
{
	const struct perf_job *job = w->job;

	if (!w->measuring && w->now >= job->t_start)
		window_begin(w);
	if (!w->stopping && ((job->t_end != 0 && w->now >= job->t_end) ||
			     atomic_load_explicit(w->t->stop, memory_order_relaxed)))
		window_end(w);
	if (w->stopping && w->inflight != 0 && w->now - w->stop_at > DRAIN_NS)
		fail(w, -ETIMEDOUT, "%u commands still outstanding %llu s after the end",
		     w->inflight, DRAIN_NS / 1000000000);
}

static bool done(struct worker *w)
{
	bool sending = false;

	if (w->failed)
		return true;
	for (unsigned int i = 0; i < w->nq; i++)
		sending |= w->q[i].send_busy || w->q[i].npend;
	if (w->job->fill && !w->stopping && w->inflight == 0 && !sending) {
		window_end(w);
		return true;
	}
	return w->stopping && w->inflight == 0 && !sending;
}

static int wait_events(struct worker *w)
{
	struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = (long long)IDLE_WAIT_NS};
	struct io_uring_cqe *cqe;
	int ret;

	for (unsigned int i = 0; i < w->nq; i++) {
		ret = flush(&w->q[i]);
		if (ret)
			return ret;
	}
	/* With commands out there is always a completion to come; else a tick. */
	if (w->job->poll && w->inflight != 0 && !w->stopping) {
		/* Busy-poll as spdk_nvme_perf does: no sleep, no wake-up latency. */
		do
			ret = io_uring_submit_and_get_events(&w->ring);
		while (ret >= 0 && io_uring_cq_ready(&w->ring) == 0 &&
		       !atomic_load_explicit(w->t->stop, memory_order_relaxed));
	} else if (w->inflight != 0 && !w->stopping)
		ret = io_uring_submit_and_wait(&w->ring, 1);
	else
		ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
		return fail(w, ret, "io_uring_submit_and_wait: %s", strerror(-ret));
	return 0;
}

static void handle_cqes(struct worker *w)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&w->ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		struct queue *q = (struct queue *)(uintptr_t)(ud & ~(uint64_t)OP_MASK);

		n++;
		if (w->failed)
			continue;
		if ((ud & OP_MASK) == OP_RECV)
			on_recv(q, cqe->res);
		else if ((ud & OP_MASK) == OP_SEND)
			on_send(q, cqe->res);
	}
	io_uring_cq_advance(&w->ring, n);
}

static void pin(struct worker *w)
{
	cpu_set_t set;
	int ret;

	if (w->t->cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((unsigned int)w->t->cpu, &set);
	ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (ret)
		fail(w, -ret, "pinning thread %u to CPU %d: %s", w->t->id, w->t->cpu,
		     strerror(ret));
}

static void run(struct worker *w)
{
	w->now = perf_now_ns();
	for (unsigned int i = 0; i < w->nq && !w->failed; i++) {
		struct queue *q = &w->q[i];

		if (arm_recv(q))
			return;
		for (unsigned int k = 0; k < q->nslots && may_start(q); k++)
			start_io(q, &q->slots[k]);
	}
	while (!w->failed) {
		phase(w);
		if (done(w))
			break;
		if (wait_events(w))
			break;
		w->now = perf_now_ns();
		w->t->stats.wakeups++;
		handle_cqes(w);
	}
}

void *perf_thread_run(void *arg)
{
	struct perf_thread *t = arg;
	struct worker w;

	memset(&w, 0, sizeof(w));
	w.t = t;
	w.job = t->job;
	w.nq = t->nqueues;
	w.nlb = t->job->io_size / t->job->lbs;
	w.nios = t->job->nblocks / w.nlb;
	pin(&w);
	w.q = calloc(w.nq ? w.nq : 1, sizeof(*w.q));
	if (w.q == NULL) {
		fail(&w, -ENOMEM, "out of memory");
		return NULL;
	}
	for (unsigned int i = 0; i < w.nq && !w.failed; i++)
		queue_init(&w, &w.q[i], i);
	if (!w.failed && ring_init(&w) == 0) {
		run(&w);
		io_uring_queue_exit(&w.ring);
	}
	for (unsigned int i = 0; i < w.nq; i++)
		queue_fini(&w.q[i]);
	free(w.q);
	return NULL;
}
