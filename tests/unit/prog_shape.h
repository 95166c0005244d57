/*
 * The shape every program prog/connect.c emits must have, checked without
 * a kernel: for tests/unit/test_connect.c, which includes prog/connect.c
 * and defines STASH_FD, EVENTS_FD and STACK_MAX before this header.
 * Jumps land inside the program and never in the second slot of a 64-bit
 * load, stack accesses stay in the frame, and a small straight-line
 * tracker follows which registers hold fp + constant, a constant or a map
 * fd, so that helper arguments can be checked at each call.
 */
#ifndef PROG_SHAPE_H
#define PROG_SHAPE_H

struct prog {
	struct prog_asm a;
	long n;
};

enum which { ENTER, EXIT };

static void
build(struct prog *p, enum which w, const struct prog_conf *c)
{
	assert_int_equal(asm_init(&p->a), 0);
	p->n = w == ENTER ? prog_connect_enter(&p->a, c) : prog_connect_exit(&p->a, c);
	assert_true(p->n > 0);
}

static int
is_wide(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_DW | BPF_IMM);
}

static int
is_jump(const struct bpf_insn *i)
{
	unsigned cls = BPF_CLASS(i->code), op = BPF_OP(i->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL &&
	    op != BPF_EXIT;
}

/* second[i] = 1 when slot i is the second half of a 64-bit load, found
 * from the opcodes alone. */
static void
second_slots(const struct prog *p, uint8_t *second)
{
	long i;

	memset(second, 0, (size_t)p->n);
	for (i = 0; i < p->n; i++) {
		if (is_wide(&p->a.insn[i])) {
			assert_true(i + 1 < p->n);
			second[++i] = 1;
		}
	}
}

static void
check_common(const struct prog *p)
{
	const struct bpf_insn *in = p->a.insn;
	uint8_t *second = calloc(1, (size_t)p->n);
	long i;

	assert_non_null(second);
	assert_true(p->n < ASM_MAX_INSNS);
	second_slots(p, second);

	/* r6 = ctx first; ends with exit. */
	assert_int_equal(in[0].code, BPF_ALU64 | BPF_MOV | BPF_X);
	assert_int_equal(in[0].dst_reg, BPF_REG_6);
	assert_int_equal(in[0].src_reg, BPF_REG_1);
	assert_int_equal(in[p->n - 1].code, BPF_JMP | BPF_EXIT);

	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &in[i];

		if (second[i]) {
			/* The second slot of a map-fd load is all zero. */
			assert_int_equal(x->code, 0);
			assert_int_equal(x->dst_reg, 0);
			assert_int_equal(x->src_reg, 0);
			assert_int_equal(x->off, 0);
			assert_int_equal(x->imm, 0);
			continue;
		}
		if (is_jump(x)) {
			long t = i + 1 + x->off;

			assert_in_range(t, 0, p->n - 1);
			assert_false(second[t]);
			/* A jump straight to exit would skip r0 = 0. */
			assert_int_not_equal(in[t].code, BPF_JMP | BPF_EXIT);
			/* Never backwards: the verifier rejects loops here. */
			assert_true(x->off >= 0);
		}
		if (x->code == (BPF_JMP | BPF_EXIT)) {
			/* r0 = 0 just before every exit. */
			assert_true(i > 0);
			assert_int_equal(in[i - 1].code, BPF_ALU64 | BPF_MOV | BPF_K);
			assert_int_equal(in[i - 1].dst_reg, BPF_REG_0);
			assert_int_equal(in[i - 1].imm, 0);
		}
		if (is_wide(x)) {
			assert_int_equal(x->src_reg, BPF_PSEUDO_MAP_FD);
			assert_true(x->imm == STASH_FD || x->imm == EVENTS_FD);
		}
		/* Stack accesses stay within fp - 512 .. fp. */
		if ((BPF_CLASS(x->code) == BPF_ST || BPF_CLASS(x->code) == BPF_STX) &&
		    x->dst_reg == BPF_REG_10) {
			static const int sz[4] = { 4, 2, 1, 8 };

			assert_true(x->off >= -STACK_MAX);
			assert_true(x->off + sz[BPF_SIZE(x->code) >> 3] <= 0);
		}
		if (BPF_CLASS(x->code) == BPF_LDX && x->src_reg == BPF_REG_10) {
			static const int sz[4] = { 4, 2, 1, 8 };

			assert_true(x->off >= -STACK_MAX);
			assert_true(x->off + sz[BPF_SIZE(x->code) >> 3] <= 0);
		}
		/* r10 is read-only. */
		if (BPF_CLASS(x->code) == BPF_ALU64 || BPF_CLASS(x->code) == BPF_ALU ||
		    BPF_CLASS(x->code) == BPF_LDX || is_wide(x))
			assert_int_not_equal(x->dst_reg, BPF_REG_10);
	}
	free(second);
}

/* What the straight-line tracker knows about a register. */
enum kind { UNKNOWN, FP, CONST, CONST32, MAP };
struct reg {
	enum kind k;
	long v;
};

struct call {
	int helper;
	struct reg r[6];
};

/* Walk the program in order, ignoring branches (every call in these
 * programs is set up by straight-line code just before it), and record
 * the registers at each call. */
