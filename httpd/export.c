/*
 * The exporter: one thread per sink, each with its own engine and its
 * own bounded queue (see export.h).
 *
 * A queue is a ring of whole events, q[tail % cap .. head % cap).  The
 * reader appends under the sink's mutex and never waits; the sink's
 * thread reads the events between tail and head without the lock (the
 * reader writes only past head, and never further than tail + cap) and
 * moves tail on, under the lock, once the engine has taken them.  So a
 * batch in flight still counts against the queue, and the queue's memory
 * is all there is: cap events per sink, plus one batch's encoding.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpd/api.h"
#include "httpd/export.h"
#include "httpd/export_impl.h"
#include "httpd/json.h"
#include "httpd/request.h"
#include "httpd/stream.h"
#include "util/cgroup.h"
#include "util/event.h"
#include "util/log.h"
#include "util/store.h"
#include "util/timefmt.h"

#define BATCH_WAIT_NS 1000000000ull /* a batch waits at most a second */
#define BACKOFF_MIN_MS 250       /* after a failure, doubling ... */
#define BACKOFF_MAX_MS 8000      /* ... up to this */
#define HTTP_TIMEOUT_MS 10000    /* for an engine's answer */
#define SOCK_TIMEOUT_MS 5000     /* for a syslog write */
#define MSG_MAX 256              /* an engine's reason, for the log */

enum { SINK_METRICS, SINK_EVENTS, SINK_SYSLOG };
static const char *const sink_names[EXPORT_SINKS] = { "metrics", "events",
	"syslog" };

struct exporter;

struct sink {
	struct exporter *x;
	int kind;                /* SINK_* */
	struct xaddr addr;
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* new events, or stop */
	struct event *q;         /* cap events; NULL for the metrics sink */
	size_t cap;
	uint64_t head, tail;
	uint64_t since;          /* monotonic ns it first saw these unsent; 0 */
	uint64_t sent, dropped, failures;
	int stopping;
	uint64_t linger_end;     /* monotonic ns to give up at, once stopping */
	struct jbuf b;           /* the batch being encoded */
	int fd;                  /* syslog: the socket, or -1 */
	int octet;               /* syslog: RFC 6587 octet counting */
	char warned[MSG_MAX];    /* the last failure logged, not repeated */
};

struct exporter {
	char host[EXPORT_HOST_MAX + 1];
	const struct api_state *st;
	export_text_fn *text;   /* the metrics sink's body */
	pid_t self;
	unsigned interval;
	/* -export-filter; has_filter 0: everything. */
	int has_filter;
	struct req_stream rq;
	struct store_filter f;
	struct sink s[EXPORT_SINKS];
	int on[EXPORT_SINKS];
};

/* RFC 1123 host names and what else is safe in a JSON string, a label
 * value, a URL path and RFC 5424's HOSTNAME unescaped. */
static int
host_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > EXPORT_HOST_MAX)
		return 0;
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_:") == n;
}

int
export_conf_check(const struct export_conf *c, char *err, size_t errlen)
{
	const char *what = "";
	struct req_stream rq;
	char e[REQ_ERR_MAX];
	struct xaddr a;

	if (c->host && !host_ok(c->host)) {
		snprintf(err, errlen, "-host: \"%s\" is not a host name (1-255 of "
		    "A-Z a-z 0-9 . - _ :)", c->host);
		return -EINVAL;
	}
	if (c->filter && req_parse_stream_query(c->filter, &rq, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "-export-filter: %s", e);
		return -EINVAL;
	}
	/* The addresses, resolved once here to say what is wrong with them
	 * as a flag's error, and again by export_start(). */
	if ((c->metrics_url && xaddr_url(c->metrics_url, &a, e, sizeof(e)) < 0 &&
	    (what = "-push-metrics")) ||
	    (c->events_url && xaddr_url(c->events_url, &a, e, sizeof(e)) < 0 &&
	    (what = "-push-events")) ||
	    (c->syslog && xaddr_syslog(c->syslog, &a, e, sizeof(e)) < 0 &&
	    (what = "-syslog"))) {
		snprintf(err, errlen, "%s: %s", what, e);
		return -EINVAL;
	}
	return 0;
}

