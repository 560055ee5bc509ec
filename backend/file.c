/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Regular files and block devices. Everything goes through the worker's
 * ring: READ/WRITE(_FIXED), FSYNC (datasync) for Flush, RWF_DSYNC for FUA
 * writes, FALLOCATE for Write Zeroes and for deallocation, and on block
 * devices io_uring's block discard command.
 *
 * What fallocate does on a block device (blkdev_fallocate, block/fops.c):
 * ZERO_RANGE is a Write Zeroes without unmap that the kernel turns into
 * writes of zero pages when the device has no Write Zeroes; PUNCH_HOLE is a
 * Write Zeroes with unmap allowed that fails with EOPNOTSUPP instead of ever
 * writing. Neither is a discard. So:
 *
 *   Deallocate, file:   PUNCH_HOLE (ZERO_RANGE where holes are refused).
 *   Deallocate, device: a discard (IORING_OP_URING_CMD with
 *       BLOCK_URING_CMD_DISCARD, Linux 6.12, probed at open); on older
 *       kernels PUNCH_HOLE; nothing at all when the device cannot discard
 *       (queue/discard_max_bytes 0: deallocation is advisory, NVM 3.2.3.2).
 *   Write Zeroes:       PUNCH_HOLE when the host allows deallocation (DEAC)
 *       and the store can (a file, or a device with Write Zeroes), else
 *       ZERO_RANGE.
 *   With FUA, or the volatile write cache off: an fdatasync after either.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend.h"

#ifndef BLOCK_URING_CMD_DISCARD
#define BLOCK_URING_CMD_DISCARD _IO(0x12, 0) /* <linux/fs.h>, Linux 6.12 */
#endif

/* be_io.how: what the io's current step queues. */
enum {
	HOW_RW,	     /* READ, WRITE, FLUSH: by op */
	HOW_DISCARD, /* block discard command */
	HOW_PUNCH,   /* fallocate PUNCH_HOLE */
	HOW_ZERO,    /* fallocate ZERO_RANGE */
	HOW_SYNC,    /* fdatasync after a zeroing or a deallocation (FUA) */
};

static int open_fd(const char *path, bool read_only, bool direct)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	return open(path, flags | (direct ? O_DIRECT : 0));
}

int be_fd_bytes(int fd, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISBLK(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		return 0;
	}
	return ioctl(fd, BLKGETSIZE64, bytes) != 0 ? -errno : 0;
}

/*
 * One of the block device's queue limits (Documentation/ABI/stable/
 * sysfs-block), 0 when it cannot be read. A partition has no queue/ of
 * its own: its disk's is one level up.
 */
static uint64_t queue_limit(dev_t rdev, const char *name)
{
	unsigned long long v = 0;

	for (int up = 0; up < 2; up++) {
		char path[128];
		FILE *f;
		int n;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%squeue/%s", major(rdev),
			 minor(rdev), up ? "../" : "", name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		n = fscanf(f, "%llu", &v);
		fclose(f);
		return n == 1 ? (uint64_t)v : 0;
	}
	return 0;
}

/*
 * Does this kernel take io_uring's block discard command (Linux 6.12,
 * blkdev_uring_cmd)? One command it must refuse, on a ring of our own: a
 * discard of a misaligned range, which the kernel checks before doing
 * anything (EINVAL); a kernel without the command answers EOPNOTSUPP (no
 * uring_cmd for block devices, 5.19 to 6.11) or has no URING_CMD at all.
 * Only for a writable device that can discard: else the answer is another.
 */
static bool probe_discard_cmd(int fd, uint32_t block_size)
{
	struct io_uring_probe *probe;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	bool ok;

	if (io_uring_queue_init(1, &ring, 0) != 0)
		return false;
	probe = io_uring_get_probe_ring(&ring);
	ok = probe != NULL && io_uring_opcode_supported(probe, IORING_OP_URING_CMD);
	io_uring_free_probe(probe);
	if (ok) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
		sqe->cmd_op = BLOCK_URING_CMD_DISCARD;
		sqe->addr = 1; /* misaligned: refused */
		sqe->addr3 = block_size;
		ok = io_uring_submit_and_wait(&ring, 1) == 1 &&
		     io_uring_peek_cqe(&ring, &cqe) == 0 && cqe->res == -EINVAL;
	}
	io_uring_queue_exit(&ring);
	return ok;
}

