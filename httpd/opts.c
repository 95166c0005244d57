/*
 * The server's flags: one table (see flags.h), from which flag_parse()
 * reads argv and flag_usage() writes -h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd/flags.h"
#include "httpd/http.h"
#include "httpd/opts.h"
#include "httpd/request.h"
#include "httpd/stream.h"
#include "loader/capture.h"
#include "util/store.h"

#define STR(x) STR_(x)
#define STR_(x) #x
#define O(field) offsetof(struct opts, field)

/*
 * The command line, in the order -h shows it.  Adding a flag is adding a
 * row here and a field to struct opts (opts.h), and handing the field to
 * its stage in main.c's setup(); the README's "Command line" block (which
 * is -h verbatim) and ebpf-server(8) must then show it too:
 * tests/integration/test_cli.c compares them with -h.
 */
static const struct flag flags[] = {
	{ "-addr", "host:port", FLAG_STR, O(addr), 0, 0, ":8080", NULL,
	  "listen address, all interfaces; 127.0.0.1:8080 or [::1]:8080 for "
	  "loopback only", NULL },
	{ "-max-events", "n", FLAG_NUM, O(max_events), 1, 1UL << 30,
	  STR(STORE_DEFAULT_MAX), NULL,
	  "newest events kept, 1-1073741824", NULL },
	{ "-summary-keys", "n", FLAG_NUM, O(summary_keys), 1, 65536,
	  STR(STORE_DEFAULT_KEYS), NULL, "pids and commands counted a second",
	  NULL },
	{ "-threads", "n", FLAG_NUM, O(threads), 1, HTTP_THREADS_MAX,
	  STR(HTTP_THREADS_DEFAULT), NULL, "HTTP worker threads, 1-"
	  STR(HTTP_THREADS_MAX) "; each open connection holds one, idle "
	  "keep-alive included", NULL },
	{ "-timeout", "ms", FLAG_NUM, O(timeout_ms), 100, 600000, "10000", NULL,
	  "HTTP request and keep-alive time-out, 100-600000", NULL },
	{ "-ring-pages", "n", FLAG_POW2, O(ring_pages), 1, 65536, NULL,
	  "8 MiB / CPUs, 256 KiB to 4 MiB",
	  "perf ring pages per CPU, a power of two up to 65536", NULL },
	{ "-max-streams", "n", FLAG_NUM, O(max_streams), 0, 255,
	  STR(STREAM_DEFAULT_MAX), NULL, "concurrent GET /api/stream clients, "
	  "fewer than -threads", NULL },
	{ "-max-body-size", "n", FLAG_NUM, O(max_body), 1024, 16UL << 20,
	  STR(REQ_BODY_MAX), NULL, "request body limit in bytes, "
	  "1024-16777216; larger bodies get 413", NULL },
	{ "-max-header-size", "n", FLAG_NUM, O(max_header), 1024, 1UL << 20,
	  STR(HTTP_HEADER_DEFAULT), NULL, "request line and headers limit in "
	  "bytes, 1024-1048576", NULL },
	{ "-token-file", "path", FLAG_STR, O(token_file), 0, 0, NULL, NULL,
	  "require \"Authorization: Bearer <token>\" on every endpoint but "
	  "/health; the token is the file's first line", NULL },
	{ "-no-sandbox", NULL, FLAG_SWITCH, O(no_sandbox), 0, 0, NULL, NULL,
	  "keep root and skip the seccomp filter, for debugging", NULL },
	{ "-backend", "name", FLAG_CHOICE, O(backend), 0, 0, "auto", NULL,
	  "how to capture:",
	  cap_backend_names },
	/* The fleet (README "Fleet"), one line of -h each. */
	{ "-host", "name", FLAG_STR, O(exc.host), 0, 0, NULL, "hostname",
	  "host label of everything pushed", NULL },
	{ "-push-metrics", "url", FLAG_STR, O(exc.metrics_url), 0, 0, NULL, NULL,
	  "POST /metrics there every interval", NULL },
	{ "-push-interval", "s", FLAG_NUM, O(exc.interval), 1, 86400,
	  STR(EXPORT_INTERVAL_DEFAULT), NULL, "seconds between metric pushes",
	  NULL },
	{ "-push-events", "url", FLAG_STR, O(exc.events_url), 0, 0, NULL, NULL,
	  "POST events there as NDJSON", NULL },
	{ "-syslog", "address", FLAG_STR, O(exc.syslog), 0, 0, NULL, NULL,
	  "udp://h:p, tcp://h:p or unix:path", NULL },
	{ "-export-queue", "n", FLAG_NUM, O(exc.queue), 1, EXPORT_QUEUE_MAX,
	  STR(EXPORT_QUEUE_DEFAULT), NULL, "events held per sink while down",
	  NULL },
	{ "-export-filter", "q", FLAG_STR, O(exc.filter), 0, 0, NULL, "all",
	  "only what GET /api/stream?q sends", NULL },
	{ "-v", NULL, FLAG_SWITCH, O(verbose), 0, 0, NULL, NULL,
	  "debug logging", NULL },
	{ "-h", NULL, FLAG_HELP, 0, 0, 0, NULL, NULL, "this help", NULL },
	{ "-version", NULL, FLAG_VERSION, 0, 0, 0, NULL, NULL,
	  "print the version and exit", NULL },
};

static const struct flag_cmd cmd = {
	"ebpf-server", VERSION,
	"Records every connect() and every datagram sent to an explicit address\n"
	"on this host with eBPF and serves the events as JSON over HTTP.  Must\n"
	"run as root (or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN).\n",
	"API: GET /health, GET /, POST /api/connection-summary,\n"
	"     GET|POST /api/list-connections, GET /api/top, GET /api/stream,\n"
	"     GET /metrics, GET /openapi.json   (see ebpf-server(8) and README.md)\n",
	flags, sizeof(flags) / sizeof(flags[0]),
};

void
opts_parse(int argc, char **argv, struct opts *o)
{
	uint64_t given = flag_parse(&cmd, argc, argv, o);
	char err[512];
	const char *env;

	/* A stream holds a worker thread for as long as it runs: keep one
	 * for everything else. */
	if (o->max_streams >= o->threads && !(given & flag_bit(&cmd, "-max-streams")))
		o->max_streams = o->threads - 1;
	if (o->max_streams >= o->threads) {
		fprintf(stderr, "ebpf-server: -max-streams %lu must be less than "
		    "-threads %lu, so that streams cannot hold every worker\n",
		    o->max_streams, o->threads);
		exit(2);
	}
	if (export_conf_check(&o->exc, err, sizeof(err)) < 0) {
		fprintf(stderr, "ebpf-server: %s\n", err);
		exit(2);
	}
	/* For the test suite only: a program the verifier must reject, to
	 * see that its log and a listing are printed.  A variable with this
	 * exact name and value is not set by accident. */
	o->fault_verifier = (env = getenv("EBPF_SERVER_FAULT")) != NULL &&
	    strcmp(env, "verifier-reject") == 0;
	/* Per-CPU batches unless EBPF_SERVER_BATCH=0 (the benchmark's
	 * comparison; loader/batch.c turns them off where it must). */
	o->batch = (env = getenv("EBPF_SERVER_BATCH")) == NULL ||
	    strcmp(env, "0") != 0;
}
