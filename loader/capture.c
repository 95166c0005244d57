/*
 * The capture interface (see capture.h): the perf event array and the
 * per-CPU rings every backend writes to, the kernel's BTF offsets they
 * are given, the choice of backend, and the split of perf samples into
 * records.  What the backends share below it is in load.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include <linux/bpf.h>

#include "loader/backend.h"
#include "loader/batch.h"
#include "loader/bpf.h"
#include "loader/btf.h"
#include "loader/capture.h"
#include "loader/probe.h"
#include "loader/ring.h"
#include "loader/sys.h"
#include "prog/abi.h"
#include "prog/connect.h"
#include "util/arch.h"

#define MAX_CPUS 1024
#define NBACKEND_MAX 8

struct capture {
	const struct ld_backend *be;
	void *state;
	struct prog_kern k;
	struct ld_features f;   /* ld_probe()'s answers */
	int events_fd;
	struct ld_batch b;      /* per-CPU batches; b.map_fd -1 without */
	struct ld_ring *rings;
	int nrings;
	int epfd;
	struct cap_stats st;
	int64_t lost_total;     /* see report_lost() */
	/* Why -backend auto passed over the cheaper backends, in order. */
	struct {
		const char *name;
		char why[256];
	} refused[NBACKEND_MAX];
	size_t nrefused;
	/* The caller's callbacks, while a drain runs. */
	ld_sample_fn sample;
	ld_lost_fn lost;
	void *ctx;
};

/* The order "auto" tries them in.  cgroup first: it needs neither BTF
 * nor BPF trampolines and taxes only the socket calls.  fexit is as cheap
 * and exact, and passes in the qemu guests that have trampolines, but
 * lockdown refuses it (this machine).  The tracepoint pair last: it taxes
 * every system call but needs no BTF. */
static const struct ld_backend *const backends[] = {
	&ld_backend_cgroup,
	&ld_backend_fexit,
	&ld_backend_tracepoint_exit,
	&ld_backend_tracepoint,
};
#define NBACKEND (sizeof(backends) / sizeof(backends[0]))
_Static_assert(NBACKEND <= NBACKEND_MAX, "capture: refused[] too short");

/* A struct member whose offset goes to prog_kern at off; size, when not
 * 0, is the size it must have. */
struct kfield {
	const char *s, *m;
	size_t off;
	int size;
};

