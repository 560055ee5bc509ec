/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon/admin*.c and discovery.c: Identify (every field the Linux host
 * checks), Get Log Page windows (the discovery log as nvme-cli reads it,
 * SMART arithmetic, error log, the others), Set / Get Features, Property
 * Get / Set through Fabrics commands, and the command gates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ctrl_internal.h"
#include "t_daemon.h"

#define INVALID_FIELD (T_ST(GENERIC, INVALID_FIELD) | NVME_STATUS_DNR)
#define INVALID_NS    (T_ST(GENERIC, INVALID_NS) | NVME_STATUS_DNR)
#define INVALID_OPC   (T_ST(GENERIC, INVALID_OPCODE) | NVME_STATUS_DNR)
#define INVALID_LOG   (T_ST(COMMAND_SPECIFIC, INVALID_LOG_PAGE) | NVME_STATUS_DNR)
#define SGL_LENGTH    (T_ST(GENERIC, SGL_INVALID_DATA) | NVME_STATUS_DNR)
#define CMD_SEQ	      (T_ST(GENERIC, CMD_SEQ_ERROR) | NVME_STATUS_DNR)
#define CC_IO	      ((6u << 16) | (4u << 20))

static struct t_fixture F;
static uint8_t buf[16384];

static int setup(void **state)
{
	(void)state;
	t_fixture_init(&F);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_fixture_fini(&F);
	return 0;
}

static nvme_status_t exec0(struct ctrl *c, uint8_t opc, uint32_t cdw10, uint32_t cdw11,
			   uint32_t *dw0)
{
	struct nvme_sqe sqe = t_sqe(opc, 0, cdw10, cdw11, 0, 0, 0, 0);
	struct ctrl_req r;
	nvme_status_t st = t_exec(c, &sqe, NULL, 0, &r);

	if (dw0)
		*dw0 = r.dw0;
	return st;
}

/* ---- Identify ---- */

static void test_identify_ctrl_io(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 5000);
	struct nvme_id_ctrl id;

	(void)state;
	assert_int_equal(t_identify(c, NVME_CNS_CTRL, 0, 0, buf), 0);
	memcpy(&id, buf, sizeof(id));
	/* what nvme_init_ctrl_finish() checks */
	assert_int_equal(t_le16(&id.cntlid), c->cntlid);
	assert_int_equal(t_le16(&id.kas), 10);
	assert_int_equal(t_le32(&id.ioccsz), (64 + 8192) / 16);
	assert_int_equal(t_le32(&id.iorcsz), 1);
	assert_int_equal(t_le16(&id.icdoff), 0);
	assert_int_equal(t_le32(&id.sgls) & 3, 1);
	assert_int_equal(t_le32(&id.sgls), 0x00300001);
	assert_int_equal(id.cntrltype, 1);
	assert_string_equal(id.subnqn, NQN_A);
	assert_int_equal(id.mdts, 5);
	assert_int_equal(t_le32(&id.nn), 5);
	assert_int_equal(t_le32(&id.mnan), 5);
	assert_int_equal(id.vwc, 0x7); /* present, Flush FFFFFFFFh supported (11b) */
	/* Compare, DSM, Write Zeroes, Save / Select, Reservations, Verify */
	assert_int_equal(t_le16(&id.oncs), 0xbd);
	assert_int_equal(t_le16(&id.maxcmd), 128);
	/* multi-controller, ANA reporting: what nvme_mpath_init_identify() needs */
	assert_int_equal(id.cmic, 0xa);
	assert_int_equal(id.anatt, 10);
	assert_int_equal(id.anacap, 0x1f);
	assert_int_equal(t_le32(&id.anagrpmax), 64);
	assert_int_equal(t_le32(&id.nanagrpid), 64);
	/* the ANA log fits MDTS as the host sizes it: header, groups, MNAN NSIDs */
	assert_true(16 + 32 * 64 + 4 * t_le32(&id.mnan) <= 131072);
	assert_int_equal(t_le32(&id.ctratt), 0x41);
	assert_int_equal(t_le32(&id.oaes), 0x900);
	assert_int_equal(id.lpa, 0x7);
	assert_int_equal(id.elpe, 63);
	assert_int_equal(id.aerl, TARGET_AERL - 1);
	assert_int_equal(id.acl, 3);
	assert_int_equal(id.frmw, 3);
	assert_int_equal(id.sqes, 0x66);
	assert_int_equal(id.cqes, 0x44);
	assert_int_equal(t_le32(&id.ver), 0x10400);
	assert_int_equal(t_le16(&id.oacs), 0);
	assert_int_equal(t_le16(&id.fuses), 1); /* Compare and Write */
	assert_int_equal(t_le16(&id.wctemp), 343);
	assert_int_equal(t_le16(&id.cctemp), 353);
	assert_int_equal(id.msdbd, 1);
	assert_int_equal(id.npss, 0);
	assert_int_equal(t_le16(&id.psd[0].mp), 2500);
	assert_memory_equal(id.sn, "SERIAL-A            ", 20);
	assert_memory_equal(id.mn, "nvmfd test                              ", 40);
	assert_memory_equal(id.fr, NVMFD_VERSION, strlen(NVMFD_VERSION));
	assert_int_equal(id.fr[7], ' ');
	assert_int_equal(t_le16(&id.vid), 0);
	t_admin_gone(c);
}

