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
	metrics_events(m, e, 4);
	metrics_events(m, e, 1);
	metrics_http(m, EP_HEALTH, 200);
	metrics_http(m, EP_TOP, 400);
	metrics_http(m, EP_TOP, 418);
	/* 100 more names: only METRICS_COMMANDS get a slot. */
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
	/* curl and dig took two slots: 62 of the 100, 38 are "other". */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
