/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * INI -> struct cfg_config. inih calls handle_key() for every key; section
 * headers are seen first by our line reader (read_line), which also counts
 * lines so that every message carries file:line, and catches lines longer
 * than inih's buffer (Debian builds it with 200 bytes) before inih splits
 * them into a truncated value and a phantom line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_internal.h"

void cfg_error(struct cfg_parser *ps, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag_vadd(ps->diags, line, false, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_parser *ps, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag_vadd(ps->diags, line, true, fmt, ap);
	va_end(ap);
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/* A "[...]" line: remember the section so that empty sections exist too. */
static void see_section_line(struct cfg_parser *ps, const char *line)
{
	char name[CFG_LINE_MAX + 2];
	const char *end;

	while (isspace((unsigned char)*line))
		line++;
	if (*line != '[')
		return;
	end = strchr(line, ']');
	if (end == NULL)
		return; /* inih reports it as a parse error on this line */
	snprintf(name, sizeof(name), "%.*s", (int)(end - line - 1), line + 1);
	trim(name);
	cfg_section_start(ps, name, ps->lineno);
}

/*
 * A line that is neither blank, a comment, a [section] nor key = value is
 * reported here and handed to inih as a comment: inih would name only the
 * first such line of a file. A line that starts with white space may
 * continue the previous value (inih's multi-line values): left to inih.
 */
static void syntax_check(struct cfg_parser *ps, char *buf)
{
	const char *p = buf;

	if (isspace((unsigned char)*p)) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '[' && strchr(p, ']') == NULL) {
			cfg_error(ps, ps->lineno, "'[' without ']'");
			buf[0] = ';';
		}
		return;
	}
	if (*p == '\0' || *p == ';' || *p == '#')
		return;
	if (*p == '[') {
		if (strchr(p, ']') == NULL) {
			cfg_error(ps, ps->lineno, "'[' without ']'");
			buf[0] = ';';
		}
		return;
	}
	if (strpbrk(p, "=:") == NULL || *p == '=' || *p == ':') {
		cfg_error(ps, ps->lineno,
			  "syntax error (expected [section], key = value, or a ; comment)");
		buf[0] = ';';
	}
}

/* fgets-like reader handed to ini_parse_stream(). */
static char *read_line(char *buf, int size, void *arg)
{
	struct cfg_parser *ps = arg;
	size_t len;
	int c;

	if (ps->pos >= ps->text_len)
		return NULL;
	ps->lineno++;
	len = 0;
	while (ps->pos < ps->text_len && ps->text[ps->pos] != '\n' && len + 2 < (size_t)size)
		buf[len++] = ps->text[ps->pos++];
	if (ps->pos < ps->text_len && ps->text[ps->pos] != '\n') {
		cfg_error(ps, ps->lineno, "line longer than %d characters", CFG_LINE_MAX);
		while (ps->pos < ps->text_len && ps->text[ps->pos] != '\n')
			ps->pos++;
		len = 0;
		buf[len++] = ';'; /* hand inih a comment instead of the truncated line */
	}
	if (ps->pos < ps->text_len)
		ps->pos++; /* the newline */
	buf[len++] = '\n';
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		c = (unsigned char)buf[i];
		if (c == '\0' || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
			cfg_error(ps, ps->lineno, "control character in line");
			buf[0] = ';';
			break;
		}
	}
	if (buf[0] != ';')
		syntax_check(ps, buf);
	see_section_line(ps, buf);
	return buf;
}

static int handle_key(void *arg, const char *section, const char *name, const char *value)
{
	struct cfg_parser *ps = arg;

	cfg_apply_key(ps, section, name, value);
	return 1; /* errors are collected; inih must not add its own */
}

/*
 * Parse, then validate the whole file even when lines were wrong (so that
 * one run reports everything), then sort what was found by line. Returns
 * the configuration in *out only when there is no error.
 */
