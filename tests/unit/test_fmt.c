/* The printf-free decimal formatters (util/fmt.h) against snprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../util/fmt.h"

static void
check_u64(uint64_t v)
{
	char got[32], want[32];
	size_t n = fmt_u64(got, v);

	got[n] = '\0';
	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	assert_string_equal(got, want);
}

static void
check_i64(int64_t v)
{
	char got[32], want[32];
	size_t n = fmt_i64(got, v);

	got[n] = '\0';
	snprintf(want, sizeof(want), "%lld", (long long)v);
	assert_string_equal(got, want);
}

static void
test_u64(void **state)
{
	uint64_t v;

	(void)state;
	check_u64(0);
	check_u64(9);
	check_u64(10);
	check_u64(UINT64_MAX);
	for (v = 1; v < UINT64_MAX / 7; v = v * 7 + 3)
		check_u64(v);
}

static void
test_i64(void **state)
{
	int64_t v;

	(void)state;
	check_i64(0);
	check_i64(-1);
	check_i64(-111);
	check_i64(INT64_MAX);
	check_i64(INT64_MIN);
	for (v = 1; v < INT64_MAX / 5; v = v * 5 + 1) {
		check_i64(v);
		check_i64(-v);
	}
}

static void
test_fixed(void **state)
{
	char buf[16];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	fmt_fixed(buf, 7, 4);
	assert_memory_equal(buf, "0007x", 5);
	fmt_fixed(buf, 123456789, 9);
	assert_memory_equal(buf, "123456789x", 10);
	fmt_fixed(buf, 0, 2);
	assert_memory_equal(buf, "00", 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_i64),
		cmocka_unit_test(test_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
