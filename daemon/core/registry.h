/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The target: subsystems, namespaces, transport parameters and the table
 * of live controllers, built from a validated configuration.
 *
 * Live reload (reload.c) changes what is served while workers run, without
 * locks on their side (read-copy-update): what may change is reached
 * through an atomic pointer to an immutable table (the subsystem table,
 * each subsystem's namespace table and host list, the configuration);
 * main builds new tables, publishes them, and frees the old ones only once
 * every worker has passed a quiescent point (its loop's top, where it holds
 * no table) and every command that began before the publication has ended
 * (worker_sync(), workers_drained()). So a worker may use what it loaded
 * until its command ends, and must load again afterwards.
 *
 * Subsystems outlive their removal while controllers hold them (refs);
 * namespaces are closed by main once retired and drained. The controller
 * table is touched only when a queue connects or a controller goes away,
 * under t->lock, never on the I/O path.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth_backoff.h"
#include "backend.h"
#include "config.h"
#include "conn_limits.h"
#include "listener.h"
#include "nvme_spec.h"
#include "nvmf_spec.h"
#include "resv.h"

#define TARGET_MAX_WORKERS  256
#define TARGET_MAX_CTRLS    1024
#define TARGET_ADMIN_QDEPTH 32 /* the Linux host's admin sqsize is 31 (0's based) */
#define TARGET_AERL	    4  /* outstanding Asynchronous Event Requests per controller */

/* Per-worker I/O counters of a namespace: written by one worker, summed on read. */
struct ns_stats {
	_Atomic uint64_t read_cmds;
	_Atomic uint64_t write_cmds;
	_Atomic uint64_t read_blocks; /* in 512-byte units, as the SMART log counts */
	_Atomic uint64_t write_blocks;
	_Atomic uint64_t busy_ns; /* time with commands outstanding */
	_Atomic uint64_t media_errors;
	/* the worker's own, for busy_ns: commands in their backend stage, since when */
	int64_t busy_since_ns;
	uint32_t inflight;
	char pad[4]; /* a cache line per worker */
};
_Static_assert(sizeof(struct ns_stats) == 64, "one cache line per worker");

/* Counters as the SMART / Health log sums them (health.c persists them). */
struct smart_counts {
	uint64_t read_cmds;
	uint64_t write_cmds;
	uint64_t read_blocks; /* 512-byte units */
	uint64_t write_blocks;
	uint64_t busy_ns;
	uint64_t media_errors;
};

struct ns {
	uint32_t nsid;
	struct cfg_namespace cfg; /* as configured: a reload keeps ns if this is unchanged */
	struct be_ns be;
	uint64_t nsze;	    /* in blocks; a reload may change it: read it with ns_blocks() */
	uint32_t lba_shift; /* 9 or 12 */
	bool read_only;
	uint8_t nguid[16]; /* stable across restarts: derived from NQN and NSID */
	uint8_t eui64[8];
	uint8_t uuid[16];
	int file_slot;		  /* index in every worker's registered files; -1 (RAM) */
	struct ns_stats *stats;	  /* [t->nworkers] */
	struct smart_counts base; /* from the state file: the counters of earlier runs */
	bool released;		  /* removed by a reload: its store is closed, counters kept */
	/* reservations (resv_ns.h): the word the I/O path reads, the rest under a lock */
	_Atomic uint64_t resv_word;
	struct ns_resv *resv;
	/* LBA range lock (range_lock.h): fused Compare and Write against writes */
	struct range_lock *rl;
};

/* The namespace's ANA group (NVMe Base 2.0 8.1.2): as configured, 1 by default. */
static inline uint32_t ns_anagrpid(const struct ns *ns)
{
	return ns->cfg.ana_group ? ns->cfg.ana_group : 1;
}

static inline uint64_t ns_blocks(const struct ns *ns)
{
	return __atomic_load_n(&ns->nsze, __ATOMIC_RELAXED);
}

/*
 * A subsystem's namespaces: n served, sorted by NSID, then nold removed by
 * a reload whose commands may still run (counted in the SMART log until
 * main folds them into retired). One pointer, so a reader sees one
 * consistent set of counters. Immutable once published.
 */
struct ns_table {
	uint64_t gen;		     /* unique: a plan made with this table is still good */
	struct smart_counts retired; /* namespaces gone, and earlier runs' of them */
	size_t n;
	size_t nold;
	struct ns *ns[];
};

/* Who may connect to a subsystem. Immutable once published. */
struct host_list {
	bool any;
	size_t n;
	char nqn[][NVMF_NQN_FIELD];
};

struct subsys {
	_Atomic int refs; /* the subsystem table's, and each controller's */
	char nqn[NVMF_NQN_FIELD];
	bool discovery; /* the discovery subsystem */
	char serial[21];
	char model[41];
	_Atomic(struct ns_table *) nst;
	_Atomic(struct host_list *) hosts;
	_Atomic(struct port_list *) ports; /* NULL: every I/O listener */
	_Atomic bool removed;		   /* by a reload: its controllers are being killed */
	/*
	 * Registered hosts' slots (bits of ns->resv_word): appended under
	 * resv_slot_lock, never changed once published by resv_nslots.
	 */
	pthread_mutex_t resv_slot_lock;
	_Atomic uint32_t resv_nslots;
	uint8_t resv_slot_id[RESV_MAX_HOSTS][16];
	_Atomic uint64_t err_entries;	/* error log entries, ever (earlier runs' included) */
	_Atomic uint64_t auth_failures; /* failed DH-HMAC-CHAP transactions (fabrics_auth.h) */
	_Atomic uint64_t auth_successes;
};

/* The listeners a subsystem is served on (nvmet's port links). Immutable once published. */
struct port_list {
	size_t n; /* 0: every I/O listener */
	struct cfg_addr a[];
};

/* The I/O subsystems. Immutable once published. */
struct subsys_table {
	size_t n;
	struct subsys *s[];
};

/* Transport and controller limits, from the configuration. */
struct target_params {
	uint32_t maxh2cdata;
	uint32_t io_icd;     /* in-capsule data on I/O queues (IOCCSZ*16 - 64) */
	uint32_t mdts_bytes; /* largest transfer of one command */
	uint8_t mdts;	     /* log2(mdts_bytes / 4096), for Identify */
	uint32_t io_qdepth;  /* I/O queue entries (MQES + 1) */
	uint32_t max_io_queues;
	uint32_t kato_default_ms;
	uint8_t cap_to; /* CAP.TO in 500 ms units */
	uint32_t busy_poll_us;
	/* resource limits (nvmfd.ini(5) LIMITS) */
	struct limits_cfg conns; /* at accept: conn_limits.h */
	uint32_t max_ctrls_per_subsys;
	uint32_t icreq_timeout_ms;
	uint32_t pdu_timeout_ms;
	uint32_t auth_timeout_ms; /* DH-HMAC-CHAP transaction (fabrics_auth.h) */
	uint32_t conn_buf_cap;	  /* data buffer bytes one connection may hold */
	/* TCP keepalive on every accepted connection (seconds; idle 0: none) */
	uint32_t ka_idle_s;
	uint32_t ka_intvl_s;
	uint32_t ka_count;
	uint16_t cntlid_min; /* the controller IDs Connect gives (0, 0: 1..FFEFh) */
	uint16_t cntlid_max;
};

struct ctrl;

#define TARGET_MAX_FILES 4096 /* registered file slots per ring (sparse) */

struct target {
	_Atomic(struct cfg_config *) cfg; /* the configuration being served */
	struct target_params p;
	unsigned int nworkers;
	_Atomic(struct subsys_table *) st;
	_Atomic(struct listener_set *) ls;
	struct subsys disc; /* nqn.2014-08.org.nvmexpress.discovery */
	/*
	 * Backing fds by file slot; each worker registers them as fixed files
	 * (TARGET_MAX_FILES slots, -1 empty). Written by main only; a worker
	 * updates its registration when files_gen moves (worker_sync()).
	 */
	int *files;
	_Atomic uint64_t files_gen;
	_Atomic uint64_t genctr;     /* discovery log generation */
	_Atomic uint64_t ana_chgcnt; /* ANA log change count: moves with every ANA change */
	_Atomic uint64_t epoch;	     /* moved by worker_sync(): workers acknowledge it */
	/* health counters of the whole target (health.c) */
	uint64_t power_cycles;
	uint64_t unsafe_shutdowns;
	uint64_t poh_base_s;  /* power-on seconds of earlier runs */
	pthread_mutex_t lock; /* guards ctrls[] and next_cntlid */
	struct ctrl *ctrls[TARGET_MAX_CTRLS];
	uint16_t next_cntlid;
	_Atomic bool stopping;
	char state_dir[4096]; /* reservations are kept here ("": not kept); main sets it */
	struct limits limits; /* connections held, per address (conn_limits.h) */
	struct auth_backoff auth_backoff; /* failed authentications, per address */
};

/*
 * Open every namespace of cfg and build the target. Returns 0 or -errno with
 * a message logged (a namespace that cannot be opened stops the start).
 */
int target_init(struct target *t, struct cfg_config *cfg, unsigned int nworkers);
void target_fini(struct target *t);

/* The current tables (acquire loads): valid until the caller's command ends. */
static inline struct subsys_table *target_subsystems(const struct target *t)
{
	return atomic_load_explicit((_Atomic(struct subsys_table *) *)&t->st, memory_order_acquire);
}

static inline struct ns_table *subsys_ns(const struct subsys *s)
{
	return atomic_load_explicit((_Atomic(struct ns_table *) *)&s->nst, memory_order_acquire);
}

static inline struct cfg_config *target_cfg(const struct target *t)
{
	return atomic_load_explicit((_Atomic(struct cfg_config *) *)&t->cfg, memory_order_acquire);
}

/* Milliseconds since the daemon started (power-on time; ctrl.c). */
int64_t ctrl_uptime_ms(void);
/* Power-on seconds: those of earlier runs (health file) and this one's. */
uint64_t target_power_on_s(const struct target *t);

struct subsys *target_find_subsys(struct target *t, const char *nqn);
struct ns *subsys_find_ns(const struct subsys *s, uint32_t nsid);
bool subsys_host_allowed(const struct subsys *s, const char *hostnqn);
/*
 * Whether s is served on listener l (NULL: no listener, as in tests) or on
 * the configured address host:port: every I/O listener unless the
 * subsystem names its own. The discovery subsystem is not limited here.
 */
bool subsys_serves(const struct subsys *s, const struct listener *l);
bool subsys_serves_addr(const struct subsys *s, const char *host, uint16_t port);
struct port_list *target_ports_from(const struct cfg_subsystem *c);
bool port_list_same(const struct port_list *a, const struct port_list *b);
/* The subsystem admits any host (allow_host = any), not only those it lists. */
bool subsys_admits_any(const struct subsys *s);
/* Whether the list names this host NQN (its "any" aside). */
bool host_list_has(const struct host_list *h, const char *nqn);

void subsys_get(struct subsys *s);
void subsys_put(struct subsys *s);

/* Tables, sized for n entries (n zeroed slots; the caller fills and sets ->n). */
struct ns_table *ns_table_alloc(size_t n);
/* Sort the n served namespaces by NSID; find one of them (binary search). */
void ns_table_sort(struct ns_table *nt);
struct ns *ns_table_find(const struct ns_table *nt, uint32_t nsid);
struct subsys *subsys_table_find(const struct subsys_table *st, const char *nqn);
struct host_list *host_list_alloc(size_t n);
struct subsys_table *subsys_table_alloc(size_t n);

/* ---- for reload.c: building pieces of the target from a configuration ---- */

/* Open one namespace of subsystem nqn ("file:line: ..." logged on failure). */
int target_ns_open(struct target *t, const struct cfg_config *cfg, const char *nqn,
		   const struct cfg_namespace *c, struct ns **out);
void target_ns_close(struct target *t, struct ns *ns);
/* Close ns's store and free its file slot (a reload removed it; counters stay). */
void target_ns_release(struct target *t, struct ns *ns);
/* A new subsystem with the configured hosts and room for nns namespaces, none yet (refs 1). */
struct subsys *target_subsys_new(const struct cfg_subsystem *c, size_t nns);
struct host_list *target_hosts_from(const struct cfg_subsystem *c);
/* A free file slot for ns (its fd into t->files), or -1 when none is left. */
int target_file_slot_take(struct target *t, struct ns *ns);
/* The subsystem's counters now: retired + every namespace's base + live counts. */
void subsys_smart(const struct target *t, const struct subsys *s, struct smart_counts *sc);
/* nt's retired counters plus those of its namespaces from index from (n: the removed ones). */
void ns_table_smart(const struct target *t, const struct ns_table *nt, size_t from,
		    struct smart_counts *sc);
void ns_smart(const struct target *t, const struct ns *ns, struct smart_counts *sc);
