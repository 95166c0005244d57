/*
 * What operators get: a one-screen -h listing every flag with its default
 * (test_cli.c test_help_matches_docs holds the man page and the README to
 * it), and `make install` with PREFIX and DESTDIR.  Run from the top of
 * the source tree (make test does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "tests/integration/itest.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* stdout of cmd, malloc'd. */
static char *
output(const char *cmd)
{
	char *buf = calloc(1, 65536);
	size_t len = 0, r;
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	while ((r = fread(buf + len, 1, 65535 - len, p)) > 0)
		len += r;
	pclose(p);
	return buf;
}

/* The option lines of -h: "  -name ...", one entry per flag, with the
 * description's continuation lines appended. */
struct opt {
	char name[32];
	char text[512];
};

static size_t
options(const char *help, struct opt *o, size_t max)
{
	const char *p = help, *nl;
	size_t n = 0, len;

	for (; *p; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if (len > 3 && !strncmp(p, "  -", 3) && n < max) {
			sscanf(p + 2, "%31s", o[n].name);
			snprintf(o[n].text, sizeof(o[n].text), "%.*s", (int)len, p);
			n++;
		} else if (len > 10 && !strncmp(p, "          ", 10) && n > 0 &&
		    strlen(o[n - 1].text) + len < sizeof(o[n - 1].text)) {
			strncat(o[n - 1].text, p, len);
		} else if (len == 0 && n > 0) {
			break; /* the blank line after the options */
		}
	}
	return n;
}

static void
test_help_one_screen_with_defaults(void **state)
{
	struct opt o[64];
	char cmd[512], *help;
	const char *p, *nl;
	size_t n, i, lines = 0;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s -h", it_binary());
	help = output(cmd);
	for (p = help; (nl = strchr(p, '\n')); p = nl + 1) {
		lines++;
		if (nl - p > 80)
			fail_msg("-h line wider than 80 columns: %.*s", (int)(nl - p), p);
	}
	/* One screen: 45 lines since the fleet's seven flags (one line
	 * each, the synopsis down to "[flag ...]"). */
	if (lines > 45)
		fail_msg("-h is %zu lines: more than one screen", lines);
	n = options(help, o, 64);
	assert_true(n >= 9);
	for (i = 0; i < n; i++) {
		if (!strcmp(o[i].name, "-h") || !strcmp(o[i].name, "-version"))
			continue;
		if (!strstr(o[i].text, "(default "))
			fail_msg("-h: %s does not say its default: %s", o[i].name,
			    o[i].text);
	}
	free(help);
}

static void
test_make_install(void **state)
{
	char dir[] = "/tmp/itest-install.XXXXXX", cmd[512], path[256], *s;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "make -s install DESTDIR=%s PREFIX=/opt/es "
	    ">/tmp/itest-install.log 2>&1", dir);
	if (system(cmd) != 0)
		fail_msg("%s failed, see /tmp/itest-install.log", cmd);
	snprintf(path, sizeof(path), "%s/opt/es/sbin/ebpf-server", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	snprintf(cmd, sizeof(cmd), "%s -version", path);
	s = output(cmd);
	assert_non_null(strstr(s, "ebpf-server "));
	free(s);
	snprintf(path, sizeof(path), "%s/opt/es/share/man/man8/ebpf-server.8", dir);
	assert_non_null(s = slurp(path));
	assert_null(strstr(s, "@VERSION@"));
	assert_non_null(strstr(s, "/opt/es/share/doc/ebpf-server/examples/"));
	free(s);
	snprintf(path, sizeof(path), "%s/opt/es/share/doc/ebpf-server/examples/"
	    "ebpf-server.service", dir);
	assert_non_null(s = slurp(path));
	assert_non_null(strstr(s, "\nExecStart=/opt/es/sbin/ebpf-server "));
	free(s);
	snprintf(path, sizeof(path), "%s/opt/es/share/doc/ebpf-server/examples/"
	    "ebpf-server.openrc", dir);
	assert_non_null(s = slurp(path));
	assert_non_null(strstr(s, "\ncommand=\"/opt/es/sbin/ebpf-server\""));
	assert_int_equal(strncmp(s, "#!/sbin/openrc-run\n", 19), 0);
	free(s);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	/* And uninstall takes it all away again. */
	snprintf(cmd, sizeof(cmd), "make -s uninstall DESTDIR=%s PREFIX=/opt/es "
	    ">>/tmp/itest-install.log 2>&1", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/opt/es/sbin/ebpf-server", dir);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	system(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_one_screen_with_defaults),
		cmocka_unit_test(test_make_install),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
