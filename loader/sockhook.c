/*
 * The "cgroup" backend: BPF_PROG_TYPE_CGROUP_SOCK_ADDR programs on the
 * connect4/connect6/sendmsg4/sendmsg6 hooks (and connect_unix/
 * sendmsg_unix on Linux 6.7+) of the cgroup2 root, so every process of the
 * host is seen, containers included.  Attached with BPF_LINK_CREATE: a
 * link dies with the last fd, so nothing stays attached after a crash or
 * kill -9 (BPF_PROG_ATTACH would leave the programs behind).
 *
 * The hooks run inside the call before it does its work: they cannot see
 * its return code.  No syscall tracepoint is involved, so no other system
 * call pays for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "loader/backend.h"
#include "loader/bpf.h"
#include "loader/capture.h"
#include "loader/probe.h"
#include "loader/sys.h"
#include "prog/asm.h"
#include "prog/insn.h"
#include "loader/tracefs.h"
#include "prog/outcome.h"
#include "prog/sockaddr.h"
#include "util/cgroup.h"

/* Newer than the UAPI headers we build with (Linux 6.7). */
#define ATTACH_UNIX_CONNECT 49
#define ATTACH_UNIX_SENDMSG 50

/* Where we mount cgroup2 when the host has no cgroup2 mount at all. */
#define OWN_MOUNT "/run/ebpf-server-cgroup2"

