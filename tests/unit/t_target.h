/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A hand-built target for the controller tests: no files, no backends.
 *
 *   subsystem NQN_A (any host): namespaces 1 (1 GiB of 512-byte blocks),
 *     2 (read-only, 4 KiB blocks), 5 (small): NN = 5, 3 and 4 inactive
 *   subsystem NQN_B: only HOST_A may connect, no namespaces
 *   listeners: 0 = 0.0.0.0:4420, 1 = 192.0.2.1:4421, 2 = [::]:4420,
 *              3 = 0.0.0.0:8009 discovery_only; cfg.discovery = no
 *   limits: io_qdepth 128, max_io_queues 8, mdts_bytes 128 KiB (MDTS 5),
 *           io_icd 8192, kato_default 120 s, cap_to 30, 2 workers
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ctrl.h"

#define NQN_A  "nqn.2026-11.io.nvmfd:a"
#define NQN_B  "nqn.2026-11.io.nvmfd:b"
#define HOST_A "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define HOST_B "nqn.2014-08.org.nvmexpress:uuid:66666666-7777-8888-9999-000000000000"

#define T_NWORKERS	  2
#define T_NS1_BLOCKS	  (1ULL << 21)
#define T_NS5_DISCARD_MAX (4ULL << 20) /* bytes: ns 5 is a device that discards this at once */
#define T_NS2_BLOCKS	  1000ULL
#define T_NS5_BLOCKS	  64ULL

struct t_fixture {
	struct target t;
	struct cfg_config cfg;
	struct cfg_listener listeners[4];
	struct subsys a, b; /* their tables are allocated (freed by t_fixture_fini) */
	struct ns ns[3];
	struct ns_stats stats[3][T_NWORKERS];
	struct conn_info ci;
	uint8_t hostid[16];
	/* AERs completed through aer_fn */
	unsigned int naer_done;
	uint16_t aer_cid[8];
	uint32_t aer_dw0[8];
};

void t_fixture_init(struct t_fixture *f);
/* Drops every controller still registered (as their admin queues closing would). */
void t_fixture_fini(struct t_fixture *f);

/* Connect with the given fields; hostid is f->hostid. */
nvme_status_t t_connect(struct t_fixture *f, const char *subnqn, const char *hostnqn, uint16_t qid,
			uint16_t sqsize, uint16_t cntlid, uint32_t kato, uint32_t *dw0,
			struct ctrl **out);
