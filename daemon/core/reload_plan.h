/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside live reload: reload_plan.c reads the new configuration against
 * what is served and prepares everything it adds (nothing is visible to
 * the workers yet); reload.c publishes a plan and frees what it replaced
 * once nothing can use it any more. Main thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "registry.h"

/* A growing array of pointers. */
struct ptrs {
	void **p;
	size_t n, cap;
};

int ptrs_push(struct ptrs *v, void *p);
void ptrs_free(struct ptrs *v);

/* A subsystem of the new configuration, or one it removes. */
struct sub_plan {
	struct subsys *s;
	bool is_new;
	bool removed;
	struct ns_table *nst;	 /* to publish; NULL: unchanged */
	struct host_list *hosts; /* to publish; NULL: unchanged */
	struct port_list *ports; /* to publish; NULL: unchanged */
	struct ptrs dropped;	 /* struct ns: removed or replaced (kept in nst's nold) */
	struct ptrs folded;	 /* struct ns: the old table's nold, counted in nst->retired */
	struct ptrs resized;	 /* struct ns kept whose store grew or shrank */
	uint64_t *new_size;	 /* [resized.n]: bytes */
	uint32_t *changed;	 /* NSIDs added, removed or replaced */
	size_t nchanged;
};

struct plan {
	struct cfg_config *cfg;
	struct subsys_table *st;
	struct listener_set *ls; /* NULL: unchanged */
	struct sub_plan *sub;
	size_t nsub;
	struct ptrs opened; /* struct ns opened for this reload (rollback closes them) */
	struct ptrs new_ls; /* struct listener opened for this reload */
	/* kept listeners whose ANA states change in place, and their new tables */
	struct ptrs ana_l;
	struct ptrs ana_new;
	bool ana_changed; /* the ANA log changes (states or groups' namespaces) */
	bool files_added;
	bool disc_changed;				/* the discovery log's content changes */
	unsigned int added, removed, replaced, resized; /* namespaces, for the log */
};

/* What only a restart changes: warn, and keep serving with the old value. */
void warn_static(const struct cfg_config *o, const struct cfg_config *n);
/*
 * The plan for pl->cfg (loaded by the caller): namespaces and listeners it
 * adds are opened, new tables built. 0, or -errno with the reason logged
 * (plan_undo() then closes what was opened).
 */
int plan_build(struct target *t, struct health *h, struct plan *pl);
/* Nothing was published: undo what was opened and built (pl->cfg too). */
void plan_undo(struct target *t, struct plan *pl);
/* The plan's bookkeeping, once published (its tables now belong to the target). */
void plan_free(struct plan *pl);
/* The new configuration serves exactly what is served now. */
bool plan_empty(const struct plan *pl);
