/*
 * Unit tests for the cgroup socket-address programs (prog/sockaddr.c):
 * their shape, checked without a kernel (tests/unit/prog_check.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../prog/sockaddr.c"

#define STASH_FD (-1)
#define EVENTS_FD 4
#define BATCH_FD 5
#define PROG_RET 1              /* a sock_addr program must allow */
#include "prog_check.h"

static struct prog_sa_conf
conf(int hook, int btf)
{
	struct prog_sa_conf c;

	memset(&c, 0, sizeof(c));
	c.hook = hook;
	c.events_fd = EVENTS_FD;
	c.batch_fd = -1;
	c.xchg = 1;
	c.k.valid = btf;
	c.k.task_real_parent = 1448;
	c.k.task_tgid = 1436;
	c.k.sak_valid = 1;
	c.k.sak_uaddr = 8;
	c.k.sak_uaddrlen = 32;
	return c;
}

static void
build_hook(struct prog *p, const struct prog_sa_conf *c)
{
	assert_int_equal(asm_init(&p->a), 0);
	p->n = prog_sock_addr(&p->a, c);
	assert_true(p->n > 0);
}

/* Whether the program loads ctx (r6) + off with a 32-bit load. */
static int
loads_ctx(const struct prog *p, int off, int size)
{
	long i;

	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];

		if (x->code == (BPF_LDX | BPF_MEM | size) && x->src_reg == BPF_REG_6 &&
		    x->off == off)
			return 1;
	}
	return 0;
}

/* Whether the program stores imm with width size at rec + off (r9, the
 * record written in place: prog_emit_slot()). */
static int
stores_imm(const struct prog *p, int size, int off, int imm)
{
	long i;

	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];

		if (x->code == (BPF_ST | BPF_MEM | size) && x->dst_reg == BPF_REG_9 &&
		    x->off == off && x->imm == imm)
			return 1;
	}
	return 0;
}

/*
 * The bytes of the record the program writes through r9, stores and
 * helpers alike (r1 = r9 + off, r2 = len just before the call), marked
 * in w[].  A batch slot holds an older record's bytes: whatever the
 * program does not write goes out stale.
 */
static void
written(const struct prog *p, uint8_t *w, int size)
{
	static const int sz[4] = { 4, 2, 1, 8 };
	int r1 = -1, r2 = -1;
	long i;

	memset(w, 0, (size_t)size);
	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];
		unsigned cls = BPF_CLASS(x->code);
		int k;

		if ((cls == BPF_ST || cls == BPF_STX) && BPF_MODE(x->code) == BPF_MEM &&
		    x->dst_reg == BPF_REG_9) {
			for (k = 0; k < sz[BPF_SIZE(x->code) >> 3]; k++)
				if (x->off + k >= 0 && x->off + k < size)
					w[x->off + k] = 1;
		} else if (x->code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
		    x->dst_reg == BPF_REG_1) {
			r1 = x->src_reg == BPF_REG_9 ? 0 : -1;
		} else if (x->code == (BPF_ALU64 | BPF_ADD | BPF_K) &&
		    x->dst_reg == BPF_REG_1 && r1 >= 0) {
			r1 += x->imm;
		} else if (x->code == (BPF_ALU64 | BPF_MOV | BPF_K) &&
		    x->dst_reg == BPF_REG_2) {
			r2 = x->imm;
		} else if (x->code == (BPF_JMP | BPF_CALL)) {
			if (r1 >= 0 && r2 > 0)
				for (k = 0; k < r2 && r1 + k < size; k++)
					w[r1 + k] = 1;
			r1 = r2 = -1;
		}
	}
}

/* Every hook: the common shape, one perf output of a whole kevent from
 * the stack, the fields the context holds, and "return code unknown". */
