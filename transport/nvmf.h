/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe over Fabrics host API (libnvmf), in the spirit of FreeBSD's
 * lib/libnvmf: associations, queue pairs and capsules over a transport ops
 * table (TCP for now), on blocking sockets with timeouts.
 *
 * Errors: functions returning int give 0 or a negative errno for transport
 * and system failures; a human-readable explanation is then available from
 * nvmf_association_error(). The NVMe status of a command that completed is
 * a separate nvme_status_t (0 = success); see status.h for its name. Typical
 * errnos:
 *   -ETIMEDOUT     the target did not answer within the timeout
 *   -ECONNREFUSED  nothing listens at the address
 *   -ECONNRESET    the target closed the connection (or sent a TermReq)
 *   -EPROTO        the target broke the protocol (a TermReq was sent to it)
 *   -EBADMSG       a data digest mismatch: that command failed, the queue
 *                  pair stays usable
 *   -ENXIO         the address did not resolve
 * After any error other than -EBADMSG and -EINVAL the queue pair is dead:
 * every later call on it returns the same error.
 *
 * Threads: an association and its queue pairs belong to one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhchap_key.h"
#include "nvme_spec.h"
#include "tls_psk.h"
#include "nvmf_spec.h"

struct nvmf_association;
struct nvmf_qpair;
struct nvmf_capsule;

/* Parameters shared by every queue pair of an association (the host's wishes). */
struct nvmf_association_params {
	bool hdgst;	     /* request header digests */
	bool ddgst;	     /* request data digests */
	uint32_t kato_ms;    /* Keep Alive Timeout sent in the admin Connect; 0: none */
	uint32_t max_h2c;    /* cap on H2CData DATAL below MAXH2CDATA (testing); 0: none */
	uint32_t timeout_ms; /* connect / send / receive timeout; 0: 10 s */
	/*
	 * Connect with CATTR "SQ flow control disable" (NVMe-oF 1.1 3.3): the
	 * controller need not report SQHD and may end a successful read with
	 * a C2HData PDU carrying SUCCESS instead of a CapsuleResp (as Linux
	 * with nvme-cli's --disable-sqflow).
	 */
	bool disable_sqflow;
	/* Host identity; "" / all zero: nvmf_host_identity() (nqn.h). */
	char hostnqn[NVMF_NQN_FIELD];
	uint8_t hostid[16];
	/*
	 * TCP: TLS 1.3 with this pre-shared key before the ICReq (NVMe/TCP
	 * 1.1 3.6.1). The identity offered is NVMe<tls_identity>R0<h>
	 * hostnqn subnqn [digest] (tls_psk.h), the TLS PSK derived as
	 * tls_kdf says (RFC 8446 unless the controller's side was set up
	 * by nvme-cli <= 2.15). The key is wiped when the association is
	 * freed.
	 */
	bool tls;
	struct tls_psk_key tls_key;
	unsigned int tls_identity; /* 0 or 1 */
	enum tls_psk_kdf tls_kdf;
	/*
	 * DH-HMAC-CHAP (NVMe Base 2.0 8.13): the host's secret, used when a
	 * Connect answers ATR (authentication required); with a controller
	 * secret too, the controller must prove it holds that (bidirectional).
	 * The association keeps copies and wipes them when it is freed.
	 */
	bool has_dhchap_key;
	struct dhchap_key dhchap_key;
	bool has_dhchap_ctrl_key;
	struct dhchap_key dhchap_ctrl_key;
};

/*
 * A host allocates one association per controller association. Returns NULL
 * and *err = -errno on failure (-EINVAL: unknown trtype or invalid hostnqn,
 * -ENOMEM). Each queue pair holds a reference: the association may be freed
 * once its queue pairs exist, it lives until the last one is freed.
 */
struct nvmf_association *
nvmf_association_alloc(uint8_t trtype, const struct nvmf_association_params *params, int *err);
void nvmf_association_free(struct nvmf_association *na);

