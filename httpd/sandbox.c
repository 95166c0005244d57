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
 * be read for metrics.  As our own uid, that is the world-readable files only.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/socket.h>
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
#include "util/file.h"
#include "util/log.h"

/* The low word of 64-bit argument n: the second one on big-endian CPUs. */
#define ARG_LO(n) ARCH_LO32(offsetof(struct seccomp_data, args) + \
    (n) * sizeof(__u64), sizeof(__u64))
#define ARG_HI(n) (ARG_LO(n) + (ARCH_BIG_ENDIAN ? -4 : 4))

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

/* Denied with e when the low word of argument n equals v; otherwise on to
 * the next rule. */
#define DENY_ARG(nr, n, v, e) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(n)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(e)), \
	LOAD_NR
/* Allowed when the whole of argument n (a pointer) is 0. */
#define ALLOW_ARG_NULL(nr, n) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 6), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(n)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(n)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), \
	LOAD_NR

#define OPEN_WRITE (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)
/* Stands for the flush socket's fd in the filter: -2, which no fd is. */
#define CONNECT_FD 0xfffffffeu
/* /etc/passwd read whole, to find SANDBOX_USER in it. */
#define PASSWD_MAX (4u << 20)
/* Stands for this CPU's audit arch in net_close (set at run time). */
#define NET_CLOSE_ARCH 0u

/* The flush socket (CONNECT_FD) is for connect() alone: nothing is ever
 * sent through it, to where it was connected or elsewhere.  First in the
 * filter, before any rule that allows these calls (send() is added where
 * the architecture has it, see build()). */
static const struct sock_filter flush_deny[] = {
	DENY_ARG(__NR_write, 0, CONNECT_FD, EPERM),
	DENY_ARG(__NR_writev, 0, CONNECT_FD, EPERM),
	DENY_ARG(__NR_sendto, 0, CONNECT_FD, EPERM),
};

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
	/* send() on a connection, never to an address of our choosing:
	 * sendto() with no destination only, and no sendmsg().  (32-bit
	 * ARM's and ppc64le's plain send() and recv() are in their tables.) */
	ALLOW_ARG_NULL(__NR_sendto, 4),
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

/*
 * The exporter's sockets (httpd/export.c), added before the final DENY
 * only after sandbox_open_net(): socket() of IPv4, IPv6 or unix, stream
 * or datagram, connect() on any fd, and seccomp() to stack a filter.
 * Seccomp cannot read the address
 * connect() is given, so the engines' addresses are resolved before the
 * sandbox and these calls are taken away again, thread by thread, by
 * sandbox_close_net() from every thread that is not the exporter's.
 */
static const struct sock_filter net_rules[] = {
	/* Stacking a filter, for sandbox_close_net(): one can only ever
	 * take more away. */
	ALLOW_ARG(__NR_seccomp, 0, SECCOMP_SET_MODE_FILTER),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 10),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 5),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
	/* The type without SOCK_CLOEXEC and SOCK_NONBLOCK. */
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 1, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_DGRAM, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM)),
	/* (The accumulator still holds the number here.) */
	ALLOW(__NR_connect),
};

/* What sandbox_close_net() stacks on a thread: socket() refused, and
 * connect() on the flush socket alone, as in the filter above. */
static const struct sock_filter net_close[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	/* Another architecture's calls are refused by the first filter. */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NET_CLOSE_ARCH, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	LOAD_NR,
	DENY(__NR_socket, EPERM),
	ALLOW_ARG(__NR_connect, 0, CONNECT_FD),
	DENY(__NR_connect, EPERM),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

#define NNET (sizeof(net_rules) / sizeof(net_rules[0]))
#define NCOMMON (sizeof(common) / sizeof(common[0]))
/* The filter's length at most: the head, the flush socket's denials, two
 * instructions per call of the architecture's own, open()'s and clone()'s
 * rules, the common calls, the exporter's rules, the final denial. */
#define NFLUSH (sizeof(flush_deny) / sizeof(flush_deny[0]))
#define FILTER_MAX (6 + NFLUSH + 5 + 2 * ARCH_SYSCALLS_MAX + 5 + 6 + NCOMMON + \
    NNET + 1)

/* build(): the rules of array r appended to f[n...]. */
#define PUT(r) (memcpy(f + n, (r), sizeof(r)), n += sizeof(r) / sizeof((r)[0]))

/*
 * The whole filter for architecture a into f (FILTER_MAX slots), with
 * connect_fd (>= 0) in place of CONNECT_FD, and the exporter's rules
 * (net_rules, below) when net.  Returns its length, or 0 when a's own
 * list is longer than ARCH_SYSCALLS_MAX.
 */
