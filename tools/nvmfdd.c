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
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_session.h"
#include "byteorder.h"
#include "nqn.h"
#include "show.h"
#include "status.h"

#define DEFAULT_PORT	 "4420"
#define ADMIN_QSIZE	 32  /* NVME_AQ_DEPTH */
#define IO_QSIZE	 128 /* the Linux host's default queue_size */
#define SHUTDOWN_MS	 5000
#define MAX_NLB		 65536 /* NLB is a 16-bit 0's based field */

enum cmd { CMD_READ, CMD_WRITE, CMD_IDENTIFY, CMD_DISCOVER };

struct dd {
	enum cmd cmd;
	char host[256], port[32], where[300];
	const char *subnqn;
	uint32_t nsid;
	bool nsid_set, length_set;
	uint64_t offset, length;
	struct nvmf_association_params ap;
	struct nvmf_association *na;
	struct nvmf_qpair *admin, *io;
	uint64_t cap;
	struct nvme_id_ctrl ctrl;
	uint32_t lbs;  /* LBA data size */
	uint64_t nsze; /* blocks */
	long long last_admin_ms;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: nvmfdd read|write [-n nsid] [-o offset] [-l length] [-g] [-G]\n"
		   "                    [-q hostnqn] [-t timeout] [--max-h2c bytes] ADDRESS:PORT SUBNQN\n"
		   "       nvmfdd identify [-n nsid] [-g] [-G] [-q hostnqn] [-t timeout] ADDRESS:PORT SUBNQN\n"
		   "       nvmfdd discover [-g] [-G] [-q hostnqn] [-t timeout] ADDRESS[:PORT]\n"
		   "  -n nsid      namespace (default 1)\n"
		   "  -o offset    byte offset, a multiple of the LBA size (default 0)\n"
		   "  -l length    bytes, a multiple of the LBA size (read: default to the end of\n"
		   "               the namespace; write: default until end of input)\n"
		   "  -g / -G      header / data digests\n"
		   "  -q hostnqn   host NQN (default /etc/nvme/hostnqn, else derived)\n"
		   "  -t timeout   seconds to wait for the target (default 30)\n"
		   "  --max-h2c N  send at most N bytes per H2CData PDU (testing)\n"
		   "  --kato MS    Keep Alive Timeout for the admin queue (default 0: none)\n"
		   "  --hostid UUID\n"
		   "ADDRESS is an IPv4 address, a host name or [IPv6]; PORT defaults to 4420.\n");
}

