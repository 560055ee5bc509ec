/* SPDX-License-Identifier: BSD-2-Clause */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len, msglen;
	socklen_t salen;
	ssize_t n;
	int fd, ret = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (msg == NULL)
		return -EINVAL;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2 || len > sizeof(sa.sun_path))
		return -EINVAL;
	if (path[0] == '/' && len == sizeof(sa.sun_path))
		return -EINVAL; /* no room for the terminating NUL */
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: no NUL terminator, length-delimited */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	msglen = strlen(msg);
	do
		n = sendto(fd, msg, msglen, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != msglen)
		ret = -EMSGSIZE;
	close(fd);
	return ret;
}
