/*
 * Unit tests for the connect() programs (prog/connect.c): the shape of the
 * emitted code, checked without a kernel.  A small straight-line tracker
 * follows which registers hold fp + constant, a constant or a map fd, so
 * that helper arguments can be checked at each call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../prog/connect.c"

#define STASH_FD 3
#define EVENTS_FD 4
#define BATCH_FD 5
#include "prog_check.h"

static const struct prog_conf conf_nobtf = {
	.stash_fd = STASH_FD, .events_fd = EVENTS_FD, .batch_fd = -1,
	.enter_fd = 16, .enter_addr = 24, .enter_addrlen = 32, .exit_ret = 16,
	.k = { .valid = 0 },
};

/* Offsets like a 6.x x86-64 kernel's, all distinct so each can be found. */
static const struct prog_conf conf_btf = {
	.stash_fd = STASH_FD, .events_fd = EVENTS_FD, .batch_fd = -1,
	.enter_fd = 16, .enter_addr = 24, .enter_addrlen = 32, .exit_ret = 16,
	.k = {
		.valid = 1, .task_files = 2000, .task_real_parent = 1448,
		.task_tgid = 1436, .files_fdt = 32, .fdt_max_fds = 0,
		.fdt_fd = 8, .file_private_data = 200, .socket_type = 4,
		.socket_file = 16, .socket_sk = 24, .sock_protocol = 516,
	},
};

/* A 32-bit kernel's records (armhf): 8-byte common header, int nr, then
 * 4-byte argument slots; pointers and the return value are 4 bytes. */
static const struct prog_conf conf_nobtf32 = {
	.stash_fd = STASH_FD, .events_fd = EVENTS_FD,
	.enter_fd = 12, .enter_addr = 16, .enter_addrlen = 20, .exit_ret = 12,
	.arg_size = 4,
	.k = { .valid = 0 },
};

/* A 32-bit kernel with BTF: 4-byte kernel pointers too. */
static const struct prog_conf conf_btf32 = {
	.stash_fd = STASH_FD, .events_fd = EVENTS_FD,
	.enter_fd = 12, .enter_addr = 16, .enter_addrlen = 20, .exit_ret = 12,
	.arg_size = 4,
	.k = {
		.valid = 1, .task_files = 1100, .task_real_parent = 812,
		.task_tgid = 804, .files_fdt = 20, .fdt_max_fds = 0,
		.fdt_fd = 4, .file_private_data = 128, .socket_type = 4,
		.socket_file = 12, .socket_sk = 16, .sock_protocol = 264,
	},
};

/* The load size of a record's argument slot. */
#define ASIZE(c) ((c)->arg_size == 4 ? BPF_W : BPF_DW)

/* Unusual tracepoint offsets: they must come from the conf, not be fixed. */
static const struct prog_conf conf_odd = {
	.stash_fd = STASH_FD, .events_fd = EVENTS_FD, .batch_fd = -1,
	.enter_fd = 40, .enter_addr = 56, .enter_addrlen = 72, .exit_ret = 48,
	.k = { .valid = 0 },
};

/* conf_btf with x86-64's pt_regs: di, si, dx, r10, r8, r9. */
static struct prog_conf
conf_regs(int syscall)
{
	struct prog_conf c = conf_btf;

	c.syscall = syscall;
	c.stash_fd = -1; /* exit-only has no stash */
	c.k.regs_valid = 1;
	c.k.regs_arg[0] = 112;
	c.k.regs_arg[1] = 104;
	c.k.regs_arg[2] = 96;
	c.k.regs_arg[3] = 56;
	c.k.regs_arg[4] = 72;
	c.k.regs_arg[5] = 64;
	return c;
}

enum which { ENTER, EXIT };