static void test_identify_ctrl_disc(void **state)
{
	struct ctrl *c = t_admin(&F, NVMF_DISC_NQN, HOST_B, 0);
	struct nvme_id_ctrl id;

	(void)state;
	assert_int_equal(t_identify(c, NVME_CNS_CTRL, 0, 0, buf), 0);
	memcpy(&id, buf, sizeof(id));
	assert_int_equal(id.cntrltype, 2);
	assert_string_equal(id.subnqn, NVMF_DISC_NQN);
	assert_int_equal(t_le16(&id.cntlid), c->cntlid);
	assert_int_equal(t_le32(&id.oaes), 0x80000000u);
	assert_int_equal(t_le16(&id.kas), 10);
	assert_int_equal(t_le32(&id.ioccsz), (64 + 8192) / 16);
	assert_int_equal(t_le32(&id.iorcsz), 1);
	assert_int_equal(t_le32(&id.sgls) & 3, 1);
	assert_int_equal(id.lpa, 0x4);
	assert_int_equal(t_le32(&id.nn), 0);
	assert_int_equal(id.vwc, 0);
	assert_int_equal(t_le16(&id.maxcmd), 32);
	/* only CNS 01h on a discovery controller */
	assert_int_equal(t_identify(c, NVME_CNS_NS, 1, 0, buf), INVALID_FIELD);
	assert_int_equal(t_identify(c, NVME_CNS_NS_ACTIVE_LIST, 0, 0, buf), INVALID_FIELD);
	t_admin_gone(c);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_identify_ns(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0);
	struct nvme_id_ns id;

	(void)state;
	assert_int_equal(t_identify(c, NVME_CNS_NS, 1, 0, buf), 0);
	memcpy(&id, buf, sizeof(id));
	assert_int_equal(t_le64(&id.nsze), T_NS1_BLOCKS);
	assert_int_equal(t_le64(&id.ncap), T_NS1_BLOCKS);
	assert_int_equal(t_le64(&id.nuse), T_NS1_BLOCKS);
	assert_int_equal(id.nlbaf, 0);
	assert_int_equal(id.flbas, 0);
	assert_int_equal(id.lbaf[0].lbads, 9);
	assert_int_equal(t_le16(&id.lbaf[0].ms), 0);
	assert_int_equal(id.nmic, 1);
	/* NVM Figure 97: a file's holes read as zeroes (001b), Write Zeroes takes DEAC (bit 3) */
	assert_int_equal(id.dlfeat, 0x09);
	/* OPTPERF: the file system's 4 KiB block, in 512-byte LBAs, 0's based */
	assert_int_equal(id.nsfeat & NVME_NS_NSFEAT_IO_OPT, NVME_NS_NSFEAT_IO_OPT);
	assert_int_equal(t_le16(&id.npwg), 7);
	assert_int_equal(t_le16(&id.npwa), 7);
	assert_int_equal(t_le16(&id.npdg), 7);
	assert_int_equal(t_le16(&id.npda), 7);
	assert_int_equal(t_le16(&id.nows), 0); /* unknown */
	/* ns 5, a device that discards: what a discarded block reads is not reported (000b) */
	assert_int_equal(t_identify(c, NVME_CNS_NS, 5, 0, buf), 0);
	memcpy(&id, buf, sizeof(id));
	assert_int_equal(id.dlfeat, 0x08);
	assert_int_equal(t_le16(&id.npwg), 0);	 /* 512-byte physical blocks */
	assert_int_equal(t_le16(&id.npdg), 127); /* 64 KiB discard granularity */
	assert_int_equal(t_le16(&id.nows), 255); /* 128 KiB optimal I/O */
	assert_int_equal(t_identify(c, NVME_CNS_NS, 1, 0, buf), 0);
	memcpy(&id, buf, sizeof(id));
	assert_int_equal(id.nsattr, 0);
	assert_int_equal(id.dps, 0);
	assert_memory_equal(id.nguid, F.ns[0].nguid, 16);
	assert_memory_equal(id.eui64, F.ns[0].eui64, 8);
	assert_int_equal(t_le64(id.nvmcap), T_NS1_BLOCKS << 9);
	/* read-only, 4 KiB blocks */
	assert_int_equal(t_identify(c, NVME_CNS_NS, 2, 0, buf), 0);
	memcpy(&id, buf, sizeof(id));
	assert_int_equal(id.lbaf[0].lbads, 12);
	assert_int_equal(id.nsattr, 1);
	/* inactive inside 1..NN: zeroes; NSID 0, above NN, FFFFFFFFh: invalid */
	assert_int_equal(t_identify(c, NVME_CNS_NS, 3, 0, buf), 0);
	assert_true(all_zero(buf, 4096));
	assert_int_equal(t_identify(c, NVME_CNS_NS, 6, 0, buf), INVALID_NS);
	assert_int_equal(t_identify(c, NVME_CNS_NS, 0, 0, buf), INVALID_NS);
	assert_int_equal(t_identify(c, NVME_CNS_NS, 0xffffffff, 0, buf), INVALID_NS);
	t_admin_gone(c);
}

static void test_identify_lists(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0), *b = t_admin(&F, NQN_B, HOST_A, 0);
	const uint8_t *p;

	(void)state;
	assert_int_equal(t_identify(c, NVME_CNS_NS_ACTIVE_LIST, 0, 0, buf), 0);
	assert_int_equal(t_le32(buf), 1);
	assert_int_equal(t_le32(buf + 4), 2);
	assert_int_equal(t_le32(buf + 8), 5);
	assert_true(all_zero(buf + 12, 4096 - 12));
	assert_int_equal(t_identify(c, NVME_CNS_NS_ACTIVE_LIST, 2, 0, buf), 0);
	assert_int_equal(t_le32(buf), 5);
	assert_int_equal(t_le32(buf + 4), 0);
	assert_int_equal(t_identify(c, NVME_CNS_NS_ACTIVE_LIST, 5, 0, buf), 0);
	assert_true(all_zero(buf, 4096));
	assert_int_equal(t_identify(c, NVME_CNS_NS_ACTIVE_LIST, 0xfffffffe, 0, buf), INVALID_NS);
	assert_int_equal(t_identify(b, NVME_CNS_NS_ACTIVE_LIST, 0, 0, buf), 0);
	assert_true(all_zero(buf, 4096));

	/* descriptors: EUI-64, NGUID, UUID, CSI, then a zero one */
	assert_int_equal(t_identify(c, NVME_CNS_NS_DESC_LIST, 1, 0, buf), 0);
	p = buf;
	assert_int_equal(p[0], NVME_NIDT_EUI64);
	assert_int_equal(p[1], 8);
	assert_memory_equal(p + 4, F.ns[0].eui64, 8);
	p += 12;
	assert_int_equal(p[0], NVME_NIDT_NGUID);
	assert_int_equal(p[1], 16);
	assert_memory_equal(p + 4, F.ns[0].nguid, 16);
	p += 20;
	assert_int_equal(p[0], NVME_NIDT_UUID);
	assert_int_equal(p[1], 16);
	assert_memory_equal(p + 4, F.ns[0].uuid, 16);
	p += 20;
	assert_int_equal(p[0], NVME_NIDT_CSI);
	assert_int_equal(p[1], 1);
	assert_int_equal(p[4], NVME_CSI_NVM);
	p += 5;
	assert_true(all_zero(p, (size_t)(buf + 4096 - p)));
	assert_int_equal(t_identify(c, NVME_CNS_NS_DESC_LIST, 3, 0, buf), INVALID_NS);
	assert_int_equal(t_identify(c, NVME_CNS_NS_DESC_LIST, 0, 0, buf), INVALID_NS);
	assert_int_equal(t_identify(c, NVME_CNS_NS_DESC_LIST, 0xffffffff, 0, buf), INVALID_NS);
	t_admin_gone(c);
	t_admin_gone(b);
}

