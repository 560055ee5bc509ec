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
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "byteorder.h"
#include "host_session.h"
#include "nqn.h"
#include "nvmf.h"
#include "nvmfd_log.h"
#include "show.h"
#include "status.h"

#define DEFAULT_ADDR "127.0.0.1"
#define TIMEOUT_MS   10000
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
	struct host_session s;
	struct row *rows; /* rows[0]: the controller */
	unsigned int nrows;
	bool vs_ok; /* nvmfd's counters page (nvmfd_log.h) was read */
	uint64_t auth_failures, auth_successes;
	bool tls_ok;   /* ... with the port's TLS counters (version 2) */
	bool tls_port; /* the port requires TLS */
	uint64_t tls_handshakes, tls_fail[NVMFD_TLS_FAIL_NR];
};

/* nvmfd_log.h's TLS failure reasons: JSON keys (the table says nvmfd_log_tls_fail_name()) */
static const char *const tls_fail_key[NVMFD_TLS_FAIL_NR] = {
	[NVMFD_TLS_FAIL_NOT_TLS] = "not_tls",
	[NVMFD_TLS_FAIL_PLAIN_PORT] = "tls_on_plain_port",
	[NVMFD_TLS_FAIL_UNKNOWN_ID] = "unknown_identity",
	[NVMFD_TLS_FAIL_KEY_MISMATCH] = "wrong_key",
	[NVMFD_TLS_FAIL_TIMEOUT] = "handshake_timeout",
	[NVMFD_TLS_FAIL_BAD_RECORD] = "bad_record",
	[NVMFD_TLS_FAIL_OTHER] = "other",
};

static struct {
	bool json;
	unsigned int watch, count;
	struct host_opts o;
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
		"  --count N       with --watch: stop after N intervals\n");
	host_opts_usage(f, &opt.o, 2, 18);
	fprintf(f,
		"ADDRESS (default %s) is an IPv4 address, a host name or [IPv6]; PORT\n"
		"defaults to %s. Without SUBNQN the subsystems come from the discovery log.\n"
		"Data read / written: data units x 512000 bytes. Busy time in minutes.\n",
		DEFAULT_ADDR, HOST_DEFAULT_PORT);
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

static int parse_option(void *ctx, int ch, const char *arg)
{
	(void)ctx;
	switch (ch) {
	case 'j':
		opt.json = true;
		return 0;
	case 'w':
		return parse_uint(arg, 86400, &opt.watch);
	case 'c':
		return parse_uint(arg, UINT32_MAX, &opt.count);
	default:
		return -EINVAL;
	}
}

/* 0; 1 after --help; -EINVAL for a usage error (said). */
static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"watch", required_argument, NULL, 'w'},
		{"count", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	const char *why;
	int ret;

	host_opts_init(&opt.o, HOST_OPTS_Q_T, TIMEOUT_MS, "is nvmfd running?");
	opt.o.name_subsystem = true; /* several subsystems may share the address */
	ret = host_opts_getopt(&opt.o, argc, argv, "", longopts, parse_option, NULL, usage);
	if (ret <= 0)
		return ret < 0 ? ret : 1;
	if (opt.count && !opt.watch) {
		warnx("--count needs --watch");
		return -EINVAL;
	}
	argc -= ret;
	argv += ret;
	if (argc > 2) {
		usage(stderr);
		return -EINVAL;
	}
	if (host_opts_address(&opt.o, argc >= 1 ? argv[0] : DEFAULT_ADDR))
		return -EINVAL;
	if (argc == 2) {
		if (strlen(argv[1]) >= NVMF_NQN_FIELD || nvmf_nqn_check(argv[1], &why)) {
			warnx("subsystem NQN \"%s\" is invalid", argv[1]);
			return -EINVAL;
		}
		opt.o.subnqn = argv[1];
	}
	return 0;
}

/* ---- Connecting ---- */

