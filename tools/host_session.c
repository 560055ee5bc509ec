/* SPDX-License-Identifier: BSD-2-Clause */
/* The host tools' one start-up (host_session.h). */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "byteorder.h"
#include "host_session.h"
#include "nqn.h"
#include "show.h"
#include "status.h"

#define HOST_SHUTDOWN_MS 5000

int tool_parse_address(struct tool_addr *a, const char *arg, const char *default_port)
{
	const char *port = NULL, *end;
	size_t hlen;

	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -EINVAL;
		hlen = (size_t)(end - arg - 1);
		arg++;
		port = end[1] == ':' ? end + 2 : NULL;
	} else if ((end = strchr(arg, ':')) != NULL && strchr(end + 1, ':') == NULL) {
		hlen = (size_t)(end - arg);
		port = end + 1;
	} else {
		hlen = strlen(arg); /* no port, or a bare IPv6 address */
	}
	if (hlen == 0 || hlen >= sizeof(a->host) || (port != NULL && *port == '\0') ||
	    (port != NULL && strlen(port) >= sizeof(a->port)))
		return -EINVAL;
	memcpy(a->host, arg, hlen);
	a->host[hlen] = '\0';
	snprintf(a->port, sizeof(a->port), "%s", port ? port : default_port);
	snprintf(a->where, sizeof(a->where), strchr(a->host, ':') ? "[%s]:%s" : "%s:%s", a->host,
		 a->port);
	return 0;
}

/* nvmf-perf's sizes and the shared numbers: k, M and G multiply. */
int tool_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned int shift = 0;

	errno = 0;
	if (*s == '-' || *s == '\0')
		return -EINVAL;
	*v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end != '\0' || (shift && *v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*v <<= shift;
	return 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *v)
{
	uint64_t x;

	if (tool_parse_u64(s, &x) || x < lo || x > hi)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/* ---- Options ---- */

/* getopt values of the shared options that have no letter. */
enum {
	OPT_HOSTNQN = 0x100,
	OPT_TIMEOUT,
	OPT_HOSTID,
	OPT_MAX_H2C,
	OPT_KATO,
	OPT_SQFLOW,
	OPT_TLS,
	OPT_TLS_KEY,
	OPT_TLS_IDENTITY,
	OPT_TLS_DERIVATION,
	OPT_DHCHAP_SECRET,
	OPT_DHCHAP_CTRL_SECRET,
};

/*
 * The shared options. One is offered when the tool's HOST_OPTS_* bits
 * include all of need and none of unneed. A new option: a line here, a
 * case in host_opt_parse(), a field in struct nvmf_association_params.
 */
static const struct host_opt {
	int val;	  /* what getopt_long() returns: the letter, or OPT_* */
	const char *name; /* long name, NULL: a letter only */
	int has_arg;
	unsigned int need, unneed;
	const char *synopsis; /* NULL: no usage line of its own */
	const char *help;     /* "%u": the default timeout; "\n": continued under it */
} host_opt_table[] = {
	{'g', NULL, no_argument, 0, 0, "-g / -G", "header / data digests"},
	{'G', NULL, no_argument, 0, 0, NULL, NULL},
	{'q', NULL, required_argument, HOST_OPTS_Q_T, 0, "-q hostnqn",
	 "host NQN (default /etc/nvme/hostnqn, else derived)"},
	{OPT_HOSTNQN, "hostnqn", required_argument, 0, HOST_OPTS_Q_T, "--hostnqn NQN",
	 "host NQN (default /etc/nvme/hostnqn, else derived)"},
	{OPT_HOSTID, "hostid", required_argument, 0, 0, "--hostid UUID",
	 "host ID (default /etc/nvme/hostid, else derived)"},
	{'t', NULL, required_argument, HOST_OPTS_Q_T, 0, "-t timeout",
	 "seconds to wait for the target (default %u)"},
	{OPT_TIMEOUT, "timeout", required_argument, 0, HOST_OPTS_Q_T, "--timeout SECS",
	 "seconds to wait for the target (default %u)"},
	{OPT_MAX_H2C, "max-h2c", required_argument, HOST_OPTS_MAX_H2C, 0, "--max-h2c N",
	 "send at most N bytes per H2CData PDU (testing)"},
	{OPT_KATO, "kato", required_argument, HOST_OPTS_KATO, 0, "--kato MS",
	 "Keep Alive Timeout for the admin queue (default 0: none)"},
	{OPT_SQFLOW, "disable-sqflow", no_argument, HOST_OPTS_SQFLOW, 0, "--disable-sqflow",
	 "Connect without SQ flow control (reads may then end\n"
	 "with C2HData SUCCESS, no CapsuleResp)"},
	{OPT_TLS, "tls", no_argument, 0, 0, "--tls",
	 "TLS 1.3 with a pre-shared key (needs --tls-key)"},
	{OPT_TLS_KEY, "tls-key", required_argument, 0, 0, "--tls-key KEY",
	 "the PSK, NVMeTLSkey-1:hh:base64: or @FILE holding it\n"
	 "(implies --tls)"},
	{OPT_TLS_IDENTITY, "tls-identity", required_argument, 0, 0, "--tls-identity 0|1",
	 "PSK identity NVMe0R0x (0) or NVMe1R0x with digest (1,\n"
	 "the default)"},
	{OPT_TLS_DERIVATION, "tls-derivation", required_argument, 0, 0, "--tls-derivation KDF",
	 "rfc8446 (default), libnvme-compat (nvme-cli <= 2.15)\n"
	 "or libnvme-last-info"},
	{OPT_DHCHAP_SECRET, "dhchap-secret", required_argument, 0, 0, "--dhchap-secret KEY",
	 "DH-HMAC-CHAP host secret, DHHC-1:hh:...: or @FILE\n"
	 "(used when the target requires authentication)"},
	{OPT_DHCHAP_CTRL_SECRET, "dhchap-ctrl-secret", required_argument, 0, 0,
	 "--dhchap-ctrl-secret KEY", "the controller's secret: authenticate it too"},
};

#define NOPTS (sizeof(host_opt_table) / sizeof(host_opt_table[0]))

static bool offered(const struct host_opts *o, const struct host_opt *h)
{
	return (o->offered & h->need) == h->need && (o->offered & h->unneed) == 0;
}

static const struct host_opt *find_opt(const struct host_opts *o, int ch)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (host_opt_table[i].val == ch && offered(o, &host_opt_table[i]))
			return &host_opt_table[i];
	return NULL;
}

