/* SPDX-License-Identifier: BSD-2-Clause */
/* Sections, keys and their values; the checks that need the whole file. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config_internal.h"
#include "nqn.h" /* the protocol library's NQN and UUID rules (pure, no I/O) */
#include "nvmf_spec.h"

#define DISC_NQN NVMF_DISC_NQN

/* Every key of each section (global_key, limit_key, subsys_key, ns_key), for
 * "did you mean"; tests/unit/test_config.c checks each is accepted. */
const char *const cfg_global_keys[] = {
	"listen",
	"tls_listen",
	"discovery_listen",
	"tls_discovery_listen",
	"discovery",
	"busy_poll",
	"workers",
	"state_dir",
	"log_level",
	"max_h2c_data",
	"in_capsule_data",
	"max_transfer",
	"queue_depth",
	"max_io_queues",
	"kato_default",
	"max_connections",
	"max_connections_per_host",
	"max_controllers_per_subsystem",
	"icreq_timeout",
	"pdu_timeout",
	"max_buffers_per_connection",
	"ceph_conf",
	"ceph_id",
	"ceph_keyring",
	"cntlid_range",
	"referral",
	"tcp_keepalive_idle",
	"tcp_keepalive_interval",
	"tcp_keepalive_count",
	"auth_timeout",
	NULL,
};
const char *const cfg_subsys_keys[] = {"allow_host",   "serial",   "model",
				       "require_auth", "listener", NULL};
const char *const cfg_ns_keys[] = {"path", "read_only", "direct",    "block_size",
				   "uuid", "prealloc",	"ana_group", NULL};
const char *const cfg_host_keys[] = {"dhchap_key",
				     "dhchap_ctrl_key",
				     "dhchap_hashes",
				     "dhchap_dhgroups",
				     "tls_key",
				     "tls_psk_derivation",
				     NULL};
const char *const cfg_section_kinds[] = {"nvmfd", "subsystem", "namespace", "host", NULL};

/* Keys that may be given more than once, each line adding one more. */
static bool repeatable(const char *key)
{
	return strcmp(key, "listen") == 0 || strcmp(key, "discovery_listen") == 0 ||
	       strcmp(key, "tls_listen") == 0 || strcmp(key, "tls_discovery_listen") == 0 ||
	       strcmp(key, "allow_host") == 0 || strcmp(key, "listener") == 0 ||
	       strcmp(key, "referral") == 0;
}

/* "unknown key 'listn' in [nvmfd]; did you mean 'listen'?" */
void cfg_unknown_key(struct cfg_parser *ps, const char *key, const char *section,
		     const char *const *known)
{
	static const struct {
		const char *const *keys;
		const char *section;
	} others[] = {{cfg_global_keys, "[nvmfd]"},
		      {cfg_subsys_keys, "[subsystem NQN]"},
		      {cfg_ns_keys, "[namespace NQN NSID]"},
		      {cfg_host_keys, "[host NQN]"}};
	const char *near = cfg_suggest(key, known);

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (others[i].keys == known)
			continue;
		for (size_t j = 0; others[i].keys[j] != NULL; j++) {
			if (strcmp(key, others[i].keys[j]) == 0) {
				cfg_error(ps, ps->lineno,
					  "'%s' is not a key of [%s]: it belongs in %s", key,
					  section, others[i].section);
				return;
			}
		}
	}
	if (near != NULL)
		cfg_error(ps, ps->lineno, "unknown key '%s' in [%s]; did you mean '%s'?", key,
			  section, near);
	else
		cfg_error(ps, ps->lineno, "unknown key '%s' in [%s]", key, section);
}

void cfg_set_defaults(struct cfg_config *cfg)
{
	cfg->discovery = true;
	cfg->workers = 0;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/nvmfd");
	cfg->log_level = CFG_LOG_INFO;
	cfg->max_h2c_data = 128 * 1024;
	cfg->in_capsule_data = 8192;
	cfg->max_transfer = 1024 * 1024;
	cfg->queue_depth = 128;
	cfg->max_io_queues = 64;
	cfg->kato_default = 120;
	cfg->busy_poll_us = 50;
	cfg->max_connections = 4096;
	cfg->max_connections_per_host = 1024;
	cfg->max_controllers_per_subsystem = 256;
	cfg->icreq_timeout_ms = 10000;
	cfg->pdu_timeout_ms = 30000;
	cfg->auth_timeout_ms = 30000;
	/* a host gone without a FIN is noticed within 30 + 6 x 10 = 90 s */
	cfg->tcp_keepalive_idle_ms = 30000;
	cfg->tcp_keepalive_interval_ms = 10000;
	cfg->tcp_keepalive_count = 6;
	cfg->max_buffers_per_connection = 32u << 20;
	cfg->cntlid_min = 1;
	cfg->cntlid_max = CFG_CNTLID_MAX;
}

/* ---- value parsers ---- */

int cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* "4096", "128k", "1M", "1G", "2T" (binary multiples). */
int cfg_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -ERANGE;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end != '\0') {
		end++;
		if ((*end == 'i' || *end == 'I') && (end[1] == 'B' || end[1] == 'b'))
			end += 2;
		else if (*end == 'B' || *end == 'b')
			end++;
		if (*end != '\0')
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int ret = cfg_parse_size(s, &v);

	if (ret)
		return ret;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int cfg_parse_duration_us(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > UINT32_MAX)
		return -ERANGE;
	if (strcmp(end, "us") == 0)
		*out = v;
	else if (strcmp(end, "ms") == 0)
		*out = v * 1000;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		*out = v * 1000000;
	else
		return -EINVAL;
	return 0;
}

