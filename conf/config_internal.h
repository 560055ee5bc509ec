/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the configuration parser's files; not for other modules. */
#pragma once

#include <stdarg.h>

#include "config.h"

#define CFG_FILE_MAX (1 << 20)

/* A namespace section seen before (or after) its subsystem's section. */
struct cfg_pending_ns {
	char subnqn[CFG_NQN_MAX + 1];
	struct cfg_namespace ns;
};

enum cfg_section_kind { SEC_NONE, SEC_GLOBAL, SEC_SUBSYS, SEC_NS, SEC_BAD };

/* A key seen in the current section: a second one is reported. */
struct cfg_seen_key {
	char name[CFG_LINE_MAX + 1];
	int line;
};

struct cfg_parser {
	struct cfg_config *cfg;
	const char *text;
	size_t text_len;
	size_t pos;
	int lineno;
	struct cfg_diags *diags;
	bool oom;
	cfg_ns_check_fn ns_check; /* --check: the backing stores too */
	void *ns_check_arg;
	/* the section being read */
	enum cfg_section_kind kind;
	size_t cur; /* index into cfg->subsys or pending */
	bool saw_global;
	bool discovery_listen_set;
	int conn_buf_line; /* where max_buffers_per_connection was set (0: default) */
	int icd_line;	   /* where in_capsule_data was set (0: default) */
	int mdts_line;	   /* where max_transfer was set (0: default) */
	int global_line;   /* the [nvmfd] header (0: none) */
	bool listen_seen;  /* a listen key, even a wrong one: no "no listen" then */
	size_t npending;
	struct cfg_pending_ns *pending;
	/* [subsystem NQN] headers that were refused: their namespaces are not
	 * reported again as having no subsystem */
	size_t nbad_subsys;
	char (*bad_subsys)[CFG_LINE_MAX + 1];
	/* the keys of the current section */
	size_t nseen;
	struct cfg_seen_key *seen;
};

/* The keys of each section, for "did you mean"; NULL-terminated. */
extern const char *const cfg_global_keys[];
extern const char *const cfg_subsys_keys[];
extern const char *const cfg_ns_keys[];
extern const char *const cfg_section_kinds[];

void cfg_diag_vadd(struct cfg_diags *d, int line, bool warning, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
void cfg_error(struct cfg_parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_warning(struct cfg_parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_set_defaults(struct cfg_config *cfg);
void cfg_section_start(struct cfg_parser *ps, const char *name, int line);
void cfg_apply_key(struct cfg_parser *ps, const char *section, const char *key, const char *value);
void cfg_validate(struct cfg_parser *ps);
void cfg_parser_fini(struct cfg_parser *ps);
