/*
 * The exact bytes of every endpoint's replies for a fixed store, held to
 * a recorded fixture (tests/unit/replies.txt), so that reworking the HTTP
 * path cannot change what a client receives.  civetweb runs in this
 * process on a loopback port with our handlers and a store filled with
 * fixed events from the year 2001: nothing depends on the kernel, and
 * windows relative to now are empty, so the bytes are the same on every
 * run.  Only the Date header and /metrics' process_* lines vary: they are
 * left out.  A chunked reply is compared by its decoded body, with its
 * framing headers left out; a large body by its start, length and hash.
 *
 * FIXTURE_RECORD=1 writes the fixture instead of comparing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poll.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "httpd/api.h"
#include "httpd/http.h"
#include "httpd/metrics.h"
#include "httpd/stream.h"
#include "util/event.h"
#include "util/store.h"
#include "util/timefmt.h"

#define FIXTURE "tests/unit/replies.txt"
#define T0 978307200ULL /* 2001-01-01T00:00:00Z */

static struct store *store;
static struct metrics *metrics;
static struct hub *hub;
static struct http *server;
static struct api_state st;
static int port;

static struct event
ev_at(uint32_t pid, const char *comm, unsigned sec, uint32_t tid)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts = (T0 + sec) * 1000000000ULL + 123456789;
	ev.cgroup_id = 4242;
	ev.pid = pid;
	ev.tid = tid;
	ev.ppid = 1;
	ev.uid = 1000;
	ev.gid = 100;
	ev.count = 1;
	ev.family = AF_INET;
	ev.port = 443;
	ev.sock_type = SOCK_STREAM;
	ev.protocol = IPPROTO_TCP;
	ev.syscall = EV_CONNECT;
	strncpy(ev.comm, comm, sizeof(ev.comm) - 1);
	ev.ip[0] = 93, ev.ip[1] = 184, ev.ip[2] = 216, ev.ip[3] = 34;
	return ev;
}

/* A unix socket event of a process with a name that is not UTF-8. */
static struct event
unix_at(unsigned sec, uint32_t tid, uint16_t type, const char *path)
{
	struct event ev = ev_at(400, "bad\xff\xfe", sec, tid);

	ev.family = AF_UNIX;
	memset(ev.ip, 0, sizeof(ev.ip));
	ev.port = 0;
	ev.protocol = 0;
	ev.sock_type = type;
	strcpy(ev.path, path);
	return ev;
}

/* Every kind of event the API shows, and 2 000 more of two pids for a
 * list larger than one buffer. */
static void
fill(void)
{
	static struct event ev[2100];
	size_t n = 0, i;

	ev[n++] = ev_at(100, "curl", 1, 100);
	ev[n] = ev_at(100, "curl", 2, 101);
	ev[n].ret = -111;
	n++;
	ev[n] = ev_at(200, "dig", 3, 200);
	ev[n].sock_type = SOCK_DGRAM;
	ev[n].protocol = IPPROTO_UDP;
	ev[n].port = 53;
	ev[n].syscall = EV_SENDTO;
	ev[n].count = 7;
	n++;
	ev[n] = ev_at(300, "ssh \"quoted\"", 4, 300);
	ev[n].family = AF_INET6;
	memset(ev[n].ip, 0, 16);
	ev[n].ip[0] = 0x20, ev[n].ip[1] = 0x01, ev[n].ip[2] = 0x0d;
	ev[n].ip[3] = 0xb8, ev[n].ip[15] = 1;
	ev[n].port = 22;
	n++;
	ev[n++] = unix_at(5, 400, SOCK_STREAM, "/run/dbus/system_bus_socket");
	ev[n++] = unix_at(6, 401, SOCK_SEQPACKET, "@abstract\n");
	for (i = 0; i < 2000; i++)
		ev[n++] = ev_at(i % 2 ? 501 : 500, "burst", 10 + (unsigned)i / 100,
		    (uint32_t)(1000 + i));
	store_add(store, ev, n);
	metrics_events(metrics, ev, n);
}

