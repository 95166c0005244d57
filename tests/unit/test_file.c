/*
 * Unit tests for the small-file reader (util/file.c): a file longer than
 * a page and longer than one read() of a /proc file is read to the end,
 * and a file longer than the buffer is refused, not cut silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../util/file.c"

static char path[64];

/* A file of n bytes, each its offset's line "...\n" so that a cut or a
 * hole shows. */
static char *
make_file(size_t n)
{
	char *buf = malloc(n + 1);
	size_t i;
	int fd;

	assert_non_null(buf);
	for (i = 0; i < n; i++)
		buf[i] = i % 64 == 63 ? '\n' : (char)('a' + (i / 64) % 26);
	buf[n] = '\0';
	snprintf(path, sizeof(path), "/tmp/test_file.%d", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	return buf;
}

static void
test_longer_than_a_page(void **state)
{
	size_t n = 3 * 4096 + 123;
	char *want = make_file(n), *got = malloc(n + 1), *all;

	(void)state;
	assert_int_equal(file_read(path, got, n + 1), (ssize_t)n);
	assert_memory_equal(got, want, n + 1);
	assert_int_equal(file_read_all(path, 1 << 20, &all), (ssize_t)n);
	assert_memory_equal(all, want, n + 1);
	free(all);
	/* Exactly max bytes still fit; one fewer does not. */
	assert_int_equal(file_read_all(path, n, &all), (ssize_t)n);
	free(all);
	assert_int_equal(file_read_all(path, n - 1, &all), -EFBIG);
	assert_null(all);
	unlink(path);
	free(want);
	free(got);
}

static void
test_too_long_is_refused(void **state)
{
	char *want = make_file(5000), got[4096];

	(void)state;
	/* Filled exactly: one byte more would not fit. */
	assert_int_equal(file_read(path, got, sizeof(got)), -EFBIG);
	assert_int_equal(strlen(got), sizeof(got) - 1);
	assert_memory_equal(got, want, sizeof(got) - 1);
	free(want);
	want = make_file(sizeof(got) - 1);
	assert_int_equal(file_read(path, got, sizeof(got)), (ssize_t)sizeof(got) - 1);
	unlink(path);
	assert_int_equal(file_read(path, got, sizeof(got)), -ENOENT);
	assert_string_equal(got, "");
	free(want);
}

/* /proc/self/mountinfo is produced a page per read(): reading to the end
 * must give what a stdio reader gives.  Other tests on the host mount and
 * unmount: a few tries, until two reads in a row saw the same mounts. */
static void
test_proc_file(void **state)
{
	char *all = NULL, buf[1 << 16];
	size_t n = 0;
	ssize_t len = -1;
	int tries;
	FILE *f;

	(void)state;
	for (tries = 0; tries < 5; tries++) {
		free(all);
		assert_non_null(f = fopen("/proc/self/mountinfo", "r"));
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		len = file_read_all("/proc/self/mountinfo", 1 << 20, &all);
		assert_true(len > 0);
		if ((size_t)len == n && memcmp(all, buf, n) == 0)
			break;
	}
	assert_int_equal(len, (ssize_t)n);
	assert_memory_equal(all, buf, n);
	assert_int_equal(all[len], '\0');
	free(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longer_than_a_page),
		cmocka_unit_test(test_too_long_is_refused),
		cmocka_unit_test(test_proc_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
