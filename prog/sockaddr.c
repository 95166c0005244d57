/*
 * The cgroup socket-address programs, hand-assembled, with their pseudo-C
 * above and a comment on every instruction.  The frame is prog/frame.h's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include <linux/bpf.h>

#include "prog/abi.h"
#include "prog/asm.h"
#include "prog/frame.h"
#include "prog/insn.h"
#include "prog/sockaddr.h"

enum { L_LEN_OK, L_LEN_OK2, L_ADDR_DONE, L_PPID_DONE, L_NOT_READER };

#define CTX(field) ((int)offsetof(struct bpf_sock_addr, field))
/* The record's fields, through r9 (prog_emit_slot()). */
#define R(field) ((int)offsetof(struct kevent, field))
#define SIN6_ADDR_OFF 8

/* The record of each kind of hook: a whole sockaddr_in, sockaddr_in6 or
 * sockaddr_un (with its terminating NUL) fits. */
static int
record_size(int hook)
{
	switch (hook) {
	case HOOK_CONNECT4:
	case HOOK_SENDMSG4:
		return KEV_SIZE(16);
	case HOOK_CONNECT6:
	case HOOK_SENDMSG6:
		return KEV_SIZE(28);
	default:
		return (int)sizeof(struct kevent);
	}
}

/*
 * inet: the address as a struct sockaddr_in / sockaddr_in6 in rec->addr,
 * from the context.  Every field is a u32 in the context; the port and
 * the addresses are in network order in memory, so storing the loaded
 * value with the field's width keeps the bytes as the caller passed them.
 * Every byte of the record's address room is stored: the batch holds an
 * older record's bytes.
 *
 *	rec->addr.sa_family = ctx->user_family;
 *	rec->addr.sin_port = ctx->user_port;
 *	v4: rec->addr.sin_addr = ctx->user_ip4;
 *	    rec->addr.sin_zero = 0;                 rec->addrlen = 16;
 *	v6: rec->addr.sin6_flowinfo = 0;            // not in the context
 *	    rec->addr.sin6_addr = ctx->user_ip6[0..3];
 *	    rec->addr.sin6_scope_id = 0 (and the pad); rec->addrlen = 28;
 */
static void
inet_address(struct prog_asm *a, int v6)
{
	int i;

	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_family))); /* r1 = ctx->user_family */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_9, BPF_REG_1, R(addr))); /* rec->addr.sa_family = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_port))); /* r1 = ctx->user_port */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_9, BPF_REG_1, R(addr) + 2)); /* rec->addr.sin_port = r1 */
	if (!v6) {
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_ip4))); /* r1 = ctx->user_ip4 */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_9, BPF_REG_1, R(addr) + 4)); /* rec->addr.sin_addr = r1 */
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_9, R(addr) + 8, 0)); /* rec->addr.sin_zero = 0 */
		asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(addrlen), 16)); /* rec->addrlen = 16 */
		return;
	}
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_9, R(addr) + 4, 0)); /* rec->addr.sin6_flowinfo = 0 */
	for (i = 0; i < 4; i++) {
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6,
		    CTX(user_ip6) + 4 * i));                        /* r1 = ctx->user_ip6[i] */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_9, BPF_REG_1,
		    R(addr) + SIN6_ADDR_OFF + 4 * i));              /* rec->addr.sin6_addr[i] = r1 */
	}
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_9, R(addr) + 24, 0)); /* rec->addr.sin6_scope_id = 0, pad */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(addrlen), 28)); /* rec->addrlen = 28 */
}

/*
 * unix: the context has no field for sun_path, but it points to the
 * kernel's struct bpf_sock_addr_kern, whose uaddr is the kernel's copy of
 * the caller's sockaddr.  As root the program may hand the ctx pointer to
 * bpf_probe_read_kernel().  Bytes past addrlen stay as they were.
 *
 *	struct bpf_sock_addr_kern *kern = (void *)ctx;
 *	u32 len;
 *	rec->addrlen = 0;
 *	if (CAST) {                 // bpf_rdonly_cast(ctx): BTF-typed loads
 *		len = min(kern->uaddrlen, 112);
 *		rec->addrlen = len;
 *		if (bpf_probe_read_kernel(rec->addr, len, kern->uaddr))
 *			rec->addrlen = 0;
 *		return;
 *	}
 *	if (bpf_probe_read_kernel(&len, 4, &kern->uaddrlen)) goto done;
 *	if (len > 112) len = 112;
 *	rec->addrlen = len;
 *	if (bpf_probe_read_kernel(&uaddr, 8, &kern->uaddr)) goto none;
 *	if (bpf_probe_read_kernel(rec->addr, rec->addrlen, uaddr))
 *		none: rec->addrlen = 0;
 *	done:
 */
