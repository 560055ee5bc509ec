/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon/core/resv.c (reservations, the pure logic) and range_lock.c:
 * the access table of every type for holders, registrants and others,
 * reads and writes, and the access word agreeing with it; Register,
 * Acquire (acquire, preempt, preempt and abort), Release (release,
 * clear) with their notifications; the report encoding; the state file's
 * round trip and its checks; the LBA range lock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "byteorder.h"
#include "range_lock.h"
#include "resv.h"

#define OK	 0
#define CONFLICT (NVME_SC_DNR(GENERIC, RESERVATION_CONFLICT))
#define INVALID	 (NVME_SC_DNR(GENERIC, INVALID_FIELD))
#define NQN	 "nqn.2026-11.io.nvmfd:t"

static const uint8_t H1[16] = {1}, H2[16] = {2}, H3[16] = {3};

static struct resv_state S;
static struct resv_effects E;

static nvme_status_t reg(const uint8_t *h, uint32_t rrega, uint64_t crkey, uint64_t nrkey,
			 uint32_t flags)
{
	struct nvme_resv_register_data d = {htole64(crkey), htole64(nrkey)};

	return resv_register(&S, h, rrega | flags, &d, sizeof(d), &E);
}

static nvme_status_t acq(const uint8_t *h, uint32_t racqa, uint8_t rtype, uint64_t crkey,
			 uint64_t prkey)
{
	struct nvme_resv_acquire_data d = {htole64(crkey), htole64(prkey)};

	return resv_acquire(&S, h, racqa | (uint32_t)rtype << 8, &d, sizeof(d), &E);
}

static nvme_status_t rel(const uint8_t *h, uint32_t rrela, uint8_t rtype, uint64_t crkey)
{
	struct nvme_resv_release_data d = {htole64(crkey)};

	return resv_release(&S, h, rrela | (uint32_t)rtype << 8, &d, sizeof(d), &E);
}

static int slot_of(void *arg, const uint8_t hostid[16])
{
	(void)arg;
	return hostid[0]; /* H1 -> 1 ... */
}

/* Did the last command notify host h of type t? */
static bool event(const uint8_t *h, uint8_t t)
{
	for (unsigned int i = 0; i < E.nev; i++)
		if (memcmp(E.ev[i].hostid, h, 16) == 0 && E.ev[i].type == t)
			return true;
	return false;
}

static int setup(void **state)
{
	(void)state;
	resv_init(&S);
	memset(&E, 0, sizeof(E));
	return 0;
}

/*
 * NVMe Base 2.0 8.19, "Command Behavior in the Presence of a Reservation":
 * [type][who][group] where who is 0 holder, 1 registrant, 2 other; group 0
 * read, 1 write. 1 = allowed.
 */
static const bool TABLE[7][3][2] = {
	[NVME_RTYPE_WE] = {{1, 1}, {1, 0}, {1, 0}},
	[NVME_RTYPE_EA] = {{1, 1}, {0, 0}, {0, 0}},
	[NVME_RTYPE_WE_RO] = {{1, 1}, {1, 1}, {1, 0}},
	[NVME_RTYPE_EA_RO] = {{1, 1}, {1, 1}, {0, 0}},
	[NVME_RTYPE_WE_AR] = {{1, 1}, {1, 1}, {1, 0}},
	[NVME_RTYPE_EA_AR] = {{1, 1}, {1, 1}, {0, 0}},
};

