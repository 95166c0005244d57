/* The eBPF assembler: labelled jumps resolved after emission. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "prog/asm.h"
#include "prog/insn.h"

int
asm_init(struct prog_asm *a)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->insn = calloc(ASM_MAX_INSNS, sizeof(*a->insn));
	if (a->insn == NULL)
		return -ENOMEM;
	for (i = 0; i < ASM_MAX_LABELS; i++)
		a->label[i] = -1;
	return 0;
}

void
asm_free(struct prog_asm *a)
{
	free(a->insn);
	a->insn = NULL;
}

static void
seterr(struct prog_asm *a, int err)
{
	if (a->err == 0)
		a->err = err;
}

void
asm_emit(struct prog_asm *a, struct bpf_insn insn)
{
	if (a->n >= ASM_MAX_INSNS) {
		seterr(a, -E2BIG);
		return;
	}
	/* Mark 64-bit loads by their opcode, however they were emitted, so
	 * that asm_finish() rejects a jump into their second slot. */
	a->wide[a->n] = insn.code == (BPF_LD | BPF_DW | BPF_IMM);
	a->insn[a->n++] = insn;
}

void
asm_ld_map_fd(struct prog_asm *a, int dst, int fd)
{
	if (a->n + 2 > ASM_MAX_INSNS) {
		seterr(a, -E2BIG);
		return;
	}
	asm_emit(a, BPF_LD_MAP_FD_1(dst, fd));
	asm_emit(a, BPF_LD_IMM64_2());
}

void
asm_ld_imm64(struct prog_asm *a, int dst, uint64_t v)
{
	if (a->n + 2 > ASM_MAX_INSNS) {
		seterr(a, -E2BIG);
		return;
	}
	asm_emit(a, BPF_LD_IMM64_1(dst, (int32_t)(uint32_t)v));
	asm_emit(a, BPF_LD_IMM64_HI((int32_t)(uint32_t)(v >> 32)));
}

static void
jump(struct prog_asm *a, struct bpf_insn insn, int label)
{
	if (label < 0 || label >= ASM_MAX_LABELS) {
		seterr(a, -EINVAL);
		return;
	}
	if (a->nfixup >= ASM_MAX_FIXUPS) {
		seterr(a, -E2BIG);
		return;
	}
	if (a->n >= ASM_MAX_INSNS) {
		seterr(a, -E2BIG);
		return;
	}
	a->fixup[a->nfixup].at = a->n;
	a->fixup[a->nfixup].label = label;
	a->nfixup++;
	asm_emit(a, insn);
}

void
asm_jmp_imm(struct prog_asm *a, int op, int dst, int32_t imm, int label)
{
	jump(a, INSN(BPF_JMP | BPF_OP(op) | BPF_K, dst, 0, 0, imm), label);
}

void
asm_jmp_reg(struct prog_asm *a, int op, int dst, int src, int label)
{
	jump(a, INSN(BPF_JMP | BPF_OP(op) | BPF_X, dst, src, 0, 0), label);
}

void
asm_ja(struct prog_asm *a, int label)
{
	jump(a, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0), label);
}

void
asm_label(struct prog_asm *a, int label)
{
	if (label < 0 || label >= ASM_MAX_LABELS || a->label[label] >= 0) {
		seterr(a, -EINVAL);
		return;
	}
	a->label[label] = (long)a->n;
}

long
asm_finish(struct prog_asm *a)
{
	size_t i;

	if (a->err)
		return a->err;
	for (i = 0; i < a->nfixup; i++) {
		long target = a->label[a->fixup[i].label];
		long off;

		/* A label placed after the last instruction is out of bounds. */
		if (target < 0 || (size_t)target >= a->n)
			return a->err = -EINVAL;
		/* Landing in the second half of a 64-bit load is invalid. */
		if (target > 0 && a->wide[target - 1])
			return a->err = -EINVAL;
		off = target - (long)a->fixup[i].at - 1;
		if (off < INT16_MIN || off > INT16_MAX)
			return a->err = -E2BIG;
		a->insn[a->fixup[i].at].off = (int16_t)off;
	}
	return (long)a->n;
}

