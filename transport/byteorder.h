/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Little-endian loads and stores for raw byte buffers, under the name
 * transport/endian.h is being renamed to. Until the rename lands this only
 * forwards: a second copy of the definitions cannot sit beside endian.h,
 * which -I transport makes every system #include <endian.h> find, so both
 * would be seen and the inline functions defined twice. The rename replaces
 * this file with the real one.
 */
#pragma once

#include "endian.h"