static void test_access_table(void **state)
{
	(void)state;
	for (uint8_t t = NVME_RTYPE_WE; t <= NVME_RTYPE_EA_AR; t++) {
		bool ar = t == NVME_RTYPE_WE_AR || t == NVME_RTYPE_EA_AR;

		setup(NULL);
		assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 11, 0), OK);
		assert_int_equal(reg(H2, NVME_RREGA_REGISTER, 0, 22, 0), OK);
		assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, t, 11, 0), OK);
		for (int g = 0; g < 2; g++) {
			enum resv_group grp = g ? RESV_GROUP_WRITE : RESV_GROUP_READ;
			uint64_t w = resv_word(&S, slot_of, NULL);

			/* H1 holds; H2 is a registrant (a holder too with All Registrants) */
			assert_int_equal(resv_allows(&S, H1, grp), TABLE[t][0][g]);
			assert_int_equal(resv_allows(&S, H2, grp), TABLE[t][ar ? 0 : 1][g]);
			assert_int_equal(resv_allows(&S, H3, grp), TABLE[t][2][g]);
			assert_int_equal(resv_word_allows(w, 1, grp), TABLE[t][0][g]);
			assert_int_equal(resv_word_allows(w, 2, grp), TABLE[t][ar ? 0 : 1][g]);
			assert_int_equal(resv_word_allows(w, 3, grp), TABLE[t][2][g]);
			assert_int_equal(resv_word_allows(w, RESV_NO_SLOT, grp), TABLE[t][2][g]);
			/* reservation commands and admin ones are never refused */
			assert_true(resv_allows(&S, H3, RESV_GROUP_NONE));
		}
		/* the type itself, for a holder, registrant, other */
		for (int who = 0; who < 3; who++)
			for (int g = 0; g < 2; g++)
				assert_int_equal(
					resv_type_allows(t, who < 2, who == 0,
							 g ? RESV_GROUP_WRITE : RESV_GROUP_READ),
					TABLE[t][who][g]);
	}
	/* no reservation: anything, and a word of 0 */
	setup(NULL);
	assert_int_equal(resv_word(&S, slot_of, NULL), 0);
	assert_true(resv_word_allows(0, RESV_NO_SLOT, RESV_GROUP_WRITE));
	assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 11, 0), OK);
	assert_int_not_equal(resv_word(&S, slot_of, NULL), 0); /* registered: nonzero */
	assert_true(resv_allows(&S, H3, RESV_GROUP_WRITE));
	/* the command groups */
	assert_int_equal(resv_group_of(NVME_CMD_READ), RESV_GROUP_READ);
	assert_int_equal(resv_group_of(NVME_CMD_COMPARE), RESV_GROUP_READ);
	assert_int_equal(resv_group_of(NVME_CMD_VERIFY), RESV_GROUP_READ);
	assert_int_equal(resv_group_of(NVME_CMD_WRITE), RESV_GROUP_WRITE);
	assert_int_equal(resv_group_of(NVME_CMD_WRITE_ZEROES), RESV_GROUP_WRITE);
	assert_int_equal(resv_group_of(NVME_CMD_DSM), RESV_GROUP_WRITE);
	assert_int_equal(resv_group_of(NVME_CMD_FLUSH), RESV_GROUP_WRITE);
	assert_int_equal(resv_group_of(NVME_CMD_RESV_ACQUIRE), RESV_GROUP_NONE);
}

static void test_register(void **state)
{
	uint8_t short_data[8] = {0};

	(void)state;
	assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 11, 0), OK);
	assert_int_equal(S.gen, 1);
	assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 11, 0), OK); /* same key: fine */
	assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 12, 0), CONFLICT);
	assert_int_equal(reg(H1, NVME_RREGA_REPLACE, 99, 12, 0), CONFLICT);
	assert_int_equal(reg(H1, NVME_RREGA_REPLACE, 11, 12, 0), OK);
	assert_int_equal(S.regs[0].rkey, 12);
	assert_int_equal(reg(H1, NVME_RREGA_REPLACE, 99, 13, NVME_RESV_IEKEY), OK);
	assert_int_equal(S.regs[0].rkey, 13);
	/* Replace with IEKEY registers a host that is not */
	assert_int_equal(reg(H2, NVME_RREGA_REPLACE, 0, 22, 0), CONFLICT);
	assert_int_equal(reg(H2, NVME_RREGA_REPLACE, 0, 22, NVME_RESV_IEKEY), OK);
	assert_int_equal(S.nregs, 2);
	assert_int_equal(reg(H2, NVME_RREGA_UNREGISTER, 99, 0, 0), CONFLICT);
	assert_int_equal(reg(H3, NVME_RREGA_UNREGISTER, 0, 0, NVME_RESV_IEKEY), CONFLICT);
	assert_int_equal(reg(H2, NVME_RREGA_UNREGISTER, 22, 0, 0), OK);
	assert_int_equal(S.nregs, 1);
	/* CPTPL: 10b clears, 11b sets, 01b is reserved; RREGA 3+ reserved */
	assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 13, 3u << 30), OK);
	assert_true(S.ptpl);
	assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 13, 2u << 30), OK);
	assert_false(S.ptpl);
	assert_int_equal(reg(H1, NVME_RREGA_REGISTER, 0, 13, 1u << 30), INVALID);
	assert_int_equal(reg(H1, 3, 0, 13, 0), INVALID);
	assert_int_equal(resv_register(&S, H1, 0, short_data, sizeof(short_data), &E),
			 NVME_SC_DNR(GENERIC, SGL_INVALID_DATA));
	/* a full namespace refuses another host */
	setup(NULL);
	for (int i = 0; i < RESV_MAX_HOSTS; i++) {
		uint8_t h[16] = {(uint8_t)i, 0x55};

		assert_int_equal(reg(h, NVME_RREGA_REGISTER, 0, 1, 0), OK);
	}
	assert_int_equal(reg(H3, NVME_RREGA_REGISTER, 0, 1, 0), NVME_SC_DNR(GENERIC, INTERNAL));
}

