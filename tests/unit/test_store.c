/* Unit tests for util/store.c, and through it the public functions of
 * util/query.c (whose internals have test_query.c; the counters have
 * test_counters.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../util/store.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include "store_fixtures.h"

static struct event
unix_ev(uint32_t pid, const char *path, uint64_t ts, uint32_t tid)
{
	struct event ev = inet_ev(pid, "dbus", ts, tid);

	ev.family = AF_UNIX;
	ev.port = 0;
	ev.protocol = 0;
	memset(ev.ip, 0, sizeof(ev.ip));
	strcpy(ev.path, path);
	return ev;
}

static void
list(struct store *s, int has_pid, uint32_t pid, const char *command,
    unsigned limit, struct store_list *out)
{
	struct store_query q;

	memset(&q, 0, sizeof(q));
	q.has_pid = has_pid;
	q.pid = pid;
	q.command = command;
	q.limit = limit;
	assert_int_equal(store_list(s, &q, out), 0);
}

static void
test_new_free(void **state)
{
	struct store_stats st;
	struct store *s;

	(void)state;
	/* Small enough for the benchmark's 160 bytes per event. */
	assert_true(sizeof(struct rec) <= 88);
	errno = 0;
	assert_null(store_new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(store_new(SIZE_MAX));
	s = new_store(100);
	store_stats(s, &st);
	assert_true(st.capacity == 100 && st.stored == 0 && st.added == 0 &&
	    st.evicted == 0 && st.lost == 0);
	assert_true(st.bytes >= 100 * sizeof(struct rec));
	store_lost(s, 3);
	store_lost(s, 4);
	store_stats(s, &st);
	assert_true(st.lost == 7);
	store_free(s);
	store_free(NULL);
}

static void
test_roundtrip(void **state)
{
	struct event in[3];
	struct store_list l;
	struct store *s;

	(void)state;
	s = new_store(10);
	in[0] = inet_ev(5, "curl", fake_now, 1);
	in[1] = unix_ev(5, "@/tmp/.X11-unix/X0", fake_now + 1, 2);
	in[2] = inet_ev(5, "curl", fake_now + 2, 3);
	in[2].family = AF_INET6;
	memset(in[2].ip, 0xab, 16);
	in[2].count = 9;
	in[2].cgroup_id = UINT64_MAX;
	in[2].ret = 0;
	in[2].syscall = EV_SENDMSG;
	in[2].sock_type = EV_UNKNOWN;
	in[2].protocol = EV_UNKNOWN;
	store_add(s, in, 3);
	list(s, 0, 0, NULL, 10, &l);
	assert_int_equal(l.ngroups, 1);
	assert_int_equal(l.groups[0].n, 3);
	/* Byte for byte what went in, newest first. */
	assert_memory_equal(&l.groups[0].ev[0], &in[2], sizeof(in[2]));
	assert_memory_equal(&l.groups[0].ev[1], &in[1], sizeof(in[1]));
	assert_memory_equal(&l.groups[0].ev[2], &in[0], sizeof(in[0]));
	store_list_free(&l);
	assert_null(l.groups);
	store_free(s);
}

