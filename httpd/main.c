/*
 * ebpf-server: record every connect() on the host with eBPF and serve what
 * was seen as JSON over HTTP.
 *
 * Setup happens in order, everything privileged first: programs loaded and
 * attached, perf rings mapped, the port bound.  Then the main thread reads
 * the rings into the store until SIGINT or SIGTERM, while civetweb's worker
 * threads answer requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "httpd/api.h"
#include "httpd/export.h"
#include "httpd/http.h"
#include "httpd/request.h"
#include "httpd/sandbox.h"
#include "httpd/metrics.h"
#include "httpd/stream.h"
#include "loader/capture.h"
#include "util/cgroup.h"
#include "util/log.h"
#include "util/pump.h"
#include "util/store.h"
#include "util/timefmt.h"

#define READER_NICE -10
/* Exit status when the backend asked for with -backend cannot run on this
 * kernel (ebpf-server(8)). */
#define EXIT_UNAVAILABLE 3

struct opts {
	const char *addr;
	size_t max_events;
	unsigned threads;
	unsigned timeout_ms;
	unsigned ring_pages;
	size_t max_body;
	unsigned max_header;
	const char *token_file;
	int no_sandbox;
	unsigned max_streams;
	int max_streams_set;
	const char *backend;
	int verbose;
	struct export_conf exc;
};

/* The longest bearer token -token-file may hold. */
#define TOKEN_MAX 1024

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
usage(FILE *f)
{
	fprintf(f,
	    "usage: ebpf-server [flag ...]  Records every connect() and every datagram\n"
	    "sent to an explicit address on this host with eBPF and serves the events\n"
	    "as JSON over HTTP.  Must run as root (or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN).\n"
	    "\n"
	    "  -addr host:port   listen address (default :8080, all interfaces;\n"
	    "                    127.0.0.1:8080 or [::1]:8080 for loopback only)\n"
	    "  -max-events n     events kept in memory, newest win (default %d)\n"
	    "  -threads n        HTTP worker threads, 1-%d (default %d); each open\n"
	    "                    connection holds one, idle keep-alive included\n"
	    "  -timeout ms       HTTP request and keep-alive time-out, 100-600000\n"
	    "                    (default 10000)\n"
	    "  -ring-pages n     perf ring pages per CPU, a power of two\n"
	    "                    (default 8 MiB / CPUs, 256 KiB to 4 MiB)\n"
	    "  -max-streams n    concurrent GET /api/stream clients, fewer than\n"
	    "                    -threads (default %d)\n"
	    "  -max-body-size n  request body limit in bytes, 1024-16777216; larger\n"
	    "                    bodies get 413 (default %d)\n"
	    "  -max-header-size n  request line and headers limit in bytes,\n"
	    "                    1024-1048576 (default %d)\n"
	    "  -token-file path  require \"Authorization: Bearer <token>\" on every\n"
	    "                    endpoint but /health; the token is the file's first\n"
	    "                    line (default none)\n"
	    "  -no-sandbox       keep root and skip the seccomp filter, for debugging\n"
	    "                    (default off)\n"
	    "  -backend name     auto (the cheapest that works here), cgroup, fexit,\n"
	    "                    tracepoint-exit or tracepoint (default auto)\n"
	    "  -v                debug logging (default off)\n"
	    "  -h                this help\n"
	    "  -version          print the version and exit\n",
	    STORE_DEFAULT_MAX, HTTP_THREADS_MAX, HTTP_THREADS_DEFAULT,
	    STREAM_DEFAULT_MAX, REQ_BODY_MAX,
	    HTTP_HEADER_DEFAULT);
	export_usage(f);
	fprintf(f, "\n"
	    "API: GET /health, GET /, POST /api/connection-summary,\n"
	    "     GET|POST /api/list-connections, GET /api/top, GET /api/stream,\n"
	    "     GET /metrics   (see ebpf-server(8) and README.md)\n");
}

/* Parse a decimal in [min, max] or exit with a message. */
static unsigned long
number(const char *flag, const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		goto bad;
	return v;
bad:
	fprintf(stderr, "ebpf-server: %s: invalid value \"%s\" (want an integer "
	    "from %lu to %lu)\n", flag, s ? s : "", min, max);
	exit(2);
}

