/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Every wire structure's size and field offsets, checked again at run time
 * (the headers' _Static_asserts catch a wrong declaration; this catches a
 * compiler or -std that lays them out differently and prints the layout),
 * plus known encodings of a few PDUs, byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <endian.h>

#include "digest.h"
#include "nvme_spec.h"
#include "nvme_tcp.h"
#include "nvmf_spec.h"
#include "pdu.h"
#include "t_pdu_util.h"

struct layout {
	const char *type, *field; /* field NULL: the size of type */
	size_t got, want;
};

#define SIZE(t, n)   {#t, NULL, sizeof(struct t), (n)}
#define OFF(t, f, n) {#t, #f, offsetof(struct t, f), (n)}

/* NVMe Base 2.0, NVMe over Fabrics 1.1 and NVMe/TCP 1.0 figures. */
static const struct layout layouts[] = {
	SIZE(nvme_sgl_desc, 16),
	OFF(nvme_sgl_desc, length, 8),
	OFF(nvme_sgl_desc, type, 15),
	SIZE(nvme_sqe, 64),
	OFF(nvme_sqe, cid, 2),
	OFF(nvme_sqe, nsid, 4),
	OFF(nvme_sqe, mptr, 16),
	OFF(nvme_sqe, sgl1, 24),
	OFF(nvme_sqe, cdw10, 40),
	OFF(nvme_sqe, cdw15, 60),
	SIZE(nvme_cqe, 16),
	OFF(nvme_cqe, sqhd, 8),
	OFF(nvme_cqe, cid, 12),
	OFF(nvme_cqe, status, 14),
	SIZE(nvme_dsm_range, 16),
	OFF(nvme_dsm_range, slba, 8),
	SIZE(nvme_power_state, 32),
	SIZE(nvme_id_ctrl, 4096),
	OFF(nvme_id_ctrl, sn, 4),
	OFF(nvme_id_ctrl, mn, 24),
	OFF(nvme_id_ctrl, fr, 64),
	OFF(nvme_id_ctrl, cmic, 76),
	OFF(nvme_id_ctrl, mdts, 77),
	OFF(nvme_id_ctrl, cntlid, 78),
	OFF(nvme_id_ctrl, ver, 80),
	OFF(nvme_id_ctrl, oaes, 92),
	OFF(nvme_id_ctrl, ctratt, 96),
	OFF(nvme_id_ctrl, cntrltype, 111),
	OFF(nvme_id_ctrl, fguid, 112),
	OFF(nvme_id_ctrl, nvmsr, 253),
	OFF(nvme_id_ctrl, oacs, 256),
	OFF(nvme_id_ctrl, aerl, 259),
	OFF(nvme_id_ctrl, lpa, 261),
	OFF(nvme_id_ctrl, elpe, 262),
	OFF(nvme_id_ctrl, wctemp, 266),
	OFF(nvme_id_ctrl, tnvmcap, 280),
	OFF(nvme_id_ctrl, kas, 320),
	OFF(nvme_id_ctrl, anatt, 342),
	OFF(nvme_id_ctrl, pels, 352),
	OFF(nvme_id_ctrl, megcap, 368),
	OFF(nvme_id_ctrl, sqes, 512),
	OFF(nvme_id_ctrl, maxcmd, 514),
	OFF(nvme_id_ctrl, nn, 516),
	OFF(nvme_id_ctrl, oncs, 520),
	OFF(nvme_id_ctrl, fuses, 522),
	OFF(nvme_id_ctrl, vwc, 525),
	OFF(nvme_id_ctrl, acwu, 532),
	OFF(nvme_id_ctrl, sgls, 536),
	OFF(nvme_id_ctrl, mnan, 540),
	OFF(nvme_id_ctrl, maxcna, 560),
	OFF(nvme_id_ctrl, subnqn, 768),
	OFF(nvme_id_ctrl, ioccsz, 1792),
	OFF(nvme_id_ctrl, iorcsz, 1796),
	OFF(nvme_id_ctrl, icdoff, 1800),
	OFF(nvme_id_ctrl, fcatt, 1802),
	OFF(nvme_id_ctrl, msdbd, 1803),
	OFF(nvme_id_ctrl, ofcs, 1804),
	OFF(nvme_id_ctrl, dctype, 1806),
	OFF(nvme_id_ctrl, psd, 2048),
	OFF(nvme_id_ctrl, vs, 3072),
	SIZE(nvme_lbaf, 4),
	SIZE(nvme_id_ns, 4096),
	OFF(nvme_id_ns, ncap, 8),
	OFF(nvme_id_ns, nuse, 16),
	OFF(nvme_id_ns, nsfeat, 24),
	OFF(nvme_id_ns, flbas, 26),
	OFF(nvme_id_ns, nmic, 30),
	OFF(nvme_id_ns, dlfeat, 33),
	OFF(nvme_id_ns, nvmcap, 48),
	OFF(nvme_id_ns, npwg, 64),
	OFF(nvme_id_ns, mcl, 76),
	OFF(nvme_id_ns, anagrpid, 92),
	OFF(nvme_id_ns, nsattr, 99),
	OFF(nvme_id_ns, nvmsetid, 100),
	OFF(nvme_id_ns, nguid, 104),
	OFF(nvme_id_ns, eui64, 120),
	OFF(nvme_id_ns, lbaf, 128),
	OFF(nvme_id_ns, vs, 384),
	SIZE(nvme_ns_id_desc, 4),
	SIZE(nvme_error_log_entry, 64),
	OFF(nvme_error_log_entry, sqid, 8),
	OFF(nvme_error_log_entry, status_field, 12),
	OFF(nvme_error_log_entry, lba, 16),
	OFF(nvme_error_log_entry, nsid, 24),
	OFF(nvme_error_log_entry, trtype, 29),
	OFF(nvme_error_log_entry, cs, 32),
	OFF(nvme_error_log_entry, trtype_spec_info, 40),
	OFF(nvme_error_log_entry, log_page_version, 63),
	SIZE(nvme_smart_log, 512),
	OFF(nvme_smart_log, temperature, 1),
	OFF(nvme_smart_log, avail_spare, 3),
	OFF(nvme_smart_log, percent_used, 5),
	OFF(nvme_smart_log, data_units_read, 32),
	OFF(nvme_smart_log, data_units_written, 48),
	OFF(nvme_smart_log, host_reads, 64),
	OFF(nvme_smart_log, host_writes, 80),
	OFF(nvme_smart_log, ctrl_busy_time, 96),
	OFF(nvme_smart_log, power_cycles, 112),
	OFF(nvme_smart_log, power_on_hours, 128),
	OFF(nvme_smart_log, unsafe_shutdowns, 144),
	OFF(nvme_smart_log, media_errors, 160),
	OFF(nvme_smart_log, num_err_log_entries, 176),
	OFF(nvme_smart_log, warning_temp_time, 192),
	OFF(nvme_smart_log, temp_sensor, 200),
	OFF(nvme_smart_log, thm_temp1_trans_count, 216),
	OFF(nvme_smart_log, thm_temp2_total_time, 228),
	SIZE(nvme_fw_slot_log, 512),
	OFF(nvme_fw_slot_log, frs, 8),
	SIZE(nvme_changed_ns_log, 4096),
	SIZE(nvme_cmd_effects_log, 4096),
	OFF(nvme_cmd_effects_log, iocs, 1024),
	SIZE(nvmf_fabrics_cmd, 64),
	OFF(nvmf_fabrics_cmd, fctype, 4),
	OFF(nvmf_fabrics_cmd, fabrics_spec, 40),
	SIZE(nvmf_connect_cmd, 64),
	OFF(nvmf_connect_cmd, fctype, 4),
	OFF(nvmf_connect_cmd, sgl1, 24),
	OFF(nvmf_connect_cmd, recfmt, 40),
	OFF(nvmf_connect_cmd, qid, 42),
	OFF(nvmf_connect_cmd, sqsize, 44),
	OFF(nvmf_connect_cmd, cattr, 46),
	OFF(nvmf_connect_cmd, kato, 48),
	SIZE(nvmf_connect_data, 1024),
	OFF(nvmf_connect_data, cntlid, 16),
	OFF(nvmf_connect_data, subnqn, 256),
	OFF(nvmf_connect_data, hostnqn, 512),
	SIZE(nvmf_prop_get_cmd, 64),
	OFF(nvmf_prop_get_cmd, attrib, 40),
	OFF(nvmf_prop_get_cmd, ofst, 44),
	SIZE(nvmf_prop_set_cmd, 64),
	OFF(nvmf_prop_set_cmd, attrib, 40),
	OFF(nvmf_prop_set_cmd, ofst, 44),
	OFF(nvmf_prop_set_cmd, value, 48),
	SIZE(nvmf_disconnect_cmd, 64),
	OFF(nvmf_disconnect_cmd, recfmt, 40),
	SIZE(nvmf_disc_log_hdr, 1024),
	OFF(nvmf_disc_log_hdr, numrec, 8),
	OFF(nvmf_disc_log_hdr, recfmt, 16),
	SIZE(nvmf_disc_log_entry, 1024),
	OFF(nvmf_disc_log_entry, treq, 3),
	OFF(nvmf_disc_log_entry, portid, 4),
	OFF(nvmf_disc_log_entry, cntlid, 6),
	OFF(nvmf_disc_log_entry, asqsz, 8),
	OFF(nvmf_disc_log_entry, eflags, 10),
	OFF(nvmf_disc_log_entry, trsvcid, 32),
	OFF(nvmf_disc_log_entry, subnqn, 256),
	OFF(nvmf_disc_log_entry, traddr, 512),
	OFF(nvmf_disc_log_entry, tsas, 768),
	SIZE(nvme_tcp_ch, 8),
	OFF(nvme_tcp_ch, flags, 1),
	OFF(nvme_tcp_ch, hlen, 2),
	OFF(nvme_tcp_ch, pdo, 3),
	OFF(nvme_tcp_ch, plen, 4),
	SIZE(nvme_tcp_icreq, 128),
	OFF(nvme_tcp_icreq, pfv, 8),
	OFF(nvme_tcp_icreq, hpda, 10),
	OFF(nvme_tcp_icreq, dgst, 11),
	OFF(nvme_tcp_icreq, maxr2t, 12),
	SIZE(nvme_tcp_icresp, 128),
	OFF(nvme_tcp_icresp, pfv, 8),
	OFF(nvme_tcp_icresp, cpda, 10),
	OFF(nvme_tcp_icresp, dgst, 11),
	OFF(nvme_tcp_icresp, maxh2cdata, 12),
	SIZE(nvme_tcp_term_req, 24),
	OFF(nvme_tcp_term_req, fes, 8),
	OFF(nvme_tcp_term_req, fei, 10),
	SIZE(nvme_tcp_cmd, 72),
	OFF(nvme_tcp_cmd, sqe, 8),
	SIZE(nvme_tcp_rsp, 24),
	OFF(nvme_tcp_rsp, cqe, 8),
	SIZE(nvme_tcp_h2c_data, 24),
	OFF(nvme_tcp_h2c_data, cccid, 8),
	OFF(nvme_tcp_h2c_data, ttag, 10),
	OFF(nvme_tcp_h2c_data, datao, 12),
	OFF(nvme_tcp_h2c_data, datal, 16),
	SIZE(nvme_tcp_c2h_data, 24),
	OFF(nvme_tcp_c2h_data, cccid, 8),
	OFF(nvme_tcp_c2h_data, datao, 12),
	OFF(nvme_tcp_c2h_data, datal, 16),
	SIZE(nvme_tcp_r2t, 24),
	OFF(nvme_tcp_r2t, cccid, 8),
	OFF(nvme_tcp_r2t, ttag, 10),
	OFF(nvme_tcp_r2t, r2to, 12),
	OFF(nvme_tcp_r2t, r2tl, 16),
	/* Fields the headers do not assert. */
	OFF(nvme_sgl_desc, addr, 0),
	OFF(nvme_sqe, opc, 0),
	OFF(nvme_sqe, flags, 1),
	OFF(nvme_sqe, cdw2, 8),
	OFF(nvme_sqe, cdw3, 12),
	OFF(nvme_sqe, cdw11, 44),
	OFF(nvme_sqe, cdw12, 48),
	OFF(nvme_sqe, cdw13, 52),
	OFF(nvme_sqe, cdw14, 56),
	OFF(nvme_cqe, dw0, 0),
	OFF(nvme_cqe, dw1, 4),
	OFF(nvme_cqe, sqid, 10),
	OFF(nvme_tcp_ch, pdu_type, 0),
	OFF(nvme_tcp_icreq, rsvd16, 16),
	OFF(nvme_tcp_icresp, rsvd16, 16),
	OFF(nvme_tcp_term_req, rsvd14, 14),
	OFF(nvme_tcp_h2c_data, rsvd20, 20),
	OFF(nvme_tcp_c2h_data, rsvd10, 10),
	OFF(nvme_tcp_c2h_data, rsvd20, 20),
	OFF(nvme_tcp_r2t, rsvd20, 20),
};

