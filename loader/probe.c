/* Setting up the connect() probe and reading its events. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/perf_event.h>

#include "loader/bpf.h"
#include "loader/btf.h"
#include "loader/probe.h"
#include "loader/ring.h"
#include "loader/sys.h"
#include "loader/tracefs.h"
#include "prog/asm.h"
#include "prog/connect.h"
#include "prog/insn.h"
#include "util/event.h"

#define MAX_CPUS 1024
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

struct probe {
	char tracefs[256];
	int stash_fd;
	int events_fd;
	int prog_fd[NPROG];
	int tp_fd[NPROG];       /* perf events holding the attachment */
	struct ld_ring *rings;
	int nrings;
	int epfd;
	int sockinfo;
	int exit_only;          /* one program per call at sys_exit */
};

static void
errf(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

/* What a permission error means to the user. */
static const char *
hint(int e)
{
	if (e == -EPERM || e == -EACCES)
		return " (run as root, or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)";
	return "";
}

static struct {
	const char *s, *m;
	size_t off;
} const kmembers[] = {
#define K(s, m, f) { s, m, offsetof(struct prog_kern, f) }
	K("task_struct", "files", task_files),
	K("task_struct", "real_parent", task_real_parent),
	K("task_struct", "tgid", task_tgid),
	K("files_struct", "fdt", files_fdt),
	K("fdtable", "max_fds", fdt_max_fds),
	K("fdtable", "fd", fdt_fd),
	K("file", "private_data", file_private_data),
	K("socket", "type", socket_type),
	K("socket", "file", socket_file),
	K("socket", "sk", socket_sk),
	K("sock", "sk_protocol", sock_protocol),
#undef K
};

/*
 * Where the saved user registers hold system call arguments 0-5, for the
 * exit-only programs.  x86-64 passes them in di, si, dx, r10, r8, r9;
 * arm64 in x0-x5, x0 being overwritten by the return value and kept in
 * orig_x0.  Elsewhere regs_valid stays 0 and the enter/exit pair is used.
 */
static void
resolve_regs(const struct btf *b, struct prog_kern *k)
{
	static const char *const x86[6] = { "di", "si", "dx", "r10", "r8", "r9" };
	int off, size, i;

	for (i = 0; i < 6; i++) {
		if (ld_btf_member(b, "pt_regs", x86[i], &off, &size) < 0 || size != 8)
			break;
		k->regs_arg[i] = off;
	}
	if (i == 6) {
		k->regs_valid = 1;
		return;
	}
	if (ld_btf_member(b, "user_pt_regs", "regs", &off, &size) == 0 &&
	    ld_btf_member(b, "pt_regs", "orig_x0", &k->regs_arg[0], &size) == 0 &&
	    size == 8) {
		/* struct pt_regs starts with the user_pt_regs regs[31]. */
		for (i = 1; i < 6; i++)
			k->regs_arg[i] = off + 8 * i;
		k->regs_valid = 1;
	}
}

/* Resolve the kernel struct offsets the enter program walks.  Without
 * them the probe still works, but socket type and protocol are unknown. */
static void
resolve_kern(const struct probe_conf *conf, struct prog_kern *k)
{
	const char *path = conf->btf_path ? conf->btf_path : "/sys/kernel/btf/vmlinux";
	struct btf *b;
	size_t i;
	int err;

	memset(k, 0, sizeof(*k));
	if ((err = ld_btf_load(path, &b)) < 0) {
		if (conf->diag)
			fprintf(conf->diag, "ebpf-server: %s: %s: socket type and "
			    "protocol will be unknown\n", path, strerror(-err));
		return;
	}
	for (i = 0; i < sizeof(kmembers) / sizeof(kmembers[0]); i++) {
		int off, size;

		err = ld_btf_member(b, kmembers[i].s, kmembers[i].m, &off, &size);
		if (err < 0) {
			if (conf->diag)
				fprintf(conf->diag, "ebpf-server: BTF: %s.%s: %s: socket "
				    "type and protocol will be unknown\n",
				    kmembers[i].s, kmembers[i].m, strerror(-err));
			ld_btf_free(b);
			return;
		}
		*(int *)((char *)k + kmembers[i].off) = off;
	}
	k->valid = 1;
	resolve_regs(b, k);
	ld_btf_free(b);
}

/* Field offsets of call's tracepoint records into c.  All the fields are
 * system call arguments or its return value, each of the kernel's long:
 * 8 bytes wide, or 4 on a 32-bit kernel; that size goes into c too. */
static int
tp_offsets(struct probe *p, int call, struct prog_conf *c, char *err, size_t errlen)
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
			errf(err, errlen, "tracepoint syscalls:%s field %s: %s%s",
			    f[i].tp, f[i].field, strerror(-e),
			    e == -ENOENT ? " (kernel without CONFIG_FTRACE_SYSCALLS?)" : "");
			return e;
		}
		if ((size != 4 && size != 8) || (c->arg_size && size != c->arg_size)) {
			errf(err, errlen, "tracepoint syscalls:%s field %s has "
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
load_prog(struct probe *p, const struct probe_conf *conf, int which,
    const struct prog_conf *c, char *err, size_t errlen)
{
	struct prog_asm a;
	char *log = NULL;
	long n;
	int fd;

	if ((fd = asm_init(&a)) < 0)
		return fd;
	if (p->exit_only)
		n = prog_call_exit(&a, c);
	else
		n = which % 2 ? prog_connect_exit(&a, c) : prog_connect_enter(&a, c);
	if (n < 0) {
		errf(err, errlen, "assemble %s: %s", tp_name(which), strerror((int)-n));
		asm_free(&a);
		return (int)n;
	}
	/* r0 = *(u64 *)(r10 + 8): above the frame, which no verifier accepts;
	 * the rest of the program stays as it was, for the listing. */
	if (conf->fault_verifier && which == (p->exit_only ? 1 : 0)) /* connect's first */
		a.insn[0] = BPF_LDX_MEM(BPF_DW, BPF_REG_0,
		    BPF_REG_10, 8);
	fd = ld_prog_load(BPF_PROG_TYPE_TRACEPOINT, tp_name(which) + 4,
	    a.insn, (size_t)n, &log);
	if (fd < 0) {
		/* The whole story: the verifier's log and what it was given. */
		if (conf->diag) {
			fprintf(conf->diag, "ebpf-server: program %s rejected: %s\n"
			    "--- verifier log ---\n%s\n--- program (%ld instructions) ---\n",
			    tp_name(which), strerror(-fd), log ? log : "(none)", n);
			asm_dump(a.insn, (size_t)n, conf->diag);
		}
		errf(err, errlen, "load BPF program %s: %s%s", tp_name(which),
		    strerror(-fd), hint(fd));
	}
	free(log);
	asm_free(&a);
	if (fd >= 0)
		p->prog_fd[which] = fd;
	return fd < 0 ? fd : 0;
}

static int
attach(struct probe *p, int which, char *err, size_t errlen)
{
	struct perf_event_attr attr;
	int id, fd, e;

	id = ld_tp_id(p->tracefs, "syscalls", tp_name(which));
	if (id < 0) {
		errf(err, errlen, "tracepoint syscalls:%s: %s", tp_name(which),
		    id == -ENOENT ? "not found (kernel without CONFIG_FTRACE_SYSCALLS?)" :
		    strerror(-id));
		return id;
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (uint64_t)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	/* One event on CPU 0 for all tasks: the program hangs off the
	 * tracepoint itself and runs on every CPU. */
	fd = sys_perf_event_open(&attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		errf(err, errlen, "perf_event_open syscalls:%s: %s%s",
		    tp_name(which), strerror(-fd), hint(fd));
		return fd;
	}
	p->tp_fd[which] = fd;
	if ((e = sys_ioctl(fd, PERF_EVENT_IOC_SET_BPF, (unsigned long)p->prog_fd[which])) < 0 ||
	    (e = sys_ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) < 0) {
		errf(err, errlen, "attach to syscalls:%s: %s%s", tp_name(which),
		    strerror(-e), hint(e));
		return e;
	}
	return 0;
}

static int
open_rings(struct probe *p, const struct probe_conf *conf, char *err, size_t errlen)
{
	int cpus[MAX_CPUS], n, i, e;

	if ((n = ld_possible_cpus(cpus, MAX_CPUS)) < 0) {
		errf(err, errlen, "possible CPUs: %s", strerror(-n));
		return n;
	}
	/* The perf event array is indexed by CPU number. */
	e = ld_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "events", 4, 4,
	    (unsigned)cpus[n - 1] + 1);
	if (e < 0) {
		errf(err, errlen, "create perf event array: %s%s", strerror(-e), hint(e));
		return e;
	}
	p->events_fd = e;
	if ((p->rings = calloc((size_t)n, sizeof(*p->rings))) == NULL)
		return -ENOMEM;
	if ((p->epfd = sys_epoll_create()) < 0) {
		errf(err, errlen, "epoll: %s", strerror(-p->epfd));
		return p->epfd;
	}
	for (i = 0; i < n; i++) {
		struct ld_ring *r = &p->rings[p->nrings];
		uint32_t key = (uint32_t)cpus[i];

		e = ld_ring_open(r, cpus[i], conf->ring_pages, conf->watermark);
		if (e == -ENODEV)
			continue; /* possible but offline */
		if (e < 0) {
			errf(err, errlen, "perf ring on CPU %d: %s%s", cpus[i],
			    strerror(-e), hint(e));
			return e;
		}
		p->nrings++;
		if ((e = ld_map_update(p->events_fd, &key, &r->fd, BPF_ANY)) < 0 ||
		    (e = sys_epoll_add(p->epfd, r->fd, (unsigned)i)) < 0) {
			errf(err, errlen, "perf ring on CPU %d: %s", cpus[i], strerror(-e));
			return e;
		}
	}
	if (p->nrings == 0) {
		errf(err, errlen, "no online CPU to open a perf ring on");
		return -ENODEV;
	}
	return 0;
}

/* Close every program and attachment (not the rings). */
static void
detach_all(struct probe *p)
{
	int i;

	for (i = 0; i < NPROG; i++) {
		if (p->tp_fd[i] >= 0) {
			sys_ioctl(p->tp_fd[i], PERF_EVENT_IOC_DISABLE, 0);
			sys_close(p->tp_fd[i]);
		}
		if (p->prog_fd[i] >= 0)
			sys_close(p->prog_fd[i]);
		p->tp_fd[i] = p->prog_fd[i] = -1;
	}
	p->exit_only = 0;
}

/* One program per call, at sys_exit only.  Returns 0 or -errno with err;
 * the verifier's log goes to diag only when this backend was asked for. */
static int
open_exit_only(struct probe *p, const struct probe_conf *conf,
    struct prog_conf *c, char *err, size_t errlen)
{
	struct probe_conf quiet = *conf;
	int i, e;

	if (!conf->backend)
		quiet.diag = NULL;
	p->exit_only = 1;
	for (i = 0; i < NCALL; i++)
		if ((e = tp_offsets(p, i, c, err, errlen)) < 0 ||
		    (e = load_prog(p, &quiet, 2 * i + 1, c, err, errlen)) < 0 ||
		    (e = attach(p, 2 * i + 1, err, errlen)) < 0)
			return e;
	return 0;
}

int
probe_open(const struct probe_conf *conf, struct probe **out, char *err,
    size_t errlen)
{
	struct prog_conf c;
	struct probe *p;
	int e, i;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->stash_fd = p->events_fd = p->epfd = -1;
	for (i = 0; i < NPROG; i++)
		p->prog_fd[i] = p->tp_fd[i] = -1;

	if ((e = ld_tracefs_find(p->tracefs, sizeof(p->tracefs))) < 0) {
		errf(err, errlen, "tracefs: not mounted and mounting it at "
		    "/sys/kernel/tracing failed: %s%s", strerror(-e), hint(e));
		goto fail;
	}
	memset(&c, 0, sizeof(c));
	resolve_kern(conf, &c.k);
	p->sockinfo = c.k.valid;
	if ((e = open_rings(p, conf, err, errlen)) < 0)
		goto fail;
	c.events_fd = p->events_fd;

	/* The cheapest design the kernel allows: exit-only needs BTF (for
	 * the registers and the typed task pointer) and a kernel whose
	 * tracepoint programs may call bpf_get_current_task_btf() (5.11). */
	if (!conf->backend || strcmp(conf->backend, "tracepoint") != 0) {
		if (c.k.valid && c.k.regs_valid) {
			if ((e = open_exit_only(p, conf, &c, err, errlen)) == 0)
				goto done;
		} else {
			e = -EOPNOTSUPP;
			errf(err, errlen, "backend tracepoint-exit needs BTF with "
			    "struct pt_regs of x86-64 or arm64");
		}
		if (conf->backend && strcmp(conf->backend, "tracepoint-exit") == 0)
			goto fail;
		if (conf->diag)
			fprintf(conf->diag, "ebpf-server: %s: using the enter/exit "
			    "pair\n", err);
		detach_all(p);
	}

	e = ld_map_create(BPF_MAP_TYPE_LRU_HASH, "stash", sizeof(uint64_t),
	    sizeof(struct kevent), STASH_ENTRIES);
	if (e < 0) {
		errf(err, errlen, "create stash map: %s%s", strerror(-e), hint(e));
		goto fail;
	}
	p->stash_fd = e;
	c.stash_fd = p->stash_fd;
	for (i = 0; i < NCALL; i++) {
		/* Exit first: an enter without its exit would leave stash
		 * entries behind. */
		if ((e = tp_offsets(p, i, &c, err, errlen)) < 0 ||
		    (e = load_prog(p, conf, 2 * i + 1, &c, err, errlen)) < 0 ||
		    (e = load_prog(p, conf, 2 * i, &c, err, errlen)) < 0 ||
		    (e = attach(p, 2 * i + 1, err, errlen)) < 0 ||
		    (e = attach(p, 2 * i, err, errlen)) < 0)
			goto fail;
	}
done:
	*out = p;
	return 0;
fail:
	probe_close(p);
	return e;
}

long
probe_poll(struct probe *p, int timeout_ms, ld_sample_fn sample,
    ld_lost_fn lost, void *ctx)
{
	long total = 0;
	int i, n;

	if ((n = sys_epoll_wait(p->epfd, timeout_ms)) < 0)
		return n;
	for (i = 0; i < p->nrings; i++) {
		long r = ld_ring_drain(&p->rings[i], sample, lost, ctx);

		if (r > 0)
			total += r;
	}
	return total;
}

const char *
probe_backend(const struct probe *p)
{
	return p->exit_only ? "tracepoint-exit" : "tracepoint";
}

int
probe_has_socket_info(const struct probe *p)
{
	return p->sockinfo;
}

void
probe_close(struct probe *p)
{
	int i;

	if (p == NULL)
		return;
	/* Detach first so no program runs while the rest goes away. */
	for (i = 0; i < NPROG; i++) {
		if (p->tp_fd[i] >= 0) {
			sys_ioctl(p->tp_fd[i], PERF_EVENT_IOC_DISABLE, 0);
			sys_close(p->tp_fd[i]);
		}
	}
	for (i = 0; i < NPROG; i++)
		if (p->prog_fd[i] >= 0)
			sys_close(p->prog_fd[i]);
	for (i = 0; i < p->nrings; i++)
		ld_ring_close(&p->rings[i]);
	free(p->rings);
	if (p->epfd >= 0)
		sys_close(p->epfd);
	if (p->events_fd >= 0)
		sys_close(p->events_fd);
	if (p->stash_fd >= 0)
		sys_close(p->stash_fd);
	free(p);
}
