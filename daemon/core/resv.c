/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reservations, the pure logic (resv.h). Section numbers: NVMe Base 2.0.
 * Where the specification leaves a choice, we do what the Linux target
 * (drivers/nvme/target/pr.c) does, so that hosts see one behaviour:
 * IEKEY is refused on Acquire and Release, Replace with IEKEY registers
 * an unregistered host, CNTLID in the report is FFFFh (dynamic model).
 */
#include "resv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "digest.h"

#define SC_CONFLICT	 NVME_SC_DNR(GENERIC, RESERVATION_CONFLICT)
#define SC_INVALID_FIELD NVME_SC_DNR(GENERIC, INVALID_FIELD)
#define SC_SGL_LENGTH	 NVME_SC_DNR(GENERIC, SGL_INVALID_DATA)

void resv_init(struct resv_state *s)
{
	memset(s, 0, sizeof(*s));
	s->holder = -1;
}

static bool all_regs_type(uint8_t rtype)
{
	return rtype == NVME_RTYPE_WE_AR || rtype == NVME_RTYPE_EA_AR;
}

int resv_find(const struct resv_state *s, const uint8_t hostid[16])
{
	for (uint32_t i = 0; i < s->nregs; i++)
		if (memcmp(s->regs[i].hostid, hostid, 16) == 0)
			return (int)i;
	return -1;
}

/* 8.19.5: with an All Registrants type every registrant holds it. */
bool resv_holds(const struct resv_state *s, int idx)
{
	if (idx < 0 || s->rtype == NVME_RTYPE_NONE)
		return false;
	return all_regs_type(s->rtype) || s->holder == idx;
}

static void add_event(struct resv_effects *eff, const uint8_t hostid[16], uint8_t type)
{
	if (eff->nev >= RESV_MAX_EVENTS)
		return; /* cannot happen: at most one per registrant and kind */
	memcpy(eff->ev[eff->nev].hostid, hostid, 16);
	eff->ev[eff->nev].type = type;
	eff->nev++;
}

/* Reservation Released to every registrant but the one whose command it was (8.19.7). */
static void notify_released(const struct resv_state *s, const uint8_t except[16],
			    struct resv_effects *eff)
{
	for (uint32_t i = 0; i < s->nregs; i++)
		if (memcmp(s->regs[i].hostid, except, 16) != 0)
			add_event(eff, s->regs[i].hostid, NVME_RESV_LOG_RELEASED);
}

/*
 * Take registrant idx out (Unregister, or preempted). A holder that goes
 * releases the reservation (8.19.6), except with All Registrants types,
 * which stay while someone is registered; with the Registrants Only types
 * the other registrants learn of the release.
 */
static void remove_reg(struct resv_state *s, int idx, struct resv_effects *eff)
{
	bool held = resv_holds(s, idx);
	uint8_t hostid[16];

	memcpy(hostid, s->regs[idx].hostid, 16);
	memmove(&s->regs[idx], &s->regs[idx + 1],
		(s->nregs - (uint32_t)idx - 1) * sizeof(s->regs[0]));
	s->nregs--;
	if (s->holder > idx)
		s->holder--;
	eff->changed = true;
	if (!held)
		return;
	if (all_regs_type(s->rtype)) {
		if (s->nregs == 0)
			s->rtype = NVME_RTYPE_NONE;
		return;
	}
	if (s->rtype == NVME_RTYPE_WE_RO || s->rtype == NVME_RTYPE_EA_RO)
		notify_released(s, hostid, eff);
	s->rtype = NVME_RTYPE_NONE;
	s->holder = -1;
}

/* A registrant preempted by someone else: gone, told, maybe aborted (8.19.6). */
static void preempt_reg(struct resv_state *s, int idx, const uint8_t by[16], bool abort,
			struct resv_effects *eff)
{
	uint8_t hostid[16];

	memcpy(hostid, s->regs[idx].hostid, 16);
	if (abort && eff->nabort < RESV_MAX_HOSTS)
		memcpy(eff->abort_hostid[eff->nabort++], hostid, 16);
	remove_reg(s, idx, eff);
	if (memcmp(hostid, by, 16) != 0)
		add_event(eff, hostid, NVME_RESV_LOG_REG_PREEMPTED);
}