void host_opts_init(struct host_opts *o, unsigned int offered_opts, uint32_t timeout_ms,
		    const char *refused_hint)
{
	memset(o, 0, sizeof(*o));
	o->offered = offered_opts;
	o->ap.timeout_ms = timeout_ms;
	o->default_timeout_s = timeout_ms / 1000;
	o->refused_hint = refused_hint;
	o->ap.tls_identity = 1;
	o->ap.tls_kdf = TLS_PSK_KDF_RFC8446;
}

/* --tls-key: the interchange format, inline or in a file (@FILE: not in ps(1)). */
static int parse_tls_key(struct host_opts *o, const char *arg)
{
	char buf[TLS_PSK_INTERCHANGE_MAX + 64];
	const char *why = NULL;
	int ret;

	if (arg[0] == '@') {
		FILE *f = fopen(arg + 1, "re");
		size_t n;

		if (f == NULL) {
			warnx("--tls-key %s: %s", arg, strerror(errno));
			return -EINVAL;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		buf[strcspn(buf, " \t\r\n")] = '\0';
	} else {
		snprintf(buf, sizeof(buf), "%s", arg);
	}
	ret = tls_psk_parse(buf, &o->ap.tls_key, &why);
	explicit_bzero(buf, sizeof(buf));
	if (ret) {
		warnx("--tls-key: not a TLS PSK (NVMeTLSkey-1:hh:base64:): %s",
		      why ? why : "malformed");
		return -EINVAL;
	}
	o->ap.tls = true;
	o->has_tls_key = true;
	return 1;
}

/*
 * A DH-HMAC-CHAP secret as nvme-cli takes it (DHHC-1:hh:base64:), or
 * @FILE holding one (so that it need not be on the command line, which
 * other users can read in /proc). Errors are said here without echoing
 * the secret: -EKEYREJECTED.
 */
static int parse_secret(const char *opt, const char *arg, struct dhchap_key *k)
{
	char buf[DHCHAP_KEY_STR_MAX + 64], *nl;
	const char *why = NULL, *s = arg;
	FILE *f = NULL;
	int ret;

	if (arg[0] == '@') {
		f = fopen(arg + 1, "re");
		if (f == NULL) {
			warn("--%s: %s", opt, arg + 1);
			return -EKEYREJECTED;
		}
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
		nl = strpbrk(buf, "\r\n");
		if (nl != NULL)
			*nl = '\0';
		s = buf;
	}
	ret = dhchap_key_parse(s, k, &why);
	explicit_bzero(buf, sizeof(buf));
	if (ret == -EKEYREJECTED)
		warnx("--%s: the secret's CRC does not match its key", opt);
	else if (ret)
		warnx("--%s: not a DH-HMAC-CHAP secret (DHHC-1:hh:base64:): %s", opt,
		      why ? why : "malformed");
	return ret ? -EKEYREJECTED : 1;
}

void host_opts_wipe(struct host_opts *o)
{
	dhchap_key_wipe(&o->ap.dhchap_key);
	dhchap_key_wipe(&o->ap.dhchap_ctrl_key);
	o->ap.has_dhchap_key = o->ap.has_dhchap_ctrl_key = false;
}

int host_opt_parse(struct host_opts *o, int ch, const char *arg)
{
	const struct host_opt *h = find_opt(o, ch);
	uint32_t secs;

	if (h == NULL)
		return 0;
	switch (h->val) {
	case 'g':
		o->ap.hdgst = true;
		break;
	case 'G':
		o->ap.ddgst = true;
		break;
	case 'q':
	case OPT_HOSTNQN:
		if (strlen(arg) >= sizeof(o->ap.hostnqn))
			return -EINVAL;
		strcpy(o->ap.hostnqn, arg);
		break;
	case OPT_HOSTID:
		return nvmf_uuid_parse(arg, o->ap.hostid) ? -EINVAL : 1;
	case 't':
	case OPT_TIMEOUT:
		if (parse_u32(arg, 1, 3600, &secs))
			return -EINVAL;
		o->ap.timeout_ms = secs * 1000;
		break;
	case OPT_MAX_H2C:
		return parse_u32(arg, 4, UINT32_MAX, &o->ap.max_h2c) || o->ap.max_h2c % 4 ? -EINVAL
											  : 1;
	case OPT_KATO:
		return parse_u32(arg, 0, UINT32_MAX, &o->ap.kato_ms) ? -EINVAL : 1;
	case OPT_SQFLOW:
		o->ap.disable_sqflow = true;
		break;
	case OPT_TLS:
		o->ap.tls = true;
		break;
	case OPT_TLS_KEY:
		return parse_tls_key(o, arg);
	case OPT_TLS_IDENTITY:
		if (strcmp(arg, "0") != 0 && strcmp(arg, "1") != 0)
			return -EINVAL;
		o->ap.tls_identity = (unsigned int)(arg[0] - '0');
		break;
	case OPT_TLS_DERIVATION:
		if (strcmp(arg, "rfc8446") == 0)
			o->ap.tls_kdf = TLS_PSK_KDF_RFC8446;
		else if (strcmp(arg, "libnvme-compat") == 0)
			o->ap.tls_kdf = TLS_PSK_KDF_LIBNVME_COMPAT;
		else if (strcmp(arg, "libnvme-last-info") == 0)
			o->ap.tls_kdf = TLS_PSK_KDF_LIBNVME_LAST_INFO;
		else
			return -EINVAL;
		break;
	case OPT_DHCHAP_SECRET:
		o->ap.has_dhchap_key = true;
		return parse_secret(h->name, arg, &o->ap.dhchap_key);
	case OPT_DHCHAP_CTRL_SECRET:
		o->ap.has_dhchap_ctrl_key = true;
		return parse_secret(h->name, arg, &o->ap.dhchap_ctrl_key);
	}
	return 1;
}

void host_opts_usage(FILE *f, const struct host_opts *o, int indent_long, int col)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct host_opt *h = &host_opt_table[i];
		int n;

		if (h->synopsis == NULL || !offered(o, h))
			continue;
		n = fprintf(f, "%*s%s", h->val >= OPT_HOSTNQN ? indent_long : 2, "", h->synopsis);
		fprintf(f, "%*s", n < col - 1 ? col - n : 2, "");
		for (const char *p = h->help; *p; p++) {
			if (p[0] == '%' && p[1] == 'u') {
				fprintf(f, "%u", o->default_timeout_s);
				p++;
			} else {
				fputc(*p, f);
				if (*p == '\n')
					fprintf(f, "%*s", col, "");
			}
		}
		fputc('\n', f);
	}
}

