/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Authentication Send / Receive on any queue and the queue's DH-HMAC-CHAP
 * state (fabrics_auth.h). Section numbers: NVMe Base Specification 2.0
 * ("Base"); the command checks and their statuses as the Linux target
 * (drivers/nvme/target/fabrics-cmd-auth.c), which the Linux host is
 * tested against.
 */
#include "fabrics_auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "byteorder.h"
#include "log.h"

#define SC_INVALID_FIELD NVME_SC_DNR(GENERIC, INVALID_FIELD)
#define SC_SGL_LENGTH	 NVME_SC_DNR(GENERIC, SGL_INVALID_DATA)

/* The largest AUTH Send / Receive data accepted: every message fits (AUTH_MSG_MAX). */
#define QAUTH_XFER_MAX 8192

static const char *hash_name(uint8_t id)
{
	static const char *const n[] = {"none", "sha256", "sha384", "sha512"};

	return id < sizeof(n) / sizeof(n[0]) ? n[id] : "?";
}

static const char *dhgroup_name(uint8_t id)
{
	static const char *const n[] = {"null",	     "ffdhe2048", "ffdhe3072",
					"ffdhe4096", "ffdhe6144", "ffdhe8192"};

	return id < sizeof(n) / sizeof(n[0]) ? n[id] : "?";
}

bool qauth_connect_required(const struct target *t, const struct subsys *s, const char *hostnqn,
			    bool *refuse)
{
	const struct cfg_config *cfg = target_cfg(t);
	const struct cfg_subsystem *cs;
	const struct cfg_host *h;
	bool key;

	*refuse = false;
	if (s->discovery || cfg == NULL)
		return false;
	h = cfg_find_host(cfg, hostnqn);
	key = h != NULL && h->has_dhchap_key;
	cs = cfg_find_subsystem(cfg, s->nqn);
	if (!key && cs != NULL && cs->require_auth)
		*refuse = true;
	return key;
}

struct qauth *qauth_new(struct ctrl *c, uint16_t qid, const struct conn_info *ci, bool required,
			int64_t now_ms)
{
	struct qauth *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->ctrl = c;
	q->qid = qid;
	memcpy(q->peer, ci->peer, sizeof(q->peer));
	memcpy(q->peer_addr, ci->peer_addr, sizeof(q->peer_addr));
	q->required = required;
	q->timeout_ms = c->t->p.auth_timeout_ms;
	if (required)
		q->deadline_ms = now_ms + q->timeout_ms;
	return q;
}

/* The transaction is over: nothing of it (keys, DH values) stays in memory. */
static void tx_end(struct qauth *q)
{
	dhchap_ctrl_fini(&q->dc);
	dhchap_key_wipe(&q->host_key);
	dhchap_key_wipe(&q->ctrl_key);
	q->in_tx = false;
	q->deadline_ms = 0;
}

void qauth_free(struct qauth *q)
{
	if (q == NULL)
		return;
	tx_end(q);
	OPENSSL_cleanse(q, sizeof(*q));
	free(q);
}

nvme_status_t qauth_gate(const struct qauth *q)
{
	if (q == NULL || !q->required || q->authenticated)
		return 0;
	return NVME_SC_DNR(COMMAND_SPECIFIC, AUTH_REQUIRED);
}

/* A failed transaction: logged once with the peer, the host and why; counted; backed off. */
/*
 * A refusal while the address is in its window (backoff false) does not
 * widen it: a host that retries too early is not locked out for longer.
 */
static void report_failure(struct qauth *q, int64_t now_ms, const char *why, bool backoff)
{
	struct ctrl *c = q->ctrl;
	uint32_t win;

	if (q->reported)
		return;
	q->reported = true;
	q->failed = true;
	atomic_fetch_add(&c->subsys->auth_failures, 1);
	if (!backoff) {
		log_warn("authentication of host %s from %s to %s (controller %u, queue %u) "
			 "failed: %s",
			 c->hostnqn, q->peer, c->subsys->nqn, c->cntlid, q->qid, why);
		return;
	}
	win = auth_backoff_fail(&c->t->auth_backoff, q->peer_addr, now_ms);
	log_warn("authentication of host %s from %s to %s (controller %u, queue %u) failed: %s; "
		 "%s is refused for %u ms",
		 c->hostnqn, q->peer, c->subsys->nqn, c->cntlid, q->qid, why, q->peer_addr, win);
}

