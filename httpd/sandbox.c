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
 * known to use on other paths (thread start, time-outs, logging).  The
 * other architectures' names (32-bit ARM's mmap2, *_time64, sigreturn,
 * ...) were found by running the server with -v under this filter in the
 * qemu guests of make test-vm and reading the kernel log's denials; those
 * guests fail on any denial.
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

#include <asm/ioctls.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>

#include <jansson.h>

#include "httpd/sandbox.h"

#if defined(__x86_64__)
#define SECCOMP_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARMEL__)
#define SECCOMP_AUDIT_ARCH AUDIT_ARCH_ARM
#else
#error "sandbox: add this architecture's AUDIT_ARCH_ and check the list"
#endif

/* Every supported architecture is little-endian: the low word of a 64-bit
 * argument comes first. */
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + (n) * sizeof(__u64))
#define ARG_HI(n) (ARG_LO(n) + sizeof(__u32))

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

static const struct sock_filter filter[] = {
	/* Another architecture's system call numbers mean other calls. */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_AUDIT_ARCH, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM)),
	LOAD_NR,
#ifdef __X32_SYSCALL_BIT
	/* x32 calls reuse the x86_64 numbers with this bit set. */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM)),
#endif

	/* The flush socket (CONNECT_FD) is for connect() alone: nothing is
	 * ever sent through it, to where it was connected or elsewhere. */
	DENY_ARG(__NR_write, 0, CONNECT_FD, EPERM),
	DENY_ARG(__NR_writev, 0, CONNECT_FD, EPERM),
	DENY_ARG(__NR_sendto, 0, CONNECT_FD, EPERM),
#ifdef __NR_send
	DENY_ARG(__NR_send, 0, CONNECT_FD, EPERM),
#endif

	/* Memory. */
	ALLOW(__NR_brk),
	/* 32-bit ABIs map with mmap2 (offset in pages). */
#ifdef __NR_mmap
	ALLOW(__NR_mmap),
#endif
#ifdef __NR_mmap2
	ALLOW(__NR_mmap2),
#endif
	ALLOW(__NR_munmap),       /* and the perf rings at shutdown */
	ALLOW(__NR_mprotect),
	ALLOW(__NR_mremap),
	ALLOW(__NR_madvise),

	/* Threads, locks, signals, exit. */
	ALLOW(__NR_futex),
#ifdef __NR_futex_time64
	ALLOW(__NR_futex_time64),
#endif
#ifdef __NR_futex_waitv
	ALLOW(__NR_futex_waitv),
#endif
	ALLOW(__NR_set_robust_list),
	ALLOW(__NR_get_robust_list),
	ALLOW(__NR_set_tid_address),
#ifdef __NR_rseq
	ALLOW(__NR_rseq),
#endif
	/* New threads, never new processes. */
	ALLOW_ARG_ALL(__NR_clone, 0, CLONE_THREAD),
#ifdef __NR_clone3
	/* Its flags are in memory the filter cannot read; ENOSYS makes the C
	 * library fall back to clone(). */
	DENY(__NR_clone3, ENOSYS),
#endif
	ALLOW(__NR_sched_yield),
	ALLOW(__NR_sched_getaffinity),
	/* The capture's batch flush moves the reader to each CPU in turn
	 * (pid 0: the calling thread) ... */
	ALLOW_ARG(__NR_sched_setaffinity, 0, 0),
	ALLOW(__NR_rt_sigaction),
	ALLOW(__NR_rt_sigprocmask),
	ALLOW(__NR_rt_sigreturn),
#ifdef __NR_sigreturn
	/* 32-bit ARM: musl returns from handlers without SA_SIGINFO so. */
	ALLOW(__NR_sigreturn),
#endif
	ALLOW(__NR_rt_sigtimedwait),
#ifdef __NR_rt_sigtimedwait_time64
	ALLOW(__NR_rt_sigtimedwait_time64),
#endif
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

	/* Time.  32-bit ABIs have the 64-bit time_t calls (*_time64), which
	 * musl tries first, and the old ones (*_time32) it falls back to on
	 * kernels before 5.1. */
