/*
 * The ABI between the kernel programs (prog/) and the reader (loader/):
 * the record a program writes, the per-CPU batch it gathers records in,
 * and the ids both sides read the same way.  The programs store at
 * offsetof() these structs, the reader decodes with them: change them
 * here only, and both sides follow.  This header includes nothing of
 * ours: it is the bottom of the stack.
 */
#ifndef PROG_ABI_H
#define PROG_ABI_H

#include <stddef.h>
#include <stdint.h>

/* The byte order of the CPU, and so of its kernel: the programs' loads
 * of the kernel's structs and the reader's of the records both depend on
 * it (the rest of a CPU's table is util/arch.h). */
#define ARCH_BIG_ENDIAN (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
/* The offset of the low 32 bits of a size-byte integer at off: a 32-bit
 * argument (an fd, a length) in a kernel long slot of 8 bytes is its
 * second word on a big-endian CPU. */
#define ARCH_LO32(off, size) ((off) + ((size) == 8 && ARCH_BIG_ENDIAN ? 4 : 0))

#define EV_COMM_LEN 16
#define EV_ADDR_MAX 112   /* bytes of sockaddr copied from user memory */

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
 * Every perf sample is a struct kbatch_hdr (below) and one record or more
 * after it, each of its own size.  The programs store at offsetof() this
 * struct; loader/capture.c splits samples into records and ld_decode()
 * reads them.  sock_type and protocol are read from the kernel's struct socket
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

_Static_assert(sizeof(struct kevent) % 8 == 0, "kevent must be 8-byte sized");

/*
 * A CPU's batch of events, the value of a one-entry BPF_MAP_TYPE_PERCPU_ARRAY:
 * programs write their records here, one after the other, each of its own
 * size (struct kevent.size), and hand the whole buffer at once to
 * bpf_perf_event_output(), whose cost per call is about that of the rest
 * of the program.  It goes out when fewer than sizeof(struct kevent)
 * bytes are left, so that the next record always fits.  See
 * prog_emit_slot() for how two programs on one CPU (preemption,
 * interrupts) stay out of each other's way.
 */
#define KBATCH_CAP 4096
/* The reader's flush connects a UDP socket of its own to
 * 127.0.0.1:KTRIGGER_PORT (discard: nothing is sent) on each CPU. */
#define KTRIGGER_PORT 9
struct kbatch {
	uint32_t busy;          /* 1 while a program owns the batch */
	/* Runs of the flush on this CPU (prog_emit_trigger()), which the
	 * loader reads back once at start-up to see that its trigger works. */
	uint32_t flushes;
	uint32_t n;             /* records in buf */
	uint32_t len;           /* bytes of buf they fill */
	struct kbatch_hdr {     /* sent ahead of the records */
		/* Batches the perf ring refused since the last one that got
		 * through: the kernel counts each as one lost record, but it
		 * held this many events. */
		uint32_t dropped_events;
		uint32_t dropped_samples;
	} hdr;
	uint8_t buf[KBATCH_CAP];
};
/* The header and the records go out in one piece: no padding between;
 * n and len are reset with one 8-byte store. */
_Static_assert(offsetof(struct kbatch, buf) ==
    offsetof(struct kbatch, hdr) + sizeof(struct kbatch_hdr),
    "kbatch: hdr must be right before buf");
_Static_assert(offsetof(struct kbatch, len) == offsetof(struct kbatch, n) + 4 &&
    offsetof(struct kbatch, n) % 8 == 0, "kbatch: n, len must share a u64");
/* The last record's end, the most a batch holds before it goes out. */
#define KBATCH_FULL (KBATCH_CAP - (int)sizeof(struct kevent))

#endif
