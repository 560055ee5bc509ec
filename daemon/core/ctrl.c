/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Controller lifecycle: reference counts, the queues of a controller,
 * keep-alive (NVMe Base 2.0 3.9, "Base" below), the error log,
 * asynchronous events (Base 5.2). Connect, which creates controllers and
 * joins I/O queues to them, is in fabrics_connect.c.
 */
#include "ctrl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/* ---- time ---- */

static int64_t start_ms;

/* The daemon's start, for the SMART log's power-on hours. */
__attribute__((constructor)) static void note_start(void)
{
	start_ms = clock_mono_ms();
}

int64_t ctrl_uptime_ms(void)
{
	return clock_mono_ms() - start_ms;
}

uint64_t target_power_on_s(const struct target *t)
{
	int64_t up_ms = ctrl_uptime_ms();

	return t->poh_base_s + (up_ms > 0 ? (uint64_t)up_ms / 1000 : 0);
}

uint32_t ctrl_kato_round(uint32_t kato_ms)
{
	/* Base 5.27.1.12: KATO is rounded up to the granularity KAS gives (1 s) */
	if (kato_ms > UINT32_MAX - (CTRL_KATO_GRAN_MS - 1))
		return UINT32_MAX / CTRL_KATO_GRAN_MS * CTRL_KATO_GRAN_MS;
	return (kato_ms + CTRL_KATO_GRAN_MS - 1) / CTRL_KATO_GRAN_MS * CTRL_KATO_GRAN_MS;
}

/* ---- lifetime ---- */

static bool io_map_empty(const struct ctrl *c)
{
	for (size_t i = 0; i < CTRL_MAX_IO_QUEUES / 64; i++)
		if (atomic_load(&c->io_qmap[i]) != 0)
			return false;
	return true;
}

bool ctrl_has_io_queues(const struct ctrl *c)
{
	return !io_map_empty(c);
}

void ctrl_queue_gone(struct ctrl *c, uint16_t qid)
{
	struct target *t = c->t;
	bool found = false;

	if (qid == 0) {
		ctrl_kill(c, "the admin queue closed");
		ctrl_drop_aers(c);
		pthread_mutex_lock(&t->lock);
		for (size_t i = 0; i < TARGET_MAX_CTRLS; i++) {
			if (t->ctrls[i] == c) {
				t->ctrls[i] = NULL;
				found = true;
			}
		}
		pthread_mutex_unlock(&t->lock);
		if (found)
			ctrl_put(c); /* the table's reference */
		return;
	}
	if (qid > CTRL_MAX_IO_QUEUES)
		return;
	pthread_mutex_lock(&t->lock);
	atomic_fetch_and(&c->io_qmap[(qid - 1) / 64], ~(1ULL << ((qid - 1) % 64)));
	if (atomic_load(&c->io_reset) && io_map_empty(c))
		atomic_store(&c->io_reset, false);
	pthread_mutex_unlock(&t->lock);
}

