/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmfdd: move blocks between stdin / stdout and an NVMe/TCP namespace, like
 * FreeBSD's tools/tools/nvmf/nvmfdd, plus `discover` and `identify`.
 *
 *   nvmfdd read|write [-n nsid] [-o offset] [-l length] [-g] [-G] [-q hostnqn]
 *                     [-t timeout] [--max-h2c BYTES] ADDRESS:PORT SUBNQN
 *   nvmfdd identify [-n nsid] [options] ADDRESS:PORT SUBNQN
 *   nvmfdd discover [options] ADDRESS[:PORT]
 *
 * It connects as the Linux host does: admin queue, CC enable, Identify,
 * Set Features Number of Queues, then I/O queue 1 with the admin's CNTLID;
 * at the end CC.SHN and close. Data on stdout / stdin only, messages on
 * stderr. Exit status: 0 ok, 1 error, 2 usage.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"
#include "host_session.h"
#include "nvmf.h"
#include "show.h"
#include "status.h"

#define IO_QSIZE    128	  /* the Linux host's default queue_size */
#define MAX_NLB	    65536 /* NLB is a 16-bit 0's based field */
#define SHARED_OPTS (HOST_OPTS_Q_T | HOST_OPTS_MAX_H2C | HOST_OPTS_KATO)
#define TIMEOUT_MS  30000

enum cmd { CMD_READ, CMD_WRITE, CMD_IDENTIFY, CMD_DISCOVER };

struct dd {
	enum cmd cmd;
	uint32_t nsid;
	bool nsid_set, length_set;
	uint64_t offset, length;
	struct host_opts o;
	struct host_session s;
	uint32_t lbs;  /* LBA data size */
	uint64_t nsze; /* blocks */
};

static void usage(FILE *f)
{
	struct host_opts o;

	host_opts_init(&o, SHARED_OPTS, TIMEOUT_MS, "");
	fprintf(f, "usage: nvmfdd read|write [-n nsid] [-o offset] [-l length] [-g] [-G]\n"
		   "                    [-q hostnqn] [-t timeout] [--max-h2c bytes] ADDRESS:PORT "
		   "SUBNQN\n"
		   "       nvmfdd identify [-n nsid] [-g] [-G] [-q hostnqn] [-t timeout] "
		   "ADDRESS:PORT SUBNQN\n"
		   "       nvmfdd discover [-g] [-G] [-q hostnqn] [-t timeout] ADDRESS[:PORT]\n"
		   "  -n nsid      namespace (default 1)\n"
		   "  -o offset    byte offset, a multiple of the LBA size (default 0)\n"
		   "  -l length    bytes, a multiple of the LBA size (read: default to the end of\n"
		   "               the namespace; write: default until end of input)\n");
	host_opts_usage(f, &o, 2, 15);
	fprintf(f, "ADDRESS is an IPv4 address, a host name or [IPv6]; PORT defaults to 4420.\n");
}

/* ---- Arguments ---- */

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (*s == '-')
		return -EINVAL;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end != '\0' ? -EINVAL : 0;
}