/* A block device's limits and how it deallocates. */
static void block_caps(struct be_ns *ns, dev_t rdev)
{
	struct be_limits *l = &ns->lim;
	uint64_t gran = queue_limit(rdev, "discard_granularity");
	uint64_t phys = queue_limit(rdev, "physical_block_size");
	uint64_t opt = queue_limit(rdev, "optimal_io_size");

	l->dealloc_max = queue_limit(rdev, "discard_max_bytes");
	l->zeroes_max = queue_limit(rdev, "write_zeroes_max_bytes");
	l->dealloc_gran = gran <= UINT32_MAX ? (uint32_t)gran : 0;
	l->write_gran = phys <= UINT32_MAX ? (uint32_t)phys : 0;
	l->io_opt = opt <= UINT32_MAX ? (uint32_t)opt : 0;
	/*
	 * A discarded range reads back as whatever the device decides
	 * (the kernel dropped discard_zeroes_data in 4.12): not reported.
	 */
	l->dealloc_zeroes = false;
	/* PUNCH_HOLE needs the device's Write Zeroes: it never writes */
	ns->can_punch = l->zeroes_max != 0;
	if (l->dealloc_max == 0 || ns->read_only)
		ns->dealloc = BE_DEALLOC_NOOP;
	else if (probe_discard_cmd(ns->fd, ns->block_size))
		ns->dealloc = BE_DEALLOC_DISCARD;
	else if (ns->can_punch)
		ns->dealloc = BE_DEALLOC_ZERO_UNMAP;
	else
		ns->dealloc = BE_DEALLOC_NOOP; /* only BLKDISCARD would do, and it blocks */
}

static int file_open(struct be_ns *ns, const struct be_params *p, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	(void)why;
	(void)whylen;
	ns->kind = BE_FILE;
	ns->read_only = p->read_only;
	ns->direct = p->direct;
	fd = open_fd(p->path, p->read_only, p->direct);
	if (fd < 0 && errno == EINVAL && p->direct) {
		/* tmpfs and some others refuse O_DIRECT: buffered I/O still works */
		ns->direct = false;
		fd = open_fd(p->path, p->read_only, false);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0)
		goto fail;
	ns->fd = fd;
	ns->block_size = p->block_size ? p->block_size : 512;
	if (be_fd_bytes(fd, &ns->size) != 0)
		goto fail;
	if (S_ISBLK(st.st_mode)) {
		int lbs, ro = 0;

		ns->kind = BE_BLOCK;
		if (ioctl(fd, BLKSSZGET, &lbs) != 0)
			goto fail;
		ns->block_size = (uint32_t)lbs; /* the device decides */
		if (!ns->read_only && ioctl(fd, BLKROGET, &ro) == 0 && ro) {
			/* a device set read-only (blockdev --setro, losetup -r) is
			 * served write-protected instead of failing every write */
			ns->read_only = true;
			ns->forced_read_only = true;
		}
		block_caps(ns, st.st_rdev);
	} else {
		/* a file system frees and allocates whole blocks of st_blksize */
		ns->can_punch = true;
		ns->dealloc = BE_DEALLOC_PUNCH;
		ns->lim.dealloc_zeroes = true; /* a hole, or zeroes (ZERO_RANGE) */
		ns->lim.dealloc_gran = (uint32_t)st.st_blksize;
		ns->lim.write_gran = (uint32_t)st.st_blksize;
	}
	ns->size -= ns->size % ns->block_size;
	return 0;
fail: {
	int ret = -errno;

	ns->fd = -1;
	close(fd);
	return ret;
}
}

static void file_close(struct be_ns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
}

/* Queue the current step of io (for READ and WRITE: what remains of it). */
static int queue(struct io_uring *ring, struct be_io *io)
{
	struct be_ns *ns = io->ns;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int fd = io->file_index >= 0 ? io->file_index : ns->fd;
	void *buf = (uint8_t *)io->buf + io->xfered;
	uint32_t len = io->len - io->xfered;
	uint64_t off = io->offset + io->xfered;

	if (sqe == NULL)
		return -EAGAIN;
	switch (io->how) {
	case HOW_RW:
		if (io->op == BE_OP_FLUSH) {
			io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		} else if (io->op == BE_OP_READ) {
			if (io->buf_index >= 0)
				io_uring_prep_read_fixed(sqe, fd, buf, len, off, io->buf_index);
			else
				io_uring_prep_read(sqe, fd, buf, len, off);
		} else {
			if (io->buf_index >= 0)
				io_uring_prep_write_fixed(sqe, fd, buf, len, off, io->buf_index);
			else
				io_uring_prep_write(sqe, fd, buf, len, off);
			if (io->fua)
				sqe->rw_flags = RWF_DSYNC;
		}
		break;
	case HOW_DISCARD:
		/* blkdev_uring_cmd: start in addr, length in addr3, the rest 0 */
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
		sqe->cmd_op = BLOCK_URING_CMD_DISCARD;
		sqe->addr = io->offset;
		sqe->addr3 = io->len;
		break;
	case HOW_PUNCH:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	case HOW_ZERO:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	case HOW_SYNC:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	}
	if (io->file_index >= 0)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, io->user_data);
	return 0;
}

