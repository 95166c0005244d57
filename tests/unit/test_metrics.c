/* Unit tests for httpd/metrics.c: label escaping, bounded command slots,
 * and the shape of the exposition text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../httpd/metrics.c"

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

static void
test_label(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(metrics_label("plain", 5, out, sizeof(out)), 5);
	assert_string_equal(out, "plain");
	metrics_label("a\"b\\c\nd", 7, out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	/* Invalid UTF-8 becomes U+FFFD: Prometheus wants UTF-8 labels. */
	metrics_label("x\xff", 2, out, sizeof(out));
	assert_string_equal(out, "x" UTF8_REPLACEMENT);
	/* ESC and CR would drive the reader's terminal: replaced. */
	metrics_label("a\x1b[2Jb\r", 7, out, sizeof(out));
	assert_string_equal(out, "a" UTF8_REPLACEMENT "[2Jb" UTF8_REPLACEMENT);
	/* An escape is never cut in half. */
	assert_int_equal(metrics_label("ab\"", 3, out, 4), 2);
	assert_string_equal(out, "ab");
}

static struct event
ev(const char *comm, uint8_t sc, int32_t ret, uint32_t count)
{
	struct event e;

	memset(&e, 0, sizeof(e));
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	e.family = AF_INET;
	e.protocol = sc == EV_CONNECT ? IPPROTO_TCP : IPPROTO_UDP;
	e.syscall = sc;
	e.ret = ret;
	e.count = count;
	return e;
}

#define NS 1000000000ULL
static uint64_t fake_ns;

static uint64_t
fake_clock(void)
{
	return fake_ns;
}

static void
test_render(void **state)
{
	struct store_stats ss = { .capacity = 100, .stored = 7, .added = 9,
	    .lost = 2, .evicted = 1, .bytes = 1000 };
	struct metrics_extra x = { .stream_clients = 1, .stream_dropped = 5 };
	struct event e[4];
	struct metrics *m;
	char *t, name[16];
	size_t len;
	int i;

	(void)state;
	assert_non_null(m = metrics_new());
	e[0] = ev("curl", EV_CONNECT, 0, 1);
	e[1] = ev("curl", EV_CONNECT, -111, 1);
	e[2] = ev("dig", EV_SENDTO, 30, 7);
	e[3] = ev("dig", EV_SENDMSG, -1, 1);
	m->now = fake_clock;
	fake_ns = 5 * NS;
	metrics_events(m, e, 4);
	metrics_events(m, e, 1);
	metrics_http(m, EP_HEALTH, 200);
	metrics_http(m, EP_TOP, 400);
	metrics_http(m, EP_TOP, 418);
	/* 100 more names: while series are free each gets one at once. */
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		e[0] = ev(name, EV_CONNECT, 0, 1);
		metrics_events(m, e, 1);
	}
	assert_non_null(t = metrics_render(m, &ss, &x, &len));
	assert_int_equal(strlen(t), len);
	assert_non_null(strstr(t, "\nebpf_server_connect_attempts_total{command="
	    "\"curl\",protocol=\"TCP\",result=\"ok\"} 2\n"));
	assert_non_null(strstr(t, "\nebpf_server_connect_attempts_total{command="
	    "\"curl\",protocol=\"TCP\",result=\"error\"} 1\n"));
	assert_non_null(strstr(t, "\nebpf_server_datagrams_total{command=\"dig\","
	    "syscall=\"sendto\",protocol=\"UDP\",result=\"ok\"} 7\n"));
	assert_non_null(strstr(t, "\nebpf_server_datagrams_total{command=\"dig\","
	    "syscall=\"sendmsg\",protocol=\"UDP\",result=\"error\"} 1\n"));
	/* curl and dig took two series: 62 of the 100, 38 are "other". */
	assert_non_null(strstr(t, "{command=\"n61\","));
	assert_null(strstr(t, "{command=\"n62\","));
	assert_non_null(strstr(t, "\nebpf_server_connect_attempts_total{command="
	    "\"other\",protocol=\"TCP\",result=\"ok\"} 38\n"));
	assert_non_null(strstr(t, "\nebpf_server_events_lost_total 2\n"));
	assert_non_null(strstr(t, "\nebpf_server_store_events 7\n"));
	assert_non_null(strstr(t, "\nebpf_server_store_capacity_events 100\n"));
	assert_non_null(strstr(t, "\nebpf_server_stream_dropped_total 5\n"));
	assert_non_null(strstr(t, "\nebpf_server_http_requests_total{endpoint="
	    "\"/health\",code=\"200\"} 1\n"));
	assert_non_null(strstr(t, "\nebpf_server_http_requests_total{endpoint="
	    "\"/api/top\",code=\"other\"} 1\n"));
	assert_non_null(strstr(t, "\nprocess_open_fds "));
	/* Every counter ends in _total; every metric has HELP and TYPE. */
	{
		const char *p = t;

		while ((p = strstr(p, "# TYPE ")) != NULL) {
			const char *sp = strchr(p + 7, ' ');

			if (strncmp(sp + 1, "counter", 7) == 0)
				assert_memory_equal(sp - 6, "_total", 6);
			p = sp;
		}
	}
	free(t);
	metrics_free(m);
}

