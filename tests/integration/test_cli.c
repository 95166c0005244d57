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

#include <ctype.h>
#include <dirent.h>
#include <grp.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/bpf.h>
#include <linux/capability.h>

#include <pwd.h>

#include "tests/bpf_ids.h"
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

/* The whole of a file of the source tree (the tests run from its top),
 * malloc'd. */
static char *
source_file(const char *path)
{
	char *buf = NULL;
	long n;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		fail_msg("%s: %s (run from the top of the source tree)", path,
		    strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_true(n > 0);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* s with roff's \- as -, \fB, \fR, \fI and \(en dropped, and every run of
 * white space one space, in place. */
static char *
unroff(char *s)
{
	char *w = s, *r = s;

	while (*r) {
		if (r[0] == '\\' && r[1] == '-') {
			*w++ = '-';
			r += 2;
		} else if (r[0] == '\\' && r[1] == 'f' && r[2]) {
			r += 3;
		} else if (r[0] == '\\' && r[1] == '(' && r[2] && r[3]) {
			*w++ = '-';
			r += 4;
		} else if (isspace((unsigned char)*r)) {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/*
 * The paragraph of ebpf-server(8)'s flattened OPTIONS (unroff()) for
 * name: its ".B -name" or ".BI -name \" arg\"" line and text, up to the
 * next .TP, into par; *arg its argument ("" for none).  0, or -1 when
 * there is none.
 */
static int
man_flag(const char *opts, const char *name, char *arg, char *par, size_t n)
{
	char kind[4], nm[64];
	const char *p, *e;

	for (p = opts; (p = strstr(p, ".TP .B")) != NULL; p++) {
		arg[0] = '\0';
		if (sscanf(p + 4, ".%3s %63s \" %63[^\"]\"", kind, nm, arg) < 2 ||
		    strcmp(nm, name) != 0)
			continue;
		e = strstr(p + 4, ".TP ");
		snprintf(par, n, "%.*s", e ? (int)(e - p) : (int)strlen(p), p);
		return 0;
	}
	return -1;
}

/*
 * -h is the one list of flags (httpd/opts.c's table).  The README's
 * "Command line" block must be -h verbatim; ebpf-server(8) must show every
 * flag of -h in its synopsis and in its options, with the same argument
 * and default, and no flag that -h lacks; the binary must know every flag
 * -h shows.
 */
static void
test_help_matches_docs(void **state)
{
	const char *args[] = { "-h", NULL };
	char out[8192], help[1024], par[4096], *readme, *man, *p, *q, *opts;
	const char *block = "## Command line\n\n```\n";
	int nflags = 0;

	(void)state;
	assert_int_equal(run(args, 0, out, sizeof(out)), 0);
	readme = source_file("README.md");
	if ((p = strstr(readme, block)) == NULL)
		fail_msg("README.md has no \"Command line\" block");
	p += strlen(block);
	if ((q = strstr(p, "```")) == NULL)
		fail_msg("README.md: the Command line block does not end");
	*q = '\0';
	if (strcmp(p, out) != 0)
		fail_msg("README.md's Command line block is not -h:\n%s\n--- -h:\n%s",
		    p, out);
	free(readme);

	man = unroff(source_file("httpd/dist/ebpf-server.8"));
	if ((opts = strstr(man, ".SH OPTIONS ")) == NULL ||
	    (q = strstr(opts + 1, ".SH ")) == NULL)
		fail_msg("ebpf-server(8) has no OPTIONS section");
	*q = '\0';
	/* Each flag paragraph of -h: "  -name [arg]  help (default d)",
	 * running to the next flag or a blank line. */
	for (p = out; (p = strstr(p, "\n  -")) != NULL; p++) {
		char name[64], arg[64] = "", marg[64], want[160], *d;
		size_t len = strlen(p + 1);

		if ((q = strstr(p + 1, "\n  -")) != NULL)
			len = (size_t)(q - (p + 1));
		if ((d = strstr(p + 1, "\n\n")) != NULL && (size_t)(d - (p + 1)) < len)
			len = (size_t)(d - (p + 1));
		snprintf(help, sizeof(help), "%.*s", (int)len, p + 1);
		assert_int_equal(sscanf(help, "%63s", name), 1);
		/* The argument follows the name after one space; the help
		 * after two or more. */
		q = help + 2 + strlen(name);
		if (q[0] == ' ' && q[1] != ' ')
			snprintf(arg, sizeof(arg), "%.*s", (int)strcspn(q + 1, " "), q + 1);
		unroff(help);
		nflags++;
		/* ".RB [ \-name" and ".IR arg ]", flattened. */
		snprintf(want, sizeof(want), "[ %s%s%s ]", name, arg[0] ? " .IR " : "",
		    arg);
		if (strstr(man, want) == NULL)
			fail_msg("ebpf-server(8): the SYNOPSIS lacks \"%s\"", want);
		if (man_flag(opts, name, marg, par, sizeof(par)) < 0)
			fail_msg("ebpf-server(8): OPTIONS has no paragraph for %s", name);
		if (strcmp(marg, arg) != 0)
			fail_msg("ebpf-server(8): %s takes \"%s\", -h says \"%s\"", name,
			    marg, arg);
		if ((d = strstr(help, "(default ")) != NULL) {
			d += 9;
			d[strcspn(d, ")")] = '\0';
			if (strstr(par, "default") == NULL || strstr(par, d) == NULL)
				fail_msg("ebpf-server(8): %s: no \"default %s\" in: %s",
				    name, d, par);
		}
		/* The binary knows it: given a wrong value, it is refused for
		 * that value, not as an unknown flag. */
		if (strcmp(name, "-h") != 0 && strcmp(name, "-version") != 0) {
			char flag[160], res[4096];
			const char *bad[] = { flag, NULL };

			snprintf(flag, sizeof(flag), "%s=%s", name, arg[0] ? "" : "maybe");
			if (run(bad, 0, res, sizeof(res)) != 2 ||
			    strstr(res, "unknown flag") || strstr(res, name) == NULL)
				fail_msg("%s: not a flag the binary knows: %s", name, res);
		}
	}
	assert_true(nflags >= 14);
	/* No flag in the man page that -h lacks. */
	for (q = opts; (q = strstr(q, ".TP .B")) != NULL; q++) {
		char name[64], want[80];

		if (sscanf(q + 4, ".%*s %63s", name) == 1 && name[0] == '-') {
			snprintf(want, sizeof(want), "\n  %s ", name);
			if (strstr(out, want) == NULL)
				fail_msg("ebpf-server(8) documents %s, which -h lacks",
				    name);
		}
	}
	free(man);
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
	/* Every resource flag is bounded on both sides. */
	static const char *const bounded[][2] = {
		{ "-threads", "0" }, { "-threads", "1025" },
		{ "-timeout", "99" }, { "-timeout", "600001" },
		{ "-max-body-size", "1023" }, { "-max-body-size", "16777217" },
		{ "-max-header-size", "1023" }, { "-max-header-size", "1048577" },
		{ "-max-events", "1073741825" }, { "-ring-pages", "131072" },
		{ "-threads", "-1" }, { "-timeout", "99999999999999999999999" },
	};
	char out[4096];
	size_t i;

	(void)state;
	assert_int_equal(run(unknown, 0, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "unknown flag"));
	assert_int_equal(run(badnum, 0, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "-max-events"));
	assert_int_equal(run(zero, 0, out, sizeof(out)), 2);
	assert_int_equal(run(noval, 0, out, sizeof(out)), 2);
	assert_int_equal(run(pages, 0, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "power of two"));
	for (i = 0; i < sizeof(bounded) / sizeof(bounded[0]); i++) {
		const char *args[] = { bounded[i][0], bounded[i][1], NULL };

		if (run(args, 0, out, sizeof(out)) != 2 ||
		    strstr(out, bounded[i][0]) == NULL)
			fail_msg("%s %s: not refused clearly: %s", bounded[i][0],
			    bounded[i][1], out);
	}
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

/*
 * The ids of the BPF programs pid holds (from /proc/PID/fdinfo), so that
 * other servers started by concurrent test runs do not count.  Returns
 * how many, at most max.
 */
static int
held_programs(pid_t pid, uint32_t *ids, int max)
{
	char dir[64], path[400], line[128];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL && n < max) {
		FILE *f;
		unsigned id;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "prog_id: %u", &id) == 1 && n < max)
				ids[n++] = id;
		fclose(f);
	}
	closedir(dp);
	return n;
}

/* Whether the kernel still has a program with this id. */
static int
program_exists(uint32_t id)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	if ((fd = (int)syscall(__NR_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr))) < 0)
		return errno != ENOENT;
	close(fd);
	return 1;
}

/* Start, check our programs are loaded, SIGTERM, check they are gone
 * and the exit took less than a second.  load, when not NULL, runs in
 * children that are killed after the server. */
static void
start_stop(void (*load)(int port), const char *const *extra, int nprogs)
{
	struct server s;
	uint32_t ids[32];
	pid_t kids[4];
	double secs = 99;
	int n, i, status;

	assert_int_equal(it_start(&s, extra), 0);
	n = held_programs(s.pid, ids, 32);
	if (nprogs ? n != nprogs : n < 1) /* 0: any number */
		fail_msg("%d program references held, want %d", n, nprogs);
	for (i = 0; load && i < 4; i++)
		if ((kids[i] = fork()) == 0) {
			load(s.port);
			_exit(0);
		}
	if (load)
		usleep(500000); /* deliberate: the stop comes under load */
	assert_int_equal(it_stop(&s, &secs), 0);
	if (secs >= 1.0)
		fail_msg("exit took %.2f s", secs);
	for (i = 0; load && i < 4; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], &status, 0);
	}
	for (i = 0; i < n; i++)
		if (program_exists(ids[i]))
			fail_msg("program %u still loaded after exit", ids[i]);
}

