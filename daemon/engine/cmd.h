/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One NVMe command on one connection: from its CapsuleCmd to the last PDU
 * that answers it (NVMe/TCP 1.0 and NVMe-oF 1.1 section numbers below).
 *
 *   RX_ICD ------.                      (in-capsule data arriving)
 *   NEW -> [NEED_BUF] -> AWAIT_H2C -> EXEC -> [BACKEND] -> TX -> SENT -> free
 *                         (R2T sent)         (held AER: HELD)
 *                                            (a fused half waiting for the
 *                                             other: HELD; the LBA range
 *                                             lock: RANGE_WAIT)
 *
 * Commands are allocated per connection (kept on a free list, at most the
 * queue size outstanding), found by slot index: the slot is the R2T's
 * transfer tag. A command is "outstanding" until its last PDU (CapsuleResp,
 * or C2HData with SUCCESS) is put in a send batch; its struct and data
 * buffer are kept until that batch is released: sent, and for a zero-copy
 * send notified, as every older batch (conn.h). The host can only reuse
 * the CID after it has seen the answer, so the slot table has room for the
 * queue plus CONN_TX_INFLIGHT send batches and never runs out.
 *
 * Data: a buffer from the worker's pool (bufpool.h), except RAM namespace
 * reads without data digests, which are sent straight from the store
 * (be_ram_map(): no copy at all; a write that copies into a chunk a read
 * is sent from copies the chunk instead, so the read's blocks stay whole:
 * ram_chunks.h). With data digests each C2HData PDU copies its
 * part of the store into a pool buffer as it is built (c2h_copy), so that
 * the digest covers the bytes sent.
 * RAM writes go through a pool buffer like every other write, so a write
 * that fails (data digest error, teardown) never touches the store; a
 * plain write of one whole aligned 128 KiB chunk is received into a spare
 * chunk of the store instead, swapped into it when it executes (no copy),
 * and the spare goes back unused when the write fails. The store is made
 * of such chunks: a RAM read sent from the store lies within one chunk
 * (or chunks contiguous in memory) and holds a reference on them
 * (ram_ref) until the command is released, so a chunk swapped out
 * meanwhile is not reused under it; a read over chunks apart in memory is
 * copied into a pool buffer.
 *
 * Thread: the connection's worker.
 */
#pragma once

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "bufpool.h"
#include "ctrl.h"
#include "nvme_spec.h"

struct conn;

enum cmd_state {
	CMD_FREE = 0,
	CMD_NEW,	/* allocated for a CapsuleCmd just received */
	CMD_RX_ICD,	/* its in-capsule data is being received */
	CMD_NEED_BUF,	/* waiting for a data buffer (worker's wait queue) */
	CMD_AWAIT_H2C,	/* R2T queued or sent; H2CData expected */
	CMD_EXEC,	/* being executed (admin) */
	CMD_BACKEND,	/* backend I/O in flight */
	CMD_HELD,	/* an Asynchronous Event Request, completed by the controller */
	CMD_TX,		/* its answer is queued for sending */
	CMD_SENT,	/* its last PDU is in a send batch not yet released */
	CMD_RANGE_WAIT, /* waiting for its LBA range (worker's range_wait list) */
};

/* What the next PDU of a command in the connection's TX queue is. */
enum cmd_txp {
	TXP_R2T,
	TXP_C2H,
	TXP_RESP,
};

/*
 * cmd_alloc() clears only what precedes sqe (CMD_CLEAR_END): everything
 * from sqe on is written before it is read (sqe by cmd_new, plan by
 * io_check, the be_* fields and bio by cmd_io_exec / be_run / be_done), so
 * clearing the whole struct for every command cost ~50 instructions.
 */
struct cmd {
	struct conn *conn;
	struct cmd *next;      /* TX queue, or the free list */
	struct cmd *wait_next; /* worker's buffer wait queue */
	uint16_t slot;	       /* index in conn->slots: the R2T ttag */
	uint8_t st;	       /* enum cmd_state */
	uint8_t txp;	       /* enum cmd_txp */
	uint8_t dir;	       /* NVME_OPC_XFER_* */
	bool fabrics;	       /* opcode 7Fh */
	bool xfer_err;	       /* a data digest error: Transient Transport Error */
	bool aer_fired;	       /* the AER was completed while being executed */
	bool be_inline;	       /* inside be_submit() */
	bool be_done;	       /* its done callback ran */
	bool be_again;	       /* its backend operation was refused for now: on range_wait */
	bool io;	       /* an I/O command (io_check planned it) */
	bool outstanding;      /* counted in conn->nr_outstanding */
	bool r2t_built;	       /* its R2T went into a send batch: H2CData may come */
	bool icd_staged;       /* data points at its in-capsule data in conn->rxbuf */
	bool c2h_copy;	       /* a RAM read: copy data into buf->p as its C2HData is built */
	uint8_t ep;	       /* epoch parity it began in (worker_cmd_begin) */
	uint32_t data_len;     /* from the SGL */
	uint32_t icd_len;      /* in-capsule data received */
	uint8_t *data;	       /* where the data is: buf->p, or the RAM store */
	struct buf *buf;
	uint32_t buf_want; /* NEED_BUF: bytes */
	bool buf_force;	   /* NEED_BUF: in-capsule data, ignores the caps (RX waits) */
	void (*on_buf)(struct cmd *cmd); /* NEED_BUF: continue with the buffer */
	uint32_t h2c_got;		 /* H2CData bytes received (in order) */
	uint32_t c2h_len;		 /* data to send with C2HData */
	uint32_t c2h_off;
	nvme_status_t status;
	uint32_t dw0, dw1;
	uint64_t err_lba; /* for the error log entry of a failed command */
	/* fused Compare and Write (Base 3.4.2): the other half, once paired */
	struct cmd *fuse_peer;
	bool fuse_ready;   /* its data is in: it may run when its peer is */
	bool fuse_failed;  /* the pair cannot run: complete with fuse_status */
	bool fuse_running; /* the pair has started (the range is locked) */
	bool rl_held;	   /* holds its LBA range in plan.ns->rl */
	bool rl_excl;	   /* ... exclusively (the fused pair, held by the first) */
	nvme_status_t fuse_status;
	uint8_t *scratch; /* Compare / Verify: where the blocks are read (malloc) */
	/* RAM: the chunk data points into (a mapped read, or a spare being written) */
	struct be_ram_ref ram_ref;
	bool ram_spare;		 /* ram_ref is a spare receiving a whole-chunk write */
	uint64_t rl_off, rl_len; /* the range held or wanted */
	/* ---- not cleared per command (see above) ---- */
	struct nvme_sqe sqe;
	struct io_plan plan;
	struct be_io bio;
	uint32_t be_idx;	       /* Flush all / DSM: next namespace or range */
	const struct ns_table *be_nst; /* Flush all: the namespaces when it began */
	uint64_t plan_gen; /* ns_table gen io_check planned with (a reload may move it) */
	struct ns *be_ns;  /* the namespace of the backend operation in flight */
	uint64_t rng_off;  /* DSM: what is left of the current range */
	uint64_t rng_left;
	int be_res;
	uint64_t resv_mark; /* resv_ns_mark() at arrival (cmd_io_check) */
};

