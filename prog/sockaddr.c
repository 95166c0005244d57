/*
 * The cgroup socket-address programs, hand-assembled, with their pseudo-C
 * above and a comment on every instruction.  The frame is prog/frame.h's.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include <linux/bpf.h>

#include "prog/asm.h"
#include "prog/frame.h"
#include "prog/insn.h"
#include "prog/sockaddr.h"
#include "util/event.h"

enum { L_LEN_OK, L_LEN_OK2, L_ADDR_DONE, L_PPID_DONE };

#define CTX(field) ((int)offsetof(struct bpf_sock_addr, field))
#define SIN6_ADDR_OFF 8

/*
 * inet: the address as a struct sockaddr_in / sockaddr_in6 in e.addr, from
 * the context.  Every field is a u32 in the context; the port and the
 * addresses are in network order in memory, so storing the loaded value
 * with the field's width keeps the bytes as the caller passed them.
 *
 *	e.addr.sa_family = ctx->user_family;
 *	e.addr.sin_port = ctx->user_port;
 *	v4: e.addr.sin_addr = ctx->user_ip4;        e.addrlen = 16;
 *	v6: e.addr.sin6_addr = ctx->user_ip6[0..3]; e.addrlen = 28;
 */
static void
inet_address(struct prog_asm *a, int v6)
{
	int i;

	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_family))); /* r1 = ctx->user_family */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(addr))); /* e.addr.sa_family = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_port))); /* r1 = ctx->user_port */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(addr) + 2)); /* e.addr.sin_port = r1 */
	if (!v6) {
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(user_ip4))); /* r1 = ctx->user_ip4 */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, E(addr) + 4)); /* e.addr.sin_addr = r1 */
		asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(addrlen), 16)); /* e.addrlen = 16 */
		return;
	}
	for (i = 0; i < 4; i++) {
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6,
		    CTX(user_ip6) + 4 * i));                        /* r1 = ctx->user_ip6[i] */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1,
		    E(addr) + SIN6_ADDR_OFF + 4 * i));              /* e.addr.sin6_addr[i] = r1 */
	}
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(addrlen), 28)); /* e.addrlen = 28 */
}

/*
 * unix: the context has no field for sun_path, but it points to the
 * kernel's struct bpf_sock_addr_kern, whose uaddr is the kernel's copy of
 * the caller's sockaddr.  As root the program may hand the ctx pointer to
 * bpf_probe_read_kernel().
 *
 *	struct bpf_sock_addr_kern *kern = (void *)ctx;
 *	u32 len;
 *	if (bpf_probe_read_kernel(&len, 4, &kern->uaddrlen)) goto done;
 *	if (len > 112) len = 112;
 *	e.addrlen = len;
 *	if (bpf_probe_read_kernel(&uaddr, 8, &kern->uaddr)) goto none;
 *	if (bpf_probe_read_kernel(e.addr, e.addrlen, uaddr)) none: e.addrlen = 0;
 *	done:
 */
static void
unix_address(struct prog_asm *a, const struct prog_kern *k)
{
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, SCR, 0));    /* scr = 0 */
	prog_read_kernel(a, SCR, 4, BPF_REG_6, k->sak_uaddrlen); /* r0 = read(&scr, 4, &kern->uaddrlen) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, L_ADDR_DONE);     /* if (r0) goto done */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_10, SCR)); /* r2 = len */
	asm_jmp_imm(a, BPF_JLE, BPF_REG_2, EV_ADDR_MAX, L_LEN_OK); /* if (r2 <= 112) goto len_ok */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_ADDR_MAX));     /* r2 = 112 */
	asm_label(a, L_LEN_OK);
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_2, E(addrlen))); /* e.addrlen = r2 */
	prog_deref(a, BPF_REG_7, BPF_REG_6, k->sak_uaddr, L_ADDR_DONE); /* r7 = kern->uaddr */
	asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_2, BPF_REG_10, E(addrlen))); /* r2 = e.addrlen */
	asm_jmp_imm(a, BPF_JLE, BPF_REG_2, EV_ADDR_MAX, L_LEN_OK2); /* if (r2 <= 112) goto ok2 (for the verifier) */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_ADDR_MAX));     /* r2 = 112 */
	asm_label(a, L_LEN_OK2);
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, E(addr))); /* r1 += &e.addr */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, BPF_REG_7));       /* r3 = uaddr */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read(e.addr, r2, uaddr) */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_ADDR_DONE);     /* if (r0 == 0) goto done */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(addrlen), 0)); /* e.addrlen = 0 */
	asm_label(a, L_ADDR_DONE);
}

