/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmfd --check: every problem of a configuration file in one run, in line
 * order, as "file:line: message" (warnings as "file:line: warning: ..."):
 * its values and cross-references (conf/), and each namespace's backing
 * store opened as the daemon would (a missing or unreadable file, a RAM
 * size this machine cannot map), at the line of its path key.
 */
#pragma once

/* path NULL: the embedded default. Returns the exit status: 0 valid, 1 not. */
int check_config(const char *path);
