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
#include "httpd/http.h"
#include "httpd/request.h"
#include "httpd/sandbox.h"
#include "httpd/metrics.h"
#include "httpd/stream.h"
#include "loader/probe.h"
#include "util/cgroup.h"
#include "util/event.h"
#include "util/log.h"
#include "util/store.h"
#include "util/timefmt.h"

#define BATCH 512
/* Exit status when the backend asked for with -backend cannot run on this
 * kernel (ebpf-server(8)). */
#define EXIT_UNAVAILABLE 3

/* What /health tells about a kernel without BTF. */
static const char *const no_btf_limits[] = {
	"no BTF: socket type, protocol and ppid unknown", NULL
};
#define READER_NICE -10

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
};

/* The longest bearer token -token-file may hold. */
#define TOKEN_MAX 1024

/* What the ring callbacks fill: decoded events waiting for the store. */
struct reader {
	struct store *store;
	struct metrics *metrics;
	struct hub *hub;
	unsigned char folded[BATCH];
	int64_t mono_to_real;
	struct event batch[BATCH];
	size_t n;
	uint64_t bad;
};

static volatile sig_atomic_t stop;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ebpf-server [-addr host:port] [-max-events n] [-threads n]\n"
	    "                   [-timeout ms] [-ring-pages n] [-max-streams n]\n"
	    "                   [-max-body-size n] [-max-header-size n]\n"
	    "                   [-token-file path] [-no-sandbox] [-backend name]\n"
	    "                   [-v] [-h] [-version]\n"
	    "\n"
	    "Records every connect() and every datagram sent to an explicit address\n"
	    "on this host with eBPF and serves the events as JSON over HTTP.  Must\n"
	    "run as root (or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN).\n"
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
	    "  -backend name     tracepoint-exit (one program per call, needs BTF)\n"
	    "                    or tracepoint (enter/exit pair) (default cheapest)\n"
	    "  -v                debug logging (default off)\n"
	    "  -h                this help\n"
	    "  -version          print the version and exit\n"
	    "\n"
	    "API: GET /health, GET /, POST /api/connection-summary,\n"
	    "     GET|POST /api/list-connections, GET /api/top, GET /api/stream,\n"
	    "     GET /metrics   (see ebpf-server(8) and README.md)\n",
	    STORE_DEFAULT_MAX, HTTP_THREADS_MAX, HTTP_THREADS_DEFAULT,
	    STREAM_DEFAULT_MAX, REQ_BODY_MAX,
	    HTTP_HEADER_DEFAULT);
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
			if (!o->backend || (strcmp(o->backend, "tracepoint") != 0 &&
			    strcmp(o->backend, "tracepoint-exit") != 0)) {
				fprintf(stderr, "ebpf-server: -backend: want tracepoint-exit "
				    "or tracepoint\n");
				exit(2);
			}
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

static void
flush(struct reader *r)
{
	if (r->n) {
		/* The folded marks tell the streams which events are new
		 * records; the metrics count every event. */
		store_add_marked(r->store, r->batch, r->n, r->folded);
		metrics_events(r->metrics, r->batch, r->n);
		hub_publish(r->hub, r->batch, r->n, r->folded);
		r->n = 0;
	}
}

static void
on_sample(void *ctx, const void *data, uint32_t len)
{
	struct reader *r = ctx;

	if (ev_decode(data, len, r->mono_to_real, &r->batch[r->n]) < 0) {
		r->bad++;
		return;
	}
	if (++r->n == BATCH)
		flush(r);
}