static void test_layouts(void **state)
{
	const char *last = "";
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		const struct layout *l = &layouts[i];

		if (strcmp(l->type, last) != 0)
			print_message("# struct %s\n", l->type);
		last = l->type;
		print_message("#   %-22s %5zu%s\n", l->field ? l->field : "(size)", l->got,
			      l->got == l->want ? "" : "  <-- WRONG");
		bad += l->got != l->want;
	}
	assert_int_equal(bad, 0);
}

/* The union that receives headers: room for the largest plus its digest, aligned. */
static void test_pdu_hdr_union(void **state)
{
	(void)state;
	assert_int_equal(sizeof(((union nvme_tcp_pdu_hdr *)0)->raw), 128 + NVME_TCP_DIGEST_LEN);
	assert_true(sizeof(union nvme_tcp_pdu_hdr) >= 128 + NVME_TCP_DIGEST_LEN);
	assert_int_equal(_Alignof(union nvme_tcp_pdu_hdr), 8);
	assert_int_equal(offsetof(union nvme_tcp_pdu_hdr, ch.plen), 4);
}

/* Builders write exactly these bytes (hand-written from NVMe/TCP Figures 25-26). */
static void test_known_icreq_icresp(void **state)
{
	uint8_t want[128] = {0}, got[128];
	struct tcp_tx_pdu t;

	(void)state;
	/* ICReq: type 0, hlen 128, plen 128, PFV 0, HPDA 2, DGST HDGST|DDGST, MAXR2T 0. */
	memcpy(want,
	       (const uint8_t[]){0x00, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
				 0x03, 0x00, 0x00, 0x00, 0x00},
	       16);
	tcp_build_icreq(&t, 2, 3, 0);
	assert_int_equal(t_flatten(&t, got, sizeof(got)), 128);
	assert_memory_equal(got, want, 128);

	/* ICResp: type 1, CPDA 0, DGST HDGST, MAXH2CDATA 128 KiB (00 00 02 00). */
	memcpy(want,
	       (const uint8_t[]){0x01, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				 0x01, 0x00, 0x00, 0x02, 0x00},
	       16);
	tcp_build_icresp(&t, 0, 1, 128 * 1024);
	assert_int_equal(t_flatten(&t, got, sizeof(got)), 128);
	assert_memory_equal(got, want, 128);
}

