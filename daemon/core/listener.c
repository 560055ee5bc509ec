/* SPDX-License-Identifier: BSD-2-Clause */
/* Listening sockets and their reference counts (listener.h). */
#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "nvmfd_log.h"

void listener_name(const struct cfg_listener *cl, char *buf, size_t len)
{
	snprintf(buf, len, strchr(cl->host, ':') ? "[%s]:%u" : "%s:%u", cl->host, cl->port);
}

struct ana_states *ana_states_from(const struct cfg_listener *cl)
{
	struct ana_states *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	for (int g = 1; g <= CFG_ANA_GROUPS; g++)
		a->state[g] = cl->ana_state[g] ? cl->ana_state[g] : CFG_ANA_OPTIMIZED;
	return a;
}

bool ana_states_same(const struct ana_states *a, const struct cfg_listener *cl)
{
	for (int g = 1; g <= CFG_ANA_GROUPS; g++)
		if (a->state[g] != (cl->ana_state[g] ? cl->ana_state[g] : CFG_ANA_OPTIMIZED))
			return false;
	return true;
}

struct listener *listener_alloc(const struct cfg_listener *cl)
{
	struct listener *l = calloc(1, sizeof(*l));
	struct ana_states *a = ana_states_from(cl);

	if (l == NULL || a == NULL) {
		free(l);
		free(a);
		return NULL;
	}
	atomic_init(&l->refs, 1);
	atomic_init(&l->discovery_only, cl->discovery_only);
	atomic_init(&l->tls, cl->tls);
	atomic_init(&l->ana, a);
	l->fd = -1;
	l->port = cl->port;
	snprintf(l->host, sizeof(l->host), "%s", cl->host);
	listener_name(cl, l->name, sizeof(l->name));
	return l;
}

static void listener_free(struct listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	free(atomic_load(&l->ana));
	free(l);
}

int listener_open(const struct cfg_listener *cl, struct listener **out)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct listener *l = listener_alloc(cl);
	struct addrinfo *ai;
	char port[8];
	int one = 1, fd = -1, ret;

	*out = NULL;
	if (l == NULL)
		return -ENOMEM;
	snprintf(port, sizeof(port), "%u", cl->port);
	ret = getaddrinfo(cl->host, port, &hints, &ai);
	if (ret) {
		log_err("listen %s: %s", l->name, gai_strerror(ret));
		listener_free(l);
		return -EADDRNOTAVAIL;
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
	l->fd = fd;
	*out = l;
	return 0;
fail:
	ret = -errno;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	listener_free(l);
	return ret;
}

void listener_get(struct listener *l)
{
	atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
}

void listener_put(struct listener *l)
{
	if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	listener_free(l);
}

struct listener_set *listener_set_alloc(size_t n)
{
	return calloc(1, sizeof(struct listener_set) + n * sizeof(struct listener *));
}

struct listener *listener_set_find(const struct listener_set *s, const struct cfg_listener *cl)
{
	for (size_t i = 0; s != NULL && i < s->n; i++) {
		struct listener *l = s->l[i];

		if (l->port == cl->port && strcmp(l->host, cl->host) == 0)
			return l;
	}
	return NULL;
}

/* the reasons are counted in log page C0h in this order, and named there (nvmfd_log.h) */
_Static_assert((int)LTLS_NOT_TLS == (int)NVMFD_TLS_FAIL_NOT_TLS &&
		       (int)LTLS_PLAIN_PORT == (int)NVMFD_TLS_FAIL_PLAIN_PORT &&
		       (int)LTLS_UNKNOWN_ID == (int)NVMFD_TLS_FAIL_UNKNOWN_ID &&
		       (int)LTLS_KEY_MISMATCH == (int)NVMFD_TLS_FAIL_KEY_MISMATCH &&
		       (int)LTLS_TIMEOUT == (int)NVMFD_TLS_FAIL_TIMEOUT &&
		       (int)LTLS_BAD_RECORD == (int)NVMFD_TLS_FAIL_BAD_RECORD &&
		       (int)LTLS_OTHER == (int)NVMFD_TLS_FAIL_OTHER &&
		       (int)LTLS_NFAIL == (int)NVMFD_TLS_FAIL_NR,
	       "listener_tls_fail is nvmfd_log_tls_fail");

const char *listener_tls_fail_name(enum listener_tls_fail f)
{
	return nvmfd_log_tls_fail_name((unsigned int)f);
}

void listener_tls_count(struct listener *l, enum listener_tls_fail f)
{
	if ((unsigned)f < LTLS_NFAIL)
		atomic_fetch_add_explicit(&l->tls_stats.fail[f], 1, memory_order_relaxed);
}

uint64_t listener_tls_summary(struct listener *l, char *buf, size_t len)
{
	uint64_t total = 0;
	size_t off;
	int n;

	n = snprintf(buf, len, "%llu TLS handshake(s)",
		     (unsigned long long)atomic_load(&l->tls_stats.handshakes));
	off = n > 0 ? (size_t)n : 0;
	for (int f = 0; f < LTLS_NFAIL; f++) {
		uint64_t v = atomic_load_explicit(&l->tls_stats.fail[f], memory_order_relaxed);

		if (v == 0)
			continue;
		n = snprintf(buf + off, off < len ? len - off : 0, "%s%s %llu",
			     total ? ", " : "; refused or broken: ", listener_tls_fail_name(f),
			     (unsigned long long)v);
		off += n > 0 ? (size_t)n : 0;
		total += v;
	}
	return total;
}
