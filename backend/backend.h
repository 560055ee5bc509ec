/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Backing stores behind one ops table: regular file, block device, RAM,
 * Ceph RBD image. Each operation is queued as SQEs on the calling worker's
 * ring (the worker owns the ring; a namespace is shared by the workers);
 * RAM completes inline. Knows nothing of NVMe/TCP: offsets and lengths are
 * in bytes.
 *
 * Completion: the caller fills a struct be_io (op, buffer, offset, length,
 * done callback, user_data for the SQEs, its queue and event tag) and calls
 * be_submit(). Unless it returns an error, io->done(io, res) is called
 * exactly once: inline for RAM, when the worker passes the CQEs carrying
 * io->user_data to be_io_complete() (files), or when it passes the CQE of
 * the backend's own event SQE (user_data = a pointer of the backend's |
 * io->event_tag) to be_event_complete() (RBD: see rbd.c). res is the byte
 * count (or 0) on success, -errno on failure; short transfers are
 * resubmitted here, never reported.
 */
#pragma once

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum be_kind { BE_FILE, BE_BLOCK, BE_RAM, BE_RBD };

enum be_op {
	BE_OP_READ,
	BE_OP_WRITE,
	BE_OP_FLUSH,	    /* durable: fdatasync */
	BE_OP_WRITE_ZEROES, /* reads back as zeroes afterwards */
	BE_OP_DEALLOCATE,   /* frees the range where the store can (be_ns.dealloc) */
};

/*
 * What Deallocate does on a store, chosen at open. It never writes: a host's
 * TRIM (mkfs, fstrim, blkdiscard) must not become a full write that fills
 * a thin volume.
 */
enum be_dealloc {
	BE_DEALLOC_NOOP,       /* a device without discard: advisory, nothing done */
	BE_DEALLOC_DISCARD,    /* block device: io_uring's block discard (Linux 6.12) */
	BE_DEALLOC_ZERO_UNMAP, /* block device, older kernels: the device's Write Zeroes
				* with unmap (fallocate PUNCH_HOLE, which the kernel never
				* turns into writes of zeroes) */
	BE_DEALLOC_PUNCH,      /* file: hole punching (ZERO_RANGE where holes are refused) */
	BE_DEALLOC_RAM,	       /* RAM: whole pages given back to the kernel */
	BE_DEALLOC_RBD,	       /* RBD: librbd's discard (objects removed or truncated,
				* the rest zeroed: rbd_skip_partial_discard = false) */
};

/* What the store tells of itself, for Identify (all bytes; 0 = unknown). */
struct be_limits {
	bool dealloc_zeroes;   /* deallocated blocks read back as zeroes */
	uint32_t dealloc_gran; /* a deallocation frees whole units of this */
	uint32_t write_gran;   /* the physical block: smaller writes cost a read-modify-write */
	uint32_t io_opt;       /* optimal I/O size */
	uint64_t dealloc_max;  /* what one discard of the device covers (0: no limit) */
	uint64_t zeroes_max;   /* a block device's Write Zeroes per command: 0 if it has
				* none, and then zeroing writes zeroes */
};

/* How to reach a Ceph cluster (RBD namespaces); NULL or "" fields: Ceph's defaults. */
struct be_ceph {
	const char *conf;    /* ceph.conf; NULL: librados' search (/etc/ceph/ceph.conf...) */
	const char *id;	     /* client name without "client.": NULL = "admin" */
	const char *keyring; /* NULL: librados' default keyring search */
};

struct be_params {
	const char *path;    /* "/dev/...", a regular file, "ram:SIZE" or "rbd:POOL/IMAGE" */
	uint64_t ram_size;   /* for RAM */
	uint32_t block_size; /* 512 or 4096 for files and RAM; 0 = 512 */
	bool read_only;
	bool direct;		    /* O_DIRECT for files and block devices */
	bool ram_prealloc;	    /* RAM: take the whole store at open (ram.c) */
	unsigned int nqueues;	    /* RBD: workers that will submit (be_io.queue < nqueues) */
	const struct be_ceph *ceph; /* RBD: the cluster; NULL: defaults */
};