/* Append the offered shared options and -h / --help to the tool's. */
static int merge_opts(struct host_opts *o, const char *shortopts, const struct option *longopts)
{
	size_t ns = strlen(shortopts), nl = 0;

	if (ns + 2 >= sizeof(o->shortopts)) /* room for "h" */
		return -ENOSPC;
	memcpy(o->shortopts, shortopts, ns);
	for (; longopts && longopts[nl].name; nl++) {
		if (nl >= HOST_OPTS_MAX_LONG - NOPTS - 2)
			return -ENOSPC;
		o->longopts[nl] = longopts[nl];
	}
	for (size_t i = 0; i < NOPTS; i++) {
		const struct host_opt *h = &host_opt_table[i];

		if (!offered(o, h))
			continue;
		if (h->name != NULL)
			o->longopts[nl++] = (struct option){h->name, h->has_arg, NULL, h->val};
		if (h->val < OPT_HOSTNQN) {
			if (ns + 3 >= sizeof(o->shortopts))
				return -ENOSPC;
			o->shortopts[ns++] = (char)h->val;
			if (h->has_arg == required_argument)
				o->shortopts[ns++] = ':';
		}
	}
	o->shortopts[ns++] = 'h';
	o->shortopts[ns] = '\0';
	o->longopts[nl++] = (struct option){"help", no_argument, NULL, 'h'};
	o->longopts[nl] = (struct option){NULL, 0, NULL, 0};
	return 0;
}

