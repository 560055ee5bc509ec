/* SPDX-License-Identifier: BSD-2-Clause */
/* Live reload (reload.h): prepare everything, publish, then clean up behind the workers. */
#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrl.h"
#include "log.h"
#include "worker.h"

#define RELOAD_SYNC_MS	10000 /* workers pass their loop's top every 100 ms */
#define RELOAD_WAIT_MS	2000  /* for the old commands; then reload_poll() finishes */
#define RELOAD_DRAIN_MS 30000 /* reload_poll() warns after this long */

struct ptrs {
	void **p;
	size_t n, cap;
};

static int ptrs_push(struct ptrs *v, void *p)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 8;
		void **np = realloc(v->p, cap * sizeof(*np));

		if (np == NULL)
			return -ENOMEM;
		v->p = np;
		v->cap = cap;
	}
	v->p[v->n++] = p;
	return 0;
}

static void ptrs_free(struct ptrs *v)
{
	free(v->p);
	memset(v, 0, sizeof(*v));
}

/* A subsystem of the new configuration, or one it removes. */
struct sub_plan {
	struct subsys *s;
	bool is_new;
	bool removed;
	struct ns_table *nst;	  /* to publish; NULL: unchanged */
	struct host_list *hosts;  /* to publish; NULL: unchanged */
	struct ptrs dropped;	  /* struct ns: removed or replaced (kept in nst's nold) */
	struct ptrs folded;	  /* struct ns: the old table's nold, counted in nst->retired */
	struct ptrs resized;	  /* struct ns kept whose store grew or shrank */
	uint64_t *new_size;	  /* [resized.n]: bytes */
	uint32_t *changed;	  /* NSIDs added, removed or replaced */
	size_t nchanged;
};

struct plan {
	struct cfg_config *cfg;
	struct subsys_table *st;
	struct listener_set *ls;  /* NULL: unchanged */
	struct sub_plan *sub;
	size_t nsub;
	struct ptrs opened;	  /* struct ns opened for this reload (rollback closes them) */
	struct ptrs new_ls;	  /* struct listener opened for this reload */
	bool files_added;
	bool disc_changed;	  /* the discovery log's content changes */
	unsigned int added, removed, replaced, resized; /* namespaces, for the log */
};

/* What a reload replaced, freed once no worker or command can hold it. */
struct leftovers {
	struct leftovers *next;
	uint64_t epoch;		 /* what began before this epoch may use it */
	int64_t since_ms;
	struct cfg_config *cfg;
	struct subsys_table *st;
	struct listener_set *ls;
	struct ptrs tables;	 /* ns tables and host lists: free() */
	struct ptrs release;	 /* struct ns to close (they stay counted in nold) */
	struct ptrs free_ns;	 /* struct ns to free */
	struct ptrs gone;	 /* removed subsystems */
	struct ptrs gone_nst;	 /* their tables before removal (for the counters) */
	struct ptrs listeners;	 /* removed listeners: the set's reference */
};

/* Oldest first; a command the host stalls keeps one here, not the next reloads out. */
static struct leftovers *g_left, **g_left_tail = &g_left;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Comparing ---- */

static bool ns_cfg_same(const struct cfg_namespace *a, const struct cfg_namespace *b)
{
	return a->nsid == b->nsid && strcmp(a->path, b->path) == 0 && a->is_ram == b->is_ram &&
	       a->ram_size == b->ram_size && a->read_only == b->read_only &&
	       a->block_size == b->block_size && a->direct == b->direct &&
	       a->has_uuid == b->has_uuid && (!a->has_uuid || memcmp(a->uuid, b->uuid, 16) == 0);
}

static bool host_in(const struct host_list *h, const char *nqn)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->nqn[i], nqn) == 0)
			return true;
	return false;
}

static bool hosts_same(const struct host_list *a, const struct host_list *b)
{
	if (a->any != b->any || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!host_in(b, a->nqn[i]))
			return false;
	return true;
}

static struct subsys *find_subsys(const struct subsys_table *st, const char *nqn)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->s[i]->nqn, nqn) == 0)
			return st->s[i];
	return NULL;
}

