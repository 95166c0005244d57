/*
 * The fleet (README "Fleet") against the real engines, each started here
 * on loopback with its data under build/ and stopped at the end:
 * ClickHouse (clickhouse-server), VictoriaMetrics, Pushgateway with a
 * Prometheus scraping it, and rsyslog.  None of the packaged services is
 * used, and no default port.
 *
 * The servers see the whole host, where other tests may be running: each
 * check counts only what a program of this test did, by its command name
 * (unique per run) and its pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/stat.h>

#include "tests/integration/itest.h"
#include "tests/integration/fleet.h"

#define PROBES 25           /* connects per probe run */
#define STORM 20000         /* connects in the storm */
#define OUTAGE_S 5          /* ClickHouse down for this long */
#define SMALL_QUEUE 500     /* -export-queue made too small on purpose */
#define BATCH_MAX 2000      /* EXPORT_BATCH: duplicates are at most one */

static char PROBE[16], STORMC[16];
static int ch_port, ch_tcp;
static pid_t ch_pid;

/* ClickHouse, started (again) on its ports with its data in fl_dir/ch. */
static void
ch_start(void)
{
	double secs;

	if ((ch_pid = fl_ch_start(ch_port, &secs)) < 0)
		fail_msg("clickhouse-server did not answer /ping within 30 s");
	fprintf(stderr, "   clickhouse-server answered in %.2f s\n", secs);
}

/* A query's TSV answer (malloc'd), or a failed test. */
static char *
ch_query(const char *sql)
{
	char *out = fl_ch_query(ch_port, sql);

	if (!out)
		fail_msg("ClickHouse did not answer %s", sql);
	return out;
}

/* Poll a query until its answer is want, for at most secs; the last
 * answer is returned (malloc'd). */
static char *
ch_until(const char *sql, const char *want, double secs)
{
	double t0 = it_now();
	char *got = NULL;

	while (it_now() - t0 < secs) {
		free(got);
		got = ch_query(sql);
		if (strcmp(got, want) == 0)
			break;
		usleep(250000);
	}
	return got;
}

static int
setup(void **state)
{
	char cwd[256], cmd[1000];

	(void)state;
	snprintf(PROBE, sizeof(PROBE), "flp-%d", (int)getpid() % 10000000);
	snprintf(STORMC, sizeof(STORMC), "fls-%d", (int)getpid() % 10000000);
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(fl_dir, sizeof(fl_dir), "%s/build/itest-fleet.%d", cwd,
	    (int)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fl_dir);
	if (system(cmd) != 0)
		return -1;
	ch_port = it_free_port();
	ch_tcp = it_free_port();
	if (fl_ch_config(ch_port, ch_tcp) < 0)
		return -1;
	ch_start();
	free(ch_query(FL_TABLE));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[700];

	(void)state;
	fl_stop(ch_pid);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fl_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* fl_closed_port(), or a failed test. */
static int
closed_port(int *fd)
{
	int port = fl_closed_port(fd);

	assert_true(port > 0);
	return port;
}

static void
run_connects(const char *comm, int n)
{
	int status, hold, port = closed_port(&hold);

	waitpid(fl_connects(comm, n, port, 0), &status, 0);
	close(hold);
}

/* A server with extra flags; fails the test if it does not start. */
static void
start(struct server *s, const char *const *args)
{
	if (it_start(s, args) < 0) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", s->log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
		fail_msg("ebpf-server did not start");
	}
}

/* /health's export_dropped for sink (-1 when absent) and host. */
static long long
dropped(const struct server *s, const char *sink, char *host, size_t hn)
{
	struct reply r;
	json_t *v;
	long long d = -1;

	assert_int_equal(it_http(s->port, "GET", "/health", NULL, &r), 0);
	if ((v = json_object_get(json_object_get(r.json, "export_dropped"), sink)))
		d = json_integer_value(v);
	if (host)
		snprintf(host, hn, "%s", json_string_value(json_object_get(r.json,
		    "host")) ?: "");
	it_reply_free(&r);
	return d;
}