size_t
export_memory(const struct export_conf *c)
{
	size_t q = c->queue ? c->queue : EXPORT_QUEUE_DEFAULT, m = 0;

	/* A queue and one batch's encoding per event sink; the metrics text
	 * is rendered as for a scrape, plus its copy with host labels. */
	if (c->events_url)
		m += q * sizeof(struct event) + EXPORT_BATCH_BYTES + (64u << 10);
	if (c->syslog)
		m += q * sizeof(struct event) + EXPORT_BATCH_BYTES + (64u << 10);
	if (c->metrics_url)
		m += 2 * (256u << 10);
	return m;
}

/* Not our own pushes, and what -export-filter asks for (a stream's
 * filter: hub_match()). */
static int
wanted(const struct exporter *x, const struct event *ev)
{
	if (ev->pid == (uint32_t)x->self)
		return 0; /* our own pushes: see README "Fleet" */
	return !x->has_filter || hub_match(x->rq.has_pid, x->rq.pid,
	    x->rq.command, &x->f, ev);
}

void
export_events(struct exporter *x, const struct event *ev, size_t n)
{
	struct sink *s;
	uint64_t before;
	size_t i;
	int k;

	for (k = SINK_EVENTS; x && k <= SINK_SYSLOG; k++) {
		if (!x->on[k])
			continue;
		s = &x->s[k];
		pthread_mutex_lock(&s->mu);
		before = s->head - s->tail;
		for (i = 0; i < n; i++) {
			if (!wanted(x, &ev[i]))
				continue;
			if (s->head - s->tail == s->cap) {
				s->dropped++;
				continue;
			}
			s->q[s->head++ % s->cap] = ev[i];
		}
		/* Wake the sink when its first event came (to start the
		 * second it may wait) and when a batch is full. */
		if ((before == 0 && s->head != s->tail) ||
		    (before < EXPORT_BATCH && s->head - s->tail >= EXPORT_BATCH))
			pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
}

/* One event's NDJSON line into b: the stream's object, then host and the
 * time as seconds and nanoseconds (for engines whose time type holds
 * seconds only). */
static void
event_line(struct jbuf *b, const struct exporter *x, const struct event *ev)
{
	char cg[1024], t[64];
	int n;

	jbuf_event(b, ev, cg, cg_path(x->st->cg, ev->cgroup_id, cg, sizeof(cg)),
	    -1);
	if (b->err || b->len == 0)
		return;
	b->len--; /* the object's '}' */
	jbuf_raw(b, ",\"host\":\"", 9);
	jbuf_str(b, x->host);
	n = snprintf(t, sizeof(t), "\",\"time\":%llu,\"time_ns\":%u}",
	    (unsigned long long)(ev->ts / 1000000000u),
	    (unsigned)(ev->ts % 1000000000u));
	jbuf_raw(b, t, (size_t)n);
}

/* Log a failure once, not on every retry of it. */
static void
warn_once(struct sink *s, const char *what, const char *msg)
{
	char m[MSG_MAX];

	snprintf(m, sizeof(m), "%s: %s", what, msg);
	m[strcspn(m, "\r\n")] = '\0';
	if (strcmp(m, s->warned) == 0)
		return;
	snprintf(s->warned, sizeof(s->warned), "%s", m);
	log_warnx("export %s to %s: %s (retrying)", sink_names[s->kind],
	    s->addr.hosthdr, m);
}

/* A POST that got status st (or -errno) and msg, to retry: logged once;
 * returns a negative errno. */
static int
post_failed(struct sink *s, int st, const char *msg)
{
	char what[32];

	if (st < 0)
		snprintf(what, sizeof(what), "%s", strerror(-st));
	else
		snprintf(what, sizeof(what), "HTTP %d", st);
	warn_once(s, what, msg);
	return st < 0 ? st : -EIO;
}

/* POST ev[0..n) as NDJSON.  Returns the events the engine took, or
 * -errno (retry).  A batch the engine refuses for its content (4xx other
 * than 408 and 429) would be refused again: it counts as taken, and those
 * events as *refused (dropped), with the engine's reason in the log. */
static long
send_events(struct sink *s, const struct event *ev, size_t n, size_t *refused)
{
	char msg[MSG_MAX];
	size_t i;
	int st;

	s->b.len = 0;
	s->b.err = 0;
	for (i = 0; i < n && s->b.len < EXPORT_BATCH_BYTES; i++) {
		event_line(&s->b, s->x, &ev[i]);
		jbuf_raw(&s->b, "\n", 1);
	}
	if (s->b.err)
		return -ENOMEM;
	st = xhttp_post(&s->addr, "application/x-ndjson", s->b.p, s->b.len,
	    HTTP_TIMEOUT_MS, msg, sizeof(msg));
	if (st / 100 == 2)
		return (long)i;
	if (st >= 400 && st < 500 && st != 408 && st != 429) {
		log_warnx("export events to %s: HTTP %d: %.200s (%zu events "
		    "dropped)", s->addr.hosthdr, st, msg, i);
		*refused = i;
		return (long)i;
	}
	return post_failed(s, st, msg);
}

/* Write ev[0..n) as syslog messages.  Returns n, or -errno (reconnect and
 * send the batch again). */
static long
send_syslog(struct sink *s, const struct event *ev, size_t n)
{
	struct jbuf line = { 0 };
	size_t i, mark;
	socklen_t tl = sizeof(int);
	ssize_t w;
	int type = SOCK_DGRAM, e = 0;

	if (s->fd < 0) {
		if ((s->fd = xsock_open(&s->addr, SOCK_TIMEOUT_MS)) < 0) {
			e = s->fd;
			s->fd = -1;
			warn_once(s, "connect", strerror(-e));
			return e;
		}
		getsockopt(s->fd, SOL_SOCKET, SO_TYPE, &type, &tl);
		s->octet = type == SOCK_STREAM;
	}
	s->b.len = 0;
	s->b.err = 0;
	for (i = 0; i < n; i++) {
		line.len = 0;
		event_line(&line, s->x, &ev[i]);
		mark = s->b.len;
		xsyslog_line(&s->b, &ev[i], line.p, line.len, s->x->host,
		    (int)s->x->self, s->octet && s->addr.family != AF_UNIX);
		/* A stream to a local daemon: one message per line. */
		if (s->octet && s->addr.family == AF_UNIX)
			jbuf_raw(&s->b, "\n", 1);
		if (s->b.err)
			break;
		/* Datagrams one by one; a stream in one go below. */
		if (!s->octet) {
			w = send(s->fd, s->b.p + mark, s->b.len - mark, MSG_NOSIGNAL);
			s->b.len = mark;
			if (w < 0) {
				e = -errno;
				break;
			}
		}
	}
	free(line.p);
	if (!e && s->b.err)
		e = -ENOMEM;
	if (!e && s->octet) {
		for (mark = 0; mark < s->b.len; mark += (size_t)w)
			if ((w = send(s->fd, s->b.p + mark, s->b.len - mark,
			    MSG_NOSIGNAL)) <= 0) {
				e = w < 0 ? -errno : -EPIPE;
				break;
			}
	}
	if (e) {
		close(s->fd);
		s->fd = -1;
		warn_once(s, "send", strerror(-e));
		return e;
	}
	return (long)n;
}

static uint64_t
ns_after(uint64_t ms)
{
	return time_mono_ns() + ms * 1000000ull;
}

/* Wait on s->cv until monotonic ns `until` (or a signal).  With s->mu. */
static void
wait_until(struct sink *s, uint64_t until)
{
	struct timespec ts = time_mono_ts(until);

	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* An event sink's thread: a batch when EXPORT_BATCH events wait or the
 * oldest has waited a second; retries with backoff; lingers at stop. */
static void *
event_sink(void *arg)
{
	struct sink *s = arg;
	unsigned backoff = 0;
	uint64_t avail, now;
	size_t n, refused;
	long r;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		now = time_mono_ns();
		avail = s->head - s->tail;
		if (s->stopping && (avail == 0 || now >= s->linger_end))
			break;
		if (avail && !s->since)
			s->since = now;
		if (!s->stopping && avail < EXPORT_BATCH &&
		    (!avail || now - s->since < BATCH_WAIT_NS)) {
			wait_until(s, avail ? s->since + BATCH_WAIT_NS :
			    now + BATCH_WAIT_NS);
			continue;
		}
		/* Contiguous in the ring: up to its end. */
		n = avail < EXPORT_BATCH ? (size_t)avail : EXPORT_BATCH;
		if (n > s->cap - s->tail % s->cap)
			n = s->cap - s->tail % s->cap;
		pthread_mutex_unlock(&s->mu);
		refused = 0;
		r = s->kind == SINK_EVENTS ?
		    send_events(s, &s->q[s->tail % s->cap], n, &refused) :
		    send_syslog(s, &s->q[s->tail % s->cap], n);
		pthread_mutex_lock(&s->mu);
		if (r > 0) {
			s->tail += (uint64_t)r;
			s->sent += (uint64_t)r - refused;
			s->dropped += refused;
			s->since = s->head == s->tail ? 0 : time_mono_ns();
			if (s->warned[0])
				log_info("export %s to %s: delivering again",
				    sink_names[s->kind], s->addr.hosthdr);
			s->warned[0] = '\0';
			backoff = 0;
			continue;
		}
		s->failures++;
		backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
		if (backoff > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		if (!s->stopping)
			wait_until(s, ns_after(backoff));
		else if (time_mono_ns() < s->linger_end)
			wait_until(s, ns_after(backoff) < s->linger_end ?
			    ns_after(backoff) : s->linger_end);
	}
	/* What could not be sent before the end is lost: say so. */
	s->dropped += s->head - s->tail;
	s->tail = s->head;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The metrics text with host="..." first in every sample's labels. */
static int
with_host(struct jbuf *out, const char *text, size_t len, const char *host)
{
	const char *p = text, *end = text + len, *nl, *sp;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl ? nl + 1 : end;
		if (*p == '#' || *p == '\n') {
			jbuf_raw(out, p, (size_t)(nl - p));
		} else {
			for (sp = p; sp < nl && *sp != '{' && *sp != ' '; sp++)
				;
			jbuf_raw(out, p, (size_t)(sp - p));
			jbuf_raw(out, "{host=\"", 7);
			jbuf_str(out, host);
			if (sp < nl && *sp == '{') {
				jbuf_raw(out, "\",", 2);
				sp++;
				/* name{} would now end in a comma. */
				if (sp < nl && *sp == '}' && !out->err)
					out->len--;
			} else {
				jbuf_raw(out, "\"}", 2);
			}
			jbuf_raw(out, sp, (size_t)(nl - sp));
		}
		p = nl;
	}
	return out->err;
}

static int
push_metrics(struct sink *s)
{
	char msg[MSG_MAX];
	size_t len = 0;
	char *text;
	int st;

	if (!s->x->text || !(text = s->x->text(s->x->st, s->x, &len)))
		return -ENOMEM;
	s->b.len = 0;
	s->b.err = 0;
	st = with_host(&s->b, text, len, s->x->host);
	free(text);
	if (st)
		return st;
	st = xhttp_post(&s->addr, "text/plain; version=0.0.4", s->b.p, s->b.len,
	    HTTP_TIMEOUT_MS, msg, sizeof(msg));
	if (st / 100 == 2)
		return 0;
	return post_failed(s, st, msg);
}

/* The metrics sink's thread: a push every interval, and one at stop so
 * that the engine keeps the final counts.  A failed push is counted as
 * dropped; the next one carries the same counters on. */
static void *
metrics_sink(void *arg)
{
	struct sink *s = arg;
	uint64_t next = ns_after(1000ull * s->x->interval);
	int stopping, rc;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->stopping && time_mono_ns() < next)
			wait_until(s, next);
		stopping = s->stopping;
		pthread_mutex_unlock(&s->mu);
		rc = push_metrics(s);
		pthread_mutex_lock(&s->mu);
		if (rc == 0) {
			s->sent++;
			s->warned[0] = '\0';
		} else {
			s->failures++;
			s->dropped++;
		}
		pthread_mutex_unlock(&s->mu);
		if (stopping)
			break;
		next = ns_after(1000ull * s->x->interval);
	}
	return NULL;
}

