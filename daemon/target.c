/* SPDX-License-Identifier: BSD-2-Clause */
/* Building the target from a configuration, and looking things up in it. */
#include "target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

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

static int ns_open(struct target *t, struct subsys *s, const struct cfg_namespace *c,
		   struct ns **out)
{
	struct be_params bp = { .path = c->path, .ram_size = c->ram_size,
				.block_size = c->block_size, .read_only = c->read_only,
				.direct = c->direct };
	struct ns *ns = calloc(1, sizeof(*ns));
	char err[512];
	int ret;

	if (ns == NULL)
		return -ENOMEM;
	ns->nsid = c->nsid;
	ret = be_open(&ns->be, &bp, err, sizeof(err));
	if (ret) {
		log_err("%s:%d: namespace %u of %s: %s", t->cfg->source, c->line, c->nsid, s->nqn,
			err);
		free(ns);
		return ret;
	}
	if (ns->be.block_size < 512 || ns->be.block_size > 4096 ||
	    (ns->be.block_size & (ns->be.block_size - 1))) {
		log_err("%s:%d: namespace %u: %s has %u-byte blocks (512 to 4096 supported)",
			t->cfg->source, c->line, c->nsid, c->path, ns->be.block_size);
		be_close(&ns->be);
		free(ns);
		return -EINVAL;
	}
	ns->lba_shift = ilog2(ns->be.block_size);
	ns->nsze = ns->be.size >> ns->lba_shift;
	ns->read_only = ns->be.read_only;
	ns_ids(ns, s->nqn, c);
	ns->stats = aligned_alloc(64, t->nworkers * sizeof(*ns->stats));
	if (ns->stats == NULL) {
		be_close(&ns->be);
		free(ns);
		return -ENOMEM;
	}
	memset(ns->stats, 0, t->nworkers * sizeof(*ns->stats));
	if (ns->be.kind == BE_BLOCK && c->block_size && c->block_size != ns->be.block_size)
		log_warn("%s:%d: namespace %u: block_size = %u ignored: %s has %u-byte blocks",
			 t->cfg->source, c->line, c->nsid, c->block_size, c->path,
			 ns->be.block_size);
	if (ns->be.forced_read_only)
		log_warn("%s:%d: namespace %u: %s is a read-only device: serving it read-only",
			 t->cfg->source, c->line, c->nsid, c->path);
	if (c->direct && !ns->be.direct && !ns->be.ram)
		log_warn("namespace %u of %s: %s refuses O_DIRECT, using the page cache",
			 c->nsid, s->nqn, c->path);
	log_info("namespace %u of %s: %s, %llu blocks of %u bytes%s%s", c->nsid, s->nqn, c->path,
		 (unsigned long long)ns->nsze, ns->be.block_size,
		 ns->read_only ? ", read-only" : "", ns->be.direct ? ", O_DIRECT" : "");
	*out = ns;
	return 0;
}

static void ns_free(struct ns *ns)
{
	be_close(&ns->be);
	free(ns->stats);
	free(ns);
}

