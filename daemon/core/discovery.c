/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Discovery log page (NVMe over Fabrics 1.1 5.3, Figures 39-40), built
 * for the asking controller: a 1024-byte header (genctr, numrec, recfmt),
 * then one 1024-byte entry per record. nvme-cli reads the first 20 bytes,
 * then the entries from offset 1024 in 4 KiB chunks, then the header again
 * (genctr must not have moved): the whole log is a pure function of the
 * configuration, the host NQN and the asking connection's local address.
 *
 * Records:
 *  - subtype 2 (NVMe subsystem): each subsystem the host may connect to,
 *    on each I/O listener (not discovery_only) that serves it (a subsystem
 *    with 'listener =' lines is on those only);
 *  - subtype 3 (current discovery subsystem): the discovery NQN on each
 *    listener that answers discovery (discovery_only ones, and the I/O ones
 *    when cfg->discovery), with EPCSD (we keep persistent discovery
 *    controllers: KATO, Keep Alive, AER and the discovery change event) and
 *    DUPRETINFO (every one of them returns this same log);
 *  - subtype 1 (referral): each 'referral =' of [nvmfd], the discovery
 *    controller of another gateway, with portid 0 (its port IDs are its
 *    own) and the discovery NQN.
 * portid is the listener's index + 1. A wildcard listener (0.0.0.0, ::) or
 * one given by name is reported with the local address the asking host
 * reached us at, if the families match (as FreeBSD ctld does); a host that
 * came over IPv4 to a dual-stack IPv6 socket sees the IPv6 wildcard
 * listeners as IPv4 ones, unless an IPv4 wildcard listener has that port.
 * TRADDR and TRSVCID are NUL-padded, as nvmet and ctld write them (libnvme
 * also strips the space padding SPDK uses).
 */
#include "ctrl_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define V4_MAPPED_PREFIX "::ffff:"

struct disc_addr {
	uint8_t adrfam;
	char traddr[64];
};

struct disc_gen {
	const struct ctrl *c;
	const struct cfg_config *cfg;
	struct log_win *w;
	uint64_t n; /* records so far */
};

/* A NUL-terminated src into a NUL-padded field of n bytes (truncated to n - 1). */
static void str_copy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len > n - 1)
		len = n - 1;

	memcpy(dst, src, len);
	memset(dst + len, 0, n - len);
}

/* The asking connection's local address; an IPv4-mapped IPv6 one as IPv4. */
static uint8_t asker_addr(const struct conn_info *ci, const char **addr)
{
	*addr = ci->local_addr;
	if (ci->family == AF_INET)
		return NVMF_ADRFAM_IPV4;
	if (strncmp(ci->local_addr, V4_MAPPED_PREFIX, strlen(V4_MAPPED_PREFIX)) == 0 &&
	    strchr(ci->local_addr, '.') != NULL) {
		*addr = ci->local_addr + strlen(V4_MAPPED_PREFIX);
		return NVMF_ADRFAM_IPV4;
	}
	return ci->family == AF_INET6 ? NVMF_ADRFAM_IPV6 : 0;
}

static bool has_v4_wildcard(const struct cfg_config *cfg, uint16_t port)
{
	struct in_addr a4;

	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].port == port &&
		    inet_pton(AF_INET, cfg->listeners[i].host, &a4) == 1 && a4.s_addr == INADDR_ANY)
			return true;
	return false;
}

/* The address to report for listener l, or false to leave it out. */
static bool listener_addr(const struct disc_gen *g, const struct cfg_listener *l,
			  struct disc_addr *out)
{
	const struct conn_info *ci = &g->c->admin_ci;
	uint8_t fam, asker;
	const char *local;
	struct in6_addr a6;
	struct in_addr a4;

	asker = asker_addr(ci, &local);
	if (inet_pton(AF_INET, l->host, &a4) == 1) {
		if (a4.s_addr != INADDR_ANY) {
			out->adrfam = NVMF_ADRFAM_IPV4;
			str_copy(out->traddr, sizeof(out->traddr), l->host);
			return true;
		}
		fam = NVMF_ADRFAM_IPV4;
	} else if (inet_pton(AF_INET6, l->host, &a6) == 1) {
		if (!IN6_IS_ADDR_UNSPECIFIED(&a6)) {
			out->adrfam = NVMF_ADRFAM_IPV6;
			str_copy(out->traddr, sizeof(out->traddr), l->host);
			return true;
		}
		fam = NVMF_ADRFAM_IPV6;
		/* IPv4 over a dual-stack socket: [::] listeners take IPv4 too */
		if (asker == NVMF_ADRFAM_IPV4 && ci->family == AF_INET6 &&
		    !has_v4_wildcard(g->cfg, l->port))
			fam = NVMF_ADRFAM_IPV4;
	} else {
		fam = asker; /* a name: where the host reached us */
	}
	if (fam == 0 || fam != asker || local[0] == '\0')
		return false;
	out->adrfam = fam;
	str_copy(out->traddr, sizeof(out->traddr), local);
	return true;
}

