/* Clock conversion and RFC 3339 formatting.  See timefmt.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "util/fmt.h"
#include "util/timefmt.h"

#define NS_PER_S 1000000000ULL
#define SAMPLES 5

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for the two clocks we use. */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t
time_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t
time_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

void
time_mono_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

struct timespec
time_mono_ts(uint64_t mono_ns)
{
	struct timespec ts = { (time_t)(mono_ns / 1000000000u),
	    (long)(mono_ns % 1000000000u) };

	return ts;
}

/*
 * Read the wall clock on both sides of the monotonic clock and keep the
 * sample whose two wall-clock reads were closest: a preemption between the
 * reads makes one sample wrong by the length of the preemption, and the
 * tightest sample bounds the error best.
 */
int64_t
time_mono_to_real(void)
{
	uint64_t r1, m, r2, best = UINT64_MAX;
	int64_t off = 0;
	int i;

	for (i = 0; i < SAMPLES; i++) {
		r1 = time_now_ns();
		m = time_mono_ns();
		r2 = time_now_ns();
		if (r2 < r1)
			continue; /* the wall clock was stepped; try again */
		if (r2 - r1 < best) {
			best = r2 - r1;
			off = (int64_t)(r1 + (r2 - r1) / 2 - m);
		}
	}
	return off;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so that we do not depend on the libc's timegm(). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

int
time_rfc3339(uint64_t real_ns, char *buf, size_t n)
{
	uint64_t secs = real_ns / NS_PER_S, sod;
	int64_t y;
	unsigned m, d;

	if (n < 31)
		return -EINVAL;
	civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
	sod = secs % 86400;
	/* "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ" by hand: this runs once per event
	 * in every list response.  u64 nanoseconds end in 2554, so the year
	 * always has four digits. */
	fmt_fixed(buf, (unsigned)y, 4);
	buf[4] = '-';
	fmt_fixed(buf + 5, m, 2);
	buf[7] = '-';
	fmt_fixed(buf + 8, d, 2);
	buf[10] = 'T';
	fmt_fixed(buf + 11, (unsigned)(sod / 3600), 2);
	buf[13] = ':';
	fmt_fixed(buf + 14, (unsigned)(sod / 60 % 60), 2);
	buf[16] = ':';
	fmt_fixed(buf + 17, (unsigned)(sod % 60), 2);
	buf[19] = '.';
	fmt_fixed(buf + 20, (unsigned)(real_ns % NS_PER_S), 9);
	buf[29] = 'Z';
	buf[30] = '\0';
	return 30;
}

/* Exactly w decimal digits at *s, advancing *s.  Returns 0 or -EINVAL. */
static int
digits(const char **s, int w, unsigned *v)
{
	const char *p = *s;
	int i;

	*v = 0;
	for (i = 0; i < w; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	*s = p + w;
	return 0;
}

/* The character c at *s, advancing *s.  Returns 0 or -EINVAL. */
static int
expect(const char **s, char c)
{
	if (**s != c)
		return -EINVAL;
	(*s)++;
	return 0;
}

/*
 * The grammar is RFC 3339's date-time, strictly: four-digit year, two-digit
 * fields, 'T' (or 't'), an optional fraction of any length (digits past the
 * ninth are truncated, we keep nanoseconds), then 'Z'/'z' or +hh:mm/-hh:mm.
 * A leap second (:60) is accepted and, as POSIX time has none, counts as
 * the first second of the next minute, like timegm() does.  Times before
 * the epoch or past 2554 (the end of uint64_t nanoseconds) are -EINVAL.
 */
int
time_parse_rfc3339(const char *s, uint64_t *real_ns)
{
	unsigned y, mo, d, h, mi, sec, oh, om, frac = 0;
	int64_t t, off = 0;
	int i;

	if (!s || digits(&s, 4, &y) || expect(&s, '-') ||
	    digits(&s, 2, &mo) || expect(&s, '-') || digits(&s, 2, &d))
		return -EINVAL;
	if (*s != 'T' && *s != 't')
		return -EINVAL;
	s++;
	if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) ||
	    expect(&s, ':') || digits(&s, 2, &sec))
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (i = 0; *s >= '0' && *s <= '9'; i++, s++)
			if (i < 9)
				frac = frac * 10 + (unsigned)(*s - '0');
		for (; i < 9; i++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int neg = *s++ == '-';

		if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om))
			return -EINVAL;
		if (oh > 23 || om > 59)
			return -EINVAL;
		off = (int64_t)(oh * 3600 + om * 60);
		if (neg)
			off = -off;
	} else {
		return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -EINVAL;

	/* Local time minus the offset is UTC. */
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (t < 0 || (uint64_t)t > (UINT64_MAX - frac) / NS_PER_S)
		return -EINVAL;
	*real_ns = (uint64_t)t * NS_PER_S + frac;
	return 0;
}
