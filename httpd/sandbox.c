/*
 * The sandbox the server serves from.  Everything privileged is done by the
 * time main() calls sandbox_enter(): the programs are loaded and attached,
 * the perf rings are mapped, the port is bound.  What is left is answering
 * HTTP requests from memory, reading the rings, and at the end detaching
 * (PERF_EVENT_IOC_DISABLE, close, munmap), none of which needs a privilege.
 *
 * The allow-list follows OpenSSH's sandbox-seccomp-filter.c: small macros,
 * one line per system call, the architecture checked first, and a denied
 * call failing with EPERM rather than killing the process, so that a call
 * we missed shows up as an error in a log instead of a dead server.  The
 * list was built from strace -f of the server under load on every endpoint
 * and through SIGTERM, then widened with what civetweb, musl and glibc are
 * known to use on other paths (thread start, time-outs, logging).  What
 * only some architectures have (32-bit ARM's mmap2, *_time64, sigreturn,
 * ...) is in each one's table, util/arch/<arch>.c, found by running the
 * server with -v under this filter in the qemu guests of make test-vm and
 * reading the kernel log's denials; those guests fail on any denial.
 *
 * Files: open() and openat() are allowed read-only (no O_WRONLY, O_RDWR,
 * O_CREAT, O_TRUNC, O_APPEND), so that /proc/self/status and the like can
 * be read for metrics.  As nobody, that is the world-readable files only.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/syscall.h>

/* The kernel's termios and winsize: ppc64le's TCGETS and TIOCGWINSZ encode
 * their sizes. */
#include <asm/termios.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>

#include <jansson.h>

#include "httpd/sandbox.h"
#include "util/arch.h"

/* The low word of 64-bit argument n: the second one on big-endian CPUs. */
#define ARG_LO(n) ARCH_LO32(offsetof(struct seccomp_data, args) + \
    (n) * sizeof(__u64), sizeof(__u64))

#define DENY_ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* The accumulator holds the system call number on entry to each rule, and
 * every rule that loads something else reloads it before falling through. */
#define LOAD_NR \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define ALLOW(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define DENY(nr, e) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(e))
/* Allowed when the jump after loading the low word of argument n falls
 * through (one instruction, the variadic part: it holds commas). */
#define ALLOW_IF(nr, n, ...) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(n)), \
	__VA_ARGS__, \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), \
	LOAD_NR
/* Allowed when the low word of argument n equals v. */
#define ALLOW_ARG(nr, n, v) \
	ALLOW_IF(nr, n, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), 0, 1))
/* Allowed when the low word of argument n has no bit of mask set. */
#define ALLOW_ARG_NONE(nr, n, mask) \
	ALLOW_IF(nr, n, BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (mask), 1, 0))
/* Allowed when the low word of argument n has every bit of mask set. */
#define ALLOW_ARG_ALL(nr, n, mask) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 5), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(n)), \
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, (mask)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (mask), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), \
	LOAD_NR

#define OPEN_WRITE (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)
/* Stands for the flush socket's fd in the filter: -2, which no fd is. */
#define CONNECT_FD 0xfffffffeu

/* The calls every architecture has, under the same names; what only some
 * have comes from util/arch/<arch>.c (see build()). */
