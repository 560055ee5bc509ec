/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmfd's vendor-specific log page (NVMe Base 2.0 5.16: LIDs C0h-FFh are
 * vendor specific): per-subsystem counters that no standard page has,
 * read by nvmf-stat over NVMe/TCP like the SMART / Health page. It starts
 * with a signature, so a host never mistakes another vendor's C0h page
 * for it, and a version; fields are only ever appended.
 */
#pragma once

#include "wire.h"

#define NVMFD_LOG_VS_COUNTERS 0xc0
#define NVMFD_LOG_VS_SIG      "NVMFDCNT"
#define NVMFD_LOG_VS_VERSION  2 /* 2: the port's TLS counters */

/* port_flags */
#define NVMFD_LOG_PORT_TLS (1u << 0) /* the port requires TLS (tls_listen) */

/*
 * tls_fail[] by reason, as the daemon counts them (daemon/core/listener.h
 * enum listener_tls_fail, in the same order).
 */
enum nvmfd_log_tls_fail {
	NVMFD_TLS_FAIL_NOT_TLS,	     /* a TLS port: no ClientHello came (a plain ICReq) */
	NVMFD_TLS_FAIL_PLAIN_PORT,   /* a plain port: a ClientHello came */
	NVMFD_TLS_FAIL_UNKNOWN_ID,   /* no key for the offered identity */
	NVMFD_TLS_FAIL_KEY_MISMATCH, /* the host's PSK differs */
	NVMFD_TLS_FAIL_TIMEOUT,	     /* no finished handshake within icreq_timeout */
	NVMFD_TLS_FAIL_BAD_RECORD,   /* a corrupted, malformed or truncated record */
	NVMFD_TLS_FAIL_OTHER,	     /* another protocol failure or alert */
	NVMFD_TLS_FAIL_NR,
};

/* Each reason in words: nvmfd's log lines and nvmf-stat's table say the same. */
static inline const char *nvmfd_log_tls_fail_name(unsigned int f)
{
	static const char *const names[NVMFD_TLS_FAIL_NR] = {
		[NVMFD_TLS_FAIL_NOT_TLS] = "not TLS",
		[NVMFD_TLS_FAIL_PLAIN_PORT] = "TLS on a plain port",
		[NVMFD_TLS_FAIL_UNKNOWN_ID] = "unknown identity",
		[NVMFD_TLS_FAIL_KEY_MISMATCH] = "wrong key",
		[NVMFD_TLS_FAIL_TIMEOUT] = "handshake timeout",
		[NVMFD_TLS_FAIL_BAD_RECORD] = "bad record",
		[NVMFD_TLS_FAIL_OTHER] = "other",
	};

	return f < NVMFD_TLS_FAIL_NR ? names[f] : "?";
}

struct nvmfd_vs_counters_log {
	char sig[8];	/* NVMFD_LOG_VS_SIG, not NUL-terminated */
	__le32 version; /* NVMFD_LOG_VS_VERSION */
	__le32 rsvd12;
	__le64 auth_failures;  /* failed DH-HMAC-CHAP transactions, this run */
	__le64 auth_successes; /* successful ones (every queue counts) */
	/* version 2: the port (listener) the controller connected through, this run */
	__le32 port_flags; /* NVMFD_LOG_PORT_* */
	__le32 rsvd36;
	__le64 tls_handshakes;			/* completed */
	__le64 tls_fail[NVMFD_TLS_FAIL_NR + 1]; /* by enum nvmfd_log_tls_fail; the last reserved */
	uint8_t rsvd112[400];
};
WIRE_SIZE(nvmfd_vs_counters_log, 512);
WIRE_OFF(nvmfd_vs_counters_log, version, 8);
WIRE_OFF(nvmfd_vs_counters_log, auth_failures, 16);
WIRE_OFF(nvmfd_vs_counters_log, auth_successes, 24);
WIRE_OFF(nvmfd_vs_counters_log, port_flags, 32);
WIRE_OFF(nvmfd_vs_counters_log, tls_handshakes, 40);
WIRE_OFF(nvmfd_vs_counters_log, tls_fail, 48);
WIRE_OFF(nvmfd_vs_counters_log, rsvd112, 112);
