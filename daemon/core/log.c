/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

enum log_level log_level = LOGL_INFO;

/* "<3>" prefixes are the syslog priorities journald reads from stderr. */
static const char *const prefix[] = {"<3>error: ", "<4>warning: ", "<6>", "<7>debug: "};

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	if (lvl > log_level)
		return;
	/* the "<N>" priority only where journald reads our stderr */
	n = snprintf(buf, sizeof(buf), "%s", prefix[lvl] + (getenv("JOURNAL_STREAM") ? 0 : 3));
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(buf);
	buf[n++] = '\n';
	/* one write per message: lines from different workers never interleave */
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void log_lines(enum log_level lvl, const char *text)
{
	while (text != NULL && *text != '\0') {
		size_t n = strcspn(text, "\n");
		/* "file:line: warning: what": the log's own prefix already says warning */
		const char *w = memmem(text, n, ": warning: ", 11);

		if (lvl == LOGL_WARN && w != NULL)
			log_msg(lvl, "%.*s: %.*s", (int)(w - text), text,
				(int)(n - (size_t)(w + 11 - text)), w + 11);
		else
			log_msg(lvl, "%.*s", (int)n, text);
		text += n + (text[n] == '\n');
	}
}
