/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What every fuzz target shares: libFuzzer's entry point (replay_main.c
 * calls it in ordinary builds) and CHECK, an invariant whose failure says
 * where and aborts, so libFuzzer or the replay keeps the input as a crash.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                              \
	do {                                                                                  \
		if (!(x)) {                                                                   \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #x); \
			abort();                                                              \
		}                                                                             \
	} while (0)
