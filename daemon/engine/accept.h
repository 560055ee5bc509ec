/* SPDX-License-Identifier: BSD-2-Clause */
/* Accept on the listeners, per worker (accept.c). Thread: the worker. */
#pragma once

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "worker.h"

struct listener;

/* A listener as one worker sees it (holds a reference on l). */
struct wlistener {
	struct wlistener *next;
	struct worker *w;
	struct listener *l;
	bool armed; /* a multishot accept is outstanding */
	bool cancelled;
	bool gone;	  /* removed by a reload: freed once its accept is over */
	int64_t retry_ms; /* re-arm after an error (EMFILE...) at this time */
} __attribute__((aligned(8)));

/* w accepts on l too (a reference on l is taken); -ENOMEM. Not armed yet. */
int wlistener_add(struct worker *w, struct listener *l);
/* w no longer accepts on wl's listener: unlinked, freed, the reference dropped. */
void wlistener_free(struct wlistener *wl);
/* Arm a multishot accept on wl's listener. */
void accept_arm(struct wlistener *wl);
/* Cancel wl's armed accept, once. */
void accept_cancel(struct wlistener *wl);
/* An accept CQE (OP_ACCEPT): a new connection, an error, or the end of the multishot. */
void accept_done(struct wlistener *wl, const struct io_uring_cqe *cqe);
