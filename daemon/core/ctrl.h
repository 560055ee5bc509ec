/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Controllers: what the connection code (conn.c, the worker loop) asks of
 * the controller logic (ctrl.c, admin_cmd.c, discovery.c, io_cmd.c). The
 * controller logic does no I/O: it validates Connect, executes admin and
 * Fabrics commands into a buffer, checks I/O commands, and keeps the
 * state that log pages report.
 *
 * Threads: a controller is shared by its queues, which may live on
 * different workers. Admin and Fabrics commands run on the admin queue's
 * worker only (so props, features and the AER queue need no lock). What
 * I/O queues read is immutable or atomic (subsys, dead, last_traffic_ms);
 * the error log, written by any worker on a failed command, has a mutex
 * (errors are rare; it is off the I/O path). A controller is reference-
 * counted: each connected queue holds one, the target's table holds one
 * until the controller is torn down.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvme_spec.h"
#include "nvmf_spec.h"
#include "props.h"
#include "registry.h"

#define CTRL_ERROR_LOG_ENTRIES 64
#define CTRL_EV_MAX	       256 /* namespace changes posted between two deliveries */
#define CTRL_MAX_IO_QUEUES     1024
#define CTRL_RESV_LOG	       64  /* Reservation Notification log entries kept */
#define CTRL_RESV_MASKS	       256 /* namespaces with their own notification mask (82h) */

/* Where the queue's connection is: for the discovery log and for messages. */
struct conn_info {
	int family;	     /* AF_INET or AF_INET6 */
	char local_addr[64]; /* numeric, of this connection's socket */
	uint16_t local_port;
	char peer[80];	    /* "addr:port" of the host */
	char peer_addr[64]; /* the host's numeric address alone (authentication backoff) */
	struct listener *l; /* the listener it came through (NULL: none, in tests) */
};

/* Delivers an AER completion on the admin queue (set by the connection code). */
typedef void (*ctrl_aer_fn)(void *arg, uint16_t cid, uint32_t dw0);

struct ctrl {
	_Atomic int refs;
	struct target *t;
	struct subsys *subsys;
	uint16_t cntlid;
	char hostnqn[NVMF_NQN_FIELD];
	bool hostnqn_lax; /* HOSTNQN is not a valid NQN (accepted: any host admitted) */
	char host_label[NVMF_NQN_MAX + 32]; /* the host in log lines (marked when lax) */
	uint8_t hostid[16];
	struct conn_info admin_ci; /* of the admin queue's connection */
	/*
	 * The port (listener) of the controller: the admin queue's, and every
	 * I/O queue's (Connect refuses others). ANA states are the ones seen
	 * through it. A reference, or NULL (tests).
	 */
	struct listener *l;
	uint32_t kato_ms;				   /* 0: no keep-alive timeout */
	_Atomic int64_t last_traffic_ms;		   /* TBKAS: any command on any queue */
	_Atomic bool dead;				   /* fatal: every queue of it closes */
	_Atomic uint64_t io_qmap[CTRL_MAX_IO_QUEUES / 64]; /* connected I/O queues: bit qid - 1 */
	_Atomic bool enabled;  /* CC.EN = 1 and CSTS.RDY = 1 (props, for other workers) */
	_Atomic bool io_reset; /* CC.EN 1 -> 0: every I/O queue closes (see below) */
	/* reservations: its host's slot (resv_ns.c), cached by any worker */
	_Atomic uint32_t resv_slot1;	 /* slot + 1; 0: none found yet */
	_Atomic uint32_t resv_slot_seen; /* the subsystem's slot count when last looked */