static void test_identify_misc(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0);
	struct nvme_sqe sqe = t_sqe(NVME_ADM_IDENTIFY, 0, NVME_CNS_CTRL, 0, 0, 0, 0, 0);

	(void)state;
	/*
	 * CNS 06h for the NVM command set (NVM Figure 99): DMRL 0 (NR's 256
	 * ranges all taken), DMRSL the smallest discard of the namespaces'
	 * devices in their blocks (ns 5: T_NS5_DISCARD_MAX), DMSL 0; the rest
	 * zeroes. Other command sets: invalid.
	 */
	assert_int_equal(t_identify(c, NVME_CNS_CS_CTRL, 0, 0, buf), 0);
	assert_int_equal(buf[3], 0);
	assert_int_equal(t_le32(buf + 4), T_NS5_DISCARD_MAX >> 9);
	assert_true(all_zero(buf + 8, 4096 - 8));
	assert_true(all_zero(buf, 3));
	assert_int_equal(t_identify(c, NVME_CNS_CS_CTRL, 0, 2u << 24, buf), INVALID_FIELD);
	assert_int_equal(t_identify(c, 0x10, 0, 0, buf), INVALID_FIELD);
	/*
	 * Base 2.0 Figure 273, CSI 00h (NVM): CNS 05h the NVM namespace data
	 * (zeroes: no PI, no extended LBA formats), 07h the active NSIDs, 08h
	 * the command-set-independent namespace data (NMIC, NSATTR, NSTAT).
	 * Namespaces 1, 2 (read-only) and 5 are active.
	 */
	memset(buf, 0xee, 4096);
	assert_int_equal(t_identify(c, NVME_CNS_CS_NS, 1, 0, buf), 0);
	assert_true(all_zero(buf, 4096));
	assert_int_equal(t_identify(c, NVME_CNS_CS_NS, 3, 0, buf), 0); /* inactive, <= NN */
	assert_int_equal(t_identify(c, NVME_CNS_CS_NS, 6, 0, buf), INVALID_NS);
	assert_int_equal(t_identify(c, NVME_CNS_CS_NS, 0, 0, buf), INVALID_NS);
	assert_int_equal(t_identify(c, NVME_CNS_CS_NS, 1, 2u << 24, buf), INVALID_FIELD);
	assert_int_equal(t_identify(c, NVME_CNS_CS_NS_ACTIVE_LIST, 1, 0, buf), 0);
	assert_int_equal(t_le32(buf), 2);
	assert_int_equal(t_le32(buf + 4), 5);
	assert_int_equal(t_le32(buf + 8), 0);
	assert_int_equal(t_identify(c, NVME_CNS_CS_NS_ACTIVE_LIST, 0, 2u << 24, buf),
			 INVALID_FIELD);
	assert_int_equal(t_identify(c, NVME_CNS_CS_INDEP_NS, 2, 0, buf), 0);
	assert_int_equal(buf[1], 1);		     /* NMIC: shared */
	assert_int_equal(buf[8], NVME_NS_NSATTR_WP); /* read-only */
	assert_int_equal(buf[14], NVME_NS_NSTAT_READY);
	assert_int_equal(t_identify(c, NVME_CNS_CS_INDEP_NS, 1, 0, buf), 0);
	assert_int_equal(buf[8], 0);
	assert_int_equal(t_identify(c, NVME_CNS_CS_INDEP_NS, 4, 0, buf), 0);
	assert_true(all_zero(buf, 4096));
	assert_int_equal(t_identify(c, NVME_CNS_CS_INDEP_NS, 0xffffffffu, 0, buf), INVALID_NS);
	/* the transfer must be 4 KiB */
	assert_int_equal(t_exec(c, &sqe, buf, 4092, NULL), SGL_LENGTH);
	t_admin_gone(c);
}

/* ---- gates: before enable, opcodes, FUSE / PSDT, Fabrics ---- */

