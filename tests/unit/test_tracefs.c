/*
 * Unit tests for the tracefs lookups (loader/tracefs.c): the format-file
 * parser on the kernel's real text, and, as root with tracefs already
 * mounted, the live files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../loader/tracefs.c"

/* /sys/kernel/tracing/events/syscalls/sys_enter_connect/format (x86-64). */
static const char enter_format[] =
    "name: sys_enter_connect\n"
    "ID: 2230\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
    "\tfield:int fd;\toffset:16;\tsize:8;\tsigned:0;\n"
    "\tfield:struct sockaddr * uservaddr;\toffset:24;\tsize:8;\tsigned:0;\n"
    "\tfield:int addrlen;\toffset:32;\tsize:8;\tsigned:0;\n"
    "\n"
    "print fmt: \"fd: 0x%08lx, uservaddr: 0x%08lx, addrlen: 0x%08lx\", "
    "((unsigned long)(REC->fd)), ((unsigned long)(REC->uservaddr)), "
    "((unsigned long)(REC->addrlen))\n";

static const char exit_format[] =
    "name: sys_exit_connect\n"
    "ID: 2229\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
    "\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n"
    "\n"
    "print fmt: \"0x%lx\", REC->ret\n";

static void
assert_field(const char *text, const char *name, int want_off, int want_size)
{
	int off = -1, size = -1;

	assert_int_equal(ld_tp_format_field(text, name, &off, &size), 0);
	assert_int_equal(off, want_off);
	assert_int_equal(size, want_size);
}

static void
test_enter_fields(void **state)
{
	(void)state;
	assert_field(enter_format, "fd", 16, 8);
	assert_field(enter_format, "uservaddr", 24, 8);  /* "struct sockaddr * " */
	assert_field(enter_format, "addrlen", 32, 8);
	assert_field(enter_format, "common_pid", 4, 4);
	assert_field(enter_format, "common_type", 0, 2);
	assert_field(enter_format, "__syscall_nr", 8, 4);
}

static void
test_exit_fields(void **state)
{
	(void)state;
	assert_field(exit_format, "ret", 16, 8);
	assert_field(exit_format, "common_preempt_count", 3, 1);
}

static void
test_missing_field(void **state)
{
	int off = 77, size = 77;

	(void)state;
	assert_int_equal(ld_tp_format_field(enter_format, "ret", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(exit_format, "fd", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field("", "fd", &off, &size), -ENOENT);
	/* Words of the header and print fmt are not fields. */
	assert_int_equal(ld_tp_format_field(enter_format, "name", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "REC", &off, &size), -ENOENT);
	/* Type words are not field names. */
	assert_int_equal(ld_tp_format_field(enter_format, "int", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "sockaddr", &off, &size), -ENOENT);
	assert_int_equal(off, 77);
	assert_int_equal(size, 77);
}

static void
test_no_partial_match(void **state)
{
	int off = 77, size = 77;

	(void)state;
	/* Suffixes and prefixes of real field names do not match. */
	assert_int_equal(ld_tp_format_field(enter_format, "pid", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "type", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "addr", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "nr", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "common", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "user", &off, &size), -ENOENT);
	assert_int_equal(ld_tp_format_field(enter_format, "addrlen2", &off, &size), -ENOENT);
	assert_int_equal(off, 77);
	assert_int_equal(size, 77);

	/* When the short name exists too, each finds its own line. */
	assert_field("\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	    "\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n", "pid", 12, 4);
	assert_field("\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
	    "common_pid", 4, 4);
}

static void
test_malformed_line(void **state)
{
	int off = 77, size = 77;

	(void)state;
	/* A field line without offset/size does not borrow the next line's. */
	assert_int_equal(ld_tp_format_field(
	    "\tfield:int x;\n"
	    "\tfield:int y;\toffset:4;\tsize:4;\tsigned:1;\n", "x", &off, &size),
	    -EINVAL);
	assert_int_equal(ld_tp_format_field("\tfield:int x", "x", &off, &size),
	    -ENOENT);
	assert_field("\tfield:int x;\n\tfield:int y;\toffset:4;\tsize:4;\n", "y", 4, 4);
}

/* tracefs as it is, without mounting anything from a unit test. */
static const char *
live_tracefs(char *dir, size_t n)
{
	size_t i;
	int found = 0;

	if (geteuid() != 0)
		return NULL;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		found |= has_events(dirs[i]);
	if (!found)
		return NULL;
	assert_int_equal(ld_tracefs_find(dir, n), 0);
	return dir;
}

static void
test_live(void **state)
{
	static const char *const fields[] = { "fd", "uservaddr", "addrlen" };
	char dir[256], path[512], fmt[8192], idline[32];
	int id, off, size, woff, wsize, r;
	size_t i;

	(void)state;
	if (live_tracefs(dir, sizeof(dir)) == NULL)
		skip();
	id = ld_tp_id(dir, "syscalls", "sys_enter_connect");
	if (id == -ENOENT)
		skip(); /* kernel without CONFIG_FTRACE_SYSCALLS */
	assert_true(id > 0);

	/* The id agrees with the format file's own ID: line. */
	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_connect/format", dir);
	r = (int)file_read(path, fmt, sizeof(fmt));
	assert_true(r > 0);
	snprintf(idline, sizeof(idline), "\nID: %d\n", id);
	assert_non_null(strstr(fmt, idline));

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		assert_int_equal(ld_tp_field(dir, "syscalls", "sys_enter_connect",
		    fields[i], &off, &size), 0);
		assert_int_equal(ld_tp_format_field(enter_format, fields[i],
		    &woff, &wsize), 0);
		assert_int_equal(off, woff);
		assert_int_equal(size, wsize);
	}
	assert_int_equal(ld_tp_field(dir, "syscalls", "sys_exit_connect",
	    "ret", &off, &size), 0);
	assert_int_equal(off, 16);
	assert_int_equal(size, 8);

	assert_int_equal(ld_tp_id(dir, "syscalls", "sys_enter_no_such_call"), -ENOENT);
	assert_int_equal(ld_tp_field(dir, "syscalls", "sys_enter_connect",
	    "no_such_field", &off, &size), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enter_fields),
		cmocka_unit_test(test_exit_fields),
		cmocka_unit_test(test_missing_field),
		cmocka_unit_test(test_no_partial_match),
		cmocka_unit_test(test_malformed_line),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