static int
known_backend(const char *name)
{
	const char *const *n;

	for (n = cap_backend_names(); name && *n; n++)
		if (strcmp(*n, name) == 0)
			return 1;
	return 0;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	int i;

	o->addr = ":8080";
	o->max_events = STORE_DEFAULT_MAX;
	o->threads = HTTP_THREADS_DEFAULT;
	o->timeout_ms = 10000;
	o->ring_pages = 0; /* default_ring_pages() */
	o->max_body = REQ_BODY_MAX;
	o->max_header = HTTP_HEADER_DEFAULT;
	o->max_streams = STREAM_DEFAULT_MAX;
	for (i = 1; i < argc; i++) {
		char *a = argv[i], *val = NULL, *eq;

		/* Go's flag package accepts -flag, --flag and -flag=value. */
		if (a[0] == '-' && a[1] == '-')
			a++;
		if ((eq = strchr(a, '=')) != NULL) {
			*eq = '\0';
			val = eq + 1;
		}
#define VALUE() (val ? val : (i + 1 < argc ? argv[++i] : NULL))
		if (strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "-version") == 0) {
			printf("ebpf-server %s\n", VERSION);
			exit(0);
		} else if (strcmp(a, "-v") == 0) {
			o->verbose = 1;
		} else if (strcmp(a, "-no-sandbox") == 0) {
			o->no_sandbox = 1;
		} else if (strcmp(a, "-token-file") == 0) {
			if ((o->token_file = VALUE()) == NULL || *o->token_file == '\0') {
				fprintf(stderr, "ebpf-server: -token-file needs a path\n");
				exit(2);
			}
		} else if (strcmp(a, "-max-body-size") == 0) {
			o->max_body = number("-max-body-size", VALUE(), 1024, 16UL << 20);
		} else if (strcmp(a, "-max-header-size") == 0) {
			o->max_header = (unsigned)number("-max-header-size", VALUE(),
			    1024, 1UL << 20);
		} else if (strcmp(a, "-addr") == 0) {
			if ((o->addr = VALUE()) == NULL || *o->addr == '\0') {
				fprintf(stderr, "ebpf-server: -addr needs host:port\n");
				exit(2);
			}
		} else if (strcmp(a, "-max-events") == 0) {
			o->max_events = number("-max-events", VALUE(), 1, 1UL << 30);
		} else if (strcmp(a, "-threads") == 0) {
			o->threads = (unsigned)number("-threads", VALUE(), 1,
			    HTTP_THREADS_MAX);
		} else if (strcmp(a, "-timeout") == 0) {
			o->timeout_ms = (unsigned)number("-timeout", VALUE(), 100, 600000);
		} else if (strcmp(a, "-max-streams") == 0) {
			o->max_streams = (unsigned)number("-max-streams", VALUE(), 0,
			    255);
			o->max_streams_set = 1;
		} else if (strcmp(a, "-backend") == 0) {
			o->backend = VALUE();
			if (!known_backend(o->backend)) {
				const char *const *n = cap_backend_names();

				fprintf(stderr, "ebpf-server: -backend: want");
				for (; *n; n++)
					fprintf(stderr, " %s", *n);
				fprintf(stderr, "\n");
				exit(2);
			}
		} else if (export_is_flag(a)) {
			export_flag(&o->exc, a, VALUE());
		} else if (strcmp(a, "-ring-pages") == 0) {
			o->ring_pages = (unsigned)number("-ring-pages", VALUE(), 1, 65536);
			if (o->ring_pages & (o->ring_pages - 1)) {
				fprintf(stderr, "ebpf-server: -ring-pages: %u is not a "
				    "power of two\n", o->ring_pages);
				exit(2);
			}
		} else {
			fprintf(stderr, "ebpf-server: unknown flag \"%s\"\n\n", argv[i]);
			usage(stderr);
			exit(2);
		}
#undef VALUE
	}
	/* A stream holds a worker thread for as long as it runs: keep one
	 * for everything else. */
	if (o->max_streams >= o->threads && !o->max_streams_set)
		o->max_streams = o->threads - 1;
	if (o->max_streams >= o->threads) {
		fprintf(stderr, "ebpf-server: -max-streams %u must be less than "
		    "-threads %u, so that streams cannot hold every worker\n",
		    o->max_streams, o->threads);
		exit(2);
	}
}

/*
 * Perf ring pages per CPU when -ring-pages is not given: 8 MiB of rings in
 * all, from 256 KiB to 4 MiB per CPU, a power of two.  One process bursting
 * on one CPU fills only that CPU's ring, so small machines get deep rings:
 * 4 MiB is about 20 000 events, 40 ms of back-to-back connects, enough to
 * ride out the reader losing its CPU for a while without losing an event.
 */
