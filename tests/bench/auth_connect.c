/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What DH-HMAC-CHAP adds to a queue's Connect, measured in one process
 * with libnvmf against a running nvmfd: RUNS admin-queue connects
 * (TCP, ICReq, Connect and, when a secret is given, the whole
 * authentication transaction), each timed alone; prints the median and
 * the 10th / 90th percentiles in microseconds, and this process's CPU
 * time per connect (the host's share of the work).
 *
 *	auth_connect ADDR PORT SUBNQN HOSTNQN RUNS [SECRET]
 *
 * tests/bench/auth_connect.sh runs it for each DH group.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nvmf.h"

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct nvmf_association_params ap;
	struct nvmf_qpair_params qp = {0};
	struct nvmf_association *na;
	long long *t, c0;
	const char *why = NULL;
	int runs, err;

	if (argc < 6) {
		fprintf(stderr, "usage: %s ADDR PORT SUBNQN HOSTNQN RUNS [SECRET]\n", argv[0]);
		return 2;
	}
	runs = atoi(argv[5]);
	if (runs < 1 || (t = calloc((size_t)runs, sizeof(*t))) == NULL)
		return 2;
	memset(&ap, 0, sizeof(ap));
	snprintf(ap.hostnqn, sizeof(ap.hostnqn), "%s", argv[4]);
	if (argc > 6) {
		if (dhchap_key_parse(argv[6], &ap.dhchap_key, &why) != 0) {
			fprintf(stderr, "bad secret: %s\n", why ? why : "?");
			return 2;
		}
		ap.has_dhchap_key = true;
	}
	na = nvmf_association_alloc(NVMF_TRTYPE_TCP, &ap, &err);
	dhchap_key_wipe(&ap.dhchap_key);
	if (na == NULL)
		return 1;
	qp.traddr = argv[1];
	qp.trsvcid = argv[2];
	qp.subnqn = argv[3];
	qp.qsize = 32;
	qp.cntlid = NVMF_CNTLID_DYNAMIC;
	c0 = cpu_us();
	for (int i = 0; i < runs; i++) {
		struct nvmf_connect_rsp rsp;
		struct nvmf_qpair *q;
		long long t0 = now_us();

		err = nvmf_connect(na, &qp, &q, &rsp);
		t[i] = now_us() - t0;
		if (err || q == NULL) {
			fprintf(stderr, "connect %d: %s\n", i, nvmf_association_error(na));
			return 1;
		}
		nvmf_qpair_free(q);
	}
	c0 = cpu_us() - c0;
	qsort(t, (size_t)runs, sizeof(*t), cmp_ll);
	printf("%lld %lld %lld %lld\n", t[runs / 2], t[runs / 10], t[runs * 9 / 10], c0 / runs);
	nvmf_association_free(na);
	free(t);
	return 0;
}