struct be_ns {
	const struct be_ops *ops;
	enum be_kind kind;
	char path[256];
	int fd;	       /* -1 for RAM */
	uint8_t *ram;  /* RAM store */
	uint64_t size; /* bytes, a multiple of block_size */
	uint32_t block_size;
	bool read_only;
	bool forced_read_only;	 /* the device is read-only though the config did not say so */
	bool direct;		 /* O_DIRECT in force (may be refused by the file system) */
	bool can_punch;		 /* fallocate(PUNCH_HOLE) works: holes in a file, zeroing
				* with unmap on a device (learnt: cleared on EOPNOTSUPP) */
	enum be_dealloc dealloc; /* may fall back at run time: read it with be_dealloc_now() */
	struct be_limits lim;
	/* RAM: one bit per 2 MiB chunk advised for huge pages (written once; ram.c) */
	uint64_t *ram_hp;
	bool ram_prealloc; /* RAM: the store was taken whole at open and is kept */
	void *priv;	   /* the backend's own state (RBD: struct rbd_ns) */
};

struct be_io;
typedef void (*be_done_fn)(struct be_io *io, int res);

struct be_io {
	enum be_op op;
	void *buf;
	int buf_index;	/* registered buffer index, or -1 */
	int file_index; /* this worker's fixed-file slot for the fd, or -1 */
	uint64_t offset;
	uint32_t len;
	/*
	 * Durable before done: WRITE with RWF_DSYNC; WRITE_ZEROES and
	 * DEALLOCATE with an fdatasync (a device cache flush) after them.
	 */
	bool fua;
	bool deac;	    /* WRITE_ZEROES: the host lets the range be deallocated (NVM 3.2.8) */
	uint64_t user_data; /* put on every SQE this io queues */
	be_done_fn done;
	unsigned int queue; /* the submitting worker's index (< be_params.nqueues) */
	uint8_t event_tag;  /* low 3 bits for the backend's own event SQEs (RBD) */
	/* RAM READ: buf is the store's bytes already (be_ram_map): nothing to copy */
	bool ram_in_place;
	/*
	 * RAM WRITE: buf is this spare chunk (be_ram_spare_get), swapped into
	 * the store instead of copied when it is one of ns's; its rc is then
	 * set to NULL (the reference went with the chunk).
	 */
	struct be_ram_ref *ram_swap;
	/* internal */
	struct be_ns *ns;
	struct io_uring *ring;
	uint32_t xfered;
	uint8_t how; /* file.c: the SQE the current step queues */
};

struct be_ops {
	enum be_kind kind;
	const char *name;
	/* 0 or -errno; why (may stay empty) says more than the errno */
	int (*open)(struct be_ns *ns, const struct be_params *p, char *why, size_t whylen);
	void (*close)(struct be_ns *ns);
	int (*submit)(struct be_ns *ns, struct io_uring *ring, struct be_io *io);
	/* the store's size now, in bytes (NULL: the fd's, or fixed for RAM) */
	int (*size_now)(const struct be_ns *ns, uint64_t *bytes);
};

/*
 * The store's size now, a multiple of its block size (a file or a device
 * may have grown or shrunk since it was opened). 0 or -errno.
 */
int be_size_now(const struct be_ns *ns, uint64_t *size);
/* A regular file's size or a block device's, in bytes (file.c). 0 or -errno. */
int be_fd_bytes(int fd, uint64_t *bytes);
/* A reload applies it; workers may be checking ranges meanwhile. */
static inline void be_set_size(struct be_ns *ns, uint64_t size)
{
	__atomic_store_n(&ns->size, size, __ATOMIC_RELAXED);
}