static size_t
build(const struct arch *a, struct sock_filter *f, int connect_fd, int net)
{
	const struct sock_filter send_deny[] = {
		DENY_ARG(a->nr_send, 0, CONNECT_FD, EPERM),
	};
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
	PUT(flush_deny);
	if (a->nr_send >= 0)
		PUT(send_deny);
	for (i = 0; i < a->nsyscalls; i++) {
		const struct sock_filter allow[] = { ALLOW(a->syscalls[i]) };

		PUT(allow);
	}
	PUT(clone_rule);
	if (a->nr_open >= 0)
		PUT(open_rule);
	PUT(common);
	/* The exporter's rules before the final DENY: each rule's jumps stay
	 * within itself. */
	if (net)
		PUT(net_rules);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM));
	for (i = 0; connect_fd >= 0 && i < n; i++)
		if (f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[i].k == CONNECT_FD)
			f[i].k = (__u32)connect_fd;
	return n;
}

static int net_open;             /* sandbox_open_net() was called */
static atomic_int net_entered;   /* the filter with net_rules is in place */
static int net_connect_fd = -1;  /* the flush socket, for net_close */
static __thread int net_closed;  /* this thread stacked net_close */

void
sandbox_open_net(void)
{
	net_open = 1;
}

int
sandbox_close_net(void)
{
	struct sock_filter f[sizeof(net_close) / sizeof(net_close[0])];
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(f) / sizeof(f[0])),
		.filter = f,
	};
	size_t i;

	if (!net_open || net_closed || !atomic_load(&net_entered))
		return 0;
	memcpy(f, net_close, sizeof(f));
	f[1].k = arch_cpu.audit;        /* in place of NET_CLOSE_ARCH */
	for (i = 0; net_connect_fd >= 0 && i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[i].k == CONNECT_FD)
			f[i].k = (__u32)net_connect_fd;
	/* No TSYNC: this thread only.  No new privileges is already set on
	 * every thread by sandbox_enter(). */
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	net_closed = 1;
	return 0;
}

size_t
sandbox_allowed(void)
{
	struct sock_filter f[FILTER_MAX];
	size_t i, len, n = 0;

	/* Every rule ends in exactly one RET ALLOW. */
	len = build(&arch_cpu, f, -1, 0);
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

/* The ids sandbox_enter() takes, chosen by sandbox_prepare(). */
static uid_t run_uid = SANDBOX_UID;
static gid_t run_gid = SANDBOX_GID;

/*
 * The system user SANDBOX_USER when the host has one (make install
 * creates it), else SANDBOX_UID:SANDBOX_GID.  /etc/passwd is read here
 * rather than through getpwnam(): musl's asks nscd over a unix socket
 * first, and that connect() would be an event of our own.
 */
static void
choose_ids(void)
{
	char *all, *line, *next, *p, *end;
	unsigned long u, g;
	size_t n = strlen(SANDBOX_USER);

	if (file_read_all("/etc/passwd", PASSWD_MAX, &all) < 0)
		return;
	for (line = all; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		/* name:password:uid:gid:... */
		if (strncmp(line, SANDBOX_USER, n) != 0 || line[n] != ':' ||
		    !(p = strchr(line + n + 1, ':')))
			continue;
		u = strtoul(p + 1, &end, 10);
		if (end == p + 1 || *end != ':')
			break;
		g = strtoul(end + 1, &p, 10);
		if (p == end + 1 || *p != ':')
			break;
		if (u != 0 && g != 0 && u < 0xffffffffUL && g < 0xffffffffUL) {
			run_uid = (uid_t)u;
			run_gid = (gid_t)g;
		}
		break;
	}
	free(all);
}

void
sandbox_ids(uid_t *uid, gid_t *gid)
{
	*uid = run_uid;
	*gid = run_gid;
}

int
sandbox_prepare(int keep_bind, char *err, size_t errlen)
{
	choose_ids();
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
	net_connect_fd = connect_fd;
	if ((prog.len = (unsigned short)build(&arch_cpu, f, connect_fd, net_open)) == 0)
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
		if (setresgid(run_gid, run_gid, run_gid) < 0)
			return errmsg(err, errlen, "setresgid", errno);
		if (setresuid(run_uid, run_uid, run_uid) < 0)
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
	atomic_store(&net_entered, 1);
	log_debug("sandbox: uid %d, no capabilities, no_new_privs, seccomp "
	    "allow-list of %zu system calls (others fail with EPERM%s)",
	    (int)geteuid(), sandbox_allowed(), verbose ?
	    " and are logged by the kernel" : "");
	return 0;
}

int
sandbox_privileged(void)
{
	char status[4096], *p;
	unsigned long long eff = 0;
	ssize_t n;

	if (geteuid() == 0)
		return 1;
	/* CapEff comes early: a longer file (-EFBIG) still holds it. */
	if (((n = file_read("/proc/self/status", status, sizeof(status))) < 0 &&
	    n != -EFBIG) || !(p = strstr(status, "\nCapEff:")) ||
	    sscanf(p + 8, "%llx", &eff) != 1)
		return 0;
	return (eff & (1ULL << CAP_BPF) && eff & (1ULL << CAP_PERFMON)) ||
	    eff & (1ULL << CAP_SYS_ADMIN);
}
