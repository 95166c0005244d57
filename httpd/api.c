/*
 * The REST API: one handler per resource, as in civetweb's examples/rest.
 * Handlers run concurrently on civetweb's worker threads, so each builds
 * its own json_t from data the store copied out under its lock, and frees
 * it before returning; nothing mutable is shared between requests.
 *
 * Checks run in the order a client would fix them: path (404), method
 * (405), query string, body size (413), body (400).  Parsing and
 * validation live in request.c; this file does the I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "httpd/api.h"
#include "httpd/http.h"
#include "httpd/json.h"
#include "httpd/metrics.h"
#include "httpd/request.h"
#include "httpd/stream.h"
#include "util/cgroup.h"
#include "util/event.h"
#include "util/log.h"
#include "util/store.h"
#include "util/timefmt.h"

/*
 * Debian's civetweb (its webdav-uploads patch) can make a handler close the
 * connection; upstream 1.15 cannot.  After a 413 we want to close rather
 * than let civetweb read and discard up to a gigabyte of body for the sake
 * of keep-alive.  Weak, so that we still link against an upstream
 * civetweb, where the pointer is NULL and civetweb drains the body.
 */
void mg_disable_keep_alive(struct mg_connection *conn) __attribute__((weak));

static void
close_after_reply(struct mg_connection *conn)
{
	if (mg_disable_keep_alive)
		mg_disable_keep_alive(conn);
}

/*
 * Send a complete response.  Returns 0, or -1 when civetweb refuses to
 * start one (outside a request, or after something was sent).
 */
static int
send_body(struct mg_connection *conn, int status, const char *body,
    size_t len, const char *hname, const char *hvalue)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char clen[24];

	if (mg_response_header_start(conn, status) < 0)
		return -1;
	snprintf(clen, sizeof(clen), "%zu", len);
	mg_response_header_add(conn, "Content-Type", "application/json", -1);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	if (hname)
		mg_response_header_add(conn, hname, hvalue, -1);
	mg_response_header_send(conn);
	/* A response to HEAD has the headers of the GET but no body. */
	if (!ri || !ri->request_method || strcmp(ri->request_method, "HEAD") != 0)
		mg_write(conn, body, len);
	return 0;
}

/*
 * Send v (consumed) as the response.  allow, when not NULL, is the Allow
 * header of a 405.  If the body cannot be built we still answer, with a
 * fixed 500, because a client waiting on a silent socket learns nothing.
 * Returns the status sent, or -1 (see send_body()).
 */
static int
reply(struct mg_connection *conn, int status, json_t *v, int pretty,
    const char *allow)
{
	static const char oom[] = "{\"error\":\"Internal Server Error\","
	    "\"message\":\"out of memory\"}\n";
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (v)
		body = json_body(v, pretty, &len);
	json_decref(v);
	if (!body) {
		log_debug("api: out of memory building a %d response", status);
		rc = send_body(conn, 500, oom, sizeof(oom) - 1, NULL, NULL);
		return rc < 0 ? rc : 500;
	}
	rc = send_body(conn, status, body, len, allow ? "Allow" : NULL, allow);
	free(body);
	return rc < 0 ? rc : status;
}

/* 200 with o, built by a run of json_set() calls that or'ed their results
 * into rc: a failed one means out of memory, and a 500 instead. */
static int
reply_built(struct mg_connection *conn, json_t *o, int rc, int pretty)
{
	if (rc < 0) {
		json_decref(o);
		o = NULL;
	}
	return reply(conn, 200, o, pretty, NULL);
}

/* {"error": "<status text>", "message": "..."} with a printf-style
 * message (api.h). */