static void
unix_address(struct prog_asm *a, const struct prog_kern *k, int cast)
{
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(addrlen), 0)); /* rec->addrlen = 0 */
	if (cast) {
		/* The same through a BTF-typed pointer: two loads. */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));   /* r1 = ctx */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, k->sak_btf_id)); /* r2 = BTF id of bpf_sock_addr_kern */
		asm_emit(a, BPF_KFUNC_CALL(k->kf_rdonly_cast));     /* r0 = (struct bpf_sock_addr_kern *)ctx */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_0, k->sak_uaddr)); /* r3 = kern->uaddr */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_0, k->sak_uaddrlen)); /* r2 = kern->uaddrlen */
		asm_jmp_imm(a, BPF_JLE, BPF_REG_2, EV_ADDR_MAX, L_LEN_OK); /* if (r2 <= 112) goto len_ok */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_ADDR_MAX)); /* r2 = 112 */
		asm_label(a, L_LEN_OK);
		asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_9, BPF_REG_2, R(addrlen))); /* rec->addrlen = r2 */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_9));   /* r1 = rec */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, R(addr))); /* r1 = rec->addr */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read(rec->addr, r2, uaddr) */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_ADDR_DONE); /* if (r0 == 0) goto done */
		asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(addrlen), 0)); /* rec->addrlen = 0 */
		asm_label(a, L_ADDR_DONE);
		return;
	}
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, SCR, 0));    /* scr = 0 */
	prog_read_kernel(a, SCR, 4, BPF_REG_6, k->sak_uaddrlen); /* r0 = read(&scr, 4, &kern->uaddrlen) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_ADDR_DONE);     /* if (r0) goto done */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_10, SCR)); /* r2 = len */
	asm_jmp_imm(a, BPF_JLE, BPF_REG_2, EV_ADDR_MAX, L_LEN_OK); /* if (r2 <= 112) goto len_ok */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_ADDR_MAX));     /* r2 = 112 */
	asm_label(a, L_LEN_OK);
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_9, BPF_REG_2, R(addrlen))); /* rec->addrlen = r2 */
	prog_deref(a, BPF_REG_8, BPF_REG_6, k->sak_uaddr, L_ADDR_DONE); /* r8 = kern->uaddr */
	asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_2, BPF_REG_9, R(addrlen))); /* r2 = rec->addrlen */
	asm_jmp_imm(a, BPF_JLE, BPF_REG_2, EV_ADDR_MAX, L_LEN_OK2); /* if (r2 <= 112) goto ok2 (for the verifier) */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_ADDR_MAX));     /* r2 = 112 */
	asm_label(a, L_LEN_OK2);
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_9));       /* r1 = rec */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, R(addr))); /* r1 = rec->addr */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, BPF_REG_8));       /* r3 = uaddr */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read(rec->addr, r2, uaddr) */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_ADDR_DONE);     /* if (r0 == 0) goto done */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(addrlen), 0)); /* rec->addrlen = 0 */
	asm_label(a, L_ADDR_DONE);
}

/*
 * With BTF, the task's fields by plain loads from the BTF-typed task
 * (the verifier turns them into guarded loads), cheaper than the helpers
 * that read the same fields:
 *
 *	struct task_struct *task = bpf_get_current_task_btf();
 *	if (IDS)                    // prog_kern.ids.valid
 *		prog_emit_ids(rec, task);   // uid, gid, comm, cgroup id
 *	rec->ppid = task->real_parent->tgid;
 */
