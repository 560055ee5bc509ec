/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf/config_hosts.c: [host NQN] sections (nvmfd.ini(5) SECURITY): the
 * DH-HMAC-CHAP secrets and TLS PSKs in the formats nvme-cli writes, the
 * allowed hash and group lists, secrets in files, and every mistake
 * reported at its line; a secret others can read is a warning.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth_spec.h"
#include "config.h"

#define HOST1  "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define HOST2  "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-666666666666"
#define SUBNQN "nqn.2026-11.io.nvmfd:auth"

static char err[8192];
static char dhchap_a[128], dhchap_b[128], tls_a[128];

static const char head[] = "[nvmfd]\nlisten = 127.0.0.1:4420\n"
			   "[subsystem " SUBNQN "]\nallow_host = " HOST1 "\n"
			   "[namespace " SUBNQN " 1]\npath = ram:1M\n";

/* Keys in the formats nvme gen-dhchap-key / gen-tls-key print, from fixed bytes. */
static int setup(void **state)
{
	struct dhchap_key d = {.hash = NVMF_DHCHAP_HASH_SHA256, .len = 32};
	struct tls_psk_key t = {.hash = TLS_PSK_HASH_SHA256, .len = 32};

	(void)state;
	for (int i = 0; i < 32; i++) {
		d.key[i] = (uint8_t)i;
		t.key[i] = (uint8_t)(0xa0 + i);
	}
	assert_int_equal(dhchap_key_format(&d, dhchap_a, sizeof(dhchap_a)), 0);
	d.key[0] ^= 0xff;
	assert_int_equal(dhchap_key_format(&d, dhchap_b, sizeof(dhchap_b)), 0);
	assert_true(tls_psk_format(&t, tls_a, sizeof(tls_a)) > 0);
	return 0;
}

static struct cfg_config *load(const char *body, int want_ret)
{
	static char text[16384];
	struct cfg_config *cfg = NULL;
	int ret;

	snprintf(text, sizeof(text), "%s%s", head, body);
	ret = cfg_load_string("t.ini", text, &cfg, err, sizeof(err));
	if ((ret == 0) != (want_ret == 0))
		print_error("load returned %d; messages:\n%s", ret, err);
	assert_int_equal(ret == 0, want_ret == 0);
	return cfg;
}

static void fails_with(const char *body, const char *want)
{
	assert_null(load(body, -EINVAL));
	if (strstr(err, want) == NULL)
		print_error("expected \"%s\" in:\n%s", want, err);
	assert_non_null(strstr(err, want));
}

static void test_host_section(void **state)
{
	char body[2048];
	struct cfg_config *cfg;
	const struct cfg_host *h;

	(void)state;
	snprintf(body, sizeof(body),
		 "[host " HOST1 "]\ndhchap_key = %s\ndhchap_ctrl_key = %s\n"
		 "dhchap_hashes = sha512, hmac(sha256)\ndhchap_dhgroups = ffdhe3072,null\n"
		 "tls_key = %s\n",
		 dhchap_a, dhchap_b, tls_a);
	cfg = load(body, 0);
	assert_int_equal(cfg->nhosts, 1);
	h = cfg_find_host(cfg, HOST1);
	assert_non_null(h);
	assert_null(cfg_find_host(cfg, HOST2));
	assert_int_equal(h->line, 7);
	assert_true(h->has_dhchap_key);
	assert_int_equal(h->dhchap_key.hash, NVMF_DHCHAP_HASH_SHA256);
	assert_int_equal(h->dhchap_key.len, 32);
	assert_int_equal(h->dhchap_key.key[5], 5);
	assert_true(h->has_dhchap_ctrl_key);
	assert_int_equal(h->dhchap_ctrl_key.key[0], 0xff);
	assert_int_equal(h->ndhchap_hashes, 2);
	assert_int_equal(h->dhchap_hashes[0], NVMF_DHCHAP_HASH_SHA512);
	assert_int_equal(h->dhchap_hashes[1], NVMF_DHCHAP_HASH_SHA256);
	assert_int_equal(h->ndhchap_dhgroups, 2);
	assert_int_equal(h->dhchap_dhgroups[0], NVMF_DHCHAP_DHGROUP_FFDHE3072);
	assert_int_equal(h->dhchap_dhgroups[1], NVMF_DHCHAP_DHGROUP_NULL);
	assert_true(h->has_tls_key);
	assert_int_equal(h->tls_key.len, 32);
	assert_int_equal(h->tls_key.key[1], 0xa1);
	assert_int_equal(h->dhchap_key_src.line, 8);
	assert_string_equal(h->dhchap_key_src.file, "");
	assert_false(cfg->subsys[0].require_auth);
	assert_null(cfg->warnings); /* a string: no file mode to judge */
	cfg_free(cfg);
}

