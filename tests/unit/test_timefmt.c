/* Unit tests for util/timefmt.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>

#include "../../util/timefmt.c"

#define S(x) ((uint64_t)(x) * NS_PER_S)

static void
fmt_is(uint64_t ns, const char *want)
{
	char buf[64];
	uint64_t back;

	assert_int_equal(time_rfc3339(ns, buf, sizeof(buf)), 30);
	assert_string_equal(buf, want);
	/* Everything we print, we parse back to the same instant. */
	assert_int_equal(time_parse_rfc3339(buf, &back), 0);
	assert_true(back == ns);
}

static void
test_format_known(void **state)
{
	(void)state;
	fmt_is(0, "1970-01-01T00:00:00.000000000Z");
	fmt_is(1, "1970-01-01T00:00:00.000000001Z");
	fmt_is(S(86399) + 999999999, "1970-01-01T23:59:59.999999999Z");
	fmt_is(S(951782400), "2000-02-29T00:00:00.000000000Z");
	fmt_is(S(951868800), "2000-03-01T00:00:00.000000000Z");
	fmt_is(S(1700000000) + 123456789, "2023-11-14T22:13:20.123456789Z");
	fmt_is(S(1709164800), "2024-02-29T00:00:00.000000000Z");
	fmt_is(S(2147483647), "2038-01-19T03:14:07.000000000Z");
	fmt_is(S(2147483648), "2038-01-19T03:14:08.000000000Z");
	/* 2100 is not a leap year: Feb 28 is followed by Mar 1. */
	fmt_is(S(4107456000), "2100-02-28T00:00:00.000000000Z");
	fmt_is(S(4107542400), "2100-03-01T00:00:00.000000000Z");
	fmt_is(UINT64_MAX, "2554-07-21T23:34:33.709551615Z");
}

static void
test_format_buffer(void **state)
{
	char buf[31];

	(void)state;
	assert_int_equal(time_rfc3339(0, buf, 30), -EINVAL);
	assert_int_equal(time_rfc3339(0, buf, 0), -EINVAL);
	assert_int_equal(time_rfc3339(0, buf, 31), 30);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
}

static void
test_civil_roundtrip(void **state)
{
	int64_t z, y;
	unsigned m, d, pm = 12, pd = 31;
	int64_t py = 1969;

	(void)state;
	/* Every day from 1970 to 2600, consecutive dates, both directions. */
	for (z = 0; z < 231000; z++) {
		civil_from_days(z, &y, &m, &d);
		assert_true(days_from_civil(y, m, d) == z);
		assert_true(m >= 1 && m <= 12 && d >= 1 &&
		    d <= days_in_month(y, m));
		if (d == 1)
			assert_true(pd == days_in_month(py, pm));
		else
			assert_true(d == pd + 1 && m == pm && y == py);
		py = y, pm = m, pd = d;
	}
	assert_true(is_leap(2000) && is_leap(2024) && !is_leap(1900) &&
	    !is_leap(2100) && !is_leap(2023));
}

static void
parse_is(const char *s, uint64_t want)
{
	uint64_t v = 12345;

	assert_int_equal(time_parse_rfc3339(s, &v), 0);
	assert_true(v == want);
}

static void
test_parse_ok(void **state)
{
	(void)state;
	parse_is("1970-01-01T00:00:00Z", 0);
	parse_is("2023-11-14T22:13:20Z", S(1700000000));
	parse_is("2023-11-14t22:13:20z", S(1700000000));
	parse_is("2023-11-14T23:13:20+01:00", S(1700000000));
	parse_is("2023-11-14T16:43:20-05:30", S(1700000000));
	parse_is("2023-11-14T22:13:20-00:00", S(1700000000));
	parse_is("2023-11-14T22:13:20.5Z", S(1700000000) + 500000000);
	parse_is("2023-11-14T22:13:20.000000001Z", S(1700000000) + 1);
	/* Digits past nanoseconds are truncated. */
	parse_is("2023-11-14T22:13:20.1234567899Z", S(1700000000) + 123456789);
	parse_is("2038-01-19T03:14:08Z", S(2147483648));
	parse_is("2000-02-29T00:00:00Z", S(951782400));
	/* The day before the epoch, but after it once the offset is applied. */
	parse_is("1969-12-31T23:00:00-01:00", 0);
	/* A leap second counts as the next minute's first second. */
	parse_is("2016-12-31T23:59:60Z", S(1483228800));
	parse_is("2554-07-21T23:34:33.709551615Z", UINT64_MAX);
}