int host_opts_getopt(struct host_opts *o, int argc, char **argv, const char *shortopts,
		     const struct option *longopts,
		     int (*tool_opt)(void *ctx, int ch, const char *arg), void *ctx,
		     void (*usage)(FILE *f))
{
	const char *why;
	int ch, idx, ret;

	ret = merge_opts(o, shortopts, longopts);
	if (ret) {
		warnx("too many options");
		return ret;
	}
	optind = 1;
	for (idx = -1; (ch = getopt_long(argc, argv, o->shortopts, o->longopts, &idx)) != -1;
	     idx = -1) {
		if (ch == 'h') {
			usage(stdout);
			return 0;
		}
		if (ch == '?') { /* getopt_long() said what */
			usage(stderr);
			return -EINVAL;
		}
		ret = host_opt_parse(o, ch, optarg);
		if (ret == 0)
			ret = tool_opt(ctx, ch, optarg);
		if (ret == -EKEYREJECTED) { /* said, without echoing the secret */
			usage(stderr);
			return -EINVAL;
		}
		if (ret < 0) {
			if (idx >= 0)
				warnx("invalid value \"%s\" for --%s", optarg,
				      o->longopts[idx].name);
			else
				warnx("invalid value \"%s\" for -%c", optarg, ch);
			usage(stderr);
			return -EINVAL;
		}
	}
	if (o->ap.has_dhchap_ctrl_key && !o->ap.has_dhchap_key) {
		warnx("--dhchap-ctrl-secret needs --dhchap-secret");
		return -EINVAL;
	}
	if (o->ap.hostnqn[0] != '\0' && nvmf_nqn_check(o->ap.hostnqn, &why)) {
		warnx("host NQN \"%s\" %s", o->ap.hostnqn, why);
		return -EINVAL;
	}
	if (o->ap.tls && !o->has_tls_key) {
		/* no keyring here: the key is given (nvme-cli's --tls-key) */
		warnx("--tls needs --tls-key NVMeTLSkey-1:...: (or @FILE)");
		return -EINVAL;
	}
	return optind;
}

int host_opts_address(struct host_opts *o, const char *arg)
{
	if (tool_parse_address(&o->addr, arg, HOST_DEFAULT_PORT)) {
		warnx("invalid address \"%s\" (ADDRESS[:PORT], [IPv6]:PORT)", arg);
		return -EINVAL;
	}
	return 0;
}

/* ---- Reporting ---- */

int host_fail(const struct host_session *s, int ret)
{
	const char *msg = s->na ? nvmf_association_error(s->na) : "";
	size_t wl = strlen(s->addr.where);

	/* Messages about the address already start with it. */
	if (strncmp(msg, s->addr.where, wl) == 0 && msg[wl] == ':')
		msg += wl + 2;
	if (ret == -ECONNREFUSED)
		warnx("%s: connection refused \u2014 %s", s->addr.where, s->o->refused_hint);
	else if (*msg != '\0')
		warnx("%s: %s", s->addr.where, msg);
	else
		warnx("%s: %s", s->addr.where, strerror(-ret));
	return ret;
}