static void test_acquire_release(void **state)
{
	(void)state;
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, 11, 0),
			 CONFLICT); /* not reg. */
	reg(H1, NVME_RREGA_REGISTER, 0, 11, 0);
	reg(H2, NVME_RREGA_REGISTER, 0, 22, 0);
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, 7, 11, 0), INVALID);
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE | NVME_RESV_IEKEY, 1, 11, 0), INVALID);
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, 12, 0), CONFLICT); /* key */
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, 11, 0), OK);
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, 11, 0), OK); /* again */
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_EA, 11, 0), CONFLICT);
	assert_int_equal(acq(H2, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, 22, 0), CONFLICT);
	assert_int_equal(S.gen, 2); /* Acquire does not move the generation */
	/* a release by a non-holder does nothing; with the wrong type: Invalid Field */
	assert_int_equal(rel(H2, NVME_RRELA_RELEASE, NVME_RTYPE_WE, 22), OK);
	assert_int_equal(S.rtype, NVME_RTYPE_WE);
	assert_int_equal(rel(H1, NVME_RRELA_RELEASE, NVME_RTYPE_EA, 11), INVALID);
	assert_int_equal(rel(H1, NVME_RRELA_RELEASE, NVME_RTYPE_WE, 12), CONFLICT);
	assert_int_equal(rel(H1, NVME_RRELA_RELEASE, NVME_RTYPE_WE, 11), OK);
	assert_int_equal(S.rtype, NVME_RTYPE_NONE);
	assert_int_equal(E.nev, 0); /* Write Exclusive: no Reservation Released */
	/* Registrants Only: the others learn of a release */
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE_RO, 11, 0), OK);
	assert_int_equal(rel(H1, NVME_RRELA_RELEASE, NVME_RTYPE_WE_RO, 11), OK);
	assert_true(event(H2, NVME_RESV_LOG_RELEASED));
	assert_false(event(H1, NVME_RESV_LOG_RELEASED));
	/* a holder unregistering releases it (Registrants Only: told) */
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_EA_RO, 11, 0), OK);
	assert_int_equal(reg(H1, NVME_RREGA_UNREGISTER, 11, 0, 0), OK);
	assert_int_equal(S.rtype, NVME_RTYPE_NONE);
	assert_true(event(H2, NVME_RESV_LOG_RELEASED));
	/* All Registrants: stays while one is registered; any registrant releases */
	reg(H1, NVME_RREGA_REGISTER, 0, 11, 0);
	assert_int_equal(acq(H2, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE_AR, 22, 0), OK);
	assert_true(resv_holds(&S, resv_find(&S, H1)));
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE_AR, 11, 0), OK);
	assert_int_equal(reg(H2, NVME_RREGA_UNREGISTER, 22, 0, 0), OK);
	assert_int_equal(S.rtype, NVME_RTYPE_WE_AR);
	assert_int_equal(rel(H1, NVME_RRELA_RELEASE, NVME_RTYPE_WE_AR, 11), OK);
	assert_int_equal(S.rtype, NVME_RTYPE_NONE);
	assert_int_equal(acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_EA_AR, 11, 0), OK);
	assert_int_equal(reg(H1, NVME_RREGA_UNREGISTER, 11, 0, 0), OK);
	assert_int_equal(S.rtype, NVME_RTYPE_NONE); /* the last registrant went */
	/* Clear: everything goes; the others are told they were preempted */
	reg(H1, NVME_RREGA_REGISTER, 0, 11, 0);
	reg(H2, NVME_RREGA_REGISTER, 0, 22, 0);
	acq(H2, NVME_RACQA_ACQUIRE, NVME_RTYPE_EA, 22, 0);
	uint32_t gen = S.gen;
	assert_int_equal(rel(H1, NVME_RRELA_CLEAR, 0, 99), CONFLICT);
	assert_int_equal(rel(H1, NVME_RRELA_CLEAR, 0, 11), OK);
	assert_int_equal(S.nregs, 0);
	assert_int_equal(S.rtype, NVME_RTYPE_NONE);
	assert_int_equal(S.gen, gen + 1);
	assert_true(event(H2, NVME_RESV_LOG_PREEMPTED));
	assert_false(event(H1, NVME_RESV_LOG_PREEMPTED));
	assert_int_equal(rel(H1, 2, 0, 11), INVALID);
}

