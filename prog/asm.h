/*
 * A small eBPF assembler in the manner of ply: instructions are appended,
 * jumps name a label, and offsets are resolved only once the whole program
 * is emitted.  Errors are sticky: emit freely, check asm_finish().
 */
#ifndef ASM_H
#define ASM_H

#include <stddef.h>
#include <stdint.h>

struct bpf_insn;

#define ASM_MAX_INSNS 4096
#define ASM_MAX_LABELS 96
#define ASM_MAX_FIXUPS 256

struct prog_asm {
	struct bpf_insn *insn;          /* ASM_MAX_INSNS slots */
	size_t n;                       /* slots used */
	int err;                        /* first error, -errno */
	long label[ASM_MAX_LABELS];     /* slot of each label, -1 undefined */
	struct {
		size_t at;              /* slot of the jump */
		int label;
	} fixup[ASM_MAX_FIXUPS];
	size_t nfixup;
	uint8_t wide[ASM_MAX_INSNS];    /* 1 on the first slot of a 64-bit load */
};

/* Returns 0 or -ENOMEM.  Free with asm_free(). */
int asm_init(struct prog_asm *a);
void asm_free(struct prog_asm *a);

/* Append one instruction. */
void asm_emit(struct prog_asm *a, struct bpf_insn insn);
/* Append dst = map fd (two slots). */
void asm_ld_map_fd(struct prog_asm *a, int dst, int fd);
/* Append dst = v, a 64-bit immediate (two slots). */
void asm_ld_imm64(struct prog_asm *a, int dst, uint64_t v);
/* Append a conditional jump: if (dst op imm) goto label. op is BPF_JEQ, ... */
void asm_jmp_imm(struct prog_asm *a, int op, int dst, int32_t imm, int label);
/* Append a conditional jump on registers: if (dst op src) goto label. */
void asm_jmp_reg(struct prog_asm *a, int op, int dst, int src, int label);
/* Append goto label. */
void asm_ja(struct prog_asm *a, int label);
/* Place label at the next instruction. */
void asm_label(struct prog_asm *a, int label);

/*
 * Resolve all jumps.  Returns the instruction count, or -EINVAL if a label
 * is undefined or defined twice, a jump leaves the program or lands in the
 * second slot of a 64-bit load; -E2BIG if the program is too long.
 */
long asm_finish(struct prog_asm *a);

/* Print a numbered listing of insn[0..n) to f (a FILE *): helpers by
 * name ("call bpf_get_current_pid_tgid"), each jump target under a label
 * of its own ("L2:"), jumps to it as "goto L2 (14)". */
void asm_dump(const struct bpf_insn *insn, size_t n, void *f);

#endif
