/*
 * Sections 4 and 7 of `make bench`, the ones that drive wrk against
 * nginx: 4, the API against nginx serving the same response from a file;
 * 7, the host's own workload (nginx serving a small file) with the server
 * stopped and running, per backend.  run_wrk() and start_nginx() are
 * bench_http.h's too.
 *
 * Included by bench_run.c after its helpers (median(), best_high(),
 * others_running(), get_health(), use_variant(), variants, out, quick,
 * rounds, tmpdir), which it uses.
 */
#ifndef BENCH_WRK_H
#define BENCH_WRK_H

/* --- 4. API ---------------------------------------------------------------- */

struct wrk {
	double rps, p99_ms;
	long non2xx;
};

static double
unit_ms(double v, const char *u)
{
	if (strcmp(u, "us") == 0)
		return v / 1000;
	if (strcmp(u, "s") == 0)
		return v * 1000;
	return v; /* ms */
}

static int
run_wrk(int port, const char *path, int conns, int secs, struct wrk *w)
{
	char cmd[512], line[512], u[8];
	double v;
	FILE *p;

	memset(w, 0, sizeof(*w));
	snprintf(cmd, sizeof(cmd), "wrk -t%d -c%d -d%ds --latency "
	    "'http://127.0.0.1:%d%s' 2>&1", conns < 2 ? 1 : 2, conns, secs, port, path);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, " Requests/sec: %lf", &v) == 1)
			w->rps = v;
		else if (sscanf(line, " 99%% %lf%7[a-z]", &v, u) == 2)
			w->p99_ms = unit_ms(v, u);
		else
			sscanf(line, " Non-2xx or 3xx responses: %ld", &w->non2xx);
	}
	return pclose(p) == 0 ? 0 : -1;
}