static void
test_hooks_shape(void **state)
{
	static const int base[] = {
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
		BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id,
		BPF_FUNC_ktime_get_ns, BPF_FUNC_perf_event_output,
		BPF_FUNC_get_current_task, BPF_FUNC_probe_read_kernel,
	};
	struct call c[32];
	struct prog p;
	int hook, n, i, size;

	(void)state;
	for (hook = 0; hook < HOOK_N; hook++) {
		struct prog_sa_conf sc = conf(hook, 1);
		int unix_hook = hook == HOOK_CONNECT_UNIX || hook == HOOK_SENDMSG_UNIX;
		int v6 = hook == HOOK_CONNECT6 || hook == HOOK_SENDMSG6;
		int connect = hook == HOOK_CONNECT4 || hook == HOOK_CONNECT6 ||
		    hook == HOOK_CONNECT_UNIX;

		build_hook(&p, &sc);
		check_common(&p);
		n = calls(&p, c, 32);
		check_helpers(c, n, base, sizeof(base) / sizeof(base[0]));
		check_call_args(c, n);
		assert_int_equal(count_calls(c, n, BPF_FUNC_perf_event_output), 1);
		/* The header and the record, of its kind's size, from the
		 * stack. */
		size = unix_hook ? (int)sizeof(struct kevent) : KEV_SIZE(v6 ? 28 : 16);
		for (i = 0; i < n; i++)
			if (c[i].helper == BPF_FUNC_perf_event_output) {
				assert_int_equal(c[i].r[5].v,
				    (long)sizeof(struct kbatch_hdr) + size);
				assert_int_equal(c[i].r[4].v, HDR);
				assert_stack(c[i].r[4], c[i].r[5].v);
			}
		assert_true(stores_imm(&p, BPF_H, R(size), size));
		assert_true(stores_imm(&p, BPF_H, R(flags), KEV_RET_UNKNOWN));
		assert_true(stores_imm(&p, BPF_H, R(syscall),
		    connect ? EV_CONNECT : EV_SEND));
		assert_true(loads_ctx(&p, CTX(type), BPF_W));
		assert_true(loads_ctx(&p, CTX(protocol), BPF_W));
		assert_true(loads_ctx(&p, CTX(sk), BPF_DW));
		if (unix_hook) {
			/* The sockaddr comes from the kernel's copy: no ctx
			 * address fields, three probe reads plus the ppid's. */
			assert_false(loads_ctx(&p, CTX(user_ip4), BPF_W));
			assert_int_equal(count_calls(c, n, BPF_FUNC_probe_read_kernel), 5);
		} else {
			assert_true(loads_ctx(&p, CTX(user_family), BPF_W));
			assert_true(loads_ctx(&p, CTX(user_port), BPF_W));
			assert_int_equal(loads_ctx(&p, CTX(user_ip4), BPF_W), !v6);
			for (i = 0; i < 4; i++)
				assert_int_equal(loads_ctx(&p, CTX(user_ip6) + 4 * i,
				    BPF_W), v6);
			assert_true(stores_imm(&p, BPF_H, R(addrlen), v6 ? 28 : 16));
			assert_int_equal(count_calls(c, n, BPF_FUNC_probe_read_kernel), 2);
		}
		asm_free(&p.a);
	}
}

/* Whether the program has an atomic exchange on a map value. */
static int
has_xchg(const struct prog *p)
{
	long i;

	for (i = 0; i < p->n; i++)
		if (p->a.insn[i].code == (BPF_STX | BPF_W | BPF_ATOMIC) &&
		    p->a.insn[i].imm == BPF_XCHG)
			return 1;
	return 0;
}

/*
 * With the per-CPU batch: the batch is looked up and taken with an atomic
 * exchange, the record written in place (no copy from the stack), every
 * byte of it (but a unix address past its length), and there are three
 * outputs: the batch when full, the batch found full on entry (cannot
 * happen, for the verifier), and the record alone when the batch is busy.
 */