int cfg_parse_duration_ms(const char *s, uint64_t *out)
{
	uint64_t us;
	int ret = cfg_parse_duration_us(s, &us);

	if (ret)
		return ret;
	if (us % 1000 != 0)
		return -EINVAL; /* "500us" where milliseconds are the unit */
	*out = us / 1000;
	return 0;
}

/* NQNs and UUIDs follow the protocol library's rules, so that what the
 * configuration accepts is what Connect and the host tools accept. */
int cfg_parse_uuid(const char *s, uint8_t out[16])
{
	return nvmf_uuid_parse(s, out);
}

/* Why nqn is not a valid configuration NQN (Base 2.0 4.5, and no white space, which
 * an INI value or section name cannot hold), or NULL. */
const char *cfg_nqn_why(const char *nqn)
{
	const char *why = NULL;

	for (const char *c = nqn; *c; c++)
		if (isspace((unsigned char)*c))
			return "contains white space";
	if (nvmf_nqn_check(nqn, &why) != 0)
		return why;
	return NULL;
}

bool cfg_nqn_valid(const char *nqn)
{
	return cfg_nqn_why(nqn) == NULL;
}

/* "host:port", "[v6]:port", "host" (default port). */
static int parse_listen(const char *s, uint16_t default_port, struct cfg_listener *l)
{
	const char *host = s, *port = NULL;
	size_t hlen;
	uint32_t p;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL)
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(end - host);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		const char *colon = strrchr(s, ':');

		if (colon != NULL && strchr(s, ':') != colon)
			return -EINVAL; /* a bare IPv6 address needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(l->host))
		return -EINVAL;
	memcpy(l->host, host, hlen);
	l->host[hlen] = '\0';
	if (port == NULL) {
		l->port = default_port;
		return 0;
	}
	for (const char *c = port; *c; c++)
		if (!isdigit((unsigned char)*c))
			return -EINVAL;
	if (parse_u32(port, 1, 65535, &p))
		return -EINVAL;
	l->port = (uint16_t)p;
	return 0;
}

/* ---- ANA (NVMe Base 2.0 8.1) ---- */

static const struct {
	const char *name;
	uint8_t state;
} ana_names[] = {
	{"optimized", CFG_ANA_OPTIMIZED},
	{"non-optimized", CFG_ANA_NON_OPTIMIZED},
	{"inaccessible", CFG_ANA_INACCESSIBLE},
	{"persistent-loss", CFG_ANA_PERSISTENT_LOSS},
	{"change", CFG_ANA_CHANGE},
};

int cfg_parse_ana_state(const char *s, uint8_t *out)
{
	for (size_t i = 0; i < sizeof(ana_names) / sizeof(ana_names[0]); i++) {
		size_t n = strlen(ana_names[i].name);

		/* "non_optimized" as well as "non-optimized" */
		if (strncasecmp(s, ana_names[i].name, n) != 0 || s[n] != '\0') {
			char alt[32];

			snprintf(alt, sizeof(alt), "%s", ana_names[i].name);
			for (char *c = alt; *c; c++)
				if (*c == '-')
					*c = '_';
			if (strcasecmp(s, alt) != 0)
				continue;
		}
		*out = ana_names[i].state;
		return 0;
	}
	return -EINVAL;
}

const char *cfg_ana_state_name(uint8_t state)
{
	for (size_t i = 0; i < sizeof(ana_names) / sizeof(ana_names[0]); i++)
		if (ana_names[i].state == state)
			return ana_names[i].name;
	return "?";
}

uint32_t cfg_max_namespaces(uint32_t max_transfer)
{
	/* Base 2.0 Figure 224 / 225: header 16 bytes, descriptors 32 bytes + 4 per NSID */
	uint32_t room;

	if (max_transfer < 16 + 32 * CFG_ANA_GROUPS + 4)
		return 1;
	room = (max_transfer - 16 - 32 * CFG_ANA_GROUPS) / 4;
	return room > 1024 ? 1024 : room;
}

bool cfg_subsys_serves(const struct cfg_subsystem *s, const char *host, uint16_t port)
{
	if (s->nports == 0)
		return true;
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].port == port && strcmp(s->ports[i].host, host) == 0)
			return true;
	return false;
}

/* "1:optimized,2:inaccessible" into l->ana_state; the message on error. */
static int parse_ana_list(const char *v, struct cfg_listener *l, char *why, size_t len)
{
	char buf[CFG_LINE_MAX + 1], *save = NULL;
	bool seen[CFG_ANA_GROUPS + 1] = {false};

	snprintf(buf, sizeof(buf), "%s", v);
	if (buf[0] == '\0') {
		snprintf(why, len, "ana_state is empty (GROUP:STATE[,GROUP:STATE...])");
		return -EINVAL;
	}
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':'), *end;
		unsigned long g;
		uint8_t st;

		errno = 0;
		g = colon ? strtoul(tok, &end, 10) : 0;
		if (colon == NULL || end != colon || errno != 0 || g < 1 || g > CFG_ANA_GROUPS ||
		    !isdigit((unsigned char)tok[0])) {
			snprintf(why, len,
				 "ana_state '%s': expected GROUP:STATE, GROUP from 1 to %d", tok,
				 CFG_ANA_GROUPS);
			return -EINVAL;
		}
		if (cfg_parse_ana_state(colon + 1, &st)) {
			snprintf(why, len,
				 "ana_state '%s': unknown state '%s' (optimized, non-optimized, "
				 "inaccessible, persistent-loss or change)",
				 tok, colon + 1);
			return -EINVAL;
		}
		if (seen[g]) {
			snprintf(why, len, "ana_state: group %lu is given twice", g);
			return -EINVAL;
		}
		seen[g] = true;
		l->ana_state[g] = st;
	}
	return 0;
}

/*
 * The words after the address of a 'listen' line: "ana_state=LIST" (NVMe
 * Base 2.0 8.1.3: the state of each ANA group as seen through this port).
 */
