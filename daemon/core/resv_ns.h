/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A namespace's reservations at run time: the state (resv.h) under a
 * per-namespace mutex, kept in a store (resv_store.h) before a command
 * completes, and published to the I/O path as one 64-bit word
 * (ns->resv_word, resv_word()) that any worker reads with one atomic load.
 *
 * Reservation commands of every controller and worker take the mutex, so
 * they happen one after the other: no two hosts ever both hold a
 * reservation. A change is stored first (when PTPL is on, or PTPL itself
 * changed), then the word is published, then the notifications are
 * posted to the controllers of the hosts concerned, then the command
 * completes. An I/O command checks the word when it starts executing
 * (after its data arrived, before its backend operation): one that has
 * not started by the time a change is published obeys the new state.
 *
 * Preempt and Abort: the preempted hosts' commands that arrived before
 * the preemption and have not started executing (waiting for their data,
 * a buffer or the range lock) complete with Command Aborted due to
 * Preempt and Abort; commands already at the backend finish (an abort is
 * best effort, Base 5.1). Each host slot has an abort generation; a
 * command remembers it on arrival (resv_ns_mark) and compares on start.
 */
#pragma once

#include <stdint.h>

#include "ctrl.h"

struct ns_resv;

struct ns_resv *resv_ns_new(void);
void resv_ns_free(struct ns_resv *r);

/*
 * Give ns its store in t->state_dir and load what it holds. A missing
 * file is an empty state; a damaged one fails (-EINVAL, logged as
 * "PATH: line N: what is wrong"): the caller refuses to serve rather
 * than forget a fence. Without a state_dir ("") nothing is kept.
 */
int resv_ns_attach(struct target *t, struct subsys *s, struct ns *ns);
/* Every namespace of every subsystem of t (start-up). */
int resv_ns_attach_all(struct target *t);

/*
 * Register, Acquire, Release, Report of controller c on ns (any worker).
 * data: the command's data (len bytes); Report writes at most len bytes
 * there and sets *out_len.
 */
nvme_status_t resv_ns_exec(struct ctrl *c, struct ns *ns, const struct nvme_sqe *sqe, void *data,
			   uint32_t len, uint32_t *out_len);

/* Feature 83h: PTPL of ns; setting it is kept like a Register with CPTPL. */
bool resv_ns_ptpl(struct ns *ns);
nvme_status_t resv_ns_set_ptpl(struct ns *ns, bool ptpl);
/* Whether ns has a store: PTPLS in RESCAP. */
bool resv_ns_can_persist(const struct ns *ns);

/* c's host's slot in its subsystem (cached), or RESV_NO_SLOT. */
int resv_ctrl_slot(struct ctrl *c);

/* At a command's arrival: what resv_ns_check() compares (0: nothing to). */
uint64_t resv_ns_mark_slow(struct ctrl *c, const struct ns *ns);
static inline uint64_t resv_ns_mark(struct ctrl *c, const struct ns *ns)
{
	if (atomic_load_explicit(&ns->resv_word, memory_order_relaxed) == 0)
		return 0; /* nobody registered: nobody can be preempted */
	return resv_ns_mark_slow(c, ns);
}

/*
 * When a command starts executing: Reservation Conflict if the type
 * forbids its group to c's host, Command Aborted due to Preempt and Abort
 * if its host was preempted with abort since it arrived; else 0.
 */
nvme_status_t resv_ns_check_slow(struct ctrl *c, const struct ns *ns, uint8_t opc, uint64_t w,
				 uint64_t mark);
static inline nvme_status_t resv_ns_check(struct ctrl *c, const struct ns *ns, uint8_t opc,
					  uint64_t mark)
{
	uint64_t w = atomic_load_explicit(&ns->resv_word, memory_order_acquire);

	if (w == 0 && mark == 0)
		return 0; /* the fast path: no reservation, no registrant */
	return resv_ns_check_slow(c, ns, opc, w, mark);
}
