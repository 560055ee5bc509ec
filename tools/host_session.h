/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host tools' one start-up (nvmfdd, nvmf-stat, nvmf-perf): the options
 * every tool has (address, host identity, digests, timeout, ...), then an
 * association with its admin queue (Connect, CC.EN, Identify Controller),
 * I/O queues (Set Features Number of Queues, Connect each), Keep Alive and
 * teardown (CC.SHN, close, free). A new connection option is added here
 * once: to host_opt_table[] in host_session.c, host_opt_parse() and the
 * association parameters.
 *
 * Errors, for these functions and the tools alike: 0 or a negative errno,
 * and a function that fails has said why on standard error ("prog: ...",
 * warnx(3)) before it returns. A transport failure is libnvmf's errno
 * (nvmf.h); a command that completed with an error status is -EIO, its
 * status named with nvme_status_str() (nvme_status_str_fabrics() for
 * Fabrics commands); a refused Connect is -EACCES, the parameter named.
 * The tools exit 1 on such an error, 2 on a usage error.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nvmf.h"

#define HOST_DEFAULT_PORT "4420"
#define HOST_ADMIN_QSIZE  32 /* NVME_AQ_DEPTH */

#define TOOL_WHERE_LEN 300

struct tool_addr {
	char host[256]; /* no brackets */
	char port[32];
	char where[TOOL_WHERE_LEN]; /* "host:port" or "[v6]:port", for messages */
};

/*
 * "host:port", "[v6]:port", "host", "[v6]", or a bare IPv6 address; the port
 * defaults to default_port. 0, or -EINVAL (a is then unspecified).
 */
int tool_parse_address(struct tool_addr *a, const char *arg, const char *default_port);

/* A number, decimal, 0x hex or 0 octal, with an optional k, M or G (x 2^10, 2^20, 2^30). */
int tool_parse_u64(const char *s, uint64_t *v);

/* ---- Options ---- */

/* The shared options a tool offers beyond -g / -G and --hostid (host_opts_init). */
enum {
	HOST_OPTS_Q_T = 1u << 0,     /* the host NQN and the timeout as -q and -t, else as
				      * --hostnqn and --timeout (nvmf-perf's -q and -t are its own) */
	HOST_OPTS_MAX_H2C = 1u << 1, /* --max-h2c N */
	HOST_OPTS_KATO = 1u << 2,    /* --kato MS */
	HOST_OPTS_SQFLOW = 1u << 3,  /* --disable-sqflow */
};

#define HOST_OPTS_MAX_LONG 48 /* the tool's long options and the shared ones */

struct host_opts {
	unsigned int offered; /* HOST_OPTS_* */
	/* What the options and operands say. */
	struct nvmf_association_params ap; /* digests, timeout, KATO, max H2C, SQ flow control,
					    * host NQN and ID ("" / zero: /etc/nvme, nqn.h) */
	struct tool_addr addr;
	const char *subnqn;
	bool has_tls_key; /* --tls-key given (ap.tls_key) */
	/* How this tool reports. */
	const char *refused_hint; /* after "connection refused \u2014 " */
	bool name_subsystem;	  /* status messages name the subsystem after the address */
	unsigned int default_timeout_s;
	/* getopt_long() arguments: the tool's options merged with the shared ones. */
	char shortopts[64];
	struct option longopts[HOST_OPTS_MAX_LONG];
};

/* Wipe the secrets the options hold (--dhchap-secret, --dhchap-ctrl-secret). */
void host_opts_wipe(struct host_opts *o);

/* Defaults: no digests, timeout_ms, the identity from /etc/nvme. */
void host_opts_init(struct host_opts *o, unsigned int offered, uint32_t timeout_ms,
		    const char *refused_hint);

/*
 * A shared option getopt_long() returned: 1 taken into *o, 0 not a shared
 * option, -EINVAL a bad value.
 */
int host_opt_parse(struct host_opts *o, int ch, const char *arg);

/*
 * The usage lines of the shared options offered: "  -g / -G", long-only
 * options indented by indent_long, descriptions from column col.
 */
