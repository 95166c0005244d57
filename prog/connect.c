/*
 * The connect() probe, hand-assembled.  Each program has its pseudo-C above
 * it and a comment on every instruction.  The stack frame (struct kevent e
 * and scratch slots) is prog/frame.h's.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include <linux/bpf.h>

#include "prog/abi.h"
#include "prog/asm.h"
#include "prog/connect.h"
#include "prog/frame.h"
#include "prog/insn.h"

enum { L_LEN_OK, L_ADDR_OK, L_SOCK, L_STASH, L_OUT, L_FAMILY_OK, L_WALKED };

#define MIN(a, b) ((a) < (b) ? (a) : (b))
/* The load size of an argument slot of arg_size bytes (4 or 8). */
#define SZ(n) ((n) == 4 ? BPF_W : BPF_DW)
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * Where the arguments of the call are: in the enter tracepoint's record
 * (ctx), or in the task's saved user registers at exit (pt_regs).  reg
 * holds the base, the offsets are those of fd, of the sockaddr (or msghdr)
 * pointer and of its length; all are slots of size bytes, the kernel's
 * long: 8, or 4 on 32-bit kernels, where user pointers are 4 bytes too
 * (size 0 means 8).  fd and the length are read as 32-bit words either
 * way, from the slot's low word (its second one on a big-endian CPU).
 */
struct args {
	int reg;
	int fd, addr, addrlen;
	int size;
};

#define ASZ(g) ((g)->size == 4 ? 4 : 8)

/* dst = *(kernel pointer *)(src + off) of psz bytes (4 on 32-bit kernels,
 * else 8); on failure goto fail. */
static void
deref_p(struct prog_asm *a, int psz, int dst, int src, int off, int fail)
{
	if (psz != 4) {
		prog_deref(a, dst, src, off, fail);             /* dst = *(u64 *)(src + off) */
		return;
	}
	prog_read_kernel(a, SCR, 4, src, off);                  /* r0 = read(&scr, 4, src + off) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, fail);            /* if (r0) goto fail */
	asm_emit(a, BPF_LDX_MEM(BPF_W, dst, BPF_REG_10, SCR));  /* dst = (u32)scr */
}

/*
 * Where the destination is: r7 = user pointer to the sockaddr, r2 = its
 * length.  For sendto() and sendmsg() without a destination, return.
 *
 *	connect: r7 = args->uservaddr;  r2 = args->addrlen;
 *	sendto:  r7 = args->addr;       r2 = args->addr_len;  if (!r7) return 0;
 *	sendmsg: struct user_msghdr m;  (read into e.addr, zeroed again after)
 *	         if (bpf_probe_read_user(&m, 16, args->msg)) return 0;
 *	         r7 = m.msg_name;       r2 = m.msg_namelen; if (!r7) return 0;
 */
static void
destination(struct prog_asm *a, const struct prog_conf *c, const struct args *g)
{
	if (c->syscall != EV_SENDMSG) {
		asm_emit(a, BPF_LDX_MEM(SZ(ASZ(g)), BPF_REG_7, g->reg, g->addr)); /* r7 = args->addr */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, g->reg,
		    ARCH_LO32(g->addrlen, ASZ(g))));                /* r2 = args->addrlen */
		if (c->syscall == EV_SENDTO)
			asm_jmp_imm(a, BPF_JEQ, BPF_REG_7, 0, L_OUT);   /* if (!r7) return 0 */
		return;
	}
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, E(addr))); /* r1 = &m (in e.addr) */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 2 * ASZ(g)));      /* r2 = 2 * P */
	asm_emit(a, BPF_LDX_MEM(SZ(ASZ(g)), BPF_REG_3, g->reg, g->addr)); /* r3 = args->msg */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));   /* r0 = read_user(r1, r2, r3) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_OUT);           /* if (r0) return 0 */
	asm_emit(a, BPF_LDX_MEM(SZ(ASZ(g)), BPF_REG_7, BPF_REG_10, E(addr))); /* r7 = m.msg_name */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_10, E(addr) + ASZ(g))); /* r2 = m.msg_namelen */
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, E(addr), 0)); /* zero m again */
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, E(addr) + 8, 0)); /* ... both words */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_7, 0, L_OUT);           /* if (!r7) return 0 */
}

/* The reader's flush connect is a connect: the other calls' programs need
 * not look for it. */
static uint64_t
trigger(const struct prog_conf *c)
{
	return c->syscall == EV_CONNECT ? c->trigger : 0;
}

/*
 * The part of the event both designs fill the same way: zero e, ids,
 * comm, cgroup, count, syscall, fd (left in r8), and the destination copied
 * from user memory; datagram calls to other families return.  r6 = ctx
 * and, for exit-only, r9 = pt_regs must be set; clobbers r0-r5, r7, r8.
 * The reader's trigger connect goes to L_FRAME_TRIGGER (prog/frame.h).
 */