static void
test_parse_reject(void **state)
{
	static const char *bad[] = {
		"", "2023", "2023-11-14", "2023-11-14T22:13:20",
		"2023-11-14 22:13:20Z", "2023-11-14T22:13Z",
		"23-11-14T22:13:20Z", "2023-1-14T22:13:20Z",
		"2023-11-4T22:13:20Z", "2023-11-14T2:13:20Z",
		"+2023-11-14T22:13:20Z", " 2023-11-14T22:13:20Z",
		"2023-11-14T22:13:20Z ", "2023-11-14T22:13:20ZZ",
		"2023-11-14T22:13:20.Z", "2023-11-14T22:13:20,5Z",
		"2023-11-14T22:13:20+0100", "2023-11-14T22:13:20+01",
		"2023-11-14T22:13:20+1:00", "2023-11-14T22:13:20+24:00",
		"2023-11-14T22:13:20+01:60", "2023-11-14T22:13:20UTC",
		"2023-00-14T22:13:20Z", "2023-13-14T22:13:20Z",
		"2023-11-00T22:13:20Z", "2023-11-31T22:13:20Z",
		"2023-02-29T22:13:20Z", "2100-02-29T00:00:00Z",
		"2024-02-30T00:00:00Z", "2023-11-14T24:00:00Z",
		"2023-11-14T22:60:20Z", "2023-11-14T22:13:61Z",
		"2023-11-14T22:13:2aZ", "2023-11-14X22:13:20Z",
		"2023/11/14T22:13:20Z", "1969-12-31T23:59:59Z",
		"1970-01-01T00:00:00+00:01", "2554-07-21T23:34:34Z",
		"9999-12-31T23:59:59Z",
	};
	uint64_t v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (time_parse_rfc3339(bad[i], &v) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(time_parse_rfc3339(NULL, &v), -EINVAL);
	assert_true(v == 42); /* untouched on failure */
}

static void
test_clocks(void **state)
{
	uint64_t r, m;
	int64_t off, off2;

	(void)state;
	r = time_now_ns();
	m = time_mono_ns();
	off = time_mono_to_real();
	off2 = time_mono_to_real();
	/* Later than 2020 and consistent with a direct difference. */
	assert_true(r > S(1577836800));
	assert_true(llabs(off - (int64_t)(r - m)) < 50000000);
	assert_true(llabs(off - off2) < 5000000);
}

/* A deadline for pthread_cond_timedwait() on CLOCK_MONOTONIC: the seconds
 * and the nanoseconds below one, and the clock it names really is the
 * monotonic one (clock_gettime() read after it is not earlier). */
static void
test_mono_ts(void **state)
{
	struct timespec ts = time_mono_ts(S(3) + 999999999), now;
	uint64_t m;

	(void)state;
	assert_int_equal(ts.tv_sec, 3);
	assert_int_equal(ts.tv_nsec, 999999999);
	ts = time_mono_ts(m = time_mono_ns());
	clock_gettime(CLOCK_MONOTONIC, &now);
	assert_true(now.tv_sec > ts.tv_sec || (now.tv_sec == ts.tv_sec &&
	    now.tv_nsec >= ts.tv_nsec));
	assert_true(S((uint64_t)now.tv_sec) + (uint64_t)now.tv_nsec - m <
	    S(1));
}

/* A timed wait on a condition variable of time_mono_cond_init() lasts
 * until its monotonic deadline: on the wall clock's condition variable
 * that deadline (seconds since boot) would have passed decades ago, and
 * the wait would end at once. */
static void
test_mono_cond(void **state)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	struct timespec until;
	uint64_t t0, t1;

	(void)state;
	time_mono_cond_init(&cv);
	t0 = time_mono_ns();
	until = time_mono_ts(t0 + 50000000u);
	pthread_mutex_lock(&mu);
	while (pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&mu);
	t1 = time_mono_ns();
	assert_true(t1 - t0 >= 50000000u);
	assert_true(t1 - t0 < S(5));
	pthread_cond_destroy(&cv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_format_buffer),
		cmocka_unit_test(test_civil_roundtrip),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_mono_ts),
		cmocka_unit_test(test_mono_cond),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
