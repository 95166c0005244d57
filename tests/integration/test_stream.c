/*
 * GET /api/stream on the real kernel: NDJSON and SSE, filters, a slow
 * client that skips ahead with a counted gap while the server stays
 * responsive, the limit on concurrent streams, keep-alive lines, and
 * SIGTERM ending open streams and the server within a second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/un.h>

#include "tests/integration/itest.h"

static struct server srv;

/* A command name unique to this run of the test: the server sees the
 * whole host, where another copy of this test may be running. */
static const char *
uniq(const char *base)
{
	static char names[8][16];
	static int next;
	char *n = names[next++ % 8];

	snprintf(n, 16, "%s%d", base, (int)getpid() % 100000);
	return n;
}

struct stream {
	int fd;
	int port;
	int status;
	char headers[2048];
	char *buf;          /* body read so far, NUL-terminated */
	size_t len, cap;
};

/* Open a stream and read its headers.  Returns 0 or -1. */
static int
stream_open(struct stream *s, int port, const char *query, int sse,
    int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	char req[512], *end;
	size_t hl = 0;
	int n;

	memset(s, 0, sizeof(*s));
	s->port = port;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rcvbuf)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(s->fd, (void *)&a, sizeof(a)) < 0)
		return -1;
	n = snprintf(req, sizeof(req), "GET /api/stream%s%s HTTP/1.1\r\n"
	    "Host: localhost\r\n%s\r\n", *query ? "?" : "", query,
	    sse ? "Accept: text/event-stream\r\n" : "");
	if (write(s->fd, req, (size_t)n) != n)
		return -1;
	s->cap = 1 << 16;
	s->buf = calloc(1, s->cap + 1);
	/* Byte by byte up to the blank line, so the body stays in the socket. */
	while (hl + 1 < sizeof(s->headers)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0 || read(s->fd, s->headers + hl, 1) != 1)
			return -1;
		s->headers[++hl] = '\0';
		if ((end = strstr(s->headers, "\r\n\r\n")) != NULL)
			break;
	}
	if (sscanf(s->headers, "HTTP/1.%*d %d", &s->status) != 1)
		return -1;
	return 0;
}

/* Read what arrives within ms (or until EOF: returns 1 then). */
static int
stream_read(struct stream *s, int ms)
{
	double t0 = it_now();
	ssize_t r;

	while ((it_now() - t0) * 1000 < ms) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		if (poll(&p, 1, 50) <= 0)
			continue;
		if (s->len == s->cap) {
			s->buf = realloc(s->buf, (s->cap *= 2) + 1);
		}
		if ((r = read(s->fd, s->buf + s->len, s->cap - s->len)) <= 0)
			return 1;
		s->len += (size_t)r;
		s->buf[s->len] = '\0';
	}
	return 0;
}