static void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void warnx_(const char *fmt, ...)
{
	va_list ap;

	fputs("nvmfdd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Arguments ---- */

/* "host:port", "[v6]:port", "host", "[v6]", or a bare IPv6 address (common.c). */
static int parse_address(struct dd *dd, const char *arg)
{
	struct tool_addr a;

	_Static_assert(sizeof(a.host) == sizeof(dd->host) && sizeof(a.port) == sizeof(dd->port) &&
			       sizeof(a.where) == sizeof(dd->where),
		       "struct dd and struct tool_addr agree");
	if (tool_parse_address(&a, arg, DEFAULT_PORT))
		return -EINVAL;
	memcpy(dd->host, a.host, sizeof(dd->host));
	memcpy(dd->port, a.port, sizeof(dd->port));
	memcpy(dd->where, a.where, sizeof(dd->where));
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (*s == '-')
		return -EINVAL;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end != '\0' ? -EINVAL : 0;
}

static int parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(s, &x) || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int parse_cmd(const char *s, enum cmd *cmd)
{
	static const char *const names[] = { "read", "write", "identify", "discover" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*cmd = (enum cmd)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_option(struct dd *dd, int ch, const char *arg)
{
	uint32_t secs;

	switch (ch) {
	case 'n':
		dd->nsid_set = true;
		return parse_u32(arg, &dd->nsid) || dd->nsid == 0 || dd->nsid == UINT32_MAX
			       ? -EINVAL : 0;
	case 'o':
		return parse_u64(arg, &dd->offset);
	case 'l':
		dd->length_set = true;
		return parse_u64(arg, &dd->length);
	case 'g':
		dd->ap.hdgst = true;
		return 0;
	case 'G':
		dd->ap.ddgst = true;
		return 0;
	case 'q':
		if (strlen(arg) >= sizeof(dd->ap.hostnqn))
			return -EINVAL;
		strcpy(dd->ap.hostnqn, arg);
		return 0;
	case 't':
		if (parse_u32(arg, &secs) || secs == 0 || secs > 3600)
			return -EINVAL;
		dd->ap.timeout_ms = secs * 1000;
		return 0;
	case 'H':
		return parse_u32(arg, &dd->ap.max_h2c) || dd->ap.max_h2c < 4 ||
			       dd->ap.max_h2c % 4 ? -EINVAL : 0;
	case 'K':
		return parse_u32(arg, &dd->ap.kato_ms);
	case 'I':
		return nvmf_uuid_parse(arg, dd->ap.hostid);
	default:
		return -EINVAL;
	}
}

/* 0; 2 for a usage error (after saying what is wrong); -1 after --help. */
static int parse_args(struct dd *dd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max-h2c", required_argument, NULL, 'H' },
		{ "kato", required_argument, NULL, 'K' },
		{ "hostid", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int ch, need;

	if (argc < 2 || parse_cmd(argv[1], &dd->cmd)) {
		if (argc >= 2 && strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
			warnx_("unknown command \"%s\"", argv[1]);
		usage(stderr);
		return 2;
	}
	dd->nsid = 1;
	dd->ap.timeout_ms = 30000;
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "n:o:l:gGq:t:h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return -1;
		}
		if (ch == '?' || parse_option(dd, ch, optarg)) {
			if (ch != '?')
				warnx_("invalid value \"%s\" for -%c", optarg, ch < 'A' ? '?' : ch);
			usage(stderr);
			return 2;
		}
	}
	argv += optind + 1;
	argc -= optind + 1;
	need = dd->cmd == CMD_DISCOVER ? 1 : 2;
	if (argc != need) {
		warnx_("%s needs %s", dd->cmd == CMD_DISCOVER ? "discover" : "this command",
		       need == 1 ? "ADDRESS[:PORT]" : "ADDRESS:PORT and SUBNQN");
		usage(stderr);
		return 2;
	}
	if (parse_address(dd, argv[0])) {
		warnx_("invalid address \"%s\" (ADDRESS:PORT, [IPv6]:PORT)", argv[0]);
		return 2;
	}
	dd->subnqn = dd->cmd == CMD_DISCOVER ? NVMF_DISC_NQN : argv[1];
	if (dd->ap.hostnqn[0] != '\0' && nvmf_nqn_check(dd->ap.hostnqn, &why)) {
		warnx_("host NQN \"%s\" %s", dd->ap.hostnqn, why);
		return 2;
	}
	return 0;
}

/* ---- Reporting failures ---- */

/* A libnvmf call failed (ret < 0): say what happened, where. Returns 1. */
static int fail(struct dd *dd, int ret)
{
	const char *msg = dd->na ? nvmf_association_error(dd->na) : "";
	size_t wl = strlen(dd->where);

	/* Messages about the address already start with it. */
	if (strncmp(msg, dd->where, wl) == 0 && msg[wl] == ':')
		msg += wl + 2;
	if (ret == -ECONNREFUSED)
		warnx_("%s: connection refused \u2014 is a target listening?", dd->where);
	else if (*msg != '\0')
		warnx_("%s: %s", dd->where, msg);
	else
		warnx_("%s: %s", dd->where, strerror(-ret));
	return 1;
}

/* A command completed with an error status. Returns 1. */
static int fail_status(struct dd *dd, const char *what, nvme_status_t st)
{
	warnx_("%s: %s failed: %s", dd->where, what, nvme_status_str(st));
	return 1;
}

/* The controller refused Connect: name the parameter it did not like. */
static int connect_refused(struct dd *dd, const struct nvmf_connect_rsp *rsp)
{
	nvme_status_t code = NVME_STATUS_CODE(rsp->status);
	const char *name = nvme_status_name(rsp->status, NVME_STATUS_CTX_FABRICS);
	const char *field = nvmf_connect_field(rsp);
	const char *host = nvmf_association_hostnqn(dd->na);
	bool inval = code == NVME_SC(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM);
	bool badhost = code == NVME_SC(COMMAND_SPECIFIC, CONNECT_INVALID_HOST);

	if (inval && strcmp(field, "subnqn") == 0)
		warnx_("%s: subsystem %s not found or not allowed for host %s (%s: subnqn)",
		       dd->where, dd->subnqn, host, name);
	else if ((inval && strcmp(field, "hostnqn") == 0) || badhost)
		warnx_("%s: host %s is not allowed to connect to subsystem %s (%s%s%s)", dd->where,
		       host, dd->subnqn, name, inval ? ": " : "", inval ? field : "");
	else if (inval)
		warnx_("%s: Connect to %s refused (%s: %s)", dd->where, dd->subnqn, name, field);
	else
		warnx_("%s: Connect to %s refused: %s", dd->where, dd->subnqn,
		       nvme_status_str_fabrics(rsp->status));
	return 1;
}

/* ---- Setup and teardown ---- */

static int connect_queue(struct dd *dd, uint16_t qid, uint16_t qsize, uint16_t cntlid,
			 struct nvmf_qpair **qpp)
{
	struct nvmf_qpair_params p = { .traddr = dd->host, .trsvcid = dd->port,
				       .subnqn = dd->subnqn, .qid = qid, .qsize = qsize,
				       .cntlid = cntlid };
	struct nvmf_connect_rsp rsp;
	int ret = nvmf_connect(dd->na, &p, qpp, &rsp);

	if (ret)
		return fail(dd, ret);
	if (*qpp == NULL)
		return connect_refused(dd, &rsp);
	return 0;
}

/* Admin queue, controller enabled, Identify Controller. */
static int setup_admin(struct dd *dd)
{
	nvme_status_t st;
	int ret;

	dd->na = nvmf_association_alloc(NVMF_TRTYPE_TCP, &dd->ap, &ret);
	if (dd->na == NULL) {
		warnx_("cannot set up the association: %s", strerror(-ret));
		return 1;
	}
	if (connect_queue(dd, 0, ADMIN_QSIZE, NVMF_CNTLID_DYNAMIC, &dd->admin))
		return 1;
	ret = nvmf_host_enable(dd->admin, &dd->cap, &st);
	if (ret)
		return fail(dd, ret);
	if (st)
		return fail_status(dd, "enabling the controller (Property Get/Set)", st);
	ret = nvmf_host_identify_ctrl(dd->admin, &dd->ctrl, &st);
	if (ret)
		return fail(dd, ret);
	if (st)
		return fail_status(dd, "Identify Controller", st);
	nvmf_association_update(dd->na, &dd->ctrl, (unsigned int)NVMEV(NVME_CAP_MPSMIN, dd->cap));
	dd->last_admin_ms = now_ms();
	return 0;
}

/* As the Linux host: Set Features Number of Queues, then I/O queue 1. */
static int setup_io(struct dd *dd)
{
	uint16_t nsq, ncq, qsize = IO_QSIZE, maxcmd = le16toh(dd->ctrl.maxcmd);
	unsigned int mqes = (unsigned int)NVMEV(NVME_CAP_MQES, dd->cap); /* 0's based */
	nvme_status_t st;
	int ret;

	ret = nvmf_host_set_num_queues(dd->admin, 1, 1, &nsq, &ncq, &st);
	if (ret)
		return fail(dd, ret);
	if (st)
		return fail_status(dd, "Set Features Number of Queues", st);
	if (mqes + 1 < qsize)
		qsize = (uint16_t)(mqes + 1);
	if (maxcmd != 0 && maxcmd < qsize)
		qsize = maxcmd;
	if (qsize < 2)
		qsize = 2;
	return connect_queue(dd, 1, qsize, nvmf_qpair_cntlid(dd->admin), &dd->io);
}

static void teardown(struct dd *dd)
{
	nvme_status_t st;

	nvmf_qpair_free(dd->io);
	if (dd->admin != NULL) {
		/* Best effort: a dead queue fails at once. */
		(void)nvmf_host_shutdown(dd->admin, SHUTDOWN_MS, &st);
		nvmf_qpair_free(dd->admin);
	}
	nvmf_association_free(dd->na);
}

/* ---- Namespace and range ---- */

static int open_namespace(struct dd *dd)
{
	struct nvme_id_ns ns;
	const char *why;
	nvme_status_t st;
	int ret;

	ret = nvmf_host_identify_ns(dd->admin, dd->nsid, &ns, &st);
	if (ret)
		return fail(dd, ret);
	if (st) {
		warnx_("%s: namespace %u: Identify Namespace failed: %s", dd->where, dd->nsid,
		       nvme_status_str(st));
		return 1;
	}
	dd->nsze = le64toh(ns.nsze);
	if (dd->nsze == 0) {
		warnx_("%s: namespace %u is not active in %s", dd->where, dd->nsid, dd->subnqn);
		return 1;
	}
	dd->lbs = ns_block_size(&ns, &why);
	if (dd->lbs == 0) {
		warnx_("%s: namespace %u cannot be used: %s", dd->where, dd->nsid, why);
		return 1;
	}
	return 0;
}

/* Offset and length in whole blocks, inside the namespace. */
static int check_range(struct dd *dd)
{
	uint64_t cap = dd->nsze * dd->lbs;

	if (dd->offset % dd->lbs) {
		warnx_("offset %" PRIu64 " is not a multiple of the %u-byte LBA size of namespace %u",
		       dd->offset, dd->lbs, dd->nsid);
		return 1;
	}
	if (dd->length_set && dd->length % dd->lbs) {
		warnx_("length %" PRIu64 " is not a multiple of the %u-byte LBA size of namespace %u",
		       dd->length, dd->lbs, dd->nsid);
		return 1;
	}
	if (dd->offset > cap || (dd->length_set && dd->length > cap - dd->offset)) {
		warnx_("offset %" PRIu64 " + length %" PRIu64 " is out of range: beyond the end of "
		       "namespace %u (%" PRIu64 " bytes, %" PRIu64 " blocks of %u)",
		       dd->offset, dd->length, dd->nsid, cap, dd->nsze, dd->lbs);
		return 1;
	}
	if (!dd->length_set)
		dd->length = cap - dd->offset;
	return 0;
}

/* Bytes per command: the maximum transfer size in whole blocks. */
static uint32_t chunk_size(struct dd *dd)
{
	uint64_t max = nvmf_max_xfer(dd->na);

	if (max > (uint64_t)MAX_NLB * dd->lbs)
		max = (uint64_t)MAX_NLB * dd->lbs;
	return (uint32_t)(max - max % dd->lbs);
}

/* KATO: a Keep Alive on the admin queue every KATO / 2, as Linux does. */
static int keep_alive(struct dd *dd)
{
	nvme_status_t st;
	int ret;

	if (dd->ap.kato_ms == 0 || now_ms() - dd->last_admin_ms < dd->ap.kato_ms / 2)
		return 0;
	ret = nvmf_host_keep_alive(dd->admin, &st);
	if (ret)
		return fail(dd, ret);
	if (st)
		return fail_status(dd, "Keep Alive", st);
	dd->last_admin_ms = now_ms();
	return 0;
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
	if (ret)
		return fail(dd, ret);
	warnx_("%s: %s of %u bytes at offset %" PRIu64 " failed: %s", dd->where, op, n, off,
	       nvme_status_str(st));
	return 1;
}

static int do_read(struct dd *dd, uint8_t *buf, uint32_t chunk)
{
	uint64_t off = dd->offset, left = dd->length;
	nvme_status_t st;
	int ret;

	while (left > 0) {
		uint32_t n = left < chunk ? (uint32_t)left : chunk;

		if (keep_alive(dd))
			return 1;
		ret = nvmf_host_read(dd->io, dd->nsid, off / dd->lbs, n / dd->lbs, buf, n, &st);
		if (ret || st)
			return io_failed(dd, "read", off, n, ret, st);
		ret = write_all(STDOUT_FILENO, buf, n);
		if (ret) {
			warnx_("writing to standard output: %s", strerror(-ret));
			return 1;
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
		warnx_("standard input ended after %" PRIu64 " of %" PRIu64 " bytes", done,
		       dd->length);
		return 1;
	}
	if (got % dd->lbs) {
		warnx_("input ends with %zu bytes, not a multiple of the %u-byte LBA size "
		       "(%" PRIu64 " bytes written)", got, dd->lbs, done);
		return 1;
	}
	if (!dd->length_set && done == dd->length && read_full(STDIN_FILENO, &extra, 1) == 1) {
		warnx_("input continues beyond the end of namespace %u (out of range; %" PRIu64
		       " bytes written)", dd->nsid, done);
		return 1;
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
			warnx_("reading standard input: %s", strerror((int)-got));
			return 1;
		}
		n = (uint32_t)(got - got % dd->lbs);
		if (n > 0) {
			if (keep_alive(dd))
				return 1;
			ret = nvmf_host_write(dd->io, dd->nsid, off / dd->lbs, n / dd->lbs, buf, n,
					      &st);
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

static int run_rw(struct dd *dd)
{
	uint32_t chunk;
	uint8_t *buf;
	int ret;

	if (setup_admin(dd) || open_namespace(dd) || check_range(dd) || setup_io(dd))
		return 1;
	chunk = chunk_size(dd);
	if (chunk == 0) {
		warnx_("%s: the maximum transfer size is below one block", dd->where);
		return 1;
	}
	buf = malloc(chunk);
	if (buf == NULL) {
		warnx_("out of memory");
		return 1;
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
	int ret;

	ret = nvmf_host_identify_ns(dd->admin, nsid, &ns, &st);
	if (ret)
		return fail(dd, ret);
	if (st) {
		warnx_("%s: namespace %u: Identify Namespace failed: %s", dd->where, nsid,
		       nvme_status_str(st));
		return 1;
	}
	/* CNS 03h is optional before NVMe 1.3: fall back to the NS data. */
	ret = nvmf_host_ns_id_descs(dd->admin, nsid, descs, &st);
	if (ret)
		return fail(dd, ret);
	show_ns(nsid, &ns, st ? NULL : descs);
	return 0;
}

static int run_identify(struct dd *dd)
{
	uint32_t *list = NULL;
	uint8_t *descs = NULL;
	nvme_status_t st;
	int ret = 1;

	if (setup_admin(dd))
		return 1;
	show_ctrl(&dd->ctrl);
	list = calloc(1024, sizeof(*list));
	descs = malloc(NVME_IDENTIFY_DATA_SIZE);
	if (list == NULL || descs == NULL) {
		warnx_("out of memory");
		goto out;
	}
	ret = nvmf_host_active_ns_list(dd->admin, 0, list, &st);
	if (ret) {
		ret = fail(dd, ret);
		goto out;
	}
	if (st)
		warnx_("%s: Identify Active Namespace List: %s", dd->where, nvme_status_str(st));
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

	if (setup_admin(dd))
		return 1;
	ret = nvmf_host_discovery_log(dd->admin, &log, &st);
	if (ret)
		return fail(dd, ret);
	if (st)
		return fail_status(dd, "Get Log Page (discovery log)", st);
	show_disc_log(log);
	free(log);
	return 0;
}

int main(int argc, char **argv)
{
	struct dd dd;
	int ret;

	memset(&dd, 0, sizeof(dd));
	ret = parse_args(&dd, argc, argv);
	if (ret)
		return ret < 0 ? 0 : ret;
	/* A closed stdout is an error message, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	switch (dd.cmd) {
	case CMD_READ:
	case CMD_WRITE:
		ret = run_rw(&dd);
		break;
	case CMD_IDENTIFY:
		ret = run_identify(&dd);
		break;
	case CMD_DISCOVER:
		ret = run_discover(&dd);
		break;
	}
	teardown(&dd);
	if (fflush(stdout) != 0 && ret == 0) {
		warnx_("writing to standard output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}
