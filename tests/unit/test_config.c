/* SPDX-License-Identifier: BSD-2-Clause */
/* conf/: the INI format, its defaults, and a file:line message for every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char err[4096];

static struct cfg_config *load_ok(const char *text)
{
	struct cfg_config *cfg = NULL;
	int ret = cfg_load_string("t.ini", text, &cfg, err, sizeof(err));

	if (ret != 0)
		print_error("unexpected errors:\n%s", err);
	assert_int_equal(ret, 0);
	assert_non_null(cfg);
	return cfg;
}

/* The load must fail, and the messages must contain `want`. */
static void load_fails(const char *text, const char *want)
{
	struct cfg_config *cfg = NULL;
	int ret = cfg_load_string("t.ini", text, &cfg, err, sizeof(err));

	assert_int_not_equal(ret, 0);
	assert_null(cfg);
	if (strstr(err, want) == NULL)
		print_error("expected \"%s\" in:\n%s", want ? want : "", err);
	assert_non_null(strstr(err, want));
}

/* ANA states on listen lines, ana_group, subsystem listeners, referrals, cntlid_range. */
static void test_gateways(void **state)
{
	static const char text[] =
		"[nvmfd]\n"
		"listen = 127.0.0.1:4420 ana_state=1:optimized,2:inaccessible\n"
		"listen = 127.0.0.1:4421   ana_state=1:non-optimized,3:persistent_loss,64:change\n"
		"listen = [::1]:4422\n"
		"cntlid_range = 100-0x1ff\n"
		"referral = 192.0.2.9\n"
		"referral = [fd00::9]:8010, 192.0.2.10:8011\n"
		"[subsystem nqn.2026-11.io.nvmfd:g]\n"
		"allow_host = any\n"
		"listener = 127.0.0.1:4421, [::1]:4422\n"
		"[subsystem nqn.2026-11.io.nvmfd:h]\n"
		"allow_host = any\n"
		"[namespace nqn.2026-11.io.nvmfd:g 1]\n"
		"path = ram:1M\n"
		"ana_group = 2\n"
		"[namespace nqn.2026-11.io.nvmfd:g 2]\n"
		"path = ram:1M\n";
	struct cfg_config *cfg = load_ok(text);
	const struct cfg_subsystem *g = &cfg->subsys[0], *h = &cfg->subsys[1];

	(void)state;
	assert_int_equal(cfg->listeners[0].ana_state[1], CFG_ANA_OPTIMIZED);
	assert_int_equal(cfg->listeners[0].ana_state[2], CFG_ANA_INACCESSIBLE);
	assert_int_equal(cfg->listeners[0].ana_state[3], CFG_ANA_OPTIMIZED);
	assert_int_equal(cfg->listeners[0].port, 4420);
	assert_int_equal(cfg->listeners[1].ana_state[1], CFG_ANA_NON_OPTIMIZED);
	assert_int_equal(cfg->listeners[1].ana_state[3], CFG_ANA_PERSISTENT_LOSS);
	assert_int_equal(cfg->listeners[1].ana_state[64], CFG_ANA_CHANGE);
	assert_int_equal(cfg->listeners[2].ana_state[1], CFG_ANA_OPTIMIZED);
	assert_string_equal(cfg->listeners[2].host, "::1");
	assert_int_equal(cfg->cntlid_min, 100);
	assert_int_equal(cfg->cntlid_max, 0x1ff);
	assert_int_equal(cfg->nreferrals, 3);
	assert_string_equal(cfg->referrals[0].host, "192.0.2.9");
	assert_int_equal(cfg->referrals[0].port, 8009);
	assert_string_equal(cfg->referrals[1].host, "fd00::9");
	assert_int_equal(cfg->referrals[1].port, 8010);
	assert_int_equal(cfg->referrals[2].port, 8011);
	assert_int_equal(g->nports, 2);
	assert_true(cfg_subsys_serves(g, "127.0.0.1", 4421));
	assert_true(cfg_subsys_serves(g, "::1", 4422));
	assert_false(cfg_subsys_serves(g, "127.0.0.1", 4420));
	assert_int_equal(h->nports, 0);
	assert_true(cfg_subsys_serves(h, "127.0.0.1", 4420));
	assert_int_equal(g->ns[0].ana_group, 2);
	assert_int_equal(g->ns[1].ana_group, 1);
	assert_string_equal(cfg_ana_state_name(CFG_ANA_NON_OPTIMIZED), "non-optimized");
	cfg_free(cfg);

	/* defaults: every ID, no referral, every group optimized */
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\n");
	assert_int_equal(cfg->cntlid_min, 1);
	assert_int_equal(cfg->cntlid_max, 0xffef);
	assert_int_equal(cfg->nreferrals, 0);
	assert_int_equal(cfg->listeners[0].ana_state[17], CFG_ANA_OPTIMIZED);
	cfg_free(cfg);
	/* the ANA log must fit MDTS: 4 KiB transfers hold 508 namespaces */
	assert_int_equal(cfg_max_namespaces(4096), 508);
	assert_int_equal(cfg_max_namespaces(1u << 20), 1024);
}