static struct ns *find_active(const struct ns_table *nt, uint32_t nsid)
{
	for (size_t i = 0; i < nt->n; i++)
		if (nt->ns[i]->nsid == nsid)
			return nt->ns[i];
	return NULL;
}

static int cmp_ns(const void *a, const void *b)
{
	const struct ns *x = *(struct ns *const *)a, *y = *(struct ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

/* What only a restart changes: warn, and keep serving with the old value. */
static void warn_static(const struct cfg_config *o, const struct cfg_config *n)
{
	static const char later[] = "takes effect when nvmfd restarts";

#define STATIC_KEY(f, name)                                                                  \
	do {                                                                                 \
		if (o->f != n->f)                                                            \
			log_warn("%s: %s changed: %s", n->source, name, later);              \
	} while (0)
	STATIC_KEY(workers, "workers");
	STATIC_KEY(max_h2c_data, "max_h2c_data");
	STATIC_KEY(in_capsule_data, "in_capsule_data");
	STATIC_KEY(max_transfer, "max_transfer");
	STATIC_KEY(queue_depth, "queue_depth");
	STATIC_KEY(max_io_queues, "max_io_queues");
	STATIC_KEY(kato_default, "kato_default");
	STATIC_KEY(max_connections, "max_connections");
	STATIC_KEY(max_connections_per_host, "max_connections_per_host");
	STATIC_KEY(max_controllers_per_subsystem, "max_controllers_per_subsystem");
	STATIC_KEY(icreq_timeout_ms, "icreq_timeout");
	STATIC_KEY(pdu_timeout_ms, "pdu_timeout");
	STATIC_KEY(max_buffers_per_connection, "max_buffers_per_connection");
#undef STATIC_KEY
	if (strcmp(o->state_dir, n->state_dir) != 0)
		log_warn("%s: state_dir changed: %s", n->source, later);
}

/* ---- Preparing (nothing visible to the workers yet) ---- */

static int note_changed(struct sub_plan *sp, uint32_t nsid)
{
	uint32_t *c = realloc(sp->changed, (sp->nchanged + 1) * sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	sp->changed = c;
	c[sp->nchanged++] = nsid;
	return 0;
}

static int open_ns(struct target *t, struct plan *pl, struct health *h, const char *nqn,
		   const struct cfg_namespace *cn, struct ns **out)
{
	int ret = target_ns_open(t, pl->cfg, nqn, cn, out);

	if (ret)
		return ret;
	if (ptrs_push(&pl->opened, *out) != 0) {
		target_ns_close(t, *out);
		return -ENOMEM;
	}
	if (target_file_slot_take(t, *out) >= 0)
		pl->files_added = true;
	health_apply_ns(h, nqn, *out);
	return 0;
}

/*
 * A namespace kept as it is: has its file or device grown or shrunk since
 * it was opened (an LV extended, a file truncated longer)? Hosts then get
 * the event and read the new size, as with nvmet's revalidate_size.
 */
static int plan_resize(struct plan *pl, struct sub_plan *sp, struct ns *o)
{
	uint64_t size;
	uint64_t *ns_size;

	if (be_size_now(&o->be, &size) != 0 || size == o->be.size)
		return 0;
	ns_size = realloc(sp->new_size, (sp->resized.n + 1) * sizeof(*ns_size));
	if (ns_size == NULL)
		return -ENOMEM;
	sp->new_size = ns_size;
	ns_size[sp->resized.n] = size;
	if (ptrs_push(&sp->resized, o) != 0 || note_changed(sp, o->nsid) != 0)
		return -ENOMEM;
	log_info("namespace %u of %s: %s is now %llu bytes (was %llu)", o->nsid, sp->s->nqn,
		 o->be.path, (unsigned long long)size, (unsigned long long)o->be.size);
	pl->resized++;
	return 0;
}

/* A subsystem both configurations have: its new namespace table and host list. */
static int plan_kept(struct target *t, struct plan *pl, struct health *h, struct sub_plan *sp,
		     const struct cfg_subsystem *cs)
{
	struct subsys *s = sp->s;
	const struct ns_table *old = atomic_load(&s->nst);
	struct host_list *hosts = target_hosts_from(cs);
	struct ns_table *nt;
	int ret;

	if (strcmp(s->serial, cs->serial) != 0 || strcmp(s->model, cs->model) != 0)
		log_warn("%s:%d: serial or model of %s changed: %s", pl->cfg->source, cs->line,
			 s->nqn, "takes effect when nvmfd restarts");
	if (hosts == NULL)
		return -ENOMEM;
	if (hosts_same(hosts, atomic_load(&s->hosts))) {
		free(hosts);
	} else {
		sp->hosts = hosts;
		pl->disc_changed = true; /* the log lists what each host may reach */
	}
	nt = ns_table_alloc(cs->nns + old->n);
	if (nt == NULL)
		return -ENOMEM;
	sp->nst = nt;
	nt->retired = old->retired;
	/* namespaces an earlier reload removed: their counters join the subsystem's */
	for (size_t i = old->n; i < old->n + old->nold; i++) {
		struct smart_counts one;

		ns_smart(t, old->ns[i], &one);
		smart_counts_add(&nt->retired, &one);
		if (ptrs_push(&sp->folded, old->ns[i]) != 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < cs->nns; i++) {
		const struct cfg_namespace *cn = &cs->ns[i];
		struct ns *o = find_active(old, cn->nsid);

		if (o != NULL && ns_cfg_same(&o->cfg, cn)) {
			nt->ns[nt->n++] = o;
			ret = plan_resize(pl, sp, o);
			if (ret)
				return ret;
			continue;
		}
		ret = open_ns(t, pl, h, s->nqn, cn, &nt->ns[nt->n]);
		if (ret)
			return ret;
		nt->n++;
		if (note_changed(sp, cn->nsid) != 0)
			return -ENOMEM;
		if (o != NULL)
			pl->replaced++;
		else
			pl->added++;
	}
	qsort(nt->ns, nt->n, sizeof(nt->ns[0]), cmp_ns);
	for (size_t i = 0; i < old->n; i++) {
		struct ns *o = old->ns[i];
		bool kept = false;

		for (size_t j = 0; j < nt->n && !kept; j++)
			kept = nt->ns[j] == o;
		if (kept)
			continue;
		nt->ns[nt->n + nt->nold++] = o;
		if (ptrs_push(&sp->dropped, o) != 0)
			return -ENOMEM;
		if (find_active(nt, o->nsid) == NULL) {
			pl->removed++;
			if (note_changed(sp, o->nsid) != 0)
				return -ENOMEM;
		}
	}
	if (sp->nchanged == sp->resized.n && sp->folded.n == 0 && old->nold == 0 &&
	    nt->n == old->n) {
		free(nt); /* the same namespaces */
		sp->nst = NULL;
	}
	return 0;
}

static int plan_new(struct target *t, struct plan *pl, struct health *h, struct sub_plan *sp,
		    const struct cfg_subsystem *cs)
{
	struct ns_table *nt = ns_table_alloc(cs->nns);
	int ret;

	sp->is_new = true;
	sp->s = target_subsys_new(cs);
	if (sp->s == NULL || nt == NULL) {
		free(nt);
		return -ENOMEM;
	}
	free(atomic_load(&sp->s->nst));
	atomic_store(&sp->s->nst, nt);
	for (size_t i = 0; i < cs->nns; i++) {
		ret = open_ns(t, pl, h, sp->s->nqn, &cs->ns[i], &nt->ns[nt->n]);
		if (ret)
			return ret;
		nt->n++;
		pl->added++;
	}
	qsort(nt->ns, nt->n, sizeof(nt->ns[0]), cmp_ns);
	health_apply_subsys(h, sp->s);
	pl->disc_changed = true;
	return 0;
}

static int plan_listeners(struct target *t, struct plan *pl)
{
	const struct listener_set *cur = atomic_load(&t->ls);
	const struct cfg_config *o = atomic_load(&t->cfg);
	struct listener_set *ls = listener_set_alloc(pl->cfg->nlisteners);
	bool changed = cur->n != pl->cfg->nlisteners || o->discovery != pl->cfg->discovery;
	int ret;

	if (ls == NULL)
		return -ENOMEM;
	pl->ls = ls;
	for (size_t i = 0; i < pl->cfg->nlisteners; i++) {
		const struct cfg_listener *cl = &pl->cfg->listeners[i];
		struct listener *l = listener_set_find(cur, cl);

		if (l != NULL) {
			changed |= atomic_load(&l->discovery_only) != cl->discovery_only;
		} else {
			ret = listener_open(cl, &l);
			if (ret) {
				log_err("%s:%d: cannot listen on %s:%u: %s", pl->cfg->source,
					cl->line, cl->host, cl->port, strerror(-ret));
				return ret;
			}
			if (ptrs_push(&pl->new_ls, l) != 0) {
				listener_put(l);
				return -ENOMEM;
			}
			changed = true;
		}
		ls->l[ls->n++] = l;
	}
	if (!changed) {
		free(ls);
		pl->ls = NULL;
	}
	pl->disc_changed |= changed;
	return 0;
}

static int plan_build(struct target *t, struct health *h, struct plan *pl)
{
	const struct subsys_table *cur = atomic_load(&t->st);
	size_t nsub = pl->cfg->nsubsys;
	int ret;

	for (size_t i = 0; i < cur->n; i++)
		if (cfg_find_subsystem(pl->cfg, cur->s[i]->nqn) == NULL)
			nsub++;
	pl->sub = calloc(nsub ? nsub : 1, sizeof(*pl->sub));
	pl->st = subsys_table_alloc(pl->cfg->nsubsys);
	if (pl->sub == NULL || pl->st == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < pl->cfg->nsubsys; i++) {
		const struct cfg_subsystem *cs = &pl->cfg->subsys[i];
		struct sub_plan *sp = &pl->sub[pl->nsub++];

		sp->s = find_subsys(cur, cs->nqn);
		ret = sp->s != NULL ? plan_kept(t, pl, h, sp, cs) : plan_new(t, pl, h, sp, cs);
		if (ret)
			return ret;
		pl->st->s[pl->st->n++] = sp->s;
	}
	for (size_t i = 0; i < cur->n; i++) {
		struct sub_plan *sp;
		struct ns_table *nt;

		if (cfg_find_subsystem(pl->cfg, cur->s[i]->nqn) != NULL)
			continue;
		sp = &pl->sub[pl->nsub++];
		sp->s = cur->s[i];
		sp->removed = true;
		/* what its dying controllers may still read: the counters, no namespace */
		nt = ns_table_alloc(0);
		if (nt == NULL)
			return -ENOMEM;
		subsys_smart(t, sp->s, &nt->retired);
		sp->nst = nt;
		pl->removed += (unsigned int)atomic_load(&sp->s->nst)->n;
		pl->disc_changed = true;
	}
	return plan_listeners(t, pl);
}

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->nsub; i++) {
		ptrs_free(&pl->sub[i].dropped);
		ptrs_free(&pl->sub[i].folded);
		ptrs_free(&pl->sub[i].resized);
		free(pl->sub[i].new_size);
		free(pl->sub[i].changed);
	}
	free(pl->sub);
	ptrs_free(&pl->opened);
	ptrs_free(&pl->new_ls);
}

/* Nothing was published: undo what was opened and built. */
static void plan_undo(struct target *t, struct plan *pl)
{
	for (size_t i = 0; i < pl->opened.n; i++)
		target_ns_close(t, pl->opened.p[i]);
	for (size_t i = 0; i < pl->nsub; i++) {
		struct sub_plan *sp = &pl->sub[i];

		free(sp->hosts);
		if (sp->is_new && sp->s != NULL) {
			atomic_load(&sp->s->nst)->n = 0; /* closed above */
			subsys_put(sp->s);
		} else {
			free(sp->nst);
		}
	}
	for (size_t i = 0; i < pl->new_ls.n; i++)
		listener_put(pl->new_ls.p[i]);
	free(pl->ls);
	free(pl->st);
	cfg_free(pl->cfg);
	plan_free(pl);
}

static bool plan_empty(const struct plan *pl)
{
	if (pl->ls != NULL || pl->opened.n != 0)
		return false;
	for (size_t i = 0; i < pl->nsub; i++)
		if (pl->sub[i].is_new || pl->sub[i].removed || pl->sub[i].nst != NULL ||
		    pl->sub[i].hosts != NULL || pl->sub[i].resized.n != 0)
			return false;
	return true;
}

/* ---- Publishing ---- */

static const struct sub_plan *plan_of(const struct plan *pl, const struct subsys *s)
{
	for (size_t i = 0; i < pl->nsub; i++)
		if (pl->sub[i].s == s)
			return &pl->sub[i];
	return NULL;
}

static int publish(struct target *t, struct plan *pl, struct leftovers *lo)
{
	int ret = 0;

	for (size_t i = 0; i < pl->nsub; i++) {
		struct sub_plan *sp = &pl->sub[i];
		struct subsys *s = sp->s;

		if (sp->is_new)
			continue;
		if (sp->hosts != NULL)
			ret |= ptrs_push(&lo->tables, atomic_exchange(&s->hosts, sp->hosts));
		for (size_t j = 0; j < sp->resized.n; j++) {
			struct ns *ns = sp->resized.p[j];
			uint64_t size = sp->new_size[j];

			/* growing: the store first; shrinking: what io_check sees first */
			if (size > ns->be.size)
				be_set_size(&ns->be, size);
			__atomic_store_n(&ns->nsze, size >> ns->lba_shift, __ATOMIC_RELAXED);
			be_set_size(&ns->be, size);
		}
		if (sp->removed) {
			atomic_store(&s->removed, true);
			ret |= ptrs_push(&lo->gone, s);
			ret |= ptrs_push(&lo->gone_nst, atomic_exchange(&s->nst, sp->nst));
			continue;
		}
		if (sp->nst == NULL)
			continue;
		ret |= ptrs_push(&lo->tables, atomic_exchange(&s->nst, sp->nst));
		for (size_t j = 0; j < sp->dropped.n; j++)
			ret |= ptrs_push(&lo->release, sp->dropped.p[j]);
		for (size_t j = 0; j < sp->folded.n; j++)
			ret |= ptrs_push(&lo->free_ns, sp->folded.p[j]);
	}
	lo->st = atomic_exchange(&t->st, pl->st);
	if (pl->ls != NULL) {
		const struct listener_set *old = atomic_load(&t->ls);

		for (size_t i = 0; i < old->n; i++) {
			bool kept = false;

			for (size_t j = 0; j < pl->ls->n && !kept; j++)
				kept = pl->ls->l[j] == old->l[i];
			if (!kept) {
				atomic_store(&old->l[i]->removed, true);
				ret |= ptrs_push(&lo->listeners, old->l[i]);
			}
		}
		for (size_t i = 0; i < pl->cfg->nlisteners; i++)
			atomic_store(&pl->ls->l[i]->discovery_only,
				     pl->cfg->listeners[i].discovery_only);
		lo->ls = atomic_exchange(&t->ls, pl->ls);
	}
	lo->cfg = atomic_exchange(&t->cfg, pl->cfg);
	if (pl->disc_changed)
		atomic_fetch_add(&t->genctr, 1);

	/* events, delivered by each admin queue's worker at workers_sync() */
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++) {
		struct ctrl *c = t->ctrls[i];
		const struct sub_plan *sp;

		if (c == NULL)
			continue;
		if (c->subsys->discovery) {
			if (pl->disc_changed)
				ctrl_post_disc_changed(c);
			continue;
		}
		sp = plan_of(pl, c->subsys);
		for (size_t j = 0; sp != NULL && !sp->removed && j < sp->nchanged; j++)
			ctrl_post_ns_changed(c, sp->changed[j]);
	}
	pthread_mutex_unlock(&t->lock);
	return ret ? -ENOMEM : 0;
}

/* After workers_sync(): controllers that may no longer be end. */
static void kill_unwanted(struct target *t)
{
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++) {
		struct ctrl *c = t->ctrls[i];

		if (c == NULL || c->subsys->discovery)
			continue;
		if (atomic_load(&c->subsys->removed))
			ctrl_kill(c, "its subsystem was removed from the configuration");
		else if (!subsys_host_allowed(c->subsys, c->hostnqn))
			ctrl_kill(c, "its host is no longer allowed");
	}
	pthread_mutex_unlock(&t->lock);
}