static const struct hook {
	const char *name;       /* the program's name, as bpftool shows it */
	unsigned attach;        /* expected_attach_type, link attach_type */
} hooks[HOOK_N] = {
	[HOOK_CONNECT4] = { "es_connect4", BPF_CGROUP_INET4_CONNECT },
	[HOOK_CONNECT6] = { "es_connect6", BPF_CGROUP_INET6_CONNECT },
	[HOOK_SENDMSG4] = { "es_sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
	[HOOK_SENDMSG6] = { "es_sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
	[HOOK_CONNECT_UNIX] = { "es_connect_unix", ATTACH_UNIX_CONNECT },
	[HOOK_SENDMSG_UNIX] = { "es_sendmsg_unix", ATTACH_UNIX_SENDMSG },
};

struct hookset {
	int cgroup_fd;
	int prog_fd[HOOK_N];
	int link_fd[HOOK_N];
	int outcome_prog;       /* sock:inet_sock_set_state program */
	int outcome_tp;         /* and its perf event */
	int no_unix;            /* the kernel has no unix hooks (< 6.7) */
	int no_ppid;            /* loaded without the task walk */
	int no_result;          /* no TCP outcomes (no sock tracepoints) */
	char result_why[160];
};

/* The cgroup2 root: the host's mount, or one of our own. */
static int
cgroup_root(char *dir, size_t n, char *err, size_t errlen)
{
	int e;

	if ((e = cg_mount(dir, n)) == 0)
		return 0;
	if (e != -ENOENT) {
		ld_errf(err, errlen, "/proc/self/mountinfo: %s", strerror(-e));
		return e;
	}
	/* No cgroup2 anywhere (a pure v1 host): mount one of our own, as we
	 * do tracefs.  Its root is the same hierarchy for every process. */
	mkdir(OWN_MOUNT, 0700);
	if ((e = sys_mount_cgroup2(OWN_MOUNT)) < 0) {
		ld_errf(err, errlen, "no cgroup2 mount, and mounting one at "
		    OWN_MOUNT " failed: %s%s", strerror(-e), ld_hint(e));
		return e;
	}
	snprintf(dir, n, "%s", OWN_MOUNT);
	return 0;
}

static void
hook_close(void *state)
{
	struct hookset *h = state;

	if (h == NULL)
		return;
	/* Links first: the programs stop running on every connect. */
	ld_close_fds(h->link_fd, HOOK_N);
	ld_close_fds(h->prog_fd, HOOK_N);
	ld_close_fds(&h->outcome_tp, 1);
	ld_close_fds(&h->outcome_prog, 1);
	if (h->cgroup_fd >= 0)
		sys_close(h->cgroup_fd);
	free(h);
}

/* Assemble and load hook i with conf c; the fd or -errno with err. */
static int
load_hook(const struct ld_env *env, const struct prog_sa_conf *c, int first,
    FILE *diag, char *err, size_t errlen)
{
	struct ld_env quiet = *env;
	struct prog_asm a;
	long n;
	int fd;

	if ((fd = asm_init(&a)) < 0)
		return fd;
	if ((n = prog_sock_addr(&a, c)) < 0) {
		ld_errf(err, errlen, "assemble %s: %s", hooks[c->hook].name,
		    strerror((int)-n));
		asm_free(&a);
		return (int)n;
	}
	if (env->fault_verifier && first)
		a.insn[0] = LD_FAULT_INSN;
	quiet.diag = diag;
	fd = ld_load(&quiet, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, hooks[c->hook].attach,
	    0, hooks[c->hook].name, a.insn, (size_t)n, err, errlen);
	asm_free(&a);
	return fd;
}

/*
 * The outcome of TCP connects: a program on sock:inet_sock_set_state,
 * which is not a syscall tracepoint and taxes nothing but TCP state
 * changes.  Without it the backend still works; results stay unknown.
 * Returns 0 or -errno with err.
 */
static int
open_outcome(struct hookset *h, const struct ld_env *env, char *err,
    size_t errlen)
{
	static const char *const grp = "sock", *const tp = "inet_sock_set_state";
	struct prog_outcome_conf c;
	struct prog_asm a;
	char tracefs[256];
	long n;
	int e, size;

	if ((e = ld_tracefs_find(tracefs, sizeof(tracefs))) < 0) {
		ld_errf(err, errlen, "tracefs: %s", strerror(-e));
		return e;
	}
	memset(&c, 0, sizeof(c));
	c.events_fd = env->events_fd;
	/* Softirqs run it: it may interrupt a hook that holds the batch, and
	 * only the atomic exchange keeps the two apart (frame.c). */
	c.batch_fd = env->xchg ? env->batch_fd : -1;
	c.xchg = env->xchg;
	c.sock_err = env->k->sock_err;
	if ((e = ld_tp_field(tracefs, grp, tp, "skaddr", &c.skaddr, &size)) < 0 ||
	    (e = ld_tp_field(tracefs, grp, tp, "oldstate", &c.oldstate, &size)) < 0 ||
	    (e = ld_tp_field(tracefs, grp, tp, "newstate", &c.newstate, &size)) < 0 ||
	    (e = ld_tp_field(tracefs, grp, tp, "protocol", &c.protocol, &size)) < 0) {
		ld_errf(err, errlen, "tracepoint sock:%s: %s", tp, strerror(-e));
		return e;
	}
	if ((e = asm_init(&a)) < 0)
		return e;
	if ((n = prog_tcp_outcome(&a, &c)) < 0) {
		asm_free(&a);
		ld_errf(err, errlen, "assemble es_tcp_outcome: %s", strerror((int)-n));
		return (int)n;
	}
	e = ld_load(env, BPF_PROG_TYPE_TRACEPOINT, 0, 0, "es_tcp_outcome", a.insn,
	    (size_t)n, err, errlen);
	asm_free(&a);
	if (e < 0)
		return e;
	h->outcome_prog = e;
	if ((e = ld_tp_attach(tracefs, grp, tp, h->outcome_prog, err, errlen)) < 0)
		return e;
	h->outcome_tp = e;
	return 0;
}

static int
hook_open(const struct ld_env *env, void **state, char *err, size_t errlen)
{
	struct prog_sa_conf c;
	struct hookset *h;
	char dir[4096], why[256];
	int i, e;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->cgroup_fd = h->outcome_prog = h->outcome_tp = -1;
	for (i = 0; i < HOOK_N; i++)
		h->prog_fd[i] = h->link_fd[i] = -1;
	if ((e = cgroup_root(dir, sizeof(dir), err, errlen)) < 0)
		goto fail;
	if ((e = h->cgroup_fd = sys_open_dir(dir)) < 0) {
		ld_errf(err, errlen, "cgroup2 root %s: %s", dir, strerror(-e));
		goto fail;
	}
	/* What the programs cannot do without, each refused in one line. */
	if ((e = ld_need(env->f, LD_F_SA_IDS, "cgroup", err, errlen)) < 0 ||
	    (e = ld_need(env->f, LD_F_SA_OUTPUT, "cgroup", err, errlen)) < 0 ||
	    (e = ld_need(env->f, LD_F_SA_SPILL, "cgroup", err, errlen)) < 0)
		goto fail;
	memset(&c, 0, sizeof(c));
	c.events_fd = env->events_fd;
	c.batch_fd = env->batch_fd;
	c.xchg = env->xchg;
	c.trigger = env->trigger;
	c.trigger_cookie = env->trigger_cookie;
	c.k = *env->k;
	/* The cheapest form the kernel takes (loader/probe.c): the coarse
	 * clock, the task's fields by plain loads from the BTF-typed task,
	 * else the parent pid by probe reads, else none. */
	c.coarse_time = ld_has(env->f, LD_F_SA_COARSE);
	c.task_btf = c.k.valid && ld_has(env->f, LD_F_SA_TASK_BTF);
	if (c.k.valid && !c.task_btf && !ld_has(env->f, LD_F_SA_TASK))
		c.k.valid = 0;
	c.cast = c.k.cast_valid && c.k.sak_btf_id > 0 &&
	    ld_has(env->f, LD_F_SA_CAST);
	/* Without BTF there is no task walk: ppid stays 0. */
	if (!c.k.valid)
		h->no_ppid = 1;
	for (i = 0; i < HOOK_N; i++) {
		int unix_hook = i == HOOK_CONNECT_UNIX || i == HOOK_SENDMSG_UNIX;

		c.hook = i;
		if (unix_hook && (h->no_unix || !c.k.sak_valid)) {
			h->no_unix = 1;
			continue;
		}
		/* Chosen from the probes' answers: a rejection is a bug and
		 * its verifier log is printed whole.  The unix hooks are
		 * tried quietly: before 6.7 there is no such attach type. */
		e = load_hook(env, &c, i == 0, unix_hook ? NULL : env->diag,
		    err, errlen);
		if (e < 0 && unix_hook && c.cast && !env->fault_verifier) {
			/* The path's pointer and length by probe reads. */
			c.cast = 0;
			if (env->diag)
				fprintf(env->diag, "ebpf-server: bpf_rdonly_cast() "
				    "refused: unix paths take probe reads\n");
			e = load_hook(env, &c, 0, NULL, err, errlen);
		}
		if (e < 0 && unix_hook) {
			/* Before 6.7 the kernel knows no such attach type. */
			h->no_unix = 1;
			continue;
		}
		if (e < 0)
			goto fail;
		h->prog_fd[i] = e;
		e = ld_link_create(h->prog_fd[i], h->cgroup_fd, hooks[i].attach);
		if (e < 0 && unix_hook) {
			h->no_unix = 1;
			continue;
		}
		if (e < 0) {
			snprintf(why, sizeof(why), "%s", strerror(-e));
			ld_errf(err, errlen, "attach %s to cgroup %s with "
			    "BPF_LINK_CREATE: %s%s%s", hooks[i].name, dir, why,
			    e == -EINVAL ? " (kernel before 5.7, or without "
			    "CONFIG_CGROUP_BPF?)" : "", ld_hint(e));
			goto fail;
		}
		h->link_fd[i] = e;
	}
	if (open_outcome(h, env, h->result_why, sizeof(h->result_why)) < 0) {
		h->no_result = 1;
		ld_close_fds(&h->outcome_tp, 1);
		ld_close_fds(&h->outcome_prog, 1);
	}
	*state = h;
	return 0;
fail:
	hook_close(h);
	return e;
}

static unsigned
hook_missing(void *state, const char **why, size_t n)
{
	struct hookset *h = state;
	unsigned bits = 0;
	size_t i = 0;

	if (h->no_ppid) {
		bits |= CAP_EXACT_PPID;
		if (i < n)
			why[i++] = "the parent pid (ppid stays 0: this kernel has "
			    "no BTF)";
	}
	if (h->no_result) {
		bits |= CAP_EXACT_TCP_RESULT;
		if (i < n)
			why[i++] = "the outcome of TCP connects (result stays "
			    "unknown)";
	}
	if (h->no_unix) {
		bits |= CAP_EXACT_UNIX;
		if (i < n)
			why[i++] = "unix socket connects and sends (this kernel "
			    "has no cgroup unix socket hooks, Linux 6.7+): use "
			    "-backend tracepoint-exit to see them";
	}
	if (i < n)
		why[i] = NULL;
	return bits;
}

const struct ld_backend ld_backend_cgroup = {
	.name = "cgroup",
	.exact = CAP_EXACT_SOCKET | CAP_EXACT_PPID | CAP_EXACT_UNIX |
	    CAP_EXACT_TCP_RESULT,
	.batched = 1,
	.open = hook_open,
	.close = hook_close,
	.missing = hook_missing,
};