static int
sink_init(struct exporter *x, int kind, size_t cap, const char *where,
    char *err, size_t errlen)
{
	struct sink *s = &x->s[kind];
	char e[REQ_ERR_MAX];
	int rc;

	s->x = x;
	s->kind = kind;
	s->fd = -1;
	rc = kind == SINK_SYSLOG ? xaddr_syslog(where, &s->addr, e, sizeof(e)) :
	    xaddr_url(where, &s->addr, e, sizeof(e));
	if (rc < 0) {
		snprintf(err, errlen, "-%s: %s", kind == SINK_SYSLOG ? "syslog" :
		    kind == SINK_EVENTS ? "push-events" : "push-metrics", e);
		return rc;
	}
	if (cap && !(s->q = calloc(cap, sizeof(*s->q)))) {
		snprintf(err, errlen, "export queue of %zu events: %s", cap,
		    strerror(ENOMEM));
		return -ENOMEM;
	}
	s->cap = cap;
	pthread_mutex_init(&s->mu, NULL);
	time_mono_cond_init(&s->cv);
	x->on[kind] = 1;
	return 0;
}

struct exporter *
export_start(const struct export_conf *c, const struct api_state *st,
    export_text_fn *text, char *err, size_t errlen)
{
	size_t cap = c->queue ? c->queue : EXPORT_QUEUE_DEFAULT;
	struct exporter *x;
	char e[REQ_ERR_MAX];
	int k;

	if (!(x = calloc(1, sizeof(*x)))) {
		snprintf(err, errlen, "exporter: %s", strerror(ENOMEM));
		return NULL;
	}
	x->st = st;
	x->text = text;
	x->self = getpid();
	x->interval = c->interval ? (unsigned)c->interval :
	    EXPORT_INTERVAL_DEFAULT;
	if (export_conf_check(c, err, errlen) < 0)
		goto fail;
	if (c->host)
		snprintf(x->host, sizeof(x->host), "%s", c->host);
	else if (gethostname(x->host, sizeof(x->host) - 1) < 0 ||
	    !host_ok(x->host))
		snprintf(x->host, sizeof(x->host), "localhost");
	if (c->filter) {
		req_parse_stream_query(c->filter, &x->rq, e, sizeof(e));
		/* "since" is relative to the start. */
		api_store_filter(&x->rq.filter, time_now_ns(), &x->f);
		x->has_filter = 1;
	}
	if ((c->metrics_url && sink_init(x, SINK_METRICS, 0, c->metrics_url,
	    err, errlen) < 0) ||
	    (c->events_url && sink_init(x, SINK_EVENTS, cap, c->events_url,
	    err, errlen) < 0) ||
	    (c->syslog && sink_init(x, SINK_SYSLOG, cap, c->syslog, err,
	    errlen) < 0))
		goto fail;
	for (k = 0; k < EXPORT_SINKS; k++) {
		if (!x->on[k])
			continue;
		if (pthread_create(&x->s[k].th, NULL, k == SINK_METRICS ?
		    metrics_sink : event_sink, &x->s[k]) != 0) {
			snprintf(err, errlen, "exporter thread: %s", strerror(errno));
			goto fail;
		}
		x->s[k].started = 1;
	}
	return x;
fail:
	export_stop(x);
	return NULL;
}