/* Preempt every registrant with key prkey (but `by` if keep_by); how many went. */
static unsigned int preempt_key(struct resv_state *s, uint64_t prkey, const uint8_t by[16],
				bool keep_by, bool abort, struct resv_effects *eff)
{
	unsigned int n = 0;

	for (int i = 0; i < (int)s->nregs;) {
		if (s->regs[i].rkey == prkey &&
		    !(keep_by && memcmp(s->regs[i].hostid, by, 16) == 0)) {
			preempt_reg(s, i, by, abort, eff);
			n++;
			continue;
		}
		i++;
	}
	return n;
}

/* ---- Reservation Register (7.3) ---- */

nvme_status_t resv_register(struct resv_state *s, const uint8_t hostid[16], uint32_t cdw10,
			    const void *data, size_t len, struct resv_effects *eff)
{
	struct nvme_resv_register_data d;
	uint32_t rrega = NVMEV(NVME_RREGA, cdw10), cptpl = NVMEV(NVME_CPTPL, cdw10);
	bool iekey = cdw10 & NVME_RESV_IEKEY;
	uint64_t crkey, nrkey;
	int idx;

	memset(eff, 0, sizeof(*eff));
	if (rrega > NVME_RREGA_REPLACE || cptpl == 1)
		return SC_INVALID_FIELD;
	if (data == NULL || len < sizeof(d))
		return SC_SGL_LENGTH;
	memcpy(&d, data, sizeof(d));
	crkey = le64toh(d.crkey);
	nrkey = le64toh(d.nrkey);
	idx = resv_find(s, hostid);
	switch (rrega) {
	case NVME_RREGA_REGISTER:
		/* 8.19.4: registering again with the same key is no error */
		if (idx >= 0) {
			if (s->regs[idx].rkey != nrkey)
				return SC_CONFLICT;
			break;
		}
		if (s->nregs >= RESV_MAX_HOSTS)
			return NVME_SC_DNR(GENERIC, INTERNAL); /* resv_ns logs the limit */
		memcpy(s->regs[s->nregs].hostid, hostid, 16);
		s->regs[s->nregs].rkey = nrkey;
		s->nregs++;
		eff->changed = true;
		break;
	case NVME_RREGA_UNREGISTER:
		if (idx < 0 || (!iekey && s->regs[idx].rkey != crkey))
			return SC_CONFLICT;
		remove_reg(s, idx, eff);
		break;
	default: /* Replace */
		if (idx < 0) {
			/* not registered: with IEKEY this registers the new key */
			if (!iekey)
				return SC_CONFLICT;
			if (s->nregs >= RESV_MAX_HOSTS)
				return NVME_SC_DNR(GENERIC, INTERNAL);
			memcpy(s->regs[s->nregs].hostid, hostid, 16);
			s->regs[s->nregs].rkey = nrkey;
			s->nregs++;
		} else {
			if (!iekey && s->regs[idx].rkey != crkey)
				return SC_CONFLICT;
			s->regs[idx].rkey = nrkey;
		}
		eff->changed = true;
		break;
	}
	if (cptpl == NVME_CPTPL_CLEAR || cptpl == NVME_CPTPL_SET)
		s->ptpl = cptpl == NVME_CPTPL_SET;
	s->gen++;
	eff->changed = true;
	return 0;
}

/* ---- Reservation Acquire (7.2) ---- */

static nvme_status_t preempt(struct resv_state *s, int idx, const uint8_t hostid[16], uint8_t rtype,
			     uint64_t prkey, bool abort, struct resv_effects *eff)
{
	uint8_t old_type = s->rtype;

	if (s->rtype == NVME_RTYPE_NONE) {
		/* nothing held: PRKEY names registrations to remove (8.19.6) */
		return preempt_key(s, prkey, hostid, false, abort, eff) ? 0 : SC_CONFLICT;
	}
	if (all_regs_type(s->rtype)) {
		if (prkey == 0) {
			/* the preempting host holds it alone; everyone else goes */
			s->rtype = rtype;
			s->holder = idx;
			for (int i = 0; i < (int)s->nregs;) {
				if (i != s->holder) {
					preempt_reg(s, i, hostid, abort, eff);
					continue;
				}
				i++;
			}
			/* remove_reg moved the holder's index along */
			s->holder = resv_find(s, hostid);
			eff->changed = true;
			return 0;
		}
		return preempt_key(s, prkey, hostid, false, abort, eff) ? 0 : SC_CONFLICT;
	}
	if (prkey == s->regs[s->holder].rkey) {
		/*
		 * the holder's key: the reservation moves to the issuer (the holder
		 * preempting itself changes the type), the others with that key go
		 */
		s->rtype = rtype;
		s->holder = idx;
		preempt_key(s, prkey, hostid, true, abort, eff);
		s->holder = resv_find(s, hostid);
		eff->changed = true;
		if (old_type != rtype)
			notify_released(s, hostid, eff);
		return 0;
	}
	if (prkey == 0)
		return SC_INVALID_FIELD;
	return preempt_key(s, prkey, hostid, false, abort, eff) ? 0 : SC_CONFLICT;
}

