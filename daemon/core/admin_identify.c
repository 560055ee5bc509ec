/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Identify (NVMe Base 2.0 5.17, "Base" below; NVM Command Set 1.0, "NVM";
 * NVMe over Fabrics 1.1, "oF"): controller (01h), namespace (00h), active
 * namespace list (02h), namespace identification descriptors (03h), and
 * those of NVMe 2.0 (Base Figure 273) for the NVM command set (CSI 00h):
 * its namespace (05h) and controller (06h) data, its active namespace list
 * (07h), and the command-set-independent namespace data (08h). What the Linux host checks is in
 * PEERS.md section 2; the values follow PEERS.md section 6.
 */
#include "ctrl_internal.h"
#include "ns_caps.h"

#include "resv_ns.h"

#include <string.h>

/*
 * SGLS (Base Figure 275): bits 1:0 = 01b (SGLs, no alignment), address as an
 * offset (bit 20, in-capsule data), Transport SGL Data Block (bit 21), as
 * FreeBSD's _nvmf_init_io_controller_data().
 */
#define ID_SGLS \
	(NVME_CTRL_SGLS_SUPPORTED | NVME_CTRL_SGLS_ADDR_OFFSET | NVME_CTRL_SGLS_TRANSPORT_DB)
/* VWC: present, and Flush with NSID FFFFFFFFh supported (bits 2:1 = 11b). */
#define ID_VWC (NVME_CTRL_VWC_PRESENT | (3u << 1))

static uint32_t highest_nsid(const struct subsys *s)
{
	const struct ns_table *nt = subsys_ns(s);

	return nt->n ? nt->ns[nt->n - 1]->nsid : 0;
}

static void str_field(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	memset(dst + len, 0, n - len);
}

/* What a discovery and an I/O controller have in common. */
static void id_ctrl_common(const struct ctrl *c, struct nvme_id_ctrl *id)
{
	const struct subsys *s = c->subsys;

	ascii_pad(id->sn, sizeof(id->sn), s->serial);
	ascii_pad(id->mn, sizeof(id->mn), s->model[0] ? s->model : "nvmfd");
	ascii_pad(id->fr, sizeof(id->fr), NVMFD_VERSION);
	id->mdts = c->t->p.mdts;
	id->cntlid = htole16(c->cntlid);
	id->ver = htole32(c->props.vs);
	/* 128-bit Host Identifier; traffic-based keep-alive (any command restarts it) */
	id->ctratt = htole32(NVME_CTRL_CTRATT_HOSTID_128 | NVME_CTRL_CTRATT_TBKAS);
	id->acl = 3; /* Abort never aborts: the minimum the spec recommends */
	id->aerl = TARGET_AERL - 1;
	id->kas = htole16(CTRL_KAS);
	id->sgls = htole32(ID_SGLS);
	str_field(id->subnqn, sizeof(id->subnqn), s->nqn);
	/* oF Figure 28: the response is a bare CQE; SGLs have one descriptor */
	id->iorcsz = htole32(sizeof(struct nvme_cqe) / 16);
	id->icdoff = 0;
	id->msdbd = 1;
}

static void id_ctrl_disc(const struct ctrl *c, struct nvme_id_ctrl *id)
{
	id->cntrltype = NVME_CTRL_CNTRLTYPE_DISC;
	id->oaes = htole32(NVME_CTRL_OAES_DISC_CHANGE);
	id->lpa = NVME_CTRL_LPA_EXTENDED;
	id->maxcmd = htole16(TARGET_ADMIN_QDEPTH);
	/* the Linux host always sends up to 8 KiB in-capsule on the admin queue */
	id->ioccsz = htole32((sizeof(struct nvme_sqe) + CTRL_DISC_ICD) / 16);
	(void)c;
}

