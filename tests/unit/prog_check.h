/*
 * Shape checks for the hand-assembled programs, without a kernel: every
 * jump forward and inside the program, never into the second slot of a
 * 64-bit load; r0 set before every exit; stack accesses in bounds; and a
 * straight-line tracker of which registers hold fp + constant, a constant
 * or a map fd, so that helper arguments can be checked at each call.
 * Included by the test_*.c of the program modules, which define STASH_FD
 * and EVENTS_FD first (and PROG_RET, BATCH_FD when theirs differ).
 */
#ifndef PROG_CHECK_H
#define PROG_CHECK_H

#include "prog/connect.h" /* STASH_VALUE */
#include "prog/frame.h"

#ifndef PROG_RET
#define PROG_RET 0              /* what every exit returns */
#endif
#ifndef BATCH_FD
#define BATCH_FD (-100)         /* no batch map */
#endif
#define STACK_MAX 512

/* Not every includer uses every check. */
#pragma GCC diagnostic ignored "-Wunused-function"

struct prog {
	struct prog_asm a;
	long n;
};

/* The task's ids' offsets as a 6.18 kernel's BTF has them. */
static const struct prog_ids check_ids = { 1, 1736, 8, 12, 1752, 2376, 112, 256, 96 };

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
			/* The second slot of a 64-bit load is zero but for
			 * the high word of a plain immediate. */
			assert_int_equal(x->code, 0);
			assert_int_equal(x->dst_reg, 0);
			assert_int_equal(x->src_reg, 0);
			assert_int_equal(x->off, 0);
			if (in[i - 1].src_reg == BPF_PSEUDO_MAP_FD)
				assert_int_equal(x->imm, 0);
			continue;
		}
		if (is_jump(x)) {
			long t = i + 1 + x->off;

			assert_in_range(t, 0, p->n - 1);
			assert_false(second[t]);
			/* A jump straight to exit would skip r0 = PROG_RET. */
			assert_int_not_equal(in[t].code, BPF_JMP | BPF_EXIT);
			/* Never backwards: the verifier rejects loops here. */
			assert_true(x->off >= 0);
		}
		if (x->code == (BPF_JMP | BPF_EXIT)) {
			/* r0 = PROG_RET just before every exit. */
			assert_true(i > 0);
			assert_int_equal(in[i - 1].code, BPF_ALU64 | BPF_MOV | BPF_K);
			assert_int_equal(in[i - 1].dst_reg, BPF_REG_0);
			assert_int_equal(in[i - 1].imm, PROG_RET);
		}
		if (is_wide(x) && x->src_reg != 0) {
			assert_int_equal(x->src_reg, BPF_PSEUDO_MAP_FD);
			assert_true(x->imm == STASH_FD || x->imm == EVENTS_FD ||
			    x->imm == BATCH_FD);
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
			/* A kernel function (bpf_rdonly_cast()) as minus its
			 * BTF id, apart from the helpers. */
			out[ncall].helper = x->src_reg == BPF_PSEUDO_KFUNC_CALL ?
			    -x->imm : x->imm;
			memcpy(out[ncall].r, r, sizeof(out[ncall].r));
			ncall++;
			/* r1-r5 are clobbered, r0 holds the result. */
			memset(&r[0], 0, 6 * sizeof(r[0]));
		}
	}
	return ncall;
}

/* How many of the n calls are to helper. */
static int
count_calls(const struct call *c, int n, int helper)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += c[i].helper == helper;
	return k;
}

/* How many of the n calls are bpf_rdonly_cast() (kernel function BTF id
 * kfunc, recorded as -kfunc by calls()) to the struct of BTF id btf_id;
 * every such call has a constant id in r2. */
static int
count_casts(const struct call *c, int n, long kfunc, long btf_id)
{
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (c[i].helper != -kfunc)
			continue;
		assert_int_equal(c[i].r[2].k, CONST);
		k += c[i].r[2].v == btf_id;
	}
	return k;
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
			assert_stack(r[3], STASH_VALUE);
			assert_int_equal(r[3].v, HDR);
			assert_int_equal(r[4].k, CONST);
			assert_int_equal(r[4].v, BPF_ANY);
			break;
		case BPF_FUNC_map_lookup_elem:
			assert_int_equal(r[1].k, MAP);
			assert_true(r[1].v == STASH_FD || r[1].v == BATCH_FD);
			assert_stack(r[2], r[1].v == BATCH_FD ? 4 : 8);
			break;
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
			/* One event after its header (from the stack, or a
			 * stash value), or a batch of them from the batch map
			 * (a size computed from its length). */
			if (r[5].k == CONST) {
				long rec = r[5].v - (long)sizeof(struct kbatch_hdr);

				assert_true(rec >= KEV_HEAD);
				assert_true(rec <= (long)sizeof(struct kevent));
				assert_int_equal(rec % 8, 0);
				if (r[4].k == FP)
					assert_int_equal(r[4].v, HDR);
			} else {
				assert_true(BATCH_FD >= 0);
				assert_int_not_equal(r[4].k, FP);
			}
			break;
		default:
			break;
		}
	}
}

