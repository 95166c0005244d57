/*
 * Per-CPU batches on the real kernel, with the default settings (batches
 * on): the reader flushes every CPU itself, so a lone connect on an
 * otherwise quiet CPU shows in the API within 1 s; a burst that is not a
 * multiple of the batch size is counted exactly; and the reader's own
 * flush connects are never events.  make test runs it under every
 * backend; those without batches (tracepoint) must hold the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <sched.h>
#include <sys/prctl.h>

#include "tests/integration/itest.h"

#define NBURST 1000             /* about 30 full batches (33 to 38 inet
                                 * records each) and a part-filled one */

static struct server srv;

/* Whether the server said it gathers events in per-CPU batches. */
static int
batched(void)
{
	char line[1024];
	int yes = 0;
	FILE *f;

	assert_non_null(f = fopen(srv.log, "r"));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " listening on ") && strstr(line, "per-CPU batches"))
			yes = 1;
	fclose(f);
	return yes;
}

/* n UDP connects to 127.0.0.1:port from a child named comm pinned to
 * cpu (-1: anywhere); the child exits at once.  Returns its pid and, in
 * *t, the time just before its first connect. */
static pid_t
udp_connects(const char *comm, int cpu, int port, int n, double *t)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int p[2], fd, i, status;
	cpu_set_t one;
	pid_t pid;
	double t0 = 0;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_NAME, comm);
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (cpu >= 0 && sched_setaffinity(0, sizeof(one), &one) < 0)
			_exit(3);
		if (cpu >= 0 && sched_getcpu() != cpu)
			_exit(4);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
			_exit(5);
		t0 = it_now();
		for (i = 0; i < n; i++)
			if (connect(fd, (void *)&a, sizeof(a)) < 0)
				_exit(6);
		if (write(p[1], &t0, sizeof(t0)) != sizeof(t0))
			_exit(7);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &t0, sizeof(t0)), sizeof(t0));
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	*t = t0;
	return pid;
}

/*
 * connect() attempts of pid the server counts (connection-summary), asked
 * on one keep-alive connection: a new HTTP connection per poll would be a
 * connect event too, and would fill the poller's CPU batch by itself.
 * The server ends a keep-alive connection left idle (as during a long
 * it_settle()): then once more on a new one.
 */
static long
attempts(pid_t pid)
{
	static int fd = -1;
	char req[256], body[96], buf[8192], *p;
	size_t len = 0;
	ssize_t n;
	int again = 1;

	snprintf(body, sizeof(body), "{\"pid\":%d,\"duration\":300}", (int)pid);
	snprintf(req, sizeof(req), "POST /api/connection-summary HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(body), body);
redial:
	if (fd < 0)
		assert_true((fd = it_dial(srv.port)) >= 0);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		assert_true(again);
		again = 0;
		close(fd);
		fd = -1;
		goto redial;
	}
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		char *end, *cl;

		assert_true(poll(&pf, 1, 5000) == 1 && len < sizeof(buf) - 1);
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0 && len == 0 && again) {
			again = 0;
			close(fd);
			fd = -1;
			goto redial;
		}
		assert_true(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		assert_non_null(cl = strcasestr(buf, "Content-Length: "));
		if (len >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
			break;
	}
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_non_null(p = strstr(buf, "\"total_attempts\":"));
	return strtol(p + 17, NULL, 10);
}

/* Batches are the default where the backend has them. */
static void
test_batches_on(void **state)
{
	(void)state;
	if (strcmp(srv.backend, "tracepoint") == 0)
		assert_false(batched());        /* its programs output each event */
	else
		assert_true(batched());
}

/*
 * One connect on each CPU in turn, from a process pinned there, and
 * nothing else of ours: it is in the API within 1 s (latency measured
 * from just before the connect to the first reply that lists it).
 */
static void
test_lone_connect_each_cpu(void **state)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char comm[16];
	double t0, lat;
	int cpu;

	(void)state;
	for (cpu = 0; cpu < ncpu && cpu < 64; cpu++) {
		pid_t pid;

		snprintf(comm, sizeof(comm), "itest-pin%d", cpu);
		pid = udp_connects(comm, cpu, it_free_port(), 1, &t0);
		while (attempts(pid) < 1 && it_now() - t0 < 3)
			usleep(10000);
		lat = it_now() - t0;
		if (attempts(pid) != 1)
			fail_msg("the connect on CPU %d is not in the API after "
			    "%.1f s (backend %s)", cpu, lat, srv.backend);
		if (lat >= 1.0)
			fail_msg("the connect on CPU %d took %.3f s to show "
			    "(backend %s), more than 1 s", cpu, lat, srv.backend);
		printf("   CPU %d: in the API after %.0f ms\n", cpu, lat * 1000);
	}
}