/* The value of one series in /metrics, or -1. */
static double metric(const struct server *s, const char *series);

/* The TCP connects s counted for command comm, failed or not (a refused
 * connect's outcome may come after it was counted). */
static double
counted(const struct server *s, const char *comm)
{
	char series[128];
	double n = 0, v;
	int r;

	for (r = 0; r < 2; r++) {
		snprintf(series, sizeof(series), "ebpf_server_connect_attempts_"
		    "total{command=\"%s\",protocol=\"TCP\",result=\"%s\"}", comm,
		    r ? "error" : "ok");
		if ((v = metric(s, series)) > 0)
			n += v;
	}
	return n;
}

/* The value of one series in /metrics, or -1. */
static double
metric(const struct server *s, const char *series)
{
	struct reply r;
	const char *p;
	double v = -1;

	assert_int_equal(it_http(s->port, "GET", "/metrics", NULL, &r), 0);
	if ((p = strstr(r.body, series)) && p[strlen(series)] == ' ')
		v = strtod(p + strlen(series) + 1, NULL);
	it_reply_free(&r);
	return v;
}

static double
vm_value(int port, const char *promql)
{
	char path[1024], q[900];
	struct reply r;
	json_t *res;
	double v = -1;

	fl_urlenc(promql, q, sizeof(q));
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", q);
	if (it_http(port, "GET", path, NULL, &r) == 0 && r.status == 200) {
		res = json_object_get(json_object_get(r.json, "data"), "result");
		if (json_array_size(res) != 1 && getenv("ITEST_DEBUG"))
			fprintf(stderr, "%s: %s\n", promql, r.body);
		if (json_array_size(res) == 1)
			v = strtod(json_string_value(json_array_get(json_object_get(
			    json_array_get(res, 0), "value"), 1)) ?: "-1", NULL);
	}
	it_reply_free(&r);
	return v;
}

/*
 * Three servers, -host a, b and c, push events into one ClickHouse and
 * metrics into one VictoriaMetrics.  Each sees the same PROBES connects
 * of the probe: one SQL query gives each host's count, one PromQL query
 * the sum over the hosts.
 */
