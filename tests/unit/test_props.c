/* SPDX-License-Identifier: BSD-2-Clause */
/* daemon/props: CAP/VS/CC/CSTS and the CC transitions the Linux host drives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "props.h"

#define CC_LINUX (NVMEF(NVME_CC_IOSQES, 6u) | NVMEF(NVME_CC_IOCQES, 4u))
#define CC_EN	 NVMEF(NVME_CC_EN, 1u)
#define CC_SHN_N NVMEF(NVME_CC_SHN, (uint32_t)NVME_CC_SHN_NORMAL)

static void test_cap_vs(void **state)
{
	struct ctrl_props p;
	uint64_t v;

	(void)state;
	props_init(&p, 127, 30, false);
	assert_int_equal(props_get(&p, NVME_REG_CAP, 8, &v), 0);
	assert_int_equal(NVMEV(NVME_CAP_MQES, v), 127);
	assert_int_equal(NVMEV(NVME_CAP_CQR, v), 1);
	assert_int_equal(NVMEV(NVME_CAP_TO, v), 30);
	assert_int_equal(NVMEV(NVME_CAP_CSS, v), NVME_CAP_CSS_NVM);
	assert_int_equal(NVMEV(NVME_CAP_MPSMIN, v), 0);
	assert_int_equal(props_get(&p, NVME_REG_VS, 4, &v), 0);
	assert_int_equal(v, 0x10400);
	/* CAP is 8 bytes, the others 4; unknown offsets are invalid */
	assert_int_not_equal(props_get(&p, NVME_REG_CAP, 4, &v), 0);
	assert_int_not_equal(props_get(&p, NVME_REG_CC, 8, &v), 0);
	assert_int_not_equal(props_get(&p, 0x40, 4, &v), 0);
	assert_int_not_equal(props_get(&p, NVME_REG_CC, 2, &v), 0);
}

/* What `nvme connect` does: EN=0 config, EN=1, poll RDY; then SHN and poll SHST. */
static void test_linux_sequence(void **state)
{
	enum props_event ev;
	struct ctrl_props p;
	uint64_t v;

	(void)state;
	props_init(&p, 127, 30, false);
	assert_int_equal(props_set(&p, NVME_REG_CC, 4, CC_LINUX, &ev), 0);
	assert_int_equal(ev, PROPS_EV_NONE);
	assert_int_equal(props_set(&p, NVME_REG_CC, 4, CC_LINUX | CC_EN, &ev), 0);
	assert_int_equal(ev, PROPS_EV_ENABLED);
	assert_true(props_ready(&p));
	assert_int_equal(props_get(&p, NVME_REG_CSTS, 4, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(props_get(&p, NVME_REG_CC, 4, &v), 0);
	assert_int_equal(v, CC_LINUX | CC_EN);

	assert_int_equal(props_set(&p, NVME_REG_CC, 4, CC_LINUX | CC_EN | CC_SHN_N, &ev), 0);
	assert_int_equal(ev, PROPS_EV_SHUTDOWN);
	assert_int_equal(NVMEV(NVME_CSTS_SHST, p.csts), NVME_CSTS_SHST_OCCUR);
	props_shutdown_done(&p);
	assert_int_equal(NVMEV(NVME_CSTS_SHST, p.csts), NVME_CSTS_SHST_COMPLETE);
	assert_true(NVMEV(NVME_CSTS_RDY, p.csts));

	/* reset: RDY and SHST clear */
	assert_int_equal(props_set(&p, NVME_REG_CC, 4, CC_LINUX, &ev), 0);
	assert_int_equal(ev, PROPS_EV_RESET);
	assert_int_equal(p.csts, 0);
}

static void test_bad_enable(void **state)
{
	enum props_event ev;
	struct ctrl_props p;

	(void)state;
	props_init(&p, 127, 30, false);
	/* I/O controllers need IOSQES 6 and IOCQES 4 */
	assert_int_equal(props_set(&p, NVME_REG_CC, 4, CC_EN, &ev), 0);
	assert_int_equal(ev, PROPS_EV_FATAL);
	assert_true(NVMEV(NVME_CSTS_CFS, p.csts));
	assert_false(props_ready(&p));
	/* MPS other than 4 KiB */
	props_init(&p, 127, 30, false);
	assert_int_equal(
		props_set(&p, NVME_REG_CC, 4, CC_LINUX | CC_EN | NVMEF(NVME_CC_MPS, 1u), &ev), 0);
	assert_int_equal(ev, PROPS_EV_FATAL);
	/* a discovery controller takes 0 / 0 */
	props_init(&p, 31, 30, true);
	assert_int_equal(props_set(&p, NVME_REG_CC, 4, CC_EN, &ev), 0);
	assert_int_equal(ev, PROPS_EV_ENABLED);
}

static void test_read_only(void **state)
{
	enum props_event ev;
	struct ctrl_props p;

	(void)state;
	props_init(&p, 127, 30, false);
	assert_int_equal(props_set(&p, NVME_REG_CAP, 8, 0, &ev),
			 NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR);
	assert_int_not_equal(props_set(&p, NVME_REG_CSTS, 4, 1, &ev), 0);
	assert_int_not_equal(props_set(&p, NVME_REG_VS, 4, 1, &ev), 0);
	assert_int_not_equal(props_set(&p, NVME_REG_CC, 8, CC_LINUX, &ev), 0);
	assert_int_equal(p.cc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_vs),
		cmocka_unit_test(test_linux_sequence),
		cmocka_unit_test(test_bad_enable),
		cmocka_unit_test(test_read_only),
	};

	return cmocka_run_group_tests_name("props", tests, NULL, NULL);
}
