/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Temporary: the little-endian helpers are being renamed from endian.h to
 * byteorder.h. Until that lands, this name forwards to endian.h, which
 * system headers already pull in (see endian.h), so the two cannot both
 * define get_le32() & co.
 */
#pragma once

#include "endian.h"
