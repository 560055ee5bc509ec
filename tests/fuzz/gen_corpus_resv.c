/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writes the seed corpus of fuzz_resv into the directory given: command
 * sequences of four hosts through every reservation type (register,
 * acquire, preempt, preempt and abort, release, clear, report, CPTPL,
 * IEKEY, errors) and state files (good, damaged). Run by hand (or `meson
 * compile fuzz-corpus-resv`); the output is committed in corpus/resv/.
 */
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "fuzz_resv.h"
#include "gen_corpus_util.h"
#include "resv.h"

static struct gen_seed S;

static void rec(uint8_t host, uint8_t op, uint32_t cdw10, uint32_t cdw11, uint64_t k1, uint64_t k2,
		uint8_t len)
{
	uint8_t r[RF_REC_LEN];

	memset(r, 0, sizeof(r));
	r[0] = host;
	r[1] = op;
	put_le32(r + 2, cdw10);
	put_le32(r + 6, cdw11);
	r[10] = len;
	put_le64(r + 11, k1);
	put_le64(r + 19, k2);
	gen_put(&S, r, sizeof(r));
}

static void start(uint8_t mode)
{
	memset(&S, 0, sizeof(S));
	gen_put(&S, &mode, 1);
}

#define REG(h, a, cr, nr, fl) rec(h, RF_REGISTER, (a) | (fl), 0, cr, nr, 16)
#define ACQ(h, a, t, cr, pr)  rec(h, RF_ACQUIRE, (a) | (uint32_t)(t) << 8, 0, cr, pr, 16)
#define REL(h, a, t, cr)      rec(h, RF_RELEASE, (a) | (uint32_t)(t) << 8, 0, cr, 0, 8)
#define REPORT(h, eds)	      rec(h, RF_REPORT + RF_NOPS * 20, 0, eds, 0, 0, 0)

int main(int argc, char **argv)
{
	char name[64];

	if (gen_args(argc, argv))
		return 1;
	for (uint8_t t = NVME_RTYPE_WE; t <= NVME_RTYPE_EA_AR; t++) {
		start(RF_CMDS);
		REG(0, NVME_RREGA_REGISTER, 0, 10, 3u << 30);
		REG(1, NVME_RREGA_REGISTER, 0, 20, 0);
		REG(2, NVME_RREGA_REGISTER, 0, 30, 0);
		ACQ(0, NVME_RACQA_ACQUIRE, t, 10, 0);
		REPORT(1, 1);
		ACQ(1, NVME_RACQA_PREEMPT, t, 20, 10);
		ACQ(2, NVME_RACQA_PREEMPT_ABORT, NVME_RTYPE_EA, 30, t >= 5 ? 0 : 20);
		REG(3, NVME_RREGA_REPLACE, 0, 40, NVME_RESV_IEKEY);
		REL(2, NVME_RRELA_RELEASE, NVME_RTYPE_EA, 30);
		REG(3, NVME_RREGA_UNREGISTER, 40, 0, 0);
		REPORT(0, 0);
		REL(1, NVME_RRELA_CLEAR, 0, 20);
		snprintf(name, sizeof(name), "type%u", t);
		gen_save(&S, name);
	}
	start(RF_CMDS);
	REG(0, 3, 0, 1, 0);
	REG(0, NVME_RREGA_REGISTER, 0, 1, 1u << 30);
	ACQ(0, NVME_RACQA_ACQUIRE | NVME_RESV_IEKEY, 1, 1, 0);
	ACQ(0, NVME_RACQA_ACQUIRE, 9, 1, 0);
	rec(0, RF_REGISTER, 0, 0, 1, 2, 4); /* short data */
	REL(0, 5, 1, 1);
	gen_save(&S, "errors");
	/* state files */
	{
		struct resv_state st;
		struct resv_effects eff;
		struct nvme_resv_register_data d = {htole64(0), htole64(0x1234)};
		char buf[RESV_FILE_MAX];
		int n;

		resv_init(&st);
		resv_register(&st, (const uint8_t[16]){1}, 3u << 30, &d, sizeof(d), &eff);
		resv_register(&st, (const uint8_t[16]){2}, 0, &d, sizeof(d), &eff);
		n = resv_encode(&st, RF_NQN, RF_NSID, 5, buf, sizeof(buf));
		start(RF_FILE);
		gen_put(&S, buf, (size_t)n);
		gen_save(&S, "file-ok");
		buf[n / 2] ^= 0x20;
		start(RF_FILE);
		gen_put(&S, buf, (size_t)n);
		gen_save(&S, "file-damaged");
		start(RF_FILE);
		gen_put(&S, buf, (size_t)n / 3);
		gen_save(&S, "file-truncated");
	}
	return 0;
}