static const struct sock_filter common[] = {
	/* Memory. */
	ALLOW(__NR_brk),
	ALLOW(__NR_munmap),       /* and the perf rings at shutdown */
	ALLOW(__NR_mprotect),
	ALLOW(__NR_mremap),
	ALLOW(__NR_madvise),

	/* Threads, locks, signals, exit. */
	ALLOW(__NR_futex),
	ALLOW(__NR_set_robust_list),
	ALLOW(__NR_get_robust_list),
	ALLOW(__NR_set_tid_address),
	ALLOW(__NR_rseq),
	/* Its flags are in memory the filter cannot read; ENOSYS makes the C
	 * library fall back to clone(). */
	DENY(__NR_clone3, ENOSYS),
	ALLOW(__NR_sched_yield),
	ALLOW(__NR_sched_getaffinity),
	/* The capture's batch flush moves the reader to each CPU in turn
	 * (pid 0: the calling thread) ... */
	ALLOW_ARG(__NR_sched_setaffinity, 0, 0),
	ALLOW(__NR_rt_sigaction),
	ALLOW(__NR_rt_sigprocmask),
	ALLOW(__NR_rt_sigreturn),
	ALLOW(__NR_rt_sigtimedwait),
	ALLOW(__NR_sigaltstack),
	ALLOW(__NR_restart_syscall),
	ALLOW(__NR_gettid),
	ALLOW(__NR_getpid),
	ALLOW(__NR_getppid),
	ALLOW(__NR_tgkill),
	ALLOW(__NR_tkill),
	ALLOW(__NR_exit),
	ALLOW(__NR_exit_group),
	/* Thread names (civetweb names its workers). */
	ALLOW_ARG(__NR_prctl, 0, PR_SET_NAME),
	ALLOW_ARG(__NR_prctl, 0, PR_GET_NAME),

	/* Descriptors we already hold: sockets, perf fds, stderr. */
	ALLOW(__NR_read),
	ALLOW(__NR_readv),
	ALLOW(__NR_pread64),
	ALLOW(__NR_write),
	ALLOW(__NR_writev),
	ALLOW(__NR_close),
	/* The stat family (the seek one is each architecture's own). */
	ALLOW(__NR_statx),
	/* ioctl: detaching the probes, non-blocking sockets, and the C
	 * library asking whether stdout/stderr is a terminal. */
	ALLOW_ARG(__NR_ioctl, 1, PERF_EVENT_IOC_DISABLE),
	ALLOW_ARG(__NR_ioctl, 1, PERF_EVENT_IOC_ENABLE),
	ALLOW_ARG(__NR_ioctl, 1, FIONBIO),
	ALLOW_ARG(__NR_ioctl, 1, FIONREAD),
	ALLOW_ARG(__NR_ioctl, 1, TCGETS),
	ALLOW_ARG(__NR_ioctl, 1, TIOCGWINSZ),

	/* Reading files, never writing or creating them. */
	ALLOW_ARG_NONE(__NR_openat, 2, OPEN_WRITE),
	/* Listing directories: the cgroup tree for cgroup paths,
	 * /proc/self/fd for metrics. */
	ALLOW(__NR_getdents64),

	/* Waiting: civetweb polls its sockets, the reader its perf fds. */
	ALLOW(__NR_ppoll),
	ALLOW(__NR_pselect6),
	ALLOW(__NR_epoll_pwait),
	ALLOW(__NR_epoll_pwait2),
	ALLOW(__NR_epoll_ctl),

	/* ... and connect()s its own UDP socket to 127.0.0.1:9 there, which
	 * sends nothing: connect() on that fd alone (sandbox_enter() puts
	 * its number in place of CONNECT_FD). */
	ALLOW_ARG(__NR_connect, 0, CONNECT_FD),

	/* Serving connections on the socket bound before the sandbox.  No
	 * socket(), bind() or listen(), and connect() only as above: no new
	 * endpoints. */
	ALLOW(__NR_accept4),
	ALLOW(__NR_recvfrom),
	ALLOW(__NR_recvmsg),
	ALLOW(__NR_sendto),
	ALLOW(__NR_sendmsg),
	ALLOW(__NR_shutdown),
	ALLOW(__NR_setsockopt),
	ALLOW(__NR_getsockopt),
	ALLOW(__NR_getsockname),
	ALLOW(__NR_getpeername),

	/* Harmless facts about ourselves, for /health and metrics. */
	ALLOW(__NR_getrandom),
	ALLOW(__NR_getrusage),
	ALLOW(__NR_sysinfo),
	ALLOW(__NR_uname),
	ALLOW(__NR_times),
	ALLOW(__NR_getuid),
	ALLOW(__NR_geteuid),
	ALLOW(__NR_getgid),
	ALLOW(__NR_getegid),
	/* The cgroup id of a cgroup directory (util/cgroup.c): its kernfs
	 * file handle. */
	ALLOW(__NR_name_to_handle_at),
};

#define NCOMMON (sizeof(common) / sizeof(common[0]))
/* The filter's length at most: the head, two instructions per call of the
 * architecture's own, open()'s and clone()'s rules, the common calls, the
 * final denial. */
#define FILTER_MAX (6 + 2 * ARCH_SYSCALLS_MAX + 5 + 6 + NCOMMON + 1)

/*
 * The whole filter for architecture a into f (FILTER_MAX slots), with
 * connect_fd (>= 0) in place of CONNECT_FD.  Returns its length, or 0
 * when a's own list is longer than ARCH_SYSCALLS_MAX.
 */
