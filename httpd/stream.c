/*
 * GET /api/stream.  The reader thread publishes; each client's handler,
 * on a civetweb worker, waits on its own queue and writes what it finds.
 *
 * Locks: the hub's mutex guards the client table; each client's mutex its
 * queue.  The reader holds a client's mutex only to copy one event in,
 * and the handler only to copy a batch out, so neither waits for the
 * network while holding it.  Lock order: hub, then client.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>
#include <jansson.h>

#include "httpd/api.h"
#include "httpd/json.h"
#include "httpd/reply.h"
#include "httpd/request.h"
#include "httpd/stream.h"
#include "util/cgroup.h"
#include "util/event.h"
#include "util/store.h"
#include "util/timefmt.h"

#define BATCH 64
#define WAIT_MS 250          /* how often a waiting handler looks up */

struct client {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* What the client asked for; read by the reader under hub->mu. */
	int has_pid;
	uint32_t pid;
	char command[EV_COMM_LEN]; /* "" for any */
	struct req_filter rf;
	struct store_filter f;
	/* The queue: head - tail events in q[tail % STREAM_QUEUE ...]. */
	uint64_t head, tail;
	uint64_t dropped;        /* since the last gap line */
	struct event q[STREAM_QUEUE];
};

struct hub {
	pthread_mutex_t mu;
	unsigned max, keepalive_ms;
	struct client **c;       /* max slots, NULL when free */
	atomic_uint n;           /* clients connected */
	atomic_int stopping;
	uint64_t dropped;        /* ever, for /metrics */
};

struct hub *
hub_new(unsigned max_clients, unsigned keepalive_ms)
{
	struct hub *h;
	int err;

	if (!(h = calloc(1, sizeof(*h))))
		return NULL;
	if (!(h->c = calloc(max_clients ? max_clients : 1, sizeof(*h->c)))) {
		free(h);
		return NULL;
	}
	if ((err = pthread_mutex_init(&h->mu, NULL))) {
		free(h->c);
		free(h);
		errno = err;
		return NULL;
	}
	h->max = max_clients;
	h->keepalive_ms = keepalive_ms ? keepalive_ms : STREAM_KEEPALIVE_MS;
	return h;
}

void
hub_free(struct hub *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->mu);
	free(h->c);
	free(h);
}

int
hub_match(int has_pid, uint32_t pid, const char *command,
    const struct store_filter *f, const struct event *ev)
{
	if (has_pid && ev->pid != pid)
		return 0;
	if (command[0] && strncmp(ev->comm, command, EV_COMM_LEN) != 0)
		return 0;
	return store_filter_match(f, ev);
}

void
hub_publish(struct hub *h, const struct event *ev, size_t n,
    const unsigned char *folded)
{
	struct client *c;
	unsigned k;
	size_t i;
	int wake;

	if (!h || atomic_load_explicit(&h->n, memory_order_relaxed) == 0)
		return;
	pthread_mutex_lock(&h->mu);
	for (k = 0; k < h->max; k++) {
		if (!(c = h->c[k]))
			continue;
		wake = 0;
		pthread_mutex_lock(&c->mu);
		for (i = 0; i < n; i++) {
			if ((folded && folded[i]) || !hub_match(c->has_pid, c->pid,
			    c->command, &c->f, &ev[i]))
				continue;
			if (c->head - c->tail == STREAM_QUEUE) {
				c->dropped++;
				h->dropped++;
				continue;
			}
			c->q[c->head++ % STREAM_QUEUE] = ev[i];
			wake = 1;
		}
		if (wake || c->dropped)
			pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&h->mu);
}

void
hub_shutdown(struct hub *h)
{
	unsigned k;

	if (!h)
		return;
	atomic_store(&h->stopping, 1);
	pthread_mutex_lock(&h->mu);
	for (k = 0; k < h->max; k++) {
		if (!h->c[k])
			continue;
		pthread_mutex_lock(&h->c[k]->mu);
		pthread_cond_broadcast(&h->c[k]->cv);
		pthread_mutex_unlock(&h->c[k]->mu);
	}
	pthread_mutex_unlock(&h->mu);
}

void
hub_stats(struct hub *h, unsigned *clients, uint64_t *dropped)
{
	pthread_mutex_lock(&h->mu);
	*clients = atomic_load(&h->n);
	*dropped = h->dropped;
	pthread_mutex_unlock(&h->mu);
}

/* Take a free slot for c.  Returns 0, or -EBUSY when all are taken. */
static int
attach(struct hub *h, struct client *c)
{
	unsigned k;

	pthread_mutex_lock(&h->mu);
	for (k = 0; k < h->max && h->c[k]; k++)
		;
	if (k < h->max) {
		h->c[k] = c;
		atomic_fetch_add(&h->n, 1);
	}
	pthread_mutex_unlock(&h->mu);
	return k < h->max ? 0 : -EBUSY;
}

static void
detach(struct hub *h, struct client *c)
{
	unsigned k;

	pthread_mutex_lock(&h->mu);
	for (k = 0; k < h->max; k++) {
		if (h->c[k] == c) {
			h->c[k] = NULL;
			atomic_fetch_sub(&h->n, 1);
		}
	}
	pthread_mutex_unlock(&h->mu);
}

/* Write all of s; 0, or -1 when the client is gone. */
static int
send_str(struct mg_connection *conn, const char *s, size_t len)
{
	return mg_write(conn, s, len) == (int)len ? 0 : -1;
}

