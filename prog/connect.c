/*
 * The connect() probe, hand-assembled.  Each program has its pseudo-C above
 * it and a comment on every instruction.  Stack layout of the enter program
 * (fp = r10):
 *
 *   fp - 184 .. fp - 1   struct kevent e   (EV)
 *   fp - 192             u64 scratch       (SCR) target of probe reads
 *   fp - 200             u64 key           (KEY) pid_tgid
 *   fp - 264 .. fp - 201 u8 span[64]       (SPAN) struct socket fields,
 *                                          read at once (prog_call_exit)
 */
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include <linux/bpf.h>

#include "prog/asm.h"
#include "prog/connect.h"
#include "prog/insn.h"
#include "util/event.h"

_Static_assert(sizeof(struct kevent) == 184, "kevent layout changed: fix EV");
_Static_assert(sizeof(struct kevent) % 8 == 0, "kevent must be 8-byte sized");

#define EV  (-(int)sizeof(struct kevent))
#define SCR (EV - 8)
#define KEY (EV - 16)
#define SPAN (KEY - SPAN_MAX)
#define SPAN_MAX 64
#define E(field) (EV + (int)offsetof(struct kevent, field))

enum { L_LEN_OK, L_ADDR_OK, L_SOCK, L_STASH, L_OUT, L_FAMILY_OK };

#define MIN(a, b) ((a) < (b) ? (a) : (b))
/* The load size of an argument slot of arg_size bytes (4 or 8). */
#define SZ(n) ((n) == 4 ? BPF_W : BPF_DW)
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* r0 = bpf_probe_read_kernel(fp + dst, size, src + off); clobbers r1-r5. */
static void
read_kernel(struct prog_asm *a, int dst, int size, int src, int off)
{
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, src));             /* r3 = src */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, off));    /* r3 += off */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, dst));    /* r1 += dst */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, size));            /* r2 = size */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read() */
}

/* scratch = *(kernel pointer *)(src + off), psz bytes (4 on 32-bit
 * kernels, 8); on failure goto fail.  Leaves the value in dst. */
static void
deref(struct prog_asm *a, int psz, int dst, int src, int off, int fail)
{
	read_kernel(a, SCR, psz, src, off);                     /* r0 = read(&scr, psz, src + off) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, fail);            /* if (r0) goto fail */
	asm_emit(a, BPF_LDX_MEM(SZ(psz), dst, BPF_REG_10, SCR)); /* dst = scr */
}

/* *(u16 *)(fp + dst) = *(u16 *)(src + off), untouched on failure. */
static void
copy_u16(struct prog_asm *a, int dst, int src, int off, int fail)
{
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, SCR, 0));    /* scr = 0 */
	read_kernel(a, SCR, 2, src, off);                       /* r0 = read(&scr, 2, src + off) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, fail);            /* if (r0) goto fail */
	asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10, SCR)); /* r1 = (u16)scr */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, dst)); /* *(u16 *)(fp + dst) = r1 */
}

/*
 * Where the arguments of the call are: in the enter tracepoint's record
 * (ctx), or in the task's saved user registers at exit (pt_regs).  reg
 * holds the base, the offsets are those of fd, of the sockaddr (or msghdr)
 * pointer and of its length; all are slots of size bytes, the kernel's
 * long: 8, or 4 on 32-bit kernels, where user pointers are 4 bytes too.
 * fd and the length are read as 32-bit words either way (the low word
 * comes first: every supported architecture is little-endian).
 */
struct args {
	int reg;
	int fd, addr, addrlen;
	int size;
};

/*
 * Where the destination is: r7 = user pointer to the sockaddr, r2 = its
 * length.  For sendto() and sendmsg() without a destination, return.
 *
 *	connect: r7 = args->uservaddr;  r2 = args->addrlen;
 *	sendto:  r7 = args->addr;       r2 = args->addr_len;  if (!r7) return 0;
 *	sendmsg: struct user_msghdr m;  (read into e.addr, zeroed again after)
 *	         if (bpf_probe_read_user(&m, 2 * P, args->msg)) return 0;
 *	         r7 = m.msg_name;       r2 = m.msg_namelen; if (!r7) return 0;
 *
 * P is the user pointer size, g->size: msg_name is the first member and
 * msg_namelen (an int) follows it at offset P.
 */