static void
test_eviction(void **state)
{
	struct event ev[25];
	struct store_stats st;
	struct store_list l;
	struct store *s;
	uint32_t i;

	(void)state;
	s = new_store(10);
	for (i = 0; i < 25; i++)
		ev[i] = inet_ev(7, "app", fake_now, i);
	/* In uneven batches, one of them larger than the whole ring. */
	store_add(s, ev, 3);
	store_add(s, ev + 3, 0);
	store_add(s, ev + 3, 4);
	store_stats(s, &st);
	assert_true(st.stored == 7 && st.evicted == 0);
	store_add(s, ev + 7, 18);
	store_stats(s, &st);
	assert_true(st.stored == 10 && st.added == 25 && st.evicted == 15);

	list(s, 1, 7, NULL, 100, &l);
	assert_int_equal(l.ngroups, 1);
	assert_int_equal(l.groups[0].pid, 7);
	assert_int_equal(l.groups[0].n, 10);
	assert_int_equal(l.truncated, 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(l.groups[0].ev[i].tid, 24 - i);
	store_list_free(&l);

	/* A one-event store keeps just the newest. */
	store_free(s);
	s = new_store(1);
	store_add(s, ev, 25);
	list(s, 0, 0, NULL, 5, &l);
	assert_int_equal(l.ngroups, 1);
	assert_int_equal(l.groups[0].n, 1);
	assert_int_equal(l.groups[0].ev[0].tid, 24);
	store_list_free(&l);
	store_free(s);
}

static void
test_groups(void **state)
{
	static const uint32_t pids[] = { 30, 10, 20, 10, 30, 10, 30, 10 };
	struct event ev[8];
	struct store_list l;
	struct store *s;
	uint32_t i;

	(void)state;
	s = new_store(100);
	for (i = 0; i < 8; i++)
		ev[i] = inet_ev(pids[i], pids[i] == 20 ? "two" : "other",
		    fake_now + i, i);
	store_add(s, ev, 8);

	list(s, 0, 0, NULL, 2, &l);
	assert_int_equal(l.ngroups, 3);
	assert_int_equal(l.truncated, 1);
	assert_int_equal(l.groups[0].pid, 10);
	assert_int_equal(l.groups[0].n, 2);
	assert_int_equal(l.groups[0].ev[0].tid, 7);
	assert_int_equal(l.groups[0].ev[1].tid, 5);
	assert_int_equal(l.groups[1].pid, 20);
	assert_int_equal(l.groups[1].n, 1);
	assert_int_equal(l.groups[1].ev[0].tid, 2);
	assert_int_equal(l.groups[2].pid, 30);
	assert_int_equal(l.groups[2].n, 2);
	assert_int_equal(l.groups[2].ev[0].tid, 6);
	assert_int_equal(l.groups[2].ev[1].tid, 4);
	store_list_free(&l);

	/* Exactly at the limit is not truncated. */
	list(s, 0, 0, NULL, 4, &l);
	assert_int_equal(l.truncated, 0);
	assert_int_equal(l.groups[0].n, 4);
	store_list_free(&l);

	/* limit 0 is treated as 1. */
	list(s, 0, 0, NULL, 0, &l);
	assert_int_equal(l.groups[0].n, 1);
	store_list_free(&l);

	/* Filters. */
	list(s, 1, 30, NULL, 10, &l);
	assert_int_equal(l.ngroups, 1);
	assert_int_equal(l.groups[0].pid, 30);
	assert_int_equal(l.groups[0].n, 3);
	store_list_free(&l);
	list(s, 1, 99, NULL, 10, &l);
	assert_int_equal(l.ngroups, 0);
	assert_null(l.groups);
	store_list_free(&l);
	list(s, 0, 0, "two", 10, &l);
	assert_int_equal(l.ngroups, 1);
	assert_int_equal(l.groups[0].pid, 20);
	store_list_free(&l);
	list(s, 0, 0, "other", 10, &l);
	assert_int_equal(l.ngroups, 2);
	store_list_free(&l);
	list(s, 1, 20, "other", 10, &l);
	assert_int_equal(l.ngroups, 0);
	store_list_free(&l);
	/* Exact match only: no prefixes, no names longer than a comm. */
	list(s, 0, 0, "tw", 10, &l);
	assert_int_equal(l.ngroups, 0);
	list(s, 0, 0, "two ", 10, &l);
	assert_int_equal(l.ngroups, 0);
	list(s, 0, 0, "otherotherotherother", 10, &l);
	assert_int_equal(l.ngroups, 0);
	store_free(s);
}

/* The comm is compared up to its NUL, whatever the bytes after it. */
static void
test_comm_garbage(void **state)
{
	struct event ev = inet_ev(1, "sh", fake_now, 1);
	struct store_list l;
	struct store *s;

	(void)state;
	memcpy(ev.comm, "sh\0garbagegarba", 16);
	s = new_store(4);
	store_add(s, &ev, 1);
	list(s, 0, 0, "sh", 10, &l);
	assert_int_equal(l.ngroups, 1);
	assert_memory_equal(l.groups[0].ev[0].comm, "sh\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	store_list_free(&l);
	assert_true(store_count(s, 0, 0, "sh", fake_now, 10, NULL) == 1);
	/* A 15-byte comm is the longest there is. */
	memcpy(ev.comm, "abcdefghijklmno", 16);
	store_add(s, &ev, 1);
	list(s, 0, 0, "abcdefghijklmno", 10, &l);
	assert_int_equal(l.ngroups, 1);
	store_list_free(&l);
	assert_true(store_count(s, 0, 0, "abcdefghijklmno", fake_now, 10, NULL) == 1);
	assert_true(store_count(s, 0, 0, "abcdefghijklmnop", fake_now, 10, NULL) == 0);
	store_free(s);
}

/* 1000 events over 5 seconds through a 10-event ring: counts stay exact. */
static void
test_count_after_eviction(void **state)
{
	uint64_t want_pid[3][6], want_a[6], want_all[6], t0 = fake_now;
	struct event ev[200];
	struct store_stats st;
	struct store *s;
	unsigned sec, i, d;

	(void)state;
	memset(want_pid, 0, sizeof(want_pid));
	memset(want_a, 0, sizeof(want_a));
	memset(want_all, 0, sizeof(want_all));
	s = new_store(10);
	for (sec = 0; sec < 5; sec++) {
		fake_now = t0 + sec * NS_PER_S + 999999999;
		for (i = 0; i < 200; i++) {
			uint32_t pid = 1 + (i * 7 + sec) % 3;

			ev[i] = inet_ev(pid, pid == 1 ? "a" : "b",
			    t0 + sec * NS_PER_S + i * 1000000, i);
			ev[i].count = 1 + i % 4;
			/* Every second second within the last 5 s counts. */
			for (d = 5 - sec; d <= 5; d++) {
				want_pid[pid - 1][d] += ev[i].count;
				if (pid == 1)
					want_a[d] += ev[i].count;
				want_all[d] += ev[i].count;
			}
		}
		store_add(s, ev, 100);
		store_add(s, ev + 100, 100);
	}
	store_stats(s, &st);
	assert_true(st.stored == 10 && st.evicted == 990);
	for (d = 0; d <= 5; d++) {
		assert_true(store_count(s, 1, 1, NULL, fake_now, d, NULL) == want_pid[0][d]);
		assert_true(store_count(s, 1, 2, NULL, fake_now, d, NULL) == want_pid[1][d]);
		assert_true(store_count(s, 1, 3, NULL, fake_now, d, NULL) == want_pid[2][d]);
		assert_true(store_count(s, 0, 0, "a", fake_now, d, NULL) == want_a[d]);
		assert_true(store_count(s, 0, 0, NULL, fake_now, d, NULL) == want_all[d]);
	}
	assert_true(want_all[5] == 200 * 5 * 10 / 4);
	assert_true(store_count(s, 0, 0, "b", fake_now, 60, NULL) ==
	    want_pid[1][5] + want_pid[2][5]);
	assert_true(store_count(s, 1, 4, NULL, fake_now, 60, NULL) == 0);
	assert_true(store_count(s, 0, 0, "c", fake_now, 60, NULL) == 0);
	/* The window is (now - d, now]: seen from 2 s later, d = 3 is the
	 * last second only. */
	assert_true(store_count(s, 1, 1, NULL, fake_now + 2 * NS_PER_S, 3, NULL) ==
	    want_pid[0][1]);
	assert_true(store_count(s, 1, 1, NULL, fake_now + 2 * NS_PER_S, 2, NULL) == 0);
	fake_now = t0;
	store_free(s);
}

static void
test_count_window(void **state)
{
	uint64_t t0 = fake_now, h = (uint64_t)STORE_WINDOW_MAX * NS_PER_S;
	struct store_stats st, st2;
	struct event ev;
	struct store *s;
	uint32_t pid;

	(void)state;
	s = new_store_keys(4, 1024);
	store_stats(s, &st);
	for (pid = 0; pid < 500; pid++) {
		ev = inet_ev(pid, "w", t0, pid);
		store_add(s, &ev, 1);
	}
	store_stats(s, &st2);
	assert_true(st2.bytes > st.bytes + 500 * 16);
	/* Still counted 3599 s later, gone at 3600 s. */
	assert_true(store_count(s, 1, 42, NULL, t0 + h - NS_PER_S, 3600, NULL) == 1);
	assert_true(store_count(s, 0, 0, "w", t0 + h - NS_PER_S, 3600, NULL) == 500);
	assert_true(store_count(s, 0, 0, "w", t0 + h - NS_PER_S, 99999, NULL) == 500);
	assert_true(store_count(s, 0, 0, "w", t0 + h, 3600, NULL) == 0);
	assert_true(store_count(s, 0, 0, "w", t0 + h, 99999, NULL) == 0);
	/* Nothing is counted before it happened, or in a zero window. */
	assert_true(store_count(s, 0, 0, "w", t0 - NS_PER_S, 3600, NULL) == 0);
	assert_true(store_count(s, 0, 0, "w", t0, 0, NULL) == 0);

	/* An hour on, the next event gives the old second's memory back. */
	fake_now = t0 + h;
	ev = inet_ev(1, "w", fake_now, 1);
	store_add(s, &ev, 1);
	store_stats(s, &st2);
	assert_true(st2.bytes < st.bytes + 1000);

	/* Events older than the window are not counted; events from the
	 * future count as now. */
	ev = inet_ev(2, "old", t0, 1);
	store_add(s, &ev, 1);
	assert_true(store_count(s, 0, 0, "old", t0, 3600, NULL) == 0);
	assert_true(store_count(s, 0, 0, "old", fake_now, 3600, NULL) == 0);
	ev = inet_ev(3, "future", fake_now + 5 * NS_PER_S, 1);
	store_add(s, &ev, 1);
	assert_true(store_count(s, 0, 0, "future", fake_now, 1, NULL) == 1);
	/* The raw event keeps its own time. */
	{
		struct store_list l;

		list(s, 1, 3, NULL, 1, &l);
		assert_true(l.groups[0].ev[0].ts == fake_now + 5 * NS_PER_S);
		store_list_free(&l);
	}
	fake_now = t0;
	store_free(s);
}

static size_t
path_refs(struct store *s, const char *p)
{
	struct pstr *e;
	size_t i;

	for (i = 0; i < s->pbuckets; i++)
		for (e = s->ptab[i]; e; e = e->next)
			if (!strcmp(e->s, p))
				return e->ref;
	return 0;
}

static void
test_paths(void **state)
{
	struct store_stats st0, st;
	struct event ev[600];
	struct store_list l;
	struct store *s;
	uint32_t i;
	char p[64];

	(void)state;
	s = new_store(8);
	store_stats(s, &st0);
	for (i = 0; i < 5; i++)
		ev[i] = unix_ev(1, "/run/dbus/system_bus_socket", fake_now, i);
	ev[5] = unix_ev(1, "@abstract@x", fake_now, 5);
	ev[6] = unix_ev(1, "", fake_now, 6);
	store_add(s, ev, 7);
	assert_int_equal(s->npaths, 2);
	assert_int_equal(path_refs(s, "/run/dbus/system_bus_socket"), 5);
	assert_int_equal(path_refs(s, "@abstract@x"), 1);
	store_stats(s, &st);
	assert_true(st.bytes > st0.bytes);

	list(s, 0, 0, NULL, 10, &l);
	assert_int_equal(l.groups[0].n, 7);
	assert_string_equal(l.groups[0].ev[0].path, "");
	assert_int_equal(l.groups[0].ev[0].family, AF_UNIX);
	assert_string_equal(l.groups[0].ev[1].path, "@abstract@x");
	assert_string_equal(l.groups[0].ev[2].path, "/run/dbus/system_bus_socket");
	assert_string_equal(l.groups[0].ev[6].path, "/run/dbus/system_bus_socket");
	store_list_free(&l);

	/* Three inet events fill the last slot and push out two of the five
	 * references. */
	for (i = 0; i < 3; i++)
		ev[i] = inet_ev(1, "x", fake_now, i);
	store_add(s, ev, 3);
	assert_int_equal(path_refs(s, "/run/dbus/system_bus_socket"), 3);
	for (i = 0; i < 8; i++)
		ev[i] = inet_ev(1, "x", fake_now, i);
	store_add(s, ev, 8);
	assert_int_equal(s->npaths, 0);
	assert_int_equal(s->pbytes, 0);

	/* Many distinct paths grow the table and all go away again. */
	for (i = 0; i < 600; i++) {
		snprintf(p, sizeof(p), "/tmp/sock.%u", i);
		ev[i] = unix_ev(i % 3, p, fake_now, i);
	}
	store_free(s);
	s = new_store(600);
	store_add(s, ev, 600);
	assert_int_equal(s->npaths, 600);
	assert_true(s->pbuckets >= 512);
	assert_int_equal(path_refs(s, "/tmp/sock.599"), 1);
	list(s, 1, 2, NULL, 1000, &l);
	assert_int_equal(l.groups[0].n, 200);
	assert_string_equal(l.groups[0].ev[0].path, "/tmp/sock.599");
	assert_string_equal(l.groups[0].ev[199].path, "/tmp/sock.2");
	store_list_free(&l);
	for (i = 0; i < 600; i++)
		ev[i] = inet_ev(1, "x", fake_now, i);
	store_add(s, ev, 599);
	assert_int_equal(s->npaths, 1);
	assert_int_equal(path_refs(s, "/tmp/sock.599"), 1);
	/* store_free() drops what is left (valgrind checks the rest). */
	store_free(s);
}

struct conc {
	struct store *s;
	int stop;           /* set by the writer when done: atomic */
};

static void *
writer(void *arg)
{
	struct conc *c = arg;
	struct event ev[64];
	uint32_t i, round;

	for (round = 0; round < 300; round++) {
		for (i = 0; i < 64; i++) {
			ev[i] = i % 5 ? inet_ev(i % 7, "w", fake_now, round * 64 + i)
			    : unix_ev(i % 7, i % 2 ? "/a" : "/b", fake_now,
			    round * 64 + i);
		}
		store_add(c->s, ev, 64);
	}
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *
reader(void *arg)
{
	struct conc *c = arg;
	struct store_stats st;
	struct store_list l;
	struct store_query q;
	size_t g, i;

	memset(&q, 0, sizeof(q));
	q.limit = 20;
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (store_list(c->s, &q, &l))
			return (void *)1;
		for (g = 0; g < l.ngroups; g++) {
			if (g && l.groups[g - 1].pid >= l.groups[g].pid)
				return (void *)2;
			if (l.groups[g].n > 20)
				return (void *)3;
			for (i = 1; i < l.groups[g].n; i++)
				if (l.groups[g].ev[i - 1].tid <= l.groups[g].ev[i].tid)
					return (void *)4;
		}
		store_list_free(&l);
		store_stats(c->s, &st);
		if (st.stored > 500 || st.added != st.stored + st.evicted)
			return (void *)5;
		store_count(c->s, 1, 3, NULL, fake_now, 60, NULL);
		store_count(c->s, 0, 0, "w", fake_now, 60, NULL);
	}
	return NULL;
}

static void
test_concurrency(void **state)
{
	struct conc c = { 0 };
	pthread_t w, r[3];
	void *ret;
	int i;

	(void)state;
	c.s = new_store(500);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, &c), 0);
	assert_int_equal(pthread_create(&w, NULL, writer, &c), 0);
	pthread_join(w, NULL);
	for (i = 0; i < 3; i++) {
		pthread_join(r[i], &ret);
		assert_null(ret);
	}
	/* 13 of every 64 (i % 5 == 0) are unix events from "dbus". */
	assert_true(store_count(c.s, 0, 0, "w", fake_now, 60, NULL) == 300 * 51);
	assert_true(store_count(c.s, 0, 0, "dbus", fake_now, 60, NULL) == 300 * 13);
	assert_true(store_count(c.s, 0, 0, NULL, fake_now, 60, NULL) == 300 * 64);
	store_free(c.s);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The benchmark's shape: a million events, then a listing with limit 100. */
static void
test_million(void **state)
{
	const size_t N = 1000000, B = 4096;
	struct event *ev = calloc(B, sizeof(*ev));
	struct store_stats st;
	struct store_list l;
	struct timespec t0;
	struct store *s;
	size_t i, j, k;
	double add_ms, list_ms;

	(void)state;
	assert_non_null(ev);
	s = new_store(N);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < N; i += B) {
		for (j = 0; j < B; j++) {
			k = i + j;
			ev[j] = k % 10 ? inet_ev(k % 1000, "bench", fake_now, (uint32_t)k)
			    : unix_ev(k % 1000, "/run/bench.sock", fake_now, (uint32_t)k);
		}
		store_add(s, ev, i + B <= N ? B : N - i);
	}
	add_ms = ms_since(&t0);
	store_stats(s, &st);
	assert_true(st.stored == N);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	list(s, 0, 0, NULL, 100, &l);
	list_ms = ms_since(&t0);
	assert_int_equal(l.ngroups, 1000);
	assert_int_equal(l.groups[999].n, 100);
	assert_int_equal(l.groups[999].ev[0].tid, N - 1);
	assert_int_equal(l.truncated, 1);
	store_list_free(&l);
	print_message("sizeof(struct rec) %zu, store_stats bytes %llu for %zu "
	    "events: %.1f bytes/event; add %.0f ns/event, list %.1f ms\n",
	    sizeof(struct rec), (unsigned long long)st.bytes, N,
	    (double)st.bytes / N, add_ms * 1e6 / N, list_ms);
	assert_true(st.bytes / N <= 160);
	store_free(s);
	free(ev);
}