/* The first step of a deallocation; false when there is nothing to do. */
static bool dealloc_how(const struct be_ns *ns, struct be_io *io)
{
	switch (be_dealloc_now(ns)) {
	case BE_DEALLOC_DISCARD:
		io->how = HOW_DISCARD;
		return true;
	case BE_DEALLOC_ZERO_UNMAP:
		io->how = HOW_PUNCH;
		return true;
	case BE_DEALLOC_PUNCH:
		io->how = __atomic_load_n(&ns->can_punch, __ATOMIC_RELAXED) ? HOW_PUNCH : HOW_ZERO;
		return true;
	case BE_DEALLOC_NOOP:
	case BE_DEALLOC_RAM: /* not a file's */
	case BE_DEALLOC_RBD:
		break;
	}
	return false;
}

static int file_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	io->how = HOW_RW;
	if (io->op == BE_OP_WRITE_ZEROES || io->op == BE_OP_DEALLOCATE) {
		bool punch = __atomic_load_n(&ns->can_punch, __ATOMIC_RELAXED);

		if (io->len == 0 || (io->op == BE_OP_DEALLOCATE && !dealloc_how(ns, io))) {
			io->done(io, 0); /* advisory: a device that cannot discard */
			return 0;
		}
		if (io->op == BE_OP_WRITE_ZEROES)
			io->how = io->deac && punch ? HOW_PUNCH : HOW_ZERO;
	}
	return queue(ring, io);
}

/* Requeue; with a full SQ ring, submit first to make room. */
static void requeue(struct be_io *io)
{
	int ret = queue(io->ring, io);

	if (ret == -EAGAIN) {
		io_uring_submit(io->ring);
		ret = queue(io->ring, io);
	}
	if (ret)
		io->done(io, ret);
}

/*
 * A zeroing or deallocation the store refused as unsupported: the next
 * way, learnt for the namespace (a benign race: every worker learns the
 * same). False when there is none left.
 */
static bool fall_back(struct be_io *io)
{
	struct be_ns *ns = io->ns;

	switch (io->how) {
	case HOW_DISCARD:
		/* the probe said yes; the device said no since (a changed stack) */
		__atomic_store_n(&ns->dealloc,
				 __atomic_load_n(&ns->can_punch, __ATOMIC_RELAXED)
					 ? BE_DEALLOC_ZERO_UNMAP
					 : BE_DEALLOC_NOOP,
				 __ATOMIC_RELAXED);
		return dealloc_how(ns, io);
	case HOW_PUNCH:
		__atomic_store_n(&ns->can_punch, false, __ATOMIC_RELAXED);
		if (io->op == BE_OP_DEALLOCATE && ns->kind == BE_BLOCK) {
			/* zeroing instead could write: deallocation stays advisory */
			__atomic_store_n(&ns->dealloc, BE_DEALLOC_NOOP, __ATOMIC_RELAXED);
			return false;
		}
		io->how = HOW_ZERO;
		return true;
	default:
		return false;
	}
}

void be_io_complete(struct be_io *io, int res)
{
	if (io->how != HOW_RW && io->how != HOW_SYNC) { /* a zeroing or a deallocation */
		if (res == -EOPNOTSUPP) {
			if (fall_back(io)) {
				requeue(io);
				return;
			}
			/* a device's deallocation is advisory; zeroes are not */
			io->done(io,
				 io->op == BE_OP_DEALLOCATE && io->ns->kind == BE_BLOCK ? 0 : res);
			return;
		}
		if (res >= 0 && io->fua) {
			io->how = HOW_SYNC; /* durable before done, as a FUA write */
			requeue(io);
			return;
		}
		io->done(io, res < 0 ? res : 0);
		return;
	}
	if (res < 0 || io->how == HOW_SYNC || io->op == BE_OP_FLUSH) {
		io->done(io, res < 0 ? res : 0);
		return;
	}
	if (res == 0) {
		io->done(io, -EIO); /* the store shrank under us */
		return;
	}
	io->xfered += (uint32_t)res;
	if (io->xfered < io->len) {
		requeue(io);
		return;
	}
	io->done(io, (int)io->xfered);
}

const struct be_ops be_file_ops = {
	.kind = BE_FILE,
	.name = "file",
	.open = file_open,
	.close = file_close,
	.submit = file_submit,
};
