/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host tools' printers: Identify data (NVMe 2.0 Figures 275-276, NVM
 * Command Set Figure 97) and discovery log entries (NVMe-oF 1.1 Figure 40),
 * laid out like nvme-cli's id-ctrl / id-ns / discover output.
 */
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "nqn.h"
#include "show.h"

/* Space-padded ASCII fields (SN, MN, FR) without the padding. */
static int trimmed(const char *s, int n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0'))
		n--;
	return n;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

void show_ctrl(const struct nvme_id_ctrl *c)
{
	uint32_t ver = le32toh(c->ver);

	printf("Identify Controller:\n");
	printf("vid       : 0x%04x\n", le16toh(c->vid));
	printf("ssvid     : 0x%04x\n", le16toh(c->ssvid));
	printf("sn        : %.*s\n", trimmed(c->sn, sizeof(c->sn)), c->sn);
	printf("mn        : %.*s\n", trimmed(c->mn, sizeof(c->mn)), c->mn);
	printf("fr        : %.*s\n", trimmed(c->fr, sizeof(c->fr)), c->fr);
	printf("cntlid    : 0x%04x\n", le16toh(c->cntlid));
	printf("ver       : %u.%u.%u\n", ver >> 16, (ver >> 8) & 0xff, ver & 0xff);
	printf("cntrltype : %u\n", c->cntrltype);
	printf("mdts      : %u\n", c->mdts);
	printf("maxcmd    : %u\n", le16toh(c->maxcmd));
	printf("nn        : %u\n", le32toh(c->nn));
	printf("kas       : %u\n", le16toh(c->kas));
	printf("sgls      : 0x%08x\n", le32toh(c->sgls));
	printf("ioccsz    : %u\n", le32toh(c->ioccsz));
	printf("iorcsz    : %u\n", le32toh(c->iorcsz));
	printf("icdoff    : %u\n", le16toh(c->icdoff));
	printf("subnqn    : %.*s\n", (int)strnlen(c->subnqn, sizeof(c->subnqn)), c->subnqn);
}

uint32_t ns_block_size(const struct nvme_id_ns *ns, const char **why)
{
	unsigned int f = NVMEV(NVME_NS_FLBAS_LBA, ns->flbas);
	uint8_t lbads;

	if (f > ns->nlbaf) {
		*why = "its FLBAS names an LBA format beyond NLBAF";
		return 0;
	}
	/* TCP carries no separate metadata: extended LBAs are not supported. */
	if (le16toh(ns->lbaf[f].ms) != 0) {
		*why = "its LBA format has metadata, which is not supported";
		return 0;
	}
	lbads = ns->lbaf[f].lbads;
	if (lbads < 9 || lbads > 24) {
		*why = "its LBA data size is out of range";
		return 0;
	}
	return 1u << lbads;
}

/* The Namespace Identification Descriptor list (CNS 03h), bounds-checked. */
static void show_descs(const uint8_t *d)
{
	char s[2 * 16 + 1], u[NVMF_UUID_STR_LEN + 1];
	size_t off = 0;

	while (off + sizeof(struct nvme_ns_id_desc) <= NVME_IDENTIFY_DATA_SIZE) {
		uint8_t nidt = d[off], nidl = d[off + 1];
		const uint8_t *nid = d + off + sizeof(struct nvme_ns_id_desc);

		if (nidt == 0 ||
		    off + sizeof(struct nvme_ns_id_desc) + nidl > NVME_IDENTIFY_DATA_SIZE)
			break;
		if (nidt == NVME_NIDT_EUI64 && nidl == NVME_NIDT_EUI64_LEN) {
			hex(nid, nidl, s);
			printf("eui64     : %s\n", s);
		} else if (nidt == NVME_NIDT_NGUID && nidl == NVME_NIDT_NGUID_LEN) {
			hex(nid, nidl, s);
			printf("nguid     : %s\n", s);
		} else if (nidt == NVME_NIDT_UUID && nidl == NVME_NIDT_UUID_LEN) {
			nvmf_uuid_format(nid, u);
			printf("uuid      : %s\n", u);
		} else if (nidt == NVME_NIDT_CSI && nidl == NVME_NIDT_CSI_LEN) {
			printf("csi       : %u\n", nid[0]);
		}
		off += sizeof(struct nvme_ns_id_desc) + nidl;
	}
}

void show_ns(uint32_t nsid, const struct nvme_id_ns *ns, const uint8_t *descs)
{
	const char *why = "";
	uint32_t bs = ns_block_size(ns, &why);
	char s[2 * 16 + 1];

	printf("Identify Namespace %u:\n", nsid);
	printf("nsze      : %llu\n", (unsigned long long)le64toh(ns->nsze));
	printf("ncap      : %llu\n", (unsigned long long)le64toh(ns->ncap));
	printf("nuse      : %llu\n", (unsigned long long)le64toh(ns->nuse));
	printf("flbas     : 0x%x\n", ns->flbas);
	if (bs)
		printf("lba size  : %u\n", bs);
	else
		printf("lba size  : unusable (%s)\n", why);
	if (descs != NULL) {
		show_descs(descs);
		return;
	}
	/* No descriptor list: the identifiers in the namespace data. */
	if (!all_zero(ns->eui64, sizeof(ns->eui64))) {
		hex(ns->eui64, sizeof(ns->eui64), s);
		printf("eui64     : %s\n", s);
	}
	if (!all_zero(ns->nguid, sizeof(ns->nguid))) {
		hex(ns->nguid, sizeof(ns->nguid), s);
		printf("nguid     : %s\n", s);
	}
}

void show_ns_list(const uint32_t *list)
{
	printf("Active namespaces:");
	for (int i = 0; i < 1024 && list[i] != 0; i++)
		printf(" %u", le32toh(list[i]));
	printf("\n");
}

/* ---- Discovery log, as `nvme discover` prints it ---- */

static const char *trtype_str(uint8_t t)
{
	switch (t) {
	case NVMF_TRTYPE_RDMA:
		return "rdma";
	case NVMF_TRTYPE_FC:
		return "fc";
	case NVMF_TRTYPE_TCP:
		return "tcp";
	case NVMF_TRTYPE_LOOP:
		return "loop";
	default:
		return "unrecognized";
	}
}

static const char *adrfam_str(uint8_t a)
{
	switch (a) {
	case NVMF_ADRFAM_IPV4:
		return "ipv4";
	case NVMF_ADRFAM_IPV6:
		return "ipv6";
	case NVMF_ADRFAM_IB:
		return "infiniband";
	case NVMF_ADRFAM_FC:
		return "fibre-channel";
	case NVMF_ADRFAM_LOOP:
		return "loop";
	default:
		return "unrecognized";
	}
}

static const char *subtype_str(uint8_t s)
{
	switch (s) {
	case NVMF_SUBTYPE_REFERRAL:
		return "discovery subsystem referral";
	case NVMF_SUBTYPE_NVME:
		return "nvme subsystem";
	case NVMF_SUBTYPE_DISC_CURRENT:
		return "current discovery subsystem";
	default:
		return "unrecognized";
	}
}

static const char *treq_str(uint8_t t)
{
	static const char *const secure[] = {"not specified", "required", "not required",
					     "reserved"};
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s", secure[t & 3],
		 t & NVMF_TREQ_DISABLE_SQFC ? ", sq flow control disable supported" : "");
	return buf;
}

