/*
 * Nobody waits behind an idle or slow client: with the default flags, 64
 * idle keep-alive connections, or 64 clients trickling their headers a
 * byte at a time (each reconnecting when dropped), or 128 of each at once,
 * delay a new client's GET /health by at most a second, and 500 of each
 * by at most two.  The control runs the trickle against
 * a pool smaller than the crowd, where the new client must wait: it shows
 * the measurement can see the starvation it guards against.  Loopback
 * only, a few seconds each; the crowds are in itest_load.h, which make bench
 * uses too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>

#include "itest.h"
#include "itest_load.h"

#define CROWD 64
#define LIMIT_S 1.0

static void
test_idle_keepalive(void **state)
{
	int fd[CROWD], answered;
	struct server s;
	double worst;

	(void)state;
	assert_int_equal(it_start(&s, NULL), 0);
	answered = it_idle_crowd(s.port, fd, CROWD);
	worst = it_worst_health(s.port, 2.5);
	it_close_all(fd, CROWD);
	assert_int_equal(it_stop(&s, NULL), 0);
	print_message("%d idle keep-alive clients: worst new /health %.3f s\n",
	    answered, worst);
	assert_int_equal(answered, CROWD);
	if (worst > LIMIT_S)
		fail_msg("a new client's /health took %.2f s behind %d idle "
		    "keep-alive clients (limit %.1f s)", worst, CROWD, LIMIT_S);
}

/* The worst new /health while CROWD tricklers hold connections. */
static double
worst_under_trickle(const char *const *flags, long *reconnects)
{
	struct it_trickle t;
	struct server s;
	double worst;

	assert_int_equal(it_start(&s, flags), 0);
	assert_int_equal(it_trickle_start(&t, s.port, CROWD), 0);
	worst = it_worst_health(s.port, 3.0);
	*reconnects = it_trickle_stop(&t);
	assert_int_equal(it_stop(&s, NULL), 0);
	return worst;
}

static void
test_slow_headers(void **state)
{
	/* The default flags, then a short time-out so that the server drops
	 * the tricklers and they come back all the time. */
	static const char *const churn[] = { "-timeout", "1000", NULL };
	double worst;
	long rc;

	(void)state;
	worst = worst_under_trickle(NULL, &rc);
	print_message("%d trickling clients, default flags: worst new /health "
	    "%.3f s\n", CROWD, worst);
	if (worst > LIMIT_S)
		fail_msg("a new client's /health took %.2f s behind %d clients "
		    "trickling their headers (limit %.1f s)", worst, CROWD, LIMIT_S);
	worst = worst_under_trickle(churn, &rc);
	print_message("%d trickling clients, -timeout 1000: %ld reconnects, "
	    "worst new /health %.3f s\n", CROWD, rc, worst);
	assert_true(rc >= CROWD);
	if (worst > LIMIT_S)
		fail_msg("a new client's /health took %.2f s behind %d clients "
		    "trickling and reconnecting (limit %.1f s)", worst, CROWD, LIMIT_S);
}

/* The control: 2 workers cannot serve 64 tricklers and a new client in
 * time (each trickler keeps a worker for the reaper's grace, 100 ms, and
 * the new client waits behind them in the accept queue), and the
 * measurement above must see that. */
static void
test_slow_headers_control(void **state)
{
	static const char *const small[] = { "-threads", "2", "-max-streams", "1",
		"-timeout", "2000", NULL };
	double worst;
	long rc;

	(void)state;
	worst = worst_under_trickle(small, &rc);
	print_message("control, -threads 2: worst new /health %.3f s\n", worst);
	if (worst <= LIMIT_S)
		fail_msg("with 2 workers and %d trickling clients a new /health "
		    "still took only %.2f s: the test cannot see starvation",
		    CROWD, worst);
}

/* The worst new /health with the default flags while nidle idle
 * keep-alive clients and nslow trickling ones are connected. */
static double
worst_in_crowd(int nidle, int nslow, int *answered)
{
	static int fd[IT_CROWD_MAX];
	struct rlimit rl = { 8192, 8192 };
	struct it_trickle t;
	struct server s;
	double worst;

	/* A thousand sockets and more: above the usual soft limit. */
	setrlimit(RLIMIT_NOFILE, &rl);
	assert_int_equal(it_start(&s, NULL), 0);
	*answered = it_idle_crowd(s.port, fd, nidle);
	assert_int_equal(it_trickle_start(&t, s.port, nslow), 0);
	worst = it_worst_health(s.port, 3.0);
	it_trickle_stop(&t);
	it_close_all(fd, nidle);
	assert_int_equal(it_stop(&s, NULL), 0);
	return worst;
}

/* As many idle and as many slow clients as the default -threads. */
static void
test_idle_and_slow(void **state)
{
	double worst;
	int answered;

	(void)state;
	worst = worst_in_crowd(128, 128, &answered);
	print_message("128 idle keep-alive (%d answered) + 128 trickling "
	    "clients: worst new /health %.3f s\n", answered, worst);
	assert_int_equal(answered, 128);
	if (worst > LIMIT_S)
		fail_msg("a new client's /health took %.2f s behind 128 idle and "
		    "128 slow clients (limit %.1f s)", worst, LIMIT_S);
}

/* A thousand: 500 idle, 500 slow; within 2 s. */
static void
test_behind_1000(void **state)
{
	double worst;
	int answered;

	(void)state;
	worst = worst_in_crowd(500, 500, &answered);
	print_message("500 idle keep-alive (%d answered) + 500 trickling "
	    "clients: worst new /health %.3f s\n", answered, worst);
	assert_int_equal(answered, 500);
	if (worst > 2 * LIMIT_S)
		fail_msg("a new client's /health took %.2f s behind 1000 idle and "
		    "slow clients (limit %.1f s)", worst, 2 * LIMIT_S);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_keepalive),
		cmocka_unit_test(test_slow_headers),
		cmocka_unit_test(test_slow_headers_control),
		cmocka_unit_test(test_idle_and_slow),
		cmocka_unit_test(test_behind_1000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
