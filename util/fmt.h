/*
 * Decimal formatting without printf, for the response hot path: musl's
 * printf machinery is general and slow, and a list response formats a
 * dozen numbers per event.
 */
#ifndef FMT_H
#define FMT_H

#include <stddef.h>
#include <stdint.h>

/* Write v in decimal at buf (room for 20 digits), no NUL.  Returns the
 * number of digits. */
static inline size_t
fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* The same for a signed value (room for 21 characters). */
static inline size_t
fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		/* -(v + 1) + 1 has no overflow at INT64_MIN */
		return 1 + fmt_u64(buf + 1, (uint64_t)-(v + 1) + 1);
	}
	return fmt_u64(buf, (uint64_t)v);
}

/* Exactly w digits of v, zero padded (v < 10^w). */
static inline void
fmt_fixed(char *buf, unsigned v, int w)
{
	while (w-- > 0) {
		buf[w] = (char)('0' + v % 10);
		v /= 10;
	}
}

#endif