static void
test_sigterm_detaches_everything(void **state)
{
	static const char *const pair[] = { "-backend", "tracepoint", NULL };
	static const char *const exit_only[] = { "-backend", "tracepoint-exit", NULL };
	static const char *const cgroup[] = { "-backend", "cgroup", NULL };

	(void)state;
	/* Socket hooks: six programs and their links (four before Linux
	 * 6.7, without the unix hooks), and the TCP outcome program. */
	start_stop(NULL, cgroup, 0);
	/* Enter and exit for connect, sendto and sendmsg. */
	start_stop(NULL, pair, 6);
	/* Exit-only: one program per call. */
	start_stop(NULL, exit_only, 3);
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
	it_track(0, s.pid);
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

/* The status line of one task of pid, e.g. "CapEff", into v. */
static int
task_status(const char *path, const char *key, char *v, size_t n)
{
	char line[256];
	size_t kl = strlen(key);
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			snprintf(v, n, "%s", line + kl + 1 + strspn(line + kl + 1, " \t"));
			v[strcspn(v, "\n")] = '\0';
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* Check key on every thread of pid; returns the number of threads. */
static int
every_thread(pid_t pid, const char *key, const char *want, int equal)
{
	char dir[64], path[400], v[128];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	assert_non_null(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, d->d_name);
		if (task_status(path, key, v, sizeof(v)) < 0)
			continue; /* the thread ended meanwhile */
		if ((strcmp(v, want) == 0) != equal)
			fail_msg("thread %s of %d: %s is %s", d->d_name, (int)pid, key, v);
		n++;
	}
	closedir(dp);
	return n;
}

static void
test_sandbox(void **state)
{
	const char *nosb[] = { "-no-sandbox", NULL };
	struct server s;
	struct reply r;

	(void)state;
	assert_int_equal(it_start(&s, NULL), 0);
	/* Serve a request first, so every worker has run. */
	assert_int_equal(it_http(s.port, "GET", "/api/list-connections?limit=1",
	    NULL, &r), 0);
	assert_int_equal(r.status, 200);
	it_reply_free(&r);
	/* civetweb's master, its workers and the reader: all sandboxed. */
	assert_true(every_thread(s.pid, "CapEff", "0000000000000000", 1) >= 3);
	every_thread(s.pid, "CapPrm", "0000000000000000", 1);
	every_thread(s.pid, "CapAmb", "0000000000000000", 1);
	every_thread(s.pid, "NoNewPrivs", "1", 1);
	every_thread(s.pid, "Seccomp", "2", 1);
	/* A uid of its own: the ebpf-server user, or the fixed fallback;
	 * never nobody's. */
	{
		struct passwd *pw = getpwnam("ebpf-server");
		unsigned long u = pw ? pw->pw_uid : 2147483646ul;
		char want[64];

		snprintf(want, sizeof(want), "%lu\t%lu\t%lu\t%lu", u, u, u, u);
		every_thread(s.pid, "Uid", want, 1);
	}
	assert_int_equal(it_stop(&s, NULL), 0);

	/* -no-sandbox keeps everything, for debugging. */
	assert_int_equal(it_start(&s, nosb), 0);
	every_thread(s.pid, "CapEff", "0000000000000000", 0);
	every_thread(s.pid, "Seccomp", "0", 1);
	assert_int_equal(it_stop(&s, NULL), 0);
}

/* Become nobody with only the capabilities the server needs, in the
 * ambient set so that they survive the execve, as systemd's
 * AmbientCapabilities= does.  CAP_DAC_OVERRIDE reads the root-only
 * tracefs. */
static int
caps_not_root(void)
{
	static const int caps[] = { CAP_BPF, CAP_PERFMON, CAP_DAC_OVERRIDE };
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	size_t i;

	memset(data, 0, sizeof(data));
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		data[caps[i] / 32].permitted |= 1u << (caps[i] % 32);
		data[caps[i] / 32].effective |= 1u << (caps[i] % 32);
		data[caps[i] / 32].inheritable |= 1u << (caps[i] % 32);
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0 ||
	    syscall(__NR_capset, &hdr, data) < 0)
		return -1;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, caps[i], 0, 0) < 0)
			return -1;
	return 0;
}

