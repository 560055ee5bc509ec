/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf/: nvmfd --check's report: every problem of a file in one run, in line
 * order (values, cross-references and what the backing-store check adds),
 * errors and warnings told apart, "did you mean" for a misspelled key or
 * section, and no second message for what one wrong line causes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_internal.h" /* the key lists */

/* The report of text as "LINE:e|w:message" lines, for one comparison. */
static char got[8192];

static int check(const char *text, cfg_ns_check_fn fn, void *arg)
{
	struct cfg_diags d = {0};
	struct cfg_config *cfg = NULL;
	size_t used = 0;
	int ret = cfg_check_string("t.ini", text, fn, arg, &cfg, &d);

	got[0] = '\0';
	for (size_t i = 0; i < d.n && used < sizeof(got); i++)
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%d:%c:%s\n", d.d[i].line,
					 d.d[i].warning ? 'w' : 'e', d.d[i].msg);
	assert_false(d.oom);
	if (ret == 0) {
		assert_non_null(cfg);
		assert_int_equal(d.nerrors, 0);
	} else {
		assert_null(cfg);
		assert_true(d.nerrors > 0);
	}
	cfg_free(cfg);
	cfg_diags_free(&d);
	return ret;
}

static void report_is(const char *want)
{
	if (strcmp(got, want) != 0)
		print_error("report:\n%s\nwant:\n%s", got, want);
	assert_string_equal(got, want);
}

/* Several errors of every kind in one file: all of them, in line order. */
static void test_every_error_in_line_order(void **state)
{
	(void)state;
	assert_int_equal(check("[nvmfd]\n"			       /* 1 */
			       "listn = 127.0.0.1:4420\n"	       /* 2 */
			       "listen = 127.0.0.1:4420\n"	       /* 3 */
			       "max_transfer = 3M\n"		       /* 4 */
			       "in_capsule_data = 8k\n"		       /* 5 */
			       "this is not a key\n"		       /* 6 */
			       "[subsytem nqn.2026-11.io.t:x]\n"       /* 7 */
			       "[subsystem nqn.2026-11.io.t:a]\n"      /* 8 */
			       "alow_host = any\n"		       /* 9 */
			       "[namespace nqn.2026-11.io.t:a 1]\n"    /* 10 */
			       "path = ram:1M\n"		       /* 11 */
			       "readonly = yes\n"		       /* 12 */
			       "[namespace nqn.2026-11.io.t:none 1]\n" /* 13 */
			       "path = ram:1M\n"		       /* 14 */
			       "[nvmfd]\n",			       /* 15 */
			       NULL, NULL),
			 -EINVAL);
	report_is("2:e:unknown key 'listn' in [nvmfd]; did you mean 'listen'?\n"
		  "4:e:max_transfer must be a power of two\n"
		  "6:e:syntax error (expected [section], key = value, or a ; comment)\n"
		  "7:e:unknown section [subsytem nqn.2026-11.io.t:x]; did you mean "
		  "[subsystem nqn.2026-11.io.t:x]?\n"
		  "8:e:subsystem nqn.2026-11.io.t:a allows no host: add 'allow_host = HOSTNQN' "
		  "or 'allow_host = any'\n"
		  "9:e:unknown key 'alow_host' in [subsystem]; did you mean 'allow_host'?\n"
		  "12:e:unknown key 'readonly' in [namespace]; did you mean 'read_only'?\n"
		  "13:e:namespace 1: no [subsystem nqn.2026-11.io.t:none] in this file\n"
		  "15:e:[nvmfd] appears twice\n");
}