/* A CapsuleCmd READ as the Linux host sends it: Transport SGL 5Ah, 4 KiB. */
static const uint8_t read_cmd[72] = {
	0x04, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00, 0x00, /* CH: plen 72, no data */
	0x02, 0x40, 0x2a, 0x00, 0x01, 0x00, 0x00, 0x00, /* opc 02h, PSDT 01b, cid 2Ah, nsid 1 */
	0,    0,    0,	  0,	0,    0,    0,	  0,
	0,    0,    0,	  0,	0,    0,    0,	  0,	/* cdw2-3, mptr */
	0,    0,    0,	  0,	0,    0,    0,	  0,	/* SGL address 0 */
	0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5a, /* length 4096, type 5Ah */
	0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* SLBA 16 */
	0x07, 0x00, 0x00, 0x00, 0,    0,    0,	  0,
	0,    0,    0,	  0,	0,    0,    0,	  0, /* NLB 7 (0's based) */
};

static struct nvme_sqe read_sqe(void)
{
	struct nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = 0x02;
	sqe.flags = NVMEF(NVME_SQE_PSDT, NVME_PSDT_SGL_MPTR_CONTIG);
	memcpy(&sqe.cid, (const uint8_t[]){0x2a, 0x00}, 2); /* opaque: wire bytes */
	sqe.nsid = htole32(1);
	sqe.sgl1.length = htole32(4096);
	sqe.sgl1.type = NVME_SGL_TRANSPORT_DB;
	sqe.cdw10 = htole32(16);
	sqe.cdw12 = htole32(7);
	return sqe;
}

