/*
 * `make bench`: the five measurements of issue #3, the HTTP path of
 * issue #11 (bench_http.h), what a busy or hostile host costs, issue
 * #16 (bench_bounded.h, section 8), and the fleet of issue #19
 * (bench_fleet.h, section 9), against the real server
 * binary ($EBPF_SERVER) and the real kernel, printed as one Markdown table.
 *
 * This machine is shared and noisy, so every comparison is a ratio taken
 * within one round (server stopped, then running, back to back), rounds
 * are repeated, and the table gives the best and the median ratio.  A
 * round whose baseline is contaminated (another ebpf-server, a syscall
 * tracepoint or tracing program of anyone's, a slow bare getppid: see
 * bench_clean.h) is thrown away and run again; when no clean round can be
 * had the table says "baseline contaminated" instead of a ratio.
 *
 * Sections 1-2 run once per capture backend as the server runs by
 * default (cgroup and tracepoint-exit with per-CPU batches) and once more
 * without the batches (EBPF_SERVER_BATCH=0), to show what they save;
 * sections 3 and 7 measure the default configuration.
 *
 * usage: bench_run [-rounds n] [-quick] [-only 123456789] [-backends a,b]
 *                  [-out file]
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/bpf.h>

#include "tests/integration/itest.h"
#include "tests/integration/itest_load.h"
#include "tests/bench/bench_clean.h"
#include "tests/bench/bench_floor.h"
#include "tests/bench/bench_loops.h"

#define MAXR 32

static int rounds = 5;
static int quick;
static FILE *out;
static char tmpdir[128];

/* The capture configurations measured: a backend, batches on or off,
 * and whether that is how the server runs it by default (the tracepoint
 * pair outputs each event: it has no batches). */
struct variant {
	const char *backend;
	int batch;
	int dflt;
};
static const struct variant variants[] = {
	{ "cgroup", 1, 1 }, { "cgroup", 0, 0 }, { "tracepoint-exit", 1, 1 },
	{ "tracepoint-exit", 0, 0 }, { "tracepoint", 0, 1 },
};
#define NVARIANT (int)(sizeof(variants) / sizeof(variants[0]))
static const char *only_backends;       /* -backends, NULL: all */

/* Start the server with v's configuration (it_start reads these). */
static void
use_variant(const struct variant *v)
{
	setenv("ITEST_BACKEND", v->backend, 1);
	setenv("EBPF_SERVER_BATCH", v->batch ? "1" : "0", 1);
}

static const char *
vname(const struct variant *v)
{
	static char b[64];

	snprintf(b, sizeof(b), "%s%s", v->backend, v->dflt ? "" : ", no batches");
	return b;
}

/* --- small statistics ----------------------------------------------------- */

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(const double *v, int n)
{
	double s[MAXR * 4];

	if (n <= 0)
		return NAN;
	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), dcmp);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double
best_low(const double *v, int n)
{
	double m = INFINITY;

	while (n-- > 0)
		m = v[n] < m ? v[n] : m;
	return m;
}

static double
best_high(const double *v, int n)
{
	double m = -INFINITY;

	while (n-- > 0)
		m = v[n] > m ? v[n] : m;
	return m;
}

/* --- processes ------------------------------------------------------------ */