static void test_preempt(void **state)
{
	(void)state;
	reg(H1, NVME_RREGA_REGISTER, 0, 11, 0);
	reg(H2, NVME_RREGA_REGISTER, 0, 22, 0);
	reg(H3, NVME_RREGA_REGISTER, 0, 33, 0);
	/* nothing held: PRKEY names registrations to remove */
	assert_int_equal(acq(H1, NVME_RACQA_PREEMPT, NVME_RTYPE_WE, 11, 99), CONFLICT);
	assert_int_equal(acq(H1, NVME_RACQA_PREEMPT, NVME_RTYPE_WE, 11, 33), OK);
	assert_int_equal(S.nregs, 2);
	assert_int_equal(S.rtype, NVME_RTYPE_NONE);
	assert_true(event(H3, NVME_RESV_LOG_REG_PREEMPTED));
	/* H1 holds WE; H2 preempts with abort, H1's key: H2 holds, H1 gone and aborted */
	reg(H3, NVME_RREGA_REGISTER, 0, 33, 0);
	acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, 11, 0);
	uint32_t gen = S.gen;
	assert_int_equal(acq(H2, NVME_RACQA_PREEMPT, NVME_RTYPE_WE, 22, 0), INVALID); /* PRKEY 0 */
	assert_int_equal(acq(H2, NVME_RACQA_PREEMPT_ABORT, NVME_RTYPE_EA, 22, 11), OK);
	assert_int_equal(S.gen, gen + 1);
	assert_int_equal(S.rtype, NVME_RTYPE_EA);
	assert_int_equal(resv_find(&S, H1), -1);
	assert_true(resv_holds(&S, resv_find(&S, H2)));
	assert_true(event(H1, NVME_RESV_LOG_REG_PREEMPTED));
	assert_true(event(H3, NVME_RESV_LOG_RELEASED)); /* the type changed */
	assert_int_equal(E.nabort, 1);
	assert_memory_equal(E.abort_hostid[0], H1, 16);
	/* a non-holder's key: only that registration goes, the reservation stays */
	assert_int_equal(acq(H2, NVME_RACQA_PREEMPT, NVME_RTYPE_EA, 22, 33), OK);
	assert_int_equal(S.nregs, 1);
	assert_int_equal(S.rtype, NVME_RTYPE_EA);
	assert_int_equal(E.nabort, 0);
	/* the holder preempting itself changes the type */
	assert_int_equal(acq(H2, NVME_RACQA_PREEMPT, NVME_RTYPE_WE, 22, 22), OK);
	assert_int_equal(S.rtype, NVME_RTYPE_WE);
	assert_int_equal(S.nregs, 1);
	/* All Registrants, PRKEY 0: the preempting host keeps it alone */
	setup(NULL);
	reg(H1, NVME_RREGA_REGISTER, 0, 11, 0);
	reg(H2, NVME_RREGA_REGISTER, 0, 22, 0);
	reg(H3, NVME_RREGA_REGISTER, 0, 33, 0);
	acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_EA_AR, 11, 0);
	assert_int_equal(acq(H3, NVME_RACQA_PREEMPT_ABORT, NVME_RTYPE_WE, 33, 0), OK);
	assert_int_equal(S.nregs, 1);
	assert_int_equal(S.rtype, NVME_RTYPE_WE);
	assert_true(resv_holds(&S, resv_find(&S, H3)));
	assert_int_equal(E.nabort, 2);
	assert_true(event(H1, NVME_RESV_LOG_REG_PREEMPTED));
	assert_true(event(H2, NVME_RESV_LOG_REG_PREEMPTED));
	/* All Registrants, a key: those registrations go, the reservation stays */
	setup(NULL);
	reg(H1, NVME_RREGA_REGISTER, 0, 11, 0);
	reg(H2, NVME_RREGA_REGISTER, 0, 22, 0);
	acq(H1, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE_AR, 11, 0);
	assert_int_equal(acq(H1, NVME_RACQA_PREEMPT, NVME_RTYPE_WE_AR, 11, 22), OK);
	assert_int_equal(S.nregs, 1);
	assert_int_equal(S.rtype, NVME_RTYPE_WE_AR);
	/* a failed preempt changes nothing */
	struct resv_state before = S;
	assert_int_equal(acq(H1, NVME_RACQA_PREEMPT, NVME_RTYPE_WE_AR, 11, 99), CONFLICT);
	assert_memory_equal(&before, &S, sizeof(S));
	assert_int_equal(acq(H1, 3, NVME_RTYPE_WE, 11, 0), INVALID);
}