/* ---- Cleaning up once nothing of before can be in use ---- */

static void finish(struct target *t, struct health *h, struct leftovers *lo)
{
	bool slots = false;
	int ret;

	for (size_t i = 0; i < lo->release.n; i++) {
		struct ns *ns = lo->release.p[i];

		slots |= ns->file_slot >= 0;
		target_ns_release(t, ns);
	}
	for (size_t i = 0; i < lo->gone.n; i++) {
		struct subsys *s = lo->gone.p[i];
		struct ns_table *nt = lo->gone_nst.p[i];
		struct smart_counts total = nt->retired;

		for (size_t j = 0; j < nt->n + nt->nold; j++) {
			struct smart_counts one;

			ns_smart(t, nt->ns[j], &one);
			smart_counts_add(&total, &one);
			slots |= nt->ns[j]->file_slot >= 0;
			target_ns_release(t, nt->ns[j]);
		}
		health_retire_subsys(h, s, &total);
	}
	if (slots) {
		/* the rings let go of the closed files */
		atomic_fetch_add(&t->files_gen, 1);
		ret = workers_sync(t, RELOAD_SYNC_MS);
		if (ret)
			log_warn("reload: a worker did not release the closed backing files: %s",
				 strerror(-ret));
	}
	for (size_t i = 0; i < lo->gone.n; i++) {
		struct ns_table *nt = lo->gone_nst.p[i];

		for (size_t j = 0; j < nt->n + nt->nold; j++)
			target_ns_close(t, nt->ns[j]);
		free(nt);
		subsys_put(lo->gone.p[i]); /* the table's reference */
	}
	for (size_t i = 0; i < lo->free_ns.n; i++)
		target_ns_close(t, lo->free_ns.p[i]);
	for (size_t i = 0; i < lo->tables.n; i++)
		free(lo->tables.p[i]);
	for (size_t i = 0; i < lo->listeners.n; i++)
		listener_put(lo->listeners.p[i]);
	free(lo->st);
	free(lo->ls);
	cfg_free(lo->cfg);
	ptrs_free(&lo->tables);
	ptrs_free(&lo->release);
	ptrs_free(&lo->free_ns);
	ptrs_free(&lo->gone);
	ptrs_free(&lo->gone_nst);
	ptrs_free(&lo->listeners);
	free(lo);
	(void)health_save(h, t, false);
}