static void
test_three_hosts(void **state)
{
	char events[300], vmurl[160], vmaddr[64], vmdata[600], sql[600], want[64],
	    filter[64];
	const char *vmargv[] = { "victoria-metrics", vmaddr, vmdata,
		"-retentionPeriod=1d", "-search.latencyOffset=1s",
		"-search.disableCache", "-loggerLevel=ERROR", NULL };
	struct server s[3];
	const char *hosts[3] = { "a", "b", "c" };
	char promql[200];
	double sum = -1, t0;
	pid_t vm, probe;
	char *got;
	int vmport, i, status, hold, refused = closed_port(&hold);

	(void)state;
	vmport = it_free_port();
	snprintf(vmaddr, sizeof(vmaddr), "-httpListenAddr=127.0.0.1:%d", vmport);
	snprintf(vmdata, sizeof(vmdata), "-storageDataPath=%s/vm", fl_dir);
	vm = fl_spawn("victoria-metrics", vmargv);
	if (fl_wait_ok(vmport, "/health", 30) < 0) {
		fl_show_log("victoria-metrics");
		fail_msg("victoria-metrics did not start within 30 s");
	}
	snprintf(events, sizeof(events), "http://127.0.0.1:%d/?query=INSERT%%20"
	    "INTO%%20ebpf_events%%20FORMAT%%20JSONEachRow", ch_port);
	snprintf(vmurl, sizeof(vmurl), "http://127.0.0.1:%d/api/v1/import/"
	    "prometheus", vmport);
	/* Only the probe's events: other tests on this host may storm. */
	snprintf(filter, sizeof(filter), "command=%s", PROBE);
	for (i = 0; i < 3; i++) {
		const char *args[] = { "-host", hosts[i], "-push-events", events,
			"-push-metrics", vmurl, "-push-interval", "1",
			"-export-filter", filter, NULL };

		start(&s[i], args);
	}
	probe = fl_connects(PROBE, PROBES, refused, 0);
	waitpid(probe, &status, 0);
	close(hold);

	snprintf(sql, sizeof(sql), "SELECT host, count() FROM ebpf_events WHERE "
	    "command = '%s' AND pid = %d GROUP BY host ORDER BY host FORMAT TSV",
	    PROBE, (int)probe);
	snprintf(want, sizeof(want), "a\t%d\nb\t%d\nc\t%d\n", PROBES, PROBES,
	    PROBES);
	got = ch_until(sql, want, 20);
	if (strcmp(got, want) != 0)
		fail_msg("ClickHouse answered\n%s\nwant\n%s", got, want);
	free(got);

	/* The same connects as counters, summed across the hosts. */
	snprintf(promql, sizeof(promql), "sum(ebpf_server_connect_attempts_total"
	    "{command=\"%s\"})", PROBE);
	for (t0 = it_now(); it_now() - t0 < 30 && sum != 3 * PROBES;
	    usleep(500000))
		sum = vm_value(vmport, promql);
	if (sum != 3 * PROBES) {
		fl_show_log("victoria-metrics");
		fail_msg("VictoriaMetrics: %s = %g, want %d", promql, sum,
		    3 * PROBES);
	}
	assert_true(vm_value(vmport, "count(count by (host) "
	    "(ebpf_server_build_info{host=~\"a|b|c\"}))") == 3);
	for (i = 0; i < 3; i++) {
		char host[64];

		assert_int_equal(dropped(&s[i], "events", host, sizeof(host)), 0);
		assert_string_equal(host, hosts[i]);
		assert_true(metric(&s[i], "ebpf_server_export_sent_total"
		    "{sink=\"metrics\"}") >= 1);
		assert_int_equal(it_stop(&s[i], NULL), 0);
	}
	fl_stop(vm);
}

/*
 * A storm of STORM connects with ClickHouse down for OUTAGE_S seconds in
 * the middle.  A queue that holds the outage loses nothing and drops
 * nothing; one made too small on purpose drops, and counts exactly what
 * it dropped.  Duplicates (a batch sent again after its answer was lost)
 * are at most one batch.
 */
