/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Get Log Page (NVMe Base 2.0 5.16, "Base" below): the transfer is a
 * window (LPO, NUMD) on the log; what the window holds beyond the log's end
 * is zero. Supported (00h), Error (01h), SMART / Health (02h), Firmware
 * Slot (03h), Changed Namespace List (04h), Commands Supported and Effects
 * (05h), Asymmetric Namespace Access (0Ch, ana_log.c); Discovery (70h) on discovery controllers, built in discovery.c.
 */
#include "ctrl_internal.h"
#include "listener.h"
#include "nvmfd_log.h"

#include <string.h>

#define SC_INVALID_LOG (NVME_SC_DNR(COMMAND_SPECIFIC, INVALID_LOG_PAGE))

void log_win_put(struct log_win *w, uint64_t pos, const void *src, size_t n)
{
	uint64_t lo = pos > w->off ? pos : w->off;
	uint64_t end = pos + n, wend = w->off + w->len;
	uint64_t hi = end < wend ? end : wend;

	if (lo >= hi)
		return;
	memcpy(w->buf + (lo - w->off), (const uint8_t *)src + (lo - pos), (size_t)(hi - lo));
}

/* ---- SMART / Health Information (Base 5.16.1.3) ---- */

/* "in thousands of units of 512 bytes ... rounded up" (Base Figure 207). */
static uint64_t data_units(uint64_t blocks512)
{
	return blocks512 / 1000 + (blocks512 % 1000 != 0);
}

void smart_fill(struct nvme_smart_log *log, const struct smart_counts *sc,
		const struct smart_life *life)
{
	memset(log, 0, sizeof(*log));
	/* no sensor: a constant 40 C rather than 0 K (-273 C in nvme-cli and hwmon) */
	put_le16(log->temperature, CTRL_TEMPERATURE);
	log->avail_spare = 100;
	log->spare_thresh = 10;
	log->percent_used = 0;
	add_le128(log->data_units_read, data_units(sc->read_blocks));
	add_le128(log->data_units_written, data_units(sc->write_blocks));
	add_le128(log->host_reads, sc->read_cmds);
	add_le128(log->host_writes, sc->write_cmds);
	add_le128(log->ctrl_busy_time, sc->busy_ns / 60000000000ULL); /* minutes */
	add_le128(log->power_cycles, life->power_cycles);
	add_le128(log->power_on_hours, life->power_on_hours);
	add_le128(log->unsafe_shutdowns, life->unsafe_shutdowns);
	add_le128(log->media_errors, sc->media_errors);
	add_le128(log->num_err_log_entries, life->err_entries);
}

/*
 * NSID 0 or FFFFFFFFh: the whole subsystem (with the namespaces it had);
 * an active NSID: that namespace. Power cycles, power-on hours, unsafe
 * shutdowns and error log entries are the subsystem's in both (health.c
 * keeps them across restarts).
 */
static nvme_status_t log_smart(struct ctrl *c, uint32_t nsid, struct log_win *w, uint64_t *size)
{
	const struct subsys *s = c->subsys;
	const struct target *t = c->t;
	struct smart_counts sc;
	struct smart_life life;
	struct nvme_smart_log log;

	if (nsid == 0 || nsid == NVME_NSID_ALL) {
		subsys_smart(t, s, &sc);
	} else {
		const struct ns *ns = subsys_find_ns(s, nsid);

		if (ns == NULL)
			return SC_INVALID_NS;
		ns_smart(t, ns, &sc);
	}
	life.power_cycles = t->power_cycles;
	life.power_on_hours = target_power_on_s(t) / 3600;
	life.unsafe_shutdowns = t->unsafe_shutdowns;
	life.err_entries = atomic_load_explicit(&s->err_entries, memory_order_relaxed);
	smart_fill(&log, &sc, &life);
	/* this controller's thresholds (Set Features 04h) against the temperature */
	if (ctrl_temp_warning(c))
		log.critical_warning |= SMART_CRIT_TEMP;
	log_win_put(w, 0, &log, sizeof(log));
	*size = sizeof(log);
	return 0;
}

/* ---- the others ---- */

static uint64_t log_supported(struct log_win *w)
{
	static const uint8_t lids[] = {
		NVME_LOG_SUPPORTED, NVME_LOG_ERROR,	  NVME_LOG_SMART,
		NVME_LOG_FW_SLOT,   NVME_LOG_CHANGED_NS,  NVME_LOG_CMD_EFFECTS,
		NVME_LOG_ANA,	    NVME_LOG_RESERVATION, NVMFD_LOG_VS_COUNTERS};
	uint8_t lsupp[4];

	put_le32(lsupp, 1); /* LSUPP */
	for (size_t i = 0; i < sizeof(lids); i++)
		log_win_put(w, 4u * lids[i], lsupp, sizeof(lsupp));
	return 1024;
}

