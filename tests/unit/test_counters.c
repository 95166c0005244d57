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
	struct counters *c = counters_new(64);

	(void)state;
	assert_non_null(c);
	assert_int_equal(counters_add(c, T0, T0, 1, key("a"), CNT_CONNECT, 2), 0);
	assert_int_equal(counters_add(c, T0, T0, 1, key("a"), CNT_CONNECT, 3), 0);
	assert_int_equal(counters_add(c, T0, T0, 2, key("b"), CNT_CONNECT, 1), 0);
	assert_int_equal(counters_add(c, T0, T0, 2, key("b"), CNT_CONNECT, 0), 0);
	assert_int_equal(counters_add(c, T0 + 1, T0 + 1, 1, key("b"), CNT_CONNECT, 10), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 1, 1, CNT_CONNECT, NULL) == 10);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 1, 2, CNT_CONNECT, NULL) == 15);
	assert_true(counters_count(c, 1, 2, NULL, T0 + 1, 2, CNT_CONNECT, NULL) == 1);
	assert_true(counters_count(c, 1, 3, NULL, T0 + 1, 2, CNT_CONNECT, NULL) == 0);
	assert_true(counters_count(c, 0, 0, key("a"), T0 + 1, 2, CNT_CONNECT, NULL) == 5);
	assert_true(counters_count(c, 0, 0, key("b"), T0 + 1, 2, CNT_CONNECT, NULL) == 11);
	assert_true(counters_count(c, 0, 0, key("b"), T0, 1, CNT_CONNECT, NULL) == 1);
	assert_true(counters_count(c, 0, 0, NULL, T0 + 1, 2, CNT_CONNECT, NULL) == 16);
	assert_true(counters_count(c, 0, 0, NULL, T0 + 1, 0, CNT_CONNECT, NULL) == 0);
	/* pid wins over comm when both are given. */
	assert_true(counters_count(c, 1, 2, key("a"), T0 + 1, 2, CNT_CONNECT, NULL) == 1);
	counters_free(c);
	counters_free(NULL);
}

/* Thousands of pids and names in one second, fewer than the counters
 * keep: the tables grow and keep every count. */
static void
test_growth(void **state)
{
	struct counters *c = counters_new(32768);
	char name[16];
	uint32_t i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "p%u", i % 5000);
		assert_int_equal(counters_add(c, T0, T0, i, key(name), CNT_CONNECT, i + 1), 0);
	}
	for (i = 0; i < 20000; i += 777)
		assert_true(counters_count(c, 1, i, NULL, T0, 1, CNT_CONNECT, NULL) == i + 1);
	/* Names repeat every 5000 pids. */
	assert_true(counters_count(c, 0, 0, key("p3"), T0, 1, CNT_CONNECT, NULL) ==
	    4 + 5004 + 10004 + 15004);
	assert_true(counters_bytes(c) >= sizeof(*c) + 20000 * (4 + sizeof(struct kinds)));
	assert_true(counters_bytes(c) <= counters_max_bytes(32768));
	counters_free(c);
}

/*
 * A flood of distinct names and pids in every second, with a few heavy
 * ones: memory stays under counters_max_bytes(), the heavy ones keep
 * counts within the error bound, and an absent key's bound covers it.
 */
static void
test_flood(void **state)
{
	struct counters *c = counters_new(16);
	uint64_t s, err, n, sum;
	char name[16];
	uint32_t i;

	(void)state;
	for (s = T0; s < T0 + 20; s++) {
		counters_advance(c, s);
		for (i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "junk%u", (unsigned)(s * 5000 + i));
			assert_int_equal(counters_add(c, s, s, 100000 + i,
			    key(name), CNT_CONNECT, 1), 0);
			/* Two heavy keys, spread through the second. */
			if (i % 10 == 0) {
				counters_add(c, s, s, 7, key("heavy"), CNT_CONNECT, 1);
				counters_add(c, s, s, 7, key("heavy"), CNT_DATAGRAM, 2);
			}
		}
	}
	assert_true(counters_bytes(c) <= counters_max_bytes(16));
	/* 20 seconds of 16 keys of 32 bytes or more: far below 100000 names. */
	assert_true(counters_max_bytes(16) - sizeof(*c) < CNT_WINDOW * 16 * 200);
	n = counters_count(c, 0, 0, key("heavy"), T0 + 19, 20, CNT_CONNECT, &err);
	/* 500 a second, 10000 in all: a lower bound within err of it. */
	assert_true(n <= 10000 && n + err >= 10000);
	/* The heavy key never leaves: its count is within 10% of the truth. */
	assert_true(n >= 9000 && err < 1000);
	n = counters_count(c, 1, 7, NULL, T0 + 19, 20, CNT_DATAGRAM, &err);
	assert_true(n <= 20000 && n + err >= 20000);
	/* A junk name seen once: at most the bound. */
	n = counters_count(c, 0, 0, key("junk100003"), T0 + 19, 20, CNT_CONNECT, &err);
	assert_true(n <= 1 && n + err >= 1);
	assert_true(err > 0); /* not exact, and says so */
	/* The totals stay exact. */
	sum = counters_count(c, 0, 0, NULL, T0 + 19, 20, CNT_CONNECT, &err);
	assert_true(sum == 20 * 5500 && err == 0);
	/* A quiet second after the flood is exact again. */
	counters_advance(c, T0 + 20);
	counters_add(c, T0 + 20, T0 + 20, 9, key("quiet"), CNT_CONNECT, 3);
	n = counters_count(c, 1, 9, NULL, T0 + 20, 1, CNT_CONNECT, &err);
	assert_true(n == 3 && err == 0);
	counters_free(c);
}