static int parse_listen_opts(const char *opts, struct cfg_listener *l, char *why, size_t len)
{
	char buf[CFG_LINE_MAX + 1], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (strncmp(w, "ana_state=", 10) != 0) {
			snprintf(why, len, "unknown option '%s' after the address (ana_state=...)",
				 w);
			return -EINVAL;
		}
		if (l->discovery_only) {
			snprintf(why, len, "a discovery_listen port has no ANA state");
			return -EINVAL;
		}
		if (parse_ana_list(w + 10, l, why, len))
			return -EINVAL;
	}
	return 0;
}

void *cfg_grow(struct cfg_parser *ps, void *arr, size_t n, size_t size)
{
	void *p = realloc(arr, (n + 1) * size);

	if (p == NULL) {
		ps->oom = true;
		return NULL;
	}
	memset((char *)p + n * size, 0, size);
	return p;
}

/* ---- sections ---- */

static struct cfg_subsystem *find_subsys(struct cfg_config *cfg, const char *nqn)
{
	return (struct cfg_subsystem *)cfg_find_subsystem(cfg, nqn);
}

/* A refused [subsystem NQN]: its namespaces are not reported as orphans too. */
static void remember_bad_subsys(struct cfg_parser *ps, const char *nqn)
{
	char(*arr)[CFG_LINE_MAX + 1] = cfg_grow(ps, ps->bad_subsys, ps->nbad_subsys, sizeof(*arr));

	if (arr == NULL)
		return;
	ps->bad_subsys = arr;
	snprintf(arr[ps->nbad_subsys++], CFG_LINE_MAX + 1, "%s", nqn);
}

static bool is_bad_subsys(const struct cfg_parser *ps, const char *nqn)
{
	for (size_t i = 0; i < ps->nbad_subsys; i++)
		if (strcmp(ps->bad_subsys[i], nqn) == 0)
			return true;
	return false;
}

static void start_subsystem(struct cfg_parser *ps, const char *nqn, int line)
{
	struct cfg_config *cfg = ps->cfg;
	struct cfg_subsystem *s, *arr;

	ps->kind = SEC_BAD;
	if (!cfg_nqn_valid(nqn)) {
		cfg_error(ps, line,
			  "'%s' is not a valid NQN: it %s (nqn.yyyy-mm.reverse.domain:name, "
			  "at most %d bytes)",
			  nqn, cfg_nqn_why(nqn), CFG_NQN_MAX);
		remember_bad_subsys(ps, nqn);
		return;
	}
	if (strcmp(nqn, DISC_NQN) == 0) {
		cfg_error(ps, line, "the discovery NQN is not a subsystem nvmfd can export");
		remember_bad_subsys(ps, nqn);
		return;
	}
	s = find_subsys(cfg, nqn);
	if (s != NULL) {
		cfg_error(ps, line, "subsystem %s is already defined at line %d", nqn, s->line);
		return;
	}
	arr = cfg_grow(ps, cfg->subsys, cfg->nsubsys, sizeof(*arr));
	if (arr == NULL)
		return;
	cfg->subsys = arr;
	s = &arr[cfg->nsubsys];
	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	s->line = line;
	ps->cur = cfg->nsubsys++;
	ps->kind = SEC_SUBSYS;
}

static void start_namespace(struct cfg_parser *ps, const char *args, int line)
{
	char nqn[CFG_LINE_MAX + 1], nsid_s[CFG_LINE_MAX + 1], extra[2];
	struct cfg_pending_ns *arr, *p;
	unsigned long nsid;
	char *end;

	ps->kind = SEC_BAD;
	if (sscanf(args, "%198s %198s %1s", nqn, nsid_s, extra) != 2) {
		cfg_error(ps, line, "expected [namespace SUBSYSTEM-NQN NSID]");
		return;
	}
	errno = 0;
	nsid = strtoul(nsid_s, &end, 10);
	if (*end != '\0' || errno != 0 || nsid == 0 || nsid >= 0xffffffffUL) {
		cfg_error(ps, line, "namespace ID '%s' must be a number from 1 to 4294967294",
			  nsid_s);
		return;
	}
	for (size_t i = 0; i < ps->npending; i++) {
		if (strcmp(ps->pending[i].subnqn, nqn) == 0 && ps->pending[i].ns.nsid == nsid) {
			cfg_error(ps, line, "namespace %lu of %s is already defined at line %d",
				  nsid, nqn, ps->pending[i].ns.line);
			return;
		}
	}
	arr = cfg_grow(ps, ps->pending, ps->npending, sizeof(*arr));
	if (arr == NULL)
		return;
	ps->pending = arr;
	p = &arr[ps->npending];
	snprintf(p->subnqn, sizeof(p->subnqn), "%s", nqn);
	p->ns.nsid = (uint32_t)nsid;
	p->ns.line = line;
	p->ns.direct = true;
	p->ns.prealloc = true;
	p->ns.ana_group = 1;
	ps->cur = ps->npending++;
	ps->kind = SEC_NS;
}

/* An unknown section: the kind it is closest to, if any. */
static void unknown_section(struct cfg_parser *ps, const char *name, int line)
{
	char kind[CFG_LINE_MAX + 1];
	const char *near;
	size_t n = strcspn(name, " \t");

	snprintf(kind, sizeof(kind), "%.*s", (int)n, name);
	near = cfg_suggest(kind, cfg_section_kinds);
	if (near != NULL)
		cfg_error(ps, line, "unknown section [%s]; did you mean [%s%s]?", name, near,
			  name + n);
	else
		cfg_error(ps, line,
			  "unknown section [%s] (expected [nvmfd], [subsystem NQN], "
			  "[namespace NQN NSID] or [host NQN])",
			  name);
}