/* The most recent error message of the association or its queue pairs. */
const char *nvmf_association_error(const struct nvmf_association *na);

/* The host identity in use (after defaults were applied). */
const char *nvmf_association_hostnqn(const struct nvmf_association *na);

/*
 * Record what Identify Controller said (MDTS, IOCCSZ) before connecting I/O
 * queues; mpsmin is CAP.MPSMIN (MDTS is in units of 2^(12 + MPSMIN) bytes).
 */
void nvmf_association_update(struct nvmf_association *na, const struct nvme_id_ctrl *cdata,
			     unsigned int mpsmin);

/* Largest data transfer of one command: MDTS, or 1 MiB when MDTS is 0. */
uint32_t nvmf_max_xfer(const struct nvmf_association *na);

/* Where and what to connect. */
struct nvmf_qpair_params {
	const char *traddr;  /* IPv4, IPv6 (no brackets) or host name */
	const char *trsvcid; /* port */
	const char *subnqn;
	uint16_t qid;	 /* 0: admin queue */
	uint16_t qsize;	 /* entries (SQSIZE + 1): 2..4095 */
	uint16_t cntlid; /* NVMF_CNTLID_DYNAMIC for the admin queue, else the admin's */
};

/* What the controller answered to Connect (NVMe-oF 1.1 Figure 22). */
struct nvmf_connect_rsp {
	nvme_status_t status; /* 0: connected */
	uint16_t cntlid;      /* on success */
	bool iattr_data;      /* Invalid Parameters: IPO is in the Connect data (IATTR 1) */
	uint16_t ipo;	      /* Invalid Parameters: byte offset of the field */
};

/*
 * Connect a queue pair: transport connection (TCP + ICReq/ICResp), then the
 * Fabrics Connect command. Returns:
 *   0 with *qpp set: connected;
 *   0 with *qpp NULL: the controller refused, rsp->status says why (and
 *     nvmf_connect_field() names the parameter for Invalid Parameters);
 *   -errno: transport failure (see the top of this file).
 */
int nvmf_connect(struct nvmf_association *na, const struct nvmf_qpair_params *params,
		 struct nvmf_qpair **qpp, struct nvmf_connect_rsp *rsp);

/*
 * One DH-HMAC-CHAP transaction on a connected queue pair (AUTH Send /
 * Receive, Base 8.13.5) with the association's keys: nvmf_connect() runs
 * it when the Connect answer asks for it; call it again to re-authenticate.
 * 0; -ENOKEY (no secret given), -EACCES (the controller refused us, or
 * failed to prove itself: an AUTH_Failure was exchanged), -EPROTO (a
 * malformed exchange), or a transport error. Says why in the association
 * error.
 */
int nvmf_host_authenticate(struct nvmf_qpair *qp, const char *subnqn);

/* "subnqn", "hostnqn", "cntlid", "hostid", "qid", "sqsize", ...; or "offset N". */
const char *nvmf_connect_field(const struct nvmf_connect_rsp *rsp);

/* Close the connection and free the queue pair (no Disconnect is sent). */
void nvmf_qpair_free(struct nvmf_qpair *qp);

/*
 * Hand a connected I/O queue to another I/O engine (nvmf-perf's io_uring
 * loop): the connection is set up here, with blocking calls, and driven
 * there with the sans-I/O codec (pdu.h). What that engine needs to know:
 */
struct nvmf_tcp_queue_info {
	int fd; /* the connected socket; now the caller's to close */
	uint16_t qid;
	uint16_t qsize; /* entries (SQSIZE + 1); at most qsize - 1 outstanding */
	uint16_t cntlid;
	bool hdgst;	     /* header digests negotiated */
	bool ddgst;	     /* data digests negotiated */
	uint8_t txpda;	     /* CPDA: the PDA the controller requires of data we send */
	uint32_t maxh2cdata; /* the controller's MAXH2CDATA */
	uint32_t h2c_max;    /* H2CData DATAL to send: MAXH2CDATA or the max_h2c cap */
	uint32_t max_icd;    /* in-capsule data this queue may send (0: none) */
	uint32_t max_xfer;   /* nvmf_max_xfer() of the association */
	/*
	 * TLS: the queue's session (after the handshake) and its context, now
	 * the caller's: every byte on fd goes through it (tls_session.h). Free
	 * both with nvmf_tcp_queue_info_fini().
	 */
	struct tls_session *tls;
	struct tls_ctx *tls_ctx;
};

