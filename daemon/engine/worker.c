/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One worker's event loop (see worker.h): its connections' sends, the
 * ring, every completion, the buffer waiters, the periodic tick and the
 * graceful stop. Starting and stopping the threads is workers.c's, accept
 * is accept.c's, and what a reload publishes is applied by epoch.c.
 *
 * One loop iteration: flush every connection's pending PDUs into one send
 * each, one io_uring_submit_and_wait_timeout() (which, with DEFER_TASKRUN,
 * is also what runs completions), every CQE handled, one cq_advance, then
 * the buffer waiters, the tick (every WORKER_TICK_MS: deadlines, keep-alive,
 * dead controllers, the stop) and the reaping of closed connections.
 */
#include "worker.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "clock.h"
#include "cmd.h"
#include "conn.h"
#include "cpu_relax.h"
#include "epoch.h"
#include "log.h"

void worker_clock(struct worker *w)
{
	w->now_ns = clock_mono_ns();
	w->now_ms = w->now_ns / 1000000;
}

struct io_uring_sqe *worker_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	for (int i = 0; sqe == NULL && i < 8; i++) {
		int ret = io_uring_submit(&w->ring);

		if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR)
			log_err("worker %u: io_uring_submit: %s", w->id, strerror(-ret));
		sqe = io_uring_get_sqe(&w->ring);
	}
	if (sqe == NULL) {
		/* The kernel accepts nothing: no way to carry on with this ring. */
		log_err("worker %u: the submission queue stays full", w->id);
		abort();
	}
	return sqe;
}

/* After worker_handoff_begin(): no hand-off may start once the stop began. */
bool worker_stopping(const struct worker *w)
{
	return atomic_load(&w->t->stopping);
}

/* ---- Lists ---- */

void worker_conn_add(struct worker *w, struct conn *c)
{
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
}

void worker_conn_del(struct worker *w, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->nconns--;
}

void worker_tx_schedule(struct worker *w, struct conn *c)
{
	if (c->tx_listed)
		return;
	c->tx_listed = true;
	c->tx_next = w->tx_pending;
	w->tx_pending = c;
}

static void flush_tx(struct worker *w)
{
	while (w->tx_pending != NULL) {
		struct conn *c = w->tx_pending;

		w->tx_pending = c->tx_next;
		c->tx_next = NULL;
		c->tx_listed = false;
		conn_tx_flush(c);
	}
}

void worker_buf_wait(struct worker *w, struct cmd *cmd)
{
	cmd->wait_next = NULL;
	*w->buf_wait_tail = cmd;
	w->buf_wait_tail = &cmd->wait_next;
}

void worker_buf_unwait(struct worker *w, struct cmd *cmd)
{
	struct cmd **pp = &w->buf_wait;

	while (*pp != NULL && *pp != cmd)
		pp = &(*pp)->wait_next;
	if (*pp == NULL)
		return;
	*pp = cmd->wait_next;
	if (w->buf_wait_tail == &cmd->wait_next)
		w->buf_wait_tail = pp;
	cmd->wait_next = NULL;
}

void worker_range_wait(struct worker *w, struct cmd *cmd)
{
	cmd->wait_next = w->range_wait;
	w->range_wait = cmd;
}

void worker_range_unwait(struct worker *w, struct cmd *cmd)
{
	struct cmd **pp = &w->range_wait;

	while (*pp != NULL && *pp != cmd)
		pp = &(*pp)->wait_next;
	if (*pp != NULL)
		*pp = cmd->wait_next;
	cmd->wait_next = NULL;
}

/* Every waiter tries its range again (cmd_io_resume parks it again if it must). */
static void retry_range_waiters(struct worker *w)
{
	struct cmd *list = w->range_wait;

	w->range_wait = NULL;
	while (list != NULL) {
		struct cmd *cmd = list;

		list = cmd->wait_next;
		cmd->wait_next = NULL;
		cmd_io_resume(cmd);
	}
}

