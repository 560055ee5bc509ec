/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The bare request/response round trip over loopback TCP that the bench
 * (run.sh) compares QD1 read latency with: the client sends a 72-byte
 * request (a CapsuleCmd), the server answers 4120 bytes (a C2HData PDU
 * with 4 KiB of data and the SUCCESS flag), with blocking sockets and
 * TCP_NODELAY, the least a 4 KiB NVMe/TCP read could cost.
 *
 *   pingpong server PORT CPU
 *   pingpong client PORT CPU ROUNDS     -> JSON: avg, p50, p99, p99.9 in us
 *
 * Built and run by tests/bench/run.sh only; not a test.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ 72
#define RSP 4120

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
}

static int full(int s, char *buf, size_t len, int send_it)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send_it ? send(s, buf + done, len - done, MSG_NOSIGNAL)
				    : recv(s, buf + done, len - done, 0);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static char buf[RSP];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1, s, c;

	if (argc < 4)
		return 2;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pin(atoi(argv[3]));
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(argv[1], "server") == 0) {
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1)) {
			perror("bind");
			return 1;
		}
		c = accept(s, NULL, NULL);
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (full(c, buf, REQ, 0) == 0 && full(c, buf, RSP, 1) == 0)
			;
		return 0;
	}
	if (argc < 5)
		return 2;
	long rounds = atol(argv[4]);
	uint64_t *lat = calloc((size_t)rounds, sizeof(*lat)), sum = 0;

	for (int i = 0; connect(s, (struct sockaddr *)&sa, sizeof(sa)); i++) {
		if (i == 100) {
			perror("connect");
			return 1;
		}
		usleep(20000);
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (long i = -rounds / 10; i < rounds; i++) { /* a tenth as warm-up */
		uint64_t t = now_ns();

		if (full(s, buf, REQ, 1) || full(s, buf, RSP, 0))
			return 1;
		if (i >= 0)
			lat[i] = now_ns() - t;
	}
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp);
	for (long i = 0; i < rounds; i++)
		sum += lat[i];
	printf("{\"rounds\": %ld, \"avg_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, "
	       "\"p99_9_us\": %.3f}\n",
	       rounds, (double)sum / (double)rounds / 1e3, (double)lat[rounds / 2] / 1e3,
	       (double)lat[rounds * 99 / 100] / 1e3, (double)lat[rounds * 999 / 1000] / 1e3);
	return 0;
}