static void
test_hooks_batched(void **state)
{
	uint8_t w[sizeof(struct kevent)];
	struct call c[32];
	struct prog p;
	long i;
	int hook, n, size, k;

	(void)state;
	for (hook = 0; hook < HOOK_N; hook++) {
		struct prog_sa_conf sc = conf(hook, 1);
		int unix_hook = hook == HOOK_CONNECT_UNIX || hook == HOOK_SENDMSG_UNIX;
		int v6 = hook == HOOK_CONNECT6 || hook == HOOK_SENDMSG6;

		sc.batch_fd = BATCH_FD;
		build_hook(&p, &sc);
		check_common(&p);
		n = calls(&p, c, 32);
		check_call_args(c, n);
		assert_int_equal(count_calls(c, n, BPF_FUNC_map_lookup_elem), 1);
		assert_int_equal(count_calls(c, n, BPF_FUNC_perf_event_output), 3);
		assert_true(has_xchg(&p));
		for (i = 0; i < p.n; i++)
			assert_false(p.a.insn[i].code == (BPF_LDX | BPF_DW | BPF_MEM) &&
			    p.a.insn[i].src_reg == BPF_REG_10 &&
			    p.a.insn[i].off >= EV);
		size = unix_hook ? KEV_HEAD : KEV_SIZE(v6 ? 28 : 16);
		written(&p, w, size);
		for (k = 0; k < size; k++)
			if (!w[k])
				fail_msg("hook %d: record byte %d not written", hook, k);
		asm_free(&p.a);
	}
}

/*
 * A kernel without BPF_XCHG (before 5.12): the batch is taken with a
 * plain load of busy, a jump away when set, and a store of 1, in that
 * order and on the looked-up batch; no atomic instruction at all.  The
 * trigger's flush takes it the same way.
 */
static void
test_hooks_batched_plain(void **state)
{
	struct prog p;
	long i, load = -1, store = -1;
	int hook, busy = (int)offsetof(struct kbatch, busy);

	(void)state;
	for (hook = 0; hook < HOOK_N; hook++) {
		struct prog_sa_conf sc = conf(hook, 1);

		sc.batch_fd = BATCH_FD;
		sc.xchg = 0;
		sc.trigger = 0x1234567800000001ULL;
		build_hook(&p, &sc);
		check_common(&p);
		assert_false(has_xchg(&p));
		for (i = 0; i < p.n; i++)
			assert_false(BPF_CLASS(p.a.insn[i].code) == BPF_STX &&
			    BPF_MODE(p.a.insn[i].code) == BPF_ATOMIC);
		load = store = -1;
		for (i = 0; i < p.n && store < 0; i++) {
			struct bpf_insn in = p.a.insn[i];

			if (in.code == (BPF_LDX | BPF_W | BPF_MEM) &&
			    in.src_reg == BPF_REG_7 && in.off == busy && load < 0)
				load = i;
			if (in.code == (BPF_ST | BPF_W | BPF_MEM) &&
			    in.dst_reg == BPF_REG_7 && in.off == busy && in.imm == 1)
				store = i;
		}
		assert_true(load >= 0);
		assert_true(store == load + 2);
		assert_int_equal(BPF_CLASS(p.a.insn[load + 1].code), BPF_JMP);
		assert_int_equal(BPF_OP(p.a.insn[load + 1].code), BPF_JNE);
		asm_free(&p.a);
	}
}

/*
 * With BTF and the ids' offsets: the task's fields by plain loads from
 * the BTF-typed task, no helper for them, and still every byte of the
 * record written.
 */