static struct event
dgram_ev(uint32_t pid, uint8_t sc, uint16_t port, uint8_t last, uint64_t ts)
{
	struct event ev = inet_ev(pid, "dig", ts, pid);

	ev.syscall = sc;
	ev.protocol = IPPROTO_UDP;
	ev.sock_type = SOCK_DGRAM;
	ev.port = port;
	ev.ret = 40;
	ev.ip[3] = last;
	return ev;
}

/* Datagrams fold per (pid, syscall, destination, success, second); connects
 * never do; the counters see every datagram. */
static void
test_fold_datagrams(void **state)
{
	uint64_t t0 = fake_now;
	struct event ev[64];
	unsigned char folded[64];
	struct store_stats st;
	struct store_list l;
	struct store *s;
	size_t i, n;

	(void)state;
	s = new_store(100);
	for (i = 0; i < 50; i++)
		ev[i] = dgram_ev(7, EV_SENDTO, 53, 1, t0 + i * 1000);
	ev[50] = dgram_ev(7, EV_SENDMSG, 53, 1, t0);   /* other syscall */
	ev[51] = dgram_ev(7, EV_SENDTO, 54, 1, t0);    /* other port */
	ev[52] = dgram_ev(7, EV_SENDTO, 53, 2, t0);    /* other ip */
	ev[53] = dgram_ev(8, EV_SENDTO, 53, 1, t0);    /* other pid */
	ev[54] = dgram_ev(7, EV_SENDTO, 53, 1, t0 + NS_PER_S); /* next second */
	ev[55] = dgram_ev(7, EV_SENDTO, 53, 1, t0);
	ev[55].ret = -111;                             /* failed */
	ev[56] = dgram_ev(7, EV_SENDTO, 53, 1, t0);
	ev[56].count = 5;                              /* folds 5 at once */
	ev[57] = inet_ev(7, "dig", t0, 7);             /* connects: never */
	ev[58] = inet_ev(7, "dig", t0, 7);
	n = store_add_marked(s, ev, 59, folded);
	assert_int_equal(n, 1 + 6 + 2);
	assert_int_equal(folded[0], 0);
	for (i = 1; i < 50; i++)
		assert_int_equal(folded[i], 1);
	assert_int_equal(folded[56], 1);
	assert_int_equal(folded[57] + folded[58], 0);
	store_stats(s, &st);
	assert_true(st.stored == 9 && st.added == 59);
	list(s, 1, 7, NULL, 100, &l);
	assert_int_equal(l.groups[0].n, 8);
	/* Newest first: the first sendto record is the fourth from the end. */
	for (i = 0; i < l.groups[0].n; i++) {
		struct event *e = &l.groups[0].ev[i];

		if (e->syscall == EV_SENDTO && e->port == 53 && e->ip[3] == 1 &&
		    e->ret > 0 && e->ts / NS_PER_S == t0 / NS_PER_S)
			assert_int_equal(e->count, 55);
		else
			assert_int_equal(e->count, 1);
	}
	store_list_free(&l);
	/* Counts add the folded datagrams: 50 + 5 + 6 others + 2 connects. */
	assert_true(store_count(s, 0, 0, "dig", fake_now + NS_PER_S, 10, NULL) == 63);
	/* ... and report connects and datagrams apart. */
	{
		struct store_counts sc;
		struct store_filter sf = { 0 };
		int ex;

		store_count(s, 0, 0, "dig", fake_now + NS_PER_S, 10, &sc);
		assert_true(sc.connects == 2 && sc.datagrams == 61);
		/* The same split from the scan behind a filter. */
		sf.has_syscall = 1;
		sf.syscall = EV_SENDTO;
		assert_true(store_count_filter(s, 0, 0, "dig", &sf,
		    fake_now + NS_PER_S, 10, &sc, &ex) == sc.datagrams);
		assert_true(sc.connects == 0 && sc.datagrams > 0);
		sf.syscall = EV_CONNECT;
		assert_true(store_count_filter(s, 0, 0, "dig", &sf,
		    fake_now + NS_PER_S, 10, &sc, &ex) == 2);
		assert_true(sc.connects == 2 && sc.datagrams == 0);
	}
	/* A later batch still folds into the record of the same second. */
	ev[0] = dgram_ev(7, EV_SENDTO, 53, 1, t0 + 5);
	assert_int_equal(store_add_marked(s, ev, 1, NULL), 0);
	/* Once evicted, the slot is not trusted: a new record is made. */
	for (i = 0; i < 64; i++)
		ev[i] = inet_ev(100 + (uint32_t)i, "x", t0, 1);
	store_add(s, ev, 64);
	store_add(s, ev, 64);
	ev[0] = dgram_ev(7, EV_SENDTO, 53, 1, t0 + 6);
	assert_int_equal(store_add_marked(s, ev, 1, NULL), 1);
	store_free(s);
}

