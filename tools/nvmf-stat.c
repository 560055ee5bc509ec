/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmf-stat: the SMART / Health counters (Get Log Page 02h) of NVMe/TCP
 * subsystems, for the whole controller (NSID FFFFFFFFh) and each active
 * namespace, as a table, as JSON (nvme-cli smart-log key names), or as rates
 * between samples (--watch).
 *
 *   nvmf-stat [--json] [--watch SECONDS [--count N]] [-g] [-G] [-q hostnqn]
 *             [-t timeout] [ADDRESS[:PORT]] [SUBNQN]
 *
 * Without SUBNQN the subsystems come from the discovery log at the address
 * (default 127.0.0.1:4420). Exit status: 0 ok, 1 error, 2 usage.
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

#include "host_session.h"
#include "byteorder.h"
#include "nqn.h"
#include "nvmf.h"
#include "show.h"
#include "status.h"

#define DEFAULT_ADDR "127.0.0.1"
#define DEFAULT_PORT "4420"
#define ADMIN_QSIZE  32
#define SHUTDOWN_MS  5000
#define DATA_UNIT    512000ULL /* bytes per SMART data unit (1000 x 512) */

struct smart {
	unsigned int critical_warning, temperature, avail_spare, spare_thresh, percent_used;
	uint64_t du_read, du_written, host_reads, host_writes, busy, power_cycles, poh, unsafe,
		media_errors, err_log;
};

struct row {
	uint32_t nsid;	/* NVME_NSID_ALL: the controller */
	uint64_t bytes; /* namespace size (controller: the sum) */
	struct smart s, prev;
	bool ok;
};

struct subsys {
	char nqn[NVMF_NQN_FIELD];
	struct tool_addr addr;
	struct nvmf_association *na;
	struct nvmf_qpair *admin;
	struct row *rows; /* rows[0]: the controller */
	unsigned int nrows;
};

static struct {
	bool json;
	unsigned int watch, count;
	struct nvmf_association_params ap;
	struct tool_addr addr;
	const char *subnqn;
} opt;

static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvmf-stat [--json] [--watch SECONDS [--count N]] [-g] [-G] [-q hostnqn]\n"
		"                 [-t timeout] [ADDRESS[:PORT]] [SUBNQN]\n"
		"  --json          JSON, per subsystem and namespace, with nvme-cli's smart-log\n"
		"                  key names (temperature in Kelvin)\n"
		"  --watch SECS    sample every SECS seconds and print rates until interrupted:\n"
		"                  IOPS from the command counters, MiB/s from the data units,\n"
		"                  which count 512000 bytes rounded up: coarse (a 4 KiB write\n"
		"                  can add a whole unit); with --json one object a line\n"
		"  --count N       with --watch: stop after N intervals\n"
		"  -g / -G         header / data digests\n"
		"  -q hostnqn      host NQN (default /etc/nvme/hostnqn, else derived)\n"
		"  -t timeout      seconds to wait for the target (default 10)\n"
		"ADDRESS (default %s) is an IPv4 address, a host name or [IPv6]; PORT\n"
		"defaults to %s. Without SUBNQN the subsystems come from the discovery log.\n"
		"Data read / written: data units x 512000 bytes. Busy time in minutes.\n",
		DEFAULT_ADDR, DEFAULT_PORT);
}

