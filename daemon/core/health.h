/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Health counters that survive restarts, like a drive's: state_dir/health
 * holds the target's power cycles, power-on seconds and unsafe shutdowns,
 * and each subsystem's and namespace's SMART counters and error log
 * entry count. A start counts a power cycle, and an unsafe shutdown when
 * the last run did not stop cleanly (the file says "clean 0" while nvmfd
 * runs). The file is replaced atomically (write, fsync, rename, fsync the
 * directory): at start, every HEALTH_SAVE_S seconds, after a reload and at
 * a graceful stop. Main thread only.
 *
 * Entries for subsystems or namespaces the configuration no longer has are
 * kept as they are (a configuration mistake must not wipe a history); a
 * namespace removed by a reload is folded into its subsystem's counters.
 */
#pragma once

#include <stdbool.h>

#include "registry.h"

#define HEALTH_SAVE_S 60

struct health;

/*
 * Read state_dir/health (a missing file is a first start), count this
 * start, give every subsystem and namespace of t its stored counters and
 * write the file back with "clean 0". Without a usable state_dir the
 * counters start from zero and are not kept (logged once): *out is still
 * set, and every other call works.
 */
int health_open(struct target *t, const char *state_dir, struct health **out);
/* A namespace or subsystem a reload adds: its stored counters, if any. */
void health_apply_ns(struct health *h, const char *nqn, struct ns *ns);
void health_apply_subsys(struct health *h, struct subsys *s);
/* A reload removed s (its commands have ended): keep its counters, total, as they are. */
void health_retire_subsys(struct health *h, const struct subsys *s,
			  const struct smart_counts *total);
/* Write the counters as they are now; clean at a graceful stop. 0 or -errno. */
int health_save(struct health *h, struct target *t, bool clean);
void health_close(struct health *h);
