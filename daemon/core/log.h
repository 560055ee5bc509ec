/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging to stderr (journald keeps it), with a level. Messages from the
 * I/O path carry "w<worker> c<conn> q<qid>" (conn_*() macros in conn.h) and
 * are logged once, where the decision is made.
 */
#pragma once

#include <stdarg.h>

enum log_level { LOGL_ERR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

extern enum log_level log_level;

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Each line of text as a message of its own (configuration warnings, errors). */
void log_lines(enum log_level lvl, const char *text);

#define log_err(...)  log_msg(LOGL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)                                    \
	do {                                              \
		if (log_level >= LOGL_DEBUG)              \
			log_msg(LOGL_DEBUG, __VA_ARGS__); \
	} while (0)