static pid_t
start_nginx(int port, const char *body, size_t len)
{
	char path[512], conf[512];
	FILE *f;
	pid_t pid;
	double t0;

	snprintf(path, sizeof(path), "%s/nginx", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/nginx/list.json", tmpdir);
	if ((f = fopen(path, "we")) == NULL)
		return -1;
	fwrite(body, 1, len, f);
	fclose(f);
	snprintf(conf, sizeof(conf), "%s/nginx/nginx.conf", tmpdir);
	if ((f = fopen(conf, "we")) == NULL)
		return -1;
	fprintf(f, "daemon off;\nmaster_process on;\nworker_processes auto;\n"
	    "pid %s/nginx/nginx.pid;\nerror_log %s/nginx/error.log;\n"
	    "events { worker_connections 1024; }\n"
	    "http {\n access_log off;\n keepalive_requests 1000000;\n"
	    " types { application/json json; }\n"
	    " server {\n  listen 127.0.0.1:%d;\n  root %s/nginx;\n }\n}\n",
	    tmpdir, tmpdir, port, tmpdir);
	fclose(f);
	if ((pid = fork()) == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execlp("nginx", "nginx", "-p", tmpdir, "-c", conf, (char *)NULL);
		_exit(127);
	}
	t0 = it_now();
	while (it_now() - t0 < 5) {
		struct reply r;

		if (it_http(port, "GET", "/list.json", NULL, &r) == 0 && r.status == 200) {
			it_reply_free(&r);
			return pid;
		}
		it_reply_free(&r);
		usleep(20000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return -1;
}

static void
section_api(void)
{
	static const int conns[] = { 1, 16, 64 };
	struct wrk w;
	double rh[3][MAXR], lh[3][MAXR], ph[3][MAXR], pl[3][MAXR], rn[3][MAXR],
	    pn[3][MAXR], rel[3][MAXR];
	const char *lpath = "/api/list-connections?limit=100";
	int reps = quick ? 1 : 3, secs = quick ? 1 : 3, i, j, nport;
	long fill = 200000;
	struct server srv;
	struct health h;
	struct reply r;
	pid_t ng;

	if (it_start(&srv, NULL) < 0) {
		fprintf(stderr, "bench: server did not start; see %s\n", srv.log);
		exit(1);
	}
	child_loop(LOOP_UDP, fill, 0, "bench-fill", NULL, 1);
	wait_counted(srv.port, "command", "\"bench-fill\"", fill, 5);
	get_health(srv.port, &h);
	if (it_http(srv.port, "GET", lpath, NULL, &r) < 0 || r.status != 200) {
		fprintf(stderr, "bench: list-connections failed\n");
		exit(1);
	}
	nport = it_free_port();
	if ((ng = start_nginx(nport, r.body, r.len)) < 0) {
		fprintf(stderr, "bench: nginx did not start (see %s/nginx/error.log)\n",
		    tmpdir);
		exit(1);
	}
	for (j = 0; j < reps; j++) {
		for (i = 0; i < 3; i++) {
			run_wrk(srv.port, "/health", conns[i], secs, &w);
			rh[i][j] = w.rps;
			ph[i][j] = w.p99_ms;
			run_wrk(srv.port, lpath, conns[i], secs, &w);
			lh[i][j] = w.rps;
			pl[i][j] = w.p99_ms;
			if (w.non2xx)
				fprintf(stderr, "bench: %ld non-2xx answers\n", w.non2xx);
			run_wrk(nport, "/list.json", conns[i], secs, &w);
			rn[i][j] = w.rps;
			pn[i][j] = w.p99_ms;
			rel[i][j] = lh[i][j] / rn[i][j];
			fprintf(stderr, "bench: api c=%d: health %.0f list %.0f nginx %.0f req/s\n",
			    conns[i], rh[i][j], lh[i][j], rn[i][j]);
		}
	}
	kill(ng, SIGTERM);
	waitpid(ng, NULL, 0);
	it_stop(&srv, NULL);

	fprintf(out, "\n### 4. API (%lld events stored, list response %zu bytes, "
	    "wrk %d s × %d runs; best / median)\n\n", h.stored, r.len, secs, reps);
	fprintf(out, "| connections | `/health` req/s | p99 ms | `list-connections?limit=100` req/s "
	    "| p99 ms | nginx static file req/s | p99 ms | list / nginx |\n");
	fprintf(out, "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < 3; i++)
		fprintf(out, "| %d | %.0f / %.0f | %.2f | %.0f / %.0f | %.2f | %.0f / %.0f "
		    "| %.2f | %.0f %% / %.0f %% |\n", conns[i],
		    best_high(rh[i], reps), median(rh[i], reps), median(ph[i], reps),
		    best_high(lh[i], reps), median(lh[i], reps), median(pl[i], reps),
		    best_high(rn[i], reps), median(rn[i], reps), median(pn[i], reps),
		    100 * best_high(rel[i], reps), 100 * median(rel[i], reps));
	it_reply_free(&r);
}

/* --- 7. host workload ----------------------------------------------------- */

/*
 * What the host feels: nginx serving a small file under wrk, requests/s
 * with the server stopped and running, interleaved, per backend.  A web
 * server makes many system calls and accepts many connections, so the
 * syscall-tracepoint tax shows here as well as the per-connect one.
 */
static void
section_host(void)
{
	static const char body[] = "{\"ok\":true}\n";
	double off[MAXR], on[MAXR], ratio[MAXR];
	int secs = quick ? 1 : 2, n = rounds < 5 ? 5 : rounds, i, j, nport;
	struct server srv;
	struct wrk w;
	char why[256];
	pid_t ng;

	nport = it_free_port();
	if ((ng = start_nginx(nport, body, sizeof(body) - 1)) < 0) {
		fprintf(stderr, "bench: nginx did not start\n");
		return;
	}
	fprintf(out, "\n### 7. Host workload: nginx, a %zu-byte file, wrk -c16 "
	    "%d s, %d rounds (server stopped vs running)\n\n", sizeof(body) - 1,
	    secs, n);
	fprintf(out, "| backend | stopped req/s (median) | running req/s (median) "
	    "| ratio best | ratio median | spread (min-max) |\n");
	fprintf(out, "|---|---:|---:|---:|---:|---|\n");
	for (j = 0; j < NVARIANT; j++) {
		const struct variant *v = &variants[j];
		int dirty = 0;
		double lo = 1e9, hi = 0;

		if (!v->dflt || (only_backends && !strstr(only_backends, v->backend)))
			continue;
		use_variant(v);
		for (i = 0; i < n; i++) {
			dirty |= bench_contaminated(0, why, sizeof(why)) != NULL ||
			    others_running(0);
			run_wrk(nport, "/list.json", 16, secs, &w);
			off[i] = w.rps;
			if (it_start(&srv, NULL) < 0)
				break;
			run_wrk(nport, "/list.json", 16, secs, &w);
			on[i] = w.rps;
			it_stop(&srv, NULL);
			ratio[i] = off[i] > 0 ? on[i] / off[i] : 0;
			lo = ratio[i] < lo ? ratio[i] : lo;
			hi = ratio[i] > hi ? ratio[i] : hi;
			fprintf(stderr, "bench: host %s: %.0f / %.0f req/s\n",
			    v->backend, off[i], on[i]);
		}
		if (i == 0)
			continue;
		if (dirty)
			fprintf(out, "| %s | %.0f | %.0f | baseline contaminated | "
			    "baseline contaminated | |\n", v->backend,
			    median(off, i), median(on, i));
		else
			fprintf(out, "| %s | %.0f | %.0f | %.3f× | %.3f× | %.3f–%.3f |\n",
			    v->backend, median(off, i), median(on, i),
			    best_high(ratio, i), median(ratio, i), lo, hi);
	}
	unsetenv("ITEST_BACKEND");
	kill(ng, SIGTERM);
	waitpid(ng, NULL, 0);
}

#endif