static void report_success(struct qauth *q, bool bidi)
{
	struct ctrl *c = q->ctrl;

	atomic_fetch_add(&c->subsys->auth_successes, 1);
	q->authenticated = true;
	if (q->qid == 0)
		log_info("controller %u: host %s authenticated (DH-HMAC-CHAP %s, %s, %s)",
			 c->cntlid, c->hostnqn, hash_name(q->dc.hashid), dhgroup_name(q->dc.dhgid),
			 bidi ? "bidirectional" : "unidirectional");
	else
		log_debug("controller %u: queue %u authenticated", c->cntlid, q->qid);
}

/*
 * A new transaction (Base 8.13.4: AUTH_Negotiate starts one, on a fresh or
 * an authenticated queue alike): the keys of the configuration now served.
 * 0, or the explanation of a refusal decided before the host's message is
 * looked at (the state machine then answers AUTH_Failure1 with it).
 */
static uint8_t tx_begin(struct qauth *q, int64_t now_ms, const char **why, bool *backoff)
{
	struct ctrl *c = q->ctrl;
	const struct cfg_config *cfg = target_cfg(c->t);
	const struct cfg_host *h = cfg ? cfg_find_host(cfg, c->hostnqn) : NULL;
	struct dhchap_ctrl_cfg dcc = {
		.hostnqn = c->hostnqn,
		.subsysnqn = c->subsys->nqn,
		.host_key = &q->host_key,
	};
	uint32_t left;

	*backoff = true;
	tx_end(q);
	q->in_tx = true;
	q->reported = false;
	q->deadline_ms = now_ms + q->timeout_ms;
	if (auth_backoff_blocked(&c->t->auth_backoff, q->peer_addr, now_ms, &left)) {
		*why = "earlier failures from this address: refused without checking";
		*backoff = false;
		return NVMF_AUTH_EXPL_FAILED;
	}
	if (h == NULL || !h->has_dhchap_key) {
		*why = "no dhchap_key is configured for this host";
		return NVMF_AUTH_EXPL_FAILED;
	}
	q->host_key = h->dhchap_key;
	if (h->has_dhchap_ctrl_key) {
		q->ctrl_key = h->dhchap_ctrl_key;
		dcc.ctrl_key = &q->ctrl_key;
	}
	_Static_assert(CFG_DHCHAP_MAX_HASHES <= DHCHAP_MAX_HASHES, "hash lists");
	_Static_assert(CFG_DHCHAP_MAX_DHGROUPS <= DHCHAP_MAX_DHGROUPS, "group lists");
	memcpy(dcc.hashes, h->dhchap_hashes, h->ndhchap_hashes);
	dcc.nhashes = h->ndhchap_hashes;
	memcpy(dcc.dhgroups, h->dhchap_dhgroups, h->ndhchap_dhgroups);
	dcc.ndhgroups = h->ndhchap_dhgroups;
	if (dhchap_ctrl_init(&q->dc, &dcc) != 0) {
		*why = "the configured key or lists cannot be used";
		return NVMF_AUTH_EXPL_FAILED;
	}
	return 0;
}

/* Whether a Reply asks the controller to authenticate itself (CVALID and S2 not 0). */
static bool asks_bidi(const void *buf, uint32_t len)
{
	struct dhchap_reply m;
	uint8_t why;
	bool bidi;

	if (dhchap_reply_decode(buf, len, &m, &why) != 0)
		return false;
	bidi = m.cvalid && m.seqnum != 0;
	OPENSSL_cleanse(&m, sizeof(m));
	return bidi;
}

/* Why a message failed the transaction, for the log. */
static const char *recv_reason(int err, bool no_ctrl_key_for_bidi)
{
	switch (err) {
	case -EACCES:
		return no_ctrl_key_for_bidi ? "the host asks the controller to authenticate "
					      "itself and no dhchap_ctrl_key is configured"
					    : "wrong response: the host does not hold this key";
	case -EPROTO:
		return "nothing usable in common";
	case -EBADMSG:
		return "malformed or out-of-order message";
	case -ECONNREFUSED:
		return "the host refused the controller (AUTH_Failure2)";
	}
	return "internal error";
}

/* SECP, SPSP0 / SPSP1 and TL / AL (Base 5.3.x, as nvmet): 0 or the status. */
static nvme_status_t check_cmd(uint8_t secp, uint8_t spsp0, uint8_t spsp1, uint32_t xl,
			       uint32_t len)
{
	if (secp != NVMF_AUTH_SECP || spsp0 != NVMF_AUTH_SPSP0_DHCHAP ||
	    spsp1 != NVMF_AUTH_SPSP1_DHCHAP || xl == 0 || xl > QAUTH_XFER_MAX)
		return SC_INVALID_FIELD;
	if (xl != len) /* the SGL must describe exactly TL / AL bytes */
		return SC_SGL_LENGTH;
	return 0;
}

