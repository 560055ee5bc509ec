/* SPDX-License-Identifier: BSD-2-Clause */
/* Live reload, the plan: the new configuration against what is served (reload_plan.h). */
#include "reload_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "log.h"
#include "resv_ns.h"

int ptrs_push(struct ptrs *v, void *p)
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

void ptrs_free(struct ptrs *v)
{
	free(v->p);
	memset(v, 0, sizeof(*v));
}

/* ---- Comparing ---- */

static bool ns_cfg_same(const struct cfg_namespace *a, const struct cfg_namespace *b)
{
	return a->nsid == b->nsid && strcmp(a->path, b->path) == 0 && a->is_ram == b->is_ram &&
	       a->ram_size == b->ram_size && a->read_only == b->read_only &&
	       a->block_size == b->block_size && a->direct == b->direct &&
	       a->prealloc == b->prealloc && a->has_uuid == b->has_uuid &&
	       (!a->has_uuid || memcmp(a->uuid, b->uuid, 16) == 0) && a->ana_group == b->ana_group;
}

/* RBD namespaces reach their cluster through the [nvmfd] ceph_* keys. */
static bool ceph_same(const struct cfg_config *a, const struct cfg_config *b)
{
	return strcmp(a->ceph_conf, b->ceph_conf) == 0 && strcmp(a->ceph_id, b->ceph_id) == 0 &&
	       strcmp(a->ceph_keyring, b->ceph_keyring) == 0;
}

static bool hosts_same(const struct host_list *a, const struct host_list *b)
{
	if (a->any != b->any || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!host_list_has(b, a->nqn[i]))
			return false;
	return true;
}