static int parse_cmd(const char *s, enum cmd *cmd)
{
	static const char *const names[] = {"read", "write", "identify", "discover"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*cmd = (enum cmd)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_option(void *ctx, int ch, const char *arg)
{
	struct dd *dd = ctx;
	uint64_t v;

	switch (ch) {
	case 'n':
		dd->nsid_set = true;
		if (parse_u64(arg, &v) || v == 0 || v >= UINT32_MAX)
			return -EINVAL;
		dd->nsid = (uint32_t)v;
		return 0;
	case 'o':
		return parse_u64(arg, &dd->offset);
	case 'l':
		dd->length_set = true;
		return parse_u64(arg, &dd->length);
	default:
		return -EINVAL;
	}
}

/* 0; 1 after --help; -EINVAL for a usage error (said). */
static int parse_args(struct dd *dd, int argc, char **argv)
{
	int ret, need;

	if (argc < 2 || parse_cmd(argv[1], &dd->cmd)) {
		if (argc >= 2 && strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
			warnx("unknown command \"%s\"", argv[1]);
		usage(stderr);
		return -EINVAL;
	}
	dd->nsid = 1;
	host_opts_init(&dd->o, SHARED_OPTS, TIMEOUT_MS, "is a target listening?");
	ret = host_opts_getopt(&dd->o, argc - 1, argv + 1, "n:o:l:", NULL, parse_option, dd, usage);
	if (ret <= 0)
		return ret < 0 ? ret : 1;
	argv += ret + 1;
	argc -= ret + 1;
	need = dd->cmd == CMD_DISCOVER ? 1 : 2;
	if (argc != need) {
		warnx("%s needs %s", dd->cmd == CMD_DISCOVER ? "discover" : "this command",
		      need == 1 ? "ADDRESS[:PORT]" : "ADDRESS:PORT and SUBNQN");
		usage(stderr);
		return -EINVAL;
	}
	if (host_opts_address(&dd->o, argv[0]))
		return -EINVAL;
	dd->o.subnqn = dd->cmd == CMD_DISCOVER ? NVMF_DISC_NQN : argv[1];
	host_session_init(&dd->s, &dd->o, NULL, dd->o.subnqn);
	return 0;
}

/* ---- Namespace and range ---- */

static int open_namespace(struct dd *dd)
{
	return host_open_namespace(&dd->s, dd->nsid, &dd->nsze, &dd->lbs);
}

/* Offset and length in whole blocks, inside the namespace. */
static int check_range(struct dd *dd)
{
	uint64_t cap = dd->nsze * dd->lbs;

	if (dd->offset % dd->lbs) {
		warnx("offset %" PRIu64
		      " is not a multiple of the %u-byte LBA size of namespace %u",
		      dd->offset, dd->lbs, dd->nsid);
		return -EINVAL;
	}
	if (dd->length_set && dd->length % dd->lbs) {
		warnx("length %" PRIu64
		      " is not a multiple of the %u-byte LBA size of namespace %u",
		      dd->length, dd->lbs, dd->nsid);
		return -EINVAL;
	}
	if (dd->offset > cap || (dd->length_set && dd->length > cap - dd->offset)) {
		warnx("offset %" PRIu64 " + length %" PRIu64 " is out of range: beyond the end of "
		      "namespace %u (%" PRIu64 " bytes, %" PRIu64 " blocks of %u)",
		      dd->offset, dd->length, dd->nsid, cap, dd->nsze, dd->lbs);
		return -EINVAL;
	}
	if (!dd->length_set)
		dd->length = cap - dd->offset;
	return 0;
}

/* Bytes per command: the maximum transfer size in whole blocks. */
static uint32_t chunk_size(struct dd *dd)
{
	uint64_t max = nvmf_max_xfer(dd->s.na);

	if (max > (uint64_t)MAX_NLB * dd->lbs)
		max = (uint64_t)MAX_NLB * dd->lbs;
	return (uint32_t)(max - max % dd->lbs);
}

/* ---- Data ---- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read until n bytes or end of input (pipes deliver short reads). */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, p + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int io_failed(struct dd *dd, const char *op, uint64_t off, uint32_t n, int ret,
		     nvme_status_t st)
{
	char what[96];

	snprintf(what, sizeof(what), "%s of %u bytes at offset %" PRIu64, op, n, off);
	return host_cmd_failed(&dd->s, what, ret, st);
}

static int do_read(struct dd *dd, uint8_t *buf, uint32_t chunk)
{
	uint64_t off = dd->offset, left = dd->length;
	nvme_status_t st;
	int ret;

	while (left > 0) {
		uint32_t n = left < chunk ? (uint32_t)left : chunk;

		ret = host_keep_alive(&dd->s);
		if (ret)
			return ret;
		ret = nvmf_host_read(dd->s.io[0], dd->nsid, off / dd->lbs, n / dd->lbs, buf, n,
				     &st);
		if (ret || st)
			return io_failed(dd, "read", off, n, ret, st);
		ret = write_all(STDOUT_FILENO, buf, n);
		if (ret) {
			warnx("writing to standard output: %s", strerror(-ret));
			return ret;
		}
		off += n;
		left -= n;
	}
	return 0;
}

/* How the input ended; 0 if that is fine. */
static int input_end(struct dd *dd, uint64_t done, size_t got)
{
	uint8_t extra;

	if (dd->length_set && done < dd->length) {
		warnx("standard input ended after %" PRIu64 " of %" PRIu64 " bytes", done,
		      dd->length);
		return -EINVAL;
	}
	if (got % dd->lbs) {
		warnx("input ends with %zu bytes, not a multiple of the %u-byte LBA size "
		      "(%" PRIu64 " bytes written)",
		      got, dd->lbs, done);
		return -EINVAL;
	}
	if (!dd->length_set && done == dd->length && read_full(STDIN_FILENO, &extra, 1) == 1) {
		warnx("input continues beyond the end of namespace %u (out of range; %" PRIu64
		      " bytes written)",
		      dd->nsid, done);
		return -EINVAL;
	}
	return 0;
}

static int do_write(struct dd *dd, uint8_t *buf, uint32_t chunk)
{
	uint64_t off = dd->offset, left = dd->length;
	nvme_status_t st;
	ssize_t got = 0;
	int ret;

	while (left > 0) {
		uint32_t want = left < chunk ? (uint32_t)left : chunk, n;

		got = read_full(STDIN_FILENO, buf, want);
		if (got < 0) {
			warnx("reading standard input: %s", strerror((int)-got));
			return (int)got;
		}
		n = (uint32_t)(got - got % dd->lbs);
		if (n > 0) {
			ret = host_keep_alive(&dd->s);
			if (ret)
				return ret;
			ret = nvmf_host_write(dd->s.io[0], dd->nsid, off / dd->lbs, n / dd->lbs,
					      buf, n, &st);
			if (ret || st)
				return io_failed(dd, "write", off, n, ret, st);
			off += n;
			left -= n;
		}
		if ((uint32_t)got < want)
			break;
	}
	return input_end(dd, off - dd->offset, got < 0 ? 0 : (size_t)got % dd->lbs);
}

/* As the Linux host: Set Features Number of Queues, then I/O queue 1. */
static int connect_io(struct dd *dd)
{
	unsigned int qsize = host_io_qsize_max(&dd->s);

	if (qsize > IO_QSIZE)
		qsize = IO_QSIZE;
	if (qsize < 2)
		qsize = 2;
	return host_connect_io(&dd->s, 1, (uint16_t)qsize);
}

static int run_rw(struct dd *dd)
{
	uint32_t chunk;
	uint8_t *buf;
	int ret;

	ret = open_namespace(dd);
	if (ret == 0)
		ret = check_range(dd);
	if (ret == 0)
		ret = connect_io(dd);
	if (ret)
		return ret;
	chunk = chunk_size(dd);
	if (chunk == 0) {
		warnx("%s: the maximum transfer size is below one block", dd->s.addr.where);
		return -EINVAL;
	}
	buf = malloc(chunk);
	if (buf == NULL) {
		warnx("out of memory");
		return -ENOMEM;
	}
	ret = dd->cmd == CMD_READ ? do_read(dd, buf, chunk) : do_write(dd, buf, chunk);
	free(buf);
	return ret;
}

/* ---- identify, discover ---- */

static int show_one_ns(struct dd *dd, uint32_t nsid, uint8_t *descs)
{
	struct nvme_id_ns ns;
	nvme_status_t st;
	char what[64];
	int ret;

	ret = nvmf_host_identify_ns(dd->s.admin, nsid, &ns, &st);
	if (ret || st) {
		snprintf(what, sizeof(what), "namespace %u: Identify Namespace", nsid);
		return host_cmd_failed(&dd->s, what, ret, st);
	}
	/* CNS 03h is optional before NVMe 1.3: fall back to the NS data. */
	ret = nvmf_host_ns_id_descs(dd->s.admin, nsid, descs, &st);
	if (ret)
		return host_fail(&dd->s, ret);
	show_ns(nsid, &ns, st ? NULL : descs);
	return 0;
}

static int run_identify(struct dd *dd)
{
	uint32_t *list = NULL;
	uint8_t *descs = NULL;
	nvme_status_t st;
	int ret;

	show_ctrl(&dd->s.ctrl);
	list = calloc(1024, sizeof(*list));
	descs = malloc(NVME_IDENTIFY_DATA_SIZE);
	if (list == NULL || descs == NULL) {
		warnx("out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = nvmf_host_active_ns_list(dd->s.admin, 0, list, &st);
	if (ret) {
		ret = host_fail(&dd->s, ret);
		goto out;
	}
	if (st)
		warnx("%s: Identify Active Namespace List: %s", dd->s.tag, nvme_status_str(st));
	else
		show_ns_list(list);
	if (dd->nsid_set) {
		ret = show_one_ns(dd, dd->nsid, descs);
	} else {
		for (int i = 0; i < 1024 && list[i] != 0 && ret == 0 && st == 0; i++)
			ret = show_one_ns(dd, le32toh(list[i]), descs);
	}
out:
	free(list);
	free(descs);
	return ret;
}

static int run_discover(struct dd *dd)
{
	struct nvmf_disc_log_hdr *log;
	nvme_status_t st;
	int ret;

	ret = nvmf_host_discovery_log(dd->s.admin, &log, &st);
	if (ret || st)
		return host_cmd_failed(&dd->s, "Get Log Page (discovery log)", ret, st);
	show_disc_log(log);
	free(log);
	return 0;
}

static int run(struct dd *dd)
{
	switch (dd->cmd) {
	case CMD_READ:
	case CMD_WRITE:
		return run_rw(dd);
	case CMD_IDENTIFY:
		return run_identify(dd);
	case CMD_DISCOVER:
		return run_discover(dd);
	}
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct dd dd;
	int ret;

	memset(&dd, 0, sizeof(dd));
	ret = parse_args(&dd, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 2;
	/* A closed stdout is an error message, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	/* Every command starts with the admin queue (and Identify Controller). */
	ret = host_connect_admin(&dd.s);
	if (ret == 0)
		ret = run(&dd);
	host_session_close(&dd.s);
	host_opts_wipe(&dd.o);
	if (fflush(stdout) != 0 && ret == 0) {
		ret = -errno;
		warnx("writing to standard output: %s", strerror(-ret));
	}
	return ret ? 1 : 0;
}