void worker_buf_returned(struct worker *w)
{
	w->buf_returned = true;
}

/*
 * Buffers came back: serve the waiters in order. A waiter held back by its
 * connection's cap stays in place and the next one is tried; one held back
 * by the worker's cap stops the pass (first come, first served).
 */
static void retry_buf_waiters(struct worker *w)
{
	struct cmd **pp = &w->buf_wait;

	w->buf_returned = false;
	while (*pp != NULL) {
		struct cmd *cmd = *pp;
		int ret;

		*pp = cmd->wait_next;
		if (w->buf_wait_tail == &cmd->wait_next)
			w->buf_wait_tail = pp;
		cmd->wait_next = NULL;
		ret = cmd_buf_retry(cmd);
		if (ret > 0)
			continue; /* served; *pp is already the next one */
		/* put it back where it was */
		cmd->wait_next = *pp;
		*pp = cmd;
		if (cmd->wait_next == NULL)
			w->buf_wait_tail = &cmd->wait_next;
		if (ret == 0)
			break;
		pp = &cmd->wait_next;
	}
}

/* ---- Stop ---- */

static void begin_stop(struct worker *w)
{
	struct conn *c, *next;

	if (w->stopping)
		return;
	w->stopping = true;
	w->stop_grace_ms = w->now_ms + WORKER_STOP_GRACE_MS;
	w->stop_hard_ms = w->now_ms + WORKER_STOP_HARD_MS;
	log_debug("worker %u: stopping (%u connections)", w->id, w->nconns);
	for (struct wlistener *wl = w->ls; wl != NULL; wl = wl->next)
		accept_cancel(wl);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		conn_drain(c);
	}
}

static bool accepts_outstanding(const struct worker *w)
{
	for (const struct wlistener *wl = w->ls; wl != NULL; wl = wl->next)
		if (wl->armed)
			return true;
	return false;
}

static void stop_progress(struct worker *w)
{
	if (w->nconns == 0 && !accepts_outstanding(w) && !workers_handoffs_pending()) {
		w->done = true;
		return;
	}
	if (w->now_ms >= w->stop_hard_ms) {
		log_warn("worker %u: giving up on %u connection(s) still busy after %d s", w->id,
			 w->nconns, WORKER_STOP_HARD_MS / 1000);
		w->done = true;
	}
}

/* ---- The loop ---- */

static void handle_cqe(struct worker *w, const struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	void *p = op_ptr(ud);

	if (ud == LIBURING_UDATA_TIMEOUT)
		return;
	switch (op_tag_of(ud)) {
	case OP_ACCEPT:
		accept_done(p, cqe);
		break;
	case OP_RECV:
		conn_recv_done(p, cqe->res);
		break;
	case OP_SEND:
		conn_send_cqe(p, cqe->res, cqe->flags);
		break;
	case OP_BE:
		cmd_be_cqe(p, cqe->res);
		break;
	case OP_BE_EVENT:
		be_event_complete(p, cqe->res);
		break;
	case OP_MSG:
		if (p == NULL)
			begin_stop(w);
		else
			conn_adopt(w, p);
		break;
	case OP_MSG_SENT:
		conn_handoff_sent(p, cqe->res);
		break;
	case OP_NONE:
	default:
		break;
	}
}

static void tick(struct worker *w)
{
	struct conn *c, *next;

	w->next_tick_ms = w->now_ms + WORKER_TICK_MS;
	if (!w->stopping && workers_stop_requested(w))
		begin_stop(w); /* the MSG_RING from main did not arrive */
	for (struct wlistener *wl = w->ls; wl != NULL; wl = wl->next)
		if (!wl->armed && !wl->gone && !w->stopping && w->now_ms >= wl->retry_ms)
			accept_arm(wl);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		/* reservation notifications other workers posted (ctrl_post_resv) */
		if (c->qid == 0 && c->ctrl != NULL && !c->closing)
			ctrl_deliver_posted(c->ctrl);
		conn_tick(c);
	}
	if (w->buf_wait != NULL) /* e.g. after a failed malloc: nothing else wakes them */
		retry_buf_waiters(w);
	if (w->stopping)
		stop_progress(w);
}