int host_cmd_failed(const struct host_session *s, const char *what, int ret, nvme_status_t st)
{
	if (ret < 0)
		return host_fail(s, ret);
	warnx("%s: %s failed: %s", s->tag, what, nvme_status_str(st));
	return -EIO;
}

/* The controller refused Connect: name the parameter it did not like. */
static int connect_refused(const struct host_session *s, uint16_t qid,
			   const struct nvmf_connect_rsp *rsp)
{
	nvme_status_t code = NVME_STATUS_CODE(rsp->status);
	const char *name = nvme_status_name(rsp->status, NVME_STATUS_CTX_FABRICS);
	const char *field = nvmf_connect_field(rsp);
	const char *host = nvmf_association_hostnqn(s->na);
	bool inval = code == NVME_SC(COMMAND_SPECIFIC, CONNECT_INVALID_PARAM);
	bool badhost = code == NVME_SC(COMMAND_SPECIFIC, CONNECT_INVALID_HOST);
	char where[TOOL_WHERE_LEN + 16];

	/* An I/O queue's refusal (rarer than the admin queue's) names the queue. */
	if (qid)
		snprintf(where, sizeof(where), "%s: queue %u", s->addr.where, qid);
	else
		snprintf(where, sizeof(where), "%s", s->addr.where);
	if (inval && strcmp(field, "subnqn") == 0)
		warnx("%s: subsystem %s not found or not allowed for host %s (%s: subnqn)", where,
		      s->subnqn, host, name);
	else if ((inval && strcmp(field, "hostnqn") == 0) || badhost)
		warnx("%s: host %s is not allowed to connect to subsystem %s (%s%s%s)", where, host,
		      s->subnqn, name, inval ? ": " : "", inval ? field : "");
	else if (inval)
		warnx("%s: Connect to %s refused (%s: %s)", where, s->subnqn, name, field);
	else
		warnx("%s: Connect to %s refused: %s", where, s->subnqn,
		      nvme_status_str_fabrics(rsp->status));
	return -EACCES;
}

/* ---- The session ---- */

uint64_t host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void host_session_init(struct host_session *s, const struct host_opts *o,
		       const struct tool_addr *addr, const char *subnqn)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->addr = addr ? *addr : o->addr;
	s->subnqn = subnqn;
	if (o->name_subsystem)
		snprintf(s->tag, sizeof(s->tag), "%s: %s", s->addr.where, subnqn);
	else
		snprintf(s->tag, sizeof(s->tag), "%s", s->addr.where);
}

static int connect_queue(struct host_session *s, uint16_t qid, uint16_t qsize,
			 struct nvmf_qpair **qpp)
{
	struct nvmf_qpair_params p = {
		.traddr = s->addr.host,
		.trsvcid = s->addr.port,
		.subnqn = s->subnqn,
		.qid = qid,
		.qsize = qsize,
		.cntlid = qid ? nvmf_qpair_cntlid(s->admin) : NVMF_CNTLID_DYNAMIC,
	};
	struct nvmf_connect_rsp rsp;
	int ret = nvmf_connect(s->na, &p, qpp, &rsp);

	if (ret)
		return host_fail(s, ret);
	if (*qpp == NULL)
		return connect_refused(s, qid, &rsp);
	return 0;
}

int host_connect_admin(struct host_session *s)
{
	nvme_status_t st;
	int ret;

	s->na = nvmf_association_alloc(NVMF_TRTYPE_TCP, &s->o->ap, &ret);
	if (s->na == NULL) {
		warnx("cannot set up the association: %s", strerror(-ret));
		return ret;
	}
	ret = connect_queue(s, 0, HOST_ADMIN_QSIZE, &s->admin);
	if (ret)
		return ret;
	ret = nvmf_host_enable(s->admin, &s->cap, &st);
	if (ret || st)
		return host_cmd_failed(s, "enabling the controller (Property Get/Set)", ret, st);
	ret = nvmf_host_identify_ctrl(s->admin, &s->ctrl, &st);
	if (ret || st)
		return host_cmd_failed(s, "Identify Controller", ret, st);
	nvmf_association_update(s->na, &s->ctrl, (unsigned int)NVMEV(NVME_CAP_MPSMIN, s->cap));
	s->last_admin_ns = host_now_ns();
	return 0;
}