/* Unix datagrams (syslog) fold by path. */
static void
test_fold_unix(void **state)
{
	struct event ev[4];
	struct store_stats st;
	struct store *s;

	(void)state;
	s = new_store(10);
	ev[0] = unix_ev(9, "/dev/log", fake_now, 9);
	ev[0].syscall = EV_SENDTO;
	ev[1] = ev[0];
	ev[2] = ev[0];
	strcpy(ev[2].path, "/dev/other");
	ev[3] = ev[0];
	ev[3].path[0] = '\0';
	store_add(s, ev, 4);
	store_add(s, ev, 4);
	store_stats(s, &st);
	assert_true(st.stored == 3);
	store_free(s);
}

static void
test_filters(void **state)
{
	struct store_filter f;
	struct store_list l;
	struct store_query q;
	struct event ev[6];
	struct store *s;
	int exact;

	(void)state;
	s = new_store(100);
	ev[0] = inet_ev(1, "curl", fake_now - 5 * NS_PER_S, 1); /* 10.0.0.1:443 tcp */
	ev[1] = dgram_ev(1, EV_SENDTO, 53, 9, fake_now);        /* 10.0.0.9:53 udp */
	ev[2] = unix_ev(2, "/run/x", fake_now, 2);
	ev[3] = inet_ev(3, "curl", fake_now, 3);
	ev[3].family = AF_INET6;
	memset(ev[3].ip, 0, 16);
	ev[3].ip[0] = 0x20, ev[3].ip[1] = 0x01, ev[3].ip[15] = 1;
	ev[3].ret = 0;
	ev[4] = dgram_ev(4, EV_SENDMSG, 123, 200, fake_now);
	ev[4].ip[0] = 192, ev[4].ip[1] = 168;
	ev[5] = dgram_ev(4, EV_SENDMSG, 123, 200, fake_now);
	ev[5].ret = -1;
	ev[5].ip[0] = 192, ev[5].ip[1] = 168;
	store_add(s, ev, 6);

#define COUNT(...) do { memset(&f, 0, sizeof(f)); __VA_ARGS__; } while (0)
	COUNT(f.has_port = 1, f.port = 53);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 1);
	assert_true(exact);
	COUNT(f.has_protocol = 1, strcpy(f.protocol, "TCP"));
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 2);
	assert_true(store_count_filter(s, 0, 0, "curl", &f, fake_now, 60, NULL, &exact) == 2);
	assert_true(store_count_filter(s, 1, 3, NULL, &f, fake_now, 60, NULL, &exact) == 1);
	/* The window applies: ev[0] is 5 s old. */
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 3, NULL, &exact) == 1);
	COUNT(f.has_protocol = 1, strcpy(f.protocol, "UNIX"));
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 1);
	COUNT(f.has_family = 1, f.family = AF_INET6);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 1);
	COUNT(f.has_failed = 1, f.failed = 1);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 3);
	COUNT(f.has_failed = 1, f.failed = 0);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 3);
	COUNT(f.has_syscall = 1, f.syscall = EV_SENDMSG);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 2);
	COUNT(f.since_ns = fake_now - NS_PER_S);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 5);
	/* CIDR: 10.0.0.0/8 has ev[0], ev[1]; /32 exact; 192.168.0.0/16 both ntp. */
	COUNT(f.has_ip = 1, f.ip_family = AF_INET, f.ip[0] = 10, f.prefix = 8);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 2);
	COUNT(f.has_ip = 1, f.ip_family = AF_INET, f.ip[0] = 10, f.ip[3] = 9,
	    f.prefix = 32);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 1);
	COUNT(f.has_ip = 1, f.ip_family = AF_INET, f.ip[0] = 192, f.ip[1] = 169,
	    f.prefix = 15);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 2);
	COUNT(f.has_ip = 1, f.ip_family = AF_INET, f.ip[0] = 192, f.ip[1] = 169,
	    f.prefix = 16);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 0);
	COUNT(f.has_ip = 1, f.ip_family = AF_INET6, f.ip[0] = 0x20, f.ip[1] = 0x01,
	    f.prefix = 16);
	assert_true(store_count_filter(s, 0, 0, NULL, &f, fake_now, 60, NULL, &exact) == 1);
	/* Lists apply the same filter. */
	COUNT(f.has_protocol = 1, strcpy(f.protocol, "UDP"));
	memset(&q, 0, sizeof(q));
	q.limit = 10;
	q.filter = &f;
	assert_int_equal(store_list(s, &q, &l), 0);
	assert_int_equal(l.ngroups, 2);
	assert_int_equal(l.groups[0].pid, 1);
	assert_int_equal(l.groups[0].n, 1);
	assert_int_equal(l.groups[1].n, 2);
	store_list_free(&l);
	/* store_filter_match() agrees on events. */
	assert_true(store_filter_match(&f, &ev[1]));
	assert_false(store_filter_match(&f, &ev[0]));
	assert_true(store_filter_match(NULL, &ev[0]));
	/* No filter: the exact counters. */
	assert_true(store_count_filter(s, 0, 0, "curl", NULL, fake_now, 60, NULL, &exact) == 2);
	assert_true(exact);
