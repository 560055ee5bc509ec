/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Fabrics Connect command (NVMe over Fabrics 1.1 section 3.3, "oF"
 * below; NVMe Base 2.0, "Base"): its checks, with the status, IATTR and
 * IPO of every refusal; a new controller on the admin queue (dynamic
 * model, a controller ID from the configured range); I/O queues joined to
 * their controller.
 */
#include "ctrl_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fabrics_auth.h"
#include "log.h"
#include "nqn.h"

#define SC_CONNECT_PARAM (NVME_SC_DNR(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM))
#define IPO_SQE(f)	 NVMF_CONNECT_IPO_SQE(offsetof(struct nvmf_connect_cmd, f))
#define IPO_DATA(f)	 NVMF_CONNECT_IPO_DATA(offsetof(struct nvmf_connect_data, f))

struct connect_args {
	struct target *t;
	const struct nvmf_connect_cmd *cmd;
	const struct nvmf_connect_data *data;
	const struct conn_info *ci;
	uint16_t qid;
	uint16_t sqsize; /* 0's based */
	bool subnqn_ok;	 /* NUL-terminated within its field */
	bool hostnqn_ok;
	const char *host_why; /* HOSTNQN does not conform: why (NULL: it does) */
	char subnqn[NVMF_NQN_FIELD];
	char hostnqn[NVMF_NQN_FIELD];
	uint32_t *dw0;
};

/* Copy an NQN field; false if it has no NUL inside the field. */
static bool nqn_field(char out[NVMF_NQN_FIELD], const char in[NVMF_NQN_FIELD])
{
	bool ok = memchr(in, 0, NVMF_NQN_FIELD) != NULL;

	memcpy(out, in, NVMF_NQN_FIELD);
	out[NVMF_NQN_FIELD - 1] = '\0';
	return ok;
}

/* A peer's NQN for a log line: printable ASCII only, at most 223 bytes. */
static void log_safe(char out[NVMF_NQN_MAX + 1], const char *nqn)
{
	size_t i;

	for (i = 0; i < NVMF_NQN_MAX && nqn[i]; i++)
		out[i] = nqn[i] >= 0x20 && nqn[i] < 0x7f ? nqn[i] : '?';
	out[i] = '\0';
}

