/* Emitters shared by the programs that use the frame of prog/frame.h. */
#include <linux/bpf.h>

#include "prog/asm.h"
#include "prog/frame.h"
#include "prog/insn.h"

/* r0 = bpf_probe_read_kernel(fp + dst, size, src + off); clobbers r1-r5. */
void
prog_read_kernel(struct prog_asm *a, int dst, int size, int src, int off)
{
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, src));             /* r3 = src */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, off));    /* r3 += off */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, dst));    /* r1 += dst */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, size));            /* r2 = size */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read() */
}

/* scratch = *(u64 *)(src + off); on failure goto fail.  Leaves the value
 * in dst. */
void
prog_deref(struct prog_asm *a, int dst, int src, int off, int fail)
{
	prog_read_kernel(a, SCR, 8, src, off);                  /* r0 = read(&scr, 8, src + off) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, fail);            /* if (r0) goto fail */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, dst, BPF_REG_10, SCR)); /* dst = scr */
}

/* *(u16 *)(fp + dst) = *(u16 *)(src + off), untouched on failure. */
void
prog_copy_u16(struct prog_asm *a, int dst, int src, int off, int fail)
{
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, SCR, 0));    /* scr = 0 */
	prog_read_kernel(a, SCR, 2, src, off);                       /* r0 = read(&scr, 2, src + off) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, fail);            /* if (r0) goto fail */
	asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10, SCR)); /* r1 = (u16)scr */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, dst)); /* *(u16 *)(fp + dst) = r1 */
}