static void
build(struct prog *p, enum which w, const struct prog_conf *c)
{
	assert_int_equal(asm_init(&p->a), 0);
	p->n = w == ENTER ? prog_connect_enter(&p->a, c) : prog_connect_exit(&p->a, c);
	assert_true(p->n > 0);
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

static void
enter(const struct prog_conf *c)
{
	static const int base[] = {
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
		BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id,
		BPF_FUNC_probe_read_user, BPF_FUNC_ktime_get_ns,
		BPF_FUNC_map_update_elem,
		/* only with BTF: */
		BPF_FUNC_get_current_task, BPF_FUNC_probe_read_kernel,
	};
	const int off[] = { c->enter_fd, c->enter_addr, c->enter_addrlen };
	const int size[] = { BPF_W, ASIZE(c), BPF_W };
	struct call calls_[64];
	struct prog p;
	int n;

	build(&p, ENTER, c);
	check_common(&p);
	n = calls(&p, calls_, 64);
	check_helpers(calls_, n, base, c->k.valid ? 9 : 7);
	check_call_args(calls_, n);
	check_ctx_loads(&p, off, size, 3);
	assert_int_equal(count_maps(&p, c->stash_fd), 1);
	assert_int_equal(count_maps(&p, c->events_fd), 0);
	asm_free(&p.a);
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

/* sendto/sendmsg: same shape and helpers as connect, the destination from
 * their own arguments, and only IPv4/IPv6 datagram sockets recorded. */
static void
datagram(int call, int valid)
{
	static const int base[] = {
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
		BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id,
		BPF_FUNC_probe_read_user, BPF_FUNC_ktime_get_ns,
		BPF_FUNC_map_update_elem,
		BPF_FUNC_get_current_task, BPF_FUNC_probe_read_kernel,
	};
	struct prog_conf c = valid ? conf_btf : conf_nobtf;
	const int off[] = { c.enter_fd, c.enter_addr, c.enter_addrlen };
	const int size[] = { BPF_W, BPF_DW, BPF_W };
	struct call calls_[64];
	struct prog p;
	int n;

	c.syscall = call;
	build(&p, ENTER, &c);
	check_common(&p);
	n = calls(&p, calls_, 64);
	check_helpers(calls_, n, base, valid ? 9 : 7);
	check_call_args(calls_, n);
	/* sendmsg finds the destination inside the msghdr: no addrlen field. */
	check_ctx_loads(&p, off, size, call == EV_SENDMSG ? 2 : 3);
	assert_true(has_jump_imm(&p, BPF_JEQ, AF_INET));
	assert_true(has_jump_imm(&p, BPF_JNE, AF_INET6));
	assert_int_equal(has_jump_imm(&p, BPF_JNE, SOCK_DGRAM), valid);
	/* e.syscall = call */
	{
		long i;
		int found = 0;

		for (i = 0; i < p.n; i++)
			if (p.a.insn[i].code == (BPF_ST | BPF_H | BPF_MEM) &&
			    p.a.insn[i].off == E(syscall) && p.a.insn[i].imm == call)
				found = 1;
		assert_true(found);
	}
	asm_free(&p.a);
}

static void
test_enter_sendto(void **state)
{
	(void)state;
	datagram(EV_SENDTO, 1);
	datagram(EV_SENDTO, 0);
}

static void
test_enter_sendmsg(void **state)
{
	(void)state;
	datagram(EV_SENDMSG, 1);
	datagram(EV_SENDMSG, 0);
}

/* connect records every family and socket type. */
static void
test_connect_no_datagram_filter(void **state)
{
	struct prog p;

	(void)state;
	build(&p, ENTER, &conf_btf);
	assert_false(has_jump_imm(&p, BPF_JNE, AF_INET6));
	assert_false(has_jump_imm(&p, BPF_JNE, SOCK_DGRAM));
	asm_free(&p.a);
}

static void
test_enter_nobtf(void **state)
{
	(void)state;
	enter(&conf_nobtf);
}

static void
test_enter_btf(void **state)
{
	(void)state;
	enter(&conf_btf);
}

static void
test_enter_odd_offsets(void **state)
{
	(void)state;
	enter(&conf_odd);
}

static void
test_enter_btf_offsets_used(void **state)
{
	const struct prog_kern *k = &conf_btf.k;
	const int want[] = {
		k->task_files, k->task_real_parent, k->task_tgid, k->files_fdt,
		k->fdt_max_fds, k->fdt_fd, k->file_private_data, k->socket_type,
		k->socket_file, k->socket_sk, k->sock_protocol,
	};
	struct prog p;
	size_t j;
	long i;

	(void)state;
	build(&p, ENTER, &conf_btf);
	/* Each kernel offset is added to the source pointer of a probe read
	 * (read_kernel: r3 = src; r3 += off). */
	for (j = 0; j < sizeof(want) / sizeof(want[0]); j++) {
		for (i = 1; i < p.n; i++) {
			const struct bpf_insn *x = &p.a.insn[i];

			if (x->code == (BPF_ALU64 | BPF_ADD | BPF_K) &&
			    x->dst_reg == BPF_REG_3 && x->imm == want[j])
				break;
		}
		if (i == p.n)
			fail_msg("kernel offset %d not used", want[j]);
	}
	asm_free(&p.a);
}

static void
test_enter_btf_longer(void **state)
{
	struct prog a, b;

	(void)state;
	build(&a, ENTER, &conf_nobtf);
	build(&b, ENTER, &conf_btf);
	assert_true(b.n > a.n);
	asm_free(&a.a);
	asm_free(&b.a);
}

static void
exit_prog(const struct prog_conf *c)
{
	static const int want[] = {
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_map_lookup_elem,
		BPF_FUNC_perf_event_output, BPF_FUNC_map_delete_elem,
	};
	const int off[] = { c->exit_ret };
	const int size[] = { ASIZE(c) };
	struct call calls_[16];
	struct prog p;
	int n, i, output = 0;

	build(&p, EXIT, c);
	check_common(&p);
	n = calls(&p, calls_, 16);
	check_helpers(calls_, n, want, 4);
	check_call_args(calls_, n);
	for (i = 0; i < n; i++)
		output += calls_[i].helper == BPF_FUNC_perf_event_output;
	assert_int_equal(output, 1);
	check_ctx_loads(&p, off, size, 1);
	assert_int_equal(count_maps(&p, c->stash_fd), 2);
	assert_int_equal(count_maps(&p, c->events_fd), 1);
	asm_free(&p.a);
}

static void
test_exit(void **state)
{
	(void)state;
	exit_prog(&conf_nobtf);
	exit_prog(&conf_btf);
	exit_prog(&conf_odd);
}

static void
test_exit_stores_ret(void **state)
{
	struct prog p;
	long i;
	int found = 0;

	(void)state;
	build(&p, EXIT, &conf_nobtf);
	/* v->e.ret = ctx->ret: a 32-bit store at the event's ret, after the
	 * header, into the map value (r7), not into the stack. */
	for (i = 0; i < p.n; i++) {
		const struct bpf_insn *x = &p.a.insn[i];

		if (BPF_CLASS(x->code) == BPF_STX && x->dst_reg == BPF_REG_7) {
			assert_int_equal(BPF_SIZE(x->code), BPF_W);
			assert_int_equal(x->off, sizeof(struct kbatch_hdr) +
			    offsetof(struct kevent, ret));
			found++;
		}
	}
	assert_int_equal(found, 1);
	asm_free(&p.a);
}

static void
test_enter_zeroes_event(void **state)
{
	uint8_t zeroed[sizeof(struct kevent)] = { 0 };
	struct prog p;
	long i;
	size_t j;

	(void)state;
	build(&p, ENTER, &conf_nobtf);
	/* The whole struct kevent on the stack is zeroed before any helper
	 * call that takes memory (bpf_get_current_pid_tgid() takes none and
	 * comes first): the verifier rejects passing uninitialised stack to
	 * a map. */
	for (i = 0; i < p.n; i++) {
		const struct bpf_insn *x = &p.a.insn[i];

		if (x->code == (BPF_JMP | BPF_CALL) &&
		    x->imm != BPF_FUNC_get_current_pid_tgid)
			break;
		if (x->code == (BPF_ST | BPF_MEM | BPF_DW) &&
		    x->dst_reg == BPF_REG_10 && x->imm == 0 &&
		    x->off >= EV && x->off + 8 <= 0)
			memset(zeroed + (x->off - EV), 1, 8);
	}
	for (j = 0; j < sizeof(zeroed); j++)
		assert_int_equal(zeroed[j], 1);
	asm_free(&p.a);
}

static void
test_asm_error_propagates(void **state)
{
	struct prog_asm a;
	size_t i;

	(void)state;
	assert_int_equal(asm_init(&a), 0);
	/* No room left: the program generator returns asm_finish()'s error. */
	for (i = 0; i < ASM_MAX_INSNS - 10; i++)
		asm_emit(&a, BPF_MOV64_IMM(BPF_REG_0, 0));
	assert_int_equal(prog_connect_enter(&a, &conf_btf), -E2BIG);
	asm_free(&a);
}

/* --- exit-only (prog_call_exit) ------------------------------------------ */

static void
build_call_exit(struct prog *p, const struct prog_conf *c)
{
	assert_int_equal(asm_init(&p->a), 0);
	p->n = prog_call_exit(&p->a, c);
	assert_true(p->n > 0);
}

/* Loads through r9 while it holds pt_regs: the argument slots asked for. */
static void
check_regs_loads(const struct prog *p, const int *off, int n)
{
	long i;
	int j, seen = 0, tasks = 0;

	/* r9 = regs until the walk reuses it for fdt (after the second
	 * get_current_task_btf call). */
	for (i = 0; i < p->n; i++) {
		const struct bpf_insn *x = &p->a.insn[i];

		if (x->code == (BPF_JMP | BPF_CALL) && x->imm ==
		    BPF_FUNC_get_current_task_btf && ++tasks == 2)
			break;
		if (BPF_CLASS(x->code) != BPF_LDX || x->src_reg != BPF_REG_9)
			continue;
		for (j = 0; j < n; j++)
			if (x->off == off[j])
				break;
		if (j == n)
			fail_msg("unexpected pt_regs load at %ld: off %d", i, x->off);
		seen++;
	}
	assert_int_equal(seen, n);
}

static void
call_exit(const struct prog_conf *c, int probe_reads)
{
	static const int want[] = {
		BPF_FUNC_get_current_task_btf, BPF_FUNC_task_pt_regs,
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
		BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id,
		BPF_FUNC_probe_read_user, BPF_FUNC_probe_read_kernel,
		BPF_FUNC_ktime_get_ns, BPF_FUNC_perf_event_output,
	};
	static const int ret_off[] = { 16 }, ret_size[] = { BPF_DW };
	struct call cl[64];
	struct prog p;
	int n, i;

	build_call_exit(&p, c);
	check_common(&p);
	n = calls(&p, cl, 64);
	check_helpers(cl, n, want, (int)(sizeof(want) / sizeof(want[0])));
	check_call_args(cl, n);
	/* No stash: the only map is the perf event array, used once. */
	assert_int_equal(count_maps(&p, EVENTS_FD), 1);
	assert_int_equal(count_calls(cl, n, BPF_FUNC_perf_event_output), 1);
	for (i = 0; i < n; i++)
		if (cl[i].helper == BPF_FUNC_perf_event_output)
			assert_stack(cl[i].r[4], (long)sizeof(struct kevent));
	assert_int_equal(count_calls(cl, n, BPF_FUNC_probe_read_kernel), probe_reads);
	/* The only ctx field read at exit is the return value. */
	check_ctx_loads(&p, ret_off, ret_size, 1);
	asm_free(&p.a);
}

static void
test_call_exit_needs_btf(void **state)
{
	struct prog_conf c = conf_regs(EV_CONNECT);
	struct prog_asm a;

	(void)state;
	assert_int_equal(asm_init(&a), 0);
	assert_int_equal(prog_call_exit(&a, &conf_nobtf), -EINVAL);
	c.k.regs_valid = 0;
	assert_int_equal(prog_call_exit(&a, &c), -EINVAL);
	asm_free(&a);
}

/*
 * fexit on __sys_<call>: the same event with the arguments and the return
 * value read from the context (u64 slots), no pt_regs at all.
 */
/*
 * Exit-only with the ids' offsets known: uid, gid, comm and cgroup id by
 * plain loads from the task, none of their three helpers, and the stores
 * at the event's fields on the stack.
 */
static void
test_call_exit_plain_ids(void **state)
{
	static const int want[] = {
		BPF_FUNC_get_current_task_btf, BPF_FUNC_task_pt_regs,
		BPF_FUNC_get_current_pid_tgid,
		BPF_FUNC_probe_read_user, BPF_FUNC_probe_read_kernel,
		BPF_FUNC_ktime_get_ns, BPF_FUNC_perf_event_output,
	};
	struct prog_conf c = conf_regs(EV_CONNECT);
	struct call cl[64];
	struct prog p;
	long i;
	int n, comm = 0, cg = 0;

	(void)state;
	c.k.ids = check_ids;
	build_call_exit(&p, &c);
	check_common(&p);
	n = calls(&p, cl, 64);
	check_helpers(cl, n, want, (int)(sizeof(want) / sizeof(want[0])));
	check_call_args(cl, n);
	for (i = 0; i < p.n; i++) {
		const struct bpf_insn *x = &p.a.insn[i];

		if (x->code == (BPF_STX | BPF_DW | BPF_MEM) && x->dst_reg == BPF_REG_10) {
			comm += x->off == E(comm) || x->off == E(comm) + 8;
			cg += x->off == E(cgroup_id);
		}
	}
	assert_int_equal(comm, 2);
	assert_int_equal(cg, 1);
	asm_free(&p.a);
}

/*
 * Exit-only with bpf_rdonly_cast(): the file from fdt->fd[fd] is the one
 * probe read left, each pointer is cast (a kernel function call with the
 * struct's BTF id in r2) before its fields are loaded, and the fallback
 * walk's probe reads are not emitted (the verifier refuses dead code).
 */
static void
test_call_exit_cast(void **state)
{
	struct prog_conf c = conf_regs(EV_CONNECT);
	struct call cl[64];
	struct prog p;
	long i;
	int n;

	(void)state;
	c.k.cast_valid = 1;
	c.k.kf_rdonly_cast = 54321;
	c.k.file_btf_id = 111;
	c.k.socket_btf_id = 222;
	c.cast = 1;
	build_call_exit(&p, &c);
	check_common(&p);
	n = calls(&p, cl, 64);
	check_call_args(cl, n);
	assert_int_equal(count_calls(cl, n, BPF_FUNC_probe_read_kernel), 1);
	assert_int_equal(count_calls(cl, n, -54321), 2);
	assert_int_equal(count_casts(cl, n, 54321, 111), 1);
	assert_int_equal(count_casts(cl, n, 54321, 222), 1);
	/* Every kernel function called is the cast. */
	for (i = 0; i < p.n; i++)
		if (p.a.insn[i].code == (BPF_JMP | BPF_CALL) &&
		    p.a.insn[i].src_reg == BPF_PSEUDO_KFUNC_CALL)
			assert_int_equal(p.a.insn[i].imm, 54321);
	asm_free(&p.a);

	/* Not asked for: no kernel function at all. */
	c.cast = 0;
	build_call_exit(&p, &c);
	for (i = 0; i < p.n; i++)
		assert_false(p.a.insn[i].code == (BPF_JMP | BPF_CALL) &&
		    p.a.insn[i].src_reg == BPF_PSEUDO_KFUNC_CALL);
	asm_free(&p.a);
}

static void
test_fexit(void **state)
{
	static const int want[] = {
		BPF_FUNC_get_current_task_btf,
		BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid,
		BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id,
		BPF_FUNC_probe_read_user, BPF_FUNC_probe_read_kernel,
		BPF_FUNC_ktime_get_ns, BPF_FUNC_perf_event_output,
	};
	static const int conn_off[] = { 0, 8, 16, 24 },
	    conn_size[] = { BPF_W, BPF_DW, BPF_W, BPF_DW },
	    sendto_off[] = { 0, 32, 40, 48 },
	    sendto_size[] = { BPF_W, BPF_DW, BPF_W, BPF_DW };
	struct prog_conf c = conf_btf;
	struct call cl[64];
	struct prog p;
	int n;

	(void)state;
	c.stash_fd = -1;
	c.syscall = EV_CONNECT;
	c.fexit_nargs = 3;
	assert_int_equal(asm_init(&p.a), 0);
	p.n = prog_fexit(&p.a, &c);
	assert_true(p.n > 0);
	check_common(&p);
	n = calls(&p, cl, 64);
	check_helpers(cl, n, want, (int)(sizeof(want) / sizeof(want[0])));
	check_call_args(cl, n);
	check_ctx_loads(&p, conn_off, conn_size, 4);
	asm_free(&p.a);

	c.syscall = EV_SENDTO;
	c.fexit_nargs = 6;
	assert_int_equal(asm_init(&p.a), 0);
	p.n = prog_fexit(&p.a, &c);
	assert_true(p.n > 0);
	check_common(&p);
	check_ctx_loads(&p, sendto_off, sendto_size, 4);
	asm_free(&p.a);

	/* Without BTF, or with an argument count we do not know: refused. */
	assert_int_equal(asm_init(&p.a), 0);
	c.fexit_nargs = 9;
	assert_int_equal(prog_fexit(&p.a, &c), -EINVAL);
	c = conf_nobtf;
	c.fexit_nargs = 3;
	assert_int_equal(prog_fexit(&p.a, &c), -EINVAL);
	asm_free(&p.a);
}

static void
test_call_exit(void **state)
{
	struct prog_conf c;

	(void)state;
	/* fd[fd], file->private_data, one read of struct socket, sk_protocol. */
	c = conf_regs(EV_CONNECT);
	call_exit(&c, 4);
	c = conf_regs(EV_SENDTO);
	call_exit(&c, 4);
	/* sendmsg reads the user msghdr too: still four kernel reads. */
	c = conf_regs(EV_SENDMSG);
	call_exit(&c, 4);
	/* A struct socket whose fields are far apart: one read each. */
	c = conf_regs(EV_CONNECT);
	c.k.socket_sk = 400;
	call_exit(&c, 6);
}

static void
test_call_exit_args_from_regs(void **state)
{
	struct prog_conf c;
	struct prog p;
	int connect_regs[] = { 112, 104, 96 };  /* di, si, dx */
	int sendto_regs[] = { 112, 72, 64 };    /* di, r8, r9 */
	int sendmsg_regs[] = { 112, 104 };      /* di, si (the msghdr) */

	(void)state;
	c = conf_regs(EV_CONNECT);
	build_call_exit(&p, &c);
	check_regs_loads(&p, connect_regs, 3);
	asm_free(&p.a);
	c = conf_regs(EV_SENDTO);
	build_call_exit(&p, &c);
	check_regs_loads(&p, sendto_regs, 3);
	asm_free(&p.a);
	c = conf_regs(EV_SENDMSG);
	build_call_exit(&p, &c);
	check_regs_loads(&p, sendmsg_regs, 2);
	asm_free(&p.a);
}

/* Stack loads of the struct socket span are aligned to their size: the
 * verifier refuses misaligned stack access. */
static void
test_call_exit_span_aligned(void **state)
{
	struct prog_conf c = conf_regs(EV_CONNECT);
	static const int sz[4] = { 4, 2, 1, 8 };
	struct prog p;
	long i;

	(void)state;
	build_call_exit(&p, &c);
	for (i = 0; i < p.n; i++) {
		const struct bpf_insn *x = &p.a.insn[i];

		if (BPF_CLASS(x->code) == BPF_LDX && x->src_reg == BPF_REG_10)
			assert_int_equal(-x->off % sz[BPF_SIZE(x->code) >> 3], 0);
	}
	asm_free(&p.a);
}

#define TRIGGER (0x00001234ULL << 32 | 0x00005678)

/*
 * The reader's flush connect: the connect programs (exit-only, fexit,
 * the pair's enter) compare pid_tgid with all 64 bits of the trigger
 * right after reading it; that path hands the batch over (exit-only and
 * fexit with a batch map) or nothing, returns 0, and records no event.
 * sendto and sendmsg do not look for it.
 */
static void
test_trigger(void **state)
{
	struct prog_conf c = conf_regs(EV_CONNECT);
	struct prog p;
	int call;

	(void)state;
	c.trigger = TRIGGER;
	c.batch_fd = BATCH_FD;
	c.xchg = 1;
	build_call_exit(&p, &c);
	check_common(&p);
	assert_true(check_trigger(&p, TRIGGER, 1) > 10);
	assert_int_equal(trigger_jump(&p, TRIGGER & 0xffffffffULL), -1);
	asm_free(&p.a);

	c.batch_fd = -1;
	build_call_exit(&p, &c);
	check_common(&p);
	check_trigger(&p, TRIGGER, 0);
	asm_free(&p.a);

	c.batch_fd = BATCH_FD;
	c.xchg = 1;
	c.fexit_nargs = 3;
	assert_int_equal(asm_init(&p.a), 0);
	p.n = prog_fexit(&p.a, &c);
	assert_true(p.n > 0);
	check_common(&p);
	check_trigger(&p, TRIGGER, 1);
	asm_free(&p.a);

	/* The pair's enter program: no stash entry, so no event at exit. */
	c = conf_btf;
	c.trigger = TRIGGER;
	build(&p, ENTER, &c);
	check_common(&p);
	check_trigger(&p, TRIGGER, 0);
	asm_free(&p.a);

	for (call = EV_SENDTO; call <= EV_SENDMSG; call++) {
		c = conf_regs(call);
		c.trigger = TRIGGER;
		c.batch_fd = BATCH_FD;
		c.xchg = 1;
		build_call_exit(&p, &c);
		check_common(&p);
		assert_int_equal(trigger_jump(&p, TRIGGER), -1);
		asm_free(&p.a);
	}
	/* And none without a trigger. */
	c = conf_regs(EV_CONNECT);
	c.batch_fd = BATCH_FD;
	c.xchg = 1;
	build_call_exit(&p, &c);
	assert_int_equal(trigger_jump(&p, 0), -1);
	asm_free(&p.a);
}

/* Enter and exit programs for a 32-bit kernel's records. */
static void
test_32bit(void **state)
{
	struct prog_conf c = conf_regs(EV_CONNECT);
	struct prog_asm a;

	(void)state;
	enter(&conf_nobtf32);
	enter(&conf_btf32);
	exit_prog(&conf_nobtf32);
	exit_prog(&conf_btf32);
	/* Exit-only knows 64-bit register layouts only. */
	c.arg_size = 4;
	assert_int_equal(asm_init(&a), 0);
	assert_int_equal(prog_call_exit(&a, &c), -EINVAL);
	asm_free(&a);
}

/* On a 32-bit kernel every kernel pointer the BTF walk follows is 4
 * bytes: each probe read of one reads 4 bytes and loads a word, and the
 * fd table is indexed by fd * 4. */
static void
test_enter_32bit_pointers(void **state)
{
	struct prog p;
	long i;
	int shifts = 0, reads = 0;

	(void)state;
	build(&p, ENTER, &conf_btf32);
	for (i = 0; i < p.n; i++) {
		const struct bpf_insn *x = &p.a.insn[i];

		assert_int_not_equal(x->code, BPF_LDX | BPF_DW | BPF_MEM);
		if (x->code == (BPF_ALU64 | BPF_LSH | BPF_K) && x->dst_reg == BPF_REG_8) {
			assert_int_equal(x->imm, 2);
			shifts++;
		}
		/* r2 = size before each probe_read_kernel: 4 (pointer, tgid,
		 * max_fds) or 2 (type, protocol), never 8. */
		if (x->code == (BPF_JMP | BPF_CALL) && x->imm == BPF_FUNC_probe_read_kernel) {
			assert_true(i >= 2);
			assert_int_equal(p.a.insn[i - 1].code, BPF_ALU64 | BPF_MOV | BPF_K);
			assert_int_equal(p.a.insn[i - 1].dst_reg, BPF_REG_2);
			assert_true(p.a.insn[i - 1].imm == 4 || p.a.insn[i - 1].imm == 2);
			reads++;
		}
	}
	assert_int_equal(shifts, 1);
	assert_true(reads >= 8);
	asm_free(&p.a);
}

/* sendmsg on a 32-bit kernel: the user msghdr is { u32 msg_name;
 * int msg_namelen; ... }, read as 8 bytes, the length at offset 4. */
static void
test_enter_sendmsg_32bit_msghdr(void **state)
{
	struct prog_conf c = conf_nobtf32;
	struct prog p;
	long i;
	int read8 = 0, namelen = 0;

	(void)state;
	c.syscall = EV_SENDMSG;
	build(&p, ENTER, &c);
	for (i = 0; i < p.n; i++) {
		const struct bpf_insn *x = &p.a.insn[i];

		if (x->code == (BPF_ALU64 | BPF_MOV | BPF_K) && x->dst_reg == BPF_REG_2 &&
		    x->imm == 8 && i + 2 < p.n && p.a.insn[i + 2].code == (BPF_JMP | BPF_CALL) &&
		    p.a.insn[i + 2].imm == BPF_FUNC_probe_read_user)
			read8++;
		if (x->code == (BPF_LDX | BPF_W | BPF_MEM) && x->src_reg == BPF_REG_10 &&
		    x->dst_reg == BPF_REG_2 && x->off == E(addr) + 4)
			namelen++;
	}
	assert_int_equal(read8, 1);
	assert_int_equal(namelen, 1);
	asm_free(&p.a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enter_nobtf),
		cmocka_unit_test(test_enter_btf),
		cmocka_unit_test(test_enter_odd_offsets),
		cmocka_unit_test(test_enter_btf_offsets_used),
		cmocka_unit_test(test_enter_btf_longer),
		cmocka_unit_test(test_enter_zeroes_event),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_exit_stores_ret),
		cmocka_unit_test(test_asm_error_propagates),
		cmocka_unit_test(test_enter_sendto),
		cmocka_unit_test(test_enter_sendmsg),
		cmocka_unit_test(test_connect_no_datagram_filter),
		cmocka_unit_test(test_call_exit_needs_btf),
		cmocka_unit_test(test_call_exit),
		cmocka_unit_test(test_call_exit_args_from_regs),
		cmocka_unit_test(test_call_exit_span_aligned),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_enter_32bit_pointers),
		cmocka_unit_test(test_enter_sendmsg_32bit_msghdr),
		cmocka_unit_test(test_call_exit_plain_ids),
		cmocka_unit_test(test_call_exit_cast),
		cmocka_unit_test(test_fexit),
		cmocka_unit_test(test_trigger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
