/* SPDX-License-Identifier: BSD-2-Clause */
/* What the host tools (nvmfdd, nvmf-stat) share: the address argument. */
#pragma once

#include <stddef.h>

struct tool_addr {
	char host[256]; /* no brackets */
	char port[32];
	char where[300]; /* "host:port" or "[v6]:port", for messages */
};

/*
 * "host:port", "[v6]:port", "host", "[v6]", or a bare IPv6 address; the port
 * defaults to default_port. 0, or -EINVAL (a is then unspecified).
 */
int tool_parse_address(struct tool_addr *a, const char *arg, const char *default_port);
