/*
 * GET /metrics on the real kernel: the series and their values, label
 * escaping, bounded command labels, `promtool check metrics`, and a real
 * Prometheus server (Debian's prometheus package) that scrapes us and
 * finds the series through its query API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/stat.h>

#include "tests/integration/itest.h"

/* Polls for what takes a ranking (once a second) and a flush round: a
 * few seconds on a loaded machine, this at most. */
#define DEADLINE_S 10

/* Unique per run: the server sees the whole host, where another copy of
 * this test may be running.  ODD needs escaping: it"q\<pid>. */
static char COMM[16], ODD[16], ODD_LABEL[32];

static struct server srv;
static int udp_port;

static void
traffic(const char *comm, int ndgram)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	pid_t pid;
	int fd, i, status;

	if ((pid = fork()) == 0) {
		prctl(PR_SET_NAME, comm);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons(udp_port);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		for (i = 0; i < ndgram; i++)
			sendto(fd, "x", 1, 0, (void *)&a, sizeof(a));
		a.sin_port = htons(it_free_port());
		fd = socket(AF_INET, SOCK_STREAM, 0);
		connect(fd, (void *)&a, sizeof(a));     /* refused */
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

static int
setup(void **state)
{
	static const char *const args[] = { "-max-events", "12345", NULL };

	(void)state;
	snprintf(COMM, sizeof(COMM), "itm-%d", (int)getpid() % 10000000);
	snprintf(ODD, sizeof(ODD), "it\"q\\%d", (int)getpid() % 10000000);
	snprintf(ODD_LABEL, sizeof(ODD_LABEL), "it\\\"q\\\\%d",
	    (int)getpid() % 10000000);
	if (it_start(&srv, args) < 0)
		return -1;
	udp_port = it_free_port();
	traffic(COMM, 3);
	traffic(ODD, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

/* The value of the sample line that starts with series, or -1. */
static double
sample(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atof(p + n + 1);
		p += n;
	}
	return -1;
}

/*
 * GET /metrics into r once series has at least the value want, or after
 * 3 s (records wait up to a flush round, 200 ms, in a per-CPU batch, then
 * for the reader's poll).
 */
static void
metrics_when(struct reply *r, const char *series, double want)
{
	double t0 = it_now();

	for (;;) {
		assert_int_equal(it_http(srv.port, "GET", "/metrics", NULL, r), 0);
		if (sample(r->body, series) >= want || it_now() - t0 > 3)
			return;
		it_reply_free(r);
		usleep(20000);
	}
}

static void
test_series(void **state)
{
	struct reply r;
	char ct[128], series[256];

	(void)state;
	/* Each of what setup() made, whatever CPU's batch it waits in; the
	 * counters only grow, so the last reply holds all three. */
	snprintf(series, sizeof(series), "ebpf_server_connect_attempts_total{"
	    "command=\"%s\",protocol=\"TCP\",result=\"error\"}", ODD_LABEL);
	metrics_when(&r, series, 1);
	it_reply_free(&r);
	snprintf(series, sizeof(series), "ebpf_server_connect_attempts_total{"
	    "command=\"%s\",protocol=\"TCP\",result=\"error\"}", COMM);
	metrics_when(&r, series, 1);
	it_reply_free(&r);
	snprintf(series, sizeof(series), "ebpf_server_datagrams_total{command="
	    "\"%s\",syscall=\"%s\",protocol=\"UDP\",result=\"ok\"}", COMM,
	    it_knows(&srv, "syscall") ? "sendto" : "sendmsg");
	metrics_when(&r, series, 3);
	assert_int_equal(r.status, 200);
	assert_int_equal(it_header(&r, "Content-Type", ct, sizeof(ct)), 0);
	assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
	snprintf(series, sizeof(series), "ebpf_server_connect_attempts_total{"
	    "command=\"%s\",protocol=\"TCP\",result=\"error\"}", COMM);
	assert_true(sample(r.body, series) == 1);
	/* The socket hooks cannot tell sendto from sendmsg, and say so. */
	snprintf(series, sizeof(series), "ebpf_server_datagrams_total{command="
	    "\"%s\",syscall=\"%s\",protocol=\"UDP\",result=\"ok\"}", COMM,
	    it_knows(&srv, "syscall") ? "sendto" : "sendto|sendmsg");
	assert_true(sample(r.body, series) == 3);
	/* Quote and backslash escaped in the label value. */
	snprintf(series, sizeof(series), "ebpf_server_connect_attempts_total{"
	    "command=\"%s\",protocol=\"TCP\",result=\"error\"}", ODD_LABEL);
	if (sample(r.body, series) != 1)
		fail_msg("no %s in:\n%s", series, r.body);
	assert_true(sample(r.body, "ebpf_server_store_capacity_events") == 12345);
	assert_true(sample(r.body, "ebpf_server_store_events") >= 2);
	assert_true(sample(r.body, "ebpf_server_events_lost_total") >= 0);
	assert_true(sample(r.body, "ebpf_server_events_total") >= 5);
	/* it_start() polled /health until it answered. */
	assert_true(sample(r.body, "ebpf_server_http_requests_total{endpoint="
	    "\"/health\",code=\"200\"}") >= 1);
	assert_true(sample(r.body, "process_resident_memory_bytes") > 100000);
	assert_true(sample(r.body, "process_open_fds") > 3);
	assert_true(sample(r.body, "process_cpu_seconds_total") >= 0);
	assert_true(sample(r.body, "process_start_time_seconds") >
	    (double)time(NULL) - 600);
	assert_non_null(strstr(r.body, "# TYPE ebpf_server_connect_attempts_total "
	    "counter\n"));
	it_reply_free(&r);
	/* Requests by endpoint and status: a 404 and a 400 are counted. */
	assert_int_equal(it_http(srv.port, "GET", "/nope", NULL, &r), 0);
	it_reply_free(&r);
	assert_int_equal(it_http(srv.port, "GET", "/api/top?by=x", NULL, &r), 0);
	it_reply_free(&r);
	assert_int_equal(it_http(srv.port, "GET", "/metrics", NULL, &r), 0);
	assert_true(sample(r.body, "ebpf_server_http_requests_total{endpoint="
	    "\"other\",code=\"404\"}") == 1);
	assert_true(sample(r.body, "ebpf_server_http_requests_total{endpoint="
	    "\"/api/top\",code=\"400\"}") == 1);
	assert_true(sample(r.body, "ebpf_server_http_requests_total{endpoint="
	    "\"/metrics\",code=\"200\"}") >= 1);
	it_reply_free(&r);
}

/* Run promtool check metrics on text; returns its exit status. */
static int
promtool(const char *text, size_t len)
{
	FILE *p = popen("promtool check metrics >/tmp/itest-promtool.out 2>&1", "w");
	int st;

	assert_non_null(p);
	fwrite(text, 1, len, p);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_promtool(void **state)
{
	static const char broken[] = "# TYPE x counter\nx{a=\"1\" 3\n";
	struct reply r;

	(void)state;
	assert_int_equal(it_http(srv.port, "GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	if (promtool(r.body, r.len) != 0) {
		system("cat /tmp/itest-promtool.out >&2");
		fail_msg("promtool check metrics failed on:\n%s", r.body);
	}
	it_reply_free(&r);
	/* And promtool does fail on broken text: this test can fail. */
	assert_int_not_equal(promtool(broken, sizeof(broken) - 1), 0);
}

/* 70 more distinct commands: 64 command labels at most, plus "other". */
static void
test_bounded_commands(void **state)
{
	char name[16], seen[128][64];
	struct reply r;
	const char *p;
	int i, j, n = 0, len;

	(void)state;
	for (i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "itest-c%02d", i);
		traffic(name, 0);
	}
	metrics_when(&r, "ebpf_server_connect_attempts_total{command="
	    "\"other\",protocol=\"TCP\",result=\"error\"}", 8);
	for (p = r.body; (p = strstr(p, "{command=\"")) != NULL; ) {
		p += 10;
		/* Up to the closing quote; \" inside is escaped. */
		for (len = 0; p[len] && !(p[len] == '"' && p[len - 1] != '\\'); len++)
			;
		for (j = 0; j < n; j++)
			if ((int)strlen(seen[j]) == len && !strncmp(seen[j], p, (size_t)len))
				break;
		if (j == n && n < 128)
			snprintf(seen[n++], sizeof(seen[0]), "%.*s", len, p);
	}
	assert_true(n <= 64 + 1);
	/* Whoever else ran took slots too: at least 72 - 64 of our names (the
	 * last ones) count as "other", each with its refused TCP connect. */
	assert_true(sample(r.body, "ebpf_server_connect_attempts_total{command="
	    "\"other\",protocol=\"TCP\",result=\"error\"}") >= 8);
	it_reply_free(&r);
}

/* One process that renames itself n times, with a UDP connect() under
 * each name (an event each), then under busy makes nbusy more. */
static void
rename_flood(const char *prefix, int n, const char *busy, int nbusy)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char name[16];
	pid_t pid;
	int fd, i, status;

	if ((pid = fork()) == 0) {
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons(9);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "%s%d", prefix, i);
			prctl(PR_SET_NAME, name);
			connect(fd, (void *)&a, sizeof(a));
		}
		if (busy)
			prctl(PR_SET_NAME, busy);
		for (i = 0; i < nbusy; i++)
			connect(fd, (void *)&a, sizeof(a));
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

/*
 * Junk names right after start, then one busy command: once a scrape has
 * ranked them, the busy command has a series of its own, and a name with
 * ESC and CR in it reaches no label raw.  A series shows once it counts
 * an event after the ranking that gave it (at most one a second), so the
 * busy command goes on connecting while we scrape for it.
 */
static void
test_junk_first(void **state)
{
	struct server fresh;
	char busy[16], junk[16], esc[16];
	struct reply r;
	const char *p;
	double t0;

	(void)state;
	snprintf(busy, sizeof(busy), "itbusy%d", (int)getpid() % 1000000);
	snprintf(junk, sizeof(junk), "j%d-", (int)getpid() % 1000000);
	snprintf(esc, sizeof(esc), "e\x1b[2J\r%d", (int)getpid() % 100000);
	assert_int_equal(it_start(&fresh, NULL), 0);
	rename_flood(junk, 500, esc, 3);
	rename_flood(junk, 0, busy, 2000);
	for (t0 = it_now();; it_reply_free(&r)) {
		assert_int_equal(it_http(fresh.port, "GET", "/metrics", NULL, &r), 0);
		assert_int_equal(r.status, 200);
		if (strstr(r.body, busy))
			break;
		if (it_now() - t0 > DEADLINE_S) {
			fprintf(stderr, "%s\n", r.body);
			fail_msg("no series of %s %d s after 500 junk names", busy,
			    DEADLINE_S);
		}
		rename_flood(junk, 0, busy, 20);
		usleep(100000);
	}
	for (p = r.body; *p; p++)
		assert_true(*p != '\x1b' && *p != '\r');
	it_reply_free(&r);
	assert_int_equal(it_stop(&fresh, NULL), 0);
}

/* A real Prometheus scrapes us and answers queries about our series. */
static void
test_prometheus_scrapes(void **state)
{
	char dir[] = "/tmp/itest-prom.XXXXXX", conf[128], data[128], cmd[512];
	char flag_conf[160], flag_data[160], flag_addr[64];
	struct reply r;
	json_t *res;
	pid_t prom;
	int pport, status, found = 0;
	double t0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	assert_non_null(f = fopen(conf, "w"));
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
	    "scrape_configs:\n  - job_name: ebpf-server\n    static_configs:\n"
	    "      - targets: ['127.0.0.1:%d']\n", srv.port);
	fclose(f);
	pport = it_free_port();
	snprintf(flag_conf, sizeof(flag_conf), "--config.file=%s", conf);
	snprintf(flag_data, sizeof(flag_data), "--storage.tsdb.path=%s", data);
	snprintf(flag_addr, sizeof(flag_addr), "--web.listen-address=127.0.0.1:%d",
	    pport);
	if ((prom = fork()) == 0) {
		int fd = open("/tmp/itest-prometheus.log", O_WRONLY | O_CREAT |
		    O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execlp("prometheus", "prometheus", flag_conf, flag_data, flag_addr,
		    "--log.level=warn", (char *)NULL);
		_exit(127);
	}
	/* Wait for a scrape: our capacity, as Prometheus stored it. */
	t0 = it_now();
	while (!found && it_now() - t0 < 40) {
		usleep(500000);
		if (it_http(pport, "GET", "/api/v1/query?query="
		    "ebpf_server_store_capacity_events", NULL, &r) == 0 &&
		    r.status == 200) {
			res = json_object_get(json_object_get(r.json, "data"), "result");
			if (json_array_size(res) == 1 && strcmp(json_string_value(
			    json_array_get(json_object_get(json_array_get(res, 0),
			    "value"), 1)), "12345") == 0)
				found = 1;
		}
		it_reply_free(&r);
	}
	if (found) {
		/* A counter with labels, selected by label. */
		snprintf(cmd, sizeof(cmd), "/api/v1/query?query="
		    "ebpf_server_datagrams_total%%7Bcommand%%3D%%22%s%%22%%7D", COMM);
		assert_int_equal(it_http(pport, "GET", cmd, NULL, &r), 0);
		res = json_object_get(json_object_get(r.json, "data"), "result");
		if (json_array_size(res) != 1)
			fail_msg("datagram series not found: %s", r.body);
		assert_string_equal(json_string_value(json_array_get(
		    json_object_get(json_array_get(res, 0), "value"), 1)), "3");
		it_reply_free(&r);
		/* The target is up. */
		assert_int_equal(it_http(pport, "GET", "/api/v1/query?query="
		    "up%7Bjob%3D%22ebpf-server%22%7D", NULL, &r), 0);
		assert_non_null(strstr(r.body, "\"1\"]"));
		it_reply_free(&r);
	}
	kill(prom, SIGTERM);
	waitpid(prom, &status, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	system(cmd);
	if (!found) {
		system("tail -20 /tmp/itest-prometheus.log >&2");
		fail_msg("Prometheus did not scrape ebpf_server_store_capacity_events "
		    "within 40 s");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_bounded_commands),
		cmocka_unit_test(test_junk_first),
		cmocka_unit_test(test_prometheus_scrapes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
