/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [host NQN] sections: what one host must prove before it is let in, and
 * the keys it proves it with (nvmfd.ini(5) SECURITY). The key formats are
 * transport's (DHHC-1 secrets, NVMe Base 2.0 8.13.5.8; NVMeTLSkey-1 PSKs,
 * NVMe/TCP 1.1 3.6.1.5): a key that does not parse is reported here, with
 * its line, and never reaches the daemon.
 *
 * A secret is written inline or as "@/path/to/file" (the file holds the key
 * on one line). Either way a secret others can read is a warning: of the
 * file for @path, of the configuration file itself for an inline one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_spec.h"
#include "config_internal.h"

#define SECRET_FILE_MAX 512 /* far more than any key's text */

static struct cfg_host *find_host(struct cfg_config *cfg, const char *nqn)
{
	return (struct cfg_host *)cfg_find_host(cfg, nqn);
}

const struct cfg_host *cfg_find_host(const struct cfg_config *cfg, const char *nqn)
{
	for (size_t i = 0; i < cfg->nhosts; i++)
		if (strcmp(cfg->hosts[i].nqn, nqn) == 0)
			return &cfg->hosts[i];
	return NULL;
}

void cfg_start_host(struct cfg_parser *ps, const char *nqn, int line)
{
	struct cfg_config *cfg = ps->cfg;
	struct cfg_host *h, *arr;

	ps->kind = SEC_BAD;
	if (!cfg_nqn_valid(nqn)) {
		cfg_error(ps, line, "[host %s]: not a valid host NQN: it %s", nqn,
			  cfg_nqn_why(nqn));
		return;
	}
	h = find_host(cfg, nqn);
	if (h != NULL) {
		cfg_error(ps, line, "host %s is already defined at line %d", nqn, h->line);
		return;
	}
	arr = cfg_grow(ps, cfg->hosts, cfg->nhosts, sizeof(*arr));
	if (arr == NULL)
		return;
	cfg->hosts = arr;
	h = &arr[cfg->nhosts];
	snprintf(h->nqn, sizeof(h->nqn), "%s", nqn);
	h->line = line;
	ps->cur = cfg->nhosts++;
	ps->kind = SEC_HOST;
}

/* Who besides the owner may read st: "group", "others", or NULL. */
static const char *readable_by(mode_t mode)
{
	if (mode & S_IROTH)
		return "others";
	if (mode & S_IRGRP)
		return "its group";
	return NULL;
}

/*
 * The text of a secret: value itself, or the first line of the file
 * "@path" names (into buf). NULL after reporting why not.
 */
