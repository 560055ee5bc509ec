/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Names for NVMe completion status values (NVMe Base 2.0 Figures 102-104,
 * NVM Command Set 1.0 Figure 20, NVMe-oF 1.1 Figure 21).
 *
 * Status Code Type 1 (command specific) is ambiguous: 0x80-0x85 mean one
 * thing for an NVM I/O command (e.g. 0x82 Attempted Write to Read Only
 * Range) and another for a Fabrics command (0x82 Connect Invalid
 * Parameters). Callers say which kind of command completed.
 */
#pragma once

#include <endian.h>
#include <stdbool.h>

#include "nvme_spec.h"

enum nvme_status_ctx {
	NVME_STATUS_CTX_IO = 0,	 /* NVM command set I/O command */
	NVME_STATUS_CTX_ADMIN,	 /* admin command (incl. Get Log Page on discovery) */
	NVME_STATUS_CTX_FABRICS, /* Fabrics command (opcode 7Fh): Connect, Property Get/Set */
};

/* The context for the command in sqe, sent on an admin (qid 0) or I/O queue. */
enum nvme_status_ctx nvme_status_ctx_of(const struct nvme_sqe *sqe, bool admin_queue);

/* The bare name ("Connect Invalid Host"), or NULL if the value has none. */
const char *nvme_status_name(nvme_status_t status, enum nvme_status_ctx ctx);

/*
 * "Name (sct 1 sc 0x84)"; "Unknown status (sct 1 sc 0x99)" for values
 * without a name. The string lives in a small per-thread ring of buffers:
 * it stays valid for the next three calls in the same thread (so a few
 * may be used in one printf).
 */
const char *nvme_status_str_ctx(nvme_status_t status, enum nvme_status_ctx ctx);

/* nvme_status_str_ctx() for an I/O or admin command. */
const char *nvme_status_str(nvme_status_t status);

/* nvme_status_str_ctx() for a Fabrics command (Connect, Property Get/Set). */
const char *nvme_status_str_fabrics(nvme_status_t status);

/* The status field of a received CQE (phase bit dropped). */
static inline nvme_status_t nvme_cqe_status(const struct nvme_cqe *cqe)
{
	return (nvme_status_t)(le16toh(cqe->status) >> 1);
}