static int
setup(void **state)
{
	struct http_conf hc;
	char err[256], addr[64];
	int tries;

	(void)state;
	assert_non_null(store = store_new(4096));
	assert_non_null(metrics = metrics_new());
	assert_non_null(hub = hub_new(2, 0));
	fill();
	st.store = store;
	st.start_ns = time_mono_ns();
	st.backend = "tracepoint-exit";
	/* /health lists these; a string with a quote is escaped. */
	st.exact_fields[0] = "socket_type";
	st.exact_fields[1] = "ppid";
	st.not_seen[0] = "datagrams sent with \"sendmmsg\"";
	st.batches = 1;
	st.refused_name[0] = "fexit";
	st.refused_why[0] = "backend fexit needs \"BTF\"";
	st.metrics = metrics;
	st.hub = hub;
	for (tries = 0; tries < 20 && !server; tries++) {
		port = 20000 + (int)(((unsigned)getpid() * 7 + (unsigned)tries * 131) % 40000);
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		memset(&hc, 0, sizeof(hc));
		hc.addr = addr;
		hc.threads = 4;
		server = http_start(&hc, &st, err, sizeof(err));
	}
	assert_non_null(server);
	http_ready(server);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	http_stop(server);
	hub_free(hub);
	metrics_free(metrics);
	store_free(store);
	return 0;
}

