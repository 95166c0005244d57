/* Logging to stderr, OpenBSD style: fatal() appends strerror(errno),
 * the x variants do not; both exit(1). */
#ifndef LOG_H
#define LOG_H

extern int log_verbose; /* -v: print log_debug() messages */

void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Information reads like a warning on stderr: one function for both. */
#define log_info log_warnx
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
