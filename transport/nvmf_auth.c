/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host's DH-HMAC-CHAP transaction over AUTH Send / AUTH Receive (NVMe
 * Base Specification 2.0, 8.13.5 and the Authentication Send / Receive
 * Fabrics commands), driving dhchap_host on a connected queue pair: the
 * order Linux's nvme_queue_auth_work() follows, one transaction per call.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "byteorder.h"
#include "dhchap_host.h"
#include "nvmf_internal.h"
#include "status.h"

/* Room the controller may fill on AUTH Receive: every message fits. */
#define AUTH_RECV_AL 4096
_Static_assert(AUTH_MSG_MAX <= AUTH_RECV_AL, "AUTH Receive buffer");

static int auth_cmd(struct nvmf_qpair *qp, uint8_t fctype, void *buf, uint32_t len,
		    const char *what)
{
	union {
		struct nvme_sqe sqe;
		struct nvmf_auth_send_cmd send;
		struct nvmf_auth_recv_cmd recv;
	} cmd;
	nvme_status_t st;
	int ret;

	memset(&cmd, 0, sizeof(cmd));
	cmd.send.opc = NVME_ADM_FABRICS;
	cmd.send.fctype = fctype;
	cmd.send.secp = NVMF_AUTH_SECP;
	cmd.send.spsp0 = NVMF_AUTH_SPSP0_DHCHAP;
	cmd.send.spsp1 = NVMF_AUTH_SPSP1_DHCHAP;
	cmd.send.tl = htole32(len); /* AL for AUTH Receive: the same place */
	ret = nvmf_host_execute(qp, &cmd.sqe, buf, len, fctype == NVMF_FCTYPE_AUTH_SEND, NULL, &st);
	if (ret)
		return ret;
	if (st)
		return nq_error(qp, -EPROTO, "%s failed: %s", what, nvme_status_str_fabrics(st));
	return 0;
}

static void host_cfg(const struct nvmf_association *na, const char *subnqn,
		     struct dhchap_host_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->hostnqn = na->na_params.hostnqn;
	cfg->subsysnqn = subnqn;
	cfg->host_key = &na->na_params.dhchap_key;
	if (na->na_params.has_dhchap_ctrl_key)
		cfg->ctrl_key = &na->na_params.dhchap_ctrl_key;
}

/* One step: what the state says is next, sent or received. */
static int step(struct nvmf_qpair *qp, struct dhchap_host *h, uint8_t *buf, uint8_t *expl)
{
	enum dhchap_host_state st = h->state;
	ssize_t n;
	int ret;

	switch (st) {
	case DHCHAP_HOST_NEGOTIATE:
	case DHCHAP_HOST_REPLY:
	case DHCHAP_HOST_SUCCESS2:
	case DHCHAP_HOST_FAILURE2:
		n = dhchap_host_send(h, buf, AUTH_RECV_AL);
		if (n < 0)
			return nq_error(qp, (int)n, "DH-HMAC-CHAP: nothing to send in state %s",
					dhchap_host_state_name(st));
		ret = auth_cmd(qp, NVMF_FCTYPE_AUTH_SEND, buf, (uint32_t)n, "AUTH Send");
		OPENSSL_cleanse(buf, (size_t)n);
		return ret;
	case DHCHAP_HOST_CHALLENGE:
	case DHCHAP_HOST_SUCCESS1:
		memset(buf, 0, AUTH_RECV_AL);
		ret = auth_cmd(qp, NVMF_FCTYPE_AUTH_RECV, buf, AUTH_RECV_AL, "AUTH Receive");
		if (ret)
			return ret;
		ret = dhchap_host_recv(h, buf, AUTH_RECV_AL, expl);
		OPENSSL_cleanse(buf, AUTH_RECV_AL);
		if (ret == -ECONNREFUSED)
			return nq_error(qp, -EACCES,
					"the controller refused the authentication "
					"(AUTH_Failure1: %s)",
					auth_expl_name(*expl));
		/* other failures: AUTH_Failure2 is due, the loop sends it */
		return 0;
	default:
		return 0;
	}
}

/* The lower layer's error (without its "queue N: ") becomes the reason AUTH_Failure2 was sent. */
static int fail2_lost(struct nvmf_qpair *qp, uint8_t fexpl)
{
	struct nvmf_association *na = qp->nq_association;
	const char *why = strstr(na->na_error, ": "); /* past "queue N: " */
	char lost[sizeof(na->na_error)];

	snprintf(lost, sizeof(lost), "%s", why ? why + 2 : na->na_error);
	return nq_error(qp, -EACCES,
			"the controller failed to authenticate itself "
			"(AUTH_Failure2: %s; the controller did not complete it: %s)",
			auth_expl_name(fexpl), lost);
}

int nvmf_host_authenticate(struct nvmf_qpair *qp, const char *subnqn)
{
	struct nvmf_association *na = qp->nq_association;
	struct dhchap_host_cfg cfg;
	struct dhchap_host h;
	uint8_t buf[AUTH_RECV_AL], expl = 0, fexpl = 0;
	bool failure2 = false;
	int ret;

	if (!na->na_params.has_dhchap_key)
		return nq_error(qp, -ENOKEY,
				"the controller requires authentication "
				"(DH-HMAC-CHAP) and no host secret was given");
	host_cfg(na, subnqn, &cfg);
	cfg.t_id = na->na_auth_tid++;
	ret = dhchap_host_init(&h, &cfg);
	if (ret)
		return nq_error(qp, ret, "DH-HMAC-CHAP: unusable secret");
	while (ret == 0 && h.state != DHCHAP_HOST_DONE && h.state != DHCHAP_HOST_FAILED) {
		if (h.state == DHCHAP_HOST_FAILURE2) {
			failure2 = true;
			fexpl = h.expl;
		}
		ret = step(qp, &h, buf, &expl);
		/*
		 * nvmet answers AUTH_Failure2 on the admin queue with a fatal
		 * controller error, which may close the connection before the
		 * AUTH Send completes. The decision was ours and is already
		 * made: report it, not the lost courtesy message.
		 */
		if (ret && failure2)
			ret = fail2_lost(qp, fexpl);
	}
	if (ret == 0 && h.state == DHCHAP_HOST_FAILED)
		ret = failure2 ? nq_error(qp, -EACCES,
					  "the controller failed to authenticate itself "
					  "(AUTH_Failure2 sent: %s)",
					  auth_expl_name(fexpl))
			       : nq_error(qp, -EACCES, "authentication failed");
	dhchap_host_fini(&h);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}
