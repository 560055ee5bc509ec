/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Worker threads: ring setup, the event loop, accept, cross-worker
 * messages, the periodic tick and the graceful stop (see worker.h).
 *
 * One loop iteration: flush every connection's pending PDUs into one send
 * each, one io_uring_submit_and_wait_timeout() (which, with DEFER_TASKRUN,
 * is also what runs completions), every CQE handled, one cq_advance, then
 * the buffer waiters, the tick (every WORKER_TICK_MS: deadlines, keep-alive,
 * dead controllers, the stop) and the reaping of closed connections.
 */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "conn.h"
#include "listener.h"
#include "log.h"

static struct worker *g_workers;
static unsigned int g_nworkers;
static struct target *g_target;
static _Atomic int g_handoffs;	       /* MSG_RING hand-offs not yet adopted */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static _Atomic bool *g_stop_req;       /* per worker: main asked it to stop */
static bool g_go;		       /* every worker is ready: serve (under g_lock) */

static void worker_clock(struct worker *w)
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

struct worker *worker_for_qid(uint16_t qid)
{
	return &g_workers[(qid - 1u) % g_nworkers];
}

void worker_handoff_begin(void)
{
	atomic_fetch_add(&g_handoffs, 1);
}

void worker_handoff_end(void)
{
	atomic_fetch_sub(&g_handoffs, 1);
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

/* ---- Accept ---- */

static void arm_accept(struct wlistener *wl)
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
static void wl_free(struct wlistener *wl)
{
	struct wlistener **pp = &wl->w->ls;

	while (*pp != wl)
		pp = &(*pp)->next;
	*pp = wl->next;
	listener_put(wl->l);
	free(wl);
}

static void accept_done(struct wlistener *wl, const struct io_uring_cqe *cqe)
{
	struct worker *w = wl->w;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		wl->armed = false;
	if (wl->gone) {
		if (cqe->res >= 0)
			close(cqe->res);
		if (!wl->armed)
			wl_free(wl);
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
		arm_accept(wl);
}

static void cancel_accept(struct wlistener *wl)
{
	struct io_uring_sqe *sqe;

	if (!wl->armed || wl->cancelled)
		return;
	sqe = worker_sqe(wl->w);
	io_uring_prep_cancel64(sqe, op_data(wl, OP_ACCEPT), 0);
	io_uring_sqe_set_data64(sqe, op_data(NULL, OP_NONE));
	wl->cancelled = true;
}

static int wl_add(struct worker *w, struct listener *l)
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

/* ---- Reloads: what main published, applied at the top of the loop ---- */

static void apply_files(struct worker *w)
{
	const int *files = w->t->files;

	for (int i = 0; i < TARGET_MAX_FILES; i++) {
		int fd = files[i], ret;

		if (fd == w->reg_files[i])
			continue;
		if (w->fixed_files) {
			ret = io_uring_register_files_update(&w->ring, (unsigned int)i, &fd, 1);
			if (ret < 0) {
				/* the slot's commands fall back to... nothing: say so loudly */
				log_err("worker %u: updating registered file slot %d: %s", w->id, i,
					strerror(-ret));
				continue;
			}
		}
		w->reg_files[i] = fd;
	}
}

static void apply_listeners(struct worker *w)
{
	const struct listener_set *set = atomic_load_explicit(&w->t->ls, memory_order_acquire);
	struct wlistener *wl, *next;

	for (size_t i = 0; set != NULL && i < set->n; i++) {
		bool have = false;

		for (wl = w->ls; wl != NULL && !have; wl = wl->next)
			have = wl->l == set->l[i];
		if (have || w->stopping)
			continue;
		if (wl_add(w, set->l[i]) != 0) {
			log_err("worker %u: out of memory: not accepting on %s", w->id,
				set->l[i]->name);
			continue;
		}
		arm_accept(w->ls);
	}
	for (wl = w->ls; wl != NULL; wl = next) {
		next = wl->next;
		if (wl->gone || !atomic_load(&wl->l->removed))
			continue;
		wl->gone = true;
		if (wl->armed)
			cancel_accept(wl);
		else
			wl_free(wl);
	}
}

/* Connections on removed listeners close; posted controller events go out. */
static void apply_conns(struct worker *w)
{
	struct conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		if (atomic_load(&c->l->removed)) {
			conn_close(c, CLOSE_NOW, "its listener was removed");
			continue;
		}
		if (c->qid == 0 && c->ctrl != NULL)
			ctrl_deliver_posted(c->ctrl);
	}
}

static void quiesce(struct worker *w)
{
	uint64_t e = atomic_load_explicit(&w->t->epoch, memory_order_acquire);
	uint64_t g;

	if (e == w->epoch)
		return;
	g = atomic_load_explicit(&w->t->files_gen, memory_order_acquire);
	if (g != w->files_gen) {
		apply_files(w);
		w->files_gen = g;
	}
	apply_listeners(w);
	apply_conns(w);
	w->epoch = e;
	atomic_store_explicit(&w->epoch_ack, e, memory_order_release);
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
		cancel_accept(wl);
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
	if (w->nconns == 0 && !accepts_outstanding(w) && atomic_load(&g_handoffs) == 0) {
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
	if (!w->stopping && atomic_load(&g_stop_req[w->id]))
		begin_stop(w); /* the MSG_RING from main did not arrive */
	for (struct wlistener *wl = w->ls; wl != NULL; wl = wl->next)
		if (!wl->armed && !wl->gone && !w->stopping && w->now_ms >= wl->retry_ms)
			arm_accept(wl);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
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

/* What a spinning thread does between two looks: let the core's other
 * hyperthread, or the hypervisor, have the cycles. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
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

static void worker_loop(struct worker *w)
{
	while (!w->done) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		int64_t wait_ms, slept_ns;
		unsigned int head, n = 0;
		int ret;

		quiesce(w);
		flush_tx(w);
		reap(w);
		wait_ms = w->next_tick_ms - w->now_ms;
		if (wait_ms < 0)
			wait_ms = 0;
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000;
		if (w->spin_ns != 0 && !w->stopping && spin_for_events(w))
			ts.tv_sec = ts.tv_nsec = 0;
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
		if (w->now_ms >= w->next_tick_ms)
			tick(w);
		else if (w->stopping)
			stop_progress(w);
	}
	/* what is left was prepared but never submitted: let it go out */
	io_uring_submit(&w->ring);
}

/* ---- Start ---- */

static int ring_setup(struct worker *w)
{
	static const struct {
		unsigned int flags;
		const char *name;
	} modes[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
			  IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
		  "SINGLE_ISSUER|DEFER_TASKRUN|TASKRUN_FLAG" },
		{ IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL |
			  IORING_SETUP_CQSIZE,
		  "COOP_TASKRUN|TASKRUN_FLAG" },
		{ 0, "no setup flags" },
	};
	struct io_uring_params p;
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = modes[i].flags;
		p.cq_entries = 4 * WORKER_SQ_ENTRIES;
		ret = io_uring_queue_init_params(WORKER_SQ_ENTRIES, &w->ring, &p);
		if (ret == 0) {
			w->ring_mode = modes[i].name;
			break;
		}
		if (ret != -EINVAL)
			break;
	}
	if (ret < 0)
		return ret;
	w->ring_ok = true;
	if (!(p.features & IORING_FEAT_EXT_ARG))
		log_warn("worker %u: the kernel lacks IORING_FEAT_EXT_ARG: timeouts cost an SQE",
			 w->id);
	(void)io_uring_register_ring_fd(&w->ring);
	return 0;
}