static void test_gates(void **state)
{
	struct ctrl *c = NULL, *d = t_admin(&F, NVMF_DISC_NQN, HOST_A, 0);
	struct nvme_sqe sqe;
	uint32_t dw0;
	uint64_t v;

	(void)state;
	assert_int_equal(t_connect(&F, NQN_A, HOST_A, 0, 31, 0xffff, 0, &dw0, &c), 0);
	/* before CC.EN = 1 and CSTS.RDY = 1, only Fabrics commands run */
	assert_int_equal(t_identify(c, NVME_CNS_CTRL, 0, 0, buf), CMD_SEQ);
	assert_int_equal(exec0(c, NVME_ADM_KEEP_ALIVE, 0, 0, NULL), CMD_SEQ);
	assert_int_equal(t_prop_get(c, NVME_REG_VS, 4, &v), 0);
	assert_int_equal(v, 0x10400);
	assert_int_equal(t_prop_set(c, NVME_REG_CC, CC_IO | 1), 0);
	assert_int_equal(t_identify(c, NVME_CNS_CTRL, 0, 0, buf), 0);
	/* unknown opcodes; Abort is not for discovery controllers */
	assert_int_equal(exec0(c, NVME_ADM_FORMAT_NVM, 0, 0, NULL), INVALID_OPC);
	assert_int_equal(exec0(c, NVME_ADM_CREATE_SQ, 0, 0, NULL), INVALID_OPC);
	assert_int_equal(exec0(c, NVME_ADM_ABORT, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 1); /* not aborted */
	assert_int_equal(exec0(d, NVME_ADM_ABORT, 0, 0, NULL), INVALID_OPC);
	/* no fused commands; SGLs only */
	sqe = t_sqe(NVME_ADM_KEEP_ALIVE, 0, 0, 0, 0, 0, 0, 0);
	sqe.flags |= 1;
	assert_int_equal(t_exec(c, &sqe, NULL, 0, NULL), INVALID_FIELD);
	sqe.flags = 0;
	assert_int_equal(t_exec(c, &sqe, NULL, 0, NULL), INVALID_FIELD);
	/* Keep Alive: KATO 0 has no timer (as nvmet); data where none is allowed */
	assert_int_equal(exec0(c, NVME_ADM_KEEP_ALIVE, 0, 0, NULL),
			 T_ST(GENERIC, KA_TIMEOUT_INVALID) | NVME_STATUS_DNR);
	assert_int_equal(exec0(d, NVME_ADM_KEEP_ALIVE, 0, 0, NULL), 0);
	sqe = t_sqe(NVME_ADM_KEEP_ALIVE, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(t_exec(d, &sqe, buf, 64, NULL), SGL_LENGTH);
	t_admin_gone(c);
	t_admin_gone(d);
}

static nvme_status_t fabrics(struct ctrl *c, uint8_t fctype, uint8_t attrib, uint32_t ofst)
{
	struct nvme_sqe sqe = t_prop_sqe(fctype, ofst, 0, attrib);

	return t_exec(c, &sqe, NULL, 0, NULL);
}

static void test_properties(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0), *d = t_admin(&F, NVMF_DISC_NQN, HOST_A, 0);
	uint64_t v;

	(void)state;
	assert_int_equal(t_prop_get(c, NVME_REG_CAP, 8, &v), 0);
	assert_int_equal(NVMEV(NVME_CAP_MQES, v), 127);
	assert_int_equal(NVMEV(NVME_CAP_CQR, v), 1);
	assert_int_equal(NVMEV(NVME_CAP_CSS, v), 1);
	assert_int_equal(t_prop_get(d, NVME_REG_CAP, 8, &v), 0);
	assert_int_equal(NVMEV(NVME_CAP_MQES, v), 31);
	assert_int_equal(t_prop_get(c, NVME_REG_CSTS, 4, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(t_prop_get(c, NVME_REG_CAP, 4, &v), INVALID_FIELD);
	assert_int_equal(t_prop_get(c, 0x40, 4, &v), INVALID_FIELD);
	assert_int_equal(fabrics(c, NVMF_FCTYPE_PROPERTY_GET, 2, NVME_REG_VS), INVALID_FIELD);
	assert_int_equal(t_prop_set(c, NVME_REG_CSTS, 0), INVALID_FIELD);
	/* shutdown: SHST complete at once; the controller stays enabled */
	assert_int_equal(t_prop_set(c, NVME_REG_CC, CC_IO | 1 | (1u << 14)), 0);
	assert_int_equal(t_prop_get(c, NVME_REG_CSTS, 4, &v), 0);
	assert_int_equal(NVMEV(NVME_CSTS_SHST, v), NVME_CSTS_SHST_COMPLETE);
	/* reset */
	assert_int_equal(t_prop_set(c, NVME_REG_CC, CC_IO), 0);
	assert_int_equal(t_prop_get(c, NVME_REG_CSTS, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_false(atomic_load(&c->enabled));
	assert_int_equal(t_identify(c, NVME_CNS_CTRL, 0, 0, buf), CMD_SEQ);
	/* an invalid enable (IOSQES 0 on an I/O controller): CSTS.CFS */
	assert_int_equal(t_prop_set(c, NVME_REG_CC, 1), 0);
	assert_int_equal(t_prop_get(c, NVME_REG_CSTS, 4, &v), 0);
	assert_true(NVMEV(NVME_CSTS_CFS, v));
	assert_false(atomic_load(&c->enabled));
	/* Connect on a connected queue; Disconnect on the admin queue; unknown */
	assert_int_equal(fabrics(c, NVMF_FCTYPE_CONNECT, 0, 0), CMD_SEQ);
	assert_int_equal(fabrics(c, NVMF_FCTYPE_DISCONNECT, 0, 0),
			 T_ST(COMMAND_SPECIFIC, DISCONNECT_INVALID_QTYPE) | NVME_STATUS_DNR);
	assert_int_equal(fabrics(c, 0x07, 0, 0), INVALID_OPC);
	t_admin_gone(c);
	t_admin_gone(d);
}

/* ---- features ---- */

static nvme_status_t getf(struct ctrl *c, uint8_t fid, uint32_t sel, uint32_t cdw11, uint32_t *dw0)
{
	return exec0(c, NVME_ADM_GET_FEATURES, fid | sel << 8, cdw11, dw0);
}

static nvme_status_t setf(struct ctrl *c, uint32_t cdw10, uint32_t cdw11, uint32_t *dw0)
{
	return exec0(c, NVME_ADM_SET_FEATURES, cdw10, cdw11, dw0);
}

static void test_features_io(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0);
	uint32_t dw0 = 0;

	(void)state;
	/* Number of Queues: 65535 invalid; granted at most max_io_queues (8) */
	assert_int_equal(getf(c, NVME_FEAT_NUM_QUEUES, 0, 0, &dw0), 0);
	assert_int_equal(dw0, (7u << 16) | 7);
	assert_int_equal(setf(c, NVME_FEAT_NUM_QUEUES, 0xffff, &dw0), INVALID_FIELD);
	assert_int_equal(setf(c, NVME_FEAT_NUM_QUEUES, 0xffffu << 16, &dw0), INVALID_FIELD);
	assert_int_equal(setf(c, NVME_FEAT_NUM_QUEUES, 15 | 15u << 16, &dw0), 0);
	assert_int_equal(dw0, (7u << 16) | 7);
	assert_int_equal(setf(c, NVME_FEAT_NUM_QUEUES, 1 | 1u << 16, &dw0), 0);
	assert_int_equal(dw0, (1u << 16) | 1);
	assert_int_equal(getf(c, NVME_FEAT_NUM_QUEUES, 0, 0, &dw0), 0);
	assert_int_equal(dw0, (1u << 16) | 1);
	assert_int_equal(getf(c, NVME_FEAT_NUM_QUEUES, 1, 0, &dw0), 0); /* default */
	assert_int_equal(dw0, (7u << 16) | 7);
	assert_int_equal(getf(c, NVME_FEAT_NUM_QUEUES, 2, 0, &dw0), 0); /* saved = default */
	assert_int_equal(dw0, (7u << 16) | 7);
	assert_int_equal(getf(c, NVME_FEAT_NUM_QUEUES, 3, 0, &dw0), 0); /* capabilities */
	assert_int_equal(dw0, 4);
	assert_int_equal(getf(c, NVME_FEAT_NUM_QUEUES, 4, 0, &dw0), INVALID_FIELD);
	assert_int_equal(setf(c, NVME_FEAT_NUM_QUEUES | NVME_FEAT_SV, 0, &dw0),
			 T_ST(COMMAND_SPECIFIC, FEATURE_NOT_SAVEABLE) | NVME_STATUS_DNR);
	/* Asynchronous Event Configuration: NS attribute changes (and SMART bits) */
	assert_int_equal(setf(c, NVME_FEAT_ASYNC_EVENT, 0x100, NULL), 0);
	assert_int_equal(getf(c, NVME_FEAT_ASYNC_EVENT, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 0x100);
	assert_int_equal(setf(c, NVME_FEAT_ASYNC_EVENT, 0x80000000u, NULL), INVALID_FIELD);
	assert_int_equal(setf(c, NVME_FEAT_ASYNC_EVENT, 0x200, NULL), INVALID_FIELD);
	/* KATO, rounded up to the second */
	assert_int_equal(setf(c, NVME_FEAT_KATO, 1500, NULL), 0);
	assert_int_equal(getf(c, NVME_FEAT_KATO, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 2000);
	assert_int_equal(getf(c, NVME_FEAT_KATO, 1, 0, &dw0), 0);
	assert_int_equal(dw0, 0);
	/* Volatile Write Cache */
	assert_int_equal(getf(c, NVME_FEAT_VOLATILE_WC, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 1);
	assert_int_equal(setf(c, NVME_FEAT_VOLATILE_WC, 0, NULL), 0);
	assert_false(c->vwc);
	assert_int_equal(getf(c, NVME_FEAT_VOLATILE_WC, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(setf(c, NVME_FEAT_VOLATILE_WC, 1, NULL), 0);
	assert_true(c->vwc);
	/* Temperature Threshold: over = WCTEMP, under = 0; set accepted */
	assert_int_equal(getf(c, NVME_FEAT_TEMP_THRESH, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 343);
	assert_int_equal(getf(c, NVME_FEAT_TEMP_THRESH, 0, 1u << 20, &dw0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(setf(c, NVME_FEAT_TEMP_THRESH, 350, NULL), 0);
	assert_int_equal(setf(c, NVME_FEAT_TEMP_THRESH, 350 | 2u << 20, NULL), INVALID_FIELD);
	assert_int_equal(setf(c, NVME_FEAT_TEMP_THRESH, 350 | 3u << 16, NULL), INVALID_FIELD);
	/* Reservation Notification Mask (82h), Reservation Persistence (83h): per namespace */
	{
		struct ctrl_req r;
		struct nvme_sqe q;

		q = t_sqe(NVME_ADM_SET_FEATURES, 1, NVME_FEAT_RESV_MASK, 0x6, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, NULL), 0);
		q = t_sqe(NVME_ADM_GET_FEATURES, 1, NVME_FEAT_RESV_MASK, 0, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, &r), 0);
		dw0 = r.dw0;
		assert_int_equal(dw0, 0x6);
		q = t_sqe(NVME_ADM_GET_FEATURES, 2, NVME_FEAT_RESV_MASK, 0, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, &r), 0);
		dw0 = r.dw0;
		assert_int_equal(dw0, 0); /* another namespace: its own */
		q = t_sqe(NVME_ADM_SET_FEATURES, 1, NVME_FEAT_RESV_MASK, 0x1, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, NULL), INVALID_FIELD);
		q = t_sqe(NVME_ADM_SET_FEATURES, 9, NVME_FEAT_RESV_MASK, 0x2, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, NULL), INVALID_NS);
		q = t_sqe(NVME_ADM_SET_FEATURES, NVME_NSID_ALL, NVME_FEAT_RESV_MASK, 0x8, 0, 0, 0,
			  0);
		assert_int_equal(t_exec(c, &q, NULL, 0, NULL), 0);
		q = t_sqe(NVME_ADM_GET_FEATURES, 2, NVME_FEAT_RESV_MASK, 0, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, &r), 0);
		dw0 = r.dw0;
		assert_int_equal(dw0, 0x8);
		q = t_sqe(NVME_ADM_GET_FEATURES, 1, NVME_FEAT_RESV_PERSIST | 3u << 8, 0, 0, 0, 0,
			  0);
		assert_int_equal(t_exec(c, &q, NULL, 0, &r), 0);
		dw0 = r.dw0;
		assert_int_equal(dw0, 6); /* changeable, namespace specific */
		q = t_sqe(NVME_ADM_GET_FEATURES, 1, NVME_FEAT_RESV_PERSIST, 0, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, &r), 0);
		dw0 = r.dw0;
		assert_int_equal(dw0, 0);
		/* no state_dir in this target: PTPL cannot be set */
		q = t_sqe(NVME_ADM_SET_FEATURES, 1, NVME_FEAT_RESV_PERSIST, 1, 0, 0, 0, 0);
		assert_int_equal(t_exec(c, &q, NULL, 0, NULL), INVALID_FIELD);
	}
	/* what we do not have */
	assert_int_equal(getf(c, NVME_FEAT_IRQ_CONFIG, 0, 0, &dw0), INVALID_FIELD);
	assert_int_equal(getf(c, NVME_FEAT_TIMESTAMP, 0, 0, &dw0), INVALID_FIELD);
	/* a reset brings features back to their defaults */
	assert_int_equal(t_prop_set(c, NVME_REG_CC, CC_IO), 0);
	assert_int_equal(c->aen_cfg, 0);
	assert_false(c->nr_io_queues_set);
	t_admin_gone(c);
}

/* Get Features into a buffer (Host Identifier's 16 bytes). */
static nvme_status_t getf_buf(struct ctrl *c, uint8_t fid, uint32_t cdw11, void *out, uint32_t len)
{
	struct nvme_sqe sqe = t_sqe(NVME_ADM_GET_FEATURES, 0, fid, cdw11, 0, 0, 0, 0);

	return t_exec(c, &sqe, out, len, NULL);
}

/*
 * The mandatory features a host reads (Base 2.0 Figure 317; spdk_nvme_identify
 * and nvme-cli read 01h, 02h, 04h, 05h, 08h, 81h): Arbitration (5.27.1.1),
 * Power Management with one power state (5.27.1.2, NPSS 0), Temperature
 * Threshold (5.27.1.4), Error Recovery (5.27.1.5), Interrupt Coalescing
 * (5.27.1.8), Host Identifier (5.27.1.26, the HOSTID of Connect).
 */
static void test_features_mandatory(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0);
	uint32_t dw0 = 0;

	(void)state;
	/* Arbitration: AB 111b by default; AB, LPW, MPW, HPW kept, bits 7:3 dropped */
	assert_int_equal(getf(c, NVME_FEAT_ARBITRATION, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 7);
	assert_int_equal(setf(c, NVME_FEAT_ARBITRATION, 0x030201fau, NULL), 0);
	assert_int_equal(getf(c, NVME_FEAT_ARBITRATION, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 0x03020102u);
	assert_int_equal(getf(c, NVME_FEAT_ARBITRATION, 1, 0, &dw0), 0);
	assert_int_equal(dw0, 7);
	assert_int_equal(getf(c, NVME_FEAT_ARBITRATION, 3, 0, &dw0), 0);
	assert_int_equal(dw0, 4); /* changeable, not saveable */
	/* Power Management: PS 0 only (NPSS 0), no workload hint */
	assert_int_equal(getf(c, NVME_FEAT_POWER_MGMT, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(setf(c, NVME_FEAT_POWER_MGMT, 0, NULL), 0);
	assert_int_equal(setf(c, NVME_FEAT_POWER_MGMT, 1, NULL), INVALID_FIELD);
	assert_int_equal(setf(c, NVME_FEAT_POWER_MGMT, 1u << 5, NULL), INVALID_FIELD);
	assert_int_equal(t_identify(c, NVME_CNS_CTRL, 0, 0, buf), 0);
	assert_int_equal(((struct nvme_id_ctrl *)buf)->npss, 0);
	assert_int_not_equal(t_le16(&((struct nvme_id_ctrl *)buf)->psd[0].mp), 0);
	/* Error Recovery: TLER kept; DULBE not supported */
	assert_int_equal(setf(c, NVME_FEAT_ERR_RECOVERY, 30, NULL), 0);
	assert_int_equal(getf(c, NVME_FEAT_ERR_RECOVERY, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 30);
	assert_int_equal(setf(c, NVME_FEAT_ERR_RECOVERY, 1u << 16, NULL), INVALID_FIELD);
	/* Interrupt Coalescing: accepted and reported (no interrupts on Fabrics) */
	assert_int_equal(getf(c, NVME_FEAT_IRQ_COALESCE, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(setf(c, NVME_FEAT_IRQ_COALESCE, 0x0a04, NULL), 0);
	assert_int_equal(getf(c, NVME_FEAT_IRQ_COALESCE, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 0x0a04);
	assert_int_equal(getf(c, NVME_FEAT_IRQ_COALESCE, 2, 0, &dw0), 0); /* saved: default */
	assert_int_equal(dw0, 0);
	/* Host Identifier: EXHID 1, 16 bytes of data: Connect's HOSTID; not settable */
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(getf_buf(c, NVME_FEAT_HOST_ID, 1, buf, 16), 0);
	assert_memory_equal(buf, F.hostid, 16);
	/* EXHID 0 with 8 bytes: what nvme-cli sends without --cdw11=1 */
	assert_int_equal(getf_buf(c, NVME_FEAT_HOST_ID, 0, buf, 8), INVALID_FIELD);
	assert_int_equal(getf_buf(c, NVME_FEAT_HOST_ID, 1, buf, 8), SGL_LENGTH);
	assert_int_equal(getf(c, NVME_FEAT_HOST_ID, 3, 0, &dw0), 0);
	assert_int_equal(dw0, 0); /* not changeable */
	assert_int_equal(setf(c, NVME_FEAT_HOST_ID, 1, NULL), CMD_SEQ);
	/* data on a feature that has none */
	assert_int_equal(getf_buf(c, NVME_FEAT_ARBITRATION, 0, buf, 16), SGL_LENGTH);
	/* a reset brings them back to their defaults */
	assert_int_equal(t_prop_set(c, NVME_REG_CC, CC_IO), 0);
	assert_int_equal(c->feat_arb, 7);
	assert_int_equal(c->feat_err_rec, 0);
	assert_int_equal(c->feat_irq_coal, 0);
	t_admin_gone(c);
}

/*
 * Temperature Threshold (Base 5.27.1.4) kept per controller; a threshold the
 * composite temperature (313 K, no sensor) is past sets the SMART critical
 * warning bit 1 (Figure 207) and, where enabled in 0Bh, an AEN of type
 * SMART / Health, information Temperature Threshold, log 02h (Figure 148),
 * reported again once the host has read the log.
 */
static void test_temp_threshold(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0), *d = t_admin(&F, NQN_A, HOST_A, 0);
	struct nvme_smart_log log;
	struct nvme_sqe sqe = t_sqe(NVME_ADM_ASYNC_EVENT, 0, 0, 0, 0, 0, 0, 0);
	struct ctrl_req r;
	uint32_t dw0 = 0;

	(void)state;
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0xffffffffu, 0, &log, sizeof(log), false), 0);
	assert_int_equal(log.critical_warning, 0);
	/* sensors 1-8 are not implemented; THSEL 10b is reserved */
	assert_int_equal(setf(c, NVME_FEAT_TEMP_THRESH, 300 | 1u << 16, NULL), INVALID_FIELD);
	assert_int_equal(getf(c, NVME_FEAT_TEMP_THRESH, 0, 2u << 20, &dw0), INVALID_FIELD);
	/* the temperature AEN enabled, an AER waiting */
	assert_int_equal(setf(c, NVME_FEAT_ASYNC_EVENT, AEN_SMART_TEMP, NULL), 0);
	sqe.cid = 77;
	memset(&r, 0, sizeof(r));
	r.sqe = &sqe;
	assert_int_equal(ctrl_admin_exec(c, &r), CTRL_EXEC_HELD);
	/* over threshold 310 K: crossed */
	assert_int_equal(setf(c, NVME_FEAT_TEMP_THRESH, 310, NULL), 0);
	assert_int_equal(getf(c, NVME_FEAT_TEMP_THRESH, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 310);
	assert_int_equal(F.naer_done, 1);
	assert_int_equal(F.aer_cid[0], 77);
	assert_int_equal(F.aer_dw0[0], NVME_AER_RESULT(NVME_AER_TYPE_SMART, 1, NVME_LOG_SMART));
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0xffffffffu, 0, &log, sizeof(log), false), 0);
	assert_int_equal(log.critical_warning, SMART_CRIT_TEMP);
	/* the other controller keeps its own thresholds */
	assert_int_equal(t_get_log(d, NVME_LOG_SMART, 0xffffffffu, 0, &log, sizeof(log), false), 0);
	assert_int_equal(log.critical_warning, 0);
	/* back above: the warning clears; under threshold 320 K: set again */
	assert_int_equal(setf(c, NVME_FEAT_TEMP_THRESH, 350, NULL), 0);
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0xffffffffu, 0, &log, sizeof(log), false), 0);
	assert_int_equal(log.critical_warning, 0);
	assert_int_equal(setf(c, NVME_FEAT_TEMP_THRESH, 320 | 1u << 20, NULL), 0);
	assert_int_equal(getf(c, NVME_FEAT_TEMP_THRESH, 0, 1u << 20, &dw0), 0);
	assert_int_equal(dw0, 320);
	assert_int_equal(getf(c, NVME_FEAT_TEMP_THRESH, 1, 1u << 20, &dw0), 0);
	assert_int_equal(dw0, 0); /* the default under threshold */
	/* read with RAE set: the event stays for the next AER (the first was unmasked
	 * when the log was read with RAE clear above) */
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0xffffffffu, 0, &log, sizeof(log), true), 0);
	assert_int_equal(log.critical_warning, SMART_CRIT_TEMP);
	sqe.cid = 78;
	assert_int_equal(ctrl_admin_exec(c, &r), CTRL_EXEC_DONE);
	assert_int_equal(r.dw0, NVME_AER_RESULT(NVME_AER_TYPE_SMART, 1, NVME_LOG_SMART));
	/* a reset: thresholds back to WCTEMP / 0 */
	assert_int_equal(t_prop_set(c, NVME_REG_CC, CC_IO), 0);
	assert_int_equal(c->tmpth_over, 343);
	assert_int_equal(c->tmpth_under, 0);
	t_admin_gone(c);
	t_admin_gone(d);
}

static void test_features_disc(void **state)
{
	struct ctrl *d = t_admin(&F, NVMF_DISC_NQN, HOST_A, 30000);
	uint32_t dw0 = 0;

	(void)state;
	assert_int_equal(getf(d, NVME_FEAT_KATO, 0, 0, &dw0), 0);
	assert_int_equal(dw0, 30000);
	assert_int_equal(getf(d, NVME_FEAT_KATO, 1, 0, &dw0), 0);
	assert_int_equal(dw0, 120000);
	assert_int_equal(setf(d, NVME_FEAT_ASYNC_EVENT, 0x80000000u, NULL), 0);
	assert_int_equal(setf(d, NVME_FEAT_ASYNC_EVENT, 0x100, NULL), INVALID_FIELD);
	assert_int_equal(setf(d, NVME_FEAT_NUM_QUEUES, 0, NULL), INVALID_FIELD);
	assert_int_equal(getf(d, NVME_FEAT_VOLATILE_WC, 0, 0, &dw0), INVALID_FIELD);
	assert_int_equal(getf(d, NVME_FEAT_TEMP_THRESH, 0, 0, &dw0), INVALID_FIELD);
	assert_int_equal(getf(d, NVME_FEAT_ARBITRATION, 0, 0, &dw0), INVALID_FIELD);
	assert_int_equal(getf(d, NVME_FEAT_POWER_MGMT, 0, 0, &dw0), INVALID_FIELD);
	t_admin_gone(d);
}

/* ---- the discovery log, read as nvme-cli does ---- */

static const struct nvmf_disc_log_entry *entry(const uint8_t *log, int i)
{
	return (const struct nvmf_disc_log_entry *)(log + 1024 + 1024 * i);
}

static void check_entry(const struct nvmf_disc_log_entry *e, uint8_t subtype, uint8_t adrfam,
			uint16_t portid, const char *traddr, const char *trsvcid, const char *nqn)
{
	char pad[256];
	bool tls = strcmp(trsvcid, "4421") == 0; /* listener 1 requires TLS */

	assert_int_equal(e->trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(e->adrfam, adrfam);
	assert_int_equal(e->subtype, subtype);
	/* TREQ secure channel required and TSAS SECTYPE TLS 1.3 on a TLS port */
	assert_int_equal(e->treq, tls ? NVMF_TREQ_SECURE_REQUIRED : NVMF_TREQ_SECURE_NOT_REQUIRED);
	assert_int_equal(t_le16(&e->portid), portid);
	assert_int_equal(t_le16(&e->cntlid), 0xffff);
	assert_int_equal(t_le16(&e->asqsz), 32);
	assert_int_equal(t_le16(&e->eflags), subtype == NVMF_SUBTYPE_DISC_CURRENT ? 3 : 0);
	/* strings NUL-padded to the end of their fields */
	memset(pad, 0, sizeof(pad));
	snprintf(pad, sizeof(pad), "%s", trsvcid);
	assert_memory_equal(e->trsvcid, pad, sizeof(e->trsvcid));
	memset(pad, 0, sizeof(pad));
	snprintf(pad, sizeof(pad), "%s", traddr);
	assert_memory_equal(e->traddr, pad, sizeof(e->traddr));
	memset(pad, 0, sizeof(pad));
	snprintf(pad, sizeof(pad), "%s", nqn);
	assert_memory_equal(e->subnqn, pad, sizeof(e->subnqn));
	assert_int_equal(e->tcp.sectype, tls ? NVMF_TCP_SECTYPE_TLS13 : NVMF_TCP_SECTYPE_NONE);
}

static uint64_t read_numrec(struct ctrl *d)
{
	uint8_t hdr[20];

	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, hdr, sizeof(hdr), false), 0);
	assert_int_equal(t_le64(hdr), 7);      /* genctr */
	assert_int_equal(t_le16(hdr + 16), 0); /* recfmt */
	return t_le64(hdr + 8);
}

static void test_discovery_log(void **state)
{
	struct ctrl *d = t_admin(&F, NVMF_DISC_NQN, HOST_A, 0);
	static uint8_t whole[6144], chunks[2 * 4096];

	(void)state;
	/* HOST_A sees A and B, each on listeners 0 (0.0.0.0 -> 10.0.0.5) and 1;
	 * [::] is left out for this IPv4 host; then listener 3, discovery only */
	assert_int_equal(read_numrec(d), 5);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, whole, sizeof(whole), false), 0);
	assert_int_equal(t_le64(whole + 8), 5);
	check_entry(entry(whole, 0), 2, 1, 1, "10.0.0.5", "4420", NQN_A);
	check_entry(entry(whole, 1), 2, 1, 2, "192.0.2.1", "4421", NQN_A);
	check_entry(entry(whole, 2), 2, 1, 1, "10.0.0.5", "4420", NQN_B);
	check_entry(entry(whole, 3), 2, 1, 2, "192.0.2.1", "4421", NQN_B);
	check_entry(entry(whole, 4), 3, 1, 4, "10.0.0.5", "8009", NVMF_DISC_NQN);
	assert_true(all_zero(whole + 20, 1024 - 20));
	/* offset 1024, 4 KiB chunks: the same bytes, zeroes past the end */
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 1024, chunks, 4096, false), 0);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 1024 + 4096, chunks + 4096, 4096, false),
			 0);
	assert_memory_equal(chunks, whole + 1024, 5 * 1024);
	assert_true(all_zero(chunks + 5 * 1024, 3 * 1024));
	/* an odd window inside an entry */
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 2048 + 508, chunks, 12, false), 0);
	assert_memory_equal(chunks, whole + 2048 + 508, 12);
	/* offsets: dword aligned, not beyond the log (the end itself is fine) */
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 1026, chunks, 16, false), INVALID_FIELD);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 6148, chunks, 16, false), INVALID_FIELD);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 1ULL << 40, chunks, 16, false),
			 INVALID_FIELD);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 6144, chunks, 16, false), 0);
	assert_true(all_zero(chunks, 16));
	/* only 70h here */
	assert_int_equal(t_get_log(d, NVME_LOG_ERROR, 0, 0, chunks, 64, false), INVALID_LOG);
	assert_int_equal(t_get_log(d, NVME_LOG_SMART, 0, 0, chunks, 512, false), INVALID_LOG);
	t_admin_gone(d);
}

