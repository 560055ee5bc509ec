/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: the configuration parser on arbitrary bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_target.h"

/* A backing-store check that opens nothing: one warning per namespace. */
static void ns_check(void *arg, const struct cfg_config *cfg, const char *nqn,
		     const struct cfg_namespace *ns, struct cfg_diags *d)
{
	(void)arg;
	if (cfg == NULL)
		abort();
	if (ns->path[0] == '\0' || ns->path_line <= 0)
		abort(); /* called only for a namespace with a path, at its line */
	cfg_diag_add(d, ns->path_line, true, "namespace %u of %s", ns->nsid, nqn);
}

/* --check's report: in line order, an error for every refusal, none for a file that loads. */
static void check_report(const char *text)
{
	struct cfg_diags d = {0};
	struct cfg_config *cfg = NULL;
	int ret = cfg_check_string("fuzz.ini", text, ns_check, NULL, &cfg, &d);

	for (size_t i = 1; i < d.n; i++)
		if (d.d[i].line < d.d[i - 1].line)
			abort();
	if (ret == 0 && (cfg == NULL || d.nerrors != 0))
		abort();
	if (ret == -EINVAL && (cfg != NULL || d.nerrors == 0))
		abort();
	cfg_free(cfg);
	cfg_diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_config *cfg = NULL;
	char err[2048];
	char *text;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* an embedded NUL ends the text, as it would a file's string */
	if (cfg_load_string("fuzz.ini", text, &cfg, err, sizeof(err)) == 0) {
		/* a config that loads is whole: every namespace has a path, every
		 * subsystem a serial, every listener a port */
		for (size_t i = 0; i < cfg->nsubsys; i++) {
			if (cfg->subsys[i].serial[0] == '\0')
				abort();
			for (size_t j = 0; j < cfg->subsys[i].nns; j++)
				if (cfg->subsys[i].ns[j].path[0] == '\0')
					abort();
		}
		for (size_t i = 0; i < cfg->nlisteners; i++)
			if (cfg->listeners[i].port == 0)
				abort();
		cfg_free(cfg);
	} else if (err[0] == '\0') {
		abort(); /* a failed load always says why */
	}
	check_report(text);
	free(text);
	return 0;
}
