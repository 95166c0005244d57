/* Unit tests for util/counters.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../util/counters.c"

#define T0 1700000000ULL

/* A zero padded comm key from a name. */
static const char *
key(const char *name)
{
	static char k[4][CNT_COMM_LEN];
	static int i;
	char *p = k[i++ % 4];

	memset(p, 0, CNT_COMM_LEN);
	strncpy(p, name, CNT_COMM_LEN - 1);
	return p;
}

static void
test_basic(void **state)
{
	struct counters *c = counters_new();

	(void)state;
	assert_non_null(c);
	assert_int_equal(counters_add(c, T0, T0, 1, key("a"), CNT_CONNECT, 2), 0);
	assert_int_equal(counters_add(c, T0, T0, 1, key("a"), CNT_CONNECT, 3), 0);
	assert_int_equal(counters_add(c, T0, T0, 2, key("b"), CNT_CONNECT, 1), 0);
	assert_int_equal(counters_add(c, T0, T0, 2, key("b"), CNT_CONNECT, 0), 0);
	assert_int_equal(counters_add(c, T0 + 1, T0 + 1, 1, key("b"), CNT_CONNECT, 10), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 1, 1, CNT_CONNECT) == 10);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 1, 2, CNT_CONNECT) == 15);
	assert_true(counters_count(c, 1, 2, NULL, T0 + 1, 2, CNT_CONNECT) == 1);
	assert_true(counters_count(c, 1, 3, NULL, T0 + 1, 2, CNT_CONNECT) == 0);
	assert_true(counters_count(c, 0, 0, key("a"), T0 + 1, 2, CNT_CONNECT) == 5);
	assert_true(counters_count(c, 0, 0, key("b"), T0 + 1, 2, CNT_CONNECT) == 11);
	assert_true(counters_count(c, 0, 0, key("b"), T0, 1, CNT_CONNECT) == 1);
	assert_true(counters_count(c, 0, 0, NULL, T0 + 1, 2, CNT_CONNECT) == 16);
	assert_true(counters_count(c, 0, 0, NULL, T0 + 1, 0, CNT_CONNECT) == 0);
	/* pid wins over comm when both are given. */
	assert_true(counters_count(c, 1, 2, key("a"), T0 + 1, 2, CNT_CONNECT) == 1);
	counters_free(c);
	counters_free(NULL);
}

/* Thousands of pids and names in one second: the tables grow and keep
 * every count. */
static void
test_growth(void **state)
{
	struct counters *c = counters_new();
	char name[16];
	uint32_t i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "p%u", i % 5000);
		assert_int_equal(counters_add(c, T0, T0, i, key(name), CNT_CONNECT, i + 1), 0);
	}
	for (i = 0; i < 20000; i += 777)
		assert_true(counters_count(c, 1, i, NULL, T0, 1, CNT_CONNECT) == i + 1);
	/* Names repeat every 5000 pids. */
	assert_true(counters_count(c, 0, 0, key("p3"), T0, 1, CNT_CONNECT) ==
	    4 + 5004 + 10004 + 15004);
	assert_true(counters_bytes(c) >= sizeof(*c) + 20000 * sizeof(struct pident));
	counters_free(c);
}