void cfg_section_start(struct cfg_parser *ps, const char *name, int line)
{
	ps->nseen = 0;
	if (strcmp(name, "nvmfd") == 0) {
		if (ps->saw_global)
			cfg_error(ps, line, "[nvmfd] appears twice");
		else
			ps->global_line = line;
		ps->saw_global = true;
		ps->kind = SEC_GLOBAL;
	} else if (strncmp(name, "subsystem", 9) == 0 && isspace((unsigned char)name[9])) {
		char nqn[CFG_LINE_MAX + 1];

		snprintf(nqn, sizeof(nqn), "%s", name + 10);
		while (isspace((unsigned char)nqn[0]))
			memmove(nqn, nqn + 1, strlen(nqn));
		start_subsystem(ps, nqn, line);
	} else if (strncmp(name, "namespace", 9) == 0 && isspace((unsigned char)name[9])) {
		start_namespace(ps, name + 10, line);
	} else if (strncmp(name, "host", 4) == 0 && isspace((unsigned char)name[4])) {
		const char *nqn = name + 5;

		while (isspace((unsigned char)*nqn))
			nqn++;
		cfg_start_host(ps, nqn, line);
	} else {
		unknown_section(ps, name, line);
		ps->kind = SEC_BAD;
	}
}

/* ---- keys ---- */

static void add_listener(struct cfg_parser *ps, const char *value, bool disc, bool tls)
{
	struct cfg_config *cfg = ps->cfg;
	struct cfg_listener l = {0}, *arr;
	char addr[CFG_LINE_MAX + 1], why[256];
	size_t alen = strcspn(value, " \t");

	snprintf(addr, sizeof(addr), "%.*s", (int)alen, value);
	if (parse_listen(addr, disc ? CFG_DISC_PORT : CFG_DEFAULT_PORT, &l)) {
		cfg_error(ps, ps->lineno, "'%s' is not ADDRESS[:PORT] (IPv6 as [ADDRESS]:PORT)",
			  addr);
		return;
	}
	l.discovery_only = disc;
	l.tls = tls;
	l.line = ps->lineno;
	for (int g = 1; g <= CFG_ANA_GROUPS; g++)
		l.ana_state[g] = CFG_ANA_OPTIMIZED;
	if (parse_listen_opts(value + alen, &l, why, sizeof(why))) {
		cfg_error(ps, ps->lineno, "%s", why);
		return;
	}
	value = addr;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		if (strcmp(cfg->listeners[i].host, l.host) == 0 &&
		    cfg->listeners[i].port == l.port) {
			cfg_error(ps, ps->lineno, "%s is already a listener (line %d)", value,
				  cfg->listeners[i].line);
			return;
		}
	}
	arr = cfg_grow(ps, cfg->listeners, cfg->nlisteners, sizeof(*arr));
	if (arr == NULL)
		return;
	cfg->listeners = arr;
	arr[cfg->nlisteners++] = l;
}

static void u32_key(struct cfg_parser *ps, const char *key, const char *value, uint32_t min,
		    uint32_t max, uint32_t *out)
{
	if (parse_u32(value, min, max, out))
		cfg_error(ps, ps->lineno,
			  "%s = '%s': expected a number from %u to %u "
			  "(k, M, G suffixes allowed)",
			  key, value, min, max);
}

/* A duration from min_ms to max_ms (both whole seconds in the message). */
static void duration_key(struct cfg_parser *ps, const char *key, const char *value, uint32_t min_ms,
			 uint32_t max_ms, uint32_t *out)
{
	uint64_t ms;

	if (cfg_parse_duration_ms(value, &ms) || ms < min_ms || ms > max_ms)
		cfg_error(ps, ps->lineno,
			  "%s = '%s': expected a duration from %ums to %us "
			  "(N or Ns seconds, Nms milliseconds)",
			  key, value, min_ms, max_ms / 1000);
	else
		*out = (uint32_t)ms;
}

/* The resource limits (nvmfd.ini(5) LIMITS); false if key is not one. */
static bool limit_key(struct cfg_parser *ps, const char *key, const char *value)
{
	struct cfg_config *cfg = ps->cfg;

	if (strcmp(key, "max_connections") == 0) {
		u32_key(ps, key, value, 1, 1u << 20, &cfg->max_connections);
	} else if (strcmp(key, "max_connections_per_host") == 0) {
		u32_key(ps, key, value, 1, 1u << 20, &cfg->max_connections_per_host);
	} else if (strcmp(key, "max_controllers_per_subsystem") == 0) {
		/* the controller table holds 1024 (TARGET_MAX_CTRLS) */
		u32_key(ps, key, value, 1, 1024, &cfg->max_controllers_per_subsystem);
	} else if (strcmp(key, "icreq_timeout") == 0) {
		duration_key(ps, key, value, 100, 600000, &cfg->icreq_timeout_ms);
	} else if (strcmp(key, "pdu_timeout") == 0) {
		duration_key(ps, key, value, 100, 3600000, &cfg->pdu_timeout_ms);
	} else if (strcmp(key, "auth_timeout") == 0) {
		duration_key(ps, key, value, 100, 600000, &cfg->auth_timeout_ms);
	} else if (strcmp(key, "max_buffers_per_connection") == 0) {
		u32_key(ps, key, value, 4096, 1u << 30, &cfg->max_buffers_per_connection);
		ps->conn_buf_line = ps->lineno;
	} else {
		return false;
	}
	return true;
}

