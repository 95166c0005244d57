/*
 * Unit tests for the pipeline's spine (loader/pump.c): raw records decoded
 * into the store, and TCP outcome records matched to their connects,
 * whichever arrives first, in one drain or later.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../loader/pump.c"

#include <arpa/inet.h>
#include <sys/socket.h>

#define SK_A 0xffff888012345600ULL
#define SK_B 0xffff888012345a00ULL

/* A TCP connect from the socket hooks: return code unknown, sk known. */
static struct kevent
connect_rec(uint32_t pid, uint64_t sk, uint64_t ts)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct kevent k;

	memset(&k, 0, sizeof(k));
	k.ts = ts;
	k.pid = k.tid = pid;
	k.count = 1;
	k.syscall = EV_CONNECT;
	k.sock_type = SOCK_STREAM;
	k.protocol = IPPROTO_TCP;
	k.flags = KEV_RET_UNKNOWN;
	k.sk = sk;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(k.addr, &sin, sizeof(sin));
	k.addrlen = sizeof(sin);
	strcpy(k.comm, "t");
	return k;
}

/* The outcome record of the socket at sk leaving SYN_SENT. */
static struct kevent
outcome_rec(uint64_t sk, uint64_t ts, uint32_t state, int32_t err)
{
	struct kevent k;

	memset(&k, 0, sizeof(k));
	k.flags = KEV_OUTCOME;
	k.sk = sk;
	k.ts = ts;
	k.count = state;
	k.ret = err;
	return k;
}

static void
feed(struct pump *p, const struct kevent *k)
{
	pump_sample(p, k, sizeof(*k));
}

/* The result the store holds for pid's only event. */
static const char *
stored_result(struct store *s, uint32_t pid)
{
	struct store_query q = { .has_pid = 1, .pid = pid, .limit = 10 };
	struct store_list l;
	static char buf[16];

	assert_int_equal(store_list(s, &q, &l), 0);
	assert_int_equal(l.ngroups, 1);
	assert_int_equal(l.groups[0].n, 1);
	snprintf(buf, sizeof(buf), "%s", ev_result_name(&l.groups[0].ev[0]));
	store_list_free(&l);
	return buf;
}

static int published;

static void
count_published(void *ctx, const struct event *ev, size_t n,
    const unsigned char *folded)
{
	(void)ctx;
	(void)ev;
	(void)folded;
	published += (int)n;
}

static void
test_outcome_after_connect(void **state)
{
	struct store *s = store_new(100);
	struct pump *p = pump_new(s, count_published, NULL);
	struct kevent k;

	(void)state;
	/* In the same drain: set before the event is even stored. */
	k = connect_rec(1, SK_A, 100);
	feed(p, &k);
	k = outcome_rec(SK_A, 200, TCP_CLOSE, ECONNREFUSED);
	feed(p, &k);
	pump_flush(p);
	assert_string_equal(stored_result(s, 1), "refused");
	/* In a later drain: the stored record is updated. */
	k = connect_rec(2, SK_B, 300);
	feed(p, &k);
	pump_flush(p);
	assert_string_equal(stored_result(s, 2), "unknown");
	k = outcome_rec(SK_B, 400, TCP_ESTABLISHED, 0);
	feed(p, &k);
	pump_flush(p);
	assert_string_equal(stored_result(s, 2), "ok");
	assert_int_equal(published, 2);  /* outcomes are not events */
	pump_free(p);
	store_free(s);
}

/* Outcomes that arrive first wait; each connect takes the first one
 * after it, even when a freed socket's address was reused meanwhile. */
static void
test_outcome_before_connect(void **state)
{
	struct store *s = store_new(100);
	struct pump *p = pump_new(s, NULL, NULL);
	struct kevent k;

	(void)state;
	k = outcome_rec(SK_A, 150, TCP_CLOSE, ETIMEDOUT);
	feed(p, &k);
	k = outcome_rec(SK_A, 250, TCP_CLOSE, ECONNRESET);
	feed(p, &k);
	k = connect_rec(3, SK_A, 100);
	feed(p, &k);
	k = connect_rec(4, SK_A, 200);
	feed(p, &k);
	/* An outcome older than its connect belongs to an earlier socket. */
	k = outcome_rec(SK_B, 50, TCP_ESTABLISHED, 0);
	feed(p, &k);
	k = connect_rec(5, SK_B, 60);
	feed(p, &k);
	pump_flush(p);
	assert_string_equal(stored_result(s, 3), "timeout");
	assert_string_equal(stored_result(s, 4), "reset");
	assert_string_equal(stored_result(s, 5), "unknown");
	pump_free(p);
	store_free(s);
}

/* What a move out of SYN_SENT means; no BTF (err -1): unknown. */
static void
test_outcome_meaning(void **state)
{
	struct ld_link o = { .sk = 1, .outcome = 1 };

	(void)state;
	o.state = TCP_ESTABLISHED;
	assert_int_equal(outcome(&o), EV_RESULT_OK);
	o.state = TCP_CLOSE;
	o.err = ECONNREFUSED;
	assert_int_equal(outcome(&o), EV_RESULT_REFUSED);
	o.err = EHOSTUNREACH;
	assert_int_equal(outcome(&o), EV_RESULT_ERROR);
	o.err = 0;          /* closed by its owner */
	assert_int_equal(outcome(&o), EV_RESULT_UNKNOWN);
	o.err = -1;
	assert_int_equal(outcome(&o), EV_RESULT_UNKNOWN);
}

/* Events the backends know the return code of keep their own result;
 * a short record is not stored but counted lost, as /health shows it. */
static void
test_plain_events(void **state)
{
	struct store *s = store_new(100);
	struct pump *p = pump_new(s, NULL, NULL);
	struct kevent k = connect_rec(6, 0, 10);

	(void)state;
	k.flags = 0;
	k.ret = -ECONNREFUSED;
	feed(p, &k);
	pump_sample(p, &k, 10);
	pump_flush(p);
	assert_string_equal(stored_result(s, 6), "refused");
	{
		struct store_stats ss;

		store_stats(s, &ss);
		assert_int_equal(ss.lost, 1);
		assert_int_equal(ss.added, 1);
	}
	pump_free(p);
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_after_connect),
		cmocka_unit_test(test_outcome_before_connect),
		cmocka_unit_test(test_outcome_meaning),
		cmocka_unit_test(test_plain_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
