/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The target: subsystems, namespaces, transport parameters and the table
 * of live controllers, built from a validated configuration. Workers read
 * subsystems and namespaces without locks (they do not change while the
 * daemon runs; live reload will swap them whole); the controller table is
 * touched only when a queue connects or a controller goes away, under
 * t->lock, never on the I/O path.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "limits.h"
#include "nvme_spec.h"
#include "nvmf_spec.h"

#define TARGET_MAX_WORKERS 256
#define TARGET_MAX_CTRLS   1024
#define TARGET_ADMIN_QDEPTH 32 /* the Linux host's admin sqsize is 31 (0's based) */
#define TARGET_AERL	   4  /* outstanding Asynchronous Event Requests per controller */

/* Per-worker I/O counters of a namespace: written by one worker, summed on read. */
struct ns_stats {
	_Atomic uint64_t read_cmds;
	_Atomic uint64_t write_cmds;
	_Atomic uint64_t read_blocks;  /* in 512-byte units, as the SMART log counts */
	_Atomic uint64_t write_blocks;
	_Atomic uint64_t busy_ns;      /* time with commands outstanding */
	_Atomic uint64_t media_errors;
	char pad[16];		       /* a cache line per worker */
};

struct ns {
	uint32_t nsid;
	struct be_ns be;
	uint64_t nsze;	      /* in blocks */
	uint32_t lba_shift;   /* 9 or 12 */
	bool read_only;
	uint8_t nguid[16];    /* stable across restarts: derived from NQN and NSID */
	uint8_t eui64[8];
	uint8_t uuid[16];
	int file_slot;	      /* index in every worker's registered files; -1 (RAM) */
	struct ns_stats *stats; /* [t->nworkers] */
};

struct subsys {
	char nqn[NVMF_NQN_FIELD];
	bool discovery;	      /* the discovery subsystem */
	char serial[21];
	char model[41];
	bool allow_any_host;
	size_t nhosts;
	char (*hosts)[NVMF_NQN_FIELD];
	size_t nns;
	struct ns **ns;	      /* sorted by NSID */
};

/* Transport and controller limits, from the configuration. */
struct target_params {
	uint32_t maxh2cdata;
	uint32_t io_icd;      /* in-capsule data on I/O queues (IOCCSZ*16 - 64) */
	uint32_t mdts_bytes;  /* largest transfer of one command */
	uint8_t mdts;	      /* log2(mdts_bytes / 4096), for Identify */
	uint32_t io_qdepth;   /* I/O queue entries (MQES + 1) */
	uint32_t max_io_queues;
	uint32_t kato_default_ms;
	uint8_t cap_to;	      /* CAP.TO in 500 ms units */
	/* resource limits (nvmfd.ini(5) LIMITS) */
	struct limits_cfg conns; /* at accept: limits.h */
	uint32_t max_ctrls_per_subsys;
	uint32_t icreq_timeout_ms;
	uint32_t pdu_timeout_ms;
	uint32_t conn_buf_cap;	 /* data buffer bytes one connection may hold */
};

struct ctrl;

struct target {
	struct cfg_config *cfg;
	struct target_params p;
	unsigned int nworkers;
	size_t nsubsys;
	struct subsys **subsys;
	struct subsys disc;	  /* nqn.2014-08.org.nvmexpress.discovery */
	int *files;		  /* backing fds; each worker registers them as fixed files */
	unsigned int nfiles;
	_Atomic uint64_t genctr;  /* discovery log generation */
	pthread_mutex_t lock;	  /* guards ctrls[] and next_cntlid */
	struct ctrl *ctrls[TARGET_MAX_CTRLS];
	uint16_t next_cntlid;
	_Atomic bool stopping;
	struct limits limits;	  /* connections held, per address (limits.h) */
};

/*
 * Open every namespace of cfg and build the target. Returns 0 or -errno with
 * a message logged (a namespace that cannot be opened stops the start).
 */
int target_init(struct target *t, struct cfg_config *cfg, unsigned int nworkers);
void target_fini(struct target *t);

struct subsys *target_find_subsys(struct target *t, const char *nqn);
struct ns *subsys_find_ns(const struct subsys *s, uint32_t nsid);
bool subsys_host_allowed(const struct subsys *s, const char *hostnqn);
