/* Unit tests for the fleet exporter (httpd/export.c) without engines: the
 * NDJSON line, the host label on the metrics text, the RFC 5424 line and
 * its octet count, and the bounded queue counting what it cannot hold
 * while the engine is down.  The real engines are in
 * tests/integration/test_fleet.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../httpd/export.c"
#include "httpd/metrics.h"

#include <netinet/in.h>

static const struct api_state st0;

static void
sample(struct event *ev, uint32_t pid)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts = 1796335807123456789ull;
	ev->pid = pid;
	ev->tid = pid;
	ev->family = AF_INET;
	ev->sock_type = 1;
	ev->protocol = 6;
	ev->port = 443;
	ev->syscall = EV_CONNECT;
	ev->ret = -111;
	ev->count = 1;
	memcpy(ev->ip, "\x7f\x00\x00\x01", 4);
	strcpy(ev->comm, "cu\"rl");
}

static void
test_event_line(void **state)
{
	struct exporter x = { .st = &st0 };
	struct jbuf b = { 0 }, ref = { 0 };
	struct event ev;
	json_t *o;

	(void)state;
	strcpy(x.host, "web-1");
	sample(&ev, 42);
	event_line(&b, &x, &ev);
	jbuf_raw(&b, "", 0);
	assert_int_equal(b.err, 0);
	/* The stream's object, byte for byte, then host, time and time_ns. */
	jbuf_event(&ref, &ev, "", 0, -1);
	assert_true(b.len > ref.len);
	assert_memory_equal(b.p, ref.p, ref.len - 1);
	assert_non_null(o = json_loadb(b.p, b.len, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(o, "host")), "web-1");
	assert_int_equal(json_integer_value(json_object_get(o, "time")), 1796335807);
	assert_int_equal(json_integer_value(json_object_get(o, "time_ns")), 123456789);
	assert_string_equal(json_string_value(json_object_get(o, "command")), "cu\"rl");
	assert_string_equal(json_string_value(json_object_get(o, "timestamp")),
	    "2026-12-03T22:10:07.123456789Z");
	json_decref(o);
	free(b.p);
	free(ref.p);
}