static void
test_outage(void **state)
{
	char events[300], filter[64], sql[600], *got, qsmall[16];
	const char *big[] = { "-host", "storm-big", "-push-events", events,
		"-export-filter", filter, "-export-queue", "65536", NULL };
	const char *small[] = { "-host", "storm-small", "-push-events", events,
		"-export-filter", filter, "-export-queue", qsmall, NULL };
	struct server sb, ss;
	long long rows, uniq, drop, lost;
	double t0, down;
	pid_t storm;
	int status, hold;

	(void)state;
	snprintf(events, sizeof(events), "http://127.0.0.1:%d/?query=INSERT%%20"
	    "INTO%%20ebpf_events%%20FORMAT%%20JSONEachRow", ch_port);
	snprintf(filter, sizeof(filter), "command=%s", STORMC);
	snprintf(qsmall, sizeof(qsmall), "%d", SMALL_QUEUE);
	start(&sb, big);
	start(&ss, small);
	/* STORM connects paced over about 8 s. */
	storm = fl_connects(STORMC, STORM, closed_port(&hold), 350);
	usleep(1500000);        /* deliberate: some of it before the outage */
	t0 = it_now();
	fl_stop(ch_pid);
	down = it_now() - t0;
	usleep(OUTAGE_S * 1000000);     /* deliberate: the outage */
	fprintf(stderr, "   ClickHouse stopped in %.2f s, down %d s\n", down,
	    OUTAGE_S);
	ch_start();
	waitpid(storm, &status, 0);
	close(hold);

	/* Every event of the storm, in at most a batch's duplicates. */
	snprintf(sql, sizeof(sql), "SELECT uniqExact(destination_ip) FROM "
	    "ebpf_events WHERE host = 'storm-big' AND command = '%s' FORMAT TSV",
	    STORMC);
	{
		char want[32];

		snprintf(want, sizeof(want), "%d\n", STORM);
		got = ch_until(sql, want, 60);
		uniq = atoll(got);
		free(got);
	}
	lost = (long long)metric(&sb, "ebpf_server_events_lost_total");
	if (uniq != STORM) {
		fprintf(stderr, "   the server counted %.0f connects of %s\n",
		    counted(&sb, STORMC), STORMC);
		fail_msg("storm-big: %lld distinct rows of %d (events lost by the "
		    "kernel: %lld; the sink says %.0f sent, %.0f queued, %.0f "
		    "failures)", uniq, STORM, lost, metric(&sb,
		    "ebpf_server_export_sent_total{sink=\"events\"}"), metric(&sb,
		    "ebpf_server_export_queued_events{sink=\"events\"}"),
		    metric(&sb, "ebpf_server_export_failures_total{sink=\"events\"}"));
	}
	snprintf(sql, sizeof(sql), "SELECT count() FROM ebpf_events WHERE host = "
	    "'storm-big' AND command = '%s' FORMAT TSV", STORMC);
	got = ch_query(sql);
	rows = atoll(got);
	free(got);
	fprintf(stderr, "   storm-big: %lld rows, %lld distinct, %lld "
	    "duplicates\n", rows, uniq, rows - uniq);
	assert_true(rows - uniq <= BATCH_MAX);
	assert_int_equal(dropped(&sb, "events", NULL, 0), 0);

	/* The small queue: wait until it is empty, then every event is a
	 * row or counted as dropped. */
	for (t0 = it_now(); it_now() - t0 < 30 &&
	    metric(&ss, "ebpf_server_export_queued_events{sink=\"events\"}") != 0;
	    usleep(250000))
		;
	drop = dropped(&ss, "events", NULL, 0);
	snprintf(sql, sizeof(sql), "SELECT uniqExact(destination_ip) FROM "
	    "ebpf_events WHERE host = 'storm-small' AND command = '%s' FORMAT TSV",
	    STORMC);
	got = ch_query(sql);
	uniq = atoll(got);
	free(got);
	fprintf(stderr, "   storm-small (-export-queue %d): %lld rows + %lld "
	    "dropped = %lld of %d\n", SMALL_QUEUE, uniq, drop, uniq + drop, STORM);
	assert_true(drop > 0);
	assert_int_equal(uniq + drop, STORM);
	assert_int_equal(it_stop(&sb, NULL), 0);
	assert_int_equal(it_stop(&ss, NULL), 0);
}

/*
 * Two servers push their metrics to a Pushgateway, one group per host; a
 * real Prometheus scrapes the Pushgateway and sees each host's series,
 * the probe's connects among them.
 */