#undef COUNT
	store_free(s);
}

/*
 * A destination ::ffff:127.0.0.1 is the IPv4 address it is to the family
 * and ip filters (and only to them: the event keeps AF_INET6), and a
 * datagram of unknown call (EV_SEND) is found by a sendto and by a
 * sendmsg filter, never by connect.
 */
static void
test_filter_mapped_and_send(void **state)
{
	struct store_filter f;
	struct event ev;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.family = AF_INET6;
	ev.port = 53;
	ev.syscall = EV_SEND;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", ev.ip);
	memset(&f, 0, sizeof(f));
	f.has_family = 1;
	f.family = AF_INET;
	assert_true(store_filter_match(&f, &ev));
	f.family = AF_INET6;
	assert_false(store_filter_match(&f, &ev));
	memset(&f, 0, sizeof(f));
	f.has_ip = 1;
	f.ip_family = AF_INET;
	f.ip[0] = 127;
	f.prefix = 8;
	assert_true(store_filter_match(&f, &ev));
	f.ip[0] = 10;
	assert_false(store_filter_match(&f, &ev));
	/* A real IPv6 address is not mapped: ::1 stays IPv6. */
	inet_pton(AF_INET6, "::1", ev.ip);
	f.ip[0] = 0;
	f.prefix = 0;
	assert_false(store_filter_match(&f, &ev));
	memset(&f, 0, sizeof(f));
	f.has_syscall = 1;
	f.syscall = EV_SENDTO;
	assert_true(store_filter_match(&f, &ev));
	f.syscall = EV_SENDMSG;
	assert_true(store_filter_match(&f, &ev));
	f.syscall = EV_CONNECT;
	assert_false(store_filter_match(&f, &ev));
	ev.syscall = EV_SENDMSG;
	f.syscall = EV_SENDTO;
	assert_false(store_filter_match(&f, &ev));
}