static void test_discovery_filters(void **state)
{
	struct ctrl *d = t_admin(&F, NVMF_DISC_NQN, HOST_B, 0);
	static uint8_t log[8192];

	(void)state;
	/* HOST_B may not see NQN_B */
	assert_int_equal(read_numrec(d), 3);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, 4096, false), 0);
	check_entry(entry(log, 0), 2, 1, 1, "10.0.0.5", "4420", NQN_A);
	check_entry(entry(log, 2), 3, 1, 4, "10.0.0.5", "8009", NVMF_DISC_NQN);

	/* an IPv6 host: the IPv4 wildcards are left out, [::] is its address */
	d->admin_ci.family = AF_INET6;
	snprintf(d->admin_ci.local_addr, sizeof(d->admin_ci.local_addr), "fd00::5");
	assert_int_equal(read_numrec(d), 2);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, 4096, false), 0);
	check_entry(entry(log, 0), 2, 1, 2, "192.0.2.1", "4421", NQN_A);
	check_entry(entry(log, 1), 2, 2, 3, "fd00::5", "4420", NQN_A);

	/* IPv4 over a dual-stack socket: [::]:4420 is covered by 0.0.0.0:4420 */
	snprintf(d->admin_ci.local_addr, sizeof(d->admin_ci.local_addr), "::ffff:10.0.0.5");
	assert_int_equal(read_numrec(d), 3);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, 4096, false), 0);
	check_entry(entry(log, 0), 2, 1, 1, "10.0.0.5", "4420", NQN_A);
	/* ... unless no IPv4 wildcard has that port */
	F.listeners[0].port = 4430;
	assert_int_equal(read_numrec(d), 4);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, 8192, false), 0);
	check_entry(entry(log, 2), 2, 1, 3, "10.0.0.5", "4420", NQN_A);

	/* discovery = yes: every listener answers discovery too */
	F.listeners[0].port = 4420;
	d->admin_ci.family = AF_INET;
	snprintf(d->admin_ci.local_addr, sizeof(d->admin_ci.local_addr), "10.0.0.5");
	F.cfg.discovery = true;
	assert_int_equal(read_numrec(d), 2 + 3);
	assert_int_equal(t_get_log(d, NVME_LOG_DISC, 0, 0, log, 8192, false), 0);
	check_entry(entry(log, 2), 3, 1, 1, "10.0.0.5", "4420", NVMF_DISC_NQN);
	check_entry(entry(log, 3), 3, 1, 2, "192.0.2.1", "4421", NVMF_DISC_NQN);
	check_entry(entry(log, 4), 3, 1, 4, "10.0.0.5", "8009", NVMF_DISC_NQN);
	t_admin_gone(d);
}