static void
task_fields(struct prog_asm *a, const struct prog_kern *k)
{
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_8, BPF_REG_0));       /* r8 = task */
	if (k->ids.valid)
		prog_emit_ids(a, &k->ids, BPF_REG_8, BPF_REG_9, 0); /* uid, gid, comm, cgroup id */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_8, k->task_real_parent)); /* r1 = task->real_parent */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_1, k->task_tgid)); /* r1 = r1->tgid */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_9, BPF_REG_1, R(ppid))); /* rec->ppid = r1 */
}

/*
 * The reader's flush connect, told by its socket (connect4 only): the
 * destination first, two loads from the context that every other
 * connect pays, then the socket's cookie, a helper call that only
 * connects to that one address pay.  No pid is involved, so a PID
 * namespace (a container) changes nothing.
 *
 *	if (ctx->user_port == KTRIGGER_PORT && ctx->user_ip4 == loopback &&
 *	    bpf_get_socket_cookie(ctx) == COOKIE)
 *		goto trigger;               // prog_emit_trigger()
 */
static void
reader_socket(struct prog_asm *a, uint64_t cookie)
{
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_port))); /* r1 = ctx->user_port */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_1, htons(KTRIGGER_PORT), L_NOT_READER); /* if (r1 != port) goto not_reader */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_ip4))); /* r1 = ctx->user_ip4 */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_1, (int32_t)htonl(INADDR_LOOPBACK),
	    L_NOT_READER);                                      /* if (r1 != 127.0.0.1) goto not_reader */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));       /* r1 = ctx */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_socket_cookie)); /* r0 = the socket's cookie */
	asm_ld_imm64(a, BPF_REG_1, cookie);                     /* r1 = COOKIE */
	asm_jmp_reg(a, BPF_JEQ, BPF_REG_0, BPF_REG_1, L_FRAME_TRIGGER); /* if (r0 == r1) goto trigger */
	asm_label(a, L_NOT_READER);
}

/*
 * cgroup/{connect4,connect6,sendmsg4,sendmsg6,connect_unix,sendmsg_unix},
 * the record written in place, in this CPU's batch (prog/frame.c):
 *
 *	if (HOOK == connect4 && COOKIE)
 *		reader_socket();            // the flush: goto trigger
 *	u64 id = bpf_get_current_pid_tgid();
 *	if (HOOK == connect4 && !COOKIE && TRIGGER && id == TRIGGER)
 *		goto trigger;               // flush, return 1: prog/frame.c
 *	struct kevent *rec = slot();    // the batch's next record, or &e
 *	rec->tid = id; rec->pid = id >> 32;
 *	if (btf)
 *		task_fields(rec);           // ids and ppid by plain loads
 *	if (!btf || !IDS) {
 *		u64 ug = bpf_get_current_uid_gid();
 *		rec->uid = ug; rec->gid = ug >> 32;
 *		bpf_get_current_comm(rec->comm, 16);
 *		rec->cgroup_id = bpf_get_current_cgroup_id();
 *	}
 *	rec->count = 1;
 *	rec->syscall = HOOK is a connect ? connect : EV_SEND; // sendto or
 *	                                // sendmsg: the hook cannot tell
 *	rec->flags = KEV_RET_UNKNOWN;   // runs before the call's work
 *	rec->size = SIZE; rec->pad1 = 0;
 *	rec->ret = 0;
 *	rec->fd = -1;                   // not in the context
 *	rec->sock_type = ctx->type; rec->protocol = ctx->protocol;
 *	rec->sk = (u64)ctx->sk;         // matches TCP outcomes
 *	rec->addr, rec->addrlen = inet_address(ctx) or unix_address(ctx);
 *	if (!btf) {                     // probe reads where the task is
 *		rec->ppid = 0;              // not BTF-typed
 *		if (offsets known)
 *			bpf_probe_read_kernel(&rec->ppid, 4,
 *			    &bpf_get_current_task()->real_parent->tgid);
 *	}
 *	rec->ts = COARSE ? bpf_ktime_get_coarse_ns() : bpf_ktime_get_ns();
 *	commit(rec, SIZE);              // count it in, or send it alone
 *	return 1;                       // allow, always
 */
