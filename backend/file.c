/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Regular files and block devices. Everything goes through the worker's
 * ring: READ/WRITE(_FIXED), FSYNC (datasync) for Flush, RWF_DSYNC for FUA,
 * and FALLOCATE for Write Zeroes (ZERO_RANGE) and Deallocate (PUNCH_HOLE,
 * falling back to ZERO_RANGE where holes are not supported). Block devices
 * take both fallocate modes too (blkdev_fallocate, Linux 4.9).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"

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
	}
	ns->size -= ns->size % ns->block_size;
	ns->fd = fd;
	ns->can_punch = true;
	return 0;
fail: {
	int ret = -errno;

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

/* Queue the remaining part of io. */
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
	switch (io->op) {
	case BE_OP_READ:
		if (io->buf_index >= 0)
			io_uring_prep_read_fixed(sqe, fd, buf, len, off, io->buf_index);
		else
			io_uring_prep_read(sqe, fd, buf, len, off);
		break;
	case BE_OP_WRITE:
		if (io->buf_index >= 0)
			io_uring_prep_write_fixed(sqe, fd, buf, len, off, io->buf_index);
		else
			io_uring_prep_write(sqe, fd, buf, len, off);
		if (io->fua)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case BE_OP_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case BE_OP_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	case BE_OP_DEALLOCATE:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	}
	if (io->file_index >= 0)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, io->user_data);
	return 0;
}

static int file_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	if (io->op == BE_OP_DEALLOCATE && !ns->can_punch)
		io->op = BE_OP_WRITE_ZEROES;
	if ((io->op == BE_OP_WRITE_ZEROES || io->op == BE_OP_DEALLOCATE) && io->len == 0) {
		io->done(io, 0);
		return 0;
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

void be_io_complete(struct be_io *io, int res)
{
	if (res == -EOPNOTSUPP && io->op == BE_OP_DEALLOCATE) {
		io->ns->can_punch = false; /* benign race: every worker learns the same */
		io->op = BE_OP_WRITE_ZEROES;
		requeue(io);
		return;
	}
	if (res < 0 || (io->op != BE_OP_READ && io->op != BE_OP_WRITE)) {
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