	/* admin queue's worker only */
	struct ctrl_props props;
	uint16_t nr_io_queues;	/* granted by Set Features 07h (written under t->lock: */
	bool nr_io_queues_set;	/*  I/O Connects read them there) */
	uint32_t aen_cfg;	/* Asynchronous Event Configuration (0Bh) */
	uint32_t feat_arb;	/* Arbitration (01h) */
	uint32_t feat_pm;	/* Power Management (02h): power state 0, always */
	uint32_t feat_err_rec;	/* Error Recovery (05h): TLER */
	uint32_t feat_irq_coal; /* Interrupt Coalescing (08h): kept, no effect on Fabrics */
	uint16_t tmpth_over;	/* Temperature Threshold (04h), composite, Kelvin */
	uint16_t tmpth_under;
	bool vwc; /* Volatile Write Cache (06h); others: __atomic_load_n */
	uint16_t aer_cid[TARGET_AERL];
	unsigned int naer;
	uint32_t aen_pending; /* events waiting for an AER: bits as in aen_cfg / OAES */
	uint32_t aen_masked;  /* reported, masked until the host reads the log page */
	ctrl_aer_fn aer_fn;
	void *aer_arg;
	uint32_t changed_ns[NVME_CHANGED_NS_MAX];
	unsigned int nchanged_ns; /* > NVME_CHANGED_NS_MAX: overflowed */

	/* any worker, under err_lock */
	pthread_mutex_t err_lock;
	uint64_t error_count;
	struct nvme_error_log_entry errors[CTRL_ERROR_LOG_ENTRIES]; /* ring: newest (count-1) % N */

	/* events posted by main (a reload), under err_lock too; see ctrl_post_*() */
	_Atomic bool ev_posted;
	bool ev_disc;
	bool ev_ana;
	bool ev_overflow;
	unsigned int ev_n;
	uint32_t ev_nsid[CTRL_EV_MAX];

	/*
	 * Reservation notifications (log page 80h), posted by any worker's
	 * reservation command, under err_lock too; ev_resv asks the admin
	 * queue's worker for the event (ctrl_deliver_posted). The masks of
	 * feature 82h: per namespace, for this controller.
	 */
	bool ev_resv;
	uint64_t resv_log_count; /* of the newest entry (never 0 once one exists) */
	unsigned int resv_log_head, resv_log_n;
	struct {
		uint64_t count;
		uint32_t nsid;
		uint8_t type;
	} resv_log[CTRL_RESV_LOG];
	uint8_t resv_mask_all; /* namespaces without an entry below */
	unsigned int nresv_masks;
	struct {
		uint32_t nsid;
		uint8_t mask;
	} resv_masks[CTRL_RESV_MASKS];
};

/*
 * Fabrics Connect (NVMe-oF 1.1 3.3). qid 0 creates a controller (dynamic
 * model: CNTLID must be FFFFh) and registers it in the target; qid > 0 joins
 * the controller CNTLID names (same subsystem and host, enabled, qid within
 * the granted count and not yet connected). On success *out holds a
 * reference for the queue and *dw0 the CNTLID, with NVMF_CONNECT_AUTHREQ_ATR
 * when the queue must authenticate (fabrics_auth.h); on failure the status names
 * the problem and *dw0 carries IATTR/IPO for Connect Invalid Parameters.
 * Logs once, with the peer, on refusal.
 */
nvme_status_t ctrl_connect(struct target *t, const struct nvmf_connect_cmd *cmd,
			   const struct nvmf_connect_data *data, const struct conn_info *ci,
			   int64_t now_ms, uint32_t *dw0, struct ctrl **out);

/*
 * A queue's connection is closing: frees its qid; qid 0 kills the controller
 * and takes it out of the target's table (dropping the table's reference).
 * The queue's own reference stays the caller's: ctrl_put() it afterwards.
 */
void ctrl_queue_gone(struct ctrl *c, uint16_t qid);

/* Some I/O queue of c is still connected (any worker; a snapshot). */
bool ctrl_has_io_queues(const struct ctrl *c);

void ctrl_get(struct ctrl *c);
void ctrl_put(struct ctrl *c);

/* Every command received on any queue of c (traffic-based keep-alive). */
static inline void ctrl_touch(struct ctrl *c, int64_t now_ms)
{
	atomic_store_explicit(&c->last_traffic_ms, now_ms, memory_order_relaxed);
}

/* The keep-alive timer has run out: the caller tears the association down. */
bool ctrl_kato_expired(const struct ctrl *c, int64_t now_ms);