static void
test_pushgateway(void **state)
{
	char pgaddr[64], pgurl[2][200], conf[600], pconf[700], pdata[700],
	    paddr[64], promql[200], yml[600];
	const char *pgargv[] = { "prometheus-pushgateway", pgaddr, NULL };
	const char *pargv[] = { "prometheus", pconf, pdata, paddr,
		"--log.level=warn", NULL };
	const char *hosts[2] = { "pg-1", "pg-2" };
	struct server s[2];
	int pgport = it_free_port(), pport = it_free_port(), i;
	double v = -1, t0;
	pid_t pg, prom;

	(void)state;
	snprintf(pgaddr, sizeof(pgaddr), "--web.listen-address=127.0.0.1:%d",
	    pgport);
	pg = fl_spawn("pushgateway", pgargv);
	if (fl_wait_ok(pgport, "/-/ready", 30) < 0) {
		fl_show_log("pushgateway");
		fail_msg("prometheus-pushgateway did not start within 30 s");
	}
	snprintf(yml, sizeof(yml), "global:\n  scrape_interval: 1s\n"
	    "  scrape_timeout: 1s\nscrape_configs:\n  - job_name: pushgateway\n"
	    "    honor_labels: true\n    static_configs:\n"
	    "      - targets: ['127.0.0.1:%d']\n", pgport);
	assert_int_equal(fl_write_file("prometheus.yml", yml), 0);
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", fl_dir);
	snprintf(pconf, sizeof(pconf), "--config.file=%s", conf);
	snprintf(pdata, sizeof(pdata), "--storage.tsdb.path=%s/prom", fl_dir);
	snprintf(paddr, sizeof(paddr), "--web.listen-address=127.0.0.1:%d", pport);
	prom = fl_spawn("prometheus", pargv);
	for (i = 0; i < 2; i++) {
		const char *args[] = { "-host", hosts[i], "-push-metrics", pgurl[i],
			"-push-interval", "1", NULL };

		snprintf(pgurl[i], sizeof(pgurl[i]), "http://127.0.0.1:%d/metrics/"
		    "job/ebpf-server/instance/%s", pgport, hosts[i]);
		start(&s[i], args);
	}
	run_connects(PROBE, PROBES);
	if (fl_wait_ok(pport, "/-/ready", 30) < 0) {
		fl_show_log("prometheus");
		fail_msg("prometheus did not start within 30 s");
	}
	/* Per host: the same series, from the group of each. */
	snprintf(promql, sizeof(promql), "sum(ebpf_server_connect_attempts_total"
	    "{job=\"ebpf-server\",command=\"%s\",host=~\"pg-1|pg-2\"})", PROBE);
	for (t0 = it_now(); it_now() - t0 < 40 && v != 2 * PROBES;
	    usleep(500000))
		v = vm_value(pport, promql);
	/* Both servers saw this probe run (they did not run during the
	 * others). */
	if (v != 2 * PROBES) {
		fl_show_log("prometheus");
		fl_show_log("pushgateway");
		fail_msg("Prometheus: %s = %g, want %d", promql, v, 2 * PROBES);
	}
	for (i = 0; i < 2; i++) {
		snprintf(promql, sizeof(promql), "sum(ebpf_server_connect_attempts_"
		    "total{instance=\"%s\",host=\"%s\",command=\"%s\"})", hosts[i],
		    hosts[i], PROBE);
		for (t0 = it_now(); it_now() - t0 < 10 &&
		    (v = vm_value(pport, promql)) != PROBES; usleep(250000))
			;
		if (v != PROBES)
			fail_msg("Prometheus: %s = %g, want %d", promql, v, PROBES);
		assert_int_equal(dropped(&s[i], "metrics", NULL, 0), 0);
		assert_int_equal(it_stop(&s[i], NULL), 0);
	}
	fl_stop(prom);
	fl_stop(pg);
}

/* One line of rsyslog's file, as the template below writes it:
 * PRI|TIMESTAMP|HOSTNAME|APP-NAME|PROCID|MSGID|SD|MSG */
struct line {
	int pri;
	char ts[64], host[64], app[64], procid[16], msgid[16], sd[16];
	json_t *msg;
};

