/* SPDX-License-Identifier: BSD-2-Clause */
/* Choosing a backend by path, and what every backend shares. */
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

int be_open(struct be_ns *ns, const struct be_params *p, char *err, size_t errlen)
{
	const struct be_ops *ops;
	struct stat st;
	char why[384];
	int ret;

	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	snprintf(ns->path, sizeof(ns->path), "%s", p->path);
	if (strncmp(p->path, "ram:", 4) == 0) {
		ops = &be_ram_ops;
	} else if (strncmp(p->path, "rbd:", 4) == 0) {
#ifdef NVMFD_HAVE_RBD
		ops = &be_rbd_ops;
#else
		snprintf(err, errlen, "%s: this nvmfd was built without RBD support (librbd)",
			 p->path);
		return -EOPNOTSUPP;
#endif
	} else if (stat(p->path, &st) != 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", p->path, strerror(errno));
		return ret;
	} else if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		ops = &be_file_ops;
	} else {
		snprintf(err, errlen, "%s: not a regular file or a block device", p->path);
		return -EINVAL;
	}
	ns->ops = ops;
	why[0] = '\0';
	ret = ops->open(ns, p, why, sizeof(why));
	if (ret) {
		/* a backend may say more (RBD: which step failed) than the errno */
		snprintf(err, errlen, "%s: %s", p->path, why[0] ? why : strerror(-ret));
		return ret;
	}
	if (ns->size < ns->block_size) {
		snprintf(err, errlen, "%s: smaller than one %u-byte block", p->path,
			 ns->block_size);
		ops->close(ns);
		return -EINVAL;
	}
	return 0;
}

void be_close(struct be_ns *ns)
{
	if (ns->ops != NULL)
		ns->ops->close(ns);
	ns->ops = NULL;
}

static bool in_range(const struct be_ns *ns, const struct be_io *io)
{
	uint64_t size = __atomic_load_n(&ns->size, __ATOMIC_RELAXED); /* a reload may resize */

	if (io->op == BE_OP_FLUSH)
		return true;
	return io->offset <= size && io->len <= size - io->offset;
}

int be_size_now(const struct be_ns *ns, uint64_t *size)
{
	uint64_t bytes;
	int ret;

	if (ns->kind == BE_RAM) { /* fixed */
		*size = ns->size;
		return 0;
	}
	if (ns->ops->size_now != NULL)
		ret = ns->ops->size_now(ns, &bytes);
	else
		ret = be_fd_bytes(ns->fd, &bytes);
	if (ret)
		return ret;
	*size = bytes - bytes % ns->block_size;
	return 0;
}

void be_event_complete(void *ev, int res)
{
	struct be_event *e = ev;

	e->complete(e, res);
}

bool be_rbd_supported(void)
{
#ifdef NVMFD_HAVE_RBD
	return true;
#else
	return false;
#endif
}

int be_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	if (!in_range(ns, io))
		return -EINVAL;
	if (ns->read_only && io->op != BE_OP_READ && io->op != BE_OP_FLUSH)
		return -EROFS;
	io->ns = ns;
	io->ring = ring;
	io->xfered = 0;
	return ns->ops->submit(ns, ring, io);
}

int be_resubmit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	io->ring = ring;
	return ns->ops->submit(ns, ring, io);
}

const char *be_dealloc_name(enum be_dealloc d)
{
	switch (d) {
	case BE_DEALLOC_NOOP:
		return "nothing (the device cannot discard)";
	case BE_DEALLOC_DISCARD:
		return "discard";
	case BE_DEALLOC_ZERO_UNMAP:
		return "zeroing with unmap";
	case BE_DEALLOC_PUNCH:
		return "hole punching";
	case BE_DEALLOC_RAM:
		return "pages released";
	case BE_DEALLOC_RBD:
		return "librbd discard";
	}
	return "?";
}
