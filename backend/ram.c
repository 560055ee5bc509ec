/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RAM namespaces: an anonymous mapping that is reserved, not committed, so
 * a 1 GiB namespace costs only what the host writes. Operations complete
 * inline; deallocation gives whole pages back to the kernel.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"

#define PAGE 4096u

static int ram_open(struct be_ns *ns, const struct be_params *p)
{
	void *m;

	ns->kind = BE_RAM;
	ns->block_size = p->block_size ? p->block_size : 512;
	ns->size = p->ram_size - p->ram_size % ns->block_size;
	ns->read_only = p->read_only;
	if (ns->size == 0)
		return -EINVAL;
	m = mmap(NULL, ns->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	ns->ram = m;
	ns->can_punch = true;
	return 0;
}

static void ram_close(struct be_ns *ns)
{
	if (ns->ram != NULL)
		munmap(ns->ram, ns->size);
	ns->ram = NULL;
}

static void ram_zero(struct be_ns *ns, uint64_t off, uint64_t len, bool release)
{
	uint64_t a = (off + PAGE - 1) / PAGE * PAGE, b = (off + len) / PAGE * PAGE;

	if (!release || b <= a) {
		memset(ns->ram + off, 0, len);
		return;
	}
	/* partial pages by hand, whole pages back to the kernel (they read as zeroes) */
	memset(ns->ram + off, 0, a - off);
	if (madvise(ns->ram + a, b - a, MADV_DONTNEED) != 0)
		memset(ns->ram + a, 0, b - a);
	memset(ns->ram + b, 0, off + len - b);
}

static int ram_submit(struct be_ns *ns, struct io_uring *ring, struct be_io *io)
{
	uint8_t *at = ns->ram + io->offset;

	switch (io->op) {
	case BE_OP_READ:
		if (io->buf != at)
			memcpy(io->buf, at, io->len);
		break;
	case BE_OP_WRITE:
		if (io->buf != at) /* a payload received in place needs no copy */
			memcpy(at, io->buf, io->len);
		break;
	case BE_OP_FLUSH:
		break;
	case BE_OP_WRITE_ZEROES:
		ram_zero(ns, io->offset, io->len, false);
		break;
	case BE_OP_DEALLOCATE:
		ram_zero(ns, io->offset, io->len, true);
		break;
	}
	io->done(io, io->op == BE_OP_READ || io->op == BE_OP_WRITE ? (int)io->len : 0);
	(void)ring;
	return 0;
}

const struct be_ops be_ram_ops = {
	.kind = BE_RAM,
	.name = "ram",
	.open = ram_open,
	.close = ram_close,
	.submit = ram_submit,
};
