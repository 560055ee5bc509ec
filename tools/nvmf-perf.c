/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmf-perf: an NVMe/TCP load generator in the spirit of spdk_nvme_perf,
 * on io_uring and our own host library (no kernel NVMe driver).
 *
 *   nvmf-perf [-w workload] [-M read%] [-o io-size] [-q depth] [-P queues]
 *             [-c cpus] [-t secs] [-a warmup] [-n nsid] [-g] [-G] [--verify]
 *             [--fill] [--json] ... ADDRESS[:PORT] SUBNQN
 *
 * The blocking parts (admin queue, enable, Identify, Set Features Number
 * of Queues, each I/O queue's Connect) go through the start-up the host
 * tools share (host_session.c, on libnvmf); then each I/O queue's socket
 * is detached (host_detach_io(), nvmf_tcp_qpair_detach) and
 * driven by a worker thread's io_uring loop (perf_engine.c). The main
 * thread keeps the admin queue alive, samples the target's CPU time when
 * asked, and prints the table or JSON. Exit status: 0 ok, 1 error (any
 * failed command or verify mismatch included), 2 usage.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "byteorder.h"
#include "host_session.h"
#include "perf.h"
#include "status.h"

#define MAX_QUEUES  1024
#define MAX_THREADS 256
#define SHARED_OPTS (HOST_OPTS_MAX_H2C | HOST_OPTS_KATO | HOST_OPTS_SQFLOW)
#define TIMEOUT_MS  30000

struct perf {
	struct host_opts o;
	struct perf_job job;
	double secs, warmup;
	uint64_t offset, size;
	unsigned int nqueues;
	int cpus[MAX_THREADS];
	unsigned int nthreads;
	bool json;
	long target_pid;
	struct host_session s;
	uint64_t nsze;
	struct perf_thread *threads;
	/* the measured window as the main thread saw it */
	double target_cpu_s, target_wall_s;
	bool target_ok;
	struct rusage ru0, ru1;
};

static _Atomic bool g_stop;

static void usage(FILE *f)
{
	struct host_opts o;

	host_opts_init(&o, SHARED_OPTS, TIMEOUT_MS, "");
	fprintf(f,
		"usage: nvmf-perf [options] ADDRESS[:PORT] SUBNQN\n"
		"  -w, --workload W    read, write, randread, randwrite, rw, randrw or idle\n"
		"                      (default randread)\n"
		"  -M, --rwmixread PCT reads in rw / randrw (default 50)\n"
		"  -o, --io-size N     bytes per command, a multiple of the block size (default "
		"4k)\n"
		"  -q, --queue-depth N commands outstanding per queue (default 32)\n"
		"  -P, --queues N      I/O queues, one TCP connection each (default 1)\n"
		"  -c, --cpus LIST     one worker thread per CPU, pinned (\"1\", \"0,2\", "
		"\"1-3\");\n"
		"                      default: one thread, not pinned\n"
		"  -t, --time SECS     measured time (default 10)\n"
		"  -a, --warmup SECS   run this long before measuring (default 0)\n"
		"  -n, --nsid NSID     namespace (default 1)\n"
		"      --offset N      the region starts here (bytes, default 0)\n"
		"      --size N        the region's size (bytes, default: to the end)\n"
		"      --verify        write a pattern that encodes each block's LBA; check reads\n"
		"      --fill          first write the whole region once with the pattern\n"
		"      --seed N        the pattern's seed (default 1)\n"
		"      --target-pid P  also measure the CPU time of process P (a local target)\n"
		"      --poll          busy-poll the rings (as spdk_nvme_perf) instead of "
		"sleeping\n"
		"      --json          JSON on stdout instead of the table\n");
	host_opts_usage(f, &o, 6, 22);
	fprintf(f, "Sizes accept k, M and G. ADDRESS is IPv4, a host name or [IPv6]; PORT\n"
		   "defaults to 4420.\n");
}

/* ---- Arguments ---- */

static int parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *v)
{
	uint64_t x;

	if (tool_parse_u64(s, &x) || x < lo || x > hi)
		return -EINVAL;
	*v = (unsigned int)x;
	return 0;
}

static int parse_secs(const char *s, double lo, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end != '\0' || !(*v >= lo) || *v > 86400 ? -EINVAL : 0;
}