/* cfg_load_*'s buffer: the same messages, "file:line: ", in line order. */
static void test_load_buffer_in_line_order(void **state)
{
	struct cfg_config *cfg = NULL;
	char err[2048];

	(void)state;
	assert_int_equal(cfg_load_string("t.ini",
					 "[nvmfd]\nlisten = 127.0.0.1\n"
					 "[namespace nqn.2026-11.io.t:a 1]\npath = ram:1M\n"
					 "[subsystem nqn.2026-11.io.t:a]\n"
					 "[nvmfd]\nbogus = 1\n",
					 &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_null(cfg);
	/* the subsystem's "allows no host" (line 5) was found after line 7's key */
	assert_string_equal(err, "t.ini:5: subsystem nqn.2026-11.io.t:a allows no host: add "
				 "'allow_host = HOSTNQN' or 'allow_host = any'\n"
				 "t.ini:6: [nvmfd] appears twice\n"
				 "t.ini:7: unknown key 'bogus' in [nvmfd]\n");
}

/* A key of another section says where it belongs; a name far from every key gets no guess. */
static void test_suggestions(void **state)
{
	(void)state;
	check("[nvmfd]\nlisten = 127.0.0.1\nserial = X\nbogus_key = 1\nmax_trnasfer = 1M\n"
	      "[nvmf]\n[namepsace nqn.2026-11.io.t:a 1]\n[frobnicate]\n",
	      NULL, NULL);
	report_is("3:e:'serial' is not a key of [nvmfd]: it belongs in [subsystem NQN]\n"
		  "4:e:unknown key 'bogus_key' in [nvmfd]\n"
		  "5:e:unknown key 'max_trnasfer' in [nvmfd]; did you mean 'max_transfer'?\n"
		  "6:e:unknown section [nvmf]; did you mean [nvmfd]?\n"
		  "7:e:unknown section [namepsace nqn.2026-11.io.t:a 1]; did you mean "
		  "[namespace nqn.2026-11.io.t:a 1]?\n"
		  "8:e:unknown section [frobnicate] (expected [nvmfd], [subsystem NQN], "
		  "[namespace NQN NSID] or [host NQN])\n");
	assert_null(cfg_suggest("x", cfg_global_keys));
	assert_string_equal(cfg_suggest("pth", cfg_ns_keys), "path");
	assert_string_equal(cfg_suggest("blocksize", cfg_ns_keys), "block_size");
	assert_string_equal(cfg_suggest("lisetn", cfg_global_keys), "listen");
}

/* [host NQN] sections are in the same report, in line order. */
static void test_host_sections(void **state)
{
	(void)state;
	check("[nvmfd]\nlisten = 127.0.0.1\n"			   /* 1-2 */
	      "[hots nqn.2026-11.io.t:h1]\n"			   /* 3 */
	      "[host nqn.2026-11.io.t:h2]\n"			   /* 4 */
	      "dhchap_hash = sha256\n"				   /* 5 */
	      "dhchap_key = @relative\n"			   /* 6 */
	      "path = ram:1M\n"					   /* 7 */
	      "[subsystem nqn.2026-11.io.t:a]\nallow_host = any\n" /* 8-9 */
	      "modle = x\n",					   /* 10 */
	      NULL, NULL);
	report_is("3:e:unknown section [hots nqn.2026-11.io.t:h1]; did you mean "
		  "[host nqn.2026-11.io.t:h1]?\n"
		  "5:e:unknown key 'dhchap_hash' in [host]; did you mean 'dhchap_hashes'?\n"
		  "6:e:dhchap_key = '@relative': expected @ and an absolute path\n"
		  "7:e:'path' is not a key of [host]: it belongs in [namespace NQN NSID]\n"
		  "10:e:unknown key 'modle' in [subsystem]; did you mean 'model'?\n");
}

/* Warnings: reported, counted apart, and the file still loads. */
static void test_warnings_do_not_fail(void **state)
{
	(void)state;
	assert_int_equal(
		check("[nvmfd]\nlisten = 127.0.0.1\nworkers = 2\nworkers = 3\n"
		      "[subsystem nqn.2026-11.io.t:a]\nallow_host = any\n"
		      "[namespace nqn.2026-11.io.t:a 1]\npath = ram:5000\nblock_size = 4096\n",
		      NULL, NULL),
		0);
	report_is("4:w:'workers' was already set at line 3: this value replaces it\n"
		  "8:w:path = ram:5000 is not a whole number of 4096-byte blocks: namespace 1 "
		  "holds 4096 bytes\n");
	/* listen, allow_host, listener and referral repeat by design */
	assert_int_equal(check("[nvmfd]\nlisten = 127.0.0.1\nlisten = 127.0.0.2\n"
			       "referral = 127.0.0.3\nreferral = 127.0.0.4\n"
			       "[subsystem nqn.2026-11.io.t:a]\nallow_host = nqn.2026-11.io.t:h1\n"
			       "allow_host = nqn.2026-11.io.t:h2\n"
			       "listener = 127.0.0.1\nlistener = 127.0.0.2\n",
			       NULL, NULL),
			 0);
	report_is("");
}

/* One wrong line is one message: no second one for what it causes. */
static void test_no_cascades(void **state)
{
	(void)state;
	check("[nvmfd]\nlisten = 1.2.3.4:99999\n"
	      "[subsystem not-an-nqn]\nallow_host = any\n"
	      "[namespace not-an-nqn 1]\npath = ram:1M\n"
	      "[subsystem nqn.2026-11.io.t:a]\nallow_host = any\n"
	      "[namespace nqn.2026-11.io.t:a 1]\npath = relative.img\n",
	      NULL, NULL);
	assert_null(strstr(got, "no 'listen"));
	assert_null(strstr(got, "no [subsystem not-an-nqn]"));
	assert_null(strstr(got, "has no path"));
	assert_non_null(strstr(got, "2:e:'1.2.3.4:99999' is not ADDRESS[:PORT]"));
	assert_non_null(strstr(got, "3:e:'not-an-nqn' is not a valid NQN"));
	assert_non_null(strstr(got, "10:e:path must be absolute"));
	/* cross-references at the line of the key that is wrong */
	check("[nvmfd]\nlisten = 127.0.0.1\nmax_transfer = 8k\nin_capsule_data = 16k\n", NULL,
	      NULL);
	report_is("4:e:in_capsule_data (16384) exceeds max_transfer (8192)\n");
	check("[nvmfd]\nworkers = 2\n", NULL, NULL);
	report_is("1:e:no 'listen = ADDRESS:PORT' in [nvmfd]\n");
}

/* The backing-store check: called for every namespace with a path (orphans
 * too), its messages at the path key's line, merged in line order. */
struct seen {
	int calls;
	char nqns[256];
	char ceph_conf[CFG_PATH_MAX]; /* what the last call saw in cfg */
};

static void fake_backing(void *arg, const struct cfg_config *cfg, const char *nqn,
			 const struct cfg_namespace *ns, struct cfg_diags *d)
{
	struct seen *s = arg;

	s->calls++;
	snprintf(s->ceph_conf, sizeof(s->ceph_conf), "%s", cfg->ceph_conf);
	strncat(s->nqns, nqn, sizeof(s->nqns) - strlen(s->nqns) - 2);
	strcat(s->nqns, " ");
	if (!ns->is_ram)
		cfg_diag_add(d, ns->path_line, false, "namespace %u of %s: %s: No such file",
			     ns->nsid, nqn, ns->path);
	else
		cfg_diag_add(d, ns->path_line, true, "namespace %u: a RAM warning", ns->nsid);
}

static void test_backing_stores_in_line_order(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(check("[nvmfd]\n"			       /* 1 */
			       "listen = 127.0.0.1\n"		       /* 2 */
			       "[subsystem nqn.2026-11.io.t:a]\n"      /* 3 */
			       "allow_host = any\n"		       /* 4 */
			       "[namespace nqn.2026-11.io.t:a 1]\n"    /* 5 */
			       "block_size = 4096\n"		       /* 6 */
			       "path = /missing/a.img\n"	       /* 7 */
			       "[namespace nqn.2026-11.io.t:a 2]\n"    /* 8 */
			       "path = ram:1M\n"		       /* 9 */
			       "bogus = 1\n"			       /* 10 */
			       "[namespace nqn.2026-11.io.t:gone 1]\n" /* 11 */
			       "path = /missing/b.img\n",	       /* 12 */
			       fake_backing, &s),
			 -EINVAL);
	assert_int_equal(s.calls, 3);
	assert_string_equal(s.nqns, "nqn.2026-11.io.t:a nqn.2026-11.io.t:a nqn.2026-11.io.t:gone ");
	report_is("7:e:namespace 1 of nqn.2026-11.io.t:a: /missing/a.img: No such file\n"
		  "9:w:namespace 2: a RAM warning\n"
		  "10:e:unknown key 'bogus' in [namespace]\n"
		  "11:e:namespace 1: no [subsystem nqn.2026-11.io.t:gone] in this file\n"
		  "12:e:namespace 1 of nqn.2026-11.io.t:gone: /missing/b.img: No such file\n");
}

/* The check sees the file's settings, even those after the namespace (an
 * rbd: path is opened through [nvmfd]'s ceph_conf, ceph_id, ceph_keyring). */
static void test_backing_check_sees_the_whole_file(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(check("[subsystem nqn.2026-11.io.t:a]\n"
			       "allow_host = any\n"
			       "[namespace nqn.2026-11.io.t:a 1]\n"
			       "path = ram:1M\n"
			       "[nvmfd]\n"
			       "listen = 127.0.0.1\n"
			       "ceph_conf = /etc/x/ceph.conf\n",
			       fake_backing, &s),
			 0);
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.ceph_conf, "/etc/x/ceph.conf");
}

/* Every key the suggestion lists name is one the parser accepts. */
static void test_key_lists_are_keys(void **state)
{
	static const struct {
		const char *const *keys;
		const char *header;
	} sections[] = {
		{cfg_global_keys, "[nvmfd]\n"},
		{cfg_subsys_keys, "[subsystem nqn.2026-11.io.t:a]\n"},
		{cfg_ns_keys, "[namespace nqn.2026-11.io.t:a 1]\n"},
		{cfg_host_keys, "[host nqn.2026-11.io.t:h]\n"},
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		for (size_t j = 0; sections[i].keys[j] != NULL; j++) {
			snprintf(text, sizeof(text), "%s%s = x\n", sections[i].header,
				 sections[i].keys[j]);
			check(text, NULL, NULL);
			if (strstr(got, "unknown key") != NULL)
				print_error("%s: %s", sections[i].keys[j], got);
			assert_null(strstr(got, "unknown key"));
		}
	}
}

/* A file that cannot be read: one error without a line. */
static void test_unreadable_file(void **state)
{
	struct cfg_diags d = {0};
	char line[256];

	(void)state;
	assert_int_equal(cfg_check_file("/nonexistent/nvmfd.ini", NULL, NULL, NULL, &d), -ENOENT);
	assert_int_equal(d.n, 1);
	cfg_diag_format(&d.d[0], "/nonexistent/nvmfd.ini", line, sizeof(line));
	assert_string_equal(line, "/nonexistent/nvmfd.ini: No such file or directory");
	cfg_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_error_in_line_order),
		cmocka_unit_test(test_load_buffer_in_line_order),
		cmocka_unit_test(test_suggestions),
		cmocka_unit_test(test_host_sections),
		cmocka_unit_test(test_warnings_do_not_fail),
		cmocka_unit_test(test_no_cascades),
		cmocka_unit_test(test_backing_stores_in_line_order),
		cmocka_unit_test(test_backing_check_sees_the_whole_file),
		cmocka_unit_test(test_key_lists_are_keys),
		cmocka_unit_test(test_unreadable_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
