/*
 * The programs of the system-call backends, three designs of one event:
 * the tracepoint pair (prog_connect_enter() at sys_enter_<call> stashes a
 * struct kevent after a zeroed header, keyed by thread, and
 * prog_connect_exit() at sys_exit_<call> adds the return code and sends
 * it), one exit-only program per call (prog_call_exit()), and the same as
 * fexit (prog_fexit()).  connect() is always recorded; sendto() and
 * sendmsg() only when they carry an explicit destination on a datagram
 * socket.  The cgroup backend's programs are in sockaddr.h.
 */
#ifndef CONNECT_H
#define CONNECT_H

#include <stdint.h>

#include "prog/frame.h"

/* The stash's value: the struct kbatch_hdr every perf sample starts with,
 * then the event, so that the exit program sends it as it is. */
#define STASH_VALUE ((int)(sizeof(struct kbatch_hdr) + sizeof(struct kevent)))
#define STASHED(field) ((int)(sizeof(struct kbatch_hdr) + \
    offsetof(struct kevent, field)))

struct prog_asm;

/* Offsets of kernel struct members, resolved from BTF (loader/btf.c). */
struct prog_kern {
	int valid;              /* 0: no BTF, socket type/protocol unknown */
	int task_files;         /* task_struct.files */
	int task_real_parent;   /* task_struct.real_parent */
	int task_tgid;          /* task_struct.tgid */
	int files_fdt;          /* files_struct.fdt */
	int fdt_max_fds;        /* fdtable.max_fds */
	int fdt_fd;             /* fdtable.fd */
	int file_private_data;  /* file.private_data */
	int socket_type;        /* socket.type (short) */
	int socket_file;        /* socket.file */
	int socket_sk;          /* socket.sk */
	int sock_protocol;      /* sock.sk_protocol (u16) */
	/* Where the saved user registers keep system call arguments 0-5
	 * (pt_regs.di, .si, ... on x86-64), for the exit-only programs;
	 * regs_valid 0 when this architecture's layout is unknown. */
	int regs_valid;
	int regs_arg[6];
	/* struct bpf_sock_addr_kern, what a cgroup socket-address program's
	 * ctx really points to: the kernel's copy of the caller's sockaddr
	 * and its length, for unix paths (prog/sockaddr.c). */
	int sak_valid;
	int sak_uaddr;          /* .uaddr (struct sockaddr *) */
	int sak_uaddrlen;       /* .uaddrlen (u32, Linux 6.7+) */
	int sock_err;           /* sock.sk_err (int), -1 unknown */
	struct prog_ids ids;    /* the task's ids by plain loads */
	/* bpf_rdonly_cast() (Linux 6.2+, inlined by the verifier: no call)
	 * turns the file and socket pointers the exit-only walk finds into
	 * BTF-typed ones, so that their fields are plain guarded loads
	 * rather than a probe read each: its BTF id and those of struct
	 * file and struct socket, cast_valid 0 when one is missing. */
	int cast_valid;
	int kf_rdonly_cast;
	int file_btf_id;
	int socket_btf_id;
	int sak_btf_id;         /* struct bpf_sock_addr_kern, 0 unknown */
};

struct prog_conf {
	int syscall;            /* enum ev_syscall: which enter program */
	int stash_fd;           /* LRU hash: u64 pid_tgid -> STASH_VALUE bytes */
	int events_fd;          /* perf event array */
	int batch_fd;           /* exit-only: per-CPU struct kbatch, or -1 */
	int xchg;               /* take it with BPF_XCHG (else plain) */
	/* The reader thread's pid_tgid, or 0: its connect() flushes this
	 * CPU's batch and is no event (prog_emit_trigger()).  Used by the
	 * connect programs only, the trigger being a connect. */
	uint64_t trigger;
	/* fexit on __sys_<call> instead of the sys_exit tracepoint: the
	 * arguments are ctx[0..], the return value ctx[fexit_nargs]. */
	int fexit;
	int fexit_nargs;
	/* The exit-only walk through bpf_rdonly_cast() (k.cast_valid) when
	 * 1, else with probe reads: the loader tries it first. */
	int cast;
	/* Field offsets in the tracepoint records, from tracefs format files.
	 * connect: fd, uservaddr, addrlen; sendto: fd, addr, addr_len;
	 * sendmsg: fd, msg (enter_addrlen unused). */
	int enter_fd;
	int enter_addr;
	int enter_addrlen;
	int exit_ret;
	/* The size of every one of those fields, the kernel's long as the
	 * format files give it: 8, or 4 on 32-bit kernels, where user and
	 * kernel pointers are 4 bytes too; 0 means 8. */
	int arg_size;
	struct prog_kern k;
};

/* Emit the programs into a (initialised with asm_init).  Return the
 * instruction count or -errno from asm_finish().  The enter program is the
 * one for c->syscall; the exit program is the same for every call. */
long prog_connect_enter(struct prog_asm *a, const struct prog_conf *c);
long prog_connect_exit(struct prog_asm *a, const struct prog_conf *c);

/*
 * The cheaper design, when BTF is there (c->k.valid and c->k.regs_valid):
 * one program at sys_exit_<call> that reads the arguments from the task's
 * saved user registers, walks the task with BTF-typed loads, and hands the
 * event over at once (prog_emit_event(): into the per-CPU batch, or to the
 * perf event array without one): no enter program, no stash.  The event
 * is the same as the pair's.  Returns the instruction count or
 * -errno; -EINVAL without BTF or on a 32-bit kernel (arg_size 4).
 */
long prog_call_exit(struct prog_asm *a, const struct prog_conf *c);

/*
 * The same program as fexit on __sys_connect, __sys_sendto or
 * __sys_sendmsg (c->fexit, c->fexit_nargs): arguments and return value
 * from the context, no registers and no syscall tracepoint.  Needs BTF
 * (c->k.valid); -EINVAL otherwise.
 */
long prog_fexit(struct prog_asm *a, const struct prog_conf *c);

#endif
