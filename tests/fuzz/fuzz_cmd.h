/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Input format of fuzz_cmd, shared with the seed corpus generator: a
 * sequence of records, each an op byte and its fields (little endian);
 * a record cut short by the end of the input is completed with zeroes.
 *
 *   FC_CONNECT  SQE[64] DATA[1024]          ctrl_connect (admin or I/O queue)
 *   FC_ADMIN    IDX LEN[4] SQE[64] DATA[..]  ctrl_admin_exec on admin queue IDX
 *   FC_IO       IDX LEN[4] SQE[64] DATA[..]  io_check (+ DSM ranges) on IDX's controller
 *   FC_EVENT    IDX NSID[4]                  a namespace / discovery change event
 *   FC_GONE     IDX                          the admin queue closes (and its I/O queues)
 *   FC_TIME     MS[2]                        time passes (x 10 ms): keep-alive expiry
 *
 * LEN is the SGL's length; DATA (H2C) holds LEN bytes, read from the input.
 */
#pragma once

enum {
	FC_CONNECT = 0,
	FC_ADMIN,
	FC_IO,
	FC_EVENT,
	FC_GONE,
	FC_TIME,
	FC_NOPS,
};

#define FC_SQE_LEN	64
#define FC_CONNECT_DATA 1024