static void
test_window(void **state)
{
	struct counters *c = counters_new(64);
	size_t empty = counters_bytes(c);
	uint64_t s;

	(void)state;
	counters_advance(c, T0);
	/* One event in each second of an hour. */
	for (s = T0 - CNT_WINDOW + 1; s <= T0; s++)
		assert_int_equal(counters_add(c, T0, s, 1, key("x"), CNT_CONNECT, 1), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0, CNT_WINDOW, CNT_CONNECT, NULL) == CNT_WINDOW);
	assert_true(counters_count(c, 1, 1, NULL, T0, 60, CNT_CONNECT, NULL) == 60);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 10, 60, CNT_CONNECT, NULL) == 50);
	/* A second that left the window is refused, one ahead is now. */
	assert_int_equal(counters_add(c, T0, T0 - CNT_WINDOW, 1, key("x"), CNT_CONNECT, 1), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0 - CNT_WINDOW, 1, CNT_CONNECT, NULL) == 0);
	assert_int_equal(counters_add(c, T0, T0 + 100, 1, key("x"), CNT_CONNECT, 5), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_CONNECT, NULL) == 6);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 100, 1, CNT_CONNECT, NULL) == 0);

	/* 30 minutes on, half the hour is released. */
	counters_advance(c, T0 + 1800);
	assert_true(counters_count(c, 1, 1, NULL, T0, CNT_WINDOW, CNT_CONNECT, NULL) == 1800 + 5);
	assert_true(counters_count(c, 1, 1, NULL, T0 + 1800, CNT_WINDOW, CNT_CONNECT, NULL) == 1800 + 5);
	assert_true(counters_bytes(c) < empty + 1801 * 2 * 8 * 64);
	/* The clock going back is not a reason to drop anything. */
	counters_advance(c, T0);
	assert_true(counters_count(c, 1, 1, NULL, T0, CNT_WINDOW, CNT_CONNECT, NULL) == 1800 + 5);
	/* An hour after the last event everything is gone. */
	counters_advance(c, T0 + CNT_WINDOW);
	assert_true(counters_bytes(c) == empty);
	assert_true(counters_count(c, 0, 0, NULL, T0, CNT_WINDOW, CNT_CONNECT, NULL) == 0);
	counters_free(c);
}

/* Without counters_advance(), a slot reused an hour later starts empty. */
static void
test_slot_reuse(void **state)
{
	struct counters *c = counters_new(64);

	(void)state;
	counters_add(c, T0, T0, 1, key("x"), CNT_CONNECT, 7);
	counters_add(c, T0 + CNT_WINDOW, T0 + CNT_WINDOW, 1, key("x"), CNT_CONNECT, 1);
	assert_true(counters_count(c, 1, 1, NULL, T0 + CNT_WINDOW, CNT_WINDOW, CNT_CONNECT, NULL) == 1);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_CONNECT, NULL) == 0);
	/* Near the epoch the window does not wrap below second 0. */
	counters_add(c, 5, 0, 9, key("y"), CNT_CONNECT, 3);
	assert_true(counters_count(c, 1, 9, NULL, 2, CNT_WINDOW, CNT_CONNECT, NULL) == 3);
	assert_true(counters_count(c, 0, 0, key("y"), 0, 10, CNT_CONNECT, NULL) == 3);
	counters_free(c);
}

/* Connects and datagrams of one pid and one second stay apart. */
static void
test_kinds(void **state)
{
	struct counters *c = counters_new(64);

	(void)state;
	assert_non_null(c);
	assert_int_equal(counters_add(c, T0, T0, 1, key("dig"), CNT_CONNECT, 6), 0);
	assert_int_equal(counters_add(c, T0, T0, 1, key("dig"), CNT_DATAGRAM, 1000), 0);
	assert_int_equal(counters_add(c, T0, T0, 2, key("nc"), CNT_DATAGRAM, 3), 0);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_CONNECT, NULL) == 6);
	assert_true(counters_count(c, 1, 1, NULL, T0, 1, CNT_DATAGRAM, NULL) == 1000);
	assert_true(counters_count(c, 0, 0, key("dig"), T0, 1, CNT_CONNECT, NULL) == 6);
	assert_true(counters_count(c, 0, 0, key("dig"), T0, 1, CNT_DATAGRAM, NULL) == 1000);
	assert_true(counters_count(c, 1, 2, NULL, T0, 1, CNT_CONNECT, NULL) == 0);
	assert_true(counters_count(c, 1, 2, NULL, T0, 1, CNT_DATAGRAM, NULL) == 3);
	assert_true(counters_count(c, 0, 0, NULL, T0, 1, CNT_CONNECT, NULL) == 6);
	assert_true(counters_count(c, 0, 0, NULL, T0, 1, CNT_DATAGRAM, NULL) == 1003);
	/* A kind out of range counts nothing. */
	assert_int_equal(counters_add(c, T0, T0, 1, key("dig"), CNT_KINDS, 5), 0);
	assert_true(counters_count(c, 0, 0, NULL, T0, 1, CNT_KINDS, NULL) == 0);
	counters_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_slot_reuse),
		cmocka_unit_test(test_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