/* 1000 connects, the last batch part-filled: all of them counted, no more. */
static void
test_burst_counted_exactly(void **state)
{
	double t0;
	long n = 0;
	pid_t pid;

	(void)state;
	pid = udp_connects("itest-burst", -1, it_free_port(), NBURST, &t0);
	while ((n = attempts(pid)) < NBURST && it_now() - t0 < 3)
		usleep(20000);
	/* Until every batch is flushed and read: anything beyond NBURST
	 * would be a double count. */
	if (it_settle(&srv, IT_SETTLE_S) < 0)
		fail_msg("the server's counts still moved %d s after the burst "
		    "(backend %s)", IT_SETTLE_S, srv.backend);
	n = attempts(pid);
	if (n != NBURST)
		fail_msg("%ld of %d connects counted (backend %s)", n, NBURST,
		    srv.backend);
}

/* The reader's flush connects (five rounds a second by now) are no
 * events: nothing from the server's own pid. */
static void
test_flush_not_recorded(void **state)
{
	char path[96], key[32];
	struct reply r;

	(void)state;
	/* Deliberate: time for three flush rounds (IT_FLUSH_MS apart) whose
	 * connects must not show; nothing to poll for. */
	usleep(3 * IT_FLUSH_MS * 1000);
	assert_int_equal(attempts(srv.pid), 0);
	snprintf(path, sizeof(path), "/api/list-connections?pid=%d", (int)srv.pid);
	snprintf(key, sizeof(key), "%d", (int)srv.pid);
	assert_int_equal(it_http(srv.port, "GET", path, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(json_object_get(json_object_get(r.json, "connections"), key));
	it_reply_free(&r);
}

/* The id of the program called name that process pid holds, from its
 * fds' fdinfo ("prog_id:"), or 0. */
static uint32_t
prog_of(pid_t pid, const char *name)
{
	struct bpf_prog_info info;
	char dir[64], path[320], line[128];
	struct dirent *d;
	uint32_t id, found = 0;
	DIR *dp;
	FILE *f;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while (!found && (d = readdir(dp)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "prog_id: %u", &id) == 1 &&
			    it_bpf_info(BPF_PROG_GET_FD_BY_ID, id, &info,
			    sizeof(info)) == 0 && strcmp(info.name, name) == 0)
				found = id;
		fclose(f);
	}
	closedir(dp);
	return found;
}

/*
 * The loader takes the batch the way its probe of the kernel said it may
 * (loader/probe.c, printed by -v): with the atomic exchange where the
 * verifier took BPF_XCHG, with a plain load and store where it did not.
 * The kernel's own copy of the program (its translated instructions) is
 * what is looked at.
 */
static void
test_batch_taken_as_probed(void **state)
{
	static const char *const v[] = { "-v", NULL };
	struct bpf_prog_info info;
	struct bpf_insn insn[4096];
	union bpf_attr attr;
	struct server s;
	char line[512];
	uint32_t id = 0;
	int probed = -1, atomic = 0, fd;
	unsigned i;
	double t0;
	FILE *f;

	(void)state;
	if (strcmp(srv.backend, "cgroup") != 0) {
		print_message("backend %s: checked under cgroup only\n", srv.backend);
		return;
	}
	assert_int_equal(it_start(&s, v), 0);
	assert_non_null(f = fopen(s.log, "r"));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "kernel takes:") && strstr(line, " xchg="))
			probed = strstr(line, " xchg=1") != NULL;
	fclose(f);
	assert_true(probed >= 0);
	for (t0 = it_now(); !(id = prog_of(s.pid, "es_connect4")) &&
	    it_now() - t0 < 5; usleep(50000))
		;
	assert_true(id > 0);
	assert_int_equal(it_bpf_info(BPF_PROG_GET_FD_BY_ID, id, &info,
	    sizeof(info)), 0);
	assert_true(info.xlated_prog_len <= sizeof(insn));
	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	assert_true((fd = (int)syscall(__NR_bpf, BPF_PROG_GET_FD_BY_ID, &attr,
	    sizeof(attr))) >= 0);
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = sizeof(insn);
	info.xlated_prog_insns = (uint64_t)(uintptr_t)insn;
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	assert_int_equal(syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr,
	    sizeof(attr)), 0);
	close(fd);
	for (i = 0; i < info.xlated_prog_len / sizeof(insn[0]); i++)
		if (insn[i].code == (BPF_STX | BPF_W | BPF_ATOMIC) &&
		    insn[i].imm == BPF_XCHG)
			atomic = 1;
	if (atomic != probed)
		fail_msg("the kernel took BPF_XCHG: %s; es_connect4 takes its "
		    "batch %s", probed ? "yes" : "no", atomic ? "atomically" :
		    "with a plain load and store");
	it_stop(&s, NULL);
}