static void test_gateway_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"[nvmfd]\nlisten = 127.0.0.1:4420 ana_state=1:fast\n",
		 "t.ini:2: ana_state '1:fast': unknown state 'fast'"},
		{"[nvmfd]\nlisten = 127.0.0.1:4420 ana_state=0:optimized\n",
		 "t.ini:2: ana_state '0:optimized': expected GROUP:STATE, GROUP from 1 to 64"},
		{"[nvmfd]\nlisten = 127.0.0.1:4420 ana_state=65:optimized\n",
		 "t.ini:2: ana_state '65:optimized'"},
		{"[nvmfd]\nlisten = 127.0.0.1:4420 ana_state=1:change,1:optimized\n",
		 "t.ini:2: ana_state: group 1 is given twice"},
		{"[nvmfd]\nlisten = 127.0.0.1:4420 ana_state=\n", "t.ini:2: ana_state is empty"},
		{"[nvmfd]\nlisten = 127.0.0.1:4420 anastate=1:change\n",
		 "t.ini:2: unknown option 'anastate=1:change'"},
		{"[nvmfd]\nlisten = 127.0.0.1\ndiscovery_listen = 127.0.0.1:8009 "
		 "ana_state=1:optimized\n",
		 "t.ini:3: a discovery_listen port has no ANA state"},
		{"[nvmfd]\nlisten = 127.0.0.1\ncntlid_range = 0-10\n",
		 "t.ini:3: cntlid_range = '0-10': expected MIN-MAX"},
		{"[nvmfd]\nlisten = 127.0.0.1\ncntlid_range = 20-10\n", "t.ini:3: cntlid_range"},
		{"[nvmfd]\nlisten = 127.0.0.1\ncntlid_range = 1-65520\n", "t.ini:3: cntlid_range"},
		{"[nvmfd]\nlisten = 127.0.0.1\ncntlid_range = 7\n", "t.ini:3: cntlid_range"},
		{"[nvmfd]\nlisten = 127.0.0.1\nreferral = gw2.example:8009\n",
		 "t.ini:3: referral = 'gw2.example:8009': the address must be numeric"},
		{"[nvmfd]\nlisten = 127.0.0.1\nreferral = 1.2.3.4\nreferral = 1.2.3.4:8009\n",
		 "t.ini:4: referral 1.2.3.4:8009 is already given (line 3)"},
		{"[nvmfd]\nlisten = 127.0.0.1\n[subsystem nqn.2026-11.io.nvmfd:g]\n"
		 "allow_host = any\nlistener = 127.0.0.1:4421\n",
		 "t.ini:5: listener 127.0.0.1:4421 of nqn.2026-11.io.nvmfd:g is not a 'listen =' "
		 "address of [nvmfd]"},
		{"[nvmfd]\nlisten = 127.0.0.1\n[subsystem nqn.2026-11.io.nvmfd:g]\n"
		 "allow_host = any\nlistener = 127.0.0.1:8009\n",
		 "t.ini:5: listener 127.0.0.1:8009"},
		{"[nvmfd]\nlisten = 127.0.0.1\n[subsystem nqn.2026-11.io.nvmfd:g]\n"
		 "allow_host = any\nlistener = 127.0.0.1:x\n",
		 "t.ini:5: listener = '127.0.0.1:x': not ADDRESS[:PORT]"},
		{"[nvmfd]\nlisten = 127.0.0.1\n[subsystem nqn.2026-11.io.nvmfd:g]\n"
		 "allow_host = any\n[namespace nqn.2026-11.io.nvmfd:g 1]\npath = ram:1M\n"
		 "ana_group = 65\n",
		 "t.ini:7: ana_group = '65': expected a number from 1 to 64"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		load_fails(cases[i].text, cases[i].want);
}