static int worker_init(struct worker *w)
{
	int ret = ring_setup(w);
	uint32_t max_len;

	if (ret) {
		log_err("worker %u: io_uring setup: %s", w->id, strerror(-ret));
		return ret;
	}
	max_len = w->t->p.mdts_bytes;
	if (max_len < NVME_TCP_ADMIN_ICD)
		max_len = NVME_TCP_ADMIN_ICD;
	if (max_len < w->t->p.io_icd)
		max_len = w->t->p.io_icd;
	ret = bufpool_init(&w->pool, &w->ring, max_len, WORKER_BUF_CAP);
	if (ret) {
		log_err("worker %u: buffer pool: %s", w->id, strerror(-ret));
		return ret;
	}
	/* every slot, empty ones as -1 (sparse), so that a reload can fill them */
	w->files_gen = atomic_load(&w->t->files_gen);
	memcpy(w->reg_files, w->t->files, TARGET_MAX_FILES * sizeof(int));
	ret = io_uring_register_files(&w->ring, w->reg_files, TARGET_MAX_FILES);
	w->fixed_files = ret == 0;
	if (ret)
		log_warn("worker %u: registering the backing files: %s (using plain fds)", w->id,
			 strerror(-ret));
	conn_zc_setup(w);
	worker_clock(w);
	w->spin_max_ns = (int64_t)w->t->p.busy_poll_us * 1000;
	w->spin_ns = w->spin_max_ns;
	w->next_tick_ms = w->now_ms + WORKER_TICK_MS;
	w->epoch = atomic_load(&w->t->epoch);
	atomic_store(&w->epoch_ack, w->epoch);
	for (struct wlistener *wl = w->ls; wl != NULL; wl = wl->next)
		arm_accept(wl);
	ret = io_uring_submit(&w->ring);
	if (ret < 0) {
		log_err("worker %u: arming accept: %s", w->id, strerror(-ret));
		return ret;
	}
	log_info("worker %u: cpu %d, io_uring %s, %s buffers, %s backing files", w->id, w->cpu,
		 w->ring_mode, w->pool.registered ? "registered" : "unregistered",
		 w->fixed_files ? "registered" : "plain");
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];
	bool go;
	int ret;

	snprintf(name, sizeof(name), "nvmfd-w%u", w->id);
	pthread_setname_np(pthread_self(), name);
	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (ret)
			log_warn("worker %u: pinning to cpu %d: %s", w->id, w->cpu, strerror(ret));
	}
	ret = worker_init(w);
	pthread_mutex_lock(&g_lock);
	w->init_err = ret;
	w->ready = true;
	pthread_cond_broadcast(&g_cond);
	/*
	 * Serve only once every worker is ready: a queue handed to a worker
	 * whose ring does not exist yet would go to a wrong fd.
	 */
	while (ret == 0 && !g_go && !atomic_load(&g_stop_req[w->id]))
		pthread_cond_wait(&g_cond, &g_lock);
	go = g_go;
	pthread_mutex_unlock(&g_lock);
	if (ret == 0 && go) {
		worker_loop(w);
		conn_zc_report(w);
		if (w->spins != 0)
			log_info("worker %u: busy-poll: %llu spins, %.1f%% found an event", w->id,
				 (unsigned long long)w->spins, 100.0 * (double)w->spin_hits /
				 (double)w->spins);
	}
	/* registered ring fds belong to this thread */
	if (w->ring_ok)
		(void)io_uring_unregister_ring_fd(&w->ring);
	return NULL;
}

