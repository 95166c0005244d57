/*
 * Unit tests for the command-line table (httpd/flags.c): defaults, Go's
 * spellings of a flag, bounds, and -h made from the rows.  Bad input
 * exits 2, so those cases run in a child.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../httpd/flags.c"

struct o {
	const char *addr;
	unsigned long n, pages;
	const char *pick;
	int sw;
};

static const char *const *
picks(void)
{
	static const char *const p[] = { "one", "two", NULL };

	return p;
}

static const struct flag rows[] = {
	{ "-addr", "host:port", FLAG_STR, offsetof(struct o, addr), 0, 0,
	  ":8080", NULL, "listen address", NULL },
	{ "-n", "n", FLAG_NUM, offsetof(struct o, n), 1, 10, "4", NULL,
	  "a number, 1-10", NULL },
	{ "-pages", "n", FLAG_POW2, offsetof(struct o, pages), 1, 64, NULL,
	  "some", "a power of two", NULL },
	{ "-pick", "name", FLAG_CHOICE, offsetof(struct o, pick), 0, 0, "one",
	  NULL, "pick", picks },
	{ "-sw", NULL, FLAG_SWITCH, offsetof(struct o, sw), 0, 0, NULL, NULL,
	  "a switch whose help is long enough to be wrapped onto a second "
	  "line of its own by the usage writer", NULL },
	{ "-h", NULL, FLAG_HELP, 0, 0, 0, NULL, NULL, "this help", NULL },
};
static const struct flag_cmd cmd = { "prog", "1.0", "About.\n", "Footer.\n",
	rows, sizeof(rows) / sizeof(rows[0]) };

static uint64_t
parse(struct o *o, const char *a0, const char *a1, const char *a2)
{
	char *argv[4] = { (char *)"prog", NULL, NULL, NULL };
	static char buf[3][64];
	int argc = 1;

	memset(o, 0, sizeof(*o));
	/* flag_parse() writes into "-flag=value": copies. */
	if (a0)
		argv[argc++] = strcpy(buf[0], a0);
	if (a1)
		argv[argc++] = strcpy(buf[1], a1);
	if (a2)
		argv[argc++] = strcpy(buf[2], a2);
	return flag_parse(&cmd, argc, argv, o);
}

/* The exit status of parsing a0 a1 in a child (stderr silenced). */
static int
status_of(const char *a0, const char *a1)
{
	struct o o;
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		freopen("/dev/null", "w", stderr);
		freopen("/dev/null", "w", stdout);
		parse(&o, a0, a1, NULL);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_defaults_and_spellings(void **state)
{
	struct o o;

	(void)state;
	assert_int_equal(parse(&o, NULL, NULL, NULL), 0);
	assert_string_equal(o.addr, ":8080");
	assert_int_equal(o.n, 4);
	assert_int_equal(o.pages, 0);
	assert_string_equal(o.pick, "one");
	assert_int_equal(o.sw, 0);
	assert_int_equal(parse(&o, "-n", "7", "-sw"), 1u << 1 | 1u << 4);
	assert_int_equal(o.n, 7);
	assert_int_equal(o.sw, 1);
	parse(&o, "--n=9", "-pick=two", NULL);
	assert_int_equal(o.n, 9);
	assert_string_equal(o.pick, "two");
	parse(&o, "-sw=false", "-pages", "16");
	assert_int_equal(o.sw, 0);
	assert_int_equal(o.pages, 16);
	assert_int_equal(flag_bit(&cmd, "-pick"), 1u << 3);
	assert_int_equal(flag_bit(&cmd, "-nope"), 0);
}

static void
test_bad_values_exit_2(void **state)
{
	(void)state;
	assert_int_equal(status_of("-n", "0"), 2);
	assert_int_equal(status_of("-n", "11"), 2);
	assert_int_equal(status_of("-n", "1x"), 2);
	assert_int_equal(status_of("-n", "-1"), 2);
	assert_int_equal(status_of("-n", NULL), 2);
	assert_int_equal(status_of("-pages", "12"), 2);
	assert_int_equal(status_of("-pick", "three"), 2);
	assert_int_equal(status_of("-addr", ""), 2);
	assert_int_equal(status_of("-sw=maybe", NULL), 2);
	assert_int_equal(status_of("-nope", NULL), 2);
	assert_int_equal(status_of("-n", "10"), 0);
	assert_int_equal(status_of("-h", NULL), 0);
	assert_int_equal(status_of("-help", NULL), 0);
}

static void
test_usage_from_rows(void **state)
{
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(f = open_memstream(&buf, &len));
	flag_usage(&cmd, f);
	fclose(f);
	assert_string_equal(buf,
	    "usage: prog [-addr host:port] [-n n] [-pages n] [-pick name] [-sw] [-h]\n"
	    "\n"
	    "About.\n"
	    "\n"
	    "  -addr host:port   listen address (default :8080)\n"
	    "  -n n              a number, 1-10 (default 4)\n"
	    "  -pages n          a power of two (default some)\n"
	    "  -pick name        pick one or two (default one)\n"
	    "  -sw               a switch whose help is long enough to be wrapped\n"
	    "                    onto a second line of its own by the usage writer\n"
	    "                    (default off)\n"
	    "  -h                this help\n"
	    "\n"
	    "Footer.\n");
	for (line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		assert_true(strcspn(line, "\n") <= WIDTH);
	free(buf);
}

/* A synopsis past SYNOPSIS_LINES says "[flag ...]": the paragraphs
 * list every flag anyway. */
static void
test_long_synopsis(void **state)
{
	static const struct flag many[] = {
		{ "-aaaaaaaaaa", "value", FLAG_STR, 0, 0, 0, NULL, NULL, "a", NULL },
		{ "-bbbbbbbbbb", "value", FLAG_STR, 0, 0, 0, NULL, NULL, "b", NULL },
		{ "-cccccccccc", "value", FLAG_STR, 0, 0, 0, NULL, NULL, "c", NULL },
		{ "-dddddddddd", "value", FLAG_STR, 0, 0, 0, NULL, NULL, "d", NULL },
		{ "-eeeeeeeeee", "value", FLAG_STR, 0, 0, 0, NULL, NULL, "e", NULL },
		{ "-ffffffffff", "value", FLAG_STR, 0, 0, 0, NULL, NULL, "f", NULL },
		{ "-gggggggggg", "value", FLAG_STR, 0, 0, 0, NULL, NULL, "g", NULL },
	};
	struct flag_cmd c = { "prog", "1", "About.\n", NULL, many, 7 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_true(synopsis(&c, NULL) > SYNOPSIS_LINES);
	assert_non_null(f = open_memstream(&buf, &len));
	flag_usage(&c, f);
	fclose(f);
	assert_int_equal(strncmp(buf, "usage: prog [flag ...]\n\nAbout.\n", 31), 0);
	assert_non_null(strstr(buf, "\n  -gggggggggg value "));
	free(buf);
	/* Five of them fit on two lines: all are listed. */
	c.n = 5;
	assert_int_equal(synopsis(&c, NULL), 2);
	assert_non_null(f = open_memstream(&buf, &len));
	flag_usage(&c, f);
	fclose(f);
	assert_non_null(strstr(buf, "usage: prog [-aaaaaaaaaa value]"));
	assert_non_null(strstr(buf, "[-eeeeeeeeee value]\n\nAbout."));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_spellings),
		cmocka_unit_test(test_bad_values_exit_2),
		cmocka_unit_test(test_usage_from_rows),
		cmocka_unit_test(test_long_synopsis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
