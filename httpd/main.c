/*
 * ebpf-server: record every connect() on the host with eBPF and serve what
 * was seen as JSON over HTTP.  main only wires the stages: kernel programs
 * and rings (loader/capture.h) -> store (util/store.h, through loader/pump.h)
 * -> HTTP (httpd/http.h); the flags are httpd/opts.c's table.  Everything
 * privileged first: programs loaded and attached, perf rings mapped, the
 * port bound; then the sandbox.  Then the main thread reads the rings into
 * the store until SIGINT or SIGTERM; civetweb's workers answer requests.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "httpd/api.h"
#include "httpd/export.h"
#include "httpd/http.h"
#include "httpd/metrics.h"
#include "httpd/opts.h"
#include "httpd/sandbox.h"
#include "httpd/stream.h"
#include "httpd/token.h"
#include "loader/capture.h"
#include "util/cgroup.h"
#include "util/log.h"
#include "loader/pump.h"
#include "util/store.h"
#include "util/timefmt.h"

#define READER_NICE -10
/* Exit status when the backend named with -backend cannot run on this
 * kernel (cap_open() says -EOPNOTSUPP: missing, or refused), ebpf-server(8). */
#define EXIT_UNAVAILABLE 3

/* Everything main sets up, in the order it is torn down in reverse. */
struct server {
	struct opts o;
	char *token;
	struct store *store;
	struct metrics *metrics;
	struct hub *hub;
	struct pump *pump;
	struct capture *cap;
	struct http *http;
	struct api_state st;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Each stored batch goes on to the metrics, the live streams and the
 * fleet's sinks. */
static void
publish(void *ctx, const struct event *ev, size_t n, const unsigned char *folded)
{
	struct server *sv = ctx;

	metrics_events(sv->metrics, ev, n);
	hub_publish(sv->hub, ev, n, folded);
	export_events(sv->st.exporter, ev, n);
}

/* A failed start: the programs detached and the port closed, then the
 * message and exit status 1. */
static void
die(struct server *sv, const char *err)
{
	http_stop(sv->http);
	cap_close(sv->cap);
	fatalx("%s", err);
}

/* The capture, privileged: programs loaded and attached, rings mapped. */
static void
setup_capture(struct server *sv)
{
	struct cap_conf cc = { 0 };
	size_t i, n;
	char err[1024];
	int e;

	cc.ring_pages = (unsigned)sv->o.ring_pages;
	cc.diag = stderr;
	cc.backend = sv->o.backend;
	cc.verbose = sv->o.verbose;
	cc.fault_verifier = sv->o.fault_verifier;
	cc.batch = sv->o.batch;
	if ((e = cap_open(&cc, &sv->cap, err, sizeof(err))) < 0) {
		/* A kernel that cannot run the named backend is not a
		 * failure of the server: said apart, for scripts that try
		 * each in turn. */
		if (e == -EOPNOTSUPP && strcmp(sv->o.backend, "auto") != 0) {
			log_warnx("%s", err);
			exit(EXIT_UNAVAILABLE);
		}
		fatalx("%s", err);
	}
	sv->st.backend = cap_backend(sv->cap);
	/* Each list keeps its last slot for the NULL that ends it. */
	cap_exact_names(sv->cap, sv->st.exact_fields,
	    NELEM(sv->st.exact_fields));
	n = cap_not_seen(sv->cap, sv->st.not_seen, NELEM(sv->st.not_seen) - 1);
	for (i = 0; i < n; i++)
		log_warnx("capture %s does not see %s", sv->st.backend,
		    sv->st.not_seen[i]);
	sv->st.batches = cap_batched(sv->cap);
	for (i = 0; i + 1 < NELEM(sv->st.refused_why) && (sv->st.refused_why[i] =
	    cap_refused(sv->cap, i, &sv->st.refused_name[i])) != NULL; i++)
		;
}

/* Everything privileged, in order: store, capture, port; then the
 * sandbox.  Dies with a message on any failure. */
static void
setup(struct server *sv)
{
	struct http_conf hc = { .addr = sv->o.addr, .threads =
	    (unsigned)sv->o.threads, .timeout_ms = (unsigned)sv->o.timeout_ms,
	    .max_header = (unsigned)sv->o.max_header };
	struct sigaction sa = { 0 };
	sigset_t block;
	char err[512];

	if (!sandbox_privileged())
		fatalx("must run as root (or with CAP_BPF, CAP_PERFMON and "
		    "CAP_SYS_ADMIN) to load eBPF programs: try sudo");
	if (sv->o.token_file)
		sv->token = http_token_read(sv->o.token_file);
	if ((sv->store = store_new_keys(sv->o.max_events,
	    (uint32_t)sv->o.summary_keys)) == NULL)
		fatal("store for %lu events", sv->o.max_events);
	if ((sv->metrics = metrics_new()) == NULL ||
	    (sv->hub = hub_new((unsigned)sv->o.max_streams, STREAM_KEEPALIVE_MS)) == NULL ||
	    (sv->pump = pump_new(sv->store, publish, sv)) == NULL)
		fatal("metrics and streams");
	sv->st.store = sv->store;
	sv->st.metrics = sv->metrics;
	sv->st.hub = sv->hub;
	sv->st.start_ns = time_mono_ns();
	sv->st.max_body = sv->o.max_body;
	sv->st.timeout_ms = (unsigned)sv->o.timeout_ms;
	setup_capture(sv);
	/* Found now, while /proc/self/mountinfo is certainly readable and
	 * after the capture mounted cgroup2 if it had to; the tree itself is
	 * walked when a response needs a path. */
	if ((sv->st.cg = cg_new(NULL)) == NULL)
		log_warnx("no cgroup2 mount found: cgroup paths will be empty");

	/* civetweb's threads inherit this mask: signals go to the main
	 * thread only, which then stops everything in order. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	hc.token = sv->token;
	if ((!sv->o.no_sandbox && sandbox_prepare(http_addr_port(sv->o.addr) <
	    1024, err, sizeof(err)) < 0) ||
	    (sv->http = http_start(&hc, &sv->st, err, sizeof(err))) == NULL ||
	    /* The fleet's threads: after sandbox_prepare() (they must not
	     * keep capabilities), before the sandbox, which then lets them
	     * connect. */
	    !(sv->st.exporter = export_start(&sv->o.exc, &sv->st,
	    api_metrics_text, err, sizeof(err))))
		die(sv, err);
	if (export_uses_net(sv->st.exporter))
		sandbox_open_net();
	/* The reader (this thread only; civetweb's workers exist already)
	 * gets a larger share of the CPU, for a reader that waits longer
	 * than its ring lasts loses events.  Nice, not real-time, which could
	 * starve a machine in a storm; before the sandbox drops CAP_SYS_NICE. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), READER_NICE) < 0)
		log_debug("setpriority(%d) for the reader: %s", READER_NICE,
		    strerror(errno));
	/* Everything privileged is done: the programs are attached, the
	 * rings mapped, the port bound. */
	if (sv->o.no_sandbox) {
		log_warnx("-no-sandbox: serving as uid %d with every capability "
		    "and no system call filter", (int)geteuid());
	} else if (sandbox_enter(sv->o.verbose, cap_trigger_fd(sv->cap), err,
	    sizeof(err)) < 0) {
		die(sv, err);
	} else if (sandbox_close_net() < 0) {
		fatal("sandbox: closing the reader's sockets");
	}
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigdelset(&block, SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
}

/* Capture -> store -> HTTP until SIGINT or SIGTERM. */
static void
serve(struct server *sv)
{
	http_ready(sv->http);
	log_info("ebpf-server %s listening on %s (capture: %s%s%s%s)", VERSION,
	    sv->o.addr, sv->st.backend, cap_trigger_fd(sv->cap) >= 0 ?
	    ", per-CPU batches" : "", sv->token ? ", bearer token required" : "",
	    sv->o.no_sandbox ? ", no sandbox" : "");
	while (!stop) {
		long n = cap_poll(sv->cap, 100, pump_sample, pump_lost, sv->pump);

		if (n < 0)
			log_warnx("reading perf rings: %s", strerror((int)-n));
		pump_flush(sv->pump);
	}
}

/* Detach first, so that nothing runs in the kernel for us any more. */
static void
shutdown_all(struct server *sv)
{
	log_info("shutting down");
	cap_close(sv->cap);
	export_stop(sv->st.exporter);
	http_stop(sv->http);
	pump_free(sv->pump);
	hub_free(sv->hub);
	metrics_free(sv->metrics);
	cg_free(sv->st.cg);
	store_free(sv->store);
	free(sv->token);
}

int
main(int argc, char **argv)
{
	static struct server sv;

	opts_parse(argc, argv, &sv.o);
	log_verbose = sv.o.verbose;
	setup(&sv);
	serve(&sv);
	shutdown_all(&sv);
	return 0;
}
