/* The one small-file reader (see file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/file.h"

ssize_t
file_read_fd(int fd, void *buf, size_t n)
{
	size_t len = 0;
	ssize_t r;

	while (len < n) {
		if ((r = read(fd, (char *)buf + len, n - len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	return (ssize_t)len;
}

ssize_t
file_read(const char *path, char *buf, size_t n)
{
	ssize_t len;
	char more;
	int fd, e;

	if (n == 0)
		return -EINVAL;
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	len = file_read_fd(fd, buf, n - 1);
	/* Full: one byte more says whether the file went on. */
	if (len == (ssize_t)n - 1 && (e = (int)file_read_fd(fd, &more, 1)) != 0)
		len = e < 0 ? e : -EFBIG;
	close(fd);
	buf[len < 0 ? (len == -EFBIG ? n - 1 : 0) : (size_t)len] = '\0';
	return len;
}

ssize_t
file_read_all(const char *path, size_t max, char **out)
{
	size_t cap = max < 4096 ? max + 1 : 4096, len = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd, e;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	for (;;) {
		if ((nb = realloc(buf, cap + 1)) == NULL) {
			e = -ENOMEM;
			goto fail;
		}
		buf = nb;
		if ((r = file_read_fd(fd, buf + len, cap - len)) < 0) {
			e = (int)r;
			goto fail;
		}
		len += (size_t)r;
		if (len < cap)
			break;
		/* cap is at most max + 1: a file that fills it is too long. */
		if (cap > max) {
			e = -EFBIG;
			goto fail;
		}
		cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
fail:
	close(fd);
	free(buf);
	return e;
}
