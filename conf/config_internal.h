/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the configuration parser's files; not for other modules. */
#pragma once

#include "config.h"

#define CFG_FILE_MAX (1 << 20)

/* A namespace section seen before (or after) its subsystem's section. */
struct cfg_pending_ns {
	char subnqn[CFG_NQN_MAX + 1];
	struct cfg_namespace ns;
};

enum cfg_section_kind { SEC_NONE, SEC_GLOBAL, SEC_SUBSYS, SEC_NS, SEC_BAD };

struct cfg_parser {
	struct cfg_config *cfg;
	const char *text;
	size_t text_len;
	size_t pos;
	int lineno;
	char *err;
	size_t errlen;
	int nerrors;
	bool oom;
	/* the section being read */
	enum cfg_section_kind kind;
	size_t cur; /* index into cfg->subsys or pending */
	bool saw_global;
	bool discovery_listen_set;
	int conn_buf_line; /* where max_buffers_per_connection was set (0: default) */
	size_t npending;
	struct cfg_pending_ns *pending;
};

void cfg_error(struct cfg_parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_set_defaults(struct cfg_config *cfg);
void cfg_section_start(struct cfg_parser *ps, const char *name, int line);
void cfg_apply_key(struct cfg_parser *ps, const char *section, const char *key, const char *value);
void cfg_validate(struct cfg_parser *ps);
void cfg_parser_fini(struct cfg_parser *ps);