/* Refuse a Connect: log once, with the peer, and set dw0 (IATTR / IPO). */
__attribute__((format(printf, 4, 5))) static nvme_status_t
refuse(const struct connect_args *a, nvme_status_t st, uint32_t dw0, const char *fmt, ...)
{
	char why[256], host[NVMF_NQN_MAX + 1], sub[NVMF_NQN_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_safe(host, a->hostnqn);
	log_safe(sub, a->subnqn);
	log_warn("connect from %s (host %s) to %s, queue %u, refused: %s", a->ci->peer, host, sub,
		 a->qid, why);
	*a->dw0 = dw0;
	return st;
}

/*
 * The subsystem and the host, as nvmet checks them (nvmet_alloc_ctrl): an
 * unknown SUBNQN is Connect Invalid Parameters at subnqn, a host not on
 * the subsystem's list Connect Invalid Host.
 *
 * A HOSTNQN that is empty or not an NQN (Base 2.0 4.5) is what real hosts
 * send: SPDK's initiator sends an empty one unless told otherwise. A
 * subsystem that admits any host takes it (as nvmet and SPDK's target,
 * which do not look at it); the controller is marked and warned about once
 * (admin_connect). A subsystem with an allow-list cannot name such a host:
 * Connect Invalid Parameters at hostnqn (oF 1.1 3.3, Figure 21).
 */
static nvme_status_t check_names(struct connect_args *a, struct subsys **out, bool *auth)
{
	struct subsys *s;
	const char *why = NULL;
	bool no_key;

	if (!a->subnqn_ok)
		return refuse(a, SC_CONNECT_PARAM, IPO_DATA(subnqn), "SUBNQN is not terminated");
	s = target_find_subsys(a->t, a->subnqn);
	if (s == NULL)
		return refuse(a, SC_CONNECT_PARAM, IPO_DATA(subnqn), "no such subsystem");
	/* as nvmet_find_get_subsys(): a subsystem not linked to this port is unknown here */
	if (!subsys_serves(s, a->ci->l))
		return refuse(a, SC_CONNECT_PARAM, IPO_DATA(subnqn),
			      "subsystem not served on listener %s", a->ci->l->name);
	if (s->discovery && a->qid != 0)
		return refuse(a, SC_CONNECT_PARAM, IPO_SQE(qid),
			      "a discovery controller has no I/O queues");
	if (!a->hostnqn_ok)
		why = "has no NUL in its 256 bytes";
	else if (a->hostnqn[0] == '\0')
		why = "is empty";
	else if (nvmf_nqn_check(a->hostnqn, &why) == 0)
		why = NULL;
	if (why != NULL && !subsys_admits_any(s))
		return refuse(a, SC_CONNECT_PARAM, IPO_DATA(hostnqn),
			      "HOSTNQN %s, and the subsystem has an allow-list", why);
	a->host_why = why;
	if (!subsys_host_allowed(s, a->hostnqn))
		return refuse(a, NVME_SC_DNR(COMMAND_SPECIFIC, CONNECT_INVALID_HOST),
			      IPO_DATA(hostnqn), "host not allowed");
	/* Base 8.13: a host with a key authenticates (ATR); require_auth refuses the others */
	*auth = qauth_connect_required(a->t, s, a->hostnqn, &no_key);
	if (no_key)
		return refuse(a, NVME_SC_DNR(COMMAND_SPECIFIC, CONNECT_INVALID_HOST),
			      IPO_DATA(hostnqn),
			      "require_auth: no dhchap_key is configured for this host");
	*out = s;
	return 0;
}

static bool cntlid_used(const struct target *t, uint16_t id)
{
	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++)
		if (t->ctrls[i] != NULL && t->ctrls[i]->cntlid == id)
			return true;
	return false;
}

/*
 * The queues (connections) hostnqn holds: every controller of that host
 * counts its admin queue and its I/O queues. With t->lock held.
 */
static uint32_t host_queues(const struct target *t, const char *hostnqn)
{
	uint32_t n = 0;

	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++) {
		const struct ctrl *c = t->ctrls[i];

		if (c == NULL || strcmp(c->hostnqn, hostnqn) != 0)
			continue;
		n++;
		for (size_t j = 0; j < CTRL_MAX_IO_QUEUES / 64; j++)
			n += (uint32_t)__builtin_popcountll(atomic_load(&c->io_qmap[j]));
	}
	return n;
}

static uint32_t subsys_ctrls(const struct target *t, const struct subsys *s)
{
	uint32_t n = 0;

	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++)
		n += t->ctrls[i] != NULL && t->ctrls[i]->subsys == s;
	return n;
}

/*
 * A free CNTLID in [min, max], round robin from *next; false when every
 * one is taken. With t->lock held.
 */
static bool cntlid_pick(const struct target *t, uint16_t min, uint16_t max, uint16_t *next,
			uint16_t *out)
{
	uint16_t id = *next < min || *next > max ? min : *next;

	for (uint32_t tries = 0; tries <= (uint32_t)(max - min); tries++) {
		if (!cntlid_used(t, id)) {
			*out = id;
			*next = id == max ? min : (uint16_t)(id + 1);
			return true;
		}
		id = id == max ? min : (uint16_t)(id + 1);
	}
	return false;
}

/*
 * Register c and give it a CNTLID in the configured range (cntlid_range;
 * 1..FFEFh by default, oF 3.3: FFF0h and above are reserved), round robin
 * from next_cntlid and never one a registered controller has: several
 * gateways serving one subsystem get disjoint ranges, so the host never
 * sees one ID twice in the subsystem (the Linux host rejects that).
 * -EBUSY when the table is full, -ENOSPC when the range is, -EDQUOT when
 * c's subsystem has max_controllers_per_subsystem, -EUSERS when c's host
 * has max_connections_per_host queues.
 */
