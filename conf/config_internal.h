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

enum cfg_section_kind { SEC_NONE, SEC_GLOBAL, SEC_SUBSYS, SEC_NS, SEC_HOST, SEC_BAD };

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
	/* the file being read (cfg_load_file): its mode, to warn of inline secrets others read */
	bool have_mode;
	unsigned int file_mode;
};

/* The keys of each section, for "did you mean"; NULL-terminated. */
extern const char *const cfg_global_keys[];
extern const char *const cfg_subsys_keys[];
extern const char *const cfg_ns_keys[];
extern const char *const cfg_host_keys[];
extern const char *const cfg_section_kinds[];
/* "unknown key 'KEY' in [SECTION]", with the known key it is a slip for, or
 * the section it belongs in. */
void cfg_unknown_key(struct cfg_parser *ps, const char *key, const char *section,
		     const char *const *known);

void cfg_diag_vadd(struct cfg_diags *d, int line, bool warning, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
void cfg_error(struct cfg_parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A problem that does not stop the load: "file:line: warning: ...", also kept in
 * cfg->warnings when the file loads. */
void cfg_warn(struct cfg_parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* realloc arr to n + 1 elements of size, the new one zeroed; NULL (ps->oom) on failure. */
void *cfg_grow(struct cfg_parser *ps, void *arr, size_t n, size_t size);
/* Why nqn is not a valid configuration NQN, or NULL. */
const char *cfg_nqn_why(const char *nqn);

/* config_hosts.c: [host NQN] sections */
void cfg_start_host(struct cfg_parser *ps, const char *nqn, int line);
void cfg_host_key(struct cfg_parser *ps, const char *key, const char *value);
void cfg_validate_hosts(struct cfg_parser *ps);
void cfg_free_hosts(struct cfg_config *cfg);
void cfg_set_defaults(struct cfg_config *cfg);
void cfg_section_start(struct cfg_parser *ps, const char *name, int line);
void cfg_apply_key(struct cfg_parser *ps, const char *section, const char *key, const char *value);
void cfg_validate(struct cfg_parser *ps);
void cfg_parser_fini(struct cfg_parser *ps);