static void test_default(void **state)
{
	struct cfg_config *cfg = NULL;

	(void)state;
	assert_int_equal(cfg_load_default(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nsubsys, 1);
	assert_string_equal(cfg->subsys[0].nqn, CFG_DEFAULT_NQN);
	assert_true(cfg->subsys[0].allow_any_host);
	assert_int_equal(cfg->subsys[0].nns, 1);
	assert_true(cfg->subsys[0].ns[0].is_ram);
	assert_int_equal(cfg->subsys[0].ns[0].ram_size, 1ULL << 30);
	assert_int_equal(cfg->nlisteners, 2);
	assert_string_equal(cfg->listeners[0].host, "127.0.0.1");
	assert_int_equal(cfg->listeners[0].port, 4420);
	assert_false(cfg->listeners[0].discovery_only);
	assert_int_equal(cfg->listeners[1].port, 8009);
	assert_true(cfg->listeners[1].discovery_only);
	cfg_free(cfg);
}

static void test_full_file(void **state)
{
	struct cfg_config *cfg;

	(void)state;
	cfg = load_ok("; a comment\n"
		      "[nvmfd]\n"
		      "listen = 0.0.0.0:4420\n"
		      "listen = [::1]:4421   ; inline comment\n"
		      "workers = 2\n"
		      "max_h2c_data = 256k\n"
		      "max_transfer = 2M\n"
		      "log_level = debug\n"
		      "\n"
		      "[namespace nqn.2026-11.org.example:disk0 2]\n"
		      "path = /dev/vdb\n"
		      "read_only = yes\n"
		      "[subsystem nqn.2026-11.org.example:disk0]\n"
		      "allow_host = nqn.2014-08.org.nvmexpress:uuid:"
		      "6a7f1f3c-0b6e-4a43-9c54-2a3a55a4a2b1\n"
		      "allow_host = nqn.2026-11.org.example:host2\n"
		      "serial = SER1\n"
		      "[namespace nqn.2026-11.org.example:disk0 1]\n"
		      "path = ram:64M\n"
		      "block_size = 4096\n"
		      "prealloc = no\n"
		      "uuid = 00112233-4455-6677-8899-aabbccddeeff\n");
	assert_int_equal(cfg->workers, 2);
	assert_int_equal(cfg->max_h2c_data, 256 * 1024);
	assert_int_equal(cfg->max_transfer, 2 * 1024 * 1024);
	assert_int_equal(cfg->log_level, CFG_LOG_DEBUG);
	/* two I/O listeners, and the implied discovery port on each address */
	assert_int_equal(cfg->nlisteners, 4);
	assert_string_equal(cfg->listeners[1].host, "::1");
	assert_int_equal(cfg->listeners[1].port, 4421);
	assert_int_equal(cfg->listeners[3].port, 8009);
	assert_int_equal(cfg->nsubsys, 1);
	assert_int_equal(cfg->subsys[0].nhosts, 2);
	assert_string_equal(cfg->subsys[0].serial, "SER1");
	assert_string_equal(cfg->subsys[0].model, "nvmfd");
	assert_int_equal(cfg->subsys[0].nns, 2);
	assert_int_equal(cfg->subsys[0].ns[0].nsid, 2);
	assert_true(cfg->subsys[0].ns[0].read_only);
	assert_int_equal(cfg->subsys[0].ns[1].block_size, 4096);
	assert_true(cfg->subsys[0].ns[0].prealloc); /* the default */
	assert_false(cfg->subsys[0].ns[1].prealloc);
	assert_true(cfg->subsys[0].ns[1].has_uuid);
	assert_int_equal(cfg->subsys[0].ns[1].uuid[15], 0xff);
	cfg_free(cfg);
}

static void test_discovery_listen_none(void **state)
{
	struct cfg_config *cfg;

	(void)state;
	cfg = load_ok("[nvmfd]\nlisten = 10.1.1.1\ndiscovery_listen = none\n");
	assert_int_equal(cfg->nlisteners, 1);
	assert_int_equal(cfg->listeners[0].port, 4420);
	assert_int_equal(cfg->nsubsys, 0);
	cfg_free(cfg);
}

static void test_errors(void **state)
{
	static const char g[] = "[nvmfd]\nlisten = 127.0.0.1:4420\n";
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"[nvmfd]\nlisten = 127.0.0.1:4420\nread_onyl = yes\n",
		 "t.ini:3: unknown key 'read_onyl' in [nvmfd]"},
		{"[nvmfd]\nlisten = 127.0.0.1:4420\n[bogus]\n", "t.ini:3: unknown section [bogus]"},
		{"[nvmfd]\nlisten = 1.2.3.4:99999\n", "t.ini:2: '1.2.3.4:99999' is not ADDRESS"},
		{"[nvmfd]\nlisten = ::1\n", "t.ini:2:"},
		{"[nvmfd]\nworkers = 0\nlisten=1.1.1.1\n", "t.ini:2: workers = '0'"},
		{"[nvmfd]\n", "no 'listen = ADDRESS:PORT'"},
		{"[nvmfd]\nlisten = 127.0.0.1\nlisten = 127.0.0.1:4420\n",
		 "t.ini:3: 127.0.0.1:4420 is already a listener (line 2)"},
		{"[nvmfd]\nlisten = 127.0.0.1\nmax_h2c_data = 4098\n", "multiple of 4"},
		{"[nvmfd]\nlisten = 127.0.0.1\nstate_dir = relative\n", "t.ini:3: state_dir"},
		{"[subsystem not-an-nqn]\n", "t.ini:1: 'not-an-nqn' is not a valid NQN"},
		{"[subsystem nqn.2014-08.org.nvmexpress.discovery]\n",
		 "t.ini:1: the discovery NQN"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\n",
		 "t.ini:3: subsystem nqn.2026-11.a:b allows no host"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\nallow_host = any\n"
		 "[subsystem nqn.2026-11.a:b]\n",
		 "t.ini:5: subsystem nqn.2026-11.a:b is already defined at line 3"},
		{"[nvmfd]\nlisten=1.1.1.1\n[namespace nqn.2026-11.a:b 1]\npath = ram:1M\n",
		 "t.ini:3: namespace 1: no [subsystem nqn.2026-11.a:b]"},
		{"[namespace nqn.2026-11.a:b 0]\n", "t.ini:1: namespace ID '0'"},
		{"[namespace nqn.2026-11.a:b x]\n", "t.ini:1: namespace ID 'x'"},
		{"[namespace nqn.2026-11.a:b]\n",
		 "t.ini:1: expected [namespace SUBSYSTEM-NQN NSID]"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\nallow_host=any\n"
		 "[namespace nqn.2026-11.a:b 1]\npath = ram:1X\n",
		 "t.ini:6: path = 'ram:1X'"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\nallow_host=any\n"
		 "[namespace nqn.2026-11.a:b 1]\nblock_size = 1024\n",
		 "t.ini:6: block_size must be 512 or 4096"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\nallow_host=any\n"
		 "[namespace nqn.2026-11.a:b 1]\nread_only = maybe\n",
		 "t.ini:6: read_only = 'maybe'"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\nallow_host=any\n"
		 "[namespace nqn.2026-11.a:b 1]\nprealloc = sometimes\n",
		 "t.ini:6: prealloc = 'sometimes': expected yes or no"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\nallow_host=any\n"
		 "[namespace nqn.2026-11.a:b 1]\n",
		 "t.ini:5: namespace 1 of nqn.2026-11.a:b has no path"},
		{"listen = 1.1.1.1\n", "t.ini:1: 'listen' before any [section]"},
		{"[nvmfd]\nthis line has no equals sign\n", "t.ini:2: syntax error"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\nallow_host = bad host\n",
		 "t.ini:4: allow_host = 'bad host'"},
		{"[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\n"
		 "serial = 123456789012345678901\n",
		 "t.ini:4: serial must be 1 to 20"},
	};

	(void)state;
	(void)g;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		load_fails(cases[i].text, cases[i].want);
}

