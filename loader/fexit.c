/*
 * The "fexit" backend: BPF_PROG_TYPE_TRACING programs on the exit of
 * __sys_connect, __sys_sendto and __sys_sendmsg, attached with links.
 * They see the exact return value and tax no other system call (no
 * syscall tracepoint), but need BTF and a kernel that allows fexit: kernel
 * lockdown refuses it (EPERM), and then -backend auto goes on to the next.
 * Not exercised on the development machine, which is locked down: only
 * in the qemu guests of make test-vm.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "loader/backend.h"
#include "loader/bpf.h"
#include "loader/btf.h"
#include "loader/capture.h"
#include "loader/probe.h"
#include "loader/sys.h"
#include "prog/abi.h"
#include "prog/asm.h"
#include "prog/connect.h"
#include "prog/insn.h"

#define NFUNC 3

/* The kernel functions, in the order of enum ev_syscall. */
static const char *const funcs[NFUNC] = {
	"__sys_connect", "__sys_sendto", "__sys_sendmsg",
};
static const char *const names[NFUNC] = {
	"es_fexit_connect", "es_fexit_sendto", "es_fexit_sendmsg",
};

struct fx {
	int prog_fd[NFUNC];
	int link_fd[NFUNC];
};

static void
fx_close(void *state)
{
	struct fx *f = state;

	if (f == NULL)
		return;
	ld_close_fds(f->link_fd, NFUNC);
	ld_close_fds(f->prog_fd, NFUNC);
	free(f);
}

static int
fx_open(const struct ld_env *env, void **state, char *err, size_t errlen)
{
	struct prog_conf c;
	const struct btf *b = env->btf;
	struct fx *f;
	int i, e, id, nargs;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	for (i = 0; i < NFUNC; i++)
		f->prog_fd[i] = f->link_fd[i] = -1;
	if (!env->k->valid || b == NULL) {
		e = -EOPNOTSUPP;
		ld_errf(err, errlen, "backend fexit needs BTF (" BTF_VMLINUX ")");
		goto fail;
	}
	if ((e = ld_need(env->f, LD_F_TP_TASK_BTF, "fexit", err, errlen)) < 0)
		goto fail;
	memset(&c, 0, sizeof(c));
	c.k = *env->k;
	c.events_fd = env->events_fd;
	c.batch_fd = env->batch_fd;
	c.xchg = env->xchg;
	c.trigger = env->trigger;
	c.stash_fd = -1;
	/* The socket walk by bpf_rdonly_cast() where the kernel takes it
	 * (6.2+): the kfunc is registered for every program type, so the
	 * tracepoint probe answers for tracing programs too. */
	c.cast = c.k.cast_valid && ld_has(env->f, LD_F_TP_CAST);
	for (i = 0; i < NFUNC; i++) {
		struct prog_asm a;
		long n;

		if ((id = ld_btf_func(b, funcs[i], &nargs)) < 0) {
			e = id;
			ld_errf(err, errlen, "no function %s in the kernel's BTF",
			    funcs[i]);
			goto fail;
		}
		c.syscall = i;
		c.fexit_nargs = nargs;
		if ((e = asm_init(&a)) < 0)
			goto fail;
		if ((n = prog_fexit(&a, &c)) < 0) {
			e = (int)n;
			ld_errf(err, errlen, "assemble %s: %s (%s has %d arguments)",
			    names[i], strerror(-e), funcs[i], nargs);
			asm_free(&a);
			goto fail;
		}
		if (env->fault_verifier && i == 0)
			a.insn[0] = LD_FAULT_INSN;
		e = ld_load(env, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT,
		    (unsigned)id, names[i], a.insn, (size_t)n, err, errlen);
		asm_free(&a);
		if (e == -EPERM) {
			/* Not a verifier's no: the kernel takes no fexit
			 * program at all here (a refusal, exit status 3). */
			ld_errf(err, errlen, "load BPF program %s: fexit refused "
			    "with EPERM (kernel lockdown, or not root)", names[i]);
			e = -EOPNOTSUPP;
		}
		if (e < 0)
			goto fail;
		f->prog_fd[i] = e;
		if ((e = ld_tracing_attach(f->prog_fd[i], BPF_TRACE_FEXIT)) < 0) {
			/* 524, the kernel's internal ENOTSUPP: no BPF trampoline
			 * on this architecture and kernel (arm64 before 6.4). */
			if (e == -524) {
				ld_errf(err, errlen, "attach %s to %s: this kernel "
				    "has no BPF trampolines for fexit (ENOTSUPP)",
				    names[i], funcs[i]);
				e = -EOPNOTSUPP;
				goto fail;
			}
			ld_errf(err, errlen, "attach %s to %s: %s%s", names[i],
			    funcs[i], strerror(-e), ld_hint(e));
			goto fail;
		}
		f->link_fd[i] = e;
	}
	*state = f;
	return 0;
fail:
	fx_close(f);
	return e;
}

const struct ld_backend ld_backend_fexit = {
	.name = "fexit",
	.exact = LD_EXACT_AT_EXIT,
	.batched = 1,
	.open = fx_open,
	.close = fx_close,
	.never = ld_syscall_never,
};