/* One entry at the next record's place. */
static void put_entry(struct disc_gen *g, const struct disc_addr *a, uint16_t portid, uint16_t port,
		      uint8_t subtype, const char *nqn)
{
	struct nvmf_disc_log_entry e;
	char svc[8];

	memset(&e, 0, sizeof(e));
	e.trtype = NVMF_TRTYPE_TCP;
	e.adrfam = a->adrfam;
	e.subtype = subtype;
	/* no secure channel required, and none offered (no TLS); SQ flow control always on */
	e.treq = NVMF_TREQ_SECURE_NOT_REQUIRED;
	e.portid = htole16(portid);
	e.cntlid = htole16(NVMF_CNTLID_DYNAMIC);
	e.asqsz = htole16(TARGET_ADMIN_QDEPTH);
	if (subtype == NVMF_SUBTYPE_DISC_CURRENT)
		e.eflags = htole16(NVMF_EFLAGS_EPCSD | NVMF_EFLAGS_DUPRETINFO);
	snprintf(svc, sizeof(svc), "%u", port);
	str_copy(e.trsvcid, sizeof(e.trsvcid), svc);
	str_copy(e.subnqn, sizeof(e.subnqn), nqn);
	str_copy(e.traddr, sizeof(e.traddr), a->traddr);
	e.tcp.sectype = NVMF_TCP_SECTYPE_NONE;
	log_win_put(g->w, sizeof(struct nvmf_disc_log_hdr) + g->n * sizeof(e), &e, sizeof(e));
	g->n++;
}

static void put_record(struct disc_gen *g, size_t li, uint8_t subtype, const char *nqn)
{
	const struct cfg_listener *l = &g->cfg->listeners[li];
	struct disc_addr a;

	if (listener_addr(g, l, &a))
		put_entry(g, &a, (uint16_t)(li + 1), l->port, subtype, nqn);
}

/* oF 1.1 5.3: a referral names another discovery controller (numeric: conf checked it). */
static void put_referrals(struct disc_gen *g)
{
	for (size_t i = 0; i < g->cfg->nreferrals; i++) {
		const struct cfg_addr *r = &g->cfg->referrals[i];
		struct disc_addr a;
		struct in_addr a4;

		a.adrfam = inet_pton(AF_INET, r->host, &a4) == 1 ? NVMF_ADRFAM_IPV4
								 : NVMF_ADRFAM_IPV6;
		str_copy(a.traddr, sizeof(a.traddr), r->host);
		put_entry(g, &a, 0, r->port, NVMF_SUBTYPE_REFERRAL, NVMF_DISC_NQN);
	}
}

static void put_subsystems(struct disc_gen *g)
{
	const struct subsys_table *st = target_subsystems(g->c->t);

	for (size_t i = 0; i < st->n; i++) {
		const struct subsys *s = st->s[i];

		if (s->discovery || !subsys_host_allowed(s, g->c->hostnqn))
			continue;
		for (size_t li = 0; li < g->cfg->nlisteners; li++) {
			const struct cfg_listener *l = &g->cfg->listeners[li];

			if (!l->discovery_only && subsys_serves_addr(s, l->host, l->port))
				put_record(g, li, NVMF_SUBTYPE_NVME, s->nqn);
		}
	}
}

static void put_discovery(struct disc_gen *g)
{
	for (size_t li = 0; li < g->cfg->nlisteners; li++)
		if (g->cfg->listeners[li].discovery_only || g->cfg->discovery)
			put_record(g, li, NVMF_SUBTYPE_DISC_CURRENT, NVMF_DISC_NQN);
}

uint64_t disc_log_build(const struct ctrl *c, struct log_win *w)
{
	static const struct cfg_config none;
	const struct cfg_config *cfg = target_cfg(c->t);
	struct disc_gen g = {.c = c, .cfg = cfg ? cfg : &none, .w = w};
	struct nvmf_disc_log_hdr h;

	put_subsystems(&g);
	put_discovery(&g);
	put_referrals(&g);
	memset(&h, 0, sizeof(h));
	h.genctr = htole64(atomic_load(&c->t->genctr));
	h.numrec = htole64(g.n);
	h.recfmt = 0;
	log_win_put(w, 0, &h, sizeof(h));
	return sizeof(h) + g.n * sizeof(struct nvmf_disc_log_entry);
}
