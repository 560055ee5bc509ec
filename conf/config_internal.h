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

enum cfg_section_kind { SEC_NONE, SEC_GLOBAL, SEC_SUBSYS, SEC_NS, SEC_HOST, SEC_BAD };

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
	/* the file being read (cfg_load_file): its mode, to warn of inline secrets others read */
	bool have_mode;
	unsigned int file_mode;
};

void cfg_error(struct cfg_parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A problem that does not stop the load: kept in cfg->warnings. */
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
