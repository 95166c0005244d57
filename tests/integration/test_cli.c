/*
 * The command line and the process life cycle of the real binary: flags,
 * clear failures (not root, port taken), tracefs mounting, and a clean
 * detach on SIGTERM that leaves no program of ours in the kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/bpf.h>

#include "tests/integration/itest.h"

/* Run the binary with args; capture stdout+stderr.  Returns exit status. */
static int
run(const char *const *args, uid_t uid, char *out, size_t n)
{
	const char *argv[16];
	int p[2], i = 0, status;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	argv[i++] = it_binary();
	while (*args && i < 15)
		argv[i++] = *args++;
	argv[i] = NULL;
	if (pipe(p) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		if (uid != 0 && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while (len + 1 < n && (r = read(p[0], out + len, n - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_help_lists_every_flag(void **state)
{
	static const char *const flags[] = { "-addr", "-max-events", "-threads",
	    "-timeout", "-ring-pages", "-v", "-h", "-version", ":8080", "262144" };
	const char *args[] = { "-h", NULL };
	char out[8192];
	size_t i;

	(void)state;
	assert_int_equal(run(args, 0, out, sizeof(out)), 0);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strstr(out, flags[i]) == NULL)
			fail_msg("-h does not mention %s", flags[i]);
}

static void
test_version(void **state)
{
	const char *args[] = { "-version", NULL };
	char out[256];

	(void)state;
	assert_int_equal(run(args, 0, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "ebpf-server "));
}

static void
test_bad_flags(void **state)
{
	const char *unknown[] = { "-nope", NULL };
	const char *badnum[] = { "-max-events", "12x", NULL };
	const char *zero[] = { "-max-events", "0", NULL };
	const char *noval[] = { "-addr", NULL };
	const char *pages[] = { "-ring-pages", "3", NULL };
	char out[4096];

	(void)state;
	assert_int_equal(run(unknown, 0, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "unknown flag"));
	assert_int_equal(run(badnum, 0, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "-max-events"));
	assert_int_equal(run(zero, 0, out, sizeof(out)), 2);
	assert_int_equal(run(noval, 0, out, sizeof(out)), 2);
	assert_int_equal(run(pages, 0, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "power of two"));
}

static void
test_not_root(void **state)
{
	const char *args[] = { "-addr", "127.0.0.1:0", NULL };
	char out[4096];

	(void)state;
	if (getuid() != 0)
		skip();
	/* nobody */
	assert_int_equal(run(args, 65534, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "root"));
}

static void
test_port_in_use(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char addr[64], out[4096];
	const char *args[] = { "-addr", addr, NULL };
	int fd, port;

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (void *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	{
		socklen_t len = sizeof(a);

		getsockname(fd, (void *)&a, &len);
	}
	port = ntohs(a.sin_port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(run(args, 0, out, sizeof(out)), 1);
	if (strstr(out, "in use") == NULL)
		fail_msg("no clear message for a taken port: %s", out);
	close(fd);
}

/* Programs named by our loader that the kernel holds right now. */
static int
our_programs(void)
{
	union bpf_attr attr;
	uint32_t id = 0;
	int count = 0;

	for (;;) {
		struct bpf_prog_info info;
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (syscall(__NR_bpf, BPF_PROG_GET_NEXT_ID, &attr, sizeof(attr)) < 0)
			break;
		id = attr.next_id;
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = id;
		if ((fd = (int)syscall(__NR_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr))) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		memset(&attr, 0, sizeof(attr));
		attr.info.bpf_fd = (uint32_t)fd;
		attr.info.info_len = sizeof(info);
		attr.info.info = (uint64_t)(uintptr_t)&info;
		if (syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) == 0 &&
		    (strncmp(info.name, "enter_", 6) == 0 || strncmp(info.name, "exit_", 5) == 0) &&
		    (strstr(info.name, "_connect") || strstr(info.name, "_sendto") ||
		    strstr(info.name, "_sendmsg")))
			count++;
		close(fd);
	}
	return count;
}

static void
test_sigterm_detaches_everything(void **state)
{
	struct server s;
	double secs = 99;
	int before;

	(void)state;
	before = our_programs();
	assert_int_equal(it_start(&s, NULL), 0);
	/* enter and exit for connect, sendto and sendmsg */
	assert_int_equal(our_programs(), before + 6);
	assert_int_equal(it_stop(&s, &secs), 0);
	assert_true(secs < 1.0);
	assert_int_equal(our_programs(), before);
}

static void
test_sigint_exits_zero(void **state)
{
	struct server s;
	int status;
	double t0;

	(void)state;
	assert_int_equal(it_start(&s, NULL), 0);
	t0 = it_now();
	kill(s.pid, SIGINT);
	waitpid(s.pid, &status, 0);
	assert_true(it_now() - t0 < 1.0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_mounts_tracefs(void **state)
{
	struct server s;
	struct stat st;

	(void)state;
	/* Only when nothing else holds it: another tracer may be running. */
	if (umount("/sys/kernel/tracing") < 0 && errno != EINVAL)
		skip();
	if (stat("/sys/kernel/debug/tracing/events", &st) == 0)
		skip(); /* debugfs offers it: the server would use that */
	assert_int_not_equal(stat("/sys/kernel/tracing/events", &st), 0);
	assert_int_equal(it_start(&s, NULL), 0);
	assert_int_equal(stat("/sys/kernel/tracing/events", &st), 0);
	assert_int_equal(it_stop(&s, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_lists_every_flag),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_not_root),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_mounts_tracefs),
		cmocka_unit_test(test_sigterm_detaches_everything),
		cmocka_unit_test(test_sigint_exits_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