static int table_insert(struct target *t, struct ctrl *c)
{
	uint16_t min = t->p.cntlid_min ? t->p.cntlid_min : 1;
	uint16_t max = t->p.cntlid_max ? t->p.cntlid_max : NVMF_CNTLID_MAX;
	size_t slot = TARGET_MAX_CTRLS;
	uint16_t id = 0;
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < TARGET_MAX_CTRLS && slot == TARGET_MAX_CTRLS; i++)
		if (t->ctrls[i] == NULL)
			slot = i;
	if (slot == TARGET_MAX_CTRLS)
		ret = -EBUSY;
	else if (subsys_ctrls(t, c->subsys) >= t->p.max_ctrls_per_subsys)
		ret = -EDQUOT;
	else if (host_queues(t, c->hostnqn) >= t->p.conns.max_per_host)
		ret = -EUSERS;
	else if (!cntlid_pick(t, min, max, &t->next_cntlid, &id))
		ret = -ENOSPC;
	if (ret) {
		pthread_mutex_unlock(&t->lock);
		return ret;
	}
	c->cntlid = id;
	t->ctrls[slot] = c;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static struct ctrl *ctrl_alloc(const struct connect_args *a, struct subsys *s, int64_t now_ms)
{
	const struct target *t = a->t;
	struct ctrl *c = calloc(1, sizeof(*c));
	uint32_t kato = le32toh(a->cmd->kato);
	uint16_t mqes;

	if (c == NULL)
		return NULL;
	atomic_init(&c->refs, 2); /* the admin queue's and the table's */
	c->t = a->t;
	c->subsys = s;
	subsys_get(s);
	memcpy(c->hostnqn, a->hostnqn, sizeof(c->hostnqn));
	c->hostnqn_lax = a->host_why != NULL;
	if (c->hostnqn_lax) {
		char safe[NVMF_NQN_MAX + 1];

		log_safe(safe, a->hostnqn);
		snprintf(c->host_label, sizeof(c->host_label), "\"%s\" (not a valid host NQN)",
			 safe);
	} else {
		snprintf(c->host_label, sizeof(c->host_label), "%s", a->hostnqn);
	}
	memcpy(c->hostid, a->data->hostid, sizeof(c->hostid));
	c->admin_ci = *a->ci;
	c->l = a->ci->l;
	if (c->l != NULL)
		listener_get(c->l);
	/* a discovery controller always has a keep-alive timeout (as nvmet, 120 s) */
	if (s->discovery && kato == 0)
		kato = t->p.kato_default_ms;
	c->kato_ms = ctrl_kato_round(kato);
	pthread_mutex_init(&c->err_lock, NULL);
	mqes = s->discovery ? TARGET_ADMIN_QDEPTH - 1
			    : (uint16_t)(t->p.io_qdepth > 1 ? t->p.io_qdepth - 1 : 0);
	props_init(&c->props, mqes, t->p.cap_to, s->discovery);
	c->vwc = !s->discovery;
	ctrl_features_reset(c);
	ctrl_touch(c, now_ms);
	return c;
}

