/*
 * GET and POST /api/list-connections, streamed: the store's iterator
 * copies a few events at a time under its lock, the one event encoder
 * writes them into a small buffer, and that goes into the worker's fixed
 * reply buffer (out.c), which leaves in chunks when the list outgrows it.
 * A reply never holds more than that buffer, and the store's lock is never
 * held while a client reads.  Compact and indented (?pretty=1) lists are
 * the same bytes jansson would dump (the fixtures in test_replies hold
 * them).
 *
 * A GET whose answer fits in the buffer is remembered with the store's
 * count of events added: the same request before another event arrives is
 * answered from those bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "httpd/api.h"
#include "httpd/json.h"
#include "httpd/out.h"
#include "httpd/reply.h"
#include "httpd/request.h"
#include "util/cgroup.h"
#include "util/event.h"
#include "util/store.h"
#include "util/timefmt.h"

#define PIECE 64             /* events copied per lock */

/*
 * {"total_pids":N,"connections":{"<pid>":[event,...],...},"truncated":B,
 * "message":"..."}, newest first within each pid, pids ascending.  Returns
 * the status sent.
 */
static int
stream_list(struct mg_connection *conn, const struct api_state *st,
    const struct store_query *sq, int pretty, const char *key,
    uint64_t version)
{
	struct event ev[PIECE];
	struct store_iter it;
	struct jbuf *b;
	struct out o;
	char cg[1024], msg[128], num[16];
	size_t n, i, nev = 0, ngroups = 0, inpid;
	int d = pretty ? 0 : -1, rc;
	uint32_t pid;

	if ((rc = store_iter_begin(st->store, sq, &it)) < 0) {
		store_iter_end(&it);
		if (rc == -EBUSY)
			return api_reply_error(conn, 503, pretty, NULL, "%d lists "
			    "of more than %d processes are being sent already; "
			    "try again in a moment, or narrow the list with pid, "
			    "command or a filter", STORE_BIG_LISTS,
			    STORE_SMALL_LIST);
		return api_reply(conn, 500, NULL, pretty, NULL);
	}
	if (out_begin(&o, conn, 200, "application/json") < 0) {
		store_iter_end(&it);
		return api_reply(conn, 500, NULL, pretty, NULL);
	}
	b = &o.b;
	jbuf_key(b, "total_pids", 1, d);
	jbuf_int(b, (long long)it.npids);
	jbuf_key(b, "connections", 0, d);
	while (store_iter_group(&it, &pid) && !out_failed(&o)) {
		snprintf(num, sizeof(num), "%u", pid);
		jbuf_key(b, num, ngroups == 0, pretty ? 1 : -1);
		jbuf_raw(b, "[", 1);
		inpid = 0;
		while ((n = store_iter_events(st->store, &it, ev, PIECE)) > 0) {
			for (i = 0; i < n; i++, inpid++) {
				jbuf_sep(b, inpid == 0, pretty ? 3 : -1);
				jbuf_event(b, &ev[i], cg, cg_path(st->cg,
				    ev[i].cgroup_id, cg, sizeof(cg)), pretty ? 3 : -1);
			}
		}
		jbuf_close(b, ']', inpid == 0, pretty ? 2 : -1);
		nev += inpid;
		ngroups++;
	}
	if (ngroups == 0)
		jbuf_raw(b, "{", 1);
	jbuf_close(b, '}', ngroups == 0, pretty ? 1 : -1);
	snprintf(msg, sizeof(msg), "Found %zu connection %s from %zu %s", nev,
	    api_plural(nev, "event", "events"), ngroups,
	    api_plural(ngroups, "process", "processes"));
	jbuf_key(b, "truncated", 0, d);
	jbuf_str(b, it.truncated ? "true" : "false");
	jbuf_key(b, "message", 0, d);
	jbuf_json_str(b, msg, strlen(msg));
	jbuf_close(b, '}', 0, d);
	jbuf_raw(b, "\n", 1);
	store_iter_end(&it);
	return out_end(&o, key, version);
}

/* The cache's key of a GET: its query string, when nothing in it depends
 * on the clock.  Returns key, or NULL for a request not to cache. */
static const char *
cache_key(const struct mg_request_info *ri, const struct req_list *q,
    char *key, size_t n)
{
	const char *qs = ri->query_string ? ri->query_string : "";

	if (q->filter.has_since && q->filter.since_relative)
		return NULL; /* "the last N seconds" moves */
	if ((size_t)snprintf(key, n, "%s %s?%s", ri->request_method,
	    ri->local_uri ? ri->local_uri : "", qs) >= n)
		return NULL;
	return key;
}

int
api_list(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	struct store_query sq;
	struct store_filter f;
	struct req_list q;
	char err[REQ_ERR_MAX], kbuf[512], *body;
	const char *key = NULL;
	uint64_t version = 0;
	size_t len;
	int pretty, rc = 0;

	if ((rc = api_check_route(conn, ri, "/api/list-connections",
	    "GET, POST")) != 0)
		return rc;
	if (strcmp(ri->request_method, "GET") == 0) {
		/* The filters are in the query string. */
		if (req_parse_list_query(ri->query_string, &q, &pretty, err,
		    sizeof(err)) < 0)
			return api_reply_error(conn, 400,
			    req_want_pretty(ri->query_string), NULL, "%s", err);
		/* Read the version first: an event that arrives meanwhile
		 * makes the next request miss, never serve stale bytes. */
		version = store_added(st->store);
		if ((key = cache_key(ri, &q, kbuf, sizeof(kbuf))) &&
		    (rc = out_cached(conn, key, version)) != 0)
			return rc;
	} else {
		/* POST: the filters are in the body; the query may only ask for
		 * pretty output, so that a filter is never silently ignored. */
		if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
			return api_reply_error(conn, 400, pretty, NULL, "%s (POST takes "
			    "its filters in the JSON body)", err);
		if ((rc = api_read_body(conn, ri,
		    st->max_body, st->timeout_ms, pretty, &body, &len)) != 0)
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
	return stream_list(conn, st, &sq, pretty, key, version);
}

void
api_thread_exit(void)
{
	out_thread_exit();
}