/* Free what a detached queue still owns (the TLS session); the fd stays open. */
void nvmf_tcp_queue_info_fini(struct nvmf_tcp_queue_info *info);

/*
 * Detach a TCP queue pair's connection: fill *info, free the queue pair
 * without closing the socket (the socket stays blocking, with TCP_NODELAY
 * and the association's send / receive timeouts). The CID space starts
 * afresh: no command may be outstanding. -EINVAL: not a TCP queue pair;
 * -EBUSY: commands are outstanding or received bytes are still staged (the
 * queue pair is then left as it was); the queue pair's fatal error if it is
 * dead (it is then left as it was too).
 */
int nvmf_tcp_qpair_detach(struct nvmf_qpair *qp, struct nvmf_tcp_queue_info *info);

uint16_t nvmf_qpair_cntlid(const struct nvmf_qpair *qp);
uint16_t nvmf_qpair_qid(const struct nvmf_qpair *qp);
struct nvmf_association *nvmf_qpair_association(const struct nvmf_qpair *qp);

/* ---- Capsules: one command, its data and its response ---- */

/*
 * A command capsule for sqe (copied; the CID is assigned at submission).
 * The data buffer is borrowed, not copied: it must stay valid until the
 * command completed and the capsule is freed.
 */
struct nvmf_capsule *nvmf_capsule_alloc(struct nvmf_qpair *qp, const struct nvme_sqe *sqe);
void nvmf_capsule_free(struct nvmf_capsule *nc);
/* send: host to controller (written); else controller to host (read). */
int nvmf_capsule_set_data(struct nvmf_capsule *nc, void *buf, uint32_t len, bool send);
const struct nvme_sqe *nvmf_capsule_sqe(const struct nvmf_capsule *nc);
/* The response; valid once nvmf_capsule_wait() returned 0. */
const struct nvme_cqe *nvmf_capsule_cqe(const struct nvmf_capsule *nc);

/*
 * Submit a command: assigns a CID, fills the SGL (PSDT 01b; in-capsule data
 * when it fits, else a Transport SGL with R2T / C2HData) and sends it.
 * -EBUSY when the queue is full.
 */
int nvmf_capsule_submit(struct nvmf_capsule *nc);

/*
 * Wait for a submitted command to complete, serving R2Ts and C2HData of
 * any outstanding command of the queue pair meanwhile. 0 with the response
 * in nvmf_capsule_cqe(), or -errno (-EBADMSG: data digest error).
 */
int nvmf_capsule_wait(struct nvmf_capsule *nc);

/*
 * Submit, wait, return the status (and CQE DW0 if dw0 != NULL): the
 * building block of the commands below. buf / len / send as in
 * nvmf_capsule_set_data() (buf NULL: no data).
 */
int nvmf_host_execute(struct nvmf_qpair *qp, const struct nvme_sqe *sqe, void *buf, uint32_t len,
		      bool send, uint32_t *dw0, nvme_status_t *status);
/* The same, giving the whole CQE (Connect and Property Get need DW1 too). */
int nvmf_host_execute_cqe(struct nvmf_qpair *qp, const struct nvme_sqe *sqe, void *buf,
			  uint32_t len, bool send, struct nvme_cqe *cqe);

/* ---- Admin and fabrics commands (admin queue) ---- */

/* Property Get / Set (NVMe-oF 1.1 3.4, 3.5); size 4 or 8. */
int nvmf_host_prop_get(struct nvmf_qpair *qp, uint32_t ofst, unsigned int size, uint64_t *value,
		       nvme_status_t *status);