static void leftovers_add(struct leftovers *lo, uint64_t epoch)
{
	lo->epoch = epoch;
	lo->since_ms = now_ms();
	*g_left_tail = lo;
	g_left_tail = &lo->next;
}

/* Free what no command can use any more; all of it when the workers are gone. */
static void leftovers_free(struct target *t, struct health *h, bool all)
{
	while (g_left != NULL && (all || workers_drained_below(t) >= g_left->epoch)) {
		struct leftovers *lo = g_left;

		g_left = lo->next;
		if (g_left == NULL)
			g_left_tail = &g_left;
		finish(t, h, lo);
	}
}

void reload_poll(struct target *t, struct health *h)
{
	bool had = g_left != NULL;

	leftovers_free(t, h, false);
	if (had && g_left == NULL)
		log_info("reload: the last commands begun before it have ended");
	if (g_left != NULL && now_ms() - g_left->since_ms >= RELOAD_DRAIN_MS) {
		log_warn("reload: commands begun before a reload still run after %d s: what it "
			 "replaced stays allocated until they end",
			 RELOAD_DRAIN_MS / 1000);
		g_left->since_ms = now_ms();
	}
}

void reload_fini(struct target *t, struct health *h)
{
	/* the workers are gone: nothing can be in use */
	leftovers_free(t, h, true);
}