/* The CPUs we may run on, in order. Returns how many (0: do not pin). */
static int cpu_list(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (int i = 0; i < CPU_SETSIZE && n < max; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	return n;
}

static void workers_free(void)
{
	for (unsigned int i = 0; i < g_nworkers; i++) {
		struct worker *w = &g_workers[i];

		if (w->ring_ok)
			io_uring_queue_exit(&w->ring);
		if (w->pool.free_slots != NULL)
			bufpool_fini(&w->pool);
		while (w->ls != NULL)
			wl_free(w->ls);
		free(w->reg_files);
	}
	free(g_workers);
	free(g_stop_req);
	g_go = false;
	g_workers = NULL;
	g_stop_req = NULL;
	g_nworkers = 0;
}

/*
 * One MSG_RING with data to every running worker, from a ring of main's
 * own, so that none waits for its tick: OP_MSG with NULL stops a worker,
 * OP_NONE only wakes it. Without a ring the workers see their flags at
 * their next tick.
 */
static void msg_workers(uint64_t data)
{
	struct io_uring r;
	unsigned int sent = 0;

	if (io_uring_queue_init(64, &r, 0) != 0)
		return;
	for (unsigned int i = 0; i < g_nworkers; i++) {
		struct worker *w = &g_workers[i];
		struct io_uring_sqe *sqe;

		if (!w->ring_ok || w->init_err)
			continue;
		sqe = io_uring_get_sqe(&r);
		if (sqe == NULL) {
			io_uring_submit(&r);
			sqe = io_uring_get_sqe(&r);
		}
		if (sqe == NULL)
			break;
		io_uring_prep_msg_ring(sqe, w->ring.ring_fd, 0, data, 0);
		io_uring_sqe_set_data64(sqe, i);
		sent++;
	}
	if (sent)
		io_uring_submit_and_wait(&r, sent);
	io_uring_queue_exit(&r);
}

/* Tell every started worker to stop (MSG_RING; the flag as a fallback), join. */
static void stop_and_join(void)
{
	atomic_store(&g_target->stopping, true);
	/* under g_lock, with a broadcast: a worker may still wait for g_go */
	pthread_mutex_lock(&g_lock);
	for (unsigned int i = 0; i < g_nworkers; i++)
		atomic_store(&g_stop_req[i], true);
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
	msg_workers(op_data(NULL, OP_MSG));
	for (unsigned int i = 0; i < g_nworkers; i++)
		if (g_workers[i].thread_started)
			pthread_join(g_workers[i].thread, NULL);
}

static int workers_alloc(struct target *t)
{
	const struct listener_set *ls = atomic_load(&t->ls);
	int cpus[CPU_SETSIZE];
	int ncpus = cpu_list(cpus, CPU_SETSIZE);

	g_workers = calloc(t->nworkers, sizeof(*g_workers));
	g_stop_req = calloc(t->nworkers, sizeof(*g_stop_req));
	if (g_workers == NULL || g_stop_req == NULL)
		return -ENOMEM;
	g_nworkers = t->nworkers;
	g_target = t;
	for (unsigned int i = 0; i < t->nworkers; i++) {
		struct worker *w = &g_workers[i];

		w->id = i;
		w->t = t;
		w->cpu = ncpus > 0 ? cpus[i % (unsigned int)ncpus] : -1;
		w->buf_wait_tail = &w->buf_wait;
		w->reg_files = malloc(TARGET_MAX_FILES * sizeof(int));
		if (w->reg_files == NULL)
			return -ENOMEM;
		/* reversed, so that the list is in the configuration's order */
		for (size_t j = ls != NULL ? ls->n : 0; j-- > 0;)
			if (wl_add(w, ls->l[j]) != 0)
				return -ENOMEM;
	}
	return 0;
}

int workers_start(struct target *t)
{
	sigset_t all, old;
	int ret;

	if (t->nworkers == 0 || g_workers != NULL)
		return -EINVAL;
	ret = workers_alloc(t);
	if (ret) {
		workers_free();
		return ret;
	}
	/* Signals are main's: workers start with every one blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned int i = 0; i < g_nworkers; i++) {
		ret = -pthread_create(&g_workers[i].thread, NULL, worker_main, &g_workers[i]);
		if (ret) {
			log_err("starting worker %u: %s", i, strerror(-ret));
			break;
		}
		g_workers[i].thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	pthread_mutex_lock(&g_lock);
	for (unsigned int i = 0; i < g_nworkers; i++) {
		while (g_workers[i].thread_started && !g_workers[i].ready)
			pthread_cond_wait(&g_cond, &g_lock);
		if (ret == 0 && g_workers[i].init_err)
			ret = g_workers[i].init_err;
	}
	pthread_mutex_unlock(&g_lock);
	if (ret) {
		stop_and_join();
		workers_free();
		atomic_store(&t->stopping, false);
		return ret;
	}
	pthread_mutex_lock(&g_lock);
	g_go = true;
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
	return 0;
}

void workers_stop(void)
{
	if (g_workers == NULL)
		return;
	log_info("stopping %u worker(s)", g_nworkers);
	stop_and_join();
	workers_free();
}

static uint64_t g_drained; /* epochs below it have no command left (main only) */

static int64_t slot_cmds(unsigned int slot)
{
	int64_t n = 0;

	for (unsigned int i = 0; i < g_nworkers; i++)
		n += atomic_load_explicit(&g_workers[i].live[slot], memory_order_acquire);
	return n;
}

uint64_t workers_drained_below(const struct target *t)
{
	uint64_t top = atomic_load(&t->epoch);

	/* a worker that has not acknowledged an epoch may still begin commands in it */
	for (unsigned int i = 0; i < g_nworkers; i++) {
		uint64_t ack = atomic_load_explicit(&g_workers[i].epoch_ack, memory_order_acquire);

		if (ack < top)
			top = ack;
	}
	/* a slot holds one epoch not yet drained at most (workers_sync sees to it) */
	while (g_drained < top && slot_cmds((unsigned int)(g_drained % WORKER_EPOCH_SLOTS)) == 0)
		g_drained++;
	return g_drained;
}

bool workers_can_sync(const struct target *t, unsigned int n)
{
	uint64_t e = atomic_load(&t->epoch) + n;

	return e < WORKER_EPOCH_SLOTS || workers_drained_below(t) > e - WORKER_EPOCH_SLOTS;
}

/* Sleep 1 ms, unless the deadline has passed (false). */
static bool sleep_1ms_until(int64_t deadline)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	if (clock_mono_ms() >= deadline)
		return false;
	nanosleep(&ts, NULL);
	return true;
}

int workers_sync(struct target *t, int timeout_ms)
{
	uint64_t e = atomic_load(&t->epoch) + 1;
	int64_t deadline = clock_mono_ms() + timeout_ms;

	while (!workers_can_sync(t, 1))
		if (!sleep_1ms_until(deadline))
			return -EBUSY;
	atomic_store_explicit(&t->epoch, e, memory_order_release);

	msg_workers(op_data(NULL, OP_NONE));
	for (unsigned int i = 0; i < g_nworkers; i++)
		while (atomic_load_explicit(&g_workers[i].epoch_ack, memory_order_acquire) != e)
			if (!sleep_1ms_until(deadline))
				return -ETIMEDOUT;
	return 0;
}

