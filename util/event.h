/* Connection events: the record the BPF programs write, and the decoded form
 * the store and the HTTP API use. */
#ifndef EVENT_H
#define EVENT_H

#include <stddef.h>
#include <stdint.h>

#define EV_COMM_LEN 16
#define EV_ADDR_MAX 112   /* bytes of sockaddr copied from user memory */
#define EV_PATH_MAX 108   /* sizeof(sun_path) */

/* Which system call produced the event. */
enum ev_syscall {
	EV_CONNECT = 0,
	EV_SENDTO = 1,
	EV_SENDMSG = 2,
	/* A datagram to an explicit address whose call is not known: the
	 * cgroup sendmsg hooks run for sendto(), sendmsg(), sendmmsg() and
	 * io_uring alike and cannot tell which.  Its name is
	 * "sendto|sendmsg", and a sendto or a sendmsg filter matches it. */
	EV_SEND = 3,
};

/*
 * The raw record sent by the BPF programs through the perf event array.
 * Its layout is ABI between prog/ (which stores at these offsets) and
 * ev_decode(); the BPF programs use offsetof() on this struct, so change it
 * here only.  sock_type and protocol are read from the kernel's struct socket
 * and struct sock, never guessed from the port; 0xffff means unknown.
 */
struct kevent {
	uint64_t ts;            /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	uint64_t cgroup_id;     /* bpf_get_current_cgroup_id() */
	uint64_t sk;            /* the struct sock's address (cgroup backend),
	                         * to match TCP outcomes (KEV_OUTCOME); 0 */
	uint32_t pid;           /* tgid */
	uint32_t tid;
	uint32_t ppid;          /* real_parent->tgid, 0 if unreadable */
	uint32_t uid;
	uint32_t gid;
	int32_t ret;            /* syscall return value */
	uint16_t sock_type;     /* socket->type: SOCK_STREAM, ... */
	uint16_t protocol;      /* sock->sk_protocol: IPPROTO_TCP, ... */
	uint16_t syscall;       /* enum ev_syscall */
	uint16_t addrlen;       /* bytes valid in addr */
	uint32_t fd;
	uint32_t count;         /* datagrams folded into this record, >= 1 */
	uint16_t flags;         /* KEV_* */
	uint16_t size;          /* bytes of this record: KEV_HEAD and the
	                         * room its address takes (KEV_SIZE()) */
	uint32_t pad1;
	char comm[EV_COMM_LEN];
	uint8_t addr[EV_ADDR_MAX]; /* struct sockaddr_* as passed by the caller */
};

#define EV_UNKNOWN 0xffff

/*
 * A record may stop short of the whole struct: it is KEV_HEAD bytes and
 * as much of addr as its kind of address needs (a whole sockaddr_in is
 * 16, a sockaddr_in6 28, rounded up to 8), so that a batch carries no
 * unused address room.  Bytes of addr past addrlen are unspecified.
 */
#define KEV_HEAD ((int)offsetof(struct kevent, addr))
#define KEV_SIZE(room) (KEV_HEAD + (((room) + 7) & ~7))

/* kevent.flags */
#define KEV_RET_UNKNOWN 0x1     /* ret is not the call's: the hook runs
                                 * before the call's outcome is known */
/*
 * Not an event but the outcome of a TCP connect, from
 * sock:inet_sock_set_state when the socket at sk left SYN_SENT: count
 * holds the TCP state it went to (ESTABLISHED, CLOSE), ret sk->sk_err
 * then (a positive errno, 0 none, -1 unknown: no BTF), ts the time.  It
 * travels in the same per-CPU batches as the connect, so it mostly
 * arrives after it.
 */
#define KEV_OUTCOME 0x2

/* What became of a call, for the "result" field. */
enum ev_result {
	EV_RESULT_UNKNOWN = 0,
	EV_RESULT_OK,
	EV_RESULT_REFUSED,
	EV_RESULT_TIMEOUT,
	EV_RESULT_RESET,
	EV_RESULT_ERROR,        /* failed otherwise (ret has the errno) */
	EV_RESULT_PENDING,      /* in progress; internal, shown as unknown */
};

/*
 * A decoded event.  Addresses are in host order where numeric, the unix path
 * is NUL-terminated ('@' first for abstract names, as ss(8) prints them).
 */
struct event {
	uint64_t ts;            /* wall clock, ns since the epoch (UTC) */
	uint64_t cgroup_id;
	uint32_t pid, tid, ppid, uid, gid;
	int32_t ret;            /* meaningless when ret_unknown */
	uint32_t count;
	uint8_t ret_unknown;    /* the backend does not see return codes */
	uint8_t result;         /* enum ev_result */
	uint16_t family;        /* AF_INET, AF_INET6, AF_UNIX, or other */
	uint16_t port;          /* host order; 0 for unix */
	uint16_t sock_type;     /* SOCK_* or EV_UNKNOWN */
	uint16_t protocol;      /* IPPROTO_* (0 for unix) or EV_UNKNOWN */
	uint8_t syscall;        /* enum ev_syscall */
	char comm[EV_COMM_LEN]; /* raw kernel bytes, NUL-terminated */
	uint8_t ip[16];         /* v4 in the first 4 bytes, network order */
	char path[EV_PATH_MAX + 2]; /* unix only */
};

/*
 * Decode a raw record of len bytes (KEV_HEAD to sizeof(struct kevent); an
 * address past len is cut).  mono_to_real is added to the kernel's
 * monotonic timestamp to get wall-clock time.  Returns 0, or -EINVAL when
 * the record is too short.
 */
int ev_decode(const void *raw, size_t len, int64_t mono_to_real, struct event *ev);

/* Names for the JSON fields.  Never NULL. */
const char *ev_family_name(const struct event *ev);   /* "AF_INET", ... */
const char *ev_protocol_name(const struct event *ev); /* "TCP", "UDP", "UNIX", ... */

/* The protocol names, the one table of them: ev_protocol() is the index
 * of ev's in ev_protocols[] (EV_NPROTO - 1 is "UNKNOWN"), for counting. */
#define EV_NPROTO 8
extern const char *const ev_protocols[EV_NPROTO];
unsigned ev_protocol(const struct event *ev);
const char *ev_type_name(const struct event *ev);     /* "STREAM", "DGRAM", ... */
const char *ev_syscall_name(const struct event *ev);  /* "connect", ... */
/* 1 when an event of syscall have matches a filter for want: the same
 * call, or a datagram of unknown call (EV_SEND) for sendto or sendmsg. */
int ev_syscall_matches(unsigned want, unsigned have);
const char *ev_result_name(const struct event *ev);   /* "ok", "refused", ... */
/* Whether a call failed: its return code when known, else its result. */
int ev_failed(int32_t ret, int ret_unknown, uint8_t result);
/* The result a return code means for call (enum ev_syscall). */
uint8_t ev_result_of(int syscall, int32_t ret);
/* The result of a connect that failed with err (a positive errno). */
uint8_t ev_result_of_errno(int err);
/* Application protocol guessed from the port only ("http", "dns", ...), "" if none. */
const char *ev_service(const struct event *ev);

/*
 * Formatting into caller buffers; each returns the length written (like
 * snprintf, truncating).  destination is "1.2.3.4:80", "[::1]:80" or the
 * unix path; ip is "1.2.3.4", "::1" or "".
 */
int ev_destination(const struct event *ev, char *buf, size_t n);
int ev_ip(const struct event *ev, char *buf, size_t n);

#endif