/* Started as a user with capabilities instead of root: there is no uid
 * change to clear the threads' capabilities, yet every thread ends with
 * none. */
static void
test_sandbox_not_root(void **state)
{
	struct server s;
	int rc;

	(void)state;
	it_before_exec = caps_not_root;
	rc = it_start(&s, NULL);
	it_before_exec = NULL;
	if (rc < 0)
		fail_msg("server with capabilities did not start, see %s", s.log);
	assert_true(every_thread(s.pid, "CapEff", "0000000000000000", 1) >= 3);
	every_thread(s.pid, "CapPrm", "0000000000000000", 1);
	every_thread(s.pid, "CapAmb", "0000000000000000", 1);
	every_thread(s.pid, "NoNewPrivs", "1", 1);
	every_thread(s.pid, "Seccomp", "2", 1);
	assert_int_equal(it_stop(&s, NULL), 0);
}

/* The cgroup2 mount point, from our own mountinfo, into mnt. */
static int
cgroup2_mount(char *mnt, size_t n)
{
	char line[1024], path[512], type[64];
	FILE *f;
	int rc = -1;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");

		if (dash && sscanf(dash, " - %63s", type) == 1 &&
		    strcmp(type, "cgroup2") == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %511s", path) == 1) {
			snprintf(mnt, n, "%s", path);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Cgroup paths are found by walking the cgroup2 tree when a response
 * needs one, which is after the sandbox: the walk must still work. */
static void
test_sandbox_cgroup_walk(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char mnt[512], dir[600], procs[700], want[64], path[64];
	struct server s;
	struct reply r;
	const char *cg = NULL;
	pid_t pid;
	int status, fd;
	double t0;

	(void)state;
	if (cgroup2_mount(mnt, sizeof(mnt)) < 0)
		skip();
	snprintf(want, sizeof(want), "/itest-sandbox-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s%s", mnt, want);
	if (mkdir(dir, 0755) < 0)
		skip(); /* not ours to change (a container) */
	assert_int_equal(it_start(&s, NULL), 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(1);
	if ((pid = fork()) == 0) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		if ((fd = open(procs, O_WRONLY)) < 0 || write(fd, "0", 1) != 1)
			_exit(1);
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		connect(fd, (void *)&a, sizeof(a));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "/api/list-connections?pid=%d", (int)pid);
	t0 = it_now();
	do {
		json_t *arr;

		usleep(100000);
		assert_int_equal(it_http(s.port, "GET", path, NULL, &r), 0);
		arr = json_object_get(json_object_get(r.json, "connections"),
		    strrchr(path, '=') + 1);
		cg = json_string_value(json_object_get(json_array_get(arr, 0), "cgroup"));
		if (cg && strcmp(cg, want) == 0)
			break;
		it_reply_free(&r);
		cg = NULL;
	} while (it_now() - t0 < 3);
	if (cg)
		it_reply_free(&r);
	rmdir(dir); /* empty again: the child has exited */
	if (!cg)
		fail_msg("no event with cgroup %s (log: %s)", want, s.log);
	assert_int_equal(it_stop(&s, NULL), 0);
}

/* SIGTERM while clients hammer the API and the probes fire: the sandbox
 * still lets the server detach everything and exit 0 within a second. */
static void
hammer(int port)
{
	unsigned i;

	for (i = 0;; i++) {
		struct reply r;

		if (it_http(port, "GET", i % 2 ? "/health" :
		    "/api/list-connections?limit=5", NULL, &r) == 0)
			it_reply_free(&r);
	}
}

static void
test_sigterm_under_load(void **state)
{
	(void)state;
	start_stop(hammer, NULL, 0);
}

/* Whether some BPF link in the kernel still runs one of ids[0..n). */
static int
link_of(const uint32_t *ids, int n)
{
	struct bpf_link_info info;
	uint32_t id = 0;
	int i;

	while (bpf_next_id(BPF_LINK_GET_NEXT_ID, &id) == 0) {
		if (it_bpf_info(BPF_LINK_GET_FD_BY_ID, id, &info, sizeof(info)) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (info.prog_id == ids[i])
				return 1;
	}
	return 0;
}

/* kill -9 leaves nothing attached: the cgroup programs hang off links,
 * which die with the process (BPF_PROG_ATTACH would leave them running
 * on every connect of the host). */
static void
test_sigkill_detaches_cgroup(void **state)
{
	static const char *const cgroup[] = { "-backend", "cgroup", NULL };
	struct server s;
	uint32_t ids[32];
	int n, i, left = 1, status;
	double t0;

	(void)state;
	assert_int_equal(it_start(&s, cgroup), 0);
	n = held_programs(s.pid, ids, 32);
	assert_true(n >= 5);
	assert_true(link_of(ids, n));
	kill(s.pid, SIGKILL);
	waitpid(s.pid, &status, 0);
	it_track(0, s.pid);
	/* The last references go with the process's files, at once or
	 * after an RCU grace period. */
	for (t0 = it_now(); left && it_now() - t0 < 2; usleep(20000))
		for (left = link_of(ids, n), i = 0; !left && i < n; i++)
			left = program_exists(ids[i]);
	if (link_of(ids, n))
		fail_msg("a link to one of our programs survived kill -9");
	for (i = 0; i < n; i++)
		if (program_exists(ids[i]))
			fail_msg("program %u still loaded after kill -9", ids[i]);
}

/*
 * A backend asked for by name that this kernel cannot run: exit 3 and
 * say which and why in one line (the qemu harness of make test-vm and
 * make test report it as skipped with that reason).  The address cannot
 * be bound, so that a kernel where the backend does work makes the
 * server exit too, later, with 1 and for that reason instead.
 */
static void
test_forced_backend(void **state)
{
	static const char *const names[] = { "fexit", "cgroup",
	    "tracepoint-exit", "tracepoint" };
	const char *args[] = { "-addr", "192.0.2.1:80", "-backend", NULL, NULL };
	const char *bad[] = { "-backend", "nosuch", NULL };
	char out[65536], *p;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		args[3] = names[i];
		rc = run(args, 0, out, sizeof(out));
		if ((p = strstr(out, "unavailable: ")) != NULL) {
			assert_int_equal(rc, 3);
			/* The reason follows, on the same line. */
			assert_non_null(strstr(out, names[i]));
			assert_true(p[13] != '\n' && p[13] != '\0');
			fprintf(stderr, "backend %s: %s", names[i],
			    strstr(out, "backend "));
		} else if (strstr(out, "192.0.2.1") == NULL) {
			fail_msg("-backend %s: neither unavailable nor a bind "
			    "failure:\n%s", names[i], out);
		} else {
			assert_int_equal(rc, 1);
		}
	}
	rc = run(bad, 0, out, sizeof(out));
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "cgroup"));
	assert_non_null(strstr(out, "fexit"));
}