static void
destination(struct prog_asm *a, const struct prog_conf *c, const struct args *g)
{
	if (c->syscall != EV_SENDMSG) {
		asm_emit(a, BPF_LDX_MEM(SZ(g->size), BPF_REG_7, g->reg, g->addr)); /* r7 = args->addr */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, g->reg, g->addrlen)); /* r2 = args->addrlen */
		if (c->syscall == EV_SENDTO)
			asm_jmp_imm(a, BPF_JEQ, BPF_REG_7, 0, L_OUT);   /* if (!r7) return 0 */
		return;
	}
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, E(addr))); /* r1 = &m (in e.addr) */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 2 * g->size));     /* r2 = 2 * P */
	asm_emit(a, BPF_LDX_MEM(SZ(g->size), BPF_REG_3, g->reg, g->addr)); /* r3 = args->msg */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));   /* r0 = read_user(r1, r2, r3) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_OUT);           /* if (r0) return 0 */
	asm_emit(a, BPF_LDX_MEM(SZ(g->size), BPF_REG_7, BPF_REG_10, E(addr))); /* r7 = m.msg_name */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_10, E(addr) + g->size)); /* r2 = m.msg_namelen */
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, E(addr), 0)); /* zero m again */
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, E(addr) + 8, 0)); /* ... both words */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_7, 0, L_OUT);           /* if (!r7) return 0 */
}

/*
 * The part of the event both designs fill the same way: zero e, ids,
 * comm, cgroup, count, syscall, fd (left in r8), and the destination copied
 * from user memory; datagram calls to other families return.  r6 = ctx
 * and, for exit-only, r9 = pt_regs must be set; clobbers r0-r5, r7, r8.
 */
static void
common_fields(struct prog_asm *a, const struct prog_conf *c, const struct args *g)
{
	int off;

	for (off = EV; off < 0; off += 8)
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, off, 0)); /* *(u64 *)(fp + off) = 0 */

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid)); /* r0 = pid_tgid */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, KEY)); /* key = r0 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(tid))); /* e.tid = r0 */
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 32));     /* r0 >>= 32 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(pid))); /* e.pid = r0 */

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_uid_gid)); /* r0 = uid_gid */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(uid))); /* e.uid = r0 */
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 32));     /* r0 >>= 32 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(gid))); /* e.gid = r0 */

	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, E(comm))); /* r1 += &e.comm */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_COMM_LEN));     /* r2 = 16 */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_comm));  /* get_current_comm(r1, r2) */

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_cgroup_id)); /* r0 = cgroup id */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(cgroup_id))); /* e.cgroup_id = r0 */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_10, E(count), 1)); /* e.count = 1 */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(syscall), c->syscall)); /* e.syscall = CALL */

	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_8, g->reg, g->fd)); /* r8 = args->fd */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_8, E(fd))); /* e.fd = r8 */

	destination(a, c, g);                                   /* r7 = addr, r2 = len */
	asm_jmp_imm(a, BPF_JLE, BPF_REG_2, EV_ADDR_MAX, L_LEN_OK); /* if (r2 <= 112) goto len_ok */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_ADDR_MAX));     /* r2 = 112 */
	asm_label(a, L_LEN_OK);
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_2, E(addrlen))); /* e.addrlen = r2 */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, E(addr))); /* r1 += &e.addr */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, BPF_REG_7));       /* r3 = addr */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));   /* r0 = read_user(r1, r2, r3) */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_ADDR_OK);       /* if (r0 == 0) goto addr_ok */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(addrlen), 0)); /* e.addrlen = 0 */
	asm_label(a, L_ADDR_OK);
	if (c->syscall != EV_CONNECT) {
		/* Datagrams: only IPv4 and IPv6 destinations. */
		asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10, E(addr))); /* r1 = sa_family */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_1, AF_INET, L_FAMILY_OK); /* if (r1 == AF_INET) goto ok */
		asm_jmp_imm(a, BPF_JNE, BPF_REG_1, AF_INET6, L_OUT); /* if (r1 != AF_INET6) return 0 */
		asm_label(a, L_FAMILY_OK);
	}

	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(sock_type), EV_UNKNOWN)); /* e.sock_type = unknown */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(protocol), EV_UNKNOWN));  /* e.protocol = unknown */
}

/* Datagram calls keep only datagram sockets (type known by now). */
static void
datagram_filter(struct prog_asm *a, const struct prog_conf *c)
{
	if (c->syscall == EV_CONNECT)
		return;
	asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10, E(sock_type))); /* r1 = e.sock_type */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_1, SOCK_DGRAM, L_OUT);  /* if (r1 != DGRAM) return 0 */
}

