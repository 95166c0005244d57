/*
 * Unit tests for loader/batch.c against the real kernel (root: a per-CPU
 * array map): the reader's flush visits every ring's CPU and gives the
 * thread its CPU mask back, the start-up check reads each CPU's
 * kbatch.flushes from the map and names the first CPU the flush did not
 * reach, the tick flushes only after FLUSH_MS and only from the reader
 * thread, and close turns batches off.  No program is attached: the test
 * writes the map's per-CPU values itself where a program would.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../loader/batch.c"

#define NR 64

static struct ld_ring rings[NR];
static int nrings;

/* A ring for every CPU this thread may run on (only the cpu field is
 * used by batch.c). */
static int
setup(void **state)
{
	cpu_set_t set;
	int i;

	(void)state;
	if (geteuid() != 0)
		return 0;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (i = 0, nrings = 0; i < CPU_SETSIZE && nrings < NR; i++)
		if (CPU_ISSET(i, &set))
			rings[nrings++].cpu = i;
	return 0;
}

static void
open_batch(struct ld_batch *b)
{
	char err[256];

	if (geteuid() != 0)
		skip();
	memset(b, 0, sizeof(*b));
	b->map_fd = b->sock_fd = -1;
	if (ld_batch_open(b, rings, nrings, err, sizeof(err)) < 0)
		fail_msg("ld_batch_open: %s", err);
}

static void
test_open_flushes_every_cpu(void **state)
{
	cpu_set_t before, after;
	struct ld_batch b;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	open_batch(&b);
	assert_true(b.map_fd >= 0);
	assert_true(b.sock_fd >= 0);
	assert_int_equal(b.flushes, (uint64_t)nrings);
	assert_int_equal(b.tid, (int)syscall(SYS_gettid));
	assert_int_equal(b.trigger, (uint64_t)getpid() << 32 | (uint32_t)b.tid);
	assert_true(b.last_ns > 0 && b.last_ns <= time_mono_ns());
	/* The thread's own mask is back. */
	assert_int_equal(sched_getaffinity(0, sizeof(after), &after), 0);
	assert_true(CPU_EQUAL(&before, &after));
	ld_batch_close(&b);
	assert_int_equal(b.map_fd, -1);
	assert_int_equal(b.sock_fd, -1);
	assert_int_equal(b.trigger, 0);
}

/* Set every possible CPU's kbatch.flushes to 1, but the one of skip. */
static void
mark_flushed(struct ld_batch *b, int skip_cpu)
{
	int cpus[MAX_CPUS], np, i;
	uint32_t key = 0;
	struct kbatch *v;

	assert_true((np = ld_possible_cpus(cpus, MAX_CPUS)) > 0);
	assert_non_null(v = calloc((size_t)np, sizeof(*v)));
	for (i = 0; i < np; i++)
		v[i].flushes = cpus[i] == skip_cpu ? 0 : 1;
	assert_int_equal(ld_map_update(b->map_fd, &key, v, BPF_ANY), 0);
	free(v);
}

/* No program ran the flush: the check fails naming a CPU; once every
 * ring's CPU shows a run it passes; one CPU short, it names that one. */
static void
test_check(void **state)
{
	struct ld_batch b;
	char err[256], want[64];
	uint64_t before;

	(void)state;
	open_batch(&b);
	before = b.flushes;
	assert_int_equal(ld_batch_check(&b, rings, nrings, "cgroup", err,
	    sizeof(err)), -ESRCH);
	assert_non_null(strstr(err, "did not reach the cgroup program on CPU"));
	/* It flushed every CPU once more first. */
	assert_int_equal(b.flushes, before + (uint64_t)nrings);

	mark_flushed(&b, -1);
	assert_int_equal(ld_batch_check(&b, rings, nrings, "cgroup", err,
	    sizeof(err)), 0);

	mark_flushed(&b, rings[nrings - 1].cpu);
	assert_int_equal(ld_batch_check(&b, rings, nrings, "fexit", err,
	    sizeof(err)), -ESRCH);
	snprintf(want, sizeof(want), "fexit program on CPU %d ",
	    rings[nrings - 1].cpu);
	assert_non_null(strstr(err, want));
	ld_batch_close(&b);
}

static void *
tick_from(void *arg)
{
	ld_batch_tick(arg, rings, nrings);
	return NULL;
}

/* The tick flushes once FLUSH_MS went by, from the reader thread only. */
static void
test_tick(void **state)
{
	struct ld_batch b;
	pthread_t t;
	uint64_t n;

	(void)state;
	open_batch(&b);
	n = b.flushes;
	ld_batch_tick(&b, rings, nrings);
	assert_int_equal(b.flushes, n);         /* too soon */
	b.last_ns -= FLUSH_MS * 1000000ULL;
	assert_int_equal(pthread_create(&t, NULL, tick_from, &b), 0);
	pthread_join(t, NULL);
	assert_int_equal(b.flushes, n);         /* not the reader */
	ld_batch_tick(&b, rings, nrings);
	assert_int_equal(b.flushes, n + (uint64_t)nrings);
	ld_batch_close(&b);
	/* Closed: batches are off, and the tick does nothing. */
	b.last_ns = 0;
	ld_batch_tick(&b, rings, nrings);
	assert_int_equal(b.flushes, n + (uint64_t)nrings);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_flushes_every_cpu),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_tick),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