/* What only a restart changes: warn, and keep serving with the old value. */
void warn_static(const struct cfg_config *o, const struct cfg_config *n)
{
	static const char later[] = "takes effect when nvmfd restarts";

#define STATIC_KEY(f, name)                                                     \
	do {                                                                    \
		if (o->f != n->f)                                               \
			log_warn("%s: %s changed: %s", n->source, name, later); \
	} while (0)
	STATIC_KEY(workers, "workers");
	STATIC_KEY(max_h2c_data, "max_h2c_data");
	STATIC_KEY(in_capsule_data, "in_capsule_data");
	STATIC_KEY(max_transfer, "max_transfer");
	STATIC_KEY(queue_depth, "queue_depth");
	STATIC_KEY(max_io_queues, "max_io_queues");
	STATIC_KEY(kato_default, "kato_default");
	STATIC_KEY(busy_poll_us, "busy_poll");
	STATIC_KEY(max_connections, "max_connections");
	STATIC_KEY(max_connections_per_host, "max_connections_per_host");
	STATIC_KEY(max_controllers_per_subsystem, "max_controllers_per_subsystem");
	STATIC_KEY(icreq_timeout_ms, "icreq_timeout");
	STATIC_KEY(pdu_timeout_ms, "pdu_timeout");
	STATIC_KEY(auth_timeout_ms, "auth_timeout");
	STATIC_KEY(tcp_keepalive_idle_ms, "tcp_keepalive_idle");
	STATIC_KEY(tcp_keepalive_interval_ms, "tcp_keepalive_interval");
	STATIC_KEY(tcp_keepalive_count, "tcp_keepalive_count");
	STATIC_KEY(max_buffers_per_connection, "max_buffers_per_connection");
	if (o->cntlid_min != n->cntlid_min || o->cntlid_max != n->cntlid_max)
		log_warn("%s: cntlid_range changed: %s", n->source, later);
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

static int open_ns(struct target *t, struct plan *pl, struct health *h, struct subsys *s,
		   const struct cfg_namespace *cn, struct ns **out)
{
	const char *nqn = s->nqn;
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
	/* its kept reservations; a damaged file fails the reload (nothing changes) */
	return resv_ns_attach(t, s, *out);
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
	sp->ports = target_ports_from(cs);
	if (sp->ports == NULL) {
		free(hosts);
		return -ENOMEM;
	}
	if (port_list_same(sp->ports, atomic_load(&s->ports))) {
		free(sp->ports);
		sp->ports = NULL;
	} else {
		pl->disc_changed = true; /* the log lists each subsystem on its listeners */
	}
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
	/* namespaces an earlier reload removed: their counters join the subsystem's */
	ns_table_smart(t, old, old->n, &nt->retired);
	for (size_t i = old->n; i < old->n + old->nold; i++) {
		if (ptrs_push(&sp->folded, old->ns[i]) != 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < cs->nns; i++) {
		const struct cfg_namespace *cn = &cs->ns[i];
		struct ns *o = ns_table_find(old, cn->nsid);

		/* an RBD namespace whose cluster settings changed is opened anew */
		if (o != NULL && ns_cfg_same(&o->cfg, cn) &&
		    (!cn->is_rbd || ceph_same(atomic_load(&t->cfg), pl->cfg))) {
			nt->ns[nt->n++] = o;
			ret = plan_resize(pl, sp, o);
			if (ret)
				return ret;
			continue;
		}
		ret = open_ns(t, pl, h, s, cn, &nt->ns[nt->n]);
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
	ns_table_sort(nt);
	for (size_t i = 0; i < old->n; i++) {
		struct ns *o = old->ns[i], *n = ns_table_find(nt, o->nsid);

		if (n == o)
			continue; /* kept */
		nt->ns[nt->n + nt->nold++] = o;
		if (ptrs_push(&sp->dropped, o) != 0)
			return -ENOMEM;
		if (n == NULL) {
			pl->removed++;
			if (note_changed(sp, o->nsid) != 0)
				return -ENOMEM;
		}
	}
	if (sp->nchanged != sp->resized.n)
		pl->ana_changed = true; /* the groups' NSID lists change */
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
	struct ns_table *nt;
	int ret;

	sp->is_new = true;
	sp->s = target_subsys_new(cs, cs->nns);
	if (sp->s == NULL)
		return -ENOMEM;
	nt = atomic_load(&sp->s->nst);
	for (size_t i = 0; i < cs->nns; i++) {
		ret = open_ns(t, pl, h, sp->s, &cs->ns[i], &nt->ns[nt->n]);
		if (ret)
			return ret;
		nt->n++;
		pl->added++;
	}
	ns_table_sort(nt);
	health_apply_subsys(h, sp->s);
	pl->disc_changed = true;
	return 0;
}

/* A kept listener whose ANA states change: its new table, swapped in at publication. */
static int plan_ana(struct plan *pl, struct listener *l, const struct cfg_listener *cl)
{
	struct ana_states *a;

	if (ana_states_same(atomic_load(&l->ana), cl))
		return 0;
	a = ana_states_from(cl);
	if (a == NULL)
		return -ENOMEM;
	if (ptrs_push(&pl->ana_new, a) != 0) {
		free(a);
		return -ENOMEM;
	}
	if (ptrs_push(&pl->ana_l, l) != 0)
		return -ENOMEM;
	pl->ana_changed = true;
	for (int g = 1; g <= CFG_ANA_GROUPS; g++) {
		uint8_t was = atomic_load(&l->ana)->state[g];

		if (was != a->state[g])
			log_info("%s:%d: listener %s: ANA group %d %s -> %s", pl->cfg->source,
				 cl->line, l->name, g, cfg_ana_state_name(was),
				 cfg_ana_state_name(a->state[g]));
	}
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
			changed |= atomic_load(&l->discovery_only) != cl->discovery_only ||
				   atomic_load(&l->tls) != cl->tls;
			ret = plan_ana(pl, l, cl);
			if (ret)
				return ret;
		} else {
			ret = listener_open(cl, &l);
			if (ret) {
				char name[80];

				listener_name(cl, name, sizeof(name));
				log_err("%s:%d: cannot listen on %s: %s", pl->cfg->source, cl->line,
					name, strerror(-ret));
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

int plan_build(struct target *t, struct health *h, struct plan *pl)
{
	const struct subsys_table *cur = atomic_load(&t->st);
	size_t nsub = pl->cfg->nsubsys + cur->n; /* at most: kept or new, and removed */
	int ret;

	pl->sub = calloc(nsub ? nsub : 1, sizeof(*pl->sub));
	pl->st = subsys_table_alloc(pl->cfg->nsubsys);
	if (pl->sub == NULL || pl->st == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < pl->cfg->nsubsys; i++) {
		const struct cfg_subsystem *cs = &pl->cfg->subsys[i];
		struct sub_plan *sp = &pl->sub[pl->nsub++];

		sp->s = subsys_table_find(cur, cs->nqn);
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

void plan_free(struct plan *pl)
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
	ptrs_free(&pl->ana_l);
	ptrs_free(&pl->ana_new);
}

/* Nothing was published: undo what was opened and built. */
void plan_undo(struct target *t, struct plan *pl)
{
	for (size_t i = 0; i < pl->opened.n; i++)
		target_ns_close(t, pl->opened.p[i]);
	for (size_t i = 0; i < pl->nsub; i++) {
		struct sub_plan *sp = &pl->sub[i];

		free(sp->hosts);
		free(sp->ports);
		if (sp->is_new && sp->s != NULL) {
			atomic_load(&sp->s->nst)->n = 0; /* closed above */
			subsys_put(sp->s);
		} else {
			free(sp->nst);
		}
	}
	for (size_t i = 0; i < pl->new_ls.n; i++)
		listener_put(pl->new_ls.p[i]);
	for (size_t i = 0; i < pl->ana_new.n; i++)
		free(pl->ana_new.p[i]);
	free(pl->ls);
	free(pl->st);
	cfg_free(pl->cfg);
	plan_free(pl);
}

bool plan_empty(const struct plan *pl)
{
	if (pl->ls != NULL || pl->opened.n != 0 || pl->ana_l.n != 0)
		return false;
	for (size_t i = 0; i < pl->nsub; i++)
		if (pl->sub[i].is_new || pl->sub[i].removed || pl->sub[i].nst != NULL ||
		    pl->sub[i].hosts != NULL || pl->sub[i].ports != NULL ||
		    pl->sub[i].resized.n != 0)
			return false;
	return true;
}