int
api_reply_error(struct mg_connection *conn, int status, int pretty,
    const char *allow, const char *fmt, ...)
{
	char msg[REQ_ERR_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply(conn, status, json_error_new(status, msg), pretty, allow);
}

json_t *
api_event_json(const struct api_state *st, const struct event *ev)
{
	char cg[1024];
	size_t n;
	json_t *o;

	if (!(o = json_event_new(ev)))
		return NULL;
	n = cg_path(st->cg, ev->cgroup_id, cg, sizeof(cg));
	if (json_set(o, "cgroup", json_str_new(cg, n)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void
api_store_filter(const struct req_filter *rf, uint64_t now_ns,
    struct store_filter *f)
{
	uint64_t ago;

	memset(f, 0, sizeof(*f));
	f->has_port = rf->has_port;
	f->port = rf->port;
	f->has_ip = rf->has_ip;
	f->ip_family = rf->ip_family;
	memcpy(f->ip, rf->ip, sizeof(f->ip));
	f->prefix = rf->prefix;
	f->has_protocol = rf->has_protocol;
	f->protocol = rf->protocol;
	f->has_family = rf->has_family;
	f->family = rf->family;
	f->has_failed = rf->has_failed;
	f->failed = rf->failed;
	f->has_syscall = rf->has_syscall;
	f->syscall = rf->syscall;
	if (!rf->has_since)
		return;
	if (!rf->since_relative) {
		f->since_ns = rf->since_ns;
		return;
	}
	ago = rf->since_ago * 1000000000ULL;
	/* since=0 is "from now on": nothing stored yet qualifies. */
	f->since_ns = now_ns > ago ? now_ns - ago : 1;
}

/* The decoded path without the query string, "" if civetweb has none
 * (absolute-form requests, which it refuses anyway). */
static const char *
path_of(const struct mg_request_info *ri)
{
	if (ri->local_uri)
		return ri->local_uri;
	return ri->request_uri ? ri->request_uri : "";
}

/* Whether method is one of allow ("GET, POST"). */
static int
method_allowed(const char *method, const char *allow)
{
	size_t n = strlen(method);
	const char *p;

	for (p = allow; (p = strstr(p, method)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * What every endpoint checks first.  civetweb hands "/health/x" to the
 * handler of "/health" too, so the path is compared exactly here.  Returns
 * 0 to go on, or the status of the error already sent.
 */
static int
check_route(struct mg_connection *conn, const struct mg_request_info *ri,
    const char *path, const char *allow)
{
	int pretty = req_want_pretty(ri->query_string);

	if (strcmp(path_of(ri), path) != 0)
		return api_reply_error(conn, 404, pretty, NULL, "not found: %s",
		    path_of(ri));
	if (!method_allowed(ri->request_method, allow))
		return api_reply_error(conn, 405, pretty, allow, "method %s not "
		    "allowed on %s (allowed: %s)", ri->request_method, path, allow);
	return 0;
}

int
api_reply_built(struct mg_connection *conn, json_t *o, int rc, int pretty)
{
	return reply_built(conn, o, rc, pretty);
}

int
api_send_json(struct mg_connection *conn, int status, const char *body,
    size_t len)
{
	int rc = send_body(conn, status, body, len, NULL, NULL);

	return rc < 0 ? rc : status;
}

int
api_check_route(struct mg_connection *conn, const struct mg_request_info *ri,
    const char *path, const char *allow)
{
	return check_route(conn, ri, path, allow);
}

/* "1 process", "2 processes": the noun in the number it counts. */
static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/*
 * Read the whole request body into a malloc'd, NUL-terminated buffer.
 * Content-Length is checked before reading anything, and reading stops one
 * byte past the limit, so that chunked bodies without a length are capped
 * too.  The whole body must arrive within the request time-out: civetweb
 * starts its time-out afresh on every mg_read(), so a client sending a
 * byte a second would otherwise hold a worker for as long as it likes.
 * Returns 0 with *out to free(), or the status of the error sent.
 */
static int
read_body(struct mg_connection *conn, const struct mg_request_info *ri,
    const struct api_state *st, int pretty, char **out, size_t *outlen)
{
	size_t max = st->max_body ? st->max_body : REQ_BODY_MAX;
	uint64_t deadline = time_mono_ns() + (uint64_t)(st->timeout_ms ?
	    st->timeout_ms : 10000) * 1000000u;
	long long want = ri->content_length;
	size_t cap, len = 0;
	char *buf;
	int n = 0;

	*out = NULL;
	if (want > (long long)max) {
		close_after_reply(conn);
		return api_reply_error(conn, 413, pretty, NULL, "request body is %lld "
		    "bytes, the limit is %zu", want, max);
	}
	cap = want >= 0 ? (size_t)want : max + 1;
	if (!(buf = malloc(cap + 1)))
		return reply(conn, 500, NULL, pretty, NULL);
	while (len < cap && (n = mg_read(conn, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len < cap && time_mono_ns() > deadline) {
			free(buf);
			close_after_reply(conn);
			return api_reply_error(conn, 408, pretty, NULL, "request body "
			    "not received within the time-out (%zu %s so far)",
			    len, plural(len, "byte", "bytes"));
		}
	}
	if (len > max) {
		free(buf);
		close_after_reply(conn);
		return api_reply_error(conn, 413, pretty, NULL, "request body is larger "
		    "than %zu bytes", max);
	}
	if (n < 0 || (want >= 0 && len < (size_t)want)) {
		free(buf);
		close_after_reply(conn);
		return api_reply_error(conn, 400, pretty, NULL, "request body ended "
		    "after %zu %s, before its Content-Length", len,
		    plural(len, "byte", "bytes"));
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/*
 * POST /api/connection-summary.  The response always has both "pid" and
 * "command", the one not filtered on being 0 or "": a fixed set of keys
 * is simpler for typed clients than keys that come and go, and neither 0
 * nor "" can be a real filter (both are refused on input).
 *
 * total_attempts counts connect() attempts, as in the original server;
 * datagrams (sendto/sendmsg, with their folded counts) are reported
 * apart, and added into total_attempts only when the syscall filter asks
 * for them, since then they are what the client counts.
 */
int
api_summary(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	struct store_counts c;
	struct req_summary q;
	struct store_filter f;
	char err[REQ_ERR_MAX], msg[256], who[64], dg[64], *body;
	size_t len;
	uint64_t total, now;
	json_t *o;
	int pretty, exact, rc = 0;

	if ((rc = check_route(conn, ri, "/api/connection-summary", "POST")) != 0)
		return rc;
	if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	if ((rc = read_body(conn, ri, st, pretty, &body, &len)) != 0)
		return rc;
	rc = req_parse_summary(body, len, &q, err, sizeof(err));
	free(body);
	if (rc < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);

	now = time_now_ns();
	api_store_filter(&q.filter, now, &f);
	store_count_filter(st->store, q.has_pid, q.pid,
	    q.has_pid || !q.command[0] ? NULL : q.command, &f, now, q.duration,
	    &c, &exact);
	total = c.connects;
	if (f.has_syscall && f.syscall != EV_CONNECT)
		total += c.datagrams;
	if (q.has_pid)
		snprintf(who, sizeof(who), "PID %" PRIu32, q.pid);
	else if (q.command[0])
		snprintf(who, sizeof(who), "command \"%s\"", q.command);
	else
		snprintf(who, sizeof(who), "all processes");
	dg[0] = '\0';
	if (c.datagrams && total == c.connects)
		snprintf(dg, sizeof(dg), " (and %" PRIu64 " %s)", c.datagrams,
		    plural(c.datagrams, "datagram", "datagrams"));
	snprintf(msg, sizeof(msg), "Found %" PRIu64 " %s from %s over %u "
	    "%s%s%s", total, f.has_syscall && f.syscall != EV_CONNECT ?
	    plural(total, "datagram", "datagrams") :
	    plural(total, "connection attempt", "connection attempts"), who,
	    q.duration, plural(q.duration, "second", "seconds"), dg,
	    exact ? "" : " (older events were evicted: at least this many)");
	if (!(o = json_object()))
		return reply(conn, 500, NULL, pretty, NULL);
	rc |= json_set(o, "total_attempts", json_integer((json_int_t)total));
	rc |= json_set(o, "datagrams", json_integer((json_int_t)c.datagrams));
	rc |= json_set(o, "pid", json_integer(q.has_pid ? q.pid : 0));
	/* Valid UTF-8 already: it came out of jansson's parser. */
	rc |= json_set(o, "command", json_string(q.command));
	rc |= json_set(o, "duration", json_integer(q.duration));
	rc |= json_set(o, "exact", json_boolean(exact));
	rc |= json_set(o, "message", json_str_new(msg, strlen(msg)));
	return reply_built(conn, o, rc, pretty);
}

/* {"<pid>": [event, ...], ...} from what the store copied out.  Adds the
 * number of events to *nev.  New reference, NULL when out of memory. */
static json_t *
groups_json(const struct api_state *st, const struct store_list *l,
    size_t *nev)
{
	const struct store_group *g;
	json_t *conns, *arr;
	char key[16];
	size_t i, j;

	if (!(conns = json_object()))
		return NULL;
	for (i = 0; i < l->ngroups; i++) {
		g = &l->groups[i];
		if (!(arr = json_array()))
			goto fail;
		for (j = 0; j < g->n; j++)
			if (json_array_append_new(arr, api_event_json(st, &g->ev[j])) < 0)
				break;
		snprintf(key, sizeof(key), "%" PRIu32, g->pid);
		if (j < g->n) {
			json_decref(arr);
			goto fail;
		}
		if (json_set(conns, key, arr) < 0)
			goto fail;
		*nev += g->n;
	}
	return conns;
fail:
	json_decref(conns);
	return NULL;
}

/*
 * Each worker keeps its list response buffer between requests.  Freed,
 * a block of that size goes back to the kernel at once with musl, and the
 * munmap()'s TLB shootdown across CPUs cost more than encoding the whole
 * response (a third of the CPU time of list-connections, measured with
 * perf).  Buffers above TL_KEEP are not kept; api_thread_exit() frees it.
 */
#define TL_KEEP (1 << 20)
static __thread char *tl_buf;
static __thread size_t tl_cap;

static void
keep_buffer(char *p, size_t cap)
{
	if (cap > TL_KEEP) {
		free(p);
		p = NULL;
		cap = 0;
	}
	tl_buf = p;
	tl_cap = cap;
}

void
api_thread_exit(void)
{
	free(tl_buf);
	tl_buf = NULL;
	tl_cap = 0;
}

/*
 * The compact list response, written straight into one buffer: the same
 * bytes as the jansson path below (the unit tests compare the event
 * encoders; the integration tests parse both),
 * at a fraction of the cost.  Consumes l.  Returns the status sent.
 */
static int
list_compact(struct mg_connection *conn, const struct api_state *st,
    struct store_list *l)
{
	struct jbuf b = { 0 };
	char msg[128], cg[1024];
	size_t i, j, nev = 0;
	int rc = 0;

	for (i = 0; i < l->ngroups; i++)
		nev += l->groups[i].n;
	/* About 400 bytes an event: at most one allocation, and none once
	 * this worker has answered a list of that size before. */
	b.p = tl_buf;
	b.cap = tl_cap;
	if (b.cap < 256 + nev * 448) {
		char *p = realloc(b.p, 256 + nev * 448);

		if (p) {
			b.p = p;
			b.cap = 256 + nev * 448;
		}
	}
	jbuf_str(&b, "{\"total_pids\":");
	jbuf_int(&b, (long long)l->ngroups);
	jbuf_str(&b, ",\"connections\":{");
	for (i = 0; i < l->ngroups; i++) {
		const struct store_group *g = &l->groups[i];

		jbuf_str(&b, i ? ",\"" : "\"");
		jbuf_int(&b, g->pid);
		jbuf_str(&b, "\":[");
		for (j = 0; j < g->n; j++) {
			if (j)
				jbuf_raw(&b, ",", 1);
			/* As api_event_json(): the event, then its cgroup. */
			jbuf_event_open(&b, &g->ev[j]);
			jbuf_str(&b, ",\"cgroup\":");
			jbuf_json_str(&b, cg, cg_path(st->cg, g->ev[j].cgroup_id,
			    cg, sizeof(cg)));
			jbuf_raw(&b, "}", 1);
		}
		jbuf_raw(&b, "]", 1);
	}
	snprintf(msg, sizeof(msg), "Found %zu connection %s from %zu %s", nev,
	    plural(nev, "event", "events"), l->ngroups,
	    plural(l->ngroups, "process", "processes"));
	jbuf_str(&b, "},\"truncated\":");
	jbuf_str(&b, l->truncated ? "true" : "false");
	jbuf_str(&b, ",\"message\":");
	jbuf_json_str(&b, msg, strlen(msg));
	jbuf_str(&b, "}\n");
	store_list_free(l);
	if (!b.err)
		rc = send_body(conn, 200, b.p, b.len, NULL, NULL);
	keep_buffer(b.p, b.cap);
	if (b.err)
		return reply(conn, 500, NULL, 0, NULL);
	return rc < 0 ? rc : 200;
}

/* GET and POST /api/list-connections. */
int
api_list(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	struct store_query sq;
	struct store_filter f;
	struct store_list l;
	struct req_list q;
	char err[REQ_ERR_MAX], msg[128], *body;
	size_t len, nev = 0;
	json_t *o, *conns;
	int pretty, rc = 0;

	if ((rc = check_route(conn, ri, "/api/list-connections", "GET, POST")) != 0)
		return rc;
	if (strcmp(ri->request_method, "GET") == 0) {
		/* The filters are in the query string. */
		if (req_parse_list_query(ri->query_string, &q, &pretty, err,
		    sizeof(err)) < 0)
			return api_reply_error(conn, 400, req_want_pretty(ri->query_string),
			    NULL, "%s", err);
	} else {
		/* POST: the filters are in the body; the query may only ask for
		 * pretty output, so that a filter is never silently ignored. */
		if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
			return api_reply_error(conn, 400, pretty, NULL, "%s (POST takes "
			    "its filters in the JSON body)", err);
		if ((rc = read_body(conn, ri, st, pretty, &body, &len)) != 0)
			return rc;
		rc = req_parse_list_body(body, len, &q, err, sizeof(err));
		free(body);
		if (rc < 0)
			return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	}

	memset(&sq, 0, sizeof(sq));
	sq.has_pid = q.has_pid;
	sq.pid = q.pid;
	sq.command = q.command[0] ? q.command : NULL;
	sq.limit = q.limit;
	api_store_filter(&q.filter, time_now_ns(), &f);
	sq.filter = &f;
	if (store_list(st->store, &sq, &l) < 0)
		return reply(conn, 500, NULL, pretty, NULL);
	if (!pretty)
		return list_compact(conn, st, &l);
	conns = groups_json(st, &l, &nev);
	if (!conns || !(o = json_object())) {
		json_decref(conns);
		store_list_free(&l);
		return reply(conn, 500, NULL, pretty, NULL);
	}
	snprintf(msg, sizeof(msg), "Found %zu connection %s from %zu %s", nev,
	    plural(nev, "event", "events"), l.ngroups,
	    plural(l.ngroups, "process", "processes"));
	rc |= json_set(o, "total_pids", json_integer((json_int_t)l.ngroups));
	rc |= json_set(o, "connections", conns);
	rc |= json_set(o, "truncated", json_boolean(l.truncated));
	rc |= json_set(o, "message", json_str_new(msg, strlen(msg)));
	store_list_free(&l);
	return reply_built(conn, o, rc, pretty);
}

/* GET /api/top: the heaviest keys in the window, heaviest first. */
int
api_top(struct mg_connection *conn, void *cbdata)
{
	static const char *const names[] = { "command", "destination", "port" };
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	struct store_filter f;
	struct store_top t;
	struct req_top q;
	char err[REQ_ERR_MAX], dst[EV_PATH_MAX + 64];
	const struct event *ev;
	uint64_t now;
	json_t *o, *arr, *row;
	size_t i;
	int pretty, rc = 0;

	if ((rc = check_route(conn, ri, "/api/top", "GET")) != 0)
		return rc;
	if (req_parse_top_query(ri->query_string, &q, &pretty, err,
	    sizeof(err)) < 0)
		return api_reply_error(conn, 400, req_want_pretty(ri->query_string),
		    NULL, "%s", err);
	now = time_now_ns();
	api_store_filter(&q.filter, now, &f);
	if (store_top(st->store, (enum store_top_by)q.by, q.command[0] ?
	    q.command : NULL, &f, now, q.duration, q.limit, &t) < 0)
		return reply(conn, 500, NULL, pretty, NULL);
	if (!(o = json_object()) || !(arr = json_array())) {
		json_decref(o);
		store_top_free(&t);
		return reply(conn, 500, NULL, pretty, NULL);
	}
	for (i = 0; i < t.n && rc == 0; i++) {
		ev = t.rows[i].ev;
		if (!(row = json_object())) {
			rc = -ENOMEM;
			break;
		}
		switch (q.by) {
		case REQ_TOP_COMMAND:
			rc |= json_set(row, "command", json_str_new(ev->comm,
			    strnlen(ev->comm, sizeof(ev->comm))));
			break;
		case REQ_TOP_DESTINATION:
			ev_destination(ev, dst, sizeof(dst));
			rc |= json_set(row, "destination", json_str_new(dst,
			    strlen(dst)));
			rc |= json_set(row, "address_family",
			    json_integer(ev->family));
			break;
		case REQ_TOP_PORT:
			rc |= json_set(row, "port", json_integer(ev->port));
			rc |= json_set(row, "service", json_string(ev_service(ev)));
			break;
		}
		rc |= json_set(row, "count", json_integer((json_int_t)t.rows[i].count));
		rc |= json_set(row, "events", json_integer((json_int_t)t.rows[i].events));
		if (json_array_append_new(arr, row) < 0)
			rc = -ENOMEM;
	}
	rc |= json_set(o, "by", json_string(names[q.by]));
	rc |= json_set(o, "duration", json_integer(q.duration));
	rc |= json_set(o, "total", json_integer((json_int_t)t.total));
	rc |= json_set(o, "keys", json_integer((json_int_t)t.keys));
	rc |= json_set(o, "top", arr);
	store_top_free(&t);
	return reply_built(conn, o, rc, pretty);
}

/* GET /metrics: the Prometheus text format, version 0.0.4. */
int
api_metrics(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	struct metrics_extra x = { 0 };
	struct store_stats ss;
	char err[REQ_ERR_MAX], clen[24];
	size_t len;
	char *body;
	int pretty, rc;

	if ((rc = check_route(conn, ri, "/metrics", "GET")) != 0)
		return rc;
	if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	store_stats(st->store, &ss);
	if (st->hub)
		hub_stats(st->hub, &x.stream_clients, &x.stream_dropped);
	if (!st->metrics || !(body = metrics_render(st->metrics, &ss, &x, &len)))
		return reply(conn, 500, NULL, pretty, NULL);
	if (mg_response_header_start(conn, 200) < 0) {
		free(body);
		return -1;
	}
	snprintf(clen, sizeof(clen), "%zu", len);
	mg_response_header_add(conn, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8", -1);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	mg_response_header_send(conn);
	if (strcmp(ri->request_method, "HEAD") != 0)
		mg_write(conn, body, len);
	free(body);
	return 200;
}

int
api_http_error(struct mg_connection *conn, int status, const char *msg)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	int pretty = ri ? req_want_pretty(ri->query_string) : 0;

	log_debug("civetweb: %d %s", status, msg ? msg : "");
	/* civetweb's own error page closes the connection after a bad
	 * request; so do we, the stream may be out of step. */
	close_after_reply(conn);
	if (reply(conn, status, json_error_new(status, msg && *msg ? msg :
	    json_status_text(status)), pretty, NULL) < 0)
		return 1;
	return 0;
}

int
api_authorize(struct mg_connection *conn, const char *token)
{
	static const char challenge[] = "Bearer realm=\"ebpf-server\"";
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *auth;
	char *body;
	size_t len;
	json_t *e;

	/* Health checks of load balancers and orchestrators carry no
	 * secrets, and /health shows counters only. */
	if (!token || strcmp(path_of(ri), "/health") == 0)
		return 0;
	auth = mg_get_header(conn, "Authorization");
	if (auth && req_bearer_ok(auth, token))
		return 0;
	log_debug("api: 401 for %s %s: %s", ri->request_method, path_of(ri),
	    auth ? "wrong token" : "no Authorization header");
	e = json_error_new(401, auth ? "invalid bearer token" : "authorization "
	    "required: send \"Authorization: Bearer <token>\"");
	body = e ? json_body(e, req_want_pretty(ri->query_string), &len) : NULL;
	json_decref(e);
	if (!body)
		return reply(conn, 500, NULL, 0, NULL);
	/* The body of an unauthorised request is not read: do not try to
	 * find the next request in it. */
	close_after_reply(conn);
	send_body(conn, 401, body, len, "WWW-Authenticate", challenge);
	free(body);
	return 401;
}