void host_opts_usage(FILE *f, const struct host_opts *o, int indent_long, int col);

/*
 * getopt_long() over argv[0..argc) (argv[0]: the program or command name)
 * with the tool's options (shortopts, longopts ending in a zero entry) and
 * the shared ones; each tool option goes to tool_opt(ctx, ch, arg), which
 * returns 0 or -EINVAL. -h and --help print usage(stdout). Then the host
 * NQN is checked. Returns the index in argv of the first operand; 0 after
 * --help; -EINVAL on a usage error (said; usage(stderr) printed where an
 * option is wrong).
 */
int host_opts_getopt(struct host_opts *o, int argc, char **argv, const char *shortopts,
		     const struct option *longopts,
		     int (*tool_opt)(void *ctx, int ch, const char *arg), void *ctx,
		     void (*usage)(FILE *f));

/* The ADDRESS[:PORT] operand into o->addr; -EINVAL (said) if it is not one. */
int host_opts_address(struct host_opts *o, const char *arg);

/* ---- A session: one association ---- */

struct host_session {
	const struct host_opts *o;
	struct tool_addr addr;
	const char *subnqn;
	char tag[TOOL_WHERE_LEN + NVMF_NQN_FIELD + 2]; /* what status messages start with */
	struct nvmf_association *na;
	struct nvmf_qpair *admin;
	uint64_t cap;		  /* CAP, after host_connect_admin() */
	struct nvme_id_ctrl ctrl; /* Identify Controller, likewise */
	uint64_t last_admin_ns;	  /* CLOCK_MONOTONIC: the last Keep Alive (or Connect) */
	struct nvmf_qpair **io;	  /* I/O queues 1..nio (host_connect_io) */
	unsigned int nio;
	struct nvmf_tcp_queue_info *tcpq; /* detached I/O queues (host_detach_io); fds ours */
	unsigned int ntcpq;
};

/* A session with o's options to subnqn at addr (NULL: o->addr); nothing connected yet. */
void host_session_init(struct host_session *s, const struct host_opts *o,
		       const struct tool_addr *addr, const char *subnqn);

/* The association, the admin queue, CC.EN (s->cap), Identify Controller (s->ctrl). */
int host_connect_admin(struct host_session *s);

/* The most I/O queue entries the controller allows: CAP.MQES + 1, MAXCMD. */
unsigned int host_io_qsize_max(const struct host_session *s);

/* Set Features Number of Queues (n), then I/O queues 1..n of qsize entries. */
int host_connect_io(struct host_session *s, unsigned int n, uint16_t qsize);

/*
 * Hand the I/O queues to another engine (nvmf-perf's io_uring loop):
 * s->tcpq[0..n) describe their sockets, which the session closes at the end.
 */
int host_detach_io(struct host_session *s);

/*
 * With a KATO, a Keep Alive on the admin queue when KATO / 2 has passed
 * since the last one, as Linux does. host_keep_alive_due(): when the next
 * is due (CLOCK_MONOTONIC ns, host_now_ns()), 0 without a KATO.
 */
int host_keep_alive(struct host_session *s);
uint64_t host_keep_alive_due(const struct host_session *s);
uint64_t host_now_ns(void);

/* Identify Namespace: *nsze blocks of *lbs bytes; -ENXIO (said) if inactive or unusable. */
int host_open_namespace(struct host_session *s, uint32_t nsid, uint64_t *nsze, uint32_t *lbs);

/* Close the I/O queues, CC.SHN (best effort), close the admin queue, free. Idempotent. */
void host_session_close(struct host_session *s);

/* ---- Reporting ---- */

/*
 * A libnvmf call failed (ret < 0): say what happened, where (the
 * association's message, or "connection refused" with the tool's hint).
 * Returns ret.
 */
int host_fail(const struct host_session *s, int ret);

/*
 * A command failed: ret < 0 as host_fail(), else its status st
 * ("TAG: WHAT failed: Status Name (sct 0 sc 0x0b)"). Returns ret or -EIO.
 */
int host_cmd_failed(const struct host_session *s, const char *what, int ret, nvme_status_t st);
