/* The TCP outcome program, hand-assembled.  See outcome.h. */
#include <netinet/in.h>
#include <stddef.h>

#include <linux/bpf.h>

#include "prog/abi.h"
#include "prog/asm.h"
#include "prog/frame.h"
#include "prog/insn.h"
#include "prog/outcome.h"

#define TCP_SYN_SENT 2

enum { L_OUT, L_ERR_DONE };

/*
 * tracepoint/sock/inet_sock_set_state:
 *
 *	if (ctx->protocol != IPPROTO_TCP || ctx->oldstate != TCP_SYN_SENT)
 *		return 0;
 *	struct kevent e;            // its KEV_HEAD bytes: no address
 *	memset(&e, 0, KEV_HEAD);
 *	e.flags = KEV_OUTCOME;
 *	e.sk = ctx->skaddr;
 *	e.count = ctx->newstate;
 *	e.ret = -1;
 *	if (btf)                    // set before the move to CLOSE by
 *		if (bpf_probe_read_kernel(&e.ret, 4, &sk->sk_err)) // tcp_reset(),
 *			e.ret = -1;         // tcp_write_err(), tcp_done_with_error()
 *	e.ts = bpf_ktime_get_ns();
 *	emit_event(&e, KEV_HEAD);   // the connect's CPU batch, prog/frame.c
 *	return 0;
 */
long
prog_tcp_outcome(struct prog_asm *a, const struct prog_outcome_conf *c)
{
	int off;

	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_6, c->protocol)); /* r1 = ctx->protocol */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_1, IPPROTO_TCP, L_OUT); /* if (r1 != TCP) return 0 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, c->oldstate)); /* r1 = ctx->oldstate */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_1, TCP_SYN_SENT, L_OUT); /* if (r1 != SYN_SENT) return 0 */
	for (off = EV; off < EV + KEV_HEAD; off += 8)
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, off, 0)); /* *(u64 *)(fp + off) = 0 */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(flags), KEV_OUTCOME)); /* e.flags = OUTCOME */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_6, c->skaddr)); /* r7 = ctx->skaddr */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_7, E(sk))); /* e.sk = r7 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, c->newstate)); /* r1 = ctx->newstate */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, E(count))); /* e.count = r1 */
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_10, E(ret), -1)); /* e.ret = -1 */
	if (c->sock_err >= 0) {
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));  /* r1 = fp */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, E(ret))); /* r1 = &e.ret */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 4));           /* r2 = 4 */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_3, BPF_REG_7));   /* r3 = sk */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, c->sock_err)); /* r3 = &sk->sk_err */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read(&e.ret, 4, r3) */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_ERR_DONE);  /* if (r0 == 0) goto err_done */
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_10, E(ret), -1)); /* e.ret = -1 (the read zeroed it) */
		asm_label(a, L_ERR_DONE);
	}
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));      /* r0 = ktime */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(ts))); /* e.ts = r0 */
	prog_emit_event(a, c->events_fd, c->batch_fd, c->xchg, KEV_HEAD); /* hand e over, no address */
	asm_label(a, L_OUT);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));               /* r0 = 0 */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
	return asm_finish(a);
}
