/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Input format of fuzz_conn, shared with the seed corpus generator:
 * FC_HDR_LEN bytes choose the chunking, the rest is what the host sends on
 * one connection.
 *
 * Byte 0: chunking: FCH_ALL one write, FCH_ONE one byte at a time, FCH_PDU
 * one PDU at a time (as its PLEN says: a write's H2CData then comes after
 * its R2T went out, as from a real host), else a PRNG seeded with bytes 0
 * and 1 (mostly 1 to 64 bytes, sometimes up to 4 KiB).
 *
 * The target (fuzz_conn.c) serves NQN FCONN_NQN, namespace 1 (RAM, 4 MiB of
 * 512-byte blocks) and 2 (RAM, 1 MiB of 4 KiB blocks, read-only), with
 * MAXH2CDATA 16 KiB, in-capsule data 8 KiB and MDTS 64 KiB, queue depth 32,
 * 4 I/O queues. Before the first input the target connects a controller of
 * its own, FCONN_CNTLID, as FCONN_HOSTNQN / fconn_hostid, enabled, with
 * FCONN_QUEUES I/O queues granted: an input may connect its I/O queues.
 */
#pragma once

#define FC_HDR_LEN 2
#define FCH_ALL	   0
#define FCH_ONE	   1
#define FCH_PDU	   2

#define FCONN_NQN     "nqn.2026-11.io.nvmfd:fuzz"
#define FCONN_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define FCONN_CNTLID  1
#define FCONN_QUEUES  4

static const unsigned char fconn_hostid[16] = {1, 2,  3,  4,  5,  6,  7,  8,
					       9, 10, 11, 12, 13, 14, 15, 16};