static void test_known_capsule_read(void **state)
{
	struct tcp_conn_params p = t_params(false, false, false, 0);
	struct nvme_sqe sqe = read_sqe();
	uint8_t got[128], want[76];
	struct tcp_tx_pdu t;

	(void)state;
	tcp_build_cmd(&t, &p, &sqe, NULL, 0);
	assert_int_equal(t_flatten(&t, got, sizeof(got)), 72);
	assert_memory_equal(got, read_cmd, 72);

	/* With a header digest: HDGSTF, plen 76, CRC-32C of the 72 bytes after them. */
	p.hdgst = true;
	p.ddgst = true; /* no data: no DDGSTF */
	memcpy(want, read_cmd, 72);
	want[1] = 0x01;
	want[4] = 0x4c;
	put_le32(want + 72, t_crc32c_ref(want, 72));
	tcp_build_cmd(&t, &p, &sqe, NULL, 0);
	assert_int_equal(t_flatten(&t, got, sizeof(got)), 76);
	assert_memory_equal(got, want, 76);
}

/* A CapsuleResp (Figure 31): CQE after the CH; status field << 1 with the phase bit. */
static void test_known_capsule_resp(void **state)
{
	static const uint8_t want[24] = {
		0x05, 0x00, 0x18, 0x00, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x01, 0x00, 0x2a, 0x00, 0x04, 0x00,
	};
	struct tcp_conn_params p = t_params(true, false, false, 0);
	struct nvme_cqe cqe = {
		.dw0 = htole32(0x00020001),
		.sqhd = htole16(31),
		.sqid = htole16(1),
		.status = htole16(0x0002 << 1), /* Invalid Field in Command */
	};
	struct tcp_tx_pdu t;
	uint8_t got[32];

	(void)state;
	memcpy(&cqe.cid, (const uint8_t[]){0x2a, 0x00}, 2);
	tcp_build_rsp(&t, &p, &cqe);
	assert_int_equal(t_flatten(&t, got, sizeof(got)), 24);
	assert_memory_equal(got, want, 24);
}