static void
test_host_label(void **state)
{
	static const char in[] =
	    "# HELP a_total A.\n# TYPE a_total counter\n"
	    "a_total 5\n"
	    "b_total{command=\"x\",result=\"ok\"} 7\n"
	    "c{} 1\n";
	static const char want[] =
	    "# HELP a_total A.\n# TYPE a_total counter\n"
	    "a_total{host=\"h.1\"} 5\n"
	    "b_total{host=\"h.1\",command=\"x\",result=\"ok\"} 7\n"
	    "c{host=\"h.1\"} 1\n";
	struct jbuf b = { 0 };

	(void)state;
	assert_int_equal(with_host(&b, in, strlen(in), "h.1"), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	free(b.p);
}

static void
test_syslog_line(void **state)
{
	static const char want[] = "<29>1 2026-12-03T22:10:07.123456Z web-1 "
	    "ebpf-server 77 connect - {\"x\":1}";
	struct jbuf b = { 0 };
	struct event ev;
	char framed[256];

	(void)state;
	sample(&ev, 42);
	/* A failed connect is a notice (daemon.notice = 29). */
	xsyslog_line(&b, &ev, "{\"x\":1}", 7, "web-1", 77, 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	/* Octet counting: the length of what follows the space. */
	b.len = 0;
	ev.ret = 0;
	xsyslog_line(&b, &ev, "{\"x\":1}", 7, "web-1", 77, 1);
	snprintf(framed, sizeof(framed), "%zu <30>%s", strlen(want), want + 4);
	assert_int_equal(b.len, strlen(framed));
	assert_memory_equal(b.p, framed, b.len);
	free(b.p);
}

/* An engine that refuses connections: the queue holds what fits, the
 * rest is counted as dropped, nothing is sent, and at stop what is left
 * is counted too. */
static void
test_queue_bound(void **state)
{
	struct export_conf c = { .events_url = "http://127.0.0.1:1/x",
		.queue = 100 };
	struct export_stat es[EXPORT_SINKS];
	struct event ev[250];
	struct exporter *x;
	char err[256];
	size_t i;

	(void)state;
	c.host = "q";
	for (i = 0; i < 250; i++)
		sample(&ev[i], 5000000 + (uint32_t)i); /* above pid_max */
	assert_non_null(x = export_start(&c, &st0, api_metrics_text, err,
	    sizeof(err)));
	assert_true(export_uses_net(x));
	assert_string_equal(export_host(x), "q");
	export_events(x, ev, 250);
	/* Our own pid is never queued. */
	ev[0].pid = (uint32_t)getpid();
	export_events(x, ev, 1);
	assert_int_equal(export_stats(x, es), 1);
	assert_string_equal(es[0].sink, "events");
	assert_int_equal(es[0].queued, 100);
	assert_int_equal(es[0].dropped, 150);
	assert_int_equal(es[0].sent, 0);
	assert_int_equal(export_dropped(x), 150);
	export_stop(x);
}

static void
test_filter_and_memory(void **state)
{
	struct export_conf c = { .syslog = "udp://127.0.0.1:9",
		.filter = "port=443&failed=true", .queue = 10 };
	struct export_stat es[EXPORT_SINKS];
	struct event ev[3];
	struct exporter *x;
	char err[256];

	(void)state;
	c.host = "f";
	sample(&ev[0], 5);
	sample(&ev[1], 5);
	ev[1].port = 80;
	sample(&ev[2], 5);
	ev[2].ret = 0;
	assert_non_null(x = export_start(&c, &st0, api_metrics_text, err,
	    sizeof(err)));
	export_events(x, ev, 3);
	assert_int_equal(export_stats(x, es), 1);
	assert_int_equal(es[0].queued + es[0].sent, 1);
	export_stop(x);
	/* The memory bound grows with the queue, per event sink. */
	assert_true(export_memory(&c) >= 10 * sizeof(struct event));
	c.events_url = "http://127.0.0.1:9/";
	assert_true(export_memory(&c) >= 20 * sizeof(struct event) +
	    2 * EXPORT_BATCH_BYTES);
}

static void
test_bad_addresses(void **state)
{
	struct export_conf c = { .events_url = "https://x/" };
	char err[256];

	(void)state;
	assert_null(export_start(&c, &st0, api_metrics_text, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "-push-events"));
	c.events_url = NULL;
	c.syslog = "udp://127.0.0.1";
	assert_null(export_start(&c, &st0, api_metrics_text, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "host:port"));
	c.syslog = "unix:relative";
	assert_null(export_start(&c, &st0, api_metrics_text, err,
	    sizeof(err)));
	c.syslog = NULL;
	c.metrics_url = "http://127.0.0.1:99999/";
	assert_null(export_start(&c, &st0, api_metrics_text, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "1-65535"));
	c.metrics_url = NULL;
	c.host = "a b";
	assert_int_equal(export_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "-host"));
	assert_null(export_start(&c, &st0, api_metrics_text, err,
	    sizeof(err)));
	c.host = NULL;
	c.filter = "port=x";
	assert_int_equal(export_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "-export-filter"));
	c.filter = "port=443&command=curl";
	assert_int_equal(export_conf_check(&c, err, sizeof(err)), 0);
	assert_true(host_ok("a-b.c_d:1"));
	assert_false(host_ok("a b"));
	assert_false(host_ok("a\"b"));
	assert_false(host_ok(""));
}

/* /metrics shows each sink's figures, a series per sink. */
static void
test_metrics_series(void **state)
{
	struct export_stat es[2] = {
		{ "events", 10, 7, 2, 3 }, { "syslog", 1, 0, 0, 0 },
	};
	struct metrics_extra mx = { .exp = es, .nexp = 2 };
	struct store_stats ss = { 0 };
	struct metrics *m;
	size_t len;
	char *t;

	(void)state;
	assert_non_null(m = metrics_new());
	assert_non_null(t = metrics_render(m, &ss, &mx, &len));
	assert_non_null(strstr(t, "\nebpf_server_export_sent_total{sink=\"events\"} 10\n"));
	assert_non_null(strstr(t, "\nebpf_server_export_dropped_total{sink=\"events\"} 7\n"));
	assert_non_null(strstr(t, "\nebpf_server_export_failures_total{sink=\"events\"} 2\n"));
	assert_non_null(strstr(t, "\nebpf_server_export_queued_events{sink=\"events\"} 3\n"));
	assert_non_null(strstr(t, "\nebpf_server_export_sent_total{sink=\"syslog\"} 1\n"));
	assert_non_null(strstr(t, "# TYPE ebpf_server_export_queued_events gauge\n"));
	free(t);
	/* Without sinks, no such series. */
	mx.nexp = 0;
	assert_non_null(t = metrics_render(m, &ss, &mx, &len));
	assert_null(strstr(t, "ebpf_server_export_"));
	free(t);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_line),
		cmocka_unit_test(test_host_label),
		cmocka_unit_test(test_syslog_line),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_filter_and_memory),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_metrics_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