static const char *eflags_str(uint16_t e)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s%s%s%s",
		 e & NVMF_EFLAGS_EPCSD ? "explicit discovery connections, " : "",
		 e & NVMF_EFLAGS_DUPRETINFO ? "duplicate discovery information, " : "",
		 e & NVMF_EFLAGS_NCC ? "no cdc connectivity, " : "", e ? "" : "none");
	if (e && strlen(buf) >= 2)
		buf[strlen(buf) - 2] = '\0';
	return buf;
}

static const char *sectype_str(uint8_t s)
{
	switch (s) {
	case NVMF_TCP_SECTYPE_NONE:
		return "none";
	case NVMF_TCP_SECTYPE_TLS12:
		return "tls1.2";
	case NVMF_TCP_SECTYPE_TLS13:
		return "tls1.3";
	default:
		return "unrecognized";
	}
}

void show_disc_log(struct nvmf_disc_log_hdr *log)
{
	uint64_t n = le64toh(log->numrec);
	struct nvmf_disc_log_entry *e = nvmf_disc_log_entries(log);

	printf("\nDiscovery Log Number of Records %llu, Generation counter %llu\n",
	       (unsigned long long)n, (unsigned long long)le64toh(log->genctr));
	for (uint64_t i = 0; i < n; i++, e++) {
		printf("=====Discovery Log Entry %llu======\n", (unsigned long long)i);
		printf("trtype:  %s\n", trtype_str(e->trtype));
		printf("adrfam:  %s\n", adrfam_str(e->adrfam));
		printf("subtype: %s\n", subtype_str(e->subtype));
		printf("treq:    %s\n", treq_str(e->treq));
		printf("portid:  %u\n", le16toh(e->portid));
		printf("trsvcid: %.*s\n", (int)strnlen(e->trsvcid, sizeof(e->trsvcid)), e->trsvcid);
		printf("subnqn:  %.*s\n", (int)strnlen(e->subnqn, sizeof(e->subnqn)), e->subnqn);
		printf("traddr:  %.*s\n", (int)strnlen(e->traddr, sizeof(e->traddr)), e->traddr);
		printf("eflags:  %s\n", eflags_str(le16toh(e->eflags)));
		if (e->trtype == NVMF_TRTYPE_TCP)
			printf("sectype: %s\n", sectype_str(e->tcp.sectype));
	}
}
