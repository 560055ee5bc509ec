/* SPDX-License-Identifier: BSD-2-Clause */
/* Building the target from a configuration, and looking things up in it. */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "range_lock.h"
#include "resv_ns.h"

/* 64-bit FNV-1a over the subsystem NQN, the NSID and a salt: stable IDs. */
static uint64_t id_hash(const char *nqn, uint32_t nsid, uint64_t salt)
{
	uint64_t h = 1469598103934665603ULL ^ salt;

	for (const char *c = nqn; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((nsid >> (8 * i)) & 0xff)) * 1099511628211ULL;
	/* a final mix so that neighbouring NSIDs differ in every byte */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * Namespace identifiers that survive restarts and differ between
 * namespaces: derived from (subsystem NQN, NSID) unless the configuration
 * names a UUID. The UUID is an RFC 9562 version 8 ("custom") UUID; the
 * EUI-64 has the locally administered bit set, as no OUI is ours.
 */
static void ns_ids(struct ns *ns, const char *nqn, const struct cfg_namespace *c)
{
	put_be64(ns->nguid, id_hash(nqn, ns->nsid, 1));
	put_be64(ns->nguid + 8, id_hash(nqn, ns->nsid, 2));
	put_be64(ns->eui64, id_hash(nqn, ns->nsid, 3));
	ns->eui64[0] = (uint8_t)((ns->eui64[0] | 0x02) & ~0x01);
	if (c->has_uuid) {
		memcpy(ns->uuid, c->uuid, 16);
		return;
	}
	put_be64(ns->uuid, id_hash(nqn, ns->nsid, 4));
	put_be64(ns->uuid + 8, id_hash(nqn, ns->nsid, 5));
	ns->uuid[6] = (uint8_t)((ns->uuid[6] & 0x0f) | 0x80);
	ns->uuid[8] = (uint8_t)((ns->uuid[8] & 0x3f) | 0x80);
}

static unsigned int ilog2(uint64_t v)
{
	unsigned int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

int target_ns_open(struct target *t, const struct cfg_config *cfg, const char *nqn,
		   const struct cfg_namespace *c, struct ns **out)
{
	struct be_ceph ceph = {
		.conf = cfg->ceph_conf, .id = cfg->ceph_id, .keyring = cfg->ceph_keyring};
	struct be_params bp = {.path = c->path,
			       .ram_size = c->ram_size,
			       .block_size = c->block_size,
			       .read_only = c->read_only,
			       .direct = c->direct,
			       .ram_prealloc = c->prealloc,
			       .nqueues = t->nworkers, /* RBD: one image handle per worker */
			       .ceph = &ceph};
	struct ns *ns = calloc(1, sizeof(*ns));
	char err[512];
	int ret;

	if (ns == NULL)
		return -ENOMEM;
	ns->nsid = c->nsid;
	ns->cfg = *c;
	ns->file_slot = -1;
	ret = be_open(&ns->be, &bp, err, sizeof(err));
	if (ret) {
		log_err("%s:%d: namespace %u of %s: %s", cfg->source, c->path_line, c->nsid, nqn,
			err);
		free(ns);
		return ret;
	}
	if (ns->be.block_size < 512 || ns->be.block_size > 4096 ||
	    (ns->be.block_size & (ns->be.block_size - 1))) {
		log_err("%s:%d: namespace %u of %s: %s has %u-byte blocks (512 to 4096 supported)",
			cfg->source, c->path_line, c->nsid, nqn, c->path, ns->be.block_size);
		be_close(&ns->be);
		free(ns);
		return -EINVAL;
	}
	ns->lba_shift = ilog2(ns->be.block_size);
	ns->nsze = ns->be.size >> ns->lba_shift;
	ns->read_only = ns->be.read_only;
	ns_ids(ns, nqn, c);
	ns->stats = aligned_alloc(64, t->nworkers * sizeof(*ns->stats));
	if (ns->stats == NULL) {
		be_close(&ns->be);
		free(ns);
		return -ENOMEM;
	}
	memset(ns->stats, 0, t->nworkers * sizeof(*ns->stats));
	ns->resv = resv_ns_new();
	ns->rl = range_lock_new();
	if (ns->resv == NULL || ns->rl == NULL) {
		resv_ns_free(ns->resv);
		range_lock_free(ns->rl);
		free(ns->stats);
		be_close(&ns->be);
		free(ns);
		return -ENOMEM;
	}
	if (ns->be.kind == BE_BLOCK && c->block_size && c->block_size != ns->be.block_size)
		log_warn("%s:%d: namespace %u: block_size = %u ignored: %s has %u-byte blocks",
			 cfg->source, c->path_line, c->nsid, c->block_size, c->path,
			 ns->be.block_size);
	if (ns->be.forced_read_only)
		log_warn("%s:%d: namespace %u: %s is a read-only device: serving it read-only",
			 cfg->source, c->path_line, c->nsid, c->path);
	if (c->direct && !ns->be.direct && (ns->be.kind == BE_FILE || ns->be.kind == BE_BLOCK))
		log_warn("namespace %u of %s: %s refuses O_DIRECT, using the page cache", c->nsid,
			 nqn, c->path);
	log_info("namespace %u of %s: %s, %llu blocks of %u bytes%s%s%s, deallocate: %s", c->nsid,
		 nqn, c->path, (unsigned long long)ns->nsze, ns->be.block_size,
		 ns->read_only ? ", read-only" : "", ns->be.direct ? ", O_DIRECT" : "",
		 ns->be.ram_prealloc ? ", preallocated" : "",
		 ns->read_only	       ? "none (read-only)"
		 : ns->be.ram_prealloc ? "zeroing (the memory is kept)"
				       : be_dealloc_name(ns->be.dealloc));
	*out = ns;
	return 0;
}

void target_ns_release(struct target *t, struct ns *ns)
{
	ns->released = true;
	if (ns->file_slot >= 0 && t->files != NULL && t->files[ns->file_slot] == ns->be.fd)
		t->files[ns->file_slot] = -1;
	ns->file_slot = -1;
	be_close(&ns->be);
	ns->be.fd = -1;
}

void target_ns_close(struct target *t, struct ns *ns)
{
	if (ns == NULL)
		return;
	if (!ns->released)
		target_ns_release(t, ns);
	resv_ns_free(ns->resv);
	range_lock_free(ns->rl);
	free(ns->stats);
	free(ns);
}

static int cmp_ns(const void *a, const void *b)
{
	const struct ns *x = *(struct ns *const *)a, *y = *(struct ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

void ns_table_sort(struct ns_table *nt)
{
	qsort(nt->ns, nt->n, sizeof(nt->ns[0]), cmp_ns);
}

struct ns *ns_table_find(const struct ns_table *nt, uint32_t nsid)
{
	size_t lo = 0, hi = nt->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (nt->ns[mid]->nsid == nsid)
			return nt->ns[mid];
		if (nt->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct subsys *subsys_table_find(const struct subsys_table *st, const char *nqn)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->s[i]->nqn, nqn) == 0)
			return st->s[i];
	return NULL;
}

struct ns_table *ns_table_alloc(size_t n)
{
	static _Atomic uint64_t gen;
	struct ns_table *nt = calloc(1, sizeof(*nt) + n * sizeof(nt->ns[0]));

	if (nt != NULL)
		nt->gen = atomic_fetch_add(&gen, 1) + 1;
	return nt;
}

struct host_list *host_list_alloc(size_t n)
{
	return calloc(1, sizeof(struct host_list) + n * sizeof(((struct host_list *)0)->nqn[0]));
}

struct subsys_table *subsys_table_alloc(size_t n)
{
	return calloc(1, sizeof(struct subsys_table) + n * sizeof(struct subsys *));
}

struct host_list *target_hosts_from(const struct cfg_subsystem *c)
{
	struct host_list *h = host_list_alloc(c->nhosts);

	if (h == NULL)
		return NULL;
	h->any = c->allow_any_host;
	for (size_t i = 0; i < c->nhosts; i++)
		snprintf(h->nqn[i], sizeof(h->nqn[i]), "%s", c->hosts[i]);
	h->n = c->nhosts;
	return h;
}

struct port_list *target_ports_from(const struct cfg_subsystem *c)
{
	struct port_list *p = calloc(1, sizeof(*p) + c->nports * sizeof(p->a[0]));

	if (p == NULL)
		return NULL;
	if (c->nports > 0)
		memcpy(p->a, c->ports, c->nports * sizeof(p->a[0]));
	p->n = c->nports;
	return p;
}

bool port_list_same(const struct port_list *a, const struct port_list *b)
{
	size_t an = a ? a->n : 0, bn = b ? b->n : 0;

	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++) {
		bool found = false;

		for (size_t j = 0; j < bn && !found; j++)
			found = a->a[i].port == b->a[j].port &&
				strcmp(a->a[i].host, b->a[j].host) == 0;
		if (!found)
			return false;
	}
	return true;
}

bool subsys_serves_addr(const struct subsys *s, const char *host, uint16_t port)
{
	const struct port_list *p = atomic_load_explicit((_Atomic(struct port_list *) *)&s->ports,
							 memory_order_acquire);

	if (s->discovery || p == NULL || p->n == 0)
		return true;
	for (size_t i = 0; i < p->n; i++)
		if (p->a[i].port == port && strcmp(p->a[i].host, host) == 0)
			return true;
	return false;
}

bool subsys_serves(const struct subsys *s, const struct listener *l)
{
	return l == NULL || subsys_serves_addr(s, l->host, (uint16_t)l->port);
}

struct subsys *target_subsys_new(const struct cfg_subsystem *c, size_t nns)
{
	struct subsys *s = calloc(1, sizeof(*s));
	struct ns_table *nt = ns_table_alloc(nns);
	struct host_list *h = target_hosts_from(c);
	struct port_list *p = target_ports_from(c);

	if (s == NULL || nt == NULL || h == NULL || p == NULL) {
		free(s);
		free(nt);
		free(h);
		free(p);
		return NULL;
	}
	atomic_init(&s->ports, p);
	atomic_init(&s->refs, 1);
	snprintf(s->nqn, sizeof(s->nqn), "%s", c->nqn);
	snprintf(s->serial, sizeof(s->serial), "%s", c->serial);
	snprintf(s->model, sizeof(s->model), "%s", c->model);
	atomic_init(&s->nst, nt);
	atomic_init(&s->hosts, h);
	pthread_mutex_init(&s->resv_slot_lock, NULL);
	return s;
}

void subsys_get(struct subsys *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

/* The last reference: the namespaces were closed by whoever retired them. */
void subsys_put(struct subsys *s)
{
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(atomic_load(&s->nst));
	free(atomic_load(&s->hosts));
	free(atomic_load(&s->ports));
	free(s);
}

static int subsys_build(struct target *t, const struct cfg_config *cfg,
			const struct cfg_subsystem *c, struct subsys **out)
{
	struct subsys *s = target_subsys_new(c, c->nns);
	struct ns_table *nt;
	int ret = 0;

	*out = s;
	if (s == NULL)
		return -ENOMEM;
	nt = atomic_load(&s->nst);
	for (size_t i = 0; i < c->nns && ret == 0; i++) {
		ret = target_ns_open(t, cfg, s->nqn, &c->ns[i], &nt->ns[nt->n]);
		if (ret == 0)
			nt->n++;
	}
	ns_table_sort(nt);
	return ret;
}

/* Close every namespace of s and drop the table's reference (init failure, exit). */
static void subsys_close(struct target *t, struct subsys *s)
{
	struct ns_table *nt;

	if (s == NULL)
		return;
	nt = atomic_load(&s->nst);
	for (size_t i = 0; i < nt->n + nt->nold; i++)
		target_ns_close(t, nt->ns[i]);
	nt->n = nt->nold = 0;
	subsys_put(s);
}

static void params_from(struct target_params *p, const struct cfg_config *cfg)
{
	p->maxh2cdata = cfg->max_h2c_data;
	p->io_icd = cfg->in_capsule_data;
	p->mdts_bytes = cfg->max_transfer;
	p->mdts = (uint8_t)ilog2(cfg->max_transfer / 4096);
	p->io_qdepth = cfg->queue_depth;
	p->max_io_queues = cfg->max_io_queues;
	p->kato_default_ms = cfg->kato_default * 1000;
	p->cap_to = 30; /* 15 s: enable and shutdown are immediate here */
	p->busy_poll_us = cfg->busy_poll_us;
	p->conns.max_conns = cfg->max_connections;
	p->conns.max_per_host = cfg->max_connections_per_host;
	p->max_ctrls_per_subsys = cfg->max_controllers_per_subsystem;
	p->icreq_timeout_ms = cfg->icreq_timeout_ms;
	p->pdu_timeout_ms = cfg->pdu_timeout_ms;
	p->auth_timeout_ms = cfg->auth_timeout_ms;
	p->conn_buf_cap = cfg->max_buffers_per_connection;
	p->cntlid_min = cfg->cntlid_min;
	p->cntlid_max = cfg->cntlid_max;
	/* the kernel's unit is the second: round up */
	p->ka_idle_s = (cfg->tcp_keepalive_idle_ms + 999) / 1000;
	p->ka_intvl_s = (cfg->tcp_keepalive_interval_ms + 999) / 1000;
	p->ka_count = cfg->tcp_keepalive_count;
}

int target_file_slot_take(struct target *t, struct ns *ns)
{
	ns->file_slot = -1;
	if (ns->be.fd < 0)
		return -1;
	for (int i = 0; i < TARGET_MAX_FILES; i++) {
		if (t->files[i] < 0) {
			t->files[i] = ns->be.fd;
			ns->file_slot = i;
			return i;
		}
	}
	return -1; /* served through its plain fd */
}

int target_init(struct target *t, struct cfg_config *cfg, unsigned int nworkers)
{
	struct subsys_table *st;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	atomic_init(&t->cfg, cfg);
	t->nworkers = nworkers;
	params_from(&t->p, cfg);
	pthread_mutex_init(&t->lock, NULL);
	limits_init(&t->limits);
	auth_backoff_init(&t->auth_backoff);
	t->next_cntlid = 1;
	atomic_store(&t->genctr, 1);
	snprintf(t->disc.nqn, sizeof(t->disc.nqn), "%s", NVMF_DISC_NQN);
	t->disc.discovery = true;
	atomic_init(&t->disc.refs, 1); /* the target's own: the built-in one is never freed */
	atomic_init(&t->disc.nst, ns_table_alloc(0));
	atomic_init(&t->disc.hosts, host_list_alloc(0));
	snprintf(t->disc.serial, sizeof(t->disc.serial), "nvmfd-discovery");
	snprintf(t->disc.model, sizeof(t->disc.model), "nvmfd discovery");
	t->files = malloc(TARGET_MAX_FILES * sizeof(*t->files));
	st = subsys_table_alloc(cfg->nsubsys);
	atomic_init(&t->st, st);
	if (st == NULL || t->files == NULL || atomic_load(&t->disc.nst) == NULL ||
	    atomic_load(&t->disc.hosts) == NULL) {
		target_fini(t);
		return -ENOMEM;
	}
	atomic_load(&t->disc.hosts)->any = true;
	for (int i = 0; i < TARGET_MAX_FILES; i++)
		t->files[i] = -1;
	for (size_t i = 0; i < cfg->nsubsys && ret == 0; i++) {
		ret = subsys_build(t, cfg, &cfg->subsys[i], &st->s[i]);
		st->n = i + 1;
	}
	for (size_t i = 0; i < st->n && ret == 0; i++) {
		struct ns_table *nt = subsys_ns(st->s[i]);

		for (size_t j = 0; j < nt->n; j++)
			target_file_slot_take(t, nt->ns[j]);
	}
	if (ret)
		target_fini(t);
	return ret;
}

void target_fini(struct target *t)
{
	struct subsys_table *st = atomic_load(&t->st);

	if (st != NULL) {
		for (size_t i = 0; i < st->n; i++)
			subsys_close(t, st->s[i]);
		free(st);
	}
	atomic_store(&t->st, NULL);
	free(atomic_load(&t->disc.nst));
	free(atomic_load(&t->disc.hosts));
	atomic_store(&t->disc.nst, NULL);
	atomic_store(&t->disc.hosts, NULL);
	free(t->files);
	t->files = NULL;
	pthread_mutex_destroy(&t->lock);
	limits_fini(&t->limits);
	auth_backoff_fini(&t->auth_backoff);
}

struct subsys *target_find_subsys(struct target *t, const char *nqn)
{
	if (strcmp(nqn, NVMF_DISC_NQN) == 0)
		return &t->disc;
	return subsys_table_find(target_subsystems(t), nqn);
}

struct ns *subsys_find_ns(const struct subsys *s, uint32_t nsid)
{
	return ns_table_find(subsys_ns(s), nsid);
}

bool subsys_host_allowed(const struct subsys *s, const char *hostnqn)
{
	const struct host_list *h = atomic_load_explicit((_Atomic(struct host_list *) *)&s->hosts,
							 memory_order_acquire);

	return h->any || host_list_has(h, hostnqn);
}

bool subsys_admits_any(const struct subsys *s)
{
	const struct host_list *h = atomic_load_explicit((_Atomic(struct host_list *) *)&s->hosts,
							 memory_order_acquire);

	return h->any;
}

bool host_list_has(const struct host_list *h, const char *nqn)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->nqn[i], nqn) == 0)
			return true;
	return false;
}

