/*
 * Prometheus metrics.  The reader adds each batch under one mutex; a
 * scrape copies the counters out under it and formats after.  See
 * metrics.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd/export.h"
#include "httpd/json.h"
#include "httpd/metrics.h"
#include "util/event.h"
#include "util/file.h"
#include "util/sketch.h"
#include "util/store.h"
#include "util/timefmt.h"

#define CANDIDATES (4 * METRICS_COMMANDS) /* commands weighed */
#define RANK_NS 1000000000ULL          /* series re-ranked at most this often */
#define DECAY_NS 10000000000ULL        /* weights halve this often */
#define PROC_STAT_MAX (16u << 20)      /* /proc/stat, read whole per scrape */

#define NPROTO EV_NPROTO

static const char *const eps[EP_COUNT] = {
	[EP_ROOT] = "/", [EP_HEALTH] = "/health",
	[EP_SUMMARY] = "/api/connection-summary",
	[EP_LIST] = "/api/list-connections", [EP_TOP] = "/api/top",
	[EP_STREAM] = "/api/stream", [EP_METRICS] = "/metrics",
	[EP_OPENAPI] = "/openapi.json", [EP_OTHER] = "other",
};

/* Status codes we answer with; anything else is counted under 0 ("other"). */
static const int codes[] = { 200, 400, 404, 405, 413, 500, 503, 0 };
#define NCODE (sizeof(codes) / sizeof(codes[0]))

/* The syscall label of dgram[k]: enum ev_syscall EV_SENDTO + k. */
static const char *const dgram_call[3] = { "sendto", "sendmsg",
    "sendto|sendmsg" };

/* The counts of one series' label sets. */
struct cnt {
	uint64_t conn[NPROTO][2];          /* [.][failed] */
	uint64_t dgram[3][NPROTO][2];      /* [enum ev_syscall - 1][.][failed] */
};

/* A command being weighed: whether it has a series now, and its counts
 * since it got it, or else those that other shows beside rest. */
struct cand {
	struct cnt c;
	int shown;
};

/*
 * The command series are the METRICS_COMMANDS heaviest of a Space-Saving
 * summary of CANDIDATES commands whose weights halve every DECAY_NS: the
 * busiest commands of the last minute or so, whatever came first.  Every
 * event is in exactly one series, and every counter stays monotonic:
 * other is rest plus the counts of the candidates without a series; a
 * command's counts move into rest when it gets a series at a ranking
 * (which then starts at 0), loses it, or loses its place among the
 * candidates.  While fewer than METRICS_COMMANDS have a series, a new
 * command gets one at once, so that a quiet host sees every command.
 */
struct metrics {
	pthread_mutex_t mu;
	struct sketch cand;            /* comm -> struct cand */
	struct cnt rest;               /* command="other" */
	uint64_t http[EP_COUNT][NCODE];
	unsigned nshown;               /* candidates with a series */
	uint64_t ranked, decayed;      /* when last re-ranked, decayed */
	uint64_t (*now)(void);         /* the tests replace it */
};

struct metrics *
metrics_new(void)
{
	struct metrics *m;
	int err;

	if (!(m = calloc(1, sizeof(*m))))
		return NULL;
	sketch_init(&m->cand, CANDIDATES, EV_COMM_LEN, sizeof(struct cand));
	m->now = time_now_ns;
	if ((err = pthread_mutex_init(&m->mu, NULL))) {
		free(m);
		errno = err;
		return NULL;
	}
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->mu);
	sketch_clear(&m->cand);
	free(m);
}

static void
cnt_fold(struct cnt *to, struct cnt *from)
{
	uint64_t *t = (uint64_t *)to, *f = (uint64_t *)from;
	size_t i;

	for (i = 0; i < sizeof(*to) / sizeof(*t); i++)
		t[i] += f[i];
	memset(from, 0, sizeof(*from));
}