/* ---- the I/O controller's logs ---- */

static void test_log_common(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0);
	struct nvme_sqe sqe;

	(void)state;
	/* NUMD must match the transfer */
	sqe = t_sqe(NVME_ADM_GET_LOG_PAGE, 0, NVME_LOG_SMART | (126u << 16), 0, 0, 0, 0, 0);
	assert_int_equal(t_exec(c, &sqe, buf, 512, NULL), SGL_LENGTH);
	assert_int_equal(t_get_log(c, NVME_LOG_DISC, 0, 0, buf, 1024, false), INVALID_LOG);
	assert_int_equal(t_get_log(c, 0x0d, 0, 0, buf, 1024, false),
			 INVALID_LOG); /* persistent event log */
	assert_int_equal(t_get_log(c, 0xc1, 0, 0, buf, 1024, false), INVALID_LOG);
	/* nvmfd's counters (nvmfd_log.h): signature, version, authentication counts */
	assert_int_equal(t_get_log(c, 0xc0, 0, 0, buf, 512, false), 0);
	assert_memory_equal(buf, "NVMFDCNT", 8);
	assert_int_equal(t_le32(buf + 8), 1);
	assert_true(all_zero(buf + 16, 512 - 16));
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0, 2, buf, 16, false), INVALID_FIELD);
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0, 516, buf, 16, false), INVALID_FIELD);
	/* the window past the end of a log is zero */
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0, 256, buf, 1024, false), 0);
	assert_true(all_zero(buf + 256, 768));

	/* supported log pages */
	assert_int_equal(t_get_log(c, NVME_LOG_SUPPORTED, 0, 0, buf, 1024, false), 0);
	for (unsigned int lid = 0; lid < 256; lid++)
		assert_int_equal(t_le32(buf + 4 * lid), lid <= 5 || lid == NVME_LOG_ANA ||
								lid == NVME_LOG_RESERVATION ||
								lid == 0xc0);
	/* firmware slot: slot 1 active, our version */
	assert_int_equal(t_get_log(c, NVME_LOG_FW_SLOT, 0, 0, buf, 512, false), 0);
	assert_int_equal(buf[0], 1);
	assert_memory_equal(buf + 8, NVMFD_VERSION, strlen(NVMFD_VERSION));
	assert_int_equal(buf[15], ' ');
	/* commands supported and effects */
	assert_int_equal(t_get_log(c, NVME_LOG_CMD_EFFECTS, 0, 0, buf, 4096, false), 0);
	assert_int_equal(t_le32(buf + 4 * NVME_ADM_IDENTIFY), 1);
	assert_int_equal(t_le32(buf + 4 * NVME_ADM_KEEP_ALIVE), 1);
	assert_int_equal(t_le32(buf + 4 * NVME_ADM_ASYNC_EVENT), 1);
	assert_int_equal(t_le32(buf + 4 * NVME_ADM_FORMAT_NVM), 0);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_READ), 1);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_FLUSH), 1);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_WRITE), 3);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_WRITE_ZEROES), 3);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_DSM), 3);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_COMPARE), 1);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_VERIFY), 1);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_RESV_ACQUIRE), 1);
	assert_int_equal(t_le32(buf + 1024 + 4 * NVME_CMD_WRITE_UNCOR), 0);
	/* reservation notifications: nothing yet, an empty entry (type 0) */
	memset(buf, 0xee, 64);
	assert_int_equal(t_get_log(c, NVME_LOG_RESERVATION, 0, 0, buf, 64, false), 0);
	assert_true(all_zero(buf, 64));
	sqe = t_sqe(NVME_ADM_GET_LOG_PAGE, 0, NVME_LOG_CMD_EFFECTS | (1023u << 16), 0, 0, 0,
		    2u << 24, 0);
	assert_int_equal(t_exec(c, &sqe, buf, 4096, NULL), INVALID_FIELD);
	t_admin_gone(c);
}

