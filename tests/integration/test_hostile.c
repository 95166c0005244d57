/*
 * Hostile clients against the real server over raw sockets: garbage bytes,
 * requests cut off mid-header, a byte a second (slowloris) in the headers
 * and in the body, oversized and deeply nested bodies, bytes that are not
 * UTF-8, path traversal, every method, and the bearer token.  After each,
 * the server must still answer /health: it never crashes and never runs
 * out of workers.  test_api.c has the ordinary input errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/stat.h>

#include "tests/integration/itest.h"

#define TIMEOUT_MS 1000   /* -timeout of the server under test */
#define THREADS 2         /* -threads: few, so that a stuck worker shows */
#define MAX_BODY 4096     /* -max-body-size */
#define MAX_HEADER 2048   /* -max-header-size */
#define TOKEN "it-Zm9vYmFy.token~1"
#define BAD_COMM "bad\xff\xfe\xc3("   /* a command name that is not UTF-8 */

static struct server srv;      /* -timeout, -threads, limits */
static struct server tsrv;     /* -token-file */
static char tokpath[64];

static int
group_setup(void **state)
{
	char timeout[16], threads[16], body[16], header[16];
	const char *args[] = { "-timeout", timeout, "-threads", threads,
	    "-max-body-size", body, "-max-header-size", header, NULL };
	const char *targs[] = { "-token-file", tokpath, NULL };
	int fd;

	(void)state;
	snprintf(timeout, sizeof(timeout), "%d", TIMEOUT_MS);
	snprintf(threads, sizeof(threads), "%d", THREADS);
	snprintf(body, sizeof(body), "%d", MAX_BODY);
	snprintf(header, sizeof(header), "%d", MAX_HEADER);
	if (it_start(&srv, args) < 0) {
		fprintf(stderr, "server did not start, see %s\n", srv.log);
		return -1;
	}
	snprintf(tokpath, sizeof(tokpath), "/tmp/itest-token.%d", (int)getpid());
	fd = open(tokpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, TOKEN "\n", sizeof(TOKEN)) != sizeof(TOKEN))
		return -1;
	close(fd);
	if (it_start(&tsrv, targs) < 0) {
		fprintf(stderr, "server with token did not start, see %s\n", tsrv.log);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	int a, b;

	(void)state;
	a = it_stop(&srv, NULL);
	b = it_stop(&tsrv, NULL);
	unlink(tokpath);
	return a == 0 && b == 0 ? 0 : -1;
}

/* Read until the server closes or ms pass.  Returns the bytes read (the
 * response, NUL-terminated in buf) and sets *closed when it closed. */
static size_t
drain(int fd, char *buf, size_t n, int ms, int *closed)
{
	double t0 = it_now();
	size_t len = 0;

	*closed = 0;
	while ((it_now() - t0) * 1000 < ms) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char junk[4096];
		ssize_t r;

		if (poll(&p, 1, 50) <= 0)
			continue;
		r = read(fd, len + 1 < n ? buf + len : junk,
		    len + 1 < n ? n - 1 - len : sizeof(junk));
		if (r <= 0) {
			*closed = 1;
			break;
		}
		if (len + 1 < n)
			len += (size_t)r;
	}
	buf[len] = '\0';
	return len;
}

/* The server answers /health quickly: nothing is stuck. */
static void
assert_serving(const struct server *s)
{
	struct reply r;
	double t0 = it_now();

	if (it_http(s->port, "GET", "/health", NULL, &r) < 0)
		fail_msg("server stopped answering (log: %s)", s->log);
	assert_int_equal(r.status, 200);
	assert_true(it_now() - t0 < 2.0);
	it_reply_free(&r);
}

/* A raw response is an HTTP error with a JSON {"error": "<status text>",
 * "message": ...} body. */
static void
assert_json_error(const char *resp, int lo, int hi, const char *what)
{
	const char *body;
	json_t *j;
	int status = 0;

	if (resp == NULL)
		fail_msg("%s: want a %d-%d response, got no connection", what, lo, hi);
	body = strstr(resp, "\r\n\r\n");
	if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1 || status < lo ||
	    status > hi || body == NULL)
		fail_msg("%s: want a %d-%d response, got: %.200s", what, lo, hi, resp);
	/* For validate.mjs: the Error shape, on civetweb's errors too. */
	it_record_raw(resp);
	j = json_loads(body + 4, 0, NULL);
	if (!json_is_string(json_object_get(j, "error")) ||
	    !json_is_string(json_object_get(j, "message")))
		fail_msg("%s: body is not {\"error\": ..., \"message\": ...}: %.200s",
		    what, body + 4);
	json_decref(j);
}