static const char *secret_text(struct cfg_parser *ps, const char *key, const char *value, char *buf,
			       size_t size, struct cfg_secret_src *src)
{
	const char *who;
	struct stat st;
	size_t len;
	ssize_t n;
	int fd;

	src->line = ps->lineno;
	src->file[0] = '\0';
	if (value[0] != '@') {
		who = ps->have_mode ? readable_by((mode_t)ps->file_mode) : NULL;
		if (who != NULL)
			cfg_warn(ps, ps->lineno,
				 "%s is written in this file, which %s can read (mode %04o): "
				 "keep it in a file of mode 0600 and write %s = @/path/to/file",
				 key, who, ps->file_mode & 07777, key);
		return value;
	}
	if (value[1] != '/') {
		cfg_error(ps, ps->lineno, "%s = '%s': expected @ and an absolute path", key, value);
		return NULL;
	}
	snprintf(src->file, sizeof(src->file), "%s", value + 1);
	fd = open(value + 1,
		  O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); /* no wait on a FIFO */
	if (fd < 0) {
		cfg_error(ps, ps->lineno, "%s: cannot open %s: %s", key, value + 1,
			  strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cfg_error(ps, ps->lineno, "%s: %s is not a regular file", key, value + 1);
		close(fd);
		return NULL;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) {
		cfg_error(ps, ps->lineno, "%s: cannot read %s: %s", key, value + 1,
			  strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	/* the key is the first line, surrounding blanks dropped */
	len = strcspn(buf, "\r\n");
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	while (isspace((unsigned char)buf[0]))
		memmove(buf, buf + 1, len--);
	if (len == 0) {
		cfg_error(ps, ps->lineno, "%s: %s is empty", key, value + 1);
		return NULL;
	}
	who = readable_by(st.st_mode);
	if (who != NULL)
		cfg_warn(ps, ps->lineno,
			 "%s: %s holds a secret %s can read (mode %04o): chmod 600 it", key,
			 value + 1, who, (unsigned int)(st.st_mode & 07777));
	return buf;
}

static void dhchap_secret(struct cfg_parser *ps, const char *key, const char *value, bool *has,
			  struct dhchap_key *k, struct cfg_secret_src *src)
{
	char buf[SECRET_FILE_MAX];
	const char *text = secret_text(ps, key, value, buf, sizeof(buf), src);
	const char *why = NULL;
	int ret;

	if (text == NULL)
		goto out;
	if (*has) {
		cfg_error(ps, ps->lineno, "%s is set twice in this [host]", key);
		goto out;
	}
	ret = dhchap_key_parse(text, k, &why);
	if (ret == -EKEYREJECTED)
		cfg_error(ps, ps->lineno, "%s: the secret's CRC does not match its key (mistyped?)",
			  key);
	else if (ret)
		cfg_error(ps, ps->lineno, "%s: not a DH-HMAC-CHAP secret (DHHC-1:hh:base64:): %s",
			  key, why ? why : "malformed");
	else
		*has = true;
out:
	explicit_bzero(buf, sizeof(buf));
}

static void tls_secret(struct cfg_parser *ps, const char *value, struct cfg_host *h)
{
	char buf[SECRET_FILE_MAX];
	const char *text = secret_text(ps, "tls_key", value, buf, sizeof(buf), &h->tls_key_src);
	const char *why = NULL;

	if (text == NULL)
		goto out;
	if (h->has_tls_key) {
		cfg_error(ps, ps->lineno, "tls_key is set twice in this [host]");
		goto out;
	}
	if (tls_psk_parse(text, &h->tls_key, &why))
		cfg_error(ps, ps->lineno,
			  "tls_key: not a TLS PSK in the interchange format "
			  "(NVMeTLSkey-1:hh:base64:): %s",
			  why ? why : "malformed");
	else
		h->has_tls_key = true;
out:
	explicit_bzero(buf, sizeof(buf));
}

struct id_name {
	uint8_t id;
	const char *name;
	const char *alias; /* the Linux target's spelling (configfs dhchap_hash / dhgroup) */
};

static const struct id_name hashes[] = {
	{NVMF_DHCHAP_HASH_SHA256, "sha256", "hmac(sha256)"},
	{NVMF_DHCHAP_HASH_SHA384, "sha384", "hmac(sha384)"},
	{NVMF_DHCHAP_HASH_SHA512, "sha512", "hmac(sha512)"},
};

static const struct id_name dhgroups[] = {
	{NVMF_DHCHAP_DHGROUP_NULL, "null", "none"},
	{NVMF_DHCHAP_DHGROUP_FFDHE2048, "ffdhe2048", NULL},
	{NVMF_DHCHAP_DHGROUP_FFDHE3072, "ffdhe3072", NULL},
	{NVMF_DHCHAP_DHGROUP_FFDHE4096, "ffdhe4096", NULL},
	{NVMF_DHCHAP_DHGROUP_FFDHE6144, "ffdhe6144", NULL},
	{NVMF_DHCHAP_DHGROUP_FFDHE8192, "ffdhe8192", NULL},
};

/* "a,b,c" (blanks allowed) -> ids, in order, each once. */
static void id_list(struct cfg_parser *ps, const char *key, const char *value,
		    const struct id_name *names, size_t nnames, uint8_t *out, uint8_t *nout,
		    size_t max)
{
	char copy[CFG_LINE_MAX + 1], *save = NULL, *tok;
	uint8_t n = 0;

	snprintf(copy, sizeof(copy), "%s", value);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		size_t i;
		bool dup = false;

		for (i = 0; i < nnames; i++)
			if (strcasecmp(tok, names[i].name) == 0 ||
			    (names[i].alias && strcasecmp(tok, names[i].alias) == 0))
				break;
		if (i == nnames) {
			char known[128] = "";

			for (size_t j = 0; j < nnames; j++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", j ? ", " : "", names[j].name);
			cfg_error(ps, ps->lineno, "%s: unknown '%s' (known: %s)", key, tok, known);
			return;
		}
		for (uint8_t j = 0; j < n; j++)
			dup |= out[j] == names[i].id;
		if (dup) {
			cfg_error(ps, ps->lineno, "%s: '%s' is listed twice", key, tok);
			return;
		}
		if (n == max)
			return; /* cannot happen: max is the number of names */
		out[n++] = names[i].id;
	}
	if (n == 0)
		cfg_error(ps, ps->lineno, "%s: expected a list such as %s,%s", key, names[0].name,
			  names[1].name);
	else
		*nout = n;
}

void cfg_host_key(struct cfg_parser *ps, const char *key, const char *value)
{
	struct cfg_host *h = &ps->cfg->hosts[ps->cur];

	if (strcmp(key, "dhchap_key") == 0) {
		dhchap_secret(ps, key, value, &h->has_dhchap_key, &h->dhchap_key,
			      &h->dhchap_key_src);
	} else if (strcmp(key, "dhchap_ctrl_key") == 0) {
		dhchap_secret(ps, key, value, &h->has_dhchap_ctrl_key, &h->dhchap_ctrl_key,
			      &h->dhchap_ctrl_key_src);
	} else if (strcmp(key, "dhchap_hashes") == 0) {
		id_list(ps, key, value, hashes, sizeof(hashes) / sizeof(hashes[0]),
			h->dhchap_hashes, &h->ndhchap_hashes, CFG_DHCHAP_MAX_HASHES);
	} else if (strcmp(key, "dhchap_dhgroups") == 0) {
		id_list(ps, key, value, dhgroups, sizeof(dhgroups) / sizeof(dhgroups[0]),
			h->dhchap_dhgroups, &h->ndhchap_dhgroups, CFG_DHCHAP_MAX_DHGROUPS);
	} else if (strcmp(key, "tls_key") == 0) {
		tls_secret(ps, value, h);
	} else {
		cfg_unknown_key(ps, key, "host", cfg_host_keys);
	}
}

/* Cross-checks once the whole file is read. */
void cfg_validate_hosts(struct cfg_parser *ps)
{
	struct cfg_config *cfg = ps->cfg;

	for (size_t i = 0; i < cfg->nhosts; i++) {
		const struct cfg_host *h = &cfg->hosts[i];

		if (h->has_dhchap_ctrl_key && !h->has_dhchap_key)
			cfg_error(ps, h->dhchap_ctrl_key_src.line,
				  "dhchap_ctrl_key without dhchap_key: bidirectional "
				  "authentication needs the host's secret too");
		if (h->has_dhchap_key && h->has_dhchap_ctrl_key &&
		    h->dhchap_key.len == h->dhchap_ctrl_key.len &&
		    memcmp(h->dhchap_key.key, h->dhchap_ctrl_key.key, h->dhchap_key.len) == 0)
			cfg_warn(ps, h->dhchap_ctrl_key_src.line,
				 "dhchap_ctrl_key is the host's own secret: a host that knows "
				 "it can pose as this controller");
		if ((h->ndhchap_hashes || h->ndhchap_dhgroups) && !h->has_dhchap_key)
			cfg_warn(ps, h->line,
				 "dhchap_hashes / dhchap_dhgroups without dhchap_key: "
				 "host %s does not authenticate",
				 h->nqn);
	}
	for (size_t i = 0; i < cfg->nsubsys; i++) {
		const struct cfg_subsystem *s = &cfg->subsys[i];

		if (!s->require_auth)
			continue;
		for (size_t j = 0; j < s->nhosts; j++) {
			const struct cfg_host *h = cfg_find_host(cfg, s->hosts[j]);

			if (h == NULL || !h->has_dhchap_key)
				cfg_warn(ps, s->line,
					 "subsystem %s requires authentication, but host %s "
					 "has no dhchap_key in a [host] section: it is refused",
					 s->nqn, s->hosts[j]);
		}
	}
}

void cfg_free_hosts(struct cfg_config *cfg)
{
	for (size_t i = 0; i < cfg->nhosts; i++)
		explicit_bzero(&cfg->hosts[i], sizeof(cfg->hosts[i]));
	free(cfg->hosts);
	cfg->hosts = NULL;
	cfg->nhosts = 0;
}
