/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's one clock: CLOCK_MONOTONIC, for deadlines, timers and uptime. */
#ifndef NVMFD_CLOCK_H
#define NVMFD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

#endif
