/*
 * Fixtures shared by the store's unit tests (test_store.c, test_query.c):
 * a clock the test moves, and a typical IPv4 event.  Included after the
 * module under test, whose internals (struct store, NS_PER_S) it uses.
 */
#ifndef STORE_FIXTURES_H
#define STORE_FIXTURES_H

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* A fixed wall clock, so that the counters' window is ours to move. */
static uint64_t fake_now = 1700000000ULL * NS_PER_S;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static struct store *
new_store(size_t max)
{
	struct store *s = store_new(max);

	assert_non_null(s);
	s->now = fake_clock;
	return s;
}

/* A store that counts up to keys pids and commands per second (inline:
 * not every test that includes this uses it). */
static inline struct store *
new_store_keys(size_t max, uint32_t keys)
{
	struct store *s = store_new_keys(max, keys);

	assert_non_null(s);
	s->now = fake_clock;
	return s;
}

static struct event
inet_ev(uint32_t pid, const char *comm, uint64_t ts, uint32_t tid)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = ts;
	ev.cgroup_id = 0x1234;
	ev.pid = pid;
	ev.tid = tid;
	ev.ppid = 1;
	ev.uid = 1000;
	ev.gid = 1000;
	ev.ret = -115;
	ev.count = 1;
	ev.family = AF_INET;
	ev.port = 443;
	ev.sock_type = SOCK_STREAM;
	ev.protocol = IPPROTO_TCP;
	ev.syscall = EV_CONNECT;
	strncpy(ev.comm, comm, sizeof(ev.comm) - 1);
	ev.ip[0] = 10, ev.ip[3] = (uint8_t)tid;
	return ev;
}

#endif