static void
on_lost(void *ctx, uint64_t n)
{
	struct reader *r = ctx;

	store_lost(r->store, n);
	log_debug("perf ring: %llu events lost", (unsigned long long)n);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct probe_conf pc = { 0 };
	struct http_conf hc = { 0 };
	struct api_state st = { 0 };
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct sigaction sa;
	sigset_t block, old;
	struct reader *r;
	struct probe *probe;
	struct http *http;
	struct opts o = { 0 };
	uint64_t last_sync;
	const char *fault;
	char err[512], *token = NULL;
	int e;

	parse(argc, argv, &o);
	if (o.verbose)
		log_verbose = 1;
	if (!privileged())
		fatalx("must run as root (or with CAP_BPF, CAP_PERFMON and "
		    "CAP_SYS_ADMIN) to load eBPF programs: try sudo");
	if (o.token_file)
		token = read_token(o.token_file);

	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; newer ones
	 * use memory cgroups, so failing to raise it is harmless there. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		log_debug("setrlimit RLIMIT_MEMLOCK: %s (ignored: not needed "
		    "since Linux 5.11)", strerror(errno));

	r = ecalloc(1, sizeof(*r));
	if ((r->store = store_new(o.max_events)) == NULL)
		fatal("store for %zu events", o.max_events);
	if ((r->metrics = metrics_new()) == NULL ||
	    (r->hub = hub_new(o.max_streams, STREAM_KEEPALIVE_MS)) == NULL)
		fatal("metrics and streams");
	/* Found now, while /proc/self/mountinfo is certainly readable; the
	 * tree itself is walked when a response needs a path. */
	if ((st.cg = cg_new(NULL)) == NULL)
		log_warnx("no cgroup2 mount found: cgroup paths will be empty");
	r->mono_to_real = time_mono_to_real();
	st.store = r->store;
	st.metrics = r->metrics;
	st.hub = r->hub;
	st.start_ns = time_mono_ns();
	st.max_body = o.max_body;
	st.timeout_ms = o.timeout_ms;

	if (o.ring_pages == 0)
		o.ring_pages = default_ring_pages();
	pc.ring_pages = o.ring_pages;
	/* Wake the reader when an eighth of the ring is full: thousands of
	 * events per wakeup, and seven eighths left for a reader that is slow
	 * to get a CPU.  The poll time-out bounds latency when traffic is
	 * light. */
	pc.watermark = o.ring_pages * (unsigned)sysconf(_SC_PAGESIZE) / 8;
	pc.diag = stderr;
	/* For the test suite only: a program the verifier must reject, to
	 * see that its log and a listing are printed.  A variable with this
	 * exact name and value is not set by accident. */
	if ((fault = getenv("EBPF_SERVER_FAULT")) != NULL &&
	    strcmp(fault, "verifier-reject") == 0)
		pc.fault_verifier = 1;
	pc.backend = o.backend;
	if ((e = probe_open(&pc, &probe, err, sizeof(err))) < 0) {
		/* A backend this kernel cannot run is not a failure of the
		 * server: say so apart, for scripts that try each in turn. */
		if (e == -EOPNOTSUPP && o.backend) {
			log_warnx("%s", err);
			exit(EXIT_UNAVAILABLE);
		}
		fatalx("%s", err);
	}
	st.backend = probe_backend(probe);
	if (!probe_has_socket_info(probe)) {
		log_warnx("socket type and protocol unavailable (no usable BTF)");
		st.limits = no_btf_limits;
	}

	/* civetweb's threads inherit this mask: signals go to the main
	 * thread only, which then stops everything in order. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	hc.addr = o.addr;
	hc.threads = o.threads;
	hc.timeout_ms = o.timeout_ms;
	hc.max_header = o.max_header;
	hc.token = token;
	if (!o.no_sandbox && sandbox_prepare(port_of(o.addr) < 1024, err,
	    sizeof(err)) < 0) {
		probe_close(probe);
		fatalx("%s", err);
	}
	if ((http = http_start(&hc, &st, err, sizeof(err))) == NULL) {
		probe_close(probe);
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
	if (o.no_sandbox) {
		log_warnx("-no-sandbox: serving as uid %d with every capability "
		    "and no system call filter", (int)geteuid());
	} else if (sandbox_enter(o.verbose, err, sizeof(err)) < 0) {
		http_stop(http);
		probe_close(probe);
		fatalx("%s", err);
	} else {
		log_debug("sandbox: uid %d, no capabilities, no_new_privs, "
		    "seccomp allow-list of %zu system calls (others fail with "
		    "EPERM%s)", (int)geteuid(), sandbox_allowed(),
		    o.verbose ? " and are logged by the kernel" : "");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigdelset(&block, SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);

	http_ready(http);
	log_info("ebpf-server %s listening on %s (capture: %s%s%s)", VERSION,
	    o.addr, st.backend, token ? ", bearer token required" : "",
	    o.no_sandbox ? ", no sandbox" : "");

	last_sync = time_mono_ns();
	while (!stop) {
		long n = probe_poll(probe, 100, on_sample, on_lost, r);

		if (n < 0)
			log_warnx("reading perf rings: %s", strerror((int)-n));
		flush(r);
		/* Follow wall-clock adjustments (NTP steps) once a second. */
		if (time_mono_ns() - last_sync > 1000000000ULL) {
			r->mono_to_real = time_mono_to_real();
			last_sync = time_mono_ns();
		}
	}

	log_info("shutting down");
	probe_close(probe);
	http_stop(http);
	hub_free(r->hub);
	metrics_free(r->metrics);
	cg_free(st.cg);
	store_free(r->store);
	free(r);
	free(token);
	return 0;
}
