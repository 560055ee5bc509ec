/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmfd: read the configuration, open the namespaces and the listeners,
 * start the workers, then handle signals until told to stop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "config.h"
#include "health.h"
#include "resv_ns.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "registry.h"
#include "worker.h"

#define NVMFD_VERSION  "0.1.0"
#define LISTEN_RETRIES 50 /* 100 ms apart: a port still held by a crashed run */

static void usage(FILE *f)
{
	fprintf(f, "usage: nvmfd [-c FILE] [--check] [-s DIR] [-v] [-w WORKERS]\n"
		   "       nvmfd -V | -h\n"
		   "  -c, --config FILE   read FILE (default: the embedded configuration, a 1 GiB\n"
		   "                      RAM namespace on 127.0.0.1:4420, discovery on :8009)\n"
		   "      --check         report every problem of the configuration, backing\n"
		   "                      stores included, and exit (0 valid, 1 not)\n"
		   "  -s, --state-dir DIR keep the health counters in DIR (overrides state_dir)\n"
		   "  -v, --verbose       debug messages (log_level = debug)\n"
		   "  -w, --workers N     worker threads (default: the configuration, or one per "
		   "CPU)\n"
		   "  -V, --version       print the version and exit\n"
		   "  -h, --help          this summary\n"
		   "SIGHUP reloads the configuration file; SIGTERM and SIGINT stop.\n");
}

static int load_config(const char *path, struct cfg_config **cfg)
{
	char err[8192];
	int ret = path ? cfg_load_file(path, cfg, err, sizeof(err))
		       : cfg_load_default(cfg, err, sizeof(err));

	if (ret)
		fputs(err, stderr); /* already "file:line: message" lines */
	return ret;
}

static unsigned int worker_count(const struct cfg_config *cfg, long opt)
{
	long n = opt > 0 ? opt : cfg->workers ? (long)cfg->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > TARGET_MAX_WORKERS ? TARGET_MAX_WORKERS : (unsigned int)n;
}

/* "serving 2 subsystems, 3 namespaces on 127.0.0.1:4420, ...; 2 workers" */
static void status_line(struct target *t, char *msg, size_t size)
{
	const struct subsys_table *st = target_subsystems(t);
	const struct listener_set *ls = atomic_load(&t->ls);
	size_t nns = 0, len;
	int n;

	for (size_t i = 0; i < st->n; i++)
		nns += subsys_ns(st->s[i])->n;
	n = snprintf(msg, size, "serving %zu subsystem%s, %zu namespace%s on ", st->n,
		     st->n == 1 ? "" : "s", nns, nns == 1 ? "" : "s");
	len = (size_t)n;
	for (size_t i = 0; i < ls->n && len < size; i++) {
		n = snprintf(msg + len, size - len, "%s%s%s", i ? ", " : "", ls->l[i]->name,
			     atomic_load(&ls->l[i]->discovery_only) ? " (discovery)" : "");
		len += (size_t)n;
	}
	if (len < size)
		snprintf(msg + len, size - len, "; %u worker%s", t->nworkers,
			 t->nworkers == 1 ? "" : "s");
}

/* READY=1 and a one-line STATUS once every listener is open and the workers run. */
static void notify_ready(struct target *t, const char *extra)
{
	char status[900], msg[1024];
	int ret;

	status_line(t, status, sizeof(status));
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s%s", status, extra);
	ret = notify_send(msg);
	if (ret)
		log_warn("NOTIFY_SOCKET: cannot notify the service manager: %s", strerror(-ret));
}

static void notify_reloading(void)
{
	char msg[128];

	/* systemd 253 and later want the time of the reload's start with it */
	snprintf(msg, sizeof(msg),
		 "RELOADING=1\nSTATUS=reloading the configuration\n"
		 "MONOTONIC_USEC=%llu",
		 (unsigned long long)(clock_mono_ns() / 1000));
	notify_send(msg);
}

struct daemon_opts {
	const char *path;
	bool verbose;
};

/*
 * Handle signals until SIGTERM / SIGINT: SIGHUP reloads; once a second the
 * leftovers of a reload are looked at, and every HEALTH_SAVE_S the health
 * counters are saved.
 */
static void serve(struct target *t, struct health *h, const struct daemon_opts *o)
{
	const struct timespec second = {.tv_sec = 1};
	int64_t last_save = clock_mono_ms();
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &second);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s: stopping", strsignal(sig));
			return;
		}
		if (sig == SIGHUP) {
			int ret;

			log_info("SIGHUP: reloading %s",
				 o->path ? o->path : "the embedded default");
			notify_reloading();
			ret = reload_config(t, h, o->path, o->verbose);
			notify_ready(t, ret ? " (the last reload failed: see the log)" : "");
		}
		reload_poll(t, h);
		if (clock_mono_ms() - last_save >= HEALTH_SAVE_S * 1000) {
			int ret = health_save(h, t, false);

			if (ret)
				log_warn("saving the health counters: %s", strerror(-ret));
			last_save = clock_mono_ms();
		}
	}
}

static void block_signals(void)
{
	sigset_t set;

	/* blocked here, so every worker thread inherits the mask and main sigwaits */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Every connection is a file descriptor: raise the soft RLIMIT_NOFILE to
 * the hard limit (logged), and say so if max_connections cannot be
 * reached even then (accept then fails with EMFILE and is retried).
 */
static void raise_nofile(const struct cfg_config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_connections + 256; /* backing files, listeners, rings */

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_info("open files: soft limit raised from %llu to %llu",
				 (unsigned long long)old, (unsigned long long)rl.rlim_cur);
		else
			log_warn("open files: cannot raise the soft limit from %llu to %llu: %s",
				 (unsigned long long)old, (unsigned long long)rl.rlim_max,
				 strerror(errno));
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		log_warn("open files: the limit %llu is below max_connections %u + 256: "
			 "connections past it are refused at accept (raise LimitNOFILE=)",
			 (unsigned long long)rl.rlim_cur, cfg->max_connections);
}

/* STATUS=failed: ... for systemctl status; the details are in the log. */
static void notify_failed(const char *what, int err)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "STATUS=failed: %s%s%s", what, err ? ": " : "",
		 err ? strerror(-err) : "");
	notify_send(msg);
}