/* The NVMe subsystems of the discovery log at opt.o.addr. */
static int discover(struct subsys **subsp, unsigned int *np)
{
	struct host_session ds;
	struct nvmf_disc_log_hdr *log = NULL;
	struct nvmf_disc_log_entry *e;
	struct subsys *subs;
	nvme_status_t st;
	uint64_t numrec;
	unsigned int n = 0;
	int ret;

	host_session_init(&ds, &opt.o, NULL, NVMF_DISC_NQN);
	ret = host_connect_admin(&ds);
	if (ret)
		goto out;
	ret = nvmf_host_discovery_log(ds.admin, &log, &st);
	if (ret || st) {
		ret = host_cmd_failed(&ds, "Get Log Page (discovery log)", ret, st);
		goto out;
	}
	numrec = le64toh(log->numrec);
	e = nvmf_disc_log_entries(log);
	subs = calloc(numrec ? numrec : 1, sizeof(*subs));
	if (subs == NULL) {
		warnx("out of memory");
		ret = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < numrec; i++, e++) {
		struct tool_addr a;
		bool dup = false;

		if (e->subtype != NVMF_SUBTYPE_NVME || e->trtype != NVMF_TRTYPE_TCP)
			continue;
		snprintf(subs[n].nqn, sizeof(subs[n].nqn), "%.*s",
			 (int)strnlen(e->subnqn, sizeof(e->subnqn)), e->subnqn);
		for (unsigned int j = 0; j < n; j++)
			dup |= strcmp(subs[j].nqn, subs[n].nqn) == 0;
		if (dup)
			continue;
		/* Where the entry says the subsystem is (like nvme connect-all). */
		snprintf(a.host, sizeof(a.host), "%.*s", (int)strnlen(e->traddr, sizeof(e->traddr)),
			 e->traddr);
		snprintf(a.port, sizeof(a.port), "%.*s",
			 (int)strnlen(e->trsvcid, sizeof(e->trsvcid)), e->trsvcid);
		if (a.host[0] == '\0' || a.port[0] == '\0')
			a = opt.o.addr;
		else
			snprintf(a.where, sizeof(a.where),
				 strchr(a.host, ':') ? "[%s]:%s" : "%s:%s", a.host, a.port);
		host_session_init(&subs[n].s, &opt.o, &a, subs[n].nqn);
		n++;
	}
	if (n == 0) {
		warnx("%s: the discovery log offers no NVMe/TCP subsystem to host %s",
		      opt.o.addr.where, nvmf_association_hostnqn(ds.na));
		free(subs);
		ret = -ENOENT;
		goto out;
	}
	*subsp = subs;
	*np = n;
	ret = 0;
out:
	free(log);
	host_session_close(&ds);
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
	struct nvme_id_ns *ns = NULL;
	uint32_t *list = NULL;
	nvme_status_t st;
	unsigned int n = 0;
	int ret;

	ret = host_connect_admin(&ss->s);
	if (ret)
		return ret;
	ns = malloc(sizeof(*ns));
	list = calloc(1024, sizeof(*list));
	if (ns == NULL || list == NULL) {
		warnx("out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = nvmf_host_active_ns_list(ss->s.admin, 0, list, &st);
	if (ret || st) {
		ret = host_cmd_failed(&ss->s, "Identify Active Namespace List", ret, st);
		goto out;
	}
	while (n < 1024 && list[n] != 0)
		n++;
	ss->rows = calloc(n + 1, sizeof(*ss->rows));
	if (ss->rows == NULL) {
		warnx("out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ss->rows[0].nsid = NVME_NSID_ALL;
	ss->nrows = 1;
	for (unsigned int i = 0; i < n; i++) {
		struct row *r = &ss->rows[ss->nrows];
		const char *why;
		uint32_t bs;

		r->nsid = le32toh(list[i]);
		ret = nvmf_host_identify_ns(ss->s.admin, r->nsid, ns, &st);
		if (ret) {
			ret = host_fail(&ss->s, ret);
			goto out;
		}
		if (st) {
			warnx("%s: namespace %u: Identify Namespace failed: %s", ss->s.tag, r->nsid,
			      nvme_status_str(st));
			continue;
		}
		bs = ns_block_size(ns, &why); /* 0: unusable, size unknown */
		r->bytes = le64toh(ns->nsze) * bs;
		ss->rows[0].bytes += r->bytes;
		ss->nrows++;
	}
	ret = 0;
out:
	free(ns);
	free(list);
	return ret;
}

/*
 * nvmfd's own counters (vendor-specific log page C0h, nvmfd_log.h): the
 * authentication failures of the subsystem and, from version 2, the TLS
 * counters of the port we connected through. Another target's page C0h,
 * or none, is recognised by its signature and left out, silently.
 */
static int subsys_sample_vs(struct subsys *ss)
{
	struct nvmf_log_req req = {.lid = NVMFD_LOG_VS_COUNTERS, .nsid = NVME_NSID_ALL};
	struct nvmfd_vs_counters_log log;
	nvme_status_t st;
	int ret;

	memset(&log, 0, sizeof(log));
	ret = nvmf_host_get_log_page(ss->s.admin, &req, &log, sizeof(log), &st);
	if (ret)
		return host_fail(&ss->s, ret);
	ss->vs_ok = st == 0 && memcmp(log.sig, NVMFD_LOG_VS_SIG, sizeof(log.sig)) == 0 &&
		    le32toh(log.version) >= 1;
	if (ss->vs_ok) {
		ss->auth_failures = le64toh(log.auth_failures);
		ss->auth_successes = le64toh(log.auth_successes);
	}
	ss->tls_ok = ss->vs_ok && le32toh(log.version) >= 2;
	if (ss->tls_ok) {
		ss->tls_port = le32toh(log.port_flags) & NVMFD_LOG_PORT_TLS;
		ss->tls_handshakes = le64toh(log.tls_handshakes);
		for (int f = 0; f < NVMFD_TLS_FAIL_NR; f++)
			ss->tls_fail[f] = le64toh(log.tls_fail[f]);
	}
	return 0;
}

/* Get Log Page 02h for every row; the first failure of the queue ends it (said). */
static int subsys_sample(struct subsys *ss)
{
	struct nvme_smart_log log;
	nvme_status_t st;
	int ret;

	for (unsigned int i = 0; i < ss->nrows; i++) {
		struct row *r = &ss->rows[i];
		struct nvmf_log_req req = {.lid = NVME_LOG_SMART, .nsid = r->nsid};

		r->prev = r->s;
		ret = nvmf_host_get_log_page(ss->s.admin, &req, &log, sizeof(log), &st);
		if (ret)
			return host_fail(&ss->s, ret);
		if (st) {
			warnx("%s: SMART / Health log for NSID %" PRIu32 ": %s", ss->s.tag, r->nsid,
			      nvme_status_str(st));
			r->ok = false;
			continue;
		}
		smart_decode(&log, &r->s);
		r->ok = true;
	}
	return subsys_sample_vs(ss);
}

/* ---- Output ---- */

/* Bytes in IEC units, one decimal: "8.3 MiB". */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
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
	/*
	 * the TLS counters of each port, once (subsystems reached through one
	 * port share it); a plain port only if a ClientHello came to it
	 */
	for (unsigned int i = 0; i < n; i++) {
		const struct subsys *ss = &subs[i];
		bool seen = false, any = ss->tls_port || ss->tls_handshakes;

		for (unsigned int j = 0; j < i && !seen; j++)
			seen = subs[j].tls_ok &&
			       strcmp(subs[j].s.addr.where, ss->s.addr.where) == 0;
		for (int f = 0; f < NVMFD_TLS_FAIL_NR; f++)
			any = any || ss->tls_fail[f];
		if (ss->rows == NULL || !ss->tls_ok || seen || !any)
			continue;
		printf("port %s (%s): %" PRIu64 " TLS handshake(s)", ss->s.addr.where,
		       ss->tls_port ? "TLS" : "plain", ss->tls_handshakes);
		for (int f = 0, k = 0; f < NVMFD_TLS_FAIL_NR; f++)
			if (ss->tls_fail[f])
				printf("%s%s %" PRIu64, k++ ? ", " : "; refused or broken: ",
				       nvmfd_log_tls_fail_name((unsigned int)f), ss->tls_fail[f]);
		printf("\n");
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
		json_str(ss->s.addr.where);
		if (ss->vs_ok)
			printf(",\n      \"auth_failures\":%" PRIu64
			       ",\n      \"auth_successes\":%" PRIu64,
			       ss->auth_failures, ss->auth_successes);
		if (ss->tls_ok) {
			printf(",\n      \"port\":{\"tls\":%s,\"tls_handshakes\":%" PRIu64
			       ",\"tls_failures\":{",
			       ss->tls_port ? "true" : "false", ss->tls_handshakes);
			for (int f = 0; f < NVMFD_TLS_FAIL_NR; f++)
				printf("%s\"%s\":%" PRIu64, f ? "," : "", tls_fail_key[f],
				       ss->tls_fail[f]);
			printf("}}");
		}
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
				     ? (double)(r->s.host_reads - r->prev.host_reads) / dt
				     : 0;
			wi = r->s.host_writes >= r->prev.host_writes
				     ? (double)(r->s.host_writes - r->prev.host_writes) / dt
				     : 0;
			rb = r->s.du_read >= r->prev.du_read
				     ? (double)(r->s.du_read - r->prev.du_read) * DATA_UNIT / dt /
					       1048576
				     : 0;
			wb = r->s.du_written >= r->prev.du_written
				     ? (double)(r->s.du_written - r->prev.du_written) * DATA_UNIT /
					       dt / 1048576
				     : 0;
			nsid_str(r->nsid, id, sizeof(id));
			if (opt.json) {
				printf("{\"time\":%lld,\"subnqn\":", (long long)now);
				json_str(subs[i].nqn);
				printf(",\"nsid\":%" PRIu32
				       ",\"read_iops\":%.1f,\"write_iops\":%.1f,"
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
	host_session_close(&s->s);
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
}

/* Sample every subsystem still connected; a failed one is dropped (said). */
static int sample_all(struct subsys *subs, unsigned int n)
{
	int ret = 0, err;

	for (unsigned int i = 0; i < n; i++) {
		if (subs[i].s.admin == NULL)
			continue;
		err = subsys_sample(&subs[i]);
		if (err) {
			subsys_drop(&subs[i]);
			ret = err;
		}
	}
	return ret;
}

static int watch(struct subsys *subs, unsigned int n)
{
	struct sigaction sa;
	double t = now_s(), next = t;
	int ret = 0, err;

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
		err = sample_all(subs, n);
		ret = err ? err : ret;
		t2 = now_s();
		for (unsigned int i = 0; i < n; i++)
			any |= subs[i].s.admin != NULL;
		if (!any)
			return ret ? ret : -EIO;
		print_rates(subs, n, t2 - t, k % 20 == 0);
		t = t2;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct subsys *subs = NULL;
	unsigned int n = 0, open = 0;
	int ret, err;

	ret = parse_args(argc, argv);
	if (ret)
		return ret > 0 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	if (opt.o.subnqn != NULL) {
		subs = calloc(1, sizeof(*subs));
		if (subs == NULL) {
			warnx("out of memory");
			return 1;
		}
		snprintf(subs->nqn, sizeof(subs->nqn), "%s", opt.o.subnqn);
		host_session_init(&subs->s, &opt.o, NULL, subs->nqn);
		n = 1;
	} else if (discover(&subs, &n)) {
		return 1;
	}
	/* One failing subsystem does not hide the others; the exit status says. */
	for (unsigned int i = 0; i < n; i++) {
		err = subsys_open(&subs[i]);
		if (err) {
			subsys_drop(&subs[i]);
			ret = err;
		} else {
			open++;
		}
	}
	if (open > 0) {
		err = sample_all(subs, n);
		ret = err ? err : ret;
		if (opt.watch) {
			err = watch(subs, n);
			ret = err ? err : ret;
		} else if (opt.json) {
			print_json(subs, n);
		} else {
			print_table(subs, n);
		}
	}
	for (unsigned int i = 0; i < n; i++)
		subsys_drop(&subs[i]);
	free(subs);
	host_opts_wipe(&opt.o);
	if (fflush(stdout) != 0 && ret == 0) {
		ret = -errno;
		warnx("writing to standard output: %s", strerror(-ret));
	}
	return ret ? 1 : 0;
}