/* The counts an event of comm goes to, its candidate's (*e its entry) or
 * other's (*e -1), after adding w to its weight.  The pointer holds until
 * the next call (the summary may grow). */
static struct cnt *
comm_cnt(struct metrics *m, const char *comm, uint64_t w, long *e)
{
	char key[EV_COMM_LEN];
	struct cand *c;
	long v;
	unsigned i;

	*e = -1;
	memset(key, 0, sizeof(key));
	for (i = 0; i < EV_COMM_LEN - 1 && comm[i]; i++)
		key[i] = comm[i];
	/* A process named "other" must not make a second series of that
	 * name: Prometheus refuses a scrape with duplicate label sets. */
	if (!strcmp(key, "other"))
		return &m->rest;
	if ((*e = sketch_find(&m->cand, key)) >= 0) {
		sketch_bump(&m->cand, (uint32_t)*e, w);
	} else {
		/* The lightest candidate makes room: its counts go to other. */
		if ((v = sketch_victim(&m->cand)) >= 0) {
			c = sketch_payload(&m->cand, (uint32_t)v);
			cnt_fold(&m->rest, &c->c);
			m->nshown -= c->shown;
		}
		if ((*e = sketch_add(&m->cand, key, w, NULL)) < 0) {
			*e = -1;
			return &m->rest;
		}
		/* While series are free a new command gets one at once, with
		 * all its counts: the next ranking takes it back if others
		 * are busier. */
		if (m->nshown < METRICS_COMMANDS) {
			c = sketch_payload(&m->cand, (uint32_t)*e);
			c->shown = 1;
			m->nshown++;
		}
	}
	return &((struct cand *)sketch_payload(&m->cand, (uint32_t)*e))->c;
}

static int
weight_cmp(const void *a, const void *b, void *arg)
{
	const struct sketch *k = arg;
	uint64_t x = k->w[*(const uint32_t *)a], y = k->w[*(const uint32_t *)b];

	return (x < y) - (x > y);
}

/* Give the heaviest candidates the series; fold the counts of those that
 * lose theirs into other.  Called with the lock held. */
static void
rerank(struct metrics *m, uint64_t now)
{
	uint32_t idx[CANDIDATES], i;
	struct cand *c;

	for (i = 0; i < m->cand.n; i++)
		idx[i] = i;
	m->nshown = 0;
	qsort_r(idx, m->cand.n, sizeof(idx[0]), weight_cmp, &m->cand);
	for (i = 0; i < m->cand.n; i++) {
		c = sketch_payload(&m->cand, idx[i]);
		/* Either way its counts so far were in other's series, and
		 * stay there: a new series starts at 0, and one that ends
		 * adds to other. */
		if (i < METRICS_COMMANDS && m->cand.w[idx[i]] > 0) {
			if (!c->shown)
				cnt_fold(&m->rest, &c->c);
			c->shown = 1;
			m->nshown++;
		} else if (c->shown) {
			c->shown = 0;
			cnt_fold(&m->rest, &c->c);
		}
	}
	m->ranked = now;
}