static void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void warnx_(const char *fmt, ...)
{
	va_list ap;

	fputs("nvmf-stat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int parse_uint(const char *s, unsigned int max, unsigned int *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || *s == '-' || x == 0 || x > max)
		return -EINVAL;
	*v = (unsigned int)x;
	return 0;
}

/* 0; 2 for a usage error; -1 after --help. */
static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "hostid", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int secs = 0;
	const char *why;
	int ch, bad;

	opt.ap.timeout_ms = 10000;
	while ((ch = getopt_long(argc, argv, "gGq:t:h", longopts, NULL)) != -1) {
		bad = 0;
		switch (ch) {
		case 'h':
			usage(stdout);
			return -1;
		case 'j':
			opt.json = true;
			break;
		case 'w':
			bad = parse_uint(optarg, 86400, &opt.watch);
			break;
		case 'c':
			bad = parse_uint(optarg, UINT32_MAX, &opt.count);
			break;
		case 'g':
			opt.ap.hdgst = true;
			break;
		case 'G':
			opt.ap.ddgst = true;
			break;
		case 'q':
			bad = strlen(optarg) >= sizeof(opt.ap.hostnqn) ||
			      nvmf_nqn_check(optarg, &why);
			if (!bad)
				strcpy(opt.ap.hostnqn, optarg);
			break;
		case 't':
			bad = parse_uint(optarg, 3600, &secs);
			opt.ap.timeout_ms = secs * 1000;
			break;
		case 'I':
			bad = nvmf_uuid_parse(optarg, opt.ap.hostid) != 0;
			break;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			warnx_("invalid value \"%s\" for %s", optarg, argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (opt.count && !opt.watch) {
		warnx_("--count needs --watch");
		return 2;
	}
	argc -= optind;
	argv += optind;
	if (argc > 2) {
		usage(stderr);
		return 2;
	}
	if (tool_parse_address(&opt.addr, argc >= 1 ? argv[0] : DEFAULT_ADDR, DEFAULT_PORT)) {
		warnx_("invalid address \"%s\" (ADDRESS[:PORT], [IPv6]:PORT)", argv[0]);
		return 2;
	}
	if (argc == 2) {
		if (strlen(argv[1]) >= NVMF_NQN_FIELD || nvmf_nqn_check(argv[1], &why)) {
			warnx_("subsystem NQN \"%s\" is invalid", argv[1]);
			return 2;
		}
		opt.subnqn = argv[1];
	}
	return 0;
}

/* ---- Connecting ---- */

/* A libnvmf call failed (ret < 0): say what happened, where. Returns 1. */
static int fail(const struct tool_addr *a, struct nvmf_association *na, int ret)
{
	const char *msg = na ? nvmf_association_error(na) : "";
	size_t wl = strlen(a->where);

	if (strncmp(msg, a->where, wl) == 0 && msg[wl] == ':')
		msg += wl + 2;
	if (ret == -ECONNREFUSED)
		warnx_("%s: connection refused \u2014 is nvmfd running?", a->where);
	else if (*msg != '\0')
		warnx_("%s: %s", a->where, msg);
	else
		warnx_("%s: %s", a->where, strerror(-ret));
	return 1;
}

static int fail_status(const struct tool_addr *a, const char *subnqn, const char *what,
		       nvme_status_t st)
{
	warnx_("%s: %s: %s failed: %s", a->where, subnqn, what, nvme_status_str(st));
	return 1;
}

/* The controller refused Connect: name the status (and the parameter). */
static int connect_refused(const struct tool_addr *a, struct nvmf_association *na,
			   const char *subnqn, const struct nvmf_connect_rsp *rsp)
{
	nvme_status_t code = NVME_STATUS_CODE(rsp->status);
	const char *name = nvme_status_name(rsp->status, NVME_STATUS_CTX_FABRICS);
	const char *field = nvmf_connect_field(rsp);
	const char *host = nvmf_association_hostnqn(na);
	bool inval = code == NVME_SC(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM);
	bool badhost = code == NVME_SC(COMMAND_SPECIFIC, CONNECT_INVALID_HOST);

	if (inval && strcmp(field, "subnqn") == 0)
		warnx_("%s: subsystem %s not found or not allowed for host %s (%s: subnqn)",
		       a->where, subnqn, host, name);
	else if ((inval && strcmp(field, "hostnqn") == 0) || badhost)
		warnx_("%s: host %s is not allowed to connect to subsystem %s (%s%s%s)", a->where,
		       host, subnqn, name, inval ? ": " : "", inval ? field : "");
	else
		warnx_("%s: Connect to %s refused: %s", a->where, subnqn,
		       nvme_status_str_fabrics(rsp->status));
	return 1;
}

/* Admin queue to subnqn, controller enabled. 0 or 1 (said why). */
static int connect_admin(const struct tool_addr *a, const char *subnqn,
			 struct nvmf_association **nap, struct nvmf_qpair **qpp)
{
	struct nvmf_qpair_params p = { .traddr = a->host, .trsvcid = a->port, .subnqn = subnqn,
				       .qid = 0, .qsize = ADMIN_QSIZE,
				       .cntlid = NVMF_CNTLID_DYNAMIC };
	struct nvmf_connect_rsp rsp;
	nvme_status_t st;
	int ret;

	*nap = nvmf_association_alloc(NVMF_TRTYPE_TCP, &opt.ap, &ret);
	if (*nap == NULL) {
		warnx_("cannot set up the association: %s", strerror(-ret));
		return 1;
	}
	ret = nvmf_connect(*nap, &p, qpp, &rsp);
	if (ret)
		return fail(a, *nap, ret);
	if (*qpp == NULL)
		return connect_refused(a, *nap, subnqn, &rsp);
	ret = nvmf_host_enable(*qpp, NULL, &st);
	if (ret)
		return fail(a, *nap, ret);
	if (st)
		return fail_status(a, subnqn, "enabling the controller", st);
	return 0;
}

static void disconnect(struct nvmf_association **nap, struct nvmf_qpair **qpp)
{
	nvme_status_t st;

	if (*qpp != NULL) {
		(void)nvmf_host_shutdown(*qpp, SHUTDOWN_MS, &st);
		nvmf_qpair_free(*qpp);
	}
	nvmf_association_free(*nap);
	*qpp = NULL;
	*nap = NULL;
}

/* The NVMe subsystems of the discovery log at opt.addr. 0 or 1. */
static int discover(struct subsys **subsp, unsigned int *np)
{
	struct nvmf_association *na = NULL;
	struct nvmf_qpair *qp = NULL;
	struct nvmf_disc_log_hdr *log = NULL;
	struct nvmf_disc_log_entry *e;
	struct subsys *subs;
	nvme_status_t st;
	uint64_t numrec;
	unsigned int n = 0;
	int ret = 1;

	if (connect_admin(&opt.addr, NVMF_DISC_NQN, &na, &qp))
		goto out;
	ret = nvmf_host_discovery_log(qp, &log, &st);
	if (ret) {
		ret = fail(&opt.addr, na, ret);
		goto out;
	}
	if (st) {
		ret = fail_status(&opt.addr, NVMF_DISC_NQN, "Get Log Page (discovery log)", st);
		goto out;
	}
	numrec = le64toh(log->numrec);
	e = nvmf_disc_log_entries(log);
	subs = calloc(numrec ? numrec : 1, sizeof(*subs));
	if (subs == NULL) {
		warnx_("out of memory");
		ret = 1;
		goto out;
	}
	for (uint64_t i = 0; i < numrec; i++, e++) {
		char nqn[NVMF_NQN_FIELD];
		bool dup = false;

		if (e->subtype != NVMF_SUBTYPE_NVME || e->trtype != NVMF_TRTYPE_TCP)
			continue;
		snprintf(nqn, sizeof(nqn), "%.*s", (int)strnlen(e->subnqn, sizeof(e->subnqn)),
			 e->subnqn);
		for (unsigned int j = 0; j < n; j++)
			dup |= strcmp(subs[j].nqn, nqn) == 0;
		if (dup)
			continue;
		strcpy(subs[n].nqn, nqn);
		/* Where the entry says the subsystem is (like nvme connect-all). */
		snprintf(subs[n].addr.host, sizeof(subs[n].addr.host), "%.*s",
			 (int)strnlen(e->traddr, sizeof(e->traddr)), e->traddr);
		snprintf(subs[n].addr.port, sizeof(subs[n].addr.port), "%.*s",
			 (int)strnlen(e->trsvcid, sizeof(e->trsvcid)), e->trsvcid);
		if (subs[n].addr.host[0] == '\0' || subs[n].addr.port[0] == '\0')
			subs[n].addr = opt.addr;
		else
			snprintf(subs[n].addr.where, sizeof(subs[n].addr.where),
				 strchr(subs[n].addr.host, ':') ? "[%s]:%s" : "%s:%s",
				 subs[n].addr.host, subs[n].addr.port);
		n++;
	}
	if (n == 0) {
		warnx_("%s: the discovery log offers no NVMe/TCP subsystem to host %s",
		       opt.addr.where, nvmf_association_hostnqn(na));
		free(subs);
		ret = 1;
		goto out;
	}
	*subsp = subs;
	*np = n;
	ret = 0;
out:
	free(log);
	disconnect(&na, &qp);
	return ret;
}

/* ---- Sampling ---- */

static void smart_decode(const struct nvme_smart_log *l, struct smart *s)
{
	s->critical_warning = l->critical_warning;
	s->temperature = get_le16(l->temperature);
	s->avail_spare = l->avail_spare;
	s->spare_thresh = l->spare_thresh;
	s->percent_used = l->percent_used;
	s->du_read = get_le128_sat(l->data_units_read);
	s->du_written = get_le128_sat(l->data_units_written);
	s->host_reads = get_le128_sat(l->host_reads);
	s->host_writes = get_le128_sat(l->host_writes);
	s->busy = get_le128_sat(l->ctrl_busy_time);
	s->power_cycles = get_le128_sat(l->power_cycles);
	s->poh = get_le128_sat(l->power_on_hours);
	s->unsafe = get_le128_sat(l->unsafe_shutdowns);
	s->media_errors = get_le128_sat(l->media_errors);
	s->err_log = get_le128_sat(l->num_err_log_entries);
}

/* Connect, Identify Controller, the active namespaces and their sizes. */
static int subsys_open(struct subsys *ss)
{
	struct nvme_id_ctrl *ctrl = NULL;
	struct nvme_id_ns *ns = NULL;
	uint32_t *list = NULL;
	nvme_status_t st;
	unsigned int n = 0;
	int ret = 1;

	if (connect_admin(&ss->addr, ss->nqn, &ss->na, &ss->admin))
		return 1;
	ctrl = malloc(sizeof(*ctrl));
	ns = malloc(sizeof(*ns));
	list = calloc(1024, sizeof(*list));
	if (ctrl == NULL || ns == NULL || list == NULL) {
		warnx_("out of memory");
		goto out;
	}
	ret = nvmf_host_identify_ctrl(ss->admin, ctrl, &st);
	if (ret || st) {
		ret = ret ? fail(&ss->addr, ss->na, ret)
			  : fail_status(&ss->addr, ss->nqn, "Identify Controller", st);
		goto out;
	}
	ret = nvmf_host_active_ns_list(ss->admin, 0, list, &st);
	if (ret || st) {
		ret = ret ? fail(&ss->addr, ss->na, ret)
			  : fail_status(&ss->addr, ss->nqn, "Identify Active Namespace List", st);
		goto out;
	}
	while (n < 1024 && list[n] != 0)
		n++;
	ss->rows = calloc(n + 1, sizeof(*ss->rows));
	if (ss->rows == NULL) {
		warnx_("out of memory");
		ret = 1;
		goto out;
	}
	ss->rows[0].nsid = NVME_NSID_ALL;
	ss->nrows = 1;
	for (unsigned int i = 0; i < n; i++) {
		struct row *r = &ss->rows[ss->nrows];
		const char *why;
		uint32_t bs;

		r->nsid = le32toh(list[i]);
		ret = nvmf_host_identify_ns(ss->admin, r->nsid, ns, &st);
		if (ret) {
			ret = fail(&ss->addr, ss->na, ret);
			goto out;
		}
		if (st) {
			warnx_("%s: %s: namespace %u: Identify Namespace failed: %s", ss->addr.where,
			       ss->nqn, r->nsid, nvme_status_str(st));
			continue;
		}
		bs = ns_block_size(ns, &why); /* 0: unusable, size unknown */
		r->bytes = le64toh(ns->nsze) * bs;
		ss->rows[0].bytes += r->bytes;
		ss->nrows++;
	}
	ret = 0;
out:
	free(ctrl);
	free(ns);
	free(list);
	return ret;
}

/* Get Log Page 02h for every row. 0 or 1 (the first failure said). */
static int subsys_sample(struct subsys *ss)
{
	struct nvme_smart_log log;
	nvme_status_t st;
	int ret;

	for (unsigned int i = 0; i < ss->nrows; i++) {
		struct row *r = &ss->rows[i];
		struct nvmf_log_req req = { .lid = NVME_LOG_SMART, .nsid = r->nsid };

		r->prev = r->s;
		ret = nvmf_host_get_log_page(ss->admin, &req, &log, sizeof(log), &st);
		if (ret)
			return fail(&ss->addr, ss->na, ret);
		if (st) {
			warnx_("%s: %s: SMART / Health log for NSID %" PRIu32 ": %s", ss->addr.where,
			       ss->nqn, r->nsid, nvme_status_str(st));
			r->ok = false;
			continue;
		}
		smart_decode(&log, &r->s);
		r->ok = true;
	}
	return 0;
}

/* ---- Output ---- */

/* Bytes in IEC units, one decimal: "8.3 MiB". */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

static uint64_t du_bytes(uint64_t du)
{
	return du > UINT64_MAX / DATA_UNIT ? UINT64_MAX : du * DATA_UNIT;
}

static void nsid_str(uint32_t nsid, char *buf, size_t len)
{
	if (nsid == NVME_NSID_ALL)
		snprintf(buf, len, "all");
	else
		snprintf(buf, len, "%" PRIu32, nsid);
}

static int nqn_width(const struct subsys *subs, unsigned int n)
{
	int w = (int)strlen("SUBSYSTEM");

	for (unsigned int i = 0; i < n; i++)
		if (subs[i].rows != NULL && (int)strlen(subs[i].nqn) > w)
			w = (int)strlen(subs[i].nqn);
	return w;
}

static void print_table(const struct subsys *subs, unsigned int n)
{
	int w = nqn_width(subs, n);

	printf("%-*s %5s %10s %10s %10s %10s %10s %8s %6s %6s %6s %6s %7s %5s\n", w, "SUBSYSTEM",
	       "NSID", "SIZE", "READ", "WRITTEN", "READ_CMDS", "WRITE_CMDS", "BUSY_MIN", "PWR_CY",
	       "POH", "UNSAFE", "MEDIA", "ERR_LOG", "TEMP");
	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int j = 0; j < subs[i].nrows; j++) {
			const struct row *r = &subs[i].rows[j];
			const struct smart *s = &r->s;
			char id[16], sz[32], rd[32], wr[32], t[16];

			if (!r->ok)
				continue;
			nsid_str(r->nsid, id, sizeof(id));
			snprintf(t, sizeof(t), "%d\u00b0C", (int)s->temperature - 273);
			printf("%-*s %5s %10s %10s %10s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			       " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %7" PRIu64
			       " %6s\n",
			       w, subs[i].nqn, id, human(r->bytes, sz, sizeof(sz)),
			       human(du_bytes(s->du_read), rd, sizeof(rd)),
			       human(du_bytes(s->du_written), wr, sizeof(wr)), s->host_reads,
			       s->host_writes, s->busy, s->power_cycles, s->poh, s->unsafe,
			       s->media_errors, s->err_log, t);
		}
	}
}

/* A JSON string: NQNs are printable ASCII, but escape anyway. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_smart(const struct smart *s, const char *ind)
{
	printf("%s\"critical_warning\":%u,\n", ind, s->critical_warning);
	printf("%s\"temperature\":%u,\n", ind, s->temperature);
	printf("%s\"avail_spare\":%u,\n", ind, s->avail_spare);
	printf("%s\"spare_thresh\":%u,\n", ind, s->spare_thresh);
	printf("%s\"percent_used\":%u,\n", ind, s->percent_used);
	printf("%s\"data_units_read\":%" PRIu64 ",\n", ind, s->du_read);
	printf("%s\"data_units_written\":%" PRIu64 ",\n", ind, s->du_written);
	printf("%s\"host_read_commands\":%" PRIu64 ",\n", ind, s->host_reads);
	printf("%s\"host_write_commands\":%" PRIu64 ",\n", ind, s->host_writes);
	printf("%s\"controller_busy_time\":%" PRIu64 ",\n", ind, s->busy);
	printf("%s\"power_cycles\":%" PRIu64 ",\n", ind, s->power_cycles);
	printf("%s\"power_on_hours\":%" PRIu64 ",\n", ind, s->poh);
	printf("%s\"unsafe_shutdowns\":%" PRIu64 ",\n", ind, s->unsafe);
	printf("%s\"media_errors\":%" PRIu64 ",\n", ind, s->media_errors);
	printf("%s\"num_err_log_entries\":%" PRIu64 "\n", ind, s->err_log);
}

static void print_json(const struct subsys *subs, unsigned int n)
{
	bool first = true;

	printf("{\n  \"subsystems\":[");
	for (unsigned int i = 0; i < n; i++) {
		const struct subsys *ss = &subs[i];
		bool nfirst = true;

		if (ss->rows == NULL)
			continue;
		printf("%s\n    {\n      \"subnqn\":", first ? "" : ",");
		first = false;
		json_str(ss->nqn);
		printf(",\n      \"address\":");
		json_str(ss->addr.where);
		if (ss->rows[0].ok) {
			printf(",\n      \"controller\":{\n");
			json_smart(&ss->rows[0].s, "        ");
			printf("      }");
		}
		printf(",\n      \"namespaces\":[");
		for (unsigned int j = 1; j < ss->nrows; j++) {
			const struct row *r = &ss->rows[j];

			if (!r->ok)
				continue;
			printf("%s\n        {\n          \"nsid\":%" PRIu32
			       ",\n          \"size\":%" PRIu64 ",\n",
			       nfirst ? "" : ",", r->nsid, r->bytes);
			nfirst = false;
			json_smart(&r->s, "          ");
			printf("        }");
		}
		printf("%s]\n    }", nfirst ? "" : "\n      ");
	}
	printf("%s]\n}\n", first ? "" : "\n  ");
}

/* Rates between the last two samples, dt seconds apart. */
static void print_rates(const struct subsys *subs, unsigned int n, double dt, bool header)
{
	int w = nqn_width(subs, n);
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime_r(&now, &tm));
	if (header && !opt.json)
		printf("%-8s %-*s %5s %10s %10s %10s %10s\n", "TIME", w, "SUBSYSTEM", "NSID",
		       "READ_IOPS", "WRITE_IOPS", "READ_MiB/s", "WRITE_MiB/s");
	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int j = 0; j < subs[i].nrows; j++) {
			const struct row *r = &subs[i].rows[j];
			double ri, wi, rb, wb;
			char id[16];

			if (!r->ok)
				continue;
			/* Counters only grow; a restarted daemon starts again from 0. */
			ri = r->s.host_reads >= r->prev.host_reads
				     ? (double)(r->s.host_reads - r->prev.host_reads) / dt : 0;
			wi = r->s.host_writes >= r->prev.host_writes
				     ? (double)(r->s.host_writes - r->prev.host_writes) / dt : 0;
			rb = r->s.du_read >= r->prev.du_read
				     ? (double)(r->s.du_read - r->prev.du_read) * DATA_UNIT / dt /
					       1048576 : 0;
			wb = r->s.du_written >= r->prev.du_written
				     ? (double)(r->s.du_written - r->prev.du_written) * DATA_UNIT /
					       dt / 1048576 : 0;
			nsid_str(r->nsid, id, sizeof(id));
			if (opt.json) {
				printf("{\"time\":%lld,\"subnqn\":", (long long)now);
				json_str(subs[i].nqn);
				printf(",\"nsid\":%" PRIu32 ",\"read_iops\":%.1f,\"write_iops\":%.1f,"
				       "\"read_mib_s\":%.2f,\"write_mib_s\":%.2f}\n",
				       r->nsid, ri, wi, rb, wb);
			} else {
				printf("%-8s %-*s %5s %10.1f %10.1f %10.2f %10.2f\n", stamp, w,
				       subs[i].nqn, id, ri, wi, rb, wb);
			}
		}
	}
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sleep until deadline (monotonic seconds) or a signal. */
static void sleep_until(double deadline)
{
	while (!stop) {
		double left = deadline - now_s();
		struct timespec ts;

		if (left <= 0)
			return;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* A subsystem that failed (and said so) is shown no more. */
static void subsys_drop(struct subsys *s)
{
	disconnect(&s->na, &s->admin);
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
}

/* Sample every subsystem still connected; a failed one is dropped (said). */
static int sample_all(struct subsys *subs, unsigned int n)
{
	int ret = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (subs[i].admin == NULL)
			continue;
		if (subsys_sample(&subs[i])) {
			subsys_drop(&subs[i]);
			ret = 1;
		}
	}
	return ret;
}

static int watch(struct subsys *subs, unsigned int n)
{
	struct sigaction sa;
	double t = now_s(), next = t;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART; /* socket calls go on; nanosleep() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (unsigned int k = 0; !stop && (opt.count == 0 || k < opt.count); k++) {
		double t2;
		bool any = false;

		next += opt.watch;
		sleep_until(next);
		if (stop)
			break;
		ret |= sample_all(subs, n);
		t2 = now_s();
		for (unsigned int i = 0; i < n; i++)
			any |= subs[i].admin != NULL;
		if (!any)
			return 1;
		print_rates(subs, n, t2 - t, k % 20 == 0);
		t = t2;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct subsys *subs = NULL;
	unsigned int n = 0, open = 0;
	int ret;

	ret = parse_args(argc, argv);
	if (ret)
		return ret < 0 ? 0 : ret;
	signal(SIGPIPE, SIG_IGN);
	if (opt.subnqn != NULL) {
		subs = calloc(1, sizeof(*subs));
		if (subs == NULL) {
			warnx_("out of memory");
			return 1;
		}
		snprintf(subs->nqn, sizeof(subs->nqn), "%s", opt.subnqn);
		subs->addr = opt.addr;
		n = 1;
	} else if (discover(&subs, &n)) {
		return 1;
	}
	/* One failing subsystem does not hide the others; the exit status says. */
	for (unsigned int i = 0; i < n; i++) {
		if (subsys_open(&subs[i])) {
			subsys_drop(&subs[i]);
			ret = 1;
		} else {
			open++;
		}
	}
	if (open > 0) {
		ret |= sample_all(subs, n);
		if (opt.watch)
			ret |= watch(subs, n);
		else if (opt.json)
			print_json(subs, n);
		else
			print_table(subs, n);
	}
	for (unsigned int i = 0; i < n; i++) {
		disconnect(&subs[i].na, &subs[i].admin);
		free(subs[i].rows);
	}
	free(subs);
	if (fflush(stdout) != 0 && ret == 0) {
		warnx_("writing to standard output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}
