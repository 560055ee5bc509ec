/* SPDX-License-Identifier: BSD-2-Clause */
/* Live reload (reload.h): prepare everything, publish, then clean up behind the workers. */
#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctrl.h"
#include "log.h"
#include "reload_plan.h"
#include "epoch.h"

#define RELOAD_SYNC_MS	10000 /* workers pass their loop's top every 100 ms */
#define RELOAD_WAIT_MS	2000  /* for the old commands; then reload_poll() finishes */
#define RELOAD_DRAIN_MS 30000 /* reload_poll() warns after this long */

/* What a reload replaced, freed once no worker or command can hold it. */
struct leftovers {
	struct leftovers *next;
	uint64_t epoch; /* what began before this epoch may use it */
	int64_t since_ms;
	struct cfg_config *cfg;
	struct subsys_table *st;
	struct listener_set *ls;
	struct ptrs tables;    /* ns tables and host lists: free() */
	struct ptrs release;   /* struct ns to close (they stay counted in nold) */
	struct ptrs free_ns;   /* struct ns to free */
	struct ptrs gone;      /* removed subsystems */
	struct ptrs gone_nst;  /* their tables before removal (for the counters) */
	struct ptrs listeners; /* removed listeners: the set's reference */
};

/* Oldest first; a command the host stalls keeps one here, not the next reloads out. */
static struct leftovers *g_left, **g_left_tail = &g_left;

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
		if (sp->ports != NULL)
			ret |= ptrs_push(&lo->tables, atomic_exchange(&s->ports, sp->ports));
		for (size_t j = 0; j < sp->resized.n; j++) {
			struct ns *ns = sp->resized.p[j];
			uint64_t size = sp->new_size[j];
			bool grow = size > ns->be.size;

			/* growing: the store first; shrinking: what io_check sees first */
			if (grow)
				be_set_size(&ns->be, size);
			__atomic_store_n(&ns->nsze, size >> ns->lba_shift, __ATOMIC_RELAXED);
			if (!grow)
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
	/* ANA states change in place: the listener, its socket and connections stay */
	for (size_t i = 0; i < pl->ana_l.n; i++) {
		struct listener *l = pl->ana_l.p[i];

		ret |= ptrs_push(&lo->tables, atomic_exchange(&l->ana, pl->ana_new.p[i]));
	}
	if (pl->ana_changed)
		atomic_fetch_add(&t->ana_chgcnt, 1);

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
		/* Base 2.0 8.1.5: hosts connected through a listener whose states changed */
		for (size_t j = 0; j < pl->ana_l.n; j++)
			if (c->l == pl->ana_l.p[j])
				ctrl_post_ana_changed(c);
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
		else if (!subsys_serves(c->subsys, c->l))
			ctrl_kill(c, "its subsystem is no longer served on its listener");
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
		struct smart_counts total;

		ns_table_smart(t, nt, 0, &total);
		for (size_t j = 0; j < nt->n + nt->nold; j++) {
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
	lo->since_ms = clock_mono_ms();
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
	if (g_left != NULL && clock_mono_ms() - g_left->since_ms >= RELOAD_DRAIN_MS) {
		log_warn("reload: commands begun before a reload still run after %d s: what it "
			 "replaced stays allocated until they end",
			 RELOAD_DRAIN_MS / 1000);
		g_left->since_ms = clock_mono_ms();
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
		 "host lists changed %zu, listeners %zu -> %zu, ANA states changed on %zu",
		 pl->cfg->source, add_s, del_s, pl->added, pl->removed, pl->replaced, pl->resized,
		 hosts, old->nlisteners, pl->cfg->nlisteners, pl->ana_l.n);
}

int reload_config(struct target *t, struct health *h, const char *path, bool verbose)
{
	struct plan pl = {0};
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
	log_lines(LOGL_WARN, pl.cfg->warnings);
	warn_static(old, pl.cfg);
	ret = plan_build(t, h, &pl);
	if (ret) {
		log_err("reload: %s: nothing changed",
			ret == -ENOMEM ? "out of memory" : "see the errors above");
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
		struct timespec ts = {.tv_nsec = 1000000};

		leftovers_free(t, h, false);
		if (g_left != NULL)
			nanosleep(&ts, NULL);
	}
	if (g_left != NULL)
		log_info("reload: commands begun before it still run: what it replaced is freed "
			 "when they end");
	return 0;
}
