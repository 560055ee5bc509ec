/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the wire-format headers. */
#pragma once

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_SIZE(t, n)	  _Static_assert(sizeof(struct t) == (n), #t " size")
#define WIRE_OFF(t, f, n) _Static_assert(offsetof(struct t, f) == (n), #t "." #f " offset")

/* Sub-byte fields: NAME_SHIFT / NAME_MASK pairs, read and built with these. */
#define NVMEV(name, x) (((x) >> name##_SHIFT) & name##_MASK)
#define NVMEF(name, v) (((v) & name##_MASK) << name##_SHIFT)
#define NVMEM(name)    ((name##_MASK) << name##_SHIFT)