void
metrics_events(struct metrics *m, const struct event *ev, size_t n)
{
	unsigned p = 0, bad;
	uint32_t cnt, pkey, lastp = UINT32_MAX;
	const char *lastc = NULL;
	struct cnt *c = NULL;
	uint64_t now = m->now();
	long e = -1;
	size_t i;

	pthread_mutex_lock(&m->mu);
	/* Rank before counting, so that a batch counts into the series of
	 * the last second's ranking; a 256-entry sort once a second. */
	if (now - m->ranked >= RANK_NS)
		rerank(m, now);
	if (now - m->decayed >= DECAY_NS) {
		sketch_decay(&m->cand);
		m->decayed = now;
	}
	for (i = 0; i < n; i++) {
		cnt = ev[i].count ? ev[i].count : 1;
		/* Events come in runs from one process and one kind of socket:
		 * look the labels up only when they change. */
		if (!lastc || strncmp(ev[i].comm, lastc, EV_COMM_LEN) != 0) {
			c = comm_cnt(m, ev[i].comm, cnt, &e);
			lastc = ev[i].comm;
		} else if (e >= 0) {
			sketch_bump(&m->cand, (uint32_t)e, cnt);
		}
		pkey = (uint32_t)ev[i].family << 24 ^ (uint32_t)ev[i].protocol << 8 ^
		    (ev[i].sock_type & 0xff);
		if (pkey != lastp) {
			p = ev_protocol(&ev[i]);
			lastp = pkey;
		}
		bad = (unsigned)ev_failed(ev[i].ret, ev[i].ret_unknown,
		    ev[i].result);
		if (ev[i].syscall == EV_CONNECT)
			c->conn[p][bad] += cnt;
		else if (ev[i].syscall >= EV_SENDTO && ev[i].syscall <= EV_SEND)
			c->dgram[ev[i].syscall - EV_SENDTO][p][bad] += cnt;
	}
	pthread_mutex_unlock(&m->mu);
}

void
metrics_http(struct metrics *m, enum metrics_ep ep, int status)
{
	unsigned c;

	if (!m || ep >= EP_COUNT)
		return;
	for (c = 0; c < NCODE - 1 && codes[c] != status; c++)
		;
	pthread_mutex_lock(&m->mu);
	m->http[ep][c]++;
	pthread_mutex_unlock(&m->mu);
}

size_t
metrics_label(const char *s, size_t len, char *out, size_t n)
{
	char clean[3 * EV_PATH_MAX + 1];
	size_t i, o = 0, cl;
	const char *esc;

	if (n == 0)
		return 0;
	if (len > EV_PATH_MAX)
		len = EV_PATH_MAX;
	cl = json_str_sanitize(s, len, clean, sizeof(clean));
	for (i = 0; i < cl; i++) {
		char one[2] = { clean[i], '\0' };

		esc = clean[i] == '\\' ? "\\\\" : clean[i] == '"' ? "\\\"" :
		    clean[i] == '\n' ? "\\n" :
		    /* ESC, CR and the rest would reach the terminal of whoever
		     * reads the scrape: the format has no escape for them. */
		    (unsigned char)clean[i] < 0x20 || clean[i] == 0x7f ?
		    UTF8_REPLACEMENT : one;
		if (o + strlen(esc) + 1 > n)
			break;
		memcpy(out + o, esc, strlen(esc));
		o += strlen(esc);
	}
	out[o] = '\0';
	return o;
}

/* The fleet sinks' series (httpd/export.h), each with a sink label. */
static const struct {
	const char *name, *type, *help;
	size_t off;            /* of the uint64_t in struct export_stat */
} xseries[] = {
	{ "ebpf_server_export_sent_total", "counter", "Events (pushes for "
	  "sink metrics) the engine of each -push-* or -syslog sink took.",
	  offsetof(struct export_stat, sent) },
	{ "ebpf_server_export_dropped_total", "counter", "Events (pushes for "
	  "sink metrics) given up on: the queue was full, the engine refused "
	  "them, or the server stopped first.",
	  offsetof(struct export_stat, dropped) },
	{ "ebpf_server_export_failures_total", "counter", "Attempts to reach "
	  "an engine that failed and were retried.",
	  offsetof(struct export_stat, failures) },
	{ "ebpf_server_export_queued_events", "gauge", "Events waiting in "
	  "each event sink's queue.", offsetof(struct export_stat, queued) },
};

