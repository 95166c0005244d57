/*
 * Helpers for the integration tests: start the real server binary (from
 * $EBPF_SERVER) on a loopback port, talk HTTP to it over a plain socket and
 * parse the answers with jansson.  Header-only so each test program stays
 * one file.
 */
#ifndef ITEST_H
#define ITEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>

#include <sys/syscall.h>
#include <linux/bpf.h>

struct server {
	pid_t pid;
	int port;
	char log[256];  /* its stderr */
	/* From /health once it answered: the capture backend and the
	 * fields it knows exactly, as " return_code socket_type ... ". */
	char backend[32];
	char exact[256];
};

struct reply {
	int status;
	char headers[4096];
	char *body;
	size_t len;
	json_t *json;   /* NULL if the body is not JSON */
};

/* Servers started and not yet stopped, killed at exit: a failed assertion
 * leaves its test without reaching it_stop(), and the sandboxed server has
 * lost its parent-death signal when it changed uid. */
static pid_t it_running[32];

static inline void
it_kill_running(void)
{
	size_t i;

	for (i = 0; i < sizeof(it_running) / sizeof(it_running[0]); i++)
		if (it_running[i] > 0) {
			kill(it_running[i], SIGKILL);
			waitpid(it_running[i], NULL, 0);
			it_running[i] = 0;
		}
}

static inline void
it_track(pid_t pid, pid_t old)
{
	static int registered;
	size_t i;

	if (!registered && atexit(it_kill_running) == 0)
		registered = 1;
	for (i = 0; i < sizeof(it_running) / sizeof(it_running[0]); i++)
		if (it_running[i] == old) {
			it_running[i] = pid;
			return;
		}
}

/* When set, runs in the child just before the server is executed (e.g. to
 * drop root but keep some capabilities).  Returns 0 or -1. */
static int (*it_before_exec)(void);

static inline double
it_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline const char *
it_binary(void)
{
	const char *b = getenv("EBPF_SERVER");

	return b ? b : "bin/ebpf-server";
}

/* A "Vm...:" figure of /proc/pid/status (field "VmRSS", "VmHWM") in
 * KiB, or -1. */
static inline long
it_status_kib(pid_t pid, const char *field)
{
	char path[64], line[256], fmt[32];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(fmt, sizeof(fmt), "%s: %%ld", field);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* VmRSS of pid in KiB, or -1. */
static inline long
it_rss_kib(pid_t pid)
{
	return it_status_kib(pid, "VmRSS");
}

/* A free TCP port on 127.0.0.1 (bound then released). */
static inline int
it_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (void *)&a, &len) < 0)
		return -1;
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/*
 * Raw request; returns the whole response (malloc'd) or NULL.  A server
 * may answer before it has read the whole request (a 413 for a body over
 * the limit) and close: a write that fails then ends the writing, not the
 * exchange, and what the server sent is read all the same.
 */
static inline char *
it_raw(int port, const char *req, size_t reqlen, size_t *outlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t len = 0, cap = 65536, sent = 0;
	char *buf;
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return NULL;
	if (connect(fd, (void *)&a, sizeof(a)) < 0) {
		close(fd);
		return NULL;
	}
	while (sent < reqlen) {
		ssize_t w = write(fd, req + sent, reqlen - sent);

		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	buf = malloc(cap + 1);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 10000) <= 0)
			break;
		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
		if ((r = read(fd, buf + len, cap - len)) <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*outlen = len;
	return buf;
}