static int
parse_line(char *s, struct line *l)
{
	char *f[8], *save = NULL;
	int i;

	memset(l, 0, sizeof(*l));
	s[strcspn(s, "\n")] = '\0';
	for (i = 0; i < 7; i++)
		if (!(f[i] = strtok_r(i ? NULL : s, "|", &save)))
			return -1;
	f[7] = save;
	l->pri = atoi(f[0]);
	snprintf(l->ts, sizeof(l->ts), "%s", f[1]);
	snprintf(l->host, sizeof(l->host), "%s", f[2]);
	snprintf(l->app, sizeof(l->app), "%s", f[3]);
	snprintf(l->procid, sizeof(l->procid), "%s", f[4]);
	snprintf(l->msgid, sizeof(l->msgid), "%s", f[5]);
	snprintf(l->sd, sizeof(l->sd), "%s", f[6]);
	while (f[7] && *f[7] == ' ')
		f[7]++;
	l->msg = f[7] ? json_loads(f[7], 0, NULL) : NULL;
	return l->msg ? 0 : -1;
}

/* Whether the event says its call failed: its return code when known,
 * else its result (a refused connect's result may still be "unknown"
 * when the event leaves, under the cgroup backend). */
static int
failed(json_t *m)
{
	json_t *rc = json_object_get(m, "return_code");
	const char *r = json_string_value(json_object_get(m, "result"));

	if (json_is_integer(rc))
		return json_integer_value(rc) < 0;
	return r && (!strcmp(r, "refused") || !strcmp(r, "timeout") ||
	    !strcmp(r, "reset") || !strcmp(r, "error"));
}

/*
 * rsyslog receives each event over TCP (octet counting), over UDP and on
 * a local unix socket (as busybox syslogd would on /dev/log) and writes
 * its fields; every field read back is what was sent.
 */
#define SINKS 3
static const char *const sys_hosts[SINKS] = { "sys-tcp", "sys-udp",
	"sys-unix" };