int
export_uses_net(const struct exporter *x)
{
	return x && (x->on[SINK_METRICS] || x->on[SINK_EVENTS] ||
	    x->on[SINK_SYSLOG]);
}

const char *
export_host(const struct exporter *x)
{
	return x ? x->host : NULL;
}

void
export_stop(struct exporter *x)
{
	struct sink *s;
	int k;

	if (!x)
		return;
	for (k = 0; k < EXPORT_SINKS; k++) {
		s = &x->s[k];
		if (!s->started)
			continue;
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		s->linger_end = ns_after(EXPORT_LINGER_MS);
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	for (k = 0; k < EXPORT_SINKS; k++) {
		s = &x->s[k];
		if (s->started)
			pthread_join(s->th, NULL);
		if (s->started || x->on[k]) {
			pthread_cond_destroy(&s->cv);
			pthread_mutex_destroy(&s->mu);
		}
		if (s->fd >= 0)
			close(s->fd);
		free(s->b.p);
		free(s->q);
	}
	free(x);
}

size_t
export_stats(const struct exporter *x, struct export_stat *out)
{
	struct sink *s;
	size_t n = 0;
	int k;

	for (k = 0; x && k < EXPORT_SINKS; k++) {
		if (!x->on[k])
			continue;
		s = (struct sink *)&x->s[k];
		pthread_mutex_lock(&s->mu);
		out[n].sink = sink_names[k];
		out[n].sent = s->sent;
		out[n].dropped = s->dropped;
		out[n].failures = s->failures;
		out[n].queued = s->head - s->tail;
		pthread_mutex_unlock(&s->mu);
		n++;
	}
	return n;
}

uint64_t
export_dropped(const struct exporter *x)
{
	struct export_stat es[EXPORT_SINKS];
	size_t i, n = export_stats(x, es);
	uint64_t d = 0;

	for (i = 0; i < n; i++)
		d += es[i].dropped;
	return d;
}