/* Send req, read until the server closes.  Returns malloc'd bytes. */
static char *
exchange(const char *req, size_t *len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_non_null(buf);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (void *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 10000) <= 0)
			break;
		if (n == cap)
			assert_non_null(buf = realloc(buf, (cap *= 2) + 1));
		if ((r = read(fd, buf + n, cap - n)) <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Bodies larger than this are held as their first BIG bytes, their
 * length and a hash, to keep the fixture small. */
#define BIG 2048

static uint64_t
fnv64(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* Append s (n bytes) to a growing text. */
static void
cat(char **t, size_t *tl, const char *s, size_t n)
{
	assert_non_null(*t = realloc(*t, *tl + n + 1));
	memcpy(*t + *tl, s, n);
	*tl += n;
	(*t)[*tl] = '\0';
}

/*
 * The reply as the fixture holds it: the head without Date (and, when
 * chunked, without Content-Length or Transfer-Encoding), the body decoded,
 * /metrics without its process_* lines.
 */
static void normalise_body(const char *raw, size_t len, char **t, size_t *tl);

/* The normalised reply, with a large body abbreviated (see BIG). */
static void
normalise(const char *raw, size_t len, char **t, size_t *tl)
{
	char *body = NULL, line[96];
	size_t bl = 0, hl;

	normalise_body(raw, len, &body, &bl);
	hl = (size_t)(strstr(body, "\r\n\r\n") + 4 - body);
	if (bl - hl <= 4 * BIG) {
		cat(t, tl, body, bl);
	} else {
		cat(t, tl, body, hl + BIG);
		snprintf(line, sizeof(line), "\n... %zu bytes in all, fnv1a64 %016llx\n",
		    bl - hl, (unsigned long long)fnv64(body + hl, bl - hl));
		cat(t, tl, line, strlen(line));
	}
	free(body);
}

static void
normalise_body(const char *raw, size_t len, char **t, size_t *tl)
{
	const char *hend = strstr(raw, "\r\n\r\n"), *p, *e, *body;
	int chunked = 0;
	size_t n;

	assert_non_null(hend);
	chunked = strstr(raw, "Transfer-Encoding: chunked") != NULL &&
	    strstr(raw, "Transfer-Encoding: chunked") < hend;
	for (p = raw; p < hend + 2; p = e + 2) {
		e = strstr(p, "\r\n");
		if (strncmp(p, "Date: ", 6) == 0)
			continue;
		if (strncmp(p, "Content-Length: ", 16) == 0 && (len > 20000 ||
		    strstr(raw, "text/plain; version=0.0.4")))
			continue; /* large: chunked, or not; or the metrics */
		if (strncmp(p, "Transfer-Encoding: ", 19) == 0)
			continue;
		cat(t, tl, p, (size_t)(e - p) + 2);
	}
	cat(t, tl, "\r\n", 2);
	body = hend + 4;
	if (!chunked) {
		if (strstr(raw, "text/plain; version=0.0.4")) {
			/* /metrics: the process figures move. */
			for (p = body; p < raw + len; p = e + 1) {
				if (!(e = memchr(p, '\n', (size_t)(raw + len - p))))
					e = raw + len - 1;
				if (strncmp(p, "process_", 8) == 0 ||
				    strncmp(p, "# HELP process_", 15) == 0 ||
				    strncmp(p, "# TYPE process_", 15) == 0)
					continue;
				cat(t, tl, p, (size_t)(e - p) + 1);
			}
			return;
		}
		cat(t, tl, body, (size_t)(raw + len - body));
		return;
	}
	for (p = body; p < raw + len; p = e + 2 + n + 2) {
		n = strtoul(p, NULL, 16);
		e = strstr(p, "\r\n");
		assert_non_null(e);
		if (n == 0)
			break;
		cat(t, tl, e + 2, n);
	}
}

static const struct {
	const char *name, *req;
} cases[] = {
	{ "root", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "root pretty", "GET /?pretty=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "health", "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "health pretty", "GET /health?pretty=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "health 1.0", "GET /health HTTP/1.0\r\n\r\n" },
	{ "health head", "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list pid", "GET /api/list-connections?pid=100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list pid pretty", "GET /api/list-connections?pid=400&pretty=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list limit 1", "GET /api/list-connections?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list limit 1 pretty", "GET /api/list-connections?limit=1&pretty=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list command", "GET /api/list-connections?command=dig HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list filters", "GET /api/list-connections?protocol=udp&port=53&failed=false HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list family", "GET /api/list-connections?family=AF_INET6&limit=5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list ip", "GET /api/list-connections?ip=93.184.0.0/16&limit=2&syscall=connect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list since", "GET /api/list-connections?since=2001-01-01T00:00:05Z HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list none", "GET /api/list-connections?pid=999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list large", "GET /api/list-connections?limit=1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list large pretty", "GET /api/list-connections?limit=1000&pretty=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "list large 1.0", "GET /api/list-connections?limit=1000 HTTP/1.0\r\n\r\n" },
	{ "list post", "POST /api/list-connections HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 28\r\n\r\n{\"command\":\"curl\",\"limit\":1}" },
	{ "summary pid", "POST /api/connection-summary HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 27\r\n\r\n{\"pid\":100,\"duration\":3600}" },
	{ "summary command", "POST /api/connection-summary?pretty=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 32\r\n\r\n{\"command\":\"curl\",\"duration\":60}" },
	{ "top", "GET /api/top?by=destination&duration=3600 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "404", "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "405", "POST /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n" },
	{ "400 query", "GET /api/list-connections?limit=1500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "400 body", "POST /api/connection-summary HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 14\r\n\r\n{\"duration\":0}" },
	{ "400 bad request", "GARBAGE\r\n\r\n" },
	{ "keep-alive", "GET /api/list-connections?pid=200 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/list-connections?pid=200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
	{ "metrics", "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" },
};

static void
test_reply_bytes(void **state)
{
	char *text = NULL, *raw, *want;
	size_t tl = 0, len, i, wl;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cat(&text, &tl, "=== ", 4);
		cat(&text, &tl, cases[i].name, strlen(cases[i].name));
		cat(&text, &tl, "\n", 1);
		raw = exchange(cases[i].req, &len);
		if (!strstr(raw, "\r\n\r\n"))
			fail_msg("%s: no reply: \"%.80s\"", cases[i].name, raw);
		if (strcmp(cases[i].name, "keep-alive") == 0) {
			/* Two replies on one connection: both whole. */
			char *second = strstr(raw + 1, "HTTP/1.1 ");

			assert_non_null(second);
			normalise(raw, (size_t)(second - raw), &text, &tl);
			normalise(second, len - (size_t)(second - raw), &text, &tl);
		} else {
			normalise(raw, len, &text, &tl);
		}
		cat(&text, &tl, "\n", 1);
		free(raw);
	}
	if (getenv("FIXTURE_RECORD")) {
		assert_non_null(f = fopen(FIXTURE, "w"));
		assert_int_equal(fwrite(text, 1, tl, f), tl);
		fclose(f);
		free(text);
		return;
	}
	assert_non_null(f = fopen(FIXTURE, "r"));
	assert_non_null(want = malloc(tl + 65536));
	wl = fread(want, 1, tl + 65536, f);
	fclose(f);
	if (wl != tl || memcmp(want, text, tl) != 0) {
		for (i = 0; i < wl && i < tl && want[i] == text[i]; i++)
			;
		f = fopen("build/replies.got", "w");
		if (f) {
			fwrite(text, 1, tl, f);
			fclose(f);
		}
		fail_msg("replies differ from %s at byte %zu (of %zu/%zu): got "
		    "\"%.60s\", want \"%.60s\"; all of it in build/replies.got",
		    FIXTURE, i, tl, wl, text + i, i < wl ? want + i : "");
	}
	free(want);
	free(text);
}

/* A keep-alive connection to the server. */
static int
dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (void *)&a, sizeof(a)), 0);
	return fd;
}

/* GET path on fd and read one whole reply (head and Content-Length
 * body) into buf, NUL-terminated. */
static void
get_on(int fd, const char *path, char *buf, size_t size)
{
	char req[256];
	const char *end, *cl;
	size_t n = 0, want = 0;
	ssize_t r;
	int len;

	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
	    path);
	assert_int_equal(write(fd, req, (size_t)len), len);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		buf[n] = '\0';
		if (!want && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			assert_non_null(cl = strstr(buf, "Content-Length: "));
			want = (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10);
			assert_true(want < size);
		}
		if (want && n >= want)
			break;
		assert_true(poll(&p, 1, 10000) > 0);
		assert_true((r = read(fd, buf + n, size - 1 - n)) > 0);
		n += (size_t)r;
	}
}

