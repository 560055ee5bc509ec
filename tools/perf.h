/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmf-perf: what its parts share. nvmf-perf.c parses the arguments, sets
 * up the association through the tools' shared start-up (host_session.c,
 * blocking: admin queue, Identify, Set Features, I/O queue Connect),
 * detaches each I/O queue's socket (host_detach_io(), i.e.
 * nvmf_tcp_qpair_detach) and hands it to a worker thread; perf_engine.c
 * is that thread: one io_uring ring driving its queues with the sans-I/O
 * codec (pdu.h), a batch of sends and receives per ring wake-up.
 * perf_hist.c keeps latencies, perf_pattern.c the verification pattern.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvmf.h"

/* ---- Latency histogram: log-linear, nanoseconds, no allocation ---- */

/*
 * Values below 2^HIST_SUB_BITS+1 ns get a bucket each; above, every power
 * of two is split into 2^HIST_SUB_BITS buckets (relative error < 1.6%),
 * up to 2^HIST_MAX_LOG2 ns (about 18 minutes).
 */
#define HIST_SUB_BITS 5
#define HIST_MAX_LOG2 40
#define HIST_LINEAR   (2u << HIST_SUB_BITS)
#define HIST_BUCKETS  (HIST_LINEAR + (HIST_MAX_LOG2 - HIST_SUB_BITS) * (1u << HIST_SUB_BITS))

struct perf_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_add(struct perf_hist *h, uint64_t ns);
void hist_merge(struct perf_hist *into, const struct perf_hist *from);
/* The value below which a fraction q (0..1) of the samples lie, in ns. */
uint64_t hist_quantile(const struct perf_hist *h, double q);

/* ---- Verification pattern ---- */

/*
 * Each block of a write carries its own LBA and the run's seed, so a read
 * of any block can be checked without remembering what was written, even
 * with several writes of one block in flight. Blocks are at least 512
 * bytes (a multiple of 8).
 */
void pattern_fill(uint8_t *buf, uint64_t slba, uint32_t nblocks, uint32_t lbs, uint32_t seed);
/*
 * 0 if every block matches; else -EILSEQ with *bad_lba the first bad block
 * and a description of what it holds in why (why_size bytes).
 */
int pattern_check(const uint8_t *buf, uint64_t slba, uint32_t nblocks, uint32_t lbs, uint32_t seed,
		  uint64_t *bad_lba, char *why, size_t why_size);

/* ---- The job (read-only while the workers run) ---- */

enum perf_workload {
	WL_READ,
	WL_WRITE,
	WL_RANDREAD,
	WL_RANDWRITE,
	WL_RW,	   /* sequential, read_pct reads */
	WL_RANDRW, /* random, read_pct reads */
	WL_IDLE,   /* queues connected, no I/O */
};

struct perf_job {
	enum perf_workload workload;
	unsigned int read_pct; /* 0..100 */
	uint32_t nsid;
	uint32_t lbs;	    /* LBA data size */
	uint32_t io_size;   /* bytes per command, a multiple of lbs */
	uint64_t first_lba; /* the region: first_lba .. first_lba + nblocks */
	uint64_t nblocks;
	unsigned int qd; /* per queue */
	bool verify;
	bool fill; /* this run is the fill pass: each block written once */
	uint32_t seed;
	bool poll; /* spin on the ring instead of sleeping in it */
	/* CLOCK_MONOTONIC ns: measuring starts / stops; 0 stop = fill until done */
	uint64_t t_start, t_end;
};

/*
 * What one worker measured between t_start and t_end; errors and the
 * verification counts cover the whole run (warm-up and drain too).
 */
struct perf_stats {
	uint64_t ios[2]; /* [0] reads, [1] writes */
	uint64_t bytes[2];
	struct perf_hist lat[2];
	uint64_t errors;	/* commands that failed (NVMe status or transport) */
	uint64_t verify_errors; /* blocks that did not match */
	uint64_t verified_blocks;
	uint64_t cpu_ns;  /* thread CPU time in the window */
	uint64_t wakeups; /* ring waits in the window */
	uint64_t window_ns;
};

struct perf_thread {
	unsigned int id;
	int cpu; /* -1: not pinned */
	const struct perf_job *job;
	struct nvmf_tcp_queue_info *queues;
	unsigned int nqueues;
	unsigned int first_queue; /* global index of queues[0] */
	unsigned int nqueues_total;
	_Atomic bool *stop; /* set by anyone: stop at once (error or signal) */
	struct perf_stats stats;
	int error; /* 0, or the -errno that ended the thread */
	char errmsg[256];
};

/* The worker thread's body (pthread start routine); returns NULL. */
void *perf_thread_run(void *arg);

uint64_t perf_now_ns(void);
