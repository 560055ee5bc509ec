/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport/auth_msg.c: the authentication messages on the wire. Byte
 * images written out from the layouts (NVMe Base 2.0 8.13.4, and
 * include/linux/nvme.h's nvmf_auth_* structs) decode to the right fields
 * and encode back to the same bytes; every declared length that does not
 * fit is refused with the explanation a Failure message carries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth_msg.h"

static uint8_t buf[AUTH_MSG_MAX + 64];

static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct nvmf_auth_send_cmd), 64);
	assert_int_equal(offsetof(struct nvmf_auth_send_cmd, secp), 43);
	assert_int_equal(offsetof(struct nvmf_auth_recv_cmd, al), 44);
	assert_int_equal(sizeof(struct nvmf_auth_negotiate), 8);
	assert_int_equal(sizeof(struct nvmf_dhchap_protocol_desc), 64);
	assert_int_equal(offsetof(struct nvmf_dhchap_protocol_desc, dhgidlist), 34);
	assert_int_equal(sizeof(struct nvmf_dhchap_challenge), 16);
	assert_int_equal(sizeof(struct nvmf_dhchap_reply), 16);
	assert_int_equal(sizeof(struct nvmf_dhchap_success1), 16);
	assert_int_equal(sizeof(struct nvmf_dhchap_success2), 16);
	assert_int_equal(sizeof(struct nvmf_auth_failure), 8);
	assert_int_equal(AUTH_MSG_MAX, 16 + 128 + 1024);
}

