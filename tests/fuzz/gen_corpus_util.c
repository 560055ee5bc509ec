/* SPDX-License-Identifier: BSD-2-Clause */
#include "gen_corpus_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdu.h"

static const char *dir;

int gen_args(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return -EINVAL;
	}
	dir = argv[1];
	return 0;
}

void gen_put(struct gen_seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->b))
		abort();
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

void gen_put_pdu(struct gen_seed *s, const struct tcp_tx_pdu *t)
{
	for (int i = 0; i < t->iovcnt; i++)
		gen_put(s, t->iov[i].iov_base, t->iov[i].iov_len);
}

void gen_save(const struct gen_seed *s, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s->hdr, 1, s->hdr_len, f) != s->hdr_len ||
	    fwrite(s->b, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}