static void log_summary(const struct plan *pl, const struct cfg_config *old)
{
	size_t add_s = 0, del_s = 0, hosts = 0;

	for (size_t i = 0; i < pl->nsub; i++) {
		add_s += pl->sub[i].is_new;
		del_s += pl->sub[i].removed;
		hosts += pl->sub[i].hosts != NULL && !pl->sub[i].removed;
	}
	log_info("reload: %s: subsystems +%zu -%zu, namespaces +%u -%u (%u replaced, %u resized), "
		 "host lists changed %zu, listeners %zu -> %zu",
		 pl->cfg->source, add_s, del_s, pl->added, pl->removed, pl->replaced, pl->resized,
		 hosts, old->nlisteners, pl->cfg->nlisteners);
}

int reload_config(struct target *t, struct health *h, const char *path, bool verbose)
{
	struct plan pl = { 0 };
	struct cfg_config *old = atomic_load(&t->cfg);
	struct leftovers *lo;
	char err[8192];
	int ret;

	leftovers_free(t, h, false);
	if (!workers_can_sync(t, 3)) {
		log_err("reload refused: commands begun %d reload steps ago still run (a host that "
			"stalls them?); nothing changed",
			WORKER_EPOCH_SLOTS);
		return -EBUSY;
	}
	ret = path ? cfg_load_file(path, &pl.cfg, err, sizeof(err))
		   : cfg_load_default(&pl.cfg, err, sizeof(err));
	if (ret) {
		/* "file:line: message" lines, each its own log line */
		for (char *line = strtok(err, "\n"); line != NULL; line = strtok(NULL, "\n"))
			log_err("%s", line);
		log_err("reload: the configuration is not valid: nothing changed");
		return ret;
	}
	warn_static(old, pl.cfg);
	ret = plan_build(t, h, &pl);
	if (ret) {
		log_err("reload: %s: nothing changed", ret == -ENOMEM ? "out of memory"
								     : "see the errors above");
		plan_undo(t, &pl);
		return ret;
	}
	lo = calloc(1, sizeof(*lo));
	if (lo == NULL) {
		log_err("reload: out of memory: nothing changed");
		plan_undo(t, &pl);
		return -ENOMEM;
	}
	if (!verbose)
		log_level = (enum log_level)pl.cfg->log_level;
	if (plan_empty(&pl)) {
		log_info("reload: %s: no change to what is served", pl.cfg->source);
		/* the new text may differ in what only a restart applies: keep it for the next diff */
		free(pl.st);
		lo->cfg = atomic_exchange(&t->cfg, pl.cfg);
		plan_free(&pl);
		if (workers_sync(t, RELOAD_SYNC_MS) != 0)
			log_warn("reload: a worker is late");
		leftovers_add(lo, atomic_load(&t->epoch));
		leftovers_free(t, h, false);
		return 0;
	}
	if (pl.files_added) {
		atomic_fetch_add(&t->files_gen, 1);
		ret = workers_sync(t, RELOAD_SYNC_MS);
		if (ret) {
			log_err("reload: the workers could not take the new backing files: nothing "
				"changed");
			plan_undo(t, &pl);
			free(lo);
			atomic_fetch_add(&t->files_gen, 1);
			return ret;
		}
	}
	log_summary(&pl, old);
	ret = publish(t, &pl, lo);
	if (ret)
		log_err("reload: out of memory while publishing: some memory of the old "
			"configuration is not freed");
	plan_free(&pl);
	ret = workers_sync(t, RELOAD_SYNC_MS);
	if (ret)
		log_warn("reload: a worker is late: %s", strerror(-ret));
	kill_unwanted(t);
	leftovers_add(lo, atomic_load(&t->epoch));
	for (int i = 0; i < RELOAD_WAIT_MS && g_left != NULL; i++) {
		struct timespec ts = { .tv_nsec = 1000000 };

		leftovers_free(t, h, false);
		if (g_left != NULL)
			nanosleep(&ts, NULL);
	}
	if (g_left != NULL)
		log_info("reload: commands begun before it still run: what it replaced is freed "
			 "when they end");
	return 0;
}