static void
test_top(void **state)
{
	struct store_top t;
	struct store_filter f;
	struct event ev[8];
	struct store *s;

	(void)state;
	s = new_store(100);
	ev[0] = dgram_ev(1, EV_SENDTO, 53, 1, fake_now);
	ev[0].count = 10;
	ev[1] = dgram_ev(2, EV_SENDTO, 53, 2, fake_now);
	ev[2] = inet_ev(3, "curl", fake_now, 3);
	ev[3] = inet_ev(3, "curl", fake_now, 3);
	ev[4] = inet_ev(3, "curl", fake_now - 100 * NS_PER_S, 3); /* too old */
	ev[5] = unix_ev(4, "/run/a", fake_now, 4);
	ev[6] = unix_ev(5, "/run/a", fake_now, 5);
	ev[7] = unix_ev(5, "/run/a", fake_now, 5); /* /run/a: 3, no tie */
	store_add(s, ev, 8);
	assert_int_equal(store_top(s, STORE_TOP_COMMAND, NULL, NULL, fake_now, 60,
	    10, &t), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.rows[0].ev->comm, "dig");
	assert_true(t.rows[0].count == 11 && t.rows[0].events == 2);
	assert_string_equal(t.rows[1].ev->comm, "dbus");
	assert_true(t.rows[1].count == 3);
	assert_string_equal(t.rows[2].ev->comm, "curl");
	assert_true(t.rows[2].count == 2 && t.total == 16);
	store_top_free(&t);
	assert_int_equal(store_top(s, STORE_TOP_DESTINATION, NULL, NULL, fake_now,
	    60, 2, &t), 0);
	assert_true(t.n == 2 && t.keys == 4);
	assert_true(t.rows[0].count == 10 && t.rows[0].ev->ip[3] == 1);
	assert_string_equal(t.rows[1].ev->path, "/run/a");
	assert_true(t.rows[1].count == 3);
	store_top_free(&t);
	assert_int_equal(store_top(s, STORE_TOP_PORT, NULL, NULL, fake_now, 600,
	    10, &t), 0);
	/* Unix sockets have no port and are left out. */
	assert_true(t.n == 2 && t.rows[0].ev->port == 53 && t.rows[0].count == 11);
	assert_true(t.rows[1].ev->port == 443 && t.rows[1].count == 3);
	store_top_free(&t);
	memset(&f, 0, sizeof(f));
	f.has_protocol = 1;
	strcpy(f.protocol, "TCP");
	assert_int_equal(store_top(s, STORE_TOP_PORT, "curl", &f, fake_now, 60,
	    10, &t), 0);
	assert_true(t.n == 1 && t.rows[0].count == 2);
	store_top_free(&t);
	assert_int_equal(store_top(s, STORE_TOP_PORT, "nobody", NULL, fake_now, 60,
	    10, &t), 0);
	assert_true(t.n == 0 && t.rows == NULL);
	store_top_free(&t);
	store_free(s);
}