static void test_errors(void **state)
{
	char body[2048], bad[128];

	(void)state;
	fails_with("[host nqn.bad]\n", "t.ini:7: [host nqn.bad]: not a valid host NQN");
	fails_with("[host " HOST1 "]\n[host " HOST1 "]\n",
		   "t.ini:8: host " HOST1 " is already defined at line 7");
	fails_with("[host " HOST1 "]\ncolour = blue\n", "t.ini:8: unknown key 'colour' in [host]");
	fails_with("[host " HOST1 "]\ndhchap_key = DHHC-1:01:abc:\n",
		   "t.ini:8: dhchap_key: not a DH-HMAC-CHAP secret");
	/* one character changed: the CRC catches it */
	snprintf(bad, sizeof(bad), "%s", dhchap_a);
	bad[12] = bad[12] == 'A' ? 'B' : 'A';
	snprintf(body, sizeof(body), "[host " HOST1 "]\ndhchap_key = %s\n", bad);
	fails_with(body, "t.ini:8: dhchap_key: the secret's CRC does not match its key");
	snprintf(body, sizeof(body), "[host " HOST1 "]\ndhchap_key = %s\ndhchap_key = %s\n",
		 dhchap_a, dhchap_a);
	fails_with(body, "t.ini:9: dhchap_key is set twice");
	snprintf(body, sizeof(body), "[host " HOST1 "]\ndhchap_ctrl_key = %s\n", dhchap_b);
	fails_with(body, "t.ini:8: dhchap_ctrl_key without dhchap_key");
	fails_with("[host " HOST1 "]\ndhchap_hashes = sha1\n",
		   "t.ini:8: dhchap_hashes: unknown 'sha1' (known: sha256, sha384, sha512)");
	fails_with("[host " HOST1 "]\ndhchap_hashes = sha256,sha256\n",
		   "t.ini:8: dhchap_hashes: 'sha256' is listed twice");
	fails_with("[host " HOST1 "]\ndhchap_dhgroups = ,\n", "t.ini:8: dhchap_dhgroups: expected");
	fails_with("[host " HOST1 "]\ntls_key = NVMeTLSkey-1:07:AAAA:\n",
		   "t.ini:8: tls_key: not a TLS PSK in the interchange format");
	fails_with("[host " HOST1 "]\ntls_key = @relative/path\n",
		   "t.ini:8: tls_key = '@relative/path': expected @ and an absolute path");
	fails_with("[host " HOST1 "]\ntls_key = @/nonexistent/nvmfd.key\n",
		   "t.ini:8: tls_key: cannot open /nonexistent/nvmfd.key");
	fails_with("[subsystem " SUBNQN "x]\nallow_host = any\nrequire_auth = maybe\n",
		   "t.ini:9: require_auth = 'maybe': expected yes or no");
}

/* A secret in a file: read from its first line, its mode judged. */
static void test_secret_file(void **state)
{
	char dir[] = "/tmp/nvmfd-t-hosts.XXXXXX", path[256], body[1024];
	struct cfg_config *cfg;
	const struct cfg_host *h;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/host1.key", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "  %s  \nignored second line\n", dhchap_a);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(body, sizeof(body), "[host " HOST1 "]\ndhchap_key = @%s\n", path);
	cfg = load(body, 0);
	h = cfg_find_host(cfg, HOST1);
	assert_true(h->has_dhchap_key);
	assert_int_equal(h->dhchap_key.key[31], 31);
	assert_string_equal(h->dhchap_key_src.file, path);
	assert_null(cfg->warnings);
	cfg_free(cfg);

	assert_int_equal(chmod(path, 0644), 0);
	cfg = load(body, 0);
	assert_non_null(cfg->warnings);
	if (strstr(cfg->warnings, "t.ini:8: warning: dhchap_key: ") == NULL ||
	    strstr(cfg->warnings, "others can read (mode 0644)") == NULL)
		print_error("warnings:\n%s", cfg->warnings);
	assert_non_null(strstr(cfg->warnings, "others can read (mode 0644)"));
	cfg_free(cfg);

	assert_int_equal(chmod(path, 0640), 0);
	cfg = load(body, 0);
	assert_non_null(strstr(cfg->warnings, "its group can read (mode 0640)"));
	cfg_free(cfg);

	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(body, sizeof(body), "[host " HOST1 "]\ntls_key = @%s\n", path);
	fails_with(body, "is empty");
	unlink(path);
	rmdir(dir);
}