#ifdef __NR_clock_gettime
	ALLOW(__NR_clock_gettime),
#endif
#ifdef __NR_clock_gettime32
	ALLOW(__NR_clock_gettime32),
#endif
#ifdef __NR_clock_gettime64
	ALLOW(__NR_clock_gettime64),
#endif
#ifdef __NR_clock_getres
	ALLOW(__NR_clock_getres),
#endif
#ifdef __NR_clock_getres_time32
	ALLOW(__NR_clock_getres_time32),
#endif
#ifdef __NR_clock_getres_time64
	ALLOW(__NR_clock_getres_time64),
#endif
#ifdef __NR_gettimeofday
	ALLOW(__NR_gettimeofday),
#endif
#ifdef __NR_gettimeofday_time32
	ALLOW(__NR_gettimeofday_time32),
#endif
#ifdef __NR_time
	ALLOW(__NR_time),
#endif
#ifdef __NR_nanosleep
	ALLOW(__NR_nanosleep),
#endif
#ifdef __NR_clock_nanosleep
	ALLOW(__NR_clock_nanosleep),
#endif
#ifdef __NR_clock_nanosleep_time32
	ALLOW(__NR_clock_nanosleep_time32),
#endif
#ifdef __NR_clock_nanosleep_time64
	ALLOW(__NR_clock_nanosleep_time64),
#endif

	/* Descriptors we already hold: sockets, perf fds, stderr. */
	ALLOW(__NR_read),
	ALLOW(__NR_readv),
	ALLOW(__NR_pread64),
	ALLOW(__NR_write),
	ALLOW(__NR_writev),
	ALLOW(__NR_close),
	/* The stat and seek families under each ABI's names: 32-bit ones
	 * have _llseek, fstat64, fstatat64 and fcntl64. */
#ifdef __NR_lseek
	ALLOW(__NR_lseek),
#endif
#ifdef __NR__llseek
	ALLOW(__NR__llseek),
#endif
#ifdef __NR_fstat
	ALLOW(__NR_fstat),
#endif
#ifdef __NR_fstat64
	ALLOW(__NR_fstat64),
#endif
#ifdef __NR_newfstatat
	ALLOW(__NR_newfstatat),
#endif
#ifdef __NR_fstatat64
	ALLOW(__NR_fstatat64),
#endif
#ifdef __NR_statx
	ALLOW(__NR_statx),
#endif
#ifdef __NR_fcntl
	ALLOW(__NR_fcntl),
#endif
#ifdef __NR_fcntl64
	ALLOW(__NR_fcntl64),
#endif
	/* ioctl: detaching the probes, non-blocking sockets, and the C
	 * library asking whether stdout/stderr is a terminal. */
	ALLOW_ARG(__NR_ioctl, 1, PERF_EVENT_IOC_DISABLE),
	ALLOW_ARG(__NR_ioctl, 1, PERF_EVENT_IOC_ENABLE),
	ALLOW_ARG(__NR_ioctl, 1, FIONBIO),
	ALLOW_ARG(__NR_ioctl, 1, FIONREAD),
	ALLOW_ARG(__NR_ioctl, 1, TCGETS),
	ALLOW_ARG(__NR_ioctl, 1, TIOCGWINSZ),

	/* Reading files, never writing or creating them. */
#ifdef __NR_open
	ALLOW_ARG_NONE(__NR_open, 1, OPEN_WRITE),
#endif
	ALLOW_ARG_NONE(__NR_openat, 2, OPEN_WRITE),
	/* Listing directories: the cgroup tree for cgroup paths,
	 * /proc/self/fd for metrics. */
	ALLOW(__NR_getdents64),
#ifdef __NR_getdents
	ALLOW(__NR_getdents),
#endif

	/* Waiting: civetweb polls its sockets, the reader its perf fds. */
#ifdef __NR_poll
	ALLOW(__NR_poll),
#endif
	ALLOW(__NR_ppoll),
#ifdef __NR_ppoll_time64
	ALLOW(__NR_ppoll_time64),
#endif
#ifdef __NR_select
	ALLOW(__NR_select),
#endif
#ifdef __NR__newselect
	ALLOW(__NR__newselect),