static nvme_status_t admin_connect(struct connect_args *a, int64_t now_ms, struct ctrl **out)
{
	struct subsys *s;
	struct ctrl *c;
	nvme_status_t st;
	bool auth;
	int ret;

	/* oF 3.3: the dynamic controller model asks with CNTLID FFFFh */
	if (le16toh(a->data->cntlid) != NVMF_CNTLID_DYNAMIC)
		return refuse(a, SC_CONNECT_PARAM, IPO_DATA(cntlid),
			      "CNTLID %#x on an admin queue (FFFFh: dynamic controllers only)",
			      le16toh(a->data->cntlid));
	st = check_names(a, &s, &auth);
	if (st)
		return st;
	if (a->sqsize == 0 || a->sqsize > TARGET_ADMIN_QDEPTH - 1)
		return refuse(a, SC_CONNECT_PARAM, IPO_SQE(sqsize),
			      "admin SQSIZE %u (0's based, 1..%u)", a->sqsize,
			      TARGET_ADMIN_QDEPTH - 1);
	c = ctrl_alloc(a, s, now_ms);
	if (c == NULL)
		return refuse(a, NVME_SC(GENERIC, INTERNAL), 0, "out of memory");
	ret = table_insert(a->t, c);
	if (ret != 0) {
		pthread_mutex_destroy(&c->err_lock);
		subsys_put(s);
		if (c->l != NULL)
			listener_put(c->l);
		free(c);
		/*
		 * Every resource limit is Connect Controller Busy without DNR (as
		 * nvmet when it has no CNTLID left): a controller may go away and
		 * a retry then succeed. Connect Invalid Host would say the host
		 * may never connect, which is not so.
		 */
		if (ret == -EDQUOT)
			return refuse(a, NVME_SC(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY), 0,
				      "max_controllers_per_subsystem %u reached",
				      a->t->p.max_ctrls_per_subsys);
		if (ret == -EUSERS)
			return refuse(a, NVME_SC(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY), 0,
				      "max_connections_per_host %u reached for this host NQN",
				      a->t->p.conns.max_per_host);
		if (ret == -ENOSPC)
			return refuse(a, NVME_SC(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY), 0,
				      "every controller ID of cntlid_range %u-%u is in use",
				      a->t->p.cntlid_min, a->t->p.cntlid_max);
		return refuse(a, NVME_SC(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY), 0,
			      "%u controllers already", TARGET_MAX_CTRLS);
	}
	if (c->hostnqn_lax)
		log_warn("controller %u of %s from %s: HOSTNQN %s; accepted because the subsystem "
			 "admits any host (the host is %s in this controller's messages)",
			 c->cntlid, s->nqn, a->ci->peer, a->host_why, c->host_label);
	log_info("controller %u of %s for %s from %s%s, keep-alive %u ms%s", c->cntlid, s->nqn,
		 c->host_label, a->ci->peer, s->discovery ? " (discovery)" : "", c->kato_ms,
		 auth ? ", authentication required" : "");
	*a->dw0 = c->cntlid | (auth ? NVMF_CONNECT_AUTHREQ_ATR : 0);
	*out = c;
	return 0;
}

static struct ctrl *find_ctrl(const struct target *t, uint16_t cntlid, const struct subsys *s,
			      const char *hostnqn)
{
	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++) {
		struct ctrl *c = t->ctrls[i];

		if (c != NULL && c->cntlid == cntlid && c->subsys == s && !atomic_load(&c->dead) &&
		    strcmp(c->hostnqn, hostnqn) == 0)
			return c;
	}
	return NULL;
}

/* What refuses an I/O queue (decided under t->lock, logged after). */
struct io_refusal {
	nvme_status_t st;
	uint32_t dw0;
	char why[160];
};

#define IO_REFUSE(r, s, d, ...)                                    \
	do {                                                       \
		(r)->st = (s);                                     \
		(r)->dw0 = (d);                                    \
		snprintf((r)->why, sizeof((r)->why), __VA_ARGS__); \
	} while (0)

