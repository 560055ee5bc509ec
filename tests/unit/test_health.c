/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon/core/health.c on the hand-built target (t_daemon.c), in a temporary
 * state_dir: a save / load round trip (namespace, subsystem and target
 * counters), power cycles and unsafe shutdowns, records of what the
 * configuration no longer serves kept as they are, a retired subsystem,
 * a corrupt file set aside, an unreadable line ignored.
 */
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

#include "health.h"
#include "t_daemon.h"

static struct t_fixture F;
static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvmfd-t-health.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/health", dir);
	t_fixture_init(&F);
	return 0;
}

static int teardown(void **state)
{
	char p[160];

	(void)state;
	t_fixture_fini(&F);
	unlink(path);
	snprintf(p, sizeof(p), "%s.unreadable", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* A restart: a new fixture (counters zero), then health_open() on the same dir. */
static struct health *restart(struct health *h)
{
	struct health *n = NULL;

	health_close(h);
	t_fixture_fini(&F);
	t_fixture_init(&F);
	assert_int_equal(health_open(&F.t, dir, &n), 0);
	assert_non_null(n);
	return n;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *p)
{
	static char buf[8192];
	FILE *f = fopen(p, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void smart_of(uint32_t i, struct smart_counts *sc)
{
	ns_smart(&F.t, &F.ns[i], sc);
}

static void test_round_trip(void **state)
{
	struct health *h = NULL;
	struct smart_counts sc, sub;

	(void)state;
	assert_int_equal(health_open(&F.t, dir, &h), 0);
	assert_int_equal(F.t.power_cycles, 1);
	assert_int_equal(F.t.unsafe_shutdowns, 0);
	assert_non_null(strstr(read_file(path), "\nclean 0\n"));
	/* counts on both workers of namespace 1, one of namespace 5 */
	atomic_store(&F.stats[0][0].read_cmds, 10);
	atomic_store(&F.stats[0][1].read_cmds, 5);
	atomic_store(&F.stats[0][0].write_blocks, 1001);
	atomic_store(&F.stats[0][1].write_cmds, 7);
	atomic_store(&F.stats[0][1].busy_ns, 123456789);
	atomic_store(&F.stats[2][0].media_errors, 2);
	atomic_store(&F.stats[2][1].read_blocks, 42);
	atomic_store(&F.a.err_entries, 3);
	/* a namespace a reload removed: in the subsystem's only */
	atomic_load(&F.a.nst)->retired.write_cmds = 100;
	assert_int_equal(health_save(h, &F.t, true), 0);
	assert_non_null(strstr(read_file(path), "\nclean 1\n"));

	h = restart(h);
	assert_int_equal(F.t.power_cycles, 2);
	assert_int_equal(F.t.unsafe_shutdowns, 0);
	smart_of(0, &sc);
	assert_int_equal(sc.read_cmds, 15);
	assert_int_equal(sc.write_cmds, 7);
	assert_int_equal(sc.write_blocks, 1001);
	assert_int_equal(sc.busy_ns, 123456789);
	smart_of(1, &sc);
	assert_int_equal(sc.read_cmds + sc.write_cmds + sc.media_errors, 0);
	smart_of(2, &sc);
	assert_int_equal(sc.media_errors, 2);
	assert_int_equal(sc.read_blocks, 42);
	assert_int_equal(atomic_load(&F.a.err_entries), 3);
	assert_int_equal(atomic_load(&F.a.nst)->retired.write_cmds, 100);
	subsys_smart(&F.t, &F.a, &sub);
	assert_int_equal(sub.write_cmds, 107);
	assert_int_equal(sub.read_cmds, 15);
	/* this run's counts add to the stored ones */
	atomic_store(&F.stats[0][0].read_cmds, 1);
	smart_of(0, &sc);
	assert_int_equal(sc.read_cmds, 16);

	/* not stopped cleanly (the file says clean 0 since the start): one unsafe shutdown */
	h = restart(h);
	assert_int_equal(F.t.power_cycles, 3);
	assert_int_equal(F.t.unsafe_shutdowns, 1);
	smart_of(0, &sc);
	assert_int_equal(sc.read_cmds, 15); /* the 1 was never saved */
	assert_int_equal(health_save(h, &F.t, true), 0);
	h = restart(h);
	assert_int_equal(F.t.power_cycles, 4);
	assert_int_equal(F.t.unsafe_shutdowns, 1);
	health_close(h);
}

static void test_power_on_and_others_kept(void **state)
{
	struct health *h = NULL;
	struct smart_counts sc;
	const char *text;

	(void)state;
	write_file("nvmfd-health 1\n"
		   "clean 1\npower_cycles 9\npower_on_seconds 7200\nunsafe_shutdowns 4\n"
		   "namespace " NQN_A " 1 1 2 3 4 5 6\n"
		   "this line is not understood\n"
		   "subsystem nqn.2026-11.io.nvmfd:gone 11 1 1 1 1 1 1\n"
		   "namespace nqn.2026-11.io.nvmfd:gone 3 2 2 2 2 2 2\n"
		   "namespace " NQN_A " 4 9 9 9 9 9 9\n");
	assert_int_equal(health_open(&F.t, dir, &h), 0);
	assert_int_equal(F.t.power_cycles, 10);
	assert_int_equal(F.t.unsafe_shutdowns, 4);
	assert_int_equal(F.t.poh_base_s, 7200);
	smart_of(0, &sc);
	assert_int_equal(sc.read_cmds, 1);
	assert_int_equal(sc.media_errors, 6);
	assert_int_equal(health_save(h, &F.t, true), 0);
	text = read_file(path);
	/* what this configuration does not serve stays as it was */
	assert_non_null(strstr(text, "\nsubsystem nqn.2026-11.io.nvmfd:gone 11 1 1 1 1 1 1\n"));
	assert_non_null(strstr(text, "\nnamespace nqn.2026-11.io.nvmfd:gone 3 2 2 2 2 2 2\n"));
	assert_non_null(strstr(text, "\nnamespace " NQN_A " 4 9 9 9 9 9 9\n"));
	assert_non_null(strstr(text, "\nnamespace " NQN_A " 1 1 2 3 4 5 6\n"));
	assert_non_null(strstr(text, "\npower_on_seconds 72"));
	assert_null(strstr(text, "not understood"));
	health_close(h);
}

static void test_retire_subsys(void **state)
{
	struct health *h = NULL;
	struct smart_counts total = {.read_cmds = 50, .write_cmds = 60, .write_blocks = 70};
	const char *text;

	(void)state;
	write_file("nvmfd-health 1\nclean 1\n"
		   "namespace " NQN_B " 3 1 1 1 1 1 1\n");
	assert_int_equal(health_open(&F.t, dir, &h), 0);
	atomic_store(&F.b.err_entries, 5);
	/* a reload removed B: its namespaces' counters are in its total now */
	health_retire_subsys(h, &F.b, &total);
	health_retire_subsys(NULL, &F.b, &total); /* at exit, without a health */
	/* the record is written as long as B is not served (here: taken out of the table) */
	atomic_load(&F.t.st)->n = 1;
	assert_int_equal(health_save(h, &F.t, true), 0);
	atomic_load(&F.t.st)->n = 2;
	text = read_file(path);
	assert_non_null(strstr(text, "\nsubsystem " NQN_B " 5 50 60 0 70 0 0\n"));
	assert_null(strstr(text, "namespace " NQN_B));
	health_close(h);
}

static void test_corrupt_file(void **state)
{
	struct health *h = NULL;
	char old[160];
	const char *text;

	(void)state;
	write_file("\x01garbage power_cycles 77\n");
	assert_int_equal(health_open(&F.t, dir, &h), 0);
	assert_int_equal(F.t.power_cycles, 1);
	assert_int_equal(F.t.unsafe_shutdowns, 0);
	snprintf(old, sizeof(old), "%s.unreadable", path);
	text = read_file(old);
	assert_non_null(text);
	assert_string_equal(text, "\x01garbage power_cycles 77\n");
	text = read_file(path);
	assert_non_null(text);
	assert_int_equal(strncmp(text, "nvmfd-health 1\n", 15), 0);
	health_close(h);
}

static void test_no_state_dir(void **state)
{
	struct health *h = NULL;
	char p[160];

	(void)state;
	/* a regular file where the directory should be */
	snprintf(p, sizeof(p), "%s/file", dir);
	write_file("x");
	assert_int_equal(rename(path, p), 0);
	assert_int_equal(health_open(&F.t, p, &h), 0);
	assert_non_null(h);
	assert_int_equal(F.t.power_cycles, 1);
	/* every call works; nothing is written */
	assert_int_equal(health_save(h, &F.t, true), 0);
	assert_string_equal(read_file(p), "x");
	health_close(h);
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_on_and_others_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retire_subsys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_state_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