static void id_ctrl_io(const struct ctrl *c, struct nvme_id_ctrl *id)
{
	const struct target *t = c->t;
	uint32_t nn = highest_nsid(c->subsys);

	id->cntrltype = NVME_CTRL_CNTRLTYPE_IO;
	/* several controllers (and gateways) share the namespaces; ANA reporting (Base 8.1) */
	id->cmic = NVME_CTRL_CMIC_MULTI_CTRL | NVME_CTRL_CMIC_ANA;
	id->oaes = htole32(NVME_CTRL_OAES_NS_ATTR | NVME_CTRL_OAES_ANA_CHANGE);
	id->anatt = CTRL_ANATT;
	id->anacap = CTRL_ANACAP;
	id->anagrpmax = htole32(CTRL_ANAGRPS);
	id->nanagrpid = htole32(CTRL_ANAGRPS);
	id->frmw = NVME_CTRL_FRMW_SLOT1_RO | (1u << 1); /* one slot, read-only */
	id->lpa = NVME_CTRL_LPA_SMART_PER_NS | NVME_CTRL_LPA_CMD_EFFECTS | NVME_CTRL_LPA_EXTENDED;
	id->elpe = CTRL_ERROR_LOG_ENTRIES - 1;
	id->npss = 0;
	id->wctemp = htole16(CTRL_WCTEMP);
	id->cctemp = htole16(CTRL_CCTEMP);
	id->sqes = 0x66; /* 64-byte SQEs, required and maximum */
	id->cqes = 0x44; /* 16-byte CQEs */
	id->maxcmd = htole16((uint16_t)t->p.io_qdepth);
	/*
	 * The Linux host refuses ANA unless 0 < MNAN <= NN, and sizes the ANA
	 * log from MNAN (header + NANAGRPID descriptors + MNAN NSIDs), which
	 * must fit MDTS: the configuration keeps the namespaces of a
	 * subsystem within cfg_max_namespaces().
	 */
	if (nn == 0)
		nn = 1;
	id->nn = htole32(nn);
	id->mnan = htole32(nn < cfg_max_namespaces(t->p.mdts_bytes)
				   ? nn
				   : cfg_max_namespaces(t->p.mdts_bytes));
	/* SEL of Get Features is implemented (saving is refused: nothing is saveable) */
	id->oncs = htole16(NVME_CTRL_ONCS_COMPARE | NVME_CTRL_ONCS_DSM |
			   NVME_CTRL_ONCS_WRITE_ZEROES | NVME_CTRL_ONCS_SAVE_SELECT |
			   NVME_CTRL_ONCS_RESERVATIONS | NVME_CTRL_ONCS_VERIFY);
	/* Base 3.4.2: Compare and Write, atomic against every queue (range_lock.h) */
	id->fuses = htole16(NVME_CTRL_FUSES_CNW);
	id->vwc = ID_VWC;
	id->ioccsz = htole32((sizeof(struct nvme_sqe) + t->p.io_icd) / 16);
	/* one power state; nothing changes with it (the values qemu and nvmet use) */
	id->psd[0].mp = htole16(2500); /* 25.00 W */
	id->psd[0].enlat = htole32(16);
	id->psd[0].exlat = htole32(4);
}

static void id_ctrl(const struct ctrl *c, void *buf)
{
	struct nvme_id_ctrl id;

	memset(&id, 0, sizeof(id));
	id_ctrl_common(c, &id);
	if (ctrl_is_disc(c))
		id_ctrl_disc(c, &id);
	else
		id_ctrl_io(c, &id);
	memcpy(buf, &id, sizeof(id));
}

/*
 * CNS 00h (NVM Figure 97). NSID 0 and NSIDs above NN are invalid; an
 * inactive NSID in 1..NN gives zeroes (Base 5.17.2.1). FFFFFFFFh asks for
 * the capabilities common to all namespaces, which a controller without
 * Namespace Management (OACS bit 3 clear, as ours) does not report: it is
 * Invalid Namespace or Format too, as nvmet answers.
 */