/* oF 3.3 for qid > 0, with t->lock held. On success the qid is taken. */
static void io_join(const struct connect_args *a, struct ctrl *c, struct io_refusal *r)
{
	const struct target *t = a->t;
	uint32_t limit = c->nr_io_queues_set ? c->nr_io_queues : t->p.max_io_queues;
	uint64_t bit = 1ULL << ((a->qid - 1) % 64);

	if (limit > CTRL_MAX_IO_QUEUES)
		limit = CTRL_MAX_IO_QUEUES;
	if (memcmp(c->hostid, a->data->hostid, sizeof(c->hostid)) != 0)
		IO_REFUSE(r, SC_CONNECT_PARAM, IPO_DATA(hostid), "HOSTID differs from the admin's");
	else if (a->ci->l != NULL && c->l != NULL && a->ci->l != c->l)
		/* a controller is reached through one port (its ANA states are that port's) */
		IO_REFUSE(r, SC_CONNECT_PARAM, IPO_DATA(cntlid), "controller %u is on listener %s",
			  c->cntlid, c->l->name);
	else if (!atomic_load(&c->enabled))
		IO_REFUSE(r, SC_CMD_SEQ, 0, "controller %u is not enabled", c->cntlid);
	else if (atomic_load(&c->io_reset))
		/* no DNR: the I/O queues of before the reset are still closing */
		IO_REFUSE(r, NVME_SC(GENERIC, CMD_SEQ_ERROR), 0, "controller %u is resetting",
			  c->cntlid);
	else if (a->qid > limit)
		IO_REFUSE(r, SC_CONNECT_PARAM, IPO_SQE(qid), "%u I/O queues granted", limit);
	else if (atomic_load(&c->io_qmap[(a->qid - 1) / 64]) & bit)
		IO_REFUSE(r, SC_CONNECT_PARAM, IPO_SQE(qid), "queue already connected");
	else if (a->sqsize == 0 || a->sqsize > t->p.io_qdepth - 1)
		IO_REFUSE(r, SC_CONNECT_PARAM, IPO_SQE(sqsize), "SQSIZE %u (0's based, 1..%u)",
			  a->sqsize, t->p.io_qdepth - 1);
	else if (host_queues(t, a->hostnqn) >= t->p.conns.max_per_host)
		/* as admin_connect: a resource limit, Controller Busy without DNR */
		IO_REFUSE(r, NVME_SC(COMMAND_SPECIFIC, CONNECT_CTRL_BUSY), 0,
			  "max_connections_per_host %u reached for this host NQN",
			  t->p.conns.max_per_host);
	else
		atomic_fetch_or(&c->io_qmap[(a->qid - 1) / 64], bit);
}

static nvme_status_t io_connect(struct connect_args *a, int64_t now_ms, struct ctrl **out)
{
	uint16_t cntlid = le16toh(a->data->cntlid);
	struct io_refusal r = {0};
	struct subsys *s;
	struct ctrl *c;
	nvme_status_t st;
	bool auth;

	st = check_names(a, &s, &auth);
	if (st)
		return st;
	pthread_mutex_lock(&a->t->lock);
	c = find_ctrl(a->t, cntlid, s, a->hostnqn);
	if (c == NULL)
		IO_REFUSE(&r, SC_CONNECT_PARAM, IPO_DATA(cntlid), "no controller %u of this host",
			  cntlid);
	else
		io_join(a, c, &r);
	if (r.st == 0)
		ctrl_get(c);
	pthread_mutex_unlock(&a->t->lock);
	if (r.st)
		return refuse(a, r.st, r.dw0, "%s", r.why);
	ctrl_touch(c, now_ms);
	log_debug("controller %u: I/O queue %u (%u entries) from %s", c->cntlid, a->qid,
		  a->sqsize + 1, a->ci->peer);
	*a->dw0 = c->cntlid | (auth ? NVMF_CONNECT_AUTHREQ_ATR : 0);
	*out = c;
	return 0;
}

nvme_status_t ctrl_connect(struct target *t, const struct nvmf_connect_cmd *cmd,
			   const struct nvmf_connect_data *data, const struct conn_info *ci,
			   int64_t now_ms, uint32_t *dw0, struct ctrl **out)
{
	struct connect_args a = {.t = t, .cmd = cmd, .data = data, .ci = ci, .dw0 = dw0};

	*dw0 = 0;
	*out = NULL;
	a.qid = le16toh(cmd->qid);
	a.sqsize = le16toh(cmd->sqsize);
	a.subnqn_ok = nqn_field(a.subnqn, data->subnqn);
	a.hostnqn_ok = nqn_field(a.hostnqn, data->hostnqn);
	if (le16toh(cmd->recfmt) != 0)
		return refuse(&a, NVME_SC_DNR(COMMAND_SPECIFIC, CONNECT_FORMAT), 0,
			      "record format %u (0 supported)", le16toh(cmd->recfmt));
	if (a.qid > CTRL_MAX_IO_QUEUES)
		return refuse(&a, SC_CONNECT_PARAM, IPO_SQE(qid), "queue id %u", a.qid);
	return a.qid == 0 ? admin_connect(&a, now_ms, out) : io_connect(&a, now_ms, out);
}