static const char *
opname(unsigned op)
{
	static const char *alu[16] = { "+=", "-=", "*=", "/=", "|=", "&=",
	    "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "end", "?", "?" };
	static const char *jmp[16] = { "ja", "==", ">", ">=", "&", "!=",
	    "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "?", "?" };

	return (op & 0x100) ? jmp[(op & 0xff) >> 4] : alu[op >> 4];
}

/* The kernel's helper names by number, from its own table. */
#define HELPER_NAME(x) "bpf_" #x
static const char *const helpers[] = { __BPF_FUNC_MAPPER(HELPER_NAME) };
#undef HELPER_NAME

/* The target of the jump at i, or -1 when insn[i] is no jump. */
static long
jump_target(const struct bpf_insn *insn, size_t i)
{
	unsigned cls = BPF_CLASS(insn[i].code), op = BPF_OP(insn[i].code);

	if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL ||
	    op == BPF_EXIT)
		return -1;
	return (long)i + 1 + insn[i].off;
}

/*
 * Label k (from 1) of the k-th jump target in program order, so that the
 * listing reads like the source: "L2:" above the target, "goto L2 (14)"
 * at the jump.  0 when no jump lands on t.
 */
static unsigned
label_of(const struct bpf_insn *insn, size_t n, long t)
{
	unsigned k = 0;
	size_t i, j;

	for (i = 0; i < n && (long)i <= t; i++) {
		for (j = 0; j < n; j++)
			if (jump_target(insn, j) == (long)i)
				break;
		if (j < n) {
			k++;
			if ((long)i == t)
				return k;
		}
	}
	return 0;
}

static void
print_target(FILE *f, const struct bpf_insn *insn, size_t n, long t)
{
	unsigned k = label_of(insn, n, t);

	if (k)
		fprintf(f, "L%u (%ld)\n", k, t);
	else
		fprintf(f, "%ld\n", t); /* outside the program: the bug shown */
}

void
asm_dump(const struct bpf_insn *insn, size_t n, void *fp)
{
	static const char *sz[4] = { "u32", "u16", "u8", "u64" };
	FILE *f = fp;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct bpf_insn *p = &insn[i];
		unsigned cls = BPF_CLASS(p->code), k;

		if ((k = label_of(insn, n, (long)i)) != 0)
			fprintf(f, "L%u:\n", k);
		fprintf(f, "%4zu: ", i);
		switch (cls) {
		case BPF_ALU64:
		case BPF_ALU:
			if (BPF_SRC(p->code) == BPF_X)
				fprintf(f, "r%u %s r%u\n", p->dst_reg,
				    opname(BPF_OP(p->code)), p->src_reg);
			else
				fprintf(f, "r%u %s %d\n", p->dst_reg,
				    opname(BPF_OP(p->code)), p->imm);
			break;
		case BPF_LDX:
			fprintf(f, "r%u = *(%s *)(r%u %+d)\n", p->dst_reg,
			    sz[BPF_SIZE(p->code) >> 3], p->src_reg, p->off);
			break;
		case BPF_STX:
			if (BPF_MODE(p->code) == BPF_ATOMIC && p->imm == BPF_XCHG)
				fprintf(f, "r%u = xchg((%s *)(r%u %+d), r%u)\n",
				    p->src_reg, sz[BPF_SIZE(p->code) >> 3],
				    p->dst_reg, p->off, p->src_reg);
			else if (BPF_MODE(p->code) == BPF_ATOMIC)
				fprintf(f, "atomic 0x%x (%s *)(r%u %+d), r%u\n",
				    (unsigned)p->imm, sz[BPF_SIZE(p->code) >> 3],
				    p->dst_reg, p->off, p->src_reg);
			else
				fprintf(f, "*(%s *)(r%u %+d) = r%u\n",
				    sz[BPF_SIZE(p->code) >> 3], p->dst_reg, p->off,
				    p->src_reg);
			break;
		case BPF_ST:
			fprintf(f, "*(%s *)(r%u %+d) = %d\n",
			    sz[BPF_SIZE(p->code) >> 3], p->dst_reg, p->off, p->imm);
			break;
		case BPF_LD:
			if (p->src_reg != BPF_PSEUDO_MAP_FD && i + 1 < n)
				fprintf(f, "r%u = imm 0x%llx ll\n", p->dst_reg,
				    (unsigned long long)(uint32_t)p->imm |
				    (unsigned long long)(uint32_t)p[1].imm << 32);
			else
				fprintf(f, "r%u = %s %d ll\n", p->dst_reg,
				    p->src_reg == BPF_PSEUDO_MAP_FD ? "map_fd" :
				    "imm", p->imm);
			if (i + 1 < n)
				fprintf(f, "%4zu: (second slot)\n", ++i);
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (BPF_OP(p->code) == BPF_CALL &&
			    p->src_reg == BPF_PSEUDO_KFUNC_CALL) {
				fprintf(f, "call kfunc (BTF id %d)\n", p->imm);
				break;
			}
			if (BPF_OP(p->code) == BPF_CALL) {
				if (p->imm > 0 && (size_t)p->imm <
				    sizeof(helpers) / sizeof(helpers[0]))
					fprintf(f, "call %s\n", helpers[p->imm]);
				else
					fprintf(f, "call %d\n", p->imm);
				break;
			}
			if (BPF_OP(p->code) == BPF_EXIT) {
				fprintf(f, "exit\n");
				break;
			}
			if (BPF_OP(p->code) == BPF_JA)
				fprintf(f, "goto ");
			else if (BPF_SRC(p->code) == BPF_X)
				fprintf(f, "if r%u %s r%u goto ", p->dst_reg,
				    opname(0x100 | BPF_OP(p->code)), p->src_reg);
			else
				fprintf(f, "if r%u %s %d goto ", p->dst_reg,
				    opname(0x100 | BPF_OP(p->code)), p->imm);
			print_target(f, insn, n, jump_target(insn, i));
			break;
		default:
			fprintf(f, "code 0x%02x\n", p->code);
		}
	}
}