/* Inline secrets in a file others can read, and what require_auth leaves out. */
static void test_warnings(void **state)
{
	char dir[] = "/tmp/nvmfd-t-hosts.XXXXXX", path[256];
	struct cfg_config *cfg = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nvmfd.ini", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"%s[subsystem " SUBNQN "2]\nallow_host = " HOST1 "\nallow_host = " HOST2 "\n"
		"require_auth = yes\n[host " HOST1 "]\ndhchap_key = %s\ndhchap_ctrl_key = %s\n",
		head, dhchap_a, dhchap_a);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(cfg_load_file(path, &cfg, err, sizeof(err)), 0);
	assert_true(cfg->subsys[1].require_auth);
	assert_non_null(cfg->warnings);
	if (strstr(cfg->warnings, ":12: warning: dhchap_key is written in this file, which others "
				  "can read (mode 0644)") == NULL ||
	    strstr(cfg->warnings, ":13: warning: dhchap_ctrl_key is the host's own secret") ==
		    NULL ||
	    strstr(cfg->warnings, ":7: warning: subsystem " SUBNQN "2 requires authentication, "
				  "but host " HOST2 " has no dhchap_key") == NULL)
		print_error("warnings:\n%s", cfg->warnings);
	assert_non_null(strstr(cfg->warnings, ":12: warning: dhchap_key is written in this file"));
	assert_non_null(strstr(cfg->warnings, ":13: warning: dhchap_ctrl_key is the host's own"));
	assert_non_null(strstr(cfg->warnings, ":7: warning: subsystem " SUBNQN "2 requires"));
	cfg_free(cfg);
	unlink(path);
	rmdir(dir);
}

/*
 * TLS: tls_listen ports (and the default discovery port of their address),
 * tls_psk_derivation and its default, their mistakes and warnings.
 */
static void test_tls(void **state)
{
	static char text[4096];
	char body[1024];
	struct cfg_config *cfg = NULL;
	const struct cfg_host *h;

	(void)state;
	snprintf(body, sizeof(body),
		 "[host " HOST1 "]\ntls_key = %s\n[host " HOST2 "]\ntls_key = %s\n"
		 "tls_psk_derivation = rfc8446\n",
		 tls_a, tls_a);
	cfg = load(body, 0);
	h = cfg_find_host(cfg, HOST1);
	assert_int_equal(h->tls_psk_kdf, TLS_PSK_KDF_LIBNVME_COMPAT); /* the default */
	assert_int_equal(h->tls_psk_kdf_line, 0);
	h = cfg_find_host(cfg, HOST2);
	assert_int_equal(h->tls_psk_kdf, TLS_PSK_KDF_RFC8446);
	assert_int_equal(h->tls_psk_kdf_line, 11);
	assert_false(cfg->listeners[0].tls);
	cfg_free(cfg);

	fails_with("[host " HOST1 "]\ntls_psk_derivation = hkdf\n",
		   "t.ini:8: tls_psk_derivation = 'hkdf': expected rfc8446, libnvme-compat");
	fails_with("[host " HOST1 "]\ntls_psk_derivation = rfc8446\n"
		   "tls_psk_derivation = rfc8446\n",
		   "t.ini:9: tls_psk_derivation is set twice");

	/* a TLS port; its address's default discovery port requires TLS too */
	snprintf(text, sizeof(text),
		 "[nvmfd]\ntls_listen = 127.0.0.1:4421\nlisten = 127.0.0.2:4420\n"
		 "[subsystem " SUBNQN "]\nallow_host = any\n[host " HOST1 "]\ntls_key = %s\n",
		 tls_a);
	assert_int_equal(cfg_load_string("t.ini", text, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nlisteners, 4);
	assert_true(cfg->listeners[0].tls);
	assert_false(cfg->listeners[0].discovery_only);
	assert_false(cfg->listeners[1].tls);
	assert_int_equal(cfg->listeners[2].port, 8009);
	assert_true(cfg->listeners[2].discovery_only);
	assert_true(cfg->listeners[2].tls);
	assert_false(cfg->listeners[3].tls);
	cfg_free(cfg);

	/* a TLS port no host can use: a warning; tls_discovery_listen */
	assert_int_equal(cfg_load_string("t.ini",
					 "[nvmfd]\ntls_listen = 127.0.0.1:4421\n"
					 "tls_discovery_listen = 127.0.0.1:8010\n"
					 "[subsystem " SUBNQN "]\nallow_host = any\n",
					 &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg->nlisteners, 2);
	assert_true(cfg->listeners[1].tls && cfg->listeners[1].discovery_only);
	assert_non_null(cfg->warnings);
	assert_non_null(strstr(cfg->warnings, "t.ini:2: warning: a TLS listener, but no [host] "
					      "section has a tls_key"));
	cfg_free(cfg);
	cfg = NULL;
	assert_int_not_equal(cfg_load_string("t.ini",
					     "[nvmfd]\ntls_listen = 127.0.0.1:4421\n"
					     "listen = 127.0.0.1:4421\n",
					     &cfg, err, sizeof(err)),
			     0);
	assert_non_null(strstr(err, "t.ini:3: 127.0.0.1:4421 is already a listener (line 2)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_section), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_secret_file),  cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
