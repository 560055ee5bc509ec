/* SPDX-License-Identifier: BSD-2-Clause */
/* nvmfd --check: the file, and that every namespace's backing store opens (as sshd -t loads keys). */
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"

/*
 * One namespace's backing store, opened and closed again as
 * target_ns_open() would open it at a start: the same errors (the store
 * cannot be opened, its blocks are not 512 to 4096 bytes) and warnings (a
 * setting that does not apply).
 */
static void check_backing(void *arg, const struct cfg_config *cfg, const char *nqn,
			  const struct cfg_namespace *c, struct cfg_diags *d)
{
	/* an RBD image through the cluster, client and keyring the daemon would use */
	struct be_ceph ceph = {
		.conf = cfg->ceph_conf, .id = cfg->ceph_id, .keyring = cfg->ceph_keyring};
	struct be_params bp = {.path = c->path,
			       .ram_size = c->ram_size,
			       .block_size = c->block_size,
			       .read_only = c->read_only,
			       .direct = c->direct,
			       .nqueues = 1,
			       .ceph = &ceph};
	struct be_ns be;
	char err[512];
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	(void)arg;
	if (be_open(&be, &bp, err, sizeof(err)) != 0) {
		cfg_diag_add(d, c->path_line, false, "namespace %u of %s: %s", c->nsid, nqn, err);
		return;
	}
	if (be.block_size < 512 || be.block_size > 4096 || (be.block_size & (be.block_size - 1)))
		cfg_diag_add(d, c->path_line, false,
			     "namespace %u of %s: %s has %u-byte blocks (512 to 4096 supported)",
			     c->nsid, nqn, c->path, be.block_size);
	if (be.kind == BE_BLOCK && c->block_size && c->block_size != be.block_size)
		cfg_diag_add(d, c->path_line, true,
			     "namespace %u of %s: block_size = %u ignored: %s has %u-byte blocks",
			     c->nsid, nqn, c->block_size, c->path, be.block_size);
	if (be.forced_read_only)
		cfg_diag_add(d, c->path_line, true,
			     "namespace %u of %s: %s is a read-only device: it is served read-only",
			     c->nsid, nqn, c->path);
	if (c->direct && !be.direct && (be.kind == BE_FILE || be.kind == BE_BLOCK))
		cfg_diag_add(d, c->path_line, true,
			     "namespace %u of %s: %s refuses O_DIRECT: the page cache is used",
			     c->nsid, nqn, c->path);
	/* opened here reserved, not committed (a check takes no memory) */
	if (be.kind == BE_RAM && pages > 0 && page > 0 &&
	    be.size > (uint64_t)pages * (uint64_t)page)
		cfg_diag_add(d, c->path_line, true,
			     "namespace %u of %s: %s is more than this machine's memory "
			     "(%llu MiB): %s",
			     c->nsid, nqn, c->path,
			     (unsigned long long)((uint64_t)pages * (uint64_t)page >> 20),
			     c->prealloc ? "the start will fail to take it (prealloc = yes)"
					 : "writes will fail once it is used up");
	be_close(&be);
}

int check_config(const char *path)
{
	struct cfg_diags d = {0};
	struct cfg_config *cfg = NULL;
	const char *source = path ? path : "<embedded default>";
	char line[4096];
	int ret;

	if (path != NULL)
		ret = cfg_check_file(path, check_backing, NULL, &cfg, &d);
	else
		ret = cfg_check_default(check_backing, NULL, &cfg, &d);
	for (size_t i = 0; i < d.n; i++) {
		cfg_diag_format(&d.d[i], source, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	if (d.oom)
		fprintf(stderr, "%s: out of memory: some problems are not shown\n", source);
	if (ret == 0) {
		printf("%s: configuration OK (%zu subsystem(s), %zu listener(s)%s)\n", source,
		       cfg->nsubsys, cfg->nlisteners, d.nwarnings ? ", with warnings" : "");
	} else if (d.nerrors > 0) {
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", source, d.nerrors,
			d.nerrors == 1 ? "" : "s", d.nwarnings, d.nwarnings == 1 ? "" : "s");
	}
	cfg_free(cfg);
	cfg_diags_free(&d);
	return ret ? 1 : 0;
}