/*
 * tracepoint/syscalls/sys_enter_{connect,sendto,sendmsg}:
 *
 *	struct kevent e = {0};
 *	u64 key = bpf_get_current_pid_tgid();
 *	e.tid = key; e.pid = key >> 32;
 *	u64 ug = bpf_get_current_uid_gid();
 *	e.uid = ug; e.gid = ug >> 32;
 *	bpf_get_current_comm(e.comm, 16);
 *	e.cgroup_id = bpf_get_current_cgroup_id();
 *	e.count = 1;
 *	e.syscall = CALL;
 *	e.fd = ctx->fd;
 *	addr, len = destination(ctx);               // see destination()
 *	if (len > 112) len = 112;
 *	e.addrlen = len;
 *	if (bpf_probe_read_user(e.addr, len, addr)) e.addrlen = 0;
 *	if (CALL != connect && e.addr.sa_family != AF_INET && != AF_INET6)
 *		return 0;
 *	e.sock_type = e.protocol = 0xffff;
 *	if (btf) {                                  // offsets known
 *		task = bpf_get_current_task();
 *		e.ppid = task->real_parent->tgid;
 *		fdt = task->files->fdt;
 *		if (e.fd < fdt->max_fds) {
 *			file = fdt->fd[e.fd];
 *			sock = file->private_data;
 *			if (sock->file == file) {           // the fd is a socket
 *				e.sock_type = sock->type;
 *				e.protocol = sock->sk->sk_protocol;
 *			}
 *		}
 *		if (CALL != connect && e.sock_type != SOCK_DGRAM)
 *			return 0;
 *	}
 *	e.ts = bpf_ktime_get_ns();
 *	bpf_map_update_elem(&stash, &key, &e, BPF_ANY);
 *	return 0;
 */
long
prog_connect_enter(struct prog_asm *a, const struct prog_conf *c)
{
	const struct prog_kern *k = &c->k;

	const struct args g = { BPF_REG_6, c->enter_fd, c->enter_addr,
	    c->enter_addrlen, c->arg_size };
	const int P = c->arg_size;              /* the kernel's pointer size */

	if (P != 4 && P != 8)
		return -EINVAL;
	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	common_fields(a, c, &g);

	if (k->valid) {
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task)); /* r0 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));   /* r7 = task */

		deref(a, P, BPF_REG_3, BPF_REG_7, k->task_real_parent, L_SOCK); /* r3 = task->real_parent */
		read_kernel(a, E(ppid), 4, BPF_REG_3, k->task_tgid); /* e.ppid = r3->tgid */
		asm_label(a, L_SOCK);

		deref(a, P, BPF_REG_3, BPF_REG_7, k->task_files, L_STASH); /* r3 = task->files */
		deref(a, P, BPF_REG_9, BPF_REG_3, k->files_fdt, L_STASH);  /* r9 = files->fdt */
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, SCR, 0)); /* scr = 0 */
		read_kernel(a, SCR, 4, BPF_REG_9, k->fdt_max_fds);  /* r0 = read(&scr, 4, &fdt->max_fds) */
		asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_STASH);     /* if (r0) goto stash */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_10, SCR)); /* r1 = max_fds */
		asm_jmp_reg(a, BPF_JGE, BPF_REG_8, BPF_REG_1, L_STASH); /* if (fd >= max_fds) goto stash */
		deref(a, P, BPF_REG_3, BPF_REG_9, k->fdt_fd, L_STASH); /* r3 = fdt->fd */
		asm_emit(a, BPF_ALU64_IMM(BPF_LSH, BPF_REG_8, P == 8 ? 3 : 2)); /* r8 = fd * P */
		asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_8)); /* r3 = &fdt->fd[fd] */
		deref(a, P, BPF_REG_9, BPF_REG_3, 0, L_STASH);      /* r9 = file */
		deref(a, P, BPF_REG_8, BPF_REG_9, k->file_private_data, L_STASH); /* r8 = sock */
		deref(a, P, BPF_REG_1, BPF_REG_8, k->socket_file, L_STASH); /* r1 = sock->file */
		asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, L_STASH); /* if (r1 != file) goto stash */
		copy_u16(a, E(sock_type), BPF_REG_8, k->socket_type, L_STASH); /* e.sock_type = sock->type */
		deref(a, P, BPF_REG_7, BPF_REG_8, k->socket_sk, L_STASH); /* r7 = sock->sk */
		copy_u16(a, E(protocol), BPF_REG_7, k->sock_protocol, L_STASH); /* e.protocol = sk->sk_protocol */
		asm_label(a, L_STASH);
		datagram_filter(a, c);
	}

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));      /* r0 = ktime */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(ts))); /* e.ts = r0 */
	asm_ld_map_fd(a, BPF_REG_1, c->stash_fd);               /* r1 = &stash */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));      /* r2 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, KEY));    /* r2 = &key */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, BPF_REG_10));      /* r3 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, EV));     /* r3 = &e */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_4, BPF_ANY));         /* r4 = BPF_ANY */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_update_elem));   /* update(r1, r2, r3, r4) */
	asm_label(a, L_OUT);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));               /* r0 = 0 */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	return asm_finish(a);
}

