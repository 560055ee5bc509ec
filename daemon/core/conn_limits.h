/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Connection limits at accept (nvmfd.ini(5) LIMITS): max_connections for
 * the whole daemon, and max_connections_per_host for connections from one
 * peer address that have not completed a Fabrics Connect yet. Once a
 * queue is connected it counts against its host NQN instead (ctrl.c, under
 * the controller table's lock), so hosts behind one address (NAT) are not
 * starved by each other's live queues, while no single address can hold
 * more than its share of half-open connections.
 *
 * A connection over a limit is closed right after accept(2), before any
 * memory is allocated for it: the Linux host sees its ICReq go unanswered
 * (the socket closes) and fails that connect attempt with an error, or
 * retries it later when it is a reconnect. Refusals are logged at most
 * once every LIMITS_LOG_MS with the count since the last message, so a
 * flood of connections costs no log flood.
 *
 * Thread: any worker; one mutex, taken at accept, Connect and close only
 * (never on the I/O path).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define LIMITS_LOG_MS	 10000
#define LIMITS_ADDR_HASH 256

struct limits_addr;

struct limits {
	pthread_mutex_t lock;
	uint32_t total;				    /* connections held */
	struct limits_addr *hash[LIMITS_ADDR_HASH]; /* per address: not yet connected */
	int64_t log_next_ms;			    /* refusals are logged again from then */
	uint64_t quiet;				    /* refusals not logged yet */
};

/* The limits in force (target_params). */
struct limits_cfg {
	uint32_t max_conns;
	uint32_t max_per_host;
};

void limits_init(struct limits *l);
void limits_fini(struct limits *l);

/*
 * A new connection from peer (peer_str for the log) on listener name: 0 if
 * it is within the limits (it is counted, and pending for its address), or
 * -EMFILE (max_connections) / -EUSERS (max_connections_per_host).
 */
int limits_conn_open(struct limits *l, const struct limits_cfg *cfg,
		     const struct sockaddr_storage *peer, const char *peer_str, const char *name,
		     int64_t now_ms);
/* A pending connection completed its Connect: its address no longer counts it. */
void limits_conn_connected(struct limits *l, const struct sockaddr_storage *peer);
/* A counted connection is gone; pending: it never connected. */
void limits_conn_close(struct limits *l, const struct sockaddr_storage *peer, bool pending,
		       int64_t now_ms);