nvme_status_t resv_acquire(struct resv_state *s, const uint8_t hostid[16], uint32_t cdw10,
			   const void *data, size_t len, struct resv_effects *eff)
{
	struct nvme_resv_acquire_data d;
	uint32_t racqa = NVMEV(NVME_RACQA, cdw10);
	uint8_t rtype = (uint8_t)NVMEV(NVME_RTYPE, cdw10);
	struct resv_state saved;
	nvme_status_t st;
	int idx;

	memset(eff, 0, sizeof(*eff));
	if ((cdw10 & NVME_RESV_IEKEY) || racqa > NVME_RACQA_PREEMPT_ABORT ||
	    rtype < NVME_RTYPE_WE || rtype > NVME_RTYPE_EA_AR)
		return SC_INVALID_FIELD;
	if (data == NULL || len < sizeof(d))
		return SC_SGL_LENGTH;
	memcpy(&d, data, sizeof(d));
	idx = resv_find(s, hostid);
	if (idx < 0 || s->regs[idx].rkey != le64toh(d.crkey))
		return SC_CONFLICT;
	if (racqa == NVME_RACQA_ACQUIRE) {
		/* 8.19.5: acquiring what one holds, same type, is no error */
		if (s->rtype != NVME_RTYPE_NONE)
			return resv_holds(s, idx) && s->rtype == rtype ? 0 : SC_CONFLICT;
		s->rtype = rtype;
		s->holder = all_regs_type(rtype) ? -1 : idx;
		eff->changed = true;
		return 0;
	}
	saved = *s;
	st = preempt(s, idx, hostid, rtype, le64toh(d.prkey), racqa == NVME_RACQA_PREEMPT_ABORT,
		     eff);
	if (st != 0) {
		*s = saved;
		memset(eff, 0, sizeof(*eff));
		return st;
	}
	if (all_regs_type(s->rtype))
		s->holder = -1;
	s->gen++;
	eff->changed = true;
	return 0;
}

/* ---- Reservation Release (7.4) ---- */

nvme_status_t resv_release(struct resv_state *s, const uint8_t hostid[16], uint32_t cdw10,
			   const void *data, size_t len, struct resv_effects *eff)
{
	struct nvme_resv_release_data d;
	uint32_t rrela = NVMEV(NVME_RACQA, cdw10);
	uint8_t rtype = (uint8_t)NVMEV(NVME_RTYPE, cdw10), old;
	int idx;

	memset(eff, 0, sizeof(*eff));
	if ((cdw10 & NVME_RESV_IEKEY) || rrela > NVME_RRELA_CLEAR)
		return SC_INVALID_FIELD;
	if (data == NULL || len < sizeof(d))
		return SC_SGL_LENGTH;
	memcpy(&d, data, sizeof(d));
	idx = resv_find(s, hostid);
	if (idx < 0 || s->regs[idx].rkey != le64toh(d.crkey))
		return SC_CONFLICT;
	if (rrela == NVME_RRELA_CLEAR) {
		/* 8.19.8: everything goes; the others learn they were preempted */
		for (uint32_t i = 0; i < s->nregs; i++)
			if (memcmp(s->regs[i].hostid, hostid, 16) != 0)
				add_event(eff, s->regs[i].hostid, NVME_RESV_LOG_PREEMPTED);
		s->nregs = 0;
		s->rtype = NVME_RTYPE_NONE;
		s->holder = -1;
		s->gen++;
		eff->changed = true;
		return 0;
	}
	/* 8.19.7: a release by a host that holds nothing completes, doing nothing */
	if (!resv_holds(s, idx))
		return 0;
	if (rtype != s->rtype)
		return SC_INVALID_FIELD;
	old = s->rtype;
	s->rtype = NVME_RTYPE_NONE;
	s->holder = -1;
	eff->changed = true;
	if (old != NVME_RTYPE_WE && old != NVME_RTYPE_EA)
		notify_released(s, hostid, eff);
	return 0;
}

