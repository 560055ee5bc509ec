/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reservations of one namespace, the pure logic (NVMe Base 2.0 8.19, the
 * Reservation Register / Acquire / Release / Report commands of 7.2-7.5):
 * registrants by Host Identifier, the holder, the type, the generation,
 * which command groups the type lets each host run, the Reservation Status
 * data structures, and the state file's text form. No I/O, no locks: the
 * caller (resv_ns.c) serialises changes and publishes them.
 *
 * A host is its 128-bit Host Identifier (the Connect data's HOSTID): all of
 * its controllers share its registration (8.19.1).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_spec.h"
#include "nvmf_spec.h"

/*
 * Registrants per namespace, and distinct registered hosts per subsystem
 * in one run: a host's slot is a bit of the access word (resv_word()).
 */
#define RESV_MAX_HOSTS	55
#define RESV_MAX_EVENTS (2 * RESV_MAX_HOSTS)
#define RESV_NO_SLOT	(-1)

struct resv_reg {
	uint8_t hostid[16];
	uint64_t rkey;
};

struct resv_state {
	uint32_t gen;	/* PRGEN: Register, Preempt, Clear that succeeded */
	uint8_t rtype;	/* NVME_RTYPE_*; NONE: no reservation */
	bool ptpl;	/* Persist Through Power Loss (CPTPL, feature 83h) */
	int holder;	/* index in regs (types 1-4); -1: none, or every registrant (5, 6) */
	uint32_t nregs; /* in registration order */
	struct resv_reg regs[RESV_MAX_HOSTS];
};

/* A notification for every controller of one host (log page 80h, 8.19.3). */
struct resv_event {
	uint8_t hostid[16];
	uint8_t type; /* NVME_RESV_LOG_* */
};

/* What a command did beyond its status: notifications, hosts to abort. */
struct resv_effects {
	bool changed; /* the state changed: persist, then publish */
	unsigned int nev;
	struct resv_event ev[RESV_MAX_EVENTS];
	unsigned int nabort; /* Preempt and Abort: the preempted hosts */
	uint8_t abort_hostid[RESV_MAX_HOSTS][16];
};

void resv_init(struct resv_state *s);

/*
 * The commands. hostid is the issuing controller's host; data the command's
 * data (len bytes as received: too short is Data SGL Length Invalid). On
 * success *s is changed as the specification says and *eff tells the rest;
 * on failure *s is as it was.
 */
nvme_status_t resv_register(struct resv_state *s, const uint8_t hostid[16], uint32_t cdw10,
			    const void *data, size_t len, struct resv_effects *eff);
nvme_status_t resv_acquire(struct resv_state *s, const uint8_t hostid[16], uint32_t cdw10,
			   const void *data, size_t len, struct resv_effects *eff);
nvme_status_t resv_release(struct resv_state *s, const uint8_t hostid[16], uint32_t cdw10,
			   const void *data, size_t len, struct resv_effects *eff);
/*
 * Reservation Report into buf (len bytes: what NUMD and the SGL allow; the
 * rest is dropped, REGCTL still counts every registrant). EDS clear asks
 * for 64-bit Host Identifiers, which a host with a 128-bit one (every
 * Fabrics host) gets Host Identifier Inconsistent Format for (7.5).
 * *out_len: bytes produced.
 */
nvme_status_t resv_report(const struct resv_state *s, uint32_t cdw11, void *buf, size_t len,
			  size_t *out_len);

/* The command groups of Base 8.19 "Command Behavior in the Presence of a Reservation". */
enum resv_group {
	RESV_GROUP_NONE,  /* not affected (reservation commands, admin) */
	RESV_GROUP_READ,  /* Read, Compare, Verify */
	RESV_GROUP_WRITE, /* Write, Write Zeroes, Dataset Management, Flush */
};
enum resv_group resv_group_of(uint8_t opc);

/*
 * The access table: may a host that is (or is not) a registrant, and that
 * holds (or does not hold) the reservation of type rtype, run a command
 * of group g? holder implies registrant.
 */
bool resv_type_allows(uint8_t rtype, bool registrant, bool holder, enum resv_group g);

/* The registrant index of hostid, or -1; whether it holds the reservation. */
int resv_find(const struct resv_state *s, const uint8_t hostid[16]);
bool resv_holds(const struct resv_state *s, int idx);
/* The table applied to a state (unit tests, and the word's reference). */
bool resv_allows(const struct resv_state *s, const uint8_t hostid[16], enum resv_group g);

/*
 * The access word the I/O path reads with one atomic load: 0 when nobody
 * is registered and nothing is reserved (every command allowed); else
 * bits 0-54 the registered hosts' slots, 55-60 the holder's slot (63:
 * none), 61-63 the type. slot_of gives a registrant's slot (< 55) or -1.
 */
#define RESV_WORD_HOLDER_SHIFT 55
#define RESV_WORD_HOLDER_NONE  63u
#define RESV_WORD_TYPE_SHIFT   61
uint64_t resv_word(const struct resv_state *s, int (*slot_of)(void *arg, const uint8_t hostid[16]),
		   void *arg);
bool resv_word_allows(uint64_t word, int slot, enum resv_group g);

/*
 * The state file (resv_store.h keeps it): a versioned text, checked by a
 * CRC32C of everything before its last line.
 *
 *   nvmfd-reservations 1
 *   subsystem NQN
 *   nsid N
 *   seq S                 update count, never decreasing (a shared store's CAS)
 *   gen G
 *   ptpl 0|1
 *   rtype T
 *   holder HOSTID|-       32 hex digits
 *   registrant HOSTID RKEY   RKEY: 16 hex digits; one line per registrant
 *   crc32c XXXXXXXX
 *
 * With ptpl 0 the registrants are not written (nothing persists through a
 * power loss, 8.19.9). resv_encode returns the length, or -ENOSPC.
 */
#define RESV_FILE_VERSION 1
#define RESV_FILE_MAX	  (512 + RESV_MAX_HOSTS * 64 + 256)
int resv_encode(const struct resv_state *s, const char *nqn, uint32_t nsid, uint64_t seq, char *buf,
		size_t cap);
/*
 * Parse a state file. 0 and *s / *seq set (a file written with ptpl 0
 * gives no registrants); or -EINVAL with err naming the line and what is
 * wrong ("line 4: bad gen"). nqn / nsid must match the file's.
 */
int resv_decode(const char *buf, size_t len, const char *nqn, uint32_t nsid, struct resv_state *s,
		uint64_t *seq, char *err, size_t errlen);