/*
 * tracepoint/syscalls/sys_exit_{connect,sendto,sendmsg}:
 *
 *	u64 key = bpf_get_current_pid_tgid();
 *	struct kevent *e = bpf_map_lookup_elem(&stash, &key);
 *	if (!e)
 *		return 0;
 *	e->ret = ctx->ret;
 *	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, sizeof(*e));
 *	bpf_map_delete_elem(&stash, &key);
 *	return 0;
 */
long
prog_connect_exit(struct prog_asm *a, const struct prog_conf *c)
{
	if (c->arg_size != 4 && c->arg_size != 8)
		return -EINVAL;
	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid)); /* r0 = pid_tgid */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -8)); /* key = r0 */
	asm_ld_map_fd(a, BPF_REG_1, c->stash_fd);               /* r1 = &stash */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));      /* r2 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -8));     /* r2 = &key */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));   /* r0 = lookup(r1, r2) */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_OUT);           /* if (!r0) goto out */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));       /* r7 = e */
	asm_emit(a, BPF_LDX_MEM(SZ(c->arg_size), BPF_REG_1, BPF_REG_6, c->exit_ret)); /* r1 = ctx->ret */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_1,
	    offsetof(struct kevent, ret)));                     /* e->ret = r1 */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));       /* r1 = ctx */
	asm_ld_map_fd(a, BPF_REG_2, c->events_fd);              /* r2 = &events */
	asm_emit(a, BPF_MOV32_IMM(BPF_REG_3, -1));              /* r3 = BPF_F_CURRENT_CPU */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_4, BPF_REG_7));       /* r4 = e */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_5, sizeof(struct kevent))); /* r5 = sizeof(*e) */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_perf_event_output)); /* output(r1..r5) */
	asm_ld_map_fd(a, BPF_REG_1, c->stash_fd);               /* r1 = &stash */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));      /* r2 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -8));     /* r2 = &key */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_delete_elem));   /* delete(r1, r2) */
	asm_label(a, L_OUT);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));               /* r0 = 0 */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	return asm_finish(a);
}

/*
 * tracepoint/syscalls/sys_exit_{connect,sendto,sendmsg}, exit-only:
 *
 *	struct pt_regs *regs = bpf_task_pt_regs(bpf_get_current_task_btf());
 *	struct kevent e;
 *	common_fields(&e, regs);                    // as the enter program
 *	task = bpf_get_current_task_btf();          // BTF-typed: plain loads
 *	e.ppid = task->real_parent->tgid;
 *	fdt = task->files->fdt;
 *	if (e.fd < fdt->max_fds) {
 *		file = fdt->fd[e.fd];                   // probe read
 *		sock = file->private_data;              // probe read
 *		span = sock->{type .. sk};              // one probe read
 *		if (span.file == file) {
 *			e.sock_type = span.type;
 *			e.protocol = span.sk->sk_protocol;  // probe read
 *		}
 *	}
 *	if (CALL != connect && e.sock_type != SOCK_DGRAM)
 *		return 0;
 *	e.ret = ctx->ret;
 *	e.ts = bpf_ktime_get_ns();
 *	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
 *	return 0;
 *
 * The arguments are still in the saved registers at exit: the kernel
 * reads them from there on entry and only the return value register is
 * written back (after this tracepoint on x86-64; arm64 keeps the first
 * argument in orig_x0).  Four probe reads instead of twelve; the task
 * fields are BTF-typed loads, which the JIT turns into plain moves with
 * an exception-table entry.
 */