static int parse(const char *name, const char *text, size_t len, const struct stat *st,
		 cfg_ns_check_fn ns_check, void *arg, struct cfg_config **out,
		 struct cfg_diags *diags)
{
	struct cfg_parser ps = {0};
	int ret;

	if (st != NULL) { /* to warn of inline secrets others can read */
		ps.have_mode = true;
		ps.file_mode = st->st_mode;
	}
	ps.cfg = calloc(1, sizeof(*ps.cfg));
	if (ps.cfg == NULL)
		return -ENOMEM;
	snprintf(ps.cfg->source, sizeof(ps.cfg->source), "%s", name);
	cfg_set_defaults(ps.cfg);
	ps.text = text;
	ps.text_len = len;
	ps.diags = diags;
	ps.ns_check = ns_check;
	ps.ns_check_arg = arg;

	ret = ini_parse_stream(read_line, &ps, handle_key, &ps);
	if (ret > 0)
		cfg_error(&ps, ret,
			  "syntax error (expected [section], key = value, or a ; comment)");
	else if (ret < 0)
		ps.oom = true;
	if (!ps.oom)
		cfg_validate(&ps);
	cfg_parser_fini(&ps);
	cfg_diags_sort(diags);
	if (ps.oom || diags->oom)
		ret = -ENOMEM;
	else if (diags->nerrors > 0)
		ret = -EINVAL;
	else
		ret = 0;
	if (ret == 0 && diags->n > 0) {
		/* no error: every message is a warning; for the daemon's log, as
		 * "file:line: warning: ..." lines */
		size_t size = 1;

		for (size_t i = 0; i < diags->n; i++)
			size += strlen(diags->d[i].msg) + strlen(name) + 32;
		ps.cfg->warnings = malloc(size);
		if (ps.cfg->warnings != NULL)
			cfg_diags_format(diags, name, ps.cfg->warnings, size);
		else
			ret = -ENOMEM;
	}
	if (ret || out == NULL)
		cfg_free(ps.cfg);
	else
		*out = ps.cfg;
	return ret;
}

/* Errors (and the warnings among them) into errbuf; a file that loads keeps its
 * warnings in cfg->warnings, errbuf empty. */
static int load(const char *name, const char *text, size_t len, const struct stat *st,
		struct cfg_config **out, char *errbuf, size_t errlen)
{
	struct cfg_diags diags = {0};
	int ret = parse(name, text, len, st, NULL, NULL, out, &diags);

	if (ret != 0)
		cfg_diags_format(&diags, name, errbuf, errlen);
	else if (errlen > 0)
		errbuf[0] = '\0';
	if (ret == -ENOMEM && errlen > 0 && errbuf[0] == '\0')
		snprintf(errbuf, errlen, "%s: out of memory\n", name);
	cfg_diags_free(&diags);
	return ret;
}

int cfg_load_string(const char *name, const char *text, struct cfg_config **out, char *errbuf,
		    size_t errlen)
{
	return load(name, text, strlen(text), NULL, out, errbuf, errlen);
}

/* The whole file into *text (NUL-terminated); a message in errbuf if it cannot be read. */
static int read_file(const char *path, char **text, size_t *len, struct stat *st, bool *have_st,
		     char *errbuf, size_t errlen)
{
	char *buf = NULL;
	size_t n_all = 0;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		ret = -errno;
		snprintf(errbuf, errlen, "%s", strerror(-ret));
		return ret;
	}
	for (;;) {
		char chunk[4096];
		size_t n = fread(chunk, 1, sizeof(chunk), f);
		char *grown;

		if (n == 0)
			break;
		if (n_all + n > CFG_FILE_MAX) {
			snprintf(errbuf, errlen, "larger than %d bytes", CFG_FILE_MAX);
			ret = -EFBIG;
			break;
		}
		grown = realloc(buf, n_all + n + 1);
		if (grown == NULL) {
			ret = -ENOMEM;
			snprintf(errbuf, errlen, "out of memory");
			break;
		}
		buf = grown;
		memcpy(buf + n_all, chunk, n);
		n_all += n;
	}
	if (ret == 0 && ferror(f)) {
		ret = -EIO;
		snprintf(errbuf, errlen, "read error");
	}
	*have_st = fstat(fileno(f), st) == 0;
	fclose(f);
	if (ret == 0 && buf == NULL) {
		buf = calloc(1, 1);
		if (buf == NULL) {
			ret = -ENOMEM;
			snprintf(errbuf, errlen, "out of memory");
		}
	}
	if (ret) {
		if (buf != NULL)
			explicit_bzero(buf, n_all); /* it may hold inline secrets */
		free(buf);
		return ret;
	}
	buf[n_all] = '\0';
	*text = buf;
	*len = n_all;
	return 0;
}

