/* Clock conversion and RFC 3339 formatting. */
#ifndef TIMEFMT_H
#define TIMEFMT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Nanoseconds now on CLOCK_REALTIME / CLOCK_MONOTONIC. */
uint64_t time_now_ns(void);
uint64_t time_mono_ns(void);

/* A CLOCK_MONOTONIC time in ns as the timespec of pthread_cond_timedwait()
 * on a condition variable set to that clock. */
struct timespec time_mono_ts(uint64_t mono_ns);

/* Initialise cv so that its timed waits count on CLOCK_MONOTONIC (whose
 * deadlines time_mono_ts() makes), not on the wall clock, which steps. */
void time_mono_cond_init(pthread_cond_t *cv);

/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns, measured now (the smallest of a
 * few samples' error).  Add it to a bpf_ktime_get_ns() value. */
int64_t time_mono_to_real(void);

/* "2026-11-25T11:31:15.123456789Z" into buf (at least 31 bytes).  Returns
 * the length, or -EINVAL if n is too small. */
int time_rfc3339(uint64_t real_ns, char *buf, size_t n);

/* Parse RFC 3339 ("...Z" or "+hh:mm", optional fraction) into ns since the
 * epoch.  Returns 0 or -EINVAL. */
int time_parse_rfc3339(const char *s, uint64_t *real_ns);

#endif
