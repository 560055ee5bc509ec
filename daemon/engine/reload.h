/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Live reload (SIGHUP), main thread only. The new configuration is read
 * and everything it adds is opened first (namespaces, listeners); any
 * error leaves the target as it was. Then, without stopping a worker:
 *
 *  - subsystems, namespaces, allowed hosts and listeners are swapped in
 *    (registry.h: new immutable tables published, old ones freed once no
 *    worker or command can hold them);
 *  - the controllers of a changed subsystem get a Namespace Attribute
 *    Changed event and the Changed Namespace List log; discovery
 *    controllers a Discovery Log Page Change event, with the generation
 *    counter moved;
 *  - controllers of a removed subsystem, or of a host no longer allowed,
 *    end; so do connections on a removed listener;
 *  - removed namespaces are closed once their commands have ended, and
 *    their SMART counters stay in their subsystem's.
 *
 * What cannot change while running (workers, transport limits, state_dir,
 * a subsystem's serial and model) keeps its old value, with a warning.
 */
#pragma once

#include <stdbool.h>

#include "health.h"
#include "registry.h"

/*
 * Reload from path (NULL: the embedded default). verbose: -v was given
 * (log_level stays debug). Returns 0 when the new configuration is served
 * (or nothing changed), or -errno with the reason logged.
 */
int reload_config(struct target *t, struct health *h, const char *path, bool verbose);

/* Finish what a reload left waiting (commands on removed namespaces). */
void reload_poll(struct target *t, struct health *h);

/*
 * At exit: free what reloads left (after workers_stop()), before the last
 * health_save(): a subsystem removed while old commands still ran gets
 * its counters into h here.
 */
void reload_fini(struct target *t, struct health *h);
