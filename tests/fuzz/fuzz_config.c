/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target: the configuration parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_target.h"

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
	free(text);
	return 0;
}
