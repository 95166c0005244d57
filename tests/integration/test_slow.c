/*
 * Nobody waits behind an idle or slow client: with the default flags, 64
 * idle keep-alive connections, or 64 clients trickling their headers a
 * byte at a time (each reconnecting when dropped), delay a new client's
 * GET /health by at most a second.  The control runs the trickle against
 * a pool smaller than the crowd, where the new client must wait: it shows
 * the measurement can see the starvation it guards against.  Loopback
 * only, a few seconds each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "itest.h"

#define CROWD 64
#define LIMIT_S 1.0

static int
dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (void *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int read_reply(int fd);

/* A new client's GET /health in seconds; 5 when it got no answer. */
static double
probe(int port)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n";
	double t = it_now();
	int fd, ok;

	if ((fd = dial(port)) < 0)
		return 5;
	ok = write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1 &&
	    read_reply(fd) == 0;
	close(fd);
	return ok ? it_now() - t : 5;
}

/* The slowest of a new client's GET /health over secs seconds, one every
 * 200 ms. */
static double
worst_health(int port, double secs)
{
	double t0 = it_now(), worst = 0, t;

	while (it_now() - t0 < secs) {
		if ((t = probe(port)) > worst)
			worst = t;
		usleep(200000);
	}
	return worst;
}

/* Read one whole reply with a Content-Length on fd; 0 or -1. */
static int
read_reply(int fd)
{
	char buf[8192], *h;
	size_t len = 0;
	long clen;
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			return -1;
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((h = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		if (!(h = strstr(buf, "Content-Length: ")))
			return -1;
		clen = strtol(h + 16, NULL, 10);
		if (len >= (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf) + (size_t)clen)
			return 0;
	}
}

static void
test_idle_keepalive(void **state)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
	int fd[CROWD], i, answered = 0;
	struct server s;
	double worst;

	(void)state;
	assert_int_equal(it_start(&s, NULL), 0);
	for (i = 0; i < CROWD; i++) {
		/* One request each, then silence with the connection open. */
		fd[i] = dial(s.port);
		if (fd[i] >= 0 && write(fd[i], req, sizeof(req) - 1) ==
		    (ssize_t)sizeof(req) - 1 && read_reply(fd[i]) == 0)
			answered++;
	}
	worst = worst_health(s.port, 2.5);
	for (i = 0; i < CROWD; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	assert_int_equal(it_stop(&s, NULL), 0);
	print_message("%d idle keep-alive clients: worst new /health %.3f s\n",
	    answered, worst);
	assert_int_equal(answered, CROWD);
	if (worst > LIMIT_S)
		fail_msg("a new client's /health took %.2f s behind %d idle "
		    "keep-alive clients (limit %.1f s)", worst, CROWD, LIMIT_S);
}

/* Clients sending their headers a byte every 100 ms, never finishing,
 * each reconnecting as soon as the server drops it. */
struct trickle {
	int port;
	atomic_int stop;
	atomic_long reconnects;
};

static void *
trickle_run(void *arg)
{
	static const char start[] = "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
	struct trickle *t = arg;
	int fd[CROWD], i;
	char c;

	for (i = 0; i < CROWD; i++)
		if ((fd[i] = dial(t->port)) >= 0)
			(void)!write(fd[i], start, sizeof(start) - 1);
	while (!atomic_load(&t->stop)) {
		usleep(100000);
		for (i = 0; i < CROWD; i++) {
			struct pollfd p = { .fd = fd[i], .events = POLLIN };

			/* Dropped (the server's time-out, or its 408): again. */
			if (fd[i] < 0 || (poll(&p, 1, 0) == 1 && read(fd[i], &c, 1) <= 0) ||
			    send(fd[i], "a", 1, MSG_NOSIGNAL) != 1) {
				if (fd[i] >= 0)
					close(fd[i]);
				if ((fd[i] = dial(t->port)) >= 0)
					(void)!write(fd[i], start, sizeof(start) - 1);
				atomic_fetch_add(&t->reconnects, 1);
			}
		}
	}
	for (i = 0; i < CROWD; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return NULL;
}

/* The worst new /health while CROWD tricklers hold connections. */
static double
worst_under_trickle(const char *const *flags, long *reconnects)
{
	struct trickle t = { 0 };
	struct server s;
	pthread_t th;
	double worst;

	assert_int_equal(it_start(&s, flags), 0);
	t.port = s.port;
	assert_int_equal(pthread_create(&th, NULL, trickle_run, &t), 0);
	usleep(500000); /* every trickler connected and started */
	worst = worst_health(s.port, 3.0);
	atomic_store(&t.stop, 1);
	pthread_join(th, NULL);
	assert_int_equal(it_stop(&s, NULL), 0);
	*reconnects = atomic_load(&t.reconnects);
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

/* The control: 8 workers cannot serve 64 tricklers and a new client, and
 * the measurement above must see that. */
static void
test_slow_headers_control(void **state)
{
	static const char *const small[] = { "-threads", "8", "-max-streams", "1",
		"-timeout", "2000", NULL };
	double worst;
	long rc;

	(void)state;
	worst = worst_under_trickle(small, &rc);
	print_message("control, -threads 8: worst new /health %.3f s\n", worst);
	if (worst <= LIMIT_S)
		fail_msg("with 8 workers and %d trickling clients a new /health "
		    "still took only %.2f s: the test cannot see starvation",
		    CROWD, worst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_keepalive),
		cmocka_unit_test(test_slow_headers),
		cmocka_unit_test(test_slow_headers_control),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "itest_slow: needs root (loads eBPF programs)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
