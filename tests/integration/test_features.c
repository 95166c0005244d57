/*
 * Issue 5 on the real kernel: datagrams folded per destination and second,
 * the cgroup path, every filter on list-connections and
 * connection-summary, and /api/top.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>

#include "tests/integration/itest.h"

/* Unique per run: the server sees the whole host, where another copy of
 * this test may be running. */
static char COMM[16];
#define NDGRAM 50

static struct server srv;
static pid_t child;
static int udp_port, refused_port;
static char start_time[64];     /* RFC 3339, before the child ran */
/* What sendto() shows as: the socket hooks (cgroup backend) see a
 * datagram's destination but not which call sent it. */
/* How a sendto() shows: the cgroup hooks cannot tell it from sendmsg()
 * and say so; the filters still find it as sendto. */
static const char *SENDTO = "sendto";
static int sendto_exact = 1;

/* NDGRAM sendto to one UDP destination, one sendmsg to [::1], one refused
 * TCP connect. */
static void
traffic(void)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int u4, u6, t, i;

	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a4.sin_port = htons(udp_port);
	u4 = socket(AF_INET, SOCK_DGRAM, 0);
	for (i = 0; i < NDGRAM; i++)
		sendto(u4, "x", 1, 0, (void *)&a4, sizeof(a4));
	a6.sin6_addr = in6addr_loopback;
	a6.sin6_port = htons(udp_port);
	u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	mh.msg_name = &a6;
	mh.msg_namelen = sizeof(a6);
	sendmsg(u6, &mh, 0);
	a4.sin_port = htons(refused_port);
	t = socket(AF_INET, SOCK_STREAM, 0);
	connect(t, (void *)&a4, sizeof(a4));
}

