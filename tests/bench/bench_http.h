/*
 * Section 6 of `make bench`: the HTTP path (issue #11), against nginx
 * serving the very same bytes from a file.
 *
 *   - GET /health and GET /api/list-connections?limit=100&pid=P, wrk with
 *     16 connections, ours and nginx's interleaved round by round;
 *   - the server's RSS peak (VmHWM, reset before) while 8 clients each
 *     fetch the full list with the default flags and 262 144 events from
 *     2 000 busy processes stored, once reading as fast as they can and
 *     once reading slowly;
 *   - a new client's /health while 64 idle keep-alive clients, or 64
 *     clients trickling their headers, hold connections.
 *
 * Included by bench_run.c after its helpers (run_wrk(), start_nginx(),
 * median(), others_running(), out, quick, rounds, tmpdir), which it uses.
 */
#ifndef BENCH_HTTP_H
#define BENCH_HTTP_H

#define H_PIDS 2000          /* busy processes in the store */
#define H_PER_PID 132        /* events each: 264 000 > 262 144 stored */
#define H_LISTERS 8

/* 2000 processes, each making H_PER_PID UDP connects, 40 at a time. */
static void
h_fill(pid_t *some)
{
	int i, j, status;
	pid_t p[40];

	for (i = 0; i < H_PIDS; i += 40) {
		for (j = 0; j < 40; j++) {
			if ((p[j] = fork()) == 0) {
				prctl(PR_SET_NAME, "bench-http");
				bl_run(LOOP_UDP, H_PER_PID, 0);
				_exit(0);
			}
		}
		for (j = 0; j < 40; j++)
			if (p[j] > 0)
				waitpid(p[j], &status, 0);
		if (i == H_PIDS - 40)
			*some = p[39]; /* among the newest: all its events kept */
	}
}

/* The peak RSS since the last h_reset_peak(), in KiB. */
static long
h_peak_kib(pid_t pid)
{
	return it_status_kib(pid, "VmHWM");
}

/* Writing 5 to clear_refs resets VmHWM to the current RSS. */
static void
h_reset_peak(pid_t pid)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	if ((f = fopen(path, "we")) != NULL) {
		fputs("5", f);
		fclose(f);
	}
}

struct h_lister {
	int port, slow;
	size_t bytes;
	char tail[256];      /* the last bytes read, NUL-terminated */
	pthread_t th;
};

/* Keep the last sizeof(l->tail) - 1 bytes of what was read. */
static void
h_keep_tail(struct h_lister *l, const char *p, size_t n)
{
	size_t keep = sizeof(l->tail) - 1, have = strlen(l->tail), old;

	if (n >= keep) {
		memcpy(l->tail, p + n - keep, keep);
		l->tail[keep] = '\0';
		return;
	}
	old = have + n > keep ? keep - n : have;
	memmove(l->tail, l->tail + have - old, old);
	memcpy(l->tail + old, p, n);
	l->tail[old + n] = '\0';
}

/* The processes a whole list says it found ("... from N processes"), or
 * -1 when its end was not read. */
static long
h_list_pids(const struct h_lister *l)
{
	const char *p = strstr(l->tail, "connection events from ");

	return p ? strtol(p + 23, NULL, 10) : -1;
}

/* GET the full list and count its bytes; a slow reader takes 64 KiB
 * every 20 ms for 4 s from the first byte and hangs up, so that the server has to wait on
 * it. */
static void *
h_list_run(void *arg)
{
	static const char req[] = "GET /api/list-connections HTTP/1.1\r\n"
	    "Host: localhost\r\nConnection: close\r\n\r\n";
	struct h_lister *l = arg;
	char buf[65536];
	double t0;
	ssize_t n;
	int fd;

	if ((fd = it_dial(l->port)) < 0)
		return NULL;
	if (l->slow) {
		int sz = 65536;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	t0 = 0;
	if (write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1)
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			if (!l->bytes)
				t0 = it_now();
			l->bytes += (size_t)n;
			h_keep_tail(l, buf, (size_t)n);
			if (!l->slow)
				continue;
			/* Slowly for a few seconds, then gone: 70 MB at this
			 * pace would take twenty. */
			if (it_now() - t0 > (quick ? 1 : 4))
				break;
			usleep(20000);
		}
	close(fd);
	return NULL;
}