/*
 * cgroup/{connect4,connect6,sendmsg4,sendmsg6,connect_unix,sendmsg_unix}:
 *
 *	u64 id = bpf_get_current_pid_tgid();
 *	if (HOOK == connect4 && TRIGGER && id == TRIGGER)
 *		goto trigger;               // flush, return 1: prog/frame.c
 *	struct kevent e = {0};
 *	e.tid = id; e.pid = id >> 32;
 *	u64 ug = bpf_get_current_uid_gid();
 *	e.uid = ug; e.gid = ug >> 32;
 *	bpf_get_current_comm(e.comm, 16);
 *	e.cgroup_id = bpf_get_current_cgroup_id();
 *	e.count = 1;
 *	e.syscall = HOOK is a connect ? connect : sendmsg;
 *	e.flags = KEV_RET_UNKNOWN;                  // runs before the call's work
 *	e.fd = -1;                                  // not in the context
 *	e.sock_type = ctx->type; e.protocol = ctx->protocol;
 *	e.sk = (u64)ctx->sk;                        // matches TCP outcomes
 *	e.addr, e.addrlen = inet_address(ctx) or unix_address(ctx);
 *	if (btf) {
 *		task = bpf_get_current_task_btf();      // where allowed: plain
 *		e.ppid = task->real_parent->tgid;       // loads, else probe reads
 *	}
 *	e.ts = bpf_ktime_get_ns();
 *	emit_event(&e);             // through the CPU's batch, prog/frame.c
 *	return 1;                                   // allow, always
 */
long
prog_sock_addr(struct prog_asm *a, const struct prog_sa_conf *c)
{
	const struct prog_kern *k = &c->k;
	int unix_hook = c->hook == HOOK_CONNECT_UNIX || c->hook == HOOK_SENDMSG_UNIX;
	int connect = c->hook == HOOK_CONNECT4 || c->hook == HOOK_CONNECT6 ||
	    c->hook == HOOK_CONNECT_UNIX;

	/* The reader's flush connect is an IPv4 one. */
	uint64_t trigger = c->hook == HOOK_CONNECT4 ? c->trigger : 0;

	if (c->hook < 0 || c->hook >= HOOK_N || (unix_hook && !k->sak_valid))
		return -EINVAL;
	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	prog_emit_task_ids(a, trigger);                         /* the reader's? e = {0}, ids, comm, cgroup */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_10, E(count), 1)); /* e.count = 1 */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(syscall),
	    connect ? EV_CONNECT : EV_SENDMSG));                /* e.syscall = connect or sendmsg */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(flags), KEV_RET_UNKNOWN)); /* e.flags = RET_UNKNOWN */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_10, E(fd), -1));  /* e.fd = -1 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(type))); /* r1 = ctx->type */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(sock_type))); /* e.sock_type = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX(protocol))); /* r1 = ctx->protocol */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, E(protocol))); /* e.protocol = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6, CTX(sk))); /* r1 = ctx->sk */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, E(sk))); /* e.sk = r1 */

	if (unix_hook)
		unix_address(a, k);
	else
		inet_address(a, c->hook == HOOK_CONNECT6 || c->hook == HOOK_SENDMSG6);

	if (k->valid && c->task_btf) {
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_0, k->task_real_parent)); /* r1 = task->real_parent */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_1, k->task_tgid)); /* r1 = r1->tgid */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, E(ppid))); /* e.ppid = r1 */
	} else if (k->valid) {
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task)); /* r0 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));   /* r7 = task */
		prog_deref(a, BPF_REG_3, BPF_REG_7, k->task_real_parent, L_PPID_DONE); /* r3 = task->real_parent */
		prog_read_kernel(a, E(ppid), 4, BPF_REG_3, k->task_tgid); /* e.ppid = r3->tgid */
		asm_label(a, L_PPID_DONE);
	}

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));      /* r0 = ktime */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(ts))); /* e.ts = r0 */
	prog_emit_event(a, c->events_fd, c->batch_fd);          /* hand e over */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 1));               /* r0 = 1: allow */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	prog_emit_trigger(a, c->events_fd, c->batch_fd, trigger, 1); /* trigger: flush, allow */
	return asm_finish(a);
}