/* One JSON value as an NDJSON line or an SSE event. */
static int
send_json(struct mg_connection *conn, int sse, const char *event, json_t *v)
{
	char *s;
	int rc;

	if (!v)
		return 0; /* out of memory for this one: skip it, not the client */
	s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (!s)
		return 0;
	if (sse) {
		char pre[64];

		snprintf(pre, sizeof(pre), "event: %s\ndata: ", event);
		rc = send_str(conn, pre, strlen(pre)) || send_str(conn, s,
		    strlen(s)) || send_str(conn, "\n\n", 2) ? -1 : 0;
	} else {
		rc = send_str(conn, s, strlen(s)) || send_str(conn, "\n", 1) ?
		    -1 : 0;
	}
	free(s);
	return rc;
}

/* One event as an NDJSON line or an SSE event, in one write; b is the
 * caller's scratch buffer. */
static int
send_event(struct mg_connection *conn, int sse, const struct api_state *st,
    const struct event *ev, struct jbuf *b)
{
	char cg[1024];

	b->len = 0;
	if (sse)
		jbuf_str(b, "event: connection\ndata: ");
	jbuf_event(b, ev, cg, cg_path(st->cg, ev->cgroup_id, cg, sizeof(cg)), -1);
	jbuf_str(b, sse ? "\n\n" : "\n");
	if (b->err)
		return 0; /* out of memory for this one: skip it, not the client */
	return send_str(conn, b->p, b->len);
}

static int
wants_sse(struct mg_connection *conn)
{
	const char *a = mg_get_header(conn, "Accept");

	return a && strcasestr(a, "text/event-stream") != NULL;
}

/* Wait until c has something, or WAIT_MS passed.  Called with c->mu. */
static void
wait_for(struct client *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += WAIT_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

static void
serve(struct mg_connection *conn, struct api_state *st, struct client *c,
    int sse)
{
	struct hub *h = st->hub;
	struct jbuf line = { 0 };
	struct event *batch;
	uint64_t dropped, last = time_mono_ns();
	size_t n, i;
	json_t *gap;

	if (!(batch = malloc(BATCH * sizeof(*batch))))
		return;
	/* A first line at once, so that clients (and proxies) see the stream
	 * is open before the first event. */
	if (sse ? send_str(conn, ": ebpf-server stream\n\n", 22) :
	    send_str(conn, "\n", 1))
		goto out;
	while (!atomic_load(&h->stopping)) {
		pthread_mutex_lock(&c->mu);
		if (c->head == c->tail && !c->dropped &&
		    !atomic_load(&h->stopping))
			wait_for(c);
		for (n = 0; n < BATCH && c->tail != c->head; n++)
			batch[n] = c->q[c->tail++ % STREAM_QUEUE];
		dropped = c->dropped;
		c->dropped = 0;
		pthread_mutex_unlock(&c->mu);

		if (dropped) {
			gap = json_pack("{sI}", "gap", (json_int_t)dropped);
			if (send_json(conn, sse, "gap", gap) < 0)
				break;
		}
		for (i = 0; i < n; i++)
			if (send_event(conn, sse, st, &batch[i], &line) < 0)
				goto out;
		if (n || dropped) {
			last = time_mono_ns();
		} else if (time_mono_ns() - last >= h->keepalive_ms * 1000000ULL) {
			/* Writing is how we notice a client that went away. */
			if (sse ? send_str(conn, ": keep-alive\n\n", 14) :
			    send_str(conn, "\n", 1))
				break;
			last = time_mono_ns();
		}
	}
out:
	free(line.p);
	free(batch);
}

int
api_stream(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct api_state *st = cbdata;
	struct req_stream q;
	struct client *c;
	char err[REQ_ERR_MAX], head[REPLY_ROOM];
	int rc, sse, n;

	if ((rc = api_check_route(conn, ri, "/api/stream", "GET")) != 0)
		return rc;
	if (req_parse_stream_query(ri->query_string, &q, err, sizeof(err)) < 0)
		return api_reply_error(conn, 400, 0, NULL, "%s", err);
	if (!st->hub || atomic_load(&st->hub->stopping))
		return api_reply_error(conn, 503, 0, NULL, "the server is "
		    "shutting down");
	if (!(c = calloc(1, sizeof(*c))))
		return api_reply_error(conn, 500, 0, NULL, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->has_pid = q.has_pid;
	c->pid = q.pid;
	memcpy(c->command, q.command, sizeof(q.command));
	c->rf = q.filter;
	/* "since" in seconds is relative to now, for a stream too. */
	api_store_filter(&c->rf, time_now_ns(), &c->f);
	if (attach(st->hub, c) < 0) {
		rc = api_reply_error(conn, 503, 0, NULL, "too many streams: at "
		    "most %u at a time (-max-streams)", st->hub->max);
		goto out;
	}
	sse = wants_sse(conn);
	/* The head in one write.  No Content-Length and no chunks: the body
	 * ends when the connection closes.  A HEAD gets the head alone. */
	if ((n = reply_head(conn, 200, sse ? "text/event-stream" :
	    "application/x-ndjson", REPLY_UNTIL_CLOSE, NULL, NULL, head)) < 0 ||
	    reply_write(conn, head, (size_t)n) < 0 || reply_is_head(conn)) {
		detach(st->hub, c);
		rc = n < 0 ? -1 : 200;
		goto out;
	}
	serve(conn, st, c, sse);
	detach(st->hub, c);
	rc = 200;
out:
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
	return rc;
}
