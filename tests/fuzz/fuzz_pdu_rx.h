/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Input format of fuzz_pdu_rx, shared with the seed corpus generator:
 * FUZZ_HDR_LEN bytes choose the receiver's parameters and the chunking, the
 * rest is the byte stream fed to tcp_rx_feed().
 */
#pragma once

#define FUZZ_HDR_LEN 4

/* Byte 0: flags. */
#define FZ_CONTROLLER (1u << 0)
#define FZ_HDGST      (1u << 1)
#define FZ_DDGST      (1u << 2)
#define FZ_IC_DONE    (1u << 3)
#define FZ_DISCARD    (1u << 4) /* tcp_rx_set_data(rx, NULL) */
#define FZ_PLACE      (1u << 5) /* data through tcp_rx_data_wanted() / _placed() */
#define FZ_SMALL_LIM  (1u << 6) /* limits of 4096 instead of the defaults */
/* Byte 1: rxpda (low 5 bits). */
/* Byte 2: chunking: 0 whole, 1 one byte at a time, else a PRNG seed (with byte 3). */
#define FZ_CHUNK_ALL 0
#define FZ_CHUNK_ONE 1