static void test_long_line(void **state)
{
	char text[1024];
	char host[400];

	(void)state;
	memset(host, 'a', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "[nvmfd]\nlisten=1.1.1.1\n[subsystem nqn.2026-11.a:b]\n"
		 "allow_host = nqn.2026-11.a:%s\nallow_host = any\n",
		 host);
	load_fails(text, "t.ini:4: line longer than 198 characters");
	/* ... and the line after it is not a phantom error */
	assert_null(strstr(err, "t.ini:5"));
}

static void test_multiple_errors(void **state)
{
	(void)state;
	load_fails("[nvmfd]\nlisten = x:y\nfoo = 1\n", "t.ini:2:");
	assert_non_null(strstr(err, "t.ini:3: unknown key 'foo'"));
}

static void test_file(void **state)
{
	struct cfg_config *cfg = NULL;
	char path[] = "/tmp/nvmfd-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("[nvmfd]\nlisten = 127.0.0.1:4420\nbad = 1\n", f);
	fclose(f);
	assert_int_not_equal(cfg_load_file(path, &cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":3: unknown key 'bad'"));
	assert_non_null(strstr(err, path));
	unlink(path);
	assert_int_not_equal(cfg_load_file(path, &cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "No such file"));
}

/* text loads, and its limits are these (in the order of struct cfg_config). */
static void limits_are(const char *text, uint32_t conns, uint32_t per_host, uint32_t ctrls,
		       uint32_t icreq_ms, uint32_t pdu_ms, uint32_t bufs)
{
	struct cfg_config *cfg = load_ok(text);

	assert_int_equal(cfg->max_connections, conns);
	assert_int_equal(cfg->max_connections_per_host, per_host);
	assert_int_equal(cfg->max_controllers_per_subsystem, ctrls);
	assert_int_equal(cfg->icreq_timeout_ms, icreq_ms);
	assert_int_equal(cfg->pdu_timeout_ms, pdu_ms);
	assert_int_equal(cfg->max_buffers_per_connection, bufs);
	cfg_free(cfg);
}

