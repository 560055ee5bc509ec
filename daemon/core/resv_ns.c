/* SPDX-License-Identifier: BSD-2-Clause */
/* A namespace's reservations at run time (resv_ns.h). NVMe Base 2.0 8.19. */
#include "resv_ns.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_internal.h"
#include "log.h"
#include "resv_store.h"

struct ns_resv {
	pthread_mutex_t lock;
	struct resv_state st; /* under lock */
	uint64_t seq;	      /* updates stored (the store's compare-and-swap value) */
	struct resv_store *store;
	char nqn[NVMF_NQN_FIELD];
	/* Preempt and Abort: bumped for a preempted host's slot (any worker reads) */
	_Atomic uint32_t abort_gen[RESV_MAX_HOSTS];
};

struct ns_resv *resv_ns_new(void)
{
	struct ns_resv *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	resv_init(&r->st);
	return r;
}

void resv_ns_free(struct ns_resv *r)
{
	if (r == NULL)
		return;
	if (r->store != NULL)
		r->store->ops->close(r->store);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- host slots (the bits of the access word), per subsystem ---- */

static int slot_find(struct subsys *s, const uint8_t hostid[16])
{
	uint32_t n = atomic_load_explicit(&s->resv_nslots, memory_order_acquire);

	for (uint32_t i = 0; i < n; i++)
		if (memcmp(s->resv_slot_id[i], hostid, 16) == 0)
			return (int)i;
	return RESV_NO_SLOT;
}

/* The slot of hostid, given one if it has none; RESV_NO_SLOT when all are taken. */
static int slot_take(struct subsys *s, const uint8_t hostid[16])
{
	int slot = slot_find(s, hostid);
	uint32_t n;

	if (slot != RESV_NO_SLOT)
		return slot;
	pthread_mutex_lock(&s->resv_slot_lock);
	slot = slot_find(s, hostid);
	n = atomic_load_explicit(&s->resv_nslots, memory_order_relaxed);
	if (slot == RESV_NO_SLOT && n < RESV_MAX_HOSTS) {
		memcpy(s->resv_slot_id[n], hostid, 16);
		/* the entry before the count: readers below the count see it whole */
		atomic_store_explicit(&s->resv_nslots, n + 1, memory_order_release);
		slot = (int)n;
	}
	pthread_mutex_unlock(&s->resv_slot_lock);
	return slot;
}

static int slot_of_cb(void *arg, const uint8_t hostid[16])
{
	return slot_find(arg, hostid);
}

int resv_ctrl_slot(struct ctrl *c)
{
	uint32_t s1 = atomic_load_explicit(&c->resv_slot1, memory_order_relaxed), n;
	int slot;

	if (s1 != 0)
		return (int)s1 - 1; /* slots never change once given */
	n = atomic_load_explicit(&c->subsys->resv_nslots, memory_order_acquire);
	if (n == atomic_load_explicit(&c->resv_slot_seen, memory_order_relaxed))
		return RESV_NO_SLOT; /* looked already: no new host since */
	slot = slot_find(c->subsys, c->hostid);
	if (slot != RESV_NO_SLOT)
		atomic_store_explicit(&c->resv_slot1, (uint32_t)slot + 1, memory_order_relaxed);
	else
		atomic_store_explicit(&c->resv_slot_seen, n, memory_order_relaxed);
	return slot;
}

/* ---- the I/O path ---- */

uint64_t resv_ns_mark_slow(struct ctrl *c, const struct ns *ns)
{
	int slot = resv_ctrl_slot(c);

	if (slot == RESV_NO_SLOT)
		return 0;
	return 1ull << 63 | (uint64_t)slot << 32 |
	       atomic_load_explicit(&ns->resv->abort_gen[slot], memory_order_acquire);
}

nvme_status_t resv_ns_check_slow(struct ctrl *c, const struct ns *ns, uint8_t opc, uint64_t w,
				 uint64_t mark)
{
	if (mark != 0) {
		unsigned int slot = (unsigned int)(mark >> 32) & 0x3f;

		if ((uint32_t)mark !=
		    atomic_load_explicit(&ns->resv->abort_gen[slot], memory_order_acquire))
			return NVME_SC(GENERIC, ABORTED_PREEMPT_ABORT);
	}
	if (w == 0 || resv_word_allows(w, resv_ctrl_slot(c), resv_group_of(opc)))
		return 0;
	return NVME_SC_DNR(GENERIC, RESERVATION_CONFLICT);
}

/* ---- state changes ---- */

static void publish(struct subsys *s, struct ns *ns)
{
	atomic_store_explicit(&ns->resv_word, resv_word(&ns->resv->st, slot_of_cb, s),
			      memory_order_release);
}

/* Keep st (the state about to be): when PTPL is on, or has just changed. */
static int save(struct ns_resv *r, uint32_t nsid, const struct resv_state *st)
{
	char buf[RESV_FILE_MAX];
	int len, ret;

	if (!st->ptpl && !r->st.ptpl)
		return 0; /* nothing is to survive a power loss, nor was */
	if (r->store == NULL)
		return -ENOTSUP;
	len = resv_encode(st, r->nqn, nsid, r->seq + 1, buf, sizeof(buf));
	if (len < 0)
		return len;
	ret = r->store->ops->save(r->store, buf, (size_t)len, r->seq);
	if (ret == 0)
		r->seq++;
	return ret;
}

/* Post each notification to every controller of its host in subsystem s. */
static void post_events(struct target *t, struct subsys *s, uint32_t nsid,
			const struct resv_effects *eff)
{
	if (eff->nev == 0)
		return;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < TARGET_MAX_CTRLS; i++) {
		struct ctrl *c = t->ctrls[i];

		if (c == NULL || c->subsys != s)
			continue;
		for (unsigned int e = 0; e < eff->nev; e++)
			if (memcmp(c->hostid, eff->ev[e].hostid, 16) == 0)
				ctrl_post_resv(c, nsid, eff->ev[e].type);
	}
	pthread_mutex_unlock(&t->lock);
}