static void reap(struct worker *w)
{
	struct conn *c, *next;

	if (w->nclosing == 0)
		return;
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing)
			conn_reap(c);
	}
}

/*
 * Adaptive busy-poll (busy_poll). Sleeping in io_uring_enter and being
 * woken costs the waker an IPI and this thread a trip through the
 * scheduler: tens of microseconds in a VM, more than the gap between two
 * commands of a busy queue. So, the sends once submitted, the worker spins
 * on the ring until a completion is posted or deferred task work is queued
 * (the kernel then sets IORING_SQ_TASKRUN and wakes nobody), for at most
 * spin_ns.
 *
 * A spin that finds nothing halves the budget, so a worker whose hosts are
 * idle or slow stops spinning after a few misses; a sleep that an event
 * ended within busy_poll gives the whole budget back (worker_loop). About
 * every microsecond the spin yields, so that a host, or another worker,
 * sharing the CPU runs first.
 */
static bool spin_for_events(struct worker *w)
{
	int64_t end;
	int ret;

	ret = io_uring_submit(&w->ring);
	if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR)
		return false;
	end = clock_mono_ns() + w->spin_ns;
	w->spins++;
	for (unsigned int i = 1;; i++) {
		if (io_uring_cq_ready(&w->ring) != 0 ||
		    (IO_URING_READ_ONCE(*w->ring.sq.kflags) & IORING_SQ_TASKRUN)) {
			w->spin_hits++;
			w->spin_ns = w->spin_max_ns;
			return true;
		}
		if (i % 32 == 0) {
			if (clock_mono_ns() >= end)
				break;
			sched_yield();
		}
		cpu_relax();
	}
	w->spin_ns /= 2;
	if (w->spin_ns < 1000)
		w->spin_ns = 0;
	return false;
}

void worker_run(struct worker *w)
{
	while (!w->done) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		int64_t wait_ms, slept_ns;
		unsigned int head, n = 0;
		int ret;

		worker_epoch_apply(w);
		flush_tx(w);
		reap(w);
		wait_ms = w->next_tick_ms - w->now_ms;
		if (wait_ms < 0)
			wait_ms = 0;
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000;
		if (w->spin_ns != 0 && !w->stopping && spin_for_events(w))
			ts.tv_sec = ts.tv_nsec = 0;
		if (w->range_wait != NULL &&
		    (ts.tv_sec != 0 || ts.tv_nsec > WORKER_RANGE_RETRY_US * 1000)) {
			ts.tv_sec = 0;
			ts.tv_nsec = WORKER_RANGE_RETRY_US * 1000;
		}
		/* with no spin budget left, time the sleep: a short one restores it */
		slept_ns = w->spin_ns == 0 && w->spin_max_ns != 0 ? clock_mono_ns() : 0;
		ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			log_err("worker %u: io_uring_submit_and_wait_timeout: %s", w->id,
				strerror(-ret));
		worker_clock(w);
		if (slept_ns != 0 && w->now_ns - slept_ns < w->spin_max_ns &&
		    io_uring_cq_ready(&w->ring) != 0)
			w->spin_ns = w->spin_max_ns; /* a spin would have caught it */
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			handle_cqe(w, cqe);
			n++;
		}
		io_uring_cq_advance(&w->ring, n);
		if (w->buf_returned)
			retry_buf_waiters(w);
		if (w->range_wait != NULL)
			retry_range_waiters(w);
		if (w->now_ms >= w->next_tick_ms)
			tick(w);
		else if (w->stopping)
			stop_progress(w);
	}
	/* what is left was prepared but never submitted: let it go out */
	io_uring_submit(&w->ring);
}
