/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the controller logic (ctrl.c, admin_cmd.c, admin_identify.c,
 * admin_log.c, discovery.c); not for the connection code, which uses ctrl.h.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ctrl.h"
#include "byteorder.h"

#ifndef NVMFD_VERSION
#define NVMFD_VERSION "0.0.0"
#endif

#define SC_INVALID_FIELD NVME_SC_DNR(GENERIC, INVALID_FIELD)
#define SC_INVALID_NS	 NVME_SC_DNR(GENERIC, INVALID_NS)
#define SC_SGL_LENGTH	 NVME_SC_DNR(GENERIC, SGL_INVALID_DATA) /* Data SGL Length Invalid */
#define SC_INVALID_OPC	 NVME_SC_DNR(GENERIC, INVALID_OPCODE)
#define SC_CMD_SEQ	 NVME_SC_DNR(GENERIC, CMD_SEQ_ERROR)

/* Constants the Identify and SMART data report (documented where used). */
#define CTRL_KAS	  10   /* Keep Alive granularity: 10 x 100 ms = 1 s */
#define CTRL_WCTEMP	  343  /* K: 70 C warning composite temperature threshold */
#define CTRL_CCTEMP	  353  /* K: 80 C critical */
#define CTRL_TEMPERATURE  313  /* K: 40 C, what the SMART log reports (no sensor) */
#define CTRL_DISC_ICD	  8192 /* in-capsule data the Linux host always uses on admin queues */
#define CTRL_KATO_GRAN_MS 1000 /* KATO is rounded up to this (KAS) */

/* Bits of aen_cfg / aen_pending / aen_masked (Set Features 0Bh, OAES). */
#define AEN_NS_ATTR	NVME_CTRL_OAES_NS_ATTR
#define AEN_DISC_CHANGE NVME_CTRL_OAES_DISC_CHANGE
#define AEN_ANA_CHANGE	NVME_CTRL_OAES_ANA_CHANGE

/*
 * ANA (Base 2.0 8.1): the transition time the host waits in the change
 * state before it resets the controller (it doubles it), and the groups.
 */
#define CTRL_ANATT   10 /* seconds */
#define CTRL_ANAGRPS CFG_ANA_GROUPS
#define CTRL_ANACAP                                                                        \
	(NVME_CTRL_ANACAP_OPT | NVME_CTRL_ANACAP_NON_OPT | NVME_CTRL_ANACAP_INACCESSIBLE | \
	 NVME_CTRL_ANACAP_PERSISTENT_LOSS | NVME_CTRL_ANACAP_CHANGE)
#define AEN_SMART_CRIT	0xffu /* critical warning bits 7:0: accepted */
#define AEN_SMART_TEMP	0x02u /* critical warning bit 1 (temperature): raised */
#define SMART_CRIT_TEMP 0x02u /* SMART log critical warning: temperature (Base Figure 207) */
/* Reservation Log Page Available: no bit of 0Bh (82h masks it), so ours alone */
#define AEN_RESV (1u << 29)

/* Copy src into a fixed-size ASCII field, padded with spaces (NVMe Base 2.0 1.5). */
void ascii_pad(char *dst, size_t n, const char *src);

/* A discovery controller (of the discovery subsystem). */
static inline bool ctrl_is_disc(const struct ctrl *c)
{
	return c->subsys->discovery;
}

static inline uint32_t sqe_dw(__le32 v)
{
	return le32toh(v);
}

/*
 * A Get Log Page transfer: the window [off, off + len) of the log, into buf
 * (zeroed by the caller). Builders put each piece at its log offset; what
 * falls outside the window is dropped.
 */
struct log_win {
	uint8_t *buf;
	uint64_t off;
	uint32_t len;
};

void log_win_put(struct log_win *w, uint64_t pos, const void *src, size_t n);

/* admin_identify.c */
nvme_status_t admin_identify(struct ctrl *c, struct ctrl_req *r);

/* admin_features.c: Set / Get Features, the features' defaults */
nvme_status_t admin_set_features(struct ctrl *c, struct ctrl_req *r);
nvme_status_t admin_get_features(struct ctrl *c, struct ctrl_req *r);
/* Every feature admin_features.c keeps back to its default (connect, reset). */
void ctrl_features_reset(struct ctrl *c);
/* The composite temperature is past a threshold of Set Features 04h. */
bool ctrl_temp_warning(const struct ctrl *c);

/* admin_log.c */
nvme_status_t admin_get_log_page(struct ctrl *c, struct ctrl_req *r);

/* fabrics_cmd.c: a Fabrics command (opcode 7Fh) on a connected admin queue. */
nvme_status_t ctrl_fabrics_exec(struct ctrl *c, struct ctrl_req *r);

/* What the SMART / Health log (02h) reports beyond the I/O counters. */
struct smart_life {
	uint64_t power_cycles;
	uint64_t power_on_hours;
	uint64_t unsafe_shutdowns;
	uint64_t err_entries;
};

void smart_fill(struct nvme_smart_log *log, const struct smart_counts *sc,
		const struct smart_life *life);

/* ana_log.c: the ANA log page (0Ch) into w (rgo: groups only); returns its size. */
uint64_t ana_log_build(const struct ctrl *c, bool rgo, struct log_win *w);

/* discovery.c: builds the Discovery log page (70h) into w; returns the log's size. */
uint64_t disc_log_build(const struct ctrl *c, struct log_win *w);

/* ctrl.c */
/* The error log (01h): entries newest first, CTRL_ERROR_LOG_ENTRIES of them. */
void ctrl_error_log_copy(struct ctrl *c, struct nvme_error_log_entry *out);
/* Controller reset (CC.EN 1 -> 0): I/O queues close, features go back to defaults. */
void ctrl_reset(struct ctrl *c);
/* A ready event (pending, enabled, not masked) for an AER: masks it, gives dw0. */
bool ctrl_aen_take(struct ctrl *c, uint32_t *result);
/* A SMART / Health event (AEN_SMART_*): reported if the host enabled it (0Bh). */
void ctrl_notify_smart(struct ctrl *c, uint32_t bit);
/* The host read a log page with RAE clear: the event type may be reported again. */
void ctrl_aen_log_read(struct ctrl *c, uint32_t aen_bit);
/* Reservation notifications (80h): the oldest entry out into *e (type 0: none). */
void ctrl_resv_log_pop(struct ctrl *c, struct nvme_resv_notif_log *e);
/* Log 80h read with RAE clear: the event may come again (at once if entries are left). */
void ctrl_resv_log_read(struct ctrl *c);
/* Feature 82h of nsid (FFFFFFFFh: every namespace, on Set). */
uint8_t ctrl_resv_mask(struct ctrl *c, uint32_t nsid);
nvme_status_t ctrl_resv_mask_set(struct ctrl *c, uint32_t nsid, uint8_t mask);
/* KATO in ms as the controller keeps it: rounded up to the KAS granularity. */
uint32_t ctrl_kato_round(uint32_t kato_ms);
