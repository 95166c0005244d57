/*
 * The one reader of small files (/proc, /sys, tracefs, a token file):
 * read() until end of file, since one read() of /proc/self/mountinfo
 * stops at a page on a host with many mounts.
 */
#ifndef UTIL_FILE_H
#define UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Read fd into buf[0..n) until end of file or n bytes, through EINTR.
 * Returns the count, or -errno. */
ssize_t file_read_fd(int fd, void *buf, size_t n);

/*
 * The whole of path into buf[0..n-1), NUL-terminated.  Returns the length,
 * or -errno: -EFBIG when the file holds n - 1 bytes or more (buf then
 * holds the first n - 1 of them).
 */
ssize_t file_read(const char *path, char *buf, size_t n);

/*
 * The whole of path into a malloc'd, NUL-terminated buffer in *out (the
 * caller frees it), of at most max bytes.  Returns the length, or -errno
 * (-EFBIG past max; *out is then NULL).
 */
ssize_t file_read_all(const char *path, size_t max, char **out);

#endif