/* Mark c dead (KATO expiry, fatal error, admin queue gone): its queues close. Logs once. */
void ctrl_kill(struct ctrl *c, const char *why);

/*
 * An I/O queue's connection closes (and calls ctrl_queue_gone) once this is
 * true: the controller died, or the host reset it (CC.EN 1 -> 0 deletes
 * every I/O queue, NVMe Base 2.0 3.7.2; the admin queue stays). io_reset is
 * cleared when the last I/O queue is gone; until then an I/O Connect is
 * refused with Command Sequence Error (without DNR: it may be retried).
 */
static inline bool ctrl_io_queue_closing(const struct ctrl *c)
{
	return atomic_load_explicit(&c->dead, memory_order_relaxed) ||
	       atomic_load_explicit(&c->io_reset, memory_order_relaxed);
}

/* An admin or Fabrics (non-Connect) command, with its data. */
struct ctrl_req {
	const struct nvme_sqe *sqe;
	void *buf;	  /* H2C: the data received; C2H: room for the reply */
	uint32_t buf_len; /* the transfer length the SGL describes */
	uint32_t out_len; /* C2H: bytes of reply produced (<= buf_len) */
	uint32_t dw0;
	uint32_t dw1;
	nvme_status_t status;
};

enum ctrl_exec {
	CTRL_EXEC_DONE, /* complete now with r->status / dw0 / dw1 / out_len */
	CTRL_EXEC_HELD, /* an AER: completed later through aer_fn */
};

/*
 * Execute an admin (or discovery) command, or a Fabrics Property Get/Set /
 * Disconnect, on the admin queue's worker. The caller has checked the
 * transfer length against MDTS and received any H2C data into r->buf.
 * An AER is HELD, or DONE at once (with the event in dw0) when an event
 * already waits. Disconnect here is on the admin queue: Disconnect Invalid
 * Queue Type (oF 3.4); on an I/O queue it is the connection code's (success,
 * then close the queue). Failed commands are not put in the error log here:
 * the caller logs every failed completion with ctrl_log_error().
 */
enum ctrl_exec ctrl_admin_exec(struct ctrl *c, struct ctrl_req *r);

/* Outstanding AERs are completed no more: the admin queue is going away. */
void ctrl_drop_aers(struct ctrl *c);

/*
 * Asynchronous events (admin queue's worker only; other threads get there
 * with a ring message). Each records the event (the Changed Namespace List,
 * the discovery log generation is the caller's to bump) and, if the host
 * enabled it (Set Features 0Bh) and it is not masked, completes a held AER
 * through aer_fn. An event type stays masked after it was reported until
 * the host reads its log page (04h, 70h) with RAE clear (NVMe Base 2.0
 * 5.2). ctrl_notify_ns_changed() is for I/O controllers,
 * ctrl_notify_disc_changed() for discovery controllers.
 */
void ctrl_notify_ns_changed(struct ctrl *c, uint32_t nsid);
void ctrl_notify_disc_changed(struct ctrl *c);
/* The ANA states seen through c's listener changed (Base 2.0 8.1.5): ANA change notice. */
void ctrl_notify_ana_changed(struct ctrl *c);

/*
 * Main (a reload) posts events for a controller; the admin queue's worker
 * delivers them through ctrl_notify_*() when it next passes the top of its
 * loop (workers_sync() makes sure it does).
 */
void ctrl_post_ns_changed(struct ctrl *c, uint32_t nsid);
void ctrl_post_disc_changed(struct ctrl *c);
void ctrl_post_ana_changed(struct ctrl *c);
void ctrl_deliver_posted(struct ctrl *c);
/*
 * A reservation notification for this controller (any worker, resv_ns.c):
 * logged unless feature 82h masks its type for nsid; the event follows.
 */
void ctrl_post_resv(struct ctrl *c, uint32_t nsid, uint8_t type);

/*
 * Record a failed command in the error log (any worker). status without
 * the DNR / MORE bits is what the log keeps with the phase bit clear.
 */
