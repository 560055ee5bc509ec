/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe Qualified Names (NVMe Base 2.0 section 4.5) and the host's default
 * identity (host NQN and 128-bit Host Identifier).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvmf_spec.h"

#define NVMF_NQN_UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
#define NVMF_UUID_STR_LEN    36 /* 8-4-4-4-12 hex digits, without the NUL */

/*
 * 0 if nqn is a valid NQN: at most 223 bytes of UTF-8 without control
 * characters, "nqn." then either the UUID form
 * "nqn.2014-08.org.nvmexpress:uuid:<uuid>" or the date / domain form
 * "nqn.yyyy-mm.<reverse domain>[:<anything>]" (the well-known discovery NQN
 * "nqn.2014-08.org.nvmexpress.discovery" has no colon). Otherwise -EINVAL,
 * and *why (if not NULL) names the problem ("does not start with \"nqn.\"").
 */
int nvmf_nqn_check(const char *nqn, const char **why);

static inline bool nvmf_nqn_valid(const char *nqn)
{
	return nvmf_nqn_check(nqn, NULL) == 0;
}

/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case). 0 or -EINVAL. */
int nvmf_uuid_parse(const char *s, uint8_t uuid[16]);

/* Format a UUID as 36 lower-case characters plus NUL. */
void nvmf_uuid_format(const uint8_t uuid[16], char out[NVMF_UUID_STR_LEN + 1]);

/*
 * The host's default identity, as nvme-cli / libnvme find it:
 *   - the host NQN from /etc/nvme/hostnqn, the Host ID from /etc/nvme/hostid;
 *   - a missing Host ID is the UUID of a UUID-form host NQN;
 *   - otherwise a UUID derived from /etc/machine-id (stable across runs:
 *     HMAC-SHA256 keyed by the machine ID over an nvmfd-specific application
 *     ID, as systemd's sd_id128_get_machine_app_specific() does, so the
 *     confidential machine ID itself is not disclosed), or a random one when
 *     there is no machine ID; the host NQN is then its UUID form.
 * Returns 0, or a negative errno (only from getrandom()).
 */
int nvmf_host_identity(char hostnqn[NVMF_NQN_FIELD], uint8_t hostid[16]);

/* The same, with the three files named (NULL: absent). For tests. */
int nvmf_host_identity_from(const char *hostnqn_path, const char *hostid_path,
			    const char *machine_id_path, char hostnqn[NVMF_NQN_FIELD],
			    uint8_t hostid[16]);