static void test_log_error(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0);
	struct nvme_error_log_entry e;

	(void)state;
	assert_int_equal(t_get_log(c, NVME_LOG_ERROR, 0, 0, buf, 4096, false), 0);
	assert_true(all_zero(buf, 4096));
	for (uint16_t i = 1; i <= 3; i++)
		ctrl_log_error(c, 1, (uint16_t)(0x100 + i), T_ST(MEDIA, READ_ERROR), 1, 8 * i, 0);
	/* newest first; offsets work here too */
	assert_int_equal(t_get_log(c, NVME_LOG_ERROR, 0, 0, buf, 4096, false), 0);
	memcpy(&e, buf, sizeof(e));
	assert_int_equal(t_le64(&e.error_count), 3);
	assert_int_equal(e.cmdid, 0x103);
	assert_int_equal(t_le64(&e.lba), 24);
	assert_int_equal(t_le32(&e.nsid), 1);
	assert_int_equal(t_le16(&e.sqid), 1);
	assert_int_equal(t_le16(&e.status_field), 0x281 << 1);
	assert_int_equal(t_get_log(c, NVME_LOG_ERROR, 0, 128, buf, 64, false), 0);
	memcpy(&e, buf, sizeof(e));
	assert_int_equal(t_le64(&e.error_count), 1);
	assert_int_equal(t_get_log(c, NVME_LOG_ERROR, 0, 192, buf, 64, false), 0);
	assert_true(all_zero(buf, 64));
	t_admin_gone(c);
}

