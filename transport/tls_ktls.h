/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside libnvmf: the traffic keys of one direction from its secret.
 * The public half (struct tls_traffic_keys, the kTLS crypto_info) is in
 * tls_session.h.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tls_session.h"

/* key and iv from a [sender]_application_traffic_secret_N; 0 or -errno. */
int tls_traffic_keys_derive(enum tls_cipher cipher, const uint8_t *secret, size_t secret_len,
			    uint64_t seq, struct tls_traffic_keys *k);