static inline void
it_reply_free(struct reply *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static inline int it_header(const struct reply *r, const char *name, char *v,
    size_t n);

/*
 * When $ITEST_RECORD_DIR is set (make test sets it), append the reply to
 * <dir>/<pid>.jsonl as one line {"method", "path", "status",
 * "content_type", "body"}, for tests/openapi/validate.mjs to check every
 * body against httpd/openapi.json.  One write() per line on an O_APPEND
 * file, so forked children cannot interleave within a line.
 */
/* The ports of the servers it_start() started: only their replies are
 * recorded, not those of other programs a test talks to (Prometheus). */
static int it_server_ports[64];

static inline void
it_record_reply(const char *method, const char *path, const struct reply *r)
{
	const char *dir = getenv("ITEST_RECORD_DIR");
	char file[4096], ctype[256] = "";
	json_t *o;
	char *line;
	int fd;

	if (!dir || !*dir)
		return;
	it_header(r, "Content-Type", ctype, sizeof(ctype));
	o = json_pack("{ss ss si ss s:s%}", "method", method, "path", path,
	    "status", r->status, "content_type", ctype, "body", r->body, r->len);
	line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	snprintf(file, sizeof(file), "%s/%d.jsonl", dir, (int)getpid());
	if (line && (fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) >= 0) {
		size_t n = strlen(line);

		line[n] = '\n'; /* over the NUL: written by length */
		if (write(fd, line, n + 1) != (ssize_t)(n + 1))
			fprintf(stderr, "itest: could not record a reply in %s\n", file);
		close(fd);
	} else {
		fprintf(stderr, "itest: could not record a reply in %s\n", file);
	}
	free(line);
}

/* it_record_reply() for a reply from port, if one of our servers has it. */
static inline void
it_record(int port, const char *method, const char *path,
    const struct reply *r)
{
	size_t i;

	for (i = 0; i < sizeof(it_server_ports) / sizeof(it_server_ports[0]); i++)
		if (it_server_ports[i] == port) {
			it_record_reply(method, path, r);
			return;
		}
}

/* A raw response (status line, headers, body) of one of our servers to a
 * request that is not one the document describes (malformed, oversized):
 * recorded as "RAW (raw)", which the validator holds to the Error shape. */
static inline void
it_record_raw(const char *resp)
{
	const char *hend = strstr(resp, "\r\n\r\n");
	struct reply r;

	memset(&r, 0, sizeof(r));
	if (!hend || sscanf(resp, "HTTP/%*d.%*d %d", &r.status) != 1)
		return;
	snprintf(r.headers, sizeof(r.headers), "%.*s", (int)(hend - resp), resp);
	r.body = (char *)hend + 4;
	r.len = strlen(r.body);
	it_record_reply("RAW", "(raw)", &r);
}

/* One HTTP/1.1 request with Connection: close.  Returns 0 or -1. */
/* Decode a chunked body in place; returns its length (what was decoded
 * before a malformed chunk, if any). */
static inline size_t
it_dechunk(char *b, size_t len)
{
	size_t in = 0, outl = 0;

	while (in < len) {
		char *end;
		unsigned long n = strtoul(b + in, &end, 16);
		char *crlf = strstr(b + in, "\r\n");

		if (end == b + in || crlf == NULL || n == 0 ||
		    (size_t)(crlf + 2 - b) + n > len)
			break;
		in = (size_t)(crlf + 2 - b);
		memmove(b + outl, b + in, n);
		outl += n;
		in += n + 2;
	}
	b[outl] = '\0';
	return outl;
}

static inline int
it_http(int port, const char *method, const char *path, const char *body,
    struct reply *out)
{
	char req[1 << 16];
	size_t len, blen = body ? strlen(body) : 0;
	char *resp, *hend;

	memset(out, 0, sizeof(*out));
	len = (size_t)snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n", method, path);
	if (body)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
	len += (size_t)snprintf(req + len, sizeof(req) - len, "\r\n");
	if (body && len + blen < sizeof(req)) {
		memcpy(req + len, body, blen);
		len += blen;
	}
	if ((resp = it_raw(port, req, len, &len)) == NULL)
		return -1;
	if (sscanf(resp, "HTTP/1.%*d %d", &out->status) != 1 ||
	    (hend = strstr(resp, "\r\n\r\n")) == NULL) {
		free(resp);
		return -1;
	}
	snprintf(out->headers, sizeof(out->headers), "%.*s", (int)(hend - resp), resp);
	out->len = len - (size_t)(hend + 4 - resp);
	out->body = malloc(out->len + 1);
	memcpy(out->body, hend + 4, out->len);
	out->body[out->len] = '\0';
	/* Long replies come chunked (past 64 KiB, e.g. an unfiltered list
	 * on a busy shared machine): the body is what the chunks hold. */
	if (strcasestr(out->headers, "\r\nTransfer-Encoding: chunked"))
		out->len = it_dechunk(out->body, out->len);
	out->json = json_loadb(out->body, out->len, 0, NULL);
	free(resp);
	it_record(port, method, path, out);
	return 0;
}

/* Case-insensitive header lookup: copies the value into v. */
static inline int
it_header(const struct reply *r, const char *name, char *v, size_t n)
{
	const char *p = r->headers;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *s = p + nl + 1, *e;

			while (*s == ' ')
				s++;
			e = strstr(s, "\r\n");
			snprintf(v, n, "%.*s", (int)(e ? e - s : (long)strlen(s)), s);
			return 0;
		}
	}
	return -1;
}