static uint64_t log_error(struct ctrl *c, struct log_win *w)
{
	struct nvme_error_log_entry e[CTRL_ERROR_LOG_ENTRIES];

	ctrl_error_log_copy(c, e);
	log_win_put(w, 0, e, sizeof(e));
	return sizeof(e);
}

static uint64_t log_fw_slot(struct log_win *w)
{
	struct nvme_fw_slot_log log;

	memset(&log, 0, sizeof(log));
	log.afi = 1; /* slot 1 is active (and the only one, read-only) */
	ascii_pad(log.frs[0], sizeof(log.frs[0]), NVMFD_VERSION);
	log_win_put(w, 0, &log, sizeof(log));
	return sizeof(log);
}

/* Base 5.16.1.5: more than 1024 changes are reported as FFFFFFFFh alone. */
static uint64_t log_changed_ns(const struct ctrl *c, struct log_win *w)
{
	uint8_t v[4];

	if (c->nchanged_ns > NVME_CHANGED_NS_MAX) {
		put_le32(v, NVME_NSID_ALL);
		log_win_put(w, 0, v, sizeof(v));
	} else {
		for (unsigned int i = 0; i < c->nchanged_ns; i++) {
			put_le32(v, c->changed_ns[i]);
			log_win_put(w, 4u * i, v, sizeof(v));
		}
	}
	return sizeof(struct nvme_changed_ns_log);
}

/*
 * nvmfd's counters of the controller's subsystem (nvmfd_log.h), and the
 * TLS counters of the port it connected through.
 */
static uint64_t log_vs_counters(const struct ctrl *c, struct log_win *w)
{
	struct nvmfd_vs_counters_log log;

	memset(&log, 0, sizeof(log));
	memcpy(log.sig, NVMFD_LOG_VS_SIG, sizeof(log.sig));
	log.version = htole32(NVMFD_LOG_VS_VERSION);
	log.auth_failures = htole64(atomic_load(&c->subsys->auth_failures));
	log.auth_successes = htole64(atomic_load(&c->subsys->auth_successes));
	if (c->l != NULL) {
		log.port_flags = htole32(atomic_load(&c->l->tls) ? NVMFD_LOG_PORT_TLS : 0);
		log.tls_handshakes = htole64(atomic_load(&c->l->tls_stats.handshakes));
		for (int f = 0; f < LTLS_NFAIL; f++)
			log.tls_fail[f] = htole64(atomic_load(&c->l->tls_stats.fail[f]));
	}
	log_win_put(w, 0, &log, sizeof(log));
	return sizeof(log);
}

static void effect(uint8_t *base, uint8_t opc, uint32_t flags)
{
	put_le32(base + 4u * opc, flags);
}

/* Base 5.16.1.6: every command we execute; LBCC for what changes user data. */
static nvme_status_t log_cmd_effects(uint8_t csi, struct log_win *w, uint64_t *size)
{
	static const uint8_t admin[] = {NVME_ADM_GET_LOG_PAGE, NVME_ADM_IDENTIFY,
					NVME_ADM_ABORT,	       NVME_ADM_SET_FEATURES,
					NVME_ADM_GET_FEATURES, NVME_ADM_ASYNC_EVENT,
					NVME_ADM_KEEP_ALIVE};
	const uint32_t lbcc = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC;
	struct nvme_cmd_effects_log log;
	uint8_t *acs = (uint8_t *)log.acs, *iocs = (uint8_t *)log.iocs;

	if (csi != NVME_CSI_NVM)
		return SC_INVALID_FIELD;
	memset(&log, 0, sizeof(log));
	for (size_t i = 0; i < sizeof(admin); i++)
		effect(acs, admin[i], NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_FLUSH, NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_READ, NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_WRITE, lbcc);
	effect(iocs, NVME_CMD_WRITE_ZEROES, lbcc);
	effect(iocs, NVME_CMD_DSM, lbcc);
	effect(iocs, NVME_CMD_COMPARE, NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_VERIFY, NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_RESV_REGISTER, NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_RESV_REPORT, NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_RESV_ACQUIRE, NVME_CMD_EFFECTS_CSUPP);
	effect(iocs, NVME_CMD_RESV_RELEASE, NVME_CMD_EFFECTS_CSUPP);
	log_win_put(w, 0, &log, sizeof(log));
	*size = sizeof(log);
	return 0;
}