/* ---- Reservation Report (7.5) ---- */

nvme_status_t resv_report(const struct resv_state *s, uint32_t cdw11, void *buf, size_t len,
			  size_t *out_len)
{
	struct nvme_resv_status_ext h;
	uint8_t *p = buf;
	size_t off;

	*out_len = 0;
	if (!(cdw11 & NVME_RESV_REPORT_EDS))
		return NVME_SC_DNR(GENERIC, HOST_ID_INCONSIST);
	memset(&h, 0, sizeof(h));
	h.hdr.gen = htole32(s->gen);
	h.hdr.rtype = s->rtype;
	put_le16(h.hdr.regctl, (uint16_t)s->nregs);
	h.hdr.ptpls = s->ptpl;
	off = len < sizeof(h) ? len : sizeof(h);
	memcpy(p, &h, off);
	for (uint32_t i = 0; i < s->nregs && off < len; i++) {
		struct nvme_registered_ctrl_ext e;
		size_t n = len - off < sizeof(e) ? len - off : sizeof(e);

		memset(&e, 0, sizeof(e));
		e.cntlid = htole16(0xffff); /* dynamic controllers: the host, not one of them */
		e.rcsts = resv_holds(s, (int)i) ? 1 : 0;
		e.rkey = htole64(s->regs[i].rkey);
		memcpy(e.hostid, s->regs[i].hostid, 16);
		memcpy(p + off, &e, n);
		off += n;
	}
	*out_len = off;
	return 0;
}

/* ---- Access (8.19 "Command Behavior in the Presence of a Reservation") ---- */

enum resv_group resv_group_of(uint8_t opc)
{
	switch (opc) {
	case NVME_CMD_READ:
	case NVME_CMD_COMPARE:
	case NVME_CMD_VERIFY:
		return RESV_GROUP_READ;
	case NVME_CMD_WRITE:
	case NVME_CMD_WRITE_ZEROES:
	case NVME_CMD_DSM:
	case NVME_CMD_FLUSH:
	case NVME_CMD_WRITE_UNCOR:
		return RESV_GROUP_WRITE;
	default:
		return RESV_GROUP_NONE;
	}
}

bool resv_type_allows(uint8_t rtype, bool registrant, bool holder, enum resv_group g)
{
	if (g == RESV_GROUP_NONE || holder)
		return true;
	switch (rtype) {
	case NVME_RTYPE_NONE:
		return true;
	case NVME_RTYPE_WE: /* others (registered or not) may read */
		return g == RESV_GROUP_READ;
	case NVME_RTYPE_EA: /* others may do nothing */
		return false;
	case NVME_RTYPE_WE_RO:
	case NVME_RTYPE_WE_AR: /* registrants may write; everyone may read */
		return registrant || g == RESV_GROUP_READ;
	case NVME_RTYPE_EA_RO:
	case NVME_RTYPE_EA_AR: /* registrants only */
		return registrant;
	default:
		return false;
	}
}

bool resv_allows(const struct resv_state *s, const uint8_t hostid[16], enum resv_group g)
{
	int idx = resv_find(s, hostid);

	return resv_type_allows(s->rtype, idx >= 0, resv_holds(s, idx), g);
}

uint64_t resv_word(const struct resv_state *s, int (*slot_of)(void *arg, const uint8_t hostid[16]),
		   void *arg)
{
	uint64_t w = 0, holder = RESV_WORD_HOLDER_NONE;

	if (s->nregs == 0 && s->rtype == NVME_RTYPE_NONE)
		return 0;
	for (uint32_t i = 0; i < s->nregs; i++) {
		int slot = slot_of(arg, s->regs[i].hostid);

		if (slot < 0 || slot >= RESV_MAX_HOSTS)
			continue; /* no slot: treated as a non-registrant (safe side) */
		w |= 1ull << slot;
		if (s->rtype != NVME_RTYPE_NONE && !all_regs_type(s->rtype) && s->holder == (int)i)
			holder = (uint64_t)slot;
	}
	w |= holder << RESV_WORD_HOLDER_SHIFT;
	w |= (uint64_t)s->rtype << RESV_WORD_TYPE_SHIFT;
	/* nonzero whenever someone is registered: the holder field is never 0 then */
	return w;
}