/* The resource limits: defaults, values, units, and file:line errors. */
static void test_limits(void **state)
{
	struct cfg_config *cfg;

	(void)state;
	limits_are("[nvmfd]\nlisten = 127.0.0.1\n", 4096, 1024, 256, 10000, 30000, 32u << 20);
	limits_are("[nvmfd]\nlisten = 127.0.0.1\nmax_connections = 10k\n"
		   "max_connections_per_host = 8\nmax_controllers_per_subsystem = 2\n"
		   "icreq_timeout = 500ms\npdu_timeout = 2s\n"
		   "max_buffers_per_connection = 4M\n",
		   10240, 8, 2, 500, 2000, 4u << 20);
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\npdu_timeout = 45\n");
	assert_int_equal(cfg->pdu_timeout_ms, 45000);
	cfg_free(cfg);
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nmax_connections = 0\n",
		   "t.ini:3: max_connections = '0': expected a number from 1");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nmax_connections_per_host = many\n",
		   "t.ini:3: max_connections_per_host = 'many'");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nmax_controllers_per_subsystem = 2000\n",
		   "t.ini:3: max_controllers_per_subsystem = '2000': expected a number from 1 to "
		   "1024");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nicreq_timeout = 10 s\n",
		   "t.ini:3: icreq_timeout = '10 s': expected a duration");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nicreq_timeout = 50ms\n",
		   "t.ini:3: icreq_timeout = '50ms'");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\npdu_timeout = 2h\n",
		   "t.ini:3: pdu_timeout = '2h'");
	load_fails(
		"[nvmfd]\nlisten = 127.0.0.1\nmax_buffers_per_connection = 64k\n"
		"max_transfer = 1M\n",
		"t.ini:3: max_buffers_per_connection (65536) is less than max_transfer (1048576)");
}

