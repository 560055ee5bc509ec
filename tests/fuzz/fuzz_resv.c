/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the reservation commands' decoding and state machine
 * (daemon/core/resv.c) from four hosts, and the state file's parser. After
 * every command the state must be one the specification allows (a holder
 * that is a registrant, no host twice, a type only with registrants), a
 * refused command must change nothing, the access word must agree with the
 * access table for every host and command group, the report must stay in
 * its buffer, and the state file must give the state back.
 */
#include <string.h>

#include "byteorder.h"
#include "fuzz_resv.h"
#include "fuzz_target.h"
#include "resv.h"

static const uint8_t HOSTS[RF_HOSTS][16] = {{1}, {2}, {3}, {4, 4, 4}};

static int slot_of(void *arg, const uint8_t hostid[16])
{
	(void)arg;
	for (int i = 0; i < RF_HOSTS; i++)
		if (memcmp(HOSTS[i], hostid, 16) == 0)
			return i;
	return RESV_NO_SLOT;
}

static void check_state(const struct resv_state *s)
{
	uint64_t w = resv_word(s, slot_of, NULL);

	CHECK(s->nregs <= RESV_MAX_HOSTS);
	CHECK(s->rtype <= NVME_RTYPE_EA_AR);
	if (s->rtype != NVME_RTYPE_NONE)
		CHECK(s->nregs > 0);
	if (s->rtype >= NVME_RTYPE_WE && s->rtype <= NVME_RTYPE_EA_RO)
		CHECK(s->holder >= 0 && (uint32_t)s->holder < s->nregs);
	else
		CHECK(s->holder == -1);
	for (uint32_t i = 0; i < s->nregs; i++)
		for (uint32_t j = i + 1; j < s->nregs; j++)
			CHECK(memcmp(s->regs[i].hostid, s->regs[j].hostid, 16) != 0);
	for (int h = 0; h < RF_HOSTS; h++)
		for (int g = RESV_GROUP_NONE; g <= RESV_GROUP_WRITE; g++)
			CHECK(resv_word_allows(w, h, (enum resv_group)g) ==
			      resv_allows(s, HOSTS[h], (enum resv_group)g));
}

static void check_file(const struct resv_state *s)
{
	static char buf[RESV_FILE_MAX];
	struct resv_state got;
	char err[200];
	uint64_t seq;
	int n = resv_encode(s, RF_NQN, RF_NSID, 9, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK(resv_decode(buf, (size_t)n, RF_NQN, RF_NSID, &got, &seq, err, sizeof(err)) == 0);
	CHECK(seq == 9 && got.ptpl == s->ptpl && got.gen == s->gen);
	if (s->ptpl) {
		CHECK(got.rtype == s->rtype && got.holder == s->holder && got.nregs == s->nregs);
		CHECK(memcmp(got.regs, s->regs, s->nregs * sizeof(s->regs[0])) == 0);
	}
}

static void run_cmds(const uint8_t *data, size_t size)
{
	static struct resv_state s, before;
	static struct resv_effects eff;
	static uint8_t report[4096 + 8];

	resv_init(&s);
	for (; size >= RF_REC_LEN; data += RF_REC_LEN, size -= RF_REC_LEN) {
		const uint8_t *h = HOSTS[data[0] % RF_HOSTS];
		uint32_t cdw10 = get_le32(data + 2), cdw11 = get_le32(data + 6);
		size_t len = data[10] % 17;
		const uint8_t *d = data + 11;
		nvme_status_t st = 0;
		size_t out;

		before = s;
		switch (data[1] % RF_NOPS) {
		case RF_REGISTER:
			st = resv_register(&s, h, cdw10, d, len, &eff);
			break;
		case RF_ACQUIRE:
			st = resv_acquire(&s, h, cdw10, d, len, &eff);
			break;
		case RF_RELEASE:
			st = resv_release(&s, h, cdw10, d, len, &eff);
			break;
		default: {
			size_t n = (size_t)(data[1] / RF_NOPS) * 17 % 4096;

			memset(report + n, 0xa5, 8);
			st = resv_report(&s, cdw11, report, n, &out);
			CHECK(out <= n);
			CHECK(report[n] == 0xa5); /* nothing past the buffer */
			CHECK(memcmp(&before, &s, sizeof(s)) == 0);
			break;
		}
		}
		if (st != 0)
			CHECK(memcmp(&before, &s, sizeof(s)) == 0);
		else
			CHECK(eff.nev <= RESV_MAX_EVENTS && eff.nabort <= RESV_MAX_HOSTS);
		check_state(&s);
	}
	check_file(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resv_state s;
	char err[200];
	uint64_t seq;

	if (size < 1)
		return 0;
	if (data[0] == RF_FILE) {
		if (resv_decode((const char *)data + 1, size - 1, RF_NQN, RF_NSID, &s, &seq, err,
				sizeof(err)) == 0) {
			check_state(&s);
			check_file(&s);
		} else {
			CHECK(err[0] != '\0');
		}
		return 0;
	}
	run_cmds(data + 1, size - 1);
	return 0;
}