static void
test_garbage_bytes(void **state)
{
	static const char *const junk[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",   /* a TLS hello */
		"\x00\x00\x00\x00\x00\x00\x00\x00\r\n\r\n",
		"GET\r\n\r\n",
		"GET / HTTP/9.9\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
		"POST /api/list-connections HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"POST /api/list-connections HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"\xff\xfe\xfd GET /health\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: \x01\x02\x7f\xff\r\nX: \xc3(\r\n\r\n",
		" / HTTP/1.1\r\n\r\n",
		"GET /\x00health HTTP/1.1\r\n\r\n",
	};
	unsigned char rnd[4096];
	size_t i, len = 0;
	char *resp;

	(void)state;
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		/* The cases with NULs are cut at the first: the bytes before it
		 * are the point.  An unknown HTTP version is 505, as RFC 9110
		 * says; everything else 4xx. */
		resp = it_raw(srv.port, junk[i], strlen(junk[i]) ? strlen(junk[i]) : 1,
		    &len);
		assert_non_null(resp);
		/* Either a JSON 4xx or a closed connection, never a crash. */
		if (len > 0)
			assert_json_error(resp, 400, strstr(junk[i], "HTTP/9.9") ?
			    505 : 499, junk[i]);
		free(resp);
		assert_serving(&srv);
	}
	/* Random bytes, several times. */
	srand(42);
	for (i = 0; i < 20; i++) {
		size_t j;

		for (j = 0; j < sizeof(rnd); j++)
			rnd[j] = (unsigned char)rand();
		resp = it_raw(srv.port, (const char *)rnd, sizeof(rnd), &len);
		free(resp);
	}
	assert_serving(&srv);
}

/* A request cut off in the middle of its headers, then the client goes
 * quiet: the worker is freed after the time-out. */
static void
test_cut_off_header(void **state)
{
	static const char part[] = "GET /health HTTP/1.1\r\nHost: local";
	char buf[1024];
	int fds[THREADS + 2], closed, i;
	double t0;

	(void)state;
	/* More than there are workers. */
	for (i = 0; i < THREADS + 2; i++) {
		assert_true((fds[i] = it_dial(srv.port)) >= 0);
		assert_int_equal(write(fds[i], part, sizeof(part) - 1), sizeof(part) - 1);
	}
	t0 = it_now();
	for (i = 0; i < THREADS + 2; i++) {
		drain(fds[i], buf, sizeof(buf), TIMEOUT_MS * 4 + 2000, &closed);
		if (!closed)
			fail_msg("connection %d still open %.1f s after a cut-off "
			    "header", i, it_now() - t0);
		close(fds[i]);
	}
	assert_serving(&srv);

	/* Cut off and the write side closed: answered or closed at once. */
	assert_true((fds[0] = it_dial(srv.port)) >= 0);
	assert_int_equal(write(fds[0], part, sizeof(part) - 1), sizeof(part) - 1);
	shutdown(fds[0], SHUT_WR);
	drain(fds[0], buf, sizeof(buf), TIMEOUT_MS * 3, &closed);
	assert_true(closed);
	close(fds[0]);
	assert_serving(&srv);
}

/* One byte a second, in the headers and in the body: each connection is
 * cut after the time-out however long the client keeps dripping, so the
 * workers come back. */
