/* SPDX-License-Identifier: BSD-2-Clause */
/* What the host tools share (common.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host_session.h"

int tool_parse_address(struct tool_addr *a, const char *arg, const char *default_port)
{
	const char *port = NULL, *end;
	size_t hlen;

	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -EINVAL;
		hlen = (size_t)(end - arg - 1);
		arg++;
		port = end[1] == ':' ? end + 2 : NULL;
	} else if ((end = strchr(arg, ':')) != NULL && strchr(end + 1, ':') == NULL) {
		hlen = (size_t)(end - arg);
		port = end + 1;
	} else {
		hlen = strlen(arg); /* no port, or a bare IPv6 address */
	}
	if (hlen == 0 || hlen >= sizeof(a->host) || (port != NULL && *port == '\0') ||
	    (port != NULL && strlen(port) >= sizeof(a->port)))
		return -EINVAL;
	memcpy(a->host, arg, hlen);
	a->host[hlen] = '\0';
	snprintf(a->port, sizeof(a->port), "%s", port ? port : default_port);
	snprintf(a->where, sizeof(a->where), strchr(a->host, ':') ? "[%s]:%s" : "%s:%s",
		 a->host, a->port);
	return 0;
}