static const struct kfield kmembers[] = {
#define K(s, m, f) { s, m, offsetof(struct prog_kern, f), 0 }
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
 * exit-only programs: the members of struct pt_regs util/arch/<arch>.c
 * names, each found in BTF and 8 bytes wide.  On a CPU whose table names
 * none (32-bit ones) or a kernel that lacks one, regs_valid stays 0 and
 * the enter/exit pair is used.
 */
static void
resolve_regs(const struct btf *b, struct prog_kern *k)
{
	const struct arch_reg *r = arch_cpu.args;
	int off, size, i;

	for (i = 0; i < 6; i++) {
		if (r[i].member == NULL ||
		    ld_btf_member(b, "pt_regs", r[i].member, &off, &size) < 0 ||
		    size < 8 * (r[i].index + 1))
			return;
		k->regs_arg[i] = off + 8 * r[i].index;
	}
	k->regs_valid = 1;
}

/* The task fields of prog_kern.ids, with the size each must have. */
static const struct kfield kids[] = {
	{ "task_struct", "cred", offsetof(struct prog_kern, ids.task_cred), 8 },
	{ "cred", "uid", offsetof(struct prog_kern, ids.cred_uid), 4 },
	{ "cred", "gid", offsetof(struct prog_kern, ids.cred_gid), 4 },
	{ "task_struct", "comm", offsetof(struct prog_kern, ids.task_comm), 16 },
	{ "task_struct", "cgroups", offsetof(struct prog_kern, ids.task_cgroups), 8 },
	{ "css_set", "dfl_cgrp", offsetof(struct prog_kern, ids.css_set_dfl_cgrp), 8 },
	{ "cgroup", "kn", offsetof(struct prog_kern, ids.cgroup_kn), 8 },
	{ "kernfs_node", "id", offsetof(struct prog_kern, ids.kernfs_node_id), 8 },
};

/*
 * Every member of f[0..n) into k.  Returns 0, or -errno (-EMSGSIZE for a
 * member of the wrong size) with *bad the one that failed.
 */
static int
resolve_fields(const struct btf *b, const struct kfield *f, size_t n,
    struct prog_kern *k, size_t *bad)
{
	size_t i;
	int off, size, err;

	for (i = 0; i < n; i++) {
		*bad = i;
		if ((err = ld_btf_member(b, f[i].s, f[i].m, &off, &size)) < 0)
			return err;
		if (f[i].size && size != f[i].size)
			return -EMSGSIZE;
		*(int *)((char *)k + f[i].off) = off;
	}
	return 0;
}

/* What the exit-only walk needs for bpf_rdonly_cast() (prog_kern). */
static void
resolve_cast(const struct btf *b, struct prog_kern *k)
{
	int nargs;

	if ((k->kf_rdonly_cast = ld_btf_func(b, "bpf_rdonly_cast", &nargs)) > 0 &&
	    nargs == 2 &&
	    (k->file_btf_id = ld_btf_struct(b, "file")) > 0 &&
	    (k->socket_btf_id = ld_btf_struct(b, "socket")) > 0)
		k->cast_valid = 1;
	if ((k->sak_btf_id = ld_btf_struct(b, "bpf_sock_addr_kern")) < 0)
		k->sak_btf_id = 0;
}

/* Resolve the kernel struct offsets the programs walk from b (NULL: no
 * BTF).  Without them the programs still work, but socket type and
 * protocol are unknown. */
static void
resolve_kern(const struct cap_conf *conf, const struct btf *b,
    struct prog_kern *k)
{
	size_t i;
	int err, usz, lsz;

	memset(k, 0, sizeof(*k));
	k->sock_err = -1;
	if (b == NULL)
		return;
	if ((err = resolve_fields(b, kmembers, sizeof(kmembers) /
	    sizeof(kmembers[0]), k, &i)) < 0) {
		if (conf->diag)
			fprintf(conf->diag, "ebpf-server: BTF: %s.%s: %s: socket "
			    "type and protocol will be unknown\n",
			    kmembers[i].s, kmembers[i].m, strerror(-err));
		return;
	}
	k->valid = 1;
	resolve_regs(b, k);
	/* The ids by loads, all of them or none (their helpers instead). */
	k->ids.valid = resolve_fields(b, kids, sizeof(kids) / sizeof(kids[0]),
	    k, &i) == 0;
	resolve_cast(b, k);
	if (ld_btf_member(b, "sock", "sk_err", &k->sock_err, &usz) < 0 || usz != 4)
		k->sock_err = -1;
	/* What a cgroup socket-address program's ctx points to (6.7+ has
	 * uaddrlen, and the unix hooks with it). */
	if (ld_btf_member(b, "bpf_sock_addr_kern", "uaddr", &k->sak_uaddr, &usz) == 0 &&
	    ld_btf_member(b, "bpf_sock_addr_kern", "uaddrlen", &k->sak_uaddrlen, &lsz) == 0 &&
	    usz == 8 && lsz == 4)
		k->sak_valid = 1;
}


static int
open_rings(struct capture *c, const struct cap_conf *conf, char *err,
    size_t errlen)
{
	int cpus[MAX_CPUS], n, i, e;
	long page = sysconf(_SC_PAGESIZE);
	unsigned pages, mark;

	if ((n = ld_possible_cpus(cpus, MAX_CPUS)) < 0) {
		ld_errf(err, errlen, "possible CPUs: %s", strerror(-n));
		return n;
	}
	pages = conf->ring_pages ? conf->ring_pages :
	    ld_ring_pages(sysconf(_SC_NPROCESSORS_CONF), page);
	/* Wake the reader when an eighth of the ring is full: thousands of
	 * events per wakeup, and seven eighths left for a reader that is slow
	 * to get a CPU.  cap_poll()'s time-out bounds latency when traffic
	 * is light. */
	mark = pages * (unsigned)page / 8;
	/* The perf event array is indexed by CPU number. */
	e = ld_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "events", 4, 4,
	    (unsigned)cpus[n - 1] + 1);
	if (e < 0) {
		ld_errf(err, errlen, "create perf event array: %s%s",
		    strerror(-e), ld_hint(e));
		return e;
	}
	c->events_fd = e;
	if ((c->rings = calloc((size_t)n, sizeof(*c->rings))) == NULL)
		return -ENOMEM;
	if ((c->epfd = sys_epoll_create()) < 0) {
		ld_errf(err, errlen, "epoll: %s", strerror(-c->epfd));
		return c->epfd;
	}
	for (i = 0; i < n; i++) {
		struct ld_ring *r = &c->rings[c->nrings];
		uint32_t key = (uint32_t)cpus[i];

		e = ld_ring_open(r, cpus[i], pages, mark);
		if (e == -ENODEV)
			continue; /* possible but offline */
		if (e < 0) {
			ld_errf(err, errlen, "perf ring on CPU %d: %s%s", cpus[i],
			    strerror(-e), ld_hint(e));
			return e;
		}
		c->nrings++;
		if ((e = ld_map_update(c->events_fd, &key, &r->fd, BPF_ANY)) < 0 ||
		    (e = sys_epoll_add(c->epfd, r->fd, (unsigned)i)) < 0) {
			ld_errf(err, errlen, "perf ring on CPU %d: %s", cpus[i],
			    strerror(-e));
			return e;
		}
	}
	if (c->nrings == 0) {
		ld_errf(err, errlen, "no online CPU to open a perf ring on");
		return -ENODEV;
	}
	return 0;
}

