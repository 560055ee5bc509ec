/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Asymmetric Namespace Access (NVMe Base 2.0 8.1, "Base" below): the ANA
 * log page (5.16.1.12) as a controller sees it through its own listener,
 * and the status an I/O command gets on a path that cannot serve it.
 *
 * A namespace belongs to one ANA group (ana_group in its section, 1 by
 * default); each listener holds a state per group (ana_state= on its
 * listen line, optimized by default). The log lists the groups that have
 * namespaces in the controller's subsystem, ascending, each with its
 * state and its NSIDs ascending (the Linux host walks its namespace list
 * and the NSIDs in step, nvme_update_ana_state()); with RGO only the
 * descriptors, NNSID 0. The change count is the target's: it moves with
 * every reload that changes a state or a group's namespaces.
 */
#include "ctrl_internal.h"

#include <string.h>

static bool group_has_ns(const struct ns_table *nt, uint32_t grp)
{
	for (size_t i = 0; i < nt->n; i++)
		if (ns_anagrpid(nt->ns[i]) == grp)
			return true;
	return false;
}

uint64_t ana_log_build(const struct ctrl *c, bool rgo, struct log_win *w)
{
	const struct ns_table *nt = subsys_ns(c->subsys);
	uint64_t chgcnt = atomic_load_explicit(&c->t->ana_chgcnt, memory_order_relaxed);
	uint64_t pos = sizeof(struct nvme_ana_log_hdr);
	struct nvme_ana_log_hdr h;
	uint16_t ngrps = 0;

	for (uint32_t g = 1; g <= CTRL_ANAGRPS; g++) {
		struct nvme_ana_group_desc d;
		uint32_t n = 0;

		if (!group_has_ns(nt, g))
			continue;
		memset(&d, 0, sizeof(d));
		for (size_t i = 0; i < nt->n && !rgo; i++) {
			uint8_t v[4];

			if (ns_anagrpid(nt->ns[i]) != g)
				continue;
			put_le32(v, nt->ns[i]->nsid);
			log_win_put(w, pos + sizeof(d) + 4u * n++, v, sizeof(v));
		}
		d.anagrpid = htole32(g);
		d.nnsid = htole32(n);
		d.chgcnt = htole64(chgcnt);
		d.anas = listener_ana_state(c->l, g);
		log_win_put(w, pos, &d, sizeof(d));
		pos += sizeof(d) + 4u * n;
		ngrps++;
	}
	memset(&h, 0, sizeof(h));
	h.chgcnt = htole64(chgcnt);
	h.ngrps = htole16(ngrps);
	log_win_put(w, 0, &h, sizeof(h));
	return pos;
}

static nvme_status_t state_status(uint8_t state)
{
	switch (state) {
	case CFG_ANA_OPTIMIZED:
	case CFG_ANA_NON_OPTIMIZED:
		return 0;
	case CFG_ANA_PERSISTENT_LOSS:
		return NVME_SC(PATH, ANA_PERSISTENT_LOSS);
	case CFG_ANA_CHANGE:
		return NVME_SC(PATH, ANA_TRANSITION);
	default:
		return NVME_SC(PATH, ANA_INACCESSIBLE);
	}
}

nvme_status_t ana_io_status(const struct ctrl *c, const struct ns *ns)
{
	const struct ns_table *nt;

	if (c->l == NULL)
		return 0;
	if (ns != NULL)
		return state_status(listener_ana_state(c->l, ns_anagrpid(ns)));
	/* Flush of every namespace: only if this path reaches them all */
	nt = subsys_ns(c->subsys);
	for (size_t i = 0; i < nt->n; i++) {
		nvme_status_t st = state_status(listener_ana_state(c->l, ns_anagrpid(nt->ns[i])));

		if (st)
			return st;
	}
	return 0;
}