long
prog_sock_addr(struct prog_asm *a, const struct prog_sa_conf *c)
{
	const struct prog_kern *k = &c->k;
	int unix_hook = c->hook == HOOK_CONNECT_UNIX || c->hook == HOOK_SENDMSG_UNIX;
	int connect = c->hook == HOOK_CONNECT4 || c->hook == HOOK_CONNECT6 ||
	    c->hook == HOOK_CONNECT_UNIX;
	int size, plain;

	/* The reader's flush connect is an IPv4 one, told by its socket's
	 * cookie where the kernel gives it, else by its pid_tgid. */
	uint64_t trigger = c->hook == HOOK_CONNECT4 ? c->trigger : 0;
	uint64_t cookie = trigger ? c->trigger_cookie : 0;

	if (c->hook < 0 || c->hook >= HOOK_N || (unix_hook && !k->sak_valid))
		return -EINVAL;
	size = record_size(c->hook);
	plain = k->valid && c->task_btf;
	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	if (cookie)
		reader_socket(a, cookie);                           /* the reader's flush? goto trigger */
	prog_emit_pid_tgid(a, cookie ? 0 : trigger);            /* r0 = id; the reader's? */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_8, BPF_REG_0));       /* r8 = id */
	prog_emit_slot(a, c->events_fd, c->batch_fd, c->xchg); /* r9 = rec, r7 = b or NULL */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_9, BPF_REG_8, R(tid))); /* rec->tid = r8 */
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_8, 32));     /* r8 >>= 32 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_9, BPF_REG_8, R(pid))); /* rec->pid = r8 */
	if (plain)
		task_fields(a, k);                                  /* r8 = task; ids, ppid */
	if (!plain || !k->ids.valid)
		prog_emit_ids(a, NULL, 0, BPF_REG_9, 0);            /* uid, gid, comm, cgroup id: helpers */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_9, R(count), 1)); /* rec->count = 1 */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(syscall),
	    connect ? EV_CONNECT : EV_SEND));                   /* rec->syscall = connect, or a send of unknown call */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(flags), KEV_RET_UNKNOWN)); /* rec->flags = RET_UNKNOWN */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_9, R(size), size)); /* rec->size = SIZE */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_9, R(pad1), 0));  /* rec->pad1 = 0 */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_9, R(ret), 0));   /* rec->ret = 0 */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_9, R(fd), -1));   /* rec->fd = -1 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(type))); /* r1 = ctx->type */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_9, BPF_REG_1, R(sock_type))); /* rec->sock_type = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(protocol))); /* r1 = ctx->protocol */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_9, BPF_REG_1, R(protocol))); /* rec->protocol = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, CTX(sk))); /* r1 = ctx->sk */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_9, BPF_REG_1, R(sk))); /* rec->sk = r1 */

	if (unix_hook)
		unix_address(a, k, c->cast && k->cast_valid && k->sak_btf_id > 0);
	else
		inet_address(a, c->hook == HOOK_CONNECT6 || c->hook == HOOK_SENDMSG6);

	if (!plain) {
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_9, R(ppid), 0)); /* rec->ppid = 0 */
		if (k->valid) {
			asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task)); /* r0 = task */
			asm_emit(a, BPF_MOV64_REG(BPF_REG_8, BPF_REG_0)); /* r8 = task */
			prog_deref(a, BPF_REG_3, BPF_REG_8, k->task_real_parent, L_PPID_DONE); /* r3 = task->real_parent */
			asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, k->task_tgid)); /* r3 = &r3->tgid */
			asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_9)); /* r1 = rec */
			asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, R(ppid))); /* r1 = &rec->ppid */
			asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 4));       /* r2 = 4 */
			asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read(&rec->ppid, 4, r3): 0 on failure */
			asm_label(a, L_PPID_DONE);
		}
	}

	asm_emit(a, BPF_EMIT_CALL(c->coarse_time ? BPF_FUNC_ktime_get_coarse_ns :
	    BPF_FUNC_ktime_get_ns));                            /* r0 = ktime, coarse or not */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_9, BPF_REG_0, R(ts))); /* rec->ts = r0 */
	prog_emit_commit(a, c->events_fd, c->batch_fd, -1, size);   /* count it in, or send it */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 1));               /* r0 = 1: allow */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	prog_emit_trigger(a, c->events_fd, c->batch_fd, c->xchg, trigger, 1); /* trigger: flush, allow */
	return asm_finish(a);
}
