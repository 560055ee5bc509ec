/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the daemon's whole connection receive path. The real
 * daemon runs in-process (target_init, workers_start with one worker: its
 * io_uring ring, buffer pool, conn.c, cmd*.c, RAM namespaces), listening
 * on an abstract AF_UNIX socket; each input is one connection on which
 * the host sends the input's bytes in the chunks its first bytes choose
 * (fuzz_conn.h), waiting after each chunk until the daemon has taken it
 * (SIOCOUTQ), so the daemon's recv sees that chunking. Then the host
 * half-closes and reads until the daemon closes.
 *
 * Invariants, besides ASan / UBSan: everything the daemon sends is valid
 * to the host side of the PDU codec (types, lengths, digests, PDO
 * alignment to the HPDA asked for, SUCCESS only with LAST); the daemon
 * closes within 3 s of the host's FIN (no hang); it keeps serving (the
 * next input connects).
 *
 * Before the first input, the target connects a controller of its own
 * (CNTLID FCONN_CNTLID, fuzz_conn.h) whose I/O queues the inputs may connect.
 *
 * Run it with -close_fd_mask=2 (run-fuzzers.sh does): the daemon logs
 * every protocol error to stderr.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "config.h"
#include "byteorder.h"
#include "fuzz_conn.h"
#include "fuzz_target.h"
#include "log.h"
#include "pdu.h"
#include "registry.h"
#include "worker.h"

#define CLOSE_DEADLINE_MS 3000

static const char conf_text[] = "[nvmfd]\n"
				"listen = 127.0.0.1:4420\n"
				"discovery = no\n"
				"workers = 1\n"
				"log_level = error\n"
				"max_h2c_data = 16384\n"
				"in_capsule_data = 8192\n"
				"max_transfer = 65536\n"
				"queue_depth = 32\n"
				"max_io_queues = 4\n"
				"[subsystem " FCONN_NQN "]\n"
				"allow_host = any\n"
				"[namespace " FCONN_NQN " 1]\n"
				"path = ram:4M\n"
				"block_size = 512\n"
				"[namespace " FCONN_NQN " 2]\n"
				"path = ram:1M\n"
				"block_size = 4096\n"
				"read_only = yes\n";

static struct sockaddr_un addr;
static socklen_t addr_len;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send one PDU built by the codec; read n bytes of answer (blocking). */
static void admin_xfer(int fd, const struct tcp_tx_pdu *t, size_t n)
{
	uint8_t buf[256];
	size_t got = 0;

	for (int i = 0; i < t->iovcnt; i++)
		CHECK(send(fd, t->iov[i].iov_base, t->iov[i].iov_len, MSG_NOSIGNAL) ==
		      (ssize_t)t->iov[i].iov_len);
	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, 0);

		CHECK(r > 0);
		got += (size_t)r;
	}
	if (n == sizeof(struct nvme_tcp_rsp)) /* CapsuleResp: status 0 */
		CHECK((buf[22] | buf[23] << 8) >> 1 == 0);
}

/*
 * A controller for the inputs' I/O queues (FCONN_CNTLID): its admin queue
 * stays connected, without keep-alive timeout, enabled, FCONN_QUEUES granted.
 */