/*
 * Start the server with extra arguments (NULL-terminated) on a free port and
 * wait until /health answers.  Returns 0 or -1 (the server's stderr is in
 * s->log).
 */
/*
 * A server asked for a backend this kernel cannot run refuses to start
 * with "backend NAME unavailable: why" and exit status 3 (a helper or an
 * attach type the kernel lacks, no BTF, fexit under lockdown: each named
 * in one line).  That is not a failure of the test: say why and exit 77,
 * which make test reports as skipped.  Any other way to die, a verifier
 * rejection above all (exit status 1), is a failure.
 */
static inline void
it_skip_unavailable(const struct server *s, int status)
{
	char line[1024];
	FILE *f;

	if (!getenv("ITEST_BACKEND") || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 3 || (f = fopen(s->log, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "unavailable:")) {
			fprintf(stderr, "SKIPPED: %s", line);
			fclose(f);
			exit(77);
		}
	fclose(f);
}

/*
 * The BPF object with this id (cmd BPF_PROG_GET_FD_BY_ID or
 * BPF_LINK_GET_FD_BY_ID) described into info (BPF_OBJ_GET_INFO_BY_FD,
 * len bytes).  Returns 0, or -1 when it is gone.
 */
static inline int
it_bpf_info(int cmd, uint32_t id, void *info, uint32_t len)
{
	union bpf_attr attr;
	int fd, rc;

	memset(&attr, 0, sizeof(attr));
	if (cmd == BPF_LINK_GET_FD_BY_ID)
		attr.link_id = id;
	else
		attr.prog_id = id;
	if ((fd = (int)syscall(__NR_bpf, cmd, &attr, sizeof(attr))) < 0)
		return -1;
	memset(info, 0, len);
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = len;
	attr.info.info = (uint64_t)(uintptr_t)info;
	rc = syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) == 0 ? 0 : -1;
	close(fd);
	return rc;
}

/* Note the backend and its exact fields from a /health body. */
static inline void
it_health_capture(struct server *s, json_t *h)
{
	json_t *a = json_object_get(h, "exact_fields"), *v;
	const char *b = json_string_value(json_object_get(h, "backend"));
	size_t i, len = 1;

	snprintf(s->backend, sizeof(s->backend), "%s", b ? b : "");
	strcpy(s->exact, " ");
	json_array_foreach(a, i, v)
		if (json_is_string(v) && len + strlen(json_string_value(v)) + 2 <
		    sizeof(s->exact))
			len += (size_t)sprintf(s->exact + len, "%s ",
			    json_string_value(v));
}

/* 1 when the running server's backend knows field exactly. */
static inline int
it_knows(const struct server *s, const char *field)
{
	char key[64];

	snprintf(key, sizeof(key), " %s ", field);
	return strstr(s->exact, key) != NULL;
}

/* A command the server runs under, NULL-terminated (unshare ...), or
 * NULL: the next it_start() puts it before the server's own argv. */
static const char *const *it_wrap;

static inline int
it_start(struct server *s, const char *const *extra)
{
	char addr[64];
	const char *argv[32];
	int i = 0, fd;
	double t0;

	memset(s, 0, sizeof(*s));
	s->port = it_free_port();
	{
		static size_t next;

		it_server_ports[next++ % (sizeof(it_server_ports) /
		    sizeof(it_server_ports[0]))] = s->port;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
	snprintf(s->log, sizeof(s->log), "/tmp/ebpf-server-itest.%d.%d.log",
	    (int)getpid(), s->port);
	while (it_wrap && it_wrap[i] && i < 8) {
		argv[i] = it_wrap[i];
		i++;
	}
	argv[i++] = it_binary();
	argv[i++] = "-addr";
	argv[i++] = addr;
	while (extra && *extra && i < 28)
		argv[i++] = *extra++;
	/* make test runs the API tests once per capture backend. */
	if (getenv("ITEST_BACKEND") && *getenv("ITEST_BACKEND")) {
		argv[i++] = "-backend";
		argv[i++] = getenv("ITEST_BACKEND");
	}
	argv[i] = NULL;
	/* A test that dies (an assertion, a signal) must not leave a server
	 * behind, and a server closing a socket must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	if ((s->pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (it_before_exec && it_before_exec() < 0)
			_exit(126);
		dup2(fd, 2);
		dup2(fd, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	it_track(s->pid, 0);
	t0 = it_now();
	while (it_now() - t0 < 10) {
		struct reply r;
		int status;

		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			it_track(0, s->pid);
			s->pid = 0;
			it_skip_unavailable(s, status);
			return -1;
		}
		if (it_http(s->port, "GET", "/health", NULL, &r) == 0 && r.status == 200) {
			it_health_capture(s, r.json);
			it_reply_free(&r);
			return 0;
		}
		it_reply_free(&r);
		usleep(20000);
	}
	return -1;
}

/* SIGTERM and wait; returns the exit status (or -1 if killed/timed out). */
static inline int
it_stop(struct server *s, double *seconds)
{
	double t0 = it_now();
	int status;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	while (waitpid(s->pid, &status, WNOHANG) == 0) {
		if (it_now() - t0 > 5) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			it_track(0, s->pid);
			s->pid = 0;
			return -1;
		}
		usleep(5000);
	}
	it_track(0, s->pid);
	if (seconds)
		*seconds = it_now() - t0;
	s->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A connected socket to the server on 127.0.0.1, or -1. */
static inline int
it_dial(int port)
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

/* Read one whole reply with a Content-Length (at most 8 KiB) from fd,
 * waiting at most 5 s for each piece.  Returns 0 or -1. */
static inline int
it_read_reply(int fd)
{
	char buf[8192], *h, *end;
	size_t len = 0;
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0 || len >= sizeof(buf) - 1)
			return -1;
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		if ((h = strstr(buf, "Content-Length: ")) == NULL)
			return -1;
		if (len >= (size_t)(end + 4 - buf) + strtoul(h + 16, NULL, 10))
			return 0;
	}
}