static int parse_workload(const char *s, struct perf_job *job)
{
	static const char *const names[] = {"read", "write",  "randread", "randwrite",
					    "rw",   "randrw", "idle"};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			job->workload = (enum perf_workload)i;
			return 0;
		}
	return -EINVAL;
}

/* "1", "0,2", "1-3,5": at most MAX_THREADS CPUs. */
static int parse_cpus(struct perf *p, const char *s)
{
	char *end;

	p->nthreads = 0;
	while (*s) {
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -EINVAL;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= CPU_SETSIZE)
				return -EINVAL;
			s = end;
		}
		for (long c = a; c <= b; c++) {
			if (p->nthreads == MAX_THREADS)
				return -EINVAL;
			p->cpus[p->nthreads++] = (int)c;
		}
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -EINVAL;
	}
	return p->nthreads ? 0 : -EINVAL;
}

static int parse_option(void *ctx, int ch, const char *arg)
{
	struct perf *p = ctx;
	uint64_t v;
	unsigned int u;

	switch (ch) {
	case 'w':
		return parse_workload(arg, &p->job);
	case 'M':
		return parse_uint(arg, 0, 100, &p->job.read_pct);
	case 'o':
		if (tool_parse_u64(arg, &v) || v == 0 || v > (64u << 20))
			return -EINVAL;
		p->job.io_size = (uint32_t)v;
		return 0;
	case 'q':
		return parse_uint(arg, 1, 4094, &p->job.qd);
	case 'P':
		return parse_uint(arg, 1, MAX_QUEUES, &p->nqueues);
	case 'c':
		return parse_cpus(p, arg);
	case 't':
		return parse_secs(arg, 0.001, &p->secs);
	case 'a':
		return parse_secs(arg, 0, &p->warmup);
	case 'n':
		return parse_uint(arg, 1, UINT32_MAX - 1, &p->job.nsid);
	case 'O':
		return tool_parse_u64(arg, &p->offset);
	case 'S':
		return tool_parse_u64(arg, &p->size) || p->size == 0 ? -EINVAL : 0;
	case 'V':
		p->job.verify = true;
		return 0;
	case 'F':
		p->job.fill = true; /* a separate pass; see main() */
		return 0;
	case 'e':
		return parse_uint(arg, 0, UINT32_MAX, &p->job.seed);
	case 'p':
		if (parse_uint(arg, 1, INT32_MAX, &u))
			return -EINVAL;
		p->target_pid = u;
		return 0;
	case 'j':
		p->json = true;
		return 0;
	case 'L':
		p->job.poll = true;
		return 0;
	default:
		return -EINVAL;
	}
}

/* 0; 1 after --help; -EINVAL for a usage error (said). */
static int parse_args(struct perf *p, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"workload", required_argument, NULL, 'w'},
		{"rwmixread", required_argument, NULL, 'M'},
		{"io-size", required_argument, NULL, 'o'},
		{"queue-depth", required_argument, NULL, 'q'},
		{"queues", required_argument, NULL, 'P'},
		{"cpus", required_argument, NULL, 'c'},
		{"time", required_argument, NULL, 't'},
		{"warmup", required_argument, NULL, 'a'},
		{"nsid", required_argument, NULL, 'n'},
		{"offset", required_argument, NULL, 'O'},
		{"size", required_argument, NULL, 'S'},
		{"verify", no_argument, NULL, 'V'},
		{"fill", no_argument, NULL, 'F'},
		{"seed", required_argument, NULL, 'e'},
		{"target-pid", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"poll", no_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	int ret;

	p->job.workload = WL_RANDREAD;
	p->job.read_pct = 50;
	p->job.io_size = 4096;
	p->job.qd = 32;
	p->job.nsid = 1;
	p->job.seed = 1;
	p->nqueues = 1;
	p->secs = 10;
	host_opts_init(&p->o, SHARED_OPTS, TIMEOUT_MS, "is a target listening?");
	ret = host_opts_getopt(&p->o, argc, argv, "w:M:o:q:P:c:t:a:n:", longopts, parse_option, p,
			       usage);
	if (ret <= 0)
		return ret < 0 ? ret : 1;
	if (argc - ret != 2) {
		warnx("needs ADDRESS[:PORT] and SUBNQN");
		usage(stderr);
		return -EINVAL;
	}
	if (host_opts_address(&p->o, argv[ret]))
		return -EINVAL;
	p->o.subnqn = argv[ret + 1];
	host_session_init(&p->s, &p->o, NULL, p->o.subnqn);
	if (p->job.workload == WL_READ || p->job.workload == WL_RANDREAD)
		p->job.read_pct = 100;
	else if (p->job.workload == WL_WRITE || p->job.workload == WL_RANDWRITE)
		p->job.read_pct = 0;
	if (p->nthreads == 0) {
		p->nthreads = 1;
		p->cpus[0] = -1;
	}
	if (p->nthreads > p->nqueues) {
		warnx("%u CPUs for %u queues: each worker thread needs a queue (-P)", p->nthreads,
		      p->nqueues);
		return -EINVAL;
	}
	return 0;
}