/* Open a backing store by path kind. Returns 0 or -errno (and a message in err). */
int be_open(struct be_ns *ns, const struct be_params *p, char *err, size_t errlen);
void be_close(struct be_ns *ns);

/*
 * Queue io on ring (not submitted: the worker batches io_uring_submit).
 * Returns 0 (done will be called) or -errno (done will not be called):
 * -EAGAIN when the ring has no free SQE, -EROFS for writes to a read-only
 * store, -EINVAL for a range outside the store; -EBUSY (RAM) when the
 * store cannot take the change now (readers hold a chunk it copies into
 * and no spare chunk is free: ram_chunks.h): io->xfered bytes of it are
 * done, and be_resubmit() goes on from there once the caller has let
 * other work run (the readers' sends complete on their own).
 */
int be_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io);
int be_resubmit(struct be_ns *ns, struct io_uring *ring, struct be_io *io);

/* What deallocate does on ns now (a fallback may have changed it since open). */
static inline enum be_dealloc be_dealloc_now(const struct be_ns *ns)
{
	return __atomic_load_n(&ns->dealloc, __ATOMIC_RELAXED);
}

/* "discard", "hole punching", ... for the log and the documentation. */
const char *be_dealloc_name(enum be_dealloc d);

/* The worker hands over each CQE whose user_data belongs to io. */
void be_io_complete(struct be_io *io, int res);

/*
 * The worker hands over each CQE whose user_data carries io->event_tag:
 * ev is that user_data without the tag (8-byte aligned, the backend's).
 * It completes the ios the event announces (their done callbacks run
 * here, on the worker) and re-arms the event while ios are outstanding.
 */
void be_event_complete(void *ev, int res);

/* What such a pointer points to: the backend's event, its handler first. */
struct be_event {
	void (*complete)(struct be_event *ev, int res);
};

/*
 * RAM only: a reference on one chunk of the store (ram_chunks.h), held by
 * a command while it uses the chunk's bytes; rc NULL: none held.
 */
struct ram_chunks;
struct be_ram_ref {
	struct ram_chunks *rc;
	uint32_t pc; /* the first physical chunk */
	uint32_t n;  /* chunks referenced from pc on (physically contiguous) */
};

/*
 * RAM: the store's bytes [offset, offset + len) when they lie in one
 * chunk, or in chunks that are contiguous in memory (a store never
 * swapped there), with a reference on them (not reused until
 * be_ram_unref(): a swap may take them out of the store meanwhile, and the
 * bytes then stay those of before the swap). NULL when they are not
 * contiguous: read them into a buffer instead.
 */
uint8_t *be_ram_map(struct be_ns *ns, uint64_t offset, uint32_t len, struct be_ram_ref *ref);
/*
 * RAM: a spare chunk to receive a write of exactly one whole aligned chunk
 * [offset, offset + len), with a reference on it; the write (be_io.ram_swap)
 * then swaps it into the store without a copy. NULL when the write is not
 * one whole chunk or no spare is free: write through a buffer as usual.
 */
uint8_t *be_ram_spare_get(struct be_ns *ns, uint64_t offset, uint32_t len, struct be_ram_ref *ref);
/* Drop the reference (a spare never swapped goes back to the pool). Idempotent. */
void be_ram_unref(struct be_ram_ref *ref);
/* Whether ref is a chunk of ns's store (a reload may have replaced the namespace). */
bool be_ram_owns(const struct be_ns *ns, const struct be_ram_ref *ref);
/* RAM: the store's bytes [offset, offset + len) equal buf's (Compare). */
bool be_ram_equal(struct be_ns *ns, uint64_t offset, const void *buf, uint64_t len);

extern const struct be_ops be_file_ops;
extern const struct be_ops be_ram_ops;
#ifdef NVMFD_HAVE_RBD
extern const struct be_ops be_rbd_ops;
#endif
/* Whether this build has the RBD backend (librbd at build time). */
bool be_rbd_supported(void);