static void
slowloris(const char *req, size_t reqlen)
{
	int fds[THREADS + 1], closed = 0, i, n;
	size_t sent = 0;
	double t0 = it_now();
	char buf[1024];

	for (i = 0; i <= THREADS; i++)
		assert_true((fds[i] = it_dial(srv.port)) >= 0);
	/* Drip for up to 6 time-outs, far longer than the server allows. */
	while (sent < reqlen && it_now() - t0 < TIMEOUT_MS * 6 / 1000.0) {
		for (i = 0, n = 0; i <= THREADS; i++) {
			if (fds[i] < 0)
				continue;
			if (send(fds[i], req + sent, 1, MSG_NOSIGNAL) != 1) {
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			n++;
		}
		if (n == 0)
			break;
		sent++;
		usleep(250000);
		for (i = 0; i <= THREADS; i++) {
			if (fds[i] < 0)
				continue;
			drain(fds[i], buf, sizeof(buf), 1, &closed);
			if (closed) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
	}
	for (i = 0; i <= THREADS; i++)
		if (fds[i] >= 0)
			fail_msg("a slow client kept its connection for %.1f s "
			    "(time-out %d ms)", it_now() - t0, TIMEOUT_MS);
	assert_true(it_now() - t0 < TIMEOUT_MS * 5 / 1000.0);
	assert_serving(&srv);
}

static void
test_slowloris_header(void **state)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n"
	    "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";

	(void)state;
	slowloris(req, sizeof(req) - 1);
}

static void
test_slowloris_body(void **state)
{
	char req[512];
	int n;

	(void)state;
	n = snprintf(req, sizeof(req), "POST /api/list-connections HTTP/1.1\r\n"
	    "Host: localhost\r\nContent-Length: 200\r\n\r\n%200s", "{}");
	/* Headers at once, then the body a byte at a time. */
	slowloris(req, (size_t)n);
}

static char *
post_raw(int port, const char *path, const char *body, size_t blen,
    const char *extra, size_t *outlen)
{
	size_t hlen, room = 512 + (extra ? strlen(extra) : 0);
	char *req, *resp;

	/* Room for the extra header too: with -max-header-size's 4 KiB of
	 * it, 512 bytes were overrun and the heap corrupted, now and then. */
	req = malloc(blen + room);
	hlen = (size_t)snprintf(req, room, "POST %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n%sContent-Length: %zu\r\n\r\n", path,
	    extra ? extra : "", blen);
	memcpy(req + hlen, body, blen);
	resp = it_raw(port, req, hlen + blen, outlen);
	free(req);
	return resp;
}

static void
test_sizes(void **state)
{
	char *big, *resp, hdr[MAX_HEADER * 2];
	size_t len, n = 100000;

	(void)state;
	/* A body over -max-body-size: 413, announced or not. */
	big = malloc(n + 1);
	memset(big, ' ', n);
	big[0] = '{';
	resp = post_raw(srv.port, "/api/list-connections", big, MAX_BODY + 1,
	    NULL, &len);
	assert_json_error(resp, 413, 413, "body over the limit");
	free(resp);
	/* Only the announcement: refused before a byte of body is read. */
	{
		static const char req[] = "POST /api/connection-summary HTTP/1.1\r\n"
		    "Host: localhost\r\nContent-Length: 1073741824\r\n\r\n{";

		resp = it_raw(srv.port, req, sizeof(req) - 1, &len);
	}
	assert_json_error(resp, 413, 413, "1 GiB Content-Length");
	free(resp);
	/* Chunked, no length: capped while reading. */
	{
		char req[MAX_BODY * 2 + 256];
		int k = snprintf(req, sizeof(req), "POST /api/list-connections HTTP/1.1\r\n"
		    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n",
		    MAX_BODY * 2);

		memset(req + k, ' ', MAX_BODY * 2);
		k += MAX_BODY * 2;
		k += snprintf(req + k, sizeof(req) - (size_t)k, "\r\n0\r\n\r\n");
		resp = it_raw(srv.port, req, (size_t)k, &len);
		assert_json_error(resp, 413, 413, "chunked body over the limit");
		free(resp);
	}
	/* 100000 '{': over the limit here; the nesting limit itself is
	 * tested with a bigger limit in test_deep_nesting. */
	memset(big, '{', n);
	resp = post_raw(srv.port, "/api/connection-summary", big, n, NULL, &len);
	assert_json_error(resp, 413, 413, "100000 {");
	free(resp);
	free(big);

	/* Headers over -max-header-size. */
	memset(hdr, 'a', sizeof(hdr));
	memcpy(hdr, "X-Big: ", 7);
	memcpy(hdr + sizeof(hdr) - 3, "\r\n", 3);
	resp = post_raw(srv.port, "/api/list-connections", "{}", 2, hdr, &len);
	assert_json_error(resp, 400, 431, "headers over the limit");
	free(resp);
	assert_serving(&srv);
}

static void
test_deep_nesting(void **state)
{
	const char *args[] = { "-max-body-size", "262144", NULL };
	struct server s;
	char *big, *resp;
	size_t len, n = 100000;

	(void)state;
	assert_int_equal(it_start(&s, args), 0);
	big = malloc(n);
	memset(big, '{', n);
	resp = post_raw(s.port, "/api/connection-summary", big, n, NULL, &len);
	assert_json_error(resp, 400, 400, "100000 {");
	free(resp);
	memset(big, '[', n);
	resp = post_raw(s.port, "/api/list-connections", big, n, NULL, &len);
	assert_json_error(resp, 400, 400, "100000 [");
	free(resp);
	free(big);
	assert_serving(&s);
	assert_int_equal(it_stop(&s, NULL), 0);
}

struct bad {
	const char *path;
	const char *body;
	size_t blen;       /* 0: strlen(body) */
	int status;
};

/* What test_api.c's table does not have: bytes it cannot write as C
 * strings, truncation, and values at the edges of the number types. */
static const struct bad bad[] = {
	{ "/api/connection-summary", "", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"dur", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"duration\":60}\0{", 25, 400 },
	{ "/api/connection-summary", "{\"command\":\"a\xff\",\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"command\":\"\xc0\xaf\",\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"command\":\"a\\u0000b\",\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"command\":\"0123456789abcdef\",\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"duration\":1e309}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"duration\":6e1}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"duration\":-60}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"duration\":18446744073709551677}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":99999999999999999999,\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":4294967297,\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":0,\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"pid\":2,\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":null,\"duration\":60}", 0, 400 },
	{ "/api/connection-summary", "{\"pid\":1,\"duration\":60,\"x\":1}", 0, 400 },
	{ "/api/connection-summary", "\"{}\"", 0, 400 },
	{ "/api/connection-summary", "\xef\xbb\xbf{\"pid\":1,\"duration\":60}", 0, 400 },
	{ "/api/list-connections", "{\"limit\":1.0}", 0, 400 },
	{ "/api/list-connections", "{\"limit\":true}", 0, 400 },
	{ "/api/list-connections", "[]", 0, 400 },
	{ "/api/list-connections", "{}}", 0, 400 },
};

static void
test_bad_bodies(void **state)
{
	size_t i, len;
	char *resp;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t blen = bad[i].blen ? bad[i].blen : strlen(bad[i].body);
		char what[128];

		snprintf(what, sizeof(what), "%s %.60s", bad[i].path, bad[i].body);
		resp = post_raw(srv.port, bad[i].path, bad[i].body, blen, NULL, &len);
		assert_non_null(resp);
		assert_json_error(resp, bad[i].status, bad[i].status, what);
		free(resp);
	}
	/* Content-Length larger than what comes before the client hangs up. */
	{
		static const char req[] = "POST /api/connection-summary HTTP/1.1\r\n"
		    "Content-Length: 100\r\n\r\n{\"pid\":1,";
		int fd = it_dial(srv.port), closed;
		char buf[2048];

		assert_true(fd >= 0);
		assert_int_equal(write(fd, req, sizeof(req) - 1), sizeof(req) - 1);
		shutdown(fd, SHUT_WR);
		drain(fd, buf, sizeof(buf), TIMEOUT_MS * 3, &closed);
		assert_true(closed);
		if (buf[0])
			assert_json_error(buf, 400, 499, "truncated body");
		close(fd);
	}
	assert_serving(&srv);
}