static void admin_start(void)
{
	static const struct tcp_conn_params p = {0};
	static struct nvmf_connect_data cd;
	struct nvmf_connect_cmd cc;
	struct nvmf_prop_set_cmd ps;
	struct nvme_sqe sqe;
	struct tcp_tx_pdu t;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&addr, addr_len) == 0);
	tcp_build_icreq(&t, 0, 0, 0);
	admin_xfer(fd, &t, 128);
	memset(&cc, 0, sizeof(cc));
	cc.opc = NVME_ADM_FABRICS;
	cc.rsvd1 = 0x40;
	cc.fctype = NVMF_FCTYPE_CONNECT;
	cc.sqsize = htole16(31);
	cc.sgl1.type = NVME_SGL_ICD;
	cc.sgl1.length = htole32(sizeof(cd));
	memcpy(cd.hostid, fconn_hostid, sizeof(cd.hostid));
	cd.cntlid = htole16(0xffff);
	snprintf(cd.subnqn, sizeof(cd.subnqn), "%s", FCONN_NQN);
	snprintf(cd.hostnqn, sizeof(cd.hostnqn), "%s", FCONN_HOSTNQN);
	memcpy(&sqe, &cc, sizeof(sqe));
	tcp_build_cmd(&t, &p, &sqe, &cd, sizeof(cd));
	admin_xfer(fd, &t, sizeof(struct nvme_tcp_rsp));
	memset(&ps, 0, sizeof(ps));
	ps.opc = NVME_ADM_FABRICS;
	ps.rsvd1 = 0x40;
	ps.fctype = NVMF_FCTYPE_PROPERTY_SET;
	ps.ofst = htole32(NVME_REG_CC);
	ps.value = htole64(1 | 6u << 16 | 4u << 20);
	memcpy(&sqe, &ps, sizeof(sqe));
	sqe.sgl1.type = NVME_SGL_TRANSPORT_DB;
	tcp_build_cmd(&t, &p, &sqe, NULL, 0);
	admin_xfer(fd, &t, sizeof(struct nvme_tcp_rsp));
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = NVME_ADM_SET_FEATURES;
	sqe.flags = 0x40;
	sqe.sgl1.type = NVME_SGL_TRANSPORT_DB;
	sqe.cdw10 = htole32(7);
	sqe.cdw11 = htole32((FCONN_QUEUES - 1) << 16 | (FCONN_QUEUES - 1));
	tcp_build_cmd(&t, &p, &sqe, NULL, 0);
	admin_xfer(fd, &t, sizeof(struct nvme_tcp_rsp));
	/* fd stays open: the controller lives as long as the process */
}

/* The daemon, once per process; it runs until the process exits. */
static void daemon_start(void)
{
	static struct target t;
	struct listener_set *ls = listener_set_alloc(1);
	struct listener *l = calloc(1, sizeof(*l));
	struct cfg_config *cfg = NULL;
	char err[2048];

	signal(SIGPIPE, SIG_IGN);
	CHECK(cfg_load_string("fuzz_conn.ini", conf_text, &cfg, err, sizeof(err)) == 0);
	log_level = LOGL_ERR;
	CHECK(target_init(&t, cfg, 1) == 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	/* abstract: nothing in the file system, one per process */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "nvmfd-fuzz-conn-%d", (int)getpid());
	addr_len =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
	CHECK(ls != NULL && l != NULL);
	atomic_init(&l->refs, 1);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(l->fd >= 0);
	CHECK(bind(l->fd, (struct sockaddr *)&addr, addr_len) == 0 && listen(l->fd, 64) == 0);
	snprintf(l->name, sizeof(l->name), "@%s", addr.sun_path + 1);
	ls->l[ls->n++] = l;
	atomic_store(&t.ls, ls);
	CHECK(workers_start(&t) == 0);
	admin_start();
}

/* ---- the host: what comes back must be valid PDUs ---- */

struct host {
	int fd;
	const uint8_t *stream; /* what the host sends (for the HPDA of its ICReq) */
	size_t stream_len;
	struct tcp_conn_params p;
	struct tcp_rx rx;
	bool eof;
};

static void host_feed(struct host *h, const uint8_t *b, size_t n)
{
	while (n > 0) {
		enum tcp_rx_event ev;
		ssize_t r = tcp_rx_feed(&h->rx, b, n, &ev);

		if (r < 0) {
			fprintf(stderr,
				"fuzz_conn: the daemon sent an invalid %s PDU: FES %u FEI %u\n",
				tcp_pdu_type_name(h->rx.hdr.ch.pdu_type), h->rx.fes, h->rx.fei);
			abort();
		}
		b += r;
		n -= (size_t)r;
		if (ev == TCP_RX_HEADER) {
			tcp_rx_set_data(&h->rx, NULL); /* discarded; its digest is checked */
		} else if (ev == TCP_RX_PDU) {
			CHECK(!h->rx.ddgst_err);
			if (h->rx.hdr.ch.pdu_type == NVME_TCP_ICRESP) {
				const struct nvme_tcp_icresp *ic = &h->rx.hdr.icresp;

				/* what the daemon accepted is the stream's first 128 bytes */
				CHECK(h->stream_len >= 128);
				h->p.hdgst = ic->dgst & NVME_TCP_DGST_HDGST_ENABLE;
				h->p.ddgst = ic->dgst & NVME_TCP_DGST_DDGST_ENABLE;
				CHECK(ic->dgst == (h->stream[11] & 3));
				h->p.rxpda = h->stream[10];
				tcp_rx_ic_done(&h->rx);
			}
		}
	}
}