#endif
	ALLOW(__NR_pselect6),
#ifdef __NR_pselect6_time64
	ALLOW(__NR_pselect6_time64),
#endif
#ifdef __NR_epoll_wait
	ALLOW(__NR_epoll_wait),
#endif
	ALLOW(__NR_epoll_pwait),
#ifdef __NR_epoll_pwait2
	ALLOW(__NR_epoll_pwait2),
#endif
	ALLOW(__NR_epoll_ctl),

	/* ... and connect()s its own UDP socket to 127.0.0.1:9 there, which
	 * sends nothing: connect() on that fd alone (sandbox_enter() puts
	 * its number in place of CONNECT_FD). */
	ALLOW_ARG(__NR_connect, 0, CONNECT_FD),

	/* Serving connections on the socket bound before the sandbox.  No
	 * socket(), bind() or listen(), and connect() only as above: no new
	 * endpoints. */
#ifdef __NR_accept
	ALLOW(__NR_accept),
#endif
	ALLOW(__NR_accept4),
	ALLOW(__NR_recvfrom),
	ALLOW(__NR_recvmsg),
	/* send() on a connection, never to an address of our choosing:
	 * sendto() with no destination only, and no sendmsg(). */
	ALLOW_ARG_NULL(__NR_sendto, 4),
	/* 32-bit ARM still has the plain send() and recv(). */
#ifdef __NR_send
	ALLOW(__NR_send),
#endif
#ifdef __NR_recv
	ALLOW(__NR_recv),
#endif
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
	/* 32-bit ARM's calls with 32-bit ids, which musl uses there. */
#ifdef __NR_getuid32
	ALLOW(__NR_getuid32),
#endif
#ifdef __NR_geteuid32
	ALLOW(__NR_geteuid32),
#endif
#ifdef __NR_getgid32
	ALLOW(__NR_getgid32),
#endif
#ifdef __NR_getegid32
	ALLOW(__NR_getegid32),
#endif
	/* The cgroup id of a cgroup directory (util/cgroup.c): its kernfs
	 * file handle. */
	ALLOW(__NR_name_to_handle_at),

	BPF_STMT(BPF_RET | BPF_K, DENY_ERRNO(EPERM)),
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
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_AUDIT_ARCH, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	LOAD_NR,
	DENY(__NR_socket, EPERM),
	ALLOW_ARG(__NR_connect, 0, CONNECT_FD),
	DENY(__NR_connect, EPERM),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

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
	size_t i, n = 0;

	/* Every rule ends in exactly one RET ALLOW. */
	for (i = 0; i < sizeof(filter) / sizeof(filter[0]); i++)
		if (filter[i].code == (BPF_RET | BPF_K) &&
		    filter[i].k == SECCOMP_RET_ALLOW)
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
	char line[512], *p, *end;
	unsigned long u, g;
	size_t n = strlen(SANDBOX_USER);
	FILE *f;

	if (!(f = fopen("/etc/passwd", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
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
	fclose(f);
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
	enum { NBASE = sizeof(filter) / sizeof(filter[0]),
	       NNET = sizeof(net_rules) / sizeof(net_rules[0]) };
	struct sock_filter f[NBASE + NNET];
	struct sock_fprog prog = {
		.len = (unsigned short)NBASE,
		.filter = f,
	};
	unsigned flags = SECCOMP_FILTER_FLAG_TSYNC;
	size_t i;
	long r;
	int cap;

	/* Every comparison with CONNECT_FD gets the real fd.  The
	 * exporter's rules go before the final DENY: each rule's jumps stay
	 * within itself. */
	memcpy(f, filter, sizeof(filter));
	if (net_open) {
		memcpy(f + NBASE - 1, net_rules, sizeof(net_rules));
		f[NBASE + NNET - 1] = filter[NBASE - 1];
		prog.len = (unsigned short)(NBASE + NNET);
	}
	net_connect_fd = connect_fd;
	for (i = 0; connect_fd >= 0 && i < prog.len; i++)
		if (f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[i].k == CONNECT_FD)
			f[i].k = (__u32)connect_fd;

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
