/* SPDX-License-Identifier: BSD-2-Clause */
/* The host tools' printers (nvmfdd, nvmf-stat, nvmf-perf). */
#pragma once

#include <stdint.h>

#include "nvmf.h"

/* show.c: human-readable output on stdout, nvme-cli style "key : value". */
void show_ctrl(const struct nvme_id_ctrl *c);
void show_ns(uint32_t nsid, const struct nvme_id_ns *ns, const uint8_t *descs);
void show_ns_list(const uint32_t *list);
void show_disc_log(struct nvmf_disc_log_hdr *log);

/* The LBA data size of a namespace in bytes, 0 if unusable (*why says why). */
uint32_t ns_block_size(const struct nvme_id_ns *ns, const char **why);
