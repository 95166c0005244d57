/*
 * One macro per eBPF instruction form, in the vocabulary of the kernel's
 * samples/bpf/bpf_insn.h and tools/include/linux/filter.h.  Jumps are not
 * here: they go through the assembler (prog/asm.h) so that they target
 * labels, never hand-counted offsets.
 */
#ifndef INSN_H
#define INSN_H

#include <linux/bpf.h>

#define INSN(CODE, DST, SRC, OFF, IMM) \
	((struct bpf_insn){ .code = (CODE), .dst_reg = (DST), .src_reg = (SRC), \
	    .off = (OFF), .imm = (IMM) })

/* dst = src */
#define BPF_MOV64_REG(DST, SRC) INSN(BPF_ALU64 | BPF_MOV | BPF_X, DST, SRC, 0, 0)
/* dst = imm */
#define BPF_MOV64_IMM(DST, IMM) INSN(BPF_ALU64 | BPF_MOV | BPF_K, DST, 0, 0, IMM)
/* dst = (u32)imm, upper 32 bits zeroed */
#define BPF_MOV32_IMM(DST, IMM) INSN(BPF_ALU | BPF_MOV | BPF_K, DST, 0, 0, IMM)
/* dst (op)= src */
#define BPF_ALU64_REG(OP, DST, SRC) INSN(BPF_ALU64 | BPF_OP(OP) | BPF_X, DST, SRC, 0, 0)
/* dst (op)= imm */
#define BPF_ALU64_IMM(OP, DST, IMM) INSN(BPF_ALU64 | BPF_OP(OP) | BPF_K, DST, 0, 0, IMM)
/* dst = *(size *)(src + off) */
#define BPF_LDX_MEM(SIZE, DST, SRC, OFF) \
	INSN(BPF_LDX | BPF_SIZE(SIZE) | BPF_MEM, DST, SRC, OFF, 0)
/* *(size *)(dst + off) = src */
#define BPF_STX_MEM(SIZE, DST, SRC, OFF) \
	INSN(BPF_STX | BPF_SIZE(SIZE) | BPF_MEM, DST, SRC, OFF, 0)
/* *(size *)(dst + off) = imm */
#define BPF_ST_MEM(SIZE, DST, OFF, IMM) \
	INSN(BPF_ST | BPF_SIZE(SIZE) | BPF_MEM, DST, 0, OFF, IMM)
/* src = atomic_xchg((size *)(dst + off), src) */
#define BPF_ATOMIC_XCHG(SIZE, DST, SRC, OFF) \
	INSN(BPF_STX | BPF_SIZE(SIZE) | BPF_ATOMIC, DST, SRC, OFF, BPF_XCHG)
/* call helper */
#define BPF_EMIT_CALL(FUNC) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, FUNC)
/* call the kernel function whose BTF id (in vmlinux) is ID */
#define BPF_KFUNC_CALL(ID) INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, ID)
/* return r0 */
#define BPF_EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* dst = map fd, as a 64-bit immediate: two slots, the second all zero. */
#define BPF_LD_MAP_FD_1(DST, FD) \
	INSN(BPF_LD | BPF_DW | BPF_IMM, DST, BPF_PSEUDO_MAP_FD, 0, FD)
#define BPF_LD_IMM64_2() INSN(0, 0, 0, 0, 0)
/* dst = imm64, two slots: the low word in the first, the high word in the
 * second's imm. */
#define BPF_LD_IMM64_1(DST, LO) INSN(BPF_LD | BPF_DW | BPF_IMM, DST, 0, 0, LO)
#define BPF_LD_IMM64_HI(HI) INSN(0, 0, 0, 0, HI)

#endif