static unsigned
default_ring_pages(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_CONF), page = sysconf(_SC_PAGESIZE);
	unsigned long per, pages = 1;

	if (cpus < 1)
		cpus = 1;
	if (page < 4096)
		page = 4096;
	per = (8UL << 20) / (unsigned long)cpus;
	if (per > 4UL << 20)
		per = 4UL << 20;
	if (per < 256UL << 10)
		per = 256UL << 10;
	while (pages * 2 * (unsigned long)page <= per)
		pages *= 2;
	return (unsigned)pages;
}

/* Root, or the capabilities loading and attaching need.  Checked first so
 * the user gets one clear message instead of an EPERM from deep inside. */
static int
privileged(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f;

	if (geteuid() == 0)
		return 1;
	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	/* CAP_BPF (39) and CAP_PERFMON (38), or CAP_SYS_ADMIN (21). */
	return (eff & (1ULL << 39) && eff & (1ULL << 38)) || eff & (1ULL << 21);
}

/*
 * The bearer token: the first line of path, without its line ending.  It
 * must be 1 to TOKEN_MAX visible ASCII characters (RFC 6750's token68 and
 * then some), so that what a client puts after "Bearer " can match it.
 * Dies with a message on anything else.  Returns a malloc'd string.
 */
static char *
read_token(const char *path)
{
	char buf[TOKEN_MAX + 2];
	struct stat sb;
	size_t len = 0, i;
	ssize_t n;
	char *tok;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		fatal("-token-file %s", path);
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
		log_warnx("-token-file %s: readable by group or others; "
		    "chmod 600 it", path);
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0)
		fatalx("-token-file %s: empty: the first line must hold the token",
		    path);
	if (len > TOKEN_MAX)
		fatalx("-token-file %s: the token is longer than %d bytes", path,
		    TOKEN_MAX);
	for (i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] > '~')
			fatalx("-token-file %s: byte %zu of the token is not a "
			    "visible ASCII character", path, i + 1);
	if ((tok = strdup(buf)) == NULL)
		fatal("-token-file");
	explicit_bzero(buf, sizeof(buf));
	return tok;
}

/* The port of -addr ("host:port", ":port" or "port"); http_start()
 * checks it properly. */
static long
port_of(const char *addr)
{
	const char *colon = strrchr(addr, ':');

	return strtol(colon ? colon + 1 : addr, NULL, 10);
}

