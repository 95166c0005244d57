/* Logging to stderr, OpenBSD style.  See log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#define LOG_PREFIX "ebpf-server: "
#define LOG_LINE 1024

/* The debug build (make debug) logs everything from the start. */
#ifdef EBPF_DEBUG
int log_verbose = 1;
#else
int log_verbose;
#endif

/*
 * Format the whole line into one buffer and hand it to the kernel with a
 * single write(2): stderr is shared by the reader and the HTTP worker
 * threads, and one write per message keeps their lines from interleaving
 * without a lock of our own.  err is the saved errno, or 0 for none.
 */
/*
 * Write each control character (and DEL) of src[0..n) as \xNN into dst of
 * room bytes: messages carry request paths, cgroup and process names that
 * anyone can choose, and a raw newline would forge a log line, an ESC
 * drive the terminal of whoever reads the log.  Returns the bytes written.
 */
static size_t
log_escape(const char *src, size_t n, char *dst, size_t room)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c != 0x7f) {
			if (o + 1 > room)
				break;
			dst[o++] = (char)c;
			continue;
		}
		if (o + 4 > room)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 15];
	}
	return o;
}

static void
vlog(int err, const char *fmt, va_list ap)
{
	char buf[LOG_LINE], raw[LOG_LINE];
	size_t len, room;
	int r;

	len = strlen(LOG_PREFIX);
	memcpy(buf, LOG_PREFIX, len);
	/* Keep two bytes for the newline and the NUL vsnprintf writes. */
	room = sizeof(buf) - 1 - len;
	r = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (r > 0)
		len += log_escape(raw, (size_t)r < sizeof(raw) ? (size_t)r :
		    sizeof(raw) - 1, buf + len, room - 1);
	if (err) {
		room = sizeof(buf) - 1 - len;
		r = snprintf(buf + len, room, ": %s", strerror(err));
		if (r > 0)
			len += (size_t)r < room ? (size_t)r : room - 1;
	}
	buf[len++] = '\n';
	/* Nothing sensible to do if stderr is gone. */
	if (write(STDERR_FILENO, buf, len) < 0)
		return;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	errno = err;
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	errno = err;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vlog(err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	exit(1);
}