bool resv_word_allows(uint64_t word, int slot, enum resv_group g)
{
	uint8_t rtype = (uint8_t)(word >> RESV_WORD_TYPE_SHIFT);
	unsigned int holder = (unsigned int)(word >> RESV_WORD_HOLDER_SHIFT) & 0x3f;
	bool reg;

	if (rtype == NVME_RTYPE_NONE || g == RESV_GROUP_NONE)
		return true;
	reg = slot >= 0 && slot < RESV_MAX_HOSTS && (word >> slot) & 1;
	return resv_type_allows(rtype, reg,
				reg && (all_regs_type(rtype) || holder == (unsigned int)slot), g);
}

/* ---- The state file ---- */

static void hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

int resv_encode(const struct resv_state *s, const char *nqn, uint32_t nsid, uint64_t seq, char *buf,
		size_t cap)
{
	char h[33];
	size_t n;
	int r;

#define PUT(...)                                             \
	do {                                                 \
		r = snprintf(buf + n, cap - n, __VA_ARGS__); \
		if (r < 0 || (size_t)r >= cap - n)           \
			return -ENOSPC;                      \
		n += (size_t)r;                              \
	} while (0)

	n = 0;
	PUT("nvmfd-reservations %d\nsubsystem %s\nnsid %" PRIu32 "\nseq %" PRIu64 "\n",
	    RESV_FILE_VERSION, nqn, nsid, seq);
	PUT("gen %" PRIu32 "\nptpl %d\n", s->gen, s->ptpl ? 1 : 0);
	if (!s->ptpl) {
		PUT("rtype 0\nholder -\n");
	} else {
		PUT("rtype %u\n", s->rtype);
		if (s->holder >= 0 && s->rtype != NVME_RTYPE_NONE) {
			hex(h, s->regs[s->holder].hostid, 16);
			PUT("holder %s\n", h);
		} else {
			PUT("holder -\n");
		}
		for (uint32_t i = 0; i < s->nregs; i++) {
			hex(h, s->regs[i].hostid, 16);
			PUT("registrant %s %016" PRIx64 "\n", h, s->regs[i].rkey);
		}
	}
	PUT("crc32c %08x\n", tcp_digest(buf, n));
#undef PUT
	return (int)n;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (!is_hex(s[2 * i]) || !is_hex(s[2 * i + 1]) || sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] == '\0';
}

/* One "key value" line: its value, or NULL if the key differs. */
static const char *want(const char *line, const char *key)
{
	size_t k = strlen(key);

	if (strncmp(line, key, k) != 0 || line[k] != ' ')
		return NULL;
	return line + k + 1;
}

static bool parse_u64(const char *v, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (v == NULL || *v == '\0' || *v == '-' || *v == '+' || *v == ' ')
		return false;
	errno = 0;
	x = strtoull(v, &end, base);
	if (errno != 0 || *end != '\0' || x > max)
		return false;
	*out = x;
	return true;
}

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

