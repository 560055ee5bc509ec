/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Input format of fuzz_auth, shared with its seed generator: one byte
 * selecting the mode, then
 *   FA_DECODE: one message, given to every decoder;
 *   FA_CTRL:   records (2-byte little-endian length, then that many bytes),
 *              each an AUTH Send payload for a controller transaction;
 *   FA_HOST:   records, each an AUTH Receive payload for a host transaction
 *              that has sent its AUTH_Negotiate.
 * The keys and NQNs are fixed (below), so that a seed can carry a Reply or
 * a Success1 the other side accepts.
 */
#pragma once

enum fa_mode {
	FA_DECODE = 0,
	FA_CTRL = 1,
	FA_HOST = 2,
	FA_MODES,
};

#define FA_HOSTNQN   "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define FA_SUBSYSNQN "nqn.2026-11.org.example:fuzz"
/* Keys: 32 bytes of 11h (hh 01) for the host, 48 bytes of 22h (hh 02) for the controller. */
#define FA_HOST_KEY_BYTE 0x11
#define FA_CTRL_KEY_BYTE 0x22
