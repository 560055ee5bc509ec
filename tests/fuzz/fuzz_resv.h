/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_resv's input (gen_corpus_resv.c writes seeds in it): a mode byte,
 * then records.
 *
 *   RF_CMDS: records of RF_REC_LEN bytes: host (0-3, of four Host
 *            Identifiers), opcode selector (register, acquire, release,
 *            report, and the report's length), CDW10, CDW11 (LE), data
 *            length (0-16), 16 data bytes.
 *   RF_FILE: the rest is a state file for resv_decode().
 */
#pragma once

#define RF_CMDS	   'C'
#define RF_FILE	   'F'
#define RF_REC_LEN (1 + 1 + 4 + 4 + 1 + 16)
#define RF_HOSTS   4
#define RF_NQN	   "nqn.2026-11.io.nvmfd:fuzz"
#define RF_NSID	   1

enum { RF_REGISTER, RF_ACQUIRE, RF_RELEASE, RF_REPORT, RF_NOPS };
