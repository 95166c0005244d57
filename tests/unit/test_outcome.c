/*
 * Unit tests for the TCP outcome program (prog/outcome.c): its shape,
 * checked without a kernel (tests/unit/prog_check.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../prog/outcome.c"

#define STASH_FD (-1)
#define EVENTS_FD 4
#define BATCH_FD 5
#include "prog_check.h"

static const struct prog_outcome_conf conf = {
	.events_fd = EVENTS_FD, .batch_fd = -1, .skaddr = 8, .oldstate = 16, .newstate = 20,
	.protocol = 30, .sock_err = 356,
};

static int
has_jne(const struct prog *p, int off_reg_loaded_from, int imm)
{
	long i;

	/* A load from ctx + off, then a JNE on the same register. */
	for (i = 0; i + 1 < p->n; i++) {
		const struct bpf_insn *l = &p->a.insn[i], *j = &p->a.insn[i + 1];

		if (BPF_CLASS(l->code) == BPF_LDX && l->src_reg == BPF_REG_6 &&
		    l->off == off_reg_loaded_from &&
		    j->code == (BPF_JMP | BPF_JNE | BPF_K) &&
		    j->dst_reg == l->dst_reg && j->imm == imm)
			return 1;
	}
	return 0;
}

static void
test_outcome_shape(void **state)
{
	static const int want[] = {
		BPF_FUNC_probe_read_kernel, BPF_FUNC_ktime_get_ns,
		BPF_FUNC_perf_event_output,
	};
	struct prog_outcome_conf c = conf;
	struct call cl[8];
	struct prog p;
	int n, i;

	(void)state;
	assert_int_equal(asm_init(&p.a), 0);
	p.n = prog_tcp_outcome(&p.a, &c);
	assert_true(p.n > 0);
	check_common(&p);
	/* Only TCP sockets leaving SYN_SENT, offsets from the format file. */
	assert_true(has_jne(&p, c.protocol, IPPROTO_TCP));
	assert_true(has_jne(&p, c.oldstate, TCP_SYN_SENT));
	n = calls(&p, cl, 8);
	check_helpers(cl, n, want, 3);
	for (i = 0; i < n; i++)
		if (cl[i].helper == BPF_FUNC_perf_event_output) {
			/* Its header and a kevent's KEV_HEAD bytes (no
			 * address) marked as an outcome, from the stack. */
			assert_int_equal(cl[i].r[5].v,
			    (long)sizeof(struct kbatch_hdr) + KEV_HEAD);
			assert_int_equal(cl[i].r[4].v, HDR);
			assert_stack(cl[i].r[4], cl[i].r[5].v);
		} else if (cl[i].helper == BPF_FUNC_probe_read_kernel) {
			assert_int_equal(cl[i].r[2].v, 4);
			assert_stack(cl[i].r[1], 4);
		}
	/* It says what it is. */
	for (i = 0; i < p.n; i++)
		if (p.a.insn[i].code == (BPF_ST | BPF_H | BPF_MEM) &&
		    p.a.insn[i].off == E(flags))
			assert_int_equal(p.a.insn[i].imm, KEV_OUTCOME);
	asm_free(&p.a);

	/* Without BTF there is no sk_err to read. */
	c.sock_err = -1;
	assert_int_equal(asm_init(&p.a), 0);
	p.n = prog_tcp_outcome(&p.a, &c);
	check_common(&p);
	n = calls(&p, cl, 8);
	for (i = 0; i < n; i++)
		assert_int_not_equal(cl[i].helper, BPF_FUNC_probe_read_kernel);
	asm_free(&p.a);

	/* Through the connect's CPU batch when there is one. */
	c.batch_fd = BATCH_FD;
	c.xchg = 1;
	assert_int_equal(asm_init(&p.a), 0);
	p.n = prog_tcp_outcome(&p.a, &c);
	check_common(&p);
	n = calls(&p, cl, 8);
	check_call_args(cl, n);
	asm_free(&p.a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