/* The "events_seen" of a /health reply, or -1. */
static long long
seen_in(const char *buf)
{
	const char *p = strstr(buf, "\"events_seen\":");

	return p ? strtoll(p + 14, NULL, 10) : -1;
}

/*
 * Workers answer /health and a GET list again from their last reply's
 * bytes (meta.c, out.c).  On one keep-alive connection, so one worker, a
 * new event must show in the very next reply.  Runs after
 * test_reply_bytes, whose fixture the event would change.
 */
static void
test_cache_not_stale(void **state)
{
	static const char list[] = "/api/list-connections?pid=600";
	struct event ev = ev_at(600, "late", 100, 600);
	char buf[4096];
	long long seen;
	int h, l, i;

	(void)state;
	h = dial();
	l = dial();
	get_on(h, "/health", buf, sizeof(buf));
	assert_true((seen = seen_in(buf)) > 0);
	/* Again, from the caches. */
	for (i = 0; i < 2; i++) {
		get_on(h, "/health", buf, sizeof(buf));
		assert_int_equal(seen_in(buf), seen);
		get_on(l, list, buf, sizeof(buf));
		assert_non_null(strstr(buf, "{\"total_pids\":0,"));
	}
	store_add(store, &ev, 1);
	get_on(h, "/health", buf, sizeof(buf));
	assert_int_equal(seen_in(buf), seen + 1);
	get_on(l, list, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"total_pids\":1,"));
	close(h);
	close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_bytes),
		cmocka_unit_test(test_cache_not_stale),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