/* TCP keepalive (nvmfd.ini(5)): defaults that find a vanished host in 90 s; 0 is off. */
static void test_tcp_keepalive(void **state)
{
	struct cfg_config *cfg;

	(void)state;
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\n");
	assert_int_equal(cfg->tcp_keepalive_idle_ms, 30000);
	assert_int_equal(cfg->tcp_keepalive_interval_ms, 10000);
	assert_int_equal(cfg->tcp_keepalive_count, 6);
	cfg_free(cfg);
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\ntcp_keepalive_idle = 0\n"
		      "tcp_keepalive_interval = 2s\ntcp_keepalive_count = 3\n");
	assert_int_equal(cfg->tcp_keepalive_idle_ms, 0);
	assert_int_equal(cfg->tcp_keepalive_interval_ms, 2000);
	assert_int_equal(cfg->tcp_keepalive_count, 3);
	cfg_free(cfg);
	load_fails("[nvmfd]\nlisten = 127.0.0.1\ntcp_keepalive_idle = 3h\n",
		   "t.ini:3: tcp_keepalive_idle = '3h': expected a duration");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\ntcp_keepalive_interval = 0\n",
		   "t.ini:3: tcp_keepalive_interval = '0'");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\ntcp_keepalive_count = 0\n",
		   "t.ini:3: tcp_keepalive_count = '0': expected a number from 1 to 127");
}