void ctrl_get(struct ctrl *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void ctrl_put(struct ctrl *c)
{
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_destroy(&c->err_lock);
	subsys_put(c->subsys);
	if (c->l != NULL)
		listener_put(c->l);
	free(c);
}

bool ctrl_kato_expired(const struct ctrl *c, int64_t now_ms)
{
	int64_t last = atomic_load_explicit(&c->last_traffic_ms, memory_order_relaxed);

	/* Base 3.9.5: with TBKAS any command restarts the timer (ctrl_touch) */
	return c->kato_ms != 0 && now_ms - last > (int64_t)c->kato_ms;
}

void ctrl_kill(struct ctrl *c, const char *why)
{
	if (atomic_exchange(&c->dead, true))
		return;
	atomic_store(&c->enabled, false);
	log_info("controller %u of %s for %s (%s): %s", c->cntlid, c->subsys->nqn, c->host_label,
		 c->admin_ci.peer, why);
}

/* Controller reset (CC.EN 1 -> 0, Base 3.7.2), on the admin queue's worker. */
void ctrl_reset(struct ctrl *c)
{
	struct target *t = c->t;

	atomic_store(&c->enabled, false);
	pthread_mutex_lock(&t->lock);
	if (!io_map_empty(c))
		atomic_store(&c->io_reset, true);
	c->nr_io_queues = 0;
	c->nr_io_queues_set = false;
	pthread_mutex_unlock(&t->lock);
	/* features return to their defaults; KATO belongs to the association */
	c->aen_cfg = 0;
	c->aen_pending = 0;
	c->aen_masked = 0;
	__atomic_store_n(&c->vwc, !ctrl_is_disc(c), __ATOMIC_RELAXED);
	ctrl_features_reset(c);
	log_info("controller %u of %s for %s: reset by the host", c->cntlid, c->subsys->nqn,
		 c->host_label);
}

/* ---- error log (Base 5.16.1.2) ---- */

void ctrl_log_error(struct ctrl *c, uint16_t sqid, uint16_t cid, nvme_status_t status,
		    uint32_t nsid, uint64_t lba, uint16_t parm_loc)
{
	struct nvme_error_log_entry *e;

	pthread_mutex_lock(&c->err_lock);
	e = &c->errors[c->error_count % CTRL_ERROR_LOG_ENTRIES];
	memset(e, 0, sizeof(*e));
	c->error_count++;
	/* unique and counting from 1: 0 marks an empty entry */
	e->error_count = htole64(c->error_count);
	e->sqid = htole16(sqid);
	e->cmdid = cid;
	status &= (nvme_status_t) ~(NVME_STATUS_DNR | NVME_STATUS_MORE);
	e->status_field = htole16((uint16_t)(status << 1));
	e->parm_error_location = htole16(parm_loc);
	e->lba = htole64(lba);
	e->nsid = htole32(nsid);
	e->log_page_version = 1;
	pthread_mutex_unlock(&c->err_lock);
	atomic_fetch_add_explicit(&c->subsys->err_entries, 1, memory_order_relaxed);
}

void ctrl_error_log_copy(struct ctrl *c, struct nvme_error_log_entry *out)
{
	pthread_mutex_lock(&c->err_lock);
	for (uint64_t i = 0; i < CTRL_ERROR_LOG_ENTRIES; i++) {
		if (i < c->error_count)
			out[i] = c->errors[(c->error_count - 1 - i) % CTRL_ERROR_LOG_ENTRIES];
		else
			memset(&out[i], 0, sizeof(out[i]));
	}
	pthread_mutex_unlock(&c->err_lock);
}

/* ---- asynchronous events (Base 5.2) ---- */

static uint32_t aen_result(uint32_t bit)
{
	if (bit == AEN_RESV)
		return NVME_AER_RESULT(NVME_AER_TYPE_IO_CMD_SPECIFIC, NVME_AER_IOCS_RESV_LOG,
				       NVME_LOG_RESERVATION);
	/* Base Figure 148: SMART / Health status, Temperature Threshold (01h) */
	if (bit == AEN_SMART_TEMP)
		return NVME_AER_RESULT(NVME_AER_TYPE_SMART, 0x01, NVME_LOG_SMART);
	if (bit == AEN_NS_ATTR)
		return NVME_AER_RESULT(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
				       NVME_LOG_CHANGED_NS);
	if (bit == AEN_ANA_CHANGE)
		return NVME_AER_RESULT(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA);
	return NVME_AER_RESULT(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED, NVME_LOG_DISC);
}

bool ctrl_aen_take(struct ctrl *c, uint32_t *result)
{
	uint32_t ready = c->aen_pending & (c->aen_cfg | AEN_RESV) & ~c->aen_masked;
	uint32_t bit;

	if (ready == 0)
		return false;
	bit = ready & -ready; /* the lowest: namespace, then ANA, then discovery changes */
	c->aen_pending &= ~bit;
	c->aen_masked |= bit;
	*result = aen_result(bit);
	return true;
}

/* Complete the oldest held AER with a ready event, if both exist. */
static void aen_try(struct ctrl *c)
{
	uint32_t result;
	uint16_t cid;

	if (c->naer == 0 || c->aer_fn == NULL || !ctrl_aen_take(c, &result))
		return;
	cid = c->aer_cid[0];
	c->naer--;
	memmove(c->aer_cid, c->aer_cid + 1, c->naer * sizeof(c->aer_cid[0]));
	c->aer_fn(c->aer_arg, cid, result);
}

static void changed_ns_add(struct ctrl *c, uint32_t nsid)
{
	if (c->nchanged_ns > NVME_CHANGED_NS_MAX)
		return; /* overflowed: the log says FFFFFFFFh */
	for (unsigned int i = 0; i < c->nchanged_ns; i++)
		if (c->changed_ns[i] == nsid)
			return;
	if (c->nchanged_ns == NVME_CHANGED_NS_MAX)
		c->nchanged_ns = NVME_CHANGED_NS_MAX + 1;
	else
		c->changed_ns[c->nchanged_ns++] = nsid;
}

void ctrl_notify_ns_changed(struct ctrl *c, uint32_t nsid)
{
	if (ctrl_is_disc(c))
		return;
	changed_ns_add(c, nsid);
	/* an event the host did not enable is not reported (the log still lists it) */
	if (c->aen_cfg & AEN_NS_ATTR)
		c->aen_pending |= AEN_NS_ATTR;
	aen_try(c);
}

void ctrl_notify_ana_changed(struct ctrl *c)
{
	if (ctrl_is_disc(c))
		return;
	if (c->aen_cfg & AEN_ANA_CHANGE)
		c->aen_pending |= AEN_ANA_CHANGE;
	aen_try(c);
}

void ctrl_notify_smart(struct ctrl *c, uint32_t bit)
{
	if (ctrl_is_disc(c))
		return;
	if (c->aen_cfg & bit)
		c->aen_pending |= bit;
	aen_try(c);
}

void ctrl_notify_disc_changed(struct ctrl *c)
{
	if (!ctrl_is_disc(c))
		return;
	if (c->aen_cfg & AEN_DISC_CHANGE)
		c->aen_pending |= AEN_DISC_CHANGE;
	aen_try(c);
}

void ctrl_post_ns_changed(struct ctrl *c, uint32_t nsid)
{
	pthread_mutex_lock(&c->err_lock);
	if (c->ev_n < CTRL_EV_MAX)
		c->ev_nsid[c->ev_n++] = nsid;
	else
		c->ev_overflow = true;
	atomic_store(&c->ev_posted, true);
	pthread_mutex_unlock(&c->err_lock);
}

void ctrl_post_disc_changed(struct ctrl *c)
{
	pthread_mutex_lock(&c->err_lock);
	c->ev_disc = true;
	atomic_store(&c->ev_posted, true);
	pthread_mutex_unlock(&c->err_lock);
}

void ctrl_post_ana_changed(struct ctrl *c)
{
	pthread_mutex_lock(&c->err_lock);
	c->ev_ana = true;
	atomic_store(&c->ev_posted, true);
	pthread_mutex_unlock(&c->err_lock);
}

void ctrl_deliver_posted(struct ctrl *c)
{
	uint32_t nsid[CTRL_EV_MAX];
	unsigned int n;
	bool disc, ana, overflow, resv;

	if (!atomic_load(&c->ev_posted))
		return;
	pthread_mutex_lock(&c->err_lock);
	resv = c->ev_resv;
	c->ev_resv = false;
	n = c->ev_n;
	memcpy(nsid, c->ev_nsid, n * sizeof(nsid[0]));
	disc = c->ev_disc;
	ana = c->ev_ana;
	overflow = c->ev_overflow;
	c->ev_n = 0;
	c->ev_disc = c->ev_ana = c->ev_overflow = false;
	atomic_store(&c->ev_posted, false);
	pthread_mutex_unlock(&c->err_lock);
	if (overflow && !ctrl_is_disc(c))
		c->nchanged_ns = NVME_CHANGED_NS_MAX + 1; /* the log says FFFFFFFFh */
	for (unsigned int i = 0; i < n; i++)
		ctrl_notify_ns_changed(c, nsid[i]);
	if (ana)
		ctrl_notify_ana_changed(c);
	if (disc)
		ctrl_notify_disc_changed(c);
	if (resv && !ctrl_is_disc(c)) {
		c->aen_pending |= AEN_RESV;
		aen_try(c);
	}
}

/* ---- reservation notifications (Base 5.16.1.25, 8.19.3) ---- */

static uint8_t resv_mask_locked(const struct ctrl *c, uint32_t nsid)
{
	for (unsigned int i = 0; i < c->nresv_masks; i++)
		if (c->resv_masks[i].nsid == nsid)
			return c->resv_masks[i].mask;
	return c->resv_mask_all;
}

void ctrl_post_resv(struct ctrl *c, uint32_t nsid, uint8_t type)
{
	unsigned int slot;

	pthread_mutex_lock(&c->err_lock);
	if (resv_mask_locked(c, nsid) & (1u << type)) {
		pthread_mutex_unlock(&c->err_lock);
		return; /* masked: neither logged nor reported */
	}
	/* the count goes on when an entry is lost: the host sees the gap */
	if (++c->resv_log_count == 0)
		c->resv_log_count = 1;
	if (c->resv_log_n < CTRL_RESV_LOG) {
		slot = (c->resv_log_head + c->resv_log_n++) % CTRL_RESV_LOG;
		c->resv_log[slot].count = c->resv_log_count;
		c->resv_log[slot].nsid = nsid;
		c->resv_log[slot].type = type;
	}
	c->ev_resv = true;
	atomic_store(&c->ev_posted, true);
	pthread_mutex_unlock(&c->err_lock);
}

void ctrl_resv_log_pop(struct ctrl *c, struct nvme_resv_notif_log *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&c->err_lock);
	if (c->resv_log_n != 0) {
		unsigned int h = c->resv_log_head;

		e->count = htole64(c->resv_log[h].count);
		e->type = c->resv_log[h].type;
		e->nsid = htole32(c->resv_log[h].nsid);
		c->resv_log_head = (h + 1) % CTRL_RESV_LOG;
		c->resv_log_n--;
		e->nr_avail = (uint8_t)(c->resv_log_n > 255 ? 255 : c->resv_log_n);
	}
	pthread_mutex_unlock(&c->err_lock);
}