/*
 * Peak RSS (KiB) over the run of H_LISTERS concurrent full lists; the
 * bytes each got in *bytes.  *pids, when pids is not NULL, is the fewest
 * processes a list found (-1: one was cut before its end): the server
 * records every connect on the host, so another tenant's connect loop
 * evicts the bench's events, and a list of a few processes tells nothing
 * about the bound.
 */
static long
h_rss_under_lists(pid_t srv, int port, int slow, size_t *bytes, long *pids)
{
	struct h_lister l[H_LISTERS];
	int i;

	h_reset_peak(srv);
	for (i = 0; i < H_LISTERS; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].port = port;
		l[i].slow = slow;
		pthread_create(&l[i].th, NULL, h_list_run, &l[i]);
	}
	*bytes = 0;
	if (pids)
		*pids = H_PIDS;
	for (i = 0; i < H_LISTERS; i++) {
		pthread_join(l[i].th, NULL);
		if (l[i].bytes > *bytes)
			*bytes = l[i].bytes;
		if (pids && h_list_pids(&l[i]) < *pids)
			*pids = h_list_pids(&l[i]);
	}
	return h_peak_kib(srv);
}

/* A body of ours, to give nginx as a file. */
static int
h_save(int port, const char *path, const char *file)
{
	char name[512];
	struct reply r;
	FILE *f;
	int rc = -1;

	snprintf(name, sizeof(name), "%s/nginx/%s", tmpdir, file);
	if (it_http(port, "GET", path, NULL, &r) == 0 && r.status == 200 &&
	    (f = fopen(name, "we")) != NULL) {
		rc = fwrite(r.body, 1, r.len, f) == r.len ? (int)r.len : -1;
		fclose(f);
	}
	it_reply_free(&r);
	return rc;
}

