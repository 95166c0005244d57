/*
 * The sandbox in a child process: after sandbox_enter(), what serving
 * needs still works and everything else fails with EPERM (not a kill).
 * Needs root (it changes uid); skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../httpd/sandbox.c"

/* Each check is one exit code, so a failure names itself. */
#define CHECK(n, cond) do { if (!(cond)) _exit(n); } while (0)

static void *
thread_main(void *arg)
{
	return arg;
}

/* Runs in the child; exits 0 when every expectation holds. */
static void
sandboxed(void)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(9),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char err[256], buf[64];
	struct timespec ts;
	cpu_set_t mine, one;
	pthread_t t;
	void *ret;
	int fd, sv[2], pair[2], flush, other;

	CHECK(10, sandbox_prepare(0, err, sizeof(err)) == 0);
	/* The capture's flush socket, and one more that is not it. */
	CHECK(13, (flush = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	CHECK(14, (other = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	CHECK(15, socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
	/* valgrind does not know seccomp(2): nothing to test there. */
	if ((fd = sandbox_enter(0, flush, err, sizeof(err))) == -ENOSYS)
		_exit(77);
	CHECK(11, fd == 0);
	{
		uid_t u;
		gid_t g;

		/* Its own uid: the ebpf-server user, or the fixed fallback. */
		sandbox_ids(&u, &g);
		CHECK(12, geteuid() == u && getegid() == g && u != 65534 &&
		    u != 0 && (getpwnam(SANDBOX_USER) ||
		    (u == SANDBOX_UID && g == SANDBOX_GID)));
	}

	/* What serving needs. */
	CHECK(20, clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	CHECK(21, getpid() > 0);
	CHECK(22, write(2, "", 0) == 0);
	CHECK(23, mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED);
	CHECK(24, pthread_create(&t, NULL, thread_main, buf) == 0 &&
	    pthread_join(t, &ret) == 0 && ret == buf);
	CHECK(25, (fd = open("/proc/self/status", O_RDONLY)) >= 0 &&
	    read(fd, buf, sizeof(buf)) > 0 && close(fd) == 0);
	/* The flush: this thread to a CPU and back, a connect of its socket. */
	CHECK(26, sched_getaffinity(0, sizeof(mine), &mine) == 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	CHECK(27, sched_setaffinity(0, sizeof(one), &one) == 0 &&
	    sched_setaffinity(0, sizeof(mine), &mine) == 0);
	CHECK(28, connect(flush, (struct sockaddr *)&lo, sizeof(lo)) == 0);

	/* Everything else: EPERM, and the process lives on. */
	errno = 0;
	CHECK(30, socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(31, socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 && errno == EPERM);
	errno = 0;
	CHECK(32, open("/tmp/sandbox-test", O_WRONLY | O_CREAT, 0600) < 0 &&
	    errno == EPERM);
	errno = 0;
	CHECK(33, open("/proc/self/status", O_RDWR) < 0 && errno == EPERM);
	errno = 0;
	CHECK(34, syscall(__NR_clone, SIGCHLD, 0, 0, 0, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(35, syscall(__NR_execve, "/bin/true", NULL, NULL) < 0 &&
	    errno == EPERM);
	errno = 0;
	CHECK(36, syscall(__NR_bpf, 0, NULL, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(37, syscall(__NR_ptrace, 0, 0, 0, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(38, syscall(__NR_setuid, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(39, syscall(__NR_ioctl, 0, 0x5401 + 0x100, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(40, syscall(__NR_kill, 1, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(41, syscall(__NR_mkdirat, AT_FDCWD, "/tmp/x", 0700) < 0 &&
	    errno == EPERM);
	/* connect() on the flush socket only; affinity of this thread by
	 * pid 0 only (the kernel itself would allow its own tid). */
	errno = 0;
	CHECK(42, connect(other, (struct sockaddr *)&lo, sizeof(lo)) < 0 &&
	    errno == EPERM);
	errno = 0;
	CHECK(43, sched_setaffinity((pid_t)syscall(SYS_gettid), sizeof(mine),
	    &mine) < 0 && errno == EPERM);
	/* Nothing goes out through the flush socket, and nothing anywhere
	 * to an address of our choosing. */
	errno = 0;
	CHECK(44, send(flush, "x", 1, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(45, write(flush, "x", 1) < 0 && errno == EPERM);
	errno = 0;
	CHECK(46, sendto(other, "x", 1, 0, (struct sockaddr *)&lo,
	    sizeof(lo)) < 0 && errno == EPERM);
	{
		struct iovec iov = { .iov_base = buf, .iov_len = 1 };
		struct msghdr mh = { .msg_name = &lo, .msg_namelen = sizeof(lo),
		    .msg_iov = &iov, .msg_iovlen = 1 };

		errno = 0;
		CHECK(47, sendmsg(other, &mh, 0) < 0 && errno == EPERM);
	}
	/* send() on a connected socket still works (the replies). */
	CHECK(48, send(pair[0], "x", 1, 0) == 1 && recv(pair[1], buf, 1, 0) == 1);
	_exit(0);
}

/* fn in a child as root, which exits with the number of the check that
 * failed, 0, or 77 where seccomp cannot be tested. */
static void
in_child(void (*fn)(void))
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	if ((pid = fork()) == 0)
		fn();
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("the sandboxed child was killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (WEXITSTATUS(status) == 77)
		skip();
	if (WEXITSTATUS(status) != 0)
		fail_msg("check %d failed in the sandboxed child",
		    WEXITSTATUS(status));
}

/*
 * Run filter[0..n) as the kernel would on one call (a classic BPF
 * interpreter for the instructions it uses).  Returns the index of the
 * RET it ends at.
 */
static size_t
run_filter(const struct sock_filter *filter, size_t n,
    const struct seccomp_data *d)
{
	uint32_t a = 0;
	size_t pc = 0;

	for (;;) {
		const struct sock_filter *f = &filter[pc];

		assert_true(pc < n);
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(f->k + 4 <= sizeof(*d));
			memcpy(&a, (const char *)d + f->k, 4);
			pc++;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f->k;
			pc++;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += 1 + (a == f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += 1 + (a >= f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += 1 + ((a & f->k) ? f->jt : f->jf);
			break;
		case BPF_RET | BPF_K:
			return pc;
		default:
			fail_msg("filter[%zu]: instruction %#x not interpreted", pc,
			    f->code);
		}
	}
}

/*
 * sandbox_allowed() is the number of allow rules, and every one of them
 * can be reached: some call, with some arguments (0 or a constant of the
 * filter in each), ends at each RET ALLOW, so that no rule hides behind
 * an earlier one.  And the filter allows read() and denies execve().
 */
static void
test_allow_list(void **state)
{
	(void)state;
	in_child(sandboxed);
}

/* The exporter's thread: created before the sandbox, it keeps socket()
 * and connect() after main took them from itself.  Returns a check that
 * failed, or NULL. */
static int go[2];
static struct sockaddr_in listening;

static void *
exporter_main(void *arg)
{
	char c;
	int fd;

	(void)arg;
	if (read(go[0], &c, 1) != 1)
		return (void *)50;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (void *)51;
	if (connect(fd, (struct sockaddr *)&listening, sizeof(listening)) < 0)
		return (void *)52;
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0)
		return (void *)53;
	close(fd);
	/* Not a family or type a sink uses, and never a server. */
	errno = 0;
	if (socket(AF_INET, SOCK_RAW, IPPROTO_UDP) >= 0 || errno != EPERM)
		return (void *)54;
	errno = 0;
	if (socket(AF_NETLINK, SOCK_DGRAM, 0) >= 0 || errno != EPERM)
		return (void *)55;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	if (listen(fd, 1) == 0 || errno != EPERM)
		return (void *)56;
	close(fd);
	return NULL;
}

static void *
late_main(void *arg)
{
	(void)arg;
	errno = 0;
	return socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM ? NULL :
	    (void *)60;
}

/* With sandbox_open_net(): the exporter's thread connects, main (after
 * sandbox_close_net()) and the threads it starts cannot. */
static void
sandboxed_net(void)
{
	socklen_t len = sizeof(listening);
	char err[256];
	pthread_t ex, late;
	void *ret;
	int lfd, flush, other, fd;

	listening.sin_family = AF_INET;
	listening.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(10, sandbox_prepare(0, err, sizeof(err)) == 0);
	CHECK(13, (flush = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	CHECK(14, (other = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	CHECK(15, (lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
	    bind(lfd, (struct sockaddr *)&listening, sizeof(listening)) == 0 &&
	    listen(lfd, 4) == 0 && getsockname(lfd, (struct sockaddr *)&listening,
	    &len) == 0);
	CHECK(16, pipe(go) == 0);
	CHECK(17, pthread_create(&ex, NULL, exporter_main, NULL) == 0);
	sandbox_open_net();
	if ((fd = sandbox_enter(0, flush, err, sizeof(err))) == -ENOSYS)
		_exit(77);
	CHECK(11, fd == 0);
	CHECK(18, sandbox_close_net() == 0 && sandbox_close_net() == 0);
	CHECK(19, write(go[1], "x", 1) == 1);
	CHECK(20, pthread_join(ex, &ret) == 0);
	if (ret)
		_exit((int)(intptr_t)ret);
	errno = 0;
	CHECK(30, socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(31, connect(other, (struct sockaddr *)&listening,
	    sizeof(listening)) < 0 && errno == EPERM);
	CHECK(32, connect(flush, (struct sockaddr *)&listening,
	    sizeof(listening)) == 0);
	CHECK(33, pthread_create(&late, NULL, late_main, NULL) == 0 &&
	    pthread_join(late, &ret) == 0);
	if (ret)
		_exit((int)(intptr_t)ret);
	_exit(0);
}

static void
test_net(void **state)
{
	(void)state;
	in_child(sandboxed_net);
}

static void
test_counts_allowed(void **state)
{
	struct sock_filter filter[FILTER_MAX];
	const size_t n = build(&arch_cpu, filter, -1, 0);
	uint32_t vals[FILTER_MAX + 1];
	unsigned char hit[FILTER_MAX];
	size_t nvals = 0, i, v, rules = 0, reached = 0;
	struct seccomp_data d;
	int nr;

	(void)state;
	assert_true(n > 0);
	memset(hit, 0, sizeof(hit));
	vals[nvals++] = 0;
	for (i = 0; i < n; i++)
		if (BPF_CLASS(filter[i].code) == BPF_JMP ||
		    BPF_CLASS(filter[i].code) == BPF_ALU)
			vals[nvals++] = filter[i].k;
	for (nr = 0; nr < 1024; nr++)
		for (v = 0; v < nvals; v++) {
			memset(&d, 0, sizeof(d));
			d.nr = nr;
			d.arch = arch_cpu.audit;
			for (i = 0; i < 6; i++)
				d.args[i] = vals[v];
			hit[run_filter(filter, n, &d)] = 1;
		}
	for (i = 0; i < n; i++)
		if (filter[i].code == (BPF_RET | BPF_K) &&
		    filter[i].k == SECCOMP_RET_ALLOW) {
			rules++;
			if (hit[i])
				reached++;
			else
				fail_msg("allow rule at filter[%zu] never reached", i);
		}
	assert_int_equal(sandbox_allowed(), rules);
	assert_int_equal(reached, rules);
	memset(&d, 0, sizeof(d));
	d.arch = arch_cpu.audit;
	d.nr = __NR_read;
	assert_int_equal(filter[run_filter(filter, n, &d)].k, SECCOMP_RET_ALLOW);
	d.nr = __NR_execve;
	assert_int_not_equal(filter[run_filter(filter, n, &d)].k, SECCOMP_RET_ALLOW);
	/* Another architecture's numbers are refused whatever they are. */
	d.arch = 0;
	d.nr = __NR_read;
	assert_int_not_equal(filter[run_filter(filter, n, &d)].k, SECCOMP_RET_ALLOW);
}

/*
 * clone() is allowed with CLONE_THREAD in the argument the architecture's
 * table names (s390x has the flags second), and not when only another
 * argument has it.
 */
static void
test_clone_flags_argument(void **state)
{
	struct arch t = arch_cpu;
	struct sock_filter f[FILTER_MAX];
	struct seccomp_data d;
	size_t n;
	int which;

	(void)state;
	for (which = 0; which < 2; which++) {
		t.clone_flags = which;
		assert_true((n = build(&t, f, -1, 0)) > 0);
		memset(&d, 0, sizeof(d));
		d.arch = t.audit;
		d.nr = __NR_clone;
		d.args[which] = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
		assert_int_equal(f[run_filter(f, n, &d)].k, SECCOMP_RET_ALLOW);
		d.args[which] = SIGCHLD;        /* fork() */
		d.args[!which] = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
		assert_int_not_equal(f[run_filter(f, n, &d)].k, SECCOMP_RET_ALLOW);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_counts_allowed),
		cmocka_unit_test(test_clone_flags_argument),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
