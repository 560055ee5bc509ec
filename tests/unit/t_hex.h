/* SPDX-License-Identifier: BSD-2-Clause */
/* Known answers written as hex strings, for the crypto tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* "00a1ff..." -> bytes; returns how many (strlen(s) / 2). */
static inline size_t unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			v = 0;
		out[i] = (uint8_t)v;
	}
	return n;
}
