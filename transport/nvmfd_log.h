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
#define NVMFD_LOG_VS_VERSION  1

struct nvmfd_vs_counters_log {
	char sig[8];	/* NVMFD_LOG_VS_SIG, not NUL-terminated */
	__le32 version; /* NVMFD_LOG_VS_VERSION */
	__le32 rsvd12;
	__le64 auth_failures;  /* failed DH-HMAC-CHAP transactions, this run */
	__le64 auth_successes; /* successful ones (every queue counts) */
	uint8_t rsvd32[480];
};
WIRE_SIZE(nvmfd_vs_counters_log, 512);
WIRE_OFF(nvmfd_vs_counters_log, version, 8);
WIRE_OFF(nvmfd_vs_counters_log, auth_failures, 16);
WIRE_OFF(nvmfd_vs_counters_log, auth_successes, 24);
