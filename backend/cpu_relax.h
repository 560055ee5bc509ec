/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a thread spinning on another's progress does between two looks:
 * tell the core, so that its other hyperthread, or the hypervisor, has the
 * cycles (the worker's busy-poll, the RAM store's readers waiting for a
 * copy in place).
 */
#pragma once

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}
