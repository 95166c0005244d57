/* Unit tests for util/log.c: one line per message, control characters
 * escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../util/log.c"

/* What one log_warnx() call writes to stderr. */
static void
logged(const char *name, char *out, size_t n)
{
	int p[2], saved;
	ssize_t r;

	assert_int_equal(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	log_warnx("api: 401 for GET %s", name);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	r = read(p[0], out, n - 1);
	close(p[0]);
	assert_true(r > 0);
	out[r] = '\0';
}

static void
test_escaped(void **state)
{
	char out[LOG_LINE + 16], big[3000];

	(void)state;
	logged("/a\nebpf-server: forged\x1b[2J\r\x7f", out, sizeof(out));
	assert_string_equal(out, "ebpf-server: api: 401 for GET /a\\x0aebpf-server: "
	    "forged\\x1b[2J\\x0d\\x7f\n");
	/* Long and full of escapes: cut, still one line, no half escape. */
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	logged(big, out, sizeof(out));
	assert_true(strlen(out) <= LOG_LINE);
	assert_true(strchr(out, '\n') == out + strlen(out) - 1);
	assert_true((strlen(out) - 1 - strlen("ebpf-server: api: 401 for GET ")) % 4 == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
