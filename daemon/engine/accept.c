/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Accept: every worker keeps a multishot accept armed on every listener
 * (worker.h, Placement); what it accepts becomes one of its connections.
 * A listener a reload removed is let go once its accept is over.
 */
#include "accept.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "listener.h"
#include "log.h"

void accept_arm(struct wlistener *wl)
{
	struct io_uring_sqe *sqe = worker_sqe(wl->w);

	io_uring_prep_multishot_accept(sqe, wl->l->fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, op_data(wl, OP_ACCEPT));
	wl->armed = true;
}

static bool log_quota(struct worker *w)
{
	if ((uint64_t)w->now_ms < w->log_quota_ms)
		return false;
	w->log_quota_ms = (uint64_t)w->now_ms + 1000;
	return true;
}

/* A listener this worker no longer accepts on, once its accept is over. */
void wlistener_free(struct wlistener *wl)
{
	struct wlistener **pp = &wl->w->ls;

	while (*pp != wl)
		pp = &(*pp)->next;
	*pp = wl->next;
	listener_put(wl->l);
	free(wl);
}

void accept_done(struct wlistener *wl, const struct io_uring_cqe *cqe)
{
	struct worker *w = wl->w;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		wl->armed = false;
	if (wl->gone) {
		if (cqe->res >= 0)
			close(cqe->res);
		if (!wl->armed)
			wlistener_free(wl);
		return;
	}
	if (cqe->res >= 0) {
		if (w->stopping)
			close(cqe->res);
		else
			conn_accept(w, wl->l, cqe->res);
	} else if (cqe->res != -ECANCELED) {
		if (log_quota(w))
			log_warn("worker %u: accept on %s: %s", w->id, wl->l->name,
				 strerror(-cqe->res));
		/* EMFILE and friends: try again at the next tick, not in a loop */
		wl->retry_ms = w->now_ms + WORKER_TICK_MS;
		return;
	}
	if (!wl->armed && !w->stopping && cqe->res != -ECANCELED)
		accept_arm(wl);
}

void accept_cancel(struct wlistener *wl)
{
	struct io_uring_sqe *sqe;

	if (!wl->armed || wl->cancelled)
		return;
	sqe = worker_sqe(wl->w);
	io_uring_prep_cancel64(sqe, op_data(wl, OP_ACCEPT), 0);
	io_uring_sqe_set_data64(sqe, op_data(NULL, OP_NONE));
	wl->cancelled = true;
}

int wlistener_add(struct worker *w, struct listener *l)
{
	struct wlistener *wl = calloc(1, sizeof(*wl));

	if (wl == NULL)
		return -ENOMEM;
	listener_get(l);
	wl->w = w;
	wl->l = l;
	wl->next = w->ls;
	w->ls = wl;
	return 0;
}
