/* SPDX-License-Identifier: BSD-2-Clause */
/* Persistent health counters (health.h). */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define HEALTH_FILE  "health"
#define HEALTH_MAGIC "nvmfd-health 1"

/* One stored subsystem (nsid 0) or namespace. */
struct health_rec {
	char nqn[NVMF_NQN_FIELD];
	uint32_t nsid;
	bool used;	      /* given to a live subsystem or namespace */
	uint64_t err_entries; /* subsystems */
	struct smart_counts sc;
};

struct health {
	char dir[4096];
	bool enabled;
	size_t n, cap;
	struct health_rec *recs;
};

static struct health_rec *rec_find(struct health *h, const char *nqn, uint32_t nsid)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->recs[i].nsid == nsid && strcmp(h->recs[i].nqn, nqn) == 0)
			return &h->recs[i];
	return NULL;
}

static struct health_rec *rec_add(struct health *h)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct health_rec *r = realloc(h->recs, cap * sizeof(*r));

		if (r == NULL)
			return NULL;
		h->recs = r;
		h->cap = cap;
	}
	memset(&h->recs[h->n], 0, sizeof(h->recs[0]));
	return &h->recs[h->n++];
}

static int parse_counts(const char *p, struct smart_counts *sc)
{
	int used = 0;

	if (sscanf(p, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 "%n",
		   &sc->read_cmds, &sc->write_cmds, &sc->read_blocks, &sc->write_blocks,
		   &sc->busy_ns, &sc->media_errors, &used) != 6)
		return -EINVAL;
	p += used;
	return *p == '\0' || *p == '\n' ? 0 : -EINVAL;
}

/* One line of the file: 0, or -EINVAL (the caller says where). */
static int parse_line(struct health *h, struct target *t, const char *line, bool *clean)
{
	char nqn[NVMF_NQN_FIELD];
	struct health_rec *r;
	uint64_t v;
	int used = 0;
	unsigned int c;

	if (sscanf(line, "clean %u", &c) == 1) {
		*clean = c != 0;
	} else if (sscanf(line, "power_cycles %" SCNu64, &v) == 1) {
		t->power_cycles = v;
	} else if (sscanf(line, "power_on_seconds %" SCNu64, &v) == 1) {
		t->poh_base_s = v;
	} else if (sscanf(line, "unsafe_shutdowns %" SCNu64, &v) == 1) {
		t->unsafe_shutdowns = v;
	} else if (sscanf(line, "subsystem %223s %" SCNu64 "%n", nqn, &v, &used) == 2) {
		if (rec_find(h, nqn, 0) != NULL || (r = rec_add(h)) == NULL)
			return -EINVAL;
		snprintf(r->nqn, sizeof(r->nqn), "%s", nqn);
		r->err_entries = v;
		return parse_counts(line + used, &r->sc);
	} else if (sscanf(line, "namespace %223s %" SCNu64 "%n", nqn, &v, &used) == 2) {
		if (v == 0 || v > 0xfffffffeULL || rec_find(h, nqn, (uint32_t)v) != NULL ||
		    (r = rec_add(h)) == NULL)
			return -EINVAL;
		snprintf(r->nqn, sizeof(r->nqn), "%s", nqn);
		r->nsid = (uint32_t)v;
		return parse_counts(line + used, &r->sc);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Read the file: 0 (found), -ENOENT (first start), or another -errno (logged). */
static int load(struct health *h, struct target *t, const char *path, bool *clean)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0, bad = 0;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (lineno == 1) {
			if (strncmp(line, HEALTH_MAGIC, strlen(HEALTH_MAGIC)) != 0) {
				log_err("%s:1: not an nvmfd health file: health counters start "
					"again from zero",
					path);
				fclose(f);
				return -EINVAL;
			}
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_line(h, t, line, clean) != 0 && bad++ == 0)
			log_warn("%s:%d: unreadable line ignored", path, lineno);
	}
	fclose(f);
	return 0;
}

static void apply_rec(struct health_rec *r, struct smart_counts *to)
{
	*to = r->sc;
	r->used = true;
}

void health_apply_ns(struct health *h, const char *nqn, struct ns *ns)
{
	struct health_rec *r = rec_find(h, nqn, ns->nsid);

	if (r != NULL && !r->used)
		apply_rec(r, &ns->base);
}

void health_apply_subsys(struct health *h, struct subsys *s)
{
	struct health_rec *r = rec_find(h, s->nqn, 0);
	struct ns_table *nt = atomic_load(&s->nst);

	if (r != NULL && !r->used) {
		/* before the table is published: no reader yet */
		apply_rec(r, &nt->retired);
		atomic_store(&s->err_entries, r->err_entries);
	}
	for (size_t i = 0; i < nt->n; i++)
		health_apply_ns(h, s->nqn, nt->ns[i]);
}