/* Read what the daemon sent, without blocking. */
static void host_drain(struct host *h)
{
	uint8_t buf[65536];

	while (!h->eof) {
		ssize_t n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			host_feed(h, buf, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			h->eof = true; /* closed, or reset */
		return;
	}
}

static void host_wait(struct host *h, short events, int ms)
{
	struct pollfd pfd = {.fd = h->fd, .events = events};

	if (poll(&pfd, 1, ms) > 0)
		host_drain(h);
}

/* Until the daemon has taken what was sent, or stopped taking it for now. */
static void host_wait_taken(struct host *h)
{
	int64_t until = now_ms() + 5;
	int last = -1, same = 0;

	while (!h->eof && now_ms() < until) {
		int outq = 0;

		host_drain(h);
		if (ioctl(h->fd, SIOCOUTQ, &outq) != 0 || outq == 0)
			return;
		/* a recv waiting for more (MSG_WAITALL) leaves a partly read chunk */
		same = outq == last ? same + 1 : 0;
		if (same > 50)
			return;
		last = outq;
		sched_yield();
	}
}

/* ---- the input ---- */

struct chunker {
	uint8_t mode;
	uint32_t state;
};

static size_t next_chunk(struct chunker *c, const uint8_t *p, size_t left)
{
	size_t n;

	if (c->mode == FCH_ALL)
		return left;
	if (c->mode == FCH_ONE)
		return 1;
	if (c->mode == FCH_PDU) {
		/* up to the end of the PDU whose common header starts here (PLEN) */
		uint32_t plen = left >= 8 ? get_le32(p + 4) : 8;

		n = plen < 8 ? 8 : plen;
		return n < left ? n : left;
	}
	c->state ^= c->state << 13;
	c->state ^= c->state >> 17;
	c->state ^= c->state << 5;
	n = (c->state & 7) == 0 ? c->state % 4096 + 1 : c->state % 64 + 1;
	return n < left ? n : left;
}

/* Send n bytes; false once the daemon has closed (or stopped reading for 2 s). */
static bool host_send(struct host *h, const uint8_t *b, size_t n)
{
	int64_t until = now_ms() + 2000;

	while (n > 0 && !h->eof) {
		ssize_t r = send(h->fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0) {
			b += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return false; /* EPIPE, ECONNRESET: the daemon closed */
		if (now_ms() > until)
			return false;
		host_wait(h, POLLIN | POLLOUT, 10);
	}
	return !h->eof;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;
	struct chunker ch;
	struct host h;
	size_t off = FC_HDR_LEN;
	int64_t deadline;

	if (!started) {
		daemon_start();
		started = true;
	}
	if (size < FC_HDR_LEN)
		return 0;
	memset(&h, 0, sizeof(h));
	h.stream = data + FC_HDR_LEN;
	h.stream_len = size - FC_HDR_LEN;
	tcp_rx_init(&h.rx, &h.p); /* the host side: receives C2H PDUs */
	ch.mode = data[0];
	ch.state = (uint32_t)data[0] << 8 | data[1] | 0x10000u;
	h.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(h.fd >= 0);
	/* the daemon keeps serving: every input connects */
	CHECK(connect(h.fd, (struct sockaddr *)&addr, addr_len) == 0);
	while (off < size) {
		size_t n = next_chunk(&ch, data + off, size - off);

		if (!host_send(&h, data + off, n))
			break;
		off += n;
		host_wait_taken(&h);
	}
	shutdown(h.fd, SHUT_WR);
	deadline = now_ms() + CLOSE_DEADLINE_MS;
	while (!h.eof) {
		if (now_ms() > deadline) {
			fprintf(stderr,
				"fuzz_conn: the daemon did not close within %d ms of the "
				"host's FIN\n",
				CLOSE_DEADLINE_MS);
			abort();
		}
		host_wait(&h, POLLIN, 50);
	}
	close(h.fd);
	return 0;
}