/* A program the verifier rejects: its log and a numbered listing are
 * printed, and the server exits 1 leaving nothing loaded. */
static void
test_verifier_rejection(void **state)
{
	const char *args[] = { "-addr", "127.0.0.1:0", NULL };
	char out[65536];
	int rc;

	(void)state;
	setenv("EBPF_SERVER_FAULT", "verifier-reject", 1);
	rc = run(args, 0, out, sizeof(out));
	unsetenv("EBPF_SERVER_FAULT");
	assert_int_equal(rc, 1);
	if (!strstr(out, "rejected") || !strstr(out, "--- verifier log ---") ||
	    !strstr(out, "--- program (") || !strstr(out, "   0: r0 = *(u64 *)(r10 +8)") ||
	    !strstr(out, "   1: "))
		fail_msg("no verifier log and listing: %s", out);
	/* Helpers and jump targets by name, not by number. */
	if (!strstr(out, ": call bpf_get_current_pid_tgid\n") ||
	    !strstr(out, " goto L1 (") || !strstr(out, "\nL1:\n"))
		fail_msg("the listing does not name helpers and labels: %s", out);
}

static void
test_token_file(void **state)
{
	char path[64], out[4096];
	const char *args[] = { "-addr", "127.0.0.1:0", "-token-file", path, NULL };
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/itest-tok.%d", (int)getpid());
	unlink(path);
	assert_int_equal(run(args, 0, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "-token-file"));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(run(args, 0, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "empty"));
	fd = open(path, O_WRONLY | O_TRUNC, 0600);
	assert_int_equal(write(fd, "a b\n", 4), 4);
	close(fd);
	assert_int_equal(run(args, 0, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "visible ASCII"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_matches_docs),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_not_root),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_mounts_tracefs),
		cmocka_unit_test(test_sigterm_detaches_everything),
		cmocka_unit_test(test_sigint_exits_zero),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_sandbox_cgroup_walk),
		cmocka_unit_test(test_sandbox_not_root),
		cmocka_unit_test(test_sigterm_under_load),
		cmocka_unit_test(test_sigkill_detaches_cgroup),
		cmocka_unit_test(test_forced_backend),
		cmocka_unit_test(test_verifier_rejection),
		cmocka_unit_test(test_token_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