/* ---- Setup ---- */

/* Block size, the region, the I/O size against MDTS. */
static int setup_namespace(struct perf *p)
{
	struct perf_job *job = &p->job;
	uint64_t cap;
	int ret;

	ret = host_open_namespace(&p->s, job->nsid, &p->nsze, &job->lbs);
	if (ret)
		return ret;
	cap = p->nsze * job->lbs;
	if (job->io_size % job->lbs || job->io_size / job->lbs > 65536 ||
	    job->io_size > nvmf_max_xfer(p->s.na)) {
		warnx("I/O size %u is not a multiple of the %u-byte blocks of namespace %u or "
		      "exceeds the maximum transfer size (%u bytes)",
		      job->io_size, job->lbs, job->nsid, nvmf_max_xfer(p->s.na));
		return -EINVAL;
	}
	if (p->size == 0 && p->offset < cap)
		p->size = cap - p->offset;
	if (p->offset % job->lbs || p->size % job->lbs || p->offset > cap ||
	    p->size > cap - p->offset || p->size < job->io_size) {
		warnx("region offset %" PRIu64 " size %" PRIu64 " does not fit namespace %u "
		      "(%" PRIu64 " bytes in %u-byte blocks) or is smaller than one I/O",
		      p->offset, p->size, job->nsid, cap, job->lbs);
		return -EINVAL;
	}
	job->first_lba = p->offset / job->lbs;
	job->nblocks = p->size / job->lbs;
	return 0;
}

/* The queue depth against the controller's limits, the I/O queues connected and detached. */
static int setup_io(struct perf *p)
{
	unsigned int mqes = (unsigned int)NVMEV(NVME_CAP_MQES, p->s.cap); /* 0's based */
	unsigned int maxcmd = le16toh(p->s.ctrl.maxcmd);
	unsigned int qsize = p->job.qd + 1; /* one entry stays free (SQ full rule) */
	int ret;

	if (qsize > host_io_qsize_max(&p->s)) {
		warnx("%s: queue depth %u needs %u entries; the controller allows %u (MQES) "
		      "and %u commands (MAXCMD)",
		      p->s.addr.where, p->job.qd, qsize, mqes + 1, maxcmd);
		return -EINVAL;
	}
	ret = host_connect_io(&p->s, p->nqueues, (uint16_t)qsize);
	return ret ? ret : host_detach_io(&p->s);
}

/* ---- Running ---- */

