/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Zero-copy send, the per-worker part (conn.h): whether the kernel has
 * IORING_OP_SENDMSG_ZC (6.1), from how many payload bytes a batch uses it,
 * to which peers, the SQE, and the usage reports. The batch life cycle
 * (first CQE, notification, release) is conn_tx.c's.
 *
 * By default a batch with at least CONN_ZC_THRESHOLD bytes of C2HData
 * payload goes out zero-copy, to peers on other machines only: the kernel
 * copies whatever is delivered locally anyway (loopback, or our own
 * address), so there zero-copy only costs (page pinning, notifications,
 * buffers held until them), and on loopback a receiver with a small
 * SO_RCVBUF even stalls: the copied skbs' truesize keeps its window below
 * one MSS, and every segment then waits for the persist timer (1 MiB took
 * 100 s instead of 20 ms on 6.18). NVMFD_ZC_THRESHOLD in the environment
 * (bytes, k / m suffixes; 0 turns zero-copy off) sets the threshold for
 * every peer, local ones included: for benchmarks and tests.
 *
 * IORING_SEND_ZC_REPORT_USAGE (6.2) makes the kernel set
 * IORING_NOTIF_USAGE_ZC_COPIED in a notification's res when it copied the
 * data after all (loopback always does, so do NICs without scatter-gather):
 * counted, logged once at debug level. Kernels without it fail the SQE with
 * -EINVAL before sending anything; the worker then drops the flag.
 *
 * IORING_RECVSEND_FIXED_BUF is not used: the PDU headers and digests live
 * in malloc'ed batch storage, outside the registered buffers, so the
 * iovecs of a batch never lie in one registered buffer.
 *
 * Thread: the owning worker.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

/* NVMFD_ZC_THRESHOLD: bytes (decimal, 0x..., or with a k / m suffix). */
static uint32_t threshold_from_env(const struct worker *w, bool *set)
{
	const char *s = getenv("NVMFD_ZC_THRESHOLD");
	unsigned long long v;
	char *end;

	*set = false;
	if (s == NULL || *s == '\0')
		return CONN_ZC_THRESHOLD;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (errno != 0 || *end != '\0' || end == s || v > UINT32_MAX) {
		if (w->id == 0)
			log_warn("NVMFD_ZC_THRESHOLD=%s: not a byte count; using %u", s,
				 CONN_ZC_THRESHOLD);
		return CONN_ZC_THRESHOLD;
	}
	*set = true;
	return (uint32_t)v;
}

static bool have_sendmsg_zc(struct worker *w)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&w->ring);
	bool ok = probe != NULL && io_uring_opcode_supported(probe, IORING_OP_SENDMSG_ZC);

	if (probe != NULL)
		io_uring_free_probe(probe);
	return ok;
}

void conn_zc_setup(struct worker *w)
{
	bool set;
	uint32_t t = threshold_from_env(w, &set);

	w->zc_threshold = 0;
	w->zc_local = set;
	w->zc_usage = true;
	if (t == 0) {
		log_info("worker %u: send: copying (SENDMSG; zero-copy off: NVMFD_ZC_THRESHOLD=0)",
			 w->id);
		return;
	}
	if (!have_sendmsg_zc(w)) {
		log_info("worker %u: send: copying (SENDMSG; the kernel has no SENDMSG_ZC)", w->id);
		return;
	}
	w->zc_threshold = t;
	log_info("worker %u: send: SENDMSG_ZC for batches with >= %u payload bytes to %s, "
		 "SENDMSG otherwise",
		 w->id, t, set ? "any peer" : "remote peers");
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return IN6_ARE_ADDR_EQUAL(&((const struct sockaddr_in6 *)a)->sin6_addr,
					  &((const struct sockaddr_in6 *)b)->sin6_addr);
	return false;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return true; /* not TCP/IP: no zero-copy */
}

/* Local: a loopback address, or the peer's address is ours (the common local cases). */
bool conn_zc_remote(int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage self;
	socklen_t sl = sizeof(self);

	if (is_loopback(peer))
		return false;
	if (getsockname(fd, (struct sockaddr *)&self, &sl) != 0)
		return false;
	return !same_addr(peer, &self);
}

bool conn_zc_wanted(const struct conn *c, uint32_t payload)
{
	const struct worker *w = c->w;

	return w->zc_threshold != 0 && payload >= w->zc_threshold && (c->zc_remote || w->zc_local);
}

void conn_zc_prep(struct worker *w, struct io_uring_sqe *sqe, int fd, const struct msghdr *msg)
{
	io_uring_prep_sendmsg_zc(sqe, fd, msg, MSG_NOSIGNAL);
	if (w->zc_usage)
		sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
	w->zc_sends++;
}

void conn_zc_notif(struct worker *w, int res)
{
	w->zc_notifs++;
	if (!w->zc_usage || !((uint32_t)res & IORING_NOTIF_USAGE_ZC_COPIED))
		return;
	if (w->zc_copied++ == 0)
		log_debug("worker %u: the kernel copied zero-copy send data "
			  "(IORING_NOTIF_USAGE_ZC_COPIED: loopback, or no scatter-gather)",
			  w->id);
}

bool conn_zc_refused(struct worker *w, int res)
{
	if (w->zc_threshold == 0)
		return false;
	if (res == -EINVAL && w->zc_usage) {
		log_debug("worker %u: SENDMSG_ZC refused with REPORT_USAGE; sending without it",
			  w->id);
		w->zc_usage = false;
		return true;
	}
	if (res == -EINVAL || res == -EOPNOTSUPP) {
		log_warn("worker %u: SENDMSG_ZC refused (%s); copying from now on", w->id,
			 strerror(-res));
		w->zc_threshold = 0;
		return true;
	}
	return false;
}

void conn_zc_report(const struct worker *w)
{
	if (w->zc_sends == 0)
		return;
	log_debug("worker %u: %llu zero-copy sends, %llu notifications, %llu of them copied", w->id,
		  (unsigned long long)w->zc_sends, (unsigned long long)w->zc_notifs,
		  (unsigned long long)w->zc_copied);
}