static const struct ld_backend *
find_backend(const char *name)
{
	size_t i;

	for (i = 0; i < NBACKEND; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int
cap_open(const struct cap_conf *conf, struct capture **out, char *err,
    size_t errlen)
{
	const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct ld_env env;
	struct btf *btf = NULL;
	struct capture *c;
	const struct ld_backend *be = NULL;
	char why[512];
	size_t i, len = 0;
	int e;

	*out = NULL;
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; newer ones
	 * use memory cgroups, so failing to raise it is harmless there. */
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited) < 0 && conf->diag &&
	    conf->verbose)
		fprintf(conf->diag, "ebpf-server: setrlimit RLIMIT_MEMLOCK: %s "
		    "(ignored: not needed since Linux 5.11)\n", strerror(errno));
	if (conf->backend && strcmp(conf->backend, "auto") != 0 &&
	    (be = find_backend(conf->backend)) == NULL) {
		ld_errf(err, errlen, "-backend %s: no such backend", conf->backend);
		return -EINVAL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->events_fd = c->epfd = c->b.map_fd = c->b.sock_fd = -1;
	/* Read once, for the offsets here and the backends' own lookups. */
	if ((e = ld_btf_load(BTF_VMLINUX, &btf)) < 0 && conf->diag)
		fprintf(conf->diag, "ebpf-server: %s: %s: socket type and "
		    "protocol will be unknown\n", BTF_VMLINUX, strerror(-e));
	resolve_kern(conf, btf, &c->k);
	if ((e = ld_probe(&c->f, c->k.cast_valid ? c->k.kf_rdonly_cast : 0,
	    c->k.socket_btf_id)) < 0) {
		ld_errf(err, errlen, "create a BPF map: %s%s", strerror(-e),
		    ld_hint(e));
		goto fail;
	}
	if (conf->diag && conf->verbose) {
		ld_probe_list(&c->f, why, sizeof(why));
		fprintf(conf->diag, "ebpf-server: kernel takes: %s\n", why);
	}
	if ((e = open_rings(c, conf, err, errlen)) < 0)
		goto fail;
	if (conf->batch && ld_batch_open(&c->b, c->rings, c->nrings, why,
	    sizeof(why)) < 0) {
		if (conf->diag)
			fprintf(conf->diag, "ebpf-server: per-CPU batches off "
			    "(%s): one perf output per event\n", why);
		ld_batch_close(&c->b);
	}
	memset(&env, 0, sizeof(env));
	env.diag = conf->diag;
	env.fault_verifier = conf->fault_verifier;
	env.btf = btf;
	env.events_fd = c->events_fd;
	env.batch_fd = c->b.map_fd;
	env.trigger = c->b.trigger;
	env.trigger_cookie = ld_has(&c->f, LD_F_SA_COOKIE) ? c->b.cookie : 0;
	env.k = &c->k;
	env.f = &c->f;
	env.xchg = ld_has(&c->f, LD_F_XCHG);
	if (be) {
		/* Forced: this one or nothing, with its reason. */
		if ((e = be->open(&env, &c->state, why, sizeof(why))) < 0) {
			ld_errf(err, errlen, "backend %s %s: %s", be->name,
			    e == -EOPNOTSUPP ? "unavailable" : "failed", why);
			goto fail;
		}
		c->be = be;
	} else {
		/* Quietly: a verifier log is news only for the last resort. */
		why[0] = '\0';
		for (i = 0; i < NBACKEND; i++) {
			char one[256];

			env.diag = i + 1 == NBACKEND ? conf->diag : NULL;
			e = backends[i]->open(&env, &c->state, one, sizeof(one));
			if (e == 0) {
				c->be = backends[i];
				break;
			}
			len += (size_t)snprintf(why + len, len < sizeof(why) ?
			    sizeof(why) - len : 0, "%s%s: %s", len ? "; " : "",
			    backends[i]->name, one);
			c->refused[c->nrefused].name = backends[i]->name;
			snprintf(c->refused[c->nrefused].why,
			    sizeof(c->refused[0].why), "%s", one);
			c->nrefused++;
			if (len >= sizeof(why))
				len = sizeof(why) - 1;
			if (conf->diag && i + 1 < NBACKEND)
				fprintf(conf->diag, "ebpf-server: backend %s "
				    "unavailable: %s; trying %s\n",
				    backends[i]->name, one, backends[i + 1]->name);
		}
		if (c->be == NULL) {
			ld_errf(err, errlen, "no capture backend works on this "
			    "kernel: %s", why);
			goto fail;
		}
	}
	if (c->b.map_fd >= 0 && !c->be->batched) {
		ld_batch_close(&c->b);  /* its programs output each event */
	} else if (c->b.map_fd >= 0 && ld_batch_check(&c->b, c->rings,
	    c->nrings, c->be->name, why, sizeof(why)) < 0) {
		/* Loaded again without: the few events of the last
		 * milliseconds that wait in a batch are lost, before serving. */
		if (conf->diag)
			fprintf(conf->diag, "ebpf-server: per-CPU batches off "
			    "(%s): one perf output per event\n", why);
		c->be->close(c->state);
		c->state = NULL;
		ld_batch_close(&c->b);
		env.diag = conf->diag;
		env.batch_fd = -1;
		env.trigger = 0;
		env.trigger_cookie = 0;
		if ((e = c->be->open(&env, &c->state, why, sizeof(why))) < 0) {
			ld_errf(err, errlen, "backend %s %s: %s", c->be->name,
			    e == -EOPNOTSUPP ? "unavailable" : "failed", why);
			c->be = NULL;
			goto fail;
		}
	}
	ld_btf_free(btf);
	*out = c;
	return 0;
fail:
	ld_btf_free(btf);
	cap_close(c);
	return e;
}

int
cap_trigger_fd(const struct capture *c)
{
	return c->b.trigger ? c->b.sock_fd : -1;
}

/*
 * Events lost: the kernel's PERF_RECORD_LOST counts, corrected by what
 * the batch headers say (a refused batch is one lost record to the kernel
 * but held dropped_events events).  The two arrive in either order, so
 * the caller hears of the total whenever it grows.
 */
static void
report_lost(struct capture *c, int64_t delta)
{
	c->lost_total += delta;
	if (c->lost_total > (int64_t)c->st.lost) {
		uint64_t more = (uint64_t)c->lost_total - c->st.lost;

		c->st.lost += more;
		c->lost(c->ctx, more);
	}
}

static void
count_lost(void *ctx, uint64_t n)
{
	report_lost(ctx, (int64_t)n);
}

/*
 * Every perf sample is a struct kbatch_hdr and the records after it: the
 * records of a per-CPU batch, or the one a program sent on its own.  Each
 * record says its size (struct kevent.size, KEV_SIZE()).  The kernel pads
 * raw samples to 8 bytes, so up to 7 bytes after the last record are not
 * one.  A sample that does not parse goes to the callback whole from the
 * first bad record on (ld_decode() refuses it, and it is counted).
 */
static void
split(void *ctx, const void *data, uint32_t len)
{
	struct capture *c = ctx;
	const uint8_t *p = data;
	struct kbatch_hdr h;
	uint32_t off, n = 0;
	uint16_t size;

	if (len < sizeof(h)) {
		c->st.records++;
		c->sample(c->ctx, data, len);
		return;
	}
	memcpy(&h, p, sizeof(h));
	if (h.dropped_events || h.dropped_samples)
		report_lost(c, (int64_t)h.dropped_events - (int64_t)h.dropped_samples);
	for (off = sizeof(h); len - off >= (uint32_t)KEV_HEAD; off += size) {
		memcpy(&size, p + off + offsetof(struct kevent, size), sizeof(size));
		if (size < KEV_HEAD || size > sizeof(struct kevent) ||
		    size % 8 != 0 || size > len - off) {
			n++;
			c->sample(c->ctx, p + off, 0);
			break;
		}
		n++;
		c->sample(c->ctx, p + off, size);
	}
	c->st.records += n;
}

long
cap_drain(struct capture *c, ld_sample_fn sample, ld_lost_fn lost, void *ctx)
{
	long total = 0;
	uint64_t before = c->st.records;
	int i;

	/* Flushed first, so that what the batches held is read below. */
	ld_batch_tick(&c->b, c->rings, c->nrings);
	c->sample = sample;
	c->lost = lost;
	c->ctx = ctx;
	for (i = 0; i < c->nrings; i++) {
		long r = ld_ring_drain(&c->rings[i], split, count_lost, c);

		if (r < 0)
			total = r;
	}
	return total < 0 ? total : (long)(c->st.records - before);
}

long
cap_poll(struct capture *c, int timeout_ms, ld_sample_fn sample,
    ld_lost_fn lost, void *ctx)
{
	int n;

	if ((n = sys_epoll_wait(c->epfd, timeout_ms)) < 0)
		return n;
	return cap_drain(c, sample, lost, ctx);
}

void
cap_stats(const struct capture *c, struct cap_stats *out)
{
	*out = c->st;
	out->flushes = c->b.flushes;
}

const char *
cap_backend(const struct capture *c)
{
	return c->be->name;
}

unsigned
cap_exact(const struct capture *c)
{
	unsigned bits = c->be->exact;
	const char *why[CAP_NOT_SEEN_MAX];

	if (c->be->missing)
		bits &= ~c->be->missing(c->state, why, CAP_NOT_SEEN_MAX);
	return bits;
}

size_t
cap_not_seen(const struct capture *c, const char **out, size_t n)
{
	const char *why[CAP_NOT_SEEN_MAX] = { NULL };
	size_t k = 0, i;

	for (i = 0; c->be->never && c->be->never[i] && k < n; i++)
		out[k++] = c->be->never[i];
	if (c->be->missing)
		c->be->missing(c->state, why, CAP_NOT_SEEN_MAX);
	for (i = 0; i < CAP_NOT_SEEN_MAX && why[i] && k < n; i++)
		out[k++] = why[i];
	return k;
}

int
cap_batched(const struct capture *c)
{
	return c->b.map_fd >= 0;
}

const char *
cap_refused(const struct capture *c, size_t i, const char **name)
{
	if (i >= c->nrefused)
		return NULL;
	*name = c->refused[i].name;
	return c->refused[i].why;
}

const char *const *
cap_backend_names(void)
{
	static const char *names[NBACKEND + 2];
	size_t i;

	names[0] = "auto";
	for (i = 0; i < NBACKEND; i++)
		names[i + 1] = backends[i]->name;
	return names;
}

const char *
cap_exact_name(unsigned bit)
{
	static const char *const names[] = {
		"return_code", "socket_type", "ppid", "result", "unix",
		"syscall",
	};

	return bit < sizeof(names) / sizeof(names[0]) ? names[bit] : NULL;
}

size_t
cap_exact_names(const struct capture *c, const char **out, size_t max)
{
	unsigned bits = cap_exact(c), bit;
	size_t n = 0;

	for (bit = 0; cap_exact_name(bit) && n + 1 < max; bit++)
		if (bits & (1u << bit))
			out[n++] = cap_exact_name(bit);
	out[n] = NULL;
	return n;
}

void
cap_close(struct capture *c)
{
	int i;

	if (c == NULL)
		return;
	/* Detach first so no program runs while the rest goes away. */
	if (c->be)
		c->be->close(c->state);
	ld_batch_close(&c->b);
	for (i = 0; i < c->nrings; i++)
		ld_ring_close(&c->rings[i]);
	free(c->rings);
	if (c->epfd >= 0)
		sys_close(c->epfd);
	if (c->events_fd >= 0)
		sys_close(c->events_fd);
	free(c);
}