static int cmp_ns(const void *a, const void *b)
{
	const struct ns *x = *(struct ns *const *)a, *y = *(struct ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

static int subsys_build(struct target *t, const struct cfg_subsystem *c, struct subsys **out)
{
	struct subsys *s = calloc(1, sizeof(*s));
	int ret = 0;

	if (s == NULL)
		return -ENOMEM;
	*out = s;
	snprintf(s->nqn, sizeof(s->nqn), "%s", c->nqn);
	snprintf(s->serial, sizeof(s->serial), "%s", c->serial);
	snprintf(s->model, sizeof(s->model), "%s", c->model);
	s->allow_any_host = c->allow_any_host;
	if (c->nhosts > 0) {
		s->hosts = calloc(c->nhosts, sizeof(*s->hosts));
		if (s->hosts == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < c->nhosts; i++)
			snprintf(s->hosts[i], sizeof(s->hosts[i]), "%s", c->hosts[i]);
		s->nhosts = c->nhosts;
	}
	s->ns = calloc(c->nns ? c->nns : 1, sizeof(*s->ns));
	if (s->ns == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->nns && ret == 0; i++) {
		ret = ns_open(t, s, &c->ns[i], &s->ns[s->nns]);
		if (ret == 0)
			s->nns++;
	}
	qsort(s->ns, s->nns, sizeof(*s->ns), cmp_ns);
	return ret;
}

static void subsys_free(struct subsys *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nns; i++)
		ns_free(s->ns[i]);
	free(s->ns);
	free(s->hosts);
	free(s);
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
	p->conns.max_conns = cfg->max_connections;
	p->conns.max_per_host = cfg->max_connections_per_host;
	p->max_ctrls_per_subsys = cfg->max_controllers_per_subsystem;
	p->icreq_timeout_ms = cfg->icreq_timeout_ms;
	p->pdu_timeout_ms = cfg->pdu_timeout_ms;
	p->conn_buf_cap = cfg->max_buffers_per_connection;
}

/* The backing fds in one order, so that a slot means the same file on every ring. */
static int collect_files(struct target *t)
{
	unsigned int n = 0;

	for (size_t i = 0; i < t->nsubsys; i++)
		n += (unsigned int)t->subsys[i]->nns;
	t->files = calloc(n ? n : 1, sizeof(*t->files));
	if (t->files == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->nsubsys; i++) {
		for (size_t j = 0; j < t->subsys[i]->nns; j++) {
			struct ns *ns = t->subsys[i]->ns[j];

			ns->file_slot = -1;
			if (ns->be.fd < 0)
				continue;
			ns->file_slot = (int)t->nfiles;
			t->files[t->nfiles++] = ns->be.fd;
		}
	}
	return 0;
}

int target_init(struct target *t, struct cfg_config *cfg, unsigned int nworkers)
{
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->nworkers = nworkers;
	params_from(&t->p, cfg);
	pthread_mutex_init(&t->lock, NULL);
	limits_init(&t->limits);
	t->next_cntlid = 1;
	atomic_store(&t->genctr, 1);
	snprintf(t->disc.nqn, sizeof(t->disc.nqn), "%s", NVMF_DISC_NQN);
	t->disc.discovery = true;
	t->disc.allow_any_host = true;
	snprintf(t->disc.serial, sizeof(t->disc.serial), "nvmfd-discovery");
	snprintf(t->disc.model, sizeof(t->disc.model), "nvmfd discovery");
	t->subsys = calloc(cfg->nsubsys ? cfg->nsubsys : 1, sizeof(*t->subsys));
	if (t->subsys == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nsubsys && ret == 0; i++) {
		ret = subsys_build(t, &cfg->subsys[i], &t->subsys[i]);
		t->nsubsys = i + 1;
	}
	if (ret == 0)
		ret = collect_files(t);
	if (ret)
		target_fini(t);
	return ret;
}

void target_fini(struct target *t)
{
	for (size_t i = 0; i < t->nsubsys; i++)
		subsys_free(t->subsys[i]);
	free(t->subsys);
	free(t->files);
	t->files = NULL;
	t->nfiles = 0;
	t->subsys = NULL;
	t->nsubsys = 0;
	pthread_mutex_destroy(&t->lock);
	limits_fini(&t->limits);
}

struct subsys *target_find_subsys(struct target *t, const char *nqn)
{
	if (strcmp(nqn, NVMF_DISC_NQN) == 0)
		return &t->disc;
	for (size_t i = 0; i < t->nsubsys; i++)
		if (strcmp(t->subsys[i]->nqn, nqn) == 0)
			return t->subsys[i];
	return NULL;
}

struct ns *subsys_find_ns(const struct subsys *s, uint32_t nsid)
{
	size_t lo = 0, hi = s->nns;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->ns[mid]->nsid == nsid)
			return s->ns[mid];
		if (s->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool subsys_host_allowed(const struct subsys *s, const char *hostnqn)
{
	if (s->allow_any_host)
		return true;
	for (size_t i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i], hostnqn) == 0)
			return true;
	return false;
}