static void smart_counts_add(struct smart_counts *sc, const struct smart_counts *b)
{
	sc->read_cmds += b->read_cmds;
	sc->write_cmds += b->write_cmds;
	sc->read_blocks += b->read_blocks;
	sc->write_blocks += b->write_blocks;
	sc->busy_ns += b->busy_ns;
	sc->media_errors += b->media_errors;
}

void ns_smart(const struct target *t, const struct ns *ns, struct smart_counts *sc)
{
	memset(sc, 0, sizeof(*sc));
	smart_counts_add(sc, &ns->base);
	for (unsigned int w = 0; w < t->nworkers; w++) {
		const struct ns_stats *s = &ns->stats[w];

		sc->read_cmds += atomic_load_explicit(&s->read_cmds, memory_order_relaxed);
		sc->write_cmds += atomic_load_explicit(&s->write_cmds, memory_order_relaxed);
		sc->read_blocks += atomic_load_explicit(&s->read_blocks, memory_order_relaxed);
		sc->write_blocks += atomic_load_explicit(&s->write_blocks, memory_order_relaxed);
		sc->busy_ns += atomic_load_explicit(&s->busy_ns, memory_order_relaxed);
		sc->media_errors += atomic_load_explicit(&s->media_errors, memory_order_relaxed);
	}
}

void ns_table_smart(const struct target *t, const struct ns_table *nt, size_t from,
		    struct smart_counts *sc)
{
	*sc = nt->retired;
	for (size_t i = from; i < nt->n + nt->nold; i++) {
		struct smart_counts one;

		ns_smart(t, nt->ns[i], &one);
		smart_counts_add(sc, &one);
	}
}

void subsys_smart(const struct target *t, const struct subsys *s, struct smart_counts *sc)
{
	ns_table_smart(t, subsys_ns(s), 0, sc);
}
