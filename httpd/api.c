/*
 * The REST API's counting resources: connection-summary and top, one
 * handler each, as in civetweb's examples/rest.  Handlers run
 * concurrently on civetweb's worker threads, so each builds its own json_t
 * from data the store copied out under its lock, and frees it before
 * returning; nothing mutable is shared between requests.  The list is in
 * list.c, the stream in stream.c, what the server says about itself in
 * meta.c, and what they all share in reply.c.
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
#include "httpd/json.h"
#include "httpd/reply.h"
#include "httpd/request.h"
#include "util/event.h"
#include "util/store.h"
#include "util/timefmt.h"

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
	char err[REQ_ERR_MAX], msg[320], who[64], dg[64], bound[96], *body;
	size_t len;
	uint64_t total, now;
	json_t *o;
	int pretty, exact, rc = 0;

	if ((rc = api_check_route(conn, ri, "/api/connection-summary", "POST")) != 0)
		return rc;
	if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	if ((rc = api_read_body(conn, ri, st->max_body,
	    st->timeout_ms, pretty, &body, &len)) != 0)
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
		    api_plural(c.datagrams, "datagram", "datagrams"));
	/* The counters keep the heaviest pids and commands of each second:
	 * past that, a count is a lower bound and the reply says by how
	 * much it may be short. */
	bound[0] = '\0';
	if (c.error) {
		exact = 0;
		snprintf(bound, sizeof(bound), " (more distinct processes "
		    "than counted per second: up to %" PRIu64 " more)", c.error);
	}
	snprintf(msg, sizeof(msg), "Found %" PRIu64 " %s from %s over %u "
	    "%s%s%s%s", total, f.has_syscall && f.syscall != EV_CONNECT ?
	    api_plural(total, "datagram", "datagrams") :
	    api_plural(total, "connection attempt", "connection attempts"), who,
	    q.duration, api_plural(q.duration, "second", "seconds"), dg,
	    exact || c.error ? "" : " (older events were evicted: at least "
	    "this many)", bound);
	if (!(o = json_object()))
		return api_reply(conn, 500, NULL, pretty, NULL);
	rc |= json_set(o, "total_attempts", json_integer((json_int_t)total));
	rc |= json_set(o, "datagrams", json_integer((json_int_t)c.datagrams));
	rc |= json_set(o, "pid", json_integer(q.has_pid ? q.pid : 0));
	/* Valid UTF-8 already: it came out of jansson's parser. */
	rc |= json_set(o, "command", json_string(q.command));
	rc |= json_set(o, "duration", json_integer(q.duration));
	rc |= json_set(o, "exact", json_boolean(exact));
	rc |= json_set(o, "error_bound", json_integer((json_int_t)c.error));
	rc |= json_set(o, "message", json_str_new(msg, strlen(msg)));
	return api_reply_built(conn, o, rc, pretty);
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

	if ((rc = api_check_route(conn, ri, "/api/top", "GET")) != 0)
		return rc;
	if (req_parse_top_query(ri->query_string, &q, &pretty, err,
	    sizeof(err)) < 0)
		return api_reply_error(conn, 400, req_want_pretty(ri->query_string),
		    NULL, "%s", err);
	now = time_now_ns();
	api_store_filter(&q.filter, now, &f);
	if (store_top(st->store, (enum store_top_by)q.by, q.command[0] ?
	    q.command : NULL, &f, now, q.duration, q.limit, &t) < 0)
		return api_reply(conn, 500, NULL, pretty, NULL);
	if (!(o = json_object()) || !(arr = json_array())) {
		json_decref(o);
		store_top_free(&t);
		return api_reply(conn, 500, NULL, pretty, NULL);
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
		rc |= json_set(row, "error", json_integer((json_int_t)t.rows[i].error));
		if (json_array_append_new(arr, row) < 0)
			rc = -ENOMEM;
	}
	rc |= json_set(o, "by", json_string(names[q.by]));
	rc |= json_set(o, "duration", json_integer(q.duration));
	rc |= json_set(o, "total", json_integer((json_int_t)t.total));
	rc |= json_set(o, "keys", json_integer((json_int_t)t.keys));
	rc |= json_set(o, "exact", json_boolean(t.exact));
	rc |= json_set(o, "error_bound", json_integer((json_int_t)t.error));
	rc |= json_set(o, "top", arr);
	store_top_free(&t);
	return api_reply_built(conn, o, rc, pretty);
}

void
api_store_filter(const struct req_filter *rf, uint64_t now_ns,
    struct store_filter *f)
{
	uint64_t ago;

	*f = rf->f;
	if (!rf->has_since || !rf->since_relative)
		return;
	ago = rf->since_ago * 1000000000ULL;
	/* since=0 is "from now on": nothing stored yet qualifies. */
	f->since_ns = now_ns > ago ? now_ns - ago : 1;
}
