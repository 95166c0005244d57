/*
 * What the server says about itself: the root document (the original
 * server's, with our endpoints added), /health, the OpenAPI document of
 * the whole API, and its Prometheus metrics.  The resource handlers are in
 * api.c, list.c and stream.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <jansson.h>

#include "httpd/api.h"
#include "httpd/export.h"
#include "httpd/json.h"
#include "httpd/metrics.h"
#include "httpd/reply.h"
#include "httpd/request.h"
#include "httpd/stream.h"
#include "util/store.h"
#include "util/timefmt.h"

/* openapi_json[]: httpd/openapi.json, made a C array by the GNUmakefile. */
#include "openapi_json.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

/*
 * The root document: the original server's, with our endpoints added.  It
 * never changes, so it is built once, compact and indented, and every
 * GET / sends those bytes: clients poll it too, and building it as
 * jansson objects on every request held it to 16 k requests/s under wrk
 * -c16 here, against 75-105 k now.  Returns a new reference, or NULL
 * when out of memory.
 */
static json_t *
root_new(void)
{
	json_t *o, *ep;
	int rc = 0;

	if (!(o = json_object()) || !(ep = json_object())) {
		json_decref(o);
		return NULL;
	}
	/* The original server's three keys first, as it spells them, then
	 * ours. */
	rc |= json_set(ep, "POST /api/connection-summary", json_string("count "
	    "connect() attempts, and datagrams apart, over the last duration "
	    "seconds: {\"duration\":1-3600} with \"pid\" or \"command\" "
	    "(or \"process_name\") and any filter"));
	rc |= json_set(ep, "GET|POST /api/list-connections", json_string(
	    "recent events grouped by pid, newest first; pid, command, limit "
	    "(per pid, 1-1000, default 100) and any filter, in the query "
	    "string (GET) or a JSON body (POST)"));
	rc |= json_set(ep, "GET /health", json_string("health and event "
	    "counters"));
	rc |= json_set(ep, "GET /", json_string("this description"));
	rc |= json_set(ep, "GET /api/top", json_string("heaviest talkers: "
	    "by=command|destination|port, duration (default 60), limit "
	    "(default 10) and any filter"));
	rc |= json_set(ep, "GET /api/stream", json_string("events as they "
	    "happen, NDJSON (or SSE with Accept: text/event-stream); pid, "
	    "command and any filter"));
	rc |= json_set(ep, "GET /metrics", json_string("Prometheus metrics"));
	rc |= json_set(ep, "GET /openapi.json", json_string("the OpenAPI 3 "
	    "document of this API"));
	rc |= json_set(o, "service", json_string("eBPF Network Monitor"));
	rc |= json_set(o, "description", json_string("HTTP API for eBPF-based "
	    "network connection monitoring"));
	rc |= json_set(o, "version", json_string(VERSION));
	rc |= json_set(o, "endpoints", ep);
	rc |= json_set(o, "filters", json_string("port, ip (exact or CIDR), "
	    "protocol (tcp, udp, unix, ...), family (2, 10, 1 or AF_INET, "
	    "AF_INET6, AF_UNIX), failed (true/false), since (RFC 3339 or "
	    "seconds ago), syscall (connect, sendto, sendmsg)"));
	rc |= json_set(o, "documentation", json_string("/openapi.json"));
	if (rc < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The root document's bodies, compact ([0]) and indented ([1]), built by
 * the first GET / and kept until the process exits. */
static struct {
	char *p;
	size_t len;
} root_body[2];
static pthread_once_t root_once = PTHREAD_ONCE_INIT;

static void
root_build(void)
{
	json_t *o = root_new();
	int i;

	for (i = 0; o && i < 2; i++)
		root_body[i].p = json_body(o, i, &root_body[i].len);
	json_decref(o);
}

int
api_root(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char err[REQ_ERR_MAX];
	int pretty, rc = 0;

	(void)cbdata;
	/* The catch-all: everything without a handler of its own lands here. */
	if ((rc = api_check_route(conn, ri, "/", "GET")) != 0)
		return rc;
	if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	pthread_once(&root_once, root_build);
	if (!root_body[!!pretty].p)
		return api_reply(conn, 500, NULL, pretty, NULL);
	return api_send_json(conn, 200, root_body[!!pretty].p,
	    root_body[!!pretty].len);
}

/* "key": "v" at depth d, v sanitised and escaped. */
static void
member_str(struct jbuf *b, const char *key, const char *v, int first, int d)
{
	jbuf_key(b, key, first, d);
	jbuf_json_str(b, v, strlen(v));
}

static void
member_int(struct jbuf *b, const char *key, uint64_t v, int d)
{
	jbuf_key(b, key, 0, d);
	jbuf_int(b, (long long)v);
}

/* "key": [v[0], ...] of the first max strings of v, up to a NULL; one
 * level deep in the /health object. */
static void
member_strs(struct jbuf *b, const char *key, const char *const *v,
    size_t max, int pretty)
{
	size_t i;

	jbuf_key(b, key, 0, pretty ? 0 : -1);
	jbuf_raw(b, "[", 1);
	for (i = 0; i < max && v[i]; i++) {
		jbuf_sep(b, i == 0, pretty ? 2 : -1);
		jbuf_json_str(b, v[i], strlen(v[i]));
	}
	jbuf_close(b, ']', i == 0, pretty ? 1 : -1);
}

/* The body of /health into b, in the bytes jansson would dump
 * (tests/unit/test_replies.c holds them). */
static void
health_body(struct jbuf *b, const struct api_state *st,
    const struct store_stats *ss, uint64_t uptime, int pretty)
{
	struct export_stat es[EXPORT_SINKS];
	int d = pretty ? 0 : -1;
	size_t i, nexp = export_stats(st->exporter, es);

	member_str(b, "status", "healthy", 1, d);
	member_str(b, "service", "ebpf-server", 0, d);
	member_str(b, "version", VERSION, 0, d);
	member_int(b, "uptime_seconds", uptime, d);
	member_int(b, "events_seen", ss->added, d);
	member_int(b, "events_stored", ss->stored, d);
	member_int(b, "events_lost", ss->lost, d);
	member_int(b, "max_events", ss->capacity, d);
	member_str(b, "backend", st->backend ? st->backend : "", 0, d);
	member_strs(b, "exact_fields", st->exact_fields, NELEM(st->exact_fields),
	    pretty);
	member_strs(b, "not_seen", st->not_seen, NELEM(st->not_seen), pretty);
	jbuf_key(b, "batches", 0, d);
	jbuf_raw(b, st->batches ? "true" : "false", st->batches ? 4 : 5);
	jbuf_key(b, "refused", 0, d);
	jbuf_raw(b, "{", 1);
	for (i = 0; i < NELEM(st->refused_name) && st->refused_name[i]; i++) {
		jbuf_sep(b, i == 0, pretty ? 2 : -1);
		jbuf_json_str(b, st->refused_name[i], strlen(st->refused_name[i]));
		jbuf_raw(b, pretty ? ": " : ":", pretty ? 2 : 1);
		jbuf_json_str(b, st->refused_why[i], strlen(st->refused_why[i]));
	}
	jbuf_close(b, '}', i == 0, pretty ? 1 : -1);
	/* The fleet: this host's name, and what each sink gave up on. */
	if (st->exporter) {
		member_str(b, "host", export_host(st->exporter), 0, d);
		jbuf_key(b, "export_dropped", 0, d);
		if (nexp == 0)
			jbuf_raw(b, "{", 1);
		for (i = 0; i < nexp; i++) {
			jbuf_key(b, es[i].sink, i == 0, pretty ? 1 : -1);
			jbuf_int(b, (long long)es[i].dropped);
		}
		jbuf_close(b, '}', nexp == 0, pretty ? 1 : -1);
	}
	jbuf_close(b, '}', 0, d);
	jbuf_raw(b, "\n", 1);
}

/*
 * The calling worker's last /health body and what it was built from: it
 * changes only when a counter moves or the uptime passes a second, and a
 * keep-alive client polling it stays on one worker.  Sending these bytes
 * again instead of writing them anew was worth about 9% of the rate
 * under wrk -c16 here (medians of 12 interleaved rounds, noisy).
 */
static __thread struct {
	const struct api_state *st;
	uint64_t uptime, added, stored, lost, capacity, xdropped;
	int pretty, valid;
	size_t len;
	char body[1024];
} tl_health;

/* Whether the calling worker's last body is the one for these. */
static int
health_cached(const struct api_state *st, const struct store_stats *ss,
    uint64_t uptime, int pretty, uint64_t xdropped)
{
	return tl_health.valid && tl_health.st == st &&
	    tl_health.xdropped == xdropped &&
	    tl_health.pretty == pretty && tl_health.uptime == uptime &&
	    tl_health.added == ss->added && tl_health.stored == ss->stored &&
	    tl_health.lost == ss->lost && tl_health.capacity == ss->capacity;
}

/*
 * GET /health.  Written straight into the worker's tl_health, never
 * through malloc, and sent from there again while nothing in it changed:
 * monitors poll this, and building it as jansson objects
 * was some thirty allocations, which under musl's single malloc lock made
 * workers queue behind each other.  Even the one 4 KiB buffer left,
 * malloc'd and freed per request, halved the rate (40 k against 95 k
 * requests/s under wrk -c16 here; perf showed musl's allocator mapping
 * and unmapping it, with TLB shootdowns, and its lock's futex waits).
 */
int
api_health(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	struct store_stats ss;
	char err[REQ_ERR_MAX];
	struct jbuf b;
	uint64_t now, uptime, xdropped;
	int pretty, rc = 0;

	if ((rc = api_check_route(conn, ri, "/health", "GET")) != 0)
		return rc;
	if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	store_stats(st->store, &ss);
	now = time_mono_ns();
	uptime = now > st->start_ns ? (now - st->start_ns) / 1000000000u : 0;
	xdropped = export_dropped(st->exporter);
	if (health_cached(st, &ss, uptime, pretty, xdropped))
		return api_send_json(conn, 200, tl_health.body, tl_health.len);
	tl_health.valid = 0;
	jbuf_init(&b, tl_health.body, sizeof(tl_health.body));
	health_body(&b, st, &ss, uptime, pretty);
	if (b.err) {
		jbuf_free(&b);
		return api_reply(conn, 500, NULL, pretty, NULL);
	}
	if (b.borrowed) {
		tl_health.st = st;
		tl_health.uptime = uptime;
		tl_health.added = ss.added;
		tl_health.stored = ss.stored;
		tl_health.lost = ss.lost;
		tl_health.capacity = ss.capacity;
		tl_health.xdropped = xdropped;
		tl_health.pretty = pretty;
		tl_health.len = b.len;
		tl_health.valid = 1;
	}
	rc = api_send_json(conn, 200, b.p, b.len);
	jbuf_free(&b);
	return rc;
}

/* GET /openapi.json: the OpenAPI 3 document of this API, built in. */
int
api_openapi(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char err[REQ_ERR_MAX];
	int pretty, rc;

	(void)cbdata;
	if ((rc = api_check_route(conn, ri, "/openapi.json", "GET")) != 0)
		return rc;
	if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	return api_send_json(conn, 200, (const char *)openapi_json,
	    sizeof(openapi_json));
}

char *
api_metrics_text(const struct api_state *st, const struct exporter *x,
    size_t *len)
{
	struct export_stat es[EXPORT_SINKS];
	struct metrics_extra mx = { 0 };
	struct store_stats ss;

	if (!st->metrics)
		return NULL;
	store_stats(st->store, &ss);
	if (st->hub)
		hub_stats(st->hub, &mx.stream_clients, &mx.stream_dropped);
	mx.nexp = export_stats(x, es);
	mx.exp = es;
	return metrics_render(st->metrics, &ss, &mx, len);
}

/* GET /metrics: the Prometheus text format, version 0.0.4. */
int
api_metrics(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	char err[REQ_ERR_MAX];
	size_t len;
	char *body;
	int pretty, rc;

	if ((rc = api_check_route(conn, ri, "/metrics", "GET")) != 0)
		return rc;
	if (req_parse_query(ri->query_string, &pretty, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, pretty, NULL, "%s", err);
	if (!(body = api_metrics_text(st, st->exporter, &len)))
		return api_reply(conn, 500, NULL, pretty, NULL);
	rc = reply_send(conn, 200, "text/plain; version=0.0.4; charset=utf-8",
	    body, len, NULL, NULL);
	free(body);
	return rc < 0 ? rc : 200;
}
