/* Logging to stderr, OpenBSD style: the _warn variants append strerror(errno),
 * the x variants do not.  fatal()/fatalx() exit(1). */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

extern int log_verbose; /* -v: print log_debug() messages */

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Setup helpers that die on failure. */
void *ecalloc(size_t n, size_t size);

#endif