#define CMD_CLEAR_END offsetof(struct cmd, sqe)

/*
 * Every change of cmd->st goes through here. Debug builds check it against
 * the transitions the diagram above allows (cmd.c: cmd_state_legal()), so
 * a new path that skips a step fails the tests instead of leaking a
 * buffer or answering twice. Release builds only store it.
 */
#ifndef NDEBUG
bool cmd_state_legal(enum cmd_state from, enum cmd_state to);
#endif

static inline void cmd_set_state(struct cmd *cmd, enum cmd_state st)
{
	assert(cmd_state_legal((enum cmd_state)cmd->st, st));
	cmd->st = (uint8_t)st;
}

/* ---- Receive side (called by conn.c's RX driver) ---- */

/*
 * A CapsuleCmd header with in-capsule data (TCP_RX_HEADER): take a command
 * and a buffer and tcp_rx_set_data() into it. Returns 0, -EAGAIN when no
 * buffer is free (RX pauses; the command resumes it), or -EBADMSG when a
 * TermReq has been queued (the connection is closing).
 */
int cmd_rx_capsule_header(struct conn *c);
/* A whole CapsuleCmd (TCP_RX_PDU): start the command. 0 or -EBADMSG. */
int cmd_rx_capsule(struct conn *c);
/* H2CData header: validate (cccid, ttag, datao, datal, LAST), set the destination. */
int cmd_rx_h2c_header(struct conn *c);
/* A whole H2CData PDU: account it; the last one executes the command. */
int cmd_rx_h2c(struct conn *c);

/* ---- Life cycle ---- */

/* Complete with cmd->status / dw0 / dw1 / c2h_len: queue C2HData and / or CapsuleResp. */
void cmd_complete(struct cmd *cmd);
void cmd_complete_status(struct cmd *cmd, nvme_status_t status);
/* Its last PDU has been put in a send batch (no longer outstanding). */
void cmd_last_pdu_queued(struct cmd *cmd);
/* That batch is released (conn_tx.c): the command and its buffer go back. */
void cmd_release(struct cmd *cmd);

/*
 * A data buffer of len bytes for cmd (conn and worker caps). true: cmd->buf
 * is set; false: cmd waits (NEED_BUF) and then(cmd) runs once it has one.
 */
bool cmd_get_buf(struct cmd *cmd, uint32_t len, void (*then)(struct cmd *cmd));
/*
 * The worker has a buffer again: try to give it to this waiter. 1: done
 * (cmd->on_buf ran); 0: the worker's pool is still full; -1: the
 * connection's cap holds it back.
 */
int cmd_buf_retry(struct cmd *cmd);

/* The AER callback set on a controller whose admin queue is this connection. */
void cmd_aer_complete(void *arg, uint16_t cid, uint32_t dw0);

/* ---- Execution (cmd_admin.c: Connect, admin; cmd_io.c: I/O) ---- */

/* The command's input data is in: run it. */
void cmd_exec(struct cmd *cmd);
/* Plan an I/O command before its data moves (io_check). 0 or the status. */
nvme_status_t cmd_io_check(struct cmd *cmd);
void cmd_io_exec(struct cmd *cmd);
/* A command of the worker's range_wait list tries its LBA range again. */
void cmd_io_resume(struct cmd *cmd);
/*
 * Fused commands (cmd.c calls these as commands arrive, in order): pair a
 * second half with the first that waits on c, or fail the halves that
 * have no partner. A half that is completed before its pair ran takes
 * its peer down with it (cmd_complete).
 */
nvme_status_t cmd_fuse_arrived(struct cmd *cmd, nvme_status_t st);
void cmd_fuse_detach(struct cmd *cmd);
/* Staged in-capsule data into the command's own buffer: it is going to wait. */
void cmd_icd_keep(struct cmd *cmd);
/* The backend CQE router (OP_BE). */
void cmd_be_cqe(struct cmd *cmd, int res);