static void test_report(void **state)
{
	uint8_t buf[256];
	size_t n;

	(void)state;
	reg(H1, NVME_RREGA_REGISTER, 0, 0x1111, 3u << 30);
	reg(H2, NVME_RREGA_REGISTER, 0, 0x2222, 0);
	acq(H2, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE_RO, 0x2222, 0);
	assert_int_equal(resv_report(&S, 0, buf, sizeof(buf), &n),
			 NVME_SC_DNR(GENERIC, HOST_ID_INCONSIST));
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(resv_report(&S, NVME_RESV_REPORT_EDS, buf, 192, &n), OK);
	assert_int_equal(n, 192);
	assert_int_equal(get_le32(buf), S.gen);
	assert_int_equal(buf[4], NVME_RTYPE_WE_RO);
	assert_int_equal(get_le16(buf + 5), 2);
	assert_int_equal(buf[9], 1); /* PTPLS */
	assert_int_equal(buf[10], 0);
	assert_int_equal(buf[63], 0);
	/* entry 0: H1, not holding */
	assert_int_equal(get_le16(buf + 64), 0xffff);
	assert_int_equal(buf[66], 0);
	assert_int_equal(get_le64(buf + 72), 0x1111);
	assert_memory_equal(buf + 80, H1, 16);
	/* entry 1: H2, holding */
	assert_int_equal(buf[128 + 2], 1);
	assert_int_equal(get_le64(buf + 128 + 8), 0x2222);
	assert_memory_equal(buf + 128 + 16, H2, 16);
	assert_int_equal(buf[191], 0);
	/* a short buffer: the header, REGCTL still counts everyone */
	assert_int_equal(resv_report(&S, NVME_RESV_REPORT_EDS, buf, 16, &n), OK);
	assert_int_equal(n, 16);
	assert_int_equal(get_le16(buf + 5), 2);
	assert_int_equal(resv_report(&S, NVME_RESV_REPORT_EDS, buf, 100, &n), OK);
	assert_int_equal(n, 100);
}

