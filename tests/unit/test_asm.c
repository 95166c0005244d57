/* Unit tests for the eBPF assembler (prog/asm.c): label resolution and the
 * errors asm_finish() reports, and the listing asm_dump() prints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../prog/asm.c"

static int
setup(void **state)
{
	struct prog_asm *a = malloc(sizeof(*a));

	if (a == NULL || asm_init(a) != 0) {
		free(a);
		return -1;
	}
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	struct prog_asm *a = *state;

	asm_free(a);
	free(a);
	return 0;
}

static void
test_init(void **state)
{
	struct prog_asm *a = *state;
	size_t i;

	assert_non_null(a->insn);
	assert_int_equal(a->n, 0);
	assert_int_equal(a->err, 0);
	for (i = 0; i < ASM_MAX_LABELS; i++)
		assert_int_equal(a->label[i], -1);
	/* An empty program is valid and has no instructions. */
	assert_int_equal(asm_finish(a), 0);
}

static void
test_forward_jump(void **state)
{
	struct prog_asm *a = *state;

	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));           /* 0 */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_1, 7, 3);           /* 1: -> 4 */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 1));           /* 2 */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 2));           /* 3 */
	asm_label(a, 3);
	asm_emit(a, BPF_EXIT_INSN());                       /* 4 */
	assert_int_equal(asm_finish(a), 5);
	assert_int_equal(a->insn[1].code, BPF_JMP | BPF_JEQ | BPF_K);
	assert_int_equal(a->insn[1].dst_reg, BPF_REG_1);
	assert_int_equal(a->insn[1].imm, 7);
	assert_int_equal(a->insn[1].off, 2);
	/* Non-jumps are left alone. */
	assert_int_equal(a->insn[0].off, 0);
	assert_int_equal(a->insn[4].off, 0);
}

static void
test_backward_jump(void **state)
{
	struct prog_asm *a = *state;

	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));           /* 0 */
	asm_label(a, 0);
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1));  /* 1 */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 9));           /* 2 */
	asm_jmp_reg(a, BPF_JLT, BPF_REG_0, BPF_REG_2, 0);   /* 3: -> 1 */
	asm_ja(a, 1);                                       /* 4: -> 5 */
	asm_label(a, 1);
	asm_emit(a, BPF_EXIT_INSN());                       /* 5 */
	assert_int_equal(asm_finish(a), 6);
	assert_int_equal(a->insn[3].code, BPF_JMP | BPF_JLT | BPF_X);
	assert_int_equal(a->insn[3].dst_reg, BPF_REG_0);
	assert_int_equal(a->insn[3].src_reg, BPF_REG_2);
	assert_int_equal(a->insn[3].off, -3);
	/* goto the next instruction: offset 0. */
	assert_int_equal(a->insn[4].code, BPF_JMP | BPF_JA);
	assert_int_equal(a->insn[4].off, 0);
}

static void
test_jump_to_self_and_wide_first_slot(void **state)
{
	struct prog_asm *a = *state;

	asm_label(a, 2);
	asm_ld_map_fd(a, BPF_REG_1, 5);                     /* 0, 1 */
	asm_label(a, 4);
	asm_ja(a, 4);                                       /* 2: -> 2 */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, 2);           /* 3: -> 0 */
	asm_emit(a, BPF_EXIT_INSN());                       /* 4 */
	assert_int_equal(asm_finish(a), 5);
	assert_int_equal(a->insn[2].off, -1);
	/* The first slot of a 64-bit load is a fine target. */
	assert_int_equal(a->insn[3].off, -4);
	assert_int_equal(a->insn[0].code, BPF_LD | BPF_DW | BPF_IMM);
	assert_int_equal(a->insn[0].src_reg, BPF_PSEUDO_MAP_FD);
	assert_int_equal(a->insn[0].dst_reg, BPF_REG_1);
	assert_int_equal(a->insn[0].imm, 5);
	assert_int_equal(a->insn[1].code, 0);
	assert_int_equal(a->insn[1].imm, 0);
}

static void
test_undefined_label(void **state)
{
	struct prog_asm *a = *state;

	asm_ja(a, 5);
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(asm_finish(a), -EINVAL);
}

static void
test_label_defined_twice(void **state)
{
	struct prog_asm *a = *state;

	asm_label(a, 1);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));
	asm_label(a, 1);
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(asm_finish(a), -EINVAL);
}

static void
test_label_out_of_range(void **state)
{
	struct prog_asm *a = *state;

	asm_label(a, ASM_MAX_LABELS);
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(asm_finish(a), -EINVAL);
}

static void
test_jump_label_out_of_range(void **state)
{
	struct prog_asm *a = *state;

	asm_ja(a, -1);
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(asm_finish(a), -EINVAL);
}

static void
test_jump_past_end(void **state)
{
	struct prog_asm *a = *state;

	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, 0);
	asm_emit(a, BPF_EXIT_INSN());
	asm_label(a, 0); /* after the last instruction */
	assert_int_equal(asm_finish(a), -EINVAL);
}

static void
test_jump_into_second_slot(void **state)
{
	struct prog_asm *a = *state;

	asm_ja(a, 0);                                       /* 0 */
	asm_ld_map_fd(a, BPF_REG_1, 3);                     /* 1, 2 */
	asm_emit(a, BPF_EXIT_INSN());                       /* 3 */
	/* asm_label() cannot name slot 2: it is only ever called between
	 * whole instructions.  Put the label there by hand, as a caller that
	 * counted slots itself would. */
	a->label[0] = 2;
	assert_int_equal(asm_finish(a), -EINVAL);
}