static nvme_status_t id_ns(const struct ctrl *c, uint32_t nsid, void *buf)
{
	const struct ns *ns;
	struct nvme_id_ns id;

	if (nsid == 0 || nsid == NVME_NSID_ALL)
		return SC_INVALID_NS;
	ns = subsys_find_ns(c->subsys, nsid);
	if (ns == NULL)
		return nsid <= highest_nsid(c->subsys) ? 0 : SC_INVALID_NS;
	memset(&id, 0, sizeof(id));
	id.nsze = id.ncap = id.nuse = htole64(ns_blocks(ns));
	id.nlbaf = 0; /* one LBA format, in use, without metadata */
	id.flbas = 0;
	id.lbaf[0].lbads = (uint8_t)ns->lba_shift;
	/* shared: every controller of the subsystem reaches it (Linux multipath wants it) */
	id.nmic = NVME_NS_NMIC_SHARED;
	id.anagrpid = htole32(ns_anagrpid(ns));
	/* every type; PTPL when the state has a place to live (resv_ns.h) */
	id.rescap = NVME_NS_RESCAP_ALL & ~(resv_ns_can_persist(ns) ? 0 : NVME_NS_RESCAP_PTPLS);
	ns_id_caps(ns, &id); /* DLFEAT, granularities: the backing store's */
	put_le64(id.nvmcap, ns_blocks(ns) << ns->lba_shift);
	if (ns->read_only)
		id.nsattr = NVME_NS_NSATTR_WP;
	memcpy(id.nguid, ns->nguid, sizeof(id.nguid));
	memcpy(id.eui64, ns->eui64, sizeof(id.eui64));
	memcpy(buf, &id, sizeof(id));
	return 0;
}

/*
 * CNS 06h, CSI 00h (NVM Figure 99): the NVM command set's limits. No
 * Verify, Write Zeroes or Write Uncorrectable size limit (0); Dataset
 * Management's from the namespaces' stores (ns_caps.c).
 */
static nvme_status_t id_ctrl_nvm(const struct ctrl *c, void *buf)
{
	struct nvme_id_ctrl_nvm id;
	struct dsm_limits dl;

	memset(&id, 0, sizeof(id));
	subsys_dsm_limits(c->subsys, &dl);
	id.dmrl = dl.dmrl;
	id.dmrsl = htole32(dl.dmrsl);
	id.dmsl = htole64(dl.dmsl);
	memcpy(buf, &id, sizeof(id));
	return 0;
}

/* CNS 02h: active NSIDs above CDW1.NSID, ascending (FFFFFFFEh and up are invalid). */
static nvme_status_t id_ns_list(const struct ctrl *c, uint32_t nsid, void *buf)
{
	const struct ns_table *nt = subsys_ns(c->subsys);
	size_t n = 0;

	if (nsid >= 0xfffffffeu)
		return SC_INVALID_NS;
	for (size_t i = 0; i < nt->n && n < NVME_IDENTIFY_DATA_SIZE / 4; i++)
		if (nt->ns[i]->nsid > nsid)
			put_le32((uint8_t *)buf + 4 * n++, nt->ns[i]->nsid);
	return 0;
}

static size_t put_desc(uint8_t *p, uint8_t nidt, const void *nid, uint8_t nidl)
{
	struct nvme_ns_id_desc d = {.nidt = nidt, .nidl = nidl};

	memcpy(p, &d, sizeof(d));
	memcpy(p + sizeof(d), nid, nidl);
	return sizeof(d) + nidl;
}

static bool nonzero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return true;
	return false;
}

/* CNS 03h (Base Figure 276): an active NSID's identifiers; others are invalid. */
static nvme_status_t id_desc_list(const struct ctrl *c, uint32_t nsid, void *buf)
{
	const struct ns *ns = nsid == NVME_NSID_ALL ? NULL : subsys_find_ns(c->subsys, nsid);
	const uint8_t csi = NVME_CSI_NVM;
	uint8_t *p = buf;

	if (ns == NULL)
		return SC_INVALID_NS;
	if (nonzero(ns->eui64, sizeof(ns->eui64)))
		p += put_desc(p, NVME_NIDT_EUI64, ns->eui64, NVME_NIDT_EUI64_LEN);
	if (nonzero(ns->nguid, sizeof(ns->nguid)))
		p += put_desc(p, NVME_NIDT_NGUID, ns->nguid, NVME_NIDT_NGUID_LEN);
	if (nonzero(ns->uuid, sizeof(ns->uuid)))
		p += put_desc(p, NVME_NIDT_UUID, ns->uuid, NVME_NIDT_UUID_LEN);
	put_desc(p, NVME_NIDT_CSI, &csi, NVME_NIDT_CSI_LEN);
	/* the rest is zero: a descriptor with NIDL 0 ends the list */
	return 0;
}