/* Each stored batch goes on to the metrics and the live streams. */
static void
publish(void *ctx, const struct event *ev, size_t n, const unsigned char *folded)
{
	struct server *sv = ctx;

	metrics_events(sv->metrics, ev, n);
	hub_publish(sv->hub, ev, n, folded);
	export_events(sv->st.exporter, ev, n);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The capture, privileged: programs loaded and attached, rings mapped. */
static void
setup_capture(struct server *sv)
{
	struct cap_conf cc = { 0 };
	const char *fault;
	char err[1024];
	unsigned bit, n;
	int e;

	if (sv->o.ring_pages == 0)
		sv->o.ring_pages = default_ring_pages();
	cc.ring_pages = sv->o.ring_pages;
	/* Wake the reader when an eighth of the ring is full: thousands of
	 * events per wakeup, and seven eighths left for a reader that is slow
	 * to get a CPU.  The poll time-out bounds latency when traffic is
	 * light. */
	cc.watermark = sv->o.ring_pages * (unsigned)sysconf(_SC_PAGESIZE) / 8;
	cc.diag = stderr;
	cc.verbose = sv->o.verbose;
	/* For the test suite only: a program the verifier must reject, to
	 * see that its log and a listing are printed.  A variable with this
	 * exact name and value is not set by accident. */
	if ((fault = getenv("EBPF_SERVER_FAULT")) != NULL &&
	    strcmp(fault, "verifier-reject") == 0)
		cc.fault_verifier = 1;
	cc.backend = sv->o.backend;
	/* Per-CPU batches unless EBPF_SERVER_BATCH=0 (the benchmark's
	 * comparison; loader/batch.c turns them off where it must). */
	cc.batch = (fault = getenv("EBPF_SERVER_BATCH")) == NULL ||
	    strcmp(fault, "0") != 0;
	if ((e = cap_open(&cc, &sv->cap, err, sizeof(err))) < 0) {
		/* A backend this kernel cannot run is not a failure of the
		 * server: say so apart, for scripts that try each in turn. */
		if (e == -EOPNOTSUPP && sv->o.backend &&
		    strcmp(sv->o.backend, "auto") != 0) {
			log_warnx("%s", err);
			exit(EXIT_UNAVAILABLE);
		}
		fatalx("%s", err);
	}
	sv->st.backend = cap_backend(sv->cap);
	for (bit = 0, n = 0; cap_exact_name(bit) && n < 7; bit++)
		if (cap_exact(sv->cap) & (1u << bit))
			sv->st.exact_fields[n++] = cap_exact_name(bit);
	n = (unsigned)cap_not_seen(sv->cap, sv->st.not_seen, 8);
	for (bit = 0; bit < n; bit++)
		log_warnx("capture %s does not see %s", sv->st.backend,
		    sv->st.not_seen[bit]);
	sv->st.batches = cap_batched(sv->cap);
	for (n = 0; n < 4 && (sv->st.refused_why[n] = cap_refused(sv->cap, n,
	    &sv->st.refused_name[n])) != NULL; n++)
		;
}

/* Everything privileged, in order: store, capture, port; then the
 * sandbox.  Dies with a message on any failure. */
static void
setup(struct server *sv)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct http_conf hc = { 0 };
	struct sigaction sa;
	sigset_t block;
	char err[512];

	if (!privileged())
		fatalx("must run as root (or with CAP_BPF, CAP_PERFMON and "
		    "CAP_SYS_ADMIN) to load eBPF programs: try sudo");
	if (sv->o.token_file)
		sv->token = read_token(sv->o.token_file);
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; newer ones
	 * use memory cgroups, so failing to raise it is harmless there. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		log_debug("setrlimit RLIMIT_MEMLOCK: %s (ignored: not needed "
		    "since Linux 5.11)", strerror(errno));

	if ((sv->store = store_new(sv->o.max_events)) == NULL)
		fatal("store for %zu events", sv->o.max_events);
	if ((sv->metrics = metrics_new()) == NULL ||
	    (sv->hub = hub_new(sv->o.max_streams, STREAM_KEEPALIVE_MS)) == NULL ||
	    (sv->pump = pump_new(sv->store, publish, sv)) == NULL)
		fatal("metrics and streams");
	sv->st.store = sv->store;
	sv->st.metrics = sv->metrics;
	sv->st.hub = sv->hub;
	sv->st.start_ns = time_mono_ns();
	sv->st.max_body = sv->o.max_body;
	sv->st.timeout_ms = sv->o.timeout_ms;
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
	hc.addr = sv->o.addr;
	hc.threads = sv->o.threads;
	hc.timeout_ms = sv->o.timeout_ms;
	hc.max_header = sv->o.max_header;
	hc.token = sv->token;
	if (!sv->o.no_sandbox && sandbox_prepare(port_of(sv->o.addr) < 1024, err,
	    sizeof(err)) < 0) {
		cap_close(sv->cap);
		fatalx("%s", err);
	}
	if (!(sv->st.exporter = export_start(&sv->o.exc, &sv->st, err,
	    sizeof(err))))
		fatalx("%s", err);
	if (export_uses_net(sv->st.exporter))
		sandbox_open_net();
	if ((sv->http = http_start(&hc, &sv->st, err, sizeof(err))) == NULL) {
		cap_close(sv->cap);
		fatalx("%s", err);
	}
	/*
	 * The reader (this thread; civetweb's workers already exist and keep
	 * the default) gets a larger share of the CPU: on a busy machine a
	 * reader waiting behind other work for longer than the ring lasts is
	 * what loses events.  Nice only: a real-time reader could starve the
	 * machine in a connect storm.  On Linux this affects the thread only.
	 * Before the sandbox, which drops CAP_SYS_NICE.
	 */
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
		http_stop(sv->http);
		cap_close(sv->cap);
		fatalx("%s", err);
	} else {
		if (sandbox_close_net() < 0)
			fatal("sandbox: closing the reader's sockets");
		log_debug("sandbox: uid %d, no capabilities, no_new_privs, "
		    "seccomp allow-list of %zu system calls (others fail with "
		    "EPERM%s)", (int)geteuid(), sandbox_allowed(),
		    sv->o.verbose ? " and are logged by the kernel" : "");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigdelset(&block, SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
}

/* Capture → store → HTTP until SIGINT or SIGTERM. */
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

	parse(argc, argv, &sv.o);
	if (sv.o.verbose)
		log_verbose = 1;
	setup(&sv);
	serve(&sv);
	shutdown_all(&sv);
	return 0;
}