static void
test_jump_into_second_slot_emitted(void **state)
{
	struct prog_asm *a = *state;

	/* The same mistake through the public API only: a 64-bit load
	 * emitted as its two halves with a label placed between them. */
	asm_ja(a, 0);                                       /* 0 */
	asm_emit(a, BPF_LD_MAP_FD_1(BPF_REG_1, 3));         /* 1 */
	asm_label(a, 0);
	asm_emit(a, BPF_LD_IMM64_2());                      /* 2 */
	asm_emit(a, BPF_EXIT_INSN());                       /* 3 */
	assert_int_equal(asm_finish(a), -EINVAL);
}

static void
test_too_many_insns(void **state)
{
	struct prog_asm *a = *state;
	size_t i;

	for (i = 0; i < ASM_MAX_INSNS; i++)
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));
	assert_int_equal(asm_finish(a), ASM_MAX_INSNS);
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(a->n, ASM_MAX_INSNS);
	assert_int_equal(asm_finish(a), -E2BIG);
}

static void
test_wide_load_does_not_fit(void **state)
{
	struct prog_asm *a = *state;
	size_t i;

	for (i = 0; i < ASM_MAX_INSNS - 1; i++)
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));
	asm_ld_map_fd(a, BPF_REG_1, 3);
	/* Neither half is emitted. */
	assert_int_equal(a->n, ASM_MAX_INSNS - 1);
	assert_int_equal(asm_finish(a), -E2BIG);
}

static void
test_too_many_jumps(void **state)
{
	struct prog_asm *a = *state;
	size_t i;

	asm_label(a, 0);
	for (i = 0; i <= ASM_MAX_FIXUPS; i++)
		asm_ja(a, 0);
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(asm_finish(a), -E2BIG);
}

static void
test_error_is_sticky(void **state)
{
	struct prog_asm *a = *state;

	asm_label(a, 1);
	asm_label(a, 1);           /* -EINVAL first */
	asm_label(a, 2);
	asm_ja(a, 2);
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(asm_finish(a), -EINVAL);
	assert_int_equal(a->err, -EINVAL);
}

/* The listing of insn[0..n) as one string (caller frees). */
static char *
dump(const struct bpf_insn *insn, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	asm_dump(insn, n, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static void
test_dump(void **state)
{
	static const char *const want =
	    "   0: r6 = r1\n"
	    "   1: *(u64 *)(r10 -8) = 0\n"
	    "   2: r2 = *(u32 *)(r6 +32)\n"
	    "L1:\n"
	    "   3: if r2 <= 112 goto L2 (5)\n"
	    "   4: r2 = 112\n"
	    "L2:\n"
	    "   5: *(u16 *)(r10 -6) = r2\n"
	    "   6: r1 = map_fd 3 ll\n"
	    "   7: (second slot)\n"
	    "   8: r1 += -184\n"
	    "   9: r3 >>= 32\n"
	    "  10: *(u8 *)(r10 -1) = 7\n"
	    "  11: if r1 != r9 goto L3 (14)\n"
	    "  12: call bpf_get_current_pid_tgid\n"
	    "  13: r0 = *(u64 *)(r10 -16)\n"
	    "L3:\n"
	    "  14: goto L1 (3)\n"
	    "  15: r1 = xchg((u32 *)(r7 +0), r1)\n"
	    "  16: r0 = 0\n"
	    "  17: exit\n";
	struct prog_asm *a = *state;
	char *got;

	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0));
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_6, 32));
	asm_label(a, 0);
	asm_jmp_imm(a, BPF_JLE, BPF_REG_2, 112, 1);
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 112));
	asm_label(a, 1);
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_2, -6));
	asm_ld_map_fd(a, BPF_REG_1, 3);
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -184));
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_3, 32));
	asm_emit(a, BPF_ST_MEM(BPF_B, BPF_REG_10, -1, 7));
	asm_jmp_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_9, 2);
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
	asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -16));
	asm_label(a, 2);
	asm_ja(a, 0);
	asm_emit(a, BPF_ATOMIC_XCHG(BPF_W, BPF_REG_7, BPF_REG_1, 0));
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 0));
	asm_emit(a, BPF_EXIT_INSN());
	assert_int_equal(asm_finish(a), 18);

	got = dump(a->insn, (size_t)a->n);
	assert_string_equal(got, want);
	free(got);
}

static void
test_dump_truncated_wide(void **state)
{
	struct prog_asm *a = *state;
	char *got;

	/* A listing that stops after the first half of a 64-bit load does
	 * not print a second slot it was not given. */
	asm_ld_map_fd(a, BPF_REG_2, 4);
	got = dump(a->insn, 1);
	assert_string_equal(got, "   0: r2 = map_fd 4 ll\n");
	free(got);
	got = dump(a->insn, 0);
	assert_string_equal(got, "");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backward_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jump_to_self_and_wide_first_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undefined_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_defined_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jump_label_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jump_past_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jump_into_second_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jump_into_second_slot_emitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_insns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_load_does_not_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_jumps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_is_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_truncated_wide, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