int resv_decode(const char *buf, size_t len, const char *nqn, uint32_t nsid, struct resv_state *s,
		uint64_t *seq, char *err, size_t errlen)
{
	char line[NVMF_NQN_FIELD + 64];
	const char *v;
	size_t pos = 0, body = 0;
	unsigned int no = 0;
	uint8_t holder[16];
	bool have_holder = false, done = false;
	uint64_t x, rtype = 0, ptpl = 0;
	int step = 0;

	resv_init(s);
	*seq = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l;

		no++;
		if (nl == NULL)
			FAIL("line %u: no newline at the end (a truncated file)", no);
		l = (size_t)(nl - (buf + pos));
		if (l >= sizeof(line) || memchr(buf + pos, '\0', l) != NULL)
			FAIL("line %u: not a line of this file", no);
		if (done)
			FAIL("line %u: text after the checksum", no);
		memcpy(line, buf + pos, l);
		line[l] = '\0';
		if ((v = want(line, "crc32c")) != NULL) {
			if (!parse_u64(v, 16, UINT32_MAX, &x) || strlen(v) != 8)
				FAIL("line %u: bad crc32c", no);
			if ((uint32_t)x != tcp_digest(buf, body))
				FAIL("line %u: checksum mismatch (the file is damaged)", no);
			done = true;
			pos += l + 1;
			continue;
		}
		switch (step) {
		case 0:
			if ((v = want(line, "nvmfd-reservations")) == NULL)
				FAIL("line %u: not an nvmfd reservation file", no);
			if (!parse_u64(v, 10, UINT32_MAX, &x) || x != RESV_FILE_VERSION)
				FAIL("line %u: format version %s, this nvmfd reads %d", no, v,
				     RESV_FILE_VERSION);
			break;
		case 1:
			if ((v = want(line, "subsystem")) == NULL || strcmp(v, nqn) != 0)
				FAIL("line %u: not the reservations of subsystem %s", no, nqn);
			break;
		case 2:
			if (!parse_u64(want(line, "nsid"), 10, UINT32_MAX, &x) || x != nsid)
				FAIL("line %u: not the reservations of namespace %u", no, nsid);
			break;
		case 3:
			if (!parse_u64(want(line, "seq"), 10, UINT64_MAX, seq))
				FAIL("line %u: bad seq", no);
			break;
		case 4:
			if (!parse_u64(want(line, "gen"), 10, UINT32_MAX, &x))
				FAIL("line %u: bad gen", no);
			s->gen = (uint32_t)x;
			break;
		case 5:
			if (!parse_u64(want(line, "ptpl"), 10, 1, &ptpl))
				FAIL("line %u: bad ptpl (0 or 1)", no);
			s->ptpl = ptpl;
			break;
		case 6:
			if (!parse_u64(want(line, "rtype"), 10, NVME_RTYPE_EA_AR, &rtype))
				FAIL("line %u: bad rtype (0 to 6)", no);
			break;
		case 7:
			if ((v = want(line, "holder")) == NULL)
				FAIL("line %u: holder expected", no);
			if (strcmp(v, "-") != 0) {
				if (!unhex(v, holder, 16))
					FAIL("line %u: bad holder host identifier", no);
				have_holder = true;
			}
			break;
		default: {
			char h[33], k[17];
			struct resv_reg *r;

			if ((v = want(line, "registrant")) == NULL || strlen(v) != 32 + 1 + 16 ||
			    v[32] != ' ')
				FAIL("line %u: registrant HOSTID RKEY expected", no);
			memcpy(h, v, 32);
			h[32] = '\0';
			memcpy(k, v + 33, 16);
			k[16] = '\0';
			if (s->nregs >= RESV_MAX_HOSTS)
				FAIL("line %u: more than %d registrants", no, RESV_MAX_HOSTS);
			r = &s->regs[s->nregs];
			if (!unhex(h, r->hostid, 16) || !parse_u64(k, 16, UINT64_MAX, &r->rkey))
				FAIL("line %u: bad registrant", no);
			if (resv_find(s, r->hostid) >= 0)
				FAIL("line %u: host registered twice", no);
			s->nregs++;
			break;
		}
		}
		step++;
		pos += l + 1;
		body = pos;
	}
	if (!done)
		FAIL("line %u: no crc32c line (a truncated file)", no);
	if (step < 8)
		FAIL("line %u: the file ends early", no);
	if (!ptpl) { /* nothing persisted through the power loss (8.19.9) */
		uint32_t gen = s->gen;

		resv_init(s);
		s->gen = gen;
		return 0;
	}
	s->rtype = (uint8_t)rtype;
	if (have_holder) {
		s->holder = resv_find(s, holder);
		if (s->holder < 0 || rtype == NVME_RTYPE_NONE || all_regs_type(s->rtype))
			FAIL("holder: not a registrant holding a reservation of type %u",
			     (unsigned int)rtype);
	} else if (rtype != NVME_RTYPE_NONE && !(all_regs_type(s->rtype) && s->nregs > 0)) {
		FAIL("rtype %u: a reservation without a holder", (unsigned int)rtype);
	}
	return 0;
}