/* An integer of GET /health, or -1 when it did not answer 200. */
static inline long long
it_health_int(const struct server *s, const char *key)
{
	struct reply r;
	long long v = -1;

	if (it_http(s->port, "GET", "/health", NULL, &r) == 0 && r.status == 200)
		v = json_integer_value(json_object_get(r.json, key));
	it_reply_free(&r);
	return v;
}

/*
 * The kernel keeps the count of samples it could not write in the ring and
 * reports it (PERF_RECORD_LOST) only with the next sample on that CPU.  So
 * after a storm, write a few events on every CPU to flush those counts.
 */
static inline void
it_flush_lost(void)
{
	long cpu, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (cpu = 0; cpu < ncpu; cpu++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct sockaddr_in a = { .sin_family = AF_INET,
			    .sin_port = htons(9) };
			cpu_set_t set;
			int i, fd = socket(AF_INET, SOCK_DGRAM, 0);

			CPU_ZERO(&set);
			CPU_SET((int)cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
			prctl(PR_SET_NAME, "itest-flush");
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			for (i = 0; i < 8; i++)
				connect(fd, (void *)&a, sizeof(a));
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
}

/* The reader flushes every CPU's batch this often (loader/batch.c's
 * FLUSH_MS); an event waits at most about that long in a batch. */
#define IT_FLUSH_MS 200
/* How long it_settle() waits at most: a reader behind by a storm's worth
 * of rings catches up in well under a second, even on a loaded machine. */
#define IT_SETTLE_S 10
/* Events of other processes a shared host may make while we wait. */
#define IT_SETTLE_NOISE 50

/*
 * Until the server has taken in everything made so far: the kernel's
 * pending loss counts flushed (it_flush_lost()), then GET /health until
 * events_lost has not moved and events_seen has grown by at most
 * IT_SETTLE_NOISE over two flush periods, for at most secs.  Returns 0,
 * or -1 with a message on stderr when the counts still moved at the
 * deadline (the caller fails: the counts it reads next are not final).
 */
static inline int
it_settle(const struct server *s, double secs)
{
	double t0, since;
	long long seen = -1, lost = -1, sn, ln;

	it_flush_lost();
	for (t0 = since = it_now();; usleep(50000)) {
		sn = it_health_int(s, "events_seen");
		ln = it_health_int(s, "events_lost");
		if (sn < 0 || ln < 0 || seen < 0 || ln != lost || sn < seen ||
		    sn - seen > IT_SETTLE_NOISE) {
			if (it_now() - t0 > secs) {
				fprintf(stderr, "itest: /health still moving after "
				    "%.0f s: events_seen %lld (was %lld %.1f s "
				    "before), events_lost %lld (was %lld)\n", secs,
				    sn, seen, it_now() - since, ln, lost);
				return -1;
			}
			seen = sn;
			lost = ln;
			since = it_now();
		} else if (it_now() - since >= 2 * IT_FLUSH_MS / 1000.0) {
			return 0;
		}
	}
}

#endif