static int
setup(void **state)
{
	struct timespec ts;
	struct tm tm;
	int status, fd;

	(void)state;
	snprintf(COMM, sizeof(COMM), "itf-%d", (int)getpid() % 10000000);
	if (it_start(&srv, NULL) < 0)
		return -1;
	if (!it_knows(&srv, "syscall")) {
		SENDTO = "sendto|sendmsg";
		sendto_exact = 0;
	}
	udp_port = it_free_port();
	refused_port = it_free_port();
	/* Keep the UDP port bound so nothing else takes it meanwhile. */
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
		    .sin_port = htons(udp_port) };

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		bind(fd, (void *)&a, sizeof(a));
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec -= 1;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(start_time, sizeof(start_time), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((child = fork()) == 0) {
		prctl(PR_SET_NAME, COMM);
		traffic();
		_exit(0);
	}
	waitpid(child, &status, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

/* The child's events under query (a query string without '?'), waiting up
 * to 2 s for at least want of them. */
static json_t *
events(struct reply *r, const char *query, size_t want)
{
	char path[512], key[32];
	double t0 = it_now();
	json_t *arr;

	snprintf(path, sizeof(path), "/api/list-connections?pid=%d&limit=1000%s%s",
	    (int)child, *query ? "&" : "", query);
	snprintf(key, sizeof(key), "%d", (int)child);
	for (;;) {
		if (it_http(srv.port, "GET", path, NULL, r) == 0) {
			if (r->status != 200)
				fail_msg("%s: %d %s", path, r->status, r->body);
			arr = json_object_get(json_object_get(r->json, "connections"), key);
			if (json_array_size(arr) >= want || it_now() - t0 > 2)
				return arr;
		} else if (it_now() - t0 > 2) {
			fail_msg("%s: no answer (server log: %s)", path, srv.log);
		}
		it_reply_free(r);
		usleep(50000);
	}
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "(none)";
}

static json_int_t
num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* 50 datagrams to one destination: one record (two if a second boundary
 * fell inside the burst) whose counts add up to 50. */
static void
test_datagrams_folded(void **state)
{
	struct reply r;
	char q[64];
	json_t *arr, *e;
	json_int_t sum = 0;
	size_t i;
	double t0;

	(void)state;
	snprintf(q, sizeof(q), "syscall=sendto&port=%d&family=AF_INET",
	    udp_port);
	/* With per-CPU batches (the default) the kernel hands events over
	 * 16 at a time or at the reader's next flush: wait for the whole
	 * burst, up to 2 s. */
	for (t0 = it_now();; it_reply_free(&r), usleep(50000)) {
		arr = events(&r, q, 1);
		assert_true(json_array_size(arr) >= 1 && json_array_size(arr) <= 2);
		sum = 0;
		json_array_foreach(arr, i, e) {
			assert_string_equal(str(e, "syscall"), SENDTO);
			assert_string_equal(str(e, "protocol"), "UDP");
			sum += num(e, "count");
		}
		if (sum >= NDGRAM || it_now() - t0 > 2)
			break;
	}
	if (sum != NDGRAM)
		fail_msg("want %d datagrams, got %lld: %s", NDGRAM, (long long)sum,
		    r.body);
	it_reply_free(&r);
}

/* Every event carries ppid, uid, gid, cgroup_id and our own cgroup path. */
static void
test_identity_and_cgroup(void **state)
{
	char line[4096] = "", *p = NULL;
	struct reply r;
	json_t *arr, *e;
	FILE *f;
	size_t i;

	(void)state;
	if ((f = fopen("/proc/self/cgroup", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "0::", 3) == 0) {
				line[strcspn(line, "\n")] = '\0';
				p = line + 3;
				break;
			}
		fclose(f);
	}
	arr = events(&r, "", 3);
	assert_true(json_array_size(arr) >= 3);
	json_array_foreach(arr, i, e) {
		assert_int_equal(num(e, "ppid"), getpid());
		assert_int_equal(num(e, "uid"), getuid());
		assert_int_equal(num(e, "gid"), getgid());
		assert_true(num(e, "cgroup_id") > 0);
		assert_true(json_is_string(json_object_get(e, "cgroup")));
		if (p)
			assert_string_equal(str(e, "cgroup"), p);
	}
	it_reply_free(&r);
}

/* Each filter selects exactly what it should among the child's events:
 * the sendto record(s), the sendmsg to [::1] and the refused connect. */
static void
test_filters(void **state)
{
	struct reply r;
	char q[160];
	json_t *arr;
	size_t nsendto;

	(void)state;
	arr = events(&r, "", 3);
	nsendto = json_array_size(arr) - 2;
	it_reply_free(&r);
#define EXPECT(query, n) do { \
	arr = events(&r, query, n); \
	if (json_array_size(arr) != (n)) \
		fail_msg("%s: want %zu events, got %zu: %s", query, (size_t)(n), \
		    json_array_size(arr), r.body); \
	it_reply_free(&r); \
} while (0)
	EXPECT("syscall=sendmsg", sendto_exact ? 1 : nsendto + 1);
	EXPECT("syscall=connect", 1);
	EXPECT("protocol=udp", nsendto + 1);
	EXPECT("protocol=TCP", 1);
	EXPECT("protocol=unix", 0);
	EXPECT("family=AF_INET6", 1);
	EXPECT("family=inet", nsendto + 1);
	EXPECT("family=2", nsendto + 1);
	EXPECT("family=10", 1);
	EXPECT("failed=true", 1);
	EXPECT("failed=false", nsendto + 1);
	EXPECT("ip=127.0.0.1", nsendto + 1);
	EXPECT("ip=127.0.0.0/8", nsendto + 1);
	EXPECT("ip=10.0.0.0/8", 0);
	EXPECT("ip=::1", 1);
	EXPECT("ip=::/0", 1);
	snprintf(q, sizeof(q), "port=%d", refused_port);
	EXPECT(q, 1);
	snprintf(q, sizeof(q), "since=%s", start_time);
	EXPECT(q, nsendto + 2);
	EXPECT("since=3600", nsendto + 2);
	EXPECT("since=2099-01-01T00:00:00Z", 0);
	snprintf(q, sizeof(q), "command=%s&protocol=udp&family=AF_INET6&"
	    "port=%d&failed=0&syscall=sendmsg&ip=::1&since=60", COMM, udp_port);
	EXPECT(q, 1);
#undef EXPECT

	/* POST bodies take the same filters. */
	snprintf(q, sizeof(q), "{\"pid\":%d,\"syscall\":\"sendmsg\",\"port\":%d}",
	    (int)child, udp_port);
	assert_int_equal(it_http(srv.port, "POST", "/api/list-connections", q, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(num(r.json, "total_pids"), 1);
	it_reply_free(&r);
}

static void
test_summary_filters(void **state)
{
	struct reply r;
	char b[200];

	(void)state;
	/* The syscall filter asks for datagrams: they are what is counted. */
	snprintf(b, sizeof(b), "{\"command\":\"%s\",\"duration\":60,"
	    "\"syscall\":\"sendto\"}", COMM);
	assert_int_equal(it_http(srv.port, "POST", "/api/connection-summary", b, &r), 0);
	assert_int_equal(r.status, 200);
	/* Under the socket hooks the sendmsg to [::1] counts too. */
	assert_int_equal(num(r.json, "total_attempts"), NDGRAM + !sendto_exact);
	assert_int_equal(num(r.json, "datagrams"), NDGRAM + !sendto_exact);
	assert_true(json_is_true(json_object_get(r.json, "exact")));
	it_reply_free(&r);
	/* Without filters the per-second counters answer: 1 connect, and
	 * the 51 datagrams apart. */
	snprintf(b, sizeof(b), "{\"pid\":%d,\"duration\":60}", (int)child);
	assert_int_equal(it_http(srv.port, "POST", "/api/connection-summary", b, &r), 0);
	assert_int_equal(num(r.json, "total_attempts"), 1);
	assert_int_equal(num(r.json, "datagrams"), NDGRAM + 1);
	assert_non_null(strstr(str(r.json, "message"), "Found 1 connection attempt "
	    "from PID"));
	it_reply_free(&r);
	snprintf(b, sizeof(b), "{\"pid\":%d,\"duration\":60,\"failed\":true,"
	    "\"protocol\":\"tcp\"}", (int)child);
	assert_int_equal(it_http(srv.port, "POST", "/api/connection-summary", b, &r), 0);
	assert_int_equal(num(r.json, "total_attempts"), 1);
	assert_int_equal(num(r.json, "datagrams"), 0);
	it_reply_free(&r);
	/* Neither pid nor command: every process, here at least ours.  UDP
	 * to the port is datagrams only, no connect. */
	snprintf(b, sizeof(b), "{\"duration\":60,\"port\":%d,\"protocol\":\"udp\"}",
	    udp_port);
	assert_int_equal(it_http(srv.port, "POST", "/api/connection-summary", b, &r), 0);
	assert_int_equal(num(r.json, "total_attempts"), 0);
	assert_int_equal(num(r.json, "datagrams"), NDGRAM + 1);
	it_reply_free(&r);
	snprintf(b, sizeof(b), "{\"duration\":60,\"port\":%d,\"syscall\":\"sendmsg\"}",
	    udp_port);
	assert_int_equal(it_http(srv.port, "POST", "/api/connection-summary", b, &r), 0);
	/* The socket hooks record the sendto()s as sendmsg too. */
	assert_int_equal(num(r.json, "total_attempts"), sendto_exact ? 1 : NDGRAM + 1);
	assert_int_equal(num(r.json, "datagrams"), sendto_exact ? 1 : NDGRAM + 1);
	it_reply_free(&r);
}

static void
test_top(void **state)
{
	struct reply r;
	char q[200], dst[64];
	json_t *top, *row;

	(void)state;
	snprintf(q, sizeof(q), "/api/top?by=port&duration=60&limit=3&command=%s",
	    COMM);
	assert_int_equal(it_http(srv.port, "GET", q, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	top = json_object_get(r.json, "top");
	assert_int_equal(json_array_size(top), 2);
	row = json_array_get(top, 0);
	assert_int_equal(num(row, "port"), udp_port);
	assert_int_equal(num(row, "count"), NDGRAM + 1);
	assert_int_equal(num(json_array_get(top, 1), "port"), refused_port);
	assert_string_equal(str(r.json, "by"), "port");
	it_reply_free(&r);

	snprintf(q, sizeof(q), "/api/top?by=destination&limit=1&command=%s", COMM);
	assert_int_equal(it_http(srv.port, "GET", q, NULL, &r), 0);
	top = json_object_get(r.json, "top");
	assert_int_equal(json_array_size(top), 1);
	snprintf(dst, sizeof(dst), "127.0.0.1:%d", udp_port);
	assert_string_equal(str(json_array_get(top, 0), "destination"), dst);
	assert_int_equal(num(json_array_get(top, 0), "count"), NDGRAM);
	/* The same number for the family as in events. */
	assert_int_equal(num(json_array_get(top, 0), "address_family"), 2);
	assert_int_equal(num(r.json, "keys"), 3);
	it_reply_free(&r);

	/* by=command over everything: ours is there with all 52. */
	assert_int_equal(it_http(srv.port, "GET", "/api/top?by=command&limit=1000"
	    "&pretty=1", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\n  \"by\": \"command\""));
	{
		size_t i;
		int found = 0;

		json_array_foreach(json_object_get(r.json, "top"), i, row)
			if (strcmp(str(row, "command"), COMM) == 0) {
				assert_int_equal(num(row, "count"), NDGRAM + 2);
				found = 1;
			}
		assert_true(found);
	}
	it_reply_free(&r);
}

/* Invalid filters are 400 with a message that names the problem. */
static void
test_bad_filters(void **state)
{
	static const struct {
		const char *method, *path, *body, *says;
	} bad[] = {
		{ "GET", "/api/list-connections?port=http", NULL, "port must be" },
		{ "GET", "/api/list-connections?ip=1.2.3", NULL, "ip must be" },
		{ "GET", "/api/list-connections?ip=10.0.0.1/8", NULL, "after the prefix" },
		{ "GET", "/api/list-connections?protocol=quic", NULL, "protocol must be" },
		{ "GET", "/api/list-connections?family=6", NULL, "family must be" },
		{ "GET", "/api/list-connections?failed=maybe", NULL, "failed must be" },
		{ "GET", "/api/list-connections?since=yesterday", NULL, "since must be" },
		{ "GET", "/api/list-connections?syscall=write", NULL, "syscall must be" },
		{ "POST", "/api/connection-summary", "{\"duration\":60,\"port\":\"x\"}",
		    "port must be" },
		{ "POST", "/api/list-connections", "{\"failed\":\"x\"}", "failed must be" },
		{ "GET", "/api/top", NULL, "missing query parameter \"by\"" },
		{ "GET", "/api/top?by=uid", NULL, "by must be" },
		{ "GET", "/api/top?by=port&duration=0", NULL, "duration must be" },
		{ "GET", "/api/top?by=port&limit=0", NULL, "limit must be" },
		{ "GET", "/api/stream?pretty=1", NULL, "pretty is not available" },
		{ "GET", "/api/stream?port=-1", NULL, "port must be" },
	};
	struct reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(it_http(srv.port, bad[i].method, bad[i].path,
		    bad[i].body, &r), 0);
		if (r.status != 400 || !strstr(str(r.json, "message"), bad[i].says) ||
		    strcmp(str(r.json, "error"), "Bad Request") != 0)
			fail_msg("%s %s: %d %s (want 400 saying \"%s\")", bad[i].method,
			    bad[i].path, r.status, r.body, bad[i].says);
		it_reply_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datagrams_folded),
		cmocka_unit_test(test_identity_and_cgroup),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_summary_filters),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_bad_filters),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