static void test_file(void **state)
{
	char buf[RESV_FILE_MAX], err[200], bad[RESV_FILE_MAX];
	struct resv_state got;
	uint64_t seq;
	int n;

	(void)state;
	reg(H1, NVME_RREGA_REGISTER, 0, 0x1111, 3u << 30);
	reg(H2, NVME_RREGA_REGISTER, 0, 0xffffffffffffffffull, 0);
	acq(H2, NVME_RACQA_ACQUIRE, NVME_RTYPE_EA, 0xffffffffffffffffull, 0);
	n = resv_encode(&S, NQN, 7, 42, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(resv_decode(buf, (size_t)n, NQN, 7, &got, &seq, err, sizeof(err)), 0);
	assert_int_equal(seq, 42);
	assert_memory_equal(&got, &S, sizeof(S));
	/* another namespace's, another subsystem's */
	assert_int_equal(resv_decode(buf, (size_t)n, NQN, 8, &got, &seq, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "line 3"));
	assert_int_equal(resv_decode(buf, (size_t)n, NQN "x", 7, &got, &seq, err, sizeof(err)),
			 -EINVAL);
	/* truncated, a flipped byte, a later version */
	assert_int_equal(resv_decode(buf, (size_t)n - 10, NQN, 7, &got, &seq, err, sizeof(err)),
			 -EINVAL);
	memcpy(bad, buf, (size_t)n);
	bad[n - 30] ^= 1;
	assert_int_equal(resv_decode(bad, (size_t)n, NQN, 7, &got, &seq, err, sizeof(err)),
			 -EINVAL);
	memcpy(bad, buf, (size_t)n);
	bad[19] = '2';
	assert_int_equal(resv_decode(bad, (size_t)n, NQN, 7, &got, &seq, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "line 1"));
	assert_int_equal(resv_decode("", 0, NQN, 7, &got, &seq, err, sizeof(err)), -EINVAL);
	assert_int_equal(resv_encode(&S, NQN, 7, 42, buf, 64), -ENOSPC);
	/* PTPL off: nothing survives the power loss */
	reg(H1, NVME_RREGA_REGISTER, 0, 0x1111, 2u << 30);
	n = resv_encode(&S, NQN, 7, 43, buf, sizeof(buf));
	assert_int_equal(resv_decode(buf, (size_t)n, NQN, 7, &got, &seq, err, sizeof(err)), 0);
	assert_int_equal(got.nregs, 0);
	assert_int_equal(got.rtype, NVME_RTYPE_NONE);
	assert_false(got.ptpl);
}

static void test_range_lock(void **state)
{
	struct range_lock *rl = range_lock_new();
	const uint64_t MB = 1 << 20;

	(void)state;
	assert_non_null(rl);
	assert_true(range_lock_try(rl, 0, 4096, false));
	assert_true(range_lock_try(rl, 0, 4096, false));      /* writes share */
	assert_false(range_lock_try(rl, 0, 4096, true));      /* Compare and Write waits... */
	assert_false(range_lock_try(rl, 512, 512, false));    /* ...and new writes wait for it */
	assert_true(range_lock_try(rl, 2 * MB, 4096, false)); /* elsewhere: no matter */
	range_unlock(rl, 0, 4096, false);
	range_unlock(rl, 0, 4096, false);
	assert_true(range_lock_try(rl, 0, 4096, true));
	assert_false(range_lock_try(rl, 4096, 4096, false));
	assert_false(range_lock_try(rl, 0, 8192, true));
	range_unlock(rl, 0, 4096, true);
	/* a range over two regions takes both, or none */
	assert_true(range_lock_try(rl, MB, 4096, true));
	assert_false(range_lock_try(rl, MB - 4096, 8192, false));
	assert_true(range_lock_try(rl, MB - 8192, 4096, false)); /* region 0 was not kept */
	range_unlock(rl, MB - 8192, 4096, false);
	range_unlock(rl, MB, 4096, true);
	/* a withdrawn claim lets writes in again */
	assert_true(range_lock_try(rl, 0, 4096, false));
	assert_false(range_lock_try(rl, 0, 4096, true));
	range_lock_cancel(rl, 0, 4096);
	assert_true(range_lock_try(rl, 0, 4096, false));
	range_unlock(rl, 0, 4096, false);
	range_unlock(rl, 0, 4096, false);
	range_unlock(rl, 2 * MB, 4096, false);
	/* huge ranges take every stripe once */
	assert_true(range_lock_try(rl, 0, 1ull << 40, true));
	assert_false(range_lock_try(rl, 123 * MB, 1, false));
	range_unlock(rl, 0, 1ull << 40, true);
	assert_true(range_lock_try(rl, 123 * MB, 1, true));
	range_unlock(rl, 123 * MB, 1, true);
	range_lock_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_access_table, setup),
		cmocka_unit_test_setup(test_register, setup),
		cmocka_unit_test_setup(test_acquire_release, setup),
		cmocka_unit_test_setup(test_preempt, setup),
		cmocka_unit_test_setup(test_report, setup),
		cmocka_unit_test_setup(test_file, setup),
		cmocka_unit_test(test_range_lock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
