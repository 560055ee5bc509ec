/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker threads as a set, main's side (worker.h): start (one pinned
 * thread each, its ring, buffer pool and registered files), the messages
 * main sends them, and the graceful stop; the lookups every worker makes
 * (the worker of an I/O queue, hand-offs in flight).
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

#include "accept.h"
#include "conn.h"
#include "listener.h"
#include "log.h"

static struct worker *g_workers;
static unsigned int g_nworkers;
static struct target *g_target;
static _Atomic int g_handoffs; /* MSG_RING hand-offs not yet adopted */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static _Atomic bool *g_stop_req; /* per worker: main asked it to stop */
static bool g_go;		 /* every worker is ready: serve (under g_lock) */

struct worker *workers_all(unsigned int *n)
{
	*n = g_nworkers;
	return g_workers;
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

bool workers_handoffs_pending(void)
{
	return atomic_load(&g_handoffs) != 0;
}

bool workers_stop_requested(const struct worker *w)
{
	return atomic_load(&g_stop_req[w->id]);
}

static int ring_setup(struct worker *w)
{
	static const struct {
		unsigned int flags;
		const char *name;
	} modes[] = {
		{IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
		 "SINGLE_ISSUER|DEFER_TASKRUN|TASKRUN_FLAG"},
		{IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL |
			 IORING_SETUP_CQSIZE,
		 "COOP_TASKRUN|TASKRUN_FLAG"},
		{0, "no setup flags"},
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
		accept_arm(wl);
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
		worker_run(w);
		conn_zc_report(w);
		if (w->spins != 0)
			log_info("worker %u: busy-poll: %llu spins, %.1f%% found an event", w->id,
				 (unsigned long long)w->spins,
				 100.0 * (double)w->spin_hits / (double)w->spins);
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
			wlistener_free(w->ls);
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
void workers_msg(uint64_t data)
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
	workers_msg(op_data(NULL, OP_MSG));
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
			if (wlistener_add(w, ls->l[j]) != 0)
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
	ret = conn_tls_setup();
	if (ret)
		return ret;
	ret = workers_alloc(t);
	if (ret) {
		workers_free();
		conn_tls_teardown();
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
		conn_tls_teardown();
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
	conn_tls_teardown();
}