/* What the Linux host sends: all three hashes, all six groups (host/auth.c). */
static void test_negotiate(void **state)
{
	uint8_t img[72] = {0x00, 0x00, 0, 0, 0x34, 0x12, 0x00, 0x01, /* T_ID 1234h, NAPD 1 */
			   0x01, 0,    3, 6, 1,	   2,	 3};
	struct auth_negotiate m;
	uint8_t expl;

	(void)state;
	for (int i = 0; i < 6; i++)
		img[8 + 34 + i] = (uint8_t)i;
	assert_int_equal(auth_negotiate_decode(img, sizeof(img), &m, &expl), 0);
	assert_int_equal(m.t_id, 0x1234);
	assert_int_equal(m.sc_c, 0);
	assert_int_equal(m.halen, 3);
	assert_int_equal(m.dhlen, 6);
	assert_memory_equal(m.hashids, ((uint8_t[]){1, 2, 3}), 3);
	assert_int_equal(m.dhgids[5], 5);
	assert_int_equal(auth_negotiate_encode(&m, buf, sizeof(buf)), sizeof(img));
	assert_memory_equal(buf, img, sizeof(img));
	assert_int_equal(auth_negotiate_encode(&m, buf, sizeof(img) - 1), -ENOSPC);

	/* Trailing bytes (an AUTH Receive's padding) are ignored. */
	memcpy(buf, img, sizeof(img));
	assert_int_equal(auth_negotiate_decode(buf, sizeof(img) + 16, &m, &expl), 0);

	/* A second, unknown protocol first: the DH-HMAC-CHAP one is found. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, img, 8);
	buf[7] = 2;
	buf[8] = 0x7f;
	memcpy(buf + 72, img + 8, 64);
	assert_int_equal(auth_negotiate_decode(buf, 136, &m, &expl), 0);
	assert_int_equal(m.halen, 3);

	static const struct {
		int off;
		uint8_t val;
		size_t len;
		uint8_t expl;
	} bad[] = {
		{0, 0x01, 72, NVMF_AUTH_EXPL_INCORRECT_MESSAGE}, /* AUTH_Type */
		{1, 0x01, 72, NVMF_AUTH_EXPL_INCORRECT_MESSAGE}, /* AUTH_Id */
		{7, 0, 72, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* NAPD 0 */
		{7, 2, 72, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* 2 descriptors, 1 sent */
		{-1, 0, 71, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* descriptor cut short */
		{-1, 0, 7, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* header cut short */
		{10, 31, 72, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* HALEN > 30 */
		{11, 31, 72, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* DHLEN > 30 */
		{8, 0x02, 72, NVMF_AUTH_EXPL_PROTOCOL_UNUSABLE}, /* no DH-HMAC-CHAP */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, img, sizeof(img));
		if (bad[i].off >= 0)
			buf[bad[i].off] = bad[i].val;
		expl = 0;
		assert_int_equal(auth_negotiate_decode(buf, bad[i].len, &m, &expl), -EBADMSG);
		assert_int_equal(expl, bad[i].expl);
	}
	m.halen = 31;
	assert_int_equal(auth_negotiate_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void test_challenge(void **state)
{
	static struct dhchap_challenge m, d;
	uint8_t expl;
	ssize_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.t_id = 7;
	m.hl = 48;
	m.hashid = NVMF_DHCHAP_HASH_SHA384;
	m.dhgid = NVMF_DHCHAP_DHGROUP_FFDHE3072;
	m.dhvlen = 384;
	m.seqnum = 0xa1b2c3d4;
	memset(m.cval, 0xc1, 48);
	memset(m.dhv, 0xd1, 384);
	n = dhchap_challenge_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 16 + 48 + 384);
	/* Header bytes at the offsets of the specification's figure. */
	assert_memory_equal(buf,
			    ((uint8_t[]){0x01, 0x01, 0, 0, 7, 0, 48, 0, 2, 2, 0x80, 0x01, 0xd4,
					 0xc3, 0xb2, 0xa1}),
			    16);
	assert_int_equal(buf[16], 0xc1);
	assert_int_equal(buf[16 + 48], 0xd1);
	assert_int_equal(dhchap_challenge_decode(buf, n, &d, &expl), 0);
	assert_int_equal(d.seqnum, m.seqnum);
	assert_int_equal(d.dhvlen, 384);
	assert_memory_equal(d.cval, m.cval, 48);
	assert_memory_equal(d.dhv, m.dhv, 384);

	static const struct {
		int off;
		uint8_t val;
		ssize_t len; /* < 0: n + len */
		uint8_t expl;
	} bad[] = {
		{1, NVMF_AUTH_ID_REPLY, 0, NVMF_AUTH_EXPL_INCORRECT_MESSAGE},
		{8, 4, 0, NVMF_AUTH_EXPL_HASH_UNUSABLE}, /* unknown hash */
		{8, 0, 0, NVMF_AUTH_EXPL_HASH_UNUSABLE},
		{6, 32, 0, NVMF_AUTH_EXPL_HASH_UNUSABLE},	 /* HL not SHA-384's */
		{9, 6, 0, NVMF_AUTH_EXPL_DHGROUP_UNUSABLE},	 /* unknown group */
		{9, 0, 0, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* NULL group with a value */
		{9, 5, 0, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* 384 bytes for ffdhe8192 */
		{11, 0x04, 0, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD}, /* DHVLEN 1152 > the group */
		{-1, 0, -1, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* value cut short */
		{-1, 0, 15, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dhchap_challenge_encode(&m, buf, sizeof(buf));
		if (bad[i].off >= 0)
			buf[bad[i].off] = bad[i].val;
		expl = 0;
		assert_int_equal(dhchap_challenge_decode(buf,
							 bad[i].len > 0 ? (size_t)bad[i].len
									: (size_t)(n + bad[i].len),
							 &d, &expl),
				 -EBADMSG);
		assert_int_equal(expl, bad[i].expl);
	}
}

static void test_reply(void **state)
{
	static struct dhchap_reply m, d;
	uint8_t expl;
	ssize_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.t_id = 0xbeef;
	m.hl = 32;
	m.cvalid = 0;
	m.seqnum = 0;
	memset(m.rval, 0x11, 32);
	memset(m.cval, 0x22, 32); /* not valid: must not reach the wire */
	n = dhchap_reply_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 16 + 64);
	assert_memory_equal(
		buf, ((uint8_t[]){0x01, 0x02, 0, 0, 0xef, 0xbe, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
		16);
	for (int i = 0; i < 32; i++)
		assert_int_equal(buf[48 + i], 0);
	assert_int_equal(dhchap_reply_decode(buf, n, &d, &expl), 0);
	assert_int_equal(d.t_id, 0xbeef);
	assert_int_equal(d.dhvlen, 0);

	m.cvalid = 1;
	m.seqnum = 5;
	m.dhvlen = 256;
	memset(m.dhv, 0x33, 256);
	n = dhchap_reply_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 16 + 64 + 256);
	assert_int_equal(dhchap_reply_decode(buf, n, &d, &expl), 0);
	assert_int_equal(d.cvalid, 1);
	assert_int_equal(d.seqnum, 5);
	assert_memory_equal(d.cval, m.cval, 32);
	assert_memory_equal(d.dhv, m.dhv, 256);

	static const struct {
		int off;
		uint8_t val;
		int cut;
		uint8_t expl;
	} bad[] = {
		{0, 0x00, 0, NVMF_AUTH_EXPL_INCORRECT_MESSAGE},
		{6, 33, 0, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* HL */
		{8, 2, 0, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},	 /* CVALID */
		{10, 0x01, 0, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD}, /* DHVLEN 257 */
		{11, 0x08, 0, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD}, /* DHVLEN 2048: oversized */
		{-1, 0, 1, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dhchap_reply_encode(&m, buf, sizeof(buf));
		if (bad[i].off >= 0)
			buf[bad[i].off] = bad[i].val;
		assert_int_equal(dhchap_reply_decode(buf, (size_t)(n - bad[i].cut), &d, &expl),
				 -EBADMSG);
		assert_int_equal(expl, bad[i].expl);
	}
}

static void test_success_failure(void **state)
{
	struct dhchap_success1 s1 = {.t_id = 3, .hl = 64, .rvalid = 1}, s1d;
	struct dhchap_success2 s2 = {.t_id = 3}, s2d;
	struct auth_failure f = {.auth_id = NVMF_AUTH_ID_FAILURE1,
				 .t_id = 3,
				 .rescode = NVMF_AUTH_FAILURE_REASON_FAILED,
				 .rescode_exp = NVMF_AUTH_EXPL_HASH_UNUSABLE},
			    fd;
	uint8_t expl, type, id;
	uint16_t t_id;

	(void)state;
	memset(s1.rval, 0x44, 64);
	assert_int_equal(dhchap_success1_encode(&s1, buf, sizeof(buf)), 80);
	assert_int_equal(buf[8], 1);
	assert_int_equal(dhchap_success1_decode(buf, 80, &s1d, &expl), 0);
	assert_memory_equal(s1d.rval, s1.rval, 64);
	/* RVALID promises R2: it must be there. */
	assert_int_equal(dhchap_success1_decode(buf, 79, &s1d, &expl), -EBADMSG);
	assert_int_equal(expl, NVMF_AUTH_EXPL_INCORRECT_PAYLOAD);
	s1.rvalid = 0;
	assert_int_equal(dhchap_success1_encode(&s1, buf, sizeof(buf)), 80);
	assert_int_equal(buf[16], 0);
	assert_int_equal(dhchap_success1_decode(buf, 16, &s1d, &expl), 0);
	buf[8] = 2;
	assert_int_equal(dhchap_success1_decode(buf, 80, &s1d, &expl), -EBADMSG);

	assert_int_equal(dhchap_success2_encode(&s2, buf, sizeof(buf)), 16);
	assert_int_equal(dhchap_success2_decode(buf, 16, &s2d, &expl), 0);
	assert_int_equal(s2d.t_id, 3);
	assert_int_equal(dhchap_success2_decode(buf, 15, &s2d, &expl), -EBADMSG);

	assert_int_equal(auth_failure_encode(&f, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, ((uint8_t[]){0x00, 0xf1, 0, 0, 3, 0, 1, 4}), 8);
	assert_int_equal(auth_msg_peek(buf, 8, &type, &id, &t_id, &expl), 0);
	assert_int_equal(id, NVMF_AUTH_ID_FAILURE1);
	assert_int_equal(t_id, 3);
	assert_int_equal(auth_failure_decode(buf, 8, &fd, &expl), 0);
	assert_int_equal(fd.rescode_exp, NVMF_AUTH_EXPL_HASH_UNUSABLE);
	f.auth_id = NVMF_AUTH_ID_FAILURE2;
	auth_failure_encode(&f, buf, sizeof(buf));
	assert_int_equal(auth_failure_decode(buf, 8, &fd, &expl), 0);
	assert_int_equal(fd.auth_id, NVMF_AUTH_ID_FAILURE2);
	assert_int_equal(auth_failure_decode(buf, 7, &fd, &expl), -EBADMSG);
	f.auth_id = NVMF_AUTH_ID_SUCCESS2;
	assert_int_equal(auth_failure_encode(&f, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(auth_msg_peek(buf, 5, &type, &id, &t_id, &expl), -EBADMSG);

	assert_string_equal(auth_expl_name(NVMF_AUTH_EXPL_DHGROUP_UNUSABLE), "DH group not usable");
	assert_string_equal(auth_expl_name(0x99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_challenge),	cmocka_unit_test(test_reply),
		cmocka_unit_test(test_success_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