/*
 * More distinct destinations than top keeps, with two heavy ones among
 * them: top says it is not exact, gives the bound, and the heavy ones come
 * first with counts within it; a window that fits is exact again.
 */
static void
test_top_many_keys(void **state)
{
	const size_t N = 3 * TOP_KEYS;
	struct event *ev = calloc(N, sizeof(*ev));
	struct store_top t;
	struct store *s;
	size_t i;

	(void)state;
	assert_non_null(ev);
	s = new_store(N + 100);
	for (i = 0; i < N; i++) {
		ev[i] = inet_ev((uint32_t)i, "crawl", fake_now, (uint32_t)i);
		ev[i].ip[1] = (uint8_t)(i >> 16);
		ev[i].ip[2] = (uint8_t)(i >> 8);
		ev[i].ip[3] = (uint8_t)i;
		/* Every 10th goes to one of two busy resolvers. */
		if (i % 10 == 0) {
			memset(ev[i].ip, 0, sizeof(ev[i].ip));
			ev[i].ip[0] = 9, ev[i].ip[3] = (uint8_t)(1 + i % 20 / 10);
		}
	}
	store_add(s, ev, N);
	assert_int_equal(store_top(s, STORE_TOP_DESTINATION, NULL, NULL, fake_now,
	    60, 3, &t), 0);
	assert_false(t.exact);
	assert_true(t.error > 0 && t.keys == TOP_KEYS && t.total == N);
	assert_true(t.n == 3);
	/* 9.0.0.1 had 308, 9.0.0.2 307: the true count is in
	 * [count - error, count]. */
	for (i = 0; i < 2; i++) {
		uint64_t truth = t.rows[i].ev->ip[3] == 1 ? (N + 19) / 20 : N / 20;

		assert_true(t.rows[i].ev->ip[0] == 9);
		assert_true(t.rows[i].count >= truth);
		assert_true(t.rows[i].count - t.rows[i].error <= truth);
	}
	assert_true(t.rows[2].ev->ip[0] == 10);
	store_top_free(&t);
	/* By command there is one key: exact. */
	assert_int_equal(store_top(s, STORE_TOP_COMMAND, NULL, NULL, fake_now,
	    60, 3, &t), 0);
	assert_true(t.exact && t.error == 0 && t.n == 1 && t.rows[0].count == N);
	store_top_free(&t);
	store_free(s);
	free(ev);
}