static void test_parsers(void **state)
{
	uint64_t v;
	uint8_t u[16];
	bool b;

	(void)state;
	assert_int_equal(cfg_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cfg_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(cfg_parse_size("2T", &v), 0);
	assert_int_equal(v, 2ULL << 40);
	assert_int_not_equal(cfg_parse_size("-1", &v), 0);
	assert_int_not_equal(cfg_parse_size("1Q", &v), 0);
	assert_int_not_equal(cfg_parse_size("99999999999999999999", &v), 0);
	assert_int_not_equal(cfg_parse_size("99999999999T", &v), 0);
	assert_int_equal(cfg_parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_not_equal(cfg_parse_bool("y", &b), 0);
	assert_int_equal(cfg_parse_uuid("00112233-4455-6677-8899-aabbccddeeff", u), 0);
	assert_int_equal(u[0], 0x00);
	assert_int_equal(u[5], 0x55);
	assert_int_not_equal(cfg_parse_uuid("00112233-4455-6677-8899-aabbccddeefg", u), 0);
	assert_true(cfg_nqn_valid("nqn.2014-08.org.nvmexpress.discovery"));
	assert_false(cfg_nqn_valid("nqn.14-08.org"));
	assert_false(cfg_nqn_valid("iqn.2014-08.org.example"));
	assert_false(cfg_nqn_valid("nqn.2014-08.org.nvmexpress:uuid:nope"));
	assert_int_equal(cfg_parse_duration_ms("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(cfg_parse_duration_ms("3s", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(cfg_parse_duration_ms("7", &v), 0);
	assert_int_equal(v, 7000);
	assert_int_not_equal(cfg_parse_duration_ms("3m", &v), 0);
	assert_int_not_equal(cfg_parse_duration_ms("-1", &v), 0);
	assert_int_not_equal(cfg_parse_duration_ms("", &v), 0);
	assert_int_not_equal(cfg_parse_duration_ms("500us", &v), 0); /* below the unit */
	assert_int_equal(cfg_parse_duration_ms("2000us", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(cfg_parse_duration_us("50us", &v), 0);
	assert_int_equal(v, 50);
	assert_int_equal(cfg_parse_duration_us("1ms", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(cfg_parse_duration_us("2", &v), 0);
	assert_int_equal(v, 2000000);
	assert_int_not_equal(cfg_parse_duration_us("5 us", &v), 0);
}

/* busy_poll: the default, units, 0, and the range. */
static void test_busy_poll(void **state)
{
	struct cfg_config *cfg;

	(void)state;
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\n");
	assert_int_equal(cfg->busy_poll_us, 50);
	cfg_free(cfg);
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\nbusy_poll = 0\n");
	assert_int_equal(cfg->busy_poll_us, 0);
	cfg_free(cfg);
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\nbusy_poll = 1ms\n");
	assert_int_equal(cfg->busy_poll_us, 1000);
	cfg_free(cfg);
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\nbusy_poll = 20us\n");
	assert_int_equal(cfg->busy_poll_us, 20);
	cfg_free(cfg);
	/* a bare number is seconds, as for every duration: far beyond the range */
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nbusy_poll = 50\n",
		   "t.ini:3: busy_poll = '50': expected a duration from 0 to 1000us");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nbusy_poll = 2ms\n", "t.ini:3: busy_poll = '2ms'");
	load_fails("[nvmfd]\nlisten = 127.0.0.1\nbusy_poll = fast\n",
		   "t.ini:3: busy_poll = 'fast'");
}

/* RBD: rbd:POOL/IMAGE paths and the [nvmfd] keys that reach the cluster. */
static void test_rbd(void **state)
{
	static const char head[] = "[nvmfd]\nlisten = 127.0.0.1\n";
	static const char sub[] = "[subsystem nqn.2026-11.io.nvmfd:r]\nallow_host = any\n"
				  "[namespace nqn.2026-11.io.nvmfd:r 1]\n";
	static const char *const bad_paths[] = {
		"rbd:",		 "rbd:pool",	"rbd:/img",	     "rbd:pool/",
		"rbd:pool//img", "rbd:a/b/c/d", "rbd:pool/img@snap", "rbd:pool/my img",
	};
	struct cfg_config *cfg;
	char text[512];

	(void)state;
	cfg = load_ok("[nvmfd]\nlisten = 127.0.0.1\n");
	assert_string_equal(cfg->ceph_conf, "");
	assert_string_equal(cfg->ceph_id, "");
	assert_string_equal(cfg->ceph_keyring, "");
	cfg_free(cfg);
	snprintf(text, sizeof(text),
		 "%sceph_conf = /etc/ceph/c.conf\nceph_id = nvmeof.gw-1\n"
		 "ceph_keyring = /etc/ceph/k\n%spath = rbd:rbd/img\n"
		 "[namespace nqn.2026-11.io.nvmfd:r 2]\npath = rbd:pool/ns/img\nread_only = yes\n",
		 head, sub);
	cfg = load_ok(text);
	assert_string_equal(cfg->ceph_conf, "/etc/ceph/c.conf");
	assert_string_equal(cfg->ceph_id, "nvmeof.gw-1");
	assert_string_equal(cfg->ceph_keyring, "/etc/ceph/k");
	assert_int_equal(cfg->subsys[0].nns, 2);
	assert_true(cfg->subsys[0].ns[0].is_rbd);
	assert_false(cfg->subsys[0].ns[0].is_ram);
	assert_string_equal(cfg->subsys[0].ns[1].path, "rbd:pool/ns/img");
	cfg_free(cfg);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		snprintf(text, sizeof(text), "%s%spath = %s\n", head, sub, bad_paths[i]);
		load_fails(text, "t.ini:6: path = ");
		load_fails(text, "expected rbd:POOL/IMAGE");
	}
	snprintf(text, sizeof(text), "%sceph_conf = ceph.conf\n", head);
	load_fails(text, "t.ini:3: ceph_conf must be an absolute path");
	snprintf(text, sizeof(text), "%sceph_keyring = k\n", head);
	load_fails(text, "t.ini:3: ceph_keyring must be an absolute path");
	snprintf(text, sizeof(text), "%sceph_id = client.admin\n", head);
	load_fails(text, "t.ini:3: ceph_id = 'client.admin': expected a Ceph client name");
	snprintf(text, sizeof(text), "%sceph_id = a b\n", head);
	load_fails(text, "t.ini:3: ceph_id = 'a b'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_gateway_errors),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_discovery_listen_none),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_busy_poll),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tcp_keepalive),
		cmocka_unit_test(test_rbd),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
