/* SPDX-License-Identifier: BSD-2-Clause */
/* What every backend's unit test shares: run one io on a real ring, and the
 * contract every store passes (exercise()). */
#pragma once

#include <stdint.h>

#include "backend.h"

#define NS_SIZE (1u << 20)

/* The low bits of user_data that mark a backend's own event SQEs here. */
#define T_EVENT_TAG 1

/* Submit io (on queue io->queue) and run the ring until it is done; its result. */
int run_io(struct be_ns *ns, struct io_uring *ring, struct be_io *io);
struct be_io mkio(enum be_op op, void *buf, uint64_t off, uint32_t len);
/* Writes, FUA, Flush, reads, Write Zeroes, Deallocate, the range checks. */
void exercise(struct be_ns *ns);
