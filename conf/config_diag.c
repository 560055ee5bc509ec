/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The problems of a configuration file, kept as (line, error or warning,
 * message) so that one run reports all of them in line order, whichever
 * pass found them (a value, a cross-reference, a backing store); and the
 * "did you mean" of a misspelled key or section name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

void cfg_diag_vadd(struct cfg_diags *d, int line, bool warning, const char *fmt, va_list ap)
{
	struct cfg_diag *grown;
	char *msg;
	int n;

	if (warning)
		d->nwarnings++;
	else
		d->nerrors++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		grown = realloc(d->d, cap * sizeof(*grown));
		if (grown == NULL) {
			d->oom = true;
			return;
		}
		d->d = grown;
		d->cap = cap;
	}
	n = vasprintf(&msg, fmt, ap);
	if (n < 0) {
		d->oom = true;
		return;
	}
	d->d[d->n++] = (struct cfg_diag){.line = line, .warning = warning, .msg = msg};
}

void cfg_diag_add(struct cfg_diags *d, int line, bool warning, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag_vadd(d, line, warning, fmt, ap);
	va_end(ap);
}

/* Line order; the order they were found in within a line (a stable sort). */
void cfg_diags_sort(struct cfg_diags *d)
{
	for (size_t i = 1; i < d->n; i++) {
		struct cfg_diag x = d->d[i];
		size_t j = i;

		for (; j > 0 && d->d[j - 1].line > x.line; j--)
			d->d[j] = d->d[j - 1];
		d->d[j] = x;
	}
}

int cfg_diag_format(const struct cfg_diag *g, const char *source, char *buf, size_t len)
{
	char where[32] = "";

	if (g->line > 0)
		snprintf(where, sizeof(where), ":%d", g->line);
	return snprintf(buf, len, "%s%s: %s%s", source, where, g->warning ? "warning: " : "",
			g->msg);
}

void cfg_diags_format(const struct cfg_diags *d, const char *source, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < d->n && used + 1 < len; i++) {
		int n = cfg_diag_format(&d->d[i], source, buf + used, len - used);

		if (n < 0 || (size_t)n >= len - used - 1) {
			buf[used] = '\0'; /* no half line */
			break;
		}
		used += (size_t)n;
		buf[used++] = '\n';
		buf[used] = '\0';
	}
	if (d->oom && used + 1 < len)
		snprintf(buf + used, len - used, "%s: out of memory\n", source);
}

void cfg_diags_free(struct cfg_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->d[i].msg);
	free(d->d);
	memset(d, 0, sizeof(*d));
}

/*
 * Optimal string alignment distance (Levenshtein with adjacent
 * transpositions): "lisetn" is one edit from "listen". Names are short
 * (keys, section kinds), longer ones are not compared.
 */
#define NAME_MAX_CMP 64

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[NAME_MAX_CMP + 1][NAME_MAX_CMP + 1];

	if (la > NAME_MAX_CMP || lb > NAME_MAX_CMP)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *cfg_suggest(const char *word, const char *const *names)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(word);

	for (size_t i = 0; names[i] != NULL; i++) {
		size_t d = edit_distance(word, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	/* close enough to be a slip of the keyboard: at most a third of the
	 * word, and at most 3 edits ("blocksize", "readonly", "alow_host") */
	if (best == NULL || best_d == 0 || best_d > 3 || best_d * 3 > (len > 3 ? len : 3))
		return NULL;
	return best;
}