static void
test_window(void **state)
{
	struct counters *c = counters_new();
	size_t empty = counters_bytes(c);
	uint64_t s;

	(void)state;
	counters_advance(c, T0);
	/* One event in each second of an hour. */
	for (s = T0 - CNT_WINDOW + 1; s <= T0; s++)
		assert_int_equal(counters_add(c, T0, s, 1, key("x"), CNT_CONNECT, 1), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0, CNT_WINDOW, CNT_CONNECT) == CNT_WINDOW);
	assert_true(counters_count(c, 1, 1, NULL, T0, 60, CNT_CONNECT) == 60);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 10, 60, CNT_CONNECT) == 50);
	/* A second that left the window is refused, one ahead is now. */
	assert_int_equal(counters_add(c, T0, T0 - CNT_WINDOW, 1, key("x"), CNT_CONNECT, 1), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0 - CNT_WINDOW, 1, CNT_CONNECT) == 0);
	assert_int_equal(counters_add(c, T0, T0 + 100, 1, key("x"), CNT_CONNECT, 5), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_CONNECT) == 6);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 100, 1, CNT_CONNECT) == 0);

	/* 30 minutes on, half the hour is released. */
	counters_advance(c, T0 + 1800);
	assert_true(counters_count(c, 1, 1, NULL, T0, CNT_WINDOW, CNT_CONNECT) == 1800 + 5);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 1800, CNT_WINDOW, CNT_CONNECT) == 1800 + 5);
	assert_true(counters_bytes(c) < empty + 1801 * 2 * 16 * 24);
	/* The clock going back is not a reason to drop anything. */
	counters_advance(c, T0);
	assert_true(counters_count(c, 1, 1, NULL, T0, CNT_WINDOW, CNT_CONNECT) == 1800 + 5);
	/* An hour after the last event everything is gone. */
	counters_advance(c, T0 + CNT_WINDOW);
	assert_true(counters_bytes(c) == empty);
	assert_true(counters_count(c, 0, 0, NULL, T0, CNT_WINDOW, CNT_CONNECT) == 0);
	counters_free(c);
}

/* Without counters_advance(), a slot reused an hour later starts empty. */
static void
test_slot_reuse(void **state)
{
	struct counters *c = counters_new();

	(void)state;
	counters_add(c, T0, T0, 1, key("x"), CNT_CONNECT, 7);
	counters_add(c, T0 + CNT_WINDOW, T0 + CNT_WINDOW, 1, key("x"), CNT_CONNECT, 1);
	assert_true(counters_count(c, 1, 1, NULL, T0 + CNT_WINDOW, CNT_WINDOW, CNT_CONNECT) == 1);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_CONNECT) == 0);
	/* Near the epoch the window does not wrap below second 0. */
	counters_add(c, 5, 0, 9, key("y"), CNT_CONNECT, 3);
	assert_true(counters_count(c, 1, 9, NULL, 2, CNT_WINDOW, CNT_CONNECT) == 3);
	assert_true(counters_count(c, 0, 0, key("y"), 0, 10, CNT_CONNECT) == 3);
	counters_free(c);
}

/* Connects and datagrams of one pid and one second stay apart. */
static void
test_kinds(void **state)
{
	struct counters *c = counters_new();

	(void)state;
	assert_non_null(c);
	assert_int_equal(counters_add(c, T0, T0, 1, key("dig"), CNT_CONNECT, 6), 0);
	assert_int_equal(counters_add(c, T0, T0, 1, key("dig"), CNT_DATAGRAM, 1000), 0);
	assert_int_equal(counters_add(c, T0, T0, 2, key("nc"), CNT_DATAGRAM, 3), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_CONNECT) == 6);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_DATAGRAM) == 1000);
	assert_true(counters_count(c, 0, 0, key("dig"), T0, 1, CNT_CONNECT) == 6);
	assert_true(counters_count(c, 0, 0, key("dig"), T0, 1, CNT_DATAGRAM) == 1000);
	assert_true(counters_count(c, 1, 2, NULL, T0, 1, CNT_CONNECT) == 0);
	assert_true(counters_count(c, 1, 2, NULL, T0, 1, CNT_DATAGRAM) == 3);
	assert_true(counters_count(c, 0, 0, NULL, T0, 1, CNT_CONNECT) == 6);
	assert_true(counters_count(c, 0, 0, NULL, T0, 1, CNT_DATAGRAM) == 1003);
	/* A kind out of range counts nothing. */
	assert_int_equal(counters_add(c, T0, T0, 1, key("dig"), CNT_KINDS, 5), 0);
	assert_true(counters_count(c, 0, 0, NULL, T0, 1, CNT_KINDS) == 0);
	counters_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_slot_reuse),
		cmocka_unit_test(test_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