int nvmf_host_prop_set(struct nvmf_qpair *qp, uint32_t ofst, unsigned int size, uint64_t value,
		       nvme_status_t *status);

/*
 * Enable the controller as Linux does: read CAP, write CC with EN=0 (IOSQES
 * 6, IOCQES 4, MPS 0, CSS 0), then EN=1, poll CSTS.RDY for CAP.TO x 500 ms
 * (-ETIMEDOUT; -EIO when CSTS.CFS is set). *cap receives CAP if not NULL.
 */
int nvmf_host_enable(struct nvmf_qpair *qp, uint64_t *cap, nvme_status_t *status);

/* Normal shutdown: CC.SHN = 01b, poll CSTS.SHST = 10b for at most timeout_ms. */
int nvmf_host_shutdown(struct nvmf_qpair *qp, uint32_t timeout_ms, nvme_status_t *status);

/* Identify (CNS 00h, 01h, 02h, 03h): 4096 bytes into the buffer. */
int nvmf_host_identify(struct nvmf_qpair *qp, uint8_t cns, uint32_t nsid, void *buf,
		       nvme_status_t *status);
int nvmf_host_identify_ctrl(struct nvmf_qpair *qp, struct nvme_id_ctrl *out, nvme_status_t *status);
int nvmf_host_identify_ns(struct nvmf_qpair *qp, uint32_t nsid, struct nvme_id_ns *out,
			  nvme_status_t *status);
/* Active NSIDs greater than nsid (1024 little-endian dwords, 0-terminated). */
int nvmf_host_active_ns_list(struct nvmf_qpair *qp, uint32_t nsid, uint32_t list[1024],
			     nvme_status_t *status);
/* Namespace Identification Descriptor list (4096 bytes). */
int nvmf_host_ns_id_descs(struct nvmf_qpair *qp, uint32_t nsid, void *buf, nvme_status_t *status);

/* Get Log Page: len bytes (a dword multiple) at offset (LPO, dword aligned). */
struct nvmf_log_req {
	uint8_t lid;
	uint8_t lsp;
	bool rae;
	uint32_t nsid;
	uint64_t offset;
};
int nvmf_host_get_log_page(struct nvmf_qpair *qp, const struct nvmf_log_req *req, void *buf,
			   uint32_t len, nvme_status_t *status);

/*
 * The discovery log as libnvme's nvme_discovery_log() reads it: the 20-byte
 * header, the entries from offset 1024 in 4 KiB pieces, the header again,
 * retrying (up to 10 times) while GENCTR changes. *logp is malloc()ed: the
 * 1024-byte header followed by numrec entries; the caller frees it.
 */
int nvmf_host_discovery_log(struct nvmf_qpair *qp, struct nvmf_disc_log_hdr **logp,
			    nvme_status_t *status);

static inline struct nvmf_disc_log_entry *nvmf_disc_log_entries(struct nvmf_disc_log_hdr *log)
{
	return (struct nvmf_disc_log_entry *)(log + 1);
}

/* Set Features Number of Queues (07h): requested and granted I/O queue counts. */
int nvmf_host_set_num_queues(struct nvmf_qpair *qp, uint16_t nsq, uint16_t ncq,
			     uint16_t *nsq_granted, uint16_t *ncq_granted, nvme_status_t *status);

int nvmf_host_keep_alive(struct nvmf_qpair *qp, nvme_status_t *status);

/* ---- I/O commands (I/O queue) ---- */

/*
 * Read / Write nlb (1..65536) blocks at slba; len = nlb x block size, at
 * most nvmf_max_xfer(). Writes use in-capsule data up to the I/O queue's
 * limit (IOCCSZ x 16 - 64), else R2T / H2CData.
 */
int nvmf_host_read(struct nvmf_qpair *qp, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf,
		   uint32_t len, nvme_status_t *status);
int nvmf_host_write(struct nvmf_qpair *qp, uint32_t nsid, uint64_t slba, uint32_t nlb,
		    const void *buf, uint32_t len, nvme_status_t *status);