/* Other live ebpf-server processes on the machine (not ours, not zombies). */
static int
others_running(pid_t ours)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300], buf[512], *p;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]) || atoi(de->d_name) == ours)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		/* "pid (comm) S ...": a zombie holds no probe. */
		if (fgets(buf, sizeof(buf), f) && strstr(buf, "(ebpf-server)") &&
		    (p = strrchr(buf, ')')) && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Run a loop in a child named comm; returns ns per call, the child's pid
 * in *pid. */
static double
child_loop(enum loop_kind kind, long n, int port, const char *comm, pid_t *pid,
    int bursts)
{
	int pfd[2], status;
	double ns = -1;
	pid_t p;

	if (pipe(pfd) < 0)
		return -1;
	if ((p = fork()) == 0) {
		double sum = 0;
		int b;

		close(pfd[0]);
		prctl(PR_SET_NAME, comm);
		for (b = 0; b < bursts; b++)
			sum += bl_run(kind, n, port);
		sum /= bursts;
		if (write(pfd[1], &sum, sizeof(sum)) != sizeof(sum))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (p < 0 || read(pfd[0], &ns, sizeof(ns)) != sizeof(ns))
		ns = -1;
	close(pfd[0]);
	if (p > 0)
		waitpid(p, &status, 0);
	if (pid)
		*pid = p;
	return ns;
}

/* nanoseconds the thread tid of pid has run on a CPU (schedstat). */
static uint64_t
cpu_ns(pid_t pid, pid_t tid)
{
	char path[128];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* All threads of pid: utime + stime in ns (clock ticks). */
static uint64_t
proc_cpu_ns(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (!fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		ut = st = 0;
	fclose(f);
	return (ut + st) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

/*
 * What the kernel says our connect programs cost (kernel.bpf_stats_enabled):
 * run count and nanoseconds summed over the programs of pid whose name
 * mentions connect, found through the prog_id of its fds.
 */
static void
prog_stats(pid_t pid, uint64_t *cnt, uint64_t *ns)
{
	char path[300], line[128];
	struct dirent *de;
	DIR *d;

	*cnt = *ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct bpf_prog_info info;
		unsigned id = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "prog_id: %u", &id) == 1)
				break;
		fclose(f);
		if (!id)
			continue;
		if (it_bpf_info(BPF_PROG_GET_FD_BY_ID, id, &info, sizeof(info)) == 0 &&
		    strstr(info.name, "connect")) {
			*cnt += info.run_cnt;
			*ns += info.run_time_ns;
		}
	}
	closedir(d);
}

/* Set kernel.bpf_stats_enabled; returns the old value. */
static int
bpf_stats(int on)
{
	const char *p = "/proc/sys/kernel/bpf_stats_enabled";
	int old = 0;
	FILE *f;

	if ((f = fopen(p, "re")) != NULL) {
		if (fscanf(f, "%d", &old) != 1)
			old = 0;
		fclose(f);
	}
	if ((f = fopen(p, "we")) != NULL) {
		fprintf(f, "%d\n", on);
		fclose(f);
	}
	return old;
}

/* --- the server's API ----------------------------------------------------- */

struct health {
	long long seen, stored, lost;
	char backend[64];
};

static int
get_health(int port, struct health *h)
{
	struct reply r;
	const char *b;

	memset(h, 0, sizeof(*h));
	if (it_http(port, "GET", "/health", NULL, &r) < 0 || !r.json) {
		it_reply_free(&r);
		return -1;
	}
	h->seen = json_integer_value(json_object_get(r.json, "events_seen"));
	h->stored = json_integer_value(json_object_get(r.json, "events_stored"));
	h->lost = json_integer_value(json_object_get(r.json, "events_lost"));
	b = json_string_value(json_object_get(r.json, "backend"));
	snprintf(h->backend, sizeof(h->backend), "%s", b ? b : "?");
	it_reply_free(&r);
	return 0;
}

static long long
summary(int port, const char *key, const char *val)
{
	char body[160];
	struct reply r;
	long long n = -1;

	snprintf(body, sizeof(body), "{\"%s\":%s,\"duration\":3600}", key, val);
	if (it_http(port, "POST", "/api/connection-summary", body, &r) == 0 && r.json)
		n = json_integer_value(json_object_get(r.json, "total_attempts"));
	it_reply_free(&r);
	return n;
}

/* Wait until the server counted want events from pid (or command), at
 * most secs.  Returns the last count. */
static long long
wait_counted(int port, const char *key, const char *val, long long want, double secs)
{
	double t0 = it_now();
	long long n;

	while ((n = summary(port, key, val)) < want && it_now() - t0 < secs)
		usleep(20000);
	return n;
}

static long long
wait_pid(int port, pid_t pid, long long want)
{
	char v[32];

	snprintf(v, sizeof(v), "%d", (int)pid);
	return wait_counted(port, "pid", v, want, 5);
}

/* --- 1 and 2: probe cost and collateral cost ------------------------------ */

static const struct {
	enum loop_kind kind;
	const char *name;
	long n;
} loops[] = {
	{ LOOP_UDP, "UDP connect() 127.0.0.1", 300000 },
	{ LOOP_TCP_REFUSED, "TCP connect() refused", 100000 },
	{ LOOP_UNIX, "unix dgram connect()", 300000 },
	{ LOOP_GETPPID, "getppid() (no probe on it)", 2000000 },
};
#define NLOOPS (int)(sizeof(loops) / sizeof(loops[0]))

static void
section_cost(const struct variant *v)
{
	double off[NLOOPS][MAXR], on[NLOOPS][MAXR], ratio[NLOOPS][MAXR], prog_ns[MAXR];
	/* UDP connect with the empty program (bench_floor.h); what it and
	 * the server add over the stopped loop. */
	double empty_ns[MAXR], empty_add[MAXR], ours_add[MAXR];
	long long exported[NLOOPS], wanted[NLOOPS];
	int port = it_free_port(), r = 0, tries = 0, k;
	struct server srv;
	char backend[64] = "?", why[256] = "", lastwhy[256] = "";
	long long lost = 0;
	int ndirty = 0;

	use_variant(v);
	memset(exported, 0, sizeof(exported));
	memset(wanted, 0, sizeof(wanted));
	while (r < rounds && tries++ < rounds * 3) {
		long long got[NLOOPS] = { 0 }, want[NLOOPS] = { 0 };
		struct health h;
		int dirty = others_running(0);

		if (dirty)
			snprintf(why, sizeof(why), "another ebpf-server is running");
		/* Server stopped. */
		for (k = 0; k < NLOOPS; k++)
			off[k][r] = child_loop(loops[k].kind, loops[k].n / (quick ? 4 : 1),
			    port, "bench-off", NULL, 1);
		if (!dirty && bench_contaminated(off[NLOOPS - 1][r], why, sizeof(why)))
			dirty = 1;
		/* The floor of the socket hooks, for the backend that uses
		 * them. */
		if (strcmp(v->backend, "cgroup") == 0 && (k = floor_attach()) >= 0) {
			empty_ns[r] = child_loop(LOOP_UDP, loops[0].n / (quick ? 4 : 1),
			    port, "bench-floor", NULL, 1);
			close(k);
		} else {
			empty_ns[r] = NAN;
		}
		if (it_start(&srv, NULL) < 0) {
			fprintf(stderr, "bench: server did not start; see %s\n", srv.log);
			exit(1);
		}
		dirty |= others_running(srv.pid);
		/* Server running: every connect must come out the other end. */
		for (k = 0; k < NLOOPS; k++) {
			long n = loops[k].n / (quick ? 4 : 1);
			pid_t pid;

			uint64_t c0, n0, c1, n1;
			int old = 0;

			on[k][r] = child_loop(loops[k].kind, n, port, "bench-on", &pid, 1);
			if (loops[k].kind != LOOP_GETPPID) {
				got[k] = wait_pid(srv.port, pid, n);
				want[k] = n;
			}
			if (loops[k].kind != LOOP_UDP)
				continue;
			/* The program's own cost, from a loop of its own:
			 * kernel.bpf_stats_enabled times every run (two clock
			 * reads more per connect), so the ratio above is
			 * taken without it, as the server runs. */
			old = bpf_stats(1);
			prog_stats(srv.pid, &c0, &n0);
			child_loop(loops[k].kind, n / 3, port, "bench-on", &pid, 1);
			prog_stats(srv.pid, &c1, &n1);
			bpf_stats(old);
			prog_ns[r] = c1 > c0 ? (double)(n1 - n0) / (double)(c1 - c0) : NAN;
			got[k] += wait_pid(srv.port, pid, n / 3);
			want[k] += n / 3;
		}
		get_health(srv.port, &h);
		snprintf(backend, sizeof(backend), "%s", h.backend);
		if (h.lost)
			fprintf(stderr, "bench: %lld events lost in round %d\n", h.lost, r);
		for (k = 0; k < NLOOPS; k++)
			if (got[k] != want[k])
				fprintf(stderr, "bench: %s: %lld of %lld events counted\n",
				    loops[k].name, got[k], want[k]);
		it_stop(&srv, NULL);
		if (!dirty && others_running(0)) {
			dirty = 1;
			snprintf(why, sizeof(why), "another ebpf-server is running");
		}
		if (dirty)
			snprintf(lastwhy, sizeof(lastwhy), "%s", why);
		/* Throw a round away while clean ones can still be had. */
		if (dirty && rounds * 3 - tries >= rounds - r) {
			fprintf(stderr, "bench: baseline contaminated (%s): round "
			    "thrown away\n", why);
			continue;
		}
		ndirty += dirty;
		for (k = 0; k < NLOOPS; k++) {
			ratio[k][r] = on[k][r] / off[k][r];
			exported[k] += got[k];
			wanted[k] += want[k];
		}
		empty_add[r] = empty_ns[r] - off[0][r];
		ours_add[r] = on[0][r] - off[0][r];
		lost += h.lost;
		fprintf(stderr, "bench: round %d: udp %.0f/%.0f (empty hook %.0f) "
		    "tcp %.0f/%.0f unix %.0f/%.0f getppid %.0f/%.0f ns\n", r,
		    off[0][r], on[0][r], empty_ns[r], off[1][r], on[1][r], off[2][r],
		    on[2][r], off[3][r], on[3][r]);
		r++;
	}
	if (r == 0) {
		fprintf(out, "\n(no clean round: other ebpf-servers were running)\n");
		return;
	}

	fprintf(out, "\n### 1. Probe cost per call, and 2. collateral cost "
	    "(backend `%s`%s, %d rounds kept of %d, %d of them with a "
	    "contaminated baseline; %lld events lost)\n\n", backend,
	    v->batch ? ", per-CPU batches" : ", no batches", r, tries, ndirty, lost);
	if (ndirty == r) {
		/* Not one clean baseline: a ratio would lie. */
		fprintf(out, "**baseline contaminated** (%s): no ratio.\n\n", lastwhy);
	}
	fprintf(out, "CPU time of the calling thread per call (`CLOCK_THREAD_CPUTIME_ID`),\n"
	    "server stopped vs running, in one round; best and median of the rounds.\n\n");
	fprintf(out, "| loop | stopped ns/call (median) | running ns/call (median) "
	    "| ratio best | ratio median | target | events exported |\n");
	fprintf(out, "|---|---:|---:|---:|---:|---|---|\n");
	for (k = 0; k < NLOOPS; k++) {
		char exp[64];

		if (loops[k].kind == LOOP_GETPPID)
			snprintf(exp, sizeof(exp), "(not probed)");
		else
			snprintf(exp, sizeof(exp), "%lld / %lld", exported[k], wanted[k]);
		if (ndirty == r) {
			fprintf(out, "| %s | %.0f | %.0f | baseline contaminated | "
			    "baseline contaminated | | %s |\n", loops[k].name,
			    median(off[k], r), median(on[k], r), exp);
			continue;
		}
		fprintf(out, "| %s | %.0f | %.0f | %.2f× | %.2f× | %s | %s |\n",
		    loops[k].name, median(off[k], r), median(on[k], r),
		    best_low(ratio[k], r), median(ratio[k], r),
		    loops[k].kind == LOOP_GETPPID ? "≤ 1.03×" :
		    median(ratio[k], r) <= 1.5 ? "≤ 1.5× **holds**" : "≤ 1.5× misses",
		    exp);
	}
	fprintf(out, "\nOur connect program itself, as the kernel times it "
	    "(`kernel.bpf_stats_enabled` during a UDP loop of its own, not the "
	    "timed one): median %.0f ns, best %.0f ns per connect.\n",
	    median(prog_ns, r), best_low(prog_ns, r));
	if (strcmp(v->backend, "cgroup") != 0)
		return;
	if (isnan(median(empty_ns, r))) {
		fprintf(out, "\nThe empty connect4 program could not be attached "
		    "(see the bench's stderr): no floor.\n");
		return;
	}
	fprintf(out, "\nThe floor, in the same rounds: an empty connect4 program "
	    "linked to the root cgroup as ours are makes the UDP connect %.0f ns "
	    "(median; %.2f×), adding %+.0f ns median (%+.0f best); the server adds "
	    "%+.0f ns median (%+.0f best), so %.0f ns per connect (median) are "
	    "ours beyond what any cgroup program costs.\n", median(empty_ns, r),
	    median(empty_ns, r) / median(off[0], r), median(empty_add, r),
	    best_low(empty_add, r), median(ours_add, r), best_low(ours_add, r),
	    median(ours_add, r) - median(empty_add, r));
}

/* --- 3. loss ------------------------------------------------------------- */

static void
section_loss(const struct variant *v)
{
	struct server srv;
	struct health h;
	uint64_t c0, c1, p0, p1;
	double ns, t0, t1;
	long long counted;
	pid_t pid;
	long n = quick ? 100000 : 300000;

	use_variant(v);
	if (it_start(&srv, NULL) < 0) {
		fprintf(stderr, "bench: server did not start; see %s\n", srv.log);
		exit(1);
	}
	c0 = cpu_ns(srv.pid, srv.pid);
	p0 = proc_cpu_ns(srv.pid);
	t0 = it_now();
	ns = child_loop(LOOP_UDP, n, 0, "bench-loss", &pid, 3);
	t1 = it_now();
	counted = wait_counted(srv.port, "command", "\"bench-loss\"", 3 * n, 5);
	c1 = cpu_ns(srv.pid, srv.pid);
	p1 = proc_cpu_ns(srv.pid);
	get_health(srv.port, &h);
	it_stop(&srv, NULL);

	fprintf(out, "\n### 3. Loss (backend `%s`)\n\n", vname(v));
	fprintf(out, "| what | value | target |\n|---|---:|---|\n");
	fprintf(out, "| connects made (3 × %ld, one process) | %ld | |\n", n, 3 * n);
	fprintf(out, "| `connection-summary` for the command | %lld | = %ld %s |\n",
	    counted, 3 * n, counted == 3 * n ? "**holds**" : "misses");
	fprintf(out, "| `/health` events_lost | %lld | 0 %s |\n", h.lost,
	    h.lost == 0 ? "**holds**" : "misses");
	fprintf(out, "| producer rate (one process) | %.2f M connects/s (%.0f ns each) | |\n",
	    3.0 * (double)n / (t1 - t0) / 1e6, ns);
	fprintf(out, "| reader thread CPU for them | %.0f ms (%.0f ns/event) | |\n",
	    (double)(c1 - c0) / 1e6, (double)(c1 - c0) / (3.0 * (double)n));
	fprintf(out, "| reader drain rate on one core | %.1f M events/s of CPU | |\n",
	    c1 > c0 ? 3.0 * (double)n / ((double)(c1 - c0) / 1e9) / 1e6 : 0.0);
	fprintf(out, "| whole server CPU (all threads) | %.0f ms | |\n",
	    (double)(p1 - p0) / 1e6);
}

/* --- 4. API and 7. host workload: wrk and nginx, in their own file ------ */

#include "tests/bench/bench_wrk.h"

/* --- 5. footprint ---------------------------------------------------------- */

/* exec to the first 200 from /health, in ms; the server is left running. */
static double
startup_ms(struct server *s, const char *const *extra)
{
	char addr[64];
	const char *argv[16];
	double t0;
	int i = 0;

	memset(s, 0, sizeof(*s));
	s->port = it_free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
	snprintf(s->log, sizeof(s->log), "%s/server.log", tmpdir);
	argv[i++] = it_binary();
	argv[i++] = "-addr";
	argv[i++] = addr;
	while (extra && *extra && i < 14)
		argv[i++] = *extra++;
	argv[i] = NULL;
	t0 = it_now();
	if ((s->pid = fork()) == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (it_now() - t0 < 10) {
		struct reply r;

		if (it_http(s->port, "GET", "/health", NULL, &r) == 0 && r.status == 200) {
			it_reply_free(&r);
			return (it_now() - t0) * 1000;
		}
		it_reply_free(&r);
		usleep(500);
	}
	return -1;
}

static void
section_footprint(void)
{
	static const char *const big[] = { "-max-events", "1000000", NULL };
	double st[MAXR], idle[MAXR];
	long rss0, rss1, n = 1000000;
	struct server srv;
	struct health h;
	struct stat sb;
	int i, reps = quick ? 3 : 7;

	for (i = 0; i < reps; i++) {
		st[i] = startup_ms(&srv, NULL);
		usleep(200000);
		idle[i] = (double)it_rss_kib(srv.pid);
		it_stop(&srv, NULL);
	}
	startup_ms(&srv, big);
	usleep(200000);
	rss0 = it_rss_kib(srv.pid);
	child_loop(LOOP_UDP, n / 4, 0, "bench-rss", NULL, 4);
	wait_counted(srv.port, "command", "\"bench-rss\"", n, 10);
	get_health(srv.port, &h);
	rss1 = it_rss_kib(srv.pid);
	it_stop(&srv, NULL);
	if (stat(it_binary(), &sb) < 0)
		sb.st_size = 0;

	fprintf(out, "\n### 5. Footprint\n\n");
	fprintf(out, "| what | value | target |\n|---|---:|---|\n");
	fprintf(out, "| static stripped binary | %lld bytes (%.2f MiB) | ≤ 1 MiB %s |\n",
	    (long long)sb.st_size, (double)sb.st_size / 1048576.0,
	    sb.st_size <= 1048576 ? "**holds**" : "misses");
	fprintf(out, "| RSS idle (median of %d) | %.0f KiB | |\n", reps,
	    median(idle, reps));
	fprintf(out, "| RSS with -max-events 1000000, before / after %lld stored | "
	    "%ld / %ld KiB | |\n", h.stored, rss0, rss1);
	fprintf(out, "| bytes per stored event | %.0f | ≤ 160 %s |\n",
	    h.stored ? (double)(rss1 - rss0) * 1024 / (double)h.stored : 0,
	    h.stored && (double)(rss1 - rss0) * 1024 / (double)h.stored <= 160 ?
	    "**holds**" : "misses");
	fprintf(out, "| start-up, exec to serving with probes attached | best %.1f ms, "
	    "median %.1f ms | ≤ 100 ms %s |\n", best_low(st, reps), median(st, reps),
	    median(st, reps) <= 100 ? "**holds**" : "misses");
}

/* --- 6. the HTTP path: in its own file -------------------------------------- */

#include "tests/bench/bench_http.h"

/* --- 8. bounded memory, queries and clients: in its own file ------------- */

#include "tests/bench/bench_bounded.h"

/* --- main ------------------------------------------------------------------ */

static void
machine(void)
{
	char line[256], model[128] = "?";
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "re")) != NULL) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "model name : %127[^\n]", model) == 1)
				break;
		fclose(f);
	}
	if ((f = popen("uname -r", "r")) != NULL) {
		if (fgets(line, sizeof(line), f))
			line[strcspn(line, "\n")] = '\0';
		pclose(f);
	}
	fprintf(out, "Machine: %ld CPUs (`nproc`), %s, kernel %s.\n",
	    sysconf(_SC_NPROCESSORS_ONLN), model, line);
}