/* How RBD namespaces reach their Ceph cluster; false if key is not one. */
static bool ceph_key(struct cfg_parser *ps, const char *key, const char *value)
{
	struct cfg_config *cfg = ps->cfg;

	if (strcmp(key, "ceph_conf") == 0 || strcmp(key, "ceph_keyring") == 0) {
		if (value[0] != '/')
			cfg_error(ps, ps->lineno, "%s must be an absolute path", key);
		else if (key[5] == 'c')
			snprintf(cfg->ceph_conf, sizeof(cfg->ceph_conf), "%s", value);
		else
			snprintf(cfg->ceph_keyring, sizeof(cfg->ceph_keyring), "%s", value);
	} else if (strcmp(key, "ceph_id") == 0) {
		size_t n = strlen(value);
		bool ok = n > 0 && n < sizeof(cfg->ceph_id) && strncmp(value, "client.", 7) != 0;

		for (size_t i = 0; ok && i < n; i++)
			ok = isalnum((unsigned char)value[i]) || strchr("-_.", value[i]) != NULL;
		if (!ok)
			cfg_error(ps, ps->lineno,
				  "ceph_id = '%s': expected a Ceph client name without "
				  "\"client.\" (letters, digits, - _ .), e.g. admin",
				  value);
		else
			snprintf(cfg->ceph_id, sizeof(cfg->ceph_id), "%s", value);
	} else {
		return false;
	}
	return true;
}

/* "rbd:POOL/IMAGE" or "rbd:POOL/NAMESPACE/IMAGE": non-empty names, no spaces. */
static bool rbd_path_ok(const char *v)
{
	int parts = 1;

	v += 4;
	if (*v == '\0' || *v == '/')
		return false;
	for (; *v; v++) {
		if (isspace((unsigned char)*v) || *v == '@')
			return false;
		if (*v == '/') {
			if (v[1] == '\0' || v[1] == '/')
				return false;
			parts++;
		}
	}
	return parts == 2 || parts == 3;
}

/* "MIN-MAX", 1 <= MIN <= MAX <= FFEFh: the controller IDs this instance hands out. */
static void cntlid_range_key(struct cfg_parser *ps, const char *value)
{
	unsigned long lo, hi;
	char *end;

	errno = 0;
	lo = strtoul(value, &end, 0);
	if (isdigit((unsigned char)value[0]) && *end == '-' && isdigit((unsigned char)end[1])) {
		const char *h = end + 1;

		hi = strtoul(h, &end, 0);
		if (*end == '\0' && errno == 0 && lo >= 1 && lo <= hi && hi <= CFG_CNTLID_MAX) {
			ps->cfg->cntlid_min = (uint16_t)lo;
			ps->cfg->cntlid_max = (uint16_t)hi;
			return;
		}
	}
	cfg_error(ps, ps->lineno,
		  "cntlid_range = '%s': expected MIN-MAX with 1 <= MIN <= MAX <= %u (65519)", value,
		  CFG_CNTLID_MAX);
}

/*
 * An ADDRESS:PORT list (comma-separated) appended to *arr: a subsystem's
 * listeners or the referrals. Referrals need a numeric address: the
 * discovery log carries its family.
 */
static void add_addr(struct cfg_parser *ps, struct cfg_addr **arr, size_t *n, const char *value,
		     uint16_t default_port, const char *key)
{
	char buf[CFG_LINE_MAX + 1], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct cfg_listener l = {0};
		struct cfg_addr *a;
		unsigned char bin[16];

		if (parse_listen(tok, default_port, &l)) {
			cfg_error(ps, ps->lineno,
				  "%s = '%s': not ADDRESS[:PORT] (IPv6 as [ADDRESS]:PORT)", key,
				  tok);
			return;
		}
		if (strcmp(key, "referral") == 0 && inet_pton(AF_INET, l.host, bin) != 1 &&
		    inet_pton(AF_INET6, l.host, bin) != 1) {
			cfg_error(ps, ps->lineno, "referral = '%s': the address must be numeric",
				  tok);
			return;
		}
		for (size_t i = 0; i < *n; i++) {
			if ((*arr)[i].port == l.port && strcmp((*arr)[i].host, l.host) == 0) {
				cfg_error(ps, ps->lineno, "%s %s is already given (line %d)", key,
					  tok, (*arr)[i].line);
				return;
			}
		}
		a = cfg_grow(ps, *arr, *n, sizeof(**arr));
		if (a == NULL)
			return;
		*arr = a;
		snprintf(a[*n].host, sizeof(a[*n].host), "%s", l.host);
		a[*n].port = l.port;
		a[*n].line = ps->lineno;
		(*n)++;
	}
}