/*
 * Many batches of two commands: every event lands in its command's slot,
 * exactly, and no other slot is taken.  The reader pays for this on every
 * batch, so the time per event is printed too (a figure to watch, not a
 * bound: speed is for make bench).
 */
static void
test_many_batches_counted(void **state)
{
	struct event *e = calloc(512, sizeof(*e));
	struct timespec t0, t1;
	struct metrics *m;
	uint64_t total = 0;
	unsigned s, p, r;
	double ns;
	int i, j;

	(void)state;
	for (i = 0; i < 512; i++)
		e[i] = ev(i % 64 < 60 ? "bench" : "other", EV_CONNECT, 0, 1);
	assert_non_null(m = metrics_new());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (j = 0; j < 2000; j++)
		metrics_events(m, e, 512);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec -
	    t0.tv_nsec)) / (2000.0 * 512);
	print_message("metrics_events: %.1f ns/event\n", ns);
	/* bench has a series; the process named "other" is other's. */
	p = ev_protocol(&e[0]);
	assert_true(m->rest.conn[p][0] == 2000 * 32);
	for (s = 0; s < m->cand.n; s++) {
		const struct cand *c = sketch_payload(&m->cand, s);

		assert_true(c->shown);
		for (p = 0; p < NPROTO; p++)
			for (r = 0; r < 2; r++)
				total += c->c.conn[p][r];
	}
	p = ev_protocol(&e[0]);
	total += m->rest.conn[p][0];
	assert_int_equal(total, 2000 * 512);
	metrics_free(m);
	free(e);
}

/* The sum of the connect counters in an exposition text. */
static uint64_t
sum_connects(const char *t)
{
	const char *key = "\nebpf_server_connect_attempts_total{";
	uint64_t sum = 0;

	while ((t = strstr(t, key)) != NULL) {
		t = strchr(t, '}');
		sum += strtoull(t + 2, NULL, 10);
	}
	return sum;
}

static unsigned
series(const char *t)
{
	const char *key = "\nebpf_server_connect_attempts_total{";
	unsigned n = 0;

	for (; (t = strstr(t, key)) != NULL; t++)
		n++;
	return n;
}

/*
 * More junk names at start than the candidates hold, then one busy
 * command: the second scrape shows it, the junk is other, nothing is
 * counted twice or lost, and a process named "other" makes no second
 * series of that name.
 */
static void
test_junk_then_busy(void **state)
{
	struct store_stats ss = { .capacity = 1 };
	struct event e[1];
	struct metrics *m;
	char *t, name[16];
	size_t len;
	int i;

	(void)state;
	assert_non_null(m = metrics_new());
	m->now = fake_clock;
	fake_ns = 100 * NS;
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "junk%d", i);
		e[0] = ev(name, EV_CONNECT, 0, 1);
		metrics_events(m, e, 1);
	}
	e[0] = ev("other", EV_CONNECT, 0, 1);
	for (i = 0; i < 5; i++)
		metrics_events(m, e, 1);
	e[0] = ev("postgres", EV_CONNECT, 0, 1);
	for (i = 0; i < 50; i++)
		metrics_events(m, e, 1);
	/* The reader or a scrape (at most once a second)
	 * ranks; the next shows it. */
	fake_ns += 2 * NS;
	assert_non_null(t = metrics_render(m, &ss, NULL, &len));
	free(t);
	fake_ns += 2 * NS;
	for (i = 0; i < 7; i++)
		metrics_events(m, e, 1);
	assert_non_null(t = metrics_render(m, &ss, NULL, &len));
	/* 7 since it got its series at the ranking, or all 57 if it found
	 * one free when it came. */
	assert_true(strstr(t, "\nebpf_server_connect_attempts_total{command="
	    "\"postgres\",protocol=\"TCP\",result=\"ok\"} 7\n") ||
	    strstr(t, "\nebpf_server_connect_attempts_total{command="
	    "\"postgres\",protocol=\"TCP\",result=\"ok\"} 57\n"));
	/* Every connect once: in one series or in other's. */
	assert_true(sum_connects(t) == 1062);
	/* One "other" series only, and at most 64 others. */
	assert_null(strstr(strstr(t, "command=\"other\"") + 1, "command=\"other\""));
	assert_true(series(t) <= METRICS_COMMANDS + 1);
	free(t);
	/* A minute of quiet later postgres has lost its series to newer
	 * traffic, and its counts went to other. */
	for (i = 0; i < 8; i++) {
		fake_ns += 10 * NS;
		e[0] = ev("cron", EV_CONNECT, 0, 1);
		metrics_events(m, e, 1);
	}
	for (i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "late%d", i);
		e[0] = ev(name, EV_CONNECT, 0, 100);
		metrics_events(m, e, 1);
	}
	fake_ns += 10 * NS;
	metrics_events(m, e, 1);
	assert_non_null(t = metrics_render(m, &ss, NULL, &len));
	assert_null(strstr(t, "{command=\"postgres\","));
	free(t);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_junk_then_busy),
		cmocka_unit_test(test_many_batches_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