static nvme_status_t io_log(struct ctrl *c, const struct ctrl_req *r, uint8_t lid,
			    struct log_win *w, uint64_t *size)
{
	uint32_t nsid = le32toh(r->sqe->nsid);

	switch (lid) {
	case NVME_LOG_SUPPORTED:
		*size = log_supported(w);
		return 0;
	case NVME_LOG_ERROR:
		*size = log_error(c, w);
		return 0;
	case NVME_LOG_SMART:
		return log_smart(c, nsid, w, size);
	case NVME_LOG_FW_SLOT:
		*size = log_fw_slot(w);
		return 0;
	case NVME_LOG_CHANGED_NS:
		*size = log_changed_ns(c, w);
		return 0;
	case NVME_LOG_CMD_EFFECTS:
		return log_cmd_effects((uint8_t)(sqe_dw(r->sqe->cdw14) >> 24), w, size);
	case NVME_LOG_ANA:
		/* LSP bit 0: Return Groups Only (Base 5.16.1.12) */
		*size = ana_log_build(
			c, NVMEV(NVME_LOG_LSP, sqe_dw(r->sqe->cdw10)) & NVME_LOG_ANA_LSP_RGO, w);
		return 0;
	case NVMFD_LOG_VS_COUNTERS:
		*size = log_vs_counters(c, w);
		return 0;
	case NVME_LOG_RESERVATION: {
		/* Base 5.16.1.25: each read takes the oldest notification out */
		struct nvme_resv_notif_log e;

		ctrl_resv_log_pop(c, &e);
		log_win_put(w, 0, &e, sizeof(e));
		*size = sizeof(e);
		return 0;
	}
	}
	return SC_INVALID_LOG;
}

/* What reading a log with RAE clear does (Base 5.16: Retain Asynchronous Event). */
static void log_read_done(struct ctrl *c, uint8_t lid, bool rae)
{
	if (rae)
		return;
	if (lid == NVME_LOG_CHANGED_NS) {
		c->nchanged_ns = 0;
		ctrl_aen_log_read(c, AEN_NS_ATTR);
	} else if (lid == NVME_LOG_ANA) {
		ctrl_aen_log_read(c, AEN_ANA_CHANGE);
	} else if (lid == NVME_LOG_DISC) {
		ctrl_aen_log_read(c, AEN_DISC_CHANGE);
	} else if (lid == NVME_LOG_RESERVATION) {
		ctrl_resv_log_read(c);
	} else if (lid == NVME_LOG_SMART) {
		ctrl_aen_log_read(c, AEN_SMART_TEMP);
	}
}

/*
 * CDW10: LID 7:0, LSP 14:8 (the ANA log's RGO; ignored elsewhere: TP 8010's
 * discovery LSP bits are accepted), RAE 15, NUMDL 31:16; CDW11 NUMDU 15:0;
 * CDW12 / CDW13 LPOL / LPOU; CDW14 CSI 31:24.
 */
nvme_status_t admin_get_log_page(struct ctrl *c, struct ctrl_req *r)
{
	uint32_t cdw10 = sqe_dw(r->sqe->cdw10), cdw11 = sqe_dw(r->sqe->cdw11);
	uint64_t numd = (((uint64_t)(cdw11 & 0xffff) << 16) | (cdw10 >> 16)) + 1;
	uint64_t off = sqe_dw(r->sqe->cdw12) | (uint64_t)sqe_dw(r->sqe->cdw13) << 32;
	uint8_t lid = (uint8_t)NVMEV(NVME_LOG_LID, cdw10);
	struct log_win w = {.buf = r->buf, .off = off, .len = r->buf_len};
	uint64_t size = 0;
	nvme_status_t st;

	if (numd * 4 != r->buf_len)
		return SC_SGL_LENGTH;
	/* "The offset shall be dword aligned" */
	if (off & 3)
		return SC_INVALID_FIELD;
	memset(r->buf, 0, r->buf_len);
	if (ctrl_is_disc(c)) {
		if (lid != NVME_LOG_DISC)
			return SC_INVALID_LOG;
		size = disc_log_build(c, &w);
		st = 0;
	} else {
		st = io_log(c, r, lid, &w, &size);
	}
	if (st)
		return st;
	/* Base 5.16: an offset beyond the log's size is Invalid Field in Command */
	if (off > size) {
		memset(r->buf, 0, r->buf_len);
		return SC_INVALID_FIELD;
	}
	log_read_done(c, lid, cdw10 & NVME_LOG_RAE);
	r->out_len = r->buf_len;
	return 0;
}