unsigned int host_io_qsize_max(const struct host_session *s)
{
	unsigned int n = (unsigned int)NVMEV(NVME_CAP_MQES, s->cap) + 1; /* MQES: 0's based */
	unsigned int maxcmd = le16toh(s->ctrl.maxcmd);

	return maxcmd != 0 && maxcmd < n ? maxcmd : n;
}

int host_connect_io(struct host_session *s, unsigned int n, uint16_t qsize)
{
	uint16_t nsq, ncq;
	nvme_status_t st;
	int ret;

	ret = nvmf_host_set_num_queues(s->admin, (uint16_t)n, (uint16_t)n, &nsq, &ncq, &st);
	if (ret || st)
		return host_cmd_failed(s, "Set Features Number of Queues", ret, st);
	if (nsq < n || ncq < n) {
		warnx("%s: asked for %u I/O queues, the controller grants %u", s->addr.where, n,
		      nsq < ncq ? nsq : ncq);
		return -ENOSPC;
	}
	s->io = calloc(n, sizeof(*s->io));
	if (s->io == NULL) {
		warnx("out of memory");
		return -ENOMEM;
	}
	for (; s->nio < n; s->nio++) {
		ret = connect_queue(s, (uint16_t)(s->nio + 1), qsize, &s->io[s->nio]);
		if (ret)
			return ret;
	}
	return 0;
}

int host_detach_io(struct host_session *s)
{
	int ret;

	s->tcpq = calloc(s->nio ? s->nio : 1, sizeof(*s->tcpq));
	if (s->tcpq == NULL) {
		warnx("out of memory");
		return -ENOMEM;
	}
	for (; s->ntcpq < s->nio; s->ntcpq++) {
		ret = nvmf_tcp_qpair_detach(s->io[s->ntcpq], &s->tcpq[s->ntcpq]);
		if (ret) {
			warnx("%s: queue %u: cannot detach the connection: %s", s->addr.where,
			      s->ntcpq + 1, strerror(-ret));
			return ret;
		}
		s->io[s->ntcpq] = NULL;
	}
	return 0;
}

uint64_t host_keep_alive_due(const struct host_session *s)
{
	return s->o->ap.kato_ms ? s->last_admin_ns + (uint64_t)s->o->ap.kato_ms * 500000 : 0;
}

int host_keep_alive(struct host_session *s)
{
	uint64_t due = host_keep_alive_due(s);
	nvme_status_t st;
	int ret;

	if (due == 0 || host_now_ns() < due)
		return 0;
	ret = nvmf_host_keep_alive(s->admin, &st);
	if (ret || st)
		return host_cmd_failed(s, "Keep Alive", ret, st);
	s->last_admin_ns = host_now_ns();
	return 0;
}

int host_open_namespace(struct host_session *s, uint32_t nsid, uint64_t *nsze, uint32_t *lbs)
{
	struct nvme_id_ns ns;
	const char *why;
	nvme_status_t st;
	char what[64];
	int ret;

	ret = nvmf_host_identify_ns(s->admin, nsid, &ns, &st);
	if (ret || st) {
		snprintf(what, sizeof(what), "namespace %u: Identify Namespace", nsid);
		return host_cmd_failed(s, what, ret, st);
	}
	*nsze = le64toh(ns.nsze);
	if (*nsze == 0) {
		warnx("%s: namespace %u is not active in %s", s->addr.where, nsid, s->subnqn);
		return -ENXIO;
	}
	*lbs = ns_block_size(&ns, &why);
	if (*lbs == 0) {
		warnx("%s: namespace %u cannot be used: %s", s->addr.where, nsid, why);
		return -ENXIO;
	}
	return 0;
}

void host_session_close(struct host_session *s)
{
	nvme_status_t st;

	for (unsigned int i = 0; i < s->nio; i++)
		nvmf_qpair_free(s->io[i]);
	for (unsigned int i = 0; i < s->ntcpq; i++) {
		close(s->tcpq[i].fd);
		nvmf_tcp_queue_info_fini(&s->tcpq[i]);
	}
	free(s->io);
	free(s->tcpq);
	s->io = NULL;
	s->tcpq = NULL;
	s->nio = s->ntcpq = 0;
	if (s->admin != NULL) {
		/* Best effort: a dead queue fails at once. */
		(void)nvmf_host_shutdown(s->admin, HOST_SHUTDOWN_MS, &st);
		nvmf_qpair_free(s->admin);
		s->admin = NULL;
	}
	nvmf_association_free(s->na);
	s->na = NULL;
}