/* utime + stime of a process in seconds; -1 when it cannot be read. */
static double proc_cpu_s(long pid)
{
	char path[64], buf[1024], *s;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the ")" that ends the command name. */
	s = strrchr(buf, ')');
	if (s == NULL ||
	    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void sleep_until(uint64_t t)
{
	uint64_t now = perf_now_ns();
	struct timespec ts;

	if (now >= t)
		return;
	ts.tv_sec = (time_t)((t - now) / 1000000000);
	ts.tv_nsec = (long)((t - now) % 1000000000);
	nanosleep(&ts, NULL); /* a signal cuts it short: the caller looks at g_stop */
}

/* Wait until t, keeping the association alive meanwhile (with a KATO). */
static int wait_alive(struct perf *p, uint64_t t)
{
	int ret = 0;

	while (ret == 0 && !atomic_load(&g_stop) && perf_now_ns() < t) {
		uint64_t next = host_keep_alive_due(&p->s);

		sleep_until(next != 0 && next < t ? next : t);
		ret = host_keep_alive(&p->s);
	}
	return ret;
}

static bool any_failed(struct perf *p)
{
	for (unsigned int i = 0; i < p->nthreads; i++)
		if (p->threads[i].error)
			return true;
	return false;
}

/* One pass of the worker threads over the job; measures when measure. */
static int run_pass(struct perf *p, const struct perf_job *job, bool measure)
{
	pthread_t tid[MAX_THREADS];
	double cpu0 = -1, cpu1 = -1;
	unsigned int started = 0;
	int ret = 0;

	free(p->threads);
	p->threads = calloc(p->nthreads, sizeof(*p->threads));
	if (p->threads == NULL) {
		warnx("out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < p->nthreads; i++) {
		struct perf_thread *t = &p->threads[i];
		unsigned int a = p->nqueues * i / p->nthreads,
			     b = p->nqueues * (i + 1) / p->nthreads;

		*t = (struct perf_thread){.id = i,
					  .cpu = p->cpus[i],
					  .job = job,
					  .queues = p->s.tcpq + a,
					  .nqueues = b - a,
					  .first_queue = a,
					  .nqueues_total = p->nqueues,
					  .stop = &g_stop};
		ret = -pthread_create(&tid[i], NULL, perf_thread_run, t);
		if (ret) {
			warnx("pthread_create: %s", strerror(-ret));
			atomic_store(&g_stop, true);
			break;
		}
		started++;
	}
	if (ret == 0 && measure) {
		ret = wait_alive(p, job->t_start);
		getrusage(RUSAGE_SELF, &p->ru0);
		if (p->target_pid)
			cpu0 = proc_cpu_s(p->target_pid);
		if (ret == 0)
			ret = wait_alive(p, job->t_end);
		getrusage(RUSAGE_SELF, &p->ru1);
		if (p->target_pid)
			cpu1 = proc_cpu_s(p->target_pid);
		p->target_ok = cpu0 >= 0 && cpu1 >= 0;
		p->target_cpu_s = cpu1 - cpu0;
		p->target_wall_s = (double)(job->t_end - job->t_start) / 1e9;
		if (ret)
			atomic_store(&g_stop, true);
	}
	for (unsigned int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (unsigned int i = 0; i < started; i++)
		if (p->threads[i].error)
			warnx("%s: %s", p->s.addr.where, p->threads[i].errmsg);
	return ret ? ret : any_failed(p) ? -EIO : 0;
}

/* ---- Report ---- */

struct dir_sum {
	uint64_t ios, bytes;
	struct perf_hist lat;
};

struct summary {
	struct dir_sum d[3]; /* read, write, total */
	uint64_t errors, verify_errors, verified_blocks, wakeups;
	double window_s, client_cpu_s;
};

static void summarize(const struct perf *p, struct summary *s)
{
	double win = 0;

	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < p->nthreads; i++) {
		const struct perf_stats *st = &p->threads[i].stats;

		for (unsigned int d = 0; d < 2; d++) {
			s->d[d].ios += st->ios[d];
			s->d[d].bytes += st->bytes[d];
			hist_merge(&s->d[d].lat, &st->lat[d]);
			s->d[2].ios += st->ios[d];
			s->d[2].bytes += st->bytes[d];
			hist_merge(&s->d[2].lat, &st->lat[d]);
		}
		s->errors += st->errors;
		s->verify_errors += st->verify_errors;
		s->verified_blocks += st->verified_blocks;
		s->wakeups += st->wakeups;
		s->client_cpu_s += (double)st->cpu_ns / 1e9;
		win += (double)st->window_ns / 1e9;
	}
	s->window_s = p->nthreads ? win / p->nthreads : 0;
}

static double rate(double v, double secs)
{
	return secs > 0 ? v / secs : 0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static const char *workload_name(enum perf_workload w)
{
	static const char *const names[] = {"read", "write",  "randread", "randwrite",
					    "rw",   "randrw", "idle"};

	return names[w];
}

static double target_cores(const struct perf *p)
{
	return p->target_ok && p->target_wall_s > 0 ? p->target_cpu_s / p->target_wall_s : 0;
}

static void print_table(const struct perf *p, const struct summary *s)
{
	static const char *const names[] = {"read", "write", "total"};
	double tc = target_cores(p);

	printf("nvmf-perf: %s %s ns %u: %s %u B, QD %u x %u queue(s), %u thread(s), %.1f s "
	       "(+%.1f s warm-up), digests: %s%s%s\n",
	       p->s.addr.where, p->o.subnqn, p->job.nsid, workload_name(p->job.workload),
	       p->job.io_size, p->job.qd, p->nqueues, p->nthreads, s->window_s, p->warmup,
	       p->o.ap.hdgst ? "header " : "", p->o.ap.ddgst ? "data" : "",
	       p->o.ap.hdgst || p->o.ap.ddgst ? "" : "none");
	printf("%-6s %12s %10s %9s %9s %9s %10s %9s\n", "", "IOPS", "MiB/s", "avg(us)", "p50(us)",
	       "p99(us)", "p99.9(us)", "max(us)");
	for (unsigned int d = 0; d < 3; d++) {
		const struct dir_sum *x = &s->d[d];

		if (d < 2 && x->ios == 0)
			continue;
		printf("%-6s %12.1f %10.2f %9.2f %9.2f %9.2f %10.2f %9.2f\n", names[d],
		       rate((double)x->ios, s->window_s),
		       rate((double)x->bytes, s->window_s) / 1048576.0,
		       x->lat.count ? us(x->lat.sum_ns) / (double)x->lat.count : 0,
		       us(hist_quantile(&x->lat, 0.5)), us(hist_quantile(&x->lat, 0.99)),
		       us(hist_quantile(&x->lat, 0.999)), us(x->lat.max_ns));
	}
	printf("client CPU: %.2f core(s) in the workers (%.1f I/Os per wake-up)\n",
	       rate(s->client_cpu_s, s->window_s),
	       s->wakeups ? (double)s->d[2].ios / (double)s->wakeups : 0);
	if (p->target_pid && p->target_ok)
		printf("target CPU: %.3f core(s) (pid %ld), %.0f IOPS per target CPU-second\n", tc,
		       p->target_pid, tc > 0 ? rate((double)s->d[2].ios, s->window_s) / tc : 0);
	else if (p->target_pid)
		printf("target CPU: process %ld could not be read\n", p->target_pid);
	if (p->job.verify)
		printf("verify: %" PRIu64 " blocks checked, %" PRIu64 " mismatches\n",
		       s->verified_blocks, s->verify_errors);
	if (s->errors)
		printf("errors: %" PRIu64 " commands failed\n", s->errors);
}

static void json_dir(const char *name, const struct dir_sum *x, double win, bool comma)
{
	printf("  \"%s\": {\"ios\": %" PRIu64 ", \"iops\": %.1f, \"bytes_per_s\": %.0f, "
	       "\"mib_per_s\": %.2f, \"lat_us\": {\"avg\": %.3f, \"p50\": %.3f, \"p99\": %.3f, "
	       "\"p99_9\": %.3f, \"max\": %.3f}}%s\n",
	       name, x->ios, rate((double)x->ios, win), rate((double)x->bytes, win),
	       rate((double)x->bytes, win) / 1048576.0,
	       x->lat.count ? us(x->lat.sum_ns) / (double)x->lat.count : 0,
	       us(hist_quantile(&x->lat, 0.5)), us(hist_quantile(&x->lat, 0.99)),
	       us(hist_quantile(&x->lat, 0.999)), us(x->lat.max_ns), comma ? "," : "");
}

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void print_json(const struct perf *p, const struct summary *s, int status)
{
	double tc = target_cores(p), iops = rate((double)s->d[2].ios, s->window_s);

	printf("{\n  \"address\": \"%s\",\n  \"subnqn\": \"%s\",\n  \"nsid\": %u,\n"
	       "  \"workload\": \"%s\",\n  \"read_pct\": %u,\n  \"io_size\": %u,\n"
	       "  \"block_size\": %u,\n  \"queue_depth\": %u,\n  \"queues\": %u,\n"
	       "  \"threads\": %u,\n  \"poll\": %s,\n  \"hdgst\": %s,\n  \"ddgst\": %s,\n  "
	       "\"verify\": %s,\n"
	       "  \"duration_s\": %.3f,\n  \"warmup_s\": %.3f,\n",
	       p->s.addr.where, p->o.subnqn, p->job.nsid, workload_name(p->job.workload),
	       p->job.read_pct, p->job.io_size, p->job.lbs, p->job.qd, p->nqueues, p->nthreads,
	       p->job.poll ? "true" : "false", p->o.ap.hdgst ? "true" : "false",
	       p->o.ap.ddgst ? "true" : "false", p->job.verify ? "true" : "false", s->window_s,
	       p->warmup);
	json_dir("read", &s->d[0], s->window_s, true);
	json_dir("write", &s->d[1], s->window_s, true);
	json_dir("total", &s->d[2], s->window_s, true);
	printf("  \"client_cpu\": {\"worker_cores\": %.4f, \"process_user_s\": %.3f, "
	       "\"process_sys_s\": %.3f, \"ios_per_wakeup\": %.2f},\n",
	       rate(s->client_cpu_s, s->window_s), tv_s(&p->ru1.ru_utime) - tv_s(&p->ru0.ru_utime),
	       tv_s(&p->ru1.ru_stime) - tv_s(&p->ru0.ru_stime),
	       s->wakeups ? (double)s->d[2].ios / (double)s->wakeups : 0);
	if (p->target_pid && p->target_ok)
		printf("  \"target_cpu\": {\"pid\": %ld, \"cores\": %.4f, "
		       "\"iops_per_cpu_s\": %.0f},\n",
		       p->target_pid, tc, tc > 0 ? iops / tc : 0);
	else
		printf("  \"target_cpu\": null,\n");
	printf("  \"errors\": %" PRIu64 ",\n  \"verified_blocks\": %" PRIu64 ",\n"
	       "  \"verify_errors\": %" PRIu64 ",\n  \"status\": %d\n}\n",
	       s->errors, s->verified_blocks, s->verify_errors, status);
}

/* ---- main ---- */

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&g_stop, true);
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: sleeps end at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int run(struct perf *p)
{
	struct perf_job fill = p->job, job = p->job;
	struct summary s;
	uint64_t now;
	int ret;

	ret = host_connect_admin(&p->s);
	if (ret == 0)
		ret = setup_namespace(p);
	if (ret == 0)
		ret = setup_io(p);
	if (ret)
		return ret;
	fill = job = p->job;
	if (p->job.fill) {
		fill.workload = WL_WRITE;
		fill.t_start = 0;
		fill.t_end = 0;
		ret = run_pass(p, &fill, false);
		if (ret || atomic_load(&g_stop)) {
			warnx("%s: the fill pass failed", p->s.addr.where);
			return ret ? ret : -EINTR;
		}
		job.fill = false;
	}
	now = perf_now_ns();
	job.t_start = now + (uint64_t)(p->warmup * 1e9);
	job.t_end = job.t_start + (uint64_t)(p->secs * 1e9);
	ret = run_pass(p, &job, true);
	summarize(p, &s);
	if (s.errors || s.verify_errors) {
		for (unsigned int i = 0; i < p->nthreads; i++)
			if (p->threads[i].errmsg[0] && !p->threads[i].error)
				warnx("%s: %s", p->s.addr.where, p->threads[i].errmsg);
		warnx("%s: %" PRIu64 " commands failed, %" PRIu64 " blocks did not verify",
		      p->s.addr.where, s.errors, s.verify_errors);
		ret = -EIO;
	}
	if (p->json)
		print_json(p, &s, ret ? 1 : 0); /* the exit status */
	else
		print_table(p, &s);
	return ret;
}

int main(int argc, char **argv)
{
	struct perf p;
	int ret;

	memset(&p, 0, sizeof(p));
	ret = parse_args(&p, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 2;
	setup_signals();
	ret = run(&p);
	free(p.threads);
	host_session_close(&p.s);
	host_opts_wipe(&p.o);
	if (fflush(stdout) != 0 && ret == 0) {
		ret = -errno;
		warnx("writing to standard output: %s", strerror(-ret));
	}
	return ret ? 1 : 0;
}
