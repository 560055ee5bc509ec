/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Workers: one thread, one io_uring ring and one buffer pool per worker;
 * each runs everything for its connections (receive, PDU parsing, command
 * handling, backend I/O, send) without locks.
 *
 * Placement: every worker arms a multishot accept on every listener (the
 * same listening fds, no SO_REUSEPORT), so the kernel gives each new
 * connection to whichever worker takes it first. Admin and discovery
 * queues stay where they were accepted; after a successful Connect an I/O
 * queue moves to worker (qid - 1) % nworkers, the whole struct conn handed
 * over with IORING_OP_MSG_RING (conn.c, conn_handoff()).
 *
 * user_data: a tagged pointer. Every object a CQE may name (struct conn,
 * struct tx_batch, struct cmd, struct wlistener) is at least 8-byte
 * aligned, so the low 3 bits carry an op_tag saying what the pointer is and
 * which completion handler runs (worker.c, handle_cqe()). The backend puts
 * the same value on every SQE of one be_io (OP_BE | cmd), and OP_BE_EVENT
 * on SQEs of its own that complete several be_ios at once (be_event_complete).
 *
 * Thread contexts: workers_start() / workers_stop() are called by main;
 * everything else runs on the worker that owns the object.
 */
#pragma once

#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bufpool.h"
#include "registry.h"

/*
 * Start t->nworkers pinned threads (worker i on the i-th CPU of our
 * affinity mask, modulo its size), each creating its own ring inside the
 * thread (SINGLE_ISSUER | DEFER_TASKRUN | SUBMIT_ALL | CQSIZE, falling back
 * to COOP_TASKRUN | TASKRUN_FLAG, then to none; logged), registering its
 * buffer pool and arming multishot accept on every listener of t->ls.
 * Returns 0 once every worker is ready, or -errno (started workers are
 * stopped).
 */
int workers_start(struct target *t);

/*
 * Graceful stop (SIGTERM): every worker stops accepting, stops reading new
 * commands, lets in-flight commands complete (at most WORKER_STOP_GRACE_MS),
 * sends what is queued, closes its connections with a FIN and exits; then
 * the threads are joined. Call once, from main, after workers_start()
 * succeeded.
 */
void workers_stop(void);

/* ---- Inside the daemon (worker threads) ---- */

#define WORKER_SQ_ENTRIES    1024
#define WORKER_TICK_MS	     100	  /* keep-alive, deadlines, closing */
#define WORKER_STOP_GRACE_MS 5000	  /* in-flight commands at a graceful stop */
#define WORKER_STOP_HARD_MS  15000	  /* then leave even if I/O still hangs */
#define WORKER_BUF_CAP	     (256u << 20) /* data buffers held per worker */

enum op_tag {
	OP_NONE = 0,	 /* nothing to do (cancellations, our side of a stop) */
	OP_ACCEPT = 1,	 /* struct wlistener */
	OP_RECV = 2,	 /* struct conn */
	OP_SEND = 3,	 /* struct tx_batch: its send, or a ZC notification */
	OP_BE = 4,	 /* struct cmd: a backend SQE of cmd->bio */
	OP_MSG = 5,	 /* MSG_RING received: struct conn handed over, NULL = stop */
	OP_MSG_SENT = 6, /* our MSG_RING handing struct conn over has completed */
	OP_BE_EVENT = 7, /* the backend's own event (an RBD handle's eventfd read) */
	OP_TAG_MASK = 7,
};

static inline uint64_t op_data(const void *p, enum op_tag tag)
{
	return (uint64_t)(uintptr_t)p | (uint64_t)tag;
}

static inline enum op_tag op_tag_of(uint64_t ud)
{
	return (enum op_tag)(ud & OP_TAG_MASK);
}

static inline void *op_ptr(uint64_t ud)
{
	return (void *)(uintptr_t)(ud & ~(uint64_t)OP_TAG_MASK);
}

struct conn;
struct cmd;
struct wlistener;
struct worker;

#define WORKER_EPOCH_SLOTS 16

struct worker {
	unsigned int id;
	int cpu;
	pthread_t thread;
	bool thread_started;
	struct target *t;
	struct io_uring ring;
	bool ring_ok;
	const char *ring_mode; /* for the log */
	struct bufpool pool;
	bool fixed_files; /* t->files registered: backend I/O uses IOSQE_FIXED_FILE */
	/* zero-copy send (conn_zc.c) */
	uint32_t zc_threshold; /* SENDMSG_ZC from this many payload bytes; 0: never */
	bool zc_local;	       /* also to peers on this machine (NVMFD_ZC_THRESHOLD set) */
	bool zc_usage;	       /* IORING_SEND_ZC_REPORT_USAGE is passed */
	uint64_t zc_sends, zc_notifs, zc_copied;
	struct wlistener *ls; /* singly linked */

