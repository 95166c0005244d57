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
#include "util/store.h"

#define OTHER METRICS_COMMANDS        /* the slot of command="other" */
#define NSLOT (METRICS_COMMANDS + 1)
#define CHASH 256                      /* comm -> slot, open addressing */

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

/* The syscall label of dgram[][k][][]: enum ev_syscall EV_SENDTO + k. */
static const char *const dgram_call[3] = { "sendto", "sendmsg",
    "sendto|sendmsg" };

struct metrics {
	pthread_mutex_t mu;
	char comm[METRICS_COMMANDS][EV_COMM_LEN]; /* zero padded */
	unsigned ncomm;
	int16_t chash[CHASH];          /* -1 free, else a slot */
	uint64_t conn[NSLOT][NPROTO][2];       /* [.][.][failed] */
	uint64_t dgram[NSLOT][3][NPROTO][2];   /* [.][enum ev_syscall - 1][.][failed] */
	uint64_t http[EP_COUNT][NCODE];
};

struct metrics *
metrics_new(void)
{
	struct metrics *m;
	int err;

	if (!(m = calloc(1, sizeof(*m))))
		return NULL;
	memset(m->chash, 0xff, sizeof(m->chash));
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
	free(m);
}

/* The series slot of a command: its own while there is room. */
static unsigned
comm_slot(struct metrics *m, const char *comm)
{
	char key[EV_COMM_LEN];
	uint64_t a, b;
	unsigned h, i;

	memset(key, 0, sizeof(key));
	for (i = 0; i < EV_COMM_LEN - 1 && comm[i]; i++)
		key[i] = comm[i];
	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	a = a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full;
	h = (unsigned)(a ^ (a >> 32)) & (CHASH - 1);
	/* CHASH > 2 * METRICS_COMMANDS: a free slot always ends the probe. */
	for (; m->chash[h] >= 0; h = (h + 1) & (CHASH - 1))
		if (!memcmp(m->comm[m->chash[h]], key, EV_COMM_LEN))
			return (unsigned)m->chash[h];
	if (m->ncomm == METRICS_COMMANDS)
		return OTHER;
	memcpy(m->comm[m->ncomm], key, EV_COMM_LEN);
	m->chash[h] = (int16_t)m->ncomm;
	return m->ncomm++;
}

void
metrics_events(struct metrics *m, const struct event *ev, size_t n)
{
	unsigned slot = 0, p = 0, bad;
	uint32_t cnt, pkey, lastp = UINT32_MAX;
	const char *lastc = NULL;
	size_t i;

	pthread_mutex_lock(&m->mu);
	for (i = 0; i < n; i++) {
		/* Events come in runs from one process and one kind of socket:
		 * look the labels up only when they change. */
		if (!lastc || strncmp(ev[i].comm, lastc, EV_COMM_LEN) != 0) {
			slot = comm_slot(m, ev[i].comm);
			lastc = ev[i].comm;
		}
		pkey = (uint32_t)ev[i].family << 24 ^ (uint32_t)ev[i].protocol << 8 ^
		    (ev[i].sock_type & 0xff);
		if (pkey != lastp) {
			p = ev_protocol(&ev[i]);
			lastp = pkey;
		}
		bad = (unsigned)ev_failed(ev[i].ret, ev[i].ret_unknown,
		    ev[i].result);
		cnt = ev[i].count ? ev[i].count : 1;
		if (ev[i].syscall == EV_CONNECT)
			m->conn[slot][p][bad] += cnt;
		else if (ev[i].syscall >= EV_SENDTO && ev[i].syscall <= EV_SEND)
			m->dgram[slot][ev[i].syscall - EV_SENDTO][p][bad] += cnt;
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
		    clean[i] == '\n' ? "\\n" : one;
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
	FILE *f;
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
	if ((f = fopen("/proc/stat", "re"))) {
		char line[256];

		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
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

char *
metrics_render(struct metrics *m, const struct store_stats *ss,
    const struct metrics_extra *x, size_t *len)
{
	struct metrics *c;
	struct jbuf b = { 0 };
	char lab[METRICS_COMMANDS + 1][3 * EV_COMM_LEN * 2 + 1];
	unsigned s, p, r, k, e;

	/* Copy out under the lock, format without it. */
	if (!(c = malloc(sizeof(*c))))
		return NULL;
	pthread_mutex_lock(&m->mu);
	memcpy(c, m, sizeof(*c));
	pthread_mutex_unlock(&m->mu);
	for (s = 0; s < c->ncomm; s++)
		metrics_label(c->comm[s], strnlen(c->comm[s], EV_COMM_LEN), lab[s],
		    sizeof(lab[s]));
	strcpy(lab[OTHER], "other");

	head(&b, "ebpf_server_connect_attempts_total", "counter",
	    "connect() calls seen, by command (the first 64 names, then "
	    "other), protocol and result.");
	for (s = 0; s < NSLOT; s++)
		for (p = 0; p < NPROTO; p++)
			for (r = 0; r < 2; r++)
				if (c->conn[s][p][r] && (s < c->ncomm || s == OTHER))
					jbuf_printf(&b, "ebpf_server_connect_attempts_total{command=\"%s\","
					    "protocol=\"%s\",result=\"%s\"} %" PRIu64 "\n",
					    lab[s], ev_protocols[p], r ? "error" : "ok", c->conn[s][p][r]);
	head(&b, "ebpf_server_datagrams_total", "counter",
	    "Datagrams sent with sendto() or sendmsg() to an explicit address, "
	    "by command, syscall, protocol and result.");
	for (s = 0; s < NSLOT; s++)
		for (k = 0; k < 3; k++)
			for (p = 0; p < NPROTO; p++)
				for (r = 0; r < 2; r++)
					if (c->dgram[s][k][p][r] && (s < c->ncomm || s == OTHER))
						jbuf_printf(&b, "ebpf_server_datagrams_total{command=\"%s\","
						    "syscall=\"%s\",protocol=\"%s\",result=\"%s\"} "
						    "%" PRIu64 "\n", lab[s], dgram_call[k],
						    ev_protocols[p], r ? "error" : "ok",
						    c->dgram[s][k][p][r]);
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
