/* SPDX-License-Identifier: BSD-2-Clause */
/* cmocka helpers on the hand-built target of t_target.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "t_sqe.h"
#include "t_target.h"

/* An admin Connect that must succeed, then CC = IOSQES 6, IOCQES 4, EN 1. */
struct ctrl *t_admin(struct t_fixture *f, const char *subnqn, const char *hostnqn, uint32_t kato);

/* Drop the admin queue and its reference. */
void t_admin_gone(struct ctrl *c);

/* Execute on c with a buffer of len bytes; returns the status, r kept in *out. */
nvme_status_t t_exec(struct ctrl *c, const struct nvme_sqe *sqe, void *buf, uint32_t len,
		     struct ctrl_req *out);

/* Fabrics Property Set of a 4-byte property / Property Get. */
nvme_status_t t_prop_set(struct ctrl *c, uint32_t ofst, uint32_t value);
nvme_status_t t_prop_get(struct ctrl *c, uint32_t ofst, unsigned int size, uint64_t *value);

/* Get Log Page: lid, nsid, offset, length in bytes (a multiple of 4), RAE. */
nvme_status_t t_get_log(struct ctrl *c, uint8_t lid, uint32_t nsid, uint64_t off, void *buf,
			uint32_t len, bool rae);

/* Identify into a 4 KiB buffer. */
nvme_status_t t_identify(struct ctrl *c, uint8_t cns, uint32_t nsid, uint32_t cdw11, void *buf);

uint16_t t_le16(const void *p);
uint32_t t_le32(const void *p);
uint64_t t_le64(const void *p);

/* SCT / SC of a status, without DNR, and its DNR bit. */
#define T_CODE(st)    ((st) & 0x7ff)
#define T_DNR(st)     (((st) & NVME_STATUS_DNR) != 0)
#define T_ST(sct, sc) NVME_STATUS(NVME_SCT_##sct, NVME_SC_##sc)