/* Section 8 uses the helpers above. */
#include "tests/bench/bench_fleet.h"

int
main(int argc, char **argv)
{
	const char *outpath = NULL;
	const char *only = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "-quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "-out") == 0 && i + 1 < argc)
			outpath = argv[++i];
		else if (strcmp(argv[i], "-only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "-backends") == 0 && i + 1 < argc)
			only_backends = argv[++i];
		else {
			fprintf(stderr, "usage: bench_run [-rounds n] [-quick] "
			    "[-only 123456789] [-backends a,b] [-out file]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAXR)
		rounds = 5;
	if (geteuid() != 0) {
		fprintf(stderr, "bench: needs root (it loads eBPF programs)\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ebpf-bench.%d", (int)getpid());
	mkdir(tmpdir, 0755);
	out = stdout;
	if (outpath && (out = fopen(outpath, "we")) == NULL) {
		perror(outpath);
		return 1;
	}
	fprintf(out, "## `make bench`\n\n");
	machine();
	fflush(out);
	for (i = 0; i < NVARIANT; i++) {
		if (only_backends && !strstr(only_backends, variants[i].backend))
			continue;
		if (!only || strchr(only, '1') || strchr(only, '2'))
			section_cost(&variants[i]);
		fflush(out);
		if ((!only || strchr(only, '3')) && variants[i].dflt)
			section_loss(&variants[i]);
		fflush(out);
	}
	unsetenv("ITEST_BACKEND");
	unsetenv("EBPF_SERVER_BATCH");
	if (!only || strchr(only, '7'))
		section_host();
	fflush(out);
	if (!only || strchr(only, '4'))
		section_api();
	fflush(out);
	if (!only || strchr(only, '5'))
		section_footprint();
	fflush(out);
	if (!only || strchr(only, '6'))
		section_http();
	fflush(out);
	if (!only || strchr(only, '8'))
		section_bounded();
	fflush(out);
	if (!only || strchr(only, '9'))
		section_fleet();
	fflush(out);
	if (out != stdout) {
		fclose(out);
		if ((out = fopen(outpath, "re")) != NULL) {
			int c;

			while ((c = fgetc(out)) != EOF)
				putchar(c);
			fclose(out);
		}
	}
	return 0;
}
