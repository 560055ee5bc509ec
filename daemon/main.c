/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmfd: read the configuration, open the namespaces and the listeners,
 * start the workers, then handle signals until told to stop.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "notify.h"
#include "target.h"
#include "worker.h"

#define NVMFD_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f, "usage: nvmfd [-c FILE] [--check] [-v] [-w WORKERS]\n"
		   "  -c, --config FILE   read FILE (default: the embedded configuration, a 1 GiB\n"
		   "                      RAM namespace on 127.0.0.1:4420, discovery on :8009)\n"
		   "      --check         validate the configuration and exit (0 valid, 1 not)\n"
		   "  -v, --verbose       debug messages (log_level = debug)\n"
		   "  -w, --workers N     worker threads (default: the configuration, or one per CPU)\n"
		   "  -V, --version\n");
}

static int open_listener(const struct cfg_listener *l, struct listener *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[8];
	int one = 1, fd, ret;

	snprintf(port, sizeof(port), "%u", l->port);
	snprintf(out->name, sizeof(out->name), strchr(l->host, ':') ? "[%s]:%u" : "%s:%u",
		 l->host, l->port);
	ret = getaddrinfo(l->host, port, &hints, &ai);
	if (ret) {
		log_err("listen %s: %s", out->name, gai_strerror(ret));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0)
		goto fail;
	freeaddrinfo(ai);
	out->fd = fd;
	out->discovery_only = l->discovery_only;
	return 0;
fail:
	ret = -errno;
	log_err("listen %s: %s", out->name, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ret;
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

/* Wait for a signal; returns on SIGTERM / SIGINT. */
static void serve(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* XXX: live reload is the systemd-service milestone's work */
			log_warn("SIGHUP: live reload is not implemented yet; restart nvmfd to apply "
				 "a new configuration");
			continue;
		}
		log_info("%s: stopping", strsignal(sig));
		return;
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

/* READY=1 and a one-line STATUS once every listener is open and the workers run. */
static void notify_ready(const struct cfg_config *cfg, const struct listener *ls, size_t nls,
			 unsigned int nworkers)
{
	char msg[1024];
	size_t nns = 0, len;
	int n;

	for (size_t i = 0; i < cfg->nsubsys; i++)
		nns += cfg->subsys[i].nns;
	n = snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving %zu subsystem%s, %zu namespace%s on ",
		     cfg->nsubsys, cfg->nsubsys == 1 ? "" : "s", nns, nns == 1 ? "" : "s");
	len = (size_t)n;
	for (size_t i = 0; i < nls && len < sizeof(msg); i++) {
		n = snprintf(msg + len, sizeof(msg) - len, "%s%s%s", i ? ", " : "", ls[i].name,
			     ls[i].discovery_only ? " (discovery)" : "");
		len += (size_t)n;
	}
	if (len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, "; %u worker%s", nworkers,
			 nworkers == 1 ? "" : "s");
	n = notify_send(msg);
	if (n)
		log_warn("NOTIFY_SOCKET: cannot notify the service manager: %s", strerror(-n));
}

static int run(struct cfg_config *cfg, unsigned int nworkers)
{
	struct listener *ls = calloc(cfg->nlisteners, sizeof(*ls));
	static struct target t;
	size_t nls = 0;
	int ret;

	if (ls == NULL)
		return -ENOMEM;
	ret = target_init(&t, cfg, nworkers);
	if (ret) {
		notify_failed("cannot open the namespaces", ret);
		goto out;
	}
	for (; nls < cfg->nlisteners; nls++) {
		ret = open_listener(&cfg->listeners[nls], &ls[nls]);
		if (ret) {
			char what[128];

			snprintf(what, sizeof(what), "cannot listen on %s", ls[nls].name);
			notify_failed(what, ret);
			goto out_target;
		}
	}
	ret = workers_start(&t, ls, nls);
	if (ret) {
		log_err("cannot start the workers: %s", strerror(-ret));
		notify_failed("cannot start the workers", ret);
		goto out_target;
	}
	for (size_t i = 0; i < nls; i++)
		log_info("listening on %s%s", ls[i].name,
			 ls[i].discovery_only ? " (discovery)" : "");
	log_info("nvmfd %s: %zu subsystem(s), %u worker(s)", NVMFD_VERSION, t.nsubsys, nworkers);
	notify_ready(cfg, ls, nls, nworkers);
	serve();
	notify_send("STOPPING=1\nSTATUS=stopping");
	workers_stop();
out_target:
	for (size_t i = 0; i < nls; i++)
		close(ls[i].fd);
	target_fini(&t);
out:
	free(ls);
	return ret;
}

/* --check: the file, and that every namespace's backing store opens (as sshd -t loads keys). */
static int check_config(struct cfg_config *cfg)
{
	static struct target t;
	int ret;

	log_level = LOG_WARN; /* what is wrong or ignored */
	ret = target_init(&t, cfg, 1);
	if (ret == 0) {
		printf("%s: configuration OK (%zu subsystem(s), %zu listener(s))\n", cfg->source,
		       cfg->nsubsys, cfg->nlisteners);
		target_fini(&t);
	}
	cfg_free(cfg);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "workers", required_argument, NULL, 'w' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct cfg_config *cfg = NULL;
	bool check = false, verbose = false;
	long workers = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:vw:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
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
	if (load_config(path, &cfg) != 0) {
		if (!check)
			notify_failed("invalid configuration (see the log)", 0);
		return 1;
	}
	if (check)
		return check_config(cfg);
	log_level = verbose ? LOG_DEBUG : (enum log_level)cfg->log_level;
	block_signals();
	raise_nofile(cfg);
	ret = run(cfg, worker_count(cfg, workers));
	cfg_free(cfg);
	return ret ? 1 : 0;
}
