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
	size_t used = strlen(ps->err);
	va_list ap;
	int n;

	ps->nerrors++;
	if (used + 1 >= ps->errlen)
		return;
	n = snprintf(ps->err + used, ps->errlen - used, "%s:%d: ", ps->cfg->source, line);
	if (n < 0 || (size_t)n >= ps->errlen - used)
		return;
	used += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(ps->err + used, ps->errlen - used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= ps->errlen - used - 1)
		return;
	used += (size_t)n;
	ps->err[used] = '\n';
	ps->err[used + 1] = '\0';
}

void cfg_warn(struct cfg_parser *ps, int line, const char *fmt, ...)
{
	struct cfg_config *cfg = ps->cfg;
	size_t used = cfg->warnings ? strlen(cfg->warnings) : 0;
	char msg[768];
	char *grown;
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "%s:%d: warning: ", cfg->source, line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	grown = realloc(cfg->warnings, used + strlen(msg) + 2);
	if (grown == NULL) {
		ps->oom = true;
		return;
	}
	cfg->warnings = grown;
	sprintf(grown + used, "%s\n", msg);
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
	see_section_line(ps, buf);
	return buf;
}

static int handle_key(void *arg, const char *section, const char *name, const char *value)
{
	struct cfg_parser *ps = arg;

	cfg_apply_key(ps, section, name, value);
	return 1; /* errors are collected; inih must not add its own */
}

static int load(const char *name, const char *text, size_t len, const struct stat *st,
		struct cfg_config **out, char *errbuf, size_t errlen)
{
	struct cfg_parser ps = {0};
	int ret;

	if (st != NULL) {
		ps.have_mode = true;
		ps.file_mode = st->st_mode;
	}
	if (errlen > 0)
		errbuf[0] = '\0';
	ps.cfg = calloc(1, sizeof(*ps.cfg));
	if (ps.cfg == NULL)
		return -ENOMEM;
	snprintf(ps.cfg->source, sizeof(ps.cfg->source), "%s", name);
	cfg_set_defaults(ps.cfg);
	ps.text = text;
	ps.text_len = len;
	ps.err = errbuf;
	ps.errlen = errlen;

	ret = ini_parse_stream(read_line, &ps, handle_key, &ps);
	if (ret > 0)
		cfg_error(&ps, ret,
			  "syntax error (expected [section], key = value, or a ; comment)");
	else if (ret < 0)
		cfg_error(&ps, 0, "cannot parse (out of memory)");
	if (ps.nerrors == 0)
		cfg_validate(&ps);
	cfg_parser_fini(&ps);
	if (ps.nerrors > 0 || ps.oom) {
		if (ps.oom && ps.nerrors == 0)
			cfg_error(&ps, 0, "out of memory");
		cfg_free(ps.cfg);
		return ps.oom ? -ENOMEM : -EINVAL;
	}
	*out = ps.cfg;
	return 0;
}

int cfg_load_string(const char *name, const char *text, struct cfg_config **out, char *errbuf,
		    size_t errlen)
{
	return load(name, text, strlen(text), NULL, out, errbuf, errlen);
}

int cfg_load_file(const char *path, struct cfg_config **out, char *errbuf, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (f == NULL) {
		ret = -errno;
		snprintf(errbuf, errlen, "%s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = 0;
	for (;;) {
		char chunk[4096];
		size_t n = fread(chunk, 1, sizeof(chunk), f);
		char *grown;

		if (n == 0)
			break;
		if (len + n > CFG_FILE_MAX) {
			snprintf(errbuf, errlen, "%s: larger than %d bytes\n", path, CFG_FILE_MAX);
			ret = -EFBIG;
			break;
		}
		grown = realloc(text, len + n + 1);
		if (grown == NULL) {
			ret = -ENOMEM;
			break;
		}
		text = grown;
		memcpy(text + len, chunk, n);
		len += n;
	}
	if (ret == 0 && ferror(f)) {
		ret = -EIO;
		snprintf(errbuf, errlen, "%s: read error\n", path);
	}
	if (ret == 0 && text == NULL)
		text = calloc(1, 1);
	if (ret == 0 && text == NULL)
		ret = -ENOMEM;
	if (ret == 0) {
		text[len] = '\0';
		ret = load(path, text, len, fstat(fileno(f), &st) == 0 ? &st : NULL, out, errbuf,
			   errlen);
	}
	fclose(f);
	if (text != NULL)
		explicit_bzero(text, len); /* it may hold inline secrets */
	free(text);
	return ret;
}

int cfg_load_default(struct cfg_config **out, char *errbuf, size_t errlen)
{
	static const char text[] = "[nvmfd]\n"
				   "listen = 127.0.0.1:4420\n"
				   "discovery_listen = 127.0.0.1:8009\n"
				   "state_dir = /var/lib/nvmfd\n"
				   "[subsystem " CFG_DEFAULT_NQN "]\n"
				   "allow_host = any\n"
				   "[namespace " CFG_DEFAULT_NQN " 1]\n"
				   "path = ram:1G\n";

	return load("<embedded default>", text, sizeof(text) - 1, NULL, out, errbuf, errlen);
}

void cfg_free(struct cfg_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nsubsys; i++) {
		free(cfg->subsys[i].hosts);
		free(cfg->subsys[i].ns);
	}
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