static void
common_fields(struct prog_asm *a, const struct prog_conf *c, const struct args *g,
    const struct prog_ids *ids)
{
	prog_emit_task_ids(a, trigger(c), ids);                 /* the reader's? e = {0}, key, ids, comm, cgroup */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_10, E(count), 1)); /* e.count = 1 */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(syscall), c->syscall)); /* e.syscall = CALL */

	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_8, g->reg,
	    ARCH_LO32(g->fd, ASZ(g))));                         /* r8 = args->fd */
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
 *	u64 key = bpf_get_current_pid_tgid();
 *	if (CALL == connect && TRIGGER && key == TRIGGER)
 *		return 0;                   // the reader's flush: no event
 *	struct { struct kbatch_hdr hdr; struct kevent e; } = {0};
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
 *	bpf_map_update_elem(&stash, &key, &hdr, BPF_ANY);  // hdr, then e
 *	return 0;
 */
long
prog_connect_enter(struct prog_asm *a, const struct prog_conf *c)
{
	const struct prog_kern *k = &c->k;

	const struct args g = { BPF_REG_6, c->enter_fd, c->enter_addr,
	    c->enter_addrlen, c->arg_size };
	const int P = ASZ(&g);                  /* the kernel's pointer size */

	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	common_fields(a, c, &g, NULL);                          /* ids by helpers: no BTF needed */

	if (k->valid) {
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task)); /* r0 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));   /* r7 = task */

		deref_p(a, P, BPF_REG_3, BPF_REG_7, k->task_real_parent, L_SOCK); /* r3 = task->real_parent */
		prog_read_kernel(a, E(ppid), 4, BPF_REG_3, k->task_tgid); /* e.ppid = r3->tgid */
		asm_label(a, L_SOCK);

		deref_p(a, P, BPF_REG_3, BPF_REG_7, k->task_files, L_STASH); /* r3 = task->files */
		deref_p(a, P, BPF_REG_9, BPF_REG_3, k->files_fdt, L_STASH);  /* r9 = files->fdt */
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, SCR, 0)); /* scr = 0 */
		prog_read_kernel(a, SCR, 4, BPF_REG_9, k->fdt_max_fds);  /* r0 = read(&scr, 4, &fdt->max_fds) */
		asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_STASH);     /* if (r0) goto stash */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_10, SCR)); /* r1 = max_fds */
		asm_jmp_reg(a, BPF_JGE, BPF_REG_8, BPF_REG_1, L_STASH); /* if (fd >= max_fds) goto stash */
		deref_p(a, P, BPF_REG_3, BPF_REG_9, k->fdt_fd, L_STASH);  /* r3 = fdt->fd */
		asm_emit(a, BPF_ALU64_IMM(BPF_LSH, BPF_REG_8, P == 8 ? 3 : 2)); /* r8 = fd * P */
		asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_8)); /* r3 = &fdt->fd[fd] */
		deref_p(a, P, BPF_REG_9, BPF_REG_3, 0, L_STASH);         /* r9 = file */
		deref_p(a, P, BPF_REG_8, BPF_REG_9, k->file_private_data, L_STASH); /* r8 = sock */
		deref_p(a, P, BPF_REG_1, BPF_REG_8, k->socket_file, L_STASH); /* r1 = sock->file */
		asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, L_STASH); /* if (r1 != file) goto stash */
		prog_copy_u16(a, E(sock_type), BPF_REG_8, k->socket_type, L_STASH); /* e.sock_type = sock->type */
		deref_p(a, P, BPF_REG_7, BPF_REG_8, k->socket_sk, L_STASH); /* r7 = sock->sk */
		prog_copy_u16(a, E(protocol), BPF_REG_7, k->sock_protocol, L_STASH); /* e.protocol = sk->sk_protocol */
		asm_label(a, L_STASH);
		datagram_filter(a, c);
	}

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));      /* r0 = ktime */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(ts))); /* e.ts = r0 */
	asm_ld_map_fd(a, BPF_REG_1, c->stash_fd);               /* r1 = &stash */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));      /* r2 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, KEY));    /* r2 = &key */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, BPF_REG_10));      /* r3 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, HDR));    /* r3 = &hdr, e after it */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_4, BPF_ANY));         /* r4 = BPF_ANY */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_update_elem));   /* update(r1, r2, r3, r4) */
	asm_label(a, L_OUT);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));               /* r0 = 0 */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	prog_emit_trigger(a, c->events_fd, -1, 1, trigger(c), 0); /* trigger: no stash, return 0 */
	return asm_finish(a);
}

