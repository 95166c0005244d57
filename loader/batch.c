/*
 * Per-CPU batches: one bpf_perf_event_output() per batch instead of one
 * per event.  A batch is KBATCH_CAP (4 KiB) of records of their own size
 * (prog/abi.h), sent once fewer than a whole struct kevent's bytes are
 * left: 33 to 38 inet events (104 to 120 bytes each), 20 unix ones.  A
 * record waits in its CPU's batch until the batch is full or until the
 * reader flushes that CPU, every FLUSH_MS: it moves itself to
 * the CPU (sched_setaffinity()) and connects a UDP socket of its own to
 * 127.0.0.1:KTRIGGER_PORT, which sends nothing but runs every backend's
 * connect program there; each recognises the reader (the syscall
 * backends by its pid_tgid, the cgroup programs by that address and,
 * where the kernel has it, the socket's cookie), hands the batch over
 * instead of recording an event (prog_emit_trigger()), and lets the
 * connect go on.  No bpf() call, which the sandboxed reader may not make
 * (and before Linux 6.5 BPF_PROG_TEST_RUN needed privileges), and no
 * timer: a cpu-clock perf event does not fire on an idle CPU of a VM.
 *
 * So batches are only on when the reader can reach every CPU that has a
 * ring and every program recognises it; otherwise (an offline CPU, a
 * cpuset of a container, a PID namespace under the syscall backends) a
 * record could wait there for ever, and the programs output each event
 * instead.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/bpf.h>

#include "loader/backend.h"
#include "loader/batch.h"
#include "loader/bpf.h"
#include "loader/ring.h"
#include "loader/sys.h"
#include "prog/abi.h"
#include "util/timefmt.h"

#define FLUSH_MS 200
#define MAX_CPUS 1024

/*
 * Run the trigger on every CPU that has a ring, then give the thread its
 * own CPU mask back.  Returns 0, or -errno and *bad the CPU it could not
 * move to, -1 for its own mask (the other CPUs are still flushed).
 */
static int
flush_all(struct ld_batch *b, const struct ld_ring *rings, int n, int *bad)
{
	cpu_set_t mine, one;
	int i, e, err = 0;

	if ((e = sys_get_affinity(&mine)) < 0) {
		*bad = -1;
		return e;
	}
	for (i = 0; i < n; i++) {
		CPU_ZERO(&one);
		CPU_SET(rings[i].cpu, &one);
		if ((e = sys_set_affinity(&one)) < 0) {
			if (!err)
				*bad = rings[i].cpu;
			err = err ? err : e;
			continue;
		}
		sys_connect_lo(b->sock_fd, KTRIGGER_PORT);
		b->flushes++;
	}
	if ((e = sys_set_affinity(&mine)) < 0 && !err) {
		*bad = -1;
		err = e;
	}
	b->last_ns = time_mono_ns();
	return err;
}

/* What flush_all() failed at, for the user. */
static int
affinity_err(char *err, size_t errlen, int bad, int e)
{
	if (bad >= 0)
		ld_errf(err, errlen, "sched_setaffinity to CPU %d: %s", bad,
		    strerror(-e));
	else
		ld_errf(err, errlen, "the reader's own CPU mask: %s", strerror(-e));
	return e;
}

int
ld_batch_open(struct ld_batch *b, const struct ld_ring *rings, int n,
    char *err, size_t errlen)
{
	int e, bad;

	e = ld_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "batch", 4,
	    sizeof(struct kbatch), 1);
	if (e < 0) {
		ld_errf(err, errlen, "per-CPU array map: %s", strerror(-e));
		return e;
	}
	b->map_fd = e;
	if ((e = sys_udp_socket()) < 0) {
		ld_errf(err, errlen, "UDP socket: %s", strerror(-e));
		return e;
	}
	b->sock_fd = e;
	if ((e = flush_all(b, rings, n, &bad)) < 0)
		return affinity_err(err, errlen, bad, e);
	b->tid = (int)syscall(SYS_gettid);
	b->trigger = (uint64_t)getpid() << 32 | (uint32_t)b->tid;
	/* What the socket hooks know the flush by (Linux 4.12+; 0 without:
	 * then by the pid_tgid above, which a PID namespace hides). */
	if (sys_socket_cookie(b->sock_fd, &b->cookie) < 0)
		b->cookie = 0;
	return 0;
}

/*
 * Every ring's CPU must show a run of the flush in its batch (struct
 * kbatch.flushes).  This catches what the trigger cannot see coming: a
 * PID namespace for the backends that know the flush by its pid_tgid
 * (the kernel's pid is not getpid()), a cgroup the server is not in.
 */
int
ld_batch_check(struct ld_batch *b, const struct ld_ring *rings, int n,
    const char *backend, char *err, size_t errlen)
{
	int cpus[MAX_CPUS], np, i, j, e, bad;
	uint32_t key = 0;
	struct kbatch *v;

	if ((e = flush_all(b, rings, n, &bad)) < 0)
		return affinity_err(err, errlen, bad, e);
	if ((np = ld_possible_cpus(cpus, MAX_CPUS)) < 0) {
		ld_errf(err, errlen, "possible CPUs: %s", strerror(-np));
		return np;
	}
	/* One value per possible CPU, in their order; 8-byte sized. */
	if ((v = calloc((size_t)np, sizeof(*v))) == NULL)
		return -ENOMEM;
	if ((e = ld_map_lookup(b->map_fd, &key, v)) < 0) {
		ld_errf(err, errlen, "read the batch map: %s", strerror(-e));
		free(v);
		return e;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < np && cpus[j] != rings[i].cpu; j++)
			;
		if (j == np || v[j].flushes == 0) {
			ld_errf(err, errlen, "the reader's connect did not reach "
			    "the %s program on CPU %d (a PID namespace, which "
			    "hides its pid from the syscall backends, or a "
			    "cgroup the server is not in?)", backend, rings[i].cpu);
			free(v);
			return -ESRCH;
		}
	}
	free(v);
	return 0;
}

void
ld_batch_tick(struct ld_batch *b, const struct ld_ring *rings, int n)
{
	int bad;

	/* Only from the reader thread: another thread's connect is an
	 * event. */
	if (b->trigger && time_mono_ns() - b->last_ns >= FLUSH_MS * 1000000ULL &&
	    (int)syscall(SYS_gettid) == b->tid)
		flush_all(b, rings, n, &bad);
}

void
ld_batch_close(struct ld_batch *b)
{
	ld_close_fds(&b->sock_fd, 1);
	ld_close_fds(&b->map_fd, 1);
	b->trigger = 0;
}
