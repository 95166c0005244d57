/*
 * The syscall-tracepoint backends: "tracepoint-exit", one program per call
 * at sys_exit that reads the arguments from the saved registers (needs
 * BTF), and "tracepoint", the enter/exit pair with a stash map.  Both see
 * every return code exactly; both put every task of the host on the
 * kernel's syscall-tracing slow path, which costs every system call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/perf_event.h>

#include "loader/backend.h"
#include "loader/probe.h"
#include "loader/bpf.h"
#include "loader/capture.h"
#include "loader/sys.h"
#include "loader/tracefs.h"
#include "prog/abi.h"
#include "prog/asm.h"
#include "prog/connect.h"
#include "prog/insn.h"
#include "util/arch.h"

#define STASH_ENTRIES 16384 /* connects in flight at once */

/* The system calls we probe, each with an enter and an exit program, in
 * the order of enum ev_syscall; the field names are those of the tracefs
 * format files. */
#define NCALL 3
#define NPROG (2 * NCALL)

static const struct call {
	const char *enter, *exit;
	const char *addr, *addrlen;     /* addrlen NULL: inside the msghdr */
} calls[NCALL] = {
	{ "sys_enter_connect", "sys_exit_connect", "uservaddr", "addrlen" },
	{ "sys_enter_sendto", "sys_exit_sendto", "addr", "addr_len" },
	{ "sys_enter_sendmsg", "sys_exit_sendmsg", "msg", NULL },
};

/* Program i: enter programs at even, exit programs at odd indices. */
static const char *
tp_name(int i)
{
	return i % 2 ? calls[i / 2].exit : calls[i / 2].enter;
}

struct tp {
	char tracefs[256];
	int stash_fd;
	int prog_fd[NPROG];
	int tp_fd[NPROG];       /* perf events holding the attachment */
	int exit_only;          /* one program per call at sys_exit */
	int no_btf;             /* no kernel struct offsets: type, protocol
	                         * and ppid stay unknown */
};

/* Field offsets of call's tracepoint records into c.  All the fields are
 * system call arguments or its return value, each of the kernel's long:
 * 8 bytes wide, or 4 on a 32-bit kernel; that size goes into c too. */
static int
tp_offsets(struct tp *p, int call, struct prog_conf *c, char *err, size_t errlen)
{
	const struct call *cl = &calls[call];
	const struct {
		const char *tp, *field;
		int *off;
	} f[] = {
		{ cl->enter, "fd", &c->enter_fd },
		{ cl->enter, cl->addr, &c->enter_addr },
		{ cl->enter, cl->addrlen, &c->enter_addrlen },
		{ cl->exit, "ret", &c->exit_ret },
	};
	size_t i;

	c->arg_size = 0;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		int off, size, e;

		if (f[i].field == NULL)
			continue;
		e = ld_tp_field(p->tracefs, "syscalls", f[i].tp, f[i].field, &off, &size);
		if (e < 0) {
			ld_errf(err, errlen, "tracepoint syscalls:%s field %s: %s%s",
			    f[i].tp, f[i].field, strerror(-e),
			    e == -ENOENT ? " (kernel without CONFIG_FTRACE_SYSCALLS?)" : "");
			return e;
		}
		if ((size != 4 && size != 8) || (c->arg_size && size != c->arg_size)) {
			ld_errf(err, errlen, "tracepoint syscalls:%s field %s has "
			    "size %d, expected %d", f[i].tp, f[i].field, size,
			    c->arg_size ? c->arg_size : 8);
			return -EINVAL;
		}
		c->arg_size = size;
		*f[i].off = off;
	}
	c->syscall = call;
	return 0;
}

static int
load_prog(struct tp *p, const struct ld_env *env, int which,
    const struct prog_conf *c, char *err, size_t errlen)
{
	struct prog_asm a;
	long n;
	int fd;

	if ((fd = asm_init(&a)) < 0)
		return fd;
	if (p->exit_only)
		n = prog_call_exit(&a, c);
	else
		n = which % 2 ? prog_connect_exit(&a, c) : prog_connect_enter(&a, c);
	if (n < 0) {
		ld_errf(err, errlen, "assemble %s: %s", tp_name(which),
		    strerror((int)-n));
		asm_free(&a);
		return (int)n;
	}
	/* connect's first program is the one the test breaks. */
	if (env->fault_verifier && which == (p->exit_only ? 1 : 0))
		a.insn[0] = LD_FAULT_INSN;
	fd = ld_load(env, BPF_PROG_TYPE_TRACEPOINT, 0, 0, tp_name(which) + 4,
	    a.insn, (size_t)n, err, errlen);
	asm_free(&a);
	if (fd >= 0)
		p->prog_fd[which] = fd;
	return fd < 0 ? fd : 0;
}