static int
calls(const struct prog *p, struct call *out, int max)
{
	struct reg r[11];
	int ncall = 0;
	long i;

	memset(r, 0, sizeof(r));
	r[BPF_REG_10].k = FP;
	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];
		unsigned cls = BPF_CLASS(x->code);

		if (is_wide(x)) {
			r[x->dst_reg] = (struct reg){ MAP, x->imm };
			i++;
		} else if (x->code == (BPF_ALU64 | BPF_MOV | BPF_X)) {
			r[x->dst_reg] = r[x->src_reg];
		} else if (x->code == (BPF_ALU64 | BPF_MOV | BPF_K)) {
			r[x->dst_reg] = (struct reg){ CONST, x->imm };
		} else if (x->code == (BPF_ALU | BPF_MOV | BPF_K)) {
			r[x->dst_reg] = (struct reg){ CONST32, (long)(uint32_t)x->imm };
		} else if (x->code == (BPF_ALU64 | BPF_ADD | BPF_K) &&
		    (r[x->dst_reg].k == FP || r[x->dst_reg].k == CONST)) {
			r[x->dst_reg].v += x->imm;
		} else if (cls == BPF_ALU64 || cls == BPF_ALU || cls == BPF_LDX) {
			r[x->dst_reg] = (struct reg){ UNKNOWN, 0 };
		} else if (x->code == (BPF_JMP | BPF_CALL)) {
			assert_true(ncall < max);
			out[ncall].helper = x->imm;
			memcpy(out[ncall].r, r, sizeof(out[ncall].r));
			ncall++;
			/* r1-r5 are clobbered, r0 holds the result. */
			memset(&r[0], 0, 6 * sizeof(r[0]));
		}
	}
	return ncall;
}

/* The region [fp + r.v, fp + r.v + len) lies inside the stack. */
static void
assert_stack(struct reg r, long len)
{
	assert_int_equal(r.k, FP);
	assert_true(r.v >= -STACK_MAX);
	assert_true(r.v + len <= 0);
}

static void
check_helpers(const struct call *c, int ncall, const int *want, int nwant)
{
	int i, j;

	/* Every helper called is expected ... */
	for (i = 0; i < ncall; i++) {
		for (j = 0; j < nwant; j++)
			if (c[i].helper == want[j])
				break;
		if (j == nwant)
			fail_msg("unexpected helper %d", c[i].helper);
	}
	/* ... and every expected helper is called. */
	for (j = 0; j < nwant; j++) {
		for (i = 0; i < ncall; i++)
			if (c[i].helper == want[j])
				break;
		if (i == ncall)
			fail_msg("helper %d never called", want[j]);
	}
}

/* Helper arguments that point into the stack are in bounds. */
static void
check_call_args(const struct call *c, int ncall)
{
	int i;

	for (i = 0; i < ncall; i++) {
		const struct reg *r = c[i].r;

		switch (c[i].helper) {
		case BPF_FUNC_probe_read_kernel:
		case BPF_FUNC_probe_read_user:
		case BPF_FUNC_get_current_comm:
			assert_int_equal(r[2].k, CONST);
			assert_true(r[2].v > 0);
			assert_stack(r[1], r[2].v);
			break;
		case BPF_FUNC_map_update_elem:
			assert_int_equal(r[1].k, MAP);
			assert_int_equal(r[1].v, STASH_FD);
			assert_stack(r[2], 8);
			assert_stack(r[3], (long)sizeof(struct kevent));
			assert_int_equal(r[4].k, CONST);
			assert_int_equal(r[4].v, BPF_ANY);
			break;
		case BPF_FUNC_map_lookup_elem:
		case BPF_FUNC_map_delete_elem:
			assert_int_equal(r[1].k, MAP);
			assert_int_equal(r[1].v, STASH_FD);
			assert_stack(r[2], 8);
			break;
		case BPF_FUNC_perf_event_output:
			assert_int_equal(r[2].k, MAP);
			assert_int_equal(r[2].v, EVENTS_FD);
			/* BPF_F_CURRENT_CPU through a 32-bit mov: 0xffffffff,
			 * not a sign-extended -1. */
			assert_int_equal(r[3].k, CONST32);
			assert_int_equal(r[3].v, 0xffffffffL);
			assert_int_equal(r[5].k, CONST);
			assert_int_equal(r[5].v, (long)sizeof(struct kevent));
			break;
		default:
			break;
		}
	}
}

/* The ctx (r6) loads: exactly the given offsets, each with its size. */
static void
check_ctx_loads(const struct prog *p, const int *off, const int *size, int n)
{
	int seen[8] = { 0 };
	long i;
	int j;

	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];

		if (is_wide(x)) {
			i++;
			continue;
		}
		if (BPF_CLASS(x->code) != BPF_LDX || x->src_reg != BPF_REG_6)
			continue;
		for (j = 0; j < n; j++)
			if (x->off == off[j] && BPF_SIZE(x->code) == size[j])
				break;
		if (j == n)
			fail_msg("unexpected ctx load at %ld: off %d", i, x->off);
		seen[j]++;
	}
	for (j = 0; j < n; j++)
		assert_int_equal(seen[j], 1);
	/* r6 is ctx throughout: never written after the first instruction. */
	for (i = 1; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];
		unsigned cls = BPF_CLASS(x->code);

		if (is_wide(x)) {
			assert_int_not_equal(x->dst_reg, BPF_REG_6);
			i++;
		} else if (cls == BPF_ALU64 || cls == BPF_ALU || cls == BPF_LDX) {
			assert_int_not_equal(x->dst_reg, BPF_REG_6);
		}
	}
}

static int
count_maps(const struct prog *p, int fd)
{
	long i;
	int n = 0;

	for (i = 0; i < p->n; i++)
		if (is_wide(&p->a.insn[i]) && p->a.insn[i].imm == fd)
			n++;
	return n;
}

/* Is there "if rX op imm goto" with this op and immediate? */
static int
has_jump_imm(const struct prog *p, int op, int imm)
{
	long i;

	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];

		if (is_jump(x) && BPF_OP(x->code) == op && BPF_SRC(x->code) == BPF_K &&
		    x->imm == imm)
			return 1;
	}
	return 0;
}

#endif
