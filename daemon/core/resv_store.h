/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a namespace's reservation state is kept: an opaque, versioned blob
 * (resv_encode()'s text) behind an ops table. The file store keeps it in
 * state_dir/reservations/NGUID (replaced atomically: a temporary file,
 * fsync, rename, fsync of the directory), for one target.
 *
 * The interface is the one a shared store needs too, so that several
 * gateways of one subsystem see one state (DESIGN.md: "on a shared backend,
 * beside the data"): save() is given the update count the caller last
 * loaded or saved (seq), which an RBD store turns into a compare-and-swap
 * on an object beside the image (or an image metadata key) so that two
 * gateways never overwrite each other's update; load() gives the newest
 * blob, which a gateway re-reads when the other side notifies a change.
 * The file store ignores seq: one nvmfd owns state_dir.
 *
 * Called under the namespace's reservation lock; blocking is allowed (a
 * reservation command waits for its state to be durable before it
 * completes, 8.19.9).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct resv_store;

struct resv_store_ops {
	/* The blob: 0 and *len; -ENOENT: nothing stored yet; else -errno. */
	int (*load)(struct resv_store *st, char *buf, size_t cap, size_t *len);
	/* Replace the blob, durable on return; -ESTALE: seq is not the stored one. */
	int (*save)(struct resv_store *st, const char *buf, size_t len, uint64_t seq);
	void (*close)(struct resv_store *st);
};

struct resv_store {
	const struct resv_store_ops *ops;
	char where[4200]; /* for messages: a path, or pool/image */
};

/* The file store for the namespace with this NGUID, in state_dir. 0 or -errno. */
int resv_store_file_open(const char *state_dir, const uint8_t nguid[16], struct resv_store **out);