/*
 * In a PID namespace of its own, as a container without the host's PIDs
 * runs it, the cgroup backend still batches: its programs know the
 * reader's flush by its socket, not by a pid the namespace changes.  A
 * connect of ours then shows, flushed, within a few flush periods.  The
 * syscall backends know the flush by its pid_tgid and turn batches off
 * there (the README says so); tracepoint has none.
 */
static void
test_pid_namespace(void **state)
{
	static const char *const wrap[] = { "/usr/bin/unshare", "--pid", "--fork",
	    "--mount-proc", "--kill-child=SIGTERM", NULL };
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct server ns;
	struct reply r;
	char path[128], key[32];
	json_t *b;
	double t0;
	int fd, port = it_free_port(), want;

	(void)state;
	it_wrap = wrap;
	if (it_start(&ns, NULL) < 0) {
		it_wrap = NULL;
		fail_msg("no server in a PID namespace (see %s)", ns.log);
	}
	it_wrap = NULL;
	assert_int_equal(it_http(ns.port, "GET", "/health", NULL, &r), 0);
	b = json_object_get(r.json, "batches");
	want = strcmp(ns.backend, "cgroup") == 0;
	if (!json_is_boolean(b) || json_is_true(b) != want)
		fail_msg("backend %s in a PID namespace: batches %s, want %s: %s",
		    ns.backend, json_is_true(b) ? "on" : "off", want ? "on" : "off",
		    r.body);
	it_reply_free(&r);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	connect(fd, (void *)&a, sizeof(a));
	close(fd);
	snprintf(path, sizeof(path), "/api/list-connections?pid=%d&port=%d",
	    (int)getpid(), port);
	snprintf(key, sizeof(key), "%d", (int)getpid());
	for (t0 = it_now();; usleep(50000)) {
		assert_int_equal(it_http(ns.port, "GET", path, NULL, &r), 0);
		if (json_array_size(json_object_get(json_object_get(r.json,
		    "connections"), key)) == 1)
			break;
		if (it_now() - t0 > 3)
			fail_msg("our connect to port %d not listed within 3 s: %s",
			    port, r.body);
		it_reply_free(&r);
	}
	it_reply_free(&r);
	/* The server is unshare's child: SIGTERM it there (its parent-death
	 * signal went with its privileges), wait, then reap unshare. */
	{
		char cpath[64];
		long srvpid = 0;
		FILE *f;

		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%d/children",
		    (int)ns.pid, (int)ns.pid);
		if ((f = fopen(cpath, "r")) != NULL) {
			if (fscanf(f, "%ld", &srvpid) != 1)
				srvpid = 0;
			fclose(f);
		}
		assert_true(srvpid > 0);
		kill((pid_t)srvpid, SIGTERM);
		for (t0 = it_now(); kill((pid_t)srvpid, 0) == 0 &&
		    it_now() - t0 < 10; usleep(50000))
			;
		assert_int_not_equal(kill((pid_t)srvpid, 0), 0);
	}
	it_stop(&ns, NULL);
}

static int
setup(void **state)
{
	(void)state;
	return it_start(&srv, NULL) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches_on),
		cmocka_unit_test(test_lone_connect_each_cpu),
		cmocka_unit_test(test_burst_counted_exactly),
		cmocka_unit_test(test_flush_not_recorded),
		cmocka_unit_test(test_pid_namespace),
		cmocka_unit_test(test_batch_taken_as_probed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
