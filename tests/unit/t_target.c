/* SPDX-License-Identifier: BSD-2-Clause */
/* The hand-built target of t_target.h (no cmocka: the fuzz targets use it too). */
#include "t_target.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "range_lock.h"
#include "resv_ns.h"
#include "t_sqe.h"

static void ns_init(struct t_fixture *f, int i, uint32_t nsid, uint64_t blocks, uint32_t shift,
		    bool ro)
{
	struct ns *ns = &f->ns[i];

	ns->nsid = nsid;
	ns->nsze = blocks;
	ns->lba_shift = shift;
	ns->read_only = ro;
	for (int k = 0; k < 16; k++) {
		ns->nguid[k] = (uint8_t)(0x10 * nsid + k);
		ns->uuid[k] = (uint8_t)(0x80 + 0x10 * nsid + k);
	}
	for (int k = 0; k < 8; k++)
		ns->eui64[k] = (uint8_t)(0x40 + nsid + k);
	ns->stats = f->stats[i];
	ns->file_slot = -1;
	ns->resv = resv_ns_new();
	ns->rl = range_lock_new();
	if (ns->resv == NULL || ns->rl == NULL)
		abort();
}

static void listener(struct t_fixture *f, int i, const char *host, uint16_t port, bool disc)
{
	snprintf(f->listeners[i].host, sizeof(f->listeners[i].host), "%s", host);
	f->listeners[i].port = port;
	f->listeners[i].discovery_only = disc;
}

void t_fixture_init(struct t_fixture *f)
{
	struct target *t = &f->t;
	struct subsys_table *st;
	struct ns_table *ant;
	struct host_list *ah, *bh, *dh;

	memset(f, 0, sizeof(*f));
	log_level = LOGL_WARN; /* refusals are worth seeing; each controller's life is not */
	listener(f, 0, "0.0.0.0", 4420, false);
	listener(f, 1, "192.0.2.1", 4421, false);
	listener(f, 2, "::", 4420, false);
	listener(f, 3, "0.0.0.0", 8009, true);
	f->cfg.listeners = f->listeners;
	f->cfg.nlisteners = 4;

	snprintf(f->a.nqn, sizeof(f->a.nqn), "%s", NQN_A);
	snprintf(f->a.serial, sizeof(f->a.serial), "SERIAL-A");
	snprintf(f->a.model, sizeof(f->a.model), "nvmfd test");
	ns_init(f, 0, 1, T_NS1_BLOCKS, 9, false);
	ns_init(f, 1, 2, T_NS2_BLOCKS, 12, true);
	ns_init(f, 2, 5, T_NS5_BLOCKS, 9, false);
	/* what backend/ finds: ns 1 a file on a 4 KiB-block file system ... */
	f->ns[0].be.dealloc = BE_DEALLOC_PUNCH;
	f->ns[0].be.lim = (struct be_limits){
		.dealloc_zeroes = true, .dealloc_gran = 4096, .write_gran = 4096};
	/* ... ns 5 a block device that discards T_NS5_DISCARD_MAX bytes at once */
	f->ns[2].be.kind = BE_BLOCK;
	f->ns[2].be.dealloc = BE_DEALLOC_DISCARD;
	f->ns[2].be.lim = (struct be_limits){.dealloc_gran = 65536,
					     .write_gran = 512,
					     .io_opt = 131072,
					     .dealloc_max = T_NS5_DISCARD_MAX,
					     .zeroes_max = T_NS5_DISCARD_MAX};
	st = subsys_table_alloc(2);
	ant = ns_table_alloc(3);
	ah = host_list_alloc(0);
	bh = host_list_alloc(1);
	if (st == NULL || ant == NULL || ah == NULL || bh == NULL)
		abort();
	for (int i = 0; i < 3; i++)
		ant->ns[i] = &f->ns[i];
	ant->n = 3;
	ah->any = true;
	atomic_init(&f->a.refs, 1);
	pthread_mutex_init(&f->a.resv_slot_lock, NULL);
	atomic_init(&f->a.nst, ant);
	atomic_init(&f->a.hosts, ah);

	snprintf(f->b.nqn, sizeof(f->b.nqn), "%s", NQN_B);
	snprintf(bh->nqn[0], sizeof(bh->nqn[0]), "%s", HOST_A);
	bh->n = 1;
	atomic_init(&f->b.refs, 1);
	pthread_mutex_init(&f->b.resv_slot_lock, NULL);
	atomic_init(&f->b.nst, ns_table_alloc(0));
	atomic_init(&f->b.hosts, bh);

	st->s[0] = &f->a;
	st->s[1] = &f->b;
	st->n = 2;
	atomic_init(&t->cfg, &f->cfg);
	t->nworkers = T_NWORKERS;
	t->power_cycles = 1;
	atomic_init(&t->st, st);
	snprintf(t->disc.nqn, sizeof(t->disc.nqn), "%s", NVMF_DISC_NQN);
	t->disc.discovery = true;
	atomic_init(&t->disc.refs, 1); /* as target_init: never freed */
	dh = host_list_alloc(0);
	if (dh == NULL)
		abort();
	dh->any = true;
	atomic_init(&t->disc.hosts, dh);
	atomic_init(&t->disc.nst, ns_table_alloc(0));
	t->p = (struct target_params){.maxh2cdata = 131072,
				      .io_icd = 8192,
				      .mdts_bytes = 131072,
				      .mdts = 5,
				      .io_qdepth = 128,
				      .max_io_queues = 8,
				      .kato_default_ms = 120000,
				      .cap_to = 30,
				      .conns = {.max_conns = 4096, .max_per_host = 1024},
				      .max_ctrls_per_subsys = TARGET_MAX_CTRLS};
	pthread_mutex_init(&t->lock, NULL);
	t->next_cntlid = 1;
	atomic_store(&t->genctr, 7);

	f->ci.family = AF_INET;
	snprintf(f->ci.local_addr, sizeof(f->ci.local_addr), "10.0.0.5");
	f->ci.local_port = 8009;
	snprintf(f->ci.peer, sizeof(f->ci.peer), "10.0.0.9:51000");
	for (int k = 0; k < 16; k++)
		f->hostid[k] = (uint8_t)(k + 1);
}

void t_fixture_fini(struct t_fixture *f)
{
	for (size_t i = 0; i < TARGET_MAX_CTRLS; i++) {
		struct ctrl *c = f->t.ctrls[i];

		if (c == NULL)
			continue;
		ctrl_get(c);
		ctrl_queue_gone(c, 0);
		ctrl_put(c);
	}
	pthread_mutex_destroy(&f->t.lock);
	for (int i = 0; i < 3; i++) {
		resv_ns_free(f->ns[i].resv);
		range_lock_free(f->ns[i].rl);
	}
	/* the subsystems are the fixture's: their tables are freed here, not by subsys_put */
	free(atomic_load(&f->a.nst));
	free(atomic_load(&f->a.hosts));
	free(atomic_load(&f->b.nst));
	free(atomic_load(&f->b.hosts));
	free(atomic_load(&f->t.disc.nst));
	free(atomic_load(&f->t.disc.hosts));
	free(atomic_load(&f->t.st));
}

nvme_status_t t_connect(struct t_fixture *f, const char *subnqn, const char *hostnqn, uint16_t qid,
			uint16_t sqsize, uint16_t cntlid, uint32_t kato, uint32_t *dw0,
			struct ctrl **out)
{
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data data;

	t_connect_build(&cmd, &data, subnqn, hostnqn, f->hostid, qid, sqsize, cntlid, kato);
	return ctrl_connect(&f->t, &cmd, &data, &f->ci, 1000, dw0, out);
}