nvme_status_t qauth_send(struct qauth *q, const struct nvme_sqe *sqe, const void *buf, uint32_t len,
			 int64_t now_ms, enum qauth_after *after)
{
	struct nvmf_auth_send_cmd cmd;
	uint8_t type, id, expl = 0;
	const char *why = NULL;
	bool backoff, bidi, no_ctrl_key;
	uint16_t t_id;
	nvme_status_t st;
	char reason[160];
	int ret;

	*after = QAUTH_CONTINUE;
	memcpy(&cmd, sqe, sizeof(cmd));
	st = check_cmd(cmd.secp, cmd.spsp0, cmd.spsp1, le32toh(cmd.tl), len);
	if (st)
		return st;
	if (q->failed) /* the answer that ends it is out; nothing more is taken */
		return NVME_SC_DNR(GENERIC, CMD_SEQ_ERROR);
	if (auth_msg_peek(buf, len, &type, &id, &t_id, &expl) == 0 &&
	    type == NVMF_AUTH_TYPE_COMMON && id == NVMF_AUTH_ID_NEGOTIATE) {
		expl = tx_begin(q, now_ms, &why, &backoff);
		if (expl) {
			dhchap_ctrl_abort(&q->dc, t_id, expl);
			report_failure(q, now_ms, why, backoff);
			return 0; /* AUTH_Failure1 comes with the next AUTH Receive */
		}
	} else if (!q->in_tx) {
		/* a step with no transaction: the state machine answers it with Failure1 */
		q->in_tx = true;
		q->deadline_ms = now_ms + q->timeout_ms;
	}
	bidi = q->dc.bidi; /* Success2 ends a bidirectional transaction */
	no_ctrl_key = q->dc.cfg.ctrl_key == NULL;
	ret = dhchap_ctrl_recv(&q->dc, buf, len, &expl);
	if (ret == 0) {
		if (dhchap_ctrl_authenticated(&q->dc)) {
			report_success(q, bidi);
			tx_end(q);
		}
		return 0;
	}
	snprintf(reason, sizeof(reason), "%s (%s)",
		 recv_reason(ret, ret == -EACCES && no_ctrl_key && asks_bidi(buf, len)),
		 auth_expl_name(expl));
	report_failure(q, now_ms, reason, true);
	if (ret == -ECONNREFUSED) {
		/* nothing more is sent: the host ended it (as nvmet: the controller ends) */
		tx_end(q);
		*after = QAUTH_CLOSE;
	}
	return 0;
}

nvme_status_t qauth_recv(struct qauth *q, const struct nvme_sqe *sqe, void *buf, uint32_t len,
			 uint32_t *out_len, int64_t now_ms, enum qauth_after *after)
{
	struct nvmf_auth_recv_cmd cmd;
	nvme_status_t st;
	ssize_t n;

	*after = QAUTH_CONTINUE;
	*out_len = 0;
	memcpy(&cmd, sqe, sizeof(cmd));
	st = check_cmd(cmd.secp, cmd.spsp0, cmd.spsp1, le32toh(cmd.al), len);
	if (st)
		return st;
	if (q->failed && !q->in_tx)
		return NVME_SC_DNR(GENERIC, CMD_SEQ_ERROR);
	if (!q->in_tx) {
		/* nothing asked: the state machine answers "incorrect protocol message" */
		q->in_tx = true;
		q->deadline_ms = now_ms + q->timeout_ms;
	}
	n = dhchap_ctrl_send(&q->dc, buf, len);
	if (n == -ENOSPC) /* AL too small for the message due: the host may ask again */
		return SC_INVALID_FIELD;
	if (n < 0) {
		report_failure(q, now_ms, "internal error", false);
		tx_end(q);
		*after = QAUTH_CLOSE;
		return NVME_SC(GENERIC, INTERNAL);
	}
	/* AL bytes go back, the message then zeroes (as nvmet) */
	*out_len = len;
	if (q->dc.state == DHCHAP_CTRL_DONE) { /* Success1 of a unidirectional transaction */
		report_success(q, false);
		tx_end(q);
	} else if (q->dc.state == DHCHAP_CTRL_FAILED) {
		report_failure(q, now_ms, "out-of-order AUTH Receive (incorrect protocol message)",
			       true);
		tx_end(q);
		*after = QAUTH_CLOSE;
	}
	return 0;
}

bool qauth_expired(struct qauth *q, int64_t now_ms)
{
	char why[96];

	if (q->deadline_ms == 0 || now_ms < q->deadline_ms)
		return false;
	snprintf(why, sizeof(why), "%s within auth_timeout (%u ms)",
		 q->in_tx ? "transaction not finished" : "no authentication", q->timeout_ms);
	report_failure(q, now_ms, why, true);
	tx_end(q);
	return true;
}