static int
attach(struct tp *p, int which, char *err, size_t errlen)
{
	int fd = ld_tp_attach(p->tracefs, "syscalls", tp_name(which),
	    p->prog_fd[which], err, errlen);

	if (fd < 0)
		return fd;
	p->tp_fd[which] = fd;
	return 0;
}

/*
 * Detach and close.  Closing a tracepoint's perf event detaches its
 * program and waits for a grace period; the events are closed in
 * parallel so that the waits overlap.  No PERF_EVENT_IOC_DISABLE first:
 * close disables the event too, and each ioctl cost about 70 ms here.
 */
static void
tp_close(void *state)
{
	struct tp *p = state;
	int i;

	if (p == NULL)
		return;
	ld_close_parallel(p->tp_fd, NPROG);
	for (i = 0; i < NPROG; i++)
		if (p->prog_fd[i] >= 0)
			sys_close(p->prog_fd[i]);
	if (p->stash_fd >= 0)
		sys_close(p->stash_fd);
	free(p);
}

/* A new *pp, tracefs and the offsets both designs share; 0 or -errno
 * with err (*pp, if not NULL, for tp_close()). */
static int
tp_prepare(const struct ld_env *env, struct tp **pp, struct prog_conf *c,
    char *err, size_t errlen)
{
	struct tp *p;
	int i, e;

	if ((*pp = p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->stash_fd = -1;
	for (i = 0; i < NPROG; i++)
		p->prog_fd[i] = p->tp_fd[i] = -1;
	if (arch_cpu.no_syscall_tracepoints) {
		ld_errf(err, errlen, "%s: %s", arch_cpu.name,
		    arch_cpu.no_syscall_tracepoints);
		return -EOPNOTSUPP;
	}
	if ((e = ld_tracefs_find(p->tracefs, sizeof(p->tracefs))) < 0) {
		ld_errf(err, errlen, "tracefs: not mounted and mounting it at "
		    "/sys/kernel/tracing failed: %s%s", strerror(-e), ld_hint(e));
		return e;
	}
	memset(c, 0, sizeof(*c));
	c->k = *env->k;
	p->no_btf = !env->k->valid;
	c->events_fd = env->events_fd;
	c->batch_fd = -1;
	return 0;
}

/* One program per call, at sys_exit only.  It needs BTF (for the
 * registers and the typed task pointer) and a kernel whose tracepoint
 * programs may call bpf_get_current_task_btf() (5.11). */
static int
tp_exit_open(const struct ld_env *env, void **state, char *err, size_t errlen)
{
	struct prog_conf c;
	struct tp *p = NULL;
	int i, e;

	if ((e = tp_prepare(env, &p, &c, err, errlen)) < 0)
		goto fail;
	if (!c.k.valid || !c.k.regs_valid) {
		e = -EOPNOTSUPP;
		ld_errf(err, errlen, "backend tracepoint-exit needs BTF and "
		    "64-bit argument registers in struct pt_regs (%s: %s)",
		    arch_cpu.name, !c.k.valid ? "no BTF" :
		    arch_cpu.args[0].member ? "not in this kernel's BTF" :
		    "32-bit registers");
		goto fail;
	}
	if ((e = ld_need(env->f, LD_F_TP_TASK_BTF, "tracepoint-exit", err, errlen)) < 0 ||
	    (e = ld_need(env->f, LD_F_TP_PT_REGS, "tracepoint-exit", err, errlen)) < 0)
		goto fail;
	p->exit_only = 1;
	c.batch_fd = env->batch_fd;
	c.xchg = env->xchg;
	c.trigger = env->trigger;
	/* The socket walk by bpf_rdonly_cast() where the probe found the
	 * kernel takes it (6.2+), else by probe reads. */
	c.cast = c.k.cast_valid && ld_has(env->f, LD_F_TP_CAST);
	for (i = 0; i < NCALL; i++) {
		if ((e = tp_offsets(p, i, &c, err, errlen)) < 0)
			goto fail;
		if ((p->prog_fd[2 * i + 1] < 0 &&
		    (e = load_prog(p, env, 2 * i + 1, &c, err, errlen)) < 0) ||
		    (e = attach(p, 2 * i + 1, err, errlen)) < 0)
			goto fail;
	}
	*state = p;
	return 0;
fail:
	tp_close(p);
	return e;
}

/* The enter/exit pair: any kernel with syscall tracepoints.  Its exit
 * program outputs each event straight from the stash: no batches, so the
 * reader never needs to flush it (ld_backend.batched 0). */
static int
tp_pair_open(const struct ld_env *env, void **state, char *err, size_t errlen)
{
	struct prog_conf c;
	struct tp *p = NULL;
	int i, e;

	if ((e = tp_prepare(env, &p, &c, err, errlen)) < 0)
		goto fail;
	e = ld_map_create(BPF_MAP_TYPE_LRU_HASH, "stash", sizeof(uint64_t),
	    STASH_VALUE, STASH_ENTRIES);
	if (e < 0) {
		ld_errf(err, errlen, "create stash map: %s%s", strerror(-e),
		    ld_hint(e));
		goto fail;
	}
	p->stash_fd = e;
	c.stash_fd = p->stash_fd;
	for (i = 0; i < NCALL; i++) {
		/* Exit first: an enter without its exit would leave stash
		 * entries behind. */
		if ((e = tp_offsets(p, i, &c, err, errlen)) < 0 ||
		    (e = load_prog(p, env, 2 * i + 1, &c, err, errlen)) < 0 ||
		    (e = load_prog(p, env, 2 * i, &c, err, errlen)) < 0 ||
		    (e = attach(p, 2 * i + 1, err, errlen)) < 0 ||
		    (e = attach(p, 2 * i, err, errlen)) < 0)
			goto fail;
	}
	*state = p;
	return 0;
fail:
	tp_close(p);
	return e;
}

/* Without BTF the programs cannot walk the task to the socket; where the
 * CPU's sys_exit ret loses the sign of an error (util/arch.h), a failed
 * call looks like a count. */
static unsigned
tp_missing(void *state, const char **why, size_t n)
{
	const struct tp *p = state;
	unsigned bits = 0;
	size_t k = 0;

	if (p->no_btf) {
		if (k < n)
			why[k++] = "socket type, protocol and ppid (this kernel has no BTF)";
		bits |= CAP_EXACT_SOCKET | CAP_EXACT_PPID;
	}
	if (arch_cpu.exit_ret_positive) {
		if (k < n)
			why[k++] = "the return code (this CPU's sys_exit tracepoint "
			    "gives errors as positive numbers)";
		bits |= CAP_EXACT_RETURN_CODE;
	}
	if (k < n)
		why[k] = NULL;
	return bits;
}

/* What no system call tracepoint sees: calls made inside the kernel on
 * a process's behalf, and the calls these backends do not trace.  fexit,
 * on __sys_connect() and the others, misses the same. */
const char *const ld_syscall_never[] = {
	"io_uring connects and sends (IORING_OP_CONNECT, IORING_OP_SENDMSG "
	    "run no system call): use -backend cgroup",
	"datagrams sent with sendmmsg(): use -backend cgroup",
	"TCP Fast Open connects made by sendto(MSG_FASTOPEN): use -backend cgroup",
	NULL,
};

const struct ld_backend ld_backend_tracepoint_exit = {
	.name = "tracepoint-exit",
	.exact = LD_EXACT_AT_EXIT,
	.batched = 1,
	.open = tp_exit_open,
	.close = tp_close,
	.missing = tp_missing,
	.never = ld_syscall_never,
};

const struct ld_backend ld_backend_tracepoint = {
	.name = "tracepoint",
	.exact = LD_EXACT_AT_EXIT,
	.open = tp_pair_open,
	.close = tp_close,
	.missing = tp_missing,
	.never = ld_syscall_never,
};