void ctrl_resv_log_read(struct ctrl *c)
{
	bool more;

	ctrl_aen_log_read(c, AEN_RESV);
	pthread_mutex_lock(&c->err_lock);
	more = c->resv_log_n != 0;
	pthread_mutex_unlock(&c->err_lock);
	if (more) {
		c->aen_pending |= AEN_RESV;
		aen_try(c);
	}
}

uint8_t ctrl_resv_mask(struct ctrl *c, uint32_t nsid)
{
	uint8_t m;

	pthread_mutex_lock(&c->err_lock);
	m = resv_mask_locked(c, nsid);
	pthread_mutex_unlock(&c->err_lock);
	return m;
}

nvme_status_t ctrl_resv_mask_set(struct ctrl *c, uint32_t nsid, uint8_t mask)
{
	nvme_status_t st = 0;
	unsigned int i;

	pthread_mutex_lock(&c->err_lock);
	if (nsid == NVME_NSID_ALL) {
		c->resv_mask_all = mask;
		c->nresv_masks = 0;
	} else {
		for (i = 0; i < c->nresv_masks && c->resv_masks[i].nsid != nsid; i++)
			;
		if (i == c->nresv_masks) {
			if (i < CTRL_RESV_MASKS)
				c->nresv_masks++;
			else
				st = NVME_SC_DNR(GENERIC, INTERNAL);
		}
		if (st == 0) {
			c->resv_masks[i].nsid = nsid;
			c->resv_masks[i].mask = mask;
		}
	}
	pthread_mutex_unlock(&c->err_lock);
	return st;
}

void ctrl_aen_log_read(struct ctrl *c, uint32_t aen_bit)
{
	/* what happened before this read is in what the host just read */
	c->aen_masked &= ~aen_bit;
	c->aen_pending &= ~aen_bit;
}

void ctrl_drop_aers(struct ctrl *c)
{
	c->naer = 0;
}