static void
head(struct jbuf *b, const char *name, const char *type, const char *help)
{
	jbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric of one sample without labels: its HELP, TYPE and value. */
static void
single(struct jbuf *b, const char *name, const char *type, const char *help,
    uint64_t v)
{
	head(b, name, type, help);
	jbuf_printf(b, "%s %" PRIu64 "\n", name, v);
}

/* Process figures from /proc/self: what the Go client library exports. */
static void
process_figures(struct jbuf *b)
{
	char st[1024], *p;
	unsigned long long ut = 0, stime = 0, start = 0, vsz = 0;
	long long rss = 0;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long btime = 0;
	struct dirent *de;
	unsigned nfd = 0;
	ssize_t n;
	char *all;
	DIR *d;

	if ((n = file_read("/proc/self/stat", st, sizeof(st))) <= 0)
		return;
	/* The command may hold spaces and parentheses: skip to the last ')'. */
	if (!(p = strrchr(st, ')')))
		return;
	/* Fields 3.. after ") ": utime is 14, stime 15, starttime 22, vsize
	 * 23, rss 24. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
	    "%*d %*d %*d %*d %*d %*d %llu %llu %lld", &ut, &stime, &start, &vsz,
	    &rss) != 5)
		return;
	/* Long on a host with many CPUs and interrupts: read whole. */
	if (file_read_all("/proc/stat", PROC_STAT_MAX, &all) >= 0) {
		if ((p = strstr(all, "\nbtime ")))
			sscanf(p + 7, "%llu", &btime);
		free(all);
	}
	if ((d = opendir("/proc/self/fd"))) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				nfd++;
		closedir(d);
		nfd--; /* the directory's own fd */
	}
	head(b, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	jbuf_printf(b, "process_cpu_seconds_total %.2f\n", (double)(ut + stime) / tck);
	head(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	jbuf_printf(b, "process_resident_memory_bytes %lld\n", rss * page);
	head(b, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	jbuf_printf(b, "process_virtual_memory_bytes %llu\n", vsz);
	head(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	jbuf_printf(b, "process_start_time_seconds %.2f\n",
	    (double)btime + (double)start / tck);
	head(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	jbuf_printf(b, "process_open_fds %u\n", nfd);
}

/* What a scrape shows, copied out under the lock. */
struct snap {
	unsigned n;                             /* command series */
	char comm[METRICS_COMMANDS + 1][EV_COMM_LEN];
	struct cnt c[METRICS_COMMANDS + 1];     /* [n] is other */
	uint64_t http[EP_COUNT][NCODE];
};

char *
metrics_render(struct metrics *m, const struct store_stats *ss,
    const struct metrics_extra *x, size_t *len)
{
	struct snap *c;
	struct jbuf b = { 0 };
	char lab[METRICS_COMMANDS + 1][3 * EV_COMM_LEN * 2 + 1];
	const struct cand *cd;
	struct cnt other, tmp;
	unsigned s, p, r, k, e, i;
	uint64_t now = m->now();

	/* Copy out under the lock, format without it. */
	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	pthread_mutex_lock(&m->mu);
	if (now - m->ranked >= RANK_NS)
		rerank(m, now);
	other = m->rest;
	for (i = 0; i < m->cand.n; i++) {
		cd = sketch_payload(&m->cand, i);
		if (!cd->shown || c->n == METRICS_COMMANDS) {
			tmp = cd->c;
			cnt_fold(&other, &tmp);
			continue;
		}
		memcpy(c->comm[c->n], sketch_key(&m->cand, i), EV_COMM_LEN);
		c->c[c->n++] = cd->c;
	}
	c->c[c->n] = other;
	memcpy(c->http, m->http, sizeof(c->http));
	pthread_mutex_unlock(&m->mu);
	for (s = 0; s < c->n; s++)
		metrics_label(c->comm[s], strnlen(c->comm[s], EV_COMM_LEN), lab[s],
		    sizeof(lab[s]));
	strcpy(lab[c->n], "other");

	head(&b, "ebpf_server_connect_attempts_total", "counter",
	    "connect() calls seen, by command (the 64 busiest of the last "
	    "minute or so, then other), protocol and result.");
	for (s = 0; s <= c->n; s++)
		for (p = 0; p < NPROTO; p++)
			for (r = 0; r < 2; r++)
				if (c->c[s].conn[p][r])
					jbuf_printf(&b, "ebpf_server_connect_attempts_total{command=\"%s\","
					    "protocol=\"%s\",result=\"%s\"} %" PRIu64 "\n",
					    lab[s], ev_protocols[p], r ? "error" : "ok", c->c[s].conn[p][r]);
	head(&b, "ebpf_server_datagrams_total", "counter",
	    "Datagrams sent with sendto() or sendmsg() to an explicit address, "
	    "by command, syscall, protocol and result.");
	for (s = 0; s <= c->n; s++)
		for (k = 0; k < 3; k++)
			for (p = 0; p < NPROTO; p++)
				for (r = 0; r < 2; r++)
					if (c->c[s].dgram[k][p][r])
						jbuf_printf(&b, "ebpf_server_datagrams_total{command=\"%s\","
						    "syscall=\"%s\",protocol=\"%s\",result=\"%s\"} "
						    "%" PRIu64 "\n", lab[s], dgram_call[k],
						    ev_protocols[p], r ? "error" : "ok",
						    c->c[s].dgram[k][p][r]);
	single(&b, "ebpf_server_events_total", "counter",
	    "Events read from the kernel.", ss->added);
	single(&b, "ebpf_server_events_lost_total", "counter",
	    "Events lost: dropped by the kernel (a perf ring full) or not "
	    "decodable.", ss->lost);
	single(&b, "ebpf_server_events_evicted_total", "counter",
	    "Stored events pushed out by newer ones.", ss->evicted);
	single(&b, "ebpf_server_store_events", "gauge",
	    "Event records in memory now.", ss->stored);
	single(&b, "ebpf_server_store_capacity_events", "gauge",
	    "Event records kept at most (-max-events).", ss->capacity);
	single(&b, "ebpf_server_store_bytes", "gauge",
	    "Memory held by the event store.", ss->bytes);
	single(&b, "ebpf_server_stream_clients", "gauge",
	    "Clients connected to /api/stream.", x ? x->stream_clients : 0);
	single(&b, "ebpf_server_stream_dropped_total", "counter",
	    "Events skipped for stream clients that read too slowly.",
	    x ? x->stream_dropped : 0);
	for (e = 0; x && x->nexp && e < sizeof(xseries) / sizeof(xseries[0]);
	    e++) {
		head(&b, xseries[e].name, xseries[e].type, xseries[e].help);
		for (k = 0; k < x->nexp; k++)
			jbuf_printf(&b, "%s{sink=\"%s\"} %" PRIu64 "\n",
			    xseries[e].name, x->exp[k].sink, *(const uint64_t *)
			    (const void *)((const char *)&x->exp[k] + xseries[e].off));
	}
	head(&b, "ebpf_server_http_requests_total", "counter",
	    "HTTP responses by endpoint and status code (code other for "
	    "rare ones).");
	for (e = 0; e < EP_COUNT; e++)
		for (k = 0; k < NCODE; k++) {
			if (!c->http[e][k])
				continue;
			if (codes[k])
				jbuf_printf(&b, "ebpf_server_http_requests_total{endpoint=\"%s\","
				    "code=\"%d\"} %" PRIu64 "\n", eps[e], codes[k],
				    c->http[e][k]);
			else
				jbuf_printf(&b, "ebpf_server_http_requests_total{endpoint=\"%s\","
				    "code=\"other\"} %" PRIu64 "\n", eps[e], c->http[e][k]);
		}
	head(&b, "ebpf_server_build_info", "gauge",
	    "Always 1; the version is a label.");
	jbuf_printf(&b, "ebpf_server_build_info{version=\"%s\"} 1\n", VERSION);
	process_figures(&b);
	free(c);
	if (b.err || !b.p) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