static const char *op_name(uint8_t opc)
{
	switch (opc) {
	case NVME_CMD_RESV_REGISTER:
		return "Reservation Register";
	case NVME_CMD_RESV_ACQUIRE:
		return "Reservation Acquire";
	default:
		return "Reservation Release";
	}
}

nvme_status_t resv_ns_exec(struct ctrl *c, struct ns *ns, const struct nvme_sqe *sqe, void *data,
			   uint32_t len, uint32_t *out_len)
{
	struct ns_resv *r = ns->resv;
	uint32_t cdw10 = le32toh(sqe->cdw10);
	struct resv_effects eff;
	struct resv_state next;
	nvme_status_t st;
	size_t out = 0;
	int ret;

	*out_len = 0;
	pthread_mutex_lock(&r->lock);
	if (sqe->opc == NVME_CMD_RESV_REPORT) {
		st = resv_report(&r->st, le32toh(sqe->cdw11), data, len, &out);
		pthread_mutex_unlock(&r->lock);
		*out_len = (uint32_t)out;
		return st;
	}
	next = r->st;
	switch (sqe->opc) {
	case NVME_CMD_RESV_REGISTER:
		if (NVMEV(NVME_RREGA, cdw10) != NVME_RREGA_UNREGISTER &&
		    slot_take(c->subsys, c->hostid) == RESV_NO_SLOT) {
			log_warn("%s namespace %u: host %s: more than %d hosts registered with "
				 "the subsystem since start: registration refused",
				 c->subsys->nqn, ns->nsid, c->hostnqn, RESV_MAX_HOSTS);
			pthread_mutex_unlock(&r->lock);
			return NVME_SC_DNR(GENERIC, INTERNAL);
		}
		if (NVMEV(NVME_CPTPL, cdw10) == NVME_CPTPL_SET && r->store == NULL) {
			pthread_mutex_unlock(&r->lock);
			return NVME_SC_DNR(GENERIC, INVALID_FIELD); /* RESCAP says no PTPLS */
		}
		st = resv_register(&next, c->hostid, cdw10, data, len, &eff);
		break;
	case NVME_CMD_RESV_ACQUIRE:
		st = resv_acquire(&next, c->hostid, cdw10, data, len, &eff);
		break;
	default:
		st = resv_release(&next, c->hostid, cdw10, data, len, &eff);
		break;
	}
	if (st != 0 || !eff.changed) {
		pthread_mutex_unlock(&r->lock);
		return st;
	}
	/* 8.19.9: durable before the command completes; not applied if it cannot be */
	ret = save(r, ns->nsid, &next);
	if (ret != 0) {
		log_err("%s namespace %u: %s of host %s: cannot keep the reservations in %s: %s",
			c->subsys->nqn, ns->nsid, op_name(sqe->opc), c->hostnqn,
			r->store != NULL ? r->store->where : "(no state_dir)", strerror(-ret));
		pthread_mutex_unlock(&r->lock);
		return NVME_SC(GENERIC, INTERNAL);
	}
	r->st = next;
	publish(c->subsys, ns);
	for (unsigned int i = 0; i < eff.nabort; i++) {
		int slot = slot_find(c->subsys, eff.abort_hostid[i]);

		if (slot != RESV_NO_SLOT)
			atomic_fetch_add_explicit(&r->abort_gen[slot], 1, memory_order_release);
	}
	post_events(c->t, c->subsys, ns->nsid, &eff);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

bool resv_ns_ptpl(struct ns *ns)
{
	bool p;

	pthread_mutex_lock(&ns->resv->lock);
	p = ns->resv->st.ptpl;
	pthread_mutex_unlock(&ns->resv->lock);
	return p;
}

bool resv_ns_can_persist(const struct ns *ns)
{
	return ns->resv->store != NULL; /* set before the namespace is served */
}

nvme_status_t resv_ns_set_ptpl(struct ns *ns, bool ptpl)
{
	struct ns_resv *r = ns->resv;
	struct resv_state next;
	nvme_status_t st = 0;
	int ret;

	pthread_mutex_lock(&r->lock);
	if (ptpl && r->store == NULL) {
		st = NVME_SC_DNR(GENERIC, INVALID_FIELD);
	} else if (ptpl != r->st.ptpl) {
		next = r->st;
		next.ptpl = ptpl;
		ret = save(r, ns->nsid, &next);
		if (ret != 0) {
			log_err("%s namespace %u: cannot keep the reservations in %s: %s", r->nqn,
				ns->nsid, r->store != NULL ? r->store->where : "(no state_dir)",
				strerror(-ret));
			st = NVME_SC(GENERIC, INTERNAL);
		} else {
			r->st = next;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return st;
}

/* ---- start-up ---- */

int resv_ns_attach(struct target *t, struct subsys *s, struct ns *ns)
{
	struct ns_resv *r = ns->resv;
	const char *nqn = s->nqn;
	char buf[RESV_FILE_MAX], err[200];
	struct resv_state st;
	uint64_t seq;
	size_t len;
	int ret;

	snprintf(r->nqn, sizeof(r->nqn), "%s", nqn);
	if (t->state_dir[0] == '\0' || r->store != NULL)
		return 0;
	ret = resv_store_file_open(t->state_dir, ns->nguid, &r->store);
	if (ret != 0) {
		log_err("namespace %u of %s: %s/reservations: %s: reservations cannot persist",
			ns->nsid, nqn, t->state_dir, strerror(-ret));
		return 0;
	}
	ret = r->store->ops->load(r->store, buf, sizeof(buf), &len);
	if (ret == -ENOENT)
		return 0;
	if (ret != 0) {
		log_err("%s: %s (namespace %u of %s); fix or remove it to start without its "
			"reservations",
			r->store->where, strerror(-ret), ns->nsid, nqn);
		return ret;
	}
	if (resv_decode(buf, len, nqn, ns->nsid, &st, &seq, err, sizeof(err)) != 0) {
		log_err("%s: %s (namespace %u of %s); fix or remove it to start without its "
			"reservations",
			r->store->where, err, ns->nsid, nqn);
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	r->st = st;
	r->seq = seq;
	for (uint32_t i = 0; i < st.nregs; i++) {
		if (slot_take(s, st.regs[i].hostid) == RESV_NO_SLOT) {
			/* cannot happen at start (a file has at most RESV_MAX_HOSTS) */
			log_err("%s: more than %d hosts registered in subsystem %s",
				r->store->where, RESV_MAX_HOSTS, nqn);
			pthread_mutex_unlock(&r->lock);
			return -ENOSPC;
		}
	}
	publish(s, ns);
	pthread_mutex_unlock(&r->lock);
	if (st.nregs != 0)
		log_info("namespace %u of %s: %u registrant(s), reservation type %u, from %s",
			 ns->nsid, nqn, st.nregs, st.rtype, r->store->where);
	return 0;
}

int resv_ns_attach_all(struct target *t)
{
	struct subsys_table *st = target_subsystems(t);

	for (size_t i = 0; i < st->n; i++) {
		struct ns_table *nt = subsys_ns(st->s[i]);

		for (size_t j = 0; j < nt->n; j++) {
			int ret = resv_ns_attach(t, st->s[i], nt->ns[j]);

			if (ret != 0)
				return ret;
		}
	}
	return 0;
}