static void
test_syslog(void **state)
{
	char conf[4096], cpath[600], pidf[600], out[600], addr[SINKS][600],
	    filter[64], buf[4096];
	const char *rargv[] = { "rsyslogd", "-n", "-f", cpath, "-i", pidf, NULL };
	struct server s[SINKS];
	int tport = it_free_port(), uport = it_free_port(), i, k, n[SINKS];
	int hold, refused = closed_port(&hold), status, all;
	unsigned char seen[SINKS][PROBES];
	double t0;
	pid_t rs, probe;
	FILE *f;

	(void)state;
	snprintf(out, sizeof(out), "%s/syslog.out", fl_dir);
	snprintf(cpath, sizeof(cpath), "%s/rsyslog.conf", fl_dir);
	snprintf(pidf, sizeof(pidf), "%s/rsyslog.pid", fl_dir);
	snprintf(conf, sizeof(conf),
	    "global(workDirectory=\"%s\")\n"
	    "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" "
	    "port=\"%d\")\n"
	    "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" "
	    "port=\"%d\")\n"
	    "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
	    "input(type=\"imuxsock\" Socket=\"%s/log.sock\" "
	    "UseSpecialParser=\"off\" ParseHostname=\"on\" "
	    "IgnoreTimestamp=\"off\")\n"
	    "template(name=\"fields\" type=\"string\" string=\"%%PRI%%|"
	    "%%TIMESTAMP:::date-rfc3339%%|%%HOSTNAME%%|%%APP-NAME%%|%%PROCID%%|"
	    "%%MSGID%%|%%STRUCTURED-DATA%%|%%msg%%\\n\")\n"
	    "action(type=\"omfile\" file=\"%s\" template=\"fields\")\n",
	    fl_dir, tport, uport, fl_dir, out);
	assert_int_equal(fl_write_file("rsyslog.conf", conf), 0);
	rs = fl_spawn("rsyslogd", rargv);
	/* Ready when it listens on TCP. */
	for (t0 = it_now(); it_now() - t0 < 20; usleep(100000)) {
		int fd = it_dial(tport);

		if (fd >= 0) {
			close(fd);
			break;
		}
	}
	snprintf(addr[0], sizeof(addr[0]), "tcp://127.0.0.1:%d", tport);
	snprintf(addr[1], sizeof(addr[1]), "udp://127.0.0.1:%d", uport);
	snprintf(addr[2], sizeof(addr[2]), "unix:%s/log.sock", fl_dir);
	snprintf(filter, sizeof(filter), "command=%s", PROBE);
	for (k = 0; k < SINKS; k++) {
		const char *a[] = { "-host", sys_hosts[k], "-syslog", addr[k],
			"-export-filter", filter, NULL };

		start(&s[k], a);
	}
	probe = fl_connects(PROBE, PROBES, refused, 0);
	waitpid(probe, &status, 0);
	close(hold);
	for (t0 = it_now(), all = 0; it_now() - t0 < 20 && !all;
	    usleep(250000)) {
		memset(n, 0, sizeof(n));
		memset(seen, 0, sizeof(seen));
		if (!(f = fopen(out, "r")))
			continue;
		while (fgets(buf, sizeof(buf), f)) {
			struct line l;
			char ip[64];
			json_t *m;
			int hi, lo;

			if (parse_line(buf, &l) < 0)
				continue;
			m = l.msg;
			if (json_integer_value(json_object_get(m, "pid")) != probe) {
				json_decref(m);
				continue;
			}
			for (k = 0; k < SINKS && strcmp(l.host, sys_hosts[k]); k++)
				;
			if (k == SINKS)
				fail_msg("HOSTNAME %s", l.host);
			/* Every field: daemon.notice for a failed call, the
			 * event's time to the microsecond, the host, our name,
			 * the server's pid, the call, no structured data, and
			 * the event as JSON with the host in it. */
			assert_int_equal(l.pri, 3 * 8 + (failed(m) ? 5 : 6));
			assert_memory_equal(l.ts, json_string_value(json_object_get(m,
			    "timestamp")), 26);
			assert_true(strcmp(l.ts + 26, "Z") == 0 ||
			    strcmp(l.ts + 26, "+00:00") == 0);
			assert_string_equal(l.app, "ebpf-server");
			assert_int_equal(atoi(l.procid), s[k].pid);
			assert_string_equal(l.msgid, "connect");
			assert_string_equal(l.sd, "-");
			assert_string_equal(json_string_value(json_object_get(m,
			    "host")), l.host);
			assert_string_equal(json_string_value(json_object_get(m,
			    "command")), PROBE);
			assert_int_equal(json_integer_value(json_object_get(m,
			    "destination_port")), refused);
			/* Each of the probe's addresses once. */
			snprintf(ip, sizeof(ip), "%s", json_string_value(
			    json_object_get(m, "destination_ip")) ?: "");
			assert_int_equal(sscanf(ip, "127.1.%d.%d", &hi, &lo), 2);
			assert_true(hi * 256 + lo < PROBES);
			assert_false(seen[k][hi * 256 + lo]);
			seen[k][hi * 256 + lo] = 1;
			assert_string_equal(json_string_value(json_object_get(m,
			    "syscall")), "connect");
			n[k]++;
			json_decref(m);
		}
		fclose(f);
		for (k = 0, all = 1; k < SINKS; k++)
			all &= n[k] == PROBES;
	}
	if (!all) {
		fl_show_log("rsyslogd");
		fail_msg("rsyslog wrote %d lines over TCP, %d over UDP and %d from "
		    "its unix socket, want %d each", n[0], n[1], n[2], PROBES);
	}
	for (i = 0; i < SINKS; i++) {
		assert_int_equal(dropped(&s[i], "syslog", NULL, 0), 0);
		assert_int_equal(it_stop(&s[i], NULL), 0);
	}
	fl_stop(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_hosts),
		cmocka_unit_test(test_outage),
		cmocka_unit_test(test_pushgateway),
		cmocka_unit_test(test_syslog),
	};

	/* ITEST_ONLY=test_syslog runs that one alone. */
	if (getenv("ITEST_ONLY"))
		cmocka_set_test_filter(getenv("ITEST_ONLY"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
