/* SPDX-License-Identifier: BSD-2-Clause */
#include "t_daemon.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "log.h"

static void aer_done(void *arg, uint16_t cid, uint32_t dw0)
{
	struct t_fixture *f = arg;

	assert_true(f->naer_done < 8);
	f->aer_cid[f->naer_done] = cid;
	f->aer_dw0[f->naer_done++] = dw0;
}

struct ctrl *t_admin(struct t_fixture *f, const char *subnqn, const char *hostnqn, uint32_t kato)
{
	struct ctrl *c = NULL;
	uint32_t dw0 = 0;

	assert_int_equal(t_connect(f, subnqn, hostnqn, 0, 31, 0xffff, kato, &dw0, &c), 0);
	assert_non_null(c);
	assert_int_equal(dw0, c->cntlid);
	c->aer_fn = aer_done;
	c->aer_arg = f;
	assert_int_equal(t_prop_set(c, NVME_REG_CC, (6u << 16) | (4u << 20)), 0);
	assert_int_equal(t_prop_set(c, NVME_REG_CC, (6u << 16) | (4u << 20) | 1), 0);
	assert_true(atomic_load(&c->enabled));
	return c;
}

void t_admin_gone(struct ctrl *c)
{
	ctrl_queue_gone(c, 0);
	ctrl_put(c);
}

nvme_status_t t_exec(struct ctrl *c, const struct nvme_sqe *sqe, void *buf, uint32_t len,
		     struct ctrl_req *out)
{
	struct ctrl_req r = {.sqe = sqe, .buf = buf, .buf_len = len};

	assert_int_equal(ctrl_admin_exec(c, &r), CTRL_EXEC_DONE);
	if (out)
		*out = r;
	if (r.status == 0 && buf != NULL)
		assert_int_equal(r.out_len, len);
	return r.status;
}

nvme_status_t t_prop_set(struct ctrl *c, uint32_t ofst, uint32_t value)
{
	struct nvme_sqe sqe = t_prop_sqe(NVMF_FCTYPE_PROPERTY_SET, ofst, value, NVMF_PROP_SIZE_4);

	return t_exec(c, &sqe, NULL, 0, NULL);
}

nvme_status_t t_prop_get(struct ctrl *c, uint32_t ofst, unsigned int size, uint64_t *value)
{
	struct nvme_sqe sqe = t_prop_sqe(NVMF_FCTYPE_PROPERTY_GET, ofst, 0,
					 size == 8 ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4);
	struct ctrl_req r;
	nvme_status_t st;

	st = t_exec(c, &sqe, NULL, 0, &r);
	*value = r.dw0 | (uint64_t)r.dw1 << 32;
	return st;
}

nvme_status_t t_get_log(struct ctrl *c, uint8_t lid, uint32_t nsid, uint64_t off, void *buf,
			uint32_t len, bool rae)
{
	uint32_t numd = len / 4 - 1;
	uint32_t cdw10 = lid | (rae ? NVME_LOG_RAE : 0) | (numd & 0xffff) << 16;
	struct nvme_sqe sqe = t_sqe(NVME_ADM_GET_LOG_PAGE, nsid, cdw10, numd >> 16, (uint32_t)off,
				    (uint32_t)(off >> 32), 0, 0);

	memset(buf, 0xa5, len); /* what the controller leaves must be zero */
	return t_exec(c, &sqe, buf, len, NULL);
}

nvme_status_t t_identify(struct ctrl *c, uint8_t cns, uint32_t nsid, uint32_t cdw11, void *buf)
{
	struct nvme_sqe sqe = t_sqe(NVME_ADM_IDENTIFY, nsid, cns, cdw11, 0, 0, 0, 0);

	memset(buf, 0xa5, NVME_IDENTIFY_DATA_SIZE);
	return t_exec(c, &sqe, buf, NVME_IDENTIFY_DATA_SIZE, NULL);
}

uint16_t t_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t t_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t t_le64(const void *p)
{
	return t_le32(p) | (uint64_t)t_le32((const uint8_t *)p + 4) << 32;
}