static void
test_bad_queries(void **state)
{
	static const char *const q[] = {
		"/api/list-connections?pid=1&pid=2",
		"/api/list-connections?limit=10&limit=10",
		"/api/list-connections?pid=0",
		"/api/list-connections?pid=99999999999999999999999",
		"/api/list-connections?pid=4294967297",
		"/api/list-connections?pid=%2D1",
		"/api/list-connections?pid=1e3",
		"/api/list-connections?pid=0x10",
		"/api/list-connections?pid=+1",
		"/api/list-connections?pid=",
		"/api/list-connections?limit=-1",
		"/api/list-connections?limit=%zz",
		"/api/list-connections?limit=%",
		"/api/list-connections?limit=1%00",
		"/api/list-connections?command=",
		"/api/list-connections?command=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/api/list-connections?nope=1",
		"/api/list-connections?=1",
		"/health?pid=1",
		"/?limit=5",
		"/api/top",
		"/api/top?by=pid",
		"/api/top?by=port&by=port",
		"/api/top?by=port&limit=0",
		"/api/top?by=port&duration=99999999999999999999",
		"/api/top?by=destination&ip=10.0.0.0/99",
		"/api/top?by=destination&since=%ff",
		"/api/list-connections?ip=::::::",
		"/api/list-connections?since=9999-99-99T99:99:99Z",
		"/api/list-connections?port=65536",
		"/api/stream?pretty=1",
		"/api/stream?pid=-1",
		"/metrics?x=1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		struct reply r;

		if (it_http(srv.port, "GET", q[i], NULL, &r) < 0)
			fail_msg("%s: no answer", q[i]);
		if (r.status != 400 || !json_is_string(json_object_get(r.json, "error")))
			fail_msg("%s: status %d, body %s", q[i], r.status, r.body);
		it_reply_free(&r);
	}
	assert_serving(&srv);
}