int cfg_load_file(const char *path, struct cfg_config **out, char *errbuf, size_t errlen)
{
	char why[128], *text;
	struct stat st;
	bool have_st;
	size_t len;
	int ret = read_file(path, &text, &len, &st, &have_st, why, sizeof(why));

	if (ret) {
		snprintf(errbuf, errlen, "%s: %s\n", path, why);
		return ret;
	}
	ret = load(path, text, len, have_st ? &st : NULL, out, errbuf, errlen);
	explicit_bzero(text, len); /* it may hold inline secrets */
	free(text);
	return ret;
}

int cfg_check_string(const char *name, const char *text, cfg_ns_check_fn ns_check, void *arg,
		     struct cfg_config **out, struct cfg_diags *diags)
{
	return parse(name, text, strlen(text), NULL, ns_check, arg, out, diags);
}

int cfg_check_file(const char *path, cfg_ns_check_fn ns_check, void *arg, struct cfg_config **out,
		   struct cfg_diags *diags)
{
	char why[128], *text;
	struct stat st;
	bool have_st;
	size_t len;
	int ret = read_file(path, &text, &len, &st, &have_st, why, sizeof(why));

	if (ret) {
		cfg_diag_add(diags, 0, false, "%s", why);
		return ret;
	}
	ret = parse(path, text, len, have_st ? &st : NULL, ns_check, arg, out, diags);
	explicit_bzero(text, len);
	free(text);
	return ret;
}

static const char default_text[] =
	"[nvmfd]\n"
	"listen = 127.0.0.1:4420\n"
	"discovery_listen = 127.0.0.1:8009\n"
	"state_dir = /var/lib/nvmfd\n"
	"[subsystem " CFG_DEFAULT_NQN "]\n"
	"allow_host = any\n"
	"[namespace " CFG_DEFAULT_NQN " 1]\n"
	"path = ram:1G\n"
	/* a demo: memory as the hosts write, so it starts on any machine */
	"prealloc = no\n";

int cfg_load_default(struct cfg_config **out, char *errbuf, size_t errlen)
{
	return load("<embedded default>", default_text, sizeof(default_text) - 1, NULL, out, errbuf,
		    errlen);
}

int cfg_check_default(cfg_ns_check_fn ns_check, void *arg, struct cfg_config **out,
		      struct cfg_diags *diags)
{
	return parse("<embedded default>", default_text, sizeof(default_text) - 1, NULL, ns_check,
		     arg, out, diags);
}

void cfg_free(struct cfg_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nsubsys; i++) {
		free(cfg->subsys[i].hosts);
		free(cfg->subsys[i].ns);
		free(cfg->subsys[i].ports);
	}
	free(cfg->referrals);
	free(cfg->subsys);
	free(cfg->listeners);
	cfg_free_hosts(cfg);
	free(cfg->warnings);
	free(cfg);
}

const struct cfg_subsystem *cfg_find_subsystem(const struct cfg_config *cfg, const char *nqn)
{
	for (size_t i = 0; i < cfg->nsubsys; i++)
		if (strcmp(cfg->subsys[i].nqn, nqn) == 0)
			return &cfg->subsys[i];
	return NULL;
}