static void global_key(struct cfg_parser *ps, const char *key, const char *value)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	struct cfg_config *cfg = ps->cfg;

	if (strcmp(key, "listen") == 0) {
		ps->listen_seen = true;
		add_listener(ps, value, false, false);
	} else if (strcmp(key, "tls_listen") == 0) {
		ps->listen_seen = true;
		add_listener(ps, value, false, true);
	} else if (strcmp(key, "discovery_listen") == 0) {
		ps->discovery_listen_set = true;
		if (strcmp(value, "none") != 0)
			add_listener(ps, value, true, false);
	} else if (strcmp(key, "tls_discovery_listen") == 0) {
		ps->discovery_listen_set = true;
		add_listener(ps, value, true, true);
	} else if (strcmp(key, "discovery") == 0) {
		if (cfg_parse_bool(value, &cfg->discovery))
			cfg_error(ps, ps->lineno, "discovery = '%s': expected yes or no", value);
	} else if (strcmp(key, "busy_poll") == 0) {
		uint64_t us;

		if (cfg_parse_duration_us(value, &us) || us > 1000)
			cfg_error(ps, ps->lineno,
				  "busy_poll = '%s': expected a duration from 0 to "
				  "1000us (Nus microseconds, Nms, 0 to never spin)",
				  value);
		else
			cfg->busy_poll_us = (uint32_t)us;
	} else if (strcmp(key, "workers") == 0) {
		if (strcmp(value, "auto") == 0)
			cfg->workers = 0;
		else
			u32_key(ps, key, value, 1, 256, &cfg->workers);
	} else if (strcmp(key, "state_dir") == 0) {
		if (value[0] != '/')
			cfg_error(ps, ps->lineno, "state_dir must be an absolute path");
		else
			snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", value);
	} else if (strcmp(key, "log_level") == 0) {
		size_t i;

		for (i = 0; i < 4 && strcmp(value, levels[i]) != 0; i++)
			;
		if (i == 4)
			cfg_error(ps, ps->lineno,
				  "log_level = '%s': expected error, warn, info or "
				  "debug",
				  value);
		else
			cfg->log_level = (enum cfg_log_level)i;
	} else if (strcmp(key, "max_h2c_data") == 0) {
		u32_key(ps, key, value, 4096, 16u << 20, &cfg->max_h2c_data);
		if (cfg->max_h2c_data % 4)
			cfg_error(ps, ps->lineno, "max_h2c_data must be a multiple of 4");
	} else if (strcmp(key, "in_capsule_data") == 0) {
		ps->icd_line = ps->lineno;
		u32_key(ps, key, value, 8192, 1u << 20, &cfg->in_capsule_data);
		if (cfg->in_capsule_data % 16)
			cfg_error(ps, ps->lineno, "in_capsule_data must be a multiple of 16");
	} else if (strcmp(key, "max_transfer") == 0) {
		ps->mdts_line = ps->lineno;
		u32_key(ps, key, value, 4096, 32u << 20, &cfg->max_transfer);
		if (cfg->max_transfer & (cfg->max_transfer - 1))
			cfg_error(ps, ps->lineno, "max_transfer must be a power of two");
	} else if (strcmp(key, "queue_depth") == 0) {
		u32_key(ps, key, value, 16, 4096, &cfg->queue_depth);
	} else if (strcmp(key, "max_io_queues") == 0) {
		u32_key(ps, key, value, 1, 1024, &cfg->max_io_queues);
	} else if (strcmp(key, "kato_default") == 0) {
		u32_key(ps, key, value, 1, 3600, &cfg->kato_default);
	} else if (strcmp(key, "cntlid_range") == 0) {
		cntlid_range_key(ps, value);
	} else if (strcmp(key, "referral") == 0) {
		add_addr(ps, &cfg->referrals, &cfg->nreferrals, value, CFG_DISC_PORT, "referral");
	} else if (strcmp(key, "tcp_keepalive_idle") == 0) {
		/* the kernel counts whole seconds: 1 s to 2 h (its own default), or 0 */
		duration_key(ps, key, value, 0, 7200000, &cfg->tcp_keepalive_idle_ms);
	} else if (strcmp(key, "tcp_keepalive_interval") == 0) {
		duration_key(ps, key, value, 1000, 600000, &cfg->tcp_keepalive_interval_ms);
	} else if (strcmp(key, "tcp_keepalive_count") == 0) {
		u32_key(ps, key, value, 1, 127, &cfg->tcp_keepalive_count);
	} else if (!limit_key(ps, key, value) && !ceph_key(ps, key, value)) {
		cfg_unknown_key(ps, key, "nvmfd", cfg_global_keys);
	}
}

static bool ascii_field(const char *v, size_t max)
{
	size_t n = strlen(v);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return false;
	return true;
}

static void subsys_key(struct cfg_parser *ps, const char *key, const char *value)
{
	struct cfg_subsystem *s = &ps->cfg->subsys[ps->cur];

	if (strcmp(key, "allow_host") == 0) {
		char(*hosts)[CFG_NQN_MAX + 1];

		if (strcmp(value, "any") == 0) {
			s->allow_any_host = true;
			return;
		}
		if (!cfg_nqn_valid(value)) {
			cfg_error(ps, ps->lineno,
				  "allow_host = '%s': not a valid host NQN (or "
				  "'any'): it %s",
				  value, cfg_nqn_why(value));
			return;
		}
		hosts = cfg_grow(ps, s->hosts, s->nhosts, sizeof(*hosts));
		if (hosts == NULL)
			return;
		s->hosts = hosts;
		snprintf(hosts[s->nhosts++], CFG_NQN_MAX + 1, "%s", value);
	} else if (strcmp(key, "serial") == 0) {
		if (!ascii_field(value, 20))
			cfg_error(ps, ps->lineno,
				  "serial must be 1 to 20 printable ASCII characters");
		else
			snprintf(s->serial, sizeof(s->serial), "%s", value);
	} else if (strcmp(key, "require_auth") == 0) {
		if (cfg_parse_bool(value, &s->require_auth))
			cfg_error(ps, ps->lineno, "require_auth = '%s': expected yes or no", value);
	} else if (strcmp(key, "model") == 0) {
		if (!ascii_field(value, 40))
			cfg_error(ps, ps->lineno,
				  "model must be 1 to 40 printable ASCII characters");
		else
			snprintf(s->model, sizeof(s->model), "%s", value);
	} else if (strcmp(key, "listener") == 0) {
		add_addr(ps, &s->ports, &s->nports, value, CFG_DEFAULT_PORT, "listener");
	} else {
		cfg_unknown_key(ps, key, "subsystem", cfg_subsys_keys);
	}
}