/* Nothing is ever served from disk, however the path is spelled. */
static void
test_paths_and_methods(void **state)
{
	static const char *const paths[] = {
		"/../../../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/api/..%2f..%2f..%2fetc%2fpasswd",
		"//etc/passwd",
		"/health/../../etc/passwd",
		"/etc/passwd%00.json",
		"/.htpasswd",
		"/api",
		"/api/",
		"/health/",
		"/HEALTH",
		"/api/list-connections/x",
	};
	static const struct {
		const char *method, *path, *allow;
	} methods[] = {
		{ "PUT", "/api/list-connections", "GET, POST" },
		{ "PATCH", "/api/connection-summary", "POST" },
		{ "OPTIONS", "/health", "GET" },
		{ "DELETE", "/", "GET" },
		{ "TRACE", "/health", "GET" },
		{ "PROPFIND", "/", "GET" },
		{ "MKCOL", "/api/list-connections", "GET, POST" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct reply r;

		if (it_http(srv.port, "GET", paths[i], NULL, &r) < 0)
			fail_msg("%s: no answer", paths[i]);
		if ((r.status != 404 && r.status != 400) ||
		    !json_is_string(json_object_get(r.json, "error")))
			fail_msg("%s: status %d, body %s", paths[i], r.status, r.body);
		assert_null(strstr(r.body, "root:"));
		it_reply_free(&r);
	}
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct reply r;
		char allow[64];

		if (it_http(srv.port, methods[i].method, methods[i].path, NULL, &r) < 0)
			fail_msg("%s %s: no answer", methods[i].method, methods[i].path);
		/* civetweb refuses some methods it knows before any handler
		 * sees them; those may be another 4xx, but always JSON. */
		if (r.status == 405) {
			assert_int_equal(it_header(&r, "Allow", allow, sizeof(allow)), 0);
			assert_string_equal(allow, methods[i].allow);
		} else if (r.status < 400 || r.status > 499) {
			fail_msg("%s %s: status %d", methods[i].method,
			    methods[i].path, r.status);
		}
		assert_true(json_is_string(json_object_get(r.json, "error")));
		it_reply_free(&r);
	}
	assert_serving(&srv);
}