/* A flood of distinct long unix paths: the path table stops at its
 * budget, later paths read as the stand-in, and the ones kept are intact;
 * evicting them all gives everything back. */
static void
test_path_budget(void **state)
{
	const size_t N = 80000;
	struct store_stats st;
	struct store_list l;
	struct event ev;
	struct store *s;
	char path[108];
	size_t i;

	(void)state;
	s = new_store(N);
	for (i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/run/flood/%090zu", i);
		ev = unix_ev(7, path, fake_now, (uint32_t)i);
		store_add(s, &ev, 1);
	}
	assert_true(s->pbytes <= STORE_PATH_BYTES);
	assert_true(s->npaths > 50000 && s->npaths < N);
	list(s, 1, 7, NULL, 1000, &l);
	/* Newest first: the last ones are the stand-in. */
	assert_string_equal(l.groups[0].ev[0].path, PATH_DROPPED);
	store_list_free(&l);
	store_stats(s, &st);
	assert_true(st.bytes < N * 88 + STORE_PATH_BYTES + (4u << 20));
	/* N connects elsewhere push every path out. */
	for (i = 0; i < N; i++) {
		ev = inet_ev(8, "x", fake_now, 1);
		store_add(s, &ev, 1);
	}
	assert_true(s->pbytes == 0 && s->npaths == 0);
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_comm_garbage),
		cmocka_unit_test(test_count_after_eviction),
		cmocka_unit_test(test_count_window),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_fold_datagrams),
		cmocka_unit_test(test_fold_unix),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_filter_mapped_and_send),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_top_many_keys),
		cmocka_unit_test(test_path_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