int health_open(struct target *t, const char *state_dir, struct health **out)
{
	struct health *h = calloc(1, sizeof(*h));
	struct subsys_table *st = atomic_load(&t->st);
	char path[4200];
	bool clean = true;
	int ret;

	*out = h;
	t->power_cycles = 0;
	t->unsafe_shutdowns = 0;
	t->poh_base_s = 0;
	if (h == NULL)
		return -ENOMEM;
	snprintf(h->dir, sizeof(h->dir), "%s", state_dir);
	if (mkdir(state_dir, 0755) != 0 && errno != EEXIST) {
		log_warn("state_dir %s: %s: health counters start from zero and are not kept",
			 state_dir, strerror(errno));
	} else {
		snprintf(path, sizeof(path), "%s/%s", state_dir, HEALTH_FILE);
		ret = load(h, t, path, &clean);
		if (ret != 0 && ret != -ENOENT && ret != -EINVAL)
			log_warn("%s: %s: health counters start from zero and are not kept", path,
				 strerror(-ret));
		else
			h->enabled = true;
		if (ret == -EINVAL) { /* not ours: keep it, start counting anew beside it */
			char old[4300];

			snprintf(old, sizeof(old), "%s.unreadable", path);
			(void)rename(path, old); /* load() read nothing: the counters are still 0 */
		}
	}
	t->power_cycles++;
	if (!clean) {
		t->unsafe_shutdowns++;
		log_warn(
			"the last run of nvmfd did not stop cleanly: unsafe shutdowns now %" PRIu64,
			t->unsafe_shutdowns);
	}
	for (size_t i = 0; i < st->n; i++)
		health_apply_subsys(h, st->s[i]);
	if (h->enabled && (ret = health_save(h, t, false)) != 0) {
		log_warn("%s: cannot write health counters (%s): they are not kept", h->dir,
			 strerror(-ret));
		h->enabled = false;
	}
	return 0;
}

static void put_counts(FILE *f, const struct smart_counts *sc)
{
	fprintf(f, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		sc->read_cmds, sc->write_cmds, sc->read_blocks, sc->write_blocks, sc->busy_ns,
		sc->media_errors);
}

static bool live_has(const struct subsys_table *st, const char *nqn, uint32_t nsid)
{
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->s[i]->nqn, nqn) != 0)
			continue;
		return nsid == 0 || subsys_find_ns(st->s[i], nsid) != NULL;
	}
	return false;
}

static void write_all(FILE *f, struct health *h, struct target *t, bool clean)
{
	const struct subsys_table *st = atomic_load(&t->st);

	fprintf(f,
		"%s\n# written by nvmfd: power cycles, power-on time and unsafe shutdowns of "
		"the target,\n# then per subsystem: error log entries, and per subsystem "
		"(namespaces gone) and namespace:\n# read_cmds write_cmds read_blocks "
		"write_blocks (512 bytes) busy_ns media_errors\n",
		HEALTH_MAGIC);
	fprintf(f,
		"clean %d\npower_cycles %" PRIu64 "\npower_on_seconds %" PRIu64
		"\nunsafe_shutdowns %" PRIu64 "\n",
		clean ? 1 : 0, t->power_cycles, target_power_on_s(t), t->unsafe_shutdowns);
	for (size_t i = 0; i < st->n; i++) {
		const struct subsys *s = st->s[i];
		const struct ns_table *nt = atomic_load(&s->nst);
		struct smart_counts gone;

		/* namespaces a reload removed count for the subsystem only */
		ns_table_smart(t, nt, nt->n, &gone);
		fprintf(f, "subsystem %s %" PRIu64, s->nqn, atomic_load(&s->err_entries));
		put_counts(f, &gone);
		for (size_t j = 0; j < nt->n; j++) {
			struct smart_counts one;

			ns_smart(t, nt->ns[j], &one);
			fprintf(f, "namespace %s %u", s->nqn, nt->ns[j]->nsid);
			put_counts(f, &one);
		}
	}
	/* what this configuration does not serve stays as it was */
	for (size_t i = 0; i < h->n; i++) {
		const struct health_rec *r = &h->recs[i];

		if (r->used || live_has(st, r->nqn, r->nsid))
			continue;
		if (r->nsid == 0)
			fprintf(f, "subsystem %s %" PRIu64, r->nqn, r->err_entries);
		else
			fprintf(f, "namespace %s %u", r->nqn, r->nsid);
		put_counts(f, &r->sc);
	}
}

int health_save(struct health *h, struct target *t, bool clean)
{
	char path[4200], tmp[4300];
	FILE *f;
	int fd, ret = 0;

	if (h == NULL || !h->enabled)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", h->dir, HEALTH_FILE);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", h->dir, HEALTH_FILE, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (f == NULL) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	write_all(f, h, t, clean);
	if (fflush(f) != 0 || fsync(fd) != 0)
		ret = -errno;
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -errno;
	if (ret != 0) {
		unlink(tmp);
		return ret;
	}
	fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd); /* the rename itself */
		close(fd);
	}
	return 0;
}

void health_retire_subsys(struct health *h, const struct subsys *s,
			  const struct smart_counts *total)
{
	struct health_rec *r;
	size_t i = 0;

	if (h == NULL)
		return;
	/* its namespaces' counters are in the subsystem's now */
	while (i < h->n) {
		if (h->recs[i].nsid != 0 && strcmp(h->recs[i].nqn, s->nqn) == 0)
			h->recs[i] = h->recs[--h->n];
		else
			i++;
	}
	r = rec_find(h, s->nqn, 0);
	if (r == NULL && (r = rec_add(h)) == NULL)
		return;
	snprintf(r->nqn, sizeof(r->nqn), "%s", s->nqn);
	r->sc = *total;
	r->err_entries = atomic_load(&s->err_entries);
	r->used = false; /* kept as it is, given back if the subsystem returns */
}

void health_close(struct health *h)
{
	if (h == NULL)
		return;
	free(h->recs);
	free(h);
}