/* Command names are raw kernel bytes; the JSON is valid UTF-8 anyway. */
static void
test_command_not_utf8(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct reply r;
	json_t *conns, *arr, *ev;
	const char *key, *cmd = NULL;
	double t0;
	pid_t pid;
	int status;

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(1);
	if ((pid = fork()) == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		prctl(PR_SET_NAME, BAD_COMM);
		connect(fd, (void *)&a, sizeof(a));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	t0 = it_now();
	for (;;) {
		char path[64];

		snprintf(path, sizeof(path), "/api/list-connections?pid=%d", (int)pid);
		/* it_http parses with jansson, which refuses invalid UTF-8. */
		assert_int_equal(it_http(srv.port, "GET", path, NULL, &r), 0);
		assert_int_equal(r.status, 200);
		assert_non_null(r.json);
		conns = json_object_get(r.json, "connections");
		json_object_foreach(conns, key, arr) {
			ev = json_array_get(arr, 0);
			cmd = json_string_value(json_object_get(ev, "command"));
		}
		if (cmd || it_now() - t0 > 3)
			break;
		it_reply_free(&r);
		usleep(100000);
	}
	assert_non_null(cmd);
	/* "bad", then U+FFFD for each invalid byte. */
	assert_true(strncmp(cmd, "bad", 3) == 0);
	assert_non_null(strstr(cmd, "\xef\xbf\xbd"));
	it_reply_free(&r);
}

static int
http_auth(int port, const char *method, const char *path, const char *auth,
    struct reply *out)
{
	char req[512], *resp, *hend;
	size_t len;
	int n;

	memset(out, 0, sizeof(*out));
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n%s%s%s%s\r\n", method, path,
	    auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "",
	    strcmp(method, "POST") == 0 ? "Content-Length: 2\r\n\r\n{}" : "");
	if (strcmp(method, "POST") == 0)
		n -= 2; /* the final CRLF was already written with the body */
	if ((resp = it_raw(port, req, (size_t)n, &len)) == NULL)
		return -1;
	if (sscanf(resp, "HTTP/1.%*d %d", &out->status) != 1 ||
	    (hend = strstr(resp, "\r\n\r\n")) == NULL) {
		free(resp);
		return -1;
	}
	snprintf(out->headers, sizeof(out->headers), "%.*s", (int)(hend - resp), resp);
	out->body = strdup(hend + 4);
	out->json = json_loads(out->body, 0, NULL);
	free(resp);
	return 0;
}

static void
test_bearer_token(void **state)
{
	static const char *const wrong[] = {
		NULL,
		"Bearer",
		"Bearer ",
		"Bearer it-Zm9vYmFy.token~",        /* a prefix */
		"Bearer it-Zm9vYmFy.token~1x",      /* longer */
		"Bearer it-Zm9vYmFy.token~2",       /* last byte */
		"Bearer Xt-Zm9vYmFy.token~1",       /* first byte */
		"Basic aXQ6aXQ=",
		"it-Zm9vYmFy.token~1",
		"Bearer  it-Zm9vYmFy.token~1x",
	};
	static const char *const paths[] = { "/", "/api/list-connections",
	    "/api/connection-summary", "/nope", "/health/x", "/metrics",
	    "/api/top?by=port", "/api/stream" };
	struct reply r;
	char v[128];
	size_t i, j;

	(void)state;
	/* /health is open: load balancers check it. */
	assert_int_equal(http_auth(tsrv.port, "GET", "/health", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	it_reply_free(&r);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (j = 0; j < sizeof(wrong) / sizeof(wrong[0]); j++) {
			const char *m = strstr(paths[i], "summary") ? "POST" : "GET";

			assert_int_equal(http_auth(tsrv.port, m, paths[i], wrong[j], &r), 0);
			if (r.status != 401)
				fail_msg("%s %s with %s: status %d", m, paths[i],
				    wrong[j] ? wrong[j] : "nothing", r.status);
			assert_int_equal(it_header(&r, "WWW-Authenticate", v, sizeof(v)), 0);
			assert_true(strncmp(v, "Bearer", 6) == 0);
			assert_true(json_is_string(json_object_get(r.json, "error")));
			assert_null(strstr(r.body, "connections"));
			it_reply_free(&r);
		}
	}
	/* The right token, with the scheme in any case. */
	assert_int_equal(http_auth(tsrv.port, "GET", "/api/list-connections?limit=1",
	    "Bearer " TOKEN, &r), 0);
	assert_int_equal(r.status, 200);
	it_reply_free(&r);
	assert_int_equal(http_auth(tsrv.port, "POST", "/api/connection-summary",
	    "bearer " TOKEN, &r), 0);
	assert_int_equal(r.status, 400); /* authorised; {} is then a bad body */
	it_reply_free(&r);
	assert_int_equal(http_auth(tsrv.port, "GET", "/", "BEARER  " TOKEN, &r), 0);
	assert_int_equal(r.status, 200);
	it_reply_free(&r);
	assert_serving(&tsrv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage_bytes),
		cmocka_unit_test(test_cut_off_header),
		cmocka_unit_test(test_slowloris_header),
		cmocka_unit_test(test_slowloris_body),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_paths_and_methods),
		cmocka_unit_test(test_command_not_utf8),
		cmocka_unit_test(test_bearer_token),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