/* Where the program compares pid_tgid with the 64-bit immediate trigger
 * (r1 = TRIGGER; if (r0 == r1) goto ...): the slot of the jump, or -1. */
static long
trigger_jump(const struct prog *p, uint64_t trigger)
{
	const struct bpf_insn *in = p->a.insn;
	long i;

	for (i = 0; i + 2 < p->n; i++)
		if (is_wide(&in[i]) && in[i].src_reg == 0 &&
		    ((uint64_t)(uint32_t)in[i].imm |
		    (uint64_t)(uint32_t)in[i + 1].imm << 32) == trigger &&
		    in[i + 2].code == (BPF_JMP | BPF_JEQ | BPF_X) &&
		    in[i + 2].dst_reg == BPF_REG_0 &&
		    in[i + 2].src_reg == in[i].dst_reg)
			return i + 2;
	return -1;
}

/*
 * The reader's trigger: right after bpf_get_current_pid_tgid() (or, with
 * check_trigger_after(), another helper: the socket's cookie), nothing
 * between but the compare, r0 compared with all 64 bits of trigger; from
 * the jump's target, every path reaches an exit (with PROG_RET:
 * check_common()) without recording an event: no call that fills one
 * (uid, comm, time), no stash update, and an output only of the batch
 * (batched: exactly one, its data from the batch in r7, not the stack).
 * Returns the number of instructions on the trigger path.
 */
static long
check_trigger_after(const struct prog *p, uint64_t trigger, int batched,
    int helper)
{
	const struct bpf_insn *in = p->a.insn;
	uint8_t *reach = calloc(1, (size_t)p->n);
	long j = trigger_jump(p, trigger), t, i, n = 0;
	int outputs = 0, exits = 0, lookups = 0;

	assert_non_null(reach);
	assert_true(j >= 3);
	assert_int_equal(in[j - 3].code, BPF_JMP | BPF_CALL);
	assert_int_equal(in[j - 3].imm, helper);
	t = j + 1 + in[j].off;
	assert_true(t > j && t < p->n);
	/* Forward jumps only (check_common()): one pass marks what the
	 * target reaches. */
	reach[t] = 1;
	for (i = t; i < p->n; i++) {
		const struct bpf_insn *x = &in[i];

		if (!reach[i])
			continue;
		n++;
		if (is_wide(x)) {
			reach[i + 1] = 0;
			if (i + 2 < p->n)
				reach[i + 2] = 1;
			continue;
		}
		if (x->code == (BPF_JMP | BPF_EXIT)) {
			exits++;
			continue;
		}
		if (is_jump(x)) {
			reach[i + 1 + x->off] = 1;
			if (BPF_OP(x->code) == BPF_JA)
				continue;
		}
		if (x->code == (BPF_JMP | BPF_CALL)) {
			assert_int_not_equal(x->imm, BPF_FUNC_get_current_uid_gid);
			assert_int_not_equal(x->imm, BPF_FUNC_get_current_comm);
			assert_int_not_equal(x->imm, BPF_FUNC_ktime_get_ns);
			assert_int_not_equal(x->imm, BPF_FUNC_map_update_elem);
			lookups += x->imm == BPF_FUNC_map_lookup_elem;
			if (x->imm == BPF_FUNC_perf_event_output) {
				long k;

				outputs++;
				/* r4, the data, last moved from the batch (r7). */
				for (k = i - 1; k > t && !(in[k].dst_reg == BPF_REG_4 &&
				    in[k].code == (BPF_ALU64 | BPF_MOV | BPF_X)); k--)
					;
				assert_true(k > t);
				assert_int_equal(in[k].src_reg, BPF_REG_7);
			}
		}
		if (i + 1 < p->n)
			reach[i + 1] = 1;
	}
	assert_true(exits >= 1);
	assert_int_equal(outputs, batched ? 1 : 0);
	assert_int_equal(lookups, batched ? 1 : 0);
	free(reach);
	return n;
}

static long
check_trigger(const struct prog *p, uint64_t trigger, int batched)
{
	return check_trigger_after(p, trigger, batched,
	    BPF_FUNC_get_current_pid_tgid);
}

#endif