/*
 * tracepoint/syscalls/sys_exit_{connect,sendto,sendmsg}:
 *
 *	u64 key = bpf_get_current_pid_tgid();
 *	struct { struct kbatch_hdr h; struct kevent e; } *v;
 *	v = bpf_map_lookup_elem(&stash, &key);
 *	if (!v)
 *		return 0;
 *	v->e.ret = ctx->ret;
 *	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, v, sizeof(*v));
 *	bpf_map_delete_elem(&stash, &key);
 *	return 0;
 */
long
prog_connect_exit(struct prog_asm *a, const struct prog_conf *c)
{
	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid)); /* r0 = pid_tgid */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -8)); /* key = r0 */
	asm_ld_map_fd(a, BPF_REG_1, c->stash_fd);               /* r1 = &stash */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));      /* r2 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -8));     /* r2 = &key */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));   /* r0 = lookup(r1, r2) */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_OUT);           /* if (!r0) goto out */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));       /* r7 = v */
	asm_emit(a, BPF_LDX_MEM(c->arg_size == 4 ? BPF_W : BPF_DW, BPF_REG_1, BPF_REG_6,
	    c->exit_ret));                                      /* r1 = ctx->ret */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_1,
	    STASHED(ret)));                                     /* v->e.ret = r1 */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));       /* r1 = ctx */
	asm_ld_map_fd(a, BPF_REG_2, c->events_fd);              /* r2 = &events */
	asm_emit(a, BPF_MOV32_IMM(BPF_REG_3, -1));              /* r3 = BPF_F_CURRENT_CPU */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_4, BPF_REG_7));       /* r4 = v */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_5, STASH_VALUE));     /* r5 = sizeof(*v) */
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
 *	                    // the reader's connect: flush, return 0 (frame.c)
 *	task = bpf_get_current_task_btf();          // BTF-typed: plain loads
 *	e.ppid = task->real_parent->tgid;
 *	fdt = task->files->fdt;
 *	if (e.fd < fdt->max_fds) {
 *		file = fdt->fd[e.fd];                   // probe read
 *		if (CAST) {         // bpf_rdonly_cast(): BTF-typed, plain loads
 *			sock = ((struct file *)file)->private_data;
 *			if (((struct socket *)sock)->file == file) {
 *				e.sock_type = sock->type;
 *				e.protocol = sock->sk->sk_protocol;
 *			}
 *		} else {
 *			sock = file->private_data;          // probe read
 *			span = sock->{type .. sk};          // one probe read
 *			if (span.file == file) {
 *				e.sock_type = span.type;
 *				e.protocol = span.sk->sk_protocol;  // probe read
 *			}
 *		}
 *	}
 *	if (CALL != connect && e.sock_type != SOCK_DGRAM)
 *		return 0;
 *	e.ret = ctx->ret;
 *	e.ts = bpf_ktime_get_ns();  // tracing programs may not take the
 *	emit_event(&e);             // coarse clock (not NMI-safe)
 *	return 0;                   // (through the CPU's batch, prog/frame.c)
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
	/* fexit: ctx is an array of u64 arguments, then the return value. */
	const struct args gf = { BPF_REG_6, 0, 8 * (c->syscall == EV_SENDTO ? 4 : 1),
	    8 * (c->syscall == EV_SENDTO ? 5 : 2), 8 };
	const struct args gr = { BPF_REG_9, k->regs_arg[0],
	    k->regs_arg[c->syscall == EV_SENDTO ? 4 : 1],
	    k->regs_arg[c->syscall == EV_SENDTO ? 5 : 2], 8 };
	const struct args *gp = c->fexit ? &gf : &gr;
	int lo, hi, ret_off = c->fexit ? 8 * c->fexit_nargs : c->exit_ret;

	/* The register layouts known (x86-64, arm64) are 64-bit ones. */
	if (!k->valid || (!c->fexit && !k->regs_valid) || c->arg_size == 4 ||
	    (c->fexit && (c->fexit_nargs < 3 || c->fexit_nargs > 6)))
		return -EINVAL;
	lo = MIN(k->socket_type, MIN(k->socket_file, k->socket_sk)) & ~7;
	hi = MAX(k->socket_type + 2, MAX(k->socket_file + 8, k->socket_sk + 8));
	hi = (hi + 7) & ~7;

	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	if (!c->fexit) {
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_0));   /* r1 = task */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_task_pt_regs));  /* r0 = task's pt_regs */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_9, BPF_REG_0));   /* r9 = regs */
	}
	common_fields(a, c, gp, &k->ids);                       /* r8 = fd; ids by loads where known */

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));       /* r7 = task */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_7, k->task_real_parent)); /* r1 = task->real_parent */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_1, k->task_tgid)); /* r1 = r1->tgid */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, E(ppid))); /* e.ppid = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_7, k->task_files)); /* r1 = task->files */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_9, BPF_REG_1, k->files_fdt)); /* r9 = files->fdt */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_9, k->fdt_max_fds)); /* r1 = fdt->max_fds */
	asm_jmp_reg(a, BPF_JGE, BPF_REG_8, BPF_REG_1, L_WALKED); /* if (fd >= max_fds) goto done */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_9, k->fdt_fd)); /* r3 = fdt->fd */
	asm_emit(a, BPF_ALU64_IMM(BPF_LSH, BPF_REG_8, 3));      /* r8 = fd * 8 */
	asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_8)); /* r3 = &fdt->fd[fd] */
	prog_deref(a, BPF_REG_9, BPF_REG_3, 0, L_WALKED);             /* r9 = file */
	if (c->cast) {
		/* The same walk by plain loads from BTF-typed pointers. */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_9, 0, L_WALKED);    /* if (!file) goto done */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_9));   /* r1 = file */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, k->file_btf_id)); /* r2 = BTF id of struct file */
		asm_emit(a, BPF_KFUNC_CALL(k->kf_rdonly_cast));     /* r0 = (struct file *)r1 */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_0,
		    k->file_private_data));                         /* r1 = file->private_data */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_1, 0, L_WALKED);    /* if (!sock) goto done */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, k->socket_btf_id)); /* r2 = BTF id of struct socket */
		asm_emit(a, BPF_KFUNC_CALL(k->kf_rdonly_cast));     /* r0 = (struct socket *)r1 */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_8, BPF_REG_0));   /* r8 = sock */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_8, k->socket_file)); /* r1 = sock->file */
		asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, L_WALKED); /* if (r1 != file) goto done */
		asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_8, k->socket_type)); /* r1 = sock->type */
		asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(sock_type))); /* e.sock_type = r1 */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_8, k->socket_sk)); /* r7 = sock->sk */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_7, 0, L_WALKED);    /* if (!sk) goto done */
		asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_7, k->sock_protocol)); /* r1 = sk->sk_protocol */
		asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(protocol))); /* e.protocol = r1 */
	} else {
		prog_deref(a, BPF_REG_8, BPF_REG_9, k->file_private_data, L_WALKED); /* r8 = sock */
		if (hi - lo <= SPAN_MAX) {
			prog_read_kernel(a, SPAN, hi - lo, BPF_REG_8, lo);       /* r0 = read(span, sock + lo) */
			asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_WALKED);     /* if (r0) goto done */
			asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_10,
			    SPAN + k->socket_file - lo));                   /* r1 = sock->file */
			asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, L_WALKED); /* if (r1 != file) goto done */
			asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10,
			    SPAN + k->socket_type - lo));                   /* r1 = sock->type */
			asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(sock_type))); /* e.sock_type = r1 */
			asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_10,
			    SPAN + k->socket_sk - lo));                     /* r7 = sock->sk */
		} else {
			/* An unusual struct socket: one read per field. */
			prog_deref(a, BPF_REG_1, BPF_REG_8, k->socket_file, L_WALKED); /* r1 = sock->file */
			asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, L_WALKED); /* if (r1 != file) goto done */
			prog_copy_u16(a, E(sock_type), BPF_REG_8, k->socket_type, L_WALKED); /* e.sock_type = sock->type */
			prog_deref(a, BPF_REG_7, BPF_REG_8, k->socket_sk, L_WALKED); /* r7 = sock->sk */
		}
		prog_copy_u16(a, E(protocol), BPF_REG_7, k->sock_protocol, L_WALKED); /* e.protocol = sk->sk_protocol */
	}
	asm_label(a, L_WALKED);
	datagram_filter(a, c);

	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, ret_off)); /* r1 = ctx->ret (fexit: ctx[nargs]) */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, E(ret))); /* e.ret = r1 */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));      /* r0 = ktime */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(ts))); /* e.ts = r0 */
	prog_emit_event(a, c->events_fd, c->batch_fd, c->xchg,
	    sizeof(struct kevent));                             /* hand e over */
	asm_label(a, L_OUT);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));               /* r0 = 0 */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	prog_emit_trigger(a, c->events_fd, c->batch_fd, c->xchg, trigger(c), 0); /* trigger: flush, return 0 */
	return asm_finish(a);
}

/*
 * fexit/__sys_{connect,sendto,sendmsg}: prog_call_exit()'s program with
 * the arguments and the return value taken from the context:
 *
 *	fd = ctx[0]; addr = ctx[1] (sendto: ctx[4]); len = ctx[2] (ctx[5]);
 *	... as prog_call_exit() ...
 *	e.ret = ctx[nargs];
 */
long
prog_fexit(struct prog_asm *a, const struct prog_conf *c)
{
	struct prog_conf f = *c;

	f.fexit = 1;
	return prog_call_exit(a, &f);
}