/* The received side reads the same bytes back into the same fields. */
static void test_known_decode(void **state)
{
	struct tcp_conn_params p = t_params(true, false, false, 0);
	struct t_rx_run run;
	struct tcp_rx rx;

	(void)state;
	tcp_rx_init(&rx, &p);
	tcp_rx_ic_done(&rx);
	t_feed(&rx, read_cmd, sizeof(read_cmd), t_chunk_one, NULL, false, &run);
	assert_int_equal(run.err, 0);
	assert_int_equal(run.npdu, 1);
	const struct nvme_sqe *sqe = &run.pdu[0].hdr.cmd.sqe;
	assert_int_equal(sqe->opc, 0x02);
	assert_int_equal(NVMEV(NVME_SQE_PSDT, sqe->flags), NVME_PSDT_SGL_MPTR_CONTIG);
	assert_int_equal(le32toh(sqe->nsid), 1);
	assert_int_equal(le32toh(sqe->sgl1.length), 4096);
	assert_int_equal(sqe->sgl1.type, 0x5a);
	assert_int_equal(le32toh(sqe->cdw10), 16);
	assert_int_equal(le32toh(sqe->cdw12), 7);
	t_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_pdu_hdr_union),
		cmocka_unit_test(test_known_icreq_icresp),
		cmocka_unit_test(test_known_capsule_read),
		cmocka_unit_test(test_known_capsule_resp),
		cmocka_unit_test(test_known_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
