/* SPDX-License-Identifier: BSD-2-Clause */
/* The file store of reservation state (resv_store.h). */
#include "resv_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_store {
	struct resv_store st;
	char dir[4150];
	char tmp[4250];
};

static int file_load(struct resv_store *st, char *buf, size_t cap, size_t *len)
{
	int fd = open(st->where, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) { /* larger than any file we write */
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	*len = n;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t r = write(fd, buf, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

static int file_save(struct resv_store *st, const char *buf, size_t len, uint64_t seq)
{
	struct file_store *f = (struct file_store *)st;
	int fd, ret;

	(void)seq; /* one writer: this nvmfd, under the namespace's lock */
	fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, buf, len);
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(f->tmp, st->where) != 0)
		ret = -errno;
	if (ret != 0) {
		unlink(f->tmp);
		return ret;
	}
	fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fsync(fd) != 0 ? -errno : 0; /* the rename itself */
	close(fd);
	return ret;
}

static void file_close(struct resv_store *st)
{
	free(st);
}

static const struct resv_store_ops file_ops = {
	.load = file_load,
	.save = file_save,
	.close = file_close,
};

int resv_store_file_open(const char *state_dir, const uint8_t nguid[16], struct resv_store **out)
{
	struct file_store *f = calloc(1, sizeof(*f));
	char name[33];

	*out = NULL;
	if (f == NULL)
		return -ENOMEM;
	for (int i = 0; i < 16; i++)
		snprintf(name + 2 * i, 3, "%02x", nguid[i]);
	snprintf(f->dir, sizeof(f->dir), "%s/reservations", state_dir);
	if ((mkdir(state_dir, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(f->dir, 0700) != 0 && errno != EEXIST)) {
		int ret = -errno;

		free(f);
		return ret;
	}
	snprintf(f->st.where, sizeof(f->st.where), "%s/%s", f->dir, name);
	snprintf(f->tmp, sizeof(f->tmp), "%s/.%s.tmp", f->dir, name);
	f->st.ops = &file_ops;
	*out = &f->st;
	return 0;
}