long
prog_call_exit(struct prog_asm *a, const struct prog_conf *c)
{
	const struct prog_kern *k = &c->k;
	const struct args g = { BPF_REG_9, k->regs_arg[0],
	    k->regs_arg[c->syscall == EV_SENDTO ? 4 : 1],
	    k->regs_arg[c->syscall == EV_SENDTO ? 5 : 2], 8 };
	int lo, hi;

	/* The register layouts known (x86-64, arm64) are 64-bit ones. */
	if (!k->valid || !k->regs_valid || c->arg_size != 8)
		return -EINVAL;
	lo = MIN(k->socket_type, MIN(k->socket_file, k->socket_sk)) & ~7;
	hi = MAX(k->socket_type + 2, MAX(k->socket_file + 8, k->socket_sk + 8));
	hi = (hi + 7) & ~7;

	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_0));       /* r1 = task */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_task_pt_regs));      /* r0 = task's pt_regs */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_9, BPF_REG_0));       /* r9 = regs */
	common_fields(a, c, &g);                                /* r8 = fd */

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));       /* r7 = task */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_7, k->task_real_parent)); /* r1 = task->real_parent */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_1, k->task_tgid)); /* r1 = r1->tgid */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, E(ppid))); /* e.ppid = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_7, k->task_files)); /* r1 = task->files */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_9, BPF_REG_1, k->files_fdt)); /* r9 = files->fdt */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_9, k->fdt_max_fds)); /* r1 = fdt->max_fds */
	asm_jmp_reg(a, BPF_JGE, BPF_REG_8, BPF_REG_1, L_STASH); /* if (fd >= max_fds) goto done */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_9, k->fdt_fd)); /* r3 = fdt->fd */
	asm_emit(a, BPF_ALU64_IMM(BPF_LSH, BPF_REG_8, 3));      /* r8 = fd * 8 */
	asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_8)); /* r3 = &fdt->fd[fd] */
	deref(a, 8, BPF_REG_9, BPF_REG_3, 0, L_STASH);          /* r9 = file */
	deref(a, 8, BPF_REG_8, BPF_REG_9, k->file_private_data, L_STASH); /* r8 = sock */
	if (hi - lo <= SPAN_MAX) {
		read_kernel(a, SPAN, hi - lo, BPF_REG_8, lo);       /* r0 = read(span, sock + lo) */
		asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_STASH);     /* if (r0) goto done */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_10,
		    SPAN + k->socket_file - lo));                   /* r1 = sock->file */
		asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, L_STASH); /* if (r1 != file) goto done */
		asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10,
		    SPAN + k->socket_type - lo));                   /* r1 = sock->type */
		asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(sock_type))); /* e.sock_type = r1 */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_10,
		    SPAN + k->socket_sk - lo));                     /* r7 = sock->sk */
	} else {
		/* An unusual struct socket: one read per field. */
		deref(a, 8, BPF_REG_1, BPF_REG_8, k->socket_file, L_STASH); /* r1 = sock->file */
		asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, L_STASH); /* if (r1 != file) goto done */
		copy_u16(a, E(sock_type), BPF_REG_8, k->socket_type, L_STASH); /* e.sock_type = sock->type */
		deref(a, 8, BPF_REG_7, BPF_REG_8, k->socket_sk, L_STASH); /* r7 = sock->sk */
	}
	copy_u16(a, E(protocol), BPF_REG_7, k->sock_protocol, L_STASH); /* e.protocol = sk->sk_protocol */
	asm_label(a, L_STASH);
	datagram_filter(a, c);

	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, c->exit_ret)); /* r1 = ctx->ret */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, E(ret))); /* e.ret = r1 */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));      /* r0 = ktime */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(ts))); /* e.ts = r0 */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));       /* r1 = ctx */
	asm_ld_map_fd(a, BPF_REG_2, c->events_fd);              /* r2 = &events */
	asm_emit(a, BPF_MOV32_IMM(BPF_REG_3, -1));              /* r3 = BPF_F_CURRENT_CPU */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_4, BPF_REG_10));      /* r4 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, EV));     /* r4 = &e */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_5, sizeof(struct kevent))); /* r5 = sizeof(e) */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_perf_event_output)); /* output(r1..r5) */
	asm_label(a, L_OUT);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));               /* r0 = 0 */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	return asm_finish(a);
}