static void
test_hooks_plain_ids(void **state)
{
	static const int want[] = {
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_task_btf,
		BPF_FUNC_ktime_get_ns, BPF_FUNC_perf_event_output,
		BPF_FUNC_map_lookup_elem,
	};
	uint8_t w[sizeof(struct kevent)];
	struct prog_sa_conf sc = conf(HOOK_CONNECT4, 1);
	struct call c[32];
	struct prog p;
	int n, k;

	(void)state;
	sc.batch_fd = BATCH_FD;
	sc.task_btf = 1;
	sc.k.ids = check_ids;
	build_hook(&p, &sc);
	check_common(&p);
	n = calls(&p, c, 32);
	check_helpers(c, n, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(count_calls(c, n, BPF_FUNC_get_current_task_btf), 1);
	written(&p, w, KEV_SIZE(16));
	for (k = 0; k < KEV_SIZE(16); k++)
		if (!w[k])
			fail_msg("record byte %d not written", k);
	asm_free(&p.a);
}

/*
 * The unix hooks with bpf_rdonly_cast() of the ctx: one kernel function
 * call, on ctx (r6) with bpf_sock_addr_kern's BTF id, one probe read (the
 * path itself) where there were three, and still every byte of the
 * record's head written.
 */
static void
test_unix_cast(void **state)
{
	uint8_t w[sizeof(struct kevent)];
	struct call c[32];
	struct prog p;
	int hook, n, k;

	(void)state;
	for (hook = HOOK_CONNECT_UNIX; hook <= HOOK_SENDMSG_UNIX; hook++) {
		struct prog_sa_conf sc = conf(hook, 1);

		sc.batch_fd = BATCH_FD;
		sc.task_btf = 1;
		sc.k.ids = check_ids;
		sc.k.cast_valid = 1;
		sc.k.kf_rdonly_cast = 4242;
		sc.k.sak_btf_id = 333;
		sc.cast = 1;
		build_hook(&p, &sc);
		check_common(&p);
		n = calls(&p, c, 32);
		check_call_args(c, n);
		assert_int_equal(count_calls(c, n, BPF_FUNC_probe_read_kernel), 1);
		assert_int_equal(count_calls(c, n, -4242), 1);
		assert_int_equal(count_casts(c, n, 4242, 333), 1);
		written(&p, w, KEV_HEAD);
		for (k = 0; k < KEV_HEAD; k++)
			if (!w[k])
				fail_msg("hook %d: record byte %d not written", hook, k);
		asm_free(&p.a);

		/* Without the cast's ids: the three probe reads. */
		sc.k.sak_btf_id = 0;
		build_hook(&p, &sc);
		n = calls(&p, c, 32);
		assert_int_equal(count_calls(c, n, BPF_FUNC_probe_read_kernel), 3);
		asm_free(&p.a);
	}
}

/* With coarse_time, bpf_ktime_get_coarse_ns() instead of the fine clock. */
static void
test_hooks_coarse(void **state)
{
	struct prog_sa_conf sc = conf(HOOK_CONNECT4, 1);
	struct call c[32];
	struct prog p;
	int n;

	(void)state;
	sc.coarse_time = 1;
	build_hook(&p, &sc);
	check_common(&p);
	n = calls(&p, c, 32);
	assert_int_equal(count_calls(c, n, BPF_FUNC_ktime_get_coarse_ns), 1);
	assert_int_equal(count_calls(c, n, BPF_FUNC_ktime_get_ns), 0);
	asm_free(&p.a);
}

#define TRIGGER (0x00001234ULL << 32 | 0x00005678)

/*
 * The reader's flush connect: connect4 alone compares pid_tgid with all
 * 64 bits of the trigger, right after reading it; that path outputs only
 * the batch and allows the connect (PROG_RET 1, check_common()).  Without
 * a batch map it still records nothing.  A trigger whose low word matches
 * but whose high word does not is another task: the compare is 64-bit.
 */
static void
test_hooks_trigger(void **state)
{
	struct prog_sa_conf sc = conf(HOOK_CONNECT4, 1);
	struct prog p;
	int hook;

	(void)state;
	sc.batch_fd = BATCH_FD;
	sc.trigger = TRIGGER;
	build_hook(&p, &sc);
	check_common(&p);
	assert_true(check_trigger(&p, TRIGGER, 1) > 10);
	assert_int_equal(trigger_jump(&p, TRIGGER & 0xffffffffULL), -1);
	asm_free(&p.a);

	sc.batch_fd = -1;
	build_hook(&p, &sc);
	check_common(&p);
	assert_true(check_trigger(&p, TRIGGER, 0) >= 2);
	asm_free(&p.a);

	/* Told by its socket: the destination 127.0.0.1:9 from the context
	 * first (two loads and two compares, which every other connect
	 * pays), then the cookie; no pid compare at all. */
	sc.batch_fd = BATCH_FD;
	sc.trigger_cookie = 0xc00c1e0000000042ULL;
	build_hook(&p, &sc);
	check_common(&p);
	assert_true(check_trigger_after(&p, sc.trigger_cookie, 1,
	    BPF_FUNC_get_socket_cookie) > 10);
	assert_int_equal(trigger_jump(&p, TRIGGER), -1);
	assert_true(loads_ctx(&p, CTX(user_port), BPF_W));
	assert_true(loads_ctx(&p, CTX(user_ip4), BPF_W));
	{
		int port_seen = 0, ip_seen = 0;
		long i;

		for (i = 0; i < p.n; i++) {
			const struct bpf_insn *x = &p.a.insn[i];

			if (x->code != (BPF_JMP | BPF_JNE | BPF_K))
				continue;
			port_seen |= x->imm == htons(KTRIGGER_PORT);
			ip_seen |= x->imm == (int32_t)htonl(INADDR_LOOPBACK);
		}
		assert_true(port_seen && ip_seen);
	}
	asm_free(&p.a);
	sc.trigger_cookie = 0;

	/* The other hooks do not look for it; nor does connect4 without. */
	for (hook = 0; hook < HOOK_N; hook++) {
		sc.hook = hook;
		sc.trigger = hook == HOOK_CONNECT4 ? 0 : TRIGGER;
		build_hook(&p, &sc);
		check_common(&p);
		assert_int_equal(trigger_jump(&p, TRIGGER), -1);
		asm_free(&p.a);
	}
}

/* Without BTF no task walk: no ppid, no kernel reads for inet. */
static void
test_hooks_nobtf(void **state)
{
	struct prog_sa_conf sc = conf(HOOK_CONNECT4, 0);
	struct call c[32];
	struct prog p;
	int n;

	(void)state;
	build_hook(&p, &sc);
	check_common(&p);
	n = calls(&p, c, 32);
	assert_int_equal(count_calls(c, n, BPF_FUNC_get_current_task), 0);
	assert_int_equal(count_calls(c, n, BPF_FUNC_probe_read_kernel), 0);
	asm_free(&p.a);
}

/* The unix hooks need struct bpf_sock_addr_kern's layout. */
static void
test_unix_needs_layout(void **state)
{
	struct prog_sa_conf sc = conf(HOOK_CONNECT_UNIX, 1);
	struct prog_asm a;

	(void)state;
	sc.k.sak_valid = 0;
	assert_int_equal(asm_init(&a), 0);
	assert_int_equal(prog_sock_addr(&a, &sc), -EINVAL);
	asm_free(&a);
	sc.hook = HOOK_N;
	sc.k.sak_valid = 1;
	assert_int_equal(asm_init(&a), 0);
	assert_int_equal(prog_sock_addr(&a, &sc), -EINVAL);
	asm_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks_shape),
		cmocka_unit_test(test_hooks_nobtf),
		cmocka_unit_test(test_hooks_batched),
		cmocka_unit_test(test_hooks_coarse),
		cmocka_unit_test(test_unix_cast),
		cmocka_unit_test(test_hooks_batched_plain),
		cmocka_unit_test(test_hooks_plain_ids),
		cmocka_unit_test(test_hooks_trigger),
		cmocka_unit_test(test_unix_needs_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