static void ns_key(struct cfg_parser *ps, const char *key, const char *value)
{
	struct cfg_namespace *ns = &ps->pending[ps->cur].ns;

	if (strcmp(key, "path") == 0) {
		ns->path_line = ps->lineno;
		ns->path[0] = '\0'; /* a wrong second path leaves none, not the first */
		ns->is_ram = ns->is_rbd = false;
		if (strncmp(value, "ram:", 4) == 0) {
			if (cfg_parse_size(value + 4, &ns->ram_size) || ns->ram_size < 4096) {
				cfg_error(ps, ps->lineno,
					  "path = '%s': expected ram:SIZE, e.g. "
					  "ram:1G",
					  value);
				return;
			}
			ns->is_ram = true;
		} else if (strncmp(value, "rbd:", 4) == 0) {
			if (!rbd_path_ok(value) || strlen(value) >= 256) {
				cfg_error(ps, ps->lineno,
					  "path = '%s': expected rbd:POOL/IMAGE or "
					  "rbd:POOL/NAMESPACE/IMAGE (no snapshots)",
					  value);
				return;
			}
			ns->is_rbd = true;
		} else if (value[0] != '/') {
			cfg_error(ps, ps->lineno,
				  "path must be absolute (or ram:SIZE, or rbd:POOL/IMAGE)");
			return;
		}
		snprintf(ns->path, sizeof(ns->path), "%s", value);
	} else if (strcmp(key, "read_only") == 0) {
		if (cfg_parse_bool(value, &ns->read_only))
			cfg_error(ps, ps->lineno, "read_only = '%s': expected yes or no", value);
	} else if (strcmp(key, "direct") == 0) {
		if (cfg_parse_bool(value, &ns->direct))
			cfg_error(ps, ps->lineno, "direct = '%s': expected yes or no", value);
	} else if (strcmp(key, "prealloc") == 0) {
		if (cfg_parse_bool(value, &ns->prealloc))
			cfg_error(ps, ps->lineno, "prealloc = '%s': expected yes or no", value);
	} else if (strcmp(key, "block_size") == 0) {
		if (strcmp(value, "512") == 0)
			ns->block_size = 512;
		else if (strcmp(value, "4096") == 0 || strcasecmp(value, "4k") == 0)
			ns->block_size = 4096;
		else
			cfg_error(ps, ps->lineno, "block_size must be 512 or 4096");
	} else if (strcmp(key, "uuid") == 0) {
		if (cfg_parse_uuid(value, ns->uuid))
			cfg_error(ps, ps->lineno, "uuid = '%s': expected 8-4-4-4-12 hex digits",
				  value);
		else
			ns->has_uuid = true;
	} else if (strcmp(key, "ana_group") == 0) {
		u32_key(ps, key, value, 1, CFG_ANA_GROUPS, &ns->ana_group);
	} else {
		cfg_unknown_key(ps, key, "namespace", cfg_ns_keys);
	}
}

/* A key given twice in one section: the last value counts, as in most INI
 * readers, but it is likely a mistake (a copy and paste): a warning. */
static void seen_key(struct cfg_parser *ps, const char *key)
{
	struct cfg_seen_key *arr;

	if (repeatable(key))
		return;
	for (size_t i = 0; i < ps->nseen; i++) {
		if (strcmp(ps->seen[i].name, key) == 0) {
			cfg_warn(ps, ps->lineno,
				 "'%s' was already set at line %d: this value replaces it", key,
				 ps->seen[i].line);
			ps->seen[i].line = ps->lineno;
			return;
		}
	}
	arr = cfg_grow(ps, ps->seen, ps->nseen, sizeof(*arr));
	if (arr == NULL)
		return;
	ps->seen = arr;
	snprintf(arr[ps->nseen].name, sizeof(arr[ps->nseen].name), "%s", key);
	arr[ps->nseen++].line = ps->lineno;
}

void cfg_apply_key(struct cfg_parser *ps, const char *section, const char *key, const char *value)
{
	/* [host] refuses a key given twice itself (a secret must not be replaced) */
	if (ps->kind == SEC_GLOBAL || ps->kind == SEC_SUBSYS || ps->kind == SEC_NS)
		seen_key(ps, key);
	switch (ps->kind) {
	case SEC_GLOBAL:
		global_key(ps, key, value);
		break;
	case SEC_SUBSYS:
		subsys_key(ps, key, value);
		break;
	case SEC_NS:
		ns_key(ps, key, value);
		break;
	case SEC_HOST:
		cfg_host_key(ps, key, value);
		break;
	case SEC_NONE:
		cfg_error(ps, ps->lineno, "'%s' before any [section]", key);
		break;
	case SEC_BAD:
		break; /* the section header was reported */
	}
	(void)section;
}

/* ---- whole-file checks ---- */