	/* reloads (workers_sync()) */
	uint64_t epoch; /* the last t->epoch seen at the loop's top */
	_Atomic uint64_t epoch_ack;
	_Atomic int64_t live[WORKER_EPOCH_SLOTS]; /* commands begun, by epoch % SLOTS,
						   * minus those ended here */
	uint64_t files_gen;			  /* t->files_gen applied to the registration */
	int *reg_files; /* what is registered, by slot (TARGET_MAX_FILES) */

	int64_t now_ms; /* CLOCK_MONOTONIC, updated every loop iteration */
	int64_t now_ns; /* the same instant in ns (controller busy time) */
	int64_t next_tick_ms;
	uint64_t log_quota_ms; /* rate limit for accept errors */
	/* adaptive busy-poll (worker_loop): spin up to spin_ns before sleeping */
	int64_t spin_max_ns; /* busy_poll; 0: never spin */
	int64_t spin_ns;     /* the current budget, halved by every spin that missed */
	uint64_t spins, spin_hits;

	struct conn *conns; /* every connection of this worker (doubly linked) */
	unsigned int nconns;
	unsigned int nclosing;	 /* of them closing: reaped once idle */
	struct conn *tx_pending; /* connections with PDUs to send (singly linked) */
	struct cmd *buf_wait;	 /* commands waiting for a data buffer (FIFO) */
	struct cmd **buf_wait_tail;
	struct cmd *range_wait; /* waiting for the LBA range lock, or the RAM store (be_again) */
	bool buf_returned;	/* a buffer came back: retry the waiters */

	bool stopping;
	int64_t stop_grace_ms; /* in-flight commands may finish until then */
	int64_t stop_hard_ms;
	bool done;

	/* startup handshake with workers_start() */
	int init_err;
	bool ready;
};

/* ---- workers.c: the set of workers ---- */

/* Every worker (main's side: reloads, stop); *n is how many. */
struct worker *workers_all(unsigned int *n);
/*
 * One MSG_RING with data to every running worker, from a ring of main's
 * own: OP_MSG with NULL stops a worker, OP_NONE only wakes it.
 */
void workers_msg(uint64_t data);

/* MSG_RING hand-offs of connections not yet adopted by their worker. */
bool workers_handoffs_pending(void);
/* Main asked w to stop (the flag behind the MSG_RING, if that got lost). */
bool workers_stop_requested(const struct worker *w);

/* ---- worker.c: one worker's loop ---- */

/* Serve until the worker's stop is complete (its thread, after start-up). */
void worker_run(struct worker *w);
/* Read the clock into w->now_ns / now_ms. */
void worker_clock(struct worker *w);

/* A free SQE; submits what is queued to make room when the SQ ring is full. */
struct io_uring_sqe *worker_sqe(struct worker *w);

/* The worker an I/O queue belongs to, and its ring fd for MSG_RING. */
struct worker *worker_for_qid(uint16_t qid);

/* In-flight hand-offs between workers (see conn_handoff()). */
void worker_handoff_begin(void);
void worker_handoff_end(void);
bool worker_stopping(const struct worker *w);

/* A command waits for a data buffer; the worker retries when one returns. */
void worker_buf_wait(struct worker *w, struct cmd *cmd);
void worker_buf_unwait(struct worker *w, struct cmd *cmd);
void worker_buf_returned(struct worker *w);
/*
 * A command waits for its LBA range (held by a command of any worker), or
 * for the RAM store to take its change (be_submit's -EBUSY): tried again
 * on every pass of the loop, which sleeps at most WORKER_RANGE_RETRY_US
 * while one waits. Unwait: its connection closes (a range waiter; one
 * waiting for the store is still a backend operation, which its
 * connection waits for).
 */
#define WORKER_RANGE_RETRY_US 50
void worker_range_wait(struct worker *w, struct cmd *cmd);
void worker_range_unwait(struct worker *w, struct cmd *cmd);

/* This connection has PDUs to send: flushed once per loop iteration. */
void worker_tx_schedule(struct worker *w, struct conn *c);

/* Link / unlink a connection in the worker's list. */
void worker_conn_add(struct worker *w, struct conn *c);
void worker_conn_del(struct worker *w, struct conn *c);