static void
section_http(void)
{
	double ours[2][MAXR], ng[2][MAXR], rel[2][MAXR], idle_w, slow_w;
	const char *names[2] = { "`/health`", "`list-connections?limit=100&pid=P`" };
	char lpath[128], npath[2][32];
	const char *paths[2];
	int reps = quick ? 1 : rounds, secs = quick ? 1 : 3, i, j, nport,
	    fd[64], idle_n, dirty = 0, hlen, llen;
	long rss_idle, rss_fast, rss_slow, reconnects, lpids;
	size_t fast_bytes, slow_bytes;
	struct it_trickle t;
	struct server srv;
	struct health h;
	struct reply r;
	struct wrk w;
	pid_t some = 0, ngp;

	if (it_start(&srv, NULL) < 0) {
		fprintf(stderr, "bench: server did not start; see %s\n", srv.log);
		exit(1);
	}
	h_fill(&some);
	wait_counted(srv.port, "command", "\"bench-http\"",
	    (long long)H_PIDS * H_PER_PID, 10);
	get_health(srv.port, &h);
	snprintf(lpath, sizeof(lpath), "/api/list-connections?limit=100&pid=%d",
	    (int)some);
	paths[0] = "/health";
	paths[1] = lpath;

	/* nginx with our bytes: the list first (start_nginx() waits for
	 * it), then the health body beside it. */
	if (it_http(srv.port, "GET", lpath, NULL, &r) < 0 || r.status != 200) {
		fprintf(stderr, "bench: list-connections failed\n");
		exit(1);
	}
	nport = it_free_port();
	if ((ngp = start_nginx(nport, r.body, r.len)) < 0) {
		fprintf(stderr, "bench: nginx did not start\n");
		exit(1);
	}
	llen = (int)r.len;
	it_reply_free(&r);
	hlen = h_save(srv.port, "/health", "health.json");
	snprintf(npath[0], sizeof(npath[0]), "/health.json");
	snprintf(npath[1], sizeof(npath[1]), "/list.json");

	for (j = 0; j < reps; j++) {
		if (others_running(srv.pid))
			dirty++;
		for (i = 0; i < 2; i++) {
			run_wrk(srv.port, paths[i], 16, secs, &w);
			ours[i][j] = w.rps;
			if (w.non2xx)
				fprintf(stderr, "bench: %ld non-2xx answers\n", w.non2xx);
			run_wrk(nport, npath[i], 16, secs, &w);
			ng[i][j] = w.rps;
			rel[i][j] = ng[i][j] > 0 ? ours[i][j] / ng[i][j] : 0;
			fprintf(stderr, "bench: http %s ours %.0f nginx %.0f req/s\n",
			    paths[i], ours[i][j], ng[i][j]);
		}
	}
	kill(ngp, SIGTERM);
	waitpid(ngp, NULL, 0);

	rss_idle = it_rss_kib(srv.pid);
	rss_fast = h_rss_under_lists(srv.pid, srv.port, 0, &fast_bytes, &lpids);
	rss_slow = h_rss_under_lists(srv.pid, srv.port, 1, &slow_bytes, NULL);
	/* The slow lists are cut off after 4 s, before their end. */
	if (lpids < H_PIDS * 9 / 10)
		fprintf(stderr, "bench: a full list found %ld processes, not "
		    "%d: another tenant's connects evicted the bench's events\n",
		    lpids, H_PIDS);

	idle_n = it_idle_crowd(srv.port, fd, 64);
	idle_w = it_worst_health(srv.port, quick ? 1 : 3);
	it_close_all(fd, 64);
	it_trickle_start(&t, srv.port, 64);
	slow_w = it_worst_health(srv.port, quick ? 1 : 3);
	reconnects = it_trickle_stop(&t);
	it_stop(&srv, NULL);

	fprintf(out, "\n### 6. HTTP (%lld events stored from %d processes; wrk "
	    "-c16 %d s × %d rounds, interleaved with nginx serving the same "
	    "bytes; best / median; %d of the rounds with another ebpf-server "
	    "attached)\n\n", h.stored, H_PIDS, secs, reps, dirty);
	fprintf(out, "| what | ours req/s | nginx req/s | ours / nginx | target |\n");
	fprintf(out, "|---|---:|---:|---:|---|\n");
	for (i = 0; i < 2; i++) {
		double target = i == 0 ? 0.7 : 0.5;

		fprintf(out, "| %s (%d bytes) | %.0f / %.0f | %.0f / %.0f | "
		    "%.2f× / %.2f× | ≥ %.1f× %s |\n", names[i], i ? llen : hlen,
		    best_high(ours[i], reps), median(ours[i], reps),
		    best_high(ng[i], reps), median(ng[i], reps),
		    best_high(rel[i], reps), median(rel[i], reps), target,
		    median(rel[i], reps) >= target ? "**holds**" : "misses");
	}
	fprintf(out, "\n| what | value | target |\n|---|---:|---|\n");
	fprintf(out, "| RSS idle with the store full | %ld KiB | |\n", rss_idle);
	fprintf(out, "| RSS peak, %d concurrent full lists (%zu bytes, %ld "
	    "processes each) | %ld KiB (%.1f MiB) | ≤ 96 MiB %s |\n", H_LISTERS,
	    fast_bytes, lpids, rss_fast, rss_fast / 1024.0,
	    lpids < H_PIDS * 9 / 10 ? "not measured: the store churned" :
	    rss_fast <= 96 * 1024 ? "**holds**" : "misses");
	fprintf(out, "| RSS peak, the same read slowly (64 KiB every 20 ms, "
	    "%zu bytes in 4 s) | %ld KiB (%.1f MiB) | ≤ 96 MiB %s |\n",
	    slow_bytes, rss_slow, rss_slow / 1024.0,
	    lpids < H_PIDS * 9 / 10 ? "not measured: the store churned" :
	    rss_slow <= 96 * 1024 ? "**holds**" : "misses");
	fprintf(out, "| worst new `/health` behind %d idle keep-alive clients | "
	    "%.3f s | ≤ 1 s %s |\n", idle_n, idle_w, idle_w <= 1 ? "**holds**" :
	    "misses");
	fprintf(out, "| worst new `/health` behind 64 clients trickling headers "
	    "(%ld reconnects) | %.3f s | ≤ 1 s %s |\n", reconnects, slow_w,
	    slow_w <= 1 ? "**holds**" : "misses");
}

#endif