static size_t
build(const struct arch *a, struct sock_filter *f, int connect_fd)
{
	const struct sock_filter open_rule[] = {
		ALLOW_ARG_NONE(a->nr_open, 1, OPEN_WRITE),
	};
	/* New threads, never new processes. */
	const struct sock_filter clone_rule[] = {
		ALLOW_ARG_ALL(__NR_clone, a->clone_flags, CLONE_THREAD),
	};
	size_t i, n = 0;

	if (a->nsyscalls > ARCH_SYSCALLS_MAX)
		return 0;
	/* Another architecture's system call numbers mean other calls. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a->audit, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM));
	f[n++] = (struct sock_filter)LOAD_NR;
	if (a->abi_bit) {
		/* x32 calls reuse the x86_64 numbers with this bit set. */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
		    a->abi_bit, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM));
	}
	for (i = 0; i < a->nsyscalls; i++) {
		const struct sock_filter allow[] = { ALLOW(a->syscalls[i]) };

		memcpy(f + n, allow, sizeof(allow));
		n += sizeof(allow) / sizeof(allow[0]);
	}
	memcpy(f + n, clone_rule, sizeof(clone_rule));
	n += sizeof(clone_rule) / sizeof(clone_rule[0]);
	if (a->nr_open >= 0) {
		memcpy(f + n, open_rule, sizeof(open_rule));
		n += sizeof(open_rule) / sizeof(open_rule[0]);
	}
	memcpy(f + n, common, sizeof(common));
	for (i = n; i < n + NCOMMON; i++)
		if (connect_fd >= 0 && f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
		    f[i].k == CONNECT_FD)
			f[i].k = (__u32)connect_fd;
	n += NCOMMON;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM));
	return n;
}

size_t
sandbox_allowed(void)
{
	struct sock_filter f[FILTER_MAX];
	size_t i, len, n = 0;

	/* Every rule ends in exactly one RET ALLOW. */
	len = build(&arch_cpu, f, -1);
	for (i = 0; i < len; i++)
		if (f[i].code == (BPF_RET | BPF_K) && f[i].k == SECCOMP_RET_ALLOW)
			n++;
	return n;
}

static int
errmsg(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "sandbox: %s: %s", what, strerror(e));
	return -e;
}

/* Set this thread's permitted and effective sets to cap alone (-1: none),
 * and its inheritable set to none, which also empties the ambient set. */
static int
capset_only(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (cap >= 0) {
		data[cap / 32].permitted = 1u << (cap % 32);
		data[cap / 32].effective = 1u << (cap % 32);
	}
	return (int)syscall(__NR_capset, &hdr, data);
}

int
sandbox_prepare(int keep_bind, char *err, size_t errlen)
{
	/* A random seed, read from /dev/urandom now rather than on the first
	 * json_object(), when the sandbox may be in place.  It must be random:
	 * request bodies are parsed into objects whose keys the client
	 * chooses, and a known seed would let it send colliding keys. */
	json_object_seed(0);
	if (geteuid() == 0) {
		if (setgroups(0, NULL) < 0)
			return errmsg(err, errlen, "setgroups", errno);
		return 0;
	}
	/* Threads copy their creator's capabilities: drop them now. */
	if (capset_only(keep_bind ? CAP_NET_BIND_SERVICE : -1) < 0)
		return errmsg(err, errlen, "capset", errno);
	return 0;
}

int
sandbox_enter(int verbose, int connect_fd, char *err, size_t errlen)
{
	struct sock_filter f[FILTER_MAX];
	struct sock_fprog prog = { .filter = f };
	unsigned flags = SECCOMP_FILTER_FLAG_TSYNC;
	long r;
	int cap;

	/* The one comparison with CONNECT_FD gets the real fd. */
	if ((prog.len = (unsigned short)build(&arch_cpu, f, connect_fd)) == 0)
		return errmsg(err, errlen, "this architecture's list", E2BIG);

	/* The bounding set limits what an execve() could ever grant.  Only
	 * possible while we still have CAP_SETPCAP, so first. */
	if (geteuid() == 0)
		for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
				return errmsg(err, errlen, "PR_CAPBSET_DROP", errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return errmsg(err, errlen, "PR_CAP_AMBIENT_CLEAR_ALL", errno);
	/* Leaving uid 0 for good (real, effective and saved) clears the
	 * permitted and effective sets; the C library does it on every
	 * thread, as POSIX wants set*id() to apply to the process. */
	if (getuid() == 0 || geteuid() == 0) {
		if (setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) < 0)
			return errmsg(err, errlen, "setresgid", errno);
		if (setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0)
			return errmsg(err, errlen, "setresuid", errno);
	}
	/* This thread only; the others lost theirs with the uid change, or,
	 * without root, in sandbox_prepare() before they were created. */
	if (capset_only(-1) < 0)
		return errmsg(err, errlen, "capset", errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errmsg(err, errlen, "PR_SET_NO_NEW_PRIVS", errno);
	if (verbose)
		flags |= SECCOMP_FILTER_FLAG_LOG;
	/* TSYNC also sets no_new_privs on the other threads. */
	r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r > 0) {
		snprintf(err, errlen, "sandbox: seccomp: thread %ld could not be "
		    "synchronised", r);
		return -EBUSY;
	}
	if (r < 0)
		return errmsg(err, errlen, "seccomp", errno);
	return 0;
}

int
sandbox_privileged(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f;

	if (geteuid() == 0)
		return 1;
	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff & (1ULL << CAP_BPF) && eff & (1ULL << CAP_PERFMON)) ||
	    eff & (1ULL << CAP_SYS_ADMIN);
}