static uint64_t le128_lo(const uint8_t *p)
{
	assert_int_equal(t_le64(p + 8), 0);
	return t_le64(p);
}

static void test_smart(void **state)
{
	struct ctrl *c = t_admin(&F, NQN_A, HOST_A, 0);
	struct nvme_smart_log log;
	struct smart_counts sc = {0};
	struct smart_life life = {.power_cycles = 1, .power_on_hours = 2};

	(void)state;
	/* data units: thousands of 512-byte units, rounded up */
	sc.read_blocks = 1001;
	sc.write_blocks = 999;
	sc.busy_ns = 150ULL * 1000000000ULL;
	smart_fill(&log, &sc, &life);
	assert_int_equal(le128_lo(log.data_units_read), 2);
	assert_int_equal(le128_lo(log.data_units_written), 1);
	assert_int_equal(le128_lo(log.ctrl_busy_time), 2);
	assert_int_equal(le128_lo(log.power_on_hours), 2);
	sc.read_blocks = 1000;
	sc.write_blocks = 0;
	smart_fill(&log, &sc, &life);
	assert_int_equal(le128_lo(log.data_units_read), 1);
	assert_int_equal(le128_lo(log.data_units_written), 0);
	sc.read_blocks = UINT64_MAX;
	smart_fill(&log, &sc, &life);
	assert_int_equal(le128_lo(log.data_units_read), UINT64_MAX / 1000 + 1);

	/* through the log page: namespace 1 on two workers, namespace 5 */
	atomic_store(&F.stats[0][0].read_cmds, 3);
	atomic_store(&F.stats[0][1].read_cmds, 4);
	atomic_store(&F.stats[0][0].read_blocks, 1000);
	atomic_store(&F.stats[0][1].read_blocks, 1);
	atomic_store(&F.stats[0][1].write_cmds, 2);
	atomic_store(&F.stats[0][1].write_blocks, 16);
	atomic_store(&F.stats[0][0].media_errors, 1);
	atomic_store(&F.stats[2][0].read_cmds, 10);
	atomic_store(&F.stats[2][0].read_blocks, 999);
	ctrl_log_error(c, 1, 1, T_ST(MEDIA, READ_ERROR), 1, 0, 0);
	ctrl_log_error(c, 1, 2, T_ST(MEDIA, READ_ERROR), 1, 0, 0);
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0xffffffff, 0, buf, 512, false), 0);
	memcpy(&log, buf, sizeof(log));
	assert_int_equal(log.critical_warning, 0);
	assert_int_equal(t_le16(log.temperature), 313);
	assert_int_equal(log.avail_spare, 100);
	assert_int_equal(log.spare_thresh, 10);
	assert_int_equal(log.percent_used, 0);
	assert_int_equal(le128_lo(log.host_reads), 17);
	assert_int_equal(le128_lo(log.data_units_read), 2); /* 2000 */
	assert_int_equal(le128_lo(log.host_writes), 2);
	assert_int_equal(le128_lo(log.data_units_written), 1);
	assert_int_equal(le128_lo(log.power_cycles), 1);
	assert_int_equal(le128_lo(log.unsafe_shutdowns), 0);
	assert_int_equal(le128_lo(log.media_errors), 1);
	assert_int_equal(le128_lo(log.num_err_log_entries), 2);
	/* NSID 0 is the whole subsystem too; an active NSID is that namespace */
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 0, 0, buf, 512, false), 0);
	assert_int_equal(le128_lo(((struct nvme_smart_log *)(void *)buf)->host_reads), 17);
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 1, 0, buf, 512, false), 0);
	memcpy(&log, buf, sizeof(log));
	assert_int_equal(le128_lo(log.host_reads), 7);
	assert_int_equal(le128_lo(log.data_units_read), 2); /* 1001 */
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 3, 0, buf, 512, false), INVALID_NS);
	assert_int_equal(t_get_log(c, NVME_LOG_SMART, 9, 0, buf, 512, false), INVALID_NS);
	t_admin_gone(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify_ctrl_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_ctrl_disc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_ns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_misc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_mandatory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temp_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_disc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_common, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smart, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