static void
stream_close(struct stream *s)
{
	/* What arrived, for validate.mjs: NDJSON line by line, the 503 of a
	 * stream too many as an Error. */
	if (s->status) {
		struct reply r;

		memset(&r, 0, sizeof(r));
		r.status = s->status;
		snprintf(r.headers, sizeof(r.headers), "%s", s->headers);
		r.body = s->buf ? s->buf : "";
		r.len = s->buf ? s->len : 0;
		it_record(s->port, "GET", "/api/stream", &r);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Fork a child named comm that makes n unix connects to a missing path
 * and one refused TCP connect; returns its pid after it exited. */
static pid_t
connects(const char *comm, int n)
{
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	struct sockaddr_in a = { .sin_family = AF_INET };
	pid_t pid;
	int i, fd, status;

	if ((pid = fork()) == 0) {
		prctl(PR_SET_NAME, comm);
		strcpy(u.sun_path, "/nonexistent/itest-stream");
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		for (i = 0; i < n; i++)
			connect(fd, (void *)&u, sizeof(u));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons(it_free_port());
		fd = socket(AF_INET, SOCK_STREAM, 0);
		connect(fd, (void *)&a, sizeof(a));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return pid;
}

/* JSON objects on the NDJSON lines of buf whose command is comm. */
static size_t
count_lines(const char *buf, const char *comm, const char *protocol)
{
	const char *p = buf, *nl;
	size_t n = 0;
	json_t *o;

	while ((nl = strchr(p, '\n')) != NULL) {
		if ((o = json_loadb(p, (size_t)(nl - p), 0, NULL))) {
			const char *c = json_string_value(json_object_get(o, "command"));
			const char *pr = json_string_value(json_object_get(o, "protocol"));

			if (c && strcmp(c, comm) == 0 &&
			    (!protocol || strcmp(pr, protocol) == 0))
				n++;
			json_decref(o);
		} else if (nl != p) {
			fail_msg("not a JSON line: %.*s", (int)(nl - p), p);
		}
		p = nl + 1;
	}
	return n;
}

static int
setup(void **state)
{
	/* Room for the streams the tests leave behind: a closed client's
	 * stream ends when the server next writes to it. */
	static const char *const args[] = { "-max-streams", "6", NULL };

	(void)state;
	return it_start(&srv, args);
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

static void
test_ndjson(void **state)
{
	struct stream s;
	double t0;

	const char *comm = uniq("it-nd");
	char q[64];

	(void)state;
	snprintf(q, sizeof(q), "command=%s", comm);
	assert_int_equal(stream_open(&s, srv.port, q, 0, 0), 0);
	assert_int_equal(s.status, 200);
	assert_non_null(strstr(s.headers, "Content-Type: application/x-ndjson"));
	connects(comm, 3);
	t0 = it_now();
	while (count_lines(s.buf, comm, NULL) < 4 && it_now() - t0 < 3)
		stream_read(&s, 100);
	/* Three unix connects and one TCP connect, nothing else. */
	assert_int_equal(count_lines(s.buf, comm, NULL), 4);
	assert_int_equal(count_lines(s.buf, comm, "TCP"), 1);
	stream_close(&s);
}

static void
test_sse_and_filter(void **state)
{
	struct stream s;
	const char *p;
	double t0;
	json_t *o;

	const char *comm = uniq("it-sse");
	char q[64];

	(void)state;
	snprintf(q, sizeof(q), "command=%s&protocol=tcp", comm);
	assert_int_equal(stream_open(&s, srv.port, q, 1, 0), 0);
	assert_int_equal(s.status, 200);
	assert_non_null(strstr(s.headers, "Content-Type: text/event-stream"));
	connects(comm, 3);
	t0 = it_now();
	while (!strstr(s.buf, "\n\n" "event: connection") && it_now() - t0 < 3)
		stream_read(&s, 100);
	stream_read(&s, 300);
	p = strstr(s.buf, "event: connection\ndata: ");
	assert_non_null(p);
	p += strlen("event: connection\ndata: ");
	o = json_loadb(p, strcspn(p, "\n"), 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "protocol")), "TCP");
	json_decref(o);
	/* The filter let only the TCP connect through. */
	assert_null(strstr(p, "event: connection"));
	stream_close(&s);
}

/* A client that does not read: the reader goes on, the server answers,
 * and when the client reads again it is told how much it missed. */
static void
test_slow_client_gap(void **state)
{
	struct stream s;
	struct reply r;
	double t0;
	const char *g;

	const char *comm = uniq("it-slow");
	char q[64];

	(void)state;
	snprintf(q, sizeof(q), "command=%s", comm);
	assert_int_equal(stream_open(&s, srv.port, q, 0, 4096), 0);
	assert_int_equal(s.status, 200);
	/* Far more than the queue and the socket buffers hold. */
	connects(comm, 100000);
	t0 = it_now();
	assert_int_equal(it_http(srv.port, "GET", "/health", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(it_now() - t0 < 1);
	it_reply_free(&r);
	t0 = it_now();
	while (!strstr(s.buf, "{\"gap\":") && it_now() - t0 < 10)
		stream_read(&s, 200);
	g = strstr(s.buf, "{\"gap\":");
	assert_non_null(g);
	assert_true(atol(g + 7) > 0);
	stream_close(&s);
}

/* At most -max-streams at once; a closed client's slot comes back. */
static void
test_stream_limit(void **state)
{
	static const char *const args[] = { "-max-streams", "1", "-threads", "2",
	    NULL };
	struct server s1;
	struct stream a, c;
	struct reply r;
	double t0;

	(void)state;
	assert_int_equal(it_start(&s1, args), 0);
	assert_int_equal(stream_open(&a, s1.port, "", 0, 0), 0);
	assert_int_equal(a.status, 200);
	assert_int_equal(stream_open(&c, s1.port, "", 0, 0), 0);
	assert_int_equal(c.status, 503);
	stream_close(&c);
	/* Other endpoints still answer: a worker is left for them. */
	assert_int_equal(it_http(s1.port, "GET", "/health", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	it_reply_free(&r);
	/* Close it; the server notices when it next writes to it (our own
	 * requests are events for an unfiltered stream). */
	stream_close(&a);
	t0 = it_now();
	for (;;) {
		assert_int_equal(stream_open(&c, s1.port, "", 0, 0), 0);
		if (c.status == 200 || it_now() - t0 > 12)
			break;
		stream_close(&c);
		usleep(100000);
	}
	assert_int_equal(c.status, 200);
	stream_close(&c);
	assert_int_equal(it_stop(&s1, NULL), 0);
}

/* Nothing to send: a keep-alive line within STREAM_KEEPALIVE_MS (5 s). */
static void
test_keepalive(void **state)
{
	struct stream s;

	(void)state;
	assert_int_equal(stream_open(&s, srv.port, "command=nobody-at-all", 1, 0), 0);
	assert_int_equal(s.status, 200);
	stream_read(&s, 6000);
	assert_non_null(strstr(s.buf, ": keep-alive\n\n"));
	stream_close(&s);
}

/*
 * HEAD /api/stream: the stream's head (200, its content type, the close),
 * whole in the first segment the server sends, and no body: the server
 * closes the connection right after it, without waiting for events.
 */
static void
test_head(void **state)
{
	static const char req[] = "HEAD /api/stream HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t len = 0;
	double t0 = it_now();
	char *resp, *end;

	(void)state;
	resp = it_raw(srv.port, req, sizeof(req) - 1, &len);
	assert_non_null(resp);
	assert_true(it_now() - t0 < 2.0);
	assert_true(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(resp, "Content-Type: application/x-ndjson\r\n"));
	assert_non_null(strstr(resp, "Connection: close\r\n"));
	assert_null(strstr(resp, "Content-Length"));
	assert_null(strstr(resp, "Transfer-Encoding"));
	end = strstr(resp, "\r\n\r\n");
	assert_non_null(end);
	assert_int_equal((size_t)(end + 4 - resp), len);
	free(resp);
}

/* SIGTERM with streams open: they end, and the server exits 0 within 1 s. */
static void
test_sigterm_ends_streams(void **state)
{
	struct server s2;
	struct stream a, b;
	double secs;

	(void)state;
	assert_int_equal(it_start(&s2, NULL), 0);
	assert_int_equal(stream_open(&a, s2.port, "", 0, 0), 0);
	assert_int_equal(stream_open(&b, s2.port, "", 1, 0), 0);
	assert_int_equal(a.status, 200);
	assert_int_equal(b.status, 200);
	assert_int_equal(it_stop(&s2, &secs), 0);
	assert_true(secs < 1.0);
	/* Both see the end of the stream. */
	assert_int_equal(stream_read(&a, 2000), 1);
	assert_int_equal(stream_read(&b, 2000), 1);
	stream_close(&a);
	stream_close(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_sse_and_filter),
		cmocka_unit_test(test_slow_client_gap),
		cmocka_unit_test(test_stream_limit),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_sigterm_ends_streams),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