static void default_serial(struct cfg_subsystem *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: stable across restarts */

	for (const char *c = s->nqn; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	snprintf(s->serial, sizeof(s->serial), "%016llx", (unsigned long long)h);
}

static void attach_namespaces(struct cfg_parser *ps)
{
	for (size_t i = 0; i < ps->npending; i++) {
		struct cfg_pending_ns *p = &ps->pending[i];
		struct cfg_subsystem *s = find_subsys(ps->cfg, p->subnqn);
		struct cfg_namespace *arr;

		if (s == NULL) {
			if (!is_bad_subsys(ps, p->subnqn))
				cfg_error(ps, p->ns.line,
					  "namespace %u: no [subsystem %s] in this file",
					  p->ns.nsid, p->subnqn);
			continue;
		}
		if (p->ns.path[0] == '\0') {
			if (p->ns.path_line == 0) /* else its path line was reported */
				cfg_error(ps, p->ns.line, "namespace %u of %s has no path",
					  p->ns.nsid, p->subnqn);
			continue;
		}
		arr = cfg_grow(ps, s->ns, s->nns, sizeof(*arr));
		if (arr == NULL)
			return;
		s->ns = arr;
		arr[s->nns++] = p->ns;
	}
}

/*
 * What can be said of each namespace's backing store from the file alone
 * (a RAM size that is not whole blocks), and, for --check, what the
 * daemon's ns_check finds opening it; orphans too, so that one run says
 * everything.
 */
static void check_namespaces(struct cfg_parser *ps)
{
	for (size_t i = 0; i < ps->npending; i++) {
		const struct cfg_pending_ns *p = &ps->pending[i];
		uint32_t bs = p->ns.block_size ? p->ns.block_size : 512;

		if (p->ns.path[0] == '\0')
			continue;
		if (p->ns.is_ram && p->ns.ram_size % bs != 0)
			cfg_warn(ps, p->ns.path_line,
				 "path = %s is not a whole number of %u-byte blocks: "
				 "namespace %u holds %llu bytes",
				 p->ns.path, bs, p->ns.nsid,
				 (unsigned long long)(p->ns.ram_size - p->ns.ram_size % bs));
		if (ps->ns_check != NULL)
			ps->ns_check(ps->ns_check_arg, ps->cfg, p->subnqn, &p->ns, ps->diags);
	}
}

/*
 * Unless told otherwise, discovery is also served on port 8009 of every I/O
 * address; the one of a TLS address is a TLS port too, so that nothing of
 * a TLS-only target crosses the network in plain text.
 */
static void default_discovery_listeners(struct cfg_parser *ps)
{
	struct cfg_config *cfg = ps->cfg;
	size_t n = cfg->nlisteners;

	if (!cfg->discovery || ps->discovery_listen_set)
		return;
	for (size_t i = 0; i < n; i++) {
		struct cfg_listener l = cfg->listeners[i], *arr;
		bool dup = false;

		l.port = CFG_DISC_PORT;
		l.discovery_only = true;
		for (size_t j = 0; j < cfg->nlisteners; j++)
			dup |= strcmp(cfg->listeners[j].host, l.host) == 0 &&
			       cfg->listeners[j].port == l.port;
		if (dup)
			continue;
		arr = cfg_grow(ps, cfg->listeners, cfg->nlisteners, sizeof(*arr));
		if (arr == NULL)
			return;
		cfg->listeners = arr;
		arr[cfg->nlisteners++] = l;
	}
}

/* A subsystem's listeners are 'listen =' lines of [nvmfd] (not discovery-only ones). */
static void check_ports(struct cfg_parser *ps, const struct cfg_subsystem *s)
{
	const struct cfg_config *cfg = ps->cfg;

	for (size_t i = 0; i < s->nports; i++) {
		const struct cfg_addr *a = &s->ports[i];
		bool found = false;

		for (size_t j = 0; j < cfg->nlisteners && !found; j++)
			found = !cfg->listeners[j].discovery_only &&
				cfg->listeners[j].port == a->port &&
				strcmp(cfg->listeners[j].host, a->host) == 0;
		if (!found)
			cfg_error(ps, a->line,
				  "listener %s:%u of %s is not a 'listen =' address of [nvmfd]",
				  a->host, a->port, s->nqn);
	}
}

void cfg_validate(struct cfg_parser *ps)
{
	struct cfg_config *cfg = ps->cfg;
	size_t nio = 0;

	check_namespaces(ps);
	attach_namespaces(ps);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		nio += !cfg->listeners[i].discovery_only;
	if (nio == 0 && !ps->listen_seen) /* else the listen lines were reported */
		cfg_error(ps, ps->global_line ? ps->global_line : 1,
			  "no 'listen = ADDRESS:PORT' in [nvmfd]");
	default_discovery_listeners(ps);
	for (size_t i = 0; i < cfg->nsubsys; i++) {
		struct cfg_subsystem *s = &cfg->subsys[i];

		if (!s->allow_any_host && s->nhosts == 0)
			cfg_error(ps, s->line,
				  "subsystem %s allows no host: add 'allow_host = "
				  "HOSTNQN' or 'allow_host = any'",
				  s->nqn);
		if (s->allow_any_host && s->nhosts > 0)
			cfg_error(ps, s->line,
				  "subsystem %s: 'allow_host = any' and a host list "
				  "exclude each other",
				  s->nqn);
		if (s->serial[0] == '\0')
			default_serial(s);
		if (s->model[0] == '\0')
			snprintf(s->model, sizeof(s->model), "nvmfd");
		check_ports(ps, s);
		if (s->nns > cfg_max_namespaces(cfg->max_transfer))
			cfg_error(ps, s->line,
				  "subsystem %s has %zu namespaces: at most %u with max_transfer = "
				  "%u (the ANA log page must fit one transfer)",
				  s->nqn, s->nns, cfg_max_namespaces(cfg->max_transfer),
				  cfg->max_transfer);
	}
	cfg_validate_hosts(ps);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		bool keyed = false;

		for (size_t j = 0; j < cfg->nhosts && !keyed; j++)
			keyed = cfg->hosts[j].has_tls_key;
		if (cfg->listeners[i].tls && !keyed) {
			cfg_warn(ps, cfg->listeners[i].line,
				 "a TLS listener, but no [host] section has a tls_key: "
				 "no host can connect to it");
			break;
		}
	}
	if (cfg->in_capsule_data > cfg->max_transfer)
		cfg_error(ps, ps->icd_line ? ps->icd_line : ps->mdts_line,
			  "in_capsule_data (%u) exceeds max_transfer (%u)", cfg->in_capsule_data,
			  cfg->max_transfer);
	/* one command of max_transfer bytes must fit, or it would wait for ever */
	if (cfg->max_buffers_per_connection < cfg->max_transfer)
		cfg_error(ps, ps->conn_buf_line ? ps->conn_buf_line : ps->mdts_line,
			  "max_buffers_per_connection (%u) is less than max_transfer (%u)",
			  cfg->max_buffers_per_connection, cfg->max_transfer);
}

void cfg_parser_fini(struct cfg_parser *ps)
{
	free(ps->pending);
	ps->pending = NULL;
	free(ps->bad_subsys);
	ps->bad_subsys = NULL;
	free(ps->seen);
	ps->seen = NULL;
}