/*
 * An NSID for CNS 05h / 08h: active (true), or inactive in 1..NN (zeroes,
 * Base 5.17.2.1); anything else is Invalid Namespace or Format.
 */
static nvme_status_t ns_of(const struct ctrl *c, uint32_t nsid, const struct ns **out)
{
	*out = NULL;
	if (nsid == 0 || nsid == NVME_NSID_ALL)
		return SC_INVALID_NS;
	*out = subsys_find_ns(c->subsys, nsid);
	if (*out == NULL && nsid > highest_nsid(c->subsys))
		return SC_INVALID_NS;
	return 0;
}

/*
 * CNS 05h, CSI 00h: the NVM Command Set Identify Namespace (NVM 1.0
 * 4.1.5.2): no storage tag, no protection information, no extended LBA
 * formats (CTRATT.ELBAS clear): all zero for an active namespace.
 */
static nvme_status_t id_ns_nvm(const struct ctrl *c, uint32_t nsid)
{
	const struct ns *ns;

	return ns_of(c, nsid, &ns);
}

/* CNS 08h (Base Figure 280): what does not depend on the command set. */
static nvme_status_t id_ns_indep(const struct ctrl *c, uint32_t nsid, void *buf)
{
	struct nvme_id_ns_cs_indep id;
	const struct ns *ns;
	nvme_status_t st = ns_of(c, nsid, &ns);

	if (st || ns == NULL)
		return st;
	memset(&id, 0, sizeof(id));
	id.nmic = 1; /* shared, as CNS 00h says */
	if (ns->read_only)
		id.nsattr = NVME_NS_NSATTR_WP;
	id.nstat = NVME_NS_NSTAT_READY;
	memcpy(buf, &id, sizeof(id));
	return 0;
}

nvme_status_t admin_identify(struct ctrl *c, struct ctrl_req *r)
{
	uint32_t cdw10 = sqe_dw(r->sqe->cdw10), cdw11 = sqe_dw(r->sqe->cdw11);
	uint32_t nsid = le32toh(r->sqe->nsid);
	uint8_t cns = cdw10 & 0xff, csi = (uint8_t)(cdw11 >> 24);
	nvme_status_t st = 0;

	if (r->buf_len != NVME_IDENTIFY_DATA_SIZE)
		return SC_SGL_LENGTH;
	memset(r->buf, 0, NVME_IDENTIFY_DATA_SIZE);
	/* a discovery controller identifies itself only (oF 5) */
	if (ctrl_is_disc(c) && cns != NVME_CNS_CTRL)
		return SC_INVALID_FIELD;
	switch (cns) {
	case NVME_CNS_CTRL:
		id_ctrl(c, r->buf);
		break;
	case NVME_CNS_NS:
		st = id_ns(c, nsid, r->buf);
		break;
	case NVME_CNS_NS_ACTIVE_LIST:
		st = id_ns_list(c, nsid, r->buf);
		break;
	case NVME_CNS_NS_DESC_LIST:
		st = id_desc_list(c, nsid, r->buf);
		break;
	case NVME_CNS_CS_NS:
		st = csi == NVME_CSI_NVM ? id_ns_nvm(c, nsid) : SC_INVALID_FIELD;
		break;
	case NVME_CNS_CS_CTRL:
		st = csi == NVME_CSI_NVM ? id_ctrl_nvm(c, r->buf) : SC_INVALID_FIELD;
		break;
	case NVME_CNS_CS_NS_ACTIVE_LIST:
		/* every namespace is of the NVM command set */
		st = csi == NVME_CSI_NVM ? id_ns_list(c, nsid, r->buf) : SC_INVALID_FIELD;
		break;
	case NVME_CNS_CS_INDEP_NS:
		st = id_ns_indep(c, nsid, r->buf);
		break;
	default:
		st = SC_INVALID_FIELD;
	}
	if (st == 0)
		r->out_len = NVME_IDENTIFY_DATA_SIZE;
	return st;
}