void ctrl_log_error(struct ctrl *c, uint16_t sqid, uint16_t cid, nvme_status_t status,
		    uint32_t nsid, uint64_t lba, uint16_t parm_loc);

/* ---- I/O commands (io_cmd.c): pure checks, any worker ---- */

/* What an I/O command is beyond its backend operation. */
enum io_kind {
	IO_KIND_BE,	 /* Read, Write, Flush, Write Zeroes, DSM: op on the backend */
	IO_KIND_RESV,	 /* a reservation command (resv_ns_exec) */
	IO_KIND_COMPARE, /* read the blocks (op READ), compare with the data */
	IO_KIND_VERIFY,	 /* read the blocks (op READ) into nothing */
};

/* What an I/O command asks of the backend once it passed the checks. */
struct io_plan {
	enum be_op op;
	uint8_t kind;	 /* enum io_kind */
	uint8_t fuse;	 /* NVME_FUSE_*: a half of a fused Compare and Write */
	struct ns *ns;	 /* NULL: Flush of every namespace (NSID FFFFFFFFh) */
	uint64_t offset; /* bytes */
	uint32_t len;	 /* bytes: the data transfer for Read/Write, the range otherwise */
	bool fua;	 /* durable before completion: FUA, or the volatile write cache off */
	bool deac;	 /* Write Zeroes: the range may be deallocated (NVM 3.2.8, CDW12 bit 25) */
	uint32_t nr_ranges; /* Dataset Management: ranges in the H2C data to deallocate
			     * (io_dsm_range each); 0 without AD: complete, nothing to do */
};

/*
 * Check an I/O command (opcode, NSID, FUSE and PSDT, LBA range, transfer
 * length against the SGL and MDTS, read-only namespaces) and plan it.
 * A controller that is not enabled (reset) refuses with Command Sequence
 * Error. fua is set for writes with FUA or when the host turned the
 * volatile write cache off (Set Features 06h).
 * sgl_len is the SGL's data length. Returns 0 or the status the
 * specification names (LBA Out of Range, Invalid Namespace or Format, ...).
 */
nvme_status_t io_check(const struct ctrl *c, const struct nvme_sqe *sqe, uint32_t sgl_len,
		       struct io_plan *plan);

/*
 * The ANA state of ns through c's listener, as an I/O command's status
 * (Base 2.0 8.1.3): 0 in the optimized and non-optimized states, else ANA
 * Inaccessible, ANA Persistent Loss or ANA Transition, without DNR: the
 * host retries on another path. NULL ns: every namespace (Flush of all).
 */
nvme_status_t ana_io_status(const struct ctrl *c, const struct ns *ns);

/* One Dataset Management range: its byte offset and length, or the status. */
nvme_status_t io_dsm_range(const struct ns *ns, const struct nvme_dsm_range *range,
			   uint64_t *offset, uint64_t *len);

/* The NVMe status for a backend error (-EIO -> Unrecovered Read Error / Write Fault, ...). */
nvme_status_t io_errno_status(int err, enum be_op op);

/*
 * Count a completed command in its namespace's per-worker counters: status
 * 0 for a success (Read / Write commands and their 512-byte units, Write
 * Zeroes as a write command); a failure counts only if its status is a
 * Media and Data Integrity Error (the backend's -EIO), which the SMART log
 * reports as Media and Data Integrity Errors (Base 5.16.1.3: unrecovered
 * data integrity errors). Capacity Exceeded (-ENOSPC), Write Protected and
 * the like are not media errors: they are in the error log only. Commands
 * refused by io_check are not counted.
 */
void io_account(struct ns *ns, unsigned int worker, const struct io_plan *plan,
		nvme_status_t status);

/*
 * Controller busy time (SMART): a command of ns enters / leaves its backend
 * stage on worker at now_ns. The namespace is busy on that worker while
 * one is in it; the SMART log sums this over workers (and, for the
 * subsystem, over namespaces).
 */
void io_busy_begin(struct ns *ns, unsigned int worker, int64_t now_ns);
void io_busy_end(struct ns *ns, unsigned int worker, int64_t now_ns);