static int open_listeners(struct target *t, const struct cfg_config *cfg)
{
	struct listener_set *ls = listener_set_alloc(cfg->nlisteners);

	if (ls == NULL)
		return -ENOMEM;
	atomic_store(&t->ls, ls);
	for (; ls->n < cfg->nlisteners; ls->n++) {
		const struct cfg_listener *cl = &cfg->listeners[ls->n];
		int ret = listener_open(cl, &ls->l[ls->n]);
		char name[80];

		listener_name(cl, name, sizeof(name));

		/*
		 * Right after a crash the kernel may still hold the old process's
		 * listening socket for a moment (its io_uring rings close late):
		 * a restart by systemd must not fail for that.
		 */
		for (int i = 0; ret == -EADDRINUSE && i < LISTEN_RETRIES; i++) {
			struct timespec ts = {.tv_nsec = 100000000};

			if (i == 0)
				log_info("%s is in use: trying again for %d s", name,
					 LISTEN_RETRIES / 10);
			nanosleep(&ts, NULL);
			ret = listener_open(cl, &ls->l[ls->n]);
		}

		if (ret) {
			char what[128];

			snprintf(what, sizeof(what), "cannot listen on %s", name);
			log_err("%s: %s", what, strerror(-ret));
			notify_failed(what, ret);
			return ret;
		}
	}
	return 0;
}

static void close_listeners(struct target *t)
{
	struct listener_set *ls = atomic_exchange(&t->ls, NULL);

	for (size_t i = 0; ls != NULL && i < ls->n; i++)
		listener_put(ls->l[i]);
	free(ls);
}

static int run(struct cfg_config *cfg, unsigned int nworkers, const struct daemon_opts *o,
	       const char *state_dir)
{
	static struct target t;
	struct health *h = NULL;
	const struct listener_set *ls;
	int ret;

	ret = target_init(&t, cfg, nworkers);
	if (ret) {
		notify_failed("cannot open the namespaces", ret);
		cfg_free(cfg);
		return ret;
	}
	/* the reservations kept in state_dir: a damaged file stops the start */
	snprintf(t.state_dir, sizeof(t.state_dir), "%s", state_dir);
	ret = resv_ns_attach_all(&t);
	if (ret) {
		notify_failed("cannot load the reservations", ret);
		target_fini(&t);
		cfg_free(cfg);
		return ret;
	}
	/* first: a crash from here on counts as an unsafe shutdown */
	health_open(&t, state_dir, &h);
	ret = open_listeners(&t, cfg);
	if (ret)
		goto out;
	ret = workers_start(&t);
	if (ret) {
		log_err("cannot start the workers: %s", strerror(-ret));
		notify_failed("cannot start the workers", ret);
		goto out;
	}
	ls = atomic_load(&t.ls);
	for (size_t i = 0; i < ls->n; i++)
		log_info("listening on %s%s", ls->l[i]->name,
			 atomic_load(&ls->l[i]->discovery_only) ? " (discovery)" : "");
	log_info("nvmfd %s: %zu subsystem(s), %u worker(s), power cycle %llu", NVMFD_VERSION,
		 target_subsystems(&t)->n, nworkers, (unsigned long long)t.power_cycles);
	notify_ready(&t, "");
	serve(&t, h, o);
	notify_send("STOPPING=1\nSTATUS=stopping");
	workers_stop();
	reload_fini(&t, h);
	ret = health_save(h, &t, true);
	if (ret)
		log_warn("saving the health counters: %s", strerror(-ret));
	ret = 0;
	goto done;
out:
	(void)health_save(h, &t, true); /* a start that failed is no unsafe shutdown */
done:
	health_close(h);
	close_listeners(&t);
	cfg = atomic_load(&t.cfg);
	target_fini(&t);
	cfg_free(cfg);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'C'},
		{"state-dir", required_argument, NULL, 's'},
		{"verbose", no_argument, NULL, 'v'},
		{"workers", required_argument, NULL, 'w'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *state_dir = NULL;
	struct cfg_config *cfg = NULL;
	struct daemon_opts o;
	bool check = false, verbose = false;
	long workers = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:s:vw:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 's':
			if (optarg[0] != '/') {
				fprintf(stderr, "nvmfd: --state-dir takes an absolute path\n");
				return 2;
			}
			state_dir = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'w':
			workers = strtol(optarg, NULL, 10);
			if (workers < 1 || workers > TARGET_MAX_WORKERS) {
				fprintf(stderr, "nvmfd: -w takes 1 to %d\n", TARGET_MAX_WORKERS);
				return 2;
			}
			break;
		case 'V':
			printf("nvmfd %s\n", NVMFD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check)
		return check_config(path);
	if (load_config(path, &cfg) != 0) {
		notify_failed("invalid configuration (see the log)", 0);
		return 1;
	}
	log_level = verbose ? LOGL_DEBUG : (enum log_level)cfg->log_level;
	log_lines(LOGL_WARN, cfg->warnings);
	block_signals();
	raise_nofile(cfg);
	o.path = path;
	o.verbose = verbose;
	/* run() owns cfg from here (a reload replaces it) */
	ret = run(cfg, worker_count(cfg, workers), &o, state_dir ? state_dir : cfg->state_dir);
	return ret ? 1 : 0;
}
