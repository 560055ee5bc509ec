/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram to the AF_UNIX socket named in $NOTIFY_SOCKET (an abstract
 * socket when the name starts with '@').
 */
#pragma once

/*
 * Send MSG ("READY=1", "STATUS=...", "STOPPING=1", newline-separated
 * assignments). Returns 0, also when NOTIFY_SOCKET is unset (not run by
 * systemd: nothing to do), or a negative errno.
 */
int notify_send(const char *msg);
